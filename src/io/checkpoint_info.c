/* The public checkpoint inspection (include/sam2.h, sam2_checkpoint_*): a verified checkpoint
 * and the configuration its tensors match, for tools that list or vet checkpoints without
 * loading a model. */
#include "core/error.h"
#include "io/checkpoint.h"
#include "io/model_weights.h"
#include "io/yaml_config.h"

#include <stdlib.h>

struct sam2_checkpoint {
    ckpt *ck;
    sam2_config cfg; /* the last configuration sam2_checkpoint_config matched */
};

sam2_checkpoint *sam2_checkpoint_open(const char *path, sam2_error *err) {
    ckpt *ck = ckpt_open(path, err);
    if (!ck) return NULL;
    if (ckpt_verify(ck, err)) {
        ckpt_close(ck);
        return NULL;
    }
    sam2_checkpoint *c = calloc(1, sizeof *c);
    if (!c) {
        ckpt_close(ck);
        sam2_fail(err, SAM2_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    c->ck = ck;
    return c;
}

void sam2_checkpoint_close(sam2_checkpoint *c) {
    if (!c) return;
    ckpt_close(c->ck);
    free(c);
}

int64_t sam2_checkpoint_file_size(const sam2_checkpoint *c) {
    return ckpt_file_size(c->ck);
}

int64_t sam2_checkpoint_param_count(const sam2_checkpoint *c) {
    return ckpt_num_scalars(c->ck);
}

int sam2_checkpoint_tensor_count(const sam2_checkpoint *c) {
    return ckpt_num_tensors(c->ck);
}

int sam2_checkpoint_tensor(const sam2_checkpoint *c, int i, sam2_tensor_info *out) {
    if (i < 0 || i >= ckpt_num_tensors(c->ck))
        return sam2_fail(NULL, SAM2_ERR_ARGUMENT, "tensor %d out of range", i);
    const ckpt_tensor *t = ckpt_tensor_at(c->ck, i);
    out->name = t->name;
    out->dtype = ckpt_dtype_name(t->dtype);
    out->ndim = t->ndim;
    out->shape = t->shape;
    return SAM2_OK;
}

const char *sam2_checkpoint_config(sam2_checkpoint *c, const char *config_yaml, sam2_error *err) {
    if (config_yaml) {
        if (sam2_config_load_yaml(config_yaml, &c->cfg, err) ||
            sam2_weights_check(c->ck, &c->cfg, err))
            return NULL;
    } else if (sam2_weights_detect(c->ck, &c->cfg, err)) {
        return NULL;
    }
    return c->cfg.name;
}
