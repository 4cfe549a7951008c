/* A GraphQL schema: scalars, object types, interfaces and input objects, each field with its
 * argument definitions and resolver. It is declared as SDL text plus a table of resolvers
 * (gql_schema_from_sdl), or built in code with the builders below; field and argument types are
 * GraphQL type strings ("[RLEMaskForObject!]!") resolved by gql_schema_finish(). A finished
 * schema is immutable and shared by every request thread. */
#ifndef SAM2_GRAPHQL_GQL_SCHEMA_H
#define SAM2_GRAPHQL_GQL_SCHEMA_H

#include "server/graphql/gql_ast.h"

#include <cjson/cJSON.h>
#include <stddef.h>

typedef enum gql_kind {
    GQL_SCALAR,
    GQL_OBJECT,
    GQL_INTERFACE,
    GQL_INPUT_OBJECT,
    GQL_LIST,
    GQL_NON_NULL,
} gql_kind;

typedef enum gql_scalar_id {
    GQL_INT,
    GQL_FLOAT,
    GQL_STRING,
    GQL_BOOLEAN,
    GQL_ID,
    GQL_GLOBAL_ID,
    GQL_UPLOAD, /* GraphQL multipart request spec: only ever supplied through a variable */
} gql_scalar_id;

typedef struct gql_type gql_type;

/* Why a schema could not be built, or why a resolver failed (the GraphQL error's message). */
typedef struct gql_err {
    char message[512];
} gql_err;

/* Writes the message; returns -1 so that failures read `return gql_fail(err, ...)`. */
int gql_fail(gql_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What a resolver sees: the application context, the parent value, the coerced arguments. */
typedef struct gql_resolve_info {
    void *app;
    const char *field_name;
    const cJSON *source;
    const cJSON *args;         /* object: argument name -> coerced value (defaults applied) */
    const void *resolver_data; /* the `data` of the field's resolver table entry */
} gql_resolve_info;

/* Returns the field's value (ownership passes to the executor; cJSON null for null), or NULL
 * with `err` set: the message becomes the GraphQL error's message. */
typedef cJSON *(*gql_resolver)(const gql_resolve_info *info, gql_err *err);

/* One row of a resolver table: the field ("Type.field"), its function and data for it. */
typedef struct gql_resolver_entry {
    const char *field;
    gql_resolver fn;
    const void *data;
} gql_resolver_entry;

typedef struct gql_input_value {
    const char *name;
    const char *type_str;
    const gql_type *type;
    cJSON *default_value; /* NULL: no default; parsed from JSON text */
} gql_input_value;

typedef struct gql_field_def {
    const char *name;
    const char *type_str;
    const gql_type *type;
    gql_input_value *args;
    int n_args, cap_args;
    gql_resolver resolve; /* NULL: read source[name] */
    const void *resolver_data;
} gql_field_def;

struct gql_type {
    gql_kind kind;
    const char *name;        /* named types */
    const gql_type *of_type; /* list / non-null */
    gql_scalar_id scalar;    /* scalars */
    gql_field_def **fields;  /* objects and interfaces (stable pointers) */
    int n_fields, cap_fields;
    gql_input_value *inputs; /* input objects */
    int n_inputs, cap_inputs;
    const gql_type *interfaces[4];
    int n_interfaces;
};

typedef struct gql_schema gql_schema;

gql_schema *gql_schema_new(void);
void gql_schema_free(gql_schema *s);

/* Builders; names are copied. They return NULL / -1 only when memory runs out. */
gql_type *gql_schema_add_scalar(gql_schema *s, const char *name, gql_scalar_id id);
gql_type *gql_schema_add_object(gql_schema *s, const char *name);
gql_type *gql_schema_add_interface(gql_schema *s, const char *name);
gql_type *gql_schema_add_input(gql_schema *s, const char *name);
int gql_type_implements(gql_type *object, const gql_type *iface);
gql_field_def *gql_type_add_field(gql_schema *s, gql_type *t, const char *name,
                                  const char *type_str, gql_resolver resolve);
/* default_json: the default as JSON text ("null", "0", "\"F\""), or NULL for none. */
int gql_field_add_arg(gql_schema *s, gql_field_def *f, const char *name, const char *type_str,
                      const char *default_json);
int gql_input_add_field(gql_schema *s, gql_type *t, const char *name, const char *type_str,
                        const char *default_json);
void gql_schema_set_roots(gql_schema *s, const gql_type *query, const gql_type *mutation);
/* Resolves every type string; fails naming the first unknown type. */
int gql_schema_finish(gql_schema *s, gql_err *err);

/* Builds and finishes a schema from SDL: `scalar`, `interface`, `type` (with `implements`),
 * `input`, fields with arguments and default values, lists and non-null; `schema { query:
 * mutation: }` or the types named Query and Mutation are the roots. Scalars are the built-in
 * ones plus GlobalID and Upload. Each resolver entry must name a field of the SDL; fields
 * without one read source[name]. NULL with `err` naming the first problem. */
gql_schema *gql_schema_from_sdl(const char *sdl, const gql_resolver_entry *resolvers,
                                int n_resolvers, gql_err *err);

const gql_type *gql_schema_query(const gql_schema *s);
const gql_type *gql_schema_mutation(const gql_schema *s);
const gql_type *gql_schema_type(const gql_schema *s, const char *name);
const gql_field_def *gql_type_field(const gql_type *t, const char *name);
const gql_input_value *gql_type_input(const gql_type *t, const char *name);

/* Builds the type a document's type reference denotes (wrappers from `arena`); NULL with the
 * unknown name in *unknown when a named type does not exist. */
const gql_type *gql_type_from_ref(const gql_schema *s, arena *arena, const gql_type_ref *ref,
                                  const char **unknown);

/* Helpers. */
const gql_type *gql_named_type(const gql_type *t); /* strips list / non-null */
int gql_is_input_type(const gql_type *t);
int gql_is_composite(const gql_type *t); /* object or interface */
/* Prints the type as GraphQL writes it: "[Int!]!". */
void gql_type_print(const gql_type *t, char *buf, size_t cap);
/* Whether a value of type `sub` may be used where `super` is expected (variables in position). */
int gql_type_subtype_of(const gql_type *sub, const gql_type *super);
/* Whether an object of type `a` may also be of type `b` (fragment spreads). */
int gql_types_overlap(const gql_type *a, const gql_type *b);

#endif
