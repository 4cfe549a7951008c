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
 *
 * bench-ops on the 2-core test machine (best runs): 1024 windows of 64 tokens, D = 96: this
 * kernel ~145 GFLOP/s; cblas_sgemm per (window, head) from the pool threads 0.6 GFLOP/s
 * (OpenBLAS 0.3.21's own threading thrashes when called concurrently); a serial loop of
 * two-threaded cblas_sgemm calls ~45. Global attention over 4096 tokens, 4 heads of 96: this
 * kernel ~160 GFLOP/s, blocked two-threaded cblas_sgemm ~120 (SGEMM 2048^3: ~200).
 *
 * Only a [Lk x block] score tile per thread exists at a time. */
#include "core/ops_cpu.h"
#include "core/threadpool.h"
#include "core/ukernel.h"
#include "core/vmath.h"

#include <math.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ATTN_BQ_MAX 96             /* query rows per task (a multiple of 16 and of 6) */
#define ATTN_TILE_FLOATS (1 << 20) /* target size of one thread's score tile */
#define ATTN_QT_DEPTH 128          /* channels of packed queries per pass (stack buffer) */
#define ATTN_KEY_CHUNK 512         /* keys per pass of O = P V (keeps P and V slices in L2) */
#define ATTN_MAX_SLOTS 256
#ifndef ATTN_OUT_PREFETCH
#define ATTN_OUT_PREFETCH 1 /* software prefetch in the output tiles (see ukernel.h) */
#endif

static int round_up16(int n) {
    return (n + 15) & ~15;
}

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

/* Score tile rows: A = keys read in place (a_is = ldk, a_ks = 1), 16 columns, no mask;
 * cmax (or NULL) collects the column maxima. */
#define SCORE_CASE(MR)                                                                             \
    case MR:                                                                                       \
        if (cmax)                                                                                  \
            ukernel(MR, K, a, lda, 1, b, ldb, c, ldc, 16, 0, accumulate, NULL, NULL, cmax, 0);     \
        else                                                                                       \
            ukernel(MR, K, a, lda, 1, b, ldb, c, ldc, 16, 0, accumulate, NULL, NULL, NULL, 0);     \
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
#define OUT_CASE(MR)                                                                               \
    case MR:                                                                                       \
        if (nr == 16)                                                                              \
            ukernel(MR, K, a, 1, lda, b, ldb, c, ldc, 16, 0, accumulate, NULL, rscale, NULL,       \
                    ATTN_OUT_PREFETCH);                                                            \
        else                                                                                       \
            ukernel(MR, K, a, 1, lda, b, ldb, c, ldc, nr, 1, accumulate, NULL, rscale, NULL,       \
                    ATTN_OUT_PREFETCH);                                                            \
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
} attn_job;

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
        pack_transposed(qt, q, J->ldq, nq, bqp, d0, dc, J->scale);
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

static void attn_run(void *ctx, int64_t task, int worker) {
    const attn_job *J = ctx;
    attn_task(J, task, J->scratch + (size_t)worker * J->slot_floats);
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
    attn_job J = {.out = out,
                  .q = q,
                  .k = k,
                  .v = v,
                  .ldo = ldo,
                  .ldq = ldq,
                  .ldk = ldk,
                  .ldv = ldv,
                  .heads = heads,
                  .Lq = Lq,
                  .Lk = Lk,
                  .D = D};
    J.bq = attn_block_rows(Lq, Lk);
    J.qblocks = (Lq + J.bq - 1) / J.bq;
    J.scale = (float)(1.0 / sqrt((double)D));
    J.scratch = scratch;
    J.slot_floats = attn_slot_floats(J.bq, Lk);
    const int64_t tasks = (int64_t)nwin * heads * J.qblocks;
    cpu_parallel_tasks(tasks, attn_slots(tasks), attn_run, &J);
}

void cpu_attention(float *out, int ldo, const float *q, int ldq, const float *k, int ldk,
                   const float *v, int ldv, int Lq, int Lk, int D, float *scratch) {
    cpu_attention_batched(out, ldo, q, ldq, k, ldk, v, ldv, 1, 1, Lq, Lk, D, scratch);
}
