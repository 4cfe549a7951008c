/* The loaded network: configuration, weights and the image-independent constants derived from
 * them (positional encodings), computed once at load and shared read-only by every predictor and
 * session. Run state (activations) lives with the predictors, never here. */
#ifndef SAM2_MODEL_NET_H
#define SAM2_MODEL_NET_H

#include "core/device.h"
#include "core/ops.h"
#include "model/config.h"
#include "model/weights.h"
#include "sam2.h"

/* The prompt encoder's weights on the net's backend (the module is on the seam). */
typedef struct prompt_encoder_dev {
    dev_tensor gaussian;       /* pe_layer.positional_encoding_gaussian_matrix [2][d/2] */
    dev_tensor point_embed[4]; /* point_embeddings.k.weight [d] */
    dev_tensor not_a_point;    /* not_a_point_embed.weight [d] */
    dev_tensor conv_w[3], conv_b[3], norm_w[2], norm_b[2]; /* mask_downscaling */
} prompt_encoder_dev;

/* The image encoder's weights on the net's backend (Hiera trunk and FPN neck are on the seam). */
typedef struct hiera_block_dev {
    dev_tensor norm1_w, norm1_b, norm2_w, norm2_b;
    dev_tensor qkv_w, qkv_b, attn_proj_w, attn_proj_b; /* attn.qkv, attn.proj */
    dev_tensor mlp_w[2], mlp_b[2];
    dev_tensor proj_w, proj_b; /* only when dim != dim_out */
} hiera_block_dev;

typedef struct image_encoder_dev {
    dev_tensor patch_w, patch_b; /* trunk.patch_embed.proj [C][3][7][7] */
    dev_tensor pos;              /* trunk._get_pos_embed, channels-last [S/4][S/4][C] */
    dev_buffer *pos_buf;         /* pos's memory (computed at load, owned) */
    hiera_block_dev blocks[SAM2_MAX_BLOCKS];
    dev_tensor neck_w[SAM2_MAX_STAGES], neck_b[SAM2_MAX_STAGES]; /* neck.convs.i.conv [d][C_i] */
    dev_tensor conv_s0_w, conv_s0_b, conv_s1_w, conv_s1_b;       /* sam_mask_decoder.conv_s0/1 */
} image_encoder_dev;

typedef struct sam2_net {
    sam2_config cfg;
    sam2_weights w;
    /* The backend (core/device.h). Modules on the seam call its ops on `dev_weights`' tensors;
     * the others still call `be`, its host kernels, on host memory. */
    sam2_device *dev;
    const sam2_backend *be;
    dev_arena dev_weights;
    prompt_encoder_dev pe;
    image_encoder_dev ie;
    struct mask_decoder_dev *md;     /* model/mask_decoder.c: the decoder's weights on `dev` */
    struct memory_encoder_dev *me;   /* model/memory_encoder.c: the encoder's weights on `dev` */
    struct memory_attention_dev *ma; /* model/memory_attention.c: its weights on `dev` */
    struct perceiver_dev *pr;        /* model/perceiver.c: EdgeTAM's Perceiver on `dev` */
    sam2_hiera_block_info blocks[SAM2_MAX_BLOCKS];
    int num_blocks;

    int feat0; /* stride-4 feature size, image_size / 4 */
    int embed; /* stride-16 embedding size E = image_size / 16 */

    float *neck_pos[4]; /* [S/4 >> i]^2 x d_model sine PE of neck level i (HWC); only [2] is
                         * kept (the level memory attention reads), the others are NULL */
    float *image_pe;    /* [E][E][d_model] dense random-Fourier PE of the prompt encoder */
    float *mem_pos;     /* [E][E][mem_dim] sine PE of the memory encoder output */
    /* 2-D axial RoPE of the memory attention over the E x E grid: [E*E][head_dim/2] cos/sin
     * (pairs [0, hd/4) rotate with x, [hd/4, hd/2) with y). */
    float *rope_cos, *rope_sin;
    int rope_head_dim;

    /* EdgeTAM: the RepViT trunk's folded weights (model/repvit.h), NULL for Hiera; and, with
     * a Perceiver, its memory position encoding [num_latents + num_latents_2d][mem_dim] (zeros
     * for the 1D latents, the sine encoding of the window grid for the 2D ones) and the RoPE
     * tables of RoPEAttentionv2's key grid [k_w * k_h][head_dim / 2]. */
    struct repvit_weights *repvit;
    float *perceiver_pos;
    float *rope_k_cos, *rope_k_sin;
} sam2_net;

/* Derives the constants; cfg and w are copied (the weight data is not). */
int sam2_net_init(sam2_net *net, const sam2_config *cfg, const sam2_weights *w, sam2_error *err);
void sam2_net_free(sam2_net *net);

#endif
