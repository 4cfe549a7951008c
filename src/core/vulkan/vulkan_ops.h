/* Compute kernels on a Vulkan device: the ops of core/ops.h with device addresses
 * (`vulkan_ref`) in place of host pointers, plus the element-wise and layout ops that model
 * code still does in host loops (strided copies and permutes, broadcast arithmetic, window
 * partition, RoPE, bfloat16 rounding, thresholds).
 *
 * Every function records its work on the stream and returns at once; results are there for
 * the next kernel on the same stream, and for the host after vulkan_download() or
 * vulkan_sync(). Arguments that would reach outside an operand's buffer are not run: the
 * stream's status says what was wrong and the next sync returns it.
 *
 * Conventions are those of core/ops.h (float32, channels-last maps, PyTorch weight layouts).
 * Where ops.h allows in-place use, so do these. An absent bias or affine weight is a ref whose
 * buf is NULL (VULKAN_NONE). Scratch arguments of ops.h have no counterpart: the kernels need
 * none. */
#ifndef SAM2_CORE_VULKAN_OPS_H
#define SAM2_CORE_VULKAN_OPS_H

#include "core/vulkan/vulkan_rt.h"

#define VULKAN_NONE ((vulkan_ref){NULL, 0})

/* --- matrix products ----------------------------------------------------------------------- */

/* A strided matrix: element (i, j) of batch b at `at` + b bs + i rs + j cs floats. A transpose
 * swaps rs and cs. */
typedef struct vulkan_matrix {
    vulkan_ref at;
    uint32_t rs, cs, bs;
} vulkan_matrix;

/* For each of `batch` problems: C = alpha A B + beta C (+ bias[n] when bias.buf), A M x K,
 * B K x N, C M x N. With beta == 0 the old C is not read. */
void vulkan_gemm_batched(vulkan_stream *s, int batch, int M, int N, int K, float alpha,
                         vulkan_matrix A, vulkan_matrix B, float beta, vulkan_matrix C,
                         vulkan_ref bias);
/* out rows (ld_out apart) = in rows (ld_in apart) W^T + b: the seam's LINEAR on a row view. */
void vulkan_linear_rows(vulkan_stream *s, vulkan_ref out, int ld_out, vulkan_ref in, int ld_in,
                        vulkan_ref w, vulkan_ref b, int N, int IC, int OC);
/* ops.h's gemm and linear. */
void vulkan_gemm(vulkan_stream *s, int trans_a, int trans_b, int M, int N, int K, float alpha,
                 vulkan_ref A, int lda, vulkan_ref B, int ldb, float beta, vulkan_ref C, int ldc);
void vulkan_linear(vulkan_stream *s, vulkan_ref out, vulkan_ref in, vulkan_ref w, vulkan_ref b,
                   int N, int IC, int OC);

/* --- attention ------------------------------------------------------------------------------ */

/* One operand of attention: element (row i, column c) of window w, head h at
 * at + w ws + h hs + i ld + c floats. */
typedef struct vulkan_attn_operand {
    vulkan_ref at;
    uint32_t ld, ws, hs;
} vulkan_attn_operand;

/* nwin x heads independent problems out = softmax(q k^T / sqrt(D)) v, q Lq x D, k Lk x D,
 * v Lk x Dv, out Lq x Dv; fused with an online softmax (no Lq x Lk scores are stored). */
void vulkan_attention_general(vulkan_stream *s, vulkan_attn_operand out, vulkan_attn_operand q,
                              vulkan_attn_operand k, vulkan_attn_operand v, int nwin, int heads,
                              int Lq, int Lk, int D, int Dv);
/* ops.h's attention, attention_dv and attention_batched (heads interleaved in the channels,
 * windows contiguous: [nwin][L][heads*D] with the given row strides). */
void vulkan_attention(vulkan_stream *s, vulkan_ref out, int ldo, vulkan_ref q, int ldq,
                      vulkan_ref k, int ldk, vulkan_ref v, int ldv, int Lq, int Lk, int D);
void vulkan_attention_dv(vulkan_stream *s, vulkan_ref out, int ldo, vulkan_ref q, int ldq,
                         vulkan_ref k, int ldk, vulkan_ref v, int ldv, int Lq, int Lk, int D,
                         int Dv);
void vulkan_attention_batched(vulkan_stream *s, vulkan_ref out, int ldo, vulkan_ref q, int ldq,
                              vulkan_ref k, int ldk, vulkan_ref v, int ldv, int nwin, int heads,
                              int Lq, int Lk, int D);

/* --- convolutions --------------------------------------------------------------------------- */

/* ops.h's conv2d (an implicit GEMM; depthwise when groups == IC == OC, its own kernel) and
 * conv_transpose2x2 (four strided GEMMs, one per kernel tap). */
void vulkan_conv2d(vulkan_stream *s, vulkan_ref out, vulkan_ref in, vulkan_ref w, vulkan_ref b,
                   int H, int W, int IC, int OC, int KH, int KW, int stride, int pad, int groups);
void vulkan_conv_transpose2x2(vulkan_stream *s, vulkan_ref out, vulkan_ref in, vulkan_ref w,
                              vulkan_ref b, int H, int W, int IC, int OC);

/* --- rows ----------------------------------------------------------------------------------- */

/* LayerNorm of N rows of C (rows ld_in / ld_out floats apart); w, b may be VULKAN_NONE. */
void vulkan_layernorm_rows(vulkan_stream *s, vulkan_ref out, int ld_out, vulkan_ref in, int ld_in,
                           vulkan_ref w, vulkan_ref b, int N, int C, float eps);
void vulkan_layernorm(vulkan_stream *s, vulkan_ref out, vulkan_ref in, vulkan_ref w, vulkan_ref b,
                      int N, int C, float eps);
/* Softmax of each row of x[rows][cols], in place (ops.h), and out of place with strides. */
void vulkan_softmax_rows(vulkan_stream *s, vulkan_ref x, int rows, int cols);
void vulkan_softmax_rows_strided(vulkan_stream *s, vulkan_ref out, int ld_out, vulkan_ref in,
                                 int ld_in, int rows, int cols);

/* --- element-wise and layout ------------------------------------------------------------------ */

/* Element types of views (the order of the seam's sam2_dtype): float32 for computation,
 * float16 and bfloat16 for storage, uint8 for masks and pixels. */
typedef enum vulkan_dtype {
    VULKAN_F32 = 0,
    VULKAN_F16 = 1,
    VULKAN_BF16 = 2,
    VULKAN_U8 = 3,
} vulkan_dtype;

/* A 4-D strided view: element (i0, i1, i2, i3) at at + sum i_d stride[d] elements of dtype
 * (the ref's byte offset a multiple of the element size). Unused leading dimensions have shape
 * 1. A stride of 0 repeats (broadcasts) along that dimension. */
typedef struct vulkan_view {
    vulkan_ref at;
    uint32_t shape[4];
    uint32_t stride[4];
    vulkan_dtype dtype; /* 0: float32 */
} vulkan_view;

/* n contiguous floats at r, and a contiguous rows x cols matrix (rows ld apart). */
vulkan_view vulkan_view_flat(vulkan_ref r, size_t n);
vulkan_view vulkan_view_rows(vulkan_ref r, int rows, int cols, int ld);

typedef enum vulkan_unary_fn {
    VULKAN_IDENTITY = 0,
    VULKAN_RELU,    /* x < 0 ? 0 : x (NaN passes) */
    VULKAN_GELU,    /* 0.5 x (1 + erf(x / sqrt 2)) */
    VULKAN_SIGMOID, /* 1 / (1 + exp(-x)) */
    VULKAN_STEP,    /* x > a ? 1 : 0 */
    VULKAN_CLAMP,   /* x < a ? a : x > b ? b : x (NaN passes) */
    VULKAN_FILL,    /* a (the input is not read) */
} vulkan_unary_fn;

typedef enum vulkan_binary_op {
    VULKAN_ADD = 0,
    VULKAN_SUB,
    VULKAN_MUL,
    VULKAN_DIV,
    VULKAN_AXPBY, /* alpha a + beta b (a + beta b when alpha == 1) */
} vulkan_binary_op;

/* out = f(in), then * scale when scale != 1, then + shift when shift != 0, element by element
 * over in's shape; in is read as float32 whatever its type and the result stored in out's type
 * (float16 and bfloat16 rounded to nearest even, NaN kept; uint8 clamped to 0..255). The seam's
 * UNARY. */
void vulkan_unary(vulkan_stream *s, vulkan_view out, vulkan_view in, vulkan_unary_fn fn, float a,
                  float b, float scale, float shift);
/* out = in converted to out's type (a plain copy when the types agree: the bits are kept): the
 * seam's COPY. */
void vulkan_convert(vulkan_stream *s, vulkan_view out, vulkan_view in);
/* Every element of out = value (float32 or uint8 views): the seam's FILL. */
void vulkan_fill_view(vulkan_stream *s, vulkan_view out, float value);
/* out = a (op) b over out's shape (float32; a and b broadcast through strides); alpha and beta
 * are used by VULKAN_AXPBY only. */
void vulkan_binary(vulkan_stream *s, vulkan_binary_op op, vulkan_view out, vulkan_view a,
                   vulkan_view b, float alpha, float beta);

/* ops.h's element-wise ops on n contiguous floats. */
void vulkan_gelu(vulkan_stream *s, vulkan_ref out, vulkan_ref in, size_t n);
void vulkan_relu(vulkan_stream *s, vulkan_ref out, vulkan_ref in, size_t n);
void vulkan_sigmoid(vulkan_stream *s, vulkan_ref out, vulkan_ref in, size_t n);
void vulkan_add(vulkan_stream *s, vulkan_ref out, vulkan_ref a, vulkan_ref b, size_t n);

/* Concatenation of `count` row blocks along the columns: out rows of sum(cols[i]) floats
 * (ld_out apart) from parts[i] (rows of cols[i] floats, ld[i] apart). */
void vulkan_concat_cols(vulkan_stream *s, vulkan_ref out, int ld_out, int rows, int count,
                        const vulkan_ref *parts, const int *cols, const int *ld);

/* --- images and maps -------------------------------------------------------------------------- */

void vulkan_maxpool2x2(vulkan_stream *s, vulkan_ref out, vulkan_ref in, int H, int W, int C);
/* B images [H][W][C] with channels unit-stride and the given image, row and pixel strides (in
 * floats) for in and out: the seam's MAXPOOL2X2 on a column range of a wider map. */
void vulkan_maxpool2x2_strided(vulkan_stream *s, vulkan_ref out, const uint32_t out_strides[3],
                               vulkan_ref in, const uint32_t in_strides[3], int B, int H, int W,
                               int C);
void vulkan_upsample_nearest2x(vulkan_stream *s, vulkan_ref out, vulkan_ref in, int H, int W,
                               int C);
/* ops.h's resizes, equal bit for bit to the reference kernels (and so to PyTorch). */
void vulkan_resize_bilinear(vulkan_stream *s, vulkan_ref out, vulkan_ref in, int C, int H, int W,
                            int OH, int OW, int antialias);
void vulkan_resize_bicubic(vulkan_stream *s, vulkan_ref out, vulkan_ref in, int C, int H, int W,
                           int OH, int OW);

/* Hiera's window partition. The map is [H][W] with C channels per pixel (pixels ld floats
 * apart); its grid is ceil(H/wh) x ceil(W/ww) windows of wh x ww tokens, row-major; an op
 * touches windows first .. first + n - 1, stored [n][wh*ww][C]. */
typedef struct vulkan_window_grid {
    int H, W, C, ld, wh, ww, first, n;
} vulkan_window_grid;
/* The grid of every window (first 0, n all of them). */
vulkan_window_grid vulkan_window_grid_all(int H, int W, int C, int ld, int wh, int ww);
/* Windows from the map, zero beyond H and W (window_partition). */
void vulkan_window_partition(vulkan_stream *s, vulkan_ref windows, vulkan_ref map,
                             vulkan_window_grid g);
/* The same with each map token layer-normalised on the way (w, b may be VULKAN_NONE); the
 * padding stays 0, as the reference pads after norm1. */
void vulkan_window_partition_norm(vulkan_stream *s, vulkan_ref windows, vulkan_ref map,
                                  vulkan_window_grid g, vulkan_ref w, vulkan_ref b, float eps);
/* Windows back into the map, the padding dropped (window_unpartition), written or added. */
void vulkan_window_unpartition(vulkan_stream *s, vulkan_ref map, vulkan_ref windows,
                               vulkan_window_grid g, int accumulate);

/* RoPE in place on n rows (ld floats apart) of `heads` heads of head_dim values: every head
 * of row r turns by table row r % table_rows (model/position_encoding.c's apply_rope per head;
 * the seam's ROPE with cos_table = table, sin_table = table + T head_dim / 2). */
void vulkan_rope(vulkan_stream *s, vulkan_ref x, int n, int ld, int heads, int head_dim,
                 vulkan_ref cos_table, vulkan_ref sin_table, int table_rows);

/* SAM's stability score of n contiguous logits into out[0]: count(x > delta) /
 * count(x > -delta), 1 when the second count is 0 (the seam's STABILITY). */
void vulkan_stability(vulkan_stream *s, vulkan_ref out, vulkan_ref logits, size_t n, float delta);

#endif
