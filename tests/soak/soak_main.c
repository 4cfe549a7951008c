/* sam2-soak [--seconds N] [--warmup N] [--clients N] [--sam2 PATH] [--out FILE] [--leak-bound-mb M]
 *           [--inject-leak-mb N] [--malloc-defaults]
 *
 * Starts `sam2 serve` with the MICRO checkpoint (SAM2_GOLDEN) on a temporary DATA_PATH holding two
 * gallery videos (SAM2_DATA), uploads a 2-second clip of one of them, takes the mask references
 * (fixed clicks on a fresh session, every streamed frame), then runs the client threads for a
 * warm-up (default 15 s) plus N seconds and checks the server throughout (see soak.h). The leak
 * check compares the server's RSS at quiescent points (every client paused, every session
 * closed, nothing computing; soak_quiesce.c): the end of the warm-up, three points in between and
 * the end. --inject-leak-mb N makes the server leak N MB after the first point (a test hook of
 * `sam2 serve`, SAM2_DEBUG_LEAK_MB), to show that the check catches it. Exit status: 0 passed, 1
 * failed, 77 skipped (golden data or test media missing). */
#include "soak.h"

#include "support/testutil.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define MAX_SAMPLES 200000

typedef struct options {
    int seconds, warmup, clients, malloc_defaults, inject_leak_mb;
    char sam2[PATH_MAX], out[PATH_MAX];
    double leak_bound_mb;
} options;

#define QUIET_POINTS 5 /* end of the warm-up, three in between, the end */

typedef struct quiet_point {
    double t_ms;
    int64_t rss;
} quiet_point;

/* Takes the quiescent points while the clients run (the last one is taken by main). */
typedef struct controller {
    soak_plan *plan;
    soak_server *srv;
    const options *o;
    double first_at_ms, every_ms;
    quiet_point points[QUIET_POINTS];
    int n;
} controller;

typedef struct rss_sample {
    double t_ms;
    int64_t rss;
} rss_sample;

typedef struct sampler {
    soak_server *srv;
    soak_plan *plan;
    rss_sample *v;
    long n;
    atomic_int stop;
} sampler;

static void usage(void) {
    fprintf(stderr,
            "usage: sam2-soak [--seconds N] [--warmup N] [--clients N] [--sam2 PATH] [--out FILE] "
            "[--leak-bound-mb M] [--inject-leak-mb N] [--malloc-defaults]\n");
}

static int parse_args(int argc, char **argv, options *o) {
    const char *env = getenv("SOAK_SECONDS");
    o->seconds = env && *env ? atoi(env) : 120;
    o->clients = 8;
    snprintf(o->sam2, sizeof o->sam2, "%s/sam2", SAM2_BIN_DIR);
    snprintf(o->out, sizeof o->out, "artifacts/soak.txt");
    o->warmup = -1;
    o->leak_bound_mb = SOAK_LEAK_BOUND_MB;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v && strcmp(a, "--malloc-defaults")) return -1;
        if (!strcmp(a, "--malloc-defaults")) {
            o->malloc_defaults = 1;
            continue;
        }
        if (!strcmp(a, "--seconds"))
            o->seconds = atoi(v);
        else if (!strcmp(a, "--warmup"))
            o->warmup = atoi(v);
        else if (!strcmp(a, "--clients"))
            o->clients = atoi(v);
        else if (!strcmp(a, "--sam2"))
            snprintf(o->sam2, sizeof o->sam2, "%s", v);
        else if (!strcmp(a, "--out"))
            snprintf(o->out, sizeof o->out, "%s", v);
        else if (!strcmp(a, "--leak-bound-mb"))
            o->leak_bound_mb = atof(v);
        else if (!strcmp(a, "--inject-leak-mb"))
            o->inject_leak_mb = atoi(v);
        else
            return -1;
        i++;
    }
    if (o->warmup < 0) o->warmup = o->seconds >= 60 ? 15 : o->seconds / 4;
    if (o->seconds < 1 || o->clients < 1 || o->clients > MAX_CLIENTS) return -1;
    return 0;
}

static int exists(const char *p) {
    struct stat st;
    return !stat(p, &st);
}

static void rm_rf(const char *path) {
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *e;
    char sub[PATH_MAX];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        rm_rf(sub);
    }
    closedir(d);
    rmdir(path);
}

/* Files in dir whose name starts with prefix. */
static int count_prefixed(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) n += !strncmp(e->d_name, prefix, strlen(prefix));
    closedir(d);
    return n;
}

static void *sampler_main(void *arg) {
    sampler *s = arg;
    while (!atomic_load(&s->stop)) {
        if (!soak_server_alive(s->srv)) {
            atomic_store(&s->plan->stop, 1);
            soak_fail("the server exited during the run (wait status %d); see its log",
                      s->srv->status);
            break;
        }
        int64_t rss = soak_server_rss(s->srv);
        if (rss > 0 && s->n < MAX_SAMPLES) s->v[s->n++] = (rss_sample){soak_now_ms(), rss};
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void wait_until(const soak_plan *p, double t_ms) {
    while (!atomic_load(&((soak_plan *)p)->stop) && soak_now_ms() < t_ms) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* One quiescent point; the pause is added to the clients' deadline, so they still run N s. */
static void take_point(controller *c) {
    const double t = soak_now_ms();
    const int64_t rss = quiesce_measure(c->plan->quiesce, c->plan->port, c->srv);
    c->points[c->n++] = (quiet_point){soak_now_ms(), rss};
    if (c->n == 1 && c->o->inject_leak_mb > 0) {
        kill(c->srv->pid, SIGUSR1); /* the leak happens between the first and the last point */
        printf("soak: asked the server to leak %d MB (--inject-leak-mb)\n", c->o->inject_leak_mb);
        fflush(stdout);
    }
    /* The pause does not count as running time: the deadline and the next points move. */
    const double pause = soak_now_ms() - t;
    c->plan->deadline_ms += (long long)pause;
    c->first_at_ms += pause;
    quiesce_release(c->plan->quiesce);
}

static void *controller_main(void *arg) {
    controller *c = arg;
    for (int k = 0; k < QUIET_POINTS - 1; k++) {
        wait_until(c->plan, c->first_at_ms + k * c->every_ms);
        if (atomic_load(&c->plan->stop) || soak_now_ms() >= c->plan->deadline_ms) break;
        take_point(c);
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median RSS of the samples in [from, to); -1 without samples. The median, not the mean: RSS
 * swings by a session's working set as sessions open and close, a leak moves the whole level. */
static double median_rss(const sampler *s, double from, double to) {
    int64_t *v = malloc((size_t)(s->n ? s->n : 1) * sizeof *v);
    long n = 0;
    for (long i = 0; v && i < s->n; i++)
        if (s->v[i].t_ms >= from && s->v[i].t_ms < to) v[n++] = s->v[i].rss;
    double m = -1;
    if (n) {
        qsort(v, (size_t)n, sizeof *v, cmp_i64);
        m = (double)v[n / 2];
    }
    free(v);
    return m;
}

static void report(FILE *f, const options *o, const soak_plan *plan, double elapsed_s,
                   long sessions, double rss_first, double rss_last, int64_t rss_peak,
                   int64_t rss_max_sample, const controller *qc, double t0, int server_exit) {
    const double MB = 1024.0 * 1024.0;
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
    fprintf(f,
            "sam2 soak, %s: %d s (after a %d s warm-up), %d client threads, `sam2 serve` with the "
            "micro checkpoint, "
            "%ld CPUs\n",
            when, o->seconds, o->warmup, o->clients, sysconf(_SC_NPROCESSORS_ONLN));
    fprintf(f, "videos: %s (%d frames, propagated to the end)", plan->videos[0].path,
            plan->videos[0].frames);
    for (int i = 1; i < plan->n_videos; i++)
        fprintf(f, ", %s (cancelled / disconnected mid-stream)", plan->videos[i].path);
    fprintf(f, "\n\n");
    fprintf(f,
            "requests: %ld in %.1f s (warm-up included) = %.1f requests/s (a propagation stream "
            "counts once)\n",
            stats_requests(), elapsed_s, (double)stats_requests() / elapsed_s);
    fprintf(f,
            "sessions: %ld; propagations: %ld complete, %ld cancelled, %ld disconnected "
            "mid-stream; frames streamed: "
            "%ld\n",
            sessions, stats_ends(END_COMPLETE), stats_ends(END_CANCELLED),
            stats_ends(END_DISCONNECTED), stats_count(K_PROP_FIRST) + stats_count(K_PROP_FRAME));
    fprintf(f, "uploads: %ld videos transcoded, %ld non-videos refused\n", stats_count(K_UPLOAD),
            stats_count(K_UPLOAD_BAD));
    fprintf(f,
            "masks: %ld answers compared byte for byte with %ld references taken at start (or "
            "first seen)\n",
            refs_compared(), refs_count());
    fprintf(f, "deliberate overload answers (503 / busy): %ld\n\n", stats_overloads());
    fprintf(f, "latency (ms)                   count       p50       p99       max\n");
    for (int k = 0; k < K_COUNT; k++) {
        if (!stats_count((soak_kind)k)) continue;
        fprintf(f, "  %-26s %8ld %9.1f %9.1f %9.1f\n", SOAK_KIND_NAMES[k],
                stats_count((soak_kind)k), stats_percentile((soak_kind)k, 50),
                stats_percentile((soak_kind)k, 99), stats_percentile((soak_kind)k, 100));
    }
    fprintf(
        f, "\nleak check: server RSS at quiescent points (every session closed, nothing running):");
    for (int i = 0; i < qc->n; i++)
        fprintf(f, "%s %.1f MB at %.0f s", i ? "," : "", (double)qc->points[i].rss / MB,
                (qc->points[i].t_ms - t0) / 1000.0);
    if (qc->n >= 2)
        fprintf(f, "\n  growth from the first to the last: %+.1f MB (bound %.0f MB)%s\n",
                (double)(qc->points[qc->n - 1].rss - qc->points[0].rss) / MB, o->leak_bound_mb,
                o->inject_leak_mb ? "; a leak was injected on purpose (--inject-leak-mb)" : "");
    else
        fprintf(f, "\n  (fewer than two points: not checked)\n");
    fprintf(f,
            "server RSS under load (information, not checked: it follows how many sessions are "
            "live): first quarter median %.1f MB, last quarter median %.1f MB (%+.1f MB); largest "
            "sample %.1f MB; peak (VmHWM) %.1f MB\n",
            rss_first / MB, rss_last / MB, (rss_last - rss_first) / MB, (double)rss_max_sample / MB,
            (double)rss_peak / MB);
    fprintf(f, "server allocator: %s\n",
            o->malloc_defaults
                ? "glibc's defaults (--malloc-defaults)"
                : "sam2 serve's own settings (2 arenas, blocks >= 16 MB mapped; src/cli/main.c)");
    fprintf(f, "server shutdown (SIGTERM after the run): exit status %d\n", server_exit);
    fprintf(f, "result: %s (%ld failures)\n", soak_failures() ? "FAILED" : "passed",
            soak_failures());
    soak_print_failures(f);
}

int main(int argc, char **argv) {
    options o;
    if (parse_args(argc, argv, &o)) {
        usage();
        return 2;
    }
    const char *golden = test_golden_dir(), *media = test_data_dir();
    char ckpt[PATH_MAX], yaml[PATH_MAX], dog[PATH_MAX], coffee[PATH_MAX];
    snprintf(ckpt, sizeof ckpt, "%s/micro/sam2.1_hiera_micro.pt", golden ? golden : "");
    snprintf(yaml, sizeof yaml, "%s/micro/sam2.1_hiera_micro.yaml", golden ? golden : "");
    snprintf(dog, sizeof dog, "%s/gallery/01_dog.mp4", media ? media : "");
    snprintf(coffee, sizeof coffee, "%s/gallery/04_coffee.mp4", media ? media : "");
    if (!golden || !media || !exists(ckpt) || !exists(yaml) || !exists(dog) || !exists(coffee)) {
        printf("SKIP: the micro checkpoint (SAM2_GOLDEN/micro) or the gallery videos "
               "(SAM2_DATA/gallery) are missing; "
               "the soak did not run\n");
        return TEST_SKIP_CODE;
    }
    if (!exists(o.sam2)) {
        fprintf(stderr, "sam2-soak: %s not found (build it first, or pass --sam2)\n", o.sam2);
        return 1;
    }
    /* DATA_PATH with two gallery videos, and a spill folder to check for leftovers. */
    const char *tmp = getenv("TMPDIR");
    char root[PATH_MAX], data[PATH_MAX], real_data[PATH_MAX], p[PATH_MAX], spill[PATH_MAX],
        log_path[PATH_MAX];
    snprintf(root, sizeof root, "%s/sam2-soak-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        fprintf(stderr, "sam2-soak: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    snprintf(data, sizeof data, "%s/data", root);
    snprintf(spill, sizeof spill, "%s/spill", root);
    snprintf(log_path, sizeof log_path, "%s/server.log", root);
    mkdir(data, 0755);
    mkdir(spill, 0755);
    snprintf(p, sizeof p, "%s/gallery", data);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/gallery/01_dog.mp4", data);
    int setup_rc = test_copy_file(dog, p);
    snprintf(p, sizeof p, "%s/gallery/04_coffee.mp4", data);
    setup_rc |= test_copy_file(coffee, p);
    if (setup_rc || !realpath(data, real_data)) {
        fprintf(stderr, "sam2-soak: cannot prepare %s\n", data);
        rm_rf(root);
        return 1;
    }

    char *sargv[] = {o.sam2,   "serve",  "--checkpoint", ckpt,     "--config",
                     yaml,     "--data", data,           "--host", "127.0.0.1",
                     "--port", "0",      "--spill-dir",  spill,    NULL};
    /* `sam2 serve` sets its own allocator options (src/cli/main.c); --malloc-defaults runs it
     * with glibc's defaults instead, to measure the difference. */
    if (o.malloc_defaults) setenv("SAM2_MALLOC_DEFAULTS", "1", 1);
    if (o.inject_leak_mb > 0) {
        char mb[32];
        snprintf(mb, sizeof mb, "%d", o.inject_leak_mb);
        setenv("SAM2_DEBUG_LEAK_MB", mb, 1);
    }
    soak_server srv;
    char why[1024];
    printf("soak: starting %s serve (micro checkpoint, DATA_PATH %s)\n", o.sam2, data);
    fflush(stdout);
    if (soak_server_start(&srv, sargv, log_path, 180, why, sizeof why)) {
        fprintf(stderr, "sam2-soak: %s\n", why);
        return 1;
    }

    soak_plan *plan = calloc(1, sizeof *plan);
    sampler smp = {&srv, plan, calloc(MAX_SAMPLES, sizeof(rss_sample)), 0, 0};
    if (!plan || !smp.v) return 1;
    atomic_init(&plan->stop, 0);
    plan->port = srv.port;
    plan->gallery_file = dog;
    plan->data_dir = real_data;
    snprintf(plan->gallery_url, sizeof plan->gallery_url, "/gallery/01_dog.mp4");
    snprintf(plan->poster_url, sizeof plan->poster_url, "/posters/01_dog.jpg");
    pthread_t sampler_thread;
    pthread_create(&sampler_thread, NULL, sampler_main, &smp);

    /* A short clip to propagate to the end, then the references, one request at a time. */
    soak_video *clip = &plan->videos[0];
    if (soak_upload_file(srv.port, dog, 2.0, clip->path, sizeof clip->path, why, sizeof why)) {
        soak_fail("uploading the 2-second clip: %s", why);
    } else {
        clip->full_propagation = 1;
        snprintf(plan->videos[1].path, sizeof plan->videos[1].path, "gallery/01_dog.mp4");
        snprintf(plan->videos[2].path, sizeof plan->videos[2].path, "gallery/04_coffee.mp4");
        plan->n_videos = 3;
        int parts = 0;
        soak_session_flow(plan, 0, MODE_COMPLETE, 0, 1, &parts);
        clip->frames = parts;
        soak_session_flow(plan, 0, MODE_COMPLETE, 1, 1, NULL);
        soak_session_flow(plan, 1, MODE_CANCEL, 0, 0, NULL);
        soak_session_flow(plan, 2, MODE_CANCEL, 0, 0, NULL);
        printf("soak: references taken (%ld mask lists; the clip %s has %d frames); %d clients for "
               "%d s after a %d s warm-up\n",
               refs_count(), clip->path, clip->frames, o.clients, o.seconds, o.warmup);
        fflush(stdout);
        if (clip->frames < 10) soak_fail("the clip streamed %d frames only", clip->frames);
    }

    long sessions_before = stats_count(K_START);
    double t0 = soak_now_ms();
    plan->deadline_ms = (long long)(t0 + (o.warmup + o.seconds) * 1000.0);
    soak_client clients[MAX_CLIENTS];
    pthread_t threads[MAX_CLIENTS];
    int started = 0;
    controller qc;
    memset(&qc, 0, sizeof qc);
    qc.plan = plan;
    qc.srv = &srv;
    qc.o = &o;
    qc.first_at_ms = t0 + o.warmup * 1000.0;
    qc.every_ms = o.seconds * 1000.0 / (QUIET_POINTS - 1);
    pthread_t controller_thread;
    int controlling = 0;
    if (!soak_failures()) {
        plan->quiesce = quiesce_new(o.clients);
        for (int i = 0; i < o.clients; i++) {
            clients[i] = (soak_client){plan, i, 0};
            if (!pthread_create(&threads[i], NULL, soak_client_main, &clients[i]))
                started++;
            else
                quiesce_done(plan->quiesce);
        }
        controlling = !pthread_create(&controller_thread, NULL, controller_main, &qc);
    }
    for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);
    if (controlling) pthread_join(controller_thread, NULL);
    double t1 = soak_now_ms();
    /* The last quiescent point: every client has stopped. */
    if (started && qc.n > 0 && soak_server_alive(&srv)) take_point(&qc);
    if (qc.n >= 2) {
        const int64_t first = qc.points[0].rss, last = qc.points[qc.n - 1].rss;
        if (first < 0 || last < 0)
            soak_fail("no RSS reading of the server at a quiescent point");
        else if (last - first > o.leak_bound_mb * 1048576.0)
            soak_fail(
                "the server's RSS at quiescent points grew by %.1f MB from the first to the last "
                "(bound %.0f MB): memory is leaking",
                (double)(last - first) / 1048576.0, o.leak_bound_mb);
    } else if (started) {
        soak_fail("fewer than two quiescent points were measured");
    }
    atomic_store(&smp.stop, 1);
    pthread_join(sampler_thread, NULL);

    /* RSS: the first and the last quarter of the client phase after the warm-up. */
    double tw = t0 + o.warmup * 1000.0;
    double quarter = (t1 - tw) / 4;
    double rss_first = median_rss(&smp, tw, tw + quarter),
           rss_last = median_rss(&smp, t1 - quarter, t1 + 1);
    int64_t rss_max = 0;
    for (long i = 0; i < smp.n; i++)
        if (smp.v[i].rss > rss_max) rss_max = smp.v[i].rss;
    int64_t peak = soak_server_peak_rss(&srv);
    if (started && (rss_first < 0 || rss_last < 0)) soak_fail("no RSS samples of the server");

    /* Nothing half-written is visible, nothing staged is left behind. */
    snprintf(p, sizeof p, "%s/uploads", data);
    if (count_prefixed(p, ".sam2-tmp-")) soak_fail("temporary files left in uploads/");
    snprintf(p, sizeof p, "%s/posters", data);
    if (count_prefixed(p, ".sam2-tmp-")) soak_fail("temporary files left in posters/");
    int server_exit = soak_server_stop(&srv, 60);
    if (server_exit != 0)
        soak_fail("the server did not shut down cleanly on SIGTERM (exit status %d)", server_exit);
    if (count_prefixed(spill, "sam2-upload-"))
        soak_fail("staged uploads left in SPILL_DIR after shutdown");

    double elapsed = (t1 - t0) / 1000.0;
    report(stdout, &o, plan, elapsed, stats_count(K_START) - sessions_before, rss_first, rss_last,
           peak, rss_max, &qc, t0, server_exit);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", o.out);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
        mkdir(dir, 0755);
    }
    FILE *f = fopen(o.out, "w");
    if (f) {
        report(f, &o, plan, elapsed, stats_count(K_START) - sessions_before, rss_first, rss_last,
               peak, rss_max, &qc, t0, server_exit);
        fclose(f);
        printf("soak: figures written to %s\n", o.out);
    } else {
        fprintf(stderr, "sam2-soak: cannot write %s: %s\n", o.out, strerror(errno));
    }
    /* The RSS samples (seconds since the clients started, MB) go beside the figures. */
    char rss_path[PATH_MAX + 32];
    snprintf(rss_path, sizeof rss_path, "%s%s", o.out, ".rss.tsv");
    FILE *rf = fopen(rss_path, "w");
    if (rf) {
        fprintf(rf, "seconds\trss_mb\n");
        for (long i = 0; i < smp.n; i++)
            fprintf(rf, "%.1f\t%.1f\n", (smp.v[i].t_ms - t0) / 1000.0,
                    (double)smp.v[i].rss / 1048576.0);
        fclose(rf);
    }
    /* The server's log goes beside the figures. */
    char log_copy[PATH_MAX + 32];
    snprintf(log_copy, sizeof log_copy, "%s%s", o.out, ".server.log");
    test_copy_file(log_path, log_copy);
    int failed = soak_failures() > 0;
    if (failed) printf("soak: FAILED; the server's log is %s\n", log_copy);
    rm_rf(root);
    free(smp.v);
    quiesce_free(plan->quiesce);
    free(plan);
    refs_free();
    stats_free();
    return failed ? 1 : 0;
}
