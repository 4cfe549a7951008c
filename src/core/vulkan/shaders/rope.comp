#version 450
#extension GL_GOOGLE_include_directive : require
// Rotary position encoding in place on n rows of `heads` heads of 2 half_dim values each (rows
// ld floats apart): each pair (x[2j], x[2j+1]) of every head is rotated by the angle of table
// row (r mod table_rows), column j:
//   x[2j] = a cos - b sin,  x[2j+1] = a sin + b cos
// (the keys' table repeats per memory frame, hence the modulo). `precise` keeps the products
// rounded apart, as the C reference (model/position_encoding.c) computes them.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer X_ { float x[]; };
layout(std430, binding = 1) readonly buffer Cos_ { float ct[]; };
layout(std430, binding = 2) readonly buffer Sin_ { float st[]; };
layout(push_constant) uniform Params {
    uint x_off, cos_off, sin_off;
    uint n, ld, half_dim, table_rows, heads;
} p;

#include "common.glsl"

void main() {
    const uint i = flat_group() * 256u + gl_LocalInvocationIndex;
    if (i >= p.n * p.heads * p.half_dim) return;
    const uint j = i % p.half_dim, t = i / p.half_dim, h = t % p.heads, r = t / p.heads;
    const uint k = (r % p.table_rows) * p.half_dim + j;
    const float c = ct[p.cos_off + k], s = st[p.sin_off + k];
    const uint e = p.x_off + r * p.ld + (h * p.half_dim + j) * 2u;
    const float a = x[e], b = x[e + 1u];
    precise float u = a * c - b * s;
    precise float v = a * s + b * c;
    x[e] = u;
    x[e + 1u] = v;
}
