/* The videos connection's Relay cursors (schema.c): base64("arrayconnection:<n>"), as Strawberry
 * writes them. Clients send them back as `after` / `before`: outside input, fuzzed by
 * fuzz/fuzz_relay_cursor.c. */
#ifndef SAM2_SERVER_SCHEMA_CURSOR_H
#define SAM2_SERVER_SCHEMA_CURSOR_H

#include "sam2.h"

/* The index n (0 to 10^9) of a cursor; -1 with err naming the argument `which` ("after",
 * "before") as Strawberry does when it is not one. */
long schema_parse_cursor(const char *which, const char *cursor, sam2_error *err);

#endif
