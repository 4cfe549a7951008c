// Loads and stores of float32, float16, bfloat16 and uint8 tensors, with the conversions of the
// reference backend: any type -> float32 exactly (uint8 gives 0..255); float32 -> float16 and
// bfloat16 rounded to nearest even with NaN kept (a quiet NaN). Done on the bits, so the result
// does not depend on a device's conversion instructions or rounding mode.
// Types: 0 float32, 1 float16, 2 bfloat16, 3 uint8 (the order of sam2_dtype).

float f16_bits_to_float(uint h) {
    const uint sign = (h & 0x8000u) << 16;
    const uint e = (h >> 10) & 0x1fu;
    uint m = h & 0x3ffu;
    if (e == 0x1fu) return uintBitsToFloat(sign | 0x7f800000u | (m << 13));
    if (e != 0u) return uintBitsToFloat(sign | ((e + 112u) << 23) | (m << 13));
    if (m == 0u) return uintBitsToFloat(sign);
    // subnormal half: m * 2^-24, exact in float
    const float v = float(m) * 5.9604644775390625e-8;
    return sign != 0u ? -v : v;
}

uint float_to_f16_bits(float f) {
    const uint u = floatBitsToUint(f);
    const uint sign = (u >> 16) & 0x8000u;
    const uint a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return sign | 0x7e00u;  // NaN
    if (a >= 0x477ff000u) return sign | 0x7c00u; // rounds to infinity
    if (a < 0x38800000u) {                       // subnormal or zero in half
        const float scaled = uintBitsToFloat(a) * 16777216.0; // exact: a power of two
        return sign | uint(roundEven(scaled));
    }
    uint v = a - (112u << 23);
    v += 0xfffu + ((v >> 13) & 1u);
    return sign | (v >> 13);
}

float bf16_bits_to_float(uint b) {
    return uintBitsToFloat(b << 16);
}

uint float_to_bf16_bits(float f) {
    uint u = floatBitsToUint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u; // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return u >> 16;
}
