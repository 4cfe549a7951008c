#include "model/image_encoder.h"

#include "model/hiera.h"
#include "model/position_encoding.h"
#include "model/repvit.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Tokens per band of the FPN (rows x width), bounding its temporaries. */
#define FPN_BAND_TOKENS 4096

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
                          arena *scratch, const sam2_tap *tap, const cancel_check *cancel) {
    const sam2_config *c = &net->cfg;
    const sam2_backend *be = net->be;
    const int S = c->image_size, F = net->feat0, d = c->d_model;

    /* The reference's input tensor [1,3,S,S]; our convolutions read channels-last. */
    {
        const int64_t shape[4] = {1, 3, S, S};
        tap_emit(tap, "input_image", img_chw, TAP_F32, 4, shape, TAP_AS_SHAPED);
    }
    float *stage[4];
    const bool repvit = c->trunk == SAM2_TRUNK_REPVIT;
    for (int s = 0; s < 4; s++) {
        int sz = F >> s;
        stage[s] = arena_floats(scratch, (size_t)sz * sz * c->backbone_channels[3 - s], 0);
        if (!stage[s]) return -1;
        /* RepViT: the stem runs into stage 0 before the other stages' buffers exist */
        if (s == 0 && repvit && repvit_stem(net, img_chw, stage[0], scratch, tap)) return -1;
    }
    /* Temporaries from here on; out's buffers are the caller's. */
    const arena_mark start = arena_get_mark(scratch);
    int rc = repvit ? repvit_forward(net, stage, scratch, tap, cancel)
                    : hiera_forward(net, img_chw, stage, scratch, tap, cancel);
    if (rc != 0) goto done;
    rc = -1;

    /* FPN neck, top-down from the coarsest level. xs[i] is trunk stage i; neck.convs[n - i]
     * projects it to d channels; levels listed in fpn_top_down_levels add the 2x-upsampled
     * coarser result. Each level is computed in bands of rows. With high-resolution features
     * the finest level (d channels at stride 4: 64 MB at 1024x1024) is only ever needed band by
     * band, projected straight to conv_s0's d/8 channels; it exists whole only for a tap. So
     * does level 1 (16 MB, into conv_s1) unless level 0 adds it top-down. */
    const bool banded0 = c->use_high_res_features_in_sam;
    bool top_down0 = false;
    for (int t = 0; t < c->num_top_down; t++)
        if (c->fpn_top_down_levels[t] == 0) top_down0 = true;
    const bool banded1 = banded0 && !top_down0;
    float *lvl[4];
    for (int i = 0; i < 4; i++) {
        int sz = F >> i;
        lvl[i] = NULL;
        if (((i == 0 && banded0) || (i == 1 && banded1)) && !tap_wants_data(tap)) continue;
        lvl[i] = arena_floats(scratch, (size_t)sz * sz * d, 0);
        if (!lvl[i]) goto done;
    }
    int band = (FPN_BAND_TOKENS / F) & ~1;
    if (band < 2) band = 2;
    /* the band of the finest level, and the upsampled coarser level for top-down bands */
    float *band_buf = banded0 ? arena_floats(scratch, (size_t)band * F * d, 0) : NULL;
    float *up = c->num_top_down > 0 ? arena_floats(scratch, (size_t)band * F * d, 0) : NULL;
    if ((banded0 && !band_buf) || (c->num_top_down > 0 && !up)) goto done;
    const float *prev = NULL;
    for (int i = 3; i >= 0; i--) {
        const int sz = F >> i, cin = c->backbone_channels[3 - i];
        bool top_down = false;
        for (int t = 0; t < c->num_top_down; t++)
            if (c->fpn_top_down_levels[t] == i) top_down = true;
        for (int y0 = 0; y0 < sz; y0 += band) {
            const int rows = y0 + band <= sz ? band : sz - y0;
            const size_t n = (size_t)rows * sz * d;
            const bool banded = (i == 0 && banded0) || (i == 1 && banded1);
            float *dst = banded ? band_buf : lvl[i] + (size_t)y0 * sz * d;
            be->linear(dst, stage[i] + (size_t)y0 * sz * cin, net->w.neck_convs[3 - i].w,
                       net->w.neck_convs[3 - i].b, rows * sz, cin, d);
            if (top_down && prev) {
                /* band rows are even, so they start on a row of the coarser level */
                be->upsample_nearest2x(up, prev + (size_t)(y0 / 2) * (sz / 2) * d, rows / 2, sz / 2,
                                       d);
                be->add(dst, dst, up, n);
                if (c->fpn_fuse_avg)
                    for (size_t k = 0; k < n; k++) dst[k] *= 0.5f;
            }
            if (banded) {
                const int co = i == 0 ? d / 8 : d / 4;
                const sam2_lin *proj = i == 0 ? &net->w.conv_s0 : &net->w.conv_s1;
                if (lvl[i]) memcpy(lvl[i] + (size_t)y0 * sz * d, dst, sizeof(float) * n);
                be->linear(out->fpn[i] + (size_t)y0 * sz * co, dst, proj->w, proj->b, rows * sz, d,
                           co);
            }
        }
        prev = lvl[i];
        tap_level(tap, "neck_fpn_raw_l%d", i, lvl[i], sz, d);
        if (tap_wants_data(tap)) {
            /* only level 2's encoding is kept by the network; the rest are made for the tap */
            const float *pos = net->neck_pos[i];
            float *tmp = NULL;
            if (!pos) {
                tmp = arena_floats(scratch, (size_t)sz * sz * d, 0);
                if (!tmp) goto done;
                sine_pe_hwc(tmp, sz, sz, d, c->neck_pos_temperature);
                pos = tmp;
            }
            tap_level(tap, "vision_pos_enc_l%d", i, pos, sz, d);
        } else {
            tap_level(tap, "vision_pos_enc_l%d", i, net->neck_pos[i], sz, d);
        }
    }

    /* scalp = 1 drops level 3; SAM2Base.forward_image projects levels 0 and 1. */
    if (c->use_high_res_features_in_sam) {
        if (!banded1)
            be->linear(out->fpn[1], lvl[1], net->w.conv_s1.w, net->w.conv_s1.b, (F / 2) * (F / 2),
                       d, d / 4);
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
    rc = 0;
done:
    arena_release(scratch, start);
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
