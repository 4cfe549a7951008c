/* sam2 doctor names the CPU kernel set in use and the BLAS (issue 13): run as a subprocess with
 * each SAM2_KERNELS setting, its `kernels` line says which set runs and why, and that set is the
 * one this process chose under the same setting; its `blas` line names the library linked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/cpu_features.h"
#include "support/cli_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The text after the first `<status> <name>` line of doctor's output whose name is `name`
 * (malloc'd), or NULL when there is no such line. */
static char *doctor_line(const char *out, const char *name) {
    const size_t nlen = strlen(name);
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        const char *eol = strchr(p, '\n');
        const size_t len = eol ? (size_t)(eol - p) : strlen(p);
        /* "ok     kernels                AVX2+FMA (...)": status (6 wide), name (22 wide). */
        if (len < 7 + 23 || strncmp(p + 7, name, nlen) != 0 || p[7 + nlen] != ' ') continue;
        return strndup(p + 7 + 23, len - (7 + 23));
    }
    return NULL;
}

static char *run_doctor(void) {
    /* doctor opens every Vulkan device; lavapipe's own allocations are never freed, so under
     * LeakSanitizer (make test-asan) doctor would abort before printing. Only the child's leak
     * check is off: this process read ASAN_OPTIONS at start. */
    setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
    cli_result r;
    assert_int_equal(cli_run((const char *const[]){"doctor", NULL}, 60, &r), 0);
    char *out = strdup(r.out);
    cli_result_free(&r);
    return out;
}

/* The set doctor reports for each setting is the first entry's label; `why` is a piece of the
 * reason it gives. NULL `why`: the best set this machine runs (any reason). */
typedef struct kernels_case {
    const char *setting; /* SAM2_KERNELS, NULL: unset */
    const char *why;
} kernels_case;

static const kernels_case cases[] = {
    {NULL, "the best set this CPU runs"},
    {"auto", "the best set this CPU runs"},
    {"baseline", "SAM2_KERNELS=baseline"},
    {"sse9", "SAM2_KERNELS=sse9 is not one of auto, baseline, avx2, neon"},
#if defined(__x86_64__)
    {"neon", "SAM2_KERNELS=neon is not built in or not supported by this CPU"},
#elif defined(__aarch64__)
    {"avx2", "SAM2_KERNELS=avx2 is not built in or not supported by this CPU"},
#endif
};

static void test_kernels_line(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const kernels_case *c = &cases[i];
        if (c->setting)
            setenv("SAM2_KERNELS", c->setting, 1);
        else
            unsetenv("SAM2_KERNELS");
        char *out = run_doctor();
        char *line = doctor_line(out, "kernels");
        if (!line) fail_msg("SAM2_KERNELS=%s: no kernels line in\n%s", c->setting, out);
        /* What this process would choose with the same setting: forced baseline, else the
         * best available set (a set that cannot run is never chosen). */
        cpu_isa want = CPU_ISA_BASELINE;
        if (!c->setting || strcmp(c->setting, "baseline") != 0)
            for (int isa = 0; isa < CPU_ISA_COUNT; isa++)
                if (cpu_isa_available((cpu_isa)isa)) want = (cpu_isa)isa;
        const char *label = cpu_isa_label(want);
        if (strncmp(line, label, strlen(label)) != 0 || !strstr(line, c->why))
            fail_msg("SAM2_KERNELS=%s: kernels line '%s', expected '%s (... %s ...)'",
                     c->setting ? c->setting : "(unset)", line, label, c->why);
        free(line);
        free(out);
    }
    unsetenv("SAM2_KERNELS");
}

static void test_blas_line(void **state) {
    (void)state;
    char *out = run_doctor();
    char *line = doctor_line(out, "blas");
    if (!line) fail_msg("no blas line in\n%s", out);
#ifdef __APPLE__
    assert_non_null(strstr(line, "Accelerate"));
#else
    if (strncmp(line, "OpenBLAS", 8) != 0) fail_msg("blas line '%s' does not name OpenBLAS", line);
#endif
    assert_string_equal(line, cpu_blas_name());
    free(line);
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernels_line),
        cmocka_unit_test(test_blas_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
