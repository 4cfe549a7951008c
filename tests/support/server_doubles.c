#include "support/server_doubles.h"

#include "support/server_setup.h"

#include "app/priority.h"

#include <dirent.h>
#include <errno.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_OBJ 1024

typedef struct fake_session {
    int frames, width, height, max_objects;
    int corrupt;     /* a frame that "cannot be decoded" (-1: none) */
    char path[1024]; /* as opened (absolute), named in its errors like the real reader does */
    int n_obj;
    int ids[MAX_OBJ];
    unsigned char *has_points; /* [n_obj][frames] */
    atomic_int cancel;
    size_t spilled; /* grows by double_set_spill_per_frame with every tracked frame */
} fake_session;

static atomic_int frame_delay_ms, click_delay_ms, counts_padding;
static atomic_long frames_propagated, tracker_cancels, frames_abandoned, spill_per_frame;

void double_set_counts_padding(int bytes) {
    atomic_store(&counts_padding, bytes);
}

void double_set_frame_delay_ms(int ms) {
    atomic_store(&frame_delay_ms, ms);
}
void double_set_click_delay_ms(int ms) {
    atomic_store(&click_delay_ms, ms);
}
long double_frames_propagated(void) {
    return atomic_load(&frames_propagated);
}
long double_tracker_cancels(void) {
    return atomic_load(&tracker_cancels);
}
long double_frames_abandoned(void) {
    return atomic_load(&frames_abandoned);
}

/* The nice value and SCHED_BATCH flag of the thread that ran the last model call of each kind. */
static pthread_mutex_t prio_mu = PTHREAD_MUTEX_INITIALIZER;
static double_priority last_prio[DOUBLE_CALL_COUNT];

static void note_priority(double_call kind) {
    double_priority p = {1, -100, -1};
    if (prio_of_thread(0, &p.nice, &p.batch)) p.nice = -100;
    pthread_mutex_lock(&prio_mu);
    last_prio[kind] = p;
    pthread_mutex_unlock(&prio_mu);
}

double_priority double_last_priority(double_call kind) {
    pthread_mutex_lock(&prio_mu);
    double_priority p = last_prio[kind];
    pthread_mutex_unlock(&prio_mu);
    return p;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}

static int fail(sam2_error *err, int code, const char *msg) {
    if (err) {
        err->code = code;
        snprintf(err->message, sizeof err->message, "%s", msg);
    }
    return code;
}

/* "frames=N width=W height=H [corrupt=K]" */
static int read_video_ex(const char *path, int *frames, int *w, int *h, int *corrupt) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    int ok = fscanf(f, "frames=%d width=%d height=%d", frames, w, h) == 3;
    if (corrupt && (!ok || fscanf(f, " corrupt=%d", corrupt) != 1)) *corrupt = -1;
    fclose(f);
    return ok && *frames > 0 && *w > 0 && *h > 0 ? 0 : -1;
}

static int read_video(const char *path, int *frames, int *w, int *h) {
    return read_video_ex(path, frames, w, h, NULL);
}

int double_write_corrupt_video(const char *path, int frames, int width, int height, int corrupt) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fprintf(f, "frames=%d width=%d height=%d corrupt=%d\n", frames, width, height, corrupt);
    return fclose(f);
}

/* The real reader's error for a frame it cannot decode, with the path it was opened with. */
static int corrupt_frame(const fake_session *s, int frame, sam2_error *err) {
    if (frame != s->corrupt) return 0;
    char msg[1200];
    snprintf(msg, sizeof msg, "video '%s': frame %d could not be decoded (test double)", s->path,
             frame);
    return fail(err, SAM2_ERR_FORMAT, msg);
}

int double_write_video(const char *path, int frames, int width, int height) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fprintf(f, "frames=%d width=%d height=%d\n", frames, width, height);
    return fclose(f);
}

static int d_model_load(void *self, const char *ckpt, const char *cfg, int threads, inf_model **out,
                        sam2_error *err) {
    (void)self;
    (void)cfg;
    (void)threads;
    FILE *f = fopen(ckpt, "rb");
    if (!f) return fail(err, SAM2_ERR_IO, "test double: checkpoint missing");
    fclose(f);
    *out = malloc(16);
    return *out ? 0 : fail(err, SAM2_ERR_NOMEM, "oom");
}

static void d_model_free(void *self, inf_model *m) {
    (void)self;
    free(m);
}

static void d_model_info(void *self, const inf_model *m, inf_model_info *info) {
    (void)self;
    (void)m;
    memset(info, 0, sizeof *info);
    snprintf(info->name, sizeof info->name, "test-double");
    info->params = 1000;
    info->bytes = (size_t)1 << 20;
}

static int d_open(void *self, const inf_model *m, const char *path, const inf_session_options *opt,
                  inf_session **out, int *n_frames, int *w, int *h, sam2_error *err) {
    (void)self;
    (void)m;
    int frames, width, height, corrupt;
    note_priority(DOUBLE_CALL_OPEN);
    struct stat st;
    if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
        /* Like the real reader of a folder of frames, the reason names a file in it. */
        DIR *d = opendir(path);
        struct dirent *e;
        char msg[512] = "frame folder: empty (test double)";
        while (d && (e = readdir(d)))
            if (e->d_name[0] != '.') {
                snprintf(msg, sizeof msg, "frame folder: '%s' is not an image (test double)",
                         e->d_name);
                break;
            }
        if (d) closedir(d);
        return fail(err, SAM2_ERR_FORMAT, msg);
    }
    if (read_video_ex(path, &frames, &width, &height, &corrupt))
        return fail(err, SAM2_ERR_FORMAT, "not a video (test double)");
    fake_session *s = calloc(1, sizeof *s);
    if (!s) return fail(err, SAM2_ERR_NOMEM, "oom");
    s->corrupt = corrupt;
    snprintf(s->path, sizeof s->path, "%s", path);
    s->frames = frames;
    s->width = width;
    s->height = height;
    s->max_objects = opt->max_objects > 0 && opt->max_objects < MAX_OBJ ? opt->max_objects : 64;
    *out = (inf_session *)s;
    *n_frames = frames;
    *w = width;
    *h = height;
    return 0;
}

static void d_close(void *self, inf_session *is) {
    (void)self;
    fake_session *s = (fake_session *)is;
    free(s->has_points);
    free(s);
}

static int obj_index(fake_session *s, int id, int create, sam2_error *err) {
    for (int i = 0; i < s->n_obj; i++)
        if (s->ids[i] == id) return i;
    if (!create) return fail(err, SAM2_ERR_ARGUMENT, "no such object (test double)"), -1;
    if (s->n_obj >= s->max_objects)
        return fail(err, SAM2_ERR_LIMIT, "too many objects in this session (test double)"), -1;
    unsigned char *np = realloc(s->has_points, (size_t)(s->n_obj + 1) * (size_t)s->frames);
    if (!np) return fail(err, SAM2_ERR_NOMEM, "oom"), -1;
    s->has_points = np;
    memset(s->has_points + (size_t)s->n_obj * (size_t)s->frames, 0, (size_t)s->frames);
    s->ids[s->n_obj] = id;
    return s->n_obj++;
}

static int make_frame(fake_session *s, int frame, const char *tag, int extra, inf_frame *out) {
    memset(out, 0, sizeof *out);
    out->frame_index = frame;
    out->masks = calloc((size_t)(s->n_obj ? s->n_obj : 1), sizeof *out->masks);
    if (!out->masks) return -1;
    for (int i = 0; i < s->n_obj; i++) {
        char buf[64];
        const int n = snprintf(buf, sizeof buf, "%s%do%dp%d", tag, frame, s->ids[i], extra);
        const int pad = atomic_load(&counts_padding);
        char *counts = malloc((size_t)n + (size_t)pad + 1);
        if (!counts) return -1;
        memcpy(counts, buf, (size_t)n);
        memset(counts + n, 'x', (size_t)pad);
        counts[n + pad] = '\0';
        out->masks[i].id = s->ids[i];
        out->masks[i].height = s->height;
        out->masks[i].width = s->width;
        out->masks[i].counts = counts;
        out->n = i + 1;
    }
    return 0;
}

/* Points (label checks as the tracker's) or a mask; each leaves a recognisable mask. */
static int d_add_prompt(void *self, inf_session *is, int frame, int obj, const sam2_prompt *p,
                        inf_frame *out, sam2_error *err) {
    (void)self;
    fake_session *s = (fake_session *)is;
    note_priority(p->mask ? DOUBLE_CALL_ADD_MASK : DOUBLE_CALL_ADD_POINTS);
    for (int i = 0; i < p->n_points; i++)
        if (p->points[i].label < -1 || p->points[i].label > 3)
            return fail(err, SAM2_ERR_ARGUMENT, "bad label (test double)");
    if (corrupt_frame(s, frame, err)) return SAM2_ERR_FORMAT;
    int k = obj_index(s, obj, 1, err);
    if (k < 0) return err ? err->code : -1;
    if (!p->mask && atomic_load(&click_delay_ms)) sleep_ms(atomic_load(&click_delay_ms));
    s->has_points[(size_t)k * (size_t)s->frames + (size_t)frame] = 1;
    const int failed = p->mask ? make_frame(s, frame, "m", p->mask->width * p->mask->height, out)
                               : make_frame(s, frame, "f", p->n_points, out);
    return failed ? fail(err, SAM2_ERR_NOMEM, "oom") : 0;
}

static int d_clear_frame(void *self, inf_session *is, int frame, int obj, inf_frame *out,
                         sam2_error *err) {
    (void)self;
    fake_session *s = (fake_session *)is;
    note_priority(DOUBLE_CALL_CLEAR_FRAME);
    int k = obj_index(s, obj, 1, err);
    if (k < 0) return err ? err->code : -1;
    s->has_points[(size_t)k * (size_t)s->frames + (size_t)frame] = 0;
    return make_frame(s, frame, "c", 0, out) ? fail(err, SAM2_ERR_NOMEM, "oom") : 0;
}

static int d_remove_object(void *self, inf_session *is, int obj, inf_frame **frames, int *n_frames,
                           sam2_error *err) {
    (void)self;
    fake_session *s = (fake_session *)is;
    note_priority(DOUBLE_CALL_REMOVE_OBJECT);
    int k = obj_index(s, obj, 0, err);
    if (k < 0) return err ? err->code : -1;
    memmove(s->ids + k, s->ids + k + 1, (size_t)(s->n_obj - k - 1) * sizeof s->ids[0]);
    memmove(s->has_points + (size_t)k * (size_t)s->frames,
            s->has_points + (size_t)(k + 1) * (size_t)s->frames,
            (size_t)(s->n_obj - k - 1) * (size_t)s->frames);
    s->n_obj--;
    /* Frames where the remaining objects have points change. */
    *frames = calloc((size_t)s->frames, sizeof **frames);
    *n_frames = 0;
    if (!*frames) return fail(err, SAM2_ERR_NOMEM, "oom");
    for (int f = 0; f < s->frames; f++) {
        int any = 0;
        for (int i = 0; i < s->n_obj; i++)
            any |= s->has_points[(size_t)i * (size_t)s->frames + (size_t)f];
        if (any && !make_frame(s, f, "r", 0, &(*frames)[*n_frames])) (*n_frames)++;
    }
    return 0;
}

static void d_reset(void *self, inf_session *is) {
    (void)self;
    fake_session *s = (fake_session *)is;
    s->n_obj = 0;
    s->spilled = 0;
}

static int d_propagate(void *self, inf_session *is, int start, int reverse, const atomic_int *stop,
                       inf_frame_cb cb, void *user, sam2_error *err) {
    (void)self;
    fake_session *s = (fake_session *)is;
    note_priority(DOUBLE_CALL_PROPAGATE);
    if (!reverse) atomic_store(&s->cancel, 0);
    for (int f = start; reverse ? f >= 0 : f < s->frames; f += reverse ? -1 : 1) {
        /* Like the real tracker with its in-frame checks: a cancel stops the frame in flight. */
        for (int t = 0; t < atomic_load(&frame_delay_ms); t++) {
            if (atomic_load(&s->cancel) || (stop && atomic_load(stop))) {
                atomic_fetch_add(&frames_abandoned, 1);
                return fail(err, SAM2_ERR_CANCELLED, "cancelled");
            }
            sleep_ms(1);
        }
        if (atomic_load(&s->cancel) || (stop && atomic_load(stop)))
            return fail(err, SAM2_ERR_CANCELLED, "cancelled");
        if (corrupt_frame(s, f, err)) return SAM2_ERR_FORMAT;
        inf_frame fr;
        if (make_frame(s, f, "t", 0, &fr)) return fail(err, SAM2_ERR_NOMEM, "oom");
        atomic_fetch_add(&frames_propagated, 1);
        s->spilled += (size_t)atomic_load(&spill_per_frame);
        int stop = cb(user, &fr);
        inf_frame_free(&fr);
        if (stop) return fail(err, SAM2_ERR_CANCELLED, "cancelled");
    }
    return 0;
}

static void d_cancel(void *self, inf_session *is) {
    (void)self;
    atomic_fetch_add(&tracker_cancels, 1);
    atomic_store(&((fake_session *)is)->cancel, 1);
}

static atomic_long rle_decodes;
static atomic_int decode_gate;

long double_rle_decodes(void) {
    return atomic_load(&rle_decodes);
}
void double_set_decode_gate(int closed) {
    atomic_store(&decode_gate, closed);
}

static int d_rle_decode(void *self, const char *counts, int h, int w, uint8_t *mask,
                        sam2_error *err) {
    (void)self;
    atomic_fetch_add(&rle_decodes, 1);
    while (atomic_load(&decode_gate)) sleep_ms(1);
    if (!strcmp(counts, "bad")) return fail(err, SAM2_ERR_FORMAT, "invalid RLE (test double)");
    memset(mask, 1, (size_t)h * (size_t)w);
    return 0;
}

void double_set_spill_per_frame(long bytes) {
    atomic_store(&spill_per_frame, bytes);
}

static void d_stats(void *self, const inf_session *is, inf_session_stats *out) {
    (void)self;
    const fake_session *s = (const fake_session *)is;
    out->objects = s->n_obj;
    out->ram_bytes = (size_t)s->n_obj * 1000;
    out->spilled_bytes = s->spilled;
    out->fps = 24.0;
}

static const inference_ops DOUBLE_INF = {
    .model_load = d_model_load,
    .model_free = d_model_free,
    .model_info = d_model_info,
    .open = d_open,
    .close = d_close,
    .add_prompt = d_add_prompt,
    .clear_frame = d_clear_frame,
    .remove_object = d_remove_object,
    .reset = d_reset,
    .propagate = d_propagate,
    .cancel = d_cancel,
    .rle_decode = d_rle_decode,
    .stats = d_stats,
};

const inference_ops *double_inference_ops(void) {
    return &DOUBLE_INF;
}

static int d_poster(void *self, const char *video, const char *poster, int *w, int *h,
                    sam2_error *err) {
    (void)self;
    int frames;
    if (read_video(video, &frames, w, h))
        return fail(err, SAM2_ERR_FORMAT, "not a video (test double)");
    FILE *f = fopen(poster, "wb");
    if (!f) return fail(err, SAM2_ERR_IO, "cannot write poster (test double)");
    fputs("\xff\xd8\xff\xe0 fake jpeg", f);
    fclose(f);
    return 0;
}

static atomic_int upload_gate, uploads_running, uploads_most;

void double_set_upload_gate(int closed) {
    atomic_store(&upload_gate, closed);
}
int double_uploads_running(void) {
    return atomic_load(&uploads_running);
}
int double_uploads_most(void) {
    return atomic_load(&uploads_most);
}

static int d_upload_inner(const char *in, const char *dir, ingest_result *out, sam2_error *err);

static int d_upload(void *self, const char *in, const char *dir, const ingest_params *p,
                    ingest_result *out, sam2_error *err) {
    (void)self;
    (void)p;
    const int now = atomic_fetch_add(&uploads_running, 1) + 1;
    for (int most = atomic_load(&uploads_most); now > most;)
        if (atomic_compare_exchange_weak(&uploads_most, &most, now)) break;
    while (atomic_load(&upload_gate)) sleep_ms(1);
    const int rc = d_upload_inner(in, dir, out, err);
    atomic_fetch_sub(&uploads_running, 1);
    return rc;
}

static int d_upload_inner(const char *in, const char *dir, ingest_result *out, sam2_error *err) {
    int frames;
    if (read_video(in, &frames, &out->width, &out->height))
        return fail(err, SAM2_ERR_FORMAT, "not valid video file");
    FILE *f = fopen(in, "rb");
    char buf[4096];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    struct sha256_ctx c;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&c);
    sha256_update(&c, n, (const uint8_t *)buf);
    sha256_digest(&c, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) snprintf(out->sha256 + 2 * i, 3, "%02x", d[i]);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.mp4", dir, out->sha256);
    return double_write_video(path, frames, out->width, out->height)
               ? fail(err, SAM2_ERR_IO, "cannot write")
               : 0;
}

/* The overlay: a text file "overlay WxH" then "frame F label L" per frame (L: the label of the
 * first labelled pixel, 0 when none), after the per-frame delay. */
typedef struct fake_overlay {
    FILE *f;
    char path[4096];
    int width, height;
} fake_overlay;

static atomic_int overlay_delay_ms;
static atomic_long overlay_frames;

void double_set_overlay_delay_ms(int ms) {
    atomic_store(&overlay_delay_ms, ms);
}
long double_overlay_frames(void) {
    return atomic_load(&overlay_frames);
}

static int d_overlay_open(void *self, const char *video, const char *out, int w, int h,
                          ingest_overlay **o, sam2_error *err) {
    (void)self;
    int frames, vw, vh;
    if (read_video(video, &frames, &vw, &vh))
        return fail(err, SAM2_ERR_FORMAT, "not a video (test double)");
    if (vw != w || vh != h) return fail(err, SAM2_ERR_STATE, "size changed (test double)");
    fake_overlay *fo = calloc(1, sizeof *fo);
    if (!fo) return fail(err, SAM2_ERR_NOMEM, "oom");
    snprintf(fo->path, sizeof fo->path, "%s", out);
    fo->width = w;
    fo->height = h;
    fo->f = fopen(out, "wb");
    if (!fo->f) {
        free(fo);
        return fail(err, SAM2_ERR_IO, "cannot write the overlay (test double)");
    }
    fprintf(fo->f, "overlay %dx%d\n", w, h);
    *o = (ingest_overlay *)fo;
    return 0;
}

static int d_overlay_frame(void *self, ingest_overlay *o, int frame, const uint8_t *labels,
                           sam2_error *err) {
    (void)self;
    (void)err;
    fake_overlay *fo = (fake_overlay *)o;
    if (atomic_load(&overlay_delay_ms)) sleep_ms(atomic_load(&overlay_delay_ms));
    int label = 0;
    for (size_t i = 0; i < (size_t)fo->width * (size_t)fo->height && !label; i++) label = labels[i];
    fprintf(fo->f, "frame %d label %d\n", frame, label);
    atomic_fetch_add(&overlay_frames, 1);
    return 0;
}

static int d_overlay_close(void *self, ingest_overlay *o, int commit, sam2_error *err) {
    (void)self;
    fake_overlay *fo = (fake_overlay *)o;
    int rc = fclose(fo->f) ? fail(err, SAM2_ERR_IO, "write failed (test double)") : 0;
    if (!commit || rc) remove(fo->path);
    free(fo);
    return rc;
}

/* The effects video: the overlay double, its first line naming the scene ("effects WxH bg=B.V
 * objects=id:effect.variant,... image=WxH crf=N"); frames as the overlay's (labels are positions
 * in the scene's list). */
static int d_effects_open(void *self, const char *video, const char *out, int w, int h,
                          const effects_scene *scene, const uint8_t *bg_image, int bg_w, int bg_h,
                          int crf, ingest_overlay **o, sam2_error *err) {
    if (d_overlay_open(self, video, out, w, h, o, err)) return -1;
    fake_overlay *fo = (fake_overlay *)*o;
    rewind(fo->f);
    const effects_spec *spec = effects_spec_get(err);
    if (!spec) return -1;
    fprintf(fo->f, "effects %dx%d bg=%s.%d objects=", w, h,
            spec->background[scene->background].name, scene->bg_variant);
    for (int i = 0; i < scene->n; i++)
        fprintf(fo->f, "%s%d:%s.%d", i ? "," : "", scene->objects[i].id,
                spec->object[scene->objects[i].effect].name, scene->objects[i].variant);
    fprintf(fo->f, " image=%dx%d crf=%d\n", bg_image ? bg_w : 0, bg_image ? bg_h : 0, crf);
    return 0;
}

static const ingest_ops DOUBLE_INGEST = {
    NULL, d_poster, d_upload, d_overlay_open, d_overlay_frame, d_overlay_close, d_effects_open};

const ingest_ops *double_ingest_ops(void) {
    return &DOUBLE_INGEST;
}

int double_make_gallery(const char *data_dir, int long_w, int long_h) {
    char p[1200];
    mkdir(data_dir, 0755);
    snprintf(p, sizeof p, "%s/gallery", data_dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/gallery/sub", data_dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/gallery/05_default_juggle.mp4", data_dir);
    if (double_write_video(p, 8, 1280, 720)) return -1;
    snprintf(p, sizeof p, "%s/gallery/01_dog.mp4", data_dir);
    if (double_write_video(p, 5, 640, 480)) return -1;
    snprintf(p, sizeof p, "%s/gallery/sub/long.mp4", data_dir);
    return double_write_video(p, 400, long_w, long_h);
}

server *double_server_start(const server_config *cfg) {
    sam2_error err = {0};
    server *s = server_test_start(cfg, double_inference_ops(), double_ingest_ops(), &err);
    if (!s) fprintf(stderr, "server: %s\n", err.message);
    return s;
}
