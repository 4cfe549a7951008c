/* Fair sharing of the inference slots (the model's compute) between sessions.
 *
 * Every inference job (a click, a mask, one frame of a propagation) holds a slot while it
 * computes. Waiters are served by turns across clients: the client whose last turn is the
 * oldest goes first, so a session that streams a propagation (it gives its slot back after
 * every frame with fair_yield) cannot starve a click in another session, and a click waits for
 * at most one frame of someone else's work per slot. No lock is held across a stream. */
#ifndef SAM2_SERVER_SCHEDULER_H
#define SAM2_SERVER_SCHEDULER_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct fair_sched fair_sched;

/* One per session (or other source of jobs); zero-initialise it. */
typedef struct fair_client {
    uint64_t last_turn; /* protected by the scheduler's lock */
} fair_client;

fair_sched *fair_new(int slots);
void fair_free(fair_sched *s);

/* Waits for a slot. Returns 0 (slot held), SAM2_ERR_CANCELLED when *cancel became non-zero,
 * or SAM2_ERR_LIMIT when timeout_ms (> 0) passed first. */
int fair_acquire(fair_sched *s, fair_client *c, const atomic_int *cancel, int timeout_ms);
void fair_release(fair_sched *s);
/* Lets waiting clients have their turn, then takes the slot back. Returns as fair_acquire; on
 * failure the slot is no longer held. */
int fair_yield(fair_sched *s, fair_client *c, const atomic_int *cancel);

/* For metrics: jobs waiting, slots in use. */
int fair_waiting(fair_sched *s);
int fair_busy(fair_sched *s);

#endif
