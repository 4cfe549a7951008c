/* GET /export/<session_id>/masks.json | masks.zip | overlay.mp4 | effects.mp4: the masks a
 * session has produced so far (its mask_store), in `sam2 track`'s formats (app/mask_export.h):
 *   masks.json   COCO RLE of every object on every frame, built at once from a snapshot;
 *   masks.zip    masks/NNNNN.png, DAVIS-palette indexed PNGs;
 *   overlay.mp4  the frames with the masks drawn over them, H.264 (through the ingest seam);
 *   effects.mp4  every frame of the video with the page's effects (app/effects.h, docs/effects.md)
 *                chosen by the query; POSTed, the body is the "your image" background.
 * The zip and the video are rendered on an inference slot, frame by frame, giving the slot to
 * waiting sessions between frames as a propagation does, and stop when the client leaves or the
 * server stops. They are written into a private temporary folder, which is emptied and removed
 * before the answer starts: the open file is streamed with its Content-Length (the official
 * frontend and browsers hang on chunked video) and vanishes when the response is done. */
#include "server/http_routes.h"

#include "sam2.h"
#include "server/paths.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXPORT_SLOT_WAIT_MS 100 /* wait for a slot in slices, to notice a client that left */

typedef enum export_kind { EXPORT_JSON, EXPORT_ZIP, EXPORT_VIDEO, EXPORT_EFFECTS } export_kind;

static const struct {
    const char *name, *content_type;
} KINDS[] = {
    [EXPORT_JSON] = {"masks.json", "application/json"},
    [EXPORT_ZIP] = {"masks.zip", "application/zip"},
    [EXPORT_VIDEO] = {"overlay.mp4", "video/mp4"},
    [EXPORT_EFFECTS] = {"effects.mp4", "video/mp4"},
};

typedef struct export_job {
    http_req *r;
    server *srv;
    session *s;
    export_kind kind;
    mask_snapshot snap;
    int width, height;
    int fd;      /* the client's socket, watched for a hang-up */
    int holding; /* an inference slot */
    double deadline;
    mask_label_map map;
    uint8_t *labels, *scratch;
    mask_zip *zip;
    ingest_overlay *overlay;
    char dir[PATH_MAX], file[PATH_MAX];
    /* effects.mp4 */
    effects_scene *scene;
    sam2_rgb_image bg; /* the POSTed background picture, or none */
    int crf;
    int n_out;  /* frames the output gets */
    int cursor; /* the next snapshot frame to look at (frames go in ascending order) */
} export_job;

/* ---- answers ------------------------------------------------------------------------------ */

/* "attachment; filename=<video name>-<kind>", the name reduced to safe characters. */
static void disposition(const session *s, export_kind kind, char *out, size_t cap) {
    const char *path = session_display_path(s);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char stem[128];
    size_t n = 0;
    for (const char *p = base; *p && n + 1 < sizeof stem; p++) {
        const char c = *p;
        const int safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        stem[n++] = safe ? c : '_';
    }
    stem[n] = '\0';
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem) *dot = '\0';
    snprintf(out, cap, "attachment; filename=\"%s-%s\"", stem[0] ? stem : "sam2", KINDS[kind].name);
}

static enum MHD_Result answer(export_job *j, struct MHD_Response *resp) {
    if (!resp) return MHD_NO;
    char cd[256];
    disposition(j->s, j->kind, cd, sizeof cd);
    MHD_add_response_header(resp, "Content-Type", KINDS[j->kind].content_type);
    MHD_add_response_header(resp, "Content-Disposition", cd);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    return http_queue(j->r, 200, resp);
}

static unsigned status_for(int code) {
    switch (code) {
    case SAM2_ERR_LIMIT:
        return 503;
    case SAM2_ERR_STATE:
        return 409;
    default:
        return 500;
    }
}

/* ---- the render job -------------------------------------------------------------------------- */

static int client_gone(int fd) {
    if (fd < 0) return 0;
    struct pollfd p = {fd, POLLRDHUP, 0};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static int must_stop(export_job *j, sam2_error *err) {
    if (atomic_load(&j->srv->stopping))
        return sam2_fail(err, SAM2_ERR_CANCELLED, "The server is shutting down");
    if (client_gone(j->fd)) return sam2_fail(err, SAM2_ERR_CANCELLED, "the client went away");
    return 0;
}

/* Waits for an inference slot by turns with the other sessions (scheduler.h). */
static int take_slot(export_job *j, sam2_error *err) {
    while (!j->holding) {
        if (must_stop(j, err)) return -1;
        const int rc =
            fair_acquire(j->srv->sched, session_sched_client(j->s), NULL, EXPORT_SLOT_WAIT_MS);
        if (rc == 0)
            j->holding = 1;
        else if (metrics_now() > j->deadline)
            return sam2_fail(
                err, SAM2_ERR_LIMIT,
                "The server is busy: no inference slot became free within %d s; try again",
                j->srv->cfg.timeout_s);
    }
    return 0;
}

/* One frame done: sessions that wait go first, as fair_yield lets them during a propagation. */
static int next_turn(export_job *j, sam2_error *err) {
    if (must_stop(j, err)) return -1;
    if (!fair_waiting(j->srv->sched)) return 0;
    fair_release(j->srv->sched);
    j->holding = 0;
    j->deadline = metrics_now() + j->srv->cfg.timeout_s;
    return take_slot(j, err);
}

static void release_slot(export_job *j) {
    if (j->holding) fair_release(j->srv->sched);
    j->holding = 0;
}

static int decode_rle(void *user, const char *counts, int h, int w, uint8_t *out, sam2_error *err) {
    const inference_ops *inf = user;
    return inf->rle_decode(inf->self, counts, h, w, out, err);
}

/* Output frame i: the i-th frame with masks, or for effects.mp4 frame i of the video. */
static int render_frame(export_job *j, int i, sam2_error *err) {
    const inference_ops *inf = j->srv->inf;
    const ingest_ops *ing = j->srv->ingest;
    if (j->kind == EXPORT_EFFECTS) {
        const mask_frame *f = NULL;
        while (j->cursor < j->snap.n && j->snap.frames[j->cursor].frame < i) j->cursor++;
        if (j->cursor < j->snap.n && j->snap.frames[j->cursor].frame == i)
            f = &j->snap.frames[j->cursor];
        if (effects_labels(j->scene, f, j->width, j->height, decode_rle, (void *)inf, j->labels,
                           j->scratch, err))
            return -1;
        return ing->overlay_frame(ing->self, j->overlay, i, j->labels, err);
    }
    const mask_frame *f = &j->snap.frames[i];
    if (mask_labels(f, j->width, j->height, &j->map, decode_rle, (void *)inf, j->labels, j->scratch,
                    err))
        return -1;
    if (j->kind == EXPORT_ZIP)
        return mask_zip_add(j->zip, f->frame, j->labels, j->width, j->height, err);
    return ing->overlay_frame(ing->self, j->overlay, f->frame, j->labels, err);
}

static int open_output(export_job *j, sam2_error *err) {
    const char *base = j->srv->cfg.spill_dir[0] ? j->srv->cfg.spill_dir : getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    snprintf(j->dir, sizeof j->dir, "%s/sam2-export-XXXXXX", base);
    if (!mkdtemp(j->dir)) {
        j->dir[0] = '\0';
        return sam2_fail(err, SAM2_ERR_IO,
                         "cannot create a temporary folder for the export in SPILL_DIR: %s",
                         strerror(errno));
    }
    snprintf(j->file, sizeof j->file, "%s/%s", j->dir, KINDS[j->kind].name);
    if (j->kind == EXPORT_ZIP) {
        j->zip = mask_zip_open(j->file, err);
        return j->zip ? 0 : -1;
    }
    const ingest_ops *ing = j->srv->ingest;
    if (j->kind == EXPORT_EFFECTS) {
        if (!ing->effects_open)
            return sam2_fail(err, SAM2_ERR_UNSUPPORTED, "this server cannot render effects videos");
        return ing->effects_open(ing->self, session_video_path(j->s), j->file, j->width, j->height,
                                 j->scene, j->bg.pixels, j->bg.width, j->bg.height, j->crf,
                                 &j->overlay, err);
    }
    if (!ing->overlay_open)
        return sam2_fail(err, SAM2_ERR_UNSUPPORTED,
                         "this server cannot render videos (no video encoder)");
    return ing->overlay_open(ing->self, session_video_path(j->s), j->file, j->width, j->height,
                             &j->overlay, err);
}

static int close_output(export_job *j, int commit, sam2_error *err) {
    int rc = 0;
    if (j->zip) {
        if (commit)
            rc = mask_zip_close(j->zip, err);
        else
            mask_zip_discard(j->zip);
    }
    if (j->overlay)
        rc = j->srv->ingest->overlay_close(j->srv->ingest->self, j->overlay, commit, err);
    j->zip = NULL;
    j->overlay = NULL;
    return rc;
}

/* Removes everything in the private folder, then the folder. */
static void remove_dir(export_job *j) {
    if (!j->dir[0]) return;
    char p[PATH_MAX + 300];
    DIR *d = opendir(j->dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", j->dir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(j->dir);
    j->dir[0] = '\0';
}

/* Renders every frame of the snapshot into the output; returns the open result file or -1. */
static int render(export_job *j, sam2_error *err) {
    const size_t hw = (size_t)j->width * j->height;
    j->n_out = j->kind == EXPORT_EFFECTS ? session_frame_count(j->s) : j->snap.n;
    if (j->kind != EXPORT_EFFECTS && mask_label_map_init(&j->map, j->snap.frames, j->snap.n, err))
        return -1;
    j->labels = malloc(hw ? hw : 1);
    j->scratch = malloc(hw ? hw : 1);
    if (!j->labels || !j->scratch)
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for the export"), -1;
    j->deadline = metrics_now() + j->srv->cfg.timeout_s;
    if (take_slot(j, err) || open_output(j, err)) return -1;
    for (int i = 0; i < j->n_out; i++)
        if (render_frame(j, i, err) || (i + 1 < j->n_out && next_turn(j, err))) return -1;
    /* Closing finishes the encode (the last frames of the video): still within the turn. */
    const int rc = close_output(j, 1, err);
    release_slot(j);
    if (rc) return -1;
    const int fd = open(j->file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sam2_fail(err, SAM2_ERR_IO, "cannot read the rendered %s: %s", KINDS[j->kind].name,
                         strerror(errno)),
               -1;
    return fd;
}

static enum MHD_Result export_rendered(export_job *j) {
    sam2_error err = {0};
    const double t0 = metrics_now();
    j->fd = http_client_fd(j->r);
    /* libmicrohttpd would count the render as idle time and drop the connection once it is
     * longer than REQUEST_TIMEOUT: no timeout while rendering, then a fresh one (setting it from
     * 0 restarts the idle clock). */
    MHD_set_connection_option(j->r->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
    const int fd = render(j, &err);
    MHD_set_connection_option(j->r->conn, MHD_CONNECTION_OPTION_TIMEOUT,
                              (unsigned)j->srv->cfg.timeout_s);
    close_output(j, 0, NULL);
    release_slot(j);
    remove_dir(j); /* the open file stays readable until the response is done */
    mask_label_map_free(&j->map);
    free(j->labels);
    free(j->scratch);
    if (fd < 0) {
        if (err.code == SAM2_ERR_CANCELLED) {
            server_log(j->srv, "export %s of session %s stopped: %s", KINDS[j->kind].name,
                       session_id(j->s), err.message);
            return MHD_NO; /* nobody to answer: close the connection */
        }
        path_scrub(err.message, sizeof err.message, session_video_path(j->s),
                   session_display_path(j->s));
        path_scrub(err.message, sizeof err.message, j->srv->data_real, "DATA_PATH");
        return http_error(j->r, status_for(err.code), "Export of %s failed: %s",
                          KINDS[j->kind].name, err.message);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return http_error(j->r, 500, "Export of %s failed: cannot read the rendered file",
                          KINDS[j->kind].name);
    }
    server_log(j->srv, "export %s of session %s: %d frames, %lld bytes in %.2f s",
               KINDS[j->kind].name, session_id(j->s), j->n_out, (long long)st.st_size,
               metrics_now() - t0);
    /* libmicrohttpd owns the descriptor from here (closed when the response is destroyed). */
    struct MHD_Response *resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
    if (!resp) close(fd);
    return answer(j, resp);
}

static enum MHD_Result export_json(export_job *j) {
    const mask_json_doc doc = {.video_path = session_display_path(j->s),
                               .width = j->width,
                               .height = j->height,
                               .video_frames = session_frame_count(j->s),
                               .fps = session_fps(j->s),
                               .model = j->srv->model_info.name,
                               .frames = j->snap.frames,
                               .n_frames = j->snap.n};
    sam2_error err = {0};
    size_t len = 0;
    char *text = mask_json_render(&doc, &len, &err);
    if (!text) return http_error(j->r, 500, "Export of masks.json failed: %s", err.message);
    struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(len, text, free);
    if (!resp) free(text);
    return answer(j, resp);
}

/* ---- the route ------------------------------------------------------------------------------ */

#define EFFECTS_DEFAULT_CRF 18

/* effects.mp4's query (docs/effects.md) and, when POSTed, its background picture. Answers 400
 * naming what is wrong (returns MHD_YES/NO then), else 0 with j->scene, j->crf and j->bg set. */
static int effects_request(export_job *j, int post, enum MHD_Result *answered) {
    struct MHD_Connection *c = j->r->conn;
    const char *bg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "bg");
    const char *objects = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "objects");
    const char *crf = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "crf");
    sam2_error err = {0};
    j->scene = malloc(sizeof *j->scene);
    if (!j->scene) return *answered = http_error(j->r, 500, "out of memory"), -1;
    if (effects_scene_parse(bg, objects, j->scene, &err))
        return *answered = http_error(j->r, 400, "effects.mp4: %s", err.message), -1;
    j->crf = EFFECTS_DEFAULT_CRF;
    if (crf) {
        char *end;
        const long v = strtol(crf, &end, 10);
        if (*end || end == crf || v < 1 || v > 51)
            return *answered =
                       http_error(j->r, 400, "effects.mp4: crf must be an integer in 1..51"),
                   -1;
        j->crf = (int)v;
    }
    const int needs_image = effects_scene_replace_source(j->scene) == FX_REPLACE_IMAGE;
    const strbuf *body = &j->r->body;
    if (needs_image && (!post || body->len == 0))
        return *answered = http_error(
                   j->r, 400,
                   "effects.mp4: bg=%s needs the picture: POST it (PNG or JPEG of %dx%d) as the "
                   "body",
                   bg, j->width, j->height),
               -1;
    if (!needs_image && post && body->len)
        return *answered =
                   http_error(j->r, 400, "effects.mp4: a picture was sent but bg is not replace.1"),
               -1;
    if (!needs_image) return 0;
    int w = 0, h = 0;
    const char *format;
    if (sam2_rgb_image_probe_memory(body->data, body->len, &format, &w, &h, &err))
        return *answered = http_error(
                   j->r, 400, "effects.mp4: the background picture is not a PNG or JPEG: %s",
                   err.message[0] ? err.message : "unknown format"),
               -1;
    /* Checked before decoding, so a picture's size never costs more than the video's frames. */
    if (w != j->width || h != j->height)
        return *answered =
                   http_error(j->r, 400,
                              "effects.mp4: the background picture must be %dx%d, the video's size "
                              "(it is %dx%d)",
                              j->width, j->height, w, h),
               -1;
    if (sam2_rgb_image_load_memory(body->data, body->len, &j->bg, &err))
        return *answered = http_error(j->r, 400,
                                      "effects.mp4: the background picture cannot be decoded: %s",
                                      err.message),
               -1;
    return 0;
}

enum MHD_Result export_handle(http_req *r, const char *url, int post) {
    const char *id = url + strlen("/export/");
    const char *slash = strchr(id, '/');
    const size_t id_len = slash ? (size_t)(slash - id) : 0;
    int kind = -1;
    for (int k = 0; slash && k < (int)(sizeof KINDS / sizeof KINDS[0]); k++)
        if (!strcmp(slash + 1, KINDS[k].name)) kind = k;
    if (kind < 0 || id_len == 0)
        return http_error(
            r, 404,
            "Not Found: %.200s (the exports are /export/<session_id>/masks.json, masks.zip, "
            "overlay.mp4 and effects.mp4)",
            url);
    if (post && kind != EXPORT_EFFECTS)
        return http_error(
            r, 405, "Method POST is not allowed on %.200s (only effects.mp4 takes a body)", url);
    char sid[128];
    snprintf(sid, sizeof sid, "%.*s", (int)(id_len < sizeof sid - 1 ? id_len : sizeof sid - 1), id);
    sam2_error err = {0};
    export_job j;
    memset(&j, 0, sizeof j);
    j.r = r;
    j.srv = r->srv;
    j.kind = (export_kind)kind;
    j.fd = -1;
    j.s = sessions_get(r->srv->sessions, sid, &err);
    if (!j.s) return http_error(r, 404, "%s", err.message);
    session_touch(j.s);
    j.width = session_width(j.s);
    j.height = session_height(j.s);
    enum MHD_Result ret;
    if (j.kind == EXPORT_EFFECTS && effects_request(&j, post, &ret)) {
        /* answered */
    } else if (mask_store_snapshot(session_masks(j.s), &j.snap, &err)) {
        ret = http_error(r, 500, "%s", err.message);
    } else if (j.snap.lost) {
        ret = http_error(
            r, 507,
            "The masks of %d frames of session %s did not fit its share of SESSION_MEMORY_MB (%zu "
            "MB); "
            "track those frames again, or restart the server with a larger SESSION_MEMORY_MB",
            j.snap.lost, sid, mask_store_limit(session_masks(j.s)) >> 20);
    } else if (j.snap.n == 0) {
        ret = http_error(
            r, 409,
            "Session %s has no masks yet: add points on a frame (or track) before exporting %s",
            sid, KINDS[kind].name);
    } else {
        ret = j.kind == EXPORT_JSON ? export_json(&j) : export_rendered(&j);
    }
    mask_snapshot_free(&j.snap);
    free(j.scene);
    sam2_rgb_image_free(&j.bg);
    session_unref(j.s);
    return ret;
}
