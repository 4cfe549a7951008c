/* Internal: the micro-kernel and the transposing pack in plain C, for the baseline kernel set
 * (any CPU). Same contract as ukernel_avx2.h; `masked` and `prefetch` have no meaning here. */
#ifndef SAM2_CORE_UKERNEL_BASE_H
#define SAM2_CORE_UKERNEL_BASE_H

#include <stddef.h>
#include <stdint.h>

static inline void ukernel(const int MR, int K, const float *a, ptrdiff_t a_is, ptrdiff_t a_ks,
                           const float *b, ptrdiff_t b_ks, float *c, ptrdiff_t ldc, int nr,
                           const int masked, int accumulate, const float *bias, const float *rscale,
                           float *cmax, const int prefetch) {
    (void)masked, (void)prefetch;
    for (int i = 0; i < MR; i++) {
        float acc[16];
        for (int j = 0; j < nr; j++) acc[j] = bias ? bias[j] : 0.0f;
        for (int k = 0; k < K; k++) {
            const float av = a[i * a_is + k * a_ks];
            for (int j = 0; j < nr; j++) acc[j] += av * b[k * b_ks + j];
        }
        float *ci = c + i * ldc;
        for (int j = 0; j < nr; j++) {
            float r = accumulate ? ci[j] + acc[j] : acc[j];
            ci[j] = rscale ? r * rscale[i] : r;
            if (cmax && r > cmax[j]) cmax[j] = r;
        }
    }
}

/* qt[d][i] = q[i][d0 + d] * scale for rows i < nq (row stride ldq) and d < dc, zero for
 * nq <= i < bqp; rows of qt have bqp floats. */
static inline void pack_transposed(float *qt, const float *q, int ldq, int nq, int bqp, int d0,
                                   int dc, float scale) {
    for (int i = 0; i < nq; i++)
        for (int d = 0; d < dc; d++) qt[(size_t)d * bqp + i] = q[(size_t)i * ldq + d0 + d] * scale;
    for (int d = 0; d < dc; d++)
        for (int j = nq; j < bqp; j++) qt[(size_t)d * bqp + j] = 0.0f;
}

#endif
