/* The batched video predictor: SAM2VideoPredictor as SAM 2 shipped it before its 2024-12
 * rewrite, which EdgeTAM's code base keeps (sam2_video_predictor.py of facebookresearch/EdgeTAM).
 * Selected by cfg.batched_predictor. Its rules, where they differ from tracker.c's:
 *  1. all objects of a frame go through one track_step (numerically the per-object computation,
 *     which is what runs here, object after object);
 *  2. propagate_in_video_preflight consolidates every frame with new inputs across objects and
 *     re-encodes the memory of *every* object there from its binarised mask, objects without an
 *     output on that frame included (a no-object mask and the pointer of an empty mask);
 *  3. frames whose consolidated output exists (consolidated_frame_inds, clicked frames, whether
 *     conditioning or not) are reused by propagation, never tracked again, so a correction click
 *     on a tracked frame survives the next propagation over it;
 *  4. no new object once tracking has started, and frames_already_tracked is session-wide.
 * The per-object output maps (obj_state.maps) play the role of output_dict_per_obj; the
 * session-wide output_dict is their union (every object has an entry on the same frames). */
#include "core/error.h"
#include "predict/tracker_internal.h"

#include <stdlib.h>
#include <string.h>

#define NO_OBJ_SCORE (-1024.0f)
#define CONSOLIDATED_COND 1u
#define CONSOLIDATED_NONCOND 2u

int batched_init(sam2_tracker *t) {
    t->consolidated = calloc((size_t)t->num_frames, 1);
    t->already_tracked = calloc((size_t)t->num_frames, 1);
    return t->consolidated && t->already_tracked ? 0 : -1;
}

void batched_free(sam2_tracker *t) {
    free(t->consolidated);
    free(t->already_tracked);
    t->consolidated = NULL;
    t->already_tracked = NULL;
}

void batched_reset_results(sam2_tracker *t) {
    for (int i = 0; i < t->nobj; i++) {
        obj_state *o = &t->objs[i];
        for (int f = 0; f < t->num_frames; f++) {
            point_set_free(o->points[f]);
            o->points[f] = NULL;
            free(o->masks[f]);
            o->masks[f] = NULL;
        }
        for (int k = 0; k < 4; k++) map_clear(t, o, (map_kind)k);
    }
    memset(t->consolidated, 0, (size_t)t->num_frames);
    memset(t->already_tracked, 0, (size_t)t->num_frames);
    t->tracking_started = false;
}

static bool any_cond_output(const sam2_tracker *t) {
    for (int i = 0; i < t->nobj; i++)
        for (int f = 0; f < t->num_frames; f++)
            if (map_get(&t->objs[i], MAP_COND, f)) return true;
    return false;
}

/* _get_empty_mask_ptr: the pointer of a track_step on an all-zero mask prompt (written to ptr). */
static int empty_mask_ptr(sam2_tracker *t, obj_state *o, int frame, float *ptr, sam2_error *err) {
    uint8_t *zeros = calloc((size_t)t->S * t->S, 1);
    if (!zeros) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    step_request req = {.frame = frame, .is_init_cond = true, .mask_input = zeros};
    frame_out *fo = tracker_step(t, o, &req, err);
    free(zeros);
    if (!fo) return -1;
    memcpy(ptr, fo->obj_ptr, sizeof(float) * (size_t)t->d);
    fo_free(t, fo);
    return 0;
}

/* Object o's slice of the consolidated output on `frame` (_consolidate_temp_output_across_obj
 * with run_mem_encoder): its temporary output, else its stored one, else the no-object fill
 * (scores 10, masks NO_OBJ_SCORE, the empty-mask pointer); the memory is encoded again from the
 * binarised mask (is_mask_from_pts). Returns a new entry. */
static frame_out *consolidated_slice(sam2_tracker *t, obj_state *o, int frame, map_kind temp,
                                     sam2_error *err) {
    frame_out *src = map_get(o, temp, frame);
    if (!src) src = map_get(o, MAP_COND, frame);
    if (!src) src = map_get(o, MAP_NONCOND, frame);
    frame_out *fo = fo_new(t, false, err);
    if (!fo) return NULL;
    float *pm = fo_pred_masks(t, fo, err);
    if (!pm) goto fail;
    const size_t LL = (size_t)t->L * t->L;
    if (src) {
        const float *spm = fo_pred_masks(t, src, err);
        if (!spm) goto fail;
        pm = fo_pred_masks(t, fo, err); /* loading src may have spilled fo's payload */
        if (!pm) goto fail;
        memcpy(pm, spm, sizeof(float) * LL);
        memcpy(fo->obj_ptr, src->obj_ptr, sizeof(float) * (size_t)t->d);
        fo->object_score = src->object_score;
    } else {
        for (size_t k = 0; k < LL; k++) pm[k] = NO_OBJ_SCORE;
        fo->object_score = 10.0f; /* the consolidated default: present, as sigmoid(10) = 1 */
        if (empty_mask_ptr(t, o, frame, fo->obj_ptr, err)) goto fail;
    }
    if (tracker_encode_memory(t, o, frame, fo, err)) goto fail;
    return fo;
fail:
    fo_free(t, fo);
    return NULL;
}

/* propagate_in_video_preflight. */
static int preflight(sam2_tracker *t, sam2_error *err) {
    t->tracking_started = true;
    const int nf = t->num_frames;
    for (int c = 0; c < 2; c++) { /* non-conditioning temporary outputs first, as the official */
        const map_kind temp = c ? MAP_TEMP_COND : MAP_TEMP_NONCOND;
        const map_kind dest = c ? MAP_COND : MAP_NONCOND;
        /* The official iterates a Python set of frame indices; ascending order here (the
         * encodings of different frames do not depend on each other). */
        for (int f = 0; f < nf; f++) {
            bool any = false;
            for (int i = 0; i < t->nobj && !any; i++) any = map_get(&t->objs[i], temp, f) != NULL;
            if (!any) continue;
            t->consolidated[f] |= c ? CONSOLIDATED_COND : CONSOLIDATED_NONCOND;
            for (int i = 0; i < t->nobj; i++) {
                frame_out *fo = consolidated_slice(t, &t->objs[i], f, temp, err);
                if (!fo) return -1;
                map_set(t, &t->objs[i], dest, f, fo);
            }
        }
        for (int i = 0; i < t->nobj; i++) map_clear(t, &t->objs[i], temp);
    }
    /* a frame with a conditioning output has no non-conditioning one */
    for (int f = 0; f < nf; f++) {
        bool cond = false;
        for (int i = 0; i < t->nobj; i++) {
            if (!map_get(&t->objs[i], MAP_COND, f)) continue;
            cond = true;
            fo_free(t, map_pop(&t->objs[i], MAP_NONCOND, f));
        }
        if (cond || (t->consolidated[f] & CONSOLIDATED_COND))
            t->consolidated[f] &= (uint8_t)~CONSOLIDATED_NONCOND;
    }
    return 0;
}

/* Tracks every object on one frame (an input frame's consolidated output is reused). The new
 * entries are stored only once all objects are done, so that a cancel part of the way through
 * leaves the session exactly as before the frame. */
static int track_frame(sam2_tracker *t, int frame, int reverse, frame_out **fresh,
                       sam2_error *err) {
    const uint8_t cons = t->consolidated[frame];
    for (int i = 0; i < t->nobj && !cons; i++) {
        step_request req = {.frame = frame, .reverse = reverse != 0, .run_mem_encoder = true};
        if (i > 0 && tracker_check_cancel(t, frame, err)) goto abandon;
        fresh[i] = tracker_step(t, &t->objs[i], &req, err);
        if (!fresh[i]) goto abandon;
    }
    for (int i = 0; i < t->nobj; i++) {
        obj_state *o = &t->objs[i];
        frame_out *fo = fresh[i];
        if (cons) /* an input frame: its consolidated output, not tracked again */
            fo = map_get(o, (cons & CONSOLIDATED_COND) ? MAP_COND : MAP_NONCOND, frame);
        else
            map_set(t, o, MAP_NONCOND, frame, fresh[i]);
        fresh[i] = NULL;
        if (tracker_put_result(t, i, fo, err)) return -1;
    }
    t->already_tracked[frame] = reverse ? 2 : 1;
    return 0;
abandon:
    tracker_abandon_frame(t, fresh);
    return -1;
}

int batched_propagate(sam2_tracker *t, int start, int max_frames, int reverse,
                      sam2_frame_callback cb, void *user, sam2_error *err) {
    if (preflight(t, err)) return err ? err->code : -1;
    const int nf = t->num_frames;
    int first_cond = nf;
    for (int i = 0; i < t->nobj; i++)
        for (int f = 0; f < nf; f++)
            if (map_get(&t->objs[i], MAP_COND, f) && f < first_cond) first_cond = f;
    if (first_cond == nf)
        return sam2_fail(err, SAM2_ERR_STATE, "No points are provided; please add points first");
    if (start < 0) start = first_cond;
    if (start >= nf)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "start frame %d is out of range (0..%d)", start,
                         nf - 1);
    if (max_frames < 0) max_frames = nf;
    int end, step;
    if (reverse) {
        if (start == 0) return 0; /* reverse tracking from frame 0 is skipped */
        end = start - max_frames > 0 ? start - max_frames : 0;
        step = -1;
    } else {
        end = start + max_frames < nf - 1 ? start + max_frames : nf - 1;
        step = 1;
    }
    if (tracker_ensure_results(t, err)) return -1;
    frame_out **fresh = calloc((size_t)t->nobj, sizeof *fresh);
    if (!fresh) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    t->checking = &t->cancel_check;
    int rc = 0;
    for (int frame = start;; frame += step) {
        rc = track_frame(t, frame, reverse, fresh, err);
        if (rc) break;
        sam2_frame_result r;
        tracker_fill_result(t, frame, &r);
        if ((cb && cb(user, &r)) || cancel_requested(t->checking)) {
            rc = sam2_fail(err, SAM2_ERR_CANCELLED, "propagation cancelled at frame %d", frame);
            break;
        }
        if (frame == end) break;
    }
    free(fresh);
    return rc;
}

/* clear_all_prompts_in_frame without output. */
static void clear_inputs(sam2_tracker *t, obj_state *o, int frame) {
    point_set_free(o->points[frame]);
    o->points[frame] = NULL;
    free(o->masks[frame]);
    o->masks[frame] = NULL;
    fo_free(t, map_pop(o, MAP_TEMP_COND, frame));
    fo_free(t, map_pop(o, MAP_TEMP_NONCOND, frame));
    for (int i = 0; i < t->nobj; i++)
        if (t->objs[i].points[frame] || t->objs[i].masks[frame]) return;
    /* no input left on the frame: it stops being a conditioning frame, for every object */
    t->consolidated[frame] = 0;
    bool was_cond = false;
    for (int i = 0; i < t->nobj; i++) {
        frame_out *out = map_pop(&t->objs[i], MAP_COND, frame);
        if (!out) continue;
        map_set(t, &t->objs[i], MAP_NONCOND, frame, out);
        was_cond = true;
    }
    if (was_cond) t->already_tracked[frame] = 0;
    if (!any_cond_output(t)) batched_reset_results(t);
}

int batched_clear_frame(sam2_tracker *t, int frame, int obj_id, sam2_frame_result *r,
                        sam2_error *err) {
    obj_state *o = tracker_get_obj(t, obj_id, err);
    if (!o) return err ? err->code : SAM2_ERR_NOMEM;
    clear_inputs(t, o, frame);
    return tracker_consolidate(t, frame, tracker_any_temp_cond(t, frame), r, err);
}

int batched_remove_object(sam2_tracker *t, int obj_id, sam2_frame_callback cb, void *user,
                          sam2_error *err) {
    const int idx = tracker_find_obj(t, obj_id);
    if (idx < 0) return 0; /* not strict, as the demo calls it */
    if (t->nobj == 1) {
        sam2_tracker_reset(t);
        return 0;
    }
    const int nf = t->num_frames;
    bool *input = calloc((size_t)nf, sizeof(bool));
    if (!input) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    for (int f = 0; f < nf; f++) {
        obj_state *o = &t->objs[idx];
        input[f] = o->points[f] || o->masks[f];
        if (input[f]) clear_inputs(t, o, f);
    }
    obj_free(t, &t->objs[idx]);
    memmove(&t->objs[idx], &t->objs[idx + 1], sizeof(obj_state) * (size_t)(t->nobj - idx - 1));
    t->nobj--;
    int rc = 0;
    for (int f = 0; f < nf && rc == 0; f++) {
        if (!input[f]) continue;
        sam2_frame_result r;
        rc = tracker_consolidate(t, f, tracker_any_temp_cond(t, f), &r, err);
        if (rc == 0 && cb && cb(user, &r)) rc = sam2_fail(err, SAM2_ERR_CANCELLED, "cancelled");
    }
    free(input);
    return rc;
}
