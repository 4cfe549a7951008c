#include "support/media_testutil.h"

#include <nettle/sha2.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *test_png_read_rgb(const char *path, int *w, int *h) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path)) return NULL;
    img.format = PNG_FORMAT_RGB;
    uint8_t *buf = malloc(PNG_IMAGE_SIZE(img));
    if (!buf || !png_image_finish_read(&img, NULL, buf, 0, NULL)) {
        free(buf);
        png_image_free(&img);
        return NULL;
    }
    *w = (int)img.width;
    *h = (int)img.height;
    return buf;
}

int test_png_write_rgb(const char *path, const uint8_t *rgb, int w, int h) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_RGB;
    return png_image_write_to_file(&img, path, 0, rgb, 0, NULL) ? 0 : -1;
}

void test_sha256_hex(const void *data, size_t n, char hex[65]) {
    struct sha256_ctx c;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&c);
    sha256_update(&c, n, data);
    sha256_digest(&c, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static size_t dtype_size(const char *d) {
    size_t n = strlen(d);
    return n >= 3 ? (size_t)atoi(d + 2) : 0;
}

int test_npy_load(const char *path, test_npy *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    uint8_t pre[12];
    int rc = -1;
    char *hdr = NULL;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) goto done;
    size_t hlen;
    if (pre[6] == 1) {
        hlen = pre[8] | (size_t)pre[9] << 8;
    } else {
        if (fread(pre + 10, 1, 2, f) != 2) goto done;
        hlen = pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    }
    hdr = calloc(1, hlen + 1);
    if (!hdr || fread(hdr, 1, hlen, f) != hlen) goto done;
    const char *d = strstr(hdr, "'descr': '");
    const char *s = strstr(hdr, "'shape': (");
    if (!d || !s || strstr(hdr, "'fortran_order': True")) goto done;
    sscanf(d + 10, "%7[^']", out->dtype);
    s += 10;
    out->count = 1;
    while (*s && *s != ')') {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s) break;
        out->shape[out->ndim++] = v;
        out->count *= (size_t)v;
        s = end;
        while (*s == ',' || *s == ' ') s++;
    }
    size_t bytes = out->count * dtype_size(out->dtype);
    out->data = malloc(bytes ? bytes : 1);
    if (!out->data || fread(out->data, 1, bytes, f) != bytes) goto done;
    rc = 0;
done:
    free(hdr);
    fclose(f);
    if (rc) test_npy_free(out);
    return rc;
}

void test_npy_free(test_npy *a) {
    free(a->data);
    memset(a, 0, sizeof *a);
}
