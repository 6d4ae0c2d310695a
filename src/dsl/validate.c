/*
 * validate.c - query validation (spec §5): every rule in the spec's order, each entry with
 * the spec's code, message and details, all collected into one ValidationError.
 *
 * clariq goes further where spec §0 says so: access is checked on every column use
 * (groupBy, orderBy, aggregation columns and byIds' primary key too, §0.1), byIds values
 * must have the primary key's type (§0.2), and each row filter that applies to a table
 * the query reads must find its context value, of the right shape (MISSING_CONTEXT and
 * INVALID_CONTEXT, §0.13), so no SQL is ever generated with a hole in its row filter.
 *
 * The filter rules (8 and 11) live in validate_filter.c.
 */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "dsl/validate_int.h"

#define MSG_MAX (1u << 20) /* bytes of one message; names come from a capped request */

/* ---- helpers shared with validate_filter.c ---------------------------------------------- */

void cq_dsl_verr(struct cq_dsl_vstate *v, const char *code, json_t *details, const char *fmt, ...)
{
    struct cq_buf b;
    va_list ap;
    json_t *entry = NULL;

    cq_buf_init(&b, MSG_MAX);
    va_start(ap, fmt);
    cq_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (v->errors == NULL) {
        v->errors = json_array();
    }
    if (cq_buf_rc(&b) == CQ_OK && v->errors != NULL) {
        entry = cq_dsl_entry(code, cq_buf_str(&b), details);
        details = NULL; /* taken */
    }
    if (entry == NULL || json_array_append_new(v->errors, entry) != 0) {
        v->rc = CQ_ENOMEM;
    }
    json_decref(details);
    cq_buf_cleanup(&b);
}

json_t *cq_dsl_vdet(const char *spec, ...)
{
    json_t *d = json_object();
    va_list ap;

    va_start(ap, spec);
    for (const char *p = spec; *p != '\0'; p++) {
        const char *key = va_arg(ap, const char *);
        if (*p == 's') {
            const char *s = va_arg(ap, const char *);
            if (s != NULL) {
                json_object_set_new(d, key, json_string(s));
            }
        } else {
            json_object_set_new(d, key, json_integer(va_arg(ap, long long)));
        }
    }
    va_end(ap);
    return d;
}

const struct cq_dsl_table_access *cq_dsl_vtouch(struct cq_dsl_vstate *v,
                                                const struct cq_dsl_table *t)
{
    const struct cq_dsl_table_access *ta = cq_dsl_access_get(v->acc, t);
    const struct cq_dsl_table_access **touched;

    if (ta == NULL) {
        v->rc = CQ_ENOMEM;
        return NULL;
    }
    if (ta->n_rls == 0) {
        return ta; /* nothing to check later */
    }
    for (size_t i = 0; i < v->n_touched; i++) {
        if (v->touched[i] == ta) {
            return ta;
        }
    }
    touched = cq_arena_grow(v->acc->a, v->touched, v->n_touched, &v->cap_touched,
                            sizeof(*touched));
    if (touched == NULL) {
        v->rc = CQ_ENOMEM;
        return NULL;
    }
    v->touched = touched;
    v->touched[v->n_touched++] = ta;
    return ta;
}

static bool refers(const struct cq_dsl_table *a, const struct cq_dsl_table *b)
{
    for (size_t i = 0; i < a->n_relations; i++) {
        if (a->relations[i].ref_table == b) {
            return true;
        }
    }
    return false;
}

bool cq_dsl_vrelated(const struct cq_dsl_table *a, const struct cq_dsl_table *b)
{
    return refers(a, b) || refers(b, a);
}

static bool integral(const struct cq_dsl_val *v)
{
    if (v == NULL) {
        return false;
    }
    if (v->kind == CQ_DSL_V_INT) {
        return true;
    }
    return v->kind == CQ_DSL_V_REAL && isfinite(v->d) && floor(v->d) == v->d;
}

bool cq_dsl_vnonneg_int(const struct cq_dsl_val *v)
{
    int64_t n;

    /* A REAL that is integral but past int64 is refused: no SQL could carry it. */
    return v != NULL && cq_dsl_val_whole(v, &n) && n >= 0;
}

bool cq_dsl_vmatches(const struct cq_dsl_val *v, enum cq_dsl_type t)
{
    if (v == NULL) {
        return false;
    }
    switch (t) {
    case CQ_DSL_T_STRING:
    case CQ_DSL_T_UUID:
    case CQ_DSL_T_DATE:
    case CQ_DSL_T_TIMESTAMP:
        return v->kind == CQ_DSL_V_STRING;
    case CQ_DSL_T_INT:
        return integral(v);
    case CQ_DSL_T_DECIMAL:
        return v->kind == CQ_DSL_V_INT || v->kind == CQ_DSL_V_REAL;
    case CQ_DSL_T_BOOLEAN:
        return v->kind == CQ_DSL_V_BOOL;
    }
    return false;
}

void cq_dsl_vjs(struct cq_buf *b, const struct cq_dsl_val *v)
{
    struct cq_dsl_val num;

    if (v == NULL) {
        cq_buf_puts(b, "undefined");
        return;
    }
    switch (v->kind) {
    case CQ_DSL_V_STRING:
        cq_buf_append(b, v->s, v->len);
        break;
    case CQ_DSL_V_INT:
        /* past 2^53 JavaScript holds (and prints) the nearest double */
        memset(&num, 0, sizeof(num));
        num.kind = v->i > (1LL << 53) || v->i < -(1LL << 53) ? CQ_DSL_V_REAL : CQ_DSL_V_INT;
        num.i = v->i;
        num.d = (double)v->i;
        cq_dsl_val_write(b, &num);
        break;
    case CQ_DSL_V_ARRAY:
        /* Array.prototype.toString: elements joined by ",", null elements empty */
        for (size_t i = 0; i < v->n; i++) {
            if (i > 0) {
                cq_buf_putc(b, ',');
            }
            if (v->items[i].kind != CQ_DSL_V_NULL) {
                cq_dsl_vjs(b, &v->items[i]);
            }
        }
        break;
    case CQ_DSL_V_OBJECT:
        cq_buf_puts(b, "[object Object]");
        break;
    default: /* null, booleans and other numbers print as JSON does */
        cq_dsl_val_write(b, v);
        break;
    }
}

/* ---- the rules ---------------------------------------------------------------------------- */

static const char *js(const char *s)
{
    return s != NULL ? s : "undefined";
}

/* from + joined tables: what `table` in aggregations, groupBy and orderBy may name. */
static const struct cq_dsl_vtab *top_table(const struct cq_dsl_vstate *v, const char *name)
{
    if (name == NULL) {
        return &v->tabs[0];
    }
    for (size_t i = 0; i < v->n_tabs; i++) {
        if (strcmp(v->tabs[i].t->api, name) == 0) {
            return &v->tabs[i];
        }
    }
    return NULL;
}

/* §0.1: the same entry wherever a column is used. */
static void col_denied(struct cq_dsl_vstate *v, const char *table, const char *column)
{
    cq_dsl_verr(v, "ACCESS_DENIED", cq_dsl_vdet("ss", "table", table, "column", column),
                "Column '%s' in table '%s' is not allowed", column, table);
}

/* Rule 1. */
static void rule_roles(struct cq_dsl_vstate *v, const struct cq_dsl_context *ctx)
{
    for (int s = 0; ctx != NULL && s < 2; s++) {
        const char *const *ids = s == 0 ? ctx->user : ctx->service;
        size_t n = s == 0 ? ctx->n_user : ctx->n_service;
        for (size_t i = 0; i < n; i++) {
            if (cq_dsl_role_by_id(v->cat, ids[i]) == NULL) {
                cq_dsl_verr(v, "UNKNOWN_ROLE", cq_dsl_vdet("s", "role", ids[i]),
                            "Unknown role ID '%s'", ids[i]);
            }
        }
    }
}

static void join_columns(struct cq_dsl_vstate *v, const struct cq_dsl_join *j,
                         const struct cq_dsl_vtab *vt)
{
    for (size_t i = 0; i < j->n_columns; i++) {
        const struct cq_dsl_column *c = cq_dsl_column_by_api(vt->t, j->columns[i]);
        if (c == NULL) {
            cq_dsl_verr(v, "UNKNOWN_COLUMN",
                        cq_dsl_vdet("ss", "table", j->table, "column", j->columns[i]),
                        "Column '%s' does not exist in table '%s'", j->columns[i], j->table);
        } else if (!cq_dsl_col_allowed(vt->ta, c)) {
            col_denied(v, j->table, j->columns[i]);
        }
    }
}

/* Rule 4. v->tabs has room for every join. */
static void rule_joins(struct cq_dsl_vstate *v)
{
    const struct cq_dsl_query *q = v->q;

    for (size_t i = 0; i < q->n_joins && v->rc == CQ_OK; i++) {
        const struct cq_dsl_join *j = &q->joins[i];
        struct cq_dsl_vtab pair[2];
        struct cq_dsl_vscope sc = {pair, 2, true};
        bool related = false;

        pair[0].t = cq_dsl_table_by_api(v->cat, j->table);
        if (pair[0].t == NULL) {
            cq_dsl_verr(v, "UNKNOWN_TABLE", cq_dsl_vdet("s", "table", j->table),
                        "Joined table '%s' does not exist", js(j->table));
            continue;
        }
        for (size_t k = 0; k < v->n_tabs && !related; k++) {
            related = cq_dsl_vrelated(v->tabs[k].t, pair[0].t);
        }
        if (!related) {
            cq_dsl_verr(v, "INVALID_JOIN", cq_dsl_vdet("s", "table", j->table),
                        "No relation between '%s' and '%s'", v->tabs[0].t->api, j->table);
        }
        pair[0].ta = cq_dsl_vtouch(v, pair[0].t);
        if (pair[0].ta == NULL) {
            return;
        }
        if (!pair[0].ta->allowed) {
            cq_dsl_verr(v, "ACCESS_DENIED", cq_dsl_vdet("s", "table", j->table),
                        "Access denied for joined table '%s'", j->table);
        }
        v->tabs[v->n_tabs++] = pair[0];
        join_columns(v, j, &pair[0]);
        pair[1] = v->tabs[0];
        cq_dsl_vfilters(v, j->filters, j->n_filters, &sc);
    }
}

static void agg_column(struct cq_dsl_vstate *v, const struct cq_dsl_agg *g,
                       const struct cq_dsl_vtab *vt)
{
    const struct cq_dsl_column *c;
    const char *table = vt->t->api;

    if (strcmp(g->column, "*") == 0) {
        return;
    }
    c = cq_dsl_column_by_api(vt->t, g->column);
    if (c == NULL) {
        cq_dsl_verr(v, "UNKNOWN_COLUMN",
                    cq_dsl_vdet("sss", "column", g->column, "table", table, "alias", g->alias),
                    "Aggregation column '%s' does not exist in table '%s'", g->column, table);
        return;
    }
    if (!cq_dsl_col_allowed(vt->ta, c)) {
        col_denied(v, table, g->column);
    } else if (cq_dsl_col_masked(vt->ta, c) && g->fn != CQ_DSL_AGG_COUNT) {
        /* clariq addition: aggregation aliases are never masked (spec §10.4), so min/max/sum/
         * avg of a masked column would hand out what the mask hides; count reveals nothing */
        cq_dsl_verr(v, "ACCESS_DENIED",
                    cq_dsl_vdet("sss", "table", table, "column", g->column, "alias", g->alias),
                    "Column '%s' in table '%s' is masked: only count is allowed on it",
                    g->column, table);
    }
    if (c->array && g->fn != CQ_DSL_AGG_COUNT) {
        cq_dsl_verr(
            v, "INVALID_AGGREGATION",
            cq_dsl_vdet("sss", "column", g->column, "alias", g->alias, "operator", g->fn_text),
            "%s on array column '%s' is not valid (only count is allowed)", g->fn_text, g->column);
    }
}

/* Rule 5. */
static void rule_aggs(struct cq_dsl_vstate *v)
{
    const struct cq_dsl_query *q = v->q;

    for (size_t i = 0; i < q->n_aggs; i++) {
        const struct cq_dsl_agg *g = &q->aggs[i];
        const struct cq_dsl_vtab *vt;
        bool dup = false;

        if (g->fn == CQ_DSL_AGG_UNKNOWN) {
            cq_dsl_verr(v, "INVALID_AGGREGATION",
                        cq_dsl_vdet("ss", "alias", g->alias, "fn", g->fn_text),
                        "Invalid aggregation function '%s', must be one of: count, sum, avg, "
                        "min, max",
                        g->fn_text);
            continue;
        }
        for (size_t k = 0; k < i && !dup; k++) {
            dup = q->aggs[k].fn != CQ_DSL_AGG_UNKNOWN && strcmp(q->aggs[k].alias, g->alias) == 0;
        }
        if (dup) {
            cq_dsl_verr(v, "INVALID_AGGREGATION", cq_dsl_vdet("s", "alias", g->alias),
                        "Duplicate aggregation alias '%s'", g->alias);
        }
        vt = top_table(v, g->table);
        if (vt == NULL) {
            cq_dsl_verr(v, "INVALID_AGGREGATION",
                        cq_dsl_vdet("ss", "table", g->table, "alias", g->alias),
                        "Aggregation table '%s' is not the from table or a joined table", g->table);
            continue;
        }
        agg_column(v, g, vt);
    }
}

/* Rules 6 and 7. */
static void rule_columns(struct cq_dsl_vstate *v)
{
    const struct cq_dsl_query *q = v->q;
    const struct cq_dsl_vtab *from = &v->tabs[0];

    if (q->has_columns && q->n_columns == 0 && q->n_aggs == 0) {
        cq_dsl_verr(v, "INVALID_AGGREGATION", NULL, "Empty columns[] requires aggregations");
    }
    for (size_t i = 0; i < q->n_columns; i++) {
        const struct cq_dsl_column *c = cq_dsl_column_by_api(from->t, q->columns[i]);
        if (c == NULL) {
            cq_dsl_verr(v, "UNKNOWN_COLUMN",
                        cq_dsl_vdet("ss", "table", q->from, "column", q->columns[i]),
                        "Column '%s' does not exist in table '%s'", q->columns[i], q->from);
        } else if (!cq_dsl_col_allowed(from->ta, c)) {
            col_denied(v, q->from, q->columns[i]);
        }
    }
    for (size_t i = 0; i < q->n_aggs; i++) {
        const char *alias = q->aggs[i].alias;
        bool hit = false;
        for (size_t k = 0; k < q->n_columns && !hit; k++) {
            hit = strcmp(q->columns[k], alias) == 0 &&
                  cq_dsl_column_by_api(from->t, q->columns[k]) != NULL;
        }
        if (hit) {
            cq_dsl_verr(v, "INVALID_AGGREGATION", cq_dsl_vdet("s", "alias", alias),
                        "Aggregation alias '%s' collides with column name in result set", alias);
        }
    }
}

/* Rule 9. */
static void rule_group_by(struct cq_dsl_vstate *v)
{
    const struct cq_dsl_query *q = v->q;

    for (size_t i = 0; i < q->n_group_by; i++) {
        const struct cq_dsl_colref *gb = &q->group_by[i];
        const struct cq_dsl_vtab *vt = top_table(v, gb->table);
        const struct cq_dsl_column *c;

        if (vt == NULL) {
            cq_dsl_verr(v, "INVALID_GROUP_BY",
                        cq_dsl_vdet("ss", "table", gb->table, "column", gb->column),
                        "GroupBy table '%s' is not the from table or a joined table", gb->table);
            continue;
        }
        c = cq_dsl_column_by_api(vt->t, gb->column);
        if (c == NULL) {
            cq_dsl_verr(v, "UNKNOWN_COLUMN",
                        cq_dsl_vdet("ss", "table", vt->t->api, "column", gb->column),
                        "GroupBy column '%s' does not exist in table '%s'", gb->column, vt->t->api);
            continue;
        }
        if (!cq_dsl_col_allowed(vt->ta, c)) {
            col_denied(v, vt->t->api, gb->column);
        }
        if (c->array) {
            cq_dsl_verr(v, "INVALID_GROUP_BY",
                        cq_dsl_vdet("ss", "table", vt->t->api, "column", gb->column),
                        "Array column '%s' cannot be used in GROUP BY", gb->column);
        }
    }
}

static bool is_alias(const struct cq_dsl_query *q, const char *name)
{
    for (size_t i = 0; i < q->n_aggs; i++) {
        if (strcmp(q->aggs[i].alias, name) == 0) {
            return true;
        }
    }
    return false;
}

/* Rule 10. */
static void rule_ungrouped(struct cq_dsl_vstate *v)
{
    const struct cq_dsl_query *q = v->q;

    if ((q->n_group_by == 0 && q->n_aggs == 0) || !q->has_columns) {
        return;
    }
    for (size_t i = 0; i < q->n_columns; i++) {
        const char *c = q->columns[i];
        bool ok = is_alias(q, c);
        for (size_t k = 0; k < q->n_group_by && !ok; k++) {
            const struct cq_dsl_colref *gb = &q->group_by[k];
            ok = strcmp(gb->column, c) == 0 &&
                 (gb->table == NULL || strcmp(gb->table, v->tabs[0].t->api) == 0);
        }
        if (!ok) {
            cq_dsl_verr(v, "INVALID_GROUP_BY", cq_dsl_vdet("s", "column", c),
                        "Column '%s' is in columns but not in groupBy and is not an "
                        "aggregation alias",
                        c);
        }
    }
}

/* Is column c of table t a groupBy entry? */
static bool grouped_by(const struct cq_dsl_query *q, const struct cq_dsl_table *t,
                       const struct cq_dsl_column *c, const char *from)
{
    for (size_t i = 0; i < q->n_group_by; i++) {
        const struct cq_dsl_colref *g = &q->group_by[i];
        if (strcmp(g->table != NULL ? g->table : from, t->api) == 0 &&
            strcmp(g->column, c->api) == 0) {
            return true;
        }
    }
    return false;
}

/* Is column c of the from table or a joined table in the select list (spec §8.2)? */
static bool selected(const struct cq_dsl_query *q, const struct cq_dsl_table *t,
                     const struct cq_dsl_column *c, bool is_from)
{
    const char *const *cols = NULL;
    size_t n = 0;
    bool listed = true;

    if (is_from) {
        listed = q->has_columns;
        cols = q->columns;
        n = q->n_columns;
    } else {
        for (size_t i = 0; i < q->n_joins; i++) {
            if (strcmp(q->joins[i].table, t->api) == 0) {
                listed = q->joins[i].has_columns;
                cols = q->joins[i].columns;
                n = q->joins[i].n_columns;
                break;
            }
        }
    }
    if (!listed) {
        return true; /* every allowed column is selected, and c is allowed */
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(cols[i], c->api) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * clariq addition: an ORDER BY the databases would refuse. A grouped query can only sort by
 * a groupBy column or an aggregation alias, and SELECT DISTINCT only by a selected column
 * (PostgreSQL and Trino reject the SQL otherwise: a QUERY_FAILED 500 instead of a 400).
 */
static void order_by_sortable(struct cq_dsl_vstate *v, const struct cq_dsl_vtab *vt,
                              const struct cq_dsl_column *c)
{
    const struct cq_dsl_query *q = v->q;

    if (q->n_group_by > 0 || q->n_aggs > 0) {
        if (!grouped_by(q, vt->t, c, q->from)) {
            cq_dsl_verr(v, "INVALID_ORDER_BY",
                        cq_dsl_vdet("ss", "table", vt->t->api, "column", c->api),
                        "OrderBy column '%s' must be in groupBy or be an aggregation alias",
                        c->api);
        }
    } else if (q->distinct && !selected(q, vt->t, c, vt == &v->tabs[0])) {
        cq_dsl_verr(v, "INVALID_ORDER_BY",
                    cq_dsl_vdet("ss", "table", vt->t->api, "column", c->api),
                    "OrderBy column '%s' must be selected when distinct is true", c->api);
    }
}

/* Rule 12. */
static void rule_order_by(struct cq_dsl_vstate *v)
{
    const struct cq_dsl_query *q = v->q;

    for (size_t i = 0; i < q->n_order_by; i++) {
        const struct cq_dsl_colref *ob = &q->order_by[i];
        const char *dir = ob->direction;
        const struct cq_dsl_vtab *vt;
        const struct cq_dsl_column *c;

        if (dir == NULL || (strcmp(dir, "asc") != 0 && strcmp(dir, "desc") != 0)) {
            cq_dsl_verr(v, "INVALID_ORDER_BY", cq_dsl_vdet("s", "direction", dir),
                        "Invalid orderBy direction '%s', must be 'asc' or 'desc'", js(dir));
        }
        if (is_alias(q, ob->column)) {
            continue;
        }
        vt = top_table(v, ob->table);
        if (vt == NULL) {
            cq_dsl_verr(v, "INVALID_ORDER_BY",
                        cq_dsl_vdet("ss", "table", ob->table, "column", ob->column),
                        "OrderBy table '%s' is not the from table or a joined table", ob->table);
            continue;
        }
        c = cq_dsl_column_by_api(vt->t, ob->column);
        if (c == NULL) {
            cq_dsl_verr(v, "INVALID_ORDER_BY",
                        cq_dsl_vdet("ss", "table", vt->t->api, "column", ob->column),
                        "OrderBy column '%s' does not exist in table '%s'", ob->column, vt->t->api);
            continue;
        }
        if (!cq_dsl_col_allowed(vt->ta, c)) {
            col_denied(v, vt->t->api, ob->column);
        }
        if (c->array) {
            cq_dsl_verr(v, "INVALID_ORDER_BY",
                        cq_dsl_vdet("ss", "table", vt->t->api, "column", ob->column),
                        "Array column '%s' cannot be used in ORDER BY", ob->column);
        } else if (q->mode != CQ_DSL_MODE_COUNT && cq_dsl_col_allowed(vt->ta, c)) {
            order_by_sortable(v, vt, c);
        }
    }
}

/* §0.1 / §0.2 on byIds: the primary key must be visible, and the ids of its type. */
static void by_ids_pk(struct cq_dsl_vstate *v)
{
    const struct cq_dsl_vtab *from = &v->tabs[0];
    const struct cq_dsl_val *ids = v->q->by_ids;
    const struct cq_dsl_column *pk;

    if (from->t->n_pk != 1 || from->t->n_pk_declared != 1) {
        return;
    }
    pk = from->t->pk[0];
    if (!cq_dsl_col_allowed(from->ta, pk)) {
        col_denied(v, from->t->api, pk->api);
    }
    for (size_t i = 0; i < ids->n; i++) {
        if (!cq_dsl_vmatches(&ids->items[i], pk->type) || pk->array) {
            cq_dsl_verr(v, "INVALID_VALUE",
                        cq_dsl_vdet("sss", "table", from->t->api, "column", pk->api, "expected",
                                    pk->type_name),
                        "byIds element doesn't match primary key type '%s'", pk->type_name);
            return; /* one entry, not one per id */
        }
    }
}

/* Rule 13. */
static void rule_by_ids(struct cq_dsl_vstate *v)
{
    const struct cq_dsl_query *q = v->q;
    const struct cq_dsl_table *t = v->tabs[0].t;

    if (q->by_ids == NULL) {
        return;
    }
    if (q->by_ids->kind != CQ_DSL_V_ARRAY || q->by_ids->n == 0) {
        cq_dsl_verr(v, "INVALID_BY_IDS", NULL, "byIds requires a non-empty array");
    }
    if (t->n_pk_declared != 1) {
        cq_dsl_verr(v, "INVALID_BY_IDS", cq_dsl_vdet("s", "table", q->from),
                    "byIds requires a single-column primary key, table '%s' has %zu", q->from,
                    t->n_pk_declared);
    }
    if (q->n_group_by > 0) {
        cq_dsl_verr(v, "INVALID_BY_IDS", NULL, "byIds cannot be combined with groupBy");
    }
    if (q->n_aggs > 0) {
        cq_dsl_verr(v, "INVALID_BY_IDS", NULL, "byIds cannot be combined with aggregations");
    }
    if (q->by_ids->kind == CQ_DSL_V_ARRAY) {
        by_ids_pk(v);
    }
}

static void limit_entry(struct cq_dsl_vstate *v, const char *what, const struct cq_dsl_val *val)
{
    struct cq_buf b;

    cq_buf_init(&b, MSG_MAX);
    cq_dsl_vjs(&b, val);
    if (cq_buf_rc(&b) != CQ_OK) {
        v->rc = CQ_ENOMEM;
    } else {
        cq_dsl_verr(v, "INVALID_LIMIT", cq_dsl_vdet("s", "actual", cq_buf_str(&b)),
                    "%s must be a non-negative integer, got %s", what, cq_buf_str(&b));
    }
    cq_buf_cleanup(&b);
}

/* Rule 14. */
static void rule_limit(struct cq_dsl_vstate *v)
{
    const struct cq_dsl_query *q = v->q;

    if (q->limit != NULL && !cq_dsl_vnonneg_int(q->limit)) {
        limit_entry(v, "limit", q->limit);
    }
    if (q->offset != NULL && !cq_dsl_vnonneg_int(q->offset)) {
        limit_entry(v, "offset", q->offset);
    }
    if (q->offset != NULL && q->limit == NULL) {
        cq_dsl_verr(v, "INVALID_LIMIT", NULL, "offset requires limit");
    }
}

/* ---- row-filter context (§0.13) ---------------------------------------------------------- */

struct reported {
    const char *role, *key;
};

/* Whether a row filter's context value has the shape its operator needs: in / notIn a
 * non-empty array of values of the column type, = / != one value of it. */
static bool context_fits(const struct cq_dsl_rls_term *tm)
{
    const struct cq_dsl_column *c = tm->f->column;
    const struct cq_dsl_val *val = tm->value;
    bool ok = true;

    if (tm->f->op != CQ_DSL_RLS_IN && tm->f->op != CQ_DSL_RLS_NOT_IN) {
        return cq_dsl_vmatches(val, c->type);
    }
    ok = val->kind == CQ_DSL_V_ARRAY && val->n > 0;
    for (size_t i = 0; ok && i < val->n; i++) {
        ok = cq_dsl_vmatches(&val->items[i], c->type);
    }
    return ok;
}

static void context_term(struct cq_dsl_vstate *v, const char *role,
                         const struct cq_dsl_rls_term *tm, struct reported *seen, size_t *n_seen)
{
    const char *key = tm->f->context_key, *type = cq_dsl_type_name(tm->f->column->type);
    bool list = tm->f->op == CQ_DSL_RLS_IN || tm->f->op == CQ_DSL_RLS_NOT_IN;

    if (key == NULL) {
        return; /* isNull / isNotNull need no value */
    }
    for (size_t i = 0; i < *n_seen; i++) {
        if (strcmp(seen[i].role, role) == 0 && strcmp(seen[i].key, key) == 0) {
            return;
        }
    }
    if (tm->value == NULL) {
        cq_dsl_verr(v, "MISSING_CONTEXT", cq_dsl_vdet("ss", "role", role, "contextKey", key),
                    "Role '%s' requires context value '%s'", role, key);
    } else if (!context_fits(tm)) {
        const char *expected = list ? cq_arena_printf(v->acc->a, "%s[]", type) : type;
        cq_dsl_verr(v, "INVALID_CONTEXT",
                    cq_dsl_vdet("sss", "role", role, "contextKey", key, "expected", expected),
                    "Role '%s' requires context value '%s' to be %s of type '%s'", role, key,
                    list ? "a non-empty array of values" : "a value", type);
    } else {
        return;
    }
    seen[(*n_seen)++] = (struct reported){role, key};
}

/* One entry per (role, key) over every row filter of every table read. */
static void rule_context(struct cq_dsl_vstate *v)
{
    struct reported *seen;
    size_t n_terms = 0, n_seen = 0;

    for (size_t i = 0; i < v->n_touched; i++) {
        for (size_t d = 0; d < v->touched[i]->n_rls; d++) {
            const struct cq_dsl_rls_disj *dj = &v->touched[i]->rls[d];
            for (size_t k = 0; k < dj->n_conjs; k++) {
                n_terms += dj->conjs[k].n_terms;
            }
        }
    }
    if (n_terms == 0) {
        return;
    }
    seen = cq_arena_alloc(v->acc->a, n_terms * sizeof(*seen));
    if (seen == NULL) {
        v->rc = CQ_ENOMEM;
        return;
    }
    for (size_t i = 0; i < v->n_touched; i++) {
        const struct cq_dsl_table_access *ta = v->touched[i];
        for (size_t d = 0; d < ta->n_rls; d++) {
            for (size_t k = 0; k < ta->rls[d].n_conjs; k++) {
                const struct cq_dsl_rls_conj *cj = &ta->rls[d].conjs[k];
                for (size_t m = 0; m < cj->n_terms; m++) {
                    context_term(v, cj->role, &cj->terms[m], seen, &n_seen);
                }
            }
        }
    }
}

/* ---- entry point -------------------------------------------------------------------------- */

static void run_rules(struct cq_dsl_vstate *v)
{
    const struct cq_dsl_query *q = v->q;
    struct cq_dsl_vscope top;

    rule_joins(v);
    rule_aggs(v);
    rule_columns(v);
    top.tabs = v->tabs;
    top.n_tabs = v->n_tabs;
    top.top = true;
    cq_dsl_vfilters(v, q->filters, q->n_filters, &top);
    rule_group_by(v);
    rule_ungrouped(v);
    cq_dsl_vhaving(v, q->having, q->n_having);
    rule_order_by(v);
    rule_by_ids(v);
    rule_limit(v);
    rule_context(v);
}

int cq_dsl_validate(const struct cq_dsl_catalog *cat, const struct cq_dsl_query *q,
                    struct cq_dsl_access *acc, struct cq_dsl_error *e)
{
    struct cq_dsl_vstate v;
    const struct cq_dsl_table *from;

    memset(&v, 0, sizeof(v));
    v.cat = cat;
    v.q = q;
    v.acc = acc;
    rule_roles(&v, acc->ctx);
    from = cq_dsl_table_by_api(cat, js(q->from));
    if (from == NULL) {
        cq_dsl_verr(&v, "UNKNOWN_TABLE", cq_dsl_vdet("s", "table", q->from), "Unknown table '%s'",
                    js(q->from));
        goto out; /* rule 2: stop here */
    }
    v.tabs = cq_arena_alloc(acc->a, (q->n_joins + 1) * sizeof(*v.tabs));
    if (v.tabs == NULL) {
        v.rc = CQ_ENOMEM;
        goto out;
    }
    v.tabs[0].t = from;
    v.tabs[0].ta = cq_dsl_vtouch(&v, from);
    v.n_tabs = 1;
    if (v.tabs[0].ta == NULL) {
        goto out;
    }
    if (!v.tabs[0].ta->allowed) {
        cq_dsl_verr(&v, "ACCESS_DENIED", cq_dsl_vdet("s", "table", q->from),
                    "Access denied for table '%s'", q->from); /* rule 3; the rest continues */
    }
    run_rules(&v);
out:
    if (v.rc != CQ_OK) {
        json_decref(v.errors);
        cq_dsl_error_simple(e, CQ_DSL_E_INTERNAL, "InternalError", "out of memory");
        return CQ_ENOMEM;
    }
    if (v.errors != NULL) {
        cq_dsl_error_validation(e, q->from, v.errors);
        return CQ_EINVAL;
    }
    return CQ_OK;
}
