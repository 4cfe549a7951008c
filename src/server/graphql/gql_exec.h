/* Executes one GraphQL request against a schema: parse, validate (the spec's validation rules
 * that matter for this schema), pick the operation, coerce variables, run the resolvers (a
 * mutation's root fields one after another) and complete the result with null propagation.
 * The answer always has the shape Strawberry gives: {"data": ..., "errors": [{message,
 * locations, path}]}, with "errors" only when there are some. */
#ifndef SAM2_GRAPHQL_GQL_EXEC_H
#define SAM2_GRAPHQL_GQL_EXEC_H

#include "server/graphql/gql_schema.h"

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct gql_limits {
    int max_depth;  /* parser nesting (default 64) */
    int max_tokens; /* parser tokens (default 100000) */
    int max_fields; /* fields resolved per request, fragments expanded (default 20000) */
} gql_limits;

typedef struct gql_request {
    const char *query;
    size_t query_len;
    const char *operation_name; /* may be NULL */
    const cJSON *variables;     /* object or NULL */
    void *app;                  /* handed to resolvers */
    /* GraphQL multipart request: index of the file part whose placeholder is `value`, or -1.
     * NULL when the request carried no files. */
    int (*upload_index)(void *app, const cJSON *value);
} gql_request;

/* The whole walk of one request: parse, validate, coerce, resolve, complete. Returns the
 * response object (never NULL unless memory runs out). `limits` may be NULL. */
cJSON *gql_execute(const gql_schema *schema, const gql_request *req, const gql_limits *limits);

/* 1 when every operation of the document is a mutation whose root fields are all named in
 * `fields` (NULL-terminated; __typename is always allowed), else 0. A document that does not
 * parse gives 1: gql_execute() then runs nothing and says why. */
int gql_only_mutations_of(const char *query, size_t len, const char *const *fields);

#endif
