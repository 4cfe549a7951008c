#include "model/layers.h"

void activate(const sam2_backend *be, float *x, size_t n, activation act) {
    switch (act) {
    case ACT_RELU:
        be->relu(x, x, n);
        break;
    case ACT_GELU:
        be->gelu(x, x, n);
        break;
    case ACT_SIGMOID:
        be->sigmoid(x, x, n);
        break;
    case ACT_NONE:
        break;
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

void add_rows(float *out, const float *a, const float *b, int N, int C, int b_rows) {
    for (int n = 0; n < N; n++) {
        const float *br = b + (b_rows == 1 ? 0 : (size_t)n * C);
        const float *ar = a + (size_t)n * C;
        float *o = out + (size_t)n * C;
        for (int c = 0; c < C; c++) o[c] = ar[c] + br[c];
    }
}
