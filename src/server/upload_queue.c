#include "server/upload_queue.h"

#include "sam2.h"

#include <errno.h>
#include <time.h>

void upload_queue_init(upload_queue *q, int limit, int max_side, int out_w, int out_h,
                       const atomic_int *stopping, atomic_llong *job_bytes) {
    q->stopping = stopping;
    q->job_bytes = job_bytes;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->running = 0;
    q->limit = limit > 0 ? limit : 1;
    /* The decoder holds a few frames of the input (YUV 4:2:0, 1.5 bytes a pixel) and x264 its
     * lookahead and references of the output: about 160 MB for a 4096 x 4096 input to 720p,
     * which is what such an upload was measured to take. */
    const size_t in_frame = (size_t)max_side * (size_t)max_side * 3 / 2;
    const size_t out_frame = (size_t)out_w * (size_t)out_h * 3 / 2;
    q->reserve = 4 * in_frame + 40 * out_frame;
}

void upload_queue_destroy(upload_queue *q) {
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
}

int upload_queue_enter(upload_queue *q, int timeout_s, sam2_error *err) {
    struct timespec end;
    clock_gettime(CLOCK_REALTIME, &end);
    end.tv_sec += timeout_s;
    pthread_mutex_lock(&q->mu);
    int rc = 0;
    while (q->running >= q->limit && rc != ETIMEDOUT && !atomic_load(q->stopping))
        rc = pthread_cond_timedwait(&q->cv, &q->mu, &end);
    const int admitted = q->running < q->limit && !atomic_load(q->stopping);
    if (admitted) q->running++;
    pthread_mutex_unlock(&q->mu);
    if (!admitted)
        return sam2_fail(err, SAM2_ERR_LIMIT,
                         "The server is busy transcoding other uploads (MAX_CONCURRENT_UPLOADS=%d) "
                         "and none finished "
                         "within %d s; try again later",
                         q->limit, timeout_s);
    atomic_fetch_add(q->job_bytes, (long long)q->reserve);
    return 0;
}

void upload_queue_leave(upload_queue *q) {
    atomic_fetch_sub(q->job_bytes, (long long)q->reserve);
    pthread_mutex_lock(&q->mu);
    q->running--;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
}
