#include "cli/cli_util.h"

#include "cli/cli.h"
#include "sam2.h"
#include "app/atomic_file.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sam2 %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_parse_floats(const char *s, float *out, int min_n, int max_n) {
    char buf[256];
    if (!s || strlen(s) >= sizeof buf) return -1;
    strcpy(buf, s);
    int n = 0;
    char *p = buf;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (n >= max_n || cli_parse_float(p, &out[n]) != 0) return -1;
        n++;
        if (!comma) break;
        p = comma + 1;
    }
    return n >= min_n ? n : -1;
}

int cli_parse_point(const char *s, sam2_point *p) {
    float v[3];
    const int n = cli_parse_floats(s, v, 2, 3);
    if (n < 0) return -1;
    p->x = v[0];
    p->y = v[1];
    p->label = 1;
    if (n == 3) {
        /* Checked before the cast: a float outside int's range (or NaN) has no int value. */
        if (!(v[2] >= -2147483648.0f && v[2] < 2147483648.0f) || v[2] != floorf(v[2])) return -1;
        p->label = (int)v[2];
    }
    return 0;
}

int cli_exit_for(int code) {
    switch (code) {
    case SAM2_ERR_IO:
    case SAM2_ERR_FORMAT:
    case SAM2_ERR_UNSUPPORTED:
    case SAM2_ERR_MISMATCH:
    case SAM2_ERR_ARGUMENT:
    case SAM2_ERR_LIMIT:
        return CLI_USAGE;
    case SAM2_ERR_CANCELLED:
        return CLI_CANCELLED;
    default:
        return CLI_FAIL;
    }
}

sam2_model *cli_load_model(const char *cmd, const char *checkpoint, const char *config,
                           int *exit_code) {
    sam2_error err = {0};
    sam2_model *m = sam2_model_load(checkpoint, config, &err);
    if (!m) {
        cli_error(cmd, "%s", err.message);
        *exit_code = cli_exit_for(err.code);
    }
    return m;
}

int cli_write_file_atomic(const char *path, const void *data, size_t n, sam2_error *err) {
    char tmp[4096];
    if (atomic_tmp_beside(path, NULL, tmp, sizeof tmp, err)) return -1;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        remove(tmp);
        return sam2_fail(err, SAM2_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    const size_t w = fwrite(data, 1, n, f);
    if (fclose(f) != 0 || w != n) {
        remove(tmp);
        return sam2_fail(err, SAM2_ERR_IO, "%s: write failed", path);
    }
    return atomic_commit(tmp, path, err);
}

int64_t cli_peak_rss_bytes(void) {
    int64_t peak;
    sam2_memory_usage(NULL, &peak);
    return peak;
}
