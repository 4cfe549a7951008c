#include "io/rle.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

/* Each value needs at most 7 groups: 32 bits of magnitude plus the sign fits in 35 bits. */
#define RLE_MAX_GROUPS 7

static int check_size(int h, int w, sam2_error *err) {
    if (h < 0 || w < 0) return sam2_fail(err, SAM2_ERR_ARGUMENT, "RLE: negative size %dx%d", h, w);
    if ((int64_t)h * w > RLE_MAX_AREA)
        return sam2_fail(err, SAM2_ERR_LIMIT, "RLE: mask %dx%d is larger than 2^31 - 1 pixels", h,
                         w);
    return 0;
}

int rle_runs_from_mask(const uint8_t *mask, int h, int w, uint32_t **runs, size_t *nruns,
                       sam2_error *err) {
    *runs = NULL;
    *nruns = 0;
    int rc = check_size(h, w, err);
    if (rc) return rc;
    if (!mask && (int64_t)h * w > 0) return sam2_fail(err, SAM2_ERR_ARGUMENT, "RLE: no mask");
    /* Two passes (count, then fill) so a large mask never needs a worst-case run array. */
    size_t n = 1;
    int prev = 0;
    for (int x = 0; x < w; x++)
        for (int y = 0; y < h; y++) {
            int v = mask[(size_t)y * w + x] != 0;
            if (v != prev) n++, prev = v;
        }
    uint32_t *r = malloc(n * sizeof *r);
    if (!r) return sam2_fail(err, SAM2_ERR_NOMEM, "RLE: out of memory for %zu runs", n);
    size_t k = 0;
    uint32_t len = 0;
    prev = 0;
    for (int x = 0; x < w; x++)
        for (int y = 0; y < h; y++) {
            int v = mask[(size_t)y * w + x] != 0;
            if (v != prev) r[k++] = len, len = 0, prev = v;
            len++;
        }
    r[k++] = len;
    *runs = r;
    *nruns = k;
    return 0;
}

int rle_runs_to_mask(const uint32_t *runs, size_t nruns, int h, int w, uint8_t *mask_out,
                     sam2_error *err) {
    int rc = check_size(h, w, err);
    if (rc) return rc;
    uint64_t total = 0, area = (uint64_t)h * (uint64_t)w;
    for (size_t i = 0; i < nruns; i++) {
        total += runs[i];
        if (total > area)
            return sam2_fail(err, SAM2_ERR_FORMAT,
                             "RLE: runs cover more than the %dx%d mask (run %zu)", h, w, i);
    }
    if (total != area)
        return sam2_fail(err, SAM2_ERR_FORMAT,
                         "RLE: runs cover %llu pixels, the %dx%d mask has %llu",
                         (unsigned long long)total, h, w, (unsigned long long)area);
    if (area == 0) return 0;
    memset(mask_out, 0, (size_t)area);
    /* Walk the column-major position with its (y, x) pair instead of dividing per pixel. */
    int y = 0, x = 0;
    for (size_t i = 0; i < nruns; i++) {
        uint32_t len = runs[i];
        if (i & 1) {
            for (uint32_t j = 0; j < len; j++) {
                mask_out[(size_t)y * w + x] = 1;
                if (++y == h) y = 0, x++;
            }
        } else {
            uint64_t pos = (uint64_t)x * h + y + len;
            x = (int)(pos / (uint64_t)h);
            y = (int)(pos % (uint64_t)h);
        }
    }
    return 0;
}

int rle_runs_to_string(const uint32_t *runs, size_t nruns, char **out, sam2_error *err) {
    *out = NULL;
    if (nruns > (SIZE_MAX - 1) / RLE_MAX_GROUPS)
        return sam2_fail(err, SAM2_ERR_LIMIT, "RLE: too many runs (%zu)", nruns);
    char *s = malloc(nruns * RLE_MAX_GROUPS + 1);
    if (!s) return sam2_fail(err, SAM2_ERR_NOMEM, "RLE: out of memory for %zu runs", nruns);
    size_t p = 0;
    for (size_t i = 0; i < nruns; i++) {
        int64_t x = runs[i];
        if (i > 2) x -= runs[i - 2];
        for (;;) {
            int c = (int)(x & 0x1f);
            x = (x - c) / 32; /* exact floor division, portable for negative values */
            /* Stop once the remaining value is pure sign extension of the group's bit 4. */
            int more = (c & 0x10) ? x != -1 : x != 0;
            if (more) c |= 0x20;
            s[p++] = (char)(c + 48);
            if (!more) break;
        }
    }
    s[p] = 0;
    *out = s;
    return 0;
}

int rle_string_to_runs(const char *counts, uint32_t **runs, size_t *nruns, sam2_error *err) {
    *runs = NULL;
    *nruns = 0;
    if (!counts) return sam2_fail(err, SAM2_ERR_ARGUMENT, "RLE: no counts string");
    size_t len = strlen(counts);
    uint32_t *r = malloc((len ? len : 1) * sizeof *r);
    if (!r) return sam2_fail(err, SAM2_ERR_NOMEM, "RLE: out of memory for a %zu-byte string", len);
    size_t m = 0, p = 0;
    while (p < len) {
        uint64_t bits = 0;
        int k = 0, c;
        size_t start = p;
        do {
            if (p >= len) {
                free(r);
                return sam2_fail(err, SAM2_ERR_FORMAT,
                                 "RLE: counts string ends inside the value starting at byte %zu",
                                 start);
            }
            c = (unsigned char)counts[p] - 48;
            if (c < 0 || c > 63) {
                free(r);
                return sam2_fail(err, SAM2_ERR_FORMAT, "RLE: invalid character 0x%02x at byte %zu",
                                 (unsigned char)counts[p], p);
            }
            if (k == RLE_MAX_GROUPS) {
                free(r);
                return sam2_fail(err, SAM2_ERR_FORMAT, "RLE: value at byte %zu is too long", start);
            }
            bits |= (uint64_t)(c & 0x1f) << (5 * k);
            k++, p++;
        } while (c & 0x20);
        int64_t x;
        if (c & 0x10) /* negative: sign-extend above the 5k bits read */
            x = (int64_t)bits - ((int64_t)1 << (5 * k));
        else
            x = (int64_t)bits;
        if (m > 2) x += r[m - 2];
        if (x < 0 || x > (int64_t)UINT32_MAX) {
            free(r);
            return sam2_fail(err, SAM2_ERR_FORMAT, "RLE: run %zu is out of range (%lld)", m,
                             (long long)x);
        }
        r[m++] = (uint32_t)x;
    }
    *runs = r;
    *nruns = m;
    return 0;
}

int rle_encode(const uint8_t *mask, int h, int w, char **out_counts, sam2_error *err) {
    uint32_t *runs;
    size_t n;
    *out_counts = NULL;
    int rc = rle_runs_from_mask(mask, h, w, &runs, &n, err);
    if (rc) return rc;
    rc = rle_runs_to_string(runs, n, out_counts, err);
    free(runs);
    return rc;
}

int rle_decode(const char *counts, int h, int w, uint8_t *mask_out, sam2_error *err) {
    uint32_t *runs;
    size_t n;
    int rc = rle_string_to_runs(counts, &runs, &n, err);
    if (rc) return rc;
    rc = rle_runs_to_mask(runs, n, h, w, mask_out, err);
    free(runs);
    return rc;
}

int64_t rle_area(const char *counts, int h, int w, sam2_error *err) {
    uint32_t *runs;
    size_t n;
    if (check_size(h, w, err)) return -1;
    if (rle_string_to_runs(counts, &runs, &n, err)) return -1;
    uint64_t total = 0, ones = 0;
    for (size_t i = 0; i < n; i++) {
        total += runs[i];
        if (i & 1) ones += runs[i];
    }
    free(runs);
    if (total != (uint64_t)h * (uint64_t)w) {
        sam2_fail(err, SAM2_ERR_FORMAT, "RLE: runs cover %llu pixels, the %dx%d mask has %llu",
                  (unsigned long long)total, h, w, (unsigned long long)h * (uint64_t)w);
        return -1;
    }
    return (int64_t)ones;
}
