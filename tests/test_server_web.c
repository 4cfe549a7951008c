/* GET / and the web page's files (src/server/web_static.c), over real HTTP with the server's
 * test doubles (no model needed): the page from SAM2_WEB_DIR, content types, cache headers,
 * HEAD, paths that try to leave the page's folder, the routes the page must not claim, and the
 * "not installed" page when the folder has no index.html. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "server/server.h"
#include "support/http_client.h"
#include "support/server_doubles.h"
#include "support/server_setup.h"
#include "support/testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static server *srv;
static int port;
static char web_dir[1024], empty_dir[1024];

static int setup(void **state) {
    signal(SIGPIPE, SIG_IGN);
    const char *root = test_make_tmpdir();
    char p[1200], data[1024];
    snprintf(data, sizeof data, "%s/data", root);
    mkdir(data, 0755);
    snprintf(p, sizeof p, "%s/gallery", data);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/gallery/clip.mp4", data);
    double_write_video(p, 4, 64, 48);
    snprintf(p, sizeof p, "%s/ckpt.pt", root);
    test_write_file(p, "ckpt", 4);
    snprintf(p, sizeof p, "%s/secret.txt", root);
    test_write_file(p, "top secret", 10);

    snprintf(web_dir, sizeof web_dir, "%s/web", root);
    mkdir(web_dir, 0755);
    snprintf(p, sizeof p, "%s/index.html", web_dir);
    test_write_file(p, "<!doctype html><title>page</title>", 34);
    snprintf(p, sizeof p, "%s/assets", web_dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/assets/app-1234.js", web_dir);
    test_write_file(p, "console.log(1)", 14);
    snprintf(p, sizeof p, "%s/assets/app-1234.css", web_dir);
    test_write_file(p, "body{}", 6);
    snprintf(p, sizeof p, "%s/assets/escape.js", web_dir);
    if (symlink("../../secret.txt", p)) return -1;
    snprintf(empty_dir, sizeof empty_dir, "%s/empty", root);
    mkdir(empty_dir, 0755);

    server_config cfg;
    server_test_config(&cfg, data);
    snprintf(cfg.checkpoint, sizeof cfg.checkpoint, "%s/ckpt.pt", root);
    cfg.max_memory_mb = 64;
    cfg.session_memory_mb = 4;
    srv = double_server_start(&cfg);
    if (!srv) return -1;
    port = server_port(srv);
    *state = srv; /* for server_test_teardown */
    return 0;
}

static http_response get(const char *method, const char *path) {
    http_response r;
    assert_int_equal(http_request(port, method, path, NULL, NULL, 0, &r, 5000), 0);
    return r;
}

static void expect_header(const http_response *r, const char *name, const char *want) {
    char buf[256];
    const char *v = http_header(r->headers, name, buf, sizeof buf);
    if (!v || strcmp(v, want))
        fail_msg("%s: expected '%s', got '%s'", name, want, v ? v : "(none)");
}

static void serves_the_page(void **state) {
    (void)state;
    setenv("SAM2_WEB_DIR", web_dir, 1);
    http_response r = get("GET", "/");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "<!doctype html><title>page</title>");
    expect_header(&r, "Content-Type", "text/html; charset=utf-8");
    expect_header(&r, "Cache-Control", "no-cache");
    http_response_free(&r);

    r = get("GET", "/index.html");
    assert_int_equal(r.status, 200);
    http_response_free(&r);

    r = get("GET", "/assets/app-1234.js");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "console.log(1)");
    expect_header(&r, "Content-Type", "text/javascript; charset=utf-8");
    expect_header(&r, "Cache-Control", "public, max-age=31536000, immutable");
    http_response_free(&r);

    r = get("GET", "/assets/app-1234.css");
    expect_header(&r, "Content-Type", "text/css; charset=utf-8");
    http_response_free(&r);

    r = get("HEAD", "/");
    assert_int_equal(r.status, 200);
    expect_header(&r, "Content-Length", "34");
    assert_int_equal(r.body_len, 0);
    http_response_free(&r);
}

static void refuses_paths_outside_the_page(void **state) {
    (void)state;
    setenv("SAM2_WEB_DIR", web_dir, 1);
    const char *bad[] = {"/assets/../../secret.txt",
                         "/assets/%2e%2e/%2e%2e/secret.txt",
                         "/assets/escape.js",
                         "/assets/missing.js",
                         "/assets/",
                         "/assets"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        http_response r = get("GET", bad[i]);
        if (r.status != 404) fail_msg("%s: expected 404, got %d", bad[i], r.status);
        assert_null(strstr(r.body, "top secret"));
        http_response_free(&r);
    }
}

static void leaves_other_routes_alone(void **state) {
    (void)state;
    setenv("SAM2_WEB_DIR", web_dir, 1);
    /* Not the page's: the API, the data routes, and the export routes (another file's). */
    http_response r = get("GET", "/healthy");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "OK");
    http_response_free(&r);
    r = get("GET", "/gallery/clip.mp4");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "frames=4"));
    http_response_free(&r);
    r = get("GET", "/export/0000/masks.json");
    assert_null(strstr(r.body, "<title>page</title>"));
    http_response_free(&r);
    r = get("GET", "/other.html");
    assert_int_equal(r.status, 404);
    http_response_free(&r);
    /* Only GET and HEAD. */
    assert_int_equal(http_request(port, "POST", "/", NULL, "x", 1, &r, 5000), 0);
    assert_true(r.status == 404 || r.status == 405);
    http_response_free(&r);
}

static void explains_a_missing_page(void **state) {
    (void)state;
    setenv("SAM2_WEB_DIR", empty_dir, 1);
    http_response r = get("GET", "/");
    assert_int_equal(r.status, 404);
    expect_header(&r, "Content-Type", "text/html; charset=utf-8");
    assert_non_null(strstr(r.body, "make web"));
    assert_non_null(strstr(r.body, "SAM2_WEB_DIR"));
    http_response_free(&r);
    /* The API keeps working. */
    r = get("GET", "/healthy");
    assert_int_equal(r.status, 200);
    http_response_free(&r);
    unsetenv("SAM2_WEB_DIR");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(serves_the_page),
        cmocka_unit_test(refuses_paths_outside_the_page),
        cmocka_unit_test(leaves_other_routes_alone),
        cmocka_unit_test(explains_a_missing_page),
    };
    return cmocka_run_group_tests(tests, setup, server_test_teardown);
}
