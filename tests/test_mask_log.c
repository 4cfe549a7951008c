/* The mask log (src/app/mask_log.c) as a table: a RAM budget, whether past it frames spill to
 * the file or are refused, and a sequence of puts; every frame must read back exactly as it was
 * put, wherever it ended up, and the byte counts must say where that was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "app/mask_log.h"
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAMES 6
#define MAX_PUTS 8

typedef struct put_step {
    int frame;
    int n;       /* masks (0: forget the frame) */
    size_t len;  /* each string's length */
    int want_rc; /* 0 stored, 1 refused */
} put_step;

/* Mask i of a put: id 10 + i, and a string that names the step, so a stale read shows. */
static void fill(mask_rle *m, int n, size_t len, int step) {
    for (int i = 0; i < n; i++) {
        m[i] =
            (mask_rle){.id = 10 + i, .score = 0.5f * (float)i, .area = i, .height = 3, .width = 4};
        m[i].counts = malloc(len + 1);
        for (size_t k = 0; k < len; k++)
            m[i].counts[k] = (char)('a' + (step * 7 + i + (int)k) % 26);
        m[i].counts[len] = '\0';
    }
}

static void free_masks(mask_rle *m, int n) {
    for (int i = 0; i < n; i++) free(m[i].counts);
}

static void check_frame(mask_log *l, int f, const mask_rle *want, int n, const char *what) {
    mask_log_ref *ref;
    sam2_error err = {0};
    const mask_frame *got = mask_log_get(l, f, &ref, &err);
    if (!got) fail_msg("%s: frame %d: %s", what, f, err.message);
    if (got->n != n) fail_msg("%s: frame %d has %d masks, expected %d", what, f, got->n, n);
    assert_int_equal(got->frame, f);
    for (int i = 0; i < n; i++) {
        assert_int_equal(got->masks[i].id, want[i].id);
        assert_true(got->masks[i].score == want[i].score);
        assert_int_equal(got->masks[i].area, want[i].area);
        if (strcmp(got->masks[i].counts, want[i].counts))
            fail_msg("%s: frame %d mask %d reads back '%.20s', put '%.20s'", what, f, i,
                     got->masks[i].counts, want[i].counts);
    }
    mask_log_unref(ref);
}

static void test_table(void **state) {
    (void)state;
    static const struct {
        const char *what;
        size_t budget; /* bytes beyond the empty log's (0: unlimited) */
        int spill;
        put_step puts[MAX_PUTS];
        int n_puts;
        int spilled_frames; /* frames whose strings must be in the file at the end */
    } CASES[] = {
        {"RAM only, unlimited", 0, 0, {{0, 2, 100, 0}, {3, 1, 5000, 0}, {5, 3, 10, 0}}, 3, 0},
        {"RAM only, over the budget: refused",
         3000,
         0,
         {{0, 2, 1000, 0}, {1, 2, 1000, 1}, {2, 1, 10, 0}},
         3,
         0},
        {"spilled past the budget",
         3000,
         1,
         {{0, 2, 1000, 0}, {1, 2, 1000, 0}, {2, 2, 1000, 0}, {3, 1, 10, 0}},
         4,
         2},
        {"everything spilled", 1, 1, {{0, 1, 50, 0}, {1, 3, 700, 0}, {4, 2, 1, 0}}, 3, 3},
        {"a spilled frame replaced and forgotten",
         1,
         1,
         {{2, 2, 300, 0}, {2, 1, 40, 0}, {3, 2, 9, 0}, {3, 0, 0, 0}},
         4,
         1},
        {"empty masks strings", 1, 1, {{1, 2, 0, 0}}, 1, 1},
    };
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        mask_log *probe = mask_log_new(FRAMES, NULL);
        const size_t empty = mask_log_ram_bytes(probe);
        mask_log_free(probe);
        const mask_log_options opt = {.ram_budget = CASES[c].budget ? empty + CASES[c].budget : 0,
                                      .spill = CASES[c].spill,
                                      .spill_dir = test_make_tmpdir()};
        mask_log *l = mask_log_new(FRAMES, &opt);
        assert_non_null(l);
        mask_rle want[FRAMES][4];
        int want_n[FRAMES] = {0};
        for (int p = 0; p < CASES[c].n_puts; p++) {
            const put_step *s = &CASES[c].puts[p];
            mask_rle m[4];
            fill(m, s->n, s->len, p);
            sam2_error err = {0};
            const int rc = mask_log_put(l, s->frame, m, s->n, &err);
            if (rc != s->want_rc)
                fail_msg("%s: put %d returned %d (%s), expected %d", CASES[c].what, p, rc,
                         err.message, s->want_rc);
            free_masks(want[s->frame], want_n[s->frame]);
            want_n[s->frame] = rc ? 0 : s->n; /* a refused frame is empty */
            if (rc)
                free_masks(m, s->n);
            else
                memcpy(want[s->frame], m, sizeof(mask_rle) * (size_t)s->n);
        }
        /* Reread twice: a read back must not disturb the frame or the next read. */
        for (int pass = 0; pass < 2; pass++)
            for (int f = 0; f < FRAMES; f++) {
                assert_int_equal(mask_log_count(l, f), want_n[f]);
                check_frame(l, f, want[f], want_n[f], CASES[c].what);
            }
        size_t text_total = 0;
        int live_frames = 0;
        for (int f = 0; f < FRAMES; f++) {
            for (int i = 0; i < want_n[f]; i++) text_total += strlen(want[f][i].counts) + 1;
            live_frames += want_n[f] > 0;
        }
        if (!CASES[c].spill) {
            assert_int_equal(mask_log_spilled_bytes(l), 0);
            assert_true(mask_log_ram_bytes(l) >= empty + text_total);
        } else if (CASES[c].spilled_frames == live_frames) {
            /* every live string is in the file (replaced or forgotten ones no longer count) */
            assert_int_equal(mask_log_spilled_bytes(l), text_total);
        } else {
            /* some frames stayed in RAM within the budget */
            assert_true(mask_log_spilled_bytes(l) > 0);
            assert_true(mask_log_spilled_bytes(l) < text_total);
        }
        if (opt.ram_budget && !CASES[c].spill) assert_true(mask_log_ram_bytes(l) <= opt.ram_budget);
        for (int f = 0; f < FRAMES; f++) free_masks(want[f], want_n[f]);
        mask_log_free(l);
    }
    test_cleanup_tmpdir();
}

/* A reference taken before a frame is replaced keeps the old masks readable. */
static void test_reference_outlives_replace(void **state) {
    (void)state;
    const mask_log_options opt = {.ram_budget = 1, .spill = 1, .spill_dir = test_make_tmpdir()};
    mask_log *l = mask_log_new(2, &opt);
    mask_rle a[1], b[1];
    fill(a, 1, 30, 1);
    fill(b, 1, 30, 2);
    assert_int_equal(mask_log_put(l, 1, a, 1, NULL), 0);
    mask_log_ref *ref;
    const mask_frame *old = mask_log_get(l, 1, &ref, NULL);
    assert_non_null(old);
    assert_int_equal(mask_log_put(l, 1, b, 1, NULL), 0);
    assert_string_equal(old->masks[0].counts, a[0].counts);
    mask_log_unref(ref);
    check_frame(l, 1, b, 1, "replaced");
    /* frames outside the log are refused */
    sam2_error err = {0};
    assert_int_equal(mask_log_put(l, 2, a, 1, &err), SAM2_ERR_ARGUMENT);
    assert_null(mask_log_get(l, -1, &ref, &err));
    free_masks(a, 1);
    free_masks(b, 1);
    mask_log_free(l);
    test_cleanup_tmpdir();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_reference_outlives_replace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
