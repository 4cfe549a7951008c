#include "io/yaml_schema.h"

/* One table per official class, listing every parameter of its constructor (from the official
 * sources' signatures): the ones that shape the model go to the config; those that cannot change
 * inference (dropout, drop path, caches) are type-checked and ignored; those whose other values
 * the config cannot express accept only the value sam2c implements. */

// clang-format off
#define N(a) ((int)(sizeof a / sizeof a[0]))
#define TARGET {.key = "_target_", .kind = F_TARGET}
#define INT(k, dst) {.key = k, .kind = F_INT, .off = dst}
#define INT_OR_NULL(k, dst) {.key = k, .kind = F_INT_OR_NULL, .off = dst}
#define FLT(k, dst) {.key = k, .kind = F_FLOAT, .off = dst}
#define BOOL(k, dst) {.key = k, .kind = F_BOOL, .off = dst}
#define LIST(k, dst, count, lo, hi) \
    {.key = k, .kind = F_INT_LIST, .off = dst, .off2 = count, .min_len = lo, .max_len = hi}
#define SWITCH(k, dst, when_true, when_false) \
    {.key = k, .kind = F_SWITCH, .off = dst, .on = when_true, .off_str = when_false}
#define CHILD(k, cls) {.key = k, .kind = F_CHILD, .child = &cls}
#define ONLY_INT(k, v) {.key = k, .kind = F_MUST_INT, .fixed = v}
#define ONLY_BOOL(k, v) {.key = k, .kind = F_MUST_BOOL, .fixed = v}
#define ONLY_NULL(k) {.key = k, .kind = F_MUST_NULL}
#define IGNORED(k, kd) {.key = k, .kind = kd}
#define VIDEO(k, kd, dst) {.key = k, .kind = kd, .off = dst, .video_only = true}

static const field PE_NECK[] = {
    TARGET,
    {.key = "num_pos_feats", .kind = F_INT, .off = C(neck_pos_feats), .required = true},
    FLT("temperature", C(neck_pos_temperature)),
    ONLY_BOOL("normalize", 1),
    ONLY_NULL("scale"),
    IGNORED("warmup_cache", F_IGNORE_BOOL),
    IGNORED("image_size", F_IGNORE_INT),
    IGNORED("strides", F_IGNORE_INT_LIST),
};
static const field PE_MEM[] = {
    TARGET,
    {.key = "num_pos_feats", .kind = F_INT, .off = C(mem_pos_feats), .required = true},
    FLT("temperature", S(mem_pe_temperature)),
    ONLY_BOOL("normalize", 1),
    ONLY_NULL("scale"),
    IGNORED("warmup_cache", F_IGNORE_BOOL),
    IGNORED("image_size", F_IGNORE_INT),
    IGNORED("strides", F_IGNORE_INT_LIST),
};
#define PE_TARGET "sam2.modeling.position_encoding.PositionEmbeddingSine"
static const klass K_PE_NECK = {PE_TARGET, {0}, PE_NECK, N(PE_NECK), 0};
static const klass K_PE_MEM = {PE_TARGET, {0}, PE_MEM, N(PE_MEM), 0};

static const field HIERA[] = {
    TARGET,
    INT("embed_dim", C(embed_dim)),
    INT("num_heads", C(num_heads)),
    IGNORED("drop_path_rate", F_IGNORE_NUMBER),
    INT("q_pool", C(q_pool)),
    LIST("q_stride", S(q_stride), S(q_stride_count), 2, 2),
    LIST("stages", C(stages), S(stage_count), 1, SAM2_MAX_STAGES),
    FLT("dim_mul", C(dim_mul)),
    FLT("head_mul", C(head_mul)),
    LIST("window_pos_embed_bkg_spatial_size", C(bkg_pos_embed), S(bkg_count), 2, 2),
    LIST("window_spec", C(window_spec), S(window_count), 1, SAM2_MAX_STAGES),
    LIST("global_att_blocks", C(global_att_blocks), C(num_global_blocks), 0, SAM2_MAX_GLOBAL_BLOCKS),
    ONLY_NULL("weights_path"),
    ONLY_BOOL("return_interm_layers", 1),
};
static const klass K_HIERA = {"sam2.modeling.backbones.hieradet.Hiera", {0}, HIERA, N(HIERA),
                              S(trunk_line)};

/* EdgeTAM's trunk: TimmBackbone(name, features) around timm's RepVit. */
static const field TIMM[] = {
    TARGET,
    {.key = "name", .kind = F_STRING, .off = S(timm_name), .max_len = 64, .required = true},
    {.key = "features", .kind = F_LAYER_LIST, .off = S(timm_features),
     .off2 = S(timm_feature_count), .min_len = 1, .max_len = 8, .required = true},
};
static const klass K_TIMM = {"sam2.modeling.backbones.timm.TimmBackbone", {0}, TIMM, N(TIMM),
                             S(timm_line)};

static const field FPN[] = {
    TARGET,
    {.key = "position_encoding", .kind = F_CHILD, .child = &K_PE_NECK, .required = true},
    {.key = "d_model", .kind = F_INT, .off = C(d_model), .required = true},
    {.key = "backbone_channel_list", .kind = F_INT_LIST, .off = C(backbone_channels),
     .off2 = S(channel_count), .min_len = 1, .max_len = SAM2_MAX_STAGES, .required = true},
    ONLY_INT("kernel_size", 1),
    ONLY_INT("stride", 1),
    ONLY_INT("padding", 0),
    SWITCH("fpn_interp_model", C(fpn_interp_nearest), "nearest", "bilinear"),
    SWITCH("fuse_type", C(fpn_fuse_avg), "avg", "sum"),
    {.key = "fpn_top_down_levels", .kind = F_INT_LIST_OR_NULL, .off = C(fpn_top_down_levels),
     .off2 = S(top_down_count), .min_len = 0, .max_len = SAM2_MAX_STAGES},
};
static const klass K_FPN = {"sam2.modeling.backbones.image_encoder.FpnNeck", {0}, FPN, N(FPN),
                            S(neck_line)};

static const field IMAGE_ENCODER[] = {
    TARGET,
    {.key = "trunk", .kind = F_CHILD, .child = &K_HIERA, .child_alt = &K_TIMM, .required = true},
    {.key = "neck", .kind = F_CHILD, .child = &K_FPN, .required = true},
    INT("scalp", C(scalp)),
};
static const klass K_IMAGE_ENCODER = {"sam2.modeling.backbones.image_encoder.ImageEncoder", {0},
                                      IMAGE_ENCODER, N(IMAGE_ENCODER), 0};

/* RoPEAttention(Attention): both attentions of a memory-attention layer. */
#define ATTENTION_FIELDS(a)                                                                        \
    TARGET,                                                                                        \
    FLT("rope_theta", S(a.rope_theta)),                                                            \
    BOOL("rope_k_repeat", S(a.rope_k_repeat)),                                                     \
    LIST("feat_sizes", S(a.feat_sizes), S(a.feat_count), 2, 2),                                    \
    {.key = "embedding_dim", .kind = F_INT, .off = S(a.embedding_dim), .required = true},          \
    {.key = "num_heads", .kind = F_INT, .off = S(a.num_heads), .required = true},                  \
    INT("downsample_rate", S(a.downsample_rate)),                                                  \
    IGNORED("dropout", F_IGNORE_NUMBER),                                                           \
    INT_OR_NULL("kv_in_dim", S(a.kv_in_dim))
#define ROPE_TARGET "sam2.modeling.sam.transformer.RoPEAttention"
static const field SELF_ATTN[] = {ATTENTION_FIELDS(self_attn)};
static const field CROSS_ATTN[] = {ATTENTION_FIELDS(cross_attn)};
static const klass K_SELF_ATTN = {ROPE_TARGET, {0}, SELF_ATTN, N(SELF_ATTN), S(self_attn.line)};
static const klass K_CROSS_ATTN = {ROPE_TARGET, {0}, CROSS_ATTN, N(CROSS_ATTN), S(cross_attn.line)};

/* EdgeTAM's RoPEAttentionv2: queries and keys on grids of their own (q_sizes, k_sizes). */
static const field CROSS_ATTN_V2[] = {
    TARGET,
    FLT("rope_theta", S(cross_attn.rope_theta)),
    LIST("q_sizes", C(rope_q_sizes), S(q_sizes_count), 2, 2),
    LIST("k_sizes", C(rope_k_sizes), S(k_sizes_count), 2, 2),
    {.key = "embedding_dim", .kind = F_INT, .off = S(cross_attn.embedding_dim), .required = true},
    {.key = "num_heads", .kind = F_INT, .off = S(cross_attn.num_heads), .required = true},
    INT("downsample_rate", S(cross_attn.downsample_rate)),
    IGNORED("dropout", F_IGNORE_NUMBER),
    INT_OR_NULL("kv_in_dim", S(cross_attn.kv_in_dim)),
};
static const klass K_CROSS_ATTN_V2 = {"sam2.modeling.sam.transformer.RoPEAttentionv2", {0},
                                      CROSS_ATTN_V2, N(CROSS_ATTN_V2), S(rope_v2_line)};

static const field MEM_ATTN_LAYER[] = {
    TARGET,
    {.key = "activation", .kind = F_SWITCH, .off = C(mem_attn_relu), .on = "relu",
     .off_str = "gelu", .required = true},
    {.key = "cross_attention", .kind = F_CHILD, .child = &K_CROSS_ATTN,
     .child_alt = &K_CROSS_ATTN_V2, .required = true},
    {.key = "d_model", .kind = F_INT, .off = S(layer_d_model), .required = true},
    {.key = "dim_feedforward", .kind = F_INT, .off = C(mem_attn_ffn), .required = true},
    {.key = "dropout", .kind = F_IGNORE_NUMBER, .required = true},
    {.key = "pos_enc_at_attn", .kind = F_BOOL, .off = C(mem_attn_pos_enc_at_attn),
     .required = true},
    {.key = "pos_enc_at_cross_attn_keys", .kind = F_BOOL,
     .off = C(mem_attn_pos_enc_at_cross_keys), .required = true},
    {.key = "pos_enc_at_cross_attn_queries", .kind = F_BOOL,
     .off = C(mem_attn_pos_enc_at_cross_queries), .required = true},
    {.key = "self_attention", .kind = F_CHILD, .child = &K_SELF_ATTN, .required = true},
};
static const klass K_MEM_ATTN_LAYER = {"sam2.modeling.memory_attention.MemoryAttentionLayer", {0},
                                       MEM_ATTN_LAYER, N(MEM_ATTN_LAYER), S(layer_line)};

static const field MEM_ATTN[] = {
    TARGET,
    {.key = "d_model", .kind = F_INT, .off = S(mem_attn_d_model), .required = true},
    {.key = "pos_enc_at_input", .kind = F_BOOL, .off = C(mem_attn_pos_enc_at_input),
     .required = true},
    {.key = "layer", .kind = F_CHILD, .child = &K_MEM_ATTN_LAYER, .required = true},
    {.key = "num_layers", .kind = F_INT, .off = C(mem_attn_layers), .required = true},
    ONLY_BOOL("batch_first", 1),
};
static const klass K_MEM_ATTN = {"sam2.modeling.memory_attention.MemoryAttention", {0}, MEM_ATTN,
                                 N(MEM_ATTN), S(mem_attn_line)};

static const field MASK_DS[] = {
    TARGET,
    INT("embed_dim", C(mask_ds_embed_dim)),
    INT("kernel_size", C(mask_ds_kernel)),
    INT("stride", C(mask_ds_stride)),
    INT("padding", C(mask_ds_padding)),
    INT("total_stride", C(mask_ds_total_stride)),
};
static const klass K_MASK_DS = {"sam2.modeling.memory_encoder.MaskDownSampler", {0}, MASK_DS,
                                N(MASK_DS), 0};

static const field CXBLOCK[] = {
    TARGET,
    {.key = "dim", .kind = F_INT, .off = C(fuser_dim), .required = true},
    INT("kernel_size", C(fuser_kernel)),
    INT("padding", C(fuser_padding)),
    IGNORED("drop_path", F_IGNORE_NUMBER),
    FLT("layer_scale_init_value", C(fuser_layer_scale_init)),
    BOOL("use_dwconv", C(fuser_dwconv)),
};
static const klass K_CXBLOCK = {"sam2.modeling.memory_encoder.CXBlock", {0}, CXBLOCK, N(CXBLOCK),
                                0};

static const field FUSER[] = {
    TARGET,
    {.key = "layer", .kind = F_CHILD, .child = &K_CXBLOCK, .required = true},
    {.key = "num_layers", .kind = F_INT, .off = C(fuser_layers), .required = true},
    INT_OR_NULL("dim", S(fuser_dim)),
    BOOL("input_projection", C(fuser_input_projection)),
};
static const klass K_FUSER = {"sam2.modeling.memory_encoder.Fuser", {0}, FUSER, N(FUSER), 0};

static const field MEM_ENC[] = {
    TARGET,
    {.key = "out_dim", .kind = F_INT, .off = C(mem_dim), .required = true},
    {.key = "mask_downsampler", .kind = F_CHILD, .child = &K_MASK_DS, .required = true},
    {.key = "fuser", .kind = F_CHILD, .child = &K_FUSER, .required = true},
    {.key = "position_encoding", .kind = F_CHILD, .child = &K_PE_MEM, .required = true},
    INT("in_dim", C(mem_in_dim)),
};
static const klass K_MEM_ENC = {"sam2.modeling.memory_encoder.MemoryEncoder", {0}, MEM_ENC,
                                N(MEM_ENC), 0};

/* EdgeTAM's PerceiverResampler (modeling/perceiver.py). Its pos_enc_at_key_value has no effect
 * in the official forward_1d (the memory's encoding is always added when given), so any
 * boolean is accepted; concatenated latents are not implemented. */
static const field PE_PERCEIVER[] = {
    TARGET,
    {.key = "num_pos_feats", .kind = F_INT, .off = C(perceiver.pos_feats), .required = true},
    FLT("temperature", S(perceiver_pe_temperature)),
    ONLY_BOOL("normalize", 1),
    ONLY_NULL("scale"),
};
static const klass K_PE_PERCEIVER = {PE_TARGET, {0}, PE_PERCEIVER, N(PE_PERCEIVER),
                                     S(perceiver_pe_line)};

static const field PERCEIVER[] = {
    TARGET,
    {.key = "dim", .kind = F_INT, .off = C(perceiver.dim), .required = true},
    {.key = "depth", .kind = F_INT, .off = C(perceiver.depth), .required = true},
    INT("dim_head", C(perceiver.dim_head)),
    INT("heads", C(perceiver.heads)),
    INT("num_latents", C(perceiver.num_latents)),
    INT("num_latents_2d", C(perceiver.num_latents_2d)),
    INT("ff_mult", C(perceiver.ff_mult)),
    IGNORED("hidden_dropout_p", F_IGNORE_NUMBER),
    IGNORED("attention_dropout_p", F_IGNORE_NUMBER),
    BOOL("pos_enc_at_key_value", C(perceiver.pos_enc_at_key_value)),
    ONLY_BOOL("concat_kv_latents", 0),
    CHILD("position_encoding", K_PE_PERCEIVER),
    BOOL("use_self_attn", C(perceiver.use_self_attn)),
};
static const klass K_PERCEIVER = {"sam2.modeling.perceiver.PerceiverResampler", {0}, PERCEIVER,
                                  N(PERCEIVER), S(perceiver_line)};

/* A plain mapping (no _target_): keyword arguments passed on to the MaskDecoder. */
static const field DECODER_EXTRA[] = {
    BOOL("dynamic_multimask_via_stability", C(dynamic_multimask_via_stability)),
    FLT("dynamic_multimask_stability_delta", C(dynamic_multimask_stability_delta)),
    FLT("dynamic_multimask_stability_thresh", C(dynamic_multimask_stability_thresh)),
};
static const klass K_DECODER_EXTRA = {NULL, {0}, DECODER_EXTRA, N(DECODER_EXTRA), 0};

static const field MODEL[] = {
    TARGET,
    {.key = "image_encoder", .kind = F_CHILD, .child = &K_IMAGE_ENCODER, .required = true},
    {.key = "memory_attention", .kind = F_CHILD, .child = &K_MEM_ATTN, .required = true},
    {.key = "memory_encoder", .kind = F_CHILD, .child = &K_MEM_ENC, .required = true},
    INT("num_maskmem", C(num_maskmem)),
    INT("image_size", C(image_size)),
    INT("backbone_stride", C(backbone_stride)),
    FLT("sigmoid_scale_for_mem_enc", C(sigmoid_scale_for_mem_enc)),
    FLT("sigmoid_bias_for_mem_enc", C(sigmoid_bias_for_mem_enc)),
    BOOL("binarize_mask_from_pts_for_mem_enc", C(binarize_mask_from_pts_for_mem_enc)),
    BOOL("use_mask_input_as_output_without_sam", C(use_mask_input_as_output_without_sam)),
    INT("max_cond_frames_in_attn", C(max_cond_frames_in_attn)),
    BOOL("directly_add_no_mem_embed", C(directly_add_no_mem_embed)),
    BOOL("use_high_res_features_in_sam", C(use_high_res_features_in_sam)),
    BOOL("multimask_output_in_sam", C(multimask_output_in_sam)),
    INT("multimask_min_pt_num", C(multimask_min_pt_num)),
    INT("multimask_max_pt_num", C(multimask_max_pt_num)),
    BOOL("multimask_output_for_tracking", C(multimask_output_for_tracking)),
    BOOL("use_multimask_token_for_obj_ptr", C(use_multimask_token_for_obj_ptr)),
    BOOL("iou_prediction_use_sigmoid", C(iou_prediction_use_sigmoid)),
    INT("memory_temporal_stride_for_eval", C(memory_temporal_stride_for_eval)),
    BOOL("non_overlap_masks_for_mem_enc", C(non_overlap_masks_for_mem_enc)),
    BOOL("use_obj_ptrs_in_encoder", C(use_obj_ptrs_in_encoder)),
    INT("max_obj_ptrs_in_encoder", C(max_obj_ptrs_in_encoder)),
    BOOL("add_tpos_enc_to_obj_ptrs", C(add_tpos_enc_to_obj_ptrs)),
    BOOL("proj_tpos_enc_in_obj_ptrs", C(proj_tpos_enc_in_obj_ptrs)),
    BOOL("use_signed_tpos_enc_to_obj_ptrs", C(use_signed_tpos_enc_to_obj_ptrs)),
    BOOL("only_obj_ptrs_in_the_past_for_eval", C(only_obj_ptrs_in_the_past_for_eval)),
    BOOL("pred_obj_scores", C(pred_obj_scores)),
    BOOL("pred_obj_scores_mlp", C(pred_obj_scores_mlp)),
    BOOL("fixed_no_obj_ptr", C(fixed_no_obj_ptr)),
    BOOL("soft_no_obj_ptr", C(soft_no_obj_ptr)),
    BOOL("use_mlp_for_obj_ptr_proj", C(use_mlp_for_obj_ptr_proj)),
    BOOL("no_obj_embed_spatial", C(no_obj_embed_spatial)),
    CHILD("sam_mask_decoder_extra_args", K_DECODER_EXTRA),
    IGNORED("compile_image_encoder", F_IGNORE_BOOL),
    CHILD("spatial_perceiver", K_PERCEIVER),
    /* SAM2VideoPredictor's own parameters */
    VIDEO("fill_hole_area", F_INT, C(fill_hole_area)),
    VIDEO("non_overlap_masks", F_BOOL, C(non_overlap_masks)),
    VIDEO("clear_non_cond_mem_around_input", F_BOOL, C(clear_non_cond_mem_around_input)),
    VIDEO("add_all_frames_to_correct_as_cond", F_BOOL, C(add_all_frames_to_correct_as_cond)),
};
// clang-format on

const klass YAML_MODEL_CLASS = {"sam2.modeling.sam2_base.SAM2Base",
                                {"sam2.sam2_video_predictor.SAM2VideoPredictor",
                                 "sam2.sam2_video_predictor.SAM2VideoPredictorVOS"},
                                MODEL,
                                N(MODEL),
                                S(model_line)};
