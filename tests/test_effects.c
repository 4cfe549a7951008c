/* The effects renderer (src/app/effects.c) on a synthetic frame: the embedded spec loads and lists
 * every effect with its variants; the effects.mp4 query parameters parse, and malformed ones are
 * refused naming what is wrong; each effect changes the pixels it should and only those (a table:
 * effect, variant, the region it may touch, the region it must change); the simple effects give
 * exactly the formula of docs/effects.md; labels follow the listed order. The byte-for-byte
 * agreement with the page's renderers is web/tests/unit/effects.test.ts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/error.h"
#include "app/effects.h"
#include "io/rle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 96
#define H 64

static uint8_t src[W * H * 3], labels[W * H], bg_image[W * H * 3], out[W * H * 3];

/* A noisy gradient (so every effect changes something), a rectangle (object 1) and a disc
 * (object 2) that overlaps it: the disc, listed later, wins the overlap. */
static void make_frame(void) {
    uint32_t s = 7;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            s = s * 1664525u + 1013904223u;
            uint8_t *p = src + 3 * (y * W + x);
            p[0] = (uint8_t)(x * 2 + (s >> 28));
            p[1] = (uint8_t)(y * 3 + ((s >> 24) & 15));
            p[2] = (uint8_t)(128 + ((s >> 20) & 63));
            bg_image[3 * (y * W + x)] = (uint8_t)(255 - x);
            bg_image[3 * (y * W + x) + 1] = 40;
            bg_image[3 * (y * W + x) + 2] = (uint8_t)y;
            const int in_rect = x >= 20 && x < 50 && y >= 16 && y < 44;
            const int in_disc = (x - 58) * (x - 58) + (y - 34) * (y - 34) <= 14 * 14;
            labels[y * W + x] = in_disc ? 2 : in_rect ? 1 : 0;
        }
}

static effects_scene scene_of(const char *bg, const char *objects) {
    effects_scene sc;
    sam2_error err = {0};
    if (effects_scene_parse(bg, objects, &sc, &err))
        fail_msg("parse %s / %s: %s", bg ? bg : "-", objects ? objects : "-", err.message);
    return sc;
}

static void render(const effects_scene *sc) {
    sam2_error err = {0};
    effects_renderer *r = effects_renderer_new(W, H, &err);
    assert_non_null(r);
    if (effects_render(r, sc, src, labels, bg_image, out, &err))
        fail_msg("render: %s", err.message);
    effects_renderer_free(r);
}

static int changed(int i) {
    return memcmp(src + 3 * i, out + 3 * i, 3) != 0;
}

/* Chebyshev distance from pixel i to the nearest pixel with label k (large when none). */
static int dist_to(int i, int k) {
    const int x = i % W, y = i / W;
    int best = 1 << 20;
    for (int j = 0; j < W * H; j++) {
        if (labels[j] != k) continue;
        const int dx = abs(j % W - x), dy = abs(j / W - y);
        const int d = dx > dy ? dx : dy;
        if (d < best) best = d;
    }
    return best;
}

/* ---- the spec ----------------------------------------------------------------------------------
 */

static void test_spec(void **state) {
    (void)state;
    sam2_error err = {0};
    const effects_spec *s = effects_spec_get(&err);
    if (!s) fail_msg("spec: %s", err.message);
    assert_string_equal(s->background[FX_BG_BLUR].name, "blur");
    assert_string_equal(s->object[FX_SPOTLIGHT].name, "spotlight");
    /* Every effect but "none" / "original" has at least two variants (the issue asks for them). */
    for (int k = 1; k < FX_BG_COUNT; k++) assert_true(s->background[k].n_variants >= 2);
    for (int k = 1; k < FX_OBJ_COUNT; k++) assert_true(s->object[k].n_variants >= 2);
    assert_true(s->background[FX_BG_ERASE].variants[0].transparent);
    assert_true(s->background[FX_BG_ERASE].variants[1].has_color);
    assert_int_equal(s->background[FX_BG_REPLACE].variants[1].source, FX_REPLACE_IMAGE);
    assert_int_equal(s->object[FX_RECOLOR].variants[2].mode, FX_RECOLOR_INVERT);
    assert_true(s->checker_cell > 0);
}

static void test_parse(void **state) {
    (void)state;
    effects_scene sc = scene_of("blur.1", "3:glow.1:ff7f0e,-1:pixelate:00FF10,0:original.0:000000");
    assert_int_equal(sc.background, FX_BG_BLUR);
    assert_int_equal(sc.bg_variant, 1);
    assert_int_equal(sc.n, 3);
    assert_int_equal(sc.objects[0].id, 3);
    assert_int_equal(sc.objects[0].effect, FX_GLOW);
    assert_int_equal(sc.objects[0].variant, 1);
    assert_memory_equal(sc.objects[0].color, ((uint8_t[]){0xff, 0x7f, 0x0e}), 3);
    assert_int_equal(sc.objects[1].id, -1);
    assert_int_equal(sc.objects[1].variant, 0);
    assert_memory_equal(sc.objects[1].color, ((uint8_t[]){0x00, 0xff, 0x10}), 3);
    sc = scene_of(NULL, NULL);
    assert_int_equal(sc.background, FX_BG_NONE);
    assert_int_equal(sc.n, 0);
    assert_int_equal(effects_scene_replace_source(&sc), -1);
    sc = scene_of("replace.1", "");
    assert_int_equal(effects_scene_replace_source(&sc), FX_REPLACE_IMAGE);

    static const struct {
        const char *bg, *objects, *message;
    } BAD[] = {
        {"sparkle", NULL, "unknown background effect \"sparkle\""},
        {"blur.2", NULL, "has variants 0..1, not 2"},
        {"blur.x", NULL, "must be a number"},
        {"blur.", NULL, "must be a number"},
        {NULL, "1:fill.0", "is not <id>:<effect>.<variant>:<rrggbb>"},
        {NULL, "a:fill.0:ffffff", "must be an integer"},
        {NULL, "1:zap.0:ffffff", "unknown object effect \"zap\""},
        {NULL, "1:fill.0:fffff", "6 hex digits"},
        {NULL, "1:fill.0:gggggg", "6 hex digits"},
        {NULL, "1:fill.0:ffffff,1:glow.0:000000", "listed twice"},
        {NULL, "1:fill.0:ffffff,", "is not <id>"},
        {NULL, "1234567890:fill.0:ffffff", "must be an integer"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        sam2_error err = {0};
        effects_scene bad;
        if (effects_scene_parse(BAD[i].bg, BAD[i].objects, &bad, &err) == 0)
            fail_msg("case %zu is accepted", i);
        assert_int_equal(err.code, SAM2_ERR_ARGUMENT);
        if (!strstr(err.message, BAD[i].message))
            fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err.message, BAD[i].message);
    }
}

/* ---- regions -----------------------------------------------------------------------------------
 */

typedef enum region {
    R_NONE,       /* nothing may change */
    R_OBJ1,       /* the rectangle's own pixels (label 1) */
    R_OBJ1_EDGE,  /* label 1 within `reach` of another label */
    R_RING1,      /* background within `reach` of label 1 */
    R_NEAR1,      /* any pixel other than label 1 within `reach` of it */
    R_BACKGROUND, /* label 0 */
} region;

static int in_region(region r, int i, int reach) {
    switch (r) {
    case R_NONE:
        return 0;
    case R_OBJ1:
        return labels[i] == 1;
    case R_OBJ1_EDGE: {
        if (labels[i] != 1) return 0;
        const int x = i % W, y = i / W;
        for (int dy = -reach; dy <= reach; dy++)
            for (int dx = -reach; dx <= reach; dx++) {
                const int xx = x + dx < 0 ? 0 : x + dx >= W ? W - 1 : x + dx;
                const int yy = y + dy < 0 ? 0 : y + dy >= H ? H - 1 : y + dy;
                if (labels[yy * W + xx] != 1) return 1;
            }
        return 0;
    }
    case R_RING1:
        return labels[i] == 0 && dist_to(i, 1) <= reach;
    case R_NEAR1:
        return labels[i] != 1 && dist_to(i, 1) <= reach;
    case R_BACKGROUND:
        return labels[i] == 0;
    }
    return 0;
}

/* Object 1 (the rectangle) gets the effect; object 2 (the disc) stays original. */
static void test_object_regions(void **state) {
    (void)state;
    static const struct {
        const char *effect;
        region may;  /* changed pixels must lie here */
        int reach;   /* the region's distance parameter */
        region must; /* ... and at least `share` % of these pixels, within `must_reach`, change */
        int must_reach, share;
    } CASES[] = {
        {"original.0", R_NONE, 0, R_NONE, 0, 0},
        {"fill.0", R_OBJ1, 0, R_OBJ1, 0, 95},
        {"fill.1", R_OBJ1, 0, R_OBJ1, 0, 95},
        {"outline.0", R_OBJ1_EDGE, 2, R_OBJ1_EDGE, 2, 90},
        {"outline.1", R_OBJ1_EDGE, 6, R_OBJ1_EDGE, 6, 90},
        {"cutout.0", R_RING1, 5, R_RING1, 5, 90},
        {"cutout.1", R_RING1, 5, R_RING1, 5, 90},
        {"glow.0", R_NEAR1, 12, R_RING1, 6, 90},
        {"glow.1", R_NEAR1, 32, R_RING1, 16, 90},
        {"pixelate.0", R_OBJ1, 0, R_OBJ1, 0, 80},
        {"pixelate.1", R_OBJ1, 0, R_OBJ1, 0, 80},
        {"erase.0", R_OBJ1, 0, R_OBJ1, 0, 80},
        {"erase.1", R_OBJ1, 0, R_OBJ1, 0, 95},
        {"spotlight.0", R_BACKGROUND, 0, R_NONE, 0, 0},
        {"spotlight.1", R_BACKGROUND, 0, R_BACKGROUND, 0, 50},
        {"recolor.0", R_OBJ1, 0, R_OBJ1, 0, 90},
        {"recolor.1", R_OBJ1, 0, R_OBJ1, 0, 90},
        {"recolor.2", R_OBJ1, 0, R_OBJ1, 0, 95},
    };
    make_frame();
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        char objects[128];
        snprintf(objects, sizeof objects, "7:%s:20c040,9:original.0:ff0000", CASES[c].effect);
        const effects_scene sc = scene_of(NULL, objects);
        render(&sc);
        int must = 0, must_changed = 0;
        for (int i = 0; i < W * H; i++) {
            if (changed(i) && !in_region(CASES[c].may, i, CASES[c].reach))
                fail_msg("%s changed pixel (%d, %d) (label %d), outside its region",
                         CASES[c].effect, i % W, i / W, labels[i]);
            if (in_region(CASES[c].must, i, CASES[c].must_reach)) {
                must++;
                must_changed += changed(i);
            }
        }
        if (must && must_changed * 100 < must * CASES[c].share)
            fail_msg("%s changed %d of the %d pixels it should (want %d %%)", CASES[c].effect,
                     must_changed, must, CASES[c].share);
    }
}

static void test_background_regions(void **state) {
    (void)state;
    static const char *const BGS[] = {"blur.0",  "blur.1",  "desaturate.0", "desaturate.1",
                                      "dim.0",   "dim.1",   "erase.0",      "erase.1",
                                      "erase.2", "erase.3", "replace.0",    "replace.1"};
    make_frame();
    for (size_t c = 0; c < sizeof BGS / sizeof BGS[0]; c++) {
        const effects_scene sc = scene_of(BGS[c], "1:original.0:000000,2:original.0:000000");
        render(&sc);
        int bg = 0, bg_changed = 0;
        for (int i = 0; i < W * H; i++) {
            if (labels[i]) {
                if (changed(i)) fail_msg("%s changed object pixel (%d, %d)", BGS[c], i % W, i / W);
            } else {
                bg++;
                bg_changed += changed(i);
            }
        }
        if (bg_changed * 100 < bg * 80)
            fail_msg("%s changed %d of %d background pixels", BGS[c], bg_changed, bg);
    }
    /* "none" changes nothing. */
    const effects_scene none = scene_of("none.0", "1:original.0:000000");
    render(&none);
    assert_memory_equal(src, out, sizeof src);
}

/* ---- exact values ------------------------------------------------------------------------------
 */

static void test_formulas(void **state) {
    (void)state;
    make_frame();
    effects_scene sc = scene_of("dim.1", "1:fill.1:20c040,2:recolor.2:000000");
    render(&sc);
    for (int i = 0; i < W * H; i++)
        for (int c = 0; c < 3; c++) {
            const int s = src[3 * i + c], C = (int[]){0x20, 0xc0, 0x40}[c];
            int want = s;
            if (labels[i] == 0) want = (s * 40 + 127) / 255;
            if (labels[i] == 1) want = (s * (255 - 230) + C * 230 + 127) / 255;
            if (labels[i] == 2) want = 255 - s;
            if (out[3 * i + c] != want)
                fail_msg("pixel %d channel %d: %d, want %d", i, c, out[3 * i + c], want);
        }
    sc = scene_of("erase.0", "1:recolor.1:000000");
    render(&sc);
    const effects_spec *spec = effects_spec_get(NULL);
    for (int i = 0; i < W * H; i++) {
        const int x = i % W, y = i / W, cell = spec->checker_cell;
        const uint8_t *want =
            labels[i] == 1 ? (uint8_t[]){src[3 * i + 2], src[3 * i], src[3 * i + 1]}
            : labels[i] == 0
                ? ((x / cell + y / cell) % 2 ? spec->checker_light : spec->checker_dark)
                : src + 3 * i;
        assert_memory_equal(out + 3 * i, want, 3);
    }
    /* replace: the image behind, pixel for pixel (no object listed: every label is 0). */
    memset(labels, 0, sizeof labels);
    sc = scene_of("replace.1", "");
    render(&sc);
    assert_memory_equal(out, bg_image, sizeof out);
    sam2_error err = {0};
    effects_renderer *r = effects_renderer_new(W, H, &err);
    assert_int_not_equal(effects_render(r, &sc, src, labels, NULL, out, &err), 0);
    assert_non_null(strstr(err.message, "needs an image"));
    effects_renderer_free(r);
}

static void test_labels(void **state) {
    (void)state;
    /* Two 4x3 masks: a covers columns 0-1, b covers columns 1-2; listed b then a, a wins. */
    uint8_t a[12] = {1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0},
            b[12] = {0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0};
    sam2_error err = {0};
    char *ca = NULL, *cb = NULL;
    assert_int_equal(rle_encode(a, 3, 4, &ca, &err), 0);
    assert_int_equal(rle_encode(b, 3, 4, &cb, &err), 0);
    mask_rle masks[2] = {{.id = 5, .counts = ca}, {.id = 8, .counts = cb}};
    mask_frame f = {.frame = 0, .n = 2, .masks = masks};
    effects_scene sc = scene_of(NULL, "8:fill.0:000000,5:fill.0:000000,99:fill.0:000000");
    uint8_t lab[12], scratch[12];
    assert_int_equal(effects_labels(&sc, &f, 4, 3, NULL, NULL, lab, scratch, &err), 0);
    const uint8_t want[12] = {2, 2, 1, 0, 2, 2, 1, 0, 2, 2, 1, 0};
    assert_memory_equal(lab, want, 12);
    /* Objects not listed are not drawn. */
    sc = scene_of(NULL, "8:fill.0:000000");
    assert_int_equal(effects_labels(&sc, &f, 4, 3, NULL, NULL, lab, scratch, &err), 0);
    const uint8_t only_b[12] = {0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0};
    assert_memory_equal(lab, only_b, 12);
    free(ca);
    free(cb);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec),           cmocka_unit_test(test_parse),
        cmocka_unit_test(test_object_regions), cmocka_unit_test(test_background_regions),
        cmocka_unit_test(test_formulas),       cmocka_unit_test(test_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
