/* EdgeTAM's Perceiver on the compute seam: the forward pass below only calls backend ops
 * (core/device.h); the host supplies the memory encoder's output (borrowed in place on the cpu
 * and ref backends) and reads back the latents. Comments name the official Python
 * (sam2/modeling/perceiver.py). */
#include "model/perceiver.h"

#include "model/dev_layers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})

typedef struct perceiver_layer_dev {
    /* the cross-attention and feed-forward (12 tensors), then the self-attention's */
    dev_norm norm_x, norm_latents, ff_norm;
    dev_tensor to_q, to_k, to_v, to_out; /* to_kv's rows: the keys, then the values */
    dev_tensor ff1, ff2;
    dev_norm sa_norm, sff_norm;
    dev_tensor sa_q, sa_k, sa_v, sa_out, sff1, sff2;
} perceiver_layer_dev;

/* The Perceiver's weights on the net's backend (net->pr). */
struct perceiver_dev {
    perceiver_layer_dev layers[SAM2_MAX_PERCEIVER_LAYERS];
    dev_norm norm;
    dev_tensor latents, latents_2d; /* [num_latents(_2d)][dim] */
    dev_tensor pos;                 /* mem_pos in window order (below), [E*E][dim] */
};

/* The map's tokens are visited in window order (window k = (wy, wx) in raster order, its g x g
 * tokens in raster order inside it): the 2D path then reads window k as rows [k*g*g, (k+1)*g*g)
 * and the 1D path, whose attention does not depend on the order of its keys, reads the same
 * rows. One strided copy per band of windows: dst[wx][y][x] = src[wy*g + y][wx*g + x]. */
static void window_order(dev_exec *x, dev_tensor dst, dev_tensor src, int64_t E, int64_t g) {
    const int64_t C = src.shape[src.ndim - 1], nw = E / g;
    for (int64_t wy = 0; wy < nw; wy++) {
        dev_tensor d =
            dev_reshape(dev_rows(dst, wy * nw * g * g, nw * g * g), 4, SHAPE(nw, g, g, C));
        dev_tensor s = dev_reshape(src, 4, SHAPE(nw, g, g, C)); /* shape only; strides below */
        s.offset = src.offset + (size_t)(wy * g * E * C) * sizeof(float);
        s.stride[0] = g * C, s.stride[1] = E * C, s.stride[2] = C, s.stride[3] = 1;
        dev_copy(x, d, s);
    }
}

static int64_t window_side(const sam2_net *net) {
    const int64_t n2 = net->cfg.perceiver.num_latents_2d;
    return n2 > 0 ? net->embed / lround(sqrt((double)n2)) : net->embed;
}

static void place_layer(sam2_device *d, dev_arena *a, const sam2_perceiver_layer_w *w,
                        perceiver_layer_dev *l, int64_t C, int64_t inner, int64_t ff, int self) {
    l->norm_x = dev_norm_place(d, a, &w->norm_x, C);
    l->norm_latents = dev_norm_place(d, a, &w->norm_latents, C);
    l->ff_norm = dev_norm_place(d, a, &w->ff_norm, C);
    l->to_q = dev_weight(d, a, w->to_q, 2, SHAPE(inner, C));
    l->to_k = dev_weight(d, a, w->to_kv, 2, SHAPE(inner, C));
    l->to_v = dev_weight(d, a, w->to_kv + inner * C, 2, SHAPE(inner, C));
    l->to_out = dev_weight(d, a, w->to_out, 2, SHAPE(C, inner));
    l->ff1 = dev_weight(d, a, w->ff1, 2, SHAPE(ff, C));
    l->ff2 = dev_weight(d, a, w->ff2, 2, SHAPE(C, ff));
    if (!self) return;
    l->sa_norm = dev_norm_place(d, a, &w->sa_norm, C);
    l->sff_norm = dev_norm_place(d, a, &w->sff_norm, C);
    l->sa_q = dev_weight(d, a, w->sa_q, 2, SHAPE(inner, C));
    l->sa_k = dev_weight(d, a, w->sa_kv, 2, SHAPE(inner, C));
    l->sa_v = dev_weight(d, a, w->sa_kv + inner * C, 2, SHAPE(inner, C));
    l->sa_out = dev_weight(d, a, w->sa_out, 2, SHAPE(C, inner));
    l->sff1 = dev_weight(d, a, w->sff1, 2, SHAPE(ff, C));
    l->sff2 = dev_weight(d, a, w->sff2, 2, SHAPE(C, ff));
}

int perceiver_load(sam2_net *net) {
    const sam2_config *c = &net->cfg;
    const sam2_perceiver_config *pc = &c->perceiver;
    if (!sam2_config_has_perceiver(c)) return 0;
    sam2_device *d = net->dev;
    dev_arena *a = &net->dev_weights;
    const int64_t C = pc->dim, inner = (int64_t)pc->heads * pc->dim_head, ff = C * pc->ff_mult;
    const int64_t E = net->embed, n1 = pc->num_latents, n2 = pc->num_latents_2d;
    struct perceiver_dev *pr = calloc(1, sizeof *pr);
    if (!pr) return -1;
    net->pr = pr;
    int ok = 1;
    for (int l = 0; l < pc->depth; l++) {
        perceiver_layer_dev *ld = &pr->layers[l];
        place_layer(d, a, &net->w.perceiver[l], ld, C, inner, ff, pc->use_self_attn);
        ok &= dev_weights_placed(&ld->norm_x.w,
                                 pc->use_self_attn ? sizeof *ld / sizeof(dev_tensor) : 6 + 6);
    }
    pr->norm = dev_norm_place(d, a, &net->w.perceiver_norm, C);
    ok &= dev_weights_placed(&pr->norm.w, 2);
    if (n1)
        ok &=
            (pr->latents = dev_weight(d, a, net->w.perceiver_latents, 2, SHAPE(n1, C))).buf != NULL;
    if (n2)
        ok &=
            (pr->latents_2d = dev_weight(d, a, net->w.perceiver_latents_2d, 2, SHAPE(n2, C))).buf !=
            NULL;
    /* the constant position encoding, in window order once */
    dev_exec x;
    dev_exec_init(&x, a);
    const dev_tensor mem_pos = dev_weight(d, a, net->mem_pos, 3, SHAPE(E, E, C));
    pr->pos = dev_new(&x, SAM2_F32, 2, SHAPE(E * E, C));
    if (mem_pos.buf) window_order(&x, pr->pos, mem_pos, E, window_side(net));
    return ok && mem_pos.buf && !x.failed ? 0 : -1;
}

void perceiver_unload(sam2_net *net) {
    free(net->pr);
    net->pr = NULL;
}

/* FeedForward: latents = self.ff(latents) + latents: LayerNorm, Linear, GELU, Linear (no
 * biases). L [n][C]. */
static void feed_forward(dev_exec *x, dev_tensor L, dev_norm norm, dev_tensor w1, dev_tensor w2) {
    const int64_t n = L.shape[0], C = L.shape[1], ff = w1.shape[0];
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    dev_tensor t = dev_new(x, SAM2_F32, 2, SHAPE(n, C)), h = dev_new(x, SAM2_F32, 2, SHAPE(n, ff));
    dev_layernorm(x, t, L, norm.w, norm.b, 1e-5f);
    dev_linear(x, h, t, w1, dev_none());
    dev_gelu(x, h, h);
    dev_linear(x, t, h, w2, dev_none());
    dev_add(x, L, L, t);
    dev_arena_release(x->arena, m);
}

/* PerceiverAttention: latents = self.attn(latents, x, pos) + latents, with k, v [nk][inner]
 * (to_kv of norm_x(x), + pos on the 1D path) already computed; nwin independent windows of
 * latents and keys (the 2D path), or one. */
static void cross_attention(dev_exec *x, const sam2_net *net, dev_tensor L,
                            const perceiver_layer_dev *l, dev_tensor k, dev_tensor v, int nwin) {
    const int heads = net->cfg.perceiver.heads;
    const int64_t n = L.shape[0], C = L.shape[1], inner = l->to_q.shape[0];
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    dev_tensor t = dev_new(x, SAM2_F32, 2, SHAPE(n, C));
    dev_tensor q = dev_new(x, SAM2_F32, 2, SHAPE(n, inner));
    dev_tensor o = dev_new(x, SAM2_F32, 2, SHAPE(n, inner));
    /* latents = self.norm_latents(latents); q = self.to_q(latents) */
    dev_layernorm(x, t, L, l->norm_latents.w, l->norm_latents.b, 1e-5f);
    dev_linear(x, q, t, l->to_q, dev_none());
    /* out = F.scaled_dot_product_attention(q, k, v) */
    if (nwin > 1)
        dev_attention_windows(x, dev_windows(o, nwin), dev_windows(q, nwin), dev_windows(k, nwin),
                              dev_windows(v, nwin), heads);
    else
        dev_attention(x, o, q, k, v, heads);
    dev_linear(x, t, o, l->to_out, dev_none()); /* self.to_out(out) */
    dev_add(x, L, L, t);
    dev_arena_release(x->arena, m);
}

/* Attention: latents = self.self_attn(latents) + latents. With one token per problem (the 2D
 * path's latents are a batch of sequences of length 1) the softmax is 1 and the output is the
 * value itself: L += Wout Wv LN(L), exactly. */
static void self_attention(dev_exec *x, const sam2_net *net, dev_tensor L,
                           const perceiver_layer_dev *l, int one_token) {
    const int heads = net->cfg.perceiver.heads;
    const int64_t n = L.shape[0], C = L.shape[1], inner = l->sa_q.shape[0];
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    dev_tensor t = dev_new(x, SAM2_F32, 2, SHAPE(n, C)), a = dev_new(x, SAM2_F32, 2, SHAPE(n, C));
    dev_tensor v = dev_new(x, SAM2_F32, 2, SHAPE(n, inner));
    dev_layernorm(x, t, L, l->sa_norm.w, l->sa_norm.b, 1e-5f); /* x = self.norm(x) */
    dev_linear(x, v, t, l->sa_v, dev_none());
    if (one_token) {
        dev_linear(x, a, v, l->sa_out, dev_none());
    } else {
        dev_tensor q = dev_new(x, SAM2_F32, 2, SHAPE(n, inner));
        dev_tensor k = dev_new(x, SAM2_F32, 2, SHAPE(n, inner));
        dev_tensor o = dev_new(x, SAM2_F32, 2, SHAPE(n, inner));
        /* q = self.to_q(x); k, v = self.to_kv(x).chunk(2, dim=-1) */
        dev_linear(x, q, t, l->sa_q, dev_none());
        dev_linear(x, k, t, l->sa_k, dev_none());
        dev_attention(x, o, q, k, v, heads);
        dev_linear(x, a, o, l->sa_out, dev_none()); /* self.to_out(out) */
    }
    dev_add(x, L, L, a);
    dev_arena_release(x->arena, m);
}

/* PerceiverEncoderLayer.forward: cross-attention, FF, then (use_self_attn) self-attention and
 * self-FF. */
static void encoder_layer(dev_exec *x, const sam2_net *net, dev_tensor L,
                          const perceiver_layer_dev *l, dev_tensor k, dev_tensor v, int nwin) {
    const int self = net->cfg.perceiver.use_self_attn;
    cross_attention(x, net, L, l, k, v, nwin);
    feed_forward(x, L, l->ff_norm, l->ff1, l->ff2);
    if (self) self_attention(x, net, L, l, nwin > 1);
    if (self) feed_forward(x, L, l->sff_norm, l->sff1, l->sff2);
}

/* Taps need the latents on the host: a download, only when tapping. */
static void tap_latents(dev_exec *x, const sam2_tap *tap, const char *fmt, int layer,
                        dev_tensor L) {
    if (!tap) return;
    const int64_t n = L.shape[0], C = L.shape[1];
    float *h = malloc(sizeof(float) * (size_t)(n * C));
    if (h && dev_download(x, h, &L, sizeof(float) * (size_t)(n * C)) == 0) {
        char name[48];
        snprintf(name, sizeof name, fmt, layer);
        const int64_t shape[3] = {1, n, C};
        tap_emit(tap, name, h, TAP_F32, 3, shape, TAP_AS_SHAPED);
    }
    free(h);
}

int perceiver_forward(const sam2_net *net, const float *xin, const float *pos, float *out,
                      arena *scratch, const sam2_tap *tap) {
    (void)pos; /* pos is net->mem_pos, placed in window order at load */
    const sam2_perceiver_config *pc = &net->cfg.perceiver;
    const struct perceiver_dev *pr = net->pr;
    const int64_t E = net->embed, N = E * E, C = pc->dim, inner = (int64_t)pc->heads * pc->dim_head;
    const int64_t n1 = pc->num_latents, n2 = pc->num_latents_2d, g = window_side(net);
    dev_arena arena;
    dev_arena_init(&arena, net->dev);
    dev_arena_back(&arena, scratch); /* the caller's host scratch (maps_host backends) */
    dev_exec x;
    dev_exec_init(&x, &arena);
    dev_tensor xm = dev_from_host(&x, xin, SAM2_F32, 3, SHAPE(E, E, C), 1);
    dev_tensor lat = dev_from_host(&x, out, SAM2_F32, 2, SHAPE(n1 + n2, C), 1);
    dev_tensor xw = dev_new(&x, SAM2_F32, 2, SHAPE(N, C)),
               xn = dev_new(&x, SAM2_F32, 2, SHAPE(N, C));
    dev_tensor k0 = dev_new(&x, SAM2_F32, 2, SHAPE(N, inner));
    dev_tensor v0 = dev_new(&x, SAM2_F32, 2, SHAPE(N, inner));
    dev_tensor k1 = dev_new(&x, SAM2_F32, 2, SHAPE(N, inner));
    dev_tensor v1 = dev_new(&x, SAM2_F32, 2, SHAPE(N, inner));
    window_order(&x, xw, xm, E, g);
    /* latents = self.latents (1D), self.latents_2d (2D); out holds [1D; 2D] as they update */
    dev_tensor L1 = dev_rows(lat, 0, n1), L2 = dev_rows(lat, n1, n2);
    if (n1) dev_copy(&x, L1, pr->latents);
    if (n2) dev_copy(&x, L2, pr->latents_2d);
    for (int l = 0; l < pc->depth; l++) {
        const perceiver_layer_dev *ld = &pr->layers[l];
        /* both paths' keys and values come from this layer's norm_x(x) and to_kv; the 1D path
         * adds the position encoding to both after the projection (k = k + pos; v = v + pos) */
        dev_layernorm(&x, xn, xw, ld->norm_x.w, ld->norm_x.b, 1e-5f);
        dev_linear(&x, k0, xn, ld->to_k, dev_none());
        dev_linear(&x, v0, xn, ld->to_v, dev_none());
        if (n1) {
            dev_add(&x, k1, k0, pr->pos);
            dev_add(&x, v1, v0, pr->pos);
            encoder_layer(&x, net, L1, ld, k1, v1, 1);
            tap_latents(&x, tap, "perceiver_1d_layer%d", l, L1);
        }
        if (n2) {
            encoder_layer(&x, net, L2, ld, k0, v0, (int)n2);
            tap_latents(&x, tap, "perceiver_2d_layer%d", l, L2);
        }
    }
    dev_layernorm(&x, lat, lat, pr->norm.w, pr->norm.b, 1e-5f); /* self.norm(latents) */
    dev_download(&x, out, &lat, sizeof(float) * (size_t)((n1 + n2) * C));
    const int rc = x.failed ? -1 : 0;
    dev_arena_free(&arena);
    return rc;
}

double perceiver_flops(const sam2_net *net) {
    const sam2_perceiver_config *pc = &net->cfg.perceiver;
    const double N = (double)net->embed * net->embed, C = pc->dim;
    const double inner = (double)pc->heads * pc->dim_head, ff = C * pc->ff_mult;
    const double n1 = pc->num_latents, n2 = pc->num_latents_2d;
    const double win = n2 > 0 ? N / n2 : 0;
    double per_layer = 2.0 * N * C * 2 * inner;                             /* keys, values */
    per_layer += 2.0 * (n1 + n2) * C * inner * 2;                           /* q, out */
    per_layer += 2.0 * 2.0 * n1 * N * inner + 2.0 * 2.0 * n2 * win * inner; /* attention */
    per_layer += 2.0 * 2.0 * (n1 + n2) * C * ff;                            /* FF */
    if (pc->use_self_attn) {
        per_layer += 2.0 * n1 * C * 3 * inner + 2.0 * 2.0 * n1 * n1 * inner + 2.0 * n1 * inner * C;
        per_layer += 2.0 * n2 * C * inner * 2; /* value, out (one token) */
        per_layer += 2.0 * 2.0 * (n1 + n2) * C * ff;
    }
    return per_layer * pc->depth;
}
