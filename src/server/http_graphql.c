/* POST /graphql: a JSON GraphQL request or a GraphQL multipart request (uploads). GraphQL
 * errors are answered 200 with {"data", "errors"} as Strawberry does; a body that is not a
 * GraphQL request at all gets a 400 with a JSON error. */
#include "server/http_routes.h"

#include "server/graphql/gql_exec.h"
#include "server/json_body.h"

#include <string.h>

static int ctx_upload_index(void *app, const cJSON *value) {
    request_ctx *rc = app;
    return rc->upload ? upload_index_of(rc->upload, value) : -1;
}

/* A multipart request is how a page uploads a file, and also what an HTML form on any site can
 * send without a CORS preflight: it may only run uploadVideo. */
static const char *const multipart_mutations[] = {"uploadVideo", NULL};

enum MHD_Result graphql_handle(http_req *r) {
    server *s = r->srv;
    cJSON *body = NULL;
    char msg[400];
    if (r->kind == BODY_MULTIPART) {
        body = upload_operations(r->upload); /* owned by the upload */
    } else {
        body = json_body_parse(r->body.data, r->body.len, (size_t)s->cfg.max_points * 3 + 100000,
                               msg, sizeof msg);
        if (!body) return http_graphql_error(r, 400, msg);
    }
    const char *query, *op;
    cJSON *variables;
    if (graphql_fields(body, &query, &variables, &op, msg, sizeof msg)) {
        if (r->kind != BODY_MULTIPART) cJSON_Delete(body);
        return http_graphql_error(r, 400, msg);
    }
    if (r->kind == BODY_MULTIPART &&
        !gql_only_mutations_of(query, strlen(query), multipart_mutations))
        return http_graphql_error(
            r, 400,
            "A multipart request may only run the uploadVideo mutation; send other operations as "
            "application/json");
    request_ctx rc = {0};
    rc.srv = s;
    http_client_address(r, rc.client, sizeof rc.client);
    if (r->kind == BODY_MULTIPART) {
        rc.upload = r->upload;
        rc.files = (upload_file *)upload_files(r->upload, &rc.n_files);
    }
    gql_request req = {query, strlen(query), op, variables, &rc, ctx_upload_index};
    gql_limits lim = {64, 100000, s->cfg.max_query_fields};
    cJSON *resp = gql_execute(s->schema, &req, &lim);
    if (r->kind != BODY_MULTIPART) cJSON_Delete(body);
    if (!resp) return http_graphql_error(r, 500, "out of memory executing the request");
    return http_json(r, rc.http_status ? rc.http_status : 200, resp);
}
