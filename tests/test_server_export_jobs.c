/* The /export routes' machinery with TEST DOUBLES for the tracker and the video encoder
 * (tests/support/server_doubles.c): the mask store (its memory bound, snapshots that outlive
 * later answers, removals and clears), exports that follow clicks, removals and clears, a
 * session whose masks overflow their memory share (507), the effects video's parameters (every
 * frame of the video, labels in the listed order, the POSTed background, 400s for what is wrong,
 * and a POST that a page elsewhere could send is refused: 403 from an origin ALLOWED_ORIGINS does
 * not list, 415 for a body that is not declared a PNG or JPEG),
 * an overlay render that lets another
 * session's clicks through, and a client that leaves mid-render (the render stops and its
 * temporary files go). The model and the real encoder are exercised by test_server_export.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/image.h"
#include "server/mask_store.h"
#include "server/server.h"
#include "support/http_client.h"
#include "support/server_client.h"
#include "support/server_doubles.h"
#include "support/server_setup.h"
#include "support/testutil.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

static server *srv;
static int port;
static char data_dir[1024], spill_dir[1024];
static server_client client = {0, 20000, NULL}; /* the port is set once the server listens */

static void sleep_ms(int ms) {
    usleep((useconds_t)ms * 1000);
}

/* ---- the mask store ----------------------------------------------------------------------------
 */

/* A frame answer with objects ids[0..n), each mask `len` bytes of counts. */
static void make_answer(inf_frame *f, int frame, const int *ids, int n, size_t len, char fill) {
    memset(f, 0, sizeof *f);
    f->frame_index = frame;
    f->n = n;
    f->masks = calloc((size_t)(n ? n : 1), sizeof *f->masks);
    for (int i = 0; i < n; i++) {
        f->masks[i].id = ids[i];
        f->masks[i].height = 4;
        f->masks[i].width = 4;
        f->masks[i].score = 1.5f;
        f->masks[i].area = 3;
        f->masks[i].counts = malloc(len + 1);
        memset(f->masks[i].counts, fill, len);
        f->masks[i].counts[len] = '\0';
    }
}

static void put(mask_store *m, int frame, const int *ids, int n, size_t len, char fill, int want) {
    inf_frame f;
    make_answer(&f, frame, ids, n, len, fill);
    assert_int_equal(mask_store_put(m, &f), want);
    inf_frame_free(&f);
}

static void test_store_bound(void **state) {
    (void)state;
    const int ids[2] = {1, 2};
    mask_store *m = mask_store_new(10, 0);
    const size_t empty = mask_store_bytes(m);
    put(m, 0, ids, 2, 1000, 'a', 0);
    const size_t one = mask_store_bytes(m) - empty;
    assert_true(one >= 2000 && one < 2400); /* the strings and a small header */
    mask_store_free(m);

    /* Room for three such frames. */
    m = mask_store_new(10, empty + 3 * one + one / 2);
    for (int f = 0; f < 3; f++) put(m, f, ids, 2, 1000, 'a', 0);
    put(m, 3, ids, 2, 1000, 'a', 1); /* over the limit: lost */
    assert_true(mask_store_bytes(m) <= mask_store_limit(m));
    mask_snapshot s;
    assert_int_equal(mask_store_snapshot(m, &s, NULL), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.lost, 1);
    mask_snapshot_free(&s);
    /* A frame that shrinks makes room; the lost frame answered again fits and is no longer lost. */
    put(m, 0, ids, 1, 10, 'b', 0);
    put(m, 3, ids, 2, 1000, 'c', 0);
    assert_int_equal(mask_store_snapshot(m, &s, NULL), 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.lost, 0);
    assert_int_equal(s.frames[0].n, 1);
    assert_int_equal(s.frames[3].frame, 3);
    assert_int_equal(s.frames[3].masks[1].id, 2);
    assert_int_equal(s.frames[3].masks[1].area, 3);
    assert_true(s.frames[3].masks[1].score == 1.5f);
    assert_int_equal(s.frames[3].masks[1].counts[0], 'c');
    mask_snapshot_free(&s);
    /* An answer with no objects forgets the frame; frames outside the video are ignored. */
    put(m, 1, ids, 0, 0, 'a', 0);
    put(m, 10, ids, 2, 10, 'a', -1);
    put(m, -1, ids, 2, 10, 'a', -1);
    assert_int_equal(mask_store_snapshot(m, &s, NULL), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.frames[1].frame, 2);
    mask_snapshot_free(&s);
    mask_store_clear(m);
    assert_int_equal(mask_store_bytes(m), empty);
    mask_store_free(m);
}

static void test_store_snapshot_and_removal(void **state) {
    (void)state;
    const int ids[3] = {1, 2, 3};
    mask_store *m = mask_store_new(4, 0);
    const size_t empty = mask_store_bytes(m);
    put(m, 0, ids, 3, 50, 'a', 0);
    put(m, 2, ids, 1, 50, 'a', 0);
    mask_snapshot s;
    assert_int_equal(mask_store_snapshot(m, &s, NULL), 0);
    /* Later answers, a removal and a clear do not touch the snapshot. */
    put(m, 0, ids, 3, 50, 'z', 0);
    mask_store_remove_object(m, 2);
    mask_store_remove_object(m, 1);
    mask_snapshot t;
    assert_int_equal(mask_store_snapshot(m, &t, NULL), 0);
    assert_int_equal(t.n, 1); /* frame 2 had object 1 only */
    assert_int_equal(t.frames[0].frame, 0);
    assert_int_equal(t.frames[0].n, 1);
    assert_int_equal(t.frames[0].masks[0].id, 3);
    assert_int_equal(t.frames[0].masks[0].counts[0], 'z');
    mask_store_clear(m);
    assert_int_equal(mask_store_bytes(m), empty);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.frames[0].n, 3);
    assert_int_equal(s.frames[0].masks[1].id, 2);
    assert_int_equal(s.frames[0].masks[1].counts[0], 'a');
    assert_int_equal(s.frames[1].frame, 2);
    mask_snapshot_free(&s);
    mask_snapshot_free(&t);
    mask_store_free(m);
}

/* ---- over HTTP
 * ------------------------------------------------------------------------------------ */

static cJSON *gql(const char *query, const char *variables_json) {
    return gql_call(&client, query, variables_json);
}

static char *start_session(const char *path) {
    char *id = gql_start_session(&client, path, NULL, 0);
    assert_non_null(id);
    return id;
}

static void mutate(const char *query, const char *sid, const char *more) {
    char vars[512];
    snprintf(vars, sizeof vars, "{\"input\":{\"sessionId\":\"%s\"%s}}", sid, more);
    cJSON *r = gql(query, vars);
    if (cJSON_GetObjectItem(r, "errors")) fail_msg("%s", cJSON_PrintUnformatted(r));
    cJSON_Delete(r);
}

static void click(const char *sid, int frame, int obj) {
    char more[256];
    snprintf(more, sizeof more,
             ",\"frameIndex\":%d,\"objectId\":%d,\"labels\":[1],\"points\":[[0.5,0.5]],"
             "\"clearOldPoints\":true",
             frame, obj);
    mutate("mutation($input: AddPointsInput!) { addPoints(input: $input) { frameIndex } }", sid,
           more);
}

static void close_session(const char *sid) {
    mutate("mutation($input: CloseSessionInput!) { closeSession(input: $input) { success } }", sid,
           "");
}

/* Propagates from frame 0 and reads the whole stream. */
static void propagate(const char *sid) {
    const server_client stream_client = {port, 60000, NULL};
    char buf[65536];
    http_stream *s = propagation_open(&stream_client, sid, 0);
    assert_non_null(s);
    assert_int_equal(http_stream_status(s), 200);
    long n;
    while ((n = http_stream_read(s, buf, sizeof buf)) > 0) {
    }
    assert_int_equal(n, 0);
    http_stream_close(s);
}

static void export(const char *sid, const char *kind, http_response *r) {
    char path[256];
    snprintf(path, sizeof path, "/export/%s/%s", sid, kind);
    assert_int_equal(http_request(port, "GET", path, NULL, NULL, 0, r, 60000), 0);
}

static cJSON *export_json(const char *sid) {
    http_response r;
    export(sid, "masks.json", &r);
    if (r.status != 200) fail_msg("masks.json: status %d: %s", r.status, r.body);
    cJSON *j = cJSON_Parse(r.body);
    assert_non_null(j);
    http_response_free(&r);
    return j;
}

/* "f,id id;f,id;..." of a masks.json: which objects are on which frames. */
static void summary(const cJSON *doc, char *out, size_t cap) {
    size_t n = 0;
    out[0] = '\0';
    const cJSON *f, *o;
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(doc, "frames")) {
        n += (size_t)snprintf(out + n, cap - n, "%s%d,", n ? ";" : "",
                              cJSON_GetObjectItem(f, "frame")->valueint);
        int first = 1;
        cJSON_ArrayForEach(o, cJSON_GetObjectItem(f, "objects")) {
            n += (size_t)snprintf(out + n, cap - n, "%s%d", first ? "" : " ",
                                  cJSON_GetObjectItem(o, "id")->valueint);
            first = 0;
        }
    }
}

static int count_exports(void);

static void test_exports_follow_edits(void **state) {
    (void)state;
    char *sid = start_session("gallery/05_default_juggle.mp4"); /* 8 frames, 1280x720 */
    click(sid, 0, 1);
    click(sid, 2, 3);
    char s[512];
    cJSON *doc = export_json(sid);
    summary(doc, s, sizeof s);
    assert_string_equal(s, "0,1;2,1 3");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "video"), "path")->valuestring,
                        "gallery/05_default_juggle.mp4");
    assert_string_equal(cJSON_GetObjectItem(doc, "model")->valuestring, "test-double");
    assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "video"), "fps")->valuedouble == 24.0);
    /* The counts are the tracker's strings, untouched. */
    const cJSON *o = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "frames"), 1), "objects"),
        1);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(o, "segmentation"), "counts")->valuestring,
        "f2o3p1");
    cJSON_Delete(doc);

    /* The zip: one PNG per frame with masks (the doubles' masks cover every pixel). */
    http_response r;
    export(sid, "masks.zip", &r);
    assert_int_equal(r.status, 200);
    zip_error_t ze;
    zip_error_init(&ze);
    zip_t *za =
        zip_open_from_source(zip_source_buffer_create(r.body, r.body_len, 0, &ze), ZIP_RDONLY, &ze);
    assert_non_null(za);
    assert_int_equal(zip_get_num_entries(za, 0), 2);
    assert_string_equal(zip_get_name(za, 0, 0), "masks/00000.png");
    assert_string_equal(zip_get_name(za, 1, 0), "masks/00002.png");
    zip_close(za);
    http_response_free(&r);
    assert_int_equal(count_exports(), 0); /* the render's folder and staged PNGs are gone */

    /* The overlay (the double writes which frames it got and their first label). */
    export(sid, "overlay.mp4", &r);
    assert_int_equal(r.status, 200);
    char v[256];
    assert_string_equal(http_header(r.headers, "Content-Type", v, sizeof v), "video/mp4");
    assert_string_equal(http_header(r.headers, "Content-Disposition", v, sizeof v),
                        "attachment; filename=\"05_default_juggle-overlay.mp4\"");
    assert_string_equal(r.body, "overlay 1280x720\nframe 0 label 1\nframe 2 label 3\n");
    http_response_free(&r);

    /* Propagation fills every frame; removing object 1 takes it out everywhere. */
    propagate(sid);
    doc = export_json(sid);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "frames")), 8);
    cJSON_Delete(doc);
    mutate("mutation($input: RemoveObjectInput!) { removeObject(input: $input) { frameIndex } }",
           sid, ",\"objectId\":1");
    doc = export_json(sid);
    summary(doc, s, sizeof s);
    assert_string_equal(s, "0,3;1,3;2,3;3,3;4,3;5,3;6,3;7,3");
    cJSON_Delete(doc);

    /* Clearing the video leaves nothing to export: 409. */
    mutate("mutation($input: ClearPointsInVideoInput!) { clearPointsInVideo(input: $input) { "
           "success } }",
           sid, "");
    export(sid, "masks.json", &r);
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(r.body, "has no masks yet"));
    http_response_free(&r);
    close_session(sid);
    free(sid);
}

/* effects.mp4 through the double: the scene the seam gets, every frame of the video with its
 * labels (positions in the `objects` list; the double's masks cover every pixel), the POSTed
 * background picture, and a 400 naming each malformed parameter. */
static void test_effects_video(void **state) {
    (void)state;
    char *sid = start_session("gallery/05_default_juggle.mp4"); /* 8 frames, 1280x720 */
    click(sid, 0, 1);
    click(sid, 2, 3);
    char path[512];
    http_response r;
    snprintf(path, sizeof path,
             "/export/%s/effects.mp4?bg=blur.1&objects=3:glow.1:ff0000,1:fill.0:00FF00", sid);
    assert_int_equal(http_request(port, "GET", path, NULL, NULL, 0, &r, 60000), 0);
    if (r.status != 200) fail_msg("effects.mp4: %d %s", r.status, r.body);
    char v[256];
    assert_string_equal(http_header(r.headers, "Content-Type", v, sizeof v), "video/mp4");
    assert_string_equal(http_header(r.headers, "Content-Disposition", v, sizeof v),
                        "attachment; filename=\"05_default_juggle-effects.mp4\"");
    /* Object 1 is listed second: label 2 wherever it has a mask (frames 0 and 2, where it wins
     * over object 3 being later in the list); frames without masks are rendered too. */
    assert_string_equal(r.body,
                        "effects 1280x720 bg=blur.1 objects=3:glow.1,1:fill.0 image=0x0 crf=18\n"
                        "frame 0 label 2\nframe 1 label 0\nframe 2 label 2\nframe 3 label 0\n"
                        "frame 4 label 0\nframe 5 label 0\nframe 6 label 0\nframe 7 label 0\n");
    http_response_free(&r);
    /* Only object 3 listed: object 1 is not drawn. */
    snprintf(path, sizeof path, "/export/%s/effects.mp4?objects=3:outline.0:000000&crf=10", sid);
    assert_int_equal(http_request(port, "GET", path, NULL, NULL, 0, &r, 60000), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(
        strstr(r.body, "bg=none.0 objects=3:outline.0 image=0x0 crf=10\nframe 0 label 0\nframe 1 "
                       "label 0\nframe 2 label 1\n"));
    http_response_free(&r);

    /* "Your image": POSTed, of the video's size. */
    static uint8_t pixels[1280 * 720 * 3];
    const image_png_desc d = {
        .kind = IMAGE_PNG_RGB, .width = 1280, .height = 720, .pixels = pixels};
    uint8_t *png = NULL;
    size_t png_len = 0;
    sam2_error err = {0};
    assert_int_equal(image_png_encode(&d, &png, &png_len, &err), 0);
    snprintf(path, sizeof path, "/export/%s/effects.mp4?bg=replace.1&objects=1:original.0:000000",
             sid);
    assert_int_equal(
        http_request(port, "POST", path, "Content-Type: image/png\r\n", png, png_len, &r, 60000),
        0);
    if (r.status != 200) fail_msg("effects.mp4 with a picture: %d %s", r.status, r.body);
    assert_non_null(strstr(r.body, "bg=replace.1 objects=1:original.0 image=1280x720 crf=18\n"));
    http_response_free(&r);

    /* The same POST from pages: the allowed origin and the server's own page render; a page on a
     * site ALLOWED_ORIGINS does not list is refused before the picture is read or anything runs
     * (hardening 5), as is a body a form could send without a preflight. */
    char self[128];
    snprintf(self, sizeof self, "Origin: http://127.0.0.1:%d\r\nContent-Type: image/png\r\n", port);
    const struct {
        const char *headers;
        int status;
        const char *message;
    } FROM[] = {
        {"Origin: http://page.example\r\nContent-Type: image/png\r\n", 200, "image=1280x720"},
        {self, 200, "image=1280x720"},
        {"Origin: http://evil.example\r\nContent-Type: image/png\r\n", 403,
         "'http://evil.example' are not allowed (ALLOWED_ORIGINS)"},
        {"Content-Type: text/plain\r\n", 415, "send image/png or image/jpeg"},
        {"Content-Type: multipart/form-data; boundary=x\r\n", 415, "Unsupported Content-Type"},
        {NULL, 415, "Unsupported Content-Type '(none)'"},
    };
    for (size_t i = 0; i < sizeof FROM / sizeof FROM[0]; i++) {
        const long before = double_overlay_frames();
        assert_int_equal(http_request(port, "POST", path, FROM[i].headers, png, png_len, &r, 60000),
                         0);
        if (r.status != FROM[i].status || !strstr(r.body, FROM[i].message))
            fail_msg("POST effects.mp4 (%s): %d %s (want %d, \"%s\")",
                     FROM[i].headers ? FROM[i].headers : "no headers", r.status, r.body,
                     FROM[i].status, FROM[i].message);
        /* Refused: not a frame rendered. */
        assert_int_equal(double_overlay_frames() - before, FROM[i].status == 200 ? 8 : 0);
        http_response_free(&r);
    }
    free(png);

    static const struct {
        const char *method, *query, *body, *message;
        int status;
    } BAD[] = {
        {"GET", "effects.mp4?bg=sparkle", NULL, "unknown background effect", 400},
        {"GET", "effects.mp4?objects=1:fill.9:000000", NULL, "has variants 0..1, not 9", 400},
        {"GET", "effects.mp4?objects=1:fill.0", NULL, "<id>:<effect>.<variant>:<rrggbb>", 400},
        {"GET", "effects.mp4?crf=0", NULL, "crf must be an integer in 1..51", 400},
        {"GET", "effects.mp4?bg=replace.1", NULL, "needs the picture", 400},
        {"POST", "effects.mp4?bg=replace.1", "not a picture", "not a PNG or JPEG", 400},
        {"POST", "effects.mp4?bg=blur.0", "x", "bg is not replace.1", 400},
        {"POST", "masks.json", "x", "only effects.mp4 takes a body", 405},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        snprintf(path, sizeof path, "/export/%s/%s", sid, BAD[i].query);
        const size_t len = BAD[i].body ? strlen(BAD[i].body) : 0;
        const char *type = BAD[i].body ? "Content-Type: image/png\r\n" : NULL;
        assert_int_equal(http_request(port, BAD[i].method, path, type, BAD[i].body, len, &r, 60000),
                         0);
        if (r.status != BAD[i].status || !strstr(r.body, BAD[i].message))
            fail_msg("%s %s: %d %s (want %d, \"%s\")", BAD[i].method, BAD[i].query, r.status,
                     r.body, BAD[i].status, BAD[i].message);
        http_response_free(&r);
    }
    /* A picture of another size is refused before it is decoded. */
    const image_png_desc small = {
        .kind = IMAGE_PNG_RGB, .width = 64, .height = 36, .pixels = pixels};
    assert_int_equal(image_png_encode(&small, &png, &png_len, &err), 0);
    snprintf(path, sizeof path, "/export/%s/effects.mp4?bg=replace.1", sid);
    assert_int_equal(
        http_request(port, "POST", path, "Content-Type: image/jpeg\r\n", png, png_len, &r, 60000),
        0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "must be 1280x720, the video's size (it is 64x36)"));
    http_response_free(&r);
    free(png);
    assert_int_equal(count_exports(), 0);
    close_session(sid);
    free(sid);
}

static void test_masks_over_the_share(void **state) {
    (void)state;
    /* SESSION_MEMORY_MB 16: 2 MB for masks; 400 frames of 20 KB masks do not fit. */
    double_set_counts_padding(20000);
    char *sid = start_session("gallery/sub/long.mp4");
    click(sid, 0, 1);
    propagate(sid);
    double_set_counts_padding(0);
    http_response r;
    export(sid, "masks.json", &r);
    assert_int_equal(r.status, 507);
    assert_non_null(strstr(r.body, "SESSION_MEMORY_MB"));
    assert_null(strstr(r.body, data_dir));
    http_response_free(&r);
    /* Tracking again with small masks replaces the lost frames. */
    propagate(sid);
    cJSON *doc = export_json(sid);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "frames")), 400);
    cJSON_Delete(doc);
    close_session(sid);
    free(sid);
}

static int count_exports(void) {
    DIR *d = opendir(spill_dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) n += !strncmp(e->d_name, "sam2-export-", 12);
    closedir(d);
    return n;
}

static int raw_get(const char *path) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[512];
    const int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
    assert_int_equal(write(fd, req, (size_t)n), n);
    return fd;
}

static void test_render_yields_and_stops(void **state) {
    (void)state;
    char *a = start_session("gallery/sub/long.mp4"); /* 400 frames */
    char *b = start_session("gallery/01_dog.mp4");
    click(a, 0, 1);
    propagate(a);
    double_set_overlay_delay_ms(10); /* a 4 s render */
    const long before = double_overlay_frames();
    char path[256];
    snprintf(path, sizeof path, "/export/%s/overlay.mp4", a);
    int fd = raw_get(path);
    const double t0 = test_now_ms();
    while (double_overlay_frames() - before < 20 && test_now_ms() - t0 < 10000) sleep_ms(5);
    assert_true(double_overlay_frames() - before >= 20);
    assert_int_equal(count_exports(), 1);
    /* Another session's clicks go through while the render runs. */
    double worst = 0;
    for (int i = 0; i < 5; i++) {
        const double c0 = test_now_ms();
        click(b, i, 1);
        if (test_now_ms() - c0 > worst) worst = test_now_ms() - c0;
    }
    printf("  clicks during an overlay render: slowest %.1f ms\n", worst);
    assert_true(worst < 1000);
    /* The client leaves: the render stops within a frame or two and its files go. */
    close(fd);
    const double t1 = test_now_ms();
    long last = -1;
    while (test_now_ms() - t1 < 5000) {
        sleep_ms(100);
        const long now = double_overlay_frames();
        if (now == last && count_exports() == 0) break;
        last = now;
    }
    const long rendered = double_overlay_frames() - before;
    printf("  the render stopped after %ld of 400 frames, %.0f ms after the client left\n",
           rendered, test_now_ms() - t1);
    assert_true(rendered < 400);
    sleep_ms(100);
    assert_int_equal(double_overlay_frames() - before, rendered);
    assert_int_equal(count_exports(), 0);
    double_set_overlay_delay_ms(0);
    /* The session still works and exports. */
    click(a, 5, 2);
    http_response r;
    export(a, "overlay.mp4", &r);
    assert_int_equal(r.status, 200);
    http_response_free(&r);
    assert_int_equal(count_exports(), 0);
    close_session(a);
    close_session(b);
    free(a);
    free(b);
}

/* ---- set-up ------------------------------------------------------------------------------------
 */

static int setup(void **state) {
    signal(SIGPIPE, SIG_IGN);
    const char *root = test_make_tmpdir();
    char p[1200];
    snprintf(data_dir, sizeof data_dir, "%s/data", root);
    snprintf(spill_dir, sizeof spill_dir, "%s/spill", root);
    mkdir(spill_dir, 0755);
    if (double_make_gallery(data_dir, 32, 24)) return -1;
    snprintf(p, sizeof p, "%s/ckpt.pt", root);
    test_write_file(p, "ckpt", 4);
    server_config cfg;
    server_test_config(&cfg, data_dir);
    snprintf(cfg.checkpoint, sizeof cfg.checkpoint, "%s/ckpt.pt", root);
    snprintf(cfg.default_video_path, sizeof cfg.default_video_path,
             "gallery/05_default_juggle.mp4");
    snprintf(cfg.spill_dir, sizeof cfg.spill_dir, "%s", spill_dir);
    cfg.timeout_s = 20;
    cfg.max_memory_mb = 256;
    cfg.session_memory_mb = 16;
    /* Pages elsewhere: only this one may ask (test_effects_video). */
    snprintf(cfg.allowed_origins, sizeof cfg.allowed_origins, "http://page.example");
    srv = double_server_start(&cfg);
    if (!srv) return -1;
    port = client.port = server_port(srv);
    *state = srv; /* for server_test_teardown */
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_bound),
        cmocka_unit_test(test_store_snapshot_and_removal),
        cmocka_unit_test(test_exports_follow_edits),
        cmocka_unit_test(test_effects_video),
        cmocka_unit_test(test_masks_over_the_share),
        cmocka_unit_test(test_render_yields_and_stops),
    };
    return cmocka_run_group_tests(tests, setup, server_test_teardown);
}
