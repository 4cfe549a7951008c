/* libFuzzer target: GraphQL documents and variables through the whole engine (lexer, parser,
 * validation, variable coercion, execution, completion). Input: the document, a NUL byte, then
 * the variables as JSON. The schema has the demo's shapes (interfaces, input objects with
 * defaults, nested lists, Upload) with resolvers that echo their arguments. */
#include "server/graphql/gql_exec.h"
#include "server/graphql/gql_schema.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static cJSON *echo_args(const gql_resolve_info *info, gql_err *err) {
    (void)err;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "__typename", "Video");
    cJSON_AddStringToObject(o, "id", "VmlkZW86eA==");
    cJSON_AddStringToObject(o, "path", "gallery/x.mp4");
    cJSON_AddNumberToObject(o, "width", 1280);
    cJSON_AddNumberToObject(o, "height", 720);
    char *args = cJSON_PrintUnformatted(info->args);
    cJSON_AddStringToObject(o, "args", args ? args : "");
    cJSON_free(args);
    cJSON *list = cJSON_AddArrayToObject(o, "rleMaskList");
    for (int i = 0; i < 3; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddNumberToObject(m, "objectId", i);
        cJSON *r = cJSON_AddObjectToObject(m, "rleMask");
        cJSON *size = cJSON_AddArrayToObject(r, "size");
        cJSON_AddItemToArray(size, cJSON_CreateNumber(720));
        cJSON_AddItemToArray(size, cJSON_CreateNumber(i == 2 ? 1e12 : 1280)); /* one bad Int */
        cJSON_AddStringToObject(r, "counts", "abc");
        cJSON_AddItemToArray(list, m);
    }
    cJSON_AddNumberToObject(o, "frameIndex", 3);
    return o;
}

static cJSON *fail_resolver(const gql_resolve_info *info, gql_err *err) {
    (void)info;
    strcpy(err->message, "resolver failed");
    return NULL;
}

static int upload_index(void *app, const cJSON *v) {
    (void)app;
    return cJSON_IsObject(v) && !v->child ? 0 : -1;
}

static gql_schema *build(void) {
    gql_schema *s = gql_schema_new();
    gql_schema_add_scalar(s, "Int", GQL_INT);
    gql_schema_add_scalar(s, "Float", GQL_FLOAT);
    gql_schema_add_scalar(s, "String", GQL_STRING);
    gql_schema_add_scalar(s, "Boolean", GQL_BOOLEAN);
    gql_schema_add_scalar(s, "ID", GQL_ID);
    gql_schema_add_scalar(s, "GlobalID", GQL_GLOBAL_ID);
    gql_schema_add_scalar(s, "Upload", GQL_UPLOAD);
    gql_type *node = gql_schema_add_interface(s, "Node");
    gql_type_add_field(s, node, "id", "GlobalID!", NULL);
    gql_type *video = gql_schema_add_object(s, "Video");
    gql_type_implements(video, node);
    gql_type_add_field(s, video, "id", "GlobalID!", NULL);
    gql_type_add_field(s, video, "path", "String!", NULL);
    gql_type_add_field(s, video, "posterPath", "String", NULL);
    gql_type_add_field(s, video, "width", "Int!", NULL);
    gql_type_add_field(s, video, "height", "Int!", NULL);
    gql_type_add_field(s, video, "missing", "[Int!]!", NULL);
    gql_type *rle = gql_schema_add_object(s, "RLEMask");
    gql_type_add_field(s, rle, "size", "[Int!]!", NULL);
    gql_type_add_field(s, rle, "counts", "String!", NULL);
    gql_type *mfo = gql_schema_add_object(s, "RLEMaskForObject");
    gql_type_add_field(s, mfo, "objectId", "Int!", NULL);
    gql_type_add_field(s, mfo, "rleMask", "RLEMask!", NULL);
    gql_type *frame = gql_schema_add_object(s, "RLEMaskListOnFrame");
    gql_type_add_field(s, frame, "frameIndex", "Int!", NULL);
    gql_type_add_field(s, frame, "rleMaskList", "[RLEMaskForObject!]!", NULL);
    gql_type_add_field(s, frame, "rleMaskListNullable", "[RLEMaskForObject]", NULL);
    gql_type_add_field(s, frame, "video", "Node", echo_args);
    gql_type *in = gql_schema_add_input(s, "AddPointsInput");
    gql_input_add_field(s, in, "sessionId", "String!", NULL);
    gql_input_add_field(s, in, "frameIndex", "Int!", NULL);
    gql_input_add_field(s, in, "clearOldPoints", "Boolean", "true");
    gql_input_add_field(s, in, "labels", "[Int!]!", NULL);
    gql_input_add_field(s, in, "points", "[[Float!]!]!", NULL);
    gql_input_add_field(s, in, "id", "ID", NULL);
    gql_type *q = gql_schema_add_object(s, "Query");
    gql_field_def *f = gql_type_add_field(s, q, "videos", "[Video!]!", NULL);
    gql_field_add_arg(s, f, "first", "Int", "null");
    f = gql_type_add_field(s, q, "defaultVideo", "Video!", echo_args);
    gql_field_add_arg(s, f, "after", "String", "\"x\"");
    gql_type_add_field(s, q, "node", "Node", echo_args);
    gql_type_add_field(s, q, "boom", "String", fail_resolver);
    gql_type *m = gql_schema_add_object(s, "Mutation");
    f = gql_type_add_field(s, m, "addPoints", "RLEMaskListOnFrame!", echo_args);
    gql_field_add_arg(s, f, "input", "AddPointsInput!", NULL);
    f = gql_type_add_field(s, m, "uploadVideo", "Video!", echo_args);
    gql_field_add_arg(s, f, "file", "Upload!", NULL);
    gql_field_add_arg(s, f, "startTimeSec", "Float", "null");
    gql_schema_set_roots(s, q, m);
    gql_err err = {{0}};
    if (gql_schema_finish(s, &err)) abort();
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static gql_schema *schema;
    if (!schema) schema = build();
    const char *doc = (const char *)data;
    const uint8_t *nul = memchr(data, 0, size);
    size_t doc_len = nul ? (size_t)(nul - data) : size;
    cJSON *vars = NULL;
    if (nul) {
        size_t vlen = size - doc_len - 1;
        vars = cJSON_ParseWithLength((const char *)nul + 1, vlen);
    }
    /* The document is handed over without a terminating NUL, as the HTTP layer may. */
    gql_request req = {doc, doc_len, NULL, cJSON_IsObject(vars) ? vars : NULL, NULL, upload_index};
    gql_limits lim = {32, 5000, 2000};
    cJSON *resp = gql_execute(schema, &req, &lim);
    if (resp) {
        char *text = cJSON_PrintUnformatted(resp);
        cJSON_free(text);
        cJSON_Delete(resp);
    }
    cJSON_Delete(vars);
    return 0;
}
