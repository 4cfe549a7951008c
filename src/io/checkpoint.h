/* PyTorch checkpoints as Meta publishes them: torch.save zip archives of {"model": state_dict}
 * (a bare state dict at the top level is accepted too), torch 1.x and 2.x.
 *
 * The file is mapped read-only. Every tensor is described (name, dtype, shape, strides, storage
 * offset) and checked against its storage when the checkpoint is opened; no tensor data is read
 * then. Contiguous float32 tensors are used straight from the map; float16 and bfloat16 tensors
 * stay in their storage until a caller asks for their float32 values (an exact upcast). */
#ifndef SAM2_IO_CHECKPOINT_H
#define SAM2_IO_CHECKPOINT_H

#include "sam2.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CKPT_MAX_DIMS 8

/* int64 tensors are read for BatchNorm's num_batches_tracked counters (EdgeTAM's RepViT
 * trunk), which the model never uses; their float32 reading is exact up to 2^24. */
enum ckpt_dtype { CKPT_F32 = 0, CKPT_F16 = 1, CKPT_BF16 = 2, CKPT_I64 = 3 };

typedef struct ckpt_tensor {
    const char *name; /* state-dict key, e.g. "image_encoder.trunk.pos_embed" */
    int dtype;        /* enum ckpt_dtype */
    int ndim;
    int64_t shape[CKPT_MAX_DIMS];
    int64_t stride[CKPT_MAX_DIMS]; /* in elements, as torch stores them */
    int64_t numel;
    int64_t offset;      /* storage offset, in elements */
    const uint8_t *base; /* first byte of the storage inside the mapped file */
    int storage;         /* index of the storage (tensors may share one) */
    bool contiguous;     /* row-major with no gaps (strides of size-1 dims ignored) */
} ckpt_tensor;

typedef struct ckpt ckpt;

/* Opens a checkpoint file. Errors name the file and the cause: SAM2_ERR_IO (missing, a
 * directory, unreadable), SAM2_ERR_FORMAT (not a zip, truncated, no data.pkl, corrupt pickle,
 * storage shorter than its tensor), SAM2_ERR_UNSUPPORTED (pickle opcode or global outside the
 * torch.save subset, a dtype other than float32/float16/bfloat16/int64). */
ckpt *ckpt_open(const char *path, sam2_error *err);
void ckpt_close(ckpt *ck);

const char *ckpt_path(const ckpt *ck);
int64_t ckpt_file_size(const ckpt *ck);
int ckpt_num_tensors(const ckpt *ck);
/* Tensors in checkpoint (state-dict) order. */
const ckpt_tensor *ckpt_tensor_at(const ckpt *ck, int i);
const ckpt_tensor *ckpt_find(const ckpt *ck, const char *name);
/* Sum of the tensors' element counts. */
int64_t ckpt_num_scalars(const ckpt *ck);

/* "float32", "float16", "bfloat16" or "int64". */
const char *ckpt_dtype_name(int dtype);

/* The tensor's float32 values in row-major order: a pointer into the map when the tensor is
 * contiguous float32 (and 4-byte aligned), else `scratch` (numel floats) filled with an exact
 * upcast / gather; NULL when a copy is needed and scratch is NULL. */
const float *ckpt_tensor_f32(const ckpt_tensor *t, float *scratch);
/* True when ckpt_tensor_f32 returns a pointer into the map (no copy). */
bool ckpt_tensor_is_direct(const ckpt_tensor *t);
/* Elements [start, start + count) of the row-major flattening, converted to float32 into out.
 * The range must lie inside [0, numel). */
void ckpt_tensor_read_f32(const ckpt_tensor *t, int64_t start, int64_t count, float *out);

/* Checks the CRC-32 of the storage behind tensor t (reads all of it). */
int ckpt_verify_tensor(const ckpt *ck, const ckpt_tensor *t, sam2_error *err);
/* Checks the CRC-32 of every storage: detects flipped bytes inside tensor data. */
int ckpt_verify(const ckpt *ck, sam2_error *err);

/* Tells the kernel the pages of tensor t's bytes are not needed any more (after an upcast to a
 * private float32 copy): they leave the resident set, and are read again from the file if
 * touched later. */
void ckpt_release_tensor(const ckpt *ck, const ckpt_tensor *t);

#endif
