/* Pillow 9.4's BICUBIC Image.resize for 8-bit RGB, bit for bit (see pil_resize.h). The
 * arithmetic below follows libImaging/Resample.c step by step: every rounding and every
 * conversion happens where Pillow does it, because a different order changes output bytes. */
#include "io/pil_resize.h"

#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Fixed-point fraction bits of the 8-bit coefficients: 32 - 8 (pixel) - 2 (headroom). */
#define PIL_PRECISION_BITS (32 - 8 - 2)
#define PIL_MAX_SIDE 65535

const float SAM2_IMG_MEAN[3] = {0.485f, 0.456f, 0.406f};
const float SAM2_IMG_STD[3] = {0.229f, 0.224f, 0.225f};

/* Keys cubic convolution kernel with a = -0.5 (Pillow's bicubic_filter). */
static double bicubic(double x) {
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

/* Per output pixel: first input index, tap count and ksize fixed-point weights. */
typedef struct {
    int ksize;
    int *first, *count; /* [out] */
    int32_t *k;         /* [out][ksize] */
} taps;

static void taps_free(taps *t) {
    free(t->first);
    free(t->count);
    free(t->k);
    memset(t, 0, sizeof *t);
}

/* precompute_coeffs + normalize_coeffs_8bpc for the box [0, in_size) mapped onto out_size. */
static int taps_make(taps *t, int in_size, int out_size) {
    memset(t, 0, sizeof *t);
    const double in0 = 0.0, in1 = (double)in_size;
    double scale = (in1 - in0) / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 2.0 * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    double *w = malloc(sizeof(double) * (size_t)ksize);
    t->first = malloc(sizeof(int) * (size_t)out_size);
    t->count = malloc(sizeof(int) * (size_t)out_size);
    t->k = malloc(sizeof(int32_t) * (size_t)out_size * (size_t)ksize);
    if (!w || !t->first || !t->count || !t->k) {
        free(w);
        taps_free(t);
        return -1;
    }
    t->ksize = ksize;
    double ss = 1.0 / filterscale;
    for (int xx = 0; xx < out_size; xx++) {
        double center = in0 + (xx + 0.5) * scale;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double ww = 0.0;
        for (int x = 0; x < xmax; x++) {
            w[x] = bicubic((x + xmin - center + 0.5) * ss);
            ww += w[x];
        }
        for (int x = 0; x < xmax; x++)
            if (ww != 0.0) w[x] /= ww;
        int32_t *k = t->k + (size_t)xx * ksize;
        for (int x = 0; x < ksize; x++) {
            double v = x < xmax ? w[x] : 0.0;
            k[x] = v < 0 ? (int32_t)(-0.5 + v * (1 << PIL_PRECISION_BITS))
                         : (int32_t)(0.5 + v * (1 << PIL_PRECISION_BITS));
        }
        t->first[xx] = xmin;
        t->count[xx] = xmax;
    }
    free(w);
    return 0;
}

static inline uint8_t clip8(int64_t v) {
    if (v >= ((int64_t)1 << PIL_PRECISION_BITS << 8)) return 255;
    if (v <= 0) return 0;
    return (uint8_t)(v >> PIL_PRECISION_BITS);
}

/* Horizontal pass over rows [y0, y0 + rows) of src into tmp (dw x rows). */
static void pass_horizontal(const uint8_t *src, size_t src_stride, int y0, int rows, const taps *t,
                            int dw, uint8_t *out, size_t out_stride) {
    for (int y = 0; y < rows; y++) {
        const uint8_t *in = src + (size_t)(y0 + y) * src_stride;
        uint8_t *o = out + (size_t)y * out_stride;
        for (int xx = 0; xx < dw; xx++) {
            const int32_t *k = t->k + (size_t)xx * t->ksize;
            const uint8_t *p = in + (size_t)t->first[xx] * 3;
            int64_t s0 = 1 << (PIL_PRECISION_BITS - 1), s1 = s0, s2 = s0;
            for (int x = 0; x < t->count[xx]; x++) {
                s0 += (int64_t)p[3 * x + 0] * k[x];
                s1 += (int64_t)p[3 * x + 1] * k[x];
                s2 += (int64_t)p[3 * x + 2] * k[x];
            }
            o[3 * xx + 0] = clip8(s0);
            o[3 * xx + 1] = clip8(s1);
            o[3 * xx + 2] = clip8(s2);
        }
    }
}

/* Vertical pass: src rows are relative to row `base` of the taps' coordinates. Accumulates
 * whole rows (integer sums are exact, so the order does not matter). int32 cannot overflow:
 * the positive normalised weights sum to < 1.1, so |sum| < 255 * 1.1 * 2^22 + 2^21 < 2^31. */
static int pass_vertical(const uint8_t *src, size_t src_stride, int base, const taps *t, int w,
                         int dh, uint8_t *out, size_t out_stride) {
    size_t n = (size_t)w * 3;
    int32_t *acc = malloc(sizeof(int32_t) * n);
    if (!acc) return -1;
    for (int yy = 0; yy < dh; yy++) {
        const int32_t *k = t->k + (size_t)yy * t->ksize;
        const uint8_t *rows = src + (size_t)(t->first[yy] - base) * src_stride;
        for (size_t x = 0; x < n; x++) acc[x] = 1 << (PIL_PRECISION_BITS - 1);
        for (int y = 0; y < t->count[yy]; y++) {
            const uint8_t *r = rows + (size_t)y * src_stride;
            int32_t ky = k[y];
            for (size_t x = 0; x < n; x++) acc[x] += (int32_t)r[x] * ky;
        }
        uint8_t *o = out + (size_t)yy * out_stride;
        for (size_t x = 0; x < n; x++) o[x] = clip8(acc[x]);
    }
    free(acc);
    return 0;
}

int sam2_pil_resize_rgb8(const uint8_t *src, int sw, int sh, size_t src_stride, uint8_t *dst,
                         int dw, int dh, size_t dst_stride, sam2_error *err) {
    if (!src || !dst) return sam2_fail(err, SAM2_ERR_ARGUMENT, "resize: NULL image buffer");
    if (sw < 1 || sh < 1 || dw < 1 || dh < 1 || sw > PIL_MAX_SIDE || sh > PIL_MAX_SIDE ||
        dw > PIL_MAX_SIDE || dh > PIL_MAX_SIDE)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "resize: bad size %dx%d -> %dx%d", sw, sh, dw, dh);
    if (src_stride < (size_t)sw * 3 || dst_stride < (size_t)dw * 3)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "resize: row stride shorter than the row");
    int need_h = dw != sw, need_v = dh != sh;
    if (!need_h && !need_v) {
        for (int y = 0; y < sh; y++)
            memcpy(dst + (size_t)y * dst_stride, src + (size_t)y * src_stride, (size_t)sw * 3);
        return 0;
    }
    taps th = {0}, tv = {0};
    if ((need_h && taps_make(&th, sw, dw) != 0) || (need_v && taps_make(&tv, sh, dh) != 0))
        goto oom;
    if (!need_v) {
        pass_horizontal(src, src_stride, 0, sh, &th, dw, dst, dst_stride);
    } else if (!need_h) {
        if (pass_vertical(src, src_stride, 0, &tv, sw, dh, dst, dst_stride) != 0) goto oom;
    } else {
        /* Only the source rows the vertical pass reads go through the horizontal pass. */
        int y_first = tv.first[0];
        int y_last = tv.first[dh - 1] + tv.count[dh - 1];
        size_t tmp_stride = (size_t)dw * 3;
        uint8_t *tmp = malloc(tmp_stride * (size_t)(y_last - y_first));
        if (!tmp) goto oom;
        pass_horizontal(src, src_stride, y_first, y_last - y_first, &th, dw, tmp, tmp_stride);
        int rc = pass_vertical(tmp, tmp_stride, y_first, &tv, dw, dh, dst, dst_stride);
        free(tmp);
        if (rc != 0) goto oom;
    }
    taps_free(&th);
    taps_free(&tv);
    return 0;
oom:
    taps_free(&th);
    taps_free(&tv);
    return sam2_fail(err, SAM2_ERR_NOMEM, "resize: out of memory");
}

void sam2_normalize_rgb8(const uint8_t *rgb, int w, int h, size_t stride, sam2_norm_mode mode,
                         float *out) {
    /* u8 -> [0,1] has only 256 possible values: tabulate them per channel with the exact
     * float operations of the chosen loader. */
    float lut[3][256];
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++) {
            float x = mode == SAM2_NORM_DIV255_F32 ? (float)v / 255.0f : (float)(v / 255.0);
            volatile float centred = x - SAM2_IMG_MEAN[c]; /* float32, not fused or widened */
            lut[c][v] = centred / SAM2_IMG_STD[c];
        }
    size_t plane = (size_t)w * h;
    for (int y = 0; y < h; y++) {
        const uint8_t *row = rgb + (size_t)y * stride;
        float *o0 = out + (size_t)y * w, *o1 = o0 + plane, *o2 = o1 + plane;
        for (int x = 0; x < w; x++) {
            o0[x] = lut[0][row[3 * x + 0]];
            o1[x] = lut[1][row[3 * x + 1]];
            o2[x] = lut[2][row[3 * x + 2]];
        }
    }
}
