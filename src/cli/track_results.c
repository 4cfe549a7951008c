#include "cli/track_results.h"

#include "sam2.h"
#include "io/mask_rle.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

int track_results_init(track_results *r, int num_frames, int width, int height, const char *dir,
                       sam2_error *err) {
    memset(r, 0, sizeof *r);
    r->num_frames = num_frames;
    r->width = width;
    r->height = height;
    r->dir = dir;
    r->frames = calloc((size_t)num_frames, sizeof *r->frames);
    r->offsets = calloc((size_t)num_frames, sizeof *r->offsets);
    r->sizes = calloc((size_t)num_frames, sizeof *r->sizes);
    r->scratch = malloc((size_t)width * height);
    if (!r->frames || !r->offsets || !r->sizes || !r->scratch) {
        track_results_free(r);
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for %d frames of results", num_frames);
    }
    for (int f = 0; f < num_frames; f++) r->frames[f].frame = f;
    return 0;
}

void track_results_free(track_results *r) {
    if (r->frames)
        for (int f = 0; f < r->num_frames; f++) free(r->frames[f].masks);
    free(r->frames);
    free(r->offsets);
    free(r->sizes);
    free(r->scratch);
    free(r->buf);
    free(r->loaded.masks);
    if (r->file) fclose(r->file);
    memset(r, 0, sizeof *r);
}

/* The results file: unlinked as soon as it exists, so nothing is left behind whatever happens
 * to the process. */
static int open_file(track_results *r, sam2_error *err) {
    const char *dir = r->dir && *r->dir ? r->dir : getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    char path[4096];
    if (snprintf(path, sizeof path, "%s/sam2-track-results-XXXXXX", dir) >= (int)sizeof path)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "the temporary folder's path is too long");
    const int fd = mkstemp(path);
    if (fd < 0)
        return sam2_fail(err, SAM2_ERR_IO, "cannot create the results file in '%s': %s", dir,
                         strerror(errno));
    unlink(path);
    r->file = fdopen(fd, "w+b");
    if (!r->file) {
        close(fd);
        return sam2_fail(err, SAM2_ERR_IO, "cannot open the results file in '%s'", dir);
    }
    return 0;
}

/* Appends one NUL-terminated string where the file's position is (its end: see the store). */
static int append(track_results *r, const char *s, sam2_error *err) {
    const size_t n = strlen(s) + 1;
    if (fwrite(s, 1, n, r->file) != n)
        return sam2_fail(err, SAM2_ERR_IO, "cannot write the results file (disk full?): %s",
                         strerror(errno));
    r->file_end += (int64_t)n;
    return 0;
}

int track_results_store(track_results *r, const sam2_frame_result *fr, sam2_error *err) {
    const int f = fr->frame_index;
    if (f < 0 || f >= r->num_frames || fr->width != r->width || fr->height != r->height)
        return sam2_fail(err, SAM2_ERR_STATE, "frame result %d does not fit the video", f);
    if (!r->file && open_file(r, err)) return -1;
    /* To the end: a read back may have moved the position (and stdio wants a seek between a
     * read and a write). A failed frame's partial strings are dead bytes before the next. */
    if (fseeko(r->file, (off_t)r->file_end, SEEK_SET) != 0)
        return sam2_fail(err, SAM2_ERR_IO, "cannot seek in the results file: %s", strerror(errno));
    mask_rle *m = calloc((size_t)(fr->num_objects ? fr->num_objects : 1), sizeof *m);
    if (!m) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory storing frame %d", f);
    const size_t hw = (size_t)r->width * r->height;
    const int64_t start = r->file_end;
    for (int i = 0; i < fr->num_objects; i++) {
        m[i].id = fr->object_ids[i];
        m[i].score = fr->object_scores[i];
        int rc = mask_rle_from_logits(fr->logits + (size_t)i * hw, r->height, r->width, r->scratch,
                                      &m[i], err);
        if (!rc) rc = append(r, m[i].counts, err);
        free(m[i].counts);
        m[i].counts = NULL; /* the string is in the file */
        if (rc) {
            free(m);
            return -1;
        }
    }
    free(r->frames[f].masks);
    r->frames[f].masks = m;
    r->frames[f].n = fr->num_objects;
    r->offsets[f] = start;
    r->sizes[f] = (size_t)(r->file_end - start);
    return 0;
}

int track_results_frames(const track_results *r) {
    int n = 0;
    for (int f = 0; f < r->num_frames; f++) n += r->frames[f].n > 0;
    return n;
}

int track_results_load(track_results *r, int f, const mask_frame **out, sam2_error *err) {
    const mask_frame *src = &r->frames[f];
    const size_t size = r->sizes[f];
    if (src->n > r->loaded_cap) {
        mask_rle *grown = realloc(r->loaded.masks, (size_t)src->n * sizeof *grown);
        if (!grown) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory reading frame %d", f);
        r->loaded.masks = grown;
        r->loaded_cap = src->n;
    }
    if (size > r->buf_cap) {
        char *grown = realloc(r->buf, size);
        if (!grown) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory reading frame %d", f);
        r->buf = grown;
        r->buf_cap = size;
    }
    if (src->n && (!r->file || fseeko(r->file, (off_t)r->offsets[f], SEEK_SET) != 0 ||
                   fread(r->buf, 1, size, r->file) != size))
        return sam2_fail(err, SAM2_ERR_IO, "cannot read frame %d back from the results file", f);
    /* One NUL-terminated string per mask, as track_results_store wrote them. */
    size_t pos = 0;
    for (int i = 0; i < src->n; i++) {
        const char *end = pos < size ? memchr(r->buf + pos, '\0', size - pos) : NULL;
        if (!end)
            return sam2_fail(err, SAM2_ERR_FORMAT, "the results file is damaged at frame %d", f);
        r->loaded.masks[i] = src->masks[i];
        r->loaded.masks[i].counts = r->buf + pos;
        pos = (size_t)(end - r->buf) + 1;
    }
    r->loaded.frame = src->frame;
    r->loaded.n = src->n;
    *out = &r->loaded;
    return 0;
}
