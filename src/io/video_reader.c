/* Frame index, seeking, caching and RGB conversion over libavformat/libavcodec/libswscale
 * (see video_reader.h). */
#include "io/video_reader.h"

#include "core/error.h"
#include "io/av_glue.h"
#include "io/frame_cache.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_OUTPUT_SIDE 16384
#define SEEK_RETRIES 3

typedef struct frame_entry {
    int64_t ts;  /* presentation timestamp, AV_NOPTS_VALUE when the container has none */
    int64_t dts; /* decode timestamp, AV_NOPTS_VALUE when unknown */
    int64_t dur; /* packet duration, 0 when unknown */
    int order;   /* position in decode order */
    int key;
} frame_entry;

typedef struct sws_slot {
    struct SwsContext *ctx;
    int sw, sh, sfmt, cs, range, dw, dh;
} sws_slot;

struct sam2_video_reader {
    av_source src;
    sam2_video_reader_options opt;
    av_demux_limits lim;
    sam2_video_info info;
    AVFormatContext *fc;
    AVCodecContext *cc;
    int si; /* the video stream */
    AVRational tb;
    AVPacket *pkt;
    AVFrame *frame;
    frame_entry *idx; /* [frame_count], presentation order */
    int *keyidx;      /* [frame_count]: last keyframe at or before i, -1 if none */

    /* The current decode run: the decoder state since the last seek or reopen. */
    int run_active;
    int run_floor;    /* frames below this index are leading frames of the seek point: ignored */
    int last_out;     /* last frame index this run produced, -1 none */
    int seq_next;     /* decode-order mode: index of the next frame out of the decoder */
    int flushing;     /* end of input reached, decoder being drained */
    int64_t check_ts; /* after a seek: the first packet must not start later than this */

    int last_target, reverse;
    frame_cache cache;
    int64_t decoded;

    sws_slot sws[2];
    int sws_next;
    uint8_t *tmp;
    size_t tmp_cap;
};

enum { DEC_END = 0, DEC_FRAME = 1, DEC_SEEK_MISSED = 2 };

/* ---- opening ---- */

/* Clockwise rotation the ffmpeg command line applies (its autorotate): the display matrix, or
 * else a "rotate" tag; only multiples of 90 degrees are honoured. */
static int stream_rotation(const AVStream *st) {
    size_t size = 0;
    const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    double theta = 0;
    if (m && size >= 9 * sizeof(int32_t)) {
        theta = -round(av_display_rotation_get((const int32_t *)m));
    } else {
        const AVDictionaryEntry *tag = av_dict_get(st->metadata, "rotate", NULL, 0);
        if (tag) theta = strtod(tag->value, NULL);
    }
    if (!isfinite(theta)) return 0;
    theta = fmod(theta, 360.0);
    if (theta < 0) theta += 360.0;
    for (int r = 90; r <= 270; r += 90)
        if (fabs(theta - r) < 1.0) return r;
    return 0;
}

/* The video stream: FFmpeg's best one, skipping cover art (attached pictures). */
static int pick_stream(AVFormatContext *fc) {
    int best = av_find_best_stream(fc, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (best >= 0 && !(fc->streams[best]->disposition & AV_DISPOSITION_ATTACHED_PIC)) return best;
    for (unsigned i = 0; i < fc->nb_streams; i++) {
        const AVStream *st = fc->streams[i];
        if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
            return (int)i;
    }
    return -1;
}

static int open_decoder(sam2_video_reader *r, sam2_error *err) {
    const AVStream *st = r->fc->streams[r->si];
    const AVCodec *dec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!dec)
        return sam2_fail(err, SAM2_ERR_UNSUPPORTED, "video '%s': no decoder for codec %s",
                         r->src.name, avcodec_get_name(st->codecpar->codec_id));
    r->cc = avcodec_alloc_context3(dec);
    if (!r->cc) return sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", r->src.name);
    char eb[128];
    int ret = avcodec_parameters_to_context(r->cc, st->codecpar);
    if (ret >= 0) {
        r->cc->pkt_timebase = st->time_base;
        r->cc->thread_count = r->opt.threads;
        r->cc->max_pixels = (int64_t)r->opt.max_side * r->opt.max_side;
        ret = avcodec_open2(r->cc, dec, NULL);
    }
    if (ret < 0)
        return sam2_fail(err, SAM2_ERR_FORMAT, "video '%s': cannot open the %s decoder (%s)",
                         r->src.name, dec->name, av_glue_errstr(ret, eb, sizeof eb));
    snprintf(r->info.codec, sizeof r->info.codec, "%s", dec->name);
    return 0;
}

static int cmp_ts(const void *a, const void *b) {
    const frame_entry *x = a, *y = b;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    return x->order - y->order;
}

static int cmp_order(const void *a, const void *b) {
    return ((const frame_entry *)a)->order - ((const frame_entry *)b)->order;
}

static double ts_seconds(const sam2_video_reader *r, int64_t d) {
    return d * av_q2d(r->tb);
}

/* Reads every packet once (no decoding) and indexes the video stream's frames. */
static int scan_packets(sam2_video_reader *r, sam2_error *err) {
    int n = 0, cap = 0, last_corrupt = 0;
    int64_t packets = 0, max_packets = (int64_t)r->opt.max_frames * 16 + 100000;
    int64_t first = AV_NOPTS_VALUE;
    for (;;) {
        int ret = av_read_frame(r->fc, r->pkt);
        if (ret < 0) {
            if (ret != AVERROR_EOF) r->info.truncated = 1;
            break;
        }
        AVPacket *p = r->pkt;
        if (++packets > max_packets) {
            av_packet_unref(p);
            return sam2_fail(err, SAM2_ERR_LIMIT, "video '%s': more than %lld packets", r->src.name,
                             (long long)max_packets);
        }
        if (p->stream_index != r->si || p->size == 0 || (p->flags & AV_PKT_FLAG_DISCARD)) {
            av_packet_unref(p);
            continue;
        }
        if (n == r->opt.max_frames) {
            av_packet_unref(p);
            return sam2_fail(err, SAM2_ERR_LIMIT, "video '%s': more than %d frames (the limit)",
                             r->src.name, r->opt.max_frames);
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            frame_entry *e = realloc(r->idx, sizeof *e * (size_t)cap);
            if (!e) {
                av_packet_unref(p);
                return sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", r->src.name);
            }
            r->idx = e;
        }
        frame_entry *e = &r->idx[n];
        e->ts = p->pts;
        e->dts = p->dts;
        e->dur = p->duration > 0 ? p->duration : 0;
        e->order = n;
        e->key = (p->flags & AV_PKT_FLAG_KEY) != 0;
        last_corrupt = (p->flags & AV_PKT_FLAG_CORRUPT) != 0;
        n++;
        av_packet_unref(p);
        /* Ingest needs a prefix only: stop a second past it (B-frame reordering margin). */
        int64_t t = e->dts != AV_NOPTS_VALUE ? e->dts : e->ts;
        if (r->opt.scan_seconds > 0 && t != AV_NOPTS_VALUE) {
            if (first == AV_NOPTS_VALUE) first = t;
            if (ts_seconds(r, t - first) > r->opt.scan_seconds + 1.0) break;
        }
    }
    /* A partial packet at the very end is the cut of a truncated file, not a frame. */
    if (last_corrupt && n > 0) {
        n--;
        r->info.truncated = 1;
    }
    r->info.frame_count = n;
    return 0;
}

/* Seconds spanned by entries [0, n): first to last timestamp (pts, else dts) plus the last
 * frame's duration (or one average frame when the container gives none). 0 if unknown. */
static double index_span(const sam2_video_reader *r, int n) {
    int64_t tmin = INT64_MAX, tmax = INT64_MIN, last_dur = 0;
    for (int i = 0; i < n; i++) {
        const frame_entry *e = &r->idx[i];
        int64_t t = e->ts != AV_NOPTS_VALUE ? e->ts : e->dts;
        if (t == AV_NOPTS_VALUE) continue;
        if (t < tmin) tmin = t;
        if (t >= tmax) tmax = t, last_dur = e->dur;
    }
    if (tmin == INT64_MAX) return 0;
    double span = ts_seconds(r, tmax - tmin);
    if (last_dur > 0) return span + ts_seconds(r, last_dur);
    return n > 1 ? span * n / (n - 1) : 0;
}

/* Presentation order, timestamp mode, frame rate, trimming to scan_seconds, keyframe table,
 * duration. */
static int finish_index(sam2_video_reader *r, sam2_error *err) {
    int n = r->info.frame_count;
    if (n == 0)
        return sam2_fail(err, SAM2_ERR_FORMAT, "video '%s': the video stream has no frames%s",
                         r->src.name, r->info.truncated ? " (truncated file?)" : "");
    /* Frames are located by presentation timestamp when every packet has a distinct one;
     * otherwise (raw streams, AVI with only decode times) by their order out of the decoder. */
    int ts_ok = 1;
    for (int i = 0; i < n && ts_ok; i++) ts_ok = r->idx[i].ts != AV_NOPTS_VALUE;
    if (ts_ok) {
        qsort(r->idx, (size_t)n, sizeof *r->idx, cmp_ts);
        for (int i = 1; i < n && ts_ok; i++) ts_ok = r->idx[i].ts > r->idx[i - 1].ts;
        if (!ts_ok) qsort(r->idx, (size_t)n, sizeof *r->idx, cmp_order);
    }
    r->info.timestamps = ts_ok;
    /* The stream's average rate (else its base rate) unless the timestamps contradict it,
     * as AVI's doubled rates do; then frames / seconds spanned. */
    const AVStream *st = r->fc->streams[r->si];
    double span = index_span(r, n), measured = span > 0 ? n / span : 0, fps = measured;
    AVRational rates[2] = {st->avg_frame_rate, st->r_frame_rate};
    for (int k = 1; k >= 0; k--) {
        double v = rates[k].num > 0 && rates[k].den > 0 ? av_q2d(rates[k]) : 0;
        if (v > 0 && (measured <= 0 || fabs(v - measured) <= 0.05 * measured)) fps = v;
    }
    r->info.fps = fps;
    if (r->opt.scan_seconds > 0) {
        int keep = n;
        for (int i = 0; i < n; i++) {
            double t = ts_ok ? ts_seconds(r, r->idx[i].ts - r->idx[0].ts) : fps > 0 ? i / fps : 0;
            if (t >= r->opt.scan_seconds) {
                keep = i;
                break;
            }
        }
        n = r->info.frame_count = keep > 0 ? keep : 1;
    }
    r->keyidx = malloc(sizeof(int) * (size_t)n);
    if (!r->keyidx) return sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", r->src.name);
    int last = -1;
    for (int i = 0; i < n; i++) {
        if (r->idx[i].key) last = i, r->info.keyframes++;
        r->keyidx[i] = last;
    }
    if (ts_ok) {
        int64_t dur = r->idx[n - 1].dur;
        double end = ts_seconds(r, r->idx[n - 1].ts - r->idx[0].ts + dur);
        if (dur == 0 && fps > 0) end += 1.0 / fps;
        r->info.duration = end;
    } else {
        r->info.duration = fps > 0 ? n / fps : 0;
    }
    if (r->fc->duration > 0) r->info.container_duration = r->fc->duration / (double)AV_TIME_BASE;
    return 0;
}

static int open_stream(sam2_video_reader *r, sam2_error *err) {
    if (av_glue_open_demuxer(&r->src, &r->lim, &r->fc, err) != 0) return -1;
    /* A still image (FFmpeg opens PNG or JPEG files as one-frame videos) is not a video. */
    const char *fmt = r->fc->iformat->name;
    size_t fl = strlen(fmt);
    if (!strcmp(fmt, "image2") || (fl > 5 && !strcmp(fmt + fl - 5, "_pipe")))
        return sam2_fail(err, SAM2_ERR_FORMAT, "video '%s': a still image (%s), not a video",
                         r->src.name, fmt);
    r->si = pick_stream(r->fc);
    if (r->si < 0)
        return sam2_fail(err, SAM2_ERR_FORMAT, "video '%s': no video stream", r->src.name);
    const AVStream *st = r->fc->streams[r->si];
    const AVCodecParameters *par = st->codecpar;
    r->tb = st->time_base;
    if (r->tb.num <= 0 || r->tb.den <= 0) r->tb = (AVRational){1, AV_TIME_BASE};
    if (par->width <= 0 || par->height <= 0)
        return sam2_fail(err, SAM2_ERR_FORMAT, "video '%s': the video stream has no frame size",
                         r->src.name);
    if (par->width > r->opt.max_side || par->height > r->opt.max_side)
        return sam2_fail(err, SAM2_ERR_LIMIT,
                         "video '%s': %dx%d frames exceed the limit of %d "
                         "pixels per side",
                         r->src.name, par->width, par->height, r->opt.max_side);
    return 0;
}

static sam2_video_reader *reader_open(sam2_video_reader *r, const sam2_video_reader_options *opt,
                                      sam2_error *err) {
    if (opt) r->opt = *opt;
    if (r->opt.cache_bytes == 0) r->opt.cache_bytes = SAM2_VIDEO_DEFAULT_CACHE_BYTES;
    if (r->opt.max_side <= 0) r->opt.max_side = SAM2_VIDEO_MAX_SIDE;
    if (r->opt.max_frames <= 0) r->opt.max_frames = SAM2_VIDEO_MAX_FRAMES;
    if (r->opt.threads <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        r->opt.threads = cpus < 1 ? 1 : cpus > 4 ? 4 : (int)cpus;
    }
    r->lim.format_whitelist = r->opt.format_whitelist;
    r->lim.probesize = r->opt.probe_bytes;
    r->lim.analyzeduration = r->opt.analyze_us;
    r->last_target = -1;
    frame_cache_init(&r->cache, r->opt.cache_bytes);
    r->pkt = av_packet_alloc();
    r->frame = av_frame_alloc();
    if (!r->pkt || !r->frame) {
        sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", r->src.name);
        goto fail;
    }
    if (open_stream(r, err) != 0) goto fail;
    const AVStream *st = r->fc->streams[r->si];
    r->info.coded_width = st->codecpar->width;
    r->info.coded_height = st->codecpar->height;
    r->info.rotation = stream_rotation(st);
    int swap = r->info.rotation == 90 || r->info.rotation == 270;
    r->info.width = swap ? r->info.coded_height : r->info.coded_width;
    r->info.height = swap ? r->info.coded_width : r->info.coded_height;
    const char *pf = av_get_pix_fmt_name((enum AVPixelFormat)st->codecpar->format);
    snprintf(r->info.pix_fmt, sizeof r->info.pix_fmt, "%s", pf ? pf : "unknown");
    snprintf(r->info.container, sizeof r->info.container, "%s", r->fc->iformat->name);
    if (open_decoder(r, err) != 0) goto fail;
    if (scan_packets(r, err) != 0 || finish_index(r, err) != 0) goto fail;
    return r;
fail:
    sam2_video_reader_close(r);
    return NULL;
}

sam2_video_reader *sam2_video_reader_open(const char *path, const sam2_video_reader_options *opt,
                                          sam2_error *err) {
    sam2_video_reader *r = calloc(1, sizeof *r);
    if (!r) {
        sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", path ? path : "");
        return NULL;
    }
    if (av_source_open_file(&r->src, path, err) != 0) {
        free(r);
        return NULL;
    }
    return reader_open(r, opt, err);
}

void sam2_video_reader_close(sam2_video_reader *r) {
    if (!r) return;
    frame_cache_clear(&r->cache);
    for (int i = 0; i < 2; i++) sws_freeContext(r->sws[i].ctx);
    avcodec_free_context(&r->cc);
    av_glue_close_demuxer(&r->fc);
    av_packet_free(&r->pkt);
    av_frame_free(&r->frame);
    av_source_close(&r->src);
    free(r->idx);
    free(r->keyidx);
    free(r->tmp);
    free(r);
}

const sam2_video_info *sam2_video_reader_info(const sam2_video_reader *r) {
    return &r->info;
}

double sam2_video_reader_frame_time(const sam2_video_reader *r, int index) {
    if (index < 0 || index >= r->info.frame_count) return 0;
    if (r->info.timestamps) return ts_seconds(r, r->idx[index].ts - r->idx[0].ts);
    return r->info.fps > 0 ? index / r->info.fps : 0;
}

int64_t sam2_video_reader_decoded_frames(const sam2_video_reader *r) {
    return r->decoded;
}
size_t sam2_video_reader_cache_bytes(const sam2_video_reader *r) {
    return r->cache.bytes;
}

/* ---- decoding ---- */

/* Index of the decoded frame in r->frame, or -1 when it is not one of the indexed frames
 * (a discarded edit-list frame, a repeat, a damaged tail). */
static int map_frame(sam2_video_reader *r) {
    int n = r->info.frame_count;
    if (!r->info.timestamps) {
        int i = r->seq_next++;
        return i < n ? i : -1;
    }
    int64_t t = r->frame->pts != AV_NOPTS_VALUE ? r->frame->pts : r->frame->best_effort_timestamp;
    if (t == AV_NOPTS_VALUE) return -1;
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (r->idx[mid].ts == t) return mid > r->last_out ? mid : -1;
        if (r->idx[mid].ts < t)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static int reopen(sam2_video_reader *r, sam2_error *err) {
    int si = r->si;
    av_glue_close_demuxer(&r->fc);
    if (open_stream(r, err) != 0) return -1;
    if (r->si != si)
        return sam2_fail(err, SAM2_ERR_FORMAT, "video '%s': streams changed on reopening",
                         r->src.name);
    return 0;
}

/* Starts a decode run at keyframe `key` (by seeking), or at the start (key < 0: reopen). */
static int start_run(sam2_video_reader *r, int key, sam2_error *err) {
    avcodec_flush_buffers(r->cc);
    r->run_active = 0;
    r->flushing = 0;
    r->last_out = -1;
    r->seq_next = 0;
    r->check_ts = AV_NOPTS_VALUE;
    if (key >= 0 && r->info.timestamps) {
        /* Seek by the keyframe's presentation time (what demuxers index: MP4 index times are
         * decode times shifted by the edit list, so the dts would land a segment early), then
         * check that the first packet read is not past the keyframe's decode time. */
        const frame_entry *k = &r->idx[key];
        if (av_seek_frame(r->fc, r->si, k->ts, AVSEEK_FLAG_BACKWARD) >= 0) {
            r->run_floor = key;
            r->check_ts = k->dts != AV_NOPTS_VALUE ? k->dts : k->ts;
            r->run_active = 1;
            return 0;
        }
    }
    if (reopen(r, err) != 0) return -1;
    r->run_floor = 0;
    r->run_active = 1;
    return 0;
}

static int decode_next(sam2_video_reader *r, int *index, sam2_error *err) {
    int failures = 0;
    for (;;) {
        int ret = avcodec_receive_frame(r->cc, r->frame);
        if (ret == 0) {
            r->decoded++;
            int i = map_frame(r);
            if (i < 0) {
                av_frame_unref(r->frame);
                continue;
            }
            if (r->frame->width < 1 || r->frame->height < 1 || r->frame->width > r->opt.max_side ||
                r->frame->height > r->opt.max_side) {
                av_frame_unref(r->frame);
                sam2_fail(err, SAM2_ERR_LIMIT, "video '%s': frame %d decodes to a bad size",
                          r->src.name, i);
                return -1;
            }
            *index = i;
            return DEC_FRAME;
        }
        if (ret == AVERROR_EOF || (ret == AVERROR(EAGAIN) && r->flushing)) {
            r->run_active = 0;
            return DEC_END;
        }
        if (ret != AVERROR(EAGAIN)) {
            if (++failures > 1000) {
                sam2_fail(err, SAM2_ERR_FORMAT, "video '%s': the decoder keeps failing",
                          r->src.name);
                return -1;
            }
            continue;
        }
        ret = av_read_frame(r->fc, r->pkt);
        if (ret < 0) {
            avcodec_send_packet(r->cc, NULL);
            r->flushing = 1;
            continue;
        }
        if (r->pkt->stream_index != r->si) {
            av_packet_unref(r->pkt);
            continue;
        }
        if (r->check_ts != AV_NOPTS_VALUE) {
            int64_t t = r->pkt->dts != AV_NOPTS_VALUE ? r->pkt->dts : r->pkt->pts;
            int64_t bound = r->check_ts;
            r->check_ts = AV_NOPTS_VALUE;
            if (t != AV_NOPTS_VALUE && t > bound) {
                av_packet_unref(r->pkt);
                return DEC_SEEK_MISSED;
            }
        }
        /* A damaged packet is skipped: the frames it carried are reported missing if wanted. */
        avcodec_send_packet(r->cc, r->pkt);
        av_packet_unref(r->pkt);
    }
}

/* Decodes until frame `target` is in r->frame. Returns 0, or -1 with err set. */
static int decode_to(sam2_video_reader *r, int target, sam2_error *err) {
    int ts = r->info.timestamps;
    int key = ts ? r->keyidx[target] : -1;
    int continue_run = r->run_active && r->last_out < target &&
                       (ts ? key <= r->last_out + 1 : r->seq_next <= target);
    int retries = 0, first = 1;
    if (!continue_run) {
        if (start_run(r, key, err) != 0) return -1;
    } else {
        first = 0;
    }
    for (;;) {
        int i = -1;
        int rc = decode_next(r, &i, err);
        if (rc < 0) return rc;
        if (rc == DEC_FRAME && i < r->run_floor) {
            av_frame_unref(r->frame);
            continue;
        }
        /* The seek landed after the keyframe: start earlier, finally from the beginning. */
        if (rc == DEC_SEEK_MISSED || (rc == DEC_FRAME && first && i > target && r->run_floor > 0)) {
            if (rc == DEC_FRAME) av_frame_unref(r->frame);
            key = (++retries < SEEK_RETRIES && key > 0) ? r->keyidx[key - 1] : -1;
            if (start_run(r, key, err) != 0) return -1;
            first = 1;
            continue;
        }
        if (rc == DEC_END) {
            sam2_fail(err, SAM2_ERR_FORMAT,
                      "video '%s': frame %d could not be decoded (the "
                      "stream ends before it)",
                      r->src.name, target);
            return -1;
        }
        first = 0;
        r->last_out = i;
        if (i > target) {
            av_frame_unref(r->frame);
            sam2_fail(err, SAM2_ERR_FORMAT,
                      "video '%s': frame %d could not be decoded "
                      "(damaged stream)",
                      r->src.name, target);
            return -1;
        }
        frame_cache_offer(&r->cache, i, r->frame, target, r->reverse);
        if (i == target) return 0;
        av_frame_unref(r->frame);
    }
}

/* ---- conversion ---- */

/* A libswscale context set up as the ffmpeg command line's scale filter sets it up. */
static struct SwsContext *get_sws(sam2_video_reader *r, const AVFrame *f, int dw, int dh,
                                  sam2_error *err) {
    for (int i = 0; i < 2; i++) {
        const sws_slot *s = &r->sws[i];
        if (s->ctx && s->sw == f->width && s->sh == f->height && s->sfmt == f->format &&
            s->cs == (int)f->colorspace && s->range == (int)f->color_range && s->dw == dw &&
            s->dh == dh)
            return s->ctx;
    }
    sws_slot *slot = &r->sws[r->sws_next];
    r->sws_next ^= 1;
    sws_freeContext(slot->ctx);
    memset(slot, 0, sizeof *slot);
    if (!sws_isSupportedInput((enum AVPixelFormat)f->format)) {
        const char *name = av_get_pix_fmt_name((enum AVPixelFormat)f->format);
        sam2_fail(err, SAM2_ERR_UNSUPPORTED, "video '%s': pixel format %s is not supported",
                  r->src.name, name ? name : "unknown");
        return NULL;
    }
    struct SwsContext *s = sws_alloc_context();
    if (!s) {
        sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", r->src.name);
        return NULL;
    }
    av_opt_set_int(s, "srcw", f->width, 0);
    av_opt_set_int(s, "srch", f->height, 0);
    av_opt_set_int(s, "src_format", f->format, 0);
    av_opt_set_int(s, "dstw", dw, 0);
    av_opt_set_int(s, "dsth", dh, 0);
    av_opt_set_int(s, "dst_format", AV_PIX_FMT_RGB24, 0);
    av_opt_set_int(s, "sws_flags", SWS_BICUBIC, 0);
    /* MPEG-2 chroma siting, which the scale filter assumes for yuv420p. */
    if (f->format == AV_PIX_FMT_YUV420P) av_opt_set_int(s, "src_v_chr_pos", 128, 0);
    if (sws_init_context(s, NULL, NULL) < 0) {
        sws_freeContext(s);
        sam2_fail(err, SAM2_ERR_UNSUPPORTED,
                  "video '%s': cannot convert %dx%d frames to "
                  "%dx%d RGB",
                  r->src.name, f->width, f->height, dw, dh);
        return NULL;
    }
    /* The frame's YCbCr matrix (unknown ones as BT.601) and range, as the scale filter does. */
    int *inv, *table, in_full, out_full, bright, contrast, sat;
    sws_getColorspaceDetails(s, &inv, &in_full, &table, &out_full, &bright, &contrast, &sat);
    int cs = f->colorspace;
    if (cs < 1 || cs > 10 || cs == 8) cs = AVCOL_SPC_BT470BG;
    const int *coef = sws_getCoefficients(cs);
    if (f->color_range != AVCOL_RANGE_UNSPECIFIED) in_full = f->color_range == AVCOL_RANGE_JPEG;
    sws_setColorspaceDetails(s, coef, in_full, coef, out_full, bright, contrast, sat);
    *slot = (sws_slot){s, f->width, f->height, f->format, f->colorspace, f->color_range, dw, dh};
    return s;
}

/* Clockwise rotation of an RGB image (w x h) into dst. */
static void rotate_rgb(const uint8_t *src, int w, int h, int rotation, uint8_t *dst) {
    int dw = rotation == 180 ? w : h;
    for (int y = 0; y < h; y++) {
        const uint8_t *s = src + (size_t)y * w * 3;
        for (int x = 0; x < w; x++) {
            int dx, dy;
            if (rotation == 90)
                dx = h - 1 - y, dy = x;
            else if (rotation == 180)
                dx = w - 1 - x, dy = h - 1 - y;
            else
                dx = y, dy = w - 1 - x;
            memcpy(dst + ((size_t)dy * dw + dx) * 3, s + (size_t)x * 3, 3);
        }
    }
}

/* err must not be NULL. */
static int convert(sam2_video_reader *r, const AVFrame *f, uint8_t *out, int ow, int oh,
                   sam2_error *err) {
    int rot = r->info.rotation;
    int pw = (rot == 90 || rot == 270) ? oh : ow, ph = (rot == 90 || rot == 270) ? ow : oh;
    uint8_t *dst = out;
    if (rot) {
        size_t need = (size_t)pw * ph * 3;
        if (need > r->tmp_cap) {
            uint8_t *t = realloc(r->tmp, need);
            if (!t) return sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", r->src.name);
            r->tmp = t;
            r->tmp_cap = need;
        }
        dst = r->tmp;
    }
    struct SwsContext *s = get_sws(r, f, pw, ph, err);
    if (!s) return err->code;
    uint8_t *planes[4] = {dst, NULL, NULL, NULL};
    int strides[4] = {pw * 3, 0, 0, 0};
    if (sws_scale(s, (const uint8_t *const *)f->data, f->linesize, 0, f->height, planes, strides) <=
        0)
        return sam2_fail(err, SAM2_ERR_FORMAT, "video '%s': frame conversion failed", r->src.name);
    if (rot) rotate_rgb(dst, pw, ph, rot, out);
    return 0;
}

int sam2_video_reader_read(sam2_video_reader *r, int index, uint8_t *rgb, int out_w, int out_h,
                           sam2_error *err) {
    sam2_error local;
    if (!err) err = &local;
    if (!r || !rgb) return sam2_fail(err, SAM2_ERR_ARGUMENT, "video: NULL reader or buffer");
    if (index < 0 || index >= r->info.frame_count)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "video '%s': frame %d out of range (0..%d)",
                         r->src.name, index, r->info.frame_count - 1);
    if (out_w == 0 && out_h == 0) out_w = r->info.width, out_h = r->info.height;
    if (out_w < 1 || out_h < 1 || out_w > MAX_OUTPUT_SIDE || out_h > MAX_OUTPUT_SIDE)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "video '%s': bad output size %dx%d", r->src.name,
                         out_w, out_h);
    if (index < r->last_target)
        r->reverse = 1;
    else if (index > r->last_target)
        r->reverse = 0;
    r->last_target = index;
    const AVFrame *cached = frame_cache_get(&r->cache, index);
    if (cached) return convert(r, cached, rgb, out_w, out_h, err);
    if (decode_to(r, index, err) != 0) return err->code;
    int rc = convert(r, r->frame, rgb, out_w, out_h, err);
    av_frame_unref(r->frame);
    return rc;
}
