#include "cli/mask_input.h"

#include "sam2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAX_BYTES ((long)1 << 30)

static void *read_all(const char *path, long *size, sam2_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        sam2_fail(err, SAM2_ERR_IO, "%s: cannot open", path);
        return NULL;
    }
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n < 0 || n > NPY_MAX_BYTES || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        sam2_fail(err, SAM2_ERR_IO, "%s: cannot read (or larger than 1 GiB)", path);
        return NULL;
    }
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        sam2_fail(err, SAM2_ERR_IO, "%s: read failed", path);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *size = n;
    return buf;
}

/* The value text after 'key': in the header dict, or NULL. */
static const char *dict_value(const char *hdr, const char *key) {
    const char *p = strstr(hdr, key);
    if (!p) return NULL;
    p = strchr(p + strlen(key), ':');
    if (!p) return NULL;
    p++;
    while (*p == ' ') p++;
    return p;
}

int mask_input_parse_npy(const char *path, const unsigned char *b, long size, int L, float **out,
                         sam2_error *err) {
    *out = NULL;
    if (size < 6 || memcmp(b, "\x93NUMPY", 6))
        return sam2_fail(err, SAM2_ERR_FORMAT, "%s: not a .npy file", path);
    if (size < 10) return sam2_fail(err, SAM2_ERR_FORMAT, "%s: truncated .npy header", path);
    const int major = b[6];
    long hlen, off;
    if (major == 1) {
        hlen = b[8] | (long)b[9] << 8;
        off = 10;
    } else if ((major == 2 || major == 3) && size >= 12) {
        hlen = b[8] | (long)b[9] << 8 | (long)b[10] << 16 | (long)b[11] << 24;
        off = 12;
    } else {
        return sam2_fail(err, SAM2_ERR_UNSUPPORTED, "%s: .npy format version %d", path, major);
    }
    if (hlen <= 0 || off + hlen > size)
        return sam2_fail(err, SAM2_ERR_FORMAT, "%s: truncated .npy header", path);
    char hdr[1024];
    if (hlen >= (long)sizeof hdr)
        return sam2_fail(err, SAM2_ERR_FORMAT, "%s: .npy header too long", path);
    memcpy(hdr, b + off, (size_t)hlen);
    hdr[hlen] = '\0';
    const char *descr = dict_value(hdr, "'descr'"), *fortran = dict_value(hdr, "'fortran_order'");
    const char *shape = dict_value(hdr, "'shape'");
    if (!descr || !fortran || !shape || *shape != '(')
        return sam2_fail(err, SAM2_ERR_FORMAT, "%s: .npy header lacks descr/fortran_order/shape",
                         path);
    if (strncmp(descr, "'<f4'", 5) != 0)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s: .npy dtype %.6s, expected float32 ('<f4')",
                         path, descr);
    if (strncmp(fortran, "False", 5) != 0)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s: Fortran-ordered .npy is not supported", path);
    long dims[8];
    int nd = 0;
    const char *p = shape + 1;
    while (*p && *p != ')') {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || nd == 8) return sam2_fail(err, SAM2_ERR_FORMAT, "%s: bad .npy shape", path);
        dims[nd++] = v;
        p = end;
        while (*p == ',' || *p == ' ') p++;
    }
    int lead_ones = 1;
    for (int i = 0; i + 2 < nd; i++) lead_ones &= dims[i] == 1;
    if (nd < 2 || nd > 4 || !lead_ones || dims[nd - 2] != L || dims[nd - 1] != L) {
        char got[128] = "";
        for (int i = 0; i < nd; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%ld", i ? ", " : "", dims[i]);
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "%s: mask input has shape (%s); this model needs (%d, %d) or "
                         "(1, %d, %d) low-resolution logits",
                         path, got, L, L, L, L);
    }
    const size_t n = (size_t)L * L;
    if (off + hlen + (long)(n * sizeof(float)) > size)
        return sam2_fail(err, SAM2_ERR_FORMAT, "%s: .npy data is truncated", path);
    *out = malloc(sizeof(float) * n);
    if (!*out) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    memcpy(*out, b + off + hlen, sizeof(float) * n);
    return 0;
}

static int load_image_mask(const char *path, int L, float **out, sam2_error *err) {
    sam2_rgb_image img = {0};
    if (sam2_rgb_image_load_file(path, &img, err)) return -1;
    const size_t hw = (size_t)img.width * img.height;
    uint8_t *fg = malloc(hw);
    float *lo = malloc(sizeof(float) * (size_t)L * L);
    if (!fg || !lo) {
        free(fg);
        free(lo);
        sam2_rgb_image_free(&img);
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for the mask input");
    }
    /* Any bright channel marks the object, so white, red or green masks all work. */
    for (size_t i = 0; i < hw; i++) {
        const uint8_t *px = img.pixels + 3 * i;
        fg[i] = px[0] >= 128 || px[1] >= 128 || px[2] >= 128;
    }
    const int rc =
        sam2_mask_input_from_mask(fg, img.width, img.height, L, MASK_INPUT_LOGIT, lo, err);
    free(fg);
    sam2_rgb_image_free(&img);
    if (rc) {
        free(lo);
        return -1;
    }
    *out = lo;
    return 0;
}

int mask_input_load(const char *path, int L, float **out, sam2_error *err) {
    *out = NULL;
    long size = 0;
    unsigned char *buf = read_all(path, &size, err);
    if (!buf) return -1;
    int rc;
    if (size >= 6 && !memcmp(buf, "\x93NUMPY", 6)) {
        rc = mask_input_parse_npy(path, buf, size, L, out, err);
        free(buf);
    } else {
        free(buf);
        rc = load_image_mask(path, L, out, err);
    }
    if (rc) sam2_error_prefix(err, "--mask-input");
    return rc;
}
