/* What the image encoder's modules (Hiera trunk, FPN neck) share to run on the compute seam:
 * where their temporaries live, and how a tap sees a backend tensor.
 *
 * Temporaries: on backends whose memory is host memory (cpu, ref) they are views of the caller's
 * host arena, which keeps its high-water block from one frame to the next (no page faults per
 * frame, the same peak as before the seam); on the others (check, a GPU) they come from the
 * backend's own arena. Either way a mark taken before them releases both. */
#ifndef SAM2_MODEL_ENCODER_SEAM_H
#define SAM2_MODEL_ENCODER_SEAM_H

#include "core/arena.h"
#include "core/device.h"
#include "core/tap.h"

#include <stdlib.h>

typedef struct enc_ctx {
    dev_exec x;
    arena *host;
} enc_ctx;

typedef struct enc_mark {
    arena_mark host;
    dev_arena_mark dev;
} enc_mark;

static inline enc_mark enc_get_mark(const enc_ctx *e) {
    enc_mark m = {arena_get_mark(e->host), dev_arena_get_mark(e->x.arena)};
    return m;
}

static inline void enc_release(enc_ctx *e, enc_mark m) {
    dev_arena_release(e->x.arena, m.dev);
    arena_release(e->host, m.host);
}

/* A float32 temporary of the given shape (contents undefined). */
static inline dev_tensor enc_tensor(enc_ctx *e, int ndim, const int64_t *shape) {
    if (!e->x.dev->maps_host) return dev_new(&e->x, SAM2_F32, ndim, shape);
    dev_tensor probe = dev_tensor_make(NULL, 0, SAM2_F32, ndim, shape);
    float *p = arena_floats(e->host, (size_t)dev_tensor_numel(&probe), 0);
    if (!p) {
        /* dev_new records the failure in the exec (and fails itself if memory is short) */
        return dev_new(&e->x, SAM2_F32, ndim, shape);
    }
    return dev_from_host(&e->x, p, SAM2_F32, ndim, shape, 1);
}

/* On maps_host backends, the ops' own scratch (im2col, attention tiles, tensor records) up to
 * `floats` is taken from the host arena until the next release of a mark taken before this call:
 * a fresh backend block would be mapped and faulted in again every pass. Elsewhere, and if the
 * host arena is out of memory, the backend's arena serves them as usual. */
static inline void enc_adopt(enc_ctx *e, size_t floats) {
    if (!e->x.dev->maps_host) return;
    float *h = arena_floats(e->host, floats, 0);
    if (h) dev_arena_adopt(e->x.arena, h, floats * sizeof(float));
}

/* A tensor that is host memory `host` on maps_host backends (written in place, its download a
 * no-op) and a backend temporary elsewhere (downloaded into `host` at the end). */
static inline dev_tensor enc_output(enc_ctx *e, float *host, int ndim, const int64_t *shape) {
    if (e->x.dev->maps_host) return dev_from_host(&e->x, host, SAM2_F32, ndim, shape, 1);
    return dev_new(&e->x, SAM2_F32, ndim, shape);
}

/* Emits t ([H][W][C]) through the tap: downloaded into a host copy when the observer reads data,
 * names only otherwise. */
static inline void enc_tap(enc_ctx *e, const sam2_tap *tap, const char *name, dev_tensor t) {
    if (!tap || !tap->fn || e->x.failed) return;
    const int H = (int)t.shape[0], W = (int)t.shape[1], C = (int)t.shape[2];
    if (!tap_wants_data(tap)) {
        tap_hwc(tap, name, NULL, H, W, C);
        return;
    }
    const size_t bytes = (size_t)H * W * C * sizeof(float);
    float *h = malloc(bytes);
    if (h && dev_download(&e->x, h, &t, bytes) == 0) tap_hwc(tap, name, h, H, W, C);
    free(h);
}

#endif
