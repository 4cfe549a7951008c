/* sam2_model: a checkpoint bound to its configuration, plus the network's constants. */
#include "core/error.h"
#include "io/model_weights.h"
#include "predict/model_internal.h"
#include "core/platform.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int is_regular_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static void free_loaded(void *owner) {
    sam2_loaded *l = owner;
    sam2_loaded_free(l);
    free(l);
}

/* Loads with a built-in preset named by `preset` (the checkpoint must match it exactly). */
static int load_with_preset(const char *path, const char *preset, sam2_loaded *l, sam2_error *err) {
    sam2_config cfg;
    if (sam2_config_preset(&cfg, preset) != 0)
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "config '%s' is neither a YAML file nor a built-in preset name", preset);
    ckpt *ck = ckpt_open(path, err);
    if (!ck) return err ? err->code : SAM2_ERR_IO;
    int rc = sam2_weights_check(ck, &cfg, err);
    if (!rc) rc = sam2_weights_bind(ck, &cfg, l, err);
    if (rc) {
        ckpt_close(ck);
        return rc;
    }
    l->owns_ckpt = true;
    return 0;
}

sam2_model *sam2_model_load(const char *checkpoint_path, const char *config, sam2_error *err) {
    if (!checkpoint_path) {
        sam2_fail(err, SAM2_ERR_ARGUMENT, "no checkpoint path given");
        return NULL;
    }
    sam2_model *m = calloc(1, sizeof *m);
    sam2_loaded *l = calloc(1, sizeof *l);
    if (!m || !l) {
        free(m);
        free(l);
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory loading %s", checkpoint_path);
        return NULL;
    }
    int rc = config && !is_regular_file(config)
                 ? load_with_preset(checkpoint_path, config, l, err)
                 : sam2_load_weights(checkpoint_path, config, l, err);
    if (rc) {
        free(l);
        free(m);
        return NULL;
    }
    char msg[256];
    if (sam2_config_validate(&l->cfg, msg, sizeof msg) != 0) {
        sam2_fail(err, SAM2_ERR_UNSUPPORTED, "%s: configuration %s: %s", checkpoint_path,
                  l->cfg.name, msg);
        free_loaded(l);
        free(m);
        return NULL;
    }
    if (sam2_net_init(&m->net, &l->cfg, &l->w, err)) {
        free_loaded(l);
        free(m);
        return NULL;
    }
    platform_mem_probe("model loaded", -1);
    if (m->net.repvit) {
        /* the folded trunk is what runs: the checkpoint's copy (20 MB for EdgeTAM) goes */
        sam2_loaded_release_trunk(l);
        sam2_weights_clear_trunk(&m->net.w);
    }
    platform_mem_probe("trunk released", -1);
    m->params = l->params;
    m->weights_owner = l;
    m->free_owner = free_loaded;
    return m;
}

void sam2_model_free(sam2_model *m) {
    if (!m) return;
    sam2_net_free(&m->net);
    if (m->free_owner) m->free_owner(m->weights_owner);
    free(m);
}

const char *sam2_model_name(const sam2_model *m) {
    return m->net.cfg.name;
}
int sam2_model_image_size(const sam2_model *m) {
    return m->net.cfg.image_size;
}
int64_t sam2_model_param_count(const sam2_model *m) {
    return m->params;
}
const char *sam2_model_backend(const sam2_model *m) {
    return m->net.dev->name;
}
