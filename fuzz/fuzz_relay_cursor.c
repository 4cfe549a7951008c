/* libFuzzer target for the videos connection's cursors (src/server/schema.c,
 * schema_parse_cursor, over base64_decode in catalog.c): the `after` / `before` strings a client
 * sends back. Input: the cursor text. Checks: an index that parses is in 0..10^9, a rejected
 * cursor gets the message naming the argument, and the cursor the server itself writes for that
 * index (base64 of "arrayconnection:<n>") parses to the same index. */
#include "server/catalog.h"
#include "server/schema_cursor.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok) {
    if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    sam2_error err = {0};
    const long v = schema_parse_cursor("after", text, &err);
    if (v < 0) {
        check(v == -1 && err.code == SAM2_ERR_ARGUMENT && strstr(err.message, "'after'"));
    } else {
        check(v <= 1000000000L && err.code == 0);
        char raw[64];
        snprintf(raw, sizeof raw, "arrayconnection:%ld", v);
        char *canon = base64_encode((const unsigned char *)raw, strlen(raw));
        check(canon != NULL);
        check(schema_parse_cursor("before", canon, &err) == v);
        free(canon);
    }
    /* Whatever decodes re-encodes to base64 that decodes to the same bytes. */
    size_t n = 0;
    unsigned char *bytes = base64_decode(text, &n);
    if (bytes) {
        char *again = base64_encode(bytes, n);
        size_t n2 = 0;
        unsigned char *bytes2 = again ? base64_decode(again, &n2) : NULL;
        check(bytes2 && n2 == n && !memcmp(bytes, bytes2, n));
        free(bytes2);
        free(again);
        free(bytes);
    }
    free(text);
    return 0;
}
