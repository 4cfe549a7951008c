/* Taps: optional observers of intermediate tensors. Model and predictor code emits a tensor by
 * its golden-data name ("trunk_stage0", "sparse_embeddings", ...) at the point where the official
 * model produces it; the parity tool and debugging tools register a callback, production code
 * passes NULL and pays one branch per stage.
 *
 * `shape` is the tensor's shape as the official model holds it (e.g. [1, C, H, W]); `layout`
 * says how `data` is arranged in memory relative to that shape. */
#ifndef SAM2_CORE_TAP_H
#define SAM2_CORE_TAP_H

#include <stdint.h>

typedef enum tap_layout {
    TAP_AS_SHAPED = 0,   /* data is C-order in `shape` */
    TAP_HWC_FOR_NCHW = 1 /* shape is [N, C, H, W] but data is [N][H][W][C] (channels-last) */
} tap_layout;

typedef enum tap_dtype { TAP_F32 = 0, TAP_U8 = 1, TAP_I32 = 2 } tap_dtype;

typedef struct sam2_tap {
    void (*fn)(void *user, const char *name, const void *data, tap_dtype dtype, int ndim,
               const int64_t *shape, tap_layout layout);
    void *user;
    /* Set by observers that only read the names and the clock (benchmarks): emitters then skip
     * tensors that would exist only for the tap (they pass NULL data for those), so the timed
     * work is the production work. */
    int names_only;
} sam2_tap;

/* Whether an emitter should build a tensor that exists only to be observed. */
static inline int tap_wants_data(const sam2_tap *t) {
    return t && t->fn && !t->names_only;
}

static inline void tap_emit(const sam2_tap *t, const char *name, const void *data, tap_dtype dtype,
                            int ndim, const int64_t *shape, tap_layout layout) {
    if (t && t->fn) t->fn(t->user, name, data, dtype, ndim, shape, layout);
}

/* Convenience for float feature maps held channels-last: emits shape [1, C, H, W]. */
static inline void tap_hwc(const sam2_tap *t, const char *name, const float *data, int H, int W,
                           int C) {
    if (t && t->fn) {
        const int64_t shape[4] = {1, C, H, W};
        t->fn(t->user, name, data, TAP_F32, 4, shape, TAP_HWC_FOR_NCHW);
    }
}

#endif
