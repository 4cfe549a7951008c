/* Freeing the masks the inference seam hands out (kept apart from inference.c so programs that
 * use a stand-in tracker do not link the model). */
#include "server/inference.h"

#include <stdlib.h>

void inf_frame_free(inf_frame *f) {
    if (!f) return;
    for (int i = 0; i < f->n; i++) free(f->masks[i].counts);
    free(f->masks);
    f->masks = NULL;
    f->n = 0;
}

void inf_frames_free(inf_frame *f, int n) {
    for (int i = 0; f && i < n; i++) inf_frame_free(&f[i]);
    free(f);
}
