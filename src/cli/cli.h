/* The `sam2` command line: one executable, one file per subcommand. Each command returns the
 * process exit status: 0 success, 1 runtime failure, 2 bad input or usage (a clear message on
 * stderr names what was wrong). */
#ifndef SAM2_CLI_H
#define SAM2_CLI_H

#include "app/cli_options.h" /* the exit statuses CLI_OK, CLI_FAIL, CLI_USAGE */

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} cli_command;

int cmd_inspect(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_segment(int argc, char **argv);
int cmd_track(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif
