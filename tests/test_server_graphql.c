/* GraphQL engine: lexer/parser errors, validation rules, variables with defaults, fragments,
 * inline fragments, aliases, __typename, @skip/@include, null propagation and the error shape
 * ({message, locations, path}), over a small schema shaped like the demo's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "server/graphql/gql_exec.h"
#include "server/graphql/gql_parser.h"
#include "server/graphql/gql_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gql_schema *schema;
static int resolver_calls;

/* Test resolvers: addPoints echoes its input; boom fails; videos lists two nodes. */
static cJSON *resolve_add_points(const gql_resolve_info *info, gql_err *err) {
    resolver_calls++;
    const cJSON *in = cJSON_GetObjectItem(info->args, "input");
    const cJSON *sid = cJSON_GetObjectItem(in, "sessionId");
    if (!strcmp(sid->valuestring, "missing")) {
        snprintf(err->message, sizeof err->message, "Cannot find session missing; it might have expired");
        return NULL;
    }
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "frameIndex", cJSON_GetObjectItem(in, "frameIndex")->valuedouble);
    cJSON *list = cJSON_AddArrayToObject(r, "rleMaskList");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "objectId", cJSON_GetObjectItem(in, "objectId")->valuedouble);
    cJSON *rle = cJSON_AddObjectToObject(m, "rleMask");
    cJSON *size = cJSON_AddArrayToObject(rle, "size");
    cJSON_AddItemToArray(size, cJSON_CreateNumber(2));
    cJSON_AddItemToArray(size, cJSON_CreateNumber(3));
    /* counts carries the number of points and the clearOldPoints flag, for the tests. */
    char buf[64];
    snprintf(buf, sizeof buf, "%d:%d", cJSON_GetArraySize(cJSON_GetObjectItem(in, "points")),
             cJSON_IsTrue(cJSON_GetObjectItem(in, "clearOldPoints")));
    cJSON_AddStringToObject(rle, "counts", buf);
    cJSON_AddStringToObject(rle, "order", "F");
    cJSON_AddItemToArray(list, m);
    return r;
}

static cJSON *resolve_null(const gql_resolve_info *info, gql_err *err) {
    (void)info;
    (void)err;
    return cJSON_CreateNull();
}

static cJSON *resolve_boom(const gql_resolve_info *info, gql_err *err) {
    (void)info;
    snprintf(err->message, sizeof err->message, "boom");
    return NULL;
}

static cJSON *make_video(const char *path) {
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "__typename", "Video");
    cJSON_AddStringToObject(v, "id", path);
    cJSON_AddStringToObject(v, "path", path);
    cJSON_AddNullToObject(v, "posterPath");
    cJSON_AddNumberToObject(v, "width", 1280);
    cJSON_AddNumberToObject(v, "height", 720);
    return v;
}

static cJSON *resolve_videos(const gql_resolve_info *info, gql_err *err) {
    (void)err;
    cJSON *conn = cJSON_CreateObject();
    cJSON *edges = cJSON_AddArrayToObject(conn, "edges");
    const cJSON *first = cJSON_GetObjectItem(info->args, "first");
    int n = cJSON_IsNumber(first) ? first->valueint : 2;
    for (int i = 0; i < n && i < 2; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "cursor", i ? "c1" : "c0");
        cJSON_AddItemToObject(e, "node", make_video(i ? "gallery/b.mp4" : "gallery/a.mp4"));
        cJSON_AddItemToArray(edges, e);
    }
    cJSON *pi = cJSON_AddObjectToObject(conn, "pageInfo");
    cJSON_AddBoolToObject(pi, "hasNextPage", n < 2);
    cJSON_AddBoolToObject(pi, "hasPreviousPage", 0);
    return conn;
}

static cJSON *resolve_default_video(const gql_resolve_info *info, gql_err *err) {
    (void)info;
    (void)err;
    return make_video("gallery/a.mp4");
}

static cJSON *resolve_bad_int(const gql_resolve_info *info, gql_err *err) {
    (void)info;
    (void)err;
    return cJSON_CreateString("not a number");
}

static int setup(void **state) {
    (void)state;
    gql_schema *s = gql_schema_new();
    gql_schema_add_scalar(s, "Int", GQL_INT);
    gql_schema_add_scalar(s, "Float", GQL_FLOAT);
    gql_schema_add_scalar(s, "String", GQL_STRING);
    gql_schema_add_scalar(s, "Boolean", GQL_BOOLEAN);
    gql_schema_add_scalar(s, "GlobalID", GQL_GLOBAL_ID);
    gql_type *node = gql_schema_add_interface(s, "Node");
    gql_type_add_field(s, node, "id", "GlobalID!", NULL);
    gql_type *video = gql_schema_add_object(s, "Video");
    gql_type_implements(video, node);
    gql_type_add_field(s, video, "id", "GlobalID!", NULL);
    gql_type_add_field(s, video, "path", "String!", NULL);
    gql_type_add_field(s, video, "posterPath", "String", NULL);
    gql_type_add_field(s, video, "width", "Int!", NULL);
    gql_type_add_field(s, video, "height", "Int!", NULL);
    gql_type *pi = gql_schema_add_object(s, "PageInfo");
    gql_type_add_field(s, pi, "hasNextPage", "Boolean!", NULL);
    gql_type_add_field(s, pi, "hasPreviousPage", "Boolean!", NULL);
    gql_type_add_field(s, pi, "startCursor", "String", NULL);
    gql_type *edge = gql_schema_add_object(s, "VideoEdge");
    gql_type_add_field(s, edge, "cursor", "String!", NULL);
    gql_type_add_field(s, edge, "node", "Video!", NULL);
    gql_type *conn = gql_schema_add_object(s, "VideoConnection");
    gql_type_add_field(s, conn, "pageInfo", "PageInfo!", NULL);
    gql_type_add_field(s, conn, "edges", "[VideoEdge!]!", NULL);
    gql_type *rle = gql_schema_add_object(s, "RLEMask");
    gql_type_add_field(s, rle, "size", "[Int!]!", NULL);
    gql_type_add_field(s, rle, "counts", "String!", NULL);
    gql_type_add_field(s, rle, "order", "String!", NULL);
    gql_type *mfo = gql_schema_add_object(s, "RLEMaskForObject");
    gql_type_add_field(s, mfo, "objectId", "Int!", NULL);
    gql_type_add_field(s, mfo, "rleMask", "RLEMask!", NULL);
    gql_type *list = gql_schema_add_object(s, "RLEMaskListOnFrame");
    gql_type_add_field(s, list, "frameIndex", "Int!", NULL);
    gql_type_add_field(s, list, "rleMaskList", "[RLEMaskForObject!]!", NULL);
    gql_type *in = gql_schema_add_input(s, "AddPointsInput");
    gql_input_add_field(s, in, "sessionId", "String!", NULL);
    gql_input_add_field(s, in, "frameIndex", "Int!", NULL);
    gql_input_add_field(s, in, "clearOldPoints", "Boolean!", NULL);
    gql_input_add_field(s, in, "objectId", "Int!", NULL);
    gql_input_add_field(s, in, "labels", "[Int!]!", NULL);
    gql_input_add_field(s, in, "points", "[[Float!]!]!", NULL);
    gql_type *q = gql_schema_add_object(s, "Query");
    gql_field_def *f = gql_type_add_field(s, q, "videos", "VideoConnection!", resolve_videos);
    gql_field_add_arg(s, f, "first", "Int", "null");
    gql_field_add_arg(s, f, "after", "String", "null");
    gql_type_add_field(s, q, "defaultVideo", "Video!", resolve_default_video);
    gql_type_add_field(s, q, "maybeNull", "Video", resolve_null);
    gql_type_add_field(s, q, "mustNotBeNull", "Video!", resolve_null);
    gql_type_add_field(s, q, "boom", "String", resolve_boom);
    gql_type_add_field(s, q, "badInt", "Int", resolve_bad_int);
    gql_type *m = gql_schema_add_object(s, "Mutation");
    f = gql_type_add_field(s, m, "addPoints", "RLEMaskListOnFrame!", resolve_add_points);
    gql_field_add_arg(s, f, "input", "AddPointsInput!", NULL);
    gql_schema_set_roots(s, q, m);
    gql_err err = {{0}};
    if (gql_schema_finish(s, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return -1;
    }
    schema = s;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    gql_schema_free(schema);
    return 0;
}

/* Runs a request and returns the response as compact JSON text (static buffer). */
static const char *run(const char *query, const char *variables_json, const char *op_name) {
    static char out[16384];
    cJSON *vars = variables_json ? cJSON_Parse(variables_json) : NULL;
    if (variables_json) assert_non_null(vars);
    gql_request req = {query, strlen(query), op_name, vars, NULL, NULL};
    cJSON *resp = gql_execute(schema, &req, NULL);
    assert_non_null(resp);
    char *s = cJSON_PrintUnformatted(resp);
    snprintf(out, sizeof out, "%s", s);
    free(s);
    cJSON_Delete(resp);
    cJSON_Delete(vars);
    return out;
}

static void assert_contains(const char *hay, const char *needle) {
    if (!strstr(hay, needle)) fail_msg("expected %s\n  in %s", needle, hay);
}

static void test_gallery_query_with_fragments(void **state) {
    (void)state;
    /* The shape of the official frontend's modal gallery query (fragments, __typename). */
    const char *q = "query Gallery {\n  ...VideoGallery_videos\n}\n"
                    "fragment VideoGallery_videos on Query {\n"
                    "  videos(first: 20, after: \"\") {\n    __typename\n"
                    "    pageInfo { __typename hasPreviousPage hasNextPage startCursor }\n"
                    "    edges { __typename node { __typename id path ...Dims } cursor }\n  }\n}\n"
                    "fragment Dims on Video { width height }\n";
    const char *r = run(q, NULL, NULL);
    assert_string_equal(
        r, "{\"data\":{\"videos\":{\"__typename\":\"VideoConnection\",\"pageInfo\":{\"__typename\":\"PageInfo\","
           "\"hasPreviousPage\":false,\"hasNextPage\":false,\"startCursor\":null},\"edges\":[{\"__typename\":"
           "\"VideoEdge\",\"node\":{\"__typename\":\"Video\",\"id\":\"gallery/a.mp4\",\"path\":\"gallery/a.mp4\","
           "\"width\":1280,\"height\":720},\"cursor\":\"c0\"},{\"__typename\":\"VideoEdge\",\"node\":{\"__typename\":"
           "\"Video\",\"id\":\"gallery/b.mp4\",\"path\":\"gallery/b.mp4\",\"width\":1280,\"height\":720},\"cursor\":"
           "\"c1\"}]}}}");
}

static void test_aliases_inline_fragments_and_directives(void **state) {
    (void)state;
    const char *q = "query Q($withPath: Boolean = false, $n: Int = 1) {\n"
                    "  one: videos(first: $n) { edges { node { ... on Video { w: width } ... @include(if: $withPath) { path } } } }\n"
                    "  dv: defaultVideo { ... on Node { id } height @skip(if: true) }\n}";
    const char *r = run(q, NULL, NULL);
    assert_string_equal(r, "{\"data\":{\"one\":{\"edges\":[{\"node\":{\"w\":1280}}]},\"dv\":{\"id\":\"gallery/a.mp4\"}}}");
    r = run(q, "{\"withPath\": true, \"n\": 2}", "Q");
    assert_contains(r, "{\"w\":1280,\"path\":\"gallery/a.mp4\"}");
    assert_contains(r, "\"path\":\"gallery/b.mp4\"");
}

static void test_mutation_with_variables(void **state) {
    (void)state;
    const char *q = "mutation SAM2ModelAddNewPointsMutation(\n  $input: AddPointsInput!\n) {\n"
                    "  addPoints(input: $input) {\n    frameIndex\n    rleMaskList {\n      objectId\n"
                    "      rleMask {\n        counts\n        size\n      }\n    }\n  }\n}\n";
    const char *r = run(q,
                        "{\"input\":{\"sessionId\":\"s\",\"frameIndex\":4,\"objectId\":1,\"labels\":[1,0],"
                        "\"points\":[[0.5,0.25],[0.1,0.2]],\"clearOldPoints\":true}}",
                        NULL);
    assert_string_equal(r, "{\"data\":{\"addPoints\":{\"frameIndex\":4,\"rleMaskList\":[{\"objectId\":1,\"rleMask\":"
                           "{\"counts\":\"2:1\",\"size\":[2,3]}}]}}}");
    /* Literal input object with a variable inside; a single point is coerced into a list. */
    r = run("mutation($sid: String!) { addPoints(input: {sessionId: $sid, frameIndex: 0, objectId: 2, labels: 1, "
            "points: [[1, 2.5]], clearOldPoints: false}) { frameIndex rleMaskList { rleMask { counts } } } }",
            "{\"sid\":\"x\"}", NULL);
    assert_string_equal(r, "{\"data\":{\"addPoints\":{\"frameIndex\":0,\"rleMaskList\":[{\"rleMask\":{\"counts\":\"1:0\"}}]}}}");
}

static void test_resolver_error_shape(void **state) {
    (void)state;
    const char *r = run("mutation M($input: AddPointsInput!) {\n  addPoints(input: $input) { frameIndex }\n}",
                        "{\"input\":{\"sessionId\":\"missing\",\"frameIndex\":0,\"objectId\":1,\"labels\":[1],"
                        "\"points\":[[0,0]],\"clearOldPoints\":true}}",
                        NULL);
    assert_string_equal(r, "{\"data\":null,\"errors\":[{\"message\":\"Cannot find session missing; it might have "
                           "expired\",\"locations\":[{\"line\":2,\"column\":3}],\"path\":[\"addPoints\"]}]}");
    /* A nullable field keeps the rest of the data. */
    r = run("{ boom defaultVideo { height } }", NULL, NULL);
    assert_string_equal(r, "{\"data\":{\"boom\":null,\"defaultVideo\":{\"height\":720}},\"errors\":[{\"message\":"
                           "\"boom\",\"locations\":[{\"line\":1,\"column\":3}],\"path\":[\"boom\"]}]}");
}

static void test_null_propagation(void **state) {
    (void)state;
    const char *r = run("{ maybeNull { id } defaultVideo { width } }", NULL, NULL);
    assert_string_equal(r, "{\"data\":{\"maybeNull\":null,\"defaultVideo\":{\"width\":1280}}}");
    r = run("{ defaultVideo { width } mustNotBeNull { id } }", NULL, NULL);
    assert_string_equal(r, "{\"data\":null,\"errors\":[{\"message\":\"Cannot return null for non-nullable field "
                           "Query.mustNotBeNull.\",\"locations\":[{\"line\":1,\"column\":26}],\"path\":"
                           "[\"mustNotBeNull\"]}]}");
    r = run("{ badInt }", NULL, NULL);
    assert_contains(r, "\"data\":{\"badInt\":null}");
    assert_contains(r, "Int cannot represent non-integer value: \\\"not a number\\\"");
}

static void test_validation_errors(void **state) {
    (void)state;
    const char *r = run("{ videos { edges { node { nope } } } }", NULL, NULL);
    assert_string_equal(r, "{\"data\":null,\"errors\":[{\"message\":\"Cannot query field 'nope' on type 'Video'.\","
                           "\"locations\":[{\"line\":1,\"column\":27}]}]}");
    assert_contains(run("{ defaultVideo }", NULL, NULL),
                    "Field 'defaultVideo' of type 'Video!' must have a selection of subfields.");
    assert_contains(run("{ defaultVideo { width { x } } }", NULL, NULL),
                    "Field 'width' must not have a selection since type 'Int!' has no subfields.");
    assert_contains(run("{ videos(frist: 2) { edges { cursor } } }", NULL, NULL),
                    "Unknown argument 'frist' on field 'Query.videos'.");
    assert_contains(run("mutation { addPoints { frameIndex } }", NULL, NULL),
                    "Field 'addPoints' argument 'input' of type 'AddPointsInput!' is required");
    assert_contains(run("{ ...Missing }", NULL, NULL), "Unknown fragment 'Missing'.");
    assert_contains(run("{ defaultVideo { id } } fragment Unused on Video { id }", NULL, NULL),
                    "Fragment 'Unused' is never used.");
    assert_contains(run("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }", NULL, NULL),
                    "within itself");
    assert_contains(run("{ defaultVideo { ... on PageInfo { hasNextPage } } }", NULL, NULL),
                    "Fragment cannot be spread here as objects of type 'Video' can never be of type 'PageInfo'.");
    assert_contains(run("{ defaultVideo { ... on Int { x } } }", NULL, NULL),
                    "Fragment cannot condition on non composite type 'Int'.");
    assert_contains(run("{ defaultVideo { a: width a: height } }", NULL, NULL),
                    "Fields 'a' conflict because 'width' and 'height' are different fields.");
    assert_contains(run("{ defaultVideo { width @foo } }", NULL, NULL), "Unknown directive '@foo'.");
    assert_contains(run("query Q($x: Int) { defaultVideo { width } }", NULL, NULL),
                    "Variable '$x' is never used in operation 'Q'.");
    assert_contains(run("query Q { videos(first: $y) { edges { cursor } } }", NULL, NULL),
                    "Variable '$y' is not defined by operation 'Q'.");
    assert_contains(run("query Q($y: String) { videos(first: $y) { edges { cursor } } }", NULL, NULL),
                    "Variable '$y' of type 'String' used in position expecting type 'Int'.");
    assert_contains(run("query Q($y: Nope) { videos(first: $y) { edges { cursor } } }", NULL, NULL),
                    "Unknown type 'Nope'.");
    assert_contains(run("query Q($v: Video) { defaultVideo { width } }", NULL, NULL),
                    "Variable '$v' cannot be non-input type 'Video'.");
    assert_contains(run("{ videos(first: \"two\") { edges { cursor } } }", NULL, NULL),
                    "Int cannot represent non-integer value: \\\"two\\\"");
    assert_contains(run("{ videos(first: 99999999999) { edges { cursor } } }", NULL, NULL),
                    "Int cannot represent non 32-bit signed integer value: 99999999999");
    assert_contains(run("query A { defaultVideo { width } } query A { defaultVideo { width } }", NULL, "A"),
                    "There can be only one operation named 'A'.");
    assert_contains(run("{ defaultVideo { width } } query B { defaultVideo { width } }", NULL, NULL),
                    "This anonymous operation must be the only defined operation.");
    assert_contains(run("subscription { defaultVideo { width } }", NULL, NULL),
                    "Schema is not configured for subscriptions.");
    assert_contains(run("mutation { addPoints(input: {sessionId: \"s\", frameIndex: 0}) { frameIndex } }", NULL, NULL),
                    "Field 'AddPointsInput.clearOldPoints' of required type 'Boolean!' was not provided.");
}

static void test_syntax_errors(void **state) {
    (void)state;
    assert_string_equal(run("{ videos { ", NULL, NULL),
                        "{\"data\":null,\"errors\":[{\"message\":\"Syntax Error: Expected Name, found <EOF>.\","
                        "\"locations\":[{\"line\":1,\"column\":12}]}]}");
    assert_contains(run("{ a %", NULL, NULL), "Syntax Error: Unexpected character: '%'.");
    assert_contains(run("{ a(x: \"unterminated) }", NULL, NULL), "Syntax Error: Unterminated string.");
    assert_contains(run("", NULL, NULL), "Syntax Error: Unexpected <EOF>.");
    assert_contains(run("type Query { a: Int }", NULL, NULL), "Syntax Error: Unexpected Name 'type'.");
    assert_contains(run("{ a(x: 01) }", NULL, NULL), "Syntax Error: Invalid number");
    /* Deep nesting is refused without exhausting the stack. */
    char deep[4000];
    size_t n = 0;
    for (int i = 0; i < 1000; i++) {
        deep[n++] = '{';
        deep[n++] = 'a';
    }
    deep[n] = 0;
    assert_contains(run(deep, NULL, NULL), "nested too deeply");
    n = 0;
    n += (size_t)snprintf(deep, sizeof deep, "{ videos(first: ");
    for (int i = 0; i < 1000; i++) deep[n++] = '[';
    deep[n] = 0;
    assert_contains(run(deep, NULL, NULL), "nested too deeply");
}

static void test_parser_ast(void **state) {
    (void)state;
    const char *src = "# comment\nquery Q($a: [Int!]! = [1, 2], $b: String = \"x\\u00e9\\n\") @skip(if: false) {\n"
                      "  alias: f(arg: {k: [1.5, -2e3, true, null, ENUM, \"\"\"\n    block\n      indented\n  \"\"\"]}) "
                      "{ ...F ... on T { g } ... { h } }\n}\nfragment F on T { i }";
    gql_parse_error e;
    gql_document *doc = gql_parse(src, strlen(src), NULL, &e);
    if (!doc) fail_msg("%s", e.message);
    assert_int_equal(doc->n_ops, 1);
    assert_int_equal(doc->n_frags, 1);
    const gql_operation *op = &doc->ops[0];
    assert_string_equal(op->name, "Q");
    assert_int_equal(op->n_vars, 2);
    assert_int_equal(op->vars[0].type->kind, GT_REF_NON_NULL);
    assert_int_equal(op->vars[0].type->of_type->kind, GT_REF_LIST);
    assert_int_equal(op->vars[0].default_value->n_items, 2);
    assert_string_equal(op->vars[1].default_value->text, "x\xc3\xa9\n");
    assert_int_equal(op->n_dirs, 1);
    const gql_selection *f = &op->set->items[0];
    assert_string_equal(f->alias, "alias");
    assert_string_equal(f->name, "f");
    assert_int_equal(f->loc.line, 3);
    assert_int_equal(f->loc.column, 3);
    const gql_value *obj = f->args[0].value;
    assert_int_equal(obj->kind, GV_OBJECT);
    const gql_value *list = obj->items[0];
    assert_int_equal(list->n_items, 6);
    assert_int_equal(list->items[0]->kind, GV_FLOAT);
    assert_int_equal(list->items[2]->kind, GV_BOOLEAN);
    assert_int_equal(list->items[3]->kind, GV_NULL);
    assert_int_equal(list->items[4]->kind, GV_ENUM);
    assert_string_equal(list->items[5]->text, "block\n  indented");
    assert_int_equal(f->set->n, 3);
    assert_int_equal(f->set->items[0].kind, SEL_SPREAD);
    assert_int_equal(f->set->items[1].kind, SEL_INLINE);
    assert_string_equal(f->set->items[1].type_condition, "T");
    assert_null(f->set->items[2].type_condition);
    gql_document_free(doc);
}

static void test_variable_coercion_errors(void **state) {
    (void)state;
    const char *q = "mutation M($input: AddPointsInput!) { addPoints(input: $input) { frameIndex } }";
    const char *r = run(q, "{}", NULL);
    assert_string_equal(r, "{\"data\":null,\"errors\":[{\"message\":\"Variable '$input' of required type "
                           "'AddPointsInput!' was not provided.\",\"locations\":[{\"line\":1,\"column\":12}]}]}");
    assert_contains(run(q, "{\"input\":null}", NULL), "Variable '$input' of non-null type 'AddPointsInput!' must not be null.");
    r = run(q, "{\"input\":{\"sessionId\":\"s\",\"frameIndex\":\"four\",\"objectId\":1,\"labels\":[1],\"points\":[[0,0]],"
               "\"clearOldPoints\":true}}",
            NULL);
    assert_contains(r, "at 'input.frameIndex'; Int cannot represent non-integer value: \\\"four\\\"");
    r = run(q, "{\"input\":{\"sessionId\":\"s\",\"frameIndex\":1.5,\"objectId\":1,\"labels\":[1],\"points\":[[0,0]],"
               "\"clearOldPoints\":true}}",
            NULL);
    assert_contains(r, "Int cannot represent non-integer value: 1.5");
    r = run(q, "{\"input\":{\"sessionId\":\"s\",\"frameIndex\":1,\"objectId\":1,\"labels\":[1],\"points\":[[0,\"a\"]],"
               "\"clearOldPoints\":true}}",
            NULL);
    assert_contains(r, "at 'input.points[0][1]'; Float cannot represent non numeric value: \\\"a\\\"");
    r = run(q, "{\"input\":{\"sessionId\":\"s\",\"frameIndex\":1,\"objectId\":1,\"labels\":[1],\"points\":[],"
               "\"clearOldPoints\":true,\"extra\":1}}",
            NULL);
    assert_contains(r, "Field 'extra' is not defined by type 'AddPointsInput'.");
    r = run(q, "{\"input\":{\"sessionId\":\"s\",\"objectId\":1,\"labels\":[1],\"points\":[],\"clearOldPoints\":true}}",
            NULL);
    assert_contains(r, "Field 'frameIndex' of required type 'Int!' was not provided.");
    /* None of these reached the resolver. */
}

static void test_operation_selection(void **state) {
    (void)state;
    const char *doc = "query A { defaultVideo { width } } query B { defaultVideo { height } }";
    assert_string_equal(run(doc, NULL, "B"), "{\"data\":{\"defaultVideo\":{\"height\":720}}}");
    assert_contains(run(doc, NULL, NULL), "Must provide operation name if query contains multiple operations.");
    assert_contains(run(doc, NULL, "C"), "Unknown operation named 'C'.");
}

static void test_resolvers_not_called_on_invalid_documents(void **state) {
    (void)state;
    resolver_calls = 0;
    run("mutation { addPoints(input: {sessionId: \"s\", frameIndex: 0, objectId: 1, labels: [1], points: [[0, 0]], "
        "clearOldPoints: true}) { frameIndex nope } }",
        NULL, NULL);
    assert_int_equal(resolver_calls, 0);
    run("mutation { addPoints(input: {sessionId: \"s\", frameIndex: 0, objectId: 1, labels: [1], points: [[0, 0]], "
        "clearOldPoints: true}) { frameIndex } }",
        NULL, NULL);
    assert_int_equal(resolver_calls, 1);
}

static void test_field_limit(void **state) {
    (void)state;
    /* Aliases multiply work: past the limit the request gets one clear error. */
    char *q = malloc(400000);
    size_t n = (size_t)sprintf(q, "{");
    for (int i = 0; i < 5000; i++) n += (size_t)sprintf(q + n, " a%d: videos { edges { node { id path width height } } }", i);
    sprintf(q + n, " }");
    gql_request req = {q, strlen(q), NULL, NULL, NULL, NULL};
    gql_limits lim = {0, 0, 1000};
    cJSON *resp = gql_execute(schema, &req, &lim);
    char *s = cJSON_PrintUnformatted(resp);
    assert_contains(s, "\"data\":null");
    assert_contains(s, "The query is too large: it would resolve more than 1000 fields.");
    free(s);
    cJSON_Delete(resp);
    free(q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gallery_query_with_fragments),
        cmocka_unit_test(test_aliases_inline_fragments_and_directives),
        cmocka_unit_test(test_mutation_with_variables),
        cmocka_unit_test(test_resolver_error_shape),
        cmocka_unit_test(test_null_propagation),
        cmocka_unit_test(test_validation_errors),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_parser_ast),
        cmocka_unit_test(test_variable_coercion_errors),
        cmocka_unit_test(test_operation_selection),
        cmocka_unit_test(test_resolvers_not_called_on_invalid_documents),
        cmocka_unit_test(test_field_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
