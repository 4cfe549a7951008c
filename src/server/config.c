#include "server/config.h"

#include "server/client_addr.h"

#include "app/cli_options.h"
#include "sam2.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One row per setting: its flag (NULL: environment only), its environment variable, how its
 * text becomes a value, where the value lives, and its range. */
#define SET(FLAG, ENV, KIND, FIELD, META, LO, HI, HELP)                                            \
    CLI_OPT_SETTING(FLAG, ENV, KIND, offsetof(server_config, FIELD),                               \
                    sizeof(((server_config *)0)->FIELD), META, LO, HI, HELP)
#define TEXT(FLAG, ENV, FIELD, META, HELP) SET(FLAG, ENV, CLI_ARG_BUFFER, FIELD, META, 0, 0, HELP)
#define INT(FLAG, ENV, FIELD, LO, HI, HELP) SET(FLAG, ENV, CLI_ARG_INT, FIELD, "N", LO, HI, HELP)
#define BOOL(FLAG, ENV, FIELD, HELP) SET(FLAG, ENV, CLI_ARG_BOOL, FIELD, "0|1", 0, 1, HELP)

static const cli_option OPTIONS[] = {
    TEXT("--host", NULL, host, "ADDR", "address to listen on (default 0.0.0.0)"),
    INT("--port", "PORT", port, 0, 65535, "TCP port (default 7263; 0 picks a free one)"),
    TEXT("--api-url", "API_URL", api_url, "URL",
         "base of the video and poster URLs\n(default http://localhost:<port>)"),
    TEXT("--allowed-origins", "ALLOWED_ORIGINS", allowed_origins, "LIST",
         "comma-separated CORS origins (default: any origin)"),
    INT("--timeout", "REQUEST_TIMEOUT", timeout_s, 1, 86400,
        "request timeout in seconds (default 60)"),
    INT("--max-requests", "MAX_REQUESTS", max_requests, 1, 100000,
        "concurrent connections (default 256)"),
    INT("--max-connections-per-ip", "MAX_CONNECTIONS_PER_IP", max_connections_per_ip, 0, 100000,
        "concurrent connections from one address\n(default 32; 0: no bound, e.g. behind a proxy)"),
    INT("--max-sessions-per-ip", "MAX_SESSIONS_PER_IP", max_sessions_per_ip, 0, 10000,
        "sessions one address may hold open\n(default 8; 0: no bound, e.g. behind a proxy)"),
    TEXT("--trusted-proxies", "TRUSTED_PROXIES", trusted_proxies, "LIST",
         "comma-separated addresses or CIDR ranges of reverse\nproxies: their requests count "
         "against the client they\nname last in X-Forwarded-For (default: none)"),
    INT("--body-timeout", "REQUEST_BODY_TIMEOUT", body_timeout_s, 0, 86400,
        "seconds a request body may take to arrive in all\n(default 300; 0: no bound)"),
    TEXT("--node-id", "SAM2_NODE_ID", node_id, "NAME",
         "this replica's name, put in every session id so a\nproxy can route by it (letters, "
         "digits, - and _;\ndefault: none)"),
    INT("--drain-timeout", "DRAIN_TIMEOUT", drain_timeout_s, 0, 31536000,
        "seconds a drain (SIGTERM) waits for sessions and\nstreams to end (default 30)"),
    INT("--drain-after", "SAM2_DRAIN_AFTER", drain_after_s, 0, 31536000,
        "start draining this many seconds after start-up\n(default 0: never)"),
    INT("--admin-port", "SAM2_ADMIN_PORT", admin_port, -1, 65535,
        "port of the admin listener on 127.0.0.1 (POST /drain);\n0 picks one (default -1: none)"),
    TEXT("--app-root", "APP_ROOT", app_root, "PATH",
         "checkpoints live in $APP_ROOT/checkpoints\n(default /opt/sam2)"),
    TEXT("--model-size", "MODEL_SIZE", model_size, "SIZE",
         "tiny, small, base_plus, large or edgetam\n(default base_plus)"),
    TEXT("--checkpoint", "SAM2_CHECKPOINT", checkpoint, "PATH",
         "checkpoint file (default $APP_ROOT/checkpoints/\nsam2.1_hiera_<MODEL_SIZE>.pt, "
         "edgetam.pt for edgetam)"),
    TEXT("--config", "SAM2_CONFIG", config_yaml, "PATH",
         "model YAML (default: detected from the checkpoint)"),
    TEXT("--backend", "SAM2_BACKEND", backend, "NAME",
         "compute backend: auto, cpu, ref or check\n(default auto; see sam2 doctor)"),
    INT("--threads", "SAM2_THREADS", threads, 0, 1024, "compute threads (default 0: all CPUs)"),
    INT("--workers", "SAM2_WORKERS", workers, 1, 64, "inference jobs running at once (default 1)"),
    INT("--compute-nice", "COMPUTE_NICE", compute_nice, 0, 19,
        "nice value of the model's threads, which also run\nas SCHED_BATCH (default 10; 0: "
        "normal priority)"),
    BOOL(NULL, "SAM2_DEMO_FORCE_CPU_DEVICE", force_cpu,
         "accepted for compatibility (sam2c runs on the CPU;\ndefault 0)"),
    BOOL("--correct-as-cond", "ADD_ALL_FRAMES_TO_CORRECT_AS_COND", correct_as_cond,
         "corrections on tracked frames become conditioning\nframes (default 1)"),
    {.name = "--no-correct-as-cond",
     .kind = CLI_ARG_FLAG_OFF,
     .offset = offsetof(server_config, correct_as_cond),
     .help = "same as --correct-as-cond 0"},
    TEXT("--data", "DATA_PATH", data_path, "PATH",
         "data folder holding gallery/, posters/, uploads/\n(default /data)"),
    TEXT("--default-video", "DEFAULT_VIDEO_PATH", default_video_path, "PATH",
         "video returned by defaultVideo, e.g.\ngallery/05_default_juggle.mp4\n(default: the first "
         "gallery video)"),
    TEXT("--spill-dir", "SPILL_DIR", spill_dir, "PATH",
         "folder for spilled session state (default $TMPDIR)"),
    INT("--spill-max-mb", "SPILL_MAX_MB", spill_max_mb, 0, 16777216,
        "a session's state in the spill file, in MB\n(default 4096; 0: no bound)"),
    SET("--max-upload-duration", "MAX_UPLOAD_VIDEO_DURATION", CLI_ARG_DOUBLE,
        max_upload_video_duration, "SECONDS", 0.1, 86400,
        "uploads are trimmed to this many seconds (default 10)"),
    TEXT(NULL, "VIDEO_ENCODE_CODEC", encode_codec, "NAME", "upload video codec (default libx264)"),
    INT(NULL, "VIDEO_ENCODE_CRF", encode_crf, 0, 63, "upload quality (default 23)"),
    INT(NULL, "VIDEO_ENCODE_FPS", encode_fps, 1, 240, "upload frame rate (default 24)"),
    INT(NULL, "VIDEO_ENCODE_MAX_WIDTH", encode_max_width, 16, 16384,
        "upload width bound (default 1280)"),
    INT(NULL, "VIDEO_ENCODE_MAX_HEIGHT", encode_max_height, 16, 16384,
        "upload height bound (default 720)"),
    BOOL(NULL, "VIDEO_ENCODE_VERBOSE", encode_verbose, "log the transcoder (default False)"),
    SET(NULL, "VIDEO_ENCODE_SEEK_TIME", CLI_ARG_DOUBLE, encode_seek_time, "SECONDS", 0, 86400,
        "upload start time (default 0)"),
    INT(NULL, "FFMPEG_NUM_THREADS", ffmpeg_threads, 1, 256, "transcoder threads (default 1)"),
    SET("--max-body-mb", "MAX_BODY_MB", CLI_ARG_MEGABYTES, max_body_bytes, "MB", 1, 4096,
        "JSON request bodies (default 16 MB)"),
    SET("--max-upload-mb", "MAX_UPLOAD_MB", CLI_ARG_MEGABYTES, max_upload_bytes, "MB", 1, 65536,
        "upload requests (default 70 MB)"),
    INT("--max-points", "MAX_POINTS_PER_REQUEST", max_points, 1, 4096,
        "points per addPoints (default 1024)"),
    INT("--max-objects", "MAX_OBJECTS_PER_SESSION", max_objects, 1, 1024,
        "objects per session (default 64)"),
    INT("--max-sessions", "MAX_SESSIONS", max_sessions, 1, 10000, "sessions at once (default 16)"),
    INT("--session-ttl", "SESSION_TTL", session_ttl_s, 1, 31536000,
        "seconds an idle session lives (default 1800)"),
    SET("--max-memory-mb", "MAX_MEMORY_MB", CLI_ARG_SIZE, max_memory_mb, "MB", 0, 16777216,
        "memory budget of model + sessions\n(default 0: 3/4 of RAM)"),
    SET("--session-memory-mb", "SESSION_MEMORY_MB", CLI_ARG_SIZE, session_memory_mb, "MB", 16,
        16777216, "session state kept in RAM before spilling to disk\n(default 1024)"),
    INT("--max-query-fields", "MAX_QUERY_FIELDS", max_query_fields, 10, 10000000,
        "fields one GraphQL request may resolve (default 20000)"),
    INT("--max-video-frames", "MAX_VIDEO_FRAMES", max_video_frames, 1, 1000000,
        "frames a video (gallery, upload input) may have\n(default 20000)"),
    INT("--max-video-side", "MAX_VIDEO_SIDE", max_video_side, 16, 8192,
        "pixels per side of a video (gallery, upload input)\n(default 4096)"),
    INT("--max-concurrent-uploads", "MAX_CONCURRENT_UPLOADS", max_concurrent_uploads, 1, 64,
        "uploads transcoded at once; more wait up to\nREQUEST_TIMEOUT (default 1)"),
    INT("--max-upload-megapixels", "MAX_UPLOAD_MEGAPIXELS", max_upload_megapixels, 1, 1000000,
        "input pixels an upload may make the server decode,\nin millions (default 2500: 10 s of "
        "4K at 30 fps)"),
};

static const cli_spec SPEC = {
    .command = "serve",
    .usage_args = "[OPTIONS]",
    .about = "Serves the SAM 2 demo API (the official frontend works unchanged against it).\n"
             "Every option can also be set by the environment variable shown; flags win.",
    .options = CLI_OPTIONS(OPTIONS),
};

static void copy_str(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src);
}

void server_config_defaults(server_config *c) {
    memset(c, 0, sizeof *c);
    copy_str(c->host, sizeof c->host, "0.0.0.0");
    c->port = 7263;
    c->timeout_s = 60;
    c->max_requests = 256;
    c->max_connections_per_ip = 32;
    c->max_sessions_per_ip = 8;
    c->body_timeout_s = 300;
    c->drain_timeout_s = 30;
    c->admin_port = -1;
    copy_str(c->app_root, sizeof c->app_root, "/opt/sam2");
    copy_str(c->model_size, sizeof c->model_size, "base_plus");
    c->workers = 1;
    c->compute_nice = 10;
    c->correct_as_cond = 1;
    copy_str(c->data_path, sizeof c->data_path, "/data");
    c->max_upload_video_duration = 10;
    copy_str(c->encode_codec, sizeof c->encode_codec, "libx264");
    c->encode_crf = 23;
    c->encode_fps = 24;
    c->encode_max_width = 1280;
    c->encode_max_height = 720;
    c->ffmpeg_threads = 1;
    c->max_body_bytes = (size_t)16 << 20;
    c->max_upload_bytes = (size_t)70 << 20;
    c->max_points = 1024;
    c->max_objects = 64;
    c->max_sessions = 16;
    c->session_ttl_s = 1800;
    c->session_memory_mb = 1024;
    c->max_query_fields = 20000;
    c->max_video_frames = 20000;
    c->max_video_side = 4096;
    c->max_concurrent_uploads = 1;
    c->max_upload_megapixels = 2500;
    c->spill_max_mb = 4096;
}

int server_config_from_env(server_config *c, sam2_error *err) {
    return cli_parse_env(&SPEC, c, err) == CLI_PARSE_OK ? 0 : -1;
}

int server_config_from_args(server_config *c, int argc, char **argv, int *help, sam2_error *err) {
    const int rc = cli_parse_args(&SPEC, argc, argv, c, err);
    *help = rc == CLI_PARSE_HELP;
    return rc == CLI_PARSE_ERROR ? -1 : 0;
}

const server_model_file *server_model_file_of(const char *size) {
    static const server_model_file files[] = {
        {"tiny", "sam2.1_hiera_tiny.pt",
         "https://dl.fbaipublicfiles.com/segment_anything_2/092824/sam2.1_hiera_tiny.pt"},
        {"small", "sam2.1_hiera_small.pt",
         "https://dl.fbaipublicfiles.com/segment_anything_2/092824/sam2.1_hiera_small.pt"},
        {"base_plus", "sam2.1_hiera_base_plus.pt",
         "https://dl.fbaipublicfiles.com/segment_anything_2/092824/sam2.1_hiera_base_plus.pt"},
        {"large", "sam2.1_hiera_large.pt",
         "https://dl.fbaipublicfiles.com/segment_anything_2/092824/sam2.1_hiera_large.pt"},
        /* EdgeTAM's README: "Model is available here" (the repository's checkpoints/ folder) */
        {"edgetam", "edgetam.pt",
         "https://github.com/facebookresearch/EdgeTAM/raw/main/checkpoints/edgetam.pt"},
    };
    for (size_t i = 0; size && i < sizeof files / sizeof files[0]; i++)
        if (!strcmp(size, files[i].size)) return &files[i];
    return NULL;
}

int server_config_finalize(server_config *c, sam2_error *err) {
    if (!c->checkpoint[0]) {
        const char *size = c->model_size;
        const server_model_file *mf = server_model_file_of(size);
        if (!mf)
            return sam2_fail(err, SAM2_ERR_ARGUMENT,
                             "MODEL_SIZE=%s is not one of " SERVER_MODEL_SIZES, size);
        if ((size_t)snprintf(c->checkpoint, sizeof c->checkpoint, "%s/checkpoints/%s", c->app_root,
                             mf->file) >= sizeof c->checkpoint)
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "APP_ROOT is too long");
    }
    for (const char *p = c->node_id; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
            return sam2_fail(err, SAM2_ERR_ARGUMENT,
                             "SAM2_NODE_ID=%s may hold only letters, digits, '-' and '_' (it "
                             "becomes part of every "
                             "session id)",
                             c->node_id);
    char bad[128];
    if (client_addr_list_check(c->trusted_proxies, bad, sizeof bad))
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "TRUSTED_PROXIES: '%s' is not an IPv4 or IPv6 address or CIDR range", bad);
    if (!c->api_url[0]) snprintf(c->api_url, sizeof c->api_url, "http://localhost:%d", c->port);
    size_t n = strlen(c->api_url);
    while (n > 0 && c->api_url[n - 1] == '/') c->api_url[--n] = 0;
    if (c->max_memory_mb == 0) {
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        if (pages > 0 && page > 0)
            c->max_memory_mb = (size_t)pages / 1024 * (size_t)page / 1024 * 3 / 4;
        if (c->max_memory_mb == 0) c->max_memory_mb = 4096;
    }
    if (c->session_memory_mb > c->max_memory_mb) c->session_memory_mb = c->max_memory_mb;
    return 0;
}

void server_config_usage(FILE *f) {
    cli_print_help(&SPEC, f);
}
