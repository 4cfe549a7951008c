/* NumPy .npy reader for the golden data: format versions 1.0, 2.0 and 3.0, little-endian,
 * C order; dtypes float32, float64, int32, int64, uint16, uint8 and bool. Anything else (big
 * endian, Fortran order, other dtypes, a header or data size that does not add up) is refused
 * with SAM2_ERR_FORMAT / SAM2_ERR_UNSUPPORTED and a message naming the file and the field. */
#ifndef SAM2_TEST_NPY_H
#define SAM2_TEST_NPY_H

#include "sam2.h"

#include <stddef.h>
#include <stdint.h>

#define NPY_MAX_DIMS 8

typedef enum npy_dtype {
    NPY_F32 = 0,
    NPY_F64,
    NPY_I32,
    NPY_I64,
    NPY_U16,
    NPY_U8,
    NPY_BOOL,
    NPY_DTYPE_COUNT
} npy_dtype;

typedef struct npy_array {
    npy_dtype dtype;
    int ndim;
    int64_t shape[NPY_MAX_DIMS];
    int64_t numel;
    void *data; /* numel elements, C order, native (little-endian) byte order; malloc'd */
} npy_array;

/* "float32", "uint16", "bool", ... (numpy's names, as used in the golden index files). */
const char *npy_dtype_name(npy_dtype t);
/* Parses a numpy dtype name; returns -1 when unknown. */
int npy_dtype_from_name(const char *name);
size_t npy_dtype_size(npy_dtype t);

int npy_load(const char *path, npy_array *out, sam2_error *err);
int npy_parse(const void *buf, size_t size, npy_array *out, sam2_error *err);
void npy_free(npy_array *a);

/* Zero-filled array of the given dtype and shape. */
int npy_alloc(npy_array *a, npy_dtype t, int ndim, const int64_t *shape, sam2_error *err);
/* Element i converted to double (bool and integers exactly, int64 beyond 2^53 rounded). */
double npy_get(const npy_array *a, int64_t i);
/* Serialises to .npy version 1.0 (malloc'd buffer); for tests and debugging dumps. */
int npy_serialize(const npy_array *a, uint8_t **out, size_t *out_size, sam2_error *err);

#endif
