/* sam2 bench image | track: timing of the image encoder and of video tracking. */
#include "cli/cli.h"
#include "cli/bench.h"
#include "app/cli_options.h"

#include "core/cpu_features.h"
#include "core/perf.h"
#include "core/threadpool.h"
#include "sam2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    cli_print_usage(&BENCH_IMAGE_SPEC, f, "usage:");
    cli_print_usage(&BENCH_TRACK_SPEC, f, "      ");
    fprintf(f, "\nRun 'sam2 bench image --help' or 'sam2 bench track --help' for details.\n");
}

double bench_sgemm_gflops(void) {
    (void)sam2_get_threads(); /* starts the pool, which gives OpenBLAS the same thread count */
    return perf_sgemm_gflops(1024, 1.0);
}

double bench_print_sgemm(double before, double after) {
    const double mean = 0.5 * (before + after);
    printf("SGEMM GFLOP/s     %.1f   (1024^3 cblas_sgemm, same run: %.1f before, %.1f after)\n",
           mean, before, after);
    return mean;
}

typedef struct copy_job {
    char *dst;
    const char *src;
} copy_job;

static void copy_chunk(void *ctx, int64_t begin, int64_t end) {
    copy_job *j = ctx;
    memcpy(j->dst + begin, j->src + begin, (size_t)(end - begin));
}

static int cmp_seconds(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_memory_gbps(void) {
    const size_t n = (size_t)64 << 20;
    char *a = malloc(n), *b = malloc(n);
    if (!a || !b) {
        free(a);
        free(b);
        return 0;
    }
    memset(a, 1, n);
    memset(b, 2, n); /* both touched: no page faults in the timed copies */
    copy_job j = {b, a};
    double t[7];
    for (int i = 0; i < 7; i++) {
        const double t0 = perf_now_seconds();
        pool_for((int64_t)n, (int64_t)1 << 20, copy_chunk, &j);
        t[i] = perf_now_seconds() - t0;
    }
    qsort(t, 7, sizeof t[0], cmp_seconds);
    free(a);
    free(b);
    return 2.0 * (double)n / t[3] * 1e-9;
}

void bench_print_machine(void) {
    double load = -1;
    if (getloadavg(&load, 1) != 1) load = -1; /* Linux, the BSDs and macOS */
    printf("machine           %ld CPUs online, load average %.2f at the end\n",
           sysconf(_SC_NPROCESSORS_ONLN), load);
    printf("kernels           %s (%s)\n", cpu_isa_label(cpu_isa_active()), cpu_isa_reason());
    printf("BLAS              %s\n", cpu_blas_name());
}

int cmd_bench(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "image")) return bench_image(argc - 1, argv + 1);
    if (!strcmp(argv[1], "track")) return bench_track(argc - 1, argv + 1);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return CLI_OK;
    }
    fprintf(stderr, "sam2 bench: unknown benchmark '%s' (image or track)\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
