/* sam2-parity: replays the cases and steps of a golden folder (../shared/golden/README.md
 * layout) through sam2c and compares every recorded tensor. parity_main.c opens the set and
 * dispatches each folder listed in its index.json to a runner of its type; runners drive the
 * model with the recorded inputs and let the tap bridge (ctx->tap) compare what it emits. */
#ifndef SAM2_PARITY_H
#define SAM2_PARITY_H

#include "sam2.h"
#include "support/golden.h"
#include "support/parity_report.h"

typedef struct parity_options {
    const char *only; /* NULL (everything), "image" or "video" */
    int verbose;      /* one line per compared tensor */
} parity_options;

typedef struct parity_ctx {
    const golden_set *golden; /* checkpoint, config (YAML path or preset name), folders */
    parity_report *report;
    parity_tap *tap; /* bound to golden and report; runners open its scopes */
    parity_options opt;
    /* The model, loaded by the first runner that needs it from golden->checkpoint and
     * golden->config; the runner also sets free_model, which main calls at exit. */
    sam2_model *model;
    void (*free_model)(sam2_model *model);
} parity_ctx;

/* image/<img> and its case folders (image/<img>/<case>, in index order). Returns 0 when the
 * run may continue (failures are in the report); non-zero when nothing further can run (the
 * reason already recorded as a failure). */
int parity_run_image(parity_ctx *ctx, const char *image_folder, const char *const *case_folders,
                     int ncases);
/* video/frames, video/api or video/demo; same return convention. */
int parity_run_video(parity_ctx *ctx, const char *folder);

#endif
