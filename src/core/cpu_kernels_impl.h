/* Internal: the template every kernel table (cpu_kernels.h) is built from. A cpu_kernels_<isa>.c
 * file includes its micro-kernel header (ukernel(), pack_transposed()) and, for vector sets, its
 * vector maths (v8f, v8_*), then defines
 *   KERNELS_TABLE        the table's name (cpu_kernels_avx2, ...)
 *   KERNELS_ISA          its cpu_isa
 *   KERNELS_V8           1 when v8_* exist (else the element-wise and row-wise maths are
 *                        plain C on libm)
 *   KERNELS_DIRECT_GEMM  1 when the linear layers run linear_tiles (else OpenBLAS)
 * and includes this file once. Nothing here depends on the instruction set but through those,
 * so the AVX2 and NEON sets round alike (same polynomials, same 8-lane partial sums). */
#ifndef KERNELS_TABLE
#error "define KERNELS_TABLE, KERNELS_ISA, KERNELS_V8 and KERNELS_DIRECT_GEMM first"
#endif

#include "core/cpu_kernels.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifndef ATTN_OUT_PREFETCH
#define ATTN_OUT_PREFETCH 1 /* software prefetch in the attention output tiles */
#endif

/* --- element-wise -------------------------------------------------------------------------- */

#if KERNELS_V8
/* Applies a vector function to n floats; the tail goes through a zero-padded vector so every
 * element gets the same arithmetic wherever it sits. */
#define SPAN_UNARY(NAME, VEXPR)                                                                    \
    static void NAME(float *out, const float *in, const float *unused, size_t n) {                 \
        (void)unused;                                                                              \
        size_t i = 0;                                                                              \
        for (; i + 8 <= n; i += 8) {                                                               \
            v8f x = v8_load(in + i);                                                               \
            v8_store(out + i, (VEXPR));                                                            \
        }                                                                                          \
        if (i < n) {                                                                               \
            float buf[8] = {0};                                                                    \
            memcpy(buf, in + i, sizeof(float) * (n - i));                                          \
            v8f x = v8_load(buf);                                                                  \
            v8_store(buf, (VEXPR));                                                                \
            memcpy(out + i, buf, sizeof(float) * (n - i));                                         \
        }                                                                                          \
    }

static inline v8f v8_gelu(v8f x) {
    v8f e = v8_erf(v8_mul(x, v8_set1((float)M_SQRT1_2)));
    return v8_mul(v8_mul(x, v8_set1(0.5f)), v8_add(v8_set1(1.0f), e));
}
static inline v8f v8_sigmoid(v8f x) {
    v8f e = v8_exp(v8_sub(v8_zero(), x));
    return v8_div(v8_set1(1.0f), v8_add(v8_set1(1.0f), e));
}
SPAN_UNARY(gelu_span, v8_gelu(x))
SPAN_UNARY(sigmoid_span, v8_sigmoid(x))
SPAN_UNARY(relu_span, v8_relu(x))
#undef SPAN_UNARY
#else
static void gelu_span(float *out, const float *in, const float *unused, size_t n) {
    (void)unused;
    for (size_t i = 0; i < n; i++) out[i] = in[i] * 0.5f * (1.0f + erff(in[i] * (float)M_SQRT1_2));
}
static void sigmoid_span(float *out, const float *in, const float *unused, size_t n) {
    (void)unused;
    for (size_t i = 0; i < n; i++) out[i] = 1.0f / (1.0f + expf(-in[i]));
}
static void relu_span(float *out, const float *in, const float *unused, size_t n) {
    (void)unused;
    for (size_t i = 0; i < n; i++) out[i] = in[i] < 0.0f ? 0.0f : in[i];
}
#endif

/* --- LayerNorm ------------------------------------------------------------------------------ */

static void layernorm_row(float *y, const float *x, const float *w, const float *b, int C,
                          float eps) {
    int c = 0;
    float sum = 0.0f;
#if KERNELS_V8
    v8f vs = v8_zero();
    for (; c + 8 <= C; c += 8) vs = v8_add(vs, v8_load(x + c));
    sum = v8_hsum(vs);
#endif
    for (; c < C; c++) sum += x[c];
    const float mean = sum / (float)C;
    float ss = 0.0f;
    c = 0;
#if KERNELS_V8
    v8f vm = v8_set1(mean), vq = v8_zero();
    for (; c + 8 <= C; c += 8) {
        v8f d = v8_sub(v8_load(x + c), vm);
        vq = v8_fmadd(d, d, vq);
    }
    ss = v8_hsum(vq);
#endif
    for (; c < C; c++) ss += (x[c] - mean) * (x[c] - mean);
    const float var = ss / (float)C;
    const float rstd = 1.0f / sqrtf(var + eps);
    /* (x - mean) * rstd rather than PyTorch's x * rstd - mean * rstd: the same value up to
     * rounding, without the cancellation when |mean| >> std (or a fused multiply-add)
     * turning the rounding error of the large products into the result. */
    if (w && b) {
        for (c = 0; c < C; c++) y[c] = (x[c] - mean) * rstd * w[c] + b[c];
    } else {
        for (c = 0; c < C; c++) {
            float t = (x[c] - mean) * rstd;
            if (w) t *= w[c];
            if (b) t += b[c];
            y[c] = t;
        }
    }
}

static void layernorm_rows(float *out, const float *in, const float *w, const float *b,
                           int64_t rows, int C, float eps) {
    for (int64_t r = 0; r < rows; r++) layernorm_row(out + r * C, in + r * C, w, b, C, eps);
}

/* --- softmax ------------------------------------------------------------------------------ */

/* Softmax of one row in place: subtract the max, exponentiate, scale by 1/sum (as PyTorch's
 * vectorised softmax over the last dimension). */
static void softmax_row(float *x, int n) {
    int c = 0;
    float m = -INFINITY;
#if KERNELS_V8
    v8f vm = v8_set1(-INFINITY);
    for (; c + 8 <= n; c += 8) vm = v8_max(vm, v8_load(x + c));
    m = v8_hmax(vm);
#endif
    for (; c < n; c++) m = x[c] > m ? x[c] : m;
    float sum = 0.0f;
    c = 0;
#if KERNELS_V8
    v8f vmax = v8_set1(m), vs = v8_zero();
    for (; c + 8 <= n; c += 8) {
        v8f e = v8_exp(v8_sub(v8_load(x + c), vmax));
        v8_store(x + c, e);
        vs = v8_add(vs, e);
    }
    if (c < n) {
        float buf[8];
        for (int i = 0; i < 8; i++) buf[i] = c + i < n ? x[c + i] : m;
        v8f e = v8_exp(v8_sub(v8_load(buf), vmax));
        v8_store(buf, e);
        for (int i = 0; c + i < n; i++) {
            x[c + i] = buf[i];
            sum += buf[i];
        }
        c = n;
    }
    sum += v8_hsum(vs);
#endif
    for (; c < n; c++) {
        x[c] = expf(x[c] - m);
        sum += x[c];
    }
    const float inv = 1.0f / sum;
    for (c = 0; c < n; c++) x[c] *= inv;
}

static void softmax_rows(float *x, int64_t rows, int cols) {
    for (int64_t r = 0; r < rows; r++) softmax_row(x + r * cols, cols);
}

static void pack(float *qt, const float *q, int ldq, int nq, int bqp, int d0, int dc, float scale) {
    pack_transposed(qt, q, ldq, nq, bqp, d0, dc, scale);
}

/* --- linear tiles ------------------------------------------------------------------------------
 */

#if KERNELS_DIRECT_GEMM
#define LIN_CASE(MR)                                                                               \
    case MR:                                                                                       \
        if (accumulate) {                                                                          \
            if (nr == 16)                                                                          \
                ukernel(MR, K, a, lda, 1, b, 16, c, ldc, 16, 0, 1, NULL, NULL, NULL, 0);           \
            else                                                                                   \
                ukernel(MR, K, a, lda, 1, b, 16, c, ldc, nr, 1, 1, NULL, NULL, NULL, 0);           \
        } else {                                                                                   \
            if (nr == 16)                                                                          \
                ukernel(MR, K, a, lda, 1, b, 16, c, ldc, 16, 0, 0, bias, NULL, NULL, 0);           \
            else                                                                                   \
                ukernel(MR, K, a, lda, 1, b, 16, c, ldc, nr, 1, 0, bias, NULL, NULL, 0);           \
        }                                                                                          \
        break;
/* One tile: mr <= 6 rows of `a` (stride lda) times a packed panel [K][16], nr valid columns;
 * either C = bias + A B or C += A B. */
static inline void lin_tile(int mr, int K, const float *a, int lda, const float *b, float *c,
                            int ldc, int nr, const float *bias, int accumulate) {
    static const float zeros[16];
    if (!bias) bias = zeros;
    switch (mr) {
        LIN_CASE(6)
        LIN_CASE(5)
        LIN_CASE(4)
        LIN_CASE(3)
        LIN_CASE(2)
    default:
        LIN_CASE(1)
    }
}
#undef LIN_CASE

static void linear_tiles(int rows, int K, const float *a, int lda, const float *pk, int np,
                         int ncols, float *c, int ldc, const float *bias, int accumulate) {
    for (int i0 = 0; i0 < rows; i0 += 6) {
        const int mr = rows - i0 < 6 ? rows - i0 : 6;
        for (int p = 0; p < np; p++) {
            const int c0 = 16 * p, nc = ncols - c0 < 16 ? ncols - c0 : 16;
            lin_tile(mr, K, a + (size_t)i0 * lda, lda, pk + (size_t)p * K * 16,
                     c + (size_t)i0 * ldc + c0, ldc, nc, bias ? bias + c0 : NULL, accumulate);
        }
    }
}
#endif

/* --- depthwise convolution ------------------------------------------------------------------ */

static inline float dw_act1(float x, int act) {
    if (act == 1) return x < 0.0f ? 0.0f : x;
    if (act == 2) return 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2));
    return x;
}

/* The window of one output pixel: corner (y0, x0) of the input, taps [ky0, ky1) x [kx0, kx1)
 * inside the image (the others read zero padding and are skipped). */
typedef struct dw_window {
    int y0, x0, ky0, ky1, kx0, kx1;
} dw_window;

/* Channels [c0, c0 + n) of one output pixel, n <= 64, in plain C: the taps go outermost so
 * the inner loop runs over contiguous channels. */
static void dw_channels(const cpu_depthwise *d, const dw_window *win, float *o, int c0, int n,
                        float *sums) {
    float acc[64];
    for (int c = 0; c < n; c++) acc[c] = d->b ? d->b[c0 + c] : 0.0f;
    for (int ky = win->ky0; ky < win->ky1; ky++)
        for (int kx = win->kx0; kx < win->kx1; kx++) {
            const float *src = d->in + ((size_t)(win->y0 + ky) * d->W + (win->x0 + kx)) * d->C + c0;
            const float *w = d->wr + ((size_t)ky * d->K + kx) * d->C + c0;
            for (int c = 0; c < n; c++) acc[c] += src[c] * w[c];
        }
    for (int c = 0; c < n; c++) {
        const float r = dw_act1(acc[c], d->act);
        o[c0 + c] = r;
        if (sums) sums[c0 + c] += r;
    }
}

#if KERNELS_V8
static inline v8f dw_act8(v8f x, int act) {
    if (act == 1) return v8_relu(x);
    if (act == 2) return v8_gelu(x);
    return x;
}

/* Channels [c0, c0 + 8 NV) of one output pixel; the NV accumulators stay in registers over
 * the taps (two loads and one FMA per vector and tap). */
static inline __attribute__((always_inline)) void dw_block(const cpu_depthwise *d,
                                                           const dw_window *win, float *o,
                                                           float *sums, int c0, const int NV) {
    v8f acc[8];
    for (int v = 0; v < NV; v++) acc[v] = d->b ? v8_load(d->b + c0 + 8 * v) : v8_zero();
    for (int ky = win->ky0; ky < win->ky1; ky++)
        for (int kx = win->kx0; kx < win->kx1; kx++) {
            const float *src = d->in + ((size_t)(win->y0 + ky) * d->W + (win->x0 + kx)) * d->C + c0;
            const float *w = d->wr + ((size_t)ky * d->K + kx) * d->C + c0;
            for (int v = 0; v < NV; v++)
                acc[v] = v8_fmadd(v8_load(src + 8 * v), v8_load(w + 8 * v), acc[v]);
        }
    for (int v = 0; v < NV; v++) {
        const v8f r = dw_act8(acc[v], d->act);
        v8_store(o + c0 + 8 * v, r);
        if (sums) v8_store(sums + c0 + 8 * v, v8_add(v8_load(sums + c0 + 8 * v), r));
    }
}
#endif

static void dw_pixel(const cpu_depthwise *d, int oy, int ox, float *sums) {
    const int K = d->K, y0 = oy * d->stride - d->pad, x0 = ox * d->stride - d->pad;
    const dw_window win = {y0,
                           x0,
                           y0 < 0 ? -y0 : 0,
                           d->H - y0 < K ? d->H - y0 : K,
                           x0 < 0 ? -x0 : 0,
                           d->W - x0 < K ? d->W - x0 : K};
    float *o = d->out + ((size_t)oy * d->OW + ox) * d->C;
    const int C = d->C;
    int c0 = 0;
#if KERNELS_V8
    /* blocks of 64 channels, then one block of the remaining whole vectors (NV a constant in
     * each case, so the accumulators are registers) */
    for (; c0 + 64 <= C; c0 += 64) dw_block(d, &win, o, sums, c0, 8);
    switch ((C - c0) / 8) {
    case 7:
        dw_block(d, &win, o, sums, c0, 7);
        break;
    case 6:
        dw_block(d, &win, o, sums, c0, 6);
        break;
    case 5:
        dw_block(d, &win, o, sums, c0, 5);
        break;
    case 4:
        dw_block(d, &win, o, sums, c0, 4);
        break;
    case 3:
        dw_block(d, &win, o, sums, c0, 3);
        break;
    case 2:
        dw_block(d, &win, o, sums, c0, 2);
        break;
    case 1:
        dw_block(d, &win, o, sums, c0, 1);
        break;
    default:
        break;
    }
    c0 += (C - c0) / 8 * 8;
#endif
    for (; c0 < C; c0 += 64) dw_channels(d, &win, o, c0, C - c0 < 64 ? C - c0 : 64, sums);
}

static void depthwise_rows(const cpu_depthwise *d, int oy0, int oy1, float *sums) {
    for (int oy = oy0; oy < oy1; oy++)
        for (int ox = 0; ox < d->OW; ox++) dw_pixel(d, oy, ox, sums);
}

/* --- attention tiles ---------------------------------------------------------------------------
 */

/* Score tile rows: A = keys read in place (a_is = ldk, a_ks = 1), 16 columns, no mask;
 * cmax (or NULL) collects the column maxima. */
#define SCORE_CASE(MR)                                                                             \
    case MR:                                                                                       \
        if (cmax)                                                                                  \
            ukernel(MR, K, a, lda, 1, b, ldb, c, ldc, 16, 0, accumulate, NULL, NULL, cmax, 0);     \
        else                                                                                       \
            ukernel(MR, K, a, lda, 1, b, ldb, c, ldc, 16, 0, accumulate, NULL, NULL, NULL, 0);     \
        break;
static inline void kernel_scores(int mr, int K, const float *a, ptrdiff_t lda, const float *b,
                                 ptrdiff_t ldb, float *c, ptrdiff_t ldc, int accumulate,
                                 float *cmax) {
    switch (mr) {
        SCORE_CASE(6)
        SCORE_CASE(5)
        SCORE_CASE(4)
        SCORE_CASE(3)
        SCORE_CASE(2)
    default:
        SCORE_CASE(1)
    }
}
#undef SCORE_CASE

static void attn_scores(int kc, int dc, const float *k, int ldk, const float *qt, int bqp,
                        float *st, int accumulate, float *cmax) {
    for (int jj = 0; jj < kc; jj += 6) {
        const int mr = kc - jj < 6 ? kc - jj : 6;
        for (int p = 0; p < bqp; p += 16)
            kernel_scores(mr, dc, k + (size_t)jj * ldk, ldk, qt + p, bqp, st + (size_t)jj * bqp + p,
                          bqp, accumulate, cmax ? cmax + p : NULL);
    }
}

/* Exponentiates the chunk st[kc][bqp] in place against the column maxima m: exp(s - m);
 * adds each column's sum to sum[i] after scaling the old sum by alpha[i] (first chunk:
 * the sum starts from zero). */
static void attn_exp_columns(float *st, const float *m, const float *alpha, float *sum, int kc,
                             int bqp, int first) {
    for (int i = 0; i < bqp; i += 8) {
#if KERNELS_V8
        const v8f vm = v8_load(m + i);
        v8f s0 = v8_zero(), s1 = v8_zero();
        int j = 0;
        for (; j + 2 <= kc; j += 2) {
            float *p = st + (size_t)j * bqp + i;
            v8f e0 = v8_exp_nonpos(v8_sub(v8_load(p), vm));
            v8f e1 = v8_exp_nonpos(v8_sub(v8_load(p + bqp), vm));
            v8_store(p, e0);
            v8_store(p + bqp, e1);
            s0 = v8_add(s0, e0);
            s1 = v8_add(s1, e1);
        }
        if (j < kc) {
            float *p = st + (size_t)j * bqp + i;
            v8f e = v8_exp_nonpos(v8_sub(v8_load(p), vm));
            v8_store(p, e);
            s0 = v8_add(s0, e);
        }
        v8f s = v8_add(s0, s1);
        if (!first) s = v8_fmadd(v8_load(sum + i), v8_load(alpha + i), s);
        v8_store(sum + i, s);
#else
        for (int u = 0; u < 8; u++) {
            const float mu = m[i + u];
            float s = 0.0f;
            for (int j = 0; j < kc; j++) {
                float *p = &st[(size_t)j * bqp + i + u];
                *p = expf(*p - mu);
                s += *p;
            }
            sum[i + u] = first ? s : sum[i + u] * alpha[i + u] + s;
        }
#endif
    }
}

/* Output rows: A = probabilities read down the tile's columns (a_is = 1, a_ks = lda), B = V
 * in place, nr <= 16 columns. */
#define OUT_CASE(MR)                                                                               \
    case MR:                                                                                       \
        if (nr == 16)                                                                              \
            ukernel(MR, K, a, 1, lda, b, ldb, c, ldc, 16, 0, accumulate, NULL, rscale, NULL,       \
                    ATTN_OUT_PREFETCH);                                                            \
        else                                                                                       \
            ukernel(MR, K, a, 1, lda, b, ldb, c, ldc, nr, 1, accumulate, NULL, rscale, NULL,       \
                    ATTN_OUT_PREFETCH);                                                            \
        break;
static inline void kernel_output(int mr, int K, const float *a, ptrdiff_t lda, const float *b,
                                 ptrdiff_t ldb, float *c, ptrdiff_t ldc, int nr, int accumulate,
                                 const float *rscale) {
    switch (mr) {
        OUT_CASE(6)
        OUT_CASE(5)
        OUT_CASE(4)
        OUT_CASE(3)
        OUT_CASE(2)
    default:
        OUT_CASE(1)
    }
}
#undef OUT_CASE

static void attn_output(int nq, int kc, const float *st, int bqp, const float *v, int ldv, float *o,
                        int ldo, int Dv, int accumulate, const float *rscale) {
    for (int i0 = 0; i0 < nq; i0 += 6) {
        const int mr = nq - i0 < 6 ? nq - i0 : 6;
        for (int n0 = 0; n0 < Dv; n0 += 16) {
            const int nr = Dv - n0 < 16 ? Dv - n0 : 16;
            kernel_output(mr, kc, st + i0, bqp, v + n0, ldv, o + (size_t)i0 * ldo + n0, ldo, nr,
                          accumulate, rscale ? rscale + i0 : NULL);
        }
    }
}

/* --- the table ------------------------------------------------------------------------------ */

const cpu_kernels KERNELS_TABLE = {
    .isa = KERNELS_ISA,
    .direct_gemm = KERNELS_DIRECT_GEMM,
    .gelu = gelu_span,
    .sigmoid = sigmoid_span,
    .relu = relu_span,
    .layernorm_rows = layernorm_rows,
    .softmax_rows = softmax_rows,
    .pack_transposed = pack,
#if KERNELS_DIRECT_GEMM
    .linear_tiles = linear_tiles,
#endif
    .depthwise_rows = depthwise_rows,
    .attn_scores = attn_scores,
    .attn_exp_columns = attn_exp_columns,
    .attn_output = attn_output,
};
