#include "support/npy_mini.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_shape(const char *h, npy_mini *a) {
    const char *p = strstr(h, "'shape':");
    if (!p || !(p = strchr(p, '('))) return -1;
    p++;
    a->ndim = 0;
    a->numel = 1;
    for (;;) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') return 0;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 0 || a->ndim == 8) return -1;
        a->shape[a->ndim++] = v;
        a->numel *= v;
        p = end;
    }
}

int npy_mini_load(const char *path, npy_mini *a) {
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "npy_mini: cannot open %s\n", path);
        return -1;
    }
    unsigned char pre[12];
    int rc = -1;
    if (fread(pre, 1, 10, f) == 10 && !memcmp(pre, "\x93NUMPY", 6)) {
        size_t hlen = pre[8] | pre[9] << 8;
        if (pre[6] >= 2 && fread(pre + 10, 1, 2, f) == 2)
            hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 |
                   (size_t)pre[11] << 24;
        char *h = malloc(hlen + 1);
        if (h && fread(h, 1, hlen, f) == hlen) {
            h[hlen] = 0;
            if (strstr(h, "'descr': '<f4'") && strstr(h, "'fortran_order': False") &&
                parse_shape(h, a) == 0) {
                a->data = malloc((size_t)(a->numel ? a->numel : 1) * sizeof(float));
                if (a->data &&
                    fread(a->data, sizeof(float), (size_t)a->numel, f) == (size_t)a->numel)
                    rc = 0;
            }
        }
        free(h);
    }
    fclose(f);
    if (rc) {
        fprintf(stderr, "npy_mini: %s is not a float32 C-order .npy\n", path);
        npy_mini_free(a);
    }
    return rc;
}

void npy_mini_free(npy_mini *a) {
    free(a->data);
    memset(a, 0, sizeof *a);
}
