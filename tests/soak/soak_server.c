/* The `sam2 serve` process under test: started with its output in a log file, found listening
 * by its log line, watched for an unexpected exit, measured through /proc/<pid>/status (Linux)
 * or proc_pidinfo (macOS, which does not say the peak). */
#include "soak.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __APPLE__
#include <libproc.h>
#endif

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The port from the server's "listening on http://HOST:PORT" log line; 0 if not there yet. */
static int port_from_log(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[2048];
    int port = 0;
    while (!port && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "listening on http://");
        if (!p) continue;
        p += strlen("listening on http://");
        const char *colon = strchr(p, ':');
        if (colon) port = atoi(colon + 1);
    }
    fclose(f);
    return port;
}

int soak_server_start(soak_server *s, char *const argv[], const char *log_path, int wait_s,
                      char *why, size_t cap) {
    memset(s, 0, sizeof *s);
    snprintf(s->log_path, sizeof s->log_path, "%s", log_path);
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(why, cap, "cannot create %s: %s", log_path, strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        snprintf(why, cap, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execv(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd);
    s->pid = pid;
    for (int waited = 0; waited < wait_s * 1000; waited += 50) {
        if (!soak_server_alive(s)) {
            snprintf(why, cap, "the server exited during start-up (status %d); see %s", s->status,
                     log_path);
            return -1;
        }
        if ((s->port = port_from_log(log_path)) > 0) return 0;
        sleep_ms(50);
    }
    snprintf(why, cap, "the server did not listen within %d s; see %s", wait_s, log_path);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    s->exited = 1;
    return -1;
}

int soak_server_alive(soak_server *s) {
    if (s->exited) return 0;
    int st;
    pid_t r = waitpid(s->pid, &st, WNOHANG);
    if (r == s->pid) {
        s->exited = 1;
        s->status = st;
        return 0;
    }
    return 1;
}

static int64_t status_kb(const soak_server *s, const char *field) {
#ifdef __APPLE__
    struct proc_taskinfo ti;
    if (strcmp(field, "VmRSS") != 0 ||
        proc_pidinfo(s->pid, PROC_PIDTASKINFO, 0, &ti, sizeof ti) != (int)sizeof ti)
        return -1;
    return (int64_t)(ti.pti_resident_size / 1024);
#endif
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)s->pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int64_t kb = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':') {
            kb = strtoll(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

int64_t soak_server_rss(const soak_server *s) {
    int64_t kb = status_kb(s, "VmRSS");
    return kb < 0 ? -1 : kb * 1024;
}

int64_t soak_server_peak_rss(const soak_server *s) {
    int64_t kb = status_kb(s, "VmHWM");
    return kb < 0 ? -1 : kb * 1024;
}

int soak_server_stop(soak_server *s, int wait_s) {
    if (!soak_server_alive(s)) return WIFEXITED(s->status) ? WEXITSTATUS(s->status) : -1;
    kill(s->pid, SIGTERM);
    for (int waited = 0; waited < wait_s * 1000; waited += 50) {
        if (!soak_server_alive(s)) return WIFEXITED(s->status) ? WEXITSTATUS(s->status) : -1;
        sleep_ms(50);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &s->status, 0);
    s->exited = 1;
    return -1;
}
