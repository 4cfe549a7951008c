/* Resizes of planar images on the CPU, following PyTorch's arithmetic exactly (see
 * resize_weights.h) but organised for speed, with no heap memory: the per-column taps and
 * weights are computed once per block of output columns into small stack tables, and the
 * antialiased resize keeps its horizontally filtered rows in a small ring buffer (a row is
 * filtered once and reused by every output row that needs it). Output rows of all planes are
 * split over the thread pool.
 *
 * Floating-point contraction is off in this file (as in the reference) so that a*b + c is
 * rounded twice, the same in every build. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#include "core/ops_cpu.h"
#include "core/resize_weights.h"
#include "core/threadpool.h"

#include <stddef.h>

/* Output columns per table block, and the stack budget (floats) of the antialiased tables. */
#define RESIZE_COLS 256
#define AA_STACK_FLOATS 8192
#define AA_MAX_RING 1024

typedef struct resize_job {
    float *out;
    const float *in;
    int H, W, OH, OW;
    aa_axis ax, ay;
} resize_job;

static int64_t rows_grain(int OW, int taps) {
    int64_t work = (int64_t)OW * (taps > 0 ? taps : 1);
    return 1 + CPU_ELEMWISE_GRAIN / (work > 0 ? work : 1);
}

/* --- bilinear, no antialias --------------------------------------------------------------------
 */

static void bilinear_rows(void *ctx, int64_t begin, int64_t end) {
    const resize_job *j = ctx;
    linear_tap tx[RESIZE_COLS];
    for (int x0 = 0; x0 < j->OW; x0 += RESIZE_COLS) {
        const int nc = j->OW - x0 < RESIZE_COLS ? j->OW - x0 : RESIZE_COLS;
        for (int i = 0; i < nc; i++) tx[i] = linear_tap_at(j->W, j->OW, x0 + i);
        for (int64_t r = begin; r < end; r++) {
            const int64_t c = r / j->OH;
            const int oy = (int)(r % j->OH);
            const linear_tap ty = linear_tap_at(j->H, j->OH, oy);
            const float *plane = j->in + (size_t)c * j->H * j->W;
            const float *r0 = plane + (size_t)ty.i0 * j->W, *r1 = plane + (size_t)ty.i1 * j->W;
            float *o = j->out + (size_t)r * j->OW + x0;
            for (int i = 0; i < nc; i++) {
                const float t0 = r0[tx[i].i0] * tx[i].w0 + r0[tx[i].i1] * tx[i].w1;
                const float t1 = r1[tx[i].i0] * tx[i].w0 + r1[tx[i].i1] * tx[i].w1;
                o[i] = t0 * ty.w0 + t1 * ty.w1;
            }
        }
    }
}

/* --- bicubic -------------------------------------------------------------------------------------
 */

static void bicubic_rows(void *ctx, int64_t begin, int64_t end) {
    const resize_job *j = ctx;
    cubic_tap tx[RESIZE_COLS];
    for (int x0 = 0; x0 < j->OW; x0 += RESIZE_COLS) {
        const int nc = j->OW - x0 < RESIZE_COLS ? j->OW - x0 : RESIZE_COLS;
        for (int i = 0; i < nc; i++) tx[i] = cubic_tap_at(j->W, j->OW, x0 + i);
        for (int64_t r = begin; r < end; r++) {
            const int64_t c = r / j->OH;
            const int oy = (int)(r % j->OH);
            const cubic_tap ty = cubic_tap_at(j->H, j->OH, oy);
            const float *plane = j->in + (size_t)c * j->H * j->W;
            float *o = j->out + (size_t)r * j->OW + x0;
            for (int i = 0; i < nc; i++) {
                float acc = 0.0f;
                for (int a = 0; a < 4; a++) {
                    const float *row = plane + (size_t)ty.idx[a] * j->W;
                    float h = row[tx[i].idx[0]] * tx[i].w[0];
                    h += row[tx[i].idx[1]] * tx[i].w[1];
                    h += row[tx[i].idx[2]] * tx[i].w[2];
                    h += row[tx[i].idx[3]] * tx[i].w[3];
                    acc = a == 0 ? h * ty.w[0] : acc + h * ty.w[a];
                }
                o[i] = acc;
            }
        }
    }
}

/* --- bilinear with antialias ------------------------------------------------------------------ */

/* One output pixel straight from the definition, for filters too wide for the stack tables
 * (downscaling by thousands). Same arithmetic as the tabled path. */
static float aa_pixel_direct(const resize_job *j, const float *plane, int oy, int ox) {
    int y0 = oy, ny = 1, x0 = ox, nx = 1;
    if (j->OH != j->H) aa_axis_range(&j->ay, oy, &y0, &ny);
    if (j->OW != j->W) aa_axis_range(&j->ax, ox, &x0, &nx);
    const float cy = aa_center(&j->ay, oy), cx = aa_center(&j->ax, ox);
    float ty = 0.0f, tx = 0.0f;
    for (int i = 0; i < ny; i++) ty += aa_raw_weight(&j->ay, cy, y0, i);
    for (int k = 0; k < nx; k++) tx += aa_raw_weight(&j->ax, cx, x0, k);
    float acc = 0.0f;
    for (int i = 0; i < ny; i++) {
        const float *row = plane + (size_t)(y0 + i) * j->W;
        float h = row[x0];
        if (j->OW != j->W) {
            for (int k = 0; k < nx; k++) {
                float w = aa_raw_weight(&j->ax, cx, x0, k);
                if (tx != 0.0f) w /= tx;
                h = k == 0 ? row[x0] * w : h + row[x0 + k] * w;
            }
        }
        if (j->OH == j->H) return h;
        float w = aa_raw_weight(&j->ay, cy, y0, i);
        if (ty != 0.0f) w /= ty;
        acc = i == 0 ? h * w : acc + h * w;
    }
    return acc;
}

static void aa_rows_direct(const resize_job *j, int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
        const int64_t c = r / j->OH;
        const int oy = (int)(r % j->OH);
        const float *plane = j->in + (size_t)c * j->H * j->W;
        for (int ox = 0; ox < j->OW; ox++)
            j->out[(size_t)r * j->OW + ox] = aa_pixel_direct(j, plane, oy, ox);
    }
}

/* Columns per block for the tabled path (0: the filters do not fit the stack budget). */
static int aa_block_cols(const resize_job *j) {
    const int tx = j->OW != j->W ? j->ax.max_taps : 0;
    const int ty = j->OH != j->H ? j->ay.max_taps : 1;
    /* x weights (tx per column) + ring of ty filtered rows (ty per column) + y weights */
    if (ty > AA_MAX_RING) return 0;
    int per_col = tx + ty;
    int avail = AA_STACK_FLOATS - ty;
    if (avail < per_col) return 0;
    int nc = avail / per_col;
    if (nc > RESIZE_COLS) nc = RESIZE_COLS;
    return nc < j->OW ? nc : j->OW;
}

static void aa_rows(void *ctx, int64_t begin, int64_t end) {
    const resize_job *j = ctx;
    const int ncols = aa_block_cols(j);
    if (ncols == 0) {
        aa_rows_direct(j, begin, end);
        return;
    }
    const int hpass = j->OW != j->W, vpass = j->OH != j->H;
    const int tx = hpass ? j->ax.max_taps : 0, ring = vpass ? j->ay.max_taps : 1;
    float mem[AA_STACK_FLOATS];
    float *wx = mem;                         /* [ncols][tx] */
    float *rows = wx + (size_t)ncols * tx;   /* [ring][ncols] filtered rows */
    float *wy = rows + (size_t)ring * ncols; /* [ring] */
    int xfirst[RESIZE_COLS], xcount[RESIZE_COLS];
    int held[AA_MAX_RING]; /* the input row each ring slot holds */

    for (int x0 = 0; x0 < j->OW; x0 += ncols) {
        const int nc = j->OW - x0 < ncols ? j->OW - x0 : ncols;
        if (hpass)
            for (int i = 0; i < nc; i++)
                xcount[i] = aa_axis_weights(&j->ax, x0 + i, &xfirst[i], wx + (size_t)i * tx);
        int64_t plane_of_ring = -1;
        for (int64_t r = begin; r < end; r++) {
            const int64_t c = r / j->OH;
            const int oy = (int)(r % j->OH);
            const float *plane = j->in + (size_t)c * j->H * j->W;
            if (c != plane_of_ring) { /* new plane: forget the ring */
                for (int s = 0; s < ring; s++) held[s] = -1;
                plane_of_ring = c;
            }
            int y0 = oy, ny = 1;
            if (vpass) ny = aa_axis_weights(&j->ay, oy, &y0, wy);
            float *o = j->out + (size_t)r * j->OW + x0;
            for (int t = 0; t < ny; t++) {
                const int y = y0 + t;
                const float *h;
                if (!hpass) {
                    h = plane + (size_t)y * j->W + x0;
                } else {
                    float *slot = rows + (size_t)(y % ring) * nc;
                    if (held[y % ring] != y) {
                        const float *src = plane + (size_t)y * j->W;
                        for (int i = 0; i < nc; i++) {
                            const float *w = wx + (size_t)i * tx, *s = src + xfirst[i];
                            float acc = s[0] * w[0];
                            for (int k = 1; k < xcount[i]; k++) acc += s[k] * w[k];
                            slot[i] = xcount[i] > 0 ? acc : 0.0f;
                        }
                        held[y % ring] = y;
                    }
                    h = slot;
                }
                if (!vpass) {
                    for (int i = 0; i < nc; i++) o[i] = h[i];
                } else if (t == 0) {
                    const float w = wy[0];
                    for (int i = 0; i < nc; i++) o[i] = h[i] * w;
                } else {
                    const float w = wy[t];
                    for (int i = 0; i < nc; i++) o[i] = o[i] + h[i] * w;
                }
            }
        }
    }
}

/* --- entry points -------------------------------------------------------------------------------
 */

void cpu_resize_bilinear(float *out, const float *in, int C, int H, int W, int OH, int OW,
                         int antialias) {
    if (C <= 0 || H <= 0 || W <= 0 || OH <= 0 || OW <= 0) return;
    resize_job j = {.out = out, .in = in, .H = H, .W = W, .OH = OH, .OW = OW};
    const int64_t rows = (int64_t)C * OH;
    if (!antialias) {
        pool_for(rows, rows_grain(OW, 6), bilinear_rows, &j);
        return;
    }
    aa_axis_init(&j.ax, W, OW);
    aa_axis_init(&j.ay, H, OH);
    pool_for(rows, rows_grain(OW, j.ax.max_taps + j.ay.max_taps), aa_rows, &j);
}

void cpu_resize_bicubic(float *out, const float *in, int C, int H, int W, int OH, int OW) {
    if (C <= 0 || H <= 0 || W <= 0 || OH <= 0 || OW <= 0) return;
    resize_job j = {.out = out, .in = in, .H = H, .W = W, .OH = OH, .OW = OW};
    pool_for((int64_t)C * OH, rows_grain(OW, 16), bicubic_rows, &j);
}
