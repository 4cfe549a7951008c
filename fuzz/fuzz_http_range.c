/* libFuzzer target for src/server/http_range.c: the Range header of a GET on a gallery video,
 * poster or upload (outside input: any client sends it). Input: 8 bytes of file size
 * (little-endian; the top byte's high bits cleared so sizes up to 2^56 occur), then the header
 * value. Checks: the answer is -1, 0 or 1; a range is inside the file and not empty; a header
 * in canonical form "bytes=F-L" for a range that was accepted gives the same range back. */
#include "server/http_range.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok) {
    if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 8 || size > 4096) return 0;
    unsigned long long file_size = 0;
    for (int i = 0; i < 8; i++) file_size |= (unsigned long long)data[i] << (8 * i);
    file_size &= (1ULL << 56) - 1;
    char *header = malloc(size - 8 + 1);
    if (!header) return 0;
    memcpy(header, data + 8, size - 8);
    header[size - 8] = 0;
    unsigned long long first = ~0ULL, last = ~0ULL;
    const int rc = http_parse_range(header, file_size, &first, &last);
    check(rc >= -1 && rc <= 1);
    if (rc == 1) {
        check(first <= last && last < file_size);
        char canon[64];
        snprintf(canon, sizeof canon, "bytes=%llu-%llu", first, last);
        unsigned long long f2 = 0, l2 = 0;
        check(http_parse_range(canon, file_size, &f2, &l2) == 1 && f2 == first && l2 == last);
    } else {
        check(first == ~0ULL && last == ~0ULL); /* nothing written unless it says so */
    }
    free(header);
    return 0;
}
