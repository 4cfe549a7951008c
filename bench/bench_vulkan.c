/* bench-vulkan: device time of each Vulkan kernel at the shapes of SAM 2.1 tiny at 1024 x 1024,
 * from timestamp queries (not host clocks), with the GEMM rate measured in the same run.
 *
 *   build/bin/bench-vulkan [--device N] [--repeats R] [--quick]
 *
 * --device N   the device (sam2 doctor lists them); default: the one `auto` takes, else the first
 *              usable one (lavapipe on a machine without a GPU)
 * --repeats R  timed runs of each kernel after one warm-up (default 10); each figure is the
 *              median of the runs' device times
 * --quick      every image and map side divided by 4 (a 512^3 reference GEMM), for a CPU
 *              implementation (lavapipe)
 *
 * Prints the device, then one line per kernel: median device ms, GFLOP/s and the ratio to the
 * same-run 4096^3 (quick: 512^3) GEMM rate, or GB/s for memory-bound kernels. */
#include <stdio.h>

#ifndef SAM2_HAVE_VULKAN
int main(void) {
    fprintf(stderr, "bench-vulkan: this build has no Vulkan backend\n");
    return 1;
}
#else

#include "core/vulkan/vulkan_ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static vulkan_stream *S;
static vulkan_arena A;
static int repeats = 10, quick;
static double gemm_rate; /* GFLOP/s of the reference GEMM in this run */

static vulkan_ref dev_random(size_t n) {
    sam2_error err = {0};
    vulkan_ref r = vulkan_arena_alloc(&A, n * sizeof(float), &err);
    if (!r.buf) {
        fprintf(stderr, "bench-vulkan: %s\n", err.message);
        exit(1);
    }
    float *host = malloc(sizeof(float) * (n ? n : 1));
    if (!host) exit(1);
    unsigned s = 12345u;
    for (size_t i = 0; i < n; i++)
        host[i] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 8388608.0f - 1.0f;
    if (vulkan_upload(S, r, host, n * sizeof(float), &err)) {
        fprintf(stderr, "bench-vulkan: %s\n", err.message);
        exit(1);
    }
    free(host);
    return r;
}

static int cmpd(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef void (*kernel_fn)(void *ctx);

/* Median device seconds of one run of fn (after a warm-up run). */
static double device_time(kernel_fn fn, void *ctx) {
    sam2_error err = {0};
    fn(ctx); /* warm-up: pipeline creation, first touch */
    if (vulkan_sync(S, &err)) {
        fprintf(stderr, "bench-vulkan: %s\n", err.message);
        exit(1);
    }
    double t[256];
    const int n = repeats < 256 ? repeats : 256;
    for (int i = 0; i < n; i++) {
        vulkan_stage_times_reset(S);
        vulkan_stage_begin(S, "kernel");
        fn(ctx);
        vulkan_stage_end(S);
        if (vulkan_sync(S, &err)) {
            fprintf(stderr, "bench-vulkan: %s\n", err.message);
            exit(1);
        }
        vulkan_stage_time st;
        t[i] = vulkan_stage_times(S, &st, 1) == 1 ? st.seconds : NAN;
    }
    qsort(t, (size_t)n, sizeof(double), cmpd);
    return t[n / 2];
}

static void report_flops(const char *what, double flop, double sec) {
    const double g = flop / sec * 1e-9;
    printf("%-62s %9.3f ms %8.1f GFLOP/s %6.1f%% of GEMM\n", what, sec * 1e3, g,
           100.0 * g / gemm_rate);
}

static void report_bytes(const char *what, double bytes, double sec) {
    printf("%-62s %9.3f ms %8.1f GB/s\n", what, sec * 1e3, bytes / sec * 1e-9);
}

/* --- kernels ------------------------------------------------------------------------------- */

typedef struct gemm_ctx {
    int M, N, K;
    vulkan_ref a, b, c, bias;
    int linear;
} gemm_ctx;

static void run_gemm(void *p) {
    gemm_ctx *g = p;
    if (g->linear)
        vulkan_linear(S, g->c, g->a, g->b, g->bias, g->M, g->K, g->N);
    else
        vulkan_gemm(S, 0, 0, g->M, g->N, g->K, 1.0f, g->a, g->K, g->b, g->N, 0.0f, g->c, g->N);
}

static double bench_gemm(const char *what, int M, int N, int K, int linear) {
    vulkan_arena_mark m = vulkan_arena_get_mark(&A);
    gemm_ctx g = {M,
                  N,
                  K,
                  dev_random((size_t)M * K),
                  dev_random((size_t)K * N),
                  dev_random((size_t)M * N),
                  dev_random((size_t)N),
                  linear};
    const double sec = device_time(run_gemm, &g);
    if (what) report_flops(what, 2.0 * M * N * K, sec);
    vulkan_arena_release(&A, m);
    return sec;
}

typedef struct attn_ctx {
    int nwin, heads, Lq, Lk, D, Dv;
    vulkan_ref q, k, v, o;
} attn_ctx;

static void run_attention(void *p) {
    attn_ctx *c = p;
    const int HD = c->heads * c->D, HDv = c->heads * c->Dv;
    const vulkan_attn_operand q = {c->q, (uint32_t)HD, (uint32_t)(c->Lq * HD), (uint32_t)c->D},
                              k = {c->k, (uint32_t)HD, (uint32_t)(c->Lk * HD), (uint32_t)c->D},
                              v = {c->v, (uint32_t)HDv, (uint32_t)(c->Lk * HDv), (uint32_t)c->Dv},
                              o = {c->o, (uint32_t)HDv, (uint32_t)(c->Lq * HDv), (uint32_t)c->Dv};
    vulkan_attention_general(S, o, q, k, v, c->nwin, c->heads, c->Lq, c->Lk, c->D, c->Dv);
}

static void bench_attention(const char *what, int nwin, int heads, int Lq, int Lk, int D, int Dv) {
    vulkan_arena_mark m = vulkan_arena_get_mark(&A);
    const size_t nq = (size_t)nwin * Lq * heads, nk = (size_t)nwin * Lk * heads;
    attn_ctx c = {nwin,
                  heads,
                  Lq,
                  Lk,
                  D,
                  Dv,
                  dev_random(nq * D),
                  dev_random(nk * D),
                  dev_random(nk * Dv),
                  dev_random(nq * Dv)};
    const double sec = device_time(run_attention, &c);
    report_flops(what, 2.0 * nwin * heads * (double)Lq * Lk * (D + Dv), sec);
    vulkan_arena_release(&A, m);
}

typedef struct conv_ctx {
    int H, W, IC, OC, K, stride, pad, groups;
    vulkan_ref in, w, b, out;
} conv_ctx;

static void run_conv(void *p) {
    conv_ctx *c = p;
    vulkan_conv2d(S, c->out, c->in, c->w, c->b, c->H, c->W, c->IC, c->OC, c->K, c->K, c->stride,
                  c->pad, c->groups);
}

static void run_conv_t(void *p) {
    conv_ctx *c = p;
    vulkan_conv_transpose2x2(S, c->out, c->in, c->w, c->b, c->H, c->W, c->IC, c->OC);
}

static void bench_conv(const char *what, int H, int W, int IC, int OC, int K, int stride, int pad,
                       int groups) {
    vulkan_arena_mark m = vulkan_arena_get_mark(&A);
    const int OH = (H + 2 * pad - K) / stride + 1, OW = (W + 2 * pad - K) / stride + 1;
    conv_ctx c = {H,
                  W,
                  IC,
                  OC,
                  K,
                  stride,
                  pad,
                  groups,
                  dev_random((size_t)H * W * IC),
                  dev_random((size_t)OC * (IC / groups) * K * K),
                  dev_random((size_t)OC),
                  dev_random((size_t)OH * OW * OC)};
    const double sec = device_time(run_conv, &c);
    report_flops(what, 2.0 * OH * OW * (double)OC * (IC / groups) * K * K, sec);
    vulkan_arena_release(&A, m);
}

static void bench_conv_t(const char *what, int H, int W, int IC, int OC) {
    vulkan_arena_mark m = vulkan_arena_get_mark(&A);
    conv_ctx c = {H,
                  W,
                  IC,
                  OC,
                  2,
                  2,
                  0,
                  1,
                  dev_random((size_t)H * W * IC),
                  dev_random((size_t)IC * OC * 4),
                  dev_random((size_t)OC),
                  dev_random((size_t)4 * H * W * OC)};
    const double sec = device_time(run_conv_t, &c);
    report_flops(what, 2.0 * 4 * H * W * (double)IC * OC, sec);
    vulkan_arena_release(&A, m);
}

typedef struct rows_ctx {
    int kind; /* 0 layernorm, 1 softmax, 2 gelu, 3 add, 4 window partition */
    int N, C;
    vulkan_ref x, y, w, b;
} rows_ctx;

static void run_rows(void *p) {
    rows_ctx *c = p;
    const size_t n = (size_t)c->N * c->C;
    switch (c->kind) {
    case 0:
        vulkan_layernorm(S, c->y, c->x, c->w, c->b, c->N, c->C, 1e-6f);
        break;
    case 1:
        vulkan_softmax_rows_strided(S, c->y, c->C, c->x, c->C, c->N, c->C);
        break;
    case 2:
        vulkan_gelu(S, c->y, c->x, n);
        break;
    case 3:
        vulkan_add(S, c->y, c->x, c->x, n);
        break;
    default: {
        const int side = (int)sqrt((double)c->N);
        vulkan_window_partition(S, c->y, c->x,
                                vulkan_window_grid_all(side, side, c->C, c->C, 8, 8));
        break;
    }
    }
}

static void bench_rows(const char *what, int kind, int N, int C, double bytes_per_value) {
    vulkan_arena_mark m = vulkan_arena_get_mark(&A);
    const size_t n = (size_t)N * C;
    rows_ctx c = {kind,
                  N,
                  C,
                  dev_random(n),
                  dev_random(n + (size_t)64 * C),
                  dev_random((size_t)C),
                  dev_random((size_t)C)};
    const double sec = device_time(run_rows, &c);
    report_bytes(what, bytes_per_value * (double)n, sec);
    vulkan_arena_release(&A, m);
}

typedef struct resize_ctx {
    int kind, C, H, W, OH, OW;
    vulkan_ref in, out;
} resize_ctx;

static void run_resize(void *p) {
    resize_ctx *r = p;
    if (r->kind == 2)
        vulkan_resize_bicubic(S, r->out, r->in, r->C, r->H, r->W, r->OH, r->OW);
    else
        vulkan_resize_bilinear(S, r->out, r->in, r->C, r->H, r->W, r->OH, r->OW, r->kind);
}

static void bench_resize(const char *what, int kind, int C, int H, int W, int OH, int OW) {
    vulkan_arena_mark m = vulkan_arena_get_mark(&A);
    resize_ctx r = {
        kind, C, H, W, OH, OW, dev_random((size_t)C * H * W), dev_random((size_t)C * OH * OW)};
    const double sec = device_time(run_resize, &r);
    report_bytes(what, 4.0 * ((double)C * H * W + (double)C * OH * OW), sec);
    vulkan_arena_release(&A, m);
}

int main(int argc, char **argv) {
    int device = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--device") && i + 1 < argc)
            device = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--repeats") && i + 1 < argc)
            repeats = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else {
            fprintf(stderr, "usage: bench-vulkan [--device N] [--repeats R] [--quick]\n");
            return 2;
        }
    }
    if (repeats < 1) repeats = 1;
    sam2_error err = {0};
    if (device < 0) {
        vulkan_device_info list[16];
        const int n = vulkan_list_devices(list, 16, &err);
        if (n < 0) {
            fprintf(stderr, "bench-vulkan: %s\n", err.message);
            return 1;
        }
        device = vulkan_auto_device(list, n < 16 ? n : 16);
        for (int i = 0; device < 0 && i < n && i < 16; i++)
            if (list[i].usable) device = i;
        if (device < 0) {
            fprintf(stderr, "bench-vulkan: no usable Vulkan device\n");
            return 1;
        }
    }
    vulkan_options opt = {.device_index = device};
    vulkan_device *dev = vulkan_device_open(&opt, &err);
    if (!dev || !(S = vulkan_stream_create(dev, &err))) {
        fprintf(stderr, "bench-vulkan: %s\n", err.message);
        return 1;
    }
    const vulkan_device_info *info = vulkan_device_get_info(dev);
    printf("device %d: %s (%s), driver %s, %.0f MiB device-local\n", info->index, info->name,
           vulkan_device_type_name(info->type), info->driver,
           (double)info->device_local_bytes / (1024.0 * 1024.0));
    vulkan_arena_init(&A, dev);
    {
        vulkan_stage_time st;
        vulkan_stage_begin(S, "probe");
        vulkan_fill(S, dev_random(16), 64, 0.0f);
        vulkan_stage_end(S);
        vulkan_sync(S, &err);
        if (vulkan_stage_times(S, &st, 1) != 1) {
            fprintf(stderr, "bench-vulkan: this device has no timestamps on its compute queue\n");
            return 1;
        }
    }
    /* Shapes of SAM 2.1 tiny at 1024 x 1024 (quick: sides divided by 4). */
    const int q = quick ? 4 : 1; /* divides the map sides */
    const int g = quick ? 512 : 4096;
    printf("median device time of %d runs each%s\n\n", repeats, quick ? " (--quick shapes)" : "");
    gemm_rate = 2.0 * g * (double)g * g / bench_gemm(NULL, g, g, g, 0) * 1e-9;
    char what[128];
    snprintf(what, sizeof what, "GEMM %dx%dx%d (the reference rate)", g, g, g);
    printf("%-62s %9s    %8.1f GFLOP/s\n", what, "", gemm_rate);
    const int side1 = 256 / q, side3 = 64 / q; /* Hiera stage 1 and stage 3 map sides */
    const int t1 = side1 * side1, t3 = side3 * side3;
    snprintf(what, sizeof what, "linear %d x 96 -> 288 (Hiera stage 1 qkv)", t1);
    bench_gemm(what, t1, 288, 96, 1);
    snprintf(what, sizeof what, "linear %d x 384 -> 1536 (Hiera stage 3 MLP)", t3);
    bench_gemm(what, t3, 1536, 384, 1);
    snprintf(what, sizeof what, "linear %d x 256 -> 256 (memory attention projection)", t3);
    bench_gemm(what, t3, 256, 256, 1);
    snprintf(what, sizeof what, "attention %d windows x 64 tokens, D 96 (Hiera stage 1)", t1 / 64);
    bench_attention(what, t1 / 64, 1, 64, 64, 96, 96);
    snprintf(what, sizeof what, "attention global %d tokens, 4 heads, D 96 (Hiera stage 3)", t3);
    bench_attention(what, 1, 4, t3, t3, 96, 96);
    snprintf(what, sizeof what, "attention %d x %d, D 256 (memory self-attention)", t3, t3);
    bench_attention(what, 1, 1, t3, t3, 256, 256);
    snprintf(what, sizeof what, "attention %d x %d, D 256, Dv 64 (memory cross-attention)", t3,
             t3 * 4 + 64);
    bench_attention(what, 1, 1, t3, t3 * 4 + 64, 256, 64);
    snprintf(what, sizeof what, "attention 7 x %d tokens, 8 heads, D 16 (decoder)", t3);
    bench_attention(what, 1, 8, 7, t3, 16, 16);
    snprintf(what, sizeof what, "conv2d %dx%dx3 -> 96, 7x7 s4 (patch embedding)", 1024 / q,
             1024 / q);
    bench_conv(what, 1024 / q, 1024 / q, 3, 96, 7, 4, 3, 1);
    snprintf(what, sizeof what, "conv2d %dx%dx256 depthwise 7x7 (memory encoder CXBlock)", side3,
             side3);
    bench_conv(what, side3, side3, 256, 256, 7, 1, 3, 256);
    snprintf(what, sizeof what, "conv2d %dx%dx256 -> 64 1x1 (memory encoder)", side3, side3);
    bench_conv(what, side3, side3, 256, 64, 1, 1, 0, 1);
    snprintf(what, sizeof what, "conv_transpose2x2 %dx%dx256 -> 64 (decoder upscaling)", side3,
             side3);
    bench_conv_t(what, side3, side3, 256, 64);
    snprintf(what, sizeof what, "layernorm %d x 96", t1);
    bench_rows(what, 0, t1, 96, 8.0);
    snprintf(what, sizeof what, "softmax %d x %d", t3 / 4, t3);
    bench_rows(what, 1, t3 / 4, t3, 8.0);
    snprintf(what, sizeof what, "gelu %d x 384", t1 / 4);
    bench_rows(what, 2, t1 / 4, 384, 8.0);
    snprintf(what, sizeof what, "add %d x 96", t1);
    bench_rows(what, 3, t1, 96, 12.0);
    snprintf(what, sizeof what, "window partition %dx%dx96, windows 8x8", side1, side1);
    bench_rows(what, 4, t1, 96, 8.0);
    snprintf(what, sizeof what, "resize bilinear antialias 3x%dx%d -> %dx%d (a frame)", 720 / q,
             1280 / q, 1024 / q, 1024 / q);
    bench_resize(what, 1, 3, 720 / q, 1280 / q, 1024 / q, 1024 / q);
    snprintf(what, sizeof what, "resize bilinear 3x%dx%d -> %dx%d (masks to video)", 256 / q,
             256 / q, 720 / q, 1280 / q);
    bench_resize(what, 0, 3, 256 / q, 256 / q, 720 / q, 1280 / q);
    bench_resize("resize bicubic 96x7x7 -> 256x256 (Hiera positional embedding)", 2, 96, 7, 7,
                 side1, side1);
    printf("\nbytes: %.1f MiB uploaded, %.1f MiB downloaded; device memory peak %.1f MiB\n",
           (double)vulkan_bytes_uploaded(S) / 1048576.0,
           (double)vulkan_bytes_downloaded(S) / 1048576.0,
           (double)vulkan_memory_peak(dev) / 1048576.0);
    vulkan_sync(S, &err);
    vulkan_arena_free(&A);
    vulkan_stream_free(S);
    vulkan_device_close(dev);
    return 0;
}

#endif
