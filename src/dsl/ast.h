/*
 * ast.h - a governed query as parsed from JSON (spec/multidb-wire.md §4), before any
 * check against the catalog.
 *
 * parse.c builds it from a jansson document; every node, string and value lives in the
 * compile's arena and stays valid until that arena is freed (the jansson document may be
 * dropped right after parsing). Strings are kept as written, including invalid operator
 * or direction names, so validation can quote them in its messages. Each node keeps the
 * JSON pointer of where it was written ("/filters/0/conditions/1"), relative to the
 * definition object, for clariq's own diagnostics.
 */
#ifndef CQ_DSL_AST_H
#define CQ_DSL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A JSON value from the request. */
enum cq_dsl_vkind {
    CQ_DSL_V_NULL = 0,
    CQ_DSL_V_BOOL,
    CQ_DSL_V_INT,     /* an integer literal that fits int64 (i, and d = (double)i) */
    CQ_DSL_V_REAL,    /* any other number (d); 1.0 is REAL but integer-valued */
    CQ_DSL_V_STRING,  /* s, len (UTF-8; may contain NUL bytes: use len) */
    CQ_DSL_V_ARRAY,   /* items[0..n) */
    CQ_DSL_V_OBJECT,  /* keys[0..n) and items[0..n) */
};

struct cq_dsl_val {
    enum cq_dsl_vkind kind;
    bool b;
    int64_t i;
    double d;
    const char *s;                 /* NUL-terminated copy */
    size_t len;
    const struct cq_dsl_val *items;
    const char *const *keys;
    size_t n;
};

/* Every operator name the spec knows, in one enum (value filters, column filters,
 * HAVING, EXISTS count). UNKNOWN keeps the raw text in the node. */
enum cq_dsl_op {
    CQ_DSL_OP_UNKNOWN = 0,
    CQ_DSL_OP_EQ, CQ_DSL_OP_NE, CQ_DSL_OP_GT, CQ_DSL_OP_LT, CQ_DSL_OP_GE, CQ_DSL_OP_LE,
    CQ_DSL_OP_BETWEEN, CQ_DSL_OP_NOT_BETWEEN,
    CQ_DSL_OP_IN, CQ_DSL_OP_NOT_IN,
    CQ_DSL_OP_LIKE, CQ_DSL_OP_NOT_LIKE, CQ_DSL_OP_ILIKE, CQ_DSL_OP_NOT_ILIKE,
    CQ_DSL_OP_CONTAINS, CQ_DSL_OP_ICONTAINS, CQ_DSL_OP_NOT_CONTAINS, CQ_DSL_OP_NOT_ICONTAINS,
    CQ_DSL_OP_STARTS_WITH, CQ_DSL_OP_ISTARTS_WITH, CQ_DSL_OP_ENDS_WITH, CQ_DSL_OP_IENDS_WITH,
    CQ_DSL_OP_LEVENSHTEIN_LTE,
    CQ_DSL_OP_IS_NULL, CQ_DSL_OP_IS_NOT_NULL,
    CQ_DSL_OP_ARRAY_CONTAINS, CQ_DSL_OP_ARRAY_CONTAINS_ALL, CQ_DSL_OP_ARRAY_CONTAINS_ANY,
    CQ_DSL_OP_ARRAY_IS_EMPTY, CQ_DSL_OP_ARRAY_IS_NOT_EMPTY,
    CQ_DSL_OP_COUNT_ /* number of operators */
};

/* Maps an operator name ("=", "notIlike", ...) to the enum; UNKNOWN if none. */
enum cq_dsl_op cq_dsl_op_parse(const char *name);
const char *cq_dsl_op_name(enum cq_dsl_op op); /* canonical spelling */

/* Filter kinds, told apart by key presence (spec §4.1). */
enum cq_dsl_fkind {
    CQ_DSL_F_GROUP = 0,  /* has logic and conditions */
    CQ_DSL_F_EXISTS,     /* has table, none of operator/logic/column */
    CQ_DSL_F_COLUMN,     /* has refColumn */
    CQ_DSL_F_VALUE,      /* everything else */
};

struct cq_dsl_filter {
    enum cq_dsl_fkind kind;
    const char *path;              /* JSON pointer of this node */
    /* group */
    const char *logic;             /* as written ("and", "or", anything else) */
    bool negate;                   /* not: true */
    struct cq_dsl_filter **conds;  /* conditions */
    size_t n_conds;
    /* exists (table also used by column/value filters as the qualifier) */
    const char *table;             /* NULL = absent */
    bool exists;                   /* default true */
    struct cq_dsl_filter **filters; /* EXISTS filters */
    size_t n_filters;
    bool has_count;
    /* column / value filters, and the EXISTS count operator */
    const char *column;
    const char *op_text;           /* operator as written; NULL = absent */
    enum cq_dsl_op op;             /* parsed op_text */
    const char *ref_column;        /* column filter */
    const char *ref_table;         /* column filter; NULL = absent */
    const struct cq_dsl_val *value; /* value, or the count value; NULL = absent */
};

struct cq_dsl_join {
    const char *path;
    const char *table;
    bool inner;                    /* type "inner"; default left */
    const char *const *columns;    /* NULL when absent */
    size_t n_columns;
    bool has_columns;
    struct cq_dsl_filter **filters;
    size_t n_filters;
};

struct cq_dsl_colref {             /* groupBy and orderBy entries */
    const char *path;
    const char *column;
    const char *table;             /* NULL = absent */
    const char *direction;         /* orderBy: as written ("asc" "desc" ...) */
    bool desc;
};

enum cq_dsl_aggfn {
    CQ_DSL_AGG_UNKNOWN = 0, CQ_DSL_AGG_COUNT, CQ_DSL_AGG_SUM, CQ_DSL_AGG_AVG, CQ_DSL_AGG_MIN,
    CQ_DSL_AGG_MAX,
};

struct cq_dsl_agg {
    const char *path;
    const char *column;            /* apiName or "*" */
    const char *table;             /* NULL = absent */
    const char *fn_text;           /* as written */
    enum cq_dsl_aggfn fn;
    const char *alias;
};

enum cq_dsl_freshness {
    CQ_DSL_FRESH_ANY = 0,          /* absent */
    CQ_DSL_FRESH_REALTIME,
    CQ_DSL_FRESH_SECONDS,
    CQ_DSL_FRESH_MINUTES,
    CQ_DSL_FRESH_HOURS,
};

enum cq_dsl_mode { CQ_DSL_MODE_EXECUTE = 0, CQ_DSL_MODE_SQL_ONLY, CQ_DSL_MODE_COUNT };

struct cq_dsl_query {
    const char *from;
    const char *const *columns;    /* NULL when absent */
    size_t n_columns;
    bool has_columns;              /* present (possibly []) */
    bool distinct;
    struct cq_dsl_filter **filters;
    size_t n_filters;
    struct cq_dsl_join *joins;
    size_t n_joins;
    struct cq_dsl_colref *group_by;
    size_t n_group_by;
    bool has_group_by;             /* present (possibly []) */
    struct cq_dsl_agg *aggs;
    size_t n_aggs;
    bool has_aggs;                 /* present (possibly []) */
    struct cq_dsl_filter **having;
    size_t n_having;
    struct cq_dsl_colref *order_by;
    size_t n_order_by;
    const struct cq_dsl_val *limit;  /* NULL = absent; any JSON (validation checks it) */
    const struct cq_dsl_val *offset;
    enum cq_dsl_freshness freshness;
    const struct cq_dsl_val *by_ids; /* NULL = absent; an ARRAY otherwise */
    enum cq_dsl_mode mode;
    bool debug;
};

/* The request's ExecutionContext (spec §3, §0.13). */
struct cq_dsl_context {
    bool has_user;                 /* roles.user present (possibly []) */
    const char *const *user;
    size_t n_user;
    bool has_service;
    const char *const *service;
    size_t n_service;
    const struct cq_dsl_val *values; /* contextValues OBJECT, or NULL */
};

#endif
