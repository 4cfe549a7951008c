/* End to end with EdgeTAM: `sam2 serve` with the random EdgeTAM checkpoint
 * (../shared/golden/ckpt/edgetam.random.f16.pt, detected from its tensors) driven over HTTP the
 * way the official frontend drives it: the default video, startSession on the 10 frames of the
 * golden run, the demo's three addPoints on frame 6, the propagation stream (forward then
 * reverse, read strictly), masks compared with edgetam_golden/video/demo/responses.json (which
 * the official EdgeTAM predictor produced with add_all_frames_to_correct_as_cond off, as set
 * here). Then the batched predictor's rules as the server shows them: a correction of a tracked
 * object is accepted, a new object after tracking is refused with the official message while
 * the session keeps working, clearPointsInFrame, removeObject, closeSession. Also checks that
 * /metrics names the loaded model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "server/server.h"
#include "support/coco_rle.h"
#include "support/http_client.h"
#include "support/savi_stream.h"
#include "support/server_client.h"
#include "support/server_setup.h"
#include "support/testutil.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FRAMES 10

static server *srv;
static char data_dir[1024];
static cJSON *golden; /* responses.json */
static server_client client = {0, 600000, "Origin: http://localhost:7262\r\n"};

static cJSON *gql(const char *query, const char *vars) {
    return gql_call(&client, query, vars);
}

static cJSON *add_points_json(const char *sid, const cJSON *req) {
    cJSON *input = cJSON_CreateObject();
    cJSON_AddStringToObject(input, "sessionId", sid);
    cJSON_AddNumberToObject(input, "frameIndex", cJSON_GetObjectItem(req, "frame_index")->valueint);
    cJSON_AddNumberToObject(input, "objectId", cJSON_GetObjectItem(req, "object_id")->valueint);
    cJSON_AddItemToObject(input, "labels", cJSON_Duplicate(cJSON_GetObjectItem(req, "labels"), 1));
    cJSON_AddItemToObject(input, "points", cJSON_Duplicate(cJSON_GetObjectItem(req, "points"), 1));
    cJSON_AddBoolToObject(input, "clearOldPoints",
                          cJSON_IsTrue(cJSON_GetObjectItem(req, "clear_old_points")));
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddItemToObject(vars, "input", input);
    char *text = cJSON_PrintUnformatted(vars);
    cJSON_Delete(vars);
    cJSON *r = gql(FRONTEND_ADD_POINTS, text);
    free(text);
    return r;
}

static cJSON *click(const char *sid, int frame, int obj, double x, double y, int label) {
    char vars[512];
    snprintf(vars, sizeof vars,
             "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":%d,\"objectId\":%d,\"labels\":[%d],"
             "\"points\":[[%.6f,%.6f]],\"clearOldPoints\":true}}",
             sid, frame, obj, label, x, y);
    return gql(FRONTEND_ADD_POINTS, vars);
}

static double agreement(const char *a, const char *b, int h, int w) {
    size_t n = (size_t)h * (size_t)w, same = 0;
    uint8_t *ma = malloc(n), *mb = malloc(n);
    assert_non_null(ma);
    assert_non_null(mb);
    if (coco_rle_decode(a, h, w, ma)) fail_msg("server RLE does not decode: %.60s", a);
    if (coco_rle_decode(b, h, w, mb)) fail_msg("golden RLE does not decode");
    for (size_t i = 0; i < n; i++) same += ma[i] == mb[i];
    free(ma);
    free(mb);
    return (double)same / (double)n;
}

/* Masks [{objectId|object_id, rleMask|mask}] against a golden response's results (>= 99.9 %). */
static void compare_masks(const cJSON *list, const char *id_key, const char *mask_key,
                          const cJSON *golden_resp, const char *what) {
    const cJSON *gres = cJSON_GetObjectItem(golden_resp, "results");
    assert_int_equal(cJSON_GetArraySize(list), cJSON_GetArraySize(gres));
    for (int i = 0; i < cJSON_GetArraySize(gres); i++) {
        const cJSON *g = cJSON_GetArrayItem(gres, i), *m = cJSON_GetArrayItem(list, i);
        const int id = cJSON_GetObjectItem(g, "object_id")->valueint;
        assert_int_equal(cJSON_GetObjectItem(m, id_key)->valueint, id);
        const cJSON *gm = cJSON_GetObjectItem(g, "mask"), *mm = cJSON_GetObjectItem(m, mask_key);
        const int h = cJSON_GetArrayItem(cJSON_GetObjectItem(gm, "size"), 0)->valueint;
        const int w = cJSON_GetArrayItem(cJSON_GetObjectItem(gm, "size"), 1)->valueint;
        assert_int_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(mm, "size"), 0)->valueint, h);
        assert_int_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(mm, "size"), 1)->valueint, w);
        const char *mc = cJSON_GetObjectItem(mm, "counts")->valuestring;
        const char *gc = cJSON_GetObjectItem(gm, "counts")->valuestring;
        const double agree = agreement(mc, gc, h, w);
        printf("  %s object %d: %s, %.6f%% of pixels agree\n", what, id,
               strcmp(mc, gc) ? "RLE differs" : "RLE byte-identical", agree * 100);
        if (agree < 0.999)
            fail_msg("%s: object %d agrees on %.4f%% of pixels only", what, id, agree * 100);
    }
}

typedef struct stream_parts {
    int n, bad;
    cJSON *parts[64];
} stream_parts;

static void on_part(void *user, const char *headers, const char *body, size_t len) {
    stream_parts *p = user;
    char v[128];
    if (!savi_header(headers, "Content-Type", v, sizeof v) ||
        strcmp(v, "application/json; charset=utf-8") ||
        !savi_header(headers, "Mask-Type", v, sizeof v) || strcmp(v, "RLE[]"))
        p->bad++;
    char *text = strndup(body, len);
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j || p->n >= 64) {
        p->bad++;
        cJSON_Delete(j);
        return;
    }
    p->parts[p->n++] = j;
}

static void test_metrics_name_the_model(void **state) {
    (void)state;
    http_response r;
    assert_int_equal(http_request(client.port, "GET", "/metrics", NULL, NULL, 0, &r, 10000), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "sam2_model_info{name=\"edgetam\""));
    http_response_free(&r);
    /* /ready's JSON names it too (the page can show it without parsing /metrics) */
    assert_int_equal(http_request(client.port, "GET", "/ready", NULL, NULL, 0, &r, 10000), 0);
    assert_int_equal(r.status, 200);
    cJSON *ready = cJSON_Parse(r.body);
    assert_non_null(ready);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ready, "model")), "edgetam");
    cJSON_Delete(ready);
    http_response_free(&r);
    cJSON *q = gql(FRONTEND_DEMO_PAGE_QUERY, NULL);
    const cJSON *dv = cJSON_GetObjectItem(cJSON_GetObjectItem(q, "data"), "defaultVideo");
    assert_non_null(dv);
    assert_string_equal(cJSON_GetObjectItem(dv, "path")->valuestring,
                        "gallery/05_default_juggle.mp4");
    cJSON_Delete(q);
}

static void test_frontend_flow(void **state) {
    (void)state;
    char why[512];
    char *sid = gql_start_session(&client, "gallery/juggle10", why, sizeof why);
    if (!sid) fail_msg("startSession: %s", why);
    for (int i = 0; i < 3; i++) {
        const cJSON *g = cJSON_GetArrayItem(golden, i);
        cJSON *r = add_points_json(sid, cJSON_GetObjectItem(g, "request"));
        const cJSON *ap = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "addPoints");
        if (!ap) fail_msg("addPoints: %s", gql_error_message(r));
        assert_int_equal(cJSON_GetObjectItem(ap, "frameIndex")->valueint, 6);
        char what[64];
        snprintf(what, sizeof what, "addPoints #%d", i + 1);
        compare_masks(cJSON_GetObjectItem(ap, "rleMaskList"), "objectId", "rleMask",
                      cJSON_GetObjectItem(g, "response"), what);
        cJSON_Delete(r);
    }
    /* the frontend's propagation: forward 6..9, then reverse 6..0, in one stream */
    http_stream *s = propagation_open(&client, sid, 6);
    assert_non_null(s);
    stream_parts p = {0};
    const char *e = propagation_read(s, on_part, &p, NULL, 0);
    if (e) fail_msg("stream: %s", e);
    http_stream_close(s);
    assert_int_equal(p.bad, 0);
    assert_int_equal(p.n, cJSON_GetArraySize(golden) - 3);
    for (int i = 0; i < p.n; i++) {
        const cJSON *g = cJSON_GetObjectItem(cJSON_GetArrayItem(golden, 3 + i), "response");
        assert_int_equal(cJSON_GetObjectItem(p.parts[i], "frame_index")->valueint,
                         cJSON_GetObjectItem(g, "frame_index")->valueint);
        char what[64];
        snprintf(what, sizeof what, "stream part %d (frame %d)", i,
                 cJSON_GetObjectItem(g, "frame_index")->valueint);
        compare_masks(cJSON_GetObjectItem(p.parts[i], "results"), "object_id", "mask", g, what);
        cJSON_Delete(p.parts[i]);
    }

    /* a correction of a tracked object on a tracked frame: accepted */
    cJSON *r = click(sid, 8, 1, 0.62, 0.80, 1);
    const cJSON *ap = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "addPoints");
    if (!ap) fail_msg("correction: %s", gql_error_message(r));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(ap, "rleMaskList")), 2);
    cJSON_Delete(r);
    /* a new object after tracking started: EdgeTAM's predictor refuses it, clearly */
    r = click(sid, 2, 3, 0.2, 0.3, 1);
    const char *msg = gql_error_message(r);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "Cannot add new object id 3 after tracking starts"));
    cJSON_Delete(r);
    /* the session still works: clear object 2's points, then remove it */
    char vars[512];
    snprintf(vars, sizeof vars,
             "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":6,\"objectId\":2}}", sid);
    r = gql(FRONTEND_CLEAR_POINTS_IN_FRAME, vars);
    const cJSON *cf = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "clearPointsInFrame");
    if (!cf) fail_msg("clearPointsInFrame: %s", gql_error_message(r));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cf, "rleMaskList")), 2);
    cJSON_Delete(r);
    snprintf(vars, sizeof vars, "{\"input\":{\"sessionId\":\"%s\",\"objectId\":2}}", sid);
    r = gql(FRONTEND_REMOVE_OBJECT, vars);
    const cJSON *ro = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "removeObject");
    if (!ro) fail_msg("removeObject: %s", gql_error_message(r));
    const cJSON *f;
    cJSON_ArrayForEach(f, ro) {
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItem(f, "rleMaskList"))
            assert_int_equal(cJSON_GetObjectItem(m, "objectId")->valueint, 1);
    }
    cJSON_Delete(r);
    assert_int_equal(gql_close_session(&client, sid), 1);
    free(sid);
}

/* DATA_PATH: the default gallery video, and gallery/juggle10 = the 10 frames of the golden run. */
static void build_data(const char *golden_dir, const char *media_dir) {
    const char *root = test_make_tmpdir();
    char p[1024], q[1024];
    snprintf(data_dir, sizeof data_dir, "%s/data", root);
    mkdir(data_dir, 0755);
    snprintf(p, sizeof p, "%s/gallery", data_dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/gallery/05_default_juggle.mp4", media_dir);
    snprintf(q, sizeof q, "%s/gallery/05_default_juggle.mp4", data_dir);
    if (test_copy_file(p, q)) server_test_skip(NULL, "cannot copy the gallery video", "the tests");
    snprintf(p, sizeof p, "%s/gallery/juggle10", data_dir);
    mkdir(p, 0755);
    for (int i = 0; i < FRAMES; i++) {
        snprintf(p, sizeof p, "%s/inputs/video_10f/05_default_juggle/%05d.png", golden_dir, i);
        snprintf(q, sizeof q, "%s/gallery/juggle10/%05d.png", data_dir, i);
        if (test_copy_file(p, q))
            server_test_skip(NULL, "cannot copy the golden frames", "the tests");
    }
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const char *gd = test_golden_dir(), *md = test_data_dir();
    test_require_dir(gd, "golden data");
    test_require_dir(md, "test media");
    size_t n;
    char *text = test_read_file(test_path(gd, "edgetam_golden/video/demo/responses.json"), &n);
    if (!text)
        server_test_skip(NULL, "edgetam_golden/video/demo/responses.json is missing", "the tests");
    golden = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsArray(golden) || cJSON_GetArraySize(golden) != 14)
        server_test_skip(NULL, "responses.json is not the 14-step flow", "the tests");
    build_data(gd, md);

    server_config cfg;
    server_test_config(&cfg, data_dir);
    /* no config: the checkpoint is recognised as EdgeTAM from its tensors */
    snprintf(cfg.checkpoint, sizeof cfg.checkpoint, "%s",
             test_path(gd, "ckpt/edgetam.random.f16.pt"));
    snprintf(cfg.default_video_path, sizeof cfg.default_video_path,
             "gallery/05_default_juggle.mp4");
    cfg.correct_as_cond = 0; /* the golden flow ran with the official setting */
    cfg.max_memory_mb = 8192;
    cfg.session_memory_mb = 512;
    cfg.timeout_s = 600;
    srv = server_test_start_or_skip(&cfg, inference_default_ops(), ingest_default_ops(),
                                    "the EdgeTAM end-to-end tests");
    if (!srv) return 1;
    client.port = server_port(srv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_name_the_model),
        cmocka_unit_test(test_frontend_flow),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    server_free(srv);
    cJSON_Delete(golden);
    test_cleanup_tmpdir();
    return rc;
}
