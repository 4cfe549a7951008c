#include "io/frame_cache.h"

#include <stdint.h>
#include <stdlib.h>

void frame_cache_init(frame_cache *c, size_t budget_bytes) {
    c->budget = budget_bytes;
    c->bytes = 0;
    c->e = NULL;
    c->n = c->cap = 0;
}

void frame_cache_clear(frame_cache *c) {
    for (int i = 0; i < c->n; i++) av_frame_free(&c->e[i].frame);
    free(c->e);
    c->e = NULL;
    c->n = c->cap = 0;
    c->bytes = 0;
}

const AVFrame *frame_cache_get(const frame_cache *c, int index) {
    for (int i = 0; i < c->n; i++)
        if (c->e[i].index == index) return c->e[i].frame;
    return NULL;
}

size_t frame_cache_frame_bytes(const AVFrame *f) {
    size_t b = 0;
    for (int i = 0; i < AV_NUM_DATA_POINTERS && f->buf[i]; i++) b += f->buf[i]->size;
    for (int i = 0; i < f->nb_extended_buf; i++) b += f->extended_buf[i]->size;
    return b;
}

/* Lower is more valuable. */
static int64_t rank(int index, int target, int reverse) {
    const int64_t far = (int64_t)1 << 40;
    int64_t d = (int64_t)index - target;
    if (reverse) return d <= 0 ? -d : far + d;
    return d >= 0 ? d : far - d;
}

void frame_cache_offer(frame_cache *c, int index, const AVFrame *f, int target, int reverse) {
    if (frame_cache_get(c, index)) return;
    size_t bytes = frame_cache_frame_bytes(f);
    if (bytes == 0 || bytes > c->budget) return;
    int64_t r = rank(index, target, reverse);
    while (c->bytes + bytes > c->budget) {
        int worst = -1;
        int64_t wr = -1;
        for (int i = 0; i < c->n; i++) {
            int64_t ri = rank(c->e[i].index, target, reverse);
            if (ri > wr) wr = ri, worst = i;
        }
        if (worst < 0 || wr <= r) return; /* everything held is worth more than this frame */
        c->bytes -= c->e[worst].bytes;
        av_frame_free(&c->e[worst].frame);
        c->e[worst] = c->e[--c->n];
    }
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 16;
        frame_cache_entry *e = realloc(c->e, sizeof *e * (size_t)cap);
        if (!e) return;
        c->e = e;
        c->cap = cap;
    }
    AVFrame *ref = av_frame_clone(f);
    if (!ref) return;
    c->e[c->n++] = (frame_cache_entry){index, bytes, ref};
    c->bytes += bytes;
}
