/* Input coercion and output serialization of GraphQL values (spec sections 3.5, 5.6.1, 6.1.2,
 * 6.4.1): document literals and JSON variable values become JSON values of the schema's input
 * types; resolver results are checked against the schema's scalar output types. Every failure
 * comes back as a message in the words graphql-core (Strawberry's engine) uses. */
#ifndef SAM2_GRAPHQL_GQL_VALUES_H
#define SAM2_GRAPHQL_GQL_VALUES_H

#include "server/graphql/gql_schema.h"
#include "server/graphql/gql_buf.h"

#include <cjson/cJSON.h>

typedef struct gql_coerce_ctx {
    void *app;
    /* Index of the multipart file part whose placeholder is `value`, or -1. */
    int (*upload_index)(void *app, const cJSON *value);
} gql_coerce_ctx;

/* Coerces a JSON variable value. On failure returns -1, writes the reason to msg and the
 * offending sub-value's location (".frameIndex", "[2]") to path. */
int gql_coerce_json(const gql_coerce_ctx *c, const gql_type *type, const cJSON *value, cJSON **out,
                    gql_buf *path, char *msg, size_t cap);

/* Coerces a document literal. vars: the coerced variables, or NULL to only check the literal
 * (validation: variables are then accepted as they are). A variable that has no value yields
 * *out == NULL and return 0 ("absent"); the caller decides whether that is an error. */
int gql_coerce_literal(const gql_coerce_ctx *c, const gql_type *type, const gql_value *v,
                       const cJSON *vars, cJSON **out, char *msg, size_t cap);

/* Checks a resolver's leaf value against an output scalar; returns a copy or NULL with msg. */
cJSON *gql_serialize_scalar(const gql_type *scalar, const cJSON *value, char *msg, size_t cap);

/* Appends a literal in GraphQL syntax (for messages). */
void gql_print_value(gql_buf *sb, const gql_value *v);
/* Appends a JSON value compactly, cut to `max` bytes with "..." (for messages). */
void gql_print_json(gql_buf *sb, const cJSON *v, size_t max);

#endif
