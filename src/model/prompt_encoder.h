/* SAM prompt encoder (modeling/sam/prompt_encoder.py): points (boxes arrive as two corner points
 * labelled 2 and 3) become sparse tokens, a low-resolution mask becomes a dense embedding.
 * Computed on the net's backend (core/device.h); inputs and outputs are host arrays. */
#ifndef SAM2_MODEL_PROMPT_ENCODER_H
#define SAM2_MODEL_PROMPT_ENCODER_H

#include "core/tap.h"
#include "model/net.h"

/* Places the prompt encoder's weights on the net's backend (at load). */
int prompt_encoder_load(sam2_net *net);

/* Sparse embeddings of n points (model-pixel coordinates xy[2n], labels in {-1,0,1,2,3}) plus
 * the padding point the reference always appends: out [(n+1)][d_model]. -1 on failure. */
int prompt_encode_points(const sam2_net *net, const float *xy, const int *labels, int n,
                         float *out);

/* Dense embedding of a mask input [4E][4E] (logits): out [E][E][d_model]. -1 on failure. */
int prompt_encode_mask(const sam2_net *net, const float *mask, float *out);

#endif
