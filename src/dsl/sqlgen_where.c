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

static void group(struct cq_dsl_gen *g, const struct cq_dsl_filter *f, const struct scope *sc,
                  cq_dsl_node_fn node)
{
    size_t n = live(f->conds, f->n_conds);
    bool first = true;

    if (f->negate) {
        CQ_DSL_LIT(&g->sb, "NOT ");
    }
    if (n > 1) {
        cq_dsl_sb_putc(&g->sb, '(');
    }
    for (size_t i = 0; i < f->n_conds; i++) {
        if (!vanishes(f->conds[i])) {
            sep(g, &first, "", is_or(f) ? " OR " : " AND ");
            node(g, f->conds[i], sc);
        }
    }
    if (n > 1) {
        cq_dsl_sb_putc(&g->sb, ')');
    }
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
        if (c.value->n == 0) {
            /* nothing is in an empty list; everything is outside it */
            if (c.op == CQ_DSL_OP_IN) {
                CQ_DSL_LIT(&g->sb, "1 = 0");
            } else {
                CQ_DSL_LIT(&g->sb, "1 = 1");
            }
            return;
        }
    }
    if (g->d->cond(g, &c) != CQ_OK) {
        unsupported(g, c.op, c.col->api);
    }
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
    if (g->d->cond(g, &c) != CQ_OK) {
        unsupported(g, c.op, c.col->api);
    }
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
    const char *op = cq_dsl_gen_cmp(f->op);
    bool as_time;

    if (r == NULL) {
        return;
    }
    if (op == NULL) {
        const char *msg = cq_arena_printf(g->a, "Invalid column filter operator '%s'",
                                          f->op_text ? f->op_text : "");
        cq_dsl_gen_fail(g, "INVALID_FILTER", msg ? msg : "", NULL);
        return;
    }
    /* SQLite keeps dates and timestamps as text in more than one ISO form: compare instants */
    as_time = g->d->id == CQ_DIALECT_SQLITE && (temporal(l) || temporal(r)) &&
              !(l->type == CQ_DSL_T_DATE && r->type == CQ_DSL_T_DATE);
    column_side(g, lt, l, as_time);
    cq_dsl_sb_putc(&g->sb, ' ');
    cq_dsl_sb_puts(&g->sb, op);
    cq_dsl_sb_putc(&g->sb, ' ');
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
    size_t n = live(s->f->filters, s->f->n_filters);
    bool inner = true;

    rls(g, &s->tab, first, first_text, " AND ");
    if (n == 0) {
        return;
    }
    sep(g, first, first_text, " AND ");
    if (n > 1) {
        cq_dsl_sb_putc(&g->sb, '(');
    }
    for (size_t i = 0; i < s->f->n_filters; i++) {
        if (!vanishes(s->f->filters[i])) {
            sep(g, &inner, "", " AND ");
            filter(g, s->f->filters[i], &in);
        }
    }
    if (n > 1) {
        cq_dsl_sb_putc(&g->sb, ')');
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

/* An integer count value (validation admits only non-negative integers). */
static bool count_value(const struct cq_dsl_val *v, int64_t *out)
{
    if (v->kind == CQ_DSL_V_INT && v->i >= 0) {
        *out = v->i;
        return true;
    }
    if (v->kind == CQ_DSL_V_REAL && v->d >= 0 && v->d < 9.2e18 &&
        (double)(int64_t)v->d == v->d) {
        *out = (int64_t)v->d;
        return true;
    }
    return false;
}

static void count_param(struct cq_dsl_gen *g, const struct cq_dsl_val *v)
{
    cq_dsl_gen_param(g, v, CQ_DSL_T_INT, false, "UInt64");
}

static void op_text(struct cq_dsl_gen *g, enum cq_dsl_op op)
{
    cq_dsl_sb_putc(&g->sb, ' ');
    cq_dsl_sb_puts(&g->sb, cq_dsl_gen_cmp(op));
    cq_dsl_sb_putc(&g->sb, ' ');
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
    op_text(g, op);
    count_param(g, v);
    cq_dsl_sb_putc(&g->sb, ')');
}

static void counted(struct cq_dsl_gen *g, const struct sub *s)
{
    enum cq_dsl_op op = s->f->op;
    const struct cq_dsl_val *v = s->f->value != NULL ? s->f->value : &cq_dsl_null_val;
    int64_t n;

    if (cq_dsl_gen_cmp(op) == NULL) {
        const char *msg = cq_arena_printf(g->a, "Invalid EXISTS count operator '%s'",
                                          s->f->op_text ? s->f->op_text : "");
        cq_dsl_gen_fail(g, "INVALID_FILTER", msg ? msg : "", NULL);
        return;
    }
    if (g->d->counted_rewrite && op != CQ_DSL_OP_EQ && op != CQ_DSL_OP_NE) {
        counted_rewrite(g, s, v);
        return;
    }
    if ((op == CQ_DSL_OP_GE || op == CQ_DSL_OP_GT) && count_value(v, &n)) {
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
    op_text(g, op);
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

static void group_node(struct cq_dsl_gen *g, const struct cq_dsl_filter *f,
                       const struct scope *sc)
{
    filter(g, f, sc);
}

static void filter(struct cq_dsl_gen *g, const struct cq_dsl_filter *f, const struct scope *sc)
{
    if (g->rc != CQ_OK) {
        return;
    }
    switch (f->kind) {
    case CQ_DSL_F_GROUP:
        group(g, f, sc, group_node);
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
    if (g->d->cond(g, &c) != CQ_OK) {
        unsupported(g, c.op, c.col->api);
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
    for (size_t i = 0; i < q->n_filters; i++) {
        if (!vanishes(q->filters[i])) {
            g->filter_index = i;
            sep(g, &first, "", " AND ");
            filter(g, q->filters[i], &top);
        }
    }
    for (size_t j = 0; j < q->n_joins; j++) {
        struct scope js = {g->jt[j], false};
        for (size_t i = 0; i < q->joins[j].n_filters; i++) {
            if (!vanishes(q->joins[j].filters[i])) {
                g->filter_index = i;
                sep(g, &first, "", " AND ");
                filter(g, q->joins[j].filters[i], &js);
            }
        }
    }
    if (n > 1) {
        cq_dsl_sb_putc(&g->sb, ')');
    }
}

/* ---- HAVING ------------------------------------------------------------------------------- */

static const struct cq_dsl_agg *agg_by_alias(const struct cq_dsl_query *q, const char *alias)
{
    for (size_t i = 0; alias != NULL && i < q->n_aggs; i++) {
        if (q->aggs[i].alias != NULL && strcmp(q->aggs[i].alias, alias) == 0) {
            return &q->aggs[i];
        }
    }
    return NULL;
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
    agg = f->kind == CQ_DSL_F_VALUE ? agg_by_alias(g->q, f->column) : NULL;
    if (agg == NULL) {
        json_t *d = json_object();
        const char *msg = cq_arena_printf(g->a, "HAVING column '%s' is not an aggregation alias",
                                          f->column ? f->column : "");
        json_object_set_new(d, "alias", json_string(f->column ? f->column : ""));
        cq_dsl_gen_fail(g, "INVALID_HAVING", msg ? msg : "", d);
        return;
    }
    if (g->d->having(g, agg, f->op, f->value != NULL ? f->value : &cq_dsl_null_val) != CQ_OK) {
        unsupported(g, f->op, agg->alias);
    }
}

void cq_dsl_gen_having(struct cq_dsl_gen *g)
{
    const struct cq_dsl_query *q = g->q;
    struct scope none = {&g->tabs[0], false};
    size_t n = live(q->having, q->n_having);
    bool first = true;

    if (n == 0) {
        return;
    }
    CQ_DSL_LIT(&g->sb, " HAVING ");
    if (n > 1) {
        cq_dsl_sb_putc(&g->sb, '(');
    }
    for (size_t i = 0; i < q->n_having; i++) {
        if (!vanishes(q->having[i])) {
            g->filter_index = i;
            sep(g, &first, "", " AND ");
            having_node(g, q->having[i], &none);
        }
    }
    if (n > 1) {
        cq_dsl_sb_putc(&g->sb, ')');
    }
}

/* A HAVING value's parameter type follows the JSON value (HAVING values are not typed by
 * validation). */
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

/* The standard HAVING (PostgreSQL, Trino, SQLite): the aggregate expression itself, since
 * neither PostgreSQL nor Trino resolves select aliases there. */
int cq_dsl_gen_having_std(struct cq_dsl_gen *g, const struct cq_dsl_agg *agg,
                          enum cq_dsl_op op, const struct cq_dsl_val *v)
{
    const char *cmp = cq_dsl_gen_cmp(op);

    if (cmp != NULL) {
        cq_dsl_gen_agg_expr(g, agg);
        op_text(g, op);
        cq_dsl_gen_param(g, v, js_type(v), false, NULL);
        return CQ_OK;
    }
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
        cq_dsl_gen_agg_expr(g, agg);
        if (op == CQ_DSL_OP_IN) {
            CQ_DSL_LIT(&g->sb, " IN (");
        } else {
            CQ_DSL_LIT(&g->sb, " NOT IN (");
        }
        for (size_t i = 0; i < n; i++) {
            const struct cq_dsl_val *it = &items[i];
            if (i > 0) {
                CQ_DSL_LIT(&g->sb, ", ");
            }
            cq_dsl_gen_param(g, it, js_type(it), false, NULL);
        }
        cq_dsl_sb_putc(&g->sb, ')');
        return CQ_OK;
    }
    case CQ_DSL_OP_BETWEEN:
    case CQ_DSL_OP_NOT_BETWEEN:
        cq_dsl_gen_agg_expr(g, agg);
        if (op == CQ_DSL_OP_BETWEEN) {
            CQ_DSL_LIT(&g->sb, " BETWEEN ");
        } else {
            CQ_DSL_LIT(&g->sb, " NOT BETWEEN ");
        }
        cq_dsl_gen_param(g, cq_dsl_val_get(v, "from"), js_type(cq_dsl_val_get(v, "from")),
                         false, NULL);
        CQ_DSL_LIT(&g->sb, " AND ");
        cq_dsl_gen_param(g, cq_dsl_val_get(v, "to"), js_type(cq_dsl_val_get(v, "to")), false,
                         NULL);
        return CQ_OK;
    case CQ_DSL_OP_IS_NULL:
    case CQ_DSL_OP_IS_NOT_NULL:
        cq_dsl_gen_agg_expr(g, agg);
        if (op == CQ_DSL_OP_IS_NULL) {
            CQ_DSL_LIT(&g->sb, " IS NULL");
        } else {
            CQ_DSL_LIT(&g->sb, " IS NOT NULL");
        }
        return CQ_OK;
    default:
        break;
    }
    return CQ_EUNSUPPORTED;
}
