#include "parity_common.h"

#include <string.h>

static void free_model(sam2_model *m) {
    sam2_model_free(m);
}

int parity_load_model(parity_ctx *ctx) {
    if (ctx->model) return 0;
    sam2_error err = {0};
    const golden_set *g = ctx->golden;
    ctx->model = sam2_model_load(g->checkpoint, g->config, &err);
    if (!ctx->model) {
        parity_report_fail(ctx->report, "model", g->checkpoint, "cannot load: %s", err.message);
        return 1;
    }
    ctx->free_model = free_model;
    return 0;
}

static void capture_fn(void *user, const char *name, const void *data, tap_dtype dtype, int ndim,
                       const int64_t *shape, tap_layout layout) {
    parity_capture *cap = user;
    if (!strcmp(name, "decoder_choice") && dtype == TAP_I32 && ndim == 1 && shape[0] == 6) {
        memcpy(cap->choice, data, sizeof cap->choice);
        cap->have_choice = 1;
        cap->nchoices++;
    }
    if (cap->observe) cap->observe(cap->observe_user, name, data, dtype, ndim, shape);
    parity_tap_emit(cap->ctx->tap, name, data, dtype, ndim, shape, layout);
}

sam2_tap parity_capture_tap(parity_capture *cap, parity_ctx *ctx) {
    memset(cap, 0, sizeof *cap);
    cap->ctx = ctx;
    sam2_tap t = {.fn = capture_fn, .user = cap};
    return t;
}
