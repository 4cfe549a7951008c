#include "server/graphql/gql_schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gql_schema {
    gql_type **types; /* named types */
    int n_types, cap_types;
    gql_type **wrappers; /* list / non-null wrappers made by finish() */
    int n_wrappers, cap_wrappers;
    const gql_type *query, *mutation;
};

static int push_ptr(void ***arr, int *n, int *cap, void *p) {
    if (*n == *cap) {
        int ncap = *cap ? *cap * 2 : 16;
        void **na = realloc(*arr, (size_t)ncap * sizeof *na);
        if (!na) return -1;
        *arr = na;
        *cap = ncap;
    }
    (*arr)[(*n)++] = p;
    return 0;
}

int gql_fail(gql_err *err, const char *fmt, ...) {
    if (!err) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

gql_schema *gql_schema_new(void) {
    return calloc(1, sizeof(gql_schema));
}

static void free_inputs(gql_input_value *v, int n) {
    for (int i = 0; i < n; i++) {
        free((char *)v[i].name);
        free((char *)v[i].type_str);
        cJSON_Delete(v[i].default_value);
    }
    free(v);
}

void gql_schema_free(gql_schema *s) {
    if (!s) return;
    for (int i = 0; i < s->n_types; i++) {
        gql_type *t = s->types[i];
        for (int f = 0; f < t->n_fields; f++) {
            gql_field_def *fd = t->fields[f];
            free((char *)fd->name);
            free((char *)fd->type_str);
            free_inputs(fd->args, fd->n_args);
            free(fd);
        }
        free(t->fields);
        free_inputs(t->inputs, t->n_inputs);
        free((char *)t->name);
        free(t);
    }
    for (int i = 0; i < s->n_wrappers; i++) free(s->wrappers[i]);
    free(s->types);
    free(s->wrappers);
    free(s);
}

static gql_type *add_named(gql_schema *s, const char *name, gql_kind kind) {
    gql_type *t = calloc(1, sizeof *t);
    char *n = strdup(name);
    if (!t || !n || push_ptr((void ***)&s->types, &s->n_types, &s->cap_types, t)) {
        free(t);
        free(n);
        return NULL;
    }
    t->kind = kind;
    t->name = n;
    return t;
}

gql_type *gql_schema_add_scalar(gql_schema *s, const char *name, gql_scalar_id id) {
    gql_type *t = add_named(s, name, GQL_SCALAR);
    if (t) t->scalar = id;
    return t;
}
gql_type *gql_schema_add_object(gql_schema *s, const char *name) {
    return add_named(s, name, GQL_OBJECT);
}
gql_type *gql_schema_add_interface(gql_schema *s, const char *name) {
    return add_named(s, name, GQL_INTERFACE);
}
gql_type *gql_schema_add_input(gql_schema *s, const char *name) {
    return add_named(s, name, GQL_INPUT_OBJECT);
}

int gql_type_implements(gql_type *object, const gql_type *iface) {
    if (object->n_interfaces >= 4) return -1;
    object->interfaces[object->n_interfaces++] = iface;
    return 0;
}

gql_field_def *gql_type_add_field(gql_schema *s, gql_type *t, const char *name,
                                  const char *type_str, gql_resolver resolve) {
    (void)s;
    gql_field_def *f = calloc(1, sizeof *f);
    char *n = strdup(name), *ts = strdup(type_str);
    if (!f || !n || !ts || push_ptr((void ***)&t->fields, &t->n_fields, &t->cap_fields, f)) {
        free(f);
        free(n);
        free(ts);
        return NULL;
    }
    f->name = n;
    f->type_str = ts;
    f->resolve = resolve;
    return f;
}

static int add_input_value(gql_input_value **arr, int *n, int *cap, const char *name,
                           const char *type_str, const char *default_json) {
    if (*n == *cap) {
        int ncap = *cap ? *cap * 2 : 4;
        gql_input_value *na = realloc(*arr, (size_t)ncap * sizeof *na);
        if (!na) return -1;
        *arr = na;
        *cap = ncap;
    }
    gql_input_value *v = &(*arr)[*n];
    memset(v, 0, sizeof *v);
    v->name = strdup(name);
    v->type_str = strdup(type_str);
    if (default_json) v->default_value = cJSON_Parse(default_json);
    if (!v->name || !v->type_str || (default_json && !v->default_value)) {
        free((char *)v->name);
        free((char *)v->type_str);
        cJSON_Delete(v->default_value);
        return -1;
    }
    (*n)++;
    return 0;
}

int gql_field_add_arg(gql_schema *s, gql_field_def *f, const char *name, const char *type_str,
                      const char *default_json) {
    (void)s;
    return add_input_value(&f->args, &f->n_args, &f->cap_args, name, type_str, default_json);
}

int gql_input_add_field(gql_schema *s, gql_type *t, const char *name, const char *type_str,
                        const char *default_json) {
    (void)s;
    return add_input_value(&t->inputs, &t->n_inputs, &t->cap_inputs, name, type_str, default_json);
}

void gql_schema_set_roots(gql_schema *s, const gql_type *query, const gql_type *mutation) {
    s->query = query;
    s->mutation = mutation;
}

const gql_type *gql_schema_type(const gql_schema *s, const char *name) {
    for (int i = 0; i < s->n_types; i++)
        if (!strcmp(s->types[i]->name, name)) return s->types[i];
    return NULL;
}

/* A list or non-null wrapper of `of`, owned by the schema. */
static const gql_type *wrap_type(gql_schema *s, gql_kind kind, const gql_type *of, gql_err *err) {
    gql_type *w = calloc(1, sizeof *w);
    if (!w || push_ptr((void ***)&s->wrappers, &s->n_wrappers, &s->cap_wrappers, w)) {
        free(w);
        gql_fail(err, "schema: out of memory");
        return NULL;
    }
    w->kind = kind;
    w->of_type = of;
    return w;
}

/* Parses "[Name!]!" style strings into wrapper chains owned by the schema. */
static const gql_type *parse_type_str(gql_schema *s, const char **p, gql_err *err) {
    const gql_type *t;
    if (**p == '[') {
        (*p)++;
        const gql_type *inner = parse_type_str(s, p, err);
        if (!inner) return NULL;
        if (**p != ']') {
            gql_fail(err, "schema: bad type string near '%s'", *p);
            return NULL;
        }
        (*p)++;
        t = wrap_type(s, GQL_LIST, inner, err);
        if (!t) return NULL;
    } else {
        char name[64];
        size_t n = 0;
        while (((**p >= 'A' && **p <= 'Z') || (**p >= 'a' && **p <= 'z') ||
                (**p >= '0' && **p <= '9') || **p == '_') &&
               n + 1 < sizeof name)
            name[n++] = *(*p)++;
        name[n] = 0;
        t = gql_schema_type(s, name);
        if (!t) {
            gql_fail(err, "schema: unknown type '%s'", name);
            return NULL;
        }
    }
    if (**p == '!') {
        (*p)++;
        t = wrap_type(s, GQL_NON_NULL, t, err);
    }
    return t;
}

static const gql_type *resolve_str(gql_schema *s, const char *str, gql_err *err) {
    const char *p = str;
    const gql_type *t = parse_type_str(s, &p, err);
    if (t && *p) {
        gql_fail(err, "schema: trailing text in type '%s'", str);
        return NULL;
    }
    return t;
}

int gql_schema_finish(gql_schema *s, gql_err *err) {
    for (int i = 0; i < s->n_types; i++) {
        gql_type *t = s->types[i];
        for (int f = 0; f < t->n_fields; f++) {
            gql_field_def *fd = t->fields[f];
            if (!(fd->type = resolve_str(s, fd->type_str, err))) return -1;
            for (int a = 0; a < fd->n_args; a++)
                if (!(fd->args[a].type = resolve_str(s, fd->args[a].type_str, err))) return -1;
        }
        for (int f = 0; f < t->n_inputs; f++)
            if (!(t->inputs[f].type = resolve_str(s, t->inputs[f].type_str, err))) return -1;
    }
    if (!s->query) return gql_fail(err, "schema: no query type");
    return 0;
}

const gql_type *gql_schema_query(const gql_schema *s) {
    return s->query;
}
const gql_type *gql_schema_mutation(const gql_schema *s) {
    return s->mutation;
}

const gql_field_def *gql_type_field(const gql_type *t, const char *name) {
    if (!t || (t->kind != GQL_OBJECT && t->kind != GQL_INTERFACE)) return NULL;
    for (int i = 0; i < t->n_fields; i++)
        if (!strcmp(t->fields[i]->name, name)) return t->fields[i];
    return NULL;
}

const gql_input_value *gql_type_input(const gql_type *t, const char *name) {
    if (!t || t->kind != GQL_INPUT_OBJECT) return NULL;
    for (int i = 0; i < t->n_inputs; i++)
        if (!strcmp(t->inputs[i].name, name)) return &t->inputs[i];
    return NULL;
}

const gql_type *gql_type_from_ref(const gql_schema *s, arena *arena, const gql_type_ref *ref,
                                  const char **unknown) {
    if (ref->kind == GT_REF_NAMED) {
        const gql_type *t = gql_schema_type(s, ref->name);
        if (!t && unknown) *unknown = ref->name;
        return t;
    }
    const gql_type *inner = gql_type_from_ref(s, arena, ref->of_type, unknown);
    if (!inner) return NULL;
    gql_type *w = arena_zalloc(arena, sizeof *w);
    if (!w) return NULL;
    w->kind = ref->kind == GT_REF_LIST ? GQL_LIST : GQL_NON_NULL;
    w->of_type = inner;
    return w;
}

const gql_type *gql_named_type(const gql_type *t) {
    while (t && (t->kind == GQL_LIST || t->kind == GQL_NON_NULL)) t = t->of_type;
    return t;
}

int gql_is_input_type(const gql_type *t) {
    t = gql_named_type(t);
    return t && (t->kind == GQL_SCALAR || t->kind == GQL_INPUT_OBJECT);
}

int gql_is_composite(const gql_type *t) {
    t = gql_named_type(t);
    return t && (t->kind == GQL_OBJECT || t->kind == GQL_INTERFACE);
}

void gql_type_print(const gql_type *t, char *buf, size_t cap) {
    if (!t) {
        snprintf(buf, cap, "?");
        return;
    }
    char inner[128];
    switch (t->kind) {
    case GQL_LIST:
        gql_type_print(t->of_type, inner, sizeof inner);
        snprintf(buf, cap, "[%s]", inner);
        break;
    case GQL_NON_NULL:
        gql_type_print(t->of_type, inner, sizeof inner);
        snprintf(buf, cap, "%s!", inner);
        break;
    default:
        snprintf(buf, cap, "%s", t->name);
        break;
    }
}

int gql_type_subtype_of(const gql_type *sub, const gql_type *super) {
    if (sub == super) return 1;
    if (super->kind == GQL_NON_NULL) {
        if (sub->kind != GQL_NON_NULL) return 0;
        return gql_type_subtype_of(sub->of_type, super->of_type);
    }
    if (sub->kind == GQL_NON_NULL) return gql_type_subtype_of(sub->of_type, super);
    if (super->kind == GQL_LIST) {
        if (sub->kind != GQL_LIST) return 0;
        return gql_type_subtype_of(sub->of_type, super->of_type);
    }
    if (sub->kind == GQL_LIST) return 0;
    return sub == super;
}

static int implements(const gql_type *obj, const gql_type *iface) {
    for (int i = 0; i < obj->n_interfaces; i++)
        if (obj->interfaces[i] == iface) return 1;
    return 0;
}

int gql_types_overlap(const gql_type *a, const gql_type *b) {
    if (a == b) return 1;
    if (a->kind == GQL_OBJECT && b->kind == GQL_OBJECT) return 0;
    if (a->kind == GQL_OBJECT && b->kind == GQL_INTERFACE) return implements(a, b);
    if (a->kind == GQL_INTERFACE && b->kind == GQL_OBJECT) return implements(b, a);
    /* Two interfaces overlap when some object implements both; the schema is small enough to
     * answer conservatively. */
    return a->kind == GQL_INTERFACE && b->kind == GQL_INTERFACE;
}
