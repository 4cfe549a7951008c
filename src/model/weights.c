#include "model/weights.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The walk is written once, in the order PyTorch's state_dict() lists the tensors: a module's own
 * parameters and buffers first, then its children in registration order. */

typedef struct walker {
    sam2_weight_visit_fn visit;
    void *user;
    int stop;
} walker;

static void visit(walker *wk, const float **slot, int ndim, const int64_t *shape, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));

static void visit(walker *wk, const float **slot, int ndim, const int64_t *shape, const char *fmt,
                  ...) {
    if (wk->stop) return;
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    wk->stop = wk->visit(wk->user, name, ndim, shape, slot);
}

#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})

static void vec(walker *wk, const float **slot, int64_t n, const char *prefix, const char *leaf) {
    visit(wk, slot, 1, SHAPE(n), "%s.%s", prefix, leaf);
}

static void linear(walker *wk, sam2_lin *l, int64_t in, int64_t out, const char *prefix) {
    visit(wk, &l->w, 2, SHAPE(out, in), "%s.weight", prefix);
    visit(wk, &l->b, 1, SHAPE(out), "%s.bias", prefix);
}

static void conv(walker *wk, sam2_lin *l, int64_t in, int64_t out, int64_t k, const char *prefix) {
    visit(wk, &l->w, 4, SHAPE(out, in, k, k), "%s.weight", prefix);
    visit(wk, &l->b, 1, SHAPE(out), "%s.bias", prefix);
}

static void conv_transpose(walker *wk, sam2_lin *l, int64_t in, int64_t out, int64_t k,
                           const char *prefix) {
    visit(wk, &l->w, 4, SHAPE(in, out, k, k), "%s.weight", prefix);
    visit(wk, &l->b, 1, SHAPE(out), "%s.bias", prefix);
}

static void norm(walker *wk, sam2_norm *n, int64_t dim, const char *prefix) {
    vec(wk, &n->w, dim, prefix, "weight");
    vec(wk, &n->b, dim, prefix, "bias");
}

static void attention(walker *wk, sam2_attn_w *a, int64_t dim, int64_t kv_dim, int64_t internal,
                      const char *prefix) {
    char p[256];
    snprintf(p, sizeof p, "%s.q_proj", prefix);
    linear(wk, &a->q, dim, internal, p);
    snprintf(p, sizeof p, "%s.k_proj", prefix);
    linear(wk, &a->k, kv_dim, internal, p);
    snprintf(p, sizeof p, "%s.v_proj", prefix);
    linear(wk, &a->v, kv_dim, internal, p);
    snprintf(p, sizeof p, "%s.out_proj", prefix);
    linear(wk, &a->out, internal, dim, p);
}

/* MLP of sam2_utils: num_layers Linear layers, hidden width for all but the last. */
static void mlp(walker *wk, sam2_lin *layers, int n, int64_t in, int64_t hidden, int64_t out,
                const char *prefix) {
    char p[256];
    for (int i = 0; i < n; i++) {
        int64_t a = i == 0 ? in : hidden, b = i == n - 1 ? out : hidden;
        snprintf(p, sizeof p, "%s.layers.%d", prefix, i);
        linear(wk, &layers[i], a, b, p);
    }
}

static void walk_trunk(walker *wk, const sam2_config *c, sam2_weights *w) {
    sam2_hiera_block_info info[SAM2_MAX_BLOCKS];
    int nb = sam2_config_hiera_blocks(c, info);
    const int64_t C = c->embed_dim;
    visit(wk, &w->pos_embed, 4, SHAPE(1, C, c->bkg_pos_embed[0], c->bkg_pos_embed[1]),
          "image_encoder.trunk.pos_embed");
    visit(wk, &w->pos_embed_window, 4, SHAPE(1, C, c->window_spec[0], c->window_spec[0]),
          "image_encoder.trunk.pos_embed_window");
    conv(wk, &w->patch_embed, 3, C, 7, "image_encoder.trunk.patch_embed.proj");
    char p[256];
    for (int i = 0; i < nb; i++) {
        sam2_hiera_block_w *b = &w->blocks[i];
        int64_t d = info[i].dim, dout = info[i].dim_out;
        int64_t hidden = (int64_t)(dout * c->mlp_ratio);
        snprintf(p, sizeof p, "image_encoder.trunk.blocks.%d.norm1", i);
        norm(wk, &b->norm1, d, p);
        snprintf(p, sizeof p, "image_encoder.trunk.blocks.%d.attn.qkv", i);
        linear(wk, &b->qkv, d, 3 * dout, p);
        snprintf(p, sizeof p, "image_encoder.trunk.blocks.%d.attn.proj", i);
        linear(wk, &b->attn_proj, dout, dout, p);
        snprintf(p, sizeof p, "image_encoder.trunk.blocks.%d.norm2", i);
        norm(wk, &b->norm2, dout, p);
        snprintf(p, sizeof p, "image_encoder.trunk.blocks.%d.mlp", i);
        mlp(wk, b->mlp, 2, dout, hidden, dout, p);
        if (d != dout) {
            snprintf(p, sizeof p, "image_encoder.trunk.blocks.%d.proj", i);
            linear(wk, &b->proj, d, dout, p);
        }
    }
}

/* ---- EdgeTAM: timm RepVit trunk and the Perceiver ---- */

static void batchnorm(walker *wk, sam2_convbn_w *cb, int64_t n, const char *prefix) {
    visit(wk, &cb->bn_w, 1, SHAPE(n), "%s.weight", prefix);
    visit(wk, &cb->bn_b, 1, SHAPE(n), "%s.bias", prefix);
    visit(wk, &cb->bn_mean, 1, SHAPE(n), "%s.running_mean", prefix);
    visit(wk, &cb->bn_var, 1, SHAPE(n), "%s.running_var", prefix);
    visit(wk, NULL, 0, SHAPE(0), "%s.num_batches_tracked", prefix); /* int64, never read */
}

/* timm ConvNorm: "<prefix>.c.weight" (no bias), "<prefix>.bn.*". */
static void convnorm(walker *wk, sam2_convbn_w *cb, int64_t in, int64_t out, int64_t k,
                     int64_t groups, const char *prefix) {
    char p[256];
    visit(wk, &cb->conv, 4, SHAPE(out, in / groups, k, k), "%s.c.weight", prefix);
    snprintf(p, sizeof p, "%s.bn", prefix);
    batchnorm(wk, cb, out, p);
}

/* RepViTBlock(dim): token mixer (RepVggDw), SE (even blocks), channel mixer (RepVitMlp). */
static void repvit_block(walker *wk, const sam2_config *c, sam2_repvit_block_w *b, int64_t dim,
                         bool se, const char *prefix) {
    char p[256];
    snprintf(p, sizeof p, "%s.token_mixer.conv", prefix);
    convnorm(wk, &b->dw, dim, dim, 3, dim, p);
    snprintf(p, sizeof p, "%s.token_mixer.conv1", prefix);
    if (c->repvit.legacy) {
        convnorm(wk, &b->dw1, dim, dim, 1, dim, p);
    } else {
        visit(wk, &b->dw1.conv, 4, SHAPE(dim, 1, 1, 1), "%s.weight", p);
        visit(wk, &b->dw1_bias, 1, SHAPE(dim), "%s.bias", p);
        snprintf(p, sizeof p, "%s.token_mixer.bn", prefix);
        batchnorm(wk, &b->mixer_bn, dim, p);
    }
    if (se) {
        /* timm SqueezeExcite(dim, 0.25): make_divisible(dim / 4, 8) reduced channels */
        const int64_t rd = ((dim / 4 + 4) / 8 * 8) < 8 ? 8 : (dim / 4 + 4) / 8 * 8;
        snprintf(p, sizeof p, "%s.se.fc1", prefix);
        conv(wk, &b->se_fc1, dim, rd, 1, p);
        snprintf(p, sizeof p, "%s.se.fc2", prefix);
        conv(wk, &b->se_fc2, rd, dim, 1, p);
    }
    snprintf(p, sizeof p, "%s.channel_mixer.conv1", prefix);
    convnorm(wk, &b->mlp1, dim, 2 * dim, 1, 1, p);
    snprintf(p, sizeof p, "%s.channel_mixer.conv2", prefix);
    convnorm(wk, &b->mlp2, 2 * dim, dim, 1, 1, p);
}

static void walk_repvit(walker *wk, const sam2_config *c, sam2_weights *w) {
    const char *base = "image_encoder.trunk.body";
    const int *dims = c->repvit.dims;
    char p[256];
    snprintf(p, sizeof p, "%s.stem.conv1", base);
    convnorm(wk, &w->repvit_stem[0], 3, dims[0] / 2, 3, 1, p);
    snprintf(p, sizeof p, "%s.stem.conv2", base);
    convnorm(wk, &w->repvit_stem[1], dims[0] / 2, dims[0], 3, 1, p);
    for (int s = 0; s < 4; s++) {
        sam2_repvit_stage_w *st = &w->repvit[s];
        if (s > 0) {
            const int64_t in = dims[s - 1], out = dims[s];
            snprintf(p, sizeof p, "%s.stages_%d.downsample.pre_block", base, s);
            repvit_block(wk, c, &st->pre_block, in, false, p);
            snprintf(p, sizeof p, "%s.stages_%d.downsample.spatial_downsample", base, s);
            convnorm(wk, &st->spatial_ds, in, in, 3, in, p);
            snprintf(p, sizeof p, "%s.stages_%d.downsample.channel_downsample", base, s);
            convnorm(wk, &st->channel_ds, in, out, 1, 1, p);
            snprintf(p, sizeof p, "%s.stages_%d.downsample.ffn.conv1", base, s);
            convnorm(wk, &st->ffn1, out, 2 * out, 1, 1, p);
            snprintf(p, sizeof p, "%s.stages_%d.downsample.ffn.conv2", base, s);
            convnorm(wk, &st->ffn2, 2 * out, out, 1, 1, p);
        }
        for (int b = 0; b < c->repvit.depths[s] && b < SAM2_MAX_REPVIT_DEPTH; b++) {
            snprintf(p, sizeof p, "%s.stages_%d.blocks.%d", base, s, b);
            repvit_block(wk, c, &st->blocks[b], dims[s], b % 2 == 0, p);
        }
    }
}

/* A Linear without bias: "<prefix>.weight" [out][in]. */
static void matrix(walker *wk, const float **slot, int64_t in, int64_t out, const char *prefix) {
    visit(wk, slot, 2, SHAPE(out, in), "%s.weight", prefix);
}

static void walk_perceiver(walker *wk, const sam2_config *c, sam2_weights *w) {
    const sam2_perceiver_config *pc = &c->perceiver;
    const int64_t d = pc->dim, inner = (int64_t)pc->dim_head * pc->heads, ff = d * pc->ff_mult;
    const char *base = "spatial_perceiver";
    char p[256];
    if (pc->num_latents > 0)
        visit(wk, &w->perceiver_latents, 2, SHAPE(pc->num_latents, d), "%s.latents", base);
    if (pc->num_latents_2d > 0)
        visit(wk, &w->perceiver_latents_2d, 2, SHAPE(pc->num_latents_2d, d), "%s.latents_2d", base);
    for (int i = 0; i < pc->depth && i < SAM2_MAX_PERCEIVER_LAYERS; i++) {
        sam2_perceiver_layer_w *l = &w->perceiver[i];
        snprintf(p, sizeof p, "%s.layers.%d.attn.norm_x", base, i);
        norm(wk, &l->norm_x, d, p);
        snprintf(p, sizeof p, "%s.layers.%d.attn.norm_latents", base, i);
        norm(wk, &l->norm_latents, d, p);
        snprintf(p, sizeof p, "%s.layers.%d.attn.to_q", base, i);
        matrix(wk, &l->to_q, d, inner, p);
        snprintf(p, sizeof p, "%s.layers.%d.attn.to_kv", base, i);
        matrix(wk, &l->to_kv, d, 2 * inner, p);
        snprintf(p, sizeof p, "%s.layers.%d.attn.to_out", base, i);
        matrix(wk, &l->to_out, inner, d, p);
        snprintf(p, sizeof p, "%s.layers.%d.ff.0", base, i);
        norm(wk, &l->ff_norm, d, p);
        snprintf(p, sizeof p, "%s.layers.%d.ff.1", base, i);
        matrix(wk, &l->ff1, d, ff, p);
        snprintf(p, sizeof p, "%s.layers.%d.ff.3", base, i);
        matrix(wk, &l->ff2, ff, d, p);
        if (!pc->use_self_attn) continue;
        snprintf(p, sizeof p, "%s.layers.%d.self_attn.norm", base, i);
        norm(wk, &l->sa_norm, d, p);
        snprintf(p, sizeof p, "%s.layers.%d.self_attn.to_q", base, i);
        matrix(wk, &l->sa_q, d, inner, p);
        snprintf(p, sizeof p, "%s.layers.%d.self_attn.to_kv", base, i);
        matrix(wk, &l->sa_kv, d, 2 * inner, p);
        snprintf(p, sizeof p, "%s.layers.%d.self_attn.to_out", base, i);
        matrix(wk, &l->sa_out, inner, d, p);
        snprintf(p, sizeof p, "%s.layers.%d.self_ff.0", base, i);
        norm(wk, &l->sff_norm, d, p);
        snprintf(p, sizeof p, "%s.layers.%d.self_ff.1", base, i);
        matrix(wk, &l->sff1, d, ff, p);
        snprintf(p, sizeof p, "%s.layers.%d.self_ff.3", base, i);
        matrix(wk, &l->sff2, ff, d, p);
    }
    norm(wk, &w->perceiver_norm, d, "spatial_perceiver.norm");
}

static void walk_neck(walker *wk, const sam2_config *c, sam2_weights *w) {
    char p[256];
    for (int i = 0; i < c->num_stages; i++) {
        snprintf(p, sizeof p, "image_encoder.neck.convs.%d.conv", i);
        conv(wk, &w->neck_convs[i], c->backbone_channels[i], c->d_model, 1, p);
    }
}

static void walk_memory_attention(walker *wk, const sam2_config *c, sam2_weights *w) {
    char p[256];
    const int64_t d = c->d_model;
    for (int i = 0; i < c->mem_attn_layers; i++) {
        sam2_mem_attn_layer_w *l = &w->mem_attn[i];
        snprintf(p, sizeof p, "memory_attention.layers.%d.self_attn", i);
        attention(wk, &l->self_attn, d, d, d / c->sa_downsample, p);
        snprintf(p, sizeof p, "memory_attention.layers.%d.cross_attn_image", i);
        attention(wk, &l->cross_attn, d, c->mem_dim, d / c->ca_downsample, p);
        snprintf(p, sizeof p, "memory_attention.layers.%d.linear1", i);
        linear(wk, &l->linear1, d, c->mem_attn_ffn, p);
        snprintf(p, sizeof p, "memory_attention.layers.%d.linear2", i);
        linear(wk, &l->linear2, c->mem_attn_ffn, d, p);
        snprintf(p, sizeof p, "memory_attention.layers.%d.norm1", i);
        norm(wk, &l->norm1, d, p);
        snprintf(p, sizeof p, "memory_attention.layers.%d.norm2", i);
        norm(wk, &l->norm2, d, p);
        snprintf(p, sizeof p, "memory_attention.layers.%d.norm3", i);
        norm(wk, &l->norm3, d, p);
    }
    norm(wk, &w->mem_attn_norm, d, "memory_attention.norm");
}

static void walk_memory_encoder(walker *wk, const sam2_config *c, sam2_weights *w) {
    char p[256];
    /* MaskDownSampler: log(total_stride)/log(stride) x (conv, LayerNorm2d, GELU), then a 1x1 conv;
     * Sequential indices advance by 3 per repetition. */
    int n = 0;
    for (int s = 1; s < c->mask_ds_total_stride; s *= c->mask_ds_stride) n++;
    w->mask_ds_layers = n;
    int64_t in = 1, out = 1;
    for (int i = 0; i < n; i++) {
        out = in * c->mask_ds_stride * c->mask_ds_stride;
        snprintf(p, sizeof p, "memory_encoder.mask_downsampler.encoder.%d", 3 * i);
        conv(wk, &w->mask_ds_conv[i], in, out, c->mask_ds_kernel, p);
        snprintf(p, sizeof p, "memory_encoder.mask_downsampler.encoder.%d", 3 * i + 1);
        norm(wk, &w->mask_ds_norm[i], out, p);
        in = out;
    }
    snprintf(p, sizeof p, "memory_encoder.mask_downsampler.encoder.%d", 3 * n);
    conv(wk, &w->mask_ds_out, out, c->mask_ds_embed_dim, 1, p);
    conv(wk, &w->pix_feat_proj, c->mem_in_dim, c->mem_in_dim, 1, "memory_encoder.pix_feat_proj");
    if (c->fuser_input_projection)
        conv(wk, &w->fuser_proj, c->fuser_dim, c->fuser_dim, 1, "memory_encoder.fuser.proj");
    const int64_t fd = c->fuser_dim;
    for (int i = 0; i < c->fuser_layers; i++) {
        sam2_cxblock_w *b = &w->fuser[i];
        if (c->fuser_layer_scale_init > 0) {
            snprintf(p, sizeof p, "memory_encoder.fuser.layers.%d.gamma", i);
            visit(wk, &b->gamma, 1, SHAPE(fd), "%s", p);
        }
        snprintf(p, sizeof p, "memory_encoder.fuser.layers.%d.dwconv", i);
        conv(wk, &b->dwconv, c->fuser_dwconv ? 1 : fd, fd, c->fuser_kernel, p);
        snprintf(p, sizeof p, "memory_encoder.fuser.layers.%d.norm", i);
        norm(wk, &b->norm, fd, p);
        snprintf(p, sizeof p, "memory_encoder.fuser.layers.%d.pwconv1", i);
        linear(wk, &b->pwconv1, fd, 4 * fd, p);
        snprintf(p, sizeof p, "memory_encoder.fuser.layers.%d.pwconv2", i);
        linear(wk, &b->pwconv2, 4 * fd, fd, p);
    }
    if (c->mem_dim != c->mem_in_dim)
        conv(wk, &w->mem_out_proj, c->mem_in_dim, c->mem_dim, 1, "memory_encoder.out_proj");
}

static void walk_prompt_encoder(walker *wk, const sam2_config *c, sam2_weights *w) {
    const int64_t d = c->d_model, m = c->mask_in_chans;
    visit(wk, &w->pe_gaussian, 2, SHAPE(2, d / 2),
          "sam_prompt_encoder.pe_layer.positional_encoding_gaussian_matrix");
    for (int i = 0; i < 4; i++)
        visit(wk, &w->point_embeddings[i], 2, SHAPE(1, d),
              "sam_prompt_encoder.point_embeddings.%d.weight", i);
    visit(wk, &w->not_a_point_embed, 2, SHAPE(1, d), "sam_prompt_encoder.not_a_point_embed.weight");
    conv(wk, &w->mask_down_conv[0], 1, m / 4, 2, "sam_prompt_encoder.mask_downscaling.0");
    norm(wk, &w->mask_down_norm[0], m / 4, "sam_prompt_encoder.mask_downscaling.1");
    conv(wk, &w->mask_down_conv[1], m / 4, m, 2, "sam_prompt_encoder.mask_downscaling.3");
    norm(wk, &w->mask_down_norm[1], m, "sam_prompt_encoder.mask_downscaling.4");
    conv(wk, &w->mask_down_conv[2], m, d, 1, "sam_prompt_encoder.mask_downscaling.6");
    visit(wk, &w->no_mask_embed, 2, SHAPE(1, d), "sam_prompt_encoder.no_mask_embed.weight");
}

static void walk_mask_decoder(walker *wk, const sam2_config *c, sam2_weights *w) {
    const int64_t d = c->d_model, inner = d / c->dec_attn_downsample;
    char p[256];
    for (int i = 0; i < c->dec_depth; i++) {
        sam2_twoway_layer_w *l = &w->dec_layers[i];
        const char *base = "sam_mask_decoder.transformer.layers";
        snprintf(p, sizeof p, "%s.%d.self_attn", base, i);
        attention(wk, &l->self_attn, d, d, d, p);
        snprintf(p, sizeof p, "%s.%d.norm1", base, i);
        norm(wk, &l->norm1, d, p);
        snprintf(p, sizeof p, "%s.%d.cross_attn_token_to_image", base, i);
        attention(wk, &l->cross_t2i, d, d, inner, p);
        snprintf(p, sizeof p, "%s.%d.norm2", base, i);
        norm(wk, &l->norm2, d, p);
        snprintf(p, sizeof p, "%s.%d.mlp", base, i);
        mlp(wk, l->mlp, 2, d, c->dec_mlp_dim, d, p);
        snprintf(p, sizeof p, "%s.%d.norm3", base, i);
        norm(wk, &l->norm3, d, p);
        snprintf(p, sizeof p, "%s.%d.norm4", base, i);
        norm(wk, &l->norm4, d, p);
        snprintf(p, sizeof p, "%s.%d.cross_attn_image_to_token", base, i);
        attention(wk, &l->cross_i2t, d, d, inner, p);
    }
    attention(wk, &w->dec_final_attn, d, d, inner,
              "sam_mask_decoder.transformer.final_attn_token_to_image");
    norm(wk, &w->dec_norm_final, d, "sam_mask_decoder.transformer.norm_final_attn");
    const int ntok = c->num_multimask_outputs + 1;
    visit(wk, &w->iou_token, 2, SHAPE(1, d), "sam_mask_decoder.iou_token.weight");
    visit(wk, &w->mask_tokens, 2, SHAPE(ntok, d), "sam_mask_decoder.mask_tokens.weight");
    if (c->pred_obj_scores)
        visit(wk, &w->obj_score_token, 2, SHAPE(1, d), "sam_mask_decoder.obj_score_token.weight");
    conv_transpose(wk, &w->upscale_conv1, d, d / 4, 2, "sam_mask_decoder.output_upscaling.0");
    norm(wk, &w->upscale_norm, d / 4, "sam_mask_decoder.output_upscaling.1");
    conv_transpose(wk, &w->upscale_conv2, d / 4, d / 8, 2, "sam_mask_decoder.output_upscaling.3");
    if (c->use_high_res_features_in_sam) {
        conv(wk, &w->conv_s0, d, d / 8, 1, "sam_mask_decoder.conv_s0");
        conv(wk, &w->conv_s1, d, d / 4, 1, "sam_mask_decoder.conv_s1");
    }
    for (int i = 0; i < ntok; i++) {
        snprintf(p, sizeof p, "sam_mask_decoder.output_hypernetworks_mlps.%d", i);
        mlp(wk, w->hyper_mlps[i], 3, d, d, d / 8, p);
    }
    mlp(wk, w->iou_head, c->iou_head_depth, d, c->iou_head_hidden, ntok,
        "sam_mask_decoder.iou_prediction_head");
    if (c->pred_obj_scores) {
        if (c->pred_obj_scores_mlp) {
            w->obj_head_layers = 3;
            mlp(wk, w->obj_head, 3, d, d, 1, "sam_mask_decoder.pred_obj_score_head");
        } else {
            w->obj_head_layers = 1;
            linear(wk, &w->obj_head[0], d, 1, "sam_mask_decoder.pred_obj_score_head");
        }
    } else {
        w->obj_head_layers = 0;
    }
}

int sam2_weights_walk(const sam2_config *c, sam2_weights *w, sam2_weight_visit_fn fn, void *user) {
    walker wk = {fn, user, 0};
    const int64_t d = c->d_model, md = c->mem_dim;
    visit(&wk, &w->maskmem_tpos_enc, 4, SHAPE(c->num_maskmem, 1, 1, md), "maskmem_tpos_enc");
    visit(&wk, &w->no_mem_embed, 3, SHAPE(1, 1, d), "no_mem_embed");
    visit(&wk, &w->no_mem_pos_enc, 3, SHAPE(1, 1, d), "no_mem_pos_enc");
    if (c->pred_obj_scores && c->use_obj_ptrs_in_encoder)
        visit(&wk, &w->no_obj_ptr, 2, SHAPE(1, d), "no_obj_ptr");
    if (c->no_obj_embed_spatial)
        visit(&wk, &w->no_obj_embed_spatial, 2, SHAPE(1, md), "no_obj_embed_spatial");
    if (c->trunk == SAM2_TRUNK_REPVIT)
        walk_repvit(&wk, c, w);
    else
        walk_trunk(&wk, c, w);
    walk_neck(&wk, c, w);
    if (c->use_obj_ptrs_in_encoder) conv(&wk, &w->mask_downsample, 1, 1, 4, "mask_downsample");
    walk_memory_attention(&wk, c, w);
    walk_memory_encoder(&wk, c, w);
    walk_prompt_encoder(&wk, c, w);
    walk_mask_decoder(&wk, c, w);
    if (c->use_obj_ptrs_in_encoder) {
        if (c->use_mlp_for_obj_ptr_proj) {
            w->obj_ptr_proj_layers = 3;
            mlp(&wk, w->obj_ptr_proj, 3, d, d, d, "obj_ptr_proj");
        } else {
            w->obj_ptr_proj_layers = 1;
            linear(&wk, &w->obj_ptr_proj[0], d, d, "obj_ptr_proj");
        }
    } else {
        w->obj_ptr_proj_layers = 0;
    }
    if (c->proj_tpos_enc_in_obj_ptrs)
        linear(&wk, &w->obj_ptr_tpos_proj, d, md, "obj_ptr_tpos_proj");
    if (sam2_config_has_perceiver(c)) walk_perceiver(&wk, c, w);
    return wk.stop;
}

typedef struct counter {
    int tensors;
    int64_t scalars;
} counter;

static int count_visit(void *user, const char *name, int ndim, const int64_t *shape,
                       const float **slot) {
    (void)name;
    (void)slot;
    counter *c = user;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    c->tensors++;
    c->scalars += n;
    return 0;
}

int sam2_weights_count(const sam2_config *cfg, int64_t *num_scalars) {
    sam2_weights w;
    counter c = {0, 0};
    sam2_weights_walk(cfg, &w, count_visit, &c);
    if (num_scalars) *num_scalars = c.scalars;
    return c.tensors;
}
