/* Reference kernels: the definition of every op as plain loops, accumulating in double where
 * that is cheap. Slow on purpose; tests compare the optimised backend against these.
 *
 * The resize kernels are the exception to "more precise than float": they reproduce PyTorch's
 * float arithmetic step by step (index and weight computation, order of the sums), because
 * that arithmetic is the definition the golden data follow. Floating-point contraction is off
 * so a*b + c is rounded twice, as in ops_cpu_resize.c. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#include "core/ops.h"
#include "core/resize_weights.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

static void ref_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                     int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int k = 0; k < K; k++) {
                double a = trans_a ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = trans_b ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                acc += a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            /* BLAS semantics: with beta == 0 the old C is not read (it may hold NaN). */
            *c = (float)(alpha * acc + (beta == 0.0f ? 0.0 : (double)beta * *c));
        }
}

static void ref_linear(float *out, const float *in, const float *w, const float *b, int N, int IC,
                       int OC) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double acc = b ? b[o] : 0.0;
            for (int i = 0; i < IC; i++)
                acc += (double)in[(size_t)n * IC + i] * w[(size_t)o * IC + i];
            out[(size_t)n * OC + o] = (float)acc;
        }
}

static void ref_layernorm(float *out, const float *in, const float *w, const float *b, int N, int C,
                          float eps) {
    for (int n = 0; n < N; n++) {
        const float *x = in + (size_t)n * C;
        double mean = 0, var = 0;
        for (int c = 0; c < C; c++) mean += x[c];
        mean /= C;
        for (int c = 0; c < C; c++) var += (x[c] - mean) * (x[c] - mean);
        var /= C;
        double rstd = 1.0 / sqrt(var + eps);
        float *y = out + (size_t)n * C;
        for (int c = 0; c < C; c++)
            y[c] = (float)((x[c] - mean) * rstd * (w ? w[c] : 1.0) + (b ? b[c] : 0.0));
    }
}

static void ref_gelu(float *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double x = in[i];
        out[i] = (float)(0.5 * x * (1.0 + erf(x * M_SQRT1_2)));
    }
}

static void ref_relu(float *out, const float *in, size_t n) {
    /* max(x, 0) with NaN passed through, as torch.relu. */
    for (size_t i = 0; i < n; i++) out[i] = in[i] < 0.0f ? 0.0f : in[i];
}

static void ref_sigmoid(float *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (float)(1.0 / (1.0 + exp(-(double)in[i])));
}

static void ref_add(float *out, const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

static void ref_softmax_rows(float *x, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        float *row = x + (size_t)r * cols;
        double m = -INFINITY, s = 0;
        for (int c = 0; c < cols; c++) m = row[c] > m ? row[c] : m;
        for (int c = 0; c < cols; c++) s += exp(row[c] - m);
        for (int c = 0; c < cols; c++) row[c] = (float)(exp(row[c] - m) / s);
    }
}

static void ref_attention_dv(float *out, int ldo, const float *q, int ldq, const float *k, int ldk,
                             const float *v, int ldv, int Lq, int Lk, int D, int Dv,
                             float *scratch) {
    (void)scratch;
    const double scale = 1.0 / sqrt((double)D);
    for (int i = 0; i < Lq; i++) {
        const float *qi = q + (size_t)i * ldq;
        double m = -INFINITY, s = 0;
        for (int j = 0; j < Lk; j++) {
            double d = 0;
            for (int c = 0; c < D; c++) d += (double)qi[c] * k[(size_t)j * ldk + c];
            m = d * scale > m ? d * scale : m;
        }
        float *o = out + (size_t)i * ldo;
        for (int c = 0; c < Dv; c++) o[c] = 0;
        /* Two passes over the keys (scores recomputed) so that no scratch is needed. */
        double acc_buf[1024];
        for (int c0 = 0; c0 < Dv; c0 += 1024) {
            const int nc = Dv - c0 < 1024 ? Dv - c0 : 1024;
            for (int c = 0; c < nc; c++) acc_buf[c] = 0;
            s = 0;
            for (int j = 0; j < Lk; j++) {
                double d = 0;
                for (int c = 0; c < D; c++) d += (double)qi[c] * k[(size_t)j * ldk + c];
                double p = exp(d * scale - m);
                s += p;
                for (int c = 0; c < nc; c++) acc_buf[c] += p * v[(size_t)j * ldv + c0 + c];
            }
            for (int c = 0; c < nc; c++) o[c0 + c] = (float)(acc_buf[c] / s);
        }
    }
}

static void ref_attention(float *out, int ldo, const float *q, int ldq, const float *k, int ldk,
                          const float *v, int ldv, int Lq, int Lk, int D, float *scratch) {
    ref_attention_dv(out, ldo, q, ldq, k, ldk, v, ldv, Lq, Lk, D, D, scratch);
}

static void ref_attention_batched(float *out, int ldo, const float *q, int ldq, const float *k,
                                  int ldk, const float *v, int ldv, int nwin, int heads, int Lq,
                                  int Lk, int D, float *scratch) {
    for (int w = 0; w < nwin; w++)
        for (int h = 0; h < heads; h++)
            ref_attention(out + (size_t)w * Lq * ldo + (size_t)h * D, ldo,
                          q + (size_t)w * Lq * ldq + (size_t)h * D, ldq,
                          k + (size_t)w * Lk * ldk + (size_t)h * D, ldk,
                          v + (size_t)w * Lk * ldv + (size_t)h * D, ldv, Lq, Lk, D, scratch);
}

static void ref_conv2d(float *out, const float *in, const float *w, const float *b, int H, int W,
                       int IC, int OC, int KH, int KW, int stride, int pad, int groups,
                       float *scratch) {
    (void)scratch;
    const int OH = (H + 2 * pad - KH) / stride + 1, OW = (W + 2 * pad - KW) / stride + 1;
    const int icg = IC / groups, ocg = OC / groups;
    for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++)
            for (int o = 0; o < OC; o++) {
                const int g = o / ocg;
                double acc = b ? b[o] : 0.0;
                for (int ci = 0; ci < icg; ci++)
                    for (int ky = 0; ky < KH; ky++) {
                        const int y = oy * stride - pad + ky;
                        if (y < 0 || y >= H) continue;
                        for (int kx = 0; kx < KW; kx++) {
                            const int x = ox * stride - pad + kx;
                            if (x < 0 || x >= W) continue;
                            acc += (double)in[((size_t)y * W + x) * IC + g * icg + ci] *
                                   w[(((size_t)o * icg + ci) * KH + ky) * KW + kx];
                        }
                    }
                out[((size_t)oy * OW + ox) * OC + o] = (float)acc;
            }
}

static void ref_conv_transpose2x2(float *out, const float *in, const float *w, const float *b,
                                  int H, int W, int IC, int OC, float *scratch) {
    (void)scratch;
    for (int y = 0; y < 2 * H; y++)
        for (int x = 0; x < 2 * W; x++)
            for (int o = 0; o < OC; o++) {
                /* Stride 2 and kernel 2: each output pixel has exactly one input pixel. */
                const int iy = y / 2, ix = x / 2, ky = y % 2, kx = x % 2;
                double acc = b ? b[o] : 0.0;
                for (int c = 0; c < IC; c++)
                    acc += (double)in[((size_t)iy * W + ix) * IC + c] *
                           w[(((size_t)c * OC + o) * 2 + ky) * 2 + kx];
                out[((size_t)y * 2 * W + x) * OC + o] = (float)acc;
            }
}

static void ref_maxpool2x2(float *out, const float *in, int H, int W, int C) {
    const int OH = H / 2, OW = W / 2;
    for (int y = 0; y < OH; y++)
        for (int x = 0; x < OW; x++)
            for (int c = 0; c < C; c++) {
                float m = in[((size_t)(2 * y) * W + 2 * x) * C + c];
                for (int t = 1; t < 4; t++) {
                    float v = in[((size_t)(2 * y + t / 2) * W + 2 * x + t % 2) * C + c];
                    if (v > m || isnan(v)) m = v; /* NaN propagates, as in PyTorch */
                }
                out[((size_t)y * OW + x) * C + c] = m;
            }
}

static void ref_upsample_nearest2x(float *out, const float *in, int H, int W, int C) {
    for (int y = 0; y < 2 * H; y++)
        for (int x = 0; x < 2 * W; x++)
            for (int c = 0; c < C; c++)
                out[((size_t)y * 2 * W + x) * C + c] = in[((size_t)(y / 2) * W + x / 2) * C + c];
}

/* --- resize: PyTorch's arithmetic, one output pixel at a time ------------------------------ */

static void ref_resize_bilinear(float *out, const float *in, int C, int H, int W, int OH, int OW,
                                int antialias) {
    if (!antialias) {
        for (int c = 0; c < C; c++) {
            const float *src = in + (size_t)c * H * W;
            for (int oy = 0; oy < OH; oy++) {
                linear_tap ty = linear_tap_at(H, OH, oy);
                for (int ox = 0; ox < OW; ox++) {
                    linear_tap tx = linear_tap_at(W, OW, ox);
                    const float *r0 = src + (size_t)ty.i0 * W, *r1 = src + (size_t)ty.i1 * W;
                    float t0 = r0[tx.i0] * tx.w0 + r0[tx.i1] * tx.w1;
                    float t1 = r1[tx.i0] * tx.w0 + r1[tx.i1] * tx.w1;
                    out[((size_t)c * OH + oy) * OW + ox] = t0 * ty.w0 + t1 * ty.w1;
                }
            }
        }
        return;
    }
    /* Antialiased: the horizontal pass first (skipped when the width is unchanged), then the
     * vertical pass (skipped when the height is unchanged); each a weighted sum in float in
     * increasing source order. The horizontal values are recomputed per output pixel. */
    aa_axis ax, ay;
    aa_axis_init(&ax, W, OW);
    aa_axis_init(&ay, H, OH);
    for (int c = 0; c < C; c++) {
        const float *src = in + (size_t)c * H * W;
        for (int oy = 0; oy < OH; oy++) {
            int y0 = oy, ny = 1;
            if (OH != H) aa_axis_range(&ay, oy, &y0, &ny);
            for (int ox = 0; ox < OW; ox++) {
                int x0 = ox, nx = 1;
                if (OW != W) aa_axis_range(&ax, ox, &x0, &nx);
                float acc = 0;
                for (int i = 0; i < ny; i++) {
                    const float *row = src + (size_t)(y0 + i) * W;
                    float h = row[x0];
                    if (OW != W) {
                        h = row[x0] * aa_axis_weight(&ax, ox, 0);
                        for (int j = 1; j < nx; j++) h += row[x0 + j] * aa_axis_weight(&ax, ox, j);
                    }
                    if (OH == H) {
                        acc = h;
                    } else {
                        float t = h * aa_axis_weight(&ay, oy, i);
                        acc = i == 0 ? t : acc + t;
                    }
                }
                out[((size_t)c * OH + oy) * OW + ox] = acc;
            }
        }
    }
}

static void ref_resize_bicubic(float *out, const float *in, int C, int H, int W, int OH, int OW) {
    for (int c = 0; c < C; c++) {
        const float *src = in + (size_t)c * H * W;
        for (int oy = 0; oy < OH; oy++) {
            cubic_tap ty = cubic_tap_at(H, OH, oy);
            for (int ox = 0; ox < OW; ox++) {
                cubic_tap tx = cubic_tap_at(W, OW, ox);
                float acc = 0;
                for (int i = 0; i < 4; i++) {
                    const float *row = src + (size_t)ty.idx[i] * W;
                    float h = row[tx.idx[0]] * tx.w[0];
                    for (int j = 1; j < 4; j++) h += row[tx.idx[j]] * tx.w[j];
                    acc = i == 0 ? h * ty.w[0] : acc + h * ty.w[i];
                }
                out[((size_t)c * OH + oy) * OW + ox] = acc;
            }
        }
    }
}

/* ---- EdgeTAM ops ---- */

static double ref_act(double x, sam2_act act) {
    if (act == SAM2_ACT_RELU) return x < 0 ? 0 : x;
    if (act == SAM2_ACT_GELU) return 0.5 * x * (1.0 + erf(x * M_SQRT1_2));
    return x;
}

static void ref_depthwise_conv(float *out, const float *in, const float *w, const float *b, int H,
                               int W, int C, int K, int stride, int pad, sam2_act act, float *mean,
                               float *scratch) {
    (void)scratch;
    const int OH = (H + 2 * pad - K) / stride + 1, OW = (W + 2 * pad - K) / stride + 1;
    for (int c = 0; c < C; c++) {
        double sum = 0;
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                double acc = b ? b[c] : 0.0;
                for (int ky = 0; ky < K; ky++) {
                    const int y = oy * stride - pad + ky;
                    if (y < 0 || y >= H) continue;
                    for (int kx = 0; kx < K; kx++) {
                        const int x = ox * stride - pad + kx;
                        if (x < 0 || x >= W) continue;
                        acc += (double)in[((size_t)y * W + x) * C + c] *
                               w[((size_t)c * K + ky) * K + kx];
                    }
                }
                const float o = (float)ref_act((float)acc, act);
                out[((size_t)oy * OW + ox) * C + c] = o;
                sum += o;
            }
        if (mean) mean[c] = (float)(sum / ((double)OH * OW));
    }
}

static void ref_pointwise_mlp(float *out, const float *in, const float *scale, const float *w1,
                              const float *b1, const float *w2, const float *b2, int N, int C,
                              int Hd, sam2_act act, float *scratch) {
    /* scratch: one row of x and one of the hidden layer, so out may equal in */
    float *x = scratch, *h = scratch + C;
    for (int n = 0; n < N; n++) {
        for (int c = 0; c < C; c++) x[c] = in[(size_t)n * C + c] * (scale ? scale[c] : 1.0f);
        for (int j = 0; j < Hd; j++) {
            double acc = b1 ? b1[j] : 0.0;
            for (int c = 0; c < C; c++) acc += (double)x[c] * w1[(size_t)j * C + c];
            h[j] = (float)ref_act((float)acc, act);
        }
        for (int c = 0; c < C; c++) {
            double acc = b2 ? b2[c] : 0.0;
            for (int j = 0; j < Hd; j++) acc += (double)h[j] * w2[(size_t)c * Hd + j];
            out[(size_t)n * C + c] = (float)(x[c] + acc);
        }
    }
}

static void ref_rope(float *x, int n, int ld, int dim, const float *cos_t, const float *sin_t,
                     int table_rows, int period, int skip) {
    const int half = dim / 2;
    for (int r = 0; r < n; r++) {
        const int p = r % period;
        if (p < skip) continue;
        const int t = (p - skip) % table_rows;
        float *row = x + (size_t)r * ld;
        for (int j = 0; j < half; j++) {
            const double c = cos_t[(size_t)t * half + j], s = sin_t[(size_t)t * half + j];
            const double a = row[2 * j], b = row[2 * j + 1];
            row[2 * j] = (float)(a * c - b * s);
            row[2 * j + 1] = (float)(a * s + b * c);
        }
    }
}

const sam2_backend *sam2_backend_ref(void) {
    static const sam2_backend be = {
        .name = "ref",
        .gemm = ref_gemm,
        .linear = ref_linear,
        .layernorm = ref_layernorm,
        .gelu = ref_gelu,
        .relu = ref_relu,
        .sigmoid = ref_sigmoid,
        .add = ref_add,
        .softmax_rows = ref_softmax_rows,
        .attention = ref_attention,
        .attention_dv = ref_attention_dv,
        .attention_batched = ref_attention_batched,
        .conv2d = ref_conv2d,
        .conv_transpose2x2 = ref_conv_transpose2x2,
        .maxpool2x2 = ref_maxpool2x2,
        .upsample_nearest2x = ref_upsample_nearest2x,
        .resize_bilinear = ref_resize_bilinear,
        .resize_bicubic = ref_resize_bicubic,
        .depthwise_conv = ref_depthwise_conv,
        .pointwise_mlp = ref_pointwise_mlp,
        .rope = ref_rope,
    };
    return &be;
}
