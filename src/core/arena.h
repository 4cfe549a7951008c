/* Scratch arenas: one per model stage. A forward pass takes all its temporaries from its stage's
 * arena and resets it at the end. The first pass grows the arena (one allocation per chunk);
 * reset() folds the chunks into a single block of the high-water size, so every later pass of the
 * same input size allocates nothing. */
#ifndef SAM2_CORE_ARENA_H
#define SAM2_CORE_ARENA_H

#include <stddef.h>

typedef struct arena_chunk arena_chunk;

typedef struct arena {
    arena_chunk *head; /* current chunk (newest first) */
    size_t used_total; /* bytes handed out since the last reset, padding included */
    size_t high_water; /* largest used_total seen */
    size_t capacity;   /* bytes held in all chunks */
    int allocations;   /* malloc calls made by this arena (for the no-allocation tests) */
    size_t align;      /* alignment of every block (0: 64, for SIMD rows) */
    size_t chunk_size; /* smallest chunk (0: 1 MiB) */
    size_t limit;      /* 0: none; else allocations fail once used_total would pass it */
} arena;

void arena_init(arena *a);
/* Grow-by-chunk mode for many small objects (document trees: GraphQL ASTs, pickle values):
 * max_align_t alignment, `chunk_size`-byte chunks, and a budget of `limit` bytes (0: none) so
 * hostile input cannot take unbounded memory. Freed as a whole with arena_free(). */
void arena_init_small(arena *a, size_t chunk_size, size_t limit);
/* Zero-filled block of n bytes, or NULL when memory or the limit is exhausted. */
void *arena_zalloc(arena *a, size_t n);
/* NUL-terminated copy of the first n bytes of s. */
char *arena_strndup(arena *a, const char *s, size_t n);
void arena_free(arena *a);
/* 64-byte aligned block of n bytes, or NULL when memory is exhausted. */
void *arena_alloc(arena *a, size_t n);
/* Floats, zero-filled when `zero` is set. */
float *arena_floats(arena *a, size_t count, int zero);
/* Forgets every allocation; keeps (and coalesces) the memory. */
void arena_reset(arena *a);

/* Marks let a stage release its own temporaries while keeping earlier results. */
typedef struct arena_mark {
    arena_chunk *chunk;
    size_t offset;
    size_t used_total;
} arena_mark;
arena_mark arena_get_mark(const arena *a);
void arena_release(arena *a, arena_mark m);

#endif
