#include "server/config.h"

#include "server/client_addr.h"

#include "sam2.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef enum opt_kind { OPT_STR, OPT_INT, OPT_DOUBLE, OPT_BOOL, OPT_MB } opt_kind;

/* One setting: its environment variable, its flag, where it lives and its range. */
typedef struct opt {
    const char *env;  /* may be NULL */
    const char *flag; /* without "--"; may be NULL */
    opt_kind kind;
    size_t offset, size;
    double lo, hi;
    const char *help;
} opt;

#define F(field) offsetof(server_config, field), sizeof(((server_config *)0)->field)

static const opt OPTS[] = {
    {NULL, "host", OPT_STR, F(host), 0, 0, "address to listen on (default 0.0.0.0)"},
    {"PORT", "port", OPT_INT, F(port), 0, 65535, "TCP port (default 7263; 0 picks a free one)"},
    {"API_URL", "api-url", OPT_STR, F(api_url), 0, 0,
     "base of the video and poster URLs (default http://localhost:<port>)"},
    {"ALLOWED_ORIGINS", "allowed-origins", OPT_STR, F(allowed_origins), 0, 0,
     "comma-separated CORS origins (default: any origin)"},
    {"REQUEST_TIMEOUT", "timeout", OPT_INT, F(timeout_s), 1, 86400,
     "request timeout in seconds (default 60)"},
    {"MAX_REQUESTS", "max-requests", OPT_INT, F(max_requests), 1, 100000,
     "concurrent connections (default 256)"},
    {"MAX_CONNECTIONS_PER_IP", "max-connections-per-ip", OPT_INT, F(max_connections_per_ip), 0,
     100000,
     "concurrent connections from one address (default 32; 0: no bound, e.g. behind a proxy)"},
    {"MAX_SESSIONS_PER_IP", "max-sessions-per-ip", OPT_INT, F(max_sessions_per_ip), 0, 10000,
     "sessions one address may hold open (default 8; 0: no bound, e.g. behind a proxy)"},
    {"TRUSTED_PROXIES", "trusted-proxies", OPT_STR, F(trusted_proxies), 0, 0,
     "comma-separated addresses or CIDR ranges of reverse proxies: their requests count against "
     "the client they name last in X-Forwarded-For (default: none)"},
    {"REQUEST_BODY_TIMEOUT", "body-timeout", OPT_INT, F(body_timeout_s), 0, 86400,
     "seconds a request body may take to arrive in all (default 300; 0: no bound)"},
    {"SAM2_NODE_ID", "node-id", OPT_STR, F(node_id), 0, 0,
     "this replica's name, put in every session id so a proxy can route by it (letters, digits, - "
     "and _)"},
    {"DRAIN_TIMEOUT", "drain-timeout", OPT_INT, F(drain_timeout_s), 0, 31536000,
     "seconds a drain (SIGTERM) waits for sessions and streams to end (default 30)"},
    {"SAM2_DRAIN_AFTER", "drain-after", OPT_INT, F(drain_after_s), 0, 31536000,
     "start draining this many seconds after start-up (default 0: never)"},
    {"SAM2_ADMIN_PORT", "admin-port", OPT_INT, F(admin_port), -1, 65535,
     "port of the admin listener on 127.0.0.1 (POST /drain); 0 picks one (default -1: none)"},
    {"APP_ROOT", "app-root", OPT_STR, F(app_root), 0, 0,
     "checkpoints live in $APP_ROOT/checkpoints (default /opt/sam2)"},
    {"MODEL_SIZE", "model-size", OPT_STR, F(model_size), 0, 0,
     "tiny, small, base_plus, large or edgetam (default base_plus)"},
    {"SAM2_CHECKPOINT", "checkpoint", OPT_STR, F(checkpoint), 0, 0,
     "checkpoint file (default $APP_ROOT/checkpoints/sam2.1_hiera_<MODEL_SIZE>.pt, edgetam.pt for "
     "edgetam)"},
    {"SAM2_CONFIG", "config", OPT_STR, F(config_yaml), 0, 0,
     "model YAML (default: detected from the checkpoint)"},
    {"SAM2_BACKEND", "backend", OPT_STR, F(backend), 0, 0,
     "compute backend: auto, cpu, ref or check (default auto; see sam2 doctor)"},
    {"SAM2_THREADS", "threads", OPT_INT, F(threads), 0, 1024,
     "compute threads (default: all CPUs)"},
    {"SAM2_WORKERS", "workers", OPT_INT, F(workers), 1, 64,
     "inference jobs running at once (default 1)"},
    {"COMPUTE_NICE", "compute-nice", OPT_INT, F(compute_nice), 0, 19,
     "nice value of the model's threads, which also run as SCHED_BATCH (default 10; 0: normal "
     "priority)"},
    {"SAM2_DEMO_FORCE_CPU_DEVICE", NULL, OPT_BOOL, F(force_cpu), 0, 1,
     "accepted for compatibility (sam2c runs on the CPU)"},
    {"ADD_ALL_FRAMES_TO_CORRECT_AS_COND", "correct-as-cond", OPT_BOOL, F(correct_as_cond), 0, 1,
     "corrections on tracked frames become conditioning frames (default 1)"},
    {"DATA_PATH", "data", OPT_STR, F(data_path), 0, 0,
     "data folder holding gallery/, posters/, uploads/ (default /data)"},
    {"DEFAULT_VIDEO_PATH", "default-video", OPT_STR, F(default_video_path), 0, 0,
     "video returned by defaultVideo, e.g. gallery/05_default_juggle.mp4"},
    {"SPILL_DIR", "spill-dir", OPT_STR, F(spill_dir), 0, 0,
     "folder for spilled session state (default $TMPDIR)"},
    {"SPILL_MAX_MB", "spill-max-mb", OPT_INT, F(spill_max_mb), 0, 16777216,
     "a session's state in the spill file, in MB (default 4096; 0: no bound)"},
    {"MAX_UPLOAD_VIDEO_DURATION", "max-upload-duration", OPT_DOUBLE, F(max_upload_video_duration),
     0.1, 86400, "uploads are trimmed to this many seconds (default 10)"},
    {"VIDEO_ENCODE_CODEC", NULL, OPT_STR, F(encode_codec), 0, 0,
     "upload video codec (default libx264)"},
    {"VIDEO_ENCODE_CRF", NULL, OPT_INT, F(encode_crf), 0, 63, "upload quality (default 23)"},
    {"VIDEO_ENCODE_FPS", NULL, OPT_INT, F(encode_fps), 1, 240, "upload frame rate (default 24)"},
    {"VIDEO_ENCODE_MAX_WIDTH", NULL, OPT_INT, F(encode_max_width), 16, 16384,
     "upload width bound (default 1280)"},
    {"VIDEO_ENCODE_MAX_HEIGHT", NULL, OPT_INT, F(encode_max_height), 16, 16384,
     "upload height bound (default 720)"},
    {"VIDEO_ENCODE_VERBOSE", NULL, OPT_BOOL, F(encode_verbose), 0, 1,
     "log the transcoder (default False)"},
    {"VIDEO_ENCODE_SEEK_TIME", NULL, OPT_DOUBLE, F(encode_seek_time), 0, 86400,
     "upload start time (default 0)"},
    {"FFMPEG_NUM_THREADS", NULL, OPT_INT, F(ffmpeg_threads), 1, 256,
     "transcoder threads (default 1)"},
    {"MAX_BODY_MB", "max-body-mb", OPT_MB, F(max_body_bytes), 1, 4096,
     "JSON request bodies (default 16 MB)"},
    {"MAX_UPLOAD_MB", "max-upload-mb", OPT_MB, F(max_upload_bytes), 1, 65536,
     "upload requests (default 70 MB)"},
    {"MAX_POINTS_PER_REQUEST", "max-points", OPT_INT, F(max_points), 1, 4096,
     "points per addPoints (default 1024)"},
    {"MAX_OBJECTS_PER_SESSION", "max-objects", OPT_INT, F(max_objects), 1, 1024,
     "objects per session (default 64)"},
    {"MAX_SESSIONS", "max-sessions", OPT_INT, F(max_sessions), 1, 10000,
     "sessions at once (default 16)"},
    {"SESSION_TTL", "session-ttl", OPT_INT, F(session_ttl_s), 1, 31536000,
     "seconds an idle session lives (default 1800)"},
    {"MAX_MEMORY_MB", "max-memory-mb", OPT_INT, F(max_memory_mb), 0, 16777216,
     "memory budget of model + sessions (default 0: 3/4 of RAM)"},
    {"SESSION_MEMORY_MB", "session-memory-mb", OPT_INT, F(session_memory_mb), 16, 16777216,
     "session state kept in RAM before spilling to disk (default 1024)"},
    {"MAX_QUERY_FIELDS", "max-query-fields", OPT_INT, F(max_query_fields), 10, 10000000,
     "fields one GraphQL request may resolve (default 20000)"},
    {"MAX_VIDEO_FRAMES", "max-video-frames", OPT_INT, F(max_video_frames), 1, 1000000,
     "frames a video (gallery, upload input) may have (default 20000)"},
    {"MAX_VIDEO_SIDE", "max-video-side", OPT_INT, F(max_video_side), 16, 8192,
     "pixels per side of a video (gallery, upload input) (default 4096)"},
    {"MAX_CONCURRENT_UPLOADS", "max-concurrent-uploads", OPT_INT, F(max_concurrent_uploads), 1, 64,
     "uploads transcoded at once; more wait up to REQUEST_TIMEOUT (default 1)"},
    {"MAX_UPLOAD_MEGAPIXELS", "max-upload-megapixels", OPT_INT, F(max_upload_megapixels), 1,
     1000000,
     "input pixels an upload may make the server decode, in millions (default 2500: 10 s of 4K at "
     "30 fps)"},
};
#define N_OPTS ((int)(sizeof OPTS / sizeof OPTS[0]))
_Static_assert(sizeof(int) != sizeof(size_t), "numeric options tell int from size_t fields by size");

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

/* Sets one option from text; `who` names the source in messages ("MAX_SESSIONS", "--port"). */
static int set_opt(server_config *c, const opt *o, const char *who, const char *text, sam2_error *err) {
    char *field = (char *)c + o->offset;
    switch (o->kind) {
    case OPT_STR:
        if (strlen(text) >= o->size)
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s is too long (at most %zu characters)", who, o->size - 1);
        copy_str(field, o->size, text);
        return 0;
    case OPT_BOOL:
        if (!strcmp(text, "1") || !strcasecmp(text, "true") || !strcasecmp(text, "yes") || !strcasecmp(text, "on")) {
            *(int *)field = 1;
            return 0;
        }
        if (!strcmp(text, "0") || !strcasecmp(text, "false") || !strcasecmp(text, "no") ||
            !strcasecmp(text, "off") || !*text) {
            *(int *)field = 0;
            return 0;
        }
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s=%.100s is not a boolean (use 1/0, true/false)", who, text);
    default: break;
    }
    errno = 0;
    char *end;
    double v = strtod(text, &end);
    while (*end == ' ') end++;
    if (!*text || *end || errno || !isfinite(v) || v < o->lo || v > o->hi)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s=%.100s is not a number between %g and %g", who, text, o->lo, o->hi);
    if ((o->kind == OPT_INT || o->kind == OPT_MB) && v != floor(v))
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s=%.100s is not a whole number", who, text);
    if (o->kind == OPT_DOUBLE) *(double *)field = v;
    else if (o->kind == OPT_MB) *(size_t *)field = (size_t)v << 20;
    else if (o->size == sizeof(size_t)) *(size_t *)field = (size_t)v; /* the *_mb budgets */
    else *(int *)field = (int)v;
    return 0;
}

int server_config_from_env(server_config *c, sam2_error *err) {
    for (int i = 0; i < N_OPTS; i++) {
        if (!OPTS[i].env) continue;
        const char *v = getenv(OPTS[i].env);
        if (!v) continue;
        /* An empty value means "unset" for strings and numbers (as in shell scripts). */
        if (!*v && OPTS[i].kind != OPT_STR && OPTS[i].kind != OPT_BOOL) continue;
        if (set_opt(c, &OPTS[i], OPTS[i].env, v, err)) return -1;
    }
    return 0;
}

int server_config_from_args(server_config *c, int argc, char **argv, int *help, sam2_error *err) {
    *help = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            *help = 1;
            return 0;
        }
        if (!strcmp(a, "--no-correct-as-cond")) {
            c->correct_as_cond = 0;
            continue;
        }
        if (strncmp(a, "--", 2))
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "unexpected argument '%.100s' (options start with --)", a);
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const opt *o = NULL;
        for (int k = 0; k < N_OPTS; k++)
            if (OPTS[k].flag && strlen(OPTS[k].flag) == nlen && !strncmp(OPTS[k].flag, name, nlen)) o = &OPTS[k];
        if (!o) return sam2_fail(err, SAM2_ERR_ARGUMENT, "unknown option '%.100s' (see --help)", a);
        const char *val = eq ? eq + 1 : NULL;
        if (!val) {
            if (i + 1 >= argc) return sam2_fail(err, SAM2_ERR_ARGUMENT, "option '%s' needs a value", a);
            val = argv[++i];
        }
        char who[80];
        snprintf(who, sizeof who, "--%.*s", (int)nlen, name);
        if (set_opt(c, o, who, val, err)) return -1;
    }
    return 0;
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
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "MODEL_SIZE=%s is not one of " SERVER_MODEL_SIZES, size);
        if ((size_t)snprintf(c->checkpoint, sizeof c->checkpoint, "%s/checkpoints/%s", c->app_root,
                             mf->file) >= sizeof c->checkpoint)
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "APP_ROOT is too long");
    }
    for (const char *p = c->node_id; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
            return sam2_fail(err, SAM2_ERR_ARGUMENT,
                             "SAM2_NODE_ID=%s may hold only letters, digits, '-' and '_' (it becomes part of every "
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
        if (pages > 0 && page > 0) c->max_memory_mb = (size_t)pages / 1024 * (size_t)page / 1024 * 3 / 4;
        if (c->max_memory_mb == 0) c->max_memory_mb = 4096;
    }
    if (c->session_memory_mb > c->max_memory_mb) c->session_memory_mb = c->max_memory_mb;
    return 0;
}

void server_config_usage(FILE *f) {
    fprintf(f, "usage: sam2 serve [OPTIONS]\n\n"
               "Serves the SAM 2 demo API (the official frontend works unchanged against it).\n"
               "Every option can also be set by the environment variable shown; flags win.\n\n");
    for (int i = 0; i < N_OPTS; i++) {
        const opt *o = &OPTS[i];
        char left[64];
        if (o->flag) snprintf(left, sizeof left, "--%s%s", o->flag, o->kind == OPT_BOOL ? " 0|1" : " X");
        else snprintf(left, sizeof left, "%s", "");
        fprintf(f, "  %-26s %-32s %s\n", left, o->env ? o->env : "", o->help);
    }
    fprintf(f, "  %-26s %-32s %s\n", "--no-correct-as-cond", "", "same as --correct-as-cond 0");
}
