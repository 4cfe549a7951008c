/* libFuzzer target: arbitrary bytes as an official-format YAML model config. */
#include "io/yaml_config.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sam2_config cfg;
    sam2_error err;
    sam2_config_parse_yaml((const char *)data, size, "fuzz.yaml", &cfg, &err);
    return 0;
}
