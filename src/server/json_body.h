/* JSON request bodies: a cheap pre-scan bounds the number of values and the nesting before
 * cJSON builds anything (a 16 MB body of numbers would otherwise cost gigabytes of nodes), then
 * the body is parsed strictly (one value, nothing after it). Also reads the GraphQL-over-HTTP
 * request fields. */
#ifndef SAM2_SERVER_JSON_BODY_H
#define SAM2_SERVER_JSON_BODY_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define JSON_MAX_DEPTH 256

/* Returns the parsed value, or NULL with msg set ("Unable to parse request body as JSON: ..."). */
cJSON *json_body_parse(const char *data, size_t len, size_t max_values, char *msg, size_t cap);

/* {"query": "...", "variables": {...} | null, "operationName": "..." | null}. Returns 0, or -1
 * with msg set when the body is not a GraphQL request. */
int graphql_fields(const cJSON *body, const char **query, cJSON **variables,
                   const char **operation_name, char *msg, size_t cap);

#endif
