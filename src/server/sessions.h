/* Inference sessions: one per startSession, identified by a random UUIDv4 (prefixed by the
 * replica's node id, "<node>.<uuid>", when one is set), each owning its video
 * and tracking state. One model serves them all. A session is used by one request at a time
 * (session_begin/session_end); idle sessions expire after SESSION_TTL; the number of sessions and
 * the memory they may hold are bounded (MAX_SESSIONS, MAX_MEMORY_MB, SESSION_MEMORY_MB). */
#ifndef SAM2_SERVER_SESSIONS_H
#define SAM2_SERVER_SESSIONS_H

#include "server/inference.h"
#include "server/mask_store.h"
#include "server/scheduler.h"

#include <stdatomic.h>
#include <stddef.h>

/* A session id is "<uuid>" or, on a named replica, "<node>.<uuid>": the node id (letters, digits,
 * '-', '_') lets a proxy route the session's requests to the replica that holds it, and the random
 * UUIDv4 keeps the id unguessable. Clients treat it as an opaque string. */
#define SESSION_NODE_ID_MAX 32
#define SESSION_ID_LEN (SESSION_NODE_ID_MAX + 1 + 36)

typedef struct session session;
typedef struct session_table session_table;

typedef struct session_table_config {
    const inference_ops *inf;
    const inf_model *model;
    fair_sched *sched;
    int max_sessions;
    int ttl_s;
    size_t budget_bytes;  /* MAX_MEMORY_MB */
    size_t model_bytes;   /* counted against the budget */
    size_t session_bytes; /* SESSION_MEMORY_MB: each session's RAM share (then it spills); an
                           * eighth of it holds the masks kept for exports, the tracker the rest */
    const atomic_llong
        *job_bytes; /* memory requests hold outside sessions, counted too (may be NULL) */
    const char *spill_dir;
    int correct_as_cond;
    int max_objects;
    int max_frames;      /* MAX_VIDEO_FRAMES (0: unbounded here, the reader's default applies) */
    int max_side;        /* MAX_VIDEO_SIDE */
    const char *node_id; /* NULL or "": ids are bare UUIDv4s */
} session_table_config;

session_table *sessions_new(const session_table_config *cfg);
/* Cancels and closes every session (waits for none: sessions in use are freed by their users). */
void sessions_free(session_table *t);

/* 0 when another session may start now (MAX_SESSIONS, MAX_MEMORY_MB), else the error that
 * sessions_start_for would answer (SAM2_ERR_LIMIT or SAM2_ERR_NOMEM). Used by /ready too. */
int sessions_admit(session_table *t, sam2_error *err);
/* Opens a session on a video (absolute path; `display` names it in errors and logs), counting it
 * against `owner` (the client's address): one owner may hold at most max_per_owner sessions
 * (MAX_SESSIONS_PER_IP; 0 or owner NULL: not counted). */
int sessions_start_for(session_table *t, const char *owner, int max_per_owner,
                       const char *video_path, const char *display, char id[SESSION_ID_LEN + 1],
                       sam2_error *err);
/* Returns a reference (release with session_unref) or NULL with the official error text
 * "Cannot find session <id>; it might have expired". */
session *sessions_get(session_table *t, const char *id, sam2_error *err);
void session_unref(session *s);
/* Closes a session: 1 when it existed, 0 otherwise (the official closeSession answers false). */
int sessions_close(session_table *t, const char *id);
/* Stops the session's propagation in flight, if any (error when the session does not exist). */
int sessions_cancel(session_table *t, const char *id, sam2_error *err);
/* Closes sessions idle for longer than the TTL; returns how many. */
int sessions_expire(session_table *t);
int sessions_count(session_table *t);
size_t sessions_ram_bytes(session_table *t);
/* Sessions whose propagation is running (for the sam2_sessions_propagating gauge). */
int sessions_propagating(session_table *t);
void sessions_cancel_all(session_table *t);

/* Exclusive use of a session's tracker; waits up to timeout_ms for another request to finish.
 * Fails when the session was closed meanwhile. */
int session_begin(session *s, int timeout_ms, sam2_error *err);
void session_end(session *s);

/* Fails (SAM2_ERR_LIMIT, naming SPILL_MAX_MB) when the session's state in its spill file has
 * passed max_mb (0: no bound). Called by the request that holds the session. */
int session_check_spill(session *s, int max_mb, sam2_error *err);

/* Accessors. */
const char *session_id(const session *s);
inf_session *session_tracker(session *s);
/* The masks produced so far (see mask_store.h): written by the request that holds the session. */
mask_store *session_masks(session *s);
const char *session_video_path(const session *s);   /* absolute: never shown to clients */
const char *session_display_path(const session *s); /* as the client named it on startSession */
double session_fps(const session *s);               /* 0: unknown */
/* Counts as activity for SESSION_TTL (an export reads the session without taking it). */
void session_touch(session *s);
int session_frame_count(const session *s);
int session_width(const session *s);
int session_height(const session *s);
fair_client *session_sched_client(session *s);
/* The propagation stop flag: set by cancelPropagateInVideo, closeSession, expiry, a newer
 * propagation and a disconnected client; cleared when a propagation starts. */
atomic_int *session_cancel_flag(session *s);
void session_set_propagating(session *s, int on);
int session_is_propagating(session *s);
/* Asks the propagation in flight (if any) to stop. */
void session_request_cancel(session *s);
/* When the running propagation was first asked to stop (monotonic seconds, metrics_now()'s
 * clock), or 0 when it was not. */
double session_cancel_time(session *s);

#endif
