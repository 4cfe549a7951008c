/* The route handlers the router (http.c) dispatches to, each in its own file. They answer
 * through http_response.h and never call the router. */
#ifndef SAM2_SERVER_HTTP_ROUTES_H
#define SAM2_SERVER_HTTP_ROUTES_H

#include "server/http_response.h"

enum MHD_Result static_serve(http_req *r, const char *root, const char *rel);
enum MHD_Result graphql_handle(http_req *r);
enum MHD_Result propagate_handle(http_req *r);
/* GET /export/<session_id>/masks.json | masks.zip | overlay.mp4 | effects.mp4, and POST of
 * effects.mp4 with a background image as the body (export.c). */
enum MHD_Result export_handle(http_req *r, const char *url, int post);
/* The web page at "/" (web_static.c). */
int web_static_handles(const char *url);
enum MHD_Result web_static_serve(http_req *r, const char *url);

#endif
