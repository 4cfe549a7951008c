/* Cancellation checks inside long computations. A long forward pass (the image encoder, the
 * memory attention) asks at its stage boundaries whether its caller still wants the result; the
 * caller (the video tracker) answers from its cancel flag and its user's hook. Production code
 * that never cancels passes NULL and pays one branch per stage. */
#ifndef SAM2_CORE_CANCEL_H
#define SAM2_CORE_CANCEL_H

/* Returned by a forward pass that stopped at a check: distinct from its failure codes (-1 out
 * of memory, -2 bad geometry), so the caller can report a cancellation, not an error. */
#define CANCEL_STOPPED (-100)

typedef struct cancel_check {
    int (*fn)(void *user); /* nonzero: stop at this boundary */
    void *user;
} cancel_check;

static inline int cancel_requested(const cancel_check *c) {
    return c && c->fn && c->fn(c->user);
}

#endif
