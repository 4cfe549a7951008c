/* Internal: the register-blocked micro-kernel for NEON (AArch64), and the transposing pack.
 * Same contract as ukernel_avx2.h (read it there): C[i][0..nr) (op)= sum_k A(i,k) B(k, 0..nr)
 * for i < MR <= 6, with the masked / accumulate / bias / rscale / cmax / prefetch options.
 *
 * 6 rows x 16 columns = 24 accumulators of 4 lanes; with the 4 registers of a B row and the
 * A values that is 28 or 29 of the 32 vector registers. Each step of k multiplies the B row
 * by one A value per row (FMLA by element). When A's rows run along k (a_ks == 1, the linear
 * layers and the attention scores), four steps share one load of 4 A values per row.
 *
 * Only for AArch64 translation units (cpu_kernels_neon.c). */
#ifndef SAM2_CORE_UKERNEL_NEON_H
#define SAM2_CORE_UKERNEL_NEON_H

#include "core/unroll.h"
#include "core/vmath_neon.h"

#include <stddef.h>
#include <stdint.h>

#define UKERNEL_PREFETCH 8

/* One step of k: acc[i][q] += A(i) * B[q] for the MR rows. */
#define UKERNEL_NEON_STEP(AV, I)                                                                   \
    do {                                                                                           \
        acc[I][0] = vfmaq_n_f32(acc[I][0], b0, AV);                                                \
        acc[I][1] = vfmaq_n_f32(acc[I][1], b1, AV);                                                \
        acc[I][2] = vfmaq_n_f32(acc[I][2], b2, AV);                                                \
        acc[I][3] = vfmaq_n_f32(acc[I][3], b3, AV);                                                \
    } while (0)

static inline __attribute__((always_inline)) void
ukernel(const int MR, int K, const float *a, ptrdiff_t a_is, ptrdiff_t a_ks, const float *b,
        ptrdiff_t b_ks, float *c, ptrdiff_t ldc, int nr, const int masked, int accumulate,
        const float *bias, const float *rscale, float *cmax, const int prefetch) {
    float32x4_t acc[6][4];
    float32x4_t init[4];
    for (int q = 0; q < 4; q++)
        init[q] = !bias    ? vdupq_n_f32(0.0f)
                  : masked ? n4_load_first(bias + 4 * q, nr - 4 * q)
                           : vld1q_f32(bias + 4 * q);
    UNROLL_ALL(6)
    for (int i = 0; i < MR; i++)
        for (int q = 0; q < 4; q++) acc[i][q] = init[q];
    int k = 0;
    if (a_ks == 1 && !masked && !prefetch) {
        /* Four steps of k per load of A: lane l of A row i is A(i, k + l). */
        for (; k + 4 <= K; k += 4) {
            float32x4_t av[6];
            UNROLL_ALL(6)
            for (int i = 0; i < MR; i++) av[i] = vld1q_f32(a + i * a_is + k);
#define UKERNEL_NEON_LANE(L)                                                                       \
    do {                                                                                           \
        const float *bk = b + (k + L) * b_ks;                                                      \
        const float32x4_t b0 = vld1q_f32(bk), b1 = vld1q_f32(bk + 4), b2 = vld1q_f32(bk + 8),      \
                          b3 = vld1q_f32(bk + 12);                                                 \
        UNROLL_ALL(6)                                                                              \
        for (int i = 0; i < MR; i++) {                                                             \
            acc[i][0] = vfmaq_laneq_f32(acc[i][0], b0, av[i], L);                                  \
            acc[i][1] = vfmaq_laneq_f32(acc[i][1], b1, av[i], L);                                  \
            acc[i][2] = vfmaq_laneq_f32(acc[i][2], b2, av[i], L);                                  \
            acc[i][3] = vfmaq_laneq_f32(acc[i][3], b3, av[i], L);                                  \
        }                                                                                          \
    } while (0)
            UKERNEL_NEON_LANE(0);
            UKERNEL_NEON_LANE(1);
            UKERNEL_NEON_LANE(2);
            UKERNEL_NEON_LANE(3);
#undef UKERNEL_NEON_LANE
        }
    }
    for (; k < K; k++) {
        const float *bk = b + k * b_ks;
        const float *ak = a + k * a_ks;
        if (prefetch) { /* address arithmetic on integers: the target may lie past the end */
            __builtin_prefetch(
                (const void *)((uintptr_t)bk + (uintptr_t)(UKERNEL_PREFETCH * b_ks * 4)));
            __builtin_prefetch(
                (const void *)((uintptr_t)ak + (uintptr_t)(UKERNEL_PREFETCH * a_ks * 4)));
        }
        float32x4_t b0, b1, b2, b3;
        if (masked) {
            b0 = n4_load_first(bk, nr);
            b1 = n4_load_first(bk + 4, nr - 4);
            b2 = n4_load_first(bk + 8, nr - 8);
            b3 = n4_load_first(bk + 12, nr - 12);
        } else {
            b0 = vld1q_f32(bk);
            b1 = vld1q_f32(bk + 4);
            b2 = vld1q_f32(bk + 8);
            b3 = vld1q_f32(bk + 12);
        }
        UNROLL_ALL(6)
        for (int i = 0; i < MR; i++) {
            const float av = ak[i * a_is];
            UKERNEL_NEON_STEP(av, i);
        }
    }
    float32x4_t x[4];
    for (int q = 0; q < 4; q++) x[q] = cmax ? vld1q_f32(cmax + 4 * q) : vdupq_n_f32(0.0f);
    UNROLL_ALL(6)
    for (int i = 0; i < MR; i++) {
        float *ci = c + i * ldc;
        for (int q = 0; q < 4; q++) {
            float32x4_t r = acc[i][q];
            if (accumulate)
                r = vaddq_f32(
                    masked ? n4_load_first(ci + 4 * q, nr - 4 * q) : vld1q_f32(ci + 4 * q), r);
            if (cmax) x[q] = vmaxq_f32(x[q], r);
            if (rscale) r = vmulq_n_f32(r, rscale[i]);
            if (masked)
                n4_store_first(ci + 4 * q, r, nr - 4 * q);
            else
                vst1q_f32(ci + 4 * q, r);
        }
    }
    if (cmax)
        for (int q = 0; q < 4; q++) vst1q_f32(cmax + 4 * q, x[q]);
}
#undef UKERNEL_NEON_STEP

/* Transposing pack: qt[d][i] = q[i][d0 + d] * scale for rows i < nq (row stride ldq) and
 * d < dc, zero for nq <= i < bqp; rows of qt have bqp floats. 4 x 4 blocks transposed in
 * registers. */
static inline void pack_transposed(float *qt, const float *q, int ldq, int nq, int bqp, int d0,
                                   int dc, float scale) {
    int i = 0;
    for (; i + 4 <= nq; i += 4) {
        const float *q0 = q + (size_t)i * ldq + d0;
        int d = 0;
        for (; d + 4 <= dc; d += 4) {
            const float32x4_t r0 = vmulq_n_f32(vld1q_f32(q0 + d), scale),
                              r1 = vmulq_n_f32(vld1q_f32(q0 + ldq + d), scale),
                              r2 = vmulq_n_f32(vld1q_f32(q0 + 2 * (size_t)ldq + d), scale),
                              r3 = vmulq_n_f32(vld1q_f32(q0 + 3 * (size_t)ldq + d), scale);
            /* t0 = r0[0] r1[0] r0[2] r1[2], t1 = r0[1] r1[1] r0[3] r1[3], t2 and t3 the same
             * for r2, r3; their 64-bit halves then join into the columns. */
            const float32x4_t t0 = vtrn1q_f32(r0, r1), t1 = vtrn2q_f32(r0, r1),
                              t2 = vtrn1q_f32(r2, r3), t3 = vtrn2q_f32(r2, r3);
            const float64x2_t u0 = vreinterpretq_f64_f32(t0), u1 = vreinterpretq_f64_f32(t1),
                              u2 = vreinterpretq_f64_f32(t2), u3 = vreinterpretq_f64_f32(t3);
            float *o = qt + (size_t)d * bqp + i;
            vst1q_f32(o, vreinterpretq_f32_f64(vtrn1q_f64(u0, u2)));
            vst1q_f32(o + bqp, vreinterpretq_f32_f64(vtrn1q_f64(u1, u3)));
            vst1q_f32(o + 2 * (size_t)bqp, vreinterpretq_f32_f64(vtrn2q_f64(u0, u2)));
            vst1q_f32(o + 3 * (size_t)bqp, vreinterpretq_f32_f64(vtrn2q_f64(u1, u3)));
        }
        for (; d < dc; d++)
            for (int u = 0; u < 4; u++)
                qt[(size_t)d * bqp + i + u] = q[(size_t)(i + u) * ldq + d0 + d] * scale;
    }
    for (; i < nq; i++)
        for (int d = 0; d < dc; d++) qt[(size_t)d * bqp + i] = q[(size_t)i * ldq + d0 + d] * scale;
    for (int d = 0; d < dc; d++)
        for (int j = nq; j < bqp; j++) qt[(size_t)d * bqp + j] = 0.0f;
}

#endif
