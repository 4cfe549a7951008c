/* sam2c's additions to the demo schema, with TEST DOUBLES for the tracker and the video ingest:
 * an upload keeps its file's name as its title (Video.title), stored beside the video as a hidden
 * sidecar that is never served nor used as a path; Query.video(path) names gallery videos and
 * uploads; Query.modelInfo names the model; the official frontend's documents still work. Plus
 * title_clean on names a browser may send (paths, control characters, bad UTF-8, long names). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "server/server.h"
#include "server/titles.h"
#include "support/http_cases.h"
#include "support/http_client.h"
#include "support/server_client.h"
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
static char data_dir[1024];
static server_client client = {0, 20000, NULL};

static void test_title_clean(void **state) {
    (void)state;
    static const struct {
        const char *in, *want;
    } CASES[] = {
        {"holiday.mp4", "holiday.mp4"},
        {"C:\\Users\\me\\Videos\\dog run.mov", "dog run.mov"},
        {"../../etc/passwd", "passwd"},
        {"  spaced  .mp4  ", "spaced  .mp4"},
        {"tab\there\x01\x7f.mp4", "tabhere.mp4"},
        {"caf\xc3\xa9 \xe2\x98\x95.mp4", "caf\xc3\xa9 \xe2\x98\x95.mp4"}, /* UTF-8 kept */
        {"bad\xc3(utf8\xff.mp4", "bad(utf8.mp4"}, /* invalid bytes dropped */
        {"\xed\xa0\x80surrogate.mp4", "surrogate.mp4"},
        {"/", ""},
        {"", ""},
    };
    char out[256];
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        title_clean(CASES[i].in, out, sizeof out);
        if (strcmp(out, CASES[i].want))
            fail_msg("title_clean case %zu: \"%s\", want \"%s\"", i, out, CASES[i].want);
    }
    /* Long names are cut at a character boundary within TITLE_MAX_BYTES. */
    char long_name[1000] = "";
    for (int i = 0; i < 150; i++) strcat(long_name, "\xc3\xa9");
    title_clean(long_name, out, sizeof out);
    assert_int_equal(strlen(out), TITLE_MAX_BYTES);
    title_clean(long_name, out, 8);
    assert_string_equal(out, "\xc3\xa9\xc3\xa9\xc3\xa9");
    assert_true(title_is_upload_path(
        "uploads/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.mp4"));
    assert_false(title_is_upload_path(
        "uploads/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef.mp4"));
    assert_false(title_is_upload_path("uploads/../gallery/x.mp4"));
    assert_false(title_is_upload_path("gallery/01_dog.mp4"));
}

/* The model's display name (Query.modelInfo.displayName) from its configuration name. */
static void test_title_of_model(void **state) {
    (void)state;
    static const struct {
        const char *in, *want;
    } CASES[] = {
        {"sam2.1_hiera_t", "SAM 2.1 tiny"},
        {"sam2.1_hiera_s", "SAM 2.1 small"},
        {"sam2.1_hiera_b+", "SAM 2.1 base+"},
        {"sam2.1_hiera_l", "SAM 2.1 large"},
        {"sam2_hiera_t", "SAM 2 tiny"},
        {"sam2_hiera_l", "SAM 2 large"},
        {"sam2.1_hiera_micro", "SAM 2.1 micro"}, /* a size it does not know stays as written */
        {"edgetam", "EdgeTAM"},
        {"sam2.1_hiera_", "sam2.1_hiera_"},
        {"my_model", "my_model"},
        {"", ""},
    };
    char out[64];
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        title_of_model(CASES[i].in, out, sizeof out);
        if (strcmp(out, CASES[i].want))
            fail_msg("title_of_model case %zu: \"%s\", want \"%s\"", i, out, CASES[i].want);
    }
    title_of_model("sam2.1_hiera_t", out, 6); /* cut, still terminated */
    assert_string_equal(out, "SAM 2");
}

static cJSON *query(const char *q, const char *vars) {
    cJSON *r = gql_call(&client, q, vars);
    if (gql_error_message(r)) fail_msg("%s: %s", q, gql_error_message(r));
    return r;
}

static const cJSON *data(const cJSON *r, const char *field) {
    return cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), field);
}

static void test_upload_keeps_its_name(void **state) {
    (void)state;
    char p[1200];
    snprintf(p, sizeof p, "%s/gallery/01_dog.mp4", data_dir);
    size_t len;
    char *content = test_read_file(p, &len);
    http_response r;
    /* The official frontend's upload, with a name a browser could send. */
    assert_int_equal(frontend_upload(port, "../My Holiday\x01 clip.mp4", content, len, &r, 10000),
                     0);
    assert_int_equal(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    const cJSON *v = data(j, "uploadVideo");
    if (!v) fail_msg("%s", r.body);
    char path[200];
    snprintf(path, sizeof path, "%s", cJSON_GetObjectItem(v, "path")->valuestring);
    assert_true(title_is_upload_path(path));
    /* The frontend asked for no title, so it gets none: its answer is the official one. */
    assert_null(cJSON_GetObjectItem(v, "title"));
    cJSON_Delete(j);
    http_response_free(&r);

    /* The sidecar: hidden, beside the video, never served. */
    char sidecar[1400], url[300];
    snprintf(sidecar, sizeof sidecar, "%s/uploads/.%.64s.json", data_dir, path + 8);
    struct stat st;
    assert_int_equal(stat(sidecar, &st), 0);
    snprintf(url, sizeof url, "/uploads/.%.64s.json", path + 8);
    assert_int_equal(http_request(port, "GET", url, NULL, NULL, 0, &r, 10000), 0);
    assert_int_equal(r.status, 404);
    http_response_free(&r);

    /* The page's question: the title and size of the video at a path. */
    char vars[300];
    snprintf(vars, sizeof vars, "{\"path\":\"%s\"}", path);
    j = query("query($path: String!) { video(path: $path) { path title width height posterPath } }",
              vars);
    v = data(j, "video");
    assert_string_equal(cJSON_GetObjectItem(v, "title")->valuestring, "My Holiday clip.mp4");
    assert_string_equal(cJSON_GetObjectItem(v, "path")->valuestring, path);
    assert_int_equal(cJSON_GetObjectItem(v, "width")->valueint, 640);
    assert_int_equal(cJSON_GetObjectItem(v, "height")->valueint, 480);
    cJSON_Delete(j);

    /* Uploaded again under another name: the newer name. */
    assert_int_equal(frontend_upload(port, "renamed.mp4", content, len, &r, 10000), 0);
    http_response_free(&r);
    j = query("query($path: String!) { video(path: $path) { title } }", vars);
    assert_string_equal(cJSON_GetObjectItem(data(j, "video"), "title")->valuestring, "renamed.mp4");
    cJSON_Delete(j);
    free(content);
}

static const char video_title_query[] = "query($path: String!) { video(path: $path) { title } }";

/* No such video, or a path that is not one: null, nothing else; the official frontend's first
 * query is answered as before, without titles. */
static const http_case VIDEO_ROWS[] = {
    {.name = "a gallery video that does not exist",
     .query = video_title_query,
     .variables = "{\"path\":\"gallery/nope.mp4\"}",
     .status = 200,
     .expect = {"{\"data\":{\"video\":null}}"}},
    {.name = "a path out of uploads/ and back",
     .query = video_title_query,
     .variables = "{\"path\":\"uploads/../gallery/01_dog.mp4\"}",
     .status = 200,
     .expect = {"{\"data\":{\"video\":null}}"}},
    {.name = "a path out of the data folder",
     .query = video_title_query,
     .variables = "{\"path\":\"../etc/passwd\"}",
     .status = 200,
     .expect = {"{\"data\":{\"video\":null}}"}},
    {.name = "an upload that does not exist",
     .query = video_title_query,
     .variables = "{\"path\":\"uploads/"
                  "0000000000000000000000000000000000000000000000000000000000000000.mp4\"}",
     .status = 200,
     .expect = {"{\"data\":{\"video\":null}}"}},
    {.name = "the official frontend's first query",
     .query = FRONTEND_DEMO_PAGE_QUERY,
     .status = 200,
     .expect = {"\"defaultVideo\":{", "\"path\":\"gallery/05_default_juggle.mp4\""},
     .absent = "\"title\""},
};

static void test_video_and_model_queries(void **state) {
    (void)state;
    cJSON *j = query("{ video(path: \"gallery/01_dog.mp4\") { title width } modelInfo { name "
                     "displayName parameters } "
                     "videos { edges { node { path title } } } }",
                     NULL);
    assert_string_equal(cJSON_GetObjectItem(data(j, "video"), "title")->valuestring, "01_dog.mp4");
    assert_int_equal(cJSON_GetObjectItem(data(j, "video"), "width")->valueint, 640);
    assert_string_equal(cJSON_GetObjectItem(data(j, "modelInfo"), "name")->valuestring,
                        "test-double");
    assert_string_equal(cJSON_GetObjectItem(data(j, "modelInfo"), "displayName")->valuestring,
                        "test-double");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(data(j, "modelInfo"), "parameters")));
    const cJSON *edges = cJSON_GetObjectItem(data(j, "videos"), "edges");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(edges, 0), "node"), "title")
            ->valuestring,
        "01_dog.mp4");
    cJSON_Delete(j);
    char report[4096];
    const http_case_env env = {port, 20000, NULL, data_dir};
    if (http_cases_run(&env, VIDEO_ROWS, HTTP_CASES_COUNT(VIDEO_ROWS), report, sizeof report))
        fail_msg("%s", report);
}

static int setup(void **state) {
    signal(SIGPIPE, SIG_IGN);
    const char *root = test_make_tmpdir();
    char p[1200];
    snprintf(data_dir, sizeof data_dir, "%s/data", root);
    if (double_make_gallery(data_dir, 32, 24)) return -1;
    snprintf(p, sizeof p, "%s/ckpt.pt", root);
    test_write_file(p, "ckpt", 4);
    server_config cfg;
    server_test_config(&cfg, data_dir);
    snprintf(cfg.checkpoint, sizeof cfg.checkpoint, "%s/ckpt.pt", root);
    snprintf(cfg.default_video_path, sizeof cfg.default_video_path,
             "gallery/05_default_juggle.mp4");
    srv = double_server_start(&cfg);
    if (!srv) return -1;
    port = client.port = server_port(srv);
    *state = srv;
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_title_clean),
        cmocka_unit_test(test_title_of_model),
        cmocka_unit_test(test_upload_keeps_its_name),
        cmocka_unit_test(test_video_and_model_queries),
    };
    return cmocka_run_group_tests(tests, setup, server_test_teardown);
}
