/* Server lifetime: checks the data folder and the checkpoint, loads the model, scans the gallery,
 * listens, expires idle sessions, and shuts down cleanly (streams cancelled, requests drained). */
#include "server/server.h"

#include "server/server_internal.h"

#include "sam2.h"
#include "app/priority.h"
#include "app/atomic_file.h"
#include "server/http.h"
#include "server/replica.h"
#include "server/schema.h"
#include "server/upload.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void catalog_log(void *user, const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    server_log(user, "%s", line);
}

static int is_dir(const char *p) {
    struct stat st;
    return !stat(p, &st) && S_ISDIR(st.st_mode);
}

/* DATA_PATH must exist; its gallery/, posters/ and uploads/ are created when missing (as the
 * official app_conf.py does). */
static int prepare_data(server *s, sam2_error *err) {
    const char *d = s->cfg.data_path;
    if (!is_dir(d))
        return sam2_fail(err, SAM2_ERR_IO,
                         "DATA_PATH=%s is not a folder. Create it and put the gallery videos "
                         "(.mp4) in %s/gallery, "
                         "or point DATA_PATH (--data) at such a folder",
                         d, d);
    if (!realpath(d, s->data_real))
        return sam2_fail(err, SAM2_ERR_IO, "cannot resolve DATA_PATH=%s: %s", d, strerror(errno));
    const char *subs[] = {"gallery", "posters", "uploads"};
    for (int i = 0; i < 3; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", s->data_real, subs[i]);
        if (!is_dir(p) && mkdir(p, 0755) && errno != EEXIST)
            return sam2_fail(err, SAM2_ERR_IO, "cannot create %s/%s: %s", d, subs[i],
                             strerror(errno));
    }
    /* A server killed while writing an upload or a poster leaves only a hidden temporary file
     * (app/atomic_file.h), never a partial file under a final name; those are cleared here. */
    const char *written[] = {"uploads", "posters"};
    for (int i = 0; i < 2; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", s->data_real, written[i]);
        int n = sam2_remove_stale_temp_files(p);
        if (n)
            server_log(
                s, "removed %d unfinished temporary file%s from %s/ (left by an interrupted write)",
                n, n == 1 ? "" : "s", written[i]);
    }
    const char *spill = s->cfg.spill_dir[0] ? s->cfg.spill_dir : getenv("TMPDIR");
    int n = upload_remove_stale(spill && *spill ? spill : "/tmp");
    if (n)
        server_log(s, "removed %d staged upload%s left by a server that was killed", n,
                   n == 1 ? "" : "s");
    return 0;
}

static int check_checkpoint(server *s, sam2_error *err) {
    struct stat st;
    if (!stat(s->cfg.checkpoint, &st) && S_ISREG(st.st_mode)) return 0;
    const server_model_file *mf = server_model_file_of(s->cfg.model_size);
    return sam2_fail(
        err, SAM2_ERR_IO,
        "checkpoint %s not found. Download it from Meta: mkdir -p %s/checkpoints && curl -L -o %s "
        "%s (or pass --checkpoint FILE; MODEL_SIZE picks " SERVER_MODEL_SIZES ")",
        s->cfg.checkpoint, s->cfg.app_root, s->cfg.checkpoint,
        mf ? mf->url
           : "https://dl.fbaipublicfiles.com/segment_anything_2/092824/sam2.1_hiera_tiny.pt");
}

server *server_create(const server_config *cfg, const server_deps *deps, sam2_error *err) {
    server *s = calloc(1, sizeof *s);
    if (!s) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    if (deps) s->deps = *deps;
    s->inf = s->deps.inference;
    s->ingest = s->deps.ingest;
    if (s->inf && s->cfg.compute_nice > 0) {
        /* The model's calls run on threads at the compute priority (server/compute.h). */
        compute_ops_init(&s->compute, s->inf, s->cfg.compute_nice);
        s->inf = &s->compute.ops;
    }
    atomic_init(&s->stopping, 0);
    atomic_init(&s->streams, 0);
    atomic_init(&s->job_bytes, 0);
    upload_queue_init(&s->uploads, s->cfg.max_concurrent_uploads, s->cfg.max_video_side,
                      s->cfg.encode_max_width, s->cfg.encode_max_height, &s->stopping,
                      &s->job_bytes);
    pthread_mutex_init(&s->reaper_mu, NULL);
    pthread_cond_init(&s->reaper_cv, NULL);
    if (!(s->replica = replica_new())) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (!s->inf || !s->ingest) {
        sam2_fail(err, SAM2_ERR_ARGUMENT,
                  "server_create: no inference or ingest implementation given");
        goto fail;
    }
    if (server_config_finalize(&s->cfg, err) || prepare_data(s, err) || check_checkpoint(s, err))
        goto fail;

    if (s->cfg.backend[0] && sam2_set_backend(s->cfg.backend) != SAM2_OK) {
        sam2_fail(err, SAM2_ERR_ARGUMENT,
                  "SAM2_BACKEND / --backend: unknown backend '%s' (auto, cpu, ref, check)",
                  s->cfg.backend);
        goto fail;
    }
    double t0 = metrics_now();
    if (s->inf->model_load(s->inf->self, s->cfg.checkpoint, s->cfg.config_yaml, s->cfg.threads,
                           &s->model, err)) {
        sam2_error_prefix(err, "cannot load the model");
        goto fail;
    }
    s->inf->model_info(s->inf->self, s->model, &s->model_info);
    double load_s = metrics_now() - t0;

    if (!(s->schema = demo_schema_new(err))) goto fail;
    if (!(s->metrics = metrics_new()) || !(s->sched = fair_new(s->cfg.workers))) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
        goto fail;
    }
    session_table_config tc = {0};
    tc.inf = s->inf;
    tc.model = s->model;
    tc.sched = s->sched;
    tc.max_sessions = s->cfg.max_sessions;
    tc.ttl_s = s->cfg.session_ttl_s;
    tc.budget_bytes = s->cfg.max_memory_mb << 20;
    tc.model_bytes = s->model_info.bytes;
    tc.session_bytes = s->cfg.session_memory_mb << 20;
    tc.job_bytes = &s->job_bytes;
    tc.spill_dir = s->cfg.spill_dir[0] ? s->cfg.spill_dir : NULL;
    tc.correct_as_cond = s->cfg.correct_as_cond;
    tc.max_objects = s->cfg.max_objects;
    tc.max_frames = s->cfg.max_video_frames;
    tc.max_side = s->cfg.max_video_side;
    tc.node_id = s->cfg.node_id;
    if (!(s->sessions = sessions_new(&tc))) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (!(s->videos = catalog_scan(s->data_real, s->ingest, catalog_log, s, err))) goto fail;

    size_t model_mb = s->model_info.bytes >> 20;
    size_t room = s->cfg.max_memory_mb > model_mb ? s->cfg.max_memory_mb - model_mb : 0;
    size_t fit = s->cfg.session_memory_mb ? room / s->cfg.session_memory_mb : 0;
    server_log(s, "sam2 serve %s", SAM2_VERSION);
    server_log(s, "model: %s (%.1fM parameters, %zu MB) from %s, loaded in %.1f s",
               s->model_info.name, (double)s->model_info.params / 1e6, model_mb, s->cfg.checkpoint,
               load_s);
    server_log(s, "device: cpu%s; backend: %s; compute threads: %d; inference slots: %d",
               s->cfg.force_cpu ? " (forced)" : "",
               s->model_info.backend[0] ? s->model_info.backend : "cpu", sam2_get_threads(),
               s->cfg.workers);
    if (s->cfg.compute_nice > 0)
        server_log(s,
                   "compute priority: the model runs on threads at nice %d, SCHED_BATCH%s "
                   "(COMPUTE_NICE; HTTP "
                   "threads keep normal priority)",
                   s->cfg.compute_nice,
                   prio_of_thread(0, NULL, NULL) ? " (not supported here: unchanged)" : "");
    server_log(s, "data: %s (%d gallery videos)", s->data_real, catalog_count(s->videos));
    server_log(s,
               "memory budget: %zu MB (model %zu MB, %zu MB per session before spilling to disk: "
               "room for %zu "
               "sessions; MAX_SESSIONS=%d)",
               s->cfg.max_memory_mb, model_mb, s->cfg.session_memory_mb, fit, s->cfg.max_sessions);
    server_log(
        s, "add_all_frames_to_correct_as_cond is %s%s", s->cfg.correct_as_cond ? "ON" : "OFF",
        s->cfg.correct_as_cond ? " (corrections on tracked frames stick; upstream issues #546, "
                                 "#719, #731); turn it off with "
                                 "--no-correct-as-cond or ADD_ALL_FRAMES_TO_CORRECT_AS_COND=0"
                               : " (the official behaviour)");
    return s;
fail:
    server_free(s);
    return NULL;
}

/* When the last session has closed and nothing computes, memory the sessions freed goes back to
 * the system (glibc keeps freed heap pages otherwise): an idle server's RSS is then what it still
 * holds, the model and little else, which the soak's leak check compares from start to end. */
static void trim_when_idle(server *s, int *idle_ticks) {
    const int idle = sessions_count(s->sessions) == 0 && atomic_load(&s->streams) == 0 &&
                     atomic_load(&s->job_bytes) == 0 && fair_busy(s->sched) == 0;
    if (!idle) {
        *idle_ticks = 0;
        return;
    }
    /* On the second idle tick: a closed session is freed by the last request that held it,
     * just after the table forgot it. */
    if (++*idle_ticks != 2) return;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

static void *reaper_main(void *arg) {
    server *s = arg;
    int idle_ticks = 0;
    pthread_mutex_lock(&s->reaper_mu);
    while (!atomic_load(&s->stopping)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&s->reaper_cv, &s->reaper_mu, &ts);
        if (atomic_load(&s->stopping)) break;
        pthread_mutex_unlock(&s->reaper_mu);
        int n = sessions_expire(s->sessions);
        if (n)
            server_log(s, "expired %d idle session%s (SESSION_TTL=%d s)", n, n == 1 ? "" : "s",
                       s->cfg.session_ttl_s);
        trim_when_idle(s, &idle_ticks);
        replica_tick(s);
        pthread_mutex_lock(&s->reaper_mu);
    }
    pthread_mutex_unlock(&s->reaper_mu);
    return NULL;
}

int server_start(server *s, sam2_error *err) {
    if (replica_admin_start(s, err)) return -1;
    if (http_start(s, err)) {
        replica_admin_stop(s);
        return -1;
    }
    if (pthread_create(&s->reaper, NULL, reaper_main, s)) {
        http_stop(s);
        replica_admin_stop(s);
        return sam2_fail(err, SAM2_ERR_NOMEM, "cannot start the session reaper thread");
    }
    s->reaper_running = 1;
    replica_started(s);
    server_log(s, "listening on http://%s:%d (API_URL %s)", s->cfg.host, s->port, s->cfg.api_url);
    return 0;
}

int server_port(const server *s) {
    return s->port;
}

/* Draining is the replica's business (replica.c); these are its public face. */
void server_drain(server *s, const char *why) {
    replica_drain(s, why);
}
int server_draining(const server *s) {
    return replica_draining(s);
}
int server_drained(server *s) {
    return replica_drained(s);
}
int server_admin_port(const server *s) {
    return replica_admin_port(s);
}

void server_lower_library_threads(server *s) {
    if (s->cfg.compute_nice <= 0) return;
    int n = prio_lower_other_threads(s->cfg.compute_nice);
    if (n >= 0)
        server_log(s, "compute priority: %d compute thread%s lowered to nice %d, SCHED_BATCH", n,
                   n == 1 ? "" : "s", s->cfg.compute_nice);
}

void server_stop(server *s) {
    if (!s) return;
    atomic_store(&s->stopping, 1);
    if (s->sessions) sessions_cancel_all(s->sessions);
    if (s->reaper_running) {
        pthread_mutex_lock(&s->reaper_mu);
        pthread_cond_broadcast(&s->reaper_cv);
        pthread_mutex_unlock(&s->reaper_mu);
        pthread_join(s->reaper, NULL);
        s->reaper_running = 0;
    }
    /* Waits for every connection thread; streams notice `stopping` within a tick. */
    http_stop(s);
    replica_admin_stop(s);
    /* Propagation threads end within a frame once cancelled. */
    while (atomic_load(&s->streams) > 0) {
        if (s->sessions) sessions_cancel_all(s->sessions);
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

void server_free(server *s) {
    if (!s) return;
    server_stop(s);
    sessions_free(s->sessions);
    catalog_free(s->videos);
    if (s->model) s->inf->model_free(s->inf->self, s->model);
    gql_schema_free(s->schema);
    metrics_free(s->metrics);
    fair_free(s->sched);
    pthread_mutex_destroy(&s->reaper_mu);
    pthread_cond_destroy(&s->reaper_cv);
    upload_queue_destroy(&s->uploads);
    replica_free(s->replica);
    free(s);
}
