/* Image encoder = Hiera trunk + FPN neck (modeling/backbones/image_encoder.py), followed by the
 * two 1x1 convolutions SAM2Base.forward_image applies to the high-resolution levels for the SAM
 * decoder. Output buffers are owned by the caller (one set per image / video frame). */
#ifndef SAM2_MODEL_IMAGE_ENCODER_H
#define SAM2_MODEL_IMAGE_ENCODER_H

#include "core/arena.h"
#include "core/cancel.h"
#include "core/tap.h"
#include "model/net.h"

typedef struct image_features {
    /* backbone_fpn after scalp, channels-last:
     *   level 0: [S/4][S/4][d/8]   (conv_s0 of neck level 0; d when high-res features are off)
     *   level 1: [S/8][S/8][d/4]   (conv_s1 of neck level 1)
     *   level 2: [S/16][S/16][d]   (= vision_features) */
    float *fpn[3];
} image_features;

/* Floats each level of image_features needs. */
size_t image_features_level_floats(const sam2_net *net, int level);

/* Places the encoder's weights (trunk, neck, conv_s0/s1) on the net's backend at load. */
int image_encoder_load(sam2_net *net);

/* img: normalised image, planar [3][S][S] (as the reference's input tensor). out's levels may
 * share storage with img: the trunk has read the whole image before the neck writes a level. */
int image_encoder_forward(const sam2_net *net, const float *img_chw, image_features *out,
                          arena *scratch, const sam2_tap *tap, const cancel_check *cancel);

/* FLOPs of one pass (trunk + neck + high-res convs). */
double image_encoder_flops(const sam2_net *net);

#endif
