/* `sam2 track`'s prompt options, grouped per (frame, object) in command-line order:
 *   --prompt 'frame=F,obj=K,x=X,y=Y[,label=L]'         one click (label 1 object, 0 background)
 *   --box 'frame=F,obj=K,x0=X0,y0=Y0,x1=X1,y1=Y1'      a box
 *   --mask-prompt 'frame=F,obj=K,FILE'                  a binary mask image (>= 128 = object)
 * All clicks and the box of one object on one frame form one prompt (one decoder call, as the
 * official add_new_points_or_box with every point at once); a mask excludes clicks and boxes
 * for that object on that frame. */
#ifndef SAM2_CLI_TRACK_PROMPTS_H
#define SAM2_CLI_TRACK_PROMPTS_H

#include "sam2.h"

#include <stdint.h>

typedef struct track_prompt {
    int frame, obj;
    sam2_point *points;
    int n_points;
    float box[4];
    int has_box;
    const char *mask_file;
    uint8_t *mask; /* loaded mask_file: mask_w * mask_h bytes, 0/1 */
    int mask_w, mask_h;
} track_prompt;

typedef struct track_prompts {
    track_prompt *items;
    int n, cap;
} track_prompts;

/* kind: 'p' --prompt, 'b' --box, 'm' --mask-prompt. Returns 0, or non-zero with err saying what
 * is wrong with the spec (naming the option and the spec). */
int track_prompts_add(track_prompts *ps, char kind, const char *spec, sam2_error *err);
/* Loads the mask files; 0 or -1 with err set. */
int track_prompts_load_masks(track_prompts *ps, sam2_error *err);
void track_prompts_free(track_prompts *ps);

#endif
