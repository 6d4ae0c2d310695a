/*
 * dialect_trino.c - Trino (spec §9): "x" identifiers (catalog-qualified table names),
 * positional ? placeholders with one per list element, lower() for case-insensitive
 * matching, LIKE ... ESCAPE '\' for escaped patterns, levenshtein_distance(), contains /
 * array_except / arrays_overlap / cardinality for arrays.
 *
 * A placeholder's parameter carries the column type (struct cq_dsl_param.type) so the
 * binder can send typed values (DATE '...', TIMESTAMP '...', UUID '...'): Trino compares a
 * varchar with none of those. HAVING uses the aggregate expression (Trino does not resolve
 * select aliases in HAVING; the reference's "alias" > ? fails there).
 */
#include <string.h>

#include "dsl/internal.h"

static void placeholder(struct cq_dsl_gen *g, size_t n, const char *ch_type)
{
    (void)n;
    (void)ch_type;
    cq_dsl_sb_putc(&g->sb, '?');
}

static void col(struct cq_dsl_gen *g, const struct cq_dsl_cond *c)
{
    cq_dsl_gen_col(g, c->tab, c->col);
}

static void param(struct cq_dsl_gen *g, const struct cq_dsl_val *v, enum cq_dsl_type t)
{
    cq_dsl_gen_param(g, v, t, false, NULL);
}

static void escape_clause(struct cq_dsl_gen *g)
{
    CQ_DSL_LIT(&g->sb, " ESCAPE ");
    cq_dsl_quote_sq(&g->sb, "\\", 1);
}

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

/* col [NOT ]LIKE ? [ESCAPE '\'] */
static void like(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, bool neg,
                 const struct cq_dsl_val *v, bool escaped)
{
    col(g, c);
    if (neg) {
        CQ_DSL_LIT(&g->sb, " NOT LIKE ");
    } else {
        CQ_DSL_LIT(&g->sb, " LIKE ");
    }
    param(g, v, CQ_DSL_T_STRING);
    if (escaped) {
        escape_clause(g);
    }
}

/* lower(col) LIKE lower(?) [ESCAPE '\'], negated as NOT (...) */
static void ilike(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, bool neg,
                  const struct cq_dsl_val *v, bool escaped)
{
    if (neg) {
        CQ_DSL_LIT(&g->sb, "NOT (");
    }
    CQ_DSL_LIT(&g->sb, "lower(");
    col(g, c);
    CQ_DSL_LIT(&g->sb, ") LIKE lower(");
    param(g, v, CQ_DSL_T_STRING);
    cq_dsl_sb_putc(&g->sb, ')');
    if (escaped) {
        escape_clause(g);
    }
    if (neg) {
        cq_dsl_sb_putc(&g->sb, ')');
    }
}

static void bound(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, const char *key)
{
    const struct cq_dsl_val *v = cq_dsl_val_get(c->value, key);

    if (c->col->type == CQ_DSL_T_TIMESTAMP) {
        CQ_DSL_LIT(&g->sb, "CAST(");
        param(g, v, CQ_DSL_T_TIMESTAMP);
        CQ_DSL_LIT(&g->sb, " AS TIMESTAMP)");
        return;
    }
    param(g, v, c->col->type);
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
    case CQ_DSL_OP_NOT_LIKE:
        like(g, c, c->op == CQ_DSL_OP_NOT_LIKE, v, false);
        return CQ_OK;
    case CQ_DSL_OP_ILIKE:
    case CQ_DSL_OP_NOT_ILIKE:
        ilike(g, c, c->op == CQ_DSL_OP_NOT_ILIKE, v, false);
        return CQ_OK;
    case CQ_DSL_OP_CONTAINS:
    case CQ_DSL_OP_NOT_CONTAINS:
        like(g, c, c->op == CQ_DSL_OP_NOT_CONTAINS, cq_dsl_gen_like_val(g, v, true, true), true);
        return CQ_OK;
    case CQ_DSL_OP_ICONTAINS:
    case CQ_DSL_OP_NOT_ICONTAINS:
        ilike(g, c, c->op == CQ_DSL_OP_NOT_ICONTAINS, cq_dsl_gen_like_val(g, v, true, true),
              true);
        return CQ_OK;
    case CQ_DSL_OP_STARTS_WITH:
        like(g, c, false, cq_dsl_gen_like_val(g, v, false, true), true);
        return CQ_OK;
    case CQ_DSL_OP_ENDS_WITH:
        like(g, c, false, cq_dsl_gen_like_val(g, v, true, false), true);
        return CQ_OK;
    case CQ_DSL_OP_ISTARTS_WITH:
        ilike(g, c, false, cq_dsl_gen_like_val(g, v, false, true), true);
        return CQ_OK;
    case CQ_DSL_OP_IENDS_WITH:
        ilike(g, c, false, cq_dsl_gen_like_val(g, v, true, false), true);
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
            CQ_DSL_LIT(&g->sb, " IN (");
        } else {
            CQ_DSL_LIT(&g->sb, " NOT IN (");
        }
        elements(g, v, t);
        cq_dsl_sb_putc(&g->sb, ')');
        return CQ_OK;
    case CQ_DSL_OP_BETWEEN:
    case CQ_DSL_OP_NOT_BETWEEN:
        col(g, c);
        if (c->op == CQ_DSL_OP_BETWEEN) {
            CQ_DSL_LIT(&g->sb, " BETWEEN ");
        } else {
            CQ_DSL_LIT(&g->sb, " NOT BETWEEN ");
        }
        bound(g, c, "from");
        CQ_DSL_LIT(&g->sb, " AND ");
        bound(g, c, "to");
        return CQ_OK;
    case CQ_DSL_OP_IS_NULL:
        wrap(g, c, "", " IS NULL");
        return CQ_OK;
    case CQ_DSL_OP_IS_NOT_NULL:
        wrap(g, c, "", " IS NOT NULL");
        return CQ_OK;
    case CQ_DSL_OP_LEVENSHTEIN_LTE:
        wrap(g, c, "levenshtein_distance(", ", ");
        param(g, cq_dsl_val_get(v, "text"), CQ_DSL_T_STRING);
        CQ_DSL_LIT(&g->sb, ") <= ");
        param(g, cq_dsl_val_get(v, "maxDistance"), CQ_DSL_T_INT);
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_CONTAINS:
        wrap(g, c, "contains(", ", ");
        param(g, v, t);
        cq_dsl_sb_putc(&g->sb, ')');
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_CONTAINS_ALL:
        CQ_DSL_LIT(&g->sb, "cardinality(array_except(ARRAY[");
        elements(g, v, t);
        wrap(g, c, "], ", ")) = 0");
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_CONTAINS_ANY:
        wrap(g, c, "arrays_overlap(", ", ARRAY[");
        elements(g, v, t);
        CQ_DSL_LIT(&g->sb, "])");
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_IS_EMPTY:
        wrap(g, c, "cardinality(", ") = 0");
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_IS_NOT_EMPTY:
        wrap(g, c, "cardinality(", ") > 0");
        return CQ_OK;
    default:
        break;
    }
    return patterns(g, c);
}

const struct cq_dsl_dialect cq_dsl_dialect_trino = {
    .id = CQ_DIALECT_TRINO,
    .name = "trino",
    .counted_rewrite = true,
    .quote_ident = cq_dsl_quote_dq,
    .quote_lit = cq_dsl_quote_sq,
    .placeholder = placeholder,
    .cond = cond,
    .having = cq_dsl_gen_having_std,
};
