/* POST /propagate_in_video {"session_id", "start_frame_index"}: answers
 * multipart/x-savi-stream; boundary=frame, one part per frame as soon as it is computed. Errors
 * found before the first frame get a JSON error with a status; after that the stream can only
 * be cut short. */
#include "server/http_routes.h"

#include "sam2.h"
#include "server/json_body.h"
#include "server/stream.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader_ctx {
    prop_stream *st;
    int fd;
} reader_ctx;

static ssize_t read_part(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    reader_ctx *rc = cls;
    ssize_t n = stream_read(rc->st, buf, max, rc->fd);
    /* A client that left is not an error of the response (the stream logged it once): ending the
     * body keeps libmicrohttpd from logging "application error generating response". */
    if (n == STREAM_END || n == STREAM_GONE) return MHD_CONTENT_READER_END_OF_STREAM;
    if (n == STREAM_ERROR) return MHD_CONTENT_READER_END_WITH_ERROR;
    return n;
}

static void free_reader(void *cls) {
    reader_ctx *rc = cls;
    stream_release(rc->st);
    free(rc);
}

/* The request was checked before the propagation started (session, frame, prompts): what fails
 * after that is the server's problem (a frame it cannot decode, its disk, its memory), 5xx. */
static unsigned status_for(int code) {
    switch (code) {
    case SAM2_ERR_LIMIT:
        return 503;
    case SAM2_ERR_STATE:
        return 409;
    case SAM2_ERR_ARGUMENT:
        return 400;
    default:
        return 500;
    }
}

enum MHD_Result propagate_handle(http_req *r) {
    server *s = r->srv;
    char msg[400];
    cJSON *body = json_body_parse(r->body.data, r->body.len, 1000, msg, sizeof msg);
    if (!body) return http_error(r, 400, "%s", msg);
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(body, "session_id");
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(body, "start_frame_index");
    if (!cJSON_IsObject(body) || !cJSON_IsString(sid)) {
        cJSON_Delete(body);
        return http_error(r, 400,
                          "The body must be a JSON object with \"session_id\" (a string) and "
                          "\"start_frame_index\" (an integer)");
    }
    double start_frame = 0;
    if (start && !cJSON_IsNull(start)) {
        if (!cJSON_IsNumber(start) || start->valuedouble != floor(start->valuedouble)) {
            cJSON_Delete(body);
            return http_error(r, 400, "\"start_frame_index\" must be an integer");
        }
        start_frame = start->valuedouble; /* any size: the range is checked against the video */
    }
    sam2_error err = {0};
    session *ses = sessions_get(s->sessions, sid->valuestring, &err);
    cJSON_Delete(body);
    if (!ses) return http_error(r, 404, "%s", err.message);
    int n = session_frame_count(ses);
    if (start_frame < 0 || start_frame >= n) {
        session_unref(ses);
        return http_error(r, 400,
                          "start_frame_index %.0f is out of range: the video has %d frames (0-%d)",
                          start_frame, n, n - 1);
    }
    /* A newer propagation in the same session replaces the one in flight. */
    if (session_is_propagating(ses)) session_request_cancel(ses);
    if (session_begin(ses, s->cfg.timeout_s * 1000, &err)) {
        session_unref(ses);
        return http_error(r, strstr(err.message, "Cannot find session") ? 404 : 409, "%s",
                          err.message);
    }
    if (session_check_spill(ses, s->cfg.spill_max_mb, &err)) {
        session_end(ses);
        session_unref(ses);
        return http_error(r, 507, "%s", err.message);
    }
    inf_session_stats held = {0};
    s->inf->stats(s->inf->self, session_tracker(ses), &held);
    if (held.objects == 0) {
        char id[SESSION_ID_LEN + 1];
        snprintf(id, sizeof id, "%s", session_id(ses));
        session_end(ses);
        session_unref(ses);
        return http_error(
            r, 400, "No points or masks were added in session %s; add some before propagating", id);
    }
    prop_stream *st =
        stream_start(s, ses, (int)start_frame, &err); /* owns the session use from here */
    if (!st) return http_error(r, 500, "%s", err.message);
    int fd = http_client_fd(r);
    if (stream_wait_first(st, fd, &err)) {
        stream_release(st);
        return http_error(r, status_for(err.code), "%s", err.message);
    }
    reader_ctx *rc = malloc(sizeof *rc);
    if (!rc) {
        stream_release(st);
        return http_error(r, 500, "out of memory");
    }
    rc->st = st;
    rc->fd = fd;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, read_part, rc, free_reader);
    if (!resp) {
        free_reader(rc);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "multipart/x-savi-stream; boundary=frame");
    return http_queue(r, 200, resp);
}
