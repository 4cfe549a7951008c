/* The /export routes of `sam2 serve` end to end, with the micro checkpoint: a session on a short
 * clip cut from the shared gallery's 05_default_juggle.mp4, two clicked objects, a propagation
 * read from the stream, then GET /export/<id>/masks.json (parsed, its RLE decoded and compared
 * with the masks the stream delivered), masks.zip (opened with libzip, every PNG decoded and
 * compared with the stream's masks), overlay.mp4 (read back with the project's video reader),
 * effects.mp4 (every frame against the C effects renderer run on the source frame: what is left is
 * H.264's loss) and the errors: an unknown session, bad paths, a session without masks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "app/effects.h"
#include "io/video.h"
#include "app/video_writer.h"
#include "sam2.h"
#include "server/server.h"
#include "support/cli_run.h"
#include "support/coco_rle.h"
#include "support/http_cases.h"
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
#include <zip.h>

#define CLIP_FRAMES 6
#define MAX_OBJECTS 4

static server *srv;
static int port;
static char data_dir[1024], work_dir[1024];
static const char *root_dir; /* holds both; no answer may name it */
static int width, height;

/* What the propagation stream delivered: per frame, the objects' ids and RLE counts. */
typedef struct frame_masks {
    int seen;
    int n;
    int ids[MAX_OBJECTS];
    char *counts[MAX_OBJECTS];
} frame_masks;
static frame_masks streamed[CLIP_FRAMES];
static char *session;                            /* the session that tracked */
static server_client client = {0, 120000, NULL}; /* the port is set once the server listens */

static cJSON *gql(const char *query, const char *variables_json) {
    return gql_call(&client, query, variables_json);
}

static char *start_session(const char *path) {
    char why[512];
    char *id = gql_start_session(&client, path, why, sizeof why);
    if (!id) fail_msg("startSession: %s", why);
    return id;
}

static void click(const char *sid, int frame, int obj, double x, double y) {
    char vars[512];
    snprintf(vars, sizeof vars,
             "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":%d,\"objectId\":%d,\"labels\":[1],"
             "\"points\":[[%.6f,%.6f]],"
             "\"clearOldPoints\":true}}",
             sid, frame, obj, x, y);
    cJSON *r = gql("mutation($input: AddPointsInput!) { addPoints(input: $input) { frameIndex "
                   "rleMaskList { objectId "
                   "rleMask { counts size } } } }",
                   vars);
    if (!cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "addPoints"))
        fail_msg("addPoints: %s", cJSON_PrintUnformatted(r));
    cJSON_Delete(r);
}

static void close_session(const char *sid) {
    char vars[256];
    snprintf(vars, sizeof vars, "{\"input\":{\"sessionId\":\"%s\"}}", sid);
    cJSON_Delete(gql(
        "mutation($input: CloseSessionInput!) { closeSession(input: $input) { success } }", vars));
}

static void on_part(void *user, const char *headers, const char *body, size_t len) {
    (void)user;
    (void)headers;
    char *text = strndup(body, len);
    cJSON *j = cJSON_Parse(text);
    free(text);
    const cJSON *fi = cJSON_GetObjectItem(j, "frame_index");
    if (!cJSON_IsNumber(fi) || fi->valueint < 0 || fi->valueint >= CLIP_FRAMES) {
        cJSON_Delete(j);
        return;
    }
    frame_masks *fm = &streamed[fi->valueint];
    for (int i = 0; i < fm->n; i++) free(fm->counts[i]);
    fm->seen = 1;
    fm->n = 0;
    const cJSON *res;
    cJSON_ArrayForEach(res, cJSON_GetObjectItem(j, "results")) {
        if (fm->n == MAX_OBJECTS) break;
        fm->ids[fm->n] = cJSON_GetObjectItem(res, "object_id")->valueint;
        fm->counts[fm->n] =
            strdup(cJSON_GetObjectItem(cJSON_GetObjectItem(res, "mask"), "counts")->valuestring);
        fm->n++;
    }
    cJSON_Delete(j);
}

/* Propagates from frame 0 and reads the whole stream strictly into `streamed`. */
static void propagate(const char *sid) {
    const server_client stream_client = {port, 300000, NULL};
    http_stream *s = propagation_open(&stream_client, sid, 0);
    assert_non_null(s);
    assert_int_equal(http_stream_status(s), 200);
    const char *e = propagation_read(s, on_part, NULL, NULL, 0);
    if (e) fail_msg("stream: %s", e);
    http_stream_close(s);
}

static void get(const char *path, http_response *r) {
    assert_int_equal(http_request(port, "GET", path, NULL, NULL, 0, r, 300000), 0);
}

static void expect_header(const http_response *r, const char *name, const char *want) {
    char v[256];
    if (!http_header(r->headers, name, v, sizeof v)) fail_msg("no %s header", name);
    if (!strstr(v, want)) fail_msg("%s is \"%s\", expected \"%s\" in it", name, v, want);
}

/* The label image the stream's masks make: the object later in the frame's list wins. */
static uint8_t *expected_labels(const frame_masks *fm) {
    const size_t hw = (size_t)width * height;
    uint8_t *labels = calloc(hw, 1), *m = malloc(hw);
    assert_non_null(labels);
    assert_non_null(m);
    for (int i = 0; i < fm->n; i++) {
        if (coco_rle_decode(fm->counts[i], height, width, m))
            fail_msg("streamed RLE does not decode");
        for (size_t k = 0; k < hw; k++)
            if (m[k]) labels[k] = (uint8_t)fm->ids[i];
    }
    free(m);
    return labels;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_track(void **state) {
    (void)state;
    session = start_session("gallery/clip.mp4");
    click(session, 0, 1, 0.5, 300.0 / 720);
    click(session, 0, 2, 330.0 / 1280, 500.0 / 720);
    propagate(session);
    for (int f = 0; f < CLIP_FRAMES; f++) {
        if (!streamed[f].seen) fail_msg("the stream did not deliver frame %d", f);
        assert_int_equal(streamed[f].n, 2);
    }
}

static void test_masks_json(void **state) {
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "/export/%s/masks.json", session);
    http_response r;
    get(path, &r);
    if (r.status != 200) fail_msg("status %d: %s", r.status, r.body);
    expect_header(&r, "Content-Type", "application/json");
    expect_header(&r, "Content-Disposition", "attachment; filename=\"clip-masks.json\"");
    cJSON *doc = cJSON_Parse(r.body);
    assert_non_null(doc);
    const cJSON *video = cJSON_GetObjectItem(doc, "video");
    assert_string_equal(cJSON_GetObjectItem(video, "path")->valuestring, "gallery/clip.mp4");
    assert_int_equal(cJSON_GetObjectItem(video, "width")->valueint, width);
    assert_int_equal(cJSON_GetObjectItem(video, "height")->valueint, height);
    assert_int_equal(cJSON_GetObjectItem(video, "frames")->valueint, CLIP_FRAMES);
    assert_true(cJSON_GetObjectItem(video, "fps")->valuedouble > 23.9 &&
                cJSON_GetObjectItem(video, "fps")->valuedouble < 24.1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "objects")), 2);
    /* No file-system path of the server in the document. */
    assert_null(strstr(r.body, data_dir));
    const cJSON *frames = cJSON_GetObjectItem(doc, "frames");
    assert_int_equal(cJSON_GetArraySize(frames), CLIP_FRAMES);
    const size_t hw = (size_t)width * height;
    uint8_t *a = malloc(hw), *b = malloc(hw);
    for (int f = 0; f < CLIP_FRAMES; f++) {
        const cJSON *fo = cJSON_GetArrayItem(frames, f);
        assert_int_equal(cJSON_GetObjectItem(fo, "frame")->valueint, f);
        const cJSON *objs = cJSON_GetObjectItem(fo, "objects");
        assert_int_equal(cJSON_GetArraySize(objs), streamed[f].n);
        for (int i = 0; i < streamed[f].n; i++) {
            const cJSON *o = cJSON_GetArrayItem(objs, i);
            assert_int_equal(cJSON_GetObjectItem(o, "id")->valueint, streamed[f].ids[i]);
            const cJSON *seg = cJSON_GetObjectItem(o, "segmentation");
            assert_int_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(seg, "size"), 0)->valueint,
                             height);
            assert_int_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(seg, "size"), 1)->valueint,
                             width);
            assert_int_equal(
                coco_rle_decode(cJSON_GetObjectItem(seg, "counts")->valuestring, height, width, a),
                0);
            assert_int_equal(coco_rle_decode(streamed[f].counts[i], height, width, b), 0);
            size_t diff = 0, area = 0;
            for (size_t k = 0; k < hw; k++) {
                diff += a[k] != b[k];
                area += a[k];
            }
            if (diff)
                fail_msg("frame %d object %d: %zu pixels differ from the stream", f,
                         streamed[f].ids[i], diff);
            assert_true(area > 0 && area < hw);
            assert_int_equal((size_t)cJSON_GetObjectItem(o, "area")->valuedouble, area);
            assert_true(cJSON_IsNumber(cJSON_GetObjectItem(o, "score")));
        }
    }
    free(a);
    free(b);
    cJSON_Delete(doc);
    http_response_free(&r);
}

static void test_masks_zip(void **state) {
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "/export/%s/masks.zip", session);
    http_response r;
    get(path, &r);
    if (r.status != 200) fail_msg("status %d: %s", r.status, r.body);
    expect_header(&r, "Content-Type", "application/zip");
    expect_header(&r, "Content-Disposition", "attachment; filename=\"clip-masks.zip\"");
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(r.body, r.body_len, 0, &ze);
    zip_t *za = src ? zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
    if (!za) fail_msg("masks.zip does not open: %s", zip_error_strerror(&ze));
    assert_int_equal(zip_get_num_entries(za, 0), CLIP_FRAMES);
    for (int f = 0; f < CLIP_FRAMES; f++) {
        char name[64], file[1200];
        snprintf(name, sizeof name, "masks/%05d.png", f);
        zip_stat_t st;
        if (zip_stat(za, name, 0, &st)) fail_msg("masks.zip has no %s", name);
        zip_file_t *zf = zip_fopen(za, name, 0);
        assert_non_null(zf);
        char *png = malloc(st.size);
        assert_int_equal(zip_fread(zf, png, st.size), (zip_int64_t)st.size);
        zip_fclose(zf);
        snprintf(file, sizeof file, "%s/%05d.png", work_dir, f);
        assert_int_equal(test_write_file(file, png, st.size), 0);
        free(png);
        int w = 0, h = 0, npal = 0;
        uint8_t pal[256 * 3];
        uint8_t *idx = cli_png_read_indexed(file, &w, &h, pal, &npal);
        if (!idx) fail_msg("%s is not an indexed PNG", name);
        assert_int_equal(w, width);
        assert_int_equal(h, height);
        assert_int_equal(npal, 256);
        /* The DAVIS palette: index 1 dark red, 2 dark green. */
        assert_memory_equal(pal + 3, ((const uint8_t[]){128, 0, 0, 0, 128, 0}), 6);
        uint8_t *want = expected_labels(&streamed[f]);
        size_t diff = 0, fg = 0;
        for (size_t k = 0; k < (size_t)w * h; k++) {
            diff += idx[k] != want[k];
            fg += want[k] != 0;
        }
        if (diff) fail_msg("%s: %zu pixels differ from the stream's masks", name, diff);
        assert_true(fg > 0);
        free(want);
        free(idx);
    }
    zip_close(za);
    http_response_free(&r);
}

static void test_overlay(void **state) {
    (void)state;
    char path[256], file[1200];
    snprintf(path, sizeof path, "/export/%s/overlay.mp4", session);
    http_response r;
    get(path, &r);
    if (r.status != 200) fail_msg("status %d: %s", r.status, r.body);
    expect_header(&r, "Content-Type", "video/mp4");
    expect_header(&r, "Content-Disposition", "attachment; filename=\"clip-overlay.mp4\"");
    char len[64];
    assert_non_null(http_header(r.headers, "Content-Length", len, sizeof len));
    assert_int_equal(strtoull(len, NULL, 10), r.body_len);
    snprintf(file, sizeof file, "%s/overlay.mp4", work_dir);
    assert_int_equal(test_write_file(file, r.body, r.body_len), 0);
    http_response_free(&r);
    sam2_error err = {0};
    sam2_video *v = sam2_video_open(file, &err);
    if (!v) fail_msg("overlay.mp4: %s", err.message);
    assert_int_equal(sam2_video_frame_count(v), CLIP_FRAMES);
    assert_int_equal(sam2_video_width(v), width);
    assert_int_equal(sam2_video_height(v), height);
    assert_true(sam2_video_fps(v) > 23.9 && sam2_video_fps(v) < 24.1);
    /* Inside the objects on frame 0 the overlay is the source blended half and half with the
     * palette colour (1: (128, 0, 0), 2: (0, 128, 0)); H.264 is lossy, so compare averages. */
    uint8_t *rgb = malloc((size_t)3 * width * height),
            *src_rgb = malloc((size_t)3 * width * height);
    assert_int_equal(sam2_video_read_frame(v, 0, rgb, &err), 0);
    char clip[1200];
    snprintf(clip, sizeof clip, "%s/gallery/clip.mp4", data_dir);
    sam2_video *src = sam2_video_open(clip, &err);
    assert_non_null(src);
    assert_int_equal(sam2_video_read_frame(src, 0, src_rgb, &err), 0);
    sam2_video_close(src);
    uint8_t *want = expected_labels(&streamed[0]);
    double to_blend = 0, to_source = 0;
    long n = 0;
    for (int y = 2; y < height - 2; y++)
        for (int x = 2; x < width - 2; x++) {
            const size_t k = (size_t)y * width + x;
            const int l = want[k];
            if (!l || want[k - 2] != l || want[k + 2] != l || want[k - 2 * (size_t)width] != l ||
                want[k + 2 * (size_t)width] != l)
                continue; /* outlines are drawn in full colour */
            for (int c = 0; c < 3; c++) {
                const int blend = (src_rgb[3 * k + c] + (c == l - 1 ? 128 : 0) + 1) / 2;
                to_blend += abs(rgb[3 * k + c] - blend);
                to_source += abs(rgb[3 * k + c] - src_rgb[3 * k + c]);
            }
            n++;
        }
    assert_true(n > 100);
    printf("  overlay, inside the objects on frame 0 (%ld pixels): %.1f levels from the blend, "
           "%.1f from the source\n",
           n, to_blend / (3.0 * n), to_source / (3.0 * n));
    assert_true(to_blend / (3.0 * n) < 8.0);
    assert_true(to_blend < to_source / 3);
    free(src_rgb);
    free(want);
    free(rgb);
    sam2_video_close(v);
}

/* effects.mp4 at crf 12: each decoded frame against effects_render on the source frame with the
 * stream's masks. H.264 is lossy, so the same request with no effect at all ("none" and
 * "original", the source re-encoded) measures the codec's own loss on this clip; the effects video
 * must stay within 1.5 levels (mean absolute error) of that, and far from the unaffected source. */
static double *effects_errors(const char *bg, const char *objects) {
    char path[512], file[1200];
    snprintf(path, sizeof path, "/export/%s/effects.mp4?bg=%s&objects=%s&crf=12", session, bg,
             objects);
    http_response r;
    get(path, &r);
    if (r.status != 200) fail_msg("status %d: %s", r.status, r.body);
    expect_header(&r, "Content-Type", "video/mp4");
    expect_header(&r, "Content-Disposition", "attachment; filename=\"clip-effects.mp4\"");
    snprintf(file, sizeof file, "%s/effects.mp4", work_dir);
    assert_int_equal(test_write_file(file, r.body, r.body_len), 0);
    http_response_free(&r);
    sam2_error err = {0};
    sam2_video *v = sam2_video_open(file, &err);
    if (!v) fail_msg("effects.mp4: %s", err.message);
    assert_int_equal(sam2_video_frame_count(v), CLIP_FRAMES);
    char clip[1200];
    snprintf(clip, sizeof clip, "%s/gallery/clip.mp4", data_dir);
    sam2_video *src = sam2_video_open(clip, &err);
    assert_non_null(src);
    effects_scene scene;
    assert_int_equal(effects_scene_parse(bg, objects, &scene, &err), 0);
    effects_renderer *fx = effects_renderer_new(width, height, &err);
    assert_non_null(fx);
    const size_t hw = (size_t)width * height;
    uint8_t *got = malloc(3 * hw), *source = malloc(3 * hw), *want = malloc(3 * hw),
            *labels = malloc(hw), *m = malloc(hw);
    double *mae = calloc(2 * CLIP_FRAMES, sizeof *mae);
    for (int f = 0; f < CLIP_FRAMES; f++) {
        assert_int_equal(sam2_video_read_frame(v, f, got, &err), 0);
        assert_int_equal(sam2_video_read_frame(src, f, source, &err), 0);
        /* Labels: object 1 -> 1, object 2 -> 2 (their positions in the lists used here). */
        memset(labels, 0, hw);
        for (int i = 0; i < streamed[f].n; i++) {
            assert_int_equal(coco_rle_decode(streamed[f].counts[i], height, width, m), 0);
            for (size_t k = 0; k < hw; k++)
                if (m[k]) labels[k] = (uint8_t)streamed[f].ids[i];
        }
        assert_int_equal(effects_render(fx, &scene, source, labels, NULL, want, &err), 0);
        for (size_t k = 0; k < 3 * hw; k++) {
            mae[2 * f] += abs(got[k] - want[k]);
            mae[2 * f + 1] += abs(got[k] - source[k]);
        }
        mae[2 * f] /= 3.0 * hw;
        mae[2 * f + 1] /= 3.0 * hw;
    }
    free(got);
    free(source);
    free(want);
    free(labels);
    free(m);
    effects_renderer_free(fx);
    sam2_video_close(src);
    sam2_video_close(v);
    return mae;
}

static void test_effects(void **state) {
    (void)state;
    double *codec = effects_errors("none.0", "1:original.0:000000,2:original.0:000000");
    double *fx = effects_errors("desaturate.0", "1:fill.1:20c040,2:cutout.0:ffffff");
    for (int f = 0; f < CLIP_FRAMES; f++) {
        printf("  effects.mp4 frame %d: %.2f levels from the C renderer's frame (the codec alone: "
               "%.2f), %.2f "
               "from the source\n",
               f, fx[2 * f], codec[2 * f], fx[2 * f + 1]);
        assert_true(fx[2 * f] < codec[2 * f] + 1.5);
        assert_true(fx[2 * f] * 5 < fx[2 * f + 1]);
    }
    free(codec);
    free(fx);
}

static void expect_404(const char *path, const char *must_contain) {
    http_response r;
    get(path, &r);
    if (r.status != 404) fail_msg("%s: status %d, expected 404", path, r.status);
    expect_header(&r, "Content-Type", "application/json");
    cJSON *j = cJSON_Parse(r.body);
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    if (!cJSON_IsString(e)) fail_msg("%s: no JSON error: %s", path, r.body);
    if (must_contain && !strstr(e->valuestring, must_contain))
        fail_msg("%s: \"%s\" does not say \"%s\"", path, e->valuestring, must_contain);
    assert_null(strstr(r.body, data_dir));
    assert_null(strstr(r.body, work_dir));
    cJSON_Delete(j);
    http_response_free(&r);
}

#define EXPORT_404(row_name, row_path, text)                                                       \
    {                                                                                              \
        .name = row_name, .method = "GET", .path = row_path, .status = 404,                        \
        .expect = {"\"error\":\"", text}, .json = 1                                                \
    }

/* Paths that name no export ($SID: the session with masks): a JSON 404; only GET. */
static const http_case NO_EXPORT_ROWS[] = {
    EXPORT_404("masks.json of an unknown session", "/export/no-such-session/masks.json",
               "no-such-session"),
    EXPORT_404("overlay.mp4 of an unknown session", "/export/no-such-session/overlay.mp4",
               "session"),
    EXPORT_404("out of /export/", "/export/../x", NULL),
    EXPORT_404("out of the server", "/export/../../etc/passwd", NULL),
    EXPORT_404("an unknown kind", "/export/$SID/nope", NULL),
    EXPORT_404("no kind", "/export/$SID/", NULL),
    EXPORT_404("a path below a kind", "/export/$SID/masks.json/x", NULL),
    EXPORT_404("no session", "/export/", NULL),
    /* A POST is effects.mp4's, with a picture. */
    {.name = "POST to masks.json",
     .method = "POST",
     .path = "/export/$SID/masks.json",
     .headers = "Content-Type: image/png\r\n",
     .body = "x",
     .status = 405},
};

/* A session without masks ($SID): 409 with a JSON error, for every kind. */
#define EXPORT_409(kind)                                                                           \
    {                                                                                              \
        .name = kind " of a session without masks", .method = "GET", .path = "/export/$SID/" kind, \
        .status = 409, .expect = {"no masks yet"}, .json = 1                                       \
    }

static const http_case NO_MASKS_ROWS[] = {
    EXPORT_409("masks.json"),
    EXPORT_409("masks.zip"),
    EXPORT_409("overlay.mp4"),
    EXPORT_409("effects.mp4"),
};

/* Runs a table with $SID standing for sid; fails naming every row that failed. */
static void run_rows(const http_case *rows, size_t n, const char *sid) {
    char report[8192];
    const http_case_env env = {port, 300000, sid, root_dir};
    if (http_cases_run(&env, rows, n, report, sizeof report)) fail_msg("%s", report);
}

static void test_errors(void **state) {
    (void)state;
    run_rows(NO_EXPORT_ROWS, HTTP_CASES_COUNT(NO_EXPORT_ROWS), session);
    char *empty = start_session("gallery/clip.mp4");
    run_rows(NO_MASKS_ROWS, HTTP_CASES_COUNT(NO_MASKS_ROWS), empty);
    close_session(empty);
    free(empty);
    /* A closed session is unknown. */
    close_session(session);
    char path[256];
    snprintf(path, sizeof path, "/export/%s/masks.json", session);
    expect_404(path, session);
}

/* ---- set-up ------------------------------------------------------------------------------------
 */

/* gallery/clip.mp4: the first CLIP_FRAMES frames of 05_default_juggle.mp4 at 24 fps. */
static int make_clip(const char *from, const char *to, sam2_error *err) {
    sam2_video *v = sam2_video_open(from, err);
    if (!v) return -1;
    width = sam2_video_width(v);
    height = sam2_video_height(v);
    const sam2_video_writer_options o = {
        .width = width, .height = height, .fps = 24, .preset = "veryfast"};
    sam2_video_writer *w = sam2_video_writer_open(to, &o, err);
    uint8_t *rgb = malloc((size_t)3 * width * height);
    int rc = !w || !rgb;
    for (int f = 0; !rc && f < CLIP_FRAMES; f++)
        rc = sam2_video_read_frame(v, f, rgb, err) ||
             sam2_video_writer_write_rgb(w, rgb, (size_t)3 * width, err);
    if (w) rc = rc ? (sam2_video_writer_abort(w), -1) : sam2_video_writer_close(w, err);
    free(rgb);
    sam2_video_close(v);
    return rc;
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const char *gd = test_golden_dir(), *md = test_data_dir();
    test_require_dir(gd, "golden data");
    test_require_dir(md, "test media");
    const char *root = root_dir = test_make_tmpdir();
    snprintf(data_dir, sizeof data_dir, "%s/data", root);
    snprintf(work_dir, sizeof work_dir, "%s/work", root);
    char p[1200];
    mkdir(data_dir, 0755);
    mkdir(work_dir, 0755);
    snprintf(p, sizeof p, "%s/gallery", data_dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/gallery/clip.mp4", data_dir);
    sam2_error err = {0};
    if (make_clip(test_path(md, "gallery/05_default_juggle.mp4"), p, &err)) {
        if (err.code == SAM2_ERR_UNSUPPORTED)
            server_test_skip(NULL, err.message, "the export tests");
        fprintf(stderr, "cannot cut the test clip: %s\n", err.message);
        return 1;
    }
    server_config cfg;
    server_test_config_micro(&cfg, data_dir, gd);
    snprintf(cfg.default_video_path, sizeof cfg.default_video_path, "gallery/clip.mp4");
    cfg.max_memory_mb = 4096;
    cfg.session_memory_mb = 256;
    cfg.timeout_s = 120;
    srv = server_test_start_or_skip(&cfg, inference_default_ops(), ingest_default_ops(),
                                    "the export tests");
    if (!srv) return 1;
    port = client.port = server_port(srv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_track),     cmocka_unit_test(test_masks_json),
        cmocka_unit_test(test_masks_zip), cmocka_unit_test(test_overlay),
        cmocka_unit_test(test_effects),   cmocka_unit_test(test_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    server_free(srv);
    for (int f = 0; f < CLIP_FRAMES; f++)
        for (int i = 0; i < streamed[f].n; i++) free(streamed[f].counts[i]);
    free(session);
    return rc;
}
