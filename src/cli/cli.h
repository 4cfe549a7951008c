/* The `sam2` command line: one executable, one file per subcommand. Each command returns the
 * process exit status: 0 success, 1 runtime failure, 2 bad input or usage (a clear message on
 * stderr names what was wrong). */
#ifndef SAM2_CLI_H
#define SAM2_CLI_H

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} cli_command;

int cmd_inspect(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_doctor(int argc, char **argv);

/* Exit statuses */
#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

#endif
