/* SAM mask decoder (modeling/sam/mask_decoder.py) with its two-way transformer
 * (modeling/sam/transformer.py). One prompt set per call, computed on the net's backend
 * (core/device.h); inputs and outputs are host arrays. */
#ifndef SAM2_MODEL_MASK_DECODER_H
#define SAM2_MODEL_MASK_DECODER_H

#include "core/arena.h"
#include "core/tap.h"
#include "model/net.h"

/* Image-side projections of the first two-way layer. Without a mask prompt they depend only on
 * the image embedding, so an image predictor computes them once per image: the token->image
 * attention's keys and values, each [E*E][d/2]. */
typedef struct mask_decoder_cache {
    dev_arena arena;         /* backend memory of the two tensors */
    dev_tensor t2i_k, t2i_v; /* [E*E][d/2] */
    bool valid;              /* cleared when the image changes */
} mask_decoder_cache;

/* The cache's backend memory on the net's backend; -1 when out of memory. */
int mask_decoder_cache_init(const sam2_net *net, mask_decoder_cache *mc);
void mask_decoder_cache_free(mask_decoder_cache *mc);

/* Places the decoder's weights on the net's backend (at load) and releases them. */
int mask_decoder_load(sam2_net *net);
void mask_decoder_unload(sam2_net *net);

typedef struct mask_decoder_in {
    const float *image_embed; /* [E][E][d] (backbone features, + no_mem_embed for images) */
    const float *high_res[2]; /* [4E][4E][d/8], [2E][2E][d/4] (NULL when not used) */
    const float *sparse;      /* [n_sparse][d] */
    int n_sparse;
    const float *dense; /* [E][E][d], or NULL for no_mask_embed */
    bool multimask;
    mask_decoder_cache *cache; /* optional, used when dense == NULL */
} mask_decoder_in;

typedef struct mask_decoder_out {
    /* All four mask tokens, as MaskDecoder.predict_masks returns them. */
    float *all_masks; /* [4][4E][4E], caller buffer */
    float all_iou[4];
    float object_score;     /* object-score logit (10 when pred_obj_scores is off) */
    float *mask_tokens_out; /* [4][d], caller buffer */
    /* MaskDecoder.forward's selection. */
    int n_out;       /* 3 (multimask) or 1 */
    int tokens[3];   /* indices into all_masks of the returned masks */
    float stability; /* token-0 stability score (single-mask output only) */
    int sam_token;   /* token whose output feeds the object pointer when single */
} mask_decoder_out;

/* scratch is unused (the decoder's temporaries live in backend memory); -1 on failure. */
int mask_decoder_forward(const sam2_net *net, const mask_decoder_in *in, mask_decoder_out *out,
                         arena *scratch, const sam2_tap *tap);

/* Stability score of one mask's logits: count(> delta) / count(> -delta), 1 when empty. */
float mask_stability(const float *logits, size_t n, float delta);

#endif
