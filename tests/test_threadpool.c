/* Thread pool: pool_for covers [0, n) exactly once in chunks of at least `grain` items (the
 * last may be shorter), uses more than one thread when it may, and runs a nested call serially
 * in the calling task. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/ops_cpu.h"
#include "core/threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct cover {
    int64_t n, grain;
    atomic_int *hits;
    atomic_int calls, short_chunks, bad;
} cover;

static void cover_task(void *ctx, int64_t b, int64_t e) {
    cover *c = ctx;
    if (b < 0 || e > c->n || b >= e) atomic_fetch_add(&c->bad, 1);
    if (e - b < c->grain) atomic_fetch_add(&c->short_chunks, 1);
    for (int64_t i = b; i < e && i >= 0 && i < c->n; i++) atomic_fetch_add(&c->hits[i], 1);
    atomic_fetch_add(&c->calls, 1);
}

static void run_cover(int64_t n, int64_t grain) {
    cover c = {.n = n, .grain = grain < 1 ? 1 : grain};
    c.hits = calloc((size_t)(n > 0 ? n : 1), sizeof(atomic_int));
    assert_non_null(c.hits);
    atomic_init(&c.calls, 0);
    atomic_init(&c.short_chunks, 0);
    atomic_init(&c.bad, 0);
    pool_for(n, grain, cover_task, &c);
    assert_int_equal(atomic_load(&c.bad), 0);
    for (int64_t i = 0; i < n; i++)
        if (atomic_load(&c.hits[i]) != 1)
            fail_msg("n=%ld grain=%ld: index %ld run %d times", (long)n, (long)grain, (long)i,
                     atomic_load(&c.hits[i]));
    if (n <= 0) assert_int_equal(atomic_load(&c.calls), 0);
    /* only the chunk that ends at n may be shorter than the grain */
    assert_true(atomic_load(&c.short_chunks) <= 1);
    free(c.hits);
}

static void test_cover(void **state) {
    (void)state;
    const int64_t ns[] = {0, 1, 2, 7, 64, 1000, 100003};
    const int64_t grains[] = {0, 1, 3, 64, 5000, 1 << 20};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (size_t g = 0; g < sizeof grains / sizeof grains[0]; g++) run_cover(ns[a], grains[g]);
}

/* --- parallelism ---------------------------------------------------------------------------------
 */

typedef struct who {
    pthread_t threads[64];
    atomic_int count;
    pthread_mutex_t lock;
} who;

static void who_task(void *ctx, int64_t b, int64_t e) {
    who *w = ctx;
    (void)b, (void)e;
    usleep(2000); /* long enough for the other threads to pick up chunks */
    pthread_mutex_lock(&w->lock);
    int n = atomic_load(&w->count), seen = 0;
    for (int i = 0; i < n; i++) seen |= pthread_equal(w->threads[i], pthread_self());
    if (!seen && n < 64) {
        w->threads[n] = pthread_self();
        atomic_store(&w->count, n + 1);
    }
    pthread_mutex_unlock(&w->lock);
}

static void test_uses_threads(void **state) {
    (void)state;
    pool_set_threads(2);
    assert_int_equal(pool_threads(), 2);
    who w = {.lock = PTHREAD_MUTEX_INITIALIZER};
    atomic_init(&w.count, 0);
    pool_for(64, 1, who_task, &w);
    assert_int_equal(atomic_load(&w.count), 2);
    pool_set_threads(1);
    assert_int_equal(pool_threads(), 1);
    atomic_store(&w.count, 0);
    pool_for(8, 1, who_task, &w);
    assert_int_equal(atomic_load(&w.count), 1);
    pool_set_threads(0);
}

/* --- nesting
 * --------------------------------------------------------------------------------------- */

typedef struct nest {
    atomic_int inner_calls, inner_bad, outer_items;
} nest;

typedef struct inner_ctx {
    nest *n;
    pthread_t owner;
    int64_t seen_b, seen_e;
    int calls;
} inner_ctx;

static void inner_task(void *ctx, int64_t b, int64_t e) {
    inner_ctx *c = ctx;
    c->calls++;
    c->seen_b = b;
    c->seen_e = e;
    if (!pthread_equal(c->owner, pthread_self())) atomic_fetch_add(&c->n->inner_bad, 1);
}

static void outer_task(void *ctx, int64_t b, int64_t e) {
    nest *n = ctx;
    for (int64_t i = b; i < e; i++) {
        inner_ctx c = {.n = n, .owner = pthread_self()};
        pool_for(1000, 1, inner_task, &c);
        /* serial: one call covering everything, in this thread */
        if (c.calls != 1 || c.seen_b != 0 || c.seen_e != 1000) atomic_fetch_add(&n->inner_bad, 1);
        atomic_fetch_add(&n->inner_calls, c.calls);
        atomic_fetch_add(&n->outer_items, 1);
    }
}

static void test_nested_serial(void **state) {
    (void)state;
    nest n;
    atomic_init(&n.inner_calls, 0);
    atomic_init(&n.inner_bad, 0);
    atomic_init(&n.outer_items, 0);
    pool_for(32, 1, outer_task, &n);
    assert_int_equal(atomic_load(&n.outer_items), 32);
    assert_int_equal(atomic_load(&n.inner_calls), 32);
    assert_int_equal(atomic_load(&n.inner_bad), 0);
}

/* --- cpu_parallel_tasks (the kernels' dynamic loop) ---------------------------------------------
 */

typedef struct tasks_ctx {
    atomic_int hits[500];
    atomic_int busy[8];
    atomic_int bad;
    int max_workers;
} tasks_ctx;

static void count_task(void *ctx, int64_t t, int worker) {
    tasks_ctx *c = ctx;
    if (t < 0 || t >= 500 || worker < 0 || worker >= c->max_workers) {
        atomic_fetch_add(&c->bad, 1);
        return;
    }
    /* a worker index (a scratch slice) is never used by two threads at once */
    if (atomic_exchange(&c->busy[worker], 1) != 0) atomic_fetch_add(&c->bad, 1);
    usleep(100);
    atomic_fetch_add(&c->hits[t], 1);
    atomic_store(&c->busy[worker], 0);
}

static void test_parallel_tasks(void **state) {
    (void)state;
    const int workers[] = {1, 2, 8};
    const int64_t counts[] = {0, 1, 3, 500};
    for (int w = 0; w < 3; w++)
        for (int n = 0; n < 4; n++) {
            static tasks_ctx c;
            memset(&c, 0, sizeof c);
            c.max_workers = workers[w];
            cpu_parallel_tasks(counts[n], workers[w], count_task, &c);
            assert_int_equal(atomic_load(&c.bad), 0);
            for (int64_t t = 0; t < 500; t++)
                assert_int_equal(atomic_load(&c.hits[t]), t < counts[n] ? 1 : 0);
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cover),
        cmocka_unit_test(test_uses_threads),
        cmocka_unit_test(test_nested_serial),
        cmocka_unit_test(test_parallel_tasks),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pool_shutdown();
    return rc;
}
