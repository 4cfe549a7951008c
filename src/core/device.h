/* The compute seam: backends that own their memory, tensors that are views into it, and ops
 * dispatched through the backend.
 *
 * A backend (`sam2_device`) allocates buffers, moves bytes between the host and its buffers
 * (counting them), and runs ops on tensors that live in its buffers. Model code on the seam never
 * dereferences tensor memory: it uploads its inputs, calls ops, and downloads its outputs.
 *
 * Backends today, all with host-addressable memory:
 *   cpu    the optimised kernels (core/ops_cpu*.c); weights are views of the mapped checkpoint
 *   ref    the plain reference kernels (core/ops_ref.c), same zero-copy weights
 *   check  ref, but every buffer is PROT_NONE outside backend calls, so host code that touches
 *          tensor memory (instead of calling an op) crashes; weights are uploaded (copied)
 * A GPU backend fills its own `sam2_device_vt` (buffers in device memory, its own op kernels).
 *
 * Errors: ops record the first failure in their `dev_exec` (sticky) and do nothing after it, so
 * a forward pass is a straight sequence of calls checked once at the end. */
#ifndef SAM2_CORE_DEVICE_H
#define SAM2_CORE_DEVICE_H

#include "core/arena.h"
#include "core/dtype.h"
#include "core/ops.h"

#include <stddef.h>
#include <stdint.h>

#define DEV_MAX_DIMS 4

typedef struct sam2_device sam2_device;

/* A block of backend memory. `host` is its address for backends whose memory the host can map
 * (all three today); a GPU backend keeps its handle in `handle`. */
typedef struct dev_buffer {
    sam2_device *dev;
    void *host;
    void *handle;
    size_t bytes;
    int borrowed; /* host memory the backend does not own (a view of the mapped checkpoint) */
    struct dev_buffer *next, *prev; /* the backend's list of live buffers (check protects them) */
} dev_buffer;

/* A view: `shape` is outermost first (PyTorch order), `stride` in elements. */
typedef struct dev_tensor {
    dev_buffer *buf;
    size_t offset; /* bytes from the start of buf */
    int ndim;
    int64_t shape[DEV_MAX_DIMS];
    int64_t stride[DEV_MAX_DIMS];
    sam2_dtype dtype;
} dev_tensor;

/* A backend's memory and ops. The host backends share one op table (core/device_host.c) and
 * differ in `kernels` and in what enter/leave do. */
typedef struct sam2_device_vt {
    void *(*alloc)(sam2_device *d, size_t bytes, void **handle);
    void (*free)(sam2_device *d, void *host, void *handle, size_t bytes);
    void (*upload)(sam2_device *d, dev_buffer *b, size_t off, const void *src, size_t n);
    void (*download)(sam2_device *d, const dev_buffer *b, size_t off, void *dst, size_t n);
    /* Around every backend call: the check backend opens and closes its buffers here. */
    void (*enter)(sam2_device *d);
    void (*leave)(sam2_device *d);
    /* The ops (see dev_* below for their meaning); tensors are already checked. */
    void (*copy)(sam2_device *d, const dev_tensor *dst, const dev_tensor *src);
    void (*add)(sam2_device *d, const dev_tensor *out, const dev_tensor *a, const dev_tensor *b);
    void (*unary)(sam2_device *d, const dev_tensor *out, const dev_tensor *in, sam2_act act,
                  int sigmoid);
    void (*linear)(sam2_device *d, const dev_tensor *out, const dev_tensor *in, const dev_tensor *w,
                   const dev_tensor *b);
    void (*layernorm)(sam2_device *d, const dev_tensor *out, const dev_tensor *in,
                      const dev_tensor *w, const dev_tensor *b, float eps);
    void (*conv2d)(sam2_device *d, const dev_tensor *out, const dev_tensor *in, const dev_tensor *w,
                   const dev_tensor *b, int stride, int pad, int groups, const dev_tensor *scratch);
    void (*fourier_pe)(sam2_device *d, const dev_tensor *out, const dev_tensor *coords,
                       const dev_tensor *gaussian);
    /* Image encoder ops (Hiera trunk, FPN neck); see dev_* below. */
    void (*add_tiled)(sam2_device *d, const dev_tensor *out, const dev_tensor *a,
                      const dev_tensor *b);
    void (*resize_bicubic)(sam2_device *d, const dev_tensor *out, const dev_tensor *in);
    void (*window_partition)(sam2_device *d, const dev_tensor *out, const dev_tensor *in, int ws);
    void (*window_unpartition)(sam2_device *d, const dev_tensor *out, const dev_tensor *in, int ws);
    void (*maxpool2x2)(sam2_device *d, const dev_tensor *out, const dev_tensor *in);
    void (*upsample2x)(sam2_device *d, const dev_tensor *out, const dev_tensor *in);
    void (*attention_windows)(sam2_device *d, const dev_tensor *out, const dev_tensor *q,
                              const dev_tensor *k, const dev_tensor *v, int heads,
                              const dev_tensor *scratch);
    void (*sine_pe)(sam2_device *d, const dev_tensor *out, float temperature);

    /* ---- heads ops (mask decoder, memory attention, memory encoder, Perceiver) ---- */
    void (*matmul)(sam2_device *d, const dev_tensor *out, const dev_tensor *a, const dev_tensor *b,
                   int trans_a, int trans_b, float alpha, float beta);
    void (*softmax)(sam2_device *d, const dev_tensor *x);
    void (*attention)(sam2_device *d, const dev_tensor *out, const dev_tensor *q,
                      const dev_tensor *k, const dev_tensor *v, int heads,
                      const dev_tensor *scratch);
    void (*conv_t2x2)(sam2_device *d, const dev_tensor *out, const dev_tensor *in,
                      const dev_tensor *w, const dev_tensor *b, const dev_tensor *scratch);
    void (*scale)(sam2_device *d, const dev_tensor *out, const dev_tensor *in, float mul,
                  float add);
    void (*mul)(sam2_device *d, const dev_tensor *out, const dev_tensor *a, const dev_tensor *b);
    void (*threshold)(sam2_device *d, const dev_tensor *out, const dev_tensor *in, float t);
    void (*rope)(sam2_device *d, const dev_tensor *x, const dev_tensor *cos_t,
                 const dev_tensor *sin_t, int period, int skip);
} sam2_device_vt;

struct sam2_device {
    const char *name;
    const char *about;
    const sam2_device_vt *vt;
    const sam2_backend *kernels; /* host kernels (modules not yet on the seam use them too) */
    int maps_host;               /* weights and host inputs may be used in place (no copy) */
    /* Transfer accounting: bytes copied host -> backend and back (atomics: sessions share it). */
    uint64_t bytes_up, bytes_down;
    /* Live buffers, for the check backend's protection; guarded by the backend's lock. */
    dev_buffer *buffers;
    int depth;
    /* Scratch accounting: bytes the backend's arenas hand out now, and the most since the last
     * dev_scratch_reset_peak (atomics). */
    size_t scratch_live, scratch_peak;
};

/* ---- backends ---- */

/* "cpu", "ref", "check"; NULL for an unknown name ("auto" is resolved by sam2_device_pick). */
sam2_device *sam2_device_get(const char *name);
/* name, NULL or "auto": auto is cpu (no GPU backend yet). NULL for an unknown name. */
sam2_device *sam2_device_pick(const char *name);
/* The backend models load onto: the last sam2_set_backend(), else $SAM2_BACKEND, else auto. */
sam2_device *sam2_device_default(void);
/* Makes `name` (auto, cpu, ref, check) the default; -1 for an unknown name. */
int sam2_device_choose(const char *name);
/* The names sam2_device_get accepts, NULL-terminated. */
const char *const *sam2_device_names(void);
/* Transfer counters: read (and optionally reset). */
void dev_transfer_bytes(sam2_device *d, uint64_t *up, uint64_t *down);
void dev_transfer_reset(sam2_device *d);
/* Scratch counters: the bytes arenas on backend d hand out (tensors and records, rounded to the
 * arena's alignment), wherever the memory comes from (own blocks, adopted or host-backed ones):
 * live now, and the high-water mark since the last reset. Tests bound a stage's peak with them. */
void dev_scratch_bytes(sam2_device *d, size_t *live, size_t *peak);
/* Starts a new high-water mark from what is live now. */
void dev_scratch_reset_peak(sam2_device *d);

/* ---- buffers and arenas ---- */

dev_buffer *dev_buffer_new(sam2_device *d, size_t bytes);
/* A buffer over host memory the backend may use in place (maps_host backends only). */
dev_buffer *dev_buffer_borrow(sam2_device *d, void *host, size_t bytes);
void dev_buffer_free(dev_buffer *b);

/* Scratch of one forward pass, as core/arena.h but in backend buffers. */
typedef struct dev_arena_block dev_arena_block;
typedef struct dev_arena {
    sam2_device *dev;
    dev_arena_block *head;
    arena *host;  /* dev_arena_back's host arena, or NULL */
    size_t taken; /* bytes handed out and not yet released (for the scratch counters) */
} dev_arena;
typedef struct dev_arena_mark {
    dev_arena_block *block;
    size_t used;
    size_t taken;
} dev_arena_mark;
void dev_arena_init(dev_arena *a, sam2_device *d);
/* On maps_host backends, the arena takes its blocks from host arena `host` (a stage's scratch
 * kept from frame to frame) instead of the backend's block cache, and gives each back to `host`
 * when it releases it: the heads then share the tracker's scratch, adding neither resident memory
 * beside it nor page faults per call. Until the arena is freed nothing else may allocate from
 * `host` (blocks are released to marks, last in first out). No effect on other backends or with
 * `host` NULL. */
void dev_arena_back(dev_arena *a, arena *host);
void dev_arena_free(dev_arena *a);
dev_arena_mark dev_arena_get_mark(const dev_arena *a);
void dev_arena_release(dev_arena *a, dev_arena_mark m);

/* ---- tensors ---- */

/* Contiguous tensor of the given shape (outermost first). */
dev_tensor dev_tensor_make(dev_buffer *b, size_t offset, sam2_dtype t, int ndim,
                           const int64_t *shape);
int64_t dev_tensor_numel(const dev_tensor *t);
int dev_tensor_contiguous(const dev_tensor *t);
/* Rows [r0, r0 + n) of the outermost dimension (a view). */
dev_tensor dev_rows(dev_tensor t, int64_t r0, int64_t n);
/* A 2-d [n * L][C] tensor as n windows [n][L][C] (a view; rows keep their stride). */
dev_tensor dev_windows(dev_tensor t, int64_t n);
/* The same elements with another shape (contiguous tensors only; a view). */
dev_tensor dev_reshape(dev_tensor t, int ndim, const int64_t *shape);

/* ---- one forward pass: backend, scratch arena, sticky error ---- */

typedef struct dev_exec {
    sam2_device *dev;
    dev_arena *arena;
    int failed;
    char why[160];
} dev_exec;

void dev_exec_init(dev_exec *x, dev_arena *a);
/* A new tensor from the exec's arena (contents undefined). */
dev_tensor dev_new(dev_exec *x, sam2_dtype t, int ndim, const int64_t *shape);
/* A tensor holding a copy of host data (counted), or, on a maps_host backend with `borrow`,
 * a view of the host memory itself (not counted: nothing moves). */
dev_tensor dev_from_host(dev_exec *x, const void *host, sam2_dtype t, int ndim,
                         const int64_t *shape, int borrow);
/* Weights: a view of the mapped checkpoint on maps_host backends, an upload to `weights`
 * otherwise (once, at load). */
dev_tensor dev_weight(sam2_device *d, dev_arena *weights, const float *host, int ndim,
                      const int64_t *shape);
int dev_upload(dev_exec *x, const dev_tensor *dst, const void *src, size_t bytes);
int dev_download(dev_exec *x, void *dst, const dev_tensor *src, size_t bytes);

/* ---- ops: out = op(inputs); float32 unless said ---- */

/* dst = src elementwise (any strides, same shape); converts between f32, f16 and bf16. */
void dev_copy(dev_exec *x, dev_tensor dst, dev_tensor src);
/* out = a + b, b either a's shape or one row broadcast over a's rows. */
void dev_add(dev_exec *x, dev_tensor out, dev_tensor a, dev_tensor b);
void dev_gelu(dev_exec *x, dev_tensor out, dev_tensor in);
void dev_relu(dev_exec *x, dev_tensor out, dev_tensor in);
void dev_sigmoid(dev_exec *x, dev_tensor out, dev_tensor in);
/* nn.Linear over the last dimension: in [..][IC], w [OC][IC], b [OC] or none (buf NULL). */
void dev_linear(dev_exec *x, dev_tensor out, dev_tensor in, dev_tensor w, dev_tensor b);
/* LayerNorm (and channels-last LayerNorm2d) over the last dimension. */
void dev_layernorm(dev_exec *x, dev_tensor out, dev_tensor in, dev_tensor w, dev_tensor b,
                   float eps);
/* nn.Conv2d, channels-last: in [H][W][IC], w [OC][IC/groups][KH][KW], out [OH][OW][OC]. */
void dev_conv2d(dev_exec *x, dev_tensor out, dev_tensor in, dev_tensor w, dev_tensor b, int stride,
                int pad, int groups);
/* PositionEmbeddingRandom._pe_encoding: coords [N][2] in [0, 1], gaussian [2][C/2];
 * out [N][C] = [sin, cos](2 pi (2 coords - 1) @ gaussian). */
void dev_fourier_pe(dev_exec *x, dev_tensor out, dev_tensor coords, dev_tensor gaussian);

/* ---- image encoder ops (Hiera trunk, FPN neck, their position encodings) ---- */

/* Hands the arena `bytes` of host memory to take from before it allocates buffers of its own
 * (maps_host backends only, -1 elsewhere); the memory stays the caller's. A stage whose scratch
 * sits in a host arena kept from frame to frame then faults no pages in per frame. */
int dev_arena_adopt(dev_arena *a, void *host, size_t bytes);
/* Columns [c0, c0 + n) of the last dimension (a strided view, e.g. q, k or v of a fused qkv). */
dev_tensor dev_cols(dev_tensor t, int64_t c0, int64_t n);
/* out = a + b.tile(reps): 3-d a [A0][A1][A2], b [B0][B1][B2] with each Bi dividing Ai
 * (Hiera._get_pos_embed's window embedding tiled over the interpolated background). */
void dev_add_tiled(dev_exec *x, dev_tensor out, dev_tensor a, dev_tensor b);
/* F.interpolate(mode="bicubic", align_corners=False), planar: in [C][H][W] -> out [C][OH][OW]. */
void dev_resize_bicubic(dev_exec *x, dev_tensor out, dev_tensor in);
/* hieradet.window_partition: in [H][W][C] -> out [nh * nw][ws * ws][C], nh = ceil(H / ws),
 * nw = ceil(W / ws), windows row-major, the padding zero. */
void dev_window_partition(dev_exec *x, dev_tensor out, dev_tensor in, int ws);
/* hieradet.window_unpartition: in [nh * nw][ws * ws][C] -> out [H][W][C], padding cropped. */
void dev_window_unpartition(dev_exec *x, dev_tensor out, dev_tensor in, int ws);
/* nn.MaxPool2d(2, 2) (floor), channels-last: in [H][W][C] -> out [H/2][W/2][C]. */
void dev_maxpool2x2(dev_exec *x, dev_tensor out, dev_tensor in);
/* F.interpolate(scale_factor=2, mode="nearest"), channels-last: [H][W][C] -> [2H][2W][C]. */
void dev_upsample2x(dev_exec *x, dev_tensor out, dev_tensor in);
/* F.scaled_dot_product_attention over windows: q [n][Lq][H*D], k and v [n][Lk][H*D], heads
 * interleaved in the channels; q, k, v may be column views of a fused qkv (rows strided, each
 * window's rows consecutive); out [n][Lq][H*D] contiguous. */
void dev_attention_windows(dev_exec *x, dev_tensor out, dev_tensor q, dev_tensor k, dev_tensor v,
                           int heads);
/* PositionEmbeddingSine (normalize=True, scale 2 pi), channels-last: out [H][W][C], channels
 * [0, C/2) encode y and [C/2, C) encode x. */
void dev_sine_pe(dev_exec *x, dev_tensor out, float temperature);

/* ---- heads ops (mask decoder, memory attention, memory encoder, Perceiver) ---- */

/* Arenas keep freed blocks for the next pass (a bounded cache); this frees backend d's. */
void dev_cache_drop(sam2_device *d);
/* out = alpha op(a) op(b) + beta out for 2-d tensors whose rows are unit-stride (row stride
 * free, so column views work); op(X) = X or X^T. a [M][K] (or [K][M]), b [K][N] (or [N][K]). */
void dev_matmul(dev_exec *x, dev_tensor out, dev_tensor a, dev_tensor b, int trans_a, int trans_b,
                float alpha, float beta);
/* Softmax over the last dimension, in place (contiguous). */
void dev_softmax(dev_exec *x, dev_tensor t);
/* Multi-head scaled dot-product attention softmax(Q K^T / sqrt(D)) V, heads interleaved in the
 * channels: q [Lq][H*D], k [Lk][H*D], v [Lk][H*Dv] -> out [Lq][H*Dv] (rows unit-stride, any row
 * stride). Dv may differ from D (memory attention weighs its 64-d memories). */
void dev_attention(dev_exec *x, dev_tensor out, dev_tensor q, dev_tensor k, dev_tensor v,
                   int heads);
/* ConvTranspose2d kernel 2 stride 2, channels-last: in [H][W][IC], w [IC][OC][2][2] (PyTorch
 * layout), b [OC] -> out [2H][2W][OC]. */
void dev_conv_transpose2x2(dev_exec *x, dev_tensor out, dev_tensor in, dev_tensor w, dev_tensor b);
/* out = in * mul + add elementwise (the memory encoder's sigmoid scale and bias). */
void dev_scale(dev_exec *x, dev_tensor out, dev_tensor in, float mul, float add);
/* out = a * b, b either a's shape or one row broadcast over a's rows (a layer scale). */
void dev_mul(dev_exec *x, dev_tensor out, dev_tensor a, dev_tensor b);
/* out = in > t ? 1 : 0 (a binarised mask). */
void dev_threshold(dev_exec *x, dev_tensor out, dev_tensor in, float t);
/* Rotary encoding of interleaved pairs, in place: x [n][dim] (rows unit-stride, any row stride:
 * one head's columns); cos_t, sin_t [table_rows][dim/2]. Row r is in a period of `period` rows;
 * the first `skip` rows of each period stay, the others rotate pair (2j, 2j+1) by the angle of
 * table row ((r % period) - skip) % table_rows (ops.h rope; period = table_rows, skip = 0 is
 * apply_rotary_enc with repeat_freqs_k, EdgeTAM's keys skip their 1D latents). */
void dev_rope(dev_exec *x, dev_tensor t, dev_tensor cos_t, dev_tensor sin_t, int period, int skip);

/* A tensor with no buffer: "no bias". */
static inline dev_tensor dev_none(void) {
    dev_tensor t = {0};
    return t;
}

#endif
