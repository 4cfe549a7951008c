/* Writing `sam2 track`'s outputs so they appear whole or not at all: the PNGs go into a hidden
 * temporary folder beside DIR/masks, masks.json and the overlay into hidden temporary files;
 * only when every one of them is complete are they renamed into place. */
#include "cli/track_results.h"

#include "sam2.h"
#include "app/atomic_file.h"
#include "app/mask_export.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_BYTES 4096
#define MAX_CREATED 16

typedef struct writer_state {
    char created[MAX_CREATED][PATH_BYTES]; /* folders made for DIR, outermost first */
    int n_created;
    char png_dir[PATH_BYTES];  /* temporary folder of the PNGs */
    char json_tmp[PATH_BYTES]; /* temporary masks.json */
    mask_overlay *overlay;
    mask_label_map map; /* object id -> palette index (the ids themselves: 1..255) */
    uint8_t *labels;
} writer_state;

/* mkdir -p, remembering what it made so a failed run can take it away again. */
static int make_dirs(writer_state *s, const char *dir, sam2_error *err) {
    char path[PATH_BYTES];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "--out: path too long");
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        const char saved = *p;
        *p = '\0';
        struct stat st;
        if (stat(path, &st) != 0) {
            if (mkdir(path, 0755) != 0 && errno != EEXIST)
                return sam2_fail(err, SAM2_ERR_IO, "--out: cannot create folder '%s': %s", path,
                                 strerror(errno));
            if (s->n_created < MAX_CREATED)
                snprintf(s->created[s->n_created++], PATH_BYTES, "%s", path);
        } else if (!S_ISDIR(st.st_mode)) {
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "--out: '%s' is not a folder", path);
        }
        *p = saved;
        if (!saved) break;
    }
    return 0;
}

/* Removes the files in a folder (not sub-folders) and the folder; 0 when it is gone. */
static int remove_flat_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    char p[PATH_BYTES];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    return rmdir(dir);
}

static void discard(writer_state *s) {
    if (s->overlay) mask_overlay_abort(s->overlay);
    s->overlay = NULL;
    if (s->png_dir[0]) remove_flat_dir(s->png_dir);
    if (s->json_tmp[0]) unlink(s->json_tmp);
    for (int i = s->n_created - 1; i >= 0; i--) rmdir(s->created[i]);
}

static int check_cancel(const track_output *o, sam2_error *err) {
    if (o->cancel && *o->cancel)
        return sam2_fail(err, SAM2_ERR_CANCELLED, "cancelled while writing the outputs");
    return 0;
}

/* Frame f's label image, its masks read back from the results file. */
static int frame_labels(writer_state *s, track_results *r, int f, sam2_error *err) {
    const mask_frame *frame = NULL;
    if (track_results_load(r, f, &frame, err)) return -1;
    return mask_labels(frame, r->width, r->height, &s->map, NULL, NULL, s->labels, r->scratch, err);
}

static int load_frame(void *user, int f, const mask_frame **frame, sam2_error *err) {
    return track_results_load(user, f, frame, err);
}

static int make_png_dir(writer_state *s, const track_output *o, sam2_error *err) {
    snprintf(s->png_dir, sizeof s->png_dir, "%s/" SAM2_TMP_PREFIX "masks-XXXXXX", o->out_dir);
    if (!mkdtemp(s->png_dir)) {
        s->png_dir[0] = '\0';
        return sam2_fail(err, SAM2_ERR_IO, "cannot create a folder in '%s': %s", o->out_dir,
                         strerror(errno));
    }
    /* mkdtemp makes the folder private; give it the permissions mkdir would. */
    const mode_t mask = umask(0);
    umask(mask);
    chmod(s->png_dir, 0777 & ~mask);
    return 0;
}

static int open_overlay(writer_state *s, const track_results *r, const track_output *o,
                        sam2_error *err) {
    const mask_overlay_options oo = {
        .video_path = o->video_path, .out_path = o->overlay, .atomic = 1, .name = o->overlay};
    s->overlay = mask_overlay_open(&oo, err);
    if (!s->overlay) return -1;
    if (mask_overlay_width(s->overlay) != r->width || mask_overlay_height(s->overlay) != r->height)
        return sam2_fail(err, SAM2_ERR_STATE, "%s: the video's size changed while tracking",
                         o->video_path);
    return 0;
}

/* The PNGs and the overlay's frames in one pass: each frame's masks are read back and decoded
 * into labels once for both. */
static int write_frames(writer_state *s, track_results *r, const track_output *o, sam2_error *err) {
    if (make_png_dir(s, o, err) || (o->overlay && open_overlay(s, r, o, err))) return -1;
    for (int f = 0; f < r->num_frames; f++) {
        if (!r->frames[f].n) continue;
        if (check_cancel(o, err) || frame_labels(s, r, f, err)) return -1;
        char path[PATH_BYTES];
        snprintf(path, sizeof path, "%s/%05d.png", s->png_dir, f);
        if (mask_png_write(path, s->labels, r->width, r->height, err)) return -1;
        if (s->overlay && mask_overlay_add(s->overlay, f, s->labels, err)) return -1;
    }
    return 0;
}

static int write_json(writer_state *s, track_results *r, const track_output *o, sam2_error *err) {
    const mask_json_doc doc = {.video_path = o->video_path,
                               .width = r->width,
                               .height = r->height,
                               .video_frames = o->video_frames,
                               .fps = o->fps,
                               .model = o->model_name,
                               .frames = r->frames,
                               .n_frames = r->num_frames};
    char final[PATH_BYTES];
    snprintf(final, sizeof final, "%s/masks.json", o->out_dir);
    if (atomic_tmp_beside(final, NULL, s->json_tmp, sizeof s->json_tmp, err)) return -1;
    FILE *f = fopen(s->json_tmp, "wb");
    if (!f)
        return sam2_fail(err, SAM2_ERR_IO, "%s: cannot create: %s", s->json_tmp, strerror(errno));
    int rc = mask_json_write(f, &doc, load_frame, r, err);
    if (fclose(f) != 0 && !rc)
        rc = sam2_fail(err, SAM2_ERR_IO, "%s: write failed: %s", s->json_tmp, strerror(errno));
    return rc;
}

/* Puts the new PNG folder at DIR/masks; an existing one is swapped out first, then removed. */
static int commit_png_dir(writer_state *s, const track_output *o, sam2_error *err) {
    char final[PATH_BYTES], old[PATH_BYTES];
    snprintf(final, sizeof final, "%s/masks", o->out_dir);
    struct stat st;
    const int exists = lstat(final, &st) == 0;
    if (exists) {
        snprintf(old, sizeof old, "%s/" SAM2_TMP_PREFIX "old-masks-XXXXXX", o->out_dir);
        /* rename() replaces an empty folder, so reserve the name with one. */
        if (!mkdtemp(old) || rename(final, old) != 0)
            return sam2_fail(err, SAM2_ERR_IO, "cannot replace '%s': %s", final, strerror(errno));
    }
    if (rename(s->png_dir, final) != 0) {
        const int e = errno;
        if (exists) rename(old, final);
        return sam2_fail(err, SAM2_ERR_IO, "cannot move the masks to '%s': %s", final, strerror(e));
    }
    s->png_dir[0] = '\0';
    if (exists && remove_flat_dir(old) != 0)
        fprintf(stderr, "sam2 track: note: could not remove the previous masks in '%s'\n", old);
    return 0;
}

static int check_targets(const track_output *o, sam2_error *err) {
    char p[PATH_BYTES];
    struct stat st;
    snprintf(p, sizeof p, "%s/masks", o->out_dir);
    if (lstat(p, &st) == 0 && !S_ISDIR(st.st_mode))
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "--out: '%s' exists and is not a folder", p);
    snprintf(p, sizeof p, "%s/masks.json", o->out_dir);
    if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "--out: '%s' is a folder", p);
    return 0;
}

int track_write_outputs(track_results *r, const track_output *o, sam2_error *err) {
    writer_state *s = calloc(1, sizeof *s);
    if (!s) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    s->labels = malloc((size_t)r->width * r->height);
    int rc = !s->labels ? sam2_fail(err, SAM2_ERR_NOMEM, "out of memory") : 0;
    if (!rc) rc = mask_label_map_init(&s->map, r->frames, r->num_frames, err);
    if (!rc) rc = make_dirs(s, o->out_dir, err);
    if (!rc) rc = check_targets(o, err);
    if (!rc) rc = write_frames(s, r, o, err);
    if (!rc) rc = write_json(s, r, o, err);
    if (!rc) rc = check_cancel(o, err);
    /* Commit: from here on a Ctrl-C only sets the flag, so the renames all happen. The
     * overlay goes first (closing it finishes the encode, the step most likely to fail), then
     * the PNG folder; a failure after the overlay's rename takes the new overlay away again. */
    int overlay_committed = 0;
    if (!rc && s->overlay) {
        rc = mask_overlay_close(s->overlay, err);
        s->overlay = NULL;
        overlay_committed = rc == 0;
    }
    if (!rc) rc = commit_png_dir(s, o, err);
    if (!rc) {
        char final[PATH_BYTES];
        snprintf(final, sizeof final, "%s/masks.json", o->out_dir);
        rc = atomic_commit(s->json_tmp, final, err);
        s->json_tmp[0] = '\0';
    }
    if (rc) {
        discard(s);
        if (overlay_committed) unlink(o->overlay);
    }
    mask_label_map_free(&s->map);
    free(s->labels);
    free(s);
    return rc ? (err && err->code ? err->code : -1) : 0;
}
