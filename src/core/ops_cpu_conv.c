/* Convolutions on the CPU, channels-last.
 *  - 1x1, stride 1, no padding, one group: a plain GEMM (linear), no scratch.
 *  - depthwise (groups == IC == OC): direct loops vectorised over channels, rows in parallel.
 *  - everything else: im2col over blocks of output rows into the scratch, then one GEMM per
 *    block and group. The weights are first reordered to [OC][KH][KW][IC/groups] so an im2col
 *    row is a run of whole input pixels (contiguous channels), e.g. the patch embedding
 *    7x7/4 3->96 copies 7 runs of 21 floats per output pixel.
 *  - transposed 2x2/2: each output row 2y+ky is one product of input row y with the weights of
 *    kernel row ky reordered to [kx][OC][IC] (ops_cpu_gemm.c), written in place. With a long
 *    reduction (OpenBLAS path) it is one GEMM [H*W][IC] x [IC][2*2*OC] into the scratch, then
 *    each row of four OC-runs is copied to its four output pixels. */
#include "core/cpu_kernels.h"
#include "core/ops_cpu.h"
#include "core/threadpool.h"

#include <string.h>

/* Channels per register block of the depthwise convolution. */
#define DW_CB 64

/* Target size of one im2col block / transposed-conv GEMM block (floats). */
#define CONV_BLOCK_FLOATS (1 << 20)

static int out_size(int n, int k, int stride, int pad) {
    return (n + 2 * pad - k) / stride + 1;
}

static int is_depthwise(int IC, int OC, int groups) {
    return groups > 1 && groups == IC && groups == OC;
}
static int is_pointwise(int KH, int KW, int stride, int pad, int groups) {
    return KH == 1 && KW == 1 && stride == 1 && pad == 0 && groups == 1;
}

/* Output rows per im2col block. */
static int conv_block_rows(int OH, int OW, int taps) {
    size_t row = (size_t)OW * (size_t)taps;
    size_t r = row ? CONV_BLOCK_FLOATS / row : (size_t)OH;
    if (r < 1) r = 1;
    return r < (size_t)OH ? (int)r : OH;
}

/* --- dense KxK with few input channels, by rows (no im2col) ---------------------------------
 * For a kernel row ky, the KW * IC inputs of an output pixel are contiguous channels-last, and
 * consecutive output pixels start stride * IC floats apart: a row of output pixels is a GEMM
 * read straight from the input with that row stride, against ky's weights packed as panels
 * [KW * IC][16]; the rows ky accumulate onto the first. Pixels whose window crosses the left or
 * right border go through a zero-padded copy of their KW * IC inputs. (RepViT's stem, the mask
 * downsampler's 3x3 stride-2 convolutions.) */
#define CONV_ROWS_MAX_K 1024 /* KW * IC */

/* Only with the kernel table's tiles (linear_tiles): OpenBLAS cannot read A with a row stride
 * smaller than its row length, so the baseline goes through im2col. Like conv_t2x2, the scratch
 * size then depends on the table in use. */
static int rows_direct_applies(int IC, int KH, int KW, int stride, int pad, int groups) {
    return cpu_kernels_get()->linear_tiles && groups == 1 && KH == 3 && KW == 3 && pad == 1 &&
           stride >= 1 && KW * IC <= CONV_ROWS_MAX_K;
}

static size_t rows_direct_scratch(int IC, int OC, int KH, int KW) {
    return (size_t)KH * ((size_t)(OC + 15) / 16) * KW * IC * 16 + 16;
}

typedef struct rows_job {
    const cpu_kernels *kern;
    float *out;
    const float *in, *wp, *b;
    int H, W, IC, OC, K, stride, pad, OW, lo, hi;
} rows_job;

static void rows_task(void *ctx, int64_t oy, int worker) {
    (void)worker;
    const rows_job *j = ctx;
    const int KI = j->K * j->IC, np = (j->OC + 15) / 16;
    float *orow = j->out + (size_t)oy * j->OW * j->OC;
    float pad_px[CONV_ROWS_MAX_K];
    int first = 1;
    for (int ky = 0; ky < j->K; ky++) {
        const int y = (int)oy * j->stride - j->pad + ky;
        if (y < 0 || y >= j->H) continue;
        const float *row = j->in + (size_t)y * j->W * j->IC;
        const float *wk = j->wp + (size_t)ky * np * KI * 16;
        /* interior pixels: rows of A read in place, stride * IC floats apart */
        if (j->hi > j->lo)
            j->kern->linear_tiles(j->hi - j->lo, KI,
                                  row + ((size_t)j->lo * j->stride - j->pad) * j->IC,
                                  j->stride * j->IC, wk, np, j->OC, orow + (size_t)j->lo * j->OC,
                                  j->OC, j->b, !first);
        /* border pixels: their window through a zero-padded copy */
        for (int ox = 0; ox < j->OW; ox++) {
            if (ox >= j->lo && ox < j->hi) continue;
            const int x0 = ox * j->stride - j->pad;
            for (int kx = 0; kx < j->K; kx++) {
                const int x = x0 + kx;
                if (x < 0 || x >= j->W)
                    memset(pad_px + kx * j->IC, 0, sizeof(float) * j->IC);
                else
                    memcpy(pad_px + kx * j->IC, row + (size_t)x * j->IC, sizeof(float) * j->IC);
            }
            j->kern->linear_tiles(1, KI, pad_px, KI, wk, np, j->OC, orow + (size_t)ox * j->OC,
                                  j->OC, j->b, !first);
        }
        first = 0;
    }
}

static void conv_rows_direct(float *out, const float *in, const float *w, const float *b, int H,
                             int W, int IC, int OC, int K, int stride, int pad, float *scratch) {
    const int OH = out_size(H, K, stride, pad), OW = out_size(W, K, stride, pad);
    const int KI = K * IC, np = (OC + 15) / 16;
    /* w [OC][IC][K][K] -> wp[ky][panel][kx * IC + ic][16] */
    float *wp = scratch;
    for (int ky = 0; ky < K; ky++)
        for (int p = 0; p < np; p++)
            for (int kx = 0; kx < K; kx++)
                for (int ic = 0; ic < IC; ic++) {
                    float *dst = wp + (((size_t)ky * np + p) * KI + (size_t)kx * IC + ic) * 16;
                    for (int jj = 0; jj < 16; jj++) {
                        const int o = 16 * p + jj;
                        dst[jj] = o < OC ? w[(((size_t)o * IC + ic) * K + ky) * K + kx] : 0.0f;
                    }
                }
    /* interior output columns: the whole window inside the row */
    int lo = (pad + stride - 1) / stride, hi = OW;
    while (hi > lo && (hi - 1) * stride - pad + K > W) hi--;
    rows_job j = {cpu_kernels_get(), out, in, wp, b, H, W, IC, OC, K, stride, pad, OW, lo,
                  hi > lo ? hi : lo};
    const int64_t work = (int64_t)OH * OW * OC * KI;
    cpu_parallel_tasks(OH, work < CPU_ELEMWISE_GRAIN ? 1 : pool_threads(), rows_task, &j);
}

size_t conv2d_scratch_floats(int H, int W, int IC, int OC, int KH, int KW, int stride, int pad,
                             int groups) {
    if (rows_direct_applies(IC, KH, KW, stride, pad, groups))
        return rows_direct_scratch(IC, OC, KH, KW);
    if (H <= 0 || W <= 0 || IC <= 0 || OC <= 0 || KH <= 0 || KW <= 0 || stride <= 0 || groups <= 0)
        return 16;
    if (is_pointwise(KH, KW, stride, pad, groups)) return 16;
    if (is_depthwise(IC, OC, groups)) return (size_t)KH * KW * IC + 16;
    const int OH = out_size(H, KH, stride, pad), OW = out_size(W, KW, stride, pad);
    if (OH <= 0 || OW <= 0) return 16;
    const int taps = KH * KW * (IC / groups);
    return (size_t)OC * taps + (size_t)conv_block_rows(OH, OW, taps) * OW * taps + 16;
}

size_t conv_t2x2_scratch_floats(int H, int W, int IC, int OC) {
    if (H <= 0 || W <= 0 || IC <= 0 || OC <= 0) return 16;
    if (cpu_matmul_nt_direct(IC)) return (size_t)IC * 4 * OC + 2 * (size_t)OC + 16;
    size_t row = (size_t)W * 4 * OC;
    size_t rows = CONV_BLOCK_FLOATS / row;
    if (rows < 1) rows = 1;
    if (rows > (size_t)H) rows = (size_t)H;
    return (size_t)IC * 4 * OC + rows * row + 16;
}

/* --- depthwise ------------------------------------------------------------------------------- */

typedef struct dw_job {
    float *out;
    const float *in, *wr, *b;
    int H, W, C, KH, KW, stride, pad, OW;
} dw_job;

/* Channels [c0, c0 + n) of one output pixel: the sum over the taps is kept in a small array
 * the compiler holds in vector registers (n is the constant DW_CB on the main path), so each
 * tap costs two loads per vector and no store. */
static inline __attribute__((always_inline)) void depthwise_pixel(const dw_job *j, int oy, int ox,
                                                                  int c0, const int n) {
    float acc[DW_CB];
    for (int c = 0; c < n; c++) acc[c] = j->b ? j->b[c0 + c] : 0.0f;
    for (int ky = 0; ky < j->KH; ky++) {
        const int y = oy * j->stride - j->pad + ky;
        if (y < 0 || y >= j->H) continue;
        for (int kx = 0; kx < j->KW; kx++) {
            const int x = ox * j->stride - j->pad + kx;
            if (x < 0 || x >= j->W) continue;
            const float *src = j->in + ((size_t)y * j->W + x) * j->C + c0;
            const float *w = j->wr + ((size_t)ky * j->KW + kx) * j->C + c0;
            for (int c = 0; c < n; c++) acc[c] += src[c] * w[c];
        }
    }
    float *o = j->out + ((size_t)oy * j->OW + ox) * j->C + c0;
    for (int c = 0; c < n; c++) o[c] = acc[c];
}

static void depthwise_rows(void *ctx, int64_t begin, int64_t end) {
    const dw_job *j = ctx;
    for (int64_t oy = begin; oy < end; oy++)
        for (int ox = 0; ox < j->OW; ox++) {
            int c0 = 0;
            for (; c0 + DW_CB <= j->C; c0 += DW_CB) depthwise_pixel(j, (int)oy, ox, c0, DW_CB);
            for (; c0 < j->C; c0++) depthwise_pixel(j, (int)oy, ox, c0, 1);
        }
}

static void conv_depthwise(float *out, const float *in, const float *w, const float *b, int H,
                           int W, int C, int KH, int KW, int stride, int pad, float *scratch) {
    /* weights [C][1][KH][KW] -> [KH][KW][C] so the inner loop runs over contiguous channels */
    for (int c = 0; c < C; c++)
        for (int t = 0; t < KH * KW; t++) scratch[(size_t)t * C + c] = w[(size_t)c * KH * KW + t];
    dw_job j = {out, in, scratch, b, H, W, C, KH, KW, stride, pad, out_size(W, KW, stride, pad)};
    const int OH = out_size(H, KH, stride, pad);
    int64_t row_work = (int64_t)j.OW * C * KH * KW;
    pool_for(OH, 1 + CPU_ELEMWISE_GRAIN / (row_work > 0 ? row_work : 1), depthwise_rows, &j);
}

/* --- im2col + GEMM ---------------------------------------------------------------------------- */

typedef struct col_job {
    float *col;
    const float *in;
    int H, W, IC, KH, KW, stride, pad, OW, c0, icg, oy0;
} col_job;

/* col[(oy - oy0) * OW + ox][(ky, kx, ci)] = in[y][x][c0 + ci], zero outside the image. */
static void im2col_rows(void *ctx, int64_t begin, int64_t end) {
    const col_job *j = ctx;
    const int taps = j->KH * j->KW * j->icg;
    for (int64_t r = begin; r < end; r++) {
        const int oy = j->oy0 + (int)r;
        for (int ox = 0; ox < j->OW; ox++) {
            float *dst = j->col + ((size_t)r * j->OW + ox) * taps;
            for (int ky = 0; ky < j->KH; ky++) {
                const int y = oy * j->stride - j->pad + ky;
                float *d = dst + (size_t)ky * j->KW * j->icg;
                if (y < 0 || y >= j->H) {
                    memset(d, 0, sizeof(float) * j->KW * j->icg);
                    continue;
                }
                const int x0 = ox * j->stride - j->pad;
                const float *row = j->in + (size_t)y * j->W * j->IC + j->c0;
                if (x0 >= 0 && x0 + j->KW <= j->W && j->icg == j->IC) {
                    memcpy(d, row + (size_t)x0 * j->IC, sizeof(float) * j->KW * j->IC);
                    continue;
                }
                for (int kx = 0; kx < j->KW; kx++) {
                    const int x = x0 + kx;
                    if (x < 0 || x >= j->W)
                        memset(d + (size_t)kx * j->icg, 0, sizeof(float) * j->icg);
                    else
                        memcpy(d + (size_t)kx * j->icg, row + (size_t)x * j->IC,
                               sizeof(float) * j->icg);
                }
            }
        }
    }
}

void cpu_conv2d(float *out, const float *in, const float *w, const float *b, int H, int W, int IC,
                int OC, int KH, int KW, int stride, int pad, int groups, float *scratch) {
    if (H <= 0 || W <= 0 || IC <= 0 || OC <= 0 || KH <= 0 || KW <= 0 || stride <= 0 || groups <= 0)
        return;
    const int OH = out_size(H, KH, stride, pad), OW = out_size(W, KW, stride, pad);
    if (OH <= 0 || OW <= 0) return;
    if (is_pointwise(KH, KW, stride, pad, groups)) {
        cpu_linear(out, in, w, b, H * W, IC, OC); /* [OC][IC][1][1] is a Linear weight */
        return;
    }
    if (is_depthwise(IC, OC, groups)) {
        conv_depthwise(out, in, w, b, H, W, IC, KH, KW, stride, pad, scratch);
        return;
    }
    if (rows_direct_applies(IC, KH, KW, stride, pad, groups)) {
        conv_rows_direct(out, in, w, b, H, W, IC, OC, KH, stride, pad, scratch);
        return;
    }
    const int icg = IC / groups, ocg = OC / groups, kk = KH * KW;
    const int taps = kk * icg;
    /* weights [OC][icg][KH][KW] -> [OC][KH][KW][icg] */
    float *wr = scratch, *col = scratch + (size_t)OC * taps;
    for (int o = 0; o < OC; o++)
        for (int ci = 0; ci < icg; ci++)
            for (int t = 0; t < kk; t++)
                wr[(size_t)o * taps + (size_t)t * icg + ci] = w[((size_t)o * icg + ci) * kk + t];
    const int block = conv_block_rows(OH, OW, taps);
    for (int oy0 = 0; oy0 < OH; oy0 += block) {
        const int rows = OH - oy0 < block ? OH - oy0 : block;
        float *o = out + (size_t)oy0 * OW * OC;
        const int M = rows * OW;
        for (int g = 0; g < groups; g++) {
            col_job cj = {col, in, H, W, IC, KH, KW, stride, pad, OW, g * icg, icg, oy0};
            pool_for(rows, 1 + CPU_ELEMWISE_GRAIN / ((int64_t)OW * taps), im2col_rows, &cj);
            cpu_matmul_nt(o + (size_t)g * ocg, OC, col, taps, wr + (size_t)g * ocg * taps, taps,
                          b ? b + (size_t)g * ocg : NULL, M, taps, ocg);
        }
    }
}

/* --- transposed 2x2 stride 2 ------------------------------------------------------------------ */

typedef struct ct_job {
    float *out;
    const float *tmp;
    int W, OC, y0;
} ct_job;

/* tmp[(y - y0) * W + x][ky][kx][oc] -> out[2y + ky][2x + kx][oc] */
static void ct_scatter_rows(void *ctx, int64_t begin, int64_t end) {
    const ct_job *j = ctx;
    const int W = j->W, OC = j->OC;
    for (int64_t r = begin; r < end; r++) {
        const int y = j->y0 + (int)r;
        for (int ky = 0; ky < 2; ky++) {
            float *orow = j->out + (size_t)(2 * y + ky) * 2 * W * OC;
            for (int x = 0; x < W; x++) {
                const float *src = j->tmp + ((size_t)r * W + x) * 4 * OC + (size_t)ky * 2 * OC;
                memcpy(orow + (size_t)2 * x * OC, src, sizeof(float) * 2 * OC);
            }
        }
    }
}

void cpu_conv_transpose2x2(float *out, const float *in, const float *w, const float *b, int H,
                           int W, int IC, int OC, float *scratch) {
    if (H <= 0 || W <= 0 || IC <= 0 || OC <= 0) return;
    const int N4 = 4 * OC;
    if (cpu_matmul_nt_direct(IC)) {
        /* weights [IC][OC][2][2] -> [ky][kx][OC][IC]; bias repeated for kx = 0, 1 */
        float *wt = scratch, *bias2 = scratch + (size_t)IC * N4;
        for (int c = 0; c < IC; c++)
            for (int o = 0; o < OC; o++)
                for (int t = 0; t < 4; t++)
                    wt[((size_t)t * OC + o) * IC + c] = w[((size_t)c * OC + o) * 4 + t];
        if (b) {
            memcpy(bias2, b, sizeof(float) * OC);
            memcpy(bias2 + OC, b, sizeof(float) * OC);
        }
        cpu_conv_t2x2_direct(out, in, wt, b ? bias2 : NULL, H, W, IC, OC);
        return;
    }
    float *wr = scratch, *tmp = scratch + (size_t)IC * N4;
    /* weights [IC][OC][2][2] -> [IC][ky][kx][OC] */
    for (int c = 0; c < IC; c++)
        for (int o = 0; o < OC; o++)
            for (int t = 0; t < 4; t++)
                wr[(size_t)c * N4 + (size_t)t * OC + o] = w[((size_t)c * OC + o) * 4 + t];
    size_t rows_fit = CONV_BLOCK_FLOATS / ((size_t)W * N4);
    const int block = rows_fit < 1 ? 1 : (rows_fit > (size_t)H ? H : (int)rows_fit);
    for (int y0 = 0; y0 < H; y0 += block) {
        const int rows = H - y0 < block ? H - y0 : block;
        const int M = rows * W;
        if (b)
            for (int r = 0; r < M; r++)
                for (int t = 0; t < 4; t++)
                    memcpy(tmp + (size_t)r * N4 + (size_t)t * OC, b, sizeof(float) * OC);
        cpu_gemm(0, 0, M, N4, IC, 1.0f, in + (size_t)y0 * W * IC, IC, wr, N4, b ? 1.0f : 0.0f, tmp,
                 N4);
        ct_job j = {out, tmp, W, OC, y0};
        pool_for(rows, 1 + CPU_ELEMWISE_GRAIN / ((int64_t)W * N4), ct_scatter_rows, &j);
    }
}
