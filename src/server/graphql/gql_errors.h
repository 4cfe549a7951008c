/* A request's GraphQL error list, filled by the validator and then by the executor (its own
 * module so that neither of the two depends on the other for it). */
#ifndef SAM2_GRAPHQL_GQL_ERRORS_H
#define SAM2_GRAPHQL_GQL_ERRORS_H

#include "server/graphql/gql_ast.h"

#include <cjson/cJSON.h>

#define GQL_MAX_ERRORS 100
#define GQL_MAX_FRAGMENTS 1000
#define GQL_MAX_OPERATIONS 1000

typedef struct gql_errors {
    cJSON *list; /* array of {message, locations, path} */
    int count;
} gql_errors;

/* Adds one error; `path` (a JSON array, may be NULL) is taken over. */
void gql_error_add(gql_errors *e, const char *message, const gql_loc *locs, int n_locs,
                   cJSON *path);

#endif
