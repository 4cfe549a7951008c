/* Still images: PNG (libpng) and JPEG (libjpeg-turbo) decoding to 8-bit RGB, and PNG writing.
 *
 * Decoding gives what PIL's `Image.open(f).convert("RGB")` gives, which is what the official
 * SAM 2 code feeds its predictors:
 *   - grayscale is replicated to R = G = B (1/2/4-bit gray is scaled to 0..255 first);
 *   - palette images are looked up in their palette (indices past the palette's end are black);
 *   - alpha channels and tRNS transparency are dropped, never composited;
 *   - 16-bit samples keep their high byte (libpng's strip_16). PIL does the same for RGB, RGBA
 *     and gray+alpha, but opens 16-bit grayscale as mode "I" and clips values above 255 instead;
 *     such files are the one known difference;
 *   - gamma, ICC profiles and EXIF orientation are ignored (PIL does not apply them either);
 *   - JPEG uses libjpeg's defaults (ISLOW DCT, fancy upsampling) like PIL (the notebook images
 *     decode to PIL 9.4's pixels bit for bit); 4-component (CMYK/YCCK) JPEGs are read as PIL
 *     reads them, as Adobe-inverted inks, and converted with PIL's integer formula
 *     R = (255 - K) - (C (255 - K) / 255) (rounded as PIL rounds), likewise G, B.
 * Images wider or taller than IMAGE_MAX_SIDE or with more than IMAGE_MAX_PIXELS pixels fail
 * with SAM2_ERR_LIMIT before any pixel memory is allocated; corrupt or truncated files fail with
 * SAM2_ERR_FORMAT and a message from the decoder; other formats with SAM2_ERR_UNSUPPORTED.
 * The decoders' longjmp error handling never unwinds through frames of ours that own
 * resources. */
#ifndef SAM2_IO_IMAGE_H
#define SAM2_IO_IMAGE_H

#include "sam2.h"

#include <stddef.h>
#include <stdint.h>

#define IMAGE_MAX_SIDE 16384
#define IMAGE_MAX_PIXELS ((int64_t)1 << 28)
/* Largest encoded file image_load_file reads (bytes). */
#define IMAGE_MAX_FILE_BYTES ((int64_t)1 << 30)

typedef enum image_format {
    IMAGE_FORMAT_UNKNOWN = 0,
    IMAGE_FORMAT_PNG,
    IMAGE_FORMAT_JPEG
} image_format;

/* The public sam2_rgb_image (include/sam2.h), whose sam2_rgb_image_* functions wrap these. */
typedef sam2_rgb_image image_rgb;

/* Format from the first bytes (signature), IMAGE_FORMAT_UNKNOWN when neither. */
image_format image_detect_format(const void *data, size_t size);
/* Reads only the header: format and size (no limits applied, so callers can report them). */
int image_probe_memory(const void *data, size_t size, image_format *format, int *width, int *height,
                       sam2_error *err);

int image_load_file(const char *path, image_rgb *out, sam2_error *err);
int image_load_memory(const void *data, size_t size, image_rgb *out, sam2_error *err);
void image_free(image_rgb *img);

typedef enum image_png_kind {
    IMAGE_PNG_RGB,    /* 3 bytes per pixel */
    IMAGE_PNG_GRAY,   /* 1 byte per pixel */
    IMAGE_PNG_INDEXED /* 1 byte per pixel, an index into `palette` (DAVIS-style object ids) */
} image_png_kind;

typedef struct image_png_desc {
    image_png_kind kind;
    int width, height;
    int stride; /* bytes from one row to the next (0: packed rows) */
    const uint8_t *pixels;
    const uint8_t *palette; /* IMAGE_PNG_INDEXED: palette_size RGB triples */
    int palette_size;       /* 1..256; every pixel index must be below it */
} image_png_desc;

/* Encodes an 8-bit PNG into a malloc'd buffer. */
int image_png_encode(const image_png_desc *desc, uint8_t **out, size_t *out_size, sam2_error *err);
/* Encodes and writes to `path`. */
int image_png_write(const char *path, const image_png_desc *desc, sam2_error *err);

#endif
