/* sam2 track: prompts objects on frames of a video, propagates them through it and writes the
 * masks (indexed PNGs, COCO RLE JSON) and optionally an overlay video. */
#include "cli/cli.h"

#include "app/cli_options.h"
#include "cli/cli_util.h"
#include "cli/progress.h"
#include "cli/track_prompts.h"
#include "cli/track_results.h"

#include "sam2.h"

#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per-frame state kept in RAM by default: memory does not grow with the video's length (the
 * spill file holds the rest, read back with identical results; the README has the peaks). 8 MB
 * holds the memory bank a step reads for a few objects; more only saves re-reads from the spill
 * file. */
#define TRACK_DEFAULT_RAM_BUDGET_MB 8
/* Decoded frames the video reader keeps (about 5 frames of 720p): tracking reads each frame
 * once per direction, so a cache only helps re-reads (the reverse pass, the overlay). Reading
 * forwards only, the cache is off (a budget below one frame) and the decoder runs on one thread:
 * frame threads hold frames and decoder state of their own (EdgeTAM, 3 objects, 20 frames of
 * the 720p juggle video: 7.4 MiB less peak RSS), and decoding is a small share of a frame. */
#define TRACK_FRAME_CACHE_MB 8

#define CMD "track"
#define STR_(x) #x
#define STR(x) STR_(x)

typedef struct track_args {
    const char *video, *checkpoint, *config, *out, *overlay, *spill_dir;
    track_prompts prompts;
    int normalized, reverse, both, quiet, threads;
    int start, max_frames; /* -1: default */
    float ram_budget_mb;
} track_args;

static int add_click(void *args, const char *value, sam2_error *err) {
    return track_prompts_add(&((track_args *)args)->prompts, 'p', value, err);
}
static int add_box(void *args, const char *value, sam2_error *err) {
    return track_prompts_add(&((track_args *)args)->prompts, 'b', value, err);
}
static int add_mask(void *args, const char *value, sam2_error *err) {
    return track_prompts_add(&((track_args *)args)->prompts, 'm', value, err);
}

#define ARG(field) offsetof(track_args, field)

static const cli_option OPTIONS[] = {
    CLI_OPT_STRING("--checkpoint", ARG(checkpoint), "PATH",
                   "an official SAM 2 / 2.1 checkpoint (.pt)", CLI_REQUIRED),
    CLI_OPT_STRING("--config", ARG(config), "YAML|NAME",
                   "the model's YAML config or a preset name; default: detected", 0),
    CLI_OPT_CUSTOM("--prompt", add_click, "SPEC",
                   "'frame=F,obj=K,x=X,y=Y[,label=L]': a click on frame F for\n"
                   "object K (1..255) at (X, Y) in video pixels; label 1 object\n"
                   "(default), 0 background",
                   CLI_REPEATABLE, NULL),
    CLI_OPT_CUSTOM("--box", add_box, "SPEC",
                   "'frame=F,obj=K,x0=X0,y0=Y0,x1=X1,y1=Y1': a box for object K\n"
                   "on frame F",
                   CLI_REPEATABLE, NULL),
    CLI_OPT_CUSTOM("--mask-prompt", add_mask, "SPEC",
                   "'frame=F,obj=K,FILE': a mask image for object K on frame F\n"
                   "(any size, >= 128 = object)",
                   CLI_REPEATABLE, NULL),
    CLI_OPT_FLAG("--normalized", ARG(normalized),
                 "click and box coordinates are fractions [0,1] of the size"),
    CLI_OPT_INT("--start", ARG(start), "F",
                "frame to propagate from (default: the first prompted frame)", 0, INT_MAX,
                "a frame index >= 0"),
    CLI_OPT_FLAG("--reverse", ARG(reverse), "propagate backwards from the start frame"),
    CLI_OPT_FLAG("--both", ARG(both), "propagate forwards, then backwards (the demo's behaviour)"),
    CLI_OPT_INT("--max-frames", ARG(max_frames), "N",
                "track at most N frames in each direction, counting the start\n"
                "frame (default: to the end of the video)",
                1, INT_MAX, "a positive integer"),
    CLI_OPT_STRING("--out", ARG(out), "DIR", "the output folder (masks/, masks.json)",
                   CLI_REQUIRED),
    CLI_OPT_STRING("--overlay", ARG(overlay), "OUT.mp4",
                   "also write the tracked frames with the masks drawn on them", 0),
    CLI_OPT_FLOAT("--ram-budget", ARG(ram_budget_mb), "MB",
                  "per-frame session state kept in RAM; the rest goes to a spill\n"
                  "file (same results). Default: " STR(TRACK_DEFAULT_RAM_BUDGET_MB) "; 0: no limit",
                  0, 1e9, "megabytes (0: no limit)"),
    CLI_OPT_STRING("--spill-dir", ARG(spill_dir), "DIR",
                   "folder of the spill file and of the results file, both\n"
                   "unlinked temporary files (default: $TMPDIR or /tmp)",
                   0),
    CLI_OPT_BACKEND,
    CLI_OPT_INT("--threads", ARG(threads), "N",
                "compute threads\n(default: $SAM2_THREADS, else all cores)", 1, INT_MAX,
                "a positive integer"),
    CLI_OPT_FLAG("--quiet", ARG(quiet), "no progress on stderr"),
};

static const cli_spec SPEC = {
    .command = CMD,
    .positional = "VIDEO",
    .positional_offset = ARG(video),
    .positional_required = 1,
    .about = "Tracks objects through VIDEO (any file FFmpeg decodes, or a folder of numbered\n"
             "JPEG/PNG frames) and writes:\n"
             "  DIR/masks/NNNNN.png  one indexed PNG per tracked frame (DAVIS palette; pixel =\n"
             "                       object id, 0 = background; where objects overlap, the\n"
             "                       object prompted later wins)\n"
             "  DIR/masks.json       COCO RLE of every object on every tracked frame, with the\n"
             "                       object score\n"
             "  OUT.mp4              with --overlay: the tracked frames with coloured masks and\n"
             "                       outlines, H.264 at the source's frame rate",
    .options = CLI_OPTIONS(OPTIONS),
    .notes = "At least one --prompt, --box or --mask-prompt is required; --reverse and --both\n"
             "exclude each other. Progress goes to stderr (a bar on a terminal, a line per 10 %\n"
             "otherwise). Ctrl-C stops the tracker at its next check and writes the frames\n"
             "tracked so far, then exits with status 130; a second Ctrl-C abandons the writing\n"
             "(nothing new is left, earlier outputs stay). Outputs appear only when complete.\n"
             "Exit status 2: bad arguments, files or prompts.",
};

static int parse_args(int argc, char **argv, track_args *a) {
    const int rc = cli_parse_command(&SPEC, argc, argv, a);
    if (rc >= 0) return rc;
    if (a->prompts.n == 0) {
        cli_error(CMD, "no prompt: give at least one --prompt, --box or --mask-prompt");
        return CLI_USAGE;
    }
    if (a->reverse && a->both) {
        cli_error(CMD, "--reverse and --both exclude each other");
        return CLI_USAGE;
    }
    return -1;
}

/* ---- Ctrl-C: the first interrupt sets g_cancel and tells the running tracker, which stops
 * inside the frame it is computing (sam2_tracker_cancel is one atomic store, safe in a signal
 * handler); the frames tracked so far are then written, since they cost the user the time
 * already spent. A second interrupt sets g_abandon, which abandons that writing. The handler may
 * run on any thread while the main thread frees the tracker: g_in_handler lets tracker_forget
 * wait until no handler can still hold the pointer. ---- */

static volatile sig_atomic_t g_cancel, g_abandon;
static _Atomic(sam2_tracker *) g_tracker;
static atomic_int g_in_handler;

static void on_signal(int sig) {
    (void)sig;
    if (g_cancel) g_abandon = 1;
    g_cancel = 1;
    atomic_fetch_add(&g_in_handler, 1);
    sam2_tracker *t = atomic_load(&g_tracker);
    if (t) sam2_tracker_cancel(t);
    atomic_fetch_sub(&g_in_handler, 1);
}

/* The tracker's cancel hook: the flag itself, so that an interrupt between the checks below and
 * the propagation's start (which clears the tracker's own flag) is not lost. */
static int interrupted(void *user) {
    (void)user;
    return g_cancel != 0;
}

/* Before the tracker is freed: no signal handler may use it afterwards. */
static void tracker_forget(void) {
    atomic_store(&g_tracker, NULL);
    while (atomic_load(&g_in_handler)) sched_yield();
}

typedef struct run_state {
    track_results results;
    progress prog;
    sam2_error store_err;
    int frames_done;
    /* Test hook (SAM2_DEBUG_INTERRUPT_AFTER_FRAMES=N[,K]): after N stored frames the process
     * raises SIGINT K times (default 1), so tests reach the real handler at a known frame
     * without racing a signal against the tracker. 0: off. */
    int debug_interrupt_after, debug_interrupts;
} run_state;

static void read_debug_interrupt(run_state *s) {
    const char *v = getenv("SAM2_DEBUG_INTERRUPT_AFTER_FRAMES");
    if (!v || !*v) return;
    char *end = NULL;
    s->debug_interrupt_after = (int)strtol(v, &end, 10);
    s->debug_interrupts = *end == ',' ? atoi(end + 1) : 1;
}

static int on_frame(void *user, const sam2_frame_result *r) {
    run_state *s = user;
    if (track_results_store(&s->results, r, &s->store_err)) return 1;
    progress_step(&s->prog);
    if (++s->frames_done == s->debug_interrupt_after)
        for (int i = 0; i < s->debug_interrupts; i++) raise(SIGINT);
    return g_cancel != 0;
}

static int add_prompts(sam2_tracker *t, const track_args *a, sam2_error *err) {
    for (int i = 0; i < a->prompts.n; i++) {
        const track_prompt *g = &a->prompts.items[i];
        const sam2_mask mask = {g->mask_w, g->mask_h, g->mask};
        const sam2_prompt p = g->mask ? (sam2_prompt){.mask = &mask}
                                      : (sam2_prompt){.points = g->points,
                                                      .n_points = g->n_points,
                                                      .box = g->has_box ? g->box : NULL,
                                                      .normalized = a->normalized};
        int rc = sam2_tracker_add_prompt(t, g->frame, g->obj, &p, NULL, err);
        if (rc) {
            sam2_error_prefix(err, "object %d on frame %d", g->obj, g->frame);
            return rc;
        }
        if (g_cancel) return sam2_fail(err, SAM2_ERR_CANCELLED, "cancelled");
    }
    return 0;
}

/* Frames a pass visits, as sam2_tracker_propagate counts them. */
static int pass_frames(int start, int limit, int nf, int reverse) {
    if (reverse) {
        if (start == 0) return 0; /* reverse tracking from frame 0 is skipped */
        const int end = start - (limit - 1) > 0 ? start - (limit - 1) : 0;
        return start - end + 1;
    }
    const int end = start + (limit - 1) < nf - 1 ? start + (limit - 1) : nf - 1;
    return end - start + 1;
}

static int run(track_args *a, int *run_wrote, sam2_error *err) {
    /* Forward only: no frame is read twice, so no decoded-frame cache and one decoder thread
     * (7 MiB less at the peak); --reverse and --both re-read and keep the 8 MB cache. */
    const bool forwards = !a->reverse && !a->both;
    const sam2_video_open_options vopt = {.frame_cache_bytes =
                                              forwards ? 1 : (size_t)TRACK_FRAME_CACHE_MB << 20,
                                          .decode_threads = forwards ? 1 : 0};
    sam2_video *video = sam2_video_open_with(a->video, &vopt, err);
    if (!video) return -1;
    const int nf = sam2_video_frame_count(video), w = sam2_video_width(video),
              h = sam2_video_height(video);
    const double fps = sam2_video_fps(video);
    int start = a->start;
    if (start < 0) {
        start = nf;
        for (int i = 0; i < a->prompts.n; i++)
            if (a->prompts.items[i].frame < start) start = a->prompts.items[i].frame;
    }
    for (int i = 0; i < a->prompts.n; i++)
        if (a->prompts.items[i].frame >= nf) {
            sam2_video_close(video);
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "a prompt is on frame %d; %s has %d frames",
                             a->prompts.items[i].frame, a->video, nf);
        }
    if (start >= nf) {
        sam2_video_close(video);
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "--start %d: %s has %d frames", start, a->video,
                         nf);
    }
    if (track_prompts_load_masks(&a->prompts, err)) {
        sam2_video_close(video);
        return -1;
    }
    sam2_mem_probe("video opened");
    sam2_model *model = sam2_model_load(a->checkpoint, a->config, err);
    if (!model) {
        sam2_video_close(video);
        return -1;
    }
    const sam2_tracker_options topt = {
        .ram_budget_bytes = (size_t)((double)a->ram_budget_mb * 1024 * 1024),
        .spill_dir = a->spill_dir,
    };
    run_state *s = calloc(1, sizeof *s);
    sam2_tracker *t = sam2_tracker_new(model, video, &topt, err); /* owns video from here */
    int rc = -1;
    if (!s || !t) {
        if (!s) sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
        goto done;
    }
    atomic_store(&g_tracker, t);
    sam2_tracker_set_cancel_check(t, interrupted, NULL);
    sam2_mem_probe("tracker created");
    if (track_results_init(&s->results, nf, w, h, a->spill_dir, err) || add_prompts(t, a, err))
        goto done;

    const int limit = a->max_frames > 0 ? a->max_frames : nf;
    const int fwd = a->reverse ? 0 : pass_frames(start, limit, nf, 0);
    const int rev = a->reverse || a->both ? pass_frames(start, limit, nf, 1) : 0;
    progress_start(&s->prog, "sam2 track", fwd + rev, a->quiet);
    read_debug_interrupt(s);
    rc = 0;
    /* A propagation clears the tracker's cancel flag when it starts: an interrupt that came
     * before it is seen here. */
    if (fwd)
        rc = g_cancel ? sam2_fail(err, SAM2_ERR_CANCELLED, "cancelled")
                      : sam2_tracker_propagate(t, start, limit - 1, 0, on_frame, s, err);
    if (!rc && rev)
        rc = g_cancel ? sam2_fail(err, SAM2_ERR_CANCELLED, "cancelled")
                      : sam2_tracker_propagate(t, start, limit - 1, 1, on_frame, s, err);
    progress_finish(&s->prog, rc == 0);
    sam2_mem_probe("tracked");
    if (rc && s->store_err.code) *err = s->store_err;
    /* Interrupted after some frames: they are written below; the exit status still says
     * that the run was cut short. */
    const int partial =
        rc && g_cancel && !s->store_err.code && track_results_frames(&s->results) > 0;
    if (rc && !partial) goto done;
    if (!a->quiet && !partial)
        fprintf(stderr, "sam2 track: session state %.1f MB in RAM, %.1f MB spilled\n",
                sam2_tracker_ram_bytes(t) / 1048576.0, sam2_tracker_spilled_bytes(t) / 1048576.0);
    /* Writing needs only the results: the session's memory bank and compute scratch go now,
     * so they do not add to the peak of the writing. */
    tracker_forget();
    sam2_tracker_free(t);
    t = NULL;

    const track_output out = {.out_dir = a->out,
                              .overlay = a->overlay,
                              .video_path = a->video,
                              .model_name = sam2_model_name(model),
                              .video_frames = nf,
                              .fps = fps,
                              .cancel = &g_abandon,
                              .quiet = a->quiet};
    const int write_rc = track_write_outputs(&s->results, &out, err);
    sam2_mem_probe("outputs written");
    if (!write_rc && partial)
        fprintf(stderr,
                "sam2 track: interrupted after %d of %d frames; wrote those to %s/masks, "
                "%s/masks.json%s%s\n",
                track_results_frames(&s->results), fwd + rev, a->out, a->out,
                a->overlay ? " and " : "", a->overlay ? a->overlay : "");
    else if (!write_rc && !a->quiet)
        fprintf(stderr, "sam2 track: wrote %d frames to %s/masks, %s/masks.json%s%s\n",
                track_results_frames(&s->results), a->out, a->out, a->overlay ? " and " : "",
                a->overlay ? a->overlay : "");
    if (write_rc)
        rc = write_rc;
    else if (partial) {
        *run_wrote = 1;
        rc = sam2_fail(err, SAM2_ERR_CANCELLED, "interrupted");
    }
done:
    if (s) track_results_free(&s->results);
    free(s);
    tracker_forget();
    sam2_tracker_free(t);
    sam2_model_free(model);
    return rc ? -1 : 0;
}

int cmd_track(int argc, char **argv) {
    track_args a = {.start = -1, .max_frames = -1, .ram_budget_mb = TRACK_DEFAULT_RAM_BUDGET_MB};
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) {
        track_prompts_free(&a.prompts);
        return rc;
    }
    if (a.threads) sam2_set_threads(a.threads);

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    g_cancel = 0;
    g_abandon = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    sam2_error err = {0};
    int wrote = 0;
    if (run(&a, &wrote, &err) == 0) {
        rc = CLI_OK;
    } else if (err.code == SAM2_ERR_CANCELLED || g_cancel) {
        if (!wrote) cli_error(CMD, "cancelled; no output written");
        rc = CLI_CANCELLED;
    } else {
        cli_error(CMD, "%s", err.message);
        rc = cli_exit_for(err.code);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    track_prompts_free(&a.prompts);
    return rc;
}
