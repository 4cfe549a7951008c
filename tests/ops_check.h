/* Helpers shared by the kernel tests (test_ops*.c): seeded random data and error measures. */
#ifndef SAM2_TESTS_OPS_CHECK_H
#define SAM2_TESTS_OPS_CHECK_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t ops_rng_state = 0x9E3779B97F4A7C15ull;

static inline void ops_seed(uint64_t s) {
    ops_rng_state = s * 0x9E3779B97F4A7C15ull + 1;
}

/* Uniform in [-1, 1). */
static inline float ops_rand(void) {
    ops_rng_state ^= ops_rng_state << 13;
    ops_rng_state ^= ops_rng_state >> 7;
    ops_rng_state ^= ops_rng_state << 17;
    return (float)((ops_rng_state >> 40) * (1.0 / 8388608.0)) - 1.0f;
}

static inline float *ops_alloc(size_t n) {
    float *p = malloc(sizeof(float) * (n ? n : 1));
    if (!p) {
        fprintf(stderr, "out of memory (%zu floats)\n", n);
        abort();
    }
    return p;
}

/* n random floats in [-scale, scale). */
static inline float *ops_random(size_t n, float scale) {
    float *p = ops_alloc(n);
    for (size_t i = 0; i < n; i++) p[i] = scale * ops_rand();
    return p;
}

static inline float *ops_copy(const float *src, size_t n) {
    float *p = ops_alloc(n);
    for (size_t i = 0; i < n; i++) p[i] = src[i];
    return p;
}

/* max|x - ref| / max(1, max|ref|); +inf when x has a NaN where ref has none. */
static inline double ops_rel_err(const float *x, const float *ref, size_t n) {
    double maxref = 1.0, maxdiff = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]) != isnan(ref[i])) return INFINITY;
        if (isnan(ref[i])) continue;
        if (fabs(ref[i]) > maxref) maxref = fabs(ref[i]);
        double d = fabs((double)x[i] - ref[i]);
        if (d > maxdiff) maxdiff = d;
    }
    return maxdiff / maxref;
}

/* Number of elements whose bits differ. */
static inline size_t ops_bit_diffs(const float *x, const float *ref, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        union {
            float f;
            uint32_t u;
        } a = {x[i]}, b = {ref[i]};
        bad += a.u != b.u;
    }
    return bad;
}

#endif
