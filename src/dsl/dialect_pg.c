/*
 * dialect_pg.c - PostgreSQL (spec §9): "x" identifiers, $n placeholders, arrays bound as
 * one parameter with an explicit cast ($1::integer[]), ILIKE, levenshtein (the
 * fuzzystrmatch extension), array operators @> && ANY and cardinality().
 *
 * Also home of the standard SQL quoting that Trino and SQLite share.
 */
#include <string.h>

#include "dsl/internal.h"

static void quote(struct cq_dsl_sb *b, const char *s, size_t len, char q)
{
    const char *hit = memchr(s, q, len);
    char *w = cq_dsl_sb_reserve(b, (hit == NULL ? len : len * 2) + 2);
    size_t k = 0;

    if (w == NULL) {
        return;
    }
    w[k++] = q;
    if (hit == NULL) {
        memcpy(w + k, s, len);
        k += len;
    } else {
        for (size_t i = 0; i < len; i++) {
            if (s[i] == q) {
                w[k++] = q;
            }
            w[k++] = s[i];
        }
    }
    w[k++] = q;
    cq_dsl_sb_commit(b, k);
}

void cq_dsl_quote_dq(struct cq_dsl_sb *b, const char *s, size_t len)
{
    quote(b, s, len, '"');
}

void cq_dsl_quote_sq(struct cq_dsl_sb *b, const char *s, size_t len)
{
    quote(b, s, len, '\'');
}

static void placeholder(struct cq_dsl_gen *g, size_t n, const char *ch_type)
{
    (void)ch_type;
    cq_dsl_sb_putc(&g->sb, '$');
    cq_dsl_sb_i64(&g->sb, (int64_t)n);
}

static const char *const scalar_cast[] = {
    [CQ_DSL_T_STRING] = "text",   [CQ_DSL_T_INT] = "integer", [CQ_DSL_T_DECIMAL] = "numeric",
    [CQ_DSL_T_BOOLEAN] = "bool",  [CQ_DSL_T_UUID] = "uuid",   [CQ_DSL_T_DATE] = "date",
    [CQ_DSL_T_TIMESTAMP] = "timestamp",
};

static const char *const array_cast[] = {
    [CQ_DSL_T_STRING] = "text[]",  [CQ_DSL_T_INT] = "integer[]", [CQ_DSL_T_DECIMAL] = "numeric[]",
    [CQ_DSL_T_BOOLEAN] = "bool[]", [CQ_DSL_T_UUID] = "uuid[]",   [CQ_DSL_T_DATE] = "date[]",
    [CQ_DSL_T_TIMESTAMP] = "timestamp[]",
};

/* col <word> $n */
static void binary(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, const char *word,
                   const struct cq_dsl_val *v, enum cq_dsl_type t)
{
    cq_dsl_gen_col(g, c->tab, c->col);
    cq_dsl_sb_puts(&g->sb, word);
    cq_dsl_gen_param(g, v, t, false, NULL);
}

/* col <word> ($n::T[]) - one array parameter */
static void array_param(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, const char *word,
                        const char *close)
{
    cq_dsl_gen_col(g, c->tab, c->col);
    cq_dsl_sb_puts(&g->sb, word);
    cq_dsl_gen_param(g, c->value, c->col->type, true, NULL);
    CQ_DSL_LIT(&g->sb, "::");
    cq_dsl_sb_puts(&g->sb, array_cast[c->col->type]);
    cq_dsl_sb_puts(&g->sb, close);
}

static void pattern(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, const char *word,
                    bool pre, bool post)
{
    binary(g, c, word, cq_dsl_gen_like_val(g, c->value, pre, post), CQ_DSL_T_STRING);
}

static void between(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, bool neg)
{
    enum cq_dsl_type t = c->col->type;

    cq_dsl_gen_col(g, c->tab, c->col);
    if (neg) {
        CQ_DSL_LIT(&g->sb, " NOT BETWEEN ");
    } else {
        CQ_DSL_LIT(&g->sb, " BETWEEN ");
    }
    cq_dsl_gen_param(g, cq_dsl_val_get(c->value, "from"), t, false, NULL);
    CQ_DSL_LIT(&g->sb, " AND ");
    cq_dsl_gen_param(g, cq_dsl_val_get(c->value, "to"), t, false, NULL);
}

static void func_cmp(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, const char *fn,
                     const char *rest)
{
    cq_dsl_sb_puts(&g->sb, fn);
    cq_dsl_gen_col(g, c->tab, c->col);
    cq_dsl_sb_puts(&g->sb, rest);
}

/* The LIKE family (like, ilike, contains, startsWith, endsWith and their variants). */
static int patterns(struct cq_dsl_gen *g, const struct cq_dsl_cond *c)
{
    const struct cq_dsl_val *v = c->value;

    switch (c->op) {
    case CQ_DSL_OP_LIKE:
        binary(g, c, " LIKE ", v, CQ_DSL_T_STRING);
        return CQ_OK;
    case CQ_DSL_OP_NOT_LIKE:
        binary(g, c, " NOT LIKE ", v, CQ_DSL_T_STRING);
        return CQ_OK;
    case CQ_DSL_OP_ILIKE:
        binary(g, c, " ILIKE ", v, CQ_DSL_T_STRING);
        return CQ_OK;
    case CQ_DSL_OP_NOT_ILIKE:
        binary(g, c, " NOT ILIKE ", v, CQ_DSL_T_STRING);
        return CQ_OK;
    case CQ_DSL_OP_CONTAINS:
        pattern(g, c, " LIKE ", true, true);
        return CQ_OK;
    case CQ_DSL_OP_NOT_CONTAINS:
        pattern(g, c, " NOT LIKE ", true, true);
        return CQ_OK;
    case CQ_DSL_OP_ICONTAINS:
        pattern(g, c, " ILIKE ", true, true);
        return CQ_OK;
    case CQ_DSL_OP_NOT_ICONTAINS:
        pattern(g, c, " NOT ILIKE ", true, true);
        return CQ_OK;
    case CQ_DSL_OP_STARTS_WITH:
        pattern(g, c, " LIKE ", false, true);
        return CQ_OK;
    case CQ_DSL_OP_ISTARTS_WITH:
        pattern(g, c, " ILIKE ", false, true);
        return CQ_OK;
    case CQ_DSL_OP_ENDS_WITH:
        pattern(g, c, " LIKE ", true, false);
        return CQ_OK;
    case CQ_DSL_OP_IENDS_WITH:
        pattern(g, c, " ILIKE ", true, false);
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
        cq_dsl_gen_col(g, c->tab, c->col);
        cq_dsl_sb_putc(&g->sb, ' ');
        cq_dsl_sb_puts(&g->sb, cq_dsl_gen_cmp(c->op));
        cq_dsl_sb_putc(&g->sb, ' ');
        cq_dsl_gen_param(g, v, t, false, NULL);
        return CQ_OK;
    case CQ_DSL_OP_IN:
        array_param(g, c, " = ANY(", ")");
        return CQ_OK;
    case CQ_DSL_OP_NOT_IN:
        array_param(g, c, " <> ALL(", ")");
        return CQ_OK;
    case CQ_DSL_OP_BETWEEN:
    case CQ_DSL_OP_NOT_BETWEEN:
        between(g, c, c->op == CQ_DSL_OP_NOT_BETWEEN);
        return CQ_OK;
    case CQ_DSL_OP_IS_NULL:
        cq_dsl_gen_col(g, c->tab, c->col);
        CQ_DSL_LIT(&g->sb, " IS NULL");
        return CQ_OK;
    case CQ_DSL_OP_IS_NOT_NULL:
        cq_dsl_gen_col(g, c->tab, c->col);
        CQ_DSL_LIT(&g->sb, " IS NOT NULL");
        return CQ_OK;
    case CQ_DSL_OP_LEVENSHTEIN_LTE:
        func_cmp(g, c, "levenshtein(", ", ");
        cq_dsl_gen_param(g, cq_dsl_val_get(v, "text"), CQ_DSL_T_STRING, false, NULL);
        CQ_DSL_LIT(&g->sb, ") <= ");
        cq_dsl_gen_param(g, cq_dsl_val_get(v, "maxDistance"), CQ_DSL_T_INT, false, NULL);
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_CONTAINS:
        cq_dsl_gen_param(g, v, t, false, NULL);
        CQ_DSL_LIT(&g->sb, "::");
        cq_dsl_sb_puts(&g->sb, scalar_cast[t]);
        func_cmp(g, c, " = ANY(", ")");
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_CONTAINS_ALL:
        array_param(g, c, " @> ", "");
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_CONTAINS_ANY:
        array_param(g, c, " && ", "");
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_IS_EMPTY:
        func_cmp(g, c, "cardinality(", ") = 0");
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_IS_NOT_EMPTY:
        func_cmp(g, c, "cardinality(", ") > 0");
        return CQ_OK;
    default:
        break;
    }
    return patterns(g, c);
}

/* PostgreSQL has no min/max for boolean or uuid: bool_and/bool_or are the same aggregates for
 * booleans, and uuids order exactly like their lower-case text. */
static bool agg(struct cq_dsl_gen *g, enum cq_dsl_aggfn fn, const struct cq_dsl_gtab *tab,
                const struct cq_dsl_column *c)
{
    if ((fn != CQ_DSL_AGG_MIN && fn != CQ_DSL_AGG_MAX) || c->array) {
        return false;
    }
    if (c->type == CQ_DSL_T_BOOLEAN) {
        cq_dsl_sb_puts(&g->sb, fn == CQ_DSL_AGG_MIN ? "BOOL_AND(" : "BOOL_OR(");
        cq_dsl_gen_col(g, tab, c);
        cq_dsl_sb_putc(&g->sb, ')');
        return true;
    }
    if (c->type == CQ_DSL_T_UUID) {
        cq_dsl_sb_puts(&g->sb, fn == CQ_DSL_AGG_MIN ? "MIN(" : "MAX(");
        cq_dsl_gen_col(g, tab, c);
        CQ_DSL_LIT(&g->sb, "::text)::uuid");
        return true;
    }
    return false;
}

const struct cq_dsl_dialect cq_dsl_dialect_pg = {
    .id = CQ_DIALECT_PG,
    .name = "postgres",
    .counted_rewrite = false,
    .quote_ident = cq_dsl_quote_dq,
    .quote_lit = cq_dsl_quote_sq,
    .placeholder = placeholder,
    .cond = cond,
    .agg = agg,
    .having = cq_dsl_gen_having_std,
};
