/* The shared building blocks of layers.h on the compute seam (core/device.h): the MLP of
 * sam2_utils and the projected multi-head attention of sam/transformer.py, with their weights as
 * backend tensors placed once at load. Each is a short sequence of backend ops. */
#ifndef SAM2_MODEL_DEV_LAYERS_H
#define SAM2_MODEL_DEV_LAYERS_H

#include "core/device.h"
#include "model/weights.h"

typedef struct dev_lin {
    dev_tensor w, b; /* Linear [out][in]; b may have no buffer (no bias) */
} dev_lin;

typedef struct dev_norm {
    dev_tensor w, b;
} dev_norm;

typedef struct dev_attn {
    dev_lin q, k, v, out;
} dev_attn;

/* Weight placement (dev_weight); a failure leaves a tensor without a buffer, which
 * dev_weights_placed() reports. */
dev_lin dev_lin_place(sam2_device *d, dev_arena *a, const sam2_lin *l, int64_t out, int64_t in);
dev_norm dev_norm_place(sam2_device *d, dev_arena *a, const sam2_norm *n, int64_t c);
/* Attention(dim, heads, downsample): q from dim, k and v from kv_dim, all to `internal`. */
dev_attn dev_attn_place(sam2_device *d, dev_arena *a, const sam2_attn_w *w, int64_t dim,
                        int64_t kv_dim, int64_t internal);
/* 1 when every one of the n tensors has a buffer. */
int dev_weights_placed(const dev_tensor *t, size_t n);

/* sam2_utils.MLP: layers[i] in -> hidden ... -> out, ReLU between layers, optional sigmoid on
 * the output. in [N][in_dim] -> out [N][out_dim]. */
void dev_mlp(dev_exec *x, dev_tensor out, dev_tensor in, const dev_lin *layers, int n_layers,
             int64_t hidden, int sigmoid_output);

/* sam/transformer.py Attention.forward: q_in [Lq][dim], k_in, v_in [Lk][kv_dim] -> out [Lq][dim].
 * k_pre, v_pre: the key and value projections when the caller already has them (a buffer-less
 * tensor otherwise; k_in/v_in are then unused). */
void dev_attn_forward(dev_exec *x, dev_tensor out, dev_tensor q_in, dev_tensor k_in,
                      dev_tensor v_in, dev_tensor k_pre, dev_tensor v_pre, const dev_attn *w,
                      int heads);

/* The same attention for few queries (Lq * heads < internal), with the key and value
 * projections folded onto the queries (layers.h attention_fold_kv). */
void dev_attn_fold_kv(dev_exec *x, dev_tensor out, dev_tensor q_in, dev_tensor k_in,
                      dev_tensor v_in, const dev_attn *w, int heads);

/* The same attention for few keys (Lk * heads < internal), with the query and output
 * projections folded onto the keys and values (layers.h attention_fold_q). */
void dev_attn_fold_q(dev_exec *x, dev_tensor out, dev_tensor q_in, dev_tensor k_in, dev_tensor v_in,
                     const dev_attn *w, int heads);

#endif
