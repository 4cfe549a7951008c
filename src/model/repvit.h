/* RepViT trunk of EdgeTAM's image encoder (timm models/repvit.py, features_only, as EdgeTAM's
 * backbones/timm.py TimmBackbone builds it).
 *
 * Every BatchNorm is folded into the convolution before it when the model is loaded
 * (repvit_fold), and each RepVggDw token mixer (depthwise 3x3 + depthwise 1x1 + identity,
 * timm's fuse()) becomes one depthwise 3x3 with a bias: the forward pass is a sequence of
 * depthwise convolutions, fused pointwise MLPs and a few small linears.
 *
 * Input: the normalised image, planar [3][S][S]. Output: the four stage outputs, channels-last
 * [S/4 >> s][S/4 >> s][C_s], written into caller buffers. Temporaries come from `scratch` and
 * are released before returning. */
#ifndef SAM2_MODEL_REPVIT_H
#define SAM2_MODEL_REPVIT_H

#include "core/arena.h"
#include "core/cancel.h"
#include "core/tap.h"
#include "model/net.h"

/* One RepViTBlock with its BatchNorms folded. */
typedef struct repvit_block {
    sam2_lin dw;             /* token mixer as one depthwise 3x3 + bias: [C][1][3][3], [C] */
    sam2_lin se_fc1, se_fc2; /* squeeze-and-excitation (w NULL without SE), from the checkpoint */
    sam2_lin mlp1, mlp2;     /* channel mixer: [2C][C] + [2C], [C][2C] + [C] */
} repvit_block;

typedef struct repvit_stage {
    repvit_block pre_block;          /* downsample.pre_block (stages 1-3) */
    sam2_lin spatial_ds, channel_ds; /* [C][1][3][3] stride 2; [C'][C] */
    sam2_lin ffn1, ffn2;             /* [2C'][C'], [C'][2C'] */
    repvit_block blocks[SAM2_MAX_REPVIT_DEPTH];
} repvit_stage;

typedef struct repvit_weights {
    sam2_lin stem[2]; /* [C0/2][3][3][3], [C0][C0/2][3][3] */
    repvit_stage stages[SAM2_MAX_STAGES];
    float *owned; /* one buffer holding every folded tensor */
} repvit_weights;

/* Folds the checkpoint's ConvNorms (eval-mode BatchNorm: y = x * a + b with
 * a = weight / sqrt(running_var + 1e-5), b = bias - running_mean * a, in double). */
int repvit_fold(repvit_weights *out, const sam2_config *cfg, const sam2_weights *w);
void repvit_free(repvit_weights *rw);

/* The stem, into out [S/4][S/4][C0] (stage 0's buffer); its temporaries (the channels-last
 * input, the first conv's output: 38 MB at 1024 px) are released before returning, so the
 * caller takes the other stage buffers afterwards and the two never coexist. */
int repvit_stem(const sam2_net *net, const float *img_chw, float *out, arena *scratch,
                const sam2_tap *tap);
/* The four stages, from the stem's output in stage_out[0]. */
int repvit_forward(const sam2_net *net, float *const stage_out[4], arena *scratch,
                   const sam2_tap *tap, const cancel_check *cancel);

/* Multiply-accumulate FLOPs of one pass (convolutions and linears, 2 per MAC), and the part of
 * it in depthwise convolutions (memory-bound: benchmarks set it against memory bandwidth). */
double repvit_flops(const sam2_net *net);
double repvit_depthwise_flops(const sam2_net *net);
/* Bytes the depthwise convolutions of one pass read and write at least (input and output once). */
double repvit_depthwise_bytes(const sam2_net *net);
/* Emission names: trunk_stem, trunk_s<s>_b<b>[_token_mixer|_se], trunk_s<s>_pre[...] (the
 * downsample's pre_block), trunk_s<s>_spatial_downsample, trunk_s<s>_downsample, trunk_stage<s>:
 * a benchmark's tap tells depthwise time (up to *_token_mixer, *_spatial_downsample) from
 * pointwise time. */

#endif
