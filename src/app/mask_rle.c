#include "app/mask_rle.h"

#include "core/error.h"

#include <stddef.h>

int mask_rle_from_logits(const float *logits, int height, int width, uint8_t *scratch,
                         mask_rle *out, sam2_error *err) {
    if (height < 0 || width < 0)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "mask size %dx%d", width, height);
    sam2_mask bitmap = {.bits = scratch};
    /* Threshold 0: the official demo's `> 0.0` (0, -0 and NaN are background). */
    sam2_mask_from_logits(logits, width, height, 0.0f, &bitmap);
    sam2_rle rle;
    const int rc = sam2_mask_to_rle(&bitmap, &rle, err);
    if (rc) return rc;
    out->counts = rle.counts;
    out->area = rle.area;
    out->height = rle.height;
    out->width = rle.width;
    return 0;
}
