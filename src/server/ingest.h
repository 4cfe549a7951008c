/* The server's only door to video ingest (src/app/transcode): first-frame posters for gallery
 * videos and the upload pipeline (validate, trim, fit, transcode to H.264 MP4 with the moov atom
 * first, write atomically as uploads/<sha256>.mp4), and the overlay video of the export route
 * (src/app/mask_export, the renderer of `sam2 track --overlay`). Called through a table of
 * functions so these routes can be tested with a stand-in; ingest_default_ops() is the real one. */
#ifndef SAM2_SERVER_INGEST_H
#define SAM2_SERVER_INGEST_H

#include "app/effects.h"
#include "sam2.h"

typedef struct ingest_params {
    double start_time;   /* seconds (VIDEO_ENCODE_SEEK_TIME or the request's startTimeSec) */
    double max_duration; /* seconds kept (MAX_UPLOAD_VIDEO_DURATION, or less if asked) */
    int fps, max_width, max_height, crf, threads, verbose;
    int max_input_frames,
        max_input_side; /* larger inputs are refused (MAX_VIDEO_FRAMES/SIDE); 0: defaults */
    long long max_decoded_pixels; /* MAX_UPLOAD_MEGAPIXELS x 10^6; 0: no bound */
    const char *codec;
} ingest_params;

typedef struct ingest_result {
    char sha256[65]; /* of the transcoded file, lowercase hex: the file is uploads/<sha256>.mp4 */
    int width, height;
} ingest_result;

typedef struct ingest_overlay ingest_overlay;

typedef struct ingest_ops {
    void *self;
    /* Writes the first frame of video_path as a JPEG at poster_path (atomically) and reports the
     * video's display size. */
    int (*poster)(void *self, const char *video_path, const char *poster_path, int *width,
                  int *height, sam2_error *err);
    /* Validates and transcodes the uploaded file in_path into uploads_dir. */
    int (*upload)(void *self, const char *in_path, const char *uploads_dir, const ingest_params *p,
                  ingest_result *out, sam2_error *err);
    /* The overlay video: opens video_path (whose display size must be width x height) and an H.264
     * MP4 writer at out_path, ... */
    int (*overlay_open)(void *self, const char *video_path, const char *out_path, int width,
                        int height, ingest_overlay **out, sam2_error *err);
    /* ... appends source frame `frame` with labels[height * width] (0: background, else a DAVIS
     * palette index) drawn over it, ... */
    int (*overlay_frame)(void *self, ingest_overlay *o, int frame, const uint8_t *labels,
                         sam2_error *err);
    /* ... and finishes the file (commit = 1) or removes it (commit = 0). Frees o either way. */
    int (*overlay_close)(void *self, ingest_overlay *o, int commit, sam2_error *err);
    /* The effects video (app/effects.h): as overlay_open, with each frame drawn by the effects of
     * `scene` (labels given to overlay_frame are effects_labels'), at libx264 quality crf (0:
     * default). bg_image: the "your image" background (bg_width x bg_height RGB) or NULL. Frames
     * and the end go through overlay_frame and overlay_close. NULL in a seam without it. */
    int (*effects_open)(void *self, const char *video_path, const char *out_path, int width,
                        int height, const effects_scene *scene, const uint8_t *bg_image,
                        int bg_width, int bg_height, int crf, ingest_overlay **out,
                        sam2_error *err);
} ingest_ops;

const ingest_ops *ingest_default_ops(void);

/* An upload record (uploads/.sam2-src-<key>, ingest.c): "<sha256 hex> <width> <height>\n" saying
 * which uploads/<sha256>.mp4 an input became. 0 with out filled, -1 when text is not one. */
int ingest_parse_record(const char *text, ingest_result *out);

#endif
