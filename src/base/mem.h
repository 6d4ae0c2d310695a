/*
 * mem.h - the only way clariq allocates heap memory.
 *
 * Every allocation goes through these wrappers so that tests can inject failures:
 * with CQ_FAIL_ALLOC_AT=N in the environment, the Nth allocation (1-based) returns NULL
 * (curl's torture idea). An allocation failure is reported, never fatal.
 * Thread-safe: the counter is atomic.
 */
#ifndef CQ_BASE_MEM_H
#define CQ_BASE_MEM_H

#include <stdbool.h>
#include <stddef.h>

void *cq_malloc(size_t n);
void *cq_calloc(size_t n, size_t size);
void *cq_realloc(void *p, size_t n);
void cq_free(void *p);                            /* NULL is a no-op */
char *cq_strdup(const char *s);                   /* NULL in, NULL out */
char *cq_strndup(const char *s, size_t len);      /* copies at most len bytes, NUL-terminates */

/* Overflow-checked size arithmetic: false (and *out untouched) on overflow. */
bool cq_size_mul(size_t *out, size_t a, size_t b);
bool cq_size_add(size_t *out, size_t a, size_t b);

/* Test hook: number of allocations made so far (all threads). */
unsigned long cq_mem_count(void);

#endif
