/* Internal: the optimised CPU kernels, split over ops_cpu*.c; sam2_backend_cpu() collects them. */
#ifndef SAM2_CORE_OPS_CPU_H
#define SAM2_CORE_OPS_CPU_H

#include "core/ops.h"

#include <stdint.h>

void cpu_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);
void cpu_linear(float *out, const float *in, const float *w, const float *b, int N, int IC, int OC);
/* out[n][o] = b[o] + sum_k in[n][k] * w[o][k] with row strides ldo, ldi, ldw; b may be NULL. */
void cpu_matmul_nt(float *out, int ldo, const float *in, int ldi, const float *w, int ldw,
                   const float *b, int N, int IC, int OC);
/* Whether cpu_matmul_nt uses its own kernel (AVX2 builds) rather than OpenBLAS. */
int cpu_matmul_nt_direct(int IC);
/* Transposed 2x2/2 convolution straight into the output rows, when cpu_matmul_nt_direct(IC):
 * wr = weights as [ky][kx][OC][IC], bias2 = the bias repeated for kx = 0, 1 (2*OC floats).
 * Returns 0 (and does nothing) when not applicable. */
int cpu_conv_t2x2_direct(float *out, const float *in, const float *wr, const float *bias2, int H,
                         int W, int IC, int OC);

void cpu_attention(float *out, int ldo, const float *q, int ldq, const float *k, int ldk,
                   const float *v, int ldv, int Lq, int Lk, int D, float *scratch);
void cpu_attention_dv(float *out, int ldo, const float *q, int ldq, const float *k, int ldk,
                      const float *v, int ldv, int Lq, int Lk, int D, int Dv, float *scratch);
void cpu_attention_batched(float *out, int ldo, const float *q, int ldq, const float *k, int ldk,
                           const float *v, int ldv, int nwin, int heads, int Lq, int Lk, int D,
                           float *scratch);

void cpu_conv2d(float *out, const float *in, const float *w, const float *b, int H, int W, int IC,
                int OC, int KH, int KW, int stride, int pad, int groups, float *scratch);
void cpu_conv_transpose2x2(float *out, const float *in, const float *w, const float *b, int H,
                           int W, int IC, int OC, float *scratch);

void cpu_depthwise_conv(float *out, const float *in, const float *w, const float *b, int H, int W,
                        int C, int K, int stride, int pad, sam2_act act, float *mean,
                        float *scratch);
void cpu_pointwise_mlp(float *out, const float *in, const float *scale, const float *w1,
                       const float *b1, const float *w2, const float *b2, int N, int C, int Hd,
                       sam2_act act, float *scratch);
void cpu_rope(float *x, int n, int ld, int dim, const float *cos_t, const float *sin_t,
              int table_rows, int period, int skip);

void cpu_resize_bilinear(float *out, const float *in, int C, int H, int W, int OH, int OW,
                         int antialias);
void cpu_resize_bicubic(float *out, const float *in, int C, int H, int W, int OH, int OW);

/* Runs fn(ctx, task, worker) for every task in [0, ntasks) on up to max_workers threads of
 * the pool (worker in [0, max_workers), each worker index used by one thread at a time, so
 * it can select a slice of scratch). Tasks are handed out one at a time, so a thread that
 * is slowed down (a busy machine) delays the loop by at most one task. */
typedef void (*cpu_task_fn)(void *ctx, int64_t task, int worker);
void cpu_parallel_tasks(int64_t ntasks, int max_workers, cpu_task_fn fn, void *ctx);

/* Elements per parallel chunk for memory-bound loops: below this, one thread does it all. */
#define CPU_ELEMWISE_GRAIN 32768

#endif
