#include "server/stream.h"

#include "sam2.h"
#include "server/paths.h"
#include "server/server_internal.h"

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STREAM_MAX_QUEUED 2 /* parts computed ahead of the client */

typedef struct part {
    struct part *next;
    char *data;
    size_t len;
} part;

struct prop_stream {
    server *srv;
    session *s;
    int start_frame;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* parts queued / consumed / done */
    part *head, *tail;
    int queued;
    int produced; /* parts ever queued */
    int done;
    int failed; /* ended with an error (not a cancellation) */
    sam2_error err;
    int refs; /* producer + consumer */
    int consumer_gone;
    int holding_slot;
    part *cur;
    size_t cur_off;
    atomic_long frames;
    long sent;            /* parts handed to the client in full (under mu) */
    int left_logged;      /* "client closed the stream" was logged (under mu) */
    int lost_logged;      /* producer only */
    int stopped_by_limit; /* producer only: on_frame stopped the propagation with st->err */
    double frame_t0;      /* producer only: when the frame being computed started */
};

void savi_part(strbuf *out, const inf_frame *f) {
    /* Body: Python's json.dumps of the dataclass (", " and ": " separators, snake_case). */
    strbuf body;
    sb_init(&body);
    sb_printf(&body, "{\"frame_index\": %d, \"results\": [", f->frame_index);
    for (int i = 0; i < f->n; i++) {
        if (i) sb_puts(&body, ", ");
        sb_printf(&body,
                  "{\"object_id\": %d, \"mask\": {\"size\": [%d, %d], \"counts\": ", f->masks[i].id,
                  f->masks[i].height, f->masks[i].width);
        sb_json_string(&body, f->masks[i].counts ? f->masks[i].counts : "");
        sb_puts(&body, "}}");
    }
    sb_puts(&body, "]}");
    sb_puts(out, "--frame\r\n"
                 "Content-Type: application/json; charset=utf-8\r\n"
                 "Frame-Current: -1\r\n"
                 "Frame-Total: -1\r\n"
                 "Mask-Type: RLE[]\r\n");
    sb_printf(out, "Content-Length: %zu\r\n\r\n", body.len);
    sb_append(out, body.data, body.len);
    if (body.failed) out->failed = 1;
    sb_free(&body);
}

static void free_parts(part *p) {
    while (p) {
        part *n = p->next;
        free(p->data);
        free(p);
        p = n;
    }
}

static void unref(prop_stream *st) {
    pthread_mutex_lock(&st->mu);
    int left = --st->refs;
    pthread_mutex_unlock(&st->mu);
    if (left) return;
    free_parts(st->head);
    free_parts(st->cur);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    free(st);
}

static int cancelled(prop_stream *st) {
    return atomic_load(session_cancel_flag(st->s)) || atomic_load(&st->srv->stopping);
}

/* Queues a part, waiting (without the inference slot) while the client is behind. */
static int push_part(prop_stream *st, part *p) {
    pthread_mutex_lock(&st->mu);
    while (st->queued >= STREAM_MAX_QUEUED && !st->consumer_gone && !cancelled(st)) {
        if (st->holding_slot) {
            /* Let other sessions compute while this client catches up. */
            pthread_mutex_unlock(&st->mu);
            fair_release(st->srv->sched);
            pthread_mutex_lock(&st->mu);
            st->holding_slot = 0;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&st->cv, &st->mu, &ts);
    }
    int gone = st->consumer_gone || cancelled(st);
    if (!gone) {
        if (st->tail)
            st->tail->next = p;
        else
            st->head = p;
        st->tail = p;
        st->queued++;
        st->produced++;
        pthread_cond_broadcast(&st->cv);
    }
    int need_slot = !st->holding_slot;
    pthread_mutex_unlock(&st->mu);
    if (gone) {
        free_parts(p);
        return 1;
    }
    if (need_slot) {
        if (fair_acquire(st->srv->sched, session_sched_client(st->s), session_cancel_flag(st->s),
                         0))
            return 1;
        pthread_mutex_lock(&st->mu);
        st->holding_slot = 1;
        pthread_mutex_unlock(&st->mu);
    }
    return 0;
}

static int on_frame(void *user, const inf_frame *f) {
    prop_stream *st = user;
    /* One observation per frame: its computation, from the moment the producer held the slot. */
    metrics_op(st->srv->metrics, OP_PROPAGATE_FRAME, metrics_now() - st->frame_t0, 1);
    /* Kept for the /export routes (export.c) even when the client will not see it: the tracker
     * computed it and remembers it. */
    if (mask_store_put(session_masks(st->s), f) > 0 && !st->lost_logged++)
        server_log(st->srv,
                   "session %s: masks exceed the session's share of SESSION_MEMORY_MB (%zu MB) "
                   "from frame %d; "
                   "exports will say so",
                   session_id(st->s), mask_store_limit(session_masks(st->s)) >> 20, f->frame_index);
    if (cancelled(st)) return 1;
    /* SPILL_MAX_MB: the frame is sent, then the propagation ends with an error. */
    sam2_error limit = {0};
    const int over = session_check_spill(st->s, st->srv->cfg.spill_max_mb, &limit);
    strbuf sb;
    sb_init(&sb);
    savi_part(&sb, f);
    part *p = calloc(1, sizeof *p);
    size_t len;
    char *data = sb_take(&sb, &len);
    if (!p || !data) {
        free(p);
        free(data);
        sam2_fail(&st->err, SAM2_ERR_NOMEM, "out of memory building a stream part");
        return 1;
    }
    p->data = data;
    p->len = len;
    atomic_fetch_add(&st->frames, 1);
    metrics_frames(st->srv->metrics, 1);
    if (push_part(st, p)) return 1;
    if (over) {
        st->err = limit;
        st->stopped_by_limit = 1;
        return 1;
    }
    /* One frame done: other sessions' jobs go first if they wait. */
    if (fair_yield(st->srv->sched, session_sched_client(st->s), session_cancel_flag(st->s))) {
        pthread_mutex_lock(&st->mu);
        st->holding_slot = 0;
        pthread_mutex_unlock(&st->mu);
        return 1;
    }
    st->frame_t0 = metrics_now();
    return cancelled(st);
}

static void *producer(void *arg) {
    prop_stream *st = arg;
    server *srv = st->srv;
    const inference_ops *inf = srv->inf;
    int rc = fair_acquire(srv->sched, session_sched_client(st->s), session_cancel_flag(st->s), 0);
    if (!rc) {
        st->holding_slot = 1;
        st->frame_t0 = metrics_now();
        /* A cancel that came before the tracker started (it clears its own flag on entry) is
         * seen here, so no frame is computed for it. */
        for (int reverse = 0; reverse <= 1 && !rc && !cancelled(st); reverse++) {
            sam2_error e = {0};
            rc = inf->propagate(inf->self, session_tracker(st->s), st->start_frame, reverse,
                                session_cancel_flag(st->s), on_frame, st, &e);
            if (rc && !st->err.code) st->err = e;
        }
        if (rc && !cancelled(st) && rc != SAM2_ERR_CANCELLED)
            metrics_op_error(srv->metrics, OP_PROPAGATE_FRAME);
    }
    pthread_mutex_lock(&st->mu);
    int holding = st->holding_slot;
    st->holding_slot = 0;
    pthread_mutex_unlock(&st->mu);
    if (holding) fair_release(srv->sched);
    /* A stop asked for by someone (cancel, a gone client) is a normal end of the stream. */
    int was_cancelled = (cancelled(st) || rc == SAM2_ERR_CANCELLED) && !st->stopped_by_limit;
    session *s = st->s;
    const double cancel_t = session_cancel_time(s);
    if (was_cancelled && cancel_t > 0)
        metrics_cancel_to_end(srv->metrics, metrics_now() - cancel_t);
    session_set_propagating(s, 0);
    session_end(s);
    pthread_mutex_lock(&st->mu);
    st->done = 1;
    st->failed = rc && !was_cancelled;
    if (st->failed && !st->err.code) sam2_fail(&st->err, rc, "propagation failed");
    if (st->failed) { /* the client sees the path it gave, never DATA_PATH */
        path_scrub(st->err.message, sizeof st->err.message, session_video_path(st->s),
                   session_display_path(st->s));
        path_scrub(st->err.message, sizeof st->err.message, srv->data_real, "DATA_PATH");
    }
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    if (st->failed)
        server_log(srv, "error: propagation in session %s failed after %ld frames: %s",
                   session_id(s), atomic_load(&st->frames), st->err.message);
    else
        server_log(srv, "propagation in session %s ended after %ld frames%s", session_id(s),
                   atomic_load(&st->frames), was_cancelled ? " (cancelled)" : "");
    session_unref(s);
    atomic_fetch_sub(&srv->streams, 1);
    unref(st);
    return NULL;
}

prop_stream *stream_start(server *srv, session *s, int start_frame, sam2_error *err) {
    prop_stream *st = calloc(1, sizeof *st);
    if (!st) {
        session_end(s);
        session_unref(s);
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory starting the propagation");
        return NULL;
    }
    st->srv = srv;
    st->s = s;
    st->start_frame = start_frame;
    st->refs = 2;
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    session_set_propagating(s, 1);
    atomic_fetch_add(&srv->streams, 1);
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&th, &attr, producer, st);
    pthread_attr_destroy(&attr);
    if (rc) {
        session_set_propagating(s, 0);
        session_end(s);
        session_unref(s);
        atomic_fetch_sub(&srv->streams, 1);
        pthread_mutex_destroy(&st->mu);
        pthread_cond_destroy(&st->cv);
        free(st);
        sam2_fail(err, SAM2_ERR_NOMEM, "cannot start a propagation thread");
        return NULL;
    }
    return st;
}

/* Whether the client closed its side of the connection. */
static int client_gone(int fd) {
    if (fd < 0) return 0;
    struct pollfd p = {fd, POLLRDHUP, 0};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void wait_tick(prop_stream *st) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 50 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&st->cv, &st->mu, &ts);
}

/* A client that leaves mid-stream is normal (the page was closed, the user clicked elsewhere):
 * logged once, as information. */
static void note_client_left_locked(prop_stream *st) {
    if (st->left_logged || st->done || atomic_load(&st->srv->stopping)) return;
    st->left_logged = 1;
    server_log(st->srv, "session %s: client closed the stream after %ld frames", session_id(st->s),
               st->sent);
}

static void mark_gone_locked(prop_stream *st) {
    if (st->consumer_gone) return;
    st->consumer_gone = 1;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    session_request_cancel(st->s);
    pthread_mutex_lock(&st->mu);
}

int stream_wait_first(prop_stream *st, int client_fd, sam2_error *err) {
    pthread_mutex_lock(&st->mu);
    while (!st->produced && !st->done) {
        if (client_gone(client_fd)) {
            note_client_left_locked(st);
            mark_gone_locked(st);
        }
        wait_tick(st);
    }
    int failed = !st->produced && st->failed;
    if (failed && err) *err = st->err;
    pthread_mutex_unlock(&st->mu);
    return failed ? -1 : 0;
}

ssize_t stream_read(prop_stream *st, char *buf, size_t max, int client_fd) {
    pthread_mutex_lock(&st->mu);
    ssize_t r;
    for (;;) {
        if (st->cur && st->cur_off < st->cur->len) {
            size_t n = st->cur->len - st->cur_off;
            if (n > max) n = max;
            memcpy(buf, st->cur->data + st->cur_off, n);
            st->cur_off += n;
            r = (ssize_t)n;
            break;
        }
        if (st->cur) {
            free_parts(st->cur);
            st->cur = NULL;
            st->sent++;
        }
        if (st->head) {
            st->cur = st->head;
            st->head = st->head->next;
            if (!st->head) st->tail = NULL;
            st->cur->next = NULL;
            st->cur_off = 0;
            st->queued--;
            pthread_cond_broadcast(&st->cv);
            continue;
        }
        if (st->done) {
            r = st->failed ? STREAM_ERROR : STREAM_END;
            break;
        }
        if (atomic_load(&st->srv->stopping)) {
            mark_gone_locked(st);
            r = STREAM_ERROR;
            break;
        }
        if (client_gone(client_fd)) {
            note_client_left_locked(st);
            mark_gone_locked(st);
            r = STREAM_GONE;
            break;
        }
        wait_tick(st);
    }
    pthread_mutex_unlock(&st->mu);
    return r;
}

void stream_release(prop_stream *st) {
    pthread_mutex_lock(&st->mu);
    int running = !st->done;
    if (running) {
        /* The connection closed before the stream ended: the client went away. */
        note_client_left_locked(st);
        mark_gone_locked(st);
    }
    pthread_mutex_unlock(&st->mu);
    unref(st);
}
