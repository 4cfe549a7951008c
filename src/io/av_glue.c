#include "io/av_glue.h"

#include "core/error.h"

#include <errno.h>
#include <libavutil/log.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define AVIO_BUFFER_BYTES (64 * 1024)

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_logging(void) {
    static const struct {
        const char *name;
        int level;
    } levels[] = {
        {"quiet", AV_LOG_QUIET},     {"panic", AV_LOG_PANIC},     {"fatal", AV_LOG_FATAL},
        {"error", AV_LOG_ERROR},     {"warning", AV_LOG_WARNING}, {"info", AV_LOG_INFO},
        {"verbose", AV_LOG_VERBOSE}, {"debug", AV_LOG_DEBUG},     {"trace", AV_LOG_TRACE}};
    int level = AV_LOG_QUIET;
    const char *env = getenv("SAM2_FFMPEG_LOGLEVEL");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == 0) level = (int)v;
        for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
            if (!strcmp(env, levels[i].name)) level = levels[i].level;
    }
    av_log_set_level(level);
}

void av_glue_init(void) {
    pthread_once(&init_once, init_logging);
}

const char *av_glue_errstr(int averr, char *buf, size_t n) {
    if (av_strerror(averr, buf, n) < 0) snprintf(buf, n, "FFmpeg error %d", averr);
    return buf;
}

int av_source_open_file(av_source *s, const char *path, sam2_error *err) {
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", path ? path : "(null)");
    if (!path || !*path) return sam2_fail(err, SAM2_ERR_ARGUMENT, "video: empty path");
    struct stat st;
    if (stat(path, &st) != 0)
        return sam2_fail(err, SAM2_ERR_IO, "video '%s': %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "video '%s': is a directory, not a file", path);
    if (!S_ISREG(st.st_mode))
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "video '%s': not a regular file", path);
    if (st.st_size == 0) return sam2_fail(err, SAM2_ERR_FORMAT, "video '%s': empty file", path);
    s->file = fopen(path, "rb");
    if (!s->file) return sam2_fail(err, SAM2_ERR_IO, "video '%s': %s", path, strerror(errno));
    s->file_size = st.st_size;
    return 0;
}

void av_source_close(av_source *s) {
    if (s->file) fclose(s->file);
    s->file = NULL;
}

static int source_read(void *opaque, uint8_t *buf, int n) {
    av_source *s = opaque;
    size_t got = fread(buf, 1, (size_t)n, s->file);
    if (got == 0) return ferror(s->file) ? AVERROR(EIO) : AVERROR_EOF;
    return (int)got;
}

static int64_t source_seek(void *opaque, int64_t offset, int whence) {
    av_source *s = opaque;
    whence &= ~AVSEEK_FORCE;
    if (whence == AVSEEK_SIZE) return s->file_size;
    int64_t base = 0;
    if (whence == SEEK_CUR)
        base = ftello(s->file);
    else if (whence == SEEK_END)
        base = s->file_size;
    else if (whence != SEEK_SET)
        return AVERROR(EINVAL);
    if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0) return AVERROR(EINVAL);
    int64_t to = base + offset;
    if (fseeko(s->file, to, SEEK_SET) != 0) return AVERROR(errno);
    return to;
}

/* Nested opens (playlists, concat lists, external references) are refused. */
static int refuse_io_open(struct AVFormatContext *fc, AVIOContext **pb, const char *url, int flags,
                          AVDictionary **options) {
    (void)fc, (void)pb, (void)url, (void)flags, (void)options;
    return AVERROR(EPERM);
}

void av_glue_close_demuxer(AVFormatContext **fcp) {
    AVFormatContext *fc = *fcp;
    if (!fc) return;
    AVIOContext *pb = fc->pb;
    avformat_close_input(fcp);
    if (pb) {
        av_freep(&pb->buffer);
        avio_context_free(&pb);
    }
}

int av_glue_open_demuxer(av_source *s, const av_demux_limits *lim, AVFormatContext **out,
                         sam2_error *err) {
    av_glue_init();
    *out = NULL;
    char eb[128];
    if (fseeko(s->file, 0, SEEK_SET) != 0)
        return sam2_fail(err, SAM2_ERR_IO, "video '%s': %s", s->name, strerror(errno));
    clearerr(s->file);
    uint8_t *buf = av_malloc(AVIO_BUFFER_BYTES);
    AVIOContext *pb =
        buf ? avio_alloc_context(buf, AVIO_BUFFER_BYTES, 0, s, source_read, NULL, source_seek)
            : NULL;
    AVFormatContext *fc = pb ? avformat_alloc_context() : NULL;
    if (!fc) {
        if (pb)
            av_freep(&pb->buffer);
        else
            av_free(buf);
        avio_context_free(&pb);
        return sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", s->name);
    }
    fc->pb = pb;
    fc->flags |= AVFMT_FLAG_CUSTOM_IO;
    fc->io_open = refuse_io_open;
    AVDictionary *opts = NULL;
    if (lim && lim->format_whitelist)
        av_dict_set(&opts, "format_whitelist", lim->format_whitelist, 0);
    if (lim && lim->probesize > 0) av_dict_set_int(&opts, "probesize", lim->probesize, 0);
    if (lim && lim->analyzeduration > 0)
        av_dict_set_int(&opts, "analyzeduration", lim->analyzeduration, 0);
    int ret = avformat_open_input(&fc, s->name, NULL, &opts);
    av_dict_free(&opts);
    if (ret < 0) {
        /* avformat_open_input freed fc on failure; the custom AVIOContext is ours. */
        av_freep(&pb->buffer);
        avio_context_free(&pb);
        return sam2_fail(err, SAM2_ERR_FORMAT, "video '%s': not a video FFmpeg can read (%s)",
                         s->name, av_glue_errstr(ret, eb, sizeof eb));
    }
    ret = avformat_find_stream_info(fc, NULL);
    if (ret < 0) {
        av_glue_close_demuxer(&fc);
        return sam2_fail(err, SAM2_ERR_FORMAT, "video '%s': cannot read stream parameters (%s)",
                         s->name, av_glue_errstr(ret, eb, sizeof eb));
    }
    *out = fc;
    return 0;
}
