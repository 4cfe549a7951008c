/* Document -> answer tables for the GraphQL engine, in SQLite's manner: each row is one request
 * (document, variables, operation name) against a schema declared in SDL, and what must come
 * back (the whole response, or texts it must contain). One driver runs a whole table against
 * the engine, without HTTP, and reports every row that failed, not only the first, each by its
 * name. */
#ifndef SAM2_TEST_GQL_CASES_H
#define SAM2_TEST_GQL_CASES_H

#include "server/graphql/gql_exec.h"
#include "server/graphql/gql_schema.h"

#include <stddef.h>

#define GQL_CASE_EXPECTS 2

typedef struct gql_case {
    const char *name; /* what the row checks, printed when it fails */
    /* The request. */
    const char *document;
    const char *variables; /* a JSON object, or NULL */
    const char *operation; /* operationName, or NULL */
    /* The answer: the whole response as JSON (compared after both are printed compactly, so
     * the row may space it freely; member order counts), or NULL: unchecked. */
    const char *response;
    const char *expect[GQL_CASE_EXPECTS]; /* texts the compact response must contain */
} gql_case;

/* What every row of a table shares: the schema, as the server declares its own (SDL and a
 * resolver table), and the execution limits (NULL: the engine's defaults). */
typedef struct gql_case_env {
    const char *sdl;
    const gql_resolver_entry *resolvers;
    int n_resolvers;
    const gql_limits *limits;
} gql_case_env;

/* Builds the schema and runs every row; returns how many failed (a schema that does not build
 * is one failure), their reasons (one line each, as many as fit) in report. */
int gql_cases_run(const gql_case_env *env, const gql_case *rows, size_t n, char *report,
                  size_t cap);

/* The rows of a table given as an array. */
#define GQL_CASES_COUNT(rows) (sizeof(rows) / sizeof((rows)[0]))

#endif
