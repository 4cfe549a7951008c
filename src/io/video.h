/* The video behind include/sam2.h's sam2_video: a file (video_reader.h) or a folder of frames
 * (frames_dir.h) behind one interface, plus the frame access the tracker and the CLI use.
 *
 * Every function here is thread-safe for one sam2_video (calls are serialised by a lock). */
#ifndef SAM2_IO_VIDEO_H
#define SAM2_IO_VIDEO_H

#include "io/pil_resize.h"
#include "io/video_reader.h"
#include "sam2.h"

#include <stddef.h>
#include <stdint.h>

/* How read_square / read_model_input resize a frame to S x S. */
typedef enum {
    /* What the official loader does for that kind of source: libswscale bicubic straight from
     * the decoded pixels for a video file (decord), PIL bicubic for a folder of frames. */
    SAM2_SQUARE_AUTO = 0,
    /* Decode at display size, then sam2_pil_resize_rgb8: the official folder loader applied to
     * the frames `ffmpeg -i FILE -pix_fmt rgb24 %05d.png` writes. This is how the golden video
     * data were made from 05_default_juggle.mp4, so a file opened this way reproduces the
     * golden frames_resized_u8 / preprocessed tensors exactly. */
    SAM2_SQUARE_PIL = 1,
    SAM2_SQUARE_SWS = 2, /* libswscale bicubic (files; folders always resize with PIL) */
} sam2_square_mode;

typedef struct sam2_video_options {
    size_t cache_bytes;      /* decoded-frame cache of a file, see video_reader.h (0: default) */
    int threads;             /* decoder threads (0: min(4, CPUs)) */
    int max_side;            /* 0: SAM2_VIDEO_MAX_SIDE */
    int max_frames;          /* 0: SAM2_VIDEO_MAX_FRAMES */
    sam2_square_mode square; /* 0: SAM2_SQUARE_AUTO */
    const char *format_whitelist; /* files only; NULL: any demuxer */
} sam2_video_options;

/* path: a video file or a folder of frames. opt may be NULL (defaults). sam2_video_open(path,
 * err) is sam2_video_open_ex(path, NULL, err). */
sam2_video *sam2_video_open_ex(const char *path, const sam2_video_options *opt, sam2_error *err);

/* Frame `index` at display size (sam2_video_width x sam2_video_height), RGB24 rows of
 * 3 * width bytes, upright. */
int sam2_video_read_frame(sam2_video *v, int index, uint8_t *rgb_out, sam2_error *err);
/* Frame `index` resized to S x S (the model input), RGB24 rows of 3 * S bytes. */
int sam2_video_read_square(sam2_video *v, int index, int S, uint8_t *rgb_out, sam2_error *err);
/* The model input of frame `index`: read_square, then normalised as the official loader does
 * (sam2_normalize_rgb8), into chw_out [3][S][S] float32. `v` is a sam2_video*; the signature
 * is the tracker's frame_provider load(). */
int sam2_video_read_model_input(void *v, int index, int S, float *chw_out, sam2_error *err);

/* sam2_video_fps() is 0 for a folder of frames (no frame rate is known). */
int sam2_video_is_folder(const sam2_video *v);
/* Stream details of a file (NULL for a folder). */
const sam2_video_info *sam2_video_file_info(const sam2_video *v);

#endif
