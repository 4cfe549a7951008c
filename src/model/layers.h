/* Building blocks shared by several SAM 2 modules: the MLP of sam2_utils, the projected
 * multi-head attention of sam/transformer.py, and a few small tensor helpers. All operate on
 * token-major [N][C] buffers and take their temporaries from an arena. */
#ifndef SAM2_MODEL_LAYERS_H
#define SAM2_MODEL_LAYERS_H

#include "core/arena.h"
#include "core/ops.h"
#include "model/weights.h"

typedef enum { ACT_NONE = 0, ACT_RELU, ACT_GELU, ACT_SIGMOID } activation;

/* sam2_utils.MLP: n Linear layers (in -> hidden ... -> out), `act` between layers, optional
 * sigmoid on the output. in [N][in_dim] -> out [N][out_dim]. */
int mlp_forward(const sam2_backend *be, float *out, const float *in, int N, const sam2_lin *layers,
                int n_layers, int in_dim, int hidden, int out_dim, activation act,
                bool sigmoid_output, arena *scratch);

/* sam/transformer.py Attention: q/k/v projections to `internal` channels, `heads` heads,
 * softmax(QK^T/sqrt(d))V, output projection back to `dim`.
 * q_in [Lq][dim], k_in [Lk][kv_dim], v_in [Lk][kv_dim] -> out [Lq][dim]. */
int attention_forward(const sam2_backend *be, float *out, const float *q_in, int Lq,
                      const float *k_in, const float *v_in, int Lk, const sam2_attn_w *w, int dim,
                      int kv_dim, int internal, int heads, arena *scratch);

/* attention_forward where any of q, k, v may come already projected (q_pre, k_pre, v_pre:
 * [L][internal]); the *_in of a projected input is ignored. Lets callers reuse projections that
 * do not change between calls (the mask decoder's image-side projections of one image). */
int attention_forward_ex(const sam2_backend *be, float *out, const float *q_in, const float *q_pre,
                         int Lq, const float *k_in, const float *k_pre, const float *v_in,
                         const float *v_pre, int Lk, const sam2_attn_w *w, int dim, int kv_dim,
                         int internal, int heads, arena *scratch);

/* The same attention for few queries (Lq * heads < internal): the key and value projections are
 * folded onto the queries, so the Lk keys and values are never projected:
 *   q_h . (Wk_h x + bk_h) = (Wk_h^T q_h) . x + const   (the constant cancels in the softmax)
 *   sum_j a_j (Wv_h v_j + bv_h) = Wv_h (sum_j a_j v_j) + bv_h   (softmax rows sum to one).
 * Exact up to float rounding. */
int attention_fold_kv(const sam2_backend *be, float *out, const float *q_in, int Lq,
                      const float *k_in, const float *v_in, int Lk, const sam2_attn_w *w, int dim,
                      int internal, int heads, arena *scratch);

/* The same attention for few keys (Lk * heads < internal): the query and output projections are
 * folded onto the keys and values, so the Lq queries are never projected:
 *   (Wq_h x + bq_h) . k_hj = x . (Wq_h^T k_hj) + bq_h . k_hj
 *   Wo (sum_hj a_hj v_hj) + bo = sum_hj a_hj (Wo_h v_hj) + bo. */
int attention_fold_q(const sam2_backend *be, float *out, const float *q_in, int Lq,
                     const float *k_in, const float *v_in, int Lk, const sam2_attn_w *w, int dim,
                     int internal, int heads, arena *scratch);

/* out[n][c] = a[n][c] + b[n][c] for N rows of C (b may be broadcast: b_rows == 1). */
void add_rows(float *out, const float *a, const float *b, int N, int C, int b_rows);
/* Apply an activation in place. */
void activate(const sam2_backend *be, float *x, size_t n, activation act);

#endif
