/* CPU kernels of EdgeTAM's RepViT trunk and memory attention, channels-last.
 *  - depthwise_conv: one pass over the output, vectorised over channels (up to 64 per register
 *    block), rows in parallel; the bias (folded BatchNorm), the activation and the per-channel
 *    sums for squeeze-and-excitation are applied as each output vector leaves the registers.
 *    The sums are kept per row task and added in task order, so the mean does not depend on
 *    how the threads were scheduled.
 *  - pointwise_mlp: both 1x1 layers on blocks of rows with the micro-kernel of ukernel.h. The
 *    weights are packed once per call (the SE gate folded into W1's columns); a block's hidden
 *    rows stay in the worker's cache-sized buffer, its activation runs there, and the second
 *    layer accumulates onto out = x * scale + b2, so each output row is written once.
 *  - rope: rows in parallel (a few hundred thousand pairs per call). */
#include "core/ops_cpu.h"
#include "core/threadpool.h"
#include "core/ukernel.h"

#include <math.h>
#include <stdalign.h>
#include <string.h>

/* Row tasks whose channel sums are kept apart (the mean's reduction order is fixed by them). */
#define DW_MAX_TASKS 64
/* Floats of one worker's block in pointwise_mlp (rows x (Hd + C)): about half an L2. Each block
 * packs the weights once (cpu_matmul_nt), 1 / (2 rows) of its work, so blocks are not small. */
#define MLP_BLOCK_FLOATS 65536
#define MLP_MAX_WORKERS 64

static int out_size(int n, int k, int stride, int pad) {
    return (n + 2 * pad - k) / stride + 1;
}

/* --- activations on 8 lanes / one float --------------------------------------------------- */

static inline float act1(float x, sam2_act act) {
    if (act == SAM2_ACT_RELU) return x < 0.0f ? 0.0f : x;
    if (act == SAM2_ACT_GELU) return 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2));
    return x;
}

#ifdef SAM2_HAVE_AVX2
static inline __m256 act8(__m256 x, sam2_act act) {
    if (act == SAM2_ACT_RELU) return _mm256_max_ps(x, _mm256_setzero_ps());
    if (act == SAM2_ACT_GELU) {
        __m256 e = v8_erf(_mm256_mul_ps(x, _mm256_set1_ps((float)M_SQRT1_2)));
        return _mm256_mul_ps(_mm256_mul_ps(x, _mm256_set1_ps(0.5f)),
                             _mm256_add_ps(_mm256_set1_ps(1.0f), e));
    }
    return x;
}
#endif

/* In place over n floats. */
static void act_span(float *x, size_t n, sam2_act act) {
    if (act == SAM2_ACT_NONE) return;
    size_t i = 0;
#ifdef SAM2_HAVE_AVX2
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, act8(_mm256_loadu_ps(x + i), act));
#endif
    for (; i < n; i++) x[i] = act1(x[i], act);
}

/* --- depthwise ------------------------------------------------------------------------------ */

size_t depthwise_scratch_floats(int C, int K, int OH) {
    (void)OH;
    if (C <= 0 || K <= 0) return 16;
    return (size_t)K * K * C + (size_t)DW_MAX_TASKS * C + 16;
}

typedef struct dwx_job {
    float *out, *sums;
    const float *in, *wr, *b;
    int H, W, C, K, stride, pad, OH, OW, rows_per_task;
    sam2_act act;
} dwx_job;

#ifdef SAM2_HAVE_AVX2
/* Channels [c0, c0 + 8*NV) of output pixel (oy, ox). */
static inline __attribute__((always_inline)) void dw_block(const dwx_job *j, int oy, int ox, int c0,
                                                           const int NV, float *sums) {
    __m256 acc[8];
    for (int v = 0; v < NV; v++)
        acc[v] = j->b ? _mm256_loadu_ps(j->b + c0 + 8 * v) : _mm256_setzero_ps();
    for (int ky = 0; ky < j->K; ky++) {
        const int y = oy * j->stride - j->pad + ky;
        if (y < 0 || y >= j->H) continue;
        for (int kx = 0; kx < j->K; kx++) {
            const int x = ox * j->stride - j->pad + kx;
            if (x < 0 || x >= j->W) continue;
            const float *src = j->in + ((size_t)y * j->W + x) * j->C + c0;
            const float *w = j->wr + ((size_t)ky * j->K + kx) * j->C + c0;
            for (int v = 0; v < NV; v++)
                acc[v] = _mm256_fmadd_ps(_mm256_loadu_ps(src + 8 * v), _mm256_loadu_ps(w + 8 * v),
                                         acc[v]);
        }
    }
    float *o = j->out + ((size_t)oy * j->OW + ox) * j->C + c0;
    for (int v = 0; v < NV; v++) {
        const __m256 r = act8(acc[v], j->act);
        _mm256_storeu_ps(o + 8 * v, r);
        if (sums)
            _mm256_storeu_ps(sums + c0 + 8 * v,
                             _mm256_add_ps(_mm256_loadu_ps(sums + c0 + 8 * v), r));
    }
}
#endif

/* Channel c of output pixel (oy, ox), scalar. */
static inline float dw_one(const dwx_job *j, int oy, int ox, int c) {
    float acc = j->b ? j->b[c] : 0.0f;
    for (int ky = 0; ky < j->K; ky++) {
        const int y = oy * j->stride - j->pad + ky;
        if (y < 0 || y >= j->H) continue;
        for (int kx = 0; kx < j->K; kx++) {
            const int x = ox * j->stride - j->pad + kx;
            if (x < 0 || x >= j->W) continue;
            acc += j->in[((size_t)y * j->W + x) * j->C + c] *
                   j->wr[((size_t)ky * j->K + kx) * j->C + c];
        }
    }
    return act1(acc, j->act);
}

static void dw_task(void *ctx, int64_t task, int worker) {
    (void)worker;
    const dwx_job *j = ctx;
    const int y0 = (int)task * j->rows_per_task;
    const int y1 = y0 + j->rows_per_task < j->OH ? y0 + j->rows_per_task : j->OH;
    float *sums = j->sums ? j->sums + (size_t)task * j->C : NULL;
    if (sums) memset(sums, 0, sizeof(float) * j->C);
    for (int oy = y0; oy < y1; oy++)
        for (int ox = 0; ox < j->OW; ox++) {
            int c0 = 0;
#ifdef SAM2_HAVE_AVX2
            for (; c0 + 64 <= j->C; c0 += 64) dw_block(j, oy, ox, c0, 8, sums);
            switch ((j->C - c0) / 8) {
            case 7:
                dw_block(j, oy, ox, c0, 7, sums);
                break;
            case 6:
                dw_block(j, oy, ox, c0, 6, sums);
                break;
            case 5:
                dw_block(j, oy, ox, c0, 5, sums);
                break;
            case 4:
                dw_block(j, oy, ox, c0, 4, sums);
                break;
            case 3:
                dw_block(j, oy, ox, c0, 3, sums);
                break;
            case 2:
                dw_block(j, oy, ox, c0, 2, sums);
                break;
            case 1:
                dw_block(j, oy, ox, c0, 1, sums);
                break;
            default:
                break;
            }
            c0 += (j->C - c0) / 8 * 8;
#endif
            for (; c0 < j->C; c0++) {
                const float r = dw_one(j, oy, ox, c0);
                j->out[((size_t)oy * j->OW + ox) * j->C + c0] = r;
                if (sums) sums[c0] += r;
            }
        }
}

void cpu_depthwise_conv(float *out, const float *in, const float *w, const float *b, int H, int W,
                        int C, int K, int stride, int pad, sam2_act act, float *mean,
                        float *scratch) {
    if (H <= 0 || W <= 0 || C <= 0 || K <= 0 || stride <= 0) return;
    const int OH = out_size(H, K, stride, pad), OW = out_size(W, K, stride, pad);
    if (OH <= 0 || OW <= 0) return;
    /* weights [C][1][K][K] -> [K][K][C]: the inner loops run over contiguous channels */
    float *wr = scratch, *sums = mean ? scratch + (size_t)K * K * C : NULL;
    for (int c = 0; c < C; c++)
        for (int t = 0; t < K * K; t++) wr[(size_t)t * C + c] = w[(size_t)c * K * K + t];
    const int ntasks = OH < DW_MAX_TASKS ? OH : DW_MAX_TASKS;
    dwx_job j = {out, sums, in, wr, b, H, W, C, K, stride, pad, OH, OW, (OH + ntasks - 1) / ntasks,
                 act};
    const int tasks = (OH + j.rows_per_task - 1) / j.rows_per_task;
    const int64_t work = (int64_t)OH * OW * C * K * K;
    cpu_parallel_tasks(tasks, work < CPU_ELEMWISE_GRAIN ? 1 : pool_threads(), dw_task, &j);
    if (!mean) return;
    for (int c = 0; c < C; c++) {
        double s = 0; /* task order, whatever thread ran each task */
        for (int t = 0; t < tasks; t++) s += sums[(size_t)t * C + c];
        mean[c] = (float)(s / ((double)OH * OW));
    }
}

/* --- pointwise MLP ------------------------------------------------------------------------- */

static int mlp_block_rows(int Hd) {
    int r = MLP_BLOCK_FLOATS / (Hd > 0 ? Hd + Hd / 2 : 1) / 6 * 6;
    return r < 48 ? 48 : (r > 252 ? 252 : r);
}


size_t pointwise_mlp_scratch_floats(int N, int C, int Hd) {
    (void)N;
    if (C <= 0 || Hd <= 0) return 16;
    int workers = pool_threads();
    if (workers > MLP_MAX_WORKERS) workers = MLP_MAX_WORKERS;
    return (size_t)Hd * C + (size_t)workers * mlp_block_rows(Hd) * (Hd + C) + 64;
}

typedef struct mlp_job {
    float *out, *hidden;
    const float *in, *scale, *pw1, *pw2, *b1, *b2;
    int N, C, Hd, rows;
    sam2_act act;
} mlp_job;

/* out[r] = x[r] * scale + y[r] for rows x C (scale may be NULL). */
static void residual_rows(float *out, const float *x, const float *y, const float *scale, int rows,
                          int C) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * C, *yr = y + (size_t)r * C;
        float *o = out + (size_t)r * C;
        int c = 0;
#ifdef SAM2_HAVE_AVX2
        for (; c + 8 <= C; c += 8) {
            __m256 v = _mm256_loadu_ps(xr + c);
            if (scale) v = _mm256_mul_ps(v, _mm256_loadu_ps(scale + c));
            _mm256_storeu_ps(o + c, _mm256_add_ps(v, _mm256_loadu_ps(yr + c)));
        }
#endif
        for (; c < C; c++) o[c] = (scale ? xr[c] * scale[c] : xr[c]) + yr[c];
    }
}

static void mlp_task(void *ctx, int64_t task, int worker) {
    const mlp_job *j = ctx;
    const int r0 = (int)task * j->rows, rows = j->N - r0 < j->rows ? j->N - r0 : j->rows;
    const int C = j->C, Hd = j->Hd;
    float *h = j->hidden + (size_t)worker * j->rows * (Hd + C), *y = h + (size_t)j->rows * Hd;
    const float *x = j->in + (size_t)r0 * C;
    float *o = j->out + (size_t)r0 * C;
    /* h = act(x (W1 diag(scale))^T + b1); y = h W2^T + b2 (nested: serial in this task) */
    cpu_matmul_nt(h, Hd, x, C, j->pw1, C, j->b1, rows, C, Hd);
    act_span(h, (size_t)rows * Hd, j->act);
    cpu_matmul_nt(y, C, h, Hd, j->pw2, Hd, j->b2, rows, Hd, C);
    /* o = x * scale + y (x is read before o is written: out may be in) */
    residual_rows(o, x, y, j->scale, rows, C);
}

void cpu_pointwise_mlp(float *out, const float *in, const float *scale, const float *w1,
                       const float *b1, const float *w2, const float *b2, int N, int C, int Hd,
                       sam2_act act, float *scratch) {
    if (N <= 0 || C <= 0 || Hd <= 0) return;
    /* the SE gate goes into W1's columns: (x * s) W1^T = x (W1 diag(s))^T */
    const float *pw1 = w1;
    float *hidden = scratch;
    if (scale) {
        float *sw = scratch;
        for (int j = 0; j < Hd; j++)
            for (int c = 0; c < C; c++) sw[(size_t)j * C + c] = w1[(size_t)j * C + c] * scale[c];
        pw1 = sw;
        hidden = scratch + (size_t)Hd * C;
    }
    mlp_job j = {out, hidden, in, scale, pw1, w2, b1, b2, N, C, Hd, mlp_block_rows(Hd), act};
    int workers = pool_threads();
    if (workers > MLP_MAX_WORKERS) workers = MLP_MAX_WORKERS;
    cpu_parallel_tasks((N + j.rows - 1) / j.rows, workers, mlp_task, &j);
}

/* --- rope ------------------------------------------------------------------------------------ */

typedef struct rope_job {
    float *x;
    const float *cos_t, *sin_t;
    int ld, half, table_rows, period, skip;
} rope_job;

static void rope_rows(void *ctx, int64_t begin, int64_t end) {
    const rope_job *j = ctx;
    for (int64_t r = begin; r < end; r++) {
        const int p = (int)(r % j->period);
        if (p < j->skip) continue;
        const size_t t = (size_t)((p - j->skip) % j->table_rows) * j->half;
        float *row = j->x + (size_t)r * j->ld;
        const float *c = j->cos_t + t, *s = j->sin_t + t;
        for (int i = 0; i < j->half; i++) {
            const float a = row[2 * i], b = row[2 * i + 1];
            row[2 * i] = a * c[i] - b * s[i];
            row[2 * i + 1] = a * s[i] + b * c[i];
        }
    }
}

void cpu_rope(float *x, int n, int ld, int dim, const float *cos_t, const float *sin_t,
              int table_rows, int period, int skip) {
    if (n <= 0 || dim < 2 || table_rows <= 0 || period <= 0) return;
    rope_job j = {x, cos_t, sin_t, ld, dim / 2, table_rows, period, skip};
    pool_for(n, 1 + CPU_ELEMWISE_GRAIN / dim, rope_rows, &j);
}
