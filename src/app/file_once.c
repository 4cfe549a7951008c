#include "app/file_once.h"

#include "core/error.h"
#include "app/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int is_usable(sam2_once_usable_fn usable, void *user, const char *path) {
    if (usable) return usable(user, path);
    struct stat st;
    return !stat(path, &st) && S_ISREG(st.st_mode);
}

/* "<dir>/.sam2-claim-<name>" for "<dir>/<name>". */
static int claim_path(const char *final_path, char *out, size_t cap) {
    const char *slash = strrchr(final_path, '/');
    int dir_len = slash ? (int)(slash - final_path) : 1;
    const char *dir = slash ? final_path : ".";
    const char *name = slash ? slash + 1 : final_path;
    size_t n = (size_t)snprintf(out, cap, "%.*s/" SAM2_CLAIM_PREFIX "%s", dir_len, dir, name);
    return n < cap ? 0 : -1;
}

/* Creates the claim; 1 when it is ours, 0 when another process holds it, -1 when claims cannot be
 * made here (then the caller does the work without one). */
static int take_claim(const char *claim) {
    int fd = open(claim, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return errno == EEXIST ? 0 : -1;
    char owner[96];
    int n = snprintf(owner, sizeof owner, "%s.%ld\n", sam2_host_tag(), (long)getpid());
    ssize_t w = write(fd, owner, (size_t)n);
    close(fd);
    if (w != n) {
        unlink(claim);
        return -1;
    }
    return 1;
}

/* 1 when the claim's owner is gone (see atomic_file.h); a claim that cannot be read yet (being
 * written) or has vanished is not stale. */
static int claim_stale(const char *claim, int stale_s) {
    struct stat st;
    if (stat(claim, &st)) return 0;
    char text[96] = "";
    FILE *f = fopen(claim, "r");
    if (!f) return 0;
    size_t got = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[got] = 0;
    char host[64];
    long pid;
    if (sam2_parse_owner(text, host, sizeof host, &pid))
        return (double)time(NULL) - (double)st.st_mtime > stale_s; /* unreadable: by its age */
    return sam2_owner_gone(host, pid, (double)st.st_mtime, stale_s);
}

int sam2_file_once(const char *final_path, sam2_once_usable_fn usable, sam2_once_make_fn make,
                   void *user, const sam2_once_options *opt, int *made, sam2_error *err) {
    const int wait_ms = opt ? opt->wait_ms : 60000;
    const int stale_s = opt && opt->stale_s > 0 ? opt->stale_s : SAM2_TMP_FOREIGN_STALE_S;
    const int poll_ms = opt && opt->poll_ms > 0 ? opt->poll_ms : 50;
    if (made) *made = 0;
    char claim[4096];
    if (claim_path(final_path, claim, sizeof claim))
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "path too long: '%s'", final_path);
    const double deadline = now_s() + wait_ms / 1000.0;
    for (;;) {
        if (is_usable(usable, user, final_path)) return 0;
        int mine = take_claim(claim);
        if (mine != 0) {
            /* Made meanwhile by the process whose claim we just replaced? */
            if (mine == 1 && is_usable(usable, user, final_path)) {
                unlink(claim);
                return 0;
            }
            int rc = make(user, final_path, err);
            if (mine == 1) unlink(claim);
            if (!rc && made) *made = 1;
            return rc;
        }
        if (claim_stale(claim, stale_s)) {
            unlink(claim); /* its owner died mid-work: take over */
            continue;
        }
        if (now_s() >= deadline) { /* the owner is slow or stuck: do the work here too */
            int rc = make(user, final_path, err);
            if (!rc && made) *made = 1;
            return rc;
        }
        sleep_ms(poll_ms);
    }
}
