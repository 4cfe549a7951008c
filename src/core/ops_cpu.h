/* Internal: the optimised CPU kernels, split over ops_cpu*.c; sam2_backend_cpu() collects them. */
#ifndef SAM2_CORE_OPS_CPU_H
#define SAM2_CORE_OPS_CPU_H

#include "core/ops.h"

void cpu_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);
void cpu_linear(float *out, const float *in, const float *w, const float *b, int N, int IC, int OC);

void cpu_attention(float *out, int ldo, const float *q, int ldq, const float *k, int ldk,
                   const float *v, int ldv, int Lq, int Lk, int D, float *scratch);
void cpu_attention_batched(float *out, int ldo, const float *q, int ldq, const float *k, int ldk,
                           const float *v, int ldv, int nwin, int heads, int Lq, int Lk, int D,
                           float *scratch);

void cpu_conv2d(float *out, const float *in, const float *w, const float *b, int H, int W, int IC,
                int OC, int KH, int KW, int stride, int pad, int groups, float *scratch);
void cpu_conv_transpose2x2(float *out, const float *in, const float *w, const float *b, int H,
                           int W, int IC, int OC, float *scratch);

void cpu_resize_bilinear(float *out, const float *in, int C, int H, int W, int OH, int OW,
                         int antialias);
void cpu_resize_bicubic(float *out, const float *in, int C, int H, int W, int OH, int OW);

/* Elements per parallel chunk for memory-bound loops: below this, one thread does it all. */
#define CPU_ELEMWISE_GRAIN 32768

#endif
