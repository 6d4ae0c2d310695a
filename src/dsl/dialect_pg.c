/*
 * dialect_pg.c - PostgreSQL (spec §9): "x" identifiers, $n placeholders, arrays bound as
 * one parameter with an explicit cast ($1::integer[]), ILIKE, levenshtein (the
 * fuzzystrmatch extension), array operators @> && ANY and cardinality().
 *
 * Also home of the standard SQL quoting and the positional ? placeholder that Trino and SQLite
 * share.
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

void cq_dsl_placeholder_qmark(struct cq_dsl_gen *g, size_t n, const char *ch_type)
{
    (void)n;
    (void)ch_type;
    cq_dsl_sb_putc(&g->sb, '?');
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

/* col [NOT ]LIKE $n, col [NOT ]ILIKE $n */
static void like(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, const struct cq_dsl_like *k)
{
    static const char *const words[2][2] = {{" LIKE ", " ILIKE "}, {" NOT LIKE ", " NOT ILIKE "}};
    const struct cq_dsl_val *v = k->text ? cq_dsl_gen_like_val(g, c->value, k->pre, k->post)
                                         : c->value;

    cq_dsl_gen_col(g, c->tab, c->col);
    cq_dsl_sb_puts(&g->sb, words[k->neg][k->ci]);
    cq_dsl_gen_value(g, v, CQ_DSL_T_STRING);
}

static int cond(struct cq_dsl_gen *g, const struct cq_dsl_cond *c)
{
    enum cq_dsl_type t = c->col->type;

    switch (c->op) {
    case CQ_DSL_OP_IN:
        array_param(g, c, " = ANY(", ")");
        return CQ_OK;
    case CQ_DSL_OP_NOT_IN:
        array_param(g, c, " <> ALL(", ")");
        return CQ_OK;
    case CQ_DSL_OP_BETWEEN:
    case CQ_DSL_OP_NOT_BETWEEN:
        cq_dsl_gen_col(g, c->tab, c->col);
        cq_dsl_gen_between(g, c->op == CQ_DSL_OP_NOT_BETWEEN, c->value, t, cq_dsl_gen_value);
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_CONTAINS:
        cq_dsl_gen_value(g, c->value, t);
        CQ_DSL_LIT(&g->sb, "::");
        cq_dsl_sb_puts(&g->sb, scalar_cast[t]);
        cq_dsl_gen_wrap(g, c, " = ANY(", ")");
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_CONTAINS_ALL:
        array_param(g, c, " @> ", "");
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_CONTAINS_ANY:
        array_param(g, c, " && ", "");
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
    .list_open = "(",
    .levenshtein = "levenshtein(",
    .quote_ident = cq_dsl_quote_dq,
    .quote_lit = cq_dsl_quote_sq,
    .placeholder = placeholder,
    .cond = cond,
    .agg = agg,
};
