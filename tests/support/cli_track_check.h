/* What the `sam2 track` tests check on a finished run: the indexed PNGs, masks.json (parsed, its
 * RLE decoded and compared with the PNGs, and optionally with the library's own masks for the
 * same prompts) and the overlay video (read back for its frame count, size and rate). */
#ifndef SAM2_TEST_CLI_TRACK_CHECK_H
#define SAM2_TEST_CLI_TRACK_CHECK_H

#include <stddef.h>

struct sam2_frame_result;

/* The two objects the tests click on frame 0 of 05_default_juggle.mp4. */
#define TRACK_X1 640
#define TRACK_Y1 300
#define TRACK_X2 330
#define TRACK_Y2 500
#define TRACK_STR_(v) #v
#define TRACK_STR(v) TRACK_STR_(v)
#define TRACK_PROMPT_1 "frame=0,obj=1,x=" TRACK_STR(TRACK_X1) ",y=" TRACK_STR(TRACK_Y1)
#define TRACK_PROMPT_2 "frame=0,obj=2,x=" TRACK_STR(TRACK_X2) ",y=" TRACK_STR(TRACK_Y2)

typedef struct track_fixture {
    char ckpt[1024], yaml[1024], video[1024];
} track_fixture;

/* Finds the micro checkpoint and the juggle video; -1 when either is missing. */
int track_fixture_find(track_fixture *fx);

/* Checks a forward run from frame 0 over n frames with TRACK_PROMPT_1 and TRACK_PROMPT_2: DIR
 * holds exactly masks/00000.png.. and masks.json, overlay (if not NULL) has n frames.
 * With compare_api the masks are also recomputed through the library. Returns 0, or -1 with
 * the first difference in msg. */
int track_check_outputs(const track_fixture *fx, const char *dir, const char *overlay, int n,
                        int compare_api, char *msg, size_t msg_size);

/* Compares library results with a masks.json: pass track_json_compare as the frame callback
 * of sam2_tracker_propagate (user = a track_json_cmp); it stops at the first difference. */
typedef struct track_json_cmp {
    void *root; /* the parsed masks.json (cJSON *) */
    int width, height;
    int frames_compared;
    unsigned char *scratch;
    char msg[1024]; /* the first difference */
    int failed;
} track_json_cmp;
int track_json_cmp_open(track_json_cmp *c, const char *json_path);
void track_json_cmp_close(track_json_cmp *c);
int track_json_compare(void *user, const struct sam2_frame_result *r);

#endif
