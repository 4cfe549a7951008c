/* The overlay video: source frames with the masks drawn over them, H.264 (see mask_export.h). */
#include "app/mask_export.h"

#include "core/error.h"
#include "io/video.h"
#include "app/video_writer.h"

#include <stdlib.h>

struct mask_overlay {
    sam2_video *video;
    sam2_video_writer *writer;
    int width, height;
    double fps;
    uint8_t *rgb;
    uint8_t pal[256 * 3];
    mask_overlay_draw_fn draw;
    void *draw_user;
    void (*draw_free)(void *draw_user);
};

mask_overlay *mask_overlay_open(const mask_overlay_options *o, sam2_error *err) {
    mask_overlay *ov = calloc(1, sizeof *ov);
    if (!ov) {
        if (o->draw_free) o->draw_free(o->draw_user);
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for the overlay");
        return NULL;
    }
    ov->draw = o->draw;
    ov->draw_user = o->draw_user;
    ov->draw_free = o->draw_free;
    ov->video = sam2_video_open(o->video_path, err);
    if (!ov->video) goto fail;
    ov->width = sam2_video_width(ov->video);
    ov->height = sam2_video_height(ov->video);
    ov->fps = sam2_video_fps(ov->video);
    ov->rgb = malloc((size_t)3 * ov->width * ov->height);
    if (!ov->rgb) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for the overlay");
        goto fail;
    }
    mask_palette(ov->pal);
    const sam2_video_writer_options wo = {.width = ov->width,
                                          .height = ov->height,
                                          .fps = ov->fps > 0 ? ov->fps : 30.0,
                                          .preset = "veryfast",
                                          .crf = o->crf,
                                          .threads = o->threads,
                                          .atomic = o->atomic,
                                          .name = o->name};
    ov->writer = sam2_video_writer_open(o->out_path, &wo, err);
    if (!ov->writer) goto fail;
    return ov;
fail:
    mask_overlay_abort(ov);
    return NULL;
}

int mask_overlay_width(const mask_overlay *ov) {
    return ov->width;
}
int mask_overlay_height(const mask_overlay *ov) {
    return ov->height;
}

int mask_overlay_add(mask_overlay *ov, int frame, const uint8_t *labels, sam2_error *err) {
    if (sam2_video_read_frame(ov->video, frame, ov->rgb, err)) return -1;
    if (ov->draw) {
        if (ov->draw(ov->draw_user, frame, ov->rgb, labels, err)) return -1;
    } else {
        mask_overlay_draw(ov->rgb, ov->width, ov->height, labels, ov->pal);
    }
    return sam2_video_writer_write_rgb(ov->writer, ov->rgb, (size_t)3 * ov->width, err);
}

int mask_overlay_read_source(mask_overlay *ov, int frame, uint8_t *rgb, sam2_error *err) {
    return sam2_video_read_frame(ov->video, frame, rgb, err);
}

static void release(mask_overlay *ov) {
    if (ov->draw_free) ov->draw_free(ov->draw_user);
    sam2_video_close(ov->video);
    free(ov->rgb);
    free(ov);
}

int mask_overlay_close(mask_overlay *ov, sam2_error *err) {
    const int rc = sam2_video_writer_close(ov->writer, err);
    release(ov);
    return rc;
}

void mask_overlay_abort(mask_overlay *ov) {
    if (!ov) return;
    if (ov->writer) sam2_video_writer_abort(ov->writer);
    release(ov);
}
