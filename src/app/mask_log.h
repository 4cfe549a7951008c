/* The mask log: every frame's masks (one COCO RLE record per object, app/mask_rle.h) for a video,
 * kept in RAM up to a budget and, past it, in an unlinked spill file, so a log's memory does not
 * grow with the video's length. It serves both apps: the server's mask store (the masks its
 * exports write; RAM only, a frame over its share is refused and marked lost there) and
 * `sam2 track`'s results (everything past the budget goes to the file).
 *
 * Each frame is one immutable, reference-counted block: a put swaps the frame's block, and a get
 * returns a reference (a spilled frame is read back into a fresh block), so a reader never holds
 * the log's lock while it works and never sees a frame change under it. Thread-safe. */
#ifndef SAM2_APP_MASK_LOG_H
#define SAM2_APP_MASK_LOG_H

#include "app/mask_export.h"
#include "sam2.h"

#include <stddef.h>
#include <stdint.h>

typedef struct mask_log mask_log;
typedef struct mask_log_ref mask_log_ref;

typedef struct mask_log_options {
    /* Bytes of frame blocks (headers and strings) kept in RAM; 0: unlimited. */
    size_t ram_budget;
    /* Past the budget: 1 writes the frame's strings to the spill file (only their headers stay
     * in RAM); 0 refuses the frame (mask_log_put returns 1). */
    int spill;
    const char *spill_dir; /* NULL or "": $TMPDIR, else /tmp */
} mask_log_options;

/* NULL when out of memory. The spill file is created on the first spill. */
mask_log *mask_log_new(int n_frames, const mask_log_options *opt);
void mask_log_free(mask_log *l);

/* Replaces the masks of `frame` by masks[0..n) (copied; n == 0 forgets the frame). Returns 0
 * when stored (in RAM or spilled), 1 when it did not fit or memory ran out (the frame is then
 * empty, its older masks being out of date), or -1 with err set when the spill file failed
 * (the frame is empty too). Frames outside the log: -1. */
int mask_log_put(mask_log *l, int frame, const mask_rle *masks, int n, sam2_error *err);

/* The masks of `frame` with their strings (n == 0: none), valid until mask_log_unref(*ref).
 * NULL with err set when a spilled frame cannot be read back. */
const mask_frame *mask_log_get(mask_log *l, int frame, mask_log_ref **ref, sam2_error *err);
void mask_log_unref(mask_log_ref *ref);

/* Masks on `frame` (0: none), without reading anything back. */
int mask_log_count(mask_log *l, int frame);
int mask_log_frames(const mask_log *l);
size_t mask_log_ram_bytes(mask_log *l);     /* blocks in RAM plus the frame table */
size_t mask_log_spilled_bytes(mask_log *l); /* live strings in the spill file */

#endif
