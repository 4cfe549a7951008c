/* Helpers for the CLI tests: run build/bin/sam2 as a subprocess (its stdout and stderr
 * captured), start it without waiting (to interrupt it), and read indexed PNGs as indices. */
#ifndef SAM2_TEST_CLI_RUN_H
#define SAM2_TEST_CLI_RUN_H

#include <stdint.h>
#include <sys/types.h>

typedef struct cli_result {
    int status; /* exit status, or 128 + signal number when killed */
    char *out;  /* captured stdout (NUL-terminated, malloc'd) */
    char *err;  /* captured stderr */
} cli_result;

/* The sam2 executable under test (SAM2_BIN_DIR/sam2). */
const char *cli_bin(void);
/* Runs `sam2 args...` (args NULL-terminated, without "sam2") and waits; killed after
 * timeout_s seconds. Returns 0 when it ran (whatever its status), -1 when it could not. */
int cli_run(const char *const *args, int timeout_s, cli_result *r);
void cli_result_free(cli_result *r);

/* Starts `sam2 args...` with stderr on a pipe (*stderr_fd, non-blocking off) and stdout to
 * /dev/null. Returns the pid or -1. */
pid_t cli_spawn(const char *const *args, int *stderr_fd);
/* Reads the child's stderr until `needle` appears or timeout_s passes; 1 when found. */
int cli_wait_for_output(int fd, const char *needle, int timeout_s);
/* waitpid with the same status convention as cli_result.status. */
int cli_wait(pid_t pid);

/* Reads an 8-bit palette PNG as indices (malloc'd w*h) and its palette (pal[256*3], may be
 * NULL; *npal entries). NULL when the file is not an 8-bit palette PNG. */
uint8_t *cli_png_read_indexed(const char *path, int *w, int *h, uint8_t *pal, int *npal);
/* Reads an 8-bit grayscale PNG (malloc'd w*h); NULL when it is not one. */
uint8_t *cli_png_read_gray(const char *path, int *w, int *h);

/* Number of entries of `dir` whose name starts with `prefix` (-1 when dir cannot be read). */
int cli_count_entries(const char *dir, const char *prefix);

#endif
