/*
 * sqlgen.c - name resolution (spec §8) and the statement skeleton (spec §9): aliases,
 * JOIN ... ON, selected columns and their result keys, tablesUsed, then SELECT, FROM,
 * JOINs, WHERE (sqlgen_where.c), GROUP BY, HAVING, ORDER BY, LIMIT/OFFSET.
 *
 * Everything is printed once, left to right, into one arena buffer, so parameters are
 * numbered in order of appearance simply by being recorded as they are printed. The
 * dialect (dialect_*.c) prints identifiers, literals, placeholders and value conditions;
 * nothing here emits a quote character.
 */
#include <string.h>

#include "dsl/internal.h"

const struct cq_dsl_val cq_dsl_null_val = {.kind = CQ_DSL_V_NULL};

/* ---- the text builder ---------------------------------------------------------------------- */

char *cq_dsl_sb_grow(struct cq_dsl_sb *b, size_t n)
{
    size_t cap = b->cap != 0 ? b->cap : 256;
    char *p;

    if (b->rc != CQ_OK) {
        return NULL;
    }
    if (n < b->cap - b->len) {
        return b->p + b->len;
    }
    while (n >= cap - b->len) {
        if (cap > ((size_t)-1) / 4) {
            b->rc = CQ_ENOMEM;
            return NULL;
        }
        cap *= 2;
    }
    p = cq_arena_alloc(b->a, cap);
    if (p == NULL) {
        b->rc = CQ_ENOMEM;
        return NULL;
    }
    if (b->len > 0) {
        memcpy(p, b->p, b->len);
    }
    b->p = p;
    b->cap = cap;
    return p + b->len;
}

void cq_dsl_sb_puts(struct cq_dsl_sb *b, const char *s)
{
    cq_dsl_sb_put(b, s, strlen(s));
}

void cq_dsl_sb_i64(struct cq_dsl_sb *b, int64_t v)
{
    char tmp[24];
    size_t k = sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    do {
        tmp[--k] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        tmp[--k] = '-';
    }
    cq_dsl_sb_put(b, tmp + k, sizeof(tmp) - k);
}

/* ---- helpers for the dialects --------------------------------------------------------------- */

const struct cq_dsl_dialect *cq_dsl_dialect_get(enum cq_dialect d)
{
    switch (d) {
    case CQ_DIALECT_PG:
        return &cq_dsl_dialect_pg;
    case CQ_DIALECT_CH:
        return &cq_dsl_dialect_ch;
    case CQ_DIALECT_TRINO:
        return &cq_dsl_dialect_trino;
    case CQ_DIALECT_SQLITE:
        return &cq_dsl_dialect_sqlite;
    case CQ_DIALECT_NONE:
        break;
    }
    return NULL;
}

const struct cq_dsl_val *cq_dsl_val_get(const struct cq_dsl_val *v, const char *key)
{
    if (v != NULL && v->kind == CQ_DSL_V_OBJECT) {
        for (size_t i = 0; i < v->n; i++) {
            if (strcmp(v->keys[i], key) == 0) {
                return &v->items[i];
            }
        }
    }
    return &cq_dsl_null_val;
}

bool cq_dsl_val_whole(const struct cq_dsl_val *v, int64_t *n)
{
    if (v->kind == CQ_DSL_V_INT) {
        *n = v->i;
        return true;
    }
    if (v->kind == CQ_DSL_V_REAL && v->d >= 0 && v->d < 9.2e18 &&
        (double)(int64_t)v->d == v->d) {
        *n = (int64_t)v->d;
        return true;
    }
    return false;
}

void cq_dsl_gen_ident(struct cq_dsl_gen *g, const char *s)
{
    g->d->quote_ident(&g->sb, s, strlen(s));
}

void cq_dsl_gen_col(struct cq_dsl_gen *g, const struct cq_dsl_gtab *tab,
                    const struct cq_dsl_column *c)
{
    g->d->quote_ident(&g->sb, tab->alias, tab->alias_len);
    cq_dsl_sb_putc(&g->sb, '.');
    g->d->quote_ident(&g->sb, c->phys, strlen(c->phys));
}

void cq_dsl_gen_param(struct cq_dsl_gen *g, const struct cq_dsl_val *v, enum cq_dsl_type t,
                      bool array, const char *ch_type)
{
    struct cq_dsl_param *p;

    if (g->n_params == g->cap_params) {
        p = cq_arena_grow(g->a, g->params, g->n_params, &g->cap_params, sizeof(*p));
        if (p == NULL) {
            g->rc = CQ_ENOMEM;
            return;
        }
        g->params = p;
    }
    p = &g->params[g->n_params++];
    p->v = v != NULL ? v : &cq_dsl_null_val;
    p->type = t;
    p->array = array;
    g->d->placeholder(g, g->n_params, ch_type);
}

struct cq_dsl_val *cq_dsl_gen_str_val(struct cq_dsl_gen *g, size_t cap, char **buf)
{
    struct cq_dsl_val *v = cq_arena_alloc(g->a, sizeof(*v));
    char *s = cq_arena_alloc(g->a, cap + 1);

    if (v == NULL || s == NULL) {
        g->rc = CQ_ENOMEM;
        return NULL;
    }
    v->kind = CQ_DSL_V_STRING;
    v->s = s;
    *buf = s;
    return v;
}

const struct cq_dsl_val *cq_dsl_gen_like_val(struct cq_dsl_gen *g, const struct cq_dsl_val *v,
                                             bool pre, bool post)
{
    struct cq_dsl_val *nv;
    size_t extra = 0;
    char *w, *start;

    if (v->kind != CQ_DSL_V_STRING) {
        return v; /* validation admits only strings here */
    }
    for (size_t i = 0; i < v->len; i++) {
        extra += v->s[i] == '%' || v->s[i] == '_' || v->s[i] == '\\';
    }
    nv = cq_dsl_gen_str_val(g, v->len + extra + 2, &start);
    if (nv == NULL) {
        return v;
    }
    w = start;
    if (pre) {
        *w++ = '%';
    }
    for (size_t i = 0; i < v->len; i++) {
        char c = v->s[i];
        if (c == '%' || c == '_' || c == '\\') {
            *w++ = '\\';
        }
        *w++ = c;
    }
    if (post) {
        *w++ = '%';
    }
    *w = '\0';
    nv->len = (size_t)(w - start);
    return nv;
}

static const char *const agg_names[] = {"", "COUNT", "SUM", "AVG", "MIN", "MAX"};

/* Column `column` of table `table` (an apiName among t0 and the joins; NULL = t0), or NULL. */
static const struct cq_dsl_column *find_col(const struct cq_dsl_gen *g, const char *table,
                                            const char *column, const struct cq_dsl_gtab **tab)
{
    *tab = table != NULL ? cq_dsl_gen_tab(g, table) : &g->tabs[0];
    return *tab != NULL ? cq_dsl_column_by_api((*tab)->t, column) : NULL;
}

void cq_dsl_gen_agg_expr(struct cq_dsl_gen *g, const struct cq_dsl_agg *agg)
{
    const struct cq_dsl_gtab *tab;
    const struct cq_dsl_column *c;

    if (agg->fn <= CQ_DSL_AGG_UNKNOWN || agg->fn > CQ_DSL_AGG_MAX) {
        cq_dsl_gen_fail(g, "INVALID_AGGREGATION", "Aggregation does not resolve", NULL);
        return;
    }
    if (strcmp(agg->column, "*") == 0) {
        cq_dsl_sb_puts(&g->sb, agg_names[agg->fn]);
        CQ_DSL_LIT(&g->sb, "(*)");
        return;
    }
    c = find_col(g, agg->table, agg->column, &tab);
    if (c == NULL) {
        cq_dsl_gen_fail(g, "INVALID_AGGREGATION", "Aggregation does not resolve", NULL);
        return;
    }
    if (g->d->agg != NULL && g->d->agg(g, agg->fn, tab, c)) {
        return;
    }
    cq_dsl_sb_puts(&g->sb, agg_names[agg->fn]);
    cq_dsl_sb_putc(&g->sb, '(');
    cq_dsl_gen_col(g, tab, c);
    cq_dsl_sb_putc(&g->sb, ')');
}

void cq_dsl_gen_fail(struct cq_dsl_gen *g, const char *code, const char *message,
                     json_t *details)
{
    json_t *errors;

    if (g->rc != CQ_OK) {
        json_decref(details);
        return;
    }
    errors = json_array();
    json_array_append_new(errors, cq_dsl_entry(code, message, details));
    cq_dsl_error_validation(g->e, g->q->from, errors);
    g->rc = CQ_EINVAL;
}

/* ---- tables and aliases --------------------------------------------------------------------- */

static const char *const t_alias[] = {"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"};
static const char *const s_alias[] = {"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7"};

void cq_dsl_gen_alias(struct cq_dsl_gen *g, struct cq_dsl_gtab *tab, char kind)
{
    unsigned n = g->counter++;

    if (n < 8) {
        tab->alias = kind == 't' ? t_alias[n] : s_alias[n];
        tab->alias_len = 2;
        return;
    }
    tab->alias = cq_arena_printf(g->a, "%c%u", kind, n);
    if (tab->alias == NULL) {
        g->rc = CQ_ENOMEM;
        tab->alias = "";
    }
    tab->alias_len = strlen(tab->alias);
}

void cq_dsl_gen_tab_init(struct cq_dsl_gen *g, struct cq_dsl_gtab *tab,
                         const struct cq_dsl_table *t)
{
    const struct cq_dsl_plan *p = g->plan;

    memset(tab, 0, sizeof(*tab));
    tab->t = t;
    tab->phys = t->phys;
    tab->db = t->db;
    for (size_t i = 0; p != NULL && i < p->n_tables; i++) {
        if (p->tables[i] == t) {
            tab->phys = p->phys[i];
            tab->db = p->dbs[i];
            tab->replaced = p->replaced[i];
            break;
        }
    }
    tab->ta = cq_dsl_access_get(g->acc, t);
    if (tab->ta == NULL) {
        g->rc = CQ_ENOMEM;
    }
}

const struct cq_dsl_gtab *cq_dsl_gen_tab(const struct cq_dsl_gen *g, const char *api)
{
    for (size_t i = 0; i < g->n_tabs; i++) {
        if (strcmp(g->tabs[i].t->api, api) == 0) {
            return &g->tabs[i];
        }
    }
    return NULL;
}

void cq_dsl_gen_table_name(struct cq_dsl_gen *g, const struct cq_dsl_gtab *tab)
{
    const char *s = tab->phys;

    if (g->catalogs && tab->db != NULL && tab->db->trino_catalog != NULL) {
        cq_dsl_gen_ident(g, tab->db->trino_catalog);
        cq_dsl_sb_putc(&g->sb, '.');
    }
    for (;;) {
        const char *dot = strchr(s, '.');
        size_t len = dot != NULL ? (size_t)(dot - s) : strlen(s);
        g->d->quote_ident(&g->sb, s, len);
        if (dot == NULL) {
            break;
        }
        cq_dsl_sb_putc(&g->sb, '.');
        s = dot + 1;
    }
}

bool cq_dsl_gen_relate(const struct cq_dsl_table *r, const struct cq_dsl_table *j,
                       const struct cq_dsl_column **lc, const struct cq_dsl_column **rc)
{
    for (size_t i = 0; i < r->n_relations; i++) {
        const struct cq_dsl_relation *rel = &r->relations[i];
        if (rel->ref_table == j && rel->column != NULL && rel->ref_column != NULL) {
            *lc = rel->column;
            *rc = rel->ref_column;
            return true;
        }
    }
    for (size_t i = 0; i < j->n_relations; i++) {
        const struct cq_dsl_relation *rel = &j->relations[i];
        if (rel->ref_table == r && rel->column != NULL && rel->ref_column != NULL) {
            *lc = rel->ref_column;
            *rc = rel->column;
            return true;
        }
    }
    return false;
}

static json_t *table_details(const char *t)
{
    json_t *d = json_object();
    json_object_set_new(d, "table", json_string(t));
    return d;
}

static void register_joins(struct cq_dsl_gen *g)
{
    const struct cq_dsl_query *q = g->q;

    for (size_t i = 0; i < q->n_joins && g->rc == CQ_OK; i++) {
        const struct cq_dsl_table *t = cq_dsl_table_by_api(g->cat, q->joins[i].table);
        struct cq_dsl_gtab *tab = NULL;

        if (t == NULL) {
            const char *msg = cq_arena_printf(g->a, "Joined table '%s' does not exist",
                                              q->joins[i].table);
            cq_dsl_gen_fail(g, "UNKNOWN_TABLE", msg ? msg : "", table_details(q->joins[i].table));
            return;
        }
        for (size_t k = 0; k < g->n_tabs && tab == NULL; k++) {
            if (g->tabs[k].t == t) {
                tab = &g->tabs[k]; /* joining a table twice reuses its alias (spec §8.1) */
            }
        }
        if (tab == NULL) {
            tab = &g->tabs[g->n_tabs];
            cq_dsl_gen_tab_init(g, tab, t);
            cq_dsl_gen_alias(g, tab, 't');
            tab->join = &q->joins[i];
            for (size_t k = 0; k < g->n_tabs && tab->on_l == NULL; k++) {
                if (cq_dsl_gen_relate(g->tabs[k].t, t, &tab->on_l, &tab->on_r)) {
                    tab->on_l_tab = &g->tabs[k];
                }
            }
            if (tab->on_l == NULL) {
                const char *msg = cq_arena_printf(g->a, "No relation between '%s' and '%s'",
                                                  q->from, t->api);
                cq_dsl_gen_fail(g, "INVALID_JOIN", msg ? msg : "", table_details(t->api));
                return;
            }
            g->n_tabs++;
        }
        g->jt[i] = tab;
    }
}

/* ---- selected columns (spec §8.2, §10.1) -------------------------------------------------- */

static size_t pick_table(struct cq_dsl_gen *g, struct cq_dsl_cref *v, const struct cq_dsl_gtab *tab,
                         bool has, const char *const *names, size_t n_names)
{
    size_t n = 0;

    if (has) {
        for (size_t i = 0; i < n_names; i++) {
            const struct cq_dsl_column *c = cq_dsl_column_by_api(tab->t, names[i]);
            if (c == NULL) {
                json_t *d = json_object();
                const char *msg = cq_arena_printf(g->a, "Column '%s' does not exist in table "
                                                  "'%s'", names[i], tab->t->api);
                json_object_set_new(d, "table", json_string(tab->t->api));
                json_object_set_new(d, "column", json_string(names[i]));
                cq_dsl_gen_fail(g, "UNKNOWN_COLUMN", msg ? msg : "", d);
                return 0;
            }
            v[n].tab = tab;
            v[n++].c = c;
        }
        return n;
    }
    for (size_t i = 0; i < tab->t->n_columns; i++) {
        const struct cq_dsl_column *c = &tab->t->columns[i];
        if (tab->ta != NULL && cq_dsl_col_allowed(tab->ta, c)) {
            v[n].tab = tab;
            v[n++].c = c;
        }
    }
    return n;
}

static size_t pick_group_by(struct cq_dsl_gen *g, struct cq_dsl_cref *v)
{
    const struct cq_dsl_query *q = g->q;
    size_t n = 0;

    for (size_t i = 0; i < q->n_group_by; i++) {
        const struct cq_dsl_gtab *tab;
        const struct cq_dsl_column *c = find_col(g, q->group_by[i].table, q->group_by[i].column,
                                                 &tab);
        if (c == NULL) {
            cq_dsl_gen_fail(g, "INVALID_GROUP_BY", "GroupBy column does not resolve", NULL);
            return 0;
        }
        v[n].tab = tab;
        v[n++].c = c;
    }
    return n;
}

static char *concat3(struct cq_arena *a, const char *x, size_t xl, const char *sep, size_t sl,
                     const char *y)
{
    size_t yl = strlen(y);
    char *s = cq_arena_alloc(a, xl + sl + yl + 1);
    if (s != NULL) {
        memcpy(s, x, xl);
        memcpy(s + xl, sep, sl);
        memcpy(s + xl + sl, y, yl + 1);
    }
    return s;
}

static void outcol_plain(struct cq_dsl_gen *g, struct cq_dsl_outcol *o, const struct cq_dsl_cref *p,
                         bool collide)
{
    const struct cq_dsl_column *c = p->c;

    o->key = c->api;
    if (collide) {
        o->key = concat3(g->a, p->tab->t->api, strlen(p->tab->t->api), ".", 1, c->api);
    }
    o->sql_alias = concat3(g->a, p->tab->alias, p->tab->alias_len, "__", 2, c->phys);
    if (o->key == NULL || o->sql_alias == NULL) {
        g->rc = CQ_ENOMEM;
    }
    o->type_name = c->type_name;
    o->type = c->type;
    o->array = c->array;
    o->nullable = c->nullable;
    o->from_table = p->tab->t->api;
    o->masked = p->tab->ta != NULL && cq_dsl_col_masked(p->tab->ta, c);
    o->mask_fn = c->mask_fn != CQ_DSL_MASK_NONE ? c->mask_fn : CQ_DSL_MASK_FULL;
}

static void outcol_agg(struct cq_dsl_gen *g, struct cq_dsl_outcol *o, const struct cq_dsl_agg *ag)
{
    const struct cq_dsl_gtab *tab;
    const struct cq_dsl_column *c = NULL;

    o->key = ag->alias;
    o->sql_alias = ag->alias;
    o->from_table = ag->table != NULL ? ag->table : g->q->from;
    o->is_agg = true;
    if (strcmp(ag->column, "*") != 0) {
        c = find_col(g, ag->table, ag->column, &tab);
    }
    if (ag->fn == CQ_DSL_AGG_COUNT) {
        o->type_name = "int";
        o->type = CQ_DSL_T_INT;
    } else if (ag->fn == CQ_DSL_AGG_AVG) {
        o->type_name = "decimal";
        o->type = CQ_DSL_T_DECIMAL;
        o->nullable = c != NULL && c->nullable;
    } else if (c != NULL) {
        o->type_name = c->type_name;
        o->type = c->type;
        o->array = c->array;
        o->nullable = c->nullable;
    } else {
        o->type_name = "int";
        o->type = CQ_DSL_T_INT;
    }
}

static void resolve_columns(struct cq_dsl_gen *g)
{
    const struct cq_dsl_query *q = g->q;
    struct cq_dsl_cref *v;
    size_t max, n = 0;
    bool multi = false;

    if (g->count_mode) {
        return;
    }
    max = q->n_group_by + (q->has_columns ? q->n_columns : g->tabs[0].t->n_columns);
    for (size_t i = 0; i < q->n_joins; i++) {
        max += q->joins[i].has_columns ? q->joins[i].n_columns : g->jt[i]->t->n_columns;
    }
    v = cq_arena_alloc(g->a, (max + 1) * sizeof(*v));
    if (v == NULL) {
        g->rc = CQ_ENOMEM;
        return;
    }
    if (q->n_aggs > 0 && q->has_columns && q->n_columns == 0) {
        n = 0;
    } else if (q->n_aggs > 0 && !q->has_columns) {
        n = pick_group_by(g, v);
    } else {
        n = pick_table(g, v, &g->tabs[0], q->has_columns, q->columns, q->n_columns);
        for (size_t i = 0; i < q->n_joins && g->rc == CQ_OK; i++) {
            n += pick_table(g, v + n, g->jt[i], q->joins[i].has_columns, q->joins[i].columns,
                            q->joins[i].n_columns);
        }
    }
    for (size_t i = 1; i < n && !multi; i++) {
        multi = v[i].tab != v[0].tab;
    }
    g->out->cols = cq_arena_alloc(g->a, (n + q->n_aggs + 1) * sizeof(*g->out->cols));
    if (g->out->cols == NULL) {
        g->rc = CQ_ENOMEM;
        return;
    }
    g->picks = v;
    g->n_picks = n;
    for (size_t i = 0; i < n; i++) {
        bool collide = false;
        for (size_t k = 0; multi && k < n && !collide; k++) {
            collide = v[k].tab != v[i].tab && strcmp(v[k].c->api, v[i].c->api) == 0;
        }
        outcol_plain(g, &g->out->cols[i], &v[i], collide);
    }
    for (size_t i = 0; i < q->n_aggs; i++) {
        outcol_agg(g, &g->out->cols[n + i], &q->aggs[i]);
    }
    g->out->n_cols = n + q->n_aggs;
}

static void resolve_tables_used(struct cq_dsl_gen *g)
{
    struct cq_dsl_table_use *u = cq_arena_alloc(g->a, g->n_tabs * sizeof(*u));

    if (u == NULL) {
        g->rc = CQ_ENOMEM;
        return;
    }
    for (size_t i = 0; i < g->n_tabs; i++) {
        const struct cq_dsl_gtab *tab = &g->tabs[i];
        u[i].table = tab->t;
        u[i].db = tab->db;
        u[i].phys = tab->phys;
        u[i].source = tab->replaced ? CQ_DSL_SRC_MATERIALIZED : CQ_DSL_SRC_ORIGINAL;
        if (i == 0 && g->plan != NULL && g->plan->strategy == CQ_DSL_STRAT_CACHE) {
            u[i].source = CQ_DSL_SRC_CACHE;
        }
    }
    g->out->tables = u;
    g->out->n_tables = g->n_tabs;
}

/* Size the text and parameter arrays from the query, so a typical compile never grows. */
static size_t filter_weight(struct cq_dsl_filter *const *f, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        w += 1;
        if (f[i]->kind == CQ_DSL_F_GROUP) {
            w += filter_weight(f[i]->conds, f[i]->n_conds);
        } else if (f[i]->kind == CQ_DSL_F_EXISTS) {
            w += 2 + filter_weight(f[i]->filters, f[i]->n_filters);
        } else if (f[i]->value != NULL && f[i]->value->kind == CQ_DSL_V_ARRAY) {
            w += f[i]->value->n;
        }
    }
    return w;
}

static void size_buffers(struct cq_dsl_gen *g)
{
    const struct cq_dsl_query *q = g->q;
    size_t w = filter_weight(q->filters, q->n_filters) + filter_weight(q->having, q->n_having);
    size_t text;

    for (size_t i = 0; i < q->n_joins; i++) {
        w += 2 + filter_weight(q->joins[i].filters, q->joins[i].n_filters);
    }
    w += q->by_ids != NULL ? q->by_ids->n : 0;
    text = 128 + 64 * (g->out->n_cols + w + q->n_order_by + q->n_group_by);
    g->sb.a = g->a;
    g->sb.p = cq_arena_alloc(g->a, text);
    g->sb.cap = g->sb.p != NULL ? text : 0;
    g->cap_params = w + 4;
    g->params = cq_arena_alloc(g->a, g->cap_params * sizeof(*g->params));
    if (g->sb.p == NULL || g->params == NULL) {
        g->rc = CQ_ENOMEM;
        g->cap_params = 0;
    }
}

int cq_dsl_gen_resolve(struct cq_dsl_gen *g, const struct cq_dsl_catalog *cat,
                       const struct cq_dsl_query *q, struct cq_dsl_access *acc,
                       const struct cq_dsl_plan *plan, enum cq_dialect dialect,
                       struct cq_arena *a, struct cq_dsl_compiled *out,
                       struct cq_dsl_error *e)
{
    const struct cq_dsl_table *from;

    memset(g, 0, sizeof(*g));
    g->cat = cat;
    g->q = q;
    g->acc = acc;
    g->plan = plan;
    g->a = a;
    g->out = out;
    g->e = e;
    g->d = cq_dsl_dialect_get(dialect);
    g->count_mode = q->mode == CQ_DSL_MODE_COUNT;
    g->catalogs = dialect == CQ_DIALECT_TRINO;
    out->q = q;
    out->dialect = dialect;
    if (g->d == NULL) {
        cq_dsl_error_simple(e, CQ_DSL_E_INTERNAL, "InternalError", "no SQL dialect");
        return CQ_EINVAL;
    }
    from = cq_dsl_table_by_api(cat, q->from);
    g->tabs = cq_arena_alloc(a, (1 + q->n_joins) * sizeof(*g->tabs));
    g->jt = cq_arena_alloc(a, (q->n_joins + 1) * sizeof(*g->jt));
    if (g->tabs == NULL || g->jt == NULL) {
        g->rc = CQ_ENOMEM;
    } else if (from == NULL) {
        const char *msg = cq_arena_printf(a, "Unknown table '%s'", q->from ? q->from : "");
        cq_dsl_gen_fail(g, "UNKNOWN_TABLE", msg ? msg : "", table_details(q->from ? q->from
                                                                                  : ""));
    } else {
        cq_dsl_gen_tab_init(g, &g->tabs[0], from);
        cq_dsl_gen_alias(g, &g->tabs[0], 't');
        g->n_tabs = 1;
        register_joins(g);
    }
    if (g->rc == CQ_OK) {
        resolve_columns(g);
    }
    if (g->rc == CQ_OK) {
        resolve_tables_used(g);
    }
    if (g->rc == CQ_OK) {
        size_buffers(g);
    }
    if (g->rc == CQ_ENOMEM) {
        cq_dsl_error_simple(e, CQ_DSL_E_INTERNAL, "InternalError", "out of memory");
    }
    return g->rc;
}

/* ---- the statement -------------------------------------------------------------------------- */

/* Without any item the reference prints SELECT *. That is only safe when the caller may see
 * every column of every table unmasked; otherwise a constant keeps hidden columns out. */
static void select_nothing(struct cq_dsl_gen *g)
{
    for (size_t i = 0; i < g->n_tabs; i++) {
        const struct cq_dsl_table_access *ta = g->tabs[i].ta;
        if (ta == NULL || ta->cols != NULL || ta->masked != NULL) {
            CQ_DSL_LIT(&g->sb, "1 AS ");
            cq_dsl_gen_ident(g, "_");
            return;
        }
    }
    cq_dsl_sb_putc(&g->sb, '*');
}

static void select_items(struct cq_dsl_gen *g)
{
    const struct cq_dsl_compiled *out = g->out;

    if (g->count_mode) {
        CQ_DSL_LIT(&g->sb, "COUNT(*)");
        return;
    }
    if (out->n_cols == 0) {
        select_nothing(g);
        return;
    }
    if (g->q->distinct) {
        CQ_DSL_LIT(&g->sb, "DISTINCT ");
    }
    for (size_t i = 0, k = 0; i < out->n_cols; i++) {
        const struct cq_dsl_outcol *o = &out->cols[i];
        if (i > 0) {
            CQ_DSL_LIT(&g->sb, ", ");
        }
        if (o->is_agg) {
            cq_dsl_gen_agg_expr(g, &g->q->aggs[k++]);
        } else {
            cq_dsl_gen_col(g, g->picks[i].tab, g->picks[i].c);
        }
        CQ_DSL_LIT(&g->sb, " AS ");
        cq_dsl_gen_ident(g, o->sql_alias);
    }
}

static void joins(struct cq_dsl_gen *g)
{
    for (size_t i = 1; i < g->n_tabs; i++) {
        const struct cq_dsl_gtab *tab = &g->tabs[i];
        if (tab->join->inner) {
            CQ_DSL_LIT(&g->sb, " INNER JOIN ");
        } else {
            CQ_DSL_LIT(&g->sb, " LEFT JOIN ");
        }
        cq_dsl_gen_table_name(g, tab);
        CQ_DSL_LIT(&g->sb, " AS ");
        g->d->quote_ident(&g->sb, tab->alias, tab->alias_len);
        CQ_DSL_LIT(&g->sb, " ON ");
        cq_dsl_gen_col(g, tab->on_l_tab, tab->on_l);
        CQ_DSL_LIT(&g->sb, " = ");
        cq_dsl_gen_col(g, tab, tab->on_r);
        cq_dsl_gen_join_rls(g, tab);
    }
}

const struct cq_dsl_agg *cq_dsl_gen_agg_by_alias(const struct cq_dsl_query *q,
                                                 const char *alias)
{
    for (size_t i = 0; alias != NULL && i < q->n_aggs; i++) {
        if (q->aggs[i].alias != NULL && strcmp(q->aggs[i].alias, alias) == 0) {
            return &q->aggs[i];
        }
    }
    return NULL;
}

/* A groupBy/orderBy column: <alias>.<phys>. */
static bool colref(struct cq_dsl_gen *g, const struct cq_dsl_colref *r, const char *what)
{
    const struct cq_dsl_gtab *tab;
    const struct cq_dsl_column *c = find_col(g, r->table, r->column, &tab);

    if (c == NULL) {
        const char *msg = cq_arena_printf(g->a, "%s column '%s' does not resolve", what,
                                          r->column);
        cq_dsl_gen_fail(g, "INVALID_QUERY", msg ? msg : "", NULL);
        return false;
    }
    cq_dsl_gen_col(g, tab, c);
    return true;
}

static void group_order_limit(struct cq_dsl_gen *g)
{
    const struct cq_dsl_query *q = g->q;

    for (size_t i = 0; i < q->n_group_by; i++) {
        if (i == 0) {
            CQ_DSL_LIT(&g->sb, " GROUP BY ");
        } else {
            CQ_DSL_LIT(&g->sb, ", ");
        }
        colref(g, &q->group_by[i], "GroupBy");
    }
    cq_dsl_gen_having(g);
    for (size_t i = 0; i < q->n_order_by; i++) {
        const struct cq_dsl_colref *r = &q->order_by[i];
        const struct cq_dsl_agg *agg = cq_dsl_gen_agg_by_alias(q, r->column);
        if (i == 0) {
            CQ_DSL_LIT(&g->sb, " ORDER BY ");
        } else {
            CQ_DSL_LIT(&g->sb, ", ");
        }
        if (agg != NULL) {
            cq_dsl_gen_ident(g, agg->alias);
        } else {
            colref(g, r, "OrderBy");
        }
        if (r->desc) {
            CQ_DSL_LIT(&g->sb, " DESC");
        } else {
            CQ_DSL_LIT(&g->sb, " ASC");
        }
    }
    {
        const struct cq_dsl_val *lim[2] = {q->limit, q->offset};
        for (int i = 0; i < 2; i++) {
            int64_t n;
            if (lim[i] == NULL || !cq_dsl_val_whole(lim[i], &n)) {
                continue; /* validation refuses anything else */
            }
            if (i == 0) {
                CQ_DSL_LIT(&g->sb, " LIMIT ");
            } else {
                CQ_DSL_LIT(&g->sb, " OFFSET ");
            }
            cq_dsl_sb_i64(&g->sb, n);
        }
    }
}

static int finish(struct cq_dsl_gen *g)
{
    struct cq_dsl_compiled *out = g->out;

    if (g->rc == CQ_OK && g->sb.rc != CQ_OK) {
        g->rc = g->sb.rc;
    }
    if (g->rc == CQ_OK && g->unsupported != NULL) {
        cq_dsl_error_validation(g->e, g->q->from, g->unsupported);
        g->unsupported = NULL;
        g->rc = CQ_EINVAL;
    }
    json_decref(g->unsupported);
    g->unsupported = NULL;
    if (g->rc == CQ_OK && cq_dsl_sb_reserve(&g->sb, 1) == NULL) {
        g->rc = CQ_ENOMEM;
    }
    if (g->rc == CQ_ENOMEM) {
        cq_dsl_error_simple(g->e, CQ_DSL_E_INTERNAL, "InternalError", "out of memory");
    }
    if (g->rc != CQ_OK) {
        return g->rc;
    }
    g->sb.p[g->sb.len] = '\0';
    out->sql = g->sb.p;
    out->params = g->params;
    out->n_params = g->n_params;
    return CQ_OK;
}

int cq_dsl_gen_emit(struct cq_dsl_gen *g)
{
    CQ_DSL_LIT(&g->sb, "SELECT ");
    select_items(g);
    CQ_DSL_LIT(&g->sb, " FROM ");
    cq_dsl_gen_table_name(g, &g->tabs[0]);
    CQ_DSL_LIT(&g->sb, " AS ");
    g->d->quote_ident(&g->sb, g->tabs[0].alias, g->tabs[0].alias_len);
    joins(g);
    cq_dsl_gen_where(g);
    if (!g->count_mode) {
        group_order_limit(g);
    }
    return finish(g);
}
