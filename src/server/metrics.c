#include "server/metrics.h"

#include "sam2.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const double BUCKETS[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
#define N_BUCKETS ((int)(sizeof BUCKETS / sizeof BUCKETS[0]))

typedef struct histogram {
    uint64_t buckets[N_BUCKETS]; /* non-cumulative; summed when rendered */
    uint64_t count;
    double sum;
} histogram;

#define N_STATUS 6 /* 1xx..5xx, other */

struct metrics {
    pthread_mutex_t mu;
    uint64_t requests[ROUTE_COUNT][N_STATUS];
    histogram latency[ROUTE_COUNT];
    histogram ops[OP_COUNT];
    uint64_t op_errors[OP_COUNT];
    histogram cancel_to_end;
    uint64_t frames;
    double started;
};

static const char *ROUTE_NAMES[ROUTE_COUNT] = {
    "graphql", "propagate_in_video", "static", "healthy", "metrics", "export", "other"};
static const char *OP_NAMES[OP_COUNT] = {"startSession",       "addPoints",          "addMask",
                                         "clearPointsInFrame", "clearPointsInVideo", "removeObject",
                                         "uploadVideo",        "propagateFrame"};

double metrics_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

metrics *metrics_new(void) {
    metrics *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    pthread_mutex_init(&m->mu, NULL);
    m->started = metrics_now();
    return m;
}

void metrics_free(metrics *m) {
    if (!m) return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static void observe(histogram *h, double v) {
    for (int i = 0; i < N_BUCKETS; i++)
        if (v <= BUCKETS[i]) {
            h->buckets[i]++;
            break;
        }
    h->count++;
    h->sum += v;
}

void metrics_request(metrics *m, metrics_route route, int status, double seconds) {
    if (!m || route < 0 || route >= ROUTE_COUNT) return;
    int cls = status >= 100 && status < 600 ? status / 100 - 1 : N_STATUS - 1;
    pthread_mutex_lock(&m->mu);
    m->requests[route][cls]++;
    observe(&m->latency[route], seconds);
    pthread_mutex_unlock(&m->mu);
}

void metrics_op(metrics *m, metrics_op_kind op, double seconds, int ok) {
    if (!m || op < 0 || op >= OP_COUNT) return;
    pthread_mutex_lock(&m->mu);
    observe(&m->ops[op], seconds);
    if (!ok) m->op_errors[op]++;
    pthread_mutex_unlock(&m->mu);
}

void metrics_op_error(metrics *m, metrics_op_kind op) {
    if (!m || op < 0 || op >= OP_COUNT) return;
    pthread_mutex_lock(&m->mu);
    m->op_errors[op]++;
    pthread_mutex_unlock(&m->mu);
}

void metrics_cancel_to_end(metrics *m, double seconds) {
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    observe(&m->cancel_to_end, seconds);
    pthread_mutex_unlock(&m->mu);
}

void metrics_frames(metrics *m, long frames) {
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    m->frames += (uint64_t)frames;
    pthread_mutex_unlock(&m->mu);
}

size_t metrics_rss_bytes(void) {
    int64_t rss;
    sam2_memory_usage(&rss, NULL);
    return rss > 0 ? (size_t)rss : 0;
}

/* label NULL: a histogram without labels. */
static void render_histogram(strbuf *out, const char *name, const char *label, const char *value,
                             const histogram *h) {
    char lab[128] = "", sep[2] = "";
    if (label) {
        snprintf(lab, sizeof lab, "%s=\"%s\"", label, value);
        sep[0] = ',';
    }
    uint64_t cum = 0;
    for (int i = 0; i < N_BUCKETS; i++) {
        cum += h->buckets[i];
        sb_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, lab, sep, BUCKETS[i],
                  (unsigned long long)cum);
    }
    sb_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, lab, sep,
              (unsigned long long)h->count);
    sb_printf(out, "%s_sum%s%s%s %.6f\n", name, label ? "{" : "", lab, label ? "}" : "", h->sum);
    sb_printf(out, "%s_count%s%s%s %llu\n", name, label ? "{" : "", lab, label ? "}" : "",
              (unsigned long long)h->count);
}

static void label_escape(strbuf *out, const char *s) {
    for (; s && *s; s++) {
        if (*s == '\\' || *s == '"') sb_putc(out, '\\');
        if (*s == '\n')
            sb_puts(out, "\\n");
        else
            sb_putc(out, *s);
    }
}

void metrics_render(metrics *m, const metrics_gauges *g, strbuf *out) {
    pthread_mutex_lock(&m->mu);
    sb_puts(out, "# HELP sam2_requests_total HTTP requests by route and status class.\n"
                 "# TYPE sam2_requests_total counter\n");
    for (int r = 0; r < ROUTE_COUNT; r++)
        for (int c = 0; c < N_STATUS; c++)
            if (m->requests[r][c])
                sb_printf(out, "sam2_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                          ROUTE_NAMES[r],
                          c < 5 ? (const char *[]){"1xx", "2xx", "3xx", "4xx", "5xx"}[c] : "other",
                          (unsigned long long)m->requests[r][c]);
    sb_puts(out, "# HELP sam2_request_duration_seconds Time to answer a request (streams: until "
                 "the last frame).\n"
                 "# TYPE sam2_request_duration_seconds histogram\n");
    for (int r = 0; r < ROUTE_COUNT; r++)
        render_histogram(out, "sam2_request_duration_seconds", "route", ROUTE_NAMES[r],
                         &m->latency[r]);
    sb_puts(out,
            "# HELP sam2_inference_seconds Time of inference jobs (mutations: queueing included; "
            "propagateFrame: one observation per frame, its computation).\n"
            "# TYPE sam2_inference_seconds histogram\n");
    for (int o = 0; o < OP_COUNT; o++)
        render_histogram(out, "sam2_inference_seconds", "op", OP_NAMES[o], &m->ops[o]);
    sb_puts(out, "# HELP sam2_inference_errors_total Inference jobs that failed.\n"
                 "# TYPE sam2_inference_errors_total counter\n");
    for (int o = 0; o < OP_COUNT; o++)
        sb_printf(out, "sam2_inference_errors_total{op=\"%s\"} %llu\n", OP_NAMES[o],
                  (unsigned long long)m->op_errors[o]);
    sb_puts(
        out,
        "# HELP sam2_cancel_to_end_seconds Delay from a cancellation to the end of the propagation "
        "it stopped.\n# TYPE sam2_cancel_to_end_seconds histogram\n");
    render_histogram(out, "sam2_cancel_to_end_seconds", NULL, NULL, &m->cancel_to_end);
    sb_printf(out,
              "# HELP sam2_frames_tracked_total Frames streamed by propagations.\n"
              "# TYPE sam2_frames_tracked_total counter\nsam2_frames_tracked_total %llu\n",
              (unsigned long long)m->frames);
    double uptime = metrics_now() - m->started;
    pthread_mutex_unlock(&m->mu);
    sb_printf(out,
              "# HELP sam2_sessions Open inference sessions.\n# TYPE sam2_sessions "
              "gauge\nsam2_sessions %d\n",
              g->sessions);
    sb_printf(
        out,
        "# HELP sam2_propagations Propagation streams in flight.\n# TYPE sam2_propagations gauge\n"
        "sam2_propagations %d\n",
        g->streams);
    sb_printf(out,
              "# HELP sam2_sessions_propagating Sessions whose propagation is running.\n"
              "# TYPE sam2_sessions_propagating gauge\nsam2_sessions_propagating %d\n",
              g->sessions_propagating);
    sb_printf(out,
              "# HELP sam2_jobs_waiting Inference jobs waiting for a slot.\n# TYPE "
              "sam2_jobs_waiting gauge\n"
              "sam2_jobs_waiting %d\n",
              g->jobs_waiting);
    sb_printf(out,
              "# HELP sam2_slots_busy Inference slots in use.\n# TYPE sam2_slots_busy "
              "gauge\nsam2_slots_busy %d\n",
              g->slots_busy);
    sb_printf(out, "# HELP sam2_slots Inference slots.\n# TYPE sam2_slots gauge\nsam2_slots %d\n",
              g->slots);
    sb_printf(out,
              "# HELP sam2_session_ram_bytes Tracking state of idle sessions held in RAM.\n"
              "# TYPE sam2_session_ram_bytes gauge\nsam2_session_ram_bytes %zu\n",
              g->session_ram_bytes);
    sb_printf(out,
              "# HELP sam2_job_bytes Memory held by requests outside sessions (addMask buffers, "
              "uploads being "
              "transcoded).\n# TYPE sam2_job_bytes gauge\nsam2_job_bytes %lld\n",
              g->job_bytes);
    sb_printf(out,
              "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
              "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %zu\n",
              metrics_rss_bytes());
    sb_printf(out,
              "# HELP sam2_uptime_seconds Seconds since the server started.\n# TYPE "
              "sam2_uptime_seconds gauge\n"
              "sam2_uptime_seconds %.3f\n",
              uptime);
    sb_puts(out, "# HELP sam2_model_info The loaded model.\n# TYPE sam2_model_info "
                 "gauge\nsam2_model_info{name=\"");
    label_escape(out, g->model_name);
    sb_printf(out, "\",params=\"%lld\"} 1\n", (long long)g->model_params);
}
