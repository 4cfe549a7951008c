/* libFuzzer target for src/io/image*.c: arbitrary bytes through the PNG/JPEG decoders. Images
 * whose header claims more than 2^22 pixels are only probed (decoding them is bounded by the
 * library's own limits but would make the fuzzer slow); decoded images are re-encoded as PNG
 * and must read back identically. */
#include "io/image.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    image_format f;
    int w = 0, h = 0;
    sam2_error err;
    if (image_probe_memory(data, size, &f, &w, &h, &err) == 0 && (int64_t)w * h > (1 << 22))
        return 0;
    image_rgb img;
    if (image_load_memory(data, size, &img, &err) != 0) {
        if (img.pixels) abort(); /* failures leave nothing allocated */
        return 0;
    }
    if (img.width <= 0 || img.height <= 0 || img.width != w || img.height != h) abort();
    uint8_t *png;
    size_t n;
    image_png_desc d = {IMAGE_PNG_RGB, img.width, img.height, 0, img.pixels, NULL, 0};
    if (image_png_encode(&d, &png, &n, &err) != 0) abort();
    image_rgb back;
    if (image_load_memory(png, n, &back, &err) != 0) abort();
    if (memcmp(back.pixels, img.pixels, (size_t)img.width * img.height * 3) != 0) abort();
    image_free(&back);
    free(png);
    image_free(&img);
    return 0;
}
