#include "server/scheduler.h"

#include "sam2.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

typedef struct waiter {
    struct waiter *next;
    fair_client *client;
    uint64_t arrival;
    int granted;
    pthread_cond_t cv;
} waiter;

struct fair_sched {
    pthread_mutex_t mu;
    int slots, free_slots;
    waiter *waiters; /* unordered list; the grant picks the fairest */
    int n_waiting;
    uint64_t turn, arrivals;
};

fair_sched *fair_new(int slots) {
    fair_sched *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    pthread_mutex_init(&s->mu, NULL);
    s->slots = s->free_slots = slots > 0 ? slots : 1;
    return s;
}

void fair_free(fair_sched *s) {
    if (!s) return;
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* Hands a free slot to the waiter whose client had its turn longest ago (then the earliest
 * arrival). Called with the lock held and free_slots > 0. */
static void grant_next(fair_sched *s) {
    while (s->free_slots > 0 && s->waiters) {
        waiter **best = &s->waiters;
        for (waiter **w = &s->waiters; *w; w = &(*w)->next) {
            const waiter *a = *w, *b = *best;
            if (a->client->last_turn < b->client->last_turn ||
                (a->client->last_turn == b->client->last_turn && a->arrival < b->arrival))
                best = w;
        }
        waiter *g = *best;
        *best = g->next;
        s->n_waiting--;
        s->free_slots--;
        g->client->last_turn = ++s->turn;
        g->granted = 1;
        pthread_cond_signal(&g->cv);
    }
}

/* The clock the waiters' condition variables time out on: CLOCK_MONOTONIC (immune to changes
 * of the wall clock) where pthread_condattr_setclock exists; macOS lacks it, so there they wait
 * on CLOCK_REALTIME. The queue's own timeout is always measured on CLOCK_MONOTONIC. */
#ifdef __APPLE__
#define WAIT_CLOCK CLOCK_REALTIME
#else
#define WAIT_CLOCK CLOCK_MONOTONIC
#endif

static void deadline_on(clockid_t clock, struct timespec *ts, int ms) {
    clock_gettime(clock, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void deadline_in(struct timespec *ts, int ms) {
    deadline_on(CLOCK_MONOTONIC, ts, ms);
}

/* Milliseconds from a to b (negative when b is earlier). */
static int64_t ms_between(const struct timespec *a, const struct timespec *b) {
    return (int64_t)(b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

static int before(const struct timespec *a, const struct timespec *b) {
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Waits in the queue; the lock is held on entry and exit. */
static int wait_turn(fair_sched *s, fair_client *c, const atomic_int *cancel, int timeout_ms) {
    waiter w = {0};
    w.client = c;
    w.arrival = ++s->arrivals;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
#ifndef __APPLE__
    pthread_condattr_setclock(&attr, WAIT_CLOCK);
#endif
    pthread_cond_init(&w.cv, &attr);
    pthread_condattr_destroy(&attr);
    w.next = s->waiters;
    s->waiters = &w;
    s->n_waiting++;
    grant_next(s);
    struct timespec end;
    if (timeout_ms > 0) deadline_in(&end, timeout_ms);
    int rc = 0;
    while (!w.granted) {
        /* Wake up regularly to notice a cancellation (a closed session, a gone client). */
        int tick_ms = 50;
        if (timeout_ms > 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            const int64_t left = ms_between(&now, &end);
            if (left < tick_ms) tick_ms = left > 0 ? (int)left : 0;
        }
        struct timespec tick;
        deadline_on(WAIT_CLOCK, &tick, tick_ms);
        pthread_cond_timedwait(&w.cv, &s->mu, &tick);
        if (w.granted) break;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (cancel && atomic_load(cancel))
            rc = SAM2_ERR_CANCELLED;
        else if (timeout_ms > 0 && !before(&now, &end))
            rc = SAM2_ERR_LIMIT;
        if (rc) break;
    }
    if (!w.granted) {
        for (waiter **p = &s->waiters; *p; p = &(*p)->next)
            if (*p == &w) {
                *p = w.next;
                s->n_waiting--;
                break;
            }
    }
    pthread_cond_destroy(&w.cv);
    return w.granted ? 0 : rc;
}

int fair_acquire(fair_sched *s, fair_client *c, const atomic_int *cancel, int timeout_ms) {
    pthread_mutex_lock(&s->mu);
    int rc;
    if (cancel && atomic_load(cancel)) {
        rc = SAM2_ERR_CANCELLED;
    } else if (s->free_slots > 0 && !s->waiters) {
        s->free_slots--;
        c->last_turn = ++s->turn;
        rc = 0;
    } else {
        rc = wait_turn(s, c, cancel, timeout_ms);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void fair_release(fair_sched *s) {
    pthread_mutex_lock(&s->mu);
    s->free_slots++;
    grant_next(s);
    pthread_mutex_unlock(&s->mu);
}

int fair_yield(fair_sched *s, fair_client *c, const atomic_int *cancel) {
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    if (s->waiters) {
        s->free_slots++;
        rc = wait_turn(s, c, cancel, 0);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int fair_waiting(fair_sched *s) {
    pthread_mutex_lock(&s->mu);
    int n = s->n_waiting;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int fair_busy(fair_sched *s) {
    pthread_mutex_lock(&s->mu);
    int n = s->slots - s->free_slots;
    pthread_mutex_unlock(&s->mu);
    return n;
}
