#version 450
#extension GL_GOOGLE_include_directive : require
// LayerNorm over each row of C values (biased variance, eps inside the square root), one
// workgroup per row, two passes (mean, then the mean squared deviation) so that large means do
// not cost precision. Rows are ld_in / ld_out floats apart; in place allowed.
layout(local_size_x = 128) in;
layout(std430, binding = 0) readonly buffer In_ { float x[]; };
layout(std430, binding = 1) buffer Out_ { float y[]; };
layout(std430, binding = 2) readonly buffer W_ { float w[]; };
layout(std430, binding = 3) readonly buffer B_ { float b[]; };
layout(push_constant) uniform Params {
    uint in_off, out_off, w_off, b_off;
    uint N, C, ld_in, ld_out;
    uint flags; // 1 weight, 2 bias
    float eps;
} p;

#include "common.glsl"
#include "reduce.glsl"

void main() {
    const uint row = flat_group();
    if (row >= p.N) return;
    const uint t = gl_LocalInvocationIndex;
    const uint xi = p.in_off + row * p.ld_in, yi = p.out_off + row * p.ld_out;
    float s = 0.0;
    for (uint c = t; c < p.C; c += 128u) s += x[xi + c];
    const float mean = reduce_sum(s) / float(p.C);
    float v = 0.0;
    for (uint c = t; c < p.C; c += 128u) {
        const float d = x[xi + c] - mean;
        v = fma(d, d, v);
    }
    const float rstd = 1.0 / sqrt(reduce_sum(v) / float(p.C) + p.eps);
    for (uint c = t; c < p.C; c += 128u) {
        float r = (x[xi + c] - mean) * rstd;
        if ((p.flags & 1u) != 0u) r *= w[p.w_off + c];
        if ((p.flags & 2u) != 0u) r += b[p.b_off + c];
        y[yi + c] = r;
    }
}
