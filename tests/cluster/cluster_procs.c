/* The processes of the cluster test: `sam2 serve` replicas and HAProxy, each with its output in a
 * log file, found listening by their log lines and HAProxy's stats page. */
#include "cluster.h"

#include "support/http_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (!bind(fd, (struct sockaddr *)&a, sizeof a) && !getsockname(fd, (struct sockaddr *)&a, &len))
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* The port after `marker` ("...http://127.0.0.1:PORT") in the log; 0 when not there yet. */
static int port_in_log(const char *path, const char *marker) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[4096];
    int port = 0;
    while (!port && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, marker);
        if (!p) continue;
        const char *colon = strchr(p + strlen(marker), ':');
        if (colon) port = atoi(colon + 1);
    }
    fclose(f);
    return port;
}

/* Forks argv with its output in log_path; env: NULL-terminated "NAME=value" strings added. */
static int spawn(proc *p, char *const argv[], char *const env[], const char *log_path, char *why,
                 size_t cap) {
    snprintf(p->log_path, sizeof p->log_path, "%s", log_path);
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
        for (int i = 0; env && env[i]; i++) putenv(env[i]);
        execv(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd);
    p->pid = pid;
    p->exited = 0;
    return 0;
}

int proc_alive(proc *p) {
    if (p->exited || p->pid <= 0) return 0;
    int st;
    if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
        p->exited = 1;
        p->status = st;
        return 0;
    }
    return 1;
}

int proc_stop(proc *p, int sig, int wait_ms) {
    if (proc_alive(p)) {
        kill(p->pid, sig);
        for (int waited = 0; waited < wait_ms && proc_alive(p); waited += 20) sleep_ms(20);
        if (proc_alive(p)) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &p->status, 0);
            p->exited = 1;
            return -1;
        }
    }
    return WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1;
}

int replica_start(proc *p, const replica_setup *rs, const char *node, char *why, size_t cap) {
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", node ? node : "single");
    char log_path[1024], spill[1024], threads[16];
    snprintf(log_path, sizeof log_path, "%s/%s.log", rs->work_dir, p->name);
    snprintf(spill, sizeof spill, "%s/spill-%s", rs->work_dir, p->name);
    mkdir(spill, 0755);
    snprintf(threads, sizeof threads, "%d", rs->threads);
    char *argv[40];
    int n = 0;
    argv[n++] = (char *)rs->sam2;
    argv[n++] = "serve";
    argv[n++] = "--checkpoint";
    argv[n++] = (char *)rs->checkpoint;
    argv[n++] = "--config";
    argv[n++] = (char *)rs->config;
    argv[n++] = "--data";
    argv[n++] = (char *)rs->data_dir;
    argv[n++] = "--spill-dir";
    argv[n++] = spill;
    argv[n++] = "--host";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--admin-port";
    argv[n++] = "0";
    argv[n++] = "--threads";
    argv[n++] = threads;
    argv[n++] = "--session-memory-mb";
    argv[n++] = "256";
    argv[n++] = "--timeout";
    argv[n++] = "120";
    argv[n++] = "--drain-timeout";
    argv[n++] = "120";
    /* HAProxy reaches the replicas from the loopback address: its X-Forwarded-For names the
     * client for the per-client limits (deploy/README.md). */
    argv[n++] = "--trusted-proxies";
    argv[n++] = "127.0.0.1";
    if (node) {
        argv[n++] = "--node-id";
        argv[n++] = (char *)node;
    }
    argv[n] = NULL;
    if (spawn(p, argv, NULL, log_path, why, cap)) return -1;
    for (int waited = 0; waited < 60000; waited += 50) {
        if (!proc_alive(p)) {
            snprintf(why, cap, "%s exited during start-up; see %s", p->name, log_path);
            return -1;
        }
        p->port = port_in_log(log_path, "listening on http://");
        p->admin_port = port_in_log(log_path, "admin listener on http://");
        if (p->port > 0 && p->admin_port > 0) return 0;
        sleep_ms(50);
    }
    snprintf(why, cap, "%s did not listen within 60 s; see %s", p->name, log_path);
    proc_stop(p, SIGKILL, 1000);
    return -1;
}

/* The stats page as CSV; NULL when it does not answer. */
static char *stats_csv(int stats_port) {
    http_response r;
    if (http_request(stats_port, "GET", "/stats;csv", NULL, NULL, 0, &r, 5000)) return NULL;
    char *body = r.status == 200 ? strdup(r.body) : NULL;
    http_response_free(&r);
    return body;
}

void haproxy_server_state(int stats_port, const char *backend, const char *server, char *out,
                          size_t cap) {
    out[0] = 0;
    char *csv = stats_csv(stats_port);
    if (!csv) return;
    /* pxname,svname,... with the status in the 18th column. */
    for (char *line = strtok(csv, "\n"); line; line = strtok(NULL, "\n")) {
        char *fields[20];
        int n = 0;
        for (char *p = line; n < 20;) {
            fields[n++] = p;
            char *comma = strchr(p, ',');
            if (!comma) break;
            *comma = 0;
            p = comma + 1;
        }
        if (n >= 18 && !strcmp(fields[0], backend) && !strcmp(fields[1], server)) {
            snprintf(out, cap, "%s", fields[17]);
            break;
        }
    }
    free(csv);
}

int haproxy_wait_state(int stats_port, const char *backend, const char *server, const char *state,
                       int ms) {
    char now[64];
    for (int waited = 0; waited <= ms; waited += 50) {
        haproxy_server_state(stats_port, backend, server, now, sizeof now);
        if (!strncmp(now, state, strlen(state))) return 1;
        sleep_ms(50);
    }
    return 0;
}

int haproxy_start(proc *p, const char *haproxy, const char *cfg, const char *work_dir,
                  const int replica_ports[3], int up_mask, int *proxy_port, int *stats_port,
                  char *why, size_t cap) {
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "haproxy");
    *proxy_port = free_port();
    *stats_port = free_port();
    static char env[5][96]; /* putenv keeps the pointers: in the child only */
    snprintf(env[0], sizeof env[0], "SAM2_PROXY_BIND=127.0.0.1:%d", *proxy_port);
    snprintf(env[1], sizeof env[1], "SAM2_PROXY_STATS=127.0.0.1:%d", *stats_port);
    for (int i = 0; i < 3; i++)
        snprintf(env[2 + i], sizeof env[2 + i], "SAM2_R%d=127.0.0.1:%d", i + 1,
                 replica_ports[i] > 0 ? replica_ports[i] : free_port());
    char *envp[] = {env[0], env[1], env[2], env[3], env[4], NULL};
    char *argv[] = {(char *)haproxy, "-db", "-f", (char *)cfg, NULL};
    char log_path[1024];
    snprintf(log_path, sizeof log_path, "%s/haproxy.log", work_dir);
    if (spawn(p, argv, envp, log_path, why, cap)) return -1;
    p->port = *proxy_port;
    const char *names[] = {"r1", "r2", "r3"};
    for (int i = 0; i < 3; i++) {
        if (!(up_mask & (1 << i))) continue;
        if (!haproxy_wait_state(*stats_port, "balanced", names[i], "UP", 20000) ||
            !haproxy_wait_state(*stats_port, "sessions", names[i], "UP", 20000)) {
            snprintf(why, cap, "HAProxy does not see %s UP within 20 s%s; see %s", names[i],
                     proc_alive(p) ? "" : " (it exited)", log_path);
            proc_stop(p, SIGKILL, 1000);
            return -1;
        }
    }
    return 0;
}

double metric_sum(const char *metrics, const char *prefix) {
    double sum = 0;
    size_t n = strlen(prefix);
    for (const char *line = metrics; line && *line;) {
        const char *eol = strchr(line, '\n');
        if (!strncmp(line, prefix, n)) {
            const char *space = memchr(line, ' ', eol ? (size_t)(eol - line) : strlen(line));
            if (space) sum += strtod(space + 1, NULL);
        }
        line = eol ? eol + 1 : NULL;
    }
    return sum;
}
