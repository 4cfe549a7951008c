/* Internal entry points of the image predictor that also report intermediate tensors through a
 * tap (used by the parity tool); the public functions call these with tap = NULL. */
#ifndef SAM2_PREDICT_IMAGE_PREDICTOR_H
#define SAM2_PREDICT_IMAGE_PREDICTOR_H

#include "core/tap.h"
#include "sam2.h"

int sam2_image_set_tapped(sam2_image_predictor *pred, const uint8_t *rgb, int width, int height,
                          int stride, const sam2_tap *tap, sam2_error *err);
int sam2_image_predict_tapped(sam2_image_predictor *pred, const sam2_prompt *prompt,
                              sam2_masks *out, const sam2_tap *tap, sam2_error *err);

/* SAM2ImagePredictor's transform: uint8 RGB -> float/255 -> bilinear antialiased resize to S x S
 * -> normalise with the ImageNet mean/std; out is planar [3][S][S]. scratch holds
 * 3*height*S + width floats. */
void sam2_image_preprocess(const uint8_t *rgb, int width, int height, int stride, int S, float *out,
                           float *scratch);

#endif
