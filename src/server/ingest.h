/* The server's only door to video ingest (src/io/transcode): first-frame posters for gallery
 * videos and the upload pipeline (validate, trim, fit, transcode to H.264 MP4 with the moov atom
 * first, write atomically as uploads/<sha256>.mp4). Called through a table of functions so the
 * upload route can be tested with a stand-in; ingest_default_ops() is the real one. */
#ifndef SAM2_SERVER_INGEST_H
#define SAM2_SERVER_INGEST_H

#include "sam2.h"

typedef struct ingest_params {
    double start_time;   /* seconds (VIDEO_ENCODE_SEEK_TIME or the request's startTimeSec) */
    double max_duration; /* seconds kept (MAX_UPLOAD_VIDEO_DURATION, or less if asked) */
    int fps, max_width, max_height, crf, threads, verbose;
    int max_input_frames, max_input_side; /* larger inputs are refused (MAX_VIDEO_FRAMES/SIDE); 0: defaults */
    const char *codec;
} ingest_params;

typedef struct ingest_result {
    char sha256[65]; /* of the transcoded file, lowercase hex: the file is uploads/<sha256>.mp4 */
    int width, height;
} ingest_result;

typedef struct ingest_ops {
    void *self;
    /* Writes the first frame of video_path as a JPEG at poster_path (atomically) and reports the
     * video's display size. */
    int (*poster)(void *self, const char *video_path, const char *poster_path, int *width, int *height,
                  sam2_error *err);
    /* Validates and transcodes the uploaded file in_path into uploads_dir. */
    int (*upload)(void *self, const char *in_path, const char *uploads_dir, const ingest_params *p,
                  ingest_result *out, sam2_error *err);
} ingest_ops;

const ingest_ops *ingest_default_ops(void);

#endif
