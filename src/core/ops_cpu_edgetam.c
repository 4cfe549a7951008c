/* CPU kernels of EdgeTAM's RepViT trunk and memory attention, channels-last.
 *  - depthwise_conv: one pass over the output with the kernel table's depthwise_rows (vectorised
 *    over channels, up to 64 per register block), rows in parallel; the bias (folded
 *    BatchNorm), the activation and the per-channel sums for squeeze-and-excitation are
 *    applied as each output vector leaves the registers.
 *    The sums are kept per row task and added in task order, so the mean does not depend on
 *    how the threads were scheduled.
 *  - pointwise_mlp: both 1x1 layers on blocks of rows (cpu_matmul_nt: the kernel table's tiles,
 *    or OpenBLAS when the table has none). The SE gate is folded into W1's columns once per
 *    call; a block's hidden
 *    rows stay in the worker's cache-sized buffer, its activation runs there, and the second
 *    layer accumulates onto out = x * scale + b2, so each output row is written once.
 *  - rope: rows in parallel (a few hundred thousand pairs per call). */
#include "core/ops_cpu.h"
#include "core/cpu_kernels.h"
#include "core/threadpool.h"

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

/* In place over n floats, with the kernel table's activation spans. */
static void act_span(const cpu_kernels *kern, float *x, size_t n, sam2_act act) {
    if (act == SAM2_ACT_RELU) kern->relu(x, x, NULL, n);
    if (act == SAM2_ACT_GELU) kern->gelu(x, x, NULL, n);
}

/* --- depthwise ------------------------------------------------------------------------------ */

size_t depthwise_scratch_floats(int C, int K, int OH) {
    (void)OH;
    if (C <= 0 || K <= 0) return 16;
    return (size_t)K * K * C + (size_t)DW_MAX_TASKS * C + 16;
}

typedef struct dw_job {
    cpu_depthwise d;
    const cpu_kernels *kern;
    float *sums;
    int OH, rows_per_task;
} dw_job;

static void dw_task(void *ctx, int64_t task, int worker) {
    (void)worker;
    const dw_job *j = ctx;
    const int y0 = (int)task * j->rows_per_task;
    const int y1 = y0 + j->rows_per_task < j->OH ? y0 + j->rows_per_task : j->OH;
    float *sums = j->sums ? j->sums + (size_t)task * j->d.C : NULL;
    if (sums) memset(sums, 0, sizeof(float) * j->d.C);
    j->kern->depthwise_rows(&j->d, y0, y1, sums);
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
    dw_job j = {.d = {out, in, wr, b, H, W, C, K, stride, pad, OW, (int)act},
                .kern = cpu_kernels_get(),
                .sums = sums,
                .OH = OH,
                .rows_per_task = (OH + ntasks - 1) / ntasks};
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
    const cpu_kernels *kern;
    float *out, *hidden;
    const float *in, *scale, *pw1, *pw2, *b1, *b2;
    int N, C, Hd, rows;
    sam2_act act;
} mlp_job;

/* out[r] = x[r] * scale + y[r] for rows x C (scale may be NULL). Plain C: memory-bound, and
 * the compiler vectorises it for whatever the build targets. */
static void residual_rows(float *out, const float *x, const float *y, const float *scale, int rows,
                          int C) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * C, *yr = y + (size_t)r * C;
        float *o = out + (size_t)r * C;
        for (int c = 0; c < C; c++) o[c] = (scale ? xr[c] * scale[c] : xr[c]) + yr[c];
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
    act_span(j->kern, h, (size_t)rows * Hd, j->act);
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
    mlp_job j = {cpu_kernels_get(),  out, hidden, in, scale, pw1, w2, b1, b2, N, C, Hd,
                 mlp_block_rows(Hd), act};
    int workers = pool_threads();
    if (workers > MLP_MAX_WORKERS) workers = MLP_MAX_WORKERS;
    /* Without the table's tiles the blocks' GEMMs go to OpenBLAS, which threads each one
     * itself: the blocks then run one after the other rather than calling it from every
     * worker at once. */
    if (!cpu_matmul_nt_direct(C) || !cpu_matmul_nt_direct(Hd)) workers = 1;
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
