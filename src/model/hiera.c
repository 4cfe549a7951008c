/* Hiera trunk (sam2/modeling/backbones/hieradet.py) on the compute seam: every tensor operation
 * is a backend op (core/device.h); comments quote the official Python. Work is done in bands
 * of rows (and of window rows) so that no temporary spans the whole map: the peak stays that of
 * one map and a few thousand tokens' temporaries. */
#include "model/hiera.h"

#include <stdio.h>
#include <string.h>

#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})

/* Rows per chunk for the row-wise stages (MLP): keeps temporaries small and cache-friendly. */
#define ROW_CHUNK 4096
/* Tokens per group of attention windows. */
#define WINDOW_GROUP_TOKENS 4096
/* Floats of the ops' scratch beyond im2col and attention: tensor records and alignment. */
#define OP_SCRATCH_SLACK ((size_t)1 << 18)

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

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

/* A weight of the checkpoint on the net's backend; "no bias" when the checkpoint has none. */
static dev_tensor place(sam2_net *net, const float *host, int ndim, const int64_t *shape) {
    return host ? dev_weight(net->dev, &net->dev_weights, host, ndim, shape) : dev_none();
}

/* Hiera._get_pos_embed, once at load:
 *   pos_embed = F.interpolate(self.pos_embed, size=(h, w), mode="bicubic")
 *   pos_embed = pos_embed + window_embed.tile(...)
 *   pos_embed = pos_embed.permute(0, 2, 3, 1)   (channels-last) */
static int make_pos_embed(sam2_net *net) {
    const sam2_config *c = &net->cfg;
    const int64_t C = c->embed_dim, F = net->feat0, w0 = c->window_spec[0];
    image_encoder_dev *ie = &net->ie;
    dev_tensor bkg =
        place(net, net->w.pos_embed, 3, SHAPE(C, c->bkg_pos_embed[0], c->bkg_pos_embed[1]));
    dev_tensor win = place(net, net->w.pos_embed_window, 3, SHAPE(C, w0, w0));
    ie->pos_buf = dev_buffer_new(net->dev, (size_t)(C * F * F) * sizeof(float));
    if (!bkg.buf || !win.buf || !ie->pos_buf) return -1;
    ie->pos = dev_tensor_make(ie->pos_buf, 0, SAM2_F32, 3, SHAPE(F, F, C));
    /* The planar temporary lives in a host arena freed here (maps_host backends): a backend
     * block would stay in the block cache after load, resident for the process's life. */
    arena host;
    arena_init(&host);
    dev_arena tmp;
    dev_arena_init(&tmp, net->dev);
    dev_arena_back(&tmp, &host);
    dev_exec x;
    dev_exec_init(&x, &tmp);
    dev_tensor planar = dev_new(&x, SAM2_F32, 3, SHAPE(C, F, F));
    dev_resize_bicubic(&x, planar, bkg);
    dev_add_tiled(&x, planar, planar, win);
    dev_tensor pos_chw = ie->pos; /* the channels-last result seen as [C][F][F] */
    pos_chw.shape[0] = C, pos_chw.shape[1] = F, pos_chw.shape[2] = F;
    pos_chw.stride[0] = 1, pos_chw.stride[1] = F * C, pos_chw.stride[2] = C;
    dev_copy(&x, pos_chw, planar);
    const int rc = x.failed ? -1 : 0;
    dev_arena_free(&tmp);
    arena_free(&host);
    return rc;
}

int hiera_load(sam2_net *net) {
    const sam2_config *c = &net->cfg;
    const sam2_weights *w = &net->w;
    image_encoder_dev *ie = &net->ie;
    const int64_t C0 = c->embed_dim;
    ie->patch_w = place(net, w->patch_embed.w, 4, SHAPE(C0, 3, 7, 7));
    ie->patch_b = place(net, w->patch_embed.b, 1, SHAPE(C0));
    if (!ie->patch_w.buf || make_pos_embed(net) != 0) return -1;
    for (int i = 0; i < net->num_blocks; i++) {
        const sam2_hiera_block_info *b = &net->blocks[i];
        const sam2_hiera_block_w *bw = &w->blocks[i];
        hiera_block_dev *d = &ie->blocks[i];
        const int64_t dim = b->dim, dout = b->dim_out, hid = (int64_t)(dout * c->mlp_ratio);
        d->norm1_w = place(net, bw->norm1.w, 1, SHAPE(dim));
        d->norm1_b = place(net, bw->norm1.b, 1, SHAPE(dim));
        d->qkv_w = place(net, bw->qkv.w, 2, SHAPE(3 * dout, dim));
        d->qkv_b = place(net, bw->qkv.b, 1, SHAPE(3 * dout));
        d->attn_proj_w = place(net, bw->attn_proj.w, 2, SHAPE(dout, dout));
        d->attn_proj_b = place(net, bw->attn_proj.b, 1, SHAPE(dout));
        d->norm2_w = place(net, bw->norm2.w, 1, SHAPE(dout));
        d->norm2_b = place(net, bw->norm2.b, 1, SHAPE(dout));
        d->mlp_w[0] = place(net, bw->mlp[0].w, 2, SHAPE(hid, dout));
        d->mlp_b[0] = place(net, bw->mlp[0].b, 1, SHAPE(hid));
        d->mlp_w[1] = place(net, bw->mlp[1].w, 2, SHAPE(dout, hid));
        d->mlp_b[1] = place(net, bw->mlp[1].b, 1, SHAPE(dout));
        if (dim != dout) {
            d->proj_w = place(net, bw->proj.w, 2, SHAPE(dout, dim));
            d->proj_b = place(net, bw->proj.b, 1, SHAPE(dout));
        }
        if (!d->norm1_w.buf || !d->norm1_b.buf || !d->qkv_w.buf || !d->attn_proj_w.buf ||
            !d->norm2_w.buf || !d->norm2_b.buf || !d->mlp_w[0].buf || !d->mlp_w[1].buf ||
            (dim != dout && !d->proj_w.buf))
            return -1;
    }
    return 0;
}

/* MultiScaleBlock's shortcut when the width changes:
 *   shortcut = do_pool(self.proj(self.norm1(x)), self.pool)
 * in bands of an even number of rows. x [H][W][dim] -> xo [Ho][Wo][dim_out]. */
static void block_shortcut(enc_ctx *e, const hiera_block_dev *bw, const sam2_hiera_block_info *b,
                           dev_tensor x, dev_tensor xo) {
    dev_exec *X = &e->x;
    const int64_t H = x.shape[0], W = x.shape[1], dim = b->dim, dout = b->dim_out;
    int64_t band = (ROW_CHUNK / W) & ~1;
    if (band < 2) band = 2;
    const enc_mark m = enc_get_mark(e);
    dev_tensor tb = enc_tensor(e, 1, SHAPE(band * W * dim));
    dev_tensor pb = b->q_pool ? enc_tensor(e, 1, SHAPE(band * W * dout)) : dev_none();
    for (int64_t y0 = 0; y0 < H; y0 += band) {
        const int64_t rows = min64(band, H - y0);
        if (b->q_pool && rows < 2) break; /* a last odd row is dropped by the pooling */
        dev_tensor t = dev_reshape(tb, 3, SHAPE(rows, W, dim));
        /* x = self.norm1(x) */
        dev_layernorm(X, t, dev_rows(x, y0, rows), bw->norm1_w, bw->norm1_b, 1e-6f);
        if (b->q_pool) {
            dev_tensor p = dev_reshape(pb, 3, SHAPE(rows, W, dout));
            /* shortcut = self.proj(x) */
            dev_linear(X, p, t, bw->proj_w, bw->proj_b);
            /* shortcut = do_pool(shortcut.permute(0, 3, 1, 2), self.pool).permute(0, 2, 3, 1) */
            dev_maxpool2x2(X, dev_rows(xo, y0 / 2, rows / 2), p);
        } else {
            dev_linear(X, dev_rows(xo, y0, rows), t, bw->proj_w, bw->proj_b);
        }
    }
    enc_release(e, m);
}

/* Rows of windows attended at once: about WINDOW_GROUP_TOKENS tokens, at least one row. */
static int64_t window_rows_per_band(const block_geom *g) {
    const int64_t band = WINDOW_GROUP_TOKENS / ((int64_t)g->win_h * g->win_w * g->nwx);
    return band < 1 ? 1 : band;
}

/* The most scratch one block's attention op takes (the attention tiles of a band). */
static size_t attention_scratch_floats_max(const sam2_net *net) {
    size_t most = 0;
    int H = net->feat0, W = net->feat0;
    for (int i = 0; i < net->num_blocks; i++) {
        block_geom g;
        if (geometry(&net->blocks[i], H, W, &g) != 0) return most;
        const int64_t n = min64(window_rows_per_band(&g), g.nwy) * g.nwx;
        const size_t a = attention_batched_scratch_floats((int)n, net->blocks[i].heads,
                                                          g.wout_h * g.wout_w, g.win_h * g.win_w);
        if (a > most) most = a;
        H = g.Ho;
        W = g.Wo;
    }
    return most;
}

/* x [H][W][dim] -> xo [Ho][Wo][dim_out] += attention, in bands of whole window rows:
 *   x = self.norm1(x); x, pad_hw = window_partition(x, window_size)
 *   x = self.attn(x)                         (MultiScaleAttention.forward)
 *   x = window_unpartition(x, window_size, pad_hw, (H, W)); x = shortcut + x
 * xo may be x: a band is normalised into a temporary before any of it is written. */
static void block_attention(enc_ctx *e, const hiera_block_dev *bw, const sam2_hiera_block_info *b,
                            const block_geom *g, dev_tensor x, dev_tensor xo) {
    dev_exec *X = &e->x;
    const int64_t dim = b->dim, dout = b->dim_out, W = g->W, Wo = g->Wo;
    const int64_t wh = g->win_h, ww = g->win_w, L = wh * ww, Lq = (int64_t)g->wout_h * g->wout_w;
    const int64_t band = min64(window_rows_per_band(g), g->nwy), most = band * g->nwx;
    /* The band's temporaries, allocated once for the largest band. With windows, the normalised
     * band and the unpartitioned output live in the projection buffer: the band is dead once
     * partitioned, k and v once attended. A pooled block projects q apart from k and v, so that
     * the pooling reads q as a plain map (no copy of it out of a fused qkv). */
    const int64_t kvw = b->q_pool ? 2 * dout : 3 * dout;
    const enc_mark m = enc_get_mark(e);
    dev_tensor kvb = enc_tensor(e, 1, SHAPE(most * L * kvw));
    dev_tensor tb = b->window > 0 ? kvb : enc_tensor(e, 1, SHAPE(band * wh * W * dim));
    dev_tensor wb = b->window > 0 ? enc_tensor(e, 1, SHAPE(most * L * dim)) : dev_none();
    dev_tensor qb = b->q_pool ? enc_tensor(e, 1, SHAPE(most * L * dout)) : dev_none();
    dev_tensor qpb = b->q_pool ? enc_tensor(e, 1, SHAPE(most * Lq * dout)) : dev_none();
    dev_tensor attb = enc_tensor(e, 1, SHAPE(most * Lq * dout));
    dev_tensor projb = enc_tensor(e, 1, SHAPE(most * Lq * dout));
    for (int64_t wy = 0; wy < g->nwy; wy += band) {
        const int64_t nr = min64(band, g->nwy - wy), n = nr * g->nwx;
        const int64_t y0 = wy * wh, h = min64(nr * wh, g->H - y0);
        const int64_t yo = wy * g->wout_h, ho = min64(nr * g->wout_h, g->Ho - yo);
        dev_tensor t = dev_reshape(tb, 3, SHAPE(h, W, dim));
        /* x = self.norm1(x) */
        dev_layernorm(X, t, dev_rows(x, y0, h), bw->norm1_w, bw->norm1_b, 1e-6f);
        dev_tensor win = dev_reshape(t, 3, SHAPE(1, L, dim));
        if (b->window > 0) {
            /* x, pad_hw = window_partition(x, window_size) */
            win = dev_reshape(wb, 3, SHAPE(n, L, dim));
            dev_window_partition(X, win, t, b->window);
        }
        dev_tensor q, k, v;
        if (b->q_pool) {
            /* qkv = self.qkv(x); q, k, v = torch.unbind(qkv, 2): q's rows of the weight alone,
             * k's and v's together */
            dev_tensor qf = dev_reshape(qb, 3, SHAPE(n, L, dout));
            dev_tensor kv = dev_reshape(kvb, 3, SHAPE(n, L, 2 * dout));
            dev_linear(X, qf, win, dev_rows(bw->qkv_w, 0, dout), dev_rows(bw->qkv_b, 0, dout));
            dev_linear(X, kv, win, dev_rows(bw->qkv_w, dout, 2 * dout),
                       dev_rows(bw->qkv_b, dout, 2 * dout));
            k = dev_cols(kv, 0, dout);
            v = dev_cols(kv, dout, dout);
            /* q = do_pool(q.reshape(B, H, W, -1), self.q_pool): each window as a map */
            dev_tensor qp = dev_reshape(qpb, 3, SHAPE(n * wh / 2, ww / 2, dout));
            dev_maxpool2x2(X, qp, dev_reshape(qf, 3, SHAPE(n * wh, ww, dout)));
            q = dev_reshape(qp, 3, SHAPE(n, Lq, dout));
        } else {
            /* qkv = self.qkv(x).reshape(B, H * W, 3, self.num_heads, -1) */
            dev_tensor qkv = dev_reshape(kvb, 3, SHAPE(n, L, 3 * dout));
            dev_linear(X, qkv, win, bw->qkv_w, bw->qkv_b);
            /* q, k, v = torch.unbind(qkv, 2) */
            q = dev_cols(qkv, 0, dout);
            k = dev_cols(qkv, dout, dout);
            v = dev_cols(qkv, 2 * dout, dout);
        }
        /* x = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), ...) */
        dev_tensor att = dev_reshape(attb, 3, SHAPE(n, Lq, dout));
        dev_attention_windows(X, att, q, k, v, b->heads);
        /* x = self.proj(x) */
        dev_tensor proj = dev_reshape(projb, 3, SHAPE(n, Lq, dout));
        dev_linear(X, proj, att, bw->attn_proj_w, bw->attn_proj_b);
        dev_tensor un = dev_reshape(proj, 3, SHAPE(ho, Wo, dout));
        if (b->window > 0) {
            /* x = window_unpartition(x, window_size, pad_hw, (H, W)) */
            un = dev_reshape(kvb, 3, SHAPE(ho, Wo, dout));
            dev_window_unpartition(X, un, proj, g->wout_h);
        }
        /* x = shortcut + self.drop_path(x) */
        dev_add(X, dev_rows(xo, yo, ho), dev_rows(xo, yo, ho), un);
    }
    enc_release(e, m);
}

/* x = x + self.drop_path(self.mlp(self.norm2(x))), in row chunks; x [N][C]. */
static void block_mlp(const sam2_net *net, enc_ctx *e, const hiera_block_dev *bw, dev_tensor x) {
    dev_exec *X = &e->x;
    const int64_t N = x.shape[0], C = x.shape[1], hidden = (int64_t)(C * net->cfg.mlp_ratio);
    const int64_t chunk = min64(N, ROW_CHUNK);
    const enc_mark m = enc_get_mark(e);
    dev_tensor t = enc_tensor(e, 2, SHAPE(chunk, C));
    dev_tensor h = enc_tensor(e, 2, SHAPE(chunk, hidden));
    dev_tensor o = enc_tensor(e, 2, SHAPE(chunk, C));
    for (int64_t r0 = 0; r0 < N; r0 += chunk) {
        const int64_t n = min64(chunk, N - r0);
        dev_tensor xr = dev_rows(x, r0, n), tn = dev_rows(t, 0, n), hn = dev_rows(h, 0, n);
        dev_tensor on = dev_rows(o, 0, n);
        dev_layernorm(X, tn, xr, bw->norm2_w, bw->norm2_b, 1e-6f);
        /* MLP: Linear, GELU, Linear */
        dev_linear(X, hn, tn, bw->mlp_w[0], bw->mlp_b[0]);
        dev_gelu(X, hn, hn);
        dev_linear(X, on, hn, bw->mlp_w[1], bw->mlp_b[1]);
        dev_add(X, xr, xr, on);
    }
    enc_release(e, m);
}

/* Hiera.forward: x = self.patch_embed(x); x = x + self._get_pos_embed(x.shape[1:3]); then the
 * blocks, the output of each stage's last block kept. */
int hiera_forward(const sam2_net *net, enc_ctx *e, dev_tensor img, const dev_tensor stage_out[4],
                  const sam2_tap *tap, const cancel_check *cancel) {
    const sam2_config *c = &net->cfg;
    const image_encoder_dev *ie = &net->ie;
    dev_exec *X = &e->x;
    const int64_t S = c->image_size, F = net->feat0, C0 = c->embed_dim;
    const int64_t max_elems = F * F * C0; /* pooling halves the tokens, doubles C */

    const enc_mark start = enc_get_mark(e);
    int rc = -1;
    dev_tensor xa = enc_tensor(e, 1, SHAPE(max_elems)), xb = enc_tensor(e, 1, SHAPE(max_elems));
    dev_tensor x = dev_reshape(xa, 3, SHAPE(F, F, C0)), spare = xb;
    {
        /* PatchEmbed: self.proj(x).permute(0, 2, 3, 1); the convolution reads channels-last */
        const enc_mark m = enc_get_mark(e);
        dev_tensor hwc = enc_tensor(e, 3, SHAPE(S, S, 3));
        enc_adopt(e, conv2d_scratch_floats((int)S, (int)S, 3, (int)C0, 7, 7, 4, 3, 1) +
                         OP_SCRATCH_SLACK);
        dev_tensor hwc_as_chw = hwc;
        hwc_as_chw.shape[0] = 3, hwc_as_chw.shape[1] = S, hwc_as_chw.shape[2] = S;
        hwc_as_chw.stride[0] = 1, hwc_as_chw.stride[1] = S * 3, hwc_as_chw.stride[2] = 3;
        dev_copy(X, hwc_as_chw, img);
        dev_conv2d(X, x, hwc, ie->patch_w, ie->patch_b, 4, 3, 1);
        enc_release(e, m);
    }
    /* x = x + self._get_pos_embed(x.shape[1:3]) */
    dev_add(X, x, x, ie->pos);

    enc_adopt(e, attention_scratch_floats_max(net) + OP_SCRATCH_SLACK);

    int64_t H = F, W = F;
    int stage = 0, acc = 0;
    for (int i = 0; i < net->num_blocks && !X->failed; i++) {
        const sam2_hiera_block_info *b = &net->blocks[i];
        const hiera_block_dev *bw = &ie->blocks[i];
        block_geom g;
        if (geometry(b, (int)H, (int)W, &g) != 0) {
            rc = -2;
            goto done;
        }
        /* for i, blk in enumerate(self.blocks): x = blk(x)   (MultiScaleBlock.forward) */
        dev_tensor xo = x;
        if (b->dim != b->dim_out) {
            dev_tensor next = dev_reshape(spare, 3, SHAPE(g.Ho, g.Wo, b->dim_out));
            spare = dev_reshape(x, 1, SHAPE(max_elems));
            xo = next;
            block_shortcut(e, bw, b, x, xo);
        }
        block_attention(e, bw, b, &g, x, xo);
        x = xo;
        H = g.Ho;
        W = g.Wo;
        block_mlp(net, e, bw, dev_reshape(x, 2, SHAPE(H * W, b->dim_out)));

        /* if (i == self.stage_ends[-1]) or (i in self.stage_ends ...): outputs.append(x) */
        if (i == acc + c->stages[stage] - 1) {
            dev_copy(X, stage_out[stage], x);
            char name[32];
            snprintf(name, sizeof name, "trunk_stage%d", stage);
            enc_tap(e, tap, name, x);
            acc += c->stages[stage];
            stage++;
        }
        /* after every block, not only every stage: a stage of a large trunk is most of a frame */
        if (i + 1 < net->num_blocks && cancel_requested(cancel)) {
            rc = CANCEL_STOPPED;
            goto done;
        }
    }
    rc = X->failed ? -1 : 0;
done:
    enc_release(e, start);
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
