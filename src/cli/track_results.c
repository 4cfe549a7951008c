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
    r->count = calloc((size_t)num_frames, sizeof *r->count);
    r->masks = calloc((size_t)num_frames, sizeof *r->masks);
    r->scratch = malloc((size_t)width * height);
    if (!r->count || !r->masks || !r->scratch) {
        track_results_free(r);
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for %d frames of results", num_frames);
    }
    return 0;
}

static void clear_frame(track_results *r, int f) {
    for (int i = 0; i < r->count[f]; i++) free(r->masks[f][i].counts);
    free(r->masks[f]);
    r->masks[f] = NULL;
    r->count[f] = 0;
}

void track_results_free(track_results *r) {
    if (r->count && r->masks)
        for (int f = 0; f < r->num_frames; f++) clear_frame(r, f);
    free(r->count);
    free(r->masks);
    free(r->scratch);
    memset(r, 0, sizeof *r);
}

int track_results_store(track_results *r, const sam2_frame_result *fr, sam2_error *err) {
    const int f = fr->frame_index;
    if (f < 0 || f >= r->num_frames || fr->width != r->width || fr->height != r->height)
        return sam2_fail(err, SAM2_ERR_STATE, "frame result %d does not fit the video", f);
    track_mask *m = calloc((size_t)(fr->num_objects ? fr->num_objects : 1), sizeof *m);
    if (!m) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory storing frame %d", f);
    const size_t hw = (size_t)r->width * r->height;
    for (int i = 0; i < fr->num_objects; i++) {
        const float *lg = fr->logits + (size_t)i * hw;
        for (size_t k = 0; k < hw; k++) r->scratch[k] = lg[k] > 0.0f;
        m[i].id = fr->object_ids[i];
        m[i].score = fr->object_scores[i];
        if (rle_encode(r->scratch, r->height, r->width, &m[i].counts, err)) {
            for (int j = 0; j < i; j++) free(m[j].counts);
            free(m);
            return -1;
        }
    }
    clear_frame(r, f);
    r->masks[f] = m;
    r->count[f] = fr->num_objects;
    return 0;
}

int track_results_frames(const track_results *r) {
    int n = 0;
    for (int f = 0; f < r->num_frames; f++) n += r->count[f] > 0;
    return n;
}

int track_results_labels(const track_results *r, int frame, uint8_t *labels, sam2_error *err) {
    const size_t hw = (size_t)r->width * r->height;
    memset(labels, 0, hw);
    for (int i = 0; i < r->count[frame]; i++) {
        const track_mask *m = &r->masks[frame][i];
        if (rle_decode(m->counts, r->height, r->width, r->scratch, err)) return -1;
        for (size_t k = 0; k < hw; k++)
            if (r->scratch[k]) labels[k] = (uint8_t)m->id;
    }
    return 0;
}

void track_palette(uint8_t pal[256 * 3]) {
    /* Bit i of the index goes to bit 7 - i/3 of red, green or blue (i % 3). */
    for (int i = 0; i < 256; i++) {
        int c = i, rgb[3] = {0, 0, 0};
        for (int j = 0; j < 8; j++, c >>= 3)
            for (int ch = 0; ch < 3; ch++) rgb[ch] |= ((c >> ch) & 1) << (7 - j);
        for (int ch = 0; ch < 3; ch++) pal[3 * i + ch] = (uint8_t)rgb[ch];
    }
}

static int label_at(const uint8_t *labels, int w, int h, int x, int y) {
    return (x < 0 || y < 0 || x >= w || y >= h) ? -1 : labels[(size_t)y * w + x];
}

void track_overlay_draw(uint8_t *rgb, int w, int h, const uint8_t *labels,
                        const uint8_t pal[256 * 3]) {
    static const int DX[8] = {1, -1, 0, 0, 2, -2, 0, 0}, DY[8] = {0, 0, 1, -1, 0, 0, 2, -2};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const int k = labels[(size_t)y * w + x];
            if (!k) continue;
            uint8_t *px = rgb + 3 * ((size_t)y * w + x);
            const uint8_t *c = pal + 3 * k;
            int edge = 0;
            for (int n = 0; n < 8 && !edge; n++) {
                const int l = label_at(labels, w, h, x + DX[n], y + DY[n]);
                edge = l >= 0 && l != k; /* the frame border is no outline */
            }
            for (int ch = 0; ch < 3; ch++)
                px[ch] = edge ? c[ch] : (uint8_t)((px[ch] + c[ch] + 1) / 2);
        }
}
