/* Internal entry points of the video tracker: construction from any frame source, taps, and
 * read access to the session state (used by the parity tool and tests). */
#ifndef SAM2_PREDICT_TRACKER_H
#define SAM2_PREDICT_TRACKER_H

#include "core/tap.h"
#include "sam2.h"

#include <stdbool.h>
#include <stdint.h>

struct frame_provider;

/* Takes ownership of the provider (its close() is called on failure and at free). */
sam2_tracker *tracker_new_with_provider(const sam2_model *model, struct frame_provider src,
                                        const sam2_tracker_options *opt, sam2_error *err);
/* Intermediate tensors of every model call are reported through tap (NULL: off). */
void tracker_set_tap(sam2_tracker *t, const sam2_tap *tap);

/* Which of the official predictor's dicts an entry lives in. */
typedef enum {
    TRACKER_COND = 0,    /* output_dict["cond_frame_outputs"] */
    TRACKER_NONCOND = 1, /* output_dict["non_cond_frame_outputs"] */
    TRACKER_TEMP_COND = 2,
    TRACKER_TEMP_NONCOND = 3
} tracker_store;

/* A snapshot of one stored output (copies; arrays sized by the model). Returns 0 when the
 * entry exists. maskmem_bf16 may be NULL in the call (not wanted) or come back unset when the
 * entry has no memory features yet (has_maskmem = false). */
typedef struct tracker_entry {
    float object_score;
    bool has_maskmem;
    float *obj_ptr;         /* [d_model], caller buffer */
    float *pred_masks;      /* [L*L], caller buffer */
    uint16_t *maskmem_bf16; /* [E*E*mem_dim] channels-last (EdgeTAM: [latents][mem_dim]),
                             * caller buffer (or NULL) */
} tracker_entry;
int tracker_get_entry(sam2_tracker *t, int obj_id, int frame, tracker_store store,
                      tracker_entry *out, sam2_error *err);

#endif
