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
#include <string.h>

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

/* ---- SQL generation (sqlgen.c, sqlgen_where.c, dialect_*.c; spec §8, §9) --------------- */

/*
 * The SQL text is built in one growing buffer inside the compile's arena (not a struct
 * cq_buf: the compiler allocates nothing from the heap, and the text must outlive the
 * builder as part of struct cq_dsl_compiled). Like cq_buf it keeps a sticky error: appends
 * return nothing and rc is checked once at the end. The text is NUL-terminated by
 * cq_dsl_sb_finish only.
 */
struct cq_dsl_sb {
    char *p;                      /* arena memory */
    size_t len;                   /* bytes used */
    size_t cap;                   /* bytes available at p */
    struct cq_arena *a;           /* where it grows (the old block is left to the arena) */
    int rc;                       /* sticky CQ_ENOMEM */
};

/* The appends below are a bounds check and a copy, forced inline so that a literal's copy
 * compiles to a few moves wherever it is printed: left to itself, link-time optimisation
 * stops inlining them in the largest functions (cq_dsl_gen_emit), which cost the simple
 * select of bench/dsl_bench.c about 4%. */
#define CQ_DSL_SB_INLINE static inline __attribute__((always_inline))

/* Makes room for n more bytes and returns where to write them (then cq_dsl_sb_commit), or
 * NULL after a failure. */
char *cq_dsl_sb_grow(struct cq_dsl_sb *b, size_t n);
CQ_DSL_SB_INLINE char *cq_dsl_sb_reserve(struct cq_dsl_sb *b, size_t n)
{
    if (n < b->cap - b->len) {
        return b->p + b->len;
    }
    return cq_dsl_sb_grow(b, n);
}
CQ_DSL_SB_INLINE void cq_dsl_sb_commit(struct cq_dsl_sb *b, size_t n)
{
    b->len += n;
}
CQ_DSL_SB_INLINE void cq_dsl_sb_put(struct cq_dsl_sb *b, const char *s, size_t n)
{
    char *w = cq_dsl_sb_reserve(b, n);
    if (w != NULL) {
        memcpy(w, s, n);
        b->len += n;
    }
}
CQ_DSL_SB_INLINE void cq_dsl_sb_putc(struct cq_dsl_sb *b, char c)
{
    char *w = cq_dsl_sb_reserve(b, 1);
    if (w != NULL) {
        *w = c;
        b->len++;
    }
}
/* A string literal without strlen. */
#define CQ_DSL_LIT(b, lit) cq_dsl_sb_put((b), "" lit, sizeof(lit) - 1)
void cq_dsl_sb_puts(struct cq_dsl_sb *b, const char *s);
void cq_dsl_sb_i64(struct cq_dsl_sb *b, int64_t v);

/* One table of the statement: the from table (t0), a joined table (tN) or the table of an
 * EXISTS subquery (sN). */
struct cq_dsl_gtab {
    const struct cq_dsl_table *t;
    const struct cq_dsl_table_access *ta;
    const char *alias;            /* "t0", "s2" (unquoted) */
    size_t alias_len;
    const char *phys;             /* physical name used: the replica's, or the table's */
    const struct cq_dsl_database *db; /* database it is read from (Trino catalog) */
    bool replaced;                /* materialized replica */
    const struct cq_dsl_join *join; /* the join that registered it; NULL for t0 */
    /* ON clause (joins): on_l_tab.on_l = this.on_r */
    const struct cq_dsl_gtab *on_l_tab;
    const struct cq_dsl_column *on_l;
    const struct cq_dsl_column *on_r;
};

/* A value condition as a dialect prints it: `col op value` in the dialect's words. The
 * same shape serves filters, byIds and row-level filters. */
struct cq_dsl_cond {
    enum cq_dsl_op op;
    const struct cq_dsl_gtab *tab;    /* the column's table (its alias qualifies it) */
    const struct cq_dsl_column *col;
    const struct cq_dsl_val *value;   /* never NULL (cq_dsl_null_val when absent) */
};

/* A column of a statement table. */
struct cq_dsl_cref {
    const struct cq_dsl_gtab *tab;
    const struct cq_dsl_column *c;
};

/* The statement being generated. */
struct cq_dsl_gen {
    const struct cq_dsl_catalog *cat;
    const struct cq_dsl_query *q;
    struct cq_dsl_access *acc;
    const struct cq_dsl_plan *plan;
    const struct cq_dsl_dialect *d;
    struct cq_arena *a;
    struct cq_dsl_compiled *out;
    struct cq_dsl_error *e;
    struct cq_dsl_sb sb;
    struct cq_dsl_param *params;  /* grows in the arena */
    size_t n_params, cap_params;
    struct cq_dsl_gtab *tabs;     /* t0 and the distinct joined tables */
    size_t n_tabs;
    struct cq_dsl_gtab **jt;      /* per query join: its table (a repeated table reuses one) */
    const struct cq_dsl_cref *picks; /* the selected plain columns (out->cols[0..n_picks)) */
    size_t n_picks;
    unsigned counter;             /* next alias number (spec §8.1) */
    bool catalogs;                /* Trino: prefix table names with the Trino catalog */
    bool count_mode;
    size_t filter_index;          /* top-level entry being printed (error details) */
    json_t *unsupported;          /* UNSUPPORTED_OPERATOR entries (error path only) */
    int rc;                       /* first hard failure (ENOMEM, inconsistent query) */
};

/* Prints one bound value that meets type t: a placeholder, or one wrapped in a conversion. */
typedef void (*cq_dsl_value_fn)(struct cq_dsl_gen *g, const struct cq_dsl_val *v,
                                enum cq_dsl_type t);

/* An operator of the LIKE family taken apart (like, ilike, contains, startsWith, endsWith and
 * their variants), for the dialect to spell. */
struct cq_dsl_like {
    bool neg;                     /* notLike, notIlike, notContains, notIcontains */
    bool ci;                      /* case-insensitive: ilike, icontains, istartsWith, iendsWith */
    bool text;                    /* the value is text to find (contains, startsWith...), not a
                                     pattern of its own (like, ilike) */
    bool pre, post;               /* text: anything may come before / after it */
};
typedef void (*cq_dsl_like_fn)(struct cq_dsl_gen *g, const struct cq_dsl_cond *c,
                               const struct cq_dsl_like *k);

/* The only code that prints quote characters or placeholders for its dialect. What every
 * dialect prints alike is in sqlgen_where.c; the fields below say how a dialect differs. */
struct cq_dsl_dialect {
    enum cq_dialect id;
    const char *name;             /* "postgres" ... */
    bool counted_rewrite;         /* counted >,>=,<,<= as IN/NOT IN ... GROUP BY (CH, Trino) */
    bool having_alias;            /* HAVING names the select alias, which only ClickHouse
                                     resolves there; else the aggregate expression */
    bool not_between_paren;       /* negated BETWEEN as NOT (x BETWEEN a AND b) (CH); else
                                     x NOT BETWEEN a AND b */
    const char *list_open;        /* opens the list of x [NOT ]IN: "(" or "tuple(" (CH) */
    const char *levenshtein;      /* levenshteinLte's function and its "(" */
    void (*quote_ident)(struct cq_dsl_sb *b, const char *s, size_t len);
    void (*quote_lit)(struct cq_dsl_sb *b, const char *s, size_t len);
    /* Prints the placeholder of parameter n (1-based; g->params[n - 1] is recorded).
     * ch_type is the ClickHouse type; NULL = the one of the parameter's type. */
    void (*placeholder)(struct cq_dsl_gen *g, size_t n, const char *ch_type);
    /* Prints a value condition; CQ_EUNSUPPORTED when the dialect cannot express c->op.
     * A dialect prints its own forms and leaves the others to cq_dsl_gen_cond_std. */
    int (*cond)(struct cq_dsl_gen *g, const struct cq_dsl_cond *c);
    /* Prints FN(col) when the dialect needs another spelling for the column's type (true),
     * or leaves it to the standard FN(col) (false). NULL = always standard. */
    bool (*agg)(struct cq_dsl_gen *g, enum cq_dsl_aggfn fn, const struct cq_dsl_gtab *tab,
                const struct cq_dsl_column *c);
    /* Prints a HAVING value. HAVING values are not typed by validation, so the type follows
     * the JSON value and t is meaningless. NULL = a placeholder typed by the value's kind. */
    cq_dsl_value_fn having_value;
};

extern const struct cq_dsl_dialect cq_dsl_dialect_pg;
extern const struct cq_dsl_dialect cq_dsl_dialect_ch;
extern const struct cq_dsl_dialect cq_dsl_dialect_trino;
extern const struct cq_dsl_dialect cq_dsl_dialect_sqlite;

const struct cq_dsl_dialect *cq_dsl_dialect_get(enum cq_dialect d);

/* Standard SQL quoting (dialect_pg.c; PostgreSQL, Trino and SQLite share it):
 * "x" with " doubled, 'x' with ' doubled. */
void cq_dsl_quote_dq(struct cq_dsl_sb *b, const char *s, size_t len);
void cq_dsl_quote_sq(struct cq_dsl_sb *b, const char *s, size_t len);
/* The positional placeholder ? (dialect_pg.c; Trino and SQLite). */
void cq_dsl_placeholder_qmark(struct cq_dsl_gen *g, size_t n, const char *ch_type);

/* ---- helpers the dialects print with (sqlgen.c) ---- */

extern const struct cq_dsl_val cq_dsl_null_val;
/* Member `key` of an object value, or cq_dsl_null_val. */
const struct cq_dsl_val *cq_dsl_val_get(const struct cq_dsl_val *v, const char *key);
/* A whole number (into *n): any integer, or a non-negative integral real below 9.2e18. */
bool cq_dsl_val_whole(const struct cq_dsl_val *v, int64_t *n);
void cq_dsl_gen_ident(struct cq_dsl_gen *g, const char *s);
/* "alias"."phys" */
void cq_dsl_gen_col(struct cq_dsl_gen *g, const struct cq_dsl_gtab *tab,
                    const struct cq_dsl_column *c);
/* Records a parameter and prints its placeholder. */
void cq_dsl_gen_param(struct cq_dsl_gen *g, const struct cq_dsl_val *v, enum cq_dsl_type t,
                      bool array, const char *ch_type);
/* The value with LIKE wildcards (% _ \) escaped by a backslash, '%' added before/after. */
const struct cq_dsl_val *cq_dsl_gen_like_val(struct cq_dsl_gen *g, const struct cq_dsl_val *v,
                                             bool pre, bool post);
/* A string value made in the arena with room for cap bytes at *buf (NULL on ENOMEM, g->rc
 * set); the caller writes the text, its NUL and len. */
struct cq_dsl_val *cq_dsl_gen_str_val(struct cq_dsl_gen *g, size_t cap, char **buf);
/* FN(col|*) of an aggregation. */
void cq_dsl_gen_agg_expr(struct cq_dsl_gen *g, const struct cq_dsl_agg *agg);
/* The aggregation whose alias is `alias` (NULL if none). */
const struct cq_dsl_agg *cq_dsl_gen_agg_by_alias(const struct cq_dsl_query *q,
                                                 const char *alias);

/* ---- value conditions: the pieces every dialect prints alike (sqlgen_where.c) ---- */

/* A placeholder for v typed t (the cq_dsl_value_fn of a plain parameter). */
void cq_dsl_gen_value(struct cq_dsl_gen *g, const struct cq_dsl_val *v, enum cq_dsl_type t);
/* fn, the column, rest: ("cardinality(", ") = 0"). */
void cq_dsl_gen_wrap(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, const char *fn,
                     const char *rest);
/* fn, the column, ", ", v printed by cq_dsl_gen_value, ")": has(col, {p1:String}). */
void cq_dsl_gen_call(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, const char *fn,
                     const struct cq_dsl_val *v, enum cq_dsl_type t);
/* " = ", " != ", " > " ... of a comparison operator. */
void cq_dsl_gen_cmp_op(struct cq_dsl_gen *g, enum cq_dsl_op op);
/* The elements of a list value (a non-array value is a list of one), each printed by value,
 * ", " between. */
void cq_dsl_gen_list(struct cq_dsl_gen *g, const struct cq_dsl_val *v, enum cq_dsl_type t,
                     cq_dsl_value_fn value);
/* " [NOT ]IN " and the list in the dialect's parentheses (list_open ... ")"). */
void cq_dsl_gen_in(struct cq_dsl_gen *g, bool neg, const struct cq_dsl_val *v,
                   enum cq_dsl_type t, cq_dsl_value_fn value);
/* " [NOT ]BETWEEN <from> AND <to>" after the left side, each bound printed by value. */
void cq_dsl_gen_between(struct cq_dsl_gen *g, bool neg, const struct cq_dsl_val *v,
                        enum cq_dsl_type t, cq_dsl_value_fn value);
/* " ESCAPE '\'": the backslash of cq_dsl_gen_like_val made the escape character. */
void cq_dsl_gen_escape(struct cq_dsl_gen *g);
/*
 * The forms no dialect spells its own way: col op P for the comparisons, col IS [NOT ]NULL,
 * levenshteinLte through the dialect's function, and the LIKE family taken apart for like.
 * CQ_EUNSUPPORTED for any other operator.
 */
int cq_dsl_gen_cond_std(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, cq_dsl_like_fn like);

/* ---- the generator's stages ---- */

/* Sets g up and resolves names (aliases, joins, selected columns, tablesUsed) into out. */
int cq_dsl_gen_resolve(struct cq_dsl_gen *g, const struct cq_dsl_catalog *cat,
                       const struct cq_dsl_query *q, struct cq_dsl_access *acc,
                       const struct cq_dsl_plan *plan, enum cq_dialect dialect,
                       struct cq_arena *a, struct cq_dsl_compiled *out,
                       struct cq_dsl_error *e);
/* Prints the statement (out->sql, out->params). */
int cq_dsl_gen_emit(struct cq_dsl_gen *g);
/* WHERE / ON / HAVING pieces (sqlgen_where.c). */
void cq_dsl_gen_where(struct cq_dsl_gen *g);
void cq_dsl_gen_join_rls(struct cq_dsl_gen *g, const struct cq_dsl_gtab *tab);
void cq_dsl_gen_having(struct cq_dsl_gen *g);
/* Finds the table an apiName names among t0 and the joins (NULL if none). */
const struct cq_dsl_gtab *cq_dsl_gen_tab(const struct cq_dsl_gen *g, const char *api);
/* Fills tab for table t read as the plan says (phys, db, access); no alias yet. */
void cq_dsl_gen_tab_init(struct cq_dsl_gen *g, struct cq_dsl_gtab *tab,
                         const struct cq_dsl_table *t);
/* Gives tab the next alias of the counter: kind 't' (t0, t1...) or 's' (EXISTS). */
void cq_dsl_gen_alias(struct cq_dsl_gen *g, struct cq_dsl_gtab *tab, char kind);
/* The relation between table r and table j in either direction, r's side first:
 * r.lc = j.rc (spec §8.3, §8.4). */
bool cq_dsl_gen_relate(const struct cq_dsl_table *r, const struct cq_dsl_table *j,
                       const struct cq_dsl_column **lc, const struct cq_dsl_column **rc);
/* Prints the FROM/JOIN name of a table: ["catalog".]"schema"."name". */
void cq_dsl_gen_table_name(struct cq_dsl_gen *g, const struct cq_dsl_gtab *tab);
/* Fails the compile with one ValidationError entry (an inconsistency validation should have
 * caught: generation never guesses). */
void cq_dsl_gen_fail(struct cq_dsl_gen *g, const char *code, const char *message,
                     json_t *details);

/* Involved tables of spec §7 (plan.c): from; per join its table and its filters' EXISTS
 * tables; then the top-level EXISTS tables; de-duplicated. *out in a. */
int cq_dsl_plan_involved(const struct cq_dsl_catalog *cat, const struct cq_dsl_query *q,
                         struct cq_arena *a, const struct cq_dsl_table ***out, size_t *n);

#endif
