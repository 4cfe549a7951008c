/* The effects renderer (effects.h): docs/effects.md in integer arithmetic. Windowed passes
 * (box blur, erosion/dilation counts) use running sums, so a pass costs the same whatever its
 * radius. Every pass clamps at the frame's edges. */
#include "app/effects.h"

#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct effects_renderer {
    int w, h;
    uint8_t *a, *b, *c; /* 4 bytes per pixel each: blur ping-pong and results */
    uint8_t *m;         /* 1 byte per pixel: masks, window counts */
    int *sums;          /* w * 4 running column sums */
};

effects_renderer *effects_renderer_new(int width, int height, sam2_error *err) {
    if (width < 1 || height < 1 || width > 16384 || height > 16384) {
        sam2_fail(err, SAM2_ERR_ARGUMENT, "effects: a %dx%d frame is out of range", width, height);
        return NULL;
    }
    effects_renderer *r = calloc(1, sizeof *r);
    const size_t hw = (size_t)width * height;
    if (r) {
        r->w = width;
        r->h = height;
        r->a = malloc(hw * 4);
        r->b = malloc(hw * 4);
        r->c = malloc(hw * 4);
        r->m = malloc(hw);
        r->sums = malloc((size_t)width * 4 * sizeof *r->sums);
    }
    if (!r || !r->a || !r->b || !r->c || !r->m || !r->sums) {
        effects_renderer_free(r);
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for the effects of a %dx%d frame", width,
                  height);
        return NULL;
    }
    return r;
}

void effects_renderer_free(effects_renderer *r) {
    if (!r) return;
    free(r->a);
    free(r->b);
    free(r->c);
    free(r->m);
    free(r->sums);
    free(r);
}

/* ---- helpers ----------------------------------------------------------------------------------
 */

static inline int mix8(int x, int y, int a) {
    return (x * (255 - a) + y * a + 127) / 255;
}
static inline int scale8(int x, int a) {
    return (x * a + 127) / 255;
}
static inline int luma8(const uint8_t *p) {
    return (77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8;
}
static inline int clampi(int v, int lo, int hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

static int isqrt(long long n) {
    long long s = (long long)sqrt((double)n);
    while (s * s > n) s--;
    while ((s + 1) * (s + 1) <= n) s++;
    return (int)s;
}

/* One horizontal box pass over nch interleaved channels: out = (window sum + r) / (2r + 1). */
static void box_h(const uint8_t *in, uint8_t *out, int w, int h, int nch, int r) {
    const int n = 2 * r + 1;
    for (int y = 0; y < h; y++) {
        const uint8_t *row = in + (size_t)y * w * nch;
        uint8_t *o = out + (size_t)y * w * nch;
        for (int c = 0; c < nch; c++) {
            int sum = 0;
            for (int j = -r; j <= r; j++) sum += row[clampi(j, 0, w - 1) * nch + c];
            for (int x = 0; x < w; x++) {
                o[x * nch + c] = (uint8_t)((sum + r) / n);
                sum += row[clampi(x + r + 1, 0, w - 1) * nch + c] -
                       row[clampi(x - r, 0, w - 1) * nch + c];
            }
        }
    }
}

/* The vertical pass: running sums per column, walking rows (cache friendly). */
static void box_v(const uint8_t *in, uint8_t *out, int w, int h, int nch, int r, int *sums) {
    const int n = 2 * r + 1;
    const size_t stride = (size_t)w * nch;
    for (size_t i = 0; i < stride; i++) {
        int sum = 0;
        for (int j = -r; j <= r; j++) sum += in[(size_t)clampi(j, 0, h - 1) * stride + i];
        sums[i] = sum;
    }
    for (int y = 0; y < h; y++) {
        const uint8_t *add = in + (size_t)clampi(y + r + 1, 0, h - 1) * stride;
        const uint8_t *sub = in + (size_t)clampi(y - r, 0, h - 1) * stride;
        uint8_t *o = out + (size_t)y * stride;
        for (size_t i = 0; i < stride; i++) {
            o[i] = (uint8_t)((sums[i] + r) / n);
            sums[i] += add[i] - sub[i];
        }
    }
}

/* blur(P, r) = box(box(P, r), r): the result ends in `data`, `tmp` is scratch. */
static void blur(effects_renderer *e, uint8_t *data, uint8_t *tmp, int nch, int r) {
    for (int k = 0; k < 2; k++) {
        box_h(data, tmp, e->w, e->h, nch, r);
        box_v(tmp, data, e->w, e->h, nch, r, e->sums);
    }
}

/* For object k: e->m = erode (mode 0) or dilate (mode 1) of (labels == k) by a square of radius r.
 * Horizontal counts of matching pixels in the window, then a vertical window over "all" / "any". */
static void morph(effects_renderer *e, const uint8_t *labels, int k, int r, int dilate) {
    const int w = e->w, h = e->h, n = 2 * r + 1;
    uint8_t *rowflag = e->c; /* 1 byte per pixel: the horizontal result */
    for (int y = 0; y < h; y++) {
        const uint8_t *L = labels + (size_t)y * w;
        int cnt = 0;
        for (int j = -r; j <= r; j++) cnt += L[clampi(j, 0, w - 1)] == k;
        for (int x = 0; x < w; x++) {
            rowflag[(size_t)y * w + x] = dilate ? cnt > 0 : cnt == n;
            cnt += (L[clampi(x + r + 1, 0, w - 1)] == k) - (L[clampi(x - r, 0, w - 1)] == k);
        }
    }
    int *cnt = e->sums;
    for (int x = 0; x < w; x++) {
        int s = 0;
        for (int j = -r; j <= r; j++) s += rowflag[(size_t)clampi(j, 0, h - 1) * w + x];
        cnt[x] = s;
    }
    for (int y = 0; y < h; y++) {
        const uint8_t *add = rowflag + (size_t)clampi(y + r + 1, 0, h - 1) * w;
        const uint8_t *sub = rowflag + (size_t)clampi(y - r, 0, h - 1) * w;
        for (int x = 0; x < w; x++) {
            e->m[(size_t)y * w + x] = dilate ? cnt[x] > 0 : cnt[x] == n;
            cnt[x] += add[x] - sub[x];
        }
    }
}

static void checker(const effects_spec *s, int x, int y, uint8_t *o) {
    const uint8_t *c =
        ((x / s->checker_cell + y / s->checker_cell) % 2 == 0) ? s->checker_dark : s->checker_light;
    o[0] = c[0];
    o[1] = c[1];
    o[2] = c[2];
}

/* ---- background -------------------------------------------------------------------------------
 */

static void background(effects_renderer *e, const effects_spec *spec, const effects_scene *scene,
                       const uint8_t *src, const uint8_t *labels, const uint8_t *bg_image,
                       uint8_t *out) {
    const int w = e->w, h = e->h;
    const size_t hw = (size_t)w * h;
    const effects_variant *v = &spec->background[scene->background].variants[scene->bg_variant];
    if (scene->background == FX_BG_BLUR) {
        memcpy(e->a, src, hw * 3);
        blur(e, e->a, e->b, 3, v->radius);
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const size_t i = (size_t)y * w + x;
            if (labels[i]) continue;
            const uint8_t *s = src + 3 * i;
            uint8_t *o = out + 3 * i;
            switch (scene->background) {
            case FX_BG_BLUR:
                memcpy(o, e->a + 3 * i, 3);
                break;
            case FX_BG_DESATURATE: {
                const int yv = luma8(s);
                for (int c = 0; c < 3; c++) o[c] = (uint8_t)mix8(s[c], yv, v->amount);
                break;
            }
            case FX_BG_DIM:
                for (int c = 0; c < 3; c++) o[c] = (uint8_t)scale8(s[c], v->level);
                break;
            case FX_BG_ERASE:
                if (v->transparent)
                    checker(spec, x, y, o);
                else
                    memcpy(o, v->color, 3);
                break;
            case FX_BG_REPLACE:
                memcpy(o, bg_image + 3 * i, 3);
                break;
            default:
                break;
            }
        }
}

/* ---- spotlights -------------------------------------------------------------------------------
 */

typedef struct spot {
    long long cx, cy;
    int r_in, r_out, level;
} spot;

static void spotlights(effects_renderer *e, const effects_spec *spec, const effects_scene *scene,
                       const uint8_t *labels, uint8_t *out) {
    const int w = e->w, h = e->h;
    spot spots[EFFECTS_MAX_OBJECTS];
    int n = 0;
    for (int k = 0; k < scene->n; k++) {
        if (scene->objects[k].effect != FX_SPOTLIGHT) continue;
        int x0 = w, y0 = h, x1 = -1, y1 = -1;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (labels[(size_t)y * w + x] == k + 1) {
                    if (x < x0) x0 = x;
                    if (x > x1) x1 = x;
                    if (y < y0) y0 = y;
                    if (y > y1) y1 = y;
                }
        if (x1 < 0) continue;
        const effects_variant *v = &spec->object[FX_SPOTLIGHT].variants[scene->objects[k].variant];
        const long long bw = x1 - x0 + 1, bh = y1 - y0 + 1;
        spot *s = &spots[n++];
        s->cx = x0 + x1 + 1;
        s->cy = y0 + y1 + 1;
        s->r_in = (int)((long long)isqrt(bw * bw + bh * bh) * v->scale / 100);
        s->r_out = s->r_in + 2 * v->feather;
        s->level = v->level;
    }
    if (!n) return;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const size_t i = (size_t)y * w + x;
            if (labels[i]) continue;
            int b = 0;
            for (int k = 0; k < n && b < 255; k++) {
                const long long dx = 2LL * x + 1 - spots[k].cx, dy = 2LL * y + 1 - spots[k].cy;
                const int d = isqrt(dx * dx + dy * dy);
                int bk;
                if (d <= spots[k].r_in)
                    bk = 255;
                else if (d >= spots[k].r_out)
                    bk = spots[k].level;
                else
                    bk = spots[k].level + (255 - spots[k].level) * (spots[k].r_out - d) /
                                              (spots[k].r_out - spots[k].r_in);
                if (bk > b) b = bk;
            }
            for (int c = 0; c < 3; c++) out[3 * i + c] = (uint8_t)scale8(out[3 * i + c], b);
        }
}

/* ---- objects ----------------------------------------------------------------------------------
 */

static int present(const uint8_t *labels, size_t hw, int k) {
    for (size_t i = 0; i < hw; i++)
        if (labels[i] == k) return 1;
    return 0;
}

static void pixelate(effects_renderer *e, const uint8_t *src, const uint8_t *labels, int k, int b,
                     uint8_t *out) {
    const int w = e->w, h = e->h;
    for (int by = 0; by < h; by += b)
        for (int bx = 0; bx < w; bx += b) {
            const int ex = bx + b < w ? bx + b : w, ey = by + b < h ? by + b : h;
            int hit = 0;
            for (int y = by; y < ey && !hit; y++)
                for (int x = bx; x < ex; x++)
                    if (labels[(size_t)y * w + x] == k) {
                        hit = 1;
                        break;
                    }
            if (!hit) continue;
            long sum[3] = {0, 0, 0};
            const long n = (long)(ex - bx) * (ey - by);
            for (int y = by; y < ey; y++)
                for (int x = bx; x < ex; x++)
                    for (int c = 0; c < 3; c++) sum[c] += src[3 * ((size_t)y * w + x) + c];
            uint8_t mean[3];
            for (int c = 0; c < 3; c++) mean[c] = (uint8_t)((sum[c] + n / 2) / n);
            for (int y = by; y < ey; y++)
                for (int x = bx; x < ex; x++)
                    if (labels[(size_t)y * w + x] == k)
                        memcpy(out + 3 * ((size_t)y * w + x), mean, 3);
        }
}

static void object(effects_renderer *e, const effects_spec *spec, const effects_object *obj, int k,
                   const uint8_t *src, const uint8_t *labels, uint8_t *out) {
    const int w = e->w, h = e->h;
    const size_t hw = (size_t)w * h;
    const effects_variant *v = &spec->object[obj->effect].variants[obj->variant];
    const uint8_t *C = obj->color;
    if (!present(labels, hw, k)) return; /* nothing of it on this frame: no ring, no glow */
    switch (obj->effect) {
    case FX_ORIGINAL:
    case FX_SPOTLIGHT:
        for (size_t i = 0; i < hw; i++)
            if (labels[i] == k) memcpy(out + 3 * i, src + 3 * i, 3);
        break;
    case FX_FILL:
        for (size_t i = 0; i < hw; i++)
            if (labels[i] == k)
                for (int c = 0; c < 3; c++)
                    out[3 * i + c] = (uint8_t)mix8(out[3 * i + c], C[c], v->alpha);
        break;
    case FX_OUTLINE:
        morph(e, labels, k, v->width, 0);
        for (size_t i = 0; i < hw; i++)
            if (labels[i] == k && !e->m[i]) memcpy(out + 3 * i, C, 3);
        break;
    case FX_CUTOUT:
        morph(e, labels, k, v->width, 1);
        for (size_t i = 0; i < hw; i++) {
            if (labels[i] == k)
                memcpy(out + 3 * i, src + 3 * i, 3);
            else if (labels[i] == 0 && e->m[i])
                memcpy(out + 3 * i, v->color, 3);
        }
        break;
    case FX_GLOW:
        for (size_t i = 0; i < hw; i++) e->a[i] = labels[i] == k ? 255 : 0;
        blur(e, e->a, e->b, 1, v->radius);
        for (size_t i = 0; i < hw; i++) {
            if (labels[i] == k) continue;
            const int a = scale8(e->a[i], v->strength);
            for (int c = 0; c < 3; c++) out[3 * i + c] = (uint8_t)mix8(out[3 * i + c], C[c], a);
        }
        break;
    case FX_PIXELATE:
        pixelate(e, src, labels, k, v->block, out);
        break;
    case FX_ERASE:
        if (v->transparent) {
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    if (labels[(size_t)y * w + x] == k)
                        checker(spec, x, y, out + 3 * ((size_t)y * w + x));
            break;
        }
        for (size_t i = 0; i < hw; i++) {
            const int wt = labels[i] == k ? 0 : 255;
            for (int c = 0; c < 3; c++) e->a[4 * i + c] = (uint8_t)scale8(src[3 * i + c], wt);
            e->a[4 * i + 3] = (uint8_t)wt;
        }
        blur(e, e->a, e->b, 4, v->radius);
        for (size_t i = 0; i < hw; i++) {
            if (labels[i] != k) continue;
            const int wt = e->a[4 * i + 3];
            for (int c = 0; c < 3; c++) {
                const int val =
                    wt ? (e->a[4 * i + c] * 255 + wt / 2) / wt : spec->erase_fallback[c];
                out[3 * i + c] = (uint8_t)(val > 255 ? 255 : val);
            }
        }
        break;
    case FX_RECOLOR:
        for (size_t i = 0; i < hw; i++) {
            if (labels[i] != k) continue;
            const uint8_t *s = src + 3 * i;
            uint8_t *o = out + 3 * i;
            if (v->mode == FX_RECOLOR_TINT) {
                const int yv = luma8(s);
                for (int c = 0; c < 3; c++) o[c] = (uint8_t)scale8(yv, C[c]);
            } else if (v->mode == FX_RECOLOR_SWAP) {
                const uint8_t r = s[0], g = s[1], b = s[2];
                o[0] = b;
                o[1] = r;
                o[2] = g;
            } else {
                for (int c = 0; c < 3; c++) o[c] = (uint8_t)(255 - s[c]);
            }
        }
        break;
    default:
        break;
    }
}

int effects_render(effects_renderer *r, const effects_scene *scene, const uint8_t *src,
                   const uint8_t *labels, const uint8_t *bg_image, uint8_t *out, sam2_error *err) {
    const effects_spec *spec = effects_spec_get(err);
    if (!spec) return -1;
    if (scene->background < 0 || scene->background >= FX_BG_COUNT || scene->bg_variant < 0 ||
        scene->bg_variant >= spec->background[scene->background].n_variants || scene->n < 0 ||
        scene->n > EFFECTS_MAX_OBJECTS)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "effects: the scene is out of range");
    for (int k = 0; k < scene->n; k++) {
        const effects_object *o = &scene->objects[k];
        if (o->effect < 0 || o->effect >= FX_OBJ_COUNT || o->variant < 0 ||
            o->variant >= spec->object[o->effect].n_variants)
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "effects: object %d's effect is out of range",
                             o->id);
    }
    if (scene->background == FX_BG_REPLACE && !bg_image)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "effects: the replace background needs an image");
    memcpy(out, src, (size_t)r->w * r->h * 3);
    background(r, spec, scene, src, labels, bg_image, out);
    spotlights(r, spec, scene, labels, out);
    for (int k = 0; k < scene->n; k++) object(r, spec, &scene->objects[k], k + 1, src, labels, out);
    return 0;
}
