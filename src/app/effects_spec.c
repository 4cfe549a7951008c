/* The effects spec (src/app/effects_spec.json, embedded by CMake as EFFECTS_SPEC_JSON) and the
 * effects.mp4 query parameters (see effects.h). */
#include "app/effects.h"

#include "core/error.h"
#include "effects_spec_data.h" /* generated: EFFECTS_SPEC_JSON */
#include "io/rle.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The names the math knows, by kind (effects.h); the spec must list exactly these, in order. */
static const char *const BG_NAMES[FX_BG_COUNT] = {"none", "blur",  "desaturate",
                                                  "dim",  "erase", "replace"};
static const char *const OBJ_NAMES[FX_OBJ_COUNT] = {
    "original", "fill", "outline", "cutout", "glow", "pixelate", "erase", "spotlight", "recolor"};

static effects_spec g_spec;
static sam2_error g_spec_err;
static int g_spec_ok;
static pthread_once_t g_spec_once = PTHREAD_ONCE_INIT;

static int int_field(const cJSON *o, const char *name, int lo, int hi, int *out, sam2_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!v) return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble || v->valueint < lo ||
        v->valueint > hi)
        return sam2_fail(err, SAM2_ERR_FORMAT, "effects spec: \"%s\" must be an integer in %d..%d",
                         name, lo, hi);
    *out = v->valueint;
    return 0;
}

static int color_field(const cJSON *v, uint8_t out[3], const char *what, sam2_error *err) {
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 3)
        return sam2_fail(err, SAM2_ERR_FORMAT, "effects spec: %s must be [r, g, b]", what);
    for (int i = 0; i < 3; i++) {
        const cJSON *c = cJSON_GetArrayItem(v, i);
        if (!cJSON_IsNumber(c) || c->valueint < 0 || c->valueint > 255)
            return sam2_fail(err, SAM2_ERR_FORMAT, "effects spec: %s must hold values 0..255",
                             what);
        out[i] = (uint8_t)c->valueint;
    }
    return 0;
}

static int parse_variant(const cJSON *o, effects_variant *v, sam2_error *err) {
    memset(v, 0, sizeof *v);
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(o, "label");
    if (!cJSON_IsString(label))
        return sam2_fail(err, SAM2_ERR_FORMAT, "effects spec: a variant has no label");
    snprintf(v->label, sizeof v->label, "%s", label->valuestring);
    if (int_field(o, "radius", 1, 64, &v->radius, err) ||
        int_field(o, "amount", 0, 255, &v->amount, err) ||
        int_field(o, "level", 0, 255, &v->level, err) ||
        int_field(o, "alpha", 0, 255, &v->alpha, err) ||
        int_field(o, "width", 1, 64, &v->width, err) ||
        int_field(o, "strength", 0, 255, &v->strength, err) ||
        int_field(o, "block", 1, 256, &v->block, err) ||
        int_field(o, "scale", 1, 1000, &v->scale, err) ||
        int_field(o, "feather", 0, 1000, &v->feather, err) ||
        int_field(o, "transparent", 0, 1, &v->transparent, err))
        return -1;
    const cJSON *color = cJSON_GetObjectItemCaseSensitive(o, "color");
    if (color) {
        if (color_field(color, v->color, "a variant's color", err)) return -1;
        v->has_color = 1;
    }
    const cJSON *source = cJSON_GetObjectItemCaseSensitive(o, "source");
    if (source) {
        if (!cJSON_IsString(source))
            return sam2_fail(err, SAM2_ERR_FORMAT, "effects spec: source must be a string");
        if (!strcmp(source->valuestring, "first-frame"))
            v->source = FX_REPLACE_FIRST_FRAME;
        else if (!strcmp(source->valuestring, "image"))
            v->source = FX_REPLACE_IMAGE;
        else
            return sam2_fail(err, SAM2_ERR_FORMAT, "effects spec: unknown source \"%s\"",
                             source->valuestring);
    }
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(o, "mode");
    if (mode) {
        static const char *const MODES[] = {"tint", "swap", "invert"};
        v->mode = -1;
        for (int i = 0; i < 3; i++)
            if (cJSON_IsString(mode) && !strcmp(mode->valuestring, MODES[i])) v->mode = i;
        if (v->mode < 0)
            return sam2_fail(err, SAM2_ERR_FORMAT, "effects spec: unknown recolor mode");
    }
    return 0;
}

static int parse_list(const cJSON *list, const char *const *names, int n, effects_def *defs,
                      const char *what, sam2_error *err) {
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) != n)
        return sam2_fail(err, SAM2_ERR_FORMAT, "effects spec: \"%s\" must list %d effects", what,
                         n);
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(list, i);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
        if (!cJSON_IsString(name) || strcmp(name->valuestring, names[i]))
            return sam2_fail(err, SAM2_ERR_FORMAT, "effects spec: %s effect %d must be \"%s\"",
                             what, i, names[i]);
        snprintf(defs[i].name, sizeof defs[i].name, "%s", names[i]);
        const cJSON *vars = cJSON_GetObjectItemCaseSensitive(e, "variants");
        const int nv = cJSON_IsArray(vars) ? cJSON_GetArraySize(vars) : 0;
        if (nv < 1 || nv > EFFECTS_MAX_VARIANTS)
            return sam2_fail(err, SAM2_ERR_FORMAT, "effects spec: %s needs 1..%d variants",
                             names[i], EFFECTS_MAX_VARIANTS);
        defs[i].n_variants = nv;
        for (int k = 0; k < nv; k++)
            if (parse_variant(cJSON_GetArrayItem(vars, k), &defs[i].variants[k], err)) return -1;
    }
    return 0;
}

static int parse_spec(effects_spec *s, sam2_error *err) {
    memset(s, 0, sizeof *s);
    cJSON *root = cJSON_Parse((const char *)EFFECTS_SPEC_JSON);
    if (!root) return sam2_fail(err, SAM2_ERR_FORMAT, "effects spec: not valid JSON");
    int rc = 0;
    const cJSON *checker = cJSON_GetObjectItemCaseSensitive(root, "checkerboard");
    if (int_field(checker, "cell", 1, 1024, &s->checker_cell, err) ||
        color_field(cJSON_GetObjectItemCaseSensitive(checker, "dark"), s->checker_dark,
                    "checkerboard.dark", err) ||
        color_field(cJSON_GetObjectItemCaseSensitive(checker, "light"), s->checker_light,
                    "checkerboard.light", err) ||
        color_field(cJSON_GetObjectItemCaseSensitive(root, "erase_fallback"), s->erase_fallback,
                    "erase_fallback", err) ||
        parse_list(cJSON_GetObjectItemCaseSensitive(root, "background"), BG_NAMES, FX_BG_COUNT,
                   s->background, "background", err) ||
        parse_list(cJSON_GetObjectItemCaseSensitive(root, "object"), OBJ_NAMES, FX_OBJ_COUNT,
                   s->object, "object", err))
        rc = -1;
    if (!rc && s->checker_cell < 1)
        rc = sam2_fail(err, SAM2_ERR_FORMAT, "effects spec: checkerboard.cell is missing");
    cJSON_Delete(root);
    return rc;
}

static void load_spec(void) {
    g_spec_ok = parse_spec(&g_spec, &g_spec_err) == 0;
}

const effects_spec *effects_spec_get(sam2_error *err) {
    pthread_once(&g_spec_once, load_spec);
    if (g_spec_ok) return &g_spec;
    if (err) *err = g_spec_err;
    return NULL;
}

/* ---- query parameters -------------------------------------------------------------------------
 */

/* "<name>.<variant>" of len bytes at p -> kind and variant among defs. */
static int parse_choice(const char *p, size_t len, const effects_def *defs, int n, const char *what,
                        int *kind, int *variant, sam2_error *err) {
    const char *dot = memchr(p, '.', len);
    const size_t name_len = dot ? (size_t)(dot - p) : len;
    *kind = -1;
    for (int i = 0; i < n; i++)
        if (strlen(defs[i].name) == name_len && !memcmp(defs[i].name, p, name_len)) *kind = i;
    if (*kind < 0) {
        char names[200] = "";
        for (int i = 0; i < n; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                     defs[i].name);
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "unknown %s effect \"%.*s\" (one of: %s)", what,
                         (int)(name_len > 40 ? 40 : name_len), p, names);
    }
    *variant = 0;
    if (dot) {
        const char *v = dot + 1;
        const size_t vlen = len - name_len - 1;
        if (vlen < 1 || vlen > 2 || v[0] < '0' || v[0] > '9' ||
            (vlen == 2 && (v[1] < '0' || v[1] > '9')))
            return sam2_fail(err, SAM2_ERR_ARGUMENT,
                             "the variant of %s effect \"%s\" must be a number", what,
                             defs[*kind].name);
        *variant = vlen == 2 ? (v[0] - '0') * 10 + (v[1] - '0') : v[0] - '0';
    }
    if (*variant >= defs[*kind].n_variants)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s effect \"%s\" has variants 0..%d, not %d",
                         what, defs[*kind].name, defs[*kind].n_variants - 1, *variant);
    return 0;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* One "<id>:<effect>.<variant>:<rrggbb>" of len bytes. */
static int parse_object(const char *p, size_t len, const effects_spec *spec, effects_object *o,
                        sam2_error *err) {
    const char *c1 = memchr(p, ':', len);
    const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - p)) : NULL;
    if (!c1 || !c2)
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "objects: \"%.*s\" is not <id>:<effect>.<variant>:<rrggbb>",
                         (int)(len > 60 ? 60 : len), p);
    /* The id: an optional minus sign and 1..9 digits. */
    const char *d = p;
    int sign = 1;
    if (d < c1 && *d == '-') sign = -1, d++;
    if (d == c1 || c1 - d > 9)
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "objects: the object id in \"%.*s\" must be an integer",
                         (int)(len > 60 ? 60 : len), p);
    long id = 0;
    for (; d < c1; d++) {
        if (*d < '0' || *d > '9')
            return sam2_fail(err, SAM2_ERR_ARGUMENT,
                             "objects: the object id in \"%.*s\" must be an integer",
                             (int)(len > 60 ? 60 : len), p);
        id = id * 10 + (*d - '0');
    }
    o->id = (int)(sign * id);
    if (parse_choice(c1 + 1, (size_t)(c2 - c1 - 1), spec->object, FX_OBJ_COUNT, "object",
                     &o->effect, &o->variant, err))
        return -1;
    const char *hex = c2 + 1;
    if (len - (size_t)(hex - p) != 6)
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "objects: the colour of object %d must be 6 hex digits (rrggbb)", o->id);
    for (int i = 0; i < 3; i++) {
        const int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return sam2_fail(err, SAM2_ERR_ARGUMENT,
                             "objects: the colour of object %d must be 6 hex digits (rrggbb)",
                             o->id);
        o->color[i] = (uint8_t)(hi * 16 + lo);
    }
    return 0;
}

int effects_scene_parse(const char *bg, const char *objects, effects_scene *out, sam2_error *err) {
    const effects_spec *spec = effects_spec_get(err);
    if (!spec) return -1;
    memset(out, 0, sizeof *out);
    if (bg && *bg &&
        parse_choice(bg, strlen(bg), spec->background, FX_BG_COUNT, "background", &out->background,
                     &out->bg_variant, err)) {
        char msg[sizeof err->message];
        if (err) {
            snprintf(msg, sizeof msg, "bg: %s", err->message);
            snprintf(err->message, sizeof err->message, "%s", msg);
        }
        return -1;
    }
    if (!objects || !*objects) return 0;
    const char *p = objects;
    for (;;) {
        const char *comma = strchr(p, ',');
        const size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (out->n == EFFECTS_MAX_OBJECTS)
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "objects: more than %d objects",
                             EFFECTS_MAX_OBJECTS);
        effects_object *o = &out->objects[out->n];
        if (parse_object(p, len, spec, o, err)) return -1;
        for (int i = 0; i < out->n; i++)
            if (out->objects[i].id == o->id)
                return sam2_fail(err, SAM2_ERR_ARGUMENT, "objects: object %d is listed twice",
                                 o->id);
        out->n++;
        if (!comma) break;
        p = comma + 1;
    }
    return 0;
}

int effects_scene_replace_source(const effects_scene *scene) {
    const effects_spec *spec = effects_spec_get(NULL);
    if (!spec || scene->background != FX_BG_REPLACE) return -1;
    return spec->background[FX_BG_REPLACE].variants[scene->bg_variant].source;
}

int effects_labels(const effects_scene *scene, const mask_frame *f, int width, int height,
                   mask_decode_fn decode, void *decode_user, uint8_t *labels, uint8_t *scratch,
                   sam2_error *err) {
    const size_t hw = (size_t)width * height;
    memset(labels, 0, hw);
    if (!f) return 0;
    for (int k = 0; k < scene->n; k++) {
        const mask_rle *m = NULL;
        for (int i = 0; i < f->n; i++)
            if (f->masks[i].id == scene->objects[k].id) m = &f->masks[i];
        if (!m || !m->counts) continue;
        const int rc = decode ? decode(decode_user, m->counts, height, width, scratch, err)
                              : rle_decode(m->counts, height, width, scratch, err);
        if (rc) return -1;
        for (size_t i = 0; i < hw; i++)
            if (scratch[i]) labels[i] = (uint8_t)(k + 1);
    }
    return 0;
}
