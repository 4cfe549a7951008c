/* Folder-of-frames video (see frames_dir.h), with a minimal PNG (libpng) and JPEG (libjpeg)
 * loader of its own. */
#include "io/frames_dir.h"

#include "core/error.h"
#include "io/pil_resize.h"
#include "io/video_reader.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

typedef struct frame_file {
    long long number;
    char *path;
} frame_file;

struct sam2_frames_dir {
    char dir[1024];
    frame_file *files;
    int n, width, height, max_side;
    int cached_index; /* last decoded frame, kept for a display read and a resize of it */
    int cached_w, cached_h;
    uint8_t *cached;
};

/* ---- image loading (the seam for io/image.h) ---- */

typedef struct png_failure {
    char msg[200];
} png_failure;

static void png_on_error(png_structp png, png_const_charp msg) {
    png_failure *f = png_get_error_ptr(png);
    snprintf(f->msg, sizeof f->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) {
    (void)png, (void)msg;
}

static uint8_t *load_png(FILE *fp, const char *path, int max_side, int *w, int *h,
                         sam2_error *err) {
    png_failure failure = {{0}};
    png_structp png =
        png_create_read_struct(PNG_LIBPNG_VER_STRING, &failure, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        sam2_fail(err, SAM2_ERR_NOMEM, "image '%s': out of memory", path);
        return NULL;
    }
    uint8_t *volatile buf = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(buf);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        sam2_fail(err, SAM2_ERR_FORMAT, "image '%s': bad PNG (%s)", path, failure.msg);
        return NULL;
    }
    png_init_io(png, fp);
    png_set_user_limits(png, (png_uint_32)max_side, (png_uint_32)max_side);
    png_read_info(png, info);
    png_uint_32 pw, ph;
    int depth, ctype;
    png_get_IHDR(png, info, &pw, &ph, &depth, &ctype, NULL, NULL, NULL);
    /* What PIL's convert("RGB") keeps: high byte of 16-bit samples, palette colours, grey
     * replicated, alpha dropped without compositing. */
    if (depth == 16) png_set_strip_16(png);
    if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (ctype == PNG_COLOR_TYPE_GRAY || ctype == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    if (ctype & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)pw * 3) png_error(png, "unexpected row layout");
    buf = malloc((size_t)pw * ph * 3);
    rows = malloc(sizeof(png_bytep) * ph);
    if (!buf || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < ph; y++) rows[y] = buf + (size_t)y * pw * 3;
    png_read_image(png, rows);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    *w = (int)pw;
    *h = (int)ph;
    return buf;
}

typedef struct jpeg_failure {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    int truncated;
    char msg[JMSG_LENGTH_MAX];
} jpeg_failure;

static void jpeg_on_error(j_common_ptr c) {
    jpeg_failure *f = (jpeg_failure *)c->err;
    c->err->format_message(c, f->msg);
    longjmp(f->jump, 1);
}

static void jpeg_on_message(j_common_ptr c, int level) {
    /* PIL refuses a truncated JPEG ("image file is truncated"); libjpeg only warns. */
    if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF) ((jpeg_failure *)c->err)->truncated = 1;
}

static uint8_t *load_jpeg(FILE *fp, const char *path, int max_side, int *w, int *h,
                          sam2_error *err) {
    struct jpeg_decompress_struct c;
    jpeg_failure failure;
    memset(&failure, 0, sizeof failure);
    c.err = jpeg_std_error(&failure.mgr);
    failure.mgr.error_exit = jpeg_on_error;
    failure.mgr.emit_message = jpeg_on_message;
    uint8_t *volatile buf = NULL;
    if (setjmp(failure.jump)) {
        jpeg_destroy_decompress(&c);
        free(buf);
        sam2_fail(err, SAM2_ERR_FORMAT, "image '%s': bad JPEG (%s)", path, failure.msg);
        return NULL;
    }
    jpeg_create_decompress(&c);
    jpeg_stdio_src(&c, fp);
    jpeg_read_header(&c, TRUE);
    if (c.image_width > (JDIMENSION)max_side || c.image_height > (JDIMENSION)max_side) {
        snprintf(failure.msg, sizeof failure.msg, "%ux%u exceeds the limit of %d per side",
                 c.image_width, c.image_height, max_side);
        jpeg_destroy_decompress(&c);
        sam2_fail(err, SAM2_ERR_LIMIT, "image '%s': %s", path, failure.msg);
        return NULL;
    }
    if (c.jpeg_color_space == JCS_CMYK || c.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&c);
        sam2_fail(err, SAM2_ERR_UNSUPPORTED, "image '%s': CMYK JPEG is not supported", path);
        return NULL;
    }
    c.out_color_space = JCS_RGB;
    jpeg_start_decompress(&c);
    if (c.output_components != 3) {
        jpeg_destroy_decompress(&c);
        sam2_fail(err, SAM2_ERR_UNSUPPORTED, "image '%s': unsupported JPEG colour layout", path);
        return NULL;
    }
    size_t stride = (size_t)c.output_width * 3;
    buf = malloc(stride * c.output_height);
    if (!buf) {
        jpeg_destroy_decompress(&c);
        sam2_fail(err, SAM2_ERR_NOMEM, "image '%s': out of memory", path);
        return NULL;
    }
    while (c.output_scanline < c.output_height && !failure.truncated) {
        JSAMPROW row = buf + stride * c.output_scanline;
        jpeg_read_scanlines(&c, &row, 1);
    }
    *w = (int)c.output_width;
    *h = (int)c.output_height;
    if (failure.truncated) {
        jpeg_destroy_decompress(&c);
        free(buf);
        sam2_fail(err, SAM2_ERR_FORMAT, "image '%s': truncated JPEG", path);
        return NULL;
    }
    jpeg_finish_decompress(&c);
    jpeg_destroy_decompress(&c);
    return buf;
}

uint8_t *sam2_frames_dir_load_rgb(const char *path, int max_side, int *w, int *h, sam2_error *err) {
    if (max_side <= 0) max_side = SAM2_VIDEO_MAX_SIDE;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        sam2_fail(err, SAM2_ERR_IO, "image '%s': %s", path, strerror(errno));
        return NULL;
    }
    uint8_t magic[8] = {0};
    size_t got = fread(magic, 1, sizeof magic, fp);
    rewind(fp);
    uint8_t *rgb = NULL;
    if (got == 8 && !memcmp(magic, "\x89PNG\r\n\x1a\n", 8)) {
        rgb = load_png(fp, path, max_side, w, h, err);
    } else if (got >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) {
        rgb = load_jpeg(fp, path, max_side, w, h, err);
    } else {
        sam2_fail(err, SAM2_ERR_FORMAT, "image '%s': not a PNG or JPEG file", path);
    }
    fclose(fp);
    return rgb;
}

/* ---- the folder ---- */

static int has_frame_extension(const char *name, size_t *stem_len) {
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    if (strcasecmp(dot, ".jpg") && strcasecmp(dot, ".jpeg") && strcasecmp(dot, ".png")) return 0;
    *stem_len = (size_t)(dot - name);
    return 1;
}

static int cmp_frames(const void *a, const void *b) {
    const frame_file *x = a, *y = b;
    if (x->number != y->number) return x->number < y->number ? -1 : 1;
    return strcmp(x->path, y->path);
}

void sam2_frames_dir_close(sam2_frames_dir *d) {
    if (!d) return;
    for (int i = 0; i < d->n; i++) free(d->files[i].path);
    free(d->files);
    free(d->cached);
    free(d);
}

sam2_frames_dir *sam2_frames_dir_open(const char *dir, int max_side, int max_frames,
                                      sam2_error *err) {
    if (max_side <= 0) max_side = SAM2_VIDEO_MAX_SIDE;
    if (max_frames <= 0) max_frames = SAM2_VIDEO_MAX_FRAMES;
    sam2_frames_dir *d = calloc(1, sizeof *d);
    if (!d) {
        sam2_fail(err, SAM2_ERR_NOMEM, "frames folder: out of memory");
        return NULL;
    }
    snprintf(d->dir, sizeof d->dir, "%s", dir);
    d->max_side = max_side;
    d->cached_index = -1;
    DIR *dp = opendir(dir);
    if (!dp) {
        sam2_fail(err, SAM2_ERR_IO, "frames folder '%s': %s", dir, strerror(errno));
        free(d);
        return NULL;
    }
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        size_t stem;
        if (e->d_name[0] == '.' || !has_frame_extension(e->d_name, &stem)) continue;
        int digits = stem > 0 && stem <= 18;
        for (size_t i = 0; i < stem && digits; i++) digits = isdigit((unsigned char)e->d_name[i]);
        if (!digits) {
            sam2_fail(err, SAM2_ERR_FORMAT,
                      "frames folder '%s': '%s' is not named by a frame "
                      "number (expected e.g. 00000.jpg)",
                      dir, e->d_name);
            goto fail;
        }
        if (d->n == max_frames) {
            sam2_fail(err, SAM2_ERR_LIMIT, "frames folder '%s': more than %d frames", dir,
                      max_frames);
            goto fail;
        }
        if (d->n == cap) {
            cap = cap ? 2 * cap : 256;
            frame_file *f = realloc(d->files, sizeof *f * (size_t)cap);
            if (!f) goto oom;
            d->files = f;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(len);
        if (!path) goto oom;
        snprintf(path, len, "%s/%s", dir, e->d_name);
        d->files[d->n++] = (frame_file){strtoll(e->d_name, NULL, 10), path};
    }
    closedir(dp);
    dp = NULL;
    if (d->n == 0) {
        sam2_fail(err, SAM2_ERR_FORMAT, "frames folder '%s': no JPEG or PNG frames", dir);
        goto fail;
    }
    qsort(d->files, (size_t)d->n, sizeof *d->files, cmp_frames);
    d->cached = sam2_frames_dir_load_rgb(d->files[0].path, max_side, &d->width, &d->height, err);
    if (!d->cached) goto fail;
    d->cached_index = 0;
    d->cached_w = d->width;
    d->cached_h = d->height;
    return d;
oom:
    sam2_fail(err, SAM2_ERR_NOMEM, "frames folder '%s': out of memory", dir);
fail:
    if (dp) closedir(dp);
    sam2_frames_dir_close(d);
    return NULL;
}

int sam2_frames_dir_count(const sam2_frames_dir *d) {
    return d->n;
}
int sam2_frames_dir_width(const sam2_frames_dir *d) {
    return d->width;
}
int sam2_frames_dir_height(const sam2_frames_dir *d) {
    return d->height;
}

int sam2_frames_dir_read(sam2_frames_dir *d, int index, uint8_t *rgb, int out_w, int out_h,
                         sam2_error *err) {
    if (!d || !rgb) return sam2_fail(err, SAM2_ERR_ARGUMENT, "frames folder: NULL argument");
    if (index < 0 || index >= d->n)
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "frames folder '%s': frame %d out of range "
                         "(0..%d)",
                         d->dir, index, d->n - 1);
    if (d->cached_index != index) {
        free(d->cached);
        d->cached_index = -1;
        d->cached = sam2_frames_dir_load_rgb(d->files[index].path, d->max_side, &d->cached_w,
                                             &d->cached_h, err);
        if (!d->cached) return err ? err->code : SAM2_ERR_FORMAT;
        d->cached_index = index;
    }
    int w = d->cached_w, h = d->cached_h;
    if (out_w == 0 && out_h == 0) {
        if (w != d->width || h != d->height)
            return sam2_fail(err, SAM2_ERR_FORMAT,
                             "frames folder '%s': frame %d is %dx%d, frame "
                             "0 is %dx%d",
                             d->dir, index, w, h, d->width, d->height);
        memcpy(rgb, d->cached, (size_t)w * h * 3);
        return 0;
    }
    return sam2_pil_resize_rgb8(d->cached, w, h, (size_t)w * 3, rgb, out_w, out_h,
                                (size_t)out_w * 3, err);
}
