/* The `sam2` option-table parser (src/cli/cli_options.c), as a table of command line -> parsed
 * values or error message, over a spec with every kind of option; and the --help it generates.
 * The commands' own tables are exercised by test_cli_segment, test_cli_track and the others,
 * which run the executable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cli/cli_options.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct demo_args {
    const char *video, *name, *json;
    int quiet, count;
    float scale;
    char tags[64]; /* the CUSTOM option's values, comma-joined */
    int n_tags;
} demo_args;

/* --tag WORD: repeatable, at most 3, letters only (refusals with and without a message). */
static int add_tag(void *args, const char *value, sam2_error *err) {
    demo_args *a = args;
    if (a->n_tags == 3) return sam2_fail(err, SAM2_ERR_ARGUMENT, "more than 3 --tag options");
    if (!*value) return -1;
    for (const char *p = value; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) return -1;
    const size_t used = strlen(a->tags);
    snprintf(a->tags + used, sizeof a->tags - used, "%s%s", used ? "," : "", value);
    a->n_tags++;
    return 0;
}

#define ARG(f) offsetof(demo_args, f)
static const cli_option OPTIONS[] = {
    CLI_OPT_STRING("--name", ARG(name), "NAME", "who runs it", CLI_REQUIRED),
    CLI_OPT_OPTIONAL("--json", ARG(json), "FILE", "JSON to FILE,\nor to stdout"),
    CLI_OPT_FLAG("--quiet", ARG(quiet), "say nothing"),
    CLI_OPT_INT("--count", ARG(count), "N", "how many", 1, 10, "an integer 1..10"),
    CLI_OPT_FLOAT("--scale", ARG(scale), "S", "how big", 0, 4, "a number 0..4"),
    CLI_OPT_CUSTOM("--tag", add_tag, "WORD", "a label", CLI_REPEATABLE, "letters"),
};
static const cli_spec SPEC = {
    .command = "demo",
    .positional = "VIDEO",
    .positional_offset = ARG(video),
    .positional_required = 1,
    .about = "Demonstrates every kind of option.",
    .options = CLI_OPTIONS(OPTIONS),
    .notes = "Exit status 2: bad arguments.",
};
static const cli_spec NO_POSITIONAL = {.command = "bare", .options = CLI_OPTIONS(OPTIONS)};

/* The parsed values as one line, for comparison with the table. */
static void describe(const demo_args *a, char *out, size_t n) {
    snprintf(out, n, "video=%s name=%s json=%s quiet=%d count=%d scale=%g tags=%s",
             a->video ? a->video : "-", a->name ? a->name : "-",
             a->json ? (*a->json ? a->json : "''") : "-", a->quiet, a->count, (double)a->scale,
             a->n_tags ? a->tags : "-");
}

static void test_parse_table(void **state) {
    (void)state;
    static const struct {
        const char *line;     /* arguments after the command's name, split at '|' */
        int bare;             /* 1: the spec without a positional argument */
        int rc;               /* CLI_PARSE_OK, _HELP or _ERROR */
        const char *expected; /* the values (OK) or the error message (ERROR) */
    } CASES[] = {
        {"v.mp4|--name|ann", 0, CLI_PARSE_OK,
         "video=v.mp4 name=ann json=- quiet=0 count=0 scale=0 tags=-"},
        {"--name=ann|v.mp4|--quiet|--count|3|--scale=2.5", 0, CLI_PARSE_OK,
         "video=v.mp4 name=ann json=- quiet=1 count=3 scale=2.5 tags=-"},
        /* A value may start with '-': the option takes what follows it. */
        {"v|--name|--quiet", 0, CLI_PARSE_OK,
         "video=v name=--quiet json=- quiet=0 count=0 scale=0 tags=-"},
        {"v|--name|a|--name|b", 0, CLI_PARSE_OK,
         "video=v name=b json=- quiet=0 count=0 scale=0 tags=-"},
        {"-|--name|a", 0, CLI_PARSE_OK, "video=- name=a json=- quiet=0 count=0 scale=0 tags=-"},
        /* The optional value: the next argument unless it looks like an option. */
        {"v|--name|a|--json", 0, CLI_PARSE_OK,
         "video=v name=a json='' quiet=0 count=0 scale=0 tags=-"},
        {"v|--name|a|--json|out.json", 0, CLI_PARSE_OK,
         "video=v name=a json=out.json quiet=0 count=0 scale=0 tags=-"},
        {"v|--name|a|--json|-", 0, CLI_PARSE_OK,
         "video=v name=a json=- quiet=0 count=0 scale=0 tags=-"},
        {"v|--name|a|--json|--quiet", 0, CLI_PARSE_OK,
         "video=v name=a json='' quiet=1 count=0 scale=0 tags=-"},
        {"v|--name|a|--json=", 0, CLI_PARSE_OK,
         "video=v name=a json='' quiet=0 count=0 scale=0 tags=-"},
        {"v|--name|a|--tag|x|--tag=Yz", 0, CLI_PARSE_OK,
         "video=v name=a json=- quiet=0 count=0 scale=0 tags=x,Yz"},
        {"v|--name|a|--count|10|--scale|0", 0, CLI_PARSE_OK,
         "video=v name=a json=- quiet=0 count=10 scale=0 tags=-"},
        {"--name|a", 1, CLI_PARSE_OK, "video=- name=a json=- quiet=0 count=0 scale=0 tags=-"},
        /* --help wins wherever it is, unless an error comes first. */
        {"--help", 0, CLI_PARSE_HELP, ""},
        {"v|--bogus|-h", 0, CLI_PARSE_ERROR, "unknown argument '--bogus' (see sam2 demo --help)"},
        {"v|-h|--bogus", 0, CLI_PARSE_HELP, ""},
        /* Errors name the option or argument and the value. */
        {"", 0, CLI_PARSE_ERROR, "VIDEO is required (see sam2 demo --help)"},
        {"v", 0, CLI_PARSE_ERROR, "--name is required (see sam2 demo --help)"},
        {"v|--name", 0, CLI_PARSE_ERROR, "--name needs a value"},
        {"v|--nam|x", 0, CLI_PARSE_ERROR, "unknown argument '--nam' (see sam2 demo --help)"},
        {"v|--names=x", 0, CLI_PARSE_ERROR, "unknown argument '--names=x' (see sam2 demo --help)"},
        {"v|w|--name|a", 0, CLI_PARSE_ERROR, "more than one VIDEO given ('v' and 'w')"},
        {"v|--name|a", 1, CLI_PARSE_ERROR, "unknown argument 'v' (see sam2 bare --help)"},
        {"v|--name|a|--quiet=1", 0, CLI_PARSE_ERROR, "--quiet takes no value (got '1')"},
        {"v|--name|a|--count|0", 0, CLI_PARSE_ERROR, "--count '0': expected an integer 1..10"},
        {"v|--name|a|--count|11", 0, CLI_PARSE_ERROR, "--count '11': expected an integer 1..10"},
        {"v|--name|a|--count|2x", 0, CLI_PARSE_ERROR, "--count '2x': expected an integer 1..10"},
        {"v|--name|a|--count=", 0, CLI_PARSE_ERROR, "--count '': expected an integer 1..10"},
        {"v|--name|a|--count|99999999999", 0, CLI_PARSE_ERROR,
         "--count '99999999999': expected an integer 1..10"},
        {"v|--name|a|--scale|nan", 0, CLI_PARSE_ERROR, "--scale 'nan': expected a number 0..4"},
        {"v|--name|a|--scale|4.5", 0, CLI_PARSE_ERROR, "--scale '4.5': expected a number 0..4"},
        {"v|--name|a|--scale|-1", 0, CLI_PARSE_ERROR, "--scale '-1': expected a number 0..4"},
        {"v|--name|a|--tag|x1", 0, CLI_PARSE_ERROR, "--tag 'x1': expected letters"},
        {"v|--name|a|--tag|a|--tag|b|--tag|c|--tag|d", 0, CLI_PARSE_ERROR,
         "more than 3 --tag options"},
    };
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        char line[256], *argv[32] = {"demo"};
        int argc = 1;
        snprintf(line, sizeof line, "%s", CASES[c].line);
        for (char *p = line; *line && p; argc++) {
            argv[argc] = p;
            p = strchr(p, '|');
            if (p) *p++ = '\0';
        }
        demo_args a = {0};
        sam2_error err = {0};
        const int rc = cli_parse_args(CASES[c].bare ? &NO_POSITIONAL : &SPEC, argc, argv, &a, &err);
        char got[512];
        if (rc == CLI_PARSE_OK)
            describe(&a, got, sizeof got);
        else
            snprintf(got, sizeof got, "%s", rc == CLI_PARSE_ERROR ? err.message : "");
        if (rc != CASES[c].rc || strcmp(got, CASES[c].expected))
            fail_msg("'%s': %d '%s', expected %d '%s'", CASES[c].line, rc, got, CASES[c].rc,
                     CASES[c].expected);
        if (rc == CLI_PARSE_ERROR && err.code != SAM2_ERR_ARGUMENT)
            fail_msg("'%s': error code %d", CASES[c].line, err.code);
    }
}

static char *capture(void (*print)(const cli_spec *, FILE *), const cli_spec *spec) {
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    assert_non_null(f);
    print(spec, f);
    fclose(f);
    return text;
}

static void test_help(void **state) {
    (void)state;
    char *text = capture(cli_print_help, &SPEC);
    assert_string_equal(text,
                        "usage: sam2 demo VIDEO --name NAME [--json [FILE]] [--quiet] [--count N]\n"
                        "                 [--scale S] [--tag WORD]...\n"
                        "\n"
                        "Demonstrates every kind of option.\n"
                        "\n"
                        "  --name NAME    who runs it\n"
                        "  --json [FILE]  JSON to FILE,\n"
                        "                 or to stdout\n"
                        "  --quiet        say nothing\n"
                        "  --count N      how many\n"
                        "  --scale S      how big\n"
                        "  --tag WORD     a label\n"
                        "  --help         this text\n"
                        "\n"
                        "Exit status 2: bad arguments.\n");
    free(text);
}

/* Every option named in the usage lines, which wrap at 80 columns. */
static void usage_lines(const cli_spec *spec, FILE *f) {
    cli_print_usage(spec, f, "usage:");
}

static void test_usage_wraps(void **state) {
    (void)state;
    char *text = capture(usage_lines, &NO_POSITIONAL);
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        assert_non_null(nl);
        if (nl - line > 80) fail_msg("usage line over 80 columns: %.*s", (int)(nl - line), line);
        line = nl + 1;
    }
    for (int k = 0; k < NO_POSITIONAL.n_options; k++)
        assert_non_null(strstr(text, NO_POSITIONAL.options[k].name));
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_usage_wraps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
