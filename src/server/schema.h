/* The demo's GraphQL schema: the official backend's types as SDL, with its resolvers. */
#ifndef SAM2_SERVER_SCHEMA_H
#define SAM2_SERVER_SCHEMA_H

#include "sam2.h"
#include "server/graphql/gql_schema.h"

gql_schema *demo_schema_new(sam2_error *err);

#endif
