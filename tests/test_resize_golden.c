/* Image preprocessing against the golden data: for every image case of micro_golden and
 * tiny_golden, the original PNG goes through ToTensor (u8 / 255 in float32), the antialiased
 * bilinear resize to S x S and Normalize ((x - mean) / std in float32); the result must equal
 * the recorded `input_image` (whole or crops, and the full tensor's mean and std) within 1e-5,
 * with both the optimised and the reference backend. Skips (exit 77) without the golden data.
 * The PNG is read with libpng directly, the index with cJSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/ops.h"
#include "core/threadpool.h"
#include "support/testutil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-5

/* --- inputs ------------------------------------------------------------------------------------
 */

/* 8-bit RGB pixels of a PNG (any colour type), malloc'd; NULL on failure. */
static unsigned char *load_png_rgb(const char *path, int *w, int *h) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path)) return NULL;
    img.format = PNG_FORMAT_RGB;
    unsigned char *px = malloc(PNG_IMAGE_SIZE(img));
    if (!px || !png_image_finish_read(&img, NULL, px, 0, NULL)) {
        png_image_free(&img);
        free(px);
        return NULL;
    }
    *w = (int)img.width;
    *h = (int)img.height;
    return px;
}

/* A float32 little-endian C-order .npy file; returns its values and element count. */
static float *load_npy_f32(const char *path, size_t *count) {
    size_t n;
    unsigned char *buf = test_read_file(path, &n);
    if (!buf || n < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) {
        free(buf);
        return NULL;
    }
    size_t hlen, off;
    if (buf[6] == 1) {
        hlen = buf[8] | (size_t)buf[9] << 8;
        off = 10;
    } else {
        hlen = buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        off = 12;
    }
    const char *hdr = (const char *)buf + off;
    if (off + hlen > n || !strstr(hdr, "'<f4'") || strstr(hdr, "'fortran_order': True")) {
        free(buf);
        return NULL;
    }
    *count = (n - off - hlen) / sizeof(float);
    float *v = malloc(sizeof(float) * (*count ? *count : 1));
    if (v) memcpy(v, buf + off + hlen, sizeof(float) * *count);
    free(buf);
    return v;
}

static cJSON *load_json(const char *path) {
    size_t n;
    char *text = test_read_file(path, &n);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    return j;
}

static cJSON *find_entry(cJSON *index, const char *name) {
    cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(index, "files")) {
        cJSON *nm = cJSON_GetObjectItem(f, "name");
        if (cJSON_IsString(nm) && strcmp(nm->valuestring, name) == 0) return f;
    }
    return NULL;
}

/* --- preprocessing --------------------------------------------------------------------------- */

/* SAM2ImagePredictor's transform: [3][S][S] planar float32. */
static float *preprocess(const sam2_backend *be, const unsigned char *rgb, int w, int h, int S) {
    const float mean[3] = {0.485f, 0.456f, 0.406f}, stdv[3] = {0.229f, 0.224f, 0.225f};
    float *planes = malloc(sizeof(float) * 3 * (size_t)w * h);
    float *out = malloc(sizeof(float) * 3 * (size_t)S * S);
    assert_non_null(planes);
    assert_non_null(out);
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < (size_t)w * h; i++)
            planes[(size_t)c * w * h + i] = (float)rgb[3 * i + c] / 255.0f;
    be->resize_bilinear(out, planes, 3, h, w, S, S, 1);
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < (size_t)S * S; i++) {
            float *p = &out[(size_t)c * S * S + i];
            *p = (*p - mean[c]) / stdv[c];
        }
    free(planes);
    return out;
}

/* Compares one window [0:1, c0:c1, y0:y1, x0:x1] of mine [3][S][S] with the stored crop. */
static double compare_crop(const float *mine, int S, const float *crop, size_t count,
                           cJSON *index) {
    int lo[4], hi[4];
    for (int d = 0; d < 4; d++) {
        cJSON *pair = cJSON_GetArrayItem(index, d);
        lo[d] = cJSON_GetArrayItem(pair, 0)->valueint;
        hi[d] = cJSON_GetArrayItem(pair, 1)->valueint;
    }
    const size_t want = (size_t)(hi[1] - lo[1]) * (hi[2] - lo[2]) * (hi[3] - lo[3]);
    assert_int_equal(count, want);
    double worst = 0;
    size_t k = 0;
    for (int c = lo[1]; c < hi[1]; c++)
        for (int y = lo[2]; y < hi[2]; y++)
            for (int x = lo[3]; x < hi[3]; x++)
                worst = fmax(worst, fabs(mine[((size_t)c * S + y) * S + x] - crop[k++]));
    return worst;
}

static int check_case(const char *set_path, const char *img) {
    char set_dir[4096], rel[256]; /* test_path() buffers rotate: keep our own copy */
    snprintf(set_dir, sizeof set_dir, "%s", set_path);
    snprintf(rel, sizeof rel, "image/%s/index.json", img);
    cJSON *index = load_json(test_path(set_dir, rel));
    if (!index) return 0;
    cJSON *png = find_entry(index, "image_rgb_u8"), *input = find_entry(index, "input_image");
    assert_non_null(png);
    assert_non_null(input);
    const char *png_rel =
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(png, "png"), 0), "file")
            ->valuestring;
    const int S = cJSON_GetArrayItem(cJSON_GetObjectItem(input, "shape"), 2)->valueint;
    int w = 0, h = 0;
    unsigned char *rgb = load_png_rgb(test_path(set_dir, png_rel), &w, &h);
    if (!rgb) fail_msg("cannot read %s", test_path(set_dir, png_rel));
    const char *stored = cJSON_GetObjectItem(input, "stored")->valuestring;

    for (int b = 0; b < 2; b++) {
        const sam2_backend *be = b ? sam2_backend_ref() : sam2_backend_cpu();
        if (b && S > 256) continue; /* the reference is slow; it is checked on the MICRO sets */
        float *mine = preprocess(be, rgb, w, h, S);
        double worst = 0;
        if (strcmp(stored, "npy") == 0) {
            size_t count = 0;
            float *g = load_npy_f32(
                test_path(set_dir, cJSON_GetObjectItem(input, "file")->valuestring), &count);
            assert_non_null(g);
            assert_int_equal(count, (size_t)3 * S * S);
            for (size_t i = 0; i < count; i++) worst = fmax(worst, fabs(mine[i] - g[i]));
            free(g);
        } else {
            cJSON *crop;
            cJSON_ArrayForEach(crop, cJSON_GetObjectItem(input, "crops")) {
                size_t count = 0;
                float *g = load_npy_f32(
                    test_path(set_dir, cJSON_GetObjectItem(crop, "file")->valuestring), &count);
                assert_non_null(g);
                worst = fmax(worst,
                             compare_crop(mine, S, g, count, cJSON_GetObjectItem(crop, "index")));
                free(g);
            }
        }
        /* the full tensor's statistics (float64 over all values) */
        cJSON *stats = cJSON_GetObjectItem(input, "stats");
        double sum = 0, sq = 0;
        const size_t n = (size_t)3 * S * S;
        for (size_t i = 0; i < n; i++) sum += mine[i];
        const double mean = sum / n;
        for (size_t i = 0; i < n; i++) sq += (mine[i] - mean) * (mine[i] - mean);
        const double sd = sqrt(sq / n);
        const double dmean = fabs(mean - cJSON_GetObjectItem(stats, "mean")->valuedouble);
        const double dstd = fabs(sd - cJSON_GetObjectItem(stats, "std")->valuedouble);
        print_message(
            "%s %s (%dx%d -> %d, %s backend): max |diff| %.3g, mean diff %.3g, std diff %.3g\n",
            set_dir, img, w, h, S, be->name, worst, dmean, dstd);
        if (!(worst <= TOL && dmean <= TOL && dstd <= TOL))
            fail_msg("%s %s: preprocessing differs from the golden input_image", set_dir, img);
        free(mine);
    }
    free(rgb);
    cJSON_Delete(index);
    return 1;
}

static void test_preprocessing(void **state) {
    (void)state;
    const char *golden = test_golden_dir();
    int checked = 0;
    const char *sets[] = {"micro_golden", "tiny_golden"}, *imgs[] = {"truck", "groceries"};
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < 2; i++) checked += check_case(test_path(golden, sets[s]), imgs[i]);
    if (checked == 0) fail_msg("no image case found under %s", golden);
}

int main(void) {
    test_require_dir(test_golden_dir(), "golden data");
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_preprocessing)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pool_shutdown();
    return rc;
}
