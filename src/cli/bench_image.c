/* sam2 bench image: one image-encoder pass at the model's input size, split into the trunk's
 * four stages, the FPN neck and the high-resolution convolutions, then prompt -> mask decoding
 * with the upsampling to the image's size (1280x720 unless --image says otherwise). */
#include "cli/bench.h"
#include "cli/cli.h"
#include "app/cli_options.h"
#include "cli/cli_util.h"

#include "core/perf.h"
#include "core/tap.h"
#include "io/image.h"
#include "model/image_encoder.h"
#include "model/repvit.h"
#include "predict/image_predictor.h"
#include "predict/model_internal.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "bench image"
#define DECODE_REPEAT 20

typedef struct bench_image_args {
    const char *checkpoint, *config, *image;
    int repeat, threads;
} bench_image_args;

#define STR_(x) #x
#define STR(x) STR_(x)
#define ARG(field) offsetof(bench_image_args, field)

static const cli_option OPTIONS[] = {
    CLI_OPT_STRING("--checkpoint", ARG(checkpoint), "PATH",
                   "an official SAM 2 / 2.1 or EdgeTAM checkpoint (.pt)", CLI_REQUIRED),
    CLI_OPT_STRING("--config", ARG(config), "YAML|PRESET",
                   "the model's YAML config or a preset name; default: detected", 0),
    CLI_OPT_STRING("--image", ARG(image), "FILE",
                   "PNG or JPEG to encode (default: a synthetic 1280x720 image)", 0),
    CLI_OPT_INT("--repeat", ARG(repeat), "N", "timed encoder passes (default 3)", 1, 1000,
                "an integer 1..1000"),
    CLI_OPT_BACKEND,
    CLI_OPT_INT("--threads", ARG(threads), "N",
                "compute threads\n(default: $SAM2_THREADS, else all cores)", 1, INT_MAX,
                "a positive integer"),
};

const cli_spec BENCH_IMAGE_SPEC = {
    .command = CMD,
    .about = "Times the image encoder at the model's input size (after one warm-up pass; the\n"
             "median of N passes, default 3), stage by stage: preprocessing, trunk stages 0-3\n"
             "(stage 0 includes the patch embedding), FPN neck, high-resolution convolutions.\n"
             "Then times one click -> masks on the set image (" STR(
                 DECODE_REPEAT) " times, median): prompt\n"
                                "encoder, mask decoder, upsampling to the image size and "
                                "thresholding. Without\n"
                                "--image a synthetic 1280x720 image is used. Prints the encoder's "
                                "GFLOP count, its\n"
                                "GFLOP/s and the machine's SGEMM GFLOP/s measured in the same run.",
    .options = CLI_OPTIONS(OPTIONS),
};

/* Encoder events, in emission order. */
enum { EV_START, EV_INPUT, EV_S0, EV_S1, EV_S2, EV_S3, EV_NECK, EV_HIGHRES, EV_END, EV_COUNT };
/* Decoder events. */
enum { DV_START, DV_PROMPT, DV_DECODER, DV_UPSAMPLE, DV_END, DV_COUNT };

/* RepViT trunks (EdgeTAM): time split into the stem, the depthwise convolutions (token mixers,
 * spatial downsampling: memory-bound) and the pointwise layers (channel mixers, downsample FFNs:
 * GEMMs), from the trunk's per-block emissions (model/repvit.h). */
enum { RV_STEM, RV_DEPTHWISE, RV_POINTWISE, RV_COUNT };

typedef struct clock_tap {
    double t[EV_COUNT];
    int decode;                       /* 1: recording decoder events */
    double rv_last, rv_sec[RV_COUNT]; /* summed over the timed passes */
    int timed;
} clock_tap;

static void repvit_event(clock_tap *c, const char *name, double now) {
    const size_t n = strlen(name);
    int k = RV_POINTWISE;
    if (!strcmp(name, "trunk_stem"))
        k = RV_STEM;
    else if ((n > 12 && !strcmp(name + n - 12, "_token_mixer")) ||
             (n > 19 && !strcmp(name + n - 19, "_spatial_downsample")))
        k = RV_DEPTHWISE;
    if (c->timed) c->rv_sec[k] += now - c->rv_last;
    c->rv_last = now;
}

static void on_tensor(void *user, const char *name, const void *data, tap_dtype dt, int nd,
                      const int64_t *shape, tap_layout layout) {
    (void)data, (void)dt, (void)nd, (void)shape, (void)layout;
    clock_tap *c = user;
    const double now = perf_now_seconds();
    if (c->decode) {
        if (!strcmp(name, "sparse_embeddings"))
            c->t[DV_PROMPT] = now;
        else if (!strcmp(name, "decoder_all_mask_logits"))
            c->t[DV_DECODER] = now;
        else if (!strcmp(name, "decoder_choice"))
            c->t[DV_UPSAMPLE] = now;
        return;
    }
    if (!strncmp(name, "trunk_s", 7)) repvit_event(c, name, now);
    if (!strcmp(name, "input_image"))
        c->t[EV_INPUT] = c->rv_last = now;
    else if (!strncmp(name, "trunk_stage", 11) && name[11] >= '0' && name[11] <= '3')
        c->t[EV_S0 + name[11] - '0'] = now;
    else if (!strcmp(name, "neck_fpn_raw_l0"))
        c->t[EV_NECK] = now; /* the neck's last level */
    else if (!strcmp(name, "backbone_fpn_l0"))
        c->t[EV_HIGHRES] = now;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* A 1280x720 test card: smooth gradients with a few solid shapes, so masks are non-trivial. */
static int synthetic_image(image_rgb *img) {
    img->width = 1280;
    img->height = 720;
    img->pixels = malloc((size_t)3 * img->width * img->height);
    if (!img->pixels) return -1;
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++) {
            uint8_t *p = img->pixels + 3 * ((size_t)y * img->width + x);
            const int dx = x - 640, dy = y - 360;
            const int disc = dx * dx + dy * dy < 150 * 150;
            const int rect = x > 120 && x < 360 && y > 100 && y < 300;
            p[0] = disc ? 230 : rect ? 30 : (uint8_t)(x * 255 / 1279);
            p[1] = disc ? 60 : rect ? 200 : (uint8_t)(y * 255 / 719);
            p[2] = disc ? 40 : rect ? 70 : 128;
        }
    return 0;
}

int bench_image(int argc, char **argv) {
    bench_image_args a = {.repeat = 3};
    const int parsed = cli_parse_command(&BENCH_IMAGE_SPEC, argc, argv, &a);
    if (parsed >= 0) return parsed;
    const char *checkpoint = a.checkpoint, *config = a.config, *image = a.image;
    const int repeat = a.repeat, threads = a.threads;
    if (threads) sam2_set_threads(threads);

    sam2_error err = {0};
    image_rgb img = {0};
    if (image ? image_load_file(image, &img, &err) : synthetic_image(&img)) {
        cli_error(CMD, "%s", image ? err.message : "out of memory");
        return image ? cli_exit_for(err.code) : CLI_FAIL;
    }
    int rc = CLI_FAIL;
    sam2_model *model = cli_load_model(CMD, checkpoint, config, &rc);
    sam2_image_predictor *pred = model ? sam2_image_predictor_new(model, &err) : NULL;
    /* Rows of `repeat` samples: the stages between consecutive events, then the encoder
     * (trunk + neck + high-res convs), then the whole set_image call. */
    enum { ROW_ENCODER = EV_COUNT - 1, ROW_TOTAL = EV_COUNT, ROWS };
    double *samples = malloc(sizeof(double) * (size_t)ROWS * repeat), *rv_samples = NULL;
    if (!model || !pred || !samples) {
        if (model) cli_error(CMD, "%s", pred ? "out of memory" : err.message);
        goto done;
    }
    const int S = sam2_model_image_size(model);
    clock_tap ct = {0};
    const sam2_tap tap = {.fn = on_tensor, .user = &ct, .names_only = 1};

    const char *backend = sam2_model_backend(model);
    uint64_t up0, down0, up1, down1, up2, down2;
    sam2_backend_transfer_bytes(backend, &up0, &down0);
    const double sgemm_before = bench_sgemm_gflops();
    /* Encoder: warm-up, then `repeat` timed passes; samples[stage * n + pass]. */
    rv_samples = calloc((size_t)RV_COUNT * repeat, sizeof(double));
    if (!rv_samples) goto done;
    for (int pass = -1; pass < repeat; pass++) {
        memset(&ct, 0, sizeof ct);
        ct.timed = pass >= 0;
        ct.t[EV_START] = perf_now_seconds();
        if (sam2_image_set_tapped(pred, img.pixels, img.width, img.height, 3 * img.width, &tap,
                                  &err)) {
            cli_error(CMD, "%s", err.message);
            goto done;
        }
        ct.t[EV_END] = perf_now_seconds();
        if (pass < 0) continue;
        for (int k = 0; k < RV_COUNT; k++) rv_samples[k * repeat + pass] = ct.rv_sec[k];
        for (int e = 1; e < EV_COUNT; e++)
            samples[(e - 1) * repeat + pass] = 1e3 * (ct.t[e] - ct.t[e - 1]);
        samples[ROW_ENCODER * repeat + pass] = 1e3 * (ct.t[EV_HIGHRES] - ct.t[EV_INPUT]);
        samples[ROW_TOTAL * repeat + pass] = 1e3 * (ct.t[EV_END] - ct.t[EV_START]);
    }
    double ms[ROWS];
    for (int r = 0; r < ROWS; r++) ms[r] = median(samples + r * repeat, repeat);
    sam2_backend_transfer_bytes(backend, &up1, &down1);

    /* Decoding: one click at the centre, three candidate masks (the usual first click). */
    const sam2_point click = {img.width * 0.5f, img.height * 0.5f, 1};
    const sam2_prompt prompt = {.points = &click, .n_points = 1, .multimask = 1};
    double dms[DV_COUNT][DECODE_REPEAT];
    for (int pass = -1; pass < DECODE_REPEAT; pass++) {
        sam2_masks masks;
        memset(&ct, 0, sizeof ct);
        ct.decode = 1;
        ct.t[DV_START] = perf_now_seconds();
        if (sam2_image_predict_tapped(pred, &prompt, &masks, &tap, &err)) {
            cli_error(CMD, "%s", err.message);
            goto done;
        }
        ct.t[DV_END] = perf_now_seconds();
        sam2_masks_free(&masks);
        for (int e = 1; pass >= 0 && e < DV_COUNT; e++)
            dms[e - 1][pass] = 1e3 * (ct.t[e] - ct.t[e - 1]);
        if (pass >= 0) dms[DV_COUNT - 1][pass] = 1e3 * (ct.t[DV_END] - ct.t[DV_START]);
    }
    sam2_backend_transfer_bytes(backend, &up2, &down2);
    double dmed[DV_COUNT];
    for (int e = 0; e < DV_COUNT; e++) dmed[e] = median(dms[e], DECODE_REPEAT);

    const double sgemm_after = bench_sgemm_gflops();
    const double membw = model->net.cfg.trunk == SAM2_TRUNK_REPVIT ? bench_memory_gbps() : 0;
    const double gflop = image_encoder_flops(&model->net) * 1e-9;
    const double enc_ms = ms[ROW_ENCODER], gflops = gflop / (enc_ms * 1e-3);
    bench_print_machine();
    printf("model             %s, input %dx%d, %d threads\n", sam2_model_name(model), S, S,
           sam2_get_threads());
    /* Bytes the backend copied in and out (modules on the seam only; cpu borrows host memory,
     * so it moves none). Per pass: warm-up included, so divided by passes + 1. */
    printf("backend           %s: per set_image %.0f B up, %.0f B down; per click %.0f B up, "
           "%.0f B down\n",
           backend, (double)(up1 - up0) / (repeat + 1), (double)(down1 - down0) / (repeat + 1),
           (double)(up2 - up1) / (DECODE_REPEAT + 1),
           (double)(down2 - down1) / (DECODE_REPEAT + 1));
    printf("image             %dx%d%s\n", img.width, img.height, image ? "" : " (synthetic)");
    printf("image encoder     median of %d passes after a warm-up (ms)\n", repeat);
    static const char *const NAMES[EV_COUNT - 1] = {
        "preprocess",    "trunk stage 0", "trunk stage 1",  "trunk stage 2",
        "trunk stage 3", "neck (FPN)",    "high-res convs", "finish"};
    for (int e = 0; e < EV_COUNT - 1; e++) printf("  %-16s %9.2f\n", NAMES[e], ms[e]);
    printf("  %-16s %9.2f   (trunk + neck + high-res convs)\n", "encoder", enc_ms);
    printf("  %-16s %9.2f   (set_image)\n", "total", ms[ROW_TOTAL]);
    printf("decode            1 click, 3 masks, median of %d (ms)\n", DECODE_REPEAT);
    printf("  %-16s %9.2f\n  %-16s %9.2f\n  %-16s %9.2f   (to %dx%d, threshold)\n"
           "  %-16s %9.2f\n",
           "prompt encoder", dmed[0], "mask decoder", dmed[1], "upsample", dmed[2], img.width,
           img.height, "total", dmed[DV_COUNT - 1]);
    printf("encoder GFLOP     %.2f\n", gflop);
    printf("encoder GFLOP/s   %.1f\n", gflops);
    const double sgemm = bench_print_sgemm(sgemm_before, sgemm_after);
    printf("ratio to SGEMM    %.1f %%\n", sgemm > 0 ? 100.0 * gflops / sgemm : 0.0);
    if (model->net.cfg.trunk == SAM2_TRUNK_REPVIT) {
        /* per pass: the trunk's stem, its memory-bound depthwise convolutions against the
         * same-run copy bandwidth, its pointwise layers (GEMMs) against the SGEMM rate */
        const sam2_net *net = &model->net;
        const double dw_gb = repvit_depthwise_bytes(net) * 1e-9,
                     pw_gf = (repvit_flops(net) - repvit_depthwise_flops(net)) * 1e-9;
        const double st = median(rv_samples + RV_STEM * repeat, repeat),
                     dw = median(rv_samples + RV_DEPTHWISE * repeat, repeat),
                     pw = median(rv_samples + RV_POINTWISE * repeat, repeat) + st;
        printf("RepViT trunk      median of %d passes\n", repeat);
        printf("  %-16s %9.2f ms\n", "stem", st * 1e3);
        printf("  %-16s %9.2f ms   %.1f GB/s moved (min), %.1f %% of the same-run copy rate "
               "%.1f GB/s\n",
               "depthwise", dw * 1e3, dw > 0 ? dw_gb / dw : 0.0,
               dw > 0 && membw > 0 ? 100.0 * dw_gb / dw / membw : 0.0, membw);
        printf("  %-16s %9.2f ms   %.1f GFLOP/s, %.1f %% of SGEMM (with the stem)\n", "pointwise",
               pw * 1e3, pw > 0 ? pw_gf / pw : 0.0,
               pw > 0 && sgemm > 0 ? 100.0 * pw_gf / pw / sgemm : 0.0);
    }
    rc = CLI_OK;
done:
    free(rv_samples);
    free(samples);
    sam2_image_predictor_free(pred);
    sam2_model_free(model);
    image_free(&img);
    return rc;
}
