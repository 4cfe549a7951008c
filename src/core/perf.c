#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#endif
#include "core/perf.h"

#include "core/blas.h"
#include <stdlib.h>
#include <time.h>

double perf_now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define PERF_MAX_CALLS 4096

double perf_sgemm_gflops_shape(int M, int N, int K, double min_seconds) {
    if (M <= 0 || N <= 0 || K <= 0) return 0.0;
    float *a = malloc(sizeof(float) * (size_t)M * K);
    float *b = malloc(sizeof(float) * (size_t)K * N);
    float *c = malloc(sizeof(float) * (size_t)M * N);
    double *rates = malloc(sizeof(double) * PERF_MAX_CALLS);
    double result = 0.0;
    if (a && b && c && rates) {
        /* Values in [-1, 1) from a fixed LCG: reproducible, no denormals. */
        unsigned s = 12345u;
        for (size_t i = 0; i < (size_t)M * K; i++)
            a[i] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 8388608.0f - 1.0f;
        for (size_t i = 0; i < (size_t)K * N; i++)
            b[i] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 8388608.0f - 1.0f;
        const double flop = 2.0 * M * N * K;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, 0.0f, c,
                    N);
        int calls = 0;
        const double start = perf_now_seconds();
        while (calls < PERF_MAX_CALLS && (calls < 3 || perf_now_seconds() - start < min_seconds)) {
            const double t0 = perf_now_seconds();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, 0.0f,
                        c, N);
            const double dt = perf_now_seconds() - t0;
            rates[calls++] = dt > 0 ? flop / dt * 1e-9 : 0.0;
        }
        qsort(rates, (size_t)calls, sizeof(double), cmp_double);
        result = rates[calls / 2];
    }
    free(a);
    free(b);
    free(c);
    free(rates);
    return result;
}

double perf_sgemm_gflops(int n, double min_seconds) {
    return perf_sgemm_gflops_shape(n, n, n, min_seconds);
}
