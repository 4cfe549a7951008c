/* Scheduling priority of compute threads. A program that computes on every core (the model)
 * beside interactive ones (a browser, a desktop) lowers its compute threads: SCHED_BATCH tells
 * the scheduler they are throughput work that should not preempt interactive threads when those
 * wake up, and a nice value gives them a smaller share of the CPU while something else wants it.
 * With nothing else running they get every core as before: nice and SCHED_BATCH only matter
 * under contention.
 *
 * Linux only (per-thread nice and policy through the thread id); elsewhere the calls do nothing
 * and return -1, so callers may run as they did. Raising a thread's nice value is always
 * allowed; lowering it again is not (without CAP_SYS_NICE), so a thread that must stay
 * interactive never lowers itself: compute is moved to threads made for it. */
#ifndef SAM2_APP_PRIORITY_H
#define SAM2_APP_PRIORITY_H

#define SAM2_NICE_MAX 19

/* Lowers the calling thread to SCHED_BATCH and `nice` (1..19; 0 or less: nothing is changed).
 * Returns 0, or -1 when the platform does not support it or the kernel refused. */
int prio_lower_self(int nice);
/* Lowers every other thread of this process the same way (Linux: /proc/self/task), for threads
 * that libraries started on their own (OpenBLAS's workers, created when it is loaded). Returns
 * how many threads were lowered, or -1. */
int prio_lower_other_threads(int nice);
/* The nice value and whether SCHED_BATCH is set, of thread `tid` (0: the calling thread).
 * Returns 0, or -1 when unknown. */
int prio_of_thread(long tid, int *nice, int *batch);
/* The calling thread's id (for prio_of_thread), or -1 where there is none. */
long prio_self_tid(void);

#endif
