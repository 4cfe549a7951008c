#version 450
#extension GL_GOOGLE_include_directive : require
// Fused scaled dot-product attention with an online softmax: out = softmax(Q K^T scale) V, for
// many independent problems at once (windows x heads). No Lq x Lk matrix is stored: a
// workgroup holds a block of 32 queries and walks the keys 16 at a time, keeping each query's
// running maximum m, running sum l and its weighted sum of values; when a block raises the
// maximum, the earlier sums are rescaled by exp(m_old - m_new) (FlashAttention's recurrence).
//
// Workgroup (x, y, z): queries 32x .. 32x+31, problem y = window * heads + head, value columns
// 128z .. 128z+127. Element (i, c) of problem (w, h) is at off + w ws + h hs + i ld + c for each
// of q, k, v (rows of D, D and Dv floats) and out (rows of Dv floats).
layout(local_size_x = 128) in;
layout(std430, binding = 0) readonly buffer Q_ { float q[]; };
layout(std430, binding = 1) readonly buffer K_ { float k[]; };
layout(std430, binding = 2) readonly buffer V_ { float v[]; };
layout(std430, binding = 3) writeonly buffer O_ { float o[]; };
layout(push_constant) uniform Params {
    uint q_off, k_off, v_off, o_off;
    uint Lq, Lk, D, Dv;
    uint heads;
    float scale;
    uint q_ld, q_ws, q_hs;
    uint k_ld, k_ws, k_hs;
    uint v_ld, v_ws, v_hs;
    uint o_ld, o_ws, o_hs;
} p;

#include "common.glsl"

#define BQ 32u
#define BK 16u
#define DC 32u

shared float qs[BQ][DC + 1u];
shared float ks[BK][DC + 1u];
shared float ps[BQ][BK];
shared float row_m[BQ], row_l[BQ], row_a[BQ];

void main() {
    const uint tid = gl_LocalInvocationIndex;
    const uint q0 = gl_WorkGroupID.x * BQ;
    const uint w = gl_WorkGroupID.y / p.heads, h = gl_WorkGroupID.y % p.heads;
    const uint col = gl_WorkGroupID.z * 128u + tid; // this invocation's value column
    const uint qb = p.q_off + w * p.q_ws + h * p.q_hs;
    const uint kb = p.k_off + w * p.k_ws + h * p.k_hs;
    const uint vb = p.v_off + w * p.v_ws + h * p.v_hs;
    const uint ob = p.o_off + w * p.o_ws + h * p.o_hs;
    const uint nq = min(BQ, p.Lq - q0);
    if (tid < BQ) {
        row_m[tid] = -POS_INF;
        row_l[tid] = 0.0;
    }
    float acc[BQ];
    for (uint r = 0u; r < BQ; r++) acc[r] = 0.0;
    // scores: this invocation computes row sr, columns sc + 4 jj
    const uint sr = tid / 4u, sc = tid % 4u;
    for (uint k0 = 0u; k0 < p.Lk; k0 += BK) {
        const uint nk = min(BK, p.Lk - k0);
        float s[4] = float[4](0.0, 0.0, 0.0, 0.0);
        for (uint d0 = 0u; d0 < p.D; d0 += DC) {
            for (uint r = 0u; r < 8u; r++) {
                const uint e = tid + 128u * r, i = e / DC, d = e % DC;
                qs[i][d] = (i < nq && d0 + d < p.D) ? q[qb + (q0 + i) * p.q_ld + d0 + d] : 0.0;
            }
            for (uint r = 0u; r < 4u; r++) {
                const uint e = tid + 128u * r, j = e / DC, d = e % DC;
                ks[j][d] = (j < nk && d0 + d < p.D) ? k[kb + (k0 + j) * p.k_ld + d0 + d] : 0.0;
            }
            barrier();
            for (uint d = 0u; d < DC; d++) {
                const float qv = qs[sr][d];
                for (uint jj = 0u; jj < 4u; jj++) s[jj] = fma(qv, ks[sc + 4u * jj][d], s[jj]);
            }
            barrier();
        }
        for (uint jj = 0u; jj < 4u; jj++) {
            const uint j = sc + 4u * jj;
            ps[sr][j] = j < nk ? s[jj] * p.scale : -POS_INF;
        }
        barrier();
        if (tid < BQ) {
            const float m_old = row_m[tid];
            float m_new = m_old;
            for (uint j = 0u; j < BK; j++) m_new = max(m_new, ps[tid][j]);
            const float alpha = m_old == -POS_INF ? 0.0 : exp_accurate(m_old - m_new);
            float sum = 0.0;
            for (uint j = 0u; j < BK; j++) {
                const float e = exp_accurate(ps[tid][j] - m_new);
                ps[tid][j] = e;
                sum += e;
            }
            row_l[tid] = row_l[tid] * alpha + sum;
            row_m[tid] = m_new;
            row_a[tid] = alpha;
        }
        barrier();
        if (col < p.Dv) {
            for (uint r = 0u; r < BQ; r++) acc[r] *= row_a[r];
            for (uint j = 0u; j < nk; j++) {
                const float vj = v[vb + (k0 + j) * p.v_ld + col];
                for (uint r = 0u; r < BQ; r++) acc[r] = fma(ps[r][j], vj, acc[r]);
            }
        }
        barrier();
    }
    if (col < p.Dv)
        for (uint r = 0u; r < nq; r++) o[ob + (q0 + r) * p.o_ld + col] = acc[r] / row_l[r];
}
