/* The memory encoder on the compute seam: the forward pass below only calls backend ops
 * (core/device.h); the host supplies the frame's features and the upsampled mask logits
 * (borrowed in place on the cpu and ref backends) and reads back the memory features. Comments
 * name the official Python (sam2/modeling/memory_encoder.py, sam2_base.py). */
#include "model/memory_encoder.h"

#include "model/dev_layers.h"

#include <stdlib.h>

#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})

typedef struct cxblock_dev {
    dev_tensor dw_w, dw_b, gamma; /* gamma has no buffer without layer scale */
    dev_norm norm;
    dev_lin pwconv1, pwconv2;
} cxblock_dev;

/* The encoder's weights on the net's backend (net->me). */
struct memory_encoder_dev {
    dev_tensor ds_w[SAM2_MAX_MASK_DS_LAYERS], ds_b[SAM2_MAX_MASK_DS_LAYERS];
    dev_norm ds_norm[SAM2_MAX_MASK_DS_LAYERS];
    dev_lin ds_out, pix_feat_proj, fuser_proj, out_proj;
    cxblock_dev fuser[SAM2_MAX_FUSER_LAYERS];
    dev_tensor no_obj_embed_spatial; /* no buffer when the model has none */
};

static int placed(const dev_lin *l) {
    return l->w.buf && l->b.buf;
}

static int place_fuser(sam2_net *net, struct memory_encoder_dev *me) {
    const sam2_config *c = &net->cfg;
    sam2_device *d = net->dev;
    dev_arena *a = &net->dev_weights;
    const int64_t C = c->d_model, k = c->fuser_kernel, icg = c->fuser_dwconv ? 1 : C;
    int ok = 1;
    for (int i = 0; i < c->fuser_layers; i++) {
        const sam2_cxblock_w *w = &net->w.fuser[i];
        cxblock_dev *b = &me->fuser[i];
        b->dw_w = dev_weight(d, a, w->dwconv.w, 4, SHAPE(C, icg, k, k));
        b->dw_b = dev_weight(d, a, w->dwconv.b, 1, SHAPE(C));
        b->gamma = w->gamma ? dev_weight(d, a, w->gamma, 1, SHAPE(C)) : dev_none();
        b->norm = dev_norm_place(d, a, &w->norm, C);
        b->pwconv1 = dev_lin_place(d, a, &w->pwconv1, 4 * C, C);
        b->pwconv2 = dev_lin_place(d, a, &w->pwconv2, C, 4 * C);
        ok &= b->dw_w.buf && b->dw_b.buf && (!w->gamma || b->gamma.buf) && b->norm.w.buf &&
              b->norm.b.buf && placed(&b->pwconv1) && placed(&b->pwconv2);
    }
    return ok;
}

int memory_encoder_load(sam2_net *net) {
    const sam2_config *c = &net->cfg;
    const sam2_weights *w = &net->w;
    sam2_device *d = net->dev;
    dev_arena *a = &net->dev_weights;
    const int64_t dm = c->d_model, ks = c->mask_ds_kernel, st = c->mask_ds_stride;
    struct memory_encoder_dev *me = calloc(1, sizeof *me);
    if (!me) return -1;
    net->me = me;
    int ok = 1;
    int64_t cin = 1;
    for (int i = 0; i < w->mask_ds_layers; i++) {
        const int64_t cout = cin * st * st;
        me->ds_w[i] = dev_weight(d, a, w->mask_ds_conv[i].w, 4, SHAPE(cout, cin, ks, ks));
        me->ds_b[i] = dev_weight(d, a, w->mask_ds_conv[i].b, 1, SHAPE(cout));
        me->ds_norm[i] = dev_norm_place(d, a, &w->mask_ds_norm[i], cout);
        ok &= me->ds_w[i].buf && me->ds_b[i].buf && me->ds_norm[i].w.buf && me->ds_norm[i].b.buf;
        cin = cout;
    }
    me->ds_out = dev_lin_place(d, a, &w->mask_ds_out, dm, cin);
    me->pix_feat_proj = dev_lin_place(d, a, &w->pix_feat_proj, dm, dm);
    ok &= placed(&me->ds_out) && placed(&me->pix_feat_proj);
    if (c->fuser_input_projection) {
        me->fuser_proj = dev_lin_place(d, a, &w->fuser_proj, dm, dm);
        ok &= placed(&me->fuser_proj);
    }
    if (c->mem_dim != dm) {
        me->out_proj = dev_lin_place(d, a, &w->mem_out_proj, c->mem_dim, dm);
        ok &= placed(&me->out_proj);
    }
    if (w->no_obj_embed_spatial) {
        me->no_obj_embed_spatial = dev_weight(d, a, w->no_obj_embed_spatial, 1, SHAPE(c->mem_dim));
        ok &= me->no_obj_embed_spatial.buf != NULL;
    }
    return ok && place_fuser(net, me) ? 0 : -1;
}

void memory_encoder_unload(sam2_net *net) {
    free(net->me);
    net->me = NULL;
}

/* Rows per band of the CXBlock's MLP: its hidden layer (4C wide: 16 MB at 1024 px) exists a
 * band at a time. A multiple of the linear kernels' row blocks, so each row is computed as on
 * the whole map. */
#define CX_BAND_ROWS 512

/* CXBlock.forward on x [E][E][C], in place. */
static void cxblock(dev_exec *x, const sam2_net *net, const cxblock_dev *b, dev_tensor in) {
    const sam2_config *c = &net->cfg;
    const int64_t E = in.shape[0], C = in.shape[2];
    const int64_t P = E * E, band = P < CX_BAND_ROWS ? P : CX_BAND_ROWS;
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    dev_tensor t = dev_new(x, SAM2_F32, 3, SHAPE(E, E, C));
    dev_tensor h = dev_new(x, SAM2_F32, 2, SHAPE(band, 4 * C));
    /* x = self.dwconv(x); x = self.norm(x) */
    dev_conv2d(x, t, in, b->dw_w, b->dw_b, 1, c->fuser_padding, c->fuser_dwconv ? (int)C : 1);
    dev_layernorm(x, t, t, b->norm.w, b->norm.b, 1e-6f);
    /* x = self.pwconv2(self.act(self.pwconv1(x))), a band of rows at a time */
    const dev_tensor rows = dev_reshape(t, 2, SHAPE(P, C));
    for (int64_t r0 = 0; r0 < P; r0 += band) {
        const int64_t n = P - r0 < band ? P - r0 : band;
        const dev_tensor tb = dev_rows(rows, r0, n), hb = dev_rows(h, 0, n);
        dev_linear(x, hb, tb, b->pwconv1.w, b->pwconv1.b);
        dev_gelu(x, hb, hb);
        dev_linear(x, tb, hb, b->pwconv2.w, b->pwconv2.b);
    }
    /* if self.gamma is not None: x = self.gamma * x */
    if (b->gamma.buf) dev_mul(x, t, t, b->gamma);
    /* x = input + self.drop_path(x) */
    dev_add(x, in, in, t);
    dev_arena_release(x->arena, m);
}

/* Largest map of the mask downsampler's chain (its input included), in floats. */
static int64_t mask_ds_max_map(const sam2_config *c, int layers) {
    const int ks = c->mask_ds_kernel, st = c->mask_ds_stride, pd = c->mask_ds_padding;
    int64_t most = (int64_t)c->image_size * c->image_size;
    int64_t H = c->image_size, cin = 1;
    for (int i = 0; i < layers; i++) {
        const int64_t cout = cin * st * st, OH = (H + 2 * pd - ks) / st + 1;
        if (OH * OH * cout > most) most = OH * OH * cout;
        H = OH;
        cin = cout;
    }
    return most;
}

/* A [H][W][C] map at the start of a flat buffer. */
static dev_tensor map_in(dev_tensor buf, int64_t H, int64_t C) {
    return dev_reshape(dev_rows(buf, 0, H * H * C), 3, SHAPE(H, H, C));
}

/* SAM2Base._encode_new_memory: mask_for_mem = (pred_masks_high_res > 0).float() when
 * binarised, else torch.sigmoid(pred_masks_high_res); then * sigmoid_scale_for_mem_enc
 * + sigmoid_bias_for_mem_enc */
static void mask_for_mem(dev_exec *x, const sam2_config *c, dev_tensor hr, bool binarize,
                         dev_tensor out) {
    if (binarize)
        dev_threshold(x, out, hr, 0.0f);
    else
        dev_sigmoid(x, out, hr);
    if (c->sigmoid_scale_for_mem_enc != 1.0f || c->sigmoid_bias_for_mem_enc != 0.0f)
        dev_scale(x, out, out, c->sigmoid_scale_for_mem_enc, c->sigmoid_bias_for_mem_enc);
}

/* MaskDownSampler.forward: self.encoder(x), (Conv2d, LayerNorm2d, GELU) x n, then a 1x1 Conv2d
 * into masks [E][E][d]. Two maps of the chain live at a time (ping-pong buffers): at 1024 px
 * the whole chain would hold 60 MB until the end. Returns -2 when the chain does not end at E. */
static int mask_downsampler(dev_exec *x, const sam2_net *net, dev_tensor hr, bool binarize,
                            dev_tensor masks) {
    const struct memory_encoder_dev *me = net->me;
    const sam2_config *c = &net->cfg;
    const int layers = net->w.mask_ds_layers;
    const int64_t ks = c->mask_ds_kernel, st = c->mask_ds_stride, pd = c->mask_ds_padding;
    const int64_t most = mask_ds_max_map(c, layers);
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    const dev_tensor buf[2] = {dev_new(x, SAM2_F32, 1, &most), dev_new(x, SAM2_F32, 1, &most)};
    int64_t H = c->image_size, cin = 1;
    /* The chain's input lives in the buffer layer 0 does not write: no third map. */
    dev_tensor cur = map_in(buf[1], H, cin);
    mask_for_mem(x, c, hr, binarize, cur);
    for (int i = 0; i < layers; i++) {
        const int64_t cout = cin * st * st, OH = (H + 2 * pd - ks) / st + 1;
        dev_tensor o = map_in(buf[i & 1], OH, cout);
        dev_conv2d(x, o, cur, me->ds_w[i], me->ds_b[i], (int)st, (int)pd, 1);
        dev_layernorm(x, o, o, me->ds_norm[i].w, me->ds_norm[i].b, 1e-6f);
        dev_gelu(x, o, o);
        cur = o;
        H = OH;
        cin = cout;
    }
    if (H != net->embed) {
        dev_arena_release(x->arena, m);
        return -2;
    }
    dev_linear(x, masks, cur, me->ds_out.w, me->ds_out.b);
    dev_arena_release(x->arena, m);
    return 0;
}

int memory_encoder_forward(const sam2_net *net, const float *pix_feat, const float *mask_hr,
                           bool binarize, float object_score, float *out, arena *scratch) {
    const struct memory_encoder_dev *me = net->me;
    const sam2_config *c = &net->cfg;
    const int64_t E = net->embed, d = c->d_model, S = c->image_size, md = c->mem_dim;
    dev_arena arena;
    dev_arena_init(&arena, net->dev);
    dev_arena_back(&arena, scratch); /* the caller's host scratch (maps_host backends) */
    dev_exec x;
    dev_exec_init(&x, &arena);
    dev_tensor feat = dev_from_host(&x, pix_feat, SAM2_F32, 3, SHAPE(E, E, d), 1);
    dev_tensor mem = dev_from_host(&x, out, SAM2_F32, 3, SHAPE(E, E, md), 1);
    dev_tensor xf = dev_new(&x, SAM2_F32, 3, SHAPE(E, E, d));
    dev_tensor masks = dev_new(&x, SAM2_F32, 3, SHAPE(E, E, d));

    dev_arena_mark m = dev_arena_get_mark(&arena);
    dev_tensor hr = dev_from_host(&x, mask_hr, SAM2_F32, 3, SHAPE(S, S, 1), 1);
    /* MemoryEncoder.forward (skip_mask_sigmoid=True): masks = self.mask_downsampler(masks) */
    const int ds = mask_downsampler(&x, net, hr, binarize, masks);
    dev_arena_release(&arena, m);
    /* x = self.pix_feat_proj(pix_feat); x = x + masks */
    dev_linear(&x, xf, feat, me->pix_feat_proj.w, me->pix_feat_proj.b);
    dev_add(&x, xf, xf, masks);
    /* x = self.fuser(x): proj (Identity unless input projection), then the CXBlocks */
    if (c->fuser_input_projection) {
        dev_linear(&x, masks, xf, me->fuser_proj.w, me->fuser_proj.b);
        dev_copy(&x, xf, masks);
    }
    for (int i = 0; i < c->fuser_layers; i++) cxblock(&x, net, &me->fuser[i], xf);
    /* x = self.out_proj(x) */
    if (md != d)
        dev_linear(&x, mem, xf, me->out_proj.w, me->out_proj.b);
    else
        dev_copy(&x, mem, xf);
    /* maskmem_features += (1 - is_obj_appearing) * no_obj_embed_spatial */
    if (me->no_obj_embed_spatial.buf && !(object_score > 0.0f))
        dev_add(&x, mem, mem, me->no_obj_embed_spatial);
    dev_download(&x, out, &mem, sizeof(float) * (size_t)(E * E * md));
    const int rc = ds ? ds : x.failed ? -1 : 0;
    dev_arena_free(&arena);
    return rc;
}

double memory_encoder_flops(const sam2_net *net) {
    const sam2_config *c = &net->cfg;
    const double P = (double)net->embed * net->embed, d = c->d_model;
    double f = 2.0 * P * d * d * 2 + 2.0 * P * d * c->mem_dim; /* projections */
    f += c->fuser_layers * (2.0 * P * d * 49 + 2.0 * 2.0 * P * d * 4 * d);
    int H = c->image_size, cin = 1;
    for (int s = 1; s < c->mask_ds_total_stride; s *= c->mask_ds_stride) {
        int cout = cin * c->mask_ds_stride * c->mask_ds_stride;
        H = (H + 2 * c->mask_ds_padding - c->mask_ds_kernel) / c->mask_ds_stride + 1;
        f += 2.0 * H * H * cout * cin * c->mask_ds_kernel * c->mask_ds_kernel;
        cin = cout;
    }
    return f;
}
