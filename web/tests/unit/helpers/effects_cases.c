/* Test helper for web/tests/unit/effects.test.ts: renders scenes with the project's C effects
 * renderer (src/app/effects.c), so the page's TypeScript renderer is checked against the server's
 * byte for byte.
 *   effects_cases W H SRC.rgb LABELS.u8 BG.rgb SCENES.txt OUT.rgb
 * SCENES.txt has one scene a line, "<bg>|<objects>" as in the effects.mp4 query; OUT.rgb gets
 * each scene's W*H*3 bytes in turn. Exit status 1 with a message on stderr on any error. */
#include "core/error.h"
#include "app/effects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *read_all(const char *path, size_t want) {
    FILE *f = fopen(path, "rb");
    void *buf = malloc(want ? want : 1);
    if (!f || !buf || fread(buf, 1, want, f) != want) {
        fprintf(stderr, "cannot read %zu bytes from %s\n", want, path);
        exit(1);
    }
    fclose(f);
    return buf;
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: effects_cases W H SRC LABELS BG SCENES OUT\n");
        return 2;
    }
    const int w = atoi(argv[1]), h = atoi(argv[2]);
    const size_t hw = (size_t)w * h;
    uint8_t *src = read_all(argv[3], hw * 3), *labels = read_all(argv[4], hw),
            *bg = read_all(argv[5], hw * 3);
    uint8_t *out = malloc(hw * 3);
    FILE *scenes = fopen(argv[6], "r"), *o = fopen(argv[7], "wb");
    sam2_error err = {0};
    effects_renderer *r = effects_renderer_new(w, h, &err);
    if (!scenes || !o || !out || !r) {
        fprintf(stderr, "set-up failed: %s\n", err.message);
        return 1;
    }
    char line[8192];
    while (fgets(line, sizeof line, scenes)) {
        line[strcspn(line, "\r\n")] = 0;
        char *bar = strchr(line, '|');
        if (!bar) continue;
        *bar = 0;
        effects_scene sc;
        if (effects_scene_parse(line, bar + 1, &sc, &err) ||
            effects_render(r, &sc, src, labels, bg, out, &err)) {
            fprintf(stderr, "%s|%s: %s\n", line, bar + 1, err.message);
            return 1;
        }
        fwrite(out, 1, hw * 3, o);
    }
    effects_renderer_free(r);
    fclose(scenes);
    return fclose(o) ? 1 : 0;
}
