/* sam2-soak: `sam2 serve` with the micro checkpoint under 8 client threads for N seconds (make
 * soak SOAK_SECONDS=N). Fails on a server crash, a 5xx that is not a deliberate overload answer,
 * an unexpected GraphQL error, a mask that differs from the reference taken at start (masks are
 * deterministic), or RSS growth of the server beyond a stated bound between the first and the
 * last quarter of the run. Prints (and writes to artifacts/soak.txt) requests/s, latency
 * percentiles per request kind and peak RSS. */
#ifndef SAM2_SOAK_H
#define SAM2_SOAK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* The leak check compares the same live state at both ends: RSS at quiescent points, where every
 * client has paused between two iterations, every session is closed and nothing computes or
 * uploads (the server's /metrics say so), and the server has given its freed pages back
 * (malloc_trim when idle). The first point is at the end of the warm-up, the last after the
 * clients have stopped, three more in between; the last may exceed the first by at most this many
 * MB. A deliberately injected leak of 32 MB (--inject-leak-mb 32) fails the check. */
#define SOAK_LEAK_BOUND_MB 16

/* ---- the server process (soak_server.c) ---- */
typedef struct soak_server {
    pid_t pid;
    int port;
    int exited, status;
    char log_path[1024];
} soak_server;

/* Starts `argv` (a `sam2 serve` command line with --port 0, NULL-terminated), its output going
 * to log_path, and waits up to wait_s for the "listening on http://HOST:PORT" line. Returns 0,
 * or -1 with why[] filled. */
int soak_server_start(soak_server *s, char *const argv[], const char *log_path, int wait_s,
                      char *why, size_t cap);
/* 1 while the process runs; 0 once it has exited (s->status holds its wait status). */
int soak_server_alive(soak_server *s);
/* VmRSS / VmHWM of the server, in bytes; -1 when unreadable. */
int64_t soak_server_rss(const soak_server *s);
int64_t soak_server_peak_rss(const soak_server *s);
/* SIGTERM, then waits up to wait_s seconds; returns the exit code, or -1 when it had to be
 * killed or died of a signal. */
int soak_server_stop(soak_server *s, int wait_s);

/* ---- statistics and failures (soak_stats.c) ---- */
typedef enum soak_kind {
    K_START,      /* startSession */
    K_CLICK,      /* addPoints */
    K_PROP_FIRST, /* propagate_in_video: request to first frame */
    K_PROP_FRAME, /* propagate_in_video: between two frames */
    K_CANCEL,     /* cancelPropagateInVideo */
    K_CLOSE,      /* closeSession */
    K_UPLOAD,     /* uploadVideo of a video (transcoded) */
    K_UPLOAD_BAD, /* uploadVideo of a file that is not a video (refused) */
    K_STATIC,     /* GET /gallery (Range), /posters, /healthy */
    K_COUNT
} soak_kind;

extern const char *const SOAK_KIND_NAMES[K_COUNT];

void stats_record(soak_kind k, double ms);
long stats_count(soak_kind k);
/* p in [0, 100]; -1 when there is no sample. */
double stats_percentile(soak_kind k, double p);
void stats_free(void);

/* HTTP requests sent (a stream counts once) and the deliberate overload answers (503) seen. */
void stats_request(void);
long stats_requests(void);
void stats_overload(void);
long stats_overloads(void);
/* Propagation endings. */
typedef enum { END_COMPLETE, END_CANCELLED, END_DISCONNECTED, END_COUNT } soak_end;
void stats_end(soak_end e);
long stats_ends(soak_end e);

/* Records a failure (the first few messages are kept); any failure fails the run. */
void soak_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
long soak_failures(void);
void soak_print_failures(FILE *f);

/* Mask references: the first answer seen for a key is the reference; later answers for the same
 * key must be byte-identical. Returns 2 when it became the reference, 1 when it matched, 0 when
 * it differs. */
int refs_check(const char *key, const char *masks);
long refs_count(void);
long refs_compared(void);
void refs_free(void);

double soak_now_ms(void);

/* ---- quiescent points (soak_quiesce.c) ---- */
typedef struct soak_quiesce soak_quiesce;
soak_quiesce *quiesce_new(int clients);
void quiesce_free(soak_quiesce *q);
/* Client side: pauses here while a quiescent point is being measured; quiesce_done when the
 * client stops for good. */
void quiesce_checkpoint(soak_quiesce *q);
void quiesce_done(soak_quiesce *q);
/* Measuring side: every running client paused, then waits until the server at `port` is idle
 * (no session, stream, job or upload; up to 120 s), lets its reaper give memory back, and
 * returns the lowest RSS of five samples (bytes; -1 when the server did not become idle, with a
 * failure recorded). The clients stay paused until quiesce_release. */
int64_t quiesce_measure(soak_quiesce *q, int port, soak_server *srv);
void quiesce_release(soak_quiesce *q);

/* ---- the clients (soak_client.c) ---- */
typedef struct soak_video {
    char path[128];       /* as given to startSession: gallery/01_dog.mp4, uploads/<sha>.mp4 */
    int frames;           /* known frame count (the clip's), 0 for a gallery video */
    int full_propagation; /* short enough to propagate to the end */
} soak_video;

typedef struct soak_plan {
    int port;
    atomic_llong deadline_ms; /* ms: no new iteration starts after this (pauses move it later) */
    struct soak_quiesce *quiesce; /* pauses between iterations for the leak check (may be NULL) */
    soak_video videos[8];
    int n_videos;
    const char *gallery_file; /* absolute path of a gallery video to upload */
    const char *data_dir;     /* DATA_PATH: error messages must never name it */
    char gallery_url[128];    /* /gallery/<name> for static requests */
    char poster_url[128];     /* /posters/<name>.jpg */
    atomic_int stop;          /* set when the server died */
} soak_plan;

/* The fixed clicks, in the normalised coordinates the frontend sends. */
#define SOAK_CLICK1_X 0.45
#define SOAK_CLICK1_Y 0.55
#define SOAK_CLICK2_X 0.25
#define SOAK_CLICK2_Y 0.30

/* Uploads `file` (durationTimeSec when > 0); fills path ("uploads/<sha>.mp4"). 0 or -1. */
int soak_upload_file(int port, const char *file, double duration_s, char *path, size_t cap,
                     char *why, size_t why_cap);
/* One session: startSession, two fixed clicks, a propagation ended as `mode` says (from
 * start_frame), sometimes a correction click, closeSession. Checks every mask against the
 * references. *parts (may be NULL) receives the number of frames streamed. Returns 0, 1 when it
 * met a deliberate overload answer, -1 on a failure (recorded). */
typedef enum { MODE_COMPLETE, MODE_CANCEL, MODE_DISCONNECT } soak_mode;
int soak_session_flow(const soak_plan *p, int video, soak_mode mode, int start_frame,
                      int correction, int *parts);
/* One client thread: loops session flows and uploads until the deadline. arg: soak_client. */
typedef struct soak_client {
    const soak_plan *plan;
    int index;
    long iterations;
} soak_client;
void *soak_client_main(void *arg);

#endif
