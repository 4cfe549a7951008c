/* Test helpers for media: PNG files (libpng), SHA-256 (nettle) and .npy arrays, used by the
 * video and resize tests to compare against the golden data. */
#ifndef SAM2_MEDIA_TESTUTIL_H
#define SAM2_MEDIA_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Reads a PNG as 8-bit RGB (malloc'd, rows of 3*w bytes); NULL on failure. */
uint8_t *test_png_read_rgb(const char *path, int *w, int *h);
/* Writes 8-bit RGB as PNG; 0 on success. */
int test_png_write_rgb(const char *path, const uint8_t *rgb, int w, int h);

/* Lower-case hex SHA-256 of a buffer into hex[65]. */
void test_sha256_hex(const void *data, size_t n, char hex[65]);

/* A .npy array (format 1.0/2.0, little-endian, C order): dtype string like "<f4", shape,
 * data (malloc'd). */
typedef struct test_npy {
    char dtype[8];
    int ndim;
    int64_t shape[8];
    size_t count;
    void *data;
} test_npy;
int test_npy_load(const char *path, test_npy *out);
void test_npy_free(test_npy *a);

#endif
