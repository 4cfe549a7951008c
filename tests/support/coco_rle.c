#include "support/coco_rle.h"

#include <stdlib.h>
#include <string.h>

int coco_rle_decode(const char *s, int h, int w, uint8_t *mask) {
    size_t total = (size_t)h * (size_t)w, len = strlen(s);
    long *counts = malloc((len + 1) * sizeof *counts);
    if (!counts) return -1;
    size_t m = 0;
    for (size_t p = 0; p < len;) {
        long x = 0;
        int k = 0, more = 1;
        while (more) {
            if (p >= len || k > 12) {
                free(counts);
                return -1;
            }
            long c = (long)s[p] - 48;
            if (c < 0 || c > 63) {
                free(counts);
                return -1;
            }
            x |= (c & 0x1f) << (5 * k);
            more = (int)(c & 0x20);
            p++;
            k++;
            if (!more && (c & 0x10)) x |= (long)(~0UL << (5 * k)); /* sign extension */
        }
        if (m > 2) x += counts[m - 2];
        counts[m++] = x;
    }
    size_t pos = 0;
    int value = 0;
    for (size_t i = 0; i < m; i++, value ^= 1) {
        if (counts[i] < 0 || pos + (size_t)counts[i] > total) {
            free(counts);
            return -1;
        }
        for (long r = 0; r < counts[i]; r++, pos++) {
            size_t col = pos / (size_t)h, row = pos % (size_t)h;
            mask[row * (size_t)w + col] = (uint8_t)value;
        }
    }
    free(counts);
    return pos == total ? 0 : -1;
}
