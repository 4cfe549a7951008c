/* Video effects: the page's effects (web/src/lib/effects.ts, effects_gl.ts) rendered in C for
 * GET /export/<session>/effects.mp4. The effects, their variants and parameters come from
 * src/app/effects_spec.json, embedded at build time; the math is docs/effects.md. Everything is
 * integer arithmetic, so the page's renderers and this one give the same bytes for the same
 * frame and masks.
 *
 * A scene is what to draw: a background effect and a list of objects (id, effect, variant,
 * colour) in drawing order. A frame's label image gives each pixel the 1-based position in that
 * list of the last listed object whose mask covers it (0: background). */
#ifndef SAM2_APP_EFFECTS_H
#define SAM2_APP_EFFECTS_H

#include "app/mask_export.h"
#include "sam2.h"

#include <stddef.h>
#include <stdint.h>

#define EFFECTS_MAX_OBJECTS 255 /* labels are 8-bit */
#define EFFECTS_MAX_VARIANTS 8

typedef enum effects_bg_kind {
    FX_BG_NONE,
    FX_BG_BLUR,
    FX_BG_DESATURATE,
    FX_BG_DIM,
    FX_BG_ERASE,
    FX_BG_REPLACE,
    FX_BG_COUNT
} effects_bg_kind;

typedef enum effects_obj_kind {
    FX_ORIGINAL,
    FX_FILL,
    FX_OUTLINE,
    FX_CUTOUT,
    FX_GLOW,
    FX_PIXELATE,
    FX_ERASE,
    FX_SPOTLIGHT,
    FX_RECOLOR,
    FX_OBJ_COUNT
} effects_obj_kind;

enum { FX_REPLACE_FIRST_FRAME = 0, FX_REPLACE_IMAGE = 1 };
enum { FX_RECOLOR_TINT = 0, FX_RECOLOR_SWAP = 1, FX_RECOLOR_INVERT = 2 };

/* One variant's parameters (those its effect does not use are 0). */
typedef struct effects_variant {
    char label[40];
    int radius, amount, level, alpha, width, strength, block, scale, feather;
    int transparent;
    int has_color;
    uint8_t color[3];
    int source; /* replace: FX_REPLACE_* */
    int mode;   /* recolor: FX_RECOLOR_* */
} effects_variant;

typedef struct effects_def {
    char name[16];
    int n_variants;
    effects_variant variants[EFFECTS_MAX_VARIANTS];
} effects_def;

typedef struct effects_spec {
    int checker_cell;
    uint8_t checker_dark[3], checker_light[3];
    uint8_t erase_fallback[3];
    effects_def background[FX_BG_COUNT]; /* indexed by effects_bg_kind */
    effects_def object[FX_OBJ_COUNT];    /* indexed by effects_obj_kind */
} effects_spec;

/* The embedded spec, parsed on first use (thread-safe). NULL only when the embedded file does not
 * match the effects this code implements (a build error the tests catch). */
const effects_spec *effects_spec_get(sam2_error *err);

typedef struct effects_object {
    int id; /* the session's object id */
    int effect;
    int variant;
    uint8_t color[3];
} effects_object;

typedef struct effects_scene {
    int background, bg_variant;
    int n;
    effects_object objects[EFFECTS_MAX_OBJECTS];
} effects_scene;

/* Parses the query parameters of effects.mp4 (docs/effects.md): bg "<effect>.<variant>" (NULL or
 * "": none) and objects "<id>:<effect>.<variant>:<rrggbb>,..." (NULL or "": no object). Fails with
 * SAM2_ERR_ARGUMENT and a message naming what is wrong. */
int effects_scene_parse(const char *bg, const char *objects, effects_scene *out, sam2_error *err);

/* What the background needs besides the frame: FX_REPLACE_FIRST_FRAME / FX_REPLACE_IMAGE, or -1. */
int effects_scene_replace_source(const effects_scene *scene);

/* labels[h*w] of one frame for the scene: each listed object's mask from f (NULL: no masks),
 * decoded with `decode` (NULL: io/rle's decoder); later listed objects win. scratch: h*w bytes. */
int effects_labels(const effects_scene *scene, const mask_frame *f, int width, int height,
                   mask_decode_fn decode, void *decode_user, uint8_t *labels, uint8_t *scratch,
                   sam2_error *err);

typedef struct effects_renderer effects_renderer;

/* Scratch for frames of width x height (a few planes of 4 bytes per pixel). */
effects_renderer *effects_renderer_new(int width, int height, sam2_error *err);
void effects_renderer_free(effects_renderer *r);

/* out[h*w*3] = the scene drawn on src[h*w*3] (RGB) with labels[h*w]. bg_image (h*w*3 RGB) is
 * required when the background is "replace", else ignored. */
int effects_render(effects_renderer *r, const effects_scene *scene, const uint8_t *src,
                   const uint8_t *labels, const uint8_t *bg_image, uint8_t *out, sam2_error *err);

/* ---- the effects video (effects_video.c) ------------------------------------------------------
 */

/* An overlay video (mask_export.h's writer: the source re-read frame by frame, H.264) whose frames
 * are drawn by effects_render instead of the palette overlay: mask_overlay_add(ov, frame, labels)
 * with labels from effects_labels. o->draw* must be unset (they are this function's). bg_image:
 * width * height * 3 RGB when the background is "replace" with FX_REPLACE_IMAGE (copied), else
 * NULL; with FX_REPLACE_FIRST_FRAME the source's frame 0 is read. Close and abort as any
 * overlay. */
mask_overlay *effects_video_open(const mask_overlay_options *o, const effects_scene *scene,
                                 const uint8_t *bg_image, int bg_width, int bg_height,
                                 sam2_error *err);

#endif
