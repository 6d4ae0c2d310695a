/*
 * it_sqlite.c - the SQLite driver end to end (no server needed: temp files and :memory:).
 *
 * Covers type mapping, parameters, several statements, timeouts and cancel, row/byte caps
 * and flat memory while streaming, read-only enforcement and the demo database.
 * Tests may use libc allocation directly (they are not src/).
 */
#ifdef CQ_WITHOUT_SQLITE
int main(void)
{
    return 77; /* built without the SQLite driver: nothing to test */
}
#else

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/json.h"
#include "base/time.h"
#include "cqtest.h"
#include "drv/drv.h"
#include "drv/sqlite.h"


/* ---- a capture sink ------------------------------------------------------------------- */

#define MAX_COLS 16

struct cv {
    enum cq_vkind kind;
    char *p;      /* copy, NUL-terminated; NULL for CQ_V_NULL */
    size_t len;
};

struct cap {
    bool count_only;          /* only count rows and sum column 0 (memory test) */
    size_t n_cols;
    char *names[MAX_COLS];
    char *types[MAX_COLS];
    enum cq_vkind kinds[MAX_COLS];
    struct cv *vals;          /* rows * n_cols */
    size_t n_vals, cap_vals;
    int64_t rows;
    int64_t sum0;             /* count_only: sum of column 0 as integers */
    int64_t bytes;            /* value bytes seen */
    int columns_calls, end_calls;
    struct cq_result_info info;
    char command[32];
    char reason[32];
    atomic_int *started;      /* set to 1 at the first row (cancel test) */
};

static int cap_columns(void *ctx, size_t n, const struct cq_col *cols, struct cq_err *err)
{
    struct cap *k = ctx;
    (void)err;
    assert_true(n <= MAX_COLS);
    k->columns_calls++;
    k->n_cols = n;
    for (size_t i = 0; i < n; i++) {
        k->names[i] = strdup(cols[i].name);
        k->types[i] = strdup(cols[i].type);
        k->kinds[i] = cols[i].kind;
    }
    return CQ_OK;
}

/* Values are not NUL-terminated: parse exactly len bytes. */
static int64_t parse_int(const struct cq_value *v)
{
    char tmp[32];
    assert_true(v->len < sizeof(tmp));
    memcpy(tmp, v->p, v->len);
    tmp[v->len] = '\0';
    return strtoll(tmp, NULL, 10);
}

static int cap_row(void *ctx, size_t n, const struct cq_value *vals, struct cq_err *err)
{
    struct cap *k = ctx;
    (void)err;
    assert_int_equal(n, k->n_cols);
    if (k->started != NULL) {
        atomic_store(k->started, 1);
    }
    k->rows++;
    for (size_t i = 0; i < n; i++) {
        k->bytes += (int64_t)vals[i].len;
    }
    if (k->count_only) {
        k->sum0 += parse_int(&vals[0]);
        return CQ_OK;
    }
    if (k->n_vals + n > k->cap_vals) {
        k->cap_vals = (k->cap_vals + n) * 2;
        k->vals = realloc(k->vals, k->cap_vals * sizeof(*k->vals));
        assert_non_null(k->vals);
    }
    for (size_t i = 0; i < n; i++) {
        struct cv *v = &k->vals[k->n_vals++];
        v->kind = vals[i].kind;
        v->len = vals[i].len;
        v->p = NULL;
        if (vals[i].kind != CQ_V_NULL) {
            v->p = malloc(vals[i].len + 1);
            assert_non_null(v->p);
            memcpy(v->p, vals[i].p, vals[i].len);
            v->p[vals[i].len] = '\0';
        }
    }
    return CQ_OK;
}

static int cap_end(void *ctx, const struct cq_result_info *info, struct cq_err *err)
{
    struct cap *k = ctx;
    (void)err;
    k->end_calls++;
    k->info = *info;
    snprintf(k->command, sizeof(k->command), "%s", info->command ? info->command : "");
    snprintf(k->reason, sizeof(k->reason), "%s",
             info->truncated_reason ? info->truncated_reason : "");
    return CQ_OK;
}

static void cap_reset(struct cap *k)
{
    for (size_t i = 0; i < k->n_cols; i++) {
        free(k->names[i]);
        free(k->types[i]);
    }
    for (size_t i = 0; i < k->n_vals; i++) {
        free(k->vals[i].p);
    }
    free(k->vals);
    memset(k, 0, sizeof(*k));
}

static const struct cv *val(const struct cap *k, size_t row, size_t col)
{
    assert_true(row < (size_t)k->rows && col < k->n_cols);
    return &k->vals[row * k->n_cols + col];
}

static void assert_val(const struct cap *k, size_t row, size_t col, enum cq_vkind kind,
                       const char *text)
{
    const struct cv *v = val(k, row, col);
    assert_int_equal(v->kind, kind);
    if (text == NULL) {
        assert_null(v->p);
    } else {
        assert_non_null(v->p);
        assert_int_equal(v->len, strlen(text));
        assert_string_equal(v->p, text);
    }
}

/* ---- helpers ----------------------------------------------------------------------------- */

static struct cq_conn *open_conn(const char *name, const char *target, bool ro)
{
    struct cq_dsn dsn = {.name = name, .target = target, .read_only = ro};
    struct cq_err err = {0};
    struct cq_conn *c = cq_drv_connect(&cq_drv_sqlite, &dsn, &err);
    if (c == NULL) {
        fail_msg("connect %s: %s", target, err.msg);
    }
    return c;
}

static struct cq_param prm(enum cq_ptype type, const char *text)
{
    struct cq_param p = {.type = type, .explicit_type = true, .text = text,
                         .len = text ? strlen(text) : 0};
    return p;
}

static int run_st(struct cq_conn *c, const struct cq_stmt *st, struct cap *k, struct cq_err *err)
{
    const struct cq_rowsink sink = {
        .ctx = k, .on_columns = cap_columns, .on_row = cap_row, .on_end = cap_end,
    };
    cq_err_clear(err);
    return cq_drv_exec(c, st, &sink, err);
}

static int run(struct cq_conn *c, const char *sql, const struct cq_param *params, size_t n,
               struct cap *k, struct cq_err *err)
{
    struct cq_stmt st = {.sql = sql, .params = params, .n_params = n};
    cap_reset(k);
    return run_st(c, &st, k, err);
}

static int run_multi(struct cq_conn *c, const char *sql, struct cap *k, struct cq_err *err)
{
    struct cq_stmt st = {.sql = sql, .allow_multi = true};
    cap_reset(k);
    return run_st(c, &st, k, err);
}

/* Runs sql expecting success and exactly one row of one column; returns it (static copy). */
static const char *scalar(struct cq_conn *c, const char *sql)
{
    static char out[256];
    struct cap k = {0};
    struct cq_err err = {0};
    if (run(c, sql, NULL, 0, &k, &err) != CQ_OK) {
        fail_msg("%s: %s", sql, err.msg);
    }
    assert_int_equal(k.rows, 1);
    snprintf(out, sizeof(out), "%s", val(&k, 0, 0)->p ? val(&k, 0, 0)->p : "(null)");
    cap_reset(&k);
    return out;
}

static void expect_err(struct cq_conn *c, const char *sql, const struct cq_param *params,
                       size_t n, enum cq_rc rc, const char *msg)
{
    struct cap k = {0};
    struct cq_err err = {0};
    int got = run(c, sql, params, n, &k, &err);
    if (got != (int)rc || (msg != NULL && strcmp(err.msg, msg) != 0)) {
        fail_msg("%s\n  got rc %d: %s\n  want rc %d: %s", sql, got, err.msg, rc,
                 msg ? msg : "(any)");
    }
    assert_int_equal(k.end_calls, 0);
    cap_reset(&k);
}

#define INFINITE_ROWS "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "

/* ---- type mapping ------------------------------------------------------------------------ */

static void test_types_columns(void **state)
{
    (void)state;
    struct cq_conn *c = open_conn("mem", ":memory:", false);
    struct cap k = {0};
    struct cq_err err = {0};
    assert_int_equal(run_multi(c,
        "CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n, j JSON, flag BOOLEAN);"
        "INSERT INTO t VALUES (-9223372036854775808, 0.1, 'Zoë 李雷 😀', x'00ff10', NULL,"
        " '{\"a\":[1,2.5,\"x\"],\"b\":null}', 1);"
        "INSERT INTO t VALUES (9223372036854775807, 1e300, '', x'', 5, 'not json', 0);"
        "INSERT INTO t VALUES (0, -2.5e-7, 'tab\t\"q\"', NULL, 'x', '[1,2]', 2);",
        &k, &err), CQ_OK);
    assert_int_equal(run(c, "SELECT * FROM t ORDER BY rowid", NULL, 0, &k, &err), CQ_OK);
    const char *types[] = {"integer", "real", "text", "blob", "null", "json", "boolean"};
    enum cq_vkind kinds[] = {CQ_V_NUMBER, CQ_V_NUMBER, CQ_V_STRING, CQ_V_STRING,
                             CQ_V_STRING, CQ_V_JSON, CQ_V_BOOL};
    assert_int_equal(k.n_cols, 7);
    assert_int_equal(k.columns_calls, 1);
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(k.types[i], types[i]);
        assert_int_equal(k.kinds[i], kinds[i]);
    }
    assert_string_equal(k.names[0], "i");
    assert_int_equal(k.rows, 3);
    assert_val(&k, 0, 0, CQ_V_NUMBER, "-9223372036854775808");
    assert_val(&k, 0, 1, CQ_V_NUMBER, "0.1");
    assert_val(&k, 0, 2, CQ_V_STRING, "Zoë 李雷 😀");
    assert_val(&k, 0, 3, CQ_V_STRING, "\\x00ff10");
    assert_val(&k, 0, 4, CQ_V_NULL, NULL);
    assert_val(&k, 0, 5, CQ_V_JSON, "{\"a\":[1,2.5,\"x\"],\"b\":null}");
    assert_val(&k, 0, 6, CQ_V_BOOL, "true");
    assert_val(&k, 1, 0, CQ_V_NUMBER, "9223372036854775807");
    assert_val(&k, 1, 1, CQ_V_NUMBER, "1e+300");
    assert_val(&k, 1, 2, CQ_V_STRING, "");
    assert_val(&k, 1, 3, CQ_V_STRING, "\\x");
    assert_val(&k, 1, 4, CQ_V_NUMBER, "5");
    assert_val(&k, 1, 5, CQ_V_STRING, "not json"); /* invalid JSON is not inlined */
    assert_val(&k, 1, 6, CQ_V_BOOL, "false");
    assert_val(&k, 2, 0, CQ_V_NUMBER, "0");
    assert_val(&k, 2, 1, CQ_V_NUMBER, "-2.5e-07");
    assert_val(&k, 2, 2, CQ_V_STRING, "tab\t\"q\"");
    assert_val(&k, 2, 3, CQ_V_NULL, NULL);
    assert_val(&k, 2, 4, CQ_V_STRING, "x");
    assert_val(&k, 2, 5, CQ_V_JSON, "[1,2]");
    assert_val(&k, 2, 6, CQ_V_NUMBER, "2"); /* not 0/1: stays a number */
    assert_int_equal(k.end_calls, 1);
    assert_int_equal(k.info.row_count, 3);
    assert_int_equal(k.info.rows_affected, -1);
    assert_string_equal(k.command, "SELECT");
    cap_reset(&k);
    cq_drv_disconnect(c);
}

static void test_types_reals(void **state)
{
    (void)state;
    struct cq_conn *c = open_conn("mem", ":memory:", false);
    struct cap k = {0};
    struct cq_err err = {0};
    const double want[] = {0.1, 1.0 / 3.0, 2.0 / 3.0, 1e300, 123456789.123456789, 5e-324,
                           -1.5, 100.0, 0.30000000000000004};
    assert_int_equal(run(c, "SELECT 0.1, 1.0/3, 2.0/3, 1e300, 123456789.123456789, 5e-324,"
                            " -1.5, 100.0, 0.1 + 0.2, 1e999, -1e999",
                         NULL, 0, &k, &err), CQ_OK);
    assert_int_equal(k.rows, 1);
    for (size_t i = 0; i < 9; i++) {
        const struct cv *v = val(&k, 0, i);
        assert_int_equal(v->kind, CQ_V_NUMBER);
        assert_true(cq_json_is_number(v->p, v->len));
        assert_true(strtod(v->p, NULL) == want[i]); /* round-trips exactly */
        assert_string_equal(k.types[i], "real");
    }
    assert_val(&k, 0, 0, CQ_V_NUMBER, "0.1"); /* shortest form, not 0.10000000000000001 */
    assert_val(&k, 0, 1, CQ_V_NUMBER, "0.3333333333333333");
    assert_val(&k, 0, 7, CQ_V_NUMBER, "100");
    assert_val(&k, 0, 8, CQ_V_NUMBER, "0.30000000000000004");
    assert_val(&k, 0, 9, CQ_V_STRING, "Infinity");
    assert_val(&k, 0, 10, CQ_V_STRING, "-Infinity");
    assert_int_equal(k.kinds[9], CQ_V_STRING);
    cap_reset(&k);
    cq_drv_disconnect(c);
}

static void test_types_expressions(void **state)
{
    (void)state;
    struct cq_conn *c = open_conn("mem", ":memory:", false);
    struct cap k = {0};
    struct cq_err err = {0};
    const char *types[] = {"integer", "real", "text", "blob", "null", "integer"};
    enum cq_vkind kinds[] = {CQ_V_NUMBER, CQ_V_NUMBER, CQ_V_STRING, CQ_V_STRING, CQ_V_STRING,
                             CQ_V_NUMBER};
    assert_int_equal(run(c, "SELECT 1 AS a, 1.5 AS b, 'x' AS c, x'01' AS d, NULL AS e, 1 + 1",
                         NULL, 0, &k, &err), CQ_OK);
    assert_int_equal(k.n_cols, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(k.types[i], types[i]);
        assert_int_equal(k.kinds[i], kinds[i]);
    }
    assert_string_equal(k.names[0], "a");
    assert_string_equal(k.names[5], "1 + 1");
    assert_val(&k, 0, 3, CQ_V_STRING, "\\x01");
    /* No rows: columns are still reported, once, then on_end. */
    assert_int_equal(run(c, "SELECT 1 AS a WHERE 0", NULL, 0, &k, &err), CQ_OK);
    assert_int_equal(k.columns_calls, 1);
    assert_int_equal(k.n_cols, 1);
    assert_string_equal(k.types[0], "null");
    assert_int_equal(k.rows, 0);
    assert_int_equal(k.end_calls, 1);
    cap_reset(&k);
    cq_drv_disconnect(c);
}

static void test_types_big_text(void **state)
{
    (void)state;
    struct cq_conn *c = open_conn("mem", ":memory:", false);
    struct cap k = {0};
    struct cq_err err = {0};
    const char *unit = "é😀abc\"\\"; /* 2 + 4 + 5 bytes */
    size_t ulen = strlen(unit), n = 10u * 1024 * 1024 / ulen, len = n * ulen;
    char *big = malloc(len + 1);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++) {
        memcpy(big + i * ulen, unit, ulen);
    }
    big[len] = '\0';
    struct cq_param p = prm(CQ_P_TEXT, big);
    assert_int_equal(run(c, "SELECT $1 AS big, length($1) AS chars", &p, 1, &k, &err), CQ_OK);
    const struct cv *v = val(&k, 0, 0);
    assert_int_equal(v->kind, CQ_V_STRING);
    assert_int_equal(v->len, len);
    assert_memory_equal(v->p, big, len);
    assert_int_equal(strtoll(val(&k, 0, 1)->p, NULL, 10), (long long)(n * 7));
    cap_reset(&k);
    free(big);
    cq_drv_disconnect(c);
}

/* ---- parameters -------------------------------------------------------------------------- */

static void test_params_forms(void **state)
{
    (void)state;
    struct cq_conn *c = open_conn("mem", ":memory:", false);
    struct cap k = {0};
    struct cq_err err = {0};
    struct cq_param xy[] = {prm(CQ_P_TEXT, "x"), prm(CQ_P_TEXT, "y")};
    assert_int_equal(run(c, "SELECT $2 AS a, $1 AS b", xy, 2, &k, &err), CQ_OK);
    assert_val(&k, 0, 0, CQ_V_STRING, "y");
    assert_val(&k, 0, 1, CQ_V_STRING, "x");
    assert_int_equal(run(c, "SELECT ?1, ?1, ?2", xy, 2, &k, &err), CQ_OK);
    assert_val(&k, 0, 1, CQ_V_STRING, "x");
    assert_val(&k, 0, 2, CQ_V_STRING, "y");
    assert_int_equal(run(c, "SELECT ?, ?", xy, 2, &k, &err), CQ_OK);
    assert_val(&k, 0, 0, CQ_V_STRING, "x");
    assert_val(&k, 0, 1, CQ_V_STRING, "y");
    cap_reset(&k);
    cq_drv_disconnect(c);
}

static void test_params_types(void **state)
{
    (void)state;
    struct cq_conn *c = open_conn("mem", ":memory:", false);
    struct cap k = {0};
    struct cq_err err = {0};
    struct cq_param p[] = {
        prm(CQ_P_INT, "-9223372036854775808"), prm(CQ_P_FLOAT, "2.5"),
        prm(CQ_P_NUMERIC, "19.99"), prm(CQ_P_NUMERIC, "0.1000000000000000000001"),
        prm(CQ_P_BOOL, "true"), prm(CQ_P_NULL, NULL), prm(CQ_P_TEXT, "007"),
        prm(CQ_P_TIMESTAMP, "2025-03-01T10:15:00Z"), prm(CQ_P_NUMERIC, "1.50"),
    };
    p[0].explicit_type = false; /* inferred values map the same way */
    assert_int_equal(run(c, "SELECT typeof($1), $1, typeof($2), $2, typeof($3), $3, typeof($4),"
                            " $4, typeof($5), $5, typeof($6), typeof($7), $7, $8, typeof($9), $9",
                         p, 9, &k, &err), CQ_OK);
    const char *want[] = {"integer", "-9223372036854775808", "real", "2.5", "real", "19.99",
                          "text", "0.1000000000000000000001", "integer", "1", "null", "text",
                          "007", "2025-03-01T10:15:00Z", "real", "1.5"};
    for (size_t i = 0; i < 16; i++) {
        assert_string_equal(val(&k, 0, i)->p, want[i]);
    }
    struct cq_param bad = prm(CQ_P_INT, "12abc");
    expect_err(c, "SELECT $1", &bad, 1, CQ_EINVAL,
               "parameter $1: '12abc' is not a valid int");
    bad = prm(CQ_P_BOOL, "maybe");
    expect_err(c, "SELECT $1", &bad, 1, CQ_EINVAL,
               "parameter $1: 'maybe' is not a valid bool");
    cap_reset(&k);
    cq_drv_disconnect(c);
}

static void test_params_counts_and_names(void **state)
{
    (void)state;
    struct cq_conn *c = open_conn("mem", ":memory:", false);
    struct cq_param p[] = {prm(CQ_P_INT, "1"), prm(CQ_P_INT, "2"), prm(CQ_P_INT, "3")};
    expect_err(c, "SELECT $1, $2, $3", p, 2, CQ_EINVAL,
               "statement uses $1..$3 but 2 parameters were given");
    expect_err(c, "SELECT 1", p, 1, CQ_EINVAL,
               "statement uses no parameters but 1 was given");
    expect_err(c, "SELECT 1", p, 2, CQ_EINVAL,
               "statement uses no parameters but 2 parameters were given");
    expect_err(c, "SELECT $1", p, 0, CQ_EINVAL,
               "statement uses $1 but no parameters were given");
    expect_err(c, "SELECT ?, ?", p, 3, CQ_EINVAL,
               "statement uses $1..$2 but 3 parameters were given");
    expect_err(c, "SELECT :x", p, 1, CQ_EINVAL,
               "named parameters (':x') are not supported; use $1..$n");
    expect_err(c, "SELECT @who, $1", p, 1, CQ_EINVAL,
               "named parameters ('@who') are not supported; use $1..$n");
    expect_err(c, "SELECT $name", p, 1, CQ_EINVAL,
               "named parameters ('$name') are not supported; use $1..$n");
    /* Only the highest index counts: $3 alone takes three parameters. */
    assert_string_equal(scalar(c, "SELECT 7"), "7");
    struct cap k = {0};
    struct cq_err err = {0};
    assert_int_equal(run(c, "SELECT $3", p, 3, &k, &err), CQ_OK);
    assert_val(&k, 0, 0, CQ_V_NUMBER, "3");
    cap_reset(&k);
    cq_drv_disconnect(c);
}

static void test_params_injection(void **state)
{
    (void)state;
    struct cq_conn *c = open_conn("mem", ":memory:", false);
    struct cap k = {0};
    struct cq_err err = {0};
    const char *evil = "x'); DROP TABLE t; --";
    struct cq_param p = prm(CQ_P_TEXT, evil);
    assert_int_equal(run(c, "CREATE TABLE t (x TEXT)", NULL, 0, &k, &err), CQ_OK);
    assert_int_equal(run(c, "INSERT INTO t VALUES ($1)", &p, 1, &k, &err), CQ_OK);
    assert_int_equal(k.info.rows_affected, 1);
    assert_int_equal(run(c, "SELECT x FROM t", NULL, 0, &k, &err), CQ_OK);
    assert_int_equal(k.rows, 1);
    assert_val(&k, 0, 0, CQ_V_STRING, evil);
    p = prm(CQ_P_TEXT, "' OR '1'='1");
    assert_int_equal(run(c, "SELECT count(*) FROM t WHERE x = $1", &p, 1, &k, &err), CQ_OK);
    assert_val(&k, 0, 0, CQ_V_NUMBER, "0");
    cap_reset(&k);
    cq_drv_disconnect(c);
}

/* ---- statements ---------------------------------------------------------------------------- */

static void test_multi_statements(void **state)
{
    (void)state;
    struct cq_conn *c = open_conn("mem", ":memory:", false);
    struct cap k = {0};
    struct cq_err err = {0};
    expect_err(c, "SELECT 1; SELECT 2", NULL, 0, CQ_EINVAL,
               "the SQL holds several statements; run one at a time or pass --allow-multi");
    expect_err(c, "", NULL, 0, CQ_EINVAL, "the SQL holds no statement");
    expect_err(c, " -- just a comment\n ;", NULL, 0, CQ_EINVAL, NULL);
    assert_string_equal(scalar(c, "SELECT 1; -- done\n"), "1");
    assert_string_equal(scalar(c, "SELECT 2;; /* trailing */ ;"), "2");
    assert_int_equal(run_multi(c, "SELECT 1; SELECT 2 AS two", &k, &err), CQ_OK);
    assert_int_equal(k.columns_calls, 1);
    assert_int_equal(k.end_calls, 1);
    assert_string_equal(k.names[0], "two");
    assert_int_equal(k.rows, 1);
    assert_val(&k, 0, 0, CQ_V_NUMBER, "2");
    /* A trigger body holds semicolons and stays one statement, with or without multi. */
    assert_int_equal(run(c, "CREATE TABLE a (x INTEGER)", NULL, 0, &k, &err), CQ_OK);
    assert_int_equal(run(c, "CREATE TABLE log (msg TEXT);", NULL, 0, &k, &err), CQ_OK);
    assert_int_equal(run(c, "CREATE TRIGGER a_ins AFTER INSERT ON a BEGIN"
                            " INSERT INTO log VALUES ('got ' || new.x);"
                            " INSERT INTO log VALUES ('twice'); END",
                         NULL, 0, &k, &err), CQ_OK);
    assert_int_equal(run_multi(c, "CREATE TABLE b (y); CREATE TRIGGER b_ins AFTER INSERT ON b"
                                  " BEGIN INSERT INTO a VALUES (new.y); UPDATE a SET x = x * 10"
                                  " WHERE x = new.y; END; INSERT INTO b VALUES (5);"
                                  " SELECT msg FROM log ORDER BY rowid",
                               &k, &err), CQ_OK);
    assert_int_equal(k.rows, 2);
    assert_val(&k, 0, 0, CQ_V_STRING, "got 5");
    assert_val(&k, 1, 0, CQ_V_STRING, "twice");
    assert_string_equal(scalar(c, "SELECT x FROM a"), "50");
    /* Parameters reach every statement of a multi-statement text. */
    struct cq_param p = prm(CQ_P_INT, "42");
    struct cq_stmt st = {.sql = "CREATE TABLE p (x); INSERT INTO p VALUES ($1); SELECT x FROM p",
                         .params = &p, .n_params = 1, .allow_multi = true};
    cap_reset(&k);
    assert_int_equal(run_st(c, &st, &k, &err), CQ_OK);
    assert_val(&k, 0, 0, CQ_V_NUMBER, "42");
    cap_reset(&k);
    cq_drv_disconnect(c);
}

static void test_no_row_statements(void **state)
{
    (void)state;
    struct cq_conn *c = open_conn("mem", ":memory:", false);
    struct cap k = {0};
    struct cq_err err = {0};
    assert_int_equal(run(c, "CREATE TABLE a (x INTEGER UNIQUE)", NULL, 0, &k, &err), CQ_OK);
    assert_int_equal(k.columns_calls, 1);
    assert_int_equal(k.n_cols, 0);
    assert_int_equal(k.info.rows_affected, -1);
    assert_string_equal(k.command, "CREATE");
    assert_int_equal(run(c, "INSERT INTO a VALUES (1), (2), (3)", NULL, 0, &k, &err), CQ_OK);
    assert_int_equal(k.info.rows_affected, 3);
    assert_string_equal(k.command, "INSERT");
    assert_int_equal(run(c, "update a SET x = x + 10 WHERE x > 1", NULL, 0, &k, &err), CQ_OK);
    assert_int_equal(k.info.rows_affected, 2);
    assert_string_equal(k.command, "UPDATE");
    assert_int_equal(run(c, "DELETE FROM a", NULL, 0, &k, &err), CQ_OK);
    assert_int_equal(k.info.rows_affected, 3);
    assert_int_equal(k.end_calls, 1);
    cap_reset(&k);
    cq_drv_disconnect(c);
}

static void test_sql_errors(void **state)
{
    (void)state;
    struct cq_conn *c = open_conn("mem", ":memory:", false);
    struct cap k = {0};
    struct cq_err err = {0};
    assert_int_equal(run(c, "SELEKT 1", NULL, 0, &k, &err), CQ_EBACKEND);
    assert_string_equal(err.backend_code, "1");
    assert_string_equal(
        err.msg, "connection 'mem': near \"SELEKT\": syntax error (SQLITE_ERROR at offset 0)");
    /* The offset counts from the start of the whole text, not of the failing statement. */
    assert_int_equal(run_multi(c, "SELECT 1; SELECT 2 FRM x", &k, &err), CQ_EBACKEND);
    assert_string_equal(err.msg,
                        "connection 'mem': near \"x\": syntax error (SQLITE_ERROR at offset 23)");
    assert_int_equal(run(c, "SELECT * FROM nope", NULL, 0, &k, &err), CQ_EBACKEND);
    assert_string_equal(err.msg, "connection 'mem': no such table: nope (SQLITE_ERROR)");
    assert_int_equal(run(c, "CREATE TABLE u (x UNIQUE)", NULL, 0, &k, &err), CQ_OK);
    assert_int_equal(run_multi(c, "INSERT INTO u VALUES (1); INSERT INTO u VALUES (1)", &k,
                               &err), CQ_EBACKEND);
    assert_string_equal(err.backend_code, "2067");
    assert_non_null(strstr(err.msg, "UNIQUE constraint failed: u.x (SQLITE_CONSTRAINT_UNIQUE)"));
    assert_false(err.retryable);
    assert_int_equal(k.end_calls, 0);
    cap_reset(&k);
    cq_drv_disconnect(c);
}

/* ---- timeouts, cancel, caps, memory -------------------------------------------------------- */

static void test_timeout(void **state)
{
    (void)state;
    struct cq_conn *c = open_conn("mem", ":memory:", false);
    struct cap k = {0};
    struct cq_err err = {0};
    const char *want = "connection 'mem': statement timed out after 300 ms (raise limits.timeout "
                       "or pass a larger --timeout, up to the connection's limit)";
    struct cq_stmt st = {.sql = INFINITE_ROWS "SELECT count(*) FROM c", .timeout_ms = 300};
    int64_t t0 = cq_now_ms();
    assert_int_equal(run_st(c, &st, &k, &err), CQ_ETIMEOUT);
    int64_t took = cq_now_ms() - t0;
    assert_true(took >= 290 && took < 3000);
    assert_string_equal(err.msg, want);
    assert_int_equal(k.end_calls, 0);
    assert_string_equal(scalar(c, "SELECT 42"), "42"); /* the connection is usable */
    /* Rows flowing to the sink: the deadline is checked between rows too. */
    st.sql = INFINITE_ROWS "SELECT x FROM c";
    cap_reset(&k);
    k.count_only = true;
    t0 = cq_now_ms();
    assert_int_equal(run_st(c, &st, &k, &err), CQ_ETIMEOUT);
    assert_true(cq_now_ms() - t0 < 3000);
    assert_true(k.rows > 0);
    assert_string_equal(err.msg, want);
    assert_string_equal(scalar(c, "SELECT 43"), "43");
    cap_reset(&k);
    cq_drv_disconnect(c);
}

struct canceller {
    struct cq_conn *c;
    atomic_int *started;
    int delay_ms;
};

static void *cancel_main(void *arg)
{
    struct canceller *cl = arg;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = cl->delay_ms * 1000000L};
    while (atomic_load(cl->started) == 0) {
        struct timespec tick = {.tv_sec = 0, .tv_nsec = 1000000L};
        nanosleep(&tick, NULL);
    }
    nanosleep(&ts, NULL);
    cq_drv_cancel(cl->c, NULL);
    return NULL;
}

static void cancel_case(struct cq_conn *c, const char *sql, bool start_at_first_row)
{
    struct cap k = {0};
    struct cq_err err = {0};
    atomic_int started = 0;
    struct canceller cl = {.c = c, .started = &started, .delay_ms = 200};
    /* The timeout is only a safety net: cancel must end the statement long before it. */
    struct cq_stmt st = {.sql = sql, .timeout_ms = 30000};
    pthread_t th;
    k.count_only = true;
    k.started = start_at_first_row ? &started : NULL;
    assert_int_equal(pthread_create(&th, NULL, cancel_main, &cl), 0);
    if (!start_at_first_row) {
        atomic_store(&started, 1);
    }
    int64_t t0 = cq_now_ms();
    int rc = run_st(c, &st, &k, &err);
    int64_t took = cq_now_ms() - t0;
    pthread_join(th, NULL);
    assert_int_equal(rc, CQ_ECANCELED);
    assert_string_equal(err.msg, "connection 'mem': statement canceled");
    assert_true(took >= 150 && took < 5000);
    assert_string_equal(scalar(c, "SELECT 'after'"), "after");
    cap_reset(&k);
}

static void test_cancel(void **state)
{
    (void)state;
    struct cq_conn *c = open_conn("mem", ":memory:", false);
    cancel_case(c, INFINITE_ROWS "SELECT count(*) FROM c", false); /* inside one step */
    cancel_case(c, INFINITE_ROWS "SELECT x FROM c", true);         /* while rows stream */
    cq_drv_disconnect(c);
}

static void test_caps(void **state)
{
    (void)state;
    struct cq_conn *c = open_conn("mem", ":memory:", false);
    struct cap k = {0};
    struct cq_err err = {0};
    /* Endless rows: only stopping at the cap can end this before the safety timeout. */
    struct cq_stmt st = {.sql = INFINITE_ROWS "SELECT x FROM c", .max_rows = 1000,
                         .timeout_ms = 30000};
    int64_t t0 = cq_now_ms();
    assert_int_equal(run_st(c, &st, &k, &err), CQ_OK);
    assert_true(cq_now_ms() - t0 < 5000);
    assert_int_equal(k.rows, 1000);
    assert_int_equal(k.info.row_count, 1000);
    assert_true(k.info.truncated);
    assert_string_equal(k.reason, "max_rows");
    assert_val(&k, 999, 0, CQ_V_NUMBER, "1000");
    struct cq_stmt sb = {.sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
                                " WHERE x < 1000000) SELECT x, 'abcdefghij' AS pad FROM c",
                         .max_bytes = 100000};
    cap_reset(&k);
    k.count_only = true;
    assert_int_equal(run_st(c, &sb, &k, &err), CQ_OK);
    assert_true(k.info.truncated);
    assert_string_equal(k.reason, "max_bytes");
    assert_true(k.bytes <= 100000 && k.bytes > 90000);
    assert_true(k.rows > 0 && k.rows < 1000000);
    assert_int_equal(k.info.row_count, k.rows);
    cap_reset(&k);
    cq_drv_disconnect(c);
}

static void test_stream_memory(void **state)
{
    (void)state;
    struct cq_conn *c = open_conn("mem", ":memory:", false);
    struct cap k = {.count_only = true};
    struct cq_err err = {0};
    const int64_t n = 2000000;
    struct cq_stmt st = {.sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
                                " WHERE x < 2000000)"
                                " SELECT x, printf('row-%d', x), x * 0.5 FROM c"};
    /* Earlier tests (10 MB values) raised the high-water mark: start it from the current
     * RSS (Linux >= 4.0), so the growth measured is this stream's own. */
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f != NULL) {
        fputs("5", f);
        fclose(f);
    }
    long before = cq_test_peak_rss_kib();
    assert_int_equal(run_st(c, &st, &k, &err), CQ_OK);
    long after = cq_test_peak_rss_kib();
    assert_int_equal(k.rows, n);
    assert_int_equal(k.sum0, n * (n + 1) / 2);
    assert_false(k.info.truncated);
    print_message("streamed %lld rows; peak RSS %ld -> %ld KiB\n", (long long)n, before, after);
    assert_true(before > 0 && after - before < 40 * 1024);
    cap_reset(&k);
    cq_drv_disconnect(c);
}

/* ---- read-only ---------------------------------------------------------------------------- */

static void expect_ro(struct cq_conn *c, const char *sql, bool multi, const char *what)
{
    struct cap k = {0};
    struct cq_err err = {0};
    char want[256];
    struct cq_stmt st = {.sql = sql, .allow_multi = multi};
    snprintf(want, sizeof(want),
             "connection 'ro' is read-only: %s is not allowed (use a connection with read_only: "
             "false for writes)", what);
    int rc = run_st(c, &st, &k, &err);
    if (rc != CQ_EREADONLY || strcmp(err.msg, want) != 0) {
        fail_msg("%s\n  got %d: %s\n  want: %s", sql, rc, err.msg, want);
    }
    cap_reset(&k);
}

static void test_read_only(void **state)
{
    (void)state;
    char *dir = cq_test_tmpdir("it_sqlite_ro");
    char path[1024], url[1100], attach[1200];
    struct cap k = {0};
    struct cq_err err = {0};
    snprintf(path, sizeof(path), "%s/ro.db", dir);
    snprintf(url, sizeof(url), "sqlite://%s", path); /* sqlite:///abs/path */
    snprintf(attach, sizeof(attach), "ATTACH DATABASE '%s/other.db' AS other", dir);
    struct cq_conn *rw = open_conn("rw", path, false);
    assert_int_equal(run_multi(rw, "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)", &k,
                               &err), CQ_OK);
    cq_drv_disconnect(rw);

    struct cq_conn *ro = open_conn("ro", url, true);
    expect_ro(ro, "INSERT INTO t VALUES (2)", false, "INSERT");
    expect_ro(ro, "  update t SET x = 3", false, "UPDATE");
    expect_ro(ro, "DELETE FROM t", false, "DELETE");
    expect_ro(ro, "CREATE TABLE u (x)", false, "CREATE TABLE");
    expect_ro(ro, "CREATE TEMP TABLE u (x)", false, "CREATE TEMP TABLE");
    expect_ro(ro, "DROP TABLE t", false, "DROP TABLE");
    expect_ro(ro, attach, false, "ATTACH");
    expect_ro(ro, "PRAGMA query_only=0", false, "PRAGMA QUERY_ONLY");
    expect_ro(ro, "PRAGMA query_only = 0; INSERT INTO t VALUES (9)", true, "PRAGMA QUERY_ONLY");
    expect_ro(ro, "VACUUM", false, "VACUUM");
    expect_err(ro, "UPDATE sqlite_master SET sql = 'x'", NULL, 0, CQ_EBACKEND,
               "connection 'ro': table sqlite_master may not be modified (SQLITE_ERROR)");
    expect_ro(ro, "PRAGMA writable_schema = 1", false, "PRAGMA WRITABLE_SCHEMA");
    assert_string_equal(scalar(ro, "PRAGMA query_only"), "1");
    assert_string_equal(scalar(ro, "SELECT count(*) FROM t"), "1");
    assert_string_equal(scalar(ro, "SELECT name FROM pragma_table_info('t')"), "x");
    assert_int_equal(run(ro, "PRAGMA table_info(t)", NULL, 0, &k, &err), CQ_OK);
    assert_int_equal(k.rows, 1);
    cap_reset(&k);
    cq_drv_disconnect(ro);

    rw = open_conn("rw", path, false);
    assert_string_equal(scalar(rw, "SELECT group_concat(x) FROM t"), "1"); /* nothing changed */
    cq_drv_disconnect(rw);
    ro = open_conn("ro", ":memory:", true);
    expect_ro(ro, "CREATE TABLE m (x)", false, "CREATE TABLE");
    cq_drv_disconnect(ro);
    snprintf(attach, sizeof(attach), "%s/other.db", dir);
    assert_int_equal(access(attach, F_OK), -1);
    free(dir);
}

static void test_read_only_missing_file(void **state)
{
    (void)state;
    char *dir = cq_test_tmpdir("it_sqlite_missing");
    char path[1024], want[1400];
    struct cq_err err = {0};
    snprintf(path, sizeof(path), "%s/missing.db", dir);
    struct cq_dsn dsn = {.name = "ro", .target = path, .read_only = true};
    assert_null(cq_drv_connect(&cq_drv_sqlite, &dsn, &err));
    assert_int_equal(err.rc, CQ_ECONNECT);
    snprintf(want, sizeof(want),
             "connection 'ro' (%s): cannot open database: unable to open database file (check "
             "the path; read-only connections do not create files)", path);
    assert_string_equal(err.msg, want);
    assert_int_equal(access(path, F_OK), -1); /* and nothing was created */
    /* A file that is not a database fails at connect, not at the first query. */
    snprintf(path, sizeof(path), "%s/junk.db", dir);
    assert_true(cq_test_write_file(path, "this is not a database file, just some text ......."
                                         "..........................................\n"));
    cq_err_clear(&err);
    assert_null(cq_drv_connect(&cq_drv_sqlite, &dsn, &err));
    assert_int_equal(err.rc, CQ_ECONNECT);
    assert_non_null(strstr(err.msg, "file is not a database"));
    free(dir);
}

/* ---- the demo database ---------------------------------------------------------------------- */

static bool same_file(const char *a, const char *b)
{
    char cmd[2200];
    snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", a, b);
    return cq_test_run(cmd, NULL, NULL, NULL) == 0;
}

static void check_sample_content(struct cq_conn *ro)
{
    struct cap k = {0};
    struct cq_err err = {0};
    assert_string_equal(scalar(ro, "SELECT count(*) FROM customers"), "50");
    assert_string_equal(scalar(ro, "SELECT count(*) FROM products"), "30");
    assert_string_equal(scalar(ro, "SELECT count(*) FROM orders"), "500");
    assert_string_equal(scalar(ro, "SELECT count(*) FROM order_items"), "1500");
    assert_string_equal(scalar(ro, "SELECT count(*) FROM events"), "200");
    assert_string_not_equal(scalar(ro, "SELECT count(*) FROM customers WHERE email IS NULL"), "0");
    assert_string_not_equal(scalar(ro, "SELECT count(*) FROM events WHERE payload IS NULL"), "0");
    assert_string_equal(scalar(ro, "SELECT count(*) FROM orders o WHERE total IS NOT NULL AND"
                                   " abs(total - (SELECT sum(quantity * unit_price) FROM"
                                   " order_items i WHERE i.order_id = o.id)) > 0.001"), "0");
    assert_int_equal(run(ro, "SELECT name FROM customers WHERE id IN (3, 7, 11) ORDER BY id",
                         NULL, 0, &k, &err), CQ_OK);
    assert_val(&k, 0, 0, CQ_V_STRING, "Zoë Martin");
    assert_val(&k, 1, 0, CQ_V_STRING, "李雷");
    assert_val(&k, 2, 0, CQ_V_STRING, "José Álvarez");
    assert_int_equal(run(ro, "SELECT created_at, payload FROM customers, events"
                             " WHERE payload IS NOT NULL LIMIT 1", NULL, 0, &k, &err), CQ_OK);
    assert_string_equal(k.types[0], "timestamp");
    assert_int_equal(val(&k, 0, 0)->len, strlen("2025-03-01T10:15:00Z"));
    assert_int_equal(k.kinds[1], CQ_V_JSON);
    assert_int_equal(run(ro, "SELECT in_stock, price FROM products", NULL, 0, &k, &err), CQ_OK);
    assert_int_equal(k.kinds[0], CQ_V_BOOL);
    assert_int_equal(k.kinds[1], CQ_V_NUMBER);
    assert_int_equal(run(ro, "SELECT * FROM revenue_by_country", NULL, 0, &k, &err), CQ_OK);
    assert_true(k.rows > 3);
    assert_string_equal(k.names[0], "country");
    assert_string_equal(k.names[2], "revenue");
    assert_int_equal(val(&k, 0, 2)->kind, CQ_V_NUMBER);
    cap_reset(&k);
}

static void test_sample_database(void **state)
{
    (void)state;
    char *dir = cq_test_tmpdir("it_sqlite_sample");
    char path[1024], path2[1024], url[1100];
    struct cq_err err = {0};
    struct stat s1, s2;
    snprintf(path, sizeof(path), "%s/a/b/demo.db", dir);
    assert_int_equal(cq_drv_sqlite_make_sample(path, &err), CQ_OK);
    assert_int_equal(stat(path, &s1), 0);
    snprintf(path2, sizeof(path2), "%s/a/b", dir);
    DIR *d = opendir(path2);
    assert_non_null(d);
    int entries = 0;
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        entries += e->d_name[0] != '.';
    }
    closedir(d);
    assert_int_equal(entries, 1); /* no temp or journal file left behind */
    assert_int_equal(cq_drv_sqlite_make_sample(path, &err), CQ_OK); /* second call: no-op */
    assert_int_equal(stat(path, &s2), 0);
    assert_int_equal(s1.st_ino, s2.st_ino);
    assert_int_equal(s1.st_mtime, s2.st_mtime);

    snprintf(url, sizeof(url), "sqlite:%s", path);
    struct cq_conn *ro = open_conn("demo", url, true);
    check_sample_content(ro);
    cq_drv_disconnect(ro);

    snprintf(path2, sizeof(path2), "%s/again.db", dir); /* deterministic content */
    assert_int_equal(cq_drv_sqlite_make_sample(path2, &err), CQ_OK);
    assert_true(same_file(path, path2));
    snprintf(path2, sizeof(path2), "%s/mine.db", dir); /* an existing file is never replaced */
    assert_true(cq_test_write_file(path2, "hello"));
    assert_int_equal(cq_drv_sqlite_make_sample(path2, &err), CQ_OK);
    assert_int_equal(stat(path2, &s2), 0);
    assert_int_equal(s2.st_size, 5);
    free(dir);
}

static void test_driver_basics(void **state)
{
    (void)state;
    char version[64];
    struct cq_err err = {0};
    assert_ptr_equal(cq_drv_find("sqlite"), &cq_drv_sqlite);
    assert_int_equal(cq_drv_sqlite.dialect, CQ_DIALECT_SQLITE);
    assert_true(cq_drv_sqlite.caps & CQ_CAP_CANCEL);
    struct cq_conn *c = open_conn("mem", "sqlite::memory:", false);
    assert_int_equal(cq_drv_ping(c, &err), CQ_OK);
    assert_int_equal(c->drv->ops->server_version(c, version, sizeof(version), &err), CQ_OK);
    assert_true(strncmp(version, "SQLite 3.", 9) == 0);
    cq_drv_disconnect(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driver_basics),
        cmocka_unit_test(test_types_columns),
        cmocka_unit_test(test_types_reals),
        cmocka_unit_test(test_types_expressions),
        cmocka_unit_test(test_types_big_text),
        cmocka_unit_test(test_params_forms),
        cmocka_unit_test(test_params_types),
        cmocka_unit_test(test_params_counts_and_names),
        cmocka_unit_test(test_params_injection),
        cmocka_unit_test(test_multi_statements),
        cmocka_unit_test(test_no_row_statements),
        cmocka_unit_test(test_sql_errors),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_stream_memory),
        cmocka_unit_test(test_read_only),
        cmocka_unit_test(test_read_only_missing_file),
        cmocka_unit_test(test_sample_database),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif /* CQ_WITHOUT_SQLITE */
