/*
 * sqlgen_where.c - conditions (spec §8.4, §9): WHERE assembly, filter groups, column
 * filters, EXISTS and counted subqueries, row-level filters (spec §0.13) in WHERE, ON and
 * subqueries, and HAVING.
 *
 * Assembly: a list of conditions prints as itself when it holds one, else as
 * "(a AND b ...)"; a group the same with its own connective, "NOT " in front when negated;
 * a group whose children all vanish is dropped. Nothing here prints a quote character:
 * identifiers, literals and placeholders go through the dialect.
 */
#include <string.h>

#include "dsl/internal.h"

/* Where filters may point: the default table, and whether only it is addressable (inside
 * an EXISTS, spec §5.8). */
struct scope {
    const struct cq_dsl_gtab *def;
    bool only;
};

static void filter(struct cq_dsl_gen *g, const struct cq_dsl_filter *f, const struct scope *sc);

/* ---- assembly ---------------------------------------------------------------------------- */

static bool vanishes(const struct cq_dsl_filter *f)
{
    if (f->kind != CQ_DSL_F_GROUP) {
        return false;
    }
    for (size_t i = 0; i < f->n_conds; i++) {
        if (!vanishes(f->conds[i])) {
            return false;
        }
    }
    return true;
}

static size_t live(struct cq_dsl_filter *const *f, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k += !vanishes(f[i]);
    }
    return k;
}

/* Prints the separator of a list: `first_text` before the first item, `rest` after. */
static void sep(struct cq_dsl_gen *g, bool *first, const char *first_text, const char *rest)
{
    cq_dsl_sb_puts(&g->sb, *first ? first_text : rest);
    *first = false;
}

static bool is_or(const struct cq_dsl_filter *f)
{
    return f->logic != NULL && strcmp(f->logic, "or") == 0;
}

typedef void (*cq_dsl_node_fn)(struct cq_dsl_gen *g, const struct cq_dsl_filter *f,
                               const struct scope *sc);

/* The live entries of f[0..n) joined by conn, in parentheses when more than one. top: they
 * are the request's top-level entries, and each one's index is the filterIndex of errors. */
static void conds(struct cq_dsl_gen *g, struct cq_dsl_filter *const *f, size_t n,
                  const char *conn, cq_dsl_node_fn node, const struct scope *sc, bool top)
{
    size_t k = live(f, n);
    bool first = true;

    if (k > 1) {
        cq_dsl_sb_putc(&g->sb, '(');
    }
    for (size_t i = 0; i < n; i++) {
        if (!vanishes(f[i])) {
            if (top) {
                g->filter_index = i;
            }
            sep(g, &first, "", conn);
            node(g, f[i], sc);
        }
    }
    if (k > 1) {
        cq_dsl_sb_putc(&g->sb, ')');
    }
}

static void group(struct cq_dsl_gen *g, const struct cq_dsl_filter *f, const struct scope *sc,
                  cq_dsl_node_fn node)
{
    if (f->negate) {
        CQ_DSL_LIT(&g->sb, "NOT ");
    }
    conds(g, f->conds, f->n_conds, is_or(f) ? " OR " : " AND ", node, sc, false);
}

/* ---- errors --------------------------------------------------------------------------------- */

static void unsupported(struct cq_dsl_gen *g, enum cq_dsl_op op, const char *column)
{
    const char *opn = cq_dsl_op_name(op);
    const char *msg = cq_arena_printf(g->a, "Operator '%s' is not supported by the %s dialect",
                                      opn, g->d->name);
    json_t *d = json_object();

    if (g->unsupported == NULL) {
        g->unsupported = json_array();
    }
    json_object_set_new(d, "operator", json_string(opn));
    json_object_set_new(d, "dialect", json_string(g->d->name));
    json_object_set_new(d, "column", json_string(column));
    json_object_set_new(d, "filterIndex", json_integer((json_int_t)g->filter_index));
    json_array_append_new(g->unsupported,
                          cq_dsl_entry("UNSUPPORTED_OPERATOR", msg ? msg : "", d));
    cq_dsl_sb_putc(&g->sb, '0'); /* never run: the compile fails */
}

static void fail_table(struct cq_dsl_gen *g, const char *table)
{
    json_t *d = json_object();
    const char *msg = cq_arena_printf(g->a, "Filter references table '%s' which is not the "
                                      "from table or a joined table", table);
    json_object_set_new(d, "table", json_string(table));
    json_object_set_new(d, "filterIndex", json_integer((json_int_t)g->filter_index));
    cq_dsl_gen_fail(g, "INVALID_FILTER", msg ? msg : "", d);
}

static void fail_column(struct cq_dsl_gen *g, const char *table, const char *column)
{
    json_t *d = json_object();
    const char *msg = cq_arena_printf(g->a, "Filter column '%s' does not exist in table '%s'",
                                      column, table);
    json_object_set_new(d, "table", json_string(table));
    json_object_set_new(d, "column", json_string(column));
    json_object_set_new(d, "filterIndex", json_integer((json_int_t)g->filter_index));
    cq_dsl_gen_fail(g, "UNKNOWN_COLUMN", msg ? msg : "", d);
}

/* ---- value conditions: what the dialects print alike -------------------------------------- */

/* Prints a value condition through the dialect; one it cannot express fails the compile. */
static void cond(struct cq_dsl_gen *g, const struct cq_dsl_cond *c)
{
    if (g->d->cond(g, c) != CQ_OK) {
        unsupported(g, c->op, c->col->api);
    }
}

/* The SQL text of a comparison operator ("=", "!=", ">" ...), NULL for any other. */
static const char *cmp_text(enum cq_dsl_op op)
{
    switch (op) {
    case CQ_DSL_OP_EQ:
        return "=";
    case CQ_DSL_OP_NE:
        return "!=";
    case CQ_DSL_OP_GT:
        return ">";
    case CQ_DSL_OP_LT:
        return "<";
    case CQ_DSL_OP_GE:
        return ">=";
    case CQ_DSL_OP_LE:
        return "<=";
    default:
        break;
    }
    return NULL;
}

void cq_dsl_gen_cmp_op(struct cq_dsl_gen *g, enum cq_dsl_op op)
{
    cq_dsl_sb_putc(&g->sb, ' ');
    cq_dsl_sb_puts(&g->sb, cmp_text(op));
    cq_dsl_sb_putc(&g->sb, ' ');
}

void cq_dsl_gen_value(struct cq_dsl_gen *g, const struct cq_dsl_val *v, enum cq_dsl_type t)
{
    cq_dsl_gen_param(g, v, t, false, NULL);
}

void cq_dsl_gen_wrap(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, const char *fn,
                     const char *rest)
{
    cq_dsl_sb_puts(&g->sb, fn);
    cq_dsl_gen_col(g, c->tab, c->col);
    cq_dsl_sb_puts(&g->sb, rest);
}

void cq_dsl_gen_call(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, const char *fn,
                     const struct cq_dsl_val *v, enum cq_dsl_type t)
{
    cq_dsl_gen_wrap(g, c, fn, ", ");
    cq_dsl_gen_value(g, v, t);
    cq_dsl_sb_putc(&g->sb, ')');
}

/* The elements of a list value; a non-array value is a list of one. */
static size_t val_list(const struct cq_dsl_val *v, const struct cq_dsl_val **items)
{
    *items = v->kind == CQ_DSL_V_ARRAY ? v->items : v;
    return v->kind == CQ_DSL_V_ARRAY ? v->n : 1;
}

void cq_dsl_gen_list(struct cq_dsl_gen *g, const struct cq_dsl_val *v, enum cq_dsl_type t,
                     cq_dsl_value_fn value)
{
    const struct cq_dsl_val *items;
    size_t n = val_list(v, &items);

    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            CQ_DSL_LIT(&g->sb, ", ");
        }
        value(g, &items[i], t);
    }
}

void cq_dsl_gen_in(struct cq_dsl_gen *g, bool neg, const struct cq_dsl_val *v,
                   enum cq_dsl_type t, cq_dsl_value_fn value)
{
    cq_dsl_sb_puts(&g->sb, neg ? " NOT IN " : " IN ");
    cq_dsl_sb_puts(&g->sb, g->d->list_open);
    cq_dsl_gen_list(g, v, t, value);
    cq_dsl_sb_putc(&g->sb, ')');
}

/* [NOT ]IN an empty list, which SQL cannot write: nothing is in it, everything is outside
 * it. True when v is one and the constant was printed instead. */
static bool empty_in(struct cq_dsl_gen *g, enum cq_dsl_op op, const struct cq_dsl_val *v)
{
    const struct cq_dsl_val *items;

    if (val_list(v, &items) != 0) {
        return false;
    }
    if (op == CQ_DSL_OP_IN) {
        CQ_DSL_LIT(&g->sb, "1 = 0");
    } else {
        CQ_DSL_LIT(&g->sb, "1 = 1");
    }
    return true;
}

void cq_dsl_gen_between(struct cq_dsl_gen *g, bool neg, const struct cq_dsl_val *v,
                        enum cq_dsl_type t, cq_dsl_value_fn value)
{
    if (neg) {
        CQ_DSL_LIT(&g->sb, " NOT BETWEEN ");
    } else {
        CQ_DSL_LIT(&g->sb, " BETWEEN ");
    }
    value(g, cq_dsl_val_get(v, "from"), t);
    CQ_DSL_LIT(&g->sb, " AND ");
    value(g, cq_dsl_val_get(v, "to"), t);
}

void cq_dsl_gen_escape(struct cq_dsl_gen *g)
{
    CQ_DSL_LIT(&g->sb, " ESCAPE ");
    g->d->quote_lit(&g->sb, "\\", 1);
}

/* The LIKE family, indexed by operator - CQ_DSL_OP_LIKE (ast.h keeps them together). */
static const struct cq_dsl_like likes[] = {
    [CQ_DSL_OP_LIKE - CQ_DSL_OP_LIKE] = {.neg = false},
    [CQ_DSL_OP_NOT_LIKE - CQ_DSL_OP_LIKE] = {.neg = true},
    [CQ_DSL_OP_ILIKE - CQ_DSL_OP_LIKE] = {.ci = true},
    [CQ_DSL_OP_NOT_ILIKE - CQ_DSL_OP_LIKE] = {.neg = true, .ci = true},
    [CQ_DSL_OP_CONTAINS - CQ_DSL_OP_LIKE] = {.text = true, .pre = true, .post = true},
    [CQ_DSL_OP_ICONTAINS - CQ_DSL_OP_LIKE] = {.ci = true, .text = true, .pre = true, .post = true},
    [CQ_DSL_OP_NOT_CONTAINS - CQ_DSL_OP_LIKE] = {.neg = true, .text = true, .pre = true,
                                                 .post = true},
    [CQ_DSL_OP_NOT_ICONTAINS - CQ_DSL_OP_LIKE] = {.neg = true, .ci = true, .text = true,
                                                  .pre = true, .post = true},
    [CQ_DSL_OP_STARTS_WITH - CQ_DSL_OP_LIKE] = {.text = true, .post = true},
    [CQ_DSL_OP_ISTARTS_WITH - CQ_DSL_OP_LIKE] = {.ci = true, .text = true, .post = true},
    [CQ_DSL_OP_ENDS_WITH - CQ_DSL_OP_LIKE] = {.text = true, .pre = true},
    [CQ_DSL_OP_IENDS_WITH - CQ_DSL_OP_LIKE] = {.ci = true, .text = true, .pre = true},
};
_Static_assert(CQ_DSL_OP_IENDS_WITH - CQ_DSL_OP_LIKE + 1 == sizeof(likes) / sizeof(likes[0]),
               "the LIKE family is contiguous in enum cq_dsl_op");

int cq_dsl_gen_cond_std(struct cq_dsl_gen *g, const struct cq_dsl_cond *c, cq_dsl_like_fn like)
{
    const struct cq_dsl_val *v = c->value;

    if (cmp_text(c->op) != NULL) {
        cq_dsl_gen_col(g, c->tab, c->col);
        cq_dsl_gen_cmp_op(g, c->op);
        cq_dsl_gen_value(g, v, c->col->type);
        return CQ_OK;
    }
    if (c->op >= CQ_DSL_OP_LIKE && c->op <= CQ_DSL_OP_IENDS_WITH) {
        like(g, c, &likes[c->op - CQ_DSL_OP_LIKE]);
        return CQ_OK;
    }
    switch (c->op) {
    case CQ_DSL_OP_IS_NULL:
    case CQ_DSL_OP_IS_NOT_NULL:
        cq_dsl_gen_col(g, c->tab, c->col);
        cq_dsl_sb_puts(&g->sb, c->op == CQ_DSL_OP_IS_NULL ? " IS NULL" : " IS NOT NULL");
        return CQ_OK;
    case CQ_DSL_OP_LEVENSHTEIN_LTE:
        cq_dsl_gen_wrap(g, c, g->d->levenshtein, ", ");
        cq_dsl_gen_value(g, cq_dsl_val_get(v, "text"), CQ_DSL_T_STRING);
        CQ_DSL_LIT(&g->sb, ") <= ");
        /* a ClickHouse distance is unsigned (ch_type means nothing to the other dialects) */
        cq_dsl_gen_param(g, cq_dsl_val_get(v, "maxDistance"), CQ_DSL_T_INT, false, "UInt32");
        return CQ_OK;
    default:
        break;
    }
    return CQ_EUNSUPPORTED;
}

/* ---- row-level filters (spec §0.13) ------------------------------------------------------ */

static const enum cq_dsl_op rls_ops[] = {
    [CQ_DSL_RLS_EQ] = CQ_DSL_OP_EQ,
    [CQ_DSL_RLS_NE] = CQ_DSL_OP_NE,
    [CQ_DSL_RLS_IN] = CQ_DSL_OP_IN,
    [CQ_DSL_RLS_NOT_IN] = CQ_DSL_OP_NOT_IN,
    [CQ_DSL_RLS_IS_NULL] = CQ_DSL_OP_IS_NULL,
    [CQ_DSL_RLS_IS_NOT_NULL] = CQ_DSL_OP_IS_NOT_NULL,
};

/* Number of AND-ed conditions a table's row filters print as: a scope granted by one role
 * contributes that role's terms, a scope granted by several one OR. */
static size_t rls_count(const struct cq_dsl_gtab *tab)
{
    const struct cq_dsl_table_access *ta = tab->ta;
    size_t n = 0;

    for (size_t i = 0; ta != NULL && i < ta->n_rls; i++) {
        n += ta->rls[i].n_conjs == 1 ? ta->rls[i].conjs[0].n_terms : 1;
    }
    return n;
}

static void rls_term(struct cq_dsl_gen *g, const struct cq_dsl_gtab *tab,
                     const struct cq_dsl_rls_term *t)
{
    struct cq_dsl_cond c = {rls_ops[t->f->op], tab, t->f->column,
                            t->value != NULL ? t->value : &cq_dsl_null_val};

    if (c.op == CQ_DSL_OP_IN || c.op == CQ_DSL_OP_NOT_IN) {
        if (c.value->kind != CQ_DSL_V_ARRAY) {
            /* a scalar context value is a list of one */
            struct cq_dsl_val *arr = cq_arena_alloc(g->a, sizeof(*arr));
            if (arr == NULL) {
                g->rc = CQ_ENOMEM;
                return;
            }
            arr->kind = CQ_DSL_V_ARRAY;
            arr->items = c.value;
            arr->n = 1;
            c.value = arr;
        }
        if (empty_in(g, c.op, c.value)) {
            return;
        }
    }
    cond(g, &c);
}

static void rls_conj(struct cq_dsl_gen *g, const struct cq_dsl_gtab *tab,
                     const struct cq_dsl_rls_conj *cj, bool paren)
{
    if (cj->n_terms == 0) {
        CQ_DSL_LIT(&g->sb, "1 = 1");
        return;
    }
    if (paren && cj->n_terms > 1) {
        cq_dsl_sb_putc(&g->sb, '(');
    }
    for (size_t i = 0; i < cj->n_terms; i++) {
        if (i > 0) {
            CQ_DSL_LIT(&g->sb, " AND ");
        }
        rls_term(g, tab, &cj->terms[i]);
    }
    if (paren && cj->n_terms > 1) {
        cq_dsl_sb_putc(&g->sb, ')');
    }
}

/* Prints the row filters of tab as AND-ed conditions, each preceded by a separator. */
static void rls(struct cq_dsl_gen *g, const struct cq_dsl_gtab *tab, bool *first,
                const char *first_text, const char *rest)
{
    const struct cq_dsl_table_access *ta = tab->ta;

    for (size_t i = 0; ta != NULL && i < ta->n_rls; i++) {
        const struct cq_dsl_rls_disj *dj = &ta->rls[i];
        if (dj->n_conjs == 1) {
            for (size_t k = 0; k < dj->conjs[0].n_terms; k++) {
                sep(g, first, first_text, rest);
                rls_term(g, tab, &dj->conjs[0].terms[k]);
            }
            continue;
        }
        sep(g, first, first_text, rest);
        cq_dsl_sb_putc(&g->sb, '(');
        for (size_t k = 0; k < dj->n_conjs; k++) {
            if (k > 0) {
                CQ_DSL_LIT(&g->sb, " OR ");
            }
            rls_conj(g, tab, &dj->conjs[k], true);
        }
        cq_dsl_sb_putc(&g->sb, ')');
    }
}

void cq_dsl_gen_join_rls(struct cq_dsl_gen *g, const struct cq_dsl_gtab *tab)
{
    bool first = false;
    rls(g, tab, &first, " AND ", " AND ");
}

/* ---- value and column filters --------------------------------------------------------------- */

static const struct cq_dsl_gtab *scope_tab(const struct cq_dsl_gen *g, const struct scope *sc,
                                           const char *api)
{
    if (api == NULL) {
        return sc->def;
    }
    if (sc->only) {
        return strcmp(api, sc->def->t->api) == 0 ? sc->def : NULL;
    }
    return cq_dsl_gen_tab(g, api);
}

static const struct cq_dsl_column *scope_col(struct cq_dsl_gen *g, const struct scope *sc,
                                             const char *table, const char *column,
                                             const struct cq_dsl_gtab **tab)
{
    const struct cq_dsl_column *c;

    *tab = scope_tab(g, sc, table);
    if (*tab == NULL) {
        fail_table(g, table);
        return NULL;
    }
    c = column != NULL ? cq_dsl_column_by_api((*tab)->t, column) : NULL;
    if (c == NULL) {
        fail_column(g, (*tab)->t->api, column != NULL ? column : "");
    }
    return c;
}

static void value_filter(struct cq_dsl_gen *g, const struct cq_dsl_filter *f,
                         const struct scope *sc)
{
    struct cq_dsl_cond c;

    c.col = scope_col(g, sc, f->table, f->column, &c.tab);
    if (c.col == NULL) {
        return;
    }
    c.op = f->op;
    c.value = f->value != NULL ? f->value : &cq_dsl_null_val;
    cond(g, &c);
}

static bool temporal(const struct cq_dsl_column *c)
{
    return c->type == CQ_DSL_T_DATE || c->type == CQ_DSL_T_TIMESTAMP;
}

static void column_side(struct cq_dsl_gen *g, const struct cq_dsl_gtab *tab,
                        const struct cq_dsl_column *c, bool as_time)
{
    if (as_time) {
        CQ_DSL_LIT(&g->sb, "julianday(");
    }
    cq_dsl_gen_col(g, tab, c);
    if (as_time) {
        cq_dsl_sb_putc(&g->sb, ')');
    }
}

static void column_filter(struct cq_dsl_gen *g, const struct cq_dsl_filter *f,
                          const struct scope *sc)
{
    const struct cq_dsl_gtab *lt, *rt;
    const struct cq_dsl_column *l = scope_col(g, sc, f->table, f->column, &lt);
    const struct cq_dsl_column *r = l != NULL ? scope_col(g, sc, f->ref_table, f->ref_column,
                                                          &rt)
                                              : NULL;
    bool as_time;

    if (r == NULL) {
        return;
    }
    if (cmp_text(f->op) == NULL) {
        const char *msg = cq_arena_printf(g->a, "Invalid column filter operator '%s'",
                                          f->op_text ? f->op_text : "");
        cq_dsl_gen_fail(g, "INVALID_FILTER", msg ? msg : "", NULL);
        return;
    }
    /* SQLite keeps dates and timestamps as text in more than one ISO form: compare instants */
    as_time = g->d->id == CQ_DIALECT_SQLITE && (temporal(l) || temporal(r)) &&
              !(l->type == CQ_DSL_T_DATE && r->type == CQ_DSL_T_DATE);
    column_side(g, lt, l, as_time);
    cq_dsl_gen_cmp_op(g, f->op);
    column_side(g, rt, r, as_time);
}

/* ---- EXISTS and counted subqueries (spec §8.4, §9) ---------------------------------------- */

struct sub {
    const struct cq_dsl_filter *f;
    struct cq_dsl_gtab tab;               /* the EXISTS table, alias sN */
    const struct cq_dsl_gtab *parent;
    const struct cq_dsl_column *pc;       /* parent side of the relation */
    const struct cq_dsl_column *fc;       /* sN side */
};

/* The subquery's own conditions after its correlation: row filters, then its filters as one
 * condition (several: an AND group). */
static void sub_conds(struct cq_dsl_gen *g, const struct sub *s, bool *first,
                      const char *first_text)
{
    struct scope in = {&s->tab, true};

    rls(g, &s->tab, first, first_text, " AND ");
    if (live(s->f->filters, s->f->n_filters) > 0) {
        sep(g, first, first_text, " AND ");
        conds(g, s->f->filters, s->f->n_filters, " AND ", filter, &in, false);
    }
}

/* FROM <t> AS sN WHERE <parent.pc> = <sN.fc> [AND ...] */
static void sub_from_where(struct cq_dsl_gen *g, const struct sub *s)
{
    bool first = false;

    CQ_DSL_LIT(&g->sb, " FROM ");
    cq_dsl_gen_table_name(g, &s->tab);
    CQ_DSL_LIT(&g->sb, " AS ");
    g->d->quote_ident(&g->sb, s->tab.alias, s->tab.alias_len);
    CQ_DSL_LIT(&g->sb, " WHERE ");
    cq_dsl_gen_col(g, s->parent, s->pc);
    CQ_DSL_LIT(&g->sb, " = ");
    cq_dsl_gen_col(g, &s->tab, s->fc);
    sub_conds(g, s, &first, "");
}

static void count_param(struct cq_dsl_gen *g, const struct cq_dsl_val *v)
{
    cq_dsl_gen_param(g, v, CQ_DSL_T_INT, false, "UInt64");
}

/* ClickHouse and Trino: <parent> [NOT ]IN (SELECT <fk> FROM t AS sN [WHERE w] GROUP BY <fk>
 * HAVING COUNT(*) op k), `<` and `<=` as NOT IN of the inverted test. */
static void counted_rewrite(struct cq_dsl_gen *g, const struct sub *s, const struct cq_dsl_val *v)
{
    enum cq_dsl_op op = s->f->op;
    bool neg = op == CQ_DSL_OP_LT || op == CQ_DSL_OP_LE;
    bool first = true;

    if (neg) {
        op = op == CQ_DSL_OP_LT ? CQ_DSL_OP_GE : CQ_DSL_OP_GT;
    }
    cq_dsl_gen_col(g, s->parent, s->pc);
    if (neg) {
        CQ_DSL_LIT(&g->sb, " NOT IN (SELECT ");
    } else {
        CQ_DSL_LIT(&g->sb, " IN (SELECT ");
    }
    cq_dsl_gen_col(g, &s->tab, s->fc);
    CQ_DSL_LIT(&g->sb, " FROM ");
    cq_dsl_gen_table_name(g, &s->tab);
    CQ_DSL_LIT(&g->sb, " AS ");
    g->d->quote_ident(&g->sb, s->tab.alias, s->tab.alias_len);
    sub_conds(g, s, &first, " WHERE ");
    CQ_DSL_LIT(&g->sb, " GROUP BY ");
    cq_dsl_gen_col(g, &s->tab, s->fc);
    CQ_DSL_LIT(&g->sb, " HAVING COUNT(*)");
    cq_dsl_gen_cmp_op(g, op);
    count_param(g, v);
    cq_dsl_sb_putc(&g->sb, ')');
}

static void counted(struct cq_dsl_gen *g, const struct sub *s)
{
    enum cq_dsl_op op = s->f->op;
    const struct cq_dsl_val *v = s->f->value != NULL ? s->f->value : &cq_dsl_null_val;
    int64_t n;

    if (cmp_text(op) == NULL) {
        const char *msg = cq_arena_printf(g->a, "Invalid EXISTS count operator '%s'",
                                          s->f->op_text ? s->f->op_text : "");
        cq_dsl_gen_fail(g, "INVALID_FILTER", msg ? msg : "", NULL);
        return;
    }
    if (g->d->counted_rewrite && op != CQ_DSL_OP_EQ && op != CQ_DSL_OP_NE) {
        counted_rewrite(g, s, v);
        return;
    }
    /* validation admits only non-negative whole counts */
    if ((op == CQ_DSL_OP_GE || op == CQ_DSL_OP_GT) && cq_dsl_val_whole(v, &n) && n >= 0) {
        /* stop counting once the answer is known */
        CQ_DSL_LIT(&g->sb, "(SELECT COUNT(*) FROM (SELECT 1");
        sub_from_where(g, s);
        CQ_DSL_LIT(&g->sb, " LIMIT ");
        cq_dsl_sb_i64(&g->sb, op == CQ_DSL_OP_GT && n < INT64_MAX ? n + 1 : n);
        CQ_DSL_LIT(&g->sb, ") AS ");
        cq_dsl_gen_ident(g, "_c");
        cq_dsl_sb_putc(&g->sb, ')');
    } else {
        CQ_DSL_LIT(&g->sb, "(SELECT COUNT(*)");
        sub_from_where(g, s);
        cq_dsl_sb_putc(&g->sb, ')');
    }
    cq_dsl_gen_cmp_op(g, op);
    count_param(g, v);
}

static void exists(struct cq_dsl_gen *g, const struct cq_dsl_filter *f, const struct scope *sc)
{
    const struct cq_dsl_table *t = f->table != NULL ? cq_dsl_table_by_api(g->cat, f->table)
                                                    : NULL;
    struct sub s;

    if (t == NULL) {
        json_t *d = json_object();
        const char *msg = cq_arena_printf(g->a, "EXISTS references unknown table '%s'",
                                          f->table ? f->table : "");
        json_object_set_new(d, "table", json_string(f->table ? f->table : ""));
        json_object_set_new(d, "filterIndex", json_integer((json_int_t)g->filter_index));
        cq_dsl_gen_fail(g, "UNKNOWN_TABLE", msg ? msg : "", d);
        return;
    }
    memset(&s, 0, sizeof(s));
    s.f = f;
    cq_dsl_gen_tab_init(g, &s.tab, t);
    cq_dsl_gen_alias(g, &s.tab, 's');
    s.parent = sc->def;
    if (!cq_dsl_gen_relate(sc->def->t, t, &s.pc, &s.fc)) {
        s.parent = NULL;
        /* spec §0.4: a top-level EXISTS related only to a joined table goes through it */
        for (size_t i = 0; !sc->only && i < g->n_tabs && s.parent == NULL; i++) {
            if (&g->tabs[i] != sc->def && cq_dsl_gen_relate(g->tabs[i].t, t, &s.pc, &s.fc)) {
                s.parent = &g->tabs[i];
            }
        }
    }
    if (s.parent == NULL) {
        json_t *d = json_object();
        const char *msg = cq_arena_printf(g->a, "No relation between '%s' and '%s'",
                                          sc->def->t->api, t->api);
        json_object_set_new(d, "table", json_string(t->api));
        json_object_set_new(d, "filterIndex", json_integer((json_int_t)g->filter_index));
        cq_dsl_gen_fail(g, "INVALID_EXISTS", msg ? msg : "", d);
        return;
    }
    if (f->has_count) {
        counted(g, &s);
        return;
    }
    if (!f->exists) {
        CQ_DSL_LIT(&g->sb, "NOT ");
    }
    CQ_DSL_LIT(&g->sb, "EXISTS (SELECT 1");
    sub_from_where(g, &s);
    cq_dsl_sb_putc(&g->sb, ')');
}

static void filter(struct cq_dsl_gen *g, const struct cq_dsl_filter *f, const struct scope *sc)
{
    if (g->rc != CQ_OK) {
        return;
    }
    switch (f->kind) {
    case CQ_DSL_F_GROUP:
        group(g, f, sc, filter);
        break;
    case CQ_DSL_F_EXISTS:
        exists(g, f, sc);
        break;
    case CQ_DSL_F_COLUMN:
        column_filter(g, f, sc);
        break;
    case CQ_DSL_F_VALUE:
        value_filter(g, f, sc);
        break;
    }
}

/* ---- WHERE -------------------------------------------------------------------------------- */

static void by_ids(struct cq_dsl_gen *g)
{
    const struct cq_dsl_gtab *t0 = &g->tabs[0];
    struct cq_dsl_cond c = {CQ_DSL_OP_IN, t0, NULL, g->q->by_ids};

    if (t0->t->n_pk != 1) {
        const char *msg = cq_arena_printf(g->a, "byIds requires a single-column primary key, "
                                          "table '%s' has %zu", t0->t->api,
                                          t0->t->n_pk_declared);
        cq_dsl_gen_fail(g, "INVALID_BY_IDS", msg ? msg : "", NULL);
        return;
    }
    c.col = t0->t->pk[0];
    cond(g, &c);
}

/* Top-level filters of the WHERE list in scope sc, each after its separator. */
static void where_filters(struct cq_dsl_gen *g, struct cq_dsl_filter *const *f, size_t n,
                          const struct scope *sc, bool *first)
{
    for (size_t i = 0; i < n; i++) {
        if (!vanishes(f[i])) {
            g->filter_index = i;
            sep(g, first, "", " AND ");
            filter(g, f[i], sc);
        }
    }
}

void cq_dsl_gen_where(struct cq_dsl_gen *g)
{
    const struct cq_dsl_query *q = g->q;
    const struct cq_dsl_gtab *t0 = &g->tabs[0];
    struct scope top = {t0, false};
    size_t n = rls_count(t0) + (q->by_ids != NULL ? 1 : 0) + live(q->filters, q->n_filters);
    bool first = true;

    for (size_t i = 0; i < q->n_joins; i++) {
        n += live(q->joins[i].filters, q->joins[i].n_filters);
    }
    if (n == 0) {
        return;
    }
    CQ_DSL_LIT(&g->sb, " WHERE ");
    if (n > 1) {
        cq_dsl_sb_putc(&g->sb, '(');
    }
    rls(g, t0, &first, "", " AND ");
    if (q->by_ids != NULL) {
        sep(g, &first, "", " AND ");
        by_ids(g);
    }
    where_filters(g, q->filters, q->n_filters, &top, &first);
    for (size_t j = 0; j < q->n_joins; j++) {
        struct scope js = {g->jt[j], false};
        where_filters(g, q->joins[j].filters, q->joins[j].n_filters, &js, &first);
    }
    if (n > 1) {
        cq_dsl_sb_putc(&g->sb, ')');
    }
}

/* ---- HAVING ------------------------------------------------------------------------------- */

/* A HAVING value the standard way: an untyped placeholder, typed by the JSON value (HAVING
 * values are not typed by validation). */
static enum cq_dsl_type js_type(const struct cq_dsl_val *v)
{
    switch (v->kind) {
    case CQ_DSL_V_INT:
        return CQ_DSL_T_INT;
    case CQ_DSL_V_REAL:
        return CQ_DSL_T_DECIMAL;
    case CQ_DSL_V_BOOL:
        return CQ_DSL_T_BOOLEAN;
    default:
        break;
    }
    return CQ_DSL_T_STRING;
}

static void having_value(struct cq_dsl_gen *g, const struct cq_dsl_val *v, enum cq_dsl_type t)
{
    (void)t;
    cq_dsl_gen_param(g, v, js_type(v), false, NULL);
}

/* The left side: the aggregate expression, since neither PostgreSQL nor Trino resolves
 * select aliases in HAVING; ClickHouse does, and compares the alias (spec §9). */
static void having_lhs(struct cq_dsl_gen *g, const struct cq_dsl_agg *agg)
{
    if (g->d->having_alias) {
        cq_dsl_gen_ident(g, agg->alias);
    } else {
        cq_dsl_gen_agg_expr(g, agg);
    }
}

static int having_cond(struct cq_dsl_gen *g, const struct cq_dsl_agg *agg, enum cq_dsl_op op,
                       const struct cq_dsl_val *v)
{
    cq_dsl_value_fn value = g->d->having_value != NULL ? g->d->having_value : having_value;
    bool paren = op == CQ_DSL_OP_NOT_BETWEEN && g->d->not_between_paren;

    if (cmp_text(op) != NULL) {
        having_lhs(g, agg);
        cq_dsl_gen_cmp_op(g, op);
        value(g, v, CQ_DSL_T_STRING);
        return CQ_OK;
    }
    switch (op) {
    case CQ_DSL_OP_IN:
    case CQ_DSL_OP_NOT_IN:
        if (!empty_in(g, op, v)) {
            having_lhs(g, agg);
            cq_dsl_gen_in(g, op == CQ_DSL_OP_NOT_IN, v, CQ_DSL_T_STRING, value);
        }
        return CQ_OK;
    case CQ_DSL_OP_BETWEEN:
    case CQ_DSL_OP_NOT_BETWEEN:
        if (paren) {
            CQ_DSL_LIT(&g->sb, "NOT (");
        }
        having_lhs(g, agg);
        cq_dsl_gen_between(g, op == CQ_DSL_OP_NOT_BETWEEN && !paren, v, CQ_DSL_T_STRING, value);
        if (paren) {
            cq_dsl_sb_putc(&g->sb, ')');
        }
        return CQ_OK;
    case CQ_DSL_OP_IS_NULL:
    case CQ_DSL_OP_IS_NOT_NULL:
        having_lhs(g, agg);
        cq_dsl_sb_puts(&g->sb, op == CQ_DSL_OP_IS_NULL ? " IS NULL" : " IS NOT NULL");
        return CQ_OK;
    default:
        break;
    }
    return CQ_EUNSUPPORTED;
}

static void having_node(struct cq_dsl_gen *g, const struct cq_dsl_filter *f,
                        const struct scope *sc)
{
    const struct cq_dsl_agg *agg;

    if (g->rc != CQ_OK) {
        return;
    }
    if (f->kind == CQ_DSL_F_GROUP) {
        group(g, f, sc, having_node);
        return;
    }
    agg = f->kind == CQ_DSL_F_VALUE ? cq_dsl_gen_agg_by_alias(g->q, f->column) : NULL;
    if (agg == NULL) {
        json_t *d = json_object();
        const char *msg = cq_arena_printf(g->a, "HAVING column '%s' is not an aggregation alias",
                                          f->column ? f->column : "");
        json_object_set_new(d, "alias", json_string(f->column ? f->column : ""));
        cq_dsl_gen_fail(g, "INVALID_HAVING", msg ? msg : "", d);
        return;
    }
    if (having_cond(g, agg, f->op, f->value != NULL ? f->value : &cq_dsl_null_val) != CQ_OK) {
        unsupported(g, f->op, agg->alias);
    }
}

void cq_dsl_gen_having(struct cq_dsl_gen *g)
{
    const struct cq_dsl_query *q = g->q;
    struct scope none = {&g->tabs[0], false};

    if (live(q->having, q->n_having) > 0) {
        CQ_DSL_LIT(&g->sb, " HAVING ");
        conds(g, q->having, q->n_having, " AND ", having_node, &none, true);
    }
}
