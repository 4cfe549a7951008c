/* Scratch arenas: blocks are aligned and distinct, marks release what came after them (freeing
 * the chunks opened since, so a first pass holds no more than its high-water mark), and after one
 * reset the same sequence of allocations needs no malloc at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/arena.h"

#include <stdint.h>
#include <string.h>

#define MB (1024u * 1024u)

/* One "forward pass": a persistent result, then two stages whose temporaries are released. */
static void pass(arena *a, float **result) {
    *result = arena_floats(a, 1000, 1);
    assert_non_null(*result);
    for (int stage = 0; stage < 2; stage++) {
        arena_mark m = arena_get_mark(a);
        float *big = arena_floats(a, (size_t)(3 + stage) * MB / sizeof(float), 0);
        float *small = arena_floats(a, 17, 0);
        assert_non_null(big);
        assert_non_null(small);
        big[0] = 1.0f;
        small[16] = 2.0f;
        arena_release(a, m);
    }
}

static void test_blocks_are_aligned_and_distinct(void **state) {
    (void)state;
    arena a;
    arena_init(&a);
    unsigned char *p = arena_alloc(&a, 3);
    unsigned char *q = arena_alloc(&a, 100);
    unsigned char *r = arena_alloc(&a, 2 * MB); /* does not fit the first chunk */
    assert_non_null(p);
    assert_non_null(q);
    assert_non_null(r);
    assert_int_equal((uintptr_t)p % 64, 0);
    assert_int_equal((uintptr_t)q % 64, 0);
    assert_int_equal((uintptr_t)r % 64, 0);
    assert_true(q >= p + 64);
    memset(p, 0xAA, 3);
    memset(q, 0xBB, 100);
    memset(r, 0xCC, 2 * MB);
    assert_int_equal(p[2], 0xAA);
    assert_int_equal(q[99], 0xBB);
    float *z = arena_floats(&a, 64, 1);
    for (int i = 0; i < 64; i++) assert_true(z[i] == 0.0f);
    arena_free(&a);
}

static void test_release_frees_newer_chunks(void **state) {
    (void)state;
    arena a;
    arena_init(&a);
    float *keep = arena_floats(&a, 16, 0);
    keep[15] = 42.0f;
    arena_mark m = arena_get_mark(&a);
    assert_non_null(arena_floats(&a, 8 * MB / sizeof(float), 0));
    assert_non_null(arena_floats(&a, 8 * MB / sizeof(float), 0));
    const size_t grown = a.capacity;
    assert_true(grown >= 16 * MB);
    arena_release(&a, m);
    assert_true(a.capacity < 2 * MB); /* only the first chunk is left */
    assert_true(keep[15] == 42.0f);
    /* the released space is handed out again, right after the kept block */
    float *again = arena_floats(&a, 16, 0);
    assert_ptr_equal(again, keep + 16);
    arena_free(&a);
}

static void test_second_pass_allocates_nothing(void **state) {
    (void)state;
    arena a;
    arena_init(&a);
    float *r1;
    pass(&a, &r1);
    const size_t hw = a.high_water;
    assert_true(hw >= 4 * MB + 4000);
    assert_true(hw < 5 * MB); /* the two stages never coexist */
    arena_reset(&a);
    const int before = a.allocations;
    float *r2;
    pass(&a, &r2);
    assert_int_equal(a.allocations, before);
    assert_true(a.capacity < 5 * MB + 64 * 1024);
    arena_reset(&a);
    arena_free(&a);
}

/* A small request after a big chunk opens a small chunk, not another big one. */
static void test_growth_is_what_was_asked(void **state) {
    (void)state;
    arena a;
    arena_init(&a);
    assert_non_null(arena_floats(&a, 40 * MB / sizeof(float), 0));
    const size_t big = a.capacity;
    assert_true(big >= 40 * MB);
    assert_non_null(arena_floats(&a, 1000, 0)); /* does not fit the full 40 MB chunk */
    assert_true(a.capacity - big <= 2 * MB);
    assert_non_null(arena_floats(&a, 3 * MB / sizeof(float), 0));
    assert_true(a.capacity - big <= 2 * MB + 3 * MB + 64);
    arena_free(&a);
}

/* Grow-by-chunk mode (document trees): small aligned blocks packed into small chunks, zero-filled
 * when asked, and refused past the limit instead of growing without bound. */
static void test_small_mode_packs_and_stops_at_limit(void **state) {
    (void)state;
    arena a;
    arena_init_small(&a, 4096, 10000);
    char *p = arena_zalloc(&a, 5);
    char *q = arena_zalloc(&a, 5);
    assert_non_null(p);
    assert_non_null(q);
    assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
    assert_int_equal((uintptr_t)q % _Alignof(max_align_t), 0);
    assert_true((size_t)(q - p) < 64); /* packed, not one 64-byte slot each */
    assert_int_equal(a.capacity, 4096);
    char *s = arena_strndup(&a, "graphql!", 7);
    assert_string_equal(s, "graphql");
    size_t n = 0;
    while (arena_zalloc(&a, 1000)) n++;
    assert_true(n >= 8 && n <= 10); /* the 10000-byte budget, nothing more */
    assert_true(a.used_total <= 10000);
    memset(p, 7, 5);
    arena_free(&a);
    assert_int_equal(a.limit, 10000); /* the mode survives a free, ready for reuse */
    char *z = arena_zalloc(&a, 32);
    assert_non_null(z);
    for (int i = 0; i < 32; i++) assert_int_equal(z[i], 0);
    arena_free(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks_are_aligned_and_distinct),
        cmocka_unit_test(test_release_frees_newer_chunks),
        cmocka_unit_test(test_second_pass_allocates_nothing),
        cmocka_unit_test(test_growth_is_what_was_asked),
        cmocka_unit_test(test_small_mode_packs_and_stops_at_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
