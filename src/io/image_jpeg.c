/* JPEG decoding with libjpeg(-turbo). libjpeg reports fatal errors through error_exit, which
 * longjmps back into decode_run; the decompressor and the output buffer live in a heap job so
 * nothing the error path needs is an automatic variable modified after setjmp. */
#include "core/error.h"
#include "io/image_codecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

typedef struct jpeg_job {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr jerr;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX + 32];
    uint8_t *pixels;
} jpeg_job;

static void on_error_exit(j_common_ptr cinfo) {
    jpeg_job *job = (jpeg_job *)cinfo->client_data;
    cinfo->err->format_message(cinfo, job->message);
    longjmp(job->jump, 1);
}

static void on_message(j_common_ptr cinfo, int level) {
    /* Running out of data is only a warning for libjpeg (it pads the image with grey); PIL
     * refuses truncated files, so do we. Other warnings (extraneous bytes, ...) are ignored. */
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        jpeg_job *job = (jpeg_job *)cinfo->client_data;
        snprintf(job->message, sizeof job->message, "file is truncated");
        longjmp(job->jump, 1);
    }
    if (level < 0) cinfo->err->num_warnings++;
}

/* PIL's CMYK -> RGB: channel = (255 - ink) * (255 - K) / 255 with its rounding. */
static uint8_t ink_to_rgb(int ink, int k) {
    int nk = 255 - k;
    int t = ink * nk + 128;
    return (uint8_t)(nk - ((t + (t >> 8)) >> 8));
}

static int decode_run(jpeg_job *job, const uint8_t *data, size_t size, image_rgb *out,
                      int header_only, sam2_error *err) {
    struct jpeg_decompress_struct *ci = &job->cinfo;
    ci->err = jpeg_std_error(&job->jerr);
    job->jerr.error_exit = on_error_exit;
    job->jerr.emit_message = on_message;
    if (setjmp(job->jump)) {
        jpeg_destroy_decompress(ci);
        return sam2_fail(err, SAM2_ERR_FORMAT, "JPEG: %s", job->message);
    }
    jpeg_create_decompress(ci);
    ci->client_data = job;
    jpeg_mem_src(ci, data, (unsigned long)size);
    jpeg_read_header(ci, TRUE);
    out->width = (int)ci->image_width, out->height = (int)ci->image_height;
    int rc = header_only ? 0 : image_check_limits("JPEG", ci->image_width, ci->image_height, err);
    if (header_only || rc) {
        jpeg_destroy_decompress(ci);
        return rc;
    }
    int cmyk = ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK;
    ci->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(ci);
    int ch = ci->output_components;
    if ((cmyk && ch != 4) || (!cmyk && ch != 3) || ci->output_width != ci->image_width ||
        ci->output_height != ci->image_height) {
        jpeg_destroy_decompress(ci);
        return sam2_fail(err, SAM2_ERR_UNSUPPORTED,
                         "JPEG: unsupported colour layout (%d components)", ch);
    }
    size_t w = ci->output_width, h = ci->output_height, rowbytes = w * ch;
    job->pixels = malloc(h * rowbytes);
    if (!job->pixels) {
        jpeg_destroy_decompress(ci);
        return sam2_fail(err, SAM2_ERR_NOMEM, "JPEG: out of memory for %zux%zu pixels", w, h);
    }
    while (ci->output_scanline < h) {
        JSAMPROW row = job->pixels + (size_t)ci->output_scanline * rowbytes;
        jpeg_read_scanlines(ci, &row, 1);
    }
    jpeg_finish_decompress(ci);
    jpeg_destroy_decompress(ci);
    if (cmyk) {
        uint8_t *p = job->pixels;
        for (size_t i = 0; i < w * h; i++) {
            int c = p[4 * i], m = p[4 * i + 1], y = p[4 * i + 2], k = p[4 * i + 3];
            /* PIL reads every 4-component JPEG as Adobe-inverted CMYK ("CMYK;I") */
            c = 255 - c, m = 255 - m, y = 255 - y, k = 255 - k;
            p[3 * i] = ink_to_rgb(c, k), p[3 * i + 1] = ink_to_rgb(m, k),
                  p[3 * i + 2] = ink_to_rgb(y, k);
        }
        uint8_t *shrunk = realloc(job->pixels, w * h * 3);
        if (shrunk) job->pixels = shrunk;
    }
    return 0;
}

int image_jpeg_decode(const uint8_t *data, size_t size, image_rgb *out, int header_only,
                      sam2_error *err) {
    memset(out, 0, sizeof *out);
    jpeg_job *job = calloc(1, sizeof *job);
    if (!job) return sam2_fail(err, SAM2_ERR_NOMEM, "JPEG: out of memory");
    int rc = decode_run(job, data, size, out, header_only, err);
    if (rc)
        free(job->pixels);
    else
        out->pixels = job->pixels;
    free(job);
    return rc;
}
