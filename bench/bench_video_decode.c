/* Video decoding speed: frames/s of a video read sequentially at display size and as S x S
 * model input (libswscale bicubic, and PIL-compatible resize), and read in reverse order with
 * the frame cache, plus the cache's peak bytes.
 *   bench-video-decode VIDEO [S=1024] [threads=0] [cache_MiB=128] */
#include "io/video.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 + u.ru_stime.tv_sec +
           u.ru_stime.tv_usec * 1e-6;
}

static double cpu_rate; /* frames per CPU second of the last pass */

static double pass(sam2_video *v, int S, int reverse, uint8_t *buf) {
    sam2_error err;
    int n = sam2_video_frame_count(v);
    double t0 = now(), c0 = cpu_seconds();
    for (int k = 0; k < n; k++) {
        int i = reverse ? n - 1 - k : k;
        int rc =
            S ? sam2_video_read_square(v, i, S, buf, &err) : sam2_video_read_frame(v, i, buf, &err);
        if (rc) {
            fprintf(stderr, "frame %d: %s\n", i, err.message);
            exit(1);
        }
    }
    cpu_rate = n / (cpu_seconds() - c0);
    return n / (now() - t0);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s VIDEO [S] [threads] [cache_MiB]\n", argv[0]);
        return 2;
    }
    int S = argc > 2 ? atoi(argv[2]) : 1024;
    sam2_video_options o = {.threads = argc > 3 ? atoi(argv[3]) : 0,
                            .cache_bytes = (size_t)(argc > 4 ? atoi(argv[4]) : 128) << 20};
    sam2_error err;
    double t0 = now();
    sam2_video *v = sam2_video_open_ex(argv[1], &o, &err);
    if (!v) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    double t_open = now() - t0;
    int w = sam2_video_width(v), h = sam2_video_height(v), n = sam2_video_frame_count(v);
    uint8_t *buf = malloc((size_t)(w * h > S * S ? w * h : S * S) * 3);
    printf("%s: %dx%d, %d frames, open (index scan) %.1f ms\n", argv[1], w, h, n, t_open * 1e3);
    printf("(wall-clock frames/s; in brackets frames per CPU-second, all threads)\n");
    printf("sequential, display size:      %7.1f frames/s", pass(v, 0, 0, buf));
    printf(" [%.1f]\n", cpu_rate);
    sam2_video_close(v);
    v = sam2_video_open_ex(argv[1], &o, &err);
    printf("sequential, %dx%d swscale:   %7.1f frames/s", S, S, pass(v, S, 0, buf));
    printf(" [%.1f]\n", cpu_rate);
    sam2_video_close(v);
    v = sam2_video_open_ex(argv[1], &o, &err);
    printf("reverse,    %dx%d swscale:   %7.1f frames/s", S, S, pass(v, S, 1, buf));
    printf(" [%.1f]\n", cpu_rate);
    sam2_video_close(v);
    o.square = SAM2_SQUARE_PIL;
    v = sam2_video_open_ex(argv[1], &o, &err);
    printf("sequential, %dx%d PIL resize: %7.1f frames/s", S, S, pass(v, S, 0, buf));
    printf(" [%.1f]\n", cpu_rate);
    sam2_video_close(v);
    free(buf);
    return 0;
}
