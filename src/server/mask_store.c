#include "server/mask_store.h"

#include "sam2.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* One frame's masks in a single allocation: the header, n mask_rle, then the counts strings. */
typedef struct block {
    atomic_int refs;
    size_t bytes;
    mask_frame f;
} block;

struct mask_store {
    pthread_mutex_t mu;
    int n_frames;
    size_t limit, bytes;
    block **frames;  /* [n_frames], NULL: no masks */
    uint8_t *lost;   /* [n_frames] */
    int n_lost;
};

static size_t table_bytes(int n_frames) {
    return sizeof(mask_store) + (size_t)n_frames * (sizeof(block *) + 1);
}

mask_store *mask_store_new(int n_frames, size_t limit_bytes) {
    mask_store *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->n_frames = n_frames > 0 ? n_frames : 0;
    m->frames = calloc((size_t)(m->n_frames ? m->n_frames : 1), sizeof *m->frames);
    m->lost = calloc((size_t)(m->n_frames ? m->n_frames : 1), 1);
    if (!m->frames || !m->lost) {
        free(m->frames);
        free(m->lost);
        free(m);
        return NULL;
    }
    pthread_mutex_init(&m->mu, NULL);
    m->limit = limit_bytes;
    m->bytes = table_bytes(m->n_frames);
    return m;
}

static void unref(block *b) {
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) free(b);
}

void mask_store_free(mask_store *m) {
    if (!m) return;
    for (int f = 0; f < m->n_frames; f++) unref(m->frames[f]);
    pthread_mutex_destroy(&m->mu);
    free(m->frames);
    free(m->lost);
    free(m);
}

/* A block holding copies of src[0..n) with their strings. */
static block *make_block(int frame, const mask_rle *src, int n) {
    size_t bytes = sizeof(block) + (size_t)n * sizeof(mask_rle);
    for (int i = 0; i < n; i++) bytes += strlen(src[i].counts ? src[i].counts : "") + 1;
    block *b = malloc(bytes);
    if (!b) return NULL;
    atomic_init(&b->refs, 1);
    b->bytes = bytes;
    b->f.frame = frame;
    b->f.n = n;
    b->f.masks = (mask_rle *)(b + 1);
    char *text = (char *)(b->f.masks + n);
    for (int i = 0; i < n; i++) {
        const char *c = src[i].counts ? src[i].counts : "";
        const size_t len = strlen(c) + 1;
        memcpy(text, c, len);
        b->f.masks[i] = src[i];
        b->f.masks[i].counts = text;
        text += len;
    }
    return b;
}

/* Puts b (may be NULL: no masks; or the frame is lost when `lost`) at frame f; returns what it
 * replaced, for the caller to release outside the lock. Lock held. */
static block *swap_locked(mask_store *m, int f, block *b, int lost) {
    block *old = m->frames[f];
    if (old) m->bytes -= old->bytes;
    m->frames[f] = b;
    if (b) m->bytes += b->bytes;
    if (m->lost[f] != lost) m->n_lost += lost ? 1 : -1;
    m->lost[f] = (uint8_t)lost;
    return old;
}

/* Stores b at frame f within the limit, or marks the frame lost. Takes b. */
static int place(mask_store *m, int f, block *b) {
    pthread_mutex_lock(&m->mu);
    const size_t old = m->frames[f] ? m->frames[f]->bytes : 0;
    const int fits = !m->limit || !b || m->bytes - old + b->bytes <= m->limit;
    block *released = swap_locked(m, f, fits ? b : NULL, !fits);
    pthread_mutex_unlock(&m->mu);
    unref(released);
    if (!fits) unref(b);
    return fits ? 0 : 1;
}

static void mark_lost(mask_store *m, int f) {
    pthread_mutex_lock(&m->mu);
    block *released = swap_locked(m, f, NULL, 1);
    pthread_mutex_unlock(&m->mu);
    unref(released);
}

int mask_store_put(mask_store *m, const inf_frame *fr) {
    const int f = fr->frame_index;
    if (f < 0 || f >= m->n_frames) return -1;
    if (fr->n <= 0) return place(m, f, NULL);
    block *b = make_block(f, fr->masks, fr->n);
    if (!b) {
        mark_lost(m, f); /* out of memory: the stored masks are out of date, so they go */
        return 1;
    }
    return place(m, f, b);
}

static block *ref_frame(mask_store *m, int f) {
    pthread_mutex_lock(&m->mu);
    block *b = m->frames[f];
    if (b) atomic_fetch_add(&b->refs, 1);
    pthread_mutex_unlock(&m->mu);
    return b;
}

void mask_store_remove_object(mask_store *m, int object_id) {
    /* Only the session's request writes, so a frame read here is still current when replaced. */
    for (int f = 0; f < m->n_frames; f++) {
        block *b = ref_frame(m, f);
        if (!b) continue;
        mask_rle *src = malloc((size_t)b->f.n * sizeof *src);
        int n = 0, found = 0;
        for (int i = 0; src && i < b->f.n; i++) {
            const mask_rle *r = &b->f.masks[i];
            if (r->id == object_id) {
                found = 1;
                continue;
            }
            src[n++] = *r;
        }
        if (!src || found) {
            block *nb = src && n ? make_block(f, src, n) : NULL;
            if (!src || (n && !nb)) {
                mark_lost(m, f);
            } else {
                place(m, f, nb); /* smaller than before: always fits */
            }
        }
        free(src);
        unref(b);
    }
}

void mask_store_clear(mask_store *m) {
    for (int f = 0; f < m->n_frames; f++) {
        pthread_mutex_lock(&m->mu);
        block *old = swap_locked(m, f, NULL, 0);
        pthread_mutex_unlock(&m->mu);
        unref(old);
    }
}

size_t mask_store_bytes(mask_store *m) {
    pthread_mutex_lock(&m->mu);
    const size_t n = m->bytes;
    pthread_mutex_unlock(&m->mu);
    return n;
}

size_t mask_store_limit(const mask_store *m) { return m->limit; }

int mask_store_snapshot(mask_store *m, mask_snapshot *out, sam2_error *err) {
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&m->mu);
    int n = 0;
    for (int f = 0; f < m->n_frames; f++) n += m->frames[f] != NULL;
    out->frames = malloc((size_t)(n ? n : 1) * sizeof *out->frames);
    out->blocks = malloc((size_t)(n ? n : 1) * sizeof *out->blocks);
    if (!out->frames || !out->blocks) {
        pthread_mutex_unlock(&m->mu);
        mask_snapshot_free(out);
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for the masks of %d frames", n);
    }
    for (int f = 0; f < m->n_frames; f++) {
        block *b = m->frames[f];
        if (!b) continue;
        atomic_fetch_add(&b->refs, 1);
        out->blocks[out->n] = b;
        out->frames[out->n++] = b->f;
    }
    out->lost = m->n_lost;
    pthread_mutex_unlock(&m->mu);
    return 0;
}

void mask_snapshot_free(mask_snapshot *s) {
    for (int i = 0; i < s->n; i++) unref(s->blocks[i]);
    free(s->blocks);
    free(s->frames);
    memset(s, 0, sizeof *s);
}
