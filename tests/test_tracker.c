/* Video tracker behaviour beyond parity: the RAM budget (spilling must not change a single
 * value), cancellation, object removal, clearing prompts, and clear errors for bad calls.
 * Uses the MICRO golden model on the first frames of the demo's default video. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/image.h"
#include "io/video.h"
#include "predict/tracker.h"
#include "predict/tracker_internal.h"
#include "sam2.h"
#include "support/testutil.h"
#include "support/tracker_cancel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static sam2_model *model;
static char video_path[4096];

#define FRAMES 8

static void close_video(void *v) {
    sam2_video_close(v);
}

/* The first `frames` frames of the video (keeps the tests short). */
static sam2_tracker *open_tracker_opts(int frames, const sam2_tracker_options *o) {
    sam2_error err = {0};
    sam2_video *v = sam2_video_open(video_path, &err);
    if (!v) fail_msg("open video: %s", err.message);
    frame_provider p = {.user = v,
                        .num_frames = frames,
                        .width = sam2_video_width(v),
                        .height = sam2_video_height(v),
                        .load = sam2_video_read_model_input,
                        .close = close_video};
    sam2_tracker *t = tracker_new_with_provider(model, p, o, &err);
    if (!t) fail_msg("tracker: %s", err.message);
    return t;
}

static sam2_tracker *open_tracker(size_t budget, const char *spill_dir) {
    sam2_tracker_options o = {.ram_budget_bytes = budget, .spill_dir = spill_dir};
    return open_tracker_opts(FRAMES, &o);
}

typedef struct collected {
    int frames;
    int order[64];
    float *logits; /* [64 frames][nobj][H][W] */
    size_t per_frame;
    int stop_after; /* cancel after this many frames (0: never) */
} collected;

static int collect(void *user, const sam2_frame_result *r) {
    collected *c = user;
    const size_t n = (size_t)r->num_objects * r->width * r->height;
    if (!c->logits) {
        c->per_frame = n;
        c->logits = calloc(64 * n, sizeof(float));
    }
    assert_true(n == c->per_frame && c->frames < 64);
    memcpy(c->logits + (size_t)c->frames * n, r->logits, n * sizeof(float));
    c->order[c->frames++] = r->frame_index;
    return c->stop_after && c->frames >= c->stop_after;
}

static void two_objects(sam2_tracker *t) {
    sam2_error err = {0};
    sam2_frame_result r;
    const sam2_point p1 = {700.f, 230.f, 1}, p2 = {651.5f, 321.25f, 1};
    assert_int_equal(
        sam2_tracker_add_prompt(t, 0, 1, &(sam2_prompt){.points = &p1, .n_points = 1}, &r, &err),
        0);
    assert_int_equal(r.num_objects, 1);
    assert_int_equal(
        sam2_tracker_add_prompt(t, 0, 2, &(sam2_prompt){.points = &p2, .n_points = 1}, &r, &err),
        0);
    assert_int_equal(r.num_objects, 2);
    assert_int_equal(r.object_ids[0], 1);
    assert_int_equal(r.object_ids[1], 2);
}

/* A budget of one payload forces almost every frame's state through the spill file; the masks
 * must be bit-identical to an unlimited run. */
static void test_spill_is_exact(void **state) {
    (void)state;
    sam2_error err = {0};
    collected a = {0}, b = {0};
    sam2_tracker *t1 = open_tracker(0, NULL);
    two_objects(t1);
    assert_int_equal(sam2_tracker_propagate(t1, 0, -1, 0, collect, &a, &err), 0);
    const sam2_point neg = {705.f, 560.f, 0};
    sam2_frame_result r;
    assert_int_equal(
        sam2_tracker_add_prompt(t1, 3, 1, &(sam2_prompt){.points = &neg, .n_points = 1}, &r, &err),
        0);
    assert_int_equal(sam2_tracker_propagate(t1, 3, -1, 1, collect, &a, &err), 0);
    assert_int_equal(sam2_tracker_spilled_bytes(t1), 0);

    sam2_tracker *t2 = open_tracker(1, test_make_tmpdir());
    two_objects(t2);
    assert_int_equal(sam2_tracker_propagate(t2, 0, -1, 0, collect, &b, &err), 0);
    assert_true(sam2_tracker_spilled_bytes(t2) > 0);
    assert_int_equal(
        sam2_tracker_add_prompt(t2, 3, 1, &(sam2_prompt){.points = &neg, .n_points = 1}, &r, &err),
        0);
    assert_int_equal(sam2_tracker_propagate(t2, 3, -1, 1, collect, &b, &err), 0);

    assert_int_equal(a.frames, FRAMES + 4);
    assert_int_equal(a.frames, b.frames);
    assert_memory_equal(a.order, b.order, sizeof(int) * a.frames);
    assert_int_equal(memcmp(a.logits, b.logits, sizeof(float) * a.per_frame * a.frames), 0);
    /* reverse pass visits 3, 2, 1, 0 */
    assert_int_equal(a.order[FRAMES], 3);
    assert_int_equal(a.order[FRAMES + 3], 0);
    free(a.logits);
    free(b.logits);
    sam2_tracker_free(t1);
    sam2_tracker_free(t2);
}

/* Objects are tracked independently: object 2 tracked beside object 1 must match, bit for bit,
 * object 2 tracked alone. Beside another object its memory attention reuses the frame part
 * computed for the first object (tracker_step.c), so a stale or wrongly keyed cache shows. */
static void test_objects_independent(void **state) {
    (void)state;
    sam2_error err = {0};
    sam2_frame_result r;
    collected both = {0}, alone = {0};
    sam2_tracker *t1 = open_tracker(0, NULL);
    two_objects(t1);
    assert_int_equal(sam2_tracker_propagate(t1, 0, -1, 0, collect, &both, &err), 0);
    sam2_tracker *t2 = open_tracker(0, NULL);
    const sam2_point p2 = {651.5f, 321.25f, 1};
    assert_int_equal(
        sam2_tracker_add_prompt(t2, 0, 2, &(sam2_prompt){.points = &p2, .n_points = 1}, &r, &err),
        0);
    assert_int_equal(sam2_tracker_propagate(t2, 0, -1, 0, collect, &alone, &err), 0);
    assert_int_equal(both.frames, FRAMES);
    assert_int_equal(alone.frames, FRAMES);
    const size_t n = alone.per_frame;
    assert_int_equal(both.per_frame, 2 * n);
    for (int f = 0; f < FRAMES; f++)
        if (memcmp(both.logits + (size_t)f * 2 * n + n, alone.logits + (size_t)f * n,
                   sizeof(float) * n))
            fail_msg("object 2 differs on frame %d when tracked beside object 1", f);
    free(both.logits);
    free(alone.logits);
    sam2_tracker_free(t1);
    sam2_tracker_free(t2);
}

/* Releasing the compute scratch between calls (as the server does after every job) changes no
 * result: propagate forward in two halves with a release between, against one run. */
static void test_release_scratch_is_exact(void **state) {
    (void)state;
    sam2_error err = {0};
    collected one = {0}, halves = {0};
    sam2_tracker *t1 = open_tracker(0, NULL);
    two_objects(t1);
    assert_int_equal(sam2_tracker_propagate(t1, 0, -1, 0, collect, &one, &err), 0);
    sam2_tracker *t2 = open_tracker(0, NULL);
    sam2_tracker_release_scratch(t2); /* before anything: harmless */
    two_objects(t2);
    sam2_tracker_release_scratch(t2);
    const int half = FRAMES / 2;
    assert_int_equal(sam2_tracker_propagate(t2, 0, half - 1, 0, collect, &halves, &err), 0);
    sam2_tracker_release_scratch(t2);
    assert_int_equal(sam2_tracker_propagate(t2, half - 1, -1, 0, collect, &halves, &err), 0);
    assert_int_equal(one.frames, FRAMES);
    assert_int_equal(halves.frames, FRAMES + 1); /* frame half-1 is delivered by both runs */
    const size_t n = one.per_frame;
    for (int f = 0; f < FRAMES; f++) {
        const int k = f < half ? f : f + 1; /* skip the first delivery of frame half-1 */
        if (memcmp(one.logits + (size_t)f * n, halves.logits + (size_t)k * n, sizeof(float) * n))
            fail_msg("frame %d differs after the scratch was released", f);
    }
    free(one.logits);
    free(halves.logits);
    sam2_tracker_free(t1);
    sam2_tracker_free(t2);
}

static void test_cancel(void **state) {
    (void)state;
    sam2_error err = {0};
    collected c = {.stop_after = 3};
    sam2_tracker *t = open_tracker(0, NULL);
    two_objects(t);
    assert_int_equal(sam2_tracker_propagate(t, 0, -1, 0, collect, &c, &err), SAM2_ERR_CANCELLED);
    assert_int_equal(c.frames, 3);
    assert_non_null(strstr(err.message, "cancelled"));
    /* the session stays usable */
    collected d = {0};
    assert_int_equal(sam2_tracker_propagate(t, 0, 2, 0, collect, &d, &err), 0);
    assert_int_equal(d.frames, 3); /* start..start+max inclusive, as the official predictor */
    free(c.logits);
    free(d.logits);
    sam2_tracker_free(t);
}

static sam2_tracker *open_two_objects(void) {
    sam2_tracker *t = open_tracker(0, NULL);
    two_objects(t);
    return t;
}

/* Cancelled at any stage boundary inside a frame, then resumed: bit for bit an uncancelled run. */
static void test_cancel_inside_frame_is_exact(void **state) {
    (void)state;
    tracker_cancel_check_exact(open_two_objects, FRAMES);
}

static int always_stop(void *user) {
    ++*(int *)user;
    return 1;
}

/* The hook stops propagations only: prompts (and a propagation's preflight) are never cut short,
 * and a hook that always says stop ends a propagation before its first tracked frame. */
static void test_cancel_hook_spares_prompts(void **state) {
    (void)state;
    sam2_error err = {0};
    int asked = 0;
    sam2_tracker *t = open_tracker(0, NULL);
    sam2_tracker_set_cancel_check(t, always_stop, &asked);
    sam2_tracker_cancel(t); /* no propagation runs: nothing to stop */
    two_objects(t);
    assert_int_equal(asked, 0);
    collected c = {0};
    assert_int_equal(sam2_tracker_propagate(t, 0, -1, 0, collect, &c, &err), SAM2_ERR_CANCELLED);
    assert_true(asked > 0);
    assert_true(c.frames <= 1); /* frame 0 holds the prompts: delivered without computing */
    sam2_tracker_set_cancel_check(t, NULL, NULL);
    collected d = {0};
    assert_int_equal(sam2_tracker_propagate(t, 0, -1, 0, collect, &d, &err), 0);
    assert_int_equal(d.frames, FRAMES);
    free(c.logits);
    free(d.logits);
    sam2_tracker_free(t);
}

static int count_frames(void *user, const sam2_frame_result *r) {
    (void)r;
    (*(int *)user)++;
    return 0;
}

static void test_remove_and_clear(void **state) {
    (void)state;
    sam2_error err = {0};
    sam2_tracker *t = open_tracker(0, NULL);
    two_objects(t);
    int ids[8];
    assert_int_equal(sam2_tracker_object_ids(t, ids, 8), 2);
    int updated = 0;
    assert_int_equal(sam2_tracker_remove_object(t, 1, count_frames, &updated, &err), 0);
    assert_int_equal(updated, 1); /* frame 0 had object 1's prompt */
    assert_int_equal(sam2_tracker_object_ids(t, ids, 8), 1);
    assert_int_equal(ids[0], 2);
    /* removing an unknown object is not an error (the demo calls it that way) */
    assert_int_equal(sam2_tracker_remove_object(t, 42, NULL, NULL, &err), 0);
    /* clearing the only prompt leaves nothing to propagate from */
    sam2_frame_result r;
    assert_int_equal(sam2_tracker_clear_frame(t, 0, 2, &r, &err), 0);
    assert_true(r.logits[0] < 0.f);
    assert_int_not_equal(sam2_tracker_propagate(t, -1, -1, 0, NULL, NULL, &err), 0);
    assert_non_null(strstr(err.message, "No input points"));
    sam2_tracker_reset(t);
    assert_int_equal(sam2_tracker_object_ids(t, ids, 8), 0);
    sam2_tracker_free(t);
}

static void test_bad_calls(void **state) {
    (void)state;
    sam2_error err = {0};
    sam2_frame_result r;
    sam2_tracker *t = open_tracker(0, NULL);
    const sam2_point ok = {10.f, 10.f, 1};
    sam2_point bad = ok;
    assert_int_equal(sam2_tracker_add_prompt(
                         t, FRAMES, 1, &(sam2_prompt){.points = &ok, .n_points = 1}, &r, &err),
                     SAM2_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "out of range"));
    assert_int_equal(
        sam2_tracker_add_prompt(t, -1, 1, &(sam2_prompt){.points = &ok, .n_points = 1}, &r, &err),
        SAM2_ERR_ARGUMENT);
    bad.x = NAN;
    assert_int_equal(
        sam2_tracker_add_prompt(t, 0, 1, &(sam2_prompt){.points = &bad, .n_points = 1}, &r, &err),
        SAM2_ERR_ARGUMENT);
    bad = ok;
    bad.x = 1e9f;
    assert_int_equal(
        sam2_tracker_add_prompt(t, 0, 1, &(sam2_prompt){.points = &bad, .n_points = 1}, &r, &err),
        SAM2_ERR_ARGUMENT);
    bad = ok;
    bad.label = 7;
    assert_int_equal(
        sam2_tracker_add_prompt(t, 0, 1, &(sam2_prompt){.points = &bad, .n_points = 1}, &r, &err),
        SAM2_ERR_ARGUMENT);
    assert_int_equal(sam2_tracker_add_prompt(t, 0, 1, &(sam2_prompt){0}, &r, &err),
                     SAM2_ERR_ARGUMENT);
    const float box[4] = {50, 50, 10, 10};
    assert_int_equal(sam2_tracker_add_prompt(t, 0, 1, &(sam2_prompt){.box = box}, &r, &err),
                     SAM2_ERR_ARGUMENT);
    assert_int_equal(sam2_tracker_add_prompt(
                         t, 0, 1,
                         &(sam2_prompt){.points = &ok, .n_points = SAM2_MAX_PROMPT_POINTS + 1}, &r,
                         &err),
                     SAM2_ERR_ARGUMENT);
    /* a prompt mixing a mask with points, or carrying image-side logits, is refused whole */
    uint8_t one = 1;
    sam2_mask tiny = {1, 1, &one};
    assert_int_equal(
        sam2_tracker_add_prompt(
            t, 0, 1, &(sam2_prompt){.mask = &tiny, .points = &ok, .n_points = 1}, &r, &err),
        SAM2_ERR_ARGUMENT);
    const float logits[16] = {0};
    assert_int_equal(
        sam2_tracker_add_prompt(t, 0, 1, &(sam2_prompt){.mask_input = logits, .mask_input_size = 4},
                                &r, &err),
        SAM2_ERR_ARGUMENT);
    assert_int_equal(sam2_tracker_add_prompt(t, 0, 1, NULL, &r, &err), SAM2_ERR_ARGUMENT);
    assert_int_not_equal(sam2_tracker_propagate(t, -1, -1, 0, NULL, NULL, &err), 0);
    assert_non_null(strstr(err.message, "No input points or masks"));
    /* a mask prompt of any size works */
    uint8_t mask[32 * 16];
    memset(mask, 0, sizeof mask);
    for (int y = 4; y < 12; y++)
        for (int x = 8; x < 20; x++) mask[y * 32 + x] = 1;
    assert_int_equal(sam2_tracker_add_prompt(
                         t, 1, 5, &(sam2_prompt){.mask = &(sam2_mask){32, 16, mask}}, &r, &err),
                     0);
    assert_int_equal(r.num_objects, 1);
    assert_true(r.object_scores[0] > 0.f); /* a non-empty mask makes the object present */
    sam2_tracker_free(t);
}

/* An app's frame source (sam2_video_open_source) handing out the decoded frames of a folder
 * must track exactly as the folder itself does. */
typedef struct png_frames {
    const char *dir;
    int fail_at; /* read_frame fails for this index (-1: never) */
    int closed;
} png_frames;

static int read_png_frame(void *user, int index, uint8_t *rgb) {
    png_frames *f = user;
    if (index == f->fail_at) return -1;
    char path[4200];
    snprintf(path, sizeof path, "%s/%05d.png", f->dir, index);
    image_rgb img = {0};
    sam2_error err = {0};
    if (image_load_file(path, &img, &err)) return -1;
    memcpy(rgb, img.pixels, (size_t)img.width * img.height * 3);
    free(img.pixels);
    return 0;
}

static void mark_closed(void *user) {
    ((png_frames *)user)->closed++;
}

static void track_one_object(sam2_video *v, collected *c) {
    sam2_error err = {0};
    sam2_tracker *t = sam2_tracker_new(model, v, NULL, &err);
    if (!t) fail_msg("tracker: %s", err.message);
    two_objects(t);
    assert_int_equal(sam2_tracker_propagate(t, 0, -1, 0, collect, c, &err), 0);
    sam2_tracker_free(t);
}

static void test_frame_source(void **state) {
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/inputs/video_10f/05_default_juggle", test_golden_dir());
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) skip(); /* golden frames absent */
    sam2_error err = {0};
    sam2_video *folder = sam2_video_open(dir, &err);
    if (!folder) fail_msg("open folder: %s", err.message);
    png_frames frames = {.dir = dir, .fail_at = -1};
    const sam2_frame_source src = {.frame_count = sam2_video_frame_count(folder),
                                   .width = sam2_video_width(folder),
                                   .height = sam2_video_height(folder),
                                   .fps = 24.0,
                                   .read_frame = read_png_frame,
                                   .close = mark_closed,
                                   .user = &frames};
    sam2_video *app = sam2_video_open_source(&src, &err);
    if (!app) fail_msg("open source: %s", err.message);
    assert_int_equal(sam2_video_frame_count(app), sam2_video_frame_count(folder));
    assert_true(sam2_video_fps(app) == 24.0);

    collected a = {0}, b = {0};
    track_one_object(folder, &a);
    track_one_object(app, &b);
    assert_int_equal(frames.closed, 1); /* the tracker closed the video, which closed the source */
    assert_int_equal(a.frames, src.frame_count);
    assert_int_equal(a.frames, b.frames);
    assert_int_equal(memcmp(a.logits, b.logits, sizeof(float) * a.per_frame * a.frames), 0);
    free(a.logits);
    free(b.logits);

    /* a frame the source cannot give fails the call that needs it */
    frames.fail_at = 2;
    app = sam2_video_open_source(&src, &err);
    sam2_tracker *t = sam2_tracker_new(model, app, NULL, &err);
    assert_non_null(t);
    two_objects(t);
    assert_int_equal(sam2_tracker_propagate(t, 0, -1, 0, NULL, NULL, &err), SAM2_ERR_IO);
    sam2_tracker_free(t);

    /* sources that cannot be right are refused */
    sam2_frame_source bad = src;
    bad.frame_count = 0;
    assert_null(sam2_video_open_source(&bad, &err));
    assert_int_equal(err.code, SAM2_ERR_ARGUMENT);
    bad = src;
    bad.read_frame = NULL;
    assert_null(sam2_video_open_source(&bad, &err));
    bad = src;
    bad.width = 0;
    assert_null(sam2_video_open_source(&bad, &err));
    assert_null(sam2_video_open_source(NULL, &err));
}

static void test_object_limit(void **state) {
    (void)state;
    sam2_error err = {0};
    sam2_tracker_options o = {.max_objects = 2};
    sam2_tracker *t = open_tracker_opts(2, &o);
    sam2_frame_result r;
    const sam2_point p = {100.f, 100.f, 1};
    assert_int_equal(
        sam2_tracker_add_prompt(t, 0, 1, &(sam2_prompt){.points = &p, .n_points = 1}, &r, &err), 0);
    assert_int_equal(
        sam2_tracker_add_prompt(t, 0, 2, &(sam2_prompt){.points = &p, .n_points = 1}, &r, &err), 0);
    assert_int_equal(
        sam2_tracker_add_prompt(t, 0, 3, &(sam2_prompt){.points = &p, .n_points = 1}, &r, &err),
        SAM2_ERR_LIMIT);
    assert_non_null(strstr(err.message, "too many objects"));
    sam2_tracker_free(t);
}

int main(void) {
    const char *g = test_golden_dir(), *d = test_data_dir();
    test_require_dir(g, "golden data");
    test_require_dir(d, "test media");
    snprintf(video_path, sizeof video_path, "%s/gallery/05_default_juggle.mp4", d);
    sam2_error err = {0};
    model = sam2_model_load(test_path(g, "micro/sam2.1_hiera_micro.pt"),
                            test_path(g, "micro/sam2.1_hiera_micro.yaml"), &err);
    if (!model) {
        fprintf(stderr, "cannot load the micro model: %s\n", err.message);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spill_is_exact),
        cmocka_unit_test(test_objects_independent),
        cmocka_unit_test(test_release_scratch_is_exact),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_cancel_inside_frame_is_exact),
        cmocka_unit_test(test_cancel_hook_spares_prompts),
        cmocka_unit_test(test_remove_and_clear),
        cmocka_unit_test(test_bad_calls),
        cmocka_unit_test(test_object_limit),
        cmocka_unit_test(test_frame_source),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sam2_model_free(model);
    return rc;
}
