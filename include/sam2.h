/* sam2.h: the public API of libsam2, Segment Anything 2 (SAM 2 / SAM 2.1) inference in C.
 *
 * A model is loaded once from one of Meta's published checkpoints (torch.save zip files) and
 * shared, read-only, by any number of predictors. An image predictor computes the image
 * embedding once per image and answers any number of prompts on it.
 *
 * Every function that can fail takes a `sam2_error *` (may be NULL) and returns a non-zero
 * status (or NULL); the error's message names what was wrong. No function aborts the process
 * on bad input. */
#ifndef SAM2_H
#define SAM2_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SAM2_VERSION "0.1.0"

/* ---- errors ---------------------------------------------------------------------------- */
enum sam2_status {
    SAM2_OK = 0,
    SAM2_ERR_IO = 1,          /* a file could not be opened, read or written */
    SAM2_ERR_FORMAT = 2,      /* input is not in the expected format (corrupt, truncated) */
    SAM2_ERR_UNSUPPORTED = 3, /* a valid input uses a feature sam2c does not support */
    SAM2_ERR_MISMATCH = 4,    /* checkpoint and configuration disagree */
    SAM2_ERR_ARGUMENT = 5,    /* a caller-supplied argument is invalid (bad prompt, size) */
    SAM2_ERR_NOMEM = 6,       /* an allocation failed or a memory budget was exceeded */
    SAM2_ERR_CANCELLED = 7,   /* a long computation was cancelled by its caller */
    SAM2_ERR_STATE = 8,       /* the call is not valid in the object's current state */
    SAM2_ERR_LIMIT = 9,       /* a configured limit (size, count, duration) was exceeded */
};

typedef struct sam2_error {
    int code;
    char message[512];
} sam2_error;

/* A short English name for a status code ("bad format", ...). */
const char *sam2_status_name(int code);

/* ---- runtime ---------------------------------------------------------------------------- */
/* Number of worker threads used by the compute kernels (default: the number of online CPUs,
 * or $SAM2_THREADS). Call before loading models; n <= 0 restores the default. */
void sam2_set_threads(int n);
int sam2_get_threads(void);

/* ---- model -------------------------------------------------------------------------------- */
typedef struct sam2_model sam2_model;

/* Loads a checkpoint. config_yaml may be NULL: the configuration is then detected from the
 * checkpoint's tensor names and shapes among the eight official presets (SAM 2 and SAM 2.1,
 * tiny/small/base_plus/large). A checkpoint whose tensors do not match the configuration is
 * refused with SAM2_ERR_MISMATCH naming the first tensor that differs. */
sam2_model *sam2_model_load(const char *checkpoint_path, const char *config_yaml, sam2_error *err);
void sam2_model_free(sam2_model *model);
/* The configuration's name, e.g. "sam2.1_hiera_t" (or the YAML file's base name). */
const char *sam2_model_name(const sam2_model *model);
/* Square input resolution of the model (1024 for the official models). */
int sam2_model_image_size(const sam2_model *model);
/* Number of parameters (scalars) in the checkpoint's state dict. */
int64_t sam2_model_param_count(const sam2_model *model);

/* ---- image predictor ---------------------------------------------------------------------- */
typedef struct sam2_image_predictor sam2_image_predictor;

sam2_image_predictor *sam2_image_predictor_new(const sam2_model *model, sam2_error *err);
void sam2_image_predictor_free(sam2_image_predictor *pred);

/* Sets the image (8-bit RGB, rows of `stride` bytes, stride >= 3*width) and computes its
 * embedding. Any size from 1x1 up to SAM2_MAX_IMAGE_SIDE on each side and SAM2_MAX_IMAGE_PIXELS
 * in all. */
#define SAM2_MAX_IMAGE_SIDE 16384
#define SAM2_MAX_IMAGE_PIXELS (1 << 26)
int sam2_image_set(sam2_image_predictor *pred, const uint8_t *rgb, int width, int height,
                   int stride, sam2_error *err);

typedef struct sam2_point {
    float x, y; /* image pixels (or [0,1] when the prompt says normalized) */
    int label;  /* 1 positive, 0 negative, 2/3 box corners, -1 padding */
} sam2_point;

typedef struct sam2_prompt {
    const sam2_point *points; /* may be NULL when n_points == 0 */
    int n_points;
    const float *box;         /* x0, y0, x1, y1, or NULL */
    const float *mask_input;  /* low-resolution logits [mask_input_size^2], or NULL */
    int mask_input_size;      /* must equal image_size / 4 when mask_input is set */
    int multimask;            /* 1: three candidate masks; 0: one mask */
    int normalized;           /* 1: point and box coordinates are in [0,1] of width/height */
    int return_logits;        /* 1: also fill sam2_masks.logits (count x width x height floats) */
} sam2_prompt;

/* Most points one prompt may carry. */
#define SAM2_MAX_PROMPT_POINTS 4096

typedef struct sam2_masks {
    int count;           /* 1 or 3 */
    int width, height;   /* the image's size */
    int low_res_size;    /* image_size / 4 */
    int best;            /* index of the mask with the highest predicted IoU */
    float iou[3];        /* predicted IoU of each mask */
    float object_score;  /* object-score logit of the decoder (> 0: object present) */
    uint8_t *masks;      /* [count][height][width], 0 or 1 (logit > 0) */
    float *logits;       /* [count][height][width] logits at image resolution (return_logits) */
    float *low_res;      /* [count][low_res_size^2] logits clamped to [-32, 32] */
} sam2_masks;

/* Predicts masks for one prompt on the current image. On success `out` owns its arrays; free
 * them with sam2_masks_free. Bad prompts (none at all, NaN/inf coordinates, labels outside
 * {-1,0,1,2,3}, a box with x1 < x0 or y1 < y0, a mask input of the wrong size) fail with
 * SAM2_ERR_ARGUMENT. */
int sam2_image_predict(sam2_image_predictor *pred, const sam2_prompt *prompt, sam2_masks *out,
                       sam2_error *err);
void sam2_masks_free(sam2_masks *masks);

#ifdef __cplusplus
}
#endif
#endif
