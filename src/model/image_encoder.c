#include "model/image_encoder.h"

#include "model/hiera.h"
#include "model/repvit.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Tokens per band of the FPN (rows x width), bounding its temporaries. */
#define FPN_BAND_TOKENS 4096
/* Floats of the ops' scratch for tensor records and alignment (a few hundred records). */
#define OP_SCRATCH_SLACK ((size_t)1 << 18)

size_t image_features_level_floats(const sam2_net *net, int level) {
    const sam2_config *c = &net->cfg;
    const size_t s = (size_t)(net->feat0 >> level);
    int ch = c->d_model;
    if (c->use_high_res_features_in_sam && level == 0) ch = c->d_model / 8;
    if (c->use_high_res_features_in_sam && level == 1) ch = c->d_model / 4;
    return s * s * ch;
}

#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})

static dev_tensor place(sam2_net *net, const float *host, int ndim, const int64_t *shape) {
    return host ? dev_weight(net->dev, &net->dev_weights, host, ndim, shape) : dev_none();
}

int image_encoder_load(sam2_net *net) {
    const sam2_config *c = &net->cfg;
    const sam2_weights *w = &net->w;
    image_encoder_dev *ie = &net->ie;
    const int64_t d = c->d_model;
    if (c->trunk == SAM2_TRUNK_HIERA && hiera_load(net) != 0) return -1;
    /* neck.convs.i.conv are 1x1 convolutions: Linear weights [d][C_i] */
    for (int i = 0; i < 4; i++) {
        const int64_t cin = c->backbone_channels[i];
        ie->neck_w[i] = place(net, w->neck_convs[i].w, 2, SHAPE(d, cin));
        ie->neck_b[i] = place(net, w->neck_convs[i].b, 1, SHAPE(d));
        if (!ie->neck_w[i].buf) return -1;
    }
    if (c->use_high_res_features_in_sam) {
        ie->conv_s0_w = place(net, w->conv_s0.w, 2, SHAPE(d / 8, d));
        ie->conv_s0_b = place(net, w->conv_s0.b, 1, SHAPE(d / 8));
        ie->conv_s1_w = place(net, w->conv_s1.w, 2, SHAPE(d / 4, d));
        ie->conv_s1_b = place(net, w->conv_s1.b, 1, SHAPE(d / 4));
        if (!ie->conv_s0_w.buf || !ie->conv_s1_w.buf) return -1;
    }
    return 0;
}

static void tap_level(enc_ctx *e, const sam2_tap *tap, const char *fmt, int level, dev_tensor t) {
    if (!tap) return;
    char name[64];
    snprintf(name, sizeof name, fmt, level);
    enc_tap(e, tap, name, t);
}

/* A level's shape without memory: what a names-only tap is told of a level never built. */
static dev_tensor shape_only(int64_t s, int64_t C) {
    return dev_tensor_make(NULL, 0, SAM2_F32, 3, SHAPE(s, s, C));
}

/* FpnNeck.forward, top-down from the coarsest level: xs[i] is trunk stage i; self.convs[n - i]
 * projects it to d channels; levels in fpn_top_down_levels add the 2x-upsampled coarser result.
 * Each level is computed in bands of rows. With high-resolution features the finest level (d
 * channels at stride 4: 64 MB at 1024x1024) is only ever needed band by band, projected straight
 * to conv_s0's d/8 channels (into fpn0); it exists whole only for a tap. So does level 1 (16 MB,
 * into conv_s1's d/4 channels in fpn1) unless level 0 adds it top-down. lvl[] receive the
 * levels; lvl[1] (when not banded) and lvl[2] are given by the caller. */
static void fpn_neck(const sam2_net *net, enc_ctx *e, const dev_tensor stage[4], dev_tensor lvl[4],
                     dev_tensor fpn0, dev_tensor fpn1, const sam2_tap *tap) {
    const sam2_config *c = &net->cfg;
    const image_encoder_dev *ie = &net->ie;
    dev_exec *X = &e->x;
    const int64_t F = net->feat0, d = c->d_model;
    const bool banded0 = c->use_high_res_features_in_sam;
    if (!banded0)
        lvl[0] = fpn0;
    else if (tap_wants_data(tap))
        lvl[0] = enc_tensor(e, 3, SHAPE(F, F, d));
    else
        lvl[0] = shape_only(F, d);
    bool top_down0 = false;
    for (int t = 0; t < c->num_top_down; t++)
        if (c->fpn_top_down_levels[t] == 0) top_down0 = true;
    const bool banded1 = banded0 && !top_down0;
    if (banded1)
        lvl[1] =
            tap_wants_data(tap) ? enc_tensor(e, 3, SHAPE(F / 2, F / 2, d)) : shape_only(F / 2, d);
    lvl[3] = enc_tensor(e, 3, SHAPE(F / 8, F / 8, d));
    int64_t band = (FPN_BAND_TOKENS / F) & ~1;
    if (band < 2) band = 2;
    /* the band of a banded level, and the upsampled coarser level for top-down bands */
    dev_tensor band_buf = banded0 ? enc_tensor(e, 1, SHAPE(band * F * d)) : dev_none();
    dev_tensor up = c->num_top_down > 0 ? enc_tensor(e, 1, SHAPE(band * F * d)) : dev_none();
    for (int i = 3; i >= 0; i--) {
        const int64_t sz = F >> i;
        bool top_down = false;
        for (int t = 0; t < c->num_top_down; t++)
            if (c->fpn_top_down_levels[t] == i) top_down = true;
        const bool banded = (i == 0 && banded0) || (i == 1 && banded1);
        for (int64_t y0 = 0; y0 < sz; y0 += band) {
            const int64_t rows = y0 + band <= sz ? band : sz - y0;
            dev_tensor dst =
                banded ? dev_reshape(dev_rows(band_buf, 0, rows * sz * d), 3, SHAPE(rows, sz, d))
                       : dev_rows(lvl[i], y0, rows);
            /* lateral_features = self.convs[n - i](x) */
            dev_linear(X, dst, dev_rows(stage[i], y0, rows), ie->neck_w[3 - i], ie->neck_b[3 - i]);
            if (top_down && i < 3) {
                /* top_down_features = F.interpolate(prev_features, scale_factor=2.0,
                 * mode="nearest"); band rows are even, so they start on a coarser row */
                dev_tensor u = dev_reshape(up, 3, SHAPE(rows, sz, d));
                dev_upsample2x(X, u, dev_rows(lvl[i + 1], y0 / 2, rows / 2));
                /* prev_features = lateral_features + top_down_features */
                dev_add(X, dst, dst, u);
                /* if self.fuse_type == "avg": prev_features /= 2 */
                if (c->fpn_fuse_avg) dev_scale(X, dst, dst, 0.5f, 0.0f);
            }
            if (banded) {
                if (lvl[i].buf) dev_copy(X, dev_rows(lvl[i], y0, rows), dst);
                /* SAM2Base.forward_image: self.sam_mask_decoder.conv_s0(backbone_fpn[0]) and
                 * conv_s1(backbone_fpn[1]) */
                if (i == 0)
                    dev_linear(X, dev_rows(fpn0, y0, rows), dst, ie->conv_s0_w, ie->conv_s0_b);
                else
                    dev_linear(X, dev_rows(fpn1, y0, rows), dst, ie->conv_s1_w, ie->conv_s1_b);
            }
        }
        tap_level(e, tap, "neck_fpn_raw_l%d", i, lvl[i]);
        if (tap_wants_data(tap)) {
            /* pos[i] = self.position_encoding(x_out): made here for the tap only (memory
             * attention reads the host copy of level 2's that the net keeps) */
            const enc_mark m = enc_get_mark(e);
            dev_tensor pos = enc_tensor(e, 3, SHAPE(sz, sz, d));
            dev_sine_pe(X, pos, c->neck_pos_temperature);
            tap_level(e, tap, "vision_pos_enc_l%d", i, pos);
            enc_release(e, m);
        } else {
            tap_level(e, tap, "vision_pos_enc_l%d", i, shape_only(sz, d));
        }
    }
}

int image_encoder_forward(const sam2_net *net, const float *img_chw, image_features *out,
                          arena *scratch, const sam2_tap *tap, const cancel_check *cancel) {
    const sam2_config *c = &net->cfg;
    const int64_t S = c->image_size, F = net->feat0, d = c->d_model;

    /* The reference's input tensor [1,3,S,S]; our convolutions read channels-last. */
    {
        const int64_t shape[4] = {1, 3, S, S};
        tap_emit(tap, "input_image", img_chw, TAP_F32, 4, shape, TAP_AS_SHAPED);
    }
    dev_arena da;
    dev_arena_init(&da, net->dev);
    enc_ctx e = {.host = scratch};
    dev_exec_init(&e.x, &da);
    /* The stage maps stay in the caller's arena (as its other buffers do) until its next reset:
     * a mark taken on an empty arena would free every chunk at the end and the next pass would
     * fault its pages in again, where the reset keeps one block of the high-water size. */
    const bool repvit = c->trunk == SAM2_TRUNK_REPVIT;
    enc_adopt(&e, OP_SCRATCH_SLACK); /* the neck's tensor records */
    enc_mark start = enc_get_mark(&e);
    const bool high_res = c->use_high_res_features_in_sam;
    const int64_t c0 = high_res ? d / 8 : d, c1 = high_res ? d / 4 : d;
    int rc = -1;
    dev_tensor stage[4];
    if (repvit) {
        /* RepViT is not on the seam: it fills host stage maps, handed over at its boundary */
        float *host[4];
        for (int s = 0; s < 4; s++) {
            int sz = F >> s;
            host[s] = arena_floats(scratch, (size_t)sz * sz * c->backbone_channels[3 - s], 0);
            if (!host[s]) goto done;
            /* RepViT: the stem runs into stage 0 before the other stages' buffers exist */
            if (s == 0 && repvit_stem(net, img_chw, host[0], scratch, tap)) goto done;
        }
        start = enc_get_mark(&e);
        rc = repvit_forward(net, host, scratch, tap, cancel);
        for (int s = 0; s < 4 && rc == 0; s++)
            stage[s] = dev_from_host(&e.x, host[s], SAM2_F32, 3,
                                     SHAPE(F >> s, F >> s, c->backbone_channels[3 - s]), 1);
    } else {
        for (int s = 0; s < 4; s++)
            stage[s] = enc_tensor(&e, 3, SHAPE(F >> s, F >> s, c->backbone_channels[3 - s]));
        start = enc_get_mark(&e);
        dev_tensor img = dev_from_host(&e.x, img_chw, SAM2_F32, 3, SHAPE(3, S, S), 1);
        rc = hiera_forward(net, &e, img, stage, tap, cancel);
    }
    if (rc != 0) goto done;
    rc = -1;

    /* backbone_fpn after scalp = 1 (level 3 dropped); levels 1 and 2 are written where the
     * caller wants them, level 0 too without high-resolution features. */
    dev_tensor fpn[3] = {
        enc_output(&e, out->fpn[0], 3, SHAPE(F, F, c0)),
        enc_output(&e, out->fpn[1], 3, SHAPE(F / 2, F / 2, c1)),
        enc_output(&e, out->fpn[2], 3, SHAPE(F / 4, F / 4, d)),
    };
    dev_tensor lvl[4];
    /* level 1 is banded into conv_s1 inside the neck unless level 0 adds it top-down */
    bool top_down0 = false;
    for (int t = 0; t < c->num_top_down; t++)
        if (c->fpn_top_down_levels[t] == 0) top_down0 = true;
    const bool whole1 = high_res && top_down0;
    lvl[1] = whole1 ? enc_tensor(&e, 3, SHAPE(F / 2, F / 2, d)) : fpn[1];
    lvl[2] = fpn[2];
    fpn_neck(net, &e, stage, lvl, fpn[0], fpn[1], tap);
    /* SAM2Base.forward_image: backbone_fpn[1] = self.sam_mask_decoder.conv_s1(backbone_fpn[1]) */
    if (whole1) dev_linear(&e.x, fpn[1], lvl[1], net->ie.conv_s1_w, net->ie.conv_s1_b);
    for (int k = 0; k < 3; k++)
        dev_download(&e.x, out->fpn[k], &fpn[k], (size_t)dev_tensor_numel(&fpn[k]) * sizeof(float));
    tap_level(&e, tap, "backbone_fpn_l%d", 0, fpn[0]);
    tap_level(&e, tap, "backbone_fpn_l%d", 1, fpn[1]);
    tap_level(&e, tap, "backbone_fpn_l%d", 2, fpn[2]);
    enc_tap(&e, tap, "vision_features", fpn[2]);
    rc = e.x.failed ? -1 : 0;
done:
    enc_release(&e, start);
    dev_arena_free(&da);
    return rc;
}

double image_encoder_flops(const sam2_net *net) {
    const sam2_config *c = &net->cfg;
    const int F = net->feat0, d = c->d_model;
    double f = c->trunk == SAM2_TRUNK_REPVIT ? repvit_flops(net) : hiera_flops(net);
    for (int i = 0; i < 4; i++) {
        double sz = (double)(F >> i);
        f += 2.0 * sz * sz * c->backbone_channels[3 - i] * d;
    }
    if (c->use_high_res_features_in_sam)
        f += 2.0 * F * F * d * (d / 8) + 2.0 * (F / 2) * (F / 2) * d * (d / 4);
    return f;
}
