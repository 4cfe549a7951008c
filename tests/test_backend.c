/* The compute seam (core/device.h): every op on every backend against the ref backend on small
 * random inputs, the transfer counters, the errors an op refuses with, and the check backend's
 * promise that host code touching its memory outside a backend call faults.
 *
 * Tolerances: ref and check run the same reference kernels, so they must agree exactly (0); cpu
 * runs other kernels (blocked sums, vector exp/erf, BLAS), so |cpu - ref| <= 1e-4 * (1 + |ref|)
 * (the same order as test_ops.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/device.h"
#include "model/position_encoding.h"
#include "ops_check.h"

#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXOUT 4096

/* One op case: builds its inputs from the seed on backend d, runs the op, downloads the result
 * into out and returns how many floats it wrote (-1 when the op failed). */
typedef int (*op_case)(dev_exec *x, float *out);

static dev_tensor rnd(dev_exec *x, int ndim, const int64_t *shape, float scale) {
    dev_tensor probe = dev_tensor_make(NULL, 0, SAM2_F32, ndim, shape);
    const size_t n = (size_t)dev_tensor_numel(&probe);
    float *h = ops_random(n, scale);
    dev_tensor t = dev_from_host(x, h, SAM2_F32, ndim, shape, 0);
    free(h);
    return t;
}

static int finish(dev_exec *x, dev_tensor t, float *out) {
    const int64_t n = dev_tensor_numel(&t);
    assert_true(n <= MAXOUT);
    if (dev_download(x, out, &t, (size_t)n * sizeof(float)) != 0) return -1;
    return x->failed ? -1 : (int)n;
}

static int case_copy_strided(dev_exec *x, float *out) {
    const int64_t s[2] = {6, 5}, t[2] = {5, 6};
    dev_tensor a = rnd(x, 2, s, 1.0f);
    dev_tensor at = a; /* the transpose as a view */
    at.shape[0] = 5, at.shape[1] = 6, at.stride[0] = 1, at.stride[1] = 5;
    dev_tensor o = dev_new(x, SAM2_F32, 2, t);
    dev_copy(x, o, at);
    return finish(x, o, out);
}

static int case_copy_bf16(dev_exec *x, float *out) {
    const int64_t s[1] = {37};
    dev_tensor a = rnd(x, 1, s, 3.0f);
    dev_tensor h = dev_new(x, SAM2_BF16, 1, s), o = dev_new(x, SAM2_F32, 1, s);
    dev_copy(x, h, a); /* storage rounding, then back */
    dev_copy(x, o, h);
    return finish(x, o, out);
}

static int case_copy_f16(dev_exec *x, float *out) {
    const int64_t s[1] = {37};
    dev_tensor a = rnd(x, 1, s, 3.0f);
    dev_tensor h = dev_new(x, SAM2_F16, 1, s), o = dev_new(x, SAM2_F32, 1, s);
    dev_copy(x, h, a);
    dev_copy(x, o, h);
    return finish(x, o, out);
}

static int case_add(dev_exec *x, float *out) {
    const int64_t s[2] = {7, 11};
    dev_tensor a = rnd(x, 2, s, 1.0f), b = rnd(x, 2, s, 1.0f), o = dev_new(x, SAM2_F32, 2, s);
    dev_add(x, o, a, b);
    return finish(x, o, out);
}

static int case_add_row(dev_exec *x, float *out) {
    const int64_t s[2] = {7, 11}, r[1] = {11};
    dev_tensor a = rnd(x, 2, s, 1.0f), b = rnd(x, 1, r, 1.0f);
    dev_add(x, a, a, b); /* in place, one row broadcast */
    return finish(x, a, out);
}

static int case_gelu(dev_exec *x, float *out) {
    const int64_t s[1] = {301};
    dev_tensor a = rnd(x, 1, s, 4.0f), o = dev_new(x, SAM2_F32, 1, s);
    dev_gelu(x, o, a);
    return finish(x, o, out);
}

static int case_relu(dev_exec *x, float *out) {
    const int64_t s[1] = {301};
    dev_tensor a = rnd(x, 1, s, 4.0f);
    dev_relu(x, a, a);
    return finish(x, a, out);
}

static int case_sigmoid(dev_exec *x, float *out) {
    const int64_t s[1] = {301};
    dev_tensor a = rnd(x, 1, s, 8.0f), o = dev_new(x, SAM2_F32, 1, s);
    dev_sigmoid(x, o, a);
    return finish(x, o, out);
}

static int case_linear(dev_exec *x, float *out) {
    const int64_t si[2] = {7, 13}, sw[2] = {9, 13}, sb[1] = {9}, so[2] = {7, 9};
    dev_tensor in = rnd(x, 2, si, 1.0f), w = rnd(x, 2, sw, 0.5f), b = rnd(x, 1, sb, 0.5f);
    dev_tensor o = dev_new(x, SAM2_F32, 2, so);
    dev_linear(x, o, in, w, b);
    return finish(x, o, out);
}

static int case_layernorm(dev_exec *x, float *out) {
    const int64_t si[3] = {3, 4, 24}, sc[1] = {24};
    dev_tensor in = rnd(x, 3, si, 2.0f), w = rnd(x, 1, sc, 1.0f), b = rnd(x, 1, sc, 1.0f);
    dev_tensor o = dev_new(x, SAM2_F32, 3, si);
    dev_layernorm(x, o, in, w, b, 1e-6f);
    return finish(x, o, out);
}

static int case_conv2d(dev_exec *x, float *out) {
    const int64_t si[3] = {9, 7, 4}, sw[4] = {6, 4, 3, 3}, sb[1] = {6}, so[3] = {5, 4, 6};
    dev_tensor in = rnd(x, 3, si, 1.0f), w = rnd(x, 4, sw, 0.5f), b = rnd(x, 1, sb, 0.5f);
    dev_tensor o = dev_new(x, SAM2_F32, 3, so);
    dev_conv2d(x, o, in, w, b, 2, 1, 1);
    return finish(x, o, out);
}

static int case_conv2d_depthwise(dev_exec *x, float *out) {
    const int64_t si[3] = {8, 8, 5}, sw[4] = {5, 1, 3, 3}, so[3] = {8, 8, 5};
    dev_tensor in = rnd(x, 3, si, 1.0f), w = rnd(x, 4, sw, 0.5f);
    dev_tensor o = dev_new(x, SAM2_F32, 3, so);
    dev_conv2d(x, o, in, w, dev_none(), 1, 1, 5);
    return finish(x, o, out);
}

static int case_fourier_pe(dev_exec *x, float *out) {
    const int64_t sc[2] = {5, 2}, sg[2] = {2, 16}, so[2] = {5, 32};
    dev_tensor c = rnd(x, 2, sc, 1.0f), g = rnd(x, 2, sg, 2.0f);
    dev_tensor o = dev_new(x, SAM2_F32, 2, so);
    dev_fourier_pe(x, o, c, g);
    return finish(x, o, out);
}

/* ---- image encoder ops ---- */

static int case_scale_in_place(dev_exec *x, float *out) {
    const int64_t s[2] = {5, 9};
    dev_tensor a = rnd(x, 2, s, 3.0f);
    dev_scale(x, a, a, 0.5f, 0.0f);
    return finish(x, a, out);
}

static int case_add_tiled(dev_exec *x, float *out) {
    const int64_t sa[3] = {4, 12, 9}, sb[3] = {2, 4, 3};
    dev_tensor a = rnd(x, 3, sa, 1.0f), b = rnd(x, 3, sb, 1.0f), o = dev_new(x, SAM2_F32, 3, sa);
    dev_add_tiled(x, o, a, b);
    return finish(x, o, out);
}

static int case_resize_bicubic(dev_exec *x, float *out) {
    const int64_t si[3] = {3, 7, 5}, so[3] = {3, 16, 12};
    dev_tensor in = rnd(x, 3, si, 1.0f), o = dev_new(x, SAM2_F32, 3, so);
    dev_resize_bicubic(x, o, in);
    return finish(x, o, out);
}

/* 7 x 10 map in windows of 4: 2 x 3 windows, the last row and column padded. */
static int case_window_partition(dev_exec *x, float *out) {
    const int64_t si[3] = {7, 10, 5}, so[3] = {6, 16, 5};
    dev_tensor in = rnd(x, 3, si, 1.0f), o = dev_new(x, SAM2_F32, 3, so);
    dev_window_partition(x, o, in, 4);
    return finish(x, o, out);
}

static int case_window_unpartition(dev_exec *x, float *out) {
    const int64_t si[3] = {6, 16, 5}, so[3] = {7, 10, 5};
    dev_tensor in = rnd(x, 3, si, 1.0f), o = dev_new(x, SAM2_F32, 3, so);
    dev_window_unpartition(x, o, in, 4);
    return finish(x, o, out);
}

static int case_maxpool2x2(dev_exec *x, float *out) {
    const int64_t si[3] = {9, 6, 7}, so[3] = {4, 3, 7};
    dev_tensor in = rnd(x, 3, si, 1.0f), o = dev_new(x, SAM2_F32, 3, so);
    dev_maxpool2x2(x, o, in);
    return finish(x, o, out);
}

static int case_upsample2x(dev_exec *x, float *out) {
    const int64_t si[3] = {4, 3, 7}, so[3] = {8, 6, 7};
    dev_tensor in = rnd(x, 3, si, 1.0f), o = dev_new(x, SAM2_F32, 3, so);
    dev_upsample2x(x, o, in);
    return finish(x, o, out);
}

/* Windows of a fused qkv: q, k and v are column views (rows strided by 3 * C). */
static int case_attention_windows(dev_exec *x, float *out) {
    const int64_t sq[3] = {3, 16, 3 * 12}, so[3] = {3, 16, 12};
    dev_tensor qkv = rnd(x, 3, sq, 1.0f), o = dev_new(x, SAM2_F32, 3, so);
    dev_attention_windows(x, o, dev_cols(qkv, 0, 12), dev_cols(qkv, 12, 12), dev_cols(qkv, 24, 12),
                          2);
    return finish(x, o, out);
}

static int case_sine_pe(dev_exec *x, float *out) {
    const int64_t so[3] = {5, 6, 32};
    dev_tensor o = dev_new(x, SAM2_F32, 3, so);
    dev_sine_pe(x, o, 10000.0f);
    return finish(x, o, out);
}

/* ---- heads ops (mask decoder, memory attention, memory encoder, Perceiver) ---- */

static int case_matmul(dev_exec *x, float *out) {
    const int64_t sa[2] = {5, 7}, sb[2] = {7, 6}, so[2] = {5, 6};
    dev_tensor a = rnd(x, 2, sa, 1.0f), b = rnd(x, 2, sb, 1.0f), o = rnd(x, 2, so, 1.0f);
    dev_matmul(x, o, a, b, 0, 0, 0.5f, 1.0f); /* accumulates into o */
    return finish(x, o, out);
}

static int case_matmul_views(dev_exec *x, float *out) {
    /* a^T (a column view of a wider tensor) times b^T, into columns of a wider output */
    const int64_t sa[2] = {7, 9}, sb[2] = {6, 10}, so[2] = {5, 10};
    dev_tensor a = rnd(x, 2, sa, 1.0f), b = rnd(x, 2, sb, 1.0f), o = rnd(x, 2, so, 1.0f);
    dev_matmul(x, dev_cols(o, 3, 6), dev_cols(a, 2, 5), dev_cols(b, 1, 7), 1, 1, 1.0f, 0.0f);
    return finish(x, o, out);
}

static int case_softmax(dev_exec *x, float *out) {
    const int64_t s[2] = {6, 13};
    dev_tensor a = rnd(x, 2, s, 4.0f);
    dev_softmax(x, a);
    return finish(x, a, out);
}

static int case_attention(dev_exec *x, float *out) {
    const int64_t sq[2] = {9, 16}, sk[2] = {11, 16}, so[2] = {9, 16};
    dev_tensor q = rnd(x, 2, sq, 1.0f), k = rnd(x, 2, sk, 1.0f), v = rnd(x, 2, sk, 1.0f);
    dev_tensor o = dev_new(x, SAM2_F32, 2, so);
    dev_attention(x, o, q, k, v, 2);
    return finish(x, o, out);
}

static int case_attention_dv(dev_exec *x, float *out) {
    /* values of their own width (64-d memories), q from a column view */
    const int64_t sq[2] = {7, 20}, sk[2] = {12, 8}, sv[2] = {12, 6}, so[2] = {7, 6};
    dev_tensor q = rnd(x, 2, sq, 1.0f), k = rnd(x, 2, sk, 1.0f), v = rnd(x, 2, sv, 1.0f);
    dev_tensor o = dev_new(x, SAM2_F32, 2, so);
    dev_attention(x, o, dev_cols(q, 4, 8), k, v, 2);
    return finish(x, o, out);
}

static int case_conv_t2x2(dev_exec *x, float *out) {
    const int64_t si[3] = {3, 4, 6}, sw[4] = {6, 5, 2, 2}, sb[1] = {5}, so[3] = {6, 8, 5};
    dev_tensor in = rnd(x, 3, si, 1.0f), w = rnd(x, 4, sw, 0.5f), b = rnd(x, 1, sb, 1.0f);
    dev_tensor o = dev_new(x, SAM2_F32, 3, so);
    dev_conv_transpose2x2(x, o, in, w, b);
    return finish(x, o, out);
}

static int case_scale(dev_exec *x, float *out) {
    const int64_t s[2] = {4, 9};
    dev_tensor a = rnd(x, 2, s, 2.0f);
    dev_scale(x, a, a, 20.0f, -10.0f);
    return finish(x, a, out);
}

static int case_mul_row(dev_exec *x, float *out) {
    const int64_t s[2] = {5, 9}, r[1] = {9};
    dev_tensor a = rnd(x, 2, s, 1.0f), g = rnd(x, 1, r, 1.0f), o = dev_new(x, SAM2_F32, 2, s);
    dev_mul(x, o, a, g);
    return finish(x, o, out);
}

static int case_threshold(dev_exec *x, float *out) {
    const int64_t s[1] = {41};
    dev_tensor a = rnd(x, 1, s, 1.0f);
    dev_threshold(x, a, a, 0.0f);
    return finish(x, a, out);
}

static int case_rope(dev_exec *x, float *out) {
    /* one head's columns of 10 rows, periods of 5 rows whose first 2 stay, a 2-row table */
    const int64_t s[2] = {10, 12}, st[2] = {2, 2};
    dev_tensor a = rnd(x, 2, s, 1.0f), c = rnd(x, 2, st, 1.0f), n = rnd(x, 2, st, 1.0f);
    dev_rope(x, dev_cols(a, 4, 4), c, n, 5, 2);
    return finish(x, a, out);
}

static int case_attention_windows_rows(dev_exec *x, float *out) {
    /* 3 windows of 2 queries and 5 keys, 2 heads of 4 */
    const int64_t sq[2] = {6, 8}, sk[2] = {15, 8};
    dev_tensor q = rnd(x, 2, sq, 1.0f), k = rnd(x, 2, sk, 1.0f), v = rnd(x, 2, sk, 1.0f);
    dev_tensor o = dev_new(x, SAM2_F32, 2, sq);
    dev_attention_windows(x, dev_windows(o, 3), dev_windows(q, 3), dev_windows(k, 3),
                          dev_windows(v, 3), 2);
    return finish(x, o, out);
}

static const struct {
    const char *name;
    op_case run;
} cases[] = {
    {"copy (transposed view)", case_copy_strided},
    {"copy f32 -> bf16 -> f32", case_copy_bf16},
    {"copy f32 -> f16 -> f32", case_copy_f16},
    {"add", case_add},
    {"add (row broadcast, in place)", case_add_row},
    {"gelu", case_gelu},
    {"relu (in place)", case_relu},
    {"sigmoid", case_sigmoid},
    {"linear", case_linear},
    {"layernorm", case_layernorm},
    {"conv2d 3x3/2 pad 1", case_conv2d},
    {"conv2d depthwise", case_conv2d_depthwise},
    {"fourier_pe", case_fourier_pe},
    /* image encoder ops */
    {"scale (in place)", case_scale_in_place},
    {"add_tiled", case_add_tiled},
    {"resize_bicubic", case_resize_bicubic},
    {"window_partition (padded)", case_window_partition},
    {"window_unpartition (cropped)", case_window_unpartition},
    {"maxpool2x2 (odd rows)", case_maxpool2x2},
    {"upsample2x", case_upsample2x},
    {"attention_windows (qkv views)", case_attention_windows},
    {"sine_pe", case_sine_pe},

    /* heads ops */
    {"matmul (accumulating)", case_matmul},
    {"matmul (transposed column views)", case_matmul_views},
    {"softmax", case_softmax},
    {"attention (2 heads)", case_attention},
    {"attention (values of their own width)", case_attention_dv},
    {"conv_transpose2x2", case_conv_t2x2},
    {"scale", case_scale},
    {"mul (row broadcast)", case_mul_row},
    {"threshold (in place)", case_threshold},
    {"rope (column view, periods with skipped rows)", case_rope},
    {"attention over windows (2-d rows)", case_attention_windows_rows},
};

static int run_on(sam2_device *d, int c, float *out) {
    dev_arena a;
    dev_arena_init(&a, d);
    dev_exec x;
    dev_exec_init(&x, &a);
    ops_seed(1000 + (uint64_t)c);
    const int n = cases[c].run(&x, out);
    if (x.failed) fprintf(stderr, "%s on %s: %s\n", cases[c].name, d->name, x.why);
    dev_arena_free(&a);
    return n;
}

static void test_ops_match_ref(void **state) {
    (void)state;
    static float want[MAXOUT], got[MAXOUT];
    const char *backends[] = {"ref", "cpu", "check"};
    for (int c = 0; c < (int)(sizeof cases / sizeof cases[0]); c++) {
        const int n = run_on(sam2_device_get("ref"), c, want);
        assert_true(n > 0);
        for (int b = 0; b < 3; b++) {
            memset(got, 0xff, sizeof got); /* NaN: an op that writes nothing fails */
            assert_int_equal(run_on(sam2_device_get(backends[b]), c, got), n);
            const double tol = !strcmp(backends[b], "cpu") ? 1e-4 : 0.0;
            for (int i = 0; i < n; i++) {
                const double err = fabs((double)got[i] - (double)want[i]);
                if (!(err <= tol * (1.0 + fabs((double)want[i])))) {
                    fprintf(stderr, "%s on %s: [%d] %g, ref %g\n", cases[c].name, backends[b], i,
                            got[i], want[i]);
                    fail();
                }
            }
        }
    }
}

/* The storage dtypes round as torch does: bf16 keeps 8 significant bits, f16 11. */
static void test_storage_rounding(void **state) {
    (void)state;
    float out[MAXOUT];
    const int n = run_on(sam2_device_get("ref"), 1, out);
    ops_seed(1001);
    float *src = ops_random(37, 3.0f);
    for (int i = 0; i < n; i++) {
        assert_true(fabsf(out[i] - src[i]) <= fabsf(src[i]) * (1.0f / 256.0f));
        assert_true(sam2_bf16_to_f32(sam2_f32_to_bf16(out[i])) == out[i]);
    }
    free(src);
    assert_true(sam2_bf16_to_f32(sam2_f32_to_bf16(1.0f + 1.0f / 512.0f)) == 1.0f); /* to even */
    assert_true(sam2_f16_to_f32(sam2_f32_to_f16(0.1f)) == 0.0999755859375f);
}

/* Uploads and downloads are counted in bytes; a borrowed view moves (and counts) nothing. */
static void test_transfer_counters(void **state) {
    (void)state;
    const char *backends[] = {"cpu", "ref", "check"};
    float host[100], back[100];
    for (int i = 0; i < 100; i++) host[i] = (float)i;
    for (int b = 0; b < 3; b++) {
        sam2_device *d = sam2_device_get(backends[b]);
        dev_arena a;
        dev_arena_init(&a, d);
        dev_exec x;
        dev_exec_init(&x, &a);
        dev_transfer_reset(d);
        const int64_t s[1] = {100};
        dev_tensor t = dev_from_host(&x, host, SAM2_F32, 1, s, 0);
        dev_tensor r = dev_rows(t, 10, 20);
        assert_int_equal(dev_download(&x, back, &r, 20 * sizeof(float)), 0);
        assert_true(back[0] == 10.0f && back[19] == 29.0f);
        dev_tensor v = dev_from_host(&x, host, SAM2_F32, 1, s, 1);
        assert_false(x.failed);
        uint64_t up, down;
        dev_transfer_bytes(d, &up, &down);
        assert_int_equal(down, 20 * sizeof(float));
        /* The borrowed view: free on backends that map host memory, an upload on check. */
        assert_int_equal(up, (d->maps_host ? 1 : 2) * 100 * sizeof(float));
        (void)v;
        dev_arena_free(&a);
    }
}

/* Ops refuse what does not fit, and the first error sticks. */
static void test_errors(void **state) {
    (void)state;
    sam2_device *cpu = sam2_device_get("cpu"), *ref = sam2_device_get("ref");
    dev_arena a, b;
    dev_arena_init(&a, cpu);
    dev_arena_init(&b, ref);
    dev_exec x, y;
    dev_exec_init(&x, &a);
    dev_exec_init(&y, &b);
    const int64_t s[2] = {3, 4}, t[2] = {4, 3};
    dev_tensor p = dev_new(&x, SAM2_F32, 2, s), q = dev_new(&x, SAM2_F32, 2, t);
    dev_tensor r = dev_new(&y, SAM2_F32, 2, s);
    dev_add(&x, p, p, r); /* another backend's tensor */
    assert_true(x.failed);
    assert_non_null(strstr(x.why, "backend"));
    dev_exec_init(&x, &a);
    dev_linear(&x, p, q, q, dev_none()); /* IC 3 against a [4][3] weight: out [4][4] wanted */
    assert_true(x.failed);
    dev_exec_init(&x, &a);
    dev_tensor h = dev_new(&x, SAM2_BF16, 2, s);
    dev_gelu(&x, h, h); /* compute is f32 */
    assert_true(x.failed);
    assert_null(sam2_device_get("vulkan-or-anything"));
    assert_ptr_equal(sam2_device_pick("auto"), cpu);
    dev_arena_free(&a);
    dev_arena_free(&b);
}

/* The check backend: host code reading its memory outside a backend call faults; the same
 * read inside one (what an op does) works, and so does the op itself. */
static void test_check_faults_on_host_access(void **state) {
    (void)state;
    sam2_device *d = sam2_device_get("check");
    float host[64] = {1.0f};
    fflush(NULL);
    const pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL); /* cmocka catches it otherwise and goes on testing */
        dev_arena a;
        dev_arena_init(&a, d);
        dev_exec x;
        dev_exec_init(&x, &a);
        const int64_t s[1] = {64};
        dev_tensor t = dev_from_host(&x, host, SAM2_F32, 1, s, 1);
        volatile float *p = (volatile float *)(void *)((char *)t.buf->host + t.offset);
        const float v = *p; /* must fault */
        _exit(v == 1.0f ? 0 : 3);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSEGV);

    /* Control: a cpu buffer read the same way does not fault (the test can tell). */
    dev_arena a;
    dev_arena_init(&a, sam2_device_get("cpu"));
    dev_exec x;
    dev_exec_init(&x, &a);
    const int64_t s[1] = {64};
    dev_tensor t = dev_from_host(&x, host, SAM2_F32, 1, s, 0);
    assert_true(*(const float *)(const void *)((char *)t.buf->host + t.offset) == 1.0f);
    dev_arena_free(&a);
}

/* Marks release what came after them; the arena's memory is the backend's. */
static void test_arena_marks(void **state) {
    (void)state;
    sam2_device *d = sam2_device_get("check");
    dev_arena a;
    dev_arena_init(&a, d);
    dev_exec x;
    dev_exec_init(&x, &a);
    const int64_t small[1] = {16}, big[1] = {1 << 20};
    dev_tensor keep = dev_new(&x, SAM2_F32, 1, small);
    dev_arena_mark m = dev_arena_get_mark(&a);
    dev_tensor t = dev_new(&x, SAM2_F32, 1, big); /* a block of its own */
    assert_ptr_not_equal(t.buf, keep.buf);
    dev_arena_release(&a, m);
    dev_tensor again = dev_new(&x, SAM2_F32, 1, small);
    assert_ptr_equal(again.buf, keep.buf);
    assert_true(again.offset > keep.offset);
    assert_false(x.failed);
    dev_arena_free(&a);
    dev_cache_drop(d); /* freed blocks are kept for reuse until dropped */
    assert_null(d->buffers);
}

/* window_partition and window_unpartition are inverses on the map, and the padding is zero:
 * checked on the backends' own results, not only against ref. */
static void test_windows_round_trip(void **state) {
    (void)state;
    const char *backends[] = {"ref", "cpu", "check"};
    const int64_t sm[3] = {7, 10, 3}, sw[3] = {6, 16, 3};
    for (int b = 0; b < 3; b++) {
        dev_arena a;
        dev_arena_init(&a, sam2_device_get(backends[b]));
        dev_exec x;
        dev_exec_init(&x, &a);
        ops_seed(77);
        float *h = ops_random(7 * 10 * 3, 1.0f);
        dev_tensor map = dev_from_host(&x, h, SAM2_F32, 3, sm, 0);
        dev_tensor win = dev_new(&x, SAM2_F32, 3, sw), back = dev_new(&x, SAM2_F32, 3, sm);
        dev_window_partition(&x, win, map, 4);
        dev_window_unpartition(&x, back, win, 4);
        float got[7 * 10 * 3], w[6 * 16 * 3];
        assert_int_equal(dev_download(&x, got, &back, sizeof got), 0);
        assert_int_equal(dev_download(&x, w, &win, sizeof w), 0);
        assert_memory_equal(got, h, sizeof got);
        /* window 5 (row 1, column 2) holds map rows 4..7 and columns 8..11: row 3 (map row 7)
         * and columns 2, 3 (map columns 10, 11) are padding */
        for (int t = 0; t < 16; t++) {
            const int r = t / 4, c = t % 4;
            for (int k = 0; k < 3; k++) {
                const float v = w[((5 * 16) + t) * 3 + k];
                if (r == 3 || c >= 2)
                    assert_true(v == 0.0f);
                else
                    assert_true(v == h[((4 + r) * 10 + 8 + c) * 3 + k]);
            }
        }
        free(h);
        dev_arena_free(&a);
    }
}

/* The sine encoding op equals the model's host function it replaces in the image encoder. */
static void test_sine_pe_matches_host(void **state) {
    (void)state;
    const int64_t so[3] = {6, 5, 16};
    float want[6 * 5 * 16], got[6 * 5 * 16];
    sine_pe_hwc(want, 6, 5, 16, 10000.0f);
    dev_arena a;
    dev_arena_init(&a, sam2_device_get("check"));
    dev_exec x;
    dev_exec_init(&x, &a);
    dev_tensor o = dev_new(&x, SAM2_F32, 3, so);
    dev_sine_pe(&x, o, 10000.0f);
    assert_int_equal(dev_download(&x, got, &o, sizeof got), 0);
    assert_memory_equal(got, want, sizeof got);
    dev_arena_free(&a);
}

/* An arena adopts host memory on backends that map it (tensors then come from it) and refuses
 * on the others. */
static void test_arena_adopt(void **state) {
    (void)state;
    static float host[1 << 12];
    dev_arena a;
    dev_arena_init(&a, sam2_device_get("cpu"));
    assert_int_equal(dev_arena_adopt(&a, host, sizeof host), 0);
    dev_exec x;
    dev_exec_init(&x, &a);
    const int64_t s[1] = {100};
    dev_tensor t = dev_new(&x, SAM2_F32, 1, s);
    assert_false(x.failed);
    assert_ptr_equal((char *)t.buf->host + t.offset, (char *)host);
    dev_arena_free(&a); /* the host memory stays the caller's */
    dev_arena_init(&a, sam2_device_get("check"));
    assert_int_equal(dev_arena_adopt(&a, host, sizeof host), -1);
    dev_arena_free(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops_match_ref),
        cmocka_unit_test(test_storage_rounding),
        cmocka_unit_test(test_transfer_counters),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_check_faults_on_host_access),
        cmocka_unit_test(test_arena_marks),
        cmocka_unit_test(test_windows_round_trip),
        cmocka_unit_test(test_arena_adopt),
        cmocka_unit_test(test_sine_pe_matches_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
