/* Model configuration: every number and switch of the official YAML configs
 * (configs/sam2.1/sam2.1_hiera_{t,s,b+,l}.yaml, configs/sam2/sam2_hiera_*.yaml) that the model
 * needs, in one struct. Defaults are those of the official constructors (SAM2Base, Hiera,
 * FpnNeck, MemoryAttention, MemoryEncoder, MaskDecoder) where a YAML leaves a field out. */
#ifndef SAM2_MODEL_CONFIG_H
#define SAM2_MODEL_CONFIG_H

#include <stdbool.h>

#define SAM2_MAX_STAGES 4
#define SAM2_MAX_REPVIT_DEPTH 40 /* blocks per RepViT stage (after its downsample) */

/* The image encoder's trunk: Hiera (SAM 2) or a timm RepViT (EdgeTAM). */
typedef enum sam2_trunk_kind { SAM2_TRUNK_HIERA = 0, SAM2_TRUNK_REPVIT = 1 } sam2_trunk_kind;

/* timm RepVit (models/repvit.py) as EdgeTAM's TimmBackbone builds it (features_only, four
 * stages). mlp_ratio 2, kernel 3, GELU, SE on every other block: fixed by timm. */
typedef struct sam2_repvit_config {
    char variant[32];            /* timm model name without the tag, "repvit_m1" */
    int dims[SAM2_MAX_STAGES];   /* embed_dim per stage: 48, 96, 192, 384 */
    int depths[SAM2_MAX_STAGES]; /* blocks after each stage's downsample: 2, 2, 14, 2 */
    bool legacy;                 /* legacy RepVggDw: ConvNorm 1x1 branch, no BN after */
} sam2_repvit_config;

/* EdgeTAM's PerceiverResampler (modeling/perceiver.py): compresses each memory frame to
 * num_latents global latents plus num_latents_2d window latents. Absent when both are 0. */
typedef struct sam2_perceiver_config {
    int depth;                 /* PerceiverEncoderLayers shared by both paths: 2 */
    int dim;                   /* = memory encoder out_dim, 64 */
    int dim_head, heads;       /* 64, 1 */
    int ff_mult;               /* 4 */
    int num_latents;           /* 256 (1D path) */
    int num_latents_2d;        /* 256 (2D path: a square number of windows) */
    bool use_self_attn;        /* true */
    bool pos_enc_at_key_value; /* true: the memory's sine encoding is added to keys and values */
    int pos_feats;             /* PositionEmbeddingSine num_pos_feats of the 2D latents, = dim */
} sam2_perceiver_config;
#define SAM2_MAX_GLOBAL_BLOCKS 8
#define SAM2_MAX_BLOCKS 64

typedef struct sam2_config {
    char name[64]; /* preset name ("sam2.1_hiera_t") or the YAML file's base name */

    int image_size;      /* square model input, 1024 for the official models */
    int backbone_stride; /* 16 */

    /* Hiera trunk (image_encoder.trunk) */
    int embed_dim;                    /* 96 (tiny) */
    int num_heads;                    /* heads of stage 0 */
    int num_stages;                   /* 4 */
    int stages[SAM2_MAX_STAGES];      /* blocks per stage */
    int window_spec[SAM2_MAX_STAGES]; /* window size per stage (0 = global) */
    int num_global_blocks;
    int global_att_blocks[SAM2_MAX_GLOBAL_BLOCKS]; /* block indices with global attention */
    int bkg_pos_embed[2];                          /* window_pos_embed_bkg_spatial_size (h, w) */
    int q_pool;                                    /* number of q-pooling stage transitions, 3 */
    int q_stride;                                  /* 2 */
    float dim_mul, head_mul;                       /* 2.0, 2.0 */
    float mlp_ratio;                               /* 4.0 */

    /* Image encoder neck (FpnNeck) */
    int scalp;                              /* 1: drop the lowest-resolution level */
    int d_model;                            /* 256: hidden dim of the whole model */
    int backbone_channels[SAM2_MAX_STAGES]; /* backbone_channel_list, [768, 384, 192, 96] */
    int num_top_down;
    int fpn_top_down_levels[SAM2_MAX_STAGES]; /* [2, 3] */
    bool fpn_interp_nearest;                  /* fpn_interp_model: nearest (true) / bilinear */
    bool fpn_fuse_avg;                        /* fuse_type avg (false: sum) */
    int neck_pos_feats;                       /* PositionEmbeddingSine num_pos_feats, 256 */
    float neck_pos_temperature;               /* 10000 */

    /* Memory attention */
    int mem_attn_layers;                    /* 4 */
    int mem_attn_ffn;                       /* dim_feedforward 2048 */
    int mem_attn_heads;                     /* 1 */
    bool mem_attn_relu;                     /* activation relu (false: gelu) */
    bool mem_attn_pos_enc_at_input;         /* true */
    bool mem_attn_pos_enc_at_attn;          /* false */
    bool mem_attn_pos_enc_at_cross_keys;    /* true */
    bool mem_attn_pos_enc_at_cross_queries; /* false */
    float rope_theta;                       /* 10000 */
    int rope_feat_sizes[2];                 /* [64, 64] */
    bool rope_k_repeat;                     /* cross attention: true */
    int sa_downsample, ca_downsample;       /* attention downsample rates, 1 */

    /* Memory encoder */
    int mem_dim;           /* out_dim, 64 */
    int mem_in_dim;        /* in_dim of pix feats, default 256 */
    int mem_pos_feats;     /* PositionEmbeddingSine num_pos_feats, 64 */
    int mask_ds_embed_dim; /* mask_downsampler embed_dim, default 256 */
    int mask_ds_kernel, mask_ds_stride, mask_ds_padding, mask_ds_total_stride; /* 3, 2, 1, 16 */
    int fuser_layers;                                                          /* 2 */
    int fuser_dim;                   /* CXBlock dim, 256 */
    int fuser_kernel, fuser_padding; /* 7, 3 */
    bool fuser_dwconv;               /* true */
    bool fuser_input_projection;     /* false */
    float fuser_layer_scale_init;    /* 1e-6 (> 0: gamma present) */

    /* SAM2Base */
    int num_maskmem;                 /* 7 */
    float sigmoid_scale_for_mem_enc; /* 20 */
    float sigmoid_bias_for_mem_enc;  /* -10 */
    bool binarize_mask_from_pts_for_mem_enc;
    bool use_mask_input_as_output_without_sam;
    int max_cond_frames_in_attn; /* -1 */
    bool directly_add_no_mem_embed;
    bool use_high_res_features_in_sam;
    bool multimask_output_in_sam;
    int multimask_min_pt_num, multimask_max_pt_num; /* 0, 1 */
    bool multimask_output_for_tracking;
    bool use_multimask_token_for_obj_ptr;
    bool iou_prediction_use_sigmoid;
    int memory_temporal_stride_for_eval; /* 1 */
    bool non_overlap_masks_for_mem_enc;
    bool use_obj_ptrs_in_encoder;
    int max_obj_ptrs_in_encoder; /* 16 */
    bool add_tpos_enc_to_obj_ptrs;
    bool proj_tpos_enc_in_obj_ptrs;
    bool use_signed_tpos_enc_to_obj_ptrs;
    bool only_obj_ptrs_in_the_past_for_eval;
    bool pred_obj_scores;
    bool pred_obj_scores_mlp;
    bool fixed_no_obj_ptr;
    bool soft_no_obj_ptr;
    bool use_mlp_for_obj_ptr_proj;
    bool no_obj_embed_spatial;

    /* sam_mask_decoder_extra_args (build_sam adds these three for inference) */
    bool dynamic_multimask_via_stability;
    float dynamic_multimask_stability_delta;  /* 0.05 */
    float dynamic_multimask_stability_thresh; /* 0.98 */

    /* Video predictor overrides (build_sam2_video_predictor) */
    int fill_hole_area;                     /* 8 */
    bool non_overlap_masks;                 /* false */
    bool clear_non_cond_mem_around_input;   /* false */
    bool add_all_frames_to_correct_as_cond; /* false in the official predictor */

    /* Fixed by the official code (sam2_base.py _build_sam_heads), recorded for clarity */
    int dec_depth;             /* 2 */
    int dec_heads;             /* 8 */
    int dec_mlp_dim;           /* 2048 */
    int dec_attn_downsample;   /* 2 */
    int iou_head_depth;        /* 3 */
    int iou_head_hidden;       /* 256 */
    int num_multimask_outputs; /* 3 */
    int mask_in_chans;         /* 16 */

    /* EdgeTAM (facebookresearch/EdgeTAM, configs/edgetam.yaml): a RepViT trunk, a Perceiver
     * memory compressor, RoPEAttentionv2 cross-attention with its own key grid, and the batched
     * video predictor of SAM 2 before 2024-12. All off for SAM 2 / 2.1. */
    sam2_trunk_kind trunk;
    sam2_repvit_config repvit;       /* trunk == SAM2_TRUNK_REPVIT */
    sam2_perceiver_config perceiver; /* spatial_perceiver */
    int rope_q_sizes[2];             /* RoPEAttentionv2 q_sizes (w, h) */
    int rope_k_sizes[2];             /* RoPEAttentionv2 k_sizes; 0: RoPEAttention in both */
    bool batched_predictor;          /* the predictor's rules: see predict/tracker_batched.c */
} sam2_config;

/* Whether the configuration compresses memories with a Perceiver (EdgeTAM). */
static inline bool sam2_config_has_perceiver(const sam2_config *c) {
    return c->perceiver.num_latents + c->perceiver.num_latents_2d > 0;
}
/* Memory tokens one memory frame contributes: the Perceiver's latents, else E*E. */
static inline int sam2_config_mem_tokens(const sam2_config *c) {
    if (sam2_config_has_perceiver(c)) return c->perceiver.num_latents + c->perceiver.num_latents_2d;
    const int e = c->image_size / c->backbone_stride;
    return e * e;
}

/* Derived per-block facts of the Hiera trunk. */
typedef struct sam2_hiera_block_info {
    int dim, dim_out, heads;
    int window;  /* window size applied to the block's input (0 = global attention) */
    bool q_pool; /* pools queries (and the shortcut) by q_stride: first block of a stage > 0 */
    int stage;   /* stage index of the block's output */
} sam2_hiera_block_info;

/* Defaults of the official constructors (no YAML values applied), plus the build_sam overrides
 * for inference (dynamic multimask via stability, fill_hole_area 8, binarize for mem enc). */
void sam2_config_defaults(sam2_config *cfg);

/* The eight official presets by name: "sam2.1_hiera_t", "sam2.1_hiera_s", "sam2.1_hiera_b+",
 * "sam2.1_hiera_l", "sam2_hiera_t", ... Also accepts the YAML file names (with or without
 * directories and ".yaml"). Returns 0 on success, -1 for an unknown name. */
int sam2_config_preset(sam2_config *cfg, const char *name);
/* Number of presets and the i-th preset's name (for listing and detection). */
int sam2_config_preset_count(void);
const char *sam2_config_preset_name(int i);

/* Checks internal consistency (positive sizes, divisibility, block counts); on failure writes a
 * message naming the field into msg and returns -1. */
int sam2_config_validate(const sam2_config *cfg, char *msg, int msg_size);

/* EdgeTAM (config_edgetam.c): the built-in "edgetam" preset (configs/edgetam.yaml), timm's
 * RepViT variants by model name ("repvit_m1.dist_in1k" or "repvit_m1"; 0, or -1 when unknown),
 * and the checks sam2_config_validate runs for a RepViT trunk / a Perceiver / RoPE v2. */
void sam2_config_edgetam(sam2_config *cfg);
int sam2_config_repvit_variant(sam2_repvit_config *out, const char *timm_name);
int sam2_config_validate_edgetam(const sam2_config *cfg, char *msg, int msg_size);

/* Fills info[total_blocks] for the trunk; returns the number of blocks (0 for RepViT). */
int sam2_config_hiera_blocks(const sam2_config *cfg, sam2_hiera_block_info *info);
int sam2_config_total_blocks(const sam2_config *cfg);

#endif
