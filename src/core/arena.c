#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 64
#define ARENA_MIN_CHUNK (1u << 20)

struct arena_chunk {
    arena_chunk *next;
    size_t size;   /* usable bytes in data */
    size_t offset; /* first free byte */
    unsigned char *data;
};

static size_t align_of(const arena *a) {
    return a->align ? a->align : ARENA_ALIGN;
}

static size_t min_chunk(const arena *a) {
    return a->chunk_size ? a->chunk_size : ARENA_MIN_CHUNK;
}

static size_t align_to(size_t n, size_t align) {
    return (n + align - 1) & ~(align - 1);
}

void arena_init(arena *a) {
    memset(a, 0, sizeof *a);
}

void arena_init_small(arena *a, size_t chunk_size, size_t limit) {
    arena_init(a);
    a->align = _Alignof(max_align_t);
    a->chunk_size = chunk_size;
    a->limit = limit;
}

static void free_chunks(arena_chunk *c) {
    while (c) {
        arena_chunk *next = c->next;
        free(c->data);
        free(c);
        c = next;
    }
}

void arena_free(arena *a) {
    /* The mode (alignment, chunk size, limit) survives, so the arena can be used again. */
    size_t align = a->align, chunk_size = a->chunk_size, limit = a->limit;
    free_chunks(a->head);
    memset(a, 0, sizeof *a);
    a->align = align;
    a->chunk_size = chunk_size;
    a->limit = limit;
}

static arena_chunk *new_chunk(arena *a, size_t size) {
    arena_chunk *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    if (posix_memalign((void **)&c->data, align_of(a), size) != 0) {
        free(c);
        return NULL;
    }
    c->size = size;
    a->capacity += size;
    a->allocations++;
    return c;
}

void *arena_alloc(arena *a, size_t n) {
    size_t align = align_of(a);
    if (n > SIZE_MAX - align) return NULL;
    size_t need = align_to(n ? n : 1, align);
    if (a->limit && (need > a->limit || a->used_total > a->limit - need)) return NULL;
    if (!a->head || a->head->offset + need > a->head->size) {
        /* A new chunk of what was asked (at least the minimum chunk), never a copy of the last
         * chunk's size: a 1 MB request after a 60 MB chunk must not reserve another 60 MB. */
        size_t size = need > min_chunk(a) ? need : min_chunk(a);
        arena_chunk *c = new_chunk(a, size);
        if (!c) return NULL;
        c->next = a->head;
        a->head = c;
    }
    void *p = a->head->data + a->head->offset;
    a->head->offset += need;
    a->used_total += need;
    if (a->used_total > a->high_water) a->high_water = a->used_total;
    return p;
}

void *arena_zalloc(arena *a, size_t n) {
    void *p = arena_alloc(a, n);
    if (p) memset(p, 0, n ? n : 1);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n) {
    if (n == SIZE_MAX) return NULL;
    char *p = arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

float *arena_floats(arena *a, size_t count, int zero) {
    if (count > SIZE_MAX / sizeof(float)) return NULL;
    float *p = arena_alloc(a, count * sizeof(float));
    if (p && zero) memset(p, 0, count * sizeof(float));
    return p;
}

void arena_reset(arena *a) {
    if (a->head && (a->head->next || a->head->size < align_to(a->high_water, align_of(a)))) {
        /* Several chunks, or one too small for the high-water mark (release() freed the rest):
         * replace them with one block that holds the high-water mark. */
        size_t want = align_to(a->high_water, align_of(a));
        free_chunks(a->head);
        a->head = NULL;
        a->capacity = 0;
        arena_chunk *c = new_chunk(a, want > min_chunk(a) ? want : min_chunk(a));
        a->head = c; /* NULL on failure: the next alloc retries */
    }
    if (a->head) a->head->offset = 0;
    a->used_total = 0;
}

arena_mark arena_get_mark(const arena *a) {
    arena_mark m = {a->head, a->head ? a->head->offset : 0, a->used_total};
    return m;
}

void arena_release(arena *a, arena_mark m) {
    /* Chunks opened after the mark hold nothing live any more: free them, so that a first pass
     * (before reset() has sized one block) holds no more than its high-water mark. */
    while (a->head && a->head != m.chunk) {
        arena_chunk *c = a->head;
        a->head = c->next;
        a->capacity -= c->size;
        free(c->data);
        free(c);
    }
    if (a->head) a->head->offset = m.offset;
    a->used_total = m.used_total;
}
