/* GraphQL validation (spec section 5), the rules that can fail on this server's schema:
 * operations (lone anonymous, unique names, root type exists), fragments (unique, known,
 * used, acyclic, on composite types, possible spreads), fields (exist on the type, leaf and
 * composite selections, overlapping response keys), arguments (known, unique, required,
 * literal values of the right type), directives (@skip/@include only, where allowed, once)
 * and variables (unique, input types, defined, used, allowed in their positions). Messages
 * follow graphql-core's wording. */
#include "server/graphql/gql_validate.h"

#include "server/graphql/gql_errors.h"
#include "server/graphql/gql_values.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct var_usage {
    const char *name;
    gql_loc loc;
    const gql_type *expected;
    int location_has_default;
} var_usage;

/* What one definition (operation or fragment) uses: variables and fragment spreads. */
typedef struct defn_info {
    var_usage *uses;
    int n_uses, cap_uses;
    const char **spreads;
    int n_spreads, cap_spreads;
} defn_info;

typedef struct vctx {
    const gql_schema *s;
    gql_document *doc;
    gql_errors *errs;
    defn_info *info; /* [n_ops + n_frags]: operations first */
    defn_info *cur;
    int *frag_table; /* open addressing: fragment name -> first index */
    int frag_table_size;
    long work; /* selections expanded by the overlap check */
    int too_complex;
    int oom;
} vctx;

#define VALIDATION_WORK_LIMIT 2000000L

static void verr(vctx *c, const gql_loc *locs, int n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void verr(vctx *c, const gql_loc *locs, int n, const char *fmt, ...) {
    if (c->errs->count >= GQL_MAX_ERRORS) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gql_error_add(c->errs, msg, locs, n, NULL);
}

static void *grow_arr(void *arr, int n, int *cap, size_t elem) {
    if (n < *cap) return arr;
    int ncap = *cap ? *cap * 2 : 8;
    void *na = realloc(arr, (size_t)ncap * elem);
    if (na) *cap = ncap;
    return na;
}

static void add_usage(vctx *c, const gql_value *v, const gql_type *expected, int has_default) {
    defn_info *d = c->cur;
    var_usage *na = grow_arr(d->uses, d->n_uses, &d->cap_uses, sizeof *na);
    if (!na) {
        c->oom = 1;
        return;
    }
    d->uses = na;
    d->uses[d->n_uses++] = (var_usage){v->text, v->loc, expected, has_default};
}

static void add_spread(vctx *c, const char *name) {
    defn_info *d = c->cur;
    const char **na = grow_arr((void *)d->spreads, d->n_spreads, &d->cap_spreads, sizeof *na);
    if (!na) {
        c->oom = 1;
        return;
    }
    d->spreads = na;
    d->spreads[d->n_spreads++] = name;
}

static unsigned hash_str(const char *s) {
    unsigned h = 2166136261u;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static int build_fragment_table(vctx *c) {
    int size = 16;
    while (size < c->doc->n_frags * 2) size <<= 1;
    c->frag_table = malloc((size_t)size * sizeof *c->frag_table);
    if (!c->frag_table) return -1;
    c->frag_table_size = size;
    for (int i = 0; i < size; i++) c->frag_table[i] = -1;
    for (int i = 0; i < c->doc->n_frags; i++) {
        unsigned h = hash_str(c->doc->frags[i].name) & (unsigned)(size - 1);
        while (c->frag_table[h] >= 0 &&
               strcmp(c->doc->frags[c->frag_table[h]].name, c->doc->frags[i].name))
            h = (h + 1) & (unsigned)(size - 1);
        if (c->frag_table[h] < 0) c->frag_table[h] = i;
    }
    return 0;
}

static int fragment_index(const vctx *c, const char *name) {
    unsigned h = hash_str(name) & (unsigned)(c->frag_table_size - 1);
    while (c->frag_table[h] >= 0) {
        if (!strcmp(c->doc->frags[c->frag_table[h]].name, name)) return c->frag_table[h];
        h = (h + 1) & (unsigned)(c->frag_table_size - 1);
    }
    return -1;
}

static const gql_fragment *find_fragment(const vctx *c, const char *name) {
    int i = fragment_index(c, name);
    return i < 0 ? NULL : &c->doc->frags[i];
}

/* Records variable usages inside a literal, with the type expected at each position. */
static void walk_value(vctx *c, const gql_value *v, const gql_type *expected, int has_default) {
    if (!expected) return;
    if (v->kind == GV_VARIABLE) {
        add_usage(c, v, expected, has_default);
        return;
    }
    const gql_type *t = expected->kind == GQL_NON_NULL ? expected->of_type : expected;
    if (v->kind == GV_LIST && t->kind == GQL_LIST) {
        for (int i = 0; i < v->n_items; i++) walk_value(c, v->items[i], t->of_type, 0);
    } else if (t->kind == GQL_LIST) {
        walk_value(c, v, t->of_type, 0);
    } else if (v->kind == GV_OBJECT && t->kind == GQL_INPUT_OBJECT) {
        for (int i = 0; i < v->n_items; i++) {
            const gql_input_value *iv = gql_type_input(t, v->keys[i]);
            if (iv) walk_value(c, v->items[i], iv->type, iv->default_value != NULL);
        }
    }
}

/* Checks a literal against its type (variables are checked later, by position). */
static void check_literal(vctx *c, const gql_type *type, const gql_value *v) {
    char msg[400];
    cJSON *out = NULL;
    if (gql_coerce_literal(NULL, type, v, NULL, &out, msg, sizeof msg))
        verr(c, &v->loc, 1, "%s", msg);
    cJSON_Delete(out);
}

static const char *directive_location_name(int where) {
    switch (where) {
    case 0:
        return "QUERY";
    case 1:
        return "MUTATION";
    case 2:
        return "SUBSCRIPTION";
    case 3:
        return "FIELD";
    case 4:
        return "FRAGMENT_DEFINITION";
    case 5:
        return "FRAGMENT_SPREAD";
    case 6:
        return "INLINE_FRAGMENT";
    default:
        return "VARIABLE_DEFINITION";
    }
}

/* where: 0..2 operation kinds, 3 field, 4 fragment definition, 5 spread, 6 inline, 7 variable. */
static void check_directives(vctx *c, const gql_directive *dirs, int n, int where) {
    /* Boolean!, made in the document's arena: variable usages keep pointing at it. */
    gql_type *nn = n ? arena_zalloc(&c->doc->nodes, sizeof *nn) : NULL;
    const gql_type *boolean_nn = NULL;
    if (nn) {
        nn->kind = GQL_NON_NULL;
        nn->of_type = gql_schema_type(c->s, "Boolean");
        if (nn->of_type) boolean_nn = nn;
    }
    for (int i = 0; i < n; i++) {
        const gql_directive *d = &dirs[i];
        int known = !strcmp(d->name, "skip") || !strcmp(d->name, "include");
        if (!known) {
            verr(c, &d->loc, 1, "Unknown directive '@%s'.", d->name);
            continue;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(dirs[j].name, d->name)) {
                gql_loc l[2] = {dirs[j].loc, d->loc};
                verr(c, l, 2, "The directive '@%s' can only be used once at this location.",
                     d->name);
            }
        if (where != 3 && where != 5 && where != 6) {
            verr(c, &d->loc, 1, "Directive '@%s' may not be used on %s.", d->name,
                 directive_location_name(where));
            continue;
        }
        int has_if = 0;
        for (int a = 0; a < d->n_args; a++) {
            const gql_argument *arg = &d->args[a];
            if (strcmp(arg->name, "if")) {
                verr(c, &arg->loc, 1, "Unknown argument '%s' on directive '@%s'.", arg->name,
                     d->name);
                continue;
            }
            if (has_if) {
                verr(c, &arg->loc, 1, "There can be only one argument named 'if'.");
                continue;
            }
            has_if = 1;
            if (boolean_nn) {
                check_literal(c, boolean_nn, arg->value);
                walk_value(c, arg->value, boolean_nn, 0);
            }
        }
        if (!has_if)
            verr(c, &d->loc, 1,
                 "Directive '@%s' argument 'if' of type 'Boolean!' is required, but it was not "
                 "provided.",
                 d->name);
    }
}

static void check_arguments(vctx *c, const gql_type *parent, const gql_field_def *fd,
                            const gql_selection *sel) {
    char tn[160];
    for (int i = 0; i < sel->n_args; i++) {
        const gql_argument *a = &sel->args[i];
        for (int j = 0; j < i; j++)
            if (!strcmp(sel->args[j].name, a->name)) {
                gql_loc l[2] = {sel->args[j].loc, a->loc};
                verr(c, l, 2, "There can be only one argument named '%s'.", a->name);
            }
        const gql_input_value *def = NULL;
        for (int k = 0; fd && k < fd->n_args; k++)
            if (!strcmp(fd->args[k].name, a->name)) def = &fd->args[k];
        if (!def) {
            verr(c, &a->loc, 1, "Unknown argument '%s' on field '%s.%s'.", a->name, parent->name,
                 sel->name);
            continue;
        }
        check_literal(c, def->type, a->value);
        walk_value(c, a->value, def->type, def->default_value != NULL);
    }
    for (int k = 0; fd && k < fd->n_args; k++) {
        const gql_input_value *def = &fd->args[k];
        if (def->type->kind != GQL_NON_NULL || def->default_value) continue;
        int given = 0;
        for (int i = 0; i < sel->n_args; i++)
            if (!strcmp(sel->args[i].name, def->name)) given = 1;
        if (!given) {
            gql_type_print(def->type, tn, sizeof tn);
            verr(c, &sel->loc, 1,
                 "Field '%s' argument '%s' of type '%s' is required, but it was not provided.",
                 sel->name, def->name, tn);
        }
    }
}

/* ---- overlapping fields: same response key must mean the same field with the same args ---- */
typedef struct field_ref {
    const char *key;
    const gql_selection *sel;
} field_ref;

typedef struct field_list {
    field_ref *items;
    int n, cap;
} field_list;

static void collect_for_overlap(vctx *c, const gql_selection_set *set, field_list *out,
                                unsigned char *visited) {
    for (int i = 0; i < set->n; i++) {
        const gql_selection *s = &set->items[i];
        if (++c->work > VALIDATION_WORK_LIMIT) {
            c->too_complex = 1;
            return;
        }
        if (s->kind == SEL_FIELD) {
            field_ref *na = grow_arr(out->items, out->n, &out->cap, sizeof *na);
            if (!na) {
                c->oom = 1;
                return;
            }
            out->items = na;
            out->items[out->n++] = (field_ref){s->alias ? s->alias : s->name, s};
        } else if (s->kind == SEL_INLINE) {
            collect_for_overlap(c, s->set, out, visited);
        } else {
            int fi = fragment_index(c, s->name);
            if (fi < 0 || visited[fi]) continue;
            visited[fi] = 1;
            collect_for_overlap(c, c->doc->frags[fi].set, out, visited);
        }
    }
}

static int same_arguments(const gql_selection *a, const gql_selection *b) {
    if (a->n_args != b->n_args) return 0;
    int same = 1;
    gql_buf sa, sb2;
    gb_init(&sa);
    gb_init(&sb2);
    for (int i = 0; i < a->n_args && same; i++) {
        const gql_argument *match = NULL;
        for (int j = 0; j < b->n_args; j++)
            if (!strcmp(a->args[i].name, b->args[j].name)) match = &b->args[j];
        if (!match) {
            same = 0;
            break;
        }
        gb_reset(&sa);
        gb_reset(&sb2);
        gql_print_value(&sa, a->args[i].value);
        gql_print_value(&sb2, match->value);
        if (sa.failed || sb2.failed || !sa.data || !sb2.data || strcmp(sa.data, sb2.data)) same = 0;
    }
    gb_free(&sa);
    gb_free(&sb2);
    return same;
}

static void check_overlaps(vctx *c, const gql_selection_set *set) {
    field_list fl = {0};
    unsigned char *visited = calloc((size_t)c->doc->n_frags + 1, 1);
    if (!visited) {
        c->oom = 1;
        return;
    }
    collect_for_overlap(c, set, &fl, visited);
    free(visited);
    if (fl.n > 1 && !c->too_complex) {
        /* First occurrence of each key through an open-addressing table. */
        int size = 1;
        while (size < fl.n * 2) size <<= 1;
        int *table = malloc((size_t)size * sizeof *table);
        if (!table) {
            c->oom = 1;
            free(fl.items);
            return;
        }
        for (int i = 0; i < size; i++) table[i] = -1;
        for (int i = 0; i < fl.n; i++) {
            unsigned h = hash_str(fl.items[i].key) & (unsigned)(size - 1);
            while (table[h] >= 0 && strcmp(fl.items[table[h]].key, fl.items[i].key))
                h = (h + 1) & (unsigned)(size - 1);
            if (table[h] < 0) {
                table[h] = i;
                continue;
            }
            const gql_selection *a = fl.items[table[h]].sel, *b = fl.items[i].sel;
            gql_loc l[2] = {a->loc, b->loc};
            if (strcmp(a->name, b->name))
                verr(c, l, 2,
                     "Fields '%s' conflict because '%s' and '%s' are different fields. Use "
                     "different aliases on "
                     "the fields to fetch both if this was intentional.",
                     fl.items[i].key, a->name, b->name);
            else if (!same_arguments(a, b))
                verr(c, l, 2,
                     "Fields '%s' conflict because they have differing arguments. Use different "
                     "aliases on the "
                     "fields to fetch both if this was intentional.",
                     fl.items[i].key);
        }
        free(table);
    }
    free(fl.items);
}

static void visit_set(vctx *c, const gql_type *parent, const gql_selection_set *set);

static void visit_field(vctx *c, const gql_type *parent, const gql_selection *sel) {
    char tn[160];
    check_directives(c, sel->dirs, sel->n_dirs, 3);
    if (!parent) return;
    if (!strcmp(sel->name, "__typename")) {
        for (int i = 0; i < sel->n_args; i++)
            verr(c, &sel->args[i].loc, 1, "Unknown argument '%s' on field '%s.__typename'.",
                 sel->args[i].name, parent->name);
        if (sel->set)
            verr(c, &sel->loc, 1,
                 "Field '__typename' must not have a selection since type 'String!' has no "
                 "subfields.");
        return;
    }
    const gql_field_def *fd = gql_type_field(parent, sel->name);
    if (!fd) {
        verr(c, &sel->loc, 1, "Cannot query field '%s' on type '%s'.", sel->name, parent->name);
        /* Arguments and sub-selections of an unknown field cannot be checked. */
        return;
    }
    check_arguments(c, parent, fd, sel);
    const gql_type *named = gql_named_type(fd->type);
    gql_type_print(fd->type, tn, sizeof tn);
    if (named->kind == GQL_SCALAR) {
        if (sel->set)
            verr(c, &sel->loc, 1,
                 "Field '%s' must not have a selection since type '%s' has no subfields.",
                 sel->name, tn);
        return;
    }
    if (!sel->set) {
        verr(c, &sel->loc, 1,
             "Field '%s' of type '%s' must have a selection of subfields. Did you mean '%s { ... "
             "}'?",
             sel->name, tn, sel->name);
        return;
    }
    visit_set(c, named, sel->set);
}

static const gql_type *condition_type(vctx *c, const char *name, gql_loc loc,
                                      const char *frag_name) {
    const gql_type *t = gql_schema_type(c->s, name);
    if (!t) {
        verr(c, &loc, 1, "Unknown type '%s'.", name);
        return NULL;
    }
    if (!gql_is_composite(t)) {
        if (frag_name)
            verr(c, &loc, 1, "Fragment '%s' cannot condition on non composite type '%s'.",
                 frag_name, name);
        else
            verr(c, &loc, 1, "Fragment cannot condition on non composite type '%s'.", name);
        return NULL;
    }
    return t;
}

static void visit_set(vctx *c, const gql_type *parent, const gql_selection_set *set) {
    for (int i = 0; i < set->n && !c->oom && !c->too_complex; i++) {
        const gql_selection *s = &set->items[i];
        if (s->kind == SEL_FIELD) {
            visit_field(c, parent, s);
        } else if (s->kind == SEL_SPREAD) {
            check_directives(c, s->dirs, s->n_dirs, 5);
            add_spread(c, s->name);
            const gql_fragment *f = find_fragment(c, s->name);
            if (!f) {
                verr(c, &s->loc, 1, "Unknown fragment '%s'.", s->name);
                continue;
            }
            const gql_type *ft = gql_schema_type(c->s, f->type_condition);
            if (parent && ft && gql_is_composite(ft) && !gql_types_overlap(ft, parent))
                verr(c, &s->loc, 1,
                     "Fragment '%s' cannot be spread here as objects of type '%s' can never be of "
                     "type '%s'.",
                     s->name, parent->name, ft->name);
        } else {
            check_directives(c, s->dirs, s->n_dirs, 6);
            const gql_type *t = parent;
            if (s->type_condition) {
                t = condition_type(c, s->type_condition, s->loc, NULL);
                if (t && parent && !gql_types_overlap(t, parent))
                    verr(c, &s->loc, 1,
                         "Fragment cannot be spread here as objects of type '%s' can never be of "
                         "type '%s'.",
                         parent->name, t->name);
            }
            visit_set(c, t, s->set);
        }
    }
    if (parent && !c->too_complex) check_overlaps(c, set);
}

/* ---- fragment cycles: iterative depth-first search over the spread graph ---- */
static void check_cycles(vctx *c) {
    int nf = c->doc->n_frags;
    if (nf == 0) return;
    unsigned char *state = calloc((size_t)nf, 1); /* 0 new, 1 on stack, 2 done */
    int *stack = malloc((size_t)nf * sizeof *stack);
    int *edge = malloc((size_t)nf * sizeof *edge);
    if (!state || !stack || !edge) {
        c->oom = 1;
        goto out;
    }
    for (int root = 0; root < nf; root++) {
        if (state[root]) continue;
        int sp = 0;
        stack[sp] = root;
        edge[sp] = 0;
        state[root] = 1;
        sp++;
        while (sp > 0) {
            int f = stack[sp - 1];
            defn_info *d = &c->info[c->doc->n_ops + f];
            if (edge[sp - 1] >= d->n_spreads) {
                state[f] = 2;
                sp--;
                continue;
            }
            int to = fragment_index(c, d->spreads[edge[sp - 1]++]);
            if (to < 0) continue;
            if (state[to] == 1) {
                verr(c, &c->doc->frags[to].loc, 1, "Cannot spread fragment '%s' within itself.",
                     c->doc->frags[to].name);
            } else if (state[to] == 0) {
                state[to] = 1;
                stack[sp] = to;
                edge[sp] = 0;
                sp++;
            }
        }
    }
out:
    free(state);
    free(stack);
    free(edge);
}

/* Marks every fragment reachable from definition `d` (operations: index < n_ops). */
static void reach(vctx *c, int d, unsigned char *seen_frag) {
    int nf = c->doc->n_frags;
    int *queue = malloc(((size_t)nf + 1) * sizeof *queue);
    if (!queue) {
        c->oom = 1;
        return;
    }
    int head = 0, tail = 0;
    queue[tail++] = d;
    while (head < tail) {
        defn_info *di = &c->info[queue[head++]];
        for (int i = 0; i < di->n_spreads; i++) {
            int fi = fragment_index(c, di->spreads[i]);
            if (fi < 0 || seen_frag[fi]) continue;
            seen_frag[fi] = 1;
            queue[tail++] = c->doc->n_ops + fi;
        }
    }
    free(queue);
}

static const gql_var_def *find_var(const gql_operation *op, const char *name) {
    for (int i = 0; i < op->n_vars; i++)
        if (!strcmp(op->vars[i].name, name)) return &op->vars[i];
    return NULL;
}

static void check_operation_variables(vctx *c, int oi) {
    const gql_operation *op = &c->doc->ops[oi];
    char tn[160], en[160];
    const gql_type **vtypes = calloc((size_t)op->n_vars + 1, sizeof *vtypes);
    unsigned char *used = calloc((size_t)op->n_vars + 1, 1);
    unsigned char *seen = calloc((size_t)c->doc->n_frags + 1, 1);
    if (!vtypes || !used || !seen) {
        c->oom = 1;
        goto out;
    }
    for (int i = 0; i < op->n_vars; i++) {
        const gql_var_def *v = &op->vars[i];
        for (int j = 0; j < i; j++)
            if (!strcmp(op->vars[j].name, v->name)) {
                gql_loc l[2] = {op->vars[j].loc, v->loc};
                verr(c, l, 2, "There can be only one variable named '$%s'.", v->name);
            }
        check_directives(c, v->dirs, v->n_dirs, 7);
        const char *unknown = NULL;
        const gql_type *t = gql_type_from_ref(c->s, &c->doc->nodes, v->type, &unknown);
        if (!t) {
            if (unknown)
                verr(c, &v->type->loc, 1, "Unknown type '%s'.", unknown);
            else
                c->oom = 1;
            continue;
        }
        if (!gql_is_input_type(t)) {
            gql_type_print(t, tn, sizeof tn);
            verr(c, &v->type->loc, 1, "Variable '$%s' cannot be non-input type '%s'.", v->name, tn);
            continue;
        }
        vtypes[i] = t;
        if (v->default_value) check_literal(c, t, v->default_value);
    }
    /* Usages: the operation's own and those of every fragment it reaches. */
    reach(c, oi, seen);
    for (int d = 0; d < c->doc->n_ops + c->doc->n_frags && !c->oom; d++) {
        if (d != oi && (d < c->doc->n_ops || !seen[d - c->doc->n_ops])) continue;
        defn_info *di = &c->info[d];
        for (int u = 0; u < di->n_uses; u++) {
            const var_usage *us = &di->uses[u];
            const gql_var_def *vd = find_var(op, us->name);
            if (!vd) {
                gql_loc l[2] = {us->loc, op->loc};
                if (op->name)
                    verr(c, l, 2, "Variable '$%s' is not defined by operation '%s'.", us->name,
                         op->name);
                else
                    verr(c, l, 2, "Variable '$%s' is not defined.", us->name);
                continue;
            }
            int vi = (int)(vd - op->vars);
            used[vi] = 1;
            const gql_type *vt = vtypes[vi];
            if (!vt || !us->expected) continue;
            const gql_type *expected = us->expected;
            int ok;
            if (expected->kind == GQL_NON_NULL && vt->kind != GQL_NON_NULL) {
                int has_default = vd->default_value && vd->default_value->kind != GV_NULL;
                ok = (has_default || us->location_has_default) &&
                     gql_type_subtype_of(vt, expected->of_type);
            } else {
                ok = gql_type_subtype_of(vt, expected);
            }
            if (!ok) {
                gql_type_print(vt, tn, sizeof tn);
                gql_type_print(expected, en, sizeof en);
                gql_loc l[2] = {vd->loc, us->loc};
                verr(c, l, 2, "Variable '$%s' of type '%s' used in position expecting type '%s'.",
                     us->name, tn, en);
            }
        }
    }
    for (int i = 0; i < op->n_vars; i++) {
        if (used[i]) continue;
        if (op->name)
            verr(c, &op->vars[i].loc, 1, "Variable '$%s' is never used in operation '%s'.",
                 op->vars[i].name, op->name);
        else
            verr(c, &op->vars[i].loc, 1, "Variable '$%s' is never used.", op->vars[i].name);
    }
out:
    free(vtypes);
    free(used);
    free(seen);
}

int gql_validate(const gql_schema *s, gql_document *doc, gql_errors *errors) {
    int before = errors->count;
    vctx c = {0};
    c.s = s;
    c.doc = doc;
    c.errs = errors;
    if (doc->n_frags > GQL_MAX_FRAGMENTS || doc->n_ops > GQL_MAX_OPERATIONS) {
        verr(&c, NULL, 0, "The document defines more than %d fragments or %d operations.",
             GQL_MAX_FRAGMENTS, GQL_MAX_OPERATIONS);
        return errors->count - before;
    }
    c.info = calloc((size_t)(doc->n_ops + doc->n_frags) + 1, sizeof *c.info);
    if (!c.info || build_fragment_table(&c)) {
        free(c.info);
        verr(&c, NULL, 0, "Out of memory while validating the document.");
        return errors->count - before;
    }
    /* Operations. */
    for (int i = 0; i < doc->n_ops; i++) {
        const gql_operation *op = &doc->ops[i];
        if (!op->name && doc->n_ops > 1)
            verr(&c, &op->loc, 1, "This anonymous operation must be the only defined operation.");
        for (int j = 0; op->name && j < i; j++)
            if (doc->ops[j].name && !strcmp(doc->ops[j].name, op->name)) {
                gql_loc l[2] = {doc->ops[j].loc, op->loc};
                verr(&c, l, 2, "There can be only one operation named '%s'.", op->name);
            }
        const gql_type *root = op->kind == OP_QUERY      ? gql_schema_query(s)
                               : op->kind == OP_MUTATION ? gql_schema_mutation(s)
                                                         : NULL;
        if (!root)
            verr(&c, &op->loc, 1, "Schema is not configured for %s.",
                 op->kind == OP_MUTATION ? "mutations" : "subscriptions");
        c.cur = &c.info[i];
        check_directives(&c, op->dirs, op->n_dirs, (int)op->kind);
        visit_set(&c, root, op->set);
    }
    /* Fragments. */
    for (int i = 0; i < doc->n_frags; i++) {
        const gql_fragment *f = &doc->frags[i];
        for (int j = 0; j < i; j++)
            if (!strcmp(doc->frags[j].name, f->name)) {
                gql_loc l[2] = {doc->frags[j].loc, f->loc};
                verr(&c, l, 2, "There can be only one fragment named '%s'.", f->name);
            }
        c.cur = &c.info[doc->n_ops + i];
        check_directives(&c, f->dirs, f->n_dirs, 4);
        const gql_type *t = condition_type(&c, f->type_condition, f->loc, f->name);
        visit_set(&c, t, f->set);
    }
    if (c.too_complex) {
        verr(&c, NULL, 0,
             "The document is too complex to validate (fragments expand to too many selections).");
        goto done;
    }
    check_cycles(&c);
    /* Unused fragments: not reachable from any operation. */
    unsigned char *seen = calloc((size_t)doc->n_frags + 1, 1);
    if (seen) {
        for (int i = 0; i < doc->n_ops; i++) reach(&c, i, seen);
        for (int i = 0; i < doc->n_frags; i++)
            if (!seen[i])
                verr(&c, &doc->frags[i].loc, 1, "Fragment '%s' is never used.", doc->frags[i].name);
        free(seen);
    } else {
        c.oom = 1;
    }
    for (int i = 0; i < doc->n_ops && !c.oom; i++) check_operation_variables(&c, i);
done:
    if (c.oom) verr(&c, NULL, 0, "Out of memory while validating the document.");
    free(c.frag_table);
    for (int i = 0; i < doc->n_ops + doc->n_frags; i++) {
        free(c.info[i].uses);
        free((void *)c.info[i].spreads);
    }
    free(c.info);
    return errors->count - before;
}
