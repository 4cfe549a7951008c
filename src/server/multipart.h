/* Streaming multipart/form-data parser (RFC 7578 / RFC 2046), used for GraphQL multipart
 * requests (uploads). Data is fed in arbitrary chunks; parts are reported through callbacks with
 * their name, filename and content type, then their bytes in pieces. Header sizes, the number of
 * parts and the boundary are bounded; any malformation is an error with a message. */
#ifndef SAM2_SERVER_MULTIPART_H
#define SAM2_SERVER_MULTIPART_H

#include <stddef.h>

typedef struct mp_callbacks {
    /* filename and content_type may be NULL. Return non-zero to abort (the message is yours). */
    int (*part_begin)(void *user, const char *name, const char *filename, const char *content_type);
    int (*part_data)(void *user, const char *data, size_t n);
    int (*part_end)(void *user);
} mp_callbacks;

typedef struct multipart_parser multipart_parser;

/* Reads the boundary from a Content-Type header value ("multipart/form-data; boundary=...").
 * Returns NULL with msg set when the header is not usable. */
multipart_parser *mp_new(const char *content_type, const mp_callbacks *cb, void *user, char *msg,
                         size_t cap);
/* Returns 0, or -1 (see mp_error); after an error every call fails. */
int mp_feed(multipart_parser *p, const char *data, size_t n);
/* Checks the body ended with the closing delimiter. */
int mp_finish(multipart_parser *p);
const char *mp_error(const multipart_parser *p);
/* Set when a callback aborted (its own message applies). */
int mp_aborted(const multipart_parser *p);
void mp_free(multipart_parser *p);

#endif
