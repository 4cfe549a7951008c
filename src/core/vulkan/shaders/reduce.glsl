// Workgroup-wide sum and maximum over 128 invocations through shared memory (no subgroup
// operations: their size differs between devices). Every invocation gets the result.
shared float reduce_buf[128];

float reduce_sum(float x) {
    const uint t = gl_LocalInvocationIndex;
    reduce_buf[t] = x;
    barrier();
    for (uint s = 64u; s > 0u; s >>= 1) {
        if (t < s) reduce_buf[t] += reduce_buf[t + s];
        barrier();
    }
    const float r = reduce_buf[0];
    barrier();
    return r;
}

float reduce_max(float x) {
    const uint t = gl_LocalInvocationIndex;
    reduce_buf[t] = x;
    barrier();
    for (uint s = 64u; s > 0u; s >>= 1) {
        if (t < s) reduce_buf[t] = max(reduce_buf[t], reduce_buf[t + s]);
        barrier();
    }
    const float r = reduce_buf[0];
    barrier();
    return r;
}
