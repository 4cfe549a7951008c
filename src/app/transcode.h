/* Upload ingest as the official demo backend does it (demo/backend/server/data/transcoder.py
 * and schema.py's process_video), in-process with libav*:
 *   validate: a video stream, a frame size, a duration;
 *   trim: start at start_time (VIDEO_ENCODE_SEEK_TIME, or the mutation's startTimeSec), keep
 *         min(duration, MAX_UPLOAD_VIDEO_DURATION) seconds;
 *   scale: fit within max_width x max_height (VIDEO_ENCODE_MAX_WIDTH/HEIGHT, 1280 x 720)
 *         keeping the aspect ratio, never enlarging, even sizes (an odd size is rounded up,
 *         as the official code does, or down where rounding up would exceed the box);
 *   rate: resampled to `fps` (VIDEO_ENCODE_FPS, 24) by timestamps, as FFmpeg's fps filter:
 *         output frame n shows the last input frame whose time rounds to n or earlier;
 *   encode: VIDEO_ENCODE_CODEC (libx264) at VIDEO_ENCODE_CRF (23), yuv420p, MP4 with the moov
 *         atom first.
 * The rotation of the input is applied (the output is upright, with no rotation metadata), as
 * ffmpeg's autorotate does. The result is written to a hidden temporary file in the destination
 * folder and renamed into place only when complete; every error path removes it. Memory stays
 * bounded: frames are streamed one at a time.
 *
 * Deliberate differences from the official backend, which shells out to the ffmpeg command:
 *  - the official scale rule hard-codes 1280/720 and lets a 4:3 landscape video out at
 *    1280x960; here the result always fits max_width x max_height;
 *  - keyframes every `gop` frames (2 s by default, the official output has x264's 250) so the
 *    tracker can seek backwards in an upload cheaply;
 *  - uploads are demuxed only by the formats in format_whitelist (SAM2_UPLOAD_FORMATS). */
#ifndef SAM2_APP_TRANSCODE_H
#define SAM2_APP_TRANSCODE_H

#include "sam2.h"

#include <stddef.h>

/* Demuxers accepted for uploads: the usual video containers and raw H.264/HEVC streams. */
#define SAM2_UPLOAD_FORMATS "mov,matroska,avi,mpegts,mpeg,flv,ogg,asf,gif,ivf,h264,hevc,m4v"

typedef struct sam2_transcode_options {
    double max_duration;  /* seconds kept at most (MAX_UPLOAD_VIDEO_DURATION, 10) */
    double start_time;    /* seconds skipped at the start (VIDEO_ENCODE_SEEK_TIME, 0) */
    double duration;      /* seconds wanted; <= 0: max_duration (else min(duration, max)) */
    int fps;              /* VIDEO_ENCODE_FPS, 24 */
    int max_width;        /* VIDEO_ENCODE_MAX_WIDTH, 1280 */
    int max_height;       /* VIDEO_ENCODE_MAX_HEIGHT, 720 */
    int crf;              /* VIDEO_ENCODE_CRF, 23 */
    const char *codec;    /* VIDEO_ENCODE_CODEC, "libx264" */
    const char *preset;   /* libx264 preset, "medium" (FFmpeg's default) */
    int gop;              /* keyframe interval in frames; 0: 2 * fps */
    int threads;          /* FFMPEG_NUM_THREADS, 1 (decoder and encoder) */
    int max_input_side;   /* larger inputs are refused (SAM2_ERR_LIMIT), 8192 */
    int max_input_frames; /* input frames indexed at most (SAM2_ERR_LIMIT), 100000 */
    /* Input pixels decoded at most (frames up to the end of the kept window x width x height),
     * checked before decoding (SAM2_ERR_LIMIT); 0: no bound (the default). */
    long long max_decoded_pixels;
    const char *format_whitelist; /* SAM2_UPLOAD_FORMATS; NULL: any demuxer */
} sam2_transcode_options;

/* The official defaults. */
void sam2_transcode_options_init(sam2_transcode_options *o);
typedef struct sam2_transcode_result {
    char path[4096];   /* the file written */
    char sha256[65];   /* hex SHA-256 of its bytes */
    int width, height; /* of the output (what the official upload mutation reports) */
    int frame_count;
    double fps, duration;
    char codec[32]; /* encoder used */
} sam2_transcode_result;

/* in_path -> out_path (atomically). res may be NULL. Errors: those of sam2_video_reader_open
 * for the input; SAM2_ERR_FORMAT for no duration or a start past the end; SAM2_ERR_IO for the
 * output. */
int sam2_transcode_file(const char *in_path, const char *out_path, const sam2_transcode_options *o,
                        sam2_transcode_result *res, sam2_error *err);

/* Upload ingest: the input file is transcoded to "<dest_dir>/<sha256 of the output>.mp4", as the
 * official backend names uploads. res (required) receives the final path and details. */
int sam2_ingest_upload(const char *in_path, const char *dest_dir, const sam2_transcode_options *o,
                       sam2_transcode_result *res, sam2_error *err);

/* The first frame of a video (upright, display size) as a JPEG of the given quality (1..100;
 * 0: 90), written atomically; width/height (may be NULL) receive its size, which the official
 * backend reports for gallery videos. */
int sam2_poster_write_jpeg(const char *video_path, const char *jpeg_path, int quality, int *width,
                           int *height, sam2_error *err);

#endif
