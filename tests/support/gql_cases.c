/* The driver of gql_cases.h: one gql_execute per row, its response checked against the row. */
#include "support/gql_cases.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct report {
    char *text;
    size_t cap, used;
    int failed;
} report;

static void add_text(report *r, const char *fmt, va_list ap) {
    if (r->used + 1 >= r->cap) return;
    const int n = vsnprintf(r->text + r->used, r->cap - r->used, fmt, ap);
    if (n > 0) r->used += (size_t)n < r->cap - r->used ? (size_t)n : r->cap - r->used - 1;
}

static void add(report *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    add_text(r, fmt, ap);
    va_end(ap);
}

static void row_failed(report *r, const char *name, const char *fmt, ...) {
    r->failed++;
    add(r, "%s: ", name);
    va_list ap;
    va_start(ap, fmt);
    add_text(r, fmt, ap);
    va_end(ap);
    add(r, "\n");
}

/* text parsed and printed again compactly (caller frees), NULL when it is not JSON. */
static char *compact_json(const char *text) {
    cJSON *j = cJSON_Parse(text);
    if (!j) return NULL;
    char *out = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return out;
}

/* The response against the row; the first difference is reported. */
static void check_response(report *rep, const gql_case *row, const char *got) {
    if (row->response) {
        char *want = compact_json(row->response);
        if (!want) {
            row_failed(rep, row->name, "the row's response is not JSON");
            return;
        }
        const int same = !strcmp(got, want);
        if (!same) row_failed(rep, row->name, "got %.600s\n  expected %.600s", got, want);
        cJSON_free(want);
        if (!same) return;
    }
    for (int i = 0; i < GQL_CASE_EXPECTS; i++)
        if (row->expect[i] && !strstr(got, row->expect[i])) {
            row_failed(rep, row->name, "expected '%s' in: %.600s", row->expect[i], got);
            return;
        }
}

static void run_row(report *rep, const gql_schema *schema, const gql_limits *limits,
                    const gql_case *row) {
    cJSON *vars = row->variables ? cJSON_Parse(row->variables) : NULL;
    if (row->variables && !vars) {
        row_failed(rep, row->name, "the row's variables are not JSON");
        return;
    }
    const gql_request req = {row->document, strlen(row->document), row->operation, vars, NULL,
                             NULL};
    cJSON *resp = gql_execute(schema, &req, limits);
    char *got = resp ? cJSON_PrintUnformatted(resp) : NULL;
    if (got)
        check_response(rep, row, got);
    else
        row_failed(rep, row->name, "no response");
    cJSON_free(got);
    cJSON_Delete(resp);
    cJSON_Delete(vars);
}

int gql_cases_run(const gql_case_env *env, const gql_case *rows, size_t n, char *text, size_t cap) {
    report rep = {text, cap, 0, 0};
    if (cap) text[0] = '\0';
    gql_err err = {{0}};
    gql_schema *schema = gql_schema_from_sdl(env->sdl, env->resolvers, env->n_resolvers, &err);
    if (!schema) {
        row_failed(&rep, "schema", "%s", err.message);
        return rep.failed;
    }
    for (size_t i = 0; i < n; i++) run_row(&rep, schema, env->limits, &rows[i]);
    gql_schema_free(schema);
    return rep.failed;
}
