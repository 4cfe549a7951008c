#include "cli/cli.h"

#include "sam2.h"

#include <stdio.h>
#include <string.h>

static const cli_command COMMANDS[] = {
    {"inspect", "print a checkpoint's configuration and tensors", cmd_inspect},
    {"serve", "serve the SAM 2 demo API (GraphQL + streaming, drop-in for Meta's backend)", cmd_serve},
    {"doctor", "check the machine, libraries, checkpoint and data folder", cmd_doctor},
};
#define NUM_COMMANDS ((int)(sizeof COMMANDS / sizeof COMMANDS[0]))

static void usage(FILE *f) {
    fprintf(f, "sam2 %s: Segment Anything 2 in C\n\nusage: sam2 COMMAND [ARGS...]\n\ncommands:\n",
            SAM2_VERSION);
    for (int i = 0; i < NUM_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(f, "\nRun 'sam2 COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("sam2 %s\n", SAM2_VERSION);
        return CLI_OK;
    }
    for (int i = 0; i < NUM_COMMANDS; i++)
        if (!strcmp(argv[1], COMMANDS[i].name)) return COMMANDS[i].run(argc - 1, argv + 1);
    fprintf(stderr, "sam2: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
