/* Comparing computed tensors with golden entries by the README's rules (see golden.h). */
#include "support/golden.h"

#include "core/error.h"
#include "io/rle.h"
#include "app/sha256.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint16_t golden_f32_to_bf16(float x) {
    uint32_t b;
    memcpy(&b, &x, 4);
    if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x007fffffu))
        return (uint16_t)((b >> 16) | 0x40); /* quiet NaN */
    b += 0x7fffu + ((b >> 16) & 1u);
    return (uint16_t)(b >> 16);
}

float golden_bf16_to_f32(uint16_t bits) {
    uint32_t b = (uint32_t)bits << 16;
    float x;
    memcpy(&x, &b, 4);
    return x;
}

static const char *cdtype_name(golden_cdtype t) {
    switch (t) {
    case GOLDEN_C_F32:
        return "float32";
    case GOLDEN_C_U8:
        return "uint8";
    case GOLDEN_C_I32:
        return "int32";
    case GOLDEN_C_BF16:
        return "bfloat16 bits";
    }
    return "?";
}

static void say(golden_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(golden_result *r, const char *fmt, ...) {
    size_t n = strlen(r->detail);
    if (n + 1 >= sizeof r->detail) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail + n, sizeof r->detail - n, fmt, ap);
    va_end(ap);
}

static void fmt_shape(char *out, size_t size, int ndim, const int64_t *shape) {
    size_t n = (size_t)snprintf(out, size, "[");
    for (int i = 0; i < ndim && n < size; i++)
        n += (size_t)snprintf(out + n, size - n, "%s%lld", i ? "," : "", (long long)shape[i]);
    if (n < size) snprintf(out + n, size - n, "]");
}

/* Shapes equal once dimensions of size 1 are dropped. */
static int shapes_compatible(int na, const int64_t *a, int nb, const int64_t *b) {
    int i = 0, j = 0;
    for (;;) {
        while (i < na && a[i] == 1) i++;
        while (j < nb && b[j] == 1) j++;
        if (i == na || j == nb) return i == na && j == nb;
        if (a[i++] != b[j++]) return 0;
    }
}

/* Full-tensor coordinates of flat offset `off` inside a window (start[d] + position). */
static void fmt_position(char *out, size_t size, int ndim, int64_t index[][2], int64_t off) {
    int64_t pos[NPY_MAX_DIMS];
    for (int d = ndim - 1; d >= 0; d--) {
        int64_t ext = index[d][1] - index[d][0];
        pos[d] = index[d][0] + (ext ? off % ext : 0);
        off = ext ? off / ext : 0;
    }
    fmt_shape(out, size, ndim, pos);
}

static void whole_index(const golden_entry *e, int64_t index[][2]) {
    for (int d = 0; d < e->ndim; d++) index[d][0] = 0, index[d][1] = e->shape[d];
}

/* Golden values of any stored dtype as float32 (a copy unless already float32). */
static float *as_f32(const npy_array *a, float **owned) {
    *owned = NULL;
    if (a->dtype == NPY_F32) return a->data;
    float *f = malloc((size_t)(a->numel ? a->numel : 1) * sizeof *f);
    if (!f) return NULL;
    for (int64_t i = 0; i < a->numel; i++)
        f[i] = a->dtype == NPY_U16 ? golden_bf16_to_f32(((const uint16_t *)a->data)[i])
                                   : (float)npy_get(a, i);
    *owned = f;
    return f;
}

/* ---- tolerance and bf16 rules ------------------------------------------------------------- */

typedef struct acc {
    double M1; /* max(1, max|g|) */
    double tol;
    int64_t over_tol; /* values above tol (the binarisation exception allows 1 %) */
    int bf16;         /* per-value bf16 rule and identity count */
    double max_err;   /* normalised */
    char where[96];
    int64_t count, nan, identical, value_rule_fail, excused, excuse_fail;
    char value_rule_where[96];
} acc;

static void accumulate(acc *a, const float *x, const float *g, const float *unfilled, int64_t n,
                       int ndim, int64_t index[][2], double M) {
    double excuse_band = 1e-4 * a->M1, excuse_limit = 0.1 + a->tol * a->M1;
    for (int64_t i = 0; i < n; i++) {
        double xi = x[i], gi = g[i], d = fabs(xi - gi);
        a->count++;
        if (isnan(xi) || isinf(xi)) {
            if (!a->nan++) fmt_position(a->where, sizeof a->where, ndim, index, i);
            continue;
        }
        if (unfilled && fabs(unfilled[i]) <= excuse_band && d > a->tol * a->M1) {
            if (d <= excuse_limit)
                a->excused++;
            else
                a->excuse_fail++;
            continue;
        }
        if (a->bf16) {
            uint16_t bx = golden_f32_to_bf16(x[i]), bg = golden_f32_to_bf16(g[i]);
            if (bx == bg) a->identical++;
            if (d > 0x1p-7 * fabs(gi) + 1e-4 * M) {
                if (!a->value_rule_fail++)
                    fmt_position(a->value_rule_where, sizeof a->value_rule_where, ndim, index, i);
            }
        }
        double e = d / a->M1;
        if (e > a->tol) a->over_tol++;
        if (e > a->max_err || (a->count == 1 && !a->where[0])) {
            a->max_err = e;
            fmt_position(a->where, sizeof a->where, ndim, index, i);
        }
    }
}

/* mean/std/min/max of the computed full tensor (float64) against the entry's stats. */
static double stats_error(const golden_entry *e, const float *x, int64_t n, double M1, char *which,
                          size_t wsize) {
    double sum = 0, mn = INFINITY, mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        sum += x[i];
        if (x[i] < mn) mn = x[i];
        if (x[i] > mx) mx = x[i];
    }
    double mean = n ? sum / (double)n : 0, ss = 0;
    for (int64_t i = 0; i < n; i++) ss += ((double)x[i] - mean) * ((double)x[i] - mean);
    double std = n ? sqrt(ss / (double)n) : 0; /* numpy's std: population (ddof = 0) */
    const struct {
        const char *name;
        double got, want;
    } s[4] = {{"mean", mean, e->stats.mean},
              {"std", std, e->stats.std},
              {"min", mn, e->stats.min},
              {"max", mx, e->stats.max}};
    double worst = 0;
    for (int i = 0; i < 4; i++) {
        double err = fabs(s[i].got - s[i].want) / M1;
        if (isnan(err)) err = INFINITY;
        if (err > worst || (i == 0 && !which[0])) {
            worst = err;
            snprintf(which, wsize, "stats.%s %.9g vs %.9g", s[i].name, s[i].got, s[i].want);
        }
    }
    return worst;
}

/* The binarisation exception's bound for every value (EdgeTAM README). */
#define BINARISED_ALL_TOL 5e-2

static int compare_float(const golden_set *g, const golden_entry *e, double tol, int bf16,
                         int binarised, const golden_computed *c, golden_result *r,
                         sam2_error *err) {
    /* computed values as float32: bf16 bits are expanded; for bf16 entries a float32 result is
     * rounded to bf16 first, as the predictor stores it */
    int entry_bits = e->dtype == NPY_U16;
    const float *x = NULL;
    float *xown = NULL;
    if (c->dtype == GOLDEN_C_F32 && !(bf16 && entry_bits)) {
        x = c->data;
    } else if ((c->dtype == GOLDEN_C_F32 || c->dtype == GOLDEN_C_BF16) && bf16) {
        xown = malloc((size_t)(e->numel ? e->numel : 1) * sizeof *xown);
        if (!xown) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
        for (int64_t i = 0; i < e->numel; i++)
            xown[i] = c->dtype == GOLDEN_C_BF16
                          ? golden_bf16_to_f32(((const uint16_t *)c->data)[i])
                          : golden_bf16_to_f32(golden_f32_to_bf16(((const float *)c->data)[i]));
        x = xown;
    } else {
        say(r, "computed %s cannot be compared with golden %s", cdtype_name(c->dtype),
            npy_dtype_name((npy_dtype)e->dtype));
        return 0;
    }

    acc a = {0};
    a.tol = tol;
    a.bf16 = bf16;
    double M = golden_stats_max_abs(e);
    int rc = 0;
    int64_t index[NPY_MAX_DIMS][2];
    char stats_which[128] = "";
    double stats_err = 0;

    if (golden_materialisable(e)) {
        npy_array ga;
        if ((rc = golden_load(g, e, &ga, err))) goto done;
        float *gown, *gv = as_f32(&ga, &gown);
        if (!gv) {
            npy_free(&ga);
            rc = sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
            goto done;
        }
        M = 0;
        for (int64_t i = 0; i < ga.numel; i++) M = fmax(M, fabs((double)gv[i]));
        a.M1 = fmax(1.0, M);
        whole_index(e, index);
        accumulate(&a, x, gv, c->unfilled, e->numel, e->ndim, index, M);
        free(gown);
        npy_free(&ga);
    } else if (e->storage == GOLDEN_STORED_CROPS || e->storage == GOLDEN_STORED_SKIPPED) {
        if (!e->stats.present) {
            rc = sam2_fail(err, SAM2_ERR_FORMAT, "%s: %s entry without stats", e->name,
                           golden_storage_name(e->storage));
            goto done;
        }
        a.M1 = fmax(1.0, M);
        size_t esz = sizeof(float);
        for (int w = 0; w < golden_window_count(e); w++) {
            npy_array win;
            const char *where;
            if ((rc = golden_load_window(g, e, w, &win, index, &where, err))) goto done;
            float *gown, *gv = as_f32(&win, &gown);
            float *xw = malloc((size_t)(win.numel ? win.numel : 1) * esz);
            float *uw = c->unfilled ? malloc((size_t)(win.numel ? win.numel : 1) * esz) : NULL;
            if (!gv || !xw || (c->unfilled && !uw)) {
                free(gown), free(xw), free(uw), npy_free(&win);
                rc = sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
                goto done;
            }
            golden_window_extract(x, e->shape, e->ndim, index, xw, esz);
            if (uw) golden_window_extract(c->unfilled, e->shape, e->ndim, index, uw, esz);
            accumulate(&a, xw, gv, uw, win.numel, e->ndim, index, M);
            free(gown), free(xw), free(uw), npy_free(&win);
        }
        stats_err = stats_error(e, x, e->numel, a.M1, stats_which, sizeof stats_which);
    } else {
        rc = sam2_fail(err, SAM2_ERR_UNSUPPORTED, "%s: cannot compare a %s entry", e->name,
                       golden_storage_name(e->storage));
        goto done;
    }

    r->count = a.count;
    r->error = fmax(a.max_err, stats_err);
    r->pass = r->error <= tol && !a.nan && !a.excuse_fail;
    const int flips = c->binarisation_flips;
    const int64_t allowed_pct = flips > 1 ? flips : 1;
    if (binarised) {
        /* tol for >= 99 % of the values (and the stats), 5e-2 for every value; with more than
         * one flipped mask pixel, that many percent may exceed tol */
        r->pass = a.max_err <= BINARISED_ALL_TOL && stats_err <= tol &&
                  a.over_tol * 100 <= allowed_pct * a.count && !a.nan;
        r->ndiff = a.over_tol;
        say(r,
            "%lld of %lld values above %.0e (binarised input, %d flipped pixel(s): <= %lld %% "
            "allowed, all <= %.0e); ",
            (long long)a.over_tol, (long long)a.count, tol, flips, (long long)allowed_pct,
            BINARISED_ALL_TOL);
    }
    if (a.nan) r->error = INFINITY;
    if (a.count) say(r, "max err %.3g at %s", a.max_err, a.where);
    if (stats_which[0]) say(r, "%s%s (err %.3g)", a.count ? "; " : "", stats_which, stats_err);
    if (a.nan) say(r, "; %lld NaN/inf values (first at %s)", (long long)a.nan, a.where);
    if (a.excused)
        say(r, "; %lld near-zero pixel(s) excused by the hole-filling rule", (long long)a.excused);
    if (a.excuse_fail)
        say(r, "; %lld near-zero pixel(s) differ by more than 0.1", (long long)a.excuse_fail);
    if (bf16) {
        r->ndiff = a.count - a.identical;
        int identical_ok = a.identical * 100 >= 99 * a.count;
        /* a memory encoded from a mask with extra flipped pixels: the binarisation exception */
        const int value_rule_ok =
            !a.value_rule_fail || (flips > 1 && a.value_rule_fail * 100 <= flips * a.count &&
                                   a.max_err <= BINARISED_ALL_TOL);
        r->pass = r->pass && value_rule_ok && identical_ok;
        say(r, "; %.4f%% bf16-identical%s", a.count ? 100.0 * a.identical / a.count : 100.0,
            identical_ok ? "" : " (< 99%)");
        if (a.value_rule_fail)
            say(r, "; %lld values break |x-g| <= 2^-7|g| + 1e-4 max|g| (first at %s)%s",
                (long long)a.value_rule_fail, a.value_rule_where,
                flips > 1 ? " (binarisation exception)" : "");
    }
done:
    free(xown);
    return rc;
}

/* ---- masks and exact comparisons ---------------------------------------------------------- */

static int compare_mask(const golden_set *g, const golden_entry *e, const golden_computed *c,
                        golden_result *r, sam2_error *err) {
    r->tol = 1e-3;
    if (c->dtype != GOLDEN_C_U8 && c->dtype != GOLDEN_C_F32) {
        say(r, "computed %s cannot be compared with a boolean mask", cdtype_name(c->dtype));
        return 0;
    }
    npy_array ga;
    int rc = golden_load(g, e, &ga, err);
    if (rc) return rc;
    const uint8_t *gm = ga.data;
    int64_t n = ga.numel, diff = 0;
    int64_t plane = e->ndim >= 2 ? e->shape[e->ndim - 1] * e->shape[e->ndim - 2] : n;
    int64_t worst_plane = -1, worst_plane_diff = 0, plane_diff = 0;
    for (int64_t i = 0; i < n; i++) {
        int xi = c->dtype == GOLDEN_C_U8 ? ((const uint8_t *)c->data)[i] != 0
                                         : ((const float *)c->data)[i] > 0;
        int d = xi != (gm[i] != 0);
        diff += d, plane_diff += d;
        if (plane && (i + 1) % plane == 0) {
            if (plane_diff > worst_plane_diff)
                worst_plane_diff = plane_diff, worst_plane = i / plane;
            plane_diff = 0;
        }
    }
    npy_free(&ga);
    r->count = n;
    r->ndiff = diff;
    r->error = n ? (double)diff / (double)n : 0;
    r->pass = (n - diff) * 1000 >= 999 * n;
    say(r, "%lld of %lld pixels differ (%.5f%% agree)", (long long)diff, (long long)n,
        n ? 100.0 * (n - diff) / n : 100.0);
    if (worst_plane >= 0 && n > plane)
        say(r, "; most in mask %lld (%lld)", (long long)worst_plane, (long long)worst_plane_diff);
    return 0;
}

static int64_t value_i(golden_cdtype t, const void *p, int64_t i) {
    return t == GOLDEN_C_U8 ? ((const uint8_t *)p)[i] : ((const int32_t *)p)[i];
}

static int compare_exact(const golden_set *g, const golden_entry *e, const golden_computed *c,
                         golden_result *r, sam2_error *err) {
    r->tol = 0;
    int want = e->dtype == NPY_U8 ? GOLDEN_C_U8 : GOLDEN_C_I32;
    if ((int)c->dtype != want ||
        (e->dtype != NPY_U8 && e->dtype != NPY_I32 && e->dtype != NPY_I64)) {
        say(r, "computed %s cannot be compared exactly with golden %s", cdtype_name(c->dtype),
            npy_dtype_name((npy_dtype)e->dtype));
        return 0;
    }
    int64_t diff = 0, count = 0;
    char first[96] = "";
    int64_t index[NPY_MAX_DIMS][2];
    int rc;
    if (golden_materialisable(e)) {
        npy_array ga;
        if ((rc = golden_load(g, e, &ga, err))) return rc;
        whole_index(e, index);
        for (int64_t i = 0; i < ga.numel; i++) {
            if ((int64_t)npy_get(&ga, i) != value_i(c->dtype, c->data, i) && !diff++)
                fmt_position(first, sizeof first, e->ndim, index, i);
        }
        count = ga.numel;
        npy_free(&ga);
    } else {
        /* partial png: the stored windows exactly, the rest through the hashes */
        for (int w = 0; w < golden_window_count(e); w++) {
            npy_array win;
            if ((rc = golden_load_window(g, e, w, &win, index, NULL, err))) return rc;
            uint8_t *xw = malloc((size_t)(win.numel ? win.numel : 1));
            if (!xw) {
                npy_free(&win);
                return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
            }
            golden_window_extract(c->data, e->shape, e->ndim, index, xw, 1);
            for (int64_t i = 0; i < win.numel; i++)
                if (xw[i] != ((uint8_t *)win.data)[i] && !diff++)
                    fmt_position(first, sizeof first, e->ndim, index, i);
            count += win.numel;
            free(xw);
            npy_free(&win);
        }
    }
    int sha_ok = 1, frames_bad = 0;
    size_t esz = c->dtype == GOLDEN_C_U8 ? 1 : 4;
    if (e->sha256 && (e->dtype == NPY_U8 || e->dtype == NPY_I32))
        sha_ok = golden_check_sha256(e, c->data, (size_t)e->numel * esz) == 1;
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(e->json, "frame_sha256");
    if (cJSON_IsArray(fs) && e->ndim >= 1 && cJSON_GetArraySize(fs) == e->shape[0] &&
        c->dtype == GOLDEN_C_U8) {
        size_t frame = (size_t)(e->numel / (e->shape[0] ? e->shape[0] : 1));
        for (int t = 0; t < e->shape[0]; t++) {
            char hex[65];
            const cJSON *h = cJSON_GetArrayItem(fs, t);
            sam2_sha256_hex((const uint8_t *)c->data + t * frame, frame, hex);
            if (!cJSON_IsString(h) || strcmp(hex, h->valuestring)) {
                if (!frames_bad++) say(r, "frame %d differs (sha256); ", t);
            }
        }
    }
    r->count = count;
    r->ndiff = diff;
    r->error = count ? (double)diff / (double)count : 0;
    if (!sha_ok || frames_bad) r->error = fmax(r->error, 1.0 / (double)(e->numel ? e->numel : 1));
    r->pass = !diff && sha_ok && !frames_bad;
    say(r, "%lld of %lld compared values differ", (long long)diff, (long long)count);
    if (diff) say(r, " (first at %s)", first);
    if (!sha_ok) say(r, "; sha256 of the whole array differs");
    if (frames_bad > 1) say(r, "; %d frames differ", frames_bad);
    return 0;
}

int golden_compare(const golden_set *g, const golden_entry *e, const golden_kind *kind,
                   const golden_computed *c, golden_result *r, sam2_error *err) {
    memset(r, 0, sizeof *r);
    r->tol = kind ? kind->tol : 0;
    if (!kind || kind->rule == GOLDEN_RULE_UNKNOWN) {
        say(r, "no tolerance rule for a tensor named %s", e->name);
        return 0;
    }
    if (!c || !c->data) {
        say(r, "no computed data");
        return 0;
    }
    if (!shapes_compatible(c->ndim, c->shape, e->ndim, e->shape)) {
        char a[96], b[96];
        fmt_shape(a, sizeof a, c->ndim, c->shape);
        fmt_shape(b, sizeof b, e->ndim, e->shape);
        say(r, "computed shape %s differs from golden %s", a, b);
        return 0;
    }
    if (e->dtype == NPY_BOOL) return compare_mask(g, e, c, r, err);
    if (e->dtype == NPY_U8 || e->dtype == NPY_I32 || e->dtype == NPY_I64)
        return compare_exact(g, e, c, r, err);
    if (e->dtype != NPY_F32 && e->dtype != NPY_U16) {
        say(r, "golden dtype %s is not comparable",
            e->dtype >= 0 ? npy_dtype_name((npy_dtype)e->dtype) : "?");
        return 0;
    }
    int bf16 = kind->rule == GOLDEN_RULE_BF16 || strstr(e->name, "bf16bits") != NULL;
    if (e->dtype == NPY_U16 && !bf16) {
        say(r, "uint16 entry that is not bfloat16 bits");
        return 0;
    }
    double tol = bf16 && kind->rule != GOLDEN_RULE_BF16 ? 0.1 : kind->tol;
    r->tol = tol;
    return compare_float(g, e, tol, bf16, kind->rule == GOLDEN_RULE_TOL_BINARISED,
                         kind->hole_fill ? c
                                         : &(golden_computed){c->dtype, c->data, c->ndim, c->shape,
                                                              NULL, c->binarisation_flips},
                         r, err);
}

int golden_compare_rle(const cJSON *rle, const uint8_t *mask, int h, int w, golden_result *r,
                       sam2_error *err) {
    memset(r, 0, sizeof *r);
    r->tol = 1e-3;
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(rle, "size");
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(rle, "counts");
    if (!cJSON_IsString(counts) || cJSON_GetArraySize(size) != 2)
        return sam2_fail(err, SAM2_ERR_FORMAT, "RLE object needs size [h, w] and counts");
    int gh = (int)cJSON_GetArrayItem(size, 0)->valuedouble,
        gw = (int)cJSON_GetArrayItem(size, 1)->valuedouble;
    if (gh != h || gw != w) {
        say(r, "computed mask %dx%d, golden RLE %dx%d", h, w, gh, gw);
        return 0;
    }
    size_t n = (size_t)h * w;
    uint8_t *gm = malloc(n ? n : 1);
    if (!gm) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    int rc = rle_decode(counts->valuestring, h, w, gm, err);
    if (rc) {
        free(gm);
        return rc;
    }
    int64_t diff = 0;
    for (size_t i = 0; i < n; i++) diff += (mask[i] != 0) != gm[i];
    free(gm);
    char *ours = NULL;
    if ((rc = rle_encode(mask, h, w, &ours, err))) return rc;
    int same = !strcmp(ours, counts->valuestring);
    free(ours);
    r->count = (int64_t)n;
    r->ndiff = diff;
    r->error = n ? (double)diff / (double)n : 0;
    r->pass = ((int64_t)n - diff) * 1000 >= 999 * (int64_t)n;
    say(r, "%lld of %zu pixels differ; RLE string %s", (long long)diff, n,
        same ? "identical" : "differs");
    return 0;
}
