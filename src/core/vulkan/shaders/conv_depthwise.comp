#version 450
#extension GL_GOOGLE_include_directive : require
// Depthwise 2-D convolution (groups == IC == OC), channels-last: one invocation per output
// value, out[oy][ox][c] = bias[c] + sum over taps of in[y][x][c] w[c][0][ky][kx].
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer In_ { float x[]; };
layout(std430, binding = 1) readonly buffer W_ { float w[]; };
layout(std430, binding = 2) writeonly buffer Out_ { float y[]; };
layout(std430, binding = 3) readonly buffer Bias_ { float bias[]; };
layout(push_constant) uniform Params {
    uint in_off, w_off, out_off, bias_off;
    uint H, W, C, KH;
    uint KW, stride, pad, OH;
    uint OW, flags; // flags: 1 bias
} p;

#include "common.glsl"

void main() {
    const uint i = flat_group() * 256u + gl_LocalInvocationIndex;
    if (i >= p.OH * p.OW * p.C) return;
    const uint c = i % p.C, pix = i / p.C;
    const uint oy = pix / p.OW, ox = pix % p.OW;
    float acc = (p.flags & 1u) != 0u ? bias[p.bias_off + c] : 0.0;
    for (uint ky = 0u; ky < p.KH; ky++) {
        const int yy = int(oy * p.stride + ky) - int(p.pad);
        if (yy < 0 || yy >= int(p.H)) continue;
        for (uint kx = 0u; kx < p.KW; kx++) {
            const int xx = int(ox * p.stride + kx) - int(p.pad);
            if (xx < 0 || xx >= int(p.W)) continue;
            acc = fma(x[p.in_off + (uint(yy) * p.W + uint(xx)) * p.C + c],
                      w[p.w_off + (c * p.KH + ky) * p.KW + kx], acc);
        }
    }
    y[p.out_off + i] = acc;
}
