/* sam2_version() is the CMake project's version (the same as sam2.h's SAM2_VERSION and the
 * pkg-config file's, which tests/install_check.sh compares), and `sam2 --version`, `sam2 --help`
 * and `sam2 doctor` print it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "sam2.h"
#include "support/cli_run.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_library_version(void **state) {
    (void)state;
    const char *v = sam2_version();
    assert_non_null(v);
    assert_string_equal(v, SAM2_CMAKE_VERSION); /* project(sam2c VERSION ...) */
    assert_string_equal(v, SAM2_VERSION);
    /* MAJOR.MINOR.PATCH: three numbers, two dots. */
    int parts = 1;
    for (const char *p = v; *p; p++) {
        if (*p == '.') {
            parts++;
            if (p == v || !p[1] || p[1] == '.') fail_msg("'%s': an empty component", v);
        } else if (!isdigit((unsigned char)*p)) {
            fail_msg("'%s': '%c' is not a digit", v, *p);
        }
    }
    assert_int_equal(parts, 3);
}

/* The first line of `sam2 ARGS...`'s stdout must be `expected`. */
static void expect_first_line(const char *const *args, const char *expected) {
    cli_result r;
    assert_int_equal(cli_run(args, 120, &r), 0);
    const char *nl = strchr(r.out, '\n');
    const size_t len = nl ? (size_t)(nl - r.out) : strlen(r.out);
    if (len != strlen(expected) || strncmp(r.out, expected, len) != 0)
        fail_msg("sam2 %s: first line '%.*s', expected '%s'", args[0], (int)len, r.out, expected);
    cli_result_free(&r);
}

static void test_cli_prints_it(void **state) {
    (void)state;
    char line[128];
    snprintf(line, sizeof line, "sam2 %s", sam2_version());
    expect_first_line((const char *const[]){"--version", NULL}, line);
    expect_first_line((const char *const[]){"version", NULL}, line);
    snprintf(line, sizeof line, "sam2 %s: Segment Anything 2 in C", sam2_version());
    expect_first_line((const char *const[]){"--help", NULL}, line);
    /* doctor opens the Vulkan devices: lavapipe's allocations are never freed (see
     * test_cli_doctor), so the child runs without LeakSanitizer's exit check. */
    setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
    snprintf(line, sizeof line, "sam2 %s doctor", sam2_version());
    expect_first_line((const char *const[]){"doctor", NULL}, line);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_library_version),
        cmocka_unit_test(test_cli_prints_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
