/* What every part of the server calls on the shared state: the log and the job-memory count.
 * Kept apart from the lifecycle (server.c), which calls the parts, so no call goes in a loop. */
#include "server/server_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

/* Log lines carry what clients chose (upload file names, paths, URLs): control characters and
 * backslashes are escaped (\x1b, \n, \\) so that nothing a client sends can forge a log line or
 * drive the terminal that shows the log. */
static void escape_controls(const char *in, char *out, size_t cap) {
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 5 < cap; p++) {
        if (*p == '\\') {
            out[o++] = '\\';
            out[o++] = '\\';
        } else if (*p == '\n' || *p == '\r' || *p == '\t') {
            out[o++] = '\\';
            out[o++] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
        } else if (*p < 0x20 || *p == 0x7f) {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", *p);
        } else {
            out[o++] = (char)*p;
        }
    }
    out[o] = 0;
}

void server_log(server *s, const char *fmt, ...) {
    char raw[1024], line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    escape_controls(raw, line, sizeof line);
    if (s && s->deps.log) {
        s->deps.log(s->deps.log_user, line);
    } else {
        time_t t = time(NULL);
        struct tm tm;
        char ts[32];
        localtime_r(&t, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
        fprintf(stderr, "[%s] %s\n", ts, line);
    }
}

void server_job_bytes(server *s, ptrdiff_t delta) {
    atomic_fetch_add(&s->job_bytes, (long long)delta);
}
