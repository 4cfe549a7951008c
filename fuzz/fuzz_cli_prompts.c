/* libFuzzer target for the `sam2` command line's prompt specifications (src/cli): `track
 * --prompt 'frame=F,obj=K,x=X,y=Y[,label=L]'`, `--box 'frame=F,obj=K,x0=..,y0=..,x1=..,y1=..'`,
 * `--mask-prompt 'frame=F,obj=K,FILE'` (track_prompts_add) and `segment --point X,Y[,LABEL]` /
 * `--box X0,Y0,X1,Y1` (cli_parse_point, cli_parse_floats), and whole command lines read by the
 * option-table parser (cli_parse_args). Input: lines, each an option's value after one byte
 * naming the option ('p', 'b', 'm' for track's, 'P', 'B' for segment's, 'A' for a command line
 * whose arguments are separated by spaces; another byte picks one by its value mod 6). Track's
 * options go into one prompt set, in order, until one is refused (where the command stops).
 * Checks: every (frame, object) group is unique, in range, and has either clicks/a box or a mask
 * file (a name inside its option's text); every click accepted is in a group; a refusal says
 * why; segment's values parse or are refused, never half; a parsed command line's values are
 * arguments (or their '=' parts) and its required ones are there. */
#include "app/cli_options.h"
#include "cli/cli_util.h"
#include "cli/track_prompts.h"
#include "cli/track_results.h"
#include "core/error.h"

#include <stddef.h>
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

/* A command line with every kind of option the tables have. */
typedef struct fuzz_args {
    const char *file, *name, *json;
    int flag, count;
    float scale;
    int n_custom;
} fuzz_args;

static int count_custom(void *args, const char *value, sam2_error *err) {
    fuzz_args *a = args;
    if (!*value) return -1; /* refused without a message: the parser writes one */
    if (*value == '!') return sam2_fail(err, SAM2_ERR_ARGUMENT, "--custom '%s': refused", value);
    a->n_custom++;
    return 0;
}

static const cli_option FUZZ_OPTIONS[] = {
    CLI_OPT_STRING("--name", offsetof(fuzz_args, name), "S", "", CLI_REQUIRED),
    CLI_OPT_OPTIONAL("--json", offsetof(fuzz_args, json), "F", ""),
    CLI_OPT_FLAG("--flag", offsetof(fuzz_args, flag), ""),
    CLI_OPT_INT("--count", offsetof(fuzz_args, count), "N", "", -5, 5, "-5..5"),
    CLI_OPT_FLOAT("--scale", offsetof(fuzz_args, scale), "X", "", -1, 1, "-1..1"),
    CLI_OPT_CUSTOM("--custom", count_custom, "V", "", CLI_REPEATABLE, "text"),
};
static const cli_spec FUZZ_SPEC = {.command = "fuzz",
                                   .positional = "FILE",
                                   .positional_offset = offsetof(fuzz_args, file),
                                   .options = CLI_OPTIONS(FUZZ_OPTIONS)};

static int inside(const char *p, const char *text, size_t len) {
    return p >= text && p <= text + len;
}

static void check_command_line(char *line, const char *text, size_t len) {
    char *argv[64] = {"fuzz"};
    int argc = 1;
    for (char *p = strtok(line, " "); p && argc < 64; p = strtok(NULL, " ")) argv[argc++] = p;
    fuzz_args a = {.count = 99, .scale = 99};
    sam2_error err = {0};
    const int rc = cli_parse_args(&FUZZ_SPEC, argc, argv, &a, &err);
    if (rc == CLI_PARSE_ERROR) {
        check(err.code == SAM2_ERR_ARGUMENT && err.message[0]);
    } else if (rc == CLI_PARSE_OK) {
        check(a.name && inside(a.name, text, len));
        check(!a.file || inside(a.file, text, len));
        check(!a.json || !*a.json || inside(a.json, text, len));
        check(a.flag == 0 || a.flag == 1);
        check(a.count == 99 || (a.count >= -5 && a.count <= 5));
        check(a.scale == 99 || (a.scale >= -1 && a.scale <= 1));
    } else {
        check(rc == CLI_PARSE_HELP);
    }
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
    static const char KINDS[] = "pbmPBA";
    track_prompts ps = {0};
    int clicks = 0, track_ok = 1;
    for (char *line = text, *next; line < text + size; line = next) {
        next = line + strlen(line) + 1; /* before 'A' lines are cut into arguments */
        if (!*line) continue;
        const char *kind = strchr(KINDS, *line);
        const char k = kind ? *kind : KINDS[(unsigned char)*line % 6];
        char *value = line + 1;
        if (k == 'A') {
            check_command_line(value, text, size + 1);
        } else if (k == 'P') {
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
            sam2_error err = {0};
            if (track_prompts_add(&ps, k, value, &err) == 0) {
                if (k == 'p') clicks++;
                check(ps.n == n_before || ps.n == n_before + 1);
                check_prompts(&ps, clicks, text, size + 1);
            } else {
                check(err.code != 0 && err.message[0]); /* a refusal says why */
                track_ok = 0; /* sam2 track stops at the first refused option */
            }
        }
    }
    track_prompts_free(&ps);
    free(text);
    return 0;
}
