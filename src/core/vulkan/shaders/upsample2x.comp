#version 450
#extension GL_GOOGLE_include_directive : require
// Nearest-neighbour upsampling by 2, channels-last [H][W][C] -> [2H][2W][C].
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer In_ { float x[]; };
layout(std430, binding = 1) writeonly buffer Out_ { float y[]; };
layout(push_constant) uniform Params {
    uint in_off, out_off;
    uint H, W, C;
} p;

#include "common.glsl"

void main() {
    const uint i = flat_group() * 256u + gl_LocalInvocationIndex;
    if (i >= 4u * p.H * p.W * p.C) return;
    const uint c = i % p.C, pix = i / p.C, oy = pix / (2u * p.W), ox = pix % (2u * p.W);
    y[p.out_off + i] = x[p.in_off + ((oy / 2u) * p.W + ox / 2u) * p.C + c];
}
