/* Image I/O (src/io/image*.c): decoding matches PIL's convert("RGB") on every PNG flavour,
 * the golden input images and the notebook JPEGs bit for bit; PNG writing round-trips; size
 * limits, truncated, corrupt and foreign files fail cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/image.h"
#include "app/sha256.h"
#include "support/golden.h"
#include "support/testutil.h"

#include <stdio.h> /* before jpeglib.h, which needs FILE */
#include <jpeglib.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t seed = 1;
static uint8_t rnd8(void) {
    return (uint8_t)((seed = seed * 1664525u + 1013904223u) >> 24);
}

/* ---- helpers that write test files with libpng / libjpeg directly --------------------------- */

typedef struct membuf {
    uint8_t *data;
    size_t size, cap;
} membuf;

static void mem_write(png_structp png, png_bytep p, png_size_t n) {
    membuf *m = png_get_io_ptr(png);
    if (m->size + n > m->cap) {
        m->cap = (m->size + n) * 2;
        m->data = realloc(m->data, m->cap);
    }
    memcpy(m->data + m->size, p, n);
    m->size += n;
}
static void mem_flush(png_structp png) {
    (void)png;
}

typedef struct png_spec {
    int w, h, color, depth, interlace;
    const uint8_t *rows; /* packed libpng rows (rowbytes each) */
    const png_color *palette;
    int npal;
    const uint8_t *trns;
    int ntrns;
    png_color_16 *trns_color;
} png_spec;

static membuf make_png(const png_spec *s) {
    membuf m = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) fail_msg("libpng could not write the test image");
    png_set_write_fn(png, &m, mem_write, mem_flush);
    png_set_IHDR(png, info, s->w, s->h, s->depth, s->color, s->interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (s->palette) png_set_PLTE(png, info, s->palette, s->npal);
    if (s->trns || s->trns_color) png_set_tRNS(png, info, s->trns, s->ntrns, s->trns_color);
    png_write_info(png, info);
    if (s->depth == 16) png_set_swap(png); /* rows below are little-endian uint16 */
    size_t rowbytes = png_get_rowbytes(png, info);
    int passes = png_set_interlace_handling(png);
    for (int p = 0; p < passes; p++)
        for (int y = 0; y < s->h; y++) png_write_row(png, s->rows + (size_t)y * rowbytes);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return m;
}

static membuf make_jpeg(int w, int h, int comps, J_COLOR_SPACE cs, const uint8_t *px, int quality) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    unsigned char *out = NULL;
    unsigned long n = 0;
    jpeg_mem_dest(&c, &out, &n);
    c.image_width = w, c.image_height = h, c.input_components = comps, c.in_color_space = cs;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * w * comps);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    membuf m = {out, n, n};
    return m;
}

static image_rgb load_ok(const void *data, size_t n) {
    image_rgb img;
    sam2_error err = {0};
    if (image_load_memory(data, n, &img, &err)) fail_msg("decode failed: %s", err.message);
    return img;
}

static void expect_pixel(const image_rgb *img, int x, int y, int r, int g, int b) {
    const uint8_t *p = img->pixels + ((size_t)y * img->width + x) * 3;
    if (p[0] != r || p[1] != g || p[2] != b)
        fail_msg("pixel (%d,%d) is (%d,%d,%d), expected (%d,%d,%d)", x, y, p[0], p[1], p[2], r, g,
                 b);
}

/* ---- PNG flavours ------------------------------------------------------------------------- */

static void test_png_flavours(void **state) {
    (void)state;
    enum { W = 13, H = 7 };
    uint8_t rows[W * H * 8];
    /* RGBA 8: alpha dropped, never composited */
    for (int i = 0; i < W * H * 4; i++) rows[i] = rnd8();
    membuf m = make_png(&(png_spec){.w = W,
                                    .h = H,
                                    .color = PNG_COLOR_TYPE_RGBA,
                                    .depth = 8,
                                    .interlace = PNG_INTERLACE_NONE,
                                    .rows = rows});
    image_rgb img = load_ok(m.data, m.size);
    assert_int_equal(img.width, W);
    assert_int_equal(img.height, H);
    for (int i = 0; i < W * H; i++)
        for (int c = 0; c < 3; c++) assert_int_equal(img.pixels[3 * i + c], rows[4 * i + c]);
    image_free(&img), free(m.data);

    /* gray + alpha 8: gray replicated */
    m = make_png(&(png_spec){.w = W,
                             .h = H,
                             .color = PNG_COLOR_TYPE_GRAY_ALPHA,
                             .depth = 8,
                             .interlace = PNG_INTERLACE_NONE,
                             .rows = rows});
    img = load_ok(m.data, m.size);
    for (int i = 0; i < W * H; i++)
        expect_pixel(&img, i % W, i / W, rows[2 * i], rows[2 * i], rows[2 * i]);
    image_free(&img), free(m.data);

    /* RGB 16 (written little-endian, swapped by libpng): the high byte */
    m = make_png(&(png_spec){.w = W,
                             .h = H,
                             .color = PNG_COLOR_TYPE_RGB,
                             .depth = 16,
                             .interlace = PNG_INTERLACE_NONE,
                             .rows = rows});
    img = load_ok(m.data, m.size);
    for (int i = 0; i < W * H * 3; i++) assert_int_equal(img.pixels[i], rows[2 * i + 1]);
    image_free(&img), free(m.data);

    /* gray 16: the high byte (PIL would clip instead, see image.h) */
    m = make_png(&(png_spec){.w = W,
                             .h = H,
                             .color = PNG_COLOR_TYPE_GRAY,
                             .depth = 16,
                             .interlace = PNG_INTERLACE_NONE,
                             .rows = rows});
    img = load_ok(m.data, m.size);
    for (int i = 0; i < W * H; i++)
        expect_pixel(&img, i % W, i / W, rows[2 * i + 1], rows[2 * i + 1], rows[2 * i + 1]);
    image_free(&img), free(m.data);

    /* gray 1 and 2 bits: scaled to 0..255 (PIL: mode "1" -> 0/255, "L;2" -> x 85) */
    uint8_t packed[H * 8];
    for (int i = 0; i < H * 8; i++) packed[i] = rnd8();
    m = make_png(&(png_spec){.w = W,
                             .h = H,
                             .color = PNG_COLOR_TYPE_GRAY,
                             .depth = 1,
                             .interlace = PNG_INTERLACE_NONE,
                             .rows = packed});
    img = load_ok(m.data, m.size);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int bit = (packed[y * 2 + x / 8] >> (7 - x % 8)) & 1;
            expect_pixel(&img, x, y, bit * 255, bit * 255, bit * 255);
        }
    image_free(&img), free(m.data);
    m = make_png(&(png_spec){.w = W,
                             .h = H,
                             .color = PNG_COLOR_TYPE_GRAY,
                             .depth = 2,
                             .interlace = PNG_INTERLACE_NONE,
                             .rows = packed});
    img = load_ok(m.data, m.size);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v = (packed[y * 4 + x / 4] >> (6 - 2 * (x % 4))) & 3;
            expect_pixel(&img, x, y, v * 85, v * 85, v * 85);
        }
    image_free(&img), free(m.data);

    /* palette 4 bits with tRNS: palette colours, transparency ignored */
    png_color pal[16];
    uint8_t trns[16];
    for (int i = 0; i < 16; i++)
        pal[i] = (png_color){rnd8(), rnd8(), rnd8()}, trns[i] = (uint8_t)(i * 16);
    m = make_png(&(png_spec){.w = W,
                             .h = H,
                             .color = PNG_COLOR_TYPE_PALETTE,
                             .depth = 4,
                             .interlace = PNG_INTERLACE_NONE,
                             .rows = packed,
                             .palette = pal,
                             .npal = 16,
                             .trns = trns,
                             .ntrns = 16});
    img = load_ok(m.data, m.size);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v = (packed[y * 7 + x / 2] >> (4 - 4 * (x % 2))) & 15;
            expect_pixel(&img, x, y, pal[v].red, pal[v].green, pal[v].blue);
        }
    image_free(&img), free(m.data);

    /* RGB 8 with a tRNS colour: unchanged */
    png_color_16 key = {0, 10, 20, 30, 0};
    m = make_png(&(png_spec){.w = W,
                             .h = H,
                             .color = PNG_COLOR_TYPE_RGB,
                             .depth = 8,
                             .interlace = PNG_INTERLACE_NONE,
                             .rows = rows,
                             .palette = NULL,
                             .npal = 0,
                             .trns = NULL,
                             .ntrns = 0,
                             .trns_color = &key});
    img = load_ok(m.data, m.size);
    assert_memory_equal(img.pixels, rows, W * H * 3);
    image_free(&img), free(m.data);

    /* Adam7 interlacing gives the same pixels */
    m = make_png(&(png_spec){.w = W,
                             .h = H,
                             .color = PNG_COLOR_TYPE_RGB,
                             .depth = 8,
                             .interlace = PNG_INTERLACE_ADAM7,
                             .rows = rows});
    img = load_ok(m.data, m.size);
    assert_memory_equal(img.pixels, rows, W * H * 3);
    image_free(&img), free(m.data);
}

/* ---- JPEG flavours ------------------------------------------------------------------------ */

static void test_jpeg_flavours(void **state) {
    (void)state;
    enum { W = 32, H = 24 };
    uint8_t px[W * H * 4];
    /* smooth gray ramp: quality 100 keeps it within a couple of levels */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) px[y * W + x] = (uint8_t)(x * 6 + y * 2);
    membuf m = make_jpeg(W, H, 1, JCS_GRAYSCALE, px, 100);
    image_rgb img = load_ok(m.data, m.size);
    for (int i = 0; i < W * H; i++) {
        assert_int_equal(img.pixels[3 * i], img.pixels[3 * i + 1]);
        assert_int_equal(img.pixels[3 * i], img.pixels[3 * i + 2]);
        assert_true(abs(img.pixels[3 * i] - px[i]) <= 2);
    }
    image_free(&img), free(m.data);

    /* flat CMYK: PIL's inverted-ink conversion */
    const int ink[4] = {40, 120, 200, 60};
    for (int i = 0; i < W * H; i++)
        for (int c = 0; c < 4; c++) px[4 * i + c] = (uint8_t)ink[c];
    m = make_jpeg(W, H, 4, JCS_CMYK, px, 100);
    img = load_ok(m.data, m.size);
    int k = 255 - ink[3];
    for (int c = 0; c < 3; c++) {
        int inv = 255 - ink[c], nk = 255 - k;
        int want = nk - (inv * nk + 127) / 255;
        int got = img.pixels[3 * (H / 2 * W + W / 2) + c];
        if (abs(got - want) > 3)
            fail_msg("CMYK channel %d: got %d, expected about %d", c, got, want);
    }
    image_free(&img), free(m.data);
}

/* ---- writing ------------------------------------------------------------------------------ */

static void test_png_write_round_trip(void **state) {
    (void)state;
    enum { W = 37, H = 19, STRIDE = W * 3 + 5 };
    uint8_t *rgb = malloc(STRIDE * H);
    for (int i = 0; i < STRIDE * H; i++) rgb[i] = rnd8();
    uint8_t *png;
    size_t n;
    sam2_error err = {0};
    image_png_desc d = {IMAGE_PNG_RGB, W, H, STRIDE, rgb, NULL, 0};
    assert_int_equal(image_png_encode(&d, &png, &n, &err), 0);
    image_rgb img = load_ok(png, n);
    for (int y = 0; y < H; y++)
        assert_memory_equal(img.pixels + y * W * 3, rgb + y * STRIDE, W * 3);
    image_free(&img), free(png);

    /* gray, through a file */
    const char *path = test_path(test_make_tmpdir(), "gray.png");
    d = (image_png_desc){IMAGE_PNG_GRAY, W, H, 0, rgb, NULL, 0};
    if (image_png_write(path, &d, &err)) fail_msg("%s", err.message);
    sam2_error lerr = {0};
    if (image_load_file(path, &img, &lerr)) fail_msg("%s", lerr.message);
    for (int i = 0; i < W * H; i++) expect_pixel(&img, i % W, i / W, rgb[i], rgb[i], rgb[i]);
    image_free(&img);

    /* indexed (DAVIS-style object ids) */
    const uint8_t palette[4 * 3] = {0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0};
    uint8_t ids[W * H];
    for (int i = 0; i < W * H; i++) ids[i] = rnd8() % 4;
    d = (image_png_desc){IMAGE_PNG_INDEXED, W, H, 0, ids, palette, 4};
    assert_int_equal(image_png_encode(&d, &png, &n, &err), 0);
    assert_int_equal(png[25], 3); /* IHDR colour type: palette */
    img = load_ok(png, n);
    for (int i = 0; i < W * H; i++)
        expect_pixel(&img, i % W, i / W, palette[3 * ids[i]], palette[3 * ids[i] + 1],
                     palette[3 * ids[i] + 2]);
    image_free(&img), free(png);

    /* bad arguments */
    ids[5] = 4;
    assert_int_equal(image_png_encode(&d, &png, &n, &err), SAM2_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "index 4"));
    d.palette_size = 0;
    assert_int_equal(image_png_encode(&d, &png, &n, &err), SAM2_ERR_ARGUMENT);
    d = (image_png_desc){IMAGE_PNG_RGB, W, H, W, rgb, NULL, 0}; /* stride below 3 * width */
    assert_int_equal(image_png_encode(&d, &png, &n, &err), SAM2_ERR_ARGUMENT);
    d = (image_png_desc){IMAGE_PNG_GRAY, 0, H, 0, rgb, NULL, 0};
    assert_int_not_equal(image_png_encode(&d, &png, &n, &err), 0);
    d = (image_png_desc){IMAGE_PNG_GRAY, W, H, 0, rgb, NULL, 0};
    assert_int_equal(image_png_write("/nonexistent-dir/x.png", &d, &err), SAM2_ERR_IO);
    free(rgb);
}

/* ---- limits and bad files ----------------------------------------------------------------- */

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

static void test_limits(void **state) {
    (void)state;
    uint8_t px[8 * 8 * 3] = {0};
    membuf m = make_png(&(png_spec){.w = 8,
                                    .h = 8,
                                    .color = PNG_COLOR_TYPE_RGB,
                                    .depth = 8,
                                    .interlace = PNG_INTERLACE_NONE,
                                    .rows = px});
    image_rgb img;
    sam2_error err = {0};
    const uint32_t sizes[][2] = {{16385, 1}, {1, 16385}, {20000, 20000}, {1u << 31, 1}};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        put_be32(m.data + 16, sizes[i][0]); /* IHDR width/height (CRC left stale: checked before) */
        put_be32(m.data + 20, sizes[i][1]);
        int rc = image_load_memory(m.data, m.size, &img, &err);
        if (rc != SAM2_ERR_LIMIT && !(sizes[i][0] > 0x7fffffffu && rc == SAM2_ERR_FORMAT))
            fail_msg("PNG %ux%u: rc %d (%s)", sizes[i][0], sizes[i][1], rc, err.message);
    }
    free(m.data);

    /* JPEG: patch the SOF0 frame size */
    m = make_jpeg(8, 8, 3, JCS_RGB, px, 90);
    size_t sof = 0;
    for (size_t i = 2; i + 9 < m.size; i++)
        if (m.data[i] == 0xff && m.data[i + 1] == 0xc0) sof = i;
    assert_true(sof > 0);
    m.data[sof + 5] = 20000 >> 8, m.data[sof + 6] = 20000 & 255; /* height */
    m.data[sof + 7] = 20000 >> 8, m.data[sof + 8] = 20000 & 255; /* width */
    assert_int_equal(image_load_memory(m.data, m.size, &img, &err), SAM2_ERR_LIMIT);
    assert_non_null(strstr(err.message, "20000x20000"));
    int w = 0, h = 0;
    image_format f;
    assert_int_equal(image_probe_memory(m.data, m.size, &f, &w, &h, &err), 0);
    assert_int_equal(f, IMAGE_FORMAT_JPEG);
    assert_int_equal(w, 20000);
    free(m.data);
}

static void expect_fails(const void *data, size_t n, const char *what) {
    image_rgb img = {0};
    sam2_error err = {0};
    int rc = image_load_memory(data, n, &img, &err);
    if (rc == 0) fail_msg("%s: decoded (%dx%d) instead of failing", what, img.width, img.height);
    assert_null(img.pixels);
    assert_true(err.message[0] != 0);
}

static void test_truncated_and_garbage(void **state) {
    (void)state;
    enum { W = 40, H = 30 };
    uint8_t px[W * H * 3];
    for (size_t i = 0; i < sizeof px; i++) px[i] = rnd8();
    membuf png = make_png(&(png_spec){.w = W,
                                      .h = H,
                                      .color = PNG_COLOR_TYPE_RGB,
                                      .depth = 8,
                                      .interlace = PNG_INTERLACE_NONE,
                                      .rows = px});
    membuf jpg = make_jpeg(W, H, 3, JCS_RGB, px, 90);
    char what[64];
    /* every prefix that cuts into the image data must fail (the PNG's IEND chunk is 12 bytes,
     * which PIL does not need either; the JPEG's EOI marker is 2) */
    for (size_t n = 0; n + 12 < png.size; n++) {
        snprintf(what, sizeof what, "PNG cut at %zu of %zu", n, png.size);
        expect_fails(png.data, n, what);
    }
    for (size_t n = 0; n + 2 < jpg.size; n++) {
        snprintf(what, sizeof what, "JPEG cut at %zu of %zu", n, jpg.size);
        expect_fails(jpg.data, n, what);
    }
    /* a flipped byte inside the PNG's compressed data breaks its CRC */
    png.data[png.size / 2] ^= 0x55;
    expect_fails(png.data, png.size, "PNG with a corrupted IDAT");
    /* corrupted JPEG entropy data may decode to garbage (libjpeg and PIL are lenient) but must
     * never crash: only run it */
    for (size_t i = jpg.size / 3; i < jpg.size - 2; i += 17) {
        uint8_t save = jpg.data[i];
        jpg.data[i] ^= 0xa5;
        image_rgb img;
        sam2_error err = {0};
        if (image_load_memory(jpg.data, jpg.size, &img, &err) == 0) image_free(&img);
        jpg.data[i] = save;
    }
    uint8_t garbage[300];
    for (size_t i = 0; i < sizeof garbage; i++) garbage[i] = rnd8();
    image_rgb img;
    sam2_error err = {0};
    assert_int_equal(image_load_memory(garbage, sizeof garbage, &img, &err), SAM2_ERR_UNSUPPORTED);
    memcpy(garbage, png.data, 8); /* PNG signature, then noise */
    expect_fails(garbage, sizeof garbage, "PNG signature + noise");
    garbage[0] = 0xff, garbage[1] = 0xd8, garbage[2] = 0xff; /* JPEG SOI, then noise */
    expect_fails(garbage, sizeof garbage, "JPEG SOI + noise");
    assert_int_equal(image_load_memory("", 0, &img, &err), SAM2_ERR_FORMAT);
    assert_int_equal(image_load_file("/nonexistent/image.png", &img, &err), SAM2_ERR_IO);
    assert_int_equal(image_load_file("/", &img, &err), SAM2_ERR_IO);
    free(png.data), free(jpg.data);
}

/* ---- real files --------------------------------------------------------------------------- */

static void sha_of(const image_rgb *img, char hex[65]) {
    sam2_sha256_hex(img->pixels, (size_t)img->width * img->height * 3, hex);
}

/* The image_rgb_u8 entry of a golden image folder: its sha256 and shape. */
static const char *golden_image_sha(golden_set *g, const char *image, int *w, int *h,
                                    golden_folder *f) {
    sam2_error err = {0};
    char name[64];
    snprintf(name, sizeof name, "image/%s", image);
    if (golden_folder_open(g, name, f, &err)) fail_msg("%s", err.message);
    golden_entry e;
    if (golden_folder_entry(f, "image_rgb_u8", &e, &err)) fail_msg("%s", err.message);
    *h = (int)e.shape[0], *w = (int)e.shape[1];
    return e.sha256;
}

static void test_golden_inputs(void **state) {
    (void)state;
    const char *sets[] = {"micro_golden", "tiny_golden"};
    for (int s = 0; s < 2; s++) {
        golden_set g;
        sam2_error err = {0};
        if (golden_open(&g, test_path(test_golden_dir(), sets[s]), &err))
            fail_msg("%s", err.message);
        const char *images[] = {"truck", "groceries"};
        for (int i = 0; i < 2; i++) {
            golden_folder f;
            int w, h;
            const char *want = golden_image_sha(&g, images[i], &w, &h, &f);
            char rel[128], hex[65];
            snprintf(rel, sizeof rel, "inputs/images/%s.png", images[i]);
            image_rgb img;
            if (image_load_file(test_path(test_golden_dir(), rel), &img, &err))
                fail_msg("%s", err.message);
            assert_int_equal(img.width, w);
            assert_int_equal(img.height, h);
            sha_of(&img, hex);
            assert_string_equal(hex, want);
            image_free(&img);
            golden_folder_close(&f);
        }
        /* video frames against frames_orig_u8's per-frame hashes */
        golden_folder f;
        if (golden_folder_open(&g, "video/frames", &f, &err)) fail_msg("%s", err.message);
        golden_entry e;
        if (golden_folder_entry(&f, "frames_orig_u8", &e, &err)) fail_msg("%s", err.message);
        const cJSON *fs = cJSON_GetObjectItemCaseSensitive(e.json, "frame_sha256");
        for (int t = 0; t < golden_window_count(&e); t++) {
            npy_array win;
            int64_t index[NPY_MAX_DIMS][2];
            if (golden_load_window(&g, &e, t, &win, index, NULL, &err)) fail_msg("%s", err.message);
            char hex[65];
            sam2_sha256_hex(win.data, (size_t)win.numel, hex);
            assert_string_equal(hex, cJSON_GetArrayItem(fs, (int)index[0][0])->valuestring);
            npy_free(&win);
        }
        golden_folder_close(&f);
        golden_close(&g);
    }
}

/* The notebook JPEGs decode to exactly what PIL 9.4 produced for the golden data. */
static void test_notebook_jpegs(void **state) {
    (void)state;
    const char *data = test_data_dir();
    if (!data) skip();
    golden_set g;
    sam2_error err = {0};
    if (golden_open(&g, test_path(test_golden_dir(), "micro_golden"), &err))
        fail_msg("%s", err.message);
    const char *images[] = {"truck", "groceries"};
    for (int i = 0; i < 2; i++) {
        golden_folder f;
        int w, h;
        const char *want = golden_image_sha(&g, images[i], &w, &h, &f);
        char rel[128], hex[65];
        snprintf(rel, sizeof rel, "images/%s.jpg", images[i]);
        image_rgb img;
        if (image_load_file(test_path(data, rel), &img, &err)) fail_msg("%s", err.message);
        assert_int_equal(img.width, w);
        assert_int_equal(img.height, h);
        sha_of(&img, hex);
        if (strcmp(hex, want)) fail_msg("%s.jpg does not decode to PIL's pixels", images[i]);
        image_free(&img);
        golden_folder_close(&f);
    }
    golden_close(&g);
    image_rgb img;
    if (image_load_file(test_path(data, "images/cars.jpg"), &img, &err))
        fail_msg("%s", err.message);
    assert_int_equal(img.width, 2250);
    assert_int_equal(img.height, 1500);
    image_free(&img);
}

int main(void) {
    const struct CMUnitTest unit[] = {
        cmocka_unit_test(test_png_flavours),          cmocka_unit_test(test_jpeg_flavours),
        cmocka_unit_test(test_png_write_round_trip),  cmocka_unit_test(test_limits),
        cmocka_unit_test(test_truncated_and_garbage),
    };
    int failed = cmocka_run_group_tests_name("image", unit, NULL, NULL);
    if (failed) return failed; /* a skip must not hide a failure */
    test_require_dir(test_golden_dir(), "golden data (../shared/golden)");
    const struct CMUnitTest golden[] = {
        cmocka_unit_test(test_golden_inputs),
        cmocka_unit_test(test_notebook_jpegs),
    };
    return failed | cmocka_run_group_tests_name("image-golden", golden, NULL, NULL);
}
