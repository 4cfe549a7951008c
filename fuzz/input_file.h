/* A fuzz input as a file, for the readers the library opens only by path (checkpoints, videos):
 * it has no in-memory entry points, which would exist for the fuzzers alone. One file per
 * process, rewritten for each input and removed at exit. */
#ifndef SAM2_FUZZ_INPUT_FILE_H
#define SAM2_FUZZ_INPUT_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_input_path[4096];

static void fuzz_input_remove(void) {
    if (fuzz_input_path[0]) unlink(fuzz_input_path);
}

/* Writes size bytes to the process's input file and returns its path (NULL when it cannot be
 * created or written: the caller skips the input). */
static const char *fuzz_input_file(const uint8_t *data, size_t size) {
    if (!fuzz_input_path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(fuzz_input_path, sizeof fuzz_input_path, "%s/sam2-fuzz-XXXXXX",
                 dir && *dir ? dir : "/tmp");
        int fd = mkstemp(fuzz_input_path);
        if (fd < 0) {
            fuzz_input_path[0] = 0;
            return NULL;
        }
        close(fd);
        atexit(fuzz_input_remove);
    }
    FILE *f = fopen(fuzz_input_path, "wb");
    if (!f) return NULL;
    int ok = size == 0 || fwrite(data, 1, size, f) == size;
    if (fclose(f) != 0) ok = 0;
    return ok ? fuzz_input_path : NULL;
}

#endif
