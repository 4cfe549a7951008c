#include "server/sessions.h"

#include "sam2.h"
#include "app/process.h"
#include "server/paths.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct session {
    char id[SESSION_ID_LEN + 1];
    session_table *table;
    atomic_int refs;
    pthread_mutex_t mu; /* busy, closed, last_use, propagating */
    pthread_cond_t cv;
    int busy;
    int closed;
    int propagating;
    double cancel_t; /* monotonic seconds of the first cancel of the running propagation, or 0 */
    double last_use; /* monotonic seconds */
    atomic_int cancel;
    fair_client sched;
    inf_session *inf;
    int n_frames, width, height;
    double fps;
    mask_store *masks;
    char video_path[PATH_MAX];
    char display[PATH_MAX];
    char owner[64]; /* the client address that started it ("" when not counted) */
};

struct session_table {
    session_table_config cfg;
    pthread_mutex_t mu;
    session **items;
    int n;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* RFC 4122 version 4 UUID from the kernel's random source, after "<node>." when the replica has
 * a node id (sessions.h). */
static int make_id(char out[SESSION_ID_LEN + 1], const char *node, sam2_error *err) {
    unsigned char b[16];
    if (process_random_bytes(b, sizeof b) != 0)
        return sam2_fail(err, SAM2_ERR_IO, "no random bytes from the system: %s", strerror(errno));
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    int at =
        node && *node ? snprintf(out, SESSION_ID_LEN + 1, "%.*s.", SESSION_NODE_ID_MAX, node) : 0;
    snprintf(out + at, (size_t)(SESSION_ID_LEN + 1 - at),
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return 0;
}

session_table *sessions_new(const session_table_config *cfg) {
    session_table *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->cfg = *cfg;
    t->items = calloc((size_t)(cfg->max_sessions > 0 ? cfg->max_sessions : 1), sizeof *t->items);
    if (!t->items) {
        free(t);
        return NULL;
    }
    pthread_mutex_init(&t->mu, NULL);
    return t;
}

/* The share of SESSION_MEMORY_MB that holds the masks kept for exports (the tracker gets the
 * rest): 1024 MB gives 128 MB, tens of thousands of masks at a few KB each. */
static size_t mask_share(size_t session_bytes) {
    return session_bytes / 8;
}
/* The video reader's decoded frames (re-reads, reverse propagation): an eighth of the share, at
 * most 32 MB (about 22 frames of 720p; decoding is cheap next to the model). */
static size_t frame_cache_share(size_t session_bytes) {
    const size_t cap = (size_t)32 << 20, e = session_bytes / 8;
    return e < cap ? e : cap;
}

static void session_destroy(session *s) {
    if (s->inf) s->table->cfg.inf->close(s->table->cfg.inf->self, s->inf);
    mask_store_free(s->masks);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

void session_unref(session *s) {
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) session_destroy(s);
}

/* Marks a session closed and stops its work; the caller drops the table's reference. */
static void mark_closed(session *s) {
    pthread_mutex_lock(&s->mu);
    s->closed = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    session_request_cancel(s);
}

void sessions_free(session_table *t) {
    if (!t) return;
    for (int i = 0; i < t->n; i++) {
        mark_closed(t->items[i]);
        session_unref(t->items[i]);
    }
    pthread_mutex_destroy(&t->mu);
    free(t->items);
    free(t);
}

static int owned_locked(session_table *t, const char *owner) {
    int n = 0;
    for (int i = 0; owner && *owner && i < t->n; i++) n += !strcmp(t->items[i]->owner, owner);
    return n;
}

static int owner_limit(const char *owner, int n, int max_per_owner, sam2_error *err) {
    return sam2_fail(err, SAM2_ERR_LIMIT,
                     "The client %s already has %d sessions open (MAX_SESSIONS_PER_IP=%d); close "
                     "one or try again later",
                     owner, n, max_per_owner);
}

int sessions_admit(session_table *t, sam2_error *err) {
    const session_table_config *c = &t->cfg;
    pthread_mutex_lock(&t->mu);
    int n = t->n;
    pthread_mutex_unlock(&t->mu);
    if (n >= c->max_sessions)
        return sam2_fail(err, SAM2_ERR_LIMIT,
                         "The server already has %d sessions open (MAX_SESSIONS=%d); close a "
                         "session or try again later",
                         n, c->max_sessions);
    const long long jobs = c->job_bytes ? atomic_load(c->job_bytes) : 0;
    size_t need =
        c->model_bytes + (size_t)(n + 1) * c->session_bytes + (size_t)(jobs > 0 ? jobs : 0);
    if (c->budget_bytes && need > c->budget_bytes)
        return sam2_fail(err, SAM2_ERR_NOMEM,
                         "Starting another session would exceed the memory budget: model %zu MB + "
                         "%d sessions x %zu MB "
                         "+ %lld MB held by uploads and requests > MAX_MEMORY_MB=%zu; close a "
                         "session or try again later",
                         c->model_bytes >> 20, n + 1, c->session_bytes >> 20,
                         (jobs > 0 ? jobs : 0) >> 20, c->budget_bytes >> 20);
    return 0;
}

int sessions_start_for(session_table *t, const char *owner, int max_per_owner,
                       const char *video_path, const char *display, char id[SESSION_ID_LEN + 1],
                       sam2_error *err) {
    const session_table_config *c = &t->cfg;
    const int counted = owner && *owner && max_per_owner > 0;
    /* Admission first, so a refused session costs nothing; re-checked on insert. */
    int admitted = sessions_admit(t, err);
    if (admitted) return admitted;
    pthread_mutex_lock(&t->mu);
    int mine = counted ? owned_locked(t, owner) : 0;
    pthread_mutex_unlock(&t->mu);
    if (counted && mine >= max_per_owner) return owner_limit(owner, mine, max_per_owner, err);

    session *s = calloc(1, sizeof *s);
    if (!s) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory starting a session");
    s->table = t;
    atomic_init(&s->refs, 1);
    atomic_init(&s->cancel, 0);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (make_id(s->id, c->node_id, err)) {
        session_destroy(s);
        return -1;
    }
    snprintf(s->video_path, sizeof s->video_path, "%s", video_path);
    snprintf(s->display, sizeof s->display, "%s", display);
    if (counted) snprintf(s->owner, sizeof s->owner, "%s", owner);
    const size_t share = mask_share(c->session_bytes);
    const size_t cache = frame_cache_share(c->session_bytes);
    inf_session_options o = {c->session_bytes - share - cache,
                             c->spill_dir,
                             c->correct_as_cond,
                             c->max_objects,
                             c->max_frames,
                             c->max_side,
                             cache};
    /* Opening decodes and checks the video: done outside the table lock and outside the compute
     * slots (it reads the file, it does not run the model). */
    int rc = c->inf->open(c->inf->self, c->model, video_path, &o, &s->inf, &s->n_frames, &s->width,
                          &s->height, err);
    /* The opener refuses oversized videos while indexing them; checked here too so the bound holds
     * whatever the opener does. */
    if (!rc && ((c->max_frames > 0 && s->n_frames > c->max_frames) ||
                (c->max_side > 0 && (s->width > c->max_side || s->height > c->max_side)))) {
        rc = sam2_fail(err, SAM2_ERR_LIMIT, "the video has %d frames of %dx%d", s->n_frames,
                       s->width, s->height);
        c->inf->close(c->inf->self, s->inf);
    }
    if (rc) {
        s->inf = NULL;
        session_destroy(s);
        if (err) {
            /* Never echo an absolute path: name the video as the client gave it. */
            char why[sizeof err->message];
            snprintf(why, sizeof why, "%s", err->message);
            path_scrub(why, sizeof why, video_path, display);
            if (rc == SAM2_ERR_LIMIT)
                snprintf(err->message, sizeof err->message,
                         "Cannot open video '%s': %s; the server accepts at most %d frames "
                         "(MAX_VIDEO_FRAMES) of at "
                         "most %d pixels per side (MAX_VIDEO_SIDE)",
                         display, why, c->max_frames, c->max_side);
            else
                snprintf(err->message, sizeof err->message, "Cannot open video '%s': %s", display,
                         why);
        }
        return rc ? rc : SAM2_ERR_IO;
    }
    inf_session_stats held = {0};
    c->inf->stats(c->inf->self, s->inf, &held);
    s->fps = held.fps;
    s->masks = mask_store_new(s->n_frames, share);
    if (!s->masks) {
        session_destroy(s);
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory starting a session");
    }
    s->last_use = now_s();
    pthread_mutex_lock(&t->mu);
    if (t->n >= c->max_sessions) {
        pthread_mutex_unlock(&t->mu);
        session_destroy(s);
        return sam2_fail(err, SAM2_ERR_LIMIT,
                         "The server already has %d sessions open (MAX_SESSIONS=%d); close a "
                         "session or try again later",
                         c->max_sessions, c->max_sessions);
    }
    if (counted && (mine = owned_locked(t, owner)) >= max_per_owner) {
        pthread_mutex_unlock(&t->mu);
        session_destroy(s);
        return owner_limit(owner, mine, max_per_owner, err);
    }
    t->items[t->n++] = s;
    pthread_mutex_unlock(&t->mu);
    memcpy(id, s->id, SESSION_ID_LEN + 1);
    return 0;
}

static int find_locked(session_table *t, const char *id) {
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->items[i]->id, id)) return i;
    return -1;
}

static int not_found(sam2_error *err, const char *id) {
    return sam2_fail(err, SAM2_ERR_ARGUMENT, "Cannot find session %.100s; it might have expired",
                     id);
}

session *sessions_get(session_table *t, const char *id, sam2_error *err) {
    pthread_mutex_lock(&t->mu);
    int i = find_locked(t, id);
    session *s = i >= 0 ? t->items[i] : NULL;
    if (s) atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&t->mu);
    if (!s) not_found(err, id);
    return s;
}

static session *remove_locked(session_table *t, int i) {
    session *s = t->items[i];
    t->items[i] = t->items[--t->n];
    return s;
}

int sessions_close(session_table *t, const char *id) {
    pthread_mutex_lock(&t->mu);
    int i = find_locked(t, id);
    session *s = i >= 0 ? remove_locked(t, i) : NULL;
    pthread_mutex_unlock(&t->mu);
    if (!s) return 0;
    mark_closed(s);
    session_unref(s);
    return 1;
}

int sessions_cancel(session_table *t, const char *id, sam2_error *err) {
    session *s = sessions_get(t, id, err);
    if (!s) return SAM2_ERR_ARGUMENT;
    session_request_cancel(s);
    session_unref(s);
    return 0;
}

int sessions_expire(session_table *t) {
    double now = now_s();
    int expired = 0;
    for (;;) {
        session *victim = NULL;
        pthread_mutex_lock(&t->mu);
        for (int i = 0; i < t->n; i++) {
            session *s = t->items[i];
            pthread_mutex_lock(&s->mu);
            int idle = !s->busy && !s->propagating && now - s->last_use > t->cfg.ttl_s;
            pthread_mutex_unlock(&s->mu);
            if (idle) {
                victim = remove_locked(t, i);
                break;
            }
        }
        pthread_mutex_unlock(&t->mu);
        if (!victim) break;
        mark_closed(victim);
        session_unref(victim);
        expired++;
    }
    return expired;
}

int sessions_count(session_table *t) {
    pthread_mutex_lock(&t->mu);
    int n = t->n;
    pthread_mutex_unlock(&t->mu);
    return n;
}

int sessions_propagating(session_table *t) {
    int n = 0;
    pthread_mutex_lock(&t->mu);
    for (int i = 0; i < t->n; i++) n += session_is_propagating(t->items[i]);
    pthread_mutex_unlock(&t->mu);
    return n;
}

size_t sessions_ram_bytes(session_table *t) {
    /* Only idle sessions are asked: a tracker in use belongs to its request. */
    size_t total = 0;
    pthread_mutex_lock(&t->mu);
    for (int i = 0; i < t->n; i++) {
        session *s = t->items[i];
        pthread_mutex_lock(&s->mu);
        if (!s->busy && s->inf) {
            inf_session_stats held = {0};
            t->cfg.inf->stats(t->cfg.inf->self, s->inf, &held);
            total += held.ram_bytes;
        }
        pthread_mutex_unlock(&s->mu);
        total += mask_store_bytes(s->masks);
    }
    pthread_mutex_unlock(&t->mu);
    return total;
}

void sessions_cancel_all(session_table *t) {
    pthread_mutex_lock(&t->mu);
    for (int i = 0; i < t->n; i++) session_request_cancel(t->items[i]);
    pthread_mutex_unlock(&t->mu);
}

int session_begin(session *s, int timeout_ms, sam2_error *err) {
    struct timespec end;
    clock_gettime(CLOCK_REALTIME, &end);
    end.tv_sec += timeout_ms / 1000;
    end.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    while (s->busy && !s->closed && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&s->cv, &s->mu, &end);
    if (s->closed) {
        pthread_mutex_unlock(&s->mu);
        return not_found(err, s->id);
    }
    if (s->busy) {
        pthread_mutex_unlock(&s->mu);
        return sam2_fail(
            err, SAM2_ERR_STATE,
            "Session %s is busy (a propagation is running); cancel it or try again later", s->id);
    }
    s->busy = 1;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void session_end(session *s) {
    pthread_mutex_lock(&s->mu);
    s->busy = 0;
    s->last_use = now_s();
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

const char *session_id(const session *s) {
    return s->id;
}
inf_session *session_tracker(session *s) {
    return s->inf;
}
mask_store *session_masks(session *s) {
    return s->masks;
}
const char *session_video_path(const session *s) {
    return s->video_path;
}
const char *session_display_path(const session *s) {
    return s->display;
}
double session_fps(const session *s) {
    return s->fps;
}

void session_touch(session *s) {
    pthread_mutex_lock(&s->mu);
    s->last_use = now_s();
    pthread_mutex_unlock(&s->mu);
}
int session_check_spill(session *s, int max_mb, sam2_error *err) {
    const inference_ops *inf = s->table->cfg.inf;
    if (max_mb <= 0 || !s->inf) return 0;
    inf_session_stats held = {0};
    inf->stats(inf->self, s->inf, &held);
    const size_t spilled = held.spilled_bytes;
    if (spilled <= (size_t)max_mb << 20) return 0;
    return sam2_fail(err, SAM2_ERR_LIMIT,
                     "Session %s holds %zu MB of state on disk, more than SPILL_MAX_MB=%d allows; "
                     "clear its points "
                     "(clearPointsInVideo) or start a new session",
                     s->id, spilled >> 20, max_mb);
}

int session_frame_count(const session *s) {
    return s->n_frames;
}
int session_width(const session *s) {
    return s->width;
}
int session_height(const session *s) {
    return s->height;
}
fair_client *session_sched_client(session *s) {
    return &s->sched;
}
atomic_int *session_cancel_flag(session *s) {
    return &s->cancel;
}

void session_set_propagating(session *s, int on) {
    pthread_mutex_lock(&s->mu);
    s->propagating = on;
    if (on) {
        atomic_store(&s->cancel, 0);
        s->cancel_t = 0;
    }
    pthread_mutex_unlock(&s->mu);
}

double session_cancel_time(session *s) {
    pthread_mutex_lock(&s->mu);
    double t = s->cancel_t;
    pthread_mutex_unlock(&s->mu);
    return t;
}

int session_is_propagating(session *s) {
    pthread_mutex_lock(&s->mu);
    int p = s->propagating;
    pthread_mutex_unlock(&s->mu);
    return p;
}

void session_request_cancel(session *s) {
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->cancel, 1);
    if (s->propagating && s->cancel_t == 0) s->cancel_t = now_s();
    /* The tracker is told too so it can stop inside a frame; only while it propagates. */
    if (s->propagating && s->inf) s->table->cfg.inf->cancel(s->table->cfg.inf->self, s->inf);
    pthread_mutex_unlock(&s->mu);
}
