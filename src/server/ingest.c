/* The real ingest seam: src/app/transcode (libav* in-process) and the overlay renderer of
 * src/app/mask_export. This is the only server file that calls them.
 *
 * DATA_PATH may be shared by several replicas (docs/server.md "Several replicas"), so the work on
 * it is done once (app/file_once.h): a poster that is there and not older than its video is reused
 * (every replica scans the gallery at start-up), and an upload is transcoded once per content and
 * settings: uploads/.sam2-src-<key> records which uploads/<sha256>.mp4 a given input became. */
#include "server/ingest.h"

#include "sam2.h"
#include "app/atomic_file.h"
#include "app/file_once.h"
#include "app/mask_export.h"
#include "app/sha256.h"
#include "app/transcode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define POSTER_WAIT_MS 30000     /* for another replica's poster */
#define TRANSCODE_WAIT_MS 300000 /* for another replica's transcode of the same upload */
#define POSTER_MAX_BYTES (64 << 20)

typedef struct poster_job {
    const char *video_path;
    int width, height;
} poster_job;

/* A poster is usable when it is a non-empty file at least as new as its video. */
static int poster_usable(void *user, const char *poster_path) {
    const poster_job *j = user;
    struct stat sv, sp;
    return !stat(j->video_path, &sv) && !stat(poster_path, &sp) && S_ISREG(sp.st_mode) &&
           sp.st_size > 0 && sp.st_mtime >= sv.st_mtime;
}

static int make_poster(void *user, const char *poster_path, sam2_error *err) {
    poster_job *j = user;
    return sam2_poster_write_jpeg(j->video_path, poster_path, 0, &j->width, &j->height, err);
}

/* The size of a poster JPEG from its header (posters are written at the video's display size). */
static int poster_size(const char *path, int *width, int *height) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char *data = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n > 0 && n <= POSTER_MAX_BYTES && fseek(f, 0, SEEK_SET) == 0 &&
        (data = malloc((size_t)n)) && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    const char *fmt = NULL;
    int rc = data ? sam2_rgb_image_probe_memory(data, (size_t)n, &fmt, width, height, NULL) : -1;
    free(data);
    return rc || strcmp(fmt, "jpeg") != 0 ? -1 : 0;
}

static int real_poster(void *self, const char *video_path, const char *poster_path, int *width,
                       int *height, sam2_error *err) {
    (void)self;
    *width = *height = 0;
    poster_job j = {video_path, 0, 0};
    const sam2_once_options o = {POSTER_WAIT_MS, 0, 0};
    int made = 0;
    int rc = sam2_file_once(poster_path, poster_usable, make_poster, &j, &o, &made, err);
    if (rc) return rc;
    if (made) {
        *width = j.width;
        *height = j.height;
        return 0;
    }
    if (!poster_size(poster_path, width, height)) return 0;
    /* There, but unreadable (not a JPEG): made again, replacing it. */
    return sam2_poster_write_jpeg(video_path, poster_path, 0, width, height, err);
}

/* ---- uploads, transcoded once per input and settings ---------------------------------------- */
typedef struct upload_job {
    const char *in_path, *uploads_dir;
    const sam2_transcode_options *o;
    ingest_result *out;
} upload_job;

int ingest_parse_record(const char *text, ingest_result *out) {
    char sha[80];
    int w = 0, h = 0, end = 0;
    if (sscanf(text, "%79s %d %d%n", sha, &w, &h, &end) != 3 || strlen(sha) != 64 || w <= 0 ||
        h <= 0)
        return -1;
    for (const char *p = text + end; *p; p++)
        if (*p != '\n') return -1;
    for (int i = 0; i < 64; i++)
        if (!((sha[i] >= '0' && sha[i] <= '9') || (sha[i] >= 'a' && sha[i] <= 'f'))) return -1;
    memcpy(out->sha256, sha, 65);
    out->width = w;
    out->height = h;
    return 0;
}

/* Reads a record; 0 when it names an upload that exists. */
static int read_record(const char *record, const char *uploads_dir, ingest_result *out) {
    FILE *f = fopen(record, "r");
    if (!f) return -1;
    char text[256];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    ingest_result r;
    if (ingest_parse_record(text, &r)) return -1;
    char mp4[4200];
    snprintf(mp4, sizeof mp4, "%s/%s.mp4", uploads_dir, r.sha256);
    struct stat st;
    if (stat(mp4, &st) || !S_ISREG(st.st_mode)) return -1;
    if (out) *out = r;
    return 0;
}

static int record_usable(void *user, const char *record) {
    const upload_job *j = user;
    return !read_record(record, j->uploads_dir, NULL);
}

static int make_upload(void *user, const char *record, sam2_error *err) {
    upload_job *j = user;
    sam2_transcode_result r;
    memset(&r, 0, sizeof r);
    int rc = sam2_ingest_upload(j->in_path, j->uploads_dir, j->o, &r, err);
    if (rc) return rc;
    memcpy(j->out->sha256, r.sha256, sizeof j->out->sha256);
    j->out->sha256[64] = 0;
    j->out->width = r.width;
    j->out->height = r.height;
    char tmp[4200];
    if (atomic_tmp_beside(record, NULL, tmp, sizeof tmp, err)) return err ? err->code : SAM2_ERR_IO;
    FILE *f = fopen(tmp, "w");
    int ok = f && fprintf(f, "%s %d %d\n", j->out->sha256, j->out->width, j->out->height) > 0;
    if (f && fclose(f)) ok = 0;
    if (!ok) {
        unlink(tmp);
        return 0; /* the upload itself is there; only the shortcut for the next copy is missing */
    }
    sam2_error ignored = {0};
    atomic_commit(tmp, record, &ignored);
    return 0;
}

/* The key of an input and the settings that shape its transcode: equal keys give equal files. */
static int upload_key(const char *in_path, const sam2_transcode_options *o, char key[65]) {
    FILE *f = fopen(in_path, "rb");
    if (!f) return -1;
    sam2_sha256 h;
    sam2_sha256_init(&h);
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) sam2_sha256_update(&h, buf, n);
    int bad = ferror(f);
    fclose(f);
    char settings[512];
    int len = snprintf(
        settings, sizeof settings, "|%.6f|%.6f|%.6f|%d|%d|%d|%d|%s|%s|%d|%d|%d|%d|%s",
        o->start_time, o->duration, o->max_duration, o->fps, o->max_width, o->max_height, o->crf,
        o->codec ? o->codec : "", o->preset ? o->preset : "", o->gop, o->threads,
        o->max_input_frames, o->max_input_side, o->format_whitelist ? o->format_whitelist : "");
    if (len < 0 || (size_t)len >= sizeof settings) len = (int)strlen(settings);
    sam2_sha256_update(&h, settings, (size_t)len);
    sam2_sha256_final_hex(&h, key);
    return bad ? -1 : 0;
}

static int real_upload(void *self, const char *in_path, const char *uploads_dir,
                       const ingest_params *p, ingest_result *out, sam2_error *err) {
    (void)self;
    sam2_transcode_options o;
    sam2_transcode_options_init(&o);
    /* The server read the VIDEO_ENCODE_* variables and flags already: they arrive in p. */
    o.max_duration = p->max_duration;
    o.start_time = p->start_time;
    o.duration = 0;
    if (p->fps > 0) o.fps = p->fps;
    if (p->max_width > 0) o.max_width = p->max_width;
    if (p->max_height > 0) o.max_height = p->max_height;
    o.crf = p->crf;
    if (p->codec && *p->codec) o.codec = p->codec;
    if (p->threads > 0) o.threads = p->threads;
    if (p->max_input_frames > 0) o.max_input_frames = p->max_input_frames;
    if (p->max_input_side > 0) o.max_input_side = p->max_input_side;
    o.max_decoded_pixels = p->max_decoded_pixels;
    upload_job j = {in_path, uploads_dir, &o, out};
    char key[65], record[4200];
    int rc;
    if (upload_key(in_path, &o, key)) {
        sam2_transcode_result r;
        memset(&r, 0, sizeof r);
        rc = sam2_ingest_upload(in_path, uploads_dir, &o, &r, err);
        if (!rc) {
            memcpy(out->sha256, r.sha256, sizeof out->sha256);
            out->width = r.width;
            out->height = r.height;
        }
    } else {
        snprintf(record, sizeof record, "%s/.sam2-src-%s", uploads_dir, key);
        const sam2_once_options once = {TRANSCODE_WAIT_MS, 0, 0};
        int made = 0;
        rc = sam2_file_once(record, record_usable, make_upload, &j, &once, &made, err);
        if (!rc && !made && read_record(record, uploads_dir, out))
            rc = make_upload(&j, record, err); /* removed meanwhile: made again */
    }
    if (rc == SAM2_ERR_LIMIT && err) { /* name the limits, so the operator knows what to raise */
        size_t n = strlen(err->message);
        snprintf(
            err->message + n, sizeof err->message - n,
            "; uploads may have at most %d frames (MAX_VIDEO_FRAMES) of at most %d pixels per side "
            "(MAX_VIDEO_SIDE), and make the server decode at most %lld megapixels "
            "(MAX_UPLOAD_MEGAPIXELS)",
            o.max_input_frames, o.max_input_side, o.max_decoded_pixels / 1000000);
    }
    if (rc) return rc;
    out->sha256[64] = 0;
    return 0;
}

static int real_overlay_open(void *self, const char *video_path, const char *out_path, int width,
                             int height, ingest_overlay **out, sam2_error *err) {
    (void)self;
    /* One encoder thread: the render holds an inference slot and yields it between frames, so
     * its work should happen inside that turn, not in encoder threads running beside others'. */
    const mask_overlay_options o = {
        .video_path = video_path, .out_path = out_path, .threads = 1, .name = "overlay.mp4"};
    mask_overlay *ov = mask_overlay_open(&o, err);
    if (!ov) return err && err->code ? err->code : SAM2_ERR_IO;
    const int vw = mask_overlay_width(ov), vh = mask_overlay_height(ov);
    if (vw != width || vh != height) {
        mask_overlay_abort(ov);
        return sam2_fail(err, SAM2_ERR_STATE,
                         "the video is %dx%d now, the session's masks are %dx%d", vw, vh, width,
                         height);
    }
    *out = (ingest_overlay *)ov;
    return 0;
}

static int real_overlay_frame(void *self, ingest_overlay *o, int frame, const uint8_t *labels,
                              sam2_error *err) {
    (void)self;
    return mask_overlay_add((mask_overlay *)o, frame, labels, err);
}

static int real_overlay_close(void *self, ingest_overlay *o, int commit, sam2_error *err) {
    (void)self;
    if (commit) return mask_overlay_close((mask_overlay *)o, err);
    mask_overlay_abort((mask_overlay *)o);
    return 0;
}

static int real_effects_open(void *self, const char *video_path, const char *out_path, int width,
                             int height, const effects_scene *scene, const uint8_t *bg_image,
                             int bg_width, int bg_height, int crf, ingest_overlay **out,
                             sam2_error *err) {
    (void)self;
    /* One encoder thread, as the overlay (real_overlay_open says why). */
    const mask_overlay_options o = {.video_path = video_path,
                                    .out_path = out_path,
                                    .threads = 1,
                                    .name = "effects.mp4",
                                    .crf = crf};
    mask_overlay *ov = effects_video_open(&o, scene, bg_image, bg_width, bg_height, err);
    if (!ov) return err && err->code ? err->code : SAM2_ERR_IO;
    const int vw = mask_overlay_width(ov), vh = mask_overlay_height(ov);
    if (vw != width || vh != height) {
        mask_overlay_abort(ov);
        return sam2_fail(err, SAM2_ERR_STATE,
                         "the video is %dx%d now, the session's masks are %dx%d", vw, vh, width,
                         height);
    }
    *out = (ingest_overlay *)ov;
    return 0;
}

static const ingest_ops REAL_OPS = {NULL,
                                    real_poster,
                                    real_upload,
                                    real_overlay_open,
                                    real_overlay_frame,
                                    real_overlay_close,
                                    real_effects_open};

const ingest_ops *ingest_default_ops(void) {
    return &REAL_OPS;
}
