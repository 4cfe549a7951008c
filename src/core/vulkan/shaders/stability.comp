#version 450
#extension GL_GOOGLE_include_directive : require
// SAM's mask stability score of n contiguous logits, by one workgroup:
//   out[0] = count(x > delta) / count(x > -delta), 1 when the second count is 0.
// The counts are exact; the division is the device's (Vulkan allows 2.5 ulp).
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer In_ { float x[]; };
layout(std430, binding = 1) writeonly buffer Out_ { float y[]; };
layout(push_constant) uniform Params {
    uint in_off, out_off;
    uint n;
    float delta;
} p;

shared uint inter_s[256], union_s[256];

void main() {
    const uint t = gl_LocalInvocationIndex;
    uint inter = 0u, uni = 0u;
    for (uint i = t; i < p.n; i += 256u) {
        const float v = x[p.in_off + i];
        inter += v > p.delta ? 1u : 0u;
        uni += v > -p.delta ? 1u : 0u;
    }
    inter_s[t] = inter;
    union_s[t] = uni;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1) {
        if (t < s) {
            inter_s[t] += inter_s[t + s];
            union_s[t] += union_s[t + s];
        }
        barrier();
    }
    if (t == 0u) y[p.out_off] = union_s[0] > 0u ? float(inter_s[0]) / float(union_s[0]) : 1.0;
}
