/* The HTTP listener (http.c): started and stopped by the server's lifecycle (server.c). */
#ifndef SAM2_SERVER_HTTP_H
#define SAM2_SERVER_HTTP_H

#include "sam2.h"

struct server;

int http_start(struct server *s, sam2_error *err);
void http_stop(struct server *s);

#endif
