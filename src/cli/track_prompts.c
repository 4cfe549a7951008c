#include "cli/track_prompts.h"

#include "cli/cli_util.h"
#include "cli/track_results.h"
#include "core/error.h"
#include "io/image.h"

#include <stdlib.h>
#include <string.h>

#define CMD "track"
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
                      int stop_after, char **rest, const char *opt, const char *orig) {
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
            cli_error(CMD, "%s '%s': '%s' is not KEY=VALUE", opt, orig, p);
            return -1;
        }
        *eq = '\0';
        int k = 0;
        while (k < nkeys && strcmp(keys[k], p)) k++;
        if (k == nkeys) {
            cli_error(CMD, "%s '%s': unknown key '%s'", opt, orig, p);
            return -1;
        }
        if (vals[k]) {
            cli_error(CMD, "%s '%s': '%s' given twice", opt, orig, p);
            return -1;
        }
        vals[k] = eq + 1;
        seen++;
        p = comma ? comma + 1 : NULL;
    }
    if (rest) *rest = NULL;
    return 0;
}

static int need_int(const char *v, const char *key, const char *opt, const char *orig, int *out) {
    if (!v || cli_parse_int(v, out)) {
        cli_error(CMD, "%s '%s': %s=INTEGER is required", opt, orig, key);
        return -1;
    }
    return 0;
}

static int need_float(const char *v, const char *key, const char *opt, const char *orig,
                      float *out) {
    if (!v || cli_parse_float(v, out)) {
        cli_error(CMD, "%s '%s': %s=NUMBER is required", opt, orig, key);
        return -1;
    }
    return 0;
}

int track_prompts_add(track_prompts *ps, char kind, const char *spec) {
    static const char *const PT[] = {"frame", "obj", "x", "y", "label"};
    static const char *const BX[] = {"frame", "obj", "x0", "y0", "x1", "y1"};
    static const char *const MK[] = {"frame", "obj", "file"};
    const char *opt = kind == 'p' ? "--prompt" : kind == 'b' ? "--box" : "--mask-prompt";
    char buf[SPEC_BYTES];
    if (strlen(spec) >= sizeof buf) {
        cli_error(CMD, "%s: specification too long", opt);
        return -1;
    }
    strcpy(buf, spec);
    const char *v[6];
    char *rest = NULL;
    int frame, obj, rc;
    if (kind == 'p')
        rc = split_spec(buf, PT, 5, v, 0, NULL, opt, spec);
    else if (kind == 'b')
        rc = split_spec(buf, BX, 6, v, 0, NULL, opt, spec);
    else
        rc = split_spec(buf, MK, 3, v, 2, &rest, opt, spec);
    if (rc || need_int(v[0], "frame", opt, spec, &frame) || need_int(v[1], "obj", opt, spec, &obj))
        return -1;
    if (frame < 0) {
        cli_error(CMD, "%s '%s': frame must be >= 0", opt, spec);
        return -1;
    }
    if (obj < 1 || obj > TRACK_MAX_OBJECT_ID) {
        cli_error(CMD, "%s '%s': obj must be 1..%d (0 is the background in the PNGs)", opt, spec,
                  TRACK_MAX_OBJECT_ID);
        return -1;
    }
    track_prompt *g = group(ps, frame, obj);
    if (!g) {
        cli_error(CMD, "out of memory");
        return -1;
    }
    if (kind == 'p') {
        sam2_point pt = {.label = 1};
        if (need_float(v[2], "x", opt, spec, &pt.x) || need_float(v[3], "y", opt, spec, &pt.y) ||
            (v[4] && need_int(v[4], "label", opt, spec, &pt.label)))
            return -1;
        sam2_point *np = realloc(g->points, sizeof *np * (size_t)(g->n_points + 1));
        if (!np) {
            cli_error(CMD, "out of memory");
            return -1;
        }
        g->points = np;
        g->points[g->n_points++] = pt;
    } else if (kind == 'b') {
        static const char *const K[4] = {"x0", "y0", "x1", "y1"};
        if (g->has_box) {
            cli_error(CMD, "--box '%s': object %d already has a box on frame %d", spec, obj, frame);
            return -1;
        }
        for (int k = 0; k < 4; k++)
            if (need_float(v[2 + k], K[k], opt, spec, &g->box[k])) return -1;
        g->has_box = 1;
    } else {
        if (rest && !strncmp(rest, "file=", 5)) rest += 5;
        const char *file = v[2] ? v[2] : rest;
        if (!file || !*file) {
            cli_error(CMD, "--mask-prompt '%s': expected frame=F,obj=K,FILE", spec);
            return -1;
        }
        if (g->mask_file) {
            cli_error(CMD, "--mask-prompt '%s': object %d already has a mask on frame %d", spec,
                      obj, frame);
            return -1;
        }
        /* Point into the caller's argv string, which outlives the prompts. */
        g->mask_file = spec + (file - buf);
    }
    if (g->mask_file && (g->n_points || g->has_box)) {
        cli_error(CMD,
                  "object %d on frame %d has both a mask prompt and clicks/a box; give one kind",
                  obj, frame);
        return -1;
    }
    return 0;
}

int track_prompts_load_masks(track_prompts *ps, sam2_error *err) {
    for (int i = 0; i < ps->n; i++) {
        track_prompt *g = &ps->items[i];
        if (!g->mask_file) continue;
        image_rgb img = {0};
        if (image_load_file(g->mask_file, &img, err)) {
            sam2_error_prefix(err, "--mask-prompt");
            return -1;
        }
        const size_t n = (size_t)img.width * img.height;
        g->mask = malloc(n);
        if (!g->mask) {
            image_free(&img);
            return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for %s", g->mask_file);
        }
        for (size_t k = 0; k < n; k++) {
            const uint8_t *px = img.pixels + 3 * k;
            g->mask[k] = px[0] >= 128 || px[1] >= 128 || px[2] >= 128;
        }
        g->mask_w = img.width;
        g->mask_h = img.height;
        image_free(&img);
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
