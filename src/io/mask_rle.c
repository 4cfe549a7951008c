#include "io/mask_rle.h"

#include "core/error.h"
#include "io/rle.h"

#include <stddef.h>

int mask_rle_from_logits(const float *logits, int height, int width, uint8_t *scratch,
                         mask_rle *out, sam2_error *err) {
    if (height < 0 || width < 0)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "mask size %dx%d", width, height);
    const size_t hw = (size_t)height * (size_t)width;
    int64_t area = 0;
    for (size_t k = 0; k < hw; k++) area += scratch[k] = logits[k] > 0.0f;
    char *counts = NULL;
    const int rc = rle_encode(scratch, height, width, &counts, err);
    if (rc) return rc;
    out->counts = counts;
    out->area = area;
    out->height = height;
    out->width = width;
    return 0;
}
