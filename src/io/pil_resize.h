/* Model-input preparation of the official video loaders, reproduced bit for bit.
 *
 * The official JPEG-folder loader resizes each frame with PIL's Image.resize((S, S)) and its
 * default BICUBIC filter, then normalises it. sam2_pil_resize_rgb8() is an exact reimplementation
 * of Pillow 9.4's two-pass fixed-point resampler for 8-bit RGB (libImaging/Resample.c): separable
 * cubic convolution (a = -0.5, support 2, widened by the scale factor when shrinking),
 * coefficients computed in double, normalised per output pixel, converted to fixed point with
 * 22 fractional bits, a horizontal pass then a vertical pass, each rounded and clipped to
 * 8 bits; a pass whose dimension is unchanged is skipped, as Pillow does. */
#ifndef SAM2_IO_PIL_RESIZE_H
#define SAM2_IO_PIL_RESIZE_H

#include "sam2.h"

#include <stddef.h>
#include <stdint.h>

/* Resizes src (sw x sh RGB, rows of src_stride bytes) to dst (dw x dh, rows of dst_stride
 * bytes), exactly as Pillow 9.4's Image.resize((dw, dh), Image.BICUBIC) on an RGB image.
 * Sizes from 1 to 65535 per side. Fails with SAM2_ERR_ARGUMENT on bad sizes or NULL buffers,
 * SAM2_ERR_NOMEM when the temporary buffers cannot be allocated. */
int sam2_pil_resize_rgb8(const uint8_t *src, int sw, int sh, size_t src_stride, uint8_t *dst,
                         int dw, int dh, size_t dst_stride, sam2_error *err);

/* How u8 -> [0,1] is computed before (x - mean) / std. Both official loaders use float32 for
 * the subtraction and the division by std; they differ in the division by 255. */
typedef enum {
    /* JPEG-folder loader (misc.py _load_img_as_tensor): numpy u8 / 255.0 in float64, then cast
     * to float32. This is what the golden `preprocessed` tensors hold. */
    SAM2_NORM_DIV255_F64 = 0,
    /* Video-file loader (decord): tensor.float() / 255.0 in float32. */
    SAM2_NORM_DIV255_F32 = 1,
} sam2_norm_mode;

/* ImageNet statistics the official predictor normalises with (float32). */
extern const float SAM2_IMG_MEAN[3];
extern const float SAM2_IMG_STD[3];

/* rgb: w x h interleaved RGB (rows of stride bytes) -> out: planar [3][h][w] float32 with
 * out[c][y][x] = (u8 / 255 - mean[c]) / std[c], the float operations ordered as the official
 * loader orders them (see sam2_norm_mode), so results are bit-identical. */
void sam2_normalize_rgb8(const uint8_t *rgb, int w, int h, size_t stride, sam2_norm_mode mode,
                         float *out);

#endif
