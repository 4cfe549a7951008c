/* Small parsers of outside input, as tables of input -> result: the HTTP Range header of static
 * files (server/http_range.c), the videos connection's cursors (schema_parse_cursor), `sam2
 * segment --point` (cli_parse_point) and `--mask-input` .npy files (mask_input_parse_npy). Their
 * fuzz targets (fuzz/fuzz_{http_range,relay_cursor,cli_prompts,npy_mask}.c) check invariants;
 * these check the answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cli/cli_util.h"
#include "cli/mask_input.h"
#include "server/catalog.h"
#include "server/http_range.h"
#include "server/schema_cursor.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_http_range(void **state) {
    (void)state;
    static const struct {
        const char *header;
        unsigned long long size;
        int rc; /* 1: [first, last]; 0: whole file; -1: 416 */
        unsigned long long first, last;
    } CASES[] = {
        {"bytes=0-499", 1000, 1, 0, 499},
        {"bytes=500-", 1000, 1, 500, 999},
        {"bytes=-200", 1000, 1, 800, 999},
        {"bytes=-5000", 100, 1, 0, 99},
        {"bytes=900-5000", 1000, 1, 900, 999},
        {"Bytes= 10-20  ", 1000, 1, 10, 20},
        {"bytes=0-18446744073709551615", 10, 1, 0, 9},
        {"bytes=1000-", 1000, -1, 0, 0},
        {"bytes=99999999999999999999999-", 1000, -1, 0, 0},
        {"bytes=0-", 0, -1, 0, 0},
        {"bytes=-0", 1000, -1, 0, 0},
        {"bytes=-1", 0, -1, 0, 0},
        {"bytes=9-5", 1000, 0, 0, 0},
        {"bytes=0-1,5-9", 1000, 0, 0, 0},
        {"items=0-1", 1000, 0, 0, 0},
        {"bytes=", 1000, 0, 0, 0},
        {"bytes=-", 1000, 0, 0, 0},
        {"bytes=+1-2", 1000, 0, 0, 0},
        {"bytes=1--2", 1000, 0, 0, 0},
        {"bytes=1-2x", 1000, 0, 0, 0},
        {"bytes=1 -2", 1000, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        unsigned long long first = 7, last = 7;
        const int rc = http_parse_range(CASES[i].header, CASES[i].size, &first, &last);
        if (rc != CASES[i].rc)
            fail_msg("'%s' (size %llu): %d, expected %d", CASES[i].header, CASES[i].size, rc,
                     CASES[i].rc);
        if (rc == 1 && (first != CASES[i].first || last != CASES[i].last))
            fail_msg("'%s': %llu-%llu, expected %llu-%llu", CASES[i].header, first, last,
                     CASES[i].first, CASES[i].last);
    }
}

static void test_relay_cursor(void **state) {
    (void)state;
    static const struct {
        const char *raw; /* base64-encoded before parsing; NULL: `text` as is */
        const char *text;
        long index; /* -1: refused */
    } CASES[] = {
        {"arrayconnection:0", NULL, 0},
        {"arrayconnection:41", NULL, 41},
        {"arrayconnection:007", NULL, 7},
        {"arrayconnection:1000000000", NULL, 1000000000L},
        {"arrayconnection:1000000001", NULL, -1},
        {"arrayconnection:99999999999999999999", NULL, -1},
        {"arrayconnection:-1", NULL, -1},
        {"arrayconnection: 5", NULL, -1},
        {"arrayconnection:5x", NULL, -1},
        {"arrayconnection:", NULL, -1},
        {"Video:bedroom", NULL, -1},
        {NULL, "YXJyYXljb25uZWN0aW9uOjE=", 1},      /* Strawberry's own cursor for index 1 */
        {NULL, "YXJyYXljb25uZWN0aW9uOjE", -1},      /* padding missing */
        {NULL, "YXJy=Xljb25uZWN0aW9uOjA=", -1},     /* padding inside */
        {NULL, "arrayconnection:0", -1},            /* not base64 */
        {NULL, "YXJyYXljb25uZWN0aW9uOjUAeA==", -1}, /* "arrayconnection:5\0x" */
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char *text = CASES[i].raw
                         ? base64_encode((const unsigned char *)CASES[i].raw, strlen(CASES[i].raw))
                         : strdup(CASES[i].text);
        assert_non_null(text);
        sam2_error err = {0};
        const long v = schema_parse_cursor("after", text, &err);
        if (v != CASES[i].index)
            fail_msg("cursor %s (%s): %ld, expected %ld", text,
                     CASES[i].raw ? CASES[i].raw : "as is", v, CASES[i].index);
        if (v < 0)
            assert_string_equal(err.message, "Argument 'after' contains a non-existing value.");
        free(text);
    }
}

static void test_cli_point(void **state) {
    (void)state;
    static const struct {
        const char *text;
        int ok;
        float x, y;
        int label;
    } CASES[] = {
        {"500,375", 1, 500, 375, 1},
        {"1.5,2.25,0", 1, 1.5f, 2.25f, 0},
        {"1,2,-1", 1, 1, 2, -1},
        {"1,2,-2147483648", 1, 1, 2, INT32_MIN},
        {"1,2,1.5", 0, 0, 0, 0},
        {"1,2,1e30", 0, 0, 0, 0}, /* no int value: refused before the conversion */
        {"1,2,2147483648", 0, 0, 0, 0},
        {"1,2,nan", 0, 0, 0, 0},
        {"1,2,inf", 0, 0, 0, 0},
        {"1", 0, 0, 0, 0},
        {"1,2,3,4", 0, 0, 0, 0},
        {"1,,2", 0, 0, 0, 0},
        {"", 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        sam2_point p = {0};
        const int ok = cli_parse_point(CASES[i].text, &p) == 0;
        if (ok != CASES[i].ok)
            fail_msg("--point %s: %s", CASES[i].text, ok ? "accepted" : "refused");
        if (ok && (p.x != CASES[i].x || p.y != CASES[i].y || p.label != CASES[i].label))
            fail_msg("--point %s: %g,%g,%d", CASES[i].text, (double)p.x, (double)p.y, p.label);
    }
}

/* A .npy file: header dict text, then `n` float32 values 0, 1, 2, ... */
static size_t make_npy(uint8_t *buf, int version, const char *dict, int n) {
    const size_t pre = version == 1 ? 10 : 12, hlen = strlen(dict) + 1;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (uint8_t)version;
    buf[7] = 0;
    for (size_t k = 0; k < pre - 8; k++) buf[8 + k] = (uint8_t)(hlen >> (8 * k));
    memcpy(buf + pre, dict, hlen - 1);
    buf[pre + hlen - 1] = '\n';
    for (int i = 0; i < n; i++) {
        const float v = (float)i;
        memcpy(buf + pre + hlen + 4 * (size_t)i, &v, 4);
    }
    return pre + hlen + 4 * (size_t)n;
}

static void test_npy_mask(void **state) {
    (void)state;
    static const struct {
        int version;
        const char *dict;
        int values, L;
        int code; /* 0: the L*L values */
    } CASES[] = {
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }", 16, 4, 0},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4, 4), }", 16, 4, 0},
        {2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 4, 4), }", 16, 4, 0},
        {3, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }", 20, 4, 0},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4, 4), }", 32, 4,
         SAM2_ERR_ARGUMENT},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }", 16, 8,
         SAM2_ERR_ARGUMENT},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 4), }", 32, 4,
         SAM2_ERR_ARGUMENT},
        {1, "{'descr': '<f4', 'fortran_order': True, 'shape': (4, 4), }", 16, 4, SAM2_ERR_ARGUMENT},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }", 15, 4, SAM2_ERR_FORMAT},
        {1, "{'descr': '<f4', 'shape': (4, 4), }", 16, 4, SAM2_ERR_FORMAT},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, x), }", 16, 4, SAM2_ERR_FORMAT},
        {9, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }", 16, 4,
         SAM2_ERR_UNSUPPORTED},
    };
    uint8_t *buf = malloc(4096);
    assert_non_null(buf);
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const size_t n = make_npy(buf, CASES[i].version, CASES[i].dict, CASES[i].values);
        float *out = NULL;
        sam2_error err = {0};
        const int rc = mask_input_parse_npy("m.npy", buf, (long)n, CASES[i].L, &out, &err);
        if (rc ? err.code != CASES[i].code : CASES[i].code != 0)
            fail_msg("case %zu: code %d (%s), expected %d", i, err.code, err.message,
                     CASES[i].code);
        if (!rc) {
            for (int k = 0; k < CASES[i].L * CASES[i].L; k++) assert_true(out[k] == (float)k);
            free(out);
        } else {
            assert_null(out);
            assert_non_null(strstr(err.message, "m.npy"));
        }
    }
    /* Truncated files at every length: refused, never read past the end (ASan). */
    const size_t whole = make_npy(buf, 1, CASES[0].dict, 16);
    for (size_t len = 0; len < whole; len++) {
        uint8_t *cut = malloc(len ? len : 1);
        memcpy(cut, buf, len);
        float *out = NULL;
        assert_int_not_equal(mask_input_parse_npy("m.npy", cut, (long)len, 4, &out, NULL), 0);
        assert_null(out);
        free(cut);
    }
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_range),
        cmocka_unit_test(test_relay_cursor),
        cmocka_unit_test(test_cli_point),
        cmocka_unit_test(test_npy_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
