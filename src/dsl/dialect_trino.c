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

static void bound(struct cq_dsl_gen *g, const struct cq_dsl_val *v, enum cq_dsl_type t)
{
    if (t == CQ_DSL_T_TIMESTAMP) {
        CQ_DSL_LIT(&g->sb, "CAST(");
        cq_dsl_gen_value(g, v, t);
        CQ_DSL_LIT(&g->sb, " AS TIMESTAMP)");
        return;
    }
    cq_dsl_gen_value(g, v, t);
}

/* col [NOT ]LIKE ? and lower(col) LIKE lower(?), negated as NOT (...); text to find is escaped
 * (LIKE ... ESCAPE '\') */
static void like(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, const struct cq_dsl_like *k)
{
    const struct cq_dsl_val *v = k->text ? cq_dsl_gen_like_val(g, c->value, k->pre, k->post)
                                         : c->value;

    if (k->ci) {
        if (k->neg) {
            CQ_DSL_LIT(&g->sb, "NOT (");
        }
        cq_dsl_gen_wrap(g, c, "lower(", ") LIKE lower(");
        cq_dsl_gen_value(g, v, CQ_DSL_T_STRING);
        cq_dsl_sb_putc(&g->sb, ')');
    } else {
        cq_dsl_gen_col(g, c->tab, c->col);
        cq_dsl_sb_puts(&g->sb, k->neg ? " NOT LIKE " : " LIKE ");
        cq_dsl_gen_value(g, v, CQ_DSL_T_STRING);
    }
    if (k->text) {
        cq_dsl_gen_escape(g);
    }
    if (k->ci && k->neg) {
        cq_dsl_sb_putc(&g->sb, ')');
    }
}

static int cond(struct cq_dsl_gen *g, const struct cq_dsl_cond *c)
{
    const struct cq_dsl_val *v = c->value;
    enum cq_dsl_type t = c->col->type;

    switch (c->op) {
    case CQ_DSL_OP_IN:
    case CQ_DSL_OP_NOT_IN:
        cq_dsl_gen_col(g, c->tab, c->col);
        cq_dsl_gen_in(g, c->op == CQ_DSL_OP_NOT_IN, v, t, cq_dsl_gen_value);
        return CQ_OK;
    case CQ_DSL_OP_BETWEEN:
    case CQ_DSL_OP_NOT_BETWEEN:
        cq_dsl_gen_col(g, c->tab, c->col);
        cq_dsl_gen_between(g, c->op == CQ_DSL_OP_NOT_BETWEEN, v, t, bound);
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_CONTAINS:
        cq_dsl_gen_call(g, c, "contains(", v, t);
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_CONTAINS_ALL:
        CQ_DSL_LIT(&g->sb, "cardinality(array_except(ARRAY[");
        cq_dsl_gen_list(g, v, t, cq_dsl_gen_value);
        cq_dsl_gen_wrap(g, c, "], ", ")) = 0");
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_CONTAINS_ANY:
        cq_dsl_gen_wrap(g, c, "arrays_overlap(", ", ARRAY[");
        cq_dsl_gen_list(g, v, t, cq_dsl_gen_value);
        CQ_DSL_LIT(&g->sb, "])");
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_IS_EMPTY:
        cq_dsl_gen_wrap(g, c, "cardinality(", ") = 0");
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_IS_NOT_EMPTY:
        cq_dsl_gen_wrap(g, c, "cardinality(", ") > 0");
        return CQ_OK;
    default:
        break;
    }
    return cq_dsl_gen_cond_std(g, c, like);
}

const struct cq_dsl_dialect cq_dsl_dialect_trino = {
    .id = CQ_DIALECT_TRINO,
    .name = "trino",
    .counted_rewrite = true,
    .list_open = "(",
    .levenshtein = "levenshtein_distance(",
    .quote_ident = cq_dsl_quote_dq,
    .quote_lit = cq_dsl_quote_sq,
    .placeholder = cq_dsl_placeholder_qmark,
    .cond = cond,
};
