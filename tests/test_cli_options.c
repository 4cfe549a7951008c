/* The `sam2` option-table parser (src/app/cli_options.c), as a table of command line (and
 * environment) -> parsed values or error message, over specs with every kind of option; and the
 * --help it generates.
 * The commands' own tables are exercised by test_cli_segment, test_cli_track and the others,
 * which run the executable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "app/cli_options.h"
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
        {"v|--bogus|-h", 0, CLI_PARSE_ERROR, "unknown option '--bogus' (see sam2 demo --help)"},
        {"v|-h|--bogus", 0, CLI_PARSE_HELP, ""},
        /* Errors name the option or argument and the value. */
        {"", 0, CLI_PARSE_ERROR, "VIDEO is required (see sam2 demo --help)"},
        {"v", 0, CLI_PARSE_ERROR, "--name is required (see sam2 demo --help)"},
        {"v|--name", 0, CLI_PARSE_ERROR, "--name needs a value"},
        {"v|--nam|x", 0, CLI_PARSE_ERROR, "unknown option '--nam' (see sam2 demo --help)"},
        {"v|--names=x", 0, CLI_PARSE_ERROR, "unknown option '--names=x' (see sam2 demo --help)"},
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

/* The kinds `sam2 serve`'s settings use, each row also set by an environment variable. */
typedef struct settings {
    char host[8];
    int port, verbose;
    double duration;
    size_t body_bytes, budget_mb;
} settings;

#define SETTING(NAME, ENV, KIND, FIELD, META, LO, HI, HELP)                                        \
    CLI_OPT_SETTING(NAME, ENV, KIND, offsetof(settings, FIELD), sizeof(((settings *)0)->FIELD),    \
                    META, LO, HI, HELP)
static const cli_option SETTINGS[] = {
    SETTING("--host", "T_HOST", CLI_ARG_BUFFER, host, "ADDR", 0, 0, "address"),
    SETTING("--port", "T_PORT", CLI_ARG_INT, port, "N", 0, 65535, "port"),
    SETTING(NULL, "T_VERBOSE", CLI_ARG_BOOL, verbose, "0|1", 0, 1, "chatty"),
    {.name = "--quiet",
     .kind = CLI_ARG_FLAG_OFF,
     .offset = offsetof(settings, verbose),
     .help = "same as T_VERBOSE=0"},
    SETTING("--duration", "T_DURATION", CLI_ARG_DOUBLE, duration, "S", 0.5, 60, "seconds"),
    SETTING("--body-mb", "T_BODY_MB", CLI_ARG_MEGABYTES, body_bytes, "MB", 1, 64, "body"),
    SETTING("--budget-mb", "T_BUDGET_MB", CLI_ARG_SIZE, budget_mb, "MB", 0, 16777216, "budget"),
};
static const cli_spec SETTINGS_SPEC = {
    .command = "settings", .usage_args = "[OPTIONS]", .options = CLI_OPTIONS(SETTINGS)};

static void test_env_and_settings_table(void **state) {
    (void)state;
    static const char *const VARS[] = {"T_HOST",     "T_PORT",    "T_VERBOSE",
                                       "T_DURATION", "T_BODY_MB", "T_BUDGET_MB"};
    static const struct {
        const char *env;      /* NAME=VALUE assignments, split at '|' */
        const char *line;     /* arguments, split at '|' */
        const char *expected; /* the values, or the error message */
    } CASES[] = {
        {"", "", "host=lo port=1 verbose=1 duration=2 body=1048576 budget=0"},
        {"T_HOST=a.b|T_PORT=80|T_VERBOSE=off|T_DURATION=0.5|T_BODY_MB=3|T_BUDGET_MB=9000000000"
         "",
         "", "T_BUDGET_MB=9000000000: expected a whole number between 0 and 16777216"},
        {"T_HOST=a.b|T_PORT=80|T_VERBOSE=off|T_DURATION=0.5|T_BODY_MB=3|T_BUDGET_MB=7", "",
         "host=a.b port=80 verbose=0 duration=0.5 body=3145728 budget=7"},
        /* flags win over the environment */
        {"T_PORT=80|T_VERBOSE=YES", "--port=81|--quiet",
         "host=lo port=81 verbose=0 duration=2 body=1048576 budget=0"},
        {"T_VERBOSE=0", "--body-mb|64|--budget-mb|5",
         "host=lo port=1 verbose=0 duration=2 body=67108864 budget=5"},
        /* an empty variable leaves a number at its default, and is "false" for a boolean */
        {"T_PORT=|T_VERBOSE=", "", "host=lo port=1 verbose=0 duration=2 body=1048576 budget=0"},
        {"T_HOST=", "", "host= port=1 verbose=1 duration=2 body=1048576 budget=0"},
        /* refusals name the variable or the flag, with the value */
        {"T_PORT=many", "", "T_PORT=many: expected a whole number between 0 and 65535"},
        {"T_PORT=-1", "", "T_PORT=-1: expected a whole number between 0 and 65535"},
        {"T_VERBOSE=maybe", "", "T_VERBOSE=maybe: expected 1/0, true/false, yes/no or on/off"},
        {"T_DURATION=nan", "", "T_DURATION=nan: expected a number between 0.5 and 60"},
        {"T_DURATION=0.1", "", "T_DURATION=0.1: expected a number between 0.5 and 60"},
        {"T_BODY_MB=1.5", "", "T_BODY_MB=1.5: expected a whole number between 1 and 64"},
        {"T_HOST=12345678", "", "T_HOST is too long (at most 7 characters)"},
        {"", "--host|12345678", "--host is too long (at most 7 characters)"},
        {"", "--port|65536", "--port '65536': expected a whole number between 0 and 65535"},
        {"", "--body-mb|0", "--body-mb '0': expected a whole number between 1 and 64"},
        {"", "--duration|inf", "--duration 'inf': expected a number between 0.5 and 60"},
        {"", "--quiet=1", "--quiet takes no value (got '1')"},
        {"", "--verbose|1", "unknown option '--verbose' (see sam2 settings --help)"},
        {"", "--port", "--port needs a value"},
        {"", "8080", "unknown argument '8080' (see sam2 settings --help)"},
    };
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        for (size_t v = 0; v < sizeof VARS / sizeof VARS[0]; v++) unsetenv(VARS[v]);
        char env[256], line[256], *argv[32] = {"settings"};
        snprintf(env, sizeof env, "%s", CASES[c].env);
        for (char *p = env; *env && p;) {
            char *next = strchr(p, '|'), *eq = strchr(p, '=');
            if (next) *next++ = '\0';
            *eq = '\0';
            setenv(p, eq + 1, 1);
            p = next;
        }
        int argc = 1;
        snprintf(line, sizeof line, "%s", CASES[c].line);
        for (char *p = line; *line && p; argc++) {
            argv[argc] = p;
            p = strchr(p, '|');
            if (p) *p++ = '\0';
        }
        settings s = {.host = "lo", .port = 1, .verbose = 1, .duration = 2, .body_bytes = 1 << 20};
        sam2_error err = {0};
        int rc = cli_parse_env(&SETTINGS_SPEC, &s, &err);
        if (rc == CLI_PARSE_OK) rc = cli_parse_args(&SETTINGS_SPEC, argc, argv, &s, &err);
        char got[512];
        if (rc == CLI_PARSE_OK)
            snprintf(got, sizeof got, "host=%s port=%d verbose=%d duration=%g body=%zu budget=%zu",
                     s.host, s.port, s.verbose, s.duration, s.body_bytes, s.budget_mb);
        else
            snprintf(got, sizeof got, "%s", err.message);
        if (strcmp(got, CASES[c].expected))
            fail_msg("env '%s' args '%s': '%s', expected '%s'", CASES[c].env, CASES[c].line, got,
                     CASES[c].expected);
    }
    for (size_t v = 0; v < sizeof VARS / sizeof VARS[0]; v++) unsetenv(VARS[v]);
}

/* A row whose kind stores another type than its field holds is refused before any value is
 * stored (a size_t setting declared INT would set half of its field). */
static void test_table_mistakes_refused(void **state) {
    (void)state;
    static const cli_option WRONG_SIZE[] = {
        SETTING("--budget-mb", "T_BUDGET_MB", CLI_ARG_INT, budget_mb, "MB", 0, 10, "budget"),
    };
    static const cli_option NO_BUFFER[] = {
        {.name = "--host", .kind = CLI_ARG_BUFFER, .offset = offsetof(settings, host)},
    };
    static const cli_spec SPECS[] = {
        {.command = "wrong", .options = CLI_OPTIONS(WRONG_SIZE)},
        {.command = "nobuf", .options = CLI_OPTIONS(NO_BUFFER)},
    };
    char messages[2][128];
    snprintf(messages[0], sizeof messages[0],
             "sam2 wrong: the table gives --budget-mb a field of %zu bytes, its kind stores %zu",
             sizeof(size_t), sizeof(int));
    snprintf(messages[1], sizeof messages[1],
             "sam2 nobuf: the table gives --host a field of 0 bytes, its kind stores 0");
    for (size_t i = 0; i < sizeof SPECS / sizeof SPECS[0]; i++) {
        settings s = {0};
        sam2_error err = {0};
        char *argv[] = {"x"};
        assert_int_equal(cli_parse_args(&SPECS[i], 1, argv, &s, &err), CLI_PARSE_ERROR);
        assert_string_equal(err.message, messages[i]);
        err.message[0] = '\0';
        assert_int_equal(cli_parse_env(&SPECS[i], &s, &err), CLI_PARSE_ERROR);
        assert_string_equal(err.message, messages[i]);
    }
}

/* The settings' help: the short usage line, every flag with its variable, and the rows only
 * the environment sets under their variable's name. */
static void test_settings_help(void **state) {
    (void)state;
    char *text = capture(cli_print_help, &SETTINGS_SPEC);
    assert_string_equal(text, "usage: sam2 settings [OPTIONS]\n"
                              "\n"
                              "  --host ADDR     address\n"
                              "                  (environment: T_HOST)\n"
                              "  --port N        port\n"
                              "                  (environment: T_PORT)\n"
                              "  T_VERBOSE=0|1   chatty\n"
                              "  --quiet         same as T_VERBOSE=0\n"
                              "  --duration S    seconds\n"
                              "                  (environment: T_DURATION)\n"
                              "  --body-mb MB    body\n"
                              "                  (environment: T_BODY_MB)\n"
                              "  --budget-mb MB  budget\n"
                              "                  (environment: T_BUDGET_MB)\n"
                              "  --help          this text\n");
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),   cmocka_unit_test(test_help),
        cmocka_unit_test(test_usage_wraps),   cmocka_unit_test(test_env_and_settings_table),
        cmocka_unit_test(test_settings_help), cmocka_unit_test(test_table_mistakes_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
