/* TEST DOUBLES for the server tests: a stand-in tracker (inference_ops) and a stand-in video
 * ingest (ingest_ops) that need no model and no codec. They exist only so the HTTP, GraphQL,
 * session, scheduling and streaming code can be tested on its own; the real ones are
 * src/server/inference.c and src/server/ingest.c.
 *
 * "Videos" are text files "frames=N width=W height=H". Masks are fake RLE strings that encode
 * what was asked ("f<frame>o<object>p<points>" for clicks, "t<frame>o<object>" for tracking);
 * they "decode" to all-ones masks. Overlay videos are text files listing the frames rendered. */
#ifndef SAM2_TEST_SERVER_DOUBLES_H
#define SAM2_TEST_SERVER_DOUBLES_H

#include "server/inference.h"
#include "server/ingest.h"
#include "server/server.h"

/* Milliseconds each propagated frame takes (default 0) and each click takes. */
void double_set_frame_delay_ms(int ms);
void double_set_click_delay_ms(int ms);
/* Frames propagated so far by all sessions (counts work done after a cancel). */
long double_frames_propagated(void);
/* Calls of the tracker's cancel (inference_ops.cancel), and frames it abandoned half-way (a
 * cancel that came while a frame was being computed), by all sessions so far. */
long double_tracker_cancels(void);
long double_frames_abandoned(void);
/* Bytes each tracked frame adds to its session's spill file (inference_ops.stats; 0 by
 * default; clearPointsInVideo empties it). */
void double_set_spill_per_frame(long bytes);
/* RLE decodes so far (addMask), and a gate that holds every decode while closed. */
long double_rle_decodes(void);
void double_set_decode_gate(int closed);
/* Makes every mask's counts string `bytes` longer (to fill the servers' mask stores). */
void double_set_counts_padding(int bytes);
/* A gate that holds every upload's transcode while closed; uploads transcoding now, and the most
 * that ever ran at once. */
void double_set_upload_gate(int closed);
int double_uploads_running(void);
int double_uploads_most(void);
/* The overlay render (ingest_ops.overlay_*): milliseconds per frame, frames rendered so far. */
void double_set_overlay_delay_ms(int ms);
long double_overlay_frames(void);

/* The scheduling priority of the thread that ran the last call of each kind (compute threads,
 * app/priority.h); called = 0 until one ran, nice = -100 when it could not be read. */
typedef enum double_call {
    DOUBLE_CALL_OPEN,
    DOUBLE_CALL_ADD_POINTS,
    DOUBLE_CALL_ADD_MASK,
    DOUBLE_CALL_CLEAR_FRAME,
    DOUBLE_CALL_REMOVE_OBJECT,
    DOUBLE_CALL_PROPAGATE,
    DOUBLE_CALL_COUNT
} double_call;
typedef struct double_priority {
    int called, nice, batch;
} double_priority;
double_priority double_last_priority(double_call kind);

const inference_ops *double_inference_ops(void);
const ingest_ops *double_ingest_ops(void);

/* A server on cfg with both doubles (server_test_start); NULL after printing why on stderr. */
server *double_server_start(const server_config *cfg);

/* Writes a fake video file. */
int double_write_video(const char *path, int frames, int width, int height);
/* One whose frame `corrupt` "cannot be decoded": clicks, masks and propagations reaching it fail
 * with the real reader's message, which names the video by the absolute path it was opened with. */
int double_write_corrupt_video(const char *path, int frames, int width, int height, int corrupt);
/* The stand-in gallery the server tests share, under data_dir (created with gallery/ and
 * gallery/sub/): 05_default_juggle.mp4 (8 frames, 1280x720), 01_dog.mp4 (5 frames, 640x480) and
 * sub/long.mp4 (400 frames of long_w x long_h). 0 or -1. */
int double_make_gallery(const char *data_dir, int long_w, int long_h);

#endif
