/* Upload ingest and posters (see transcode.h). */
#include "app/transcode.h"

#include "core/error.h"
#include "app/atomic_file.h"
#include "io/video_reader.h"
#include "app/video_writer.h"

#include <errno.h>
#include <math.h>
#include <nettle/sha2.h>
#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>

void sam2_transcode_options_init(sam2_transcode_options *o) {
    memset(o, 0, sizeof *o);
    o->max_duration = 10;
    o->fps = 24;
    o->max_width = 1280;
    o->max_height = 720;
    o->crf = 23;
    o->codec = "libx264";
    o->threads = 1;
    o->max_input_side = SAM2_VIDEO_MAX_SIDE;
    o->max_input_frames = 100000;
    o->format_whitelist = SAM2_UPLOAD_FORMATS;
}

/* Output size: fit within the box keeping the aspect ratio, never enlarge, even sizes. */
static int even_size(double v, int box) {
    int s = (int)v;
    if (s < 2) s = 2;
    if (s & 1) s = s + 1 <= box ? s + 1 : s - 1;
    return s;
}

static void fit_size(int w, int h, int max_w, int max_h, int *ow, int *oh) {
    double scale = 1.0;
    if (w > max_w) scale = (double)max_w / w;
    if (h * scale > max_h) scale = (double)max_h / h;
    *ow = even_size(w * scale, max_w);
    *oh = even_size(h * scale, max_h);
}

static int sha256_file(const char *path, char hex[65], sam2_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return sam2_fail(err, SAM2_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    struct sha256_ctx c;
    sha256_init(&c);
    uint8_t buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) sha256_update(&c, n, buf);
    int bad = ferror(f);
    fclose(f);
    if (bad) return sam2_fail(err, SAM2_ERR_IO, "cannot read '%s'", path);
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&c, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return 0;
}

/* Reads back what was written: frames, size, rate (as the official get_video_metadata). */
static int describe_output(const char *path, sam2_transcode_result *res, sam2_error *err) {
    sam2_video_reader *r = sam2_video_reader_open(path, NULL, err);
    if (!r) return err ? err->code : SAM2_ERR_FORMAT;
    const sam2_video_info *i = sam2_video_reader_info(r);
    res->width = i->width;
    res->height = i->height;
    res->frame_count = i->frame_count;
    res->fps = i->fps;
    res->duration = i->duration;
    sam2_video_reader_close(r);
    return sha256_file(path, res->sha256, err);
}

/* Encodes the reader's [start, start + duration) window into out_tmp (no renaming). */
static int transcode_reader(sam2_video_reader *r, const char *name, const char *out_tmp,
                            const sam2_transcode_options *o, sam2_transcode_result *res,
                            sam2_error *err) {
    const sam2_video_info *in = sam2_video_reader_info(r);
    double want = o->duration > 0 && o->duration < o->max_duration ? o->duration : o->max_duration;
    if (!(in->duration > 0))
        return sam2_fail(err, SAM2_ERR_FORMAT, "video '%s': the video has no duration", name);
    int first = -1;
    for (int i = 0; i < in->frame_count && first < 0; i++)
        if (sam2_video_reader_frame_time(r, i) >= o->start_time - 1e-9) first = i;
    double span = in->duration - o->start_time;
    if (first < 0 || span <= 0)
        return sam2_fail(err, SAM2_ERR_FORMAT,
                         "video '%s': the start time %gs is past the end "
                         "(%.3fs)",
                         name, o->start_time, in->duration);
    if (span > want) span = want;
    int64_t slots = llround(span * o->fps);
    if (slots < 1) slots = 1;
    if (o->max_decoded_pixels > 0) {
        /* Decoding is the cost an input chooses (a 4096 x 4096 clip at 100 fps is 17 G pixels in
         * 10 s): bounded from the index before anything is decoded, counting every frame from
         * the start of the file to the end of the window. */
        int last = first;
        while (last + 1 < in->frame_count &&
               sam2_video_reader_frame_time(r, last + 1) - o->start_time < span)
            last++;
        const long long pixels = (long long)(last + 1) * in->width * in->height;
        if (pixels > o->max_decoded_pixels)
            return sam2_fail(
                err, SAM2_ERR_LIMIT,
                "video '%s': keeping %.3gs means decoding %d frames of %dx%d (%lld megapixels); "
                "at most %lld megapixels are decoded",
                name, span, last + 1, in->width, in->height, pixels / 1000000,
                o->max_decoded_pixels / 1000000);
    }
    int ow, oh;
    fit_size(in->width, in->height, o->max_width, o->max_height, &ow, &oh);
    sam2_video_writer_options wo = {.width = ow,
                                    .height = oh,
                                    .fps = o->fps,
                                    .crf = o->crf,
                                    .codec = o->codec,
                                    .preset = o->preset,
                                    .gop = o->gop > 0 ? o->gop : 2 * o->fps,
                                    .threads = o->threads,
                                    .name = name};
    uint8_t *rgb = malloc((size_t)ow * oh * 3 + 64); /* swscale may read past the last pixel */
    if (!rgb) return sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", name);
    sam2_video_writer *w = sam2_video_writer_open(out_tmp, &wo, err);
    if (!w) {
        free(rgb);
        return err ? err->code : SAM2_ERR_IO;
    }
    int rc = 0, shown = -1, next = first;
    for (int64_t n = 0; n < slots && rc == 0; n++) {
        /* fps filter: the last input frame whose time rounds to this slot or an earlier one. */
        int pick = next > first ? next - 1 : first;
        while (next < in->frame_count) {
            double t = sam2_video_reader_frame_time(r, next) - o->start_time;
            if (llround(t * o->fps) > n) break;
            pick = next++;
        }
        if (pick != shown) {
            rc = sam2_video_reader_read(r, pick, rgb, ow, oh, err);
            shown = pick;
        }
        if (rc == 0) rc = sam2_video_writer_write_rgb(w, rgb, (size_t)ow * 3, err);
    }
    free(rgb);
    if (rc != 0) {
        sam2_video_writer_abort(w);
        return rc;
    }
    if (res) snprintf(res->codec, sizeof res->codec, "%s", sam2_video_writer_codec(w));
    return sam2_video_writer_close(w, err);
}

static sam2_video_reader *open_input(const char *path, const sam2_transcode_options *o,
                                     sam2_error *err) {
    double want = o->duration > 0 && o->duration < o->max_duration ? o->duration : o->max_duration;
    sam2_video_reader_options ro = {
        .cache_bytes = 1, /* streamed in order: no cache */
        .threads = o->threads > 0 ? o->threads : 1,
        .max_side = o->max_input_side,
        .max_frames = o->max_input_frames,
        .scan_seconds = o->start_time + want,
        .format_whitelist = o->format_whitelist,
    };
    return sam2_video_reader_open(path, &ro, err);
}

/* Transcodes into a temporary file in dest_dir; on success *tmp holds a complete file. */
static int transcode_to_tmp(const char *path, const char *dest_dir,
                            const sam2_transcode_options *opt, char *tmp, size_t tmp_n,
                            sam2_transcode_result *res, sam2_error *err) {
    sam2_transcode_options defaults;
    if (!opt) {
        sam2_transcode_options_init(&defaults);
        opt = &defaults;
    }
    if (opt->fps < 1 || opt->max_width < 2 || opt->max_height < 2 || !(opt->max_duration > 0) ||
        !(opt->start_time >= 0))
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "transcode: bad options");
    sam2_video_reader *r = open_input(path, opt, err);
    if (!r) return err ? err->code : SAM2_ERR_FORMAT;
    int rc = atomic_tmp_in_dir(dest_dir, ".mp4", tmp, tmp_n, err);
    if (rc == 0) rc = transcode_reader(r, path, tmp, opt, res, err);
    sam2_video_reader_close(r);
    if (rc == 0 && res) rc = describe_output(tmp, res, err);
    if (rc == 0 && res && res->frame_count == 0)
        rc = sam2_fail(err, SAM2_ERR_FORMAT, "video '%s': transcoding produced an empty video",
                       path);
    if (rc != 0 && tmp[0]) unlink(tmp);
    return rc;
}

static void dir_of(const char *path, char *dir, size_t n) {
    snprintf(dir, n, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, n, ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
}

int sam2_transcode_file(const char *in_path, const char *out_path, const sam2_transcode_options *o,
                        sam2_transcode_result *res, sam2_error *err) {
    if (!in_path || !out_path) return sam2_fail(err, SAM2_ERR_ARGUMENT, "transcode: NULL path");
    sam2_transcode_result local;
    if (!res) res = &local;
    memset(res, 0, sizeof *res);
    char dir[4096], tmp[4096] = "";
    dir_of(out_path, dir, sizeof dir);
    int rc = transcode_to_tmp(in_path, dir, o, tmp, sizeof tmp, res, err);
    if (rc) return rc;
    snprintf(res->path, sizeof res->path, "%s", out_path);
    return atomic_commit(tmp, out_path, err);
}

int sam2_ingest_upload(const char *in_path, const char *dest_dir, const sam2_transcode_options *o,
                       sam2_transcode_result *res, sam2_error *err) {
    if (!in_path || !dest_dir || !res)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "ingest: NULL argument");
    memset(res, 0, sizeof *res);
    char tmp[4096] = "";
    int rc = transcode_to_tmp(in_path, dest_dir, o, tmp, sizeof tmp, res, err);
    if (rc) return rc;
    snprintf(res->path, sizeof res->path, "%s/%s.mp4", dest_dir, res->sha256);
    return atomic_commit(tmp, res->path, err);
}

/* ---- posters ---- */

typedef struct jpeg_write_failure {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} jpeg_write_failure;

static void jpeg_write_error(j_common_ptr c) {
    jpeg_write_failure *f = (jpeg_write_failure *)c->err;
    c->err->format_message(c, f->msg);
    longjmp(f->jump, 1);
}

static int write_jpeg(const char *path, const uint8_t *rgb, int w, int h, int quality,
                      sam2_error *err) {
    FILE *volatile fp = fopen(path, "wb");
    if (!fp) return sam2_fail(err, SAM2_ERR_IO, "poster '%s': %s", path, strerror(errno));
    struct jpeg_compress_struct c;
    jpeg_write_failure failure;
    memset(&failure, 0, sizeof failure);
    c.err = jpeg_std_error(&failure.mgr);
    failure.mgr.error_exit = jpeg_write_error;
    if (setjmp(failure.jump)) {
        jpeg_destroy_compress(&c);
        fclose(fp);
        return sam2_fail(err, SAM2_ERR_IO, "poster '%s': %s", path, failure.msg);
    }
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, fp);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)c.next_scanline * w * 3);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    if (ferror(fp) | fclose(fp))
        return sam2_fail(err, SAM2_ERR_IO, "poster '%s': write failed", path);
    return 0;
}

int sam2_poster_write_jpeg(const char *video_path, const char *jpeg_path, int quality, int *width,
                           int *height, sam2_error *err) {
    if (!video_path || !jpeg_path) return sam2_fail(err, SAM2_ERR_ARGUMENT, "poster: NULL path");
    if (quality <= 0) quality = 90;
    if (quality > 100) quality = 100;
    sam2_video_reader_options ro = {.cache_bytes = 1, .scan_seconds = 1.0};
    sam2_video_reader *r = sam2_video_reader_open(video_path, &ro, err);
    if (!r) return err ? err->code : SAM2_ERR_FORMAT;
    const sam2_video_info *i = sam2_video_reader_info(r);
    int w = i->width, h = i->height;
    uint8_t *rgb = malloc((size_t)w * h * 3 + 64); /* swscale may read past the last pixel */
    int rc = rgb ? sam2_video_reader_read(r, 0, rgb, 0, 0, err)
                 : sam2_fail(err, SAM2_ERR_NOMEM, "poster: out of memory");
    sam2_video_reader_close(r);
    char tmp[4096] = "";
    if (rc == 0) rc = atomic_tmp_beside(jpeg_path, ".jpg", tmp, sizeof tmp, err);
    if (rc == 0) {
        rc = write_jpeg(tmp, rgb, w, h, quality, err);
        if (rc == 0)
            rc = atomic_commit(tmp, jpeg_path, err);
        else
            unlink(tmp);
    }
    free(rgb);
    if (rc == 0) {
        if (width) *width = w;
        if (height) *height = h;
    }
    return rc;
}
