#include "server/multipart.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MP_MAX_BOUNDARY 200
#define MP_MAX_HEADER_BYTES 16384
#define MP_MAX_PARTS 64

enum { S_PREAMBLE, S_AFTER_DELIM, S_HEADERS, S_BODY, S_EPILOGUE, S_ERROR };

struct multipart_parser {
    mp_callbacks cb;
    void *user;
    char delim[MP_MAX_BOUNDARY + 5]; /* "\r\n--" boundary */
    size_t delim_len;
    int state;
    int aborted;
    int parts;
    char *buf; /* unprocessed bytes */
    size_t len, cap;
    char name[256], filename[256], ctype[128];
    int has_filename, has_ctype, has_disposition;
    int header_lines;
    char error[200];
};

static int fail(multipart_parser *p, const char *fmt, const char *arg) {
    if (p->state != S_ERROR) snprintf(p->error, sizeof p->error, fmt, arg);
    p->state = S_ERROR;
    return -1;
}

/* Extracts a parameter (boundary, name, filename) from a header value; quoted or token. */
static int header_param(const char *value, const char *param, char *out, size_t cap) {
    size_t plen = strlen(param);
    const char *p = value;
    while ((p = strchr(p, ';'))) {
        p++;
        while (*p == ' ' || *p == '\t') p++;
        if (strncasecmp(p, param, plen) || p[plen] != '=') continue;
        p += plen + 1;
        size_t n = 0;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1]) p++;
                if (n + 1 >= cap) return -1;
                out[n++] = *p++;
            }
            if (*p != '"') return -1;
        } else {
            while (*p && *p != ';' && *p != ' ' && *p != '\t') {
                if (n + 1 >= cap) return -1;
                out[n++] = *p++;
            }
        }
        out[n] = 0;
        return 1;
    }
    return 0;
}

multipart_parser *mp_new(const char *content_type, const mp_callbacks *cb, void *user, char *msg,
                         size_t cap) {
    if (!content_type || strncasecmp(content_type, "multipart/form-data", 19)) {
        snprintf(msg, cap, "expected Content-Type multipart/form-data");
        return NULL;
    }
    char boundary[MP_MAX_BOUNDARY + 1];
    int r = header_param(content_type, "boundary", boundary, sizeof boundary);
    if (r <= 0 || !boundary[0] || strlen(boundary) > 70) {
        snprintf(msg, cap, "the multipart Content-Type has no valid boundary (1 to 70 characters)");
        return NULL;
    }
    multipart_parser *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(msg, cap, "out of memory");
        return NULL;
    }
    p->cb = *cb;
    p->user = user;
    p->delim_len = (size_t)snprintf(p->delim, sizeof p->delim, "\r\n--%s", boundary);
    /* The first delimiter may start the body: pretend a line break came before it. */
    p->cap = 4096;
    p->buf = malloc(p->cap);
    if (!p->buf) {
        free(p);
        snprintf(msg, cap, "out of memory");
        return NULL;
    }
    memcpy(p->buf, "\r\n", 2);
    p->len = 2;
    p->state = S_PREAMBLE;
    return p;
}

static void consume(multipart_parser *p, size_t n) {
    memmove(p->buf, p->buf + n, p->len - n);
    p->len -= n;
}

static int parse_header_line(multipart_parser *p, char *line) {
    char *colon = strchr(line, ':');
    if (!colon) return fail(p, "malformed part header line (no ':')%s", "");
    *colon = 0;
    char *value = colon + 1;
    while (*value == ' ' || *value == '\t') value++;
    if (!strcasecmp(line, "Content-Disposition")) {
        if (strncasecmp(value, "form-data", 9))
            return fail(p, "part Content-Disposition is not form-data%s", "");
        p->has_disposition = 1;
        char tmp[sizeof p->name];
        int r = header_param(value, "name", tmp, sizeof tmp);
        if (r < 0) return fail(p, "part name is malformed or too long%s", "");
        if (r > 0) snprintf(p->name, sizeof p->name, "%s", tmp);
        r = header_param(value, "filename", p->filename, sizeof p->filename);
        if (r < 0) return fail(p, "part filename is malformed or too long%s", "");
        p->has_filename = r > 0;
    } else if (!strcasecmp(line, "Content-Type")) {
        snprintf(p->ctype, sizeof p->ctype, "%s", value);
        p->has_ctype = 1;
    }
    return 0;
}

/* Runs the state machine over the buffered bytes. */
static int process(multipart_parser *p) {
    for (;;) {
        switch (p->state) {
        case S_PREAMBLE: {
            char *d = memmem(p->buf, p->len, p->delim, p->delim_len);
            if (!d) {
                /* Keep what could be the start of a delimiter. */
                if (p->len >= p->delim_len) consume(p, p->len - (p->delim_len - 1));
                return 0;
            }
            consume(p, (size_t)(d - p->buf) + p->delim_len);
            p->state = S_AFTER_DELIM;
            break;
        }
        case S_AFTER_DELIM: {
            size_t i = 0;
            while (i < p->len && (p->buf[i] == ' ' || p->buf[i] == '\t')) i++;
            if (p->len - i < 2) {
                if (i > 256) return fail(p, "malformed multipart delimiter line%s", "");
                return 0;
            }
            if (p->buf[i] == '-' && p->buf[i + 1] == '-') {
                p->state = S_EPILOGUE;
                p->len = 0;
                return 0;
            }
            if (p->buf[i] != '\r' || p->buf[i + 1] != '\n')
                return fail(p, "malformed multipart delimiter line%s", "");
            consume(p, i + 2);
            if (++p->parts > MP_MAX_PARTS)
                return fail(p, "too many parts in the multipart body%s", "");
            p->name[0] = p->filename[0] = p->ctype[0] = 0;
            p->has_filename = p->has_ctype = p->has_disposition = 0;
            p->header_lines = 0;
            p->state = S_HEADERS;
            break;
        }
        case S_HEADERS: {
            char *eol = memmem(p->buf, p->len, "\r\n", 2);
            if (!eol) {
                if (p->len > MP_MAX_HEADER_BYTES) return fail(p, "a part header is too long%s", "");
                return 0;
            }
            size_t n = (size_t)(eol - p->buf);
            if (n == 0) {
                consume(p, 2);
                if (!p->has_disposition)
                    return fail(p, "a part has no Content-Disposition header%s", "");
                if (p->cb.part_begin &&
                    p->cb.part_begin(p->user, p->name, p->has_filename ? p->filename : NULL,
                                     p->has_ctype ? p->ctype : NULL)) {
                    p->aborted = 1;
                    return fail(p, "aborted%s", "");
                }
                p->state = S_BODY;
                break;
            }
            if (n > MP_MAX_HEADER_BYTES) return fail(p, "a part header is too long%s", "");
            if (++p->header_lines > 32) return fail(p, "a part has too many header lines%s", "");
            char line[MP_MAX_HEADER_BYTES + 1];
            memcpy(line, p->buf, n);
            line[n] = 0;
            if (memchr(line, 0, n)) return fail(p, "a part header contains a NUL byte%s", "");
            consume(p, n + 2);
            if (parse_header_line(p, line)) return -1;
            break;
        }
        case S_BODY: {
            char *d = memmem(p->buf, p->len, p->delim, p->delim_len);
            size_t emit = d ? (size_t)(d - p->buf)
                            : (p->len >= p->delim_len ? p->len - (p->delim_len - 1) : 0);
            if (emit && p->cb.part_data && p->cb.part_data(p->user, p->buf, emit)) {
                p->aborted = 1;
                return fail(p, "aborted%s", "");
            }
            consume(p, emit);
            if (!d) return 0;
            consume(p, p->delim_len);
            if (p->cb.part_end && p->cb.part_end(p->user)) {
                p->aborted = 1;
                return fail(p, "aborted%s", "");
            }
            p->state = S_AFTER_DELIM;
            break;
        }
        case S_EPILOGUE:
            p->len = 0;
            return 0;
        default:
            return -1;
        }
    }
}

int mp_feed(multipart_parser *p, const char *data, size_t n) {
    if (p->state == S_ERROR) return -1;
    if (p->state == S_EPILOGUE) return 0;
    while (n > 0) {
        /* Feed in slices so the buffer stays small whatever the chunk size. */
        size_t take = n < 65536 ? n : 65536;
        if (p->len + take > p->cap) {
            size_t ncap = p->cap;
            while (ncap < p->len + take) ncap *= 2;
            char *nb = realloc(p->buf, ncap);
            if (!nb) return fail(p, "out of memory%s", "");
            p->buf = nb;
            p->cap = ncap;
        }
        memcpy(p->buf + p->len, data, take);
        p->len += take;
        data += take;
        n -= take;
        if (process(p)) return -1;
    }
    return 0;
}

int mp_finish(multipart_parser *p) {
    if (p->state == S_ERROR) return -1;
    if (p->state != S_EPILOGUE)
        return fail(p, "the multipart body ended before its closing delimiter%s", "");
    return 0;
}

const char *mp_error(const multipart_parser *p) {
    return p->error;
}
int mp_aborted(const multipart_parser *p) {
    return p->aborted;
}

void mp_free(multipart_parser *p) {
    if (!p) return;
    free(p->buf);
    free(p);
}
