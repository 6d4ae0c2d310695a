/*
 * validate_int.h - what validate.c (the rules of spec §5 in order) and validate_filter.c
 * (WHERE and HAVING filters, value shapes) share; nothing else includes it.
 *
 * Validation builds jansson entries only when something is wrong: a valid query costs
 * lookups and bit tests, no allocation beyond a few words of the request arena.
 */
#ifndef CQ_DSL_VALIDATE_INT_H
#define CQ_DSL_VALIDATE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "dsl/internal.h"

/* A table a name can resolve to, with the request's rights on it. */
struct cq_dsl_vtab {
    const struct cq_dsl_table *t;
    const struct cq_dsl_table_access *ta;
};

/* One validation run. */
struct cq_dsl_vstate {
    const struct cq_dsl_catalog *cat;
    const struct cq_dsl_query *q;
    struct cq_dsl_access *acc;
    json_t *errors;           /* entries; NULL until the first */
    int rc;                   /* sticky CQ_ENOMEM */
    struct cq_dsl_vtab *tabs; /* from table, then each known joined table */
    size_t n_tabs;
    const struct cq_dsl_table_access **touched; /* every table read: row-filter checks */
    size_t n_touched, cap_touched;
};

/* What a filter list may address: tabs[0] is the default table (and the EXISTS parent),
 * the others are reachable through `table`. With `top`, an EXISTS related to any of the
 * tabs is valid (spec §5 rule 8 and §0.4), else only one related to tabs[0]. */
struct cq_dsl_vscope {
    const struct cq_dsl_vtab *tabs;
    size_t n_tabs;
    bool top;
};

/* Appends one entry {code, message, details} (takes details; NULL = {}). */
void cq_dsl_verr(struct cq_dsl_vstate *v, const char *code, json_t *details, const char *fmt, ...)
    CQ_PRINTF(4, 5);
/*
 * Builds a details object from (key, value) pairs described by spec: 's' a string (the
 * key is left out when the value is NULL, as JSON.stringify drops undefined), 'i' a
 * long long. Example: cq_dsl_vdet("si", "table", name, "filterIndex", (long long)i).
 */
json_t *cq_dsl_vdet(const char *spec, ...);
/* The table's rights, recorded as touched (row-filter context checks); NULL on ENOMEM
 * (v->rc set). */
const struct cq_dsl_table_access *cq_dsl_vtouch(struct cq_dsl_vstate *v,
                                                const struct cq_dsl_table *t);
/* A relation a->b or b->a. */
bool cq_dsl_vrelated(const struct cq_dsl_table *a, const struct cq_dsl_table *b);
/* JavaScript's Number.isInteger(v) && v >= 0 (1.0 counts; strings never). */
bool cq_dsl_vnonneg_int(const struct cq_dsl_val *v);
/* spec §4.2 matchesColumnType: string/uuid/date/timestamp a string, int an integral
 * number, decimal any number, boolean a boolean. */
bool cq_dsl_vmatches(const struct cq_dsl_val *v, enum cq_dsl_type t);
/* Appends what JavaScript's `${v}` prints (NULL = undefined). */
void cq_dsl_vjs(struct cq_buf *b, const struct cq_dsl_val *v);

/* Rule 8 over one filter list; each entry's filterIndex is its position in the list. */
void cq_dsl_vfilters(struct cq_dsl_vstate *v, struct cq_dsl_filter *const *fs, size_t n,
                     const struct cq_dsl_vscope *sc);
/* Rule 11 over the having list. */
void cq_dsl_vhaving(struct cq_dsl_vstate *v, struct cq_dsl_filter *const *fs, size_t n);

#endif
