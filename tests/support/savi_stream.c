#include "support/savi_stream.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { ST_BOUNDARY, ST_HEADERS, ST_BODY };

struct savi_reader {
    char boundary[512]; /* "--" suffix "\r\n" */
    size_t blen;
    char *buf;
    size_t len, pos, cap;
    int state;
    char headers[16384];
    size_t hlen;
    long content_length;
    char error[128];
};

savi_reader *savi_new(const char *ct, char *err, size_t cap) {
    const char *bp =
        ct ? strstr(ct + (strncmp(ct, "multipart/", 10) ? 0 : 10), "; boundary=") : NULL;
    if (!ct || strncmp(ct, "multipart/", 10) || !bp) {
        snprintf(err, cap, "Invalid content type for multipart stream: %s", ct ? ct : "(none)");
        return NULL;
    }
    savi_reader *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->blen = (size_t)snprintf(r->boundary, sizeof r->boundary, "--%s\r\n", bp + 11);
    return r;
}

static int fail(savi_reader *r, const char *msg) {
    snprintf(r->error, sizeof r->error, "%s", msg);
    return -1;
}

/* JavaScript's parseInt(text, 10): leading space, sign, digits; -1 for NaN. */
static long js_parse_int(const char *s) {
    while (isspace((unsigned char)*s)) s++;
    int neg = 0;
    if (*s == '+' || *s == '-') neg = *s++ == '-';
    if (!isdigit((unsigned char)*s)) return -1;
    long v = 0;
    while (isdigit((unsigned char)*s) && v < 1000000000L) v = v * 10 + (*s++ - '0');
    return neg ? -v : v;
}

const char *savi_header(const char *headers, const char *name, char *buf, size_t cap) {
    size_t nl = strlen(name), out = 0;
    int found = 0;
    for (const char *p = headers; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
            const char *v = p + nl + 2;
            size_t vl = len - nl - 2;
            if (found && out + 2 < cap) {
                memcpy(buf + out, ", ", 2);
                out += 2;
            }
            if (out + vl >= cap) vl = cap - 1 - out;
            memcpy(buf + out, v, vl);
            out += vl;
            found = 1;
        }
        p = eol ? eol + 1 : p + len;
    }
    if (!found) return NULL;
    buf[out] = 0;
    return buf;
}

static int process(savi_reader *r, savi_part_fn fn, void *user) {
    for (;;) {
        switch (r->state) {
        case ST_BOUNDARY:
            while (r->len >= r->pos + 2 && !memcmp(r->buf + r->pos, "\r\n", 2)) r->pos += 2;
            if (r->len < r->pos + r->blen) return 0;
            if (memcmp(r->buf + r->pos, r->boundary, r->blen)) return fail(r, "bad part boundary");
            r->pos += r->blen;
            r->state = ST_HEADERS;
            r->hlen = 0;
            r->headers[0] = 0;
            break;
        case ST_HEADERS: {
            char *cr = memchr(r->buf + r->pos, '\r', r->len - r->pos);
            if (!cr || (size_t)(cr - r->buf) + 1 == r->len) return 0;
            if (cr[1] != '\n') return fail(r, "bad part header line (CR without NL)");
            size_t n = (size_t)(cr - (r->buf + r->pos));
            char line[4096];
            if (n >= sizeof line) return fail(r, "header line too long for this reader");
            memcpy(line, r->buf + r->pos, n);
            line[n] = 0;
            r->pos += n + 2;
            if (n == 0) {
                char v[64];
                const char *cl = savi_header(r->headers, "Content-Length", v, sizeof v);
                if (!cl) return fail(r, "missing/invalid part Content-Length");
                r->content_length = js_parse_int(cl);
                if (r->content_length < 0) return fail(r, "missing/invalid part Content-Length");
                r->state = ST_BODY;
                break;
            }
            char *colon = strchr(line, ':');
            /* line.indexOf(':') == -1 makes substring(0, -1) empty and line[0] the check. */
            size_t ci = colon ? (size_t)(colon - line) : (size_t)-1;
            char next = colon ? line[ci + 1] : line[0];
            if ((colon && ci == n) || next != ' ')
                return fail(r, "bad part header line (no \": \")");
            if (!colon || ci == 0) return fail(r, "invalid header name");
            for (size_t i = 0; i < ci; i++)
                if (!isgraph((unsigned char)line[i])) return fail(r, "invalid header name");
            if (r->hlen + n + 2 >= sizeof r->headers)
                return fail(r, "too many headers for this reader");
            memcpy(r->headers + r->hlen, line, ci);
            memcpy(r->headers + r->hlen + ci, ": ", 2);
            memcpy(r->headers + r->hlen + ci + 2, line + ci + 2, n - ci - 2);
            r->hlen += n;
            r->headers[r->hlen++] = '\n';
            r->headers[r->hlen] = 0;
            break;
        }
        case ST_BODY:
            if (r->len < r->pos + (size_t)r->content_length) return 0;
            if (fn) fn(user, r->headers, r->buf + r->pos, (size_t)r->content_length);
            r->pos += (size_t)r->content_length;
            r->state = ST_BOUNDARY;
            break;
        }
    }
}

int savi_feed(savi_reader *r, const void *data, size_t n, savi_part_fn fn, void *user) {
    if (r->error[0]) return -1;
    if (r->pos) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->len + n > r->cap) {
        size_t nc = r->cap ? r->cap : 65536;
        while (nc < r->len + n) nc *= 2;
        char *nb = realloc(r->buf, nc);
        if (!nb) return fail(r, "out of memory");
        r->buf = nb;
        r->cap = nc;
    }
    memcpy(r->buf + r->len, data, n);
    r->len += n;
    return process(r, fn, user);
}

int savi_end(savi_reader *r) {
    if (r->error[0]) return -1;
    if (r->state != ST_BOUNDARY || r->len > r->pos)
        return fail(r, "multipart stream ended mid-part");
    return 0;
}

const char *savi_error(const savi_reader *r) {
    return r->error;
}

void savi_free(savi_reader *r) {
    if (!r) return;
    free(r->buf);
    free(r);
}
