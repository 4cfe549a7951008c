/* The GraphQL engine's SDL reader: a schema declared as SDL text plus a resolver table executes
 * (interfaces defined after their objects, argument and input defaults, nested lists,
 * non-null), and every mistake in the SDL or the table fails naming what is wrong. Requests
 * are rows of a table (document -> response or error text) run by support/gql_cases.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "server/graphql/gql_exec.h"
#include "server/graphql/gql_schema.h"
#include "support/gql_cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char sdl[] =
    "\"Objects the server keeps.\"\n"
    "type Video implements Node { id: GlobalID!  path: String!  tags: [[String!]]! }\n"
    "interface Node { id: GlobalID! }\n"
    "scalar GlobalID\n"
    "input Frame { index: Int!  order: String = \"F\"  weights: [Float!] = [1, 2.5] }\n"
    "type Query {\n"
    "  \"\"\"A block description.\"\"\"\n"
    "  video(path: String!, frame: Frame = {index: 3}, limit: Int = null): Video\n"
    "  echo(frame: Frame!): String!\n"
    "}\n";

/* video: a Video whose path is the argument; echo: the coerced input, as JSON text. */
static cJSON *resolve_video(const gql_resolve_info *info, gql_err *err) {
    (void)err;
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "id", "VmlkZW86MQ==");
    cJSON_AddStringToObject(v, "path", cJSON_GetObjectItem(info->args, "path")->valuestring);
    cJSON *tags = cJSON_AddArrayToObject(v, "tags");
    cJSON *inner = cJSON_CreateArray();
    cJSON_AddItemToArray(inner, cJSON_CreateString(info->resolver_data));
    cJSON_AddItemToArray(tags, inner);
    return v;
}

static cJSON *resolve_echo(const gql_resolve_info *info, gql_err *err) {
    char *text = cJSON_PrintUnformatted(info->args);
    if (!text) return gql_fail(err, "out of memory"), NULL;
    cJSON *s = cJSON_CreateString(text);
    cJSON_free(text);
    return s;
}

static const gql_resolver_entry resolvers[] = {
    {"Query.video", resolve_video, "from the table"},
    {"Query.echo", resolve_echo, NULL},
};

/* Requests against the SDL's schema, and their answers. */
static const gql_case SDL_ROWS[] = {
    {"objects, interfaces and nested lists from the SDL",
     "{ video(path: \"a.mp4\") { __typename id path tags ... on Node { id } } }",
     NULL,
     NULL,
     "{\"data\":{\"video\":{\"__typename\":\"Video\",\"id\":\"VmlkZW86MQ==\","
     "\"path\":\"a.mp4\",\"tags\":[[\"from the table\"]]}}}",
     {NULL}},
    /* echo answers its coerced arguments as JSON text. */
    {"input defaults from the SDL are applied inside the argument",
     "{ echo(frame: {index: 7}) }",
     NULL,
     NULL,
     "{\"data\":{\"echo\":\"{\\\"frame\\\":{\\\"index\\\":7,\\\"order\\\":"
     "\\\"F\\\",\\\"weights\\\":[1,2.5]}}\"}}",
     {NULL}},
    {"the SDL's argument types are what validation checks",
     "{ video(path: 3) { path } }",
     NULL,
     NULL,
     NULL,
     {"String cannot represent a non string value: 3"}},
    {"the SDL's fields are what validation checks",
     "{ video(path: \"x\") { nope } }",
     NULL,
     NULL,
     NULL,
     {"Cannot query field 'nope' on type 'Video'."}},
};

static void test_sdl_schema_executes(void **state) {
    (void)state;
    char report[8192];
    const gql_case_env env = {sdl, resolvers, 2, NULL};
    const int failed =
        gql_cases_run(&env, SDL_ROWS, GQL_CASES_COUNT(SDL_ROWS), report, sizeof report);
    if (failed) fail_msg("%d row(s) failed:\n%s", failed, report);
}

/* Each bad SDL or table, and the words its error must contain. */
static void test_sdl_errors_name_the_problem(void **state) {
    (void)state;
    static const struct {
        const char *sdl;
        const char *resolver_field;
        const char *expect;
    } cases[] = {
        {"type Query { a: Missing }", NULL, "unknown type 'Missing'"},
        {"type Query { a: Int }", "Query.b", "resolver 'Query.b': the SDL has no such field"},
        {"type Query { a: Int }", "Queryb", "expected Type.field"},
        {"type Query { a: Int }\nenum Color { RED }", NULL, "'enum' definitions are not supported"},
        {"scalar Date\ntype Query { a: Date }", NULL, "scalar 'Date' is not one the engine knows"},
        {"type Query {\n  a Int }", NULL, "SDL 2:5: expected ':'"},
        {"type Query implements Nope { a: Int }", NULL,
         "'Query' implements 'Nope', which is not an interface"},
        {"type Query { a(x: Int = ): Int }", NULL, "expected a constant value"},
        {"type Query { a: [Int }", NULL, "expected ']'"},
        {"type Other { a: Int }", NULL, "no query type"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gql_resolver_entry r = {cases[i].resolver_field, resolve_echo, NULL};
        gql_err err = {{0}};
        gql_schema *s =
            gql_schema_from_sdl(cases[i].sdl, &r, cases[i].resolver_field ? 1 : 0, &err);
        if (s) fail_msg("case %zu: accepted", i);
        if (!strstr(err.message, cases[i].expect))
            fail_msg("case %zu: '%s' does not contain '%s'", i, err.message, cases[i].expect);
    }
}

/* The check the server makes on multipart requests, inside the engine. */
static void test_only_mutations_of(void **state) {
    (void)state;
    static const char *const uploads[] = {"uploadVideo", NULL};
    static const struct {
        const char *query;
        int expect;
    } cases[] = {
        {"mutation { uploadVideo(file: $f) { id } }", 1},
        {"mutation { __typename uploadVideo(file: $f) { id } }", 1},
        {"mutation { uploadVideo(file: $f) { id } startSession(input: {}) { sessionId } }", 0},
        {"{ videos { edges { cursor } } }", 0},
        {"mutation A { uploadVideo { id } } query B { __typename }", 0},
        {"mutation { uploadVideo(", 1}, /* does not parse: left to the executor */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (gql_only_mutations_of(cases[i].query, strlen(cases[i].query), uploads) !=
            cases[i].expect)
            fail_msg("case %zu: '%s' should give %d", i, cases[i].query, cases[i].expect);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sdl_schema_executes),
        cmocka_unit_test(test_sdl_errors_name_the_problem),
        cmocka_unit_test(test_only_mutations_of),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
