/* Hiera trunk of the image encoder (modeling/backbones/hieradet.py).
 *
 * Input: the normalised image, planar [3][S][S] as the reference holds it. Output: the four
 * stage outputs, channels-last [S/4 >> s][S/4 >> s][C_s] with C_s = embed_dim * 2^s, written
 * into caller buffers. Temporaries come from `scratch` and are released before returning. */
#ifndef SAM2_MODEL_HIERA_H
#define SAM2_MODEL_HIERA_H

#include "core/arena.h"
#include "core/cancel.h"
#include "core/tap.h"
#include "model/net.h"

int hiera_forward(const sam2_net *net, const float *img_chw, float *const stage_out[4],
                  arena *scratch, const sam2_tap *tap, const cancel_check *cancel);

/* Multiply-accumulate count of one forward pass (for benchmarks), in FLOPs (2 per MAC). */
double hiera_flops(const sam2_net *net);

#endif
