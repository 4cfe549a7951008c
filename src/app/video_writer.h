/* Encodes RGB frames into a video file with libavcodec/libavformat: H.264 (libx264), yuv420p,
 * MP4 with the moov atom first ("faststart", so browsers can play it while downloading).
 * Used for `sam2 track --overlay` and for upload ingest (src/app/transcode.h).
 *
 * Debian 12's libavcodec has libx264; if an FFmpeg without it is found at run time, the
 * writer falls back to the MPEG-4 part 2 encoder ("mpeg4") and says so in
 * sam2_video_writer_codec(). */
#ifndef SAM2_APP_VIDEO_WRITER_H
#define SAM2_APP_VIDEO_WRITER_H

#include "sam2.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sam2_video_writer_options {
    int width, height;  /* frame size (1..8192); odd sizes are padded to even by repeating the
                         * last column / row, as 4:2:0 needs even sizes */
    double fps;         /* frames per second (> 0; stored as a rational, e.g. 29.97 = 30000/1001) */
    int crf;            /* libx264 constant rate factor 1..51; 0: 23 (FFmpeg's default) */
    const char *codec;  /* encoder name; NULL: "libx264" (falls back to "mpeg4") */
    const char *preset; /* libx264 preset; NULL: "medium" (FFmpeg's default) */
    int gop;            /* keyframe interval in frames; 0: the encoder's default (250) */
    int threads;        /* encoder threads; 0: FFmpeg's automatic choice */
    int rotation;       /* clockwise display rotation to record (0/90/180/270), for tests */
    int atomic;         /* 1: write "<dir>/.sam2-tmp-*" and rename to path on success */
    int no_faststart;   /* 1: leave the moov atom at the end of the file */
    const char *name;   /* how messages call the file (NULL: path) */
} sam2_video_writer_options;

typedef struct sam2_video_writer sam2_video_writer;

/* Creates the file (the container is chosen from path's extension, MP4 when unknown). */
sam2_video_writer *sam2_video_writer_open(const char *path, const sam2_video_writer_options *opt,
                                          sam2_error *err);
/* Appends one frame: width x height RGB24, rows of `stride` bytes (>= 3 * width). */
int sam2_video_writer_write_rgb(sam2_video_writer *w, const uint8_t *rgb, size_t stride,
                                sam2_error *err);
/* Flushes the encoder, finishes the file (moving the moov atom to the front) and frees the
 * writer. On failure the file is removed. Returns 0 or the error's code. */
int sam2_video_writer_close(sam2_video_writer *w, sam2_error *err);
/* Frees the writer and removes what it wrote (for error paths). */
void sam2_video_writer_abort(sam2_video_writer *w);

/* The encoder in use ("libx264" or the fallback). */
const char *sam2_video_writer_codec(const sam2_video_writer *w);

#endif
