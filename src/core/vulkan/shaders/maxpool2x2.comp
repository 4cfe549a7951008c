#version 450
#extension GL_GOOGLE_include_directive : require
// MaxPool2d, kernel 2, stride 2 (floor), channels-last [H][W][C] -> [H/2][W/2][C]; a NaN in the
// window wins, as in PyTorch.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer In_ { float x[]; };
layout(std430, binding = 1) writeonly buffer Out_ { float y[]; };
layout(push_constant) uniform Params {
    uint in_off, out_off;
    uint H, W, C;
} p;

#include "common.glsl"

void main() {
    const uint OH = p.H / 2u, OW = p.W / 2u;
    const uint i = flat_group() * 256u + gl_LocalInvocationIndex;
    if (i >= OH * OW * p.C) return;
    const uint c = i % p.C, pix = i / p.C, oy = pix / OW, ox = pix % OW;
    float m = x[p.in_off + ((2u * oy) * p.W + 2u * ox) * p.C + c];
    for (uint t = 1u; t < 4u; t++) {
        const float v = x[p.in_off + ((2u * oy + t / 2u) * p.W + 2u * ox + t % 2u) * p.C + c];
        if (v > m || isnan(v)) m = v;
    }
    y[p.out_off + i] = m;
}
