/* GraphQL execution (spec section 6): operation selection, variable coercion, field collection
 * with @skip/@include and fragments, argument coercion, resolvers, value completion with null
 * propagation, and errors with message, locations and path. */
#include "server/graphql/gql_exec.h"

#include "server/graphql/gql_errors.h"
#include "server/graphql/gql_parser.h"
#include "server/graphql/gql_validate.h"
#include "server/graphql/gql_values.h"
#include "server/graphql/gql_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXEC_WORK_LIMIT 2000000L

typedef struct path_seg {
    const struct path_seg *prev;
    const char *key; /* NULL: list index */
    int index;
} path_seg;

static cJSON *path_json(const path_seg *p) {
    int n = 0;
    for (const path_seg *q = p; q; q = q->prev) n++;
    const path_seg **segs = malloc(((size_t)n + 1) * sizeof *segs);
    cJSON *arr = cJSON_CreateArray();
    if (!segs || !arr) {
        free(segs);
        cJSON_Delete(arr);
        return NULL;
    }
    int i = n;
    for (const path_seg *q = p; q; q = q->prev) segs[--i] = q;
    for (i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, segs[i]->key ? cJSON_CreateString(segs[i]->key)
                                               : cJSON_CreateNumber(segs[i]->index));
    free(segs);
    return arr;
}

typedef struct collected {
    const char *key;
    const gql_selection **nodes;
    int n, cap;
} collected;

typedef struct collected_list {
    collected *items;
    int n, cap;
    int *table; /* open addressing over response keys: index into items, -1 empty */
    int table_size;
} collected_list;

typedef struct ectx {
    const gql_schema *s;
    gql_document *doc;
    const gql_request *req;
    cJSON *vars;
    gql_errors errs;
    gql_coerce_ctx cc;
    long fields, max_fields;
    long work;
    int limit_reported;
    int oom;
} ectx;

static void field_error(ectx *c, const char *msg, const gql_selection *node, const path_seg *path) {
    if (c->errs.count >= GQL_MAX_ERRORS) return;
    gql_error_add(&c->errs, msg, &node->loc, 1, path_json(path));
}

static void free_collected(collected_list *l) {
    for (int i = 0; i < l->n; i++) free(l->items[i].nodes);
    free(l->items);
    free(l->table);
    memset(l, 0, sizeof *l);
}

static unsigned key_hash(const char *s) {
    unsigned h = 2166136261u;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static int *table_slot(collected_list *l, const char *key) {
    unsigned mask = (unsigned)l->table_size - 1, h = key_hash(key) & mask;
    while (l->table[h] >= 0 && strcmp(l->items[l->table[h]].key, key)) h = (h + 1) & mask;
    return &l->table[h];
}

static int rehash(collected_list *l, int size) {
    int *t = malloc((size_t)size * sizeof *t);
    if (!t) return -1;
    for (int i = 0; i < size; i++) t[i] = -1;
    free(l->table);
    l->table = t;
    l->table_size = size;
    for (int i = 0; i < l->n; i++) *table_slot(l, l->items[i].key) = i;
    return 0;
}

static int add_collected(collected_list *l, const char *key, const gql_selection *node) {
    if ((l->n + 1) * 2 > l->table_size && rehash(l, l->table_size ? l->table_size * 2 : 16))
        return -1;
    int *slot = table_slot(l, key);
    collected *e = *slot >= 0 ? &l->items[*slot] : NULL;
    if (!e) {
        if (l->n == l->cap) {
            int ncap = l->cap ? l->cap * 2 : 8;
            collected *na = realloc(l->items, (size_t)ncap * sizeof *na);
            if (!na) return -1;
            l->items = na;
            l->cap = ncap;
        }
        *slot = l->n;
        e = &l->items[l->n++];
        memset(e, 0, sizeof *e);
        e->key = key;
    }
    if (e->n == e->cap) {
        int ncap = e->cap ? e->cap * 2 : 2;
        const gql_selection **na = realloc((void *)e->nodes, (size_t)ncap * sizeof *na);
        if (!na) return -1;
        e->nodes = na;
        e->cap = ncap;
    }
    e->nodes[e->n++] = node;
    return 0;
}

/* @skip(if:) / @include(if:) decide whether a selection takes part. */
static int should_include(ectx *c, const gql_directive *dirs, int n) {
    for (int i = 0; i < n; i++) {
        const gql_directive *d = &dirs[i];
        int is_skip = !strcmp(d->name, "skip");
        if (!is_skip && strcmp(d->name, "include")) continue;
        for (int a = 0; a < d->n_args; a++) {
            if (strcmp(d->args[a].name, "if")) continue;
            const gql_value *v = d->args[a].value;
            int val = 0;
            if (v->kind == GV_BOOLEAN) {
                val = v->boolean;
            } else if (v->kind == GV_VARIABLE) {
                const cJSON *j = cJSON_GetObjectItemCaseSensitive(c->vars, v->text);
                val = cJSON_IsTrue(j);
            }
            if (is_skip && val) return 0;
            if (!is_skip && !val) return 0;
        }
    }
    return 1;
}

static int fragment_applies(const gql_schema *s, const gql_type *obj, const char *cond) {
    if (!cond) return 1;
    const gql_type *t = gql_schema_type(s, cond);
    if (!t) return 0;
    if (t == obj) return 1;
    if (t->kind == GQL_INTERFACE)
        for (int i = 0; i < obj->n_interfaces; i++)
            if (obj->interfaces[i] == t) return 1;
    return 0;
}

static int collect_fields(ectx *c, const gql_type *obj, const gql_selection_set *set,
                          unsigned char *visited, collected_list *out) {
    for (int i = 0; i < set->n; i++) {
        const gql_selection *s = &set->items[i];
        if (++c->work > EXEC_WORK_LIMIT) return -1;
        if (!should_include(c, s->dirs, s->n_dirs)) continue;
        if (s->kind == SEL_FIELD) {
            if (add_collected(out, s->alias ? s->alias : s->name, s)) {
                c->oom = 1;
                return -1;
            }
        } else if (s->kind == SEL_INLINE) {
            if (!fragment_applies(c->s, obj, s->type_condition)) continue;
            if (collect_fields(c, obj, s->set, visited, out)) return -1;
        } else {
            int fi = -1;
            for (int f = 0; f < c->doc->n_frags; f++)
                if (!strcmp(c->doc->frags[f].name, s->name)) {
                    fi = f;
                    break;
                }
            if (fi < 0 || visited[fi]) continue;
            visited[fi] = 1;
            const gql_fragment *frag = &c->doc->frags[fi];
            if (!fragment_applies(c->s, obj, frag->type_condition)) continue;
            if (collect_fields(c, obj, frag->set, visited, out)) return -1;
        }
    }
    return 0;
}

static void report_limit(ectx *c, const gql_selection *node, const path_seg *path) {
    if (c->limit_reported) return;
    c->limit_reported = 1;
    char msg[200];
    if (c->oom)
        snprintf(msg, sizeof msg, "Out of memory while executing the query.");
    else
        snprintf(msg, sizeof msg, "The query is too large: it would resolve more than %ld fields.",
                 c->max_fields);
    field_error(c, msg, node, path);
}

static int execute_fields(ectx *c, const gql_type *obj, const cJSON *source,
                          const gql_selection **nodes, int n_nodes, const path_seg *path,
                          cJSON **out);

static int complete_value(ectx *c, const gql_type *parent, const gql_type *type,
                          const gql_selection **nodes, int n_nodes, const cJSON *value,
                          const path_seg *path, cJSON **out);

/* Completion of a nullable type; -1 means an error was recorded and the value must bubble. */
static int complete_raw(ectx *c, const gql_type *parent, const gql_type *type,
                        const gql_selection **nodes, int n_nodes, const cJSON *value,
                        const path_seg *path, cJSON **out) {
    char msg[300];
    *out = NULL;
    if (!value || cJSON_IsNull(value)) {
        *out = cJSON_CreateNull();
        return *out ? 0 : -1;
    }
    switch (type->kind) {
    case GQL_LIST: {
        if (!cJSON_IsArray(value)) {
            snprintf(msg, sizeof msg, "Expected Iterable, but did not find one for field '%s.%s'.",
                     parent->name, nodes[0]->name);
            field_error(c, msg, nodes[0], path);
            return -1;
        }
        cJSON *arr = cJSON_CreateArray();
        if (!arr) return -1;
        int i = 0;
        for (const cJSON *item = value->child; item; item = item->next, i++) {
            path_seg seg = {path, NULL, i};
            cJSON *ci;
            if (complete_value(c, parent, type->of_type, nodes, n_nodes, item, &seg, &ci)) {
                cJSON_Delete(arr);
                return -1;
            }
            cJSON_AddItemToArray(arr, ci);
        }
        *out = arr;
        return 0;
    }
    case GQL_SCALAR: {
        cJSON *v = gql_serialize_scalar(type, value, msg, sizeof msg);
        if (!v) {
            field_error(c, msg, nodes[0], path);
            return -1;
        }
        *out = v;
        return 0;
    }
    case GQL_OBJECT:
        return execute_fields(c, type, value, nodes, n_nodes, path, out);
    case GQL_INTERFACE: {
        const cJSON *tn = cJSON_GetObjectItemCaseSensitive(value, "__typename");
        const gql_type *rt = cJSON_IsString(tn) ? gql_schema_type(c->s, tn->valuestring) : NULL;
        if (!rt || rt->kind != GQL_OBJECT || !fragment_applies(c->s, rt, type->name)) {
            snprintf(
                msg, sizeof msg,
                "Abstract type '%s' must resolve to an Object type at runtime for field '%s.%s'.",
                type->name, parent->name, nodes[0]->name);
            field_error(c, msg, nodes[0], path);
            return -1;
        }
        return execute_fields(c, rt, value, nodes, n_nodes, path, out);
    }
    default:
        field_error(c, "Field has a type that cannot be returned.", nodes[0], path);
        return -1;
    }
}

static int complete_value(ectx *c, const gql_type *parent, const gql_type *type,
                          const gql_selection **nodes, int n_nodes, const cJSON *value,
                          const path_seg *path, cJSON **out) {
    if (type->kind == GQL_NON_NULL) {
        if (complete_raw(c, parent, type->of_type, nodes, n_nodes, value, path, out)) return -1;
        if (cJSON_IsNull(*out)) {
            char msg[300];
            snprintf(msg, sizeof msg, "Cannot return null for non-nullable field %s.%s.",
                     parent->name, nodes[0]->name);
            field_error(c, msg, nodes[0], path);
            cJSON_Delete(*out);
            *out = NULL;
            return -1;
        }
        return 0;
    }
    if (complete_raw(c, parent, type, nodes, n_nodes, value, path, out)) {
        cJSON_Delete(*out);
        *out = cJSON_CreateNull();
        return *out ? 0 : -1;
    }
    return 0;
}

static cJSON *coerce_arguments(ectx *c, const gql_field_def *fd, const gql_selection *node,
                               char *msg, size_t cap) {
    char tn[160];
    cJSON *args = cJSON_CreateObject();
    if (!args) {
        snprintf(msg, cap, "Out of memory.");
        return NULL;
    }
    for (int i = 0; i < fd->n_args; i++) {
        const gql_input_value *def = &fd->args[i];
        const gql_argument *a = NULL;
        for (int k = 0; k < node->n_args; k++)
            if (!strcmp(node->args[k].name, def->name)) a = &node->args[k];
        cJSON *v = NULL;
        int nn = def->type->kind == GQL_NON_NULL;
        gql_type_print(def->type, tn, sizeof tn);
        if (a && a->value->kind == GV_VARIABLE) {
            const cJSON *vv = cJSON_GetObjectItemCaseSensitive(c->vars, a->value->text);
            if (!vv) {
                if (def->default_value)
                    v = cJSON_Duplicate(def->default_value, 1);
                else if (nn) {
                    snprintf(msg, cap,
                             "Argument '%s' of required type '%s' was provided the variable '$%s' "
                             "which was not "
                             "provided a runtime value.",
                             def->name, tn, a->value->text);
                    goto fail;
                } else
                    continue;
            } else if (nn && cJSON_IsNull(vv)) {
                snprintf(msg, cap, "Argument '%s' of non-null type '%s' must not be null.",
                         def->name, tn);
                goto fail;
            } else {
                v = cJSON_Duplicate(vv, 1);
            }
        } else if (a) {
            char why[300];
            if (gql_coerce_literal(&c->cc, def->type, a->value, c->vars, &v, why, sizeof why)) {
                snprintf(msg, cap, "Argument '%s' has invalid value: %s", def->name, why);
                goto fail;
            }
            if (!v) continue;
        } else if (def->default_value) {
            v = cJSON_Duplicate(def->default_value, 1);
        } else if (nn) {
            snprintf(msg, cap, "Argument '%s' of required type '%s' was not provided.", def->name,
                     tn);
            goto fail;
        } else {
            continue;
        }
        if (!v) {
            snprintf(msg, cap, "Out of memory.");
            goto fail;
        }
        cJSON_AddItemToObject(args, def->name, v);
    }
    return args;
fail:
    cJSON_Delete(args);
    return NULL;
}

static int execute_field(ectx *c, const gql_type *obj, const cJSON *source, const collected *f,
                         const path_seg *path, cJSON **out) {
    const gql_selection *node = f->nodes[0];
    *out = NULL;
    if (++c->fields > c->max_fields || c->oom) {
        report_limit(c, node, path);
        return -1;
    }
    if (!strcmp(node->name, "__typename")) {
        *out = cJSON_CreateString(obj->name);
        return *out ? 0 : -1;
    }
    const gql_field_def *fd = gql_type_field(obj, node->name);
    if (!fd) { /* validated away; defensive */
        field_error(c, "Unknown field.", node, path);
        return -1;
    }
    char msg[600];
    cJSON *args = coerce_arguments(c, fd, node, msg, sizeof msg);
    cJSON *value = NULL;
    if (args) {
        if (fd->resolve) {
            gql_resolve_info info = {c->req->app, fd->name, source, args, fd->resolver_data};
            gql_err err = {{0}};
            value = fd->resolve(&info, &err);
            if (!value)
                snprintf(msg, sizeof msg, "%s",
                         err.message[0] ? err.message : "The resolver failed.");
        } else {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(source, fd->name);
            value = v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
            if (!value) snprintf(msg, sizeof msg, "Out of memory.");
        }
        cJSON_Delete(args);
    }
    if (!value) {
        field_error(c, msg, node, path);
        if (fd->type->kind == GQL_NON_NULL) return -1;
        *out = cJSON_CreateNull();
        return *out ? 0 : -1;
    }
    int r = complete_value(c, obj, fd->type, f->nodes, f->n, value, path, out);
    cJSON_Delete(value);
    return r;
}

static int execute_fields(ectx *c, const gql_type *obj, const cJSON *source,
                          const gql_selection **nodes, int n_nodes, const path_seg *path,
                          cJSON **out) {
    *out = NULL;
    collected_list fields = {0};
    unsigned char *visited = calloc((size_t)c->doc->n_frags + 1, 1);
    if (!visited) {
        c->oom = 1;
        report_limit(c, nodes[0], path);
        return -1;
    }
    for (int i = 0; i < n_nodes; i++) {
        if (!nodes[i]->set) continue;
        if (collect_fields(c, obj, nodes[i]->set, visited, &fields)) {
            free(visited);
            free_collected(&fields);
            if (!c->oom) c->fields = c->max_fields + 1; /* work limit: report as too large */
            report_limit(c, nodes[0], path);
            return -1;
        }
    }
    free(visited);
    cJSON *res = cJSON_CreateObject();
    int rc = res ? 0 : -1;
    for (int i = 0; i < fields.n && !rc; i++) {
        path_seg seg = {path, fields.items[i].key, 0};
        cJSON *v;
        if (execute_field(c, obj, source, &fields.items[i], &seg, &v)) {
            rc = -1;
            break;
        }
        cJSON_AddItemToObject(res, fields.items[i].key, v);
    }
    free_collected(&fields);
    if (rc) {
        cJSON_Delete(res);
        return -1;
    }
    *out = res;
    return 0;
}

static cJSON *finish(cJSON *data, gql_errors *errs) {
    cJSON *resp = cJSON_CreateObject();
    if (!resp) {
        cJSON_Delete(data);
        cJSON_Delete(errs->list);
        return NULL;
    }
    cJSON_AddItemToObject(resp, "data", data ? data : cJSON_CreateNull());
    if (errs->list) cJSON_AddItemToObject(resp, "errors", errs->list);
    errs->list = NULL;
    return resp;
}

static cJSON *request_error(const char *msg, const gql_loc *loc) {
    gql_errors e = {0};
    gql_error_add(&e, msg, loc, loc ? 1 : 0, NULL);
    return finish(NULL, &e);
}

static int coerce_variables(ectx *c, const gql_operation *op) {
    char tn[160], why[400];
    c->vars = cJSON_CreateObject();
    if (!c->vars) return -1;
    int bad = 0;
    for (int i = 0; i < op->n_vars; i++) {
        const gql_var_def *vd = &op->vars[i];
        const gql_type *t = gql_type_from_ref(c->s, &c->doc->nodes, vd->type, NULL);
        if (!t) return -1;
        gql_type_print(t, tn, sizeof tn);
        const cJSON *given = c->req->variables
                                 ? cJSON_GetObjectItemCaseSensitive(c->req->variables, vd->name)
                                 : NULL;
        cJSON *v = NULL;
        char msg[700];
        msg[0] = 0;
        if (!given) {
            if (vd->default_value) {
                cJSON *empty = cJSON_CreateObject();
                if (gql_coerce_literal(&c->cc, t, vd->default_value, empty, &v, why, sizeof why))
                    snprintf(msg, sizeof msg, "Variable '$%s' has an invalid default value: %s",
                             vd->name, why);
                cJSON_Delete(empty);
            } else if (t->kind == GQL_NON_NULL) {
                snprintf(msg, sizeof msg, "Variable '$%s' of required type '%s' was not provided.",
                         vd->name, tn);
            } else {
                continue;
            }
        } else if (cJSON_IsNull(given) && t->kind == GQL_NON_NULL) {
            snprintf(msg, sizeof msg, "Variable '$%s' of non-null type '%s' must not be null.",
                     vd->name, tn);
        } else {
            gql_buf path, shown;
            gb_init(&path);
            gb_init(&shown);
            gb_puts(&path, vd->name);
            if (gql_coerce_json(&c->cc, t, given, &v, &path, why, sizeof why)) {
                /* Show the value at the failing path, as graphql-core does. */
                gql_print_json(&shown, given, 100);
                if (path.data && strcmp(path.data, vd->name))
                    snprintf(msg, sizeof msg, "Variable '$%s' got invalid value %s at '%s'; %s",
                             vd->name, shown.data ? shown.data : "?", path.data, why);
                else
                    snprintf(msg, sizeof msg, "Variable '$%s' got invalid value %s; %s", vd->name,
                             shown.data ? shown.data : "?", why);
            }
            gb_free(&path);
            gb_free(&shown);
        }
        if (msg[0]) {
            cJSON_Delete(v);
            if (c->errs.count < GQL_MAX_ERRORS) gql_error_add(&c->errs, msg, &vd->loc, 1, NULL);
            bad = 1;
            continue;
        }
        if (v) cJSON_AddItemToObject(c->vars, vd->name, v);
    }
    return bad ? 1 : 0;
}

cJSON *gql_execute(const gql_schema *schema, const gql_request *req, const gql_limits *limits) {
    gql_parse_limits pl = {0};
    if (limits) {
        pl.max_depth = limits->max_depth;
        pl.max_tokens = limits->max_tokens;
    }
    gql_parse_error perr;
    gql_document *doc =
        gql_parse(req->query ? req->query : "", req->query ? req->query_len : 0, &pl, &perr);
    if (!doc) return request_error(perr.message, perr.loc.line ? &perr.loc : NULL);

    ectx c;
    memset(&c, 0, sizeof c);
    c.s = schema;
    c.doc = doc;
    c.req = req;
    c.cc.app = req->app;
    c.cc.upload_index = req->upload_index;
    c.max_fields = limits && limits->max_fields > 0 ? limits->max_fields : 20000;

    cJSON *resp = NULL;
    if (gql_validate(schema, doc, &c.errs) > 0) {
        resp = finish(NULL, &c.errs);
        goto out;
    }
    const gql_operation *op = NULL;
    if (req->operation_name && *req->operation_name) {
        for (int i = 0; i < doc->n_ops; i++)
            if (doc->ops[i].name && !strcmp(doc->ops[i].name, req->operation_name))
                op = &doc->ops[i];
        if (!op) {
            char msg[300];
            snprintf(msg, sizeof msg, "Unknown operation named '%.200s'.", req->operation_name);
            resp = request_error(msg, NULL);
            goto out;
        }
    } else if (doc->n_ops == 1) {
        op = &doc->ops[0];
    } else {
        resp = request_error(
            doc->n_ops ? "Must provide operation name if query contains multiple operations."
                       : "Must provide an operation.",
            NULL);
        goto out;
    }
    int vr = coerce_variables(&c, op);
    if (vr) {
        if (vr < 0 && c.errs.count == 0) gql_error_add(&c.errs, "Out of memory.", NULL, 0, NULL);
        resp = finish(NULL, &c.errs);
        goto out;
    }
    const gql_type *root =
        op->kind == OP_MUTATION ? gql_schema_mutation(schema) : gql_schema_query(schema);
    /* The root selection is executed as the selection set of a synthetic field. */
    gql_selection root_node;
    memset(&root_node, 0, sizeof root_node);
    root_node.kind = SEL_FIELD;
    root_node.name = op->kind == OP_MUTATION ? "mutation" : "query";
    root_node.set = op->set;
    root_node.loc = op->loc;
    const gql_selection *rn = &root_node;
    cJSON *source = cJSON_CreateObject();
    cJSON *data = NULL;
    if (source && execute_fields(&c, root, source, &rn, 1, NULL, &data)) data = NULL;
    cJSON_Delete(source);
    resp = finish(data, &c.errs);
out:
    cJSON_Delete(c.errs.list);
    cJSON_Delete(c.vars);
    gql_document_free(doc);
    return resp;
}

static int name_listed(const char *name, const char *const *names) {
    if (!strcmp(name, "__typename")) return 1;
    for (; *names; names++)
        if (!strcmp(name, *names)) return 1;
    return 0;
}

int gql_only_mutations_of(const char *query, size_t len, const char *const *fields) {
    gql_parse_error perr;
    gql_document *doc = gql_parse(query, len, NULL, &perr);
    if (!doc) return 1;
    int ok = 1;
    for (int i = 0; i < doc->n_ops && ok; i++) {
        const gql_operation *op = &doc->ops[i];
        ok = op->kind == OP_MUTATION && op->set && op->set->n > 0;
        for (int k = 0; ok && k < op->set->n; k++) {
            const gql_selection *f = &op->set->items[k];
            ok = f->kind == SEL_FIELD && name_listed(f->name, fields);
        }
    }
    gql_document_free(doc);
    return ok;
}
