/* GraphQL engine: lexer/parser errors, validation rules, variables with defaults, fragments,
 * inline fragments, aliases, __typename, @skip/@include, null propagation and the error shape
 * ({message, locations, path}), over a small schema shaped like the demo's, declared in SDL.
 * Single requests are rows of tables (document, variables -> response or error text) run by
 * one driver (support/gql_cases.h) that names every failing row; the parser's AST and the
 * resolver-call counts stay functions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "server/graphql/gql_exec.h"
#include "server/graphql/gql_parser.h"
#include "server/graphql/gql_schema.h"
#include "support/gql_cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int resolver_calls;

/* Test resolvers: addPoints echoes its input; boom fails; videos lists two nodes. */
static cJSON *resolve_add_points(const gql_resolve_info *info, gql_err *err) {
    resolver_calls++;
    const cJSON *in = cJSON_GetObjectItem(info->args, "input");
    const cJSON *sid = cJSON_GetObjectItem(in, "sessionId");
    if (!strcmp(sid->valuestring, "missing")) {
        snprintf(err->message, sizeof err->message,
                 "Cannot find session missing; it might have expired");
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

/* The schema every row runs against, declared as the server declares its own. */
static const char sdl[] =
    "scalar GlobalID\n"
    "interface Node { id: GlobalID! }\n"
    "type Video implements Node {\n"
    "  id: GlobalID!  path: String!  posterPath: String  width: Int!  height: Int!\n"
    "}\n"
    "type PageInfo { hasNextPage: Boolean!  hasPreviousPage: Boolean!  startCursor: String }\n"
    "type VideoEdge { cursor: String!  node: Video! }\n"
    "type VideoConnection { pageInfo: PageInfo!  edges: [VideoEdge!]! }\n"
    "type RLEMask { size: [Int!]!  counts: String!  order: String! }\n"
    "type RLEMaskForObject { objectId: Int!  rleMask: RLEMask! }\n"
    "type RLEMaskListOnFrame { frameIndex: Int!  rleMaskList: [RLEMaskForObject!]! }\n"
    "input AddPointsInput {\n"
    "  sessionId: String!  frameIndex: Int!  clearOldPoints: Boolean!  objectId: Int!\n"
    "  labels: [Int!]!  points: [[Float!]!]!\n"
    "}\n"
    "type Query {\n"
    "  videos(first: Int = null, after: String = null): VideoConnection!\n"
    "  defaultVideo: Video!  maybeNull: Video  mustNotBeNull: Video!  boom: String  badInt: Int\n"
    "}\n"
    "type Mutation { addPoints(input: AddPointsInput!): RLEMaskListOnFrame! }\n";

static const gql_resolver_entry resolvers[] = {
    {"Query.videos", resolve_videos, NULL},
    {"Query.defaultVideo", resolve_default_video, NULL},
    {"Query.maybeNull", resolve_null, NULL},
    {"Query.mustNotBeNull", resolve_null, NULL},
    {"Query.boom", resolve_boom, NULL},
    {"Query.badInt", resolve_bad_int, NULL},
    {"Mutation.addPoints", resolve_add_points, NULL},
};

/* Runs a table against the schema above (limits: NULL for the engine's defaults) and fails
 * naming every row that did not get its answer. */
static void run_table(const gql_case *rows, size_t n, const gql_limits *limits) {
    static char report[32768];
    const gql_case_env env = {sdl, resolvers, (int)(sizeof resolvers / sizeof resolvers[0]),
                              limits};
    const int failed = gql_cases_run(&env, rows, n, report, sizeof report);
    if (failed) fail_msg("%d row(s) failed:\n%s", failed, report);
}

/* The shape of the official frontend's modal gallery query (fragments, __typename). */
static const char gallery_query[] =
    "query Gallery {\n  ...VideoGallery_videos\n}\n"
    "fragment VideoGallery_videos on Query {\n"
    "  videos(first: 20, after: \"\") {\n    __typename\n"
    "    pageInfo { __typename hasPreviousPage hasNextPage startCursor }\n"
    "    edges { __typename node { __typename id path ...Dims } cursor }\n  }\n}\n"
    "fragment Dims on Video { width height }\n";

static const char aliases_query[] =
    "query Q($withPath: Boolean = false, $n: Int = 1) {\n"
    "  one: videos(first: $n) { edges { node { ... on Video { w: width } "
    "... @include(if: $withPath) { path } } } }\n"
    "  dv: defaultVideo { ... on Node { id } height @skip(if: true) }\n}";

static const char add_points_mutation[] =
    "mutation SAM2ModelAddNewPointsMutation(\n  $input: AddPointsInput!\n) {\n"
    "  addPoints(input: $input) {\n    frameIndex\n    rleMaskList {\n      objectId\n"
    "      rleMask {\n        counts\n        size\n      }\n    }\n  }\n}\n";

/* Successful requests: the whole response. */
static const gql_case EXECUTION_ROWS[] = {
    {"gallery query with fragments and __typename",
     gallery_query,
     NULL,
     NULL,
     "{\"data\":{\"videos\":{\"__typename\":\"VideoConnection\",\"pageInfo\":{\"__typename\":"
     "\"PageInfo\",\"hasPreviousPage\":false,\"hasNextPage\":false,\"startCursor\":null},"
     "\"edges\":[{\"__typename\":\"VideoEdge\",\"node\":{\"__typename\":\"Video\",\"id\":"
     "\"gallery/a.mp4\",\"path\":\"gallery/a.mp4\",\"width\":1280,\"height\":720},\"cursor\":"
     "\"c0\"},{\"__typename\":\"VideoEdge\",\"node\":{\"__typename\":\"Video\",\"id\":"
     "\"gallery/b.mp4\",\"path\":\"gallery/b.mp4\",\"width\":1280,\"height\":720},\"cursor\":"
     "\"c1\"}]}}}",
     {NULL}},
    {"aliases, inline fragments, @skip/@include with variable defaults",
     aliases_query,
     NULL,
     NULL,
     "{\"data\":{\"one\":{\"edges\":[{\"node\":{\"w\":1280}}]},\"dv\":{\"id\":\"gallery/a.mp4\"}}}",
     {NULL}},
    {"variables override the defaults",
     aliases_query,
     "{\"withPath\": true, \"n\": 2}",
     "Q",
     NULL,
     {"{\"w\":1280,\"path\":\"gallery/a.mp4\"}", "\"path\":\"gallery/b.mp4\""}},
    {"mutation with an input variable",
     add_points_mutation,
     "{\"input\":{\"sessionId\":\"s\",\"frameIndex\":4,\"objectId\":1,\"labels\":[1,0],"
     "\"points\":[[0.5,0.25],[0.1,0.2]],\"clearOldPoints\":true}}",
     NULL,
     "{\"data\":{\"addPoints\":{\"frameIndex\":4,\"rleMaskList\":[{\"objectId\":1,\"rleMask\":"
     "{\"counts\":\"2:1\",\"size\":[2,3]}}]}}}",
     {NULL}},
    /* A single label is coerced into a list. */
    {"literal input object with a variable inside",
     "mutation($sid: String!) { addPoints(input: {sessionId: $sid, frameIndex: 0, objectId: 2, "
     "labels: 1, points: [[1, 2.5]], clearOldPoints: false}) { frameIndex rleMaskList { rleMask "
     "{ counts } } } }",
     "{\"sid\":\"x\"}",
     NULL,
     "{\"data\":{\"addPoints\":{\"frameIndex\":0,\"rleMaskList\":[{\"rleMask\":{\"counts\":"
     "\"1:0\"}}]}}}",
     {NULL}},
    {"operation picked by name",
     "query A { defaultVideo { width } } query B { defaultVideo { height } }",
     NULL,
     "B",
     "{\"data\":{\"defaultVideo\":{\"height\":720}}}",
     {NULL}},
};

/* Resolver errors and null propagation: the error shape {message, locations, path}. */
static const gql_case RESOLVER_ERROR_ROWS[] = {
    {"resolver error on a non-null root field nulls data",
     "mutation M($input: AddPointsInput!) {\n  addPoints(input: $input) { frameIndex }\n}",
     "{\"input\":{\"sessionId\":\"missing\",\"frameIndex\":0,\"objectId\":1,\"labels\":[1],"
     "\"points\":[[0,0]],\"clearOldPoints\":true}}",
     NULL,
     "{\"data\":null,\"errors\":[{\"message\":\"Cannot find session missing; it might have "
     "expired\",\"locations\":[{\"line\":2,\"column\":3}],\"path\":[\"addPoints\"]}]}",
     {NULL}},
    {"resolver error on a nullable field keeps the rest of the data",
     "{ boom defaultVideo { height } }",
     NULL,
     NULL,
     "{\"data\":{\"boom\":null,\"defaultVideo\":{\"height\":720}},\"errors\":[{\"message\":"
     "\"boom\",\"locations\":[{\"line\":1,\"column\":3}],\"path\":[\"boom\"]}]}",
     {NULL}},
    {"null in a nullable field",
     "{ maybeNull { id } defaultVideo { width } }",
     NULL,
     NULL,
     "{\"data\":{\"maybeNull\":null,\"defaultVideo\":{\"width\":1280}}}",
     {NULL}},
    {"null in a non-null field propagates",
     "{ defaultVideo { width } mustNotBeNull { id } }",
     NULL,
     NULL,
     "{\"data\":null,\"errors\":[{\"message\":\"Cannot return null for non-nullable field "
     "Query.mustNotBeNull.\",\"locations\":[{\"line\":1,\"column\":26}],\"path\":"
     "[\"mustNotBeNull\"]}]}",
     {NULL}},
    {"a resolver's value the scalar cannot represent",
     "{ badInt }",
     NULL,
     NULL,
     NULL,
     {"\"data\":{\"badInt\":null}",
      "Int cannot represent non-integer value: \\\"not a number\\\""}},
};

/* Documents the validation rules refuse, and the words of the error. */
static const gql_case VALIDATION_ROWS[] = {
    {"unknown field",
     "{ videos { edges { node { nope } } } }",
     NULL,
     NULL,
     "{\"data\":null,\"errors\":[{\"message\":\"Cannot query field 'nope' on type 'Video'.\","
     "\"locations\":[{\"line\":1,\"column\":27}]}]}",
     {NULL}},
    {"object without subfields",
     "{ defaultVideo }",
     NULL,
     NULL,
     NULL,
     {"Field 'defaultVideo' of type 'Video!' must have a selection of subfields."}},
    {"subfields on a scalar",
     "{ defaultVideo { width { x } } }",
     NULL,
     NULL,
     NULL,
     {"Field 'width' must not have a selection since type 'Int!' has no subfields."}},
    {"unknown argument",
     "{ videos(frist: 2) { edges { cursor } } }",
     NULL,
     NULL,
     NULL,
     {"Unknown argument 'frist' on field 'Query.videos'."}},
    {"missing required argument",
     "mutation { addPoints { frameIndex } }",
     NULL,
     NULL,
     NULL,
     {"Field 'addPoints' argument 'input' of type 'AddPointsInput!' is required"}},
    {"unknown fragment", "{ ...Missing }", NULL, NULL, NULL, {"Unknown fragment 'Missing'."}},
    {"unused fragment",
     "{ defaultVideo { id } } fragment Unused on Video { id }",
     NULL,
     NULL,
     NULL,
     {"Fragment 'Unused' is never used."}},
    {"fragment cycle",
     "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
     NULL,
     NULL,
     NULL,
     {"within itself"}},
    {"impossible fragment spread",
     "{ defaultVideo { ... on PageInfo { hasNextPage } } }",
     NULL,
     NULL,
     NULL,
     {"Fragment cannot be spread here as objects of type 'Video' can never be of type "
      "'PageInfo'."}},
    {"fragment on a scalar",
     "{ defaultVideo { ... on Int { x } } }",
     NULL,
     NULL,
     NULL,
     {"Fragment cannot condition on non composite type 'Int'."}},
    {"conflicting aliases",
     "{ defaultVideo { a: width a: height } }",
     NULL,
     NULL,
     NULL,
     {"Fields 'a' conflict because 'width' and 'height' are different fields."}},
    {"unknown directive",
     "{ defaultVideo { width @foo } }",
     NULL,
     NULL,
     NULL,
     {"Unknown directive '@foo'."}},
    {"unused variable",
     "query Q($x: Int) { defaultVideo { width } }",
     NULL,
     NULL,
     NULL,
     {"Variable '$x' is never used in operation 'Q'."}},
    {"undefined variable",
     "query Q { videos(first: $y) { edges { cursor } } }",
     NULL,
     NULL,
     NULL,
     {"Variable '$y' is not defined by operation 'Q'."}},
    {"variable of the wrong type",
     "query Q($y: String) { videos(first: $y) { edges { cursor } } }",
     NULL,
     NULL,
     NULL,
     {"Variable '$y' of type 'String' used in position expecting type 'Int'."}},
    {"variable of an unknown type",
     "query Q($y: Nope) { videos(first: $y) { edges { cursor } } }",
     NULL,
     NULL,
     NULL,
     {"Unknown type 'Nope'."}},
    {"variable of an output type",
     "query Q($v: Video) { defaultVideo { width } }",
     NULL,
     NULL,
     NULL,
     {"Variable '$v' cannot be non-input type 'Video'."}},
    {"string literal for an Int",
     "{ videos(first: \"two\") { edges { cursor } } }",
     NULL,
     NULL,
     NULL,
     {"Int cannot represent non-integer value: \\\"two\\\""}},
    {"Int literal past 32 bits",
     "{ videos(first: 99999999999) { edges { cursor } } }",
     NULL,
     NULL,
     NULL,
     {"Int cannot represent non 32-bit signed integer value: 99999999999"}},
    {"two operations of one name",
     "query A { defaultVideo { width } } query A { defaultVideo { width } }",
     NULL,
     "A",
     NULL,
     {"There can be only one operation named 'A'."}},
    {"anonymous operation beside another",
     "{ defaultVideo { width } } query B { defaultVideo { width } }",
     NULL,
     NULL,
     NULL,
     {"This anonymous operation must be the only defined operation."}},
    {"subscription without a subscription type",
     "subscription { defaultVideo { width } }",
     NULL,
     NULL,
     NULL,
     {"Schema is not configured for subscriptions."}},
    {"literal input object missing a field",
     "mutation { addPoints(input: {sessionId: \"s\", frameIndex: 0}) { frameIndex } }",
     NULL,
     NULL,
     NULL,
     {"Field 'AddPointsInput.clearOldPoints' of required type 'Boolean!' was not provided."}},
    {"several operations and no name",
     "query A { defaultVideo { width } } query B { defaultVideo { height } }",
     NULL,
     NULL,
     NULL,
     {"Must provide operation name if query contains multiple operations."}},
    {"unknown operation name",
     "query A { defaultVideo { width } } query B { defaultVideo { height } }",
     NULL,
     "C",
     NULL,
     {"Unknown operation named 'C'."}},
};

static const gql_case SYNTAX_ROWS[] = {
    {"document ends inside a selection",
     "{ videos { ",
     NULL,
     NULL,
     "{\"data\":null,\"errors\":[{\"message\":\"Syntax Error: Expected Name, found <EOF>.\","
     "\"locations\":[{\"line\":1,\"column\":12}]}]}",
     {NULL}},
    {"unexpected character",
     "{ a %",
     NULL,
     NULL,
     NULL,
     {"Syntax Error: Unexpected character: '%'."}},
    {"unterminated string",
     "{ a(x: \"unterminated) }",
     NULL,
     NULL,
     NULL,
     {"Syntax Error: Unterminated string."}},
    {"empty document", "", NULL, NULL, NULL, {"Syntax Error: Unexpected <EOF>."}},
    {"type system definition in a request",
     "type Query { a: Int }",
     NULL,
     NULL,
     NULL,
     {"Syntax Error: Unexpected Name 'type'."}},
    {"number with a leading zero",
     "{ a(x: 01) }",
     NULL,
     NULL,
     NULL,
     {"Syntax Error: Invalid number"}},
};

static const char add_points_input_var[] =
    "mutation M($input: AddPointsInput!) { addPoints(input: $input) { frameIndex } }";

/* Variables the input types refuse; none reaches the resolver. */
static const gql_case VARIABLE_ROWS[] = {
    {"required variable not provided",
     add_points_input_var,
     "{}",
     NULL,
     "{\"data\":null,\"errors\":[{\"message\":\"Variable '$input' of required type "
     "'AddPointsInput!' was not provided.\",\"locations\":[{\"line\":1,\"column\":12}]}]}",
     {NULL}},
    {"null for a non-null variable",
     add_points_input_var,
     "{\"input\":null}",
     NULL,
     NULL,
     {"Variable '$input' of non-null type 'AddPointsInput!' must not be null."}},
    {"string for an Int inside the input",
     add_points_input_var,
     "{\"input\":{\"sessionId\":\"s\",\"frameIndex\":\"four\",\"objectId\":1,\"labels\":[1],"
     "\"points\":[[0,0]],\"clearOldPoints\":true}}",
     NULL,
     NULL,
     {"at 'input.frameIndex'; Int cannot represent non-integer value: \\\"four\\\""}},
    {"fraction for an Int",
     add_points_input_var,
     "{\"input\":{\"sessionId\":\"s\",\"frameIndex\":1.5,\"objectId\":1,\"labels\":[1],"
     "\"points\":[[0,0]],\"clearOldPoints\":true}}",
     NULL,
     NULL,
     {"Int cannot represent non-integer value: 1.5"}},
    {"string inside a nested Float list",
     add_points_input_var,
     "{\"input\":{\"sessionId\":\"s\",\"frameIndex\":1,\"objectId\":1,\"labels\":[1],"
     "\"points\":[[0,\"a\"]],\"clearOldPoints\":true}}",
     NULL,
     NULL,
     {"at 'input.points[0][1]'; Float cannot represent non numeric value: \\\"a\\\""}},
    {"field the input type does not define",
     add_points_input_var,
     "{\"input\":{\"sessionId\":\"s\",\"frameIndex\":1,\"objectId\":1,\"labels\":[1],"
     "\"points\":[],\"clearOldPoints\":true,\"extra\":1}}",
     NULL,
     NULL,
     {"Field 'extra' is not defined by type 'AddPointsInput'."}},
    {"required input field missing",
     add_points_input_var,
     "{\"input\":{\"sessionId\":\"s\",\"objectId\":1,\"labels\":[1],\"points\":[],"
     "\"clearOldPoints\":true}}",
     NULL,
     NULL,
     {"Field 'frameIndex' of required type 'Int!' was not provided."}},
};

static void test_execution(void **state) {
    (void)state;
    run_table(EXECUTION_ROWS, GQL_CASES_COUNT(EXECUTION_ROWS), NULL);
}

static void test_resolver_errors_and_null_propagation(void **state) {
    (void)state;
    run_table(RESOLVER_ERROR_ROWS, GQL_CASES_COUNT(RESOLVER_ERROR_ROWS), NULL);
}

static void test_validation_errors(void **state) {
    (void)state;
    run_table(VALIDATION_ROWS, GQL_CASES_COUNT(VALIDATION_ROWS), NULL);
}

static void test_syntax_errors(void **state) {
    (void)state;
    run_table(SYNTAX_ROWS, GQL_CASES_COUNT(SYNTAX_ROWS), NULL);
}

static void test_variable_coercion_errors(void **state) {
    (void)state;
    resolver_calls = 0;
    run_table(VARIABLE_ROWS, GQL_CASES_COUNT(VARIABLE_ROWS), NULL);
    assert_int_equal(resolver_calls, 0);
}

/* Deep nesting is refused without exhausting the stack; the documents are generated. */
static void test_deep_nesting(void **state) {
    (void)state;
    static char braces[2001], lists[1100];
    size_t n = 0;
    for (int i = 0; i < 1000; i++) {
        braces[n++] = '{';
        braces[n++] = 'a';
    }
    braces[n] = 0;
    n = (size_t)snprintf(lists, sizeof lists, "{ videos(first: ");
    for (int i = 0; i < 1000; i++) lists[n++] = '[';
    lists[n] = 0;
    const gql_case rows[] = {
        {"1000 nested selections", braces, NULL, NULL, NULL, {"nested too deeply"}},
        {"1000 nested list values", lists, NULL, NULL, NULL, {"nested too deeply"}},
    };
    run_table(rows, GQL_CASES_COUNT(rows), NULL);
}

static void test_resolvers_not_called_on_invalid_documents(void **state) {
    (void)state;
    const gql_case invalid[] = {
        {"a valid mutation with one unknown field",
         "mutation { addPoints(input: {sessionId: \"s\", frameIndex: 0, objectId: 1, labels: [1], "
         "points: [[0, 0]], clearOldPoints: true}) { frameIndex nope } }",
         NULL,
         NULL,
         NULL,
         {"Cannot query field 'nope'"}},
    };
    const gql_case valid[] = {
        {"the same mutation without it",
         "mutation { addPoints(input: {sessionId: \"s\", frameIndex: 0, objectId: 1, labels: [1], "
         "points: [[0, 0]], clearOldPoints: true}) { frameIndex } }",
         NULL,
         NULL,
         "{\"data\":{\"addPoints\":{\"frameIndex\":0}}}",
         {NULL}},
    };
    resolver_calls = 0;
    run_table(invalid, GQL_CASES_COUNT(invalid), NULL);
    assert_int_equal(resolver_calls, 0);
    run_table(valid, GQL_CASES_COUNT(valid), NULL);
    assert_int_equal(resolver_calls, 1);
}

/* Aliases multiply work: past the limit the request gets one clear error. */
static void test_field_limit(void **state) {
    (void)state;
    char *q = malloc(400000);
    assert_non_null(q);
    size_t n = (size_t)sprintf(q, "{");
    for (int i = 0; i < 5000; i++)
        n += (size_t)sprintf(q + n, " a%d: videos { edges { node { id path width height } } }", i);
    sprintf(q + n, " }");
    const gql_case rows[] = {
        {"5000 aliased connections past a 1000-field limit",
         q,
         NULL,
         NULL,
         NULL,
         {"\"data\":null", "The query is too large: it would resolve more than 1000 fields."}},
    };
    const gql_limits lim = {0, 0, 1000};
    run_table(rows, GQL_CASES_COUNT(rows), &lim);
    free(q);
}

static void test_parser_ast(void **state) {
    (void)state;
    const char *src = "# comment\nquery Q($a: [Int!]! = [1, 2], $b: String = \"x\\u00e9\\n\") "
                      "@skip(if: false) {\n"
                      "  alias: f(arg: {k: [1.5, -2e3, true, null, ENUM, \"\"\"\n    block\n      "
                      "indented\n  \"\"\"]}) "
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_execution),
        cmocka_unit_test(test_resolver_errors_and_null_propagation),
        cmocka_unit_test(test_validation_errors),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_variable_coercion_errors),
        cmocka_unit_test(test_resolvers_not_called_on_invalid_documents),
        cmocka_unit_test(test_field_limit),
        cmocka_unit_test(test_parser_ast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
