/* The HTTP layer's request state and response helpers, shared by the route files
 * (http.c: daemon, routing, CORS, bodies; static.c; http_graphql.c; http_propagate.c). */
#ifndef SAM2_SERVER_HTTP_INTERNAL_H
#define SAM2_SERVER_HTTP_INTERNAL_H

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
    char error[400];      /* an error found while the body arrived */
    unsigned error_status;
} http_req;

/* Queues a response with the CORS headers the request calls for; takes `resp`. */
enum MHD_Result http_queue(http_req *r, unsigned status, struct MHD_Response *resp);
/* Queues a copy of `len` bytes. */
enum MHD_Result http_send(http_req *r, unsigned status, const char *content_type, const char *data, size_t len);
/* Queues {"error": "<message>"} (non-GraphQL routes). */
enum MHD_Result http_error(http_req *r, unsigned status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Queues {"errors": [{"message": "<message>"}]} (the /graphql route). */
enum MHD_Result http_graphql_error(http_req *r, unsigned status, const char *message);
/* Queues the JSON value (taken). */
enum MHD_Result http_json(http_req *r, unsigned status, cJSON *value);

enum MHD_Result static_serve(http_req *r, const char *root, const char *rel);
enum MHD_Result graphql_handle(http_req *r);
enum MHD_Result propagate_handle(http_req *r);
/* GET /export/<session_id>/masks.json | masks.zip | overlay.mp4 | effects.mp4, and POST of
 * effects.mp4 with a background image as the body (export.c). */
enum MHD_Result export_handle(http_req *r, const char *url, int post);
/* The web page at "/" (web_static.c). */
int web_static_handles(const char *url);
enum MHD_Result web_static_serve(http_req *r, const char *url);

/* The client's address as text ("" when unknown). */
void http_client_address(http_req *r, char *out, size_t cap);
/* Socket of the request's connection (for noticing a client that leaves), or -1. */
int http_client_fd(http_req *r);

#endif
