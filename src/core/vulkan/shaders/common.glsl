// Shared by the compute shaders: flat workgroup index and float math accurate to about one ulp
// (the same polynomials as src/core/vmath.h), so results do not depend on how precise a
// device's built-in exp is. Vulkan leaves exp() at 3 + 2|x| ulp, which is not enough for GELU's
// and sigmoid's tolerances.

// The flat index of this workgroup when a 1-D problem is spread over x and y
// (vulkan_groups_1d on the host).
uint flat_group() {
    return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
}

#define POS_INF uintBitsToFloat(0x7f800000u)

// exp(x): Cody-Waite reduction by ln 2, degree-6 polynomial; 0 below -87.34, +inf above 88.72.
float exp_accurate(float x) {
    if (isnan(x)) return x;
    if (x > 88.7228394) return POS_INF;
    if (x < -87.3365448) return 0.0;
    float n = roundEven(x * 1.44269504);
    // `precise`: the two-step reduction is exact only as written (a compiler may otherwise
    // merge n hi + n lo into n ln2 and lose up to 4e-6 near the ends of the range)
    precise float r = x - n * 0.693359375;
    r = r - n * -2.12194440e-4;
    float p = 1.383683003e-03;
    p = p * r + 8.374815715e-03;
    p = p * r + 4.166822585e-02;
    p = p * r + 1.666642017e-01;
    p = p * r + 4.999999208e-01;
    p = p * r + 1.000000036e+00;
    p = p * r + 1.0;
    // 2^n in two halves so that n = 128 does not overflow the exponent field
    int ni = int(n);
    int n1 = ni >> 1;
    int n2 = ni - n1;
    return p * intBitsToFloat((n1 + 127) << 23) * intBitsToFloat((n2 + 127) << 23);
}

// erf(x), absolute error below 1e-7: x * P(x^2) below 1, 1 - exp(-x^2) Q(1/x - 0.625) above.
float erf_accurate(float x) {
    if (isnan(x)) return x;
    float ax = abs(x);
    if (ax < 1.0) {
        float t = x * x;
        float ps = 7.854221095e-05;
        ps = ps * t + -8.010311287e-04;
        ps = ps * t + 5.188342501e-03;
        ps = ps * t + -2.685382090e-02;
        ps = ps * t + 1.128358541e-01;
        ps = ps * t + -3.761262586e-01;
        ps = ps * t + 1.128379166e+00;
        return x * ps;
    }
    float xl = min(ax, 3.95);
    float u = 1.0 / xl - 0.625;
    float q = -1.074922765e-02;
    q = q * u + -1.890782158e-02;
    q = q * u + 4.569836813e-02;
    q = q * u + -4.775931896e-02;
    q = q * u + 2.316645286e-02;
    q = q * u + 4.379733375e-02;
    q = q * u + -1.723908985e-01;
    q = q * u + 3.822834737e-01;
    q = q * u + 3.059529773e-01;
    float e = exp_accurate(-(xl * xl));
    float big = 1.0 - e * q;
    return x < 0.0 ? -big : big;
}
