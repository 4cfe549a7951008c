/* Request bodies: the streaming multipart/form-data parser (every split of the input gives the
 * same parts), the GraphQL multipart request assembly (operations + map + files), and the JSON
 * body reader's bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "server/json_body.h"
#include "server/multipart.h"
#include "server/upload.h"
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct collected {
    char log[8192];
    size_t len;
    int parts;
} collected;

static void logf_(collected *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->log + c->len, sizeof c->log - c->len, fmt, ap);
    va_end(ap);
    if (n > 0) c->len += (size_t)n;
    if (c->len >= sizeof c->log) c->len = sizeof c->log - 1;
}

static int on_begin(void *u, const char *name, const char *filename, const char *ctype) {
    collected *c = u;
    c->parts++;
    logf_(c, "[%s|%s|%s]", name, filename ? filename : "-", ctype ? ctype : "-");
    return 0;
}

static int on_data(void *u, const char *d, size_t n) {
    collected *c = u;
    logf_(c, "%.*s", (int)n, d);
    return 0;
}

static int on_end(void *u) {
    logf_(u, "{end}");
    return 0;
}

static const mp_callbacks CB = {on_begin, on_data, on_end};

/* Parses `body` fed in pieces of `step` bytes; returns 0 and fills c, or -1 with msg. */
static int parse(const char *ctype, const char *body, size_t len, size_t step, collected *c,
                 char *msg, size_t cap) {
    memset(c, 0, sizeof *c);
    multipart_parser *p = mp_new(ctype, &CB, c, msg, cap);
    if (!p) return -1;
    int rc = 0;
    for (size_t off = 0; off < len && !rc; off += step) {
        size_t n = len - off < step ? len - off : step;
        rc = mp_feed(p, body + off, n);
    }
    if (!rc) rc = mp_finish(p);
    if (rc) snprintf(msg, cap, "%s", mp_error(p));
    mp_free(p);
    return rc;
}

static const char *BODY =
    "preamble to ignore\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"operations\"\r\n"
    "\r\n"
    "{\"query\": \"--XyZ is not a delimiter here\"}\r\n"
    "--XyZ  \r\n"
    "content-disposition: form-data; name=\"file\"; filename=\"a \\\"quoted\\\" name.mp4\"\r\n"
    "Content-Type: video/mp4\r\n"
    "\r\n"
    "\r\n--Xy bytes\r\n\r\nwith CRLFs\r\n"
    "--XyZ--\r\n"
    "epilogue";

static void test_parts_any_split(void **state) {
    (void)state;
    char msg[256];
    collected ref;
    assert_int_equal(parse("multipart/form-data; boundary=XyZ", BODY, strlen(BODY), strlen(BODY),
                           &ref, msg, sizeof msg),
                     0);
    assert_string_equal(
        ref.log, "[operations|-|-]{\"query\": \"--XyZ is not a delimiter here\"}{end}"
                 "[file|a \"quoted\" name.mp4|video/mp4]\r\n--Xy bytes\r\n\r\nwith CRLFs{end}");
    for (size_t step = 1; step < 40; step++) {
        collected c;
        assert_int_equal(parse("multipart/form-data; boundary=\"XyZ\"", BODY, strlen(BODY), step,
                               &c, msg, sizeof msg),
                         0);
        assert_string_equal(c.log, ref.log);
    }
}

static void test_malformed(void **state) {
    (void)state;
    char msg[256];
    collected c;
    const char *ct = "multipart/form-data; boundary=b";
    assert_int_equal(parse("text/plain", "x", 1, 1, &c, msg, sizeof msg), -1);
    assert_int_equal(parse("multipart/form-data", "x", 1, 1, &c, msg, sizeof msg), -1);
    assert_string_equal(msg,
                        "the multipart Content-Type has no valid boundary (1 to 70 characters)");
    char longb[200] = "multipart/form-data; boundary=";
    memset(longb + strlen(longb), 'a', 80);
    assert_int_equal(parse(longb, "x", 1, 1, &c, msg, sizeof msg), -1);
    const char *unterminated = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nabc";
    assert_int_equal(parse(ct, unterminated, strlen(unterminated), 5, &c, msg, sizeof msg), -1);
    assert_string_equal(msg, "the multipart body ended before its closing delimiter");
    const char *no_disp = "--b\r\nContent-Type: text/plain\r\n\r\nabc\r\n--b--";
    assert_int_equal(parse(ct, no_disp, strlen(no_disp), 7, &c, msg, sizeof msg), -1);
    assert_string_equal(msg, "a part has no Content-Disposition header");
    const char *bad_line = "--b\r\nno colon here\r\n\r\nabc\r\n--b--";
    assert_int_equal(parse(ct, bad_line, strlen(bad_line), 3, &c, msg, sizeof msg), -1);
    const char *bad_delim = "--bX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n--b--";
    assert_int_equal(parse(ct, bad_delim, strlen(bad_delim), 64, &c, msg, sizeof msg), -1);
    assert_string_equal(msg, "malformed multipart delimiter line");
    /* Bounded header lines and part counts. */
    char *big = malloc(40000);
    size_t n =
        (size_t)sprintf(big, "--b\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Long: ");
    memset(big + n, 'x', 20000);
    n += 20000;
    n += (size_t)sprintf(big + n, "\r\n\r\nabc\r\n--b--");
    assert_int_equal(parse(ct, big, n, 1000, &c, msg, sizeof msg), -1);
    assert_string_equal(msg, "a part header is too long");
    n = 0;
    for (int i = 0; i < 70; i++)
        n += (size_t)sprintf(big + n,
                             "--b\r\nContent-Disposition: form-data; name=\"p\"\r\n\r\nx\r\n");
    n += (size_t)sprintf(big + n, "--b--");
    assert_int_equal(parse(ct, big, n, 4096, &c, msg, sizeof msg), -1);
    assert_string_equal(msg, "too many parts in the multipart body");
    free(big);
    /* An empty body, and a body with only the closing delimiter. */
    assert_int_equal(parse(ct, "", 0, 1, &c, msg, sizeof msg), -1);
    assert_int_equal(parse(ct, "--b--\r\n", 7, 1, &c, msg, sizeof msg), 0);
    assert_int_equal(c.parts, 0);
}

/* ---- GraphQL multipart request -----------------------------------------------------------------
 */
static char *relay_upload(const char *ops, const char *map, const char *file_field, size_t *len) {
    char *b = malloc(8192);
    *len =
        (size_t)sprintf(b,
                        "--B\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n%s\r\n"
                        "--B\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n%s\r\n"
                        "--B\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"v.mp4\"\r\n"
                        "Content-Type: video/mp4\r\n\r\nVIDEOBYTES\r\n--B--\r\n",
                        ops, map, file_field);
    return b;
}

static upload_req *run_upload(const char *body, size_t len, size_t max_total, int *rc) {
    char msg[256];
    upload_req *u = upload_new("multipart/form-data; boundary=B", test_make_tmpdir(), 1 << 20,
                               max_total, 10000, msg, sizeof msg);
    assert_non_null(u);
    *rc = upload_feed(u, body, len);
    if (!*rc) *rc = upload_finish(u);
    return u;
}

static void test_upload_assembly(void **state) {
    (void)state;
    size_t len;
    int rc;
    char *b =
        relay_upload("{\"query\":\"mutation($file: Upload!) { uploadVideo(file: $file) { id } }\","
                     "\"variables\":{\"file\":{}}}",
                     "{\"file\":[\"variables.file\"]}", "file", &len);
    upload_req *u = run_upload(b, len, 1 << 20, &rc);
    assert_int_equal(rc, 0);
    cJSON *ops = upload_operations(u);
    const cJSON *file = cJSON_GetObjectItem(cJSON_GetObjectItem(ops, "variables"), "file");
    assert_non_null(file);
    assert_int_equal(upload_index_of(u, file), 0);
    assert_int_equal(upload_index_of(u, ops), -1);
    int n;
    const upload_file *f = upload_files(u, &n);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].size, 10);
    assert_string_equal(f[0].filename, "v.mp4");
    size_t flen;
    char *content = test_read_file(f[0].path, &flen);
    assert_int_equal(flen, 10);
    assert_memory_equal(content, "VIDEOBYTES", 10);
    free(content);
    char path[1024];
    snprintf(path, sizeof path, "%s", f[0].path);
    upload_free(u);
    assert_int_not_equal(access(path, F_OK), 0); /* the temporary file is gone */
    free(b);
    /* Nested paths and variables created when absent (the spec sends null, Relay {}). */
    b = relay_upload("{\"query\":\"q\",\"variables\":{\"input\":{\"files\":[null,null]}}}",
                     "{\"0\":[\"variables.input.files.1\", \"variables.other\"]}", "0", &len);
    u = run_upload(b, len, 1 << 20, &rc);
    assert_int_equal(rc, 0);
    ops = upload_operations(u);
    const cJSON *files = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(ops, "variables"), "input"), "files");
    assert_true(cJSON_IsNull(cJSON_GetArrayItem(files, 0)));
    assert_int_equal(upload_index_of(u, cJSON_GetArrayItem(files, 1)), 0);
    assert_int_equal(
        upload_index_of(u, cJSON_GetObjectItem(cJSON_GetObjectItem(ops, "variables"), "other")), 0);
    upload_free(u);
    free(b);
}

static void expect_upload_error(const char *ops, const char *map, const char *field,
                                size_t max_total, int status, const char *needle) {
    size_t len;
    int rc;
    char *b = relay_upload(ops, map, field, &len);
    upload_req *u = run_upload(b, len, max_total, &rc);
    if (rc == 0) fail_msg("no error for ops %s map %s", ops, map);
    assert_int_equal(upload_status(u), status);
    if (!strstr(upload_error(u), needle))
        fail_msg("expected '%s' in '%s'", needle, upload_error(u));
    upload_free(u);
    free(b);
}

static void test_upload_errors(void **state) {
    (void)state;
    const char *ops = "{\"query\":\"q\",\"variables\":{\"file\":null}}";
    expect_upload_error(ops, "{\"other\":[\"variables.file\"]}", "file", 1 << 20, 400,
                        "map names the file part 'other' that the request does not contain");
    expect_upload_error(ops, "{\"file\":[\"query\"]}", "file", 1 << 20, 400,
                        "must start with 'variables.'");
    expect_upload_error(ops, "{\"file\":[\"variables.a.b.c\"]}", "file", 1 << 20, 400,
                        "does not exist in operations");
    expect_upload_error(ops, "{\"file\":\"variables.file\"}", "file", 1 << 20, 400,
                        "must be an array of paths");
    expect_upload_error(ops, "not json", "file", 1 << 20, 400, "map: Unable to parse");
    expect_upload_error("[{\"query\":\"q\"}]", "{}", "file", 1 << 20, 400,
                        "batched operations are not supported");
    expect_upload_error(ops, "{\"file\":[\"variables.file\"]}", "file", 50, 413, "MAX_UPLOAD_MB");
}

static void test_json_bodies(void **state) {
    (void)state;
    char msg[256];
    cJSON *v =
        json_body_parse("{\"query\": \"{ a }\", \"variables\": null}", 37, 100, msg, sizeof msg);
    assert_non_null(v);
    const char *q, *op;
    cJSON *vars;
    assert_int_equal(graphql_fields(v, &q, &vars, &op, msg, sizeof msg), 0);
    assert_string_equal(q, "{ a }");
    assert_null(vars);
    assert_null(op);
    cJSON_Delete(v);
    assert_null(json_body_parse("[1,2,3,4,5,6]", 13, 4, msg, sizeof msg));
    assert_non_null(strstr(msg, "more than 4 JSON values"));
    /* Commas inside strings are not values. */
    v = json_body_parse("[\",,,,,,,,\"]", 12, 4, msg, sizeof msg);
    assert_non_null(v);
    cJSON_Delete(v);
    assert_null(json_body_parse("{\"a\":1} {", 9, 100, msg, sizeof msg));
    assert_null(json_body_parse("{\"a\":\"x\0y\"}", 11, 100, msg, sizeof msg));
    assert_null(json_body_parse("", 0, 100, msg, sizeof msg));
    v = json_body_parse("{\"query\":1}", 11, 100, msg, sizeof msg);
    assert_int_not_equal(graphql_fields(v, &q, &vars, &op, msg, sizeof msg), 0);
    assert_string_equal(msg, "No GraphQL query found in the request");
    cJSON_Delete(v);
    v = json_body_parse("{\"query\":\"{a}\",\"operationName\":5}", 33, 100, msg, sizeof msg);
    assert_int_not_equal(graphql_fields(v, &q, &vars, &op, msg, sizeof msg), 0);
    cJSON_Delete(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parts_any_split), cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_upload_assembly), cmocka_unit_test(test_upload_errors),
        cmocka_unit_test(test_json_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
