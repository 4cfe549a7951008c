/* Binding a checkpoint to a model configuration: the checkpoint's tensors must be exactly the
 * ones sam2_weights_walk() expects for the configuration (same names, same shapes, nothing
 * missing, nothing extra); each slot of sam2_weights then points at float32 data: straight into
 * the mapped file for contiguous float32 tensors, into one buffer owned by the result for
 * float16 / bfloat16 tensors (upcast exactly, after which their file pages are released). */
#ifndef SAM2_IO_MODEL_WEIGHTS_H
#define SAM2_IO_MODEL_WEIGHTS_H

#include "io/checkpoint.h"
#include "model/config.h"
#include "model/weights.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct sam2_loaded {
    sam2_config cfg;
    sam2_weights w;
    ckpt *ck;       /* the open checkpoint the direct pointers refer to */
    bool owns_ckpt; /* sam2_loaded_free closes ck */
    float *owned;   /* float32 copies (upcasts, gathered non-contiguous tensors) */
    int64_t owned_floats;
    /* The RepViT trunk's copies, apart (no huge pages): the network runs a BatchNorm-folded
     * copy of them, so sam2_loaded_release_trunk frees these after the fold. */
    float *trunk_owned;
    int64_t trunk_floats;
    int64_t params; /* scalars in the state dict */
    int num_tensors;
    bool detected; /* cfg is the preset detected from the tensors (no YAML given) */
} sam2_loaded;

/* Loads a checkpoint file and binds it. With yaml_or_null == NULL the configuration is the one
 * of the eight official presets whose tensor table the checkpoint matches exactly; otherwise
 * the YAML's configuration, which the checkpoint must match. Errors name the file and, for a
 * mismatch (SAM2_ERR_MISMATCH), the first tensor that differs and both shapes. */
int sam2_load_weights(const char *ckpt_path, const char *yaml_or_null, sam2_loaded *out,
                      sam2_error *err);
void sam2_loaded_free(sam2_loaded *l);
/* Frees the RepViT trunk's float32 copies and clears their slots in l->w (the folded weights
 * built from them are all the forward pass reads). Nothing for a Hiera model. */
void sam2_loaded_release_trunk(sam2_loaded *l);
/* Clears the RepViT trunk's slots of a weight table (a copy of the released one). */
void sam2_weights_clear_trunk(sam2_weights *w);

/* The steps, for callers that hold an open checkpoint (ck stays theirs). */
int sam2_weights_check(const ckpt *ck, const sam2_config *cfg, sam2_error *err);
int sam2_weights_detect(const ckpt *ck, sam2_config *cfg, sam2_error *err);
/* Checks CRCs, upcasts what must be, fills out (out->ck = ck, not owned). */
int sam2_weights_bind(ckpt *ck, const sam2_config *cfg, sam2_loaded *out, sam2_error *err);

#endif
