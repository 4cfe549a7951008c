/* sam2-cluster (make test-cluster): three `sam2 serve` replicas with the micro checkpoint behind a
 * real HAProxy running deploy/haproxy.cfg, all on the loopback address, driven the way the
 * official frontend drives one server. Checks: six clients' flows at once through the proxy give
 * masks byte-identical to the same flows against a single server; each session's requests reach
 * one replica (the X-Sam2-Node header of every answer, and each replica's /metrics); an upload
 * through the proxy opens as a session on every replica, and is transcoded once; kill -9 of a
 * replica mid-stream gives its clients the official "Cannot find session" error and leaves the
 * other clients' masks identical; draining a replica during a stream loses no frame, new sessions
 * go elsewhere and the drained replica exits 0. `sam2-cluster --bench SECONDS` measures
 * requests/s and click latency through the proxy with three replicas against one. */
#ifndef SAM2_CLUSTER_H
#define SAM2_CLUSTER_H

#include "support/server_client.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

/* ---- processes (cluster_procs.c) ---- */
typedef struct proc {
    pid_t pid;
    int exited, status;
    char log_path[1024];
    char name[16];
    int port, admin_port;
} proc;

/* What every replica is started with. */
typedef struct replica_setup {
    const char *sam2;       /* the sam2 binary */
    const char *checkpoint; /* micro checkpoint and its YAML */
    const char *config;
    const char *data_dir; /* the shared DATA_PATH */
    const char *work_dir; /* logs, spill folders */
    int threads;
} replica_setup;

/* Starts `sam2 serve` (node id `node`, or a plain server when NULL) on a free port of
 * 127.0.0.1 with an admin listener, and waits for it to listen. 0 or -1 with why. */
int replica_start(proc *p, const replica_setup *rs, const char *node, char *why, size_t cap);
/* Starts haproxy -f cfg with the replicas' ports and free ports for the proxy and its stats;
 * waits until the stats page shows the given servers UP in both backends (a replica port of 0
 * is a closed port: that server stays DOWN). */
int haproxy_start(proc *p, const char *haproxy, const char *cfg, const char *work_dir,
                  const int replica_ports[3], int up_mask, int *proxy_port, int *stats_port,
                  char *why, size_t cap);
/* 1 while running; 0 once exited (p->status holds the wait status). */
int proc_alive(proc *p);
/* Sends sig and waits up to wait_ms for the exit; the exit code, or -1 (killed by a signal or still
 * running, then killed). */
int proc_stop(proc *p, int sig, int wait_ms);
/* The server state ("UP", "DOWN", "NOLB", ...) of backend/server on the stats page; "" if unknown.
 */
void haproxy_server_state(int stats_port, const char *backend, const char *server, char *out,
                          size_t cap);
/* Waits up to ms until backend/server is in `state`; 1 when it is. */
int haproxy_wait_state(int stats_port, const char *backend, const char *server, const char *state,
                       int ms);
/* A TCP port of 127.0.0.1 that is free now. */
int free_port(void);
/* Sum of the samples of a metric whose name and labels start with `prefix` in a /metrics text. */
double metric_sum(const char *metrics, const char *prefix);

/* ---- failures (cluster_main.c) ---- */
void cluster_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
long cluster_failures(void);

/* ---- the frontend's flow (cluster_flow.c) ---- */
typedef struct flow_spec {
    const char *video;     /* as given to startSession */
    double x1, y1, x2, y2; /* object 1 and 2 clicks on frame 0 (normalised) */
    int stream_parts;      /* parts of the first propagation read before cancelling (0: all) */
    int correction; /* a correction click on frame 4, then a propagation cancelled after 2 parts */
} flow_spec;

/* A pause in the first stream, for kill and drain phases: after `after_parts` parts the client
 * waits at `reached`, then at `resume` (the main thread acts in between: it may kill a replica and
 * name it in `victim`, whose sessions' flows then check what the frontend gets afterwards). */
typedef struct flow_pause {
    int after_parts;
    pthread_barrier_t *reached, *resume;
    char victim[40];
} flow_pause;

#define FLOW_MAX_ITEMS 1024

/* What a flow saw, in order: one line per answer with masks ("click1 <masks>", "part <k> <frame>
 * <masks>", ...), compared line by line with the single server's. */
typedef struct flow_record {
    char sid[128];
    char node[40]; /* X-Sam2-Node of startSession's answer */
    char *items[FLOW_MAX_ITEMS];
    int n_items;
    int requests;      /* graphql + propagate requests answered */
    int wrong_node;    /* answers from another replica than the session's */
    int stream_broken; /* the first stream ended in a transport error (its replica died) */
    char error[512];   /* the first unexpected failure, "" when none */
} flow_record;

/* Runs the flow against c (a replica or the proxy). pause may be NULL. Returns 0 when every step
 * answered as expected; -1 with rec->error set otherwise. */
int run_flow(const server_client *c, const flow_spec *spec, const flow_pause *pause,
             flow_record *rec);
void flow_record_free(flow_record *rec);
/* Compares a flow's answers with masks with the reference's: the same, in the same order (or, with
 * prefix_only, got's are the first of ref's). 0 when equal; why otherwise. */
int flow_compare(const flow_record *ref, const flow_record *got, int prefix_only, char *why,
                 size_t cap);

/* startSession on `video` through c: the id or NULL; node gets the answering replica. */
char *flow_start_session(const server_client *c, const char *video, char *node, size_t cap,
                         int *status, char *msg, size_t msg_cap);
/* A click on frame 0 (object 1): 1 when answered with masks by the session's replica. */
int flow_click(const server_client *c, const char *sid);
int flow_close(const server_client *c, const char *sid);

#endif
