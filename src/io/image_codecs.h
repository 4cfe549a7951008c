/* Internal to io/image*.c: the per-format decoders behind image_load_memory. */
#ifndef SAM2_IO_IMAGE_CODECS_H
#define SAM2_IO_IMAGE_CODECS_H

#include "io/image.h"

/* header_only: fill width/height and return without decoding pixels or checking limits. */
int image_png_decode(const uint8_t *data, size_t size, image_rgb *out, int header_only,
                     sam2_error *err);
int image_jpeg_decode(const uint8_t *data, size_t size, image_rgb *out, int header_only,
                      sam2_error *err);
/* SAM2_ERR_LIMIT with a message when a w x h image is too large to decode. */
int image_check_limits(const char *format, int64_t width, int64_t height, sam2_error *err);

#endif
