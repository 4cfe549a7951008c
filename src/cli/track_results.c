#include "cli/track_results.h"

#include "app/mask_log.h"
#include "sam2.h"
#include "app/mask_rle.h"

#include <stdlib.h>
#include <string.h>

int track_results_init(track_results *r, int num_frames, int width, int height, const char *dir,
                       sam2_error *err) {
    memset(r, 0, sizeof *r);
    r->num_frames = num_frames;
    r->width = width;
    r->height = height;
    r->dir = dir;
    /* No RAM budget at all (1 byte): every frame's strings go to the spill file at once. */
    const mask_log_options opt = {.ram_budget = 1, .spill = 1, .spill_dir = dir};
    r->log = mask_log_new(num_frames, &opt);
    r->frames = calloc((size_t)num_frames, sizeof *r->frames);
    r->scratch = malloc((size_t)width * height);
    if (!r->log || !r->frames || !r->scratch) {
        track_results_free(r);
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for %d frames of results", num_frames);
    }
    for (int f = 0; f < num_frames; f++) r->frames[f].frame = f;
    return 0;
}

void track_results_free(track_results *r) {
    if (r->frames)
        for (int f = 0; f < r->num_frames; f++) free(r->frames[f].masks);
    free(r->frames);
    free(r->scratch);
    mask_log_unref(r->loaded);
    mask_log_free(r->log);
    memset(r, 0, sizeof *r);
}

static void free_masks(mask_rle *m, int n) {
    for (int i = 0; i < n; i++) free(m[i].counts);
    free(m);
}

int track_results_store(track_results *r, const sam2_frame_result *fr, sam2_error *err) {
    const int f = fr->frame_index;
    if (f < 0 || f >= r->num_frames || fr->width != r->width || fr->height != r->height)
        return sam2_fail(err, SAM2_ERR_STATE, "frame result %d does not fit the video", f);
    const int n = fr->num_objects;
    mask_rle *m = calloc((size_t)(n ? n : 1), sizeof *m);
    if (!m) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory storing frame %d", f);
    const size_t hw = (size_t)r->width * r->height;
    for (int i = 0; i < n; i++) {
        m[i].id = fr->object_ids[i];
        m[i].score = fr->object_scores[i];
        if (mask_rle_from_logits(fr->logits + (size_t)i * hw, r->height, r->width, r->scratch,
                                 &m[i], err)) {
            free_masks(m, n);
            return -1;
        }
    }
    int rc = mask_log_put(r->log, f, m, n, err);
    if (rc > 0) rc = sam2_fail(err, SAM2_ERR_NOMEM, "out of memory storing frame %d", f);
    for (int i = 0; i < n; i++) {
        free(m[i].counts);
        m[i].counts = NULL; /* the string is in the log */
    }
    if (rc) {
        free(m);
        return -1;
    }
    free(r->frames[f].masks);
    r->frames[f].masks = m;
    r->frames[f].n = n;
    return 0;
}

int track_results_frames(const track_results *r) {
    int n = 0;
    for (int f = 0; f < r->num_frames; f++) n += r->frames[f].n > 0;
    return n;
}

int track_results_load(track_results *r, int f, const mask_frame **out, sam2_error *err) {
    mask_log_unref(r->loaded);
    r->loaded = NULL;
    const mask_frame *fr = mask_log_get(r->log, f, &r->loaded, err);
    if (!fr) return -1;
    *out = fr;
    return 0;
}
