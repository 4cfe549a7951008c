/* The real ingest seam: src/io/transcode (libav* in-process) and the overlay renderer of
 * src/io/mask_export. This is the only server file that calls them. */
#include "server/ingest.h"

#include "core/error.h"
#include "io/mask_export.h"
#include "io/transcode.h"

#include <stdio.h>
#include <string.h>

static int real_poster(void *self, const char *video_path, const char *poster_path, int *width,
                       int *height, sam2_error *err) {
    (void)self;
    *width = *height = 0;
    return sam2_poster_write_jpeg(video_path, poster_path, 0, width, height, err);
}

static int real_upload(void *self, const char *in_path, const char *uploads_dir,
                       const ingest_params *p, ingest_result *out, sam2_error *err) {
    (void)self;
    sam2_transcode_options o;
    sam2_transcode_options_init(&o);
    /* The server read the VIDEO_ENCODE_* variables and flags already: they arrive in p. */
    o.max_duration = p->max_duration;
    o.start_time = p->start_time;
    o.duration = 0;
    if (p->fps > 0) o.fps = p->fps;
    if (p->max_width > 0) o.max_width = p->max_width;
    if (p->max_height > 0) o.max_height = p->max_height;
    o.crf = p->crf;
    if (p->codec && *p->codec) o.codec = p->codec;
    if (p->threads > 0) o.threads = p->threads;
    if (p->max_input_frames > 0) o.max_input_frames = p->max_input_frames;
    if (p->max_input_side > 0) o.max_input_side = p->max_input_side;
    sam2_transcode_result r;
    memset(&r, 0, sizeof r);
    int rc = sam2_ingest_upload(in_path, uploads_dir, &o, &r, err);
    if (rc == SAM2_ERR_LIMIT && err) { /* name the limits, so the operator knows what to raise */
        size_t n = strlen(err->message);
        snprintf(
            err->message + n, sizeof err->message - n,
            "; uploads may have at most %d frames (MAX_VIDEO_FRAMES) of at most %d pixels per side "
            "(MAX_VIDEO_SIDE)",
            o.max_input_frames, o.max_input_side);
    }
    if (rc) return rc;
    memcpy(out->sha256, r.sha256, sizeof out->sha256);
    out->sha256[64] = 0;
    out->width = r.width;
    out->height = r.height;
    return 0;
}

static int real_overlay_open(void *self, const char *video_path, const char *out_path, int width,
                             int height, ingest_overlay **out, sam2_error *err) {
    (void)self;
    /* One encoder thread: the render holds an inference slot and yields it between frames, so
     * its work should happen inside that turn, not in encoder threads running beside others'. */
    const mask_overlay_options o = {
        .video_path = video_path, .out_path = out_path, .threads = 1, .name = "overlay.mp4"};
    mask_overlay *ov = mask_overlay_open(&o, err);
    if (!ov) return err && err->code ? err->code : SAM2_ERR_IO;
    const int vw = mask_overlay_width(ov), vh = mask_overlay_height(ov);
    if (vw != width || vh != height) {
        mask_overlay_abort(ov);
        return sam2_fail(err, SAM2_ERR_STATE,
                         "the video is %dx%d now, the session's masks are %dx%d", vw, vh, width,
                         height);
    }
    *out = (ingest_overlay *)ov;
    return 0;
}

static int real_overlay_frame(void *self, ingest_overlay *o, int frame, const uint8_t *labels,
                              sam2_error *err) {
    (void)self;
    return mask_overlay_add((mask_overlay *)o, frame, labels, err);
}

static int real_overlay_close(void *self, ingest_overlay *o, int commit, sam2_error *err) {
    (void)self;
    if (commit) return mask_overlay_close((mask_overlay *)o, err);
    mask_overlay_abort((mask_overlay *)o);
    return 0;
}

static int real_effects_open(void *self, const char *video_path, const char *out_path, int width,
                             int height, const effects_scene *scene, const uint8_t *bg_image,
                             int bg_width, int bg_height, int crf, ingest_overlay **out,
                             sam2_error *err) {
    (void)self;
    /* One encoder thread, as the overlay (real_overlay_open says why). */
    const mask_overlay_options o = {.video_path = video_path,
                                    .out_path = out_path,
                                    .threads = 1,
                                    .name = "effects.mp4",
                                    .crf = crf};
    mask_overlay *ov = effects_video_open(&o, scene, bg_image, bg_width, bg_height, err);
    if (!ov) return err && err->code ? err->code : SAM2_ERR_IO;
    const int vw = mask_overlay_width(ov), vh = mask_overlay_height(ov);
    if (vw != width || vh != height) {
        mask_overlay_abort(ov);
        return sam2_fail(err, SAM2_ERR_STATE,
                         "the video is %dx%d now, the session's masks are %dx%d", vw, vh, width,
                         height);
    }
    *out = (ingest_overlay *)ov;
    return 0;
}

static const ingest_ops REAL_OPS = {NULL,
                                    real_poster,
                                    real_upload,
                                    real_overlay_open,
                                    real_overlay_frame,
                                    real_overlay_close,
                                    real_effects_open};

const ingest_ops *ingest_default_ops(void) {
    return &REAL_OPS;
}
