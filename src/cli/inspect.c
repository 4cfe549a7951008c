/* sam2 inspect CHECKPOINT [--config FILE] [--json]: what a checkpoint holds and which model
 * configuration it matches. */
#include "cli/cli.h"
#include "app/cli_options.h"

#include "sam2.h"

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

static void print_text(const sam2_checkpoint *ck, const char *path, const char *config,
                       const char *how) {
    printf("file:    %s (%lld bytes)\n", path, (long long)sam2_checkpoint_file_size(ck));
    if (config)
        printf("config:  %s (%s)\n", config, how);
    else
        printf("config:  unknown (matches no official preset; use --config FILE)\n");
    printf("params:  %lld\n", (long long)sam2_checkpoint_param_count(ck));
    printf("tensors: %d\n", sam2_checkpoint_tensor_count(ck));
    for (int i = 0; i < sam2_checkpoint_tensor_count(ck); i++) {
        sam2_tensor_info t;
        sam2_checkpoint_tensor(ck, i, &t);
        printf("  %-64s %-8s [", t.name, t.dtype);
        for (int d = 0; d < t.ndim; d++) printf("%s%lld", d ? ", " : "", (long long)t.shape[d]);
        printf("]\n");
    }
}

static int print_json(const sam2_checkpoint *ck, const char *config) {
    cJSON *root = cJSON_CreateObject();
    if (!root) goto oom;
    if (!(config ? cJSON_AddStringToObject(root, "config", config)
                 : cJSON_AddNullToObject(root, "config")) ||
        !cJSON_AddNumberToObject(root, "params", (double)sam2_checkpoint_param_count(ck)))
        goto oom;
    cJSON *tensors = cJSON_AddArrayToObject(root, "tensors");
    if (!tensors) goto oom;
    for (int i = 0; i < sam2_checkpoint_tensor_count(ck); i++) {
        sam2_tensor_info t;
        sam2_checkpoint_tensor(ck, i, &t);
        cJSON *o = cJSON_CreateObject();
        if (!o) goto oom;
        cJSON_AddItemToArray(tensors, o);
        cJSON *shape;
        if (!cJSON_AddStringToObject(o, "name", t.name) ||
            !cJSON_AddStringToObject(o, "dtype", t.dtype) ||
            !(shape = cJSON_AddArrayToObject(o, "shape")))
            goto oom;
        for (int d = 0; d < t.ndim; d++) {
            cJSON *n = cJSON_CreateNumber((double)t.shape[d]);
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
    sam2_checkpoint *ck = sam2_checkpoint_open(path, &err);
    if (!ck) {
        fprintf(stderr, "sam2 inspect: %s\n", err.message);
        return CLI_USAGE;
    }
    /* A --config that does not match is an error; a checkpoint that matches no preset is
     * still listed, with the closest preset's first difference as a note. */
    const char *config = sam2_checkpoint_config(ck, yaml, &err);
    const char *how = yaml ? "from --config" : "detected";
    if (!config && yaml) {
        fprintf(stderr, "sam2 inspect: %s\n", err.message);
        sam2_checkpoint_close(ck);
        return CLI_USAGE;
    }
    if (!config) fprintf(stderr, "sam2 inspect: note: %s\n", err.message);
    int rc = CLI_OK;
    if (json)
        rc = print_json(ck, config);
    else
        print_text(ck, path, config, how);
    sam2_checkpoint_close(ck);
    if (fflush(stdout) != 0) rc = CLI_FAIL;
    return rc;
}
