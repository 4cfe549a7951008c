#include "server/graphql/gql_parser.h"

#include "server/graphql/gql_lexer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Small chunks: most documents are a few hundred bytes of nodes. */
#define GQL_CHUNK_BYTES 16384

typedef struct parser {
    gql_lexer lx;
    gql_document *doc;
    gql_parse_error *error;
    int depth, max_depth;
    int tokens, max_tokens;
    int failed;
} parser;

static int fail_at(parser *p, gql_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(parser *p, gql_loc loc, const char *fmt, ...) {
    if (p->failed) return -1;
    p->failed = 1;
    va_list ap;
    va_start(ap, fmt);
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(p->error->message, sizeof p->error->message, "Syntax Error: %s", msg);
    p->error->loc = loc;
    return -1;
}

static int oom(parser *p) {
    return fail_at(p, p->lx.tok.loc, "Document is too large.");
}

static int advance(parser *p) {
    if (p->failed) return -1;
    if (++p->tokens > p->max_tokens)
        return fail_at(p, p->lx.tok.loc, "Document contains more than %d tokens.", p->max_tokens);
    if (gql_lexer_next(&p->lx)) {
        p->failed = 1;
        snprintf(p->error->message, sizeof p->error->message, "%s", p->lx.error);
        p->error->loc = p->lx.error_loc;
        return -1;
    }
    return 0;
}

static const gql_token *peek(parser *p) {
    return &p->lx.tok;
}
static int at(parser *p, gql_token_kind k) {
    return !p->failed && p->lx.tok.kind == k;
}
static int at_keyword(parser *p, const char *kw) {
    return at(p, TK_NAME) && !strcmp(p->lx.tok.value, kw);
}

static int unexpected(parser *p) {
    char d[100];
    gql_token_describe(peek(p), d, sizeof d);
    return fail_at(p, peek(p)->loc, "Unexpected %s.", d);
}

static const char *kind_name(gql_token_kind k) {
    switch (k) {
    case TK_EOF:
        return "<EOF>";
    case TK_BANG:
        return "'!'";
    case TK_DOLLAR:
        return "'$'";
    case TK_PAREN_L:
        return "'('";
    case TK_PAREN_R:
        return "')'";
    case TK_SPREAD:
        return "'...'";
    case TK_COLON:
        return "':'";
    case TK_EQUALS:
        return "'='";
    case TK_AT:
        return "'@'";
    case TK_BRACKET_L:
        return "'['";
    case TK_BRACKET_R:
        return "']'";
    case TK_BRACE_L:
        return "'{'";
    case TK_BRACE_R:
        return "'}'";
    case TK_NAME:
        return "Name";
    default:
        return "token";
    }
}

static int expect(parser *p, gql_token_kind k) {
    if (p->failed) return -1;
    if (p->lx.tok.kind != k) {
        char d[100];
        gql_token_describe(peek(p), d, sizeof d);
        return fail_at(p, peek(p)->loc, "Expected %s, found %s.", kind_name(k), d);
    }
    return advance(p);
}

/* Consumes a Name token and returns its text (arena), or NULL. */
static const char *expect_name(parser *p) {
    if (p->failed) return NULL;
    if (p->lx.tok.kind != TK_NAME) {
        expect(p, TK_NAME);
        return NULL;
    }
    const char *v = p->lx.tok.value;
    return advance(p) ? NULL : v;
}

static int enter(parser *p) {
    if (++p->depth > p->max_depth)
        return fail_at(p, peek(p)->loc, "Document is nested too deeply (more than %d levels).",
                       p->max_depth);
    return 0;
}
static void leave(parser *p) {
    p->depth--;
}

/* Growable arrays inside the arena (old blocks are abandoned: at most 2x waste). */
static void *grow(parser *p, void *arr, int n, int *cap, size_t elem) {
    if (n < *cap) return arr;
    int ncap = *cap ? *cap * 2 : 4;
    void *na = arena_zalloc(&p->doc->nodes, (size_t)ncap * elem);
    if (!na) {
        oom(p);
        return NULL;
    }
    if (n) memcpy(na, arr, (size_t)n * elem);
    *cap = ncap;
    return na;
}

static gql_value *parse_value(parser *p, int is_const);

static gql_value *new_value(parser *p, gql_value_kind kind, gql_loc loc) {
    gql_value *v = arena_zalloc(&p->doc->nodes, sizeof *v);
    if (!v) {
        oom(p);
        return NULL;
    }
    v->kind = kind;
    v->loc = loc;
    return v;
}

static gql_value *parse_list_value(parser *p, int is_const) {
    gql_value *v = new_value(p, GV_LIST, peek(p)->loc);
    if (!v || advance(p)) return NULL; /* [ */
    int cap = 0;
    while (!at(p, TK_BRACKET_R)) {
        if (p->failed) return NULL;
        if (at(p, TK_EOF)) {
            unexpected(p);
            return NULL;
        }
        gql_value *item = parse_value(p, is_const);
        if (!item) return NULL;
        v->items = grow(p, v->items, v->n_items, &cap, sizeof *v->items);
        if (!v->items) return NULL;
        v->items[v->n_items++] = item;
    }
    return advance(p) ? NULL : v;
}

static gql_value *parse_object_value(parser *p, int is_const) {
    gql_value *v = new_value(p, GV_OBJECT, peek(p)->loc);
    if (!v || advance(p)) return NULL; /* { */
    int cap = 0, kcap = 0, lcap = 0;
    while (!at(p, TK_BRACE_R)) {
        if (p->failed) return NULL;
        gql_loc kl = peek(p)->loc;
        const char *key = expect_name(p);
        if (!key || expect(p, TK_COLON)) return NULL;
        gql_value *item = parse_value(p, is_const);
        if (!item) return NULL;
        v->items = grow(p, v->items, v->n_items, &cap, sizeof *v->items);
        v->keys = grow(p, (void *)v->keys, v->n_items, &kcap, sizeof *v->keys);
        v->key_locs = grow(p, v->key_locs, v->n_items, &lcap, sizeof *v->key_locs);
        if (!v->items || !v->keys || !v->key_locs) return NULL;
        v->keys[v->n_items] = key;
        v->key_locs[v->n_items] = kl;
        v->items[v->n_items++] = item;
    }
    return advance(p) ? NULL : v;
}

static gql_value *parse_value(parser *p, int is_const) {
    if (enter(p)) return NULL;
    const gql_token *t = peek(p);
    gql_value *v = NULL;
    switch (t->kind) {
    case TK_BRACKET_L:
        v = parse_list_value(p, is_const);
        break;
    case TK_BRACE_L:
        v = parse_object_value(p, is_const);
        break;
    case TK_INT:
    case TK_FLOAT:
    case TK_STRING:
    case TK_BLOCK_STRING:
        v = new_value(p,
                      t->kind == TK_INT     ? GV_INT
                      : t->kind == TK_FLOAT ? GV_FLOAT
                                            : GV_STRING,
                      t->loc);
        if (v) {
            v->text = t->value;
            if (advance(p)) v = NULL;
        }
        break;
    case TK_NAME:
        if (!strcmp(t->value, "true") || !strcmp(t->value, "false")) {
            v = new_value(p, GV_BOOLEAN, t->loc);
            if (v) v->boolean = t->value[0] == 't';
        } else if (!strcmp(t->value, "null")) {
            v = new_value(p, GV_NULL, t->loc);
        } else {
            v = new_value(p, GV_ENUM, t->loc);
            if (v) v->text = t->value;
        }
        if (v && advance(p)) v = NULL;
        break;
    case TK_DOLLAR:
        if (is_const) {
            char d[100];
            gql_loc l = t->loc;
            if (advance(p)) break;
            snprintf(d, sizeof d, "%s", at(p, TK_NAME) ? p->lx.tok.value : "");
            fail_at(p, l, "Unexpected variable '$%s' in constant value.", d);
            break;
        }
        v = new_value(p, GV_VARIABLE, t->loc);
        if (v && !advance(p)) {
            v->text = expect_name(p);
            if (!v->text) v = NULL;
        } else {
            v = NULL;
        }
        break;
    default:
        unexpected(p);
        break;
    }
    leave(p);
    return p->failed ? NULL : v;
}

static int parse_arguments(parser *p, gql_argument **out, int *n_out, int is_const) {
    *out = NULL;
    *n_out = 0;
    if (!at(p, TK_PAREN_L)) return 0;
    if (advance(p)) return -1;
    int cap = 0;
    do {
        gql_argument a = {0};
        a.loc = peek(p)->loc;
        a.name = expect_name(p);
        if (!a.name || expect(p, TK_COLON)) return -1;
        a.value = parse_value(p, is_const);
        if (!a.value) return -1;
        *out = grow(p, *out, *n_out, &cap, sizeof **out);
        if (!*out) return -1;
        (*out)[(*n_out)++] = a;
    } while (!at(p, TK_PAREN_R) && !p->failed);
    return expect(p, TK_PAREN_R);
}

static int parse_directives(parser *p, gql_directive **out, int *n_out, int is_const) {
    *out = NULL;
    *n_out = 0;
    int cap = 0;
    while (at(p, TK_AT)) {
        gql_directive d = {0};
        d.loc = peek(p)->loc;
        if (advance(p)) return -1;
        d.name = expect_name(p);
        if (!d.name || parse_arguments(p, &d.args, &d.n_args, is_const)) return -1;
        *out = grow(p, *out, *n_out, &cap, sizeof **out);
        if (!*out) return -1;
        (*out)[(*n_out)++] = d;
    }
    return p->failed ? -1 : 0;
}

static gql_selection_set *parse_selection_set(parser *p);

static int parse_selection(parser *p, gql_selection *s) {
    memset(s, 0, sizeof *s);
    s->loc = peek(p)->loc;
    if (at(p, TK_SPREAD)) {
        if (advance(p)) return -1;
        if (at(p, TK_NAME) && strcmp(p->lx.tok.value, "on")) {
            s->kind = SEL_SPREAD;
            s->name = expect_name(p);
            if (!s->name) return -1;
            return parse_directives(p, &s->dirs, &s->n_dirs, 0);
        }
        s->kind = SEL_INLINE;
        if (at_keyword(p, "on")) {
            if (advance(p)) return -1;
            s->type_condition = expect_name(p);
            if (!s->type_condition) return -1;
        }
        if (parse_directives(p, &s->dirs, &s->n_dirs, 0)) return -1;
        s->set = parse_selection_set(p);
        return s->set ? 0 : -1;
    }
    s->kind = SEL_FIELD;
    const char *first = expect_name(p);
    if (!first) return -1;
    if (at(p, TK_COLON)) {
        if (advance(p)) return -1;
        s->alias = first;
        s->name = expect_name(p);
        if (!s->name) return -1;
    } else {
        s->name = first;
    }
    if (parse_arguments(p, &s->args, &s->n_args, 0)) return -1;
    if (parse_directives(p, &s->dirs, &s->n_dirs, 0)) return -1;
    if (at(p, TK_BRACE_L)) {
        s->set = parse_selection_set(p);
        if (!s->set) return -1;
    }
    return 0;
}

static gql_selection_set *parse_selection_set(parser *p) {
    if (enter(p)) return NULL;
    gql_selection_set *set = arena_zalloc(&p->doc->nodes, sizeof *set);
    if (!set) {
        oom(p);
        return NULL;
    }
    set->loc = peek(p)->loc;
    if (expect(p, TK_BRACE_L)) return NULL;
    int cap = 0;
    do {
        if (at(p, TK_EOF) || (!at(p, TK_NAME) && !at(p, TK_SPREAD))) {
            if (!p->failed) {
                char d[100];
                gql_token_describe(peek(p), d, sizeof d);
                fail_at(p, peek(p)->loc, "Expected Name, found %s.", d);
            }
            return NULL;
        }
        set->items = grow(p, set->items, set->n, &cap, sizeof *set->items);
        if (!set->items || parse_selection(p, &set->items[set->n])) return NULL;
        set->n++;
    } while (!at(p, TK_BRACE_R) && !p->failed);
    if (expect(p, TK_BRACE_R)) return NULL;
    leave(p);
    return set;
}

static gql_type_ref *parse_type_ref(parser *p) {
    if (enter(p)) return NULL;
    gql_type_ref *t = arena_zalloc(&p->doc->nodes, sizeof *t);
    if (!t) {
        oom(p);
        return NULL;
    }
    t->loc = peek(p)->loc;
    if (at(p, TK_BRACKET_L)) {
        if (advance(p)) return NULL;
        t->kind = GT_REF_LIST;
        t->of_type = parse_type_ref(p);
        if (!t->of_type || expect(p, TK_BRACKET_R)) return NULL;
    } else {
        t->kind = GT_REF_NAMED;
        t->name = expect_name(p);
        if (!t->name) return NULL;
    }
    if (at(p, TK_BANG)) {
        if (advance(p)) return NULL;
        gql_type_ref *nn = arena_zalloc(&p->doc->nodes, sizeof *nn);
        if (!nn) {
            oom(p);
            return NULL;
        }
        nn->kind = GT_REF_NON_NULL;
        nn->of_type = t;
        nn->loc = t->loc;
        t = nn;
    }
    leave(p);
    return t;
}

static int parse_variable_defs(parser *p, gql_operation *op) {
    if (!at(p, TK_PAREN_L)) return 0;
    if (advance(p)) return -1;
    int cap = 0;
    do {
        gql_var_def v = {0};
        v.loc = peek(p)->loc;
        if (expect(p, TK_DOLLAR)) return -1;
        v.name = expect_name(p);
        if (!v.name || expect(p, TK_COLON)) return -1;
        v.type = parse_type_ref(p);
        if (!v.type) return -1;
        if (at(p, TK_EQUALS)) {
            if (advance(p)) return -1;
            v.default_value = parse_value(p, 1);
            if (!v.default_value) return -1;
        }
        if (parse_directives(p, &v.dirs, &v.n_dirs, 1)) return -1;
        op->vars = grow(p, op->vars, op->n_vars, &cap, sizeof *op->vars);
        if (!op->vars) return -1;
        op->vars[op->n_vars++] = v;
    } while (!at(p, TK_PAREN_R) && !p->failed);
    return expect(p, TK_PAREN_R);
}

static int parse_operation(parser *p, gql_operation *op) {
    memset(op, 0, sizeof *op);
    op->loc = peek(p)->loc;
    if (at(p, TK_BRACE_L)) {
        op->kind = OP_QUERY;
        op->set = parse_selection_set(p);
        return op->set ? 0 : -1;
    }
    const char *kw = peek(p)->value;
    if (!strcmp(kw, "query"))
        op->kind = OP_QUERY;
    else if (!strcmp(kw, "mutation"))
        op->kind = OP_MUTATION;
    else
        op->kind = OP_SUBSCRIPTION;
    if (advance(p)) return -1;
    if (at(p, TK_NAME)) op->name = expect_name(p);
    if (parse_variable_defs(p, op)) return -1;
    if (parse_directives(p, &op->dirs, &op->n_dirs, 0)) return -1;
    op->set = parse_selection_set(p);
    return op->set ? 0 : -1;
}

static int parse_fragment(parser *p, gql_fragment *f) {
    memset(f, 0, sizeof *f);
    f->loc = peek(p)->loc;
    if (advance(p)) return -1; /* fragment */
    if (at_keyword(p, "on")) return unexpected(p);
    f->name = expect_name(p);
    if (!f->name) return -1;
    if (!at_keyword(p, "on")) {
        char d[100];
        gql_token_describe(peek(p), d, sizeof d);
        return fail_at(p, peek(p)->loc, "Expected 'on', found %s.", d);
    }
    if (advance(p)) return -1;
    f->type_condition = expect_name(p);
    if (!f->type_condition) return -1;
    if (parse_directives(p, &f->dirs, &f->n_dirs, 0)) return -1;
    f->set = parse_selection_set(p);
    return f->set ? 0 : -1;
}

gql_document *gql_parse(const char *src, size_t len, const gql_parse_limits *limits,
                        gql_parse_error *error) {
    gql_parse_error dummy;
    if (!error) error = &dummy;
    memset(error, 0, sizeof *error);
    gql_document *doc = calloc(1, sizeof *doc);
    if (!doc) {
        snprintf(error->message, sizeof error->message, "Syntax Error: out of memory.");
        return NULL;
    }
    parser p;
    memset(&p, 0, sizeof p);
    p.doc = doc;
    p.error = error;
    p.max_depth = limits && limits->max_depth > 0 ? limits->max_depth : 64;
    p.max_tokens = limits && limits->max_tokens > 0 ? limits->max_tokens : 100000;
    arena_init_small(&doc->nodes, GQL_CHUNK_BYTES,
                     limits && limits->max_memory ? limits->max_memory : (size_t)64 << 20);
    gql_lexer_init(&p.lx, src, len, &doc->nodes);
    int op_cap = 0, frag_cap = 0;
    if (advance(&p)) goto fail;
    if (at(&p, TK_EOF)) {
        fail_at(&p, peek(&p)->loc, "Unexpected <EOF>.");
        goto fail;
    }
    while (!at(&p, TK_EOF)) {
        if (p.failed) goto fail;
        if (at(&p, TK_BRACE_L) || at_keyword(&p, "query") || at_keyword(&p, "mutation") ||
            at_keyword(&p, "subscription")) {
            doc->ops = grow(&p, doc->ops, doc->n_ops, &op_cap, sizeof *doc->ops);
            if (!doc->ops || parse_operation(&p, &doc->ops[doc->n_ops])) goto fail;
            doc->n_ops++;
        } else if (at_keyword(&p, "fragment")) {
            doc->frags = grow(&p, doc->frags, doc->n_frags, &frag_cap, sizeof *doc->frags);
            if (!doc->frags || parse_fragment(&p, &doc->frags[doc->n_frags])) goto fail;
            doc->n_frags++;
        } else {
            unexpected(&p);
            goto fail;
        }
    }
    if (p.failed) goto fail;
    return doc;
fail:
    if (!p.failed)
        snprintf(error->message, sizeof error->message, "Syntax Error: invalid document.");
    gql_document_free(doc);
    return NULL;
}

void gql_document_free(gql_document *doc) {
    if (!doc) return;
    arena_free(&doc->nodes);
    free(doc);
}
