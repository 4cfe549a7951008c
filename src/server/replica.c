#include "server/replica.h"

#include "sam2.h"
#include "server/http_response.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seconds between two progress lines of a draining replica. */
#define DRAIN_LOG_EVERY_S 10.0

struct replica {
    pthread_mutex_t mu;
    atomic_int draining;
    double drain_t0;   /* metrics_now() when the drain began */
    double started_at; /* metrics_now() at server_start */
    double last_log;   /* last progress line */
    char drain_why[64];
    struct MHD_Daemon *admin;
    int admin_port;
    atomic_int requests; /* HTTP requests in flight on the main listener */
};

replica *replica_new(void) {
    replica *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    pthread_mutex_init(&r->mu, NULL);
    atomic_init(&r->draining, 0);
    atomic_init(&r->requests, 0);
    return r;
}

void replica_free(replica *r) {
    if (!r) return;
    pthread_mutex_destroy(&r->mu);
    free(r);
}

void replica_started(server *s) {
    pthread_mutex_lock(&s->replica->mu);
    s->replica->started_at = metrics_now();
    pthread_mutex_unlock(&s->replica->mu);
}

void replica_request_begin(server *s) {
    atomic_fetch_add(&s->replica->requests, 1);
}
void replica_request_end(server *s) {
    atomic_fetch_sub(&s->replica->requests, 1);
}

/* ---- draining ------------------------------------------------------------------------------- */
void replica_drain(server *s, const char *why) {
    replica *r = s->replica;
    pthread_mutex_lock(&r->mu);
    int first = !atomic_load(&r->draining);
    if (first) {
        r->drain_t0 = r->last_log = metrics_now();
        snprintf(r->drain_why, sizeof r->drain_why, "%s", why ? why : "asked to");
        atomic_store(&r->draining, 1);
    }
    pthread_mutex_unlock(&r->mu);
    if (first)
        server_log(s,
                   "draining (%s): no new sessions; serving %d live session%s and %d stream%s "
                   "until they end, "
                   "for at most %d s (DRAIN_TIMEOUT)",
                   why ? why : "asked to", sessions_count(s->sessions),
                   sessions_count(s->sessions) == 1 ? "" : "s", atomic_load(&s->streams),
                   atomic_load(&s->streams) == 1 ? "" : "s", s->cfg.drain_timeout_s);
}

int replica_draining(const server *s) {
    return atomic_load(&s->replica->draining);
}

static double drain_elapsed(server *s) {
    pthread_mutex_lock(&s->replica->mu);
    double t = metrics_now() - s->replica->drain_t0;
    pthread_mutex_unlock(&s->replica->mu);
    return t;
}

int replica_drained(server *s) {
    if (!replica_draining(s)) return 0;
    int sessions = sessions_count(s->sessions), streams = atomic_load(&s->streams);
    /* The requests in flight too: the answer to the last closeSession must go out before the
     * listener stops (a health check or a scrape delays the end by a moment at most). */
    if (sessions == 0 && streams == 0 && atomic_load(&s->replica->requests) == 0) {
        server_log(s, "drained: every session and stream has ended");
        return 1;
    }
    if (drain_elapsed(s) >= s->cfg.drain_timeout_s) {
        server_log(
            s,
            "drain timeout (DRAIN_TIMEOUT=%d s): closing %d session%s and %d stream%s still open",
            s->cfg.drain_timeout_s, sessions, sessions == 1 ? "" : "s", streams,
            streams == 1 ? "" : "s");
        return 1;
    }
    return 0;
}

void replica_tick(server *s) {
    replica *r = s->replica;
    pthread_mutex_lock(&r->mu);
    int due = s->cfg.drain_after_s > 0 && r->started_at > 0 &&
              metrics_now() - r->started_at >= s->cfg.drain_after_s;
    pthread_mutex_unlock(&r->mu);
    if (due && !replica_draining(s)) replica_drain(s, "--drain-after");
    if (!replica_draining(s)) return;
    pthread_mutex_lock(&r->mu);
    double now = metrics_now();
    int log = now - r->last_log >= DRAIN_LOG_EVERY_S;
    if (log) r->last_log = now;
    double left = s->cfg.drain_timeout_s - (now - r->drain_t0);
    pthread_mutex_unlock(&r->mu);
    if (log)
        server_log(s, "draining: %d session%s and %d stream%s left, %.0f s to the drain timeout",
                   sessions_count(s->sessions), sessions_count(s->sessions) == 1 ? "" : "s",
                   atomic_load(&s->streams), atomic_load(&s->streams) == 1 ? "" : "s",
                   left > 0 ? left : 0);
}

/* ---- readiness ------------------------------------------------------------------------------ */
int replica_ready(server *s, char *why, size_t cap) {
    if (atomic_load(&s->stopping)) {
        snprintf(why, cap, "the server is shutting down");
        return 0;
    }
    if (replica_draining(s)) {
        snprintf(why, cap, "draining (%s): no new sessions", s->replica->drain_why);
        return 0;
    }
    sam2_error err = {0};
    if (sessions_admit(s->sessions, &err)) {
        snprintf(why, cap, "%s", err.message);
        return 0;
    }
    snprintf(why, cap, "ready");
    return 1;
}

int replica_refuse_session(server *s, request_ctx *rc, sam2_error *err) {
    if (!replica_draining(s)) return 0;
    if (rc) rc->http_status = 503;
    return sam2_fail(err, SAM2_ERR_LIMIT,
                     "This server is draining (it is about to stop) and takes no new sessions; "
                     "start the session "
                     "again to open it on another server");
}

/* {"ready", "reason", "node", "draining", "sessions", "max_sessions", "streams"} */
static cJSON *status_json(server *s) {
    char why[400];
    int ready = replica_ready(s, why, sizeof why);
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddBoolToObject(o, "ready", ready);
    cJSON_AddStringToObject(o, "reason", why);
    cJSON_AddStringToObject(o, "node", s->cfg.node_id);
    /* the loaded model's configuration name (edgetam, sam2.1_hiera_t, ...), for pages and
     * balancers that show or route by it */
    cJSON_AddStringToObject(o, "model", s->model_info.name);
    cJSON_AddBoolToObject(o, "draining", replica_draining(s));
    cJSON_AddNumberToObject(o, "sessions", sessions_count(s->sessions));
    cJSON_AddNumberToObject(o, "max_sessions", s->cfg.max_sessions);
    cJSON_AddNumberToObject(o, "streams", atomic_load(&s->streams));
    if (replica_draining(s)) {
        double left = s->cfg.drain_timeout_s - drain_elapsed(s);
        cJSON_AddNumberToObject(o, "drain_seconds_left", left > 0 ? (int)(left + 0.5) : 0);
    }
    return o;
}

enum MHD_Result replica_ready_handle(http_req *r) {
    char why[400];
    int ready = replica_ready(r->srv, why, sizeof why);
    return http_json(r, ready ? 200 : 503, status_json(r->srv));
}

void replica_metrics(server *s, strbuf *out) {
    char why[400];
    sb_puts(out, "# HELP sam2_ready 1 while a new session can start on this replica (GET /ready "
                 "answers 200).\n"
                 "# TYPE sam2_ready gauge\n");
    sb_printf(out, "sam2_ready %d\n", replica_ready(s, why, sizeof why));
    sb_puts(out, "# HELP sam2_draining 1 while this replica drains (no new sessions; it exits once "
                 "the live ones "
                 "end).\n# TYPE sam2_draining gauge\n");
    sb_printf(out, "sam2_draining %d\n", replica_draining(s));
    if (s->cfg.node_id[0]) {
        sb_puts(out, "# HELP sam2_node_info This replica's node id (SAM2_NODE_ID), the prefix of "
                     "its session ids.\n"
                     "# TYPE sam2_node_info gauge\n");
        sb_printf(out, "sam2_node_info{node=\"%s\"} 1\n", s->cfg.node_id); /* [A-Za-z0-9_-] only */
    }
}

/* ---- the admin listener ------------------------------------------------------------------- */
static enum MHD_Result admin_json(struct MHD_Connection *conn, unsigned status, cJSON *o) {
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!text) return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback(strlen(text), text, cJSON_free);
    if (!resp) {
        cJSON_free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result admin_request(void *cls, struct MHD_Connection *conn, const char *url,
                                     const char *method, const char *version,
                                     const char *upload_data, size_t *upload_data_size,
                                     void **con_cls) {
    (void)version;
    (void)upload_data;
    server *s = cls;
    static int seen; /* marks a request whose headers were seen; its body is read and ignored */
    if (!*con_cls) {
        *con_cls = &seen;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    int post = !strcmp(method, "POST"), get = !strcmp(method, "GET");
    if (!strcmp(url, "/drain") && post) {
        replica_drain(s, "admin POST /drain");
        return admin_json(conn, 202, status_json(s));
    }
    if ((!strcmp(url, "/status") || !strcmp(url, "/drain")) && get)
        return admin_json(conn, 200, status_json(s));
    cJSON *o = cJSON_CreateObject();
    if (o)
        cJSON_AddStringToObject(
            o, "error", "the admin listener answers POST /drain, GET /drain and GET /status");
    return admin_json(conn, 404, o);
}

int replica_admin_start(server *s, sam2_error *err) {
    if (s->cfg.admin_port < 0) return 0;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)s->cfg.admin_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* never reachable from another machine */
    s->replica->admin = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, (uint16_t)s->cfg.admin_port, NULL, NULL,
        admin_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a, MHD_OPTION_CONNECTION_LIMIT,
        16u, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!s->replica->admin)
        return sam2_fail(err, SAM2_ERR_IO,
                         "cannot listen on 127.0.0.1:%d for the admin listener (--admin-port)",
                         s->cfg.admin_port);
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(s->replica->admin, MHD_DAEMON_INFO_BIND_PORT);
    s->replica->admin_port = info && info->port ? info->port : s->cfg.admin_port;
    server_log(s, "admin listener on http://127.0.0.1:%d (POST /drain, GET /status)",
               s->replica->admin_port);
    return 0;
}

int replica_admin_port(const server *s) {
    return s->replica->admin ? s->replica->admin_port : -1;
}

void replica_admin_stop(server *s) {
    if (!s->replica || !s->replica->admin) return;
    MHD_stop_daemon(s->replica->admin);
    s->replica->admin = NULL;
}
