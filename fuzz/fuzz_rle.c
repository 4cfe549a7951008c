/* libFuzzer target for src/io/rle.c. Input: 2 bytes of size, 1 byte of mode, then the payload.
 *   mode even: the payload is a counts string, decoded for the fuzzed size; when it decodes,
 *              re-encoding gives a string that decodes to the same mask and is canonical.
 *   mode odd:  the payload's bits are a mask; encode -> decode must give it back.
 * Sizes stay below 2^20 pixels so the harness never allocates much; the size limits
 * themselves are exercised with size-only calls. */
#include "io/rle.h"

#include <stdlib.h>
#include <string.h>

static void check(int ok) {
    if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    int h = data[0] % 97, w = data[1] % 97, mode = data[2];
    if (mode & 2) h *= 5, w *= 3; /* now and then larger than the payload */
    const uint8_t *p = data + 3;
    size_t n = size - 3, area = (size_t)h * w;
    uint8_t *mask = calloc(area + 1, 1), *back = calloc(area + 1, 1);
    char *again = NULL;
    sam2_error err;
    if (mode & 1) {
        for (size_t i = 0; i < area; i++) mask[i] = n ? (p[(i / 8) % n] >> (i % 8)) & 1 : 0;
        check(rle_encode(mask, h, w, &again, &err) == 0);
        check(rle_decode(again, h, w, back, &err) == 0);
        check(area == 0 || memcmp(mask, back, area) == 0);
    } else {
        char *s = malloc(n + 1);
        memcpy(s, p, n);
        s[n] = 0;
        int64_t ones = rle_area(s, h, w, &err);
        if (rle_decode(s, h, w, mask, &err) == 0) {
            int64_t count = 0;
            for (size_t i = 0; i < area; i++) count += mask[i];
            check(count == ones);
            check(rle_encode(mask, h, w, &again, &err) == 0);
            check(rle_decode(again, h, w, back, &err) == 0);
            check(area == 0 || memcmp(mask, back, area) == 0);
            char *third = NULL;
            check(rle_encode(back, h, w, &third, &err) == 0);
            check(strcmp(third, again) == 0);
            free(third);
        } else {
            check(ones == -1);
        }
        /* the same string against sizes beyond any buffer: only the area check may run */
        (void)rle_area(s, 65536, 65536, &err);
        free(s);
    }
    free(again);
    free(mask);
    free(back);
    return 0;
}
