/* SAM's mask decoder on the compute seam: the forward passes below only call backend ops
 * (core/device.h). The host supplies the image features and prompt embeddings (borrowed in
 * place on the cpu and ref backends) and reads back the four masks' logits, the IoU and object
 * scores and the mask tokens; the output selection (multimask, stability) reads those host
 * copies. Comments name the official Python (sam2/modeling/sam/mask_decoder.py and
 * transformer.py). */
#include "model/mask_decoder.h"

#include "model/dev_layers.h"

#include <stdlib.h>
#include <string.h>

#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})

typedef struct twoway_layer_dev {
    dev_attn self_attn, cross_t2i, cross_i2t;
    dev_norm norm1, norm2, norm3, norm4;
    dev_lin mlp[2];
} twoway_layer_dev;

/* The decoder's weights on the net's backend (net->md). */
struct mask_decoder_dev {
    twoway_layer_dev layers[2];
    dev_attn final_attn;
    dev_norm norm_final;
    dev_tensor obj_score_token, iou_token, mask_tokens, no_mask_embed, image_pe;
    dev_tensor up1_w, up1_b, up2_w, up2_b;
    dev_norm up_norm;
    dev_lin hyper[4][3], iou_head[3], obj_head[3];
};

static void place_layer(sam2_device *d, dev_arena *a, const sam2_config *c,
                        const sam2_twoway_layer_w *w, twoway_layer_dev *l) {
    const int64_t dm = c->d_model, inner = dm / c->dec_attn_downsample;
    l->self_attn = dev_attn_place(d, a, &w->self_attn, dm, dm, dm);
    l->cross_t2i = dev_attn_place(d, a, &w->cross_t2i, dm, dm, inner);
    l->cross_i2t = dev_attn_place(d, a, &w->cross_i2t, dm, dm, inner);
    l->norm1 = dev_norm_place(d, a, &w->norm1, dm);
    l->norm2 = dev_norm_place(d, a, &w->norm2, dm);
    l->norm3 = dev_norm_place(d, a, &w->norm3, dm);
    l->norm4 = dev_norm_place(d, a, &w->norm4, dm);
    l->mlp[0] = dev_lin_place(d, a, &w->mlp[0], c->dec_mlp_dim, dm);
    l->mlp[1] = dev_lin_place(d, a, &w->mlp[1], dm, c->dec_mlp_dim);
}

/* An MLP's n layers in -> hidden ... -> out; returns whether every weight was placed. */
static int place_mlp(sam2_device *d, dev_arena *a, const sam2_lin *w, dev_lin *l, int n, int64_t in,
                     int64_t hidden, int64_t out) {
    int ok = 1;
    for (int i = 0; i < n; i++) {
        l[i] = dev_lin_place(d, a, &w[i], i == n - 1 ? out : hidden, i == 0 ? in : hidden);
        ok &= l[i].w.buf != NULL && (!w[i].b || l[i].b.buf != NULL);
    }
    return ok;
}

int mask_decoder_load(sam2_net *net) {
    const sam2_config *c = &net->cfg;
    const sam2_weights *w = &net->w;
    sam2_device *d = net->dev;
    dev_arena *a = &net->dev_weights;
    const int64_t dm = c->d_model, E = net->embed, ntok = c->num_multimask_outputs + 1;
    struct mask_decoder_dev *md = calloc(1, sizeof *md);
    if (!md) return -1;
    net->md = md;
    for (int i = 0; i < c->dec_depth; i++) place_layer(d, a, c, &w->dec_layers[i], &md->layers[i]);
    md->final_attn = dev_attn_place(d, a, &w->dec_final_attn, dm, dm, dm / c->dec_attn_downsample);
    md->norm_final = dev_norm_place(d, a, &w->dec_norm_final, dm);
    md->iou_token = dev_weight(d, a, w->iou_token, 2, SHAPE(1, dm));
    md->mask_tokens = dev_weight(d, a, w->mask_tokens, 2, SHAPE(ntok, dm));
    md->obj_score_token =
        c->pred_obj_scores ? dev_weight(d, a, w->obj_score_token, 2, SHAPE(1, dm)) : md->iou_token;
    md->no_mask_embed = dev_weight(d, a, w->no_mask_embed, 1, SHAPE(dm));
    md->image_pe = dev_weight(d, a, net->image_pe, 3, SHAPE(E, E, dm));
    md->up1_w = dev_weight(d, a, w->upscale_conv1.w, 4, SHAPE(dm, dm / 4, 2, 2));
    md->up1_b = dev_weight(d, a, w->upscale_conv1.b, 1, SHAPE(dm / 4));
    md->up_norm = dev_norm_place(d, a, &w->upscale_norm, dm / 4);
    md->up2_w = dev_weight(d, a, w->upscale_conv2.w, 4, SHAPE(dm / 4, dm / 8, 2, 2));
    md->up2_b = dev_weight(d, a, w->upscale_conv2.b, 1, SHAPE(dm / 8));
    int ok = 1;
    for (int i = 0; i < ntok; i++)
        ok &= place_mlp(d, a, w->hyper_mlps[i], md->hyper[i], 3, dm, dm, dm / 8);
    ok &=
        place_mlp(d, a, w->iou_head, md->iou_head, c->iou_head_depth, dm, c->iou_head_hidden, ntok);
    if (c->pred_obj_scores)
        ok &= place_mlp(d, a, w->obj_head, md->obj_head, w->obj_head_layers, dm, dm, 1);
    /* Every tensor up to the MLPs must have a buffer (the unused second layer aside). */
    const dev_tensor *all = &md->final_attn.q.w;
    const size_t n = (size_t)((const dev_tensor *)&md->up_norm - all) + 2;
    ok &= dev_weights_placed(all, n);
    for (int i = 0; i < c->dec_depth; i++)
        ok &= dev_weights_placed(&md->layers[i].self_attn.q.w,
                                 sizeof(twoway_layer_dev) / sizeof(dev_tensor));
    return ok ? 0 : -1;
}

void mask_decoder_unload(sam2_net *net) {
    free(net->md);
    net->md = NULL;
}

int mask_decoder_cache_init(const sam2_net *net, mask_decoder_cache *mc) {
    const int64_t P = (int64_t)net->embed * net->embed;
    const int64_t inner = net->cfg.d_model / net->cfg.dec_attn_downsample;
    memset(mc, 0, sizeof *mc);
    dev_arena_init(&mc->arena, net->dev);
    dev_exec x;
    dev_exec_init(&x, &mc->arena);
    mc->t2i_k = dev_new(&x, SAM2_F32, 2, SHAPE(P, inner));
    mc->t2i_v = dev_new(&x, SAM2_F32, 2, SHAPE(P, inner));
    return x.failed ? -1 : 0;
}

void mask_decoder_cache_free(mask_decoder_cache *mc) {
    if (mc->arena.dev) dev_arena_free(&mc->arena);
    memset(mc, 0, sizeof *mc);
}

/* One TwoWayAttentionBlock.forward. queries [T][d], keys [P][d], query_pe [T][d], key_pe [P][d];
 * pre: the first layer's cached token->image keys and values, or NULL. */
static void twoway_block(dev_exec *x, const sam2_net *net, const twoway_layer_dev *l,
                         int skip_first_layer_pe, dev_tensor queries, dev_tensor keys,
                         dev_tensor query_pe, dev_tensor key_pe, const mask_decoder_cache *pre) {
    const sam2_config *c = &net->cfg;
    const int heads = c->dec_heads;
    const int64_t T = queries.shape[0], P = keys.shape[0], d = c->d_model;
    const int64_t inner = d / c->dec_attn_downsample;
    /* With few tokens the projections are folded onto the token side (dev_layers.h). */
    const int few = heads * T < inner;
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    dev_tensor q = dev_new(x, SAM2_F32, 2, SHAPE(T, d)), a = dev_new(x, SAM2_F32, 2, SHAPE(T, d));
    dev_tensor k = dev_new(x, SAM2_F32, 2, SHAPE(P, d)), ka = dev_new(x, SAM2_F32, 2, SHAPE(P, d));

    /* Self attention block */
    if (skip_first_layer_pe) {
        /* queries = self.self_attn(q=queries, k=queries, v=queries) */
        dev_attn_forward(x, queries, queries, queries, queries, dev_none(), dev_none(),
                         &l->self_attn, heads);
    } else {
        /* q = queries + query_pe; attn_out = self.self_attn(q=q, k=q, v=queries) */
        dev_add(x, q, queries, query_pe);
        dev_attn_forward(x, a, q, q, queries, dev_none(), dev_none(), &l->self_attn, heads);
        dev_add(x, queries, queries, a); /* queries = queries + attn_out */
    }
    dev_layernorm(x, queries, queries, l->norm1.w, l->norm1.b, 1e-5f); /* self.norm1 */

    /* Cross attention block, tokens attending to image embedding */
    dev_add(x, q, queries, query_pe); /* q = queries + query_pe */
    dev_add(x, k, keys, key_pe);      /* k = keys + key_pe */
    /* attn_out = self.cross_attn_token_to_image(q=q, k=k, v=keys) */
    if (pre)
        dev_attn_forward(x, a, q, k, keys, pre->t2i_k, pre->t2i_v, &l->cross_t2i, heads);
    else if (few)
        dev_attn_fold_kv(x, a, q, k, keys, &l->cross_t2i, heads);
    else
        dev_attn_forward(x, a, q, k, keys, dev_none(), dev_none(), &l->cross_t2i, heads);
    dev_add(x, queries, queries, a);                                   /* queries + attn_out */
    dev_layernorm(x, queries, queries, l->norm2.w, l->norm2.b, 1e-5f); /* self.norm2 */

    /* MLP block: mlp_out = self.mlp(queries); queries = self.norm3(queries + mlp_out) */
    dev_mlp(x, a, queries, l->mlp, 2, c->dec_mlp_dim, 0);
    dev_add(x, queries, queries, a);
    dev_layernorm(x, queries, queries, l->norm3.w, l->norm3.b, 1e-5f);

    /* Cross attention block, image embedding attending to tokens (k = keys + key_pe as above) */
    dev_add(x, q, queries, query_pe); /* q = queries + query_pe */
    /* attn_out = self.cross_attn_image_to_token(q=k, k=q, v=queries) */
    if (few)
        dev_attn_fold_q(x, ka, k, q, queries, &l->cross_i2t, heads);
    else
        dev_attn_forward(x, ka, k, q, queries, dev_none(), dev_none(), &l->cross_i2t, heads);
    dev_add(x, keys, keys, ka);                                  /* keys = keys + attn_out */
    dev_layernorm(x, keys, keys, l->norm4.w, l->norm4.b, 1e-5f); /* self.norm4 */
    dev_arena_release(x->arena, m);
}

/* The first layer's image-side projections (cross_attn_token_to_image's k_proj(keys + key_pe)
 * and v_proj(keys)), kept by an image predictor while the image stays. */
static const mask_decoder_cache *first_layer_cache(dev_exec *x, const sam2_net *net,
                                                   const mask_decoder_in *in, dev_tensor keys) {
    mask_decoder_cache *mc = in->cache;
    if (!mc || in->dense || net->cfg.dec_depth == 0) return NULL;
    if (!mc->valid) {
        const dev_attn *w = &net->md->layers[0].cross_t2i;
        dev_arena_mark m = dev_arena_get_mark(x->arena);
        dev_tensor k = dev_new(x, SAM2_F32, 2, keys.shape);
        dev_add(x, k, keys, net->md->image_pe);
        dev_linear(x, mc->t2i_k, k, w->k.w, w->k.b);
        dev_linear(x, mc->t2i_v, keys, w->v.w, w->v.b);
        dev_arena_release(x->arena, m);
        mc->valid = !x->failed;
    }
    return mc;
}

/* TwoWayTransformer.forward: point_embedding [T][d] (the tokens), image_embedding [P][d] (src),
 * image_pe; queries and keys come back in place. */
static void twoway_transformer(dev_exec *x, const sam2_net *net, const mask_decoder_in *in,
                               dev_tensor tokens, dev_tensor queries, dev_tensor keys) {
    const struct mask_decoder_dev *md = net->md;
    const sam2_config *c = &net->cfg;
    const int64_t T = tokens.shape[0], P = keys.shape[0], d = c->d_model;
    const dev_tensor image_pe = dev_reshape(md->image_pe, 2, SHAPE(P, d));
    const mask_decoder_cache *pre = first_layer_cache(x, net, in, keys);
    /* queries = point_embedding; keys = image_embedding */
    dev_copy(x, queries, tokens);
    /* for layer in self.layers: queries, keys = layer(queries, keys, query_pe=point_embedding,
     * key_pe=image_pe) */
    for (int i = 0; i < c->dec_depth; i++)
        twoway_block(x, net, &md->layers[i], i == 0, queries, keys, tokens, image_pe,
                     i == 0 ? pre : NULL);
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    dev_tensor q = dev_new(x, SAM2_F32, 2, SHAPE(T, d)), a = dev_new(x, SAM2_F32, 2, SHAPE(T, d));
    dev_tensor k = dev_new(x, SAM2_F32, 2, SHAPE(P, d));
    dev_add(x, q, queries, tokens); /* q = queries + point_embedding */
    dev_add(x, k, keys, image_pe);  /* k = keys + image_pe */
    /* attn_out = self.final_attn_token_to_image(q=q, k=k, v=keys) */
    if (c->dec_heads * T < d / c->dec_attn_downsample)
        dev_attn_fold_kv(x, a, q, k, keys, &md->final_attn, c->dec_heads);
    else
        dev_attn_forward(x, a, q, k, keys, dev_none(), dev_none(), &md->final_attn, c->dec_heads);
    dev_add(x, queries, queries, a); /* queries = self.norm_final_attn(queries + attn_out) */
    dev_layernorm(x, queries, queries, md->norm_final.w, md->norm_final.b, 1e-5f);
    dev_arena_release(x->arena, m);
}

/* output_upscaling with the high-resolution features: src [E][E][d] -> [4E][4E][d/8]. */
static void upscale(dev_exec *x, const sam2_net *net, dev_tensor src, dev_tensor feat_s1,
                    dev_tensor feat_s0, dev_tensor out) {
    const struct mask_decoder_dev *md = net->md;
    const int64_t E = src.shape[0], d = src.shape[2];
    dev_tensor u = dev_new(x, SAM2_F32, 3, SHAPE(2 * E, 2 * E, d / 4));
    /* upscaled_embedding = act1(ln1(dc1(src) + feat_s1)) */
    dev_conv_transpose2x2(x, u, src, md->up1_w, md->up1_b);
    if (feat_s1.buf) dev_add(x, u, u, feat_s1);
    dev_layernorm(x, u, u, md->up_norm.w, md->up_norm.b, 1e-6f);
    dev_gelu(x, u, u);
    /* upscaled_embedding = act2(dc2(upscaled_embedding) + feat_s0) */
    dev_conv_transpose2x2(x, out, u, md->up2_w, md->up2_b);
    if (feat_s0.buf) dev_add(x, out, out, feat_s0);
    dev_gelu(x, out, out);
}

float mask_stability(const float *logits, size_t n, float delta) {
    size_t inter = 0, uni = 0;
    for (size_t i = 0; i < n; i++) {
        inter += logits[i] > delta;
        uni += logits[i] > -delta;
    }
    return uni > 0 ? (float)inter / (float)uni : 1.0f;
}

/* MaskDecoder.predict_masks, up to its four outputs (downloaded into out). */
static int predict_masks(const sam2_net *net, const mask_decoder_in *in, mask_decoder_out *out,
                         arena *scratch) {
    const struct mask_decoder_dev *md = net->md;
    const sam2_config *c = &net->cfg;
    const int64_t d = c->d_model, E = net->embed, P = E * E, ntok = c->num_multimask_outputs + 1;
    const int64_t s = c->pred_obj_scores ? 1 : 0; /* index of the IoU token */
    const int64_t T = s + 1 + ntok + in->n_sparse;
    dev_arena arena;
    dev_arena_init(&arena, net->dev);
    dev_arena_back(&arena, scratch); /* the caller's host scratch (maps_host backends) */
    dev_exec x;
    dev_exec_init(&x, &arena);
    dev_tensor image = dev_from_host(&x, in->image_embed, SAM2_F32, 2, SHAPE(P, d), 1);
    dev_tensor sparse = dev_from_host(&x, in->sparse, SAM2_F32, 2, SHAPE(in->n_sparse, d), 1);
    dev_tensor tokens = dev_new(&x, SAM2_F32, 2, SHAPE(T, d));
    dev_tensor queries = dev_new(&x, SAM2_F32, 2, SHAPE(T, d));
    dev_tensor src = dev_new(&x, SAM2_F32, 2, SHAPE(P, d));

    /* output_tokens = torch.cat([self.obj_score_token.weight, self.iou_token.weight,
     * self.mask_tokens.weight], dim=0); tokens = torch.cat((output_tokens, sparse), dim=1) */
    if (s) dev_copy(&x, dev_rows(tokens, 0, 1), md->obj_score_token);
    dev_copy(&x, dev_rows(tokens, s, 1), md->iou_token);
    dev_copy(&x, dev_rows(tokens, s + 1, ntok), md->mask_tokens);
    dev_copy(&x, dev_rows(tokens, s + 1 + ntok, in->n_sparse), sparse);
    /* src = image_embeddings + dense_prompt_embeddings (no_mask_embed without a mask prompt) */
    if (in->dense)
        dev_add(&x, src, image, dev_from_host(&x, in->dense, SAM2_F32, 2, SHAPE(P, d), 1));
    else
        dev_add(&x, src, image, md->no_mask_embed);
    /* hs, src = self.transformer(src, pos_src, tokens) */
    twoway_transformer(&x, net, in, tokens, queries, src);
    /* iou_token_out = hs[:, s, :]; mask_tokens_out = hs[:, s + 1 : s + 1 + num_mask_tokens] */
    const dev_tensor iou_token_out = dev_rows(queries, s, 1);
    const dev_tensor mask_tokens_out = dev_rows(queries, s + 1, ntok);

    /* upscaled_embedding = self.output_upscaling(src) with feat_s1 / feat_s0 added */
    const int hr = c->use_high_res_features_in_sam && in->high_res[0];
    dev_tensor up = dev_new(&x, SAM2_F32, 3, SHAPE(4 * E, 4 * E, d / 8));
    upscale(&x, net, dev_reshape(src, 3, SHAPE(E, E, d)),
            hr ? dev_from_host(&x, in->high_res[1], SAM2_F32, 3, SHAPE(2 * E, 2 * E, d / 4), 1)
               : dev_none(),
            hr ? dev_from_host(&x, in->high_res[0], SAM2_F32, 3, SHAPE(4 * E, 4 * E, d / 8), 1)
               : dev_none(),
            up);
    /* hyper_in = stack(self.output_hypernetworks_mlps[i](mask_tokens_out[:, i, :])) */
    dev_tensor hyper_in = dev_new(&x, SAM2_F32, 2, SHAPE(ntok, d / 8));
    for (int64_t i = 0; i < ntok; i++)
        dev_mlp(&x, dev_rows(hyper_in, i, 1), dev_rows(mask_tokens_out, i, 1), md->hyper[i], 3, d,
                0);
    /* masks = hyper_in @ upscaled_embedding.view(b, c, h * w) */
    dev_tensor masks = dev_from_host(&x, out->all_masks, SAM2_F32, 2, SHAPE(ntok, 16 * P), 1);
    dev_matmul(&x, masks, hyper_in, dev_reshape(up, 2, SHAPE(16 * P, d / 8)), 0, 1, 1.0f, 0.0f);
    /* iou_pred = self.iou_prediction_head(iou_token_out) */
    dev_tensor iou_pred = dev_new(&x, SAM2_F32, 2, SHAPE(1, ntok));
    dev_mlp(&x, iou_pred, iou_token_out, md->iou_head, c->iou_head_depth, c->iou_head_hidden,
            c->iou_prediction_use_sigmoid);
    /* object_score_logits = self.pred_obj_score_head(hs[:, 0, :]) */
    dev_tensor score = dev_new(&x, SAM2_F32, 2, SHAPE(1, 1));
    if (c->pred_obj_scores)
        dev_mlp(&x, score, dev_rows(queries, 0, 1), md->obj_head, net->w.obj_head_layers, d, 0);

    dev_download(&x, out->all_masks, &masks, sizeof(float) * (size_t)(ntok * 16 * P));
    dev_download(&x, out->all_iou, &iou_pred, sizeof(float) * (size_t)ntok);
    dev_download(&x, out->mask_tokens_out, &mask_tokens_out, sizeof(float) * (size_t)(ntok * d));
    if (c->pred_obj_scores)
        dev_download(&x, &out->object_score, &score, sizeof(float));
    else
        out->object_score = 10.0f; /* object_score_logits = 10.0 * iou_pred.new_ones(...) */
    const int rc = x.failed ? -1 : 0;
    dev_arena_free(&arena);
    return rc;
}

/* MaskDecoder.forward's selection: multimask -> tokens 1..3; single -> token 0, or with dynamic
 * multimask via stability the best-IoU multimask token when token 0 is unstable. Host work on
 * the downloaded outputs. */
static void select_masks(const sam2_net *net, const mask_decoder_in *in, mask_decoder_out *out) {
    const sam2_config *c = &net->cfg;
    const int ntok = c->num_multimask_outputs + 1;
    const size_t npx = (size_t)16 * net->embed * net->embed;
    out->stability = 1.0f;
    out->sam_token = 0;
    if (in->multimask) {
        out->n_out = ntok - 1;
        for (int i = 1; i < ntok; i++) out->tokens[i - 1] = i;
        return;
    }
    out->n_out = 1;
    out->tokens[0] = 0;
    if (!c->dynamic_multimask_via_stability) return;
    out->stability = mask_stability(out->all_masks, npx, c->dynamic_multimask_stability_delta);
    if (out->stability < c->dynamic_multimask_stability_thresh) {
        int best = 1;
        for (int i = 2; i < ntok; i++)
            if (out->all_iou[i] > out->all_iou[best]) best = i;
        out->tokens[0] = best;
    }
}

int mask_decoder_forward(const sam2_net *net, const mask_decoder_in *in, mask_decoder_out *out,
                         arena *scratch, const sam2_tap *tap) {
    if (predict_masks(net, in, out, scratch) != 0) return -1;
    select_masks(net, in, out);
    if (tap) {
        const int64_t E = net->embed, d = net->cfg.d_model,
                      ntok = net->cfg.num_multimask_outputs + 1;
        const int64_t sm[4] = {1, ntok, 4 * E, 4 * E}, si[2] = {1, ntok}, st[3] = {1, ntok, d},
                      so[2] = {1, 1};
        tap_emit(tap, "decoder_all_mask_logits", out->all_masks, TAP_F32, 4, sm, TAP_AS_SHAPED);
        tap_emit(tap, "decoder_all_iou", out->all_iou, TAP_F32, 2, si, TAP_AS_SHAPED);
        tap_emit(tap, "decoder_mask_tokens_out", out->mask_tokens_out, TAP_F32, 3, st,
                 TAP_AS_SHAPED);
        tap_emit(tap, "decoder_object_score_logits", &out->object_score, TAP_F32, 2, so,
                 TAP_AS_SHAPED);
    }
    return 0;
}
