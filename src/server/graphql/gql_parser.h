/* GraphQL parser for executable documents: operations (query, mutation, subscription),
 * variable definitions with defaults, fragments, inline fragments, aliases, arguments,
 * directives and every value kind. Type-system definitions are refused (a server only executes).
 * Nesting depth and token count are bounded so hostile documents cannot exhaust the stack. */
#ifndef SAM2_GRAPHQL_GQL_PARSER_H
#define SAM2_GRAPHQL_GQL_PARSER_H

#include "server/graphql/gql_ast.h"

typedef struct gql_parse_limits {
    int max_depth;     /* nesting of selection sets, values and types (default 64) */
    int max_tokens;    /* default 100000 */
    size_t max_memory; /* AST bytes (default 64 MiB) */
} gql_parse_limits;

typedef struct gql_parse_error {
    char message[300]; /* "Syntax Error: ..." */
    gql_loc loc;
} gql_parse_error;

/* Returns the document (free with gql_document_free) or NULL with `error` filled. `limits` may
 * be NULL for the defaults. */
gql_document *gql_parse(const char *src, size_t len, const gql_parse_limits *limits,
                        gql_parse_error *error);
void gql_document_free(gql_document *doc);

#endif
