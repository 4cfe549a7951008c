/* Kernels: the optimised CPU backend against the reference backend on random data (odd sizes,
 * strides, padding, the shapes SAM 2 uses), and known values of the reference kernels. The
 * whole table runs once per kernel set this machine can run (core/cpu_kernels.h): baseline, then
 * AVX2+FMA on x86-64 or NEON on AArch64 (`make test-arm64` runs it under qemu).
 * Resizes are in test_ops_resize.c, the thread pool in test_threadpool.c.
 *
 * Error measure: max|cpu - ref| / max(1, max|ref|) (ops_rel_err). The reference accumulates in
 * double, so the bounds below are float rounding of the optimised kernels:
 *   GEMM-based ops (gemm, linear, conv) 1e-5 (sums of up to a few thousand products),
 *   attention 2e-6, layernorm / softmax 2e-6, element-wise 2e-7 (times max(1,|x|) for GELU). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/cpu_kernels.h"
#include "core/ops.h"
#include "core/threadpool.h"
#include "ops_check.h"
#include "support/testutil.h"

#include <math.h>
#include <string.h>

/* Unoptimised (sanitizer) builds run the scalar kernels at -O0, and emulated runs (qemu, make
 * test-arm64) run everything some 50 times slower: smaller big cases there. */
#ifdef __OPTIMIZE__
#define BIG(full, small) (test_emulated() ? (small) : (full))
#else
#define BIG(full, small) (small)
#endif

#define TOL_GEMM 1e-5
#define TOL_ATTN 2e-6
#define TOL_ROW 2e-6

static const sam2_backend *R, *X;

static void check(double err, double tol, const char *what) {
    if (getenv("SAM2_TEST_VERBOSE"))
        print_message("%-60s error %.3g (bound %.3g)\n", what, err, tol);
    if (!(err <= tol)) fail_msg("%s: error %.3g > %.3g", what, err, tol);
}

/* --- gemm / linear ------------------------------------------------------------------------- */

static void gemm_case(int ta, int tb, int M, int N, int K, int pad, float alpha, float beta) {
    const int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
    float *A = ops_random((size_t)(ta ? K : M) * lda, 1),
          *B = ops_random((size_t)(tb ? N : K) * ldb, 1);
    float *C0 = ops_random((size_t)M * ldc, 1);
    if (beta == 0.0f)
        for (size_t i = 0; i < (size_t)M * ldc; i++) C0[i] = NAN; /* must not leak through */
    float *Cr = ops_copy(C0, (size_t)M * ldc), *Cx = ops_copy(C0, (size_t)M * ldc);
    R->gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, Cr, ldc);
    X->gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, Cx, ldc);
    char what[96];
    snprintf(what, sizeof what, "gemm ta=%d tb=%d %dx%dx%d beta=%g", ta, tb, M, N, K, beta);
    /* compare the M x N block only: padding columns were not written by either */
    for (int i = 0; i < M; i++)
        check(ops_rel_err(Cx + (size_t)i * ldc, Cr + (size_t)i * ldc, N), TOL_GEMM, what);
    free(A), free(B), free(C0), free(Cr), free(Cx);
}

static void test_gemm(void **state) {
    (void)state;
    const int shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {33, 17, 65}, {128, 96, 64}, {3, 200, 1}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int t = 0; t < 4; t++) {
            gemm_case(t & 1, t >> 1, shapes[s][0], shapes[s][1], shapes[s][2], 0, 1.0f, 0.0f);
            gemm_case(t & 1, t >> 1, shapes[s][0], shapes[s][1], shapes[s][2], 3, 0.7f, 0.5f);
        }
}

static void linear_case(int N, int IC, int OC, int bias) {
    float *in = ops_random((size_t)N * IC, 1), *w = ops_random((size_t)OC * IC, 0.5f);
    float *b = bias ? ops_random(OC, 1) : NULL;
    float *r = ops_alloc((size_t)N * OC), *x = ops_alloc((size_t)N * OC);
    R->linear(r, in, w, b, N, IC, OC);
    X->linear(x, in, w, b, N, IC, OC);
    char what[64];
    snprintf(what, sizeof what, "linear %dx%d->%d bias=%d", N, IC, OC, bias);
    check(ops_rel_err(x, r, (size_t)N * OC), TOL_GEMM, what);
    free(in), free(w), free(b), free(r), free(x);
}

static void test_linear(void **state) {
    (void)state;
    linear_case(1, 1, 1, 1);
    linear_case(7, 3, 5, 0);
    linear_case(7, 3, 5, 1);
    linear_case(2050, 96, 288, 1); /* crosses the row blocks; Hiera qkv shape */
    linear_case(BIG(300, 40), 384, 1536, 1);
    linear_case(77, 600, 50, 1); /* long reduction: OpenBLAS path */
    linear_case(50, 512, 33, 0);
}

/* --- row-wise and element-wise -----------------------------------------------------------------
 */

static void test_layernorm(void **state) {
    (void)state;
    const int Ns[] = {1, 5, 300}, Cs[] = {1, 7, 8, 96, 257};
    for (int a = 0; a < 3; a++)
        for (int c = 0; c < 5; c++) {
            const int N = Ns[a], C = Cs[c];
            float *in = ops_random((size_t)N * C, 3), *w = ops_random(C, 1), *b = ops_random(C, 1);
            for (size_t i = 0; i < (size_t)N * C; i++) in[i] += 2.0f; /* non-zero mean */
            float *r = ops_alloc((size_t)N * C), *x = ops_copy(in, (size_t)N * C);
            R->layernorm(r, in, w, b, N, C, 1e-6f);
            X->layernorm(x, x, w, b, N, C, 1e-6f); /* in place */
            check(ops_rel_err(x, r, (size_t)N * C), TOL_ROW, "layernorm");
            R->layernorm(r, in, NULL, NULL, N, C, 1e-5f);
            X->layernorm(x, in, NULL, NULL, N, C, 1e-5f);
            check(ops_rel_err(x, r, (size_t)N * C), TOL_ROW, "layernorm without affine");
            free(in), free(w), free(b), free(r), free(x);
        }
}

static double gelu_exact(double x) {
    return 0.5 * x * (1.0 + erf(x * M_SQRT1_2));
}

static void test_gelu(void **state) {
    (void)state;
    /* Dense sweep over [-12, 12] (every float near 0 is covered by the steps of 2^-14), plus
     * random data through both backends. Bound: 2e-7 * max(1, |x|), i.e. an absolute 2e-7
     * where the outputs are small and about 1-2 ulp where they are large. */
    const size_t n = 24 * 16384 + 1;
    float *x = ops_alloc(n), *y = ops_alloc(n);
    for (size_t i = 0; i < n; i++) x[i] = -12.0f + (float)i / 16384.0f;
    X->gelu(y, x, n);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(y[i] - gelu_exact(x[i])) / fmax(1.0, fabs(x[i]));
        worst = fmax(worst, e);
    }
    print_message("gelu sweep: worst error %.3g (bound 2e-7)\n", worst);
    check(worst, 2e-7, "gelu sweep");
    /* tiny, huge and special inputs */
    const float sp[] = {0.0f,  -0.0f, 1e-30f, -1e-30f, 1e-8f,  3.9f,     -3.9f,    5.0f,
                        -5.0f, 30.0f, -30.0f, 1e30f,   -1e30f, INFINITY, -INFINITY};
    const size_t ns = sizeof sp / sizeof sp[0];
    float out[sizeof sp / sizeof sp[0]];
    X->gelu(out, sp, ns);
    for (size_t i = 0; i + 2 < ns; i++)
        if (fabs(out[i] - gelu_exact(sp[i])) > 2e-7 * fmax(1.0, fabs(sp[i])))
            fail_msg("gelu(%g) = %g, want %g", sp[i], out[i], gelu_exact(sp[i]));
    assert_true(isinf(out[ns - 2]) && out[ns - 2] > 0);
    float nan_in = NAN, nan_out = 0;
    X->gelu(&nan_out, &nan_in, 1);
    assert_true(isnan(nan_out));
    /* random, odd length (vector tail) */
    float *in = ops_random(1001, 6), *r = ops_alloc(1001), *c = ops_alloc(1001);
    R->gelu(r, in, 1001);
    X->gelu(c, in, 1001);
    check(ops_rel_err(c, r, 1001), 2e-7 * 6, "gelu random");
    free(x), free(y), free(in), free(r), free(c);
}

static void test_gelu_known(void **state) {
    (void)state;
    /* x * Phi(x) from tables of the normal distribution */
    const float x[] = {0.0f, 1.0f, -1.0f, 2.0f, -3.0f, 0.5f};
    const double want[] = {0.0,
                           0.841344746068543,
                           -0.158655253931457,
                           1.954499736103642,
                           -0.004049694094890,
                           0.345731230637007},
                 tol = 1e-7;
    float y[6];
    R->gelu(y, x, 6);
    for (int i = 0; i < 6; i++) assert_true(fabs(y[i] - want[i]) <= tol + 1e-7 * fabs(want[i]));
    X->gelu(y, x, 6);
    for (int i = 0; i < 6; i++) assert_true(fabs(y[i] - want[i]) <= 2e-7);
}

static void test_sigmoid_relu_add(void **state) {
    (void)state;
    const size_t n = 200003;
    float *in = ops_alloc(n), *r = ops_alloc(n), *x = ops_alloc(n);
    for (size_t i = 0; i < n; i++) in[i] = -90.0f + 110.0f * (float)i / (float)n;
    R->sigmoid(r, in, n);
    X->sigmoid(x, in, n);
    double worst = 0; /* relative, where the result is a normal float */
    for (size_t i = 0; i < n; i++)
        if (r[i] > 1e-37f) worst = fmax(worst, fabs((double)x[i] - r[i]) / r[i]);
    print_message("sigmoid: worst relative error %.3g\n", worst);
    check(worst, 5e-7, "sigmoid relative");
    float sp[] = {INFINITY, -INFINITY, 0.0f, 1000.0f, -1000.0f}, so[5];
    X->sigmoid(so, sp, 5);
    assert_true(so[0] == 1.0f && so[1] == 0.0f && so[2] == 0.5f && so[3] == 1.0f && so[4] == 0.0f);

    float *a = ops_random(n, 4), *b = ops_random(n, 4);
    a[5] = NAN;
    R->relu(r, a, n);
    X->relu(x, a, n);
    assert_int_equal(ops_bit_diffs(x, r, n), 0);
    assert_true(isnan(x[5]));
    R->add(r, a, b, n);
    memcpy(x, a, sizeof(float) * n);
    X->add(x, x, b, n); /* in place */
    assert_int_equal(ops_bit_diffs(x, r, n), 0);
    free(in), free(r), free(x), free(a), free(b);
}

static void test_softmax(void **state) {
    (void)state;
    const int rows[] = {1, 3, 50}, cols[] = {1, 7, 8, 64, 1000};
    for (int a = 0; a < 3; a++)
        for (int c = 0; c < 5; c++) {
            const size_t n = (size_t)rows[a] * cols[c];
            float *r = ops_random(n, 10), *x = ops_copy(r, n);
            R->softmax_rows(r, rows[a], cols[c]);
            X->softmax_rows(x, rows[a], cols[c]);
            check(ops_rel_err(x, r, n), TOL_ROW, "softmax");
            free(r), free(x);
        }
    float k[] = {1, 2, 3, -INFINITY};
    R->softmax_rows(k, 1, 4);
    assert_true(fabs(k[0] - 0.0900305732) < 1e-7 && fabs(k[1] - 0.2447284711) < 1e-7 &&
                fabs(k[2] - 0.6652409558) < 1e-7 && k[3] == 0.0f);
    float kx[] = {1, 2, 3, -INFINITY};
    X->softmax_rows(kx, 1, 4);
    assert_true(fabs(kx[0] - 0.0900305732) < 2e-7 && kx[3] == 0.0f);
}

/* --- attention ------------------------------------------------------------------------------- */

/* Multi-head problem in the interleaved layout of a fused qkv projection: rows of
 * [q heads | k heads | v heads] (stride ldqkv >= 3*heads*D), output rows of stride ldo with
 * extra columns that must stay untouched. Checks `check_rows` query rows per (window, head)
 * (all of them when 0) against the reference. */
static void attention_case_tol(int nwin, int heads, int Lq, int Lk, int D, int check_rows,
                               float qscale, double tol) {
    const int HD = heads * D, ldqkv = 3 * HD + 5, ldo = HD + 3;
    const int L = Lq > Lk ? Lq : Lk;
    float *qkv = ops_random((size_t)nwin * L * ldqkv, 1);
    for (size_t i = 0; i < (size_t)nwin * L * ldqkv; i += ldqkv)
        for (int c = 0; c < HD; c++) qkv[i + c] *= qscale;
    /* queries of window w start at w*Lq rows; keys/values of window w at w*Lk rows */
    const float *q = qkv, *k = qkv + HD, *v = qkv + 2 * HD;
    const size_t out_n = (size_t)nwin * Lq * ldo;
    float *out = ops_alloc(out_n);
    for (size_t i = 0; i < out_n; i++) out[i] = 12345.0f;
    size_t sn = nwin == 1 && heads == 1 ? attention_scratch_floats(Lq, Lk)
                                        : attention_batched_scratch_floats(nwin, heads, Lq, Lk);
    float *scratch = ops_alloc(sn); /* exact size: ASan catches any overrun */
    if (nwin == 1 && heads == 1)
        X->attention(out, ldo, q, ldqkv, k, ldqkv, v, ldqkv, Lq, Lk, D, scratch);
    else
        X->attention_batched(out, ldo, q, ldqkv, k, ldqkv, v, ldqkv, nwin, heads, Lq, Lk, D,
                             scratch);
    const int nrows = check_rows > 0 && check_rows < Lq ? check_rows : Lq;
    float *ref = ops_alloc((size_t)D), *got = ops_alloc((size_t)D);
    double worst = 0;
    for (int w = 0; w < nwin; w++)
        for (int h = 0; h < heads; h++)
            for (int t = 0; t < nrows; t++) {
                const int i = nrows == Lq ? t : (int)(((int64_t)t * 7919) % Lq);
                const size_t qo = ((size_t)w * Lq + i) * ldqkv + (size_t)h * D;
                const size_t ko = (size_t)w * Lk * ldqkv + (size_t)h * D;
                R->attention(ref, D, q + qo, ldqkv, k + ko, ldqkv, v + ko, ldqkv, 1, Lk, D, NULL);
                memcpy(got, out + ((size_t)w * Lq + i) * ldo + (size_t)h * D, sizeof(float) * D);
                worst = fmax(worst, ops_rel_err(got, ref, D));
            }
    char what[128];
    snprintf(what, sizeof what, "attention nwin=%d heads=%d Lq=%d Lk=%d D=%d", nwin, heads, Lq, Lk,
             D);
    check(worst, tol, what);
    for (size_t r = 0; r < (size_t)nwin * Lq; r++)
        for (int c = HD; c < ldo; c++)
            if (out[r * ldo + c] != 12345.0f) fail_msg("%s wrote outside its columns", what);
    free(qkv), free(out), free(scratch), free(ref), free(got);
}

static void attention_case(int nwin, int heads, int Lq, int Lk, int D, int check_rows,
                           float qscale) {
    attention_case_tol(nwin, heads, Lq, Lk, D, check_rows, qscale, TOL_ATTN);
}

static void test_attention(void **state) {
    (void)state;
    attention_case(1, 1, 1, 1, 1, 0, 1);
    attention_case(1, 1, 5, 7, 3, 0, 2);
    attention_case(1, 1, 100, 37, 16, 0, 3);
    attention_case(1, 1, 17, 300, 32, 0, 3);
    attention_case(1, 1, 7, 4096, 16, 0, 3);   /* decoder: tokens to image */
    attention_case(1, 1, 4096, 7, 16, 64, 3);  /* decoder: image to tokens */
    attention_case(1, 1, 70, 600, 256, 0, 1);  /* wide heads, several key chunks */
    attention_case(1, 1, 33, 50, 300, 0, 1);   /* D over one packing pass, not a multiple of 16 */
    attention_case(1, 1, 40, 20000, 16, 0, 3); /* long keys: smaller query blocks */
    attention_case(1, 1, BIG(4096, 1024), BIG(4096, 1024), 64, 48, 4); /* sampled rows */
    /* Scores of magnitude ~100 (differences beyond exp's range) with D over two packing passes:
     * the column maxima must come from the complete sums. Float rounding of such scores is
     * ~100 * 6e-8, hence the looser bound. */
    attention_case_tol(1, 1, 20, 30, 200, 0, 100, 2e-5);
}

static void test_attention_batched(void **state) {
    (void)state;
    attention_case(1, 1, 1, 1, 1, 0, 1);
    attention_case(3, 2, 16, 64, 8, 0, 3);   /* q-pooled windows */
    attention_case(64, 1, 64, 64, 96, 0, 3); /* Hiera-T stage 1 windows 8x8 */
    attention_case(16, 2, 16, 16, 96, 0, 3); /* stage 2 windows 4x4 */
    attention_case(4, 8, 49, 49, 96, 0, 3);  /* stage 4 windows 7x7 */
    attention_case(5, 4, 9, 36, 4, 0, 3);    /* MICRO: windows 6 pooled to 3 */
    attention_case(1, 4, BIG(4096, 1024), BIG(4096, 1024), 96, 24, 4); /* global, sampled rows */
}

/* Values of their own width (attention_dv): q, k rows of D, v rows of Dv, with row strides
 * and output columns beyond Dv that must stay untouched. key_ramp > 0 scales key j by
 * 1 + key_ramp * j / Lk, so later key chunks hold the larger scores and the running maxima of
 * the online softmax keep moving (earlier partial sums are rescaled, some down to zero). */
static void attention_dv_case(int Lq, int Lk, int D, int Dv, float qscale, float key_ramp,
                              double tol) {
    const int ldq = D + 3, ldk = D + 1, ldv = Dv + 2, ldo = Dv + 5;
    float *q = ops_random((size_t)Lq * ldq, qscale), *k = ops_random((size_t)Lk * ldk, 1),
          *v = ops_random((size_t)Lk * ldv, 1);
    for (int j = 0; j < Lk; j++)
        for (int c = 0; c < D; c++) k[(size_t)j * ldk + c] *= 1.0f + key_ramp * j / Lk;
    float *out = ops_alloc((size_t)Lq * ldo), *ref = ops_alloc((size_t)Lq * Dv);
    for (size_t i = 0; i < (size_t)Lq * ldo; i++) out[i] = 12345.0f;
    float *scratch = ops_alloc(attention_scratch_floats(Lq, Lk));
    X->attention_dv(out, ldo, q, ldq, k, ldk, v, ldv, Lq, Lk, D, Dv, scratch);
    R->attention_dv(ref, Dv, q, ldq, k, ldk, v, ldv, Lq, Lk, D, Dv, NULL);
    char what[128];
    snprintf(what, sizeof what, "attention_dv Lq=%d Lk=%d D=%d Dv=%d ramp=%g", Lq, Lk, D, Dv,
             key_ramp);
    double worst = 0;
    for (int i = 0; i < Lq; i++) {
        worst = fmax(worst, ops_rel_err(out + (size_t)i * ldo, ref + (size_t)i * Dv, Dv));
        for (int c = Dv; c < ldo; c++)
            if (out[(size_t)i * ldo + c] != 12345.0f)
                fail_msg("%s wrote outside its columns", what);
    }
    check(worst, tol, what);
    free(q), free(k), free(v), free(out), free(ref), free(scratch);
}

static void test_attention_dv(void **state) {
    (void)state;
    attention_dv_case(1, 1, 1, 1, 1, 0, TOL_ATTN);
    attention_dv_case(7, 13, 5, 3, 2, 0, TOL_ATTN);
    attention_dv_case(100, 700, 256, 64, 1, 0, TOL_ATTN); /* memory attention's cross-attention */
    attention_dv_case(50, 600, 32, 100, 3, 0, TOL_ATTN);  /* values wider than the keys */
    /* Maxima rising chunk after chunk; early chunks' weights vanish. The ramped scores reach
     * ~10-100, whose float rounding sets the looser bound (as in test_attention). */
    attention_dv_case(97, 1500, 64, 64, 3, 4, 2e-5);
    attention_dv_case(20, 900, 16, 24, 30, 8, 2e-5);
    attention_dv_case(9, 1000, 300, 17, 1, 1, TOL_ATTN); /* D over one packing pass */
    attention_dv_case(33, 512, 48, 40, 3, 4, 2e-5);      /* whole chunks only */
}

/* --- convolutions ----------------------------------------------------------------------------- */

static void conv_case(int H, int W, int IC, int OC, int K, int stride, int pad, int groups,
                      int bias) {
    const int OH = (H + 2 * pad - K) / stride + 1, OW = (W + 2 * pad - K) / stride + 1;
    float *in = ops_random((size_t)H * W * IC, 1),
          *w = ops_random((size_t)OC * (IC / groups) * K * K, 0.3f);
    float *b = bias ? ops_random(OC, 1) : NULL;
    float *r = ops_alloc((size_t)OH * OW * OC), *x = ops_alloc((size_t)OH * OW * OC);
    float *scratch = ops_alloc(conv2d_scratch_floats(H, W, IC, OC, K, K, stride, pad, groups));
    R->conv2d(r, in, w, b, H, W, IC, OC, K, K, stride, pad, groups, NULL);
    X->conv2d(x, in, w, b, H, W, IC, OC, K, K, stride, pad, groups, scratch);
    char what[128];
    snprintf(what, sizeof what, "conv2d %dx%dx%d->%d k%d s%d p%d g%d", H, W, IC, OC, K, stride, pad,
             groups);
    check(ops_rel_err(x, r, (size_t)OH * OW * OC), TOL_GEMM, what);
    free(in), free(w), free(b), free(r), free(x), free(scratch);
}

static void test_conv2d(void **state) {
    (void)state;
    conv_case(9, 11, 3, 8, 7, 4, 3, 1, 1);
    conv_case(BIG(512, 300), 512, 3, 96, 7, 4, 3, 1,
              1);                             /* patch embedding, several im2col blocks */
    conv_case(10, 12, 32, 16, 1, 1, 0, 1, 1); /* 1x1 */
    conv_case(10, 12, 32, 16, 1, 2, 0, 1, 0); /* 1x1 stride 2 */
    conv_case(13, 7, 5, 6, 3, 1, 1, 1, 1);
    conv_case(13, 7, 5, 6, 3, 2, 1, 1, 0);
    conv_case(16, 16, 1, 4, 2, 2, 0, 1, 1);                /* mask downscaling */
    conv_case(16, 16, 4, 16, 4, 4, 0, 1, 1);               /* mask downsampler */
    conv_case(10, 10, 2, 3, 3, 3, 0, 1, 1);                /* stride not dividing */
    conv_case(8, 8, 6, 9, 3, 1, 1, 3, 1);                  /* grouped */
    conv_case(20, 17, 32, 32, 7, 1, 3, 32, 1);             /* depthwise */
    conv_case(9, 9, 8, 8, 3, 2, 1, 8, 0);                  /* depthwise strided */
    conv_case(BIG(64, 16), 64, 256, 256, 7, 1, 3, 256, 1); /* memory encoder CXBlock */
    conv_case(9, 10, 64, 20, 3, 1, 1, 1, 1);               /* 576 taps: OpenBLAS path */
    /* 3x3 pad 1 by rows without im2col: RepViT's stem, odd sizes, borders, panel tails */
    conv_case(BIG(101, 37), 42, 3, 24, 3, 2, 1, 1, 1);
    conv_case(20, 19, 24, 48, 3, 2, 1, 1, 1);
    conv_case(7, 9, 300, 17, 3, 1, 1, 1, 0);
    conv_case(2, 1, 5, 3, 3, 2, 1, 1, 1);
    conv_case(5, 5, 400, 8, 3, 1, 1, 1, 1); /* 1200 inputs per kernel row: im2col */
    conv_case(1, 1, 1, 1, 1, 1, 0, 1, 1);
}

static void test_conv_identity(void **state) {
    (void)state;
    /* 3x3 kernel that is 1 at the centre for o == i: output == input */
    const int H = 5, W = 6, C = 3;
    float *in = ops_random((size_t)H * W * C, 1), w[3 * 3 * 9] = {0}, out[5 * 6 * 3];
    for (int o = 0; o < C; o++) w[((o * C + o) * 3 + 1) * 3 + 1] = 1.0f;
    const sam2_backend *bes[] = {R, X};
    float scratch[4096];
    assert_true(conv2d_scratch_floats(H, W, C, C, 3, 3, 1, 1, 1) <= 4096);
    for (int i = 0; i < 2; i++) {
        bes[i]->conv2d(out, in, w, NULL, H, W, C, C, 3, 3, 1, 1, 1, scratch);
        assert_int_equal(ops_bit_diffs(out, in, (size_t)H * W * C), 0);
    }
    free(in);
}

static void conv_t_case(int H, int W, int IC, int OC, int bias) {
    float *in = ops_random((size_t)H * W * IC, 1), *w = ops_random((size_t)IC * OC * 4, 0.3f);
    float *b = bias ? ops_random(OC, 1) : NULL;
    const size_t n = (size_t)4 * H * W * OC;
    float *r = ops_alloc(n), *x = ops_alloc(n),
          *scratch = ops_alloc(conv_t2x2_scratch_floats(H, W, IC, OC));
    R->conv_transpose2x2(r, in, w, b, H, W, IC, OC, NULL);
    X->conv_transpose2x2(x, in, w, b, H, W, IC, OC, scratch);
    char what[96];
    snprintf(what, sizeof what, "conv_transpose2x2 %dx%dx%d->%d", H, W, IC, OC);
    check(ops_rel_err(x, r, n), TOL_GEMM, what);
    free(in), free(w), free(b), free(r), free(x), free(scratch);
}

static void test_conv_transpose(void **state) {
    (void)state;
    conv_t_case(1, 1, 1, 1, 1);
    conv_t_case(5, 7, 16, 8, 0);
    conv_t_case(BIG(64, 16), 64, 256, 64, 1); /* decoder upscaling */
    conv_t_case(40, 300, 8, 300, 1);
    conv_t_case(3, 40, 600, 300, 1); /* long reduction: OpenBLAS path, several blocks */
    conv_t_case(2, 3, 513, 5, 0);
    /* hand-computed: one pixel 2, weights 1..4, bias 0.5 -> [[2.5, 4.5], [6.5, 8.5]] */
    const float in = 2.0f, w[4] = {1, 2, 3, 4}, b = 0.5f, want[4] = {2.5f, 4.5f, 6.5f, 8.5f};
    float out[4], scratch[64];
    assert_true(conv_t2x2_scratch_floats(1, 1, 1, 1) <= 64);
    R->conv_transpose2x2(out, &in, w, &b, 1, 1, 1, 1, NULL);
    for (int i = 0; i < 4; i++) assert_true(out[i] == want[i]);
    X->conv_transpose2x2(out, &in, w, &b, 1, 1, 1, 1, scratch);
    for (int i = 0; i < 4; i++) assert_true(out[i] == want[i]);
}

static void test_pool_upsample(void **state) {
    (void)state;
    const int shapes[][3] = {{1, 1, 1}, {4, 6, 3}, {7, 9, 5}, {64, 64, 96}};
    for (int s = 0; s < 4; s++) {
        const int H = shapes[s][0], W = shapes[s][1], C = shapes[s][2];
        float *in = ops_random((size_t)H * W * C, 1);
        if (H * W * C > 10) in[10] = NAN;
        const size_t np = (size_t)(H / 2) * (W / 2) * C, nu = (size_t)4 * H * W * C;
        float *r = ops_alloc(nu), *x = ops_alloc(nu);
        R->maxpool2x2(r, in, H, W, C);
        X->maxpool2x2(x, in, H, W, C);
        assert_int_equal(ops_bit_diffs(x, r, np), 0);
        R->upsample_nearest2x(r, in, H, W, C);
        X->upsample_nearest2x(x, in, H, W, C);
        assert_int_equal(ops_bit_diffs(x, r, nu), 0);
        free(in), free(r), free(x);
    }
    /* known: max of each 2x2 block, NaN wins */
    const float in[16] = {1, 5, 2, 0, 3, 4, NAN, 9, 0, 0, 0, 0, -1, 0, 0, 0};
    float out[4];
    X->maxpool2x2(out, in, 4, 4, 1);
    assert_true(out[0] == 5 && isnan(out[1]) && out[2] == 0 && out[3] == 0);
}

/* --- EdgeTAM ops: depthwise conv (+ bias, activation, channel means), pointwise MLP, rope --- */

static void depthwise_case(int H, int W, int C, int K, int stride, int pad, sam2_act act,
                           int with_mean) {
    const int OH = (H + 2 * pad - K) / stride + 1, OW = (W + 2 * pad - K) / stride + 1;
    float *in = ops_random((size_t)H * W * C, 2), *w = ops_random((size_t)C * K * K, 0.5f);
    float *b = ops_random(C, 1);
    float *r = ops_alloc((size_t)OH * OW * C), *x = ops_alloc((size_t)OH * OW * C);
    float *mr = ops_alloc(C), *mx = ops_alloc(C);
    float *scratch = ops_alloc(depthwise_scratch_floats(C, K, OH));
    R->depthwise_conv(r, in, w, b, H, W, C, K, stride, pad, act, with_mean ? mr : NULL, NULL);
    X->depthwise_conv(x, in, w, b, H, W, C, K, stride, pad, act, with_mean ? mx : NULL, scratch);
    char what[96];
    snprintf(what, sizeof what, "depthwise %dx%dx%d k%d s%d p%d act%d", H, W, C, K, stride, pad,
             (int)act);
    check(ops_rel_err(x, r, (size_t)OH * OW * C), 2e-6, what);
    if (with_mean) check(ops_rel_err(mx, mr, C), 2e-6, "depthwise channel means");
    /* the mean does not depend on the thread count (fixed reduction order) */
    if (with_mean) {
        pool_set_threads(1);
        X->depthwise_conv(x, in, w, b, H, W, C, K, stride, pad, act, mr, scratch);
        pool_set_threads(0);
        assert_memory_equal(mr, mx, sizeof(float) * C);
    }
    free(in), free(w), free(b), free(r), free(x), free(mr), free(mx), free(scratch);
}

static void test_depthwise(void **state) {
    (void)state;
    /* RepViT: 3x3 stride 1 and 2 at 48..384 channels; odd sizes and channel tails */
    depthwise_case(BIG(64, 16), BIG(64, 16), 48, 3, 1, 1, SAM2_ACT_NONE, 1);
    depthwise_case(BIG(32, 12), BIG(32, 12), 96, 3, 2, 1, SAM2_ACT_NONE, 0);
    depthwise_case(9, 7, 384, 3, 2, 1, SAM2_ACT_GELU, 1);
    depthwise_case(11, 13, 69, 3, 1, 1, SAM2_ACT_RELU, 1);
    depthwise_case(5, 6, 3, 7, 1, 3, SAM2_ACT_NONE, 1);
    depthwise_case(1, 1, 200, 3, 1, 1, SAM2_ACT_GELU, 1);
    depthwise_case(6, 5, 125, 3, 2, 1, SAM2_ACT_RELU, 1); /* 64 + 7 vectors + 5 */
}

static void mlp_case(int N, int C, int Hd, int with_scale, int with_bias, sam2_act act,
                     int in_place) {
    float *in = ops_random((size_t)N * C, 2), *w1 = ops_random((size_t)Hd * C, 0.3f);
    float *w2 = ops_random((size_t)C * Hd, 0.3f);
    float *b1 = with_bias ? ops_random(Hd, 1) : NULL, *b2 = with_bias ? ops_random(C, 1) : NULL;
    float *scale = with_scale ? ops_random(C, 1) : NULL;
    float *r = ops_alloc((size_t)N * C),
          *x = in_place ? ops_copy(in, (size_t)N * C) : ops_alloc((size_t)N * C);
    float *rs = ops_alloc((size_t)C + Hd);
    float *scratch = ops_alloc(pointwise_mlp_scratch_floats(N, C, Hd));
    R->pointwise_mlp(r, in, scale, w1, b1, w2, b2, N, C, Hd, act, rs);
    X->pointwise_mlp(x, in_place ? x : in, scale, w1, b1, w2, b2, N, C, Hd, act, scratch);
    char what[96];
    snprintf(what, sizeof what, "pointwise_mlp %d x %d -> %d scale=%d bias=%d act=%d inplace=%d", N,
             C, Hd, with_scale, with_bias, (int)act, in_place);
    check(ops_rel_err(x, r, (size_t)N * C), TOL_GEMM, what);
    free(in), free(w1), free(w2), free(b1), free(b2), free(scale), free(r), free(x), free(rs);
    free(scratch);
}

static void test_pointwise_mlp(void **state) {
    (void)state;
    mlp_case(BIG(1000, 100), 48, 96, 1, 1, SAM2_ACT_GELU, 0);
    mlp_case(BIG(300, 50), 96, 192, 0, 1, SAM2_ACT_GELU, 1);
    mlp_case(37, 384, 768, 1, 1, SAM2_ACT_GELU, 1);
    mlp_case(13, 20, 33, 1, 0, SAM2_ACT_RELU, 0);
    mlp_case(1, 7, 5, 0, 0, SAM2_ACT_NONE, 0);
}

static void test_rope(void **state) {
    (void)state;
    /* keys of 3 memory frames of 4 + 6 latents, the first 4 of each frame not rotated, then
     * 5 pointer tokens outside the periods (n covers only the frames) */
    const int dim = 8, half = 4, rows = 6, period = 10, skip = 4, n = 30, ld = 12;
    float *cos_t = ops_random((size_t)rows * half, 1), *sin_t = ops_random((size_t)rows * half, 1);
    float *x0 = ops_random((size_t)(n + 5) * ld, 1);
    float *r = ops_copy(x0, (size_t)(n + 5) * ld), *x = ops_copy(x0, (size_t)(n + 5) * ld);
    R->rope(r, n, ld, dim, cos_t, sin_t, rows, period, skip);
    X->rope(x, n, ld, dim, cos_t, sin_t, rows, period, skip);
    check(ops_rel_err(x, r, (size_t)(n + 5) * ld), 2e-7, "rope v2 keys");
    for (int t = 0; t < n + 5; t++) {
        const int unchanged = t >= n || t % period < skip;
        for (int c = 0; c < ld; c++) {
            const size_t i = (size_t)t * ld + c;
            if (unchanged || c >= dim) assert_true(r[i] == x0[i]);
        }
        if (!unchanged) { /* row t uses table row (t % period - skip) */
            const int tr = t % period - skip;
            const float a = x0[(size_t)t * ld], b = x0[(size_t)t * ld + 1];
            const float c = cos_t[(size_t)tr * half], s = sin_t[(size_t)tr * half];
            assert_true(fabs(r[(size_t)t * ld] - (a * c - b * s)) < 1e-6);
        }
    }
    free(cos_t), free(sin_t), free(x0), free(r), free(x);
}

static void test_backend_select(void **state) {
    (void)state;
    assert_string_equal(R->name, "ref");
    assert_string_equal(X->name, "cpu");
    setenv("SAM2_BACKEND", "ref", 1);
    assert_ptr_equal(sam2_backend_default(), R);
    setenv("SAM2_BACKEND", "cpu", 1);
    assert_ptr_equal(sam2_backend_default(), X);
    unsetenv("SAM2_BACKEND");
    assert_ptr_equal(sam2_backend_default(), X);
}

/* The kernel set switch: SAM2_KERNELS picks the first choice (checked through `sam2 doctor` in
 * test_cli_doctor), cpu_kernels_use() switches later, and a set this machine cannot run is
 * refused. */
static void test_kernel_sets(void **state) {
    (void)state;
    const cpu_isa now = cpu_isa_active();
    assert_true(cpu_isa_available(CPU_ISA_BASELINE));
    for (int i = 0; i < CPU_ISA_COUNT; i++) {
        const cpu_kernels *k = cpu_kernels_of((cpu_isa)i);
        assert_int_equal(k != NULL, cpu_isa_available((cpu_isa)i));
        if (!k) {
            assert_int_equal(cpu_kernels_use((cpu_isa)i), -1);
            continue;
        }
        assert_int_equal(k->isa, i);
        assert_true(k->direct_gemm == (k->linear_tiles != NULL));
        assert_int_equal(cpu_kernels_use((cpu_isa)i), 0);
        assert_ptr_equal(cpu_kernels_get(), k);
    }
#if defined(__x86_64__) && defined(SAM2_AVX2_KERNELS)
    __builtin_cpu_init();
    assert_int_equal(cpu_isa_available(CPU_ISA_AVX2),
                     __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
#endif
#if defined(__aarch64__) && defined(SAM2_NEON_KERNELS)
    assert_true(cpu_isa_available(CPU_ISA_NEON));
#endif
    assert_false(cpu_isa_available(CPU_ISA_COUNT));
    assert_int_equal(cpu_kernels_use(now), 0);
}

int main(void) {
    R = sam2_backend_ref();
    X = sam2_backend_cpu();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_layernorm),
        cmocka_unit_test(test_gelu),
        cmocka_unit_test(test_gelu_known),
        cmocka_unit_test(test_sigmoid_relu_add),
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_attention),
        cmocka_unit_test(test_attention_batched),
        cmocka_unit_test(test_attention_dv),
        cmocka_unit_test(test_conv2d),
        cmocka_unit_test(test_conv_identity),
        cmocka_unit_test(test_conv_transpose),
        cmocka_unit_test(test_pool_upsample),
        cmocka_unit_test(test_depthwise),
        cmocka_unit_test(test_pointwise_mlp),
        cmocka_unit_test(test_rope),
        cmocka_unit_test(test_backend_select),
        cmocka_unit_test(test_kernel_sets),
    };
    int rc = 0, sets = 0;
    for (int i = 0; i < CPU_ISA_COUNT; i++) {
        if (!cpu_isa_available((cpu_isa)i)) continue;
        cpu_kernels_use((cpu_isa)i);
        ops_seed(1);
        char name[64];
        snprintf(name, sizeof name, "ops with the %s kernels", cpu_isa_name((cpu_isa)i));
        rc |= cmocka_run_group_tests_name(name, tests, NULL, NULL);
        sets++;
    }
    print_message("%d kernel sets tested\n", sets);
    pool_shutdown();
    return rc;
}
