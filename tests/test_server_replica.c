/* sam2 serve as one replica among several (server/replica.h), over real HTTP with TEST DOUBLES for
 * the tracker and the ingest (tests/support/server_doubles.c): session ids that name the replica
 * (SAM2_NODE_ID), the X-Sam2-Node header, /ready against /healthy (MAX_SESSIONS, the memory
 * budget, draining), draining (startSession refused with HTTP 503, a running stream finishes
 * with every frame, live sessions keep working, the drain ends when they close or at
 * DRAIN_TIMEOUT), --drain-after, the admin listener (loopback only, POST /drain) and the
 * replica's /metrics lines. The cluster itself (HAProxy in front of three replicas) is tested by
 * `make test-cluster` (tests/cluster/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "server/server.h"
#include "support/http_client.h"
#include "support/savi_stream.h"
#include "support/server_client.h"
#include "support/server_doubles.h"
#include "support/server_setup.h"
#include "support/testutil.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root_dir[1024], data_dir[1024];

static int setup(void **state) {
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    snprintf(root_dir, sizeof root_dir, "%s", test_make_tmpdir());
    snprintf(data_dir, sizeof data_dir, "%s/data", root_dir);
    if (double_make_gallery(data_dir, 320, 240)) return -1;
    char p[1200];
    snprintf(p, sizeof p, "%s/ckpt.pt", root_dir);
    test_write_file(p, "ckpt", 4);
    return 0;
}

static void base_config(server_config *cfg) {
    server_test_config(cfg, data_dir);
    snprintf(cfg->checkpoint, sizeof cfg->checkpoint, "%s/ckpt.pt", root_dir);
    cfg->max_sessions = 4;
    cfg->timeout_s = 10;
    cfg->max_memory_mb = 64;
    cfg->session_memory_mb = 4;
    cfg->drain_timeout_s = 30;
}

static server *start(const server_config *cfg, server_client *c) {
    server *s = double_server_start(cfg);
    if (!s) fail_msg("the server did not start");
    c->port = server_port(s);
    c->timeout_ms = 10000;
    c->extra_headers = NULL;
    return s;
}

static void assert_contains(const char *hay, const char *needle) {
    if (!hay || !strstr(hay, needle))
        fail_msg("expected '%s' in:\n%s", needle, hay ? hay : "(null)");
}

/* startSession through gql_post: the id (caller frees) or NULL; the status and the message. */
static char *start_session(const server_client *c, int *status, char *msg, size_t cap) {
    char node[64];
    cJSON *r = gql_post(c, FRONTEND_START_SESSION,
                        "{\"input\":{\"path\":\"gallery/05_default_juggle.mp4\"}}", status, node,
                        sizeof node);
    const cJSON *sid = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "startSession"), "sessionId");
    char *id = cJSON_IsString(sid) ? strdup(sid->valuestring) : NULL;
    snprintf(msg, cap, "%s", gql_error_message(r) ? gql_error_message(r) : "");
    cJSON_Delete(r);
    return id;
}

static char *must_start_session(const server_client *c) {
    int status;
    char msg[512];
    char *id = start_session(c, &status, msg, sizeof msg);
    if (!id) fail_msg("startSession: HTTP %d, %s", status, msg);
    assert_int_equal(status, 200);
    return id;
}

/* A click: 1 when answered with masks. */
static int click(const server_client *c, const char *sid) {
    char vars[512];
    snprintf(vars, sizeof vars,
             "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":0,\"objectId\":1,\"labels\":[1],"
             "\"points\":[[0.5,0.5]],\"clearOldPoints\":true}}",
             sid);
    int status;
    cJSON *r = gql_post(c, FRONTEND_ADD_POINTS, vars, &status, NULL, 0);
    int ok =
        status == 200 && cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "addPoints") != NULL;
    cJSON_Delete(r);
    return ok;
}

static int get(int port, const char *path, http_response *r) {
    return http_request(port, "GET", path, NULL, NULL, 0, r, 10000);
}

/* GET /ready: its status; the body's reason into why. */
static int ready(int port, char *why, size_t cap) {
    http_response r;
    assert_int_equal(get(port, "/ready", &r), 0);
    cJSON *j = cJSON_Parse(r.body);
    const cJSON *reason = cJSON_GetObjectItem(j, "reason");
    if (why) snprintf(why, cap, "%s", cJSON_IsString(reason) ? reason->valuestring : "");
    assert_true(cJSON_IsBool(cJSON_GetObjectItem(j, "ready")));
    assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(j, "ready")), r.status == 200);
    cJSON_Delete(j);
    int status = r.status;
    http_response_free(&r);
    return status;
}

static int healthy(int port) {
    http_response r;
    assert_int_equal(get(port, "/healthy", &r), 0);
    int ok = r.status == 200 && !strcmp(r.body, "OK");
    http_response_free(&r);
    return ok;
}

/* "<hex>{8}-<hex>{4}-4<hex>{3}-[89ab]<hex>{3}-<hex>{12}" */
static int is_uuid4(const char *u) {
    if (strlen(u) != 36) return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (u[i] != '-') return 0;
        } else if (!isxdigit((unsigned char)u[i]) || isupper((unsigned char)u[i])) {
            return 0;
        }
    }
    return u[14] == '4' && strchr("89ab", u[19]) != NULL;
}

/* The IPv4 address a TCP port listens on, from /proc/net/tcp ("0100007F" is 127.0.0.1); 0 when
 * no IPv4 socket listens on it (cap >= 9). */
static int listen_address(int port, char *addr, size_t cap) {
    FILE *f = fopen("/proc/net/tcp", "r");
    if (!f) return 0;
    char line[512], local[64], state[8];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned p = 0;
        if (sscanf(line, " %*d: %63s %*s %7s", local, state) != 2) continue;
        char *colon = strchr(local, ':');
        if (!colon || sscanf(colon + 1, "%x", &p) != 1) continue;
        if ((int)p == port && !strcmp(state, "0A")) { /* 0A: LISTEN */
            *colon = 0;
            snprintf(addr, cap, "%s", local);
            found = 1;
        }
    }
    fclose(f);
    return found;
}

/* Waits up to ms for server_drained. */
static int wait_drained(server *s, int ms) {
    for (int waited = 0; waited < ms; waited += 20) {
        if (server_drained(s)) return 1;
        usleep(20 * 1000);
    }
    return 0;
}

static void *stop_when_drained(void *arg) {
    server *s = arg;
    for (int waited = 0; waited < 20000; waited++) {
        if (server_drained(s)) break;
        usleep(1000);
    }
    server_stop(s);
    return NULL;
}

/* ---- tests ---------------------------------------------------------------------------------- */
static void test_session_ids_name_the_replica(void **state) {
    (void)state;
    server_config cfg;
    base_config(&cfg);
    server_client c;
    server *s = start(&cfg, &c); /* no node id: bare UUIDv4s, no X-Sam2-Node */
    char *id = must_start_session(&c);
    assert_true(is_uuid4(id));
    http_response r;
    assert_int_equal(get(c.port, "/healthy", &r), 0);
    char v[64];
    assert_null(http_header(r.headers, "X-Sam2-Node", v, sizeof v));
    http_response_free(&r);
    free(id);
    server_free(s);

    snprintf(cfg.node_id, sizeof cfg.node_id, "replica-B_2");
    s = start(&cfg, &c);
    char *ids[3];
    for (int i = 0; i < 3; i++) {
        ids[i] = must_start_session(&c);
        assert_int_equal(strncmp(ids[i], "replica-B_2.", 12), 0);
        assert_true(is_uuid4(ids[i] + 12)); /* still unguessable */
        for (int k = 0; k < i; k++) assert_string_not_equal(ids[i], ids[k]);
        assert_true(click(&c, ids[i])); /* the whole id is the session's name */
    }
    /* Every answer says which replica gave it, errors and static files too. */
    const char *paths[] = {"/healthy", "/ready", "/metrics", "/gallery/nope.mp4", "/nope"};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(get(c.port, paths[i], &r), 0);
        assert_non_null(http_header(r.headers, "X-Sam2-Node", v, sizeof v));
        assert_string_equal(v, "replica-B_2");
        http_response_free(&r);
    }
    /* The same UUID under another replica's name is another (unknown) session. */
    char other[128];
    snprintf(other, sizeof other, "r9.%s", ids[0] + 12);
    assert_int_equal(gql_close_session(&c, other), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(gql_close_session(&c, ids[i]), 1);
        free(ids[i]);
    }
    server_free(s);
}

static void test_node_id_config(void **state) {
    (void)state;
    static const struct {
        const char *value;
        int ok;
    } cases[] = {
        {"r1", 1},
        {"eu-west_3", 1},
        {"12345678901234567890123456789012", 1}, /* 32 characters: the most */
        {"123456789012345678901234567890123", 0},
        {"r.1", 0}, /* '.' separates the node from the UUID */
        {"r 1", 0},
        {"r/1", 0},
        {"\xc3\xa9", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        server_config cfg;
        server_config_defaults(&cfg);
        sam2_error err = {0};
        setenv("SAM2_NODE_ID", cases[i].value, 1);
        int rc = server_config_from_env(&cfg, &err) || server_config_finalize(&cfg, &err);
        unsetenv("SAM2_NODE_ID");
        if (cases[i].ok != !rc)
            fail_msg("SAM2_NODE_ID=%s: %s", cases[i].value, rc ? err.message : "accepted");
        if (rc)
            assert_contains(err.message, "SAM2_NODE_ID");
        else
            assert_string_equal(cfg.node_id, cases[i].value);
    }
    server_config cfg;
    server_config_defaults(&cfg);
    assert_int_equal(cfg.drain_timeout_s, 30);
    assert_int_equal(cfg.drain_after_s, 0);
    assert_int_equal(cfg.admin_port, -1);
    char *argv[] = {"serve", "--node-id",    "n2", "--drain-timeout", "5", "--drain-after",
                    "7",     "--admin-port", "0"};
    int help;
    sam2_error err = {0};
    assert_int_equal(server_config_from_args(&cfg, 9, argv, &help, &err), 0);
    assert_string_equal(cfg.node_id, "n2");
    assert_int_equal(cfg.drain_timeout_s, 5);
    assert_int_equal(cfg.drain_after_s, 7);
    assert_int_equal(cfg.admin_port, 0);
}

static void test_ready_follows_capacity(void **state) {
    (void)state;
    server_config cfg;
    base_config(&cfg);
    cfg.max_sessions = 2;
    server_client c;
    server *s = start(&cfg, &c);
    char why[512];
    assert_int_equal(ready(c.port, why, sizeof why), 200);
    char *a = must_start_session(&c);
    assert_int_equal(ready(c.port, NULL, 0), 200);
    char *b = must_start_session(&c);
    /* Full: not ready for a new session, but alive and serving its sessions. */
    assert_int_equal(ready(c.port, why, sizeof why), 503);
    assert_contains(why, "MAX_SESSIONS=2");
    assert_true(healthy(c.port));
    assert_true(click(&c, a));
    assert_int_equal(gql_close_session(&c, a), 1);
    assert_int_equal(ready(c.port, NULL, 0), 200);
    assert_int_equal(gql_close_session(&c, b), 1);
    free(a);
    free(b);
    server_free(s);

    /* The memory budget: the model (0 MB for the double) + sessions x SESSION_MEMORY_MB. */
    base_config(&cfg);
    cfg.max_sessions = 10;
    cfg.max_memory_mb = 9; /* the double's model counts 1 MB: room for two sessions */
    cfg.session_memory_mb = 4;
    s = start(&cfg, &c);
    a = must_start_session(&c);
    b = must_start_session(&c);
    assert_int_equal(ready(c.port, why, sizeof why), 503);
    assert_contains(why, "MAX_MEMORY_MB=9");
    int status;
    char msg[512];
    char *no = start_session(&c, &status, msg, sizeof msg);
    assert_null(no);
    assert_int_equal(status, 200); /* a full replica answers as a single server does */
    assert_contains(msg, "MAX_MEMORY_MB");
    assert_int_equal(gql_close_session(&c, b), 1);
    assert_int_equal(ready(c.port, NULL, 0), 200);
    assert_int_equal(gql_close_session(&c, a), 1);
    free(a);
    free(b);
    server_free(s);
}

typedef struct parts {
    int n;
    int frames[64];
} parts;

static void on_part(void *user, const char *headers, const char *body, size_t len) {
    (void)headers;
    parts *p = user;
    char *text = strndup(body, len);
    cJSON *j = cJSON_Parse(text);
    free(text);
    const cJSON *f = cJSON_GetObjectItem(j, "frame_index");
    if (p->n < 64) p->frames[p->n++] = cJSON_IsNumber(f) ? f->valueint : -1;
    cJSON_Delete(j);
}

static void test_drain_keeps_live_sessions(void **state) {
    (void)state;
    server_config cfg;
    base_config(&cfg);
    snprintf(cfg.node_id, sizeof cfg.node_id, "d1");
    server_client c;
    server *s = start(&cfg, &c);
    char *streaming = must_start_session(&c), *clicking = must_start_session(&c);
    assert_true(click(&c, streaming));
    /* What a whole stream holds, before any drain. */
    http_stream *st = propagation_open(&c, streaming, 0);
    parts whole = {0};
    assert_null(propagation_read(st, on_part, &whole, &whole.n, 0));
    http_stream_close(st);
    assert_true(whole.n >= 8);
    double_set_frame_delay_ms(60);
    st = propagation_open(&c, streaming, 0);
    assert_non_null(st);
    parts p = {0};
    assert_null(propagation_read(st, on_part, &p, &p.n, 2));

    server_drain(s, "the test");
    assert_true(server_draining(s));
    char why[512];
    assert_int_equal(ready(c.port, why, sizeof why), 503);
    assert_contains(why, "draining");
    assert_true(healthy(c.port));
    /* A new session is refused with 503, so a proxy retries it on another replica. */
    int status;
    char msg[512];
    char *refused = start_session(&c, &status, msg, sizeof msg);
    assert_null(refused);
    assert_int_equal(status, 503);
    assert_contains(msg, "draining");
    /* The live sessions are served: clicks, and the stream runs to its last frame. */
    assert_true(click(&c, clicking));
    assert_int_equal(server_drained(s), 0);
    const char *e = propagation_read(st, on_part, &p, &p.n, 0);
    if (e) fail_msg("stream during the drain: %s", e);
    http_stream_close(st);
    double_set_frame_delay_ms(0);
    /* No frame lost: the stream that ran through the drain equals the one before it. */
    assert_int_equal(p.n, whole.n);
    for (int i = 0; i < whole.n; i++) assert_int_equal(p.frames[i], whole.frames[i]);
    /* A new propagation in a live session is served too. */
    st = propagation_open(&c, clicking, 0);
    parts q = {0};
    assert_null(propagation_read(st, on_part, &q, &q.n, 0));
    http_stream_close(st);
    assert_int_equal(q.n, whole.n);
    assert_int_equal(server_drained(s), 0);
    assert_int_equal(gql_close_session(&c, streaming), 1);
    assert_int_equal(server_drained(s), 0);
    assert_int_equal(gql_close_session(&c, clicking), 1);
    /* Nothing left: drained (the drain timeout is 30 s, far away). */
    assert_true(wait_drained(s, 5000));
    free(streaming);
    free(clicking);
    server_free(s);
}

static void test_drain_timeout_and_drain_after(void **state) {
    (void)state;
    server_config cfg;
    base_config(&cfg);
    cfg.drain_timeout_s = 1;
    server_client c;
    server *s = start(&cfg, &c);
    char *left_open = must_start_session(&c);
    assert_int_equal(server_drained(s), 0); /* not draining: never drained */
    double t0 = test_now_ms();
    server_drain(s, "the test");
    server_drain(s, "again"); /* a second request changes nothing */
    assert_true(wait_drained(s, 10000));
    assert_true(test_now_ms() - t0 >= 900);
    free(left_open);
    server_free(s);

    base_config(&cfg);
    cfg.drain_after_s = 1;
    s = start(&cfg, &c);
    assert_int_equal(ready(c.port, NULL, 0), 200);
    int draining = 0;
    for (int waited = 0; waited < 10000 && !draining; waited += 50) {
        usleep(50 * 1000);
        draining = server_draining(s);
    }
    assert_true(draining);
    assert_int_equal(ready(c.port, NULL, 0), 503);
    assert_true(wait_drained(s, 5000)); /* no session: drained at once */
    server_free(s);
}

static void test_admin_listener(void **state) {
    (void)state;
    server_config cfg;
    base_config(&cfg);
    server_client c;
    server *s = start(&cfg, &c);
    assert_int_equal(server_admin_port(s), -1); /* off by default */
    server_free(s);

    cfg.admin_port = 0;
    snprintf(cfg.node_id, sizeof cfg.node_id, "adm");
    s = start(&cfg, &c);
    int admin = server_admin_port(s);
    assert_true(admin > 0 && admin != c.port);
    /* Bound to the loopback address only: unreachable from any other machine. */
    char addr[16];
    if (listen_address(admin, addr, sizeof addr))
        assert_string_equal(addr, "0100007F");
    else
        fail_msg("port %d does not listen on IPv4 (/proc/net/tcp)", admin);
    http_response r;
    assert_int_equal(http_request(admin, "GET", "/status", NULL, NULL, 0, &r, 10000), 0);
    assert_int_equal(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(j, "draining")));
    assert_string_equal(cJSON_GetObjectItem(j, "node")->valuestring, "adm");
    cJSON_Delete(j);
    http_response_free(&r);
    /* The admin routes are not on the main listener (which a proxy exposes). */
    assert_int_equal(http_request(c.port, "POST", "/drain", NULL, "", 0, &r, 10000), 0);
    assert_true(r.status == 404 || r.status == 405);
    http_response_free(&r);
    assert_false(server_draining(s));
    assert_int_equal(http_request(admin, "GET", "/nope", NULL, NULL, 0, &r, 10000), 0);
    assert_int_equal(r.status, 404);
    http_response_free(&r);
    char *sid = must_start_session(&c);
    assert_int_equal(http_request(admin, "POST", "/drain", "Content-Type: application/json\r\n",
                                  "{}", 2, &r, 10000),
                     0);
    assert_int_equal(r.status, 202);
    j = cJSON_Parse(r.body);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "draining")));
    assert_int_equal(cJSON_GetObjectItem(j, "sessions")->valueint, 1);
    cJSON_Delete(j);
    http_response_free(&r);
    assert_true(server_draining(s));
    assert_int_equal(ready(c.port, NULL, 0), 503);
    assert_true(click(&c, sid));
    /* As `sam2 serve` does: stop as soon as drained. The last closeSession still gets its answer
     * (the drain waits for the requests in flight, not only for the sessions). */
    pthread_t watcher;
    pthread_create(&watcher, NULL, stop_when_drained, s);
    int status;
    char vars[256];
    snprintf(vars, sizeof vars, "{\"input\":{\"sessionId\":\"%s\"}}", sid);
    cJSON *r2 = gql_post(&c, FRONTEND_CLOSE_SESSION, vars, &status, NULL, 0);
    const cJSON *ok = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(r2, "data"), "closeSession"), "success");
    assert_int_equal(status, 200);
    assert_true(cJSON_IsTrue(ok));
    cJSON_Delete(r2);
    pthread_join(watcher, NULL);
    assert_true(server_drained(s));
    free(sid);
    server_free(s);
}

static void test_metrics(void **state) {
    (void)state;
    server_config cfg;
    base_config(&cfg);
    snprintf(cfg.node_id, sizeof cfg.node_id, "m1");
    server_client c;
    server *s = start(&cfg, &c);
    http_response r;
    assert_int_equal(get(c.port, "/metrics", &r), 0);
    assert_contains(r.body, "\nsam2_ready 1\n");
    assert_contains(r.body, "\nsam2_draining 0\n");
    assert_contains(r.body, "\nsam2_node_info{node=\"m1\"} 1\n");
    http_response_free(&r);
    server_drain(s, "the test");
    assert_int_equal(get(c.port, "/metrics", &r), 0);
    assert_contains(r.body, "\nsam2_ready 0\n");
    assert_contains(r.body, "\nsam2_draining 1\n");
    http_response_free(&r);
    server_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_ids_name_the_replica),
        cmocka_unit_test(test_node_id_config),
        cmocka_unit_test(test_ready_follows_capacity),
        cmocka_unit_test(test_drain_keeps_live_sessions),
        cmocka_unit_test(test_drain_timeout_and_drain_after),
        cmocka_unit_test(test_admin_listener),
        cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
