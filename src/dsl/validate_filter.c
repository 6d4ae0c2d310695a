/*
 * validate_filter.c - spec §5 rule 8 (WHERE filters: groups, EXISTS at any depth, column
 * and value filters, operator/type table of §4.2, value shapes) and rule 11 (HAVING).
 *
 * Beyond the reference: every scalar value is checked against the column type (§0.2), so
 * `{"column":"id","operator":"=","value":"abc"}` on an int column is an INVALID_VALUE
 * entry instead of a database error, and HAVING in/notIn/between values must have the
 * shape the SQL needs.
 */
#include <string.h>

#include "dsl/validate_int.h"

/* Names as the query wrote them; NULL (JavaScript undefined) prints as "undefined". */
static const char *js(const char *s)
{
    return s != NULL ? s : "undefined";
}

static bool is_cmp(enum cq_dsl_op op)
{
    return op >= CQ_DSL_OP_EQ && op <= CQ_DSL_OP_LE;
}

static bool is_text_op(enum cq_dsl_op op)
{
    return op >= CQ_DSL_OP_LIKE && op <= CQ_DSL_OP_IENDS_WITH;
}

/* The table a `table` qualifier names (NULL qualifier = the default table). */
static const struct cq_dsl_vtab *resolve(const struct cq_dsl_vscope *sc, const char *name)
{
    if (name == NULL) {
        return &sc->tabs[0];
    }
    for (size_t i = 0; i < sc->n_tabs; i++) {
        if (strcmp(sc->tabs[i].t->api, name) == 0) {
            return &sc->tabs[i];
        }
    }
    return NULL;
}

/* spec §4.2: the column types each operator accepts. */
static bool op_legal(enum cq_dsl_op op, const struct cq_dsl_column *c)
{
    enum cq_dsl_type t = c->type;
    bool ordered = t == CQ_DSL_T_STRING || t == CQ_DSL_T_INT || t == CQ_DSL_T_DECIMAL ||
                   t == CQ_DSL_T_DATE || t == CQ_DSL_T_TIMESTAMP;

    switch (op) {
    case CQ_DSL_OP_EQ:
    case CQ_DSL_OP_NE:
        return !c->array;
    case CQ_DSL_OP_IN:
    case CQ_DSL_OP_NOT_IN:
        return !c->array && (t == CQ_DSL_T_STRING || t == CQ_DSL_T_INT || t == CQ_DSL_T_DECIMAL ||
                             t == CQ_DSL_T_UUID);
    case CQ_DSL_OP_IS_NULL:
    case CQ_DSL_OP_IS_NOT_NULL:
        return true;
    case CQ_DSL_OP_ARRAY_CONTAINS:
    case CQ_DSL_OP_ARRAY_CONTAINS_ALL:
    case CQ_DSL_OP_ARRAY_CONTAINS_ANY:
    case CQ_DSL_OP_ARRAY_IS_EMPTY:
    case CQ_DSL_OP_ARRAY_IS_NOT_EMPTY:
        return c->array;
    case CQ_DSL_OP_LEVENSHTEIN_LTE:
        return !c->array && t == CQ_DSL_T_STRING;
    default:
        break;
    }
    if (is_cmp(op) || op == CQ_DSL_OP_BETWEEN || op == CQ_DSL_OP_NOT_BETWEEN) {
        return !c->array && ordered;
    }
    return is_text_op(op) && !c->array && t == CQ_DSL_T_STRING;
}

/* A value filter being checked: what its entries name. */
struct vf {
    struct cq_dsl_vstate *v;
    const struct cq_dsl_filter *f;
    const struct cq_dsl_column *c;
    const char *op; /* as written */
    long long idx;  /* filterIndex */
};

/* INVALID_VALUE {column, operator, filterIndex} */
#define BAD_VALUE(x, ...)                                                                          \
    cq_dsl_verr((x)->v, "INVALID_VALUE",                                                           \
                cq_dsl_vdet("ssi", "column", (x)->f->column, "operator", (x)->op, "filterIndex",   \
                            (x)->idx),                                                             \
                __VA_ARGS__)
/* INVALID_VALUE {column, operator, expected, filterIndex} */
#define BAD_TYPED(x, expected, ...)                                                                \
    cq_dsl_verr((x)->v, "INVALID_VALUE",                                                           \
                cq_dsl_vdet("sssi", "column", (x)->f->column, "operator", (x)->op, "expected",     \
                            (expected), "filterIndex", (x)->idx),                                  \
                __VA_ARGS__)

static bool has_null(const struct cq_dsl_val *arr)
{
    for (size_t i = 0; i < arr->n; i++) {
        if (arr->items[i].kind == CQ_DSL_V_NULL) {
            return true;
        }
    }
    return false;
}

static bool all_match(const struct cq_dsl_val *arr, enum cq_dsl_type t)
{
    for (size_t i = 0; i < arr->n; i++) {
        if (!cq_dsl_vmatches(&arr->items[i], t)) {
            return false;
        }
    }
    return true;
}

/* The member `key` of an object value, or NULL. */
static const struct cq_dsl_val *member(const struct cq_dsl_val *o, const char *key)
{
    for (size_t i = 0; o != NULL && o->kind == CQ_DSL_V_OBJECT && i < o->n; i++) {
        if (strcmp(o->keys[i], key) == 0) {
            return &o->items[i];
        }
    }
    return NULL;
}

static void check_between(struct vf *x)
{
    const struct cq_dsl_val *val = x->f->value, *from = member(val, "from"),
                            *to = member(val, "to");
    const char *type = x->c->type_name;

    if (from == NULL || to == NULL) {
        BAD_VALUE(x, "Operator '%s' requires an object with 'from' and 'to'", x->op);
        return;
    }
    if (from->kind == CQ_DSL_V_NULL) {
        BAD_VALUE(x, "Operator '%s' requires non-null 'from' value", x->op);
    } else if (!cq_dsl_vmatches(from, x->c->type)) {
        BAD_TYPED(x, type, "Operator '%s' 'from' value doesn't match column type '%s'", x->op,
                  type);
    }
    if (to->kind == CQ_DSL_V_NULL) {
        BAD_VALUE(x, "Operator '%s' requires non-null 'to' value", x->op);
    } else if (!cq_dsl_vmatches(to, x->c->type)) {
        BAD_TYPED(x, type, "Operator '%s' 'to' value doesn't match column type '%s'", x->op, type);
    }
}

/* in / notIn: a non-empty array of non-null values of the column type. */
static void check_in(struct vf *x)
{
    const struct cq_dsl_val *val = x->f->value;

    if (val == NULL || val->kind != CQ_DSL_V_ARRAY) {
        BAD_VALUE(x, "Operator '%s' requires an array value", x->op);
    } else if (val->n == 0) {
        BAD_VALUE(x, "Operator '%s' requires a non-empty array", x->op);
    } else if (has_null(val)) {
        BAD_VALUE(x, "Operator '%s' array must not contain null elements", x->op);
    } else if (!all_match(val, x->c->type)) {
        BAD_TYPED(x, x->c->type_name, "Operator '%s' array element doesn't match column type '%s'",
                  x->op, x->c->type_name);
    }
}

/* arrayContainsAll / arrayContainsAny: the same on the element type. */
static void check_array_list(struct vf *x)
{
    const struct cq_dsl_val *val = x->f->value;
    const char *et = cq_dsl_type_name(x->c->type);

    if (val == NULL || val->kind != CQ_DSL_V_ARRAY) {
        BAD_VALUE(x, "%s requires an array value", x->op);
    } else if (val->n == 0) {
        BAD_VALUE(x, "%s requires a non-empty array", x->op);
    } else if (has_null(val)) {
        BAD_VALUE(x, "%s array must not contain null elements", x->op);
    } else if (!all_match(val, x->c->type)) {
        BAD_TYPED(x, et, "%s array element doesn't match element type '%s'", x->op, et);
    }
}

static void check_levenshtein(struct vf *x)
{
    const struct cq_dsl_val *text = member(x->f->value, "text"),
                            *dist = member(x->f->value, "maxDistance");

    if (text == NULL || dist == NULL) {
        BAD_VALUE(x, "levenshteinLte requires an object with text and maxDistance");
        return;
    }
    if (text->kind != CQ_DSL_V_STRING || text->len == 0) {
        BAD_VALUE(x, "levenshteinLte requires a non-empty text string");
    }
    if (!cq_dsl_vnonneg_int(dist)) {
        BAD_VALUE(x, "levenshteinLte maxDistance must be a non-negative integer");
    }
}

/* §0.2: a scalar comparison or pattern value must have the column's type. */
static void check_scalar(struct vf *x)
{
    const struct cq_dsl_val *val = x->f->value;
    enum cq_dsl_op op = x->f->op;

    if ((op == CQ_DSL_OP_EQ || op == CQ_DSL_OP_NE) && (val == NULL || val->kind == CQ_DSL_V_NULL)) {
        BAD_VALUE(x, "Operator '%s' requires a non-null value; use '%s' to match null", x->op,
                  op == CQ_DSL_OP_EQ ? "isNull" : "isNotNull");
    } else if (!cq_dsl_vmatches(val, x->c->type)) {
        BAD_TYPED(x, x->c->type_name, "Operator '%s' value doesn't match column type '%s'", x->op,
                  x->c->type_name);
    }
}

static void check_value(struct vf *x)
{
    enum cq_dsl_op op = x->f->op;
    const char *et = cq_dsl_type_name(x->c->type);

    if (is_cmp(op) || is_text_op(op)) {
        check_scalar(x);
    } else if (op == CQ_DSL_OP_BETWEEN || op == CQ_DSL_OP_NOT_BETWEEN) {
        check_between(x);
    } else if (op == CQ_DSL_OP_IN || op == CQ_DSL_OP_NOT_IN) {
        check_in(x);
    } else if (op == CQ_DSL_OP_LEVENSHTEIN_LTE) {
        check_levenshtein(x);
    } else if (op == CQ_DSL_OP_ARRAY_CONTAINS) {
        /* absent value not checked (spec §4.2) */
        if (x->f->value != NULL && !cq_dsl_vmatches(x->f->value, x->c->type)) {
            BAD_TYPED(x, et, "arrayContains value must match element type '%s'", et);
        }
    } else if (op == CQ_DSL_OP_ARRAY_CONTAINS_ALL || op == CQ_DSL_OP_ARRAY_CONTAINS_ANY) {
        check_array_list(x);
    }
}

static void not_addressable(struct cq_dsl_vstate *v, const char *table, long long idx)
{
    cq_dsl_verr(v, "INVALID_FILTER", cq_dsl_vdet("si", "table", table, "filterIndex", idx),
                "Filter references table '%s' which is not the from table or a joined table",
                table);
}

static void value_filter(struct cq_dsl_vstate *v, const struct cq_dsl_filter *f,
                         const struct cq_dsl_vscope *sc, long long idx)
{
    const struct cq_dsl_vtab *vt;
    struct vf x = {v, f, NULL, js(f->op_text), idx};
    const char *column = js(f->column);

    if (f->op == CQ_DSL_OP_UNKNOWN) {
        cq_dsl_verr(v, "INVALID_FILTER", cq_dsl_vdet("s", "operator", f->op_text),
                    "Invalid filter operator '%s'", x.op);
    }
    vt = resolve(sc, f->table);
    if (vt == NULL) {
        not_addressable(v, f->table, idx);
        return;
    }
    x.c = cq_dsl_column_by_api(vt->t, column);
    if (x.c == NULL) {
        cq_dsl_verr(v, "UNKNOWN_COLUMN",
                    cq_dsl_vdet("ssi", "table", vt->t->api, "column", column, "filterIndex", idx),
                    "Filter column '%s' does not exist in table '%s'", column, vt->t->api);
        return;
    }
    if (!cq_dsl_col_allowed(vt->ta, x.c)) {
        cq_dsl_verr(v, "ACCESS_DENIED",
                    cq_dsl_vdet("ssi", "table", vt->t->api, "column", column, "filterIndex", idx),
                    "Column '%s' in table '%s' is not allowed", column, vt->t->api);
    }
    if (f->op == CQ_DSL_OP_UNKNOWN) {
        return;
    }
    if (!op_legal(f->op, x.c)) {
        cq_dsl_verr(v, "INVALID_FILTER",
                    cq_dsl_vdet("sssi", "column", column, "operator", x.op, "actual",
                                x.c->type_name, "filterIndex", idx),
                    "Operator '%s' is not valid for column '%s' of type '%s'", x.op, column,
                    x.c->type_name);
        return;
    }
    if ((f->op == CQ_DSL_OP_IS_NULL || f->op == CQ_DSL_OP_IS_NOT_NULL) && !x.c->nullable) {
        cq_dsl_verr(v, "INVALID_FILTER",
                    cq_dsl_vdet("ssi", "column", column, "operator", x.op, "filterIndex", idx),
                    "Operator '%s' requires column '%s' to be nullable", x.op, column);
        return;
    }
    check_value(&x);
}

/* Column-vs-column: types equal or of one family (int~decimal, date~timestamp). */
static bool compatible(enum cq_dsl_type a, enum cq_dsl_type b)
{
    bool num_a = a == CQ_DSL_T_INT || a == CQ_DSL_T_DECIMAL;
    bool num_b = b == CQ_DSL_T_INT || b == CQ_DSL_T_DECIMAL;
    bool time_a = a == CQ_DSL_T_DATE || a == CQ_DSL_T_TIMESTAMP;
    bool time_b = b == CQ_DSL_T_DATE || b == CQ_DSL_T_TIMESTAMP;

    return a == b || (num_a && num_b) || (time_a && time_b);
}

/* details {table, column, refColumn, refTable, filterIndex} of column-filter entries */
static json_t *colf_det(const char *lt, const struct cq_dsl_filter *f, const char *rt,
                        long long idx)
{
    return cq_dsl_vdet("ssssi", "table", lt, "column", js(f->column), "refColumn",
                       js(f->ref_column), "refTable", rt, "filterIndex", idx);
}

static void column_filter(struct cq_dsl_vstate *v, const struct cq_dsl_filter *f,
                          const struct cq_dsl_vscope *sc, long long idx)
{
    const struct cq_dsl_vtab *lt, *rt;
    const struct cq_dsl_column *lc, *rc;
    const char *column = js(f->column), *ref = js(f->ref_column);
    json_t *d;

    if (!is_cmp(f->op)) {
        cq_dsl_verr(v, "INVALID_FILTER", cq_dsl_vdet("s", "operator", f->op_text),
                    "Invalid column filter operator '%s'", js(f->op_text));
    }
    lt = resolve(sc, f->table);
    rt = resolve(sc, f->ref_table);
    if (lt == NULL) {
        not_addressable(v, f->table, idx);
    }
    if (rt == NULL) {
        not_addressable(v, f->ref_table, idx);
    }
    if (lt == NULL || rt == NULL) {
        return;
    }
    lc = cq_dsl_column_by_api(lt->t, column);
    rc = cq_dsl_column_by_api(rt->t, ref);
    if (lc == NULL) {
        cq_dsl_verr(v, "UNKNOWN_COLUMN",
                    cq_dsl_vdet("ssi", "table", lt->t->api, "column", column, "filterIndex", idx),
                    "Filter column '%s' does not exist in table '%s'", column, lt->t->api);
    }
    if (rc == NULL) {
        cq_dsl_verr(v, "UNKNOWN_COLUMN", colf_det(lt->t->api, f, rt->t->api, idx),
                    "Filter refColumn '%s' does not exist in table '%s'", ref, rt->t->api);
    }
    if (lc == NULL || rc == NULL) {
        return;
    }
    if (!cq_dsl_col_allowed(lt->ta, lc)) {
        cq_dsl_verr(v, "ACCESS_DENIED",
                    cq_dsl_vdet("ssi", "table", lt->t->api, "column", column, "filterIndex", idx),
                    "Column '%s' is not allowed", column);
    }
    if (!cq_dsl_col_allowed(rt->ta, rc)) {
        cq_dsl_verr(v, "ACCESS_DENIED",
                    cq_dsl_vdet("ssi", "table", rt->t->api, "column", ref, "filterIndex", idx),
                    "Column '%s' is not allowed", ref);
    }
    if (lc->array || rc->array) {
        cq_dsl_verr(v, "INVALID_FILTER", colf_det(lt->t->api, f, rt->t->api, idx),
                    "QueryColumnFilter does not support array columns");
    } else if (!compatible(lc->type, rc->type)) {
        d = colf_det(lt->t->api, f, rt->t->api, idx);
        json_object_set_new(d, "expected", json_string(lc->type_name));
        json_object_set_new(d, "actual", json_string(rc->type_name));
        cq_dsl_verr(v, "INVALID_FILTER", d, "Incompatible types: '%s' vs '%s'", lc->type_name,
                    rc->type_name);
    }
}

static void filter(struct cq_dsl_vstate *v, const struct cq_dsl_filter *f,
                   const struct cq_dsl_vscope *sc, long long idx);

static bool exists_related(const struct cq_dsl_vscope *sc, const struct cq_dsl_table *t)
{
    if (cq_dsl_vrelated(sc->tabs[0].t, t)) {
        return true;
    }
    for (size_t i = 1; sc->top && i < sc->n_tabs; i++) {
        if (cq_dsl_vrelated(sc->tabs[i].t, t)) {
            return true;
        }
    }
    return false;
}

static void exists_filter(struct cq_dsl_vstate *v, const struct cq_dsl_filter *f,
                          const struct cq_dsl_vscope *sc, long long idx)
{
    const char *name = js(f->table);
    const struct cq_dsl_table *t;
    struct cq_dsl_vtab inner;
    struct cq_dsl_vscope nested = {&inner, 1, false};
    struct cq_buf b;

    if (f->has_count && !is_cmp(f->op)) {
        cq_dsl_verr(v, "INVALID_FILTER", cq_dsl_vdet("s", "operator", f->op_text),
                    "Invalid EXISTS count operator '%s'", js(f->op_text));
    }
    t = cq_dsl_table_by_api(v->cat, name);
    if (t == NULL) {
        cq_dsl_verr(v, "UNKNOWN_TABLE", cq_dsl_vdet("si", "table", name, "filterIndex", idx),
                    "EXISTS references unknown table '%s'", name);
        return;
    }
    if (!exists_related(sc, t)) {
        cq_dsl_verr(v, "INVALID_EXISTS", cq_dsl_vdet("si", "table", name, "filterIndex", idx),
                    "No relation between '%s' and '%s'", sc->tabs[0].t->api, name);
    }
    inner.t = t;
    inner.ta = cq_dsl_vtouch(v, t);
    if (inner.ta == NULL) {
        return;
    }
    if (!inner.ta->allowed) {
        cq_dsl_verr(v, "ACCESS_DENIED", cq_dsl_vdet("si", "table", name, "filterIndex", idx),
                    "Access denied for EXISTS table '%s'", name);
    }
    if (f->has_count && !cq_dsl_vnonneg_int(f->value)) {
        cq_buf_init(&b, 1 << 20);
        cq_dsl_vjs(&b, f->value);
        cq_dsl_verr(v, "INVALID_EXISTS", cq_dsl_vdet("si", "table", name, "filterIndex", idx),
                    "EXISTS count value must be a non-negative integer, got %s", cq_buf_str(&b));
        cq_buf_cleanup(&b);
    }
    for (size_t i = 0; i < f->n_filters; i++) {
        filter(v, f->filters[i], &nested, idx);
    }
}

static void filter(struct cq_dsl_vstate *v, const struct cq_dsl_filter *f,
                   const struct cq_dsl_vscope *sc, long long idx)
{
    if (v->rc != CQ_OK || f == NULL) {
        return;
    }
    switch (f->kind) {
    case CQ_DSL_F_GROUP:
        if (f->logic == NULL || (strcmp(f->logic, "and") != 0 && strcmp(f->logic, "or") != 0)) {
            cq_dsl_verr(v, "INVALID_FILTER", cq_dsl_vdet("s", "logic", f->logic),
                        "Invalid filter group logic '%s', must be 'and' or 'or'", js(f->logic));
            return; /* children not checked */
        }
        for (size_t i = 0; i < f->n_conds; i++) {
            filter(v, f->conds[i], sc, idx);
        }
        break;
    case CQ_DSL_F_EXISTS:
        exists_filter(v, f, sc, idx);
        break;
    case CQ_DSL_F_COLUMN:
        column_filter(v, f, sc, idx);
        break;
    case CQ_DSL_F_VALUE:
        value_filter(v, f, sc, idx);
        break;
    }
}

void cq_dsl_vfilters(struct cq_dsl_vstate *v, struct cq_dsl_filter *const *fs, size_t n,
                     const struct cq_dsl_vscope *sc)
{
    for (size_t i = 0; i < n; i++) {
        filter(v, fs[i], sc, (long long)i);
    }
}

/* ---- HAVING (rule 11) ------------------------------------------------------------------- */

static bool is_alias(const struct cq_dsl_query *q, const char *name)
{
    for (size_t i = 0; name != NULL && i < q->n_aggs; i++) {
        if (strcmp(q->aggs[i].alias, name) == 0) {
            return true;
        }
    }
    return false;
}

static bool having_op(enum cq_dsl_op op)
{
    return is_cmp(op) || op == CQ_DSL_OP_IN || op == CQ_DSL_OP_NOT_IN || op == CQ_DSL_OP_BETWEEN ||
           op == CQ_DSL_OP_NOT_BETWEEN || op == CQ_DSL_OP_IS_NULL || op == CQ_DSL_OP_IS_NOT_NULL;
}

/* clariq (§0.3): the value shapes HAVING's in/notIn/between SQL needs. */
static void having_value(struct cq_dsl_vstate *v, const struct cq_dsl_filter *f)
{
    const struct cq_dsl_val *val = f->value, *from = member(val, "from"), *to = member(val, "to");
    const char *op = js(f->op_text);
    json_t *d = NULL;

    if (f->op == CQ_DSL_OP_IN || f->op == CQ_DSL_OP_NOT_IN) {
        if (val == NULL || val->kind != CQ_DSL_V_ARRAY) {
            d = cq_dsl_vdet("ss", "alias", f->column, "operator", op);
            cq_dsl_verr(v, "INVALID_VALUE", d, "Operator '%s' requires an array value", op);
        } else if (val->n == 0) {
            d = cq_dsl_vdet("ss", "alias", f->column, "operator", op);
            cq_dsl_verr(v, "INVALID_VALUE", d, "Operator '%s' requires a non-empty array", op);
        } else if (has_null(val)) {
            d = cq_dsl_vdet("ss", "alias", f->column, "operator", op);
            cq_dsl_verr(v, "INVALID_VALUE", d, "Operator '%s' array must not contain null elements",
                        op);
        }
    } else if (f->op == CQ_DSL_OP_BETWEEN || f->op == CQ_DSL_OP_NOT_BETWEEN) {
        if (from == NULL || to == NULL) {
            d = cq_dsl_vdet("ss", "alias", f->column, "operator", op);
            cq_dsl_verr(v, "INVALID_VALUE", d,
                        "Operator '%s' requires an object with 'from' and 'to'", op);
            return;
        }
        if (from->kind == CQ_DSL_V_NULL) {
            d = cq_dsl_vdet("ss", "alias", f->column, "operator", op);
            cq_dsl_verr(v, "INVALID_VALUE", d, "Operator '%s' requires non-null 'from' value", op);
        }
        if (to->kind == CQ_DSL_V_NULL) {
            d = cq_dsl_vdet("ss", "alias", f->column, "operator", op);
            cq_dsl_verr(v, "INVALID_VALUE", d, "Operator '%s' requires non-null 'to' value", op);
        }
    }
}

static void having(struct cq_dsl_vstate *v, const struct cq_dsl_filter *f)
{
    bool bad = false;

    if (v->rc != CQ_OK || f == NULL) {
        return;
    }
    switch (f->kind) {
    case CQ_DSL_F_COLUMN:
        cq_dsl_verr(v, "INVALID_HAVING", NULL, "QueryColumnFilter is not allowed in HAVING");
        return;
    case CQ_DSL_F_EXISTS:
        cq_dsl_verr(v, "INVALID_HAVING", NULL, "QueryExistsFilter is not allowed in HAVING");
        return;
    case CQ_DSL_F_GROUP:
        if (f->logic == NULL || (strcmp(f->logic, "and") != 0 && strcmp(f->logic, "or") != 0)) {
            cq_dsl_verr(v, "INVALID_HAVING", cq_dsl_vdet("s", "logic", f->logic),
                        "Invalid having group logic '%s', must be 'and' or 'or'", js(f->logic));
            return;
        }
        for (size_t i = 0; i < f->n_conds; i++) {
            having(v, f->conds[i]);
        }
        return;
    case CQ_DSL_F_VALUE:
        break;
    }
    if (f->table != NULL) {
        cq_dsl_verr(v, "INVALID_HAVING", cq_dsl_vdet("ss", "table", f->table, "alias", f->column),
                    "table qualifier is not allowed in HAVING filters");
        bad = true;
    }
    if (!is_alias(v->q, f->column)) {
        cq_dsl_verr(v, "INVALID_HAVING", cq_dsl_vdet("s", "alias", f->column),
                    "HAVING column '%s' is not an aggregation alias", js(f->column));
        bad = true;
    }
    if (!having_op(f->op)) {
        cq_dsl_verr(v, "INVALID_HAVING",
                    cq_dsl_vdet("ss", "alias", f->column, "operator", f->op_text),
                    "Operator '%s' is not allowed in HAVING", js(f->op_text));
        bad = true;
    }
    if (!bad) {
        having_value(v, f);
    }
}

void cq_dsl_vhaving(struct cq_dsl_vstate *v, struct cq_dsl_filter *const *fs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        having(v, fs[i]);
    }
}
