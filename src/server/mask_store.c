#include "server/mask_store.h"

#include "app/mask_log.h"
#include "sam2.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The masks live in a mask log (app/mask_log.h) in RAM only, its budget the store's limit;
 * the store adds which frames are lost and the session-wide operations. */
struct mask_store {
    mask_log *log;
    pthread_mutex_t mu; /* guards lost and n_lost */
    int n_frames;
    size_t limit;
    uint8_t *lost; /* [n_frames] */
    int n_lost;
};

mask_store *mask_store_new(int n_frames, size_t limit_bytes) {
    mask_store *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->n_frames = n_frames > 0 ? n_frames : 0;
    const mask_log_options opt = {.ram_budget = limit_bytes};
    m->log = mask_log_new(m->n_frames, &opt);
    m->lost = calloc((size_t)(m->n_frames ? m->n_frames : 1), 1);
    if (!m->log || !m->lost) {
        mask_log_free(m->log);
        free(m->lost);
        free(m);
        return NULL;
    }
    pthread_mutex_init(&m->mu, NULL);
    m->limit = limit_bytes;
    return m;
}

void mask_store_free(mask_store *m) {
    if (!m) return;
    mask_log_free(m->log);
    pthread_mutex_destroy(&m->mu);
    free(m->lost);
    free(m);
}

static void set_lost(mask_store *m, int f, int lost) {
    pthread_mutex_lock(&m->mu);
    if (m->lost[f] != lost) m->n_lost += lost ? 1 : -1;
    m->lost[f] = (uint8_t)lost;
    pthread_mutex_unlock(&m->mu);
}

/* Stores the frame's masks, or marks it lost when they do not fit (its older masks, being out
 * of date, are gone either way). */
static int put_frame(mask_store *m, int f, const mask_rle *masks, int n) {
    const int lost = mask_log_put(m->log, f, masks, n, NULL) != 0;
    set_lost(m, f, lost);
    return lost;
}

int mask_store_put(mask_store *m, const inf_frame *fr) {
    const int f = fr->frame_index;
    if (f < 0 || f >= m->n_frames) return -1;
    return put_frame(m, f, fr->masks, fr->n > 0 ? fr->n : 0);
}

void mask_store_remove_object(mask_store *m, int object_id) {
    /* Only the session's request writes, so a frame read here is still current when replaced. */
    for (int f = 0; f < m->n_frames; f++) {
        if (!mask_log_count(m->log, f)) continue;
        mask_log_ref *ref;
        const mask_frame *fr = mask_log_get(m->log, f, &ref, NULL);
        mask_rle *kept = fr ? malloc((size_t)fr->n * sizeof *kept) : NULL;
        if (!kept) {
            mask_log_put(m->log, f, NULL, 0, NULL); /* out of memory: the frame is lost */
            set_lost(m, f, 1);
            mask_log_unref(ref);
            continue;
        }
        int n = 0;
        for (int i = 0; i < fr->n; i++)
            if (fr->masks[i].id != object_id) kept[n++] = fr->masks[i];
        if (n < fr->n) put_frame(m, f, kept, n); /* smaller than before: always fits */
        free(kept);
        mask_log_unref(ref);
    }
}

void mask_store_clear(mask_store *m) {
    for (int f = 0; f < m->n_frames; f++) put_frame(m, f, NULL, 0);
}

size_t mask_store_bytes(mask_store *m) {
    return mask_log_ram_bytes(m->log); /* the limit bounds the log; lost[] is not counted */
}

size_t mask_store_limit(const mask_store *m) {
    return m->limit;
}

int mask_store_snapshot(mask_store *m, mask_snapshot *out, sam2_error *err) {
    memset(out, 0, sizeof *out);
    const size_t cap = (size_t)(m->n_frames ? m->n_frames : 1);
    out->frames = malloc(cap * sizeof *out->frames);
    out->blocks = malloc(cap * sizeof *out->blocks);
    if (!out->frames || !out->blocks) {
        mask_snapshot_free(out);
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for the masks of %d frames",
                         m->n_frames);
    }
    for (int f = 0; f < m->n_frames; f++) {
        if (!mask_log_count(m->log, f)) continue;
        mask_log_ref *ref;
        const mask_frame *fr = mask_log_get(m->log, f, &ref, err);
        if (!fr) {
            mask_snapshot_free(out);
            return err ? err->code : SAM2_ERR_NOMEM;
        }
        if (!fr->n) { /* forgotten since it was counted */
            mask_log_unref(ref);
            continue;
        }
        out->blocks[out->n] = ref;
        out->frames[out->n++] = *fr;
    }
    pthread_mutex_lock(&m->mu);
    out->lost = m->n_lost;
    pthread_mutex_unlock(&m->mu);
    return 0;
}

void mask_snapshot_free(mask_snapshot *s) {
    for (int i = 0; i < s->n; i++) mask_log_unref(s->blocks[i]);
    free(s->blocks);
    free(s->frames);
    memset(s, 0, sizeof *s);
}
