/* One object's mask on one frame as COCO RLE: the one mask type of the server (its inference
 * seam, mask store, responses and exports) and of `sam2 track`'s results, and the one way a
 * tracker's logits become one.
 *
 * It lives in the app-support library with the export formats (app/mask_export.h): libsam2's own
 * API gives logits, bitmaps and sam2_rle (sam2.h), not these records. */
#ifndef SAM2_APP_MASK_RLE_H
#define SAM2_APP_MASK_RLE_H

#include "sam2.h"

#include <stdint.h>

typedef struct mask_rle {
    int id;       /* the object's id */
    float score;  /* object-score logit (> 0: the object is present) */
    int64_t area; /* foreground pixels */
    char *counts; /* COCO compressed RLE (io/rle.h), or NULL where a holder keeps it elsewhere */
    int height, width; /* the RLE's "size": [height, width] */
} mask_rle;

/* sam2_mask_from_logits at threshold 0 (the official demo's: 0, -0 and NaN are background)
 * then sam2_mask_to_rle (include/sam2.h), for a record that also carries the object's id and
 * score. Thresholds height x width row-major logits into scratch (height * width bytes of 0/1),
 * then fills out: counts (malloc'd, the caller frees it), area, height and width; id and score are
 * the caller's. */
int mask_rle_from_logits(const float *logits, int height, int width, uint8_t *scratch,
                         mask_rle *out, sam2_error *err);

#endif
