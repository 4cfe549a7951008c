/* bench-ops: throughput of the CPU kernels, with the SGEMM rate measured in the same run.
 *
 *   build/bin/bench-ops [repeats]     (default 7; every figure is the median of the repeats)
 *
 * Prints GFLOP/s (and the ratio to the same-run 2048^3 SGEMM rate) for SGEMM at several sizes
 * and model shapes, linear with bias, attention (Hiera-T global: 4 heads x 4096 tokens, D=96;
 * windowed: 1024 windows of 64 tokens, D=96) next to two OpenBLAS-based alternatives, the patch
 * embedding and depthwise convolutions; GB/s for LayerNorm and GELU; ms for the resizes. */
#include "core/ops.h"
#include "core/perf.h"
#include "core/threadpool.h"

#include "core/blas.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int repeats = 7;
static double sgemm_ref; /* GFLOP/s of the reference SGEMM in this run */

static float *randbuf(size_t n) {
    float *p = malloc(sizeof(float) * n);
    if (!p) {
        fprintf(stderr, "bench-ops: out of memory\n");
        exit(1);
    }
    unsigned s = 1234567u;
    for (size_t i = 0; i < n; i++)
        p[i] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 8388608.0f - 1.0f;
    return p;
}

static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef void (*bench_fn)(void *ctx);

static double last_best; /* fastest of the repeats of the last time_median() */

/* Median seconds of `repeats` calls after one warm-up (the fastest goes to last_best: on a
 * busy machine it is the steadier figure). */
static double time_median(bench_fn fn, void *ctx) {
    double t[64];
    int n = repeats < 64 ? repeats : 64;
    fn(ctx);
    for (int i = 0; i < n; i++) {
        double t0 = perf_now_seconds();
        fn(ctx);
        t[i] = perf_now_seconds() - t0;
    }
    qsort(t, (size_t)n, sizeof(double), cmpd);
    last_best = t[0];
    return t[n / 2];
}

static void report_flops(const char *what, double flop, double sec) {
    double g = flop / sec * 1e-9, gb = flop / last_best * 1e-9;
    printf("%-58s %8.2f ms %7.1f GFLOP/s %5.1f%% of SGEMM (best %6.1f)\n", what, sec * 1e3, g,
           100.0 * g / sgemm_ref, gb);
}

static void report_bytes(const char *what, double bytes, double sec) {
    printf("%-58s %8.2f ms %7.1f GB/s (best %.1f)\n", what, sec * 1e3, bytes / sec * 1e-9,
           bytes / last_best * 1e-9);
}

/* --- attention -------------------------------------------------------------------------------- */

typedef struct attn_ctx {
    const sam2_backend *be;
    float *qkv, *out, *scratch, *blas_s;
    int nwin, heads, L, D;
} attn_ctx;

static void run_attention(void *p) {
    attn_ctx *c = p;
    const int HD = c->heads * c->D;
    c->be->attention_batched(c->out, HD, c->qkv, 3 * HD, c->qkv + HD, 3 * HD, c->qkv + 2 * HD,
                             3 * HD, c->nwin, c->heads, c->L, c->L, c->D, c->scratch);
}

/* OpenBLAS alternative 1: one (window, head) per pool task, single sgemm calls from each pool
 * thread (S = Q K^T, softmax, O = S V), scratch S per thread. */
typedef struct blas_task_ctx {
    attn_ctx *c;
} blas_task_ctx;

static void blas_window(attn_ctx *c, int w, int h, float *S) {
    const int HD = c->heads * c->D, ld = 3 * HD, L = c->L, D = c->D;
    const float *q = c->qkv + (size_t)w * L * ld + (size_t)h * D;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, L, L, D, 1.0f / sqrtf((float)D), q, ld,
                q + HD, ld, 0.0f, S, L);
    for (int i = 0; i < L; i++) {
        float *r = S + (size_t)i * L, m = r[0], s = 0;
        for (int j = 1; j < L; j++) m = r[j] > m ? r[j] : m;
        for (int j = 0; j < L; j++) s += (r[j] = expf(r[j] - m));
        for (int j = 0; j < L; j++) r[j] /= s;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, L, D, L, 1.0f, S, L, q + 2 * HD, ld,
                0.0f, c->out + (size_t)w * L * HD + (size_t)h * D, HD);
}

static void blas_pool_task(void *p, int64_t b, int64_t e) {
    attn_ctx *c = p;
    float *S = malloc(sizeof(float) * (size_t)c->L * c->L);
    for (int64_t t = b; t < e; t++) blas_window(c, (int)(t / c->heads), (int)(t % c->heads), S);
    free(S);
}

static void run_blas_pool(void *p) {
    attn_ctx *c = p;
    pool_for((int64_t)c->nwin * c->heads, 1, blas_pool_task, c);
}

/* OpenBLAS alternative 2: serial loop over problems, each sgemm using all OpenBLAS threads;
 * large problems in blocks of 256 query rows. */
static void run_blas_serial(void *p) {
    attn_ctx *c = p;
    const int HD = c->heads * c->D, ld = 3 * HD, L = c->L, D = c->D, BQ = 256;
    for (int w = 0; w < c->nwin; w++)
        for (int h = 0; h < c->heads; h++) {
            const float *q = c->qkv + (size_t)w * L * ld + (size_t)h * D;
            for (int i0 = 0; i0 < L; i0 += BQ) {
                const int nq = L - i0 < BQ ? L - i0 : BQ;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, L, D,
                            1.0f / sqrtf((float)D), q + (size_t)i0 * ld, ld, q + HD, ld, 0.0f,
                            c->blas_s, L);
                c->be->softmax_rows(c->blas_s, nq, L);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nq, D, L, 1.0f, c->blas_s, L,
                            q + 2 * HD, ld, 0.0f,
                            c->out + ((size_t)w * L + i0) * HD + (size_t)h * D, HD);
            }
        }
}

static void bench_attention(const char *name, int nwin, int heads, int L, int D) {
    attn_ctx c = {.be = sam2_backend_cpu(), .nwin = nwin, .heads = heads, .L = L, .D = D};
    c.qkv = randbuf((size_t)nwin * L * 3 * heads * D);
    c.out = randbuf((size_t)nwin * L * heads * D);
    c.scratch = randbuf(attention_batched_scratch_floats(nwin, heads, L, L));
    c.blas_s = randbuf((size_t)256 * L);
    const double flop = 4.0 * nwin * heads * (double)L * L * D;
    char what[128];
    snprintf(what, sizeof what, "attention %s (sam2 kernel)", name);
    report_flops(what, flop, time_median(run_attention, &c));
    snprintf(what, sizeof what, "attention %s (OpenBLAS, per task in pool)", name);
    if (L <= 1024) report_flops(what, flop, time_median(run_blas_pool, &c));
    snprintf(what, sizeof what, "attention %s (OpenBLAS threads, serial)", name);
    report_flops(what, flop, time_median(run_blas_serial, &c));
    free(c.qkv), free(c.out), free(c.scratch), free(c.blas_s);
}

/* --- GEMM-based ops -----------------------------------------------------------------------------
 */

typedef struct lin_ctx {
    float *in, *w, *b, *out;
    int N, IC, OC;
} lin_ctx;

static void run_linear(void *p) {
    lin_ctx *c = p;
    sam2_backend_cpu()->linear(c->out, c->in, c->w, c->b, c->N, c->IC, c->OC);
}

/* The same through OpenBLAS: rows pre-filled with the bias, sgemm NT with beta = 1. */
static void run_linear_blas(void *p) {
    lin_ctx *c = p;
    for (int r = 0; r < c->N; r++) memcpy(c->out + (size_t)r * c->OC, c->b, sizeof(float) * c->OC);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c->N, c->OC, c->IC, 1.0f, c->in, c->IC,
                c->w, c->IC, 1.0f, c->out, c->OC);
}

static void bench_linear(int N, int IC, int OC) {
    lin_ctx c = {randbuf((size_t)N * IC),
                 randbuf((size_t)OC * IC),
                 randbuf(OC),
                 randbuf((size_t)N * OC),
                 N,
                 IC,
                 OC};
    char what[96];
    snprintf(what, sizeof what, "linear+bias %d x %d -> %d (sam2 kernel)", N, IC, OC);
    report_flops(what, 2.0 * N * IC * OC, time_median(run_linear, &c));
    snprintf(what, sizeof what, "linear+bias %d x %d -> %d (OpenBLAS)", N, IC, OC);
    report_flops(what, 2.0 * N * IC * OC, time_median(run_linear_blas, &c));
    free(c.in), free(c.w), free(c.b), free(c.out);
}

typedef struct conv_ctx {
    float *in, *w, *b, *out, *scratch;
    int H, W, IC, OC, K, stride, pad, groups;
} conv_ctx;

static void run_conv(void *p) {
    conv_ctx *c = p;
    sam2_backend_cpu()->conv2d(c->out, c->in, c->w, c->b, c->H, c->W, c->IC, c->OC, c->K, c->K,
                               c->stride, c->pad, c->groups, c->scratch);
}

static void bench_conv(const char *name, int H, int W, int IC, int OC, int K, int stride, int pad,
                       int groups) {
    const int OH = (H + 2 * pad - K) / stride + 1, OW = (W + 2 * pad - K) / stride + 1;
    conv_ctx c = {randbuf((size_t)H * W * IC),
                  randbuf((size_t)OC * (IC / groups) * K * K),
                  randbuf(OC),
                  randbuf((size_t)OH * OW * OC),
                  randbuf(conv2d_scratch_floats(H, W, IC, OC, K, K, stride, pad, groups)),
                  H,
                  W,
                  IC,
                  OC,
                  K,
                  stride,
                  pad,
                  groups};
    const double flop = 2.0 * OH * OW * OC * (double)(IC / groups) * K * K;
    report_flops(name, flop, time_median(run_conv, &c));
    free(c.in), free(c.w), free(c.b), free(c.out), free(c.scratch);
}

/* --- EdgeTAM: RepViT's fused pointwise MLP and depthwise 3x3 ------------------------------- */

typedef struct repvit_ctx {
    float *in, *out, *w1, *b1, *w2, *b2, *scale, *scratch, *mean;
    int H, W, C, stride;
} repvit_ctx;

static void run_mlp(void *p) {
    repvit_ctx *c = p;
    sam2_backend_cpu()->pointwise_mlp(c->out, c->in, c->scale, c->w1, c->b1, c->w2, c->b2,
                                      c->H * c->W, c->C, 2 * c->C, SAM2_ACT_GELU, c->scratch);
}

static void run_dw(void *p) {
    repvit_ctx *c = p;
    sam2_backend_cpu()->depthwise_conv(c->out, c->in, c->w1, c->b1, c->H, c->W, c->C, 3, c->stride,
                                       1, SAM2_ACT_NONE, c->mean, c->scratch);
}

/* RepViT-M1 at 1024 px, stage s: the channel mixer (C -> 2C -> C, GELU, residual, SE gate) and
 * the token mixer (depthwise 3x3 with the SE means), GB/s of its minimum traffic. */
static void bench_repvit_stage(int s) {
    const int C = 48 << s, H = 256 >> s, W = H, N = H * W;
    size_t sc = pointwise_mlp_scratch_floats(N, C, 2 * C);
    if (depthwise_scratch_floats(C, 3, H) > sc) sc = depthwise_scratch_floats(C, 3, H);
    repvit_ctx c = {randbuf((size_t)N * C),
                    randbuf((size_t)N * C),
                    randbuf((size_t)2 * C * C),
                    randbuf((size_t)2 * C),
                    randbuf((size_t)2 * C * C),
                    randbuf(C),
                    randbuf(C),
                    randbuf(sc),
                    randbuf(C),
                    H,
                    W,
                    C,
                    1};
    char what[96];
    snprintf(what, sizeof what, "RepViT stage %d pointwise MLP %d x %d -> %d -> %d", s, N, C, 2 * C,
             C);
    report_flops(what, 2.0 * 2 * N * C * 2 * C, time_median(run_mlp, &c));
    snprintf(what, sizeof what, "RepViT stage %d depthwise 3x3 %dx%dx%d (+ means)", s, H, W, C);
    report_bytes(what, 2.0 * 4 * N * C, time_median(run_dw, &c));
    free(c.in), free(c.out), free(c.w1), free(c.b1), free(c.w2), free(c.b2), free(c.scale);
    free(c.scratch), free(c.mean);
}

/* --- memory-bound ops ------------------------------------------------------------------------ */

typedef struct ew_ctx {
    float *a, *b, *w, *bias;
    size_t n;
    int rows, cols;
    int C, H, W, OH, OW, aa;
} ew_ctx;

static void run_layernorm(void *p) {
    ew_ctx *c = p;
    sam2_backend_cpu()->layernorm(c->b, c->a, c->w, c->bias, c->rows, c->cols, 1e-6f);
}
static void run_gelu(void *p) {
    ew_ctx *c = p;
    sam2_backend_cpu()->gelu(c->b, c->a, c->n);
}
static void run_add(void *p) {
    ew_ctx *c = p;
    sam2_backend_cpu()->add(c->b, c->a, c->b, c->n);
}
static void run_resize(void *p) {
    ew_ctx *c = p;
    sam2_backend_cpu()->resize_bilinear(c->b, c->a, c->C, c->H, c->W, c->OH, c->OW, c->aa);
}

static void bench_resize(const char *name, int C, int H, int W, int OH, int OW, int aa) {
    ew_ctx c = {.a = randbuf((size_t)C * H * W),
                .b = randbuf((size_t)C * OH * OW),
                .C = C,
                .H = H,
                .W = W,
                .OH = OH,
                .OW = OW,
                .aa = aa};
    double t = time_median(run_resize, &c);
    printf("%-58s %8.2f ms (best %.2f)\n", name, t * 1e3, last_best * 1e3);
    free(c.a), free(c.b);
}

int main(int argc, char **argv) {
    if (argc > 1 && atoi(argv[1]) > 0) repeats = atoi(argv[1]);
    printf("bench-ops: %d threads, medians of %d runs\n", pool_threads(), repeats);
    sgemm_ref = perf_sgemm_gflops(2048, 2.0);
    printf("%-58s %8s    %7.1f GFLOP/s (reference)\n", "sgemm 2048^3", "", sgemm_ref);
    const int sq[] = {256, 512, 1024};
    for (int i = 0; i < 3; i++) {
        char what[64];
        snprintf(what, sizeof what, "sgemm %d^3", sq[i]);
        double g = perf_sgemm_gflops(sq[i], 0.5);
        printf("%-58s %8s    %7.1f GFLOP/s %5.1f%% of SGEMM\n", what, "", g, 100 * g / sgemm_ref);
    }
    const int shp[][3] = {
        {4096, 288, 96}, {4096, 384, 96}, {4096, 96, 384}, {4096, 1536, 384}, {65536, 288, 96}};
    for (int i = 0; i < 5; i++) {
        char what[64];
        snprintf(what, sizeof what, "sgemm M=%d N=%d K=%d", shp[i][0], shp[i][1], shp[i][2]);
        double g = perf_sgemm_gflops_shape(shp[i][0], shp[i][1], shp[i][2], 0.5);
        printf("%-58s %8s    %7.1f GFLOP/s %5.1f%% of SGEMM\n", what, "", g, 100 * g / sgemm_ref);
    }
    /* Hiera-T shapes in row chunks of 4096 tokens: stage 1 qkv / fc1 / fc2, stage 2 qkv / fc1 /
     * fc2 / proj, stage 4 fc2 */
    bench_linear(4096, 96, 288);
    bench_linear(4096, 96, 384);
    bench_linear(4096, 384, 96);
    bench_linear(4096, 384, 1152);
    bench_linear(4096, 384, 1536);
    bench_linear(4096, 1536, 384);
    bench_linear(4096, 384, 384);
    bench_linear(1024, 3072, 768);

    bench_attention("windowed 1024 x 64 tok, D=96, 1 head", 1024, 1, 64, 96);
    bench_attention("windowed 256 x 16 tok, D=96, 2 heads", 256, 2, 16, 96);
    bench_attention("global 4096 tok, D=96, 4 heads", 1, 4, 4096, 96);

    for (int st = 0; st < 4; st++) bench_repvit_stage(st);
    bench_conv("conv RepViT stem 1 1024^2x3 -> 512^2x24 3x3/2", 1024, 1024, 3, 24, 3, 2, 1, 1);
    bench_conv("conv RepViT stem 2 512^2x24 -> 256^2x48 3x3/2", 512, 512, 24, 48, 3, 2, 1, 1);

    bench_conv("conv patch-embed 1024^2x3 -> 256^2x96 7x7/4", 1024, 1024, 3, 96, 7, 4, 3, 1);
    bench_conv("conv depthwise 64^2x256 7x7", 64, 64, 256, 256, 7, 1, 3, 256);
    bench_conv("conv 3x3 64^2x256 -> 256", 64, 64, 256, 256, 3, 1, 1, 1);

    const int rows = 65536;
    ew_ctx e = {.a = randbuf((size_t)rows * 384),
                .b = randbuf((size_t)rows * 384),
                .w = randbuf(96),
                .bias = randbuf(96),
                .n = (size_t)rows * 384,
                .rows = rows,
                .cols = 96};
    report_bytes("layernorm 65536 x 96", 2.0 * 4 * rows * 96, time_median(run_layernorm, &e));
    report_bytes("gelu 65536 x 384", 2.0 * 4 * e.n, time_median(run_gelu, &e));
    report_bytes("add 65536 x 384", 3.0 * 4 * e.n, time_median(run_add, &e));
    free(e.a), free(e.b), free(e.w), free(e.bias);

    bench_resize("resize bilinear AA 3x1200x1800 -> 1024^2", 3, 1200, 1800, 1024, 1024, 1);
    bench_resize("resize bilinear 3x256^2 -> 720x1280", 3, 256, 256, 720, 1280, 0);
    bench_resize("resize bilinear AA 1x720x1280 -> 256^2", 1, 720, 1280, 256, 256, 1);
    pool_shutdown();
    return 0;
}
