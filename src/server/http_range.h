/* The HTTP Range header of a GET on a static file (static.c): one byte range, as browsers send
 * for <video> (RFC 9110, section 14). Outside input: fuzzed by fuzz/fuzz_http_range.c. */
#ifndef SAM2_SERVER_HTTP_RANGE_H
#define SAM2_SERVER_HTTP_RANGE_H

/* Parses "bytes=a-b" / "bytes=a-" / "bytes=-n" for a file of `size` bytes. Returns 1 with
 * [*first, *last] set (first <= last < size), 0 to ignore the header (another unit, several
 * ranges, malformed: the whole file is sent), -1 when unsatisfiable (416). */
int http_parse_range(const char *header, unsigned long long size, unsigned long long *first,
                     unsigned long long *last);

#endif
