/* sam2 inspect CHECKPOINT [--config FILE] [--json]: what a checkpoint holds and which model
 * configuration it matches. */
#include "cli/cli.h"
#include "cli/cli_options.h"

#include "io/checkpoint.h"
#include "io/model_weights.h"
#include "io/yaml_config.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct inspect_args {
    const char *path, *yaml;
    int json;
} inspect_args;

static const cli_option OPTIONS[] = {
    CLI_OPT_STRING("--config", offsetof(inspect_args, yaml), "FILE",
                   "official-format YAML config the checkpoint must match; without it\n"
                   "the config is detected among the 8 official presets and EdgeTAM",
                   0),
    CLI_OPT_FLAG("--json", offsetof(inspect_args, json),
                 "one JSON object: {\"config\": NAME, \"params\": N, \"tensors\":\n"
                 "[{\"name\", \"dtype\", \"shape\"}]}"),
};

static const cli_spec SPEC = {
    .command = "inspect",
    .positional = "CHECKPOINT",
    .positional_offset = offsetof(inspect_args, path),
    .positional_required = 1,
    .about = "Prints the checkpoint's model configuration, its parameter count and every tensor\n"
             "(name, dtype, shape) in checkpoint order. The file is checked completely (zip\n"
             "structure, pickle, every storage's CRC-32).",
    .options = CLI_OPTIONS(OPTIONS),
    .notes =
        "When no preset matches and no --config is given, the tensors are still listed, the\n"
        "config is reported as unknown (null in JSON), the closest preset's first difference\n"
        "is printed on stderr, and the exit status is 0. Exit status 2: the file is missing\n"
        "or not a valid checkpoint, the YAML is invalid, or the checkpoint does not match the\n"
        "--config given.",
};

static void print_text(const ckpt *ck, const char *config, const char *how) {
    printf("file:    %s (%lld bytes)\n", ckpt_path(ck), (long long)ckpt_file_size(ck));
    if (config)
        printf("config:  %s (%s)\n", config, how);
    else
        printf("config:  unknown (matches no official preset; use --config FILE)\n");
    printf("params:  %lld\n", (long long)ckpt_num_scalars(ck));
    printf("tensors: %d\n", ckpt_num_tensors(ck));
    for (int i = 0; i < ckpt_num_tensors(ck); i++) {
        const ckpt_tensor *t = ckpt_tensor_at(ck, i);
        printf("  %-64s %-8s [", t->name, ckpt_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++) printf("%s%lld", d ? ", " : "", (long long)t->shape[d]);
        printf("]\n");
    }
}

static int print_json(const ckpt *ck, const char *config) {
    cJSON *root = cJSON_CreateObject();
    if (!root) goto oom;
    if (!(config ? cJSON_AddStringToObject(root, "config", config)
                 : cJSON_AddNullToObject(root, "config")) ||
        !cJSON_AddNumberToObject(root, "params", (double)ckpt_num_scalars(ck)))
        goto oom;
    cJSON *tensors = cJSON_AddArrayToObject(root, "tensors");
    if (!tensors) goto oom;
    for (int i = 0; i < ckpt_num_tensors(ck); i++) {
        const ckpt_tensor *t = ckpt_tensor_at(ck, i);
        cJSON *o = cJSON_CreateObject();
        if (!o) goto oom;
        cJSON_AddItemToArray(tensors, o);
        cJSON *shape;
        if (!cJSON_AddStringToObject(o, "name", t->name) ||
            !cJSON_AddStringToObject(o, "dtype", ckpt_dtype_name(t->dtype)) ||
            !(shape = cJSON_AddArrayToObject(o, "shape")))
            goto oom;
        for (int d = 0; d < t->ndim; d++) {
            cJSON *n = cJSON_CreateNumber((double)t->shape[d]);
            if (!n) goto oom;
            cJSON_AddItemToArray(shape, n);
        }
    }
    char *text = cJSON_PrintUnformatted(root);
    if (!text) goto oom;
    cJSON_Delete(root);
    fputs(text, stdout);
    fputc('\n', stdout);
    cJSON_free(text);
    return CLI_OK;
oom:
    cJSON_Delete(root);
    fprintf(stderr, "sam2 inspect: out of memory\n");
    return CLI_FAIL;
}

int cmd_inspect(int argc, char **argv) {
    inspect_args a = {0};
    const int parsed = cli_parse_command(&SPEC, argc, argv, &a);
    if (parsed >= 0) return parsed;
    const char *path = a.path, *yaml = a.yaml;
    const int json = a.json;

    sam2_error err = {0};
    sam2_config cfg;
    if (yaml && sam2_config_load_yaml(yaml, &cfg, &err)) {
        fprintf(stderr, "sam2 inspect: %s\n", err.message);
        return CLI_USAGE;
    }
    ckpt *ck = ckpt_open(path, &err);
    if (!ck || ckpt_verify(ck, &err)) {
        fprintf(stderr, "sam2 inspect: %s\n", err.message);
        ckpt_close(ck);
        return CLI_USAGE;
    }
    const char *config = NULL, *how = NULL;
    if (yaml) {
        if (sam2_weights_check(ck, &cfg, &err)) {
            fprintf(stderr, "sam2 inspect: %s\n", err.message);
            ckpt_close(ck);
            return CLI_USAGE;
        }
        config = cfg.name;
        how = "from --config";
    } else if (sam2_weights_detect(ck, &cfg, &err) == 0) {
        config = cfg.name;
        how = "detected";
    } else {
        fprintf(stderr, "sam2 inspect: note: %s\n", err.message);
    }
    int rc = CLI_OK;
    if (json)
        rc = print_json(ck, config);
    else
        print_text(ck, config, how);
    ckpt_close(ck);
    if (fflush(stdout) != 0) rc = CLI_FAIL;
    return rc;
}
