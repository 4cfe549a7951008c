/* H.264/MP4 encoding of RGB frames (see video_writer.h). */
#include "app/video_writer.h"

#include "core/error.h"
#include "app/atomic_file.h"
#include "io/av_glue.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WRITER_MAX_SIDE 8192

struct sam2_video_writer {
    char path[4096];       /* the final name */
    char name[512];        /* for messages */
    char write_path[4096]; /* where bytes go: path, or the temporary file */
    int width, height;     /* frames given */
    AVFormatContext *fc;
    AVCodecContext *cc;
    AVStream *st;
    struct SwsContext *sws;
    AVFrame *frame;
    AVPacket *pkt;
    int64_t frames;
    int header_written, atomic;
    char codec[32];
    uint8_t *stage; /* padded copy of the caller's frame: swscale's SIMD reads past the end */
    size_t stage_cap;
};

static void writer_free(sam2_video_writer *w, int remove_file) {
    if (!w) return;
    sws_freeContext(w->sws);
    av_frame_free(&w->frame);
    free(w->stage);
    av_packet_free(&w->pkt);
    avcodec_free_context(&w->cc);
    if (w->fc) {
        if (w->fc->pb) avio_closep(&w->fc->pb);
        avformat_free_context(w->fc);
    }
    if (remove_file && w->write_path[0]) unlink(w->write_path);
    free(w);
}

static const AVCodec *find_encoder(const char *name) {
    const AVCodec *c = avcodec_find_encoder_by_name(name ? name : "libx264");
    if (!c && !name) c = avcodec_find_encoder_by_name("mpeg4");
    return c;
}

static int open_encoder(sam2_video_writer *w, const sam2_video_writer_options *o, sam2_error *err) {
    const AVCodec *codec = find_encoder(o->codec);
    if (!codec)
        return sam2_fail(err, SAM2_ERR_UNSUPPORTED, "video '%s': no %s encoder in this FFmpeg",
                         w->name, o->codec ? o->codec : "H.264");
    snprintf(w->codec, sizeof w->codec, "%s", codec->name);
    w->cc = avcodec_alloc_context3(codec);
    if (!w->cc) return sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", w->name);
    AVCodecContext *cc = w->cc;
    AVRational rate = av_d2q(o->fps, 1 << 20);
    cc->width = (w->width + 1) & ~1;
    cc->height = (w->height + 1) & ~1;
    cc->pix_fmt = AV_PIX_FMT_YUV420P;
    cc->time_base = av_inv_q(rate);
    cc->framerate = rate;
    cc->sample_aspect_ratio = (AVRational){1, 1};
    cc->color_range = AVCOL_RANGE_MPEG;
    cc->colorspace = AVCOL_SPC_SMPTE170M; /* the matrix libswscale converts RGB with */
    cc->thread_count = o->threads > 0 ? o->threads : 0;
    if (o->gop > 0) cc->gop_size = o->gop;
    if (w->fc->oformat->flags & AVFMT_GLOBALHEADER) cc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary *opts = NULL;
    if (!strcmp(codec->name, "libx264")) {
        av_dict_set_int(&opts, "crf", o->crf > 0 ? o->crf : 23, 0);
        av_dict_set(&opts, "preset", o->preset ? o->preset : "medium", 0);
        if (o->gop > 0)
            av_dict_set(&opts, "sc_threshold", "0", 0); /* keyframes exactly every gop */
    } else {
        cc->flags |= AV_CODEC_FLAG_QSCALE;
        cc->global_quality = FF_QP2LAMBDA * 3;
    }
    char eb[128];
    int ret = avcodec_open2(cc, codec, &opts);
    av_dict_free(&opts);
    if (ret < 0)
        return sam2_fail(err, SAM2_ERR_FORMAT, "video '%s': cannot open the %s encoder (%s)",
                         w->name, codec->name, av_glue_errstr(ret, eb, sizeof eb));
    return 0;
}

static int open_stream(sam2_video_writer *w, const sam2_video_writer_options *o, sam2_error *err) {
    char eb[128];
    w->st = avformat_new_stream(w->fc, NULL);
    if (!w->st) return sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", w->name);
    int ret = avcodec_parameters_from_context(w->st->codecpar, w->cc);
    if (ret < 0)
        return sam2_fail(err, SAM2_ERR_FORMAT, "video '%s': %s", w->name,
                         av_glue_errstr(ret, eb, sizeof eb));
    w->st->time_base = w->cc->time_base;
    w->st->avg_frame_rate = w->cc->framerate;
    if (o->rotation) {
        int32_t *m = (int32_t *)av_stream_new_side_data(w->st, AV_PKT_DATA_DISPLAYMATRIX,
                                                        9 * sizeof(int32_t));
        if (!m) return sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", w->name);
        /* FFmpeg convention: a matrix set to +R degrees makes players turn frames R clockwise. */
        av_display_rotation_set(m, (double)o->rotation);
    }
    char url[4096 + 8];
    snprintf(url, sizeof url, "file:%s", w->write_path);
    w->fc->url = av_strdup(url); /* the faststart pass reopens the file by this name */
    AVDictionary *popts = NULL;
    av_dict_set(&popts, "protocol_whitelist", "file", 0);
    ret = w->fc->url ? avio_open2(&w->fc->pb, url, AVIO_FLAG_WRITE, NULL, &popts) : AVERROR(ENOMEM);
    av_dict_free(&popts);
    if (ret < 0)
        return sam2_fail(err, SAM2_ERR_IO, "video '%s': cannot create the file (%s)", w->name,
                         av_glue_errstr(ret, eb, sizeof eb));
    AVDictionary *mopts = NULL;
    av_dict_set(&mopts, "protocol_whitelist", "file", 0);
    if (!o->no_faststart) av_dict_set(&mopts, "movflags", "+faststart", 0);
    ret = avformat_write_header(w->fc, &mopts);
    av_dict_free(&mopts);
    if (ret < 0)
        return sam2_fail(err, SAM2_ERR_IO, "video '%s': cannot write the header (%s)", w->name,
                         av_glue_errstr(ret, eb, sizeof eb));
    w->header_written = 1;
    return 0;
}

static int open_converter(sam2_video_writer *w, sam2_error *err) {
    w->frame = av_frame_alloc();
    w->pkt = av_packet_alloc();
    w->sws = sws_alloc_context();
    if (!w->frame || !w->pkt || !w->sws)
        return sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", w->name);
    w->frame->format = AV_PIX_FMT_YUV420P;
    w->frame->width = w->cc->width;
    w->frame->height = w->cc->height;
    w->frame->color_range = AVCOL_RANGE_MPEG;
    w->frame->colorspace = AVCOL_SPC_SMPTE170M;
    if (av_frame_get_buffer(w->frame, 0) < 0)
        return sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", w->name);
    av_opt_set_int(w->sws, "srcw", w->width, 0);
    av_opt_set_int(w->sws, "srch", w->height, 0);
    av_opt_set_int(w->sws, "src_format", AV_PIX_FMT_RGB24, 0);
    av_opt_set_int(w->sws, "dstw", w->width, 0);
    av_opt_set_int(w->sws, "dsth", w->height, 0);
    av_opt_set_int(w->sws, "dst_format", AV_PIX_FMT_YUV420P, 0);
    av_opt_set_int(w->sws, "sws_flags", SWS_BICUBIC, 0);
    av_opt_set_int(w->sws, "dst_v_chr_pos", 128, 0); /* MPEG-2 siting, as the scale filter */
    if (sws_init_context(w->sws, NULL, NULL) < 0)
        return sam2_fail(err, SAM2_ERR_UNSUPPORTED, "video '%s': cannot set up RGB conversion",
                         w->name);
    return 0;
}

sam2_video_writer *sam2_video_writer_open(const char *path, const sam2_video_writer_options *o,
                                          sam2_error *err) {
    av_glue_init();
    if (!path || !*path || !o) {
        sam2_fail(err, SAM2_ERR_ARGUMENT, "video writer: no path or options");
        return NULL;
    }
    if (o->width < 1 || o->height < 1 || o->width > WRITER_MAX_SIDE ||
        o->height > WRITER_MAX_SIDE || !(o->fps > 0 && o->fps <= 1000) || o->crf < 0 ||
        o->crf > 51 || (o->rotation % 90) != 0) {
        sam2_fail(err, SAM2_ERR_ARGUMENT,
                  "video '%s': bad writer options (%dx%d at %g fps, crf "
                  "%d, rotation %d)",
                  path, o->width, o->height, o->fps, o->crf, o->rotation);
        return NULL;
    }
    sam2_video_writer *w = calloc(1, sizeof *w);
    if (!w) {
        sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", path);
        return NULL;
    }
    snprintf(w->path, sizeof w->path, "%s", path);
    snprintf(w->name, sizeof w->name, "%s", o->name ? o->name : path);
    w->width = o->width;
    w->height = o->height;
    w->atomic = o->atomic;
    const AVOutputFormat *fmt = av_guess_format(NULL, path, NULL);
    if (!fmt) fmt = av_guess_format("mp4", NULL, NULL);
    if (w->atomic) {
        const char *dot = strrchr(path, '.');
        const char *slash = strrchr(path, '/');
        if (atomic_tmp_beside(path, dot && (!slash || dot > slash) ? dot : ".mp4", w->write_path,
                              sizeof w->write_path, err) != 0)
            goto fail;
    } else {
        snprintf(w->write_path, sizeof w->write_path, "%s", path);
    }
    if (avformat_alloc_output_context2(&w->fc, fmt, NULL, NULL) < 0 || !w->fc) {
        sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': cannot create the muxer", path);
        goto fail;
    }
    if (open_encoder(w, o, err) != 0 || open_stream(w, o, err) != 0 || open_converter(w, err) != 0)
        goto fail;
    return w;
fail:
    writer_free(w, 1);
    return NULL;
}

/* Sends a frame (or NULL to flush) and writes the packets that come out. */
static int encode(sam2_video_writer *w, AVFrame *f, sam2_error *err) {
    char eb[128];
    int ret = avcodec_send_frame(w->cc, f);
    if (ret < 0)
        return sam2_fail(err, SAM2_ERR_FORMAT, "video '%s': encoding failed (%s)", w->name,
                         av_glue_errstr(ret, eb, sizeof eb));
    for (;;) {
        ret = avcodec_receive_packet(w->cc, w->pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return 0;
        if (ret < 0)
            return sam2_fail(err, SAM2_ERR_FORMAT, "video '%s': encoding failed (%s)", w->name,
                             av_glue_errstr(ret, eb, sizeof eb));
        av_packet_rescale_ts(w->pkt, w->cc->time_base, w->st->time_base);
        w->pkt->stream_index = w->st->index;
        ret = av_interleaved_write_frame(w->fc, w->pkt);
        av_packet_unref(w->pkt);
        if (ret < 0)
            return sam2_fail(err, SAM2_ERR_IO, "video '%s': write failed (%s)", w->name,
                             av_glue_errstr(ret, eb, sizeof eb));
    }
}

/* Odd sizes: repeat the last luma column / row into the padding (chroma is already covered,
 * libswscale writes ceil(size / 2) chroma samples). */
static void pad_to_even(sam2_video_writer *w) {
    AVFrame *f = w->frame;
    if (w->width & 1)
        for (int y = 0; y < w->height; y++)
            f->data[0][(size_t)y * f->linesize[0] + w->width] =
                f->data[0][(size_t)y * f->linesize[0] + w->width - 1];
    if (w->height & 1)
        memcpy(f->data[0] + (size_t)w->height * f->linesize[0],
               f->data[0] + (size_t)(w->height - 1) * f->linesize[0], (size_t)f->width);
}

int sam2_video_writer_write_rgb(sam2_video_writer *w, const uint8_t *rgb, size_t stride,
                                sam2_error *err) {
    if (!w || !rgb || stride < (size_t)w->width * 3 || stride > INT32_MAX)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "video writer: bad frame buffer");
    char eb[128];
    int ret = av_frame_make_writable(w->frame);
    if (ret < 0)
        return sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': %s", w->name,
                         av_glue_errstr(ret, eb, sizeof eb));
    const size_t row = (size_t)w->width * 3, need = row * (size_t)w->height + 64;
    if (need > w->stage_cap) {
        uint8_t *p = realloc(w->stage, need);
        if (!p) return sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", w->name);
        w->stage = p;
        w->stage_cap = need;
    }
    for (int y = 0; y < w->height; y++) memcpy(w->stage + y * row, rgb + y * stride, row);
    const uint8_t *src[4] = {w->stage, NULL, NULL, NULL};
    int src_stride[4] = {(int)row, 0, 0, 0};
    sws_scale(w->sws, src, src_stride, 0, w->height, w->frame->data, w->frame->linesize);
    pad_to_even(w);
    w->frame->pts = w->frames;
    int rc = encode(w, w->frame, err);
    if (rc == 0) w->frames++;
    return rc;
}

int sam2_video_writer_close(sam2_video_writer *w, sam2_error *err) {
    if (!w) return sam2_fail(err, SAM2_ERR_ARGUMENT, "video writer: NULL");
    sam2_error local;
    if (!err) err = &local;
    char eb[128];
    int rc = encode(w, NULL, err);
    if (rc == 0) {
        int ret = av_write_trailer(w->fc);
        if (ret >= 0) ret = avio_closep(&w->fc->pb);
        if (ret < 0)
            rc = sam2_fail(err, SAM2_ERR_IO, "video '%s': cannot finish the file (%s)", w->name,
                           av_glue_errstr(ret, eb, sizeof eb));
    }
    if (rc == 0 && w->atomic) {
        rc = atomic_commit(w->write_path, w->path, err);
        w->write_path[0] = 0; /* moved, or removed by atomic_commit */
    }
    writer_free(w, rc != 0);
    return rc;
}

void sam2_video_writer_abort(sam2_video_writer *w) {
    writer_free(w, 1);
}

const char *sam2_video_writer_codec(const sam2_video_writer *w) {
    return w->codec;
}
