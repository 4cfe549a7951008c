/* app/priority.h: compute threads lowered to SCHED_BATCH and a nice value; the caller's own
 * priority is left alone, a thread already lower is not raised. Linux only (elsewhere the calls
 * report -1 and the test is skipped). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "app/priority.h"
#include "support/testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct waiter {
    atomic_long tid;
    atomic_int release;
    int nice, batch;
} waiter;

/* Publishes its id, waits to be released, then reads its own priority. */
static void *wait_main(void *arg) {
    waiter *w = arg;
    atomic_store(&w->tid, prio_self_tid());
    while (!atomic_load(&w->release)) usleep(1000);
    prio_of_thread(0, &w->nice, &w->batch);
    return NULL;
}

static void *lower_self_main(void *arg) {
    waiter *w = arg;
    w->batch = prio_lower_self(3);
    prio_of_thread(0, &w->nice, NULL);
    return NULL;
}

static void test_lower_other_threads(void **state) {
    (void)state;
    int nice0, batch0;
    assert_int_equal(prio_of_thread(0, &nice0, &batch0), 0);
    waiter w[2] = {0};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, wait_main, &w[i]);
    for (int i = 0; i < 2; i++)
        while (!atomic_load(&w[i].tid)) usleep(1000);
    /* Two waiting threads (and any thread the libraries started) are lowered, not this one. */
    assert_true(prio_lower_other_threads(5) >= 2);
    for (int i = 0; i < 2; i++) {
        int nice, batch;
        assert_int_equal(prio_of_thread(atomic_load(&w[i].tid), &nice, &batch), 0);
        assert_int_equal(nice, nice0 > 5 ? nice0 : 5);
        assert_int_equal(batch, 1);
        atomic_store(&w[i].release, 1);
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].batch, 1); /* the thread sees it too */
    }
    int nice, batch;
    assert_int_equal(prio_of_thread(0, &nice, &batch), 0);
    assert_int_equal(nice, nice0);
    assert_int_equal(batch, batch0);
}

static void test_lower_self(void **state) {
    (void)state;
    waiter w = {0};
    pthread_t th;
    pthread_create(&th, NULL, lower_self_main, &w);
    pthread_join(th, NULL);
    assert_int_equal(w.batch, 0); /* prio_lower_self's result */
    int nice0;
    prio_of_thread(0, &nice0, NULL);
    assert_int_equal(w.nice, nice0 > 3 ? nice0 : 3);
    /* 0 changes nothing. */
    assert_int_equal(prio_lower_self(0), 0);
    int nice;
    prio_of_thread(0, &nice, NULL);
    assert_int_equal(nice, nice0);
}

int main(void) {
    if (prio_of_thread(0, NULL, NULL)) {
        printf("SKIP: no per-thread scheduling priorities on this platform; the priority tests did "
               "not run\n");
        return TEST_SKIP_CODE;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lower_self),
        cmocka_unit_test(test_lower_other_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
