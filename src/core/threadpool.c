#include "core/threadpool.h"

#include "sam2.h"

#include "core/blas.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define POOL_MAX_THREADS 256

typedef struct job {
    pool_task_fn fn;
    void *ctx;
    int64_t n, chunk;
    atomic_int_fast64_t next; /* next chunk start */
    atomic_int remaining;     /* workers still inside this job */
} job;

static struct {
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake, done;
    pthread_t workers[POOL_MAX_THREADS];
    int nworkers;   /* threads besides the caller */
    int configured; /* requested total (0 = default) */
    int started;
    int stopping;
    unsigned long generation; /* bumped per job so workers see each job once */
    job *current;
    atomic_flag busy; /* held by the thread running a parallel loop */
} P = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
       .busy = ATOMIC_FLAG_INIT};

static int default_threads(void) {
    const char *env = getenv("SAM2_THREADS");
    if (env && atoi(env) > 0) return atoi(env) > POOL_MAX_THREADS ? POOL_MAX_THREADS : atoi(env);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    return n > POOL_MAX_THREADS ? POOL_MAX_THREADS : (int)n;
}

static void run_chunks(job *j) {
    for (;;) {
        int64_t b = atomic_fetch_add(&j->next, j->chunk);
        if (b >= j->n) break;
        int64_t e = b + j->chunk < j->n ? b + j->chunk : j->n;
        j->fn(j->ctx, b, e);
    }
}

static void *worker_main(void *arg) {
    (void)arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&P.lock);
    for (;;) {
        while (!P.stopping && (P.current == NULL || P.generation == seen))
            pthread_cond_wait(&P.wake, &P.lock);
        if (P.stopping) break;
        seen = P.generation;
        job *j = P.current;
        pthread_mutex_unlock(&P.lock);
        run_chunks(j);
        pthread_mutex_lock(&P.lock);
        if (atomic_fetch_sub(&j->remaining, 1) == 1) pthread_cond_broadcast(&P.done);
    }
    pthread_mutex_unlock(&P.lock);
    return NULL;
}

static void start_locked(void) {
    if (P.started) return;
    int total = P.configured > 0 ? P.configured : default_threads();
    P.nworkers = 0;
    P.stopping = 0;
    for (int i = 0; i < total - 1; i++) {
        if (pthread_create(&P.workers[i], NULL, worker_main, NULL) != 0) break;
        P.nworkers++;
    }
    P.started = 1;
#ifndef SAM2_BLAS_ACCELERATE
    /* GEMMs run in OpenBLAS's own threads from the loop's caller: give it the same count.
     * (Accelerate has no such call; VECLIB_MAXIMUM_THREADS in the environment limits it.) */
    openblas_set_num_threads(total);
#endif
}

static void stop_locked(void) {
    if (!P.started) return;
    P.stopping = 1;
    pthread_cond_broadcast(&P.wake);
    pthread_mutex_unlock(&P.lock);
    for (int i = 0; i < P.nworkers; i++) pthread_join(P.workers[i], NULL);
    pthread_mutex_lock(&P.lock);
    P.nworkers = 0;
    P.started = 0;
    P.stopping = 0;
}

int pool_threads(void) {
    pthread_mutex_lock(&P.lock);
    start_locked();
    int n = P.nworkers + 1;
    pthread_mutex_unlock(&P.lock);
    return n;
}

void pool_set_threads(int n) {
    pthread_mutex_lock(&P.lock);
    stop_locked();
    P.configured = n > POOL_MAX_THREADS ? POOL_MAX_THREADS : (n > 0 ? n : 0);
    start_locked();
    pthread_mutex_unlock(&P.lock);
}

void pool_shutdown(void) {
    pthread_mutex_lock(&P.lock);
    stop_locked();
    pthread_mutex_unlock(&P.lock);
}

void pool_for(int64_t n, int64_t grain, pool_task_fn fn, void *ctx) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    int threads = pool_threads();
    if (threads <= 1 || n <= grain || atomic_flag_test_and_set(&P.busy)) {
        fn(ctx, 0, n);
        return;
    }
    /* About four chunks per thread balances uneven work without much overhead. */
    int64_t chunk = (n + 4 * threads - 1) / (4 * threads);
    if (chunk < grain) chunk = grain;
    job j = {.fn = fn, .ctx = ctx, .n = n, .chunk = chunk};
    atomic_init(&j.next, 0);
    pthread_mutex_lock(&P.lock);
    atomic_init(&j.remaining, P.nworkers);
    P.current = &j;
    P.generation++;
    pthread_cond_broadcast(&P.wake);
    pthread_mutex_unlock(&P.lock);

    run_chunks(&j);

    pthread_mutex_lock(&P.lock);
    while (atomic_load(&j.remaining) > 0) pthread_cond_wait(&P.done, &P.lock);
    P.current = NULL;
    pthread_mutex_unlock(&P.lock);
    atomic_flag_clear(&P.busy);
}

void sam2_set_threads(int n) {
    pool_set_threads(n);
}
int sam2_get_threads(void) {
    return pool_threads();
}
