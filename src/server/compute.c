#include "server/compute.h"

#include "app/priority.h"

#include <pthread.h>
#include <string.h>

/* One model call: its arguments, and the inner function that runs it. */
typedef struct call {
    const compute_ops *c;
    int (*run)(struct call *k);
    int rc;
    const inf_model *model;
    const char *path;
    const inf_session_options *opt;
    inf_session **opened;
    int *n_frames_out, *width_out, *height_out;
    inf_session *s;
    int frame, obj, reverse;
    const sam2_prompt *prompt;
    inf_frame *out;
    inf_frame **frames;
    int *n_frames;
    inf_frame_cb cb;
    void *user;
    const atomic_int *stop;
    sam2_error *err;
} call;

static const inference_ops *inner(const call *k) {
    return k->c->inner;
}

static void *call_main(void *arg) {
    call *k = arg;
    prio_lower_self(k->c->nice); /* best effort: where it is refused the call runs as before */
    k->rc = k->run(k);
    return NULL;
}

/* Runs the call on a thread of its own at the compute priority and waits for it. */
static int run_lowered(call *k) {
    pthread_t th;
    if (pthread_create(&th, NULL, call_main, k)) return k->run(k); /* no thread: run it here */
    pthread_join(th, NULL);
    return k->rc;
}

static int run_open(call *k) {
    return inner(k)->open(inner(k)->self, k->model, k->path, k->opt, k->opened, k->n_frames_out,
                          k->width_out, k->height_out, k->err);
}
static int run_add_prompt(call *k) {
    return inner(k)->add_prompt(inner(k)->self, k->s, k->frame, k->obj, k->prompt, k->out, k->err);
}
static int run_clear_frame(call *k) {
    return inner(k)->clear_frame(inner(k)->self, k->s, k->frame, k->obj, k->out, k->err);
}
static int run_remove_object(call *k) {
    return inner(k)->remove_object(inner(k)->self, k->s, k->obj, k->frames, k->n_frames, k->err);
}
static int run_propagate(call *k) {
    return inner(k)->propagate(inner(k)->self, k->s, k->frame, k->reverse, k->stop, k->cb, k->user,
                               k->err);
}

static int c_open(void *self, const inf_model *m, const char *path, const inf_session_options *opt,
                  inf_session **out, int *n_frames, int *width, int *height, sam2_error *err) {
    call k = {.c = self,
              .run = run_open,
              .model = m,
              .path = path,
              .opt = opt,
              .opened = out,
              .n_frames_out = n_frames,
              .width_out = width,
              .height_out = height,
              .err = err};
    return run_lowered(&k);
}

static int c_add_prompt(void *self, inf_session *s, int frame, int obj, const sam2_prompt *p,
                        inf_frame *out, sam2_error *err) {
    call k = {.c = self,
              .run = run_add_prompt,
              .s = s,
              .frame = frame,
              .obj = obj,
              .prompt = p,
              .out = out,
              .err = err};
    return run_lowered(&k);
}

static int c_clear_frame(void *self, inf_session *s, int frame, int obj, inf_frame *out,
                         sam2_error *err) {
    call k = {.c = self,
              .run = run_clear_frame,
              .s = s,
              .frame = frame,
              .obj = obj,
              .out = out,
              .err = err};
    return run_lowered(&k);
}

static int c_remove_object(void *self, inf_session *s, int obj, inf_frame **frames, int *n_frames,
                           sam2_error *err) {
    call k = {.c = self,
              .run = run_remove_object,
              .s = s,
              .obj = obj,
              .frames = frames,
              .n_frames = n_frames,
              .err = err};
    return run_lowered(&k);
}

static int c_propagate(void *self, inf_session *s, int start, int reverse, const atomic_int *stop,
                       inf_frame_cb cb, void *user, sam2_error *err) {
    call k = {.c = self,
              .run = run_propagate,
              .s = s,
              .frame = start,
              .reverse = reverse,
              .stop = stop,
              .cb = cb,
              .user = user,
              .err = err};
    return run_lowered(&k);
}

/* The calls that do not compute go straight to the inner table. */
#define INNER(c) (((const compute_ops *)(c))->inner)

static int c_model_load(void *self, const char *ckpt, const char *cfg, int threads, inf_model **out,
                        sam2_error *err) {
    return INNER(self)->model_load(INNER(self)->self, ckpt, cfg, threads, out, err);
}
static void c_model_free(void *self, inf_model *m) {
    INNER(self)->model_free(INNER(self)->self, m);
}
static void c_model_info(void *self, const inf_model *m, inf_model_info *info) {
    INNER(self)->model_info(INNER(self)->self, m, info);
}
static void c_close(void *self, inf_session *s) {
    INNER(self)->close(INNER(self)->self, s);
}
static void c_reset(void *self, inf_session *s) {
    INNER(self)->reset(INNER(self)->self, s);
}
static void c_cancel(void *self, inf_session *s) {
    INNER(self)->cancel(INNER(self)->self, s);
}
static int c_rle_decode(void *self, const char *counts, int h, int w, uint8_t *mask,
                        sam2_error *err) {
    return INNER(self)->rle_decode(INNER(self)->self, counts, h, w, mask, err);
}
static void c_stats(void *self, const inf_session *s, inf_session_stats *out) {
    INNER(self)->stats(INNER(self)->self, s, out);
}

void compute_ops_init(compute_ops *c, const inference_ops *in, int nice) {
    memset(c, 0, sizeof *c);
    c->inner = in;
    c->nice = nice;
    inference_ops *o = &c->ops;
    o->self = c;
    o->model_load = c_model_load;
    o->model_free = c_model_free;
    o->model_info = c_model_info;
    o->open = c_open;
    o->close = c_close;
    o->add_prompt = c_add_prompt;
    o->clear_frame = c_clear_frame;
    o->remove_object = c_remove_object;
    o->reset = c_reset;
    o->propagate = c_propagate;
    o->cancel = c_cancel;
    o->rle_decode = c_rle_decode;
    o->stats = c_stats;
}
