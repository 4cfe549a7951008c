/* Materialising golden entries: whole tensors from npy, derived, patched, rle and png storage,
 * and the windows kept by crops and png entries. */
#include "support/golden.h"

#include "core/error.h"
#include "io/image.h"
#include "io/rle.h"
#include "app/sha256.h"

#include <stdlib.h>
#include <string.h>

static const cJSON *windows_of(const golden_entry *e) {
    if (e->storage == GOLDEN_STORED_CROPS)
        return cJSON_GetObjectItemCaseSensitive(e->json, "crops");
    if (e->storage == GOLDEN_STORED_PNG) return cJSON_GetObjectItemCaseSensitive(e->json, "png");
    return NULL;
}

int golden_window_count(const golden_entry *e) {
    const cJSON *w = windows_of(e);
    return cJSON_IsArray(w) ? cJSON_GetArraySize(w) : 0;
}

static int parse_index(const golden_entry *e, const cJSON *idx, int ndim, const int64_t *shape,
                       int64_t index[][2], sam2_error *err) {
    if (!cJSON_IsArray(idx) || cJSON_GetArraySize(idx) != ndim)
        return sam2_fail(err, SAM2_ERR_FORMAT, "%s: window index needs %d [start, stop] pairs",
                         e->name, ndim);
    for (int d = 0; d < ndim; d++) {
        const cJSON *pr = cJSON_GetArrayItem(idx, d);
        const cJSON *a = cJSON_GetArrayItem(pr, 0), *b = cJSON_GetArrayItem(pr, 1);
        if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b) || a->valuedouble < 0 ||
            b->valuedouble < a->valuedouble || b->valuedouble > (double)shape[d])
            return sam2_fail(err, SAM2_ERR_FORMAT, "%s: window index [%d] out of range", e->name,
                             d);
        index[d][0] = (int64_t)a->valuedouble;
        index[d][1] = (int64_t)b->valuedouble;
    }
    return 0;
}

static int64_t window_numel(int ndim, int64_t index[][2]) {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= index[d][1] - index[d][0];
    return n;
}

int golden_load_window(const golden_set *g, const golden_entry *e, int i, npy_array *out,
                       int64_t index[][2], const char **where, sam2_error *err) {
    memset(out, 0, sizeof *out);
    const cJSON *w = cJSON_GetArrayItem(windows_of(e), i);
    const char *file = golden_json_string(w, "file");
    if (!file) return sam2_fail(err, SAM2_ERR_FORMAT, "%s: window %d has no file", e->name, i);
    if (where) *where = golden_json_string(w, "where");
    int rc =
        parse_index(e, cJSON_GetObjectItemCaseSensitive(w, "index"), e->ndim, e->shape, index, err);
    if (rc) return rc;
    char path[GOLDEN_PATH_MAX];
    if ((rc = golden_path(g, file, path, sizeof path, err))) return rc;
    int64_t n = window_numel(e->ndim, index);
    if (e->storage == GOLDEN_STORED_CROPS) {
        if ((rc = npy_load(path, out, err))) return rc;
        if (out->numel != n || (e->dtype >= 0 && (int)out->dtype != e->dtype)) {
            npy_free(out);
            return sam2_fail(err, SAM2_ERR_FORMAT,
                             "%s: crop %s does not match its window (%lld values of %s)", e->name,
                             file, (long long)n, npy_dtype_name((npy_dtype)e->dtype));
        }
    } else {
        image_rgb img;
        if ((rc = image_load_file(path, &img, err))) return rc;
        if ((int64_t)img.width * img.height * 3 != n) {
            image_free(&img);
            return sam2_fail(err, SAM2_ERR_FORMAT, "%s: %s is %dx%d, its window holds %lld values",
                             e->name, file, img.width, img.height, (long long)n);
        }
        out->dtype = NPY_U8;
        out->data = img.pixels;
        out->numel = n;
    }
    out->ndim = e->ndim;
    for (int d = 0; d < e->ndim; d++) out->shape[d] = index[d][1] - index[d][0];
    return 0;
}

int golden_materialisable(const golden_entry *e) {
    switch (e->storage) {
    case GOLDEN_STORED_NPY:
    case GOLDEN_STORED_DERIVED:
    case GOLDEN_STORED_PATCHED:
    case GOLDEN_STORED_RLE:
        return 1;
    case GOLDEN_STORED_PNG: {
        /* whole when the windows' volumes add up to the array (they never overlap) */
        int64_t total = 0, index[NPY_MAX_DIMS][2];
        const cJSON *w;
        cJSON_ArrayForEach(w, windows_of(e)) {
            if (parse_index(e, cJSON_GetObjectItemCaseSensitive(w, "index"), e->ndim, e->shape,
                            index, NULL))
                return 0;
            total += window_numel(e->ndim, index);
        }
        return total == e->numel;
    }
    default:
        return 0;
    }
}

/* Copies a window of src (C order, shape) into/out of a packed window buffer. */
static void window_copy(void *full, const int64_t *shape, int ndim, int64_t index[][2], void *win,
                        size_t esz, int to_full) {
    if (ndim == 0) {
        if (to_full)
            memcpy(full, win, esz);
        else
            memcpy(win, full, esz);
        return;
    }
    int64_t stride[NPY_MAX_DIMS], pos[NPY_MAX_DIMS];
    stride[ndim - 1] = 1;
    for (int d = ndim - 2; d >= 0; d--) stride[d] = stride[d + 1] * shape[d + 1];
    int64_t run = index[ndim - 1][1] - index[ndim - 1][0];
    for (int d = 0; d < ndim; d++) {
        pos[d] = index[d][0];
        if (index[d][1] <= index[d][0]) return; /* empty window */
    }
    uint8_t *w = win;
    for (;;) {
        int64_t off = 0;
        for (int d = 0; d < ndim; d++) off += pos[d] * stride[d];
        uint8_t *f = (uint8_t *)full + off * esz;
        if (to_full)
            memcpy(f, w, run * esz);
        else
            memcpy(w, f, run * esz);
        w += run * esz;
        int d = ndim - 2;
        while (d >= 0 && ++pos[d] == index[d][1]) pos[d] = index[d][0], d--;
        if (d < 0) break;
    }
}

void golden_window_extract(const void *full, const int64_t *shape, int ndim, int64_t index[][2],
                           void *win, size_t esz) {
    window_copy((void *)full, shape, ndim, index, win, esz, 0);
}

void golden_window_insert(void *full, const int64_t *shape, int ndim, int64_t index[][2],
                          const void *win, size_t esz) {
    window_copy(full, shape, ndim, index, (void *)win, esz, 1);
}

static int load_derived(const golden_set *g, const golden_entry *e, npy_array *out,
                        sam2_error *err) {
    const cJSON *df = cJSON_GetObjectItemCaseSensitive(e->json, "derived_from");
    const char *file = golden_json_string(df, "file");
    if (!file) return sam2_fail(err, SAM2_ERR_FORMAT, "%s: derived_from has no file", e->name);
    char path[GOLDEN_PATH_MAX];
    npy_array src;
    int rc = golden_path(g, file, path, sizeof path, err);
    if (rc || (rc = npy_load(path, &src, err))) return rc;
    int64_t index[NPY_MAX_DIMS][2];
    if ((rc = parse_index(e, cJSON_GetObjectItemCaseSensitive(df, "index"), src.ndim, src.shape,
                          index, err))) {
        npy_free(&src);
        return rc;
    }
    int64_t n = window_numel(src.ndim, index);
    if (n != e->numel) {
        npy_free(&src);
        return sam2_fail(err, SAM2_ERR_FORMAT,
                         "%s: derived slice has %lld values, shape needs %lld", e->name,
                         (long long)n, (long long)e->numel);
    }
    if ((rc = npy_alloc(out, src.dtype, e->ndim, e->shape, err))) {
        npy_free(&src);
        return rc;
    }
    window_copy(src.data, src.shape, src.ndim, index, out->data, npy_dtype_size(src.dtype), 0);
    npy_free(&src);
    /* reshape: the slice is already laid out in C order; only the shape changes (checked above) */
    const cJSON *clamp = cJSON_GetObjectItemCaseSensitive(df, "clamp");
    if (cJSON_IsArray(clamp)) {
        const cJSON *lo = cJSON_GetArrayItem(clamp, 0), *hi = cJSON_GetArrayItem(clamp, 1);
        if (!cJSON_IsNumber(lo) || !cJSON_IsNumber(hi) || out->dtype != NPY_F32) {
            npy_free(out);
            return sam2_fail(err, SAM2_ERR_FORMAT, "%s: bad clamp", e->name);
        }
        float l = (float)lo->valuedouble, h = (float)hi->valuedouble;
        float *x = out->data;
        for (int64_t i = 0; i < out->numel; i++) x[i] = x[i] < l ? l : x[i] > h ? h : x[i];
    }
    return 0;
}

static int load_patched(const golden_set *g, const golden_entry *e, npy_array *out,
                        sam2_error *err) {
    const cJSON *pf = cJSON_GetObjectItemCaseSensitive(e->json, "patched_from");
    const char *files[3] = {golden_json_string(pf, "file"), golden_json_string(pf, "index_file"),
                            golden_json_string(pf, "values_file")};
    if (!files[0] || !files[1] || !files[2])
        return sam2_fail(err, SAM2_ERR_FORMAT,
                         "%s: patched_from needs file, index_file, values_file", e->name);
    npy_array a[3] = {{0}};
    int rc = 0;
    char path[GOLDEN_PATH_MAX];
    for (int i = 0; i < 3 && !rc; i++)
        if (!(rc = golden_path(g, files[i], path, sizeof path, err)))
            rc = npy_load(path, &a[i], err);
    if (!rc && (a[0].numel != e->numel || a[2].dtype != a[0].dtype || a[1].numel != a[2].numel ||
                (a[1].dtype != NPY_I32 && a[1].dtype != NPY_I64)))
        rc = sam2_fail(err, SAM2_ERR_FORMAT, "%s: patch files do not fit together", e->name);
    size_t esz = npy_dtype_size(a[0].dtype);
    for (int64_t i = 0; !rc && i < a[1].numel; i++) {
        int64_t k = (int64_t)npy_get(&a[1], i);
        if (k < 0 || k >= a[0].numel) {
            rc = sam2_fail(err, SAM2_ERR_FORMAT, "%s: patch index %lld out of range", e->name,
                           (long long)k);
            break;
        }
        memcpy((uint8_t *)a[0].data + k * esz, (uint8_t *)a[2].data + i * esz, esz);
    }
    npy_free(&a[1]);
    npy_free(&a[2]);
    if (rc) {
        npy_free(&a[0]);
        return rc;
    }
    *out = a[0];
    out->ndim = e->ndim;
    memcpy(out->shape, e->shape, sizeof out->shape);
    return 0;
}

static int load_rle(const golden_entry *e, npy_array *out, sam2_error *err) {
    const cJSON *rle = cJSON_GetObjectItemCaseSensitive(e->json, "rle");
    int single = cJSON_IsObject(rle);
    int m = single ? 1 : cJSON_GetArraySize(rle);
    if ((!single && !cJSON_IsArray(rle)) || e->ndim < 2 ||
        (single ? e->ndim != 2 : e->ndim != 3 || e->shape[0] != m))
        return sam2_fail(err, SAM2_ERR_FORMAT, "%s: rle does not match shape", e->name);
    int64_t h = e->shape[e->ndim - 2], w = e->shape[e->ndim - 1];
    int rc = npy_alloc(out, NPY_BOOL, e->ndim, e->shape, err);
    if (rc) return rc;
    for (int i = 0; i < m; i++) {
        const cJSON *r = single ? rle : cJSON_GetArrayItem(rle, i);
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(r, "size");
        const char *counts = golden_json_string(r, "counts");
        if (!counts || cJSON_GetArraySize(size) != 2 ||
            cJSON_GetArrayItem(size, 0)->valuedouble != h ||
            cJSON_GetArrayItem(size, 1)->valuedouble != w) {
            npy_free(out);
            return sam2_fail(err, SAM2_ERR_FORMAT, "%s: rle %d has no counts or the wrong size",
                             e->name, i);
        }
        if ((rc = rle_decode(counts, (int)h, (int)w, (uint8_t *)out->data + (size_t)i * h * w,
                             err))) {
            npy_free(out);
            sam2_error_prefix(err, "%s: mask %d", e->name, i);
            return rc;
        }
    }
    return 0;
}

int golden_load(const golden_set *g, const golden_entry *e, npy_array *out, sam2_error *err) {
    memset(out, 0, sizeof *out);
    char path[GOLDEN_PATH_MAX];
    int rc;
    switch (e->storage) {
    case GOLDEN_STORED_NPY: {
        const char *file = golden_json_string(e->json, "file");
        if (!file) return sam2_fail(err, SAM2_ERR_FORMAT, "%s: npy entry has no file", e->name);
        if ((rc = golden_path(g, file, path, sizeof path, err)) || (rc = npy_load(path, out, err)))
            return rc;
        if (out->numel != e->numel || (e->dtype >= 0 && (int)out->dtype != e->dtype)) {
            npy_free(out);
            return sam2_fail(err, SAM2_ERR_FORMAT,
                             "%s: %s does not have the entry's shape and dtype", e->name, file);
        }
        out->ndim = e->ndim;
        memcpy(out->shape, e->shape, sizeof out->shape);
        return 0;
    }
    case GOLDEN_STORED_DERIVED:
        return load_derived(g, e, out, err);
    case GOLDEN_STORED_PATCHED:
        return load_patched(g, e, out, err);
    case GOLDEN_STORED_RLE:
        return load_rle(e, out, err);
    case GOLDEN_STORED_PNG: {
        if (!golden_materialisable(e))
            return sam2_fail(err, SAM2_ERR_UNSUPPORTED,
                             "%s: png windows do not cover the whole array", e->name);
        if ((rc = npy_alloc(out, NPY_U8, e->ndim, e->shape, err))) return rc;
        for (int i = 0; i < golden_window_count(e); i++) {
            npy_array win;
            int64_t index[NPY_MAX_DIMS][2];
            if ((rc = golden_load_window(g, e, i, &win, index, NULL, err))) {
                npy_free(out);
                return rc;
            }
            window_copy(out->data, out->shape, out->ndim, index, win.data, 1, 1);
            npy_free(&win);
        }
        return 0;
    }
    default:
        return sam2_fail(err, SAM2_ERR_UNSUPPORTED, "%s: stored as %s, cannot be materialised",
                         e->name, golden_storage_name(e->storage));
    }
}

double golden_stats_max_abs(const golden_entry *e) {
    if (!e->stats.present) return -1;
    double a = e->stats.min < 0 ? -e->stats.min : e->stats.min;
    double b = e->stats.max < 0 ? -e->stats.max : e->stats.max;
    return a > b ? a : b;
}

int golden_check_sha256(const golden_entry *e, const void *data, size_t bytes) {
    if (!e->sha256) return -1;
    char hex[65];
    sam2_sha256_hex(data, bytes, hex);
    return strcmp(hex, e->sha256) == 0;
}
