/* Vulkan kernels against the reference backend on random data: odd sizes, row strides, padding,
 * transposes, and the shapes SAM 2 uses (scaled down: on CI the device is lavapipe, which runs
 * on the same two CPU cores as everything else). Skipped (77) when no Vulkan device exists.
 *
 * Error measure: max|vulkan - ref| / max(1, max|ref|) (ops_rel_err); the reference accumulates
 * in double, the kernels in float:
 *   GEMM-based ops (gemm, linear, conv) 1e-5, attention 2e-6 (2e-5 where the scores reach ~100),
 *   layernorm / softmax 2e-6, GELU and sigmoid 2e-7 x the inputs' scale.
 * Bit for bit: resizes (PyTorch's arithmetic, tables from core/resize_weights.h), copies and
 * permutes, ReLU, add, max-pool, upsampling, window partition, RoPE, bfloat16 rounding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>

#ifndef SAM2_HAVE_VULKAN
int main(void) {
    printf("skip: this build has no Vulkan backend (libvulkan-dev and glslc were not found)\n");
    return 77;
}
#else

#include "core/ops.h"
#include "model/position_encoding.h"
#include "ops_check.h"
#include "vulkan_check.h"

#include <math.h>
#include <string.h>

#define TOL_GEMM 1e-5
#define TOL_ATTN 2e-6
#define TOL_ROW 2e-6

static const sam2_backend *R;

static void check(double err, double tol, const char *what) {
    if (getenv("SAM2_TEST_VERBOSE"))
        print_message("%-60s error %.3g (bound %.3g)\n", what, err, tol);
    if (!(err <= tol)) fail_msg("%s: error %.3g > %.3g", what, err, tol);
}

/* Reads n floats back (running everything recorded); fails the test on a stream error. */
static float *fetch(vulkan_ref r, size_t n) {
    float *host = ops_alloc(n);
    sam2_error err = {0};
    if (vk_download(host, r, n, &err)) fail_msg("Vulkan: %s", err.message);
    return host;
}

/* After every test: no validation error, device memory back for the next test. */
static int teardown(void **state) {
    (void)state;
    sam2_error err = {0};
    const int rc = vulkan_sync(vk_s, &err);
    vulkan_arena_reset(&vk_arena);
    if (rc) fprintf(stderr, "stream error: %s\n", err.message);
    const uint64_t errors = vulkan_validation_errors(vk_dev);
    if (errors) fprintf(stderr, "%llu Vulkan validation errors\n", (unsigned long long)errors);
    return rc || errors ? -1 : 0;
}

/* --- GEMM and linear ------------------------------------------------------------------------- */

static void gemm_case(int ta, int tb, int M, int N, int K, int pad, float alpha, float beta) {
    const int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
    const size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb,
                 nc = (size_t)M * ldc;
    float *A = ops_random(na, 1), *B = ops_random(nb, 1), *C = ops_random(nc, 1);
    if (beta == 0.0f)
        for (size_t i = 0; i < nc; i++) C[i] = NAN; /* must not leak through */
    vulkan_ref a = vk_upload(A, na), b = vk_upload(B, nb), c = vk_upload(C, nc);
    vulkan_gemm(vk_s, ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
    float *got = fetch(c, nc);
    R->gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    char what[96];
    snprintf(what, sizeof what, "gemm ta=%d tb=%d %dx%dx%d beta=%g", ta, tb, M, N, K, beta);
    for (int i = 0; i < M; i++)
        check(ops_rel_err(got + (size_t)i * ldc, C + (size_t)i * ldc, N), TOL_GEMM, what);
    free(A), free(B), free(C), free(got);
}

static void test_gemm(void **state) {
    (void)state;
    const int shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {33, 17, 65}, {70, 130, 40}, {3, 200, 1}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int t = 0; t < 4; t++) {
            gemm_case(t & 1, t >> 1, shapes[s][0], shapes[s][1], shapes[s][2], 0, 1.0f, 0.0f);
            gemm_case(t & 1, t >> 1, shapes[s][0], shapes[s][1], shapes[s][2], 3, 0.7f, 0.5f);
        }
}

/* Batches with their own strides (batch stride larger than a matrix) and a bias. */
static void test_gemm_batched(void **state) {
    (void)state;
    const int batch = 3, M = 19, N = 23, K = 37;
    const uint32_t abs_ = (uint32_t)(M * K + 11), bbs = (uint32_t)(K * N + 5),
                   cbs = (uint32_t)(M * N + 7);
    float *A = ops_random((size_t)batch * abs_, 1), *B = ops_random((size_t)batch * bbs, 1),
          *bias = ops_random((size_t)N, 1), *C = ops_random((size_t)batch * cbs, 1);
    vulkan_ref a = vk_upload(A, (size_t)batch * abs_), b = vk_upload(B, (size_t)batch * bbs),
               c = vk_upload(C, (size_t)batch * cbs), bb = vk_upload(bias, (size_t)N);
    /* A stored transposed (column-major), B row-major */
    const vulkan_matrix am = {a, 1, (uint32_t)M, abs_}, bm = {b, (uint32_t)N, 1, bbs},
                        cm = {c, (uint32_t)N, 1, cbs};
    vulkan_gemm_batched(vk_s, batch, M, N, K, 0.5f, am, bm, 2.0f, cm, bb);
    float *got = fetch(c, (size_t)batch * cbs);
    for (int z = 0; z < batch; z++) {
        float *cz = C + (size_t)z * cbs;
        R->gemm(1, 0, M, N, K, 0.5f, A + (size_t)z * abs_, M, B + (size_t)z * bbs, N, 2.0f, cz, N);
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) cz[(size_t)i * N + j] += bias[j];
        check(ops_rel_err(got + (size_t)z * cbs, cz, (size_t)M * N), TOL_GEMM, "gemm batched");
        /* the gap between batches is untouched */
        for (uint32_t i = (uint32_t)(M * N); i < cbs; i++)
            assert_true(got[(size_t)z * cbs + i] == C[(size_t)z * cbs + i]);
    }
    free(A), free(B), free(C), free(bias), free(got);
}

static void linear_case(int N, int IC, int OC, int bias) {
    float *in = ops_random((size_t)N * IC, 1), *w = ops_random((size_t)OC * IC, 0.5f);
    float *b = bias ? ops_random((size_t)OC, 1) : NULL;
    vulkan_ref din = vk_upload(in, (size_t)N * IC), dw = vk_upload(w, (size_t)OC * IC);
    vulkan_ref db = bias ? vk_upload(b, (size_t)OC) : VULKAN_NONE, dout = vk_alloc((size_t)N * OC);
    vulkan_linear(vk_s, dout, din, dw, db, N, IC, OC);
    float *got = fetch(dout, (size_t)N * OC), *want = ops_alloc((size_t)N * OC);
    R->linear(want, in, w, b, N, IC, OC);
    char what[64];
    snprintf(what, sizeof what, "linear %dx%d->%d bias=%d", N, IC, OC, bias);
    check(ops_rel_err(got, want, (size_t)N * OC), TOL_GEMM, what);
    free(in), free(w), free(b), free(got), free(want);
}

static void test_linear(void **state) {
    (void)state;
    linear_case(1, 1, 1, 1);
    linear_case(7, 3, 5, 0);
    linear_case(7, 3, 5, 1);
    linear_case(130, 96, 288, 1); /* Hiera qkv shape, rows over two tiles */
    linear_case(77, 600, 50, 1);  /* long reduction */
    linear_case(50, 512, 33, 0);
}

/* --- row-wise and element-wise ------------------------------------------------------------- */

static void test_layernorm(void **state) {
    (void)state;
    const int Ns[] = {1, 5, 300}, Cs[] = {1, 7, 8, 96, 257};
    for (int a = 0; a < 3; a++)
        for (int c = 0; c < 5; c++) {
            const int N = Ns[a], C = Cs[c];
            const size_t n = (size_t)N * C;
            float *in = ops_random(n, 3), *w = ops_random((size_t)C, 1),
                  *b = ops_random((size_t)C, 1);
            for (size_t i = 0; i < n; i++) in[i] += 2.0f; /* non-zero mean */
            float *want = ops_alloc(n);
            vulkan_ref x = vk_upload(in, n), dw = vk_upload(w, (size_t)C),
                       db = vk_upload(b, (size_t)C), y = vk_alloc(n);
            vulkan_layernorm(vk_s, y, x, VULKAN_NONE, VULKAN_NONE, N, C, 1e-5f);
            vulkan_layernorm(vk_s, x, x, dw, db, N, C, 1e-6f); /* in place */
            float *got = fetch(x, n), *plain = fetch(y, n);
            R->layernorm(want, in, w, b, N, C, 1e-6f);
            check(ops_rel_err(got, want, n), TOL_ROW, "layernorm");
            R->layernorm(want, in, NULL, NULL, N, C, 1e-5f);
            check(ops_rel_err(plain, want, n), TOL_ROW, "layernorm without affine");
            free(in), free(w), free(b), free(want), free(got), free(plain);
        }
    /* rows inside wider rows: ld_in 100, ld_out 90, 80 values each */
    const int N = 9, C = 80;
    float *in = ops_random((size_t)N * 100, 2), *want = ops_alloc((size_t)N * C);
    float *row = ops_alloc((size_t)C);
    vulkan_ref x = vk_upload(in, (size_t)N * 100), y = vk_alloc((size_t)N * 90);
    vulkan_fill(vk_s, y, (size_t)N * 90 * sizeof(float), 7.0f);
    vulkan_layernorm_rows(vk_s, y, 90, x, 100, VULKAN_NONE, VULKAN_NONE, N, C, 1e-6f);
    float *got = fetch(y, (size_t)N * 90);
    for (int r = 0; r < N; r++) {
        R->layernorm(row, in + (size_t)r * 100, NULL, NULL, 1, C, 1e-6f);
        check(ops_rel_err(got + (size_t)r * 90, row, (size_t)C), TOL_ROW, "layernorm strided");
        for (int c = C; c < 90; c++) assert_true(got[(size_t)r * 90 + c] == 7.0f);
    }
    free(in), free(want), free(row), free(got);
}

static double gelu_exact(double x) {
    return 0.5 * x * (1.0 + erf(x * M_SQRT1_2));
}

static void test_gelu(void **state) {
    (void)state;
    /* a sweep over [-12, 12] in steps of 2^-10 against erf in double; bound 2e-7 max(1, |x|) */
    const size_t n = 24 * 1024 + 1;
    float *x = ops_alloc(n);
    for (size_t i = 0; i < n; i++) x[i] = -12.0f + (float)i / 1024.0f;
    vulkan_ref dx = vk_upload(x, n), dy = vk_alloc(n);
    vulkan_gelu(vk_s, dy, dx, n);
    float *y = fetch(dy, n);
    double worst = 0;
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, fabs(y[i] - gelu_exact(x[i])) / fmax(1.0, fabs(x[i])));
    print_message("gelu sweep: worst error %.3g (bound 2e-7)\n", worst);
    check(worst, 2e-7, "gelu sweep");
    const float sp[] = {0.0f,  -0.0f, 1e-30f, -1e-30f, 1e-8f,  3.9f,     -3.9f,     5.0f,
                        -5.0f, 30.0f, -30.0f, 1e30f,   -1e30f, INFINITY, -INFINITY, NAN};
    const size_t ns = sizeof sp / sizeof sp[0];
    vulkan_ref ds = vk_upload(sp, ns);
    vulkan_gelu(vk_s, ds, ds, ns); /* in place */
    float *out = fetch(ds, ns);
    for (size_t i = 0; i + 3 < ns; i++)
        if (fabs(out[i] - gelu_exact(sp[i])) > 2e-7 * fmax(1.0, fabs(sp[i])))
            fail_msg("gelu(%g) = %g, want %g", sp[i], out[i], gelu_exact(sp[i]));
    assert_true(isinf(out[ns - 3]) && out[ns - 3] > 0);
    assert_true(isnan(out[ns - 1]));
    free(x), free(y), free(out);
}

static void test_sigmoid_relu_add(void **state) {
    (void)state;
    const size_t n = 100003;
    float *in = ops_alloc(n);
    for (size_t i = 0; i < n; i++) in[i] = -90.0f + 110.0f * (float)i / (float)n;
    vulkan_ref din = vk_upload(in, n), dout = vk_alloc(n);
    vulkan_sigmoid(vk_s, dout, din, n);
    float *got = fetch(dout, n), *want = ops_alloc(n);
    R->sigmoid(want, in, n);
    double worst = 0; /* relative, where the result is a normal float */
    for (size_t i = 0; i < n; i++)
        if (want[i] > 1e-37f) worst = fmax(worst, fabs((double)got[i] - want[i]) / want[i]);
    print_message("sigmoid: worst relative error %.3g\n", worst);
    check(worst, 5e-7, "sigmoid relative");
    free(got);
    float *a = ops_random(n, 4), *b = ops_random(n, 4);
    a[5] = NAN;
    vulkan_ref da = vk_upload(a, n), db = vk_upload(b, n);
    vulkan_relu(vk_s, dout, da, n);
    got = fetch(dout, n);
    R->relu(want, a, n);
    assert_int_equal(ops_bit_diffs(got, want, n), 0);
    assert_true(isnan(got[5]));
    free(got);
    vulkan_add(vk_s, da, da, db, n); /* in place */
    got = fetch(da, n);
    R->add(want, a, b, n);
    assert_int_equal(ops_bit_diffs(got, want, n), 0);
    free(in), free(want), free(got), free(a), free(b);
}

static void test_softmax(void **state) {
    (void)state;
    const int rows[] = {1, 3, 50}, cols[] = {1, 7, 8, 64, 1000};
    for (int a = 0; a < 3; a++)
        for (int c = 0; c < 5; c++) {
            const size_t n = (size_t)rows[a] * cols[c];
            float *want = ops_random(n, 10);
            vulkan_ref x = vk_upload(want, n);
            vulkan_softmax_rows(vk_s, x, rows[a], cols[c]);
            float *got = fetch(x, n);
            R->softmax_rows(want, rows[a], cols[c]);
            check(ops_rel_err(got, want, n), TOL_ROW, "softmax");
            free(want), free(got);
        }
    const float k[] = {1, 2, 3, -INFINITY};
    vulkan_ref x = vk_upload(k, 4);
    vulkan_softmax_rows(vk_s, x, 1, 4);
    float *got = fetch(x, 4);
    assert_true(fabs(got[0] - 0.0900305732) < 2e-7 && fabs(got[2] - 0.6652409558) < 2e-7 &&
                got[3] == 0.0f);
    free(got);
}

/* --- attention -------------------------------------------------------------------------------- */

/* Multi-head problems in the interleaved layout of a fused qkv projection (rows of
 * [q heads | k heads | v heads], stride 3 heads D + 5), output rows with extra columns that
 * must stay untouched. */
static void attention_case_tol(int nwin, int heads, int Lq, int Lk, int D, float qscale,
                               double tol) {
    const int HD = heads * D, ldqkv = 3 * HD + 5, ldo = HD + 3;
    const int L = Lq > Lk ? Lq : Lk;
    const size_t nqkv = (size_t)nwin * L * ldqkv, nout = (size_t)nwin * Lq * ldo;
    float *qkv = ops_random(nqkv, 1);
    for (size_t i = 0; i < nqkv; i += (size_t)ldqkv)
        for (int c = 0; c < HD; c++) qkv[i + c] *= qscale;
    float *out0 = ops_alloc(nout);
    for (size_t i = 0; i < nout; i++) out0[i] = 12345.0f;
    vulkan_ref d = vk_upload(qkv, nqkv), o = vk_upload(out0, nout);
    if (nwin == 1 && heads == 1)
        vulkan_attention(vk_s, o, ldo, d, ldqkv, vulkan_at(d, (size_t)HD), ldqkv,
                         vulkan_at(d, 2 * (size_t)HD), ldqkv, Lq, Lk, D);
    else
        vulkan_attention_batched(vk_s, o, ldo, d, ldqkv, vulkan_at(d, (size_t)HD), ldqkv,
                                 vulkan_at(d, 2 * (size_t)HD), ldqkv, nwin, heads, Lq, Lk, D);
    float *out = fetch(o, nout);
    const float *q = qkv, *k = qkv + HD, *v = qkv + 2 * HD;
    float *want = ops_alloc((size_t)D);
    double worst = 0;
    for (int w = 0; w < nwin; w++)
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < Lq; i++) {
                const size_t qo = ((size_t)w * Lq + i) * ldqkv + (size_t)h * D;
                const size_t ko = (size_t)w * Lk * ldqkv + (size_t)h * D;
                R->attention(want, D, q + qo, ldqkv, k + ko, ldqkv, v + ko, ldqkv, 1, Lk, D, NULL);
                worst = fmax(worst, ops_rel_err(out + ((size_t)w * Lq + i) * ldo + (size_t)h * D,
                                                want, (size_t)D));
            }
    char what[128];
    snprintf(what, sizeof what, "attention nwin=%d heads=%d Lq=%d Lk=%d D=%d", nwin, heads, Lq, Lk,
             D);
    check(worst, tol, what);
    for (size_t r = 0; r < (size_t)nwin * Lq; r++)
        for (int c = HD; c < ldo; c++)
            if (out[r * ldo + c] != 12345.0f) fail_msg("%s wrote outside its columns", what);
    free(qkv), free(out0), free(out), free(want);
}

static void attention_case(int nwin, int heads, int Lq, int Lk, int D, float qscale) {
    attention_case_tol(nwin, heads, Lq, Lk, D, qscale, TOL_ATTN);
}

static void test_attention(void **state) {
    (void)state;
    attention_case(1, 1, 1, 1, 1, 1);
    attention_case(1, 1, 5, 7, 3, 2);
    attention_case(1, 1, 100, 37, 16, 3); /* several query blocks, a partial key block */
    attention_case(1, 1, 17, 300, 32, 3);
    attention_case(1, 1, 7, 2048, 16, 3);  /* decoder: tokens to image */
    attention_case(1, 1, 600, 7, 16, 3);   /* decoder: image to tokens */
    attention_case(1, 1, 40, 300, 256, 1); /* wide heads: two value-column blocks */
    attention_case(1, 1, 33, 50, 300, 1);  /* D not a multiple of the 32-wide chunks */
    /* Scores of magnitude ~100 (differences beyond exp's range): float rounding of such scores
     * is ~100 * 6e-8, hence the looser bound. */
    attention_case_tol(1, 1, 20, 30, 200, 100, 2e-5);
}

static void test_attention_batched(void **state) {
    (void)state;
    attention_case(3, 2, 16, 64, 8, 3);  /* q-pooled windows */
    attention_case(8, 1, 64, 64, 96, 3); /* Hiera-T stage 1 windows 8x8 */
    attention_case(6, 2, 16, 16, 96, 3); /* stage 2 windows 4x4 */
    attention_case(2, 8, 49, 49, 96, 3); /* stage 4 windows 7x7 */
    attention_case(5, 4, 9, 36, 4, 3);   /* MICRO: windows 6 pooled to 3 */
}

/* Values of their own width; key_ramp > 0 scales key j by 1 + key_ramp j / Lk so that later key
 * blocks hold the larger scores and the running maxima keep moving. */
static void attention_dv_case(int Lq, int Lk, int D, int Dv, float qscale, float key_ramp,
                              double tol) {
    const int ldq = D + 3, ldk = D + 1, ldv = Dv + 2, ldo = Dv + 5;
    const size_t nq = (size_t)Lq * ldq, nk = (size_t)Lk * ldk, nv = (size_t)Lk * ldv,
                 no = (size_t)Lq * ldo;
    float *q = ops_random(nq, qscale), *k = ops_random(nk, 1), *v = ops_random(nv, 1);
    for (int j = 0; j < Lk; j++)
        for (int c = 0; c < D; c++) k[(size_t)j * ldk + c] *= 1.0f + key_ramp * j / Lk;
    float *out0 = ops_alloc(no), *want = ops_alloc((size_t)Lq * Dv);
    for (size_t i = 0; i < no; i++) out0[i] = 12345.0f;
    vulkan_ref dq = vk_upload(q, nq), dk = vk_upload(k, nk), dv = vk_upload(v, nv),
               dout = vk_upload(out0, no);
    vulkan_attention_dv(vk_s, dout, ldo, dq, ldq, dk, ldk, dv, ldv, Lq, Lk, D, Dv);
    float *out = fetch(dout, no);
    R->attention_dv(want, Dv, q, ldq, k, ldk, v, ldv, Lq, Lk, D, Dv, NULL);
    char what[128];
    snprintf(what, sizeof what, "attention_dv Lq=%d Lk=%d D=%d Dv=%d ramp=%g", Lq, Lk, D, Dv,
             key_ramp);
    double worst = 0;
    for (int i = 0; i < Lq; i++) {
        worst = fmax(worst, ops_rel_err(out + (size_t)i * ldo, want + (size_t)i * Dv, (size_t)Dv));
        for (int c = Dv; c < ldo; c++)
            if (out[(size_t)i * ldo + c] != 12345.0f)
                fail_msg("%s wrote outside its columns", what);
    }
    check(worst, tol, what);
    free(q), free(k), free(v), free(out0), free(out), free(want);
}

static void test_attention_dv(void **state) {
    (void)state;
    attention_dv_case(1, 1, 1, 1, 1, 0, TOL_ATTN);
    attention_dv_case(7, 13, 5, 3, 2, 0, TOL_ATTN);
    attention_dv_case(40, 700, 256, 64, 1, 0, TOL_ATTN); /* memory attention's cross-attention */
    attention_dv_case(50, 600, 32, 100, 3, 0, TOL_ATTN); /* values wider than the keys */
    attention_dv_case(37, 1500, 64, 64, 3, 4, 2e-5);     /* maxima rising block after block */
    attention_dv_case(20, 900, 16, 24, 30, 8, 2e-5);
    attention_dv_case(9, 1000, 300, 17, 1, 1, TOL_ATTN);
    attention_dv_case(33, 512, 48, 140, 3, 4, 2e-5); /* values over two column blocks */
}

/* --- convolutions ----------------------------------------------------------------------------- */

static void conv_case(int H, int W, int IC, int OC, int K, int stride, int pad, int groups,
                      int bias) {
    const int OH = (H + 2 * pad - K) / stride + 1, OW = (W + 2 * pad - K) / stride + 1;
    const size_t nin = (size_t)H * W * IC, nw = (size_t)OC * (IC / groups) * K * K,
                 nout = (size_t)OH * OW * OC;
    float *in = ops_random(nin, 1), *w = ops_random(nw, 0.3f);
    float *b = bias ? ops_random((size_t)OC, 1) : NULL;
    vulkan_ref din = vk_upload(in, nin), dw = vk_upload(w, nw), dout = vk_alloc(nout);
    vulkan_ref db = bias ? vk_upload(b, (size_t)OC) : VULKAN_NONE;
    vulkan_conv2d(vk_s, dout, din, dw, db, H, W, IC, OC, K, K, stride, pad, groups);
    float *got = fetch(dout, nout), *want = ops_alloc(nout);
    R->conv2d(want, in, w, b, H, W, IC, OC, K, K, stride, pad, groups, NULL);
    char what[128];
    snprintf(what, sizeof what, "conv2d %dx%dx%d->%d k%d s%d p%d g%d", H, W, IC, OC, K, stride, pad,
             groups);
    check(ops_rel_err(got, want, nout), TOL_GEMM, what);
    free(in), free(w), free(b), free(got), free(want);
}

static void test_conv2d(void **state) {
    (void)state;
    conv_case(9, 11, 3, 8, 7, 4, 3, 1, 1);
    conv_case(64, 48, 3, 96, 7, 4, 3, 1, 1);  /* patch embedding, several tiles */
    conv_case(10, 12, 32, 16, 1, 1, 0, 1, 1); /* 1x1 */
    conv_case(10, 12, 32, 16, 1, 2, 0, 1, 0); /* 1x1 stride 2 */
    conv_case(13, 7, 5, 6, 3, 1, 1, 1, 1);
    conv_case(13, 7, 5, 6, 3, 2, 1, 1, 0);
    conv_case(16, 16, 1, 4, 2, 2, 0, 1, 1);       /* mask downscaling */
    conv_case(16, 16, 4, 16, 4, 4, 0, 1, 1);      /* mask downsampler */
    conv_case(10, 10, 2, 3, 3, 3, 0, 1, 1);       /* stride not dividing */
    conv_case(8, 8, 6, 9, 3, 1, 1, 3, 1);         /* grouped */
    conv_case(20, 17, 32, 32, 7, 1, 3, 32, 1);    /* depthwise */
    conv_case(9, 9, 8, 8, 3, 2, 1, 8, 0);         /* depthwise strided */
    conv_case(16, 16, 256, 256, 7, 1, 3, 256, 1); /* memory encoder CXBlock */
    conv_case(9, 10, 64, 20, 3, 1, 1, 1, 1);      /* 576 taps */
    conv_case(1, 1, 1, 1, 1, 1, 0, 1, 1);
}

static void conv_t_case(int H, int W, int IC, int OC, int bias) {
    const size_t nin = (size_t)H * W * IC, nw = (size_t)IC * OC * 4, nout = (size_t)4 * H * W * OC;
    float *in = ops_random(nin, 1), *w = ops_random(nw, 0.3f);
    float *b = bias ? ops_random((size_t)OC, 1) : NULL;
    vulkan_ref din = vk_upload(in, nin), dw = vk_upload(w, nw), dout = vk_alloc(nout);
    vulkan_ref db = bias ? vk_upload(b, (size_t)OC) : VULKAN_NONE;
    vulkan_conv_transpose2x2(vk_s, dout, din, dw, db, H, W, IC, OC);
    float *got = fetch(dout, nout), *want = ops_alloc(nout);
    R->conv_transpose2x2(want, in, w, b, H, W, IC, OC, NULL);
    char what[96];
    snprintf(what, sizeof what, "conv_transpose2x2 %dx%dx%d->%d", H, W, IC, OC);
    check(ops_rel_err(got, want, nout), TOL_GEMM, what);
    free(in), free(w), free(b), free(got), free(want);
}

static void test_conv_transpose(void **state) {
    (void)state;
    conv_t_case(1, 1, 1, 1, 1);
    conv_t_case(5, 7, 16, 8, 0);
    conv_t_case(16, 16, 64, 32, 1); /* decoder upscaling, scaled down */
    conv_t_case(3, 40, 600, 30, 1); /* long reduction */
    conv_t_case(2, 3, 513, 5, 0);
    /* hand-computed: one pixel 2, weights 1..4, bias 0.5 -> [[2.5, 4.5], [6.5, 8.5]] */
    const float in = 2.0f, w[4] = {1, 2, 3, 4}, b = 0.5f;
    vulkan_ref din = vk_upload(&in, 1), dw = vk_upload(w, 4), db = vk_upload(&b, 1),
               dout = vk_alloc(4);
    vulkan_conv_transpose2x2(vk_s, dout, din, dw, db, 1, 1, 1, 1);
    float *got = fetch(dout, 4);
    assert_true(got[0] == 2.5f && got[1] == 4.5f && got[2] == 6.5f && got[3] == 8.5f);
    free(got);
}

/* --- maps, resizes -------------------------------------------------------------------------------
 */

static void test_pool_upsample(void **state) {
    (void)state;
    const int shapes[][3] = {{1, 1, 1}, {4, 6, 3}, {7, 9, 5}, {32, 32, 96}};
    for (int s = 0; s < 4; s++) {
        const int H = shapes[s][0], W = shapes[s][1], C = shapes[s][2];
        const size_t n = (size_t)H * W * C, np = (size_t)(H / 2) * (W / 2) * C, nu = 4 * n;
        float *in = ops_random(n, 1);
        if (n > 10) in[10] = NAN;
        vulkan_ref din = vk_upload(in, n), dp = vk_alloc(np ? np : 1), du = vk_alloc(nu);
        vulkan_maxpool2x2(vk_s, dp, din, H, W, C);
        vulkan_upsample_nearest2x(vk_s, du, din, H, W, C);
        float *gp = fetch(dp, np), *gu = fetch(du, nu), *want = ops_alloc(nu);
        R->maxpool2x2(want, in, H, W, C);
        assert_int_equal(ops_bit_diffs(gp, want, np), 0);
        R->upsample_nearest2x(want, in, H, W, C);
        assert_int_equal(ops_bit_diffs(gu, want, nu), 0);
        free(in), free(gp), free(gu), free(want);
    }
}

typedef struct resize_shape {
    int C, H, W, OH, OW;
} resize_shape;

static void test_resize(void **state) {
    (void)state;
    const resize_shape shapes[] = {
        {3, 37, 53, 64, 64},  /* up, odd sizes */
        {3, 100, 80, 33, 47}, /* down by non-integer factors */
        {1, 5, 7, 5, 7},      /* same size */
        {2, 16, 16, 64, 64},  /* mask logits to image, 4x */
        {3, 90, 160, 64, 64}, /* a video frame to the model's input */
        {2, 64, 9, 7, 64},    /* down in one axis, up in the other */
        {8, 7, 7, 14, 12},    /* Hiera's positional embedding (bicubic) */
        {1, 1, 1, 3, 2},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const resize_shape r = shapes[i];
        const size_t nin = (size_t)r.C * r.H * r.W, nout = (size_t)r.C * r.OH * r.OW;
        float *in = ops_random(nin, 100);
        vulkan_ref din = vk_upload(in, nin), d0 = vk_alloc(nout), d1 = vk_alloc(nout),
                   d2 = vk_alloc(nout);
        vulkan_resize_bilinear(vk_s, d0, din, r.C, r.H, r.W, r.OH, r.OW, 0);
        vulkan_resize_bilinear(vk_s, d1, din, r.C, r.H, r.W, r.OH, r.OW, 1);
        vulkan_resize_bicubic(vk_s, d2, din, r.C, r.H, r.W, r.OH, r.OW);
        float *want = ops_alloc(nout);
        float *got[3] = {fetch(d0, nout), fetch(d1, nout), fetch(d2, nout)};
        for (int kind = 0; kind < 3; kind++) {
            if (kind < 2)
                R->resize_bilinear(want, in, r.C, r.H, r.W, r.OH, r.OW, kind);
            else
                R->resize_bicubic(want, in, r.C, r.H, r.W, r.OH, r.OW);
            const size_t bad = ops_bit_diffs(got[kind], want, nout);
            if (bad)
                fail_msg("%s %dx%d -> %dx%d: %zu of %zu values differ (first error %.3g)",
                         kind == 0   ? "bilinear"
                         : kind == 1 ? "bilinear antialias"
                                     : "bicubic",
                         r.H, r.W, r.OH, r.OW, bad, nout, ops_rel_err(got[kind], want, nout));
            free(got[kind]);
        }
        free(in), free(want);
    }
}

/* --- strided element-wise and layout ops -------------------------------------------------------
 */

/* Element (i0..i3) of a host view. */
static size_t at4(const uint32_t st[4], uint32_t i0, uint32_t i1, uint32_t i2, uint32_t i3) {
    return (size_t)i0 * st[0] + (size_t)i1 * st[1] + (size_t)i2 * st[2] + (size_t)i3 * st[3];
}

/* float <-> bfloat16 as predict/tracker_step.c's float_to_bf16 (not called from here so that
 * this program links without the model and runs on a GPU machine that has none of its
 * libraries; see scripts/gpu_check.sh). float16 comes from the compiler's _Float16, an
 * independent reference. */
static uint16_t bf16_ref(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);                                          /* nearest even */
    return (uint16_t)(u >> 16);
}

static float bf16_to_f32_ref(uint16_t b) {
    const uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint16_t f16_ref(float x) {
    _Float16 h = (_Float16)x;
    uint16_t b;
    memcpy(&b, &h, sizeof b);
    return b;
}

static float f16_to_f32_ref(uint16_t b) {
    _Float16 h;
    memcpy(&h, &b, sizeof h);
    return (float)h;
}

/* The unary functions of the seam's reference (core/backend_host.c, unary_scalar). */
static float unary_ref(vulkan_unary_fn fn, float x, float a, float b, float scale, float shift) {
    float v;
    switch (fn) {
    case VULKAN_RELU:
        R->relu(&v, &x, 1);
        break;
    case VULKAN_GELU:
        R->gelu(&v, &x, 1);
        break;
    case VULKAN_SIGMOID:
        R->sigmoid(&v, &x, 1);
        break;
    case VULKAN_STEP:
        v = x > a ? 1.0f : 0.0f;
        break;
    case VULKAN_CLAMP:
        v = x < a ? a : (x > b ? b : x);
        break;
    case VULKAN_FILL:
        v = a;
        break;
    default:
        v = x;
        break;
    }
    if (scale != 1.0f) v *= scale;
    if (shift != 0.0f) v += shift;
    return v;
}

static void test_unary_strided(void **state) {
    (void)state;
    /* A [2][5][7][6] block inside a larger buffer, written permuted (out's strides reverse the
     * dimensions) into a buffer whose other values must stay. */
    const uint32_t shape[4] = {2, 5, 7, 6}, ist[4] = {400, 60, 8, 1}, ost[4] = {1, 2, 10, 70};
    const size_t nin = 800, nout = 6 * 70;
    float *in = ops_random(nin, 3);
    in[ist[1] + 3] = NAN, in[2 * ist[2]] = INFINITY, in[1] = -0.0f;
    const struct {
        vulkan_unary_fn fn;
        float a, b, scale, shift;
        double tol; /* 0: bit for bit */
    } cases[] = {
        {VULKAN_IDENTITY, 0, 0, 1, 0, 0},     {VULKAN_IDENTITY, 0, 0, 0.125f, 0, 0},
        {VULKAN_IDENTITY, 0, 0, -3, 0.5f, 0}, {VULKAN_RELU, 0, 0, 1, 0, 0},
        {VULKAN_STEP, 0.25f, 0, 1, 0, 0},     {VULKAN_CLAMP, -1, 2, 1, 0, 0},
        {VULKAN_CLAMP, -1, 2, 2, -1, 0},      {VULKAN_FILL, 4.5f, 0, 1, 0, 0},
        {VULKAN_GELU, 0, 0, 1, 0, 6e-7},      {VULKAN_SIGMOID, 0, 0, 0.5f, 1, 5e-7},
    };
    vulkan_ref din = vk_upload(in, nin);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        vulkan_ref dout = vk_alloc(nout);
        vulkan_fill(vk_s, dout, nout * sizeof(float), -7.0f);
        const vulkan_view vin = {din, {2, 5, 7, 6}, {400, 60, 8, 1}, VULKAN_F32},
                          vout = {dout, {2, 5, 7, 6}, {1, 2, 10, 70}, VULKAN_F32};
        vulkan_unary(vk_s, vout, vin, cases[k].fn, cases[k].a, cases[k].b, cases[k].scale,
                     cases[k].shift);
        float *got = fetch(dout, nout), *want = ops_alloc(nout);
        for (size_t i = 0; i < nout; i++) want[i] = -7.0f;
        for (uint32_t a = 0; a < shape[0]; a++)
            for (uint32_t b = 0; b < shape[1]; b++)
                for (uint32_t c = 0; c < shape[2]; c++)
                    for (uint32_t d = 0; d < shape[3]; d++)
                        want[at4(ost, a, b, c, d)] =
                            unary_ref(cases[k].fn, in[at4(ist, a, b, c, d)], cases[k].a, cases[k].b,
                                      cases[k].scale, cases[k].shift);
        if (cases[k].tol == 0) {
            if (ops_bit_diffs(got, want, nout)) fail_msg("unary case %zu differs", k);
        } else {
            check(ops_rel_err(got, want, nout), cases[k].tol, "unary gelu / sigmoid");
        }
        free(got), free(want);
    }
    free(in);
}

static vulkan_view flat_view(vulkan_ref r, uint32_t n, uint32_t stride, vulkan_dtype t) {
    vulkan_view v = {r, {1, 1, 1, n}, {0, 0, 0, stride}, t};
    return v;
}

/* Conversions between float32, float16, bfloat16 and uint8 (the seam's COPY), through strided
 * views, with the values where rounding is decided: ties, the largest halves, overflow to
 * infinity, half subnormals, NaN. */
static void test_convert(void **state) {
    (void)state;
    enum { N = 64 };
    float x[N];
    const float special[] = {0.0f,        -0.0f,     1.0f,     1.00390625f,   1.01171875f,
                             65504.0f,    65519.0f,  65520.0f, -70000.0f,     6.1035156e-5f,
                             5.96e-8f,    2.98e-8f,  2.99e-8f, 1e-10f,        -3.0e-6f,
                             INFINITY,    -INFINITY, NAN,      1.0009765625f, 1.00146484375f,
                             3.14159265f, -2.71828f, 1e20f,    -1e-30f};
    const int ns = (int)(sizeof special / sizeof special[0]);
    for (int i = 0; i < N; i++) x[i] = i < ns ? special[i] : 100.0f * ops_rand();
    vulkan_ref dx = vk_upload(x, N);
    /* f32 -> f16 and bf16, written with stride 2 into 16-bit buffers; then back to f32 */
    vulkan_ref h = vk_alloc(N), b = vk_alloc(N), hb = vk_alloc(N), bb = vk_alloc(N);
    const vulkan_view src = flat_view(dx, N, 1, VULKAN_F32), vh = flat_view(h, N, 2, VULKAN_F16),
                      vb = flat_view(b, N, 2, VULKAN_BF16);
    vulkan_fill(vk_s, h, N * sizeof(float), 0.0f);
    vulkan_fill(vk_s, b, N * sizeof(float), 0.0f);
    vulkan_convert(vk_s, vh, src);
    vulkan_convert(vk_s, vb, src);
    vulkan_convert(vk_s, flat_view(hb, N, 1, VULKAN_F32), vh);
    vulkan_convert(vk_s, flat_view(bb, N, 1, VULKAN_F32), vb);
    uint16_t gh[2 * N], gb[2 * N];
    sam2_error err = {0};
    assert_int_equal(vulkan_download(vk_s, gh, h, sizeof gh, &err), 0);
    assert_int_equal(vulkan_download(vk_s, gb, b, sizeof gb, &err), 0);
    float *back_h = fetch(hb, N), *back_b = fetch(bb, N);
    for (int i = 0; i < N; i++) {
        /* any quiet NaN is a NaN in float16 (the compiler's may keep payload bits) */
        const int nan_ok = isnan(x[i]) && (gh[2 * i] & 0x7e00u) == 0x7e00u;
        if (gh[2 * i] != f16_ref(x[i]) && !nan_ok)
            fail_msg("f16(%.9g) = 0x%04x, want 0x%04x", x[i], gh[2 * i], f16_ref(x[i]));
        if (gb[2 * i] != bf16_ref(x[i]))
            fail_msg("bf16(%.9g) = 0x%04x, want 0x%04x", x[i], gb[2 * i], bf16_ref(x[i]));
        assert_true(gh[2 * i + 1] == 0 && gb[2 * i + 1] == 0); /* the gaps stay */
        const float wh = f16_to_f32_ref(gh[2 * i]), wb = bf16_to_f32_ref(gb[2 * i]);
        if (!(isnan(wh) && isnan(back_h[i])))
            assert_int_equal(ops_bit_diffs(&back_h[i], &wh, 1), 0);
        assert_int_equal(ops_bit_diffs(&back_b[i], &wb, 1), 0);
    }
    /* 16-bit to 16-bit copies keep the bits; uint8 -> f32 gives 0..255 (from an odd byte, every
     * other byte); step -> uint8; fill of uint8 */
    vulkan_ref h2 = vk_alloc(N), u8 = vk_alloc(N), u8b = vk_alloc(N), fu = vk_alloc(N);
    vulkan_convert(vk_s, flat_view(h2, N, 1, VULKAN_BF16), vb);
    unsigned char bytes[N];
    for (int i = 0; i < N; i++) bytes[i] = (unsigned char)(i * 37 + 5);
    assert_int_equal(vulkan_upload(vk_s, u8, bytes, N, &err), 0);
    vulkan_ref u8_3 = u8;
    u8_3.offset += 3;
    vulkan_convert(vk_s, flat_view(fu, 30, 1, VULKAN_F32), flat_view(u8_3, 30, 2, VULKAN_U8));
    vulkan_fill(vk_s, u8b, N, 0.0f);
    vulkan_unary(vk_s, flat_view(u8b, N, 1, VULKAN_U8), src, VULKAN_STEP, 0.5f, 0, 1, 0);
    uint16_t g2[N];
    unsigned char gstep[N];
    assert_int_equal(vulkan_download(vk_s, g2, h2, sizeof g2, &err), 0);
    assert_int_equal(vulkan_download(vk_s, gstep, u8b, N, &err), 0);
    float *gfu = fetch(fu, 30);
    for (int i = 0; i < N; i++) {
        assert_int_equal(g2[i], gb[2 * i]);
        assert_int_equal(gstep[i], x[i] > 0.5f ? 1 : 0);
    }
    for (int i = 0; i < 30; i++) assert_true(gfu[i] == (float)bytes[3 + 2 * i]);
    vulkan_ref f8 = vk_alloc(N);
    vulkan_ref f8_1 = f8;
    f8_1.offset += 1;
    vulkan_fill(vk_s, f8, N * sizeof(float), 0.0f);
    vulkan_fill_view(vk_s, flat_view(f8_1, 2 * N, 1, VULKAN_U8), 200.0f);
    unsigned char g8[2 * N + 4];
    assert_int_equal(vulkan_download(vk_s, g8, f8, sizeof g8, &err), 0);
    for (int i = 0; i < 2 * N + 4; i++) assert_int_equal(g8[i], i >= 1 && i <= 2 * N ? 200 : 0);
    free(back_h), free(back_b), free(gfu);
}

static void test_binary_broadcast(void **state) {
    (void)state;
    /* out[b][y][x][c] = a[b][y][x][c] (op) pe[y][x][c]: a positional embedding broadcast over
     * the batch; and a per-channel row (strides 0, 0, 0, 1). */
    const uint32_t sh[4] = {3, 4, 5, 6};
    const size_t n = 3 * 4 * 5 * 6;
    float *a = ops_random(n, 2), *pe = ops_random(4 * 5 * 6, 2), *row = ops_random(6, 2);
    row[2] = 0.0f; /* division by zero: inf, as on the CPU */
    vulkan_ref da = vk_upload(a, n), dpe = vk_upload(pe, 120), drow = vk_upload(row, 6);
    const uint32_t full[4] = {120, 30, 6, 1}, bpe[4] = {0, 30, 6, 1}, brow[4] = {0, 0, 0, 1};
    const float alpha[] = {1, 1, 1, 1, 1, 0.75f}, beta[] = {1, 1, 1, 1, -2.5f, 3};
    for (int k = 0; k < 6; k++) {
        const vulkan_binary_op op = k < 4 ? (vulkan_binary_op)k : VULKAN_AXPBY;
        const int by_row = k == 2 || k == 3;
        vulkan_ref dout = vk_alloc(n);
        vulkan_view vo = {dout, {3, 4, 5, 6}, {120, 30, 6, 1}, VULKAN_F32},
                    va = {da, {3, 4, 5, 6}, {120, 30, 6, 1}, VULKAN_F32};
        vulkan_view vb = {by_row ? drow : dpe, {3, 4, 5, 6}, {0, 30, 6, 1}, VULKAN_F32};
        if (by_row) memcpy(vb.stride, brow, sizeof brow);
        vulkan_binary(vk_s, op, vo, va, vb, alpha[k], beta[k]);
        float *got = fetch(dout, n), *want = ops_alloc(n);
        for (uint32_t i0 = 0; i0 < sh[0]; i0++)
            for (uint32_t i1 = 0; i1 < sh[1]; i1++)
                for (uint32_t i2 = 0; i2 < sh[2]; i2++)
                    for (uint32_t i3 = 0; i3 < sh[3]; i3++) {
                        const float x = a[at4(full, i0, i1, i2, i3)];
                        const float z =
                            by_row ? row[at4(brow, i0, i1, i2, i3)] : pe[at4(bpe, i0, i1, i2, i3)];
                        float w;
                        switch (op) {
                        case VULKAN_ADD:
                            w = x + z;
                            break;
                        case VULKAN_SUB:
                            w = x - z;
                            break;
                        case VULKAN_MUL:
                            w = x * z;
                            break;
                        case VULKAN_DIV:
                            w = x / z;
                            break;
                        default:
                            w = alpha[k] == 1.0f ? x + beta[k] * z : alpha[k] * x + beta[k] * z;
                        }
                        want[at4(full, i0, i1, i2, i3)] = w;
                    }
        /* division is not correctly rounded on every GPU (Vulkan allows 2.5 ulp) */
        if (op != VULKAN_DIV)
            assert_int_equal(ops_bit_diffs(got, want, n), 0);
        else
            check(ops_rel_err(got, want, n), 1e-6, "divide");
        free(got), free(want);
    }
    free(a), free(pe), free(row);
}

static void test_concat(void **state) {
    (void)state;
    const int rows = 11, cols[3] = {5, 1, 7}, ld[3] = {5, 3, 9}, ld_out = 15;
    float *parts[3];
    vulkan_ref dparts[3];
    for (int i = 0; i < 3; i++) {
        parts[i] = ops_random((size_t)rows * ld[i], 1);
        dparts[i] = vk_upload(parts[i], (size_t)rows * ld[i]);
    }
    vulkan_ref dout = vk_alloc((size_t)rows * ld_out);
    vulkan_fill(vk_s, dout, (size_t)rows * ld_out * sizeof(float), 3.0f);
    vulkan_concat_cols(vk_s, dout, ld_out, rows, 3, dparts, cols, ld);
    float *got = fetch(dout, (size_t)rows * ld_out);
    for (int r = 0; r < rows; r++) {
        int c = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < cols[i]; j++, c++)
                assert_true(got[(size_t)r * ld_out + c] == parts[i][(size_t)r * ld[i] + j]);
        for (; c < ld_out; c++) assert_true(got[(size_t)r * ld_out + c] == 3.0f);
    }
    for (int i = 0; i < 3; i++) free(parts[i]);
    free(got);
}

/* max-pool over a batch of maps that are column ranges of wider maps */
static void test_maxpool_strided(void **state) {
    (void)state;
    const int B = 3, H = 7, W = 6, C = 5, ldp = 9; /* pixels 9 floats apart, 5 channels used */
    const uint32_t is[3] = {(uint32_t)(H * W * ldp + 4), (uint32_t)(W * ldp), (uint32_t)ldp};
    const uint32_t os[3] = {60, 18, 6};
    const size_t nin = (size_t)B * is[0], nout = (size_t)B * os[0];
    float *in = ops_random(nin, 1);
    in[ldp + 2] = NAN;
    vulkan_ref din = vk_upload(in, nin), dout = vk_alloc(nout);
    vulkan_fill(vk_s, dout, nout * sizeof(float), 5.0f);
    vulkan_maxpool2x2_strided(vk_s, dout, os, din, is, B, H, W, C);
    float *got = fetch(dout, nout), *dense = ops_alloc((size_t)H * W * C),
          *want = ops_alloc((size_t)(H / 2) * (W / 2) * C);
    for (int b = 0; b < B; b++) {
        for (int p = 0; p < H * W; p++)
            for (int c = 0; c < C; c++)
                dense[(size_t)p * C + c] = in[b * is[0] + (size_t)p * ldp + c];
        R->maxpool2x2(want, dense, H, W, C);
        for (int y = 0; y < H / 2; y++)
            for (int x = 0; x < W / 2; x++)
                for (int c = 0; c < 6; c++) {
                    const float g = got[b * os[0] + y * os[1] + x * os[2] + c];
                    const float w = c < C ? want[((size_t)y * (W / 2) + x) * C + c] : 5.0f;
                    assert_int_equal(ops_bit_diffs(&g, &w, 1), 0);
                }
    }
    free(in), free(got), free(dense), free(want);
}

/* window_partition / window_unpartition of sam2's hieradet.py, as plain loops; rectangular
 * windows, ranges of windows, and the partition with LayerNorm on the way (norm1). */
static void test_windows(void **state) {
    (void)state;
    const int shapes[][5] = {{13, 10, 3, 4, 4}, {16, 16, 8, 8, 8}, {7, 7, 5, 7, 7},
                             {3, 5, 2, 4, 4},   {9, 14, 6, 4, 5},  {8, 8, 130, 3, 3}};
    for (int s = 0; s < 6; s++) {
        const int H = shapes[s][0], W = shapes[s][1], C = shapes[s][2], wh = shapes[s][3],
                  ww = shapes[s][4];
        const int ld = C + 2, nwy = (H + wh - 1) / wh, nwx = (W + ww - 1) / ww, L = wh * ww;
        const size_t nmap = (size_t)H * W * ld, nwin = (size_t)nwy * nwx * L * C;
        float *map = ops_random(nmap, 1), *windows = ops_alloc(nwin), *normed = ops_alloc(nwin);
        float *lw = ops_random((size_t)C, 1), *lb = ops_random((size_t)C, 1);
        for (int wy = 0; wy < nwy; wy++)
            for (int wx = 0; wx < nwx; wx++)
                for (int t = 0; t < L; t++) {
                    const int y = wy * wh + t / ww, x = wx * ww + t % ww;
                    const size_t o = (((size_t)wy * nwx + wx) * L + t) * C;
                    for (int c = 0; c < C; c++)
                        windows[o + c] = y < H && x < W ? map[((size_t)y * W + x) * ld + c] : 0.0f;
                    if (y < H && x < W)
                        R->layernorm(normed + o, map + ((size_t)y * W + x) * ld, lw, lb, 1, C,
                                     1e-6f);
                    else
                        for (int c = 0; c < C; c++) normed[o + c] = 0.0f;
                }
        vulkan_ref dmap = vk_upload(map, nmap), dwin = vk_alloc(nwin), dnorm = vk_alloc(nwin),
                   dw = vk_upload(lw, (size_t)C), db = vk_upload(lb, (size_t)C);
        const vulkan_window_grid all = vulkan_window_grid_all(H, W, C, ld, wh, ww);
        vulkan_window_partition(vk_s, dwin, dmap, all);
        /* the normalised partition in two ranges of windows */
        vulkan_window_grid part = all;
        part.n = all.n / 2;
        vulkan_window_partition_norm(vk_s, dnorm, dmap, part, dw, db, 1e-6f);
        part.first = part.n;
        part.n = all.n - part.n;
        vulkan_window_partition_norm(vk_s, vulkan_at(dnorm, (size_t)part.first * L * C), dmap, part,
                                     dw, db, 1e-6f);
        float *got = fetch(dwin, nwin), *gotn = fetch(dnorm, nwin);
        assert_int_equal(ops_bit_diffs(got, windows, nwin), 0);
        check(ops_rel_err(gotn, normed, nwin), TOL_ROW, "window partition with layernorm");
        /* back: written (the padding columns of the map rows stay), then added, by ranges */
        vulkan_ref dback = vk_alloc(nmap);
        vulkan_fill(vk_s, dback, nmap * sizeof(float), 9.0f);
        vulkan_window_unpartition(vk_s, dback, dwin, all, 0);
        float *back = fetch(dback, nmap);
        for (size_t p = 0; p < (size_t)H * W; p++)
            for (int c = 0; c < ld; c++)
                assert_true(back[p * ld + c] == (c < C ? map[p * ld + c] : 9.0f));
        vulkan_window_grid first = all, rest = all;
        first.n = 1;
        rest.first = 1;
        rest.n = all.n - 1;
        vulkan_window_unpartition(vk_s, dmap, dwin, first, 1);
        vulkan_window_unpartition(vk_s, dmap, vulkan_at(dwin, (size_t)L * C), rest, 1);
        float *twice = fetch(dmap, nmap);
        for (size_t p = 0; p < (size_t)H * W; p++)
            for (int c = 0; c < C; c++) assert_true(twice[p * ld + c] == map[p * ld + c] * 2.0f);
        free(map), free(windows), free(normed), free(lw), free(lb), free(got), free(gotn),
            free(back), free(twice);
    }
}

static void test_rope(void **state) {
    (void)state;
    /* memory attention's shape scaled down: 4x4 tokens, 2 heads of 16, keys repeating the table
     * 3 times in rows of a wider buffer; the model's apply_rope (per head) is the reference, bit
     * for bit */
    const int W = 4, H = 4, hd = 16, heads = 2, rows = 3 * W * H, ld = heads * hd + 5;
    float *cs = ops_alloc((size_t)W * H * hd / 2), *sn = ops_alloc((size_t)W * H * hd / 2);
    axial_rope_tables(cs, sn, W, H, hd, 10000.0f);
    float *x = ops_random((size_t)rows * ld, 2);
    vulkan_ref dx = vk_upload(x, (size_t)rows * ld), dc = vk_upload(cs, (size_t)W * H * hd / 2),
               ds = vk_upload(sn, (size_t)W * H * hd / 2);
    vulkan_rope(vk_s, dx, rows, ld, heads, hd, dc, ds, W * H);
    float *got = fetch(dx, (size_t)rows * ld);
    for (int h = 0; h < heads; h++) apply_rope(x + h * hd, rows, ld, hd, cs, sn, W * H);
    assert_int_equal(ops_bit_diffs(got, x, (size_t)rows * ld), 0);
    free(cs), free(sn), free(x), free(got);
}

/* The stability score of SAM's mask decoder: count(x > delta) / count(x > -delta). */
static void test_stability(void **state) {
    (void)state;
    const size_t sizes[] = {1, 255, 256 * 256 + 3};
    for (int k = 0; k < 3; k++) {
        const size_t n = sizes[k];
        float *x = ops_random(n, 3);
        vulkan_ref dx = vk_upload(x, n), d = vk_alloc(1);
        vulkan_stability(vk_s, d, dx, n, 1.0f);
        float *got = fetch(d, 1);
        size_t inter = 0, uni = 0;
        for (size_t i = 0; i < n; i++) inter += x[i] > 1.0f, uni += x[i] > -1.0f;
        const float want = uni ? (float)inter / (float)uni : 1.0f;
        check(fabs(*got - want), 2e-7, "stability");
        free(x), free(got);
    }
    const float all_low[4] = {-5, -6, -7, -8};
    vulkan_ref dx = vk_upload(all_low, 4), d = vk_alloc(1);
    vulkan_stability(vk_s, d, dx, 4, 1.0f);
    float *got = fetch(d, 1);
    assert_true(*got == 1.0f); /* no value above -delta: 1 */
    free(got);
}

int main(void) {
    const int rc = vk_test_open(0);
    if (rc) return rc;
    R = sam2_backend_ref();
    ops_seed(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_gemm, teardown),
        cmocka_unit_test_teardown(test_gemm_batched, teardown),
        cmocka_unit_test_teardown(test_linear, teardown),
        cmocka_unit_test_teardown(test_layernorm, teardown),
        cmocka_unit_test_teardown(test_gelu, teardown),
        cmocka_unit_test_teardown(test_sigmoid_relu_add, teardown),
        cmocka_unit_test_teardown(test_softmax, teardown),
        cmocka_unit_test_teardown(test_attention, teardown),
        cmocka_unit_test_teardown(test_attention_batched, teardown),
        cmocka_unit_test_teardown(test_attention_dv, teardown),
        cmocka_unit_test_teardown(test_conv2d, teardown),
        cmocka_unit_test_teardown(test_conv_transpose, teardown),
        cmocka_unit_test_teardown(test_pool_upsample, teardown),
        cmocka_unit_test_teardown(test_resize, teardown),
        cmocka_unit_test_teardown(test_unary_strided, teardown),
        cmocka_unit_test_teardown(test_convert, teardown),
        cmocka_unit_test_teardown(test_binary_broadcast, teardown),
        cmocka_unit_test_teardown(test_concat, teardown),
        cmocka_unit_test_teardown(test_maxpool_strided, teardown),
        cmocka_unit_test_teardown(test_windows, teardown),
        cmocka_unit_test_teardown(test_rope, teardown),
        cmocka_unit_test_teardown(test_stability, teardown),
    };
    const int failed = cmocka_run_group_tests(tests, NULL, NULL);
    const uint64_t errors = vulkan_validation_errors(vk_dev);
    vk_test_close();
    if (errors)
        fprintf(stderr, "FAIL: %llu Vulkan validation errors\n", (unsigned long long)errors);
    return failed || errors ? 1 : 0;
}

#endif
