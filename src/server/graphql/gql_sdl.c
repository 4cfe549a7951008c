/* The SDL subset a server's schema needs, read with the document lexer: `schema`, `scalar`,
 * `interface`, `type ... implements`, `input`, fields with arguments and default values, list
 * and non-null types, and descriptions (skipped). Each definition becomes a call of the schema
 * builders, so a schema from SDL is the same as one built in code. */
#include "server/graphql/gql_buf.h"
#include "server/graphql/gql_lexer.h"
#include "server/graphql/gql_schema.h"

#include <stdlib.h>
#include <string.h>

#define SDL_MAX_DEPTH 32
#define SDL_MAX_IMPLEMENTS 256

typedef struct pending_impl {
    gql_type *object;
    const char *iface;
} pending_impl;

typedef struct sdl {
    gql_lexer lx;
    gql_schema *s;
    gql_err *err;
    int failed;
    const char *query_name, *mutation_name;
    pending_impl impls[SDL_MAX_IMPLEMENTS];
    int n_impls;
} sdl;

static const struct {
    const char *name;
    gql_scalar_id id;
} known_scalars[] = {
    {"Int", GQL_INT}, {"Float", GQL_FLOAT},        {"String", GQL_STRING}, {"Boolean", GQL_BOOLEAN},
    {"ID", GQL_ID},   {"GlobalID", GQL_GLOBAL_ID}, {"Upload", GQL_UPLOAD},
};
#define N_BUILTIN_SCALARS 5 /* the first five need no `scalar` definition */

static const gql_token *tok(const sdl *p) {
    return &p->lx.tok;
}

static int fail_here(sdl *p, const char *what) {
    if (p->failed) return -1;
    p->failed = 1;
    char seen[96];
    gql_token_describe(tok(p), seen, sizeof seen);
    return gql_fail(p->err, "SDL %d:%d: %s, found %s", tok(p)->loc.line, tok(p)->loc.column, what,
                    seen);
}

static int advance(sdl *p) {
    if (p->failed) return -1;
    if (gql_lexer_next(&p->lx) == 0) return 0;
    p->failed = 1;
    return gql_fail(p->err, "SDL %d:%d: %s", p->lx.error_loc.line, p->lx.error_loc.column,
                    p->lx.error);
}

static int at(const sdl *p, gql_token_kind kind) {
    return tok(p)->kind == kind;
}

static int at_word(const sdl *p, const char *word) {
    return at(p, TK_NAME) && !strcmp(tok(p)->value, word);
}

static int expect(sdl *p, gql_token_kind kind, const char *what) {
    if (!at(p, kind)) return fail_here(p, what);
    return advance(p);
}

/* The current Name's text (it lives in the lexer's arena), after which the lexer moves on. */
static const char *take_name(sdl *p) {
    if (!at(p, TK_NAME)) {
        fail_here(p, "expected a name");
        return NULL;
    }
    const char *name = tok(p)->value;
    return advance(p) ? NULL : name;
}

static void skip_description(sdl *p) {
    if (at(p, TK_STRING) || at(p, TK_BLOCK_STRING)) advance(p);
}

/* A type reference, written back as the type string the builders take ("[[Float!]!]!"). */
static int type_ref(sdl *p, gql_buf *out, int depth) {
    if (depth > SDL_MAX_DEPTH) return fail_here(p, "type nested too deeply");
    if (at(p, TK_BRACKET_L)) {
        gb_putc(out, '[');
        if (advance(p) || type_ref(p, out, depth + 1) || expect(p, TK_BRACKET_R, "expected ']'"))
            return -1;
        gb_putc(out, ']');
    } else {
        const char *name = take_name(p);
        if (!name) return -1;
        gb_puts(out, name);
    }
    if (at(p, TK_BANG)) {
        gb_putc(out, '!');
        return advance(p);
    }
    return 0;
}

/* A constant value as JSON (enum values become strings), for default values. */
static cJSON *const_value(sdl *p, int depth) {
    if (depth > SDL_MAX_DEPTH) return fail_here(p, "value nested too deeply"), NULL;
    const gql_token *t = tok(p);
    cJSON *v = NULL;
    if (at(p, TK_INT) || at(p, TK_FLOAT)) {
        v = cJSON_CreateNumber(strtod(t->value, NULL));
    } else if (at(p, TK_STRING) || at(p, TK_BLOCK_STRING)) {
        v = cJSON_CreateString(t->value);
    } else if (at(p, TK_NAME)) {
        if (!strcmp(t->value, "null"))
            v = cJSON_CreateNull();
        else if (!strcmp(t->value, "true") || !strcmp(t->value, "false"))
            v = cJSON_CreateBool(t->value[0] == 't');
        else
            v = cJSON_CreateString(t->value);
    } else if (at(p, TK_BRACKET_L)) {
        v = cJSON_CreateArray();
        if (!v || advance(p)) return cJSON_Delete(v), NULL;
        while (!p->failed && !at(p, TK_BRACKET_R) && !at(p, TK_EOF)) {
            cJSON *item = const_value(p, depth + 1);
            if (!item) return cJSON_Delete(v), NULL;
            cJSON_AddItemToArray(v, item);
        }
        if (!at(p, TK_BRACKET_R)) return fail_here(p, "expected ']'"), cJSON_Delete(v), NULL;
    } else if (at(p, TK_BRACE_L)) {
        v = cJSON_CreateObject();
        if (!v || advance(p)) return cJSON_Delete(v), NULL;
        while (!p->failed && at(p, TK_NAME)) {
            const char *key = take_name(p);
            cJSON *item =
                key && !expect(p, TK_COLON, "expected ':'") ? const_value(p, depth + 1) : NULL;
            if (!item) return cJSON_Delete(v), NULL;
            cJSON_AddItemToObject(v, key, item);
        }
        if (!at(p, TK_BRACE_R)) return fail_here(p, "expected '}'"), cJSON_Delete(v), NULL;
    } else {
        return fail_here(p, "expected a constant value"), NULL;
    }
    if (!v) return gql_fail(p->err, "SDL: out of memory"), p->failed = 1, NULL;
    if (advance(p)) return cJSON_Delete(v), NULL;
    return v;
}

typedef int (*add_input_fn)(gql_schema *s, void *owner, const char *name, const char *type,
                            const char *default_json);

static int add_arg(gql_schema *s, void *owner, const char *name, const char *type,
                   const char *default_json) {
    return gql_field_add_arg(s, owner, name, type, default_json);
}

static int add_input_field(gql_schema *s, void *owner, const char *name, const char *type,
                           const char *default_json) {
    return gql_input_add_field(s, owner, name, type, default_json);
}

/* `name: Type = default` (an argument or an input field), handed to `add`. */
static int input_value(sdl *p, void *owner, add_input_fn add) {
    skip_description(p);
    const char *name = take_name(p);
    if (!name || expect(p, TK_COLON, "expected ':'")) return -1;
    gql_buf type;
    gb_init(&type);
    char *default_json = NULL;
    int rc = type_ref(p, &type, 0);
    if (!rc && at(p, TK_EQUALS)) {
        cJSON *v = advance(p) ? NULL : const_value(p, 0);
        default_json = v ? cJSON_PrintUnformatted(v) : NULL;
        cJSON_Delete(v);
        if (!default_json) rc = p->failed ? -1 : gql_fail(p->err, "SDL: out of memory");
    }
    if (!rc && type.failed) rc = gql_fail(p->err, "SDL: out of memory");
    if (!rc && add(p->s, owner, name, type.data, default_json))
        rc = gql_fail(p->err, "SDL: out of memory");
    cJSON_free(default_json);
    gb_free(&type);
    if (rc) p->failed = 1;
    return rc;
}

/* `{ name(args): Type ... }` of a type or an interface. */
static int field_list(sdl *p, gql_type *t) {
    if (expect(p, TK_BRACE_L, "expected '{'")) return -1;
    while (!p->failed && !at(p, TK_BRACE_R)) {
        skip_description(p);
        const char *name = take_name(p);
        if (!name) return -1;
        gql_field_def *f = gql_type_add_field(p->s, t, name, "?", NULL);
        if (!f) return p->failed = 1, gql_fail(p->err, "SDL: out of memory");
        if (at(p, TK_PAREN_L)) {
            if (advance(p)) return -1;
            while (!p->failed && !at(p, TK_PAREN_R))
                if (input_value(p, f, add_arg)) return -1;
            if (advance(p)) return -1;
        }
        gql_buf type;
        gb_init(&type);
        int rc = expect(p, TK_COLON, "expected ':'") || type_ref(p, &type, 0);
        char *type_str = !rc && !type.failed ? strdup(type.data) : NULL;
        gb_free(&type);
        if (!type_str) return p->failed = 1, rc ? -1 : gql_fail(p->err, "SDL: out of memory");
        free((char *)f->type_str);
        f->type_str = type_str;
    }
    return advance(p);
}

static int implements_list(sdl *p, gql_type *object) {
    if (!at_word(p, "implements")) return 0;
    if (advance(p)) return -1;
    if (at(p, TK_AMP) && advance(p)) return -1;
    do {
        if (at(p, TK_AMP) && advance(p)) return -1;
        const char *iface = take_name(p);
        if (!iface) return -1;
        if (p->n_impls == SDL_MAX_IMPLEMENTS)
            return p->failed = 1, gql_fail(p->err, "SDL: too many interfaces");
        p->impls[p->n_impls++] = (pending_impl){object, iface};
    } while (at(p, TK_AMP));
    return 0;
}

static int scalar_definition(sdl *p) {
    const char *name = take_name(p);
    if (!name) return -1;
    for (size_t i = N_BUILTIN_SCALARS; i < sizeof known_scalars / sizeof known_scalars[0]; i++)
        if (!strcmp(name, known_scalars[i].name))
            return gql_schema_add_scalar(p->s, name, known_scalars[i].id)
                       ? 0
                       : gql_fail(p->err, "SDL: out of memory");
    p->failed = 1;
    return gql_fail(p->err, "SDL: scalar '%s' is not one the engine knows (GlobalID, Upload)",
                    name);
}

static int schema_definition(sdl *p) {
    if (expect(p, TK_BRACE_L, "expected '{'")) return -1;
    while (!p->failed && at(p, TK_NAME)) {
        const char *op = take_name(p);
        const char *type = op && !expect(p, TK_COLON, "expected ':'") ? take_name(p) : NULL;
        if (!type) return -1;
        if (!strcmp(op, "query"))
            p->query_name = type;
        else if (!strcmp(op, "mutation"))
            p->mutation_name = type;
        else
            return fail_here(p, "expected query or mutation");
    }
    return expect(p, TK_BRACE_R, "expected '}'");
}

static int definition(sdl *p) {
    skip_description(p);
    const char *keyword = take_name(p);
    if (!keyword) return -1;
    if (!strcmp(keyword, "schema")) return schema_definition(p);
    if (!strcmp(keyword, "scalar")) return scalar_definition(p);
    const char *name = take_name(p);
    if (!name) return -1;
    gql_type *t = NULL;
    if (!strcmp(keyword, "type"))
        t = gql_schema_add_object(p->s, name);
    else if (!strcmp(keyword, "interface"))
        t = gql_schema_add_interface(p->s, name);
    else if (!strcmp(keyword, "input"))
        t = gql_schema_add_input(p->s, name);
    else
        return p->failed = 1, gql_fail(p->err, "SDL: '%s' definitions are not supported", keyword);
    if (!t) return p->failed = 1, gql_fail(p->err, "SDL: out of memory");
    if (t->kind == GQL_INPUT_OBJECT) {
        if (expect(p, TK_BRACE_L, "expected '{'")) return -1;
        while (!p->failed && !at(p, TK_BRACE_R))
            if (input_value(p, t, add_input_field)) return -1;
        return advance(p);
    }
    if (t->kind == GQL_OBJECT && implements_list(p, t)) return -1;
    return field_list(p, t);
}

/* Interfaces may be defined after the types that implement them. */
static int link_interfaces(sdl *p) {
    for (int i = 0; i < p->n_impls; i++) {
        const gql_type *iface = gql_schema_type(p->s, p->impls[i].iface);
        if (!iface || iface->kind != GQL_INTERFACE)
            return gql_fail(p->err, "SDL: '%s' implements '%s', which is not an interface",
                            p->impls[i].object->name, p->impls[i].iface);
        if (gql_type_implements(p->impls[i].object, iface))
            return gql_fail(p->err, "SDL: '%s' implements too many interfaces",
                            p->impls[i].object->name);
    }
    return 0;
}

static int bind_resolvers(gql_schema *s, const gql_resolver_entry *r, int n, gql_err *err) {
    for (int i = 0; i < n; i++) {
        const char *dot = strchr(r[i].field, '.');
        char type_name[128];
        size_t len = dot ? (size_t)(dot - r[i].field) : 0;
        if (!dot || len >= sizeof type_name)
            return gql_fail(err, "resolver '%s': expected Type.field", r[i].field);
        memcpy(type_name, r[i].field, len);
        type_name[len] = 0;
        /* The schema owns its fields; the lookup only hands them out read-only. */
        gql_field_def *f = (gql_field_def *)gql_type_field(gql_schema_type(s, type_name), dot + 1);
        if (!f) return gql_fail(err, "resolver '%s': the SDL has no such field", r[i].field);
        f->resolve = r[i].fn;
        f->resolver_data = r[i].data;
    }
    return 0;
}

static int add_builtin_scalars(gql_schema *s) {
    for (int i = 0; i < N_BUILTIN_SCALARS; i++)
        if (!gql_schema_add_scalar(s, known_scalars[i].name, known_scalars[i].id)) return -1;
    return 0;
}

static int read_sdl(sdl *p) {
    if (add_builtin_scalars(p->s)) return gql_fail(p->err, "SDL: out of memory");
    if (advance(p)) return -1;
    while (!p->failed && !at(p, TK_EOF))
        if (definition(p)) return -1;
    if (p->failed || link_interfaces(p)) return -1;
    const gql_type *q = gql_schema_type(p->s, p->query_name ? p->query_name : "Query");
    const gql_type *m = gql_schema_type(p->s, p->mutation_name ? p->mutation_name : "Mutation");
    if (p->mutation_name && !m)
        return gql_fail(p->err, "SDL: no mutation type '%s'", p->mutation_name);
    gql_schema_set_roots(p->s, q, m);
    return 0;
}

gql_schema *gql_schema_from_sdl(const char *text, const gql_resolver_entry *resolvers,
                                int n_resolvers, gql_err *err) {
    gql_err local;
    if (!err) err = &local;
    err->message[0] = 0;
    sdl *p = calloc(1, sizeof *p);
    gql_schema *s = gql_schema_new();
    arena names; /* the lexer's token texts, needed only while reading */
    arena_init_small(&names, 16384, 0);
    int rc = -1;
    if (!p || !s) {
        gql_fail(err, "SDL: out of memory");
    } else {
        p->s = s;
        p->err = err;
        gql_lexer_init(&p->lx, text, strlen(text), &names);
        rc = read_sdl(p);
        if (!rc) rc = bind_resolvers(s, resolvers, n_resolvers, err);
        if (!rc) rc = gql_schema_finish(s, err);
    }
    arena_free(&names);
    free(p);
    if (rc) {
        gql_schema_free(s);
        return NULL;
    }
    return s;
}
