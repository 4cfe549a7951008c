#include "support/cli_track_check.h"

#include "io/rle.h"
#include "sam2.h"
#include "support/cli_run.h"
#include "support/testutil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int track_fixture_find(track_fixture *fx) {
    const char *g = test_golden_dir(), *d = test_data_dir();
    if (!g || !d) return -1;
    snprintf(fx->ckpt, sizeof fx->ckpt, "%s/micro/sam2.1_hiera_micro.pt", g);
    snprintf(fx->yaml, sizeof fx->yaml, "%s/micro/sam2.1_hiera_micro.yaml", g);
    snprintf(fx->video, sizeof fx->video, "%s/gallery/05_default_juggle.mp4", d);
    return access(fx->ckpt, R_OK) || access(fx->yaml, R_OK) || access(fx->video, R_OK) ? -1 : 0;
}

typedef struct checker {
    char *msg;
    size_t msg_size;
    int failed;
} checker;

static int fail(checker *c, const char *fmt, ...) {
    if (c->failed++) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, c->msg_size, fmt, ap);
    va_end(ap);
    return -1;
}

static const cJSON *frame_objects(const cJSON *frames, int f) {
    const cJSON *fo;
    cJSON_ArrayForEach(fo, frames) {
        const cJSON *idx = cJSON_GetObjectItem(fo, "frame");
        if (cJSON_IsNumber(idx) && idx->valueint == f) return cJSON_GetObjectItem(fo, "objects");
    }
    return NULL;
}

int track_json_cmp_open(track_json_cmp *c, const char *json_path) {
    memset(c, 0, sizeof *c);
    char *text = test_read_file(json_path, NULL);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!root) {
        snprintf(c->msg, sizeof c->msg, "%s: missing or not JSON", json_path);
        return c->failed = -1;
    }
    const cJSON *video = cJSON_GetObjectItem(root, "video");
    c->root = root;
    c->width = cJSON_GetObjectItem(video, "width")->valueint;
    c->height = cJSON_GetObjectItem(video, "height")->valueint;
    c->scratch = malloc((size_t)c->width * c->height);
    return 0;
}

void track_json_cmp_close(track_json_cmp *c) {
    cJSON_Delete(c->root);
    free(c->scratch);
    c->root = NULL;
    c->scratch = NULL;
}

static int cmp_fail(track_json_cmp *c, const char *fmt, ...) {
    if (c->failed++) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int track_json_compare(void *user, const sam2_frame_result *r) {
    track_json_cmp *a = user;
    const cJSON *objs = frame_objects(cJSON_GetObjectItem(a->root, "frames"), r->frame_index);
    if (!objs || cJSON_GetArraySize(objs) != r->num_objects)
        return cmp_fail(a, "frame %d: JSON objects differ from the library's %d", r->frame_index,
                        r->num_objects);
    const size_t hw = (size_t)a->width * a->height;
    for (int i = 0; i < r->num_objects; i++) {
        const cJSON *o = cJSON_GetArrayItem(objs, i);
        const cJSON *counts = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "segmentation"), "counts");
        if (cJSON_GetObjectItem(o, "id")->valueint != r->object_ids[i] || !cJSON_IsString(counts))
            return cmp_fail(a, "frame %d object %d: id or counts wrong", r->frame_index, i);
        const double score = cJSON_GetObjectItem(o, "score")->valuedouble;
        if (fabs(score - r->object_scores[i]) > 1e-5 * (1 + fabs(score)))
            return cmp_fail(a, "frame %d object %d: score %g, library %g", r->frame_index,
                            r->object_ids[i], score, (double)r->object_scores[i]);
        sam2_error err = {0};
        if (rle_decode(counts->valuestring, a->height, a->width, a->scratch, &err))
            return cmp_fail(a, "frame %d: %s", r->frame_index, err.message);
        size_t diff = 0;
        for (size_t k = 0; k < hw; k++) diff += a->scratch[k] != (r->logits[i * hw + k] > 0.0f);
        if (diff)
            return cmp_fail(a, "frame %d object %d: %zu pixels differ from the library's mask",
                            r->frame_index, r->object_ids[i], diff);
    }
    a->frames_compared++;
    return 0;
}

static int compare_with_library(checker *c, const track_fixture *fx, const char *json, int n) {
    sam2_error err = {0};
    track_json_cmp cmp;
    if (track_json_cmp_open(&cmp, json)) return fail(c, "%s", cmp.msg);
    sam2_model *model = sam2_model_load(fx->ckpt, fx->yaml, &err);
    sam2_video *video = model ? sam2_video_open(fx->video, &err) : NULL;
    sam2_tracker *t = video ? sam2_tracker_new(model, video, NULL, &err) : NULL;
    const sam2_point p1 = {TRACK_X1, TRACK_Y1, 1}, p2 = {TRACK_X2, TRACK_Y2, 1};
    int rc = !t ||
             sam2_tracker_add_prompt(t, 0, 1, &(sam2_prompt){.points = &p1, .n_points = 1}, NULL,
                                     &err) ||
             sam2_tracker_add_prompt(t, 0, 2, &(sam2_prompt){.points = &p2, .n_points = 1}, NULL,
                                     &err) ||
             sam2_tracker_propagate(t, 0, n - 1, 0, track_json_compare, &cmp, &err);
    if (cmp.failed)
        fail(c, "%s", cmp.msg);
    else if (rc)
        fail(c, "library run: %s", err.message);
    else if (cmp.frames_compared != n)
        fail(c, "the library tracked %d frames, expected %d", cmp.frames_compared, n);
    track_json_cmp_close(&cmp);
    sam2_tracker_free(t);
    sam2_model_free(model);
    return c->failed ? -1 : 0;
}

/* Each PNG pixel is the id of the last object in the frame's list whose mask covers it. */
static int check_png(checker *c, const char *dir, int f, const cJSON *objs, int w, int h,
                     uint8_t *dec) {
    char path[2048];
    snprintf(path, sizeof path, "%s/masks/%05d.png", dir, f);
    int pw = 0, ph = 0, npal = 0;
    uint8_t pal[256 * 3];
    uint8_t *idx = cli_png_read_indexed(path, &pw, &ph, pal, &npal);
    if (!idx) return fail(c, "%s: missing or not an 8-bit palette PNG", path);
    int rc = 0;
    if (pw != w || ph != h || npal != 256) {
        rc =
            fail(c, "%s: %dx%d with %d colours, expected %dx%d with 256", path, pw, ph, npal, w, h);
    } else if (memcmp(pal + 3, (const uint8_t[]){128, 0, 0, 0, 128, 0}, 6) != 0) {
        rc = fail(c, "%s: palette is not the DAVIS palette", path);
    } else {
        const size_t hw = (size_t)w * h;
        uint8_t *want = calloc(hw, 1);
        const cJSON *o;
        size_t fg = 0;
        cJSON_ArrayForEach(o, objs) {
            const int id = cJSON_GetObjectItem(o, "id")->valueint;
            const cJSON *seg = cJSON_GetObjectItem(o, "segmentation");
            const cJSON *size = cJSON_GetObjectItem(seg, "size");
            sam2_error err = {0};
            if (cJSON_GetArrayItem(size, 0)->valueint != h ||
                cJSON_GetArrayItem(size, 1)->valueint != w ||
                rle_decode(cJSON_GetObjectItem(seg, "counts")->valuestring, h, w, dec, &err)) {
                rc = fail(c, "frame %d object %d: bad segmentation %s", f, id, err.message);
                break;
            }
            int64_t area = 0;
            for (size_t k = 0; k < hw; k++) {
                if (dec[k]) want[k] = (uint8_t)id;
                area += dec[k];
            }
            if ((int64_t)cJSON_GetObjectItem(o, "area")->valuedouble != area)
                rc = fail(c, "frame %d object %d: area field wrong", f, id);
        }
        for (size_t k = 0; !rc && k < hw; k++) {
            fg += want[k] != 0;
            if (idx[k] != want[k])
                rc = fail(c, "%s: pixel %zu is %d, the JSON says %d", path, k, idx[k], want[k]);
        }
        if (!rc && (fg == 0 || fg == hw)) rc = fail(c, "frame %d: masks are empty or full", f);
        free(want);
    }
    free(idx);
    return rc;
}

static int check_overlay(checker *c, const char *overlay, int n, const track_fixture *fx) {
    sam2_error err = {0};
    sam2_video *src = sam2_video_open(fx->video, &err);
    sam2_video *v = src ? sam2_video_open(overlay, &err) : NULL;
    int rc = 0;
    if (!v)
        rc = fail(c, "overlay: %s", err.message);
    else if (sam2_video_frame_count(v) != n || sam2_video_width(v) != sam2_video_width(src) ||
             sam2_video_height(v) != sam2_video_height(src) ||
             fabs(sam2_video_fps(v) - sam2_video_fps(src)) > 1e-3)
        rc = fail(c, "overlay: %d frames %dx%d at %g fps, expected %d frames %dx%d at %g fps",
                  sam2_video_frame_count(v), sam2_video_width(v), sam2_video_height(v),
                  sam2_video_fps(v), n, sam2_video_width(src), sam2_video_height(src),
                  sam2_video_fps(src));
    sam2_video_close(v);
    sam2_video_close(src);
    return rc;
}

int track_check_outputs(const track_fixture *fx, const char *dir, const char *overlay, int n,
                        int compare_api, char *msg, size_t msg_size) {
    checker c = {.msg = msg, .msg_size = msg_size};
    char path[2048];
    snprintf(path, sizeof path, "%s/masks", dir);
    if (cli_count_entries(path, "") != n) return fail(&c, "%s does not hold %d files", path, n);
    if (cli_count_entries(dir, ".") != 0) return fail(&c, "%s holds temporary files", dir);
    snprintf(path, sizeof path, "%s/masks.json", dir);
    char *text = test_read_file(path, NULL);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!root) return fail(&c, "%s: missing or not JSON", path);
    const cJSON *video = cJSON_GetObjectItem(root, "video");
    const int w = cJSON_GetObjectItem(video, "width")->valueint;
    const int h = cJSON_GetObjectItem(video, "height")->valueint;
    const cJSON *frames = cJSON_GetObjectItem(root, "frames");
    const cJSON *ids = cJSON_GetObjectItem(root, "objects");
    uint8_t *dec = malloc((size_t)w * h);
    if (cJSON_GetArraySize(frames) != n || cJSON_GetArraySize(ids) != 2 ||
        cJSON_GetArrayItem(ids, 0)->valueint != 1 || cJSON_GetArrayItem(ids, 1)->valueint != 2)
        fail(&c, "masks.json: %d frames, %d objects; expected %d frames of objects [1, 2]",
             cJSON_GetArraySize(frames), cJSON_GetArraySize(ids), n);
    for (int f = 0; !c.failed && f < n; f++) {
        const cJSON *objs = frame_objects(frames, f);
        if (!objs || cJSON_GetArraySize(objs) != 2)
            fail(&c, "masks.json: frame %d missing or without both objects", f);
        else
            check_png(&c, dir, f, objs, w, h, dec);
    }
    free(dec);
    if (!c.failed && overlay) check_overlay(&c, overlay, n, fx);
    if (!c.failed && compare_api) compare_with_library(&c, fx, path, n);
    cJSON_Delete(root);
    return c.failed ? -1 : 0;
}
