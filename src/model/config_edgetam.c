/* EdgeTAM's configuration: the built-in preset (the values of the official configs/edgetam.yaml
 * plus the build_sam inference overrides), timm's RepViT variants, and the checks of the
 * EdgeTAM-only fields. */
#include "model/config.h"

#include <stdio.h>
#include <string.h>

/* timm models/repvit.py: the registered variants (embed_dim, depth, legacy). */
typedef struct repvit_variant {
    const char *name;
    int dims[4], depths[4];
    bool legacy;
} repvit_variant;

static const repvit_variant REPVIT[] = {
    {"repvit_m1", {48, 96, 192, 384}, {2, 2, 14, 2}, true},
    {"repvit_m2", {64, 128, 256, 512}, {2, 2, 12, 2}, true},
    {"repvit_m3", {64, 128, 256, 512}, {4, 4, 18, 2}, true},
    {"repvit_m0_9", {48, 96, 192, 384}, {2, 2, 14, 2}, false},
    {"repvit_m1_0", {56, 112, 224, 448}, {2, 2, 14, 2}, false},
    {"repvit_m1_1", {64, 128, 256, 512}, {2, 2, 12, 2}, false},
    {"repvit_m1_5", {64, 128, 256, 512}, {4, 4, 24, 4}, false},
    {"repvit_m2_3", {80, 160, 320, 640}, {6, 6, 34, 2}, false},
};

int sam2_config_repvit_variant(sam2_repvit_config *out, const char *timm_name) {
    /* "repvit_m1.dist_in1k": the tag after the dot names pretrained weights, not a shape */
    const size_t len = strcspn(timm_name, ".");
    for (size_t i = 0; i < sizeof REPVIT / sizeof REPVIT[0]; i++) {
        if (strlen(REPVIT[i].name) != len || strncmp(REPVIT[i].name, timm_name, len) != 0) continue;
        memset(out, 0, sizeof *out);
        snprintf(out->variant, sizeof out->variant, "%s", REPVIT[i].name);
        memcpy(out->dims, REPVIT[i].dims, sizeof out->dims);
        memcpy(out->depths, REPVIT[i].depths, sizeof out->depths);
        out->legacy = REPVIT[i].legacy;
        return 0;
    }
    return -1;
}

void sam2_config_edgetam(sam2_config *c) {
    snprintf(c->name, sizeof c->name, "edgetam");
    c->trunk = SAM2_TRUNK_REPVIT;
    sam2_config_repvit_variant(&c->repvit, "repvit_m1.dist_in1k");
    for (int s = 0; s < 4; s++) c->backbone_channels[s] = c->repvit.dims[3 - s];
    c->mem_attn_layers = 2;
    c->rope_feat_sizes[0] = c->rope_feat_sizes[1] = 32; /* recomputed to 64x64 on first use */
    c->rope_q_sizes[0] = c->rope_q_sizes[1] = 64;
    c->rope_k_sizes[0] = c->rope_k_sizes[1] = 16;
    c->rope_k_repeat = false; /* RoPEAttentionv2 repeats the key grid per memory frame itself */
    c->perceiver = (sam2_perceiver_config){.depth = 2,
                                           .dim = 64,
                                           .dim_head = 64,
                                           .heads = 1,
                                           .ff_mult = 4,
                                           .num_latents = 256,
                                           .num_latents_2d = 256,
                                           .use_self_attn = true,
                                           .pos_enc_at_key_value = true,
                                           .pos_feats = 64};
    c->batched_predictor = true;
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            snprintf(msg, msg_size, __VA_ARGS__);                                                  \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

int sam2_config_validate_edgetam(const sam2_config *c, char *msg, int msg_size) {
    const int E = c->image_size / c->backbone_stride;
    if (c->trunk == SAM2_TRUNK_REPVIT) {
        const sam2_repvit_config *r = &c->repvit;
        CHECK(c->num_stages == 4, "the RepViT trunk has 4 stages (got %d)", c->num_stages);
        for (int s = 0; s < 4; s++) {
            CHECK(r->dims[s] >= 8 && r->dims[s] <= 4096 && r->dims[s] % 8 == 0,
                  "RepViT stage %d width %d out of range", s, r->dims[s]);
            CHECK(r->depths[s] >= 1 && r->depths[s] <= SAM2_MAX_REPVIT_DEPTH,
                  "RepViT stage %d depth %d out of range", s, r->depths[s]);
            CHECK(c->backbone_channels[s] == r->dims[3 - s],
                  "backbone_channel_list[%d] = %d does not match the trunk's %d channels", s,
                  c->backbone_channels[s], r->dims[3 - s]);
        }
    } else {
        CHECK(c->trunk == SAM2_TRUNK_HIERA, "unknown trunk kind %d", (int)c->trunk);
    }
    if (sam2_config_has_perceiver(c)) {
        const sam2_perceiver_config *p = &c->perceiver;
        CHECK(p->dim == c->mem_dim, "spatial_perceiver.dim %d must equal the memory dim %d", p->dim,
              c->mem_dim);
        CHECK(p->depth >= 1 && p->depth <= 8, "spatial_perceiver.depth %d out of range", p->depth);
        /* the memory's position encoding is added to keys and values after the projection */
        CHECK(p->heads >= 1 && p->dim_head >= 1 && p->heads * p->dim_head == p->dim,
              "spatial_perceiver heads x dim_head (%d x %d) must equal dim %d", p->heads,
              p->dim_head, p->dim);
        CHECK(p->ff_mult >= 1 && p->ff_mult <= 16, "spatial_perceiver.ff_mult %d out of range",
              p->ff_mult);
        CHECK(p->num_latents >= 0 && p->num_latents <= 4096 && p->num_latents_2d >= 0 &&
                  p->num_latents_2d <= 4096,
              "spatial_perceiver latents out of range");
        int g = 0;
        while ((g + 1) * (g + 1) <= p->num_latents_2d) g++;
        CHECK(g * g == p->num_latents_2d && (g == 0 || E % g == 0),
              "spatial_perceiver.num_latents_2d %d must be the square of a divisor of %d",
              p->num_latents_2d, E);
        CHECK(p->num_latents_2d == 0 || p->pos_feats == p->dim,
              "spatial_perceiver position encoding num_pos_feats %d must equal dim %d",
              p->pos_feats, p->dim);
    }
    if (c->rope_k_sizes[0] > 0) {
        /* RoPEAttentionv2 rotates the 2D latents of each memory frame on its key grid and
         * skips the 1D ones, so the key grid must be the Perceiver's window grid. */
        const int n2d = c->perceiver.num_latents_2d;
        CHECK(c->rope_q_sizes[0] == E && c->rope_q_sizes[1] == E,
              "cross_attention.q_sizes must be the %dx%d feature grid", E, E);
        CHECK(n2d > 0 && c->rope_k_sizes[0] * c->rope_k_sizes[1] == n2d &&
                  c->rope_k_sizes[0] == c->rope_k_sizes[1],
              "cross_attention.k_sizes %dx%d must be the Perceiver's %d-latent window grid",
              c->rope_k_sizes[0], c->rope_k_sizes[1], n2d);
    } else {
        CHECK(!sam2_config_has_perceiver(c),
              "a spatial_perceiver needs RoPEAttentionv2 cross-attention (q_sizes, k_sizes)");
    }
    return 0;
}
