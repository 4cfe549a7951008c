/* Helpers shared by the parity runners: loading the golden set's model once, and a tap that
 * forwards every tensor to the parity bridge while capturing the decoder's decisions. */
#ifndef SAM2_PARITY_COMMON_H
#define SAM2_PARITY_COMMON_H

#include "parity.h"

#include <stdint.h>

/* Loads ctx->model from the golden set's checkpoint and config (a YAML file or a preset name)
 * unless already loaded. Non-zero (and a recorded failure) when it cannot. */
int parity_load_model(parity_ctx *ctx);

typedef struct parity_capture {
    parity_ctx *ctx;
    int have_choice;
    int32_t choice[6]; /* multimask, n returned, tokens x3, best of returned */
    int nchoices;      /* decoder calls seen since reset */
    /* optional extra observer (video runner) */
    void (*observe)(void *user, const char *name, const void *data, tap_dtype dtype, int ndim,
                    const int64_t *shape);
    void *observe_user;
} parity_capture;

sam2_tap parity_capture_tap(parity_capture *cap, parity_ctx *ctx);

#endif
