/* The demo's GraphQL schema (the official backend's types and field names, as Strawberry
 * exposes them) and its resolvers. Every mutation that touches a session takes the session
 * (session_begin) and then an inference slot (fair_acquire), so sessions never wait on each
 * other's locks, only for their turn at the model. */
#include "server/schema.h"

#include "server/replica.h"
#include "server/schema_cursor.h"
#include "server/server_internal.h"

#include "sam2.h"
#include "server/paths.h"
#include "server/titles.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RELAY_MAX_RESULTS 100 /* Strawberry's relay_max_results */
#define MAX_MASK_PIXELS (1 << 26)

static server *srv_of(const gql_resolve_info *info) {
    return ((request_ctx *)info->app)->srv;
}

static const cJSON *arg(const gql_resolve_info *info, const char *name) {
    return cJSON_GetObjectItemCaseSensitive(info->args, name);
}

static const cJSON *input_field(const gql_resolve_info *info, const char *name) {
    return cJSON_GetObjectItemCaseSensitive(arg(info, "input"), name);
}

static const char *input_str(const gql_resolve_info *info, const char *name) {
    const cJSON *v = input_field(info, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static int input_int(const gql_resolve_info *info, const char *name) {
    const cJSON *v = input_field(info, name);
    return cJSON_IsNumber(v) ? (int)v->valuedouble : 0;
}

/* ---- masks ---------------------------------------------------------------------------------- */
static cJSON *frame_json(const inf_frame *f) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "frameIndex", f->frame_index);
    cJSON *list = cJSON_AddArrayToObject(o, "rleMaskList");
    for (int i = 0; list && i < f->n; i++) {
        cJSON *m = cJSON_CreateObject();
        if (!m) break;
        cJSON_AddNumberToObject(m, "objectId", f->masks[i].id);
        cJSON *rle = cJSON_AddObjectToObject(m, "rleMask");
        cJSON *size = cJSON_AddArrayToObject(rle, "size");
        cJSON_AddItemToArray(size, cJSON_CreateNumber(f->masks[i].height));
        cJSON_AddItemToArray(size, cJSON_CreateNumber(f->masks[i].width));
        cJSON_AddStringToObject(rle, "counts", f->masks[i].counts ? f->masks[i].counts : "");
        cJSON_AddStringToObject(rle, "order", "F");
        cJSON_AddItemToArray(list, m);
    }
    return o;
}

/* ---- session jobs -------------------------------------------------------------------------- */
typedef struct job {
    server *srv;
    session *s;
    double t0;
    int have_session, have_slot;
} job;

/* Takes the session, then an inference slot. */
static int job_begin(job *j, const gql_resolve_info *info, const char *session_id, int needs_slot,
                     sam2_error *err) {
    memset(j, 0, sizeof *j);
    j->srv = srv_of(info);
    j->t0 = metrics_now();
    j->s = sessions_get(j->srv->sessions, session_id, err);
    if (!j->s) return -1;
    /* A change to a session that is propagating stops the propagation first (as the frontend
     * does with cancelPropagateInVideo): the new prompts make the rest of it out of date. */
    if (session_is_propagating(j->s)) session_request_cancel(j->s);
    int timeout_ms = j->srv->cfg.timeout_s * 1000;
    if (session_begin(j->s, timeout_ms, err)) return -1;
    j->have_session = 1;
    if (!needs_slot) return 0;
    int rc = fair_acquire(j->srv->sched, session_sched_client(j->s), NULL, timeout_ms);
    if (rc) {
        sam2_fail(err, SAM2_ERR_LIMIT,
                  "The server is busy: no inference slot became free within %d s; try again",
                  j->srv->cfg.timeout_s);
        return -1;
    }
    j->have_slot = 1;
    return 0;
}

static void job_release_slot(job *j) {
    if (j->have_slot) fair_release(j->srv->sched);
    j->have_slot = 0;
}

/* Errors from the tracker name the video by its absolute path ("video '/data/gallery/x.mp4':
 * frame 120 could not be decoded"): clients see the path they gave instead, and never DATA_PATH. */
static void scrub_paths(server *srv, session *s, sam2_error *err) {
    if (!err || !err->message[0]) return;
    if (s)
        path_scrub(err->message, sizeof err->message, session_video_path(s),
                   session_display_path(s));
    path_scrub(err->message, sizeof err->message, srv->data_real, "DATA_PATH");
}

static void job_end(job *j, metrics_op_kind op, int ok, sam2_error *err) {
    if (!ok && j->srv) scrub_paths(j->srv, j->s, err);
    job_release_slot(j);
    if (j->have_session) session_end(j->s);
    if (j->s) session_unref(j->s);
    if (j->srv) metrics_op(j->srv->metrics, op, metrics_now() - j->t0, ok);
}

/* Remembers a frame's masks for the /export routes (export.c). */
static void keep_masks(job *j, const inf_frame *f) {
    if (mask_store_put(session_masks(j->s), f) > 0)
        server_log(j->srv,
                   "session %s: the masks of frame %d exceed the session's share of "
                   "SESSION_MEMORY_MB (%zu MB); "
                   "exports will say so",
                   session_id(j->s), f->frame_index, mask_store_limit(session_masks(j->s)) >> 20);
}

static int check_frame(session *s, int frame, sam2_error *err) {
    int n = session_frame_count(s);
    if (frame < 0 || frame >= n)
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "frameIndex %d is out of range: the video has %d frames (0-%d)", frame, n,
                         n - 1);
    return 0;
}

/* The frontend sends points as fractions of the video's width and height. The tracker refuses
 * points far outside the frame in its own units (here 1 x 1): said in the video's terms instead. */
static int check_points(session *s, const float *xy, int n, sam2_error *err) {
    for (int i = 0; i < n; i++) {
        const float x = xy[2 * i], y = xy[2 * i + 1];
        if (!isfinite(x) || !isfinite(y) || x < -1 || x > 2 || y < -1 || y > 2)
            return sam2_fail(err, SAM2_ERR_ARGUMENT,
                             "points[%d] = [%g, %g] is far outside the %d x %d video: addPoints "
                             "takes each point as "
                             "fractions of the width and the height (0 to 1)",
                             i, (double)x, (double)y, session_width(s), session_height(s));
    }
    return 0;
}

/* ---- queries ------------------------------------------------------------------------------- */
static cJSON *resolve_default_video(const gql_resolve_info *info, sam2_error *err) {
    server *srv = srv_of(info);
    const video_entry *v = catalog_default(srv->videos, srv->cfg.default_video_path);
    if (!v) {
        sam2_fail(err, SAM2_ERR_STATE,
                  "There are no videos in the gallery (put .mp4 files in DATA_PATH/gallery)");
        return NULL;
    }
    return video_to_json(v, srv->cfg.api_url);
}

static char *cursor_for(int index) {
    char buf[64];
    snprintf(buf, sizeof buf, "arrayconnection:%d", index);
    return base64_encode((const unsigned char *)buf, strlen(buf));
}

/* Reads an "arrayconnection:<n>" cursor; -1 (with err) when it is not one. */
long schema_parse_cursor(const char *which, const char *cursor, sam2_error *err) {
    size_t n;
    unsigned char *raw = base64_decode(cursor, &n);
    long v = -1;
    if (raw && !strncmp((char *)raw, "arrayconnection:", 16) && strlen((char *)raw) == n) {
        char *end;
        const char *num = (char *)raw + 16;
        v = *num >= '0' && *num <= '9' ? strtol(num, &end, 10) : -1;
        if (v >= 0 && (*end || v > 1000000000L)) v = -1;
    }
    free(raw);
    if (v < 0)
        sam2_fail(err, SAM2_ERR_ARGUMENT, "Argument '%s' contains a non-existing value.", which);
    return v;
}

/* Strawberry's ListConnection slicing (relay/utils.py SliceMetadata) over the gallery. */
static cJSON *resolve_videos(const gql_resolve_info *info, sam2_error *err) {
    server *srv = srv_of(info);
    const cJSON *before = arg(info, "before"), *after = arg(info, "after");
    const cJSON *first = arg(info, "first"), *last = arg(info, "last");
    const long INF = -1;
    long start = 0, end = -2; /* -2: not set */
    if (cJSON_IsString(after) && *after->valuestring) {
        long v = schema_parse_cursor("after", after->valuestring, err);
        if (v < 0) return NULL;
        start = v + 1;
    }
    if (cJSON_IsString(before) && *before->valuestring) {
        long v = schema_parse_cursor("before", before->valuestring, err);
        if (v < 0) return NULL;
        end = v;
    }
    if (cJSON_IsNumber(first)) {
        int f = first->valueint;
        if (f < 0)
            return sam2_fail(err, SAM2_ERR_ARGUMENT,
                             "Argument 'first' must be a non-negative integer."),
                   NULL;
        if (f > RELAY_MAX_RESULTS)
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "Argument 'first' cannot be higher than %d.",
                             RELAY_MAX_RESULTS),
                   NULL;
        if (end != -2) start = end - 1 > 0 ? end - 1 : 0;
        end = start + f;
    }
    int last_n = -1;
    if (cJSON_IsNumber(last)) {
        last_n = last->valueint;
        if (last_n < 0)
            return sam2_fail(err, SAM2_ERR_ARGUMENT,
                             "Argument 'last' must be a non-negative integer."),
                   NULL;
        if (last_n > RELAY_MAX_RESULTS)
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "Argument 'last' cannot be higher than %d.",
                             RELAY_MAX_RESULTS),
                   NULL;
        if (end != -2)
            start = start > end - last_n ? start : end - last_n;
        else
            end = INF;
    }
    if (end == -2) end = start + RELAY_MAX_RESULTS;
    long total = catalog_count(srv->videos);
    long expected = end == INF ? -1 : end - start;
    long stop = end == INF ? total : end + 1; /* over-fetch one to learn whether there is more */
    if (stop > total) stop = total;
    if (start < 0) start = 0;
    int n_edges = stop > start ? (int)(stop - start) : 0;
    int first_edge = 0;
    int has_prev = start > 0, has_next = 0;
    if (expected >= 0 && n_edges == expected + 1) {
        n_edges--;
        has_next = 1;
    } else if (end == INF) {
        /* Python's edges[-last:] keeps everything when last == 0. */
        if (last_n > 0 && n_edges > last_n) {
            first_edge = n_edges - last_n;
            n_edges = last_n;
        }
        has_prev = first_edge > 0;
    }
    cJSON *conn = cJSON_CreateObject();
    if (!conn) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory"), NULL;
    cJSON *pi = cJSON_AddObjectToObject(conn, "pageInfo");
    cJSON *edges = cJSON_AddArrayToObject(conn, "edges");
    char *start_cursor = NULL, *end_cursor = NULL;
    for (int i = 0; i < n_edges; i++) {
        long idx = start + first_edge + i;
        cJSON *e = cJSON_CreateObject();
        char *cur = cursor_for((int)idx);
        if (!e || !cur) {
            cJSON_Delete(e);
            free(cur);
            break;
        }
        cJSON_AddStringToObject(e, "cursor", cur);
        cJSON_AddItemToObject(e, "node",
                              video_to_json(catalog_at(srv->videos, (int)idx), srv->cfg.api_url));
        cJSON_AddItemToArray(edges, e);
        if (i == 0)
            start_cursor = cur;
        else if (i != n_edges - 1)
            free(cur);
        if (i == n_edges - 1) end_cursor = cur;
    }
    cJSON_AddBoolToObject(pi, "hasNextPage", has_next);
    cJSON_AddBoolToObject(pi, "hasPreviousPage", has_prev);
    if (start_cursor)
        cJSON_AddStringToObject(pi, "startCursor", start_cursor);
    else
        cJSON_AddNullToObject(pi, "startCursor");
    if (end_cursor)
        cJSON_AddStringToObject(pi, "endCursor", end_cursor);
    else
        cJSON_AddNullToObject(pi, "endCursor");
    if (end_cursor != start_cursor) free(end_cursor);
    free(start_cursor);
    return conn;
}

/* ---- mutations ----------------------------------------------------------------------------- */
static cJSON *resolve_start_session(const gql_resolve_info *info, sam2_error *err) {
    server *srv = srv_of(info);
    double t0 = metrics_now();
    if (replica_refuse_session(srv, info->app, err)) { /* draining: a proxy retries elsewhere */
        metrics_op(srv->metrics, OP_START_SESSION, metrics_now() - t0, 0);
        return NULL;
    }
    const char *path = input_str(info, "path");
    char real[PATH_MAX];
    sam2_error perr = {0};
    int is_dir = 0;
    if (path_resolve_video(srv->data_real, path, real, sizeof real, &is_dir, &perr)) {
        sam2_fail(err, SAM2_ERR_ARGUMENT, "Cannot start a session on '%.200s': %s", path,
                  perr.message);
        metrics_op(srv->metrics, OP_START_SESSION, metrics_now() - t0, 0);
        return NULL;
    }
    char id[SESSION_ID_LEN + 1];
    int rc = sessions_start_for(srv->sessions, ((request_ctx *)info->app)->client,
                                srv->cfg.max_sessions_per_ip, real, path, id, err);
    /* The reader's reasons for a folder of frames name the files in it: never shown. */
    if (rc && is_dir && rc != SAM2_ERR_LIMIT && rc != SAM2_ERR_NOMEM)
        sam2_fail(err, rc,
                  "Cannot open video '%.200s': not a folder of video frames the server can read",
                  path);
    metrics_op(srv->metrics, OP_START_SESSION, metrics_now() - t0, rc == 0);
    if (rc) return NULL;
    server_log(srv, "started session %s on %s", id, path);
    cJSON *o = cJSON_CreateObject();
    if (o) cJSON_AddStringToObject(o, "sessionId", id);
    return o;
}

static cJSON *success(int ok) {
    cJSON *o = cJSON_CreateObject();
    if (o) cJSON_AddBoolToObject(o, "success", ok);
    return o;
}

static cJSON *resolve_close_session(const gql_resolve_info *info, sam2_error *err) {
    (void)err;
    server *srv = srv_of(info);
    int ok = sessions_close(srv->sessions, input_str(info, "sessionId"));
    if (ok) server_log(srv, "closed session %s", input_str(info, "sessionId"));
    return success(ok);
}

/* The demo's points (x, y pairs in [0,1] and their labels) as the library's prompt. */
static int add_points_prompt(server *srv, inf_session *s, int frame, int obj, const float *xy,
                             const int *labels, int n, int keep_old, inf_frame *out,
                             sam2_error *err) {
    sam2_point *pts = calloc((size_t)(n > 0 ? n : 1), sizeof *pts);
    if (!pts) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) pts[i] = (sam2_point){xy[2 * i], xy[2 * i + 1], labels[i]};
    const sam2_prompt p = {
        .points = pts, .n_points = n, .normalized = 1, .keep_old_points = keep_old};
    const int rc = srv->inf->add_prompt(srv->inf->self, s, frame, obj, &p, out, err);
    free(pts);
    return rc;
}

static cJSON *resolve_add_points(const gql_resolve_info *info, sam2_error *err) {
    server *srv = srv_of(info);
    const cJSON *points = input_field(info, "points"), *labels = input_field(info, "labels");
    int n = cJSON_GetArraySize(points), nl = cJSON_GetArraySize(labels);
    if (n > srv->cfg.max_points)
        return sam2_fail(err, SAM2_ERR_LIMIT,
                         "addPoints carries %d points; at most %d are allowed per request "
                         "(MAX_POINTS_PER_REQUEST)",
                         n, srv->cfg.max_points),
               NULL;
    if (n != nl)
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "labels has %d entries but points has %d; give one label per point", nl,
                         n),
               NULL;
    float *xy = malloc(sizeof(float) * 2 * (size_t)(n > 0 ? n : 1));
    int *lab = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!xy || !lab) {
        free(xy);
        free(lab);
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory"), NULL;
    }
    int i = 0;
    for (const cJSON *p = points ? points->child : NULL, *l = labels ? labels->child : NULL; p && l;
         p = p->next, l = l->next, i++) {
        if (cJSON_GetArraySize(p) != 2) {
            free(xy);
            free(lab);
            return sam2_fail(err, SAM2_ERR_ARGUMENT,
                             "points[%d] has %d numbers; each point is [x, y]", i,
                             cJSON_GetArraySize(p)),
                   NULL;
        }
        xy[2 * i] = (float)p->child->valuedouble;
        xy[2 * i + 1] = (float)p->child->next->valuedouble;
        lab[i] = (int)l->valuedouble;
    }
    job j;
    cJSON *res = NULL;
    inf_frame f = {0};
    int frame = input_int(info, "frameIndex");
    if (!job_begin(&j, info, input_str(info, "sessionId"), 1, err) &&
        !check_frame(j.s, frame, err) && !check_points(j.s, xy, n, err) &&
        !session_check_spill(j.s, srv->cfg.spill_max_mb, err)) {
        if (!add_points_prompt(srv, session_tracker(j.s), frame, input_int(info, "objectId"), xy,
                               lab, n, !cJSON_IsTrue(input_field(info, "clearOldPoints")), &f,
                               err)) {
            job_release_slot(&j);
            keep_masks(&j, &f);
            res = frame_json(&f);
            inf_frame_free(&f);
        }
    }
    job_end(&j, OP_ADD_POINTS, res != NULL, err);
    free(xy);
    free(lab);
    return res;
}

/* The largest mask addMask decodes for a video: a frame's pixels, or 1024 x 1024 (the model's
 * input) when the video is smaller. Checked before anything is allocated. */
static int check_mask_size(session *s, int h, int w, sam2_error *err) {
    const long long frame = (long long)session_width(s) * session_height(s);
    const long long most = frame > 1024 * 1024 ? frame : 1024 * 1024;
    if ((long long)h * w > most)
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "mask.size [%d, %d] has more pixels than a frame of the video (%d x %d); "
                         "send the mask at "
                         "the video's size",
                         h, w, session_width(s), session_height(s));
    return 0;
}

static cJSON *resolve_add_mask(const gql_resolve_info *info, sam2_error *err) {
    server *srv = srv_of(info);
    const cJSON *mask = input_field(info, "mask");
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(mask, "size");
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(mask, "counts");
    const cJSON *order = cJSON_GetObjectItemCaseSensitive(mask, "order");
    if (cJSON_GetArraySize(size) != 2)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "mask.size must be [height, width]"), NULL;
    int h = size->child->valueint, w = size->child->next->valueint;
    if (h <= 0 || w <= 0 || (long long)h * w > MAX_MASK_PIXELS)
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "mask.size [%d, %d] is not a valid mask size (at most %d pixels)", h, w,
                         MAX_MASK_PIXELS),
               NULL;
    if (cJSON_IsString(order) && strcmp(order->valuestring, "F"))
        return sam2_fail(
                   err, SAM2_ERR_ARGUMENT,
                   "mask.order '%.20s' is not supported: COCO RLE masks are column-major (\"F\")",
                   order->valuestring),
               NULL;
    /* The session is found, taken and checked before the mask is decoded, so a request costs no
     * memory while it waits, and the buffer it needs is bounded by the video and counted. */
    job j;
    cJSON *res = NULL;
    inf_frame f = {0};
    const size_t bytes = (size_t)h * (size_t)w;
    int frame = input_int(info, "frameIndex");
    if (!job_begin(&j, info, input_str(info, "sessionId"), 1, err) &&
        !check_frame(j.s, frame, err) && !check_mask_size(j.s, h, w, err) &&
        !session_check_spill(j.s, srv->cfg.spill_max_mb, err)) {
        server_job_bytes(srv, (ptrdiff_t)bytes);
        uint8_t *m = malloc(bytes);
        int rc = m ? 0 : sam2_fail(err, SAM2_ERR_NOMEM, "out of memory decoding the mask");
        if (!rc && (rc = srv->inf->rle_decode(srv->inf->self, counts->valuestring, h, w, m, err)))
            sam2_error_prefix(err, "mask.counts");
        if (!rc)
            rc = srv->inf->add_prompt(srv->inf->self, session_tracker(j.s), frame,
                                      input_int(info, "objectId"),
                                      &(sam2_prompt){.mask = &(sam2_mask){w, h, m}}, &f, err);
        free(m);
        server_job_bytes(srv, -(ptrdiff_t)bytes);
        if (!rc) {
            job_release_slot(&j);
            keep_masks(&j, &f);
            res = frame_json(&f);
            inf_frame_free(&f);
        }
    }
    job_end(&j, OP_ADD_MASK, res != NULL, err);
    return res;
}

static cJSON *resolve_clear_points_in_frame(const gql_resolve_info *info, sam2_error *err) {
    server *srv = srv_of(info);
    job j;
    cJSON *res = NULL;
    inf_frame f = {0};
    int frame = input_int(info, "frameIndex");
    if (!job_begin(&j, info, input_str(info, "sessionId"), 1, err) &&
        !check_frame(j.s, frame, err)) {
        if (!srv->inf->clear_frame(srv->inf->self, session_tracker(j.s), frame,
                                   input_int(info, "objectId"), &f, err)) {
            job_release_slot(&j);
            keep_masks(&j, &f);
            res = frame_json(&f);
            inf_frame_free(&f);
        }
    }
    job_end(&j, OP_CLEAR_FRAME, res != NULL, err);
    return res;
}

static cJSON *resolve_clear_points_in_video(const gql_resolve_info *info, sam2_error *err) {
    server *srv = srv_of(info);
    job j;
    cJSON *res = NULL;
    if (!job_begin(&j, info, input_str(info, "sessionId"), 0, err)) {
        srv->inf->reset(srv->inf->self, session_tracker(j.s));
        mask_store_clear(session_masks(j.s));
        res = success(1);
    }
    job_end(&j, OP_CLEAR_VIDEO, res != NULL, err);
    return res;
}

static cJSON *resolve_remove_object(const gql_resolve_info *info, sam2_error *err) {
    server *srv = srv_of(info);
    job j;
    cJSON *res = NULL;
    inf_frame *frames = NULL;
    int n = 0;
    if (!job_begin(&j, info, input_str(info, "sessionId"), 1, err)) {
        if (!srv->inf->remove_object(srv->inf->self, session_tracker(j.s),
                                     input_int(info, "objectId"), &frames, &n, err)) {
            job_release_slot(&j);
            mask_store_remove_object(session_masks(j.s), input_int(info, "objectId"));
            for (int i = 0; i < n; i++) keep_masks(&j, &frames[i]);
            res = cJSON_CreateArray();
            for (int i = 0; res && i < n; i++) cJSON_AddItemToArray(res, frame_json(&frames[i]));
            inf_frames_free(frames, n);
        }
    }
    job_end(&j, OP_REMOVE_OBJECT, res != NULL, err);
    return res;
}

static cJSON *resolve_cancel_propagate(const gql_resolve_info *info, sam2_error *err) {
    server *srv = srv_of(info);
    if (sessions_cancel(srv->sessions, input_str(info, "sessionId"), err)) return NULL;
    return success(1);
}

static cJSON *resolve_upload_video(const gql_resolve_info *info, sam2_error *err) {
    request_ctx *rc = info->app;
    server *srv = rc->srv;
    double t0 = metrics_now();
    const cJSON *file = arg(info, "file");
    int idx = cJSON_IsNumber(file) ? file->valueint : -1;
    if (idx < 0 || idx >= rc->n_files)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "the upload has no file"), NULL;
    const upload_file *uf = &rc->files[idx];
    const cJSON *st = arg(info, "startTimeSec"), *dt = arg(info, "durationTimeSec");
    ingest_params p;
    memset(&p, 0, sizeof p);
    p.start_time = cJSON_IsNumber(st) ? st->valuedouble : srv->cfg.encode_seek_time;
    p.max_duration = srv->cfg.max_upload_video_duration;
    if (cJSON_IsNumber(dt) && dt->valuedouble < p.max_duration) p.max_duration = dt->valuedouble;
    if (p.start_time < 0)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "startTimeSec must not be negative"), NULL;
    if (!(p.max_duration > 0))
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "durationTimeSec must be positive"), NULL;
    p.fps = srv->cfg.encode_fps;
    p.max_width = srv->cfg.encode_max_width;
    p.max_height = srv->cfg.encode_max_height;
    p.crf = srv->cfg.encode_crf;
    p.threads = srv->cfg.ffmpeg_threads;
    p.verbose = srv->cfg.encode_verbose;
    p.codec = srv->cfg.encode_codec;
    p.max_input_frames = srv->cfg.max_video_frames;
    p.max_input_side = srv->cfg.max_video_side;
    p.max_decoded_pixels = (long long)srv->cfg.max_upload_megapixels * 1000000;
    char uploads[PATH_MAX];
    snprintf(uploads, sizeof uploads, "%s/uploads", srv->data_real);
    ingest_result r;
    memset(&r, 0, sizeof r);
    int rc2 = upload_queue_enter(&srv->uploads, srv->cfg.timeout_s, err);
    if (!rc2) {
        rc2 = srv->ingest->upload(srv->ingest->self, uf->path, uploads, &p, &r, err);
        upload_queue_leave(&srv->uploads);
    }
    metrics_op(srv->metrics, OP_UPLOAD, metrics_now() - t0, rc2 == 0);
    if (rc2) {
        if (err) {
            path_scrub(err->message, sizeof err->message, uf->path, "the uploaded file");
            path_scrub(err->message, sizeof err->message, srv->data_real, "DATA_PATH");
        }
        return NULL;
    }
    video_entry v;
    memset(&v, 0, sizeof v);
    snprintf(v.code, sizeof v.code, "uploads/%s.mp4", r.sha256);
    snprintf(v.path, sizeof v.path, "uploads/%s.mp4", r.sha256);
    v.width = r.width;
    v.height = r.height;
    /* Unlike the official backend (posterPath null, posterUrl "<API_URL>/None"), uploads get a
     * poster too, so a page can show them like gallery videos. */
    char video_abs[PATH_MAX], poster_abs[PATH_MAX];
    snprintf(video_abs, sizeof video_abs, "%s/%s", srv->data_real, v.path);
    snprintf(poster_abs, sizeof poster_abs, "%s/posters/%s.jpg", srv->data_real, r.sha256);
    int pw, ph;
    sam2_error perr = {0};
    if (!srv->ingest->poster(srv->ingest->self, video_abs, poster_abs, &pw, &ph, &perr))
        snprintf(v.poster_path, sizeof v.poster_path, "posters/%s.jpg", r.sha256);
    /* The name the file had, kept beside the video as its title (titles.h): text, never a path. */
    title_clean(uf->filename, v.title, sizeof v.title);
    sam2_error terr = {0};
    if (v.title[0] && title_store(srv->data_real, r.sha256, v.title, v.width, v.height, &terr))
        server_log(srv, "warning: the display name of %s was not kept: %s", v.path, terr.message);
    server_log(srv, "uploaded %s (%dx%d) from %.100s", v.path, v.width, v.height, uf->filename);
    return video_to_json(&v, srv->cfg.api_url);
}

/* sam2c's Query.video(path): a gallery video, or an upload with its kept title (titles.h), so a
 * page opened at a video's address can name it. null when there is no such video: an upload is
 * looked for only where startSession would open it (path_resolve_video). */
static cJSON *resolve_video(const gql_resolve_info *info, sam2_error *err) {
    (void)err;
    server *srv = srv_of(info);
    const cJSON *p = arg(info, "path");
    const char *path = cJSON_IsString(p) ? p->valuestring : "";
    for (int i = 0; i < catalog_count(srv->videos); i++)
        if (!strcmp(catalog_at(srv->videos, i)->path, path))
            return video_to_json(catalog_at(srv->videos, i), srv->cfg.api_url);
    if (!title_is_upload_path(path)) return cJSON_CreateNull();
    char real[PATH_MAX];
    sam2_error perr = {0};
    int is_dir = 0;
    if (path_resolve_video(srv->data_real, path, real, sizeof real, &is_dir, &perr) || is_dir)
        return cJSON_CreateNull();
    video_entry v;
    memset(&v, 0, sizeof v);
    snprintf(v.code, sizeof v.code, "%s", path);
    snprintf(v.path, sizeof v.path, "%s", path);
    title_load(srv->data_real, path, v.title, sizeof v.title, &v.width, &v.height);
    char poster[PATH_MAX];
    snprintf(poster, sizeof poster, "%s/posters/%.64s.jpg", srv->data_real, path + 8);
    if (!access(poster, R_OK))
        snprintf(v.poster_path, sizeof v.poster_path, "posters/%.64s.jpg", path + 8);
    return video_to_json(&v, srv->cfg.api_url);
}

/* sam2c's Query.modelInfo: the model the server loaded (the page shows its name). */
static cJSON *resolve_model_info(const gql_resolve_info *info, sam2_error *err) {
    (void)err;
    server *srv = srv_of(info);
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "__typename", "ModelInfo");
    /* name: the configuration name, as GET /ready's "model"; displayName: what a page shows. */
    cJSON_AddStringToObject(o, "name", srv->model_info.name);
    char title[sizeof srv->model_info.name + 16];
    title_of_model(srv->model_info.name, title, sizeof title);
    cJSON_AddStringToObject(o, "displayName", title);
    cJSON_AddNumberToObject(o, "parameters", (double)srv->model_info.params);
    return o;
}

/* ---- the schema ------------------------------------------------------------------------------
 * The official backend's types and field names, as Strawberry exposes them. Fields without a
 * resolver below read the parent value's member of the same name. */
static const char demo_sdl[] =
    "scalar GlobalID\n"
    "scalar Upload\n"
    "\n"
    "interface Node { id: GlobalID! }\n"
    "\n"
    "type Video implements Node {\n"
    "  id: GlobalID!\n"
    "  path: String!\n"
    "  posterPath: String\n"
    "  width: Int!\n"
    "  height: Int!\n"
    "  url: String!\n"
    "  posterUrl: String!\n"
    "  \"sam2c's addition; the official clients never ask for it.\"\n"
    "  title: String!\n"
    "}\n"
    "\n"
    "\"sam2c's addition: which model answers.\"\n"
    "type ModelInfo { name: String!  displayName: String!  parameters: Float! }\n"
    "\n"
    "type PageInfo {\n"
    "  hasNextPage: Boolean!\n"
    "  hasPreviousPage: Boolean!\n"
    "  startCursor: String\n"
    "  endCursor: String\n"
    "}\n"
    "type VideoEdge { cursor: String!  node: Video! }\n"
    "type VideoConnection { pageInfo: PageInfo!  edges: [VideoEdge!]! }\n"
    "\n"
    "type RLEMask { size: [Int!]!  counts: String!  order: String! }\n"
    "type RLEMaskForObject { objectId: Int!  rleMask: RLEMask! }\n"
    "type RLEMaskListOnFrame { frameIndex: Int!  rleMaskList: [RLEMaskForObject!]! }\n"
    "type StartSession { sessionId: String! }\n"
    "type CloseSession { success: Boolean! }\n"
    "type ClearPointsInVideo { success: Boolean! }\n"
    "type CancelPropagateInVideo { success: Boolean! }\n"
    "\n"
    "input StartSessionInput { path: String! }\n"
    "input CloseSessionInput { sessionId: String! }\n"
    "input AddPointsInput {\n"
    "  sessionId: String!\n"
    "  frameIndex: Int!\n"
    "  clearOldPoints: Boolean!\n"
    "  objectId: Int!\n"
    "  labels: [Int!]!\n"
    "  points: [[Float!]!]!\n"
    "}\n"
    "input RLEMaskInput { size: [Int!]!  counts: String!  order: String = \"F\" }\n"
    "input AddMaskInput { sessionId: String!  frameIndex: Int!  objectId: Int!  mask: "
    "RLEMaskInput! }\n"
    "input ClearPointsInFrameInput { sessionId: String!  frameIndex: Int!  objectId: Int! }\n"
    "input ClearPointsInVideoInput { sessionId: String! }\n"
    "input RemoveObjectInput { sessionId: String!  objectId: Int! }\n"
    "input CancelPropagateInVideoInput { sessionId: String! }\n"
    "\n"
    "type Query {\n"
    "  defaultVideo: Video!\n"
    "  videos(before: String = null, after: String = null, first: Int = null, last: Int = null): "
    "VideoConnection!\n"
    "  video(path: String!): Video\n"
    "  modelInfo: ModelInfo!\n"
    "}\n"
    "\n"
    "type Mutation {\n"
    "  startSession(input: StartSessionInput!): StartSession!\n"
    "  closeSession(input: CloseSessionInput!): CloseSession!\n"
    "  addPoints(input: AddPointsInput!): RLEMaskListOnFrame!\n"
    "  addMask(input: AddMaskInput!): RLEMaskListOnFrame!\n"
    "  clearPointsInFrame(input: ClearPointsInFrameInput!): RLEMaskListOnFrame!\n"
    "  clearPointsInVideo(input: ClearPointsInVideoInput!): ClearPointsInVideo!\n"
    "  removeObject(input: RemoveObjectInput!): [RLEMaskListOnFrame!]!\n"
    "  cancelPropagateInVideo(input: CancelPropagateInVideoInput!): CancelPropagateInVideo!\n"
    "  uploadVideo(file: Upload!, startTimeSec: Float = null, durationTimeSec: Float = null): "
    "Video!\n"
    "}\n";

/* The resolvers speak the library's error type; the engine has its own. */
typedef cJSON *(*demo_resolver)(const gql_resolve_info *info, sam2_error *err);

static const struct demo_resolver_row {
    const char *field;
    demo_resolver fn;
} demo_resolvers[] = {
    {"Query.defaultVideo", resolve_default_video},
    {"Query.videos", resolve_videos},
    {"Query.video", resolve_video},
    {"Query.modelInfo", resolve_model_info},
    {"Mutation.startSession", resolve_start_session},
    {"Mutation.closeSession", resolve_close_session},
    {"Mutation.addPoints", resolve_add_points},
    {"Mutation.addMask", resolve_add_mask},
    {"Mutation.clearPointsInFrame", resolve_clear_points_in_frame},
    {"Mutation.clearPointsInVideo", resolve_clear_points_in_video},
    {"Mutation.removeObject", resolve_remove_object},
    {"Mutation.cancelPropagateInVideo", resolve_cancel_propagate},
    {"Mutation.uploadVideo", resolve_upload_video},
};
#define N_DEMO_RESOLVERS ((int)(sizeof demo_resolvers / sizeof demo_resolvers[0]))

static cJSON *run_demo_resolver(const gql_resolve_info *info, gql_err *gerr) {
    const struct demo_resolver_row *row = info->resolver_data;
    sam2_error err = {0};
    cJSON *value = row->fn(info, &err);
    if (!value) snprintf(gerr->message, sizeof gerr->message, "%s", err.message);
    return value;
}

gql_schema *demo_schema_new(sam2_error *err) {
    gql_resolver_entry table[N_DEMO_RESOLVERS];
    for (int i = 0; i < N_DEMO_RESOLVERS; i++)
        table[i] =
            (gql_resolver_entry){demo_resolvers[i].field, run_demo_resolver, &demo_resolvers[i]};
    gql_err gerr = {{0}};
    gql_schema *s = gql_schema_from_sdl(demo_sdl, table, N_DEMO_RESOLVERS, &gerr);
    if (!s) sam2_fail(err, SAM2_ERR_ARGUMENT, "the GraphQL schema: %s", gerr.message);
    return s;
}
