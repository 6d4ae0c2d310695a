/*
 * buf.h - growable, always NUL-terminated byte buffer with a mandatory size cap and a
 * sticky error (curl dynbuf + SQLite sqlite3_str).
 *
 * Appends return void; check cq_buf_rc() once at the end. After the first failure
 * (CQ_ENOMEM or CQ_ETOOBIG) every append is ignored. The buffer owns its memory;
 * cq_buf_take() hands it to the caller. Not thread-safe.
 */
#ifndef CQ_BASE_BUF_H
#define CQ_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"

struct cq_buf {
    char *p;      /* NUL-terminated contents; NULL until the first append */
    size_t len;   /* bytes used, excluding the NUL */
    size_t cap;   /* bytes allocated */
    size_t max;   /* cap on len, bytes; must be > 0 */
    int rc;       /* sticky enum cq_rc of the first failure */
};

void cq_buf_init(struct cq_buf *b, size_t max);
void cq_buf_cleanup(struct cq_buf *b);        /* frees; b may be reused after cq_buf_init */
void cq_buf_reset(struct cq_buf *b);          /* len = 0, keeps memory, clears the error */
void cq_buf_append_slow(struct cq_buf *b, const void *p, size_t len);
void cq_buf_puts(struct cq_buf *b, const char *s);
/* Appends v in decimal (no printf: hot paths write many numbers). */
void cq_buf_put_i64(struct cq_buf *b, int64_t v);
void cq_buf_printf(struct cq_buf *b, const char *fmt, ...) CQ_PRINTF(2, 3);
void cq_buf_vprintf(struct cq_buf *b, const char *fmt, va_list ap) CQ_PRINTF(2, 0);
/* Makes room for n more bytes; returns a pointer to write them or NULL (error set). Call
 * cq_buf_commit(b, n) after writing. */
char *cq_buf_reserve(struct cq_buf *b, size_t n);
void cq_buf_commit(struct cq_buf *b, size_t n);
int cq_buf_rc(const struct cq_buf *b);

/* Appends are inline: result writers call them for every value, and the common case (room
 * in the buffer, no error) is one comparison and a copy. */
static inline void cq_buf_append(struct cq_buf *b, const void *p, size_t len)
{
    if (b->rc == 0 && len < b->cap - b->len && len <= b->max - b->len) {
        if (len > 0) {
            memcpy(b->p + b->len, p, len);
        }
        b->len += len;
        b->p[b->len] = '\0';
        return;
    }
    cq_buf_append_slow(b, p, len);
}

static inline void cq_buf_putc(struct cq_buf *b, char c)
{
    cq_buf_append(b, &c, 1);
}
/* Contents as a string ("" when empty); borrowed until the next append or cleanup. */
const char *cq_buf_str(const struct cq_buf *b);
/* Takes ownership of the contents (caller frees with cq_free); leaves b empty. */
char *cq_buf_take(struct cq_buf *b);

#endif
