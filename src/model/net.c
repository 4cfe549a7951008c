#include "model/net.h"

#include "core/error.h"
#include "model/image_encoder.h"
#include "model/mask_decoder.h"
#include "model/memory_attention.h"
#include "model/memory_encoder.h"
#include "model/perceiver.h"
#include "model/position_encoding.h"
#include "model/prompt_encoder.h"
#include "model/repvit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* EdgeTAM: the RepViT trunk with its BatchNorms folded, the Perceiver's position encoding and
 * the RoPE tables of RoPEAttentionv2's key grid. */
static int edgetam_constants(sam2_net *net) {
    const sam2_config *c = &net->cfg;
    if (c->trunk == SAM2_TRUNK_REPVIT) {
        net->repvit = malloc(sizeof *net->repvit);
        if (!net->repvit || repvit_fold(net->repvit, c, &net->w) != 0) return -1;
    }
    if (sam2_config_has_perceiver(c)) {
        const sam2_perceiver_config *p = &c->perceiver;
        const int g = (int)lround(sqrt((double)p->num_latents_2d));
        const size_t n1 = (size_t)p->num_latents * c->mem_dim;
        net->perceiver_pos = calloc(n1 + (size_t)p->num_latents_2d * c->mem_dim, sizeof(float));
        if (!net->perceiver_pos) return -1;
        if (g > 0) sine_pe_hwc(net->perceiver_pos + n1, g, g, c->mem_dim, 10000.0f);
    }
    if (c->rope_k_sizes[0] > 0) {
        const int kw = c->rope_k_sizes[0], kh = c->rope_k_sizes[1];
        const size_t half = (size_t)net->rope_head_dim / 2;
        net->rope_k_cos = malloc(sizeof(float) * (size_t)kw * kh * half);
        net->rope_k_sin = malloc(sizeof(float) * (size_t)kw * kh * half);
        if (!net->rope_k_cos || !net->rope_k_sin) return -1;
        axial_rope_tables(net->rope_k_cos, net->rope_k_sin, kw, kh, net->rope_head_dim,
                          c->rope_theta);
    }
    return 0;
}

int sam2_net_init(sam2_net *net, const sam2_config *cfg, const sam2_weights *w, sam2_error *err) {
    memset(net, 0, sizeof *net);
    net->cfg = *cfg;
    net->w = *w;
    net->dev = sam2_device_default();
    net->be = net->dev->kernels;
    dev_arena_init(&net->dev_weights, net->dev);
    net->num_blocks = sam2_config_hiera_blocks(cfg, net->blocks);
    net->feat0 = cfg->image_size / 4;
    net->embed = cfg->image_size / cfg->backbone_stride;
    const int d = cfg->d_model, E = net->embed;

    /* Only the stride-16 level's encoding is ever read (memory attention); the others exist for
     * the parity taps, which compute them on demand (level 0 alone is 64 MB at 1024x1024). */
    const int s2 = net->feat0 >> 2;
    net->neck_pos[2] = malloc(sizeof(float) * (size_t)s2 * s2 * d);
    if (!net->neck_pos[2]) goto oom;
    sine_pe_hwc(net->neck_pos[2], s2, s2, d, cfg->neck_pos_temperature);
    net->image_pe = malloc(sizeof(float) * (size_t)E * E * d);
    net->mem_pos = malloc(sizeof(float) * (size_t)E * E * cfg->mem_dim);
    if (!net->image_pe || !net->mem_pos) goto oom;
    random_pe_dense_hwc(net->image_pe, E, E, w->pe_gaussian, d);
    sine_pe_hwc(net->mem_pos, E, E, cfg->mem_dim, 10000.0f);

    net->rope_head_dim = d / cfg->mem_attn_heads;
    const size_t half = (size_t)net->rope_head_dim / 2;
    net->rope_cos = malloc(sizeof(float) * (size_t)E * E * half);
    net->rope_sin = malloc(sizeof(float) * (size_t)E * E * half);
    if (!net->rope_cos || !net->rope_sin) goto oom;
    axial_rope_tables(net->rope_cos, net->rope_sin, E, E, net->rope_head_dim, cfg->rope_theta);
    if (edgetam_constants(net) != 0) goto oom;
    if (prompt_encoder_load(net) != 0) goto oom;
    if (image_encoder_load(net) != 0) goto oom;
    if (mask_decoder_load(net) != 0) goto oom;
    if (memory_encoder_load(net) != 0) goto oom;
    if (memory_attention_load(net) != 0) goto oom;
    if (perceiver_load(net) != 0) goto oom;
    return 0;
oom:
    sam2_net_free(net);
    return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory while preparing the model constants");
}

void sam2_net_free(sam2_net *net) {
    dev_buffer_free(net->ie.pos_buf);
    for (int i = 0; i < 4; i++) free(net->neck_pos[i]);
    free(net->image_pe);
    free(net->mem_pos);
    free(net->rope_cos);
    free(net->rope_sin);
    repvit_free(net->repvit);
    free(net->repvit);
    free(net->perceiver_pos);
    free(net->rope_k_cos);
    free(net->rope_k_sin);
    mask_decoder_unload(net);
    memory_encoder_unload(net);
    memory_attention_unload(net);
    perceiver_unload(net);
    if (net->dev) dev_arena_free(&net->dev_weights);
    memset(net, 0, sizeof *net);
}
