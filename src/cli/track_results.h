/* `sam2 track`'s results while tracking, and what is written from them: every object's mask on
 * every tracked frame kept as a COCO RLE string (a few KB per mask instead of a full frame), the
 * DAVIS-style indexed PNGs, the masks.json document and the overlay video. */
#ifndef SAM2_CLI_TRACK_RESULTS_H
#define SAM2_CLI_TRACK_RESULTS_H

#include "sam2.h"

#include <signal.h>
#include <stdint.h>

/* Object ids are PNG palette indices: 1..255 (0 is the background). */
#define TRACK_MAX_OBJECT_ID 255

typedef struct track_mask {
    int id;
    float score;  /* object-score logit (> 0: the object is present) */
    char *counts; /* COCO RLE of logits > 0 at video resolution */
} track_mask;

typedef struct track_results {
    int num_frames, width, height;
    int *count;         /* [num_frames] masks stored for the frame; 0: not tracked */
    track_mask **masks; /* [num_frames] in the tracker's object order */
    uint8_t *scratch;   /* width * height */
} track_results;

int track_results_init(track_results *r, int num_frames, int width, int height, sam2_error *err);
void track_results_free(track_results *r);
/* Stores (or replaces) the frame's masks. */
int track_results_store(track_results *r, const sam2_frame_result *fr, sam2_error *err);
int track_results_frames(const track_results *r);

/* labels[h*w]: 0 for background, else the id of the object covering the pixel; where objects
 * overlap, the one later in the tracker's order (the one prompted later) wins. */
int track_results_labels(const track_results *r, int frame, uint8_t *labels, sam2_error *err);

/* The DAVIS / PASCAL VOC palette: 256 RGB triples, index 0 black. */
void track_palette(uint8_t pal[256 * 3]);

/* Draws labelled objects over an RGB frame: palette colour blended at 50 %, and a 2-pixel
 * outline in the full colour. */
void track_overlay_draw(uint8_t *rgb, int width, int height, const uint8_t *labels,
                        const uint8_t pal[256 * 3]);

typedef struct track_output {
    const char *out_dir;    /* DIR: DIR/masks/NNNNN.png and DIR/masks.json */
    const char *overlay;    /* OUT.mp4 or NULL */
    const char *video_path; /* source, re-read for the overlay */
    const char *model_name;
    int video_frames;
    double fps;                    /* overlay frame rate (the source's) */
    volatile sig_atomic_t *cancel; /* polled between frames */
    int quiet;
} track_output;

/* Writes everything under temporary names and renames it into place only when all of it is
 * complete: on failure or cancellation (SAM2_ERR_CANCELLED) nothing new is left behind and
 * earlier outputs are untouched. */
int track_write_outputs(const track_results *r, const track_output *o, sam2_error *err);

#endif
