/* The official frontend's flow as a client thread runs it: startSession, two clicks, a streamed
 * propagation (read by the strict MultipartStream.ts-like reader), a correction click, a
 * propagation cancelled after two frames, closeSession. Every answer with masks becomes one line
 * of the flow's record; every answer must come from the session's replica (X-Sam2-Node). No cmocka
 * here: several flows run at once. */
#include "cluster.h"

#include "support/frontend_gql.h"
#include "support/savi_stream.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void flow_error(flow_record *rec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void flow_error(flow_record *rec, const char *fmt, ...) {
    if (rec->error[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rec->error, sizeof rec->error, fmt, ap);
    va_end(ap);
}

static void add_item(flow_record *rec, const char *tag, const char *text) {
    if (rec->n_items >= FLOW_MAX_ITEMS) return;
    size_t n = strlen(tag) + strlen(text) + 2;
    char *s = malloc(n);
    if (!s) return;
    snprintf(s, n, "%s %s", tag, text);
    rec->items[rec->n_items++] = s;
}

/* The session's replica: the part of the id before the first dot. */
static void node_of(const char *sid, char *out, size_t cap) {
    const char *dot = strchr(sid, '.');
    snprintf(out, cap, "%.*s", dot ? (int)(dot - sid) : 0, sid);
}

static void check_node(flow_record *rec, const char *answered_by) {
    rec->requests++;
    char want[40];
    node_of(rec->sid, want, sizeof want);
    if (strcmp(want, answered_by)) rec->wrong_node++;
}

/* "o<id> <h>x<w> <counts>;" per mask of a GraphQL rleMaskList or a stream part's results. */
static char *masks_text(const cJSON *list, const char *id_key, const char *mask_key) {
    size_t cap = 256, len = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    out[0] = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, list) {
        const cJSON *id = cJSON_GetObjectItem(m, id_key), *mask = cJSON_GetObjectItem(m, mask_key);
        const cJSON *size = cJSON_GetObjectItem(mask, "size"),
                    *counts = cJSON_GetObjectItem(mask, "counts");
        if (!cJSON_IsNumber(id) || cJSON_GetArraySize(size) != 2 || !cJSON_IsString(counts)) {
            free(out);
            return NULL;
        }
        size_t need = strlen(counts->valuestring) + 64;
        if (len + need >= cap) {
            while (len + need >= cap) cap *= 2;
            char *grown = realloc(out, cap);
            if (!grown) {
                free(out);
                return NULL;
            }
            out = grown;
        }
        len += (size_t)snprintf(out + len, cap - len, "o%d %dx%d %s;", id->valueint,
                                cJSON_GetArrayItem(size, 0)->valueint,
                                cJSON_GetArrayItem(size, 1)->valueint, counts->valuestring);
    }
    return out;
}

char *flow_start_session(const server_client *c, const char *video, char *node, size_t cap,
                         int *status, char *msg, size_t msg_cap) {
    char vars[512];
    snprintf(vars, sizeof vars, "{\"input\":{\"path\":\"%s\"}}", video);
    cJSON *r = gql_post(c, FRONTEND_START_SESSION, vars, status, node, cap);
    const cJSON *sid = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "startSession"), "sessionId");
    char *id = cJSON_IsString(sid) ? strdup(sid->valuestring) : NULL;
    if (msg)
        snprintf(msg, msg_cap, "%s", gql_error_message(r) ? gql_error_message(r) : "no answer");
    cJSON_Delete(r);
    return id;
}

/* addPoints; returns the answer (caller frees) and the answering replica. */
static cJSON *add_points(const server_client *c, const char *sid, int frame, int obj,
                         const double *xy, const int *labels, int n, char *node, size_t cap,
                         int *status) {
    char vars[1024];
    int len = snprintf(vars, sizeof vars,
                       "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":%d,\"objectId\":%d,"
                       "\"labels\":[",
                       sid, frame, obj);
    for (int i = 0; i < n; i++)
        len += snprintf(vars + len, sizeof vars - (size_t)len, "%s%d", i ? "," : "", labels[i]);
    len += snprintf(vars + len, sizeof vars - (size_t)len, "],\"points\":[");
    for (int i = 0; i < n; i++)
        len += snprintf(vars + len, sizeof vars - (size_t)len, "%s[%.6f,%.6f]", i ? "," : "",
                        xy[2 * i], xy[2 * i + 1]);
    snprintf(vars + len, sizeof vars - (size_t)len, "],\"clearOldPoints\":true}}");
    return gql_post(c, FRONTEND_ADD_POINTS, vars, status, node, cap);
}

/* A click whose masks become item `tag`. */
static int click_item(const server_client *c, flow_record *rec, const char *tag, int frame, int obj,
                      const double *xy, const int *labels, int n) {
    char node[40];
    int status;
    cJSON *r = add_points(c, rec->sid, frame, obj, xy, labels, n, node, sizeof node, &status);
    const cJSON *ap = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "addPoints");
    char *text =
        ap ? masks_text(cJSON_GetObjectItem(ap, "rleMaskList"), "objectId", "rleMask") : NULL;
    if (status) check_node(rec, node);
    if (!text) {
        flow_error(rec, "%s: HTTP %d, %s", tag, status,
                   r ? (gql_error_message(r) ? gql_error_message(r) : "no masks") : "no answer");
        cJSON_Delete(r);
        return -1;
    }
    add_item(rec, tag, text);
    free(text);
    cJSON_Delete(r);
    return 0;
}

int flow_click(const server_client *c, const char *sid) {
    const double xy[2] = {0.5, 0.5};
    const int label = 1;
    char node[40], want[40];
    int status;
    cJSON *r = add_points(c, sid, 0, 1, xy, &label, 1, node, sizeof node, &status);
    node_of(sid, want, sizeof want);
    int ok = status == 200 && cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "addPoints") &&
             !strcmp(node, want);
    cJSON_Delete(r);
    return ok;
}

/* A mutation whose only variable is {"input": {"sessionId": sid}}: its data.<field>.success (1 or
 * 0; -1 when it has none) and the answering replica. */
static int success_op(const server_client *c, const char *document, const char *field,
                      const char *sid, char *node, size_t cap) {
    char vars[256];
    snprintf(vars, sizeof vars, "{\"input\":{\"sessionId\":\"%s\"}}", sid);
    int status;
    cJSON *r = gql_post(c, document, vars, &status, node, cap);
    const cJSON *ok =
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), field), "success");
    int result = status == 200 && cJSON_IsBool(ok) ? cJSON_IsTrue(ok) : -1;
    cJSON_Delete(r);
    return result;
}

int flow_close(const server_client *c, const char *sid) {
    char node[40];
    return success_op(c, FRONTEND_CLOSE_SESSION, "closeSession", sid, node, sizeof node);
}

/* ---- the stream --------------------------------------------------------------------------------
 */
typedef struct stream_ctx {
    http_stream *st;
    savi_reader *rd;
    flow_record *rec;
    const char *tag;
    int parts;       /* parts read */
    int record_upto; /* parts recorded (0: all) */
    int bad;
} stream_ctx;

static void on_part(void *user, const char *headers, const char *body, size_t len) {
    (void)headers;
    stream_ctx *s = user;
    s->parts++;
    if (s->record_upto && s->parts > s->record_upto) return;
    char *text = strndup(body, len);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *frame = cJSON_GetObjectItem(j, "frame_index");
    char *masks = masks_text(cJSON_GetObjectItem(j, "results"), "object_id", "mask");
    if (!cJSON_IsNumber(frame) || !masks) {
        s->bad++;
    } else {
        char tag[64];
        snprintf(tag, sizeof tag, "%s-part%d frame%d", s->tag, s->parts, frame->valueint);
        add_item(s->rec, tag, masks);
    }
    free(masks);
    cJSON_Delete(j);
}

/* Opens a propagation from `start`; NULL with the error recorded. */
static int stream_open(stream_ctx *s, const server_client *c, flow_record *rec, const char *tag,
                       int start, int record_upto) {
    memset(s, 0, sizeof *s);
    s->rec = rec;
    s->tag = tag;
    s->record_upto = record_upto;
    s->st = propagation_open(c, rec->sid, start);
    if (!s->st) {
        flow_error(rec, "%s: no answer", tag);
        return -1;
    }
    char node[40] = "", ct[256];
    if (!http_header(http_stream_headers(s->st), "X-Sam2-Node", node, sizeof node)) node[0] = 0;
    check_node(rec, node);
    if (http_stream_status(s->st) != 200 ||
        !http_header(http_stream_headers(s->st), "Content-Type", ct, sizeof ct)) {
        flow_error(rec, "%s: HTTP %d", tag, http_stream_status(s->st));
        return -1;
    }
    char why[256];
    s->rd = savi_new(ct, why, sizeof why);
    if (!s->rd) {
        flow_error(rec, "%s: %s", tag, why);
        return -1;
    }
    return 0;
}

/* Reads until `upto` parts were read (0: to the end). 0: more may come; 1: the stream ended
 * cleanly; -1: transport or format error (why in *err). */
static int stream_read(stream_ctx *s, int upto, const char **err) {
    char buf[16384];
    *err = NULL;
    while (!upto || s->parts < upto) {
        long n = http_stream_read(s->st, buf, sizeof buf);
        if (n < 0) {
            *err = "transport error";
            return -1;
        }
        if (n == 0) {
            if (savi_end(s->rd)) {
                *err = savi_error(s->rd);
                return -1;
            }
            return 1;
        }
        if (savi_feed(s->rd, buf, (size_t)n, on_part, s)) {
            *err = savi_error(s->rd);
            return -1;
        }
    }
    return 0;
}

static void stream_close(stream_ctx *s) {
    savi_free(s->rd);
    if (s->st) http_stream_close(s->st);
    memset(s, 0, sizeof *s);
}

/* Cancels the session's propagation and reads the stream to its end. */
static int cancel_and_finish(const server_client *c, stream_ctx *s, const char *tag) {
    char node[40];
    int ok = success_op(c, FRONTEND_CANCEL_PROPAGATION, "cancelPropagateInVideo", s->rec->sid, node,
                        sizeof node);
    check_node(s->rec, node);
    if (ok != 1) flow_error(s->rec, "%s: cancelPropagateInVideo answered %d", tag, ok);
    const char *err;
    int rc = stream_read(s, 0, &err);
    if (rc < 0) flow_error(s->rec, "%s after the cancel: %s", tag, err);
    return ok == 1 && rc == 1 ? 0 : -1;
}

/* After the session's replica died: what the frontend gets for its next requests. */
static int after_death(const server_client *c, flow_record *rec) {
    char want[256];
    snprintf(want, sizeof want, "Cannot find session %s; it might have expired", rec->sid);
    const double xy[2] = {0.5, 0.5};
    const int label = 1;
    char node[40];
    int status;
    cJSON *r = add_points(c, rec->sid, 0, 1, xy, &label, 1, node, sizeof node, &status);
    const char *msg = gql_error_message(r);
    if (status != 200 || !msg || strcmp(msg, want))
        flow_error(rec, "a click after the replica died: HTTP %d, '%s' (want '%s')", status,
                   msg ? msg : "", want);
    cJSON_Delete(r);
    http_stream *st = propagation_open(c, rec->sid, 0);
    if (!st) {
        flow_error(rec, "a propagation after the replica died: no answer");
    } else {
        char text[1024] = "";
        long n = 0, got;
        while (n < (long)sizeof text - 1 &&
               (got = http_stream_read(st, text + n, sizeof text - 1 - (size_t)n)) > 0)
            n += got;
        text[n > 0 ? n : 0] = 0;
        if (http_stream_status(st) != 404 || !strstr(text, want))
            flow_error(rec, "a propagation after the replica died: HTTP %d, %s",
                       http_stream_status(st), text);
        http_stream_close(st);
    }
    int closed = success_op(c, FRONTEND_CLOSE_SESSION, "closeSession", rec->sid, node, sizeof node);
    if (closed != 0)
        flow_error(rec, "closeSession after the replica died answered %d (want false)", closed);
    return rec->error[0] ? -1 : 0;
}

int run_flow(const server_client *c, const flow_spec *spec, const flow_pause *pause,
             flow_record *rec) {
    memset(rec, 0, sizeof *rec);
    int status;
    char msg[512];
    char *sid =
        flow_start_session(c, spec->video, rec->node, sizeof rec->node, &status, msg, sizeof msg);
    if (!sid) {
        flow_error(rec, "startSession: HTTP %d, %s", status, msg);
        if (pause) { /* keep the other flows' barriers whole */
            pthread_barrier_wait(pause->reached);
            pthread_barrier_wait(pause->resume);
        }
        return -1;
    }
    snprintf(rec->sid, sizeof rec->sid, "%s", sid);
    free(sid);
    check_node(rec, rec->node);
    const double p1[2] = {spec->x1, spec->y1}, p2[2] = {spec->x2, spec->y2};
    const int one = 1;
    int failed = click_item(c, rec, "click1", 0, 1, p1, &one, 1) ||
                 click_item(c, rec, "click2", 0, 2, p2, &one, 1);

    stream_ctx s;
    const char *err = NULL;
    int rc = 0;
    if (!failed && stream_open(&s, c, rec, "stream", 0, spec->stream_parts) == 0) {
        if (pause) {
            rc = stream_read(&s, pause->after_parts, &err);
            if (rc != 0)
                flow_error(rec, "stream ended before the pause (%s)", err ? err : "clean end");
        }
    } else {
        failed = 1;
    }
    if (pause) {
        pthread_barrier_wait(pause->reached);
        pthread_barrier_wait(pause->resume);
    }
    char node[40];
    node_of(rec->sid, node, sizeof node);
    const int expect_death = pause && pause->victim[0] && !strcmp(pause->victim, node);
    if (!failed && rc == 0) {
        rc = stream_read(&s, spec->stream_parts, &err);
        if (expect_death) {
            rec->stream_broken = rc != 0 || spec->stream_parts == 0 || s.parts < spec->stream_parts;
            stream_close(&s);
            if (!rec->stream_broken)
                flow_error(rec, "the stream went on after its replica was killed");
            return after_death(c, rec) || rec->error[0] ? -1 : 0;
        }
        if (rc < 0)
            flow_error(rec, "stream: %s", err);
        else if (spec->stream_parts && rc == 0)
            cancel_and_finish(c, &s, "stream");
        if (s.bad) flow_error(rec, "stream: %d parts without masks", s.bad);
    }
    if (s.rd || s.st) stream_close(&s);
    if (!rec->error[0] && spec->correction) {
        /* A correction on frame 4 (a negative point beside the positive one), then a propagation
         * from there cancelled after its first two frames. */
        const double xy[4] = {spec->x1, spec->y1, spec->x1 + 0.04, spec->y1 + 0.04};
        const int labels[2] = {1, 0};
        if (!click_item(c, rec, "correction", 4, 1, xy, labels, 2) &&
            !stream_open(&s, c, rec, "cancelled", 4, 2)) {
            rc = stream_read(&s, 2, &err);
            if (rc != 0)
                flow_error(rec, "cancelled stream: %s", err ? err : "ended before two frames");
            else
                cancel_and_finish(c, &s, "cancelled stream");
        }
        if (s.rd || s.st) stream_close(&s);
    }
    int closed = success_op(c, FRONTEND_CLOSE_SESSION, "closeSession", rec->sid, node, sizeof node);
    check_node(rec, node);
    if (closed != 1) flow_error(rec, "closeSession answered %d", closed);
    return rec->error[0] ? -1 : 0;
}

void flow_record_free(flow_record *rec) {
    for (int i = 0; i < rec->n_items; i++) free(rec->items[i]);
    rec->n_items = 0;
}

int flow_compare(const flow_record *ref, const flow_record *got, int prefix_only, char *why,
                 size_t cap) {
    int n = prefix_only && got->n_items < ref->n_items ? got->n_items : ref->n_items;
    if (!prefix_only && got->n_items != ref->n_items) {
        snprintf(why, cap, "%d answers with masks, the single server gave %d", got->n_items,
                 ref->n_items);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (i >= got->n_items || strcmp(ref->items[i], got->items[i])) {
            snprintf(why, cap, "answer %d differs: '%.60s...' vs the single server's '%.60s...'", i,
                     i < got->n_items ? got->items[i] : "(none)", ref->items[i]);
            return -1;
        }
    }
    return 0;
}
