#version 450
#extension GL_GOOGLE_include_directive : require
// Softmax of each row (cols values, rows ld apart), one workgroup per row: the maximum, the
// sum of exp(x - max), then exp(x - max) / sum. In place allowed (in and out may be the same).
layout(local_size_x = 128) in;
layout(std430, binding = 0) readonly buffer In_ { float x[]; };
layout(std430, binding = 1) buffer Out_ { float y[]; };
layout(push_constant) uniform Params {
    uint in_off, out_off;
    uint rows, cols, ld_in, ld_out;
} p;

#include "common.glsl"
#include "reduce.glsl"

void main() {
    const uint row = flat_group();
    if (row >= p.rows) return;
    const uint t = gl_LocalInvocationIndex;
    const uint xi = p.in_off + row * p.ld_in, yi = p.out_off + row * p.ld_out;
    float m = -POS_INF;
    for (uint c = t; c < p.cols; c += 128u) m = max(m, x[xi + c]);
    m = reduce_max(m);
    float s = 0.0;
    for (uint c = t; c < p.cols; c += 128u) s += exp_accurate(x[xi + c] - m);
    s = reduce_sum(s);
    for (uint c = t; c < p.cols; c += 128u) y[yi + c] = exp_accurate(x[xi + c] - m) / s;
}
