/* A small process-wide thread pool for the compute kernels. pool_for() splits [0, n) into
 * chunks of at least `grain` items and runs fn on them from the calling thread and the workers.
 * Only one parallel loop runs at a time: a pool_for issued while another is in flight (another
 * session's inference, or a nested call from inside a task) runs serially in its caller, so the
 * pool never deadlocks and never oversubscribes the cores. */
#ifndef SAM2_CORE_THREADPOOL_H
#define SAM2_CORE_THREADPOOL_H

#include <stdint.h>

typedef void (*pool_task_fn)(void *ctx, int64_t begin, int64_t end);

/* Number of threads (caller included) a parallel loop may use. */
int pool_threads(void);
/* Changes the thread count (n <= 0: default). Safe to call when no loop is running. */
void pool_set_threads(int n);
void pool_for(int64_t n, int64_t grain, pool_task_fn fn, void *ctx);
/* Stops the workers (tests and tools call it at exit so leak checkers stay quiet). */
void pool_shutdown(void);

#endif
