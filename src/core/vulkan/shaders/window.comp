#version 450
#extension GL_GOOGLE_include_directive : require
// Hiera's window partition and its inverse, channels-last. The map is [H][W] with C channels per
// pixel (pixels ld floats apart); its window grid is ceil(H/wh) x ceil(W/ww) windows of wh x ww
// tokens, row-major; these ops touch windows first .. first + n - 1.
//   mode 0, partition: windows [n][wh*ww][C] from the map; tokens beyond H or W are 0 (F.pad
//     before the view in window_partition). One invocation per output value.
//   mode 3, partition with LayerNorm: the same, each map token normalised on the way (weight w,
//     bias b when flags say so, eps); padding stays 0. One workgroup per window token.
//   mode 1, unpartition: windows -> map, tokens beyond H or W dropped (window_unpartition);
//   mode 2, the same added to the map (the residual connection around attention).
layout(local_size_x = 128) in;
layout(std430, binding = 0) readonly buffer In_ { float x[]; };
layout(std430, binding = 1) buffer Out_ { float y[]; };
layout(std430, binding = 2) readonly buffer W_ { float w[]; };
layout(std430, binding = 3) readonly buffer B_ { float bias[]; };
layout(push_constant) uniform Params {
    uint in_off, out_off, w_off, b_off;
    uint H, W, C, wh, ww, ld, mode, first, n, flags; // flags: 1 weight, 2 bias
    float eps;
} p;

#include "common.glsl"
#include "reduce.glsl"

// Map pixel (yy, xx) of token t of window `win` (0 .. n-1); false in the padding.
bool token_pixel(uint win, uint t, out uint yy, out uint xx) {
    const uint nwx = (p.W + p.ww - 1u) / p.ww, g = p.first + win;
    yy = (g / nwx) * p.wh + t / p.ww;
    xx = (g % nwx) * p.ww + t % p.ww;
    return yy < p.H && xx < p.W;
}

void main() {
    const uint L = p.wh * p.ww;
    uint yy, xx;
    if (p.mode == 3u) {
        const uint token = flat_group(); // window token: win * L + t
        if (token >= p.n * L) return;
        const uint tid = gl_LocalInvocationIndex, o = p.out_off + token * p.C;
        if (!token_pixel(token / L, token % L, yy, xx)) {
            for (uint c = tid; c < p.C; c += 128u) y[o + c] = 0.0;
            return;
        }
        const uint xi = p.in_off + (yy * p.W + xx) * p.ld;
        float s = 0.0;
        for (uint c = tid; c < p.C; c += 128u) s += x[xi + c];
        const float mean = reduce_sum(s) / float(p.C);
        float v = 0.0;
        for (uint c = tid; c < p.C; c += 128u) {
            const float d = x[xi + c] - mean;
            v = fma(d, d, v);
        }
        const float rstd = 1.0 / sqrt(reduce_sum(v) / float(p.C) + p.eps);
        for (uint c = tid; c < p.C; c += 128u) {
            float r = (x[xi + c] - mean) * rstd;
            if ((p.flags & 1u) != 0u) r *= w[p.w_off + c];
            if ((p.flags & 2u) != 0u) r += bias[p.b_off + c];
            y[o + c] = r;
        }
        return;
    }
    const uint i = flat_group() * 128u + gl_LocalInvocationIndex;
    if (i >= p.n * L * p.C) return;
    const uint c = i % p.C, token = i / p.C;
    const bool inside = token_pixel(token / L, token % L, yy, xx);
    if (p.mode == 0u) {
        y[p.out_off + i] = inside ? x[p.in_off + (yy * p.W + xx) * p.ld + c] : 0.0;
    } else if (inside) {
        const uint o = p.out_off + (yy * p.W + xx) * p.ld + c;
        const float v = x[p.in_off + i];
        if (p.mode == 1u)
            y[o] = v;
        else
            y[o] = y[o] + v;
    }
}
