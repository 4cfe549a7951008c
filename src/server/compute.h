/* The model's work at a lower scheduling priority (COMPUTE_NICE, app/priority.h), so that the
 * HTTP threads, the browser beside the server and the rest of the desktop stay responsive while
 * sessions compute. The calls that run the model (open, add_prompt, clear_frame,
 * remove_object, propagate) each run on a thread made for them, lowered to SCHED_BATCH and the
 * nice value, while the HTTP or stream thread that asked waits at its normal priority (a thread
 * cannot raise its priority back once lowered). Everything else goes straight through. With
 * nothing else running nothing slows down; starting the thread costs tens of microseconds. */
#ifndef SAM2_SERVER_COMPUTE_H
#define SAM2_SERVER_COMPUTE_H

#include "server/inference.h"

typedef struct compute_ops {
    inference_ops ops; /* what the server calls */
    const inference_ops *inner;
    int nice;
} compute_ops;

/* Fills c so that c->ops runs inner's model calls at `nice` (1..19). */
void compute_ops_init(compute_ops *c, const inference_ops *inner, int nice);

#endif
