#include "app/atomic_file.h"

#include "core/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char host_tag[33];
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void make_host_tag(void) {
    char name[256] = "";
    if (gethostname(name, sizeof name - 1)) name[0] = 0;
    size_t n = 0;
    for (const char *p = name; *p && n < sizeof host_tag - 1; p++) {
        char c = *p;
        int keep =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        host_tag[n++] = keep ? c : '-';
    }
    if (!n) snprintf(host_tag, sizeof host_tag, "host");
}

const char *sam2_host_tag(void) {
    pthread_once(&host_once, make_host_tag);
    return host_tag;
}

int sam2_parse_owner(const char *text, char *host, size_t cap, long *pid) {
    const char *dot = strchr(text, '.');
    if (!dot || dot == text || (size_t)(dot - text) >= cap) return -1;
    char *end;
    errno = 0;
    long v = strtol(dot + 1, &end, 10);
    if (end == dot + 1 || errno || v <= 0 || v > INT_MAX) return -1; /* a pid_t */
    memcpy(host, text, (size_t)(dot - text));
    host[dot - text] = 0;
    *pid = v;
    return 0;
}

int sam2_owner_gone(const char *host, long pid, double mtime, int stale_s) {
    if (strcmp(host, sam2_host_tag()) != 0) return (double)time(NULL) - mtime > stale_s;
    if (pid == (long)getpid()) return 0;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

int atomic_tmp_in_dir(const char *dir, const char *suffix, char *tmp, size_t n, sam2_error *err) {
    if (!suffix) suffix = "";
    int len = snprintf(tmp, n, "%s/" SAM2_TMP_PREFIX "%s.%ld-XXXXXX%s", dir && *dir ? dir : ".",
                       sam2_host_tag(), (long)getpid(), suffix);
    if (len < 0 || (size_t)len >= n)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "path too long: '%s'", dir);
    int fd = mkstemps(tmp, (int)strlen(suffix));
    if (fd < 0) {
        sam2_fail(err, SAM2_ERR_IO, "cannot create a file in '%s': %s", dir, strerror(errno));
        tmp[0] = 0;
        return err ? err->code : SAM2_ERR_IO;
    }
    fchmod(fd, 0644);
    close(fd);
    return 0;
}

int atomic_tmp_beside(const char *final_path, const char *suffix, char *tmp, size_t n,
                      sam2_error *err) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", final_path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    return atomic_tmp_in_dir(dir, suffix, tmp, n, err);
}

static void fsync_path(const char *path, int flags) {
    int fd = open(path, flags);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int atomic_commit(const char *tmp, const char *final_path, sam2_error *err) {
    fsync_path(tmp, O_RDONLY);
    if (rename(tmp, final_path) != 0) {
        int e = errno;
        unlink(tmp);
        return sam2_fail(err, SAM2_ERR_IO, "cannot move the new file to '%s': %s", final_path,
                         strerror(e));
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", final_path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
        fsync_path(*dir ? dir : "/", O_RDONLY | O_DIRECTORY);
    } else {
        fsync_path(".", O_RDONLY | O_DIRECTORY);
    }
    return 0;
}

int sam2_remove_stale_temp_files(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, SAM2_TMP_PREFIX, strlen(SAM2_TMP_PREFIX)) != 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        char host[64];
        long pid;
        /* Another process (here or on another machine sharing the folder) may be writing it. */
        if (!sam2_parse_owner(e->d_name + strlen(SAM2_TMP_PREFIX), host, sizeof host, &pid) &&
            !sam2_owner_gone(host, pid, (double)st.st_mtime, SAM2_TMP_FOREIGN_STALE_S))
            continue;
        if (unlink(path) == 0) removed++;
    }
    closedir(d);
    return removed;
}
