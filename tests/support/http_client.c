#include "support/http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

/* SOCK_CLOEXEC and MSG_NOSIGNAL are Linux's; macOS has FD_CLOEXEC and the SO_NOSIGPIPE socket
 * option instead. */
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

struct http_stream {
    int fd;
    int timeout_ms;
    int status;
    char *headers;
    char buf[65536]; /* raw bytes received and not consumed */
    size_t len, off;
    int chunked;
    long long remaining; /* Content-Length left, or bytes left in the current chunk */
    int has_length;
    int done, eof;
};

static int connect_local(int port) {
#ifdef SOCK_CLOEXEC
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
#else
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
#ifdef SO_NOSIGPIPE
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#endif
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int send_all(int fd, const void *data, size_t n) {
    const char *p = data;
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads more raw bytes into s->buf; 0 ok, 1 EOF, -1 error/timeout. */
static int fill(http_stream *s) {
    if (s->off > 0) {
        memmove(s->buf, s->buf + s->off, s->len - s->off);
        s->len -= s->off;
        s->off = 0;
    }
    if (s->len == sizeof s->buf) return -1;
    struct pollfd p = {s->fd, POLLIN, 0};
    int r = poll(&p, 1, s->timeout_ms);
    if (r <= 0) return -1;
    ssize_t n = recv(s->fd, s->buf + s->len, sizeof s->buf - s->len, 0);
    if (n < 0) return errno == EINTR ? 0 : -1;
    if (n == 0) {
        s->eof = 1;
        return 1;
    }
    s->len += (size_t)n;
    return 0;
}

/* Reads a CRLF-terminated line from the raw buffer (without the CRLF). */
static int read_line(http_stream *s, char *line, size_t cap) {
    for (;;) {
        char *eol = memmem(s->buf + s->off, s->len - s->off, "\r\n", 2);
        if (eol) {
            size_t n = (size_t)(eol - (s->buf + s->off));
            if (n >= cap) return -1;
            memcpy(line, s->buf + s->off, n);
            line[n] = 0;
            s->off += n + 2;
            return 0;
        }
        if (fill(s)) return -1;
    }
}

const char *http_header(const char *headers, const char *name, char *buf, size_t cap) {
    size_t nl = strlen(name);
    for (const char *p = headers; p && *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ') v++;
            size_t vl = len - (size_t)(v - p);
            if (vl >= cap) vl = cap - 1;
            memcpy(buf, v, vl);
            buf[vl] = 0;
            return buf;
        }
        p = eol ? eol + 2 : p + len;
    }
    return NULL;
}

http_stream *http_stream_open(int port, const char *method, const char *path,
                              const char *extra_headers, const void *body, size_t body_len,
                              int timeout_ms) {
    int fd = connect_local(port);
    if (fd < 0) return NULL;
    http_stream *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return NULL;
    }
    s->fd = fd;
    s->timeout_ms = timeout_ms;
    char head[8192];
    int n = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s", method, path,
                     port, extra_headers ? extra_headers : "");
    /* A caller that sends its own Transfer-Encoding frames the body itself. */
    if ((body || !strcmp(method, "POST")) &&
        !(extra_headers && strstr(extra_headers, "Transfer-Encoding")))
        n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %zu\r\n", body_len);
    n += snprintf(head + n, sizeof head - (size_t)n, "\r\n");
    if (send_all(fd, head, (size_t)n)) goto fail;
    /* Send the body in pieces and stop as soon as the server answers (an early 413): like a
     * browser, read that answer instead of failing on the reset that may follow. */
    for (size_t off = 0; off < body_len;) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 0) > 0) break;
        size_t piece = body_len - off < 65536 ? body_len - off : 65536;
        if (send_all(fd, (const char *)body + off, piece)) break;
        off += piece;
    }
    char line[8192];
    if (read_line(s, line, sizeof line)) goto fail;
    if (sscanf(line, "HTTP/1.%*d %d", &s->status) != 1) goto fail;
    size_t hcap = 4096, hlen = 0;
    s->headers = malloc(hcap);
    if (!s->headers) goto fail;
    s->headers[0] = 0;
    for (;;) {
        if (read_line(s, line, sizeof line)) goto fail;
        if (!line[0]) break;
        size_t l = strlen(line);
        while (hlen + l + 3 > hcap) {
            hcap *= 2;
            char *nh = realloc(s->headers, hcap);
            if (!nh) goto fail;
            s->headers = nh;
        }
        memcpy(s->headers + hlen, line, l);
        memcpy(s->headers + hlen + l, "\r\n", 3);
        hlen += l + 2;
    }
    char v[64];
    if (http_header(s->headers, "Transfer-Encoding", v, sizeof v) && strstr(v, "chunked")) {
        s->chunked = 1;
        s->remaining = 0;
    } else if (http_header(s->headers, "Content-Length", v, sizeof v)) {
        s->has_length = 1;
        s->remaining = atoll(v);
    }
    if (!strcmp(method, "HEAD") || s->status == 204 || s->status == 304) s->done = 1;
    return s;
fail:
    http_stream_close(s);
    return NULL;
}

int http_stream_status(const http_stream *s) {
    return s->status;
}
const char *http_stream_headers(const http_stream *s) {
    return s->headers;
}

long http_stream_read(http_stream *s, void *out, size_t cap) {
    while (!s->done) {
        if (s->chunked && s->remaining == 0) {
            char line[128];
            if (read_line(s, line, sizeof line)) return -1;
            if (!line[0]) continue; /* CRLF after a chunk's data */
            s->remaining = strtoll(line, NULL, 16);
            if (s->remaining == 0) {
                s->done = 1;
                break;
            }
            continue;
        }
        if (s->has_length && s->remaining == 0) {
            s->done = 1;
            break;
        }
        if (s->off == s->len) {
            int r = fill(s);
            if (r < 0) return -1;
            if (r > 0) {
                if (s->chunked || (s->has_length && s->remaining)) return -1; /* cut short */
                s->done = 1;
                break;
            }
            continue;
        }
        size_t avail = s->len - s->off;
        if ((s->chunked || s->has_length) && (long long)avail > s->remaining)
            avail = (size_t)s->remaining;
        if (avail > cap) avail = cap;
        memcpy(out, s->buf + s->off, avail);
        s->off += avail;
        if (s->chunked || s->has_length) s->remaining -= (long long)avail;
        return (long)avail;
    }
    return 0;
}

void http_stream_close(http_stream *s) {
    if (!s) return;
    if (s->fd >= 0) {
        if (!s->done) {
            /* Reset rather than linger, like a browser tab that goes away. */
            struct linger lg = {1, 0};
            setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(s->fd);
    }
    free(s->headers);
    free(s);
}

int http_request(int port, const char *method, const char *path, const char *extra_headers,
                 const void *body, size_t body_len, http_response *out, int timeout_ms) {
    memset(out, 0, sizeof *out);
    http_stream *s =
        http_stream_open(port, method, path, extra_headers, body, body_len, timeout_ms);
    if (!s) return -1;
    size_t cap = 65536, len = 0;
    char *b = malloc(cap + 1);
    int rc = 0;
    while (b) {
        if (len == cap) {
            cap *= 2;
            char *nb = realloc(b, cap + 1);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
        }
        long n = http_stream_read(s, b + len, cap - len);
        if (n < 0) {
            rc = -1;
            break;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    if (!b) rc = -1;
    out->status = s->status;
    out->headers = s->headers;
    s->headers = NULL;
    out->body = b;
    if (b) b[len] = 0;
    out->body_len = len;
    http_stream_close(s);
    if (rc) http_response_free(out);
    return rc;
}

void http_response_free(http_response *r) {
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof *r);
}

char *http_upload_body(const char *boundary, const char *operations, const char *field,
                       const char *filename, const void *content, size_t len, size_t *n) {
    const char *head_fmt =
        "--%s\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n%s\r\n"
        "--%s\r\nContent-Disposition: form-data; "
        "name=\"map\"\r\n\r\n{\"%s\":[\"variables.file\"]}\r\n"
        "--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
        "Content-Type: video/mp4\r\n\r\n";
    int head = snprintf(NULL, 0, head_fmt, boundary, operations, boundary, field, boundary, field,
                        filename);
    int tail = snprintf(NULL, 0, "\r\n--%s--\r\n", boundary);
    if (head < 0 || tail < 0) return NULL;
    size_t cap = (size_t)head + len + (size_t)tail + 1;
    char *body = malloc(cap);
    if (!body) return NULL;
    snprintf(body, cap, head_fmt, boundary, operations, boundary, field, boundary, field, filename);
    if (len) memcpy(body + head, content, len);
    snprintf(body + (size_t)head + len, cap - (size_t)head - len, "\r\n--%s--\r\n", boundary);
    *n = cap - 1;
    return body;
}
