/* HTTP on libmicrohttpd (one thread per connection, so a request may wait for its turn at the
 * model and a stream may wait for its next frame without blocking anyone else): the router. It
 * takes bounded request bodies and dispatches each route to its handler (http_routes.h); the
 * handlers answer through the response helpers (http_response.h) and never call back here. */
#include "server/http.h"

#include "server/http_response.h"
#include "server/http_routes.h"
#include "server/replica.h"

#include "sam2.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROPAGATE_BODY_LIMIT 65536
#define DISCARD_BODY_LIMIT 65536
#define DRAIN_LIMIT ((size_t)64 << 20) /* bytes read and dropped past a limit before closing */

/* ---- routing -------------------------------------------------------------------------------- */
static const char *const STATIC_ROOTS[] = {"gallery", "posters", "uploads"};

static int is_static(const char *url, const char **root, const char **rel) {
    for (size_t i = 0; i < sizeof STATIC_ROOTS / sizeof STATIC_ROOTS[0]; i++) {
        size_t n = strlen(STATIC_ROOTS[i]);
        if (url[0] == '/' && !strncmp(url + 1, STATIC_ROOTS[i], n) && url[n + 1] == '/') {
            *root = STATIC_ROOTS[i];
            *rel = url + n + 2;
            return 1;
        }
    }
    return 0;
}

static metrics_route route_of(const char *url) {
    const char *root, *rel;
    if (!strcmp(url, "/graphql")) return ROUTE_GRAPHQL;
    if (!strcmp(url, "/propagate_in_video")) return ROUTE_PROPAGATE;
    if (!strcmp(url, "/healthy") || !strcmp(url, "/ready")) return ROUTE_HEALTHY;
    if (!strcmp(url, "/metrics")) return ROUTE_METRICS;
    if (!strncmp(url, "/export/", 8)) return ROUTE_EXPORT;
    if (is_static(url, &root, &rel)) return ROUTE_STATIC;
    return ROUTE_OTHER;
}

static const char *allowed_methods(metrics_route route) {
    switch (route) {
    case ROUTE_GRAPHQL:
    case ROUTE_PROPAGATE:
        return "POST, OPTIONS";
    case ROUTE_EXPORT:
        return "GET, HEAD, POST, OPTIONS";
    case ROUTE_OTHER:
        return "OPTIONS";
    default:
        return "GET, HEAD, OPTIONS";
    }
}

static enum MHD_Result preflight(http_req *r, const char *url) {
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, "Allow", allowed_methods(route_of(url)));
    const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
    const char *method =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Access-Control-Request-Method");
    if (origin && method && http_origin_allowed(r->srv, origin)) {
        MHD_add_response_header(resp, "Access-Control-Allow-Methods",
                                "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT");
        const char *hdrs =
            MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Access-Control-Request-Headers");
        if (hdrs) MHD_add_response_header(resp, "Access-Control-Allow-Headers", hdrs);
    }
    return http_queue(r, 200, resp);
}

static enum MHD_Result metrics_handle(http_req *r) {
    server *s = r->srv;
    metrics_gauges g = {0};
    g.sessions = sessions_count(s->sessions);
    g.jobs_waiting = fair_waiting(s->sched);
    g.slots_busy = fair_busy(s->sched);
    g.slots = s->cfg.workers;
    g.streams = atomic_load(&s->streams);
    g.sessions_propagating = sessions_propagating(s->sessions);
    g.session_ram_bytes = sessions_ram_bytes(s->sessions);
    g.job_bytes = atomic_load(&s->job_bytes);
    g.model_name = s->model_info.name;
    g.model_params = s->model_info.params;
    strbuf sb;
    sb_init(&sb);
    metrics_render(s->metrics, &g, &sb);
    replica_metrics(s, &sb);
    enum MHD_Result ret =
        sb.failed ? http_error(r, 500, "out of memory")
                  : http_send(r, 200, "text/plain; version=0.0.4; charset=utf-8", sb.data, sb.len);
    sb_free(&sb);
    return ret;
}

/* Whether the Content-Type's media type (before any parameter) is `type`. */
static int media_type_is(const char *ctype, const char *type) {
    const size_t n = strlen(type);
    if (!ctype || strncasecmp(ctype, type, n)) return 0;
    const char c = ctype[n];
    return c == 0 || c == ';' || c == ' ' || c == '\t';
}

/* Bodies a browser may send cross-site without asking first (text/plain, form encodings, none)
 * are refused: a page elsewhere cannot make the server run anything without a CORS preflight. */
static enum MHD_Result unsupported_type(http_req *r, const char *ctype) {
    char msg[300];
    snprintf(
        msg, sizeof msg, "Unsupported Content-Type '%.100s': send %s", ctype ? ctype : "(none)",
        r->route == ROUTE_GRAPHQL  ? "application/json (or multipart/form-data for uploadVideo)"
        : r->route == ROUTE_EXPORT ? "image/png or image/jpeg (effects.mp4's background picture)"
                                   : "application/json");
    if (r->route == ROUTE_GRAPHQL) return http_graphql_error(r, 415, msg);
    return http_error(r, 415, "%s", msg);
}

/* Decides, on the first call, how the body will be taken and whether it is refused outright. */
static enum MHD_Result begin_request(http_req *r, const char *url, const char *method) {
    server *s = r->srv;
    const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Length");
    unsigned long long content_length = cl ? strtoull(cl, NULL, 10) : 0;
    const char *ctype = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
    r->kind = BODY_DISCARD;
    r->limit = DISCARD_BODY_LIMIT;
    const char *origin = http_refused_origin(r);
    if (origin) {
        char msg[300];
        snprintf(msg, sizeof msg,
                 "Requests from the origin '%.100s' are not allowed (ALLOWED_ORIGINS)", origin);
        if (r->route == ROUTE_GRAPHQL) return http_graphql_error(r, 403, msg);
        return http_error(r, 403, "%s", msg);
    }
    if (!strcmp(method, "POST") && r->route == ROUTE_GRAPHQL) {
        if (media_type_is(ctype, "multipart/form-data")) {
            r->kind = BODY_MULTIPART;
            r->limit = s->cfg.max_upload_bytes; /* the whole multipart request */
            if (content_length > r->limit)
                return http_graphql_error(
                    r, 413, "The upload is larger than the server accepts (MAX_UPLOAD_MB)");
            char msg[300];
            const char *tmp = s->cfg.spill_dir[0] ? s->cfg.spill_dir : getenv("TMPDIR");
            r->upload =
                upload_new(ctype, tmp && *tmp ? tmp : "/tmp", s->cfg.max_body_bytes, r->limit,
                           (size_t)s->cfg.max_points * 3 + 100000, msg, sizeof msg);
            if (!r->upload) return http_graphql_error(r, 400, msg);
        } else if (media_type_is(ctype, "application/json")) {
            r->kind = BODY_JSON;
            r->limit = s->cfg.max_body_bytes;
        } else {
            return unsupported_type(r, ctype);
        }
    } else if (!strcmp(method, "POST") && r->route == ROUTE_PROPAGATE) {
        if (!media_type_is(ctype, "application/json")) return unsupported_type(r, ctype);
        r->kind = BODY_JSON;
        r->limit = PROPAGATE_BODY_LIMIT;
    } else if (!strcmp(method, "POST") && r->route == ROUTE_EXPORT) {
        if (!media_type_is(ctype, "image/png") && !media_type_is(ctype, "image/jpeg"))
            return unsupported_type(r, ctype);
        r->kind = BODY_RAW; /* effects.mp4's background picture (export.c decodes it) */
        r->limit = s->cfg.max_body_bytes;
    }
    if (content_length > r->limit) {
        if (r->route == ROUTE_GRAPHQL)
            return http_graphql_error(
                r, 413, "The request body is larger than the server accepts (MAX_BODY_MB)");
        return http_error(r, 413, "The request body is larger than the server accepts");
    }
    return MHD_YES;
}

/* Takes a piece of the body. Errors are kept and answered once the body is complete. */
static void take_body(http_req *r, const char *data, size_t n) {
    if (r->error[0]) return;
    r->received += n;
    if (r->received > r->limit) {
        r->error_status = 413;
        snprintf(r->error, sizeof r->error,
                 "The request body is larger than the server accepts (%s)",
                 r->kind == BODY_MULTIPART ? "MAX_UPLOAD_MB" : "MAX_BODY_MB");
        return;
    }
    if (r->kind == BODY_JSON || r->kind == BODY_RAW) {
        sb_append(&r->body, data, n);
        if (r->body.failed) {
            r->error_status = 500;
            snprintf(r->error, sizeof r->error, "out of memory reading the request body");
        }
    } else if (r->kind == BODY_MULTIPART) {
        if (upload_feed(r->upload, data, n)) {
            r->error_status = (unsigned)upload_status(r->upload);
            snprintf(r->error, sizeof r->error, "%s", upload_error(r->upload));
        }
    }
}

static enum MHD_Result answer_error(http_req *r) {
    if (r->route == ROUTE_GRAPHQL) return http_graphql_error(r, r->error_status, r->error);
    return http_error(r, r->error_status, "%s", r->error);
}

/* A JSON answer (value taken) with an Allow header: 405s. */
static enum MHD_Result json_with_allow(http_req *r, unsigned status, cJSON *o, const char *allow) {
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    struct MHD_Response *resp =
        text ? MHD_create_response_from_buffer_with_free_callback(strlen(text), text, cJSON_free)
             : NULL;
    if (!resp) {
        cJSON_free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Allow", allow);
    return http_queue(r, status, resp);
}

static enum MHD_Result dispatch(http_req *r, const char *url, const char *method) {
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    int post = !strcmp(method, "POST");
    switch (r->route) {
    case ROUTE_HEALTHY:
        if (get && !strcmp(url, "/ready")) return replica_ready_handle(r); /* replica.c */
        if (get) return http_send(r, 200, "text/html; charset=utf-8", "OK", 2);
        break;
    case ROUTE_METRICS:
        if (get) return metrics_handle(r);
        break;
    case ROUTE_GRAPHQL:
        if (post) return graphql_handle(r);
        if (get) {
            cJSON *o = cJSON_CreateObject();
            cJSON *arr = o ? cJSON_AddArrayToObject(o, "errors") : NULL;
            cJSON *e = arr ? cJSON_CreateObject() : NULL;
            if (e) {
                cJSON_AddStringToObject(
                    e, "message", "Queries are not allowed over GET: send a POST with a JSON body");
                cJSON_AddItemToArray(arr, e);
            }
            return json_with_allow(r, 405, o, allowed_methods(r->route));
        }
        break;
    case ROUTE_PROPAGATE:
        if (post) return propagate_handle(r);
        break;
    case ROUTE_EXPORT:
        if (get || post) return export_handle(r, url, post);
        break;
    case ROUTE_STATIC:
        if (get) {
            const char *root = NULL, *rel = NULL;
            if (is_static(url, &root, &rel)) return static_serve(r, root, rel);
            return http_error(r, 404, "resource not found");
        }
        break;
    default:
        if (get && web_static_handles(url))
            return web_static_serve(r, url); /* the web page (web_static.c) */
        return http_error(r, 404, "Not Found: %.200s", url);
    }
    char msg[200];
    snprintf(msg, sizeof msg, "Method %.20s is not allowed on %.100s", method, url);
    cJSON *o = cJSON_CreateObject();
    if (o) cJSON_AddStringToObject(o, "error", msg);
    return json_with_allow(r, 405, o, allowed_methods(r->route));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    (void)version;
    server *s = cls;
    http_req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        r->srv = s;
        r->conn = conn;
        r->t0 = metrics_now();
        r->route = route_of(url);
        sb_init(&r->body);
        *con_cls = r;
        replica_request_begin(s); /* ended in on_completed (a drain waits for it) */
        if (atomic_load(&s->stopping)) return http_error(r, 503, "The server is shutting down");
        if (!strcmp(method, "OPTIONS")) return preflight(r, url);
        return begin_request(r, url, method);
    }
    if (r->responded) {
        /* Answered early (body refused): drop whatever else arrives. */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* The idle timeout restarts with every byte: a client sending one byte every few seconds
         * would hold its connection forever without a bound on the whole body. */
        if (s->cfg.body_timeout_s > 0 && metrics_now() - r->t0 > s->cfg.body_timeout_s) {
            char who[64];
            http_client_address(r, who, sizeof who);
            server_log(s,
                       "closed a connection from %s: its request body took longer than %d s "
                       "(REQUEST_BODY_TIMEOUT)",
                       who, s->cfg.body_timeout_s);
            return MHD_NO;
        }
        take_body(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        /* libmicrohttpd answers only once the body is read: a body over its limit is drained
         * and dropped, and a client that keeps sending far beyond it is cut off. */
        if (r->error[0] && r->received > r->limit + DRAIN_LIMIT) return MHD_NO;
        return MHD_YES;
    }
    if (r->error[0]) return answer_error(r);
    if (r->kind == BODY_MULTIPART && upload_finish(r->upload)) {
        r->error_status = (unsigned)upload_status(r->upload);
        snprintf(r->error, sizeof r->error, "%s", upload_error(r->upload));
        return answer_error(r);
    }
    return dispatch(r, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)conn;
    server *s = cls;
    http_req *r = *con_cls;
    if (!r) return;
    unsigned status = r->responded ? r->status : 0;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !status)
        status = 499; /* the client left first */
    metrics_request(s->metrics, r->route, (int)status, metrics_now() - r->t0);
    replica_request_end(s);
    sb_free(&r->body);
    upload_free(r->upload);
    free(r);
    *con_cls = NULL;
}

/* MAX_CONNECTIONS_PER_IP, counted here rather than by libmicrohttpd's own per-IP limit so that
 * trusted proxies (TRUSTED_PROXIES), which carry many clients, are not counted; the proxy bounds
 * its clients' connections itself (deploy/haproxy.cfg). Both callbacks run on the listening
 * thread, so a connection is counted before the next one is admitted. */
static enum MHD_Result admit_connection(void *cls, const struct sockaddr *addr, socklen_t len) {
    (void)len;
    server *s = cls;
    if (s->cfg.max_connections_per_ip <= 0 || client_addr_trusted(s->cfg.trusted_proxies, addr))
        return MHD_YES;
    char who[CLIENT_ADDR_MAX];
    client_addr_text(addr, who, sizeof who);
    return conn_table_admits(&s->conns, who, s->cfg.max_connections_per_ip) ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code) {
    server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn_table_close(&s->conns, *socket_ctx);
        *socket_ctx = NULL;
        return;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    *socket_ctx = NULL;
    if (s->cfg.max_connections_per_ip <= 0 || client_addr_trusted(s->cfg.trusted_proxies, sa))
        return;
    char who[CLIENT_ADDR_MAX];
    client_addr_text(sa, who, sizeof who);
    *socket_ctx = conn_table_open(&s->conns, who);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    server *s = cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    server_log(s, "http: %s", line);
}

int http_start(server *s, sam2_error *err) {
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof addr);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&addr;
    if (inet_pton(AF_INET, s->cfg.host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)s->cfg.port);
    } else if (inet_pton(AF_INET6, s->cfg.host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)s->cfg.port);
        flags |= MHD_USE_IPv6;
    } else {
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "--host %s is not an IPv4 or IPv6 address",
                         s->cfg.host);
    }
    if (!s->conns.slots && conn_table_init(&s->conns, s->cfg.max_requests))
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory starting the server");
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)s->cfg.port, admit_connection, s, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->cfg.max_requests, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->cfg.timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
        MHD_OPTION_END);
    if (!s->daemon) {
        conn_table_destroy(&s->conns);
        return sam2_fail(err, SAM2_ERR_IO, "cannot listen on %s:%d (is the port in use?)",
                         s->cfg.host, s->cfg.port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info && info->port ? info->port : s->cfg.port;
    return 0;
}

void http_stop(server *s) {
    if (!s->daemon) return;
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    conn_table_destroy(&s->conns);
}
