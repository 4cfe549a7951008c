/* PIL-compatible bicubic resize and the video model-input normalisation against the golden
 * data: every golden frame resized to S reproduces frames_resized_u8 byte for byte (and its
 * sha256), and normalising the resized frames reproduces the golden `preprocessed` tensors bit
 * for bit (sha256 of the full tensor, and the stored crops). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/pil_resize.h"
#include "support/media_testutil.h"
#include "support/testutil.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *golden;

static cJSON *load_json(const char *path) {
    char *text = test_read_file(path, NULL);
    if (!text) fail_msg("cannot read %s", path);
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) fail_msg("bad JSON in %s", path);
    return j;
}

static cJSON *find_entry(cJSON *index, const char *name) {
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(index, "files")) {
        if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "name")), name)) return e;
    }
    fail_msg("no entry %s", name);
    return NULL;
}

static const char *png_file(cJSON *entry, int i) {
    cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(entry, "png"), i);
    return p ? cJSON_GetStringValue(cJSON_GetObjectItem(p, "file")) : NULL;
}

static const char *frame_sha(cJSON *entry, int i) {
    return cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(entry, "frame_sha256"), i));
}

/* ---- synthetic properties (no golden data needed) ---- */

static void test_constant_image_stays_constant(void **state) {
    (void)state;
    int sw = 37, sh = 23;
    uint8_t *src = malloc((size_t)sw * sh * 3), dst[64 * 64 * 3];
    for (int i = 0; i < sw * sh; i++) src[3 * i] = 200, src[3 * i + 1] = 0, src[3 * i + 2] = 255;
    int sizes[][2] = {{64, 64}, {5, 3}, {37, 50}, {10, 23}, {1, 1}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int dw = sizes[s][0], dh = sizes[s][1];
        assert_int_equal(
            sam2_pil_resize_rgb8(src, sw, sh, (size_t)sw * 3, dst, dw, dh, (size_t)dw * 3, NULL),
            0);
        for (int i = 0; i < dw * dh; i++) {
            assert_int_equal(dst[3 * i], 200);
            assert_int_equal(dst[3 * i + 1], 0);
            assert_int_equal(dst[3 * i + 2], 255);
        }
    }
    free(src);
}

static void test_same_size_is_copy_and_bad_args(void **state) {
    (void)state;
    uint8_t src[4 * 3 * 3], dst[4 * 3 * 3];
    for (size_t i = 0; i < sizeof src; i++) src[i] = (uint8_t)(i * 37);
    assert_int_equal(sam2_pil_resize_rgb8(src, 4, 3, 12, dst, 4, 3, 12, NULL), 0);
    assert_memory_equal(src, dst, sizeof src);
    sam2_error err = {0};
    assert_int_equal(sam2_pil_resize_rgb8(src, 0, 3, 12, dst, 4, 3, 12, &err), SAM2_ERR_ARGUMENT);
    assert_int_equal(sam2_pil_resize_rgb8(src, 4, 3, 6, dst, 4, 3, 12, &err), SAM2_ERR_ARGUMENT);
    assert_int_equal(sam2_pil_resize_rgb8(NULL, 4, 3, 12, dst, 4, 3, 12, &err), SAM2_ERR_ARGUMENT);
}

/* A step edge upsampled 2x overshoots (negative lobes of the cubic) and is clipped to
 * [0, 255]; the values on the flat parts stay exact. Checks the clipping path. */
static void test_edge_overshoot_clips(void **state) {
    (void)state;
    uint8_t src[8 * 3] = {0}, dst[16 * 3];
    for (int x = 4; x < 8; x++) src[3 * x] = src[3 * x + 1] = src[3 * x + 2] = 255;
    assert_int_equal(sam2_pil_resize_rgb8(src, 8, 1, 24, dst, 16, 1, 48, NULL), 0);
    assert_int_equal(dst[0], 0);
    assert_int_equal(dst[3 * 15], 255);
    /* Pixels just left of the edge would go below 0 and are clipped to exactly 0; the ones just
     * right would exceed 255 and are clipped to 255. */
    assert_int_equal(dst[3 * 6], 0);
    assert_int_equal(dst[3 * 9], 255);
    assert_true(dst[3 * 7] > 0 && dst[3 * 7] < 128);
    assert_true(dst[3 * 8] > 128 && dst[3 * 8] < 255);
}

/* ---- golden ---- */

/* Resizes every original frame of a golden set to the set's S and checks the stored PNGs
 * and the per-frame hashes; returns the frames (T x S x S x 3) for the normalisation test. */
static uint8_t *check_resized_frames(const char *set, int S, int *T_out) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", golden, set);
    cJSON *index = load_json(test_path(dir, "video/frames/index.json"));
    cJSON *orig = find_entry(index, "frames_orig_u8");
    cJSON *resized = find_entry(index, "frames_resized_u8");
    int T = cJSON_GetArraySize(cJSON_GetObjectItem(orig, "png"));
    assert_true(T >= 1);
    size_t fs = (size_t)S * S * 3;
    uint8_t *all = malloc(fs * (size_t)T);
    int stored = 0;
    for (int t = 0; t < T; t++) {
        int w, h;
        uint8_t *src = test_png_read_rgb(test_path(dir, png_file(orig, t)), &w, &h);
        assert_non_null(src);
        char hex[65];
        test_sha256_hex(src, (size_t)w * h * 3, hex);
        assert_string_equal(hex, frame_sha(orig, t));
        uint8_t *out = all + fs * t;
        assert_int_equal(
            sam2_pil_resize_rgb8(src, w, h, (size_t)w * 3, out, S, S, (size_t)S * 3, NULL), 0);
        free(src);
        test_sha256_hex(out, fs, hex);
        if (strcmp(hex, frame_sha(resized, t)) != 0)
            fail_msg("%s frame %d: resized sha256 differs", set, t);
        /* Frames stored as PNG: compare byte for byte (reports where it differs). */
        cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItem(resized, "png")) {
            cJSON *idx0 = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "index"), 0);
            if ((int)cJSON_GetArrayItem(idx0, 0)->valuedouble != t) continue;
            int rw, rh;
            uint8_t *ref = test_png_read_rgb(
                test_path(dir, cJSON_GetStringValue(cJSON_GetObjectItem(p, "file"))), &rw, &rh);
            assert_non_null(ref);
            assert_int_equal(rw, S);
            assert_int_equal(rh, S);
            size_t diff = 0;
            for (size_t i = 0; i < fs; i++) diff += out[i] != ref[i];
            if (diff)
                fail_msg("%s frame %d: %zu of %zu values differ from the golden PNG", set, t, diff,
                         fs);
            free(ref);
            stored++;
        }
    }
    char hex[65];
    test_sha256_hex(all, fs * (size_t)T, hex);
    assert_string_equal(hex, cJSON_GetStringValue(cJSON_GetObjectItem(resized, "sha256")));
    printf("%s: %d frames resized to %d, %d compared with stored PNGs, all hashes equal\n", set, T,
           S, stored);
    cJSON_Delete(index);
    *T_out = T;
    return all;
}

/* Compares the crops of a golden float tensor [T,3,S,S] with our full tensor. */
static void check_crops(const char *dir, cJSON *entry, const float *full, int T, int S) {
    cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(entry, "crops")) {
        test_npy a;
        assert_int_equal(
            test_npy_load(test_path(dir, cJSON_GetStringValue(cJSON_GetObjectItem(c, "file"))), &a),
            0);
        assert_string_equal(a.dtype, "<f4");
        int lo[4], hi[4];
        for (int d = 0; d < 4; d++) {
            cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "index"), d);
            lo[d] = (int)cJSON_GetArrayItem(r, 0)->valuedouble;
            hi[d] = (int)cJSON_GetArrayItem(r, 1)->valuedouble;
        }
        assert_true(hi[0] <= T && hi[2] <= S && hi[3] <= S);
        const float *g = a.data;
        size_t k = 0, differ = 0;
        for (int t = lo[0]; t < hi[0]; t++)
            for (int ch = lo[1]; ch < hi[1]; ch++)
                for (int y = lo[2]; y < hi[2]; y++)
                    for (int x = lo[3]; x < hi[3]; x++, k++) {
                        float v = full[(((size_t)t * 3 + ch) * S + y) * S + x];
                        differ += memcmp(&v, &g[k], 4) != 0;
                    }
        assert_int_equal(k, a.count);
        assert_int_equal(differ, 0);
        test_npy_free(&a);
        n++;
    }
    assert_true(n > 0);
}

static void check_preprocessed(const char *set, const char *entry_name, const uint8_t *frames,
                               int T, int S) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", golden, set);
    cJSON *index = load_json(test_path(dir, "video/frames/index.json"));
    cJSON *e = find_entry(index, entry_name);
    cJSON *shape = cJSON_GetObjectItem(e, "shape");
    int Tg = (int)cJSON_GetArrayItem(shape, 0)->valuedouble;
    assert_true(Tg <= T);
    size_t per = (size_t)3 * S * S;
    float *x = malloc(sizeof(float) * per * (size_t)Tg);
    for (int t = 0; t < Tg; t++)
        sam2_normalize_rgb8(frames + (size_t)t * S * S * 3, S, S, (size_t)S * 3,
                            SAM2_NORM_DIV255_F64, x + per * t);
    char hex[65];
    test_sha256_hex(x, sizeof(float) * per * (size_t)Tg, hex);
    assert_string_equal(hex, cJSON_GetStringValue(cJSON_GetObjectItem(e, "sha256")));
    check_crops(dir, e, x, Tg, S);
    printf("%s: %s [%d,3,%d,%d] bit-identical (sha256 and crops)\n", set, entry_name, Tg, S, S);
    free(x);
    cJSON_Delete(index);
}

static void test_golden_micro(void **state) {
    (void)state;
    int T;
    uint8_t *frames = check_resized_frames("micro_golden", 256, &T);
    check_preprocessed("micro_golden", "preprocessed", frames, T, 256);
    free(frames);
}

static void test_golden_tiny(void **state) {
    (void)state;
    int T;
    uint8_t *frames = check_resized_frames("tiny_golden", 1024, &T);
    check_preprocessed("tiny_golden", "preprocessed_frame0", frames, T, 1024);
    free(frames);
}

/* The two official divisions by 255 (float64 then cast, or float32) agree on every u8 value:
 * the choice of mode cannot change a result. If a libm/compiler ever made them differ, this
 * says where. */
static void test_norm_modes(void **state) {
    (void)state;
    uint8_t px[256 * 3];
    for (int v = 0; v < 256; v++) px[3 * v] = px[3 * v + 1] = px[3 * v + 2] = (uint8_t)v;
    float a[3 * 256], b[3 * 256];
    sam2_normalize_rgb8(px, 256, 1, sizeof px, SAM2_NORM_DIV255_F64, a);
    sam2_normalize_rgb8(px, 256, 1, sizeof px, SAM2_NORM_DIV255_F32, b);
    int differ = 0;
    for (int i = 0; i < 3 * 256; i++) differ += memcmp(&a[i], &b[i], 4) != 0;
    printf("normalisation: float64 and float32 division by 255 differ on %d of 768 values\n",
           differ);
    /* value 0 of channel 0: (0 - 0.485) / 0.229 */
    assert_true(a[0] < -2.1178f && a[0] > -2.1180f);
}

int main(void) {
    const struct CMUnitTest basic[] = {
        cmocka_unit_test(test_constant_image_stays_constant),
        cmocka_unit_test(test_same_size_is_copy_and_bad_args),
        cmocka_unit_test(test_edge_overshoot_clips),
        cmocka_unit_test(test_norm_modes),
    };
    int rc = cmocka_run_group_tests(basic, NULL, NULL);
    if (rc) return rc;
    golden = test_golden_dir();
    test_require_dir(golden, "golden data");
    const struct CMUnitTest gold[] = {
        cmocka_unit_test(test_golden_micro),
        cmocka_unit_test(test_golden_tiny),
    };
    return cmocka_run_group_tests(gold, NULL, NULL);
}
