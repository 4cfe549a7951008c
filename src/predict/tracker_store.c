#include "core/error.h"
#include "predict/tracker_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- resident list (most recently used first) ---- */

static void lru_unlink(sam2_tracker *t, frame_out *fo) {
    if (fo->lru_prev)
        fo->lru_prev->lru_next = fo->lru_next;
    else if (t->lru_head == fo)
        t->lru_head = fo->lru_next;
    if (fo->lru_next)
        fo->lru_next->lru_prev = fo->lru_prev;
    else if (t->lru_tail == fo)
        t->lru_tail = fo->lru_prev;
    fo->lru_prev = fo->lru_next = NULL;
}

static void lru_push_front(sam2_tracker *t, frame_out *fo) {
    fo->lru_prev = NULL;
    fo->lru_next = t->lru_head;
    if (t->lru_head) t->lru_head->lru_prev = fo;
    t->lru_head = fo;
    if (!t->lru_tail) t->lru_tail = fo;
}

/* ---- spill file ---- */

static int spill_open(sam2_tracker *t, sam2_error *err) {
    if (t->spill) return 0;
    const char *dir = t->opt.spill_dir;
    if (!dir || !*dir) dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    snprintf(t->spill_path, sizeof t->spill_path, "%s/sam2-spill-XXXXXX", dir);
    int fd = mkstemp(t->spill_path);
    if (fd < 0) return sam2_fail(err, SAM2_ERR_IO, "cannot create a spill file in %s", dir);
    /* Unlinked at once: the data lives as long as the session, and nothing is left behind if
     * the process dies. */
    unlink(t->spill_path);
    t->spill = fdopen(fd, "w+b");
    if (!t->spill) {
        close(fd);
        return sam2_fail(err, SAM2_ERR_IO, "cannot open the spill file in %s", dir);
    }
    return 0;
}

static long take_slot(sam2_tracker *t) {
    if (t->nfree > 0) return t->free_slots[--t->nfree];
    return t->spill_slots++;
}

static void give_slot(sam2_tracker *t, long slot) {
    if (t->nfree == t->cap_free) {
        long cap = t->cap_free ? 2 * t->cap_free : 64;
        long *p = realloc(t->free_slots, sizeof(long) * cap);
        if (!p) return; /* the slot is lost (file grows); never fatal */
        t->free_slots = p;
        t->cap_free = cap;
    }
    t->free_slots[t->nfree++] = slot;
}

static int spill_one(sam2_tracker *t, frame_out *fo, sam2_error *err) {
    if (spill_open(t, err)) return -1;
    long slot = take_slot(t);
    if (fseeko(t->spill, (off_t)slot * (off_t)t->payload_bytes, SEEK_SET) != 0 ||
        fwrite(fo->payload, 1, t->payload_bytes, t->spill) != t->payload_bytes ||
        fflush(t->spill) != 0) {
        give_slot(t, slot);
        return sam2_fail(err, SAM2_ERR_IO, "cannot write the spill file (disk full?)");
    }
    lru_unlink(t, fo);
    free(fo->payload);
    fo->payload = NULL;
    fo->spill_slot = slot;
    t->resident_bytes -= t->payload_bytes;
    t->spilled_bytes += t->payload_bytes;
    return 0;
}

int fo_enforce_budget(sam2_tracker *t, sam2_error *err) {
    const size_t budget = t->opt.ram_budget_bytes;
    if (budget == 0) return 0;
    /* The most recently used entry always stays resident. */
    while (t->resident_bytes > budget && t->lru_tail && t->lru_tail != t->lru_head)
        if (spill_one(t, t->lru_tail, err)) return -1;
    return 0;
}

static int fo_touch(sam2_tracker *t, frame_out *fo, sam2_error *err) {
    if (fo->payload) {
        lru_unlink(t, fo);
        lru_push_front(t, fo);
        return 0;
    }
    unsigned char *p = malloc(t->payload_bytes);
    if (!p) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory loading spilled state");
    if (fseeko(t->spill, (off_t)fo->spill_slot * (off_t)t->payload_bytes, SEEK_SET) != 0 ||
        fread(p, 1, t->payload_bytes, t->spill) != t->payload_bytes) {
        free(p);
        return sam2_fail(err, SAM2_ERR_IO, "cannot read back the spill file");
    }
    give_slot(t, fo->spill_slot);
    fo->spill_slot = -1;
    fo->payload = p;
    t->resident_bytes += t->payload_bytes;
    t->spilled_bytes -= t->payload_bytes;
    lru_push_front(t, fo);
    return fo_enforce_budget(t, err);
}

/* ---- entries ---- */

frame_out *fo_new(sam2_tracker *t, bool has_maskmem, sam2_error *err) {
    frame_out *fo = calloc(1, sizeof *fo);
    if (fo) fo->obj_ptr = calloc((size_t)t->d, sizeof(float));
    if (fo && fo->obj_ptr) fo->payload = calloc(1, t->payload_bytes);
    if (!fo || !fo->obj_ptr || !fo->payload) {
        if (fo) free(fo->obj_ptr);
        free(fo);
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for tracking state");
        return NULL;
    }
    fo->has_maskmem = has_maskmem;
    fo->spill_slot = -1;
    t->resident_bytes += t->payload_bytes;
    lru_push_front(t, fo);
    return fo;
}

void fo_free(sam2_tracker *t, frame_out *fo) {
    if (!fo) return;
    if (fo->payload) {
        lru_unlink(t, fo);
        free(fo->payload);
        t->resident_bytes -= t->payload_bytes;
    } else if (fo->spill_slot >= 0) {
        give_slot(t, fo->spill_slot);
        t->spilled_bytes -= t->payload_bytes;
    }
    free(fo->obj_ptr);
    free(fo);
}

uint16_t *fo_maskmem(sam2_tracker *t, frame_out *fo, sam2_error *err) {
    if (!fo->has_maskmem || fo_touch(t, fo, err)) return NULL;
    return (uint16_t *)fo->payload;
}

float *fo_pred_masks(sam2_tracker *t, frame_out *fo, sam2_error *err) {
    if (fo_touch(t, fo, err)) return NULL;
    return (float *)(fo->payload + (size_t)t->MT * t->md * sizeof(uint16_t));
}

int fo_add_maskmem(sam2_tracker *t, frame_out *fo, sam2_error *err) {
    if (fo_touch(t, fo, err)) return -1;
    fo->has_maskmem = true;
    return 0;
}

/* ---- maps ---- */

frame_out *map_get(const obj_state *o, map_kind k, int frame) {
    return o->maps[k].at[frame];
}

void map_set(sam2_tracker *t, obj_state *o, map_kind k, int frame, frame_out *fo) {
    out_map *m = &o->maps[k];
    frame_out *old = m->at[frame];
    if (old == fo) return;
    fo->seq = old ? old->seq : m->next_seq++;
    if (old) fo_free(t, old);
    m->at[frame] = fo;
}

frame_out *map_pop(obj_state *o, map_kind k, int frame) {
    frame_out *fo = o->maps[k].at[frame];
    o->maps[k].at[frame] = NULL;
    return fo;
}

void map_clear(sam2_tracker *t, obj_state *o, map_kind k) {
    for (int f = 0; f < t->num_frames; f++) {
        fo_free(t, o->maps[k].at[f]);
        o->maps[k].at[f] = NULL;
    }
}

typedef struct seq_frame {
    long seq;
    int frame;
} seq_frame;

static int cmp_seq(const void *a, const void *b) {
    long sa = ((const seq_frame *)a)->seq, sb = ((const seq_frame *)b)->seq;
    return (sa > sb) - (sa < sb);
}

int map_frames_in_order(const sam2_tracker *t, const obj_state *o, map_kind k, int *frames) {
    int n = 0;
    for (int f = 0; f < t->num_frames; f++) n += o->maps[k].at[f] != NULL;
    if (n == 0) return 0;
    seq_frame *tmp = n ? malloc(sizeof *tmp * (size_t)n) : NULL;
    if (n && !tmp) { /* fall back to frame order; only the float summation order changes */
        int i = 0;
        for (int f = 0; f < t->num_frames; f++)
            if (o->maps[k].at[f]) frames[i++] = f;
        return n;
    }
    int i = 0;
    for (int f = 0; f < t->num_frames; f++)
        if (o->maps[k].at[f]) tmp[i++] = (seq_frame){o->maps[k].at[f]->seq, f};
    if (n > 1) qsort(tmp, (size_t)n, sizeof *tmp, cmp_seq); /* qsort(NULL, 0) is UB */
    for (i = 0; i < n; i++) frames[i] = tmp[i].frame;
    free(tmp);
    return n;
}

void point_set_free(point_set *p) {
    if (!p) return;
    free(p->xy);
    free(p->labels);
    free(p);
}

void obj_free(sam2_tracker *t, obj_state *o) {
    if (o->points)
        for (int f = 0; f < t->num_frames; f++) point_set_free(o->points[f]);
    if (o->masks)
        for (int f = 0; f < t->num_frames; f++) free(o->masks[f]);
    for (int k = 0; k < 4; k++)
        if (o->maps[k].at) {
            map_clear(t, o, (map_kind)k);
            free(o->maps[k].at);
        }
    free(o->points);
    free(o->masks);
    free(o->tracked);
    memset(o, 0, sizeof *o);
}

void store_close(sam2_tracker *t) {
    if (t->spill) fclose(t->spill);
    t->spill = NULL;
    free(t->free_slots);
    t->free_slots = NULL;
    t->nfree = t->cap_free = 0;
    t->spill_slots = 0;
}
