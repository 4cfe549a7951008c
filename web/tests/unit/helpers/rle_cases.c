/* Test helper for web/tests/unit/rle.test.ts: prints masks and the counts strings that the
 * project's C encoder (src/io/rle.c) gives them, as JSON lines
 *   {"h":H,"w":W,"bits":"0110...","counts":"..."}
 * so that the page's TypeScript decoder is checked against the server's encoder. The masks are
 * deterministic (a fixed LCG), shaped to produce short, long and sign-changing runs. */
#include "io/rle.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t lcg_state = 12345u;
static uint32_t lcg(void) {
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state >> 8;
}

/* kind 0: empty, 1: full, 2: random pixels, 3: blobs (rectangles), 4: stripes of growing width */
static void make_mask(uint8_t *m, int h, int w, int kind) {
    for (int i = 0; i < h * w; i++) m[i] = kind == 1;
    if (kind == 2)
        for (int i = 0; i < h * w; i++) m[i] = (lcg() % 3) == 0;
    if (kind == 3)
        for (int b = 0; b < 4; b++) {
            int y0 = (int)(lcg() % (uint32_t)h), x0 = (int)(lcg() % (uint32_t)w);
            int y1 = y0 + 1 + (int)(lcg() % (uint32_t)h), x1 = x0 + 1 + (int)(lcg() % (uint32_t)w);
            for (int y = y0; y < y1 && y < h; y++)
                for (int x = x0; x < x1 && x < w; x++) m[y * w + x] = 1;
        }
    if (kind == 4)
        for (int x = 0, band = 1, on = 0; x < w; band++, on = !on)
            for (int k = 0; k < band && x < w; k++, x++)
                for (int y = 0; y < h; y++) m[y * w + x] = (uint8_t)on;
}

int main(void) {
    static const int sizes[][2] = {{1, 1}, {3, 5}, {7, 4}, {16, 16}, {31, 9}, {48, 64}, {2, 300}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (int kind = 0; kind < 5; kind++) {
            int h = sizes[s][0], w = sizes[s][1];
            uint8_t *m = malloc((size_t)h * (size_t)w);
            char *counts = NULL;
            sam2_error err = {0};
            if (!m) return 1;
            make_mask(m, h, w, kind);
            if (rle_encode(m, h, w, &counts, &err)) {
                fprintf(stderr, "rle_encode: %s\n", err.message);
                free(m);
                return 1;
            }
            printf("{\"h\":%d,\"w\":%d,\"bits\":\"", h, w);
            for (int i = 0; i < h * w; i++) putchar(m[i] ? '1' : '0');
            printf("\",\"counts\":\"");
            for (const char *c = counts; *c; c++) {
                if (*c == '"' || *c == '\\') putchar('\\');
                putchar(*c);
            }
            printf("\"}\n");
            free(counts);
            free(m);
        }
    }
    return 0;
}
