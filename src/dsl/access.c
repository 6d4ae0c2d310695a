/*
 * access.c - placeholder until spec §3 / §0.13 land: every table and column allowed.
 */
#include <string.h>

#include "dsl/internal.h"

int cq_dsl_access_init(struct cq_dsl_access *acc, const struct cq_dsl_catalog *cat,
                       const struct cq_dsl_context *ctx, struct cq_arena *a)
{
    memset(acc, 0, sizeof(*acc));
    acc->cat = cat;
    acc->ctx = ctx;
    acc->a = a;
    return CQ_OK;
}

const struct cq_dsl_table_access *cq_dsl_access_get(struct cq_dsl_access *acc,
                                                    const struct cq_dsl_table *t)
{
    struct cq_dsl_table_access *ta = cq_arena_alloc(acc->a, sizeof(*ta));

    if (ta != NULL) {
        ta->table = t;
        ta->allowed = true;
    }
    return ta;
}
