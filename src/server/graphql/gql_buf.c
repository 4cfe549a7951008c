#include "server/graphql/gql_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gb_init(gql_buf *b) {
    memset(b, 0, sizeof *b);
}

void gb_free(gql_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

void gb_reset(gql_buf *b) {
    b->len = 0;
    b->failed = 0;
    if (b->data) b->data[0] = 0;
}

/* Makes room for `extra` more bytes and the NUL; marks the buffer failed when it cannot. */
static int reserve(gql_buf *b, size_t extra) {
    if (b->failed) return -1;
    if (extra > ((size_t)-1) / 2 - b->len) {
        b->failed = 1;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void gb_append(gql_buf *b, const void *data, size_t n) {
    if (reserve(b, n)) return;
    if (n) memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = 0;
}

void gb_puts(gql_buf *b, const char *s) {
    gb_append(b, s, strlen(s));
}

void gb_putc(gql_buf *b, char c) {
    gb_append(b, &c, 1);
}

void gb_printf(gql_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n)) {
        b->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void gb_json_string(gql_buf *b, const char *s) {
    gb_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            gb_puts(b, "\\\"");
            break;
        case '\\':
            gb_puts(b, "\\\\");
            break;
        case '\n':
            gb_puts(b, "\\n");
            break;
        case '\r':
            gb_puts(b, "\\r");
            break;
        case '\t':
            gb_puts(b, "\\t");
            break;
        default:
            if (*p < 0x20)
                gb_printf(b, "\\u%04x", *p);
            else
                gb_putc(b, (char)*p);
        }
    }
    gb_putc(b, '"');
}
