/* A growable byte buffer for building responses, JSON text and multipart parts. Appends never
 * fail silently: after an allocation failure the buffer is marked broken (`failed`) and every
 * later append is a no-op, so callers check once at the end. */
#ifndef SAM2_SERVER_STRBUF_H
#define SAM2_SERVER_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct strbuf {
    char *data; /* NUL-terminated while not failed */
    size_t len;
    size_t cap;
    int failed;
} strbuf;

void sb_init(strbuf *sb);
void sb_free(strbuf *sb);
void sb_reset(strbuf *sb);
void sb_append(strbuf *sb, const void *data, size_t n);
void sb_puts(strbuf *sb, const char *s);
void sb_putc(strbuf *sb, char c);
void sb_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(strbuf *sb, const char *fmt, va_list ap);
/* Appends s as a JSON string literal (quotes included, control characters escaped). */
void sb_json_string(strbuf *sb, const char *s);
/* Hands the buffer over to the caller (NULL when failed); the strbuf is left empty. */
char *sb_take(strbuf *sb, size_t *len);

#endif
