#include "model/layers.h"

#include <math.h>
#include <string.h>

void activate(const sam2_backend *be, float *x, size_t n, activation act) {
    switch (act) {
    case ACT_RELU: be->relu(x, x, n); break;
    case ACT_GELU: be->gelu(x, x, n); break;
    case ACT_SIGMOID: be->sigmoid(x, x, n); break;
    case ACT_NONE: break;
    }
}

int mlp_forward(const sam2_backend *be, float *out, const float *in, int N, const sam2_lin *layers,
                int n_layers, int in_dim, int hidden, int out_dim, activation act,
                bool sigmoid_output, arena *scratch) {
    arena_mark m = arena_get_mark(scratch);
    float *a = n_layers > 1 ? arena_floats(scratch, (size_t)N * hidden, 0) : NULL;
    float *b = n_layers > 2 ? arena_floats(scratch, (size_t)N * hidden, 0) : NULL;
    if (n_layers > 1 && !a) return -1;
    if (n_layers > 2 && !b) return -1;
    const float *cur = in;
    int cur_dim = in_dim;
    for (int i = 0; i < n_layers; i++) {
        int od = i == n_layers - 1 ? out_dim : hidden;
        float *dst = i == n_layers - 1 ? out : (i % 2 == 0 ? a : b);
        be->linear(dst, cur, layers[i].w, layers[i].b, N, cur_dim, od);
        if (i < n_layers - 1) activate(be, dst, (size_t)N * od, act);
        cur = dst;
        cur_dim = od;
    }
    if (sigmoid_output) be->sigmoid(out, out, (size_t)N * out_dim);
    arena_release(scratch, m);
    return 0;
}

int attention_forward_ex(const sam2_backend *be, float *out, const float *q_in, const float *q_pre,
                         int Lq, const float *k_in, const float *k_pre, const float *v_in,
                         const float *v_pre, int Lk, const sam2_attn_w *w, int dim, int kv_dim,
                         int internal, int heads, arena *scratch) {
    arena_mark m = arena_get_mark(scratch);
    float *q = q_pre ? NULL : arena_floats(scratch, (size_t)Lq * internal, 0);
    float *k = k_pre ? NULL : arena_floats(scratch, (size_t)Lk * internal, 0);
    float *v = v_pre ? NULL : arena_floats(scratch, (size_t)Lk * internal, 0);
    float *o = arena_floats(scratch, (size_t)Lq * internal, 0);
    float *s = arena_floats(scratch, attention_scratch_floats(Lq, Lk), 0);
    if ((!q_pre && !q) || (!k_pre && !k) || (!v_pre && !v) || !o || !s) return -1;
    if (q) be->linear(q, q_in, w->q.w, w->q.b, Lq, dim, internal);
    if (k) be->linear(k, k_in, w->k.w, w->k.b, Lk, kv_dim, internal);
    if (v) be->linear(v, v_in, w->v.w, w->v.b, Lk, kv_dim, internal);
    const float *qq = q ? q : q_pre, *kk = k ? k : k_pre, *vv = v ? v : v_pre;
    const int hd = internal / heads;
    for (int h = 0; h < heads; h++)
        be->attention(o + h * hd, internal, qq + h * hd, internal, kk + h * hd, internal,
                      vv + h * hd, internal, Lq, Lk, hd, s);
    be->linear(out, o, w->out.w, w->out.b, Lq, internal, dim);
    arena_release(scratch, m);
    return 0;
}

int attention_forward(const sam2_backend *be, float *out, const float *q_in, int Lq,
                      const float *k_in, const float *v_in, int Lk, const sam2_attn_w *w, int dim,
                      int kv_dim, int internal, int heads, arena *scratch) {
    return attention_forward_ex(be, out, q_in, NULL, Lq, k_in, NULL, v_in, NULL, Lk, w, dim,
                                kv_dim, internal, heads, scratch);
}

int attention_fold_kv(const sam2_backend *be, float *out, const float *q_in, int Lq,
                      const float *k_in, const float *v_in, int Lk, const sam2_attn_w *w, int dim,
                      int internal, int heads, arena *scratch) {
    const int hd = internal / heads, R = heads * Lq;
    const float scale = 1.0f / sqrtf((float)hd);
    arena_mark m = arena_get_mark(scratch);
    float *q = arena_floats(scratch, (size_t)Lq * internal, 0);
    float *qk = arena_floats(scratch, (size_t)R * dim, 0); /* row h*Lq+i: Wk_h^T q_ih */
    float *s = arena_floats(scratch, (size_t)R * Lk, 0);
    float *y = arena_floats(scratch, (size_t)R * dim, 0);  /* attention-weighted inputs */
    float *o = arena_floats(scratch, (size_t)Lq * internal, 0);
    if (!q || !qk || !s || !y || !o) return -1;
    be->linear(q, q_in, w->q.w, w->q.b, Lq, dim, internal);
    for (int h = 0; h < heads; h++)
        be->gemm(0, 0, Lq, dim, hd, scale, q + h * hd, internal, w->k.w + (size_t)h * hd * dim, dim,
                 0.0f, qk + (size_t)h * Lq * dim, dim);
    be->gemm(0, 1, R, Lk, dim, 1.0f, qk, dim, k_in, dim, 0.0f, s, Lk);
    be->softmax_rows(s, R, Lk);
    be->gemm(0, 0, R, dim, Lk, 1.0f, s, Lk, v_in, dim, 0.0f, y, dim);
    for (int h = 0; h < heads; h++) {
        for (int i = 0; i < Lq; i++)
            memcpy(o + (size_t)i * internal + h * hd, w->v.b + h * hd, sizeof(float) * hd);
        be->gemm(0, 1, Lq, hd, dim, 1.0f, y + (size_t)h * Lq * dim, dim,
                 w->v.w + (size_t)h * hd * dim, dim, 1.0f, o + h * hd, internal);
    }
    be->linear(out, o, w->out.w, w->out.b, Lq, internal, dim);
    arena_release(scratch, m);
    return 0;
}

int attention_fold_q(const sam2_backend *be, float *out, const float *q_in, int Lq,
                     const float *k_in, const float *v_in, int Lk, const sam2_attn_w *w, int dim,
                     int internal, int heads, arena *scratch) {
    const int hd = internal / heads, R = heads * Lk;
    const float scale = 1.0f / sqrtf((float)hd);
    arena_mark m = arena_get_mark(scratch);
    float *k = arena_floats(scratch, (size_t)Lk * internal, 0);
    float *v = arena_floats(scratch, (size_t)Lk * internal, 0);
    float *kq = arena_floats(scratch, (size_t)R * dim, 0); /* row h*Lk+j: Wq_h^T k_hj */
    float *kb = arena_floats(scratch, (size_t)R, 0);       /* bq_h . k_hj */
    float *u = arena_floats(scratch, (size_t)R * dim, 0);  /* Wo_h v_hj */
    float *s = arena_floats(scratch, (size_t)Lq * R, 0);
    if (!k || !v || !kq || !kb || !u || !s) return -1;
    be->linear(k, k_in, w->k.w, w->k.b, Lk, dim, internal);
    be->linear(v, v_in, w->v.w, w->v.b, Lk, dim, internal);
    for (int h = 0; h < heads; h++) {
        be->gemm(0, 0, Lk, dim, hd, scale, k + h * hd, internal, w->q.w + (size_t)h * hd * dim,
                 dim, 0.0f, kq + (size_t)h * Lk * dim, dim);
        for (int j = 0; j < Lk; j++) {
            float acc = 0.0f;
            for (int t = 0; t < hd; t++) acc += w->q.b[h * hd + t] * k[(size_t)j * internal + h * hd + t];
            kb[h * Lk + j] = acc * scale;
        }
        be->gemm(0, 1, Lk, dim, hd, 1.0f, v + h * hd, internal, w->out.w + h * hd, internal, 0.0f,
                 u + (size_t)h * Lk * dim, dim);
    }
    /* scores [Lq][heads][Lk]; each head's Lk entries are one softmax row */
    for (int i = 0; i < Lq; i++) memcpy(s + (size_t)i * R, kb, sizeof(float) * R);
    be->gemm(0, 1, Lq, R, dim, 1.0f, q_in, dim, kq, dim, 1.0f, s, R);
    be->softmax_rows(s, Lq * heads, Lk);
    for (int i = 0; i < Lq; i++) memcpy(out + (size_t)i * dim, w->out.b, sizeof(float) * dim);
    be->gemm(0, 0, Lq, dim, R, 1.0f, s, R, u, dim, 1.0f, out, dim);
    arena_release(scratch, m);
    return 0;
}

void add_rows(float *out, const float *a, const float *b, int N, int C, int b_rows) {
    for (int n = 0; n < N; n++) {
        const float *br = b + (b_rows == 1 ? 0 : (size_t)n * C);
        const float *ar = a + (size_t)n * C;
        float *o = out + (size_t)n * C;
        for (int c = 0; c < C; c++) o[c] = ar[c] + br[c];
    }
}
