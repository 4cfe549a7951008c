/* EdgeTAM's memory encoder and Perceiver on the check backend. Only the EdgeTAM video parity
 * runs them (on cpu), and that flow is too slow on the reference kernels for a test, so here
 * they run alone on random inputs: on `check` any host access to backend memory faults (the
 * test dies), and the result must match the cpu backend's. Needs the golden EdgeTAM
 * checkpoint; skipped without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "model/memory_encoder.h"
#include "model/perceiver.h"
#include "predict/model_internal.h"
#include "support/testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char *golden;

typedef struct heads_result {
    float *mem, *lat;
    size_t n_mem, n_lat; /* floats in each */
} heads_result;

/* The memory encoder then the Perceiver, as encode_memory runs them, on backend `name`. */
static heads_result run_heads(const char *name, const float *pix, const float *mask) {
    assert_int_equal(sam2_set_backend(name), SAM2_OK);
    sam2_error err = {0};
    sam2_model *m = sam2_model_load(test_path(golden, "ckpt/edgetam.random.f16.pt"), NULL, &err);
    if (!m) fail_msg("%s", err.message);
    const sam2_net *net = &m->net;
    assert_true(sam2_config_has_perceiver(&net->cfg));
    const size_t E = (size_t)net->embed, md = (size_t)net->cfg.mem_dim;
    const size_t nlat = (size_t)net->cfg.perceiver.num_latents + net->cfg.perceiver.num_latents_2d;
    heads_result r = {malloc(sizeof(float) * E * E * md), malloc(sizeof(float) * nlat * md),
                      E * E * md, nlat * md};
    assert_non_null(r.mem);
    assert_non_null(r.lat);
    arena a;
    arena_init(&a);
    assert_int_equal(memory_encoder_forward(net, pix, mask, false, -1.0f, r.mem, &a), 0);
    assert_int_equal(perceiver_forward(net, r.mem, net->mem_pos, r.lat, &a, NULL), 0);
    arena_free(&a);
    sam2_model_free(m);
    assert_int_equal(sam2_set_backend("auto"), SAM2_OK);
    return r;
}

/* |got - want| <= tol * max |want| over n values (cpu and ref kernels round differently). */
static void assert_close(const char *what, const float *got, const float *want, size_t n,
                         double tol) {
    double scale = 0.0, worst = 0.0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs((double)want[i]));
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs((double)got[i] - (double)want[i]));
    printf("%s: max |check - cpu| %.3g (max |cpu| %.3g)\n", what, worst, scale);
    assert_true(scale > 0.0);
    assert_true(worst <= tol * scale);
}

static void test_memory_encoder_and_perceiver_on_check(void **state) {
    (void)state;
    const int S = 1024, E = 64, d = 256; /* EdgeTAM's sizes (the model load checks them) */
    float *pix = malloc(sizeof(float) * (size_t)E * E * d);
    float *mask = malloc(sizeof(float) * (size_t)S * S);
    assert_non_null(pix);
    assert_non_null(mask);
    for (size_t i = 0; i < (size_t)E * E * d; i++) pix[i] = (float)((i * 7919) % 1000) / 500.f - 1;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) mask[(size_t)y * S + x] = (x - S / 2) * 0.01f + (y % 7) - 3;
    heads_result cpu = run_heads("cpu", pix, mask), chk = run_heads("check", pix, mask);
    assert_int_equal(chk.n_mem, cpu.n_mem);
    assert_int_equal(chk.n_lat, cpu.n_lat);
    assert_close("memory encoder", chk.mem, cpu.mem, cpu.n_mem, 1e-3);
    assert_close("Perceiver", chk.lat, cpu.lat, cpu.n_lat, 1e-3);
    free(cpu.mem);
    free(cpu.lat);
    free(chk.mem);
    free(chk.lat);
    free(pix);
    free(mask);
}

int main(void) {
    golden = test_golden_dir();
    test_require_dir(golden, "the golden data (../shared/golden)");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_encoder_and_perceiver_on_check)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
