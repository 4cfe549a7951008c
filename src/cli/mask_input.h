/* `sam2 segment --mask-input FILE`: the decoder's mask prompt, as low-resolution logits
 * [L][L] with L = image_size / 4.
 *
 * Two kinds of file are accepted:
 *  - a NumPy .npy of float32 logits shaped [L, L], [1, L, L] or [1, 1, L, L] (C order,
 *    little-endian): for instance the low_res_masks of an earlier prediction, which is what
 *    SAM2ImagePredictor.predict(mask_input=...) expects;
 *  - a PNG or JPEG mask of any size, foreground where any channel is >= 128. It is resized to
 *    L x L with antialiased bilinear filtering (the fraction of foreground each low-res pixel
 *    covers, v in [0, 1]) and turned into logits 20 v - 10: +10 inside, -10 outside (sigmoid
 *    0.99995 / 0.00005), a linear ramp across the edges. */
#ifndef SAM2_CLI_MASK_INPUT_H
#define SAM2_CLI_MASK_INPUT_H

#include "sam2.h"

/* Logit magnitude for a binary mask image. */
#define MASK_INPUT_LOGIT 10.0f

/* *out: malloc'd L*L floats. Fails with SAM2_ERR_ARGUMENT when an .npy has another shape. */
int mask_input_load(const char *path, int L, float **out, sam2_error *err);
/* The .npy part of mask_input_load, on the file's `size` bytes (outside input: fuzzed by
 * fuzz/fuzz_npy_mask.c); `path` names the file in messages. */
int mask_input_parse_npy(const char *path, const unsigned char *bytes, long size, int L,
                         float **out, sam2_error *err);

#endif
