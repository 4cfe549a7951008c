#include "model/config.h"

#include <stdio.h>
#include <string.h>

void sam2_config_defaults(sam2_config *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "custom");
    c->image_size = 512; /* SAM2Base default; every official YAML sets 1024 */
    c->backbone_stride = 16;

    /* Hiera constructor defaults */
    c->embed_dim = 96;
    c->num_heads = 1;
    c->num_stages = 4;
    const int stages[4] = {2, 3, 16, 3}, windows[4] = {8, 4, 14, 7}, glob[3] = {12, 16, 20};
    memcpy(c->stages, stages, sizeof stages);
    memcpy(c->window_spec, windows, sizeof windows);
    c->num_global_blocks = 3;
    memcpy(c->global_att_blocks, glob, sizeof glob);
    c->bkg_pos_embed[0] = c->bkg_pos_embed[1] = 14;
    c->q_pool = 3;
    c->q_stride = 2;
    c->dim_mul = 2.0f;
    c->head_mul = 2.0f;
    c->mlp_ratio = 4.0f;

    /* ImageEncoder / FpnNeck */
    c->scalp = 0;
    c->d_model = 256;
    const int channels[4] = {768, 384, 192, 96};
    memcpy(c->backbone_channels, channels, sizeof channels);
    c->num_top_down = 4; /* None -> every level */
    for (int i = 0; i < 4; i++) c->fpn_top_down_levels[i] = i;
    c->fpn_interp_nearest = false; /* FpnNeck default "bilinear" */
    c->fpn_fuse_avg = false;
    c->neck_pos_feats = 256;
    c->neck_pos_temperature = 10000.0f;

    /* MemoryAttention (values of every official YAML; the classes have no defaults) */
    c->mem_attn_layers = 4;
    c->mem_attn_ffn = 2048;
    c->mem_attn_heads = 1;
    c->mem_attn_relu = true;
    c->mem_attn_pos_enc_at_input = true;
    c->mem_attn_pos_enc_at_attn = false;
    c->mem_attn_pos_enc_at_cross_keys = true;
    c->mem_attn_pos_enc_at_cross_queries = false;
    c->rope_theta = 10000.0f;
    c->rope_feat_sizes[0] = c->rope_feat_sizes[1] = 64;
    c->rope_k_repeat = true;
    c->sa_downsample = c->ca_downsample = 1;

    /* MemoryEncoder */
    c->mem_dim = 64;
    c->mem_in_dim = 256;
    c->mem_pos_feats = 64;
    c->mask_ds_embed_dim = 256;
    c->mask_ds_kernel = 4; /* MaskDownSampler defaults; the YAMLs use 3 / 2 / 1 */
    c->mask_ds_stride = 4;
    c->mask_ds_padding = 0;
    c->mask_ds_total_stride = 16;
    c->fuser_layers = 2;
    c->fuser_dim = 256;
    c->fuser_kernel = 7;
    c->fuser_padding = 3;
    c->fuser_dwconv = true;
    c->fuser_input_projection = false;
    c->fuser_layer_scale_init = 1e-6f;

    /* SAM2Base constructor defaults */
    c->num_maskmem = 7;
    c->sigmoid_scale_for_mem_enc = 1.0f;
    c->sigmoid_bias_for_mem_enc = 0.0f;
    c->binarize_mask_from_pts_for_mem_enc = false;
    c->use_mask_input_as_output_without_sam = false;
    c->max_cond_frames_in_attn = -1;
    c->directly_add_no_mem_embed = false;
    c->use_high_res_features_in_sam = false;
    c->multimask_output_in_sam = false;
    c->multimask_min_pt_num = 1;
    c->multimask_max_pt_num = 1;
    c->multimask_output_for_tracking = false;
    c->use_multimask_token_for_obj_ptr = false;
    c->iou_prediction_use_sigmoid = false;
    c->memory_temporal_stride_for_eval = 1;
    c->non_overlap_masks_for_mem_enc = false;
    c->use_obj_ptrs_in_encoder = false;
    c->max_obj_ptrs_in_encoder = 16;
    c->add_tpos_enc_to_obj_ptrs = true;
    c->proj_tpos_enc_in_obj_ptrs = false;
    c->use_signed_tpos_enc_to_obj_ptrs = false;
    c->only_obj_ptrs_in_the_past_for_eval = false;
    c->pred_obj_scores = false;
    c->pred_obj_scores_mlp = false;
    c->fixed_no_obj_ptr = false;
    c->soft_no_obj_ptr = false;
    c->use_mlp_for_obj_ptr_proj = false;
    c->no_obj_embed_spatial = false;

    /* build_sam.py adds these for inference (build_sam2 and build_sam2_video_predictor) */
    c->dynamic_multimask_via_stability = true;
    c->dynamic_multimask_stability_delta = 0.05f;
    c->dynamic_multimask_stability_thresh = 0.98f;
    c->binarize_mask_from_pts_for_mem_enc = true;
    c->fill_hole_area = 8;
    c->non_overlap_masks = false;
    c->clear_non_cond_mem_around_input = false;
    c->add_all_frames_to_correct_as_cond = false;

    /* fixed in sam2_base.py _build_sam_heads */
    c->dec_depth = 2;
    c->dec_heads = 8;
    c->dec_mlp_dim = 2048;
    c->dec_attn_downsample = 2;
    c->iou_head_depth = 3;
    c->iou_head_hidden = 256;
    c->num_multimask_outputs = 3;
    c->mask_in_chans = 16;
}

/* The settings every official YAML shares (the sam2.1 and sam2 config folders). */
static void official_common(sam2_config *c) {
    c->image_size = 1024;
    c->scalp = 1;
    c->num_top_down = 2;
    c->fpn_top_down_levels[0] = 2;
    c->fpn_top_down_levels[1] = 3;
    c->fpn_interp_nearest = true;
    c->mask_ds_kernel = 3;
    c->mask_ds_stride = 2;
    c->mask_ds_padding = 1;
    c->sigmoid_scale_for_mem_enc = 20.0f;
    c->sigmoid_bias_for_mem_enc = -10.0f;
    c->use_mask_input_as_output_without_sam = true;
    c->directly_add_no_mem_embed = true;
    c->use_high_res_features_in_sam = true;
    c->multimask_output_in_sam = true;
    c->iou_prediction_use_sigmoid = true;
    c->use_obj_ptrs_in_encoder = true;
    c->add_tpos_enc_to_obj_ptrs = false; /* SAM 2.0; 2.1 turns it on */
    c->only_obj_ptrs_in_the_past_for_eval = true;
    c->pred_obj_scores = true;
    c->pred_obj_scores_mlp = true;
    c->fixed_no_obj_ptr = true;
    c->multimask_output_for_tracking = true;
    c->use_multimask_token_for_obj_ptr = true;
    c->multimask_min_pt_num = 0;
    c->multimask_max_pt_num = 1;
    c->use_mlp_for_obj_ptr_proj = true;
}

typedef struct preset {
    const char *name;
    bool v21;
    int embed_dim, num_heads;
    int stages[4];
    int global_blocks[3];
    int bkg[2];
    int windows[4];
} preset;

/* Trunk sizes of the four official models (hieradet.py defaults where the YAML is silent). */
static const preset PRESETS[] = {
    {"sam2.1_hiera_t", true, 96, 1, {1, 2, 7, 2}, {5, 7, 9}, {7, 7}, {8, 4, 14, 7}},
    {"sam2.1_hiera_s", true, 96, 1, {1, 2, 11, 2}, {7, 10, 13}, {7, 7}, {8, 4, 14, 7}},
    {"sam2.1_hiera_b+", true, 112, 2, {2, 3, 16, 3}, {12, 16, 20}, {14, 14}, {8, 4, 14, 7}},
    {"sam2.1_hiera_l", true, 144, 2, {2, 6, 36, 4}, {23, 33, 43}, {7, 7}, {8, 4, 16, 8}},
    {"sam2_hiera_t", false, 96, 1, {1, 2, 7, 2}, {5, 7, 9}, {7, 7}, {8, 4, 14, 7}},
    {"sam2_hiera_s", false, 96, 1, {1, 2, 11, 2}, {7, 10, 13}, {7, 7}, {8, 4, 14, 7}},
    {"sam2_hiera_b+", false, 112, 2, {2, 3, 16, 3}, {12, 16, 20}, {14, 14}, {8, 4, 14, 7}},
    {"sam2_hiera_l", false, 144, 2, {2, 6, 36, 4}, {23, 33, 43}, {7, 7}, {8, 4, 16, 8}},
};
#define NUM_PRESETS ((int)(sizeof PRESETS / sizeof PRESETS[0]))

/* The Hiera presets, then EdgeTAM's (config_edgetam.c). */
int sam2_config_preset_count(void) {
    return NUM_PRESETS + 1;
}
const char *sam2_config_preset_name(int i) {
    if (i == NUM_PRESETS) return "edgetam";
    return i >= 0 && i < NUM_PRESETS ? PRESETS[i].name : NULL;
}

/* "configs/sam2.1/sam2.1_hiera_t.yaml" -> "sam2.1_hiera_t"; also maps the checkpoint-style
 * names ("sam2.1_hiera_tiny", "base_plus") to the config names. */
static void canonical_name(const char *in, char *out, size_t size) {
    const char *base = strrchr(in, '/');
    base = base ? base + 1 : in;
    snprintf(out, size, "%s", base);
    size_t n = strlen(out);
    if (n > 5 && strcmp(out + n - 5, ".yaml") == 0) out[n - 5] = 0;
    n = strlen(out);
    if (n > 3 && strcmp(out + n - 3, ".pt") == 0) out[n - 3] = 0;
    static const char *long_names[][2] = {
        {"_tiny", "_t"}, {"_small", "_s"}, {"_base_plus", "_b+"}, {"_large", "_l"}};
    for (int i = 0; i < 4; i++) {
        size_t ln = strlen(long_names[i][0]), on = strlen(out);
        if (on > ln && strcmp(out + on - ln, long_names[i][0]) == 0) {
            out[on - ln] = 0;
            strncat(out, long_names[i][1], size - strlen(out) - 1);
            break;
        }
    }
}

int sam2_config_preset(sam2_config *c, const char *name) {
    char canon[128];
    canonical_name(name, canon, sizeof canon);
    if (strcmp(canon, "edgetam") == 0) {
        sam2_config_defaults(c);
        official_common(c);
        sam2_config_edgetam(c);
        return 0;
    }
    for (int i = 0; i < NUM_PRESETS; i++) {
        const preset *p = &PRESETS[i];
        if (strcmp(p->name, canon) != 0) continue;
        sam2_config_defaults(c);
        official_common(c);
        snprintf(c->name, sizeof c->name, "%s", p->name);
        c->embed_dim = p->embed_dim;
        c->num_heads = p->num_heads;
        memcpy(c->stages, p->stages, sizeof p->stages);
        c->num_global_blocks = 3;
        memcpy(c->global_att_blocks, p->global_blocks, sizeof p->global_blocks);
        c->bkg_pos_embed[0] = p->bkg[0];
        c->bkg_pos_embed[1] = p->bkg[1];
        memcpy(c->window_spec, p->windows, sizeof p->windows);
        for (int s = 0; s < 4; s++) c->backbone_channels[s] = p->embed_dim << (3 - s);
        if (p->v21) {
            c->no_obj_embed_spatial = true;
            c->add_tpos_enc_to_obj_ptrs = true;
            c->proj_tpos_enc_in_obj_ptrs = true;
            c->use_signed_tpos_enc_to_obj_ptrs = true;
        }
        return 0;
    }
    return -1;
}

int sam2_config_total_blocks(const sam2_config *c) {
    int n = 0;
    for (int i = 0; i < c->num_stages && i < SAM2_MAX_STAGES; i++) n += c->stages[i];
    return n;
}

int sam2_config_hiera_blocks(const sam2_config *c, sam2_hiera_block_info *info) {
    /* Mirrors Hiera.__init__: the window size is chosen before the stage counter advances, so
     * the first (q-pooling) block of a stage uses the previous stage's window. */
    if (c->trunk != SAM2_TRUNK_HIERA) return 0;
    int depth = sam2_config_total_blocks(c);
    if (depth > SAM2_MAX_BLOCKS) depth = SAM2_MAX_BLOCKS;
    int stage_ends[SAM2_MAX_STAGES];
    int acc = 0;
    for (int s = 0; s < c->num_stages; s++) {
        acc += c->stages[s];
        stage_ends[s] = acc - 1;
    }
    int dim = c->embed_dim, heads = c->num_heads, cur_stage = 1;
    for (int i = 0; i < depth; i++) {
        int dim_out = dim;
        int window = c->window_spec[cur_stage - 1];
        for (int g = 0; g < c->num_global_blocks; g++)
            if (c->global_att_blocks[g] == i) window = 0;
        bool stage_start = false;
        for (int s = 0; s < c->num_stages; s++)
            if (i - 1 == stage_ends[s]) stage_start = true;
        if (stage_start) {
            dim_out = (int)(dim * c->dim_mul);
            heads = (int)(heads * c->head_mul);
            cur_stage++;
        }
        bool q_pool = false;
        for (int s = 0; s < c->num_stages - 1 && s < c->q_pool; s++)
            if (i == stage_ends[s] + 1) q_pool = true;
        info[i].dim = dim;
        info[i].dim_out = dim_out;
        info[i].heads = heads;
        info[i].window = window;
        info[i].q_pool = q_pool;
        info[i].stage = cur_stage - 1;
        dim = dim_out;
    }
    return depth;
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            snprintf(msg, msg_size, __VA_ARGS__);                                                  \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

/* The Hiera trunk's own fields, and the neck's channels against its stages. */
static int validate_hiera(const sam2_config *c, char *msg, int msg_size) {
    CHECK(c->num_stages == 4, "trunk must have 4 stages (got %d)", c->num_stages);
    for (int s = 0; s < 4; s++) {
        CHECK(c->stages[s] >= 1 && c->stages[s] <= 48, "stages[%d] = %d out of range", s,
              c->stages[s]);
        CHECK(c->window_spec[s] >= 0 && c->window_spec[s] <= 64,
              "window_spec[%d] = %d out of range", s, c->window_spec[s]);
    }
    CHECK(sam2_config_total_blocks(c) <= SAM2_MAX_BLOCKS, "too many trunk blocks (%d > %d)",
          sam2_config_total_blocks(c), SAM2_MAX_BLOCKS);
    CHECK(c->q_stride == 2, "q_stride %d is not supported (only 2)", c->q_stride);
    CHECK(c->q_pool == 3, "q_pool %d is not supported (only 3)", c->q_pool);
    CHECK(c->embed_dim >= 1 && c->embed_dim <= 4096, "embed_dim %d out of range", c->embed_dim);
    CHECK(c->num_heads >= 1 && c->embed_dim % c->num_heads == 0,
          "num_heads %d must divide embed_dim %d", c->num_heads, c->embed_dim);
    CHECK(c->num_global_blocks >= 0 && c->num_global_blocks <= SAM2_MAX_GLOBAL_BLOCKS,
          "too many global_att_blocks");
    CHECK(c->bkg_pos_embed[0] >= 1 && c->bkg_pos_embed[1] >= 1 && c->bkg_pos_embed[0] <= 256 &&
              c->bkg_pos_embed[1] <= 256,
          "window_pos_embed_bkg_spatial_size out of range");
    sam2_hiera_block_info info[SAM2_MAX_BLOCKS];
    int nb = sam2_config_hiera_blocks(c, info);
    for (int i = 0; i < nb; i++)
        CHECK(info[i].dim_out % info[i].heads == 0, "block %d: heads %d do not divide dim %d", i,
              info[i].heads, info[i].dim_out);
    int feat = c->image_size / 4;
    CHECK(c->window_spec[0] >= 1 && feat % c->window_spec[0] == 0,
          "window_spec[0] = %d must divide the stride-4 feature size %d", c->window_spec[0], feat);
    for (int s = 0; s < 4; s++) {
        int expect = info[0].dim;
        for (int i = 0; i < nb; i++)
            if (info[i].stage == 3 - s) expect = info[i].dim_out;
        CHECK(c->backbone_channels[s] == expect,
              "backbone_channel_list[%d] = %d does not match the trunk's %d channels", s,
              c->backbone_channels[s], expect);
    }
    return 0;
}

int sam2_config_validate(const sam2_config *c, char *msg, int msg_size) {
    CHECK(c->image_size >= 32 && c->image_size <= 8192 && c->image_size % 32 == 0,
          "image_size %d must be a multiple of 32 in [32, 8192]", c->image_size);
    CHECK(c->backbone_stride == 16, "backbone_stride %d is not supported (only 16)",
          c->backbone_stride);
    if (c->trunk == SAM2_TRUNK_HIERA && validate_hiera(c, msg, msg_size)) return -1;
    if (sam2_config_validate_edgetam(c, msg, msg_size)) return -1;
    CHECK(c->d_model >= 8 && c->d_model % 8 == 0 && c->d_model <= 4096,
          "d_model %d must be a multiple of 8", c->d_model);
    CHECK(c->d_model % c->dec_heads == 0 &&
              (c->d_model / c->dec_attn_downsample) % c->dec_heads == 0,
          "d_model %d is not divisible by the decoder's %d heads", c->d_model, c->dec_heads);
    CHECK(c->scalp >= 0 && c->scalp < 4, "scalp %d out of range", c->scalp);
    CHECK(c->scalp == 1, "scalp %d is not supported (the SAM heads need 3 levels)", c->scalp);
    CHECK(c->neck_pos_feats == c->d_model, "neck num_pos_feats %d must equal d_model %d",
          c->neck_pos_feats, c->d_model);
    CHECK(c->mem_attn_layers >= 0 && c->mem_attn_layers <= 8, "memory attention layers %d > 8",
          c->mem_attn_layers);
    CHECK(c->mem_attn_heads >= 1 && c->d_model % c->mem_attn_heads == 0,
          "memory attention heads %d must divide d_model", c->mem_attn_heads);
    CHECK(c->mem_dim >= 1 && c->d_model % c->mem_dim == 0, "mem_dim %d must divide d_model %d",
          c->mem_dim, c->d_model);
    CHECK(c->mem_in_dim == c->d_model, "memory encoder in_dim %d must equal d_model %d",
          c->mem_in_dim, c->d_model);
    CHECK(c->mask_ds_stride >= 2 && c->mask_ds_total_stride >= c->mask_ds_stride,
          "mask downsampler stride out of range");
    CHECK(c->mask_ds_embed_dim == c->mem_in_dim,
          "mask downsampler embed_dim %d must equal in_dim %d", c->mask_ds_embed_dim,
          c->mem_in_dim);
    CHECK(c->fuser_layers >= 0 && c->fuser_layers <= 4, "fuser layers %d > 4", c->fuser_layers);
    CHECK(c->fuser_dim == c->mem_in_dim, "fuser dim %d must equal in_dim %d", c->fuser_dim,
          c->mem_in_dim);
    CHECK(c->num_maskmem >= 1 && c->num_maskmem <= 32, "num_maskmem %d out of range",
          c->num_maskmem);
    CHECK(c->mem_pos_feats == c->mem_dim, "memory encoder num_pos_feats %d must equal out_dim %d",
          c->mem_pos_feats, c->mem_dim);
    return 0;
}
