/* The engine's growable text buffer (messages, error paths, printed values). After an
 * allocation failure the buffer is marked `failed` and later appends do nothing, so callers
 * check once at the end. The engine keeps its own so that it links nothing of the server. */
#ifndef SAM2_GRAPHQL_GQL_BUF_H
#define SAM2_GRAPHQL_GQL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct gql_buf {
    char *data; /* NUL-terminated while not failed */
    size_t len;
    size_t cap;
    int failed;
} gql_buf;

void gb_init(gql_buf *b);
void gb_free(gql_buf *b);
void gb_reset(gql_buf *b);
void gb_append(gql_buf *b, const void *data, size_t n);
void gb_puts(gql_buf *b, const char *s);
void gb_putc(gql_buf *b, char c);
void gb_printf(gql_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (quotes included, control characters escaped). */
void gb_json_string(gql_buf *b, const char *s);

#endif
