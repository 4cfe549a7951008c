/* Memory attention (modeling/memory_attention.py): conditions the current frame's features on
 * the memory bank (past frames' memory features and object pointers). Self-attention and
 * cross-attention use 2-D axial RoPE; object-pointer tokens (the last num_obj_ptr_tokens memory
 * tokens) are excluded from RoPE. */
#ifndef SAM2_MODEL_MEMORY_ATTENTION_H
#define SAM2_MODEL_MEMORY_ATTENTION_H

#include "core/arena.h"
#include "core/cancel.h"
#include "core/tap.h"
#include "model/net.h"

/* One pass in two parts. curr, curr_pos: [P][d] (P = E*E); memory, memory_pos: [M][mem_dim];
 * out: [P][d]. The frame part depends on the current frame only (the input and the first layer's
 * self-attention), so with several objects on one frame it is computed once: out gets its
 * result. The memory part takes that in out and finishes the pass there, checking `cancel` between
 * layers (CANCEL_STOPPED); it returns -2 unless the M - num_obj_ptr_tokens RoPE'd memory tokens are
 * whole frames. */
int memory_attention_frame_part(const sam2_net *net, const float *curr, const float *curr_pos,
                                float *out, arena *scratch);
int memory_attention_memory_part(const sam2_net *net, const float *curr_pos, const float *memory,
                                 const float *memory_pos, int M, int num_obj_ptr_tokens, float *out,
                                 arena *scratch, const cancel_check *cancel);

/* Places the weights and RoPE tables on the net's backend (at load) and releases them. */
int memory_attention_load(sam2_net *net);
void memory_attention_unload(sam2_net *net);

/* FLOPs of one pass with M memory tokens, and of its frame part alone (which a tracker computes
 * once per frame however many objects it tracks). */
double memory_attention_flops(const sam2_net *net, int M);
double memory_attention_frame_part_flops(const sam2_net *net);

#endif
