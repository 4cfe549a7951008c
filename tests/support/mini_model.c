#include "support/mini_model.h"

#include "model/weights.h"
#include "support/torch_zip_writer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char MINI_MODEL_YAML[] =
    "# Tiny test model: every switch of sam2.1_hiera_t, very small widths.\n"
    "model:\n"
    "  _target_: sam2.modeling.sam2_base.SAM2Base\n"
    "  image_encoder:\n"
    "    _target_: sam2.modeling.backbones.image_encoder.ImageEncoder\n"
    "    scalp: 1\n"
    "    trunk:\n"
    "      _target_: sam2.modeling.backbones.hieradet.Hiera\n"
    "      embed_dim: 8\n"
    "      num_heads: 1\n"
    "      stages: [1, 1, 2, 1]\n"
    "      global_att_blocks: [3]\n"
    "      window_pos_embed_bkg_spatial_size: [2, 2]\n"
    "      window_spec: [4, 2, 2, 1]\n"
    "    neck:\n"
    "      _target_: sam2.modeling.backbones.image_encoder.FpnNeck\n"
    "      position_encoding:\n"
    "        _target_: sam2.modeling.position_encoding.PositionEmbeddingSine\n"
    "        num_pos_feats: 32\n"
    "        normalize: true\n"
    "        scale: null\n"
    "        temperature: 10000\n"
    "      d_model: 32\n"
    "      backbone_channel_list: [64, 32, 16, 8]\n"
    "      fpn_top_down_levels: [2, 3]\n"
    "      fpn_interp_model: nearest\n"
    "  memory_attention:\n"
    "    _target_: sam2.modeling.memory_attention.MemoryAttention\n"
    "    d_model: 32\n"
    "    pos_enc_at_input: true\n"
    "    layer:\n"
    "      _target_: sam2.modeling.memory_attention.MemoryAttentionLayer\n"
    "      activation: relu\n"
    "      dim_feedforward: 64\n"
    "      dropout: 0.1\n"
    "      pos_enc_at_attn: false\n"
    "      self_attention:\n"
    "        _target_: sam2.modeling.sam.transformer.RoPEAttention\n"
    "        rope_theta: 10000.0\n"
    "        feat_sizes: [8, 8]\n"
    "        embedding_dim: 32\n"
    "        num_heads: 1\n"
    "        downsample_rate: 1\n"
    "        dropout: 0.1\n"
    "      d_model: 32\n"
    "      pos_enc_at_cross_attn_keys: true\n"
    "      pos_enc_at_cross_attn_queries: false\n"
    "      cross_attention:\n"
    "        _target_: sam2.modeling.sam.transformer.RoPEAttention\n"
    "        rope_theta: 10000.0\n"
    "        feat_sizes: [8, 8]\n"
    "        rope_k_repeat: True\n"
    "        embedding_dim: 32\n"
    "        num_heads: 1\n"
    "        downsample_rate: 1\n"
    "        dropout: 0.1\n"
    "        kv_in_dim: 8\n"
    "    num_layers: 1\n"
    "  memory_encoder:\n"
    "    _target_: sam2.modeling.memory_encoder.MemoryEncoder\n"
    "    out_dim: 8\n"
    "    in_dim: 32\n"
    "    position_encoding:\n"
    "      _target_: sam2.modeling.position_encoding.PositionEmbeddingSine\n"
    "      num_pos_feats: 8\n"
    "      normalize: true\n"
    "      scale: null\n"
    "      temperature: 10000\n"
    "    mask_downsampler:\n"
    "      _target_: sam2.modeling.memory_encoder.MaskDownSampler\n"
    "      kernel_size: 3\n"
    "      stride: 2\n"
    "      padding: 1\n"
    "      embed_dim: 32\n"
    "    fuser:\n"
    "      _target_: sam2.modeling.memory_encoder.Fuser\n"
    "      layer:\n"
    "        _target_: sam2.modeling.memory_encoder.CXBlock\n"
    "        dim: 32\n"
    "        kernel_size: 7\n"
    "        padding: 3\n"
    "        layer_scale_init_value: 1e-6\n"
    "        use_dwconv: True\n"
    "      num_layers: 1\n"
    "  num_maskmem: 7\n"
    "  image_size: 128\n"
    "  sigmoid_scale_for_mem_enc: 20.0\n"
    "  sigmoid_bias_for_mem_enc: -10.0\n"
    "  use_mask_input_as_output_without_sam: true\n"
    "  directly_add_no_mem_embed: true\n"
    "  no_obj_embed_spatial: true\n"
    "  use_high_res_features_in_sam: true\n"
    "  multimask_output_in_sam: true\n"
    "  iou_prediction_use_sigmoid: True\n"
    "  use_obj_ptrs_in_encoder: true\n"
    "  add_tpos_enc_to_obj_ptrs: true\n"
    "  proj_tpos_enc_in_obj_ptrs: true\n"
    "  use_signed_tpos_enc_to_obj_ptrs: true\n"
    "  only_obj_ptrs_in_the_past_for_eval: true\n"
    "  pred_obj_scores: true\n"
    "  pred_obj_scores_mlp: true\n"
    "  fixed_no_obj_ptr: true\n"
    "  multimask_output_for_tracking: true\n"
    "  use_multimask_token_for_obj_ptr: true\n"
    "  multimask_min_pt_num: 0\n"
    "  multimask_max_pt_num: 1\n"
    "  use_mlp_for_obj_ptr_proj: true\n"
    "  compile_image_encoder: False\n";

const char *mini_model_write_yaml(const char *dir, const char *name) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s.yaml", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    size_t n = strlen(MINI_MODEL_YAML);
    int ok = fwrite(MINI_MODEL_YAML, 1, n, f) == n;
    if (fclose(f) != 0 || !ok) return NULL;
    return path;
}

const char MINI_EDGETAM_YAML[] =
    "model:\n"
    "  _target_: sam2.modeling.sam2_base.SAM2Base\n"
    "  image_encoder:\n"
    "    _target_: sam2.modeling.backbones.image_encoder.ImageEncoder\n"
    "    scalp: 1\n"
    "    trunk:\n"
    "      _target_: sam2.modeling.backbones.timm.TimmBackbone\n"
    "      name: repvit_m1.dist_in1k\n"
    "      features: [layer0, layer1, layer2, layer3]\n"
    "    neck:\n"
    "      _target_: sam2.modeling.backbones.image_encoder.FpnNeck\n"
    "      position_encoding:\n"
    "        _target_: sam2.modeling.position_encoding.PositionEmbeddingSine\n"
    "        num_pos_feats: 32\n"
    "        normalize: true\n"
    "        scale: null\n"
    "        temperature: 10000\n"
    "      d_model: 32\n"
    "      backbone_channel_list: [384, 192, 96, 48]\n"
    "      fpn_top_down_levels: [2, 3]\n"
    "      fpn_interp_model: nearest\n"
    "  memory_attention:\n"
    "    _target_: sam2.modeling.memory_attention.MemoryAttention\n"
    "    d_model: 32\n"
    "    pos_enc_at_input: true\n"
    "    layer:\n"
    "      _target_: sam2.modeling.memory_attention.MemoryAttentionLayer\n"
    "      activation: relu\n"
    "      dim_feedforward: 64\n"
    "      dropout: 0.1\n"
    "      pos_enc_at_attn: false\n"
    "      self_attention:\n"
    "        _target_: sam2.modeling.sam.transformer.RoPEAttention\n"
    "        rope_theta: 10000.0\n"
    "        feat_sizes: [8, 8]\n"
    "        embedding_dim: 32\n"
    "        num_heads: 1\n"
    "        downsample_rate: 1\n"
    "        dropout: 0.1\n"
    "      d_model: 32\n"
    "      pos_enc_at_cross_attn_keys: true\n"
    "      pos_enc_at_cross_attn_queries: false\n"
    "      cross_attention:\n"
    "        _target_: sam2.modeling.sam.transformer.RoPEAttentionv2\n"
    "        rope_theta: 10000.0\n"
    "        q_sizes: [8, 8]\n"
    "        k_sizes: [2, 2]\n"
    "        embedding_dim: 32\n"
    "        num_heads: 1\n"
    "        downsample_rate: 1\n"
    "        dropout: 0.1\n"
    "        kv_in_dim: 8\n"
    "    num_layers: 1\n"
    "  memory_encoder:\n"
    "    _target_: sam2.modeling.memory_encoder.MemoryEncoder\n"
    "    out_dim: 8\n"
    "    in_dim: 32\n"
    "    position_encoding:\n"
    "      _target_: sam2.modeling.position_encoding.PositionEmbeddingSine\n"
    "      num_pos_feats: 8\n"
    "      normalize: true\n"
    "      scale: null\n"
    "      temperature: 10000\n"
    "    mask_downsampler:\n"
    "      _target_: sam2.modeling.memory_encoder.MaskDownSampler\n"
    "      kernel_size: 3\n"
    "      stride: 2\n"
    "      padding: 1\n"
    "      embed_dim: 32\n"
    "    fuser:\n"
    "      _target_: sam2.modeling.memory_encoder.Fuser\n"
    "      layer:\n"
    "        _target_: sam2.modeling.memory_encoder.CXBlock\n"
    "        dim: 32\n"
    "        kernel_size: 7\n"
    "        padding: 3\n"
    "        layer_scale_init_value: 1e-6\n"
    "        use_dwconv: True\n"
    "      num_layers: 1\n"
    "  spatial_perceiver:\n"
    "    _target_: sam2.modeling.perceiver.PerceiverResampler\n"
    "    depth: 1\n"
    "    dim: 8\n"
    "    dim_head: 8\n"
    "    heads: 1\n"
    "    ff_mult: 2\n"
    "    hidden_dropout_p: 0.\n"
    "    attention_dropout_p: 0.\n"
    "    pos_enc_at_key_value: true\n"
    "    concat_kv_latents: false\n"
    "    num_latents: 8\n"
    "    num_latents_2d: 4\n"
    "    position_encoding:\n"
    "      _target_: sam2.modeling.position_encoding.PositionEmbeddingSine\n"
    "      num_pos_feats: 8\n"
    "      normalize: true\n"
    "      scale: null\n"
    "      temperature: 10000\n"
    "    use_self_attn: true\n"
    "  num_maskmem: 7\n"
    "  image_size: 128\n"
    "  sigmoid_scale_for_mem_enc: 20.0\n"
    "  sigmoid_bias_for_mem_enc: -10.0\n"
    "  use_mask_input_as_output_without_sam: true\n"
    "  directly_add_no_mem_embed: true\n"
    "  use_high_res_features_in_sam: true\n"
    "  multimask_output_in_sam: true\n"
    "  iou_prediction_use_sigmoid: True\n"
    "  use_obj_ptrs_in_encoder: true\n"
    "  add_tpos_enc_to_obj_ptrs: false\n"
    "  only_obj_ptrs_in_the_past_for_eval: true\n"
    "  pred_obj_scores: true\n"
    "  pred_obj_scores_mlp: true\n"
    "  fixed_no_obj_ptr: true\n"
    "  multimask_output_for_tracking: true\n"
    "  use_multimask_token_for_obj_ptr: true\n"
    "  multimask_min_pt_num: 0\n"
    "  multimask_max_pt_num: 1\n"
    "  use_mlp_for_obj_ptr_proj: true\n"
    "  compile_image_encoder: False\n";

const char *mini_edgetam_write_yaml(const char *dir, const char *name) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s.yaml", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    size_t n = strlen(MINI_EDGETAM_YAML);
    int ok = fwrite(MINI_EDGETAM_YAML, 1, n, f) == n;
    if (fclose(f) != 0 || !ok) return NULL;
    return path;
}

float mini_model_value(int tensor, int64_t j) {
    /* Multiples of 1/64 in [-2, 2): exact in every supported dtype. */
    return (float)((tensor * 37 + j * 11) % 256 - 128) / 64.0f;
}

/* The mini EdgeTAM's values: a hash of (tensor, element) scaled like an initialisation (1 /
 * sqrt(fan-in) for weights, norms and variances near 1, small biases), so activations stay
 * O(1) through the trunk and the masks have structure. Multiples of 2^-12: exact in float32. */
static float edgetam_value(const char *name, int ndim, const int64_t *shape, int tensor,
                           int64_t j) {
    uint64_t h = (uint64_t)tensor * 0x9E3779B97F4A7C15ull + (uint64_t)j * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
    h *= 0x94D049BB133111EBull;
    h ^= h >> 29;
    const float u = (float)((int)(h % 8193) - 4096) / 4096.0f; /* [-1, 1] */
    const size_t n = strlen(name);
    const bool var = n > 11 && !strcmp(name + n - 11, "running_var");
    const bool weight = n > 6 && !strcmp(name + n - 6, "weight");
    if (var) return 1.0f + 0.5f * fabsf(u);
    if (ndim <= 1)
        return weight ? 1.0f + roundf(0.1f * u * 4096) / 4096 : roundf(0.1f * u * 4096) / 4096;
    int64_t fan_in = 1;
    for (int d = 1; d < ndim; d++) fan_in *= shape[d];
    const float s = 1.7f / sqrtf((float)(fan_in > 0 ? fan_in : 1));
    return roundf(u * s * 4096) / 4096;
}

typedef struct table {
    int n, cap;
    char **names;
    int64_t (*shapes)[8];
    int *ndims;
    unsigned char *counter; /* int64 buffers the model never reads (slot NULL) */
} table;

static int collect(void *user, const char *name, int ndim, const int64_t *shape,
                   const float **slot) {
    table *t = user;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 256;
        t->names = realloc(t->names, sizeof *t->names * (size_t)t->cap);
        t->shapes = realloc(t->shapes, sizeof *t->shapes * (size_t)t->cap);
        t->ndims = realloc(t->ndims, sizeof *t->ndims * (size_t)t->cap);
        t->counter = realloc(t->counter, (size_t)t->cap);
        if (!t->names || !t->shapes || !t->ndims || !t->counter) return 1;
    }
    t->counter[t->n] = slot == NULL;
    t->names[t->n] = strdup(name);
    t->ndims[t->n] = ndim;
    memcpy(t->shapes[t->n], shape, sizeof(int64_t) * (size_t)ndim);
    t->n++;
    return 0;
}

static void encode(int dtype, float v, uint8_t *out) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    if (dtype == TZW_F32) {
        memcpy(out, &v, 4);
    } else if (dtype == TZW_BF16) {
        out[0] = (uint8_t)(bits >> 16);
        out[1] = (uint8_t)(bits >> 24);
    } else {
        /* values are k/64 with |k| <= 128: normal halves (or zero), no rounding */
        uint16_t h = (uint16_t)((bits >> 16) & 0x8000u);
        if (v != 0) {
            int e;
            float m = frexpf(fabsf(v), &e); /* v = m * 2^e, m in [0.5, 1) */
            uint32_t mant = (uint32_t)((m * 2 - 1) * 1024.0f);
            h |= (uint16_t)((uint32_t)(e - 1 + 15) << 10 | mant);
        }
        out[0] = (uint8_t)h;
        out[1] = (uint8_t)(h >> 8);
    }
}

int mini_model_write_ckpt(const sam2_config *cfg, const char *path, const mini_ckpt_options *o) {
    table t = {0};
    sam2_weights w;
    if (sam2_weights_walk(cfg, &w, collect, &t) != 0) return -1;
    int n = t.n + (o->extra ? 1 : 0);
    tzw_storage *st = calloc((size_t)n, sizeof *st);
    tzw_tensor *tt = calloc((size_t)n, sizeof *tt);
    int rc = st && tt ? 0 : -1;
    int es = o->dtype == TZW_F32 ? 4 : 2, k = 0;
    for (int i = 0; i < n && !rc; i++) {
        if (i == o->drop) continue;
        bool extra = i == t.n;
        tzw_tensor *x = &tt[k];
        x->name = extra ? o->extra : t.names[i];
        x->ndim = extra ? 1 : t.ndims[i];
        if (extra)
            x->shape[0] = 2;
        else
            memcpy(x->shape, t.shapes[i], sizeof(int64_t) * (size_t)x->ndim);
        if (i == o->reshape) x->shape[0] += 1;
        int64_t numel = 1;
        for (int d = 0; d < x->ndim; d++) numel *= x->shape[d];
        uint8_t *data = malloc((size_t)(numel ? numel : 1) * (size_t)es);
        if (!data) {
            rc = -1;
            break;
        }
        const bool counter = !extra && t.counter[i];
        if (counter) { /* BatchNorm num_batches_tracked: int64 */
            free(data);
            data = calloc((size_t)(numel ? numel : 1), 8);
            if (!data) {
                rc = -1;
                break;
            }
        } else if (cfg->trunk == SAM2_TRUNK_REPVIT && !extra) {
            for (int64_t j = 0; j < numel; j++)
                encode(o->dtype, edgetam_value(t.names[i], x->ndim, x->shape, i, j), data + j * es);
        } else {
            for (int64_t j = 0; j < numel; j++)
                encode(o->dtype, mini_model_value(i, j), data + j * es);
        }
        x->storage = k;
        st[k] = (tzw_storage){counter ? TZW_I64 : o->dtype, data, numel, -1};
        k++;
    }
    tzw_options opt = {.archive = "mini"};
    if (!rc) rc = tzw_write(path, st, k, tt, k, &opt);
    for (int i = 0; i < k; i++) free((void *)st[i].data);
    for (int i = 0; i < t.n; i++) free(t.names[i]);
    free(t.names);
    free(t.shapes);
    free(t.ndims);
    free(t.counter);
    free(st);
    free(tt);
    return rc;
}
