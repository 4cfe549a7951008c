/* A strict reader of multipart/x-savi-stream modelled line by line on the official frontend's
 * MultipartStream.ts: it accepts and rejects exactly what the frontend does, with its messages
 * ("bad part boundary", "missing/invalid part Content-Length", "multipart stream ended
 * mid-part", ...). Used by the end-to-end tests on the propagation stream. */
#ifndef SAM2_TEST_SAVI_STREAM_H
#define SAM2_TEST_SAVI_STREAM_H

#include <stddef.h>

typedef void (*savi_part_fn)(void *user, const char *headers, const char *body, size_t len);

typedef struct savi_reader savi_reader;

/* NULL with err set when the Content-Type has no "multipart/...; boundary=" (as getBoundary). */
savi_reader *savi_new(const char *content_type, char *err, size_t cap);
/* Returns 0, or -1 with savi_error() set. headers: "Name: value\n" lines. */
int savi_feed(savi_reader *r, const void *data, size_t n, savi_part_fn fn, void *user);
/* End of the body: an error when a part was left incomplete. */
int savi_end(savi_reader *r);
const char *savi_error(const savi_reader *r);
/* Header value from a part's header block (case-insensitive; repeated names joined by ", "). */
const char *savi_header(const char *headers, const char *name, char *buf, size_t cap);
void savi_free(savi_reader *r);

#endif
