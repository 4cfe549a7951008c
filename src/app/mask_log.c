#include "app/mask_log.h"

#include "core/error.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* One frame's masks in a single allocation: this header, n mask_rle, then (in RAM) the counts
 * strings. A spilled block has no strings: they are text_bytes at `offset` in the file. */
struct mask_log_ref {
    atomic_int refs;
    size_t bytes;      /* RAM the block holds */
    int64_t offset;    /* -1: the strings follow the masks */
    size_t text_bytes; /* the strings, each NUL-terminated */
    mask_frame f;
};
typedef struct mask_log_ref block;

struct mask_log {
    pthread_mutex_t mu;
    int n_frames;
    mask_log_options opt;
    size_t bytes;   /* blocks in RAM and the table */
    size_t spilled; /* live strings in the file */
    block **frames; /* [n_frames], NULL: no masks */
    FILE *file;     /* the spill file, unlinked, opened on the first spill */
    int64_t file_end;
};

static size_t table_bytes(int n_frames) {
    return sizeof(mask_log) + (size_t)n_frames * sizeof(block *);
}

mask_log *mask_log_new(int n_frames, const mask_log_options *opt) {
    mask_log *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->n_frames = n_frames > 0 ? n_frames : 0;
    l->frames = calloc((size_t)(l->n_frames ? l->n_frames : 1), sizeof *l->frames);
    if (!l->frames) {
        free(l);
        return NULL;
    }
    if (opt) l->opt = *opt;
    pthread_mutex_init(&l->mu, NULL);
    l->bytes = table_bytes(l->n_frames);
    return l;
}

void mask_log_unref(mask_log_ref *b) {
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) free(b);
}

void mask_log_free(mask_log *l) {
    if (!l) return;
    for (int f = 0; f < l->n_frames; f++) mask_log_unref(l->frames[f]);
    if (l->file) fclose(l->file);
    pthread_mutex_destroy(&l->mu);
    free(l->frames);
    free(l);
}

static size_t text_bytes(const mask_rle *src, int n) {
    size_t bytes = 0;
    for (int i = 0; i < n; i++) bytes += strlen(src[i].counts ? src[i].counts : "") + 1;
    return bytes;
}

/* A block with copies of src[0..n)'s headers and room for `text` bytes of strings after them
 * (the strings are the caller's to fill; counts point nowhere yet). */
static block *new_block(int frame, const mask_rle *src, int n, size_t text) {
    const size_t bytes = sizeof(block) + (size_t)n * sizeof(mask_rle) + text;
    block *b = malloc(bytes);
    if (!b) return NULL;
    atomic_init(&b->refs, 1);
    b->bytes = bytes;
    b->offset = -1;
    b->text_bytes = text;
    b->f.frame = frame;
    b->f.n = n;
    b->f.masks = (mask_rle *)(b + 1);
    for (int i = 0; i < n; i++) {
        b->f.masks[i] = src[i];
        b->f.masks[i].counts = NULL;
    }
    return b;
}

static char *block_text(block *b) {
    return (char *)(b->f.masks + b->f.n);
}

/* A block holding src[0..n) with their strings. */
static block *block_in_ram(int frame, const mask_rle *src, int n) {
    block *b = new_block(frame, src, n, text_bytes(src, n));
    if (!b) return NULL;
    char *text = block_text(b);
    for (int i = 0; i < n; i++) {
        const char *c = src[i].counts ? src[i].counts : "";
        const size_t len = strlen(c) + 1;
        memcpy(text, c, len);
        b->f.masks[i].counts = text;
        text += len;
    }
    return b;
}

/* Puts b (may be NULL) at frame f; returns the block it replaced, for the caller to release
 * outside the lock. Lock held. */
static block *swap_locked(mask_log *l, int f, block *b) {
    block *old = l->frames[f];
    if (old) {
        l->bytes -= old->bytes;
        if (old->offset >= 0) l->spilled -= old->text_bytes;
    }
    l->frames[f] = b;
    if (b) {
        l->bytes += b->bytes;
        if (b->offset >= 0) l->spilled += b->text_bytes;
    }
    return old;
}

/* The spill file: unlinked as soon as it exists, so nothing is left behind whatever happens to
 * the process. Lock held. */
static int open_spill(mask_log *l, sam2_error *err) {
    const char *dir = l->opt.spill_dir && *l->opt.spill_dir ? l->opt.spill_dir : getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    char path[4096];
    if (snprintf(path, sizeof path, "%s/sam2-masks-XXXXXX", dir) >= (int)sizeof path)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "the spill folder's path is too long");
    const int fd = mkstemp(path);
    if (fd < 0)
        return sam2_fail(err, SAM2_ERR_IO, "cannot create the masks' spill file in '%s': %s", dir,
                         strerror(errno));
    unlink(path);
    l->file = fdopen(fd, "w+b");
    if (!l->file) {
        close(fd);
        return sam2_fail(err, SAM2_ERR_IO, "cannot open the masks' spill file in '%s'", dir);
    }
    return 0;
}

/* b's strings appended to the spill file; returns the block that replaces b in RAM (headers
 * only), or NULL with err set. Takes b. Lock held. */
static block *spill_locked(mask_log *l, block *b, sam2_error *err) {
    if (!l->file && open_spill(l, err)) {
        mask_log_unref(b);
        return NULL;
    }
    /* To the end: a read back may have moved the position (and stdio wants a seek between a
     * read and a write). A failed write leaves dead bytes that the next one overwrites. */
    block *stub = new_block(b->f.frame, b->f.masks, b->f.n, 0);
    if (!stub)
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory spilling frame %d", b->f.frame);
    else if (fseeko(l->file, (off_t)l->file_end, SEEK_SET) != 0 ||
             fwrite(block_text(b), 1, b->text_bytes, l->file) != b->text_bytes) {
        sam2_fail(err, SAM2_ERR_IO, "cannot write the masks' spill file (disk full?): %s",
                  strerror(errno));
        free(stub);
        stub = NULL;
    }
    if (stub) {
        stub->offset = l->file_end;
        stub->text_bytes = b->text_bytes;
        l->file_end += (int64_t)b->text_bytes;
    }
    mask_log_unref(b);
    return stub;
}

int mask_log_put(mask_log *l, int frame, const mask_rle *masks, int n, sam2_error *err) {
    if (frame < 0 || frame >= l->n_frames)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "frame %d is outside the log (0..%d)", frame,
                         l->n_frames - 1);
    block *b = n > 0 ? block_in_ram(frame, masks, n) : NULL;
    int rc = n > 0 && !b ? 1 : 0; /* out of memory: the frame's older masks go */
    pthread_mutex_lock(&l->mu);
    const size_t old = l->frames[frame] ? l->frames[frame]->bytes : 0;
    const int fits = !l->opt.ram_budget || !b || l->bytes - old + b->bytes <= l->opt.ram_budget;
    if (!fits && l->opt.spill) {
        b = spill_locked(l, b, err);
        if (!b) rc = -1;
    } else if (!fits) {
        mask_log_unref(b);
        b = NULL;
        rc = 1;
    }
    block *released = swap_locked(l, frame, b);
    pthread_mutex_unlock(&l->mu);
    mask_log_unref(released);
    return rc;
}

/* A spilled block's strings read back into a new block. Lock held. */
static block *read_back_locked(mask_log *l, const block *stub, sam2_error *err) {
    block *b = new_block(stub->f.frame, stub->f.masks, stub->f.n, stub->text_bytes);
    if (!b) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory reading masks back"), NULL;
    char *text = block_text(b);
    if (fseeko(l->file, (off_t)stub->offset, SEEK_SET) != 0 ||
        fread(text, 1, stub->text_bytes, l->file) != stub->text_bytes) {
        free(b);
        return sam2_fail(err, SAM2_ERR_IO, "cannot read frame %d's masks back from the spill file",
                         stub->f.frame),
               NULL;
    }
    /* One NUL-terminated string per mask, as spill_locked wrote them. */
    size_t pos = 0;
    for (int i = 0; i < b->f.n; i++) {
        const char *end =
            pos < b->text_bytes ? memchr(text + pos, '\0', b->text_bytes - pos) : NULL;
        if (!end) {
            free(b);
            return sam2_fail(err, SAM2_ERR_FORMAT, "the spill file is damaged at frame %d",
                             stub->f.frame),
                   NULL;
        }
        b->f.masks[i].counts = text + pos;
        pos = (size_t)(end - text) + 1;
    }
    return b;
}

const mask_frame *mask_log_get(mask_log *l, int frame, mask_log_ref **ref, sam2_error *err) {
    *ref = NULL;
    if (frame < 0 || frame >= l->n_frames)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "frame %d is outside the log (0..%d)", frame,
                         l->n_frames - 1),
               NULL;
    pthread_mutex_lock(&l->mu);
    block *b = l->frames[frame];
    if (b && b->offset >= 0)
        b = read_back_locked(l, b, err);
    else if (b)
        atomic_fetch_add(&b->refs, 1);
    else if (!(b = new_block(frame, NULL, 0, 0)))
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    pthread_mutex_unlock(&l->mu);
    if (!b) return NULL;
    *ref = b;
    return &b->f;
}

int mask_log_count(mask_log *l, int frame) {
    if (frame < 0 || frame >= l->n_frames) return 0;
    pthread_mutex_lock(&l->mu);
    const int n = l->frames[frame] ? l->frames[frame]->f.n : 0;
    pthread_mutex_unlock(&l->mu);
    return n;
}

int mask_log_frames(const mask_log *l) {
    return l->n_frames;
}

size_t mask_log_ram_bytes(mask_log *l) {
    pthread_mutex_lock(&l->mu);
    const size_t n = l->bytes;
    pthread_mutex_unlock(&l->mu);
    return n;
}

size_t mask_log_spilled_bytes(mask_log *l) {
    pthread_mutex_lock(&l->mu);
    const size_t n = l->spilled;
    pthread_mutex_unlock(&l->mu);
    return n;
}
