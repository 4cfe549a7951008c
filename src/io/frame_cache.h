/* A byte-bounded cache of decoded frames (references to libavcodec's frames, in their decoded
 * pixel format, so a 1280x720 yuv420p frame costs about 1.4 MB).
 *
 * What to keep depends on where the reader is going: while frames are read backwards (i, i-1,
 * ...) the frames just below the current target are the valuable ones, while reading forwards
 * the decoder itself delivers the next frame and the cache only serves re-reads. The priority
 * of an entry is its distance from the current target in the reading direction; entries on the
 * wrong side of the target are evicted first. */
#ifndef SAM2_IO_FRAME_CACHE_H
#define SAM2_IO_FRAME_CACHE_H

#include <libavutil/frame.h>
#include <stddef.h>

typedef struct frame_cache_entry {
    int index;
    size_t bytes;
    AVFrame *frame;
} frame_cache_entry;

typedef struct frame_cache {
    size_t budget, bytes;
    frame_cache_entry *e;
    int n, cap;
} frame_cache;

void frame_cache_init(frame_cache *c, size_t budget_bytes);
void frame_cache_clear(frame_cache *c);
/* The cached frame of `index`, or NULL (the reference stays the cache's). */
const AVFrame *frame_cache_get(const frame_cache *c, int index);
/* Offers a decoded frame; the cache takes its own reference when the frame ranks above what it
 * would have to evict (relative to `target` and the direction). Never exceeds the budget. */
void frame_cache_offer(frame_cache *c, int index, const AVFrame *f, int target, int reverse);
/* Bytes held by one frame's buffers. */
size_t frame_cache_frame_bytes(const AVFrame *f);

#endif
