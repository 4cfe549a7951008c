/* The memory encoder's peak scratch: with the EdgeTAM checkpoint at 1024 px, the arena's
 * high-water mark of one memory_encoder_forward stays within what the stage needs alive at once
 * (its two results, two maps of the mask downsampler with one layer's im2col scratch, or one
 * fuser block's temporaries), not the sum of every downsampler layer's map and scratch. Measured
 * with the arena's own accounting. Needs the golden checkpoint; skipped without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/ops.h"
#include "model/memory_encoder.h"
#include "predict/model_internal.h"
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>

static const char *golden;

/* What the stage needs at most, from the configuration (bytes, alignment slack included). */
static size_t expected_peak(const sam2_net *net) {
    const sam2_config *c = &net->cfg;
    const int ks = c->mask_ds_kernel, st = c->mask_ds_stride, pd = c->mask_ds_padding;
    const size_t P = (size_t)net->embed * net->embed, d = (size_t)c->d_model;
    size_t map = (size_t)c->image_size * c->image_size, conv = 0;
    int H = c->image_size, cin = 1;
    for (int i = 0; i < net->w.mask_ds_layers; i++) {
        const int cout = cin * st * st, OH = (H + 2 * pd - ks) / st + 1;
        if ((size_t)OH * OH * cout > map) map = (size_t)OH * OH * cout;
        const size_t s = conv2d_scratch_floats(H, H, cin, cout, ks, ks, st, pd, 1);
        if (s > conv) conv = s;
        H = OH;
        cin = cout;
    }
    const int E = net->embed, k = c->fuser_kernel, groups = c->fuser_dwconv ? c->d_model : 1;
    const size_t fuser = P * d * 5 + conv2d_scratch_floats(E, E, c->d_model, c->d_model, k, k, 1,
                                                           c->fuser_padding, groups);
    const size_t chain = 2 * map + conv;
    return sizeof(float) * (2 * P * d + (chain > fuser ? chain : fuser)) + 16 * 64;
}

static void test_memory_peak(void **state) {
    (void)state;
    sam2_error err = {0};
    sam2_model *m = sam2_model_load(test_path(golden, "ckpt/edgetam.random.f16.pt"), NULL, &err);
    if (!m) fail_msg("%s", err.message);
    const sam2_net *net = &m->net;
    const int S = net->cfg.image_size, E = net->embed, d = net->cfg.d_model;
    float *pix = malloc(sizeof(float) * (size_t)E * E * d);
    float *mask = malloc(sizeof(float) * (size_t)S * S);
    float *out = malloc(sizeof(float) * (size_t)E * E * net->cfg.mem_dim);
    assert_non_null(pix);
    assert_non_null(mask);
    assert_non_null(out);
    for (size_t i = 0; i < (size_t)E * E * d; i++) pix[i] = (float)((i * 7919) % 1000) / 500.f - 1;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) mask[(size_t)y * S + x] = (x - S / 2) * 0.01f + (y % 7) - 3;
    arena a;
    arena_init(&a);
    assert_int_equal(memory_encoder_forward(net, pix, mask, true, 1.0f, out, &a), 0);
    const size_t peak = a.high_water, bound = expected_peak(net);
    printf("memory encoder peak %.1f MiB (bound %.1f MiB)\n", peak / 1048576.0, bound / 1048576.0);
    assert_true(peak <= bound);
    /* and everything it took is given back */
    assert_int_equal(a.used_total, 0);
    arena_free(&a);
    free(pix);
    free(mask);
    free(out);
    sam2_model_free(m);
}

int main(void) {
    golden = test_golden_dir();
    test_require_dir(golden, "the golden data (../shared/golden)");
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_memory_peak)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
