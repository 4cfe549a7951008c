/* See tracker_cancel.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "predict/tracker.h"
#include "predict/tracker_internal.h"
#include "support/tracker_cancel.h"

#include <stdlib.h>
#include <string.h>

#define MAX_FRAMES 64

typedef struct counter {
    int calls, stop_at; /* stop_at 0: never */
} counter;

static int count_check(void *user) {
    counter *c = user;
    return ++c->calls == c->stop_at;
}

typedef struct seen {
    int n;
    int order[MAX_FRAMES];
    float *logits; /* [MAX_FRAMES][per] */
    size_t per;
} seen;

static int see(void *user, const sam2_frame_result *r) {
    seen *s = user;
    const size_t n = (size_t)r->num_objects * r->width * r->height;
    if (!s->logits) {
        s->per = n;
        s->logits = calloc(MAX_FRAMES * n, sizeof(float));
        assert_non_null(s->logits);
    }
    assert_true(n == s->per && s->n < MAX_FRAMES);
    memcpy(s->logits + (size_t)s->n * n, r->logits, n * sizeof(float));
    s->order[s->n++] = r->frame_index;
    return 0;
}

/* Every stored entry of a and b (both dicts) is present in both or neither, and equal. */
static void same_state(sam2_tracker *a, sam2_tracker *b, int frames, int k) {
    const size_t d = (size_t)a->d, ll = (size_t)a->L * a->L, mm = (size_t)a->MT * a->md;
    float *pa = malloc(sizeof(float) * (d + ll)), *pb = malloc(sizeof(float) * (d + ll));
    uint16_t *ma = malloc(sizeof(uint16_t) * mm), *mb = malloc(sizeof(uint16_t) * mm);
    assert_true(pa && pb && ma && mb);
    int ids[64];
    const int nobj = sam2_tracker_object_ids(a, ids, 64);
    assert_int_equal(nobj, b->nobj);
    for (int i = 0; i < nobj; i++)
        for (int f = 0; f < frames; f++)
            for (int s = TRACKER_COND; s <= TRACKER_TEMP_NONCOND; s++) {
                tracker_entry ea = {.obj_ptr = pa, .pred_masks = pa + d, .maskmem_bf16 = ma};
                tracker_entry eb = {.obj_ptr = pb, .pred_masks = pb + d, .maskmem_bf16 = mb};
                memset(ma, 0, sizeof(uint16_t) * mm);
                memset(mb, 0, sizeof(uint16_t) * mm);
                const int ra = tracker_get_entry(a, ids[i], f, (tracker_store)s, &ea, NULL);
                const int rb = tracker_get_entry(b, ids[i], f, (tracker_store)s, &eb, NULL);
                if ((ra == 0) != (rb == 0))
                    fail_msg("cancel at check %d: object %d frame %d store %d: entry %s", k, ids[i],
                             f, s, ra == 0 ? "missing" : "extra");
                if (ra) continue;
                if (ea.has_maskmem != eb.has_maskmem ||
                    memcmp(&ea.object_score, &eb.object_score, sizeof(float)) ||
                    memcmp(pa, pb, sizeof(float) * (d + ll)) ||
                    memcmp(ma, mb, sizeof(uint16_t) * mm))
                    fail_msg("cancel at check %d: object %d frame %d store %d differs", k, ids[i],
                             f, s);
            }
    free(pa);
    free(pb);
    free(ma);
    free(mb);
}

/* Cancels at check k, checks the abandoned frame left nothing, resumes, compares. */
static void cancel_at(tracker_cancel_open_fn open, int frames, int k, sam2_tracker *ref,
                      const seen *want) {
    sam2_error err = {0};
    sam2_tracker *t = open();
    counter c = {.stop_at = k};
    sam2_tracker_set_cancel_check(t, count_check, &c);
    seen got = {0};
    assert_int_equal(sam2_tracker_propagate(t, 0, -1, 0, see, &got, &err), SAM2_ERR_CANCELLED);
    assert_non_null(strstr(err.message, "cancelled"));
    const int next = got.n ? got.order[got.n - 1] + 1 : 0;
    for (int i = 0; i < t->nobj && next < frames; i++)
        if (map_get(&t->objs[i], MAP_NONCOND, next))
            fail_msg("cancel at check %d left an entry on frame %d", k, next);
    sam2_tracker_set_cancel_check(t, NULL, NULL);
    if (next < frames) assert_int_equal(sam2_tracker_propagate(t, next, -1, 0, see, &got, &err), 0);
    assert_int_equal(got.n, want->n);
    assert_memory_equal(got.order, want->order, sizeof(int) * (size_t)want->n);
    if (memcmp(got.logits, want->logits, sizeof(float) * want->per * (size_t)want->n))
        fail_msg("cancel at check %d: the masks differ from an uncancelled run", k);
    same_state(ref, t, frames, k);
    free(got.logits);
    sam2_tracker_free(t);
}

void tracker_cancel_check_exact(tracker_cancel_open_fn open, int frames) {
    assert_true(frames <= MAX_FRAMES);
    sam2_error err = {0};
    sam2_tracker *ref = open();
    counter all = {0};
    sam2_tracker_set_cancel_check(ref, count_check, &all);
    seen want = {0};
    assert_int_equal(sam2_tracker_propagate(ref, 0, -1, 0, see, &want, &err), 0);
    assert_int_equal(want.n, frames);
    /* checks inside frames, not only between them */
    assert_true(all.calls > 2 * frames);
    /* every check of the first two tracked frames (each kind of boundary, on a frame with and
     * without cached features), and the very last one */
    const int per_frame = all.calls / (frames - 1);
    int last = 1 + 2 * per_frame;
    if (last > all.calls) last = all.calls;
    for (int k = 1; k <= last; k++) cancel_at(open, frames, k, ref, &want);
    cancel_at(open, frames, all.calls, ref, &want);
    free(want.logits);
    sam2_tracker_free(ref);
}
