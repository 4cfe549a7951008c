#version 450
#extension GL_GOOGLE_include_directive : require
// Element-wise a (op) b over 4-D strided views of float32; a stride of 0 broadcasts (a
// positional embedding added to every image of a batch, a bias row added to every row).
//   op 0 add, 1 subtract, 2 multiply, 3 divide, 4 alpha a + beta b (a + beta b when alpha == 1)
// `precise`: each product and sum rounded on its own, as the reference computes them.
// In place allowed (out the same view as a or b).
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer A_ { float a[]; };
layout(std430, binding = 1) readonly buffer B_ { float b[]; };
layout(std430, binding = 2) buffer Out_ { float y[]; };
layout(push_constant) uniform Params {
    uint a_off, b_off, out_off;
    uint n0, n1, n2, n3;
    uint as0, as1, as2, as3;
    uint bs0, bs1, bs2, bs3;
    uint os0, os1, os2, os3;
    uint op;
    float alpha, beta;
} p;

#include "common.glsl"

void main() {
    const uint i = flat_group() * 256u + gl_LocalInvocationIndex;
    if (i >= p.n0 * p.n1 * p.n2 * p.n3) return;
    const uint i3 = i % p.n3, r3 = i / p.n3;
    const uint i2 = r3 % p.n2, r2 = r3 / p.n2;
    const uint i1 = r2 % p.n1, i0 = r2 / p.n1;
    const float x = a[p.a_off + i0 * p.as0 + i1 * p.as1 + i2 * p.as2 + i3 * p.as3];
    const float z = b[p.b_off + i0 * p.bs0 + i1 * p.bs1 + i2 * p.bs2 + i3 * p.bs3];
    precise float r;
    switch (p.op) {
    case 0u: r = x + z; break;
    case 1u: r = x - z; break;
    case 2u: r = x * z; break;
    case 3u: r = x / z; break;
    default: r = p.alpha == 1.0 ? x + p.beta * z : p.alpha * x + p.beta * z; break;
    }
    y[p.out_off + i0 * p.os0 + i1 * p.os1 + i2 * p.os2 + i3 * p.os3] = r;
}
