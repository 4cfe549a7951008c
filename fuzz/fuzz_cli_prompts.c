/* libFuzzer target for the `sam2` command line's prompt specifications (src/cli): `track
 * --prompt 'frame=F,obj=K,x=X,y=Y[,label=L]'`, `--box 'frame=F,obj=K,x0=..,y0=..,x1=..,y1=..'`,
 * `--mask-prompt 'frame=F,obj=K,FILE'` (track_prompts_add) and `segment --point X,Y[,LABEL]` /
 * `--box X0,Y0,X1,Y1` (cli_parse_point, cli_parse_floats). Input: lines, each an option's
 * value after one byte naming the option ('p', 'b', 'm' for track's, 'P', 'B' for segment's;
 * another byte picks one by its value mod 5). Track's options go into one prompt set, in order,
 * until one is refused (where the command stops). Checks: every (frame, object) group is unique,
 * in range, and has either clicks/a box or a mask file (a name inside its option's text); every
 * click accepted is in a group; segment's values parse or are refused, never half. */
#include "cli/cli_util.h"
#include "cli/track_prompts.h"
#include "cli/track_results.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok) {
    if (!ok) abort();
}

static void check_prompts(const track_prompts *ps, int clicks, const char *text, size_t len) {
    int points = 0;
    for (int i = 0; i < ps->n; i++) {
        const track_prompt *g = &ps->items[i];
        check(g->frame >= 0 && g->obj >= 1 && g->obj <= TRACK_MAX_OBJECT_ID);
        for (int j = 0; j < i; j++)
            check(ps->items[j].frame != g->frame || ps->items[j].obj != g->obj);
        check(g->n_points >= 0 && (g->n_points == 0 || g->points));
        if (g->mask_file) {
            check(!g->n_points && !g->has_box && *g->mask_file);
            check(g->mask_file > text && g->mask_file < text + len);
        } else {
            check(g->n_points > 0 || g->has_box);
        }
        points += g->n_points;
    }
    check(points == clicks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 16384) return 0;
    /* The options' texts outlive the prompt set, as argv does in the command. */
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    for (size_t i = 0; i < size; i++)
        if (text[i] == '\n') text[i] = 0;
    static const char KINDS[] = "pbmPB";
    track_prompts ps = {0};
    int clicks = 0, track_ok = 1;
    for (char *line = text; line < text + size; line += strlen(line) + 1) {
        if (!*line) continue;
        const char *kind = strchr(KINDS, *line);
        const char k = kind ? *kind : KINDS[(unsigned char)*line % 5];
        const char *value = line + 1;
        if (k == 'P') {
            sam2_point p = {.x = -7, .y = -7, .label = -7};
            if (cli_parse_point(value, &p) == 0) {
                float again[3];
                check(cli_parse_floats(value, again, 2, 3) >= 2);
                check(p.x == again[0] || p.x != p.x); /* NaN is passed on for the library */
            }
        } else if (k == 'B') {
            float box[5];
            const int n = cli_parse_floats(value, box, 4, 4);
            check(n == -1 || n == 4);
        } else if (track_ok) {
            const int n_before = ps.n;
            if (track_prompts_add(&ps, k, value) == 0) {
                if (k == 'p') clicks++;
                check(ps.n == n_before || ps.n == n_before + 1);
                check_prompts(&ps, clicks, text, size + 1);
            } else {
                track_ok = 0; /* sam2 track stops at the first refused option */
            }
        }
    }
    track_prompts_free(&ps);
    free(text);
    return 0;
}
