#include "cli/track_results.h"

#include "core/error.h"
#include "io/rle.h"

#include <stdlib.h>
#include <string.h>

int track_results_init(track_results *r, int num_frames, int width, int height, sam2_error *err) {
    memset(r, 0, sizeof *r);
    r->num_frames = num_frames;
    r->width = width;
    r->height = height;
    r->frames = calloc((size_t)num_frames, sizeof *r->frames);
    r->scratch = malloc((size_t)width * height);
    if (!r->frames || !r->scratch) {
        track_results_free(r);
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for %d frames of results", num_frames);
    }
    for (int f = 0; f < num_frames; f++) r->frames[f].frame = f;
    return 0;
}

static void clear_masks(mask_rle *m, int n) {
    for (int i = 0; i < n; i++) free(m[i].counts);
    free(m);
}

void track_results_free(track_results *r) {
    if (r->frames)
        for (int f = 0; f < r->num_frames; f++) clear_masks(r->frames[f].masks, r->frames[f].n);
    free(r->frames);
    free(r->scratch);
    memset(r, 0, sizeof *r);
}

int track_results_store(track_results *r, const sam2_frame_result *fr, sam2_error *err) {
    const int f = fr->frame_index;
    if (f < 0 || f >= r->num_frames || fr->width != r->width || fr->height != r->height)
        return sam2_fail(err, SAM2_ERR_STATE, "frame result %d does not fit the video", f);
    mask_rle *m = calloc((size_t)(fr->num_objects ? fr->num_objects : 1), sizeof *m);
    if (!m) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory storing frame %d", f);
    const size_t hw = (size_t)r->width * r->height;
    for (int i = 0; i < fr->num_objects; i++) {
        const float *lg = fr->logits + (size_t)i * hw;
        int64_t area = 0;
        for (size_t k = 0; k < hw; k++) area += r->scratch[k] = lg[k] > 0.0f;
        m[i].id = fr->object_ids[i];
        m[i].score = fr->object_scores[i];
        m[i].area = area;
        if (rle_encode(r->scratch, r->height, r->width, &m[i].counts, err)) {
            clear_masks(m, i);
            return -1;
        }
    }
    clear_masks(r->frames[f].masks, r->frames[f].n);
    r->frames[f].masks = m;
    r->frames[f].n = fr->num_objects;
    return 0;
}

int track_results_frames(const track_results *r) {
    int n = 0;
    for (int f = 0; f < r->num_frames; f++) n += r->frames[f].n > 0;
    return n;
}
