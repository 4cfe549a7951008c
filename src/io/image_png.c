/* PNG decoding and encoding with libpng. libpng reports errors by longjmp; each setjmp below is
 * in a function whose own locals are not modified after it, and everything that must be freed
 * on an error lives in a state struct owned by the caller. */
#include "core/error.h"
#include "io/image_codecs.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct png_state {
    const uint8_t *data; /* decoding: the encoded file */
    size_t size, pos;
    uint8_t *pixels; /* decoding: the output; encoding: the encoded bytes */
    size_t cap;
    png_bytep *rows;
    char message[256];
} png_state;

static void on_error(png_structp png, png_const_charp msg) {
    png_state *st = png_get_error_ptr(png);
    snprintf(st->message, sizeof st->message, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
    (void)png, (void)msg; /* warnings (bad ancillary chunks, ...) do not stop PIL either */
}

static void read_bytes(png_structp png, png_bytep out, png_size_t n) {
    png_state *st = png_get_io_ptr(png);
    if (n > st->size - st->pos) png_error(png, "file is truncated");
    memcpy(out, st->data + st->pos, n);
    st->pos += n;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Expands `ch`-channel 8-bit pixels (read packed at the start of buf) to RGB in place:
 * back to front when growing, front to back when shrinking. */
static void to_rgb(uint8_t *buf, size_t npix, int ch, const uint8_t palette[256][3]) {
    if (ch == 4) {
        for (size_t i = 0; i < npix; i++)
            buf[3 * i] = buf[4 * i], buf[3 * i + 1] = buf[4 * i + 1],
                    buf[3 * i + 2] = buf[4 * i + 2];
    } else if (ch == 1 && palette) {
        for (size_t i = npix; i-- > 0;) {
            const uint8_t *c = palette[buf[i]];
            buf[3 * i] = c[0], buf[3 * i + 1] = c[1], buf[3 * i + 2] = c[2];
        }
    } else if (ch == 1 || ch == 2) {
        for (size_t i = npix; i-- > 0;) {
            uint8_t g = buf[ch * i];
            buf[3 * i] = buf[3 * i + 1] = buf[3 * i + 2] = g;
        }
    }
}

static int decode_run(png_state *st, image_rgb *out, int header_only, sam2_error *err) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, st, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return sam2_fail(err, SAM2_ERR_NOMEM, "PNG: out of memory");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return sam2_fail(err, SAM2_ERR_FORMAT, "PNG: %s", st->message);
    }
    png_set_read_fn(png, st, read_bytes);
    png_read_info(png, info);
    png_uint_32 w, h;
    int depth, color, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
    out->width = (int)w, out->height = (int)h;
    int rc = header_only ? 0 : image_check_limits("PNG", w, h, err);
    if (header_only || rc) {
        png_destroy_read_struct(&png, &info, NULL);
        return rc;
    }
    uint8_t palette[256][3];
    int is_palette = color == PNG_COLOR_TYPE_PALETTE;
    if (is_palette) {
        png_colorp plte = NULL;
        int n = 0;
        memset(palette, 0, sizeof palette);
        if (png_get_PLTE(png, info, &plte, &n) & PNG_INFO_PLTE)
            for (int i = 0; i < n && i < 256; i++)
                palette[i][0] = plte[i].red, palette[i][1] = plte[i].green,
                palette[i][2] = plte[i].blue;
    }
    /* Only bit-depth transforms: colour expansion is done by to_rgb so that tRNS never turns
     * into an alpha channel. */
    if (depth == 16) png_set_strip_16(png);
    if (depth < 8) {
        if (color == PNG_COLOR_TYPE_GRAY)
            png_set_expand_gray_1_2_4_to_8(png);
        else
            png_set_packing(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int ch = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (ch < 1 || ch > 4 || rowbytes != (size_t)w * ch) png_error(png, "unexpected row layout");
    size_t npix = (size_t)w * h;
    st->pixels = malloc(npix * (ch > 3 ? ch : 3));
    st->rows = malloc(h * sizeof *st->rows);
    if (!st->pixels || !st->rows) {
        png_destroy_read_struct(&png, &info, NULL);
        return sam2_fail(err, SAM2_ERR_NOMEM, "PNG: out of memory for %ux%u pixels", w, h);
    }
    for (png_uint_32 y = 0; y < h; y++) st->rows[y] = st->pixels + (size_t)y * rowbytes;
    png_read_image(png, st->rows);
    /* The end chunks are not read: PIL stops after the image data too. */
    png_destroy_read_struct(&png, &info, NULL);
    to_rgb(st->pixels, npix, ch, is_palette ? (const uint8_t(*)[3])palette : NULL);
    return 0;
}

int image_png_decode(const uint8_t *data, size_t size, image_rgb *out, int header_only,
                     sam2_error *err) {
    memset(out, 0, sizeof *out);
    /* Check the size in IHDR before libpng allocates anything for it. */
    if (!header_only && size >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
        int rc = image_check_limits("PNG", be32(data + 16), be32(data + 20), err);
        if (rc) return rc;
    }
    png_state st = {.data = data, .size = size};
    int rc = decode_run(&st, out, header_only, err);
    free(st.rows);
    if (rc) {
        free(st.pixels);
        return rc;
    }
    if (!header_only) {
        uint8_t *shrunk = realloc(st.pixels, (size_t)out->width * out->height * 3);
        out->pixels = shrunk ? shrunk : st.pixels;
    }
    return 0;
}

/* ---- encoding ------------------------------------------------------------------------------ */

static void write_bytes(png_structp png, png_bytep in, png_size_t n) {
    png_state *st = png_get_io_ptr(png);
    if (n > st->cap - st->size) {
        size_t cap = st->cap ? st->cap : 4096;
        while (n > cap - st->size) {
            if (cap > SIZE_MAX / 2) png_error(png, "output too large");
            cap *= 2;
        }
        uint8_t *p = realloc(st->pixels, cap);
        if (!p) png_error(png, "out of memory");
        st->pixels = p, st->cap = cap;
    }
    memcpy(st->pixels + st->size, in, n);
    st->size += n;
}

static void flush_bytes(png_structp png) {
    (void)png;
}

static int encode_run(png_state *st, const image_png_desc *d, sam2_error *err) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, st, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return sam2_fail(err, SAM2_ERR_NOMEM, "PNG: out of memory");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return sam2_fail(err, SAM2_ERR_FORMAT, "PNG encoder: %s", st->message);
    }
    png_set_write_fn(png, st, write_bytes, flush_bytes);
    int color = d->kind == IMAGE_PNG_RGB    ? PNG_COLOR_TYPE_RGB
                : d->kind == IMAGE_PNG_GRAY ? PNG_COLOR_TYPE_GRAY
                                            : PNG_COLOR_TYPE_PALETTE;
    png_set_IHDR(png, info, (png_uint_32)d->width, (png_uint_32)d->height, 8, color,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (d->kind == IMAGE_PNG_INDEXED) {
        png_color plte[256];
        for (int i = 0; i < d->palette_size; i++)
            plte[i].red = d->palette[3 * i], plte[i].green = d->palette[3 * i + 1],
            plte[i].blue = d->palette[3 * i + 2];
        png_set_PLTE(png, info, plte, d->palette_size);
    }
    png_set_rows(png, info, st->rows);
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int image_png_encode(const image_png_desc *d, uint8_t **out, size_t *out_size, sam2_error *err) {
    *out = NULL;
    *out_size = 0;
    if (!d || !d->pixels) return sam2_fail(err, SAM2_ERR_ARGUMENT, "PNG encoder: no pixels");
    int bpp = d->kind == IMAGE_PNG_RGB ? 3 : 1;
    if (d->kind != IMAGE_PNG_RGB && d->kind != IMAGE_PNG_GRAY && d->kind != IMAGE_PNG_INDEXED)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "PNG encoder: unknown pixel kind %d",
                         (int)d->kind);
    int rc = image_check_limits("PNG encoder", d->width, d->height, err);
    if (rc) return rc;
    size_t stride = d->stride ? (size_t)d->stride : (size_t)d->width * bpp;
    if (d->stride < 0 || stride < (size_t)d->width * bpp)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "PNG encoder: stride %d is below %d bytes per row",
                         d->stride, d->width * bpp);
    if (d->kind == IMAGE_PNG_INDEXED) {
        if (!d->palette || d->palette_size < 1 || d->palette_size > 256)
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "PNG encoder: palette of %d colours (1..256)",
                             d->palette_size);
        for (int y = 0; y < d->height; y++)
            for (int x = 0; x < d->width; x++) {
                int v = d->pixels[(size_t)y * stride + x];
                if (v >= d->palette_size)
                    return sam2_fail(
                        err, SAM2_ERR_ARGUMENT,
                        "PNG encoder: pixel (%d, %d) has index %d, palette has %d colours", x, y, v,
                        d->palette_size);
            }
    }
    png_state st = {0};
    st.rows = malloc((size_t)d->height * sizeof *st.rows);
    if (!st.rows) return sam2_fail(err, SAM2_ERR_NOMEM, "PNG encoder: out of memory");
    for (int y = 0; y < d->height; y++) st.rows[y] = (png_bytep)(d->pixels + (size_t)y * stride);
    rc = encode_run(&st, d, err);
    free(st.rows);
    if (rc) {
        free(st.pixels);
        return rc;
    }
    *out = st.pixels;
    *out_size = st.size;
    return 0;
}
