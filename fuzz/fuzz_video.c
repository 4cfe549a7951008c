/* libFuzzer target: video demuxing and decoding of arbitrary bytes (written to a file, as an
 * upload is before it is read). Frame size, frame count and cache are capped so each input
 * runs in milliseconds; the demuxers are the ones uploads accept (SAM2_UPLOAD_FORMATS).
 * Exercises the packet scan, the frame index, sequential, random and reverse reads, rotation
 * and scaling. Seeds: fuzz/corpus/fuzz_video/. */
#include "app/transcode.h"
#include "input_file.h"
#include "io/video_reader.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sam2_video_reader_options o = {
        .cache_bytes = 4 << 20,
        .threads = 1,
        .max_side = 256,
        .max_frames = 300,
        .probe_bytes = 1 << 15,
        .analyze_us = 200000,
        .format_whitelist = SAM2_UPLOAD_FORMATS,
    };
    const char *path = fuzz_input_file(data, size);
    if (!path) return 0;
    sam2_error err;
    sam2_video_reader *r = sam2_video_reader_open(path, &o, &err);
    if (!r) return 0;
    const sam2_video_info *i = sam2_video_reader_info(r);
    uint8_t *rgb = malloc((size_t)i->width * i->height * 3);
    uint8_t sq[24 * 24 * 3];
    if (rgb) {
        int n = i->frame_count;
        int reads[] = {0, 1, 2, n - 1, n / 2, n / 2 - 1, 1, 0};
        for (size_t k = 0; k < sizeof reads / sizeof reads[0]; k++) {
            int f = reads[k] < 0 ? 0 : reads[k] >= n ? n - 1 : reads[k];
            if (k & 1)
                sam2_video_reader_read(r, f, sq, 24, 24, &err);
            else
                sam2_video_reader_read(r, f, rgb, 0, 0, &err);
            (void)sam2_video_reader_frame_time(r, f);
        }
    }
    free(rgb);
    sam2_video_reader_close(r);
    return 0;
}
