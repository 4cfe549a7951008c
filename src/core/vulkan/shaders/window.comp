#version 450
#extension GL_GOOGLE_include_directive : require
// Hiera's window partition and its inverse, channels-last.
//   mode 0, partition: map [H][W] (pixels ld floats apart, C channels each) -> windows
//     [nwin][ws*ws][C], nwin = ceil(H/ws) ceil(W/ws) in row-major order; pixels of the padding
//     (beyond H or W) are 0, as F.pad before the view in window_partition.
//   mode 1, unpartition: windows -> map, the padding cropped (window_unpartition);
//   mode 2, the same added to the map (the residual connection around attention).
// One invocation per element of the output (mode 0) or of the map (modes 1, 2).
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer In_ { float x[]; };
layout(std430, binding = 1) buffer Out_ { float y[]; };
layout(push_constant) uniform Params {
    uint in_off, out_off;
    uint H, W, C, ws, ld, mode;
} p;

#include "common.glsl"

void main() {
    const uint i = flat_group() * 256u + gl_LocalInvocationIndex;
    const uint nwx = (p.W + p.ws - 1u) / p.ws, nwy = (p.H + p.ws - 1u) / p.ws;
    if (p.mode == 0u) {
        if (i >= nwy * nwx * p.ws * p.ws * p.C) return;
        const uint c = i % p.C, r = i / p.C, t = r % (p.ws * p.ws), win = r / (p.ws * p.ws);
        const uint yy = (win / nwx) * p.ws + t / p.ws, xx = (win % nwx) * p.ws + t % p.ws;
        y[p.out_off + i] =
            (yy < p.H && xx < p.W) ? x[p.in_off + (yy * p.W + xx) * p.ld + c] : 0.0;
    } else {
        if (i >= p.H * p.W * p.C) return;
        const uint c = i % p.C, pix = i / p.C, yy = pix / p.W, xx = pix % p.W;
        const uint win = (yy / p.ws) * nwx + xx / p.ws;
        const uint t = (yy % p.ws) * p.ws + xx % p.ws;
        const float v = x[p.in_off + (win * p.ws * p.ws + t) * p.C + c];
        const uint o = p.out_off + pix * p.ld + c;
        if (p.mode == 1u)
            y[o] = v;
        else
            y[o] = y[o] + v;
    }
}
