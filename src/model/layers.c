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

int attention_forward(const sam2_backend *be, float *out, const float *q_in, int Lq,
                      const float *k_in, const float *v_in, int Lk, const sam2_attn_w *w, int dim,
                      int kv_dim, int internal, int heads, arena *scratch) {
    arena_mark m = arena_get_mark(scratch);
    float *q = arena_floats(scratch, (size_t)Lq * internal, 0);
    float *k = arena_floats(scratch, (size_t)Lk * internal, 0);
    float *v = arena_floats(scratch, (size_t)Lk * internal, 0);
    float *o = arena_floats(scratch, (size_t)Lq * internal, 0);
    float *s = arena_floats(scratch, attention_scratch_floats(Lq, Lk), 0);
    if (!q || !k || !v || !o || !s) return -1;
    be->linear(q, q_in, w->q.w, w->q.b, Lq, dim, internal);
    be->linear(k, k_in, w->k.w, w->k.b, Lk, kv_dim, internal);
    be->linear(v, v_in, w->v.w, w->v.b, Lk, kv_dim, internal);
    const int hd = internal / heads;
    for (int h = 0; h < heads; h++)
        be->attention(o + h * hd, internal, q + h * hd, internal, k + h * hd, internal, v + h * hd,
                      internal, Lq, Lk, hd, s);
    be->linear(out, o, w->out.w, w->out.b, Lq, internal, dim);
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
