/* sam2-cluster --bench SECONDS [--clients N]: the load figure of the README. N clients (default 6)
 * loop the frontend's flow through HAProxy for SECONDS: startSession on gallery/juggle8, three
 * clicks on changing frames, a propagation read to its end, one more click, closeSession. Run
 * twice in one go, against three replicas (one compute thread each) and against one replica (two
 * compute threads: the same machine either way), behind the same deploy/haproxy.cfg. Prints
 * requests/s (a stream counts once) and click latency percentiles for each. A benchmark, not a
 * test: nothing here is asserted. */
#include "cluster.h"

#include "support/frontend_gql.h"
#include "support/savi_stream.h"
#include "support/testutil.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CLICKS 100000

typedef struct bench_shared {
    int port;
    double deadline_ms;
    pthread_mutex_t mu;
    double *clicks;
    long n_clicks;
    long requests, errors, frames;
} bench_shared;

static void record_click(bench_shared *b, double ms) {
    pthread_mutex_lock(&b->mu);
    if (b->n_clicks < MAX_CLICKS) b->clicks[b->n_clicks++] = ms;
    pthread_mutex_unlock(&b->mu);
}

static void count(bench_shared *b, long requests, long errors, long frames) {
    pthread_mutex_lock(&b->mu);
    b->requests += requests;
    b->errors += errors;
    b->frames += frames;
    pthread_mutex_unlock(&b->mu);
}

static void count_part(void *user, const char *headers, const char *body, size_t len) {
    (void)headers;
    (void)body;
    (void)len;
    (*(long *)user)++;
}

/* One propagation read to its end: the parts, or -1. */
static long propagate(const server_client *c, const char *sid) {
    http_stream *st = propagation_open(c, sid, 0);
    if (!st) return -1;
    long parts = 0;
    const char *err = propagation_read(st, count_part, &parts, NULL, 0);
    http_stream_close(st);
    return err ? -1 : parts;
}

static int click(const server_client *c, const char *sid, int frame, double x, double y) {
    char vars[512];
    snprintf(vars, sizeof vars,
             "{\"input\":{\"sessionId\":\"%s\",\"frameIndex\":%d,\"objectId\":1,\"labels\":[1],"
             "\"points\":[[%.4f,"
             "%.4f]],\"clearOldPoints\":true}}",
             sid, frame, x, y);
    int status;
    cJSON *r = gql_post(c, FRONTEND_ADD_POINTS, vars, &status, NULL, 0);
    int ok = status == 200 && cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "addPoints");
    cJSON_Delete(r);
    return ok;
}

static void *bench_client(void *arg) {
    bench_shared *b = arg;
    server_client c = {b->port, 300000, NULL};
    unsigned seed = (unsigned)(size_t)pthread_self();
    while (test_now_ms() < b->deadline_ms) {
        char node[40], msg[256];
        int status;
        char *sid =
            flow_start_session(&c, "gallery/juggle8", node, sizeof node, &status, msg, sizeof msg);
        if (!sid) {
            count(b, 1, 1, 0);
            usleep(100 * 1000);
            continue;
        }
        long requests = 1, errors = 0, frames = 0;
        for (int i = 0; i < 5; i++) {
            if (i == 3) { /* the propagation, between the third and the fourth click */
                long parts = propagate(&c, sid);
                requests++;
                if (parts < 0)
                    errors++;
                else
                    frames += parts;
                continue;
            }
            double t0 = test_now_ms();
            int ok = click(&c, sid, (i * 3 + (int)(rand_r(&seed) % 8)) % 8,
                           0.2 + 0.6 * (rand_r(&seed) % 100) / 100.0,
                           0.2 + 0.6 * (rand_r(&seed) % 100) / 100.0);
            requests++;
            if (ok)
                record_click(b, test_now_ms() - t0);
            else
                errors++;
        }
        requests++;
        if (flow_close(&c, sid) != 1) errors++;
        free(sid);
        count(b, requests, errors, frames);
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, long n, double p) {
    if (n <= 0) return -1;
    long i = (long)(p / 100.0 * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

typedef struct bench_result {
    double seconds, rps, fps, p50, p90, p99;
    long requests, errors, clicks, frames;
} bench_result;

static int run_load(int port, int seconds, int clients, bench_result *out) {
    bench_shared b;
    memset(&b, 0, sizeof b);
    pthread_mutex_init(&b.mu, NULL);
    b.port = port;
    b.clicks = malloc(sizeof(double) * MAX_CLICKS);
    if (!b.clicks) return -1;
    double t0 = test_now_ms();
    b.deadline_ms = t0 + seconds * 1000.0;
    pthread_t th[64];
    if (clients > 64) clients = 64;
    for (int i = 0; i < clients; i++) pthread_create(&th[i], NULL, bench_client, &b);
    for (int i = 0; i < clients; i++) pthread_join(th[i], NULL);
    double elapsed = (test_now_ms() - t0) / 1000;
    qsort(b.clicks, (size_t)b.n_clicks, sizeof(double), cmp_double);
    *out = (bench_result){elapsed,
                          b.requests / elapsed,
                          b.frames / elapsed,
                          pct(b.clicks, b.n_clicks, 50),
                          pct(b.clicks, b.n_clicks, 90),
                          pct(b.clicks, b.n_clicks, 99),
                          b.requests,
                          b.errors,
                          b.n_clicks,
                          b.frames};
    free(b.clicks);
    pthread_mutex_destroy(&b.mu);
    return 0;
}

/* Starts `n` replicas (threads each) and HAProxy, runs the load, stops everything. */
static int measure(const replica_setup *base, const char *haproxy, const char *cfg, int n,
                   int threads, int seconds, int clients, bench_result *out) {
    replica_setup rs = *base;
    rs.threads = threads;
    proc reps[3], hap;
    memset(reps, 0, sizeof reps);
    memset(&hap, 0, sizeof hap);
    int ports[3] = {0, 0, 0}, proxy_port, stats_port, rc = -1;
    const char *nodes[3] = {"r1", "r2", "r3"};
    char why[512];
    for (int i = 0; i < n; i++) {
        if (replica_start(&reps[i], &rs, nodes[i], why, sizeof why)) {
            fprintf(stderr, "sam2-cluster --bench: %s\n", why);
            goto done;
        }
        ports[i] = reps[i].port;
    }
    if (haproxy_start(&hap, haproxy, cfg, rs.work_dir, ports, (1 << n) - 1, &proxy_port,
                      &stats_port, why, sizeof why)) {
        fprintf(stderr, "sam2-cluster --bench: %s\n", why);
        goto done;
    }
    rc = run_load(proxy_port, seconds, clients, out);
done:
    for (int i = 0; i < n; i++)
        if (reps[i].pid) proc_stop(&reps[i], SIGINT, 20000);
    if (hap.pid) proc_stop(&hap, SIGTERM, 5000);
    return rc;
}

static void print_result(const char *what, const bench_result *r) {
    printf("%-38s %6.2f requests/s  %6.2f frames/s  click p50 %6.0f ms  p90 %6.0f ms  p99 %6.0f ms "
           " (%ld requests, "
           "%ld clicks, %ld frames, %ld errors, %.0f s)\n",
           what, r->rps, r->fps, r->p50, r->p90, r->p99, r->requests, r->clicks, r->frames,
           r->errors, r->seconds);
    fflush(stdout);
}

int cluster_bench(const replica_setup *rs, const char *haproxy, const char *cfg, int seconds,
                  int clients) {
    printf("sam2-cluster --bench %d --clients %d: the micro checkpoint, gallery/juggle8 (8 frames "
           "of 1280x720), "
           "through HAProxy (deploy/haproxy.cfg)\n",
           seconds, clients);
    bench_result three, one;
    if (measure(rs, haproxy, cfg, 3, 1, seconds, clients, &three)) return 1;
    print_result("3 replicas x 1 compute thread:", &three);
    if (measure(rs, haproxy, cfg, 1, 2, seconds, clients, &one)) return 1;
    print_result("1 replica x 2 compute threads:", &one);
    printf("ratio 3 replicas / 1 replica: requests/s %.2fx, click p99 %.2fx\n", three.rps / one.rps,
           three.p99 / one.p99);
    return three.errors || one.errors ? 1 : 0;
}
