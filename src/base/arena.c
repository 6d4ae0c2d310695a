/* arena.c - chunked bump allocator (see arena.h). */
#include "base/arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"

struct cq_arena_chunk {
    struct cq_arena_chunk *next;
    size_t used;
    size_t size;
    _Alignas(16) unsigned char data[];
};

void cq_arena_init(struct cq_arena *a, size_t chunk_size, size_t max)
{
    a->head = NULL;
    a->chunk_size = chunk_size ? chunk_size : 8192;
    a->total = 0;
    a->max = max;
}

void cq_arena_free(struct cq_arena *a)
{
    struct cq_arena_chunk *c = a->head;
    while (c != NULL) {
        struct cq_arena_chunk *next = c->next;
        cq_free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}

void cq_arena_reset(struct cq_arena *a)
{
    struct cq_arena_chunk *c = a->head;
    size_t bytes = a->total;

    if (c == NULL) {
        return;
    }
    if (c->next == NULL) {
        c->used = 0;
        return;
    }
    cq_arena_free(a);
    c = cq_malloc(bytes);
    if (c == NULL) {
        return; /* the next allocation will try again */
    }
    c->size = bytes - sizeof(*c);
    c->used = 0;
    c->next = NULL;
    a->head = c;
    a->total = bytes;
}

void *cq_arena_alloc(struct cq_arena *a, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    struct cq_arena_chunk *c = a->head;
    if (need < n) {
        return NULL;
    }
    if (c == NULL || c->size - c->used < need) {
        size_t size = need > a->chunk_size ? need : a->chunk_size;
        size_t bytes;
        if (!cq_size_add(&bytes, sizeof(*c), size)) {
            return NULL;
        }
        if (a->max != 0 && a->total + bytes > a->max) {
            return NULL;
        }
        c = cq_malloc(bytes);
        if (c == NULL) {
            return NULL;
        }
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
        a->total += bytes;
    }
    void *p = c->data + c->used;
    c->used += need;
    memset(p, 0, n);
    return p;
}

char *cq_arena_strndup(struct cq_arena *a, const char *s, size_t len)
{
    size_t n = strnlen(s, len);
    char *d = cq_arena_alloc(a, n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *cq_arena_strdup(struct cq_arena *a, const char *s)
{
    return s ? cq_arena_strndup(a, s, strlen(s)) : NULL;
}

char *cq_arena_printf(struct cq_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return NULL;
    }
    char *d = cq_arena_alloc(a, (size_t)n + 1);
    if (d != NULL) {
        va_start(ap, fmt);
        vsnprintf(d, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return d;
}

void *cq_arena_grow(struct cq_arena *a, void *v, size_t n, size_t *cap, size_t size)
{
    size_t ncap, bytes;
    void *nv;

    if (n < *cap) {
        return v;
    }
    ncap = *cap != 0 ? *cap * 2 : 8;
    if (ncap < *cap || !cq_size_mul(&bytes, ncap, size)) {
        return NULL;
    }
    nv = cq_arena_alloc(a, bytes);
    if (nv == NULL) {
        return NULL;
    }
    if (n > 0) {
        memcpy(nv, v, n * size);
    }
    *cap = ncap;
    return nv;
}
