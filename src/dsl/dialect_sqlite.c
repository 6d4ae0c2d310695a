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

/* The column as it compares: timestamps as instants. */
static void lhs(struct cq_dsl_gen *g, const struct cq_dsl_cond *c)
{
    if (c->col->type == CQ_DSL_T_TIMESTAMP) {
        CQ_DSL_LIT(&g->sb, "julianday(");
        col(g, c);
        cq_dsl_sb_putc(&g->sb, ')');
        return;
    }
    col(g, c);
}

/* A bound value as it compares with a column of type t. */
static void value(struct cq_dsl_gen *g, const struct cq_dsl_val *v, enum cq_dsl_type t)
{
    if (t == CQ_DSL_T_TIMESTAMP) {
        CQ_DSL_LIT(&g->sb, "julianday(");
    } else if (t == CQ_DSL_T_DATE) {
        CQ_DSL_LIT(&g->sb, "date(");
    }
    cq_dsl_gen_param(g, v, t, false, NULL);
    if (t == CQ_DSL_T_TIMESTAMP || t == CQ_DSL_T_DATE) {
        cq_dsl_sb_putc(&g->sb, ')');
    }
}

/* "h"."value" (an element of a JSON array) as it compares. */
static void element(struct cq_dsl_gen *g, const char *alias, enum cq_dsl_type t)
{
    if (t == CQ_DSL_T_TIMESTAMP) {
        CQ_DSL_LIT(&g->sb, "julianday(");
    } else if (t == CQ_DSL_T_DATE) {
        CQ_DSL_LIT(&g->sb, "date(");
    }
    cq_dsl_gen_ident(g, alias);
    cq_dsl_sb_putc(&g->sb, '.');
    cq_dsl_gen_ident(g, "value");
    if (t == CQ_DSL_T_TIMESTAMP || t == CQ_DSL_T_DATE) {
        cq_dsl_sb_putc(&g->sb, ')');
    }
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

/* A GLOB pattern: the raw text (wildcards escaped) with '*' before and/or after; or, with
 * from_like, a LIKE pattern (PostgreSQL rules: % _ and a backslash escape) translated. */
static const struct cq_dsl_val *glob_val(struct cq_dsl_gen *g, const struct cq_dsl_val *v,
                                         bool from_like, bool pre, bool post)
{
    struct cq_dsl_val *nv;
    char *w, *start;

    if (v->kind != CQ_DSL_V_STRING) {
        return v;
    }
    nv = cq_dsl_gen_str_val(g, v->len * 3 + 2, &start);
    if (nv == NULL) {
        return v;
    }
    w = start;
    if (pre) {
        *w++ = '*';
    }
    for (size_t i = 0; i < v->len; i++) {
        char c = v->s[i];
        if (from_like && c == '\\' && i + 1 < v->len) {
            w += glob_lit(w, v->s[++i]);
        } else if (from_like && c == '%') {
            *w++ = '*';
        } else if (from_like && c == '_') {
            *w++ = '?';
        } else {
            w += glob_lit(w, c);
        }
    }
    if (post) {
        *w++ = '*';
    }
    *w = '\0';
    nv->len = (size_t)(w - start);
    return nv;
}

static void glob(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, bool neg,
                 const struct cq_dsl_val *pattern)
{
    col(g, c);
    if (neg) {
        CQ_DSL_LIT(&g->sb, " NOT GLOB ");
    } else {
        CQ_DSL_LIT(&g->sb, " GLOB ");
    }
    cq_dsl_gen_param(g, pattern, CQ_DSL_T_STRING, false, NULL);
}

static void ilike(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, bool neg,
                  const struct cq_dsl_val *pattern)
{
    col(g, c);
    if (neg) {
        CQ_DSL_LIT(&g->sb, " NOT LIKE ");
    } else {
        CQ_DSL_LIT(&g->sb, " LIKE ");
    }
    cq_dsl_gen_param(g, pattern, CQ_DSL_T_STRING, false, NULL);
    CQ_DSL_LIT(&g->sb, " ESCAPE ");
    cq_dsl_quote_sq(&g->sb, "\\", 1);
}

/* ---- arrays (JSON text) -------------------------------------------------------------------- */

static void json_each_col(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, const char *alias)
{
    CQ_DSL_LIT(&g->sb, "json_each(");
    col(g, c);
    CQ_DSL_LIT(&g->sb, ") AS ");
    cq_dsl_gen_ident(g, alias);
}

static void json_each_param(struct cq_dsl_gen *g, const struct cq_dsl_cond *c,
                            const char *alias)
{
    CQ_DSL_LIT(&g->sb, "json_each(");
    cq_dsl_gen_param(g, c->value, c->col->type, true, NULL);
    CQ_DSL_LIT(&g->sb, ") AS ");
    cq_dsl_gen_ident(g, alias);
}

static void array_op(struct cq_dsl_gen *g, const struct cq_dsl_cond *c)
{
    enum cq_dsl_type t = c->col->type;

    switch (c->op) {
    case CQ_DSL_OP_ARRAY_CONTAINS:
        CQ_DSL_LIT(&g->sb, "EXISTS (SELECT 1 FROM ");
        json_each_col(g, c, "h");
        CQ_DSL_LIT(&g->sb, " WHERE ");
        element(g, "h", t);
        CQ_DSL_LIT(&g->sb, " = ");
        value(g, c->value, t);
        cq_dsl_sb_putc(&g->sb, ')');
        return;
    case CQ_DSL_OP_ARRAY_CONTAINS_ALL:
        /* no wanted element is missing (NOT IN would trip over a NULL element) */
        CQ_DSL_LIT(&g->sb, "NOT EXISTS (SELECT 1 FROM ");
        json_each_param(g, c, "n");
        CQ_DSL_LIT(&g->sb, " WHERE NOT EXISTS (SELECT 1 FROM ");
        json_each_col(g, c, "h");
        CQ_DSL_LIT(&g->sb, " WHERE ");
        element(g, "h", t);
        CQ_DSL_LIT(&g->sb, " = ");
        element(g, "n", t);
        CQ_DSL_LIT(&g->sb, "))");
        return;
    case CQ_DSL_OP_ARRAY_CONTAINS_ANY:
        CQ_DSL_LIT(&g->sb, "EXISTS (SELECT 1 FROM ");
        json_each_col(g, c, "h");
        CQ_DSL_LIT(&g->sb, ", ");
        json_each_param(g, c, "n");
        CQ_DSL_LIT(&g->sb, " WHERE ");
        element(g, "h", t);
        CQ_DSL_LIT(&g->sb, " = ");
        element(g, "n", t);
        cq_dsl_sb_putc(&g->sb, ')');
        return;
    case CQ_DSL_OP_ARRAY_IS_EMPTY:
    case CQ_DSL_OP_ARRAY_IS_NOT_EMPTY:
        CQ_DSL_LIT(&g->sb, "json_array_length(");
        col(g, c);
        if (c->op == CQ_DSL_OP_ARRAY_IS_EMPTY) {
            CQ_DSL_LIT(&g->sb, ") = 0");
        } else {
            CQ_DSL_LIT(&g->sb, ") > 0");
        }
        return;
    default:
        break;
    }
}

/* The LIKE family (like, ilike, contains, startsWith, endsWith and their variants). */
static int patterns(struct cq_dsl_gen *g, const struct cq_dsl_cond *c)
{
    const struct cq_dsl_val *v = c->value;

    switch (c->op) {
    case CQ_DSL_OP_LIKE:
    case CQ_DSL_OP_NOT_LIKE:
        glob(g, c, c->op == CQ_DSL_OP_NOT_LIKE, glob_val(g, v, true, false, false));
        return CQ_OK;
    case CQ_DSL_OP_CONTAINS:
    case CQ_DSL_OP_NOT_CONTAINS:
        glob(g, c, c->op == CQ_DSL_OP_NOT_CONTAINS, glob_val(g, v, false, true, true));
        return CQ_OK;
    case CQ_DSL_OP_STARTS_WITH:
        glob(g, c, false, glob_val(g, v, false, false, true));
        return CQ_OK;
    case CQ_DSL_OP_ENDS_WITH:
        glob(g, c, false, glob_val(g, v, false, true, false));
        return CQ_OK;
    case CQ_DSL_OP_ILIKE:
    case CQ_DSL_OP_NOT_ILIKE:
        ilike(g, c, c->op == CQ_DSL_OP_NOT_ILIKE, v);
        return CQ_OK;
    case CQ_DSL_OP_ICONTAINS:
    case CQ_DSL_OP_NOT_ICONTAINS:
        ilike(g, c, c->op == CQ_DSL_OP_NOT_ICONTAINS, cq_dsl_gen_like_val(g, v, true, true));
        return CQ_OK;
    case CQ_DSL_OP_ISTARTS_WITH:
        ilike(g, c, false, cq_dsl_gen_like_val(g, v, false, true));
        return CQ_OK;
    case CQ_DSL_OP_IENDS_WITH:
        ilike(g, c, false, cq_dsl_gen_like_val(g, v, true, false));
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
        lhs(g, c);
        cq_dsl_sb_putc(&g->sb, ' ');
        cq_dsl_sb_puts(&g->sb, cq_dsl_gen_cmp(c->op));
        cq_dsl_sb_putc(&g->sb, ' ');
        value(g, v, t);
        return CQ_OK;
    case CQ_DSL_OP_IN:
    case CQ_DSL_OP_NOT_IN:
        col(g, c);
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
        if (c->op == CQ_DSL_OP_BETWEEN) {
            CQ_DSL_LIT(&g->sb, " BETWEEN ");
        } else {
            CQ_DSL_LIT(&g->sb, " NOT BETWEEN ");
        }
        value(g, cq_dsl_val_get(v, "from"), t);
        CQ_DSL_LIT(&g->sb, " AND ");
        value(g, cq_dsl_val_get(v, "to"), t);
        return CQ_OK;
    case CQ_DSL_OP_IS_NULL:
        col(g, c);
        CQ_DSL_LIT(&g->sb, " IS NULL");
        return CQ_OK;
    case CQ_DSL_OP_IS_NOT_NULL:
        col(g, c);
        CQ_DSL_LIT(&g->sb, " IS NOT NULL");
        return CQ_OK;
    case CQ_DSL_OP_LEVENSHTEIN_LTE:
        CQ_DSL_LIT(&g->sb, "levenshtein(");
        col(g, c);
        CQ_DSL_LIT(&g->sb, ", ");
        cq_dsl_gen_param(g, cq_dsl_val_get(v, "text"), CQ_DSL_T_STRING, false, NULL);
        CQ_DSL_LIT(&g->sb, ") <= ");
        cq_dsl_gen_param(g, cq_dsl_val_get(v, "maxDistance"), CQ_DSL_T_INT, false, NULL);
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
    return patterns(g, c);
}

const struct cq_dsl_dialect cq_dsl_dialect_sqlite = {
    .id = CQ_DIALECT_SQLITE,
    .name = "sqlite",
    .counted_rewrite = false,
    .quote_ident = cq_dsl_quote_dq,
    .quote_lit = cq_dsl_quote_sq,
    .placeholder = placeholder,
    .cond = cond,
    .having = cq_dsl_gen_having_std,
};
