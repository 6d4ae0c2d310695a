/*
 * it_alert_rules.c - every alert rule evaluated on real queries, against PostgreSQL and
 * SQLite: the state, the reason and the value; the error state on bad SQL, on a timeout
 * and on results a rule cannot read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert/eval.h"
#include "base/str.h"
#include "cqtest.h"
#include "drv/drv.h"
#include "drv/pool.h"

struct backend {
    const char *label;
    struct cq_conn_conf cc;
    struct cq_pool *pool;
    const char *sleep_sql;    /* a query that runs for seconds */
};

struct fixture {
    struct backend be[2];
    char *tmpdir;
    char *pg_url;
    char schema[64];
};

static struct cq_conn_conf conn(const char *name, const char *driver, char *url, char *path,
                                bool ro)
{
    return (struct cq_conn_conf){
        .name = (char *)(uintptr_t)name,
        .driver = (char *)(uintptr_t)driver,
        .url = url,
        .path = path,
        .pool = {.min = 0, .max = 2, .idle_timeout_ms = 300000},
        .limits = {.timeout_ms = 30000, .max_rows = 100000, .queue_timeout_ms = 5000},
        .read_only = ro,
    };
}

static void exec_ok(struct cq_pool *p, const char *sql)
{
    struct cq_err err = {0};
    struct cq_stmt st = {.sql = sql, .allow_multi = true};
    int rc = cq_drv_pool_exec(p, &st, &cq_drv_discard_sink, &err);
    if (rc != CQ_OK) {
        fail_msg("%s: %s", sql, err.msg);
    }
}

static const char *const setup_sql[] = {
    "CREATE TABLE m (name TEXT, v NUMERIC)",
    "INSERT INTO m VALUES ('a', 5), ('b', 12), ('c', NULL), ('d', 7.5)",
    NULL,
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct cq_err err = {0};
    char path[600];
    f->tmpdir = cq_test_tmpdir("alert_rules");
    snprintf(path, sizeof(path), "%s/rules.db", f->tmpdir);

    /* SQLite: write the data through a writable connection, evaluate read-only. */
    struct cq_conn_conf w = conn("w", "sqlite", NULL, path, false);
    struct cq_pool *wp = cq_drv_pool_new(&w, &err);
    assert_non_null(wp);
    exec_ok(wp, "DROP TABLE IF EXISTS m");
    for (int i = 0; setup_sql[i]; i++) {
        exec_ok(wp, setup_sql[i]);
    }
    cq_drv_pool_free(wp);
    f->be[0].label = "sqlite";
    f->be[0].cc = conn("lite", "sqlite", NULL, strdup(path), true);
    f->be[0].sleep_sql = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r "
                         "WHERE i < 1000000000) SELECT count(*) FROM r";

    /* PostgreSQL: a schema of our own, selected through the URL options. */
    const char *dsn = cq_test_require("CQ_IT_PG_DSN");
    snprintf(f->schema, sizeof(f->schema), "it_rules_%ld", (long)getpid());
    struct cq_conn_conf pw = conn("pw", "postgres", (char *)(uintptr_t)dsn, NULL, false);
    wp = cq_drv_pool_new(&pw, &err);
    assert_non_null(wp);
    char sql[200];
    snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", f->schema);
    exec_ok(wp, sql);
    snprintf(sql, sizeof(sql), "SET search_path = %s", f->schema);
    for (int i = 0; setup_sql[i]; i++) {
        char both[400];
        snprintf(both, sizeof(both), "%s; %s", sql, setup_sql[i]);
        exec_ok(wp, both);
    }
    cq_drv_pool_free(wp);
    size_t n = strlen(dsn) + 200;
    f->pg_url = malloc(n);
    snprintf(f->pg_url, n, "%s%soptions=-csearch_path%%3D%s", dsn, strchr(dsn, '?') ? "&" : "?",
             f->schema);
    f->be[1].label = "postgres";
    f->be[1].cc = conn("pg", "postgres", f->pg_url, NULL, true);
    f->be[1].sleep_sql = "SELECT pg_sleep(5)";

    for (int i = 0; i < 2; i++) {
        f->be[i].pool = cq_drv_pool_new(&f->be[i].cc, &err);
        if (f->be[i].pool == NULL) {
            fail_msg("%s: %s", f->be[i].label, err.msg);
        }
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 2; i++) {
        cq_drv_pool_free(f->be[i].pool);
    }
    free(f->be[0].cc.path);
    free(f->pg_url);
    free(f->tmpdir);
    free(f);
    return 0;
}

/* Evaluates sql under rule on one backend. */
static void run(struct backend *b, const char *sql, struct cq_rule_conf rule,
                const struct cq_alert_status *prev, struct cq_arena *a, struct cq_alert_eval *ev)
{
    static struct cq_alert_conf alert;
    struct cq_err err = {0};
    alert = (struct cq_alert_conf){.id = "t", .name = "t", .connection = b->cc.name,
                                   .sql = (char *)(uintptr_t)sql, .rule = rule, .enabled = true};
    assert_int_equal(cq_alert_eval_run(&alert, b->pool, prev, a, ev, &err), CQ_OK);
    if (ev->state == CQ_ALERT_ERROR) {
        print_message("[%s] %s -> error: %s\n", b->label, sql, ev->error);
    }
}

#define EXPECT(b, st, why)                                                                        \
    do {                                                                                          \
        if (ev.state != (st) || strcmp(ev.reason, (why)) != 0) {                                  \
            fail_msg("[%s] state %s reason '%s', expected %s '%s'", (b)->label,                    \
                     cq_alert_state_name(ev.state), ev.reason, cq_alert_state_name(st), (why));    \
        }                                                                                         \
    } while (0)

static struct cq_rule_conf thr(const char *col, enum cq_cmp_op op, double v, const char *txt,
                               enum cq_rule_row row)
{
    return (struct cq_rule_conf){.type = CQ_RULE_THRESHOLD, .column = (char *)(uintptr_t)col,
                                 .op = op, .value = v, .value_text = (char *)(uintptr_t)txt,
                                 .row = row};
}

static void row_rules(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 2; i++) {
        struct backend *b = &f->be[i];
        struct cq_arena a;
        struct cq_alert_eval ev;
        cq_arena_init(&a, 4096, 1 << 24);
        run(b, "SELECT name FROM m WHERE v > 10", (struct cq_rule_conf){.type = CQ_RULE_ANY_ROWS},
            NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_TRIGGERED, "1 row");
        assert_string_equal(ev.value, "1");
        assert_int_equal(ev.n_rows, 1);
        assert_string_equal(ev.cells[0], "b");
        run(b, "SELECT name FROM m WHERE v > 100", (struct cq_rule_conf){.type = CQ_RULE_ANY_ROWS},
            NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_OK, "0 rows");
        run(b, "SELECT name FROM m WHERE v > 100", (struct cq_rule_conf){.type = CQ_RULE_NO_ROWS},
            NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_TRIGGERED, "0 rows");
        run(b, "SELECT name, v FROM m ORDER BY name", (struct cq_rule_conf){.type = CQ_RULE_ALWAYS},
            NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_TRIGGERED, "digest: 4 rows");
        assert_int_equal(ev.n_rows, 4);
        assert_int_equal(ev.n_cols, 2);
        assert_null(ev.cells[2 * 2 + 1]); /* c's NULL survives */
        cq_arena_free(&a);
    }
}

static void threshold_rules(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 2; i++) {
        struct backend *b = &f->be[i];
        struct cq_arena a;
        struct cq_alert_eval ev;
        const char *vals = "SELECT name, v FROM m ORDER BY name";
        cq_arena_init(&a, 4096, 1 << 24);
        run(b, "SELECT max(v) AS top FROM m", thr(NULL, CQ_OP_GT, 10, "10", CQ_ROW_FIRST), NULL,
            &a, &ev);
        EXPECT(b, CQ_ALERT_TRIGGERED, "top = 12 > 10");
        assert_string_equal(ev.value, "12");
        run(b, "SELECT min(v) AS low FROM m", thr("low", CQ_OP_GT, 10, "10", CQ_ROW_FIRST), NULL,
            &a, &ev);
        EXPECT(b, CQ_ALERT_OK, "low = 5, not > 10");
        run(b, vals, thr("v", CQ_OP_GE, 12, "12", CQ_ROW_ANY), NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_TRIGGERED, "1 of 4 rows have v >= 12");
        assert_string_equal(ev.value, "12");
        run(b, vals, thr("v", CQ_OP_GT, 1, "1", CQ_ROW_ALL), NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_OK, "3 of 4 rows have v > 1"); /* the NULL row never matches */
        run(b, "SELECT v FROM m WHERE v IS NOT NULL", thr("v", CQ_OP_GT, 1, "1", CQ_ROW_ALL), NULL,
            &a, &ev);
        EXPECT(b, CQ_ALERT_TRIGGERED, "3 of 3 rows have v > 1");
        run(b, vals, thr("v", CQ_OP_LT, 6, "6", CQ_ROW_MIN), NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_TRIGGERED, "min(v) = 5 < 6");
        run(b, vals, thr("v", CQ_OP_GE, 12.5, "12.5", CQ_ROW_MAX), NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_OK, "max(v) = 12, not >= 12.5");
        run(b, vals, thr("v", CQ_OP_EQ, 24.5, "24.5", CQ_ROW_SUM), NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_TRIGGERED, "sum(v) = 24.5 == 24.5");
        run(b, vals, thr("v", CQ_OP_NE, 3, "3", CQ_ROW_COUNT), NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_OK, "count(v) = 3, not != 3");
        run(b, vals, thr("name", CQ_OP_EQ, 0, "a", CQ_ROW_FIRST), NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_TRIGGERED, "name = a == a");
        run(b, vals, thr("name", CQ_OP_GT, 3, "3", CQ_ROW_FIRST), NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_ERROR, "threshold on name: value 'a' is not a number (op > needs one)");
        run(b, vals, thr("nope", CQ_OP_GT, 3, "3", CQ_ROW_FIRST), NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_ERROR, "column 'nope' is not in the result (columns: 2)");
        run(b, "SELECT v FROM m WHERE v > 100", thr("v", CQ_OP_GT, 3, "3", CQ_ROW_FIRST), NULL,
            &a, &ev);
        EXPECT(b, CQ_ALERT_OK, "no rows to compare");
        cq_arena_free(&a);
    }
}

static void params_are_bound(void **state)
{
    struct fixture *f = *state;
    static char *params[] = {"b"};
    for (int i = 0; i < 2; i++) {
        struct backend *b = &f->be[i];
        struct cq_alert_conf alert = {.id = "p", .connection = b->cc.name,
                                      .sql = "SELECT v FROM m WHERE name = $1",
                                      .params = params, .n_params = 1,
                                      .rule = thr("v", CQ_OP_GT, 10, "10", CQ_ROW_FIRST)};
        struct cq_arena a;
        struct cq_alert_eval ev;
        struct cq_err err = {0};
        cq_arena_init(&a, 4096, 1 << 24);
        assert_int_equal(cq_alert_eval_run(&alert, b->pool, NULL, &a, &ev, &err), CQ_OK);
        EXPECT(b, CQ_ALERT_TRIGGERED, "v = 12 > 10");
        cq_arena_free(&a);
    }
}

static void sql_boolean_rule(void **state)
{
    struct fixture *f = *state;
    struct cq_rule_conf r = {.type = CQ_RULE_SQL_BOOLEAN};
    for (int i = 0; i < 2; i++) {
        struct backend *b = &f->be[i];
        struct cq_arena a;
        struct cq_alert_eval ev;
        cq_arena_init(&a, 4096, 1 << 24);
        run(b, "SELECT count(*) > 3 AS busy FROM m", r, NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_TRIGGERED, "busy is true");
        run(b, "SELECT count(*) > 30 AS busy FROM m", r, NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_OK, "busy is false");
        run(b, "SELECT name FROM m", r, NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_ERROR,
               "sql_boolean expects exactly one row with one column, got 4 rows and 1 column");
        run(b, "SELECT 1 AS x, 2 AS y", r, NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_ERROR,
               "sql_boolean expects exactly one row with one column, got 1 row and 2 columns");
        run(b, "SELECT v AS x FROM m WHERE name = 'c'", r, NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_ERROR, "sql_boolean: x is NULL, not true or false");
        run(b, "SELECT 'maybe' AS x", r, NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_ERROR, "sql_boolean: x is 'maybe', not true or false");
        cq_arena_free(&a);
    }
}

static void change_rule(void **state)
{
    struct fixture *f = *state;
    struct cq_rule_conf pct = {.type = CQ_RULE_CHANGE, .column = "total", .percent = true,
                               .value = 20, .value_text = "20"};
    struct cq_rule_conf abs_drop = {.type = CQ_RULE_CHANGE, .column = "total",
                                    .signed_delta = true, .op = CQ_OP_LT, .value = -10,
                                    .value_text = "-10"};
    struct cq_alert_status prev = {.has_value = true};
    cq_strlcpy(prev.value, "20", sizeof(prev.value));
    for (int i = 0; i < 2; i++) {
        struct backend *b = &f->be[i];
        struct cq_arena a;
        struct cq_alert_eval ev;
        const char *sql = "SELECT sum(v) AS total FROM m";
        cq_arena_init(&a, 4096, 1 << 24);
        run(b, sql, pct, NULL, &a, &ev);
        EXPECT(b, CQ_ALERT_OK, "total = 24.5 (first value, nothing to compare yet)");
        assert_true(ev.has_num);
        run(b, sql, pct, &prev, &a, &ev);
        EXPECT(b, CQ_ALERT_TRIGGERED, "total changed +22.5% (20 -> 24.5), by more than 20");
        run(b, sql, abs_drop, &prev, &a, &ev);
        EXPECT(b, CQ_ALERT_OK, "total changed +4.5 (20 -> 24.5), not < -10");
        cq_strlcpy(prev.value, "40", sizeof(prev.value));
        run(b, sql, abs_drop, &prev, &a, &ev);
        EXPECT(b, CQ_ALERT_TRIGGERED, "total changed -15.5 (40 -> 24.5), < -10");
        cq_strlcpy(prev.value, "20", sizeof(prev.value));
        cq_arena_free(&a);
    }
}

static void failures_are_error_states(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 2; i++) {
        struct backend *b = &f->be[i];
        struct cq_arena a;
        struct cq_alert_eval ev;
        struct cq_err err = {0};
        cq_arena_init(&a, 4096, 1 << 24);
        run(b, "SELECT nope FROM m", (struct cq_rule_conf){.type = CQ_RULE_ANY_ROWS}, NULL, &a,
            &ev);
        assert_int_equal(ev.state, CQ_ALERT_ERROR);
        assert_int_equal(ev.error_rc, CQ_EBACKEND);
        assert_non_null(strstr(ev.error, "nope"));
        struct cq_alert_conf slow = {.id = "slow", .connection = b->cc.name,
                                     .sql = (char *)(uintptr_t)b->sleep_sql, .timeout_ms = 300,
                                     .rule = {.type = CQ_RULE_ANY_ROWS}};
        assert_int_equal(cq_alert_eval_run(&slow, b->pool, NULL, &a, &ev, &err), CQ_OK);
        assert_int_equal(ev.state, CQ_ALERT_ERROR);
        assert_int_equal(ev.error_rc, CQ_ETIMEOUT);
        assert_true(ev.duration_ms < 4000);
        print_message("[%s] timeout: %s\n", b->label, ev.error);
        /* identical results fingerprint alike; different ones do not */
        char fp[65];
        run(b, "SELECT name FROM m", (struct cq_rule_conf){.type = CQ_RULE_ANY_ROWS}, NULL, &a,
            &ev);
        cq_strlcpy(fp, ev.fingerprint, sizeof(fp));
        assert_int_equal(strlen(fp), 64);
        run(b, "SELECT name FROM m", (struct cq_rule_conf){.type = CQ_RULE_ANY_ROWS}, NULL, &a,
            &ev);
        assert_string_equal(fp, ev.fingerprint);
        run(b, "SELECT name FROM m WHERE name <> 'a'",
            (struct cq_rule_conf){.type = CQ_RULE_ANY_ROWS}, NULL, &a, &ev);
        assert_string_not_equal(fp, ev.fingerprint);
        cq_arena_free(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(row_rules),        cmocka_unit_test(threshold_rules),
        cmocka_unit_test(params_are_bound), cmocka_unit_test(sql_boolean_rule),
        cmocka_unit_test(change_rule),      cmocka_unit_test(failures_are_error_states),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
