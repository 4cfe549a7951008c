#include "model/memory_encoder.h"

#include <math.h>
#include <string.h>

/* Rows per band of the CXBlock's MLP: its hidden layer (4C wide: 16 MB at 1024 px) exists a
 * band at a time. A multiple of the linear kernels' row blocks, so each row is computed as on
 * the whole map. */
#define CX_BAND_ROWS 512

/* CXBlock: depthwise conv, LayerNorm2d, pointwise MLP with GELU, layer scale, residual. */
static int cxblock(const sam2_net *net, const sam2_cxblock_w *b, float *x, int E, int C,
                   arena *scratch) {
    const sam2_backend *be = net->be;
    const sam2_config *c = &net->cfg;
    const int P = E * E, k = c->fuser_kernel, pad = c->fuser_padding;
    const int groups = c->fuser_dwconv ? C : 1;
    const int band = P < CX_BAND_ROWS ? P : CX_BAND_ROWS;
    arena_mark m = arena_get_mark(scratch);
    float *t = arena_floats(scratch, (size_t)P * C, 0);
    float *h = arena_floats(scratch, (size_t)band * 4 * C, 0);
    float *s = arena_floats(scratch, conv2d_scratch_floats(E, E, C, C, k, k, 1, pad, groups), 0);
    if (!t || !h || !s) return -1;
    be->conv2d(t, x, b->dwconv.w, b->dwconv.b, E, E, C, C, k, k, 1, pad, groups, s);
    be->layernorm(t, t, b->norm.w, b->norm.b, P, C, 1e-6f);
    for (int r0 = 0; r0 < P; r0 += band) {
        const int rows = P - r0 < band ? P - r0 : band;
        float *tb = t + (size_t)r0 * C; /* read by pwconv1, then overwritten by pwconv2 */
        be->linear(h, tb, b->pwconv1.w, b->pwconv1.b, rows, C, 4 * C);
        be->gelu(h, h, (size_t)rows * 4 * C);
        be->linear(tb, h, b->pwconv2.w, b->pwconv2.b, rows, 4 * C, C);
    }
    for (int p = 0; p < P; p++)
        for (int ch = 0; ch < C; ch++) {
            const float v = t[(size_t)p * C + ch];
            x[(size_t)p * C + ch] += b->gamma ? b->gamma[ch] * v : v;
        }
    arena_release(scratch, m);
    return 0;
}

/* Largest map of the mask downsampler's chain (its input included), in floats. */
static size_t mask_ds_max_map(const sam2_config *c, int layers) {
    const int ks = c->mask_ds_kernel, st = c->mask_ds_stride, pd = c->mask_ds_padding;
    size_t most = (size_t)c->image_size * c->image_size;
    int H = c->image_size, cin = 1;
    for (int i = 0; i < layers; i++) {
        const int cout = cin * st * st, OH = (H + 2 * pd - ks) / st + 1;
        if ((size_t)OH * OH * cout > most) most = (size_t)OH * OH * cout;
        H = OH;
        cin = cout;
    }
    return most;
}

/* mask_for_mem = (binarize ? mask > 0 : sigmoid(mask)) * scale + bias */
static void mask_for_mem(const sam2_config *c, const float *mask_hr, bool binarize, float *mk) {
    const int S = c->image_size;
    for (size_t i = 0; i < (size_t)S * S; i++) {
        float v = binarize ? (mask_hr[i] > 0.0f ? 1.0f : 0.0f) : 1.0f / (1.0f + expf(-mask_hr[i]));
        if (c->sigmoid_scale_for_mem_enc != 1.0f) v *= c->sigmoid_scale_for_mem_enc;
        if (c->sigmoid_bias_for_mem_enc != 0.0f) v += c->sigmoid_bias_for_mem_enc;
        mk[i] = v;
    }
}

/* MaskDownSampler: (conv k/s/p, LayerNorm2d, GELU) x n, then a 1x1 conv to embed_dim, into
 * mproj [P][d]. Only two maps of the chain are alive at a time (ping-pong buffers) and each
 * layer's im2col scratch is released after its conv: at 1024 px the chain's four maps and four
 * scratches (60 MB) would otherwise all be held until the end of the encoder. */
static int mask_downsample(const sam2_net *net, const float *mask_hr, bool binarize, float *mproj,
                           arena *scratch) {
    const sam2_backend *be = net->be;
    const sam2_config *c = &net->cfg;
    const sam2_weights *w = &net->w;
    const int ks = c->mask_ds_kernel, st = c->mask_ds_stride, pd = c->mask_ds_padding;
    const arena_mark m = arena_get_mark(scratch);
    const size_t most = mask_ds_max_map(c, w->mask_ds_layers);
    float *buf[2] = {arena_floats(scratch, most, 0), arena_floats(scratch, most, 0)};
    if (!buf[0] || !buf[1]) return -1;
    mask_for_mem(c, mask_hr, binarize, buf[0]);
    int H = c->image_size, cin = 1, rc = -1;
    for (int i = 0; i < w->mask_ds_layers; i++) {
        const int cout = cin * st * st, OH = (H + 2 * pd - ks) / st + 1;
        const float *in = buf[i & 1];
        float *o = buf[(i + 1) & 1];
        const arena_mark ms = arena_get_mark(scratch);
        float *s =
            arena_floats(scratch, conv2d_scratch_floats(H, H, cin, cout, ks, ks, st, pd, 1), 0);
        if (!s) goto done;
        be->conv2d(o, in, w->mask_ds_conv[i].w, w->mask_ds_conv[i].b, H, H, cin, cout, ks, ks, st,
                   pd, 1, s);
        arena_release(scratch, ms);
        be->layernorm(o, o, w->mask_ds_norm[i].w, w->mask_ds_norm[i].b, OH * OH, cout, 1e-6f);
        be->gelu(o, o, (size_t)OH * OH * cout);
        H = OH;
        cin = cout;
    }
    rc = -2;
    if (H != net->embed) goto done;
    be->linear(mproj, buf[w->mask_ds_layers & 1], w->mask_ds_out.w, w->mask_ds_out.b,
               net->embed * net->embed, cin, c->d_model);
    rc = 0;
done:
    arena_release(scratch, m);
    return rc;
}

int memory_encoder_forward(const sam2_net *net, const float *pix_feat, const float *mask_hr,
                           bool binarize, float object_score, float *out, arena *scratch) {
    const sam2_backend *be = net->be;
    const sam2_config *c = &net->cfg;
    const sam2_weights *w = &net->w;
    const int E = net->embed, d = c->d_model, P = E * E;
    arena_mark m = arena_get_mark(scratch);

    /* the two results come first, so that the downsampler's temporaries above them go */
    float *x = arena_floats(scratch, (size_t)P * d, 0);
    float *mproj = arena_floats(scratch, (size_t)P * d, 0);
    if (!x || !mproj) return -1;
    const int ds = mask_downsample(net, mask_hr, binarize, mproj, scratch);
    if (ds) return ds;

    /* x = pix_feat_proj(pix_feat) + mask features, then the fuser and the output projection */
    be->linear(x, pix_feat, w->pix_feat_proj.w, w->pix_feat_proj.b, P, d, d);
    be->add(x, x, mproj, (size_t)P * d);
    if (c->fuser_input_projection) {
        be->linear(mproj, x, w->fuser_proj.w, w->fuser_proj.b, P, d, d);
        memcpy(x, mproj, sizeof(float) * (size_t)P * d);
    }
    for (int i = 0; i < c->fuser_layers; i++)
        if (cxblock(net, &w->fuser[i], x, E, d, scratch)) return -1;
    if (c->mem_dim != d)
        be->linear(out, x, w->mem_out_proj.w, w->mem_out_proj.b, P, d, c->mem_dim);
    else
        memcpy(out, x, sizeof(float) * (size_t)P * d);

    /* A frame where the object is absent gets the learned no-object embedding everywhere. */
    if (w->no_obj_embed_spatial && !(object_score > 0.0f))
        for (int p = 0; p < P; p++)
            for (int ch = 0; ch < c->mem_dim; ch++)
                out[(size_t)p * c->mem_dim + ch] += w->no_obj_embed_spatial[ch];
    arena_release(scratch, m);
    return 0;
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
