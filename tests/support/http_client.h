/* A small blocking HTTP/1.1 client for the server tests (plain sockets on 127.0.0.1): whole
 * requests with Content-Length or chunked answers, and incremental reads of streamed answers. */
#ifndef SAM2_TEST_HTTP_CLIENT_H
#define SAM2_TEST_HTTP_CLIENT_H

#include <stddef.h>

typedef struct http_response {
    int status;
    char *headers; /* raw header block (NUL-terminated), status line excluded */
    char *body;    /* NUL-terminated (body_len bytes) */
    size_t body_len;
} http_response;

/* extra_headers: "Name: value\r\n" lines or NULL. Returns 0 or -1 (connection/parse failure). */
int http_request(int port, const char *method, const char *path, const char *extra_headers,
                 const void *body, size_t body_len, http_response *out, int timeout_ms);
void http_response_free(http_response *r);
/* Value of a response header (case-insensitive name), copied into buf; NULL when absent. */
const char *http_header(const char *headers, const char *name, char *buf, size_t cap);

/* The body of a GraphQL multipart request (the spec Relay follows for uploads): the part
 * "operations" (JSON text), the part "map" ({"<field>":["variables.file"]}), then `len` bytes of
 * content as the part <field>, a file named filename of type video/mp4. Send it with
 * "Content-Type: multipart/form-data; boundary=<boundary>". malloc'd, *n bytes; NULL when out of
 * memory. */
char *http_upload_body(const char *boundary, const char *operations, const char *field,
                       const char *filename, const void *content, size_t len, size_t *n);

/* Streaming: send the request, read the status line and headers, then read the body bit by bit. */
typedef struct http_stream http_stream;
http_stream *http_stream_open(int port, const char *method, const char *path,
                              const char *extra_headers, const void *body, size_t body_len,
                              int timeout_ms);
int http_stream_status(const http_stream *s);
const char *http_stream_headers(const http_stream *s);
/* Decoded body bytes (chunked encoding removed): > 0 bytes, 0 at the end, -1 on error/timeout. */
long http_stream_read(http_stream *s, void *buf, size_t cap);
/* Closes the connection (abruptly when the body was not read to the end). */
void http_stream_close(http_stream *s);

#endif
