/* Responses: CORS as flask-cors answers a credentialed browser, the X-Sam2-Node header, JSON
 * bodies and errors, and what a handler may ask about its client. */
#include "server/http_response.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- CORS ----------------------------------------------------------------------------------- */
int http_origin_allowed(const server *s, const char *origin) {
    const char *list = s->cfg.allowed_origins;
    if (!list[0]) return 1;
    size_t olen = strlen(origin);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',') p++;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > p && t[-1] == ' ') t--;
        if ((size_t)(t - p) == olen && !strncmp(p, origin, olen)) return 1;
        if (t - p == 1 && *p == '*') return 1;
        p = e;
    }
    return 0;
}

/* The page served by this server itself (Origin "http://<Host>"): always allowed. */
static int same_origin(http_req *r, const char *origin) {
    const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
    const char *rest = !strncasecmp(origin, "http://", 7)    ? origin + 7
                       : !strncasecmp(origin, "https://", 8) ? origin + 8
                                                             : NULL;
    return host && rest && !strcasecmp(rest, host);
}

/* A request from a page whose origin ALLOWED_ORIGINS does not list, or NULL. */
const char *http_refused_origin(http_req *r) {
    const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
    if (!origin || http_origin_allowed(r->srv, origin) || same_origin(r, origin)) return NULL;
    return origin;
}

static void add_cors(http_req *r, struct MHD_Response *resp) {
    const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
    if (!origin || !http_origin_allowed(r->srv, origin)) return;
    /* A credentialed request cannot be answered with "*": echo the origin, as flask-cors does
     * with supports_credentials=True. */
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
    MHD_add_response_header(resp, "Access-Control-Allow-Credentials", "true");
    MHD_add_response_header(resp, "Vary", "Origin");
}

/* ---- responses ------------------------------------------------------------------------------ */
enum MHD_Result http_queue(http_req *r, unsigned status, struct MHD_Response *resp) {
    if (!resp) return MHD_NO;
    add_cors(r, resp);
    if (r->srv->cfg.node_id[0]) MHD_add_response_header(resp, "X-Sam2-Node", r->srv->cfg.node_id);
    r->status = status;
    r->responded = 1;
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result http_send(http_req *r, unsigned status, const char *content_type, const char *data,
                          size_t len) {
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    if (content_type) MHD_add_response_header(resp, "Content-Type", content_type);
    return http_queue(r, status, resp);
}

enum MHD_Result http_json(http_req *r, unsigned status, cJSON *value) {
    char *text = value ? cJSON_PrintUnformatted(value) : NULL;
    cJSON_Delete(value);
    if (!text) return http_send(r, 500, "application/json", "{\"error\":\"out of memory\"}", 25);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback(strlen(text), text, cJSON_free);
    if (!resp) {
        cJSON_free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    return http_queue(r, status, resp);
}

enum MHD_Result http_error(http_req *r, unsigned status, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    if (o) cJSON_AddStringToObject(o, "error", msg);
    return http_json(r, status, o);
}

enum MHD_Result http_graphql_error(http_req *r, unsigned status, const char *message) {
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = o ? cJSON_AddArrayToObject(o, "errors") : NULL;
    cJSON *e = cJSON_CreateObject();
    if (arr && e) {
        cJSON_AddStringToObject(e, "message", message);
        cJSON_AddItemToArray(arr, e);
    } else {
        cJSON_Delete(e);
    }
    return http_json(r, status, o);
}

static enum MHD_Result last_forwarded_for(void *cls, enum MHD_ValueKind kind, const char *key,
                                          const char *value) {
    (void)kind;
    if (key && value && !strcasecmp(key, "X-Forwarded-For")) *(const char **)cls = value;
    return MHD_YES;
}

void http_client_address(http_req *r, char *out, size_t cap) {
    out[0] = 0;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    client_addr_text(sa, out, cap);
    if (!client_addr_trusted(r->srv->cfg.trusted_proxies, sa)) return;
    /* Each hop appends a header line: the last one is the trusted proxy's own. */
    const char *xff = NULL;
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, last_forwarded_for, &xff);
    char forwarded[CLIENT_ADDR_MAX];
    if (!client_addr_forwarded(xff, forwarded, sizeof forwarded))
        snprintf(out, cap, "%s", forwarded);
}

int http_client_fd(http_req *r) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}
