/* Source indices and weights of PyTorch's resize kernels (align_corners=False), shared by the
 * reference and the optimised resize so both follow the same float arithmetic:
 *  - bilinear without antialias: upsample_bilinear2d's compute_source_index_and_lambda;
 *  - bicubic: upsample_bicubic2d's taps (A = -0.75, source index not clamped, taps clamped);
 *  - bilinear with antialias: _upsample_bilinear2d_aa's per-output triangle filter of support
 *    max(scale, 1), normalised to sum 1.
 * The casts mirror the C++ promotions of those kernels (float opmath; a few expressions are
 * evaluated in double because they mix a float with a double literal). Sizes are given with
 * `size` (no scale_factor), so the scale is in/out computed in float. */
#ifndef SAM2_CORE_RESIZE_WEIGHTS_H
#define SAM2_CORE_RESIZE_WEIGHTS_H

#include <math.h>

static inline float resize_scale(int in, int out) {
    return (float)in / (float)out;
}

/* Two taps and weights of one output coordinate, bilinear without antialias. */
typedef struct linear_tap {
    int i0, i1;
    float w0, w1;
} linear_tap;

static inline linear_tap linear_tap_at(int in, int out, int o) {
    linear_tap t;
    if (in == out) { /* PyTorch copies: weights 1 and 0 on the same pixel */
        t.i0 = t.i1 = o;
        t.w0 = 1.0f;
        t.w1 = 0.0f;
        return t;
    }
    const float scale = resize_scale(in, out);
    float real = scale * ((float)o + 0.5f) - 0.5f;
    if (real < 0.0f) real = 0.0f;
    int i0 = (int)floorf(real);
    if (i0 > in - 1) i0 = in - 1;
    float l1 = real - (float)i0;
    l1 = l1 < 0.0f ? 0.0f : (l1 > 1.0f ? 1.0f : l1);
    t.i0 = i0;
    t.i1 = i0 < in - 1 ? i0 + 1 : i0;
    t.w0 = 1.0f - l1;
    t.w1 = l1;
    return t;
}

/* Four taps and weights of one output coordinate, bicubic. */
typedef struct cubic_tap {
    int idx[4];
    float w[4];
} cubic_tap;

static inline float cubic_inner(float x, float A) {
    return ((A + 2.0f) * x - (A + 3.0f)) * x * x + 1.0f;
}
static inline float cubic_outer(float x, float A) {
    return ((A * x - 5.0f * A) * x + 8.0f * A) * x - 4.0f * A;
}

static inline cubic_tap cubic_tap_at(int in, int out, int o) {
    const float A = -0.75f;
    const float scale = resize_scale(in, out);
    const float real = scale * ((float)o + 0.5f) - 0.5f; /* not clamped for cubic */
    int i = (int)floorf(real);
    if (i > in - 1) i = in - 1;
    float t = real - (float)i;
    t = t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);
    cubic_tap c;
    c.w[0] = cubic_outer(t + 1.0f, A);
    c.w[1] = cubic_inner(t, A);
    const float t2 = 1.0f - t;
    c.w[2] = cubic_inner(t2, A);
    c.w[3] = cubic_outer(t2 + 1.0f, A);
    for (int j = 0; j < 4; j++) {
        int k = i - 1 + j;
        c.idx[j] = k < 0 ? 0 : (k > in - 1 ? in - 1 : k);
    }
    return c;
}

/* One axis of the antialiased bilinear resize. */
typedef struct aa_axis {
    int in, out;
    float scale, support, invscale;
    int max_taps; /* PyTorch's interp_size: 2 * ceil(support) + 1 */
} aa_axis;

static inline void aa_axis_init(aa_axis *a, int in, int out) {
    a->in = in;
    a->out = out;
    a->scale = resize_scale(in, out);
    a->support = a->scale >= 1.0f ? a->scale : 1.0f;
    a->invscale = a->scale >= 1.0f ? (float)(1.0 / (double)a->scale) : 1.0f;
    a->max_taps = (int)ceilf(a->support) * 2 + 1;
}

static inline float aa_center(const aa_axis *a, int o) {
    return (float)((double)a->scale * ((double)o + 0.5));
}

/* First source index and number of taps of output o. */
static inline void aa_axis_range(const aa_axis *a, int o, int *first, int *count) {
    const float center = aa_center(a, o);
    long lo = (long)((double)(center - a->support) + 0.5);
    long hi = (long)((double)(center + a->support) + 0.5);
    if (lo < 0) lo = 0;
    if (hi > a->in) hi = a->in;
    long n = hi - lo;
    if (n < 0) n = 0;
    if (n > a->max_taps) n = a->max_taps;
    *first = (int)lo;
    *count = (int)n;
}

/* Unnormalised triangle-filter weight of tap j of output o. */
static inline float aa_raw_weight(const aa_axis *a, float center, int first, int j) {
    float x = (float)(((double)((float)(j + first) - center) + 0.5) * (double)a->invscale);
    if (x < 0.0f) x = -x;
    return x < 1.0f ? (float)(1.0 - (double)x) : 0.0f;
}

/* Normalised weights of output o into w[0..count-1]; returns count. */
static inline int aa_axis_weights(const aa_axis *a, int o, int *first, float *w) {
    int count;
    aa_axis_range(a, o, first, &count);
    const float center = aa_center(a, o);
    float total = 0.0f;
    for (int j = 0; j < count; j++) {
        w[j] = aa_raw_weight(a, center, *first, j);
        total += w[j];
    }
    if (total != 0.0f)
        for (int j = 0; j < count; j++) w[j] /= total;
    return count;
}

/* Normalised weight of tap j of output o, computed without a buffer (O(taps) per call). */
static inline float aa_axis_weight(const aa_axis *a, int o, int j) {
    int first, count;
    aa_axis_range(a, o, &first, &count);
    const float center = aa_center(a, o);
    float total = 0.0f;
    for (int t = 0; t < count; t++) total += aa_raw_weight(a, center, first, t);
    float w = aa_raw_weight(a, center, first, j);
    return total != 0.0f ? w / total : w;
}

#endif
