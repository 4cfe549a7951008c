/* GraphQL validation (spec section 5) of a parsed document against a schema. The executor
 * calls it before running anything; it calls nothing of the executor. */
#ifndef SAM2_GRAPHQL_GQL_VALIDATE_H
#define SAM2_GRAPHQL_GQL_VALIDATE_H

#include "server/graphql/gql_ast.h"
#include "server/graphql/gql_errors.h"
#include "server/graphql/gql_schema.h"

/* Runs the validation rules over the whole document; returns the number of errors added. */
int gql_validate(const gql_schema *s, gql_document *doc, gql_errors *errors);

#endif
