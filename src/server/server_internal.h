/* The server's state, shared by its parts (HTTP routes, GraphQL resolvers, streams). */
#ifndef SAM2_SERVER_SERVER_INTERNAL_H
#define SAM2_SERVER_SERVER_INTERNAL_H

#include "server/catalog.h"
#include "server/client_addr.h"
#include "server/compute.h"
#include "server/config.h"
#include "server/graphql/gql_schema.h"
#include "server/inference.h"
#include "server/ingest.h"
#include "server/metrics.h"
#include "server/scheduler.h"
#include "server/server_deps.h"
#include "server/sessions.h"
#include "server/upload_queue.h"

#include <limits.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>

struct MHD_Daemon;
struct replica;

typedef struct server server;

struct server {
    server_config cfg;
    server_deps deps;
    const inference_ops
        *inf; /* deps.inference, or compute.ops when the model runs at a lower priority */
    compute_ops compute;
    const ingest_ops *ingest;
    inf_model *model;
    inf_model_info model_info;
    char data_real[PATH_MAX]; /* realpath(DATA_PATH) */
    catalog *videos;
    fair_sched *sched;
    session_table *sessions;
    gql_schema *schema;
    metrics *metrics;
    struct MHD_Daemon *daemon;
    int port;
    atomic_int stopping;
    atomic_int streams; /* propagations in flight */
    /* Memory held by requests outside sessions (addMask buffers, uploads being transcoded). */
    atomic_llong job_bytes;
    upload_queue uploads; /* MAX_CONCURRENT_UPLOADS */
    pthread_t reaper;
    int reaper_running;
    pthread_mutex_t reaper_mu;
    pthread_cond_t reaper_cv;
    struct replica *replica; /* readiness, draining, admin listener (replica.c) */
    conn_table conns;        /* MAX_CONNECTIONS_PER_IP (http.c) */
};

/* One file part of a GraphQL multipart request, saved to a temporary file. */
typedef struct upload_file {
    char path[PATH_MAX];
    char filename[256];
    char content_type[128];
    size_t size;
} upload_file;

/* What resolvers see as their `app`: the server and this request's files. */
typedef struct request_ctx {
    server *srv;
    upload_file *files;
    int n_files;
    void *upload;    /* the upload_req of a multipart request (placeholders -> files), or NULL */
    char client[64]; /* the client's address (MAX_SESSIONS_PER_IP), "" when unknown */
    unsigned http_status; /* 0: 200; a resolver may ask for another (503 for a draining replica) */
} request_ctx;

/* server_internal.c: */
/* Counts memory a request holds outside its session (delta > 0 taken, < 0 given back): shown in
 * /metrics and counted against MAX_MEMORY_MB when a session starts. */
void server_job_bytes(server *s, ptrdiff_t delta);

/* Log a line (start-up and warnings). */
void server_log(server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
