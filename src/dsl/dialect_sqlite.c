/*
 * dialect_sqlite.c - SQLite, clariq's addition so the governed API runs on the embedded
 * default. Storage conventions it assumes (docs/internals/dsl-sql.md):
 *   arrays        JSON text ('["a","b"]'), read with json_each / json_array_length;
 *   booleans      integers 0/1 (a bound true is 1);
 *   dates         text 'YYYY-MM-DD';
 *   timestamps    ISO-8601 text in any form SQLite's date functions read
 *                 ('2024-01-15T10:00:00Z', '2024-01-15 10:00:00.000', with an offset...).
 * Placeholders are ? in order; an array parameter is bound as one JSON text.
 *
 * Case: SQLite's LIKE ignores ASCII case, so the case-sensitive operators (like, contains,
 * startsWith, endsWith) use GLOB with the pattern translated (wildcards * ? and [x] for a
 * literal); the case-insensitive ones use LIKE ... ESCAPE '\' (ASCII case folding, as
 * SQLite's own lower()). Timestamps compare as instants through julianday() on both sides,
 * dates as text against date(?). levenshteinLte calls levenshtein(), which the SQLite
 * driver registers on every connection (src/drv/sqlite.c).
 */
#include <string.h>

#include "dsl/internal.h"

/* Opens the conversion under which a value of type t compares: timestamps as instants, dates
 * as dates. True when there is one to close. */
static bool convert_open(struct cq_dsl_gen *g, enum cq_dsl_type t)
{
    if (t == CQ_DSL_T_TIMESTAMP) {
        CQ_DSL_LIT(&g->sb, "julianday(");
        return true;
    }
    if (t == CQ_DSL_T_DATE) {
        CQ_DSL_LIT(&g->sb, "date(");
        return true;
    }
    return false;
}

/* A bound value as it compares with a column of type t. */
static void value(struct cq_dsl_gen *g, const struct cq_dsl_val *v, enum cq_dsl_type t)
{
    bool conv = convert_open(g, t);

    cq_dsl_gen_value(g, v, t);
    if (conv) {
        cq_dsl_sb_putc(&g->sb, ')');
    }
}

/* "h"."value" (an element of a JSON array) as it compares. */
static void element(struct cq_dsl_gen *g, const char *alias, enum cq_dsl_type t)
{
    bool conv = convert_open(g, t);

    cq_dsl_gen_ident(g, alias);
    cq_dsl_sb_putc(&g->sb, '.');
    cq_dsl_gen_ident(g, "value");
    if (conv) {
        cq_dsl_sb_putc(&g->sb, ')');
    }
}

/* The column as it compares: timestamps as instants. */
static void lhs(struct cq_dsl_gen *g, const struct cq_dsl_cond *c)
{
    if (c->col->type == CQ_DSL_T_TIMESTAMP) {
        cq_dsl_gen_wrap(g, c, "julianday(", ")");
        return;
    }
    cq_dsl_gen_col(g, c->tab, c->col);
}

/* ---- patterns ------------------------------------------------------------------------------ */

static size_t glob_lit(char *w, char c)
{
    if (c == '*' || c == '?' || c == '[') {
        w[0] = '[';
        w[1] = c;
        w[2] = ']';
        return 3;
    }
    w[0] = c;
    return 1;
}

/* A LIKE pattern (PostgreSQL rules: % _ and a backslash escape) as a GLOB pattern. */
static const struct cq_dsl_val *glob_val(struct cq_dsl_gen *g, const struct cq_dsl_val *v)
{
    struct cq_dsl_val *nv;
    char *w, *start;

    if (v->kind != CQ_DSL_V_STRING) {
        return v;
    }
    nv = cq_dsl_gen_str_val(g, v->len * 3, &start);
    if (nv == NULL) {
        return v;
    }
    w = start;
    for (size_t i = 0; i < v->len; i++) {
        char c = v->s[i];
        if (c == '\\' && i + 1 < v->len) {
            w += glob_lit(w, v->s[++i]);
        } else if (c == '%') {
            *w++ = '*';
        } else if (c == '_') {
            *w++ = '?';
        } else {
            w += glob_lit(w, c);
        }
    }
    *w = '\0';
    nv->len = (size_t)(w - start);
    return nv;
}

/* Case-sensitive: col [NOT ]GLOB ?, the pattern translated (text to find escaped for LIKE
 * first); case-insensitive: col [NOT ]LIKE ? ESCAPE '\'. */
static void like(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, const struct cq_dsl_like *k)
{
    const struct cq_dsl_val *v = k->text ? cq_dsl_gen_like_val(g, c->value, k->pre, k->post)
                                         : c->value;

    if (!k->ci) {
        v = glob_val(g, v);
        cq_dsl_gen_col(g, c->tab, c->col);
        cq_dsl_sb_puts(&g->sb, k->neg ? " NOT GLOB " : " GLOB ");
        cq_dsl_gen_value(g, v, CQ_DSL_T_STRING);
        return;
    }
    cq_dsl_gen_col(g, c->tab, c->col);
    cq_dsl_sb_puts(&g->sb, k->neg ? " NOT LIKE " : " LIKE ");
    cq_dsl_gen_value(g, v, CQ_DSL_T_STRING);
    cq_dsl_gen_escape(g);
}

/* ---- arrays (JSON text) -------------------------------------------------------------------- */

/* json_each(<the column, or the value as one JSON parameter>) AS "alias" */
static void json_each(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, bool param,
                      const char *alias)
{
    CQ_DSL_LIT(&g->sb, "json_each(");
    if (param) {
        cq_dsl_gen_param(g, c->value, c->col->type, true, NULL);
    } else {
        cq_dsl_gen_col(g, c->tab, c->col);
    }
    CQ_DSL_LIT(&g->sb, ") AS ");
    cq_dsl_gen_ident(g, alias);
}

static void array_op(struct cq_dsl_gen *g, const struct cq_dsl_cond *c)
{
    enum cq_dsl_type t = c->col->type;

    switch (c->op) {
    case CQ_DSL_OP_ARRAY_CONTAINS:
        CQ_DSL_LIT(&g->sb, "EXISTS (SELECT 1 FROM ");
        json_each(g, c, false, "h");
        CQ_DSL_LIT(&g->sb, " WHERE ");
        element(g, "h", t);
        CQ_DSL_LIT(&g->sb, " = ");
        value(g, c->value, t);
        cq_dsl_sb_putc(&g->sb, ')');
        return;
    case CQ_DSL_OP_ARRAY_CONTAINS_ALL:
        /* no wanted element is missing (NOT IN would trip over a NULL element) */
        CQ_DSL_LIT(&g->sb, "NOT EXISTS (SELECT 1 FROM ");
        json_each(g, c, true, "n");
        CQ_DSL_LIT(&g->sb, " WHERE NOT EXISTS (SELECT 1 FROM ");
        json_each(g, c, false, "h");
        CQ_DSL_LIT(&g->sb, " WHERE ");
        element(g, "h", t);
        CQ_DSL_LIT(&g->sb, " = ");
        element(g, "n", t);
        CQ_DSL_LIT(&g->sb, "))");
        return;
    case CQ_DSL_OP_ARRAY_CONTAINS_ANY:
        CQ_DSL_LIT(&g->sb, "EXISTS (SELECT 1 FROM ");
        json_each(g, c, false, "h");
        CQ_DSL_LIT(&g->sb, ", ");
        json_each(g, c, true, "n");
        CQ_DSL_LIT(&g->sb, " WHERE ");
        element(g, "h", t);
        CQ_DSL_LIT(&g->sb, " = ");
        element(g, "n", t);
        cq_dsl_sb_putc(&g->sb, ')');
        return;
    case CQ_DSL_OP_ARRAY_IS_EMPTY:
        cq_dsl_gen_wrap(g, c, "json_array_length(", ") = 0");
        return;
    case CQ_DSL_OP_ARRAY_IS_NOT_EMPTY:
        cq_dsl_gen_wrap(g, c, "json_array_length(", ") > 0");
        return;
    default:
        break;
    }
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
        lhs(g, c);
        cq_dsl_gen_cmp_op(g, c->op);
        value(g, v, t);
        return CQ_OK;
    case CQ_DSL_OP_IN:
    case CQ_DSL_OP_NOT_IN:
        cq_dsl_gen_col(g, c->tab, c->col);
        if (c->op == CQ_DSL_OP_IN) {
            CQ_DSL_LIT(&g->sb, " IN (SELECT ");
        } else {
            CQ_DSL_LIT(&g->sb, " NOT IN (SELECT ");
        }
        cq_dsl_gen_ident(g, "value");
        CQ_DSL_LIT(&g->sb, " FROM json_each(");
        cq_dsl_gen_param(g, v, t, true, NULL);
        CQ_DSL_LIT(&g->sb, "))");
        return CQ_OK;
    case CQ_DSL_OP_BETWEEN:
    case CQ_DSL_OP_NOT_BETWEEN:
        lhs(g, c);
        cq_dsl_gen_between(g, c->op == CQ_DSL_OP_NOT_BETWEEN, v, t, value);
        return CQ_OK;
    case CQ_DSL_OP_ARRAY_CONTAINS:
    case CQ_DSL_OP_ARRAY_CONTAINS_ALL:
    case CQ_DSL_OP_ARRAY_CONTAINS_ANY:
    case CQ_DSL_OP_ARRAY_IS_EMPTY:
    case CQ_DSL_OP_ARRAY_IS_NOT_EMPTY:
        array_op(g, c);
        return CQ_OK;
    default:
        break;
    }
    return cq_dsl_gen_cond_std(g, c, like);
}

const struct cq_dsl_dialect cq_dsl_dialect_sqlite = {
    .id = CQ_DIALECT_SQLITE,
    .name = "sqlite",
    .list_open = "(",
    .levenshtein = "levenshtein(",
    .quote_ident = cq_dsl_quote_dq,
    .quote_lit = cq_dsl_quote_sq,
    .placeholder = cq_dsl_placeholder_qmark,
    .cond = cond,
};
