/*
 * parse.c - a request's JSON (jansson) into the AST of ast.h, in the compile's arena.
 *
 * Nothing here knows the catalog: names, operators and directions are kept as written so
 * validation can quote them. What the spec leaves to JavaScript's type looseness (a
 * number where a column name belongs, a filter that is not an object) is reported here as
 * VALIDATION_FAILED entries of code INVALID_QUERY with the JSON pointer of the culprit,
 * all of them at once, instead of the reference's 500.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "dsl/dsl.h"

#define MAX_FILTER_DEPTH 64 /* nesting of groups/EXISTS; deeper is refused, not recursed */

static const char *const op_names[CQ_DSL_OP_COUNT_] = {
    [CQ_DSL_OP_UNKNOWN] = "",
    [CQ_DSL_OP_EQ] = "=",
    [CQ_DSL_OP_NE] = "!=",
    [CQ_DSL_OP_GT] = ">",
    [CQ_DSL_OP_LT] = "<",
    [CQ_DSL_OP_GE] = ">=",
    [CQ_DSL_OP_LE] = "<=",
    [CQ_DSL_OP_BETWEEN] = "between",
    [CQ_DSL_OP_NOT_BETWEEN] = "notBetween",
    [CQ_DSL_OP_IN] = "in",
    [CQ_DSL_OP_NOT_IN] = "notIn",
    [CQ_DSL_OP_LIKE] = "like",
    [CQ_DSL_OP_NOT_LIKE] = "notLike",
    [CQ_DSL_OP_ILIKE] = "ilike",
    [CQ_DSL_OP_NOT_ILIKE] = "notIlike",
    [CQ_DSL_OP_CONTAINS] = "contains",
    [CQ_DSL_OP_ICONTAINS] = "icontains",
    [CQ_DSL_OP_NOT_CONTAINS] = "notContains",
    [CQ_DSL_OP_NOT_ICONTAINS] = "notIcontains",
    [CQ_DSL_OP_STARTS_WITH] = "startsWith",
    [CQ_DSL_OP_ISTARTS_WITH] = "istartsWith",
    [CQ_DSL_OP_ENDS_WITH] = "endsWith",
    [CQ_DSL_OP_IENDS_WITH] = "iendsWith",
    [CQ_DSL_OP_LEVENSHTEIN_LTE] = "levenshteinLte",
    [CQ_DSL_OP_IS_NULL] = "isNull",
    [CQ_DSL_OP_IS_NOT_NULL] = "isNotNull",
    [CQ_DSL_OP_ARRAY_CONTAINS] = "arrayContains",
    [CQ_DSL_OP_ARRAY_CONTAINS_ALL] = "arrayContainsAll",
    [CQ_DSL_OP_ARRAY_CONTAINS_ANY] = "arrayContainsAny",
    [CQ_DSL_OP_ARRAY_IS_EMPTY] = "arrayIsEmpty",
    [CQ_DSL_OP_ARRAY_IS_NOT_EMPTY] = "arrayIsNotEmpty",
};

enum cq_dsl_op cq_dsl_op_parse(const char *name)
{
    if (name == NULL) {
        return CQ_DSL_OP_UNKNOWN;
    }
    for (int i = 1; i < CQ_DSL_OP_COUNT_; i++) {
        if (strcmp(op_names[i], name) == 0) {
            return (enum cq_dsl_op)i;
        }
    }
    return CQ_DSL_OP_UNKNOWN;
}

const char *cq_dsl_op_name(enum cq_dsl_op op)
{
    return (unsigned)op < CQ_DSL_OP_COUNT_ ? op_names[op] : "";
}

/* ---- values --------------------------------------------------------------------------- */

static int val_fill(struct cq_arena *a, const json_t *j, struct cq_dsl_val *v, int depth)
{
    size_t i = 0;

    if (depth > 256) {
        return CQ_EINVAL; /* jansson caps nesting lower than this; belt and braces */
    }
    switch (json_typeof(j)) {
    case JSON_NULL:
        v->kind = CQ_DSL_V_NULL;
        return CQ_OK;
    case JSON_TRUE:
    case JSON_FALSE:
        v->kind = CQ_DSL_V_BOOL;
        v->b = json_is_true(j);
        return CQ_OK;
    case JSON_INTEGER:
        v->kind = CQ_DSL_V_INT;
        v->i = json_integer_value(j);
        v->d = (double)v->i;
        return CQ_OK;
    case JSON_REAL:
        v->kind = CQ_DSL_V_REAL;
        v->d = json_real_value(j);
        return CQ_OK;
    case JSON_STRING:
        v->kind = CQ_DSL_V_STRING;
        v->len = json_string_length(j);
        v->s = cq_arena_strndup(a, json_string_value(j), v->len);
        return v->s ? CQ_OK : CQ_ENOMEM;
    case JSON_ARRAY: {
        struct cq_dsl_val *items;
        v->kind = CQ_DSL_V_ARRAY;
        v->n = json_array_size(j);
        items = cq_arena_alloc(a, (v->n ? v->n : 1) * sizeof(*items));
        if (items == NULL) {
            return CQ_ENOMEM;
        }
        for (i = 0; i < v->n; i++) {
            int rc = val_fill(a, json_array_get(j, i), &items[i], depth + 1);
            if (rc != CQ_OK) {
                return rc;
            }
        }
        v->items = items;
        return CQ_OK;
    }
    case JSON_OBJECT: {
        struct cq_dsl_val *items;
        const char **keys;
        const char *key;
        json_t *member;
        v->kind = CQ_DSL_V_OBJECT;
        v->n = json_object_size(j);
        items = cq_arena_alloc(a, (v->n ? v->n : 1) * sizeof(*items));
        keys = cq_arena_alloc(a, (v->n ? v->n : 1) * sizeof(*keys));
        if (items == NULL || keys == NULL) {
            return CQ_ENOMEM;
        }
        json_object_foreach((json_t *)(uintptr_t)j, key, member) {
            int rc;
            keys[i] = cq_arena_strdup(a, key);
            if (keys[i] == NULL) {
                return CQ_ENOMEM;
            }
            rc = val_fill(a, member, &items[i], depth + 1);
            if (rc != CQ_OK) {
                return rc;
            }
            i++;
        }
        v->items = items;
        v->keys = keys;
        return CQ_OK;
    }
    }
    return CQ_EINVAL;
}

const struct cq_dsl_val *cq_dsl_val_from_json(struct cq_arena *a, const json_t *j)
{
    struct cq_dsl_val *v = cq_arena_alloc(a, sizeof(*v));

    if (v == NULL || j == NULL || val_fill(a, j, v, 0) != CQ_OK) {
        return NULL;
    }
    return v;
}

/*
 * Number text as JavaScript's Number.prototype.toString prints it: the shortest digits
 * that read back to the same double, fixed notation for exponents -7 < e < 21, else
 * d.ddde+XX. Params, masked numbers and messages must look exactly like the reference's.
 * Writes into a caller buffer (no allocation: result rows call it per value).
 */

struct small {
    char *p;
    size_t size, len;
};

static void sput(struct small *s, char c)
{
    if (s->len + 1 < s->size) {
        s->p[s->len++] = c;
        s->p[s->len] = '\0';
    }
}

static void sputs(struct small *s, const char *z)
{
    while (*z != '\0') {
        sput(s, *z++);
    }
}

void cq_dsl_js_number(double d, char *out, size_t size)
{
    char e[48], digits[24];
    struct small s = {out, size, 0};
    size_t k = 0;
    int p, exp, n;

    if (size == 0) {
        return;
    }
    out[0] = '\0';
    if (isnan(d)) {
        sputs(&s, "NaN");
        return;
    }
    if (isinf(d)) {
        sputs(&s, d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    if (d == 0) {
        sputs(&s, "0"); /* -0 too */
        return;
    }
    /* The shortest digits that read back as d (ECMAScript Number::toString). */
    for (p = 1; p < 17; p++) {
        snprintf(e, sizeof(e), "%.*e", p - 1, d);
        if (strtod(e, NULL) == d) {
            break;
        }
    }
    snprintf(e, sizeof(e), "%.*e", p - 1, d);
    const char *c = e;
    if (*c == '-') {
        sput(&s, '-');
        c++;
    }
    for (; *c != '\0' && *c != 'e' && k < sizeof(digits) - 1; c++) {
        if (*c >= '0' && *c <= '9') {
            digits[k++] = *c;
        }
    }
    while (k > 1 && digits[k - 1] == '0') {
        k--;
    }
    digits[k] = '\0';
    exp = *c == 'e' ? (int)strtol(c + 1, NULL, 10) : 0;
    n = exp + 1; /* the decimal point sits after n digits */
    if ((int)k <= n && n <= 21) {
        sputs(&s, digits);
        for (int i = (int)k; i < n; i++) {
            sput(&s, '0');
        }
    } else if (0 < n && n <= 21) {
        for (int i = 0; i < (int)k; i++) {
            if (i == n) {
                sput(&s, '.');
            }
            sput(&s, digits[i]);
        }
    } else if (-6 < n && n <= 0) {
        sputs(&s, "0.");
        for (int i = 0; i < -n; i++) {
            sput(&s, '0');
        }
        sputs(&s, digits);
    } else {
        char ex[16];
        sput(&s, digits[0]);
        if (k > 1) {
            sput(&s, '.');
            sputs(&s, digits + 1);
        }
        snprintf(ex, sizeof(ex), "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
        sputs(&s, ex);
    }
}

void cq_dsl_val_write(struct cq_buf *b, const struct cq_dsl_val *v)
{
    char tmp[32];

    if (v == NULL) {
        cq_buf_puts(b, "null");
        return;
    }
    switch (v->kind) {
    case CQ_DSL_V_NULL:
        cq_buf_puts(b, "null");
        break;
    case CQ_DSL_V_BOOL:
        cq_buf_puts(b, v->b ? "true" : "false");
        break;
    case CQ_DSL_V_INT: {
        int len = snprintf(tmp, sizeof(tmp), "%lld", (long long)v->i);
        cq_buf_append(b, tmp, (size_t)len);
        break;
    }
    case CQ_DSL_V_REAL:
        cq_dsl_js_number(isfinite(v->d) ? v->d : 0, tmp, sizeof(tmp));
        cq_buf_puts(b, tmp);
        break;
    case CQ_DSL_V_STRING:
        cq_json_put_str(b, v->s, v->len);
        break;
    case CQ_DSL_V_ARRAY:
        cq_buf_putc(b, '[');
        for (size_t i = 0; i < v->n; i++) {
            if (i > 0) {
                cq_buf_putc(b, ',');
            }
            cq_dsl_val_write(b, &v->items[i]);
        }
        cq_buf_putc(b, ']');
        break;
    case CQ_DSL_V_OBJECT:
        cq_buf_putc(b, '{');
        for (size_t i = 0; i < v->n; i++) {
            if (i > 0) {
                cq_buf_putc(b, ',');
            }
            cq_json_put_str(b, v->keys[i], strlen(v->keys[i]));
            cq_buf_putc(b, ':');
            cq_dsl_val_write(b, &v->items[i]);
        }
        cq_buf_putc(b, '}');
        break;
    }
}

/* ---- the parser state ------------------------------------------------------------------ */

struct parser {
    struct cq_arena *a;
    json_t *errors;   /* INVALID_QUERY entries; NULL until the first */
    int rc;           /* sticky CQ_ENOMEM */
};

/* Records "<what> at <path>" as an INVALID_QUERY entry. */
static void bad(struct parser *p, const char *path, const char *what)
{
    char msg[256];
    json_t *details;

    if (p->errors == NULL) {
        p->errors = json_array();
    }
    snprintf(msg, sizeof(msg), "%s at %s", what, path[0] ? path : "/");
    details = json_object();
    json_object_set_new(details, "path", json_string(path[0] ? path : "/"));
    json_array_append_new(p->errors, cq_dsl_entry("INVALID_QUERY", msg, details));
}

static const char *sub(struct parser *p, const char *path, const char *key)
{
    const char *s = cq_arena_printf(p->a, "%s/%s", path, key);
    if (s == NULL) {
        p->rc = CQ_ENOMEM;
        return "";
    }
    return s;
}

static const char *idx(struct parser *p, const char *path, size_t i)
{
    const char *s = cq_arena_printf(p->a, "%s/%zu", path, i);
    if (s == NULL) {
        p->rc = CQ_ENOMEM;
        return "";
    }
    return s;
}

static const char *jstr(struct parser *p, const json_t *j)
{
    const char *s = cq_arena_strndup(p->a, json_string_value(j), json_string_length(j));
    if (s == NULL) {
        p->rc = CQ_ENOMEM;
    }
    return s;
}

/* An optional string member: NULL when absent or null; an entry when of another type. */
static const char *opt_str(struct parser *p, const json_t *obj, const char *key,
                           const char *path)
{
    const json_t *j = json_object_get(obj, key);

    if (j == NULL || json_is_null(j)) {
        return NULL;
    }
    if (!json_is_string(j)) {
        char what[96];
        snprintf(what, sizeof(what), "'%s' must be a string", key);
        bad(p, sub(p, path, key), what);
        return NULL;
    }
    return jstr(p, j);
}

/* A required string member. */
static const char *req_str(struct parser *p, const json_t *obj, const char *key,
                           const char *path)
{
    const json_t *j = json_object_get(obj, key);

    if (j == NULL || json_is_null(j)) {
        char what[96];
        snprintf(what, sizeof(what), "'%s' is required", key);
        bad(p, sub(p, path, key), what);
        return NULL;
    }
    return opt_str(p, obj, key, path);
}

static bool opt_bool(struct parser *p, const json_t *obj, const char *key, const char *path,
                     bool dflt)
{
    const json_t *j = json_object_get(obj, key);

    if (j == NULL || json_is_null(j)) {
        return dflt;
    }
    if (!json_is_boolean(j)) {
        char what[96];
        snprintf(what, sizeof(what), "'%s' must be true or false", key);
        bad(p, sub(p, path, key), what);
        return dflt;
    }
    return json_is_true(j);
}

/* An optional array member: NULL when absent or null (with *present false). */
static const json_t *opt_array(struct parser *p, const json_t *obj, const char *key,
                               const char *path, bool *present)
{
    const json_t *j = json_object_get(obj, key);

    *present = false;
    if (j == NULL || json_is_null(j)) {
        return NULL;
    }
    if (!json_is_array(j)) {
        char what[96];
        snprintf(what, sizeof(what), "'%s' must be an array", key);
        bad(p, sub(p, path, key), what);
        return NULL;
    }
    *present = true;
    return j;
}

static const char *const *str_array(struct parser *p, const json_t *arr, const char *path,
                                    size_t *n)
{
    const char **v;

    *n = json_array_size(arr);
    v = cq_arena_alloc(p->a, (*n ? *n : 1) * sizeof(*v));
    if (v == NULL) {
        p->rc = CQ_ENOMEM;
        *n = 0;
        return NULL;
    }
    for (size_t i = 0; i < *n; i++) {
        const json_t *j = json_array_get(arr, i);
        if (json_is_string(j)) {
            v[i] = jstr(p, j);
        } else {
            bad(p, idx(p, path, i), "expected a string");
            v[i] = "";
        }
    }
    return v;
}

static const struct cq_dsl_val *val(struct parser *p, const json_t *j)
{
    const struct cq_dsl_val *v;

    if (j == NULL) {
        return NULL;
    }
    v = cq_dsl_val_from_json(p->a, j);
    if (v == NULL) {
        p->rc = CQ_ENOMEM;
    }
    return v;
}

/* ---- filters ------------------------------------------------------------------------------ */

static struct cq_dsl_filter **filter_list(struct parser *p, const json_t *arr, const char *path,
                                          size_t *n, int depth);

static bool has(const json_t *obj, const char *key)
{
    return json_object_get(obj, key) != NULL; /* JSON null counts as present (spec §4.1) */
}

static void parse_exists(struct parser *p, const json_t *o, struct cq_dsl_filter *f, int depth)
{
    const json_t *count = json_object_get(o, "count");
    const json_t *list;
    bool present;

    f->exists = opt_bool(p, o, "exists", f->path, true);
    list = opt_array(p, o, "filters", f->path, &present);
    if (present) {
        f->filters = filter_list(p, list, sub(p, f->path, "filters"), &f->n_filters, depth + 1);
    }
    if (count != NULL && !json_is_null(count)) {
        const char *cpath = sub(p, f->path, "count");
        if (!json_is_object(count)) {
            bad(p, cpath, "'count' must be an object with operator and value");
            return;
        }
        f->has_count = true;
        f->op_text = opt_str(p, count, "operator", cpath);
        f->op = cq_dsl_op_parse(f->op_text);
        f->value = val(p, json_object_get(count, "value"));
    }
}

static struct cq_dsl_filter *parse_filter(struct parser *p, const json_t *o, const char *path,
                                          int depth)
{
    struct cq_dsl_filter *f = cq_arena_alloc(p->a, sizeof(*f));

    if (f == NULL) {
        p->rc = CQ_ENOMEM;
        return NULL;
    }
    f->path = path;
    if (!json_is_object(o)) {
        bad(p, path, "a filter must be an object");
        f->kind = CQ_DSL_F_GROUP; /* inert: logic "and" with no conditions */
        f->logic = "and";
        return f;
    }
    if (depth > MAX_FILTER_DEPTH) {
        bad(p, path, "filters are nested too deeply (at most 64 levels)");
        f->kind = CQ_DSL_F_GROUP;
        f->logic = "and";
        return f;
    }
    if (has(o, "logic") && has(o, "conditions")) {
        const json_t *conds;
        bool present;
        f->kind = CQ_DSL_F_GROUP;
        f->logic = opt_str(p, o, "logic", path);
        if (f->logic == NULL) {
            f->logic = "null";
        }
        f->negate = opt_bool(p, o, "not", path, false);
        conds = opt_array(p, o, "conditions", path, &present);
        if (present) {
            f->conds = filter_list(p, conds, sub(p, path, "conditions"), &f->n_conds, depth + 1);
        }
    } else if (has(o, "table") && !has(o, "operator") && !has(o, "logic") && !has(o, "column")) {
        f->kind = CQ_DSL_F_EXISTS;
        f->table = req_str(p, o, "table", path);
        parse_exists(p, o, f, depth);
    } else {
        f->kind = has(o, "refColumn") ? CQ_DSL_F_COLUMN : CQ_DSL_F_VALUE;
        f->column = req_str(p, o, "column", path);
        f->table = opt_str(p, o, "table", path);
        f->op_text = req_str(p, o, "operator", path);
        f->op = cq_dsl_op_parse(f->op_text);
        if (f->kind == CQ_DSL_F_COLUMN) {
            f->ref_column = req_str(p, o, "refColumn", path);
            f->ref_table = opt_str(p, o, "refTable", path);
        } else {
            f->value = val(p, json_object_get(o, "value"));
        }
    }
    return f;
}

static struct cq_dsl_filter **filter_list(struct parser *p, const json_t *arr, const char *path,
                                          size_t *n, int depth)
{
    struct cq_dsl_filter **v;

    *n = json_array_size(arr);
    v = cq_arena_alloc(p->a, (*n ? *n : 1) * sizeof(*v));
    if (v == NULL) {
        p->rc = CQ_ENOMEM;
        *n = 0;
        return NULL;
    }
    for (size_t i = 0; i < *n && p->rc == CQ_OK; i++) {
        v[i] = parse_filter(p, json_array_get(arr, i), idx(p, path, i), depth);
    }
    if (p->rc != CQ_OK) {
        *n = 0;
    }
    return v;
}

/* ---- the definition ------------------------------------------------------------------------ */

static void parse_joins(struct parser *p, const json_t *arr, struct cq_dsl_query *q)
{
    q->n_joins = json_array_size(arr);
    q->joins = cq_arena_alloc(p->a, (q->n_joins ? q->n_joins : 1) * sizeof(*q->joins));
    if (q->joins == NULL) {
        p->rc = CQ_ENOMEM;
        q->n_joins = 0;
        return;
    }
    for (size_t i = 0; i < q->n_joins && p->rc == CQ_OK; i++) {
        struct cq_dsl_join *jn = &q->joins[i];
        const json_t *o = json_array_get(arr, i), *list;
        const char *type;
        bool present;

        jn->path = idx(p, "/joins", i);
        if (!json_is_object(o)) {
            bad(p, jn->path, "a join must be an object");
            jn->table = "";
            continue;
        }
        jn->table = req_str(p, o, "table", jn->path);
        if (jn->table == NULL) {
            jn->table = "";
        }
        type = opt_str(p, o, "type", jn->path);
        if (type != NULL && strcmp(type, "inner") != 0 && strcmp(type, "left") != 0) {
            bad(p, sub(p, jn->path, "type"), "'type' must be \"inner\" or \"left\"");
        }
        jn->inner = type != NULL && strcmp(type, "inner") == 0;
        list = opt_array(p, o, "columns", jn->path, &present);
        if (present) {
            jn->has_columns = true;
            jn->columns = str_array(p, list, sub(p, jn->path, "columns"), &jn->n_columns);
        }
        list = opt_array(p, o, "filters", jn->path, &present);
        if (present) {
            jn->filters = filter_list(p, list, sub(p, jn->path, "filters"), &jn->n_filters, 0);
        }
    }
}

static struct cq_dsl_colref *colrefs(struct parser *p, const json_t *arr, const char *path,
                                     size_t *n, bool order)
{
    struct cq_dsl_colref *v;

    *n = json_array_size(arr);
    v = cq_arena_alloc(p->a, (*n ? *n : 1) * sizeof(*v));
    if (v == NULL) {
        p->rc = CQ_ENOMEM;
        *n = 0;
        return NULL;
    }
    for (size_t i = 0; i < *n; i++) {
        const json_t *o = json_array_get(arr, i);
        v[i].path = idx(p, path, i);
        if (!json_is_object(o)) {
            bad(p, v[i].path, "expected an object with 'column'");
            v[i].column = "";
            continue;
        }
        v[i].column = req_str(p, o, "column", v[i].path);
        if (v[i].column == NULL) {
            v[i].column = "";
        }
        v[i].table = opt_str(p, o, "table", v[i].path);
        if (order) {
            v[i].direction = opt_str(p, o, "direction", v[i].path);
            v[i].desc = v[i].direction != NULL && strcmp(v[i].direction, "desc") == 0;
        }
    }
    return v;
}

static void parse_aggs(struct parser *p, const json_t *arr, struct cq_dsl_query *q)
{
    static const char *const fns[] = {"", "count", "sum", "avg", "min", "max"};

    q->n_aggs = json_array_size(arr);
    q->aggs = cq_arena_alloc(p->a, (q->n_aggs ? q->n_aggs : 1) * sizeof(*q->aggs));
    if (q->aggs == NULL) {
        p->rc = CQ_ENOMEM;
        q->n_aggs = 0;
        return;
    }
    for (size_t i = 0; i < q->n_aggs; i++) {
        struct cq_dsl_agg *g = &q->aggs[i];
        const json_t *o = json_array_get(arr, i);

        g->path = idx(p, "/aggregations", i);
        if (!json_is_object(o)) {
            bad(p, g->path, "an aggregation must be an object");
            g->column = g->fn_text = g->alias = "";
            continue;
        }
        g->column = req_str(p, o, "column", g->path);
        g->table = opt_str(p, o, "table", g->path);
        g->fn_text = req_str(p, o, "fn", g->path);
        g->alias = req_str(p, o, "alias", g->path);
        g->column = g->column ? g->column : "";
        g->fn_text = g->fn_text ? g->fn_text : "";
        g->alias = g->alias ? g->alias : "";
        for (size_t k = 1; k < sizeof(fns) / sizeof(fns[0]); k++) {
            if (strcmp(fns[k], g->fn_text) == 0) {
                g->fn = (enum cq_dsl_aggfn)k;
            }
        }
    }
}

static void parse_scalars(struct parser *p, const json_t *d, struct cq_dsl_query *q)
{
    const char *fresh = opt_str(p, d, "freshness", "");
    const json_t *mode = json_object_get(d, "executeMode");
    const json_t *ids = json_object_get(d, "byIds");
    const json_t *j;

    q->distinct = opt_bool(p, d, "distinct", "", false);
    q->debug = opt_bool(p, d, "debug", "", false);
    j = json_object_get(d, "limit");
    q->limit = j != NULL && !json_is_null(j) ? val(p, j) : NULL;
    j = json_object_get(d, "offset");
    q->offset = j != NULL && !json_is_null(j) ? val(p, j) : NULL;
    if (fresh != NULL) {
        static const char *const names[] = {"", "realtime", "seconds", "minutes", "hours"};
        for (size_t k = 1; k < sizeof(names) / sizeof(names[0]); k++) {
            if (strcmp(names[k], fresh) == 0) {
                q->freshness = (enum cq_dsl_freshness)k;
            }
        }
        if (q->freshness == CQ_DSL_FRESH_ANY) {
            bad(p, "/freshness",
                "'freshness' must be one of \"realtime\", \"seconds\", \"minutes\", \"hours\"");
        }
    }
    /* spec §4: any other executeMode string behaves as execute */
    if (json_is_string(mode) && strcmp(json_string_value(mode), "sql-only") == 0) {
        q->mode = CQ_DSL_MODE_SQL_ONLY;
    } else if (json_is_string(mode) && strcmp(json_string_value(mode), "count") == 0) {
        q->mode = CQ_DSL_MODE_COUNT;
    }
    if (ids != NULL && !json_is_null(ids)) {
        if (!json_is_array(ids)) {
            bad(p, "/byIds", "'byIds' must be an array of ids");
        } else {
            q->by_ids = val(p, ids);
        }
    }
}

static void parse_definition(struct parser *p, const json_t *d, struct cq_dsl_query *q)
{
    const json_t *list;
    bool present;

    q->from = req_str(p, d, "from", "");
    list = opt_array(p, d, "columns", "", &present);
    if (present) {
        q->has_columns = true;
        q->columns = str_array(p, list, "/columns", &q->n_columns);
    }
    list = opt_array(p, d, "filters", "", &present);
    if (present) {
        q->filters = filter_list(p, list, "/filters", &q->n_filters, 0);
    }
    list = opt_array(p, d, "joins", "", &present);
    if (present) {
        parse_joins(p, list, q);
    }
    list = opt_array(p, d, "groupBy", "", &present);
    if (present) {
        q->has_group_by = true;
        q->group_by = colrefs(p, list, "/groupBy", &q->n_group_by, false);
    }
    list = opt_array(p, d, "aggregations", "", &present);
    if (present) {
        q->has_aggs = true;
        parse_aggs(p, list, q);
    }
    list = opt_array(p, d, "having", "", &present);
    if (present) {
        q->having = filter_list(p, list, "/having", &q->n_having, 0);
    }
    list = opt_array(p, d, "orderBy", "", &present);
    if (present) {
        q->order_by = colrefs(p, list, "/orderBy", &q->n_order_by, true);
    }
    parse_scalars(p, d, q);
}

/* Turns collected INVALID_QUERY entries (or ENOMEM) into the error. */
static int finish(struct parser *p, const char *from, struct cq_dsl_error *e)
{
    if (p->rc == CQ_ENOMEM) {
        json_decref(p->errors);
        cq_dsl_error_simple(e, CQ_DSL_E_INTERNAL, "InternalError", "out of memory");
        return CQ_ENOMEM;
    }
    if (p->errors != NULL) {
        cq_dsl_error_validation(e, from, p->errors);
        return CQ_EINVAL;
    }
    return CQ_OK;
}

int cq_dsl_parse_query(struct cq_arena *a, const json_t *definition, struct cq_dsl_query **q,
                       struct cq_dsl_error *e)
{
    struct parser p = {a, NULL, CQ_OK};
    struct cq_dsl_query *out = cq_arena_alloc(a, sizeof(*out));

    *q = NULL;
    if (out == NULL) {
        p.rc = CQ_ENOMEM;
        return finish(&p, NULL, e);
    }
    if (!json_is_object(definition)) {
        bad(&p, "/definition", "'definition' must be an object (a QueryDefinition)");
        return finish(&p, NULL, e);
    }
    parse_definition(&p, definition, out);
    if (finish(&p, out->from, e) != CQ_OK) {
        return e->cls == CQ_DSL_E_INTERNAL ? CQ_ENOMEM : CQ_EINVAL;
    }
    *q = out;
    return CQ_OK;
}

/* A context problem is the reference's TypeError (a 500); the message says what to send. */
static int ctx_error(struct cq_dsl_error *e, const char *msg)
{
    cq_dsl_error_simple(e, CQ_DSL_E_INTERNAL, "InternalError", msg);
    return CQ_EINVAL;
}

static int scope(struct cq_arena *a, const json_t *roles, const char *key, bool *present,
                 const char *const **ids, size_t *n, struct cq_dsl_error *e)
{
    const json_t *j = json_object_get(roles, key);
    const char **v;
    char msg[96];

    *present = false;
    if (j == NULL) {
        return CQ_OK;
    }
    snprintf(msg, sizeof(msg), "context.roles.%s must be an array of role ids", key);
    if (!json_is_array(j)) {
        return ctx_error(e, msg);
    }
    *n = json_array_size(j);
    v = cq_arena_alloc(a, (*n ? *n : 1) * sizeof(*v));
    if (v == NULL) {
        cq_dsl_error_simple(e, CQ_DSL_E_INTERNAL, "InternalError", "out of memory");
        return CQ_ENOMEM;
    }
    for (size_t i = 0; i < *n; i++) {
        const json_t *id = json_array_get(j, i);
        if (!json_is_string(id)) {
            return ctx_error(e, msg);
        }
        v[i] = cq_arena_strdup(a, json_string_value(id));
        if (v[i] == NULL) {
            cq_dsl_error_simple(e, CQ_DSL_E_INTERNAL, "InternalError", "out of memory");
            return CQ_ENOMEM;
        }
    }
    *present = true;
    *ids = v;
    return CQ_OK;
}

int cq_dsl_parse_context(struct cq_arena *a, const json_t *context, struct cq_dsl_context *ctx,
                         struct cq_dsl_error *e)
{
    const json_t *roles, *values;
    int rc;

    memset(ctx, 0, sizeof(*ctx));
    if (!json_is_object(context)) {
        return ctx_error(e, "context must be an object: {\"roles\":{\"user\":[...]}}");
    }
    roles = json_object_get(context, "roles");
    if (!json_is_object(roles)) {
        return ctx_error(e, "context.roles must be an object: {\"user\":[...],\"service\":[...]}");
    }
    rc = scope(a, roles, "user", &ctx->has_user, &ctx->user, &ctx->n_user, e);
    if (rc == CQ_OK) {
        rc = scope(a, roles, "service", &ctx->has_service, &ctx->service, &ctx->n_service, e);
    }
    if (rc != CQ_OK) {
        return rc;
    }
    values = json_object_get(context, "contextValues");
    if (values != NULL && !json_is_null(values)) {
        if (!json_is_object(values)) {
            return ctx_error(e, "context.contextValues must be an object");
        }
        ctx->values = cq_dsl_val_from_json(a, values);
        if (ctx->values == NULL) {
            cq_dsl_error_simple(e, CQ_DSL_E_INTERNAL, "InternalError", "out of memory");
            return CQ_ENOMEM;
        }
    }
    return CQ_OK;
}

int cq_dsl_parse_request(struct cq_arena *a, const json_t *body, bool bare_ok,
                         struct cq_dsl_query **q, struct cq_dsl_context *ctx,
                         struct cq_dsl_error *e)
{
    const json_t *def, *context;
    int rc;

    *q = NULL;
    memset(ctx, 0, sizeof(*ctx));
    if (!json_is_object(body) && !json_is_array(body)) {
        cq_dsl_error_simple(e, CQ_DSL_E_BODY, "INVALID_BODY",
                            "Request body must be an object with definition and context");
        return CQ_EINVAL;
    }
    def = json_object_get(body, "definition");
    context = json_object_get(body, "context");
    if (def == NULL && bare_ok) {
        return cq_dsl_parse_query(a, body, q, e); /* a bare definition: context {"roles":{}} */
    }
    if (def == NULL) {
        return ctx_error(e, "the request needs \"definition\" (a QueryDefinition) and "
                            "\"context\" ({\"roles\":{...}})");
    }
    if (context == NULL && bare_ok) {
        return cq_dsl_parse_query(a, def, q, e);
    }
    rc = cq_dsl_parse_context(a, context, ctx, e);
    if (rc == CQ_OK) {
        rc = cq_dsl_parse_query(a, def, q, e);
    }
    return rc;
}
