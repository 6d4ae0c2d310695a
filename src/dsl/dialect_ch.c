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

static const char *const ch_types[] = {
    [CQ_DSL_T_STRING] = "String", [CQ_DSL_T_INT] = "Int32",
    [CQ_DSL_T_DECIMAL] = "Decimal(38, 10)", [CQ_DSL_T_BOOLEAN] = "Bool",
    [CQ_DSL_T_UUID] = "UUID", [CQ_DSL_T_DATE] = "Date", [CQ_DSL_T_TIMESTAMP] = "DateTime",
};

/* {pN:Type}: the type the caller names, else the one of the parameter's type */
static void placeholder(struct cq_dsl_gen *g, size_t n, const char *ch_type)
{
    CQ_DSL_LIT(&g->sb, "{p");
    cq_dsl_sb_i64(&g->sb, (int64_t)n);
    cq_dsl_sb_putc(&g->sb, ':');
    cq_dsl_sb_puts(&g->sb, ch_type != NULL ? ch_type : ch_types[g->params[n - 1].type]);
    cq_dsl_sb_putc(&g->sb, '}');
}

static void bound(struct cq_dsl_gen *g, const struct cq_dsl_val *v, enum cq_dsl_type t)
{
    if (t == CQ_DSL_T_TIMESTAMP) {
        /* DateTime parameters take only 'YYYY-MM-DD hh:mm:ss'; ISO-8601 needs this */
        CQ_DSL_LIT(&g->sb, "parseDateTimeBestEffort(");
        cq_dsl_gen_param(g, v, t, false, "String");
        cq_dsl_sb_putc(&g->sb, ')');
        return;
    }
    cq_dsl_gen_value(g, v, t);
}

/* col [NOT ]LIKE {pN:String}, [NOT ]ilike(col, ...), startsWith(col, ...), endsWith(col, ...) */
static void like(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, const struct cq_dsl_like *k)
{
    const struct cq_dsl_val *v = c->value;

    if (k->text && !k->ci && k->pre != k->post) {
        /* a plain prefix or suffix test: nothing to escape */
        cq_dsl_gen_call(g, c, k->pre ? "endsWith(" : "startsWith(", v, CQ_DSL_T_STRING);
        return;
    }
    if (k->text) {
        v = cq_dsl_gen_like_val(g, v, k->pre, k->post);
    }
    if (k->ci) {
        cq_dsl_gen_call(g, c, k->neg ? "NOT ilike(" : "ilike(", v, CQ_DSL_T_STRING);
        return;
    }
    cq_dsl_gen_col(g, c->tab, c->col);
    cq_dsl_sb_puts(&g->sb, k->neg ? " NOT LIKE " : " LIKE ");
    cq_dsl_gen_value(g, v, CQ_DSL_T_STRING);
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
        cq_dsl_gen_col(g, c->tab, c->col);
        cq_dsl_gen_between(g, false, v, t, bound);
        return CQ_OK;
    case CQ_DSL_OP_NOT_BETWEEN:
        CQ_DSL_LIT(&g->sb, "NOT (");
        cq_dsl_gen_col(g, c->tab, c->col);
        cq_dsl_gen_between(g, false, v, t, bound);
        cq_dsl_sb_putc(&g->sb, ')');
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_CONTAINS:
        cq_dsl_gen_call(g, c, "has(", v, t);
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_CONTAINS_ALL:
    case CQ_DSL_OP_ARRAY_CONTAINS_ANY:
        cq_dsl_gen_wrap(g, c, c->op == CQ_DSL_OP_ARRAY_CONTAINS_ALL ? "hasAll(" : "hasAny(",
                        ", [");
        cq_dsl_gen_list(g, v, t, cq_dsl_gen_value);
        CQ_DSL_LIT(&g->sb, "])");
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_IS_EMPTY:
        cq_dsl_gen_wrap(g, c, "empty(", ")");
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_IS_NOT_EMPTY:
        cq_dsl_gen_wrap(g, c, "notEmpty(", ")");
        return CQ_OK;
    default:
        break;
    }
    return cq_dsl_gen_cond_std(g, c, like);
}

/* HAVING values are untyped: the placeholder type follows the JSON value (spec §9). */
static void having_value(struct cq_dsl_gen *g, const struct cq_dsl_val *v, enum cq_dsl_type t)
{
    (void)t;
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

const struct cq_dsl_dialect cq_dsl_dialect_ch = {
    .id = CQ_DIALECT_CH,
    .name = "clickhouse",
    .counted_rewrite = true,
    .having_alias = true,
    .not_between_paren = true,
    .list_open = "tuple(",
    .levenshtein = "editDistance(",
    .quote_ident = quote_ident,
    .quote_lit = quote_lit,
    .placeholder = placeholder,
    .cond = cond,
    .having_value = having_value,
};
