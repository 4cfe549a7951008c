/* Internal: the vector kernels of the CPU backend, one table per instruction set.
 *
 * ops_cpu*.c hold the algorithms (blocking, threading, the online softmax); what depends on
 * the instruction set sits behind this table: the register-blocked micro-kernel loops of the
 * linear layers and of attention, the transposing pack, and the vector maths (exp, erf,
 * LayerNorm, softmax, GELU, sigmoid). Each entry works on a whole chunk (a block of rows, a
 * key chunk), so calling through the table costs nothing measurable.
 *
 * The tables are built from one template (cpu_kernels_impl.h) over per-ISA headers:
 *   cpu_kernels_avx2      x86-64, ukernel_avx2.h + vmath_avx2.h, compiled with -mavx2 -mfma
 *   cpu_kernels_neon      AArch64, ukernel_neon.h + vmath_neon.h
 *   cpu_kernels_baseline  everywhere, ukernel_base.h: plain C (libm's expf/erff)
 * The reference backend (ops_ref.c) is separate and shared by all; tests/test_ops.c compares
 * every table this machine can run with it. */
#ifndef SAM2_CORE_CPU_KERNELS_H
#define SAM2_CORE_CPU_KERNELS_H

#include "core/cpu_features.h"

#include <stddef.h>
#include <stdint.h>

/* A depthwise convolution, channels-last (ops_cpu_edgetam.c): in [H][W][C], weights reordered
 * to wr [K][K][C], bias b (or NULL), out [OH][OW][C]; act is a sam2_act value (0 none,
 * 1 ReLU, 2 GELU). */
typedef struct cpu_depthwise {
    float *out;
    const float *in, *wr, *b;
    int H, W, C, K, stride, pad, OW, act;
} cpu_depthwise;

typedef struct cpu_kernels {
    cpu_isa isa;
    /* 1: linear layers and convolutions run linear_tiles (ops_cpu_gemm.c); 0: OpenBLAS. */
    int direct_gemm;

    /* Element-wise on n floats (in place allowed); `unused` keeps the span signature. */
    void (*gelu)(float *out, const float *in, const float *unused, size_t n);
    void (*sigmoid)(float *out, const float *in, const float *unused, size_t n);
    void (*relu)(float *out, const float *in, const float *unused, size_t n);

    /* LayerNorm of `rows` rows of C floats (w, b may be NULL; in place allowed). */
    void (*layernorm_rows)(float *out, const float *in, const float *w, const float *b,
                           int64_t rows, int C, float eps);
    /* Softmax of `rows` rows of `cols` floats, in place. */
    void (*softmax_rows)(float *x, int64_t rows, int cols);

    /* qt[d][i] = q[i][d0 + d] * scale for i < nq, d < dc; zero for nq <= i < bqp. */
    void (*pack_transposed)(float *qt, const float *q, int ldq, int nq, int bqp, int d0, int dc,
                            float scale);

    /* C[rows][ncols] (=|+=) A[rows][K] B where B is np packed panels [K][16] (the last one
     * zero-padded), ncols <= 16 * np; C = bias + A B when !accumulate (bias may be NULL).
     * NULL in tables with direct_gemm == 0. */
    void (*linear_tiles)(int rows, int K, const float *a, int lda, const float *pk, int np,
                         int ncols, float *c, int ldc, const float *bias, int accumulate);

    /* Output rows [oy0, oy1) of a depthwise convolution: bias, then activation; when sums is
     * not NULL each output is also added to sums[c] (squeeze-and-excitation's channel means,
     * without another pass). */
    void (*depthwise_rows)(const cpu_depthwise *d, int oy0, int oy1, float *sums);

    /* Attention, one key chunk (ops_cpu_attn.c). Scores transposed:
     * st[j][i] (=|+=) sum_d k[j][d] qt[d][i] for j < kc, i < bqp (a multiple of 16), dc
     * channels; cmax (or NULL) is raised to each column's maximum. */
    void (*attn_scores)(int kc, int dc, const float *k, int ldk, const float *qt, int bqp,
                        float *st, int accumulate, float *cmax);
    /* st = exp(st - m) column-wise; sum[i] = (first ? 0 : sum[i] * alpha[i]) + column sum. */
    void (*attn_exp_columns)(float *st, const float *m, const float *alpha, float *sum, int kc,
                             int bqp, int first);
    /* o[i][0..Dv) (=|+=) sum_j st[j][i] v[j][0..Dv) for i < nq, j < kc; each row is then
     * multiplied by rscale[i] when rscale is not NULL. */
    void (*attn_output)(int nq, int kc, const float *st, int bqp, const float *v, int ldv, float *o,
                        int ldo, int Dv, int accumulate, const float *rscale);
} cpu_kernels;

/* The table in use (cpu_isa_active()). */
const cpu_kernels *cpu_kernels_get(void);
/* The table of an instruction set, or NULL when it is not available here. */
const cpu_kernels *cpu_kernels_of(cpu_isa isa);
/* Switches the process to another available set (tests compare every set with the reference
 * kernels). Only between computations: scratch sizes (conv_t2x2_scratch_floats) depend on it.
 * Returns 0, or -1 (and changes nothing) when the set is not available. */
int cpu_kernels_use(cpu_isa isa);

#endif
