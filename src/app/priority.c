#include "app/priority.h"

#if defined(__linux__)

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

long prio_self_tid(void) {
    return (long)syscall(SYS_gettid);
}

static int lower_tid(long tid, int nice) {
    if (nice <= 0) return 0;
    if (nice > SAM2_NICE_MAX) nice = SAM2_NICE_MAX;
    /* On Linux both the nice value and the policy belong to the thread, not the process. */
    errno = 0;
    int cur = getpriority(PRIO_PROCESS, (id_t)tid);
    if (cur == -1 && errno) return -1;
    /* Never raise a priority that is already lower (an operator's `nice -n 15 sam2 serve`). */
    if (cur < nice && setpriority(PRIO_PROCESS, (id_t)tid, nice)) return -1;
    struct sched_param p = {0};
    if (sched_getscheduler((pid_t)tid) != SCHED_IDLE &&
        sched_setscheduler((pid_t)tid, SCHED_BATCH, &p))
        return -1;
    return 0;
}

int prio_lower_self(int nice) {
    return lower_tid(prio_self_tid(), nice);
}

int prio_lower_other_threads(int nice) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    const long self = prio_self_tid();
    int n = 0, failed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long tid = strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end || tid <= 0 || tid == self) continue;
        if (lower_tid(tid, nice))
            failed = 1;
        else
            n++;
    }
    closedir(d);
    return failed && n == 0 ? -1 : n;
}

int prio_of_thread(long tid, int *nice, int *batch) {
    if (tid == 0) tid = prio_self_tid();
    errno = 0;
    int v = getpriority(PRIO_PROCESS, (id_t)tid);
    if (v == -1 && errno) return -1;
    int policy = sched_getscheduler((pid_t)tid);
    if (policy < 0) return -1;
    if (nice) *nice = v;
    if (batch) *batch = policy == SCHED_BATCH;
    return 0;
}

#else /* no per-thread priorities here: compute runs at the process's priority */

long prio_self_tid(void) {
    return -1;
}
int prio_lower_self(int nice) {
    (void)nice;
    return -1;
}
int prio_lower_other_threads(int nice) {
    (void)nice;
    return -1;
}
int prio_of_thread(long tid, int *nice, int *batch) {
    (void)tid;
    (void)nice;
    (void)batch;
    return -1;
}

#endif
