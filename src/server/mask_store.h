/* The masks a session has produced (clicks, masks, clears, removals and propagations), kept for
 * the /export routes: one COCO RLE string per (frame, object), so a frame costs a few KB, not a
 * decoded image. Each frame's masks live in one immutable, reference-counted block: a new answer
 * for a frame swaps the block, and an export takes a snapshot by referencing the current blocks,
 * so it never copies masks nor holds the store's lock while it writes.
 *
 * The store counts its bytes against a limit (a share of the session's SESSION_MEMORY_MB). A
 * frame whose masks do not fit is marked lost (its older masks are dropped, being out of date)
 * and exports report it instead of answering with a partial set; a later answer for that frame
 * that fits clears the mark. Thread-safe: the session's request writes, exports read. */
#ifndef SAM2_SERVER_MASK_STORE_H
#define SAM2_SERVER_MASK_STORE_H

#include "app/mask_export.h"
#include "server/inference.h"

#include <stddef.h>

typedef struct mask_store mask_store;

/* limit_bytes 0: unlimited. */
mask_store *mask_store_new(int n_frames, size_t limit_bytes);
void mask_store_free(mask_store *m);

/* Replaces the masks of f->frame_index by f's (every object, in the tracker's order); a frame
 * answered without objects is forgotten. Returns 0 when stored, 1 when the frame was marked lost
 * (over the limit or out of memory). Frames outside the video are ignored (-1). */
int mask_store_put(mask_store *m, const inf_frame *f);
/* Takes an object out of every frame (removeObject). */
void mask_store_remove_object(mask_store *m, int object_id);
/* Forgets everything (clearPointsInVideo). */
void mask_store_clear(mask_store *m);

size_t mask_store_bytes(mask_store *m); /* held now, the frame table included */
size_t mask_store_limit(const mask_store *m);

/* The frames that have masks, in ascending order, as they are now. */
typedef struct mask_snapshot {
    int n;
    mask_frame *frames; /* views into the blocks below: valid until mask_snapshot_free */
    int lost;           /* frames marked lost */
    void **blocks;
} mask_snapshot;

int mask_store_snapshot(mask_store *m, mask_snapshot *out, sam2_error *err);
void mask_snapshot_free(mask_snapshot *s);

#endif
