#include "model/memory_attention.h"

#include "model/layers.h"
#include "model/position_encoding.h"

#include <math.h>
#include <string.h>

/* Rows of the feed-forward's hidden layer computed at a time (8 MB at dim_feedforward 2048). */
#define FFN_ROW_CHUNK 1024

/* RoPEAttention: projections, RoPE on q and on the first n_rope keys (the key table repeats per
 * memory frame), attention, output projection. q_in [Lq][d]; k_in, v_in [Lk][kv_dim]. */
static int rope_attention(const sam2_net *net, const sam2_attn_w *w, float *out, const float *q_in,
                          int Lq, const float *k_in, const float *v_in, int Lk, int kv_dim,
                          int internal, int n_rope, arena *scratch) {
    const sam2_backend *be = net->be;
    const int d = net->cfg.d_model, heads = net->cfg.mem_attn_heads, hd = internal / heads;
    const int table_rows = net->embed * net->embed;
    arena_mark m = arena_get_mark(scratch);
    float *q = arena_floats(scratch, (size_t)Lq * internal, 0);
    float *k = arena_floats(scratch, (size_t)Lk * internal, 0);
    float *v = arena_floats(scratch, (size_t)Lk * internal, 0);
    float *o = arena_floats(scratch, (size_t)Lq * internal, 0);
    float *s = arena_floats(scratch, attention_scratch_floats(Lq, Lk), 0);
    if (!q || !k || !v || !o || !s) return -1;
    be->linear(q, q_in, w->q.w, w->q.b, Lq, d, internal);
    be->linear(k, k_in, w->k.w, w->k.b, Lk, kv_dim, internal);
    be->linear(v, v_in, w->v.w, w->v.b, Lk, kv_dim, internal);
    for (int h = 0; h < heads; h++) {
        apply_rope(q + h * hd, Lq, internal, hd, net->rope_cos, net->rope_sin, table_rows);
        apply_rope(k + h * hd, n_rope, internal, hd, net->rope_cos, net->rope_sin, table_rows);
    }
    for (int h = 0; h < heads; h++)
        be->attention(o + h * hd, internal, q + h * hd, internal, k + h * hd, internal, v + h * hd,
                      internal, Lq, Lk, hd, s);
    be->linear(out, o, w->out.w, w->out.b, Lq, internal, d);
    arena_release(scratch, m);
    return 0;
}

/* Cross-attention with the value projection applied after the attention-weighted sum: rows of
 * softmax(QK^T) sum to one, so softmax(QK^T) (M Wv^T + bv) = (softmax(QK^T) M) Wv^T + bv. The
 * weighted sum then runs over the mem_dim-wide memory instead of the d-wide values (4x less work
 * for the tiny model), an exact reformulation up to float rounding. The attention kernel takes
 * values of their own width, so the memory is weighed in place, block by block of keys, without
 * a score matrix. */
static int rope_cross_attention_folded(const sam2_net *net, const sam2_attn_w *w, float *out,
                                       const float *q_in, int Lq, const float *k_in,
                                       const float *memory, int Lk, int kv_dim, int internal,
                                       int n_rope, arena *scratch) {
    const sam2_backend *be = net->be;
    const int d = net->cfg.d_model, heads = net->cfg.mem_attn_heads, hd = internal / heads;
    const int table_rows = net->embed * net->embed;
    arena_mark m = arena_get_mark(scratch);
    float *q = arena_floats(scratch, (size_t)Lq * internal, 0);
    float *k = arena_floats(scratch, (size_t)Lk * internal, 0);
    float *o = arena_floats(scratch, (size_t)Lq * internal, 0);
    float *t = arena_floats(scratch, (size_t)Lq * heads * kv_dim, 0);
    float *s = arena_floats(scratch, attention_scratch_floats(Lq, Lk), 0);
    if (!q || !k || !o || !t || !s) return -1;
    be->linear(q, q_in, w->q.w, w->q.b, Lq, d, internal);
    be->linear(k, k_in, w->k.w, w->k.b, Lk, kv_dim, internal);
    const sam2_config *c = &net->cfg;
    for (int h = 0; h < heads; h++) {
        apply_rope(q + h * hd, Lq, internal, hd, net->rope_cos, net->rope_sin, table_rows);
        if (c->rope_k_sizes[0] > 0) {
            /* RoPEAttentionv2 (EdgeTAM): in each memory frame's Perceiver latents the 1D ones
             * are not rotated, the 2D ones on the key grid (apply_rotary_enc_v2) */
            const int grid = c->rope_k_sizes[0] * c->rope_k_sizes[1];
            const int frame_tokens = sam2_config_mem_tokens(c);
            be->rope(k + h * hd, n_rope, internal, hd, net->rope_k_cos, net->rope_k_sin, grid,
                     frame_tokens, frame_tokens - grid);
        } else {
            apply_rope(k + h * hd, n_rope, internal, hd, net->rope_cos, net->rope_sin, table_rows);
        }
    }
    /* t_h = softmax(q_h k_h^T / sqrt(hd)) memory: the weighted memory, [Lq][kv_dim] per head */
    const int ldt = heads * kv_dim;
    for (int h = 0; h < heads; h++)
        be->attention_dv(t + h * kv_dim, ldt, q + h * hd, internal, k + h * hd, internal, memory,
                         kv_dim, Lq, Lk, hd, kv_dim, s);
    /* o_h = t_h Wv_h^T + bv_h */
    if (heads == 1) {
        be->linear(o, t, w->v.w, w->v.b, Lq, kv_dim, internal);
    } else {
        for (int h = 0; h < heads; h++) {
            float *oh = o + h * hd;
            for (int i = 0; i < Lq; i++)
                memcpy(oh + (size_t)i * internal, w->v.b + h * hd, sizeof(float) * hd);
            be->gemm(0, 1, Lq, hd, kv_dim, 1.0f, t + h * kv_dim, ldt,
                     w->v.w + (size_t)h * hd * kv_dim, kv_dim, 1.0f, oh, internal);
        }
    }
    be->linear(out, o, w->out.w, w->out.b, Lq, internal, d);
    arena_release(scratch, m);
    return 0;
}

/* Self-attention sub-layer of layer li on out [P][d], in place (pre-norm, residual). t2, a, att:
 * [P][d] temporaries. */
static int self_attention_layer(const sam2_net *net, int li, const float *curr_pos, float *out,
                                float *t2, float *a, float *att, arena *scratch) {
    const sam2_backend *be = net->be;
    const sam2_config *c = &net->cfg;
    const int d = c->d_model, P = net->embed * net->embed;
    const sam2_mem_attn_layer_w *l = &net->w.mem_attn[li];
    be->layernorm(t2, out, l->norm1.w, l->norm1.b, P, d, 1e-5f);
    const float *qk = t2;
    if (c->mem_attn_pos_enc_at_attn) {
        add_rows(a, t2, curr_pos, P, d, P);
        qk = a;
    }
    if (rope_attention(net, &l->self_attn, att, qk, P, qk, t2, P, d, d / c->sa_downsample, P,
                       scratch))
        return -1;
    be->add(out, out, att, (size_t)P * d);
    return 0;
}

int memory_attention_frame_part(const sam2_net *net, const float *curr, const float *curr_pos,
                                float *out, arena *scratch) {
    const sam2_config *c = &net->cfg;
    const int d = c->d_model, P = net->embed * net->embed;
    arena_mark m = arena_get_mark(scratch);
    float *t2 = arena_floats(scratch, (size_t)P * d, 0);
    float *a = arena_floats(scratch, (size_t)P * d, 0);
    float *att = arena_floats(scratch, (size_t)P * d, 0);
    if (!t2 || !a || !att) return -1;
    /* output = curr + 0.1 * curr_pos */
    for (size_t i = 0; i < (size_t)P * d; i++)
        out[i] = c->mem_attn_pos_enc_at_input ? curr[i] + 0.1f * curr_pos[i] : curr[i];
    int rc = c->mem_attn_layers > 0
                 ? self_attention_layer(net, 0, curr_pos, out, t2, a, att, scratch)
                 : 0;
    arena_release(scratch, m);
    return rc;
}

int memory_attention_memory_part(const sam2_net *net, const float *curr_pos, const float *memory,
                                 const float *memory_pos, int M, int num_obj_ptr_tokens, float *out,
                                 arena *scratch, const cancel_check *cancel) {
    const sam2_backend *be = net->be;
    const sam2_config *c = &net->cfg;
    const int d = c->d_model, md = c->mem_dim, P = net->embed * net->embed;
    const int n_rope = M - num_obj_ptr_tokens;
    if (n_rope < 0 || n_rope % sam2_config_mem_tokens(c) != 0) return -2; /* whole frames */
    arena_mark m = arena_get_mark(scratch);
    float *t2 = arena_floats(scratch, (size_t)P * d, 0);
    float *a = arena_floats(scratch, (size_t)P * d, 0);
    float *kin = arena_floats(scratch, (size_t)M * md, 0);
    const int ffn_rows = P < FFN_ROW_CHUNK ? P : FFN_ROW_CHUNK;
    float *h = arena_floats(scratch, (size_t)ffn_rows * c->mem_attn_ffn, 0);
    float *att = arena_floats(scratch, (size_t)P * d, 0);
    if (!t2 || !a || !kin || !h || !att) return -1;

    /* Cross-attention keys: memory + memory_pos; values: memory. */
    if (c->mem_attn_pos_enc_at_cross_keys)
        be->add(kin, memory, memory_pos, (size_t)M * md);
    else
        memcpy(kin, memory, sizeof(float) * (size_t)M * md);

    for (int li = 0; li < c->mem_attn_layers; li++) {
        const sam2_mem_attn_layer_w *l = &net->w.mem_attn[li];
        if (li > 0 && cancel_requested(cancel)) {
            arena_release(scratch, m);
            return CANCEL_STOPPED;
        }
        /* self-attention (layer 0's is the frame part, already in out) */
        if (li > 0 && self_attention_layer(net, li, curr_pos, out, t2, a, att, scratch)) return -1;
        /* cross-attention to the memory */
        be->layernorm(t2, out, l->norm2.w, l->norm2.b, P, d, 1e-5f);
        const float *q = t2;
        if (c->mem_attn_pos_enc_at_cross_queries) {
            add_rows(a, t2, curr_pos, P, d, P);
            q = a;
        }
        if (rope_cross_attention_folded(net, &l->cross_attn, att, q, P, kin, memory, M, md,
                                        d / c->ca_downsample, n_rope, scratch))
            return -1;
        be->add(out, out, att, (size_t)P * d);
        /* feed-forward */
        be->layernorm(t2, out, l->norm3.w, l->norm3.b, P, d, 1e-5f);
        /* in chunks of rows: the [P][dim_feedforward] hidden layer never exists whole */
        for (int r0 = 0; r0 < P; r0 += ffn_rows) {
            const int n = P - r0 < ffn_rows ? P - r0 : ffn_rows;
            be->linear(h, t2 + (size_t)r0 * d, l->linear1.w, l->linear1.b, n, d, c->mem_attn_ffn);
            activate(be, h, (size_t)n * c->mem_attn_ffn, c->mem_attn_relu ? ACT_RELU : ACT_GELU);
            be->linear(a + (size_t)r0 * d, h, l->linear2.w, l->linear2.b, n, c->mem_attn_ffn, d);
        }
        be->add(out, out, a, (size_t)P * d);
    }
    be->layernorm(out, out, net->w.mem_attn_norm.w, net->w.mem_attn_norm.b, P, d, 1e-5f);
    arena_release(scratch, m);
    return 0;
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
