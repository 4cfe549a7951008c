#version 450
#extension GL_GOOGLE_include_directive : require
// Batched, strided GEMM: C = alpha * A B + beta * C (+ bias[n]) for each batch z, where
// A(m, k) = a[a_off + z a_bs + m a_rs + k a_cs], B(k, n) = b[b_off + z b_bs + k b_rs + n b_cs],
// C(m, n) = c[c_off + z c_bs + m c_rs + n c_cs]. Transposes are swapped strides. With beta == 0
// the old C is not read (it may hold NaN), as BLAS.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer A_ { float a[]; };
layout(std430, binding = 1) readonly buffer B_ { float b[]; };
layout(std430, binding = 2) buffer C_ { float c[]; };
layout(std430, binding = 3) readonly buffer Bias_ { float bias[]; };
layout(push_constant) uniform Params {
    uint a_off, b_off, c_off, bias_off;
    uint M, N, K, flags; // flags: 1 bias, 2 beta != 0
    uint a_rs, a_cs, a_bs;
    uint b_rs, b_cs, b_bs;
    uint c_rs, c_cs, c_bs;
    float alpha, beta;
} p;

uint a_base, b_base;
float tile_a(uint m, uint k) { return a[a_base + m * p.a_rs + k * p.a_cs]; }
float tile_b(uint k, uint n) { return b[b_base + k * p.b_rs + n * p.b_cs]; }

#include "gemm_tile.glsl"

void main() {
    const uint z = gl_WorkGroupID.z;
    a_base = p.a_off + z * p.a_bs;
    b_base = p.b_off + z * p.b_bs;
    const uint m0 = gl_WorkGroupID.y * TILE_M, n0 = gl_WorkGroupID.x * TILE_N;
    float acc[4][4];
    for (uint i = 0u; i < 4u; i++)
        for (uint j = 0u; j < 4u; j++) acc[i][j] = 0.0;
    tile_multiply(p.M, p.N, p.K, m0, n0, p.a_cs == 1u, p.b_cs == 1u, acc);
    const uint tid = gl_LocalInvocationIndex, tx = tid % 16u, ty = tid / 16u;
    const uint c_base = p.c_off + z * p.c_bs;
    for (uint i = 0u; i < 4u; i++) {
        const uint m = m0 + ty + 16u * i;
        if (m >= p.M) continue;
        for (uint j = 0u; j < 4u; j++) {
            const uint n = n0 + tx + 16u * j;
            if (n >= p.N) continue;
            const uint idx = c_base + m * p.c_rs + n * p.c_cs;
            float v = p.alpha * acc[i][j];
            if ((p.flags & 1u) != 0u) v += bias[p.bias_off + n];
            if ((p.flags & 2u) != 0u) v += p.beta * c[idx];
            c[idx] = v;
        }
    }
}
