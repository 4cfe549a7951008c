#include "app/cli_options.h"

#include "sam2.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HELP_WIDTH 80 /* usage lines wrap here */

int cli_parse_int(const char *s, int *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < INT_MIN || v > INT_MAX) return -1;
    *out = (int)v;
    return 0;
}

int cli_parse_float(const char *s, float *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (*end || (errno == ERANGE && isfinite(v) && v != 0.0f)) return -1;
    *out = v;
    return 0;
}

/* A whole number within [min, max] (as a double: every bound in the tables is exact there). */
static int parse_whole(const char *s, double min, double max, double *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    const long long v = strtoll(s, &end, 10);
    if (errno || *end || (double)v < min || (double)v > max) return -1;
    *out = (double)v;
    return 0;
}

static int parse_bool(const char *s, int *out) {
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no",
                                                                                "off", ""};
    for (size_t k = 0; k < sizeof yes / sizeof yes[0]; k++)
        if (!strcasecmp(s, yes[k])) return *out = 1, 0;
    for (size_t k = 0; k < sizeof no / sizeof no[0]; k++)
        if (!strcasecmp(s, no[k])) return *out = 0, 0;
    return -1;
}

static int is_help(const char *a) {
    return !strcmp(a, "--help") || !strcmp(a, "-h");
}

/* An option-like argument: "-x" or "--x"; "-" alone is a value (stdin/stdout by convention). */
static int looks_like_option(const char *a) {
    return a[0] == '-' && a[1] != '\0';
}

/* The option `arg` names ("--name" or "--name=..."), NULL when none; *inline_value is the text
 * after '=' or NULL. */
static const cli_option *find_option(const cli_spec *spec, const char *arg,
                                     const char **inline_value) {
    for (int k = 0; k < spec->n_options; k++) {
        const cli_option *o = &spec->options[k];
        if (!o->name) continue;
        const size_t n = strlen(o->name);
        if (strncmp(arg, o->name, n) != 0) continue;
        if (arg[n] == '\0' || arg[n] == '=') {
            *inline_value = arg[n] == '=' ? arg + n + 1 : NULL;
            return o;
        }
    }
    return NULL;
}

/* What a refused value should have been, for the rows whose table gives no `expect`. */
static const char *expected_value(const cli_option *o, char *buf, size_t n) {
    if (o->expect) return o->expect;
    switch (o->kind) {
    case CLI_ARG_INT:
    case CLI_ARG_SIZE:
    case CLI_ARG_MEGABYTES:
        snprintf(buf, n, "a whole number between %.0f and %.0f", o->min, o->max);
        return buf;
    case CLI_ARG_FLOAT:
    case CLI_ARG_DOUBLE:
        snprintf(buf, n, "a number between %g and %g", o->min, o->max);
        return buf;
    case CLI_ARG_BOOL:
        return "1/0, true/false, yes/no or on/off";
    default:
        return "another value";
    }
}

/* `from_env`: the value came from o->env, and the message names it as NAME=VALUE. */
static int refuse_value(const cli_option *o, const char *value, int from_env, sam2_error *err) {
    char buf[96];
    const char *expected = expected_value(o, buf, sizeof buf);
    if (from_env)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s=%.100s: expected %s", o->env, value, expected);
    return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s '%.100s': expected %s", o->name, value, expected);
}

/* Converts and stores one option's value (from the command line, or o->env when from_env). */
static int store_value(const cli_option *o, const char *value, int from_env, void *args,
                       sam2_error *err) {
    char *dest = (char *)args + o->offset;
    double whole;
    switch (o->kind) {
    case CLI_ARG_STRING:
    case CLI_ARG_OPTIONAL:
        *(const char **)dest = value;
        return 0;
    case CLI_ARG_BUFFER:
        if (strlen(value) >= o->size)
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s is too long (at most %zu characters)",
                             from_env ? o->env : o->name, o->size - 1);
        memcpy(dest, value, strlen(value) + 1);
        return 0;
    case CLI_ARG_INT: {
        int v;
        if (cli_parse_int(value, &v) || v < o->min || v > o->max)
            return refuse_value(o, value, from_env, err);
        *(int *)dest = v;
        return 0;
    }
    case CLI_ARG_SIZE:
    case CLI_ARG_MEGABYTES:
        if (parse_whole(value, o->min, o->max, &whole))
            return refuse_value(o, value, from_env, err);
        *(size_t *)dest = (size_t)whole << (o->kind == CLI_ARG_MEGABYTES ? 20 : 0);
        return 0;
    case CLI_ARG_FLOAT: {
        float v;
        if (cli_parse_float(value, &v) || !(v >= o->min && v <= o->max))
            return refuse_value(o, value, from_env, err);
        *(float *)dest = v;
        return 0;
    }
    case CLI_ARG_DOUBLE: {
        char *end;
        errno = 0;
        const double v = *value ? strtod(value, &end) : NAN;
        if (!*value || *end || errno || !(v >= o->min && v <= o->max))
            return refuse_value(o, value, from_env, err);
        *(double *)dest = v;
        return 0;
    }
    case CLI_ARG_BOOL:
        if (parse_bool(value, (int *)dest)) return refuse_value(o, value, from_env, err);
        return 0;
    case CLI_ARG_CUSTOM: {
        sam2_error e = {0};
        if (o->parse(args, value, &e) == 0) return 0;
        if (!e.message[0]) return refuse_value(o, value, from_env, err);
        if (err) *err = e;
        return e.code ? e.code : SAM2_ERR_ARGUMENT;
    }
    case CLI_ARG_FLAG:
    case CLI_ARG_FLAG_OFF:
        break;
    }
    return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s: option kind %d unknown",
                     o->name ? o->name : o->env, (int)o->kind);
}

static int takes_no_value(const cli_option *o) {
    return o->kind == CLI_ARG_FLAG || o->kind == CLI_ARG_FLAG_OFF;
}

/* One option at argv[*i]; advances *i past a separate value. */
static int parse_option(const cli_option *o, const char *inline_value, int argc, char **argv,
                        int *i, void *args, sam2_error *err) {
    if (takes_no_value(o)) {
        if (inline_value)
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s takes no value (got '%s')", o->name,
                             inline_value);
        *(int *)((char *)args + o->offset) = o->kind == CLI_ARG_FLAG;
        return 0;
    }
    const char *value = inline_value;
    if (!value && o->kind == CLI_ARG_OPTIONAL) {
        value = *i + 1 < argc && !looks_like_option(argv[*i + 1]) ? argv[++*i] : "";
    } else if (!value) {
        if (*i + 1 >= argc) return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s needs a value", o->name);
        value = argv[++*i];
    }
    return store_value(o, value, 0, args, err);
}

static int check_required(const cli_spec *spec, const char *positional, const unsigned char *seen,
                          sam2_error *err) {
    if (spec->positional && spec->positional_required && !positional)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s is required (see sam2 %s --help)",
                         spec->positional, spec->command);
    for (int k = 0; k < spec->n_options; k++)
        if ((spec->options[k].flags & CLI_REQUIRED) && !seen[k])
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s is required (see sam2 %s --help)",
                             spec->options[k].name, spec->command);
    return 0;
}

/* The bytes a kind stores at `offset`; 0 when the parse function decides (CUSTOM) or the row
 * gives the size (BUFFER). */
static size_t stored_size(cli_arg_kind kind) {
    switch (kind) {
    case CLI_ARG_FLAG:
    case CLI_ARG_FLAG_OFF:
    case CLI_ARG_INT:
    case CLI_ARG_BOOL:
        return sizeof(int);
    case CLI_ARG_STRING:
    case CLI_ARG_OPTIONAL:
        return sizeof(const char *);
    case CLI_ARG_FLOAT:
        return sizeof(float);
    case CLI_ARG_DOUBLE:
        return sizeof(double);
    case CLI_ARG_SIZE:
    case CLI_ARG_MEGABYTES:
        return sizeof(size_t);
    case CLI_ARG_CUSTOM:
    case CLI_ARG_BUFFER:
        break;
    }
    return 0;
}

/* A row whose field (`size`, when the table gives it) does not hold what its kind stores would
 * write past its field or leave part of it: such a table is refused before anything is stored. */
static int check_table(const cli_spec *spec, sam2_error *err) {
    for (int k = 0; k < spec->n_options; k++) {
        const cli_option *o = &spec->options[k];
        const size_t want = stored_size(o->kind);
        const int bad = o->kind == CLI_ARG_BUFFER ? o->size == 0 : o->size && o->size != want;
        if (bad)
            return sam2_fail(
                err, SAM2_ERR_ARGUMENT,
                "sam2 %s: the table gives %s a field of %zu bytes, its kind stores %zu",
                spec->command, o->name ? o->name : o->env, o->size, want);
    }
    return 0;
}

int cli_parse_env(const cli_spec *spec, void *args, sam2_error *err) {
    if (check_table(spec, err)) return CLI_PARSE_ERROR;
    for (int k = 0; k < spec->n_options; k++) {
        const cli_option *o = &spec->options[k];
        const char *value = o->env ? getenv(o->env) : NULL;
        if (!value || takes_no_value(o)) continue;
        const int text = o->kind == CLI_ARG_BUFFER || o->kind == CLI_ARG_STRING ||
                         o->kind == CLI_ARG_BOOL || o->kind == CLI_ARG_CUSTOM;
        if (!*value && !text) continue; /* VAR= leaves a number at its default */
        if (store_value(o, value, 1, args, err)) return CLI_PARSE_ERROR;
    }
    return CLI_PARSE_OK;
}

int cli_parse_args(const cli_spec *spec, int argc, char **argv, void *args, sam2_error *err) {
    unsigned char seen[128] = {0};
    if (check_table(spec, err)) return CLI_PARSE_ERROR;
    if (spec->n_options > (int)sizeof seen)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s: too many options in its table",
                         spec->command);
    const char *positional = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (is_help(a)) return CLI_PARSE_HELP;
        if (looks_like_option(a)) {
            const char *inline_value = NULL;
            const cli_option *o = find_option(spec, a, &inline_value);
            if (!o) {
                sam2_fail(err, SAM2_ERR_ARGUMENT, "unknown option '%.100s' (see sam2 %s --help)", a,
                          spec->command);
                return CLI_PARSE_ERROR;
            }
            if (parse_option(o, inline_value, argc, argv, &i, args, err)) return CLI_PARSE_ERROR;
            seen[o - spec->options] = 1;
        } else if (!spec->positional) {
            sam2_fail(err, SAM2_ERR_ARGUMENT, "unknown argument '%s' (see sam2 %s --help)", a,
                      spec->command);
            return CLI_PARSE_ERROR;
        } else if (positional) {
            sam2_fail(err, SAM2_ERR_ARGUMENT, "more than one %s given ('%s' and '%s')",
                      spec->positional, positional, a);
            return CLI_PARSE_ERROR;
        } else {
            positional = a;
            *(const char **)((char *)args + spec->positional_offset) = a;
        }
    }
    return check_required(spec, positional, seen, err) ? CLI_PARSE_ERROR : CLI_PARSE_OK;
}

/* ---- help ------------------------------------------------------------------------------- */

/* "--name META", "--name", or "ENV=META" for a setting without a flag, into buf. */
static void option_label(const cli_option *o, char *buf, size_t n) {
    if (!o->name)
        snprintf(buf, n, "%s=%s", o->env, o->metavar ? o->metavar : "VALUE");
    else if (!o->metavar)
        snprintf(buf, n, "%s", o->name);
    else if (o->kind == CLI_ARG_OPTIONAL)
        snprintf(buf, n, "%s [%s]", o->name, o->metavar);
    else
        snprintf(buf, n, "%s %s", o->name, o->metavar);
}

void cli_print_usage(const cli_spec *spec, FILE *f, const char *lead) {
    char head[128];
    snprintf(head, sizeof head, "%s sam2 %s", lead, spec->command);
    const int indent = (int)strlen(head);
    int col = fprintf(f, "%s", head);
    if (spec->usage_args) {
        fprintf(f, " %s\n", spec->usage_args);
        return;
    }
    for (int k = -1; k < spec->n_options; k++) {
        char label[128], item[160];
        if (k < 0) {
            if (!spec->positional) continue;
            snprintf(item, sizeof item, spec->positional_required ? "%s" : "[%s]",
                     spec->positional);
        } else {
            const cli_option *o = &spec->options[k];
            option_label(o, label, sizeof label);
            const int required = (o->flags & CLI_REQUIRED) != 0;
            const char *more = (o->flags & CLI_REPEATABLE) ? "..." : "";
            snprintf(item, sizeof item, required ? (*more ? "(%s)%s" : "%s%s") : "[%s]%s", label,
                     more);
        }
        const int len = (int)strlen(item);
        if (col + 1 + len > HELP_WIDTH && col > indent) col = fprintf(f, "\n%*s", indent, "") - 1;
        col += fprintf(f, " %s", item);
    }
    fputc('\n', f);
}

void cli_print_help(const cli_spec *spec, FILE *f) {
    cli_print_usage(spec, f, "usage:");
    if (spec->about) fprintf(f, "\n%s\n", spec->about);
    int width = (int)strlen("--help");
    char label[128];
    for (int k = 0; k < spec->n_options; k++) {
        option_label(&spec->options[k], label, sizeof label);
        if ((int)strlen(label) > width) width = (int)strlen(label);
    }
    fputc('\n', f);
    for (int k = 0; k < spec->n_options; k++) {
        const cli_option *o = &spec->options[k];
        option_label(o, label, sizeof label);
        const char *h = o->help ? o->help : "";
        fprintf(f, "  %-*s  ", width, label);
        for (const char *nl; (nl = strchr(h, '\n')); h = nl + 1)
            fprintf(f, "%.*s\n  %-*s  ", (int)(nl - h), h, width, "");
        fprintf(f, "%s\n", h);
        if (o->name && o->env) fprintf(f, "  %-*s  (environment: %s)\n", width, "", o->env);
    }
    fprintf(f, "  %-*s  %s\n", width, "--help", "this text");
    if (spec->notes) fprintf(f, "\n%s\n", spec->notes);
}

int cli_parse_command(const cli_spec *spec, int argc, char **argv, void *args) {
    sam2_error err = {0};
    const int rc = cli_parse_args(spec, argc, argv, args, &err);
    if (rc == CLI_PARSE_OK) return -1;
    if (rc == CLI_PARSE_HELP) {
        cli_print_help(spec, stdout);
        return CLI_OK;
    }
    fprintf(stderr, "sam2 %s: %s\n", spec->command, err.message);
    return CLI_USAGE;
}

int cli_parse_backend(void *args, const char *value, sam2_error *err) {
    (void)args, (void)err; /* an unknown name gets the row's `expect` message */
    return sam2_set_backend(value) == SAM2_OK ? 0 : -1;
}
