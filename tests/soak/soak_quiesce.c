/* Quiescent points for the leak check: every client pauses between two iterations, the server
 * closes what they used, and its RSS is read in the same live state each time. */
#include "soak.h"

#include "support/http_client.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct soak_quiesce {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int requested, waiting, active;
};

soak_quiesce *quiesce_new(int clients) {
    soak_quiesce *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->active = clients;
    return q;
}

void quiesce_free(soak_quiesce *q) {
    if (!q) return;
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q);
}

void quiesce_checkpoint(soak_quiesce *q) {
    pthread_mutex_lock(&q->mu);
    if (q->requested) {
        q->waiting++;
        pthread_cond_broadcast(&q->cv);
        while (q->requested) pthread_cond_wait(&q->cv, &q->mu);
        q->waiting--;
    }
    pthread_mutex_unlock(&q->mu);
}

void quiesce_done(soak_quiesce *q) {
    pthread_mutex_lock(&q->mu);
    q->active--;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The value of a sample without labels in /metrics text; -1 when absent. */
static double sample(const char *text, const char *name) {
    char key[128];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *at = strstr(text, key);
    return at ? atof(at + strlen(key)) : -1;
}

/* No session, propagation, job, busy slot or waiting job: everything the clients used is freed. */
static int server_idle(int port) {
    http_response r;
    if (http_request(port, "GET", "/metrics", NULL, NULL, 0, &r, 10000)) return 0;
    const char *t = r.body ? r.body : "";
    const int idle = r.status == 200 && sample(t, "sam2_sessions") == 0 &&
                     sample(t, "sam2_propagations") == 0 && sample(t, "sam2_job_bytes") == 0 &&
                     sample(t, "sam2_slots_busy") == 0 && sample(t, "sam2_jobs_waiting") == 0;
    http_response_free(&r);
    return idle;
}

int64_t quiesce_measure(soak_quiesce *q, int port, soak_server *srv) {
    pthread_mutex_lock(&q->mu);
    q->requested = 1;
    while (q->waiting < q->active) pthread_cond_wait(&q->cv, &q->mu);
    pthread_mutex_unlock(&q->mu);
    int idle = 0;
    for (int i = 0; i < 1200 && !(idle = server_idle(port)); i++) sleep_ms(100);
    if (!idle) {
        soak_fail("the server did not become idle within 120 s of every client pausing (a session, "
                  "stream or "
                  "job was left behind)");
        return -1;
    }
    /* The server's reaper gives freed memory back on its second idle tick (once a second). */
    sleep_ms(3500);
    int64_t low = -1;
    for (int i = 0; i < 5; i++) {
        int64_t rss = soak_server_rss(srv);
        if (rss > 0 && (low < 0 || rss < low)) low = rss;
        sleep_ms(200);
    }
    return low;
}

void quiesce_release(soak_quiesce *q) {
    pthread_mutex_lock(&q->mu);
    q->requested = 0;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}
