/* A request as the router hands it to a handler, and the helpers a handler answers it with
 * (http_response.c). The router (http.c) calls the handlers; the handlers call only these. */
#ifndef SAM2_SERVER_HTTP_RESPONSE_H
#define SAM2_SERVER_HTTP_RESPONSE_H

#include "server/server_internal.h"
#include "server/strbuf.h"
#include "server/upload.h"

#include <cjson/cJSON.h>
#include <microhttpd.h>

typedef enum body_kind { BODY_NONE, BODY_JSON, BODY_MULTIPART, BODY_DISCARD, BODY_RAW } body_kind;

typedef struct http_req {
    server *srv;
    struct MHD_Connection *conn;
    metrics_route route;
    double t0;
    unsigned status; /* status of the response queued (for metrics) */
    int responded;
    body_kind kind;
    strbuf body;
    size_t received, limit;
    upload_req *upload;
    char error[400]; /* an error found while the body arrived */
    unsigned error_status;
} http_req;

/* Queues a response with the CORS headers the request calls for; takes `resp`. */
enum MHD_Result http_queue(http_req *r, unsigned status, struct MHD_Response *resp);
/* Queues a copy of `len` bytes. */
enum MHD_Result http_send(http_req *r, unsigned status, const char *content_type, const char *data,
                          size_t len);
/* Queues {"error": "<message>"} (non-GraphQL routes). */
enum MHD_Result http_error(http_req *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Queues {"errors": [{"message": "<message>"}]} (the /graphql route). */
enum MHD_Result http_graphql_error(http_req *r, unsigned status, const char *message);
/* Queues the JSON value (taken). */
enum MHD_Result http_json(http_req *r, unsigned status, cJSON *value);

/* The client's address as text ("" when unknown). */
void http_client_address(http_req *r, char *out, size_t cap);
/* Socket of the request's connection (for noticing a client that leaves), or -1. */
int http_client_fd(http_req *r);

/* Whether ALLOWED_ORIGINS lets a page of `origin` read the answers (CORS). */
int http_origin_allowed(const server *s, const char *origin);
/* The Origin of a request from a page ALLOWED_ORIGINS does not list (nor this server's own
 * page), or NULL. */
const char *http_refused_origin(http_req *r);

#endif
