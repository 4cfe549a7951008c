/* Timing helpers for benchmarks: a monotonic clock and the machine's SGEMM rate measured in
 * the same run, so benchmarks can report "achieved GFLOP/s vs SGEMM GFLOP/s". */
#ifndef SAM2_CORE_PERF_H
#define SAM2_CORE_PERF_H

/* Seconds from an arbitrary fixed point (CLOCK_MONOTONIC). */
double perf_now_seconds(void);

/* GFLOP/s of single cblas_sgemm calls C[M][N] = A[M][K] B[K][N] (row-major, no transposes),
 * with all of OpenBLAS's threads: the median over calls repeated for at least min_seconds
 * (after one warm-up call). Returns 0 when the matrices cannot be allocated or a size is not
 * positive. */
double perf_sgemm_gflops_shape(int M, int N, int K, double min_seconds);
/* The same at n x n x n. */
double perf_sgemm_gflops(int n, double min_seconds);

#endif
