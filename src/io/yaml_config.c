#include "io/yaml_config.h"

#include "core/error.h"
#include "io/yaml_schema.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_YAML_BYTES (1u << 20)
typedef struct ctx {
    yaml_document_t *doc;
    const char *file;
    ystate *st;
    sam2_error *err;
    char path[512];
} ctx;

/* ---- errors ---------------------------------------------------------------------------------- */

static int failf(ctx *c, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failf(ctx *c, int line, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0) return sam2_fail(c->err, SAM2_ERR_FORMAT, "%s:%d: %s", c->file, line, msg);
    return sam2_fail(c->err, SAM2_ERR_FORMAT, "%s: %s", c->file, msg);
}

static int node_line(const yaml_node_t *n) {
    return (int)n->start_mark.line + 1;
}

/* ---- scalars ------------------------------------------------------------------------------ */

static const char *scalar(const yaml_node_t *n) {
    return (const char *)n->data.scalar.value;
}

static bool is_plain(const yaml_node_t *n) {
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           strlen(scalar(n)) == n->data.scalar.length;
}

static bool is_null(const yaml_node_t *n) {
    if (!is_plain(n)) return false;
    const char *s = scalar(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int shown_len(const yaml_node_t *n) {
    return n->type == YAML_SCALAR_NODE && n->data.scalar.length < 60 ? (int)n->data.scalar.length
                                                                     : 0;
}

static const char *node_desc(const yaml_node_t *n) {
    return n->type == YAML_MAPPING_NODE    ? "a mapping"
           : n->type == YAML_SEQUENCE_NODE ? "a list"
                                           : "";
}

static int type_error(ctx *c, const yaml_node_t *n, const char *expected) {
    if (n->type == YAML_SCALAR_NODE)
        return failf(c, node_line(n), "%s: expected %s, got '%.*s'", c->path, expected,
                     shown_len(n), scalar(n));
    return failf(c, node_line(n), "%s: expected %s, got %s", c->path, expected, node_desc(n));
}

/* Decimal integers; a leading zero ("010", octal in YAML 1.1) is refused as ambiguous. */
static int get_int(ctx *c, const yaml_node_t *n, int *out) {
    if (!is_plain(n)) return type_error(c, n, "an integer");
    const char *s = scalar(n);
    const char *digits = s + (*s == '+' || *s == '-');
    if (!*digits || strspn(digits, "0123456789") != strlen(digits) ||
        (digits[0] == '0' && digits[1]))
        return type_error(c, n, "an integer");
    errno = 0;
    long v = strtol(s, NULL, 10);
    if (errno || v < -1000000000L || v > 1000000000L) return type_error(c, n, "an integer");
    *out = (int)v;
    return 0;
}

static int get_float(ctx *c, const yaml_node_t *n, float *out) {
    if (!is_plain(n)) return type_error(c, n, "a number");
    const char *s = scalar(n);
    /* Decimal notation only (OmegaConf also reads "1e-6" as a number); no inf/nan/hex. */
    if (!*s || strspn(s, "0123456789+-.eE") != strlen(s)) return type_error(c, n, "a number");
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v) || fabs(v) > 3.0e38) return type_error(c, n, "a number");
    *out = (float)v;
    return 0;
}

static int get_bool(ctx *c, const yaml_node_t *n, bool *out) {
    static const char *yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    static const char *no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
    if (is_plain(n)) {
        for (int i = 0; i < 9; i++) {
            if (!strcmp(scalar(n), yes[i])) return *out = true, 0;
            if (!strcmp(scalar(n), no[i])) return *out = false, 0;
        }
    }
    return type_error(c, n, "true or false");
}

static int get_int_list(ctx *c, const yaml_node_t *n, int *out, int *count, int min_len,
                        int max_len) {
    if (n->type != YAML_SEQUENCE_NODE) return type_error(c, n, "a list of integers");
    int len = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (len < min_len || len > max_len) {
        if (min_len == max_len)
            return failf(c, node_line(n), "%s: expected a list of %d integers, got %d", c->path,
                         min_len, len);
        return failf(c, node_line(n), "%s: expected a list of %d to %d integers, got %d", c->path,
                     min_len, max_len, len);
    }
    for (int i = 0; i < len; i++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, n->data.sequence.items.start[i]);
        if (!item || get_int(c, item, &out[i]))
            return item ? SAM2_ERR_FORMAT : type_error(c, n, "a list of integers");
    }
    if (count) *count = len;
    return 0;
}

/* A list of "layer<k>" strings (TimmBackbone's features) as the integers k. */
static int get_layer_list(ctx *c, const yaml_node_t *n, int *out, int *count, int min_len,
                          int max_len) {
    if (n->type != YAML_SEQUENCE_NODE) return type_error(c, n, "a list of 'layer<k>' names");
    int len = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (len < min_len || len > max_len)
        return failf(c, node_line(n), "%s: expected %d to %d layer names, got %d", c->path, min_len,
                     max_len, len);
    for (int i = 0; i < len; i++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, n->data.sequence.items.start[i]);
        if (!item || !is_plain(item) || strncmp(scalar(item), "layer", 5) != 0)
            return type_error(c, item ? item : n, "a name 'layer<k>'");
        const char *digits = scalar(item) + 5;
        if (!*digits || strlen(digits) > 2 || strspn(digits, "0123456789") != strlen(digits))
            return type_error(c, item, "a name 'layer<k>'");
        out[i] = atoi(digits);
    }
    *count = len;
    return 0;
}

/* ---- walking ---------------------------------------------------------------------------- */

static int walk_class(ctx *c, const yaml_node_t *map, const klass *k);

/* The _target_ of a mapping, or NULL. */
static const char *mapping_target(ctx *c, const yaml_node_t *map) {
    if (map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (k && v && k->type == YAML_SCALAR_NODE && v->type == YAML_SCALAR_NODE &&
            !strcmp(scalar(k), "_target_"))
            return scalar(v);
    }
    return NULL;
}

static int apply_field(ctx *c, const field *f, const yaml_node_t *v, const klass *k) {
    char *base = (char *)c->st;
    int iv;
    float fv;
    bool bv;
    switch (f->kind) {
    case F_TARGET: {
        if (v->type != YAML_SCALAR_NODE) return type_error(c, v, "a class name");
        const char *t = scalar(v);
        if (!strcmp(t, k->target)) return 0;
        for (int i = 0; i < 2; i++)
            if (k->alt_targets[i] && !strcmp(t, k->alt_targets[i])) {
                c->st->video_target = true; /* only the model node has alternatives */
                return 0;
            }
        return failf(c, node_line(v), "%s: unknown class '%.*s' (expected %s)", c->path,
                     shown_len(v), t, k->target);
    }
    case F_CHILD: {
        if (v->type != YAML_MAPPING_NODE && f->child->target == NULL && is_null(v)) return 0;
        const char *t = f->child_alt ? mapping_target(c, v) : NULL;
        if (t && !strcmp(t, f->child_alt->target)) return walk_class(c, v, f->child_alt);
        return walk_class(c, v, f->child);
    }
    case F_STRING:
        if (!is_plain(v) || strlen(scalar(v)) >= (size_t)f->max_len)
            return type_error(c, v, "a short string");
        snprintf(base + f->off, (size_t)f->max_len, "%s", scalar(v));
        return 0;
    case F_LAYER_LIST:
        return get_layer_list(c, v, (int *)(base + f->off), (int *)(base + f->off2), f->min_len,
                              f->max_len);
    case F_INT:
        if (get_int(c, v, &iv)) return SAM2_ERR_FORMAT;
        *(int *)(base + f->off) = iv;
        return 0;
    case F_INT_OR_NULL:
        if (is_null(v))
            iv = -1;
        else if (get_int(c, v, &iv))
            return SAM2_ERR_FORMAT;
        *(int *)(base + f->off) = iv;
        return 0;
    case F_FLOAT:
        if (get_float(c, v, &fv)) return SAM2_ERR_FORMAT;
        *(float *)(base + f->off) = fv;
        return 0;
    case F_BOOL:
        if (get_bool(c, v, &bv)) return SAM2_ERR_FORMAT;
        *(bool *)(base + f->off) = bv;
        return 0;
    case F_INT_LIST_OR_NULL:
        if (is_null(v)) {
            *(int *)(base + f->off2) = LIST_IS_NULL;
            return 0;
        }
        /* fall through */
    case F_INT_LIST:
        return get_int_list(c, v, (int *)(base + f->off), (int *)(base + f->off2), f->min_len,
                            f->max_len);
    case F_SWITCH:
        if (v->type == YAML_SCALAR_NODE && !strcmp(scalar(v), f->on))
            bv = true;
        else if (v->type == YAML_SCALAR_NODE && !strcmp(scalar(v), f->off_str))
            bv = false;
        else {
            char expected[96];
            snprintf(expected, sizeof expected, "'%s' or '%s'", f->on, f->off_str);
            return type_error(c, v, expected);
        }
        *(bool *)(base + f->off) = bv;
        return 0;
    case F_MUST_INT:
        if (get_int(c, v, &iv)) return SAM2_ERR_FORMAT;
        if (iv != f->fixed)
            return failf(c, node_line(v), "%s: only %d is supported (got %d)", c->path, f->fixed,
                         iv);
        return 0;
    case F_MUST_BOOL:
        if (get_bool(c, v, &bv)) return SAM2_ERR_FORMAT;
        if (bv != (f->fixed != 0))
            return failf(c, node_line(v), "%s: only %s is supported", c->path,
                         f->fixed ? "true" : "false");
        return 0;
    case F_MUST_NULL:
        if (!is_null(v)) return failf(c, node_line(v), "%s: only null is supported", c->path);
        return 0;
    case F_IGNORE_NUMBER:
        return get_float(c, v, &fv);
    case F_IGNORE_BOOL:
        return get_bool(c, v, &bv);
    case F_IGNORE_INT:
        return get_int(c, v, &iv);
    case F_IGNORE_INT_LIST: {
        int tmp[16];
        return get_int_list(c, v, tmp, NULL, 0, 16);
    }
    }
    return 0;
}

static int walk_class(ctx *c, const yaml_node_t *map, const klass *k) {
    if (map->type != YAML_MAPPING_NODE) return type_error(c, map, "a mapping");
    if (k->line_off) *(int *)((char *)c->st + k->line_off) = node_line(map);
    size_t path_len = strlen(c->path);
    bool seen[64] = {false};
    yaml_node_pair_t *pairs = map->data.mapping.pairs.start;
    int npairs = (int)(map->data.mapping.pairs.top - pairs);
    for (int i = 0; i < npairs; i++) {
        yaml_node_t *key = yaml_document_get_node(c->doc, pairs[i].key);
        yaml_node_t *val = yaml_document_get_node(c->doc, pairs[i].value);
        if (!key || !val) return failf(c, node_line(map), "%s: malformed mapping", c->path);
        if (key->type != YAML_SCALAR_NODE || strlen(scalar(key)) != key->data.scalar.length)
            return failf(c, node_line(key), "%s: keys must be plain strings", c->path);
        snprintf(c->path + path_len, sizeof c->path - path_len, "%s%s", path_len ? "." : "",
                 scalar(key));
        int fi = -1;
        for (int j = 0; j < k->nfields; j++)
            if (!strcmp(k->fields[j].key, scalar(key))) fi = j;
        if (fi < 0) {
            if (k->target)
                return failf(c, node_line(key), "%s: unknown key for %s", c->path, k->target);
            return failf(c, node_line(key), "%s: unknown key", c->path);
        }
        if (seen[fi]) return failf(c, node_line(key), "%s: key given twice", c->path);
        seen[fi] = true;
        const field *f = &k->fields[fi];
        if (f->video_only && !c->st->video_key_line) {
            c->st->video_key_line = node_line(key);
            c->st->video_key = f->key;
        }
        if (apply_field(c, f, val, k)) return SAM2_ERR_FORMAT;
        c->path[path_len] = 0;
    }
    for (int j = 0; j < k->nfields; j++) {
        if (!seen[j] && (k->fields[j].required || k->fields[j].kind == F_TARGET))
            return failf(c, node_line(map), "%s: missing required key '%s'",
                         path_len ? c->path : "(top level)", k->fields[j].key);
    }
    return 0;
}

/* ---- values stated more than once ------------------------------------------------------------ */

static void init_attn(attn_values *a) {
    /* RoPEAttention / Attention constructor defaults */
    a->rope_theta = 10000.0f;
    a->feat_sizes[0] = a->feat_sizes[1] = 64;
    a->feat_count = 2;
    a->rope_k_repeat = false;
    a->embedding_dim = a->num_heads = -1;
    a->downsample_rate = 1;
    a->kv_in_dim = -1;
}

/* EdgeTAM's trunk and Perceiver: the config fields they imply. */
static int cross_checks_edgetam(ctx *c) {
    ystate *s = c->st;
    sam2_config *cfg = &s->cfg;
    if (s->timm_line) {
        if (sam2_config_repvit_variant(&cfg->repvit, s->timm_name))
            return failf(c, s->timm_line,
                         "model.image_encoder.trunk.name: '%s' is not a timm RepViT model "
                         "(repvit_m1, repvit_m2, ...)",
                         s->timm_name);
        for (int i = 0; i < s->timm_feature_count; i++)
            if (s->timm_features[i] != i || s->timm_feature_count != 4)
                return failf(c, s->timm_line,
                             "model.image_encoder.trunk.features: only [layer0, layer1, layer2, "
                             "layer3] is supported");
        cfg->trunk = SAM2_TRUNK_REPVIT;
    }
    if (s->perceiver_line) {
        sam2_perceiver_config *p = &cfg->perceiver;
        if (p->num_latents < 0) p->num_latents = 0; /* -1: no 1D latents */
        if (p->num_latents_2d < 0) p->num_latents_2d = 0;
        if (p->num_latents_2d > 0 && !s->perceiver_pe_line)
            return failf(c, s->perceiver_line,
                         "model.spatial_perceiver: num_latents_2d needs a position_encoding");
        if (s->perceiver_pe_line && s->perceiver_pe_temperature != 10000.0f)
            return failf(c, s->perceiver_pe_line,
                         "model.spatial_perceiver.position_encoding.temperature: only 10000 is "
                         "supported");
        /* EdgeTAM's code base ships the batched video predictor (SAM 2 before 2024-12) */
        cfg->batched_predictor = true;
    } else {
        memset(&cfg->perceiver, 0, sizeof cfg->perceiver);
    }
    return 0;
}

static int cross_checks(ctx *c) {
    ystate *s = c->st;
    sam2_config *cfg = &s->cfg;
    if (s->video_key_line && !s->video_target)
        return failf(c, s->video_key_line,
                     "model.%s: only sam2.sam2_video_predictor.SAM2VideoPredictor takes this key",
                     s->video_key);
    if (s->stage_count) cfg->num_stages = s->stage_count;
    if (s->q_stride_count) {
        if (s->q_stride[0] != s->q_stride[1])
            return failf(c, s->trunk_line,
                         "model.image_encoder.trunk.q_stride: only square strides "
                         "are supported");
        cfg->q_stride = s->q_stride[0];
    }
    if (s->window_count && s->window_count != cfg->num_stages)
        return failf(c, s->trunk_line,
                     "model.image_encoder.trunk.window_spec: %d entries for %d stages",
                     s->window_count, cfg->num_stages);
    if (s->channel_count != cfg->num_stages)
        return failf(c, s->neck_line,
                     "model.image_encoder.neck.backbone_channel_list: %d entries for %d stages",
                     s->channel_count, cfg->num_stages);
    if (s->top_down_count == LIST_IS_NULL) { /* None: every level */
        cfg->num_top_down = s->channel_count;
        for (int i = 0; i < s->channel_count; i++) cfg->fpn_top_down_levels[i] = i;
    } else if (s->top_down_count != LIST_ABSENT) {
        cfg->num_top_down = s->top_down_count;
    }
    for (int i = 0; i < cfg->num_top_down; i++)
        if (cfg->fpn_top_down_levels[i] < 0 || cfg->fpn_top_down_levels[i] >= s->channel_count)
            return failf(c, s->neck_line,
                         "model.image_encoder.neck.fpn_top_down_levels: level %d out of range",
                         cfg->fpn_top_down_levels[i]);
    if (s->mem_attn_d_model != cfg->d_model || s->layer_d_model != cfg->d_model)
        return failf(c, s->mem_attn_line,
                     "model.memory_attention: d_model %d (layer %d) differs from the neck's %d",
                     s->mem_attn_d_model, s->layer_d_model, cfg->d_model);
    const attn_values *sa = &s->self_attn, *ca = &s->cross_attn;
    if (sa->embedding_dim != cfg->d_model || ca->embedding_dim != cfg->d_model)
        return failf(c, sa->line,
                     "model.memory_attention.layer: attention embedding_dim must "
                     "equal d_model %d",
                     cfg->d_model);
    /* RoPEAttentionv2 (EdgeTAM) has grids of its own instead of feat_sizes */
    const bool v2 = s->rope_v2_line != 0;
    if (sa->rope_theta != ca->rope_theta || sa->num_heads != ca->num_heads ||
        (!v2 && (sa->feat_sizes[0] != ca->feat_sizes[0] || sa->feat_sizes[1] != ca->feat_sizes[1])))
        return failf(c, ca->line ? ca->line : s->rope_v2_line,
                     "model.memory_attention.layer.cross_attention: rope_theta, "
                     "%snum_heads must equal self_attention's",
                     v2 ? "" : "feat_sizes and ");
    if (v2 && (s->q_sizes_count != 2 || s->k_sizes_count != 2))
        return failf(c, s->rope_v2_line,
                     "model.memory_attention.layer.cross_attention: RoPEAttentionv2 needs "
                     "q_sizes and k_sizes");
    if (cross_checks_edgetam(c)) return SAM2_ERR_FORMAT;
    if (sa->rope_k_repeat)
        return failf(c, sa->line,
                     "model.memory_attention.layer.self_attention.rope_k_repeat: "
                     "only false is supported");
    if (sa->kv_in_dim != -1 && sa->kv_in_dim != cfg->d_model)
        return failf(c, sa->line,
                     "model.memory_attention.layer.self_attention.kv_in_dim: must "
                     "be null or d_model");
    int kv = ca->kv_in_dim == -1 ? ca->embedding_dim : ca->kv_in_dim;
    if (kv != cfg->mem_dim)
        return failf(c, ca->line,
                     "model.memory_attention.layer.cross_attention.kv_in_dim: %d "
                     "must equal memory_encoder.out_dim %d",
                     kv, cfg->mem_dim);
    cfg->rope_theta = sa->rope_theta;
    cfg->rope_feat_sizes[0] = sa->feat_sizes[0];
    cfg->rope_feat_sizes[1] = sa->feat_sizes[1];
    cfg->mem_attn_heads = sa->num_heads;
    cfg->rope_k_repeat = ca->rope_k_repeat;
    cfg->sa_downsample = sa->downsample_rate;
    cfg->ca_downsample = ca->downsample_rate;
    if (cfg->sa_downsample < 1 || cfg->ca_downsample < 1 || cfg->d_model % cfg->sa_downsample ||
        cfg->d_model % cfg->ca_downsample)
        return failf(c, sa->line,
                     "model.memory_attention.layer: downsample_rate must divide "
                     "d_model");
    if (s->mem_pe_temperature != 10000.0f)
        return failf(c, 0,
                     "model.memory_encoder.position_encoding.temperature: only 10000 is "
                     "supported");
    if (cfg->fuser_input_projection && s->fuser_dim != cfg->fuser_dim)
        return failf(c, 0,
                     "model.memory_encoder.fuser.dim: must equal the CXBlock dim %d with "
                     "input_projection",
                     cfg->fuser_dim);
    return 0;
}

/* "configs/sam2.1/sam2.1_hiera_t.yaml" -> "sam2.1_hiera_t" (the rest of out zeroed). */
static void base_name(const char *label, char *out, size_t size) {
    const char *b = strrchr(label, '/');
    b = b ? b + 1 : label;
    size_t n = strlen(b);
    if (n > 5 && !strcmp(b + n - 5, ".yaml"))
        n -= 5;
    else if (n > 4 && !strcmp(b + n - 4, ".yml"))
        n -= 4;
    if (n >= size) n = size - 1;
    memset(out, 0, size);
    memcpy(out, b, n);
}

int sam2_config_parse_yaml(const char *text, size_t len, const char *label, sam2_config *cfg,
                           sam2_error *err) {
    sam2_error local_err;
    if (!err) err = &local_err; /* the code below reads err->code */
    if (!label) label = "(yaml)";
    ystate *st = calloc(1, sizeof *st);
    if (!st) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    sam2_config_defaults(&st->cfg);
    st->top_down_count = LIST_ABSENT;
    st->mem_pe_temperature = 10000.0f;
    st->fuser_dim = -1;
    init_attn(&st->self_attn);
    init_attn(&st->cross_attn);
    /* PerceiverResampler / PositionEmbeddingSine defaults, used when the node is present */
    st->cfg.perceiver = (sam2_perceiver_config){
        .dim_head = 64, .heads = 1, .num_latents = -1, .num_latents_2d = -1, .ff_mult = 4};
    st->perceiver_pe_temperature = 10000.0f;
    ctx c = {.file = label, .st = st, .err = err};

    yaml_parser_t parser;
    yaml_document_t doc;
    int rc = 0;
    if (!yaml_parser_initialize(&parser)) {
        free(st);
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = failf(&c, (int)parser.problem_mark.line + 1, "YAML syntax error: %s",
                   parser.problem ? parser.problem : "unknown");
        yaml_parser_delete(&parser);
        free(st);
        return rc;
    }
    c.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        rc = failf(&c, 0, "expected a mapping with a 'model' key at the top level");
    } else {
        /* Other top-level keys (Hydra bookkeeping, training settings) do not shape the model. */
        yaml_node_t *model = NULL;
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = yaml_document_get_node(&doc, p->key);
            if (k && k->type == YAML_SCALAR_NODE && !strcmp(scalar(k), "model")) {
                if (model) {
                    rc = failf(&c, node_line(k), "model: key given twice");
                    break;
                }
                model = yaml_document_get_node(&doc, p->value);
            }
        }
        if (!rc && !model) rc = failf(&c, 0, "no 'model' mapping at the top level");
        if (!rc) {
            snprintf(c.path, sizeof c.path, "model");
            rc = walk_class(&c, model, &YAML_MODEL_CLASS);
        }
        if (!rc) rc = cross_checks(&c);
    }
    if (!rc) {
        char msg[256];
        base_name(label, st->cfg.name, sizeof st->cfg.name);
        if (sam2_config_validate(&st->cfg, msg, sizeof msg) != 0)
            rc = sam2_fail(err, SAM2_ERR_FORMAT, "%s: inconsistent model configuration: %s", label,
                           msg);
    }
    if (!rc) *cfg = st->cfg;
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    free(st);
    return rc;
}

int sam2_config_load_yaml(const char *path, sam2_config *cfg, sam2_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return sam2_fail(err, SAM2_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = malloc(MAX_YAML_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_YAML_BYTES + 1, f) : 0;
    int read_error = ferror(f);
    fclose(f);
    if (!buf) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    int rc;
    if (read_error)
        rc = sam2_fail(err, SAM2_ERR_IO, "%s: read error (is it a directory?)", path);
    else if (n > MAX_YAML_BYTES)
        rc = sam2_fail(err, SAM2_ERR_LIMIT, "%s: larger than 1 MiB", path);
    else
        rc = sam2_config_parse_yaml(buf, n, path, cfg, err);
    free(buf);
    return rc;
}
