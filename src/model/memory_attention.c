/* Memory attention on the compute seam: the forward passes below only call backend ops
 * (core/device.h); the host supplies the frame's features and the concatenated memory (borrowed
 * in place on the cpu and ref backends) and reads back the conditioned features. Comments name
 * the official Python (sam2/modeling/memory_attention.py, sam/transformer.py RoPEAttention). */
#include "model/memory_attention.h"

#include "model/dev_layers.h"

#include <stdlib.h>

/* Rows of the feed-forward's hidden layer computed at a time (8 MB at dim_feedforward 2048). */
#define FFN_ROW_CHUNK 1024

#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})

typedef struct mem_attn_layer_dev {
    dev_attn self_attn, cross_attn;
    dev_lin linear1, linear2;
    dev_norm norm1, norm2, norm3;
} mem_attn_layer_dev;

/* The memory attention's weights and constants on the net's backend (net->ma). */
struct memory_attention_dev {
    mem_attn_layer_dev layers[SAM2_MAX_MEM_ATTN_LAYERS];
    dev_norm norm;
    dev_tensor curr_pos;               /* neck_pos[2], [P][d] */
    dev_tensor rope_cos, rope_sin;     /* the E x E grid, [P][head_dim/2] */
    dev_tensor rope_k_cos, rope_k_sin; /* RoPEAttentionv2's key grid (EdgeTAM), else none */
};

int memory_attention_load(sam2_net *net) {
    const sam2_config *c = &net->cfg;
    sam2_device *d = net->dev;
    dev_arena *a = &net->dev_weights;
    const int64_t dm = c->d_model, md = c->mem_dim, P = (int64_t)net->embed * net->embed;
    const int64_t half = net->rope_head_dim / 2;
    struct memory_attention_dev *ma = calloc(1, sizeof *ma);
    if (!ma) return -1;
    net->ma = ma;
    int ok = 1;
    for (int i = 0; i < c->mem_attn_layers; i++) {
        const sam2_mem_attn_layer_w *w = &net->w.mem_attn[i];
        mem_attn_layer_dev *l = &ma->layers[i];
        l->self_attn = dev_attn_place(d, a, &w->self_attn, dm, dm, dm / c->sa_downsample);
        l->cross_attn = dev_attn_place(d, a, &w->cross_attn, dm, md, dm / c->ca_downsample);
        l->linear1 = dev_lin_place(d, a, &w->linear1, c->mem_attn_ffn, dm);
        l->linear2 = dev_lin_place(d, a, &w->linear2, dm, c->mem_attn_ffn);
        l->norm1 = dev_norm_place(d, a, &w->norm1, dm);
        l->norm2 = dev_norm_place(d, a, &w->norm2, dm);
        l->norm3 = dev_norm_place(d, a, &w->norm3, dm);
        ok &= dev_weights_placed(&l->self_attn.q.w, sizeof *l / sizeof(dev_tensor));
    }
    ma->norm = dev_norm_place(d, a, &net->w.mem_attn_norm, dm);
    ma->curr_pos = dev_weight(d, a, net->neck_pos[2], 2, SHAPE(P, dm));
    ma->rope_cos = dev_weight(d, a, net->rope_cos, 2, SHAPE(P, half));
    ma->rope_sin = dev_weight(d, a, net->rope_sin, 2, SHAPE(P, half));
    ok &= dev_weights_placed(&ma->norm.w, 5);
    if (c->rope_k_sizes[0] > 0) {
        const int64_t grid = (int64_t)c->rope_k_sizes[0] * c->rope_k_sizes[1];
        ma->rope_k_cos = dev_weight(d, a, net->rope_k_cos, 2, SHAPE(grid, half));
        ma->rope_k_sin = dev_weight(d, a, net->rope_k_sin, 2, SHAPE(grid, half));
        ok &= dev_weights_placed(&ma->rope_k_cos, 2);
    }
    return ok ? 0 : -1;
}

void memory_attention_unload(sam2_net *net) {
    free(net->ma);
    net->ma = NULL;
}

/* apply_rotary_enc on the queries (every row, the E x E grid) and on the first n_rope keys: the
 * key table repeats per memory frame (rope_k_repeat); in the cross-attention RoPEAttentionv2
 * (EdgeTAM) instead leaves each memory frame's 1D latents alone and rotates its 2D latents on
 * the key grid (cross = 1). Self-attention keys are on the queries' grid. */
static void rope_qk(dev_exec *x, const sam2_net *net, dev_tensor q, dev_tensor k, int n_rope,
                    int heads, int cross) {
    const struct memory_attention_dev *ma = net->ma;
    const sam2_config *c = &net->cfg;
    const int64_t hd = q.shape[1] / heads;
    const int table_rows = net->embed * net->embed;
    for (int h = 0; h < heads; h++) {
        dev_tensor kh = dev_rows(dev_cols(k, h * hd, hd), 0, n_rope);
        dev_rope(x, dev_cols(q, h * hd, hd), ma->rope_cos, ma->rope_sin, table_rows, 0);
        if (cross && c->rope_k_sizes[0] > 0) {
            const int grid = c->rope_k_sizes[0] * c->rope_k_sizes[1];
            const int frame_tokens = sam2_config_mem_tokens(c);
            dev_rope(x, kh, ma->rope_k_cos, ma->rope_k_sin, frame_tokens, frame_tokens - grid);
        } else {
            dev_rope(x, kh, ma->rope_cos, ma->rope_sin, table_rows, 0);
        }
    }
}

/* RoPEAttention.forward for self-attention: q_in = k_in [P][d] (with or without the position
 * encoding), v_in [P][d]. */
static void rope_self_attention(dev_exec *x, const sam2_net *net, const dev_attn *w, dev_tensor out,
                                dev_tensor qk_in, dev_tensor v_in) {
    const int heads = net->cfg.mem_attn_heads;
    const int64_t L = qk_in.shape[0], internal = w->q.w.shape[0];
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    dev_tensor q = dev_new(x, SAM2_F32, 2, SHAPE(L, internal));
    dev_tensor k = dev_new(x, SAM2_F32, 2, SHAPE(L, internal));
    dev_tensor v = dev_new(x, SAM2_F32, 2, SHAPE(L, internal));
    dev_tensor o = dev_new(x, SAM2_F32, 2, SHAPE(L, internal));
    /* q = self.q_proj(q); k = self.k_proj(k); v = self.v_proj(v) */
    dev_linear(x, q, qk_in, w->q.w, w->q.b);
    dev_linear(x, k, qk_in, w->k.w, w->k.b);
    dev_linear(x, v, v_in, w->v.w, w->v.b);
    /* q, k = apply_rotary_enc(q, k, freqs_cis=self.freqs_cis) */
    rope_qk(x, net, q, k, (int)L, heads, 0);
    /* out = self.out_proj(F.scaled_dot_product_attention(q, k, v)) */
    dev_attention(x, o, q, k, v, heads);
    dev_linear(x, out, o, w->out.w, w->out.b);
    dev_arena_release(x->arena, m);
}

/* RoPEAttention.forward for the cross-attention, with the value projection applied after the
 * attention-weighted sum: rows of softmax(QK^T) sum to one, so softmax(QK^T) (M Wv^T + bv) =
 * (softmax(QK^T) M) Wv^T + bv. The weighted sum then runs over the mem_dim-wide memory instead
 * of the d-wide values (4x less work for the tiny model), exact up to float rounding. q_in
 * [P][d]; k_in, memory [M][mem_dim]. */
static void rope_cross_attention_folded(dev_exec *x, const sam2_net *net, const dev_attn *w,
                                        dev_tensor out, dev_tensor q_in, dev_tensor k_in,
                                        dev_tensor memory, int n_rope) {
    const int heads = net->cfg.mem_attn_heads;
    const int64_t Lq = q_in.shape[0], Lk = k_in.shape[0], internal = w->q.w.shape[0];
    const int64_t hd = internal / heads, kv = memory.shape[1];
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    dev_tensor q = dev_new(x, SAM2_F32, 2, SHAPE(Lq, internal));
    dev_tensor k = dev_new(x, SAM2_F32, 2, SHAPE(Lk, internal));
    dev_tensor o = dev_new(x, SAM2_F32, 2, SHAPE(Lq, internal));
    dev_tensor t = dev_new(x, SAM2_F32, 2, SHAPE(Lq, heads * kv)); /* weighted memory */
    /* q = self.q_proj(q); k = self.k_proj(k); then the rotary encoding */
    dev_linear(x, q, q_in, w->q.w, w->q.b);
    dev_linear(x, k, k_in, w->k.w, w->k.b);
    rope_qk(x, net, q, k, n_rope, heads, 1);
    for (int h = 0; h < heads; h++) {
        /* t_h = softmax(q_h k_h^T / sqrt(hd)) memory */
        dev_attention(x, dev_cols(t, h * kv, kv), dev_cols(q, h * hd, hd), dev_cols(k, h * hd, hd),
                      memory, 1);
        /* o_h = t_h Wv_h^T (+ bv below): v = self.v_proj(v), applied after the weighting */
        dev_matmul(x, dev_cols(o, h * hd, hd), dev_cols(t, h * kv, kv),
                   dev_rows(w->v.w, h * hd, hd), 0, 1, 1.0f, 0.0f);
    }
    dev_add(x, o, o, w->v.b);
    /* out = self.out_proj(self._recombine_heads(out)) */
    dev_linear(x, out, o, w->out.w, w->out.b);
    dev_arena_release(x->arena, m);
}

/* MemoryAttentionLayer._forward_sa on tgt [P][d], in place. */
static void forward_sa(dev_exec *x, const sam2_net *net, int li, dev_tensor tgt,
                       dev_tensor query_pos) {
    const mem_attn_layer_dev *l = &net->ma->layers[li];
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    dev_tensor tgt2 = dev_new(x, SAM2_F32, 2, tgt.shape), qk = tgt2;
    dev_tensor att = dev_new(x, SAM2_F32, 2, tgt.shape);
    dev_layernorm(x, tgt2, tgt, l->norm1.w, l->norm1.b, 1e-5f); /* tgt2 = self.norm1(tgt) */
    /* q = k = tgt2 + query_pos if self.pos_enc_at_attn else tgt2 */
    if (net->cfg.mem_attn_pos_enc_at_attn) {
        qk = dev_new(x, SAM2_F32, 2, tgt.shape);
        dev_add(x, qk, tgt2, query_pos);
    }
    rope_self_attention(x, net, &l->self_attn, att, qk, tgt2); /* self.self_attn(q, k, v=tgt2) */
    dev_add(x, tgt, tgt, att);                                 /* tgt = tgt + self.dropout1(tgt2) */
    dev_arena_release(x->arena, m);
}

/* MemoryAttentionLayer._forward_ca, then its feed-forward, on tgt [P][d], in place. kin: the
 * keys (memory + pos when pos_enc_at_cross_attn_keys). */
static void forward_ca_ffn(dev_exec *x, const sam2_net *net, int li, dev_tensor tgt,
                           dev_tensor query_pos, dev_tensor kin, dev_tensor memory, int n_rope) {
    const sam2_config *c = &net->cfg;
    const mem_attn_layer_dev *l = &net->ma->layers[li];
    const int64_t P = tgt.shape[0], ffn_rows = P < FFN_ROW_CHUNK ? P : FFN_ROW_CHUNK;
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    dev_tensor tgt2 = dev_new(x, SAM2_F32, 2, tgt.shape), q = tgt2;
    dev_tensor att = dev_new(x, SAM2_F32, 2, tgt.shape);
    dev_tensor h = dev_new(x, SAM2_F32, 2, SHAPE(ffn_rows, c->mem_attn_ffn));
    dev_layernorm(x, tgt2, tgt, l->norm2.w, l->norm2.b, 1e-5f); /* tgt2 = self.norm2(tgt) */
    /* q = tgt2 + query_pos if self.pos_enc_at_cross_attn_queries else tgt2 */
    if (c->mem_attn_pos_enc_at_cross_queries) {
        q = dev_new(x, SAM2_F32, 2, tgt.shape);
        dev_add(x, q, tgt2, query_pos);
    }
    /* tgt2 = self.cross_attn_image(q=q, k=memory + pos, v=memory, num_k_exclude_rope) */
    rope_cross_attention_folded(x, net, &l->cross_attn, att, q, kin, memory, n_rope);
    dev_add(x, tgt, tgt, att); /* tgt = tgt + self.dropout2(tgt2) */
    /* tgt2 = self.linear2(self.activation(self.linear1(self.norm3(tgt)))), in chunks of rows:
     * the [P][dim_feedforward] hidden layer never exists whole */
    dev_layernorm(x, tgt2, tgt, l->norm3.w, l->norm3.b, 1e-5f);
    for (int64_t r0 = 0; r0 < P; r0 += ffn_rows) {
        const int64_t n = P - r0 < ffn_rows ? P - r0 : ffn_rows;
        dev_tensor hn = dev_rows(h, 0, n);
        dev_linear(x, hn, dev_rows(tgt2, r0, n), l->linear1.w, l->linear1.b);
        if (c->mem_attn_relu)
            dev_relu(x, hn, hn);
        else
            dev_gelu(x, hn, hn);
        dev_linear(x, dev_rows(att, r0, n), hn, l->linear2.w, l->linear2.b);
    }
    dev_add(x, tgt, tgt, att); /* tgt = tgt + self.dropout3(tgt2) */
    dev_arena_release(x->arena, m);
}

/* curr_pos: the placed neck encoding when the caller passes it (always, today), else an upload. */
static dev_tensor query_pos_of(dev_exec *x, const sam2_net *net, const float *curr_pos) {
    if (curr_pos == net->neck_pos[2]) return net->ma->curr_pos;
    return dev_from_host(x, curr_pos, SAM2_F32, 2, net->ma->curr_pos.shape, 1);
}

int memory_attention_frame_part(const sam2_net *net, const float *curr, const float *curr_pos,
                                float *out, arena *scratch) {
    const sam2_config *c = &net->cfg;
    const int64_t d = c->d_model, P = (int64_t)net->embed * net->embed;
    dev_arena arena;
    dev_arena_init(&arena, net->dev);
    dev_arena_back(&arena, scratch); /* the caller's host scratch (maps_host backends) */
    dev_exec x;
    dev_exec_init(&x, &arena);
    const dev_tensor query_pos = query_pos_of(&x, net, curr_pos);
    dev_tensor cur = dev_from_host(&x, curr, SAM2_F32, 2, SHAPE(P, d), 1);
    dev_tensor output = dev_from_host(&x, out, SAM2_F32, 2, SHAPE(P, d), 1);
    /* output = curr; if self.pos_enc_at_input: output = output + 0.1 * curr_pos */
    if (c->mem_attn_pos_enc_at_input) {
        dev_tensor t = dev_new(&x, SAM2_F32, 2, SHAPE(P, d));
        dev_scale(&x, t, query_pos, 0.1f, 0.0f);
        dev_add(&x, output, cur, t);
    } else {
        dev_copy(&x, output, cur);
    }
    /* layer 0's _forward_sa depends on the frame alone */
    if (c->mem_attn_layers > 0) forward_sa(&x, net, 0, output, query_pos);
    dev_download(&x, out, &output, sizeof(float) * (size_t)(P * d));
    const int rc = x.failed ? -1 : 0;
    dev_arena_free(&arena);
    return rc;
}

int memory_attention_memory_part(const sam2_net *net, const float *curr_pos, const float *memory,
                                 const float *memory_pos, int M, int num_obj_ptr_tokens, float *out,
                                 arena *scratch, const cancel_check *cancel) {
    const sam2_config *c = &net->cfg;
    const int64_t d = c->d_model, md = c->mem_dim, P = (int64_t)net->embed * net->embed;
    const int n_rope = M - num_obj_ptr_tokens;
    if (n_rope < 0 || n_rope % sam2_config_mem_tokens(c) != 0) return -2; /* whole frames */
    dev_arena arena;
    dev_arena_init(&arena, net->dev);
    dev_arena_back(&arena, scratch); /* the caller's host scratch (maps_host backends) */
    dev_exec x;
    dev_exec_init(&x, &arena);
    const dev_tensor query_pos = query_pos_of(&x, net, curr_pos);
    dev_tensor mem = dev_from_host(&x, memory, SAM2_F32, 2, SHAPE(M, md), 1);
    dev_tensor output = dev_from_host(&x, out, SAM2_F32, 2, SHAPE(P, d), 1);
    /* the cross-attention keys: memory + pos when pos_enc_at_cross_attn_keys */
    dev_tensor kin = mem;
    if (c->mem_attn_pos_enc_at_cross_keys) {
        kin = dev_new(&x, SAM2_F32, 2, SHAPE(M, md));
        dev_add(&x, kin, mem, dev_from_host(&x, memory_pos, SAM2_F32, 2, SHAPE(M, md), 1));
    }
    int rc = 0;
    /* for layer in self.layers: output = layer(tgt=output, memory, query_pos=curr_pos, pos) */
    for (int li = 0; li < c->mem_attn_layers && !x.failed; li++) {
        if (li > 0 && cancel_requested(cancel)) {
            rc = CANCEL_STOPPED;
            break;
        }
        if (li > 0) forward_sa(&x, net, li, output, query_pos); /* layer 0's: the frame part */
        forward_ca_ffn(&x, net, li, output, query_pos, kin, mem, n_rope);
    }
    if (rc == 0) {
        /* normed_output = self.norm(output) */
        dev_layernorm(&x, output, output, net->ma->norm.w, net->ma->norm.b, 1e-5f);
        dev_download(&x, out, &output, sizeof(float) * (size_t)(P * d));
        rc = x.failed ? -1 : 0;
    }
    dev_arena_free(&arena);
    return rc;
}

double memory_attention_flops(const sam2_net *net, int M) {
    const sam2_config *c = &net->cfg;
    const double d = c->d_model, md = c->mem_dim, P = (double)net->embed * net->embed;
    double per_layer = 2.0 * P * d * d * 4     /* self q, k, v, out */
                       + 2.0 * 2.0 * P * P * d /* self QK^T, AV */
                       + 2.0 * P * d * d * 2   /* cross q, out */
                       + 2.0 * M * md * d      /* cross k */
                       + 2.0 * P * M * d       /* cross QK^T */
                       + 2.0 * P * M * md      /* weighted memory (value projection folded) */
                       + 2.0 * P * md * d      /* value projection of the weighted memory */
                       + 2.0 * 2.0 * P * d * c->mem_attn_ffn;
    return per_layer * c->mem_attn_layers;
}

double memory_attention_frame_part_flops(const sam2_net *net) {
    const double d = net->cfg.d_model, P = (double)net->embed * net->embed;
    return 2.0 * P * d * d * 4 + 2.0 * 2.0 * P * P * d; /* layer 0's self-attention */
}
