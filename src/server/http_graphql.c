/* POST /graphql: a JSON GraphQL request or a GraphQL multipart request (uploads). GraphQL
 * errors are answered 200 with {"data", "errors"} as Strawberry does; a body that is not a
 * GraphQL request at all gets a 400 with a JSON error. */
#include "server/http_internal.h"

#include "server/gql_exec.h"
#include "server/gql_parser.h"
#include "server/json_body.h"

#include <string.h>

static int ctx_upload_index(void *app, const cJSON *value) {
    request_ctx *rc = app;
    return rc->upload ? upload_index_of(rc->upload, value) : -1;
}

/* A multipart request is how a page uploads a file, and also what an HTML form on any site can
 * send without a CORS preflight: it may only run uploadVideo. 0 when every operation of the
 * document is a mutation of uploadVideo (and __typename) alone; a document that does not parse
 * is left to the executor, which runs nothing and says why. */
static int only_uploads(const char *query, size_t len) {
    gql_parse_error perr;
    gql_document *doc = gql_parse(query, len, NULL, &perr);
    if (!doc) return 0;
    int ok = 1;
    for (int i = 0; i < doc->n_ops && ok; i++) {
        const gql_operation *op = &doc->ops[i];
        ok = op->kind == OP_MUTATION && op->set && op->set->n > 0;
        for (int k = 0; ok && k < op->set->n; k++) {
            const gql_selection *f = &op->set->items[k];
            ok = f->kind == SEL_FIELD &&
                 (!strcmp(f->name, "uploadVideo") || !strcmp(f->name, "__typename"));
        }
    }
    gql_document_free(doc);
    return ok ? 0 : -1;
}

enum MHD_Result graphql_handle(http_req *r) {
    server *s = r->srv;
    cJSON *body = NULL;
    char msg[400];
    if (r->kind == BODY_MULTIPART) {
        body = upload_operations(r->upload); /* owned by the upload */
    } else {
        body = json_body_parse(r->body.data, r->body.len, (size_t)s->cfg.max_points * 3 + 100000, msg, sizeof msg);
        if (!body) return http_graphql_error(r, 400, msg);
    }
    const char *query, *op;
    cJSON *variables;
    if (graphql_fields(body, &query, &variables, &op, msg, sizeof msg)) {
        if (r->kind != BODY_MULTIPART) cJSON_Delete(body);
        return http_graphql_error(r, 400, msg);
    }
    if (r->kind == BODY_MULTIPART && only_uploads(query, strlen(query)))
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
