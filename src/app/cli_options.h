/* The `sam2` subcommands' options, `sam2 serve`'s included, declared as tables: one parser reads
 * every command's arguments (and, for rows that name one, an environment variable) into its
 * arguments struct, and one printer writes every command's --help from the same table, so the
 * help cannot drift from what is accepted. It lives in the app-support library because the
 * server's configuration (src/server/config.c) is one of these tables, and the server may not
 * include the CLI.
 *
 * Accepted forms: "--name VALUE" and "--name=VALUE" (the value may start with '-': the option
 * takes whatever follows it), flags as "--name", "--help" / "-h" anywhere (in order: an error
 * before it wins), and at most one positional argument ("-" alone counts as one). An option
 * given twice keeps its last value unless its own parse function refuses the repeat. */
#ifndef SAM2_APP_CLI_OPTIONS_H
#define SAM2_APP_CLI_OPTIONS_H

#include "sam2.h"

#include <stddef.h>
#include <stdio.h>

/* The commands' exit statuses: 0 success, 1 runtime failure, 2 bad input or usage. */
#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

/* Whole-string parses (no trailing characters, no overflow); 0 on success. cli_parse_float
 * accepts "nan"/"inf" so the library can reject them with its own message. */
int cli_parse_int(const char *s, int *out);
int cli_parse_float(const char *s, float *out);

typedef enum cli_arg_kind {
    CLI_ARG_FLAG,      /* no value: the int at `offset` becomes 1 */
    CLI_ARG_FLAG_OFF,  /* no value: the int at `offset` becomes 0 ("--no-NAME") */
    CLI_ARG_STRING,    /* const char * at `offset`, pointing into argv */
    CLI_ARG_OPTIONAL,  /* const char *: "--name [VALUE]" takes the next argument unless it looks
                          like an option ("-" alone is a value); "" when there is none */
    CLI_ARG_INT,       /* int in [min, max] */
    CLI_ARG_FLOAT,     /* float in [min, max] (NaN refused) */
    CLI_ARG_CUSTOM,    /* parse(args, value, err) does the work */
    CLI_ARG_DOUBLE,    /* double in [min, max] (NaN and infinities refused) */
    CLI_ARG_SIZE,      /* size_t, a whole number in [min, max] */
    CLI_ARG_MEGABYTES, /* size_t holding bytes, given as a whole number of MB in [min, max] */
    CLI_ARG_BOOL,      /* int 0 or 1, given as 1/0, true/false, yes/no, on/off ("" is 0) */
    CLI_ARG_BUFFER,    /* char[size] at `offset`: the value copied, refused when it does not fit */
} cli_arg_kind;

enum {
    CLI_REQUIRED = 1,   /* the parser refuses a command line without it */
    CLI_REPEATABLE = 2, /* help only: shown as "[--name V]..." (parse must accumulate) */
};

typedef struct cli_option {
    const char *name; /* "--threads"; NULL for a setting only the environment gives */
    const char *env;  /* the environment variable that also sets it (cli_parse_env), or NULL */
    cli_arg_kind kind;
    size_t offset;       /* where the value goes in the command's arguments struct */
    const char *metavar; /* the value's name in the help ("N", "PATH"); NULL for flags */
    const char *help;    /* shown beside the option; '\n' starts a continuation line */
    unsigned flags;      /* CLI_REQUIRED, CLI_REPEATABLE */
    double min, max;     /* range of the numeric kinds' values */
    /* The field's size: BUFFER's char array (required); for the other kinds, when given
     * (CLI_OPT_SETTING), the parsers refuse a table whose field does not hold what the kind
     * stores. */
    size_t size;
    /* Completes "--name 'VALUE': expected ..." when the value is refused (INT, FLOAT, and a
     * CUSTOM parse that fails without a message of its own); NULL: the numeric kinds say their
     * range ("a whole number between 1 and 64"). */
    const char *expect;
    /* CUSTOM: stores `value` into `args`; non-zero to refuse it, with err's message set to the
     * whole line (it should name the option) or left empty for the `expect` message. */
    int (*parse)(void *args, const char *value, sam2_error *err);
} cli_option;

typedef struct cli_spec {
    const char *command;    /* "segment", "bench image": used in messages and the usage line */
    const char *positional; /* the positional argument's name ("VIDEO"), NULL when none */
    size_t positional_offset;
    int positional_required;
    const char *about; /* the paragraph after the usage lines */
    const cli_option *options;
    int n_options;
    const char *notes; /* printed after the options, NULL when none */
    /* The usage line's arguments when the options are too many to list there ("[OPTIONS]");
     * NULL lists every option. */
    const char *usage_args;
} cli_spec;

/* One row per kind (designated initializers: the fields a kind does not use stay zero). */
#define CLI_OPT_FLAG(NAME, OFFSET, HELP)                                                           \
    { .name = NAME, .kind = CLI_ARG_FLAG, .offset = OFFSET, .help = HELP }
#define CLI_OPT_STRING(NAME, OFFSET, METAVAR, HELP, FLAGS)                                         \
    {                                                                                              \
        .name = NAME, .kind = CLI_ARG_STRING, .offset = OFFSET, .metavar = METAVAR, .help = HELP,  \
        .flags = FLAGS                                                                             \
    }
#define CLI_OPT_OPTIONAL(NAME, OFFSET, METAVAR, HELP)                                              \
    { .name = NAME, .kind = CLI_ARG_OPTIONAL, .offset = OFFSET, .metavar = METAVAR, .help = HELP }
#define CLI_OPT_INT(NAME, OFFSET, METAVAR, HELP, MIN, MAX, EXPECT)                                 \
    {                                                                                              \
        .name = NAME, .kind = CLI_ARG_INT, .offset = OFFSET, .metavar = METAVAR, .help = HELP,     \
        .min = MIN, .max = MAX, .expect = EXPECT                                                   \
    }
#define CLI_OPT_FLOAT(NAME, OFFSET, METAVAR, HELP, MIN, MAX, EXPECT)                               \
    {                                                                                              \
        .name = NAME, .kind = CLI_ARG_FLOAT, .offset = OFFSET, .metavar = METAVAR, .help = HELP,   \
        .min = MIN, .max = MAX, .expect = EXPECT                                                   \
    }
#define CLI_OPT_CUSTOM(NAME, PARSE, METAVAR, HELP, FLAGS, EXPECT)                                  \
    {                                                                                              \
        .name = NAME, .kind = CLI_ARG_CUSTOM, .metavar = METAVAR, .help = HELP, .flags = FLAGS,    \
        .expect = EXPECT, .parse = PARSE                                                           \
    }

/* A row that the environment may also set (sam2 serve's settings): ENV is the variable, NAME
 * the flag (either may be NULL), KIND any kind that takes a value. */
#define CLI_OPT_SETTING(NAME, ENV, KIND, OFFSET, SIZE, METAVAR, MIN, MAX, HELP)                    \
    {                                                                                              \
        .name = NAME, .env = ENV, .kind = KIND, .offset = OFFSET, .size = SIZE,                    \
        .metavar = METAVAR, .help = HELP, .min = MIN, .max = MAX                                   \
    }

/* --backend NAME, in every command that loads a model: the model computes on NAME
 * (sam2_set_backend at parse time, so it holds for the loads that follow; $SAM2_BACKEND is the
 * default). */
int cli_parse_backend(void *args, const char *value, sam2_error *err);
#define CLI_OPT_BACKEND                                                                            \
    CLI_OPT_CUSTOM(                                                                                \
        "--backend", cli_parse_backend, "NAME",                                                    \
        "compute backend: auto, cpu, ref or check\n(default: $SAM2_BACKEND, else auto)", 0,        \
        "auto, cpu, ref or check")

#define CLI_OPTIONS(table) (table), (int)(sizeof(table) / sizeof((table)[0]))

/* Outcomes of cli_parse_args. */
#define CLI_PARSE_OK 0
#define CLI_PARSE_HELP 1
#define CLI_PARSE_ERROR (-1)

/* Reads the environment variable of every row that names one (getenv), for settings whose
 * defaults the environment may change before the command line does. An empty value leaves a
 * numeric setting unset (as in shell scripts). CLI_PARSE_ERROR sets err with a message naming
 * the variable and its value ("NAME=VALUE: expected ..."). */
int cli_parse_env(const cli_spec *spec, void *args, sam2_error *err);

/* Reads argv[1..argc-1] (argv[0] is the command's name) into `args`, which the caller has set
 * to the defaults. CLI_PARSE_ERROR sets err (SAM2_ERR_ARGUMENT) with a message naming the
 * option or argument and the value at fault. */
int cli_parse_args(const cli_spec *spec, int argc, char **argv, void *args, sam2_error *err);

/* The usage lines (wrapped), about, every option with its help, and notes. */
void cli_print_help(const cli_spec *spec, FILE *f);
/* Only the usage lines ("usage: sam2 CMD ..."), `lead` replacing "usage:" (for listings). */
void cli_print_usage(const cli_spec *spec, FILE *f, const char *lead);

/* The commands' entry: parses; prints the help on stdout (exit status CLI_OK) or the error as
 * "sam2 CMD: message" on stderr (CLI_USAGE). Returns -1 when the command should go on. */
int cli_parse_command(const cli_spec *spec, int argc, char **argv, void *args);

#endif
