/* The schema of official-format YAML configs (private to yaml_config.c): the Hydra classes
 * sam2c accepts, the constructor parameters each one takes, and where each value goes. */
#ifndef SAM2_IO_YAML_SCHEMA_H
#define SAM2_IO_YAML_SCHEMA_H

#include "model/config.h"

#include <stdbool.h>
#include <stddef.h>

#define LIST_ABSENT (-1)
#define LIST_IS_NULL (-2)

/* Values that several YAML nodes repeat (each module states its own d_model, both attentions
 * state their RoPE settings) or that only constrain others: collected while walking, checked
 * for agreement afterwards. Initialised to the constructors' defaults. */
typedef struct attn_values {
    float rope_theta;
    int feat_sizes[2], feat_count;
    bool rope_k_repeat;
    int embedding_dim, num_heads, downsample_rate;
    int kv_in_dim; /* -1: null (same as embedding_dim) */
    int line;
} attn_values;

typedef struct ystate {
    sam2_config cfg;
    int stage_count, window_count, channel_count, top_down_count, bkg_count;
    int q_stride[2], q_stride_count;
    int mem_attn_d_model, layer_d_model, mem_attn_line, layer_line;
    attn_values self_attn, cross_attn;
    float mem_pe_temperature;
    int fuser_dim;      /* Fuser's own dim (input projection), -1: null */
    int video_key_line; /* first SAM2VideoPredictor-only key, 0: none */
    const char *video_key;
    bool video_target;
    int model_line, trunk_line, neck_line;
    /* EdgeTAM: a TimmBackbone trunk, RoPEAttentionv2 cross-attention, a spatial_perceiver */
    int timm_line;      /* line of the TimmBackbone node, 0: Hiera */
    char timm_name[64]; /* its `name` */
    int timm_features[8], timm_feature_count;
    int rope_v2_line; /* line of a RoPEAttentionv2 node, 0: none */
    int q_sizes_count, k_sizes_count;
    int perceiver_line; /* line of the spatial_perceiver node, 0: none */
    float perceiver_pe_temperature;
    int perceiver_pe_line; /* line of its position_encoding node, 0: none */
} ystate;

typedef enum field_kind {
    F_TARGET, /* _target_: must equal the class's name (aux: alternative names) */
    F_CHILD,  /* mapping handled by another class */
    F_INT,
    F_INT_OR_NULL, /* null stored as -1 */
    F_FLOAT,
    F_BOOL,
    F_INT_LIST,         /* count stored at off2; exact/max length */
    F_INT_LIST_OR_NULL, /* null stores LIST_IS_NULL as the count */
    F_SWITCH,           /* string: one of two values, stored as a bool (true for `on`) */
    F_MUST_INT,         /* only `fixed` is accepted (the config has no field for other values) */
    F_MUST_BOOL,
    F_MUST_NULL,
    F_IGNORE_NUMBER, /* training-only (dropout, drop path) or caching: any number */
    F_IGNORE_BOOL,
    F_IGNORE_INT,
    F_IGNORE_INT_LIST,
    F_STRING,     /* copied into a char buffer of max_len bytes at off */
    F_LAYER_LIST, /* list of "layer<k>" strings (TimmBackbone features): k stored like F_INT_LIST */
} field_kind;

typedef struct klass klass;

typedef struct field {
    const char *key;
    field_kind kind;
    size_t off;  /* into ystate */
    size_t off2; /* list count / null flag */
    int min_len, max_len;
    int fixed;                /* F_MUST_*: the accepted value */
    const char *on, *off_str; /* F_SWITCH */
    const klass *child;
    const klass *child_alt; /* F_CHILD: used instead when the mapping's _target_ names it */
    bool required;
    bool video_only;
} field;

struct klass {
    const char *target; /* full Hydra target; NULL for a plain mapping */
    const char *alt_targets[2];
    const field *fields;
    int nfields;
    size_t line_off; /* where to record the mapping's line (0: nowhere) */
};

/* Offsets of a value's destination inside ystate. */
#define S(member) offsetof(ystate, member)
#define C(member) offsetof(ystate, cfg.member)

/* The `model:` node: SAM2Base (or SAM2VideoPredictor) and everything below it. */
extern const klass YAML_MODEL_CLASS;

#endif
