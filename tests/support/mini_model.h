/* A very small but complete SAM 2.1-style model configuration (written for the tests, not an
 * official model), and a checkpoint with exactly the tensors it implies: lets the loader tests
 * bind and refuse whole models without the golden data. */
#ifndef SAM2_TEST_MINI_MODEL_H
#define SAM2_TEST_MINI_MODEL_H

#include "model/config.h"

#include <stdint.h>

/* Text of the YAML config (official format). */
extern const char MINI_MODEL_YAML[];

/* Writes MINI_MODEL_YAML to dir/name.yaml; returns the path (static buffer) or NULL. */
const char *mini_model_write_yaml(const char *dir, const char *name);

/* A very small EdgeTAM-shaped model (RepViT-M1 trunk at 128 px, a Perceiver of 8 + 4 latents,
 * RoPEAttentionv2): for the batched predictor's behaviour tests without the golden data. Its
 * checkpoint (mini_model_write_ckpt with this config) keeps activations bounded: values are
 * mini_model_value / 8, BatchNorm running variances 1 + |value|, counters int64 zeros. */
extern const char MINI_EDGETAM_YAML[];
const char *mini_edgetam_write_yaml(const char *dir, const char *name);

/* Value stored for element j of the i-th tensor of the walk: exact in float16 and bfloat16. */
float mini_model_value(int tensor, int64_t j);

/* Ways to make the written checkpoint differ from the configuration. */
typedef struct mini_ckpt_options {
    int dtype;         /* enum tzw_dtype: TZW_F32, TZW_F16 or TZW_BF16 */
    int drop;          /* index of a tensor to leave out, -1: none */
    int reshape;       /* index of a tensor whose first dimension gets +1, -1: none */
    const char *extra; /* name of an additional [2] tensor, NULL: none */
} mini_ckpt_options;

/* Writes the checkpoint of cfg's tensor table (sam2_weights_walk order) to path. 0 on success. */
int mini_model_write_ckpt(const sam2_config *cfg, const char *path, const mini_ckpt_options *o);

#endif
