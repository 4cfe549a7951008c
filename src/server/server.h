/* `sam2 serve`: a drop-in replacement for Meta's SAM 2 demo backend (GraphQL on /graphql, the
 * multipart/x-savi-stream propagation on /propagate_in_video, static gallery/posters/uploads,
 * /healthy, /metrics). server_create loads the model and the gallery; server_start listens. */
#ifndef SAM2_SERVER_SERVER_H
#define SAM2_SERVER_SERVER_H

#include "server/config.h"
#include "server/server_deps.h"

typedef struct server server;

/* Checks the data folder, loads the checkpoint, scans the gallery (writing posters). A missing
 * checkpoint or data folder fails with a message that says what to put where. */
server *server_create(const server_config *cfg, const server_deps *deps, sam2_error *err);
/* Starts listening (port 0: a free port, see server_port). */
int server_start(server *s, sam2_error *err);
int server_port(const server *s);
/* For the program that runs the server (`sam2 serve`), after server_create and before
 * server_start, when its only other threads are the compute libraries' (the thread pool's
 * workers, OpenBLAS's): lowers them to COMPUTE_NICE and SCHED_BATCH, so that with the model's
 * calls (server/compute.h) all compute runs below the HTTP threads. */
void server_lower_library_threads(server *s);
/* Draining, for a replica that is about to stop (docs/server.md "Several replicas"): new sessions
 * are refused and /ready answers 503, while the live sessions and the running streams are served.
 * server_drained is 1 once they have all ended or DRAIN_TIMEOUT has passed since server_drain;
 * the caller then stops the server. server_drain may be called from any thread, more than once. */
void server_drain(server *s, const char *why);
int server_draining(const server *s);
int server_drained(server *s);
/* The admin listener's port on 127.0.0.1 (--admin-port; 0 picks one), or -1 when there is none. */
int server_admin_port(const server *s);
/* Stops listening, cancels every propagation, waits for requests in flight. */
void server_stop(server *s);
void server_free(server *s);

#endif
