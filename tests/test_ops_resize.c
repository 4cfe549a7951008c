/* Resize kernels: the optimised versions against the reference (both follow PyTorch's float
 * arithmetic step by step, so they must agree bit for bit), and hand-computed values of the
 * reference: bilinear 2x2 -> 4x4, antialiased 4 -> 2, bicubic keeps constants. The match with
 * PyTorch itself is checked on the golden preprocessing in test_resize_golden.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/ops.h"
#include "core/threadpool.h"
#include "ops_check.h"

#include <math.h>
#include <string.h>

static const sam2_backend *R, *X;

enum { BILINEAR, BILINEAR_AA, BICUBIC };

static void resize_case(int mode, int C, int H, int W, int OH, int OW) {
    float *in = ops_random((size_t)C * H * W, 2);
    const size_t n = (size_t)C * OH * OW;
    float *r = ops_alloc(n), *x = ops_alloc(n);
    for (int i = 0; i < 2; i++) {
        const sam2_backend *be = i ? X : R;
        float *o = i ? x : r;
        if (mode == BICUBIC)
            be->resize_bicubic(o, in, C, H, W, OH, OW);
        else
            be->resize_bilinear(o, in, C, H, W, OH, OW, mode == BILINEAR_AA);
    }
    size_t bad = ops_bit_diffs(x, r, n);
    if (bad)
        fail_msg("resize mode %d %dx%dx%d -> %dx%d: %zu of %zu values differ (error %.3g)", mode, C,
                 H, W, OH, OW, bad, n, ops_rel_err(x, r, n));
    free(in), free(r), free(x);
}

static const int shapes[][5] = {
    {1, 1, 1, 1, 1},     {1, 1, 1, 4, 4},     {2, 5, 7, 13, 3},    {2, 6, 6, 6, 6},
    {1, 100, 90, 7, 11}, {3, 31, 17, 64, 64}, {1, 50, 8, 10, 30},  {1, 40, 30, 10, 30},
    {2, 9, 600, 3, 700}, {1, 300, 1, 77, 1},  {2, 12, 50, 12, 17},
};

static void test_bilinear(void **state) {
    (void)state;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        resize_case(BILINEAR, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], shapes[s][4]);
    resize_case(BILINEAR, 1, 256, 256, 720, 1280); /* low-res mask logits to video size */
}

static void test_bilinear_aa(void **state) {
    (void)state;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        resize_case(BILINEAR_AA, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3],
                    shapes[s][4]);
    resize_case(BILINEAR_AA, 3, 300, 450, 64, 64);       /* strong downscale */
    resize_case(BILINEAR_AA, 1, 1200, 1800, 1024, 1024); /* image preprocessing */
    resize_case(BILINEAR_AA, 2, 720, 1280, 256, 256);    /* mask downscale, video path */
    /* filters too wide for the stack tables take the direct path */
    resize_case(BILINEAR_AA, 1, 1, 20000, 1, 3);
    resize_case(BILINEAR_AA, 1, 3000, 2, 1, 2);
}

static void test_bicubic(void **state) {
    (void)state;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        resize_case(BICUBIC, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], shapes[s][4]);
    resize_case(BICUBIC, 96, 7, 7, 256, 256); /* Hiera background position embedding */
}

static void test_bilinear_known(void **state) {
    (void)state;
    /* [[0,1],[2,3]] -> 4x4: source coordinates -0.25 (clamped to 0), 0.25, 0.75, 1.25 */
    const float in[4] = {0, 1, 2, 3};
    const float want[16] = {0,    0.25f, 0.75f, 1,    0.5f, 0.75f, 1.25f, 1.5f,
                            1.5f, 1.75f, 2.25f, 2.5f, 2,    2.25f, 2.75f, 3};
    float out[16];
    R->resize_bilinear(out, in, 1, 2, 2, 4, 4, 0);
    for (int i = 0; i < 16; i++) assert_true(out[i] == want[i]);
    X->resize_bilinear(out, in, 1, 2, 2, 4, 4, 0);
    for (int i = 0; i < 16; i++) assert_true(out[i] == want[i]);
}

static void test_bilinear_aa_known(void **state) {
    (void)state;
    /* 4 -> 2 with antialias: scale 2, support 2; output 0 (centre 1) covers inputs 0..2 with
     * triangle weights 0.75, 0.75, 0.25 (/1.75); output 1 (centre 3) inputs 1..3 with 0.25,
     * 0.75, 0.75. Without antialias it would be plain averages of pairs: 0.5 and 2.5. */
    const float in[4] = {0, 1, 2, 3};
    float out[2];
    R->resize_bilinear(out, in, 1, 1, 4, 1, 2, 1);
    assert_true(fabs(out[0] - 5.0 / 7.0) < 1e-7 && fabs(out[1] - 16.0 / 7.0) < 2e-7);
    R->resize_bilinear(out, in, 1, 1, 4, 1, 2, 0);
    assert_true(out[0] == 0.5f && out[1] == 2.5f);
    /* a constant stays constant whatever the scale */
    float cst[35], big[64 * 80];
    for (int i = 0; i < 35; i++) cst[i] = 0.3f;
    X->resize_bilinear(big, cst, 1, 5, 7, 64, 80, 1);
    for (int i = 0; i < 64 * 80; i++) assert_true(fabs(big[i] - 0.3f) < 1e-7);
    float *wide = ops_alloc(1200 * 1800);
    for (int i = 0; i < 1200 * 1800; i++) wide[i] = 0.3f;
    X->resize_bilinear(big, wide, 1, 1200, 1800, 64, 80, 1);
    for (int i = 0; i < 64 * 80; i++) assert_true(fabs(big[i] - 0.3f) < 3e-7);
    free(wide);
}

static void test_bicubic_known(void **state) {
    (void)state;
    /* The cubic weights sum to 1: a constant stays constant (up to rounding). */
    float in[7 * 7], out[256 * 256];
    for (int i = 0; i < 49; i++) in[i] = -1.25f;
    R->resize_bicubic(out, in, 1, 7, 7, 256, 256);
    for (int i = 0; i < 256 * 256; i++) assert_true(fabs(out[i] + 1.25f) < 1e-6);
    /* 8 -> 4: source coordinate 2o + 0.5, so every output sits half-way between taps 2o and
     * 2o + 1 with weights (-0.09375, 0.59375, 0.59375, -0.09375) on taps 2o-1 .. 2o+2 (clamped
     * to the border): hand-computed for in = 2^x. */
    float ramp[8], down[4];
    for (int i = 0; i < 8; i++) ramp[i] = (float)(1 << i);
    const float want[4] = {1.3125f, 5.4375f, 21.75f, 99.0f};
    for (int b = 0; b < 2; b++) {
        (b ? X : R)->resize_bicubic(down, ramp, 1, 1, 8, 1, 4);
        for (int o = 0; o < 4; o++) assert_true(fabs(down[o] - want[o]) <= 1e-6 * want[o]);
    }
    /* and an identity resize is the identity */
    float same[8];
    X->resize_bicubic(same, ramp, 1, 1, 8, 1, 8);
    for (int i = 0; i < 8; i++) assert_true(same[i] == ramp[i]);
}

int main(void) {
    R = sam2_backend_ref();
    X = sam2_backend_cpu();
    ops_seed(2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bilinear),          cmocka_unit_test(test_bilinear_aa),
        cmocka_unit_test(test_bicubic),           cmocka_unit_test(test_bilinear_known),
        cmocka_unit_test(test_bilinear_aa_known), cmocka_unit_test(test_bicubic_known),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pool_shutdown();
    return rc;
}
