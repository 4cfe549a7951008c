/* A restricted unpickler for the data.pkl of torch.save checkpoints (pickle protocols 2 to 5).
 *
 * It runs the binary opcodes torch.save emits and builds a small value tree. Only a fixed list
 * of globals may appear: collections.OrderedDict, torch._utils._rebuild_tensor_v2 (and
 * _rebuild_parameter around it) and the typed storage classes named in persistent ids
 * (torch.FloatStorage, torch.HalfStorage, torch.BFloat16Storage, and the other dtypes so the
 * caller can refuse them by name). Nothing is ever imported or executed: a tensor becomes a
 * PK_TENSOR node that refers to a PK_STORAGE node (dtype, key of its zip entry, element count). */
#ifndef SAM2_IO_PICKLE_H
#define SAM2_IO_PICKLE_H

#include "sam2.h"

#include <stddef.h>
#include <stdint.h>

#define PK_MAX_DIMS 8

typedef enum pk_kind {
    PK_NONE,
    PK_BOOL,
    PK_INT,
    PK_FLOAT,
    PK_STR,
    PK_BYTES,
    PK_TUPLE,
    PK_LIST,
    PK_SET,
    PK_DICT,    /* dict and collections.OrderedDict, insertion order kept */
    PK_GLOBAL,  /* one of the allowed globals (pk_global) */
    PK_STORAGE, /* a persistent storage id */
    PK_TENSOR,
} pk_kind;

typedef enum pk_global {
    PKG_ORDERED_DICT,
    PKG_REBUILD_TENSOR_V2,
    PKG_REBUILD_PARAMETER,
    PKG_REBUILD_PARAMETER_WITH_STATE,
    PKG_STORAGE_TYPE, /* torch.<X>Storage; the dtype says which */
} pk_global;

/* Element types of torch storages. The first three are the ones sam2c loads. */
typedef enum pk_dtype {
    PK_FLOAT32,
    PK_FLOAT16,
    PK_BFLOAT16,
    PK_FLOAT64,
    PK_INT64,
    PK_INT32,
    PK_INT16,
    PK_INT8,
    PK_UINT8,
    PK_BOOLEAN,
    PK_COMPLEX64,
    PK_COMPLEX128,
    PK_NUM_DTYPES
} pk_dtype;

typedef struct pk_value pk_value;
struct pk_value {
    pk_kind kind;
    union {
        int64_t i; /* PK_INT, PK_BOOL */
        double f;  /* PK_FLOAT */
        struct {
            const char *s; /* NUL-terminated (may also contain NUL bytes: use len) */
            size_t len;
        } str; /* PK_STR, PK_BYTES */
        struct {
            pk_value **items;
            size_t n, cap;
        } seq; /* PK_TUPLE, PK_LIST, PK_SET */
        struct {
            pk_value **keys, **vals;
            size_t n, cap;
        } dict; /* PK_DICT */
        struct {
            pk_global which;
            pk_dtype dtype; /* PKG_STORAGE_TYPE */
            const char *module, *name;
        } global;
        struct {
            pk_dtype dtype;
            const char *key;      /* zip entry <archive>/data/<key> */
            const char *location; /* "cpu", "cuda:0", ... (ignored) */
            int64_t numel;
        } storage;
        struct {
            const pk_value *storage; /* PK_STORAGE */
            int64_t offset;          /* in elements */
            int ndim;
            int64_t shape[PK_MAX_DIMS], stride[PK_MAX_DIMS];
        } tensor;
    } u;
};

typedef struct pk_doc pk_doc;

/* Unpickles data[n]. Errors (SAM2_ERR_FORMAT, or SAM2_ERR_UNSUPPORTED for an opcode or global
 * outside the subset) name the opcode or global and its byte offset. */
pk_doc *pk_load(const uint8_t *data, size_t n, sam2_error *err);
void pk_free(pk_doc *doc);
const pk_value *pk_root(const pk_doc *doc);

/* The value stored under a string key (the last one when repeated), or NULL. */
const pk_value *pk_dict_get(const pk_value *dict, const char *key);

const char *pk_kind_name(pk_kind kind);
const char *pk_dtype_name(pk_dtype dtype); /* "float32", "float16", "bfloat16", "int64", ... */
int pk_dtype_size(pk_dtype dtype);         /* bytes per element */

#endif
