/* The public functions the CLI and the server use instead of the library's internals
 * (include/sam2.h): error helpers, image decoding, masks as prompts, checkpoint inspection,
 * diagnostics and memory figures. Each is checked against what the internals say. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/image.h"
#include "io/model_weights.h"
#include "io/yaml_config.h"
#include "sam2.h"
#include "support/mini_model.h"
#include "support/testutil.h"
#include "support/torch_zip_writer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_errors(void **state) {
    (void)state;
    sam2_error err = {0};
    assert_int_equal(sam2_fail(&err, SAM2_ERR_IO, "%s: %d", "frame", 7), SAM2_ERR_IO);
    assert_int_equal(err.code, SAM2_ERR_IO);
    assert_string_equal(err.message, "frame: 7");
    sam2_error_prefix(&err, "camera %d", 2);
    assert_string_equal(err.message, "camera 2: frame: 7");
    /* A NULL error is allowed everywhere. */
    assert_int_equal(sam2_fail(NULL, SAM2_ERR_LIMIT, "ignored"), SAM2_ERR_LIMIT);
    sam2_error_prefix(NULL, "ignored");
}

/* A 3x2 RGB PNG through the encoder the apps keep, read back through the public decoder. */
static void test_rgb_image(void **state) {
    (void)state;
    uint8_t px[2 * 3 * 3];
    for (int i = 0; i < (int)sizeof px; i++) px[i] = (uint8_t)(i * 13);
    const image_png_desc d = {.kind = IMAGE_PNG_RGB, .width = 3, .height = 2, .pixels = px};
    uint8_t *png;
    size_t n;
    sam2_error err = {0};
    if (image_png_encode(&d, &png, &n, &err)) fail_msg("%s", err.message);

    const char *format = NULL;
    int w = 0, h = 0;
    assert_int_equal(sam2_rgb_image_probe_memory(png, n, &format, &w, &h, &err), SAM2_OK);
    assert_string_equal(format, "png");
    assert_int_equal(w, 3);
    assert_int_equal(h, 2);
    sam2_rgb_image img;
    assert_int_equal(sam2_rgb_image_load_memory(png, n, &img, &err), SAM2_OK);
    assert_int_equal(img.width, 3);
    assert_int_equal(img.height, 2);
    assert_memory_equal(img.pixels, px, sizeof px);
    sam2_rgb_image_free(&img);
    assert_null(img.pixels);

    const char *path = test_path(test_make_tmpdir(), "img.png");
    assert_int_equal(test_write_file(path, png, n), 0);
    assert_int_equal(sam2_rgb_image_load_file(path, &img, &err), SAM2_OK);
    assert_memory_equal(img.pixels, px, sizeof px);
    sam2_rgb_image_free(&img);
    free(png);

    /* Neither PNG nor JPEG: refused, with no format. */
    const char junk[] = "GIF89a and more";
    format = "unset";
    assert_int_equal(sam2_rgb_image_probe_memory(junk, sizeof junk, &format, &w, &h, &err),
                     SAM2_ERR_UNSUPPORTED);
    assert_null(format);
    assert_int_equal(
        sam2_rgb_image_load_file(test_path(test_make_tmpdir(), "none.png"), &img, &err),
        SAM2_ERR_IO);
}

/* A mask whose left half is set: the logits are +logit well inside it, -logit well outside,
 * and change sign once across every row. */
static void test_mask_input(void **state) {
    (void)state;
    enum { W = 64, H = 32, L = 16 };
    static uint8_t mask[H * W];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) mask[y * W + x] = x < W / 2;
    float out[L * L];
    sam2_error err = {0};
    assert_int_equal(sam2_mask_input_from_mask(mask, W, H, L, 10.0f, out, &err), SAM2_OK);
    for (int y = 0; y < L; y++) {
        assert_float_equal(out[y * L + 0], 10.0f, 1e-4);
        assert_float_equal(out[y * L + L - 1], -10.0f, 1e-4);
        int changes = 0;
        for (int x = 1; x < L; x++) changes += (out[y * L + x] > 0) != (out[y * L + x - 1] > 0);
        assert_int_equal(changes, 1);
    }
    assert_int_equal(sam2_mask_input_from_mask(NULL, W, H, L, 10.0f, out, &err), SAM2_ERR_ARGUMENT);
    assert_int_equal(sam2_mask_input_from_mask(mask, W, H, 0, 10.0f, out, &err), SAM2_ERR_ARGUMENT);
}

/* The test model's checkpoint seen through sam2_checkpoint_* agrees with the weights table. */
static void test_checkpoint(void **state) {
    (void)state;
    const char *dir = test_make_tmpdir();
    char yaml[4096], path[4096];
    snprintf(yaml, sizeof yaml, "%s", mini_model_write_yaml(dir, "mini"));
    snprintf(path, sizeof path, "%s", test_path(dir, "mini.pt"));
    sam2_config cfg;
    sam2_error err = {0};
    if (sam2_config_load_yaml(yaml, &cfg, &err)) fail_msg("%s", err.message);
    const mini_ckpt_options o = {TZW_F16, -1, -1, NULL};
    assert_int_equal(mini_model_write_ckpt(&cfg, path, &o), 0);
    int64_t scalars;
    const int count = sam2_weights_count(&cfg, &scalars);

    sam2_checkpoint *ck = sam2_checkpoint_open(path, &err);
    if (!ck) fail_msg("%s", err.message);
    assert_int_equal(sam2_checkpoint_tensor_count(ck), count);
    assert_int_equal(sam2_checkpoint_param_count(ck), scalars);
    assert_true(sam2_checkpoint_file_size(ck) > scalars * 2);
    int64_t sum = 0;
    for (int i = 0; i < count; i++) {
        sam2_tensor_info t;
        assert_int_equal(sam2_checkpoint_tensor(ck, i, &t), SAM2_OK);
        assert_string_equal(t.dtype, "float16");
        int64_t numel = 1;
        for (int d = 0; d < t.ndim; d++) numel *= t.shape[d];
        sum += numel;
        assert_true(strlen(t.name) > 0);
    }
    assert_int_equal(sum, scalars);
    sam2_tensor_info t;
    assert_int_equal(sam2_checkpoint_tensor(ck, count, &t), SAM2_ERR_ARGUMENT);
    assert_int_equal(sam2_checkpoint_tensor(ck, -1, &t), SAM2_ERR_ARGUMENT);

    /* With its YAML it matches; without, no official preset does, and err says why. */
    const char *name = sam2_checkpoint_config(ck, yaml, &err);
    if (!name) fail_msg("%s", err.message);
    assert_string_equal(name, "mini");
    err = (sam2_error){0};
    assert_null(sam2_checkpoint_config(ck, NULL, &err));
    assert_int_not_equal(err.code, SAM2_OK);
    assert_true(strlen(err.message) > 0);
    sam2_checkpoint_close(ck);
    sam2_checkpoint_close(NULL);

    /* A file that is not a checkpoint. */
    const char *bad = test_path(dir, "bad.pt");
    assert_int_equal(test_write_file(bad, "not a zip", 9), 0);
    err = (sam2_error){0};
    assert_null(sam2_checkpoint_open(bad, &err));
    assert_int_not_equal(err.code, SAM2_OK);
}

static int in_list(const char *name, const char *const *list) {
    for (; *list; list++)
        if (!strcmp(name, *list)) return 1;
    return 0;
}

static void test_diagnostics(void **state) {
    (void)state;
    sam2_cpu_info cpu;
    memset(&cpu, 0, sizeof cpu);
    sam2_cpu_info_get(&cpu);
    assert_non_null(cpu.kernels);
    assert_true(!strcmp(cpu.kernels, "baseline") || !strcmp(cpu.kernels, "avx2") ||
                !strcmp(cpu.kernels, "neon"));
    assert_non_null(cpu.kernels_label);
    assert_non_null(cpu.kernels_reason);
    assert_non_null(cpu.blas);
    /* Vector kernels in use imply the CPU has them. */
    if (strcmp(cpu.kernels, "baseline")) assert_true(cpu.vector_kernels_available);

    assert_true(in_list(sam2_get_backend(), sam2_backend_names()));
    assert_true(in_list(sam2_backend_auto_name(), sam2_backend_names()));

    sam2_gpu_device list[4];
    sam2_error err = {0};
    int pick = 99;
    const int n = sam2_gpu_devices(list, 4, &pick, &err);
    if (n < 0) {
        assert_int_not_equal(err.code, SAM2_OK);
        assert_int_equal(pick, -1);
    } else {
        assert_true(pick >= -1 && pick < (n < 4 ? n : 4));
        for (int i = 0; i < n && i < 4; i++) assert_non_null(list[i].type);
        if (pick >= 0) assert_true(list[pick].usable);
    }
    assert_int_equal(sam2_gpu_devices(NULL, -1, NULL, &err), -1);
}

static void test_memory(void **state) {
    (void)state;
    int64_t rss = 0, peak = 0;
    sam2_memory_usage(&rss, &peak);
#if defined(__linux__) || defined(__APPLE__)
    assert_true(rss > 0);
    assert_true(peak >= rss); /* the peak, read after, covers the moment rss was read */
#endif
    sam2_memory_usage(NULL, NULL);
    sam2_mem_probe("test"); /* without $SAM2_MEM_PROBE: prints nothing, must not fail */
}

/* sam2_video_open_with: its limits refuse a video before it is decoded, and its frame-cache
 * budget changes no frame (the CLI and the server open their videos through it). */
static void test_video_open_with(void **state) {
    (void)state;
    const char *data = test_data_dir();
    if (!data) skip();
    const char *path = test_path(data, "videos/bedroom.mp4");
    sam2_error err = {0};
    sam2_video *plain = sam2_video_open(path, &err);
    assert_non_null(plain);
    const int n = sam2_video_frame_count(plain), w = sam2_video_width(plain);
    sam2_video_close(plain);
    assert_true(n > 2);

    const sam2_video_open_options few = {.max_frames = n - 1};
    assert_null(sam2_video_open_with(path, &few, &err));
    assert_int_equal(err.code, SAM2_ERR_LIMIT);
    const sam2_video_open_options narrow = {.max_side = w - 1};
    err = (sam2_error){0};
    assert_null(sam2_video_open_with(path, &narrow, &err));
    assert_int_equal(err.code, SAM2_ERR_LIMIT);

    const sam2_video_open_options no_cache = {.frame_cache_bytes = 1, .max_frames = n};
    sam2_video *v = sam2_video_open_with(path, &no_cache, &err);
    assert_non_null(v);
    assert_int_equal(sam2_video_frame_count(v), n);
    sam2_video_close(v);
    v = sam2_video_open_with(path, NULL, &err);
    assert_non_null(v);
    assert_int_equal(sam2_video_width(v), w);
    sam2_video_close(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),          cmocka_unit_test(test_rgb_image),
        cmocka_unit_test(test_mask_input),      cmocka_unit_test(test_checkpoint),
        cmocka_unit_test(test_diagnostics),     cmocka_unit_test(test_memory),
        cmocka_unit_test(test_video_open_with),
    };
    const int rc = cmocka_run_group_tests(tests, NULL, NULL);
    test_cleanup_tmpdir();
    return rc;
}
