/* The server's only door to the model: loading it, tracking sessions (the video tracker of
 * include/sam2.h) and COCO RLE masks. The server calls these through a table of functions so
 * the scheduling, session and streaming code can be tested with a stand-in tracker;
 * inference_default_ops() is the real one (inference.c). */
#ifndef SAM2_SERVER_INFERENCE_H
#define SAM2_SERVER_INFERENCE_H

#include "app/mask_rle.h"
#include "sam2.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct inf_model inf_model;
typedef struct inf_session inf_session;

/* One frame's masks, as the demo sends them (app/mask_rle.h: id, counts, size; score and area
 * for the exports). */
typedef struct inf_frame {
    int frame_index;
    int n;
    mask_rle *masks; /* in the order objects were first added */
} inf_frame;

void inf_frame_free(inf_frame *f);
void inf_frames_free(inf_frame *f, int n);

/* Called for each propagated frame (the frame stays owned by the caller); non-zero stops. */
typedef int (*inf_frame_cb)(void *user, const inf_frame *frame);

typedef struct inf_session_options {
    size_t ram_budget_bytes; /* session state kept in RAM before spilling (0: unlimited) */
    const char *spill_dir;   /* NULL: $TMPDIR or /tmp */
    int correct_as_cond;     /* add_all_frames_to_correct_as_cond */
    int max_objects;
    int max_frames; /* videos with more frames are refused (SAM2_ERR_LIMIT); 0: the reader's default
                     */
    int max_side; /* videos with a larger side are refused (SAM2_ERR_LIMIT); 0: the reader's default
                   */
    size_t frame_cache_bytes; /* decoded frames the video reader may keep (part of the session's
                                 share) */
} inf_session_options;

typedef struct inf_model_info {
    char name[64];
    int64_t params;
    size_t bytes;     /* weights held in memory */
    char backend[16]; /* the compute backend it runs on (sam2_model_backend) */
} inf_model_info;

/* What a session holds, for the scheduler, the metrics and the spill limit. */
typedef struct inf_session_stats {
    int objects;
    size_t ram_bytes;     /* tracking state in RAM */
    size_t spilled_bytes; /* tracking state in the spill file (SPILL_MAX_MB) */
    double fps;           /* the video's frame rate (0: unknown, as for a folder of frames) */
} inf_session_stats;

typedef struct inference_ops {
    void *self;
    int (*model_load)(void *self, const char *checkpoint, const char *config_yaml, int threads,
                      inf_model **out, sam2_error *err);
    void (*model_free)(void *self, inf_model *m);
    void (*model_info)(void *self, const inf_model *m, inf_model_info *info);
    /* Opens a tracking session over a video file or frame folder. */
    int (*open)(void *self, const inf_model *m, const char *video_path,
                const inf_session_options *opt, inf_session **out, int *n_frames, int *width,
                int *height, sam2_error *err);
    void (*close)(void *self, inf_session *s);
    /* sam2_tracker_add_prompt: points and/or a box in [0,1] of the video's width/height (the demo
     * client normalises, so p->normalized is 1), or a binary mask (p->mask, any size). */
    int (*add_prompt)(void *self, inf_session *s, int frame, int obj_id, const sam2_prompt *p,
                      inf_frame *out, sam2_error *err);
    int (*clear_frame)(void *self, inf_session *s, int frame, int obj_id, inf_frame *out,
                       sam2_error *err);
    /* The frames whose masks changed, in order (caller frees with inf_frames_free). */
    int (*remove_object)(void *self, inf_session *s, int obj_id, inf_frame **frames, int *n_frames,
                         sam2_error *err);
    void (*reset)(void *self, inf_session *s);
    /* From start_frame forward to the end (reverse = 0) or back to frame 0 (reverse = 1). stop (may
     * be NULL): a nonzero value stops it at its next check, inside a frame too; unlike cancel, a
     * stop set before the call starts is never missed (the session's cancel flag, owned by the
     * caller). */
    int (*propagate)(void *self, inf_session *s, int start_frame, int reverse,
                     const atomic_int *stop, inf_frame_cb cb, void *user, sam2_error *err);
    /* Thread-safe: asks a running propagate to stop after the current frame. */
    void (*cancel)(void *self, inf_session *s);
    /* Decodes a COCO compressed RLE into a height x width row-major 0/1 mask (sam2_rle_to_mask). */
    int (*rle_decode)(void *self, const char *counts, int height, int width, uint8_t *mask,
                      sam2_error *err);
    void (*stats)(void *self, const inf_session *s, inf_session_stats *out);
} inference_ops;

/* The real implementation: libsam2's tracker and RLE. */
const inference_ops *inference_default_ops(void);

#endif
