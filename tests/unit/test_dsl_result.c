/*
 * test_dsl_result.c - cq_dsl_execute on hand-built compiled queries: re-keying, value
 * conversion (spec §0.8), masking, count mode, sql-only, the debug log, parameter binding
 * and the error shapes of spec §11. A fake driver (tests/support/dslfake.h) plays the
 * database: it records the statement it got and feeds scripted columns and rows (or fails as
 * told).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/arena.h"
#include "base/buf.h"
#include "dsl/dsl.h"
#include "dsl/exec_int.h"
#include "dslfake.h"

/* ---- compiled queries by hand ------------------------------------------------------------- */

struct fx {
    struct cq_arena a;
    struct cq_test_feed feed;
    struct cq_test_fake_conn conn;
    struct cq_dsl_exec_env env;
    struct cq_dsl_database db;
    struct cq_dsl_table table;
    struct cq_dsl_table_use use;
    struct cq_dsl_query q;
    struct cq_dsl_compiled c;
    struct cq_buf out;
    struct cq_dsl_error e;
    json_t *doc;               /* parsed output */
};

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    cq_arena_init(&x->a, 4096, 0);
    cq_test_fake_init(&x->conn, &x->feed, &x->env);
    x->env.limits = cq_test_fake_limits;
    x->db = (struct cq_dsl_database){.id = "pg-main", .engine = CQ_DSL_ENGINE_POSTGRES,
                                     .dialect = CQ_DIALECT_PG, .connection = "main"};
    x->table = (struct cq_dsl_table){.id = "users", .api = "users", .phys = "public.users",
                                     .db = &x->db};
    x->use = (struct cq_dsl_table_use){&x->table, CQ_DSL_SRC_ORIGINAL, &x->db, "public.users"};
    x->c.q = &x->q;
    x->c.strategy = CQ_DSL_STRAT_DIRECT;
    x->c.target = "pg-main";
    x->c.db = &x->db;
    x->c.dialect = CQ_DIALECT_PG;
    x->c.tables = &x->use;
    x->c.n_tables = 1;
    x->c.sql = "SELECT 1";
    x->c.planning_ms = 1.4;
    x->c.generation_ms = 0.6;
    cq_buf_init(&x->out, 1 << 20);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    json_decref(x->doc);
    cq_dsl_error_cleanup(&x->e);
    cq_buf_cleanup(&x->out);
    cq_arena_free(&x->a);
    free(x);
    return 0;
}

static void use_sqlite(struct fx *x)
{
    x->conn.base.drv = &cq_test_fake_sqlite;
    x->db.engine = CQ_DSL_ENGINE_SQLITE;
    x->db.dialect = CQ_DIALECT_SQLITE;
    x->db.id = "demo";
    x->db.connection = "demo";
    x->c.dialect = CQ_DIALECT_SQLITE;
    x->c.target = "demo";
}

static struct cq_dsl_outcol col(const char *key, const char *alias, enum cq_dsl_type t,
                                bool array)
{
    static const char *const names[] = {"string", "int", "decimal", "boolean", "uuid", "date",
                                        "timestamp"};
    static const char *const arrays[] = {"string[]", "int[]", "decimal[]", "boolean[]",
                                         "uuid[]", "date[]", "timestamp[]"};
    return (struct cq_dsl_outcol){.key = key, .sql_alias = alias, .type = t, .array = array,
                                  .type_name = array ? arrays[t] : names[t], .nullable = true,
                                  .from_table = "users"};
}

static const struct cq_dsl_val *val(struct fx *x, const char *json)
{
    json_error_t je;
    json_t *j = json_loads(json, JSON_DECODE_ANY, &je);
    assert_non_null(j);
    const struct cq_dsl_val *v = cq_dsl_val_from_json(&x->a, j);
    json_decref(j);
    assert_non_null(v);
    return v;
}

/* Runs cq_dsl_execute expecting success; parses the output into x->doc. */
static void run_ok(struct fx *x)
{
    json_error_t je;
    int rc = cq_dsl_execute(&x->c, &x->env, &x->out, &x->e);
    if (rc != CQ_OK) {
        struct cq_buf b;
        cq_buf_init(&b, 1 << 16);
        cq_dsl_error_write(&x->e, &b);
        fail_msg("execute failed (rc %d): %s", rc, cq_buf_str(&b));
    }
    x->doc = json_loads(cq_buf_str(&x->out), JSON_DECODE_INT_AS_REAL, &je);
    if (x->doc == NULL) {
        fail_msg("output is not JSON (%s): %s", je.text, cq_buf_str(&x->out));
    }
}

/* Runs expecting an error; returns rc, the error body in x->doc (owned by x->e). */
static int run_err(struct fx *x)
{
    cq_buf_reset(&x->out);
    cq_buf_puts(&x->out, "PREFIX");
    int rc = cq_dsl_execute(&x->c, &x->env, &x->out, &x->e);
    assert_int_not_equal(rc, CQ_OK);
    assert_non_null(x->e.body);
    /* nothing of a half result stays in the output */
    assert_string_equal(cq_buf_str(&x->out), "PREFIX");
    assert_int_equal(x->feed.n_held, x->feed.n_release);
    return rc;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL) {
        fail_msg("missing %s\n  in %s", needle, hay);
    }
}

static const char *get_str(json_t *o, const char *path)
{
    /* "a/b/c" through objects */
    char key[64];
    const char *p = path;
    while (o != NULL) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        snprintf(key, sizeof(key), "%.*s", (int)n, p);
        o = json_object_get(o, key);
        if (slash == NULL) {
            break;
        }
        p = slash + 1;
    }
    return json_is_string(o) ? json_string_value(o) : NULL;
}

#define V(k, s) {k, s, sizeof(s) - 1}
#define NUM(s) V(CQ_V_NUMBER, s)
#define STR(s) V(CQ_V_STRING, s)
#define BOOLV(s) V(CQ_V_BOOL, s)
#define JSONV(s) V(CQ_V_JSON, s)
#define VNULL {CQ_V_NULL, NULL, 0}

/* ---- data mode ---------------------------------------------------------------------------- */

static void test_rekey_and_convert_pg(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__id", "t0__created_at", "t0__birth_date",
                                        "t0__score", "t0__is_active", "t0__tags", "t0__big",
                                        "extra", "t0__seen"};
    static const struct cq_value rows[] = {
        NUM("1"), STR("2024-01-15T10:00:00+02:00"), STR("2024-02-20"),
        NUM("12345678901234567890.50"), BOOLV("true"), JSONV("[\"a\",\"b\"]"),
        NUM("9007199254740993"), STR("as is"), JSONV("[\"2024-01-15T10:00:00.123456+00:00\"]"),
        NUM("2"), STR("2023-12-31T23:30:00-01:00"), VNULL, VNULL, BOOLV("false"), JSONV("[]"),
        NUM("-0.5"), NUM("3"), JSONV("[null]"),
    };
    struct cq_dsl_outcol cols[] = {
        col("id", "t0__id", CQ_DSL_T_INT, false),
        col("createdAt", "t0__created_at", CQ_DSL_T_TIMESTAMP, false),
        col("birthDate", "t0__birth_date", CQ_DSL_T_DATE, false),
        col("score", "t0__score", CQ_DSL_T_DECIMAL, false),
        col("isActive", "t0__is_active", CQ_DSL_T_BOOLEAN, false),
        col("tags", "t0__tags", CQ_DSL_T_STRING, true),
        col("big", "t0__big", CQ_DSL_T_INT, false),
        col("seen", "t0__seen", CQ_DSL_T_TIMESTAMP, true),
    };
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 9, .rows = rows, .n_rows = 2};
    x->c.cols = cols;
    x->c.n_cols = 8;
    run_ok(x);
    assert_contains(cq_buf_str(&x->out),
                    "{\"kind\":\"data\",\"data\":[{\"id\":1,\"createdAt\":"
                    "\"2024-01-15T08:00:00.000Z\",\"birthDate\":\"2024-02-20\",\"score\":"
                    "12345678901234567890.50,\"isActive\":true,\"tags\":[\"a\",\"b\"],\"big\":"
                    "9007199254740993,\"extra\":\"as is\",\"seen\":"
                    "[\"2024-01-15T10:00:00.123Z\"]},{\"id\":2,\"createdAt\":"
                    "\"2024-01-01T00:30:00.000Z\",\"birthDate\":null,\"score\":null,"
                    "\"isActive\":false,\"tags\":[],\"big\":-0.5,\"extra\":3,\"seen\":[null]}],"
                    "\"meta\":{");
    assert_int_equal(x->feed.n_exec, 1);
    assert_int_equal(x->feed.n_release, 1);
}

static void test_meta_shape(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__id", "total"};
    static const struct cq_value rows[] = {NUM("1"), NUM("10")};
    struct cq_dsl_outcol cols[] = {col("id", "t0__id", CQ_DSL_T_INT, false),
                                   col("total", "total", CQ_DSL_T_INT, false)};
    cols[0].nullable = false;
    cols[0].masked = true; /* masked shows in meta */
    cols[0].mask_fn = CQ_DSL_MASK_NUMBER;
    cols[1].is_agg = true;
    cols[1].masked = true; /* never for aggregations */
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 2, .rows = rows, .n_rows = 1};
    x->c.cols = cols;
    x->c.n_cols = 2;
    run_ok(x);
    assert_contains(cq_buf_str(&x->out),
                    "\"data\":[{\"id\":0,\"total\":10}],\"meta\":{\"strategy\":\"direct\","
                    "\"targetDatabase\":\"pg-main\",\"dialect\":\"postgres\",\"tablesUsed\":"
                    "[{\"tableId\":\"users\",\"source\":\"original\",\"database\":\"pg-main\","
                    "\"physicalName\":\"public.users\"}],\"columns\":[{\"apiName\":\"id\","
                    "\"type\":\"int\",\"nullable\":false,\"fromTable\":\"users\",\"masked\":"
                    "true},{\"apiName\":\"total\",\"type\":\"int\",\"nullable\":true,"
                    "\"fromTable\":\"users\",\"masked\":false}],\"timing\":{\"planningMs\":1,"
                    "\"generationMs\":1,\"executionMs\":");
    json_t *timing = json_object_get(json_object_get(x->doc, "meta"), "timing");
    assert_true(json_is_number(json_object_get(timing, "executionMs")));
    assert_true(json_number_value(json_object_get(timing, "executionMs")) >= 0);
    assert_null(json_object_get(x->doc, "debugLog")); /* not asked for */
}

static void test_sqlite_values(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__in_stock", "t0__at", "t0__day", "t0__price",
                                        "t0__tags", "t0__flags", "t0__days", "t0__nums",
                                        "t0__bad"};
    static const struct cq_value rows[] = {
        NUM("1"), STR("2024-01-15T10:00:00Z"), STR("2024-02-20T00:00:00Z"), STR("12.50"),
        STR("[\"x\", \"y\"]"), STR("[1,0,true]"), STR("[\"2024-01-02 10:00:00\"]"),
        STR("[1.10, 20000000000000000001]"), STR("not json"),
        NUM("0"), STR("2024-01-15 10:00:00.5"), STR("garbage"), NUM("19.99"), VNULL,
        STR("[]"), STR("[\"2024-01-02\"]"), STR("{\"a\":1}"), STR("[1"),
    };
    struct cq_dsl_outcol cols[] = {
        col("inStock", "t0__in_stock", CQ_DSL_T_BOOLEAN, false),
        col("at", "t0__at", CQ_DSL_T_TIMESTAMP, false),
        col("day", "t0__day", CQ_DSL_T_DATE, false),
        col("price", "t0__price", CQ_DSL_T_DECIMAL, false),
        col("tags", "t0__tags", CQ_DSL_T_STRING, true),
        col("flags", "t0__flags", CQ_DSL_T_BOOLEAN, true),
        col("days", "t0__days", CQ_DSL_T_DATE, true),
        col("nums", "t0__nums", CQ_DSL_T_DECIMAL, true),
        col("bad", "t0__bad", CQ_DSL_T_INT, true),
    };
    use_sqlite(x);
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 9, .rows = rows, .n_rows = 2};
    x->c.cols = cols;
    x->c.n_cols = 9;
    run_ok(x);
    assert_contains(cq_buf_str(&x->out),
                    "\"data\":[{\"inStock\":true,\"at\":\"2024-01-15T10:00:00.000Z\",\"day\":"
                    "\"2024-02-20\",\"price\":12.50,\"tags\":[\"x\", \"y\"],\"flags\":"
                    "[true,false,true],\"days\":[\"2024-01-02\"],\"nums\":"
                    "[1.10, 20000000000000000001],\"bad\":\"not json\"},{\"inStock\":false,"
                    "\"at\":\"2024-01-15T10:00:00.500Z\",\"day\":\"garbage\",\"price\":19.99,"
                    "\"tags\":null,\"flags\":[],\"days\":[\"2024-01-02\"],\"nums\":"
                    "\"{\\\"a\\\":1}\",\"bad\":\"[1\"}]");
    assert_string_equal(get_str(x->doc, "meta/dialect"), "sqlite");
}

static void test_timestamp_forms(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__ts"};
    static const struct cq_value rows[] = {
        STR("2024-03-01T00:00:00+05:30"), STR("2024-02-29 23:59:59.9999-00:30"),
        STR("2024-12-31T23:00:00-01"), STR("1999-12-31"), STR("2024-01-15T10:00Z"),
        STR("2024-01-15T10:00:00+0100"), STR("infinity"), STR("2024-13-01T00:00:00Z"),
        STR("2024-01-15T10:00:00 BC"), STR("1969-12-31T23:59:59.999Z"),
    };
    struct cq_dsl_outcol cols[] = {col("ts", "t0__ts", CQ_DSL_T_TIMESTAMP, false)};
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1, .rows = rows, .n_rows = 10};
    x->c.cols = cols;
    x->c.n_cols = 1;
    run_ok(x);
    assert_contains(cq_buf_str(&x->out),
                    "[{\"ts\":\"2024-02-29T18:30:00.000Z\"},{\"ts\":\"2024-03-01T00:29:59.999Z\"},"
                    "{\"ts\":\"2025-01-01T00:00:00.000Z\"},{\"ts\":\"1999-12-31T00:00:00.000Z\"},"
                    "{\"ts\":\"2024-01-15T10:00:00.000Z\"},{\"ts\":\"2024-01-15T09:00:00.000Z\"},"
                    "{\"ts\":\"infinity\"},{\"ts\":\"2024-13-01T00:00:00Z\"},"
                    "{\"ts\":\"2024-01-15T10:00:00 BC\"},{\"ts\":\"1969-12-31T23:59:59.999Z\"}]");
}

static void test_masking(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__email", "t0__score", "t0__born", "t0__ids",
                                        "t0__price", "t0__big", "n", "t0__phone", "t0__full"};
    static const struct cq_value rows[] = {
        STR("alice@example.com"), NUM("42.5"), STR("1987-06-05T10:00:00+00:00"),
        JSONV("[1,2,3]"), NUM("123.50"), NUM("1000000000000000000000"), NUM("5"), VNULL,
        BOOLV("true"),
    };
    struct cq_dsl_outcol cols[] = {
        col("email", "t0__email", CQ_DSL_T_STRING, false),
        col("score", "t0__score", CQ_DSL_T_DECIMAL, false),
        col("born", "t0__born", CQ_DSL_T_TIMESTAMP, false),
        col("ids", "t0__ids", CQ_DSL_T_INT, true),
        col("price", "t0__price", CQ_DSL_T_DECIMAL, false),
        col("big", "t0__big", CQ_DSL_T_DECIMAL, false),
        col("n", "n", CQ_DSL_T_INT, false),
        col("phone", "t0__phone", CQ_DSL_T_STRING, false),
        col("full", "t0__full", CQ_DSL_T_BOOLEAN, false),
    };
    static const enum cq_dsl_mask fns[] = {CQ_DSL_MASK_EMAIL, CQ_DSL_MASK_NUMBER,
                                           CQ_DSL_MASK_DATE, CQ_DSL_MASK_NAME,
                                           CQ_DSL_MASK_NAME, CQ_DSL_MASK_UUID,
                                           CQ_DSL_MASK_FULL, CQ_DSL_MASK_PHONE,
                                           CQ_DSL_MASK_NONE};
    for (size_t i = 0; i < 9; i++) {
        cols[i].masked = true;
        cols[i].mask_fn = fns[i];
    }
    cols[6].is_agg = true; /* an aggregation alias is never masked */
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 9, .rows = rows, .n_rows = 1};
    x->c.cols = cols;
    x->c.n_cols = 9;
    run_ok(x);
    /* numbers are stringified as JavaScript prints them: 123.50 -> "123.5", 1e21 -> "1e+21";
     * arrays comma-joined: [1,2,3] -> "1,2,3"; a timestamp keeps its year */
    assert_contains(cq_buf_str(&x->out),
                    "\"data\":[{\"email\":\"a***@***.com\",\"score\":0,\"born\":\"1987-01-01\","
                    "\"ids\":\"1***3\",\"price\":\"1***5\",\"big\":\"1e+2****\",\"n\":5,"
                    "\"phone\":null,\"full\":\"***\"}]");
}

static void test_rekey_truncated_pg_label(void **state)
{
    struct fx *x = *state;
    /* PostgreSQL cuts labels at 63 bytes; the column is still re-keyed */
    static const char alias[] = "t0__a_very_long_physical_column_name_that_goes_past_the_limit_"
                                "of_postgres";
    static const char *const names[] = {"t0__a_very_long_physical_column_name_that_goes_past_"
                                        "the_limit_o"};
    static const struct cq_value rows[] = {NUM("7")};
    struct cq_dsl_outcol cols[] = {col("longName", alias, CQ_DSL_T_INT, false)};
    assert_int_equal(strlen(names[0]), 63);
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1, .rows = rows, .n_rows = 1};
    x->c.cols = cols;
    x->c.n_cols = 1;
    run_ok(x);
    assert_contains(cq_buf_str(&x->out), "\"data\":[{\"longName\":7}]");
}

static void test_no_rows(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__id"};
    struct cq_dsl_outcol cols[] = {col("id", "t0__id", CQ_DSL_T_INT, false)};
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1, .rows = NULL, .n_rows = 0};
    x->c.cols = cols;
    x->c.n_cols = 1;
    run_ok(x);
    assert_contains(cq_buf_str(&x->out), "{\"kind\":\"data\",\"data\":[],\"meta\":");
}

/* ---- count, sql-only, debug ----------------------------------------------------------------- */

static void test_count(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"count"};
    static const struct cq_value rows[] = {NUM("42"), NUM("7")};
    struct cq_dsl_outcol cols[] = {col("id", "t0__id", CQ_DSL_T_INT, false)};
    x->q.mode = CQ_DSL_MODE_COUNT;
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1, .rows = rows, .n_rows = 2};
    x->c.cols = cols; /* count mode lists no columns, whatever the compile held */
    x->c.n_cols = 1;
    run_ok(x);
    assert_contains(cq_buf_str(&x->out), "{\"kind\":\"count\",\"count\":42,\"meta\":{");
    assert_contains(cq_buf_str(&x->out), "\"columns\":[],\"timing\":");
    assert_int_equal((int64_t)json_number_value(json_object_get(x->doc, "count")), 42);
}

static void test_count_forms(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"count"};
    static const struct cq_value as_text[] = {STR("17")};
    static const struct cq_value as_junk[] = {STR("many")};
    x->q.mode = CQ_DSL_MODE_COUNT;
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1, .rows = NULL, .n_rows = 0};
    run_ok(x);
    assert_int_equal((int64_t)json_number_value(json_object_get(x->doc, "count")), 0); /* no rows */
    json_decref(x->doc);
    cq_buf_reset(&x->out);
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1, .rows = as_text, .n_rows = 1};
    run_ok(x);
    assert_int_equal((int64_t)json_number_value(json_object_get(x->doc, "count")), 17);
    json_decref(x->doc);
    cq_buf_reset(&x->out);
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1, .rows = as_junk, .n_rows = 1};
    run_ok(x);
    /* parseInt gives NaN: 0 */
    assert_int_equal((int64_t)json_number_value(json_object_get(x->doc, "count")), 0);
}

static void test_sql_only(void **state)
{
    struct fx *x = *state;
    struct cq_dsl_param params[] = {{val(x, "[\"a\",\"b\"]"), CQ_DSL_T_STRING, true},
                                    {val(x, "\"%x\\\\%\""), CQ_DSL_T_STRING, false},
                                    {val(x, "1.5"), CQ_DSL_T_DECIMAL, false}};
    struct cq_dsl_debug dbg[] = {
        {1700000000000, "validation", "Validated (0.1ms)", NULL},
        {1700000000001, "sql-generation", "Generated (postgres) (0.2ms)",
         "{\"sql\":\"SELECT 1\"}"},
    };
    x->q.mode = CQ_DSL_MODE_SQL_ONLY;
    x->q.debug = true;
    x->c.sql = "SELECT \"t0\".\"id\" AS \"t0__id\" FROM \"public\".\"users\" AS \"t0\" WHERE "
               "\"t0\".\"s\" = ANY($1::text[]) AND \"t0\".\"s\" LIKE $2 AND \"t0\".\"x\" > $3";
    x->c.params = params;
    x->c.n_params = 3;
    x->c.debug = dbg;
    x->c.n_debug = 2;
    run_ok(x);
    assert_int_equal(x->feed.n_acquire, 0); /* no database touched */
    assert_contains(cq_buf_str(&x->out),
                    "{\"kind\":\"sql\",\"sql\":\"SELECT \\\"t0\\\".\\\"id\\\" AS");
    assert_contains(cq_buf_str(&x->out),
                    "\"params\":[[\"a\",\"b\"],\"%x\\\\%\",1.5],\"meta\":{\"strategy\":");
    assert_contains(cq_buf_str(&x->out),
                    "\"timing\":{\"planningMs\":1,\"generationMs\":1}},\"debugLog\":["
                    "{\"timestamp\":1700000000000,\"phase\":\"validation\",\"message\":"
                    "\"Validated (0.1ms)\"},{\"timestamp\":1700000000001,\"phase\":"
                    "\"sql-generation\",\"message\":\"Generated (postgres) (0.2ms)\","
                    "\"details\":{\"sql\":\"SELECT 1\"}}]}");
}

static void test_debug_execution_entry(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__id"};
    static const struct cq_value rows[] = {NUM("1"), NUM("2")};
    struct cq_dsl_outcol cols[] = {col("id", "t0__id", CQ_DSL_T_INT, false)};
    struct cq_dsl_debug dbg[] = {{1700000000000, "validation", "Validated (0.1ms)", NULL}};
    x->q.debug = true;
    x->c.debug = dbg;
    x->c.n_debug = 1;
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1, .rows = rows, .n_rows = 2};
    x->c.cols = cols;
    x->c.n_cols = 1;
    run_ok(x);
    json_t *log = json_object_get(x->doc, "debugLog");
    assert_int_equal(json_array_size(log), 2);
    json_t *last = json_array_get(log, 1);
    assert_string_equal(json_string_value(json_object_get(last, "phase")), "execution");
    const char *msg = json_string_value(json_object_get(last, "message"));
    assert_true(strncmp(msg, "Executed (2 rows) (", 19) == 0);
    assert_true(strlen(msg) > 22 && strcmp(msg + strlen(msg) - 3, "ms)") == 0);
    assert_true(json_number_value(json_object_get(last, "timestamp")) > 1700000000000.0);
    /* debugLog comes after meta */
    assert_true(strstr(cq_buf_str(&x->out), "\"meta\"") <
                strstr(cq_buf_str(&x->out), "\"debugLog\""));
}

/* ---- parameters ----------------------------------------------------------------------------- */

static void test_bind_pg(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__id"};
    struct cq_dsl_param params[] = {
        {val(x, "[\"a\",\"b\\\"c\",null,\"x\\\\y\",\"\"]"), CQ_DSL_T_STRING, true},
        {val(x, "true"), CQ_DSL_T_BOOLEAN, false},
        {val(x, "0.1"), CQ_DSL_T_DECIMAL, false},
        {val(x, "42"), CQ_DSL_T_INT, false},
        {val(x, "null"), CQ_DSL_T_STRING, false},
        {val(x, "[1,2.5]"), CQ_DSL_T_DECIMAL, true},
        {val(x, "\"plain\""), CQ_DSL_T_STRING, false},
    };
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1};
    x->c.params = params;
    x->c.n_params = 7;
    run_ok(x);
    assert_int_equal(x->feed.n_params, 7);
    assert_string_equal(x->feed.texts[0], "{\"a\",\"b\\\"c\",NULL,\"x\\\\y\",\"\"}");
    assert_string_equal(x->feed.texts[1], "true");
    assert_string_equal(x->feed.texts[2], "0.1");
    assert_string_equal(x->feed.texts[3], "42");
    assert_int_equal(x->feed.params[4].type, CQ_P_NULL);
    assert_null(x->feed.params[4].text);
    assert_string_equal(x->feed.texts[5], "{1,2.5}");
    assert_string_equal(x->feed.texts[6], "plain");
    for (size_t i = 0; i < 7; i++) {
        assert_false(x->feed.params[i].explicit_type); /* the SQL's casts type them */
    }
    assert_string_equal(x->feed.sql, "SELECT 1");
}

static void test_bind_sqlite(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__id"};
    struct cq_dsl_param params[] = {
        {val(x, "[\"a\",\"b\\\"c\",null]"), CQ_DSL_T_STRING, true},
        {val(x, "true"), CQ_DSL_T_BOOLEAN, false},
        {val(x, "3.0"), CQ_DSL_T_INT, false},
        {val(x, "2.25"), CQ_DSL_T_DECIMAL, false},
        {val(x, "7"), CQ_DSL_T_INT, false},
        {val(x, "\"t1\""), CQ_DSL_T_UUID, false},
    };
    use_sqlite(x);
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1};
    x->c.params = params;
    x->c.n_params = 6;
    run_ok(x);
    assert_int_equal(x->feed.params[0].type, CQ_P_JSON);
    assert_string_equal(x->feed.texts[0], "[\"a\",\"b\\\"c\",null]");
    assert_int_equal(x->feed.params[1].type, CQ_P_BOOL);
    assert_string_equal(x->feed.texts[1], "true");
    assert_int_equal(x->feed.params[2].type, CQ_P_INT); /* 3.0 on an int column */
    assert_string_equal(x->feed.texts[2], "3");
    assert_int_equal(x->feed.params[3].type, CQ_P_FLOAT);
    assert_string_equal(x->feed.texts[3], "2.25");
    assert_int_equal(x->feed.params[4].type, CQ_P_INT);
    assert_int_equal(x->feed.params[5].type, CQ_P_TEXT);
    assert_string_equal(x->feed.texts[5], "t1");
}

static void test_limits_reach_the_statement(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__id"};
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1, .limits = {.timeout_ms = 2500}};
    run_ok(x);
    assert_int_equal(x->feed.timeout_ms, 2500);
}

static void test_js_number(void **state)
{
    static const struct {
        double d;
        const char *want;
    } cases[] = {
        {0, "0"}, {-0.0, "0"}, {1, "1"}, {-0.5, "-0.5"}, {0.1, "0.1"}, {123.5, "123.5"},
        {1e21, "1e+21"}, {1e20, "100000000000000000000"}, {1.5e-7, "1.5e-7"},
        {0.000001, "0.000001"}, {1e-6 / 10, "1e-7"}, {123456789012345680000.0,
        "123456789012345680000"}, {2.5e300, "2.5e+300"}, {9007199254740993.0,
        "9007199254740992"}, {1.0 / 3, "0.3333333333333333"},
    };
    char out[48];
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cq_dsl_js_number(cases[i].d, out, sizeof(out));
        if (strcmp(out, cases[i].want) != 0) {
            fail_msg("js_number(%.17g) = %s, want %s", cases[i].d, out, cases[i].want);
        }
    }
}

/* ---- errors --------------------------------------------------------------------------------- */

static void test_trino_executor_missing(void **state)
{
    struct fx *x = *state;
    x->c.strategy = CQ_DSL_STRAT_TRINO;
    x->c.dialect = CQ_DIALECT_TRINO;
    x->c.db = NULL;
    x->c.target = "trino";
    assert_int_equal(run_err(x), CQ_EUNSUPPORTED);
    assert_int_equal(x->e.cls, CQ_DSL_E_EXECUTION);
    assert_int_equal(cq_dsl_error_http_status(&x->e), 500);
    cq_dsl_error_write(&x->e, &x->out);
    assert_string_equal(cq_buf_str(&x->out),
                        "PREFIX{\"code\":\"EXECUTOR_MISSING\",\"message\":\"Executor missing for "
                        "database: trino\",\"details\":{\"code\":\"EXECUTOR_MISSING\","
                        "\"database\":\"trino\"}}");
    assert_int_equal(x->feed.n_acquire, 0);
}

static void test_cache_provider_missing(void **state)
{
    struct fx *x = *state;
    struct cq_dsl_cache cache = {.id = "redis-main", .engine = "redis"};
    struct cq_dsl_cached cached = {.cache = &cache, .table = &x->table,
                                   .key_pattern = "users:{id}"};
    x->c.strategy = CQ_DSL_STRAT_CACHE;
    x->c.cached = &cached;
    x->c.target = "redis-main";
    x->q.mode = CQ_DSL_MODE_COUNT; /* count mode too */
    run_err(x);
    cq_buf_reset(&x->out);
    cq_dsl_error_write(&x->e, &x->out);
    assert_string_equal(cq_buf_str(&x->out),
                        "{\"code\":\"CACHE_PROVIDER_MISSING\",\"message\":\"Cache provider "
                        "missing: redis-main\",\"details\":{\"code\":\"CACHE_PROVIDER_MISSING\","
                        "\"cacheId\":\"redis-main\"}}");
}

static void test_cache_sql_only_is_fine(void **state)
{
    struct fx *x = *state;
    struct cq_dsl_cache cache = {.id = "redis-main", .engine = "redis"};
    struct cq_dsl_cached cached = {.cache = &cache, .table = &x->table,
                                   .key_pattern = "users:{id}"};
    x->c.strategy = CQ_DSL_STRAT_CACHE;
    x->c.cached = &cached;
    x->c.target = "redis-main";
    x->q.mode = CQ_DSL_MODE_SQL_ONLY;
    run_ok(x);
    assert_string_equal(get_str(x->doc, "meta/strategy"), "cache");
    assert_string_equal(get_str(x->doc, "meta/targetDatabase"), "redis-main");
}

static void check_missing_db(struct fx *x, const char *db)
{
    run_err(x);
    json_t *d = json_object_get(x->e.body, "details");
    assert_string_equal(json_string_value(json_object_get(x->e.body, "code")),
                        "EXECUTOR_MISSING");
    assert_string_equal(json_string_value(json_object_get(d, "code")), "EXECUTOR_MISSING");
    assert_string_equal(json_string_value(json_object_get(d, "database")), db);
}

static void test_executor_missing_cases(void **state)
{
    struct fx *x = *state;
    /* no connection configured for the database */
    x->db.connection = NULL;
    check_missing_db(x, "pg-main");
    assert_int_equal(x->feed.n_acquire, 0);
    /* ClickHouse: no driver */
    x->db.connection = "ch";
    x->db.id = "ch-analytics";
    x->db.engine = CQ_DSL_ENGINE_CLICKHOUSE;
    x->c.dialect = CQ_DIALECT_CH;
    check_missing_db(x, "ch-analytics");
    assert_int_equal(x->feed.n_acquire, 0);
    /* the pool knows no such connection */
    x->db.id = "pg-main";
    x->db.engine = CQ_DSL_ENGINE_POSTGRES;
    x->c.dialect = CQ_DIALECT_PG;
    x->feed.acquire_rc = CQ_ENOTFOUND;
    check_missing_db(x, "pg-main");
    assert_int_equal(x->feed.n_acquire, 1);
    /* a connection whose driver speaks another dialect */
    x->feed.acquire_rc = CQ_OK;
    x->conn.base.drv = &cq_test_fake_sqlite;
    check_missing_db(x, "pg-main");
    assert_int_equal(x->feed.n_exec, 0);
    /* no environment at all */
    x->conn.base.drv = &cq_test_fake_pg;
    assert_int_not_equal(cq_dsl_execute(&x->c, NULL, &x->out, &x->e), CQ_OK);
    assert_string_equal(json_string_value(json_object_get(x->e.body, "code")),
                        "EXECUTOR_MISSING");
}

static void test_connection_failed(void **state)
{
    struct fx *x = *state;
    x->feed.acquire_rc = CQ_ECONNECT;
    assert_int_equal(run_err(x), CQ_ECONNECT);
    assert_int_equal(x->e.cls, CQ_DSL_E_CONNECTION);
    assert_int_equal(cq_dsl_error_exit_code(&x->e), 3);
    assert_int_equal(cq_dsl_error_http_status(&x->e), 503);
    cq_buf_reset(&x->out);
    cq_dsl_error_write(&x->e, &x->out);
    assert_string_equal(cq_buf_str(&x->out),
                        "{\"code\":\"CONNECTION_FAILED\",\"message\":\"Unreachable: pg-main\","
                        "\"details\":{\"unreachable\":[{\"id\":\"pg-main\",\"type\":"
                        "\"executor\",\"engine\":\"postgres\",\"cause\":{\"message\":"
                        "\"connection 'main': connect: refused\",\"name\":\"Error\"}}]}}");
}

static void test_dead_connection_retried_once(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__id"};
    static const struct cq_value rows[] = {NUM("1")};
    struct cq_dsl_outcol cols[] = {col("id", "t0__id", CQ_DSL_T_INT, false)};
    /* read-only: the statement runs again on a fresh connection */
    x->conn.base.read_only = true;
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1, .rows = rows, .n_rows = 1,
                            .fail_rc = CQ_ECONNECT, .fail_times = 1,
                            .fail_msg = "server closed the connection"};
    x->c.cols = cols;
    x->c.n_cols = 1;
    run_ok(x);
    assert_int_equal(x->feed.n_exec, 2);
    assert_int_equal(x->feed.n_release, 2);
    assert_contains(cq_buf_str(&x->out), "{\"kind\":\"data\",\"data\":[{\"id\":1}],");
    /* twice in a row: a connection error, tried only twice */
    json_decref(x->doc);
    x->doc = NULL;
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1, .fail_rc = CQ_ECONNECT,
                            .fail_msg = "server closed the connection"};
    assert_int_equal(run_err(x), CQ_ECONNECT);
    assert_int_equal(x->feed.n_exec, 2);
    /* a writable connection is not retried */
    x->conn.base.read_only = false;
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1, .fail_rc = CQ_ECONNECT,
                            .fail_times = 1, .fail_msg = "server closed the connection"};
    assert_int_equal(run_err(x), CQ_ECONNECT);
    assert_int_equal(x->feed.n_exec, 1);
    assert_int_equal(x->e.cls, CQ_DSL_E_CONNECTION);
}

static void test_query_failed(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__id"};
    struct cq_dsl_param params[] = {{val(x, "\"t1\""), CQ_DSL_T_STRING, false}};
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1, .fail_rc = CQ_EBACKEND,
                            .fail_msg = "connection 'main': ERROR: column t0.nope does not exist"};
    x->c.sql = "SELECT \"t0\".\"nope\" FROM \"public\".\"users\" AS \"t0\" "
               "WHERE \"t0\".\"x\" = $1";
    x->c.params = params;
    x->c.n_params = 1;
    assert_int_equal(run_err(x), CQ_EBACKEND);
    cq_buf_reset(&x->out);
    cq_dsl_error_write(&x->e, &x->out);
    assert_string_equal(cq_buf_str(&x->out),
                        "{\"code\":\"QUERY_FAILED\",\"message\":\"Query failed on postgres "
                        "database: postgres\",\"cause\":{\"message\":\"connection 'main': ERROR: "
                        "column t0.nope does not exist\",\"name\":\"DatabaseError\"},\"details\":"
                        "{\"code\":\"QUERY_FAILED\",\"database\":\"postgres\",\"dialect\":"
                        "\"postgres\",\"sql\":\"SELECT \\\"t0\\\".\\\"nope\\\" FROM "
                        "\\\"public\\\".\\\"users\\\" AS \\\"t0\\\" WHERE \\\"t0\\\".\\\"x\\\" = "
                        "$1\",\"params\":[\"t1\"],\"cause\":{\"message\":\"connection 'main': "
                        "ERROR: column t0.nope does not exist\",\"name\":\"DatabaseError\"}}}");
    assert_int_equal(cq_dsl_error_exit_code(&x->e), 1);
}

static void test_query_failed_without_sql(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__id"};
    x->env.include_sql_in_errors = false;
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1, .fail_rc = CQ_EBACKEND,
                            .fail_msg = "boom"};
    run_err(x);
    json_t *d = json_object_get(x->e.body, "details");
    assert_null(json_object_get(d, "sql"));
    assert_null(json_object_get(d, "params"));
    assert_string_equal(json_string_value(json_object_get(d, "code")), "QUERY_FAILED");
    assert_non_null(json_object_get(d, "cause"));
}

static void test_query_timeout(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__id"};
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1, .fail_rc = CQ_ETIMEOUT,
                            .fail_msg = "connection 'main': statement timed out after 250 ms",
                            .limits = {.timeout_ms = 250}};
    assert_int_equal(run_err(x), CQ_ETIMEOUT);
    cq_buf_reset(&x->out);
    cq_dsl_error_write(&x->e, &x->out);
    assert_string_equal(cq_buf_str(&x->out),
                        "{\"code\":\"QUERY_TIMEOUT\",\"message\":\"Query timeout on postgres "
                        "database: postgres (250ms)\",\"details\":{\"code\":\"QUERY_TIMEOUT\","
                        "\"database\":\"postgres\",\"dialect\":\"postgres\",\"sql\":"
                        "\"SELECT 1\",\"timeoutMs\":250}}");
}

static void test_timeout_by_message(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__id"};
    /* a server-side statement_timeout arrives as an SQL error naming it */
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1, .fail_rc = CQ_ECANCELED,
                            .fail_msg = "canceling statement due to Statement_Timeout"};
    run_err(x);
    assert_string_equal(json_string_value(json_object_get(x->e.body, "code")), "QUERY_TIMEOUT");
    json_t *d = json_object_get(x->e.body, "details");
    assert_int_equal(json_integer_value(json_object_get(d, "timeoutMs")), 0);
    x->feed.fail_rc = CQ_EBACKEND;
    x->feed.fail_msg = "Code: 159. Timeout exceeded: elapsed 5 seconds (MAX_EXECUTION_TIME)";
    run_err(x);
    assert_string_equal(json_string_value(json_object_get(x->e.body, "code")), "QUERY_TIMEOUT");
    x->feed.fail_msg = "limit max_execution_time reached";
    run_err(x);
    assert_string_equal(json_string_value(json_object_get(x->e.body, "code")), "QUERY_TIMEOUT");
    x->feed.fail_msg = "relation \"time_out\" does not exist";
    run_err(x);
    assert_string_equal(json_string_value(json_object_get(x->e.body, "code")), "QUERY_FAILED");
}

static void test_truncated_result_fails(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__id"};
    static const struct cq_value rows[] = {NUM("1")};
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1, .rows = rows, .n_rows = 1,
                            .truncate = true};
    run_err(x);
    assert_string_equal(json_string_value(json_object_get(x->e.body, "code")), "QUERY_FAILED");
    const char *why = get_str(x->e.body, "cause/message");
    assert_non_null(why);
    assert_contains(why, "max_rows");
}

static void test_result_too_large(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__name"};
    static const struct cq_value rows[] = {STR("0123456789"), STR("0123456789"),
                                           STR("0123456789"), STR("0123456789")};
    struct cq_dsl_outcol cols[] = {col("name", "t0__name", CQ_DSL_T_STRING, false)};
    cq_buf_cleanup(&x->out);
    cq_buf_init(&x->out, 60); /* room for the prefix and a row or two */
    x->feed = (struct cq_test_feed){.names = names, .n_cols = 1, .rows = rows, .n_rows = 4};
    x->c.cols = cols;
    x->c.n_cols = 1;
    run_err(x);
    assert_int_equal(cq_buf_rc(&x->out), CQ_OK); /* the output is usable again */
    assert_string_equal(json_string_value(json_object_get(x->e.body, "code")), "QUERY_FAILED");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_rekey_and_convert_pg),
        T(test_meta_shape),
        T(test_sqlite_values),
        T(test_timestamp_forms),
        T(test_masking),
        T(test_rekey_truncated_pg_label),
        T(test_no_rows),
        T(test_count),
        T(test_count_forms),
        T(test_sql_only),
        T(test_debug_execution_entry),
        T(test_bind_pg),
        T(test_bind_sqlite),
        T(test_limits_reach_the_statement),
        T(test_js_number),
        T(test_trino_executor_missing),
        T(test_cache_provider_missing),
        T(test_cache_sql_only_is_fine),
        T(test_executor_missing_cases),
        T(test_connection_failed),
        T(test_dead_connection_retried_once),
        T(test_query_failed),
        T(test_query_failed_without_sql),
        T(test_query_timeout),
        T(test_timeout_by_message),
        T(test_truncated_result_fails),
        T(test_result_too_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
