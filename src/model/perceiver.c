#include "model/perceiver.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The map's tokens are visited in window order (window k = (wy, wx) in raster order, its g x g
 * tokens in raster order inside it): the 2D path then reads window k as rows [k*g*g, (k+1)*g*g)
 * and the 1D path, whose attention does not depend on the order of its keys, reads the same
 * rows. x and pos are permuted once per call. */
static void window_order(float *dst, const float *src, int E, int g, int C) {
    const int nw = E / g;
    size_t r = 0;
    for (int wy = 0; wy < nw; wy++)
        for (int wx = 0; wx < nw; wx++)
            for (int y = 0; y < g; y++)
                for (int x = 0; x < g; x++, r++)
                    memcpy(dst + r * C, src + ((size_t)(wy * g + y) * E + wx * g + x) * C,
                           sizeof(float) * C);
}

typedef struct perc_ctx {
    const sam2_net *net;
    const sam2_backend *be;
    arena *scratch;
    int N, C, inner, heads, dh, ff;
    float *xn, *k0, *v0; /* this layer's LayerNorm(x) and its key / value projections */
} perc_ctx;

/* FeedForward: L += W2 GELU(W1 LayerNorm(L)), no biases. */
static int feed_forward(perc_ctx *p, float *L, int n, const sam2_norm *norm, const float *w1,
                        const float *w2) {
    const sam2_backend *be = p->be;
    const arena_mark m = arena_get_mark(p->scratch);
    float *t = arena_floats(p->scratch, (size_t)n * p->C, 0);
    float *h = arena_floats(p->scratch, (size_t)n * p->ff, 0);
    if (!t || !h) return -1;
    be->layernorm(t, L, norm->w, norm->b, n, p->C, 1e-5f);
    be->linear(h, t, w1, NULL, n, p->C, p->ff);
    be->gelu(h, h, (size_t)n * p->ff);
    be->linear(t, h, w2, NULL, n, p->ff, p->C);
    be->add(L, L, t, (size_t)n * p->C);
    arena_release(p->scratch, m);
    return 0;
}

/* PerceiverAttention of n latents against keys / values k, v ([nk][inner] per problem), in
 * `nwin` independent problems of n / nwin latents and nk keys each: L += Wout attn(Wq LN(L)). */
static int cross_attention(perc_ctx *p, float *L, int n, const sam2_perceiver_layer_w *lw,
                           const float *k, const float *v, int nk, int nwin) {
    const sam2_backend *be = p->be;
    const arena_mark m = arena_get_mark(p->scratch);
    const int nq = n / nwin;
    float *t = arena_floats(p->scratch, (size_t)n * p->C, 0);
    float *q = arena_floats(p->scratch, (size_t)n * p->inner, 0);
    float *o = arena_floats(p->scratch, (size_t)n * p->inner, 0);
    const size_t ss = nwin > 1 ? attention_batched_scratch_floats(nwin, p->heads, nq, nk)
                               : attention_scratch_floats(nq, nk);
    float *s = arena_floats(p->scratch, ss, 0);
    if (!t || !q || !o || !s) return -1;
    be->layernorm(t, L, lw->norm_latents.w, lw->norm_latents.b, n, p->C, 1e-5f);
    be->linear(q, t, lw->to_q, NULL, n, p->C, p->inner);
    if (nwin > 1) {
        be->attention_batched(o, p->inner, q, p->inner, k, p->inner, v, p->inner, nwin, p->heads,
                              nq, nk, p->dh, s);
    } else {
        for (int h = 0; h < p->heads; h++)
            be->attention(o + h * p->dh, p->inner, q + h * p->dh, p->inner, k + h * p->dh, p->inner,
                          v + h * p->dh, p->inner, nq, nk, p->dh, s);
    }
    be->linear(t, o, lw->to_out, NULL, n, p->inner, p->C);
    be->add(L, L, t, (size_t)n * p->C);
    arena_release(p->scratch, m);
    return 0;
}

/* Attention (self-attention of the latents): L += Wout attn(q, k, v of LN(L)). With one token
 * per problem (the 2D path's latents are a batch of sequences of length 1) the softmax is 1
 * and the output is the value itself: L += Wout Wv LN(L), exactly. */
static int self_attention(perc_ctx *p, float *L, int n, const sam2_perceiver_layer_w *lw,
                          bool one_token) {
    const sam2_backend *be = p->be;
    const arena_mark m = arena_get_mark(p->scratch);
    float *t = arena_floats(p->scratch, (size_t)n * p->C, 0);
    float *kv[2] = {arena_floats(p->scratch, (size_t)n * p->inner, 0),
                    arena_floats(p->scratch, (size_t)n * p->inner, 0)};
    float *o = arena_floats(p->scratch, (size_t)n * p->inner, 0);
    float *s = arena_floats(p->scratch, attention_scratch_floats(n, n), 0);
    if (!t || !kv[0] || !kv[1] || !o || !s) return -1;
    be->layernorm(t, L, lw->sa_norm.w, lw->sa_norm.b, n, p->C, 1e-5f);
    /* to_kv rows: the first inner are the keys, the next inner the values */
    be->linear(kv[1], t, lw->sa_kv + (size_t)p->inner * p->C, NULL, n, p->C, p->inner);
    if (one_token) {
        be->linear(t, kv[1], lw->sa_out, NULL, n, p->inner, p->C);
    } else {
        be->linear(o, t, lw->sa_q, NULL, n, p->C, p->inner);
        be->linear(kv[0], t, lw->sa_kv, NULL, n, p->C, p->inner);
        float *a = t; /* t is free again: the attention output goes to a separate buffer */
        for (int h = 0; h < p->heads; h++)
            be->attention(a + h * p->dh, p->inner, o + h * p->dh, p->inner, kv[0] + h * p->dh,
                          p->inner, kv[1] + h * p->dh, p->inner, n, n, p->dh, s);
        be->linear(o, a, lw->sa_out, NULL, n, p->inner, p->C);
        memcpy(t, o, sizeof(float) * (size_t)n * p->C);
    }
    be->add(L, L, t, (size_t)n * p->C);
    arena_release(p->scratch, m);
    return 0;
}

/* PerceiverEncoderLayer: cross-attention, FF, then (use_self_attn) self-attention, self-FF. */
static int encoder_layer(perc_ctx *p, float *L, int n, const sam2_perceiver_layer_w *lw,
                         const float *k, const float *v, int nk, int nwin) {
    const bool self = p->net->cfg.perceiver.use_self_attn;
    if (cross_attention(p, L, n, lw, k, v, nk, nwin)) return -1;
    if (feed_forward(p, L, n, &lw->ff_norm, lw->ff1, lw->ff2)) return -1;
    if (self && self_attention(p, L, n, lw, nwin > 1)) return -1;
    if (self && feed_forward(p, L, n, &lw->sff_norm, lw->sff1, lw->sff2)) return -1;
    return 0;
}

static void tap_latents(const sam2_tap *tap, const char *fmt, int layer, const float *L, int n,
                        int C) {
    if (!tap) return;
    char name[48];
    snprintf(name, sizeof name, fmt, layer);
    const int64_t shape[3] = {1, n, C};
    tap_emit(tap, name, L, TAP_F32, 3, shape, TAP_AS_SHAPED);
}

int perceiver_forward(const sam2_net *net, const float *x, const float *pos, float *out,
                      arena *scratch, const sam2_tap *tap) {
    const sam2_config *c = &net->cfg;
    const sam2_perceiver_config *pc = &c->perceiver;
    const sam2_backend *be = net->be;
    const int E = net->embed, N = E * E, C = pc->dim;
    const int n1 = pc->num_latents, n2 = pc->num_latents_2d;
    const int g2 = (int)lround(sqrt((double)n2)), g = n2 > 0 ? E / g2 : E; /* window side */
    perc_ctx p = {.net = net,
                  .be = be,
                  .scratch = scratch,
                  .N = N,
                  .C = C,
                  .inner = pc->heads * pc->dim_head,
                  .heads = pc->heads,
                  .dh = pc->dim_head,
                  .ff = C * pc->ff_mult};
    const arena_mark start = arena_get_mark(scratch);
    int rc = -1;
    float *xw = arena_floats(scratch, (size_t)N * C, 0);
    float *pw = arena_floats(scratch, (size_t)N * C, 0);
    float *k1 = arena_floats(scratch, (size_t)N * p.inner, 0);
    float *v1 = arena_floats(scratch, (size_t)N * p.inner, 0);
    p.xn = arena_floats(scratch, (size_t)N * C, 0);
    p.k0 = arena_floats(scratch, (size_t)N * p.inner, 0);
    p.v0 = arena_floats(scratch, (size_t)N * p.inner, 0);
    if (!xw || !pw || !k1 || !v1 || !p.xn || !p.k0 || !p.v0) goto done;
    window_order(xw, x, E, g, C);
    window_order(pw, pos, E, g, C);

    /* the latents start as the learned ones; out holds [1D; 2D] as they are updated */
    float *L1 = out, *L2 = out + (size_t)n1 * C;
    if (n1) memcpy(L1, net->w.perceiver_latents, sizeof(float) * (size_t)n1 * C);
    if (n2) memcpy(L2, net->w.perceiver_latents_2d, sizeof(float) * (size_t)n2 * C);
    for (int l = 0; l < pc->depth; l++) {
        const sam2_perceiver_layer_w *lw = &net->w.perceiver[l];
        /* both paths' keys and values come from this layer's norm_x(x) and to_kv; the 1D
         * path adds the memory's position encoding to both after the projection */
        be->layernorm(p.xn, xw, lw->norm_x.w, lw->norm_x.b, N, C, 1e-5f);
        be->linear(p.k0, p.xn, lw->to_kv, NULL, N, C, p.inner);
        be->linear(p.v0, p.xn, lw->to_kv + (size_t)p.inner * C, NULL, N, C, p.inner);
        if (n1) {
            be->add(k1, p.k0, pw, (size_t)N * C);
            be->add(v1, p.v0, pw, (size_t)N * C);
            if (encoder_layer(&p, L1, n1, lw, k1, v1, N, 1)) goto done;
            tap_latents(tap, "perceiver_1d_layer%d", l, L1, n1, C);
        }
        if (n2) {
            if (encoder_layer(&p, L2, n2, lw, p.k0, p.v0, g * g, n2)) goto done;
            tap_latents(tap, "perceiver_2d_layer%d", l, L2, n2, C);
        }
    }
    be->layernorm(out, out, net->w.perceiver_norm.w, net->w.perceiver_norm.b, n1 + n2, C, 1e-5f);
    rc = 0;
done:
    arena_release(scratch, start);
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
