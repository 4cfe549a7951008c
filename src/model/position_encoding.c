#include "model/position_encoding.h"

#include <math.h>
#include <stddef.h>

#define TWO_PI_F 6.283185307179586f

/* temperature ** (2 * floor(j / 2) / npf), evaluated in float32 like the reference. */
static float dim_t(int j, int npf, float temperature) {
    float e = (2.0f * (float)(j / 2)) / (float)npf;
    return powf(temperature, e);
}

void sine_pe_hwc(float *out, int H, int W, int C, float temperature) {
    const int npf = C / 2;
    const float eps = 1e-6f;
    for (int y = 0; y < H; y++) {
        float ye = (float)(y + 1) / ((float)H + eps) * TWO_PI_F;
        for (int x = 0; x < W; x++) {
            float xe = (float)(x + 1) / ((float)W + eps) * TWO_PI_F;
            float *o = out + ((size_t)y * W + x) * C;
            for (int j = 0; j < npf; j++) {
                float t = dim_t(j, npf, temperature);
                float py = ye / t, px = xe / t;
                o[j] = (j & 1) ? cosf(py) : sinf(py);
                o[npf + j] = (j & 1) ? cosf(px) : sinf(px);
            }
        }
    }
}

void random_pe_point(float *out, float x, float y, const float *gaussian, int C) {
    const int half = C / 2;
    const float cx = 2.0f * x - 1.0f, cy = 2.0f * y - 1.0f;
    for (int j = 0; j < half; j++) {
        float p = cx * gaussian[j] + cy * gaussian[half + j];
        p = TWO_PI_F * p;
        out[j] = sinf(p);
        out[half + j] = cosf(p);
    }
}

void random_pe_dense_hwc(float *out, int H, int W, const float *gaussian, int C) {
    for (int y = 0; y < H; y++) {
        float fy = ((float)(y + 1) - 0.5f) / (float)H;
        for (int x = 0; x < W; x++) {
            float fx = ((float)(x + 1) - 0.5f) / (float)W;
            random_pe_point(out + ((size_t)y * W + x) * C, fx, fy, gaussian, C);
        }
    }
}

void sine_pe_1d(float *out, float pos, int dim, float temperature) {
    const int pe_dim = dim / 2;
    for (int k = 0; k < pe_dim; k++) {
        float t = dim_t(k, pe_dim, temperature);
        float v = pos / t;
        out[k] = sinf(v);
        out[pe_dim + k] = cosf(v);
    }
}

void axial_rope_tables(float *cos_out, float *sin_out, int W, int H, int dim, float theta) {
    const int q = dim / 4, half = dim / 2;
    for (int t = 0; t < W * H; t++) {
        const float tx = (float)(t % W), ty = (float)(t / W);
        for (int j = 0; j < q; j++) {
            const float f = 1.0f / powf(theta, (float)(4 * j) / (float)dim);
            const float ax = tx * f, ay = ty * f;
            cos_out[(size_t)t * half + j] = cosf(ax);
            sin_out[(size_t)t * half + j] = sinf(ax);
            cos_out[(size_t)t * half + q + j] = cosf(ay);
            sin_out[(size_t)t * half + q + j] = sinf(ay);
        }
    }
}

void apply_rope(float *x, int n, int ld, int dim, const float *cos_t, const float *sin_t,
                int table_rows) {
    const int half = dim / 2;
    for (int r = 0; r < n; r++) {
        float *row = x + (size_t)r * ld;
        const float *c = cos_t + (size_t)(r % table_rows) * half;
        const float *s = sin_t + (size_t)(r % table_rows) * half;
        for (int j = 0; j < half; j++) {
            const float a = row[2 * j], b = row[2 * j + 1];
            row[2 * j] = a * c[j] - b * s[j];
            row[2 * j + 1] = a * s[j] + b * c[j];
        }
    }
}
