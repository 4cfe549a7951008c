/* Random access to the frames of a video file (any container and codec FFmpeg decodes), as
 * 8-bit RGB, upright.
 *
 * Opening scans the packets of the video stream once (demuxing only, no decoding) and builds
 * a frame index in presentation order (timestamps, keyframes), so the frame count is what the
 * file holds, whatever its header claims. Frames are then decoded on demand:
 *  - reading forwards continues the current decode without seeking;
 *  - any other jump seeks to the last keyframe at or before the target and decodes up to it;
 *  - decoded frames go into a cache bounded by a byte budget, filled with the frames just
 *    below the target while reading backwards, so reading i, i-1, i-2, ... decodes each
 *    keyframe segment about (segment length / frames that fit in the budget) times instead of
 *    once per frame.
 *
 * Rotation (display matrix side data, or a "rotate" tag) of 90/180/270 degrees is applied:
 * width/height are the displayed size and frames come back as they are meant to be seen.
 * Conversion to RGB uses libswscale exactly as the ffmpeg command line does (bicubic, the
 * frame's YCbCr matrix and range, MPEG-2 chroma siting for yuv420p), so frame i at display
 * size equals `ffmpeg -i FILE -pix_fmt rgb24` frame i byte for byte.
 *
 * Truncated files: the index holds the frames whose packets are complete; frame_count is that
 * number and `truncated` is set. A frame that is indexed but cannot be decoded (a damaged
 * stream) makes sam2_video_reader_read fail with SAM2_ERR_FORMAT naming the frame.
 *
 * A reader is not thread-safe; use one per thread (or lock around it). */
#ifndef SAM2_IO_VIDEO_READER_H
#define SAM2_IO_VIDEO_READER_H

#include "sam2.h"

#include <stddef.h>
#include <stdint.h>

#define SAM2_VIDEO_MAX_SIDE 8192        /* default limit per side */
#define SAM2_VIDEO_MAX_FRAMES (1 << 20) /* default limit on indexed frames */
#define SAM2_VIDEO_DEFAULT_CACHE_BYTES                                                             \
    ((size_t)32 << 20) /* decoded-frame cache: ~22 frames of 720p */

typedef struct sam2_video_reader_options {
    /* Byte budget of the decoded-frame cache. 0: SAM2_VIDEO_DEFAULT_CACHE_BYTES. A budget
     * smaller than one decoded frame (e.g. 1) disables the cache. */
    size_t cache_bytes;
    int threads;    /* decoder threads; 0: min(4, online CPUs) */
    int max_side;   /* larger coded or decoded frames are refused; 0: SAM2_VIDEO_MAX_SIDE */
    int max_frames; /* more frames are refused (SAM2_ERR_LIMIT); 0: SAM2_VIDEO_MAX_FRAMES */
    /* > 0: index only the frames starting before this many seconds after the first frame (the
     * scan stops there). For ingest, which reads a prefix of an upload. 0: the whole stream. */
    double scan_seconds;
    const char *format_whitelist; /* comma-separated demuxer names; NULL: any */
    int64_t probe_bytes;          /* demuxer probing budget; 0: FFmpeg's default */
    int64_t analyze_us;           /* stream-parameter probing, microseconds; 0: FFmpeg's default */
} sam2_video_reader_options;

typedef struct sam2_video_info {
    int width, height;             /* displayed size (after rotation) */
    int coded_width, coded_height; /* size of the decoded pictures */
    int rotation;                  /* clockwise degrees applied to decoded pictures: 0/90/180/270 */
    int frame_count;               /* indexed frames */
    int keyframes;                 /* keyframes among them */
    double fps;                    /* average frame rate (avg_frame_rate), 0 when unknown */
    double duration;               /* seconds from the first frame to the end of the last */
    double container_duration;     /* what the container states, 0 when it does not */
    int truncated;                 /* the stream ended in a read error or a partial packet */
    int timestamps;                /* 1: frames located by timestamp; 0: by decode order only */
    char codec[32];                /* decoder name, e.g. "h264" */
    char pix_fmt[32];              /* decoded pixel format, e.g. "yuv420p" */
    char container[64];            /* demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" */
} sam2_video_info;

typedef struct sam2_video_reader sam2_video_reader;

/* Opens a file. Errors name the file: SAM2_ERR_IO (missing, unreadable), SAM2_ERR_ARGUMENT (a
 * directory or not a regular file), SAM2_ERR_FORMAT (empty, not a video, a still image such
 * as a PNG or JPEG file, no video stream, no frames, no frame size), SAM2_ERR_UNSUPPORTED (no
 * decoder for the codec), SAM2_ERR_LIMIT (larger than max_side, more than max_frames). The
 * file is read through callbacks, never opened by FFmpeg as a URL, and the demuxer may not
 * open other files (playlists, references). opt may be NULL. */
sam2_video_reader *sam2_video_reader_open(const char *path, const sam2_video_reader_options *opt,
                                          sam2_error *err);
void sam2_video_reader_close(sam2_video_reader *r);

const sam2_video_info *sam2_video_reader_info(const sam2_video_reader *r);
/* Presentation time of frame `index` in seconds from the first frame (index in range). */
double sam2_video_reader_frame_time(const sam2_video_reader *r, int index);

/* Frame `index` (0-based, presentation order) as RGB24, rows of 3 * out_w bytes. out_w = out_h
 * = 0: the display size; otherwise the frame is scaled to out_w x out_h with libswscale
 * bicubic straight from the decoded pixel format (rotation applied first, so the output is
 * upright), as the official video-file loader (decord) produces the model input.
 * Errors: SAM2_ERR_ARGUMENT (index or size out of range), SAM2_ERR_FORMAT (the frame cannot
 * be decoded), SAM2_ERR_NOMEM. */
int sam2_video_reader_read(sam2_video_reader *r, int index, uint8_t *rgb, int out_w, int out_h,
                           sam2_error *err);

/* Statistics: frames decoded so far (all runs), bytes held by the frame cache. */
int64_t sam2_video_reader_decoded_frames(const sam2_video_reader *r);
size_t sam2_video_reader_cache_bytes(const sam2_video_reader *r);

#endif
