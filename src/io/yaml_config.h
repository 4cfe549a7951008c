/* Model configuration from a YAML file in the official SAM 2 format (configs/sam2.1/ *.yaml: a
 * `model:` mapping of Hydra `_target_` nodes). Starts from the constructors' defaults
 * (sam2_config_defaults), applies every field present, and refuses what sam2c cannot honour:
 * an unknown `_target_` class, a key the class does not take (or takes with a value that would
 * change the model in a way the config cannot express), a value of the wrong type. Messages
 * name the file, the line and the key path ("model.image_encoder.trunk.embed_dim"). The config
 * is named after the file's base name and checked with sam2_config_validate(). */
#ifndef SAM2_IO_YAML_CONFIG_H
#define SAM2_IO_YAML_CONFIG_H

#include "model/config.h"
#include "sam2.h"

#include <stddef.h>

int sam2_config_load_yaml(const char *path, sam2_config *cfg, sam2_error *err);

/* Same for text already in memory; `label` is the file name used in messages and for the
 * config's name. */
int sam2_config_parse_yaml(const char *text, size_t len, const char *label, sam2_config *cfg,
                           sam2_error *err);

#endif
