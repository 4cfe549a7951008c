/* libFuzzer target for the effects.mp4 query parameters (src/app/effects_spec.c) and the effects
 * renderer (src/app/effects.c). Input: the `bg` value, NUL, the `objects` value, NUL, then bytes
 * that become a 7x5 frame's labels (taken modulo the number of parsed objects + 1) and pixels.
 * A scene that parses is rendered; the renderer must accept every scene the parser accepts. */
#include "app/effects.h"

#include <stdlib.h>
#include <string.h>

#define FW 7
#define FH 5

static void check(int ok) {
    if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nul1 = memchr(data, 0, size);
    if (!nul1) return 0;
    const uint8_t *nul2 = memchr(nul1 + 1, 0, size - (size_t)(nul1 + 1 - data));
    if (!nul2) return 0;
    const char *bg = (const char *)data, *objects = (const char *)nul1 + 1;
    const uint8_t *rest = nul2 + 1;
    const size_t nrest = size - (size_t)(rest - data);
    effects_scene *scene = malloc(sizeof *scene);
    sam2_error err;
    if (effects_scene_parse(bg, objects, scene, &err) == 0) {
        uint8_t src[FW * FH * 3], labels[FW * FH], bgimg[FW * FH * 3], out[FW * FH * 3];
        for (int i = 0; i < FW * FH * 3; i++) {
            src[i] = nrest ? rest[i % nrest] : (uint8_t)i;
            bgimg[i] = (uint8_t)(255 - src[i]);
        }
        for (int i = 0; i < FW * FH; i++)
            labels[i] = (uint8_t)(nrest ? rest[(i * 7) % nrest] % (scene->n + 1) : 0);
        effects_renderer *r = effects_renderer_new(FW, FH, &err);
        check(r != NULL);
        check(effects_render(r, scene, src, labels, bgimg, out, &err) == 0);
        effects_renderer_free(r);
    } else {
        check(err.message[0] != 0);
    }
    free(scene);
    return 0;
}
