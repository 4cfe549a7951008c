/* The effects video (effects.h): the overlay writer of mask_overlay.c with effects_render as its
 * drawing step, so GET /export/<session>/effects.mp4 reads, decodes and encodes exactly as
 * overlay.mp4 does. */
#include "app/effects.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

typedef struct effects_video {
    effects_scene scene;
    effects_renderer *renderer;
    uint8_t *bg;  /* the replacement background, width * height * 3, or NULL */
    uint8_t *out; /* one rendered frame */
    size_t bytes;
} effects_video;

static void video_free(void *user) {
    effects_video *v = user;
    if (!v) return;
    effects_renderer_free(v->renderer);
    free(v->bg);
    free(v->out);
    free(v);
}

static int draw(void *user, int frame, uint8_t *rgb, const uint8_t *labels, sam2_error *err) {
    (void)frame;
    effects_video *v = user;
    if (effects_render(v->renderer, &v->scene, rgb, labels, v->bg, v->out, err)) return -1;
    memcpy(rgb, v->out, v->bytes);
    return 0;
}

mask_overlay *effects_video_open(const mask_overlay_options *o, const effects_scene *scene,
                                 const uint8_t *bg_image, int bg_width, int bg_height,
                                 sam2_error *err) {
    effects_video *v = calloc(1, sizeof *v);
    if (!v) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for the effects video");
        return NULL;
    }
    v->scene = *scene;
    mask_overlay_options oo = *o;
    oo.draw = draw;
    oo.draw_user = v;
    oo.draw_free = video_free;
    mask_overlay *ov = mask_overlay_open(&oo, err); /* owns v from here, even when it fails */
    if (!ov) return NULL;
    const int w = mask_overlay_width(ov), h = mask_overlay_height(ov);
    v->bytes = (size_t)w * h * 3;
    v->renderer = effects_renderer_new(w, h, err);
    v->out = malloc(v->bytes);
    if (!v->renderer || !v->out) {
        if (v->renderer) sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for the effects video");
        mask_overlay_abort(ov);
        return NULL;
    }
    const int source = effects_scene_replace_source(scene);
    if (source >= 0) {
        v->bg = malloc(v->bytes);
        if (!v->bg) {
            sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for the effects video's background");
            mask_overlay_abort(ov);
            return NULL;
        }
        int rc = 0;
        if (source == FX_REPLACE_FIRST_FRAME)
            rc = mask_overlay_read_source(ov, 0, v->bg, err);
        else if (!bg_image || bg_width != w || bg_height != h)
            rc = sam2_fail(err, SAM2_ERR_ARGUMENT,
                           "the background image must be %dx%d, the video's size (got %dx%d)", w, h,
                           bg_image ? bg_width : 0, bg_image ? bg_height : 0);
        else
            memcpy(v->bg, bg_image, v->bytes);
        if (rc) {
            mask_overlay_abort(ov);
            return NULL;
        }
    }
    return ov;
}
