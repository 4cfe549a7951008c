/* Uploads are transcoded one at a time (MAX_CONCURRENT_UPLOADS, default 1): each costs a decoder
 * and an x264 encoder (up to ~160 MB and seconds of CPU for a large input), so a burst of them
 * waits in line, up to REQUEST_TIMEOUT, instead of running side by side. While one runs, its
 * memory estimate counts in sam2_job_bytes and against MAX_MEMORY_MB (server_job_bytes). */
#ifndef SAM2_SERVER_UPLOAD_QUEUE_H
#define SAM2_SERVER_UPLOAD_QUEUE_H

#include "sam2.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

typedef struct upload_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running, limit;
    size_t reserve;             /* bytes counted for each upload being transcoded */
    const atomic_int *stopping; /* the server's: no new turns once it is set */
    atomic_llong *job_bytes;    /* the server's count of memory held outside sessions */
} upload_queue;

/* max_side: MAX_VIDEO_SIDE (the largest input frame), out_w x out_h: VIDEO_ENCODE_MAX_*.
 * `stopping` and `job_bytes` are the server's (the queue takes the state it needs, so that it
 * depends on nothing of the server). */
void upload_queue_init(upload_queue *q, int limit, int max_side, int out_w, int out_h,
                       const atomic_int *stopping, atomic_llong *job_bytes);
void upload_queue_destroy(upload_queue *q);
/* Waits for a turn (up to timeout_s); 0, or SAM2_ERR_LIMIT with a message naming the limit. */
int upload_queue_enter(upload_queue *q, int timeout_s, sam2_error *err);
void upload_queue_leave(upload_queue *q);

#endif
