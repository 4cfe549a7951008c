#include "model/repvit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BN_EPS 1e-5 /* nn.BatchNorm2d default, as timm builds every ConvNorm */

/* ---- folding (load time) ---------------------------------------------------------------- */

/* Bump allocation from the owned buffer; with buf NULL only counts. */
typedef struct folder {
    float *buf;
    size_t used;
} folder;

static float *take(folder *f, size_t n) {
    float *p = f->buf ? f->buf + f->used : NULL;
    f->used += (n + 15) & ~(size_t)15; /* 64-byte aligned tensors */
    return p;
}

static double bn_a(const sam2_convbn_w *cb, int o) {
    return (double)cb->bn_w[o] / sqrt((double)cb->bn_var[o] + BN_EPS);
}

/* ConvNorm -> conv + bias: w' = w * a (per output channel), b' = bn.bias - mean * a. */
static void fold_convnorm(folder *f, sam2_lin *out, const sam2_convbn_w *cb, int oc, int per_out) {
    float *w = take(f, (size_t)oc * per_out), *b = take(f, (size_t)oc);
    if (!f->buf) return;
    for (int o = 0; o < oc; o++) {
        const double a = bn_a(cb, o);
        for (int i = 0; i < per_out; i++)
            w[(size_t)o * per_out + i] = (float)(cb->conv[(size_t)o * per_out + i] * a);
        b[o] = (float)(cb->bn_b[o] - cb->bn_mean[o] * a);
    }
    out->w = w;
    out->b = b;
}

/* RepVggDw -> one depthwise 3x3 + bias (timm RepVggDw.fuse): the 1x1 branch and the identity
 * join the centre tap; the non-legacy variant's BatchNorm after the sum is folded last. */
static void fold_token_mixer(folder *f, sam2_lin *out, const sam2_repvit_block_w *bw, int C,
                             bool legacy) {
    float *w = take(f, (size_t)C * 9), *b = take(f, (size_t)C);
    if (!f->buf) return;
    for (int c = 0; c < C; c++) {
        const double a3 = bn_a(&bw->dw, c);
        double k[9], bias = bw->dw.bn_b[c] - bw->dw.bn_mean[c] * a3;
        for (int t = 0; t < 9; t++) k[t] = bw->dw.conv[(size_t)c * 9 + t] * a3;
        if (legacy) {
            const double a1 = bn_a(&bw->dw1, c);
            k[4] += bw->dw1.conv[c] * a1 + 1.0;
            bias += bw->dw1.bn_b[c] - bw->dw1.bn_mean[c] * a1;
        } else {
            k[4] += (double)bw->dw1.conv[c] + 1.0;
            bias += bw->dw1_bias[c];
            const double am = bn_a(&bw->mixer_bn, c);
            for (int t = 0; t < 9; t++) k[t] *= am;
            bias = bw->mixer_bn.bn_b[c] + (bias - bw->mixer_bn.bn_mean[c]) * am;
        }
        for (int t = 0; t < 9; t++) w[(size_t)c * 9 + t] = (float)k[t];
        b[c] = (float)bias;
    }
    out->w = w;
    out->b = b;
}

static int se_channels(int C);

/* A plain layer copied as it is (w: n_w floats, b: n_b), so that the checkpoint's copy of the
 * trunk can be released once everything is folded. */
static void copy_lin(folder *f, sam2_lin *out, const sam2_lin *in, size_t n_w, size_t n_b) {
    float *w = take(f, n_w), *b = take(f, n_b);
    if (!f->buf) return;
    memcpy(w, in->w, sizeof(float) * n_w);
    memcpy(b, in->b, sizeof(float) * n_b);
    out->w = w;
    out->b = b;
}

static void fold_block(folder *f, repvit_block *out, const sam2_repvit_block_w *bw, int C,
                       bool legacy) {
    fold_token_mixer(f, &out->dw, bw, C, legacy);
    if (bw->se_fc1.w) { /* plain 1x1 convs with bias: used as they are */
        const size_t rd = (size_t)se_channels(C);
        copy_lin(f, &out->se_fc1, &bw->se_fc1, rd * C, rd);
        copy_lin(f, &out->se_fc2, &bw->se_fc2, (size_t)C * rd, (size_t)C);
    }
    fold_convnorm(f, &out->mlp1, &bw->mlp1, 2 * C, C);
    fold_convnorm(f, &out->mlp2, &bw->mlp2, C, 2 * C);
}

static void fold_all(folder *f, repvit_weights *rw, const sam2_config *c, const sam2_weights *w) {
    const int *dims = c->repvit.dims;
    fold_convnorm(f, &rw->stem[0], &w->repvit_stem[0], dims[0] / 2, 3 * 9);
    fold_convnorm(f, &rw->stem[1], &w->repvit_stem[1], dims[0], dims[0] / 2 * 9);
    for (int s = 0; s < 4; s++) {
        const sam2_repvit_stage_w *sw = &w->repvit[s];
        repvit_stage *st = &rw->stages[s];
        if (s > 0) {
            const int in = dims[s - 1], out = dims[s];
            fold_block(f, &st->pre_block, &sw->pre_block, in, c->repvit.legacy);
            fold_convnorm(f, &st->spatial_ds, &sw->spatial_ds, in, 9);
            fold_convnorm(f, &st->channel_ds, &sw->channel_ds, out, in);
            fold_convnorm(f, &st->ffn1, &sw->ffn1, 2 * out, out);
            fold_convnorm(f, &st->ffn2, &sw->ffn2, out, 2 * out);
        }
        for (int b = 0; b < c->repvit.depths[s]; b++)
            fold_block(f, &st->blocks[b], &sw->blocks[b], dims[s], c->repvit.legacy);
    }
}

int repvit_fold(repvit_weights *out, const sam2_config *cfg, const sam2_weights *w) {
    memset(out, 0, sizeof *out);
    folder f = {NULL, 0};
    fold_all(&f, out, cfg, w);
    if (posix_memalign((void **)&f.buf, 64, sizeof(float) * f.used) != 0) return -1;
    out->owned = f.buf;
    f.used = 0;
    fold_all(&f, out, cfg, w);
    return 0;
}

void repvit_free(repvit_weights *rw) {
    if (!rw) return;
    free(rw->owned);
    memset(rw, 0, sizeof *rw);
}

/* ---- forward -------------------------------------------------------------------------------- */

typedef struct trunk_ctx {
    const sam2_net *net;
    const sam2_backend *be;
    const sam2_tap *tap;
    arena *scratch;
    float *tm;           /* token-mixer output, [H][W][C] of the largest stage */
    float *dws, *mlps;   /* depthwise and pointwise-MLP scratch */
    float gate[2][4096]; /* SE: channel means, then the gate (widths <= 4096, validated) */
} trunk_ctx;

static void tap_map(const trunk_ctx *t, const char *name, const float *x, int H, int W, int C) {
    tap_hwc(t->tap, name, x, H, W, C);
}

/* timm SqueezeExcite(C, 0.25): make_divisible(C / 4, 8) reduced channels (<= 1024 here). */
static int se_channels(int C) {
    const int rd = (C / 4 + 4) / 8 * 8;
    return rd < 8 ? 8 : rd;
}

/* SqueezeExcite: gate = sigmoid(fc2(relu(fc1(mean)))) on the [C] channel means. */
static void se_gate(trunk_ctx *t, const repvit_block *b, int C, float *gate) {
    const int rd = se_channels(C);
    float hidden[1024];
    t->be->linear(hidden, t->gate[0], b->se_fc1.w, b->se_fc1.b, 1, C, rd);
    t->be->relu(hidden, hidden, (size_t)rd);
    t->be->linear(gate, hidden, b->se_fc2.w, b->se_fc2.b, 1, rd, C);
    t->be->sigmoid(gate, gate, (size_t)C);
}

/* RepViTBlock: x = token_mixer(in); x = se(x); out = x + channel_mixer(x). out may equal in.
 * name: tap prefix ("trunk_s0_b0"), or NULL for the downsample's pre_block. */
static int block_forward(trunk_ctx *t, const repvit_block *b, float *out, const float *in, int H,
                         int W, int C, const char *name) {
    const sam2_backend *be = t->be;
    const bool se = b->se_fc1.w != NULL;
    char tn[64];
    /* token_mixer (RepVggDw: dw3x3 + dw1x1 + identity, folded), with the SE's channel means */
    be->depthwise_conv(t->tm, in, b->dw.w, b->dw.b, H, W, C, 3, 1, 1, SAM2_ACT_NONE,
                       se ? t->gate[0] : NULL, t->dws);
    if (name) {
        snprintf(tn, sizeof tn, "%s_token_mixer", name);
        tap_map(t, tn, t->tm, H, W, C);
    }
    const float *gate = NULL;
    if (se) {
        se_gate(t, b, C, t->gate[1]);
        gate = t->gate[1];
        if (name && tap_wants_data(t->tap)) {
            /* the gated map exists only inside the fused MLP: made for the tap */
            const arena_mark m = arena_get_mark(t->scratch);
            float *g = arena_floats(t->scratch, (size_t)H * W * C, 0);
            if (!g) return -1;
            for (size_t i = 0; i < (size_t)H * W; i++)
                for (int c = 0; c < C; c++) g[i * C + c] = t->tm[i * C + c] * gate[c];
            snprintf(tn, sizeof tn, "%s_se", name);
            tap_map(t, tn, g, H, W, C);
            arena_release(t->scratch, m);
        }
    }
    /* channel_mixer (RepVitMlp: 1x1, GELU, 1x1) with the residual, on the gated map */
    be->pointwise_mlp(out, t->tm, gate, b->mlp1.w, b->mlp1.b, b->mlp2.w, b->mlp2.b, H * W, C, 2 * C,
                      SAM2_ACT_GELU, t->mlps);
    if (name) tap_map(t, name, out, H, W, C);
    return 0;
}

/* Stage-0 rows per band of the stem: its input in channels-last order (12 MB at 1024 px) and
 * its first map (24 MB) exist only a band at a time. */
#define STEM_BAND_ROWS 16

/* Rows [r0, r1) of a 3x3, stride-2, padding-1 convolution of an H-row map of W pixels x IC
 * channels, channels-last, whose rows from `first` on are at `in`; into out (row r0 first).
 * Output row r reads input rows 2r-1 .. 2r+1, so the convolution runs on input rows from
 * 2 r0 - 2 (even, so that its output rows fall on the map's): every row in [r0, r1) then sees
 * the same rows and taps, in the same order, as in the whole-map convolution. The extra row it
 * makes ahead of r0 lands on the row before out, which is saved and restored around the call. */
static void conv3x3s2_rows(const trunk_ctx *t, float *out, const float *in, int first, int H, int W,
                           int IC, int OC, const sam2_lin *l, int r0, int r1, float *saved,
                           float *scratch) {
    const int OW = (W - 1) / 2 + 1, top = r0 > 0 ? 2 * r0 - 2 : 0;
    const int end = 2 * r1 < H ? 2 * r1 : H;
    const size_t row = (size_t)OW * OC;
    float *dst = r0 > 0 ? out - row : out;
    if (r0 > 0) memcpy(saved, dst, sizeof(float) * row);
    t->be->conv2d(dst, in + (size_t)(top - first) * W * IC, l->w, l->b, end - top, W, IC, OC, 3, 3,
                  2, 1, 1, scratch);
    if (r0 > 0) memcpy(dst, saved, sizeof(float) * row);
}

/* RepViT stem: ConvNorm 3x3/2 (3 -> C0/2), GELU, ConvNorm 3x3/2 (-> C0), in bands of output
 * rows read straight from the planar image. */
static int stem_forward(trunk_ctx *t, const float *img_chw, float *out) {
    const sam2_net *net = t->net;
    const repvit_weights *rw = net->repvit;
    const int S = net->cfg.image_size, C0 = net->cfg.repvit.dims[0], h = C0 / 2;
    const int S1 = (S - 1) / 2 + 1, S2 = (S1 - 1) / 2 + 1, B = STEM_BAND_ROWS;
    const int s1_rows = 2 * B + 2, img_rows = 2 * s1_rows + 2;
    const arena_mark m = arena_get_mark(t->scratch);
    /* each band buffer has a spare row ahead of it, for conv3x3s2_rows's extra row */
    float *img = arena_floats(t->scratch, (size_t)img_rows * S * 3, 0);
    float *s1 = arena_floats(t->scratch, (size_t)(s1_rows + 1) * S1 * h, 0);
    const size_t saved_n = (size_t)S1 * h > (size_t)S2 * C0 ? (size_t)S1 * h : (size_t)S2 * C0;
    float *saved = arena_floats(t->scratch, saved_n, 0);
    size_t cs = conv2d_scratch_floats(img_rows, S, 3, h, 3, 3, 2, 1, 1);
    const size_t cs2 = conv2d_scratch_floats(s1_rows, S1, h, C0, 3, 3, 2, 1, 1);
    if (cs2 > cs) cs = cs2;
    float *conv_scratch = arena_floats(t->scratch, cs, 0);
    if (!img || !s1 || !saved || !conv_scratch) return -1;
    float *s1_rows_at = s1 + (size_t)S1 * h;
    for (int y0 = 0; y0 < S2; y0 += B) {
        const int y1 = y0 + B < S2 ? y0 + B : S2;
        /* the first map's rows that stage rows [y0, y1) read, from the image rows they read */
        const int a = y0 > 0 ? 2 * y0 - 2 : 0, b = 2 * y1 < S1 ? 2 * y1 : S1;
        const int c = a > 0 ? 2 * a - 2 : 0, e = 2 * b < S ? 2 * b : S;
        for (int y = c; y < e; y++)
            for (int x = 0; x < S; x++)
                for (int ch = 0; ch < 3; ch++)
                    img[((size_t)(y - c) * S + x) * 3 + ch] = img_chw[((size_t)ch * S + y) * S + x];
        conv3x3s2_rows(t, s1_rows_at, img, c, S, S, 3, h, &rw->stem[0], a, b, saved, conv_scratch);
        t->be->gelu(s1_rows_at, s1_rows_at, (size_t)(b - a) * S1 * h);
        conv3x3s2_rows(t, out + (size_t)y0 * S2 * C0, s1_rows_at, a, S1, S1, h, C0, &rw->stem[1],
                       y0, y1, saved, conv_scratch);
    }
    arena_release(t->scratch, m);
    tap_map(t, "trunk_stem", out, S2, S2, C0);
    return 0;
}

/* RepVitDownsample: pre_block, depthwise 3x3/2, 1x1 (C -> C'), x + ffn(x); into out. */
static int downsample_forward(trunk_ctx *t, int s, const float *in, int H, int W, float *out) {
    const sam2_net *net = t->net;
    const repvit_stage *st = &net->repvit->stages[s];
    const int C = net->cfg.repvit.dims[s - 1], Co = net->cfg.repvit.dims[s];
    const int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
    const arena_mark m = arena_get_mark(t->scratch);
    /* The pre_block's output is its own token mixer's map: the channel mixer runs in place. */
    float *pre = t->tm;
    float *ds = arena_floats(t->scratch, (size_t)Ho * Wo * C, 0);
    if (!ds) return -1;
    char name[40];
    snprintf(name, sizeof name, "trunk_s%d_pre", s); /* no golden entry: for benchmarks */
    if (block_forward(t, &st->pre_block, pre, in, H, W, C, name)) return -1;
    t->be->depthwise_conv(ds, pre, st->spatial_ds.w, st->spatial_ds.b, H, W, C, 3, 2, 1,
                          SAM2_ACT_NONE, NULL, t->dws);
    snprintf(name, sizeof name, "trunk_s%d_spatial_downsample", s);
    tap_map(t, name, ds, Ho, Wo, C);
    t->be->linear(out, ds, st->channel_ds.w, st->channel_ds.b, Ho * Wo, C, Co);
    t->be->pointwise_mlp(out, out, NULL, st->ffn1.w, st->ffn1.b, st->ffn2.w, st->ffn2.b, Ho * Wo,
                         Co, 2 * Co, SAM2_ACT_GELU, t->mlps);
    arena_release(t->scratch, m);
    snprintf(name, sizeof name, "trunk_s%d_downsample", s);
    tap_map(t, name, out, Ho, Wo, Co);
    return 0;
}

int repvit_stem(const sam2_net *net, const float *img_chw, float *out, arena *scratch,
                const sam2_tap *tap) {
    if (!net->repvit) return -2;
    trunk_ctx t = {.net = net, .be = net->be, .tap = tap, .scratch = scratch};
    return stem_forward(&t, img_chw, out);
}

int repvit_forward(const sam2_net *net, float *const stage_out[4], arena *scratch,
                   const sam2_tap *tap, const cancel_check *cancel) {
    const sam2_config *c = &net->cfg;
    const int F = net->feat0;
    const int *dims = c->repvit.dims;
    if (!net->repvit || dims[3] > 4096) return -2;
    trunk_ctx t = {.net = net, .be = net->be, .tap = tap, .scratch = scratch};
    const arena_mark start = arena_get_mark(scratch);
    int rc = -1;
    size_t tm = 0, dws = 0, mlps = 0;
    for (int s = 0; s < 4; s++) {
        const size_t n = (size_t)(F >> s) * (F >> s);
        if (n * dims[s] > tm) tm = n * dims[s];
        const size_t d = depthwise_scratch_floats(dims[s], 3, F >> s);
        const size_t p = pointwise_mlp_scratch_floats((int)n, dims[s], 2 * dims[s]);
        if (d > dws) dws = d;
        if (p > mlps) mlps = p;
    }
    t.tm = arena_floats(scratch, tm, 0);
    t.dws = arena_floats(scratch, dws, 0);
    t.mlps = arena_floats(scratch, mlps, 0);
    if (!t.tm || !t.dws || !t.mlps) goto done;
    for (int s = 0; s < 4; s++) {
        const int H = F >> s, W = F >> s;
        float *x = stage_out[s];
        if (s > 0 && downsample_forward(&t, s, stage_out[s - 1], F >> (s - 1), F >> (s - 1), x))
            goto done;
        for (int b = 0; b < c->repvit.depths[s]; b++) {
            char name[32];
            snprintf(name, sizeof name, "trunk_s%d_b%d", s, b);
            if (block_forward(&t, &net->repvit->stages[s].blocks[b], x, x, H, W, dims[s], name))
                goto done;
        }
        char name[32];
        snprintf(name, sizeof name, "trunk_stage%d", s);
        tap_map(&t, name, x, H, W, dims[s]);
        if (s < 3 && cancel_requested(cancel)) {
            rc = CANCEL_STOPPED;
            goto done;
        }
    }
    rc = 0;
done:
    arena_release(scratch, start);
    return rc;
}

double repvit_depthwise_flops(const sam2_net *net) {
    const sam2_config *c = &net->cfg;
    const int F = net->feat0;
    double f = 0;
    for (int s = 0; s < 4; s++) {
        const double n = (double)(F >> s) * (F >> s), C = c->repvit.dims[s];
        f += 2.0 * 9 * n * C * c->repvit.depths[s];
        if (s > 0) {
            const double np = n * 4, Cp = c->repvit.dims[s - 1];
            f += 2.0 * 9 * np * Cp + 2.0 * 9 * n * Cp; /* pre_block, spatial downsample */
        }
    }
    return f;
}

double repvit_depthwise_bytes(const sam2_net *net) {
    const sam2_config *c = &net->cfg;
    const int F = net->feat0;
    double b = 0;
    for (int s = 0; s < 4; s++) {
        const double n = (double)(F >> s) * (F >> s), C = c->repvit.dims[s];
        b += 4.0 * 2 * n * C * c->repvit.depths[s]; /* token mixers: read and write the map */
        if (s > 0) {
            const double np = n * 4, Cp = c->repvit.dims[s - 1];
            b += 4.0 * 2 * np * Cp + 4.0 * (np + n) * Cp; /* pre_block, spatial downsample */
        }
    }
    return b;
}

double repvit_flops(const sam2_net *net) {
    const sam2_config *c = &net->cfg;
    const int F = net->feat0, S = c->image_size, C0 = c->repvit.dims[0];
    double f = 2.0 * (S / 2) * (S / 2) * (C0 / 2) * 27 + 2.0 * F * F * C0 * (C0 / 2) * 9; /* stem */
    for (int s = 0; s < 4; s++) {
        const double n = (double)(F >> s) * (F >> s), C = c->repvit.dims[s];
        f += 2.0 * 2.0 * n * C * 2 * C * c->repvit.depths[s]; /* channel mixers */
        if (s > 0) {
            const double np = n * 4, Cp = c->repvit.dims[s - 1];
            f += 2.0 * 2.0 * np * Cp * 2 * Cp; /* pre_block's channel mixer */
            f += 2.0 * n * Cp * C;             /* channel downsample */
            f += 2.0 * 2.0 * n * C * 2 * C;    /* ffn */
        }
    }
    return f + repvit_depthwise_flops(net);
}
