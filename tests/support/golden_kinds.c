/* The tolerance table of ../shared/golden/README.md ("Tolerances" and "Decisions"), keyed by the
 * tensor names the golden index files use. Every distinct name in micro_golden and tiny_golden
 * maps to a row (after golden_base_name strips the video step/frame/call/object tags); '#' in a
 * pattern stands for a run of digits, so other depths (FPN levels, stages) map the same way.
 * A name without a row gets "unknown", which the parity tool counts as a failure. */
#include "support/golden.h"

#include <string.h>

enum {
    K_PROMPT_COORDS,
    K_PROMPT_LABELS,
    K_INPUT_U8,
    K_PREPROCESSED,
    K_TRUNK,
    K_FPN,
    K_POS_ENC,
    K_PROMPT_EMB,
    K_MASK_TOKENS,
    K_LOWRES_IMAGE,
    K_IOU,
    K_OBJ_SCORE,
    K_LOGITS_IMAGE,
    K_MASKS_IMAGE,
    K_LOWRES_VIDEO,
    K_LOGITS_VIDEO,
    K_MASKS_VIDEO,
    K_OBJ_PTR,
    K_MEMATTN_IN,
    K_MEMATTN_OUT,
    K_MEMENC_F32,
    K_MEM_BF16,
    K_COUNT
};

static const golden_kind kinds[K_COUNT] = {
    [K_PROMPT_COORDS] = {"prompt coordinates", GOLDEN_RULE_TOL, 5e-7, 0},
    [K_PROMPT_LABELS] = {"prompt labels", GOLDEN_RULE_EXACT, 0, 0},
    [K_INPUT_U8] = {"input images uint8", GOLDEN_RULE_EXACT, 0, 0},
    [K_PREPROCESSED] = {"preprocessed image/frames", GOLDEN_RULE_TOL, 1e-5, 0},
    [K_TRUNK] = {"Hiera trunk stages", GOLDEN_RULE_TOL, 2e-5, 0},
    [K_FPN] = {"FPN/backbone/image embedding/high-res", GOLDEN_RULE_TOL, 2e-5, 0},
    [K_POS_ENC] = {"position encodings", GOLDEN_RULE_TOL, 2e-5, 0},
    [K_PROMPT_EMB] = {"prompt embeddings", GOLDEN_RULE_TOL, 2e-4, 0},
    [K_MASK_TOKENS] = {"decoder mask-token outputs", GOLDEN_RULE_TOL, 1e-5, 0},
    [K_LOWRES_IMAGE] = {"low-res mask logits, image", GOLDEN_RULE_TOL, 5e-5, 0},
    [K_IOU] = {"IoU predictions", GOLDEN_RULE_TOL, 5e-6, 0},
    [K_OBJ_SCORE] = {"object score logits", GOLDEN_RULE_TOL, 2e-5, 0},
    [K_LOGITS_IMAGE] = {"mask logits, image resolution", GOLDEN_RULE_TOL, 2e-4, 0},
    [K_MASKS_IMAGE] = {"binary masks, image", GOLDEN_RULE_MASK, 1e-3, 0},
    [K_LOWRES_VIDEO] = {"low-res mask logits, video", GOLDEN_RULE_TOL, 1e-4, 1},
    [K_LOGITS_VIDEO] = {"video-resolution mask logits", GOLDEN_RULE_TOL, 1e-4, 0},
    [K_MASKS_VIDEO] = {"binary masks, video", GOLDEN_RULE_MASK, 1e-3, 0},
    [K_OBJ_PTR] = {"object pointers", GOLDEN_RULE_TOL, 2e-6, 0},
    [K_MEMATTN_IN] = {"memory-attention inputs", GOLDEN_RULE_TOL, 2e-5, 0},
    [K_MEMATTN_OUT] = {"memory-attention output", GOLDEN_RULE_TOL, 1e-5, 0},
    [K_MEMENC_F32] = {"memory-encoder output f32", GOLDEN_RULE_TOL, 1e-4, 0},
    [K_MEM_BF16] = {"memory features bf16/memattn_memory", GOLDEN_RULE_BF16, 1e-1, 0},
};

static const golden_kind unknown = {"unknown", GOLDEN_RULE_UNKNOWN, 0, 0};

typedef struct pattern {
    const char *pattern;
    int kind;
} pattern;

static const pattern image_names[] = {
    {"image_rgb_u8", K_INPUT_U8},
    {"input_image", K_PREPROCESSED},
    {"trunk_stage#", K_TRUNK},
    {"neck_fpn_raw_l#", K_FPN},
    {"backbone_fpn_l#", K_FPN},
    {"vision_features", K_FPN},
    {"image_embed", K_FPN},
    {"high_res_feats_#", K_FPN},
    {"vision_pos_enc_l#", K_POS_ENC},
    {"image_pe", K_POS_ENC},
    {"prompt_encoder_points", K_PROMPT_COORDS},
    {"prompt_encoder_labels", K_PROMPT_LABELS},
    {"sparse_embeddings", K_PROMPT_EMB},
    {"dense_embeddings", K_PROMPT_EMB},
    {"decoder_mask_tokens_out", K_MASK_TOKENS},
    {"decoder_all_mask_logits", K_LOWRES_IMAGE},
    {"decoder_out_masks", K_LOWRES_IMAGE},
    {"low_res_masks", K_LOWRES_IMAGE},
    {"mask_input", K_LOWRES_IMAGE},
    {"decoder_all_iou", K_IOU},
    {"iou_predictions", K_IOU},
    {"decoder_object_score_logits", K_OBJ_SCORE},
    {"masks_logits", K_LOGITS_IMAGE},
    {"masks", K_MASKS_IMAGE},
};

static const pattern video_names[] = {
    {"frames_orig_u8", K_INPUT_U8},
    {"frames_resized_u8", K_INPUT_U8},
    {"preprocessed", K_PREPROCESSED},
    {"preprocessed_frame#", K_PREPROCESSED},
    {"point_coords", K_PROMPT_COORDS},
    {"pred_masks", K_LOWRES_VIDEO},
    {"pred_masks_before_fill", K_LOWRES_VIDEO},
    {"prev_sam_mask_logits", K_LOWRES_VIDEO},
    {"video_res_logits", K_LOGITS_VIDEO},
    {"mask_rle", K_MASKS_VIDEO},
    {"obj_ptr", K_OBJ_PTR},
    {"object_score_logits", K_OBJ_SCORE},
    {"memattn_curr", K_MEMATTN_IN},
    {"memattn_curr_pos", K_MEMATTN_IN},
    {"memattn_memory_pos", K_MEMATTN_IN},
    {"memattn_out", K_MEMATTN_OUT},
    {"maskmem_features_f32", K_MEMENC_F32},
    {"preflight_maskmem_f32_#", K_MEMENC_F32},
    {"maskmem_features_bf16bits", K_MEM_BF16},
    {"memattn_memory", K_MEM_BF16},
    {"maskmem_pos_enc", K_POS_ENC},
};

/* Literal match where '#' matches one or more digits. */
static int matches(const char *pat, const char *s) {
    for (;;) {
        if (*pat == '#') {
            if (*s < '0' || *s > '9') return 0;
            while (*s >= '0' && *s <= '9') s++;
            pat++;
        } else if (*pat != *s) {
            return 0;
        } else if (!*pat) {
            return 1;
        } else {
            pat++, s++;
        }
    }
}

static const golden_kind *lookup(const pattern *p, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (matches(p[i].pattern, name)) return &kinds[p[i].kind];
    return NULL;
}

const golden_kind *golden_kind_of(const char *name, golden_domain domain) {
    if (!name) return &unknown;
    char base[256];
    golden_base_name(name, base, sizeof base);
    const pattern *p = domain == GOLDEN_DOMAIN_VIDEO ? video_names : image_names;
    int n = domain == GOLDEN_DOMAIN_VIDEO ? (int)(sizeof video_names / sizeof *video_names)
                                          : (int)(sizeof image_names / sizeof *image_names);
    const golden_kind *k = lookup(p, n, name);
    if (!k) k = lookup(p, n, base);
    return k ? k : &unknown;
}

/* ---- EdgeTAM (README "Tolerances (EdgeTAM)"): its own rows, and names for the RepViT and
 * Perceiver tensors. Encodings from binarised masks (all preflight ones) take the
 * binarisation exception (*). */
enum {
    E_PROMPT_COORDS,
    E_PROMPT_LABELS,
    E_INPUT_U8,
    E_PREPROCESSED,
    E_TRUNK_INTERNAL,
    E_TRUNK,
    E_FPN,
    E_POS_ENC,
    E_PROMPT_EMB,
    E_MASK_TOKENS,
    E_IOU,
    E_LOWRES_IMAGE,
    E_OBJ_SCORE,
    E_LOGITS_IMAGE,
    E_MASKS_IMAGE,
    E_LOWRES_VIDEO,
    E_LOGITS_VIDEO,
    E_MASKS_VIDEO,
    E_OBJ_PTR,
    E_MEMATTN_IN,
    E_MEMATTN_OUT,
    E_MEMENC,
    E_MEMENC_BIN,
    E_PERCEIVER,
    E_PERCEIVER_BIN,
    E_MEM_BF16,
    E_COUNT
};

static const golden_kind edgetam_kinds[E_COUNT] = {
    [E_PROMPT_COORDS] = {"prompt coordinates", GOLDEN_RULE_TOL, 5e-7, 0},
    [E_PROMPT_LABELS] = {"prompt labels", GOLDEN_RULE_EXACT, 0, 0},
    [E_INPUT_U8] = {"input images uint8", GOLDEN_RULE_EXACT, 0, 0},
    [E_PREPROCESSED] = {"preprocessed image/frames", GOLDEN_RULE_TOL, 1e-5, 0},
    [E_TRUNK_INTERNAL] = {"RepViT stem/block/downsample", GOLDEN_RULE_TOL, 2e-5, 0},
    [E_TRUNK] = {"RepViT stages", GOLDEN_RULE_TOL, 2e-5, 0},
    [E_FPN] = {"FPN/backbone/image embedding/high-res", GOLDEN_RULE_TOL, 2e-5, 0},
    [E_POS_ENC] = {"position encodings", GOLDEN_RULE_TOL, 2e-5, 0},
    [E_PROMPT_EMB] = {"prompt embeddings", GOLDEN_RULE_TOL, 5e-4, 0},
    [E_MASK_TOKENS] = {"decoder mask-token outputs", GOLDEN_RULE_TOL, 1e-5, 0},
    [E_IOU] = {"IoU predictions", GOLDEN_RULE_TOL, 5e-6, 0},
    [E_LOWRES_IMAGE] = {"low-res mask logits, image", GOLDEN_RULE_TOL, 1e-4, 0},
    [E_OBJ_SCORE] = {"object score logits", GOLDEN_RULE_TOL, 5e-5, 0},
    [E_LOGITS_IMAGE] = {"mask logits, image resolution", GOLDEN_RULE_TOL, 2e-4, 0},
    [E_MASKS_IMAGE] = {"binary masks, image", GOLDEN_RULE_MASK, 1e-3, 0},
    [E_LOWRES_VIDEO] = {"low-res mask logits, video", GOLDEN_RULE_TOL, 1e-4, 1},
    [E_LOGITS_VIDEO] = {"video-resolution mask logits", GOLDEN_RULE_TOL, 1e-4, 0},
    [E_MASKS_VIDEO] = {"binary masks, video", GOLDEN_RULE_MASK, 1e-3, 0},
    [E_OBJ_PTR] = {"object pointers", GOLDEN_RULE_TOL, 5e-6, 0},
    [E_MEMATTN_IN] = {"memory-attention inputs", GOLDEN_RULE_TOL, 2e-5, 0},
    [E_MEMATTN_OUT] = {"memory-attention output", GOLDEN_RULE_TOL, 2e-5, 0},
    [E_MEMENC] = {"memory-encoder output (before the Perceiver)", GOLDEN_RULE_TOL, 5e-5, 0},
    [E_MEMENC_BIN] = {"memory-encoder output, binarised input", GOLDEN_RULE_TOL_BINARISED, 5e-5, 0},
    [E_PERCEIVER] = {"Perceiver latents/output", GOLDEN_RULE_TOL, 1e-5, 0},
    [E_PERCEIVER_BIN] = {"Perceiver latents/output, binarised input", GOLDEN_RULE_TOL_BINARISED,
                         1e-5, 0},
    [E_MEM_BF16] = {"memory features bf16/memattn_memory", GOLDEN_RULE_BF16, 1e-1, 0},
};

static const pattern edgetam_image_names[] = {
    {"image_rgb_u8", E_INPUT_U8},
    {"input_image", E_PREPROCESSED},
    {"trunk_stem", E_TRUNK_INTERNAL},
    {"trunk_s#_b#", E_TRUNK_INTERNAL},
    {"trunk_s#_b#_token_mixer", E_TRUNK_INTERNAL},
    {"trunk_s#_b#_se", E_TRUNK_INTERNAL},
    {"trunk_s#_downsample", E_TRUNK_INTERNAL},
    {"trunk_stage#", E_TRUNK},
    {"neck_fpn_raw_l#", E_FPN},
    {"backbone_fpn_l#", E_FPN},
    {"vision_features", E_FPN},
    {"image_embed", E_FPN},
    {"high_res_feats_#", E_FPN},
    {"vision_pos_enc_l#", E_POS_ENC},
    {"image_pe", E_POS_ENC},
    {"prompt_encoder_points", E_PROMPT_COORDS},
    {"prompt_encoder_labels", E_PROMPT_LABELS},
    {"sparse_embeddings", E_PROMPT_EMB},
    {"dense_embeddings", E_PROMPT_EMB},
    {"decoder_mask_tokens_out", E_MASK_TOKENS},
    {"decoder_all_mask_logits", E_LOWRES_IMAGE},
    {"decoder_out_masks", E_LOWRES_IMAGE},
    {"low_res_masks", E_LOWRES_IMAGE},
    {"mask_input", E_LOWRES_IMAGE},
    {"decoder_all_iou", E_IOU},
    {"iou_predictions", E_IOU},
    {"decoder_object_score_logits", E_OBJ_SCORE},
    {"masks_logits", E_LOGITS_IMAGE},
    {"masks", E_MASKS_IMAGE},
};

static const pattern edgetam_video_names[] = {
    {"frames_orig_u8", E_INPUT_U8},
    {"frames_resized_u8", E_INPUT_U8},
    {"preprocessed", E_PREPROCESSED},
    {"preprocessed_frame#", E_PREPROCESSED},
    {"point_coords", E_PROMPT_COORDS},
    {"pred_masks", E_LOWRES_VIDEO},
    {"pred_masks_before_fill", E_LOWRES_VIDEO},
    {"prev_sam_mask_logits", E_LOWRES_VIDEO},
    {"video_res_logits", E_LOGITS_VIDEO},
    {"mask_rle", E_MASKS_VIDEO},
    {"obj_ptr", E_OBJ_PTR},
    {"object_score_logits", E_OBJ_SCORE},
    {"memattn_curr", E_MEMATTN_IN},
    {"memattn_curr_pos", E_MEMATTN_IN},
    {"memattn_memory_pos", E_MEMATTN_IN},
    {"memattn_out", E_MEMATTN_OUT},
    {"memenc_out_f32", E_MEMENC},
    {"preflight_memenc_out_f32_#", E_MEMENC_BIN},
    {"perceiver_1d_layer#", E_PERCEIVER},
    {"perceiver_2d_layer#", E_PERCEIVER},
    {"maskmem_features_f32", E_PERCEIVER},
    {"preflight_perceiver_1d_layer#_#", E_PERCEIVER_BIN},
    {"preflight_perceiver_2d_layer#_#", E_PERCEIVER_BIN},
    {"preflight_maskmem_f32_#", E_PERCEIVER_BIN},
    {"maskmem_features_bf16bits", E_MEM_BF16},
    {"memattn_memory", E_MEM_BF16},
    {"maskmem_pos_enc", E_POS_ENC},
    {"memenc_pos_enc", E_POS_ENC},
};

static const golden_kind *lookup_in(const pattern *p, int n, const golden_kind *table,
                                    const char *name) {
    for (int i = 0; i < n; i++)
        if (matches(p[i].pattern, name)) return &table[p[i].kind];
    return NULL;
}

const golden_kind *golden_kind_of_edgetam(const char *name, golden_domain domain) {
    if (!name) return &unknown;
    char base[256];
    golden_base_name(name, base, sizeof base);
    const int video = domain == GOLDEN_DOMAIN_VIDEO;
    const pattern *p = video ? edgetam_video_names : edgetam_image_names;
    const int n = video ? (int)(sizeof edgetam_video_names / sizeof *edgetam_video_names)
                        : (int)(sizeof edgetam_image_names / sizeof *edgetam_image_names);
    const golden_kind *k = lookup_in(p, n, edgetam_kinds, name);
    if (!k) k = lookup_in(p, n, edgetam_kinds, base);
    return k ? k : &unknown;
}

const golden_kind *golden_kind_of_set(const golden_set *g, const char *name, golden_domain domain) {
    return g && g->edgetam ? golden_kind_of_edgetam(name, domain) : golden_kind_of(name, domain);
}

const golden_kind *golden_kind_table(int *n) {
    *n = K_COUNT;
    return kinds;
}
