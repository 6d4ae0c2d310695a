/*
 * dialect_ch.c - ClickHouse (spec §9): `x` identifiers, typed placeholders {pN:Type} bound
 * as HTTP query parameters, one placeholder per list element (IN tuple(...), hasAll([...])),
 * ilike(), startsWith()/endsWith(), editDistance(), has/hasAll/hasAny/empty/notEmpty.
 *
 * Decimals bind as Decimal(38, 10) (spec §0.12): ClickHouse needs a precision and scale to
 * parse a parameter, and 38/10 holds 28 integer and 10 fractional digits, more than a JSON
 * number carries exactly. HAVING compares the select alias, which ClickHouse resolves.
 */
#include <string.h>

#include "dsl/internal.h"

/* Inside `...` and '...' ClickHouse treats a backslash as an escape, so it is doubled too. */
static void quote(struct cq_dsl_sb *b, const char *s, size_t len, char q)
{
    char *w = cq_dsl_sb_reserve(b, len * 2 + 2);
    size_t k = 0;

    if (w == NULL) {
        return;
    }
    w[k++] = q;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == q) {
            w[k++] = q == '`' ? '`' : '\\';
        } else if (s[i] == '\\') {
            w[k++] = '\\';
        }
        w[k++] = s[i];
    }
    w[k++] = q;
    cq_dsl_sb_commit(b, k);
}

static void quote_ident(struct cq_dsl_sb *b, const char *s, size_t len)
{
    if (memchr(s, '`', len) == NULL && memchr(s, '\\', len) == NULL) {
        char *w = cq_dsl_sb_reserve(b, len + 2);
        if (w != NULL) {
            w[0] = '`';
            memcpy(w + 1, s, len);
            w[len + 1] = '`';
            cq_dsl_sb_commit(b, len + 2);
        }
        return;
    }
    quote(b, s, len, '`');
}

static void quote_lit(struct cq_dsl_sb *b, const char *s, size_t len)
{
    quote(b, s, len, '\'');
}

static void placeholder(struct cq_dsl_gen *g, size_t n, const char *ch_type)
{
    CQ_DSL_LIT(&g->sb, "{p");
    cq_dsl_sb_i64(&g->sb, (int64_t)n);
    cq_dsl_sb_putc(&g->sb, ':');
    cq_dsl_sb_puts(&g->sb, ch_type != NULL ? ch_type : "String");
    cq_dsl_sb_putc(&g->sb, '}');
}

static const char *const ch_types[] = {
    [CQ_DSL_T_STRING] = "String", [CQ_DSL_T_INT] = "Int32",
    [CQ_DSL_T_DECIMAL] = "Decimal(38, 10)", [CQ_DSL_T_BOOLEAN] = "Bool",
    [CQ_DSL_T_UUID] = "UUID", [CQ_DSL_T_DATE] = "Date", [CQ_DSL_T_TIMESTAMP] = "DateTime",
};

static void param(struct cq_dsl_gen *g, const struct cq_dsl_val *v, enum cq_dsl_type t)
{
    cq_dsl_gen_param(g, v, t, false, ch_types[t]);
}

static void string_param(struct cq_dsl_gen *g, const struct cq_dsl_val *v)
{
    cq_dsl_gen_param(g, v, CQ_DSL_T_STRING, false, "String");
}

/* One placeholder per element: "{p1:T}, {p2:T}" (a non-array value is a list of one). */
static void elements(struct cq_dsl_gen *g, const struct cq_dsl_val *v, enum cq_dsl_type t)
{
    const struct cq_dsl_val *items = v->kind == CQ_DSL_V_ARRAY ? v->items : v;
    size_t n = v->kind == CQ_DSL_V_ARRAY ? v->n : 1;

    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            CQ_DSL_LIT(&g->sb, ", ");
        }
        param(g, &items[i], t);
    }
}

static void col(struct cq_dsl_gen *g, const struct cq_dsl_cond *c)
{
    cq_dsl_gen_col(g, c->tab, c->col);
}

/* fn(col, <value>) */
static void fn2(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, const char *fn,
                const struct cq_dsl_val *v)
{
    cq_dsl_sb_puts(&g->sb, fn);
    col(g, c);
    CQ_DSL_LIT(&g->sb, ", ");
    string_param(g, v);
    cq_dsl_sb_putc(&g->sb, ')');
}

static void like(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, const char *word,
                 const struct cq_dsl_val *v)
{
    col(g, c);
    cq_dsl_sb_puts(&g->sb, word);
    string_param(g, v);
}

static void bound(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, const char *key)
{
    const struct cq_dsl_val *v = cq_dsl_val_get(c->value, key);

    if (c->col->type == CQ_DSL_T_TIMESTAMP) {
        /* DateTime parameters take only 'YYYY-MM-DD hh:mm:ss'; ISO-8601 needs this */
        CQ_DSL_LIT(&g->sb, "parseDateTimeBestEffort(");
        cq_dsl_gen_param(g, v, CQ_DSL_T_TIMESTAMP, false, "String");
        cq_dsl_sb_putc(&g->sb, ')');
        return;
    }
    param(g, v, c->col->type);
}

static void between(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, bool neg)
{
    if (neg) {
        CQ_DSL_LIT(&g->sb, "NOT (");
    }
    col(g, c);
    CQ_DSL_LIT(&g->sb, " BETWEEN ");
    bound(g, c, "from");
    CQ_DSL_LIT(&g->sb, " AND ");
    bound(g, c, "to");
    if (neg) {
        cq_dsl_sb_putc(&g->sb, ')');
    }
}

static void wrap(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, const char *fn,
                 const char *rest)
{
    cq_dsl_sb_puts(&g->sb, fn);
    col(g, c);
    cq_dsl_sb_puts(&g->sb, rest);
}

/* The LIKE family (like, ilike, contains, startsWith, endsWith and their variants). */
static int patterns(struct cq_dsl_gen *g, const struct cq_dsl_cond *c)
{
    const struct cq_dsl_val *v = c->value;

    switch (c->op) {
    case CQ_DSL_OP_LIKE:
        like(g, c, " LIKE ", v);
        return CQ_OK;
    case CQ_DSL_OP_NOT_LIKE:
        like(g, c, " NOT LIKE ", v);
        return CQ_OK;
    case CQ_DSL_OP_ILIKE:
        fn2(g, c, "ilike(", v);
        return CQ_OK;
    case CQ_DSL_OP_NOT_ILIKE:
        fn2(g, c, "NOT ilike(", v);
        return CQ_OK;
    case CQ_DSL_OP_CONTAINS:
        like(g, c, " LIKE ", cq_dsl_gen_like_val(g, v, true, true));
        return CQ_OK;
    case CQ_DSL_OP_NOT_CONTAINS:
        like(g, c, " NOT LIKE ", cq_dsl_gen_like_val(g, v, true, true));
        return CQ_OK;
    case CQ_DSL_OP_ICONTAINS:
        fn2(g, c, "ilike(", cq_dsl_gen_like_val(g, v, true, true));
        return CQ_OK;
    case CQ_DSL_OP_NOT_ICONTAINS:
        fn2(g, c, "NOT ilike(", cq_dsl_gen_like_val(g, v, true, true));
        return CQ_OK;
    case CQ_DSL_OP_STARTS_WITH:
        fn2(g, c, "startsWith(", v); /* a plain prefix test: nothing to escape */
        return CQ_OK;
    case CQ_DSL_OP_ENDS_WITH:
        fn2(g, c, "endsWith(", v);
        return CQ_OK;
    case CQ_DSL_OP_ISTARTS_WITH:
        fn2(g, c, "ilike(", cq_dsl_gen_like_val(g, v, false, true));
        return CQ_OK;
    case CQ_DSL_OP_IENDS_WITH:
        fn2(g, c, "ilike(", cq_dsl_gen_like_val(g, v, true, false));
        return CQ_OK;
    default:
        break;
    }
    return CQ_EUNSUPPORTED;
}

static int cond(struct cq_dsl_gen *g, const struct cq_dsl_cond *c)
{
    const struct cq_dsl_val *v = c->value;
    enum cq_dsl_type t = c->col->type;

    switch (c->op) {
    case CQ_DSL_OP_EQ:
    case CQ_DSL_OP_NE:
    case CQ_DSL_OP_GT:
    case CQ_DSL_OP_LT:
    case CQ_DSL_OP_GE:
    case CQ_DSL_OP_LE:
        col(g, c);
        cq_dsl_sb_putc(&g->sb, ' ');
        cq_dsl_sb_puts(&g->sb, cq_dsl_gen_cmp(c->op));
        cq_dsl_sb_putc(&g->sb, ' ');
        param(g, v, t);
        return CQ_OK;
    case CQ_DSL_OP_IN:
    case CQ_DSL_OP_NOT_IN:
        col(g, c);
        if (c->op == CQ_DSL_OP_IN) {
            CQ_DSL_LIT(&g->sb, " IN tuple(");
        } else {
            CQ_DSL_LIT(&g->sb, " NOT IN tuple(");
        }
        elements(g, v, t);
        cq_dsl_sb_putc(&g->sb, ')');
        return CQ_OK;
    case CQ_DSL_OP_BETWEEN:
    case CQ_DSL_OP_NOT_BETWEEN:
        between(g, c, c->op == CQ_DSL_OP_NOT_BETWEEN);
        return CQ_OK;
    case CQ_DSL_OP_IS_NULL:
        wrap(g, c, "", " IS NULL");
        return CQ_OK;
    case CQ_DSL_OP_IS_NOT_NULL:
        wrap(g, c, "", " IS NOT NULL");
        return CQ_OK;
    case CQ_DSL_OP_LEVENSHTEIN_LTE:
        fn2(g, c, "editDistance(", cq_dsl_val_get(v, "text"));
        CQ_DSL_LIT(&g->sb, " <= ");
        cq_dsl_gen_param(g, cq_dsl_val_get(v, "maxDistance"), CQ_DSL_T_INT, false, "UInt32");
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_CONTAINS:
        wrap(g, c, "has(", ", ");
        param(g, v, t);
        cq_dsl_sb_putc(&g->sb, ')');
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_CONTAINS_ALL:
    case CQ_DSL_OP_ARRAY_CONTAINS_ANY:
        wrap(g, c, c->op == CQ_DSL_OP_ARRAY_CONTAINS_ALL ? "hasAll(" : "hasAny(", ", [");
        elements(g, v, t);
        CQ_DSL_LIT(&g->sb, "])");
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_IS_EMPTY:
        wrap(g, c, "empty(", ")");
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_IS_NOT_EMPTY:
        wrap(g, c, "notEmpty(", ")");
        return CQ_OK;
    default:
        break;
    }
    return patterns(g, c);
}

/* HAVING values are untyped: the placeholder type follows the JSON value (spec §9). */
static void having_param(struct cq_dsl_gen *g, const struct cq_dsl_val *v)
{
    switch (v->kind) {
    case CQ_DSL_V_INT:
        cq_dsl_gen_param(g, v, CQ_DSL_T_INT, false,
                         v->i >= INT32_MIN && v->i <= INT32_MAX ? "Int32" : "Int64");
        return;
    case CQ_DSL_V_REAL:
        cq_dsl_gen_param(g, v, CQ_DSL_T_DECIMAL, false, "Float64");
        return;
    case CQ_DSL_V_BOOL:
        cq_dsl_gen_param(g, v, CQ_DSL_T_BOOLEAN, false, "Bool");
        return;
    case CQ_DSL_V_ARRAY:
        cq_dsl_gen_param(g, v, CQ_DSL_T_STRING, true, "Array(String)");
        return;
    default:
        break;
    }
    cq_dsl_gen_param(g, v, CQ_DSL_T_STRING, false, "String");
}

static int having(struct cq_dsl_gen *g, const struct cq_dsl_agg *agg, enum cq_dsl_op op,
                  const struct cq_dsl_val *v)
{
    const char *cmp = cq_dsl_gen_cmp(op);

    switch (op) {
    case CQ_DSL_OP_IN:
    case CQ_DSL_OP_NOT_IN: {
        const struct cq_dsl_val *items = v->kind == CQ_DSL_V_ARRAY ? v->items : v;
        size_t n = v->kind == CQ_DSL_V_ARRAY ? v->n : 1;
        if (n == 0) {
            if (op == CQ_DSL_OP_IN) {
                CQ_DSL_LIT(&g->sb, "1 = 0");
            } else {
                CQ_DSL_LIT(&g->sb, "1 = 1");
            }
            return CQ_OK;
        }
        cq_dsl_gen_ident(g, agg->alias);
        if (op == CQ_DSL_OP_IN) {
            CQ_DSL_LIT(&g->sb, " IN tuple(");
        } else {
            CQ_DSL_LIT(&g->sb, " NOT IN tuple(");
        }
        for (size_t i = 0; i < n; i++) {
            if (i > 0) {
                CQ_DSL_LIT(&g->sb, ", ");
            }
            having_param(g, &items[i]);
        }
        cq_dsl_sb_putc(&g->sb, ')');
        return CQ_OK;
    }
    case CQ_DSL_OP_BETWEEN:
    case CQ_DSL_OP_NOT_BETWEEN:
        if (op == CQ_DSL_OP_NOT_BETWEEN) {
            CQ_DSL_LIT(&g->sb, "NOT (");
        }
        cq_dsl_gen_ident(g, agg->alias);
        CQ_DSL_LIT(&g->sb, " BETWEEN ");
        having_param(g, cq_dsl_val_get(v, "from"));
        CQ_DSL_LIT(&g->sb, " AND ");
        having_param(g, cq_dsl_val_get(v, "to"));
        if (op == CQ_DSL_OP_NOT_BETWEEN) {
            cq_dsl_sb_putc(&g->sb, ')');
        }
        return CQ_OK;
    case CQ_DSL_OP_IS_NULL:
    case CQ_DSL_OP_IS_NOT_NULL:
        cq_dsl_gen_ident(g, agg->alias);
        if (op == CQ_DSL_OP_IS_NULL) {
            CQ_DSL_LIT(&g->sb, " IS NULL");
        } else {
            CQ_DSL_LIT(&g->sb, " IS NOT NULL");
        }
        return CQ_OK;
    default:
        break;
    }
    if (cmp == NULL) {
        return CQ_EUNSUPPORTED;
    }
    cq_dsl_gen_ident(g, agg->alias);
    cq_dsl_sb_putc(&g->sb, ' ');
    cq_dsl_sb_puts(&g->sb, cmp);
    cq_dsl_sb_putc(&g->sb, ' ');
    having_param(g, v);
    return CQ_OK;
}

const struct cq_dsl_dialect cq_dsl_dialect_ch = {
    .id = CQ_DIALECT_CH,
    .name = "clickhouse",
    .counted_rewrite = true,
    .quote_ident = quote_ident,
    .quote_lit = quote_lit,
    .placeholder = placeholder,
    .cond = cond,
    .having = having,
};
