/* The real inference seam: libsam2's model, video tracker and COCO RLE codec. This is the only
 * server file that calls them. */
#include "server/inference.h"

#include "sam2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int real_model_load(void *self, const char *checkpoint, const char *config_yaml, int threads,
                           inf_model **out, sam2_error *err) {
    (void)self;
    if (threads > 0) sam2_set_threads(threads);
    sam2_model *m =
        sam2_model_load(checkpoint, config_yaml && *config_yaml ? config_yaml : NULL, err);
    if (!m) return err ? err->code : SAM2_ERR_IO;
    *out = (inf_model *)m;
    return 0;
}

static void real_model_free(void *self, inf_model *m) {
    (void)self;
    sam2_model_free((sam2_model *)m);
}

static void real_model_info(void *self, const inf_model *m, inf_model_info *info) {
    (void)self;
    memset(info, 0, sizeof *info);
    if (!m) return;
    snprintf(info->name, sizeof info->name, "%s", sam2_model_name((const sam2_model *)m));
    info->params = sam2_model_param_count((const sam2_model *)m);
    snprintf(info->backend, sizeof info->backend, "%s", sam2_model_backend((const sam2_model *)m));
    info->bytes = (size_t)info->params * sizeof(float);
}

static int real_open(void *self, const inf_model *m, const char *video_path,
                     const inf_session_options *opt, inf_session **out, int *n_frames, int *width,
                     int *height, sam2_error *err) {
    (void)self;
    const sam2_video_open_options vo = {
        .frame_cache_bytes = opt->frame_cache_bytes ? opt->frame_cache_bytes : 1, /* 1: no cache */
        .max_frames = opt->max_frames,
        .max_side = opt->max_side};
    sam2_video *v = sam2_video_open_with(video_path, &vo, err);
    if (!v) return err ? err->code : SAM2_ERR_IO;
    sam2_tracker_options o = {0};
    o.ram_budget_bytes = opt->ram_budget_bytes;
    o.spill_dir = opt->spill_dir;
    o.add_all_frames_to_correct_as_cond = opt->correct_as_cond;
    o.max_objects = opt->max_objects;
    *n_frames = sam2_video_frame_count(v);
    *width = sam2_video_width(v);
    *height = sam2_video_height(v);
    sam2_tracker *t = sam2_tracker_new((const sam2_model *)m, v, &o, err);
    if (!t) {
        sam2_video_close(v);
        return err ? err->code : SAM2_ERR_IO;
    }
    *out = (inf_session *)t;
    return 0;
}

static void real_close(void *self, inf_session *s) {
    (void)self;
    if (s) sam2_tracker_free((sam2_tracker *)s);
}

/* Every object's mask (mask_rle_from_logits: the demo's > 0 threshold) as COCO RLE. */
static int encode_result(const sam2_frame_result *r, inf_frame *out, sam2_error *err) {
    memset(out, 0, sizeof *out);
    out->frame_index = r->frame_index;
    if (r->num_objects <= 0) return 0;
    size_t hw = (size_t)r->width * (size_t)r->height;
    uint8_t *scratch = malloc(hw ? hw : 1);
    out->masks = calloc((size_t)r->num_objects, sizeof *out->masks);
    if (!scratch || !out->masks) {
        free(scratch);
        free(out->masks);
        out->masks = NULL;
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory encoding masks");
    }
    for (int i = 0; i < r->num_objects; i++) {
        mask_rle *m = &out->masks[i];
        m->id = r->object_ids[i];
        m->score = r->object_scores[i];
        const int rc =
            mask_rle_from_logits(r->logits + (size_t)i * hw, r->height, r->width, scratch, m, err);
        if (rc) {
            out->n = i;
            free(scratch);
            inf_frame_free(out);
            return rc;
        }
        out->n = i + 1;
    }
    free(scratch);
    return 0;
}

static int real_add_prompt(void *self, inf_session *s, int frame, int obj_id, const sam2_prompt *p,
                           inf_frame *out, sam2_error *err) {
    (void)self;
    sam2_frame_result r;
    int rc = sam2_tracker_add_prompt((sam2_tracker *)s, frame, obj_id, p, &r, err);
    sam2_tracker_release_scratch((sam2_tracker *)s);
    return rc ? rc : encode_result(&r, out, err);
}

static int real_clear_frame(void *self, inf_session *s, int frame, int obj_id, inf_frame *out,
                            sam2_error *err) {
    (void)self;
    sam2_frame_result r;
    int rc = sam2_tracker_clear_frame((sam2_tracker *)s, frame, obj_id, &r, err);
    sam2_tracker_release_scratch((sam2_tracker *)s);
    return rc ? rc : encode_result(&r, out, err);
}

typedef struct frame_list {
    inf_frame *frames;
    int n, cap;
    int failed;
    sam2_error *err;
} frame_list;

static int collect_frame(void *user, const sam2_frame_result *r) {
    frame_list *l = user;
    if (l->n == l->cap) {
        int ncap = l->cap ? l->cap * 2 : 8;
        inf_frame *na = realloc(l->frames, (size_t)ncap * sizeof *na);
        if (!na) {
            l->failed = sam2_fail(l->err, SAM2_ERR_NOMEM, "out of memory");
            return 1;
        }
        l->frames = na;
        l->cap = ncap;
    }
    if (encode_result(r, &l->frames[l->n], l->err)) {
        l->failed = l->err ? l->err->code : SAM2_ERR_FORMAT;
        return 1;
    }
    l->n++;
    return 0;
}

static int real_remove_object(void *self, inf_session *s, int obj_id, inf_frame **frames,
                              int *n_frames, sam2_error *err) {
    (void)self;
    frame_list l = {0};
    l.err = err;
    int rc = sam2_tracker_remove_object((sam2_tracker *)s, obj_id, collect_frame, &l, err);
    sam2_tracker_release_scratch((sam2_tracker *)s);
    if (l.failed) rc = l.failed;
    if (rc) {
        inf_frames_free(l.frames, l.n);
        return rc;
    }
    *frames = l.frames;
    *n_frames = l.n;
    return 0;
}

static void real_reset(void *self, inf_session *s) {
    (void)self;
    sam2_tracker_reset((sam2_tracker *)s);
}

typedef struct prop_ctx {
    inf_frame_cb cb;
    void *user;
    sam2_error *err;
    int failed;
} prop_ctx;

static int on_propagated(void *user, const sam2_frame_result *r) {
    prop_ctx *p = user;
    inf_frame f;
    if (encode_result(r, &f, p->err)) {
        p->failed = p->err ? p->err->code : SAM2_ERR_FORMAT;
        return 1;
    }
    int stop = p->cb(p->user, &f);
    inf_frame_free(&f);
    return stop;
}

static int stop_requested(void *user) {
    return atomic_load((const atomic_int *)user) != 0;
}

static int real_propagate(void *self, inf_session *s, int start_frame, int reverse,
                          const atomic_int *stop, inf_frame_cb cb, void *user, sam2_error *err) {
    (void)self;
    prop_ctx p = {cb, user, err, 0};
    /* The tracker clears its own cancel flag on entry; the caller's flag is read at every check,
     * so a cancel that came while this call waited for the compute thread is not lost. */
    sam2_tracker_set_cancel_check((sam2_tracker *)s, stop ? stop_requested : NULL, (void *)stop);
    int rc =
        sam2_tracker_propagate((sam2_tracker *)s, start_frame, -1, reverse, on_propagated, &p, err);
    sam2_tracker_set_cancel_check((sam2_tracker *)s, NULL, NULL);
    sam2_tracker_release_scratch((sam2_tracker *)s);
    return p.failed ? p.failed : rc;
}

static void real_cancel(void *self, inf_session *s) {
    (void)self;
    sam2_tracker_cancel((sam2_tracker *)s);
}

static int real_rle_decode(void *self, const char *counts, int height, int width, uint8_t *mask,
                           sam2_error *err) {
    (void)self;
    sam2_mask m = {.bits = mask};
    return sam2_rle_to_mask(&(sam2_rle){.width = width, .height = height, .counts = (char *)counts},
                            &m, err);
}

static void real_stats(void *self, const inf_session *s, inf_session_stats *out) {
    (void)self;
    const sam2_tracker *t = (const sam2_tracker *)s;
    int dummy;
    out->objects = sam2_tracker_object_ids(t, &dummy, 0);
    out->ram_bytes = sam2_tracker_ram_bytes(t);
    out->spilled_bytes = sam2_tracker_spilled_bytes(t);
    out->fps = sam2_video_fps(sam2_tracker_video(t));
}

/* Every call above frees its tracker's compute scratch when done: a session between jobs holds
 * its state (within its share) and the features of its last two frames, not the encoder's
 * temporaries, so idle sessions cost little; jobs allocate it again (about 1 % of a frame's
 * time when a propagation starts or a click needs a new frame encoded). */
static const inference_ops REAL_OPS = {
    NULL,           real_model_load, real_model_free,  real_model_info,    real_open,
    real_close,     real_add_prompt, real_clear_frame, real_remove_object, real_reset,
    real_propagate, real_cancel,     real_rle_decode,  real_stats,
};

const inference_ops *inference_default_ops(void) {
    return &REAL_OPS;
}
