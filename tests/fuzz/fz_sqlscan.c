/*
 * fz_sqlscan.c - arbitrary bytes into cq_drv_sql_scan. The input is copied into a block of
 * exactly its size (no NUL after it) so ASan flags any read past len; the statement list
 * must stay inside the text, in order, with sane placeholder numbers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/mem.h"
#include "drv/param.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct cq_sql_scan *sc, size_t size)
{
    size_t prev_end = 0;
    int max = 0;
    for (size_t i = 0; i < sc->n_stmts; i++) {
        const struct cq_sql_stmt *st = &sc->stmts[i];
        if (st->off < prev_end || st->len == 0 || st->off + st->len > size ||
            st->max_param < 0 || st->max_param > 65535) {
            abort();
        }
        prev_end = st->off + st->len;
        max = st->max_param > max ? st->max_param : max;
    }
    if (max != sc->max_param) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cq_arena a;
    struct cq_sql_scan sc;
    struct cq_err err = {0};
    char *sql = cq_malloc(size ? size : 1);
    if (sql == NULL) {
        return 0;
    }
    if (size > 0) {
        memcpy(sql, data, size);
    }
    cq_arena_init(&a, 4096, 0);
    int rc = cq_drv_sql_scan(&a, sql, size, &sc, &err);
    if (rc == CQ_OK) {
        check(&sc, size);
    } else if (err.msg[0] == '\0' || (rc != CQ_ETOOBIG && rc != CQ_EINVAL && rc != CQ_ENOMEM)) {
        abort();
    }
    cq_arena_free(&a);
    cq_free(sql);
    return 0;
}
