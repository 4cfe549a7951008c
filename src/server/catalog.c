#include "server/catalog.h"

#include "sam2.h"
#include "server/paths.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CATALOG_MAX_VIDEOS 10000
#define CATALOG_MAX_DEPTH 16

struct catalog {
    video_entry *items;
    int n, cap;
};

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const unsigned char *d, size_t n) {
    char *out = malloc((n + 2) / 3 * 4 + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16;
        if (i + 1 < n) v |= (unsigned)d[i + 1] << 8;
        if (i + 2 < n) v |= d[i + 2];
        out[o++] = B64[(v >> 18) & 63];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? B64[v & 63] : '=';
    }
    out[o] = 0;
    return out;
}

static int b64_value(char c) {
    const char *p = c ? strchr(B64, c) : NULL;
    return p ? (int)(p - B64) : -1;
}

unsigned char *base64_decode(const char *text, size_t *n) {
    size_t len = strlen(text);
    if (len % 4) return NULL;
    unsigned char *out = malloc(len / 4 * 3 + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++) {
            if (text[i + k] == '=' && i + 4 == len && k >= 2)
                v[k] = -2;
            else if ((v[k] = b64_value(text[i + k])) < 0) {
                free(out);
                return NULL;
            }
        }
        if (v[2] == -2 && v[3] != -2) {
            free(out);
            return NULL;
        }
        unsigned w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 |
                     (unsigned)(v[2] < 0 ? 0 : v[2]) << 6 | (unsigned)(v[3] < 0 ? 0 : v[3]);
        out[o++] = (unsigned char)(w >> 16);
        if (v[2] >= 0) out[o++] = (unsigned char)(w >> 8);
        if (v[3] >= 0) out[o++] = (unsigned char)w;
    }
    out[o] = 0;
    if (n) *n = o;
    return out;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static int add_entry(catalog *c, const video_entry *e) {
    if (c->n == c->cap) {
        int ncap = c->cap ? c->cap * 2 : 16;
        video_entry *na = realloc(c->items, (size_t)ncap * sizeof *na);
        if (!na) return -1;
        c->items = na;
        c->cap = ncap;
    }
    c->items[c->n++] = *e;
    return 0;
}

/* Collects "gallery/..." paths of *.mp4 files below dir_rel (relative to data_real). */
static int walk(const char *data_real, const char *dir_rel, int depth, char ***paths, int *n,
                int *cap) {
    if (depth > CATALOG_MAX_DEPTH) return 0;
    char dir_abs[PATH_MAX];
    snprintf(dir_abs, sizeof dir_abs, "%s/%s", data_real, dir_rel);
    DIR *d = opendir(dir_abs);
    if (!d) return 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) && *n < CATALOG_MAX_VIDEOS) {
        if (e->d_name[0] == '.') continue;
        char rel[PATH_MAX], abs[PATH_MAX], real[PATH_MAX];
        if ((size_t)snprintf(rel, sizeof rel, "%s/%s", dir_rel, e->d_name) >=
            sizeof(((video_entry *)0)->path))
            continue;
        snprintf(abs, sizeof abs, "%s/%s", data_real, rel);
        struct stat st;
        /* Symlinks are followed only when they stay inside DATA_PATH. */
        if (!realpath(abs, real) || !path_is_under(data_real, real) || stat(real, &st)) continue;
        if (S_ISDIR(st.st_mode)) {
            if (walk(data_real, rel, depth + 1, paths, n, cap)) rc = -1;
        } else if (S_ISREG(st.st_mode) && ends_with(e->d_name, ".mp4")) {
            if (*n == *cap) {
                int ncap = *cap ? *cap * 2 : 16;
                char **na = realloc(*paths, (size_t)ncap * sizeof *na);
                if (!na) {
                    rc = -1;
                    break;
                }
                *paths = na;
                *cap = ncap;
            }
            if (!((*paths)[*n] = strdup(rel))) {
                rc = -1;
                break;
            }
            (*n)++;
        }
    }
    closedir(d);
    return rc;
}

/* Creates the folders of `path` below its first `keep` characters (DATA_PATH). */
static void make_parents(const char *path, size_t keep) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + keep + 1; (p = strchr(p, '/')); p++) {
        *p = 0;
        mkdir(dir, 0755);
        *p = '/';
    }
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

catalog *catalog_scan(const char *data_real, const ingest_ops *ingest, catalog_log_fn log,
                      void *log_user, sam2_error *err) {
    catalog *c = calloc(1, sizeof *c);
    if (!c) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
        return NULL;
    }
    char **paths = NULL;
    int n = 0, cap = 0;
    if (walk(data_real, "gallery", 0, &paths, &n, &cap)) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory scanning the gallery");
        goto fail;
    }
    qsort(paths, (size_t)n, sizeof *paths, cmp_str);
    for (int i = 0; i < n; i++) {
        video_entry v;
        memset(&v, 0, sizeof v);
        snprintf(v.code, sizeof v.code, "%s", paths[i]);
        snprintf(v.path, sizeof v.path, "%s", paths[i]);
        /* posters/<file name without extension>.jpg, as the official loader names them, for
         * gallery/x.mp4; a video in a subfolder keeps its folders (gallery/a/x.mp4 ->
         * posters/a/x.jpg), so gallery/a/x.mp4 and gallery/b/x.mp4 get a poster each. */
        const char *in_gallery = paths[i] + strlen("gallery/");
        int stem = (int)(strlen(in_gallery) - 4);
        snprintf(v.poster_path, sizeof v.poster_path, "posters/%.*s.jpg", stem, in_gallery);
        char video_abs[PATH_MAX], poster_abs[PATH_MAX];
        snprintf(video_abs, sizeof video_abs, "%s/%s", data_real, v.path);
        snprintf(poster_abs, sizeof poster_abs, "%s/%s", data_real, v.poster_path);
        make_parents(poster_abs, strlen(data_real));
        sam2_error perr = {0};
        if (ingest->poster(ingest->self, video_abs, poster_abs, &v.width, &v.height, &perr)) {
            /* A file the reader refuses would only fail on startSession: it is not offered. A
             * poster that could not be written (I/O) leaves the video listed without one. */
            if (perr.code != SAM2_ERR_IO) {
                if (log)
                    log(log_user, "warning: %s is not listed: it cannot be opened (%s)", v.path,
                        perr.message);
                continue;
            }
            if (log) log(log_user, "warning: no poster for %s: %s", v.path, perr.message);
            struct stat st;
            if (stat(poster_abs, &st)) v.poster_path[0] = 0;
        }
        if (add_entry(c, &v)) {
            sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
    return c;
fail:
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
    catalog_free(c);
    return NULL;
}

void catalog_free(catalog *c) {
    if (!c) return;
    free(c->items);
    free(c);
}

int catalog_count(const catalog *c) {
    return c ? c->n : 0;
}
const video_entry *catalog_at(const catalog *c, int i) {
    return c && i >= 0 && i < c->n ? &c->items[i] : NULL;
}

const video_entry *catalog_default(const catalog *c, const char *default_path) {
    if (!c || c->n == 0) return NULL;
    if (default_path && *default_path)
        for (int i = 0; i < c->n; i++)
            if (!strcmp(c->items[i].path, default_path)) return &c->items[i];
    return &c->items[0];
}

cJSON *video_to_json(const video_entry *v, const char *api_url) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    char gid_src[600], url[2048];
    snprintf(gid_src, sizeof gid_src, "Video:%s", v->code);
    char *gid = base64_encode((const unsigned char *)gid_src, strlen(gid_src));
    cJSON_AddStringToObject(o, "__typename", "Video");
    cJSON_AddStringToObject(o, "id", gid ? gid : "");
    free(gid);
    cJSON_AddStringToObject(o, "path", v->path);
    if (v->poster_path[0])
        cJSON_AddStringToObject(o, "posterPath", v->poster_path);
    else
        cJSON_AddNullToObject(o, "posterPath");
    cJSON_AddNumberToObject(o, "width", v->width);
    cJSON_AddNumberToObject(o, "height", v->height);
    snprintf(url, sizeof url, "%s/%s", api_url, v->path);
    cJSON_AddStringToObject(o, "url", url);
    /* The official backend formats a missing poster as "<API_URL>/None"; a frame-less link is
     * no more useful, so sam2c points posterUrl at the video's poster only when it has one and
     * at the API root otherwise. */
    snprintf(url, sizeof url, "%s/%s", api_url, v->poster_path);
    cJSON_AddStringToObject(o, "posterUrl", url);
    const char *base = strrchr(v->path, '/');
    cJSON_AddStringToObject(o, "title", v->title[0] ? v->title : base ? base + 1 : v->path);
    return o;
}
