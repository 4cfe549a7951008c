/* sam2 inspect CHECKPOINT [--config FILE] [--json]: what a checkpoint holds and which model
 * configuration it matches. */
#include "cli/cli.h"

#include "io/checkpoint.h"
#include "io/model_weights.h"
#include "io/yaml_config.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: sam2 inspect CHECKPOINT [--config FILE] [--json]\n"
            "\n"
            "Prints the checkpoint's model configuration, its parameter count and every tensor\n"
            "(name, dtype, shape) in checkpoint order. The file is checked completely (zip\n"
            "structure, pickle, every storage's CRC-32).\n"
            "\n"
            "  --config FILE  official-format YAML config the checkpoint must match; without it\n"
            "                 the config is detected among the 8 official presets and EdgeTAM\n"
            "  --json         one JSON object: {\"config\": NAME, \"params\": N, \"tensors\":\n"
            "                 [{\"name\", \"dtype\", \"shape\"}]}\n"
            "\n"
            "When no preset matches and no --config is given, the tensors are still listed, the\n"
            "config is reported as unknown (null in JSON), the closest preset's first difference\n"
            "is printed on stderr, and the exit status is 0. Exit status 2: the file is missing\n"
            "or not a valid checkpoint, the YAML is invalid, or the checkpoint does not match the\n"
            "--config given.\n");
}

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
    const char *path = NULL, *yaml = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--config")) {
            if (++i >= argc) {
                fprintf(stderr, "sam2 inspect: --config needs a file\n");
                return CLI_USAGE;
            }
            yaml = argv[i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "sam2 inspect: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        } else if (path) {
            fprintf(stderr, "sam2 inspect: more than one checkpoint given\n");
            return CLI_USAGE;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        usage(stderr);
        return CLI_USAGE;
    }

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
