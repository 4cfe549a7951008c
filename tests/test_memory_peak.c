/* Peak scratch of the two big stages of an EdgeTAM frame, with the EdgeTAM checkpoint at 1024 px.
 * Needs the golden checkpoint; skipped without it.
 *  - memory encoder: one memory_encoder_forward holds no more than what the stage needs alive at
 *    once (its two results, two maps of the mask downsampler with one layer's im2col scratch, or
 *    one fuser block's map with a band of its MLP's hidden layer), not the sum of every
 *    downsampler layer's map and scratch, nor a whole hidden layer (4 maps). Measured with the
 *    backend's scratch counters (bytes its arenas hand out, wherever they live) on every backend,
 *    and on the host backends also with the host arena the tracker lends the heads (what the
 *    process really holds).
 *  - image encoder (cpu, the caller's host arena): the four trunk stages' outputs plus one
 *    stage-0 map, a quarter of one and the kernels' scratch (the largest RepViT block). A stem
 *    that converted the whole frame to channels-last or kept its whole first map, a downsample
 *    with a pre_block map of its own, or FPN level 1 kept whole (16 MB) each go over it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/device.h"
#include "core/ops.h"
#include "model/image_encoder.h"
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
    const size_t fuser = P * d * 2 + conv2d_scratch_floats(E, E, c->d_model, c->d_model, k, k, 1,
                                                           c->fuser_padding, groups);
    const size_t chain = 2 * map + conv;
    /* 16 tensors and records, each rounded up to the backend arena's 256-byte alignment */
    return sizeof(float) * (2 * P * d + (chain > fuser ? chain : fuser)) + 16 * 256;
}

/* Host arena blocks the backend arena takes: sized to the request, at least 256 KiB, each with
 * alignment slack; a handful of small runs between the large tensors. */
#define HOST_BLOCK_SLACK ((size_t)6 * ((256 << 10) + 256))

static void peak_on(const char *backend) {
    sam2_error err = {0};
    assert_int_equal(sam2_set_backend(backend), SAM2_OK);
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
    size_t live0 = 0, live1 = 0, peak = 0;
    dev_scratch_reset_peak(net->dev);
    dev_scratch_bytes(net->dev, &live0, NULL);
    assert_int_equal(memory_encoder_forward(net, pix, mask, true, 1.0f, out, &a), 0);
    dev_scratch_bytes(net->dev, &live1, &peak);
    /* a backend that cannot use host memory in place holds copies of the inputs and output */
    const size_t copies = sizeof(float) * ((size_t)E * E * (d + net->cfg.mem_dim) + (size_t)S * S);
    const size_t dev_peak = peak - live0,
                 bound = expected_peak(net) + (net->dev->maps_host ? 0 : copies);
    printf("%s: memory encoder scratch peak %.1f MiB, host arena %.1f MiB (bound %.1f MiB)\n",
           backend, dev_peak / 1048576.0, a.high_water / 1048576.0, bound / 1048576.0);
    assert_true(dev_peak <= bound);
    if (net->dev->maps_host) {
        /* the scratch really lives in the lent host arena, not beside it */
        assert_true(a.high_water >= dev_peak);
        assert_true(a.high_water <= bound + HOST_BLOCK_SLACK);
    }
    /* and everything it took is given back */
    assert_int_equal(a.used_total, 0);
    assert_int_equal(live1, live0);
    arena_free(&a);
    free(pix);
    free(mask);
    free(out);
    sam2_model_free(m);
}

/* Trunk stage outputs + a stage-0 map (token mixer) + a quarter of one (the downsample's strided
 * map) + the depthwise and MLP kernels' scratch, as repvit_forward sizes them, + the neck's
 * coarsest level (bytes). */
static size_t image_encoder_bound(const sam2_net *net) {
    const sam2_config *c = &net->cfg;
    const int F = net->feat0;
    size_t stages = 0, dws = 0, mlps = 0;
    for (int s = 0; s < 4; s++) {
        const size_t n = (size_t)(F >> s) * (F >> s);
        stages += n * c->backbone_channels[3 - s];
        const size_t dw = depthwise_scratch_floats(c->repvit.dims[s], 3, F >> s);
        const size_t mlp =
            pointwise_mlp_scratch_floats((int)n, c->repvit.dims[s], 2 * c->repvit.dims[s]);
        if (dw > dws) dws = dw;
        if (mlp > mlps) mlps = mlp;
    }
    const size_t map0 = (size_t)F * F * c->repvit.dims[0];
    /* the neck's coarsest level, which it keeps whole while it runs top-down */
    const size_t neck3 = (size_t)(F / 8) * (F / 8) * c->d_model;
    return sizeof(float) * (stages + map0 + map0 / 4 + dws + mlps + neck3) + 32 * 64;
}

static void test_image_encoder_peak(void **state) {
    (void)state;
    sam2_error err = {0};
    /* on cpu the encoder's temporaries are views of the caller's host arena, measured here */
    assert_int_equal(sam2_set_backend("cpu"), SAM2_OK);
    sam2_model *m = sam2_model_load(test_path(golden, "ckpt/edgetam.random.f16.pt"), NULL, &err);
    if (!m) fail_msg("%s", err.message);
    const sam2_net *net = &m->net;
    const int S = net->cfg.image_size;
    float *img = malloc(sizeof(float) * 3 * (size_t)S * S);
    assert_non_null(img);
    for (size_t i = 0; i < 3 * (size_t)S * S; i++) img[i] = (float)((i * 7919) % 1000) / 500.f - 1;
    image_features f;
    for (int l = 0; l < 3; l++) {
        f.fpn[l] = malloc(sizeof(float) * image_features_level_floats(net, l));
        assert_non_null(f.fpn[l]);
    }
    arena a;
    arena_init(&a);
    assert_int_equal(image_encoder_forward(net, img, &f, &a, NULL, NULL), 0);
    const size_t peak = a.high_water, bound = image_encoder_bound(net);
    printf("image encoder peak %.1f MiB (bound %.1f MiB), %zu over\n", peak / 1048576.0,
           bound / 1048576.0, peak > bound ? peak - bound : 0);
    assert_true(peak <= bound);
    arena_free(&a); /* the trunk's stage outputs stay in the arena until the caller resets it */
    for (int l = 0; l < 3; l++) free(f.fpn[l]);
    free(img);
    sam2_model_free(m);
}

static void test_memory_peak_cpu(void **state) {
    (void)state;
    peak_on("cpu");
}

static void test_memory_peak_check(void **state) {
    (void)state;
    peak_on("check");
}

int main(void) {
    golden = test_golden_dir();
    test_require_dir(golden, "the golden data (../shared/golden)");
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_memory_peak_cpu),
                                       cmocka_unit_test(test_memory_peak_check),
                                       cmocka_unit_test(test_image_encoder_peak)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
