#version 450
#extension GL_GOOGLE_include_directive : require
// MaxPool2d, kernel 2, stride 2 (floor), channels-last: in [B][H][W][C] -> out [B][H/2][W/2][C],
// channels unit-stride, pixels, rows and images at the given strides (a column range of a wider
// map). A NaN in the window wins, as in PyTorch.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer In_ { float x[]; };
layout(std430, binding = 1) writeonly buffer Out_ { float y[]; };
layout(push_constant) uniform Params {
    uint in_off, out_off;
    uint B, H, W, C;
    uint in_bs, in_rs, in_ps;    // in: image, row and pixel strides
    uint out_bs, out_rs, out_ps; // out: likewise
} p;

#include "common.glsl"

void main() {
    const uint OH = p.H / 2u, OW = p.W / 2u;
    const uint i = flat_group() * 256u + gl_LocalInvocationIndex;
    if (i >= p.B * OH * OW * p.C) return;
    const uint c = i % p.C, pix = i / p.C, ox = pix % OW, r = pix / OW, oy = r % OH, b = r / OH;
    const uint base = p.in_off + b * p.in_bs + c;
    float m = x[base + (2u * oy) * p.in_rs + (2u * ox) * p.in_ps];
    for (uint t = 1u; t < 4u; t++) {
        const float v = x[base + (2u * oy + t / 2u) * p.in_rs + (2u * ox + t % 2u) * p.in_ps];
        if (v > m || isnan(v)) m = v;
    }
    y[p.out_off + b * p.out_bs + oy * p.out_rs + ox * p.out_ps + c] = m;
}
