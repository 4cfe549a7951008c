/* The public mask API of include/sam2.h: thresholding logits into a bitmap and the COCO RLE
 * codec over it (io/rle.c does the encoding). */
#include "core/error.h"
#include "io/rle.h"
#include "sam2.h"

#include <stdlib.h>

int64_t sam2_mask_from_logits(const float *logits, int width, int height, float threshold,
                              sam2_mask *out) {
    if (!out || width < 0 || height < 0) return -1;
    const size_t hw = (size_t)width * (size_t)height;
    if (hw && (!logits || !out->bits)) return -1;
    out->width = width;
    out->height = height;
    int64_t area = 0;
    /* `>` keeps NaN (and, at threshold 0, both zeros) background, as the official demo does. */
    for (size_t k = 0; k < hw; k++) area += out->bits[k] = logits[k] > threshold;
    return area;
}

int sam2_mask_to_rle(const sam2_mask *mask, sam2_rle *out, sam2_error *err) {
    if (!mask || !out) return sam2_fail(err, SAM2_ERR_ARGUMENT, "mask_to_rle: NULL argument");
    out->counts = NULL;
    const size_t hw =
        mask->width > 0 && mask->height > 0 ? (size_t)mask->width * (size_t)mask->height : 0;
    int rc = rle_encode(mask->bits, mask->height, mask->width, &out->counts, err);
    if (rc) return rc;
    int64_t area = 0;
    for (size_t k = 0; k < hw; k++) area += mask->bits[k] != 0;
    out->width = mask->width;
    out->height = mask->height;
    out->area = area;
    return 0;
}

int sam2_rle_to_mask(const sam2_rle *rle, sam2_mask *mask, sam2_error *err) {
    if (!rle || !rle->counts || !mask)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "rle_to_mask: NULL argument");
    const int64_t hw = (int64_t)rle->width * rle->height;
    if (hw > 0 && !mask->bits) return sam2_fail(err, SAM2_ERR_ARGUMENT, "rle_to_mask: no bitmap");
    int rc = rle_decode(rle->counts, rle->height, rle->width, mask->bits, err);
    if (rc) return rc;
    mask->width = rle->width;
    mask->height = rle->height;
    return 0;
}

void sam2_rle_free(sam2_rle *rle) {
    if (!rle) return;
    free(rle->counts);
    rle->counts = NULL;
}
