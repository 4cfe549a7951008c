/* Compute kernels behind a backend interface.
 *
 * The model calls kernels only through a `sam2_backend` table, so another backend (CUDA) can be
 * dropped in without touching model code. Two CPU tables exist: `sam2_backend_ref()` (plain
 * loops, the definition of each op) and `sam2_backend_cpu()` (blocked, vectorised, threaded;
 * GEMMs through OpenBLAS). Tests compare the two on random data.
 *
 * Conventions
 *  - float32 everywhere; feature maps are channels-last: [H][W][C] (row = one pixel's C values),
 *    token sequences are [N][C]. Planar images/masks are [C][H][W].
 *  - Weights keep PyTorch's layouts: Linear [out][in]; Conv2d [out][in/groups][kh][kw];
 *    ConvTranspose2d [in][out][kh][kw].
 *  - Kernels write `out`, never allocate, and may not alias out with inputs unless said.
 *  - Names follow op_forward(out, in, weights, dims). */
#ifndef SAM2_CORE_OPS_H
#define SAM2_CORE_OPS_H

#include <stddef.h>
#include <stdint.h>

/* Activations fused into the ops below. */
typedef enum sam2_act { SAM2_ACT_NONE = 0, SAM2_ACT_RELU = 1, SAM2_ACT_GELU = 2 } sam2_act;

typedef struct sam2_backend {
    const char *name;

    /* C[M][N] = alpha * op(A) * op(B) + beta * C, row-major; op(X) = X or X^T.
     * A is [M][K] (lda) or, transposed, [K][M]; B is [K][N] (ldb) or, transposed, [N][K]. */
    void (*gemm)(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                 int lda, const float *B, int ldb, float beta, float *C, int ldc);

    /* out[N][OC] = in[N][IC] * W[OC][IC]^T + b[OC] (b may be NULL). out and in must differ. */
    void (*linear)(float *out, const float *in, const float *w, const float *b, int N, int IC,
                   int OC);

    /* Row-wise LayerNorm over C (biased variance, eps inside the sqrt), in place allowed. */
    void (*layernorm)(float *out, const float *in, const float *w, const float *b, int N, int C,
                      float eps);

    /* Exact GELU 0.5*x*(1+erf(x/sqrt(2))), ReLU, sigmoid; n elements, in place allowed. */
    void (*gelu)(float *out, const float *in, size_t n);
    void (*relu)(float *out, const float *in, size_t n);
    void (*sigmoid)(float *out, const float *in, size_t n);

    /* out[i] = a[i] + b[i]; in place allowed. */
    void (*add)(float *out, const float *a, const float *b, size_t n);

    /* Softmax of each row of x[rows][cols], in place. */
    void (*softmax_rows)(float *x, int rows, int cols);

    /* Single-head scaled dot-product attention, softmax(Q K^T / sqrt(D)) V.
     * q: Lq rows of D floats with row stride ldq; k, v: Lk rows (ldk, ldv); out: Lq rows (ldo).
     * Strides let heads be read from and written to interleaved [L][H*D] buffers.
     * scratch: at least attention_scratch_floats(Lq, Lk) floats; the full Lq x Lk matrix is
     * never materialised beyond one block of rows. */
    void (*attention)(float *out, int ldo, const float *q, int ldq, const float *k, int ldk,
                      const float *v, int ldv, int Lq, int Lk, int D, float *scratch);

    /* The same with values of their own width: softmax(Q K^T / sqrt(D)) V where q and k rows
     * hold D floats and v and out rows Dv floats. Lets a value projection be applied after the
     * weighted sum (memory attention's cross-attention weighs the 64-d memory). scratch: at
     * least attention_scratch_floats(Lq, Lk) floats. */
    void (*attention_dv)(float *out, int ldo, const float *q, int ldq, const float *k, int ldk,
                         const float *v, int ldv, int Lq, int Lk, int D, int Dv, float *scratch);

    /* Multi-head attention over windows: `nwin` independent problems, each with Lq queries and
     * Lk keys laid out contiguously ([nwin][L][H*D] with the given row strides); heads
     * interleaved in the channel dimension. Used by Hiera's windowed blocks (many small
     * problems, parallelised over windows x heads). */
    void (*attention_batched)(float *out, int ldo, const float *q, int ldq, const float *k, int ldk,
                              const float *v, int ldv, int nwin, int heads, int Lq, int Lk, int D,
                              float *scratch);

    /* 2-D convolution, channels-last: in [H][W][IC] -> out [OH][OW][OC],
     * OH = (H + 2*pad - KH) / stride + 1. groups == IC == OC is depthwise.
     * scratch: at least conv2d_scratch_floats(...) floats (im2col buffer). */
    void (*conv2d)(float *out, const float *in, const float *w, const float *b, int H, int W,
                   int IC, int OC, int KH, int KW, int stride, int pad, int groups, float *scratch);

    /* ConvTranspose2d with kernel 2, stride 2: in [H][W][IC] -> out [2H][2W][OC];
     * w in PyTorch layout [IC][OC][2][2]. scratch: conv_t2x2_scratch_floats(...) floats. */
    void (*conv_transpose2x2)(float *out, const float *in, const float *w, const float *b, int H,
                              int W, int IC, int OC, float *scratch);

    /* MaxPool2d kernel 2 stride 2 (floor): in [H][W][C] -> out [H/2][W/2][C]. */
    void (*maxpool2x2)(float *out, const float *in, int H, int W, int C);

    /* Nearest-neighbour upsampling by 2: in [H][W][C] -> out [2H][2W][C]. */
    void (*upsample_nearest2x)(float *out, const float *in, int H, int W, int C);

    /* Bilinear resize of planar [C][H][W] -> [C][OH][OW], align_corners=False, as
     * torch.nn.functional.interpolate(mode="bilinear"); with antialias=1 it matches
     * antialias=True (a triangle filter widened by the scale when downsampling, as PyTorch's
     * _upsample_bilinear2d_aa). */
    void (*resize_bilinear)(float *out, const float *in, int C, int H, int W, int OH, int OW,
                            int antialias);

    /* Bicubic resize of planar [C][H][W] -> [C][OH][OW], align_corners=False, A = -0.75, no
     * antialias (F.interpolate(mode="bicubic")), borders clamped as PyTorch does. */
    void (*resize_bicubic)(float *out, const float *in, int C, int H, int W, int OH, int OW);

    /* --- EdgeTAM (RepViT trunk, Perceiver, RoPEAttentionv2) --- */

    /* Depthwise KxK convolution, channels-last, with a per-channel bias and an activation
     * after it: in [H][W][C] -> out [OH][OW][C], OH = (H + 2*pad - K) / stride + 1; w in
     * PyTorch layout [C][1][K][K] (a folded BatchNorm lives in w and b; b may be NULL).
     * mean: NULL, or [C] receives each channel's mean over the output (after the activation),
     * so squeeze-and-excitation needs no pass of its own. scratch: depthwise_scratch_floats. */
    void (*depthwise_conv)(float *out, const float *in, const float *w, const float *b, int H,
                           int W, int C, int K, int stride, int pad, sam2_act act, float *mean,
                           float *scratch);

    /* Two pointwise (1x1) layers with a residual, row by row:
     *   out[n] = x[n] + W2 act(W1 x[n] + b1) + b2,   x[n] = in[n] * scale (per channel),
     * in, out [N][C]; w1 [Hd][C], w2 [C][Hd] (Linear layouts); scale, b1, b2 may be NULL. The
     * hidden layer [N][Hd] never exists whole; out may equal in. (RepViT's channel mixer and
     * downsample FFN with folded BatchNorms; scale is the squeeze-and-excitation gate.)
     * scratch: pointwise_mlp_scratch_floats(N, C, Hd). */
    void (*pointwise_mlp)(float *out, const float *in, const float *scale, const float *w1,
                          const float *b1, const float *w2, const float *b2, int N, int C, int Hd,
                          sam2_act act, float *scratch);

    /* Rotary position encoding of interleaved pairs, in place, on n rows of x (row stride ld,
     * the first `dim` values of each row): row r is split into periods of `period` rows; the
     * first `skip` rows of each period are left alone, the others rotate pair (2j, 2j+1) by the
     * angle whose cos/sin are cos_t/sin_t[((r % period) - skip) % table_rows][j], j < dim/2.
     * period = table_rows, skip = 0 repeats the table (SAM 2's rope_k_repeat); EdgeTAM's
     * RoPEAttentionv2 keys use period = 512 latents per memory frame, skip = 256 (1D latents). */
    void (*rope)(float *x, int n, int ld, int dim, const float *cos_t, const float *sin_t,
                 int table_rows, int period, int skip);
} sam2_backend;

/* The plain reference kernels and the optimised CPU kernels. */
const sam2_backend *sam2_backend_ref(void);
const sam2_backend *sam2_backend_cpu(void);
/* The kernels of the default device (core/device.h: sam2_set_backend, else $SAM2_BACKEND). */
const sam2_backend *sam2_backend_default(void);

/* Scratch sizes (in floats) for the kernels above. The attention sizes depend on the thread
 * count (one score tile per thread): ask for them after sam2_set_threads(). */
size_t attention_scratch_floats(int Lq, int Lk);
size_t attention_batched_scratch_floats(int nwin, int heads, int Lq, int Lk);
size_t conv2d_scratch_floats(int H, int W, int IC, int OC, int KH, int KW, int stride, int pad,
                             int groups);
size_t conv_t2x2_scratch_floats(int H, int W, int IC, int OC);
size_t depthwise_scratch_floats(int C, int K, int OH);
size_t pointwise_mlp_scratch_floats(int N, int C, int Hd);

#endif
