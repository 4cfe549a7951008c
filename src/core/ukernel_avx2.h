/* Internal: the register-blocked micro-kernel for AVX2 + FMA, and the transposing pack.
 *
 * C[i][0..nr) (op)= sum_k A(i,k) * B(k, 0..nr) for i < MR (MR <= 6), where
 * A(i,k) = a[i*a_is + k*a_ks] and B(k, j) = b[k*b_ks + j]; C rows at c + i*ldc.
 * Options (compile-time constants at the call sites, so each use is specialised):
 *  - masked: nr < 16; B, C and bias are touched only in columns < nr;
 *  - accumulate: add to C instead of overwriting;
 *  - bias (or NULL): the sums start from bias[0..16) instead of 0;
 *  - rscale (or NULL): row i is multiplied by rscale[i] after the accumulation;
 *  - cmax (or NULL): cmax[0..16) is raised to the maximum of each column of the result
 *    (after accumulation, before rscale);
 *  - prefetch: fetch A and B `UKERNEL_PREFETCH` steps of k ahead (for operands read down
 *    strided rows, one cache line per step).
 * 12 accumulators of 8 lanes: 6 rows x 16 columns per call. ukernel_neon.h and ukernel_base.h
 * implement the same contract; cpu_kernels_impl.h builds the kernel tables on them.
 *
 * Only for translation units compiled with AVX2 and FMA enabled (cpu_kernels_avx2.c). */
#ifndef SAM2_CORE_UKERNEL_AVX2_H
#define SAM2_CORE_UKERNEL_AVX2_H

#include <immintrin.h>

#include "core/unroll.h"

#include <stddef.h>
#include <stdint.h>

#define UKERNEL_PREFETCH 8

static inline __attribute__((always_inline)) void
ukernel(const int MR, int K, const float *a, ptrdiff_t a_is, ptrdiff_t a_ks, const float *b,
        ptrdiff_t b_ks, float *c, ptrdiff_t ldc, int nr, const int masked, int accumulate,
        const float *bias, const float *rscale, float *cmax, const int prefetch) {
    __m256 acc0[6], acc1[6];
    __m256i m0 = _mm256_setzero_si256(), m1 = _mm256_setzero_si256();
    if (masked) {
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lane);
        m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), lane);
    }
    __m256 init0 = _mm256_setzero_ps(), init1 = _mm256_setzero_ps();
    if (bias) {
        init0 = masked ? _mm256_maskload_ps(bias, m0) : _mm256_loadu_ps(bias);
        init1 = masked ? _mm256_maskload_ps(bias + 8, m1) : _mm256_loadu_ps(bias + 8);
    }
    UNROLL_ALL(6)
    for (int i = 0; i < MR; i++) {
        acc0[i] = init0;
        acc1[i] = init1;
    }
    for (int k = 0; k < K; k++) {
        const float *bk = b + k * b_ks;
        const float *ak = a + k * a_ks;
        if (prefetch) { /* address arithmetic on integers: the target may lie past the end */
            _mm_prefetch((const char *)((uintptr_t)bk + (uintptr_t)(UKERNEL_PREFETCH * b_ks * 4)),
                         _MM_HINT_T0);
            _mm_prefetch((const char *)((uintptr_t)ak + (uintptr_t)(UKERNEL_PREFETCH * a_ks * 4)),
                         _MM_HINT_T0);
        }
        __m256 b0, b1;
        if (masked) {
            b0 = _mm256_maskload_ps(bk, m0);
            b1 = _mm256_maskload_ps(bk + 8, m1);
        } else {
            b0 = _mm256_loadu_ps(bk);
            b1 = _mm256_loadu_ps(bk + 8);
        }
        UNROLL_ALL(6)
        for (int i = 0; i < MR; i++) {
            __m256 av = _mm256_broadcast_ss(ak + i * a_is);
            acc0[i] = _mm256_fmadd_ps(av, b0, acc0[i]);
            acc1[i] = _mm256_fmadd_ps(av, b1, acc1[i]);
        }
    }
    __m256 x0 = _mm256_setzero_ps(), x1 = _mm256_setzero_ps();
    if (cmax) {
        x0 = _mm256_loadu_ps(cmax);
        x1 = _mm256_loadu_ps(cmax + 8);
    }
    UNROLL_ALL(6)
    for (int i = 0; i < MR; i++) {
        float *ci = c + i * ldc;
        __m256 r0 = acc0[i], r1 = acc1[i];
        if (accumulate) {
            r0 = _mm256_add_ps(masked ? _mm256_maskload_ps(ci, m0) : _mm256_loadu_ps(ci), r0);
            r1 = _mm256_add_ps(masked ? _mm256_maskload_ps(ci + 8, m1) : _mm256_loadu_ps(ci + 8),
                               r1);
        }
        if (cmax) {
            x0 = _mm256_max_ps(x0, r0);
            x1 = _mm256_max_ps(x1, r1);
        }
        if (rscale) {
            __m256 s = _mm256_set1_ps(rscale[i]);
            r0 = _mm256_mul_ps(r0, s);
            r1 = _mm256_mul_ps(r1, s);
        }
        if (masked) {
            _mm256_maskstore_ps(ci, m0, r0);
            _mm256_maskstore_ps(ci + 8, m1, r1);
        } else {
            _mm256_storeu_ps(ci, r0);
            _mm256_storeu_ps(ci + 8, r1);
        }
    }
    if (cmax) {
        _mm256_storeu_ps(cmax, x0);
        _mm256_storeu_ps(cmax + 8, x1);
    }
}

/* Transposing pack: qt[d][i] = q[i][d0 + d] * scale for rows i < nq (row stride ldq) and
 * d < dc, zero for nq <= i < bqp; rows of qt have bqp floats. */
static inline void pack_transposed(float *qt, const float *q, int ldq, int nq, int bqp, int d0,
                                   int dc, float scale) {
    int i = 0;
    const __m256 vs = _mm256_set1_ps(scale);
    for (; i + 8 <= nq; i += 8) {
        int d = 0;
        for (; d + 8 <= dc; d += 8) {
            /* 8x8 transpose of q[i..i+8][d0+d..d0+d+8] */
            __m256 r[8], t[8];
            for (int u = 0; u < 8; u++)
                r[u] = _mm256_mul_ps(_mm256_loadu_ps(q + (size_t)(i + u) * ldq + d0 + d), vs);
            for (int u = 0; u < 8; u += 2) {
                t[u] = _mm256_unpacklo_ps(r[u], r[u + 1]);
                t[u + 1] = _mm256_unpackhi_ps(r[u], r[u + 1]);
            }
            for (int u = 0; u < 8; u += 4) {
                r[u] = _mm256_shuffle_ps(t[u], t[u + 2], 0x44);
                r[u + 1] = _mm256_shuffle_ps(t[u], t[u + 2], 0xEE);
                r[u + 2] = _mm256_shuffle_ps(t[u + 1], t[u + 3], 0x44);
                r[u + 3] = _mm256_shuffle_ps(t[u + 1], t[u + 3], 0xEE);
            }
            /* Now r[u] (u < 4) holds column u of rows 0-3 in its low half and column u + 4
             * in its high half; r[u + 4] the same for rows 4-7. Joining halves finishes. */
            for (int u = 0; u < 4; u++) {
                t[u] = _mm256_permute2f128_ps(r[u], r[u + 4], 0x20);
                t[u + 4] = _mm256_permute2f128_ps(r[u], r[u + 4], 0x31);
            }
            for (int u = 0; u < 8; u++) _mm256_storeu_ps(qt + (size_t)(d + u) * bqp + i, t[u]);
        }
        for (; d < dc; d++)
            for (int u = 0; u < 8; u++)
                qt[(size_t)d * bqp + i + u] = q[(size_t)(i + u) * ldq + d0 + d] * scale;
    }
    for (; i < nq; i++)
        for (int d = 0; d < dc; d++) qt[(size_t)d * bqp + i] = q[(size_t)i * ldq + d0 + d] * scale;
    for (int d = 0; d < dc; d++)
        for (int j = nq; j < bqp; j++) qt[(size_t)d * bqp + j] = 0.0f;
}

#endif
