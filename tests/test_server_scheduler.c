/* The fair inference scheduler: turns go to the client that waited longest since its last turn,
 * a yield hands the slot over only when someone waits, waits can be cancelled or time out, and
 * under contention the slot count is never exceeded (run it under TSan too). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "sam2.h"
#include "server/scheduler.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct order_log {
    pthread_mutex_t mu;
    char seq[64];
    int n;
} order_log;

typedef struct waiter_arg {
    fair_sched *s;
    fair_client *c;
    char name;
    order_log *log;
    int hold_ms;
} waiter_arg;

static void *take_turn(void *p) {
    waiter_arg *a = p;
    if (fair_acquire(a->s, a->c, NULL, 0) == 0) {
        pthread_mutex_lock(&a->log->mu);
        a->log->seq[a->log->n++] = a->name;
        pthread_mutex_unlock(&a->log->mu);
        if (a->hold_ms) usleep((useconds_t)a->hold_ms * 1000);
        fair_release(a->s);
    }
    return NULL;
}

static void wait_for_waiters(fair_sched *s, int n) {
    for (int i = 0; i < 2000 && fair_waiting(s) < n; i++) usleep(1000);
    assert_int_equal(fair_waiting(s), n);
}

static void test_turn_order(void **state) {
    (void)state;
    fair_sched *s = fair_new(1);
    fair_client a = {0}, b = {0}, c = {0};
    order_log log = {PTHREAD_MUTEX_INITIALIZER, {0}, 0};
    /* A holds the slot; then A (again), B and C queue, A first. */
    assert_int_equal(fair_acquire(s, &a, NULL, 0), 0);
    waiter_arg wa = {s, &a, 'a', &log, 0}, wb = {s, &b, 'b', &log, 0}, wc = {s, &c, 'c', &log, 0};
    pthread_t ta, tb, tc;
    pthread_create(&ta, NULL, take_turn, &wa);
    wait_for_waiters(s, 1);
    pthread_create(&tb, NULL, take_turn, &wb);
    wait_for_waiters(s, 2);
    pthread_create(&tc, NULL, take_turn, &wc);
    wait_for_waiters(s, 3);
    fair_release(s);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_join(tc, NULL);
    /* B and C never had a turn: they go before A's second one. */
    assert_string_equal(log.seq, "bca");
    assert_int_equal(fair_busy(s), 0);
    fair_free(s);
}

typedef struct streamer_arg {
    fair_sched *s;
    fair_client *c;
    order_log *log;
    int frames;
} streamer_arg;

/* A propagation: one slot, handed over after every frame. */
static void *stream_frames(void *p) {
    streamer_arg *a = p;
    assert_int_equal(fair_acquire(a->s, a->c, NULL, 0), 0);
    for (int f = 0; f < a->frames; f++) {
        pthread_mutex_lock(&a->log->mu);
        a->log->seq[a->log->n++] = 'S';
        pthread_mutex_unlock(&a->log->mu);
        usleep(5000);
        if (fair_yield(a->s, a->c, NULL)) return NULL;
    }
    fair_release(a->s);
    return NULL;
}

static void test_yield_lets_clicks_in(void **state) {
    (void)state;
    fair_sched *s = fair_new(1);
    fair_client sc = {0}, k1 = {0}, k2 = {0};
    order_log log = {PTHREAD_MUTEX_INITIALIZER, {0}, 0};
    streamer_arg sa = {s, &sc, &log, 10};
    pthread_t ts, t1, t2;
    pthread_create(&ts, NULL, stream_frames, &sa);
    usleep(12000);
    waiter_arg w1 = {s, &k1, '1', &log, 0}, w2 = {s, &k2, '2', &log, 0};
    pthread_create(&t1, NULL, take_turn, &w1);
    pthread_create(&t2, NULL, take_turn, &w2);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    pthread_join(ts, NULL);
    /* Both clicks were served between two frames, not after the whole stream. */
    const char *p1 = strchr(log.seq, '1'), *p2 = strchr(log.seq, '2');
    assert_non_null(p1);
    assert_non_null(p2);
    int frames_after = 0;
    for (const char *q = (p1 > p2 ? p1 : p2); *q; q++) frames_after += *q == 'S';
    assert_true(frames_after >= 5);
    /* Without waiters a yield keeps the slot. */
    fair_client x = {0};
    assert_int_equal(fair_acquire(s, &x, NULL, 0), 0);
    assert_int_equal(fair_yield(s, &x, NULL), 0);
    assert_int_equal(fair_busy(s), 1);
    fair_release(s);
    fair_free(s);
}

static void test_cancel_and_timeout(void **state) {
    (void)state;
    fair_sched *s = fair_new(1);
    fair_client a = {0}, b = {0};
    assert_int_equal(fair_acquire(s, &a, NULL, 0), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(fair_acquire(s, &b, NULL, 100), SAM2_ERR_LIMIT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms >= 90 && ms < 1000);
    atomic_int cancel;
    atomic_init(&cancel, 1);
    assert_int_equal(fair_acquire(s, &b, &cancel, 0), SAM2_ERR_CANCELLED);
    assert_int_equal(fair_waiting(s), 0);
    fair_release(s);
    assert_int_equal(fair_acquire(s, &b, &cancel, 0), SAM2_ERR_CANCELLED); /* even when free */
    atomic_store(&cancel, 0);
    assert_int_equal(fair_acquire(s, &b, &cancel, 0), 0);
    fair_release(s);
    fair_free(s);
}

typedef struct stress_arg {
    fair_sched *s;
    atomic_int *inside;
    atomic_int *max_inside;
    int slots;
} stress_arg;

static void *stress(void *p) {
    stress_arg *a = p;
    fair_client c = {0};
    for (int i = 0; i < 200; i++) {
        if (fair_acquire(a->s, &c, NULL, 0)) continue;
        int now = atomic_fetch_add(a->inside, 1) + 1;
        int m = atomic_load(a->max_inside);
        while (now > m && !atomic_compare_exchange_weak(a->max_inside, &m, now)) {
        }
        atomic_fetch_sub(a->inside, 1);
        if (i % 3 == 0) {
            /* While yielding the slot is someone else's. */
            assert_int_equal(fair_yield(a->s, &c, NULL), 0);
            now = atomic_fetch_add(a->inside, 1) + 1;
            m = atomic_load(a->max_inside);
            while (now > m && !atomic_compare_exchange_weak(a->max_inside, &m, now)) {
            }
            atomic_fetch_sub(a->inside, 1);
        }
        fair_release(a->s);
    }
    return NULL;
}

static void test_slots_never_exceeded(void **state) {
    (void)state;
    for (int slots = 1; slots <= 3; slots++) {
        fair_sched *s = fair_new(slots);
        atomic_int inside, max_inside;
        atomic_init(&inside, 0);
        atomic_init(&max_inside, 0);
        stress_arg a = {s, &inside, &max_inside, slots};
        pthread_t t[8];
        for (int i = 0; i < 8; i++) pthread_create(&t[i], NULL, stress, &a);
        for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
        assert_true(atomic_load(&max_inside) <= slots);
        assert_int_equal(fair_busy(s), 0);
        assert_int_equal(fair_waiting(s), 0);
        fair_free(s);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_turn_order),
        cmocka_unit_test(test_yield_lets_clicks_in),
        cmocka_unit_test(test_cancel_and_timeout),
        cmocka_unit_test(test_slots_never_exceeded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
