/* sam2_video: one interface over a video file and a folder of frames (see io/video.h). */
#include "io/video.h"

#include "core/error.h"
#include "io/frames_dir.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* What each kind of source provides. read(): out_w = out_h = 0 means display size. */
typedef struct video_source_ops {
    int (*read)(void *impl, int index, uint8_t *rgb, int out_w, int out_h, sam2_error *err);
    void (*close)(void *impl);
} video_source_ops;

struct sam2_video {
    const video_source_ops *ops;
    void *impl;
    int is_folder;
    int from_app; /* sam2_video_open_source: resized and normalised as a folder's frames */
    int count, width, height;
    double fps;
    sam2_square_mode square;
    char path[1024];
    pthread_mutex_t lock;
    uint8_t *display;    /* display-size frame for PIL resizing of files */
    uint8_t *square_buf; /* S x S frame for the model input */
    int square_S;
};

static int file_read(void *impl, int index, uint8_t *rgb, int w, int h, sam2_error *err) {
    return sam2_video_reader_read(impl, index, rgb, w, h, err);
}
static void file_close(void *impl) {
    sam2_video_reader_close(impl);
}
static int dir_read(void *impl, int index, uint8_t *rgb, int w, int h, sam2_error *err) {
    return sam2_frames_dir_read(impl, index, rgb, w, h, err);
}
static void dir_close(void *impl) {
    sam2_frames_dir_close(impl);
}

static const video_source_ops file_ops = {file_read, file_close};
static const video_source_ops dir_ops = {dir_read, dir_close};

/* An app's frames (sam2_frame_source): asked for at full size, resized here with PIL as a
 * folder's frames are, so both give the model the same input. */
typedef struct app_source {
    sam2_frame_source src;
    uint8_t *full; /* one full-size frame, for resizing */
} app_source;

static int app_read_full(app_source *a, int index, uint8_t *rgb, sam2_error *err) {
    if (index < 0 || index >= a->src.frame_count)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "frame %d is out of range (0..%d)", index,
                         a->src.frame_count - 1);
    if (a->src.read_frame(a->src.user, index, rgb))
        return sam2_fail(err, SAM2_ERR_IO, "the frame source could not give frame %d", index);
    return 0;
}

static int app_read(void *impl, int index, uint8_t *rgb, int w, int h, sam2_error *err) {
    app_source *a = impl;
    const int W = a->src.width, H = a->src.height;
    if ((w == 0 && h == 0) || (w == W && h == H)) return app_read_full(a, index, rgb, err);
    if (!a->full && !(a->full = malloc((size_t)W * H * 3)))
        return sam2_fail(err, SAM2_ERR_NOMEM, "frame source: out of memory");
    int rc = app_read_full(a, index, a->full, err);
    if (rc) return rc;
    return sam2_pil_resize_rgb8(a->full, W, H, (size_t)W * 3, rgb, w, h, (size_t)w * 3, err);
}

static void app_close(void *impl) {
    app_source *a = impl;
    if (a->src.close) a->src.close(a->src.user);
    free(a->full);
    free(a);
}

static const video_source_ops app_ops = {app_read, app_close};

static sam2_video *video_new(const char *path, const sam2_video_options *opt) {
    sam2_video *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    snprintf(v->path, sizeof v->path, "%s", path ? path : "");
    v->square = opt ? opt->square : SAM2_SQUARE_AUTO;
    pthread_mutex_init(&v->lock, NULL);
    return v;
}

static void reader_options(const sam2_video_options *opt, sam2_video_reader_options *ro) {
    memset(ro, 0, sizeof *ro);
    if (!opt) return;
    ro->cache_bytes = opt->cache_bytes;
    ro->threads = opt->threads;
    ro->max_side = opt->max_side;
    ro->max_frames = opt->max_frames;
    ro->format_whitelist = opt->format_whitelist;
}

static sam2_video *attach_reader(sam2_video *v, sam2_video_reader *r) {
    if (!r) {
        sam2_video_close(v);
        return NULL;
    }
    const sam2_video_info *i = sam2_video_reader_info(r);
    v->ops = &file_ops;
    v->impl = r;
    v->count = i->frame_count;
    v->width = i->width;
    v->height = i->height;
    v->fps = i->fps;
    return v;
}

sam2_video *sam2_video_open_ex(const char *path, const sam2_video_options *opt, sam2_error *err) {
    if (!path || !*path) {
        sam2_fail(err, SAM2_ERR_ARGUMENT, "video: empty path");
        return NULL;
    }
    sam2_video *v = video_new(path, opt);
    if (!v) {
        sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", path);
        return NULL;
    }
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        sam2_frames_dir *d =
            sam2_frames_dir_open(path, opt ? opt->max_side : 0, opt ? opt->max_frames : 0, err);
        if (!d) {
            sam2_video_close(v);
            return NULL;
        }
        v->ops = &dir_ops;
        v->impl = d;
        v->is_folder = 1;
        v->count = sam2_frames_dir_count(d);
        v->width = sam2_frames_dir_width(d);
        v->height = sam2_frames_dir_height(d);
        return v;
    }
    sam2_video_reader_options ro;
    reader_options(opt, &ro);
    return attach_reader(v, sam2_video_reader_open(path, &ro, err));
}

static int check_source(const sam2_frame_source *s, sam2_error *err) {
    if (!s || !s->read_frame)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "frame source: none, or no read_frame");
    if (s->frame_count < 1 || s->frame_count > SAM2_VIDEO_MAX_FRAMES)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "frame source: %d frames (allowed: 1..%d)",
                         s->frame_count, SAM2_VIDEO_MAX_FRAMES);
    if (s->width < 1 || s->height < 1 || s->width > SAM2_VIDEO_MAX_SIDE ||
        s->height > SAM2_VIDEO_MAX_SIDE)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "frame source: size %dx%d (allowed: 1..%d)",
                         s->width, s->height, SAM2_VIDEO_MAX_SIDE);
    if (!(s->fps >= 0) || s->fps > 1e6)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "frame source: fps %g", s->fps);
    return 0;
}

sam2_video *sam2_video_open_source(const sam2_frame_source *src, sam2_error *err) {
    if (check_source(src, err)) return NULL;
    sam2_video *v = video_new("(frame source)", NULL);
    app_source *a = calloc(1, sizeof *a);
    if (!v || !a) {
        free(a);
        sam2_video_close(v);
        sam2_fail(err, SAM2_ERR_NOMEM, "frame source: out of memory");
        return NULL;
    }
    a->src = *src;
    v->ops = &app_ops;
    v->impl = a;
    v->from_app = 1;
    v->count = src->frame_count;
    v->width = src->width;
    v->height = src->height;
    v->fps = src->fps;
    return v;
}

sam2_video *sam2_video_open(const char *path, sam2_error *err) {
    return sam2_video_open_ex(path, NULL, err);
}

sam2_video *sam2_video_open_with(const char *path, const sam2_video_open_options *o,
                                 sam2_error *err) {
    if (!o) return sam2_video_open_ex(path, NULL, err);
    const sam2_video_options vo = {.cache_bytes = o->frame_cache_bytes,
                                   .max_frames = o->max_frames,
                                   .max_side = o->max_side,
                                   .threads = o->decode_threads};
    return sam2_video_open_ex(path, &vo, err);
}

void sam2_video_close(sam2_video *v) {
    if (!v) return;
    if (v->impl) v->ops->close(v->impl);
    pthread_mutex_destroy(&v->lock);
    free(v->display);
    free(v->square_buf);
    free(v);
}

int sam2_video_frame_count(const sam2_video *v) {
    return v ? v->count : 0;
}
int sam2_video_width(const sam2_video *v) {
    return v ? v->width : 0;
}
int sam2_video_height(const sam2_video *v) {
    return v ? v->height : 0;
}
double sam2_video_fps(const sam2_video *v) {
    return v ? v->fps : 0;
}
int sam2_video_is_folder(const sam2_video *v) {
    return v && v->is_folder;
}
const sam2_video_info *sam2_video_file_info(const sam2_video *v) {
    return v && v->ops == &file_ops ? sam2_video_reader_info(v->impl) : NULL;
}

int sam2_video_read_frame(sam2_video *v, int index, uint8_t *rgb_out, sam2_error *err) {
    if (!v || !rgb_out) return sam2_fail(err, SAM2_ERR_ARGUMENT, "video: NULL argument");
    pthread_mutex_lock(&v->lock);
    int rc = v->ops->read(v->impl, index, rgb_out, 0, 0, err);
    pthread_mutex_unlock(&v->lock);
    return rc;
}

static int read_square_locked(sam2_video *v, int index, int S, uint8_t *out, sam2_error *err) {
    /* Folders resize with PIL in their read(); files with libswscale unless PIL is asked. */
    if (v->is_folder || v->from_app || v->square != SAM2_SQUARE_PIL)
        return v->ops->read(v->impl, index, out, S, S, err);
    if (!v->display) {
        v->display = malloc((size_t)v->width * v->height * 3);
        if (!v->display)
            return sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", v->path);
    }
    int rc = v->ops->read(v->impl, index, v->display, 0, 0, err);
    if (rc) return rc;
    return sam2_pil_resize_rgb8(v->display, v->width, v->height, (size_t)v->width * 3, out, S, S,
                                (size_t)S * 3, err);
}

int sam2_video_read_square(sam2_video *v, int index, int S, uint8_t *rgb_out, sam2_error *err) {
    if (!v || !rgb_out) return sam2_fail(err, SAM2_ERR_ARGUMENT, "video: NULL argument");
    if (S < 1 || S > 16384)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "video: bad square size %d", S);
    pthread_mutex_lock(&v->lock);
    int rc = read_square_locked(v, index, S, rgb_out, err);
    pthread_mutex_unlock(&v->lock);
    return rc;
}

int sam2_video_read_model_input(void *video, int index, int S, float *chw_out, sam2_error *err) {
    sam2_video *v = video;
    if (!v || !chw_out) return sam2_fail(err, SAM2_ERR_ARGUMENT, "video: NULL argument");
    if (S < 1 || S > 16384)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "video: bad square size %d", S);
    pthread_mutex_lock(&v->lock);
    int rc = 0;
    if (v->square_S != S) {
        free(v->square_buf);
        v->square_S = 0;
        v->square_buf = malloc((size_t)S * S * 3);
        if (!v->square_buf)
            rc = sam2_fail(err, SAM2_ERR_NOMEM, "video '%s': out of memory", v->path);
        else
            v->square_S = S;
    }
    if (rc == 0) rc = read_square_locked(v, index, S, v->square_buf, err);
    /* Both official loaders' divisions by 255 give the same floats; each source uses its own. */
    if (rc == 0)
        sam2_normalize_rgb8(
            v->square_buf, S, S, (size_t)S * 3,
            v->is_folder || v->from_app ? SAM2_NORM_DIV255_F64 : SAM2_NORM_DIV255_F32, chw_out);
    /* Not kept between frames (3 MB at 1024 px): the model's peak memory comes while the frame
     * is encoded, not while it is read. */
    free(v->square_buf);
    v->square_buf = NULL;
    v->square_S = 0;
    pthread_mutex_unlock(&v->lock);
    return rc;
}
