#version 450
#extension GL_GOOGLE_include_directive : require
// Element-wise functions over 4-D strided views: out(i) = f(in(i)) where element (i0..i3) of a
// view is at off + sum i_d stride_d. Strides make it a copy with strides, a permute, a
// transpose or a gather of a sub-block; in place allowed when the views are the same.
//   op 0 copy, 1 affine x a (+ b when b != 0), 2 ReLU, 3 GELU (exact, erf), 4 sigmoid,
//   5 threshold (x > a ? 1 : 0), 6 round to bfloat16 (nearest even, NaN kept quiet).
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer In_ { float x[]; };
layout(std430, binding = 1) buffer Out_ { float y[]; };
layout(push_constant) uniform Params {
    uint in_off, out_off;
    uint n0, n1, n2, n3;
    uint is0, is1, is2, is3;
    uint os0, os1, os2, os3;
    uint op;
    float a, b;
} p;

#include "common.glsl"

float bf16_round(float f) {
    uint u = floatBitsToUint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uintBitsToFloat((u | 0x00400000u) & 0xffff0000u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return uintBitsToFloat(u & 0xffff0000u);
}

void main() {
    const uint i = flat_group() * 256u + gl_LocalInvocationIndex;
    if (i >= p.n0 * p.n1 * p.n2 * p.n3) return;
    const uint i3 = i % p.n3, r3 = i / p.n3;
    const uint i2 = r3 % p.n2, r2 = r3 / p.n2;
    const uint i1 = r2 % p.n1, i0 = r2 / p.n1;
    const float v = x[p.in_off + i0 * p.is0 + i1 * p.is1 + i2 * p.is2 + i3 * p.is3];
    float r;
    switch (p.op) {
    case 0u: r = v; break;
    case 1u: {
        precise float t = v * p.a;
        if (p.b != 0.0) t = t + p.b;
        r = t;
        break;
    }
    case 2u: r = v < 0.0 ? 0.0 : v; break;
    case 3u: r = (v * 0.5) * (1.0 + erf_accurate(v * 0.707106781)); break;
    case 4u: r = 1.0 / (1.0 + exp_accurate(-v)); break;
    case 5u: r = v > p.a ? 1.0 : 0.0; break;
    default: r = bf16_round(v); break;
    }
    y[p.out_off + i0 * p.os0 + i1 * p.os1 + i2 * p.os2 + i3 * p.os3] = r;
}
