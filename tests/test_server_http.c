/* sam2 serve over real HTTP, with TEST DOUBLES for the tracker and the video ingest
 * (tests/support/server_doubles.c): routes, CORS, JSON errors, static files (Range, traversal,
 * symlinks), the official frontend's GraphQL documents, sessions, the propagation stream read
 * by a strict MultipartStream.ts-like reader, cancel and disconnect, uploads, bad inputs, and
 * fairness between a streaming session and clicking sessions. The model itself is exercised by
 * test_server_e2e.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "server/server.h"
#include "support/http_cases.h"
#include "support/http_client.h"
#include "support/savi_stream.h"
#include "support/server_client.h"
#include "support/server_doubles.h"
#include "support/server_setup.h"
#include "support/testutil.h"

#include "app/priority.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static server *srv;
static int port;
static char data_dir[1024];
static server_client client = {0, 10000, NULL}; /* the port is set once the server listens */

static void make_config(server_config *cfg, const char *root) {
    server_test_config(cfg, data_dir);
    snprintf(cfg->checkpoint, sizeof cfg->checkpoint, "%s/ckpt.pt", root);
    cfg->max_body_bytes = 1 << 20;
    cfg->max_upload_bytes = 1 << 20;
    cfg->max_points = 1024;
    cfg->max_sessions = 8;
    cfg->session_ttl_s = 2;
    cfg->timeout_s = 10;
    cfg->max_memory_mb = 64;
    cfg->session_memory_mb = 4;
    /* Uploads are staged here (SPILL_DIR), so the test can check nothing is left behind. */
    snprintf(cfg->spill_dir, sizeof cfg->spill_dir, "%s/spill", root);
    mkdir(cfg->spill_dir, 0755);
}

static int setup(void **state) {
    signal(SIGPIPE, SIG_IGN);
    const char *root = test_make_tmpdir();
    char p[1024];
    snprintf(data_dir, sizeof data_dir, "%s/data", root);
    if (double_make_gallery(data_dir, 320, 240)) return -1;
    snprintf(p, sizeof p, "%s/gallery/.hidden.mp4", data_dir);
    double_write_video(p, 3, 10, 10);
    snprintf(p, sizeof p, "%s/secret.txt", root);
    test_write_file(p, "top secret", 10);
    snprintf(p, sizeof p, "%s/gallery/escape.mp4", data_dir);
    if (symlink("../../secret.txt", p)) return -1;
    snprintf(p, sizeof p, "%s/ckpt.pt", root);
    test_write_file(p, "ckpt", 4);

    server_config cfg;
    make_config(&cfg, root);
    snprintf(cfg.default_video_path, sizeof cfg.default_video_path,
             "gallery/05_default_juggle.mp4");
    srv = double_server_start(&cfg);
    if (!srv) return -1;
    port = client.port = server_port(srv);
    *state = srv; /* for server_test_teardown */
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------------ */
static void assert_contains(const char *hay, const char *needle) {
    if (!hay || !strstr(hay, needle))
        fail_msg("expected '%s' in:\n%s", needle, hay ? hay : "(null)");
}

/* Runs a request table (support/http_cases.h) against the server at at_port, "$SID" standing
 * for sid; no answer may name the test's temporary folder (DATA_PATH lies in it). Every failing
 * row is reported. */
static void run_cases(int at_port, const http_case *rows, size_t n, const char *sid) {
    char report[16384];
    const http_case_env env = {at_port, 10000, sid, test_make_tmpdir()};
    if (http_cases_run(&env, rows, n, report, sizeof report)) fail_msg("%s", report);
}

/* POSTs a GraphQL request; returns the parsed response (status must be 200). */
static cJSON *gql(const char *query, const char *variables_json) {
    return gql_call(&client, query, variables_json);
}

static char *start_session(const char *path) {
    char why[512];
    char *id = gql_start_session(&client, path, why, sizeof why);
    if (!id) fail_msg("startSession failed: %s", why);
    return id;
}

static cJSON *add_points(const char *sid, int frame, int obj, int n_points) {
    char *vars = malloc(256 + (size_t)n_points * 24);
    int n = sprintf(
        vars, "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":%d,\"objectId\":%d,\"labels\":[",
        sid, frame, obj);
    for (int i = 0; i < n_points; i++) n += sprintf(vars + n, "%s1", i ? "," : "");
    n += sprintf(vars + n, "],\"points\":[");
    for (int i = 0; i < n_points; i++) n += sprintf(vars + n, "%s[0.5,0.25]", i ? "," : "");
    sprintf(vars + n, "],\"clearOldPoints\":true}}");
    cJSON *r = gql(FRONTEND_ADD_POINTS, vars);
    free(vars);
    return r;
}

/* closeSession's success must be the boolean `expect`. */
static void close_session(const char *sid, int expect) {
    assert_int_equal(gql_close_session(&client, sid), expect);
}

/* A good request still works (the server keeps serving after bad input). */
static void assert_alive(void) {
    cJSON *r = gql("query DemoPageQuery {\n  defaultVideo {\n    path\n  }\n}\n", NULL);
    const cJSON *p = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "defaultVideo"), "path");
    assert_true(cJSON_IsString(p));
    cJSON_Delete(r);
}

/* GET /metrics (caller frees). */
static char *metrics_text(void) {
    http_response r;
    assert_int_equal(http_request(port, "GET", "/metrics", NULL, NULL, 0, &r, 5000), 0);
    assert_int_equal(r.status, 200);
    char *text = strdup(r.body);
    http_response_free(&r);
    return text;
}

/* The value of the sample `name` (with its labels, e.g. "sam2_x{op=\"y\"}") in /metrics. */
static double metric(const char *name) {
    char *text = metrics_text();
    char key[256];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *at = strstr(text, key);
    if (!at) fail_msg("no sample %s in /metrics:\n%s", name, text);
    double v = atof(at + strlen(key));
    free(text);
    return v;
}

/* Waits (up to 10 s) until the server's log holds `needle`; returns the log (caller frees). */
static char *wait_for_log(const char *needle) {
    char *log = NULL;
    for (int i = 0; i < 1000; i++) {
        free(log);
        log = server_test_log_copy();
        if (strstr(log, needle)) return log;
        usleep(10000);
    }
    fail_msg("the server never logged '%s'; its log:\n%s", needle, log);
    return log;
}

static int count_occurrences(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* ---- stream reading ------------------------------------------------------------------------ */
typedef struct parts {
    int n;
    int frames[2048];
    int objects[2048];
    char first_counts[256];
    int bad_headers;
} parts;

static void on_part(void *user, const char *headers, const char *body, size_t len) {
    parts *p = user;
    char v[128];
    if (!savi_header(headers, "Content-Type", v, sizeof v) ||
        strcmp(v, "application/json; charset=utf-8") ||
        !savi_header(headers, "Frame-Current", v, sizeof v) || strcmp(v, "-1") ||
        !savi_header(headers, "Frame-Total", v, sizeof v) || strcmp(v, "-1") ||
        !savi_header(headers, "Mask-Type", v, sizeof v) || strcmp(v, "RLE[]"))
        p->bad_headers++;
    char *text = strndup(body, len);
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j || p->n >= 2048) {
        p->bad_headers++;
        cJSON_Delete(j);
        return;
    }
    p->frames[p->n] = cJSON_GetObjectItem(j, "frame_index")->valueint;
    const cJSON *res = cJSON_GetObjectItem(j, "results");
    p->objects[p->n] = cJSON_GetArraySize(res);
    const cJSON *counts =
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 0), "mask"), "counts");
    if (p->n == 0 && cJSON_IsString(counts))
        snprintf(p->first_counts, sizeof p->first_counts, "%s", counts->valuestring);
    p->n++;
    cJSON_Delete(j);
}

static http_stream *open_propagation(const char *sid, int start) {
    return propagation_open(&client, sid, start);
}

/* Reads the stream strictly into p (to its end, or until p holds max_parts parts); returns the
 * reader's error or NULL. */
static const char *read_stream(http_stream *s, parts *p, int max_parts) {
    return propagation_read(s, on_part, p, &p->n, max_parts);
}

/* ---- tests ---------------------------------------------------------------------------------- */
static void test_healthy_and_metrics(void **state) {
    (void)state;
    http_response r;
    assert_int_equal(http_request(port, "GET", "/healthy", NULL, NULL, 0, &r, 5000), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "OK");
    http_response_free(&r);
    /* A request is counted when its connection finishes, which may be just after the answer. */
    for (int i = 0; i < 100; i++) {
        assert_int_equal(http_request(port, "GET", "/metrics", NULL, NULL, 0, &r, 5000), 0);
        if (strstr(r.body, "sam2_requests_total{route=\"healthy\",status=\"2xx\"} 1")) break;
        http_response_free(&r);
        usleep(10000);
    }
    assert_int_equal(r.status, 200);
    assert_contains(r.body, "# TYPE sam2_requests_total counter");
    assert_contains(r.body, "sam2_requests_total{route=\"healthy\",status=\"2xx\"} 1");
    assert_contains(r.body,
                    "sam2_request_duration_seconds_bucket{route=\"healthy\",le=\"+Inf\"} 1");
    assert_contains(r.body, "sam2_model_info{name=\"test-double\"");
    assert_contains(r.body, "process_resident_memory_bytes ");
    assert_contains(r.body, "sam2_sessions ");
    http_response_free(&r);
}

#define JSON_CT "Content-Type: application/json\r\n"
#define EVIL "Origin: http://evil.example\r\n"
#define ALLOW_ORIGIN "Access-Control-Allow-Origin"
static const http_case CORS[] = {
    {"an origin gets CORS headers", "GET", "/healthy", "Origin: http://localhost:7262\r\n",
     .status = 200,
     .header = {ALLOW_ORIGIN ": http://localhost:7262", "Access-Control-Allow-Credentials: true",
                "Vary: Origin"}},
    /* As flask-cors. */
    {"no Origin, no CORS headers", "GET", "/healthy", .status = 200, .no_header = ALLOW_ORIGIN},
    {"preflight of the frontend's JSON POST", "OPTIONS", "/graphql",
     "Origin: http://localhost:7262\r\nAccess-Control-Request-Method: POST\r\n"
     "Access-Control-Request-Headers: content-type\r\n",
     .status = 200,
     .header = {ALLOW_ORIGIN ": http://localhost:7262",
                "Access-Control-Allow-Headers: content-type", "Access-Control-Allow-Methods: POST",
                "Access-Control-Allow-Credentials: true"}},
    /* So that the browser can show them. */
    {"errors carry CORS headers too", "POST", "/graphql", "Origin: http://a.example\r\n" JSON_CT,
     "{", .status = 400, .header = {ALLOW_ORIGIN ": http://a.example"}},
};

static void test_cors(void **state) {
    (void)state;
    run_cases(port, CORS, HTTP_CASES_COUNT(CORS), NULL);
}

static const http_case ALLOWED_ORIGINS_ROWS[] = {
    {"a listed origin", "GET", "/healthy", "Origin: http://also.example\r\n", .status = 200,
     .header = {ALLOW_ORIGIN ": http://also.example"}},
    {"an origin not listed is refused before it runs", "GET", "/healthy", EVIL, .status = 403,
     .no_header = ALLOW_ORIGIN},
};

static void test_allowed_origins(void **state) {
    (void)state;
    server_config cfg;
    make_config(&cfg, test_make_tmpdir());
    snprintf(cfg.allowed_origins, sizeof cfg.allowed_origins,
             "http://good.example, http://also.example");
    server *s2 = double_server_start(&cfg);
    assert_non_null(s2);
    char report[4096];
    const http_case_env env = {server_port(s2), 10000, NULL, test_make_tmpdir()};
    const int failed = http_cases_run(
        &env, ALLOWED_ORIGINS_ROWS, HTTP_CASES_COUNT(ALLOWED_ORIGINS_ROWS), report, sizeof report);
    server_free(s2);
    if (failed) fail_msg("%s", report);
}

static void expect_json_error_at(int at_port, const char *method, const char *path,
                                 const char *headers, const char *body, size_t body_len, int status,
                                 const char *needle) {
    http_response r;
    assert_int_equal(http_request(at_port, method, path, headers, body, body_len, &r, 10000), 0);
    if (r.status != status)
        fail_msg("%s %s: status %d, expected %d: %s", method, path, r.status, status, r.body);
    char v[128];
    assert_non_null(http_header(r.headers, "Content-Type", v, sizeof v));
    assert_contains(v, "application/json");
    cJSON *j = cJSON_Parse(r.body);
    if (!j) fail_msg("not JSON: %s", r.body);
    cJSON_Delete(j);
    assert_contains(r.body, needle);
    http_response_free(&r);
}

static void expect_json_error(const char *method, const char *path, const char *headers,
                              const char *body, size_t body_len, int status, const char *needle) {
    expect_json_error_at(port, method, path, headers, body, body_len, status, needle);
}

/* What a page on another site can make a browser send without a preflight (text/plain, no
 * Content-Type, forms, multipart) runs nothing but uploads; a request from an origin that
 * ALLOWED_ORIGINS does not list is refused before it runs (hardening 5). */
#define START_DOG                                                                                  \
    "{\"query\":\"mutation { startSession(input: {path: \\\"gallery/01_dog.mp4\\\"}) { sessionId " \
    "} }\"}"

static const http_case CROSS_SITE[] = {
    {"text/plain body", "POST", "/graphql", "Content-Type: text/plain\r\n", START_DOG,
     .status = 415, .expect = {"Unsupported Content-Type 'text/plain'"}, .json = 1},
    {"no Content-Type", "POST", "/graphql", NULL, START_DOG, .status = 415,
     .expect = {"send application/json"}, .json = 1},
    {"form body", "POST", "/graphql", "Content-Type: application/x-www-form-urlencoded\r\n",
     START_DOG, .status = 415, .expect = {"Unsupported Content-Type"}, .json = 1},
    {"text/plain propagation", "POST", "/propagate_in_video", "Content-Type: text/plain\r\n",
     "{\"session_id\": \"x\"}", .status = 415, .expect = {"send application/json"}, .json = 1},
    {"origin not allowed", "POST", "/graphql", EVIL JSON_CT, START_DOG, .status = 403,
     .expect = {"'http://evil.example' are not allowed (ALLOWED_ORIGINS)"}, .json = 1},
    {"origin not allowed, export", "GET", "/export/x/masks.json", EVIL, NULL, .status = 403,
     .expect = {"ALLOWED_ORIGINS"}, .json = 1},
};

static void test_cross_site_requests(void **state) {
    (void)state;
    server_config cfg;
    make_config(&cfg, test_make_tmpdir());
    snprintf(cfg.allowed_origins, sizeof cfg.allowed_origins, "http://good.example");
    server *s2 = double_server_start(&cfg);
    assert_non_null(s2);
    const int p2 = server_port(s2);
    const char *start = "{\"query\":\"mutation { startSession(input: {path: "
                        "\\\"gallery/01_dog.mp4\\\"}) { sessionId } }\"}";
    const size_t n = strlen(start);
    run_cases(p2, CROSS_SITE, HTTP_CASES_COUNT(CROSS_SITE), NULL);
    /* Multipart, as an HTML form could send it: only uploadVideo runs. */
    size_t mn;
    char *mp = http_upload_body("b0undary", start, "f", "a.mp4", "x", 1, &mn);
    expect_json_error_at(p2, "POST", "/graphql",
                         "Content-Type: multipart/form-data; boundary=b0undary\r\n", mp, mn, 400,
                         "may only run the uploadVideo mutation");
    expect_json_error_at(
        p2, "POST", "/graphql",
        "Origin: http://evil.example\r\nContent-Type: multipart/form-data; boundary=b0undary\r\n",
        mp, mn, 403, "ALLOWED_ORIGINS");
    free(mp);
    /* None of that opened a session. */
    http_response r;
    assert_int_equal(http_request(p2, "GET", "/metrics", NULL, NULL, 0, &r, 5000), 0);
    assert_contains(r.body, "\nsam2_sessions 0\n");
    http_response_free(&r);
    /* The allowed origin, and the server's own page (same origin), work. */
    const char *origins[] = {"Origin: http://good.example\r\n", NULL};
    char self[128];
    snprintf(self, sizeof self, "Origin: http://127.0.0.1:%d\r\n", p2);
    origins[1] = self;
    for (int i = 0; i < 2; i++) {
        char headers[256];
        snprintf(headers, sizeof headers, "%sContent-Type: application/json\r\n", origins[i]);
        assert_int_equal(http_request(p2, "POST", "/graphql", headers, start, n, &r, 5000), 0);
        assert_int_equal(r.status, 200);
        assert_contains(r.body, "\"sessionId\"");
        http_response_free(&r);
    }
    server_free(s2);
}

static const http_case NOT_GRAPHQL[] = {
    {"truncated JSON", "POST", "/graphql", JSON_CT, "{\"query\": ", .status = 400,
     .expect = {"Unable to parse request body as JSON"}, .json = 1},
    {"no query", "POST", "/graphql", JSON_CT, "{\"variables\": {}}", .status = 400,
     .expect = {"No GraphQL query found in the request"}, .json = 1},
    {"batch", "POST", "/graphql", JSON_CT, "[{\"query\":\"{a}\"}]", .status = 400,
     .expect = {"Batched GraphQL requests"}, .json = 1},
    {"variables not an object", "POST", "/graphql", JSON_CT,
     "{\"query\":\"{a}\",\"variables\":[1]}", .status = 400, .expect = {"must be a JSON object"},
     .json = 1},
    {"data after the JSON", "POST", "/graphql", JSON_CT, "{\"query\":\"{a}\"} trailing",
     .status = 400, .expect = {"unexpected data after the value"}, .json = 1},
    {"XML", "POST", "/graphql", "Content-Type: application/xml\r\n", "<a/>", .status = 415,
     .expect = {"Unsupported Content-Type"}, .json = 1},
    {"empty body", "POST", "/graphql", JSON_CT, "", .status = 400, .expect = {"the body is empty"},
     .json = 1},
    {"GraphQL over GET", "GET", "/graphql", NULL, NULL, .status = 405,
     .expect = {"not allowed over GET"}, .json = 1},
    {"unknown route", "GET", "/nope", NULL, NULL, .status = 404, .expect = {"Not Found"},
     .json = 1},
    {"DELETE", "DELETE", "/healthy", NULL, NULL, .status = 405, .expect = {"not allowed"},
     .json = 1},
    {"propagation, not JSON", "POST", "/propagate_in_video", JSON_CT, "nope", .status = 400,
     .expect = {"Unable to parse request body as JSON"}, .json = 1},
    {"propagation without session_id", "POST", "/propagate_in_video", JSON_CT,
     "{\"start_frame_index\": 0}", .status = 400, .expect = {"session_id"}, .json = 1},
};

static void test_not_graphql_requests(void **state) {
    (void)state;
    const char *ct = JSON_CT;
    run_cases(port, NOT_GRAPHQL, HTTP_CASES_COUNT(NOT_GRAPHQL), NULL);
    /* Over the body limit (1 MB here): refused from Content-Length, before reading it. */
    size_t big = (2 << 20);
    char *b = malloc(big);
    memset(b, ' ', big);
    expect_json_error("POST", "/graphql", ct, b, big, 413, "larger than the server accepts");
    free(b);
    /* The same without Content-Length (chunked): refused once the limit is crossed. */
    {
        size_t n = 0, chunk = 60000, chunks = 40;
        char *cb = malloc(chunks * (chunk + 16) + 16);
        for (size_t i = 0; i < chunks; i++) {
            n += (size_t)sprintf(cb + n, "%zx\r\n", chunk);
            memset(cb + n, ' ', chunk);
            n += chunk;
            n += (size_t)sprintf(cb + n, "\r\n");
        }
        n += (size_t)sprintf(cb + n, "0\r\n\r\n");
        expect_json_error("POST", "/graphql",
                          "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", cb, n,
                          413, "larger than the server accepts");
        free(cb);
    }
    /* Deeply nested JSON is refused without recursion. */
    char deep[3000];
    memset(deep, '[', sizeof deep);
    expect_json_error("POST", "/graphql", ct, deep, sizeof deep, 400, "nested deeper");
    assert_alive();
}

static void expect_status(const char *path, const char *headers, int status) {
    http_response r;
    assert_int_equal(http_request(port, "GET", path, headers, NULL, 0, &r, 5000), 0);
    if (r.status != status) fail_msg("GET %s: %d (expected %d) %s", path, r.status, status, r.body);
    http_response_free(&r);
}

/* What static routes serve and, above all, what they must never serve (DATA_PATH's parent holds
 * secret.txt; gallery/escape.mp4 is a symlink to it). */
#define NOT_SERVED(what, path)                                                                     \
    { what, "GET", path, .status = 404, .absent = "top secret" }
static const http_case STATIC_PATHS[] = {
    {"a video in a gallery subfolder", "GET", "/gallery/sub/long.mp4", .status = 200},
    NOT_SERVED("parent folder", "/gallery/../secret.txt"),
    NOT_SERVED("parent of a subfolder", "/gallery/sub/../../secret.txt"),
    NOT_SERVED("encoded dots", "/gallery/%2e%2e/secret.txt"),
    NOT_SERVED("encoded slash", "/gallery/..%2fsecret.txt"),
    NOT_SERVED("absolute path", "/gallery//etc/passwd"),
    NOT_SERVED("symlink leaving DATA_PATH", "/gallery/escape.mp4"),
    NOT_SERVED("hidden file", "/gallery/.hidden.mp4"),
    NOT_SERVED("a folder", "/gallery/sub"),
    NOT_SERVED("missing file", "/gallery/missing.mp4"),
    NOT_SERVED("the uploads folder", "/uploads/"),
};

static void test_static_files(void **state) {
    (void)state;
    char p[1024], v[256];
    snprintf(p, sizeof p, "%s/gallery/05_default_juggle.mp4", data_dir);
    size_t size;
    char *content = test_read_file(p, &size);
    assert_non_null(content);
    http_response r;
    assert_int_equal(
        http_request(port, "GET", "/gallery/05_default_juggle.mp4", NULL, NULL, 0, &r, 5000), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(atol(http_header(r.headers, "Content-Length", v, sizeof v)), size);
    assert_null(http_header(r.headers, "Transfer-Encoding", v, sizeof v));
    assert_string_equal(http_header(r.headers, "Content-Type", v, sizeof v), "video/mp4");
    assert_string_equal(http_header(r.headers, "Accept-Ranges", v, sizeof v), "bytes");
    assert_memory_equal(r.body, content, size);
    http_response_free(&r);
    /* Ranges. */
    assert_int_equal(http_request(port, "GET", "/gallery/05_default_juggle.mp4",
                                  "Range: bytes=2-5\r\n", NULL, 0, &r, 5000),
                     0);
    assert_int_equal(r.status, 206);
    assert_int_equal(r.body_len, 4);
    assert_memory_equal(r.body, content + 2, 4);
    snprintf(p, sizeof p, "bytes 2-5/%zu", size);
    assert_string_equal(http_header(r.headers, "Content-Range", v, sizeof v), p);
    assert_string_equal(http_header(r.headers, "Content-Length", v, sizeof v), "4");
    http_response_free(&r);
    assert_int_equal(http_request(port, "GET", "/gallery/05_default_juggle.mp4",
                                  "Range: bytes=-3\r\n", NULL, 0, &r, 5000),
                     0);
    assert_int_equal(r.status, 206);
    assert_memory_equal(r.body, content + size - 3, 3);
    http_response_free(&r);
    assert_int_equal(http_request(port, "GET", "/gallery/05_default_juggle.mp4",
                                  "Range: bytes=10-\r\n", NULL, 0, &r, 5000),
                     0);
    assert_int_equal(r.status, 206);
    assert_int_equal(r.body_len, size - 10);
    http_response_free(&r);
    assert_int_equal(http_request(port, "GET", "/gallery/05_default_juggle.mp4",
                                  "Range: bytes=9999-\r\n", NULL, 0, &r, 5000),
                     0);
    assert_int_equal(r.status, 416);
    snprintf(p, sizeof p, "bytes */%zu", size);
    assert_string_equal(http_header(r.headers, "Content-Range", v, sizeof v), p);
    http_response_free(&r);
    /* HEAD: headers only. */
    assert_int_equal(
        http_request(port, "HEAD", "/gallery/05_default_juggle.mp4", NULL, NULL, 0, &r, 5000), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(atol(http_header(r.headers, "Content-Length", v, sizeof v)), size);
    assert_int_equal(r.body_len, 0);
    http_response_free(&r);
    free(content);
    /* Posters were written at start-up. */
    assert_int_equal(
        http_request(port, "GET", "/posters/05_default_juggle.jpg", NULL, NULL, 0, &r, 5000), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(http_header(r.headers, "Content-Type", v, sizeof v), "image/jpeg");
    http_response_free(&r);
    run_cases(port, STATIC_PATHS, HTTP_CASES_COUNT(STATIC_PATHS), NULL);
}

static void test_gallery_queries(void **state) {
    (void)state;
    /* The official DemoVideoGalleryQuery, as Relay sends it. */
    cJSON *r = gql("query DemoVideoGalleryQuery {\n  videos {\n    edges {\n      node {\n        "
                   "id\n        path\n      "
                   "  posterPath\n        url\n        posterUrl\n        height\n        width\n  "
                   "    }\n    }\n  }\n}\n",
                   NULL);
    const cJSON *edges =
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "videos"), "edges");
    assert_int_equal(cJSON_GetArraySize(edges),
                     3); /* hidden files and escaping symlinks are not listed */
    const cJSON *node = cJSON_GetObjectItem(cJSON_GetArrayItem(edges, 0), "node");
    assert_string_equal(cJSON_GetObjectItem(node, "path")->valuestring, "gallery/01_dog.mp4");
    /* Relay global id: base64("Video:gallery/01_dog.mp4"). */
    assert_string_equal(cJSON_GetObjectItem(node, "id")->valuestring,
                        "VmlkZW86Z2FsbGVyeS8wMV9kb2cubXA0");
    assert_string_equal(cJSON_GetObjectItem(node, "posterPath")->valuestring, "posters/01_dog.jpg");
    char url[128];
    snprintf(url, sizeof url, "http://localhost:0/gallery/01_dog.mp4");
    assert_contains(cJSON_GetObjectItem(node, "url")->valuestring, "/gallery/01_dog.mp4");
    assert_contains(cJSON_GetObjectItem(node, "posterUrl")->valuestring, "/posters/01_dog.jpg");
    assert_int_equal(cJSON_GetObjectItem(node, "width")->valueint, 640);
    assert_int_equal(cJSON_GetObjectItem(node, "height")->valueint, 480);
    cJSON_Delete(r);
    /* Fragments, __typename, pagination (the shape of the official modal query). */
    r = gql("query DemoVideoGalleryModalQuery {\n  ...VideoGallery_videos\n}\n\nfragment "
            "VideoGallery_videos on Query {\n"
            "  videos(first: 2, after: \"\") {\n    __typename\n    pageInfo {\n      __typename\n "
            "     hasPreviousPage\n"
            "      hasNextPage\n      startCursor\n      endCursor\n    }\n    edges {\n      "
            "__typename\n      node {\n"
            "        __typename\n        id\n        path\n      }\n      cursor\n    }\n  }\n}\n",
            NULL);
    const cJSON *videos = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "videos");
    assert_string_equal(cJSON_GetObjectItem(videos, "__typename")->valuestring, "VideoConnection");
    const cJSON *pi = cJSON_GetObjectItem(videos, "pageInfo");
    assert_string_equal(cJSON_GetObjectItem(pi, "__typename")->valuestring, "PageInfo");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(pi, "hasNextPage")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(pi, "hasPreviousPage")));
    assert_string_equal(cJSON_GetObjectItem(pi, "startCursor")->valuestring,
                        "YXJyYXljb25uZWN0aW9uOjA="); /* :0 */
    assert_string_equal(cJSON_GetObjectItem(pi, "endCursor")->valuestring,
                        "YXJyYXljb25uZWN0aW9uOjE="); /* :1 */
    edges = cJSON_GetObjectItem(videos, "edges");
    assert_int_equal(cJSON_GetArraySize(edges), 2);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(edges, 1), "__typename")->valuestring, "VideoEdge");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(edges, 1), "node"), "__typename")
            ->valuestring,
        "Video");
    cJSON_Delete(r);
    /* The next page. */
    r = gql("{ videos(first: 2, after: \"YXJyYXljb25uZWN0aW9uOjE=\") { pageInfo { hasNextPage "
            "hasPreviousPage } edges "
            "{ node { path } } } }",
            NULL);
    videos = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "videos");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(videos, "edges")), 1);
    assert_true(
        cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(videos, "pageInfo"), "hasNextPage")));
    assert_true(cJSON_IsTrue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(videos, "pageInfo"), "hasPreviousPage")));
    cJSON_Delete(r);
    r = gql("{ videos(last: 1) { pageInfo { hasPreviousPage } edges { node { path } } } }", NULL);
    videos = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "videos");
    assert_string_equal(
        cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(videos, "edges"), 0),
                                "node"),
            "path")
            ->valuestring,
        "gallery/sub/long.mp4");
    cJSON_Delete(r);
    r = gql("{ videos(first: 101) { edges { cursor } } }", NULL);
    assert_string_equal(gql_error_message(r), "Argument 'first' cannot be higher than 100.");
    cJSON_Delete(r);
    r = gql("{ videos(after: \"bm9wZTox\") { edges { cursor } } }", NULL);
    assert_string_equal(gql_error_message(r), "Argument 'after' contains a non-existing value.");
    cJSON_Delete(r);
    /* The official DemoPageQuery: DEFAULT_VIDEO_PATH picks the video. */
    r = gql(FRONTEND_DEMO_PAGE_QUERY, NULL);
    const cJSON *dv = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "defaultVideo");
    assert_string_equal(cJSON_GetObjectItem(dv, "path")->valuestring,
                        "gallery/05_default_juggle.mp4");
    assert_int_equal(cJSON_GetObjectItem(dv, "width")->valueint, 1280);
    cJSON_Delete(r);
}

/* Same-named videos in two gallery folders get a poster each (hardening 7); a file the reader
 * refuses is not listed (hardening 9). */
static void test_gallery_catalog(void **state) {
    (void)state;
    const char *root = test_make_tmpdir();
    char data[1100], p[1200];
    snprintf(data, sizeof data, "%s/catalog-data", root);
    const char *dirs[] = {"", "/gallery", "/gallery/a", "/gallery/b"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", data, dirs[i]);
        mkdir(p, 0755);
    }
    snprintf(p, sizeof p, "%s/gallery/a/01_dog.mp4", data);
    double_write_video(p, 5, 640, 480);
    snprintf(p, sizeof p, "%s/gallery/b/01_dog.mp4", data);
    double_write_video(p, 5, 320, 240);
    snprintf(p, sizeof p, "%s/gallery/broken.mp4", data);
    test_write_file(p, "garbage", 7);
    server_config cfg;
    make_config(&cfg, root);
    snprintf(cfg.data_path, sizeof cfg.data_path, "%s", data);
    server *s2 = double_server_start(&cfg);
    assert_non_null(s2);
    server_client c2 = client;
    c2.port = server_port(s2);
    cJSON *r = gql_call(&c2, "{ videos { edges { node { path posterPath width } } } }", NULL);
    const cJSON *edges =
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "videos"), "edges");
    assert_int_equal(cJSON_GetArraySize(edges), 2);
    const char *expect[2][2] = {{"gallery/a/01_dog.mp4", "posters/a/01_dog.jpg"},
                                {"gallery/b/01_dog.mp4", "posters/b/01_dog.jpg"}};
    for (int i = 0; i < 2; i++) {
        const cJSON *node = cJSON_GetObjectItem(cJSON_GetArrayItem(edges, i), "node");
        assert_string_equal(cJSON_GetObjectItem(node, "path")->valuestring, expect[i][0]);
        assert_string_equal(cJSON_GetObjectItem(node, "posterPath")->valuestring, expect[i][1]);
        snprintf(p, sizeof p, "/%s", expect[i][1]);
        http_response hr;
        assert_int_equal(http_request(c2.port, "GET", p, NULL, NULL, 0, &hr, 5000), 0);
        assert_int_equal(hr.status, 200);
        http_response_free(&hr);
    }
    cJSON_Delete(r);
    server_free(s2);
}

static void test_session_flow(void **state) {
    (void)state;
    char *sid = start_session("gallery/05_default_juggle.mp4");
    assert_int_equal(strlen(sid), 36);
    assert_int_equal(sid[14], '4'); /* UUID version 4 */
    assert_non_null(strchr("89ab", sid[19]));
    cJSON *r = add_points(sid, 4, 1, 1);
    const cJSON *ap = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "addPoints");
    assert_int_equal(cJSON_GetObjectItem(ap, "frameIndex")->valueint, 4);
    const cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(ap, "rleMaskList"), 0);
    assert_int_equal(cJSON_GetObjectItem(m0, "objectId")->valueint, 1);
    const cJSON *rle = cJSON_GetObjectItem(m0, "rleMask");
    assert_string_equal(cJSON_GetObjectItem(rle, "counts")->valuestring, "f4o1p1");
    assert_int_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(rle, "size"), 0)->valueint, 720);
    assert_int_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(rle, "size"), 1)->valueint, 1280);
    cJSON_Delete(r);
    r = add_points(sid, 4, 2, 2);
    ap = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "addPoints");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(ap, "rleMaskList")), 2);
    cJSON_Delete(r);
    /* The official clearPointsInFrame document. */
    char vars[512];
    snprintf(vars, sizeof vars,
             "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":4,\"objectId\":2}}", sid);
    r = gql(FRONTEND_CLEAR_POINTS_IN_FRAME, vars);
    assert_int_equal(
        cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "clearPointsInFrame"), "frameIndex")
            ->valueint,
        4);
    cJSON_Delete(r);
    cJSON_Delete(add_points(sid, 6, 2, 1));
    /* removeObject answers the frames whose masks changed. */
    snprintf(vars, sizeof vars, "{\"input\":{\"sessionId\":\"%s\",\"objectId\":2}}", sid);
    r = gql(FRONTEND_REMOVE_OBJECT, vars);
    const cJSON *ro = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "removeObject");
    assert_int_equal(cJSON_GetArraySize(ro), 1);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ro, 0), "frameIndex")->valueint, 4);
    cJSON_Delete(r);
    /* Propagation: forward from 4 to 7, then backward from 4 to 0, one part per frame. */
    http_stream *s = open_propagation(sid, 4);
    assert_non_null(s);
    assert_int_equal(http_stream_status(s), 200);
    char ct[128];
    assert_string_equal(http_header(http_stream_headers(s), "Content-Type", ct, sizeof ct),
                        "multipart/x-savi-stream; boundary=frame");
    parts p = {0};
    const char *e = read_stream(s, &p, 0);
    if (e) fail_msg("stream: %s", e);
    http_stream_close(s);
    int expect[] = {4, 5, 6, 7, 4, 3, 2, 1, 0};
    assert_int_equal(p.n, 9);
    for (int i = 0; i < 9; i++) {
        assert_int_equal(p.frames[i], expect[i]);
        assert_int_equal(p.objects[i], 1);
    }
    assert_int_equal(p.bad_headers, 0);
    assert_string_equal(p.first_counts, "t4o1p0");
    /* clearPointsInVideo, then propagating has nothing to track. */
    snprintf(vars, sizeof vars, "{\"input\":{\"sessionId\":\"%s\"}}", sid);
    r = gql(
        "mutation SAM2ModelClearPointsInVideoMutation(\n  $input: ClearPointsInVideoInput!\n) {\n  "
        "clearPointsInVideo(input: $input) {\n    success\n  }\n}\n",
        vars);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "clearPointsInVideo"), "success")));
    cJSON_Delete(r);
    char body[256];
    snprintf(body, sizeof body, "{\"session_id\": \"%s\", \"start_frame_index\": 0}", sid);
    expect_json_error("POST", "/propagate_in_video", "Content-Type: application/json\r\n", body,
                      strlen(body), 400, "No points or masks");
    close_session(sid, 1);
    close_session(sid, 0); /* the official answer for an unknown session */
    free(sid);
}

static void test_add_mask(void **state) {
    (void)state;
    char *sid = start_session("gallery/01_dog.mp4");
    char vars[512];
    const char *q = "mutation($input: AddMaskInput!) { addMask(input: $input) { frameIndex "
                    "rleMaskList { objectId "
                    "rleMask { counts size order } } } }";
    snprintf(
        vars, sizeof vars,
        "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":1,\"objectId\":3,\"mask\":{\"size\":[4,5],"
        "\"counts\":\"whatever\"}}}",
        sid);
    cJSON *r = gql(q, vars);
    const cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "addMask");
    const cJSON *rle = cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(m, "rleMaskList"), 0), "rleMask");
    assert_string_equal(cJSON_GetObjectItem(rle, "counts")->valuestring,
                        "m1o3p20"); /* 4x5 mask reached the tracker */
    assert_string_equal(cJSON_GetObjectItem(rle, "order")->valuestring, "F");
    cJSON_Delete(r);
    snprintf(
        vars, sizeof vars,
        "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":1,\"objectId\":3,\"mask\":{\"size\":[4,5],"
        "\"counts\":\"bad\"}}}",
        sid);
    r = gql(q, vars);
    assert_contains(gql_error_message(r), "mask.counts: invalid RLE");
    cJSON_Delete(r);
    snprintf(
        vars, sizeof vars,
        "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":1,\"objectId\":3,\"mask\":{\"size\":[4,5],"
        "\"counts\":\"x\",\"order\":\"C\"}}}",
        sid);
    r = gql(q, vars);
    assert_contains(gql_error_message(r), "column-major");
    cJSON_Delete(r);
    snprintf(vars, sizeof vars,
             "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":1,\"objectId\":3,\"mask\":{\"size\":["
             "100000,100000],"
             "\"counts\":\"x\"}}}",
             sid);
    r = gql(q, vars);
    assert_contains(gql_error_message(r), "is not a valid mask size");
    cJSON_Delete(r);
    close_session(sid, 1);
    free(sid);
}

/* addMask finds and checks the session before it decodes anything, bounds the mask by the
 * video, and counts the buffer while it holds it (hardening 1). */
typedef struct mask_call {
    char *sid;
    int h, w;
    cJSON *answer;
} mask_call;

static const char *const ADD_MASK_DOC =
    "mutation($input: AddMaskInput!) { addMask(input: $input) { frameIndex } }";

static cJSON *add_mask(const char *sid, int h, int w) {
    char vars[512];
    snprintf(vars, sizeof vars,
             "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":1,\"objectId\":3,\"mask\":{\"size\":["
             "%d,%d],"
             "\"counts\":\"x\"}}}",
             sid, h, w);
    return gql(ADD_MASK_DOC, vars);
}

static void *add_mask_main(void *arg) {
    mask_call *c = arg;
    c->answer = add_mask(c->sid, c->h, c->w);
    return NULL;
}

static void test_add_mask_memory(void **state) {
    (void)state;
    const long decodes0 = double_rle_decodes();
    /* 8192 x 8192 for a session that does not exist: refused before a byte is decoded. */
    cJSON *r = add_mask("00000000-0000-4000-8000-000000000000", 8192, 8192);
    assert_contains(gql_error_message(r), "Cannot find session");
    cJSON_Delete(r);
    assert_int_equal(double_rle_decodes(), decodes0);
    /* Larger than a frame of the video (640 x 480; masks up to 1024 x 1024 pass). */
    char *sid = start_session("gallery/01_dog.mp4");
    r = add_mask(sid, 2048, 2048);
    assert_contains(gql_error_message(r), "more pixels than a frame of the video (640 x 480)");
    cJSON_Delete(r);
    assert_int_equal(double_rle_decodes(), decodes0);
    /* While a mask is decoded its buffer counts in sam2_job_bytes. */
    assert_true(metric("sam2_job_bytes") == 0);
    double_set_decode_gate(1);
    mask_call c = {sid, 480, 640, NULL};
    pthread_t th;
    pthread_create(&th, NULL, add_mask_main, &c);
    for (int i = 0; i < 1000 && metric("sam2_job_bytes") == 0; i++) usleep(10000);
    assert_true(metric("sam2_job_bytes") == 480 * 640);
    double_set_decode_gate(0);
    pthread_join(th, NULL);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(c.answer, "data"), "addMask"));
    cJSON_Delete(c.answer);
    assert_int_equal(double_rle_decodes(), decodes0 + 1);
    assert_true(metric("sam2_job_bytes") == 0);
    close_session(sid, 1);
    free(sid);
}

/* startSession opens only videos under gallery/ and uploads/; a refusal never names what a
 * folder holds (another user's upload), and hidden files are refused (hardening 3). */
static void test_session_paths(void **state) {
    (void)state;
    char p[1200];
    snprintf(p, sizeof p, "%s/posters/0123abcd.jpg", data_dir);
    test_write_file(p, "poster", 6);
    snprintf(p, sizeof p, "%s/gallery/frames", data_dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/gallery/frames/private_name.jpg", data_dir);
    test_write_file(p, "not a jpeg", 10);
    snprintf(p, sizeof p, "%s/gallery/to_posters", data_dir);
    if (symlink("../posters", p)) fail_msg("symlink failed");
    const struct {
        const char *path, *expect;
    } cases[] = {
        {"posters", "under gallery/ or uploads/ only"},
        {"posters/", "under gallery/ or uploads/ only"},
        {"posters/0123abcd.jpg", "under gallery/ or uploads/ only"},
        {"uploads", "under gallery/ or uploads/ only"},
        {"uploads/", "under gallery/ or uploads/ only"},
        {"gallery/", "under gallery/ or uploads/ only"},
        {".", "under gallery/ or uploads/ only"},
        {"gallery/to_posters", "under gallery/ or uploads/ only"},
        {"gallery/to_posters/0123abcd.jpg", "under gallery/ or uploads/ only"},
        {"gallery/.hidden.mp4", "hidden files"},
        {"gallery/./01_dog.mp4", "hidden files"},
        {"gallery/frames", "not a folder of video frames the server can read"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char vars[512];
        snprintf(vars, sizeof vars, "{\"input\":{\"path\":\"%s\"}}", cases[i].path);
        cJSON *r = gql(FRONTEND_START_SESSION, vars);
        const char *msg = gql_error_message(r);
        /* The path as given is echoed; nothing else under DATA_PATH may be named. */
        const int names_file =
            msg && ((strstr(msg, "0123abcd") && !strstr(cases[i].path, "0123abcd")) ||
                    strstr(msg, "private_name"));
        if (!msg || !strstr(msg, cases[i].expect) || names_file || strstr(msg, data_dir))
            fail_msg("startSession('%s'): expected an error with '%s' and no file names, got: %s",
                     cases[i].path, cases[i].expect, msg ? msg : "(a session)");
        cJSON_Delete(r);
    }
    snprintf(p, sizeof p, "%s/gallery/to_posters", data_dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/gallery/frames/private_name.jpg", data_dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/gallery/frames", data_dir);
    rmdir(p);
    snprintf(p, sizeof p, "%s/posters/0123abcd.jpg", data_dir);
    unlink(p);
    assert_alive();
}

/* A frame the server cannot decode: errors name the video as the client gave it, never DATA_PATH
 * (hardening 4), and the stream's answer is a 5xx (hardening 9). */
static void test_undecodable_frame(void **state) {
    (void)state;
    char p[1200];
    snprintf(p, sizeof p, "%s/gallery/corrupt.mp4", data_dir);
    assert_int_equal(double_write_corrupt_video(p, 6, 64, 48, 3), 0);
    char *sid = start_session("gallery/corrupt.mp4");
    cJSON *r = add_points(sid, 3, 1, 1);
    const char *msg = gql_error_message(r);
    if (!msg || !strstr(msg, "video 'gallery/corrupt.mp4': frame 3 could not be decoded") ||
        strstr(msg, data_dir))
        fail_msg("addPoints on an undecodable frame: %s", msg ? msg : "(no error)");
    cJSON_Delete(r);
    char vars[512];
    snprintf(vars, sizeof vars,
             "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":3,\"objectId\":3,\"mask\":{\"size\":["
             "48,64],"
             "\"counts\":\"x\"}}}",
             sid);
    r = gql(ADD_MASK_DOC, vars);
    msg = gql_error_message(r);
    if (!msg || !strstr(msg, "'gallery/corrupt.mp4'") || strstr(msg, data_dir))
        fail_msg("addMask on an undecodable frame: %s", msg ? msg : "(no error)");
    cJSON_Delete(r);
    /* The stream fails on its first frame: an answer with a status, the server's fault. */
    cJSON_Delete(add_points(sid, 0, 1, 1));
    char body[256];
    snprintf(body, sizeof body, "{\"session_id\": \"%s\", \"start_frame_index\": 3}", sid);
    http_response hr;
    assert_int_equal(http_request(port, "POST", "/propagate_in_video",
                                  "Content-Type: application/json\r\n", body, strlen(body), &hr,
                                  10000),
                     0);
    if (hr.status < 500 || !strstr(hr.body, "'gallery/corrupt.mp4'") || strstr(hr.body, data_dir))
        fail_msg("propagate from an undecodable frame: HTTP %d %s", hr.status, hr.body);
    http_response_free(&hr);
    close_session(sid, 1);
    free(sid);
    unlink(p);
}

/* addPoints' variables for session $SID with the given frame, labels and points. */
#define POINTS_VARS(frame, labels, points)                                                         \
    "{\"input\":{\"sessionId\":\"$SID\",\"frameIndex\":" frame                                     \
    ",\"objectId\":1,\"labels\":" labels ",\"points\":" points ",\"clearOldPoints\":true}}"
#define START_DOC                                                                                  \
    "mutation($input: StartSessionInput!) { startSession(input: $input) { sessionId } }"
/* A startSession path that must be refused; the driver checks that no answer names DATA_PATH. */
#define BAD_PATH(what, path)                                                                       \
    {                                                                                              \
        what, .query = START_DOC, .variables = "{\"input\":{\"path\":\"" path "\"}}",              \
              .status = 200, .expect = {                                                           \
                  "Cannot start a session"                                                         \
              }                                                                                    \
    }
#define PROPAGATE(what, body, status_, text)                                                       \
    {                                                                                              \
        what, "POST", "/propagate_in_video", JSON_CT, body, .status = status_, .expect = {text},   \
                                                            .json = 1                              \
    }

static const http_case BAD_INPUTS[] = {
    /* Unknown session: the official error text, as a GraphQL error with path. */
    {"addPoints on an unknown session", .query = FRONTEND_ADD_POINTS,
     .variables =
         "{\"input\":{\"sessionId\":\"00000000-0000-4000-8000-000000000000\",\"frameIndex\":0,"
         "\"objectId\":1,\"labels\":[1],\"points\":[[0.5,0.25]],\"clearOldPoints\":true}}",
     .status = 200,
     .expect =
         {"\"message\":\"Cannot find session 00000000-0000-4000-8000-000000000000; it might have "
          "expired\"",
          "\"path\":[\"addPoints\"]", "\"data\":null"}},
    {"frame past the end", .query = FRONTEND_ADD_POINTS,
     .variables = POINTS_VARS("5", "[1]", "[[0.5,0.25]]"), .status = 200,
     .expect = {"\"message\":\"frameIndex 5 is out of range: the video has 5 frames (0-4)\""}},
    {"negative frame", .query = FRONTEND_ADD_POINTS,
     .variables = POINTS_VARS("-1", "[1]", "[[0.5,0.25]]"), .status = 200,
     .expect = {"\"message\":\"frameIndex -1 is out of range"}},
    {"labels and points disagree", .query = FRONTEND_ADD_POINTS,
     .variables = POINTS_VARS("0", "[1,1]", "[[0.1,0.2]]"), .status = 200,
     .expect = {"labels has 2 entries but points has 1"}},
    {"a point of three numbers", .query = FRONTEND_ADD_POINTS,
     .variables = POINTS_VARS("0", "[1]", "[[0.1,0.2,3]]"), .status = 200,
     .expect = {"points[0] has 3 numbers"}},
    /* Described in the video's terms, not "(1 x 1)". */
    {"a point far outside the frame", .query = FRONTEND_ADD_POINTS,
     .variables = POINTS_VARS("0", "[1,1]", "[[0.5,0.5],[320,0.5]]"), .status = 200,
     .expect = {"points[1] = [320, 0.5] is far outside the 640 x 480 video: addPoints takes each "
                "point as "
                "fractions of the width and the height (0 to 1)"}},
    {"wrong variable type", .query = FRONTEND_ADD_POINTS,
     .variables =
         "{\"input\":{\"sessionId\":\"$SID\",\"frameIndex\":\"zero\",\"objectId\":1,\"labels\":[1],"
         "\"points\":[[0,0]],\"clearOldPoints\":true}}",
     .status = 200, .expect = {"Int cannot represent non-integer value"}},
    {"unknown field", .query = "mutation { deleteEverything { success } }", .status = 200,
     .expect = {"\"message\":\"Cannot query field 'deleteEverything' on type 'Mutation'.\""}},
    /* Path traversal and escapes in startSession.path. */
    BAD_PATH("parent folder", "../secret.txt"),
    BAD_PATH("absolute path", "/etc/passwd"),
    BAD_PATH("out of the gallery", "gallery/../../secret.txt"),
    BAD_PATH("symlink leaving DATA_PATH", "gallery/escape.mp4"),
    BAD_PATH("missing file", "gallery/missing.mp4"),
    BAD_PATH("empty path", ""),
    /* A file that is not a video (the test writes it first). */
    {"not a video",
     .query = "mutation { startSession(input: {path: \"uploads/notes.txt\"}) { sessionId } }",
     .status = 200, .expect = {"Cannot open video 'uploads/notes.txt'"}},
    /* Propagation inputs. */
    PROPAGATE("start past the end", "{\"session_id\": \"$SID\", \"start_frame_index\": 99}", 400,
              "start_frame_index 99 is out of range"),
    /* Beyond any int: still a range error (hardening 9). */
    PROPAGATE("start beyond any int", "{\"session_id\": \"$SID\", \"start_frame_index\": 1e12}",
              400, "start_frame_index 1000000000000 is out of range: the video has 5 frames"),
    PROPAGATE("start below any int",
              "{\"session_id\": \"$SID\", \"start_frame_index\": -3000000000}", 400,
              "is out of range"),
    PROPAGATE("start not an integer", "{\"session_id\": \"$SID\", \"start_frame_index\": 1.5}", 400,
              "must be an integer"),
    PROPAGATE("propagation on an unknown session",
              "{\"session_id\": \"nope\", \"start_frame_index\": 0}", 404,
              "Cannot find session nope; it might have expired"),
    /* Cancel on an unknown session is an error, as in the official backend. */
    {"cancel on an unknown session",
     .query = "mutation { cancelPropagateInVideo(input: {sessionId: \"nope\"}) { success } }",
     .status = 200, .expect = {"\"message\":\"Cannot find session nope; it might have expired\""}},
};

static void test_bad_inputs(void **state) {
    (void)state;
    char *sid = start_session("gallery/01_dog.mp4");
    char p[1024];
    snprintf(p, sizeof p, "%s/uploads/notes.txt", data_dir);
    test_write_file(p, "hello", 5);
    /* The session is closed before a failure is reported, so later tests still find room. */
    char report[16384];
    const http_case_env env = {port, 10000, sid, test_make_tmpdir()};
    if (http_cases_run(&env, BAD_INPUTS, HTTP_CASES_COUNT(BAD_INPUTS), report, sizeof report)) {
        close_session(sid, 1);
        free(sid);
        fail_msg("%s", report);
    }
    assert_alive();
    /* Too many points for the per-request limit. */
    cJSON *r = add_points(sid, 0, 1, 2000);
    assert_contains(gql_error_message(r),
                    "at most 1024 are allowed per request (MAX_POINTS_PER_REQUEST)");
    cJSON_Delete(r);
    /* 10^6 points: refused before the JSON is even built. */
    {
        size_t cap = 16u << 20;
        char *body = malloc(cap);
        size_t n = (size_t)sprintf(
            body,
            "{\"query\":\"mutation($input: AddPointsInput!) { addPoints(input: $input) { "
            "frameIndex } }\",\"variables\":{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":0,"
            "\"objectId\":1,\"clearOldPoints\":true,\"labels\":[",
            sid);
        for (int i = 0; i < 1000000; i++) n += (size_t)sprintf(body + n, i ? ",1" : "1");
        n += (size_t)sprintf(body + n, "],\"points\":[");
        for (int i = 0; i < 1000000 && n + 32 < cap; i++)
            n += (size_t)sprintf(body + n, i ? ",[0,0]" : "[0,0]");
        n += (size_t)sprintf(body + n, "]}}}");
        expect_json_error("POST", "/graphql", "Content-Type: application/json\r\n", body, n, 413,
                          "larger than");
        free(body);
    }
    close_session(sid, 1);
    free(sid);
    assert_alive();
}

static void test_session_expiry(void **state) {
    (void)state;
    char *sid = start_session("gallery/01_dog.mp4");
    cJSON_Delete(add_points(sid, 0, 1, 1));
    /* TTL is 2 s here; the reaper runs every second. */
    sleep(4);
    cJSON *r = add_points(sid, 0, 1, 1);
    char expect[200];
    snprintf(expect, sizeof expect, "Cannot find session %s; it might have expired", sid);
    assert_string_equal(gql_error_message(r), expect);
    cJSON_Delete(r);
    free(sid);
}

static void test_session_limits(void **state) {
    (void)state;
    /* MAX_SESSIONS = 8; the memory budget (64 MB, 1 MB model, 4 MB a session) allows 15. */
    char *ids[8];
    for (int i = 0; i < 8; i++) ids[i] = start_session("gallery/01_dog.mp4");
    cJSON *r =
        gql("mutation { startSession(input: {path: \"gallery/01_dog.mp4\"}) { sessionId } }", NULL);
    assert_contains(gql_error_message(r), "MAX_SESSIONS=8");
    cJSON_Delete(r);
    for (int i = 0; i < 8; i++) {
        close_session(ids[i], 1);
        free(ids[i]);
    }
    /* Objects per session (64 by default) are bounded by the tracker option. */
    char *sid = start_session("gallery/01_dog.mp4");
    for (int i = 0; i < 64; i++) cJSON_Delete(add_points(sid, 0, i, 1));
    r = add_points(sid, 0, 64, 1);
    assert_contains(gql_error_message(r), "too many objects");
    cJSON_Delete(r);
    close_session(sid, 1);
    free(sid);
}

static void test_cancel_mid_stream(void **state) {
    (void)state;
    char *sid = start_session("gallery/sub/long.mp4");
    cJSON_Delete(add_points(sid, 0, 1, 1));
    double_set_frame_delay_ms(10);
    http_stream *s = open_propagation(sid, 0);
    assert_non_null(s);
    parts p = {0};
    assert_null(read_stream(s, &p, 3));
    assert_int_equal(gql_cancel_propagation(&client, sid), 1);
    /* The stream ends cleanly (no partial part) well before the 400 frames. */
    const char *e = read_stream(s, &p, 0);
    if (e) fail_msg("stream after cancel: %s", e);
    http_stream_close(s);
    assert_true(p.n < 20);
    double_set_frame_delay_ms(0);
    /* The session is usable again right away. */
    cJSON_Delete(add_points(sid, 1, 1, 1));
    close_session(sid, 1);
    free(sid);
}

static void test_disconnect_mid_stream(void **state) {
    (void)state;
    char *sid = start_session("gallery/sub/long.mp4");
    cJSON_Delete(add_points(sid, 0, 1, 1));
    double_set_frame_delay_ms(10);
    http_stream *s = open_propagation(sid, 0);
    parts p = {0};
    assert_null(read_stream(s, &p, 2));
    http_stream_close(s); /* the browser tab goes away */
    long before = double_frames_propagated();
    usleep(300 * 1000);
    long after = double_frames_propagated();
    usleep(300 * 1000);
    /* Work stopped within a frame or two of the disconnect (the stream queues at most 2). */
    assert_true(double_frames_propagated() - before <= 4);
    assert_int_equal(double_frames_propagated(), after);
    double_set_frame_delay_ms(0);
    /* The session is free and the server keeps serving. */
    cJSON *r = add_points(sid, 2, 1, 1);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "addPoints"));
    cJSON_Delete(r);
    close_session(sid, 1);
    free(sid);
    assert_alive();
}

static void test_newer_propagation_replaces(void **state) {
    (void)state;
    char *sid = start_session("gallery/sub/long.mp4");
    cJSON_Delete(add_points(sid, 0, 1, 1));
    double_set_frame_delay_ms(5);
    http_stream *a = open_propagation(sid, 0);
    parts pa = {0};
    assert_null(read_stream(a, &pa, 1));
    http_stream *b = open_propagation(sid, 10);
    assert_non_null(b);
    assert_int_equal(http_stream_status(b), 200);
    parts pb = {0};
    assert_null(read_stream(b, &pb, 1));
    assert_int_equal(pb.frames[0], 10);
    /* The first stream was ended cleanly. */
    assert_null(read_stream(a, &pa, 0));
    assert_true(pa.n < 400);
    http_stream_close(a);
    http_stream_close(b);
    double_set_frame_delay_ms(0);
    close_session(sid, 1);
    free(sid);
}

/* A click on a session that is propagating stops the propagation, then is answered. */
static void test_click_cancels_propagation(void **state) {
    (void)state;
    char *sid = start_session("gallery/sub/long.mp4");
    cJSON_Delete(add_points(sid, 0, 1, 1));
    double_set_frame_delay_ms(20);
    const double cancels0 = metric("sam2_cancel_to_end_seconds_count");
    http_stream *s = open_propagation(sid, 0);
    parts p = {0};
    assert_null(read_stream(s, &p, 2));
    /* The reader stops reading: the stream would wait for it forever; the click must not. */
    cJSON *r = add_points(sid, p.frames[p.n - 1], 2, 1);
    const cJSON *ap = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "addPoints");
    if (!ap) fail_msg("the click was not answered: %s", gql_error_message(r));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(ap, "rleMaskList")), 2);
    cJSON_Delete(r);
    /* The stream ended cleanly, long before the video's 400 frames. */
    const char *e = read_stream(s, &p, 0);
    if (e) fail_msg("stream after the click: %s", e);
    http_stream_close(s);
    assert_true(p.n < 20);
    assert_true(metric("sam2_cancel_to_end_seconds_count") == cancels0 + 1);
    double_set_frame_delay_ms(0);
    close_session(sid, 1);
    free(sid);
}

/* Every way of stopping a propagation tells the tracker (sam2_tracker_cancel, which stops inside
 * the frame being computed) and ends the stream; the test double abandons its frame half-way
 * when told, as the real tracker does. */
typedef enum stop_kind {
    STOP_CANCEL,
    STOP_CLOSE,
    STOP_DISCONNECT,
    STOP_CLICK,
    STOP_NEWER
} stop_kind;

static void test_every_stop_tells_the_tracker(void **state) {
    (void)state;
    const struct {
        stop_kind kind;
        const char *name;
    } cases[] = {{STOP_CANCEL, "cancelPropagateInVideo"},
                 {STOP_CLOSE, "closeSession"},
                 {STOP_DISCONNECT, "a client that disconnects"},
                 {STOP_CLICK, "a click on the session"},
                 {STOP_NEWER, "a newer propagation"}};
    /* Long frames: the stop arrives while one is being computed. */
    double_set_frame_delay_ms(2000);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *sid = start_session("gallery/sub/long.mp4");
        cJSON_Delete(add_points(sid, 0, 1, 1));
        const long cancels0 = double_tracker_cancels(), abandoned0 = double_frames_abandoned();
        http_stream *s = open_propagation(sid, 0);
        parts p = {0};
        /* The first part is the prompted frame (no computation); the next one takes 2 s. */
        assert_null(read_stream(s, &p, 1));
        usleep(100 * 1000);
        int closed = 0;
        switch (cases[i].kind) {
        case STOP_CANCEL:
            assert_int_equal(gql_cancel_propagation(&client, sid), 1);
            break;
        case STOP_CLOSE:
            close_session(sid, 1);
            closed = 1;
            break;
        case STOP_DISCONNECT:
            http_stream_close(s);
            s = NULL;
            break;
        case STOP_CLICK:
            cJSON_Delete(add_points(sid, 0, 2, 1));
            break;
        case STOP_NEWER: {
            http_stream *b = open_propagation(sid, 0);
            parts pb = {0};
            assert_null(read_stream(b, &pb, 1)); /* it started: the first one has ended */
            assert_int_equal(gql_cancel_propagation(&client, sid), 1);
            assert_null(read_stream(b, &pb, 0));
            http_stream_close(b);
            break;
        }
        }
        if (s) {
            const char *e = read_stream(s, &p, 0);
            if (e) fail_msg("%s: the stream did not end cleanly: %s", cases[i].name, e);
            http_stream_close(s);
        }
        for (int k = 0; k < 500 && double_frames_abandoned() == abandoned0; k++) usleep(10000);
        if (double_tracker_cancels() <= cancels0 || double_frames_abandoned() <= abandoned0)
            fail_msg(
                "%s: the tracker was not told to stop inside the frame (%ld cancels, %ld frames "
                "abandoned)",
                cases[i].name, double_tracker_cancels() - cancels0,
                double_frames_abandoned() - abandoned0);
        if (!closed) close_session(sid, 1);
        free(sid);
    }
    double_set_frame_delay_ms(0);
}

/* One propagateFrame observation per streamed frame; the gauge of propagating sessions and the
 * cancel -> end histogram. */
static void test_metrics_count_frames(void **state) {
    (void)state;
    const double frames0 = metric("sam2_frames_tracked_total");
    const double obs0 = metric("sam2_inference_seconds_count{op=\"propagateFrame\"}");
    const double cancels0 = metric("sam2_cancel_to_end_seconds_count");
    char *sid = start_session("gallery/05_default_juggle.mp4");
    cJSON_Delete(add_points(sid, 3, 1, 1));
    http_stream *s = open_propagation(sid, 3);
    parts p = {0};
    assert_null(read_stream(s, &p, 0));
    http_stream_close(s);
    assert_int_equal(p.n, 9); /* 3..7, then 3..0 */
    assert_true(metric("sam2_frames_tracked_total") - frames0 == 9);
    assert_true(metric("sam2_inference_seconds_count{op=\"propagateFrame\"}") - obs0 == 9);
    assert_true(metric("sam2_sessions_propagating") == 0);
    /* While a stream waits for its reader, its session counts as propagating. */
    char *sid2 = start_session("gallery/sub/long.mp4");
    cJSON_Delete(add_points(sid2, 0, 1, 1));
    s = open_propagation(sid2, 0);
    parts p2 = {0};
    assert_null(read_stream(s, &p2, 2));
    assert_true(metric("sam2_sessions_propagating") == 1);
    assert_int_equal(gql_cancel_propagation(&client, sid2), 1);
    assert_null(read_stream(s, &p2, 0));
    http_stream_close(s);
    /* The producer records the delay once it has ended, just after the stream's last byte. */
    for (int i = 0; i < 500 && metric("sam2_cancel_to_end_seconds_count") == cancels0; i++)
        usleep(10000);
    assert_true(metric("sam2_cancel_to_end_seconds_count") == cancels0 + 1);
    for (int i = 0; i < 500 && metric("sam2_sessions_propagating") != 0; i++) usleep(10000);
    assert_true(metric("sam2_sessions_propagating") == 0);
    close_session(sid, 1);
    close_session(sid2, 1);
    free(sid);
    free(sid2);
}

/* A client that leaves mid-stream is an ordinary event: one info line, no error. */
static void test_disconnect_logs_no_error(void **state) {
    (void)state;
    char *sid = start_session("gallery/sub/long.mp4");
    cJSON_Delete(add_points(sid, 0, 1, 1));
    /* Frames slow enough that the server waits for the next one when the client leaves (with
     * faster frames the connection may instead fail while a part is written). */
    double_set_frame_delay_ms(300);
    server_test_log_clear();
    http_stream *s = open_propagation(sid, 0);
    parts p = {0};
    assert_null(read_stream(s, &p, 2));
    http_stream_close(s);
    char needle[128];
    snprintf(needle, sizeof needle, "propagation in session %s ended", sid);
    free(wait_for_log(needle));
    usleep(200 * 1000); /* anything the connection's end logs comes now */
    char *log = server_test_log_copy();
    if (count_occurrences(log, "client closed the stream after ") != 1 || strstr(log, "rror"))
        fail_msg("expected one 'client closed the stream' line and no error; the log:\n%s", log);
    free(log);
    double_set_frame_delay_ms(0);
    close_session(sid, 1);
    free(sid);
}

/* With COMPUTE_NICE, every model call runs on a thread at that nice value and SCHED_BATCH, and
 * no other thread of the server is lowered (HTTP and stream threads keep normal priority). */
static int all_threads_at_nice(int nice) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return 0;
    int ok = 1;
    struct dirent *e;
    while ((e = readdir(d))) {
        long tid = atol(e->d_name);
        int n;
        if (tid > 0 && !prio_of_thread(tid, &n, NULL) && n != nice) ok = 0;
    }
    closedir(d);
    return ok;
}

static void test_compute_priority(void **state) {
    (void)state;
    int nice0;
    if (prio_of_thread(0, &nice0, NULL)) {
        printf("SKIP: no per-thread priorities here; the compute priority is not tested\n");
        return;
    }
    server_config cfg;
    make_config(&cfg, test_make_tmpdir());
    cfg.compute_nice = nice0 + 7 > 19 ? 19 : nice0 + 7;
    server *s2 = double_server_start(&cfg);
    assert_non_null(s2);
    server_client c2 = client;
    c2.port = server_port(s2);
    char why[256];
    char *sid = gql_start_session(&c2, "gallery/01_dog.mp4", why, sizeof why);
    assert_non_null(sid);
    char vars[512];
    snprintf(vars, sizeof vars,
             "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":1,\"objectId\":1,\"labels\":[1],"
             "\"points\":[[0.5,0.5]],\"clearOldPoints\":true}}",
             sid);
    cJSON_Delete(gql_call(&c2, FRONTEND_ADD_POINTS, vars));
    snprintf(vars, sizeof vars,
             "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":2,\"objectId\":2,\"mask\":{\"size\":["
             "4,5],\"counts\":\"x\"}}}",
             sid);
    cJSON_Delete(gql_call(
        &c2, "mutation($input: AddMaskInput!) { addMask(input: $input) { frameIndex } }", vars));
    snprintf(vars, sizeof vars,
             "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":2,\"objectId\":2}}", sid);
    cJSON_Delete(gql_call(&c2, FRONTEND_CLEAR_POINTS_IN_FRAME, vars));
    http_stream *st = propagation_open(&c2, sid, 1);
    assert_non_null(st);
    parts p = {0};
    assert_null(propagation_read(st, on_part, &p, &p.n, 0));
    http_stream_close(st);
    snprintf(vars, sizeof vars, "{\"input\":{\"sessionId\":\"%s\",\"objectId\":2}}", sid);
    cJSON_Delete(gql_call(&c2, FRONTEND_REMOVE_OBJECT, vars));
    static const char *const NAMES[DOUBLE_CALL_COUNT] = {
        "open", "add_points", "add_mask", "clear_frame", "remove_object", "propagate"};
    for (int k = 0; k < DOUBLE_CALL_COUNT; k++) {
        double_priority pr = double_last_priority((double_call)k);
        if (!pr.called || pr.nice != cfg.compute_nice || !pr.batch)
            fail_msg("%s ran at nice %d, batch %d (called %d); expected nice %d, SCHED_BATCH",
                     NAMES[k], pr.nice, pr.batch, pr.called, cfg.compute_nice);
    }
    /* The compute threads are gone; every thread left (HTTP, the test's) is at normal priority. */
    assert_true(all_threads_at_nice(nice0));
    assert_int_equal(gql_close_session(&c2, sid), 1);
    free(sid);
    server_free(s2);
}

/* The official frontend's upload (see frontend_upload). */
static int post_upload(const char *file_content, size_t len, const char *filename,
                       http_response *r) {
    return frontend_upload(port, filename, file_content, len, r, 10000);
}

static void test_upload(void **state) {
    (void)state;
    char p[1024];
    snprintf(p, sizeof p, "%s/gallery/01_dog.mp4", data_dir);
    size_t len;
    char *content = test_read_file(p, &len);
    http_response r;
    assert_int_equal(post_upload(content, len, "01_dog.mp4", &r), 0);
    assert_int_equal(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "data"), "uploadVideo");
    if (!v) fail_msg("%s", r.body);
    const char *path = cJSON_GetObjectItem(v, "path")->valuestring;
    assert_int_equal(strncmp(path, "uploads/", 8), 0);
    assert_int_equal(strlen(path), 8 + 64 + 4);
    assert_int_equal(cJSON_GetObjectItem(v, "width")->valueint, 640);
    assert_contains(cJSON_GetObjectItem(v, "posterPath")->valuestring, "posters/");
    char *upload_path = strdup(path);
    cJSON_Delete(j);
    http_response_free(&r);
    /* The upload is served and a session starts on it. */
    snprintf(p, sizeof p, "/%s", upload_path);
    expect_status(p, NULL, 200);
    char *sid = start_session(upload_path);
    close_session(sid, 1);
    free(sid);
    free(upload_path);
    free(content);
    /* Not a video: the ingest's error, verbatim, as a GraphQL error. */
    assert_int_equal(post_upload("just text", 9, "notes.mp4", &r), 0);
    assert_int_equal(r.status, 200);
    assert_contains(r.body, "not valid video file");
    assert_contains(r.body, "\"path\":[\"uploadVideo\"]");
    http_response_free(&r);
    /* Over the upload limit (1 MB here). */
    size_t big = (3u << 20) / 2;
    char *blob = malloc(big);
    memset(blob, 'x', big);
    assert_int_equal(post_upload(blob, big, "big.mp4", &r), 0);
    assert_int_equal(r.status, 413);
    assert_contains(r.body, "MAX_UPLOAD_MB");
    http_response_free(&r);
    free(blob);
    /* Malformed multipart bodies. */
    expect_json_error("POST", "/graphql", "Content-Type: multipart/form-data; boundary=abc\r\n",
                      "garbage", 7, 400, "closing delimiter");
    expect_json_error("POST", "/graphql", "Content-Type: multipart/form-data\r\n", "x", 1, 400,
                      "boundary");
    const char *no_map = "--b\r\nContent-Disposition: form-data; "
                         "name=\"operations\"\r\n\r\n{\"query\":\"{a}\"}\r\n--b--\r\n";
    expect_json_error("POST", "/graphql", "Content-Type: multipart/form-data; boundary=b\r\n",
                      no_map, strlen(no_map), 400, "no 'map' field");
    /* No temporary file is left behind. */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls %s/spill/sam2-upload-* 2>/dev/null | wc -l", test_make_tmpdir());
    FILE *f = popen(cmd, "r");
    int left = -1;
    if (f) {
        if (fscanf(f, "%d", &left) != 1) left = -1;
        pclose(f);
    }
    assert_int_equal(left, 0);
    assert_alive();
}

/* Uploads are transcoded one at a time (MAX_CONCURRENT_UPLOADS=1); the one running counts in
 * sam2_job_bytes (hardening 2). */
typedef struct upload_call {
    const char *content;
    size_t len;
    http_response r;
    int rc;
} upload_call;

static void *upload_main(void *arg) {
    upload_call *u = arg;
    u->rc = post_upload(u->content, u->len, "clip.mp4", &u->r);
    return NULL;
}

static void test_uploads_wait_in_line(void **state) {
    (void)state;
    char p[1024];
    snprintf(p, sizeof p, "%s/gallery/01_dog.mp4", data_dir);
    size_t len;
    char *content = test_read_file(p, &len);
    double_set_upload_gate(1);
    upload_call u[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        u[i] = (upload_call){content, len, {0}, -1};
        pthread_create(&th[i], NULL, upload_main, &u[i]);
    }
    for (int i = 0; i < 1000 && double_uploads_running() == 0; i++) usleep(10000);
    usleep(300 * 1000); /* the other two arrive and wait in line */
    assert_int_equal(double_uploads_running(), 1);
    assert_true(metric("sam2_job_bytes") > 0);
    double_set_upload_gate(0);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(u[i].rc, 0);
        assert_int_equal(u[i].r.status, 200);
        assert_contains(u[i].r.body, "\"path\":\"uploads/");
        http_response_free(&u[i].r);
    }
    assert_int_equal(double_uploads_most(), 1);
    assert_true(metric("sam2_job_bytes") == 0);
    free(content);
}

/* One client address can hold only so many connections and sessions, and a request body must
 * arrive within REQUEST_BODY_TIMEOUT however slowly it trickles (hardening 6). */
static int raw_connect(int to_port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)to_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    return fd;
}

static int healthy_at(int at_port) {
    http_response r;
    if (http_request(at_port, "GET", "/healthy", NULL, NULL, 0, &r, 2000)) return 0;
    const int ok = r.status == 200;
    http_response_free(&r);
    return ok;
}

static void test_per_client_limits(void **state) {
    (void)state;
    server_config cfg;
    make_config(&cfg, test_make_tmpdir());
    /* Sessions on a server without a connection bound: the connections of earlier requests
     * may still count for a moment after the client closed them (slow under sanitizers). */
    cfg.max_connections_per_ip = 0;
    cfg.max_sessions_per_ip = 2;
    cfg.body_timeout_s = 2;
    cfg.session_ttl_s = 600;
    server *s2 = double_server_start(&cfg);
    assert_non_null(s2);
    int p2 = server_port(s2);
    server_client c2 = client;
    c2.port = p2;
    /* Sessions. */
    char why[512];
    char *a = gql_start_session(&c2, "gallery/01_dog.mp4", why, sizeof why);
    char *b = gql_start_session(&c2, "gallery/01_dog.mp4", why, sizeof why);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(gql_start_session(&c2, "gallery/01_dog.mp4", why, sizeof why));
    assert_contains(why, "already has 2 sessions open (MAX_SESSIONS_PER_IP=2)");
    assert_int_equal(gql_close_session(&c2, a), 1);
    char *c = gql_start_session(&c2, "gallery/01_dog.mp4", why, sizeof why);
    assert_non_null(c);
    assert_int_equal(gql_close_session(&c2, b), 1);
    assert_int_equal(gql_close_session(&c2, c), 1);
    free(a);
    free(b);
    free(c);
    server_free(s2);
    /* Connections: three idle ones hold the address's share. */
    cfg.max_connections_per_ip = 3;
    s2 = double_server_start(&cfg);
    assert_non_null(s2);
    p2 = server_port(s2);
    int fds[3], held = 0;
    /* The connections of the requests above may still count for a moment, so that one of the
     * three is refused: then they are opened again. */
    for (int attempt = 0; attempt < 20 && !held; attempt++) {
        for (int i = 0; i < 3; i++) assert_true((fds[i] = raw_connect(p2)) >= 0);
        usleep(500 * 1000); /* accepted (or refused) by the server's listening thread */
        held = 1;
        for (int i = 0; i < 3; i++) {
            struct pollfd pf = {fds[i], POLLIN | POLLRDHUP, 0};
            if (poll(&pf, 1, 0) > 0) held = 0; /* closed by the server */
        }
        if (!held)
            for (int i = 0; i < 3; i++) close(fds[i]);
    }
    assert_true(held);
    assert_false(healthy_at(p2));
    for (int i = 0; i < 3; i++) close(fds[i]);
    int ok = 0;
    for (int i = 0; i < 200 && !(ok = healthy_at(p2)); i++) usleep(20000);
    assert_true(ok);
    /* A body sent one byte at a time: cut off once it has taken 2 s, long before it ends. */
    server_test_log_clear();
    int fd = raw_connect(p2);
    assert_true(fd >= 0);
    char head[256];
    int n = snprintf(
        head, sizeof head,
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n",
        p2);
    assert_int_equal(send(fd, head, (size_t)n, MSG_NOSIGNAL), n);
    int sent = 0, cut = 0;
    for (; sent < 200 && !cut; sent++) {
        if (send(fd, " ", 1, MSG_NOSIGNAL) != 1) cut = 1;
        struct pollfd pf = {fd, POLLIN | POLLRDHUP, 0};
        if (poll(&pf, 1, 250) > 0) {
            char buf[256];
            if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0) cut = 1;
        }
    }
    close(fd);
    if (!cut) fail_msg("a body trickling for %d s was not cut off", sent / 4);
    free(wait_for_log("REQUEST_BODY_TIMEOUT"));
    server_free(s2);
}

/* Behind a trusted proxy (TRUSTED_PROXIES) the per-client limits count the client the proxy
 * names last in X-Forwarded-For, not the proxy; the proxy's own connections are not counted.
 * From any other peer, X-Forwarded-For changes nothing (a client cannot pick its own key). */
static char *start_as(server_client *c, const char *xff, char *why, size_t cap) {
    char headers[256];
    snprintf(headers, sizeof headers, "X-Forwarded-For: %s\r\n", xff);
    c->extra_headers = headers;
    char *id = gql_start_session(c, "gallery/01_dog.mp4", why, cap);
    c->extra_headers = NULL;
    return id;
}

static void test_per_client_limits_behind_proxy(void **state) {
    (void)state;
    server_config cfg;
    make_config(&cfg, test_make_tmpdir());
    cfg.max_connections_per_ip = 2;
    cfg.max_sessions_per_ip = 1;
    cfg.session_ttl_s = 600;
    snprintf(cfg.trusted_proxies, sizeof cfg.trusted_proxies, "10.9.0.0/16, 127.0.0.1");
    server *s2 = double_server_start(&cfg);
    assert_non_null(s2);
    server_client c2 = client;
    c2.port = server_port(s2);
    char why[512];
    char *a = start_as(&c2, "203.0.113.1", why, sizeof why);
    assert_non_null(a);
    assert_null(start_as(&c2, "203.0.113.1", why, sizeof why));
    assert_contains(why, "The client 203.0.113.1 already has 1 sessions open");
    /* The element the client wrote itself is ignored: the proxy's (last) one counts. */
    assert_null(start_as(&c2, "203.0.113.2, 203.0.113.1", why, sizeof why));
    assert_contains(why, "The client 203.0.113.1 already has");
    char *b = start_as(&c2, "203.0.113.1, 203.0.113.2", why, sizeof why);
    assert_non_null(b);
    /* One header line per hop: the last line is the trusted proxy's. */
    c2.extra_headers = "X-Forwarded-For: 203.0.113.3\r\nX-Forwarded-For: 203.0.113.2\r\n";
    assert_null(gql_start_session(&c2, "gallery/01_dog.mp4", why, sizeof why));
    assert_contains(why, "The client 203.0.113.2 already has");
    c2.extra_headers = NULL;
    /* Without X-Forwarded-For the proxy's address is the key. */
    char *c = gql_start_session(&c2, "gallery/01_dog.mp4", why, sizeof why);
    assert_non_null(c);
    /* The proxy may hold more connections than MAX_CONNECTIONS_PER_IP. */
    int fds[4];
    for (int i = 0; i < 4; i++) assert_true((fds[i] = raw_connect(c2.port)) >= 0);
    usleep(300 * 1000);
    assert_true(healthy_at(c2.port));
    for (int i = 0; i < 4; i++) close(fds[i]);
    assert_int_equal(gql_close_session(&c2, a), 1);
    assert_int_equal(gql_close_session(&c2, b), 1);
    assert_int_equal(gql_close_session(&c2, c), 1);
    free(a);
    free(b);
    free(c);
    server_free(s2);

    /* Not a trusted peer: the header is ignored, the peer is the key. */
    make_config(&cfg, test_make_tmpdir());
    cfg.max_sessions_per_ip = 1;
    cfg.session_ttl_s = 600;
    snprintf(cfg.trusted_proxies, sizeof cfg.trusted_proxies, "10.9.0.1");
    s2 = double_server_start(&cfg);
    assert_non_null(s2);
    c2.port = server_port(s2);
    a = start_as(&c2, "203.0.113.1", why, sizeof why);
    assert_non_null(a);
    assert_null(start_as(&c2, "203.0.113.7", why, sizeof why));
    assert_contains(why, "The client 127.0.0.1 already has 1 sessions open");
    assert_int_equal(gql_close_session(&c2, a), 1);
    free(a);
    server_free(s2);
}

/* Control characters in an upload's file name reach the log escaped (hardening 8). */
static void test_upload_name_escaped_in_log(void **state) {
    (void)state;
    char p[1024];
    snprintf(p, sizeof p, "%s/gallery/01_dog.mp4", data_dir);
    size_t len;
    char *content = test_read_file(p, &len);
    server_test_log_clear();
    http_response r;
    assert_int_equal(post_upload(content, len, "a\x1b[31mred\tname\x7f.mp4", &r), 0);
    assert_int_equal(r.status, 200);
    assert_contains(r.body, "\"path\":\"uploads/");
    http_response_free(&r);
    char *log = server_test_log_copy();
    if (!strstr(log, "from a\\x1b[31mred\\tname\\x7f.mp4") || strchr(log, '\x1b') ||
        strchr(log, '\t') || strchr(log, 0x7f))
        fail_msg("the upload's name is not escaped in the log:\n%s", log);
    free(log);
    free(content);
}

/* SPILL_MAX_MB bounds a session's state on disk: the propagation that passes it ends with an
 * error, later clicks and propagations are refused naming it, clearPointsInVideo frees it
 * (hardening 9). */
static void test_spill_bound(void **state) {
    (void)state;
    server_config cfg;
    make_config(&cfg, test_make_tmpdir());
    cfg.spill_max_mb = 1;
    server *s2 = double_server_start(&cfg);
    assert_non_null(s2);
    server_client c2 = client;
    c2.port = server_port(s2);
    double_set_spill_per_frame(300 * 1024);
    char why[256];
    char *sid = gql_start_session(&c2, "gallery/sub/long.mp4", why, sizeof why);
    assert_non_null(sid);
    char vars[512];
    snprintf(vars, sizeof vars,
             "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":0,\"objectId\":1,\"labels\":[1],"
             "\"points\":[[0.5,0.5]],\"clearOldPoints\":true}}",
             sid);
    cJSON_Delete(gql_call(&c2, FRONTEND_ADD_POINTS, vars));
    server_test_log_clear();
    http_stream *st = propagation_open(&c2, sid, 0);
    parts p = {0};
    propagation_read(st, on_part, &p, &p.n, 0); /* cut short: the error ends the connection */
    http_stream_close(st);
    assert_int_equal(p.n, 4); /* 300 KB a frame: the fourth passes 1 MB */
    free(wait_for_log("SPILL_MAX_MB=1"));
    cJSON *r = gql_call(&c2, FRONTEND_ADD_POINTS, vars);
    assert_contains(gql_error_message(r), "more than SPILL_MAX_MB=1 allows");
    cJSON_Delete(r);
    char body[256];
    snprintf(body, sizeof body, "{\"session_id\": \"%s\", \"start_frame_index\": 0}", sid);
    expect_json_error_at(c2.port, "POST", "/propagate_in_video",
                         "Content-Type: application/json\r\n", body, strlen(body), 507,
                         "SPILL_MAX_MB");
    char clear[256];
    snprintf(clear, sizeof clear, "{\"input\":{\"sessionId\":\"%s\"}}", sid);
    cJSON_Delete(gql_call(&c2,
                          "mutation($input: ClearPointsInVideoInput!) { clearPointsInVideo(input: "
                          "$input) { success } }",
                          clear));
    r = gql_call(&c2, FRONTEND_ADD_POINTS, vars);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "addPoints"));
    cJSON_Delete(r);
    double_set_spill_per_frame(0);
    assert_int_equal(gql_close_session(&c2, sid), 1);
    free(sid);
    server_free(s2);
}

/* ---- fairness -----------------------------------------------------------------------------------
 */
typedef struct clicker {
    char *sid;
    int clicks;
    double total_ms, max_ms;
    double lat[64];
    int errors;
    int obj;
} clicker;

static void *click_loop(void *arg) {
    clicker *c = arg;
    for (int i = 0; i < c->clicks; i++) {
        double t0 = test_now_ms();
        cJSON *r = add_points(c->sid, i % 5, c->obj, 1);
        double dt = test_now_ms() - t0;
        const cJSON *ap = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "addPoints");
        char expect[64];
        snprintf(expect, sizeof expect, "f%do%dp1", i % 5, c->obj);
        const cJSON *counts = cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(ap, "rleMaskList"), 0),
                                "rleMask"),
            "counts");
        if (!cJSON_IsString(counts) || strcmp(counts->valuestring, expect)) c->errors++;
        cJSON_Delete(r);
        c->lat[i] = dt;
        c->total_ms += dt;
        if (dt > c->max_ms) c->max_ms = dt;
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

typedef struct streamer {
    char *sid;
    int parts;
    const char *error;
} streamer;

static void *stream_loop(void *arg) {
    streamer *st = arg;
    http_stream *s = open_propagation(st->sid, 0);
    if (!s) {
        st->error = "open failed";
        return NULL;
    }
    parts *p = calloc(1, sizeof *p);
    st->error = read_stream(s, p, 0);
    st->parts = p->n;
    free(p);
    http_stream_close(s);
    return NULL;
}

static void test_fairness(void **state) {
    (void)state;
    const int clicks = 20;
    /* A frame of propagation costs a little less than a click, as with the real model, where a
     * click on a new frame also encodes the image. */
    double_set_click_delay_ms(20);
    double_set_frame_delay_ms(15);
    char *a = start_session("gallery/sub/long.mp4");
    cJSON_Delete(add_points(a, 0, 1, 1));
    clicker idle = {start_session("gallery/01_dog.mp4"), clicks, 0, 0, {0}, 0, 7};
    click_loop(&idle);
    double idle_median = median(idle.lat, clicks);
    /* One session streams 400 frames while another clicks. */
    streamer st = {a, 0, NULL};
    pthread_t ts;
    pthread_create(&ts, NULL, stream_loop, &st);
    usleep(100 * 1000);
    clicker busy = {idle.sid, clicks, 0, 0, {0}, 0, 7};
    click_loop(&busy);
    double busy_median = median(busy.lat, clicks);
    printf("click latency (test double: 20 ms per click, 15 ms per frame): idle median %.1f ms, "
           "while another "
           "session streams median %.1f ms (%.2fx), max %.1f ms\n",
           idle_median, busy_median, busy_median / idle_median, busy.max_ms);
    assert_int_equal(busy.errors, 0);
    assert_true(busy_median <= 2 * idle_median + 5);
    /* Four sessions at once: one streaming, three clicking; all answers right. */
    clicker c[3];
    pthread_t tc[3];
    for (int i = 0; i < 3; i++) {
        c[i] = (clicker){start_session("gallery/01_dog.mp4"), 10, 0, 0, {0}, 0, 10 + i};
        pthread_create(&tc[i], NULL, click_loop, &c[i]);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(tc[i], NULL);
        assert_int_equal(c[i].errors, 0);
        printf("  clicker %d: mean %.1f ms, max %.1f ms\n", i, c[i].total_ms / 10, c[i].max_ms);
    }
    /* Stop the stream and check it was well-formed up to there. */
    char vars[256];
    snprintf(vars, sizeof vars, "{\"input\":{\"sessionId\":\"%s\"}}", a);
    cJSON_Delete(gql("mutation($input: CancelPropagateInVideoInput!) { "
                     "cancelPropagateInVideo(input: $input) { success } }",
                     vars));
    pthread_join(ts, NULL);
    if (st.error) fail_msg("stream: %s", st.error);
    assert_true(st.parts > 0);
    double_set_click_delay_ms(0);
    double_set_frame_delay_ms(0);
    close_session(a, 1);
    close_session(idle.sid, 1);
    for (int i = 0; i < 3; i++) {
        close_session(c[i].sid, 1);
        free(c[i].sid);
    }
    free(a);
    free(idle.sid);
}

static void test_startup_errors(void **state) {
    (void)state;
    server_config cfg;
    const char *root = test_make_tmpdir();
    make_config(&cfg, root);
    server_deps deps = {double_inference_ops(), double_ingest_ops(), server_test_log, NULL};
    sam2_error err = {0};
    snprintf(cfg.checkpoint, sizeof cfg.checkpoint, "%s/missing.pt", root);
    assert_null(server_create(&cfg, &deps, &err));
    assert_contains(err.message, "missing.pt not found");
    assert_contains(err.message, "dl.fbaipublicfiles.com");
    make_config(&cfg, root);
    snprintf(cfg.data_path, sizeof cfg.data_path, "%s/no-such-data", root);
    assert_null(server_create(&cfg, &deps, &err));
    assert_contains(err.message, "is not a folder");
}

static void test_config(void **state) {
    (void)state;
    server_config c;
    server_config_defaults(&c);
    sam2_error err = {0};
    setenv("MODEL_SIZE", "tiny", 1);
    setenv("APP_ROOT", "/srv/sam2", 1);
    setenv("MAX_SESSIONS", "3", 1);
    setenv("VIDEO_ENCODE_VERBOSE", "True", 1);
    assert_int_equal(server_config_from_env(&c, &err), 0);
    char *argv[] = {"serve",           "--port", "8080", "--timeout=30", "--no-correct-as-cond",
                    "--max-upload-mb", "5"};
    int help;
    assert_int_equal(server_config_from_args(&c, 7, argv, &help, &err), 0);
    assert_int_equal(server_config_finalize(&c, &err), 0);
    assert_string_equal(c.checkpoint, "/srv/sam2/checkpoints/sam2.1_hiera_tiny.pt");
    assert_string_equal(c.api_url, "http://localhost:8080");
    assert_int_equal(c.port, 8080);
    assert_int_equal(c.timeout_s, 30);
    assert_int_equal(c.max_sessions, 3);
    assert_int_equal(c.correct_as_cond, 0);
    assert_int_equal(c.encode_verbose, 1);
    assert_int_equal(c.max_upload_bytes, 5u << 20);
    setenv("MAX_SESSIONS", "many", 1);
    assert_int_not_equal(server_config_from_env(&c, &err), 0);
    assert_contains(err.message, "MAX_SESSIONS=many");
    unsetenv("MAX_SESSIONS");
    unsetenv("MODEL_SIZE");
    unsetenv("APP_ROOT");
    unsetenv("VIDEO_ENCODE_VERBOSE");
    char *bad[] = {"serve", "--bogus", "1"};
    assert_int_not_equal(server_config_from_args(&c, 3, bad, &help, &err), 0);
    assert_contains(err.message, "unknown option '--bogus'");
    server_config_defaults(&c);
    snprintf(c.model_size, sizeof c.model_size, "huge");
    assert_int_not_equal(server_config_finalize(&c, &err), 0);
    assert_contains(err.message, "MODEL_SIZE=huge");
    /* EdgeTAM is a model size like the others, with its own file name */
    server_config_defaults(&c);
    snprintf(c.model_size, sizeof c.model_size, "edgetam");
    snprintf(c.app_root, sizeof c.app_root, "/srv/sam2");
    assert_int_equal(server_config_finalize(&c, &err), 0);
    assert_string_equal(c.checkpoint, "/srv/sam2/checkpoints/edgetam.pt");
    assert_non_null(strstr(server_model_file_of("edgetam")->url, "facebookresearch/EdgeTAM"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_healthy_and_metrics),
        cmocka_unit_test(test_cors),
        cmocka_unit_test(test_allowed_origins),
        cmocka_unit_test(test_not_graphql_requests),
        cmocka_unit_test(test_cross_site_requests),
        cmocka_unit_test(test_static_files),
        cmocka_unit_test(test_gallery_queries),
        cmocka_unit_test(test_gallery_catalog),
        cmocka_unit_test(test_session_flow),
        cmocka_unit_test(test_add_mask),
        cmocka_unit_test(test_add_mask_memory),
        cmocka_unit_test(test_session_paths),
        cmocka_unit_test(test_undecodable_frame),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_session_limits),
        cmocka_unit_test(test_cancel_mid_stream),
        cmocka_unit_test(test_disconnect_mid_stream),
        cmocka_unit_test(test_newer_propagation_replaces),
        cmocka_unit_test(test_click_cancels_propagation),
        cmocka_unit_test(test_compute_priority),
        cmocka_unit_test(test_every_stop_tells_the_tracker),
        cmocka_unit_test(test_metrics_count_frames),
        cmocka_unit_test(test_disconnect_logs_no_error),
        cmocka_unit_test(test_upload),
        cmocka_unit_test(test_uploads_wait_in_line),
        cmocka_unit_test(test_per_client_limits),
        cmocka_unit_test(test_per_client_limits_behind_proxy),
        cmocka_unit_test(test_upload_name_escaped_in_log),
        cmocka_unit_test(test_spill_bound),
        cmocka_unit_test(test_fairness),
        cmocka_unit_test(test_session_expiry),
        cmocka_unit_test(test_startup_errors),
    };
    return cmocka_run_group_tests(tests, setup, server_test_teardown);
}
