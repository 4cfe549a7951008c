#include "io/image.h"

#include "core/error.h"
#include "io/image_codecs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

image_format image_detect_format(const void *data, size_t size) {
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const uint8_t *p = data;
    if (size >= 8 && memcmp(p, png_sig, 8) == 0) return IMAGE_FORMAT_PNG;
    if (size >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) return IMAGE_FORMAT_JPEG;
    return IMAGE_FORMAT_UNKNOWN;
}

int image_check_limits(const char *format, int64_t width, int64_t height, sam2_error *err) {
    if (width <= 0 || height <= 0)
        return sam2_fail(err, SAM2_ERR_FORMAT, "%s: invalid image size %lldx%lld", format,
                         (long long)width, (long long)height);
    if (width > IMAGE_MAX_SIDE || height > IMAGE_MAX_SIDE || width * height > IMAGE_MAX_PIXELS)
        return sam2_fail(err, SAM2_ERR_LIMIT,
                         "%s: image of %lldx%lld pixels exceeds the limit (sides <= %d, at most "
                         "%lld pixels)",
                         format, (long long)width, (long long)height, IMAGE_MAX_SIDE,
                         (long long)IMAGE_MAX_PIXELS);
    return 0;
}

static int decode(const void *data, size_t size, image_rgb *out, int header_only,
                  image_format *format, sam2_error *err) {
    image_format f = image_detect_format(data, size);
    if (format) *format = f;
    switch (f) {
    case IMAGE_FORMAT_PNG:
        return image_png_decode(data, size, out, header_only, err);
    case IMAGE_FORMAT_JPEG:
        return image_jpeg_decode(data, size, out, header_only, err);
    default:
        return sam2_fail(err, size == 0 ? SAM2_ERR_FORMAT : SAM2_ERR_UNSUPPORTED,
                         size == 0 ? "empty image data" : "not a PNG or JPEG image");
    }
}

int image_probe_memory(const void *data, size_t size, image_format *format, int *width, int *height,
                       sam2_error *err) {
    image_rgb img = {0};
    int rc = decode(data, size, &img, 1, format, err);
    if (width) *width = rc ? 0 : img.width;
    if (height) *height = rc ? 0 : img.height;
    return rc;
}

int image_load_memory(const void *data, size_t size, image_rgb *out, sam2_error *err) {
    memset(out, 0, sizeof *out);
    if (!data && size) return sam2_fail(err, SAM2_ERR_ARGUMENT, "image: no data");
    return decode(data, size, out, 0, NULL, err);
}

int image_load_file(const char *path, image_rgb *out, sam2_error *err) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return sam2_fail(err, SAM2_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return sam2_fail(err, SAM2_ERR_IO, "%s: not a regular file", path);
    }
    if ((int64_t)st.st_size > IMAGE_MAX_FILE_BYTES) {
        fclose(f);
        return sam2_fail(err, SAM2_ERR_LIMIT, "%s: file of %lld bytes is too large", path,
                         (long long)st.st_size);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        return sam2_fail(err, SAM2_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, n);
    }
    size_t got = fread(buf, 1, n, f);
    int read_error = ferror(f);
    fclose(f);
    if (got != n || read_error) {
        free(buf);
        return sam2_fail(err, SAM2_ERR_IO, "%s: read error", path);
    }
    int rc = image_load_memory(buf, n, out, err);
    free(buf);
    if (rc) sam2_error_prefix(err, "%s", path);
    return rc;
}

void image_free(image_rgb *img) {
    if (!img) return;
    free(img->pixels);
    memset(img, 0, sizeof *img);
}

/* The public names (include/sam2.h) of the decoder above. */
int sam2_rgb_image_load_file(const char *path, sam2_rgb_image *out, sam2_error *err) {
    return image_load_file(path, out, err);
}

int sam2_rgb_image_load_memory(const void *data, size_t size, sam2_rgb_image *out,
                               sam2_error *err) {
    return image_load_memory(data, size, out, err);
}

int sam2_rgb_image_probe_memory(const void *data, size_t size, const char **format, int *width,
                                int *height, sam2_error *err) {
    image_format f = IMAGE_FORMAT_UNKNOWN;
    const int rc = image_probe_memory(data, size, &f, width, height, err);
    if (format) *format = rc ? NULL : f == IMAGE_FORMAT_PNG ? "png" : "jpeg";
    return rc;
}

void sam2_rgb_image_free(sam2_rgb_image *img) {
    image_free(img);
}

int image_png_write(const char *path, const image_png_desc *desc, sam2_error *err) {
    uint8_t *buf;
    size_t n;
    int rc = image_png_encode(desc, &buf, &n, err);
    if (rc) {
        sam2_error_prefix(err, "%s", path);
        return rc;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(buf);
        return sam2_fail(err, SAM2_ERR_IO, "%s: %s", path, strerror(errno));
    }
    size_t w = fwrite(buf, 1, n, f);
    int bad = (w != n) | (fclose(f) != 0);
    free(buf);
    if (bad) return sam2_fail(err, SAM2_ERR_IO, "%s: write error", path);
    return 0;
}
