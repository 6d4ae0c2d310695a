/* mem.c - allocation wrappers with failure injection (see mem.h). */
#include "base/mem.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static atomic_ulong alloc_count;
static atomic_long fail_at = -1; /* -1: not read from the environment yet; 0: never fail */

static bool should_fail(void)
{
    long at = atomic_load(&fail_at);
    if (at < 0) {
        const char *s = getenv("CQ_FAIL_ALLOC_AT");
        char *end = NULL;
        long v = s ? strtol(s, &end, 10) : 0;
        at = (s && end && *end == '\0' && v > 0) ? v : 0;
        atomic_store(&fail_at, at);
    }
    unsigned long n = atomic_fetch_add(&alloc_count, 1) + 1;
    return at > 0 && n == (unsigned long)at;
}

void *cq_malloc(size_t n)
{
    if (should_fail()) {
        return NULL;
    }
    return malloc(n ? n : 1);
}

void *cq_calloc(size_t n, size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return calloc(n ? n : 1, size ? size : 1);
}

void *cq_realloc(void *p, size_t n)
{
    if (should_fail()) {
        return NULL;
    }
    return realloc(p, n ? n : 1);
}

void cq_free(void *p)
{
    free(p);
}

char *cq_strndup(const char *s, size_t len)
{
    if (s == NULL) {
        return NULL;
    }
    size_t n = strnlen(s, len);
    char *d = cq_malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *cq_strdup(const char *s)
{
    return s ? cq_strndup(s, SIZE_MAX) : NULL;
}

bool cq_size_mul(size_t *out, size_t a, size_t b)
{
    if (a != 0 && b > SIZE_MAX / a) {
        return false;
    }
    *out = a * b;
    return true;
}

bool cq_size_add(size_t *out, size_t a, size_t b)
{
    if (b > SIZE_MAX - a) {
        return false;
    }
    *out = a + b;
    return true;
}

unsigned long cq_mem_count(void)
{
    return atomic_load(&alloc_count);
}
