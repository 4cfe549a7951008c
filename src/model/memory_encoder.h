/* Memory encoder (modeling/memory_encoder.py + SAM2Base._encode_new_memory): fuses the frame's
 * features with its predicted mask into the frame's memory features. */
#ifndef SAM2_MODEL_MEMORY_ENCODER_H
#define SAM2_MODEL_MEMORY_ENCODER_H

#include "core/arena.h"
#include "model/net.h"

/* pix_feat [E][E][d] (vision features, without no_mem_embed); mask_hr [S][S] logits at the
 * model's input resolution; binarize: mask > 0 instead of sigmoid (clicked frames);
 * object_score: the frame's object-score logit (<= 0 adds no_obj_embed_spatial).
 * out [E][E][mem_dim] float32 (the caller rounds to bfloat16 for storage). */
int memory_encoder_forward(const sam2_net *net, const float *pix_feat, const float *mask_hr,
                           bool binarize, float object_score, float *out, arena *scratch);

/* Places the encoder's weights on the net's backend (at load) and releases them. */
int memory_encoder_load(sam2_net *net);
void memory_encoder_unload(sam2_net *net);

double memory_encoder_flops(const sam2_net *net);

#endif
