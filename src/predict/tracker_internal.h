/* Internal state of a video tracking session (the official inference_state), shared by the
 * tracker's files: tracker_store.c (per-frame outputs, dict order, RAM budget and spill file),
 * tracker_step.c (one model step on one frame for one object) and tracker.c (the public API).
 *
 * Maps keyed by frame are arrays of num_frames pointers. Python dicts iterate in insertion
 * order and the official predictor's results depend on that order in two places (which
 * conditioning frames come first in the memory, which temporary outputs are encoded first), so
 * every entry carries the insertion sequence number of the map that holds it. */
#ifndef SAM2_PREDICT_TRACKER_INTERNAL_H
#define SAM2_PREDICT_TRACKER_INTERNAL_H

#include "core/arena.h"
#include "core/cancel.h"
#include "core/tap.h"
#include "model/image_encoder.h"
#include "predict/model_internal.h"
#include "sam2.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define TRACKER_FEATURE_CACHE 2
#define TRACKER_DEFAULT_MAX_OBJECTS 64

/* One frame's output for one object (compact_current_out of the official predictor). The large
 * arrays live in a payload block that may be spilled to the session's spill file. */
typedef struct frame_out {
    long seq;           /* insertion order within the map that holds it */
    float object_score; /* object_score_logits */
    float *obj_ptr;     /* [d_model], always resident */
    bool has_maskmem;   /* maskmem_features computed (None before preflight) */
    /* payload: [P*mem_dim] bfloat16 memory features (when has_maskmem), then [L*L] float
     * low-resolution mask logits after hole filling (pred_masks) */
    unsigned char *payload;                /* NULL while spilled */
    long spill_slot;                       /* slot in the spill file, -1 when none */
    struct frame_out *lru_prev, *lru_next; /* resident list, most recent first */
} frame_out;

typedef struct point_set {
    int n;
    float *xy;   /* [n][2] model pixels */
    int *labels; /* [n] */
} point_set;

typedef enum { MAP_COND = 0, MAP_NONCOND = 1, MAP_TEMP_COND = 2, MAP_TEMP_NONCOND = 3 } map_kind;

typedef struct out_map {
    frame_out **at; /* [num_frames] */
    long next_seq;
} out_map;

typedef struct obj_state {
    int id;
    point_set **points; /* [num_frames] point_inputs_per_obj */
    uint8_t **masks;    /* [num_frames] mask_inputs_per_obj, S*S binary */
    out_map maps[4];    /* output_dict (cond, non-cond) and temp_output_dict */
    int8_t *tracked;    /* [num_frames] frames_tracked_per_obj: 0 no, 1 forward, 2 reverse */
} obj_state;

/* Source of normalised model-input frames ([3][S][S]). */
typedef struct frame_provider {
    void *user;
    int num_frames, width, height;
    int (*load)(void *user, int index, int S, float *chw_out, sam2_error *err);
    void (*close)(void *user);
} frame_provider;

typedef struct feature_slot {
    int frame; /* -1 when empty */
    long used; /* LRU stamp */
    image_features f;
    /* One block holding f's three levels. It also holds the model-input frame while the image
     * encoder reads it: the encoder is done with its input before it writes any level, and the
     * slot's previous features are dead by then, so the frame costs no memory of its own. */
    float *storage;
    /* Memory attention's frame part (memory_attention.h) on these features, shared by all
     * objects tracked on the frame: [P][d], allocated on first use. */
    float *memattn_frame;
    bool memattn_frame_valid;
} feature_slot;

struct sam2_tracker {
    const sam2_model *model;
    const sam2_net *net;
    sam2_video *video; /* owned, may be NULL for internal providers */
    frame_provider src;
    sam2_tracker_options opt;
    int num_frames, width, height;
    int S, E, L, P, d, md; /* image size, embedding size, low-res size, E*E, dims */
    int MT;                /* memory tokens per frame: P, or the Perceiver's latents (EdgeTAM) */

    obj_state *objs; /* [nobj] in insertion order (obj_idx) */
    int nobj, cap_obj;

    feature_slot feat[TRACKER_FEATURE_CACHE];
    /* Slots in use: the batched predictor (EdgeTAM) steps every object of a frame together and
     * never comes back to an earlier frame within a propagation, so one slot (16 MB of
     * features and 4 MB of memory attention's frame part at 1024 px) is all it reuses. */
    int feat_slots;
    long feat_clock;

    arena step_arena; /* temporaries of one model step, the image encoder's included */

    /* results handed to callers */
    float *res_logits; /* [nobj][H][W] */
    float *res_scores;
    int *res_ids;
    size_t res_cap;

    /* RAM budget and spill file */
    size_t payload_bytes; /* bytes of one full payload */
    size_t resident_bytes, spilled_bytes;
    frame_out *lru_head, *lru_tail;
    FILE *spill;
    char spill_path[512];
    long spill_slots;
    long *free_slots;
    long nfree, cap_free;

    atomic_int cancel;
    sam2_cancel_fn cancel_fn; /* the user's hook (sam2_tracker_set_cancel_check), may be NULL */
    void *cancel_user;
    /* What the forward passes ask: the flag or the hook. `checking` points to it while a
     * propagation tracks frames and is NULL otherwise, so that a cancel left over from a finished
     * propagation never stops a prompt or the preflight (which must run to completion). */
    cancel_check cancel_check;
    const cancel_check *checking;
    const sam2_tap *tap;

    /* The batched predictor's session-wide state (EdgeTAM; tracker_batched.c): frames whose
     * consolidated output is reused by propagation (consolidated_frame_inds: 1 cond, 2 non-cond),
     * frames_already_tracked (1 forward, 2 reverse), tracking_has_started. */
    uint8_t *consolidated;
    int8_t *already_tracked;
    bool tracking_started;
};

/* ---- tracker.c: helpers shared with tracker_batched.c ---- */
int tracker_find_obj(const sam2_tracker *t, int id);
/* _obj_id_to_idx: the object, created on first use (not after tracking started in the batched
 * predictor). */
obj_state *tracker_get_obj(sam2_tracker *t, int id, sam2_error *err);
int tracker_ensure_results(sam2_tracker *t, sam2_error *err);
void tracker_fill_result(sam2_tracker *t, int frame, sam2_frame_result *r);
/* Object i's result from an entry (NULL: the no-object fill). */
int tracker_put_result(sam2_tracker *t, int i, frame_out *fo, sam2_error *err);
/* _consolidate_temp_output_across_obj at video resolution. */
int tracker_consolidate(sam2_tracker *t, int frame, bool is_cond, sam2_frame_result *r,
                        sam2_error *err);
bool tracker_any_temp_cond(const sam2_tracker *t, int frame);

/* Fails with SAM2_ERR_CANCELLED when a propagation in progress was asked to stop. */
int tracker_check_cancel(sam2_tracker *t, int frame, sam2_error *err);
/* Drops the entries of a frame that was abandoned part of the way: fresh[nobj] (NULL where an
 * object had none), never stored in a map, so the session is as before the frame. */
void tracker_abandon_frame(sam2_tracker *t, frame_out **fresh);

/* ---- tracker_batched.c: SAM 2's video predictor before 2024-12 (EdgeTAM's) ----
 * Used instead of the functions of tracker.c when cfg.batched_predictor is set. */
int batched_init(sam2_tracker *t);
void batched_free(sam2_tracker *t);
int batched_propagate(sam2_tracker *t, int start, int max_frames, int reverse,
                      sam2_frame_callback cb, void *user, sam2_error *err);
int batched_clear_frame(sam2_tracker *t, int frame, int obj_id, sam2_frame_result *r,
                        sam2_error *err);
int batched_remove_object(sam2_tracker *t, int obj_id, sam2_frame_callback cb, void *user,
                          sam2_error *err);
/* _reset_tracking_results: inputs and outputs of every object go, the objects stay. */
void batched_reset_results(sam2_tracker *t);

/* ---- tracker_store.c ---- */
frame_out *fo_new(sam2_tracker *t, bool has_maskmem, sam2_error *err);
void fo_free(sam2_tracker *t, frame_out *fo);
/* Resident pointers to the payload parts (loads a spilled payload back). NULL on I/O error. */
uint16_t *fo_maskmem(sam2_tracker *t, frame_out *fo, sam2_error *err);
float *fo_pred_masks(sam2_tracker *t, frame_out *fo, sam2_error *err);
/* Re-checks the RAM budget after a payload was written (spills least recently used ones). */
int fo_enforce_budget(sam2_tracker *t, sam2_error *err);
/* Gives the entry a maskmem part (after preflight encodes it); keeps pred_masks. */
int fo_add_maskmem(sam2_tracker *t, frame_out *fo, sam2_error *err);

frame_out *map_get(const obj_state *o, map_kind k, int frame);
/* Python `d[frame] = fo`: keeps the old position when the key exists; the map owns fo and frees
 * an entry it replaces. */
void map_set(sam2_tracker *t, obj_state *o, map_kind k, int frame, frame_out *fo);
/* Python `d.pop(frame, None)`: returns the entry (the caller owns that reference) or NULL. */
frame_out *map_pop(obj_state *o, map_kind k, int frame);
void map_clear(sam2_tracker *t, obj_state *o, map_kind k);
/* Frames of a map in insertion order; returns the count. */
int map_frames_in_order(const sam2_tracker *t, const obj_state *o, map_kind k, int *frames);

void obj_free(sam2_tracker *t, obj_state *o);
void point_set_free(point_set *p);
void store_close(sam2_tracker *t);

/* ---- tracker_step.c ---- */
typedef struct step_request {
    int frame;
    bool is_init_cond;
    bool reverse;
    bool run_mem_encoder;
    const point_set *points;           /* NULL: no clicks */
    const uint8_t *mask_input;         /* S*S binary mask, NULL: none */
    const float *prev_sam_mask_logits; /* L*L, NULL: none */
} step_request;

/* Runs the model for one object on one frame against the object's output maps and returns a
 * new frame_out (not yet in any map). */
frame_out *tracker_step(sam2_tracker *t, obj_state *o, const step_request *req, sam2_error *err);
/* The memory encoder of propagate_in_video_preflight for an entry without memory features. */
int tracker_encode_memory(sam2_tracker *t, obj_state *o, int frame, frame_out *fo, sam2_error *err);
/* Image features of a frame (cached). */
const image_features *tracker_features(sam2_tracker *t, int frame, sam2_error *err);
/* Marks a cached frame's features as the most recently used (nothing when it is not cached). A
 * propagation does so for every frame it hands out, the conditioning frames it does not
 * recompute included: the frame a user sees last is the one a click after a cancel goes to, and
 * the next frame's encoder, cancelled or not, must evict another. Results do not change: only
 * which frame the cache gives up next. */
void tracker_features_touch(sam2_tracker *t, int frame);
/* Upsamples an object's low-res logits to video resolution into out [H][W]. */
void tracker_video_res(const sam2_tracker *t, const float *low_res, float *out);
/* fill_holes_in_mask_scores: background components (logits <= 0, 8-connected) of area <= max
 * are set to 0.1. */
void fill_holes(float *logits, int H, int W, int max_area, int32_t *work);
uint16_t float_to_bf16(float f);
float bf16_to_float(uint16_t b);

#endif
