/* Vectorised float math for the AVX2 + FMA kernels: exp and erf on 8 lanes, accurate to about
 * one ulp of the result (erf: absolute error below 1e-7 everywhere), NaN-propagating, and the
 * 8-lane operations (v8f, v8_*) that cpu_kernels_impl.h is written in. vmath_neon.h implements the
 * same operations with the same polynomials on NEON.
 *
 * The polynomial coefficients were fitted for this project (near-minimax, iteratively
 * reweighted least squares in float64):
 *  - exp(r) on [-ln2/2, ln2/2], degree 6: relative error 1.9e-9 before float rounding;
 *  - erf(x)/x as a polynomial in x^2 on [0, 1], degree 6: relative error 1.2e-9;
 *  - erfc(x)*exp(x^2) as a polynomial in (1/x - 0.625) on [1, 3.95], degree 8: relative error
 *    6.1e-8, so erf = 1 - exp(-x^2)*that is within 1e-8 absolute.
 * Beyond |x| = 3.92 erf rounds to +-1 in float.
 *
 * Only for translation units compiled with AVX2 and FMA enabled (cpu_kernels_avx2.c); every
 * function is static inline. */
#ifndef SAM2_CORE_VMATH_AVX2_H
#define SAM2_CORE_VMATH_AVX2_H

#include <immintrin.h>

typedef __m256 v8f;

static inline v8f v8_load(const float *p) {
    return _mm256_loadu_ps(p);
}
static inline void v8_store(float *p, v8f v) {
    _mm256_storeu_ps(p, v);
}
static inline v8f v8_set1(float x) {
    return _mm256_set1_ps(x);
}
static inline v8f v8_zero(void) {
    return _mm256_setzero_ps();
}
static inline v8f v8_add(v8f a, v8f b) {
    return _mm256_add_ps(a, b);
}
static inline v8f v8_sub(v8f a, v8f b) {
    return _mm256_sub_ps(a, b);
}
static inline v8f v8_mul(v8f a, v8f b) {
    return _mm256_mul_ps(a, b);
}
static inline v8f v8_div(v8f a, v8f b) {
    return _mm256_div_ps(a, b);
}
/* max(a, b); with a NaN operand, b (x86 semantics; NEON returns the NaN). */
static inline v8f v8_max(v8f a, v8f b) {
    return _mm256_max_ps(a, b);
}
/* a * b + c, one rounding. */
static inline v8f v8_fmadd(v8f a, v8f b, v8f c) {
    return _mm256_fmadd_ps(a, b, c);
}
/* x < 0 ? 0 : x, so NaN passes through. */
static inline v8f v8_relu(v8f x) {
    return _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ), x);
}

/* exp(x) for 8 lanes. Below -87.3 the result is flushed to 0 (the true value is subnormal),
 * above 88.72 it is +inf; NaN stays NaN. */
static inline __m256 v8_exp(__m256 x) {
    const __m256 hi = _mm256_set1_ps(88.7228394f), lo = _mm256_set1_ps(-87.3365448f);
    /* min/max return their second operand when one is NaN: keep x second so NaN survives. */
    __m256 xc = _mm256_max_ps(lo, _mm256_min_ps(hi, x));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    /* r = x - n*ln2 in two steps (Cody-Waite), exact enough for |n| <= 128. */
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), xc);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.383683003e-03f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.374815715e-03f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.166822585e-02f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.666642017e-01f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.999999208e-01f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.000000036e+00f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    /* 2^n built in two halves so that n = 128 (x close to 88.72) does not overflow the
     * exponent field: 2^n = 2^(n/2) * 2^(n - n/2). */
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1);
    __m256i n2 = _mm256_sub_epi32(ni, n1);
    __m256 s1 =
        _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    __m256 s2 =
        _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    /* Saturate the ends: 0 below the range, +inf above it. */
    y = _mm256_andnot_ps(_mm256_cmp_ps(x, lo, _CMP_LT_OQ), y);
    y = _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(x, hi, _CMP_GT_OQ));
    return y;
}

/* exp(x) for x <= 0 (softmax after subtracting the maximum): the same polynomial with a
 * cheaper reduction (the rounding of x*log2(e) and 2^n come from one magic-number add) and no
 * overflow handling. Below -87.3 the result is 0; NaN stays NaN. */
static inline __m256 v8_exp_nonpos(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.3365448f);
    /* 1.5 * 2^23 + 127: adding it rounds to an integer n held in the low mantissa bits, already
     * biased by 127, so shifting the bits left by 23 gives the float 2^n. */
    const __m256 magic = _mm256_set1_ps(12583039.0f);
    __m256 xc = _mm256_max_ps(lo, x);
    __m256 t = _mm256_fmadd_ps(xc, _mm256_set1_ps(1.44269504f), magic);
    __m256 n = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), xc);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.383683003e-03f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.374815715e-03f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.166822585e-02f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.666642017e-01f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.999999208e-01f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.000000036e+00f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(t), 23));
    __m256 y = _mm256_mul_ps(p, scale);
    return _mm256_andnot_ps(_mm256_cmp_ps(x, lo, _CMP_LT_OQ), y);
}

/* erf(x) for 8 lanes, absolute error below 1e-7. */
static inline __m256 v8_erf(__m256 x) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 ax = _mm256_andnot_ps(sign, x);
    /* |x| < 1: x * P(x^2) */
    __m256 t = _mm256_mul_ps(x, x);
    __m256 ps = _mm256_set1_ps(7.854221095e-05f);
    ps = _mm256_fmadd_ps(ps, t, _mm256_set1_ps(-8.010311287e-04f));
    ps = _mm256_fmadd_ps(ps, t, _mm256_set1_ps(5.188342501e-03f));
    ps = _mm256_fmadd_ps(ps, t, _mm256_set1_ps(-2.685382090e-02f));
    ps = _mm256_fmadd_ps(ps, t, _mm256_set1_ps(1.128358541e-01f));
    ps = _mm256_fmadd_ps(ps, t, _mm256_set1_ps(-3.761262586e-01f));
    ps = _mm256_fmadd_ps(ps, t, _mm256_set1_ps(1.128379166e+00f));
    __m256 small = _mm256_mul_ps(x, ps);
    __m256 is_small = _mm256_cmp_ps(ax, _mm256_set1_ps(1.0f), _CMP_LT_OQ);
    if (_mm256_movemask_ps(is_small) == 0xff) return small;
    /* |x| >= 1: sign(x) * (1 - exp(-x^2) * Q(1/|x| - 0.625)), |x| clamped to [1, 3.95]. */
    __m256 xl = _mm256_min_ps(_mm256_set1_ps(3.95f), _mm256_max_ps(_mm256_set1_ps(1.0f), ax));
    __m256 u = _mm256_sub_ps(_mm256_div_ps(_mm256_set1_ps(1.0f), xl), _mm256_set1_ps(0.625f));
    __m256 q = _mm256_set1_ps(-1.074922765e-02f);
    q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(-1.890782158e-02f));
    q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(4.569836813e-02f));
    q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(-4.775931896e-02f));
    q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(2.316645286e-02f));
    q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(4.379733375e-02f));
    q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(-1.723908985e-01f));
    q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(3.822834737e-01f));
    q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(3.059529773e-01f));
    __m256 e = v8_exp(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(xl, xl)));
    __m256 big = _mm256_fnmadd_ps(e, q, _mm256_set1_ps(1.0f));
    big = _mm256_or_ps(big, _mm256_and_ps(sign, x)); /* copy the sign of x */
    __m256 y = _mm256_blendv_ps(big, small, is_small);
    /* NaN in, NaN out (the clamps above replaced it). */
    return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

/* Horizontal reductions of 8 lanes. */
static inline float v8_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
static inline float v8_hmax(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#endif
