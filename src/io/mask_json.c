/* masks.json: COCO RLE of every object on every tracked frame (see mask_export.h). */
#include "io/mask_export.h"

#include "core/error.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static cJSON *frame_json(const mask_frame *f, int width, int height) {
    cJSON *fo = cJSON_CreateObject();
    if (!fo) return NULL;
    cJSON_AddNumberToObject(fo, "frame", f->frame);
    cJSON *objs = cJSON_AddArrayToObject(fo, "objects");
    const int size[2] = {height, width};
    for (int i = 0; objs && i < f->n; i++) {
        const mask_rle *m = &f->masks[i];
        cJSON *o = cJSON_CreateObject();
        if (!o) break;
        cJSON_AddNumberToObject(o, "id", m->id);
        cJSON_AddNumberToObject(o, "score", m->score);
        cJSON_AddNumberToObject(o, "area", (double)m->area);
        cJSON *seg = cJSON_AddObjectToObject(o, "segmentation");
        cJSON_AddItemToObject(seg, "size", cJSON_CreateIntArray(size, 2));
        cJSON_AddStringToObject(seg, "counts", m->counts ? m->counts : "");
        cJSON_AddItemToArray(objs, o);
    }
    return fo;
}

/* The object ids in the order they first appear (frame by frame, then the tracker's order). */
static int add_object_ids(cJSON *ids, const mask_json_doc *d) {
    int *seen = NULL, n = 0, cap = 0;
    for (int f = 0; f < d->n_frames; f++)
        for (int i = 0; i < d->frames[f].n; i++) {
            const int id = d->frames[f].masks[i].id;
            int known = 0;
            for (int k = 0; k < n && !known; k++) known = seen[k] == id;
            if (known) continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                int *grown = realloc(seen, (size_t)cap * sizeof *seen);
                if (!grown) {
                    free(seen);
                    return -1;
                }
                seen = grown;
            }
            seen[n++] = id;
            cJSON_AddItemToArray(ids, cJSON_CreateNumber(id));
        }
    free(seen);
    return 0;
}

char *mask_json_render(const mask_json_doc *d, size_t *len, sam2_error *err) {
    cJSON *root = cJSON_CreateObject();
    cJSON *v = cJSON_AddObjectToObject(root, "video");
    cJSON_AddStringToObject(v, "path", d->video_path ? d->video_path : "");
    cJSON_AddNumberToObject(v, "width", d->width);
    cJSON_AddNumberToObject(v, "height", d->height);
    cJSON_AddNumberToObject(v, "frames", d->video_frames);
    cJSON_AddNumberToObject(v, "fps", d->fps);
    cJSON_AddStringToObject(root, "model", d->model ? d->model : "");
    cJSON *ids = cJSON_AddArrayToObject(root, "objects");
    cJSON *frames = cJSON_AddArrayToObject(root, "frames");
    int ok = root && v && ids && frames && add_object_ids(ids, d) == 0;
    for (int f = 0; ok && f < d->n_frames; f++) {
        if (!d->frames[f].n) continue;
        cJSON *fo = frame_json(&d->frames[f], d->width, d->height);
        ok = fo != NULL;
        if (ok) cJSON_AddItemToArray(frames, fo);
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for masks.json");
        return NULL;
    }
    /* One line with a newline, in a buffer the caller frees with free(). */
    const size_t n = strlen(text);
    char *out = malloc(n + 2);
    if (out) {
        memcpy(out, text, n);
        out[n] = '\n';
        out[n + 1] = '\0';
        if (len) *len = n + 1;
    } else {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for masks.json");
    }
    cJSON_free(text);
    return out;
}
