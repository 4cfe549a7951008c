/* COCO RLE (src/io/rle.c): every RLE string in the golden sets decodes to a mask with the
 * recorded foreground count (and, for image masks, the recorded sha256 of the whole mask) and
 * re-encodes to the identical string; hand-made edge cases; malformed strings are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/rle.h"
#include "app/sha256.h"
#include "support/golden.h"
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- hand-made cases ---------------------------------------------------------------------- */

static char *encode(const uint8_t *m, int h, int w) {
    char *s = NULL;
    sam2_error err = {0};
    if (rle_encode(m, h, w, &s, &err)) fail_msg("rle_encode %dx%d: %s", h, w, err.message);
    return s;
}

static void expect_encoding(const uint8_t *m, int h, int w, const char *want) {
    char *s = encode(m, h, w);
    assert_string_equal(s, want);
    uint8_t *back = malloc((size_t)h * w + 1);
    sam2_error err = {0};
    if (rle_decode(s, h, w, back, &err)) fail_msg("decode %s: %s", s, err.message);
    for (int i = 0; i < h * w; i++) assert_int_equal(back[i], m[i] != 0);
    free(back);
    free(s);
}

static void test_edge_cases(void **state) {
    (void)state;
    uint8_t m[16] = {0};
    expect_encoding(m, 0, 0, "0"); /* empty mask: one empty run of zeros */
    expect_encoding(m, 0, 5, "0");
    expect_encoding(m, 3, 4, "<"); /* 12 zeros: 48 + 12 */
    memset(m, 1, 12);
    expect_encoding(m, 3, 4, "0<"); /* empty zero run, then 12 ones */
    uint8_t one = 0;
    expect_encoding(&one, 1, 1, "1");
    one = 7; /* any nonzero byte is foreground */
    expect_encoding(&one, 1, 1, "01");
    /* 2x2, row-major [[1,0],[1,1]]: column-major 1,1,0,1 -> runs 0,2,1,1; the fourth run is
     * written as 1 - 2 = -1, i.e. group 31 with the sign bit: 'O' */
    uint8_t m2[4] = {1, 0, 1, 1};
    expect_encoding(m2, 2, 2, "021O");
    /* column-major order: a single foreground pixel at row 0, column 1 of a 2x3 mask is pixel 2 */
    uint8_t m3[6] = {0, 1, 0, 0, 0, 0};
    expect_encoding(m3, 2, 3, "213");
}

static void test_large_values(void **state) {
    (void)state;
    int h = 1000, w = 1200;
    uint8_t *m = calloc((size_t)h * w, 1);
    /* a block that starts after 10^6 - 1 zeros needs several 5-bit groups */
    for (int y = 500; y < 1000; y++)
        for (int x = 900; x < 1200; x++) m[(size_t)y * w + x] = 1;
    char *s = encode(m, h, w);
    uint32_t *runs;
    size_t n;
    sam2_error err = {0};
    assert_int_equal(rle_string_to_runs(s, &runs, &n, &err), 0);
    assert_true(n >= 3);
    assert_int_equal(runs[0], 900u * 1000 + 500);
    assert_int_equal(runs[1], 500u);
    free(runs);
    assert_int_equal(rle_area(s, h, w, &err), 500 * 300);
    free(s);
    free(m);
}

static uint32_t lcg(uint32_t *s) {
    return *s = *s * 1664525u + 1013904223u;
}

static void test_random_round_trip(void **state) {
    (void)state;
    uint32_t seed = 12345;
    const int sizes[][2] = {{1, 1}, {1, 37}, {41, 1}, {7, 9}, {64, 64}, {33, 130}, {256, 3}};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        int h = sizes[k][0], w = sizes[k][1];
        for (int density = 0; density <= 4; density++) {
            uint8_t *m = malloc((size_t)h * w), *back = malloc((size_t)h * w);
            for (int i = 0; i < h * w; i++) m[i] = (lcg(&seed) >> 8) % 4 < (uint32_t)density;
            char *s = encode(m, h, w);
            sam2_error err = {0};
            if (rle_decode(s, h, w, back, &err)) fail_msg("%dx%d: %s", h, w, err.message);
            assert_memory_equal(m, back, (size_t)h * w);
            /* the string is canonical: encoding the decoded mask gives it again */
            char *s2 = encode(back, h, w);
            assert_string_equal(s, s2);
            free(s), free(s2), free(m), free(back);
        }
    }
}

/* Writes one value the way rleToString does, for building malformed inputs. */
static void put_value(char *out, long long x) {
    size_t p = strlen(out);
    for (;;) {
        int c = (int)(x & 0x1f);
        x = (x - c) / 32;
        int more = (c & 0x10) ? x != -1 : x != 0;
        out[p++] = (char)(48 + c + (more ? 0x20 : 0));
        if (!more) break;
    }
    out[p] = 0;
}

static void expect_rejected(const char *counts, int h, int w, int code) {
    uint8_t m[64];
    sam2_error err = {0};
    int rc = rle_decode(counts, h, w, m, &err);
    if (rc == 0)
        fail_msg("accepted malformed RLE \"%s\" for %dx%d", counts ? counts : "(null)", h, w);
    assert_int_equal(rc, code);
    assert_true(err.message[0] != 0);
}

static void test_malformed(void **state) {
    (void)state;
    expect_rejected("", 2, 2, SAM2_ERR_FORMAT);          /* covers 0 of 4 pixels */
    expect_rejected("5", 2, 2, SAM2_ERR_FORMAT);         /* covers 5 of 4 */
    expect_rejected("3", 2, 2, SAM2_ERR_FORMAT);         /* 3 of 4 */
    expect_rejected(" 4", 2, 2, SAM2_ERR_FORMAT);        /* character below '0' */
    expect_rejected("4p", 2, 2, SAM2_ERR_FORMAT);        /* character above 'o' */
    expect_rejected("4\x80", 2, 2, SAM2_ERR_FORMAT);     /* non-ASCII */
    expect_rejected("P", 2, 2, SAM2_ERR_FORMAT);         /* continuation bit, then the end */
    expect_rejected("PPPPPPPP0", 2, 2, SAM2_ERR_FORMAT); /* more groups than any 32-bit run */
    expect_rejected(NULL, 2, 2, SAM2_ERR_ARGUMENT);
    expect_rejected("4", -1, 2, SAM2_ERR_ARGUMENT);
    expect_rejected("4", 65536, 65536, SAM2_ERR_LIMIT);
    char s[64] = "";
    put_value(s, -1); /* a first run below zero */
    expect_rejected(s, 2, 2, SAM2_ERR_FORMAT);
    s[0] = 0;
    put_value(s, 1), put_value(s, 1), put_value(s, 1), put_value(s, -2); /* run 3 = 1 - 2 < 0 */
    expect_rejected(s, 2, 2, SAM2_ERR_FORMAT);
    s[0] = 0;
    put_value(s, 1LL << 32); /* one more than uint32 holds */
    expect_rejected(s, 2, 2, SAM2_ERR_FORMAT);
    s[0] = 0;
    put_value(s, 4294967295LL), put_value(s, 1); /* sums beyond the area without overflowing */
    expect_rejected(s, 2, 2, SAM2_ERR_FORMAT);
    /* and a valid string is still accepted by the same path */
    uint8_t m[4];
    sam2_error err = {0};
    assert_int_equal(rle_decode("04", 2, 2, m, &err), 0);
    assert_memory_equal(m, "\1\1\1\1", 4);
    assert_int_equal(rle_area("13", 2, 2, &err), 3);
    assert_int_equal(rle_area("14", 2, 2, &err), -1);
    assert_int_equal(rle_area("121", 2, 2, &err), 2);
}

/* ---- golden strings ----------------------------------------------------------------------- */

typedef struct golden_stats_rle {
    int strings, with_count, with_sha;
} golden_stats_rle;

/* Decodes and re-encodes one {size, counts} object; returns the decoded mask (caller frees). */
static uint8_t *check_rle_object(const cJSON *o, const char *where, int *ph, int *pw) {
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(o, "size");
    const char *counts = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "counts"));
    assert_non_null(counts);
    int h = (int)cJSON_GetArrayItem(size, 0)->valuedouble,
        w = (int)cJSON_GetArrayItem(size, 1)->valuedouble;
    uint8_t *m = malloc((size_t)h * w + 1);
    sam2_error err = {0};
    if (rle_decode(counts, h, w, m, &err)) fail_msg("%s: %s", where, err.message);
    char *again = encode(m, h, w);
    if (strcmp(again, counts)) fail_msg("%s: re-encoded RLE differs from the golden string", where);
    free(again);
    *ph = h, *pw = w;
    return m;
}

static int64_t ones(const uint8_t *m, size_t n) {
    int64_t c = 0;
    for (size_t i = 0; i < n; i++) c += m[i];
    return c;
}

/* Walks any JSON: RLE objects ({size, counts}), masks entries (rle list + count_true + sha256)
 * and video objects (mask_rle + mask_fg_pixels). */
static void walk(const cJSON *node, const char *where, golden_stats_rle *st) {
    if (!node) return;
    if (cJSON_IsObject(node)) {
        const cJSON *counts = cJSON_GetObjectItemCaseSensitive(node, "counts");
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(node, "size");
        if (cJSON_IsString(counts) && cJSON_GetArraySize(size) == 2) {
            int h, w;
            free(check_rle_object(node, where, &h, &w));
            st->strings++;
            return;
        }
        const cJSON *rle = cJSON_GetObjectItemCaseSensitive(node, "rle");
        if (cJSON_IsArray(rle)) { /* an image masks entry: the whole [M,H,W] mask */
            const cJSON *ct = cJSON_GetObjectItemCaseSensitive(node, "count_true");
            const char *sha =
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(node, "sha256"));
            int m = cJSON_GetArraySize(rle);
            uint8_t *all = NULL;
            size_t plane = 0;
            for (int i = 0; i < m; i++) {
                int h, w;
                uint8_t *mask = check_rle_object(cJSON_GetArrayItem(rle, i), where, &h, &w);
                plane = (size_t)h * w;
                if (!all) all = malloc(plane * m);
                memcpy(all + plane * i, mask, plane);
                if (cJSON_IsArray(ct)) {
                    assert_int_equal(ones(mask, plane),
                                     (int64_t)cJSON_GetArrayItem(ct, i)->valuedouble);
                    st->with_count++;
                }
                free(mask);
                st->strings++;
            }
            if (sha && all) {
                char hex[65];
                sam2_sha256_hex(all, plane * m, hex);
                if (strcmp(hex, sha))
                    fail_msg("%s: decoded masks do not hash to the entry's sha256", where);
                st->with_sha++;
            }
            free(all);
            return;
        }
        const cJSON *mr = cJSON_GetObjectItemCaseSensitive(node, "mask_rle");
        const cJSON *fg = cJSON_GetObjectItemCaseSensitive(node, "mask_fg_pixels");
        if (cJSON_IsObject(mr) && cJSON_IsNumber(fg)) {
            int h, w;
            uint8_t *mask = check_rle_object(mr, where, &h, &w);
            assert_int_equal(ones(mask, (size_t)h * w), (int64_t)fg->valuedouble);
            free(mask);
            st->strings++, st->with_count++;
            const cJSON *ch;
            cJSON_ArrayForEach(ch, node) if (ch != mr) walk(ch, where, st);
            return;
        }
    }
    const cJSON *ch;
    if (cJSON_IsObject(node) || cJSON_IsArray(node))
        cJSON_ArrayForEach(ch, node) walk(ch, where, st);
}

static void check_set(const char *name, golden_stats_rle *st) {
    golden_set g;
    sam2_error err = {0};
    const char *dir = test_path(test_golden_dir(), name);
    if (golden_open(&g, dir, &err)) fail_msg("%s", err.message);
    for (int i = 0; i < g.nfolders; i++) {
        golden_folder f;
        if (golden_folder_open(&g, g.folders[i], &f, &err)) fail_msg("%s", err.message);
        char where[512];
        snprintf(where, sizeof where, "%s/%s", name, f.name);
        walk(f.index, where, st);
        walk(f.responses, where, st);
        golden_folder_close(&f);
    }
    golden_close(&g);
}

static void test_golden_strings(void **state) {
    (void)state;
    golden_stats_rle st = {0};
    check_set("micro_golden", &st);
    check_set("tiny_golden", &st);
    printf("golden RLE strings: %d decoded and re-encoded byte for byte; %d foreground counts and "
           "%d whole-mask sha256 matched\n",
           st.strings, st.with_count, st.with_sha);
    /* image masks (2 images x 5 cases x M masks), 40 video/api objects, 12 demo responses... per
     * set */
    assert_true(st.strings >= 2 * (10 + 40 + 12));
    assert_true(st.with_count >= 2 * (10 + 40));
    assert_true(st.with_sha >= 2 * 10);
}

int main(void) {
    const struct CMUnitTest unit[] = {
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_large_values),
        cmocka_unit_test(test_random_round_trip),
        cmocka_unit_test(test_malformed),
    };
    int failed = cmocka_run_group_tests_name("rle", unit, NULL, NULL);
    if (failed) return failed; /* a skip must not hide a failure */
    test_require_dir(test_golden_dir(), "golden data (../shared/golden)");
    const struct CMUnitTest golden[] = {cmocka_unit_test(test_golden_strings)};
    return failed | cmocka_run_group_tests_name("rle-golden", golden, NULL, NULL);
}
