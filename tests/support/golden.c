/* Golden sets: opening a set, its folders and their entries (golden_load.c materialises them). */
#include "support/golden.h"

#include "core/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Replaces path by its canonical form when it exists (for readable messages). */
static void canonical(char *path, size_t size) {
    char *r = realpath(path, NULL);
    if (r && strlen(r) < size) strcpy(path, r);
    free(r);
}

static int join(char *out, size_t size, const char *a, const char *b, sam2_error *err) {
    int n = (b && b[0] == '/') ? snprintf(out, size, "%s", b) : snprintf(out, size, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= size)
        return sam2_fail(err, SAM2_ERR_LIMIT, "path too long: %s/%s", a, b);
    return 0;
}

static cJSON *load_json(const char *path, sam2_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        sam2_fail(err, SAM2_ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 1 >= cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                sam2_fail(err, SAM2_ERR_NOMEM, "%s: out of memory", path);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (!got) break;
    }
    fclose(f);
    buf[n] = 0;
    cJSON *j = cJSON_ParseWithLength(buf, n);
    if (!j) {
        const char *at = cJSON_GetErrorPtr();
        sam2_fail(err, SAM2_ERR_FORMAT, "%s: invalid JSON near byte %ld", path,
                  at && at >= buf && at <= buf + n ? (long)(at - buf) : -1L);
    }
    free(buf);
    return j;
}

const char *golden_json_string(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- sets ---------------------------------------------------------------------------------- */

int golden_open(golden_set *g, const char *dir, sam2_error *err) {
    memset(g, 0, sizeof *g);
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--;
    if (len >= sizeof g->dir) return sam2_fail(err, SAM2_ERR_LIMIT, "path too long: %s", dir);
    memcpy(g->dir, dir, len);
    g->dir[len] = 0;
    int rc = join(g->root, sizeof g->root, g->dir, "..", err);
    if (rc) return rc;
    char path[GOLDEN_PATH_MAX];
    if ((rc = join(path, sizeof path, g->dir, "index.json", err))) return rc;
    g->index = load_json(path, err);
    if (!g->index) return err ? err->code : SAM2_ERR_IO;
    g->description = golden_json_string(g->index, "description");
    if (!g->description) g->description = "";
    const char *ckpt = golden_json_string(g->index, "checkpoint");
    g->config_name = golden_json_string(g->index, "config");
    const cJSON *folders = cJSON_GetObjectItemCaseSensitive(g->index, "folders");
    if (!ckpt || !g->config_name || !cJSON_IsArray(folders)) {
        golden_close(g);
        return sam2_fail(err, SAM2_ERR_FORMAT,
                         "%s: needs \"checkpoint\", \"config\" and \"folders\"", path);
    }
    g->checkpoint_sha256 = golden_json_string(g->index, "checkpoint_sha256");
    g->edgetam = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(g->index, "edgetam"));
    if ((rc = join(g->checkpoint, sizeof g->checkpoint, g->root, ckpt, err))) {
        golden_close(g);
        return rc;
    }
    canonical(g->checkpoint, sizeof g->checkpoint);

    /* Config: a YAML at DIR/../<config>, else one beside the checkpoint with the config's base
     * name, else the base name itself (a preset name for the model loader). */
    const char *slash = strrchr(g->config_name, '/');
    const char *base = slash ? slash + 1 : g->config_name;
    char beside[GOLDEN_PATH_MAX];
    snprintf(beside, sizeof beside, "%s", g->checkpoint);
    char *cut = strrchr(beside, '/');
    if (cut)
        cut[1] = 0;
    else
        beside[0] = 0;
    char cand[GOLDEN_PATH_MAX];
    if ((!join(cand, sizeof cand, g->root, g->config_name, NULL) && is_file(cand)) ||
        (snprintf(cand, sizeof cand, "%s%s", beside, base) < (int)sizeof cand && is_file(cand))) {
        snprintf(g->config, sizeof g->config, "%s", cand);
        canonical(g->config, sizeof g->config);
        g->config_is_file = 1;
    } else {
        snprintf(g->config, sizeof g->config, "%s", base);
        size_t bl = strlen(g->config);
        if (bl > 5 && !strcmp(g->config + bl - 5, ".yaml"))
            g->config[bl - 5] = 0;
        else if (bl > 4 && !strcmp(g->config + bl - 4, ".yml"))
            g->config[bl - 4] = 0;
    }

    int n = cJSON_GetArraySize(folders);
    g->folders = calloc(n ? n : 1, sizeof *g->folders);
    if (!g->folders) {
        golden_close(g);
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, folders) {
        if (!cJSON_IsString(it)) {
            golden_close(g);
            return sam2_fail(err, SAM2_ERR_FORMAT, "%s: \"folders\" holds a non-string", path);
        }
        g->folders[g->nfolders++] = it->valuestring;
    }
    return 0;
}

void golden_close(golden_set *g) {
    if (!g) return;
    cJSON_Delete(g->index);
    free(g->folders);
    memset(g, 0, sizeof *g);
}

int golden_path(const golden_set *g, const char *rel, char *out, size_t size, sam2_error *err) {
    return join(out, size, g->dir, rel, err);
}

/* ---- folders ------------------------------------------------------------------------------- */

golden_folder_kind golden_folder_kind_of(const char *f) {
    if (!strncmp(f, "image/", 6)) {
        const char *rest = f + 6;
        const char *s = strchr(rest, '/');
        if (!*rest) return GOLDEN_FOLDER_OTHER;
        if (!s) return GOLDEN_FOLDER_IMAGE;
        return s[1] && !strchr(s + 1, '/') ? GOLDEN_FOLDER_IMAGE_CASE : GOLDEN_FOLDER_OTHER;
    }
    if (!strcmp(f, "video/frames")) return GOLDEN_FOLDER_VIDEO_FRAMES;
    if (!strcmp(f, "video/api")) return GOLDEN_FOLDER_VIDEO_API;
    if (!strcmp(f, "video/demo")) return GOLDEN_FOLDER_VIDEO_DEMO;
    return GOLDEN_FOLDER_OTHER;
}

golden_domain golden_domain_of(golden_folder_kind k) {
    return k == GOLDEN_FOLDER_VIDEO_FRAMES || k == GOLDEN_FOLDER_VIDEO_API ||
                   k == GOLDEN_FOLDER_VIDEO_DEMO
               ? GOLDEN_DOMAIN_VIDEO
               : GOLDEN_DOMAIN_IMAGE;
}

int golden_folder_open(const golden_set *g, const char *name, golden_folder *f, sam2_error *err) {
    memset(f, 0, sizeof *f);
    f->set = g;
    if (strlen(name) >= sizeof f->name)
        return sam2_fail(err, SAM2_ERR_LIMIT, "folder name too long: %s", name);
    strcpy(f->name, name);
    f->kind = golden_folder_kind_of(name);
    char rel[GOLDEN_PATH_MAX], path[GOLDEN_PATH_MAX];
    snprintf(rel, sizeof rel, "%s/index.json", name);
    int rc = golden_path(g, rel, path, sizeof path, err);
    if (rc) return rc;
    f->index = load_json(path, err);
    if (!f->index) return err ? err->code : SAM2_ERR_IO;
    const char *resp = golden_json_string(f->index, "responses_file");
    if (resp) {
        if ((rc = golden_path(g, resp, path, sizeof path, err)) ||
            !(f->responses = load_json(path, err))) {
            golden_folder_close(f);
            return rc ? rc : (err ? err->code : SAM2_ERR_IO);
        }
    }
    return 0;
}

void golden_folder_close(golden_folder *f) {
    if (!f) return;
    cJSON_Delete(f->index);
    cJSON_Delete(f->responses);
    f->index = f->responses = NULL;
}

/* ---- entries ------------------------------------------------------------------------------- */

static const char *storage_names[] = {"?",   "npy",     "crops",   "rle",
                                      "png", "derived", "patched", "skipped"};

const char *golden_storage_name(golden_storage s) {
    return (unsigned)s < sizeof storage_names / sizeof *storage_names ? storage_names[s] : "?";
}

int golden_is_entry(const cJSON *o) {
    return cJSON_IsObject(o) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "name")) &&
           cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(o, "shape")) &&
           cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "dtype")) &&
           cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "stored"));
}

static int read_number(const cJSON *o, const char *key, double *v) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(n)) return -1;
    *v = n->valuedouble;
    return 0;
}

int golden_entry_parse(const cJSON *o, golden_entry *e, sam2_error *err) {
    memset(e, 0, sizeof *e);
    if (!golden_is_entry(o))
        return sam2_fail(err, SAM2_ERR_FORMAT, "not a golden entry (name, shape, dtype, stored)");
    e->json = o;
    e->name = golden_json_string(o, "name");
    const char *stored = golden_json_string(o, "stored");
    for (int s = GOLDEN_STORED_NPY; s <= GOLDEN_STORED_SKIPPED; s++)
        if (!strcmp(stored, storage_names[s])) e->storage = (golden_storage)s;
    if (!e->storage)
        return sam2_fail(err, SAM2_ERR_FORMAT, "%s: unknown storage \"%s\"", e->name, stored);
    e->dtype = npy_dtype_from_name(golden_json_string(o, "dtype"));
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(o, "shape"), *d;
    e->numel = 1;
    cJSON_ArrayForEach(d, shape) {
        if (!cJSON_IsNumber(d) || d->valuedouble < 0 ||
            d->valuedouble > (double)((int64_t)1 << 40) || e->ndim == NPY_MAX_DIMS)
            return sam2_fail(err, SAM2_ERR_FORMAT, "%s: bad shape", e->name);
        e->shape[e->ndim++] = (int64_t)d->valuedouble;
        e->numel *= e->shape[e->ndim - 1];
        if (e->numel > ((int64_t)1 << 40))
            return sam2_fail(err, SAM2_ERR_FORMAT, "%s: shape too large", e->name);
    }
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "stats");
    if (cJSON_IsObject(st) && !read_number(st, "min", &e->stats.min) &&
        !read_number(st, "max", &e->stats.max) && !read_number(st, "mean", &e->stats.mean) &&
        !read_number(st, "std", &e->stats.std))
        e->stats.present = 1;
    e->sha256 = golden_json_string(o, "sha256");
    e->sha256_float32 = golden_json_string(o, "sha256_float32");
    e->dedup = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "dedup"));
    return 0;
}

typedef struct collector {
    golden_entry_list *l;
    int cap;
    int failed;
} collector;

static void collect(const cJSON *node, const char *key, collector *c) {
    if (c->failed || !node) return;
    if (golden_is_entry(node)) {
        golden_entry_list *l = c->l;
        if (l->count == c->cap) {
            int cap = c->cap ? 2 * c->cap : 32;
            const cJSON **items = realloc(l->items, cap * sizeof *items);
            if (items) l->items = items;
            const char **keys = realloc(l->keys, cap * sizeof *keys);
            if (keys) l->keys = keys;
            if (!items || !keys) {
                c->failed = 1;
                return;
            }
            c->cap = cap;
        }
        l->items[l->count] = node;
        l->keys[l->count++] = key;
        return; /* entries do not nest */
    }
    const cJSON *ch;
    if (cJSON_IsObject(node))
        cJSON_ArrayForEach(ch, node) collect(ch, ch->string, c);
    else if (cJSON_IsArray(node))
        cJSON_ArrayForEach(ch, node) collect(ch, key, c);
}

int golden_collect(const cJSON *node, golden_entry_list *out, sam2_error *err) {
    memset(out, 0, sizeof *out);
    collector c = {out, 0, 0};
    collect(node, NULL, &c);
    if (c.failed) {
        golden_entry_list_free(out);
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory collecting entries");
    }
    return 0;
}

void golden_entry_list_free(golden_entry_list *l) {
    free(l->items);
    free(l->keys);
    memset(l, 0, sizeof *l);
}

const cJSON *golden_find(const cJSON *node, const char *name) {
    if (!node) return NULL;
    if (golden_is_entry(node) && !strcmp(golden_json_string(node, "name"), name)) return node;
    const cJSON *ch;
    if (cJSON_IsObject(node) || cJSON_IsArray(node)) cJSON_ArrayForEach(ch, node) {
            const cJSON *hit = golden_find(ch, name);
            if (hit) return hit;
        }
    return NULL;
}

int golden_folder_entry(const golden_folder *f, const char *name, golden_entry *e,
                        sam2_error *err) {
    const cJSON *o = golden_find(f->index, name);
    if (!o) {
        memset(e, 0, sizeof *e);
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s: no entry named %s", f->name, name);
    }
    return golden_entry_parse(o, e, err);
}

/* Skips "<tag><digits>_" at *p when present; returns 1 when skipped. */
static int skip_tag(const char **p, const char *tag) {
    size_t n = strlen(tag);
    const char *s = *p;
    if (strncmp(s, tag, n) != 0) return 0;
    s += n;
    if (*s < '0' || *s > '9') return 0;
    while (*s >= '0' && *s <= '9') s++;
    if (*s != '_') return 0;
    *p = s + 1;
    return 1;
}

void golden_base_name(const char *name, char *out, size_t size) {
    const char *p = name, *q = name;
    if (skip_tag(&q, "s") && skip_tag(&q, "f")) { /* video/api: s<step>_f<frame>_[call<k>_] */
        p = q;
        skip_tag(&p, "call");
    } else if (q = name, skip_tag(&q, "r")) { /* video/demo: r<response>_ */
        p = q;
    }
    snprintf(out, size, "%s", p);
    /* trailing "_obj<digits>" */
    size_t n = strlen(out), i = n;
    while (i > 0 && out[i - 1] >= '0' && out[i - 1] <= '9') i--;
    if (i < n && i > 4 && !strncmp(out + i - 4, "_obj", 4)) out[i - 4] = 0;
}
