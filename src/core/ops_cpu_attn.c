/* Scaled dot-product attention on the CPU.
 *
 * Work is split into tasks of up to ATTN_BQ_MAX query rows of one (window, head); the thread
 * pool runs the tasks, each on one thread with its own slice of the scratch. A task walks the
 * keys in chunks of ATTN_KC with an online softmax (as flash attention): for each chunk it
 * computes the score tile transposed, S^T[key][query] = K (Q * scale)^T, with a
 * register-blocked micro-kernel (6 keys x 16 queries; the queries are packed once per
 * task, the keys are read in place), raises each query's running maximum to the chunk's,
 * exponentiates the tile against it, rescales the partial output rows whose maximum moved
 * (by exp(old - new)), and accumulates O += P V with the same micro-kernel (6 queries x 16
 * channels, V read in place); the last chunk scales each row by 1 / its running sum.
 * Computing S transposed means neither K nor V is ever repacked: only the task's own queries
 * are, which is what keeps the many small problems of windowed attention (64 x 64 x 96) fast;
 * the chunking keeps the tile, the K and V slices and the output rows in L2 however long the
 * keys are (memory attention: 28k keys), so no pass over a large score matrix is needed. With
 * at most ATTN_KC keys there is one chunk and the result is the plain two-pass softmax.
 *
 * Values may have their own width (Dv): memory attention's cross-attention weighs the 64-d
 * memory with 256-d query-key scores (its value projection is applied afterwards).
 *
 * bench-ops on the 2-core test machine (best runs): 1024 windows of 64 tokens, D = 96: this
 * kernel ~145 GFLOP/s; cblas_sgemm per (window, head) from the pool threads 0.6 GFLOP/s
 * (OpenBLAS 0.3.21's own threading thrashes when called concurrently); a serial loop of
 * two-threaded cblas_sgemm calls ~45. Global attention over 4096 tokens, 4 heads of 96: this
 * kernel ~160 GFLOP/s, blocked two-threaded cblas_sgemm ~120 (SGEMM 2048^3: ~200).
 *
 * The tiles, the pack and the exponentials come from the kernel table in use (core/cpu_kernels.h:
 * AVX2, NEON or baseline); each call covers a whole key chunk. */
#include "core/cpu_kernels.h"
#include "core/ops_cpu.h"
#include "core/threadpool.h"

#include <math.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ATTN_BQ_MAX 96 /* query rows per task (a multiple of 16 and of 6) */
#ifndef ATTN_KC
#define ATTN_KC 256 /* keys per chunk of the online softmax */
#endif
#define ATTN_QT_DEPTH 256 /* channels of packed queries per pass (stack buffer) */
#define ATTN_MAX_SLOTS 256

static int round_up16(int n) {
    return (n + 15) & ~15;
}

/* Query rows per task: ATTN_BQ_MAX (whole 16-column panels for the scores and whole 6-row
 * tiles for the output), or the problem's rows rounded up to 16 when fewer. */
static int attn_block_rows(int Lq) {
    int lq16 = round_up16(Lq > 0 ? Lq : 1);
    return ATTN_BQ_MAX < lq16 ? ATTN_BQ_MAX : lq16;
}

/* Floats of one slot: the score tile [kc][bq] and four per-query vectors (running maximum,
 * running sum, chunk maximum, rescale factor), 64-byte aligned. */
static size_t attn_slot_floats(int bq, int Lk) {
    const int kc = Lk < ATTN_KC ? (Lk > 0 ? Lk : 0) : ATTN_KC;
    size_t n = (size_t)bq * (size_t)kc + 4 * (size_t)bq;
    return (n + 15) & ~(size_t)15;
}

static int attn_slots(int64_t tasks) {
    int t = pool_threads();
    if (t > ATTN_MAX_SLOTS) t = ATTN_MAX_SLOTS;
    return tasks < t ? (int)(tasks > 0 ? tasks : 1) : t;
}

size_t attention_batched_scratch_floats(int nwin, int heads, int Lq, int Lk) {
    if (nwin <= 0 || heads <= 0 || Lq <= 0 || Lk <= 0) return 16;
    const int bq = attn_block_rows(Lq);
    const int64_t tasks = (int64_t)nwin * heads * ((Lq + bq - 1) / bq);
    return (size_t)attn_slots(tasks) * attn_slot_floats(bq, Lk) + 16;
}

size_t attention_scratch_floats(int Lq, int Lk) {
    return attention_batched_scratch_floats(1, 1, Lq, Lk);
}

/* --- one task ------------------------------------------------------------------------------- */

typedef struct attn_job {
    float *out;
    const float *q, *k, *v;
    int ldo, ldq, ldk, ldv;
    int heads, Lq, Lk, D, Dv, bq, qblocks;
    float scale;
    float *scratch;
    size_t slot_floats;
} attn_job;

/* Online-softmax bookkeeping for one chunk, per query column i < bqp: the running maximum
 * m[i] rises to the chunk's maximum cmax[i]; alpha[i] = exp(old - new) is the factor that
 * rescales what was accumulated against the old maximum (1 when it did not move). */
static void raise_maxima(float *m, const float *cmax, float *alpha, int bqp) {
    for (int i = 0; i < bqp; i++) {
        const float mn = cmax[i] > m[i] ? cmax[i] : m[i];
        alpha[i] = mn == m[i] ? 1.0f : expf(m[i] - mn);
        m[i] = mn;
    }
}

static void attn_task(const attn_job *J, int64_t task, float *slot) {
    const cpu_kernels *kern = cpu_kernels_get();
    const int qb = (int)(task % J->qblocks);
    const int64_t wh = task / J->qblocks;
    const int h = (int)(wh % J->heads), w = (int)(wh / J->heads);
    const int Lk = J->Lk, D = J->D, Dv = J->Dv, ldk = J->ldk, ldv = J->ldv, ldo = J->ldo;
    const int q0 = qb * J->bq, nq = J->Lq - q0 < J->bq ? J->Lq - q0 : J->bq;
    const int bqp = round_up16(nq);
    const int kc_max = Lk < ATTN_KC ? Lk : ATTN_KC;
    const float *q = J->q + ((size_t)w * J->Lq + q0) * J->ldq + (size_t)h * D;
    const float *k = J->k + (size_t)w * Lk * ldk + (size_t)h * D;
    const float *v = J->v + (size_t)w * Lk * ldv + (size_t)h * Dv;
    float *o = J->out + ((size_t)w * J->Lq + q0) * ldo + (size_t)h * Dv;
    float *st = slot, *m = slot + (size_t)kc_max * bqp, *sum = m + bqp, *cmax = sum + bqp,
          *alpha = cmax + bqp;

    /* Queries packed once when they fit the buffer, else per chunk in passes of channels. */
    alignas(32) float qt[ATTN_QT_DEPTH * ATTN_BQ_MAX];
    const int packed_once = D <= ATTN_QT_DEPTH;
    if (packed_once) kern->pack_transposed(qt, q, J->ldq, nq, bqp, 0, D, J->scale);
    for (int i = 0; i < bqp; i++) m[i] = -INFINITY;

    for (int j0 = 0; j0 < Lk; j0 += ATTN_KC) {
        const int kc = Lk - j0 < ATTN_KC ? Lk - j0 : ATTN_KC;
        const int first = j0 == 0, last = j0 + kc >= Lk;
        /* S^T = K (Q * scale)^T for this chunk; the last channel pass finds each column's
         * maximum. */
        for (int i = 0; i < bqp; i++) cmax[i] = -INFINITY;
        for (int d0 = 0; d0 < D; d0 += ATTN_QT_DEPTH) {
            const int dc = D - d0 < ATTN_QT_DEPTH ? D - d0 : ATTN_QT_DEPTH;
            const int last_pass = d0 + dc >= D;
            if (!packed_once) kern->pack_transposed(qt, q, J->ldq, nq, bqp, d0, dc, J->scale);
            kern->attn_scores(kc, dc, k + (size_t)j0 * ldk + d0, ldk, qt, bqp, st, d0 > 0,
                              last_pass ? cmax : NULL);
        }
        raise_maxima(m, cmax, alpha, bqp);
        kern->attn_exp_columns(st, m, alpha, sum, kc, bqp, first);
        if (last)
            for (int i = 0; i < bqp; i++) sum[i] = 1.0f / sum[i]; /* now the row scales */
        /* Rows accumulated against a maximum that moved are scaled down to the new one. */
        if (!first)
            for (int i = 0; i < nq; i++)
                if (alpha[i] != 1.0f) {
                    float *oi = o + (size_t)i * ldo;
                    for (int c = 0; c < Dv; c++) oi[c] *= alpha[i];
                }
        /* O (+)= P V for this chunk; the last one scales each row by 1 / its sum. */
        kern->attn_output(nq, kc, st, bqp, v + (size_t)j0 * ldv, ldv, o, ldo, Dv, !first,
                          last ? sum : NULL);
    }
}

static void attn_run(void *ctx, int64_t task, int worker) {
    const attn_job *J = ctx;
    attn_task(J, task, J->scratch + (size_t)worker * J->slot_floats);
}

/* nwin x heads problems; q and k heads are D wide, v and out heads Dv wide. */
static void attention_run(float *out, int ldo, const float *q, int ldq, const float *k, int ldk,
                          const float *v, int ldv, int nwin, int heads, int Lq, int Lk, int D,
                          int Dv, float *scratch) {
    if (nwin <= 0 || heads <= 0 || Lq <= 0 || D <= 0 || Dv <= 0) return;
    if (Lk <= 0) { /* softmax over no keys: 0/0, as PyTorch */
        for (int w = 0; w < nwin; w++)
            for (int i = 0; i < Lq; i++)
                for (int c = 0; c < heads * Dv; c++) out[((size_t)w * Lq + i) * ldo + c] = NAN;
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
                  .D = D,
                  .Dv = Dv};
    J.bq = attn_block_rows(Lq);
    J.qblocks = (Lq + J.bq - 1) / J.bq;
    J.scale = (float)(1.0 / sqrt((double)D));
    J.scratch = scratch;
    J.slot_floats = attn_slot_floats(J.bq, Lk);
    const int64_t tasks = (int64_t)nwin * heads * J.qblocks;
    cpu_parallel_tasks(tasks, attn_slots(tasks), attn_run, &J);
}

void cpu_attention_batched(float *out, int ldo, const float *q, int ldq, const float *k, int ldk,
                           const float *v, int ldv, int nwin, int heads, int Lq, int Lk, int D,
                           float *scratch) {
    attention_run(out, ldo, q, ldq, k, ldk, v, ldv, nwin, heads, Lq, Lk, D, D, scratch);
}

void cpu_attention(float *out, int ldo, const float *q, int ldq, const float *k, int ldk,
                   const float *v, int ldv, int Lq, int Lk, int D, float *scratch) {
    attention_run(out, ldo, q, ldq, k, ldk, v, ldv, 1, 1, Lq, Lk, D, D, scratch);
}

void cpu_attention_dv(float *out, int ldo, const float *q, int ldq, const float *k, int ldk,
                      const float *v, int ldv, int Lq, int Lk, int D, int Dv, float *scratch) {
    attention_run(out, ldo, q, ldq, k, ldk, v, ldv, 1, 1, Lq, Lk, D, Dv, scratch);
}
