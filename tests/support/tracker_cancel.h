/* A cancelled frame leaves no trace, checked the hard way: a propagation is stopped at its k-th
 * cancel check (every check inside the first tracked frames, each stage boundary in turn), then
 * resumed from the frame that was abandoned; every delivered mask and every stored entry must
 * equal, bit for bit, a run that was never cancelled. Shared by the tracker tests of both
 * predictors. */
#ifndef SAM2_TEST_TRACKER_CANCEL_H
#define SAM2_TEST_TRACKER_CANCEL_H

#include "sam2.h"

/* Opens a new tracker with the same prompts on frame 0 each time. */
typedef sam2_tracker *(*tracker_cancel_open_fn)(void);

/* frames: the video's length. Fails the cmocka test on any difference. */
void tracker_cancel_check_exact(tracker_cancel_open_fn open, int frames);

#endif
