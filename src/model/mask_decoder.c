#include "model/mask_decoder.h"

#include "model/layers.h"

#include <string.h>

/* One TwoWayAttentionBlock. queries [T][d], keys [P][d], query_pe [T][d], key_pe [P][d]. */
static int twoway_block(const sam2_net *net, const sam2_twoway_layer_w *l, bool skip_first_pe,
                        float *queries, int T, float *keys, int P, const float *query_pe,
                        const float *key_pe, const mask_decoder_cache *pre, arena *scratch) {
    const sam2_backend *be = net->be;
    const sam2_config *c = &net->cfg;
    const int d = c->d_model, inner = d / c->dec_attn_downsample, heads = c->dec_heads;
    arena_mark m = arena_get_mark(scratch);
    float *q = arena_floats(scratch, (size_t)T * d, 0);
    float *a = arena_floats(scratch, (size_t)T * d, 0);
    float *k = arena_floats(scratch, (size_t)P * d, 0);
    float *ka = arena_floats(scratch, (size_t)P * d, 0);
    if (!q || !a || !k || !ka) return -1;

    /* (1) self-attention of the tokens */
    if (skip_first_pe) {
        if (attention_forward(be, a, queries, T, queries, queries, T, &l->self_attn, d, d, d, heads,
                              scratch))
            return -1;
        memcpy(queries, a, sizeof(float) * (size_t)T * d);
    } else {
        add_rows(q, queries, query_pe, T, d, T);
        if (attention_forward(be, a, q, T, q, queries, T, &l->self_attn, d, d, d, heads, scratch))
            return -1;
        be->add(queries, queries, a, (size_t)T * d);
    }
    be->layernorm(queries, queries, l->norm1.w, l->norm1.b, T, d, 1e-5f);

    /* (2) tokens attend to the image */
    /* With few tokens the projections are folded onto the token side (layers.h); the first
     * layer can instead reuse the image's cached projections. */
    const bool few = heads * T < inner;
    add_rows(q, queries, query_pe, T, d, T);
    add_rows(k, keys, key_pe, P, d, P);
    int rc = pre ? attention_forward_ex(be, a, q, NULL, T, k, pre->t2i_k, keys, pre->t2i_v, P,
                                        &l->cross_t2i, d, d, inner, heads, scratch)
             : few ? attention_fold_kv(be, a, q, T, k, keys, P, &l->cross_t2i, d, inner, heads,
                                       scratch)
                   : attention_forward(be, a, q, T, k, keys, P, &l->cross_t2i, d, d, inner, heads,
                                       scratch);
    if (rc) return -1;
    be->add(queries, queries, a, (size_t)T * d);
    be->layernorm(queries, queries, l->norm2.w, l->norm2.b, T, d, 1e-5f);

    /* (3) MLP on the tokens */
    if (mlp_forward(be, a, queries, T, l->mlp, 2, d, c->dec_mlp_dim, d, ACT_RELU, false, scratch))
        return -1;
    be->add(queries, queries, a, (size_t)T * d);
    be->layernorm(queries, queries, l->norm3.w, l->norm3.b, T, d, 1e-5f);

    /* (4) the image attends to the tokens */
    add_rows(q, queries, query_pe, T, d, T);
    rc = few ? attention_fold_q(be, ka, k, P, q, queries, T, &l->cross_i2t, d, inner, heads,
                                scratch)
             : attention_forward(be, ka, k, P, q, queries, T, &l->cross_i2t, d, d, inner, heads,
                                 scratch);
    if (rc) return -1;
    be->add(keys, keys, ka, (size_t)P * d);
    be->layernorm(keys, keys, l->norm4.w, l->norm4.b, P, d, 1e-5f);
    arena_release(scratch, m);
    return 0;
}

float mask_stability(const float *logits, size_t n, float delta) {
    size_t inter = 0, uni = 0;
    for (size_t i = 0; i < n; i++) {
        inter += logits[i] > delta;
        uni += logits[i] > -delta;
    }
    return uni > 0 ? (float)inter / (float)uni : 1.0f;
}

int mask_decoder_forward(const sam2_net *net, const mask_decoder_in *in, mask_decoder_out *out,
                         arena *scratch, const sam2_tap *tap) {
    const sam2_backend *be = net->be;
    const sam2_config *c = &net->cfg;
    const sam2_weights *w = &net->w;
    const int d = c->d_model, E = net->embed, P = E * E;
    const int ntok = c->num_multimask_outputs + 1;
    const int s = c->pred_obj_scores ? 1 : 0; /* index of the IoU token */
    const int T = s + 1 + ntok + in->n_sparse;
    arena_mark m = arena_get_mark(scratch);

    float *tokens = arena_floats(scratch, (size_t)T * d, 0);
    float *queries = arena_floats(scratch, (size_t)T * d, 0);
    float *keys = arena_floats(scratch, (size_t)P * d, 0);
    float *q = arena_floats(scratch, (size_t)T * d, 0);
    float *k = arena_floats(scratch, (size_t)P * d, 0);
    float *a = arena_floats(scratch, (size_t)T * d, 0);
    if (!tokens || !queries || !keys || !q || !k || !a) return -1;

    /* Output tokens [obj_score, iou, mask x4] followed by the prompt tokens. */
    float *t = tokens;
    if (s) {
        memcpy(t, w->obj_score_token, sizeof(float) * d);
        t += d;
    }
    memcpy(t, w->iou_token, sizeof(float) * d);
    t += d;
    memcpy(t, w->mask_tokens, sizeof(float) * d * ntok);
    t += (size_t)d * ntok;
    memcpy(t, in->sparse, sizeof(float) * (size_t)in->n_sparse * d);
    memcpy(queries, tokens, sizeof(float) * (size_t)T * d);

    /* src = image embedding + dense prompt embedding */
    if (in->dense)
        be->add(keys, in->image_embed, in->dense, (size_t)P * d);
    else
        add_rows(keys, in->image_embed, w->no_mask_embed, P, d, 1);

    /* The first layer's image-side projections, from the cache when the caller keeps one. */
    const mask_decoder_cache *pre = NULL;
    if (in->cache && !in->dense && c->dec_depth > 0) {
        mask_decoder_cache *mc = in->cache;
        if (!mc->valid) {
            const sam2_twoway_layer_w *l0 = &w->dec_layers[0];
            const int inner = d / c->dec_attn_downsample;
            add_rows(k, keys, net->image_pe, P, d, P);
            be->linear(mc->t2i_k, k, l0->cross_t2i.k.w, l0->cross_t2i.k.b, P, d, inner);
            be->linear(mc->t2i_v, keys, l0->cross_t2i.v.w, l0->cross_t2i.v.b, P, d, inner);
            mc->valid = true;
        }
        pre = mc;
    }
    for (int i = 0; i < c->dec_depth; i++)
        if (twoway_block(net, &w->dec_layers[i], i == 0, queries, T, keys, P, tokens,
                         net->image_pe, i == 0 ? pre : NULL, scratch))
            return -1;
    add_rows(q, queries, tokens, T, d, T);
    add_rows(k, keys, net->image_pe, P, d, P);
    const int inner = d / c->dec_attn_downsample;
    if ((c->dec_heads * T < inner
             ? attention_fold_kv(be, a, q, T, k, keys, P, &w->dec_final_attn, d, inner,
                                 c->dec_heads, scratch)
             : attention_forward(be, a, q, T, k, keys, P, &w->dec_final_attn, d, d, inner,
                                 c->dec_heads, scratch)))
        return -1;
    be->add(queries, queries, a, (size_t)T * d);
    be->layernorm(queries, queries, w->dec_norm_final.w, w->dec_norm_final.b, T, d, 1e-5f);

    const float *iou_tok = queries + (size_t)s * d;
    const float *mask_toks = queries + (size_t)(s + 1) * d;
    memcpy(out->mask_tokens_out, mask_toks, sizeof(float) * (size_t)ntok * d);

    /* Upscale the image tokens: convT 2x2 (+ s1 features), LayerNorm2d, GELU, convT 2x2
     * (+ s0 features), GELU. keys is [E][E][d] channels-last. */
    const int d4 = d / 4, d8 = d / 8;
    float *u1 = arena_floats(scratch, (size_t)4 * P * d4, 0);
    float *u2 = arena_floats(scratch, (size_t)16 * P * d8, 0);
    float *cs = arena_floats(scratch, conv_t2x2_scratch_floats(E, E, d, d4) +
                                          conv_t2x2_scratch_floats(2 * E, 2 * E, d4, d8),
                             0);
    if (!u1 || !u2 || !cs) return -1;
    be->conv_transpose2x2(u1, keys, w->upscale_conv1.w, w->upscale_conv1.b, E, E, d, d4, cs);
    if (c->use_high_res_features_in_sam) be->add(u1, u1, in->high_res[1], (size_t)4 * P * d4);
    be->layernorm(u1, u1, w->upscale_norm.w, w->upscale_norm.b, 4 * P, d4, 1e-6f);
    be->gelu(u1, u1, (size_t)4 * P * d4);
    be->conv_transpose2x2(u2, u1, w->upscale_conv2.w, w->upscale_conv2.b, 2 * E, 2 * E, d4, d8,
                          cs);
    if (c->use_high_res_features_in_sam) be->add(u2, u2, in->high_res[0], (size_t)16 * P * d8);
    be->gelu(u2, u2, (size_t)16 * P * d8);

    /* Hypernetwork MLPs turn each mask token into d/8 weights over the upscaled features. */
    float hyper[4 * 256];
    float *hyp = ntok * d8 <= (int)(sizeof hyper / sizeof hyper[0])
                     ? hyper
                     : arena_floats(scratch, (size_t)ntok * d8, 0);
    if (!hyp) return -1;
    for (int i = 0; i < ntok; i++)
        if (mlp_forward(be, hyp + (size_t)i * d8, mask_toks + (size_t)i * d, 1, w->hyper_mlps[i],
                        3, d, d, d8, ACT_RELU, false, scratch))
            return -1;
    /* masks[i][p] = sum_c hyper[i][c] * u2[p][c] */
    be->gemm(0, 1, ntok, 16 * P, d8, 1.0f, hyp, d8, u2, d8, 0.0f, out->all_masks, 16 * P);

    if (mlp_forward(be, out->all_iou, iou_tok, 1, w->iou_head, c->iou_head_depth, d,
                    c->iou_head_hidden, ntok, ACT_RELU, c->iou_prediction_use_sigmoid, scratch))
        return -1;
    if (c->pred_obj_scores) {
        if (mlp_forward(be, &out->object_score, queries, 1, w->obj_head, w->obj_head_layers, d, d,
                        1, ACT_RELU, false, scratch))
            return -1;
    } else {
        out->object_score = 10.0f;
    }

    /* MaskDecoder.forward: multimask -> tokens 1..3; single -> token 0, or with dynamic
     * multimask via stability the best-IoU multimask token when token 0 is unstable. */
    const size_t npx = (size_t)16 * P;
    out->stability = 1.0f;
    if (in->multimask) {
        out->n_out = ntok - 1;
        for (int i = 1; i < ntok; i++) out->tokens[i - 1] = i;
    } else {
        out->n_out = 1;
        out->tokens[0] = 0;
        if (c->dynamic_multimask_via_stability) {
            out->stability =
                mask_stability(out->all_masks, npx, c->dynamic_multimask_stability_delta);
            if (out->stability < c->dynamic_multimask_stability_thresh) {
                int best = 1;
                for (int i = 2; i < ntok; i++)
                    if (out->all_iou[i] > out->all_iou[best]) best = i;
                out->tokens[0] = best;
            }
        }
    }
    out->sam_token = 0;

    if (tap) {
        const int64_t sm[4] = {1, ntok, 4 * E, 4 * E}, si[2] = {1, ntok}, st[3] = {1, ntok, d},
                      so[2] = {1, 1};
        tap_emit(tap, "decoder_all_mask_logits", out->all_masks, TAP_F32, 4, sm, TAP_AS_SHAPED);
        tap_emit(tap, "decoder_all_iou", out->all_iou, TAP_F32, 2, si, TAP_AS_SHAPED);
        tap_emit(tap, "decoder_mask_tokens_out", out->mask_tokens_out, TAP_F32, 3, st,
                 TAP_AS_SHAPED);
        tap_emit(tap, "decoder_object_score_logits", &out->object_score, TAP_F32, 2, so,
                 TAP_AS_SHAPED);
    }
    arena_release(scratch, m);
    return 0;
}
