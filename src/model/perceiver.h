/* EdgeTAM's Perceiver memory compressor (modeling/perceiver.py, PerceiverResampler): one memory
 * frame (the memory encoder's [E][E][dim] output) becomes num_latents global latents (1D path:
 * every latent attends to the whole map, keys and values carrying the memory's sine encoding)
 * followed by num_latents_2d window latents (2D path: latent k attends only to the 16 tokens of
 * window k, no position encoding), each through the same PerceiverEncoderLayers, then the final
 * LayerNorm. Their position encoding is constant (net->perceiver_pos).
 *
 * One object per call: that is the official computation for one object, and what it would
 * compute for a batch if forward_2d did not fail there (EdgeTAM issue #15). */
#ifndef SAM2_MODEL_PERCEIVER_H
#define SAM2_MODEL_PERCEIVER_H

#include "core/arena.h"
#include "core/tap.h"
#include "model/net.h"

/* x, pos: [E][E][dim] channels-last (pos must be net->mem_pos: its window order is placed at
 * load); out: [num_latents + num_latents_2d][dim]. Taps:
 * perceiver_1d_layer<l>, perceiver_2d_layer<l> (latents after layer l, before the norm). */
int perceiver_forward(const sam2_net *net, const float *x, const float *pos, float *out,
                      arena *scratch, const sam2_tap *tap);

/* Places the weights and the window-ordered position encoding on the net's backend (at load;
 * nothing without a Perceiver) and releases them. */
int perceiver_load(sam2_net *net);
void perceiver_unload(sam2_net *net);

/* FLOPs of one call (projections and attention products). */
double perceiver_flops(const sam2_net *net);

#endif
