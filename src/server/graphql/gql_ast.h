/* The GraphQL executable document as the parser builds it: operations, fragments, selections,
 * arguments, values and type references, with the line/column of each node for error messages.
 * Every node lives in the document's arena and is freed with it. */
#ifndef SAM2_GRAPHQL_GQL_AST_H
#define SAM2_GRAPHQL_GQL_AST_H

#include "core/arena.h"

#include <stddef.h>

typedef struct gql_loc {
    int line, column; /* 1-based, as GraphQL error "locations" report them */
} gql_loc;

typedef enum gql_value_kind {
    GV_VARIABLE,
    GV_INT,
    GV_FLOAT,
    GV_STRING,
    GV_BOOLEAN,
    GV_NULL,
    GV_ENUM,
    GV_LIST,
    GV_OBJECT,
} gql_value_kind;

typedef struct gql_value gql_value;
struct gql_value {
    gql_value_kind kind;
    gql_loc loc;
    const char *text; /* variable name, number text, string contents, enum name */
    int boolean;
    int n_items; /* list items or object fields */
    gql_value **items;
    const char **keys; /* object field names (GV_OBJECT) */
    gql_loc *key_locs;
};

typedef enum gql_type_ref_kind { GT_REF_NAMED, GT_REF_LIST, GT_REF_NON_NULL } gql_type_ref_kind;
typedef struct gql_type_ref gql_type_ref;
struct gql_type_ref {
    gql_type_ref_kind kind;
    const char *name;      /* GT_REF_NAMED */
    gql_type_ref *of_type; /* list / non-null */
    gql_loc loc;
};

typedef struct gql_argument {
    const char *name;
    gql_value *value;
    gql_loc loc;
} gql_argument;

typedef struct gql_directive {
    const char *name;
    gql_argument *args;
    int n_args;
    gql_loc loc;
} gql_directive;

typedef struct gql_selection_set gql_selection_set;

typedef enum gql_selection_kind { SEL_FIELD, SEL_SPREAD, SEL_INLINE } gql_selection_kind;
typedef struct gql_selection {
    gql_selection_kind kind;
    gql_loc loc;
    const char *alias; /* field: may be NULL */
    const char *name;  /* field name or fragment name (spread) */
    gql_argument *args;
    int n_args;
    gql_directive *dirs;
    int n_dirs;
    const char *type_condition; /* inline fragment: may be NULL */
    gql_selection_set *set;     /* field (NULL for leaves) or inline fragment */
} gql_selection;

struct gql_selection_set {
    gql_selection *items;
    int n;
    gql_loc loc;
};

typedef struct gql_var_def {
    const char *name;
    gql_type_ref *type;
    gql_value *default_value; /* may be NULL */
    gql_directive *dirs;
    int n_dirs;
    gql_loc loc;
} gql_var_def;

typedef enum gql_op_kind { OP_QUERY, OP_MUTATION, OP_SUBSCRIPTION } gql_op_kind;
typedef struct gql_operation {
    gql_op_kind kind;
    const char *name; /* NULL: anonymous */
    gql_var_def *vars;
    int n_vars;
    gql_directive *dirs;
    int n_dirs;
    gql_selection_set *set;
    gql_loc loc;
} gql_operation;

typedef struct gql_fragment {
    const char *name;
    const char *type_condition;
    gql_directive *dirs;
    int n_dirs;
    gql_selection_set *set;
    gql_loc loc;
} gql_fragment;

typedef struct gql_document {
    arena nodes; /* every node of the document (grow-by-chunk mode, bounded) */
    gql_operation *ops;
    int n_ops;
    gql_fragment *frags;
    int n_frags;
} gql_document;

#endif
