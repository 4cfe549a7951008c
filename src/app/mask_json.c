/* masks.json: COCO RLE of every object on every tracked frame (see mask_export.h). */
#include "app/mask_export.h"

#include "core/error.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
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

/* Prints item without spaces and writes it, less its last `drop` bytes. */
static int put_json(FILE *out, cJSON *item, size_t drop) {
    char *text = item ? cJSON_PrintUnformatted(item) : NULL;
    if (!text) return -1;
    const size_t n = strlen(text);
    const int ok = n >= drop && fwrite(text, 1, n - drop, out) == n - drop;
    cJSON_free(text);
    return ok ? 0 : -1;
}

/* The document's head: {"video":{..},"model":..,"objects":[..] with the closing brace left off
 * so the frames can follow one by one. */
static int put_head(FILE *out, const mask_json_doc *d) {
    cJSON *root = cJSON_CreateObject();
    cJSON *v = cJSON_AddObjectToObject(root, "video");
    cJSON_AddStringToObject(v, "path", d->video_path ? d->video_path : "");
    cJSON_AddNumberToObject(v, "width", d->width);
    cJSON_AddNumberToObject(v, "height", d->height);
    cJSON_AddNumberToObject(v, "frames", d->video_frames);
    cJSON_AddNumberToObject(v, "fps", d->fps);
    cJSON_AddStringToObject(root, "model", d->model ? d->model : "");
    cJSON *ids = cJSON_AddArrayToObject(root, "objects");
    int rc = root && v && ids && add_object_ids(ids, d) == 0 ? put_json(out, root, 1) : -1;
    cJSON_Delete(root);
    return rc;
}

int mask_json_write(FILE *out, const mask_json_doc *d, mask_frame_load_fn load, void *user,
                    sam2_error *err) {
    if (put_head(out, d) || fputs(",\"frames\":[", out) == EOF)
        return sam2_fail(err, SAM2_ERR_IO, "cannot write masks.json: %s", strerror(errno));
    int first = 1;
    for (int f = 0; f < d->n_frames; f++) {
        if (!d->frames[f].n) continue;
        const mask_frame *frame = &d->frames[f];
        if (load && load(user, f, &frame, err)) return -1;
        cJSON *fo = frame_json(frame, d->width, d->height);
        const int rc = (!first && fputc(',', out) == EOF) || put_json(out, fo, 0);
        cJSON_Delete(fo);
        if (rc) return sam2_fail(err, SAM2_ERR_IO, "cannot write masks.json: %s", strerror(errno));
        first = 0;
    }
    if (fputs("]}\n", out) == EOF)
        return sam2_fail(err, SAM2_ERR_IO, "cannot write masks.json: %s", strerror(errno));
    return 0;
}

char *mask_json_render(const mask_json_doc *d, size_t *len, sam2_error *err) {
    char *text = NULL;
    size_t n = 0;
    FILE *mem = open_memstream(&text, &n);
    if (!mem) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for masks.json");
        return NULL;
    }
    const int rc = mask_json_write(mem, d, NULL, NULL, err);
    if (fclose(mem) != 0 || rc) {
        free(text);
        /* A memory stream fails only for want of memory. */
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for masks.json");
        return NULL;
    }
    if (len) *len = n;
    return text;
}
