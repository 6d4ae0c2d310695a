/*
 * internal.h - what the stages of the dsl module hand each other; nothing outside
 * src/dsl includes it.
 *
 * validate.c fills a struct cq_dsl_access (access.c computes one table's effective
 * rights and row filters on first use), plan.c turns the query into a struct cq_dsl_plan,
 * sqlgen.c resolves names and prints SQL through a struct cq_dsl_dialect, compile.c runs
 * them in order. All of it lives in the compile's arena.
 */
#ifndef CQ_DSL_INTERNAL_H
#define CQ_DSL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "dsl/dsl.h"

/* ---- access (access.c; spec §3 and §0.13) ------------------------------------------------ */

/* One row-filter condition with its value taken from the context. */
struct cq_dsl_rls_term {
    const struct cq_dsl_rls_filter *f;
    const struct cq_dsl_val *value;  /* NULL for IS_NULL / IS_NOT_NULL */
};

/* One granting role's filters, ANDed. */
struct cq_dsl_rls_conj {
    const char *role;
    const struct cq_dsl_rls_term *terms;
    size_t n_terms;
};

/* One scope: its granting roles ORed. Never empty (a scope where some granting role has
 * no filters imposes nothing and is left out). */
struct cq_dsl_rls_disj {
    const struct cq_dsl_rls_conj *conjs;
    size_t n_conjs;
};

/* A table's effective rights for this request. */
struct cq_dsl_table_access {
    const struct cq_dsl_table *table;
    bool allowed;                 /* every present scope grants the table */
    const uint64_t *cols;         /* allowed columns; NULL = all */
    const uint64_t *masked;       /* masked columns (subset of allowed); NULL = none */
    const struct cq_dsl_rls_disj *rls; /* scopes ANDed; NULL/0 = no row filter */
    size_t n_rls;
};

struct cq_dsl_access {
    const struct cq_dsl_catalog *cat;
    const struct cq_dsl_context *ctx;
    struct cq_arena *a;
    const struct cq_dsl_role *const *user;    /* known roles of the user scope */
    size_t n_user;
    const struct cq_dsl_role *const *service;
    size_t n_service;
    struct cq_dsl_table_access *seen; /* small cache: tables a query touches are few */
    size_t n_seen, cap_seen;
};

/* Prepares access for a request (role ids resolved; unknown ones skipped). */
int cq_dsl_access_init(struct cq_dsl_access *acc, const struct cq_dsl_catalog *cat,
                       const struct cq_dsl_context *ctx, struct cq_arena *a);
/* The table's rights, computed on first use; NULL only on ENOMEM. Row-filter values are
 * looked up in ctx->values; a missing one leaves the term's value NULL (validation reports
 * MISSING_CONTEXT before anything is generated). */
const struct cq_dsl_table_access *cq_dsl_access_get(struct cq_dsl_access *acc,
                                                    const struct cq_dsl_table *t);
static inline bool cq_dsl_col_allowed(const struct cq_dsl_table_access *ta,
                                      const struct cq_dsl_column *c)
{
    return ta->cols == NULL || cq_dsl_bit(ta->cols, c->idx);
}
static inline bool cq_dsl_col_masked(const struct cq_dsl_table_access *ta,
                                     const struct cq_dsl_column *c)
{
    return ta->masked != NULL && cq_dsl_bit(ta->masked, c->idx);
}

/*
 * Spec §5 in order, plus §0.1 (access on every column use), §0.2 (scalar values typed),
 * §0.4 (top-level EXISTS through a join) and MISSING_CONTEXT for every table touched.
 * acc must be initialised. CQ_OK, or CQ_EINVAL with e = ValidationError (all entries).
 */
int cq_dsl_validate(const struct cq_dsl_catalog *cat, const struct cq_dsl_query *q,
                    struct cq_dsl_access *acc, struct cq_dsl_error *e);

/* ---- planning (plan.c; spec §7) --------------------------------------------------------- */

struct cq_dsl_plan {
    enum cq_dsl_strategy strategy;
    const struct cq_dsl_database *db;   /* direct / materialized / cache fallback; NULL trino */
    enum cq_dialect dialect;
    const struct cq_dsl_cached *cached; /* cache */
    /* Involved tables (spec §7 order) and, per table, the physical name to use and where. */
    const struct cq_dsl_table **tables;
    const char **phys;                  /* replica targetPhysicalName or table->phys */
    const struct cq_dsl_database **dbs; /* database each is read from */
    bool *replaced;                     /* materialized */
    size_t n_tables;
    bool catalogs;                      /* trino: prefix table names with trino_catalog */
};

/* CQ_OK, or CQ_EINVAL with e = PlannerError. Needs the access to skip the cache when a
 * row filter applies to the table. */
int cq_dsl_plan(const struct cq_dsl_catalog *cat, const struct cq_dsl_query *q,
                struct cq_dsl_access *acc, struct cq_arena *a, struct cq_dsl_plan *out,
                struct cq_dsl_error *e);

/* ---- SQL generation (sqlgen.c, dialect_*.c; spec §8, §9) -------------------------------- */

struct cq_dsl_gen; /* sqlgen.c: the statement being printed */

/* The only code that prints quote characters or placeholders for its dialect. */
struct cq_dsl_dialect {
    enum cq_dialect id;
    const char *name;                           /* "postgres" ... */
    void (*quote_ident)(struct cq_buf *b, const char *s);
    void (*quote_lit)(struct cq_buf *b, const char *s, size_t len);
    /* Prints one condition of a value filter (the column is already resolved). */
    int (*cond)(struct cq_dsl_gen *g, const void *node);
};

const struct cq_dsl_dialect *cq_dsl_dialect_get(enum cq_dialect d);

/*
 * Resolves names and generates SQL for the plan into out (sql, params, cols, tables).
 * CQ_OK; CQ_EINVAL with e = ValidationError UNSUPPORTED_OPERATOR when the dialect cannot
 * express an operator; CQ_ENOMEM.
 */
int cq_dsl_generate(const struct cq_dsl_catalog *cat, const struct cq_dsl_query *q,
                    struct cq_dsl_access *acc, const struct cq_dsl_plan *plan,
                    enum cq_dialect dialect, struct cq_arena *a, struct cq_dsl_compiled *out,
                    struct cq_dsl_error *e);

#endif
