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

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the library's exported functions: libsam2 is built with -fvisibility=hidden, so only
 * what this header declares with SAM2_API is in its dynamic symbol table (tests/symbols_check.sh
 * checks that). A build may predefine it (e.g. empty, or dllexport on Windows). */
#ifndef SAM2_API
#if defined(__GNUC__) || defined(__clang__)
#define SAM2_API __attribute__((visibility("default")))
#else
#define SAM2_API
#endif
#endif

/* printf-style argument checking where the compiler offers it. */
#if defined(__GNUC__) || defined(__clang__)
#define SAM2_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SAM2_PRINTF(fmt, args)
#endif

/* The version this header belongs to; CMake refuses to configure when it differs from the
 * project's version (CMakeLists.txt). */
#define SAM2_VERSION "0.1.0"

/* The library's version, "MAJOR.MINOR.PATCH": the CMake project's version, compiled in, so a
 * program can tell which libsam2 it runs against (SAM2_VERSION is the one it was built with). */
SAM2_API const char *sam2_version(void);

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
SAM2_API const char *sam2_status_name(int code);
/* Sets err (when non-NULL) to `code` and the formatted message and returns code, so a function
 * can end with `return sam2_fail(err, SAM2_ERR_IO, "%s: %s", path, strerror(errno))`. Public so
 * that a caller's own code (a frame source, an app) reports errors as the library does. */
SAM2_API int sam2_fail(sam2_error *err, int code, const char *fmt, ...) SAM2_PRINTF(3, 4);
SAM2_API int sam2_vfail(sam2_error *err, int code, const char *fmt, va_list ap);
/* Prefixes the message already in err (when non-NULL) with "<prefix>: ", to say where it arose. */
SAM2_API void sam2_error_prefix(sam2_error *err, const char *fmt, ...) SAM2_PRINTF(2, 3);

/* ---- runtime ---------------------------------------------------------------------------- */
/* Number of worker threads used by the compute kernels (default: the number of online CPUs,
 * or $SAM2_THREADS). Call before loading models; n <= 0 restores the default. */
SAM2_API void sam2_set_threads(int n);
SAM2_API int sam2_get_threads(void);
/* The process's resident set size now and its peak, in bytes (-1 where the system does not
 * say): what the README's memory figures measure, for apps that report the footprint. */
SAM2_API void sam2_memory_usage(int64_t *rss_bytes, int64_t *peak_rss_bytes);
/* With $SAM2_MEM_PROBE set, prints "mem <where>: rss R MiB, peak P MiB" to stderr, beside the
 * lines the library prints at its own stages (model loaded, each tracking step), so an app can
 * mark its stages in the same trace; without it, nothing. */
SAM2_API void sam2_mem_probe(const char *where);

/* ---- model -------------------------------------------------------------------------------- */
typedef struct sam2_model sam2_model;

/* Loads a checkpoint. config_yaml may be NULL: the configuration is then detected from the
 * checkpoint's tensor names and shapes among the eight official presets (SAM 2 and SAM 2.1,
 * tiny/small/base_plus/large) and EdgeTAM's. A checkpoint whose tensors do not match the
 * configuration is refused with SAM2_ERR_MISMATCH naming the first tensor that differs. */
SAM2_API sam2_model *sam2_model_load(const char *checkpoint_path, const char *config_yaml,
                                     sam2_error *err);
SAM2_API void sam2_model_free(sam2_model *model);
/* The configuration's name, e.g. "sam2.1_hiera_t" (or the YAML file's base name). */
SAM2_API const char *sam2_model_name(const sam2_model *model);
/* Square input resolution of the model (1024 for the official models). */
SAM2_API int sam2_model_image_size(const sam2_model *model);
/* Number of parameters (scalars) in the checkpoint's state dict. */
SAM2_API int64_t sam2_model_param_count(const sam2_model *model);

/* ---- checkpoint inspection ---------------------------------------------------------------
 * What a checkpoint holds, without loading a model: for tools that list or vet checkpoints
 * (`sam2 inspect`). */
typedef struct sam2_checkpoint sam2_checkpoint;
typedef struct sam2_tensor_info {
    const char *name;     /* state-dict key, e.g. "image_encoder.trunk.patch_embed.proj.weight" */
    const char *dtype;    /* PyTorch's name: "float32", "float16", "bfloat16", ... */
    int ndim;             /* 0..8 */
    const int64_t *shape; /* ndim sizes */
} sam2_tensor_info;
/* Opens a checkpoint and checks it completely (zip structure, pickle, every storage's CRC-32).
 * NULL with err set when the file is missing or not a valid checkpoint. */
SAM2_API sam2_checkpoint *sam2_checkpoint_open(const char *path, sam2_error *err);
SAM2_API void sam2_checkpoint_close(sam2_checkpoint *ck);
SAM2_API int64_t sam2_checkpoint_file_size(const sam2_checkpoint *ck);
/* Scalars in all tensors (what sam2_model_param_count says once loaded). */
SAM2_API int64_t sam2_checkpoint_param_count(const sam2_checkpoint *ck);
SAM2_API int sam2_checkpoint_tensor_count(const sam2_checkpoint *ck);
/* Tensor i (0 <= i < count) in checkpoint order; SAM2_ERR_ARGUMENT when i is out of range.
 * The strings and shape live as long as ck. */
SAM2_API int sam2_checkpoint_tensor(const sam2_checkpoint *ck, int i, sam2_tensor_info *out);
/* The model configuration the tensors match. With config_yaml (an official-format YAML), that
 * file's configuration, or NULL with SAM2_ERR_MISMATCH naming the first tensor that differs;
 * without, the one detected among the official presets and EdgeTAM's, or NULL with err saying
 * which preset came closest and where it differs. The name lives as long as ck. */
SAM2_API const char *sam2_checkpoint_config(sam2_checkpoint *ck, const char *config_yaml,
                                            sam2_error *err);

/* ==== compute backends ======================================================================
 * The backend a model computes on (see DEVELOPERS.md, "Adding a backend"): "cpu" (the optimised
 * kernels), "ref" (the plain reference kernels), "check" (ref with memory the host cannot touch
 * outside backend calls: for tests), "auto" (the fastest one built: cpu today). */
/* Models loaded after this call use backend `name` (NULL or "auto": auto). The default is
 * $SAM2_BACKEND, else auto. Returns SAM2_OK or SAM2_ERR_ARGUMENT for an unknown name. */
SAM2_API int sam2_set_backend(const char *name);
/* The backend names sam2_set_backend accepts besides "auto", NULL-terminated. */
SAM2_API const char *const *sam2_backend_names(void);
/* One line about a backend, NULL for an unknown name. */
SAM2_API const char *sam2_backend_about(const char *name);
/* Bytes the backend has copied from the host and back since the process started. */
SAM2_API void sam2_backend_transfer_bytes(const char *name, uint64_t *up, uint64_t *down);
/* The backend a loaded model computes on. */
SAM2_API const char *sam2_model_backend(const sam2_model *model);
/* The backend models load onto now (sam2_set_backend's, else $SAM2_BACKEND's, else auto's), and
 * the one "auto" means on this machine. */
SAM2_API const char *sam2_get_backend(void);
SAM2_API const char *sam2_backend_auto_name(void);

/* What the cpu backend computes with, for diagnostics (`sam2 doctor`) and bug reports. */
typedef struct sam2_cpu_info {
    const char *kernels;          /* the kernel path in use: "baseline", "avx2" or "neon" */
    const char *kernels_label;    /* the same for people: "AVX2+FMA", "baseline (portable C)" */
    const char *kernels_reason;   /* why that one (what the CPU offers, $SAM2_KERNELS) */
    int vector_kernels_available; /* the CPU could run vector kernels (even when not in use) */
    const char *blas;             /* the BLAS library the GEMMs call */
} sam2_cpu_info;
SAM2_API void sam2_cpu_info_get(sam2_cpu_info *out);

/* A GPU the vulkan backend could compute on. */
typedef struct sam2_gpu_device {
    int index; /* what a device number (`--device N`) selects */
    char name[256];
    const char *type; /* "discrete GPU", "integrated GPU", "virtual GPU", "CPU", "other" */
    unsigned api_major, api_minor;
    uint64_t device_local_bytes; /* size of the largest device-local heap */
    unsigned subgroup_size;
    int cooperative_matrix; /* the driver offers cooperative-matrix operations */
    int usable;             /* meets what sam2c needs; why_not says what is missing */
    char why_not[160];
} sam2_gpu_device;
/* Lists up to `max` Vulkan devices into out and returns how many there are (possibly more than
 * max), or -1 with err set when this build has no Vulkan or no Vulkan driver loads. auto_pick
 * (may be NULL) receives the index among those listed that "auto" would take, -1 for none. */
SAM2_API int sam2_gpu_devices(sam2_gpu_device *out, int max, int *auto_pick, sam2_error *err);
/* ==== end of compute backends ================================================================ */

/* ---- image files ---------------------------------------------------------------------------
 * PNG and JPEG decoding to 8-bit RGB as PIL's `Image.open(f).convert("RGB")` does, which is what
 * the official predictors are fed (the library reads frame folders with the same decoder).
 * Images wider or taller than 16384 or with more than 2^28 pixels fail with SAM2_ERR_LIMIT
 * before pixel memory is allocated (sam2_image_set takes at most SAM2_MAX_IMAGE_PIXELS); corrupt
 * files with SAM2_ERR_FORMAT; other formats with SAM2_ERR_UNSUPPORTED. */
typedef struct sam2_rgb_image {
    int width, height;
    uint8_t *pixels; /* height rows of width * 3 bytes (R, G, B), no padding */
} sam2_rgb_image;
SAM2_API int sam2_rgb_image_load_file(const char *path, sam2_rgb_image *out, sam2_error *err);
SAM2_API int sam2_rgb_image_load_memory(const void *data, size_t size, sam2_rgb_image *out,
                                        sam2_error *err);
/* The format ("png" or "jpeg") and size from the header alone, without decoding pixels and
 * without applying the limits (so a caller can report the size it refuses). */
SAM2_API int sam2_rgb_image_probe_memory(const void *data, size_t size, const char **format,
                                         int *width, int *height, sam2_error *err);
SAM2_API void sam2_rgb_image_free(sam2_rgb_image *img);

/* A full-size mask as a prompt's mask_input (sam2_prompt): mask is height rows of width bytes
 * (non-zero: the object); out receives size x size logits (size: the model's image size / 4),
 * the mask resized bilinearly with antialiasing (PyTorch's F.interpolate(antialias=True)) and
 * mapped from [0, 1] to [-logit, +logit]. */
SAM2_API int sam2_mask_input_from_mask(const uint8_t *mask, int width, int height, int size,
                                       float logit, float *out, sam2_error *err);

/* ---- image predictor ---------------------------------------------------------------------- */
typedef struct sam2_image_predictor sam2_image_predictor;

SAM2_API sam2_image_predictor *sam2_image_predictor_new(const sam2_model *model, sam2_error *err);
SAM2_API void sam2_image_predictor_free(sam2_image_predictor *pred);

/* Sets the image (8-bit RGB, rows of `stride` bytes, stride >= 3*width) and computes its
 * embedding. Any size from 1x1 up to SAM2_MAX_IMAGE_SIDE on each side and SAM2_MAX_IMAGE_PIXELS
 * in all. */
#define SAM2_MAX_IMAGE_SIDE 16384
#define SAM2_MAX_IMAGE_PIXELS (1 << 26)
SAM2_API int sam2_image_set(sam2_image_predictor *pred, const uint8_t *rgb, int width, int height,
                            int stride, sam2_error *err);

typedef struct sam2_point {
    float x, y; /* image pixels (or [0,1] when the prompt says normalized) */
    int label;  /* 1 positive, 0 negative, 2/3 box corners, -1 padding */
} sam2_point;

/* A binary mask: width x height bytes, row-major, 0 = background, anything else = object.
 * Used as a tracker prompt (any size; resized to the model's input) and, by the sam2_mask_*
 * functions below, as the thresholded form of a result's logits. */
typedef struct sam2_mask {
    int width, height;
    uint8_t *bits; /* [height][width] */
} sam2_mask;

/* One prompt type for both predictors. The image predictor takes points, box and mask_input
 * (low-resolution logits); the video tracker takes points and box, or a binary `mask` of any
 * size (add_new_mask), and keep_old_points. Fields a predictor does not take must be zero/NULL
 * (the other predictor's fields are refused with SAM2_ERR_ARGUMENT, so a prompt never silently
 * loses part of itself); multimask and return_logits are image-only and ignored by the tracker,
 * which follows the model's own multimask rules. */
typedef struct sam2_prompt {
    const sam2_point *points; /* may be NULL when n_points == 0 */
    int n_points;
    const float *box;        /* x0, y0, x1, y1, or NULL */
    const float *mask_input; /* low-resolution logits [mask_input_size^2], or NULL */
    int mask_input_size;     /* must equal image_size / 4 when mask_input is set */
    int multimask;           /* 1: three candidate masks; 0: one mask */
    int normalized;          /* 1: point and box coordinates are in [0,1] of width/height */
    int return_logits;       /* 1: also fill sam2_masks.logits (count x width x height floats) */
    /* Video tracker only: */
    const sam2_mask *mask; /* a binary mask prompt; excludes points and box (add_new_mask) */
    int keep_old_points;   /* 1: add to the object's earlier points on this frame, as official
                            * clear_old_points=False; 0 (default): replace them. Not with a box. */
} sam2_prompt;

/* Most points one prompt may carry. */
#define SAM2_MAX_PROMPT_POINTS 4096

typedef struct sam2_masks {
    int count;          /* 1 or 3 */
    int width, height;  /* the image's size */
    int low_res_size;   /* image_size / 4 */
    int best;           /* index of the mask with the highest predicted IoU */
    float iou[3];       /* predicted IoU of each mask */
    float object_score; /* object-score logit of the decoder (> 0: object present) */
    uint8_t *masks;     /* [count][height][width], 0 or 1 (logit > 0) */
    float *logits;      /* [count][height][width] logits at image resolution (return_logits) */
    float *low_res;     /* [count][low_res_size^2] logits clamped to [-32, 32] */
} sam2_masks;

/* Predicts masks for one prompt on the current image. On success `out` owns its arrays; free
 * them with sam2_masks_free. Bad prompts (none at all, NaN/inf coordinates, labels outside
 * {-1,0,1,2,3}, a box with x1 < x0 or y1 < y0, a mask input of the wrong size) fail with
 * SAM2_ERR_ARGUMENT. */
SAM2_API int sam2_image_predict(sam2_image_predictor *pred, const sam2_prompt *prompt,
                                sam2_masks *out, sam2_error *err);
SAM2_API void sam2_masks_free(sam2_masks *masks);

/* ---- masks as bitmaps and as COCO RLE ------------------------------------------------------ */
/* The one way logits become a mask and a mask becomes COCO RLE, for every caller (the CLI's
 * outputs, the server's responses and exports): the RLE is byte-identical to pycocotools
 * (`mask.encode` of the HxW mask, `counts` as a string), what the official demo sends. */

/* Thresholds width x height row-major logits into out->bits, which the caller provides
 * (width * height bytes): 1 where logit > threshold, else 0 (NaN is background). The official
 * demo and SAM2VideoPredictor use threshold 0. Sets out->width/height; returns the foreground
 * pixel count, or -1 when an argument is NULL or a size negative. */
SAM2_API int64_t sam2_mask_from_logits(const float *logits, int width, int height, float threshold,
                                       sam2_mask *out);

typedef struct sam2_rle {
    int width, height; /* the mask's size (COCO's "size" is [height, width]) */
    int64_t area;      /* foreground pixels */
    char *counts;      /* COCO compressed counts, NUL-terminated; owned (sam2_rle_free) */
} sam2_rle;

/* Encodes a mask (any nonzero byte is foreground). Masks up to 2^31 - 1 pixels. */
SAM2_API int sam2_mask_to_rle(const sam2_mask *mask, sam2_rle *out, sam2_error *err);
/* Decodes rle->counts of size rle->width x rle->height into mask->bits (the caller's
 * width * height bytes of 0/1) and sets mask->width/height. The string is validated, never
 * trusted: bad characters, truncated values or runs that do not cover the mask exactly fail with
 * SAM2_ERR_FORMAT. */
SAM2_API int sam2_rle_to_mask(const sam2_rle *rle, sam2_mask *mask, sam2_error *err);
SAM2_API void sam2_rle_free(sam2_rle *rle);

/* ---- video ----------------------------------------------------------------------------------- */
/* A video: a file in any container/codec FFmpeg decodes (rotation metadata honoured), or a folder
 * of JPEG/PNG frames named by frame number (as the official predictor accepts). Frames are
 * decoded lazily, never all held in memory. */
typedef struct sam2_video sam2_video;

SAM2_API sam2_video *sam2_video_open(const char *path, sam2_error *err);
/* What an app bounds when it opens a video: the memory of decoded frames and the size it accepts
 * (a server facing uploads refuses long or huge videos before decoding them). 0: the default. */
typedef struct sam2_video_open_options {
    size_t frame_cache_bytes; /* decoded frames of a file kept for re-reads (default 32 MiB); a
                                 budget under one frame (e.g. 1) keeps none */
    int max_frames;           /* more frames fail with SAM2_ERR_LIMIT (default 2^20) */
    int max_side;       /* a larger width or height fails with SAM2_ERR_LIMIT (default 8192) */
    int decode_threads; /* decoder threads (0: min(4, CPUs)); 1 holds the fewest frames */
} sam2_video_open_options;
/* sam2_video_open with options (NULL: sam2_video_open). */
SAM2_API sam2_video *sam2_video_open_with(const char *path, const sam2_video_open_options *o,
                                          sam2_error *err);
SAM2_API void sam2_video_close(sam2_video *video);
SAM2_API int sam2_video_frame_count(const sam2_video *video);
SAM2_API int sam2_video_width(const sam2_video *video); /* display size, after rotation */
SAM2_API int sam2_video_height(const sam2_video *video);
SAM2_API double sam2_video_fps(const sam2_video *video);

/* Frames from the app (a camera, its own decoder, frames in memory) instead of a path. */
typedef struct sam2_frame_source {
    int frame_count;   /* 1 .. 2^20 (the limit of a video file) */
    int width, height; /* every frame's size, 1 .. 8192 */
    double fps;        /* 0: unknown */
    /* Fills rgb (height rows of 3 * width bytes) with frame `index` (0 .. frame_count - 1);
     * returns 0, or non-zero when it cannot (the call that needed the frame then fails with
     * SAM2_ERR_IO). Frames may be asked for again and in any order (a reverse propagation, a
     * later prompt), and must be the same each time; calls come one at a time, from the thread
     * running the tracker call. */
    int (*read_frame)(void *user, int index, uint8_t *rgb);
    void (*close)(void *user); /* may be NULL; called once by sam2_video_close */
    void *user;
} sam2_frame_source;

/* A video over an app's frames. Frames are resized to the model's input as a folder of frames
 * is (PIL bicubic from the full-size frame), so a source handing out the decoded frames of a
 * folder tracks exactly as that folder does. The source struct is copied. */
SAM2_API sam2_video *sam2_video_open_source(const sam2_frame_source *src, sam2_error *err);

/* ---- video tracker (SAM2VideoPredictor) ------------------------------------------------------ */
/* One tracking session over one video: objects are prompted on any frame (points, a box or a
 * mask) and propagated forward and backward, with the semantics of Meta's December 2024
 * SAM2VideoPredictor (objects tracked independently, objects may be added after tracking). */
typedef struct sam2_tracker sam2_tracker;

typedef struct sam2_tracker_options {
    /* Bytes of per-frame state (memory features, low-res masks, pointers) kept in RAM; past it
     * state moves to a spill file in spill_dir and comes back on demand (results are identical).
     * 0: unlimited. */
    size_t ram_budget_bytes;
    const char *spill_dir;                 /* NULL: $TMPDIR or /tmp */
    int add_all_frames_to_correct_as_cond; /* 0: official behaviour (see README) */
    int max_objects;                       /* 0: default (64) */
} sam2_tracker_options;

/* Results for one frame: video-resolution mask logits of every object (> 0 is the mask). The
 * arrays belong to the tracker and stay valid until its next call. */
typedef struct sam2_frame_result {
    int frame_index;
    int num_objects;
    const int *object_ids;      /* [num_objects], in the order objects were first added */
    int width, height;          /* video size */
    const float *logits;        /* [num_objects][height][width] */
    const float *object_scores; /* [num_objects] object-score logits (> 0: present) */
} sam2_frame_result;

/* Called once per propagated frame; return non-zero to stop the propagation (it then returns
 * SAM2_ERR_CANCELLED). */
typedef int (*sam2_frame_callback)(void *user, const sam2_frame_result *result);

/* The tracker takes ownership of `video` (closed by sam2_tracker_free). */
SAM2_API sam2_tracker *sam2_tracker_new(const sam2_model *model, sam2_video *video,
                                        const sam2_tracker_options *options, sam2_error *err);
SAM2_API void sam2_tracker_free(sam2_tracker *tracker);
SAM2_API const sam2_video *sam2_tracker_video(const sam2_tracker *tracker);

/* add_new_points_or_box / add_new_mask: a prompt for object obj_id on a frame (the object is
 * created on its first prompt). Points and/or a box (its corners go before the points), or a
 * binary mask; p->normalized: coordinates in [0,1] of the video's width/height, else video
 * pixels. `result` (may be NULL) receives the frame's masks for all objects. A mask_input
 * (logits) is refused: the tracker's low-resolution state is its own. */
SAM2_API int sam2_tracker_add_prompt(sam2_tracker *t, int frame, int obj_id, const sam2_prompt *p,
                                     sam2_frame_result *result, sam2_error *err);
/* clear_all_prompts_in_frame for one object. */
SAM2_API int sam2_tracker_clear_frame(sam2_tracker *t, int frame, int obj_id,
                                      sam2_frame_result *result, sam2_error *err);
/* remove_object; the frames whose masks changed are reported through `cb` (may be NULL). */
SAM2_API int sam2_tracker_remove_object(sam2_tracker *t, int obj_id, sam2_frame_callback cb,
                                        void *user, sam2_error *err);
/* reset_state: forget every object, prompt and result. */
SAM2_API void sam2_tracker_reset(sam2_tracker *t);
/* propagate_in_video from start_frame (-1: the first prompted frame) over at most max_frames
 * frames (-1: to the end), forward or in reverse. */
SAM2_API int sam2_tracker_propagate(sam2_tracker *t, int start_frame, int max_frames, int reverse,
                                    sam2_frame_callback cb, void *user, sam2_error *err);
/* Asks a running propagation (in another thread) to stop after the current frame. */
SAM2_API void sam2_tracker_cancel(sam2_tracker *t);
/* A cancel hook: sam2_tracker_propagate calls fn(user) at stage boundaries inside each frame
 * (after each block of the image encoder's trunk, between memory-attention layers, between the
 * steps of one object, between objects) and between frames. A nonzero answer stops the
 * propagation with SAM2_ERR_CANCELLED; the frame in progress is abandoned and leaves no trace
 * (the session is exactly as if that frame had never started, and its callback is not called).
 * fn is called from the thread that runs the propagation; NULL removes the hook. Prompts and the
 * preflight of a propagation are never interrupted. */
typedef int (*sam2_cancel_fn)(void *user);
SAM2_API void sam2_tracker_set_cancel_check(sam2_tracker *t, sam2_cancel_fn fn, void *user);
/* Object ids in the session (returns the count; writes up to max ids). */
SAM2_API int sam2_tracker_object_ids(const sam2_tracker *t, int *ids, int max);
/* Bytes of session state held in RAM and in the spill file. */
SAM2_API size_t sam2_tracker_ram_bytes(const sam2_tracker *t);
SAM2_API size_t sam2_tracker_spilled_bytes(const sam2_tracker *t);
/* Frees the compute scratch (the image encoder's and the model steps' temporaries, ~180 MB for
 * the tiny model at 1024 px); the next call that computes allocates it again. For a server
 * holding many sessions of which few compute at once. Not while another call on t runs. */
SAM2_API void sam2_tracker_release_scratch(sam2_tracker *t);

#ifdef __cplusplus
}
#endif
#endif
