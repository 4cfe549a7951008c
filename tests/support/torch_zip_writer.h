/* Test-only writer of torch.save-style checkpoints (zip + data.pkl + raw storages), written from
 * the format description (not by torch), so the tests can build small, exactly known inputs:
 * several dtypes, views (strides, storage offsets, shared storages), the pickle variants of torch
 * 1.x and 2.x, and files that differ from a good one in exactly one way. */
#ifndef SAM2_TEST_TORCH_ZIP_WRITER_H
#define SAM2_TEST_TORCH_ZIP_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Storage classes by the dtype they hold (the torch.<X>Storage written into the pickle). */
enum tzw_dtype { TZW_F32, TZW_F16, TZW_BF16, TZW_F64, TZW_I64 };

typedef struct tzw_storage {
    int dtype;        /* enum tzw_dtype */
    const void *data; /* little-endian elements */
    int64_t numel;    /* written into the persistent id */
    int64_t bytes;    /* bytes written to data/<key>; -1: numel * element size */
} tzw_storage;

typedef struct tzw_tensor {
    const char *name;
    int storage; /* index into the storages */
    int64_t offset;
    int ndim;
    int64_t shape[8];
    int64_t stride[8]; /* all zero: row-major */
} tzw_tensor;

typedef struct tzw_options {
    const char *archive; /* folder inside the zip, default "archive" */
    bool bare;           /* the state dict itself at the top level (no {"model": ...}) */
    bool protocol4;      /* FRAME, SHORT_BINUNICODE, STACK_GLOBAL, MEMOIZE, BINGET reuse */
    bool torch2_entries; /* byteorder and .data/serialization_id entries, as torch 2.x */
    bool metadata;       /* a `_metadata` attribute set with BUILD, as state_dict() has */
    bool parameters;     /* wrap each tensor in torch._utils._rebuild_parameter */
} tzw_options;

/* Writes the checkpoint; 0 on success. */
int tzw_write(const char *path, const tzw_storage *storages, int nstorages,
              const tzw_tensor *tensors, int ntensors, const tzw_options *opt);

/* The data.pkl bytes alone (malloc'd). */
uint8_t *tzw_pickle(const tzw_storage *storages, int nstorages, const tzw_tensor *tensors,
                    int ntensors, const tzw_options *opt, size_t *n);

/* Copies the zip at src to dst with the entry whose name ends in `suffix` replaced by
 * data[n] (stored), or deleted when data is NULL. 0 on success. */
int tzw_copy_replace(const char *src, const char *dst, const char *suffix, const void *data,
                     size_t n);

/* Reads the entry whose name ends in `suffix` (malloc'd); NULL when absent. */
void *tzw_read_entry(const char *zip_path, const char *suffix, size_t *n);

#endif
