/* sam2_mask_input_from_mask (include/sam2.h): a full-size mask as a prompt's low-resolution
 * mask_input, resized with the default backend's bilinear kernel (PyTorch's antialiased
 * F.interpolate), so every caller turns masks into prompts the same way. */
#include "core/error.h"
#include "core/ops.h"

#include <stdlib.h>

int sam2_mask_input_from_mask(const uint8_t *mask, int width, int height, int size, float logit,
                              float *out, sam2_error *err) {
    if (!mask || !out || width <= 0 || height <= 0 || size <= 0)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "mask input: no mask, or a size not positive");
    const size_t hw = (size_t)width * (size_t)height;
    float *fg = malloc(sizeof(float) * hw);
    if (!fg)
        return sam2_fail(err, SAM2_ERR_NOMEM, "mask input: out of memory for %dx%d", width, height);
    for (size_t i = 0; i < hw; i++) fg[i] = mask[i] ? 1.0f : 0.0f;
    sam2_backend_default()->resize_bilinear(out, fg, 1, height, width, size, size, 1);
    free(fg);
    for (size_t i = 0; i < (size_t)size * (size_t)size; i++)
        out[i] = logit * (2.0f * out[i] - 1.0f);
    return SAM2_OK;
}
