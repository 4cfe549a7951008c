/* The soak's clients: the official frontend's requests (GraphQL documents, the propagation stream
 * read by a strict MultipartStream.ts-like reader, Relay's multipart uploads, static files), with
 * every answer checked: status, GraphQL errors, and masks against the references. */
#include "soak.h"

#include "support/coco_rle.h"
#include "support/frontend_gql.h"
#include "support/http_client.h"
#include "support/savi_stream.h"
#include "support/testutil.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define REQUEST_TIMEOUT_MS 180000

/* ---- GraphQL ------------------------------------------------------------------------------ */
enum { GQL_OK = 0, GQL_OVERLOAD = 1, GQL_ERROR = 2, GQL_FAILED = -1 };

static const char *first_error(const cJSON *j) {
    const cJSON *m =
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "errors"), 0), "message");
    return cJSON_IsString(m) ? m->valuestring : NULL;
}

static int is_overload_message(const char *m) {
    return m && (strstr(m, "is busy") || strstr(m, "The server is busy") ||
                 strstr(m, "MAX_SESSIONS") || strstr(m, "memory budget"));
}

/* Classifies an answer: 503 is the server's deliberate "busy" answer; any other 5xx fails. */
static int check_status(const char *what, const http_response *r) {
    if (r->status == 503) {
        stats_overload();
        return GQL_OVERLOAD;
    }
    if (r->status != 200) {
        soak_fail("%s: HTTP %d: %.300s", what, r->status, r->body ? r->body : "");
        return GQL_FAILED;
    }
    return GQL_OK;
}

/* Sends a GraphQL request over JSON. *out gets the response (caller frees) on GQL_OK and
 * GQL_ERROR; err gets the first error message. */
static int gql(int port, soak_kind kind, const char *what, const char *query, const char *vars_json,
               cJSON **out, char *err, size_t cap) {
    *out = NULL;
    if (err && cap) err[0] = 0;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "query", query);
    if (vars_json) cJSON_AddItemToObject(body, "variables", cJSON_Parse(vars_json));
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!text) {
        soak_fail("%s: out of memory", what);
        return GQL_FAILED;
    }
    http_response r;
    double t0 = soak_now_ms();
    stats_request();
    int rc = http_request(port, "POST", "/graphql",
                          "Content-Type: application/json\r\nOrigin: http://localhost:7262\r\n",
                          text, strlen(text), &r, REQUEST_TIMEOUT_MS);
    free(text);
    if (rc) {
        soak_fail("%s: the connection failed or timed out", what);
        return GQL_FAILED;
    }
    stats_record(kind, soak_now_ms() - t0);
    int st = check_status(what, &r);
    if (st != GQL_OK) {
        http_response_free(&r);
        return st;
    }
    cJSON *j = cJSON_Parse(r.body);
    http_response_free(&r);
    if (!j) {
        soak_fail("%s: the answer is not JSON", what);
        return GQL_FAILED;
    }
    const char *m = first_error(j);
    if (m) {
        if (err) snprintf(err, cap, "%s", m);
        if (is_overload_message(m)) {
            stats_overload();
            cJSON_Delete(j);
            return GQL_OVERLOAD;
        }
        *out = j;
        return GQL_ERROR;
    }
    *out = j;
    return GQL_OK;
}

static const cJSON *data_field(const cJSON *j, const char *name) {
    return cJSON_GetObjectItem(cJSON_GetObjectItem(j, "data"), name);
}

/* ---- masks -------------------------------------------------------------------------------- */
/* "id:HxW:counts;" for every mask of a list, in order; NULL when the list is malformed. */
static char *canon_masks(const cJSON *list, const char *id_key, const char *mask_key) {
    size_t cap = 256, len = 0;
    char *out = malloc(cap);
    if (!out || !cJSON_IsArray(list)) {
        free(out);
        return NULL;
    }
    out[0] = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, list) {
        const cJSON *id = cJSON_GetObjectItem(e, id_key), *m = cJSON_GetObjectItem(e, mask_key);
        const cJSON *size = cJSON_GetObjectItem(m, "size"),
                    *counts = cJSON_GetObjectItem(m, "counts");
        if (!cJSON_IsNumber(id) || cJSON_GetArraySize(size) != 2 || !cJSON_IsString(counts)) {
            free(out);
            return NULL;
        }
        size_t need = len + strlen(counts->valuestring) + 64;
        if (need > cap) {
            while (cap < need) cap *= 2;
            char *n = realloc(out, cap);
            if (!n) {
                free(out);
                return NULL;
            }
            out = n;
        }
        len += (size_t)snprintf(out + len, cap - len, "%d:%dx%d:%s;", id->valueint,
                                cJSON_GetArrayItem(size, 0)->valueint,
                                cJSON_GetArrayItem(size, 1)->valueint, counts->valuestring);
    }
    return out;
}

/* Every mask of a new reference must decode to exactly H x W pixels. */
static int masks_decode(const cJSON *list, const char *mask_key) {
    const cJSON *e;
    cJSON_ArrayForEach(e, list) {
        const cJSON *m = cJSON_GetObjectItem(e, mask_key);
        int h = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "size"), 0)->valueint;
        int w = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "size"), 1)->valueint;
        if (h <= 0 || w <= 0 || h > 8192 || w > 8192) return -1;
        uint8_t *mask = malloc((size_t)h * (size_t)w);
        int rc =
            mask ? coco_rle_decode(cJSON_GetObjectItem(m, "counts")->valuestring, h, w, mask) : -1;
        free(mask);
        if (rc) return -1;
    }
    return 0;
}

/* Checks a mask list against the reference for key; records a failure when it differs. */
static int check_masks(const char *what, const char *key, const cJSON *list, const char *id_key,
                       const char *mask_key, int expect_n) {
    char *c = canon_masks(list, id_key, mask_key);
    if (!c) {
        soak_fail("%s: malformed mask list", what);
        return -1;
    }
    if (expect_n >= 0 && cJSON_GetArraySize(list) != expect_n) {
        soak_fail("%s: %d masks, expected %d", what, cJSON_GetArraySize(list), expect_n);
        free(c);
        return -1;
    }
    int r = refs_check(key, c);
    free(c);
    if (r == 0) {
        soak_fail("%s: the masks differ from the reference (%s)", what, key);
        return -1;
    }
    if (r == 2 && masks_decode(list, mask_key)) {
        soak_fail("%s: a mask does not decode to its size", what);
        return -1;
    }
    return 0;
}

/* ---- session requests ------------------------------------------------------------------------ */
/* addPoints; checks the masks against the reference `key` (NULL: only their shape). */
static int click(int port, const char *sid, int frame, int obj, double x, double y, int clear,
                 const char *key, int expect_n) {
    char vars[512], err[512], what[128];
    snprintf(vars, sizeof vars,
             "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":%d,\"objectId\":%d,\"labels\":[1],"
             "\"points\":[[%.6f,%.6f]],\"clearOldPoints\":%s}}",
             sid, frame, obj, x, y, clear ? "true" : "false");
    snprintf(what, sizeof what, "addPoints(frame %d, object %d)", frame, obj);
    cJSON *j;
    int rc = gql(port, K_CLICK, what, FRONTEND_ADD_POINTS, vars, &j, err, sizeof err);
    if (rc == GQL_ERROR) soak_fail("%s: %s", what, err);
    if (rc != GQL_OK) {
        cJSON_Delete(j);
        return rc == GQL_OVERLOAD ? 1 : -1;
    }
    const cJSON *ap = data_field(j, "addPoints");
    int out = 0;
    if (!ap || cJSON_GetObjectItem(ap, "frameIndex")->valueint != frame) {
        soak_fail("%s: no addPoints answer for the frame", what);
        out = -1;
    } else {
        char k[256];
        snprintf(k, sizeof k, "%s", key ? key : "");
        const cJSON *list = cJSON_GetObjectItem(ap, "rleMaskList");
        if (key)
            out = check_masks(what, k, list, "objectId", "rleMask", expect_n);
        else if (cJSON_GetArraySize(list) < 1) {
            soak_fail("%s: no mask", what);
            out = -1;
        }
    }
    cJSON_Delete(j);
    return out;
}

static int simple_mutation(int port, soak_kind kind, const char *what, const char *doc,
                           const char *field, const char *sid) {
    char vars[256], err[512];
    snprintf(vars, sizeof vars, "{\"input\":{\"sessionId\":\"%s\"}}", sid);
    cJSON *j;
    int rc = gql(port, kind, what, doc, vars, &j, err, sizeof err);
    if (rc == GQL_ERROR) soak_fail("%s: %s", what, err);
    if (rc != GQL_OK) {
        cJSON_Delete(j);
        return rc == GQL_OVERLOAD ? 1 : -1;
    }
    int ok = cJSON_IsTrue(cJSON_GetObjectItem(data_field(j, field), "success"));
    cJSON_Delete(j);
    if (!ok) soak_fail("%s: success is not true", what);
    return ok ? 0 : -1;
}

/* ---- the propagation stream ---------------------------------------------------------------- */
typedef struct stream_state {
    const char *video;
    int start;
    int parts;
    int bad;
    double t_last;
} stream_state;

static void on_part(void *user, const char *headers, const char *body, size_t len) {
    stream_state *st = user;
    char v[128], what[160], key[256];
    double t = soak_now_ms();
    stats_record(st->parts == 0 ? K_PROP_FIRST : K_PROP_FRAME, t - st->t_last);
    st->t_last = t;
    snprintf(what, sizeof what, "propagate %s from %d, part %d", st->video, st->start, st->parts);
    if (!savi_header(headers, "Content-Type", v, sizeof v) ||
        strcmp(v, "application/json; charset=utf-8")) {
        soak_fail("%s: bad part Content-Type", what);
        st->bad++;
    }
    char *text = strndup(body, len);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *fi = cJSON_GetObjectItem(j, "frame_index");
    if (!cJSON_IsNumber(fi)) {
        soak_fail("%s: the part is not a frame", what);
        st->bad++;
    } else {
        snprintf(key, sizeof key, "prop|%s|%d|%d|%d", st->video, st->start, st->parts,
                 fi->valueint);
        if (check_masks(what, key, cJSON_GetObjectItem(j, "results"), "object_id", "mask", 2))
            st->bad++;
    }
    cJSON_Delete(j);
    st->parts++;
}

/* Reads parts until the end (stop_after 0) or until stop_after parts; 0, or -1 (recorded). */
static int read_parts(http_stream *s, savi_reader *rd, stream_state *st, int stop_after,
                      const char *what) {
    char buf[16384];
    for (;;) {
        long n = http_stream_read(s, buf, sizeof buf);
        if (n < 0) {
            soak_fail("%s: the stream broke after %d parts (transport error or timeout)", what,
                      st->parts);
            return -1;
        }
        if (n == 0) {
            if (savi_end(rd)) {
                soak_fail("%s: %s", what, savi_error(rd));
                return -1;
            }
            return 0;
        }
        if (savi_feed(rd, buf, (size_t)n, on_part, st)) {
            soak_fail("%s: %s", what, savi_error(rd));
            return -1;
        }
        if (stop_after && st->parts >= stop_after) return 0;
    }
}

static int propagate(const soak_plan *p, const soak_video *v, const char *sid, soak_mode mode,
                     int start, int *parts_out) {
    char body[256], what[160], ct[256], err[256];
    snprintf(body, sizeof body, "{\"session_id\": \"%s\", \"start_frame_index\": %d}", sid, start);
    snprintf(what, sizeof what, "propagate %s from %d", v->path, start);
    stream_state st = {v->path, start, 0, 0, soak_now_ms()};
    stats_request();
    http_stream *s = http_stream_open(p->port, "POST", "/propagate_in_video",
                                      "Content-Type: application/json\r\n", body, strlen(body),
                                      REQUEST_TIMEOUT_MS);
    if (!s) {
        soak_fail("%s: the connection failed", what);
        return -1;
    }
    int status = http_stream_status(s);
    if (status != 200) {
        http_response r = {status, NULL, NULL, 0};
        int rc = check_status(what, &r);
        if (rc == GQL_OK) soak_fail("%s: HTTP %d", what, status);
        http_stream_close(s);
        return rc == GQL_OVERLOAD ? 1 : -1;
    }
    savi_reader *rd = http_header(http_stream_headers(s), "Content-Type", ct, sizeof ct)
                          ? savi_new(ct, err, sizeof err)
                          : NULL;
    if (!rd) {
        soak_fail("%s: not a multipart stream", what);
        http_stream_close(s);
        return -1;
    }
    int rc = read_parts(s, rd, &st, mode == MODE_COMPLETE ? 0 : 2, what);
    if (!rc && mode == MODE_CANCEL) {
        /* The stream must end cleanly between two parts once cancelled. */
        rc = simple_mutation(p->port, K_CANCEL, "cancelPropagateInVideo",
                             FRONTEND_CANCEL_PROPAGATION, "cancelPropagateInVideo", sid);
        if (rc >= 0 && read_parts(s, rd, &st, 0, what)) rc = -1;
        stats_end(END_CANCELLED);
    } else if (!rc && mode == MODE_DISCONNECT) {
        stats_end(END_DISCONNECTED); /* http_stream_close resets the connection mid-stream */
    } else if (!rc) {
        int expect = v->frames ? (v->frames - start) + (start > 0 ? start + 1 : 0) : -1;
        if (expect >= 0 && st.parts != expect)
            soak_fail("%s: %d frames streamed, expected %d", what, st.parts, expect), rc = -1;
        stats_end(END_COMPLETE);
    }
    savi_free(rd);
    http_stream_close(s);
    if (parts_out) *parts_out = st.parts;
    return st.bad ? -1 : rc;
}

int soak_session_flow(const soak_plan *p, int video, soak_mode mode, int start, int correction,
                      int *parts) {
    const soak_video *v = &p->videos[video];
    char vars[512], err[512], key[256];
    snprintf(vars, sizeof vars, "{\"input\":{\"path\":\"%s\"}}", v->path);
    cJSON *j;
    int rc =
        gql(p->port, K_START, "startSession", FRONTEND_START_SESSION, vars, &j, err, sizeof err);
    if (rc == GQL_ERROR) soak_fail("startSession(%s): %s", v->path, err);
    const cJSON *sidj =
        rc == GQL_OK ? cJSON_GetObjectItem(data_field(j, "startSession"), "sessionId") : NULL;
    if (rc == GQL_OK && !cJSON_IsString(sidj))
        soak_fail("startSession(%s): no sessionId", v->path), rc = GQL_FAILED;
    if (rc != GQL_OK) {
        cJSON_Delete(j);
        return rc == GQL_OVERLOAD ? 1 : -1;
    }
    char sid[64];
    snprintf(sid, sizeof sid, "%s", sidj->valuestring);
    cJSON_Delete(j);
    int out = 0;
    /* Two fixed clicks on a fresh session: always the same masks. */
    snprintf(key, sizeof key, "click1|%s", v->path);
    out = click(p->port, sid, 0, 1, SOAK_CLICK1_X, SOAK_CLICK1_Y, 1, key, 1);
    if (!out) {
        snprintf(key, sizeof key, "click2|%s", v->path);
        out = click(p->port, sid, 1, 2, SOAK_CLICK2_X, SOAK_CLICK2_Y, 1, key, 2);
    }
    int streamed = 0;
    if (!out) out = propagate(p, v, sid, mode, start, &streamed);
    if (parts) *parts = streamed;
    /* A correction after the propagation: its masks depend on how far the propagation got, so
     * they are compared only after a complete one. */
    if (!out && correction) {
        snprintf(key, sizeof key, "correct|%s|%d", v->path, start);
        out = click(p->port, sid, 2, 1, 0.6, 0.4, 0, mode == MODE_COMPLETE ? key : NULL, 2);
    }
    int closed = simple_mutation(p->port, K_CLOSE, "closeSession", FRONTEND_CLOSE_SESSION,
                                 "closeSession", sid);
    return out ? out : closed;
}

/* ---- uploads ------------------------------------------------------------------------------ */
/* Relay's GraphQL multipart request for uploadVideo. Returns a GQL_* code; *out as gql(). */
static int upload_bytes(int port, soak_kind kind, const void *data, size_t len,
                        const char *filename, double duration_s, cJSON **out, char *err,
                        size_t cap) {
    *out = NULL;
    const char *boundary = "----sam2soakBoundary7MA4YWxkTrZu0gW";
    char d[32], ops[512];
    if (duration_s > 0)
        snprintf(d, sizeof d, "%.3f", duration_s);
    else
        snprintf(d, sizeof d, "null");
    snprintf(ops, sizeof ops,
             "{\"query\":\"mutation useUploadVideoMutation($file: Upload!, $d: Float) { "
             "uploadVideo(file: $file, "
             "durationTimeSec: $d) { id path width height posterPath } "
             "}\",\"variables\":{\"file\":null,\"d\":%s}}",
             d);
    size_t n;
    char *body = http_upload_body(boundary, ops, "1", filename, data, len, &n);
    if (!body) {
        soak_fail("upload: out of memory");
        return GQL_FAILED;
    }
    char headers[256];
    snprintf(headers, sizeof headers, "Content-Type: multipart/form-data; boundary=%s\r\n",
             boundary);
    http_response r;
    double t0 = soak_now_ms();
    stats_request();
    int rc = http_request(port, "POST", "/graphql", headers, body, n, &r, REQUEST_TIMEOUT_MS);
    free(body);
    if (rc) {
        soak_fail("upload %s: the connection failed or timed out", filename);
        return GQL_FAILED;
    }
    stats_record(kind, soak_now_ms() - t0);
    int st = check_status("uploadVideo", &r);
    cJSON *j = st == GQL_OK ? cJSON_Parse(r.body) : NULL;
    http_response_free(&r);
    if (st != GQL_OK) return st;
    if (!j) {
        soak_fail("upload %s: the answer is not JSON", filename);
        return GQL_FAILED;
    }
    *out = j;
    const char *m = first_error(j);
    if (m) {
        snprintf(err, cap, "%s", m);
        return GQL_ERROR;
    }
    return GQL_OK;
}

int soak_upload_file(int port, const char *file, double duration_s, char *path, size_t cap,
                     char *why, size_t why_cap) {
    size_t len;
    void *data = test_read_file(file, &len);
    if (!data) {
        snprintf(why, why_cap, "cannot read %s", file);
        return -1;
    }
    const char *base = strrchr(file, '/');
    cJSON *j;
    char err[512];
    int rc = upload_bytes(port, K_UPLOAD, data, len, base ? base + 1 : file, duration_s, &j, err,
                          sizeof err);
    free(data);
    if (rc == GQL_ERROR) snprintf(why, why_cap, "%s", err);
    const cJSON *pj =
        rc == GQL_OK ? cJSON_GetObjectItem(data_field(j, "uploadVideo"), "path") : NULL;
    if (rc == GQL_OK && !cJSON_IsString(pj)) {
        snprintf(why, why_cap, "uploadVideo answered no path");
        rc = GQL_FAILED;
    }
    if (rc == GQL_OK) snprintf(path, cap, "%s", pj->valuestring);
    if (rc != GQL_OK && rc != GQL_ERROR && why_cap && !why[0])
        snprintf(why, why_cap, "upload failed (%d)", rc);
    cJSON_Delete(j);
    return rc == GQL_OK ? 0 : rc == GQL_OVERLOAD ? 1 : -1;
}

/* A gallery video (always the same file of the same length, so always the same uploads/<sha>) or
 * a file that is not a video (always refused with a GraphQL error naming no server path). */
static void upload_round(const soak_plan *p, int good) {
    if (good) {
        char path[256], why[512];
        int rc =
            soak_upload_file(p->port, p->gallery_file, 1.0, path, sizeof path, why, sizeof why);
        if (rc < 0) soak_fail("uploadVideo(%s): %s", p->gallery_file, why);
        if (rc == 0 && refs_check("upload|gallery|1.0", path) == 0)
            soak_fail("uploadVideo: the same file gave %s, unlike the first upload", path);
        return;
    }
    static const char text[] = "This is a shopping list, not a video.\nmilk\neggs\n";
    cJSON *j;
    char err[512];
    int rc = upload_bytes(p->port, K_UPLOAD_BAD, text, sizeof text - 1, "list.mp4", 0, &j, err,
                          sizeof err);
    if (rc == GQL_OK) soak_fail("uploadVideo of a text file succeeded");
    if (rc == GQL_ERROR && strstr(err, p->data_dir))
        soak_fail("uploadVideo of a text file: the error names a server path: %s", err);
    cJSON_Delete(j);
}

/* ---- static files -------------------------------------------------------------------------- */
static void get_static(const soak_plan *p, const char *url, const char *headers, int expect_status,
                       size_t expect_len) {
    http_response r;
    double t0 = soak_now_ms();
    stats_request();
    if (http_request(p->port, "GET", url, headers, NULL, 0, &r, REQUEST_TIMEOUT_MS)) {
        soak_fail("GET %s: the connection failed", url);
        return;
    }
    stats_record(K_STATIC, soak_now_ms() - t0);
    if (r.status == 503)
        stats_overload();
    else if (r.status != expect_status || (expect_len && r.body_len != expect_len))
        soak_fail("GET %s: HTTP %d with %zu bytes (expected %d)", url, r.status, r.body_len,
                  expect_status);
    http_response_free(&r);
}

void *soak_client_main(void *arg) {
    soak_client *c = arg;
    const soak_plan *p = c->plan;
    while (!atomic_load(&((soak_plan *)p)->stop) && soak_now_ms() < p->deadline_ms) {
        if (p->quiesce) quiesce_checkpoint(p->quiesce);
        if (atomic_load(&((soak_plan *)p)->stop) || soak_now_ms() >= p->deadline_ms) break;
        long i = c->iterations++;
        if (i % 6 == 5) {
            upload_round(p, (int)((i / 6 + c->index) % 2 == 0));
        } else {
            int video = (int)((c->index + i) % p->n_videos);
            const soak_video *v = &p->videos[video];
            soak_mode mode = (soak_mode)((c->index * 3 + i) % 3);
            if (mode == MODE_COMPLETE && !v->full_propagation) mode = MODE_CANCEL;
            int start = (v->full_propagation && i % 4 == 3) ? 1 : 0;
            soak_session_flow(p, video, mode, start, (int)(i % 2), NULL);
        }
        get_static(p, p->gallery_url, "Range: bytes=0-1023\r\n", 206, 1024);
        get_static(p, p->poster_url, NULL, 200, 0);
        get_static(p, "/healthy", NULL, 200, 2);
    }
    if (p->quiesce) quiesce_done(p->quiesce);
    return NULL;
}
