#include "server/json_body.h"

#include <stdio.h>
#include <string.h>

/* Counts values (approximately: every ',' '[' '{' ':' outside strings, plus one) and checks the
 * nesting depth, without allocating. */
static int prescan(const char *s, size_t n, size_t max_values, char *msg, size_t cap) {
    size_t values = 1;
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
            else if (c == 0) {
                snprintf(msg, cap,
                         "Unable to parse request body as JSON: NUL byte inside a string");
                return -1;
            }
            continue;
        }
        switch (c) {
        case '"':
            in_str = 1;
            break;
        case '[':
        case '{':
            if (++depth > JSON_MAX_DEPTH) {
                snprintf(msg, cap,
                         "Unable to parse request body as JSON: nested deeper than %d levels",
                         JSON_MAX_DEPTH);
                return -1;
            }
            values++;
            break;
        case ']':
        case '}':
            depth--;
            break;
        case ',':
        case ':':
            values++;
            break;
        case 0:
            snprintf(msg, cap, "Unable to parse request body as JSON: NUL byte");
            return -1;
        default:
            break;
        }
        if (values > max_values) {
            snprintf(msg, cap,
                     "The request body holds more than %zu JSON values; send less data per request",
                     max_values);
            return -1;
        }
    }
    return 0;
}

cJSON *json_body_parse(const char *data, size_t len, size_t max_values, char *msg, size_t cap) {
    if (!data || len == 0) {
        snprintf(msg, cap, "Unable to parse request body as JSON: the body is empty");
        return NULL;
    }
    if (prescan(data, len, max_values, msg, cap)) return NULL;
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(data, len, &end, 0);
    if (!v) {
        /* cJSON reports the error position through `end` (its global error pointer is not
         * thread-safe, so it is not used). */
        size_t off = end && end >= data && end <= data + len ? (size_t)(end - data) : 0;
        snprintf(msg, cap, "Unable to parse request body as JSON: syntax error near byte %zu", off);
        return NULL;
    }
    /* Only white space may follow the value. */
    size_t pos = end && end >= data ? (size_t)(end - data) : len;
    for (; pos < len; pos++) {
        char c = data[pos];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            cJSON_Delete(v);
            snprintf(
                msg, cap,
                "Unable to parse request body as JSON: unexpected data after the value at byte %zu",
                pos);
            return NULL;
        }
    }
    return v;
}

int graphql_fields(const cJSON *body, const char **query, cJSON **variables,
                   const char **operation_name, char *msg, size_t cap) {
    *query = NULL;
    *variables = NULL;
    *operation_name = NULL;
    if (cJSON_IsArray(body)) {
        snprintf(msg, cap,
                 "Batched GraphQL requests are not supported; send one operation per request");
        return -1;
    }
    if (!cJSON_IsObject(body)) {
        snprintf(msg, cap, "The request body must be a JSON object with a \"query\"");
        return -1;
    }
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(body, "query");
    if (!cJSON_IsString(q)) {
        snprintf(msg, cap, "No GraphQL query found in the request");
        return -1;
    }
    cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "variables");
    if (v && !cJSON_IsNull(v) && !cJSON_IsObject(v)) {
        snprintf(msg, cap, "\"variables\" must be a JSON object");
        return -1;
    }
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(body, "operationName");
    if (op && !cJSON_IsNull(op) && !cJSON_IsString(op)) {
        snprintf(msg, cap, "\"operationName\" must be a string");
        return -1;
    }
    *query = q->valuestring;
    *variables = cJSON_IsObject(v) ? v : NULL;
    *operation_name = cJSON_IsString(op) ? op->valuestring : NULL;
    return 0;
}
