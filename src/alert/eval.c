/*
 * eval.c - runs an alert's query and applies its rule (see eval.h).
 *
 * The collecting sink reads each row once: it keeps display rows up to a cap and folds
 * the rule's column into running aggregates, so rules need no second pass.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "alert/eval.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "drv/param.h"

#define REASON_MAX 300 /* bytes of a reason */

/* What the sink collects while rows stream. */
struct collect {
    const struct cq_alert_conf *alert;
    struct cq_arena *arena;
    struct cq_alert_eval *ev;
    size_t col;              /* the rule's column index */
    bool col_found;
    size_t kept_bytes;
    size_t cells_cap;        /* row slots allocated in ev->cells */
    /* threshold / change / sql_boolean */
    bool have_first;         /* the first row's rule value was seen */
    const char *first;       /* its text; NULL = SQL NULL */
    int64_t n_values;        /* non-NULL values of the column */
    double min, max, sum;
    int64_t n_match;         /* rows matching the threshold */
    const char *match;       /* first matching value */
    const char *miss;        /* first non-matching value */
    const char *bad;         /* a non-numeric value where a number was needed */
    size_t n_cols_seen;
};

const char *cq_alert_state_name(enum cq_alert_state s)
{
    static const char *const names[] = {"ok", "triggered", "error"};
    return s <= CQ_ALERT_ERROR ? names[s] : "?";
}

static const char *op_name(enum cq_cmp_op op)
{
    static const char *const names[] = {">", ">=", "<", "<=", "==", "!="};
    return op <= CQ_OP_NE ? names[op] : "?";
}

static bool cmp(double a, enum cq_cmp_op op, double b)
{
    switch (op) {
    case CQ_OP_GT:
        return a > b;
    case CQ_OP_GE:
        return a >= b;
    case CQ_OP_LT:
        return a < b;
    case CQ_OP_LE:
        return a <= b;
    case CQ_OP_EQ:
        return a == b;
    case CQ_OP_NE:
        return a != b;
    }
    return false;
}

/* A whole-string number: "12", "-0.5", "1e3"; booleans count as 1 and 0. */
static bool to_num(const char *s, double *out)
{
    char *end;
    if (s == NULL || *s == '\0') {
        return false;
    }
    if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
        *out = s[0] == 't' ? 1 : 0;
        return true;
    }
    *out = strtod(s, &end);
    return *end == '\0' && !isnan(*out);
}

/* Numbers compare as numbers; == and != fall back to text when either side is not one. */
static bool value_matches(const struct cq_rule_conf *r, const char *v, const char **bad)
{
    double x;
    if (v == NULL) {
        return false; /* NULL never crosses a threshold */
    }
    if (to_num(v, &x) && to_num(r->value_text, &(double){0})) {
        return cmp(x, r->op, r->value);
    }
    if (r->op == CQ_OP_EQ || r->op == CQ_OP_NE) {
        return (strcmp(v, r->value_text) == 0) == (r->op == CQ_OP_EQ);
    }
    *bad = *bad != NULL ? *bad : v;
    return false;
}

static int on_columns(void *ctx, size_t n, const struct cq_col *cols, struct cq_err *err)
{
    struct collect *c = ctx;
    const char *want = c->alert->rule.column;
    c->ev->cols = cq_arena_alloc(c->arena, (n ? n : 1) * sizeof(char *));
    if (c->ev->cols == NULL) {
        return cq_err_set(err, CQ_ENOMEM, "out of memory");
    }
    c->n_cols_seen = n;
    for (size_t i = 0; i < n; i++) {
        c->ev->cols[i] = cq_arena_strdup(c->arena, cols[i].name);
        if (c->ev->cols[i] == NULL) {
            return cq_err_set(err, CQ_ENOMEM, "out of memory");
        }
        if (!c->col_found && want != NULL && strcmp(cols[i].name, want) == 0) {
            c->col = i;
            c->col_found = true;
        }
    }
    c->ev->n_cols = n;
    if (want == NULL && n > 0) {
        c->col_found = true; /* the first column */
    }
    return CQ_OK;
}

static const char *cell_text(struct collect *c, const struct cq_value *v)
{
    return v->kind == CQ_V_NULL ? NULL : cq_arena_strndup(c->arena, v->p, v->len);
}

/* Keeps the row for display while under both caps. */
static int keep_row(struct collect *c, size_t n, const struct cq_value *vals)
{
    struct cq_alert_eval *ev = c->ev;
    if (ev->n_rows >= CQ_ALERT_KEEP_ROWS || c->kept_bytes >= CQ_ALERT_KEEP_BYTES || n == 0) {
        return CQ_OK;
    }
    if (ev->cells == NULL) {
        ev->cells = cq_arena_alloc(c->arena, CQ_ALERT_KEEP_ROWS * n * sizeof(char *));
        if (ev->cells == NULL) {
            return CQ_ENOMEM;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char **cell = &ev->cells[ev->n_rows * n + i];
        size_t len = vals[i].len > 2000 ? 2000 : vals[i].len; /* one huge cell is enough */
        *cell = vals[i].kind == CQ_V_NULL ? NULL : cq_arena_strndup(c->arena, vals[i].p, len);
        if (vals[i].kind != CQ_V_NULL && *cell == NULL) {
            return CQ_ENOMEM;
        }
        c->kept_bytes += len;
    }
    ev->n_rows++;
    return CQ_OK;
}

/* Folds the rule's column of one row into the aggregates. */
static int fold(struct collect *c, const struct cq_value *v)
{
    const struct cq_rule_conf *r = &c->alert->rule;
    const char *text = NULL;
    bool first = !c->have_first;
    if (v->kind != CQ_V_NULL || first) {
        text = cell_text(c, v);
        if (v->kind != CQ_V_NULL && text == NULL) {
            return CQ_ENOMEM;
        }
    }
    if (first) {
        c->have_first = true;
        c->first = text;
    }
    if (r->type != CQ_RULE_THRESHOLD || text == NULL) {
        return CQ_OK;
    }
    double x;
    if (to_num(text, &x)) {
        c->min = c->n_values == 0 || x < c->min ? x : c->min;
        c->max = c->n_values == 0 || x > c->max ? x : c->max;
        c->sum += x;
    } else if (r->row >= CQ_ROW_MIN && r->row <= CQ_ROW_SUM) {
        c->bad = c->bad != NULL ? c->bad : text;
    }
    c->n_values++;
    if (r->row == CQ_ROW_ANY || r->row == CQ_ROW_ALL) {
        if (value_matches(r, text, &c->bad)) {
            c->n_match++;
            c->match = c->match != NULL ? c->match : text;
        } else {
            c->miss = c->miss != NULL ? c->miss : text;
        }
    }
    return CQ_OK;
}

static int on_row(void *ctx, size_t n, const struct cq_value *vals, struct cq_err *err)
{
    struct collect *c = ctx;
    c->ev->row_count++;
    if (keep_row(c, n, vals) != CQ_OK ||
        (c->col_found && c->col < n && fold(c, &vals[c->col]) != CQ_OK)) {
        return cq_err_set(err, CQ_ENOMEM, "out of memory");
    }
    return CQ_OK;
}

static int on_end(void *ctx, const struct cq_result_info *info, struct cq_err *err)
{
    struct collect *c = ctx;
    (void)err;
    c->ev->truncated = info->truncated;
    return CQ_OK;
}

/* ---- rules ------------------------------------------------------------------------------ */

static void set_value(struct collect *c, const char *v)
{
    c->ev->value = v;
    c->ev->has_num = to_num(v, &c->ev->num);
}

static void settle(struct collect *c, bool triggered, const char *fmt, ...) CQ_PRINTF(3, 4);
static void settle(struct collect *c, bool triggered, const char *fmt, ...)
{
    char reason[REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    c->ev->state = triggered ? CQ_ALERT_TRIGGERED : CQ_ALERT_OK;
    c->ev->reason = cq_arena_strdup(c->arena, reason);
}

static void fail(struct collect *c, enum cq_rc rc, const char *fmt, ...) CQ_PRINTF(3, 4);
static void fail(struct collect *c, enum cq_rc rc, const char *fmt, ...)
{
    char msg[sizeof(((struct cq_err *)0)->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->ev->state = CQ_ALERT_ERROR;
    c->ev->error_rc = rc;
    c->ev->error = cq_arena_strdup(c->arena, msg);
    c->ev->reason = c->ev->error;
}

static const char *col_label(const struct collect *c)
{
    return c->alert->rule.column != NULL ? c->alert->rule.column
                                         : (c->ev->n_cols > 0 ? c->ev->cols[0] : "?");
}

static void rule_threshold(struct collect *c)
{
    static const char *const aggs[] = {"first", "any", "all", "min", "max", "sum", "count"};
    const struct cq_rule_conf *r = &c->alert->rule;
    const char *col = col_label(c), *agg = aggs[r->row], *op = op_name(r->op);
    char num[64];
    double x = 0;
    switch (r->row) {
    case CQ_ROW_FIRST:
        if (c->ev->row_count == 0) {
            settle(c, false, "no rows to compare");
            return;
        }
        set_value(c, c->first);
        if (c->first == NULL) {
            settle(c, false, "%s is NULL in the first row", col);
            return;
        }
        if (value_matches(r, c->first, &c->bad)) {
            settle(c, true, "%s = %s %s %s", col, c->first, op, r->value_text);
        } else {
            settle(c, false, "%s = %s, not %s %s", col, c->first, op, r->value_text);
        }
        break;
    case CQ_ROW_ANY:
    case CQ_ROW_ALL: {
        bool any = r->row == CQ_ROW_ANY;
        bool hit = any ? c->n_match > 0 : c->n_match > 0 && c->n_match == c->ev->row_count;
        set_value(c, any ? (c->match ? c->match : c->first) : (c->miss ? c->miss : c->first));
        if (c->bad == NULL) {
            settle(c, hit, "%lld of %lld rows have %s %s %s", (long long)c->n_match,
                   (long long)c->ev->row_count, col, op, r->value_text);
        }
        break;
    }
    default: /* aggregates */
        if (c->bad == NULL && r->row != CQ_ROW_COUNT && r->row != CQ_ROW_SUM &&
            c->n_values == 0) {
            settle(c, false, "no values of %s to compare", col);
            return;
        }
        x = r->row == CQ_ROW_MIN   ? c->min
            : r->row == CQ_ROW_MAX ? c->max
            : r->row == CQ_ROW_SUM ? c->sum
                                   : (double)c->n_values;
        snprintf(num, sizeof(num), "%.15g", x);
        set_value(c, cq_arena_strdup(c->arena, num));
        if (c->bad == NULL) {
            bool hit = cmp(x, r->op, r->value);
            settle(c, hit, "%s(%s) = %s%s%s %s", agg, col, num, hit ? " " : ", not ", op,
                   r->value_text);
        }
        break;
    }
    if (c->bad != NULL) {
        fail(c, CQ_EINVAL, "threshold on %s: value '%.60s' is not a number (op %s needs one)",
             col, c->bad, op);
    }
}

/* True/false for a boolean-ish cell; false return = not boolean-ish. */
static bool boolish(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "t", "yes", "y", "on", "1", NULL};
    static const char *const no[] = {"false", "f", "no", "n", "off", "0", NULL};
    double x;
    for (size_t i = 0; yes[i] != NULL; i++) {
        if (cq_streq_ci(s, yes[i]) || cq_streq_ci(s, no[i])) {
            *out = cq_streq_ci(s, yes[i]);
            return true;
        }
    }
    if (to_num(s, &x)) { /* SQLite and MySQL-style integers: nonzero is true */
        *out = x != 0;
        return true;
    }
    return false;
}

static void rule_sql_boolean(struct collect *c)
{
    bool b;
    if (c->ev->row_count != 1 || c->ev->n_cols != 1) {
        fail(c, CQ_EINVAL,
             "sql_boolean expects exactly one row with one column, got %lld row%s and %zu "
             "column%s",
             (long long)c->ev->row_count, c->ev->row_count == 1 ? "" : "s", c->ev->n_cols,
             c->ev->n_cols == 1 ? "" : "s");
        return;
    }
    set_value(c, c->first);
    if (c->first == NULL || !boolish(c->first, &b)) {
        fail(c, CQ_EINVAL, "sql_boolean: %s is %s%.60s%s, not true or false", c->ev->cols[0],
             c->first ? "'" : "", c->first ? c->first : "NULL", c->first ? "'" : "");
        return;
    }
    settle(c, b, "%s is %s", c->ev->cols[0], b ? "true" : "false");
}

static void rule_change(struct collect *c, const struct cq_alert_status *prev)
{
    const struct cq_rule_conf *r = &c->alert->rule;
    const char *col = col_label(c);
    double now, old, delta;
    if (c->ev->row_count == 0 || c->first == NULL) {
        fail(c, CQ_EINVAL, "change rule: %s", c->ev->row_count == 0 ? "the query returned no rows"
                                                                      : "the value is NULL");
        return;
    }
    set_value(c, c->first);
    if (!to_num(c->first, &now)) {
        fail(c, CQ_EINVAL, "change rule: %s = '%.60s' is not a number", col, c->first);
        return;
    }
    if (prev == NULL || !prev->has_value || !to_num(prev->value, &old)) {
        settle(c, false, "%s = %s (first value, nothing to compare yet)", col, c->first);
        return;
    }
    delta = now - old;
    if (r->percent) {
        delta = old != 0 ? delta / fabs(old) * 100 : (delta == 0 ? 0 : copysign(INFINITY, delta));
    }
    bool hit = r->signed_delta ? cmp(delta, r->op, r->value) : fabs(delta) > r->value;
    settle(c, hit, "%s changed %+.4g%s (%s -> %s), %s%s %s", col, delta, r->percent ? "%" : "",
           prev->value, c->first, hit ? "" : "not ",
           r->signed_delta ? op_name(r->op) : "by more than", r->value_text);
}

static void apply_rule(struct collect *c, const struct cq_alert_status *prev)
{
    const struct cq_rule_conf *r = &c->alert->rule;
    int64_t n = c->ev->row_count;
    const char *more = c->ev->truncated ? " or more" : "";
    if ((r->type == CQ_RULE_THRESHOLD || r->type == CQ_RULE_CHANGE) && r->column != NULL &&
        !c->col_found) {
        fail(c, CQ_EINVAL, "column '%s' is not in the result (columns: %zu)", r->column,
             c->ev->n_cols);
        return;
    }
    switch (r->type) {
    case CQ_RULE_ANY_ROWS:
        settle(c, n > 0, "%lld row%s%s", (long long)n, n == 1 ? "" : "s", more);
        break;
    case CQ_RULE_NO_ROWS:
        settle(c, n == 0, "%lld row%s%s", (long long)n, n == 1 ? "" : "s", more);
        break;
    case CQ_RULE_ALWAYS:
        settle(c, true, "digest: %lld row%s%s", (long long)n, n == 1 ? "" : "s", more);
        break;
    case CQ_RULE_THRESHOLD:
        rule_threshold(c);
        break;
    case CQ_RULE_SQL_BOOLEAN:
        rule_sql_boolean(c);
        break;
    case CQ_RULE_CHANGE:
        rule_change(c, prev);
        break;
    }
    if (c->ev->value == NULL && r->type != CQ_RULE_THRESHOLD && r->type != CQ_RULE_CHANGE &&
        r->type != CQ_RULE_SQL_BOOLEAN) {
        char num[32];
        snprintf(num, sizeof(num), "%lld", (long long)n);
        set_value(c, cq_arena_strdup(c->arena, num)); /* row rules: the value is the count */
    }
}

/* ---- running ---------------------------------------------------------------------------- */

static void fingerprint(struct cq_alert_eval *ev)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    const char *state = cq_alert_state_name(ev->state);
    ev->fingerprint[0] = '\0';
    if (h == NULL || EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
        goto out;
    }
    /* Fields are NUL-separated so ("ab","c") and ("a","bc") differ. */
    EVP_DigestUpdate(h, state, strlen(state) + 1);
    EVP_DigestUpdate(h, ev->value ? ev->value : "", ev->value ? strlen(ev->value) + 1 : 1);
    EVP_DigestUpdate(h, ev->error ? ev->error : "", ev->error ? strlen(ev->error) + 1 : 1);
    for (size_t i = 0; i < ev->n_rows * ev->n_cols; i++) {
        const char *s = ev->cells[i];
        EVP_DigestUpdate(h, s ? "v" : "n", 1);
        EVP_DigestUpdate(h, s ? s : "", s ? strlen(s) + 1 : 0);
    }
    if (EVP_DigestFinal_ex(h, md, &len) == 1) {
        for (unsigned int i = 0; i < len && i < 32; i++) {
            snprintf(ev->fingerprint + 2 * i, 3, "%02x", md[i]);
        }
    }
out:
    EVP_MD_CTX_free(h);
}

/* Binds the alert's params ("TYPE:VALUE" like `clariq run -p`). */
static int bind_params(const struct cq_alert_conf *a, struct cq_arena *arena,
                       struct cq_param **out, struct cq_err *err)
{
    *out = NULL;
    if (a->n_params == 0) {
        return CQ_OK;
    }
    *out = cq_arena_alloc(arena, a->n_params * sizeof(**out));
    if (*out == NULL) {
        return cq_err_set(err, CQ_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < a->n_params; i++) {
        int rc = cq_drv_param_parse(arena, a->params[i], &(*out)[i], err);
        if (rc != CQ_OK) {
            cq_err_wrap(err, "params[%zu]", i);
            return rc;
        }
    }
    return CQ_OK;
}

int cq_alert_eval_run(const struct cq_alert_conf *a, struct cq_pool *pool,
                      const struct cq_alert_status *prev, struct cq_arena *arena,
                      struct cq_alert_eval *out, struct cq_err *err)
{
    struct collect c = {.alert = a, .arena = arena, .ev = out};
    struct cq_rowsink sink = {&c, on_columns, on_row, on_end};
    struct cq_err qerr = {0};
    struct cq_param *params = NULL;
    const struct cq_conn_conf *cc = cq_drv_pool_conf(pool);
    int64_t t0 = cq_now_us();
    int rc;

    memset(out, 0, sizeof(*out));
    out->alert = a;
    out->run_at_ms = cq_wall_ms();
    rc = bind_params(a, arena, &params, &qerr);
    if (rc == CQ_OK) {
        struct cq_stmt st = {
            .sql = a->sql,
            .params = params,
            .n_params = a->n_params,
            .timeout_ms = a->timeout_ms > 0 ? a->timeout_ms : cc->limits.timeout_ms,
            .max_rows = cc->limits.max_rows,
            .max_bytes = cc->limits.max_bytes,
        };
        rc = cq_drv_pool_exec(pool, &st, &sink, &qerr);
    }
    if (rc == CQ_ENOMEM) {
        return cq_err_set(err, CQ_ENOMEM, "alert %s: out of memory", a->id);
    }
    if (rc != CQ_OK) {
        fail(&c, (enum cq_rc)rc, "%s", qerr.msg);
    } else {
        apply_rule(&c, prev);
    }
    out->duration_ms = (double)(cq_now_us() - t0) / 1000.0;
    if (out->reason == NULL) {
        return cq_err_set(err, CQ_ENOMEM, "alert %s: out of memory", a->id);
    }
    fingerprint(out);
    return CQ_OK;
}

static void put_opt(struct cq_buf *b, const char *key, const char *s)
{
    cq_buf_printf(b, ",\"%s\":", key);
    if (s == NULL) {
        cq_buf_puts(b, "null");
    } else {
        cq_json_put_str(b, s, strlen(s));
    }
}

void cq_alert_eval_json(const struct cq_alert_eval *ev, struct cq_buf *b)
{
    char at[32];
    cq_format_iso(ev->run_at_ms, at, sizeof(at));
    cq_buf_puts(b, "{\"alert\":{\"id\":");
    cq_json_put_str(b, ev->alert->id, strlen(ev->alert->id));
    put_opt(b, "name", ev->alert->name);
    put_opt(b, "connection", ev->alert->connection);
    cq_buf_puts(b, "}");
    put_opt(b, "state", cq_alert_state_name(ev->state));
    put_opt(b, "reason", ev->reason);
    put_opt(b, "value", ev->value);
    put_opt(b, "threshold", ev->alert->rule.value_text);
    cq_buf_printf(b, ",\"rowCount\":%lld,\"truncated\":%s,\"durationMs\":%.3f",
                  (long long)ev->row_count, ev->truncated ? "true" : "false", ev->duration_ms);
    put_opt(b, "runAt", at);
    put_opt(b, "error", ev->error);
    cq_buf_puts(b, ",\"columns\":[");
    for (size_t i = 0; i < ev->n_cols; i++) {
        cq_buf_puts(b, i ? "," : "");
        cq_json_put_str(b, ev->cols[i], strlen(ev->cols[i]));
    }
    cq_buf_puts(b, "],\"rows\":[");
    for (size_t r = 0; r < ev->n_rows; r++) {
        cq_buf_puts(b, r ? ",[" : "[");
        for (size_t i = 0; i < ev->n_cols; i++) {
            const char *s = ev->cells[r * ev->n_cols + i];
            cq_buf_puts(b, i ? "," : "");
            if (s == NULL) {
                cq_buf_puts(b, "null");
            } else {
                cq_json_put_str(b, s, strlen(s));
            }
        }
        cq_buf_puts(b, "]");
    }
    cq_buf_puts(b, "]");
}
