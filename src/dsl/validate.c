/*
 * validate.c - placeholder until the spec §5 rules land: accepts every query.
 */
#include "dsl/internal.h"

int cq_dsl_validate(const struct cq_dsl_catalog *cat, const struct cq_dsl_query *q,
                    struct cq_dsl_access *acc, struct cq_dsl_error *e)
{
    (void)cat;
    (void)q;
    (void)acc;
    (void)e;
    return CQ_OK;
}
