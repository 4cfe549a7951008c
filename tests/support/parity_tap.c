/* The tap bridge: tensors the model emits by golden name are compared with the entries of the
 * current scope and recorded in the report. */
#include "support/parity_report.h"

#include <stdlib.h>
#include <string.h>

typedef struct scope_entry {
    golden_entry e;
    const char *key;
    char base[128];
    int emitted, consumed;
} scope_entry;

struct parity_tap {
    const golden_set *set;
    parity_report *report;
    int open;
    char where[256];
    golden_domain domain;
    scope_entry *entries;
    int n;
    int unmatched;
    int flips;       /* binarisation flips behind this scope's encodings */
    float *unfilled; /* explicit (one use) or the last pred_masks_before_fill emission */
    int64_t unfilled_n;
    int unfilled_explicit;
};

parity_tap *parity_tap_new(const golden_set *g, parity_report *r) {
    parity_tap *t = calloc(1, sizeof *t);
    if (t) t->set = g, t->report = r;
    return t;
}

void parity_tap_free(parity_tap *t) {
    if (!t) return;
    if (t->open) parity_tap_end(t);
    free(t->entries);
    free(t->unfilled);
    free(t);
}

static void tap_fn(void *user, const char *name, const void *data, tap_dtype dtype, int ndim,
                   const int64_t *shape, tap_layout layout) {
    parity_tap_emit(user, name, data, dtype, ndim, shape, layout);
}

sam2_tap parity_tap_callback(parity_tap *t) {
    return (sam2_tap){.fn = tap_fn, .user = t};
}

static void where_of(const parity_tap *t, const char *name, char *out, size_t size) {
    snprintf(out, size, "%s/%s", t->where, name);
}

int parity_tap_begin(parity_tap *t, const cJSON *node, const char *where, golden_domain domain) {
    if (t->open) parity_tap_end(t);
    golden_entry_list l;
    sam2_error err = {0};
    snprintf(t->where, sizeof t->where, "%s", where);
    t->domain = domain;
    t->n = 0;
    t->flips = 0;
    if (golden_collect(node, &l, &err)) {
        parity_report_fail(t->report, "golden data", where, "%s", err.message);
        return -1;
    }
    free(t->entries);
    t->entries = calloc(l.count ? l.count : 1, sizeof *t->entries);
    if (!t->entries) {
        golden_entry_list_free(&l);
        parity_report_fail(t->report, "golden data", where, "out of memory");
        return -1;
    }
    for (int i = 0; i < l.count; i++) {
        scope_entry *s = &t->entries[t->n];
        if (golden_entry_parse(l.items[i], &s->e, &err)) {
            char w[512];
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(l.items[i], "name");
            where_of(t, cJSON_IsString(nm) ? nm->valuestring : "?", w, sizeof w);
            parity_report_fail(t->report, "golden data", w, "%s", err.message);
            continue;
        }
        s->key = l.keys[i];
        golden_base_name(s->e.name, s->base, sizeof s->base);
        t->n++;
    }
    golden_entry_list_free(&l);
    t->open = 1;
    return 0;
}

/* Best entry for an emitted name: full name, then base name, then JSON key ("files" is the
 * generic list of image and frame folders, never a tensor's key). */
static scope_entry *find(parity_tap *t, const char *name) {
    for (int level = 0; level < 3; level++) {
        scope_entry *first = NULL;
        for (int i = 0; i < t->n; i++) {
            scope_entry *s = &t->entries[i];
            int hit = level == 0   ? !strcmp(s->e.name, name)
                      : level == 1 ? !strcmp(s->base, name)
                                   : s->key && strcmp(s->key, "files") && !strcmp(s->key, name);
            if (!hit) continue;
            if (!s->emitted) return s;
            if (!first) first = s;
        }
        if (first) return first;
    }
    return NULL;
}

int parity_tap_consume(parity_tap *t, const char *name) {
    scope_entry *s = t->open ? find(t, name) : NULL;
    if (!s) return -1;
    s->consumed = 1;
    return 0;
}

int parity_tap_end(parity_tap *t) {
    if (!t->open) return 0;
    int missing = 0;
    for (int i = 0; i < t->n; i++) {
        scope_entry *s = &t->entries[i];
        if (s->emitted || s->consumed) continue;
        char w[512];
        where_of(t, s->e.name, w, sizeof w);
        parity_report_fail(t->report, golden_kind_of_set(t->set, s->e.name, t->domain)->kind, w,
                           "not produced (%s, stored as %s)", s->base,
                           golden_storage_name(s->e.storage));
        missing++;
    }
    t->open = 0;
    t->n = 0;
    return missing;
}

int parity_tap_unmatched(const parity_tap *t) {
    return t->unmatched;
}

static void keep_unfilled(parity_tap *t, const float *data, int64_t n, int explicit_) {
    float *copy = malloc((size_t)(n ? n : 1) * sizeof *copy);
    if (!copy) return;
    memcpy(copy, data, (size_t)n * sizeof *copy);
    free(t->unfilled);
    t->unfilled = copy;
    t->unfilled_n = n;
    t->unfilled_explicit = explicit_;
}

void parity_tap_set_flips(parity_tap *t, int flips) {
    t->flips = flips;
}

void parity_tap_set_unfilled(parity_tap *t, const float *unfilled, int64_t numel) {
    keep_unfilled(t, unfilled, numel, 1);
}

void parity_tap_emit(parity_tap *t, const char *name, const void *data, tap_dtype dtype, int ndim,
                     const int64_t *shape, tap_layout layout) {
    char base[128];
    golden_base_name(name, base, sizeof base);
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) numel *= shape[d];

    /* channels-last data for an NCHW shape: transpose to C order of the shape */
    float *converted = NULL;
    if (layout == TAP_HWC_FOR_NCHW) {
        size_t esz = dtype == TAP_U8 ? 1 : 4;
        if (ndim != 4 || !(converted = malloc((size_t)(numel ? numel : 1) * esz))) {
            char w[512];
            where_of(t, name, w, sizeof w);
            parity_report_fail(t->report, golden_kind_of_set(t->set, name, t->domain)->kind, w,
                               ndim != 4 ? "channels-last layout needs a 4-d shape"
                                         : "out of memory");
            return;
        }
        int64_t N = shape[0], C = shape[1], H = shape[2], W = shape[3];
        const uint8_t *src = data;
        uint8_t *dst = (uint8_t *)converted;
        for (int64_t b = 0; b < N; b++)
            for (int64_t y = 0; y < H; y++)
                for (int64_t x = 0; x < W; x++)
                    for (int64_t c = 0; c < C; c++)
                        memcpy(dst + (((b * C + c) * H + y) * W + x) * esz,
                               src + (((b * H + y) * W + x) * C + c) * esz, esz);
        data = converted;
    }
    if (dtype == TAP_F32 && !strcmp(base, "pred_masks_before_fill") && !t->unfilled_explicit)
        keep_unfilled(t, data, numel, 0);

    scope_entry *s = t->open ? find(t, name) : NULL;
    if (!s) {
        t->unmatched++;
        free(converted);
        return;
    }
    s->emitted = 1;
    char w[512];
    where_of(t, s->e.name, w, sizeof w);
    const golden_kind *kind = golden_kind_of_set(t->set, s->e.name, t->domain);
    golden_computed c = {dtype == TAP_F32  ? GOLDEN_C_F32
                         : dtype == TAP_U8 ? GOLDEN_C_U8
                                           : GOLDEN_C_I32,
                         data,
                         ndim,
                         shape,
                         NULL,
                         t->flips};
    int use_unfilled = kind->hole_fill && strcmp(s->base, "pred_masks_before_fill") != 0 &&
                       t->unfilled && t->unfilled_n == s->e.numel && dtype == TAP_F32;
    if (use_unfilled) c.unfilled = t->unfilled;
    golden_result res;
    sam2_error err = {0};
    if (golden_compare(t->set, &s->e, kind, &c, &res, &err))
        parity_report_fail(t->report, kind->kind, w, "golden data: %s", err.message);
    else
        parity_report_add(t->report, kind, w, &res);
    if (use_unfilled && t->unfilled_explicit) {
        free(t->unfilled);
        t->unfilled = NULL;
        t->unfilled_n = 0;
        t->unfilled_explicit = 0;
    }
    free(converted);
}
