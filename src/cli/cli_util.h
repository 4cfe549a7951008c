/* Helpers shared by the sam2 subcommands: number parsing, the exit status for a
 * library error, and writing small files so they appear complete or not at all. */
#ifndef SAM2_CLI_UTIL_H
#define SAM2_CLI_UTIL_H

#include "app/cli_options.h" /* cli_parse_int, cli_parse_float */
#include "sam2.h"

#include <stddef.h>
#include <stdint.h>

/* Exit status after Ctrl-C (128 + SIGINT, as shells report it). */
#define CLI_CANCELLED 130

/* Prints "sam2 CMD: message" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "a,b,c": between min_n and max_n floats; returns the count, or -1 when malformed. */
int cli_parse_floats(const char *s, float *out, int min_n, int max_n);
/* `sam2 segment --point X,Y[,LABEL]`: LABEL (default 1) must be a whole number. 0 or -1. */
int cli_parse_point(const char *s, sam2_point *p);

/* Exit status for a library failure: bad input of any kind (argument, file, format, checkpoint
 * mismatch, unsupported feature, limit) is CLI_USAGE, cancellation CLI_CANCELLED, the rest
 * (memory, internal state) CLI_FAIL. */
int cli_exit_for(int sam2_code);

/* Loads the model named by --checkpoint/--config and reports failures; NULL with *exit_code. */
sam2_model *cli_load_model(const char *cmd, const char *checkpoint, const char *config,
                           int *exit_code);

/* Writes `n` bytes to `path` through a temporary file renamed into place. */
int cli_write_file_atomic(const char *path, const void *data, size_t n, sam2_error *err);

/* Peak resident set size of this process in bytes (VmHWM), -1 when unknown. */
int64_t cli_peak_rss_bytes(void);

#endif
