/* masks.json written one frame at a time (mask_json_write, what `sam2 track` uses so its memory
 * does not grow with the video) gives the same bytes as the whole document rendered at once
 * (mask_json_render, what the server's export uses), takes the counts from the loader and not
 * from the frames' metadata, and reports a loader's failure and a failing output stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/error.h"
#include "app/mask_export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Three frames, the middle one untracked; object 7 first appears on the last frame. */
static mask_rle g_f0[2] = {{.id = 3, .score = 1.5f, .area = 4, .counts = "04L0"},
                           {.id = 5, .score = -2.25f, .area = 0, .counts = "<"}};
static mask_rle g_f2[3] = {{.id = 5, .score = 0.125f, .area = 1, .counts = "3102"},
                           {.id = 7, .score = 10.0f, .area = 12, .counts = "0<"},
                           {.id = 3, .score = -0.5f, .area = 0, .counts = "<"}};

static mask_json_doc doc_of(mask_frame *frames) {
    return (mask_json_doc){.video_path = "clips/a \"b\".mp4",
                           .width = 4,
                           .height = 3,
                           .video_frames = 9,
                           .fps = 29.97,
                           .model = "sam2.1_hiera_tiny",
                           .frames = frames,
                           .n_frames = 3};
}

/* The loader's copy of the frames, which alone carries the counts. */
typedef struct loader {
    mask_frame *full;
    int calls, fail_at;
} loader;

static int load(void *user, int index, const mask_frame **frame, sam2_error *err) {
    loader *l = user;
    l->calls++;
    if (index == l->fail_at) return sam2_fail(err, SAM2_ERR_IO, "frame %d is unreadable", index);
    *frame = &l->full[index];
    return 0;
}

static char *written(const mask_json_doc *d, loader *l, int *rc, sam2_error *err) {
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    assert_non_null(f);
    *rc = mask_json_write(f, d, load, l, err);
    assert_int_equal(fclose(f), 0);
    return text;
}

static void test_stream_equals_render(void **state) {
    (void)state;
    mask_frame full[3] = {{0, 2, g_f0}, {1, 0, NULL}, {2, 3, g_f2}};
    /* Metadata only: the same masks without their strings. */
    mask_rle m0[2], m2[3];
    memcpy(m0, g_f0, sizeof m0);
    memcpy(m2, g_f2, sizeof m2);
    for (int i = 0; i < 2; i++) m0[i].counts = NULL;
    for (int i = 0; i < 3; i++) m2[i].counts = NULL;
    mask_frame meta[3] = {{0, 2, m0}, {1, 0, NULL}, {2, 3, m2}};

    sam2_error err = {0};
    const mask_json_doc whole = doc_of(full);
    size_t len = 0;
    char *rendered = mask_json_render(&whole, &len, &err);
    assert_non_null(rendered);
    assert_int_equal(len, strlen(rendered));
    assert_true(len > 0 && rendered[len - 1] == '\n');
    assert_non_null(strstr(rendered, "\"objects\":[3,5,7]"));
    assert_non_null(strstr(rendered, "\"counts\":\"3102\""));
    assert_null(strstr(rendered, "\"frame\":1"));

    loader l = {.full = full, .fail_at = -1};
    const mask_json_doc streamed_doc = doc_of(meta);
    int rc = -1;
    char *streamed = written(&streamed_doc, &l, &rc, &err);
    assert_int_equal(rc, 0);
    assert_string_equal(streamed, rendered);
    assert_int_equal(l.calls, 2); /* only tracked frames are read back */
    free(streamed);
    free(rendered);
}

static void test_no_frames(void **state) {
    (void)state;
    mask_frame none[3] = {{0, 0, NULL}, {1, 0, NULL}, {2, 0, NULL}};
    const mask_json_doc d = doc_of(none);
    sam2_error err = {0};
    char *text = mask_json_render(&d, NULL, &err);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"objects\":[],\"frames\":[]}\n"));
    free(text);
}

static void test_loader_failure(void **state) {
    (void)state;
    mask_frame full[3] = {{0, 2, g_f0}, {1, 0, NULL}, {2, 3, g_f2}};
    loader l = {.full = full, .fail_at = 2};
    const mask_json_doc d = doc_of(full);
    sam2_error err = {0};
    int rc = 0;
    free(written(&d, &l, &rc, &err));
    assert_int_not_equal(rc, 0);
    assert_int_equal(err.code, SAM2_ERR_IO);
    assert_non_null(strstr(err.message, "frame 2 is unreadable"));
}

static void test_full_disk(void **state) {
    (void)state;
    FILE *f = fopen("/dev/full", "w");
    if (!f) skip();
    setvbuf(f, NULL, _IONBF, 0); /* so the failure shows in the write, not only at fclose */
    mask_frame full[3] = {{0, 2, g_f0}, {1, 0, NULL}, {2, 3, g_f2}};
    const mask_json_doc d = doc_of(full);
    sam2_error err = {0};
    assert_int_not_equal(mask_json_write(f, &d, NULL, NULL, &err), 0);
    assert_int_equal(err.code, SAM2_ERR_IO);
    assert_non_null(strstr(err.message, "masks.json"));
    fclose(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_equals_render),
        cmocka_unit_test(test_no_frames),
        cmocka_unit_test(test_loader_failure),
        cmocka_unit_test(test_full_disk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
