/* Shared by the validator and the executor: the request's error list. */
#ifndef SAM2_SERVER_GQL_INTERNAL_H
#define SAM2_SERVER_GQL_INTERNAL_H

#include "server/gql_ast.h"
#include "server/gql_schema.h"

#include <cjson/cJSON.h>

#define GQL_MAX_ERRORS 100
#define GQL_MAX_FRAGMENTS 1000
#define GQL_MAX_OPERATIONS 1000

typedef struct gql_errors {
    cJSON *list; /* array of {message, locations, path} */
    int count;
} gql_errors;

/* Adds one error; `path` (a JSON array, may be NULL) is taken over. */
void gql_error_add(gql_errors *e, const char *message, const gql_loc *locs, int n_locs, cJSON *path);

/* Runs the validation rules over the whole document; returns the number of errors added. */
int gql_validate(const gql_schema *s, gql_document *doc, gql_errors *errors);

#endif
