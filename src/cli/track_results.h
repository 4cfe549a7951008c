/* `sam2 track`'s results while tracking: every object's mask on every tracked frame as a COCO
 * RLE string, kept in a mask log (app/mask_log.h) whose strings all go to its unlinked spill
 * file (in --spill-dir, else $TMPDIR or /tmp), so the process's memory does not grow with the
 * video's length or with how ragged the masks are; RAM holds only each mask's id, score and
 * area. The outputs are written from them one frame at a time (the formats are
 * app/mask_export.h's, shared with `sam2 serve`). */
#ifndef SAM2_CLI_TRACK_RESULTS_H
#define SAM2_CLI_TRACK_RESULTS_H

#include "app/mask_export.h"
#include "sam2.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

/* Object ids are PNG palette indices: 1..255 (0 is the background). */
#define TRACK_MAX_OBJECT_ID 255

typedef struct track_results {
    int num_frames, width, height;
    /* [num_frames], masks in the tracker's object order, counts always NULL (the strings are
     * in the log); n == 0: not tracked. */
    mask_frame *frames;
    struct mask_log *log;
    const char *dir;             /* the spill file's folder (NULL: $TMPDIR or /tmp) */
    uint8_t *scratch;            /* width * height */
    struct mask_log_ref *loaded; /* the frame track_results_load returned last */
} track_results;

int track_results_init(track_results *r, int num_frames, int width, int height, const char *dir,
                       sam2_error *err);
void track_results_free(track_results *r);
/* Stores (or replaces) the frame's masks. */
int track_results_store(track_results *r, const sam2_frame_result *fr, sam2_error *err);
int track_results_frames(const track_results *r);
/* Frame f with its counts strings, valid until the next call (or the free). */
int track_results_load(track_results *r, int f, const mask_frame **out, sam2_error *err);

typedef struct track_output {
    const char *out_dir;    /* DIR: DIR/masks/NNNNN.png and DIR/masks.json */
    const char *overlay;    /* OUT.mp4 or NULL */
    const char *video_path; /* source, re-read for the overlay */
    const char *model_name;
    int video_frames;
    double fps;                    /* the source's frame rate (masks.json) */
    volatile sig_atomic_t *cancel; /* polled between frames */
    int quiet;
} track_output;

/* Writes everything under temporary names and renames it into place only when all of it is
 * complete: on failure or cancellation (SAM2_ERR_CANCELLED) nothing new is left behind and
 * earlier outputs are untouched. */
int track_write_outputs(track_results *r, const track_output *o, sam2_error *err);

#endif
