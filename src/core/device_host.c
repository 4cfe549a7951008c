/* The host backends behind the seam: cpu, ref and check. They share one op table, which unwraps
 * tensors into pointers and calls the existing kernel tables (core/ops.h), so the cpu backend
 * runs exactly the kernels the model ran before the seam. They differ in:
 *   cpu    kernels = sam2_backend_cpu(), memory = malloc, weights borrowed from the mapping
 *   ref    kernels = sam2_backend_ref(), same memory
 *   check  kernels = sam2_backend_ref(), memory = mmap'd pages kept PROT_NONE except while a
 *          backend call (op, upload, download) runs; weights are uploaded, never borrowed. */
#include "core/device.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define TWO_PI_F 6.283185307179586f

void sam2_device_lock(void);
void sam2_device_unlock(void);

/* ---- dtype conversions ---- */

uint16_t sam2_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float sam2_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t sam2_f32_to_f16(float f) {
#if defined(__FLT16_MAX__)
    _Float16 h = (_Float16)f;
    uint16_t r;
    memcpy(&r, &h, 2);
    return r;
#else
    /* Portable path: truncating conversion of normal numbers (storage only). */
    uint32_t u;
    memcpy(&u, &f, 4);
    const uint32_t sign = (u >> 16) & 0x8000u;
    const int e = (int)((u >> 23) & 0xff) - 127 + 15;
    if (e <= 0) return (uint16_t)sign;
    if (e >= 31) return (uint16_t)(sign | 0x7c00u);
    return (uint16_t)(sign | ((uint32_t)e << 10) | ((u >> 13) & 0x3ffu));
#endif
}

float sam2_f16_to_f32(uint16_t h) {
#if defined(__FLT16_MAX__)
    _Float16 v;
    memcpy(&v, &h, 2);
    return (float)v;
#else
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    float f = e == 0    ? ldexpf((float)m, -24)
              : e == 31 ? INFINITY
                        : ldexpf((float)(m | 0x400), (int)e - 25);
    uint32_t u;
    memcpy(&u, &f, 4);
    u |= sign;
    memcpy(&f, &u, 4);
    return f;
#endif
}

/* ---- memory ---- */

static void *host_alloc(sam2_device *d, size_t bytes, void **handle) {
    (void)d;
    *handle = NULL;
    void *p = NULL;
    return posix_memalign(&p, 64, bytes) == 0 ? p : NULL;
}

static void host_free(sam2_device *d, void *host, void *handle, size_t bytes) {
    (void)d, (void)handle, (void)bytes;
    free(host);
}

static void host_upload(sam2_device *d, dev_buffer *b, size_t off, const void *src, size_t n) {
    d->vt->enter(d);
    memcpy((char *)b->host + off, src, n);
    d->vt->leave(d);
}

static void host_download(sam2_device *d, const dev_buffer *b, size_t off, void *dst, size_t n) {
    d->vt->enter(d);
    memcpy(dst, (const char *)b->host + off, n);
    d->vt->leave(d);
}

static void host_nothing(sam2_device *d) {
    (void)d;
}

/* check: whole pages, so that protection covers exactly the buffer. */
static size_t page_round(size_t n) {
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    return (n + pg - 1) / pg * pg;
}

static void *check_alloc(sam2_device *d, size_t bytes, void **handle) {
    *handle = NULL;
    sam2_device_lock();
    const int prot = d->depth > 0 ? PROT_READ | PROT_WRITE : PROT_NONE;
    void *p = mmap(NULL, page_round(bytes), prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sam2_device_unlock();
    return p == MAP_FAILED ? NULL : p;
}

static void check_free(sam2_device *d, void *host, void *handle, size_t bytes) {
    (void)d, (void)handle;
    munmap(host, page_round(bytes));
}

static void protect_all(sam2_device *d, int prot) {
    for (dev_buffer *b = d->buffers; b; b = b->next) mprotect(b->host, page_round(b->bytes), prot);
}

/* Nested and concurrent calls (sessions of the server) open the pages once and close them when
 * the last call leaves. */
static void check_enter(sam2_device *d) {
    sam2_device_lock();
    if (d->depth++ == 0) protect_all(d, PROT_READ | PROT_WRITE);
    sam2_device_unlock();
}

static void check_leave(sam2_device *d) {
    sam2_device_lock();
    if (--d->depth == 0) protect_all(d, PROT_NONE);
    sam2_device_unlock();
}

/* ---- ops ---- */

static float *P(const dev_tensor *t) {
    return t->buf ? (float *)(void *)((char *)t->buf->host + t->offset) : NULL;
}

static int64_t numel(const dev_tensor *t) {
    return dev_tensor_numel(t);
}
static int64_t last(const dev_tensor *t) {
    return t->ndim ? t->shape[t->ndim - 1] : 1;
}

static float load(const dev_tensor *t, int64_t at) {
    const char *p = (const char *)t->buf->host + t->offset;
    if (t->dtype == SAM2_F32) return ((const float *)(const void *)p)[at];
    const uint16_t h = ((const uint16_t *)(const void *)p)[at];
    return t->dtype == SAM2_BF16 ? sam2_bf16_to_f32(h) : sam2_f16_to_f32(h);
}

static void store(const dev_tensor *t, int64_t at, float v) {
    char *p = (char *)t->buf->host + t->offset;
    if (t->dtype == SAM2_F32)
        ((float *)(void *)p)[at] = v;
    else
        ((uint16_t *)(void *)p)[at] =
            t->dtype == SAM2_BF16 ? sam2_f32_to_bf16(v) : sam2_f32_to_f16(v);
}

/* float32 to float32: an odometer over the outer dimensions, a strided loop (or a memcpy) over
 * the last one, so views that keep the last dimension whole copy at memory speed. */
static void copy_f32(const dev_tensor *dst, const dev_tensor *src) {
    const int nd = src->ndim, in = nd - 1;
    const int64_t n = src->shape[in], ss = src->stride[in], ds = dst->stride[in];
    int64_t idx[DEV_MAX_DIMS] = {0}, outer = 1;
    for (int k = 0; k < in; k++) outer *= src->shape[k];
    for (int64_t r = 0; r < outer; r++) {
        int64_t so = 0, dof = 0;
        for (int k = 0; k < in; k++) {
            so += idx[k] * src->stride[k];
            dof += idx[k] * dst->stride[k];
        }
        const float *s = P(src) + so;
        float *o = P(dst) + dof;
        if (ss == 1 && ds == 1)
            memmove(o, s, (size_t)n * sizeof(float));
        else
            for (int64_t i = 0; i < n; i++) o[i * ds] = s[i * ss];
        for (int k = in - 1; k >= 0; k--) {
            if (++idx[k] < src->shape[k]) break;
            idx[k] = 0;
        }
    }
}

/* Any strides, any of the three dtypes: an odometer over the (up to 4) dimensions. */
static void host_copy(sam2_device *d, const dev_tensor *dst, const dev_tensor *src) {
    (void)d;
    if (src->dtype == SAM2_F32 && dst->dtype == SAM2_F32 && src->ndim > 0)
        return copy_f32(dst, src);
    int64_t idx[DEV_MAX_DIMS] = {0};
    const int64_t n = numel(src);
    for (int64_t i = 0; i < n; i++) {
        int64_t so = 0, dof = 0;
        for (int k = 0; k < src->ndim; k++) {
            so += idx[k] * src->stride[k];
            dof += idx[k] * dst->stride[k];
        }
        store(dst, dof, load(src, so));
        for (int k = src->ndim - 1; k >= 0; k--) {
            if (++idx[k] < src->shape[k]) break;
            idx[k] = 0;
        }
    }
}

static void host_add(sam2_device *d, const dev_tensor *out, const dev_tensor *a,
                     const dev_tensor *b) {
    const int64_t n = numel(a), nb = numel(b);
    if (nb == n) return d->kernels->add(P(out), P(a), P(b), (size_t)n);
    for (int64_t r = 0; r < n / nb; r++) /* one row of b over every row of a */
        d->kernels->add(P(out) + r * nb, P(a) + r * nb, P(b), (size_t)nb);
}

static void host_unary(sam2_device *d, const dev_tensor *out, const dev_tensor *in, sam2_act act,
                       int sigmoid) {
    const size_t n = (size_t)numel(in);
    if (sigmoid)
        d->kernels->sigmoid(P(out), P(in), n);
    else if (act == SAM2_ACT_GELU)
        d->kernels->gelu(P(out), P(in), n);
    else if (act == SAM2_ACT_RELU)
        d->kernels->relu(P(out), P(in), n);
    else if (P(out) != P(in))
        memmove(P(out), P(in), n * sizeof(float));
}

static void host_linear(sam2_device *d, const dev_tensor *out, const dev_tensor *in,
                        const dev_tensor *w, const dev_tensor *b) {
    const int IC = (int)last(in), OC = (int)w->shape[0], N = (int)(numel(in) / IC);
    d->kernels->linear(P(out), P(in), P(w), P(b), N, IC, OC);
}

static void host_layernorm(sam2_device *d, const dev_tensor *out, const dev_tensor *in,
                           const dev_tensor *w, const dev_tensor *b, float eps) {
    const int C = (int)last(in);
    d->kernels->layernorm(P(out), P(in), P(w), P(b), (int)(numel(in) / C), C, eps);
}

static void host_conv2d(sam2_device *d, const dev_tensor *out, const dev_tensor *in,
                        const dev_tensor *w, const dev_tensor *b, int stride, int pad, int groups,
                        const dev_tensor *scratch) {
    d->kernels->conv2d(P(out), P(in), P(w), P(b), (int)in->shape[0], (int)in->shape[1],
                       (int)in->shape[2], (int)w->shape[0], (int)w->shape[2], (int)w->shape[3],
                       stride, pad, groups, P(scratch));
}

static void host_fourier_pe(sam2_device *d, const dev_tensor *out, const dev_tensor *coords,
                            const dev_tensor *gaussian) {
    (void)d;
    const int64_t N = numel(coords) / 2, half = numel(gaussian) / 2;
    const float *c = P(coords), *g = P(gaussian);
    for (int64_t i = 0; i < N; i++) {
        float *o = P(out) + i * 2 * half;
        const float cx = 2.0f * c[2 * i] - 1.0f, cy = 2.0f * c[2 * i + 1] - 1.0f;
        for (int64_t j = 0; j < half; j++) {
            const float p = TWO_PI_F * (cx * g[j] + cy * g[half + j]);
            o[j] = sinf(p);
            o[half + j] = cosf(p);
        }
    }
}

/* ---- image encoder ops ---- */

/* Row by row of a's last dimension, each row adding the matching row of b repeated. */
static void host_add_tiled(sam2_device *d, const dev_tensor *out, const dev_tensor *a,
                           const dev_tensor *b) {
    (void)d;
    const int64_t A0 = a->shape[0], A1 = a->shape[1], A2 = a->shape[2];
    const int64_t B0 = b->shape[0], B1 = b->shape[1], B2 = b->shape[2];
    for (int64_t i = 0; i < A0; i++)
        for (int64_t j = 0; j < A1; j++) {
            const float *ar = P(a) + (i * A1 + j) * A2;
            const float *br = P(b) + ((i % B0) * B1 + j % B1) * B2;
            float *o = P(out) + (i * A1 + j) * A2;
            for (int64_t k = 0; k < A2; k++) o[k] = ar[k] + br[k % B2];
        }
}

static void host_resize_bicubic(sam2_device *d, const dev_tensor *out, const dev_tensor *in) {
    d->kernels->resize_bicubic(P(out), P(in), (int)in->shape[0], (int)in->shape[1],
                               (int)in->shape[2], (int)out->shape[1], (int)out->shape[2]);
}

/* Window w's token t is map pixel (wy * ws + t / ws, wx * ws + t % ws); `to_windows` picks the
 * direction. Tokens outside the map are zero in the windows and dropped from the map. */
static void windows_move(const dev_tensor *map, const dev_tensor *win, int ws, int to_windows) {
    const int64_t H = map->shape[0], W = map->shape[1], C = map->shape[2];
    const int64_t nw = (W + ws - 1) / ws, nwin = win->shape[0];
    const size_t row = (size_t)C * sizeof(float);
    for (int64_t w = 0; w < nwin; w++)
        for (int64_t t = 0; t < (int64_t)ws * ws; t++) {
            const int64_t y = (w / nw) * ws + t / ws, xx = (w % nw) * ws + t % ws;
            float *wp = P(win) + (w * ws * ws + t) * C;
            const int inside = y < H && xx < W;
            float *mp = inside ? P(map) + (y * W + xx) * C : NULL;
            if (to_windows && inside)
                memcpy(wp, mp, row);
            else if (to_windows)
                memset(wp, 0, row);
            else if (inside)
                memcpy(mp, wp, row);
        }
}

static void host_window_partition(sam2_device *d, const dev_tensor *out, const dev_tensor *in,
                                  int ws) {
    (void)d;
    windows_move(in, out, ws, 1);
}

static void host_window_unpartition(sam2_device *d, const dev_tensor *out, const dev_tensor *in,
                                    int ws) {
    (void)d;
    windows_move(out, in, ws, 0);
}

static void host_maxpool2x2(sam2_device *d, const dev_tensor *out, const dev_tensor *in) {
    d->kernels->maxpool2x2(P(out), P(in), (int)in->shape[0], (int)in->shape[1], (int)in->shape[2]);
}

static void host_upsample2x(sam2_device *d, const dev_tensor *out, const dev_tensor *in) {
    d->kernels->upsample_nearest2x(P(out), P(in), (int)in->shape[0], (int)in->shape[1],
                                   (int)in->shape[2]);
}

static void host_attention_windows(sam2_device *d, const dev_tensor *out, const dev_tensor *q,
                                   const dev_tensor *k, const dev_tensor *v, int heads,
                                   const dev_tensor *scratch) {
    const int C = (int)q->shape[2];
    d->kernels->attention_batched(P(out), C, P(q), (int)q->stride[1], P(k), (int)k->stride[1], P(v),
                                  (int)v->stride[1], (int)q->shape[0], heads, (int)q->shape[1],
                                  (int)k->shape[1], C / heads, P(scratch));
}

/* dim_t = temperature ** (2 * (j // 2) / npf), in float32 as the reference evaluates it. */
static void host_sine_pe(sam2_device *d, const dev_tensor *out, float temperature) {
    (void)d;
    const int64_t H = out->shape[0], W = out->shape[1], C = out->shape[2], npf = C / 2;
    const float eps = 1e-6f;
    for (int64_t y = 0; y < H; y++) {
        const float ye = (float)(y + 1) / ((float)H + eps) * TWO_PI_F;
        for (int64_t x = 0; x < W; x++) {
            const float xe = (float)(x + 1) / ((float)W + eps) * TWO_PI_F;
            float *o = P(out) + (y * W + x) * C;
            for (int64_t j = 0; j < npf; j++) {
                const float t = powf(temperature, (2.0f * (float)(j / 2)) / (float)npf);
                const float py = ye / t, px = xe / t;
                o[j] = (j & 1) ? cosf(py) : sinf(py);
                o[npf + j] = (j & 1) ? cosf(px) : sinf(px);
            }
        }
    }
}

#define HOST_IMAGE_ENCODER_OPS                                                                     \
    .add_tiled = host_add_tiled, .resize_bicubic = host_resize_bicubic,                            \
    .window_partition = host_window_partition, .window_unpartition = host_window_unpartition,      \
    .maxpool2x2 = host_maxpool2x2, .upsample2x = host_upsample2x,                                  \
    .attention_windows = host_attention_windows, .sine_pe = host_sine_pe

/* ---- heads ops (mask decoder, memory attention, memory encoder, Perceiver) ---- */

static void host_matmul(sam2_device *d, const dev_tensor *out, const dev_tensor *a,
                        const dev_tensor *b, int trans_a, int trans_b, float alpha, float beta) {
    const int M = (int)out->shape[0], N = (int)out->shape[1];
    const int K = (int)a->shape[trans_a ? 0 : 1];
    d->kernels->gemm(trans_a, trans_b, M, N, K, alpha, P(a), (int)a->stride[0], P(b),
                     (int)b->stride[0], beta, P(out), (int)out->stride[0]);
}

static void host_softmax(sam2_device *d, const dev_tensor *x) {
    const int C = (int)last(x);
    d->kernels->softmax_rows(P(x), (int)(numel(x) / C), C);
}

/* One kernel call per head, each reading its channels of the interleaved rows. */
static void host_attention(sam2_device *d, const dev_tensor *out, const dev_tensor *q,
                           const dev_tensor *k, const dev_tensor *v, int heads,
                           const dev_tensor *scratch) {
    const int Lq = (int)q->shape[0], Lk = (int)k->shape[0];
    const int D = (int)q->shape[1] / heads, Dv = (int)v->shape[1] / heads;
    const int ldo = (int)out->stride[0], ldq = (int)q->stride[0], ldk = (int)k->stride[0],
              ldv = (int)v->stride[0];
    for (int h = 0; h < heads; h++) {
        if (Dv == D)
            d->kernels->attention(P(out) + h * D, ldo, P(q) + h * D, ldq, P(k) + h * D, ldk,
                                  P(v) + h * D, ldv, Lq, Lk, D, P(scratch));
        else
            d->kernels->attention_dv(P(out) + h * Dv, ldo, P(q) + h * D, ldq, P(k) + h * D, ldk,
                                     P(v) + h * Dv, ldv, Lq, Lk, D, Dv, P(scratch));
    }
}

static void host_conv_t2x2(sam2_device *d, const dev_tensor *out, const dev_tensor *in,
                           const dev_tensor *w, const dev_tensor *b, const dev_tensor *scratch) {
    d->kernels->conv_transpose2x2(P(out), P(in), P(w), P(b), (int)in->shape[0], (int)in->shape[1],
                                  (int)in->shape[2], (int)w->shape[1], P(scratch));
}

static void host_scale(sam2_device *d, const dev_tensor *out, const dev_tensor *in, float mul,
                       float add) {
    (void)d;
    const int64_t n = numel(in);
    const float *i = P(in);
    float *o = P(out);
    for (int64_t j = 0; j < n; j++) o[j] = i[j] * mul + add;
}

static void host_mul(sam2_device *d, const dev_tensor *out, const dev_tensor *a,
                     const dev_tensor *b) {
    (void)d;
    const int64_t n = numel(a), nb = numel(b);
    const float *y = P(b);
    for (int64_t r = 0; r < n; r += nb) { /* one row of b over every row of a */
        const float *x = P(a) + r;
        float *o = P(out) + r;
        for (int64_t j = 0; j < nb; j++) o[j] = x[j] * y[j];
    }
}

static void host_threshold(sam2_device *d, const dev_tensor *out, const dev_tensor *in, float t) {
    (void)d;
    const int64_t n = numel(in);
    const float *i = P(in);
    float *o = P(out);
    for (int64_t j = 0; j < n; j++) o[j] = i[j] > t ? 1.0f : 0.0f;
}

static void host_rope(sam2_device *d, const dev_tensor *x, const dev_tensor *cos_t,
                      const dev_tensor *sin_t, int period, int skip) {
    const int64_t half = x->shape[1] / 2;
    d->kernels->rope(P(x), (int)x->shape[0], (int)x->stride[0], (int)x->shape[1], P(cos_t),
                     P(sin_t), (int)(numel(cos_t) / half), period, skip);
}

#define HEADS_OPS                                                                                  \
    .matmul = host_matmul, .softmax = host_softmax, .attention = host_attention,                   \
    .conv_t2x2 = host_conv_t2x2, .scale = host_scale, .mul = host_mul,                             \
    .threshold = host_threshold, .rope = host_rope

#define HOST_OPS                                                                                   \
    .upload = host_upload, .download = host_download, .copy = host_copy, .add = host_add,          \
    .unary = host_unary, .linear = host_linear, .layernorm = host_layernorm,                       \
    .conv2d = host_conv2d, .fourier_pe = host_fourier_pe, HOST_IMAGE_ENCODER_OPS, HEADS_OPS

static const sam2_device_vt host_vt = {
    .alloc = host_alloc, .free = host_free, .enter = host_nothing, .leave = host_nothing, HOST_OPS};
static const sam2_device_vt check_vt = {
    .alloc = check_alloc, .free = check_free, .enter = check_enter, .leave = check_leave, HOST_OPS};

/* The kernel tables are functions (they pick the ISA at first use): filled in on first get. */
sam2_device sam2_device_cpu_ = {.name = "cpu",
                                .about = "optimised CPU kernels (AVX2/NEON, threads, BLAS)",
                                .vt = &host_vt,
                                .maps_host = 1};
sam2_device sam2_device_ref_ = {
    .name = "ref", .about = "plain reference kernels", .vt = &host_vt, .maps_host = 1};
sam2_device sam2_device_check_ = {
    .name = "check",
    .about = "reference kernels; memory unreadable by the host outside backend calls (tests)",
    .vt = &check_vt,
    .maps_host = 0};

void sam2_device_bind_kernels(void) {
    if (!sam2_device_cpu_.kernels) sam2_device_cpu_.kernels = sam2_backend_cpu();
    if (!sam2_device_ref_.kernels) sam2_device_ref_.kernels = sam2_backend_ref();
    if (!sam2_device_check_.kernels) sam2_device_check_.kernels = sam2_backend_ref();
}
