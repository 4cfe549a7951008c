#include "cli/track_prompts.h"

#include "cli/cli_util.h"
#include "cli/track_results.h"
#include "sam2.h"

#include <stdlib.h>
#include <string.h>

#define SPEC_BYTES 4096

static track_prompt *group(track_prompts *ps, int frame, int obj) {
    for (int i = 0; i < ps->n; i++)
        if (ps->items[i].frame == frame && ps->items[i].obj == obj) return &ps->items[i];
    if (ps->n == ps->cap) {
        const int cap = ps->cap ? 2 * ps->cap : 8;
        track_prompt *p = realloc(ps->items, sizeof *p * (size_t)cap);
        if (!p) return NULL;
        ps->items = p;
        ps->cap = cap;
    }
    track_prompt *g = &ps->items[ps->n++];
    memset(g, 0, sizeof *g);
    g->frame = frame;
    g->obj = obj;
    return g;
}

/* Splits "k=v,k=v,..." in place; the keys' values go to vals[] in the order of keys[] (NULL
 * when absent). With rest_ok, parsing stops after the keys `stop_after` first keys and the
 * remainder is returned in *rest. */
static int split_spec(char *s, const char *const *keys, int nkeys, const char **vals,
                      int stop_after, char **rest, const char *opt, const char *orig,
                      sam2_error *err) {
    for (int k = 0; k < nkeys; k++) vals[k] = NULL;
    int seen = 0;
    char *p = s;
    while (p && *p) {
        if (rest && seen == stop_after) {
            *rest = p;
            return 0;
        }
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        char *eq = strchr(p, '=');
        if (!eq) {
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s '%s': '%s' is not KEY=VALUE", opt, orig,
                             p);
        }
        *eq = '\0';
        int k = 0;
        while (k < nkeys && strcmp(keys[k], p)) k++;
        if (k == nkeys) {
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s '%s': unknown key '%s'", opt, orig, p);
        }
        if (vals[k]) {
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s '%s': '%s' given twice", opt, orig, p);
        }
        vals[k] = eq + 1;
        seen++;
        p = comma ? comma + 1 : NULL;
    }
    if (rest) *rest = NULL;
    return 0;
}

static int need_int(const char *v, const char *key, const char *opt, const char *orig, int *out,
                    sam2_error *err) {
    if (!v || cli_parse_int(v, out)) {
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s '%s': %s=INTEGER is required", opt, orig, key);
    }
    return 0;
}

static int need_float(const char *v, const char *key, const char *opt, const char *orig, float *out,
                      sam2_error *err) {
    if (!v || cli_parse_float(v, out)) {
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s '%s': %s=NUMBER is required", opt, orig, key);
    }
    return 0;
}

int track_prompts_add(track_prompts *ps, char kind, const char *spec, sam2_error *err) {
    static const char *const PT[] = {"frame", "obj", "x", "y", "label"};
    static const char *const BX[] = {"frame", "obj", "x0", "y0", "x1", "y1"};
    static const char *const MK[] = {"frame", "obj", "file"};
    const char *opt = kind == 'p' ? "--prompt" : kind == 'b' ? "--box" : "--mask-prompt";
    char buf[SPEC_BYTES];
    if (strlen(spec) >= sizeof buf) {
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s: specification too long", opt);
    }
    strcpy(buf, spec);
    const char *v[6];
    char *rest = NULL;
    int frame, obj, rc;
    if (kind == 'p')
        rc = split_spec(buf, PT, 5, v, 0, NULL, opt, spec, err);
    else if (kind == 'b')
        rc = split_spec(buf, BX, 6, v, 0, NULL, opt, spec, err);
    else
        rc = split_spec(buf, MK, 3, v, 2, &rest, opt, spec, err);
    if (rc || need_int(v[0], "frame", opt, spec, &frame, err) ||
        need_int(v[1], "obj", opt, spec, &obj, err))
        return -1;
    if (frame < 0) {
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s '%s': frame must be >= 0", opt, spec);
    }
    if (obj < 1 || obj > TRACK_MAX_OBJECT_ID) {
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "%s '%s': obj must be 1..%d (0 is the background in the PNGs)", opt, spec,
                         TRACK_MAX_OBJECT_ID);
    }
    track_prompt *g = group(ps, frame, obj);
    if (!g) {
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    }
    if (kind == 'p') {
        sam2_point pt = {.label = 1};
        if (need_float(v[2], "x", opt, spec, &pt.x, err) ||
            need_float(v[3], "y", opt, spec, &pt.y, err) ||
            (v[4] && need_int(v[4], "label", opt, spec, &pt.label, err)))
            return -1;
        sam2_point *np = realloc(g->points, sizeof *np * (size_t)(g->n_points + 1));
        if (!np) {
            return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
        }
        g->points = np;
        g->points[g->n_points++] = pt;
    } else if (kind == 'b') {
        static const char *const K[4] = {"x0", "y0", "x1", "y1"};
        if (g->has_box) {
            return sam2_fail(err, SAM2_ERR_ARGUMENT,
                             "--box '%s': object %d already has a box on frame %d", spec, obj,
                             frame);
        }
        for (int k = 0; k < 4; k++)
            if (need_float(v[2 + k], K[k], opt, spec, &g->box[k], err)) return -1;
        g->has_box = 1;
    } else {
        if (rest && !strncmp(rest, "file=", 5)) rest += 5;
        const char *file = v[2] ? v[2] : rest;
        if (!file || !*file) {
            return sam2_fail(err, SAM2_ERR_ARGUMENT,
                             "--mask-prompt '%s': expected frame=F,obj=K,FILE", spec);
        }
        if (g->mask_file) {
            return sam2_fail(err, SAM2_ERR_ARGUMENT,
                             "--mask-prompt '%s': object %d already has a mask on frame %d", spec,
                             obj, frame);
        }
        /* Point into the caller's argv string, which outlives the prompts. */
        g->mask_file = spec + (file - buf);
    }
    if (g->mask_file && (g->n_points || g->has_box)) {
        return sam2_fail(
            err, SAM2_ERR_ARGUMENT,
            "object %d on frame %d has both a mask prompt and clicks/a box; give one kind", obj,
            frame);
    }
    return 0;
}

int track_prompts_load_masks(track_prompts *ps, sam2_error *err) {
    for (int i = 0; i < ps->n; i++) {
        track_prompt *g = &ps->items[i];
        if (!g->mask_file) continue;
        sam2_rgb_image img = {0};
        if (sam2_rgb_image_load_file(g->mask_file, &img, err)) {
            sam2_error_prefix(err, "--mask-prompt");
            return -1;
        }
        const size_t n = (size_t)img.width * img.height;
        g->mask = malloc(n);
        if (!g->mask) {
            sam2_rgb_image_free(&img);
            return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for %s", g->mask_file);
        }
        for (size_t k = 0; k < n; k++) {
            const uint8_t *px = img.pixels + 3 * k;
            g->mask[k] = px[0] >= 128 || px[1] >= 128 || px[2] >= 128;
        }
        g->mask_w = img.width;
        g->mask_h = img.height;
        sam2_rgb_image_free(&img);
    }
    return 0;
}

void track_prompts_free(track_prompts *ps) {
    for (int i = 0; i < ps->n; i++) {
        free(ps->items[i].points);
        free(ps->items[i].mask);
    }
    free(ps->items);
    memset(ps, 0, sizeof *ps);
}
