#include "server/http_range.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int http_parse_range(const char *h, unsigned long long size, unsigned long long *first,
                     unsigned long long *last) {
    if (strncasecmp(h, "bytes=", 6)) return 0;
    const char *p = h + 6;
    while (*p == ' ') p++;
    if (strchr(p, ',')) return 0; /* several ranges: answer the whole file */
    char *end;
    if (*p == '-') {
        if (p[1] < '0' || p[1] > '9') return 0;
        unsigned long long n = strtoull(p + 1, &end, 10);
        while (*end == ' ') end++;
        if (*end) return 0;
        if (n == 0 || size == 0) return -1;
        *first = n >= size ? 0 : size - n;
        *last = size - 1;
        return 1;
    }
    if (*p < '0' || *p > '9') return 0;
    unsigned long long a = strtoull(p, &end, 10);
    if (*end != '-') return 0;
    p = end + 1;
    unsigned long long b = size ? size - 1 : 0;
    if (*p >= '0' && *p <= '9') {
        b = strtoull(p, &end, 10);
        p = end;
        if (b < a) return 0;
    }
    while (*p == ' ') p++;
    if (*p) return 0;
    if (a >= size) return -1;
    if (b >= size) b = size - 1;
    *first = a;
    *last = b;
    return 1;
}
