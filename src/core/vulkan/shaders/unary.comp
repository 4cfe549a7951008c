#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_8bit_storage : require
// Element-wise over 4-D strided views of any element type: out(i) = g(f(in(i))) where element
// (i0..i3) of a view is at off + sum i_d stride_d (elements of its type). Strides make it a copy
// with strides, a permute, a transpose, a gather of a sub-block or a broadcast (stride 0).
//   f (fn): 0 identity, 1 ReLU (NaN passes), 2 GELU (exact, erf), 3 sigmoid,
//           4 step (x > a ? 1 : 0), 5 clamp (x < a ? a : x > b ? b : x), 6 fill (a; in unread)
//   g: v * scale when scale != 1, then v + shift when shift != 0.
// Values are loaded as float32 and stored in the output's type (dtype.glsl); a plain copy
// between two views of the same type copies the bits. In place allowed (same views).
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer InF { float in_f[]; };
layout(std430, binding = 0) readonly buffer InH { uint16_t in_h[]; };
layout(std430, binding = 0) readonly buffer InB { uint8_t in_b[]; };
layout(std430, binding = 1) buffer OutF { float out_f[]; };
layout(std430, binding = 1) buffer OutH { uint16_t out_h[]; };
layout(std430, binding = 1) buffer OutB { uint8_t out_b[]; };
layout(push_constant) uniform Params {
    uint in_off, out_off;
    uint n0, n1, n2, n3;
    uint is0, is1, is2, is3;
    uint os0, os1, os2, os3;
    uint fn, types; // types: input type | output type << 8
    float a, b, scale, shift;
} p;

#include "common.glsl"
#include "dtype.glsl"

float load(uint t, uint i) {
    if (t == 0u) return in_f[i];
    if (t == 1u) return f16_bits_to_float(uint(in_h[i]));
    if (t == 2u) return bf16_bits_to_float(uint(in_h[i]));
    return float(uint(in_b[i]));
}

void store(uint t, uint i, float v) {
    if (t == 0u)
        out_f[i] = v;
    else if (t == 1u)
        out_h[i] = uint16_t(float_to_f16_bits(v));
    else if (t == 2u)
        out_h[i] = uint16_t(float_to_bf16_bits(v));
    else
        out_b[i] = uint8_t(uint(clamp(v, 0.0, 255.0)));
}

void main() {
    const uint i = flat_group() * 256u + gl_LocalInvocationIndex;
    if (i >= p.n0 * p.n1 * p.n2 * p.n3) return;
    const uint i3 = i % p.n3, r3 = i / p.n3;
    const uint i2 = r3 % p.n2, r2 = r3 / p.n2;
    const uint i1 = r2 % p.n1, i0 = r2 / p.n1;
    const uint src = p.in_off + i0 * p.is0 + i1 * p.is1 + i2 * p.is2 + i3 * p.is3;
    const uint dst = p.out_off + i0 * p.os0 + i1 * p.os1 + i2 * p.os2 + i3 * p.os3;
    const uint tin = p.types & 0xffu, tout = p.types >> 8;
    if (p.fn == 0u && tin == tout && p.scale == 1.0 && p.shift == 0.0) { // bits unchanged
        if (tin == 0u)
            out_f[dst] = in_f[src];
        else if (tin == 3u)
            out_b[dst] = in_b[src];
        else
            out_h[dst] = in_h[src];
        return;
    }
    float v = p.fn == 6u ? p.a : load(tin, src);
    switch (p.fn) {
    case 1u: v = v < 0.0 ? 0.0 : v; break;
    case 2u: v = (v * 0.5) * (1.0 + erf_accurate(v * 0.707106781)); break;
    case 3u: v = 1.0 / (1.0 + exp_accurate(-v)); break;
    case 4u: v = v > p.a ? 1.0 : 0.0; break;
    case 5u: v = v < p.a ? p.a : (v > p.b ? p.b : v); break;
    default: break;
    }
    precise float r = v;
    if (p.scale != 1.0) r = r * p.scale;
    if (p.shift != 0.0) r = r + p.shift;
    store(tout, dst, r);
}
