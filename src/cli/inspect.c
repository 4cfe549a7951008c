#include "cli/cli.h"

#include <stdio.h>

int cmd_inspect(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "sam2 inspect: not built yet\n");
    return CLI_FAIL;
}
