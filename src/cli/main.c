#include "cli/cli.h"

#include "sam2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

static const cli_command COMMANDS[] = {
    {"inspect", "print a checkpoint's configuration and tensors", cmd_inspect},
    {"serve", "serve the SAM 2 demo API (GraphQL + streaming, drop-in for Meta's backend)",
     cmd_serve},
    {"doctor", "check the machine, libraries, checkpoint and data folder", cmd_doctor},
    {"segment", "segment an object in an image from points, a box or a mask", cmd_segment},
    {"track", "track objects through a video from clicks, boxes or masks", cmd_track},
    {"bench", "time the image encoder (bench image) or video tracking (bench track)", cmd_bench},
};
#define NUM_COMMANDS ((int)(sizeof COMMANDS / sizeof COMMANDS[0]))

static void usage(FILE *f) {
    fprintf(f, "sam2 %s: Segment Anything 2 in C\n\nusage: sam2 COMMAND [ARGS...]\n\ncommands:\n",
            sam2_version());
    for (int i = 0; i < NUM_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(f, "\nRun 'sam2 COMMAND --help' for a command's options.\n");
}

/* Large blocks (frame buffers, per-frame state, model scratch) come and go all the time: with
 * glibc's defaults freed memory stays in one arena per thread (up to 8 per core), so RSS drifts
 * upwards with nothing leaked (the server's soak measured +176 MB in 120 s). Two arenas bound
 * that. Blocks of 16 MB and more (the model's scratch arenas, which servers free between jobs)
 * are mapped and go back to the system on free; smaller ones (a click's mask buffers) stay in
 * the heap and are reused: mapping those too cost a click 20 ms of page faults. The threshold
 * is fixed, so glibc never moves it. glibc's own MALLOC_ARENA_MAX / MALLOC_MMAP_THRESHOLD_
 * variables, when set, win; SAM2_MALLOC_DEFAULTS=1 keeps glibc's defaults (the soak's
 * --malloc-defaults). */
static void tune_allocator(void) {
#ifdef __GLIBC__
    const char *keep = getenv("SAM2_MALLOC_DEFAULTS");
    if (keep && *keep && *keep != '0') return;
    if (!getenv("MALLOC_ARENA_MAX")) mallopt(M_ARENA_MAX, 2);
    if (!getenv("MALLOC_MMAP_THRESHOLD_")) mallopt(M_MMAP_THRESHOLD, 16 << 20);
#endif
}

int main(int argc, char **argv) {
    tune_allocator();
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("sam2 %s\n", sam2_version());
        return CLI_OK;
    }
    for (int i = 0; i < NUM_COMMANDS; i++)
        if (!strcmp(argv[1], COMMANDS[i].name)) return COMMANDS[i].run(argc - 1, argv + 1);
    fprintf(stderr, "sam2: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
