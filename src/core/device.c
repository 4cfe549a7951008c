/* The backend-independent half of the seam: backend selection, buffers, arenas, tensor views,
 * and the op entry points, which check shapes and then hand the call to the backend between
 * its enter and leave hooks. */
#include "core/device.h"

#include "sam2.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEV_ALIGN 256
#define DEV_MIN_BLOCK ((size_t)1 << 20)

extern sam2_device sam2_device_cpu_, sam2_device_ref_, sam2_device_check_;

static pthread_mutex_t dev_lock = PTHREAD_MUTEX_INITIALIZER;
static sam2_device *chosen; /* sam2_set_backend's pick */

static const char *const device_names[] = {"cpu", "ref", "check", NULL};

const char *const *sam2_device_names(void) {
    return device_names;
}

void sam2_device_bind_kernels(void);

sam2_device *sam2_device_get(const char *name) {
    if (!name) return NULL;
    sam2_device_bind_kernels();
    if (!strcmp(name, "cpu")) return &sam2_device_cpu_;
    if (!strcmp(name, "ref")) return &sam2_device_ref_;
    if (!strcmp(name, "check")) return &sam2_device_check_;
    return NULL;
}

sam2_device *sam2_device_pick(const char *name) {
    /* auto: the fastest backend this build has; with no GPU backend yet that is the CPU. */
    if (!name || !*name || !strcmp(name, "auto")) return sam2_device_get("cpu");
    return sam2_device_get(name);
}

int sam2_device_choose(const char *name) {
    sam2_device *d = sam2_device_pick(name);
    if (!d) return -1;
    __atomic_store_n(&chosen, d, __ATOMIC_RELEASE);
    return 0;
}

sam2_device *sam2_device_default(void) {
    sam2_device *d = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);
    if (d) return d;
    d = sam2_device_pick(getenv("SAM2_BACKEND"));
    return d ? d : sam2_device_get("cpu");
}

void dev_transfer_bytes(sam2_device *d, uint64_t *up, uint64_t *down) {
    if (up) *up = __atomic_load_n(&d->bytes_up, __ATOMIC_RELAXED);
    if (down) *down = __atomic_load_n(&d->bytes_down, __ATOMIC_RELAXED);
}

void dev_transfer_reset(sam2_device *d) {
    __atomic_store_n(&d->bytes_up, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&d->bytes_down, 0, __ATOMIC_RELAXED);
}

void dev_scratch_bytes(sam2_device *d, size_t *live, size_t *peak) {
    if (live) *live = __atomic_load_n(&d->scratch_live, __ATOMIC_RELAXED);
    if (peak) *peak = __atomic_load_n(&d->scratch_peak, __ATOMIC_RELAXED);
}

void dev_scratch_reset_peak(sam2_device *d) {
    __atomic_store_n(&d->scratch_peak, __atomic_load_n(&d->scratch_live, __ATOMIC_RELAXED),
                     __ATOMIC_RELAXED);
}

static void scratch_taken(dev_arena *a, size_t n) {
    a->taken += n;
    const size_t live = __atomic_add_fetch(&a->dev->scratch_live, n, __ATOMIC_RELAXED);
    size_t peak = __atomic_load_n(&a->dev->scratch_peak, __ATOMIC_RELAXED);
    while (live > peak && !__atomic_compare_exchange_n(&a->dev->scratch_peak, &peak, live, 1,
                                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

/* The arena goes back to having handed out `taken` bytes. */
static void scratch_returned(dev_arena *a, size_t taken) {
    if (taken >= a->taken) return;
    __atomic_sub_fetch(&a->dev->scratch_live, a->taken - taken, __ATOMIC_RELAXED);
    a->taken = taken;
}

/* ---- buffers ---- */

static void link_buffer(dev_buffer *b) {
    pthread_mutex_lock(&dev_lock);
    b->next = b->dev->buffers;
    if (b->next) b->next->prev = b;
    b->dev->buffers = b;
    pthread_mutex_unlock(&dev_lock);
}

dev_buffer *dev_buffer_new(sam2_device *d, size_t bytes) {
    dev_buffer *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->dev = d;
    b->bytes = bytes ? bytes : 1;
    b->host = d->vt->alloc(d, b->bytes, &b->handle);
    if (!b->host && !b->handle) {
        free(b);
        return NULL;
    }
    link_buffer(b);
    return b;
}

dev_buffer *dev_buffer_borrow(sam2_device *d, void *host, size_t bytes) {
    if (!d->maps_host) return NULL;
    dev_buffer *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->dev = d;
    b->host = host;
    b->bytes = bytes;
    b->borrowed = 1;
    return b; /* not linked: the check backend never borrows, so nothing protects it */
}

void dev_buffer_free(dev_buffer *b) {
    if (!b) return;
    if (!b->borrowed) {
        pthread_mutex_lock(&dev_lock);
        if (b->prev)
            b->prev->next = b->next;
        else
            b->dev->buffers = b->next;
        if (b->next) b->next->prev = b->prev;
        pthread_mutex_unlock(&dev_lock);
        b->dev->vt->free(b->dev, b->host, b->handle, b->bytes);
    }
    free(b);
}

/* The check backend's hooks walk the live buffers under the same lock. */
void sam2_device_lock(void) {
    pthread_mutex_lock(&dev_lock);
}
void sam2_device_unlock(void) {
    pthread_mutex_unlock(&dev_lock);
}

/* ---- arenas ---- */

struct dev_arena_block {
    dev_buffer *buf;
    size_t used;
    dev_arena_block *next;
    int from_host;        /* taken from the arena's host arena ... */
    arena_mark host_mark; /* ... which goes back to this mark when the block is popped */
};

void dev_arena_init(dev_arena *a, sam2_device *d) {
    memset(a, 0, sizeof *a);
    a->dev = d;
}

void dev_arena_back(dev_arena *a, arena *host) {
    a->host = a->dev->maps_host ? host : NULL;
}

/* Freed arena blocks are kept for the next forward pass (up to a bound): the heads run once
 * per frame and object with a fresh arena, and fresh blocks would cost page faults and zeroing
 * every time (the host arenas they replace were kept between calls too). */
#define DEV_CACHE_BLOCKS 32
#define DEV_CACHE_BYTES ((size_t)128 << 20)
#define DEV_CACHE_BLOCK_MAX ((size_t)64 << 20)
static dev_buffer *cached[DEV_CACHE_BLOCKS];
static size_t cached_bytes;

static void recycle_block(dev_buffer *b) {
    /* An adopted block (dev_arena_adopt) is the caller's memory: never hand it to another arena. */
    if (b->borrowed) {
        dev_buffer_free(b);
        return;
    }
    pthread_mutex_lock(&dev_lock);
    for (int i = 0; i < DEV_CACHE_BLOCKS; i++)
        if (!cached[i] && b->bytes <= DEV_CACHE_BLOCK_MAX &&
            cached_bytes + b->bytes <= DEV_CACHE_BYTES) {
            cached[i] = b;
            cached_bytes += b->bytes;
            pthread_mutex_unlock(&dev_lock);
            return;
        }
    pthread_mutex_unlock(&dev_lock);
    dev_buffer_free(b);
}

/* The smallest cached block of backend d holding at least `size` bytes, or a new one. */
static dev_buffer *reuse_block(sam2_device *d, size_t size) {
    pthread_mutex_lock(&dev_lock);
    int best = -1;
    for (int i = 0; i < DEV_CACHE_BLOCKS; i++)
        if (cached[i] && cached[i]->dev == d && cached[i]->bytes >= size &&
            (best < 0 || cached[i]->bytes < cached[best]->bytes))
            best = i;
    dev_buffer *b = best >= 0 ? cached[best] : NULL;
    if (b) {
        cached[best] = NULL;
        cached_bytes -= b->bytes;
    }
    pthread_mutex_unlock(&dev_lock);
    return b ? b : dev_buffer_new(d, size);
}

void dev_cache_drop(sam2_device *d) {
    for (int i = 0; i < DEV_CACHE_BLOCKS; i++) {
        pthread_mutex_lock(&dev_lock);
        dev_buffer *b = cached[i] && cached[i]->dev == d ? cached[i] : NULL;
        if (b) {
            cached[i] = NULL;
            cached_bytes -= b->bytes;
        }
        pthread_mutex_unlock(&dev_lock);
        if (b) dev_buffer_free(b);
    }
}

static void pop_block(dev_arena *a) {
    dev_arena_block *b = a->head;
    a->head = b->next;
    recycle_block(b->buf); /* a borrowed record: freed, never cached */
    if (b->from_host) arena_release(a->host, b->host_mark);
    free(b);
}

void dev_arena_free(dev_arena *a) {
    while (a->head) pop_block(a);
    scratch_returned(a, 0);
}

dev_arena_mark dev_arena_get_mark(const dev_arena *a) {
    dev_arena_mark m = {a->head, a->head ? a->head->used : 0, a->taken};
    return m;
}

void dev_arena_release(dev_arena *a, dev_arena_mark m) {
    while (a->head && a->head != m.block) pop_block(a);
    if (a->head) a->head->used = m.used;
    scratch_returned(a, m.taken);
}

/* Host-backed blocks are sized to the request (at least this much, for runs of small tensors):
 * the host arena, not a doubling series, is what keeps them from frame to frame. */
#define DEV_HOST_MIN_BLOCK ((size_t)256 << 10)

/* A block of at least `size` bytes from the arena's host arena, or NULL. */
static dev_arena_block *host_block(dev_arena *a, size_t size) {
    if (size < DEV_HOST_MIN_BLOCK) size = DEV_HOST_MIN_BLOCK;
    dev_arena_block *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->host_mark = arena_get_mark(a->host);
    char *p = arena_alloc(a->host, size + DEV_ALIGN);
    uintptr_t at = ((uintptr_t)p + DEV_ALIGN - 1) & ~(uintptr_t)(DEV_ALIGN - 1);
    if (!p || !(h->buf = dev_buffer_borrow(a->dev, (void *)at, size))) {
        if (p) arena_release(a->host, h->host_mark);
        free(h);
        return NULL;
    }
    h->from_host = 1;
    return h;
}

/* A byte range of `n` bytes: (buffer, offset), or buffer NULL when memory is exhausted. */
static dev_buffer *arena_take(dev_arena *a, size_t n, size_t *offset) {
    n = (n + DEV_ALIGN - 1) & ~(size_t)(DEV_ALIGN - 1);
    dev_arena_block *h = a->head;
    if (!h || h->buf->bytes - h->used < n) {
        dev_arena_block *fresh = a->host ? host_block(a, n) : NULL;
        if (!fresh) {
            size_t size =
                h && 2 * h->buf->bytes > DEV_MIN_BLOCK ? 2 * h->buf->bytes : DEV_MIN_BLOCK;
            if (size < n) size = n;
            fresh = calloc(1, sizeof *fresh);
            if (!fresh || !(fresh->buf = reuse_block(a->dev, size))) {
                free(fresh);
                return NULL;
            }
        }
        fresh->next = a->head;
        a->head = h = fresh;
    }
    *offset = h->used;
    h->used += n;
    scratch_taken(a, n);
    return h->buf;
}

/* ---- tensors ---- */

dev_tensor dev_tensor_make(dev_buffer *b, size_t offset, sam2_dtype t, int ndim,
                           const int64_t *shape) {
    dev_tensor r = {0};
    r.buf = b;
    r.offset = offset;
    r.dtype = t;
    r.ndim = ndim;
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        r.shape[i] = shape[i];
        r.stride[i] = s;
        s *= shape[i];
    }
    return r;
}

int64_t dev_tensor_numel(const dev_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

int dev_tensor_contiguous(const dev_tensor *t) {
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != s) return 0;
        s *= t->shape[i];
    }
    return 1;
}

dev_tensor dev_rows(dev_tensor t, int64_t r0, int64_t n) {
    t.offset += (size_t)(r0 * t.stride[0]) * sam2_dtype_size(t.dtype);
    t.shape[0] = n;
    return t;
}

dev_tensor dev_reshape(dev_tensor t, int ndim, const int64_t *shape) {
    return dev_tensor_make(t.buf, t.offset, t.dtype, ndim, shape);
}

/* ---- exec ---- */

void dev_exec_init(dev_exec *x, dev_arena *a) {
    memset(x, 0, sizeof *x);
    x->dev = a->dev;
    x->arena = a;
}

static void fail(dev_exec *x, const char *fmt, ...) {
    if (x->failed) return;
    x->failed = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->why, sizeof x->why, fmt, ap);
    va_end(ap);
}

dev_tensor dev_new(dev_exec *x, sam2_dtype t, int ndim, const int64_t *shape) {
    dev_tensor r = dev_tensor_make(NULL, 0, t, ndim, shape);
    if (x->failed) return r;
    size_t off = 0;
    dev_buffer *b = arena_take(x->arena, (size_t)dev_tensor_numel(&r) * sam2_dtype_size(t), &off);
    if (!b) fail(x, "out of backend memory (%s)", x->dev->name);
    r.buf = b;
    r.offset = off;
    return r;
}

int dev_upload(dev_exec *x, const dev_tensor *dst, const void *src, size_t bytes) {
    if (x->failed) return -1;
    if (!dst->buf || !dev_tensor_contiguous(dst) ||
        bytes != (size_t)dev_tensor_numel(dst) * sam2_dtype_size(dst->dtype)) {
        fail(x, "upload: %zu bytes do not fill the tensor", bytes);
        return -1;
    }
    x->dev->vt->upload(x->dev, dst->buf, dst->offset, src, bytes);
    __atomic_fetch_add(&x->dev->bytes_up, bytes, __ATOMIC_RELAXED);
    return 0;
}

int dev_download(dev_exec *x, void *dst, const dev_tensor *src, size_t bytes) {
    if (x->failed) return -1;
    if (!src->buf || !dev_tensor_contiguous(src) ||
        bytes != (size_t)dev_tensor_numel(src) * sam2_dtype_size(src->dtype)) {
        fail(x, "download: %zu bytes are not the tensor", bytes);
        return -1;
    }
    /* A borrowed output already is the host memory: nothing moves. */
    if (src->buf->borrowed && (char *)src->buf->host + src->offset == (char *)dst) return 0;
    x->dev->vt->download(x->dev, src->buf, src->offset, dst, bytes);
    __atomic_fetch_add(&x->dev->bytes_down, bytes, __ATOMIC_RELAXED);
    return 0;
}

/* A borrowed-buffer record kept in the arena's own memory, so it is freed with the arena
 * (maps_host backends only: their arena memory is host memory). */
static dev_buffer *arena_borrow(dev_arena *a, const void *host, size_t bytes) {
    size_t off = 0;
    dev_buffer *rec = arena_take(a, sizeof(dev_buffer), &off);
    if (!rec) return NULL;
    dev_buffer *b = (dev_buffer *)((char *)rec->host + off);
    memset(b, 0, sizeof *b);
    b->dev = a->dev;
    b->host = (void *)host;
    b->bytes = bytes;
    b->borrowed = 1;
    return b;
}

dev_tensor dev_from_host(dev_exec *x, const void *host, sam2_dtype t, int ndim,
                         const int64_t *shape, int borrow) {
    if (borrow && x->dev->maps_host && !x->failed) {
        dev_tensor r = dev_tensor_make(NULL, 0, t, ndim, shape);
        r.buf = arena_borrow(x->arena, host, (size_t)dev_tensor_numel(&r) * sam2_dtype_size(t));
        if (!r.buf) fail(x, "out of memory");
        return r;
    }
    dev_tensor r = dev_new(x, t, ndim, shape);
    dev_upload(x, &r, host, (size_t)dev_tensor_numel(&r) * sam2_dtype_size(t));
    return r;
}

dev_tensor dev_weight(sam2_device *d, dev_arena *weights, const float *host, int ndim,
                      const int64_t *shape) {
    dev_exec x;
    dev_exec_init(&x, weights);
    dev_tensor probe = dev_tensor_make(NULL, 0, SAM2_F32, ndim, shape);
    const size_t bytes = (size_t)dev_tensor_numel(&probe) * sizeof(float);
    if (d->maps_host) {
        /* Zero-copy: the tensor is a view of the mapped checkpoint. */
        dev_buffer *b = arena_borrow(weights, host, bytes);
        return b ? dev_tensor_make(b, 0, SAM2_F32, ndim, shape) : dev_none();
    }
    dev_tensor t = dev_new(&x, SAM2_F32, ndim, shape);
    if (dev_upload(&x, &t, host, bytes) != 0) return dev_none();
    return t;
}

/* ---- ops ---- */

static int ok_f32(dev_exec *x, const char *op, const dev_tensor *t, int need_contiguous) {
    if (x->failed) return 0;
    if (!t->buf) {
        fail(x, "%s: tensor without memory", op);
        return 0;
    }
    if (t->buf->dev != x->dev) {
        fail(x, "%s: tensor of backend %s used on %s", op, t->buf->dev->name, x->dev->name);
        return 0;
    }
    if (t->dtype != SAM2_F32) {
        fail(x, "%s: %s tensor where f32 is needed", op, sam2_dtype_name(t->dtype));
        return 0;
    }
    if (need_contiguous && !dev_tensor_contiguous(t)) {
        fail(x, "%s: needs a contiguous tensor", op);
        return 0;
    }
    return 1;
}

static int64_t last_dim(const dev_tensor *t) {
    return t->ndim ? t->shape[t->ndim - 1] : 1;
}

#define CALL(x, expr)                                                                              \
    do {                                                                                           \
        (x)->dev->vt->enter((x)->dev);                                                             \
        expr;                                                                                      \
        (x)->dev->vt->leave((x)->dev);                                                             \
    } while (0)

void dev_copy(dev_exec *x, dev_tensor dst, dev_tensor src) {
    if (x->failed) return;
    if (!dst.buf || !src.buf || dst.buf->dev != x->dev || src.buf->dev != x->dev)
        return fail(x, "copy: tensors not on %s", x->dev->name);
    if (dst.ndim != src.ndim) return fail(x, "copy: %d-d into %d-d", src.ndim, dst.ndim);
    for (int i = 0; i < dst.ndim; i++)
        if (dst.shape[i] != src.shape[i]) return fail(x, "copy: shapes differ in dim %d", i);
    CALL(x, x->dev->vt->copy(x->dev, &dst, &src));
}

void dev_add(dev_exec *x, dev_tensor out, dev_tensor a, dev_tensor b) {
    if (!ok_f32(x, "add", &out, 1) || !ok_f32(x, "add", &a, 1) || !ok_f32(x, "add", &b, 1)) return;
    const int64_t n = dev_tensor_numel(&a), nb = dev_tensor_numel(&b);
    if (dev_tensor_numel(&out) != n || (nb != n && nb != last_dim(&a)))
        return fail(x, "add: %lld + %lld elements into %lld", (long long)n, (long long)nb,
                    (long long)dev_tensor_numel(&out));
    CALL(x, x->dev->vt->add(x->dev, &out, &a, &b));
}

static void unary(dev_exec *x, const char *op, dev_tensor out, dev_tensor in, sam2_act act,
                  int sigmoid) {
    if (!ok_f32(x, op, &out, 1) || !ok_f32(x, op, &in, 1)) return;
    if (dev_tensor_numel(&out) != dev_tensor_numel(&in)) return fail(x, "%s: sizes differ", op);
    CALL(x, x->dev->vt->unary(x->dev, &out, &in, act, sigmoid));
}

void dev_gelu(dev_exec *x, dev_tensor out, dev_tensor in) {
    unary(x, "gelu", out, in, SAM2_ACT_GELU, 0);
}
void dev_relu(dev_exec *x, dev_tensor out, dev_tensor in) {
    unary(x, "relu", out, in, SAM2_ACT_RELU, 0);
}
void dev_sigmoid(dev_exec *x, dev_tensor out, dev_tensor in) {
    unary(x, "sigmoid", out, in, SAM2_ACT_NONE, 1);
}

void dev_linear(dev_exec *x, dev_tensor out, dev_tensor in, dev_tensor w, dev_tensor b) {
    if (!ok_f32(x, "linear", &out, 1) || !ok_f32(x, "linear", &in, 1) ||
        !ok_f32(x, "linear", &w, 1) || (b.buf && !ok_f32(x, "linear", &b, 1)))
        return;
    const int64_t IC = last_dim(&in), OC = w.shape[0], N = dev_tensor_numel(&in) / IC;
    if (dev_tensor_numel(&w) != OC * IC || dev_tensor_numel(&out) != N * OC ||
        (b.buf && dev_tensor_numel(&b) != OC))
        return fail(x, "linear: shapes do not fit (IC %lld, OC %lld)", (long long)IC,
                    (long long)OC);
    if (out.buf == in.buf && out.offset == in.offset) return fail(x, "linear: out is in");
    CALL(x, x->dev->vt->linear(x->dev, &out, &in, &w, &b));
}

void dev_layernorm(dev_exec *x, dev_tensor out, dev_tensor in, dev_tensor w, dev_tensor b,
                   float eps) {
    if (!ok_f32(x, "layernorm", &out, 1) || !ok_f32(x, "layernorm", &in, 1) ||
        !ok_f32(x, "layernorm", &w, 1) || !ok_f32(x, "layernorm", &b, 1))
        return;
    const int64_t C = last_dim(&in);
    if (dev_tensor_numel(&out) != dev_tensor_numel(&in) || dev_tensor_numel(&w) != C ||
        dev_tensor_numel(&b) != C)
        return fail(x, "layernorm: shapes do not fit (C %lld)", (long long)C);
    CALL(x, x->dev->vt->layernorm(x->dev, &out, &in, &w, &b, eps));
}

void dev_conv2d(dev_exec *x, dev_tensor out, dev_tensor in, dev_tensor w, dev_tensor b, int stride,
                int pad, int groups) {
    if (!ok_f32(x, "conv2d", &out, 1) || !ok_f32(x, "conv2d", &in, 1) ||
        !ok_f32(x, "conv2d", &w, 1) || (b.buf && !ok_f32(x, "conv2d", &b, 1)))
        return;
    if (in.ndim != 3 || out.ndim != 3 || w.ndim != 4 || stride < 1 || groups < 1)
        return fail(x, "conv2d: needs [H][W][C] tensors and a [OC][IC/g][KH][KW] weight");
    const int H = (int)in.shape[0], W = (int)in.shape[1], IC = (int)in.shape[2];
    const int OC = (int)w.shape[0], KH = (int)w.shape[2], KW = (int)w.shape[3];
    const int OH = (H + 2 * pad - KH) / stride + 1, OW = (W + 2 * pad - KW) / stride + 1;
    if (IC % groups || w.shape[1] != IC / groups || out.shape[0] != OH || out.shape[1] != OW ||
        out.shape[2] != OC || (b.buf && dev_tensor_numel(&b) != OC))
        return fail(x, "conv2d: shapes do not fit");
    /* Host kernels need an im2col buffer; a GPU backend would ignore it. */
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    const int64_t ns =
        (int64_t)conv2d_scratch_floats(H, W, IC, OC, KH, KW, stride, pad, groups) + 1;
    dev_tensor scratch = dev_new(x, SAM2_F32, 1, &ns);
    if (x->failed) return;
    CALL(x, x->dev->vt->conv2d(x->dev, &out, &in, &w, &b, stride, pad, groups, &scratch));
    dev_arena_release(x->arena, m);
}

void dev_fourier_pe(dev_exec *x, dev_tensor out, dev_tensor coords, dev_tensor gaussian) {
    if (!ok_f32(x, "fourier_pe", &out, 1) || !ok_f32(x, "fourier_pe", &coords, 1) ||
        !ok_f32(x, "fourier_pe", &gaussian, 1))
        return;
    const int64_t N = dev_tensor_numel(&coords) / 2, half = dev_tensor_numel(&gaussian) / 2;
    if (last_dim(&coords) != 2 || dev_tensor_numel(&out) != N * 2 * half ||
        last_dim(&out) != 2 * half)
        return fail(x, "fourier_pe: shapes do not fit");
    CALL(x, x->dev->vt->fourier_pe(x->dev, &out, &coords, &gaussian));
}

/* ---- image encoder ops ---- */

int dev_arena_adopt(dev_arena *a, void *host, size_t bytes) {
    if (!a->dev->maps_host || !host) return -1;
    dev_arena_block *h = calloc(1, sizeof *h);
    if (!h || !(h->buf = dev_buffer_borrow(a->dev, host, bytes))) {
        free(h);
        return -1;
    }
    h->next = a->head;
    a->head = h;
    return 0;
}

/* ---- heads ops (mask decoder, memory attention, memory encoder, Perceiver) ---- */

dev_tensor dev_windows(dev_tensor t, int64_t n) {
    if (t.ndim != 2 || n < 1 || t.shape[0] % n) {
        t.ndim = 0; /* an unusable view: the op that receives it fails */
        return t;
    }
    const int64_t L = t.shape[0] / n, C = t.shape[1], rs = t.stride[0], cs = t.stride[1];
    t.ndim = 3;
    t.shape[0] = n, t.shape[1] = L, t.shape[2] = C;
    t.stride[0] = L * rs, t.stride[1] = rs, t.stride[2] = cs;
    return t;
}

dev_tensor dev_cols(dev_tensor t, int64_t c0, int64_t n) {
    t.offset += (size_t)(c0 * t.stride[t.ndim - 1]) * sam2_dtype_size(t.dtype);
    t.shape[t.ndim - 1] = n;
    return t;
}

static int same_shape(const dev_tensor *a, const dev_tensor *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

void dev_add_tiled(dev_exec *x, dev_tensor out, dev_tensor a, dev_tensor b) {
    if (!ok_f32(x, "add_tiled", &out, 1) || !ok_f32(x, "add_tiled", &a, 1) ||
        !ok_f32(x, "add_tiled", &b, 1))
        return;
    if (a.ndim != 3 || b.ndim != 3 || !same_shape(&out, &a))
        return fail(x, "add_tiled: needs 3-d tensors, out shaped as a");
    for (int i = 0; i < 3; i++)
        if (b.shape[i] < 1 || a.shape[i] % b.shape[i])
            return fail(x, "add_tiled: dim %d of b does not tile a", i);
    CALL(x, x->dev->vt->add_tiled(x->dev, &out, &a, &b));
}

void dev_resize_bicubic(dev_exec *x, dev_tensor out, dev_tensor in) {
    if (!ok_f32(x, "resize_bicubic", &out, 1) || !ok_f32(x, "resize_bicubic", &in, 1)) return;
    if (in.ndim != 3 || out.ndim != 3 || in.shape[0] != out.shape[0])
        return fail(x, "resize_bicubic: needs [C][H][W] tensors of the same C");
    if (out.buf == in.buf && out.offset == in.offset) return fail(x, "resize_bicubic: out is in");
    CALL(x, x->dev->vt->resize_bicubic(x->dev, &out, &in));
}

static int64_t ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

/* in [H][W][C] against windows [nh * nw][ws * ws][C]. */
static int windows_fit(const dev_tensor *map, const dev_tensor *win, int ws) {
    return ws >= 1 && map->ndim == 3 && win->ndim == 3 && win->shape[2] == map->shape[2] &&
           win->shape[1] == (int64_t)ws * ws &&
           win->shape[0] == ceil_div(map->shape[0], ws) * ceil_div(map->shape[1], ws);
}

void dev_window_partition(dev_exec *x, dev_tensor out, dev_tensor in, int ws) {
    if (!ok_f32(x, "window_partition", &out, 1) || !ok_f32(x, "window_partition", &in, 1)) return;
    if (!windows_fit(&in, &out, ws)) return fail(x, "window_partition: shapes do not fit");
    CALL(x, x->dev->vt->window_partition(x->dev, &out, &in, ws));
}

void dev_window_unpartition(dev_exec *x, dev_tensor out, dev_tensor in, int ws) {
    if (!ok_f32(x, "window_unpartition", &out, 1) || !ok_f32(x, "window_unpartition", &in, 1))
        return;
    if (!windows_fit(&out, &in, ws)) return fail(x, "window_unpartition: shapes do not fit");
    CALL(x, x->dev->vt->window_unpartition(x->dev, &out, &in, ws));
}

void dev_maxpool2x2(dev_exec *x, dev_tensor out, dev_tensor in) {
    if (!ok_f32(x, "maxpool2x2", &out, 1) || !ok_f32(x, "maxpool2x2", &in, 1)) return;
    if (in.ndim != 3 || out.ndim != 3 || out.shape[0] != in.shape[0] / 2 ||
        out.shape[1] != in.shape[1] / 2 || out.shape[2] != in.shape[2])
        return fail(x, "maxpool2x2: shapes do not fit");
    CALL(x, x->dev->vt->maxpool2x2(x->dev, &out, &in));
}

void dev_upsample2x(dev_exec *x, dev_tensor out, dev_tensor in) {
    if (!ok_f32(x, "upsample2x", &out, 1) || !ok_f32(x, "upsample2x", &in, 1)) return;
    if (in.ndim != 3 || out.ndim != 3 || out.shape[0] != 2 * in.shape[0] ||
        out.shape[1] != 2 * in.shape[1] || out.shape[2] != in.shape[2])
        return fail(x, "upsample2x: shapes do not fit");
    CALL(x, x->dev->vt->upsample2x(x->dev, &out, &in));
}

/* [n][L][C] with unit channel stride and each window's rows consecutive. */
static int window_rows(const dev_tensor *t) {
    return t->ndim == 3 && t->stride[2] == 1 && t->stride[0] == t->shape[1] * t->stride[1];
}

void dev_attention_windows(dev_exec *x, dev_tensor out, dev_tensor q, dev_tensor k, dev_tensor v,
                           int heads) {
    if (!ok_f32(x, "attention_windows", &out, 1) || !ok_f32(x, "attention_windows", &q, 0) ||
        !ok_f32(x, "attention_windows", &k, 0) || !ok_f32(x, "attention_windows", &v, 0))
        return;
    if (!window_rows(&q) || !window_rows(&k) || !window_rows(&v) || !same_shape(&k, &v) ||
        !same_shape(&out, &q) || q.shape[0] != k.shape[0] || q.shape[2] != k.shape[2] ||
        heads < 1 || q.shape[2] % heads)
        return fail(x, "attention_windows: shapes do not fit");
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    const int64_t ns = (int64_t)attention_batched_scratch_floats((int)q.shape[0], heads,
                                                                 (int)q.shape[1], (int)k.shape[1]) +
                       1;
    dev_tensor scratch = dev_new(x, SAM2_F32, 1, &ns);
    if (x->failed) return;
    CALL(x, x->dev->vt->attention_windows(x->dev, &out, &q, &k, &v, heads, &scratch));
    dev_arena_release(x->arena, m);
}

void dev_sine_pe(dev_exec *x, dev_tensor out, float temperature) {
    if (!ok_f32(x, "sine_pe", &out, 1)) return;
    if (out.ndim != 3 || out.shape[2] % 4) return fail(x, "sine_pe: needs [H][W][C], C % 4 == 0");
    CALL(x, x->dev->vt->sine_pe(x->dev, &out, temperature));
}

/* A 2-d f32 tensor on the exec's backend whose rows are unit-stride. */
static int ok_rows(dev_exec *x, const char *op, const dev_tensor *t) {
    if (!ok_f32(x, op, t, 0)) return 0;
    if (t->ndim != 2 || (t->shape[1] > 1 && t->stride[1] != 1) || t->stride[0] < t->shape[1]) {
        fail(x, "%s: needs a 2-d tensor with unit-stride rows", op);
        return 0;
    }
    return 1;
}

void dev_matmul(dev_exec *x, dev_tensor out, dev_tensor a, dev_tensor b, int trans_a, int trans_b,
                float alpha, float beta) {
    if (!ok_rows(x, "matmul", &out) || !ok_rows(x, "matmul", &a) || !ok_rows(x, "matmul", &b))
        return;
    const int64_t M = a.shape[trans_a ? 1 : 0], K = a.shape[trans_a ? 0 : 1];
    const int64_t Kb = b.shape[trans_b ? 1 : 0], N = b.shape[trans_b ? 0 : 1];
    if (K != Kb || out.shape[0] != M || out.shape[1] != N)
        return fail(x, "matmul: [%lld][%lld] x [%lld][%lld] into [%lld][%lld]", (long long)M,
                    (long long)K, (long long)Kb, (long long)N, (long long)out.shape[0],
                    (long long)out.shape[1]);
    CALL(x, x->dev->vt->matmul(x->dev, &out, &a, &b, trans_a, trans_b, alpha, beta));
}

void dev_softmax(dev_exec *x, dev_tensor t) {
    if (!ok_f32(x, "softmax", &t, 1)) return;
    CALL(x, x->dev->vt->softmax(x->dev, &t));
}

void dev_attention(dev_exec *x, dev_tensor out, dev_tensor q, dev_tensor k, dev_tensor v,
                   int heads) {
    if (!ok_rows(x, "attention", &out) || !ok_rows(x, "attention", &q) ||
        !ok_rows(x, "attention", &k) || !ok_rows(x, "attention", &v))
        return;
    const int64_t Lq = q.shape[0], Lk = k.shape[0];
    if (heads < 1 || q.shape[1] % heads || v.shape[1] % heads || k.shape[1] != q.shape[1] ||
        v.shape[0] != Lk || out.shape[0] != Lq || out.shape[1] != v.shape[1])
        return fail(x, "attention: shapes do not fit (%d heads)", heads);
    /* Host kernels keep one block of scores per thread; a GPU backend would ignore it. */
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    const int64_t ns = (int64_t)attention_scratch_floats((int)Lq, (int)Lk) + 1;
    dev_tensor scratch = dev_new(x, SAM2_F32, 1, &ns);
    if (x->failed) return;
    CALL(x, x->dev->vt->attention(x->dev, &out, &q, &k, &v, heads, &scratch));
    dev_arena_release(x->arena, m);
}

void dev_conv_transpose2x2(dev_exec *x, dev_tensor out, dev_tensor in, dev_tensor w, dev_tensor b) {
    if (!ok_f32(x, "conv_t2x2", &out, 1) || !ok_f32(x, "conv_t2x2", &in, 1) ||
        !ok_f32(x, "conv_t2x2", &w, 1) || !ok_f32(x, "conv_t2x2", &b, 1))
        return;
    if (in.ndim != 3 || out.ndim != 3 || w.ndim != 4)
        return fail(x, "conv_t2x2: needs [H][W][C] tensors and a [IC][OC][2][2] weight");
    const int64_t H = in.shape[0], W = in.shape[1], IC = in.shape[2], OC = w.shape[1];
    if (w.shape[0] != IC || w.shape[2] != 2 || w.shape[3] != 2 || out.shape[0] != 2 * H ||
        out.shape[1] != 2 * W || out.shape[2] != OC || dev_tensor_numel(&b) != OC)
        return fail(x, "conv_t2x2: shapes do not fit");
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    const int64_t ns = (int64_t)conv_t2x2_scratch_floats((int)H, (int)W, (int)IC, (int)OC) + 1;
    dev_tensor scratch = dev_new(x, SAM2_F32, 1, &ns);
    if (x->failed) return;
    CALL(x, x->dev->vt->conv_t2x2(x->dev, &out, &in, &w, &b, &scratch));
    dev_arena_release(x->arena, m);
}

void dev_scale(dev_exec *x, dev_tensor out, dev_tensor in, float mul, float add) {
    if (!ok_f32(x, "scale", &out, 1) || !ok_f32(x, "scale", &in, 1)) return;
    if (dev_tensor_numel(&out) != dev_tensor_numel(&in)) return fail(x, "scale: sizes differ");
    CALL(x, x->dev->vt->scale(x->dev, &out, &in, mul, add));
}

void dev_mul(dev_exec *x, dev_tensor out, dev_tensor a, dev_tensor b) {
    if (!ok_f32(x, "mul", &out, 1) || !ok_f32(x, "mul", &a, 1) || !ok_f32(x, "mul", &b, 1)) return;
    const int64_t n = dev_tensor_numel(&a), nb = dev_tensor_numel(&b);
    if (dev_tensor_numel(&out) != n || (nb != n && nb != last_dim(&a)))
        return fail(x, "mul: %lld * %lld elements into %lld", (long long)n, (long long)nb,
                    (long long)dev_tensor_numel(&out));
    CALL(x, x->dev->vt->mul(x->dev, &out, &a, &b));
}

void dev_threshold(dev_exec *x, dev_tensor out, dev_tensor in, float t) {
    if (!ok_f32(x, "threshold", &out, 1) || !ok_f32(x, "threshold", &in, 1)) return;
    if (dev_tensor_numel(&out) != dev_tensor_numel(&in)) return fail(x, "threshold: sizes differ");
    CALL(x, x->dev->vt->threshold(x->dev, &out, &in, t));
}

void dev_rope(dev_exec *x, dev_tensor t, dev_tensor cos_t, dev_tensor sin_t, int period, int skip) {
    if (!ok_rows(x, "rope", &t) || !ok_f32(x, "rope", &cos_t, 1) || !ok_f32(x, "rope", &sin_t, 1))
        return;
    const int64_t half = t.shape[1] / 2;
    if (t.shape[1] % 2 || last_dim(&cos_t) != half ||
        dev_tensor_numel(&sin_t) != dev_tensor_numel(&cos_t) || period < 1 || skip < 0 ||
        skip >= period)
        return fail(x, "rope: shapes do not fit");
    if (t.shape[0] == 0) return;
    CALL(x, x->dev->vt->rope(x->dev, &t, &cos_t, &sin_t, period, skip));
}

/* ---- the public names (include/sam2.h) ---- */

int sam2_set_backend(const char *name) {
    return sam2_device_choose(name) == 0 ? SAM2_OK : SAM2_ERR_ARGUMENT;
}

const char *const *sam2_backend_names(void) {
    return device_names;
}

const char *sam2_backend_about(const char *name) {
    const sam2_device *d = sam2_device_pick(name);
    return d ? d->about : NULL;
}

void sam2_backend_transfer_bytes(const char *name, uint64_t *up, uint64_t *down) {
    sam2_device *d = sam2_device_pick(name);
    if (up) *up = 0;
    if (down) *down = 0;
    if (d) dev_transfer_bytes(d, up, down);
}
