#include "io/model_weights.h"

#include "core/error.h"
#include "io/yaml_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void format_shape(char *buf, size_t size, int ndim, const int64_t *shape) {
    size_t k = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < ndim && k < size; d++)
        k += (size_t)snprintf(buf + k, size - k, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (k < size) snprintf(buf + k, size - k, "]");
}

/* ---- matching the expected table ------------------------------------------------------------ */

typedef struct matcher {
    const ckpt *ck;
    unsigned char *used; /* per checkpoint tensor */
    int matched, expected;
    bool differs;
    char what[400]; /* first difference */
} matcher;

static int match_visit(void *user, const char *name, int ndim, const int64_t *shape,
                       const float **slot) {
    (void)slot;
    matcher *m = user;
    m->expected++;
    const ckpt_tensor *t = ckpt_find(m->ck, name);
    char want[128], have[128];
    format_shape(want, sizeof want, ndim, shape);
    if (!t) {
        if (!m->differs)
            snprintf(m->what, sizeof m->what, "tensor '%s' %s is missing from the checkpoint", name,
                     want);
        m->differs = true;
        return 0;
    }
    m->used[t - ckpt_tensor_at(m->ck, 0)] = 1;
    bool same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = t->shape[d] == shape[d];
    if (!same) {
        if (!m->differs) {
            format_shape(have, sizeof have, t->ndim, t->shape);
            snprintf(m->what, sizeof m->what,
                     "tensor '%s' has shape %s in the checkpoint, the config expects %s", name,
                     have, want);
        }
        m->differs = true;
        return 0;
    }
    if (slot && t->dtype == CKPT_I64) {
        if (!m->differs)
            snprintf(m->what, sizeof m->what,
                     "tensor '%s' holds int64 values; the config expects floating-point weights",
                     name);
        m->differs = true;
        return 0;
    }
    m->matched++;
    return 0;
}

/* Runs the comparison; returns the number of matching tensors, and whether all matched. */
static int match(const ckpt *ck, const sam2_config *cfg, bool *all, char *what, size_t what_size) {
    int n = ckpt_num_tensors(ck);
    matcher m = {.ck = ck, .used = calloc((size_t)n + 1, 1)};
    if (!m.used) {
        *all = false;
        snprintf(what, what_size, "out of memory");
        return 0;
    }
    sam2_weights w;
    sam2_weights_walk(cfg, &w, match_visit, &m);
    for (int i = 0; i < n && !m.differs; i++) {
        if (m.used[i]) continue;
        const ckpt_tensor *t = ckpt_tensor_at(ck, i);
        char have[128];
        format_shape(have, sizeof have, t->ndim, t->shape);
        snprintf(m.what, sizeof m.what,
                 "the checkpoint has tensor '%s' %s, which the config "
                 "does not expect",
                 t->name, have);
        m.differs = true;
    }
    free(m.used);
    *all = !m.differs;
    snprintf(what, what_size, "%s", m.what);
    return m.matched;
}

int sam2_weights_check(const ckpt *ck, const sam2_config *cfg, sam2_error *err) {
    bool all;
    char what[400];
    match(ck, cfg, &all, what, sizeof what);
    if (all) return 0;
    return sam2_fail(err, SAM2_ERR_MISMATCH, "%s: does not match config %s: %s", ckpt_path(ck),
                     cfg->name, what);
}

int sam2_weights_detect(const ckpt *ck, sam2_config *cfg, sam2_error *err) {
    int best = -1, best_score = -1;
    char best_what[400] = "";
    for (int i = 0; i < sam2_config_preset_count(); i++) {
        sam2_config c;
        sam2_config_preset(&c, sam2_config_preset_name(i));
        bool all;
        char what[400];
        int score = match(ck, &c, &all, what, sizeof what);
        if (all) {
            *cfg = c;
            return 0;
        }
        if (score > best_score) {
            best_score = score;
            best = i;
            snprintf(best_what, sizeof best_what, "%s", what);
        }
    }
    return sam2_fail(err, SAM2_ERR_MISMATCH,
                     "%s: the tensors match none of the %d official configurations (closest, %s: "
                     "%s); give the model's YAML config",
                     ckpt_path(ck), sam2_config_preset_count(), sam2_config_preset_name(best),
                     best_what);
}

/* ---- binding ------------------------------------------------------------------------------- */

typedef struct binder {
    ckpt *ck;
    float *owned;
    int64_t owned_used;
    float *trunk; /* RepViT trunk copies (released after the fold) */
    int64_t trunk_used;
    bool sizing;             /* first pass: only count the floats to own */
    unsigned char *verified; /* per checkpoint tensor whose storage CRC was checked */
    sam2_error *err;
    int rc;
} binder;

#define HUGE_PAGE ((size_t)2 << 20)
#define REPVIT_PREFIX "image_encoder.trunk.body."
#define OWNED_ALIGN 16 /* floats: each copy starts on a 64-byte boundary */

static int bind_visit(void *user, const char *name, int ndim, const int64_t *shape,
                      const float **slot) {
    (void)ndim;
    (void)shape;
    binder *b = user;
    if (!slot) return 0; /* a buffer the model never reads (BatchNorm's num_batches_tracked) */
    const ckpt_tensor *t = ckpt_find(b->ck, name); /* present: checked before */
    bool direct = ckpt_tensor_is_direct(t);
    const bool trunk = strncmp(name, REPVIT_PREFIX, strlen(REPVIT_PREFIX)) == 0;
    int64_t *used = trunk ? &b->trunk_used : &b->owned_used;
    const int64_t span = (t->numel + OWNED_ALIGN - 1) / OWNED_ALIGN * OWNED_ALIGN;
    if (b->sizing) {
        if (!direct) *used += span;
        return 0;
    }
    if (!b->verified[t->storage]) {
        if (ckpt_verify_tensor(b->ck, t, b->err)) return b->rc = b->err ? b->err->code : 1;
        b->verified[t->storage] = 1;
    }
    if (direct) {
        *slot = ckpt_tensor_f32(t, NULL);
        return 0;
    }
    float *dst = (trunk ? b->trunk : b->owned) + *used;
    *used += span;
    ckpt_tensor_read_f32(t, 0, t->numel, dst);
    ckpt_release_tensor(b->ck, t);
    *slot = dst;
    return 0;
}

int sam2_weights_bind(ckpt *ck, const sam2_config *cfg, sam2_loaded *out, sam2_error *err) {
    sam2_error local_err;
    if (!err) err = &local_err; /* the code below reads err->code */
    memset(out, 0, sizeof *out);
    if (sam2_weights_check(ck, cfg, err)) return SAM2_ERR_MISMATCH;
    out->cfg = *cfg;
    out->ck = ck;
    out->params = ckpt_num_scalars(ck);
    out->num_tensors = ckpt_num_tensors(ck);
    binder b = {.ck = ck, .sizing = true, .err = err};
    sam2_weights_walk(cfg, &out->w, bind_visit, &b);
    if (b.owned_used > 0) {
        void *p = NULL;
        if ((uint64_t)b.owned_used > SIZE_MAX / sizeof(float) ||
            posix_memalign(&p, HUGE_PAGE, (size_t)b.owned_used * sizeof(float)) != 0) {
            memset(out, 0, sizeof *out);
            return sam2_fail(err, SAM2_ERR_NOMEM, "%s: out of memory for %lld float32 weights",
                             ckpt_path(ck), (long long)b.owned_used);
        }
        /* Large pages where the kernel offers them: far fewer page faults while filling. */
#ifdef MADV_HUGEPAGE
        madvise(p, (size_t)b.owned_used * sizeof(float), MADV_HUGEPAGE);
#endif
        out->owned = p;
        out->owned_floats = b.owned_used;
    }
    if (b.trunk_used > 0) {
        /* plain pages: they go back to the system when the trunk is released */
        void *p = NULL;
        if ((uint64_t)b.trunk_used > SIZE_MAX / sizeof(float) ||
            posix_memalign(&p, 64, (size_t)b.trunk_used * sizeof(float)) != 0) {
            free(out->owned);
            memset(out, 0, sizeof *out);
            return sam2_fail(err, SAM2_ERR_NOMEM, "%s: out of memory for %lld float32 weights",
                             ckpt_path(ck), (long long)b.trunk_used);
        }
        out->trunk_owned = p;
        out->trunk_floats = b.trunk_used;
    }
    b.owned = out->owned;
    b.owned_used = 0;
    b.trunk = out->trunk_owned;
    b.trunk_used = 0;
    b.sizing = false;
    b.verified = calloc((size_t)out->num_tensors + 1, 1);
    if (!b.verified) {
        free(out->owned);
        free(out->trunk_owned);
        memset(out, 0, sizeof *out);
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    }
    sam2_weights_walk(cfg, &out->w, bind_visit, &b);
    free(b.verified);
    if (b.rc) {
        free(out->owned);
        free(out->trunk_owned);
        memset(out, 0, sizeof *out);
        return b.rc;
    }
    return 0;
}

int sam2_load_weights(const char *ckpt_path, const char *yaml, sam2_loaded *out, sam2_error *err) {
    sam2_error local_err;
    if (!err) err = &local_err; /* the code below reads err->code */
    memset(out, 0, sizeof *out);
    sam2_config cfg;
    if (yaml && sam2_config_load_yaml(yaml, &cfg, err)) return err ? err->code : SAM2_ERR_FORMAT;
    ckpt *ck = ckpt_open(ckpt_path, err);
    if (!ck) return err ? err->code : SAM2_ERR_FORMAT;
    int rc = yaml ? 0 : sam2_weights_detect(ck, &cfg, err);
    if (!rc) rc = sam2_weights_bind(ck, &cfg, out, err);
    if (rc) {
        ckpt_close(ck);
        return rc;
    }
    out->owns_ckpt = true;
    out->detected = yaml == NULL;
    return 0;
}

void sam2_weights_clear_trunk(sam2_weights *w) {
    memset(w->repvit_stem, 0, sizeof w->repvit_stem);
    memset(w->repvit, 0, sizeof w->repvit);
}

void sam2_loaded_release_trunk(sam2_loaded *l) {
    if (!l || l->cfg.trunk != SAM2_TRUNK_REPVIT) return;
    free(l->trunk_owned);
    l->trunk_owned = NULL;
    l->trunk_floats = 0;
    sam2_weights_clear_trunk(&l->w);
}

void sam2_loaded_free(sam2_loaded *l) {
    if (!l) return;
    free(l->owned);
    free(l->trunk_owned);
    if (l->owns_ckpt) ckpt_close(l->ck);
    memset(l, 0, sizeof *l);
}
