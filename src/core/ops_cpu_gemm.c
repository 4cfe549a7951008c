/* GEMM and Linear on the CPU.
 *
 * gemm() is cblas_sgemm. linear() (and the convolutions built on it) computes out = in W^T + b
 * with the micro-kernel tiles of the kernel table in use (core/cpu_kernels.h; ukernel_avx2.h,
 * ukernel_neon.h) when it has them (direct_gemm): rows are split over the thread pool in blocks of
 * LIN_ROW_BLOCK; each block packs the transposed weights, a group of 16-column panels at a time
 * (reduction slices of LIN_KC), into a stack buffer and runs 6 x 16 tiles with the bias folded
 * into the accumulators, so each output is written once. On the 2-core AVX2 test machine this
 * runs at 195-200 GFLOP/s on the Hiera shapes where two-threaded OpenBLAS reaches 130-190
 * (its threading costs most at the short reductions, K = 96..384; bench-ops compares both).
 * The baseline table (and NEON with Apple's Accelerate) uses the BLAS path: the output rows are
 * pre-filled with the bias and the GEMM accumulates onto them (beta = 1). */
#include "core/blas.h"
#include "core/cpu_kernels.h"
#include "core/ops_cpu.h"
#include "core/threadpool.h"

#include <limits.h>
#include <assert.h>
#include <stdalign.h>
#include <string.h>

#define LIN_KC 512            /* reduction slice per packing pass */
#define LIN_PACK_FLOATS 16384 /* stack buffer for packed weight panels (64 KiB) */
#define LIN_ROW_BLOCK 256     /* rows per block: packing costs 1/(2*LIN_ROW_BLOCK) per flop */
#define LINEAR_BLAS_ROW_BLOCK 2048

void cpu_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) { /* C = beta * C; BLAS would do the same, without reading C when beta is 0 */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                C[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(size_t)i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

typedef struct lin_job {
    float *out;
    const float *in, *w, *b;
    int ldo, ldi, ldw, N, IC, OC;
} lin_job;

/* rows x OC block of out = a w^T + b on one thread; pk is the LIN_PACK_FLOATS stack buffer.
 * Columns go in groups of panels that fit pk; within a group the reduction goes in slices of
 * LIN_KC, accumulating into the group's columns (which stay in cache). */
static void lin_block(const lin_job *j, const float *a, int lda, float *c, int ldc, int rows,
                      float *pk) {
    const cpu_kernels *kern = cpu_kernels_get();
    const int K = j->IC, OC = j->OC;
    const int kc_max = K < LIN_KC ? K : LIN_KC;
    const int group = LIN_PACK_FLOATS / (kc_max * 16); /* panels per packing pass, >= 2 */
    static_assert(LIN_PACK_FLOATS >= 2 * 16 * LIN_KC, "two panels must fit the pack buffer");
    for (int n0 = 0; n0 < OC; n0 += group * 16) {
        const int np = (OC - n0 + 15) / 16 < group ? (OC - n0 + 15) / 16 : group;
        for (int k0 = 0; k0 < K; k0 += LIN_KC) {
            const int kc = K - k0 < LIN_KC ? K - k0 : LIN_KC;
            for (int p = 0; p < np; p++) {
                const int c0 = n0 + 16 * p, nc = OC - c0 < 16 ? OC - c0 : 16;
                kern->pack_transposed(pk + (size_t)p * kc * 16, j->w + (size_t)c0 * j->ldw, j->ldw,
                                      nc, 16, k0, kc, 1.0f);
            }
            kern->linear_tiles(rows, kc, a + k0, lda, pk, np, OC - n0, c + n0, ldc,
                               j->b ? j->b + n0 : NULL, k0 > 0);
        }
    }
}

static void lin_run(void *ctx, int64_t blk, int worker) {
    const lin_job *j = ctx;
    (void)worker;
    alignas(32) float pk[LIN_PACK_FLOATS];
    const int r0 = (int)blk * LIN_ROW_BLOCK;
    const int rows = j->N - r0 < LIN_ROW_BLOCK ? j->N - r0 : LIN_ROW_BLOCK;
    lin_block(j, j->in + (size_t)r0 * j->ldi, j->ldi, j->out + (size_t)r0 * j->ldo, j->ldo, rows,
              pk);
}

/* Transposed 2x2 convolution, one task per (input row y, kernel row ky): output row 2y + ky
 * holds, for each x, the 2*OC values [kx][oc] = in[y][x] . w_ky[(kx, oc)] + b[oc]; w is the
 * weight reordered to [ky][kx][OC][IC] and b the bias repeated for both kx. */
typedef struct ct_rows_job {
    lin_job lin; /* IC, OC = 2 * out channels, w and b of ky = 0 */
    const float *in;
    float *out;
    int W, IC;
} ct_rows_job;

static void ct_row(void *ctx, int64_t t, int worker) {
    const ct_rows_job *j = ctx;
    (void)worker;
    alignas(32) float pk[LIN_PACK_FLOATS];
    const int y = (int)(t / 2), ky = (int)(t % 2);
    lin_job l = j->lin;
    l.w += (size_t)ky * l.OC * j->IC;
    lin_block(&l, j->in + (size_t)y * j->W * j->IC, j->IC,
              j->out + (size_t)(2 * y + ky) * j->W * l.OC, l.OC, j->W, pk);
}

int cpu_conv_t2x2_direct(float *out, const float *in, const float *wr, const float *bias2, int H,
                         int W, int IC, int OC) {
    if (!cpu_matmul_nt_direct(IC)) return 0;
    ct_rows_job j = {.lin = {.w = wr, .b = bias2, .ldw = IC, .IC = IC, .OC = 2 * OC},
                     .in = in,
                     .out = out,
                     .W = W,
                     .IC = IC};
    cpu_parallel_tasks((int64_t)2 * H, INT_MAX, ct_row, &j);
    return 1;
}

/* out[n][o] = b[o] + sum_k in[n][k] * w[o][k], with row strides; b may be NULL. */
void cpu_matmul_nt(float *out, int ldo, const float *in, int ldi, const float *w, int ldw,
                   const float *b, int N, int IC, int OC) {
    if (N <= 0 || OC <= 0) return;
    if (cpu_matmul_nt_direct(IC)) {
        lin_job j = {out, in, w, b, ldo, ldi, ldw, N, IC, OC};
        const int64_t blocks = (N + LIN_ROW_BLOCK - 1) / LIN_ROW_BLOCK;
        cpu_parallel_tasks(blocks, INT_MAX, lin_run, &j);
        return;
    }
    /* OpenBLAS path */
    for (int r0 = 0; r0 < N; r0 += LINEAR_BLAS_ROW_BLOCK) {
        const int rows = N - r0 < LINEAR_BLAS_ROW_BLOCK ? N - r0 : LINEAR_BLAS_ROW_BLOCK;
        float *o = out + (size_t)r0 * ldo;
        /* The bias goes in first and the GEMM accumulates onto it (beta = 1) while the block
         * is still in cache; OpenBLAS would otherwise make a zeroing pass for beta = 0. */
        for (int r = 0; r < rows; r++) {
            if (b)
                memcpy(o + (size_t)r * ldo, b, sizeof(float) * OC);
            else if (IC <= 0)
                memset(o + (size_t)r * ldo, 0, sizeof(float) * OC);
        }
        if (IC > 0)
            cpu_gemm(0, 1, rows, OC, IC, 1.0f, in + (size_t)r0 * ldi, ldi, w, ldw, b ? 1.0f : 0.0f,
                     o, ldo);
    }
}

int cpu_matmul_nt_direct(int IC) {
    return IC > 0 && cpu_kernels_get()->direct_gemm;
}

void cpu_linear(float *out, const float *in, const float *w, const float *b, int N, int IC,
                int OC) {
    cpu_matmul_nt(out, OC, in, IC, w, IC, b, N, IC, OC);
}
