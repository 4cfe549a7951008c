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

/* The schema, declared in SDL with a resolver table as the server declares its own
 * (src/server/schema.c), so that the SDL reader is on the path the fuzzer starts from. */
static const char sdl[] =
    "scalar GlobalID\n"
    "scalar Upload\n"
    "interface Node { id: GlobalID! }\n"
    "type Video implements Node {\n"
    "  id: GlobalID!  path: String!  posterPath: String  width: Int!  height: Int!\n"
    "  missing: [Int!]!\n"
    "}\n"
    "type RLEMask { size: [Int!]!  counts: String! }\n"
    "type RLEMaskForObject { objectId: Int!  rleMask: RLEMask! }\n"
    "type RLEMaskListOnFrame {\n"
    "  frameIndex: Int!  rleMaskList: [RLEMaskForObject!]!\n"
    "  rleMaskListNullable: [RLEMaskForObject]  video: Node\n"
    "}\n"
    "input AddPointsInput {\n"
    "  sessionId: String!  frameIndex: Int!  clearOldPoints: Boolean = true  labels: [Int!]!\n"
    "  points: [[Float!]!]!  id: ID\n"
    "}\n"
    "type Query {\n"
    "  videos(first: Int = null): [Video!]!\n"
    "  defaultVideo(after: String = \"x\"): Video!\n"
    "  node: Node\n"
    "  boom: String\n"
    "}\n"
    "type Mutation {\n"
    "  addPoints(input: AddPointsInput!): RLEMaskListOnFrame!\n"
    "  uploadVideo(file: Upload!, startTimeSec: Float = null): Video!\n"
    "}\n";

static const gql_resolver_entry resolvers[] = {
    {"RLEMaskListOnFrame.video", echo_args, NULL},
    {"Query.defaultVideo", echo_args, NULL},
    {"Query.node", echo_args, NULL},
    {"Query.boom", fail_resolver, NULL},
    {"Mutation.addPoints", echo_args, NULL},
    {"Mutation.uploadVideo", echo_args, NULL},
};

static gql_schema *build(void) {
    gql_err err = {{0}};
    gql_schema *s =
        gql_schema_from_sdl(sdl, resolvers, (int)(sizeof resolvers / sizeof resolvers[0]), &err);
    if (!s) abort();
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
