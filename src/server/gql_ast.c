#include "server/gql_ast.h"

#include <stdlib.h>
#include <string.h>

struct gql_arena_block {
    gql_arena_block *next;
    size_t used, cap;
    max_align_t data[]; /* keeps every allocation suitably aligned */
};

#define GQL_BLOCK_BYTES 16384

void *gql_alloc(gql_arena *a, size_t n) {
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (n == 0) n = sizeof(max_align_t);
    gql_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > GQL_BLOCK_BYTES ? n : GQL_BLOCK_BYTES;
        if (a->limit && a->total + cap > a->limit) return NULL;
        b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
        a->total += cap;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *gql_strndup(gql_arena *a, const char *s, size_t n) {
    char *p = gql_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void gql_arena_free(gql_arena *a) {
    gql_arena_block *b = a->head;
    while (b) {
        gql_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->total = 0;
}
