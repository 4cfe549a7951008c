/* Element types of device tensors. Compute is float32; float16 and bfloat16 exist for storage
 * (weights, stored memories) and are converted by dev_copy. */
#ifndef SAM2_CORE_DTYPE_H
#define SAM2_CORE_DTYPE_H

#include <stddef.h>
#include <stdint.h>

typedef enum sam2_dtype { SAM2_F32 = 0, SAM2_F16 = 1, SAM2_BF16 = 2 } sam2_dtype;

static inline size_t sam2_dtype_size(sam2_dtype t) {
    return t == SAM2_F32 ? 4 : 2;
}

static inline const char *sam2_dtype_name(sam2_dtype t) {
    return t == SAM2_F32 ? "f32" : t == SAM2_F16 ? "f16" : "bf16";
}

/* Conversions used by the host backends (round to nearest even, as torch does). */
uint16_t sam2_f32_to_bf16(float f);
float sam2_bf16_to_f32(uint16_t h);
uint16_t sam2_f32_to_f16(float f);
float sam2_f16_to_f32(uint16_t h);

#endif
