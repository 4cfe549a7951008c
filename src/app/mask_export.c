/* Palette, label images, the overlay drawing and indexed PNGs (see mask_export.h). */
#include "app/mask_export.h"

#include "core/error.h"
#include "io/image.h"
#include "io/rle.h"

#include <stdlib.h>
#include <string.h>

#define MASK_MAX_LABEL 255

void mask_palette(uint8_t pal[256 * 3]) {
    /* Bit i of the index goes to bit 7 - i/3 of red, green or blue (i % 3). */
    for (int i = 0; i < 256; i++) {
        int c = i, rgb[3] = {0, 0, 0};
        for (int j = 0; j < 8; j++, c >>= 3)
            for (int ch = 0; ch < 3; ch++) rgb[ch] |= ((c >> ch) & 1) << (7 - j);
        for (int ch = 0; ch < 3; ch++) pal[3 * i + ch] = (uint8_t)rgb[ch];
    }
}

static int cmp_int(const void *a, const void *b) {
    const int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int mask_label_map_init(mask_label_map *m, const mask_frame *frames, int n, sam2_error *err) {
    memset(m, 0, sizeof *m);
    size_t total = 0;
    for (int f = 0; f < n; f++) total += (size_t)frames[f].n;
    m->ids = malloc((total ? total : 1) * sizeof *m->ids);
    if (!m->ids) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for %zu object ids", total);
    size_t k = 0;
    for (int f = 0; f < n; f++)
        for (int i = 0; i < frames[f].n; i++) m->ids[k++] = frames[f].masks[i].id;
    if (k) qsort(m->ids, k, sizeof *m->ids, cmp_int);
    int distinct = 0;
    for (size_t i = 0; i < k; i++)
        if (i == 0 || m->ids[i] != m->ids[i - 1]) m->ids[distinct++] = m->ids[i];
    m->n = distinct;
    if (distinct > MASK_MAX_LABEL) {
        mask_label_map_free(m);
        return sam2_fail(err, SAM2_ERR_LIMIT,
                         "%d objects do not fit an 8-bit label image (at most %d)", distinct,
                         MASK_MAX_LABEL);
    }
    m->identity = distinct == 0 || (m->ids[0] >= 1 && m->ids[distinct - 1] <= MASK_MAX_LABEL);
    return 0;
}

void mask_label_map_free(mask_label_map *m) {
    free(m->ids);
    memset(m, 0, sizeof *m);
}

int mask_label_index(const mask_label_map *m, int id) {
    const int *hit = m->n ? bsearch(&id, m->ids, (size_t)m->n, sizeof *m->ids, cmp_int) : NULL;
    if (!hit) return 0;
    return m->identity ? id : (int)(hit - m->ids) + 1;
}

static int default_decode(void *user, const char *counts, int h, int w, uint8_t *out,
                          sam2_error *err) {
    (void)user;
    sam2_mask bitmap = {.bits = out};
    return sam2_rle_to_mask(&(sam2_rle){.width = w, .height = h, .counts = (char *)counts}, &bitmap,
                            err);
}

int mask_labels(const mask_frame *f, int width, int height, const mask_label_map *map,
                mask_decode_fn decode, void *decode_user, uint8_t *labels, uint8_t *scratch,
                sam2_error *err) {
    const size_t hw = (size_t)width * height;
    if (!decode) decode = default_decode;
    memset(labels, 0, hw);
    for (int i = 0; i < f->n; i++) {
        const mask_rle *m = &f->masks[i];
        const int index = mask_label_index(map, m->id);
        if (index <= 0)
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "object %d on frame %d has no label", m->id,
                             f->frame);
        if (decode(decode_user, m->counts, height, width, scratch, err)) {
            sam2_error_prefix(err, "object %d on frame %d", m->id, f->frame);
            return -1;
        }
        for (size_t k = 0; k < hw; k++)
            if (scratch[k]) labels[k] = (uint8_t)index;
    }
    return 0;
}

static int label_at(const uint8_t *labels, int w, int h, int x, int y) {
    return (x < 0 || y < 0 || x >= w || y >= h) ? -1 : labels[(size_t)y * w + x];
}

void mask_overlay_draw(uint8_t *rgb, int w, int h, const uint8_t *labels,
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

static image_png_desc png_desc(const uint8_t *labels, int width, int height, const uint8_t *pal) {
    const image_png_desc d = {.kind = IMAGE_PNG_INDEXED,
                              .width = width,
                              .height = height,
                              .pixels = labels,
                              .palette = pal,
                              .palette_size = 256};
    return d;
}

int mask_png_write(const char *path, const uint8_t *labels, int width, int height,
                   sam2_error *err) {
    uint8_t pal[256 * 3];
    mask_palette(pal);
    const image_png_desc d = png_desc(labels, width, height, pal);
    return image_png_write(path, &d, err);
}

int mask_png_encode_binary(const uint8_t *mask, int width, int height, uint8_t **png, size_t *size,
                           sam2_error *err) {
    uint8_t *gray = malloc((size_t)width * height);
    if (!gray) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < (size_t)width * height; i++) gray[i] = mask[i] ? 255 : 0;
    const image_png_desc d = {
        .kind = IMAGE_PNG_GRAY, .width = width, .height = height, .pixels = gray};
    const int rc = image_png_encode(&d, png, size, err);
    free(gray);
    return rc;
}
