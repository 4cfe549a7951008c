/* The driver of http_cases.h: one request per row, its answer checked against the row. */
#include "support/http_cases.h"

#include "support/http_client.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* text with every "$SID" replaced by sid (caller frees); a copy when sid is NULL. */
static char *with_session(const char *text, const char *sid) {
    if (!text) return NULL;
    const char *mark = "$SID";
    const size_t sid_len = sid ? strlen(sid) : 0, mark_len = strlen(mark);
    size_t n = 0;
    for (const char *p = text; sid && (p = strstr(p, mark)); p += mark_len) n++;
    char *out = malloc(strlen(text) + n * sid_len + 1);
    if (!out) return NULL;
    char *w = out;
    for (const char *p = text; *p;) {
        if (sid && !strncmp(p, mark, mark_len)) {
            memcpy(w, sid, sid_len);
            w += sid_len;
            p += mark_len;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return out;
}

/* {query, variables} as the frontend posts it; NULL when the variables are not JSON. */
static char *graphql_body(const char *query, const char *variables) {
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "query", query);
    if (variables) {
        cJSON *vars = cJSON_Parse(variables);
        if (!vars) {
            cJSON_Delete(body);
            return NULL;
        }
        cJSON_AddItemToObject(body, "variables", vars);
    }
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    return text;
}

typedef struct report {
    char *text;
    size_t cap, used;
    int failed;
} report;

static void row_failed(report *r, const http_case *row, const char *fmt, ...) {
    r->failed++;
    if (r->used + 1 >= r->cap) return;
    int n = snprintf(r->text + r->used, r->cap - r->used, "%s: ", row->name);
    if (n > 0) r->used += (size_t)n < r->cap - r->used ? (size_t)n : r->cap - r->used - 1;
    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(r->text + r->used, r->cap - r->used, fmt, ap);
    va_end(ap);
    if (n > 0) r->used += (size_t)n < r->cap - r->used ? (size_t)n : r->cap - r->used - 1;
    if (r->used + 1 < r->cap) r->text[r->used++] = '\n';
    r->text[r->used] = '\0';
}

/* want: "Name: text". Reports and returns 1 when the header is missing or lacks the text. */
static int header_missing(report *rep, const http_case *row, const http_response *r,
                          const char *want) {
    char name[128], value[512];
    const char *colon = strchr(want, ':');
    const size_t len = colon ? (size_t)(colon - want) : strlen(want);
    snprintf(name, sizeof name, "%.*s", (int)len, want);
    const char *text = colon ? colon + 1 + strspn(colon + 1, " ") : "";
    if (!http_header(r->headers, name, value, sizeof value)) {
        row_failed(rep, row, "no header %s", name);
        return 1;
    }
    if (!strstr(value, text)) {
        row_failed(rep, row, "header %s is '%s', expected '%s' in it", name, value, text);
        return 1;
    }
    return 0;
}

/* The answer against the row; the first difference is reported. */
static void check_answer(report *rep, const http_case_env *env, const http_case *row,
                         const http_response *r) {
    const char *body = r->body ? r->body : "";
    if (r->status != row->status) {
        row_failed(rep, row, "status %d, expected %d: %.300s", r->status, row->status, body);
        return;
    }
    for (int i = 0; i < HTTP_CASE_EXPECTS; i++)
        if (row->expect[i] && !strstr(body, row->expect[i])) {
            row_failed(rep, row, "expected '%s' in: %.300s", row->expect[i], body);
            return;
        }
    if (row->absent && strstr(body, row->absent)) {
        row_failed(rep, row, "'%s' must not appear in: %.300s", row->absent, body);
        return;
    }
    for (int i = 0; i < HTTP_CASE_EXPECTS + 1; i++)
        if (row->header[i] && header_missing(rep, row, r, row->header[i])) return;
    char value[512];
    if (row->no_header && http_header(r->headers, row->no_header, value, sizeof value)) {
        row_failed(rep, row, "header %s must be absent; it is '%s'", row->no_header, value);
        return;
    }
    if (env->never && *env->never && strstr(body, env->never)) {
        row_failed(rep, row, "the answer names '%s': %.300s", env->never, body);
        return;
    }
    if (row->json || row->query) {
        char type[128];
        cJSON *j = cJSON_Parse(body);
        if (!j)
            row_failed(rep, row, "not JSON: %.300s", body);
        else if (!http_header(r->headers, "Content-Type", type, sizeof type) ||
                 !strstr(type, "application/json"))
            row_failed(rep, row, "served without Content-Type application/json");
        cJSON_Delete(j);
    }
}

static void run_row(report *rep, const http_case_env *env, const http_case *row) {
    char *path = NULL, *body = NULL;
    const char *method = row->method, *headers = row->headers;
    if (row->query) {
        char *vars = with_session(row->variables, env->session);
        body = graphql_body(row->query, vars);
        free(vars);
        method = "POST";
        path = strdup("/graphql");
        if (!headers) headers = "Content-Type: application/json\r\n";
        if (!body) {
            row_failed(rep, row, "the row's variables are not JSON");
            free(path);
            return;
        }
    } else {
        path = with_session(row->path, env->session);
        body = with_session(row->body, env->session);
    }
    http_response r;
    if (http_request(env->port, method, path, headers, body, body ? strlen(body) : 0, &r,
                     env->timeout_ms)) {
        row_failed(rep, row, "%s %s: no answer", method, path);
    } else {
        check_answer(rep, env, row, &r);
        http_response_free(&r);
    }
    free(path);
    free(body);
}

int http_cases_run(const http_case_env *env, const http_case *rows, size_t n, char *text,
                   size_t cap) {
    report rep = {text, cap, 0, 0};
    if (cap) text[0] = '\0';
    for (size_t i = 0; i < n; i++) run_row(&rep, env, &rows[i]);
    return rep.failed;
}
