/* sam2-fault-check [--no-temp] DATA_PATH
 *
 * What a client of `sam2 serve` can see under DATA_PATH must be complete: every visible video in
 * uploads/ and gallery/ decodes to its last frame, every visible poster in posters/ is a whole
 * JPEG (SOI ... EOI) that decodes. Interrupted writes may only leave hidden ".sam2-tmp-*" files
 * (never served, never listed); with --no-temp there must be none (a server that started
 * cleaned them). Used by scripts/fault.sh (make test-fault). Exit status 0 when all is well. */
#include "app/atomic_file.h"
#include "io/image.h"
#include "io/video.h"
#include "sam2.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* Opens the video and decodes every frame. */
static int check_video(const char *path, char *why, size_t cap) {
    sam2_error err = {0};
    sam2_video *v = sam2_video_open(path, &err);
    if (!v) {
        snprintf(why, cap, "%s", err.message);
        return -1;
    }
    int n = sam2_video_frame_count(v), w = sam2_video_width(v), h = sam2_video_height(v);
    uint8_t *rgb = malloc((size_t)w * (size_t)h * 3 + 1);
    int rc = rgb && n > 0 ? 0 : -1;
    if (rc) snprintf(why, cap, "%s", n > 0 ? "out of memory" : "no frames");
    for (int i = 0; !rc && i < n; i++)
        if (sam2_video_read_frame(v, i, rgb, &err)) {
            snprintf(why, cap, "frame %d of %d: %s", i, n, err.message);
            rc = -1;
        }
    free(rgb);
    sam2_video_close(v);
    return rc;
}

/* A whole JPEG: starts with SOI, ends with EOI, and decodes. */
static int check_jpeg(const char *path, char *why, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, cap, "cannot open");
        return -1;
    }
    unsigned char head[2] = {0}, tail[2] = {0};
    size_t got = fread(head, 1, 2, f);
    int seek_ok = fseek(f, -2, SEEK_END) == 0;
    size_t got_tail = seek_ok ? fread(tail, 1, 2, f) : 0;
    fclose(f);
    if (got != 2 || got_tail != 2 || head[0] != 0xFF || head[1] != 0xD8 || tail[0] != 0xFF ||
        tail[1] != 0xD9) {
        snprintf(why, cap, "not a complete JPEG (no SOI or no EOI marker)");
        return -1;
    }
    image_rgb img;
    sam2_error err = {0};
    if (image_load_file(path, &img, &err)) {
        snprintf(why, cap, "%s", err.message);
        return -1;
    }
    image_free(&img);
    return 0;
}

typedef struct tally {
    int ok, bad, temp;
} tally;

static void check_dir(const char *data, const char *sub, const char *suffix, tally *t) {
    char dir[4096], path[8192], why[600];
    snprintf(dir, sizeof dir, "%s/%s", data, sub);
    DIR *d = opendir(dir);
    if (!d) {
        printf("  %s/: missing\n", sub);
        t->bad++;
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strncmp(e->d_name, SAM2_TMP_PREFIX, strlen(SAM2_TMP_PREFIX))) {
            printf("  %s/%s: unfinished temporary file (hidden)\n", sub, e->d_name);
            t->temp++;
            continue;
        }
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) || !S_ISREG(st.st_mode)) continue;
        if (!ends_with(e->d_name, suffix)) {
            printf("  %s/%s: unexpected file\n", sub, e->d_name);
            t->bad++;
            continue;
        }
        int rc = !strcmp(suffix, ".jpg") ? check_jpeg(path, why, sizeof why)
                                         : check_video(path, why, sizeof why);
        if (rc) {
            printf("  %s/%s: CORRUPT: %s\n", sub, e->d_name, why);
            t->bad++;
        } else {
            t->ok++;
        }
    }
    closedir(d);
}

int main(int argc, char **argv) {
    int no_temp = argc == 3 && !strcmp(argv[1], "--no-temp");
    if (argc != 2 + no_temp) {
        fprintf(stderr, "usage: sam2-fault-check [--no-temp] DATA_PATH\n");
        return 2;
    }
    const char *data = argv[argc - 1];
    tally g = {0}, u = {0}, p = {0};
    check_dir(data, "gallery", ".mp4", &g);
    check_dir(data, "uploads", ".mp4", &u);
    check_dir(data, "posters", ".jpg", &p);
    int temp = g.temp + u.temp + p.temp, bad = g.bad + u.bad + p.bad;
    printf("  checked %s: gallery %d videos, uploads %d videos, posters %d JPEGs decode "
           "completely; %d corrupt or "
           "unexpected; %d hidden temporary files\n",
           data, g.ok, u.ok, p.ok, bad, temp);
    if (bad) return 1;
    if (no_temp && temp) {
        printf("  temporary files are still there after a start-up\n");
        return 1;
    }
    return 0;
}
