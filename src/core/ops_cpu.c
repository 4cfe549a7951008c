/* Optimised CPU kernels: GEMMs through OpenBLAS, element-wise and row-wise ops vectorised with
 * AVX2/FMA when the compiler targets it (scalar loops otherwise) and split over the thread
 * pool. Attention, convolutions and resizes live in ops_cpu_*.c. */
#include "core/ops_cpu.h"
#include "core/threadpool.h"
#include "core/vmath.h"

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

#ifdef SAM2_HAVE_AVX2
/* Applies a vector function to n floats; the tail goes through a zero-padded vector so every
 * element gets the same arithmetic wherever it sits. */
#define SPAN_UNARY(NAME, VEXPR)                                                                    \
    static void NAME(float *out, const float *in, const float *unused, size_t n) {                 \
        (void)unused;                                                                              \
        size_t i = 0;                                                                              \
        for (; i + 8 <= n; i += 8) {                                                               \
            __m256 x = _mm256_loadu_ps(in + i);                                                    \
            _mm256_storeu_ps(out + i, (VEXPR));                                                    \
        }                                                                                          \
        if (i < n) {                                                                               \
            float buf[8] = {0};                                                                    \
            memcpy(buf, in + i, sizeof(float) * (n - i));                                          \
            __m256 x = _mm256_loadu_ps(buf);                                                       \
            _mm256_storeu_ps(buf, (VEXPR));                                                        \
            memcpy(out + i, buf, sizeof(float) * (n - i));                                         \
        }                                                                                          \
    }

static inline __m256 v8_gelu(__m256 x) {
    __m256 e = v8_erf(_mm256_mul_ps(x, _mm256_set1_ps((float)M_SQRT1_2)));
    return _mm256_mul_ps(_mm256_mul_ps(x, _mm256_set1_ps(0.5f)),
                         _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}
static inline __m256 v8_sigmoid(__m256 x) {
    __m256 e = v8_exp(_mm256_sub_ps(_mm256_setzero_ps(), x));
    return _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}
static inline __m256 v8_relu(__m256 x) {
    /* x < 0 ? 0 : x, so NaN passes through */
    return _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ), x);
}
SPAN_UNARY(gelu_span, v8_gelu(x))
SPAN_UNARY(sigmoid_span, v8_sigmoid(x))
SPAN_UNARY(relu_span, v8_relu(x))
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

static void add_span(float *out, const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i]; /* auto-vectorised */
}

static void cpu_gelu(float *out, const float *in, size_t n) {
    run_span(gelu_span, out, in, NULL, n);
}
static void cpu_relu(float *out, const float *in, size_t n) {
    run_span(relu_span, out, in, NULL, n);
}
static void cpu_sigmoid(float *out, const float *in, size_t n) {
    run_span(sigmoid_span, out, in, NULL, n);
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

static void layernorm_row(float *y, const float *x, const float *w, const float *b, int C,
                          float eps) {
    int c = 0;
    float sum = 0.0f;
#ifdef SAM2_HAVE_AVX2
    __m256 vs = _mm256_setzero_ps();
    for (; c + 8 <= C; c += 8) vs = _mm256_add_ps(vs, _mm256_loadu_ps(x + c));
    sum = v8_hsum(vs);
#endif
    for (; c < C; c++) sum += x[c];
    const float mean = sum / (float)C;
    float ss = 0.0f;
    c = 0;
#ifdef SAM2_HAVE_AVX2
    __m256 vm = _mm256_set1_ps(mean), vq = _mm256_setzero_ps();
    for (; c + 8 <= C; c += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + c), vm);
        vq = _mm256_fmadd_ps(d, d, vq);
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

static void layernorm_task(void *ctx, int64_t begin, int64_t end) {
    const ln_job *j = ctx;
    for (int64_t r = begin; r < end; r++)
        layernorm_row(j->out + r * j->C, j->in + r * j->C, j->w, j->b, j->C, j->eps);
}

static void cpu_layernorm(float *out, const float *in, const float *w, const float *b, int N, int C,
                          float eps) {
    if (N <= 0 || C <= 0) return;
    ln_job j = {out, in, w, b, C, eps};
    pool_for(N, 1 + CPU_ELEMWISE_GRAIN / C, layernorm_task, &j);
}

/* --- softmax ------------------------------------------------------------------------------ */

/* Softmax of one row in place: subtract the max, exponentiate, scale by 1/sum (as PyTorch's
 * vectorised softmax over the last dimension). */
static void cpu_softmax_row(float *x, int n) {
    int c = 0;
    float m = -INFINITY;
#ifdef SAM2_HAVE_AVX2
    __m256 vm = _mm256_set1_ps(-INFINITY);
    for (; c + 8 <= n; c += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(x + c));
    m = v8_hmax(vm);
#endif
    for (; c < n; c++) m = x[c] > m ? x[c] : m;
    float sum = 0.0f;
    c = 0;
#ifdef SAM2_HAVE_AVX2
    __m256 vmax = _mm256_set1_ps(m), vs = _mm256_setzero_ps();
    for (; c + 8 <= n; c += 8) {
        __m256 e = v8_exp(_mm256_sub_ps(_mm256_loadu_ps(x + c), vmax));
        _mm256_storeu_ps(x + c, e);
        vs = _mm256_add_ps(vs, e);
    }
    if (c < n) {
        float buf[8];
        for (int i = 0; i < 8; i++) buf[i] = c + i < n ? x[c + i] : m;
        __m256 e = v8_exp(_mm256_sub_ps(_mm256_loadu_ps(buf), vmax));
        _mm256_storeu_ps(buf, e);
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

typedef struct softmax_job {
    float *x;
    int cols;
} softmax_job;

static void softmax_task(void *ctx, int64_t begin, int64_t end) {
    const softmax_job *j = ctx;
    for (int64_t r = begin; r < end; r++) cpu_softmax_row(j->x + r * j->cols, j->cols);
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
    const char *name = getenv("SAM2_BACKEND");
    if (name && strcmp(name, "ref") == 0) return sam2_backend_ref();
    return sam2_backend_cpu();
}
