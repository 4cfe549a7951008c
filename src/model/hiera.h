/* Hiera trunk of the image encoder (modeling/backbones/hieradet.py), on the compute seam.
 *
 * Input: the normalised image on the backend, planar [3][S][S] as the reference holds it.
 * Output: the four stage outputs, channels-last [S/4 >> s][S/4 >> s][C_s] with
 * C_s = embed_dim * 2^s, written into the caller's tensors. Temporaries come from `e` and are
 * released before returning. */
#ifndef SAM2_MODEL_HIERA_H
#define SAM2_MODEL_HIERA_H

#include "core/cancel.h"
#include "core/tap.h"
#include "model/encoder_seam.h"
#include "model/net.h"

/* Places the trunk's weights on the net's backend and computes its positional embedding. */
int hiera_load(sam2_net *net);

int hiera_forward(const sam2_net *net, enc_ctx *e, dev_tensor img, const dev_tensor stage_out[4],
                  const sam2_tap *tap, const cancel_check *cancel);

/* Multiply-accumulate count of one forward pass (for benchmarks), in FLOPs (2 per MAC). */
double hiera_flops(const sam2_net *net);

#endif
