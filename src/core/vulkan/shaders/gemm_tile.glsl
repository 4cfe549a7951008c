// The tiled matrix product shared by gemm.comp and conv2d.comp: a 256-invocation workgroup
// computes a 64 x 64 tile of C = A B, walking K in steps of 16 through shared memory; each
// invocation accumulates 4 x 4 outputs (rows ty + 16 i, columns tx + 16 j).
//
// The including shader defines, before including this file:
//   float tile_a(uint m, uint k);   // A(m, k), called only for m < M, k < K
//   float tile_b(uint k, uint n);   // B(k, n), called only for k < K, n < N
// and tells tile_multiply which index of each operand is contiguous in memory, so that
// neighbouring invocations load neighbouring addresses.

#define TILE_M 64
#define TILE_N 64
#define TILE_K 16

shared float tile_as[TILE_K][TILE_M + 4];
shared float tile_bs[TILE_K][TILE_N + 4];

void tile_multiply(uint M, uint N, uint K, uint m0, uint n0, bool a_k_fastest,
                   bool b_n_fastest, inout float acc[4][4]) {
    const uint tid = gl_LocalInvocationIndex;
    const uint tx = tid % 16u, ty = tid / 16u;
    for (uint k0 = 0u; k0 < K; k0 += TILE_K) {
        for (uint r = 0u; r < 4u; r++) {
            const uint e = tid + r * 256u;
            uint mm, kk;
            if (a_k_fastest) {
                mm = e / TILE_K;
                kk = e % TILE_K;
            } else {
                kk = e / TILE_M;
                mm = e % TILE_M;
            }
            const uint gm = m0 + mm, gk = k0 + kk;
            tile_as[kk][mm] = (gm < M && gk < K) ? tile_a(gm, gk) : 0.0;
            uint nn;
            if (b_n_fastest) {
                kk = e / TILE_N;
                nn = e % TILE_N;
            } else {
                nn = e / TILE_K;
                kk = e % TILE_K;
            }
            const uint gn = n0 + nn, gk2 = k0 + kk;
            tile_bs[kk][nn] = (gn < N && gk2 < K) ? tile_b(gk2, gn) : 0.0;
        }
        barrier();
        for (uint kk = 0u; kk < TILE_K; kk++) {
            float a[4], b[4];
            for (uint i = 0u; i < 4u; i++) a[i] = tile_as[kk][ty + 16u * i];
            for (uint j = 0u; j < 4u; j++) b[j] = tile_bs[kk][tx + 16u * j];
            for (uint i = 0u; i < 4u; i++)
                for (uint j = 0u; j < 4u; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier();
    }
}
