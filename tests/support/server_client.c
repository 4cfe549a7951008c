#include "support/server_client.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cJSON *gql_call(const server_client *c, const char *query, const char *variables_json) {
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "query", query);
    if (variables_json) cJSON_AddItemToObject(body, "variables", cJSON_Parse(variables_json));
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    char headers[1024];
    snprintf(headers, sizeof headers, "Content-Type: application/json\r\n%s",
             c->extra_headers ? c->extra_headers : "");
    http_response r;
    assert_int_equal(
        http_request(c->port, "POST", "/graphql", headers, text, strlen(text), &r, c->timeout_ms),
        0);
    free(text);
    if (r.status != 200) fail_msg("status %d: %s", r.status, r.body);
    cJSON *j = cJSON_Parse(r.body);
    assert_non_null(j);
    http_response_free(&r);
    return j;
}

cJSON *gql_post(const server_client *c, const char *query, const char *variables_json, int *status,
                char *node, size_t node_cap) {
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "query", query);
    if (variables_json) cJSON_AddItemToObject(body, "variables", cJSON_Parse(variables_json));
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    char headers[1024];
    snprintf(headers, sizeof headers, "Content-Type: application/json\r\n%s",
             c->extra_headers ? c->extra_headers : "");
    http_response r;
    *status = 0;
    if (node && node_cap) node[0] = 0;
    int rc = text ? http_request(c->port, "POST", "/graphql", headers, text, strlen(text), &r,
                                 c->timeout_ms)
                  : -1;
    free(text);
    if (rc) return NULL;
    *status = r.status;
    if (node && node_cap && !http_header(r.headers, "X-Sam2-Node", node, node_cap)) node[0] = 0;
    cJSON *j = cJSON_Parse(r.body);
    http_response_free(&r);
    return j;
}

const char *gql_error_message(const cJSON *resp) {
    const cJSON *errs = cJSON_GetObjectItem(resp, "errors");
    const cJSON *m = cJSON_GetObjectItem(cJSON_GetArrayItem(errs, 0), "message");
    return cJSON_IsString(m) ? m->valuestring : NULL;
}

/* data.<field>.<key> of an answer. */
static const cJSON *data_item(const cJSON *resp, const char *field, const char *key) {
    return cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "data"), field), key);
}

/* A mutation whose only variable is {"input": {"sessionId": sid}}: data.<field>.success. */
static int session_success(const server_client *c, const char *document, const char *field,
                           const char *sid) {
    char vars[256];
    snprintf(vars, sizeof vars, "{\"input\":{\"sessionId\":\"%s\"}}", sid);
    cJSON *r = gql_call(c, document, vars);
    const cJSON *ok = data_item(r, field, "success");
    const int result = cJSON_IsBool(ok) ? cJSON_IsTrue(ok) : -1;
    cJSON_Delete(r);
    return result;
}

char *gql_start_session(const server_client *c, const char *path, char *why, size_t cap) {
    char vars[512];
    snprintf(vars, sizeof vars, "{\"input\":{\"path\":\"%s\"}}", path);
    cJSON *r = gql_call(c, FRONTEND_START_SESSION, vars);
    const cJSON *sid = data_item(r, "startSession", "sessionId");
    char *id = cJSON_IsString(sid) ? strdup(sid->valuestring) : NULL;
    if (!id && why) snprintf(why, cap, "%s", gql_error_message(r) ? gql_error_message(r) : "?");
    cJSON_Delete(r);
    return id;
}

int gql_close_session(const server_client *c, const char *sid) {
    return session_success(c, FRONTEND_CLOSE_SESSION, "closeSession", sid);
}

int gql_cancel_propagation(const server_client *c, const char *sid) {
    return session_success(c, FRONTEND_CANCEL_PROPAGATION, "cancelPropagateInVideo", sid);
}

int frontend_upload(int port, const char *filename, const void *content, size_t len,
                    http_response *r, int timeout_ms) {
    const char *boundary = "----sam2testboundaryXYZ";
    size_t n;
    char *body =
        http_upload_body(boundary, FRONTEND_UPLOAD_OPERATIONS, "file", filename, content, len, &n);
    if (!body) return -1;
    char headers[256];
    snprintf(headers, sizeof headers, "Content-Type: multipart/form-data; boundary=%s\r\n",
             boundary);
    int rc = http_request(port, "POST", "/graphql", headers, body, n, r, timeout_ms);
    free(body);
    return rc;
}

http_stream *propagation_open(const server_client *c, const char *sid, int start) {
    char body[256];
    snprintf(body, sizeof body, "{\"session_id\": \"%s\", \"start_frame_index\": %d}", sid, start);
    return http_stream_open(c->port, "POST", "/propagate_in_video",
                            "Content-Type: application/json\r\n", body, strlen(body),
                            c->timeout_ms);
}

const char *propagation_read(http_stream *s, savi_part_fn fn, void *user, const int *parts_seen,
                             int max_parts) {
    static _Thread_local char err[256];
    char ct[256];
    if (http_stream_status(s) != 200) return "status is not 200";
    if (!http_header(http_stream_headers(s), "Content-Type", ct, sizeof ct))
        return "no Content-Type header";
    savi_reader *rd = savi_new(ct, err, sizeof err);
    if (!rd) return err;
    char buf[16384];
    const char *result = NULL;
    for (;;) {
        long n = http_stream_read(s, buf, sizeof buf);
        if (n < 0) {
            result = "transport error";
            break;
        }
        if (n == 0) {
            if (savi_end(rd)) result = savi_error(rd);
            break;
        }
        if (savi_feed(rd, buf, (size_t)n, fn, user)) {
            result = savi_error(rd);
            break;
        }
        if (max_parts && *parts_seen >= max_parts) break;
    }
    if (result) {
        snprintf(err, sizeof err, "%s", result);
        result = err;
    }
    savi_free(rd);
    return result;
}
