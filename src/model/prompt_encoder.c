#include "model/prompt_encoder.h"

#include "model/position_encoding.h"

#include <string.h>

void prompt_encode_points(const sam2_net *net, const float *xy, const int *labels, int n,
                          float *out) {
    const int d = net->cfg.d_model;
    const float S = (float)net->cfg.image_size;
    const sam2_weights *w = &net->w;
    for (int i = 0; i <= n; i++) {
        float *o = out + (size_t)i * d;
        /* The padding point (0, 0) with label -1 comes last; +0.5 moves to pixel centres. */
        const float x = i < n ? xy[2 * i] : 0.0f, y = i < n ? xy[2 * i + 1] : 0.0f;
        const int label = i < n ? labels[i] : -1;
        if (label == -1) {
            memcpy(o, w->not_a_point_embed, sizeof(float) * d);
            continue;
        }
        random_pe_point(o, (x + 0.5f) / S, (y + 0.5f) / S, w->pe_gaussian, d);
        if (label >= 0 && label <= 3)
            for (int c = 0; c < d; c++) o[c] += w->point_embeddings[label][c];
    }
}

int prompt_encode_mask(const sam2_net *net, const float *mask, float *out, arena *scratch) {
    const sam2_backend *be = net->be;
    const sam2_weights *w = &net->w;
    const int E = net->embed, M = 4 * E, mc = net->cfg.mask_in_chans, d = net->cfg.d_model;
    arena_mark m = arena_get_mark(scratch);
    /* conv 2x2/2 (1 -> mc/4), LayerNorm2d, GELU, conv 2x2/2 (-> mc), LayerNorm2d, GELU, 1x1. */
    float *a = arena_floats(scratch, (size_t)(M / 2) * (M / 2) * (mc / 4), 0);
    float *b = arena_floats(scratch, (size_t)E * E * mc, 0);
    float *s = arena_floats(scratch,
                            conv2d_scratch_floats(M, M, 1, mc / 4, 2, 2, 2, 0, 1) +
                                conv2d_scratch_floats(M / 2, M / 2, mc / 4, mc, 2, 2, 2, 0, 1),
                            0);
    if (!a || !b || !s) return -1;
    be->conv2d(a, mask, w->mask_down_conv[0].w, w->mask_down_conv[0].b, M, M, 1, mc / 4, 2, 2, 2,
               0, 1, s);
    be->layernorm(a, a, w->mask_down_norm[0].w, w->mask_down_norm[0].b, (M / 2) * (M / 2), mc / 4,
                  1e-6f);
    be->gelu(a, a, (size_t)(M / 2) * (M / 2) * (mc / 4));
    be->conv2d(b, a, w->mask_down_conv[1].w, w->mask_down_conv[1].b, M / 2, M / 2, mc / 4, mc, 2,
               2, 2, 0, 1, s);
    be->layernorm(b, b, w->mask_down_norm[1].w, w->mask_down_norm[1].b, E * E, mc, 1e-6f);
    be->gelu(b, b, (size_t)E * E * mc);
    be->linear(out, b, w->mask_down_conv[2].w, w->mask_down_conv[2].b, E * E, mc, d);
    arena_release(scratch, m);
    return 0;
}
