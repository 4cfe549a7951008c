/* sam2 bench track: clicks N objects on frame 0 of a video, propagates M frames and splits the
 * time per tracked frame into video decoding, image encoder, memory bank assembly, memory
 * attention, mask decoder and memory encoder. The split comes from the tracker's taps
 * ("model_call", "memattn_memory_pos", "memattn_out", "object_score_logits",
 * "maskmem_features_f32", emitted at those stage boundaries when a tap is set) and from a frame
 * source that wraps the video with a clock, so no model code is timed from inside. */
#include "cli/bench.h"
#include "cli/cli.h"
#include "app/cli_options.h"
#include "cli/cli_util.h"

#include "core/perf.h"
#include "core/platform.h"
#include "io/video.h"
#include "model/image_encoder.h"
#include "model/memory_attention.h"
#include "model/memory_encoder.h"
#include "model/perceiver.h"
#include "predict/tracker.h"
#include "predict/tracker_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "bench track"

typedef struct bench_track_args {
    const char *checkpoint, *config, *video;
    int objects, frames, threads;
    float ram_budget_mb;
} bench_track_args;

#define ARG(field) offsetof(bench_track_args, field)

static const cli_option OPTIONS[] = {
    CLI_OPT_STRING("--checkpoint", ARG(checkpoint), "PATH",
                   "an official SAM 2 / 2.1 or EdgeTAM checkpoint (.pt)", CLI_REQUIRED),
    CLI_OPT_STRING("--config", ARG(config), "YAML|PRESET",
                   "the model's YAML config or a preset name; default: detected", 0),
    CLI_OPT_STRING("--video", ARG(video), "FILE",
                   "a video FFmpeg decodes, or a folder of numbered frames", CLI_REQUIRED),
    CLI_OPT_INT("--objects", ARG(objects), "N", "objects clicked on frame 0 (default 1)", 1, 100000,
                "a positive integer"),
    CLI_OPT_INT("--frames", ARG(frames), "M", "frames propagated (default 20)", 1, 100000,
                "a positive integer"),
    CLI_OPT_FLOAT("--ram-budget", ARG(ram_budget_mb), "MB",
                  "per-frame session state kept in RAM (default: no limit)", 1e-30, 1e9,
                  "megabytes > 0"), /* 1e-30: 0 is refused (a budget of nothing) */
    CLI_OPT_BACKEND,
    CLI_OPT_INT("--threads", ARG(threads), "N",
                "compute threads\n(default: $SAM2_THREADS, else all cores)", 1, 100000,
                "a positive integer"),
};

const cli_spec BENCH_TRACK_SPEC = {
    .command = CMD,
    .about = "Clicks N objects (default 1) on frame 0 at points spread across the middle row,\n"
             "propagates M frames (default 20) and prints the milliseconds per tracked frame\n"
             "split into video decoding, image encoder, memory bank assembly, memory attention,\n"
             "mask decoder (with the prompt encoder and object pointer) and memory encoder;\n"
             "GFLOP/s against the SGEMM rate measured in the same run; peak RSS; and the\n"
             "session's state in RAM and spilled.",
    .options = CLI_OPTIONS(OPTIONS),
};

enum ev {
    EV_NONE,
    EV_LOAD_START,
    EV_LOAD_END,
    EV_MODEL_CALL,
    EV_MEMATTN_IN,
    EV_MEMATTN_OUT,
    EV_DECODER_END,
    EV_MEMENC_OUT, /* EdgeTAM: the memory encoder's output, before the Perceiver */
    EV_MEMENC_END,
    EV_FRAME_END
};
enum cat {
    C_DECODE,
    C_ENCODER,
    C_BANK,
    C_MEMATTN,
    C_DECODER,
    C_MEMENC,
    C_PERCEIVER,
    C_OTHER,
    C_COUNT
};
static const char *const CAT_NAMES[C_COUNT] = {
    "video decode+resize", "image encoder",  "memory bank", "memory attention",
    "mask decoder",        "memory encoder", "Perceiver",   "other"};

typedef struct bench_clock {
    const sam2_net *net;
    int counting; /* after frame 0's result: only propagated frames are timed */
    enum ev last;
    double last_t;
    double ms[C_COUNT];
    int encoder_runs, memattn_runs, memenc_runs, perceiver_runs, frames;
    double memattn_flop, memattn_tokens;
    int frame;         /* frame of the current model call */
    int memattn_frame; /* last frame whose memory-attention frame part was counted */
    sam2_video *video;
} bench_clock;

/* The stage that ends at `ev`, given the event before it. */
static enum cat stage(enum ev prev, enum ev ev) {
    if (prev == EV_LOAD_START && ev == EV_LOAD_END) return C_DECODE;
    if (prev == EV_LOAD_END && ev == EV_MODEL_CALL) return C_ENCODER;
    if (prev == EV_MODEL_CALL && ev == EV_MEMATTN_IN) return C_BANK;
    if (prev == EV_MEMATTN_IN && ev == EV_MEMATTN_OUT) return C_MEMATTN;
    if (prev == EV_MEMATTN_OUT && ev == EV_DECODER_END) return C_DECODER;
    if (prev == EV_DECODER_END && (ev == EV_MEMENC_END || ev == EV_MEMENC_OUT)) return C_MEMENC;
    if (prev == EV_MEMENC_OUT && ev == EV_MEMENC_END) return C_PERCEIVER;
    return C_OTHER;
}

static void event(bench_clock *c, enum ev ev) {
    const double now = perf_now_seconds();
    if (c->counting) {
        const enum cat k = stage(c->last, ev);
        c->ms[k] += 1e3 * (now - c->last_t);
        c->encoder_runs += k == C_ENCODER;
        c->memattn_runs += k == C_MEMATTN;
        c->memenc_runs += k == C_MEMENC;
        c->perceiver_runs += k == C_PERCEIVER;
    }
    c->last = ev;
    c->last_t = now;
}

static void on_tensor(void *user, const char *name, const void *data, tap_dtype dt, int nd,
                      const int64_t *shape, tap_layout layout) {
    (void)data, (void)dt, (void)layout;
    bench_clock *c = user;
    if (!strcmp(name, "model_call")) {
        event(c, EV_MODEL_CALL);
        if (data && nd == 1 && shape[0] == 3) c->frame = ((const int32_t *)data)[1];
    } else if (!strcmp(name, "memattn_memory_pos")) {
        event(c, EV_MEMATTN_IN);
        if (c->counting && nd >= 1) {
            /* The frame part (layer 0's self-attention) runs once per frame: the tracker shares
             * it between the objects, so only the first object on a frame is charged for it. */
            double f = memory_attention_flops(c->net, (int)shape[0]);
            if (c->frame == c->memattn_frame) f -= memory_attention_frame_part_flops(c->net);
            c->memattn_frame = c->frame;
            c->memattn_flop += f;
            c->memattn_tokens += (double)shape[0];
        }
    } else if (!strcmp(name, "memattn_out"))
        event(c, EV_MEMATTN_OUT);
    else if (!strcmp(name, "object_score_logits"))
        event(c, EV_DECODER_END);
    else if (!strcmp(name, "memenc_out_f32"))
        event(c, EV_MEMENC_OUT);
    else if (!strcmp(name, "maskmem_features_f32"))
        event(c, EV_MEMENC_END);
}

static int timed_load(void *user, int index, int S, float *chw, sam2_error *err) {
    bench_clock *c = user;
    event(c, EV_LOAD_START);
    const int rc = sam2_video_read_model_input(c->video, index, S, chw, err);
    event(c, EV_LOAD_END);
    return rc;
}

static void close_video(void *user) {
    bench_clock *c = user;
    sam2_video_close(c->video);
    c->video = NULL;
}

static int on_frame(void *user, const sam2_frame_result *r) {
    bench_clock *c = user;
    event(c, EV_FRAME_END);
    if (c->counting) c->frames++;
    if (r->frame_index == 0) c->counting = 1; /* frame 0 is the clicked (conditioning) frame */
    return 0;
}

static int64_t rss_bytes(void) {
    return platform_rss_bytes();
}

static void report(const bench_clock *c, const sam2_model *model, int objects, double sgemm_before,
                   double sgemm_after) {
    const sam2_net *net = &model->net;
    const int n = c->frames > 0 ? c->frames : 1;
    double total = 0;
    for (int k = 0; k < C_COUNT; k++) total += c->ms[k];
    printf("per tracked frame (ms, mean of %d frames)\n", c->frames);
    for (int k = 0; k < C_COUNT; k++)
        printf("  %-20s %9.2f   %5.1f %%\n", CAT_NAMES[k], c->ms[k] / n,
               total > 0 ? 100.0 * c->ms[k] / total : 0.0);
    printf("  %-20s %9.2f   (%.2f frames/s, %d object%s)\n", "total", total / n,
           total > 0 ? 1e3 * n / total : 0.0, objects, objects > 1 ? "s" : "");
    const double enc = image_encoder_flops(net) * c->encoder_runs;
    const double mem =
        memory_encoder_flops(net) * c->memenc_runs +
        (sam2_config_has_perceiver(&net->cfg) ? perceiver_flops(net) : 0) * c->perceiver_runs;
    const double att = c->memattn_flop;
    printf("GFLOP per frame   encoder %.1f, memory attention %.1f (mean %.0f memory tokens), "
           "memory encoder%s %.1f; decoder not counted\n",
           enc * 1e-9 / n, att * 1e-9 / n,
           c->memattn_runs ? c->memattn_tokens / c->memattn_runs : 0,
           c->perceiver_runs ? " + Perceiver" : "", mem * 1e-9 / n);
    const double r_enc = c->ms[C_ENCODER] > 0 ? enc * 1e-6 / c->ms[C_ENCODER] : 0;
    const double r_att = c->ms[C_MEMATTN] > 0 ? att * 1e-6 / c->ms[C_MEMATTN] : 0;
    const double mem_ms = c->ms[C_MEMENC] + c->ms[C_PERCEIVER];
    const double r_mem = mem_ms > 0 ? mem * 1e-6 / mem_ms : 0;
    const double r_all = total > 0 ? (enc + att + mem) * 1e-6 / total : 0;
    printf("GFLOP/s           encoder %.1f, memory attention %.1f, memory encoder %.1f, "
           "whole frame %.1f\n",
           r_enc, r_att, r_mem, r_all);
    const double sgemm = bench_print_sgemm(sgemm_before, sgemm_after);
    if (sgemm > 0)
        printf("ratio to SGEMM    encoder %.1f %%, memory attention %.1f %%, whole frame %.1f %%\n",
               100 * r_enc / sgemm, 100 * r_att / sgemm, 100 * r_all / sgemm);
}

int bench_track(int argc, char **argv) {
    bench_track_args a = {.objects = 1, .frames = 20};
    const int parsed = cli_parse_command(&BENCH_TRACK_SPEC, argc, argv, &a);
    if (parsed >= 0) return parsed;
    const char *checkpoint = a.checkpoint, *config = a.config, *video_path = a.video;
    const int objects = a.objects, threads = a.threads;
    int frames = a.frames;
    const float budget_mb = a.ram_budget_mb;
    if (objects > TRACKER_DEFAULT_MAX_OBJECTS) {
        cli_error(CMD, "--objects: at most %d", TRACKER_DEFAULT_MAX_OBJECTS);
        return CLI_USAGE;
    }
    if (threads) sam2_set_threads(threads);

    sam2_error err = {0};
    int rc = CLI_FAIL;
    bench_clock c = {0};
    c.frame = c.memattn_frame = -1;
    c.video = sam2_video_open(video_path, &err);
    if (!c.video) {
        cli_error(CMD, "%s", err.message);
        return cli_exit_for(err.code);
    }
    const int nf = sam2_video_frame_count(c.video), W = sam2_video_width(c.video),
              H = sam2_video_height(c.video);
    if (nf < 2) {
        cli_error(CMD, "%s has %d frame(s); at least 2 are needed", video_path, nf);
        sam2_video_close(c.video);
        return CLI_USAGE;
    }
    if (frames > nf - 1) frames = nf - 1;
    sam2_model *model = cli_load_model(CMD, checkpoint, config, &rc);
    if (!model) {
        sam2_video_close(c.video);
        return rc;
    }
    c.net = &model->net;
    const int64_t rss_model = rss_bytes();
    const frame_provider src = {.user = &c,
                                .num_frames = nf,
                                .width = W,
                                .height = H,
                                .load = timed_load,
                                .close = close_video};
    const sam2_tracker_options opt = {.ram_budget_bytes = (size_t)(budget_mb * 1048576.0)};
    sam2_tracker *t = tracker_new_with_provider(model, src, &opt, &err);
    const sam2_tap tap = {.fn = on_tensor, .user = &c, .names_only = 1};
    double t_prompt = perf_now_seconds();
    if (!t) goto fail;
    tracker_set_tap(t, &tap);
    for (int k = 0; k < objects; k++) {
        const sam2_point p = {W * (k + 1.0f) / (objects + 1.0f), H * 0.5f, 1};
        if (sam2_tracker_add_prompt(t, 0, k + 1, &(sam2_prompt){.points = &p, .n_points = 1}, NULL,
                                    &err))
            goto fail;
    }
    t_prompt = perf_now_seconds() - t_prompt;
    const double sgemm_before = bench_sgemm_gflops();
    uint64_t up0, down0, up1, down1;
    sam2_backend_transfer_bytes(sam2_model_backend(model), &up0, &down0);
    c.last_t = perf_now_seconds();
    if (sam2_tracker_propagate(t, 0, frames, 0, on_frame, &c, &err)) goto fail;
    sam2_backend_transfer_bytes(sam2_model_backend(model), &up1, &down1);
    const double sgemm_after = bench_sgemm_gflops();

    bench_print_machine();
    printf("model             %s, input %dx%d, %d threads\n", sam2_model_name(model),
           sam2_model_image_size(model), sam2_model_image_size(model), sam2_get_threads());
    printf("video             %s, %dx%d, %d frames\n", video_path, W, H, nf);
    printf("prompts           %d object%s clicked on frame 0 in %.1f ms\n", objects,
           objects > 1 ? "s" : "", t_prompt * 1e3);
    report(&c, model, objects, sgemm_before, sgemm_after);
    /* Modules on the seam only; cpu borrows host memory, so it moves none. */
    const int nfr = c.frames > 0 ? c.frames : 1;
    printf("backend           %s: per tracked frame %.0f B up, %.0f B down\n",
           sam2_model_backend(model), (double)(up1 - up0) / nfr, (double)(down1 - down0) / nfr);
    printf("memory            peak RSS %.1f MB (after loading the model: %.1f MB; %lld "
           "parameters)\n",
           cli_peak_rss_bytes() / 1048576.0, rss_model / 1048576.0,
           (long long)sam2_model_param_count(model));
    printf("session state     %.1f MB in RAM, %.1f MB spilled%s\n",
           sam2_tracker_ram_bytes(t) / 1048576.0, sam2_tracker_spilled_bytes(t) / 1048576.0,
           budget_mb > 0 ? " (--ram-budget)" : "");
    rc = CLI_OK;
    goto done;
fail:
    cli_error(CMD, "%s", err.message);
    rc = cli_exit_for(err.code);
done:
    sam2_tracker_free(t); /* closes the video through the frame source */
    sam2_model_free(model);
    return rc;
}
