#include "model/dev_layers.h"

#include <math.h>

#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})

dev_lin dev_lin_place(sam2_device *d, dev_arena *a, const sam2_lin *l, int64_t out, int64_t in) {
    dev_lin r = {dev_weight(d, a, l->w, 2, SHAPE(out, in)), dev_none()};
    if (l->b) r.b = dev_weight(d, a, l->b, 1, SHAPE(out));
    return r;
}

dev_norm dev_norm_place(sam2_device *d, dev_arena *a, const sam2_norm *n, int64_t c) {
    dev_norm r = {dev_weight(d, a, n->w, 1, SHAPE(c)), dev_weight(d, a, n->b, 1, SHAPE(c))};
    return r;
}

dev_attn dev_attn_place(sam2_device *d, dev_arena *a, const sam2_attn_w *w, int64_t dim,
                        int64_t kv_dim, int64_t internal) {
    dev_attn r = {
        dev_lin_place(d, a, &w->q, internal, dim), dev_lin_place(d, a, &w->k, internal, kv_dim),
        dev_lin_place(d, a, &w->v, internal, kv_dim), dev_lin_place(d, a, &w->out, dim, internal)};
    return r;
}

int dev_weights_placed(const dev_tensor *t, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!t[i].buf) return 0;
    return 1;
}

static int64_t rows_of(const dev_tensor *t) {
    return dev_tensor_numel(t) / t->shape[t->ndim - 1];
}

void dev_mlp(dev_exec *x, dev_tensor out, dev_tensor in, const dev_lin *layers, int n_layers,
             int64_t hidden, int sigmoid_output) {
    const int64_t N = rows_of(&in);
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    dev_tensor h[2] = {dev_new(x, SAM2_F32, 2, SHAPE(N, hidden)),
                       dev_new(x, SAM2_F32, 2, SHAPE(N, hidden))};
    dev_tensor cur = in;
    for (int i = 0; i < n_layers; i++) {
        const int last = i == n_layers - 1;
        dev_tensor dst = last ? out : h[i % 2];
        /* x = F.relu(layer(x)) if i < self.num_layers - 1 else layer(x) */
        dev_linear(x, dst, cur, layers[i].w, layers[i].b);
        if (!last) dev_relu(x, dst, dst);
        cur = dst;
    }
    /* if self.sigmoid_output: x = F.sigmoid(x) */
    if (sigmoid_output) dev_sigmoid(x, out, out);
    dev_arena_release(x->arena, m);
}

void dev_attn_forward(dev_exec *x, dev_tensor out, dev_tensor q_in, dev_tensor k_in,
                      dev_tensor v_in, dev_tensor k_pre, dev_tensor v_pre, const dev_attn *w,
                      int heads) {
    const int64_t Lq = rows_of(&q_in), internal = w->q.w.shape[0];
    const int64_t Lk = k_pre.buf ? k_pre.shape[0] : rows_of(&k_in);
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    dev_tensor q = dev_new(x, SAM2_F32, 2, SHAPE(Lq, internal));
    dev_tensor o = dev_new(x, SAM2_F32, 2, SHAPE(Lq, internal));
    /* q = self.q_proj(q); k = self.k_proj(k); v = self.v_proj(v) */
    dev_linear(x, q, q_in, w->q.w, w->q.b);
    dev_tensor k = k_pre, v = v_pre;
    if (!k.buf) {
        k = dev_new(x, SAM2_F32, 2, SHAPE(Lk, internal));
        dev_linear(x, k, k_in, w->k.w, w->k.b);
    }
    if (!v.buf) {
        v = dev_new(x, SAM2_F32, 2, SHAPE(Lk, internal));
        dev_linear(x, v, v_in, w->v.w, w->v.b);
    }
    /* out = F.scaled_dot_product_attention(q, k, v) over the separated heads */
    dev_attention(x, o, q, k, v, heads);
    /* out = self.out_proj(self._recombine_heads(out)) */
    dev_linear(x, out, o, w->out.w, w->out.b);
    dev_arena_release(x->arena, m);
}

/* q_h . (Wk_h x + bk_h) = (Wk_h^T q_h) . x + const (the constant cancels in the softmax), and
 * sum_j a_j (Wv_h v_j + bv_h) = Wv_h (sum_j a_j v_j) + bv_h (softmax rows sum to one). */
void dev_attn_fold_kv(dev_exec *x, dev_tensor out, dev_tensor q_in, dev_tensor k_in,
                      dev_tensor v_in, const dev_attn *w, int heads) {
    const int64_t Lq = rows_of(&q_in), Lk = rows_of(&k_in), dim = q_in.shape[q_in.ndim - 1];
    const int64_t internal = w->q.w.shape[0], hd = internal / heads, R = heads * Lq;
    const float scale = 1.0f / sqrtf((float)hd);
    const dev_tensor k2 = dev_reshape(k_in, 2, SHAPE(Lk, dim));
    const dev_tensor v2 = dev_reshape(v_in, 2, SHAPE(Lk, dim));
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    dev_tensor q = dev_new(x, SAM2_F32, 2, SHAPE(Lq, internal));
    dev_tensor qk = dev_new(x, SAM2_F32, 2, SHAPE(R, dim)); /* row h*Lq+i: Wk_h^T q_ih */
    dev_tensor s = dev_new(x, SAM2_F32, 2, SHAPE(R, Lk));
    dev_tensor y = dev_new(x, SAM2_F32, 2, SHAPE(R, dim)); /* attention-weighted inputs */
    dev_tensor o = dev_new(x, SAM2_F32, 2, SHAPE(Lq, internal));
    dev_linear(x, q, q_in, w->q.w, w->q.b);
    for (int h = 0; h < heads; h++)
        dev_matmul(x, dev_rows(qk, h * Lq, Lq), dev_cols(q, h * hd, hd),
                   dev_rows(w->k.w, h * hd, hd), 0, 0, scale, 0.0f);
    dev_matmul(x, s, qk, k2, 0, 1, 1.0f, 0.0f);
    dev_softmax(x, s);
    dev_matmul(x, y, s, v2, 0, 0, 1.0f, 0.0f);
    for (int h = 0; h < heads; h++)
        dev_matmul(x, dev_cols(o, h * hd, hd), dev_rows(y, h * Lq, Lq),
                   dev_rows(w->v.w, h * hd, hd), 0, 1, 1.0f, 0.0f);
    dev_add(x, o, o, w->v.b);
    dev_linear(x, out, o, w->out.w, w->out.b);
    dev_arena_release(x->arena, m);
}

/* (Wq_h x + bq_h) . k_hj = x . (Wq_h^T k_hj) + bq_h . k_hj, and
 * Wo (sum_hj a_hj v_hj) + bo = sum_hj a_hj (Wo_h v_hj) + bo. */
void dev_attn_fold_q(dev_exec *x, dev_tensor out, dev_tensor q_in, dev_tensor k_in, dev_tensor v_in,
                     const dev_attn *w, int heads) {
    const int64_t Lq = rows_of(&q_in), Lk = rows_of(&k_in), dim = q_in.shape[q_in.ndim - 1];
    const int64_t internal = w->q.w.shape[0], hd = internal / heads, R = heads * Lk;
    const float scale = 1.0f / sqrtf((float)hd);
    const dev_tensor q2 = dev_reshape(q_in, 2, SHAPE(Lq, dim));
    const dev_tensor bq = dev_reshape(w->q.b, 2, SHAPE(1, internal));
    dev_arena_mark m = dev_arena_get_mark(x->arena);
    dev_tensor k = dev_new(x, SAM2_F32, 2, SHAPE(Lk, internal));
    dev_tensor v = dev_new(x, SAM2_F32, 2, SHAPE(Lk, internal));
    dev_tensor kq = dev_new(x, SAM2_F32, 2, SHAPE(R, dim)); /* row h*Lk+j: Wq_h^T k_hj */
    dev_tensor kb = dev_new(x, SAM2_F32, 2, SHAPE(1, R));   /* bq_h . k_hj */
    dev_tensor u = dev_new(x, SAM2_F32, 2, SHAPE(R, dim));  /* Wo_h v_hj */
    dev_tensor s = dev_new(x, SAM2_F32, 2, SHAPE(Lq, R));
    dev_linear(x, k, k_in, w->k.w, w->k.b);
    dev_linear(x, v, v_in, w->v.w, w->v.b);
    for (int h = 0; h < heads; h++) {
        dev_tensor kh = dev_cols(k, h * hd, hd);
        dev_matmul(x, dev_rows(kq, h * Lk, Lk), kh, dev_rows(w->q.w, h * hd, hd), 0, 0, scale,
                   0.0f);
        dev_matmul(x, dev_cols(kb, h * Lk, Lk), dev_cols(bq, h * hd, hd), kh, 0, 1, scale, 0.0f);
        dev_matmul(x, dev_rows(u, h * Lk, Lk), dev_cols(v, h * hd, hd),
                   dev_cols(w->out.w, h * hd, hd), 0, 1, 1.0f, 0.0f);
    }
    /* scores [Lq][heads][Lk]; each head's Lk entries are one softmax row */
    dev_matmul(x, s, q2, kq, 0, 1, 1.0f, 0.0f);
    dev_add(x, s, s, kb);
    dev_softmax(x, dev_reshape(s, 2, SHAPE(Lq * heads, Lk)));
    dev_tensor o2 = dev_reshape(out, 2, SHAPE(Lq, dim));
    dev_matmul(x, o2, s, u, 0, 0, 1.0f, 0.0f);
    dev_add(x, o2, o2, w->out.b);
    dev_arena_release(x->arena, m);
}
