/* Optimised CPU kernels: GEMMs through OpenBLAS, element-wise and row-wise ops split over the
 * thread pool, their vector code from the kernel table in use (core/cpu_kernels.h: AVX2, NEON or
 * baseline). Attention, convolutions and resizes live in ops_cpu_*.c. */
#include "core/cpu_kernels.h"
#include "core/ops_cpu.h"
#include "core/device.h"
#include "core/threadpool.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* --- dynamic task loop ---------------------------------------------------------------------- */

typedef struct task_loop {
    cpu_task_fn fn;
    void *ctx;
    int64_t ntasks;
    atomic_int_fast64_t next;
} task_loop;

static void task_loop_worker(void *ctx, int64_t begin, int64_t end) {
    task_loop *l = ctx;
    (void)end; /* a serial (nested) run gets the whole range: it is worker `begin` alone */
    for (int64_t t; (t = atomic_fetch_add(&l->next, 1)) < l->ntasks;) l->fn(l->ctx, t, (int)begin);
}

void cpu_parallel_tasks(int64_t ntasks, int max_workers, cpu_task_fn fn, void *ctx) {
    if (ntasks <= 0) return;
    int64_t workers = pool_threads();
    if (workers > max_workers) workers = max_workers;
    if (workers > ntasks) workers = ntasks;
    if (workers < 1) workers = 1;
    task_loop l = {.fn = fn, .ctx = ctx, .ntasks = ntasks};
    atomic_init(&l.next, 0);
    pool_for(workers, 1, task_loop_worker, &l);
}

/* --- element-wise ops ------------------------------------------------------------------- */

typedef void (*span_fn)(float *out, const float *a, const float *b, size_t n);
typedef struct span_job {
    span_fn fn;
    float *out;
    const float *a, *b;
} span_job;

static void span_task(void *ctx, int64_t begin, int64_t end) {
    const span_job *j = ctx;
    j->fn(j->out + begin, j->a + begin, j->b ? j->b + begin : NULL, (size_t)(end - begin));
}

static void run_span(span_fn fn, float *out, const float *a, const float *b, size_t n) {
    span_job j = {fn, out, a, b};
    pool_for((int64_t)n, CPU_ELEMWISE_GRAIN, span_task, &j);
}

static void add_span(float *out, const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i]; /* auto-vectorised */
}

static void cpu_gelu(float *out, const float *in, size_t n) {
    run_span(cpu_kernels_get()->gelu, out, in, NULL, n);
}
static void cpu_relu(float *out, const float *in, size_t n) {
    run_span(cpu_kernels_get()->relu, out, in, NULL, n);
}
static void cpu_sigmoid(float *out, const float *in, size_t n) {
    run_span(cpu_kernels_get()->sigmoid, out, in, NULL, n);
}
static void cpu_add(float *out, const float *a, const float *b, size_t n) {
    run_span(add_span, out, a, b, n);
}

/* --- LayerNorm ------------------------------------------------------------------------------ */

typedef struct ln_job {
    float *out;
    const float *in, *w, *b;
    int C;
    float eps;
} ln_job;

static void layernorm_task(void *ctx, int64_t begin, int64_t end) {
    const ln_job *j = ctx;
    cpu_kernels_get()->layernorm_rows(j->out + begin * j->C, j->in + begin * j->C, j->w, j->b,
                                      end - begin, j->C, j->eps);
}

static void cpu_layernorm(float *out, const float *in, const float *w, const float *b, int N, int C,
                          float eps) {
    if (N <= 0 || C <= 0) return;
    ln_job j = {out, in, w, b, C, eps};
    pool_for(N, 1 + CPU_ELEMWISE_GRAIN / C, layernorm_task, &j);
}

/* --- softmax ------------------------------------------------------------------------------ */

typedef struct softmax_job {
    float *x;
    int cols;
} softmax_job;

static void softmax_task(void *ctx, int64_t begin, int64_t end) {
    const softmax_job *j = ctx;
    cpu_kernels_get()->softmax_rows(j->x + begin * j->cols, end - begin, j->cols);
}

static void cpu_softmax_rows(float *x, int rows, int cols) {
    if (rows <= 0 || cols <= 0) return;
    softmax_job j = {x, cols};
    pool_for(rows, 1 + CPU_ELEMWISE_GRAIN / cols, softmax_task, &j);
}

/* --- pooling and nearest upsampling --------------------------------------------------------- */

typedef struct map_job {
    float *out;
    const float *in;
    int H, W, C;
} map_job;

static void maxpool_task(void *ctx, int64_t begin, int64_t end) {
    const map_job *j = ctx;
    const int W = j->W, C = j->C, OW = W / 2;
    for (int64_t y = begin; y < end; y++)
        for (int x = 0; x < OW; x++) {
            const float *a = j->in + ((size_t)(2 * y) * W + 2 * x) * C;
            const float *b = a + C, *c2 = a + (size_t)W * C, *d = c2 + C;
            float *o = j->out + ((size_t)y * OW + x) * C;
            for (int c = 0; c < C; c++) {
                /* first-max with NaN propagation, as PyTorch's max_pool2d */
                float m = a[c];
                m = (b[c] > m || b[c] != b[c]) ? b[c] : m;
                m = (c2[c] > m || c2[c] != c2[c]) ? c2[c] : m;
                m = (d[c] > m || d[c] != d[c]) ? d[c] : m;
                o[c] = m;
            }
        }
}

static void cpu_maxpool2x2(float *out, const float *in, int H, int W, int C) {
    map_job j = {out, in, H, W, C};
    const int64_t row = (int64_t)W * C;
    pool_for(H / 2, 1 + CPU_ELEMWISE_GRAIN / (row > 0 ? row : 1), maxpool_task, &j);
}

static void upsample_task(void *ctx, int64_t begin, int64_t end) {
    const map_job *j = ctx;
    const int W = j->W, C = j->C;
    const size_t orow = (size_t)2 * W * C;
    for (int64_t y = begin; y < end; y++) {
        const float *src = j->in + (size_t)y * W * C;
        float *o = j->out + (size_t)(2 * y) * orow;
        for (int x = 0; x < W; x++) {
            memcpy(o + (size_t)(2 * x) * C, src + (size_t)x * C, sizeof(float) * C);
            memcpy(o + (size_t)(2 * x + 1) * C, src + (size_t)x * C, sizeof(float) * C);
        }
        memcpy(o + orow, o, sizeof(float) * orow);
    }
}

static void cpu_upsample_nearest2x(float *out, const float *in, int H, int W, int C) {
    map_job j = {out, in, H, W, C};
    const int64_t row = (int64_t)W * C * 4;
    pool_for(H, 1 + CPU_ELEMWISE_GRAIN / (row > 0 ? row : 1), upsample_task, &j);
}

/* --- tables --------------------------------------------------------------------------------- */

const sam2_backend *sam2_backend_cpu(void) {
    static const sam2_backend be = {
        .name = "cpu",
        .gemm = cpu_gemm,
        .linear = cpu_linear,
        .layernorm = cpu_layernorm,
        .gelu = cpu_gelu,
        .relu = cpu_relu,
        .sigmoid = cpu_sigmoid,
        .add = cpu_add,
        .softmax_rows = cpu_softmax_rows,
        .attention = cpu_attention,
        .attention_dv = cpu_attention_dv,
        .attention_batched = cpu_attention_batched,
        .conv2d = cpu_conv2d,
        .conv_transpose2x2 = cpu_conv_transpose2x2,
        .maxpool2x2 = cpu_maxpool2x2,
        .upsample_nearest2x = cpu_upsample_nearest2x,
        .resize_bilinear = cpu_resize_bilinear,
        .resize_bicubic = cpu_resize_bicubic,
        .depthwise_conv = cpu_depthwise_conv,
        .pointwise_mlp = cpu_pointwise_mlp,
        .rope = cpu_rope,
    };
    return &be;
}

const sam2_backend *sam2_backend_default(void) {
    return sam2_device_default()->kernels;
}
