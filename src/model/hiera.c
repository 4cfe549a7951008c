#include "model/hiera.h"

#include <stdio.h>
#include <string.h>

/* Rows per chunk for the row-wise stages (MLP): keeps temporaries small and cache-friendly. */
#define ROW_CHUNK 4096
/* Tokens per group of attention windows. */
#define WINDOW_GROUP_TOKENS 4096

typedef struct block_geom {
    int H, W;           /* input map */
    int Ho, Wo;         /* output map (halved when pooling) */
    int win_h, win_w;   /* input window (whole map for global attention) */
    int wout_h, wout_w; /* output window */
    int nwy, nwx;       /* window grid */
} block_geom;

static int geometry(const sam2_hiera_block_info *b, int H, int W, block_geom *g) {
    g->H = H;
    g->W = W;
    g->Ho = b->q_pool ? H / 2 : H;
    g->Wo = b->q_pool ? W / 2 : W;
    if (b->window > 0) {
        g->win_h = g->win_w = b->window;
        g->nwy = (H + b->window - 1) / b->window;
        g->nwx = (W + b->window - 1) / b->window;
        g->wout_h = g->wout_w = b->q_pool ? b->window / 2 : b->window;
        /* The reference unpartitions with the output window over the padded output map; the
         * window grid must agree with the input's. */
        if (g->wout_h < 1 || (g->Ho + g->wout_h - 1) / g->wout_h != g->nwy ||
            (g->Wo + g->wout_w - 1) / g->wout_w != g->nwx)
            return -1;
    } else {
        g->win_h = H;
        g->win_w = W;
        g->nwy = g->nwx = 1;
        g->wout_h = g->Ho;
        g->wout_w = g->Wo;
    }
    return 0;
}

/* Gathers window `wi` of the map x into dst [win_h*win_w][C]; padding is zero. */
static void gather_window(float *dst, const float *x, const block_geom *g, int wi, int C) {
    const int wy = wi / g->nwx, wx = wi % g->nwx;
    for (int r = 0; r < g->win_h; r++) {
        const int y = wy * g->win_h + r;
        for (int c = 0; c < g->win_w; c++) {
            const int xx = wx * g->win_w + c;
            float *d = dst + ((size_t)r * g->win_w + c) * C;
            if (y < g->H && xx < g->W)
                memcpy(d, x + ((size_t)y * g->W + xx) * C, sizeof(float) * C);
            else
                memset(d, 0, sizeof(float) * C);
        }
    }
}

/* Zeroes the padding tokens of a gathered window again after normalisation: the reference pads
 * after norm1, so padded tokens enter the projections as zeros. */
static void zero_window_padding(float *dst, const block_geom *g, int wi, int C) {
    const int wy = wi / g->nwx, wx = wi % g->nwx;
    for (int r = 0; r < g->win_h; r++) {
        const int y = wy * g->win_h + r;
        for (int c = 0; c < g->win_w; c++) {
            const int xx = wx * g->win_w + c;
            if (y >= g->H || xx >= g->W)
                memset(dst + ((size_t)r * g->win_w + c) * C, 0, sizeof(float) * C);
        }
    }
}

/* Adds window `wi` of attention output src [wout_h*wout_w][C] into the output map (cropping the
 * padding). */
static void scatter_add_window(float *x, const float *src, const block_geom *g, int wi, int C) {
    const int wy = wi / g->nwx, wx = wi % g->nwx;
    for (int r = 0; r < g->wout_h; r++) {
        const int y = wy * g->wout_h + r;
        if (y >= g->Ho) break;
        for (int c = 0; c < g->wout_w; c++) {
            const int xx = wx * g->wout_w + c;
            if (xx >= g->Wo) break;
            float *d = x + ((size_t)y * g->Wo + xx) * C;
            const float *s = src + ((size_t)r * g->wout_w + c) * C;
            for (int k = 0; k < C; k++) d[k] += s[k];
        }
    }
}

/* Windowed (or global) multi-head attention of norm1(x), added into xo (the shortcut). Windows
 * are normalised as they are gathered, so no normalised copy of the whole map exists. xo may be
 * x itself: windows are disjoint and a group is gathered whole before any of it is written. */
static int block_attention(const sam2_net *net, const sam2_hiera_block_w *bw,
                           const sam2_hiera_block_info *b, const block_geom *g, const float *x,
                           float *xo, arena *scratch) {
    const sam2_backend *be = net->be;
    const int dim = b->dim, dout = b->dim_out, heads = b->heads;
    const int L = g->win_h * g->win_w, Lq = g->wout_h * g->wout_w;
    const int nwin = g->nwy * g->nwx;
    int group = WINDOW_GROUP_TOKENS / L;
    if (group < 1) group = 1;
    if (group > nwin) group = nwin;

    arena_mark m = arena_get_mark(scratch);
    float *win = arena_floats(scratch, (size_t)group * L * dim, 0);
    float *qkv = arena_floats(scratch, (size_t)group * L * 3 * dout, 0);
    float *qpool = b->q_pool ? arena_floats(scratch, (size_t)group * Lq * dout, 0) : NULL;
    float *qtmp = b->q_pool ? arena_floats(scratch, (size_t)L * dout, 0) : NULL;
    float *att = arena_floats(scratch, (size_t)group * Lq * dout, 0);
    float *proj = arena_floats(scratch, (size_t)group * Lq * dout, 0);
    float *s = arena_floats(scratch, attention_batched_scratch_floats(group, heads, Lq, L), 0);
    if (!win || !qkv || !att || !proj || !s || (b->q_pool && (!qpool || !qtmp))) return -1;

    for (int w0 = 0; w0 < nwin; w0 += group) {
        const int gn = w0 + group <= nwin ? group : nwin - w0;
        for (int i = 0; i < gn; i++) gather_window(win + (size_t)i * L * dim, x, g, w0 + i, dim);
        be->layernorm(win, win, bw->norm1.w, bw->norm1.b, gn * L, dim, 1e-6f);
        if (g->nwy * g->win_h != g->H || g->nwx * g->win_w != g->W)
            for (int i = 0; i < gn; i++)
                zero_window_padding(win + (size_t)i * L * dim, g, w0 + i, dim);
        be->linear(qkv, win, bw->qkv.w, bw->qkv.b, gn * L, dim, 3 * dout);
        const float *q = qkv;
        int ldq = 3 * dout;
        if (b->q_pool) {
            /* Queries are max-pooled inside each window (MultiScaleAttention.q_pool). */
            for (int i = 0; i < gn; i++) {
                const float *src = qkv + (size_t)i * L * 3 * dout;
                for (int t = 0; t < L; t++)
                    memcpy(qtmp + (size_t)t * dout, src + (size_t)t * 3 * dout,
                           sizeof(float) * dout);
                be->maxpool2x2(qpool + (size_t)i * Lq * dout, qtmp, g->win_h, g->win_w, dout);
            }
            q = qpool;
            ldq = dout;
        }
        be->attention_batched(att, dout, q, ldq, qkv + dout, 3 * dout, qkv + 2 * dout, 3 * dout, gn,
                              heads, Lq, L, dout / heads, s);
        be->linear(proj, att, bw->attn_proj.w, bw->attn_proj.b, gn * Lq, dout, dout);
        for (int i = 0; i < gn; i++)
            scatter_add_window(xo, proj + (size_t)i * Lq * dout, g, w0 + i, dout);
    }
    arena_release(scratch, m);
    return 0;
}

/* x += MLP(norm2(x)), in row chunks. */
static int block_mlp(const sam2_net *net, const sam2_hiera_block_w *bw, int N, int C, float *x,
                     arena *scratch) {
    const sam2_backend *be = net->be;
    const int hidden = (int)(C * net->cfg.mlp_ratio);
    arena_mark m = arena_get_mark(scratch);
    const int chunk = N < ROW_CHUNK ? N : ROW_CHUNK;
    float *t = arena_floats(scratch, (size_t)chunk * C, 0);
    float *h = arena_floats(scratch, (size_t)chunk * hidden, 0);
    float *o = arena_floats(scratch, (size_t)chunk * C, 0);
    if (!t || !h || !o) return -1;
    for (int r0 = 0; r0 < N; r0 += chunk) {
        const int n = r0 + chunk <= N ? chunk : N - r0;
        float *xr = x + (size_t)r0 * C;
        be->layernorm(t, xr, bw->norm2.w, bw->norm2.b, n, C, 1e-6f);
        be->linear(h, t, bw->mlp[0].w, bw->mlp[0].b, n, C, hidden);
        be->gelu(h, h, (size_t)n * hidden);
        be->linear(o, h, bw->mlp[1].w, bw->mlp[1].b, n, hidden, C);
        be->add(xr, xr, o, (size_t)n * C);
    }
    arena_release(scratch, m);
    return 0;
}

int hiera_forward(const sam2_net *net, const float *img_chw, float *const stage_out[4],
                  arena *scratch, const sam2_tap *tap, const cancel_check *cancel) {
    const sam2_config *c = &net->cfg;
    const sam2_backend *be = net->be;
    const int S = c->image_size, F = net->feat0, C0 = c->embed_dim;
    const size_t max_elems = (size_t)F * F * C0; /* pooling halves the tokens, doubles C */

    /* Everything below is temporary: the caller's stage outputs were allocated before. */
    const arena_mark start = arena_get_mark(scratch);
    int rc = -1;
    float *xa = arena_floats(scratch, max_elems, 0);
    float *xb = arena_floats(scratch, max_elems, 0);
    if (!xa || !xb) goto done;

    /* Patch embedding (7x7, stride 4, pad 3) and positional embedding. The convolution reads
     * channels-last; that copy of the input and the im2col scratch are released before the
     * blocks run. */
    {
        const arena_mark m = arena_get_mark(scratch);
        float *img = arena_floats(scratch, (size_t)S * S * 3, 0);
        float *pe = arena_floats(scratch, conv2d_scratch_floats(S, S, 3, C0, 7, 7, 4, 3, 1), 0);
        if (!img || !pe) goto done;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
                for (int ch = 0; ch < 3; ch++)
                    img[((size_t)y * S + x) * 3 + ch] = img_chw[((size_t)ch * S + y) * S + x];
        be->conv2d(xa, img, net->w.patch_embed.w, net->w.patch_embed.b, S, S, 3, C0, 7, 7, 4, 3, 1,
                   pe);
        arena_release(scratch, m);
    }
    be->add(xa, xa, net->trunk_pos, (size_t)F * F * C0);

    int H = F, W = F;
    float *x = xa, *spare = xb;
    int stage = 0, acc = 0;
    for (int i = 0; i < net->num_blocks; i++) {
        const sam2_hiera_block_info *b = &net->blocks[i];
        const sam2_hiera_block_w *bw = &net->w.blocks[i];
        block_geom g;
        if (geometry(b, H, W, &g) != 0) {
            rc = -2;
            goto done;
        }
        float *xo = x;
        if (b->dim != b->dim_out) {
            /* shortcut = pool(proj(norm1(x))), in bands of an even number of rows so that
             * neither norm1(x) nor its projection over the whole grid ever exists at once. */
            arena_mark m = arena_get_mark(scratch);
            int band = (ROW_CHUNK / W) & ~1;
            if (band < 2) band = 2;
            float *nb = arena_floats(scratch, (size_t)band * W * b->dim, 0);
            float *p = arena_floats(scratch, (size_t)band * W * b->dim_out, 0);
            if (!nb || !p) goto done;
            const int Wo = b->q_pool ? W / 2 : W;
            for (int y0 = 0; y0 < H; y0 += band) {
                const int rows = y0 + band <= H ? band : H - y0;
                if (b->q_pool && rows < 2) break; /* a last odd row is dropped by the pooling */
                be->layernorm(nb, x + (size_t)y0 * W * b->dim, bw->norm1.w, bw->norm1.b, rows * W,
                              b->dim, 1e-6f);
                if (b->q_pool) {
                    be->linear(p, nb, bw->proj.w, bw->proj.b, rows * W, b->dim, b->dim_out);
                    be->maxpool2x2(spare + (size_t)(y0 / 2) * Wo * b->dim_out, p, rows, W,
                                   b->dim_out);
                } else {
                    be->linear(spare + (size_t)y0 * W * b->dim_out, nb, bw->proj.w, bw->proj.b,
                               rows * W, b->dim, b->dim_out);
                }
            }
            arena_release(scratch, m);
            xo = spare;
            spare = x;
        }
        if (block_attention(net, bw, b, &g, x, xo, scratch) != 0) goto done;
        x = xo;
        H = g.Ho;
        W = g.Wo;
        if (block_mlp(net, bw, H * W, b->dim_out, x, scratch) != 0) goto done;

        if (i == acc + c->stages[stage] - 1) {
            memcpy(stage_out[stage], x, sizeof(float) * (size_t)H * W * b->dim_out);
            char name[32];
            snprintf(name, sizeof name, "trunk_stage%d", stage);
            tap_hwc(tap, name, x, H, W, b->dim_out);
            acc += c->stages[stage];
            stage++;
        }
        /* after every block, not only every stage: a stage of a large trunk is most of a frame */
        if (i + 1 < net->num_blocks && cancel_requested(cancel)) {
            rc = CANCEL_STOPPED;
            goto done;
        }
    }
    rc = 0;
done:
    arena_release(scratch, start);
    return rc;
}

double hiera_flops(const sam2_net *net) {
    const sam2_config *c = &net->cfg;
    const int S = c->image_size, F = net->feat0;
    double f = 2.0 * F * F * c->embed_dim * 3 * 49; /* patch embed */
    int H = F, W = F;
    for (int i = 0; i < net->num_blocks; i++) {
        const sam2_hiera_block_info *b = &net->blocks[i];
        block_geom g;
        if (geometry(b, H, W, &g) != 0) return 0;
        const double L = (double)g.win_h * g.win_w, Lq = (double)g.wout_h * g.wout_w;
        const double nwin = (double)g.nwy * g.nwx;
        if (b->dim != b->dim_out) f += 2.0 * H * W * b->dim * b->dim_out;
        f += 2.0 * nwin * L * b->dim * 3 * b->dim_out;  /* qkv */
        f += 2.0 * 2.0 * nwin * Lq * L * b->dim_out;    /* QK^T and AV */
        f += 2.0 * nwin * Lq * b->dim_out * b->dim_out; /* proj */
        H = g.Ho;
        W = g.Wo;
        f += 2.0 * 2.0 * H * W * b->dim_out * b->dim_out * c->mlp_ratio; /* MLP */
    }
    (void)S;
    return f;
}
