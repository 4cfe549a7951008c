/* The video tracker's public API: SAM2VideoPredictor's session operations (add points / box /
 * mask, clear, remove, reset, propagate) over the state in tracker_internal.h. */
#include "core/device.h"
#include "core/error.h"
#include "io/video.h"
#include "predict/tracker.h"
#include "predict/tracker_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NO_OBJ_SCORE (-1024.0f)

/* ---- construction ---- */

/* The answer to every cancel check: sam2_tracker_cancel's flag, then the user's hook. */
static int should_stop(void *user) {
    sam2_tracker *t = user;
    return atomic_load(&t->cancel) || (t->cancel_fn && t->cancel_fn(t->cancel_user));
}

/* The slot's three feature levels in one block, at least as large as a model-input frame. */
static int feature_slot_alloc(const sam2_tracker *t, feature_slot *slot) {
    size_t n[3], total = 0;
    for (int l = 0; l < 3; l++) {
        n[l] = (image_features_level_floats(t->net, l) + 15) & ~(size_t)15;
        total += n[l];
    }
    const size_t frame = 3 * (size_t)t->S * t->S;
    slot->storage = malloc(sizeof(float) * (total > frame ? total : frame));
    if (!slot->storage) return -1;
    slot->f.fpn[0] = slot->storage;
    slot->f.fpn[1] = slot->f.fpn[0] + n[0];
    slot->f.fpn[2] = slot->f.fpn[1] + n[1];
    return 0;
}

sam2_tracker *tracker_new_with_provider(const sam2_model *model, frame_provider src,
                                        const sam2_tracker_options *opt, sam2_error *err) {
    if (!model) {
        sam2_fail(err, SAM2_ERR_ARGUMENT, "tracker: no model");
        goto fail_src;
    }
    if (src.num_frames < 1 || src.width < 1 || src.height < 1) {
        sam2_fail(err, SAM2_ERR_ARGUMENT, "tracker: the video has no frames");
        goto fail_src;
    }
    sam2_tracker *t = calloc(1, sizeof *t);
    if (!t) goto oom_src;
    t->model = model;
    t->net = &model->net;
    t->src = src;
    if (opt) t->opt = *opt;
    if (t->opt.max_objects <= 0) t->opt.max_objects = TRACKER_DEFAULT_MAX_OBJECTS;
    t->num_frames = src.num_frames;
    t->width = src.width;
    t->height = src.height;
    const sam2_config *c = &t->net->cfg;
    t->S = c->image_size;
    t->E = t->net->embed;
    t->L = 4 * t->E;
    t->P = t->E * t->E;
    t->d = c->d_model;
    t->md = c->mem_dim;
    t->MT = sam2_config_mem_tokens(c);
    t->payload_bytes =
        (size_t)t->MT * t->md * sizeof(uint16_t) + (size_t)t->L * t->L * sizeof(float);
    arena_init(&t->step_arena);
    atomic_init(&t->cancel, 0);
    t->cancel_check = (cancel_check){.fn = should_stop, .user = t};
    if (c->batched_predictor && batched_init(t)) goto oom;
    t->feat_slots = c->batched_predictor ? 1 : TRACKER_FEATURE_CACHE;
    for (int i = 0; i < TRACKER_FEATURE_CACHE; i++) t->feat[i].frame = -1;
    for (int i = 0; i < t->feat_slots; i++)
        if (feature_slot_alloc(t, &t->feat[i])) goto oom;
    return t;
oom:
    sam2_tracker_free(t);
    sam2_fail(err, SAM2_ERR_NOMEM, "tracker: out of memory");
    return NULL;
oom_src:
    sam2_fail(err, SAM2_ERR_NOMEM, "tracker: out of memory");
fail_src:
    if (src.close) src.close(src.user);
    return NULL;
}

static void close_video(void *user) {
    sam2_video_close(user);
}

sam2_tracker *sam2_tracker_new(const sam2_model *model, sam2_video *video,
                               const sam2_tracker_options *opt, sam2_error *err) {
    if (!video) {
        sam2_fail(err, SAM2_ERR_ARGUMENT, "tracker: no video");
        return NULL;
    }
    frame_provider p = {.user = video,
                        .num_frames = sam2_video_frame_count(video),
                        .width = sam2_video_width(video),
                        .height = sam2_video_height(video),
                        .load = sam2_video_read_model_input,
                        .close = close_video};
    sam2_tracker *t = tracker_new_with_provider(model, p, opt, err);
    if (t) t->video = video;
    return t;
}

const sam2_video *sam2_tracker_video(const sam2_tracker *t) {
    return t->video;
}

void sam2_tracker_free(sam2_tracker *t) {
    if (!t) return;
    for (int i = 0; i < t->nobj; i++) obj_free(t, &t->objs[i]);
    free(t->objs);
    for (int i = 0; i < TRACKER_FEATURE_CACHE; i++) free(t->feat[i].storage);
    for (int i = 0; i < TRACKER_FEATURE_CACHE; i++) free(t->feat[i].memattn_frame);
    free(t->res_logits);
    free(t->res_scores);
    free(t->res_ids);
    batched_free(t);
    arena_free(&t->step_arena);
    /* the backend blocks kept for the heads' next call too: a server whose sessions have all
     * closed holds the model and little else (its soak checks for leaks there) */
    dev_cache_drop(t->net->dev);
    store_close(t);
    if (t->src.close) t->src.close(t->src.user);
    free(t);
}

void tracker_set_tap(sam2_tracker *t, const sam2_tap *tap) {
    t->tap = tap;
}

int sam2_tracker_object_ids(const sam2_tracker *t, int *ids, int max) {
    for (int i = 0; i < t->nobj && i < max; i++) ids[i] = t->objs[i].id;
    return t->nobj;
}

size_t sam2_tracker_ram_bytes(const sam2_tracker *t) {
    return t->resident_bytes;
}
size_t sam2_tracker_spilled_bytes(const sam2_tracker *t) {
    return t->spilled_bytes;
}
void sam2_tracker_release_scratch(sam2_tracker *t) {
    if (!t) return;
    arena_free(&t->step_arena); /* leaves it empty and ready for reuse */
    /* and the backend blocks the heads' arenas kept for their next call */
    dev_cache_drop(t->net->dev);
}
void sam2_tracker_cancel(sam2_tracker *t) {
    if (t) atomic_store(&t->cancel, 1);
}

void sam2_tracker_set_cancel_check(sam2_tracker *t, sam2_cancel_fn fn, void *user) {
    if (!t) return;
    t->cancel_fn = fn;
    t->cancel_user = user;
}

int tracker_check_cancel(sam2_tracker *t, int frame, sam2_error *err) {
    if (!cancel_requested(t->checking)) return 0;
    return sam2_fail(err, SAM2_ERR_CANCELLED, "propagation cancelled in frame %d", frame);
}

void tracker_abandon_frame(sam2_tracker *t, frame_out **fresh) {
    for (int i = 0; i < t->nobj; i++) {
        fo_free(t, fresh[i]);
        fresh[i] = NULL;
    }
}

/* ---- objects ---- */

int tracker_find_obj(const sam2_tracker *t, int id) {
    for (int i = 0; i < t->nobj; i++)
        if (t->objs[i].id == id) return i;
    return -1;
}

/* _obj_id_to_idx: objects are created on first use, as in the official predictor. */
obj_state *tracker_get_obj(sam2_tracker *t, int id, sam2_error *err) {
    int i = tracker_find_obj(t, id);
    if (i >= 0) return &t->objs[i];
    if (t->tracking_started) { /* batched predictor: allow_new_object = not tracking_has_started */
        char ids[256] = "";
        for (int k = 0; k < t->nobj && strlen(ids) + 16 < sizeof ids; k++)
            snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%d", k ? ", " : "",
                     t->objs[k].id);
        sam2_fail(err, SAM2_ERR_STATE,
                  "Cannot add new object id %d after tracking starts. All existing object ids: "
                  "[%s]. Please call 'reset_state' to restart from scratch.",
                  id, ids);
        return NULL;
    }
    if (t->nobj >= t->opt.max_objects) {
        sam2_fail(err, SAM2_ERR_LIMIT, "too many objects in this session (at most %d)",
                  t->opt.max_objects);
        return NULL;
    }
    if (t->nobj == t->cap_obj) {
        int cap = t->cap_obj ? 2 * t->cap_obj : 4;
        obj_state *p = realloc(t->objs, sizeof *p * (size_t)cap);
        if (!p) goto oom;
        t->objs = p;
        t->cap_obj = cap;
    }
    obj_state *o = &t->objs[t->nobj];
    memset(o, 0, sizeof *o);
    o->id = id;
    const size_t nf = (size_t)t->num_frames;
    o->points = calloc(nf, sizeof *o->points);
    o->masks = calloc(nf, sizeof *o->masks);
    o->tracked = calloc(nf, 1);
    bool ok = o->points && o->masks && o->tracked;
    for (int k = 0; k < 4; k++) ok = ok && (o->maps[k].at = calloc(nf, sizeof(frame_out *)));
    if (!ok) {
        obj_free(t, o);
        goto oom;
    }
    t->nobj++;
    return o;
oom:
    sam2_fail(err, SAM2_ERR_NOMEM, "out of memory adding object %d", id);
    return NULL;
}

/* ---- results ---- */

int tracker_ensure_results(sam2_tracker *t, sam2_error *err) {
    const size_t need = (size_t)(t->nobj ? t->nobj : 1);
    if (need <= t->res_cap) return 0;
    const size_t hw = (size_t)t->width * t->height;
    float *l = realloc(t->res_logits, sizeof(float) * need * hw);
    if (!l) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for the frame's masks");
    t->res_logits = l;
    float *s = realloc(t->res_scores, sizeof(float) * need);
    if (!s) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for the frame's masks");
    t->res_scores = s;
    int *ids = realloc(t->res_ids, sizeof(int) * need);
    if (!ids) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for the frame's masks");
    t->res_ids = ids;
    t->res_cap = need;
    return 0;
}

void tracker_fill_result(sam2_tracker *t, int frame, sam2_frame_result *r) {
    r->frame_index = frame;
    r->num_objects = t->nobj;
    r->object_ids = t->res_ids;
    r->width = t->width;
    r->height = t->height;
    r->logits = t->res_logits;
    r->object_scores = t->res_scores;
}

/* Writes object i's result from an entry (or the no-object fill when fo is NULL). */
int tracker_put_result(sam2_tracker *t, int i, frame_out *fo, sam2_error *err) {
    const size_t hw = (size_t)t->width * t->height;
    float *dst = t->res_logits + (size_t)i * hw;
    t->res_ids[i] = t->objs[i].id;
    if (!fo) {
        for (size_t k = 0; k < hw; k++) dst[k] = NO_OBJ_SCORE;
        t->res_scores[i] = NO_OBJ_SCORE;
        return 0;
    }
    const float *pm = fo_pred_masks(t, fo, err);
    if (!pm) return -1;
    tracker_video_res(t, pm, dst);
    t->res_scores[i] = fo->object_score;
    return 0;
}

/* _consolidate_temp_output_across_obj at video resolution. */
int tracker_consolidate(sam2_tracker *t, int frame, bool is_cond, sam2_frame_result *r,
                        sam2_error *err) {
    if (tracker_ensure_results(t, err)) return -1;
    for (int i = 0; i < t->nobj; i++) {
        obj_state *o = &t->objs[i];
        frame_out *fo = map_get(o, is_cond ? MAP_TEMP_COND : MAP_TEMP_NONCOND, frame);
        if (!fo) fo = map_get(o, MAP_COND, frame);
        if (!fo) fo = map_get(o, MAP_NONCOND, frame);
        if (tracker_put_result(t, i, fo, err)) return -1;
    }
    if (r) tracker_fill_result(t, frame, r);
    return 0;
}

bool tracker_any_temp_cond(const sam2_tracker *t, int frame) {
    for (int i = 0; i < t->nobj; i++)
        if (map_get(&t->objs[i], MAP_TEMP_COND, frame)) return true;
    return false;
}

/* ---- prompts ---- */

static int check_frame(const sam2_tracker *t, int frame, sam2_error *err) {
    if (frame < 0 || frame >= t->num_frames)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "frame index %d is out of range (0..%d)", frame,
                         t->num_frames - 1);
    return 0;
}

/* Runs the prompt step for an object on a frame and stores it as a temporary output. */
static int run_prompt(sam2_tracker *t, obj_state *o, int frame, sam2_frame_result *r,
                      sam2_error *err) {
    /* frames_already_tracked: per object (2024-12 predictor) or global (batched predictor) */
    const int8_t tracked = t->already_tracked ? t->already_tracked[frame] : o->tracked[frame];
    const bool is_init_cond = tracked == 0;
    const bool reverse = tracked == 2;
    const bool is_cond = is_init_cond || t->opt.add_all_frames_to_correct_as_cond;
    const map_kind storage = is_cond ? MAP_TEMP_COND : MAP_TEMP_NONCOND;
    float *prev = NULL;
    if (o->points[frame]) { /* prev_sam_mask_logits, for point prompts only */
        frame_out *p = map_get(o, storage, frame);
        if (!p) p = map_get(o, MAP_COND, frame);
        if (!p) p = map_get(o, MAP_NONCOND, frame);
        if (p) {
            const float *pm = fo_pred_masks(t, p, err);
            if (!pm) return -1;
            prev = malloc(sizeof(float) * (size_t)t->L * t->L);
            if (!prev) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
            for (size_t k = 0; k < (size_t)t->L * t->L; k++)
                prev[k] = pm[k] < -32.0f ? -32.0f : (pm[k] > 32.0f ? 32.0f : pm[k]);
        }
    }
    step_request req = {.frame = frame,
                        .is_init_cond = is_init_cond,
                        .reverse = reverse,
                        .run_mem_encoder = false,
                        .points = o->points[frame],
                        .mask_input = o->masks[frame],
                        .prev_sam_mask_logits = prev};
    frame_out *fo = tracker_step(t, o, &req, err);
    free(prev);
    if (!fo) return -1;
    map_set(t, o, storage, frame, fo);
    return tracker_consolidate(t, frame, is_cond, r, err);
}

static int check_point(float x, float y, bool normalized, const sam2_tracker *t, int i,
                       sam2_error *err) {
    const float w = normalized ? 1.0f : (float)t->width, h = normalized ? 1.0f : (float)t->height;
    if (!isfinite(x) || !isfinite(y))
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "point %d has a non-finite coordinate", i);
    if (x < -w || x > 2 * w || y < -h || y > 2 * h)
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "point %d (%g, %g) is far outside the video frame (%g x %g)", i, (double)x,
                         (double)y, (double)w, (double)h);
    return 0;
}

static int add_points_or_box(sam2_tracker *t, int frame, int obj_id, const sam2_point *points,
                             int n_points, const float *box, int clear_old, int normalized,
                             sam2_frame_result *r, sam2_error *err) {
    if (n_points < 0 || n_points > SAM2_MAX_PROMPT_POINTS || (n_points > 0 && !points))
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "add_prompt: %d points (allowed: 0..%d)", n_points,
                         SAM2_MAX_PROMPT_POINTS);
    if (n_points == 0 && !box)
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "add_prompt: at least one of points or box must be given");
    if (box && !clear_old)
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "add_prompt: a box cannot keep old points (box corners come first)");
    for (int i = 0; i < n_points; i++) {
        if (check_point(points[i].x, points[i].y, normalized, t, i, err)) return SAM2_ERR_ARGUMENT;
        if (points[i].label < -1 || points[i].label > 3)
            return sam2_fail(err, SAM2_ERR_ARGUMENT,
                             "point %d has label %d (allowed: -1, 0, 1, 2, 3)", i, points[i].label);
    }
    if (box) {
        if (check_point(box[0], box[1], normalized, t, 0, err) ||
            check_point(box[2], box[3], normalized, t, 1, err))
            return SAM2_ERR_ARGUMENT;
        if (box[2] < box[0] || box[3] < box[1])
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "box has x1 < x0 or y1 < y0");
    }
    obj_state *o = tracker_get_obj(t, obj_id, err);
    if (!o) return err ? err->code : SAM2_ERR_NOMEM;

    /* New points in model pixels: box corners (labels 2, 3) first, then the clicks. */
    const point_set *old = clear_old ? NULL : o->points[frame];
    const int nb = box ? 2 : 0, nold = old ? old->n : 0, n = nold + nb + n_points;
    if (n > SAM2_MAX_PROMPT_POINTS)
        return sam2_fail(err, SAM2_ERR_LIMIT, "object %d has more than %d points on frame %d",
                         obj_id, SAM2_MAX_PROMPT_POINTS, frame);
    point_set *ps = calloc(1, sizeof *ps);
    if (ps) {
        ps->xy = malloc(sizeof(float) * 2 * (size_t)n);
        ps->labels = malloc(sizeof(int) * (size_t)n);
    }
    if (!ps || !ps->xy || !ps->labels) {
        point_set_free(ps);
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    }
    ps->n = n;
    if (old) {
        memcpy(ps->xy, old->xy, sizeof(float) * 2 * (size_t)nold);
        memcpy(ps->labels, old->labels, sizeof(int) * (size_t)nold);
    }
    const float S = (float)t->S;
    const float sx = normalized ? 1.0f : (float)t->width, sy = normalized ? 1.0f : (float)t->height;
    int k = nold;
    for (int c = 0; c < nb; c++, k++) {
        ps->xy[2 * k] = box[2 * c] / sx * S;
        ps->xy[2 * k + 1] = box[2 * c + 1] / sy * S;
        ps->labels[k] = 2 + c;
    }
    for (int i = 0; i < n_points; i++, k++) {
        ps->xy[2 * k] = points[i].x / sx * S;
        ps->xy[2 * k + 1] = points[i].y / sy * S;
        ps->labels[k] = points[i].label;
    }
    point_set_free(o->points[frame]);
    o->points[frame] = ps;
    free(o->masks[frame]);
    o->masks[frame] = NULL;
    return run_prompt(t, o, frame, r, err);
}

static int add_mask(sam2_tracker *t, int frame, int obj_id, const uint8_t *mask, int mw, int mh,
                    sam2_frame_result *r, sam2_error *err) {
    if (!mask || mw < 1 || mh < 1 || mw > 16384 || mh > 16384)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "add_mask: mask size %dx%d is invalid", mw, mh);
    const int S = t->S;
    uint8_t *m = malloc((size_t)S * S);
    if (!m) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    if (mw == S && mh == S) {
        for (size_t i = 0; i < (size_t)S * S; i++) m[i] = mask[i] != 0;
    } else {
        /* Antialiased bilinear resize of the 0/1 mask, then >= 0.5, as add_new_mask does. */
        float *src = malloc(sizeof(float) * (size_t)mw * mh);
        float *dst = malloc(sizeof(float) * (size_t)S * S);
        if (!src || !dst) {
            free(src);
            free(dst);
            free(m);
            return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < (size_t)mw * mh; i++) src[i] = mask[i] ? 1.0f : 0.0f;
        t->net->be->resize_bilinear(dst, src, 1, mh, mw, S, S, 1);
        for (size_t i = 0; i < (size_t)S * S; i++) m[i] = dst[i] >= 0.5f;
        free(src);
        free(dst);
    }
    obj_state *o = tracker_get_obj(t, obj_id, err);
    if (!o) {
        free(m);
        return err ? err->code : SAM2_ERR_NOMEM;
    }
    free(o->masks[frame]);
    o->masks[frame] = m;
    point_set_free(o->points[frame]);
    o->points[frame] = NULL;
    return run_prompt(t, o, frame, r, err);
}

int sam2_tracker_add_prompt(sam2_tracker *t, int frame, int obj_id, const sam2_prompt *p,
                            sam2_frame_result *r, sam2_error *err) {
    if (!t) return sam2_fail(err, SAM2_ERR_ARGUMENT, "add_prompt: no tracker");
    if (!p) return sam2_fail(err, SAM2_ERR_ARGUMENT, "add_prompt: no prompt");
    if (check_frame(t, frame, err)) return SAM2_ERR_ARGUMENT;
    if (p->mask_input)
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "add_prompt: mask_input (logits) is for the image predictor; give the "
                         "tracker a binary mask");
    if (p->mask) {
        if (p->n_points || p->box || p->keep_old_points)
            return sam2_fail(err, SAM2_ERR_ARGUMENT,
                             "add_prompt: a mask prompt takes no points, box or keep_old_points");
        return add_mask(t, frame, obj_id, p->mask->bits, p->mask->width, p->mask->height, r, err);
    }
    return add_points_or_box(t, frame, obj_id, p->points, p->n_points, p->box, !p->keep_old_points,
                             p->normalized, r, err);
}

/* clear_all_prompts_in_frame for one object, without output. */
static void clear_prompts(sam2_tracker *t, obj_state *o, int frame) {
    point_set_free(o->points[frame]);
    o->points[frame] = NULL;
    free(o->masks[frame]);
    o->masks[frame] = NULL;
    fo_free(t, map_pop(o, MAP_TEMP_COND, frame));
    fo_free(t, map_pop(o, MAP_TEMP_NONCOND, frame));
    frame_out *out = map_pop(o, MAP_COND, frame);
    if (out) {
        /* The frame's output stays, as an ordinary tracked frame. */
        map_set(t, o, MAP_NONCOND, frame, out);
        o->tracked[frame] = 0;
    }
}

int sam2_tracker_clear_frame(sam2_tracker *t, int frame, int obj_id, sam2_frame_result *r,
                             sam2_error *err) {
    if (!t) return sam2_fail(err, SAM2_ERR_ARGUMENT, "clear_frame: no tracker");
    if (check_frame(t, frame, err)) return SAM2_ERR_ARGUMENT;
    if (t->net->cfg.batched_predictor) return batched_clear_frame(t, frame, obj_id, r, err);
    obj_state *o = tracker_get_obj(t, obj_id, err);
    if (!o) return err ? err->code : SAM2_ERR_NOMEM;
    clear_prompts(t, o, frame);
    return tracker_consolidate(t, frame, tracker_any_temp_cond(t, frame), r, err);
}

void sam2_tracker_reset(sam2_tracker *t) {
    if (!t) return;
    if (t->net->cfg.batched_predictor) batched_reset_results(t);
    for (int i = 0; i < t->nobj; i++) obj_free(t, &t->objs[i]);
    t->nobj = 0;
}

int sam2_tracker_remove_object(sam2_tracker *t, int obj_id, sam2_frame_callback cb, void *user,
                               sam2_error *err) {
    if (!t) return sam2_fail(err, SAM2_ERR_ARGUMENT, "remove_object: no tracker");
    if (t->net->cfg.batched_predictor) return batched_remove_object(t, obj_id, cb, user, err);
    const int idx = tracker_find_obj(t, obj_id);
    if (idx < 0) return 0; /* not strict, as the demo calls it */
    if (t->nobj == 1) {
        sam2_tracker_reset(t);
        return 0;
    }
    obj_state *o = &t->objs[idx];
    const int nf = t->num_frames;
    bool *input = calloc((size_t)nf, sizeof(bool));
    if (!input) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    for (int f = 0; f < nf; f++) {
        input[f] = o->points[f] || o->masks[f];
        if (input[f]) clear_prompts(t, o, f);
    }
    obj_free(t, o);
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

/* ---- propagation ---- */

/* propagate_in_video_preflight: encode the memory of every temporary output and move it into
 * the object's output maps. */
static int preflight(sam2_tracker *t, sam2_error *err) {
    if (t->nobj == 0)
        return sam2_fail(err, SAM2_ERR_STATE,
                         "No input points or masks are provided for any object; please add "
                         "inputs first.");
    int *frames = malloc(sizeof(int) * (size_t)t->num_frames);
    if (!frames) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    for (int i = 0; i < t->nobj; i++) {
        obj_state *o = &t->objs[i];
        for (int c = 0; c < 2; c++) {
            const map_kind temp = c ? MAP_TEMP_COND : MAP_TEMP_NONCOND;
            const map_kind dest = c ? MAP_COND : MAP_NONCOND;
            int n = map_frames_in_order(t, o, temp, frames);
            for (int j = 0; j < n; j++) {
                frame_out *fo = map_get(o, temp, frames[j]);
                if (!fo->has_maskmem && tracker_encode_memory(t, o, frames[j], fo, err)) {
                    free(frames);
                    return -1;
                }
                map_pop(o, temp, frames[j]);
                map_set(t, o, dest, frames[j], fo);
            }
        }
        int ncond = 0;
        for (int f = 0; f < t->num_frames; f++)
            if (map_get(o, MAP_COND, f)) {
                ncond++;
                fo_free(t, map_pop(o, MAP_NONCOND, f));
            }
        if (ncond == 0) {
            free(frames);
            return sam2_fail(err, SAM2_ERR_STATE,
                             "No input points or masks are provided for object id %d; please add "
                             "inputs first.",
                             o->id);
        }
    }
    free(frames);
    return 0;
}

/* Tracks every object on one frame. The new entries are stored only once all objects are done,
 * so that a cancel part of the way through leaves the session exactly as before the frame. */
static int track_frame(sam2_tracker *t, int frame, int reverse, frame_out **fresh,
                       sam2_error *err) {
    for (int i = 0; i < t->nobj; i++) {
        obj_state *o = &t->objs[i];
        if (map_get(o, MAP_COND, frame)) continue;
        step_request req = {.frame = frame,
                            .is_init_cond = false,
                            .reverse = reverse != 0,
                            .run_mem_encoder = true};
        if (i > 0 && tracker_check_cancel(t, frame, err)) goto abandon;
        fresh[i] = tracker_step(t, o, &req, err);
        if (!fresh[i]) goto abandon;
    }
    for (int i = 0; i < t->nobj; i++) {
        obj_state *o = &t->objs[i];
        frame_out *fo = fresh[i] ? fresh[i] : map_get(o, MAP_COND, frame);
        if (fresh[i]) map_set(t, o, MAP_NONCOND, frame, fresh[i]);
        fresh[i] = NULL;
        o->tracked[frame] = reverse ? 2 : 1;
        if (tracker_put_result(t, i, fo, err)) return -1;
    }
    return 0;
abandon:
    tracker_abandon_frame(t, fresh);
    return -1;
}

static int propagate(sam2_tracker *t, int start, int max_frames, int reverse,
                     sam2_frame_callback cb, void *user, sam2_error *err);

int sam2_tracker_propagate(sam2_tracker *t, int start, int max_frames, int reverse,
                           sam2_frame_callback cb, void *user, sam2_error *err) {
    if (!t) return sam2_fail(err, SAM2_ERR_ARGUMENT, "propagate: no tracker");
    /* a cancel inside a model step comes back as a NULL entry: its code is only in err */
    sam2_error local = {0};
    if (!err) err = &local;
    atomic_store(&t->cancel, 0);
    int rc = t->net->cfg.batched_predictor
                 ? batched_propagate(t, start, max_frames, reverse, cb, user, err)
                 : propagate(t, start, max_frames, reverse, cb, user, err);
    t->checking = NULL;
    return rc && err->code ? err->code : rc;
}

static int propagate(sam2_tracker *t, int start, int max_frames, int reverse,
                     sam2_frame_callback cb, void *user, sam2_error *err) {
    if (preflight(t, err)) return err ? err->code : -1;
    const int nf = t->num_frames;
    if (start < 0) {
        start = nf;
        for (int i = 0; i < t->nobj; i++)
            for (int f = 0; f < nf; f++)
                if (map_get(&t->objs[i], MAP_COND, f) && f < start) start = f;
    }
    if (start >= nf)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "start frame %d is out of range (0..%d)", start,
                         nf - 1);
    if (max_frames < 0) max_frames = nf;
    int end, step;
    if (reverse) {
        end = start - max_frames > 0 ? start - max_frames : 0;
        if (start == 0) return 0; /* the official predictor skips reverse tracking from frame 0 */
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
        tracker_features_touch(t, frame);
        if ((cb && cb(user, &r)) || cancel_requested(t->checking)) {
            rc = sam2_fail(err, SAM2_ERR_CANCELLED, "propagation cancelled at frame %d", frame);
            break;
        }
        if (frame == end) break;
    }
    free(fresh);
    return rc;
}

int tracker_get_entry(sam2_tracker *t, int obj_id, int frame, tracker_store store,
                      tracker_entry *out, sam2_error *err) {
    const int i = tracker_find_obj(t, obj_id);
    if (i < 0 || frame < 0 || frame >= t->num_frames)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "no object %d / frame %d", obj_id, frame);
    frame_out *fo = map_get(&t->objs[i], (map_kind)store, frame);
    if (!fo)
        return sam2_fail(err, SAM2_ERR_STATE, "no entry for object %d on frame %d", obj_id, frame);
    out->object_score = fo->object_score;
    out->has_maskmem = fo->has_maskmem;
    if (out->obj_ptr) memcpy(out->obj_ptr, fo->obj_ptr, sizeof(float) * (size_t)t->d);
    if (out->maskmem_bf16 && fo->has_maskmem) {
        const uint16_t *m = fo_maskmem(t, fo, err);
        if (!m) return -1;
        memcpy(out->maskmem_bf16, m, sizeof(uint16_t) * (size_t)t->MT * t->md);
    }
    if (out->pred_masks) {
        const float *pm = fo_pred_masks(t, fo, err);
        if (!pm) return -1;
        memcpy(out->pred_masks, pm, sizeof(float) * (size_t)t->L * t->L);
    }
    return 0;
}
