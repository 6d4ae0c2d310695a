/*
 * arena.h - chunked bump allocator for request-scoped memory.
 *
 * Everything allocated from an arena is freed at once by cq_arena_free(); nothing is
 * freed one by one. Allocation failure returns NULL. Not thread-safe: one arena per
 * request/evaluation.
 */
#ifndef CQ_BASE_ARENA_H
#define CQ_BASE_ARENA_H

#include <stddef.h>

#include "base/err.h"

struct cq_arena_chunk;

struct cq_arena {
    struct cq_arena_chunk *head; /* newest chunk first */
    size_t chunk_size;           /* bytes per ordinary chunk */
    size_t total;                /* bytes allocated from the heap so far */
    size_t max;                  /* cap on total, bytes; 0 = unlimited */
};

void cq_arena_init(struct cq_arena *a, size_t chunk_size, size_t max);
void cq_arena_free(struct cq_arena *a); /* releases every chunk; a may be re-initialized */
/* Forgets every allocation but keeps the memory: one chunk as large as everything the arena
 * held, so a loop that reuses the arena (a server thread, a benchmark) stops calling the
 * heap once it has seen its largest request. */
void cq_arena_reset(struct cq_arena *a);
void *cq_arena_alloc(struct cq_arena *a, size_t n);   /* 16-byte aligned, zeroed; NULL on failure */
char *cq_arena_strdup(struct cq_arena *a, const char *s);
char *cq_arena_strndup(struct cq_arena *a, const char *s, size_t len);
char *cq_arena_printf(struct cq_arena *a, const char *fmt, ...) CQ_PRINTF(2, 3);
/*
 * Room for one more element in an arena array of n elements of `size` bytes and capacity
 * *cap: v itself while n < *cap; else a new array of twice the capacity (8 at first) holding
 * the n elements, and *cap updated. The old array is left to the arena, so pointers into it
 * stay valid (they see no later change). NULL on overflow or allocation failure, *cap
 * unchanged.
 */
void *cq_arena_grow(struct cq_arena *a, void *v, size_t n, size_t *cap, size_t size);

#endif
