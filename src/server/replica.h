/* `sam2 serve` as one of several replicas behind a proxy (deploy/haproxy.cfg, docs/server.md
 * "Several replicas"):
 *
 * - readiness: GET /ready answers 200 while a new session can start here, 503 (with the reason)
 *   while it cannot: at MAX_SESSIONS, over the memory budget, draining or stopping. /healthy keeps
 *   meaning "the process is alive", so a proxy keeps routing a session's requests to a replica
 *   that is full or draining, and only new sessions go elsewhere.
 * - draining (SIGTERM, --drain-after, POST /drain on the admin listener): new sessions are refused
 *   (HTTP 503, so a proxy can retry them on another replica), the running streams and the live
 *   sessions are served until they end or DRAIN_TIMEOUT passes; then server_drained says so and
 *   the caller stops the server.
 * - the admin listener: a second HTTP listener bound to 127.0.0.1 only (--admin-port), never
 *   behind the proxy, with POST /drain and GET /status.
 * - every answer carries "X-Sam2-Node: <node id>" on a named replica, so a client (or a test) sees
 *   which replica answered. */
#ifndef SAM2_SERVER_REPLICA_H
#define SAM2_SERVER_REPLICA_H

#include "sam2.h"
#include "server/strbuf.h"

#include <microhttpd.h>
#include <stddef.h>

struct server;
struct http_req;
struct request_ctx;

typedef struct replica replica;

replica *replica_new(void);
void replica_free(replica *r);

/* Server start-up done (for --drain-after). */
void replica_started(struct server *s);
/* Called every second by the server's reaper thread: starts the drain --drain-after asks for and
 * logs a draining replica's progress. */
void replica_tick(struct server *s);

/* HTTP requests in flight (http.c counts them), so a drain ends only once the answer to the last
 * session's closeSession has gone out. */
void replica_request_begin(struct server *s);
void replica_request_end(struct server *s);

/* 1 when a new session could start here now; 0 with the reason in why. */
int replica_ready(struct server *s, char *why, size_t cap);

/* startSession's gate: 0 when sessions may start; while draining, fails with a message and sets
 * the request's HTTP status to 503 (a proxy then retries the request on another replica). */
int replica_refuse_session(struct server *s, struct request_ctx *rc, sam2_error *err);

/* GET /ready on the main listener. */
enum MHD_Result replica_ready_handle(struct http_req *r);
/* Appends sam2_ready, sam2_draining and sam2_node_info to /metrics. */
void replica_metrics(struct server *s, strbuf *out);

/* Draining (server.h's server_drain, server_draining, server_drained, server_admin_port). */
void replica_drain(struct server *s, const char *why);
int replica_draining(const struct server *s);
int replica_drained(struct server *s);
int replica_admin_port(const struct server *s);

/* The loopback admin listener (cfg.admin_port >= 0). */
int replica_admin_start(struct server *s, sam2_error *err);
void replica_admin_stop(struct server *s);

#endif
