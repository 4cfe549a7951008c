#include "cli/cli_options.h"

#include "cli/cli.h"
#include "cli/cli_util.h"
#include "sam2.h"

#include <string.h>

#define HELP_WIDTH 80 /* usage lines wrap here */

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
        const size_t n = strlen(o->name);
        if (strncmp(arg, o->name, n) != 0) continue;
        if (arg[n] == '\0' || arg[n] == '=') {
            *inline_value = arg[n] == '=' ? arg + n + 1 : NULL;
            return o;
        }
    }
    return NULL;
}

static int refuse_value(const cli_option *o, const char *value, sam2_error *err) {
    return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s '%s': expected %s", o->name, value,
                     o->expect ? o->expect : "another value");
}

/* Converts and stores one option's value. */
static int store_value(const cli_option *o, const char *value, void *args, sam2_error *err) {
    char *dest = (char *)args + o->offset;
    switch (o->kind) {
    case CLI_ARG_STRING:
    case CLI_ARG_OPTIONAL:
        *(const char **)dest = value;
        return 0;
    case CLI_ARG_INT: {
        int v;
        if (cli_parse_int(value, &v) || v < o->min || v > o->max)
            return refuse_value(o, value, err);
        *(int *)dest = v;
        return 0;
    }
    case CLI_ARG_FLOAT: {
        float v;
        if (cli_parse_float(value, &v) || !(v >= o->min && v <= o->max))
            return refuse_value(o, value, err);
        *(float *)dest = v;
        return 0;
    }
    case CLI_ARG_CUSTOM: {
        sam2_error e = {0};
        if (o->parse(args, value, &e) == 0) return 0;
        if (!e.message[0]) return refuse_value(o, value, err);
        if (err) *err = e;
        return e.code ? e.code : SAM2_ERR_ARGUMENT;
    }
    case CLI_ARG_FLAG:
        break;
    }
    return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s: option kind %d unknown", o->name, (int)o->kind);
}

/* One option at argv[*i]; advances *i past a separate value. */
static int parse_option(const cli_option *o, const char *inline_value, int argc, char **argv,
                        int *i, void *args, sam2_error *err) {
    if (o->kind == CLI_ARG_FLAG) {
        if (inline_value)
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s takes no value (got '%s')", o->name,
                             inline_value);
        *(int *)((char *)args + o->offset) = 1;
        return 0;
    }
    const char *value = inline_value;
    if (!value && o->kind == CLI_ARG_OPTIONAL) {
        value = *i + 1 < argc && !looks_like_option(argv[*i + 1]) ? argv[++*i] : "";
    } else if (!value) {
        if (*i + 1 >= argc) return sam2_fail(err, SAM2_ERR_ARGUMENT, "%s needs a value", o->name);
        value = argv[++*i];
    }
    return store_value(o, value, args, err);
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

int cli_parse_args(const cli_spec *spec, int argc, char **argv, void *args, sam2_error *err) {
    unsigned char seen[64] = {0};
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
                sam2_fail(err, SAM2_ERR_ARGUMENT, "unknown argument '%s' (see sam2 %s --help)", a,
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

/* "--name META" or "--name" into buf. */
static void option_label(const cli_option *o, char *buf, size_t n) {
    if (!o->metavar)
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
    cli_error(spec->command, "%s", err.message);
    return CLI_USAGE;
}

int cli_parse_backend(void *args, const char *value, sam2_error *err) {
    (void)args, (void)err; /* an unknown name gets the row's `expect` message */
    return sam2_set_backend(value) == SAM2_OK ? 0 : -1;
}
