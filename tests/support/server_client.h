/* The client side of the server tests: GraphQL over HTTP, the session mutations with the official
 * frontend's documents (frontend_gql.h), and the propagation stream read by the strict
 * MultipartStream.ts-like reader (savi_stream.h). The gql_* calls check with cmocka: a request
 * that fails at the HTTP level, or an answer that is not 200 with JSON, fails the calling test. */
#ifndef SAM2_TEST_SERVER_CLIENT_H
#define SAM2_TEST_SERVER_CLIENT_H

#include "support/frontend_gql.h"
#include "support/http_client.h"
#include "support/savi_stream.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* Where and how a test's requests go. */
typedef struct server_client {
    int port;
    int timeout_ms; /* for each request, and for each wait on a stream */
    /* "Name: value\r\n" lines that GraphQL requests carry after their Content-Type, or NULL. */
    const char *extra_headers;
} server_client;

/* POSTs {query, variables} as JSON to /graphql (variables_json: an object's text, or NULL) and
 * returns the parsed answer (caller frees). */
cJSON *gql_call(const server_client *c, const char *query, const char *variables_json);
/* As gql_call, without cmocka (for client threads, and for answers that are not 200): the parsed
 * answer or NULL (no answer, or not JSON); *status gets the HTTP status (0: no answer) and node
 * (when not NULL) the answering replica's X-Sam2-Node header ("" when absent). */
cJSON *gql_post(const server_client *c, const char *query, const char *variables_json, int *status,
                char *node, size_t node_cap);
/* The message of the answer's first error, or NULL. */
const char *gql_error_message(const cJSON *resp);

/* startSession(path) with the frontend's document: the new session's id (caller frees), or NULL
 * with the first error's message ("?" when there is none) in why (which may be NULL). */
char *gql_start_session(const server_client *c, const char *path, char *why, size_t cap);
/* closeSession and cancelPropagateInVideo with the frontend's documents: the answer's success, 1
 * or 0; -1 when it has none. */
int gql_close_session(const server_client *c, const char *sid);
int gql_cancel_propagation(const server_client *c, const char *sid);

/* The frontend's multipart uploadVideo request (Relay's form: operations, map, then the file)
 * with `len` bytes of content named filename. 0 or -1, as http_request. */
int frontend_upload(int port, const char *filename, const void *content, size_t len,
                    http_response *r, int timeout_ms);

/* POST /propagate_in_video from frame `start`; NULL when no answer's head came back. */
http_stream *propagation_open(const server_client *c, const char *sid, int start);
/* Reads a propagation stream strictly, handing each part to fn, up to the end of the body or, when
 * max_parts > 0, until *parts_seen (a count fn keeps; may be NULL when max_parts is 0) reaches
 * max_parts. NULL, or what was wrong (in a thread-local buffer, valid until the thread's next
 * failed read). */
const char *propagation_read(http_stream *s, savi_part_fn fn, void *user, const int *parts_seen,
                             int max_parts);

#endif
