/* The two halves of `sam2 bench` and what they share. Stage times come from taps (core/tap.h):
 * the model emits named tensors at the end of each stage, and the benchmark's tap records the
 * clock at each emission, so the model code carries no timing of its own. */
#ifndef SAM2_CLI_BENCH_H
#define SAM2_CLI_BENCH_H

#include "app/cli_options.h"

int bench_image(int argc, char **argv);
int bench_track(int argc, char **argv);
/* Their option tables (the usage of `sam2 bench` lists both). */
extern const cli_spec BENCH_IMAGE_SPEC, BENCH_TRACK_SPEC;

/* Same-run SGEMM rate: median GFLOP/s of 1024^3 cblas_sgemm calls over about a second, with
 * the thread count the model uses. */
double bench_sgemm_gflops(void);
/* Prints the SGEMM line from rates measured before and after the timed work (their mean is
 * the reference; a large gap between them says the machine was busy) and returns the mean. */
double bench_print_sgemm(double before, double after);
/* Same-run memory bandwidth: GB/s (read + write) of copying 64 MB with the model's thread count,
 * median of a few copies; the reference for memory-bound stages (depthwise convolutions). */
double bench_memory_gbps(void);
/* Prints the CPU count and the load average, so figures from a busy machine are recognisable. */
void bench_print_machine(void);

#endif
