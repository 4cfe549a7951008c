/* sam2 segment: one image, one prompt (points, a box and/or a mask), the best mask as a PNG and
 * every candidate mask with its predicted IoU as JSON (COCO RLE). */
#include "cli/cli.h"
#include "app/cli_options.h"
#include "cli/cli_util.h"
#include "cli/mask_input.h"

#include "sam2.h"
#include "app/mask_export.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "segment"
#define MAX_POINTS 64

typedef struct segment_args {
    const char *checkpoint, *config, *image, *mask_input, *out, *json;
    int json_stdout, multimask, normalized, threads;
    sam2_point points[MAX_POINTS];
    int n_points;
    float box[4];
    int has_box;
} segment_args;

static int parse_point(void *args, const char *value, sam2_error *err) {
    segment_args *a = args;
    if (a->n_points == MAX_POINTS)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "more than %d --point options", MAX_POINTS);
    if (cli_parse_point(value, &a->points[a->n_points])) return -1;
    a->n_points++;
    return 0;
}

static int parse_box(void *args, const char *value, sam2_error *err) {
    segment_args *a = args;
    if (a->has_box) return sam2_fail(err, SAM2_ERR_ARGUMENT, "only one --box is allowed");
    if (cli_parse_floats(value, a->box, 4, 4) != 4) return -1;
    a->has_box = 1;
    return 0;
}

#define STR_(x) #x
#define STR(x) STR_(x)
#define ARG(field) offsetof(segment_args, field)

static const cli_option OPTIONS[] = {
    CLI_OPT_STRING("--checkpoint", ARG(checkpoint), "PATH",
                   "an official SAM 2 / 2.1 checkpoint (.pt)", CLI_REQUIRED),
    CLI_OPT_STRING("--config", ARG(config), "YAML|NAME",
                   "the model's YAML config or a preset name (sam2.1_hiera_t, ...);\n"
                   "default: detected from the checkpoint",
                   0),
    CLI_OPT_STRING("--image", ARG(image), "FILE", "PNG or JPEG", CLI_REQUIRED),
    CLI_OPT_CUSTOM("--point", parse_point, "X,Y[,L]",
                   "a click in image pixels; label L: 1 object (default),\n"
                   "0 background (repeatable, up to " STR(MAX_POINTS) ")",
                   CLI_REPEATABLE, "X,Y or X,Y,LABEL (numbers, integer label)"),
    CLI_OPT_CUSTOM("--box", parse_box, "X0,Y0,X1,Y1", "a box around the object, in image pixels", 0,
                   "X0,Y0,X1,Y1"),
    CLI_OPT_STRING("--mask-input", ARG(mask_input), "FILE",
                   "a mask prompt: an .npy of float32 low-res logits\n"
                   "[S/4,S/4] or [1,S/4,S/4] (e.g. an earlier prediction's), or a\n"
                   "PNG/JPEG mask of any size (>= 128 = object; resized to S/4\n"
                   "and mapped to logits +-10)",
                   0),
    CLI_OPT_FLAG("--multimask", ARG(multimask),
                 "predict three candidate masks (best for a single click)"),
    CLI_OPT_FLAG("--normalized", ARG(normalized),
                 "point and box coordinates are fractions [0,1] of the size"),
    CLI_OPT_STRING("--out", ARG(out), "OUT.png", "where to write the best mask", 0),
    CLI_OPT_OPTIONAL("--json", ARG(json), "FILE",
                     "every mask as JSON (COCO RLE, IoU scores, best index, image\n"
                     "size, prompt) to FILE, or to stdout without FILE or with '-'"),
    CLI_OPT_BACKEND,
    CLI_OPT_INT("--threads", ARG(threads), "N",
                "compute threads\n(default: $SAM2_THREADS, else all cores)", 1, INT_MAX,
                "a positive integer"),
};

static const cli_spec SPEC = {
    .command = CMD,
    .about = "Segments one object in a PNG or JPEG image from a prompt and writes the mask with\n"
             "the highest predicted IoU as an 8-bit grayscale PNG (255 = object, 0 = background).",
    .options = CLI_OPTIONS(OPTIONS),
    .notes = "At least one of --out and --json is required. Exit status: 0 done, 2 bad\n"
             "arguments, files or prompt (the message names what), 1 other failures.",
};

/* Returns -1 to continue, else the exit status. */
static int parse_args(int argc, char **argv, segment_args *a) {
    const int rc = cli_parse_command(&SPEC, argc, argv, a);
    if (rc >= 0) return rc;
    if (a->json && (!*a->json || !strcmp(a->json, "-"))) a->json_stdout = 1, a->json = NULL;
    if (!a->out && !a->json && !a->json_stdout) {
        cli_error(CMD, "nothing to write: give --out OUT.png and/or --json");
        return CLI_USAGE;
    }
    if (!a->n_points && !a->has_box && !a->mask_input) {
        cli_error(CMD, "no prompt: give at least one --point, a --box or a --mask-input");
        return CLI_USAGE;
    }
    return -1;
}

static int write_mask_png(const char *path, const uint8_t *mask, int w, int h, sam2_error *err) {
    uint8_t *png = NULL;
    size_t n = 0;
    int rc = mask_png_encode_binary(mask, w, h, &png, &n, err);
    if (!rc) rc = cli_write_file_atomic(path, png, n, err);
    free(png);
    return rc;
}

static cJSON *json_prompt(const segment_args *a) {
    cJSON *p = cJSON_CreateObject();
    cJSON *pts = cJSON_AddArrayToObject(p, "points");
    for (int i = 0; pts && i < a->n_points; i++) {
        const double v[3] = {a->points[i].x, a->points[i].y, a->points[i].label};
        cJSON_AddItemToArray(pts, cJSON_CreateDoubleArray(v, 3));
    }
    if (a->has_box) {
        const double b[4] = {a->box[0], a->box[1], a->box[2], a->box[3]};
        cJSON_AddItemToObject(p, "box", cJSON_CreateDoubleArray(b, 4));
    } else {
        cJSON_AddNullToObject(p, "box");
    }
    if (a->mask_input)
        cJSON_AddStringToObject(p, "mask_input", a->mask_input);
    else
        cJSON_AddNullToObject(p, "mask_input");
    cJSON_AddBoolToObject(p, "multimask", a->multimask);
    cJSON_AddBoolToObject(p, "normalized", a->normalized);
    return p;
}

/* {"image": {...}, "model", "prompt", "best", "object_score", "masks": [{"iou", "area",
 * "segmentation": {"size": [h, w], "counts"}}]} */
static char *masks_json(const segment_args *a, const char *model, const sam2_masks *m,
                        sam2_error *err) {
    cJSON *root = cJSON_CreateObject();
    cJSON *img = cJSON_AddObjectToObject(root, "image");
    cJSON_AddStringToObject(img, "path", a->image);
    cJSON_AddNumberToObject(img, "width", m->width);
    cJSON_AddNumberToObject(img, "height", m->height);
    cJSON_AddStringToObject(root, "model", model);
    cJSON_AddItemToObject(root, "prompt", json_prompt(a));
    cJSON_AddNumberToObject(root, "best", m->best);
    cJSON_AddNumberToObject(root, "object_score", m->object_score);
    cJSON *arr = cJSON_AddArrayToObject(root, "masks");
    const size_t hw = (size_t)m->width * m->height;
    for (int i = 0; i < m->count; i++) {
        const sam2_mask bitmap = {m->width, m->height, m->masks + i * hw};
        sam2_rle rle;
        if (sam2_mask_to_rle(&bitmap, &rle, err)) {
            cJSON_Delete(root);
            return NULL;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "iou", m->iou[i]);
        cJSON_AddNumberToObject(o, "area", (double)rle.area);
        cJSON *seg = cJSON_AddObjectToObject(o, "segmentation");
        const int size[2] = {m->height, m->width};
        cJSON_AddItemToObject(seg, "size", cJSON_CreateIntArray(size, 2));
        cJSON_AddStringToObject(seg, "counts", rle.counts);
        sam2_rle_free(&rle);
        cJSON_AddItemToArray(arr, o);
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text) sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for the JSON output");
    return text;
}

static int write_outputs(const segment_args *a, const sam2_model *model, const sam2_masks *m) {
    sam2_error err = {0};
    const size_t hw = (size_t)m->width * m->height;
    if (a->out &&
        write_mask_png(a->out, m->masks + (size_t)m->best * hw, m->width, m->height, &err)) {
        cli_error(CMD, "%s", err.message);
        return cli_exit_for(err.code);
    }
    if (a->json || a->json_stdout) {
        char *text = masks_json(a, sam2_model_name(model), m, &err);
        if (!text) {
            cli_error(CMD, "%s", err.message);
            return CLI_FAIL;
        }
        int status = CLI_OK;
        if (a->json_stdout) {
            if (fputs(text, stdout) < 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
                cli_error(CMD, "cannot write the JSON to stdout");
                status = CLI_FAIL;
            }
        } else {
            const size_t n = strlen(text);
            text[n] = '\n'; /* the terminating NUL becomes the file's final newline */
            if (cli_write_file_atomic(a->json, text, n + 1, &err)) {
                cli_error(CMD, "%s", err.message);
                status = cli_exit_for(err.code);
            }
            text[n] = '\0';
        }
        cJSON_free(text);
        if (status != CLI_OK) return status;
    }
    long area = 0;
    for (size_t k = 0; k < hw; k++) area += m->masks[(size_t)m->best * hw + k] != 0;
    fprintf(stderr, "sam2 segment: mask %d of %d, predicted IoU %.3f, %ld pixels%s%s\n", m->best,
            m->count, (double)m->iou[m->best], area, a->out ? " -> " : "", a->out ? a->out : "");
    return CLI_OK;
}

int cmd_segment(int argc, char **argv) {
    segment_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    if (a.threads) sam2_set_threads(a.threads);

    sam2_error err = {0};
    sam2_rgb_image img = {0};
    if (sam2_rgb_image_load_file(a.image, &img, &err)) {
        cli_error(CMD, "--image %s", err.message);
        return cli_exit_for(err.code);
    }
    sam2_model *model = cli_load_model(CMD, a.checkpoint, a.config, &rc);
    sam2_image_predictor *pred = NULL;
    float *mask_in = NULL;
    sam2_masks masks = {0};
    if (!model) goto done;
    const int L = sam2_model_image_size(model) / 4;
    if (a.mask_input && mask_input_load(a.mask_input, L, &mask_in, &err)) goto fail;
    pred = sam2_image_predictor_new(model, &err);
    if (!pred || sam2_image_set(pred, img.pixels, img.width, img.height, 3 * img.width, &err))
        goto fail;
    const sam2_prompt prompt = {.points = a.n_points ? a.points : NULL,
                                .n_points = a.n_points,
                                .box = a.has_box ? a.box : NULL,
                                .mask_input = mask_in,
                                .mask_input_size = mask_in ? L : 0,
                                .multimask = a.multimask,
                                .normalized = a.normalized};
    if (sam2_image_predict(pred, &prompt, &masks, &err)) goto fail;
    rc = write_outputs(&a, model, &masks);
    goto done;
fail:
    cli_error(CMD, "%s", err.message);
    rc = cli_exit_for(err.code);
done:
    sam2_masks_free(&masks);
    free(mask_in);
    sam2_image_predictor_free(pred);
    sam2_model_free(model);
    sam2_rgb_image_free(&img);
    return rc;
}
