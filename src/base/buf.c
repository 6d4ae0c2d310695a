/* buf.c - capped growable buffer with a sticky error (see buf.h). */
#include "base/buf.h"

#include <stdio.h>
#include <string.h>

#include "base/mem.h"

void cq_buf_init(struct cq_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max ? max : 1;
}

void cq_buf_cleanup(struct cq_buf *b)
{
    cq_free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->rc = CQ_OK;
}

void cq_buf_reset(struct cq_buf *b)
{
    b->len = 0;
    b->rc = CQ_OK;
    if (b->p != NULL) {
        b->p[0] = '\0';
    }
}

char *cq_buf_reserve(struct cq_buf *b, size_t n)
{
    size_t need;
    if (b->rc != CQ_OK) {
        return NULL;
    }
    if (!cq_size_add(&need, b->len, n) || need > b->max) {
        b->rc = CQ_ETOOBIG;
        return NULL;
    }
    if (need + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need + 1) {
            cap = cap > (b->max + 1) / 2 ? b->max + 1 : cap * 2;
        }
        char *p = cq_realloc(b->p, cap);
        if (p == NULL) {
            b->rc = CQ_ENOMEM;
            return NULL;
        }
        b->p = p;
        b->cap = cap;
    }
    return b->p + b->len;
}

void cq_buf_commit(struct cq_buf *b, size_t n)
{
    b->len += n;
    b->p[b->len] = '\0';
}

void cq_buf_append_slow(struct cq_buf *b, const void *p, size_t len)
{
    char *dst = cq_buf_reserve(b, len);
    if (dst != NULL) {
        if (len > 0) {
            memcpy(dst, p, len);
        }
        cq_buf_commit(b, len);
    }
}

void cq_buf_puts(struct cq_buf *b, const char *s)
{
    cq_buf_append(b, s, strlen(s));
}

void cq_buf_put_i64(struct cq_buf *b, int64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        *--p = '-';
    }
    cq_buf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void cq_buf_vprintf(struct cq_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    char small[256];
    if (b->rc != CQ_OK) {
        return;
    }
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof(small), fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        b->rc = CQ_EINVAL;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        cq_buf_append(b, small, (size_t)n);
        return;
    }
    char *dst = cq_buf_reserve(b, (size_t)n);
    if (dst != NULL) {
        vsnprintf(dst, (size_t)n + 1, fmt, ap);
        cq_buf_commit(b, (size_t)n);
    }
}

void cq_buf_printf(struct cq_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cq_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

int cq_buf_rc(const struct cq_buf *b)
{
    return b->rc;
}

const char *cq_buf_str(const struct cq_buf *b)
{
    return b->p ? b->p : "";
}

char *cq_buf_take(struct cq_buf *b)
{
    char *p = b->p ? b->p : cq_strdup("");
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}
