/* Scaled dot-product attention on the CPU.
 *
 * Work is split into tasks of up to ATTN_BQ_MAX query rows of one (window, head); the thread
 * pool runs the tasks, each on one thread with its own slice of the scratch. A task computes
 * the score tile transposed, S^T[key][query] = K (Q * scale)^T, with a register-blocked AVX2
 * micro-kernel (6 keys x 16 queries; the queries are packed, the keys are read in place), takes
 * the softmax down each column (one query's keys), and accumulates O = P V with the same
 * micro-kernel (6 queries x 16 channels, V read in place), scaling each row by 1/sum at the end.
 * Computing S transposed means neither K nor V is ever repacked: only the task's own queries
 * are, which is what keeps the many small problems of windowed attention (64 x 64 x 96) fast.
 * Measured against cblas_sgemm per task in bench/bench_ops.c.
 *
 * Only a [Lk x block] score tile per thread exists at a time. */
#include "core/ops_cpu.h"
#include "core/threadpool.h"
#include "core/vmath.h"

#include <math.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#define ATTN_BQ_MAX 96      /* query rows per task (a multiple of 16 and of 6) */
#define ATTN_TILE_FLOATS (1 << 20) /* target size of one thread's score tile */
#define ATTN_QT_DEPTH 128   /* channels of packed queries per pass (stack buffer) */
#define ATTN_KEY_CHUNK 512  /* keys per pass of O = P V (keeps P and V slices in L2) */
#define ATTN_MAX_SLOTS 256

static int round_up16(int n) { return (n + 15) & ~15; }

/* Query rows per task: a multiple of 48 where possible (whole 16-column panels for the scores
 * and whole 6-row tiles for the output), fewer when the key count is large so that one tile
 * stays near ATTN_TILE_FLOATS; never more rows than the problem has (rounded up to 16). */
static int attn_block_rows(int Lq, int Lk) {
    int bq = ATTN_BQ_MAX;
    while (bq > 48 && (size_t)bq * (size_t)Lk > ATTN_TILE_FLOATS) bq -= 48;
    while (bq > 16 && (size_t)bq * (size_t)Lk > ATTN_TILE_FLOATS) bq -= 16;
    int lq16 = round_up16(Lq > 0 ? Lq : 1);
    return bq < lq16 ? bq : lq16;
}

/* Floats of one slot: the score tile [Lk][bq] and the row normalisers, 64-byte aligned. */
static size_t attn_slot_floats(int bq, int Lk) {
    size_t n = (size_t)bq * (size_t)(Lk > 0 ? Lk : 0) + (size_t)bq;
    return (n + 15) & ~(size_t)15;
}

static int attn_slots(int64_t tasks) {
    int t = pool_threads();
    if (t > ATTN_MAX_SLOTS) t = ATTN_MAX_SLOTS;
    return tasks < t ? (int)(tasks > 0 ? tasks : 1) : t;
}

size_t attention_batched_scratch_floats(int nwin, int heads, int Lq, int Lk) {
    if (nwin <= 0 || heads <= 0 || Lq <= 0 || Lk <= 0) return 16;
    const int bq = attn_block_rows(Lq, Lk);
    const int64_t tasks = (int64_t)nwin * heads * ((Lq + bq - 1) / bq);
    return (size_t)attn_slots(tasks) * attn_slot_floats(bq, Lk) + 16;
}

size_t attention_scratch_floats(int Lq, int Lk) {
    return attention_batched_scratch_floats(1, 1, Lq, Lk);
}

/* --- micro-kernel ----------------------------------------------------------------------------
 * C[i][0..nr) (op)= sum_k A(i,k) * B(k, 0..nr) for i < MR (MR <= 6), where
 * A(i,k) = a[i*a_is + k*a_ks] and B(k, j) = b[k*b_ks + j]; C rows at c + i*ldc.
 * accumulate: add to C instead of overwriting. rscale: multiply row i by rscale[i] (after the
 * accumulation). cmax: raise cmax[0..16) to the maximum of each column of the result.
 * masked: nr < 16, B and C are touched only in columns < nr. */

#ifdef SAM2_HAVE_AVX2
static inline __attribute__((always_inline)) void ukernel(
    const int MR, int K, const float *a, ptrdiff_t a_is, ptrdiff_t a_ks, const float *b,
    ptrdiff_t b_ks, float *c, ptrdiff_t ldc, int nr, const int masked, int accumulate,
    const float *rscale, float *cmax) {
    __m256 acc0[6], acc1[6];
    for (int i = 0; i < MR; i++) acc0[i] = acc1[i] = _mm256_setzero_ps();
    __m256i m0 = _mm256_setzero_si256(), m1 = _mm256_setzero_si256();
    if (masked) {
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lane);
        m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), lane);
    }
    for (int k = 0; k < K; k++) {
        const float *bk = b + k * b_ks;
        __m256 b0, b1;
        if (masked) {
            b0 = _mm256_maskload_ps(bk, m0);
            b1 = _mm256_maskload_ps(bk + 8, m1);
        } else {
            b0 = _mm256_loadu_ps(bk);
            b1 = _mm256_loadu_ps(bk + 8);
        }
        const float *ak = a + k * a_ks;
        for (int i = 0; i < MR; i++) {
            __m256 av = _mm256_broadcast_ss(ak + i * a_is);
            acc0[i] = _mm256_fmadd_ps(av, b0, acc0[i]);
            acc1[i] = _mm256_fmadd_ps(av, b1, acc1[i]);
        }
    }
    for (int i = 0; i < MR; i++) {
        float *ci = c + i * ldc;
        __m256 r0 = acc0[i], r1 = acc1[i];
        if (masked) {
            if (accumulate) {
                r0 = _mm256_add_ps(_mm256_maskload_ps(ci, m0), r0);
                r1 = _mm256_add_ps(_mm256_maskload_ps(ci + 8, m1), r1);
            }
            if (rscale) {
                __m256 s = _mm256_set1_ps(rscale[i]);
                r0 = _mm256_mul_ps(r0, s);
                r1 = _mm256_mul_ps(r1, s);
            }
            _mm256_maskstore_ps(ci, m0, r0);
            _mm256_maskstore_ps(ci + 8, m1, r1);
        } else {
            if (accumulate) {
                r0 = _mm256_add_ps(_mm256_loadu_ps(ci), r0);
                r1 = _mm256_add_ps(_mm256_loadu_ps(ci + 8), r1);
            }
            if (rscale) {
                __m256 s = _mm256_set1_ps(rscale[i]);
                r0 = _mm256_mul_ps(r0, s);
                r1 = _mm256_mul_ps(r1, s);
            }
            _mm256_storeu_ps(ci, r0);
            _mm256_storeu_ps(ci + 8, r1);
        }
    }
    if (cmax) {
        __m256 m0v = _mm256_loadu_ps(cmax), m1v = _mm256_loadu_ps(cmax + 8);
        for (int i = 0; i < MR; i++) {
            m0v = _mm256_max_ps(m0v, acc0[i]);
            m1v = _mm256_max_ps(m1v, acc1[i]);
        }
        _mm256_storeu_ps(cmax, m0v);
        _mm256_storeu_ps(cmax + 8, m1v);
    }
}
#else
static inline void ukernel(const int MR, int K, const float *a, ptrdiff_t a_is, ptrdiff_t a_ks,
                           const float *b, ptrdiff_t b_ks, float *c, ptrdiff_t ldc, int nr,
                           const int masked, int accumulate, const float *rscale, float *cmax) {
    (void)masked;
    for (int i = 0; i < MR; i++) {
        float acc[16] = {0};
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
#endif

/* Score tile rows: A = keys read in place (a_is = ldk, a_ks = 1), 16 columns, no mask;
 * cmax (or NULL) collects the column maxima. */
#define SCORE_CASE(MR)                                                                          \
    case MR:                                                                                    \
        if (cmax)                                                                               \
            ukernel(MR, K, a, lda, 1, b, ldb, c, ldc, 16, 0, accumulate, NULL, cmax);           \
        else                                                                                    \
            ukernel(MR, K, a, lda, 1, b, ldb, c, ldc, 16, 0, accumulate, NULL, NULL);           \
        break;
static void kernel_scores(int mr, int K, const float *a, ptrdiff_t lda, const float *b,
                          ptrdiff_t ldb, float *c, ptrdiff_t ldc, int accumulate, float *cmax) {
    switch (mr) {
        SCORE_CASE(6)
        SCORE_CASE(5)
        SCORE_CASE(4)
        SCORE_CASE(3)
        SCORE_CASE(2)
    default:
        SCORE_CASE(1)
    }
}
#undef SCORE_CASE

/* Output rows: A = probabilities read down the tile's columns (a_is = 1, a_ks = lda), B = V
 * in place, nr <= 16 columns. */
#define OUT_CASE(MR)                                                                            \
    case MR:                                                                                    \
        if (nr == 16)                                                                           \
            ukernel(MR, K, a, 1, lda, b, ldb, c, ldc, 16, 0, accumulate, rscale, NULL);         \
        else                                                                                    \
            ukernel(MR, K, a, 1, lda, b, ldb, c, ldc, nr, 1, accumulate, rscale, NULL);         \
        break;
static void kernel_output(int mr, int K, const float *a, ptrdiff_t lda, const float *b,
                          ptrdiff_t ldb, float *c, ptrdiff_t ldc, int nr, int accumulate,
                          const float *rscale) {
    switch (mr) {
        OUT_CASE(6)
        OUT_CASE(5)
        OUT_CASE(4)
        OUT_CASE(3)
        OUT_CASE(2)
    default:
        OUT_CASE(1)
    }
}
#undef OUT_CASE

/* --- one task ------------------------------------------------------------------------------- */

typedef struct attn_job {
    float *out;
    const float *q, *k, *v;
    int ldo, ldq, ldk, ldv;
    int heads, Lq, Lk, D, bq, qblocks;
    float scale;
    float *scratch;
    size_t slot_floats;
    int nslots;
    atomic_int slot_busy[ATTN_MAX_SLOTS];
} attn_job;

/* qt[d][i] = q[i][d0 + d] * scale for i < nq, 0 up to bqp; d < dc. */
static void pack_queries(float *qt, const float *q, int ldq, int nq, int bqp, int d0, int dc,
                         float scale) {
    int i = 0;
#ifdef SAM2_HAVE_AVX2
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
#endif
    for (; i < nq; i++)
        for (int d = 0; d < dc; d++) qt[(size_t)d * bqp + i] = q[(size_t)i * ldq + d0 + d] * scale;
    for (int d = 0; d < dc; d++)
        for (int j = nq; j < bqp; j++) qt[(size_t)d * bqp + j] = 0.0f;
}

/* Softmax down each column of st[Lk][bqp] in place, unnormalised: exp(s - max) with the
 * column maxima given in colmax; inv[i] gets 1 / the column's sum. */
static void softmax_columns(float *st, const float *colmax, float *inv, int Lk, int bqp) {
    for (int i = 0; i < bqp; i += 8) {
#ifdef SAM2_HAVE_AVX2
        const __m256 m = _mm256_loadu_ps(colmax + i);
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        int j = 0;
        for (; j + 2 <= Lk; j += 2) {
            float *p = st + (size_t)j * bqp + i;
            __m256 e0 = v8_exp_nonpos(_mm256_sub_ps(_mm256_loadu_ps(p), m));
            __m256 e1 = v8_exp_nonpos(_mm256_sub_ps(_mm256_loadu_ps(p + bqp), m));
            _mm256_storeu_ps(p, e0);
            _mm256_storeu_ps(p + bqp, e1);
            s0 = _mm256_add_ps(s0, e0);
            s1 = _mm256_add_ps(s1, e1);
        }
        if (j < Lk) {
            float *p = st + (size_t)j * bqp + i;
            __m256 e = v8_exp_nonpos(_mm256_sub_ps(_mm256_loadu_ps(p), m));
            _mm256_storeu_ps(p, e);
            s0 = _mm256_add_ps(s0, e);
        }
        _mm256_storeu_ps(inv + i, _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(s0, s1)));
#else
        for (int u = 0; u < 8; u++) {
            const float m = colmax[i + u];
            float s = 0.0f;
            for (int j = 0; j < Lk; j++) {
                float *p = &st[(size_t)j * bqp + i + u];
                *p = expf(*p - m);
                s += *p;
            }
            inv[i + u] = 1.0f / s;
        }
#endif
    }
}

static void attn_task(const attn_job *J, int64_t task, float *slot) {
    const int qb = (int)(task % J->qblocks);
    const int64_t wh = task / J->qblocks;
    const int h = (int)(wh % J->heads), w = (int)(wh / J->heads);
    const int Lk = J->Lk, D = J->D, ldk = J->ldk, ldv = J->ldv, ldo = J->ldo;
    const int q0 = qb * J->bq, nq = J->Lq - q0 < J->bq ? J->Lq - q0 : J->bq;
    const int bqp = round_up16(nq);
    const float *q = J->q + ((size_t)w * J->Lq + q0) * J->ldq + (size_t)h * D;
    const float *k = J->k + (size_t)w * Lk * ldk + (size_t)h * D;
    const float *v = J->v + (size_t)w * Lk * ldv + (size_t)h * D;
    float *o = J->out + ((size_t)w * J->Lq + q0) * ldo + (size_t)h * D;
    float *st = slot, *inv = slot + (size_t)Lk * bqp;

    /* S^T = K (Q * scale)^T, in passes of ATTN_QT_DEPTH channels; the last pass also finds
     * each column's maximum. */
    alignas(32) float qt[ATTN_QT_DEPTH * ATTN_BQ_MAX];
    alignas(32) float colmax[ATTN_BQ_MAX];
    for (int i = 0; i < bqp; i++) colmax[i] = -INFINITY;
    for (int d0 = 0; d0 < D; d0 += ATTN_QT_DEPTH) {
        const int dc = D - d0 < ATTN_QT_DEPTH ? D - d0 : ATTN_QT_DEPTH;
        const int last = d0 + dc >= D;
        pack_queries(qt, q, J->ldq, nq, bqp, d0, dc, J->scale);
        for (int j0 = 0; j0 < Lk; j0 += 6) {
            const int mr = Lk - j0 < 6 ? Lk - j0 : 6;
            for (int p = 0; p < bqp; p += 16)
                kernel_scores(mr, dc, k + (size_t)j0 * ldk + d0, ldk, qt + p, bqp,
                              st + (size_t)j0 * bqp + p, bqp, d0 > 0, last ? colmax + p : NULL);
        }
    }
    softmax_columns(st, colmax, inv, Lk, bqp);
    /* O = P V / sum, in key chunks that keep P's and V's slices in cache. */
    for (int j0 = 0; j0 < Lk; j0 += ATTN_KEY_CHUNK) {
        const int kc = Lk - j0 < ATTN_KEY_CHUNK ? Lk - j0 : ATTN_KEY_CHUNK;
        const int last = j0 + kc >= Lk;
        for (int i0 = 0; i0 < nq; i0 += 6) {
            const int mr = nq - i0 < 6 ? nq - i0 : 6;
            for (int n0 = 0; n0 < D; n0 += 16) {
                const int nr = D - n0 < 16 ? D - n0 : 16;
                kernel_output(mr, kc, st + (size_t)j0 * bqp + i0, bqp, v + (size_t)j0 * ldv + n0,
                              ldv, o + (size_t)i0 * ldo + n0, ldo, nr, j0 > 0,
                              last ? inv + i0 : NULL);
            }
        }
    }
}

static void attn_range(void *ctx, int64_t begin, int64_t end) {
    attn_job *J = ctx;
    /* Claim a free scratch slot: at most pool_threads() ranges run at once. */
    int s = 0;
    for (;; s = (s + 1) % J->nslots) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&J->slot_busy[s], &expected, 1)) break;
    }
    float *slot = J->scratch + (size_t)s * J->slot_floats;
    for (int64_t t = begin; t < end; t++) attn_task(J, t, slot);
    atomic_store(&J->slot_busy[s], 0);
}

void cpu_attention_batched(float *out, int ldo, const float *q, int ldq, const float *k, int ldk,
                           const float *v, int ldv, int nwin, int heads, int Lq, int Lk, int D,
                           float *scratch) {
    if (nwin <= 0 || heads <= 0 || Lq <= 0 || D <= 0) return;
    if (Lk <= 0) { /* softmax over no keys: 0/0, as PyTorch */
        for (int w = 0; w < nwin; w++)
            for (int i = 0; i < Lq; i++)
                for (int c = 0; c < heads * D; c++) out[((size_t)w * Lq + i) * ldo + c] = NAN;
        return;
    }
    attn_job J = {.out = out, .q = q, .k = k, .v = v, .ldo = ldo, .ldq = ldq, .ldk = ldk,
                  .ldv = ldv, .heads = heads, .Lq = Lq, .Lk = Lk, .D = D};
    J.bq = attn_block_rows(Lq, Lk);
    J.qblocks = (Lq + J.bq - 1) / J.bq;
    J.scale = (float)(1.0 / sqrt((double)D));
    J.scratch = scratch;
    J.slot_floats = attn_slot_floats(J.bq, Lk);
    const int64_t tasks = (int64_t)nwin * heads * J.qblocks;
    J.nslots = attn_slots(tasks);
    for (int s = 0; s < J.nslots; s++) atomic_init(&J.slot_busy[s], 0);
    pool_for(tasks, 1, attn_range, &J);
}

void cpu_attention(float *out, int ldo, const float *q, int ldq, const float *k, int ldk,
                   const float *v, int ldv, int Lq, int Lk, int D, float *scratch) {
    cpu_attention_batched(out, ldo, q, ldq, k, ldk, v, ldv, 1, 1, Lq, Lk, D, scratch);
}
