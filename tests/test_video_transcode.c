/* Upload ingest: a gallery video transcoded as the demo backend does (trimmed, fitted to
 * 1280x720, 24 fps, H.264/yuv420p, moov first, named by its sha256), rotated and small inputs,
 * failures that leave nothing behind, posters, the environment variables, atomic writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "app/atomic_file.h"
#include "io/frames_dir.h"
#include "app/transcode.h"
#include "io/video_reader.h"
#include "app/video_writer.h"
#include "support/media_testutil.h"
#include "support/testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *data_dir, *tmp_dir;

static void make_dir(const char *rel, char *out, size_t n) {
    snprintf(out, n, "%s/%s", tmp_dir, rel);
    mkdir(out, 0755);
}

/* Names in a folder (up to 16), for "nothing else is left" checks. */
static int list_dir(const char *dir, char names[16][256]) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && n < 16)
            snprintf(names[n++], 256, "%s", e->d_name);
    closedir(d);
    return n;
}

/* Top-level MP4 boxes in file order; returns how many (up to max). */
static int mp4_boxes(const char *path, char boxes[][5], int max) {
    size_t size = 0;
    uint8_t *b = test_read_file(path, &size);
    assert_non_null(b);
    int n = 0;
    size_t at = 0;
    while (at + 8 <= size && n < max) {
        uint64_t len = (uint64_t)b[at] << 24 | b[at + 1] << 16 | b[at + 2] << 8 | b[at + 3];
        if (len == 1 && at + 16 <= size) {
            len = 0;
            for (int k = 0; k < 8; k++) len = len << 8 | b[at + 8 + k];
        }
        memcpy(boxes[n], b + at + 4, 4);
        boxes[n++][4] = 0;
        if (len < 8) break;
        at += len;
    }
    free(b);
    return n;
}

static int box_index(char boxes[][5], int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(boxes[i], name)) return i;
    return -1;
}

static void write_pattern_video(const char *path, int w, int h, int frames, double fps,
                                int rotation) {
    sam2_error err = {0};
    sam2_video_writer_options o = {
        .width = w, .height = h, .fps = fps, .rotation = rotation, .preset = "ultrafast"};
    sam2_video_writer *wr = sam2_video_writer_open(path, &o, &err);
    if (!wr) fail_msg("%s", err.message);
    uint8_t *rgb = malloc((size_t)w * h * 3);
    for (int t = 0; t < frames; t++) {
        for (int i = 0; i < w * h; i++) {
            rgb[3 * i] = (uint8_t)(i % w * 255 / w);
            rgb[3 * i + 1] = (uint8_t)(i / w * 255 / h);
            rgb[3 * i + 2] = (uint8_t)(t * 8);
        }
        assert_int_equal(sam2_video_writer_write_rgb(wr, rgb, (size_t)w * 3, &err), 0);
    }
    assert_int_equal(sam2_video_writer_close(wr, &err), 0);
    free(rgb);
}

static void test_ingest_gallery_video(void **state) {
    (void)state;
    char dest[512];
    make_dir("uploads", dest, sizeof dest);
    sam2_transcode_options o;
    sam2_transcode_options_init(&o);
    o.max_duration = 1.0; /* a short clip keeps the test fast; the rule is the same */
    sam2_transcode_result res;
    sam2_error err = {0};
    const char *src = test_path(data_dir, "gallery/02_cups.mp4");
    if (sam2_ingest_upload(src, dest, &o, &res, &err) != 0) fail_msg("%s", err.message);
    printf("ingest: %s %dx%d, %d frames at %g fps, %.3fs, %s\n", res.path, res.width, res.height,
           res.frame_count, res.fps, res.duration, res.codec);
    /* named by the sha256 of its bytes, nothing else in the folder (no temporary file) */
    char names[16][256];
    assert_int_equal(list_dir(dest, names), 1);
    char expect[128];
    snprintf(expect, sizeof expect, "%s.mp4", res.sha256);
    assert_string_equal(names[0], expect);
    size_t n = 0;
    uint8_t *bytes = test_read_file(res.path, &n);
    char hex[65];
    test_sha256_hex(bytes, n, hex);
    free(bytes);
    assert_string_equal(hex, res.sha256);
    /* read back independently */
    sam2_video_reader *r = sam2_video_reader_open(res.path, NULL, &err);
    assert_non_null(r);
    const sam2_video_info *i = sam2_video_reader_info(r);
    assert_string_equal(i->codec, "h264");
    assert_string_equal(i->pix_fmt, "yuv420p");
    assert_int_equal(i->width, 1280);
    assert_int_equal(i->height, 720);
    assert_true(i->fps > 23.999 && i->fps < 24.001);
    assert_int_equal(i->frame_count, 24);
    assert_true(i->duration <= 1.0 + 1e-6);
    assert_int_equal(res.frame_count, 24);
    /* content: the first frame resembles the source's first frame */
    uint8_t *a = malloc(1280 * 720 * 3), *b = malloc(1280 * 720 * 3);
    assert_int_equal(sam2_video_reader_read(r, 0, a, 0, 0, &err), 0);
    sam2_video_reader *s = sam2_video_reader_open(src, NULL, &err);
    assert_int_equal(sam2_video_reader_read(s, 0, b, 0, 0, &err), 0);
    double d = 0;
    for (size_t k = 0; k < 1280 * 720 * 3; k++) d += abs((int)a[k] - (int)b[k]);
    d /= 1280.0 * 720 * 3;
    printf("first frame mean |difference| to the source: %.2f\n", d);
    assert_true(d < 4.0);
    free(a);
    free(b);
    sam2_video_reader_close(s);
    sam2_video_reader_close(r);
    /* moov before mdat (faststart) */
    char boxes[16][5];
    int nb = mp4_boxes(res.path, boxes, 16);
    int moov = box_index(boxes, nb, "moov"), mdat = box_index(boxes, nb, "mdat");
    assert_true(moov >= 0 && mdat >= 0 && moov < mdat);
}

/* Rotation applied (upright output, sizes swapped), fitting into the box, never enlarging,
 * frame-rate conversion by timestamps (10 fps in -> 24 fps out), start time. */
static void test_ingest_geometry_and_rate(void **state) {
    (void)state;
    char dest[512];
    make_dir("geometry", dest, sizeof dest);
    sam2_transcode_options o;
    sam2_transcode_options_init(&o);
    o.preset = "ultrafast";
    sam2_error err = {0};
    sam2_transcode_result res;

    const char *rot = test_path(tmp_dir, "portrait.mp4");
    write_pattern_video(rot, 320, 180, 10, 10, 90); /* 1 s at 10 fps, shown as 180x320 */
    assert_int_equal(sam2_transcode_file(rot, test_path(dest, "a.mp4"), &o, &res, &err), 0);
    assert_int_equal(res.width, 180);
    assert_int_equal(res.height, 320);
    assert_int_equal(res.frame_count, 24);
    sam2_video_reader *r = sam2_video_reader_open(res.path, NULL, &err);
    assert_int_equal(sam2_video_reader_info(r)->rotation, 0);
    sam2_video_reader_close(r);

    o.max_width = 64;
    o.max_height = 64;
    assert_int_equal(sam2_transcode_file(rot, test_path(dest, "b.mp4"), &o, &res, &err), 0);
    assert_int_equal(res.width, 36); /* 180x320 * 0.2 = 36x64 */
    assert_int_equal(res.height, 64);

    o.max_width = 1280;
    o.max_height = 720;
    o.start_time = 0.5;
    assert_int_equal(sam2_transcode_file(rot, test_path(dest, "c.mp4"), &o, &res, &err), 0);
    assert_int_equal(res.frame_count, 12);
    o.start_time = 5;
    assert_int_equal(sam2_transcode_file(rot, test_path(dest, "d.mp4"), &o, &res, &err),
                     SAM2_ERR_FORMAT);
    printf("  %s\n", err.message);
    char names[16][256];
    int n = list_dir(dest, names);
    assert_int_equal(n, 3); /* a, b, c; nothing from the failed one */
}

/* Failures leave nothing in the destination folder. */
static void test_ingest_failures_leave_nothing(void **state) {
    (void)state;
    char dest[512];
    make_dir("failed", dest, sizeof dest);
    sam2_error err = {0};
    sam2_transcode_result res;
    uint8_t junk[2048];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 131 + 7);
    const char *junk_path = test_path(tmp_dir, "junk.mp4");
    assert_int_equal(test_write_file(junk_path, junk, sizeof junk), 0);
    assert_int_equal(sam2_ingest_upload(junk_path, dest, NULL, &res, &err), SAM2_ERR_FORMAT);
    printf("  %s\n", err.message);
    const char *txt = test_path(tmp_dir, "upload.txt");
    assert_int_equal(test_write_file(txt, "not a video", 11), 0);
    assert_int_equal(sam2_ingest_upload(txt, dest, NULL, &res, &err), SAM2_ERR_FORMAT);
    /* an input over the size limit */
    sam2_transcode_options o;
    sam2_transcode_options_init(&o);
    o.max_input_side = 100;
    assert_int_equal(
        sam2_ingest_upload(test_path(data_dir, "videos/bedroom.mp4"), dest, &o, &res, &err),
        SAM2_ERR_LIMIT);
    printf("  %s\n", err.message);
    /* an input that would decode more pixels than allowed: refused before decoding; a bound
     * above what it needs lets it through */
    sam2_transcode_options_init(&o);
    o.max_duration = 1;
    o.max_decoded_pixels = 1000000;
    assert_int_equal(sam2_ingest_upload(test_path(data_dir, "gallery/05_default_juggle.mp4"), dest,
                                        &o, &res, &err),
                     SAM2_ERR_LIMIT);
    printf("  %s\n", err.message);
    assert_non_null(strstr(err.message, "megapixels are decoded"));
    o.max_decoded_pixels = 100LL * 1280 * 720;
    assert_int_equal(sam2_ingest_upload(test_path(data_dir, "gallery/05_default_juggle.mp4"), dest,
                                        &o, &res, &err),
                     0);
    unlink(res.path);
    /* an encoder that does not exist: fails after the temporary file was created */
    sam2_transcode_options_init(&o);
    o.codec = "no-such-encoder";
    assert_int_equal(sam2_ingest_upload(test_path(tmp_dir, "portrait.mp4"), dest, &o, &res, &err),
                     SAM2_ERR_UNSUPPORTED);
    printf("  %s\n", err.message);
    assert_null(strstr(err.message, SAM2_TMP_PREFIX)); /* messages name the upload */
    /* a destination that does not exist */
    assert_int_equal(sam2_ingest_upload(test_path(tmp_dir, "portrait.mp4"),
                                        test_path(tmp_dir, "no/such/dir"), NULL, &res, &err),
                     SAM2_ERR_IO);
    char names[16][256];
    assert_int_equal(list_dir(dest, names), 0);
}

static void test_poster(void **state) {
    (void)state;
    char dir[512];
    make_dir("posters", dir, sizeof dir);
    sam2_error err = {0};
    int w = 0, h = 0;
    const char *jpg = test_path(dir, "05_default_juggle.jpg");
    assert_int_equal(sam2_poster_write_jpeg(test_path(data_dir, "gallery/05_default_juggle.mp4"),
                                            jpg, 90, &w, &h, &err),
                     0);
    assert_int_equal(w, 1280);
    assert_int_equal(h, 720);
    int jw, jh;
    uint8_t *img = sam2_frames_dir_load_rgb(jpg, 0, &jw, &jh, &err);
    assert_non_null(img);
    assert_int_equal(jw, 1280);
    assert_int_equal(jh, 720);
    uint8_t *ref = malloc(1280 * 720 * 3);
    sam2_video_reader *r =
        sam2_video_reader_open(test_path(data_dir, "gallery/05_default_juggle.mp4"), NULL, &err);
    assert_int_equal(sam2_video_reader_read(r, 0, ref, 0, 0, &err), 0);
    sam2_video_reader_close(r);
    double d = 0;
    for (size_t k = 0; k < 1280 * 720 * 3; k++) d += abs((int)img[k] - (int)ref[k]);
    d /= 1280.0 * 720 * 3;
    printf("poster mean |difference| to frame 0: %.2f\n", d);
    assert_true(d < 6.0); /* JPEG at quality 90 with 4:2:0 chroma on a detailed frame */
    free(img);
    free(ref);
    char names[16][256];
    assert_int_equal(list_dir(dir, names), 1);
    /* a rotated video's poster is upright */
    assert_int_equal(sam2_poster_write_jpeg(test_path(tmp_dir, "portrait.mp4"),
                                            test_path(dir, "p.jpg"), 0, &w, &h, &err),
                     0);
    assert_int_equal(w, 180);
    assert_int_equal(h, 320);
    assert_int_equal(sam2_poster_write_jpeg(test_path(tmp_dir, "upload.txt"),
                                            test_path(dir, "bad.jpg"), 0, &w, &h, &err),
                     SAM2_ERR_FORMAT);
    assert_int_equal(list_dir(dir, names), 2);
}

/* The writer's atomic mode: nothing under the final name until close; abort removes
 * everything; stale temporary files are cleared. */
static void test_atomic_writer(void **state) {
    (void)state;
    char dir[512];
    make_dir("atomic", dir, sizeof dir);
    const char *final = test_path(dir, "overlay.mp4");
    sam2_error err = {0};
    sam2_video_writer_options o = {
        .width = 32, .height = 32, .fps = 25, .atomic = 1, .preset = "ultrafast"};
    sam2_video_writer *w = sam2_video_writer_open(final, &o, &err);
    assert_non_null(w);
    uint8_t px[32 * 32 * 3] = {0};
    assert_int_equal(sam2_video_writer_write_rgb(w, px, 96, &err), 0);
    assert_int_equal(access(final, F_OK), -1);
    char names[16][256];
    assert_int_equal(list_dir(dir, names), 1);
    assert_int_equal(strncmp(names[0], SAM2_TMP_PREFIX, strlen(SAM2_TMP_PREFIX)), 0);
    assert_int_equal(sam2_video_writer_close(w, &err), 0);
    assert_int_equal(access(final, F_OK), 0);
    assert_int_equal(list_dir(dir, names), 1);
    w = sam2_video_writer_open(test_path(dir, "other.mp4"), &o, &err);
    assert_int_equal(sam2_video_writer_write_rgb(w, px, 96, &err), 0);
    sam2_video_writer_abort(w);
    assert_int_equal(list_dir(dir, names), 1);
    /* leftovers of a killed process */
    assert_int_equal(test_write_file(test_path(dir, SAM2_TMP_PREFIX "abc123.mp4"), "x", 1), 0);
    assert_int_equal(sam2_remove_stale_temp_files(dir), 1);
    assert_int_equal(list_dir(dir, names), 1);
    /* odd sizes are padded to even */
    o.width = 33;
    o.height = 17;
    o.atomic = 0;
    w = sam2_video_writer_open(test_path(dir, "odd.mp4"), &o, &err);
    assert_non_null(w);
    uint8_t odd[33 * 17 * 3];
    memset(odd, 128, sizeof odd);
    assert_int_equal(sam2_video_writer_write_rgb(w, odd, 99, &err), 0);
    assert_int_equal(sam2_video_writer_close(w, &err), 0);
    sam2_video_reader *r = sam2_video_reader_open(test_path(dir, "odd.mp4"), NULL, &err);
    assert_int_equal(sam2_video_reader_info(r)->width, 34);
    assert_int_equal(sam2_video_reader_info(r)->height, 18);
    sam2_video_reader_close(r);
    /* bad options */
    o.fps = 0;
    assert_null(sam2_video_writer_open(test_path(dir, "bad.mp4"), &o, &err));
    assert_int_equal(err.code, SAM2_ERR_ARGUMENT);
}

int main(void) {
    data_dir = test_data_dir();
    test_require_dir(data_dir, "test media (../shared/data)");
    tmp_dir = test_make_tmpdir();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest_gallery_video),
        cmocka_unit_test(test_ingest_geometry_and_rate),
        cmocka_unit_test(test_ingest_failures_leave_nothing),
        cmocka_unit_test(test_poster),
        cmocka_unit_test(test_atomic_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
