#version 450
#extension GL_GOOGLE_include_directive : require
// 2-D convolution as an implicit GEMM, channels-last: for group g (workgroup z),
//   out[m][g ocg + n] = sum_k A(m, k) B(k, n) + bias,  m = oy OW + ox,
//   k = (ky KW + kx) icg + ci  (input channels fastest: neighbouring k are neighbouring floats),
//   A(m, k) = in[((oy s - pad + ky) W + ox s - pad + kx) IC + g icg + ci] (0 in the padding),
//   B(k, n) = w[(((g ocg + n) icg + ci) KH + ky) KW + kx]   (PyTorch's [OC][IC/g][KH][KW]).
// No im2col buffer: the tile loader gathers A from the input.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer In_ { float x[]; };
layout(std430, binding = 1) readonly buffer W_ { float w[]; };
layout(std430, binding = 2) writeonly buffer Out_ { float y[]; };
layout(std430, binding = 3) readonly buffer Bias_ { float bias[]; };
layout(push_constant) uniform Params {
    uint in_off, w_off, out_off, bias_off;
    uint H, W, IC, OC;
    uint KH, KW, stride, pad;
    uint groups, OH, OW, flags; // flags: 1 bias
} p;

uint g, icg, ocg;

float tile_a(uint m, uint k) {
    const uint oy = m / p.OW, ox = m % p.OW;
    const uint ci = k % icg, t = k / icg;
    const uint kx = t % p.KW, ky = t / p.KW;
    const int yy = int(oy * p.stride + ky) - int(p.pad);
    const int xx = int(ox * p.stride + kx) - int(p.pad);
    if (yy < 0 || xx < 0 || yy >= int(p.H) || xx >= int(p.W)) return 0.0;
    return x[p.in_off + (uint(yy) * p.W + uint(xx)) * p.IC + g * icg + ci];
}

float tile_b(uint k, uint n) {
    const uint ci = k % icg, t = k / icg;
    const uint kx = t % p.KW, ky = t / p.KW;
    return w[p.w_off + (((g * ocg + n) * icg + ci) * p.KH + ky) * p.KW + kx];
}

#include "gemm_tile.glsl"

void main() {
    g = gl_WorkGroupID.z;
    icg = p.IC / p.groups;
    ocg = p.OC / p.groups;
    const uint M = p.OH * p.OW, N = ocg, K = icg * p.KH * p.KW;
    const uint m0 = gl_WorkGroupID.y * TILE_M, n0 = gl_WorkGroupID.x * TILE_N;
    float acc[4][4];
    for (uint i = 0u; i < 4u; i++)
        for (uint j = 0u; j < 4u; j++) acc[i][j] = 0.0;
    tile_multiply(M, N, K, m0, n0, true, false, acc);
    const uint tid = gl_LocalInvocationIndex, tx = tid % 16u, ty = tid / 16u;
    for (uint i = 0u; i < 4u; i++) {
        const uint m = m0 + ty + 16u * i;
        if (m >= M) continue;
        for (uint j = 0u; j < 4u; j++) {
            const uint n = n0 + tx + 16u * j;
            if (n >= N) continue;
            const uint o = g * ocg + n;
            float v = acc[i][j];
            if ((p.flags & 1u) != 0u) v += bias[p.bias_off + o];
            y[p.out_off + m * p.OC + o] = v;
        }
    }
}
