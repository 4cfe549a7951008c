/* mask_rle_from_logits (app/mask_rle.c), the one threshold-and-RLE step of the server and
 * `sam2 track`, as a table of logits -> counts string and area. The counts are worked out by
 * hand from io/rle.h's format (column-major runs starting with zeros; run i > 2 written as the
 * difference to run i-2; 5-bit groups, 0x20 while more follow, 48 added). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "app/mask_rle.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PIXELS 32

static void test_table(void **state) {
    (void)state;
    static const struct {
        const char *what;
        int height, width;
        float logits[MAX_PIXELS]; /* row-major */
        const char *counts;
        int64_t area;
    } CASES[] = {
        {"all background", 2, 3, {-1, -2, -3, -4, -5, -6}, "6", 0},
        {"all object", 3, 1, {5, 5, 5}, "03", 3},
        /* [[1,-1],[0,2]]: column-major 1,0,0,1 -> runs 0,1,2,1 -> 0,1,2,(1-1) */
        {"diagonal", 2, 2, {1, -1, 0, 2}, "0120", 2},
        /* The threshold is > 0: NaN and -0 are background, +inf and the smallest positive
         * float are object. */
        {"edge values", 1, 4, {NAN, -0.0f, INFINITY, 1e-45f}, "22", 2},
        /* A run of 20: group 20 (0x10 set, so a group of 0 follows): 'd' then '0'. */
        {"long run",
         1,
         20,
         {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
         "0d0",
         20},
        /* [[0,1,1],[1,1,0]]: column-major 0,1,1,1,1,0 -> runs 1,4,1 */
        {"rows", 2, 3, {0, 1, 1, 1, 1, 0}, "141", 4},
    };
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        uint8_t scratch[MAX_PIXELS];
        mask_rle m = {.id = 7, .score = 2.5f};
        sam2_error err = {0};
        if (mask_rle_from_logits(CASES[c].logits, CASES[c].height, CASES[c].width, scratch, &m,
                                 &err))
            fail_msg("%s: %s", CASES[c].what, err.message);
        if (strcmp(m.counts, CASES[c].counts) || m.area != CASES[c].area)
            fail_msg("%s: counts '%s' area %lld, expected '%s' %lld", CASES[c].what, m.counts,
                     (long long)m.area, CASES[c].counts, (long long)CASES[c].area);
        assert_int_equal(m.height, CASES[c].height);
        assert_int_equal(m.width, CASES[c].width);
        assert_int_equal(m.id, 7); /* the caller's fields stay */
        assert_true(m.score == 2.5f);
        /* scratch holds the thresholded mask */
        for (int k = 0; k < CASES[c].height * CASES[c].width; k++)
            assert_int_equal(scratch[k], CASES[c].logits[k] > 0.0f);
        free(m.counts);
    }
}

static void test_bad_size(void **state) {
    (void)state;
    const float logits[1] = {1};
    uint8_t scratch[1];
    mask_rle m = {0};
    sam2_error err = {0};
    assert_int_not_equal(mask_rle_from_logits(logits, -1, 1, scratch, &m, &err), 0);
    assert_int_equal(err.code, SAM2_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "1x-1"));
    assert_null(m.counts);
}

/* The public API under it (include/sam2.h): another threshold, then RLE and back. */
static void test_public_threshold_and_round_trip(void **state) {
    (void)state;
    const float logits[6] = {0.5f, 2.0f, -3.0f, 1.0f, NAN, 1.5f};
    uint8_t bits[6], back[6];
    sam2_mask m = {.bits = bits};
    assert_int_equal(sam2_mask_from_logits(logits, 3, 2, 1.0f, &m), 2);
    assert_int_equal(m.width, 3);
    assert_int_equal(m.height, 2);
    for (int k = 0; k < 6; k++) assert_int_equal(bits[k], logits[k] > 1.0f);
    assert_int_equal(sam2_mask_from_logits(logits, -1, 2, 0.0f, &m), -1);
    assert_int_equal(sam2_mask_from_logits(logits, 3, 2, 0.0f, NULL), -1);

    sam2_mask_from_logits(logits, 3, 2, 1.0f, &m);
    sam2_rle rle;
    sam2_error err = {0};
    assert_int_equal(sam2_mask_to_rle(&m, &rle, &err), 0);
    assert_int_equal(rle.area, 2);
    assert_int_equal(rle.width, 3);
    assert_int_equal(rle.height, 2);
    sam2_mask decoded = {.bits = back};
    assert_int_equal(sam2_rle_to_mask(&rle, &decoded, &err), 0);
    assert_memory_equal(back, bits, sizeof bits);
    /* the same string as the server's and the CLI's records */
    mask_rle rec = {0};
    uint8_t scratch[6];
    const float shifted[6] = {-0.5f, 1.0f, -4.0f, 0.0f, NAN, 0.5f}; /* logits - 1 */
    assert_int_equal(mask_rle_from_logits(shifted, 2, 3, scratch, &rec, &err), 0);
    assert_string_equal(rec.counts, rle.counts);
    free(rec.counts);
    sam2_rle_free(&rle);
    assert_null(rle.counts);

    /* a string whose runs do not cover the mask is refused */
    sam2_rle bad = {.width = 3, .height = 2, .counts = "9"};
    assert_int_equal(sam2_rle_to_mask(&bad, &decoded, &err), SAM2_ERR_FORMAT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_public_threshold_and_round_trip),
        cmocka_unit_test(test_bad_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
