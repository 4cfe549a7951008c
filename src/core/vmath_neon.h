/* Vectorised float math for the NEON kernels (AArch64): the operations of vmath_avx2.h with the
 * same polynomials and range reductions, so both sets round alike, on 4-lane registers
 * (n4_*), and the 8-lane type cpu_kernels_impl.h is written in (v8f: a pair of registers, which is
 * also the unrolling by two that hides the FMA latency). Accuracy as in vmath_avx2.h: exp
 * about one ulp, erf below 1e-7 absolute, NaN in, NaN out.
 *
 * Only for AArch64 translation units (cpu_kernels_neon.c); every function is static inline. */
#ifndef SAM2_CORE_VMATH_NEON_H
#define SAM2_CORE_VMATH_NEON_H

#include <arm_neon.h>

/* --- 4 lanes --------------------------------------------------------------------------------- */

/* exp(x). Below -87.3 the result is flushed to 0 (the true value is subnormal), above 88.72 it
 * is +inf; NaN stays NaN. */
static inline float32x4_t n4_exp(float32x4_t x) {
    const float32x4_t hi = vdupq_n_f32(88.7228394f), lo = vdupq_n_f32(-87.3365448f);
    /* NEON's min and max return NaN when either operand is NaN: NaN survives the clamp. */
    float32x4_t xc = vmaxq_f32(lo, vminq_f32(hi, x));
    float32x4_t n = vrndnq_f32(vmulq_f32(xc, vdupq_n_f32(1.44269504f)));
    /* r = x - n*ln2 in two steps (Cody-Waite), exact enough for |n| <= 128. */
    float32x4_t r = vfmsq_f32(xc, n, vdupq_n_f32(0.693359375f));
    r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t p = vdupq_n_f32(1.383683003e-03f);
    p = vfmaq_f32(vdupq_n_f32(8.374815715e-03f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.166822585e-02f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.666642017e-01f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.999999208e-01f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.000000036e+00f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    /* 2^n in two halves so that n = 128 does not overflow the exponent field. n is a whole
     * number already (NaN converts to 0; the NaN is carried by p). */
    int32x4_t ni = vcvtq_s32_f32(n);
    int32x4_t n1 = vshrq_n_s32(ni, 1);
    int32x4_t n2 = vsubq_s32(ni, n1);
    float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, vdupq_n_s32(127)), 23));
    float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, vdupq_n_s32(127)), 23));
    float32x4_t y = vmulq_f32(vmulq_f32(p, s1), s2);
    /* Saturate the ends: 0 below the range, +inf above it. */
    y = vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(y), vcltq_f32(x, lo)));
    return vbslq_f32(vcgtq_f32(x, hi), vdupq_n_f32(__builtin_inff()), y);
}

/* exp(x) for x <= 0 (softmax after subtracting the maximum): the rounding of x*log2(e) and 2^n
 * come from one magic-number add, no overflow handling. Below -87.3 the result is 0. */
static inline float32x4_t n4_exp_nonpos(float32x4_t x) {
    const float32x4_t lo = vdupq_n_f32(-87.3365448f);
    /* 1.5 * 2^23 + 127: adding it rounds to an integer n held in the low mantissa bits, already
     * biased by 127, so shifting the bits left by 23 gives the float 2^n. */
    const float32x4_t magic = vdupq_n_f32(12583039.0f);
    float32x4_t xc = vmaxq_f32(lo, x);
    float32x4_t t = vfmaq_f32(magic, xc, vdupq_n_f32(1.44269504f));
    float32x4_t n = vsubq_f32(t, magic);
    float32x4_t r = vfmsq_f32(xc, n, vdupq_n_f32(0.693359375f));
    r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t p = vdupq_n_f32(1.383683003e-03f);
    p = vfmaq_f32(vdupq_n_f32(8.374815715e-03f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.166822585e-02f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.666642017e-01f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.999999208e-01f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.000000036e+00f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    float32x4_t scale = vreinterpretq_f32_s32(vshlq_n_s32(vreinterpretq_s32_f32(t), 23));
    float32x4_t y = vmulq_f32(p, scale);
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(y), vcltq_f32(x, lo)));
}

/* erf(x), absolute error below 1e-7 (the polynomials of vmath_avx2.h). */
static inline float32x4_t n4_erf(float32x4_t x) {
    const uint32x4_t sign = vdupq_n_u32(0x80000000u);
    float32x4_t ax = vabsq_f32(x);
    /* |x| < 1: x * P(x^2) */
    float32x4_t t = vmulq_f32(x, x);
    float32x4_t ps = vdupq_n_f32(7.854221095e-05f);
    ps = vfmaq_f32(vdupq_n_f32(-8.010311287e-04f), ps, t);
    ps = vfmaq_f32(vdupq_n_f32(5.188342501e-03f), ps, t);
    ps = vfmaq_f32(vdupq_n_f32(-2.685382090e-02f), ps, t);
    ps = vfmaq_f32(vdupq_n_f32(1.128358541e-01f), ps, t);
    ps = vfmaq_f32(vdupq_n_f32(-3.761262586e-01f), ps, t);
    ps = vfmaq_f32(vdupq_n_f32(1.128379166e+00f), ps, t);
    float32x4_t small = vmulq_f32(x, ps);
    uint32x4_t is_small = vcltq_f32(ax, vdupq_n_f32(1.0f));
    if (vminvq_u32(is_small) == 0xffffffffu) return small;
    /* |x| >= 1: sign(x) * (1 - exp(-x^2) * Q(1/|x| - 0.625)), |x| clamped to [1, 3.95]. */
    float32x4_t xl = vminq_f32(vdupq_n_f32(3.95f), vmaxq_f32(vdupq_n_f32(1.0f), ax));
    float32x4_t u = vsubq_f32(vdivq_f32(vdupq_n_f32(1.0f), xl), vdupq_n_f32(0.625f));
    float32x4_t q = vdupq_n_f32(-1.074922765e-02f);
    q = vfmaq_f32(vdupq_n_f32(-1.890782158e-02f), q, u);
    q = vfmaq_f32(vdupq_n_f32(4.569836813e-02f), q, u);
    q = vfmaq_f32(vdupq_n_f32(-4.775931896e-02f), q, u);
    q = vfmaq_f32(vdupq_n_f32(2.316645286e-02f), q, u);
    q = vfmaq_f32(vdupq_n_f32(4.379733375e-02f), q, u);
    q = vfmaq_f32(vdupq_n_f32(-1.723908985e-01f), q, u);
    q = vfmaq_f32(vdupq_n_f32(3.822834737e-01f), q, u);
    q = vfmaq_f32(vdupq_n_f32(3.059529773e-01f), q, u);
    float32x4_t e = n4_exp(vnegq_f32(vmulq_f32(xl, xl)));
    float32x4_t big = vfmsq_f32(vdupq_n_f32(1.0f), e, q);
    /* copy the sign of x */
    big = vreinterpretq_f32_u32(
        vorrq_u32(vreinterpretq_u32_f32(big), vandq_u32(sign, vreinterpretq_u32_f32(x))));
    float32x4_t y = vbslq_f32(is_small, small, big);
    /* NaN in, NaN out (the clamps above may have replaced it). */
    return vbslq_f32(vceqq_f32(x, x), y, x);
}

/* Loads / stores of the first n lanes (n < 4 may be 0 or negative: nothing); the other lanes
 * read as 0. For the edges of the micro-kernel's tiles. */
static inline float32x4_t n4_load_first(const float *p, int n) {
    if (n >= 4) return vld1q_f32(p);
    float32x4_t v = vdupq_n_f32(0.0f);
    if (n > 0) v = vld1q_lane_f32(p, v, 0);
    if (n > 1) v = vld1q_lane_f32(p + 1, v, 1);
    if (n > 2) v = vld1q_lane_f32(p + 2, v, 2);
    return v;
}
static inline void n4_store_first(float *p, float32x4_t v, int n) {
    if (n >= 4) {
        vst1q_f32(p, v);
        return;
    }
    if (n > 0) vst1q_lane_f32(p, v, 0);
    if (n > 1) vst1q_lane_f32(p + 1, v, 1);
    if (n > 2) vst1q_lane_f32(p + 2, v, 2);
}

/* --- 8 lanes as a pair of registers ---------------------------------------------------------- */

typedef struct v8f {
    float32x4_t lo, hi;
} v8f;

static inline v8f v8_make(float32x4_t lo, float32x4_t hi) {
    v8f r = {lo, hi};
    return r;
}
static inline v8f v8_load(const float *p) {
    return v8_make(vld1q_f32(p), vld1q_f32(p + 4));
}
static inline void v8_store(float *p, v8f v) {
    vst1q_f32(p, v.lo);
    vst1q_f32(p + 4, v.hi);
}
static inline v8f v8_set1(float x) {
    return v8_make(vdupq_n_f32(x), vdupq_n_f32(x));
}
static inline v8f v8_zero(void) {
    return v8_set1(0.0f);
}
static inline v8f v8_add(v8f a, v8f b) {
    return v8_make(vaddq_f32(a.lo, b.lo), vaddq_f32(a.hi, b.hi));
}
static inline v8f v8_sub(v8f a, v8f b) {
    return v8_make(vsubq_f32(a.lo, b.lo), vsubq_f32(a.hi, b.hi));
}
static inline v8f v8_mul(v8f a, v8f b) {
    return v8_make(vmulq_f32(a.lo, b.lo), vmulq_f32(a.hi, b.hi));
}
static inline v8f v8_div(v8f a, v8f b) {
    return v8_make(vdivq_f32(a.lo, b.lo), vdivq_f32(a.hi, b.hi));
}
/* max(a, b); NaN when either is NaN. */
static inline v8f v8_max(v8f a, v8f b) {
    return v8_make(vmaxq_f32(a.lo, b.lo), vmaxq_f32(a.hi, b.hi));
}
/* a * b + c, one rounding. */
static inline v8f v8_fmadd(v8f a, v8f b, v8f c) {
    return v8_make(vfmaq_f32(c.lo, a.lo, b.lo), vfmaq_f32(c.hi, a.hi, b.hi));
}
/* x < 0 ? 0 : x, so NaN passes through. */
static inline float32x4_t n4_relu(float32x4_t x) {
    return vreinterpretq_f32_u32(
        vbicq_u32(vreinterpretq_u32_f32(x), vcltq_f32(x, vdupq_n_f32(0.0f))));
}
static inline v8f v8_relu(v8f x) {
    return v8_make(n4_relu(x.lo), n4_relu(x.hi));
}
static inline v8f v8_exp(v8f x) {
    return v8_make(n4_exp(x.lo), n4_exp(x.hi));
}
static inline v8f v8_exp_nonpos(v8f x) {
    return v8_make(n4_exp_nonpos(x.lo), n4_exp_nonpos(x.hi));
}
static inline v8f v8_erf(v8f x) {
    return v8_make(n4_erf(x.lo), n4_erf(x.hi));
}
static inline float v8_hsum(v8f v) {
    return vaddvq_f32(vaddq_f32(v.lo, v.hi));
}
static inline float v8_hmax(v8f v) {
    return vmaxvq_f32(vmaxq_f32(v.lo, v.hi));
}

#endif
