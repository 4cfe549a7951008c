/* The batched video predictor (EdgeTAM's, SAM 2's before 2024-12) beyond the golden flow: its
 * rules on a tiny EdgeTAM-shaped model (tests/support/mini_model.c) and synthetic frames, so
 * no golden data is needed:
 *  - objects tracked together give exactly what each gives alone (any number of objects: the
 *    Perceiver's 2D path runs per object, EdgeTAM issue #15);
 *  - no new object once tracking has started (until the results are reset);
 *  - a correction on a tracked frame is kept, not tracked again, by the next propagation;
 *  - preflight re-encodes the memory of every object on a frame with new inputs (binarised);
 *  - an object without output on such a frame gets the no-object masks;
 *  - clearing the last input resets the tracking results; removing objects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/yaml_config.h"
#include "predict/tracker.h"
#include "predict/tracker_internal.h"
#include "sam2.h"
#include "support/mini_model.h"
#include "support/testutil.h"
#include "support/tracker_cancel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAMES 6
#define W 96
#define H 64

static sam2_model *model;

/* A bright square moving right on a darker gradient, in the model's normalised input. */
static int synth_load(void *user, int index, int S, float *chw, sam2_error *err) {
    (void)user, (void)err;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                const int sx = S / 8 + index * S / 16, sy = S / 3;
                const int in = x >= sx && x < sx + S / 4 && y >= sy && y < sy + S / 4;
                chw[((size_t)c * S + y) * S + x] =
                    in ? 1.5f - 0.3f * c : -1.0f + (float)(x + y) / (2.0f * S) + 0.1f * c;
            }
    return 0;
}

static sam2_tracker *open_tracker(void) {
    sam2_error err = {0};
    frame_provider p = {.num_frames = FRAMES, .width = W, .height = H, .load = synth_load};
    sam2_tracker_options o = {0}; /* the official behaviour: corrections are not conditioning */
    sam2_tracker *t = tracker_new_with_provider(model, p, &o, &err);
    if (!t) fail_msg("tracker: %s", err.message);
    return t;
}

/* Counts the model calls a tracker announces: [kind][frame]. */
typedef struct calls {
    int n[2][FRAMES];
} calls;

static void count_call(void *user, const char *name, const void *data, tap_dtype dtype, int ndim,
                       const int64_t *shape, tap_layout layout) {
    (void)ndim, (void)shape, (void)layout;
    if (strcmp(name, "model_call") || dtype != TAP_I32) return;
    const int32_t *m = data;
    if (m[0] >= 0 && m[0] < 2 && m[1] >= 0 && m[1] < FRAMES) ((calls *)user)->n[m[0]][m[1]]++;
}

typedef struct frames_out {
    int count;
    float logits[FRAMES][4][H * W]; /* [frame][object] of the last yield of that frame */
    int nobj;
} frames_out;

static int keep(void *user, const sam2_frame_result *r) {
    frames_out *f = user;
    assert_true(r->num_objects <= 4 && r->frame_index < FRAMES);
    for (int i = 0; i < r->num_objects; i++)
        memcpy(f->logits[r->frame_index][i], r->logits + (size_t)i * H * W, sizeof(float) * H * W);
    f->nobj = r->num_objects;
    f->count++;
    return 0;
}

static void click(sam2_tracker *t, int frame, int obj, float x, float y, int label) {
    sam2_error err = {0};
    sam2_point p = {x, y, label};
    sam2_frame_result r;
    if (sam2_tracker_add_prompt(t, frame, obj, &(sam2_prompt){.points = &p, .n_points = 1}, &r,
                                &err))
        fail_msg("click obj %d frame %d: %s", obj, frame, err.message);
}

static void propagate(sam2_tracker *t, int start, frames_out *out) {
    sam2_error err = {0};
    if (sam2_tracker_propagate(t, start, -1, 0, keep, out, &err)) fail_msg("%s", err.message);
}

static const float clicks[3][2] = {{30, 25}, {70, 40}, {10, 55}};

static sam2_tracker *open_two_clicked(void) {
    sam2_tracker *t = open_tracker();
    for (int o = 0; o < 2; o++) click(t, 0, o + 1, clicks[o][0], clicks[o][1], 1);
    return t;
}

/* Cancelled at any stage boundary inside a frame (the RepViT trunk's stages, the memory
 * attention's layers, between objects), then resumed: bit for bit an uncancelled run. */
static void test_cancel_inside_frame_is_exact(void **state) {
    (void)state;
    tracker_cancel_check_exact(open_two_clicked, FRAMES);
}

static void test_objects_together_equal_alone(void **state) {
    (void)state;
    frames_out *all = calloc(1, sizeof *all), *one = calloc(1, sizeof *one);
    sam2_tracker *t = open_tracker();
    for (int o = 0; o < 3; o++) click(t, 0, o + 1, clicks[o][0], clicks[o][1], 1);
    propagate(t, -1, all);
    assert_int_equal(all->nobj, 3);
    assert_int_equal(all->count, FRAMES);
    sam2_tracker_free(t);
    for (int o = 0; o < 3; o++) {
        t = open_tracker();
        click(t, 0, o + 1, clicks[o][0], clicks[o][1], 1);
        memset(one, 0, sizeof *one);
        propagate(t, -1, one);
        for (int f = 0; f < FRAMES; f++)
            assert_memory_equal(one->logits[f][0], all->logits[f][o], sizeof(float) * H * W);
        sam2_tracker_free(t);
    }
    /* the logits are finite and not all of one sign: the model does compute something */
    int pos = 0;
    for (int i = 0; i < H * W; i++) {
        assert_true(isfinite(all->logits[FRAMES - 1][0][i]));
        pos += all->logits[FRAMES - 1][0][i] > 0;
    }
    assert_true(pos > 0 && pos < H * W);
    free(all);
    free(one);
}

static void test_no_new_object_after_tracking(void **state) {
    (void)state;
    frames_out *out = calloc(1, sizeof *out);
    sam2_tracker *t = open_tracker();
    click(t, 0, 1, 30, 25, 1);
    propagate(t, -1, out);
    sam2_error err = {0};
    sam2_point p = {70, 40, 1};
    sam2_frame_result r;
    assert_int_equal(
        sam2_tracker_add_prompt(t, 2, 7, &(sam2_prompt){.points = &p, .n_points = 1}, &r, &err),
        SAM2_ERR_STATE);
    assert_non_null(strstr(err.message, "Cannot add new object id 7 after tracking starts"));
    assert_non_null(strstr(err.message, "All existing object ids: [1]"));
    /* an existing object may still be corrected */
    click(t, 2, 1, 40, 25, 0);
    /* clearing every input resets the tracking results: new objects are allowed again */
    assert_int_equal(sam2_tracker_clear_frame(t, 0, 1, &r, &err), 0);
    assert_int_equal(sam2_tracker_clear_frame(t, 2, 1, &r, &err), 0);
    click(t, 1, 7, 70, 40, 1);
    sam2_tracker_reset(t);
    click(t, 3, 8, 70, 40, 1);
    sam2_tracker_free(t);
    free(out);
}

static void test_correction_survives_propagation(void **state) {
    (void)state;
    frames_out *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    sam2_tracker *t = open_tracker();
    calls c = {0};
    sam2_tap tap = {.fn = count_call, .user = &c};
    tracker_set_tap(t, &tap);
    click(t, 0, 1, 30, 25, 1);
    click(t, 0, 2, 70, 40, 1);
    propagate(t, -1, a);
    /* a correction of object 1 on tracked frame 3 (a non-conditioning input) */
    sam2_error err = {0};
    sam2_point p = {45, 30, 0};
    sam2_frame_result r;
    assert_int_equal(
        sam2_tracker_add_prompt(t, 3, 1, &(sam2_prompt){.points = &p, .n_points = 1}, &r, &err), 0);
    float *corrected = malloc(sizeof(float) * H * W);
    memcpy(corrected, r.logits, sizeof(float) * H * W);
    /* object 2's stored memory on frame 3 before the next preflight (from its tracked mask) */
    const size_t mem_n = (size_t)t->MT * t->md;
    uint16_t *before = malloc(mem_n * 2), *after = malloc(mem_n * 2);
    tracker_entry e = {.maskmem_bf16 = before};
    assert_int_equal(tracker_get_entry(t, 2, 3, TRACKER_NONCOND, &e, &err), 0);
    memset(&c, 0, sizeof c);
    propagate(t, 0, b);
    /* preflight re-encoded both objects on frame 3 (kind 1), and nothing re-tracked it */
    assert_int_equal(c.n[1][3], 2);
    assert_int_equal(c.n[0][3], 0);
    assert_int_equal(c.n[0][0], 0);
    for (int f = 1; f < FRAMES; f++)
        if (f != 3) assert_int_equal(c.n[0][f], 2);
    /* the correction is what propagation returns on frame 3 */
    assert_memory_equal(b->logits[3][0], corrected, sizeof(float) * H * W);
    /* object 2 was not clicked on frame 3, but its memory there was encoded again */
    e = (tracker_entry){.maskmem_bf16 = after};
    assert_int_equal(tracker_get_entry(t, 2, 3, TRACKER_NONCOND, &e, &err), 0);
    assert_true(memcmp(before, after, mem_n * 2) != 0);
    free(before);
    free(after);
    free(corrected);
    sam2_tracker_free(t);
    free(a);
    free(b);
}

static void test_object_without_output_on_input_frame(void **state) {
    (void)state;
    frames_out *out = calloc(1, sizeof *out);
    sam2_tracker *t = open_tracker();
    click(t, 0, 1, 30, 25, 1);
    click(t, 2, 2, 70, 40, 1);
    propagate(t, -1, out);
    /* frame 0: object 2 has no output there, frame 2: object 1 has none (both are input
     * frames, consolidated before tracking): the no-object fill */
    for (int i = 0; i < H * W; i++) {
        assert_true(out->logits[0][1][i] == -1024.0f);
        assert_true(out->logits[2][0][i] == -1024.0f);
    }
    sam2_error err = {0};
    tracker_entry e = {0};
    assert_int_equal(tracker_get_entry(t, 2, 0, TRACKER_COND, &e, &err), 0);
    assert_true(e.object_score == 10.0f && e.has_maskmem);
    sam2_tracker_free(t);
    free(out);
}

static void test_remove_objects(void **state) {
    (void)state;
    frames_out *out = calloc(1, sizeof *out);
    sam2_tracker *t = open_tracker();
    for (int o = 0; o < 3; o++) click(t, 0, o + 1, clicks[o][0], clicks[o][1], 1);
    propagate(t, -1, out);
    sam2_error err = {0};
    assert_int_equal(sam2_tracker_remove_object(t, 2, NULL, NULL, &err), 0);
    int ids[4];
    assert_int_equal(sam2_tracker_object_ids(t, ids, 4), 2);
    assert_true(ids[0] == 1 && ids[1] == 3);
    propagate(t, -1, out);
    assert_int_equal(out->nobj, 2);
    assert_int_equal(sam2_tracker_remove_object(t, 1, NULL, NULL, &err), 0);
    assert_int_equal(sam2_tracker_remove_object(t, 3, NULL, NULL, &err), 0);
    assert_int_equal(sam2_tracker_object_ids(t, ids, 4), 0);
    assert_int_equal(sam2_tracker_propagate(t, -1, -1, 0, keep, out, &err), SAM2_ERR_STATE);
    assert_non_null(strstr(err.message, "No points are provided"));
    sam2_tracker_free(t);
    free(out);
}

int main(void) {
    const char *dir = test_make_tmpdir();
    sam2_config cfg;
    sam2_error err = {0};
    const char *yaml = mini_edgetam_write_yaml(dir, "edgetam_mini");
    if (!yaml || sam2_config_load_yaml(yaml, &cfg, &err)) {
        fprintf(stderr, "mini EdgeTAM config: %s\n", err.message);
        return 1;
    }
    char ckpt[4096];
    snprintf(ckpt, sizeof ckpt, "%s/edgetam_mini.pt", dir);
    mini_ckpt_options o = {.dtype = 0, .drop = -1, .reshape = -1};
    if (mini_model_write_ckpt(&cfg, ckpt, &o)) return 1;
    model = sam2_model_load(ckpt, yaml, &err);
    if (!model) {
        fprintf(stderr, "mini EdgeTAM model: %s\n", err.message);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects_together_equal_alone),
        cmocka_unit_test(test_cancel_inside_frame_is_exact),
        cmocka_unit_test(test_no_new_object_after_tracking),
        cmocka_unit_test(test_correction_survives_propagation),
        cmocka_unit_test(test_object_without_output_on_input_frame),
        cmocka_unit_test(test_remove_objects),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sam2_model_free(model);
    test_cleanup_tmpdir();
    return rc;
}
