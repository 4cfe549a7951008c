/* Writing tracked masks out: the formats of `sam2 track` (DIR/masks/NNNNN.png, DIR/masks.json,
 * --overlay OUT.mp4), shared with `sam2 serve`'s /export routes so both write the same bytes.
 *
 * Masks arrive as COCO RLE strings per (frame, object) (io/rle.h), the compact form both keep
 * while tracking. From them come:
 *   - label images: one byte per pixel, 0 for background, else the object's palette index;
 *     where objects overlap, the one later in the frame's order (prompted later) wins;
 *   - indexed PNGs with the DAVIS / PASCAL VOC palette (mask_png.c), also packed into a zip
 *     (mask_zip.c) as masks/NNNNN.png;
 *   - the masks.json document (mask_json.c);
 *   - the overlay video: the source frames with each object's colour blended at 50 % and a
 *     2-pixel outline, H.264 (mask_overlay.c). */
#ifndef SAM2_APP_MASK_EXPORT_H
#define SAM2_APP_MASK_EXPORT_H

#include "app/mask_rle.h"
#include "sam2.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The masks of one frame, in the tracker's object order. */
typedef struct mask_frame {
    int frame;
    int n;
    mask_rle *masks;
} mask_frame;

/* ---- palette and label images (mask_export.c) ------------------------------------------- */

/* The DAVIS / PASCAL VOC palette: 256 RGB triples, index 0 black. */
void mask_palette(uint8_t pal[256 * 3]);

/* Which palette index each object id gets: the id itself when every id is in 1..255 (what
 * `sam2 track` accepts), else 1 + the id's rank among the sorted ids (the official demo numbers
 * objects from 0, so its objects 0, 1, 2 become 1, 2, 3). */
typedef struct mask_label_map {
    int identity;
    int n;
    int *ids; /* sorted, distinct */
} mask_label_map;

/* Collects the ids of every mask in frames[0..n); fails (SAM2_ERR_LIMIT) past 255 objects. */
int mask_label_map_init(mask_label_map *m, const mask_frame *frames, int n, sam2_error *err);
void mask_label_map_free(mask_label_map *m);
/* Palette index of `id` (0 when the map does not know it). */
int mask_label_index(const mask_label_map *m, int id);

/* Decodes a counts string into h*w bytes of 0/1 (row-major); io/rle's rle_decode has this
 * shape (with user unused). */
typedef int (*mask_decode_fn)(void *user, const char *counts, int h, int w, uint8_t *out,
                              sam2_error *err);

/* labels[h*w] of one frame. decode NULL: rle_decode. scratch: h*w bytes. */
int mask_labels(const mask_frame *f, int width, int height, const mask_label_map *map,
                mask_decode_fn decode, void *decode_user, uint8_t *labels, uint8_t *scratch,
                sam2_error *err);

/* Blends labelled objects over an RGB frame: palette colour at 50 %, and a 2-pixel outline in
 * the full colour where a neighbour has another label (the frame border is no outline). */
void mask_overlay_draw(uint8_t *rgb, int width, int height, const uint8_t *labels,
                       const uint8_t pal[256 * 3]);

/* ---- indexed PNGs (mask_export.c) ------------------------------------------------------- */

/* A label image as an 8-bit indexed PNG with the DAVIS palette. */
int mask_png_write(const char *path, const uint8_t *labels, int width, int height, sam2_error *err);
/* A binary mask (non-zero: the object) as an 8-bit grey PNG in memory (0 / 255), the form
 * `sam2 segment --out` writes; *png is malloc'd. */
int mask_png_encode_binary(const uint8_t *mask, int width, int height, uint8_t **png, size_t *size,
                           sam2_error *err);

/* ---- masks.json (mask_json.c) ------------------------------------------------------------ */

typedef struct mask_json_doc {
    const char *video_path; /* as the user named it */
    int width, height;      /* of the masks */
    int video_frames;
    double fps;
    const char *model;
    const mask_frame *frames; /* ascending frame order; frames with n == 0 are left out */
    int n_frames;
} mask_json_doc;

/* The document, one line of JSON ending with a newline (malloc'd, *len bytes):
 *   {"video": {"path", "width", "height", "frames", "fps"}, "model", "objects": [ids in order of
 *    first appearance], "frames": [{"frame", "objects": [{"id", "score", "area",
 *    "segmentation": {"size": [h, w], "counts"}}]}]} */
char *mask_json_render(const mask_json_doc *doc, size_t *len, sam2_error *err);

/* Gives doc->frames[index] with its counts strings, valid until the next call. */
typedef int (*mask_frame_load_fn)(void *user, int index, const mask_frame **frame, sam2_error *err);

/* The same bytes as mask_json_render, written to out one frame at a time, so memory stays at
 * one frame's strings whatever the length of the video. Ids come from doc->frames; with load
 * the counts come from it (doc->frames may then have none), else from doc->frames. */
int mask_json_write(FILE *out, const mask_json_doc *doc, mask_frame_load_fn load, void *user,
                    sam2_error *err);

/* ---- zip of indexed PNGs (mask_zip.c) ----------------------------------------------------- */

typedef struct mask_zip mask_zip;

/* Creates the archive at path (replacing a file there when it is closed). The PNGs are staged
 * as files beside it ("<path>.NNNNN.png.part"), removed when the archive is closed or
 * discarded: memory stays at one frame. */
mask_zip *mask_zip_open(const char *path, sam2_error *err);
/* Adds masks/NNNNN.png (stored: PNG data is compressed already); one call per frame. */
int mask_zip_add(mask_zip *z, int frame, const uint8_t *labels, int width, int height,
                 sam2_error *err);
/* Writes the archive and frees z. On failure nothing is left at path. */
int mask_zip_close(mask_zip *z, sam2_error *err);
/* Frees z without writing anything. */
void mask_zip_discard(mask_zip *z);

/* ---- overlay video (mask_overlay.c) -------------------------------------------------------- */

/* Draws one frame in place instead of the palette overlay: rgb is the source frame (width * height
 * * 3), labels what mask_overlay_add was given. */
typedef int (*mask_overlay_draw_fn)(void *user, int frame, uint8_t *rgb, const uint8_t *labels,
                                    sam2_error *err);

typedef struct mask_overlay_options {
    const char *video_path; /* the source, re-read frame by frame */
    const char *out_path;
    int atomic;       /* 1: write a hidden temporary file beside out_path, rename when closed */
    int threads;      /* encoder threads, 0: FFmpeg's choice */
    const char *name; /* how messages call the output (NULL: out_path) */
    int crf;          /* libx264 quality 1..51, 0: the writer's default (23) */
    /* NULL: the palette overlay (mask_overlay_draw). Else draw(draw_user, ...) draws each frame,
     * and draw_free(draw_user) (when set) runs when the overlay is closed or aborted, even when
     * opening fails. */
    mask_overlay_draw_fn draw;
    void *draw_user;
    void (*draw_free)(void *draw_user);
} mask_overlay_options;

typedef struct mask_overlay mask_overlay;

/* Opens the source and an H.264 writer at the source's size and frame rate (30 when it has
 * none, as a folder of frames). */
mask_overlay *mask_overlay_open(const mask_overlay_options *o, sam2_error *err);
int mask_overlay_width(const mask_overlay *ov);
int mask_overlay_height(const mask_overlay *ov);
/* Reads source frame `frame`, draws labels[h*w] over it and appends it. */
int mask_overlay_add(mask_overlay *ov, int frame, const uint8_t *labels, sam2_error *err);
/* Reads source frame `frame` into rgb (width * height * 3) without writing anything. */
int mask_overlay_read_source(mask_overlay *ov, int frame, uint8_t *rgb, sam2_error *err);
/* Finishes the file (moving it into place when atomic) and frees ov. On failure the file is
 * removed. */
int mask_overlay_close(mask_overlay *ov, sam2_error *err);
/* Frees ov and removes what it wrote. */
void mask_overlay_abort(mask_overlay *ov);

#endif
