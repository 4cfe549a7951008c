/* Minimal .npy reader for the checkpoint tests: float32, little-endian, C order only (numpy
 * format 1.0 / 2.0). The full reader for golden data lives in support/npy.h. */
#ifndef SAM2_TEST_NPY_MINI_H
#define SAM2_TEST_NPY_MINI_H

#include <stdint.h>

typedef struct npy_mini {
    int ndim;
    int64_t shape[8];
    int64_t numel;
    float *data; /* malloc'd */
} npy_mini;

/* 0 on success; -1 (with a message on stderr) when the file is missing or not a float32 .npy. */
int npy_mini_load(const char *path, npy_mini *out);
void npy_mini_free(npy_mini *a);

#endif
