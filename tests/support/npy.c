#include "support/npy.h"

#include "core/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name, *descr;
    size_t size;
} dtypes[NPY_DTYPE_COUNT] = {
    [NPY_F32] = {"float32", "<f4", 4}, [NPY_F64] = {"float64", "<f8", 8},
    [NPY_I32] = {"int32", "<i4", 4},   [NPY_I64] = {"int64", "<i8", 8},
    [NPY_U16] = {"uint16", "<u2", 2},  [NPY_U8] = {"uint8", "|u1", 1},
    [NPY_BOOL] = {"bool", "|b1", 1},
};

const char *npy_dtype_name(npy_dtype t) {
    return (unsigned)t < NPY_DTYPE_COUNT ? dtypes[t].name : "?";
}
size_t npy_dtype_size(npy_dtype t) {
    return (unsigned)t < NPY_DTYPE_COUNT ? dtypes[t].size : 0;
}

int npy_dtype_from_name(const char *name) {
    for (int i = 0; name && i < NPY_DTYPE_COUNT; i++)
        if (!strcmp(name, dtypes[i].name)) return i;
    return -1;
}

/* Single-byte types may be written with any byte-order mark; '<' and '=' mean little-endian
 * here (the reader only runs on little-endian machines, as the project does). */
static int dtype_from_descr(const char *d) {
    char kind = 0;
    int bytes = 0;
    if ((d[0] == '<' || d[0] == '|' || d[0] == '=') && d[1])
        kind = d[1], bytes = atoi(d + 2);
    else if (d[0] == '>' && (d[1] == 'u' || d[1] == 'b' || d[1] == 'i') && !strcmp(d + 2, "1"))
        kind = d[1], bytes = 1;
    else
        return -1;
    if (d[0] == '|' && bytes != 1) return -1;
    switch (kind) {
    case 'f':
        return bytes == 4 ? NPY_F32 : bytes == 8 ? NPY_F64 : -1;
    case 'i':
        return bytes == 4 ? NPY_I32 : bytes == 8 ? NPY_I64 : -1;
    case 'u':
        return bytes == 2 ? NPY_U16 : bytes == 1 ? NPY_U8 : -1;
    case 'b':
        return bytes == 1 ? NPY_BOOL : -1;
    default:
        return -1;
    }
}

/* Finds 'key': in the header dict and returns a pointer just past the colon. */
static const char *find_key(const char *hdr, const char *key) {
    char q1[64], q2[64];
    snprintf(q1, sizeof q1, "'%s'", key);
    snprintf(q2, sizeof q2, "\"%s\"", key);
    const char *p = strstr(hdr, q1);
    if (!p) p = strstr(hdr, q2);
    if (!p) return NULL;
    p += strlen(q1);
    while (*p == ' ') p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ') p++;
    return p;
}

static int parse_header(const char *hdr, npy_array *a, sam2_error *err) {
    const char *p = find_key(hdr, "descr");
    if (!p || (*p != '\'' && *p != '"'))
        return sam2_fail(err, SAM2_ERR_FORMAT, "header has no 'descr'");
    char descr[16];
    const char *end = strchr(p + 1, *p);
    if (!end || end - p - 1 >= (int)sizeof descr)
        return sam2_fail(err, SAM2_ERR_FORMAT, "bad 'descr'");
    memcpy(descr, p + 1, end - p - 1);
    descr[end - p - 1] = 0;
    int t = dtype_from_descr(descr);
    if (t < 0)
        return sam2_fail(err, SAM2_ERR_UNSUPPORTED,
                         "dtype '%s' is not supported (little-endian float32/64, int32/64, uint16, "
                         "uint8, bool)",
                         descr);
    a->dtype = (npy_dtype)t;

    p = find_key(hdr, "fortran_order");
    if (!p) return sam2_fail(err, SAM2_ERR_FORMAT, "header has no 'fortran_order'");
    if (!strncmp(p, "True", 4))
        return sam2_fail(err, SAM2_ERR_UNSUPPORTED, "Fortran-order arrays are not supported");
    if (strncmp(p, "False", 5)) return sam2_fail(err, SAM2_ERR_FORMAT, "bad 'fortran_order'");

    p = find_key(hdr, "shape");
    if (!p || *p != '(') return sam2_fail(err, SAM2_ERR_FORMAT, "header has no 'shape' tuple");
    p++;
    a->ndim = 0;
    a->numel = 1;
    for (;;) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        if (*p < '0' || *p > '9') return sam2_fail(err, SAM2_ERR_FORMAT, "bad 'shape'");
        if (a->ndim == NPY_MAX_DIMS)
            return sam2_fail(err, SAM2_ERR_UNSUPPORTED, "more than %d dimensions", NPY_MAX_DIMS);
        errno = 0;
        char *e;
        long long v = strtoll(p, &e, 10);
        if (errno || v > ((int64_t)1 << 40))
            return sam2_fail(err, SAM2_ERR_FORMAT, "dimension too large in 'shape'");
        if (v > 0 && a->numel > ((int64_t)1 << 40) / v)
            return sam2_fail(err, SAM2_ERR_FORMAT, "'shape' has too many elements");
        a->shape[a->ndim++] = v;
        a->numel *= v;
        p = e;
    }
    return 0;
}

int npy_parse(const void *buf, size_t size, npy_array *out, sam2_error *err) {
    memset(out, 0, sizeof *out);
    const uint8_t *b = buf;
    if (size < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
        return sam2_fail(err, SAM2_ERR_FORMAT, "not a .npy file (bad magic)");
    int major = b[6];
    size_t hlen, hstart;
    if (major == 1) {
        hlen = b[8] | (size_t)b[9] << 8;
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (size < 12) return sam2_fail(err, SAM2_ERR_FORMAT, "truncated .npy header");
        hlen = b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        hstart = 12;
    } else {
        return sam2_fail(err, SAM2_ERR_UNSUPPORTED, ".npy format version %d.%d is not supported",
                         major, b[7]);
    }
    if (hlen > size - hstart) return sam2_fail(err, SAM2_ERR_FORMAT, "truncated .npy header");
    char *hdr = malloc(hlen + 1);
    if (!hdr) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    memcpy(hdr, b + hstart, hlen);
    hdr[hlen] = 0;
    if (strlen(hdr) != hlen || hdr[0] != '{') {
        free(hdr);
        return sam2_fail(err, SAM2_ERR_FORMAT, "header is not a dict");
    }
    int rc = parse_header(hdr, out, err);
    free(hdr);
    if (rc) return rc;
    size_t bytes = (size_t)out->numel * npy_dtype_size(out->dtype);
    size_t have = size - hstart - hlen;
    if (have != bytes)
        return sam2_fail(err, SAM2_ERR_FORMAT, "data has %zu bytes, shape and dtype need %zu", have,
                         bytes);
    out->data = malloc(bytes ? bytes : 1);
    if (!out->data) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for %zu bytes", bytes);
    memcpy(out->data, b + hstart + hlen, bytes);
    return 0;
}

int npy_load(const char *path, npy_array *out, sam2_error *err) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return sam2_fail(err, SAM2_ERR_IO, "%s: %s", path, strerror(errno));
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return sam2_fail(err, SAM2_ERR_NOMEM, "%s: out of memory", path);
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return sam2_fail(err, SAM2_ERR_IO, "%s: read error", path);
    }
    int rc = npy_parse(buf, n, out, err);
    free(buf);
    if (rc) sam2_error_prefix(err, "%s", path);
    return rc;
}

void npy_free(npy_array *a) {
    if (!a) return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

int npy_alloc(npy_array *a, npy_dtype t, int ndim, const int64_t *shape, sam2_error *err) {
    memset(a, 0, sizeof *a);
    if (ndim < 0 || ndim > NPY_MAX_DIMS || (unsigned)t >= NPY_DTYPE_COUNT)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "npy_alloc: bad dtype or rank");
    a->dtype = t;
    a->ndim = ndim;
    a->numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] > 0 && a->numel > ((int64_t)1 << 40) / shape[i]))
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "npy_alloc: bad shape");
        a->shape[i] = shape[i];
        a->numel *= shape[i];
    }
    size_t bytes = (size_t)a->numel * npy_dtype_size(t);
    a->data = calloc(bytes ? bytes : 1, 1);
    if (!a->data) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for %zu bytes", bytes);
    return 0;
}

double npy_get(const npy_array *a, int64_t i) {
    switch (a->dtype) {
    case NPY_F32:
        return ((const float *)a->data)[i];
    case NPY_F64:
        return ((const double *)a->data)[i];
    case NPY_I32:
        return ((const int32_t *)a->data)[i];
    case NPY_I64:
        return (double)((const int64_t *)a->data)[i];
    case NPY_U16:
        return ((const uint16_t *)a->data)[i];
    case NPY_U8:
        return ((const uint8_t *)a->data)[i];
    case NPY_BOOL:
        return ((const uint8_t *)a->data)[i] != 0;
    default:
        return 0;
    }
}

int npy_serialize(const npy_array *a, uint8_t **out, size_t *out_size, sam2_error *err) {
    char hdr[512];
    int n = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     dtypes[a->dtype].descr);
    for (int i = 0; i < a->ndim; i++)
        n += snprintf(hdr + n, sizeof hdr - n, "%lld%s", (long long)a->shape[i],
                      a->ndim == 1      ? ","
                      : i + 1 < a->ndim ? ", "
                                        : "");
    n += snprintf(hdr + n, sizeof hdr - n, "), }");
    /* Pad with spaces so the data starts on a 64-byte boundary, newline last (as numpy does). */
    size_t total_hdr = 10 + (size_t)n + 1;
    size_t pad = (64 - total_hdr % 64) % 64;
    size_t hlen = (size_t)n + pad + 1;
    size_t bytes = (size_t)a->numel * npy_dtype_size(a->dtype);
    uint8_t *b = malloc(10 + hlen + bytes);
    if (!b) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (uint8_t)(hlen & 0xff), b[9] = (uint8_t)(hlen >> 8);
    memcpy(b + 10, hdr, n);
    memset(b + 10 + n, ' ', pad);
    b[10 + n + pad] = '\n';
    memcpy(b + 10 + hlen, a->data, bytes);
    *out = b;
    *out_size = 10 + hlen + bytes;
    return 0;
}
