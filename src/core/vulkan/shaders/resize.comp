#version 450
#extension GL_GOOGLE_include_directive : require
// Separable resize of planar images [C][H][W] -> [C][OH][OW] from per-axis tap tables made on
// the host by core/resize_weights.h (the same indices and weights as the reference kernels,
// which follow PyTorch's float arithmetic): for each output row oy and column ox,
//   h_i = sum_j in[iy_i][ix_j] wx_j   (taps in order, products rounded, then summed)
//   out = h_0 wy_0 + h_1 wy_1 + ...   (likewise)
// `precise` keeps every product and sum rounded on its own (no fused multiply-add), which is
// what makes the result equal to the reference bit for bit.
// Table layout (uints; weights as float bits): y axis count[OH], index[OH][TY], weight[OH][TY],
// then the x axis likewise with OW and TX.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer In_ { float x[]; };
layout(std430, binding = 1) writeonly buffer Out_ { float y[]; };
layout(std430, binding = 2) readonly buffer Tab_ { uint tab[]; };
layout(push_constant) uniform Params {
    uint in_off, out_off, tab_off;
    uint C, H, W, OH, OW, TY, TX;
} p;

#include "common.glsl"

void main() {
    const uint i = flat_group() * 256u + gl_LocalInvocationIndex;
    if (i >= p.C * p.OH * p.OW) return;
    const uint ox = i % p.OW, r = i / p.OW, oy = r % p.OH, c = r / p.OH;
    const uint y_cnt = p.tab_off, y_idx = y_cnt + p.OH, y_w = y_idx + p.OH * p.TY;
    const uint x_cnt = y_w + p.OH * p.TY, x_idx = x_cnt + p.OW, x_w = x_idx + p.OW * p.TX;
    const uint ny = tab[y_cnt + oy], nx = tab[x_cnt + ox];
    const uint plane = p.in_off + c * p.H * p.W;
    precise float acc = 0.0;
    for (uint a = 0u; a < ny; a++) {
        const uint row = plane + tab[y_idx + oy * p.TY + a] * p.W;
        precise float h = x[row + tab[x_idx + ox * p.TX]] * uintBitsToFloat(tab[x_w + ox * p.TX]);
        for (uint b = 1u; b < nx; b++)
            h = h + x[row + tab[x_idx + ox * p.TX + b]] * uintBitsToFloat(tab[x_w + ox * p.TX + b]);
        precise float t = h * uintBitsToFloat(tab[y_w + oy * p.TY + a]);
        acc = a == 0u ? t : acc + t;
    }
    y[p.out_off + i] = acc;
}
