/* sam2 track (src/cli/track*.c) run as a subprocess on the gallery's juggling video with the
 * micro model: two clicked objects over six frames give six indexed PNGs, a masks.json whose
 * RLE decodes to the PNGs' objects and to the masks the library computes in-process, and an
 * overlay video with six frames at the source's rate; Ctrl-C mid-run exits 130 and writes the
 * frames tracked so far (valid outputs of exactly those frames), a second Ctrl-C leaves no
 * output at all (and earlier outputs untouched); bad arguments and an unusable --spill-dir
 * exit 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/image.h"
#include "sam2.h"
#include "support/cli_run.h"
#include "support/cli_track_check.h"
#include "support/testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static track_fixture g_fx;

static const char *tmp(const char *name) {
    return test_path(test_make_tmpdir(), name);
}

static void expect_usage_error(const char *const *args, const char *needle) {
    cli_result r;
    assert_int_equal(cli_run(args, 120, &r), 0);
    if (r.status != 2 || !strstr(r.err, needle))
        fail_msg("expected exit 2 with '%s', got %d:\n%s", needle, r.status, r.err);
    cli_result_free(&r);
}

static void test_bad_arguments(void **state) {
    (void)state;
    const char *out = tmp("never");
    expect_usage_error((const char *const[]){"track", NULL}, "VIDEO is required");
    expect_usage_error(
        (const char *const[]){"track", "v.mp4", "--checkpoint", "x.pt", "--out", out, NULL},
        "no prompt");
    expect_usage_error((const char *const[]){"track", "v.mp4", "--checkpoint", "x.pt", "--out", out,
                                             "--prompt", "frame=0,obj=1,x=5", NULL},
                       "y=NUMBER is required");
    expect_usage_error((const char *const[]){"track", "v.mp4", "--checkpoint", "x.pt", "--out", out,
                                             "--prompt", "frame=0,obj=0,x=5,y=5", NULL},
                       "obj must be 1..255");
    expect_usage_error((const char *const[]){"track", "v.mp4", "--checkpoint", "x.pt", "--out", out,
                                             "--prompt", "frame=0,obj=1,x=5,y=5,z=1", NULL},
                       "unknown key 'z'");
    expect_usage_error((const char *const[]){"track", "v.mp4", "--checkpoint", "x.pt", "--out", out,
                                             "--prompt", "frame=0,obj=1,x=5,y=5", "--mask-prompt",
                                             "frame=0,obj=1,m.png", NULL},
                       "both a mask prompt and clicks");
    expect_usage_error((const char *const[]){"track", "v.mp4", "--checkpoint", "x.pt", "--out", out,
                                             "--prompt", "frame=0,obj=1,x=5,y=5", "--reverse",
                                             "--both", NULL},
                       "exclude each other");
    expect_usage_error((const char *const[]){"track", "/nonexistent/v.mp4", "--checkpoint", "x.pt",
                                             "--out", out, "--prompt", "frame=0,obj=1,x=5,y=5",
                                             NULL},
                       "/nonexistent/v.mp4");
    assert_int_equal(access(out, F_OK), -1);
}

/* Checks made on a juggle video (needs the micro checkpoint and the gallery). */
static void test_prompt_past_the_end(void **state) {
    (void)state;
    const char *out = tmp("past");
    expect_usage_error((const char *const[]){"track", g_fx.video, "--checkpoint", g_fx.ckpt,
                                             "--config", g_fx.yaml, "--out", out, "--prompt",
                                             "frame=100000,obj=1,x=5,y=5", NULL},
                       "frame 100000");
    expect_usage_error((const char *const[]){"track", g_fx.video, "--checkpoint", g_fx.ckpt,
                                             "--config", g_fx.yaml, "--out", out, "--prompt",
                                             "frame=0,obj=1,x=nan,y=5", NULL},
                       "non-finite");
    assert_int_equal(access(out, F_OK), -1);
}

/* The results go to a temporary file in --spill-dir: a folder that is not there is named in
 * the error, and nothing is written. */
static void test_unusable_spill_dir(void **state) {
    (void)state;
    const char *out = tmp("nospill");
    expect_usage_error((const char *const[]){"track", g_fx.video, "--checkpoint", g_fx.ckpt,
                                             "--config", g_fx.yaml, "--out", out, "--prompt",
                                             TRACK_PROMPT_1, "--max-frames", "2", "--spill-dir",
                                             "/nonexistent/spill", NULL},
                       "cannot create the masks' spill file in '/nonexistent/spill'");
    assert_int_equal(access(out, F_OK), -1);
}

static void test_short_track(void **state) {
    (void)state;
    const char *out = tmp("short"), *overlay = tmp("short/overlay.mp4");
    cli_result r;
    assert_int_equal(
        cli_run((const char *const[]){"track", g_fx.video, "--checkpoint", g_fx.ckpt, "--config",
                                      g_fx.yaml, "--prompt", TRACK_PROMPT_1, "--prompt",
                                      TRACK_PROMPT_2, "--max-frames", "6", "--out", out,
                                      "--overlay", overlay, NULL},
                300, &r),
        0);
    if (r.status != 0) fail_msg("sam2 track exited %d:\n%s", r.status, r.err);
    assert_non_null(strstr(r.err, "frames/s"));
    cli_result_free(&r);
    char msg[1024];
    if (track_check_outputs(&g_fx, out, overlay, 6, 1, msg, sizeof msg)) fail_msg("%s", msg);
}

/* Interrupts a full-length run with a real SIGINT once progress shows; returns the exit status
 * and copies the run's stderr to err[]. */
static int interrupted_run(const char *out, const char *overlay, char *err, size_t cap) {
    int fd = -1;
    const pid_t pid =
        cli_spawn((const char *const[]){"track", g_fx.video, "--checkpoint", g_fx.ckpt, "--config",
                                        g_fx.yaml, "--prompt", TRACK_PROMPT_1, "--prompt",
                                        TRACK_PROMPT_2, "--out", out, "--overlay", overlay, NULL},
                  &fd);
    assert_true(pid > 0);
    const int seen = cli_wait_for_output(fd, "%)", 120);
    kill(pid, SIGINT);
    size_t n = 0;
    ssize_t got;
    while (n + 1 < cap && (got = read(fd, err + n, cap - 1 - n)) > 0) n += (size_t)got;
    err[n] = '\0';
    const int status = cli_wait(pid);
    close(fd);
    if (!seen) fail_msg("no progress line before the interrupt (exit %d)", status);
    return status;
}

/* A full-length run with the test hook SAM2_DEBUG_INTERRUPT_AFTER_FRAMES=`hook` (sam2 track
 * raises SIGINT itself after N frames, K times); returns the exit status, stderr in r. */
static int hooked_run(const char *hook, const char *out, const char *overlay, cli_result *r) {
    setenv("SAM2_DEBUG_INTERRUPT_AFTER_FRAMES", hook, 1);
    const int rc =
        cli_run((const char *const[]){"track", g_fx.video, "--checkpoint", g_fx.ckpt, "--config",
                                      g_fx.yaml, "--prompt", TRACK_PROMPT_1, "--prompt",
                                      TRACK_PROMPT_2, "--out", out, "--overlay", overlay, NULL},
                300, r);
    unsetenv("SAM2_DEBUG_INTERRUPT_AFTER_FRAMES");
    assert_int_equal(rc, 0);
    return r->status;
}

/* Ctrl-C after 3 frames: exit 130, and the outputs hold exactly those 3 frames, identical to
 * what the library computes for them (PNGs, masks.json, a 3-frame overlay). */
static void test_ctrl_c_writes_frames_done(void **state) {
    (void)state;
    const char *out = tmp("partial"), *overlay = tmp("partial/o.mp4");
    cli_result r;
    const int status = hooked_run("3", out, overlay, &r);
    if (status != 130 || !strstr(r.err, "interrupted after 3 of"))
        fail_msg("expected exit 130 and 'interrupted after 3 of', got %d:\n%s", status, r.err);
    cli_result_free(&r);
    char msg[1024];
    if (track_check_outputs(&g_fx, out, overlay, 3, 1, msg, sizeof msg)) fail_msg("%s", msg);
}

/* A real SIGINT at an unknown frame: exit 130, and whatever frames were tracked are written as
 * a consistent set (masks/00000.png.. and masks.json agree, the overlay has as many frames). */
static void test_ctrl_c_signal_keeps_frames(void **state) {
    (void)state;
    const char *out = tmp("signal"), *overlay = tmp("signal/o.mp4");
    char err[8192];
    assert_int_equal(interrupted_run(out, overlay, err, sizeof err), 130);
    const int frames = cli_count_entries(tmp("signal/masks"), "");
    if (frames < 1 || !strstr(err, "interrupted after"))
        fail_msg("expected the frames tracked before the interrupt, found %d:\n%s", frames, err);
    char msg[1024];
    if (track_check_outputs(&g_fx, out, overlay, frames, 0, msg, sizeof msg)) fail_msg("%s", msg);
}

/* A second Ctrl-C abandons the writing: nothing at all is left, not even temporary files. */
static void test_second_ctrl_c_leaves_nothing(void **state) {
    (void)state;
    const char *parent = tmp("cancel"), *out = tmp("cancel/out"), *overlay = tmp("cancel/o.mp4");
    assert_int_equal(mkdir(parent, 0755), 0);
    cli_result r;
    assert_int_equal(hooked_run("2,2", out, overlay, &r), 130);
    assert_non_null(strstr(r.err, "no output written"));
    cli_result_free(&r);
    assert_int_equal(access(out, F_OK), -1);
    assert_int_equal(access(overlay, F_OK), -1);
    assert_int_equal(cli_count_entries(parent, ""), 0); /* no temporary files either */
}

/* An abandoned run over earlier outputs leaves them exactly as they were. */
static void test_ctrl_c_keeps_earlier_outputs(void **state) {
    (void)state;
    const char *out = tmp("keep"), *overlay = tmp("keep/o.mp4");
    cli_result r;
    assert_int_equal(
        cli_run((const char *const[]){"track", g_fx.video, "--checkpoint", g_fx.ckpt, "--config",
                                      g_fx.yaml, "--prompt", TRACK_PROMPT_1, "--max-frames", "2",
                                      "--out", out, "--overlay", overlay, "--quiet", NULL},
                300, &r),
        0);
    assert_int_equal(r.status, 0);
    cli_result_free(&r);
    size_t n_json = 0, n_video = 0;
    char *json = test_read_file(tmp("keep/masks.json"), &n_json);
    char *video = test_read_file(overlay, &n_video);
    assert_non_null(json);
    assert_non_null(video);
    assert_int_equal(hooked_run("4,2", out, overlay, &r), 130);
    cli_result_free(&r);
    size_t n2 = 0;
    char *json2 = test_read_file(tmp("keep/masks.json"), &n2);
    assert_true(json2 && n2 == n_json && !memcmp(json, json2, n2));
    free(json2);
    json2 = test_read_file(overlay, &n2);
    assert_true(json2 && n2 == n_video && !memcmp(video, json2, n2));
    assert_int_equal(cli_count_entries(tmp("keep/masks"), ""), 2);
    /* masks/, masks.json and the overlay; no temporaries */
    assert_int_equal(cli_count_entries(out, ""), 3);
    free(json2);
    free(json);
    free(video);
}

/* Runs the library with the given prompts and propagation and compares every frame it reports
 * with DIR/masks.json; `expect_frames` library results must match. */
typedef struct api_prompts {
    const float *box;        /* obj 1 on frame `frame`, or NULL */
    const sam2_point *click; /* obj 1 click (pixels), or NULL */
    const uint8_t *mask;     /* obj 2 mask on frame `frame`, or NULL */
    int mask_w, mask_h, frame;
} api_prompts;

static void compare_api(const char *dir, const api_prompts *p, int start, int limit, int fwd,
                        int rev, int expect_frames) {
    track_json_cmp cmp;
    if (track_json_cmp_open(&cmp, test_path(dir, "masks.json"))) fail_msg("%s", cmp.msg);
    sam2_error err = {0};
    sam2_model *model = sam2_model_load(g_fx.ckpt, g_fx.yaml, &err);
    sam2_video *video = model ? sam2_video_open(g_fx.video, &err) : NULL;
    sam2_tracker *t = video ? sam2_tracker_new(model, video, NULL, &err) : NULL;
    if (!t) fail_msg("%s", err.message);
    int rc = 0;
    if (p->box || p->click)
        rc = sam2_tracker_add_prompt(
            t, p->frame, 1,
            &(sam2_prompt){.points = p->click, .n_points = p->click ? 1 : 0, .box = p->box}, NULL,
            &err);
    if (!rc && p->mask)
        rc = sam2_tracker_add_prompt(
            t, p->frame, 2,
            &(sam2_prompt){.mask = &(sam2_mask){p->mask_w, p->mask_h, (uint8_t *)p->mask}}, NULL,
            &err);
    if (!rc && fwd)
        rc = sam2_tracker_propagate(t, start, limit - 1, 0, track_json_compare, &cmp, &err);
    if (!rc && rev)
        rc = sam2_tracker_propagate(t, start, limit - 1, 1, track_json_compare, &cmp, &err);
    if (cmp.failed) fail_msg("%s", cmp.msg);
    if (rc) fail_msg("library: %s", err.message);
    assert_int_equal(cmp.frames_compared, expect_frames);
    track_json_cmp_close(&cmp);
    sam2_tracker_free(t);
    sam2_model_free(model);
}

/* A box for object 1 and a mask image for object 2 on frame 3, tracked both ways for 3
 * frames each: frames 1..5. */
static void test_box_mask_both_ways(void **state) {
    (void)state;
    const int mw = 320, mh = 180;
    uint8_t *rgb = calloc((size_t)3 * mw * mh, 1), *mask = calloc((size_t)mw * mh, 1);
    for (int y = 60; y < 160; y++)
        for (int x = 40; x < 120; x++) {
            memset(rgb + 3 * ((size_t)y * mw + x), 255, 3);
            mask[y * mw + x] = 1;
        }
    const char *mask_png = tmp("obj2.png");
    const image_png_desc d = {.kind = IMAGE_PNG_RGB, .width = mw, .height = mh, .pixels = rgb};
    sam2_error err = {0};
    assert_int_equal(image_png_write(mask_png, &d, &err), 0);
    char mask_spec[1024];
    snprintf(mask_spec, sizeof mask_spec, "frame=3,obj=2,%s", mask_png);
    const char *out = tmp("both");
    cli_result r;
    assert_int_equal(
        cli_run((const char *const[]){"track", g_fx.video, "--checkpoint", g_fx.ckpt, "--config",
                                      g_fx.yaml, "--box",
                                      "frame=3,obj=1,x0=500,y0=100,x1=800,y1=600", "--mask-prompt",
                                      mask_spec, "--both", "--max-frames", "3", "--out", out, NULL},
                300, &r),
        0);
    if (r.status != 0) fail_msg("sam2 track exited %d:\n%s", r.status, r.err);
    cli_result_free(&r);
    assert_int_equal(cli_count_entries(test_path(out, "masks"), ""), 5);
    assert_int_equal(access(test_path(out, "masks/00001.png"), F_OK), 0);
    assert_int_equal(access(test_path(out, "masks/00005.png"), F_OK), 0);
    const float box[4] = {500, 100, 800, 600};
    const api_prompts p = {.box = box, .mask = mask, .mask_w = mw, .mask_h = mh, .frame = 3};
    compare_api(out, &p, 3, 3, 1, 1, 6); /* frame 3 is reported by both passes */
    free(rgb);
    free(mask);
}

/* --normalized clicks equal the same clicks in pixels; --reverse tracks backwards only. */
static void test_normalized_reverse(void **state) {
    (void)state;
    const char *out = tmp("norm");
    cli_result r;
    assert_int_equal(
        cli_run((const char *const[]){"track", g_fx.video, "--checkpoint", g_fx.ckpt, "--config",
                                      g_fx.yaml, "--prompt", "frame=4,obj=1,x=0.5,y=0.5",
                                      "--normalized", "--reverse", "--max-frames", "3", "--out",
                                      out, "--quiet", NULL},
                300, &r),
        0);
    if (r.status != 0) fail_msg("sam2 track exited %d:\n%s", r.status, r.err);
    assert_string_equal(r.err, ""); /* --quiet */
    cli_result_free(&r);
    assert_int_equal(cli_count_entries(test_path(out, "masks"), ""), 3);
    assert_int_equal(access(test_path(out, "masks/00002.png"), F_OK), 0);
    const sam2_point click = {640, 360, 1};
    const api_prompts p = {.click = &click, .frame = 4};
    compare_api(out, &p, 4, 3, 0, 1, 3);
}

/* EdgeTAM (the golden set's random checkpoint, config detected from it): two objects clicked on
 * frame 0 go through the batched predictor together; the CLI's masks equal the library's. */
static void test_edgetam_short_track(void **state) {
    (void)state;
    track_fixture fx = g_fx;
    const char *g = test_golden_dir();
    snprintf(fx.ckpt, sizeof fx.ckpt, "%s/ckpt/edgetam.random.f16.pt", g);
    snprintf(fx.yaml, sizeof fx.yaml, "%s/configs/edgetam.yaml", g);
    if (access(fx.ckpt, R_OK) || access(fx.yaml, R_OK)) skip();
    const char *out = tmp("edgetam");
    cli_result r;
    assert_int_equal(
        cli_run((const char *const[]){"track", fx.video, "--checkpoint", fx.ckpt, "--prompt",
                                      TRACK_PROMPT_1, "--prompt", TRACK_PROMPT_2, "--max-frames",
                                      "3", "--out", out, NULL},
                300, &r),
        0);
    if (r.status != 0) fail_msg("sam2 track exited %d:\n%s", r.status, r.err);
    cli_result_free(&r);
    char msg[1024];
    if (track_check_outputs(&fx, out, NULL, 3, 1, msg, sizeof msg)) fail_msg("%s", msg);
}

int main(void) {
    if (access(cli_bin(), X_OK) != 0) {
        printf("FAIL: %s was not built\n", cli_bin());
        return 1;
    }
    const struct CMUnitTest plain[] = {cmocka_unit_test(test_bad_arguments)};
    int failed = cmocka_run_group_tests_name("cli_track_args", plain, NULL, NULL);
    if (track_fixture_find(&g_fx) != 0) {
        printf("SKIP: micro checkpoint or 05_default_juggle.mp4 not found (set SAM2_GOLDEN / "
               "SAM2_DATA); the tracking tests did not run\n");
        return failed ? 1 : TEST_SKIP_CODE;
    }
    const struct CMUnitTest model[] = {
        cmocka_unit_test(test_prompt_past_the_end),
        cmocka_unit_test(test_unusable_spill_dir),
        cmocka_unit_test(test_short_track),
        cmocka_unit_test(test_edgetam_short_track),
        cmocka_unit_test(test_box_mask_both_ways),
        cmocka_unit_test(test_normalized_reverse),
        cmocka_unit_test(test_ctrl_c_writes_frames_done),
        cmocka_unit_test(test_ctrl_c_signal_keeps_frames),
        cmocka_unit_test(test_second_ctrl_c_leaves_nothing),
        cmocka_unit_test(test_ctrl_c_keeps_earlier_outputs),
    };
    failed += cmocka_run_group_tests_name("cli_track_model", model, NULL, NULL);
    return failed ? 1 : 0;
}
