/* Request -> answer tables for the server tests, in SQLite's manner: each row is one request
 * (method, path, headers, body, or a GraphQL document with its variables) and what must come
 * back (status, texts the body must contain, a text it must not). One driver runs a whole table
 * and reports every row that failed, not only the first, each by its name. */
#ifndef SAM2_TEST_HTTP_CASES_H
#define SAM2_TEST_HTTP_CASES_H

#include <stddef.h>

#define HTTP_CASE_EXPECTS 3

typedef struct http_case {
    const char *name; /* what the row checks, printed when it fails */
    /* The request. With `query` set it is a GraphQL POST to /graphql with Content-Type
     * application/json, its body {query, variables} built by the driver (method, path and
     * body are then ignored). */
    const char *method, *path;
    const char *headers; /* "Name: value\r\n" lines, or NULL */
    const char *body;    /* or NULL */
    const char *query, *variables;
    /* The answer. */
    int status;
    const char *expect[HTTP_CASE_EXPECTS]; /* texts the body must contain (NULL: unused) */
    const char *absent;                    /* a text the body must not contain, or NULL */
    /* "Name: text": the answer has header Name and its value contains text (NULL: unused). */
    const char *header[HTTP_CASE_EXPECTS + 1];
    const char *no_header; /* a header the answer must not have, or NULL */
    int json;              /* the body must be JSON, served as application/json */
} http_case;

/* What every row of a run shares. `session` replaces each "$SID" in a row's path, body and
 * variables (NULL: none); no answer may contain `never` (NULL: unchecked), e.g. DATA_PATH. */
typedef struct http_case_env {
    int port;
    int timeout_ms;
    const char *session;
    const char *never;
} http_case_env;

/* Runs every row; returns how many failed, their reasons (one line each, as many as fit) in
 * report. */
int http_cases_run(const http_case_env *env, const http_case *rows, size_t n, char *report,
                   size_t cap);

/* The rows of a table given as an array. */
#define HTTP_CASES_COUNT(rows) (sizeof(rows) / sizeof((rows)[0]))

#endif
