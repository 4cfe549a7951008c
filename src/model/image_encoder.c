#include "model/image_encoder.h"

#include "model/hiera.h"

#include <stdio.h>
#include <string.h>

size_t image_features_level_floats(const sam2_net *net, int level) {
    const sam2_config *c = &net->cfg;
    const size_t s = (size_t)(net->feat0 >> level);
    int ch = c->d_model;
    if (c->use_high_res_features_in_sam && level == 0) ch = c->d_model / 8;
    if (c->use_high_res_features_in_sam && level == 1) ch = c->d_model / 4;
    return s * s * ch;
}

static void tap_level(const sam2_tap *tap, const char *fmt, int level, const float *x, int s,
                      int C) {
    if (!tap) return;
    char name[64];
    snprintf(name, sizeof name, fmt, level);
    tap_hwc(tap, name, x, s, s, C);
}

int image_encoder_forward(const sam2_net *net, const float *img_chw, image_features *out,
                          arena *scratch, const sam2_tap *tap) {
    const sam2_config *c = &net->cfg;
    const sam2_backend *be = net->be;
    const int S = c->image_size, F = net->feat0, d = c->d_model;

    /* The reference's input tensor [1,3,S,S]; our convolutions read channels-last. */
    {
        const int64_t shape[4] = {1, 3, S, S};
        tap_emit(tap, "input_image", img_chw, TAP_F32, 4, shape, TAP_AS_SHAPED);
    }
    float *img = arena_floats(scratch, (size_t)S * S * 3, 0);
    float *stage[4];
    for (int s = 0; s < 4; s++) {
        int sz = F >> s;
        stage[s] = arena_floats(scratch, (size_t)sz * sz * c->backbone_channels[3 - s], 0);
        if (!stage[s]) return -1;
    }
    if (!img) return -1;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            for (int ch = 0; ch < 3; ch++)
                img[((size_t)y * S + x) * 3 + ch] = img_chw[((size_t)ch * S + y) * S + x];

    int rc = hiera_forward(net, img, stage, scratch, tap);
    if (rc != 0) return rc;

    /* FPN neck, top-down from the coarsest level. xs[i] is trunk stage i; neck.convs[n - i]
     * projects it to d channels; levels listed in fpn_top_down_levels add the 2x-upsampled
     * coarser result. */
    float *lvl[4];
    for (int i = 0; i < 4; i++) {
        int sz = F >> i;
        lvl[i] = arena_floats(scratch, (size_t)sz * sz * d, 0);
        if (!lvl[i]) return -1;
    }
    float *up = arena_floats(scratch, (size_t)F * F * d, 0);
    if (!up) return -1;
    const float *prev = NULL;
    for (int i = 3; i >= 0; i--) {
        const int sz = F >> i, cin = c->backbone_channels[3 - i];
        be->linear(lvl[i], stage[i], net->w.neck_convs[3 - i].w, net->w.neck_convs[3 - i].b,
                   sz * sz, cin, d);
        bool top_down = false;
        for (int t = 0; t < c->num_top_down; t++)
            if (c->fpn_top_down_levels[t] == i) top_down = true;
        if (top_down && prev) {
            be->upsample_nearest2x(up, prev, sz / 2, sz / 2, d);
            be->add(lvl[i], lvl[i], up, (size_t)sz * sz * d);
            if (c->fpn_fuse_avg)
                for (size_t k = 0; k < (size_t)sz * sz * d; k++) lvl[i][k] *= 0.5f;
        }
        prev = lvl[i];
        tap_level(tap, "neck_fpn_raw_l%d", i, lvl[i], sz, d);
        tap_level(tap, "vision_pos_enc_l%d", i, net->neck_pos[i], sz, d);
    }

    /* scalp = 1 drops level 3; SAM2Base.forward_image projects levels 0 and 1. */
    if (c->use_high_res_features_in_sam) {
        be->linear(out->fpn[0], lvl[0], net->w.conv_s0.w, net->w.conv_s0.b, F * F, d, d / 8);
        be->linear(out->fpn[1], lvl[1], net->w.conv_s1.w, net->w.conv_s1.b, (F / 2) * (F / 2), d,
                   d / 4);
    } else {
        memcpy(out->fpn[0], lvl[0], sizeof(float) * (size_t)F * F * d);
        memcpy(out->fpn[1], lvl[1], sizeof(float) * (size_t)(F / 2) * (F / 2) * d);
    }
    memcpy(out->fpn[2], lvl[2], sizeof(float) * (size_t)(F / 4) * (F / 4) * d);
    const int c0 = c->use_high_res_features_in_sam ? d / 8 : d;
    const int c1 = c->use_high_res_features_in_sam ? d / 4 : d;
    tap_level(tap, "backbone_fpn_l%d", 0, out->fpn[0], F, c0);
    tap_level(tap, "backbone_fpn_l%d", 1, out->fpn[1], F / 2, c1);
    tap_level(tap, "backbone_fpn_l%d", 2, out->fpn[2], F / 4, d);
    tap_hwc(tap, "vision_features", out->fpn[2], F / 4, F / 4, d);
    return 0;
}

double image_encoder_flops(const sam2_net *net) {
    const sam2_config *c = &net->cfg;
    const int F = net->feat0, d = c->d_model;
    double f = hiera_flops(net);
    for (int i = 0; i < 4; i++) {
        double sz = (double)(F >> i);
        f += 2.0 * sz * sz * c->backbone_channels[3 - i] * d;
    }
    if (c->use_high_res_features_in_sam)
        f += 2.0 * F * F * d * (d / 8) + 2.0 * (F / 2) * (F / 2) * d * (d / 4);
    return f;
}
