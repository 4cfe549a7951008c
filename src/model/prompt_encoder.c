/* SAM's prompt encoder on the compute seam: the forward passes below only call backend ops
 * (core/device.h); the host normalises the prompt (pixel centres, division by the image size)
 * and reads nothing back but the embeddings. Comments name the official Python
 * (sam2/modeling/sam/prompt_encoder.py). */
#include "model/prompt_encoder.h"

#include <stdlib.h>
#include <string.h>

#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})

int prompt_encoder_load(sam2_net *net) {
    sam2_device *d = net->dev;
    const sam2_weights *w = &net->w;
    prompt_encoder_dev *p = &net->pe;
    dev_arena *a = &net->dev_weights;
    const int64_t dm = net->cfg.d_model, mc = net->cfg.mask_in_chans;
    p->gaussian = dev_weight(d, a, w->pe_gaussian, 2, SHAPE(2, dm / 2));
    for (int i = 0; i < 4; i++)
        p->point_embed[i] = dev_weight(d, a, w->point_embeddings[i], 1, SHAPE(dm));
    p->not_a_point = dev_weight(d, a, w->not_a_point_embed, 1, SHAPE(dm));
    const int64_t ic[3] = {1, mc / 4, mc}, oc[3] = {mc / 4, mc, dm}, k[3] = {2, 2, 1};
    for (int i = 0; i < 3; i++) {
        p->conv_w[i] = dev_weight(d, a, w->mask_down_conv[i].w, 4, SHAPE(oc[i], ic[i], k[i], k[i]));
        p->conv_b[i] = dev_weight(d, a, w->mask_down_conv[i].b, 1, SHAPE(oc[i]));
    }
    for (int i = 0; i < 2; i++) {
        p->norm_w[i] = dev_weight(d, a, w->mask_down_norm[i].w, 1, SHAPE(oc[i]));
        p->norm_b[i] = dev_weight(d, a, w->mask_down_norm[i].b, 1, SHAPE(oc[i]));
    }
    /* A weight that could not be placed has no buffer. */
    const dev_tensor *all = &p->gaussian;
    for (size_t i = 0; i < sizeof *p / sizeof *all; i++)
        if (!all[i].buf) return -1;
    return 0;
}

/* PromptEncoder._embed_points (pad=True): xy[2n] in model pixels, labels[n]. */
int prompt_encode_points(const sam2_net *net, const float *xy, const int *labels, int n,
                         float *out) {
    const prompt_encoder_dev *p = &net->pe;
    const int64_t N = n + 1, dm = net->cfg.d_model;
    const float S = (float)net->cfg.image_size;
    /* Host: points = points + 0.5 (pixel centres), padding point (0, 0) labelled -1 last, and
     * forward_with_coords's division by the input size. */
    float *coords = calloc((size_t)N * 2, sizeof(float));
    if (!coords) return -1;
    for (int i = 0; i < n; i++) {
        coords[2 * i] = (xy[2 * i] + 0.5f) / S;
        coords[2 * i + 1] = (xy[2 * i + 1] + 0.5f) / S;
    }
    dev_arena arena;
    dev_arena_init(&arena, net->dev);
    dev_exec x;
    dev_exec_init(&x, &arena);
    dev_tensor c = dev_from_host(&x, coords, SAM2_F32, 2, SHAPE(N, 2), 1);
    dev_tensor emb = dev_from_host(&x, out, SAM2_F32, 2, SHAPE(N, dm), 1);
    /* point_embedding = self.pe_layer.forward_with_coords(points, self.input_image_size) */
    dev_fourier_pe(&x, emb, c, p->gaussian);
    for (int i = 0; i < N; i++) {
        const int label = i < n ? labels[i] : -1;
        dev_tensor row = dev_rows(emb, i, 1);
        /* point_embedding[labels == -1] = 0.0; ... += self.not_a_point_embed.weight */
        if (label == -1) dev_copy(&x, dev_reshape(row, 1, SHAPE(dm)), p->not_a_point);
        /* point_embedding[labels == k] += self.point_embeddings[k].weight, k = 0..3 */
        else if (label >= 0 && label <= 3)
            dev_add(&x, row, row, p->point_embed[label]);
    }
    dev_download(&x, out, &emb, (size_t)N * dm * sizeof(float));
    const int rc = x.failed ? -1 : 0;
    dev_arena_free(&arena);
    free(coords);
    return rc;
}

/* PromptEncoder._embed_masks: self.mask_downscaling(masks), mask [4E][4E] -> out [E][E][d]. */
int prompt_encode_mask(const sam2_net *net, const float *mask, float *out) {
    const prompt_encoder_dev *p = &net->pe;
    const int64_t E = net->embed, M = 4 * E, mc = net->cfg.mask_in_chans, dm = net->cfg.d_model;
    dev_arena arena;
    dev_arena_init(&arena, net->dev);
    dev_exec x;
    dev_exec_init(&x, &arena);
    dev_tensor m = dev_from_host(&x, mask, SAM2_F32, 3, SHAPE(M, M, 1), 1);
    dev_tensor a = dev_new(&x, SAM2_F32, 3, SHAPE(M / 2, M / 2, mc / 4));
    dev_tensor b = dev_new(&x, SAM2_F32, 3, SHAPE(E, E, mc));
    dev_tensor o = dev_from_host(&x, out, SAM2_F32, 3, SHAPE(E, E, dm), 1);
    /* mask_downscaling.0: Conv2d(1, mask_in_chans // 4, kernel_size=2, stride=2) */
    dev_conv2d(&x, a, m, p->conv_w[0], p->conv_b[0], 2, 0, 1);
    /* .1: LayerNorm2d(mask_in_chans // 4), .2: activation (GELU) */
    dev_layernorm(&x, a, a, p->norm_w[0], p->norm_b[0], 1e-6f);
    dev_gelu(&x, a, a);
    /* .3: Conv2d(mask_in_chans // 4, mask_in_chans, kernel_size=2, stride=2) */
    dev_conv2d(&x, b, a, p->conv_w[1], p->conv_b[1], 2, 0, 1);
    /* .4: LayerNorm2d(mask_in_chans), .5: activation (GELU) */
    dev_layernorm(&x, b, b, p->norm_w[1], p->norm_b[1], 1e-6f);
    dev_gelu(&x, b, b);
    /* .6: Conv2d(mask_in_chans, embed_dim, kernel_size=1): a Linear over channels */
    dev_linear(&x, o, b, dev_reshape(p->conv_w[2], 2, SHAPE(dm, mc)), p->conv_b[2]);
    dev_download(&x, out, &o, (size_t)E * E * dm * sizeof(float));
    const int rc = x.failed ? -1 : 0;
    dev_arena_free(&arena);
    return rc;
}
