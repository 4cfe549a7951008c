#include "support/config_compare.h"

#include <stdio.h>
#include <string.h>

/* Every field of sam2_config (model/config.h), in declaration order. */
#define CONFIG_FIELDS                                                                              \
    X(int, image_size)                                                                             \
    X(int, backbone_stride)                                                                        \
    X(int, embed_dim)                                                                              \
    X(int, num_heads)                                                                              \
    X(int, num_stages)                                                                             \
    X_ARR(int, stages, SAM2_MAX_STAGES)                                                            \
    X_ARR(int, window_spec, SAM2_MAX_STAGES)                                                       \
    X(int, num_global_blocks)                                                                      \
    X_ARR(int, global_att_blocks, SAM2_MAX_GLOBAL_BLOCKS)                                          \
    X_ARR(int, bkg_pos_embed, 2)                                                                   \
    X(int, q_pool)                                                                                 \
    X(int, q_stride)                                                                               \
    X(float, dim_mul)                                                                              \
    X(float, head_mul)                                                                             \
    X(float, mlp_ratio)                                                                            \
    X(int, scalp)                                                                                  \
    X(int, d_model)                                                                                \
    X_ARR(int, backbone_channels, SAM2_MAX_STAGES)                                                 \
    X(int, num_top_down)                                                                           \
    X_ARR(int, fpn_top_down_levels, SAM2_MAX_STAGES)                                               \
    X(bool, fpn_interp_nearest)                                                                    \
    X(bool, fpn_fuse_avg)                                                                          \
    X(int, neck_pos_feats)                                                                         \
    X(float, neck_pos_temperature)                                                                 \
    X(int, mem_attn_layers)                                                                        \
    X(int, mem_attn_ffn)                                                                           \
    X(int, mem_attn_heads)                                                                         \
    X(bool, mem_attn_relu)                                                                         \
    X(bool, mem_attn_pos_enc_at_input)                                                             \
    X(bool, mem_attn_pos_enc_at_attn)                                                              \
    X(bool, mem_attn_pos_enc_at_cross_keys)                                                        \
    X(bool, mem_attn_pos_enc_at_cross_queries)                                                     \
    X(float, rope_theta)                                                                           \
    X_ARR(int, rope_feat_sizes, 2)                                                                 \
    X(bool, rope_k_repeat)                                                                         \
    X(int, sa_downsample)                                                                          \
    X(int, ca_downsample)                                                                          \
    X(int, mem_dim)                                                                                \
    X(int, mem_in_dim)                                                                             \
    X(int, mem_pos_feats)                                                                          \
    X(int, mask_ds_embed_dim)                                                                      \
    X(int, mask_ds_kernel)                                                                         \
    X(int, mask_ds_stride)                                                                         \
    X(int, mask_ds_padding)                                                                        \
    X(int, mask_ds_total_stride)                                                                   \
    X(int, fuser_layers)                                                                           \
    X(int, fuser_dim)                                                                              \
    X(int, fuser_kernel)                                                                           \
    X(int, fuser_padding)                                                                          \
    X(bool, fuser_dwconv)                                                                          \
    X(bool, fuser_input_projection)                                                                \
    X(float, fuser_layer_scale_init)                                                               \
    X(int, num_maskmem)                                                                            \
    X(float, sigmoid_scale_for_mem_enc)                                                            \
    X(float, sigmoid_bias_for_mem_enc)                                                             \
    X(bool, binarize_mask_from_pts_for_mem_enc)                                                    \
    X(bool, use_mask_input_as_output_without_sam)                                                  \
    X(int, max_cond_frames_in_attn)                                                                \
    X(bool, directly_add_no_mem_embed)                                                             \
    X(bool, use_high_res_features_in_sam)                                                          \
    X(bool, multimask_output_in_sam)                                                               \
    X(int, multimask_min_pt_num)                                                                   \
    X(int, multimask_max_pt_num)                                                                   \
    X(bool, multimask_output_for_tracking)                                                         \
    X(bool, use_multimask_token_for_obj_ptr)                                                       \
    X(bool, iou_prediction_use_sigmoid)                                                            \
    X(int, memory_temporal_stride_for_eval)                                                        \
    X(bool, non_overlap_masks_for_mem_enc)                                                         \
    X(bool, use_obj_ptrs_in_encoder)                                                               \
    X(int, max_obj_ptrs_in_encoder)                                                                \
    X(bool, add_tpos_enc_to_obj_ptrs)                                                              \
    X(bool, proj_tpos_enc_in_obj_ptrs)                                                             \
    X(bool, use_signed_tpos_enc_to_obj_ptrs)                                                       \
    X(bool, only_obj_ptrs_in_the_past_for_eval)                                                    \
    X(bool, pred_obj_scores)                                                                       \
    X(bool, pred_obj_scores_mlp)                                                                   \
    X(bool, fixed_no_obj_ptr)                                                                      \
    X(bool, soft_no_obj_ptr)                                                                       \
    X(bool, use_mlp_for_obj_ptr_proj)                                                              \
    X(bool, no_obj_embed_spatial)                                                                  \
    X(bool, dynamic_multimask_via_stability)                                                       \
    X(float, dynamic_multimask_stability_delta)                                                    \
    X(float, dynamic_multimask_stability_thresh)                                                   \
    X(int, fill_hole_area)                                                                         \
    X(bool, non_overlap_masks)                                                                     \
    X(bool, clear_non_cond_mem_around_input)                                                       \
    X(bool, add_all_frames_to_correct_as_cond)                                                     \
    X(int, dec_depth)                                                                              \
    X(int, dec_heads)                                                                              \
    X(int, dec_mlp_dim)                                                                            \
    X(int, dec_attn_downsample)                                                                    \
    X(int, iou_head_depth)                                                                         \
    X(int, iou_head_hidden)                                                                        \
    X(int, num_multimask_outputs)                                                                  \
    X(int, mask_in_chans)                                                                          \
    X(int, trunk)                                                                                  \
    X_ARR(int, repvit.dims, SAM2_MAX_STAGES)                                                       \
    X_ARR(int, repvit.depths, SAM2_MAX_STAGES)                                                     \
    X(bool, repvit.legacy)                                                                         \
    X(int, perceiver.depth)                                                                        \
    X(int, perceiver.dim)                                                                          \
    X(int, perceiver.dim_head)                                                                     \
    X(int, perceiver.heads)                                                                        \
    X(int, perceiver.ff_mult)                                                                      \
    X(int, perceiver.num_latents)                                                                  \
    X(int, perceiver.num_latents_2d)                                                               \
    X(bool, perceiver.use_self_attn)                                                               \
    X(bool, perceiver.pos_enc_at_key_value)                                                        \
    X(int, perceiver.pos_feats)                                                                    \
    X_ARR(int, rope_q_sizes, 2)                                                                    \
    X_ARR(int, rope_k_sizes, 2)                                                                    \
    X(bool, batched_predictor)

static void note(char *msg, size_t size, const char *field, int index, double a, double b) {
    size_t used = strlen(msg);
    if (used + 80 >= size) return;
    if (index >= 0)
        snprintf(msg + used, size - used, "%s[%d]: %g vs %g; ", field, index, a, b);
    else
        snprintf(msg + used, size - used, "%s: %g vs %g; ", field, a, b);
}

int config_diff(const sam2_config *a, const sam2_config *b, char *msg, size_t msg_size) {
    int diffs = 0;
    msg[0] = 0;
#define X(type, f)                                                                                 \
    if (a->f != b->f) {                                                                            \
        note(msg, msg_size, #f, -1, (double)a->f, (double)b->f);                                   \
        diffs++;                                                                                   \
    }
#define X_ARR(type, f, n)                                                                          \
    for (int i = 0; i < (n); i++)                                                                  \
        if (a->f[i] != b->f[i]) {                                                                  \
            note(msg, msg_size, #f, i, (double)a->f[i], (double)b->f[i]);                          \
            diffs++;                                                                               \
        }
    CONFIG_FIELDS
    if (strcmp(a->repvit.variant, b->repvit.variant)) {
        size_t used = strlen(msg);
        if (used + 80 < msg_size)
            snprintf(msg + used, msg_size - used, "repvit.variant: %s vs %s; ", a->repvit.variant,
                     b->repvit.variant);
        diffs++;
    }
#undef X
#undef X_ARR
    return diffs;
}
