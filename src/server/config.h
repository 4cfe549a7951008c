/* `sam2 serve` configuration: the official demo backend's environment variables (APP_ROOT,
 * API_URL, MODEL_SIZE, DATA_PATH, DEFAULT_VIDEO_PATH, MAX_UPLOAD_VIDEO_DURATION, VIDEO_ENCODE_*,
 * FFMPEG_NUM_THREADS, SAM2_DEMO_FORCE_CPU_DEVICE), sam2c's own limits (docs/server.md has the
 * table), and command-line flags, which override the environment. */
#ifndef SAM2_SERVER_CONFIG_H
#define SAM2_SERVER_CONFIG_H

#include "sam2.h"

#include <stddef.h>
#include <stdio.h>

#define SERVER_PATH_MAX 1024

typedef struct server_config {
    /* network */
    char host[64];
    int port;
    char api_url[SERVER_PATH_MAX]; /* "" until finalized: http://localhost:<port> */
    char allowed_origins[2048];    /* comma-separated; "" allows every origin */
    int timeout_s;                 /* idle connection timeout and waits for a busy session */
    int max_requests;              /* concurrent connections */
    int max_connections_per_ip;    /* concurrent connections from one address (0: no bound) */
    int max_sessions_per_ip;       /* sessions one address may hold open (0: no bound) */
    char trusted_proxies[1024]; /* proxies whose X-Forwarded-For names the client (client_addr.h) */
    int body_timeout_s; /* a request body must arrive within this many seconds (0: no bound) */
    /* replicas behind a proxy (server/replica.h, docs/server.md "Several replicas") */
    char node_id[33];    /* SAM2_NODE_ID: named in every session id ("" : bare UUIDv4 ids) */
    int drain_timeout_s; /* a drain ends after this long even with sessions left */
    int drain_after_s;   /* start draining this long after start-up (0: never) */
    int admin_port;      /* loopback-only admin listener (-1: none, 0: a free port) */
    /* model */
    char app_root[SERVER_PATH_MAX];
    char model_size[32];
    char checkpoint[SERVER_PATH_MAX]; /* "" until finalized: $APP_ROOT/checkpoints/<file of size> */
    char config_yaml[SERVER_PATH_MAX];
    int threads;      /* compute threads (0: library default) */
    char backend[16]; /* compute backend: auto, cpu, ref, check ("": $SAM2_BACKEND, else auto) */
    int workers;      /* inference slots: jobs computing at the same time */
    int compute_nice; /* nice value (and SCHED_BATCH) of the threads running the model; 0: unchanged
                       */
    int force_cpu;    /* SAM2_DEMO_FORCE_CPU_DEVICE (sam2c always runs on the CPU) */
    int correct_as_cond; /* add_all_frames_to_correct_as_cond (ON by default in sam2 serve) */
    /* data */
    char data_path[SERVER_PATH_MAX];
    char default_video_path[SERVER_PATH_MAX];
    char spill_dir[SERVER_PATH_MAX]; /* "" : $TMPDIR or /tmp */
    /* upload / transcode (VIDEO_ENCODE_*) */
    double max_upload_video_duration;
    char encode_codec[64];
    int encode_crf, encode_fps, encode_max_width, encode_max_height, encode_verbose;
    double encode_seek_time;
    int ffmpeg_threads;
    /* limits */
    size_t max_body_bytes;
    size_t max_upload_bytes;
    int max_points;  /* per addPoints request */
    int max_objects; /* per session */
    int max_sessions;
    int session_ttl_s;
    size_t max_memory_mb;     /* 0: three quarters of physical memory */
    size_t session_memory_mb; /* per-session state kept in RAM before spilling to disk */
    int max_query_fields;
    int max_video_frames;       /* frames a session's video (and an upload's input) may have */
    int max_video_side;         /* pixels per side of a session's video or an upload's input */
    int max_concurrent_uploads; /* uploads transcoded at once; more wait in line */
    int max_upload_megapixels;  /* input pixels an upload may make the server decode, in millions */
    int spill_max_mb;           /* a session's state in its spill file (0: no bound) */
} server_config;

/* MODEL_SIZE -> the checkpoint's file name under $APP_ROOT/checkpoints and where Meta publishes
 * it: tiny, small, base_plus, large (SAM 2.1, sam2.1_hiera_<size>.pt) and edgetam
 * (edgetam.pt, from the EdgeTAM repository). NULL for an unknown size. */
typedef struct server_model_file {
    const char *size, *file, *url;
} server_model_file;
const server_model_file *server_model_file_of(const char *size);
/* "tiny, small, base_plus, large or edgetam", for messages. */
#define SERVER_MODEL_SIZES "tiny, small, base_plus, large or edgetam"

void server_config_defaults(server_config *c);
/* Reads the environment (getenv); a malformed value fails naming the variable. */
int server_config_from_env(server_config *c, sam2_error *err);
/* Parses flags (argv[0] is the command name). *help is set when --help was given. */
int server_config_from_args(server_config *c, int argc, char **argv, int *help, sam2_error *err);
/* Fills the derived values (checkpoint path, API_URL, memory budget). */
int server_config_finalize(server_config *c, sam2_error *err);
void server_config_usage(FILE *f);

#endif
