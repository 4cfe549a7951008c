/* sam2 segment (src/cli/segment.c) run as a subprocess: its PNG and JSON equal what the library
 * predicts in-process for the same prompt (clicks, box, an .npy or PNG mask input), bad
 * arguments and bad prompts exit with status 2 and a message naming the problem, and nothing is
 * written then. EdgeTAM's config is detected from its checkpoint alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/image.h"
#include "io/rle.h"
#include "sam2.h"
#include "support/cli_run.h"
#include "support/npy.h"
#include "support/testutil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *g_ckpt, *g_yaml, *g_image;

static int have_golden(void) {
    const char *g = test_golden_dir();
    if (!g) return 0;
    g_ckpt = strdup(test_path(g, "micro/sam2.1_hiera_micro.pt"));
    g_yaml = strdup(test_path(g, "micro/sam2.1_hiera_micro.yaml"));
    g_image = strdup(test_path(g, "inputs/images/truck.png"));
    return access(g_ckpt, R_OK) == 0 && access(g_image, R_OK) == 0;
}

static const char *tmp(const char *name) {
    return test_path(test_make_tmpdir(), name);
}

/* Runs sam2 and checks the exit status; the result is returned for further checks. */
static cli_result run_expect(int status, const char *const *args) {
    cli_result r;
    assert_int_equal(cli_run(args, 120, &r), 0);
    if (r.status != status)
        fail_msg("sam2 exited %d, expected %d\nstdout: %s\nstderr: %s", r.status, status, r.out,
                 r.err);
    return r;
}

static void expect_usage_error(const char *const *args, const char *needle) {
    cli_result r = run_expect(2, args);
    if (!strstr(r.err, needle)) fail_msg("stderr lacks '%s':\n%s", needle, r.err);
    cli_result_free(&r);
}

/* ---- arguments (no model needed) ---------------------------------------------------------- */

static void test_bad_arguments(void **state) {
    (void)state;
    const char *out = tmp("never.png");
    expect_usage_error((const char *const[]){"segment", NULL}, "--checkpoint is required");
    expect_usage_error((const char *const[]){"segment", "--checkpoint", "x.pt", "--image", "a.png",
                                             "--point", "1,abc", "--out", out, NULL},
                       "--point '1,abc'");
    expect_usage_error((const char *const[]){"segment", "--checkpoint", "x.pt", "--image", "a.png",
                                             "--box", "1,2,3", "--out", out, NULL},
                       "--box '1,2,3'");
    expect_usage_error((const char *const[]){"segment", "--checkpoint", "x.pt", "--image", "a.png",
                                             "--out", out, NULL},
                       "no prompt");
    expect_usage_error((const char *const[]){"segment", "--checkpoint", "x.pt", "--image", "a.png",
                                             "--point", "1,2", NULL},
                       "nothing to write");
    expect_usage_error((const char *const[]){"segment", "--checkpoint", "x.pt", "--image", "a.png",
                                             "--point", "1,2", "--out", out, "--frobnicate", NULL},
                       "unknown option '--frobnicate'");
    expect_usage_error((const char *const[]){"segment", "--checkpoint", "x.pt", "--image",
                                             "/nonexistent/in.png", "--point", "1,2", "--out", out,
                                             NULL},
                       "/nonexistent/in.png");
    expect_usage_error((const char *const[]){"segment", "--checkpoint", "--image", NULL},
                       "--image is required");
    expect_usage_error((const char *const[]){"frobnicate", NULL}, "unknown command");
    expect_usage_error((const char *const[]){"bench", "nothing", NULL}, "unknown benchmark");
    assert_int_equal(access(out, F_OK), -1);

    cli_result r = run_expect(0, (const char *const[]){"segment", "--help", NULL});
    assert_non_null(strstr(r.out, "--mask-input"));
    cli_result_free(&r);
}

/* ---- against the library ---------------------------------------------------------------- */

typedef struct api {
    sam2_model *model;
    sam2_image_predictor *pred;
    image_rgb img;
} api;

static void api_open(api *a) {
    sam2_error err = {0};
    memset(a, 0, sizeof *a);
    if (image_load_file(g_image, &a->img, &err)) fail_msg("%s", err.message);
    a->model = sam2_model_load(g_ckpt, g_yaml, &err);
    if (!a->model) fail_msg("%s", err.message);
    a->pred = sam2_image_predictor_new(a->model, &err);
    assert_non_null(a->pred);
    if (sam2_image_set(a->pred, a->img.pixels, a->img.width, a->img.height, 3 * a->img.width, &err))
        fail_msg("%s", err.message);
}

static void api_close(api *a) {
    sam2_image_predictor_free(a->pred);
    sam2_model_free(a->model);
    image_free(&a->img);
}

static void api_predict(api *a, const sam2_prompt *p, sam2_masks *m) {
    sam2_error err = {0};
    if (sam2_image_predict(a->pred, p, m, &err)) fail_msg("%s", err.message);
}

/* The PNG holds the best mask as 0/255. */
static void check_png(const char *path, const sam2_masks *m) {
    int w = 0, h = 0;
    uint8_t *g = cli_png_read_gray(path, &w, &h);
    if (!g) fail_msg("%s is not an 8-bit grayscale PNG", path);
    assert_int_equal(w, m->width);
    assert_int_equal(h, m->height);
    const size_t hw = (size_t)w * h;
    size_t fg = 0;
    for (size_t i = 0; i < hw; i++) {
        const uint8_t want = m->masks[(size_t)m->best * hw + i] ? 255 : 0;
        if (g[i] != want) fail_msg("%s: pixel %zu is %d, expected %d", path, i, g[i], want);
        fg += want != 0;
    }
    assert_true(fg > 0 && fg < hw); /* a real mask, not an empty or full frame */
    free(g);
}

/* The JSON lists every mask (COCO RLE decoding to the library's mask), its IoU and the best. */
static void check_json(const char *text, const sam2_masks *m, int n_points) {
    cJSON *root = cJSON_Parse(text);
    if (!root) fail_msg("not JSON: %.200s", text);
    const cJSON *img = cJSON_GetObjectItem(root, "image");
    assert_int_equal(cJSON_GetObjectItem(img, "width")->valueint, m->width);
    assert_int_equal(cJSON_GetObjectItem(img, "height")->valueint, m->height);
    assert_int_equal(cJSON_GetObjectItem(root, "best")->valueint, m->best);
    const cJSON *pts = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "prompt"), "points");
    assert_int_equal(cJSON_GetArraySize(pts), n_points);
    const cJSON *masks = cJSON_GetObjectItem(root, "masks");
    assert_int_equal(cJSON_GetArraySize(masks), m->count);
    const size_t hw = (size_t)m->width * m->height;
    uint8_t *dec = malloc(hw);
    for (int i = 0; i < m->count; i++) {
        const cJSON *o = cJSON_GetArrayItem(masks, i);
        assert_float_equal(cJSON_GetObjectItem(o, "iou")->valuedouble, m->iou[i], 1e-6);
        const cJSON *seg = cJSON_GetObjectItem(o, "segmentation");
        const cJSON *size = cJSON_GetObjectItem(seg, "size");
        assert_int_equal(cJSON_GetArrayItem(size, 0)->valueint, m->height);
        assert_int_equal(cJSON_GetArrayItem(size, 1)->valueint, m->width);
        sam2_error err = {0};
        if (rle_decode(cJSON_GetObjectItem(seg, "counts")->valuestring, m->height, m->width, dec,
                       &err))
            fail_msg("mask %d: %s", i, err.message);
        long area = 0;
        for (size_t k = 0; k < hw; k++) {
            if (dec[k] != (m->masks[(size_t)i * hw + k] != 0))
                fail_msg("mask %d differs from the library's at pixel %zu", i, k);
            area += dec[k];
        }
        assert_int_equal((long)cJSON_GetObjectItem(o, "area")->valuedouble, area);
    }
    free(dec);
    cJSON_Delete(root);
}

static void test_points_multimask(void **state) {
    api *a = *state;
    const char *png = tmp("multi.png"), *json = tmp("multi.json");
    cli_result r = run_expect(
        0, (const char *const[]){"segment", "--checkpoint", g_ckpt, "--config", g_yaml, "--image",
                                 g_image, "--point", "500,375", "--point", "1125,625,0",
                                 "--multimask", "--out", png, "--json", json, NULL});
    cli_result_free(&r);
    const sam2_point pts[2] = {{500, 375, 1}, {1125, 625, 0}};
    const sam2_prompt p = {.points = pts, .n_points = 2, .multimask = 1};
    sam2_masks m;
    api_predict(a, &p, &m);
    assert_int_equal(m.count, 3);
    check_png(png, &m);
    char *text = test_read_file(json, NULL);
    assert_non_null(text);
    check_json(text, &m, 2);
    free(text);
    sam2_masks_free(&m);
}

/* --json without a file writes to stdout; a box and a previous prediction's low-res logits as
 * an .npy mask input. */
static void test_box_and_npy_mask_input(void **state) {
    api *a = *state;
    const sam2_point click = {500, 375, 1};
    const sam2_prompt first = {.points = &click, .n_points = 1, .multimask = 1};
    sam2_masks m0;
    api_predict(a, &first, &m0);
    const int L = m0.low_res_size;
    npy_array arr;
    sam2_error err = {0};
    const int64_t shape[3] = {1, L, L};
    assert_int_equal(npy_alloc(&arr, NPY_F32, 3, shape, &err), 0);
    memcpy(arr.data, m0.low_res + (size_t)m0.best * L * L, sizeof(float) * (size_t)L * L);
    uint8_t *bytes;
    size_t n;
    assert_int_equal(npy_serialize(&arr, &bytes, &n, &err), 0);
    const char *npy = tmp("prev.npy");
    assert_int_equal(test_write_file(npy, bytes, n), 0);
    free(bytes);

    cli_result r = run_expect(
        0, (const char *const[]){"segment", "--checkpoint", g_ckpt, "--config", g_yaml, "--image",
                                 g_image, "--box", "300,200,1400,900", "--point", "500,375",
                                 "--mask-input", npy, "--json", NULL});
    const float box[4] = {300, 200, 1400, 900};
    const sam2_prompt p = {
        .points = &click, .n_points = 1, .box = box, .mask_input = arr.data, .mask_input_size = L};
    sam2_masks m;
    api_predict(a, &p, &m);
    check_json(r.out, &m, 1);
    cli_result_free(&r);
    sam2_masks_free(&m);
    sam2_masks_free(&m0);
    npy_free(&arr);
}

/* A binary PNG mask at the low-res size becomes logits of exactly +-10. */
static void test_png_mask_input(void **state) {
    api *a = *state;
    const int L = sam2_model_image_size(a->model) / 4;
    uint8_t *rgb = calloc((size_t)3 * L * L, 1);
    float *logits = malloc(sizeof(float) * (size_t)L * L);
    for (int y = 0; y < L; y++)
        for (int x = 0; x < L; x++) {
            const int in = x >= L / 4 && x < 3 * L / 4 && y >= L / 3 && y < L - 4;
            memset(rgb + 3 * ((size_t)y * L + x), in ? 255 : 0, 3);
            logits[y * L + x] = in ? 10.0f : -10.0f;
        }
    const char *mask = tmp("mask.png");
    const image_png_desc d = {.kind = IMAGE_PNG_RGB, .width = L, .height = L, .pixels = rgb};
    sam2_error err = {0};
    assert_int_equal(image_png_write(mask, &d, &err), 0);
    const char *png = tmp("from_mask.png");
    cli_result r = run_expect(0, (const char *const[]){"segment", "--checkpoint", g_ckpt,
                                                       "--config", g_yaml, "--image", g_image,
                                                       "--mask-input", mask, "--out", png, NULL});
    cli_result_free(&r);
    const sam2_prompt p = {.mask_input = logits, .mask_input_size = L};
    sam2_masks m;
    api_predict(a, &p, &m);
    check_png(png, &m);
    sam2_masks_free(&m);
    free(rgb);
    free(logits);
}

/* The library's own checks surface as exit status 2 with its message; no file is written. */
static void test_bad_prompts(void **state) {
    (void)state;
    const char *out = tmp("bad.png");
    const char *base[] = {"segment", "--checkpoint", g_ckpt,  "--config", g_yaml,
                          "--image", g_image,        "--out", out};
    struct {
        const char *opt, *val, *needle;
    } cases[] = {
        {"--point", "nan,300", "non-finite"},
        {"--point", "100,300,7", "label 7"},
        {"--box", "500,375,100,400", "x1 < x0"},
        {"--point", "1e9,5", "far outside"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *args[16];
        int n = 0;
        for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) args[n++] = base[i];
        args[n++] = cases[c].opt;
        args[n++] = cases[c].val;
        args[n] = NULL;
        expect_usage_error(args, cases[c].needle);
    }
    /* A mask input of the wrong size. */
    npy_array arr;
    sam2_error err = {0};
    const int64_t shape[2] = {32, 32};
    assert_int_equal(npy_alloc(&arr, NPY_F32, 2, shape, &err), 0);
    uint8_t *bytes;
    size_t nb;
    assert_int_equal(npy_serialize(&arr, &bytes, &nb, &err), 0);
    const char *npy = tmp("small.npy");
    assert_int_equal(test_write_file(npy, bytes, nb), 0);
    free(bytes);
    npy_free(&arr);
    expect_usage_error((const char *const[]){"segment", "--checkpoint", g_ckpt, "--config", g_yaml,
                                             "--image", g_image, "--mask-input", npy, "--out", out,
                                             NULL},
                       "shape (32, 32)");
    expect_usage_error((const char *const[]){"segment", "--checkpoint", g_ckpt, "--config",
                                             "no_such_preset", "--image", g_image, "--point", "1,2",
                                             "--out", out, NULL},
                       "no_such_preset");
    assert_int_equal(access(out, F_OK), -1);
    assert_int_equal(cli_count_entries(test_make_tmpdir(), ".sam2-tmp"), 0);
}

/* EdgeTAM (the random checkpoint of the golden set): sam2 inspect and sam2 segment detect its
 * config from the tensors alone, and the CLI's masks equal the library's for the same click. */
static void test_edgetam_detected(void **state) {
    (void)state;
    char *ckpt = strdup(test_path(test_golden_dir(), "ckpt/edgetam.random.f16.pt"));
    if (access(ckpt, R_OK) != 0) {
        free(ckpt);
        skip();
    }
    cli_result r = run_expect(0, (const char *const[]){"inspect", ckpt, "--json", NULL});
    cJSON *info = cJSON_Parse(r.out);
    if (!info) fail_msg("inspect --json is not JSON: %.200s", r.out);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(info, "config")), "edgetam");
    cJSON_Delete(info);
    cli_result_free(&r);

    const char *png = tmp("edgetam.png");
    r = run_expect(0, (const char *const[]){"segment", "--checkpoint", ckpt, "--image", g_image,
                                            "--point", "500,375", "--out", png, "--json", NULL});
    api a = {0};
    sam2_error err = {0};
    if (image_load_file(g_image, &a.img, &err)) fail_msg("%s", err.message);
    a.model = sam2_model_load(ckpt, NULL, &err);
    if (!a.model) fail_msg("%s", err.message);
    assert_string_equal(sam2_model_name(a.model), "edgetam");
    a.pred = sam2_image_predictor_new(a.model, &err);
    assert_non_null(a.pred);
    if (sam2_image_set(a.pred, a.img.pixels, a.img.width, a.img.height, 3 * a.img.width, &err))
        fail_msg("%s", err.message);
    const sam2_point click = {500, 375, 1};
    const sam2_prompt p = {.points = &click, .n_points = 1};
    sam2_masks m;
    api_predict(&a, &p, &m);
    check_png(png, &m);
    check_json(r.out, &m, 1);
    sam2_masks_free(&m);
    cli_result_free(&r);
    api_close(&a);
    free(ckpt);
}

static int setup_api(void **state) {
    api *a = calloc(1, sizeof *a);
    api_open(a);
    *state = a;
    return 0;
}

static int teardown_api(void **state) {
    api_close(*state);
    free(*state);
    return 0;
}

int main(void) {
    if (access(cli_bin(), X_OK) != 0) {
        printf("FAIL: %s was not built\n", cli_bin());
        return 1;
    }
    const struct CMUnitTest plain[] = {cmocka_unit_test(test_bad_arguments)};
    int failed = cmocka_run_group_tests_name("cli_segment_args", plain, NULL, NULL);
    if (!have_golden()) {
        printf("SKIP: golden micro checkpoint or truck.png not found (set SAM2_GOLDEN); the "
               "model tests did not run\n");
        return failed ? 1 : TEST_SKIP_CODE;
    }
    const struct CMUnitTest model[] = {
        cmocka_unit_test(test_points_multimask),
        cmocka_unit_test(test_box_and_npy_mask_input),
        cmocka_unit_test(test_png_mask_input),
        cmocka_unit_test(test_bad_prompts),
    };
    failed += cmocka_run_group_tests_name("cli_segment_model", model, setup_api, teardown_api);
    const struct CMUnitTest edgetam[] = {cmocka_unit_test(test_edgetam_detected)};
    failed += cmocka_run_group_tests_name("cli_segment_edgetam", edgetam, NULL, NULL);
    return failed ? 1 : 0;
}
