/* Model weights: pointers to float32 tensors, named and shaped exactly as in the official
 * state dict. The weights are owned elsewhere (mapped from the checkpoint file, or converted
 * from float16/bfloat16 once at load); this struct only points into them.
 *
 * sam2_weights_walk() is the single description of the state dict: it visits every tensor the
 * configuration implies, in the official state-dict order, with its official name, its shape and
 * the slot that holds its pointer. Loading, validation, `sam2 inspect` of a preset and the
 * manifest tests all use it. */
#ifndef SAM2_MODEL_WEIGHTS_H
#define SAM2_MODEL_WEIGHTS_H

#include "model/config.h"

#include <stdint.h>

#define SAM2_MAX_MEM_ATTN_LAYERS 8
#define SAM2_MAX_FUSER_LAYERS 4
#define SAM2_MAX_MASK_DS_LAYERS 8

typedef struct sam2_lin {
    const float *w, *b; /* Linear [out][in] or Conv2d [out][in][kh][kw]; b may be NULL */
} sam2_lin;

typedef struct sam2_norm {
    const float *w, *b; /* LayerNorm / LayerNorm2d */
} sam2_norm;

typedef struct sam2_attn_w {
    sam2_lin q, k, v, out;
} sam2_attn_w;

typedef struct sam2_hiera_block_w {
    sam2_norm norm1, norm2;
    sam2_lin qkv, attn_proj; /* attn.qkv, attn.proj */
    sam2_lin mlp[2];
    sam2_lin proj; /* only when dim != dim_out */
} sam2_hiera_block_w;

typedef struct sam2_twoway_layer_w {
    sam2_attn_w self_attn;
    sam2_norm norm1;
    sam2_attn_w cross_t2i; /* cross_attn_token_to_image */
    sam2_norm norm2;
    sam2_lin mlp[2];
    sam2_norm norm3, norm4;
    sam2_attn_w cross_i2t; /* cross_attn_image_to_token */
} sam2_twoway_layer_w;

typedef struct sam2_mem_attn_layer_w {
    sam2_attn_w self_attn, cross_attn;
    sam2_lin linear1, linear2;
    sam2_norm norm1, norm2, norm3;
} sam2_mem_attn_layer_w;

typedef struct sam2_cxblock_w {
    const float *gamma; /* layer scale, NULL when layer_scale_init_value <= 0 */
    sam2_lin dwconv;    /* [dim][1][k][k] (or [dim][dim][k][k] without depthwise) */
    sam2_norm norm;
    sam2_lin pwconv1, pwconv2;
} sam2_cxblock_w;

/* EdgeTAM's RepViT trunk (timm) and Perceiver; folded into conv + bias at load (model/net.h). */

/* A timm ConvNorm: Conv2d without bias, then BatchNorm2d, applied with its running statistics. */
typedef struct sam2_convbn_w {
    const float *conv;                           /* [out][in/groups][k][k]; NULL for a bare BN */
    const float *bn_w, *bn_b, *bn_mean, *bn_var; /* [out] */
} sam2_convbn_w;

typedef struct sam2_repvit_block_w {
    sam2_convbn_w dw;         /* token_mixer.conv: depthwise 3x3 */
    sam2_convbn_w dw1;        /* token_mixer.conv1: depthwise 1x1 (legacy: a ConvNorm) */
    const float *dw1_bias;    /* non-legacy: token_mixer.conv1 is a plain conv with bias ... */
    sam2_convbn_w mixer_bn;   /* ... and token_mixer.bn follows the sum (its conv is NULL) */
    sam2_lin se_fc1, se_fc2;  /* se.fc1, se.fc2: 1x1 convs with bias; w NULL without SE */
    sam2_convbn_w mlp1, mlp2; /* channel_mixer.conv1 (C -> 2C), conv2 (2C -> C) */
} sam2_repvit_block_w;

typedef struct sam2_repvit_stage_w {
    sam2_repvit_block_w pre_block;        /* downsample.pre_block (stages 1-3) */
    sam2_convbn_w spatial_ds, channel_ds; /* downsample.spatial_downsample, .channel_downsample */
    sam2_convbn_w ffn1, ffn2;             /* downsample.ffn.conv1, .conv2 */
    sam2_repvit_block_w blocks[SAM2_MAX_REPVIT_DEPTH];
} sam2_repvit_stage_w;

#define SAM2_MAX_PERCEIVER_LAYERS 8

typedef struct sam2_perceiver_layer_w {
    sam2_norm norm_x, norm_latents;     /* attn.norm_x, attn.norm_latents */
    const float *to_q, *to_kv, *to_out; /* attn.*, no bias */
    sam2_norm ff_norm;                  /* ff.0 */
    const float *ff1, *ff2;             /* ff.1, ff.3, no bias */
    sam2_norm sa_norm;                  /* self_attn.norm */
    const float *sa_q, *sa_kv, *sa_out; /* self_attn.* */
    sam2_norm sff_norm;                 /* self_ff.0 */
    const float *sff1, *sff2;           /* self_ff.1, self_ff.3 */
} sam2_perceiver_layer_w;

typedef struct sam2_weights {
    /* SAM2Base parameters */
    const float *maskmem_tpos_enc;     /* [num_maskmem][1][1][mem_dim] */
    const float *no_mem_embed;         /* [1][1][d_model] */
    const float *no_mem_pos_enc;       /* [1][1][d_model] */
    const float *no_obj_ptr;           /* [1][d_model] (pred_obj_scores && use_obj_ptrs) */
    const float *no_obj_embed_spatial; /* [1][mem_dim] (no_obj_embed_spatial) */

    /* image_encoder.trunk */
    const float *pos_embed;        /* [1][C][bkg_h][bkg_w] */
    const float *pos_embed_window; /* [1][C][w0][w0] */
    sam2_lin patch_embed;          /* conv [C][3][7][7] */
    sam2_hiera_block_w blocks[SAM2_MAX_BLOCKS];
    /* image_encoder.neck.convs.i.conv: [d_model][backbone_channels[i]][1][1] */
    sam2_lin neck_convs[SAM2_MAX_STAGES];

    sam2_lin mask_downsample; /* conv [1][1][4][4] (use_obj_ptrs_in_encoder) */

    /* memory_attention */
    sam2_mem_attn_layer_w mem_attn[SAM2_MAX_MEM_ATTN_LAYERS];
    sam2_norm mem_attn_norm;

    /* memory_encoder */
    int mask_ds_layers; /* conv+LN+GELU repetitions before the final 1x1 conv */
    sam2_lin mask_ds_conv[SAM2_MAX_MASK_DS_LAYERS];
    sam2_norm mask_ds_norm[SAM2_MAX_MASK_DS_LAYERS];
    sam2_lin mask_ds_out;
    sam2_lin pix_feat_proj;
    sam2_lin fuser_proj; /* fuser_input_projection only */
    sam2_cxblock_w fuser[SAM2_MAX_FUSER_LAYERS];
    sam2_lin mem_out_proj; /* when mem_dim != mem_in_dim */

    /* sam_prompt_encoder */
    const float *pe_gaussian;         /* [2][d_model/2] */
    const float *point_embeddings[4]; /* [1][d_model] each */
    const float *not_a_point_embed;   /* [1][d_model] */
    sam2_lin mask_down_conv[3];       /* [c/4][1][2][2], [c][c/4][2][2], [d_model][c][1][1] */
    sam2_norm mask_down_norm[2];
    const float *no_mask_embed; /* [1][d_model] */

    /* sam_mask_decoder */
    sam2_twoway_layer_w dec_layers[2];
    sam2_attn_w dec_final_attn;
    sam2_norm dec_norm_final;
    const float *iou_token;       /* [1][d_model] */
    const float *mask_tokens;     /* [4][d_model] */
    const float *obj_score_token; /* [1][d_model] (pred_obj_scores) */
    sam2_lin upscale_conv1;       /* ConvTranspose [d][d/4][2][2] */
    sam2_norm upscale_norm;
    sam2_lin upscale_conv2;    /* ConvTranspose [d/4][d/8][2][2] */
    sam2_lin conv_s0, conv_s1; /* [d/8][d][1][1], [d/4][d][1][1] */
    sam2_lin hyper_mlps[4][3];
    sam2_lin iou_head[3];
    int obj_head_layers; /* 3 with pred_obj_scores_mlp, else 1 */
    sam2_lin obj_head[3];

    /* object pointers */
    int obj_ptr_proj_layers; /* 3 with use_mlp_for_obj_ptr_proj, 1 for a Linear, 0 identity */
    sam2_lin obj_ptr_proj[3];
    sam2_lin obj_ptr_tpos_proj; /* [mem_dim][d_model] (proj_tpos_enc_in_obj_ptrs) */

    /* EdgeTAM: image_encoder.trunk.body (timm RepVit, features_only) */
    sam2_convbn_w repvit_stem[2]; /* stem.conv1 (3 -> C0/2, 3x3/2), stem.conv2 (-> C0, 3x3/2) */
    sam2_repvit_stage_w repvit[SAM2_MAX_STAGES];
    /* EdgeTAM: spatial_perceiver */
    const float *perceiver_latents, *perceiver_latents_2d; /* [num_latents(_2d)][dim] */
    sam2_perceiver_layer_w perceiver[SAM2_MAX_PERCEIVER_LAYERS];
    sam2_norm perceiver_norm;
} sam2_weights;

/* Visitor: name is the official state-dict key, shape its expected shape. `slot` points at the
 * field that should receive the tensor's float32 data; it is NULL for a buffer that must be
 * present but that the model never reads (BatchNorm's int64 num_batches_tracked). Return non-zero
 * to stop the walk (the walk then returns that value). */
typedef int (*sam2_weight_visit_fn)(void *user, const char *name, int ndim, const int64_t *shape,
                                    const float **slot);

/* Visits every tensor of the state dict implied by cfg, in state-dict order. */
int sam2_weights_walk(const sam2_config *cfg, sam2_weights *w, sam2_weight_visit_fn visit,
                      void *user);

/* Number of tensors and of scalars the configuration implies. */
int sam2_weights_count(const sam2_config *cfg, int64_t *num_scalars);

#endif
