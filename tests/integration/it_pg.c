/*
 * it_pg.c - the PostgreSQL driver against a real server: type mapping of every common type
 * (arrays included), parameters, multi-statement rules, CALL, timeouts (server and client
 * side, with the query gone from pg_stat_activity), caps with flat memory, read-only
 * enforcement, connect errors without secrets, DML tags, cancel and lost connections.
 *
 * Each run works in its own schema it_pg_<pid> (dropped at the end); connections reach it
 * through `options` in the URL, which also exercises the merge of user and driver options.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/str.h"
#include "base/time.h"
#include "cqtest.h"
#include "drv/drv.h"
#include "pgcap.h"

#ifdef CQ_WITHOUT_PG
int main(void)
{
    fprintf(stderr, "SKIP: built without the PostgreSQL driver\n");
    return 77;
}
#else

/* ---- helpers ----------------------------------------------------------------------------- */

/* Asserts that a JSON value parses and equals the expected JSON document. */
static void expect_json(const struct cq_test_cap *k, size_t row, size_t col, const char *want)
{
    const struct cq_test_cval *v = cq_test_cap_value(k, row, col);
    json_error_t je;
    assert_int_equal(v->kind, CQ_V_JSON);
    json_t *got = json_loadb(v->p, v->len, JSON_DECODE_ANY, &je);
    json_t *exp = json_loads(want, JSON_DECODE_ANY, &je);
    if (got == NULL || exp == NULL || !json_equal(got, exp)) {
        fail_msg("column %zu (%s): got %s, want %s", col, k->names[col], v->p, want);
    }
    json_decref(got);
    json_decref(exp);
}

static void expect_col(const struct cq_test_cap *k, size_t col, const char *name, const char *type,
                       enum cq_vkind kind)
{
    assert_true(col < k->n_cols);
    assert_string_equal(k->names[col], name);
    assert_string_equal(k->types[col], type);
    assert_int_equal(k->kinds[col], kind);
}

/* Waits until no active backend other than ours runs a query containing marker; returns
 * the ms it took, or -1 after 3 s. */
static long gone_after_ms(struct cq_conn *c, const char *marker)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND "
             "pid <> pg_backend_pid() AND query LIKE '%%%s%%'",
             marker);
    int64_t t0 = cq_now_ms();
    while (cq_now_ms() - t0 < 3000) {
        if (cq_test_scalar_long(c, sql) == 0) {
            return (long)(cq_now_ms() - t0);
        }
        cq_test_sleep_ms(20);
    }
    return -1;
}

/* ---- fixture ----------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    return cq_test_pg_schema_setup("it_pg");
}

/* ---- memory: runs first, so the peak reflects streaming only ------------------------------ */

static void test_stream_2m_rows_flat_memory(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {.count_only = true};
    struct cq_err err = {0};
    /* reset the peak (VmHWM) where the kernel allows it */
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f != NULL) {
        fputs("5", f);
        fclose(f);
    }
    long before = cq_test_peak_rss_kib();
    int64_t t0 = cq_now_ms();
    int rc = cq_test_exec(
        cs->rw, "SELECT g, md5(g::text) AS h, g * 1.5 AS x FROM generate_series(1, 2000000) g", &k,
        &err);
    int64_t took = cq_now_ms() - t0;
    long after = cq_test_peak_rss_kib();
    assert_int_equal(rc, CQ_OK);
    assert_int_equal(k.n_rows, 2000000);
    assert_true(k.ended);
    assert_int_equal(k.info.row_count, 2000000);
    cq_test_cap_free(&k);
    print_message("2M rows in %lld ms, peak RSS %ld -> %ld KiB\n", (long long)took, before, after);
    assert_true(before > 0);
    assert_true(after - before < 40 * 1024);
}

/* ---- types ------------------------------------------------------------------------------- */

static void test_types_numbers(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    int rc = cq_test_exec(
        cs->ro,
        "SELECT 1::int2 AS a, '-2147483648'::int4 AS b, 9223372036854775807::int8 AS c,"
        " 1234567890123456789012345678901234567890.5::numeric AS d, 'NaN'::numeric AS e,"
        " 'Infinity'::float8 AS f, '-Infinity'::float8 AS g, 1e100::float8 AS h,"
        " 0.1::float4 AS i, 26::oid AS j, 1.50::numeric(5,2) AS k, 'NaN'::float8 AS l,"
        " -0.000001::numeric AS m, 1.5e-7::float8 AS n",
        &k, &err);
    assert_int_equal(rc, CQ_OK);
    assert_int_equal(k.n_rows, 1);
    expect_col(&k, 0, "a", "int2", CQ_V_NUMBER);
    expect_col(&k, 1, "b", "int4", CQ_V_NUMBER);
    expect_col(&k, 2, "c", "int8", CQ_V_NUMBER);
    expect_col(&k, 3, "d", "numeric", CQ_V_NUMBER);
    expect_col(&k, 5, "f", "float8", CQ_V_NUMBER);
    expect_col(&k, 8, "i", "float4", CQ_V_NUMBER);
    expect_col(&k, 9, "j", "oid", CQ_V_NUMBER);
    cq_test_cap_expect(&k, 0, 0, CQ_V_NUMBER, "1");
    cq_test_cap_expect(&k, 0, 1, CQ_V_NUMBER, "-2147483648");
    cq_test_cap_expect(&k, 0, 2, CQ_V_NUMBER, "9223372036854775807");
    cq_test_cap_expect(&k, 0, 3, CQ_V_NUMBER, "1234567890123456789012345678901234567890.5");
    cq_test_cap_expect(&k, 0, 4, CQ_V_STRING, "NaN");
    cq_test_cap_expect(&k, 0, 5, CQ_V_STRING, "Infinity");
    cq_test_cap_expect(&k, 0, 6, CQ_V_STRING, "-Infinity");
    cq_test_cap_expect(&k, 0, 7, CQ_V_NUMBER, "1e+100");
    cq_test_cap_expect(&k, 0, 8, CQ_V_NUMBER, "0.1");
    cq_test_cap_expect(&k, 0, 9, CQ_V_NUMBER, "26");
    cq_test_cap_expect(&k, 0, 10, CQ_V_NUMBER, "1.50");
    cq_test_cap_expect(&k, 0, 11, CQ_V_STRING, "NaN");
    cq_test_cap_expect(&k, 0, 12, CQ_V_NUMBER, "-0.000001");
    cq_test_cap_expect(&k, 0, 13, CQ_V_NUMBER, "1.5e-07");
    cq_test_cap_free(&k);
}

static void test_types_bool_text_bytea(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    int rc =
        cq_test_exec(cs->ro,
                     "SELECT true AS t, false AS f, 'h\xc3\xa9llo \xe6\x97\xa5\xe6\x9c\xac "
                     "\xf0\x9f\x98\x80'::text AS u, '\\xdeadbeef'::bytea AS b, 'ab'::char(4) AS c,"
                     " 'v'::varchar(3) AS v, 'nm'::name AS n, E'tab\\there \"q\"' AS e",
                     &k, &err);
    if (rc != CQ_OK) {
        fail_msg("%s", err.msg);
    }
    expect_col(&k, 0, "t", "bool", CQ_V_BOOL);
    cq_test_cap_expect(&k, 0, 0, CQ_V_BOOL, "true");
    cq_test_cap_expect(&k, 0, 1, CQ_V_BOOL, "false");
    expect_col(&k, 2, "u", "text", CQ_V_STRING);
    cq_test_cap_expect(&k, 0, 2, CQ_V_STRING,
                       "h\xc3\xa9llo \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80");
    expect_col(&k, 3, "b", "bytea", CQ_V_STRING);
    cq_test_cap_expect(&k, 0, 3, CQ_V_STRING, "\\xdeadbeef");
    expect_col(&k, 4, "c", "bpchar", CQ_V_STRING);
    cq_test_cap_expect(&k, 0, 4, CQ_V_STRING, "ab  ");
    expect_col(&k, 5, "v", "varchar", CQ_V_STRING);
    expect_col(&k, 6, "n", "name", CQ_V_STRING);
    cq_test_cap_expect(&k, 0, 7, CQ_V_STRING, "tab\there \"q\"");
    cq_test_cap_free(&k);

    /* 10 MB in one value */
    rc = cq_test_exec(cs->ro, "SELECT repeat('x', 10485760) || 'END' AS big", &k, &err);
    assert_int_equal(rc, CQ_OK);
    const struct cq_test_cval *v = cq_test_cap_value(&k, 0, 0);
    assert_int_equal(v->len, 10485760 + 3);
    assert_int_equal(strspn(v->p, "x"), 10485760);
    assert_string_equal(v->p + 10485760, "END");
    cq_test_cap_free(&k);
}

static void test_types_date_time(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    int rc = cq_test_exec(
        cs->ro,
        "SELECT '2024-01-02'::date AS d, 'infinity'::date AS di,"
        " '2024-01-02 03:04:05.123'::timestamp AS ts, '2024-01-02 03:04:05'::timestamp AS ts0,"
        " '2024-01-02 03:04:05.123+00'::timestamptz AS tz, '-infinity'::timestamptz AS tzi,"
        " '0044-03-15 12:00:00 BC'::timestamp AS bc, '03:04:05.5'::time AS t,"
        " '03:04:05+02'::timetz AS ttz, '1 day 02:03:04'::interval AS i,"
        " 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, '10.1.2.3/32'::inet AS ip,"
        " '2024-06-30 23:59:59.999999-07:30'::timestamptz AS tz2",
        &k, &err);
    if (rc != CQ_OK) {
        fail_msg("%s", err.msg);
    }
    expect_col(&k, 0, "d", "date", CQ_V_STRING);
    cq_test_cap_expect(&k, 0, 0, CQ_V_STRING, "2024-01-02");
    cq_test_cap_expect(&k, 0, 1, CQ_V_STRING, "infinity");
    expect_col(&k, 2, "ts", "timestamp", CQ_V_STRING);
    cq_test_cap_expect(&k, 0, 2, CQ_V_STRING, "2024-01-02T03:04:05.123");
    cq_test_cap_expect(&k, 0, 3, CQ_V_STRING, "2024-01-02T03:04:05");
    expect_col(&k, 4, "tz", "timestamptz", CQ_V_STRING);
    cq_test_cap_expect(&k, 0, 4, CQ_V_STRING, "2024-01-02T03:04:05.123+00:00");
    cq_test_cap_expect(&k, 0, 5, CQ_V_STRING, "-infinity");
    cq_test_cap_expect(&k, 0, 6, CQ_V_STRING, "0044-03-15 12:00:00 BC");
    expect_col(&k, 7, "t", "time", CQ_V_STRING);
    cq_test_cap_expect(&k, 0, 7, CQ_V_STRING, "03:04:05.5");
    expect_col(&k, 8, "ttz", "timetz", CQ_V_STRING);
    cq_test_cap_expect(&k, 0, 8, CQ_V_STRING, "03:04:05+02");
    expect_col(&k, 9, "i", "interval", CQ_V_STRING);
    cq_test_cap_expect(&k, 0, 9, CQ_V_STRING, "1 day 02:03:04");
    expect_col(&k, 10, "u", "uuid", CQ_V_STRING);
    cq_test_cap_expect(&k, 0, 10, CQ_V_STRING, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    expect_col(&k, 11, "ip", "inet", CQ_V_STRING);
    cq_test_cap_expect(&k, 0, 11, CQ_V_STRING, "10.1.2.3");
    cq_test_cap_expect(&k, 0, 12, CQ_V_STRING, "2024-07-01T07:29:59.999999+00:00");
    cq_test_cap_free(&k);

    /* offsets in other session time zones: +hh:mm, -hh, and a historical +hh:mm:ss */
    struct cq_test_exec_opts multi = {.multi = true};
    static const struct {
        const char *zone, *want;
    } zones[] = {
        {"Asia/Kolkata", "2024-01-02T08:34:05+05:30"},
        {"America/Sao_Paulo", "2024-01-02T00:04:05-03:00"},
        {"Europe/Amsterdam", "1900-01-01T00:19:32+00:19:32"},
    };
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        char sql[256];
        snprintf(sql, sizeof(sql), "SET TimeZone = '%s'; SELECT '%s'::timestamptz AS z",
                 zones[i].zone, i == 2 ? "1900-01-01 00:00:00+00" : "2024-01-02 03:04:05+00");
        rc = cq_test_exec_opts(cs->ro, sql, &multi, &k, &err);
        if (rc != CQ_OK) {
            fail_msg("%s", err.msg);
        }
        cq_test_cap_expect(&k, 0, 0, CQ_V_STRING, zones[i].want);
        cq_test_cap_free(&k);
    }
}

static void test_types_json(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    int rc = cq_test_exec(cs->ro,
                          "SELECT '{\"b\": 1,  \"a\":[1,2]}'::json AS j,"
                          " '{\"b\":1,\"a\":[true,null,\"x\\\"y\"]}'::jsonb AS jb, '3'::jsonb AS n",
                          &k, &err);
    if (rc != CQ_OK) {
        fail_msg("%s", err.msg);
    }
    expect_col(&k, 0, "j", "json", CQ_V_JSON);
    expect_col(&k, 1, "jb", "jsonb", CQ_V_JSON);
    cq_test_cap_expect(&k, 0, 0, CQ_V_JSON, "{\"b\": 1,  \"a\":[1,2]}"); /* json keeps its text */
    cq_test_cap_expect(&k, 0, 1, CQ_V_JSON, "{\"a\": [true, null, \"x\\\"y\"], \"b\": 1}");
    expect_json(&k, 0, 1, "{\"a\":[true,null,\"x\\\"y\"],\"b\":1}");
    cq_test_cap_expect(&k, 0, 2, CQ_V_JSON, "3");
    cq_test_cap_free(&k);
}

static void test_types_arrays(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    int rc = cq_test_exec(
        cs->ro,
        "SELECT ARRAY[1,2,NULL]::int[] AS i,"
        " ARRAY['a\"b', 'c,d', NULL, 'NULL', '', 'back\\slash', ' sp ', '{x}',"
        "       E'line\\nbreak', '\xc3\xa9\xf0\x9f\x98\x80']::text[] AS t,"
        " '{{1,2},{3,4}}'::int8[] AS m, '[0:1]={1,2}'::int2[] AS b,"
        " ARRAY[true,false] AS bo, ARRAY[1.5,'NaN']::numeric[] AS nu,"
        " ARRAY['{\"a\":1}'::jsonb,'[1]', 'null'] AS jb,"
        " ARRAY['2024-01-02 03:04:05+00'::timestamptz] AS tz,"
        " ARRAY['2024-01-02 03:04:05.5'::timestamp] AS ts,"
        " ARRAY['2024-01-02'::date, NULL] AS d, '{}'::int4[] AS e,"
        " ARRAY['a b', 'x']::varchar[] AS v, ARRAY[1.5, 'Infinity']::float8[] AS f,"
        " '{{\"a\",\"b\"},{NULL,\"d\"}}'::text[] AS t2,"
        " ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid] AS u,"
        " ARRAY['{\"k\": [1, 2]}'::json] AS js, ARRAY['(1,2),(0,0)'::box, '(3,4),(2,2)'] AS bx,"
        " '[1:1][0:1]={{1,2}}'::int[] AS bd",
        &k, &err);
    if (rc != CQ_OK) {
        fail_msg("%s", err.msg);
    }
    expect_col(&k, 0, "i", "_int4", CQ_V_JSON);
    expect_col(&k, 1, "t", "_text", CQ_V_JSON);
    cq_test_cap_expect(&k, 0, 0, CQ_V_JSON, "[1,2,null]");
    expect_json(&k, 0, 1,
                "[\"a\\\"b\",\"c,d\",null,\"NULL\",\"\",\"back\\\\slash\",\" sp \",\"{x}\","
                "\"line\\nbreak\",\"\xc3\xa9\xf0\x9f\x98\x80\"]");
    cq_test_cap_expect(&k, 0, 2, CQ_V_JSON, "[[1,2],[3,4]]");
    cq_test_cap_expect(&k, 0, 3, CQ_V_JSON, "[1,2]");
    cq_test_cap_expect(&k, 0, 4, CQ_V_JSON, "[true,false]");
    cq_test_cap_expect(&k, 0, 5, CQ_V_JSON, "[1.5,\"NaN\"]");
    expect_json(&k, 0, 6, "[{\"a\":1},[1],null]");
    cq_test_cap_expect(&k, 0, 7, CQ_V_JSON, "[\"2024-01-02T03:04:05+00:00\"]");
    cq_test_cap_expect(&k, 0, 8, CQ_V_JSON, "[\"2024-01-02T03:04:05.5\"]");
    cq_test_cap_expect(&k, 0, 9, CQ_V_JSON, "[\"2024-01-02\",null]");
    cq_test_cap_expect(&k, 0, 10, CQ_V_JSON, "[]");
    cq_test_cap_expect(&k, 0, 11, CQ_V_JSON, "[\"a b\",\"x\"]");
    cq_test_cap_expect(&k, 0, 12, CQ_V_JSON, "[1.5,\"Infinity\"]");
    cq_test_cap_expect(&k, 0, 13, CQ_V_JSON, "[[\"a\",\"b\"],[null,\"d\"]]");
    cq_test_cap_expect(&k, 0, 14, CQ_V_JSON, "[\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"]");
    expect_json(&k, 0, 15, "[{\"k\":[1,2]}]");
    cq_test_cap_expect(&k, 0, 16, CQ_V_JSON,
                       "[\"(1,2),(0,0)\",\"(3,4),(2,2)\"]"); /* ';' delimiter */
    cq_test_cap_expect(&k, 0, 17, CQ_V_JSON, "[[1,2]]");
    for (size_t i = 0; i < k.n_cols; i++) {
        json_error_t je;
        json_t *j = json_loadb(cq_test_cap_value(&k, 0, i)->p, cq_test_cap_value(&k, 0, i)->len,
                               JSON_DECODE_ANY, &je);
        if (j == NULL) {
            fail_msg("column %s is not valid JSON: %s", k.names[i], cq_test_cap_value(&k, 0, i)->p);
        }
        json_decref(j);
    }
    cq_test_cap_free(&k);
}

static void test_types_nulls(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    static const char *const types[] = {
        "int2",     "int4",    "int8",  "numeric", "float4",    "float8",      "bool",
        "text",     "varchar", "bytea", "date",    "timestamp", "timestamptz", "time",
        "interval", "uuid",    "json",  "jsonb",   "_int4",     "_text",       "inet"};
    static const char *const casts[] = {
        "int2",     "int4",    "int8",  "numeric", "float4",    "float8",      "bool",
        "text",     "varchar", "bytea", "date",    "timestamp", "timestamptz", "time",
        "interval", "uuid",    "json",  "jsonb",   "int[]",     "text[]",      "inet"};
    char sql[2048] = "SELECT ";
    size_t n = sizeof(types) / sizeof(types[0]);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(sql);
        snprintf(sql + len, sizeof(sql) - len, "%sNULL::%s AS c%zu", i ? ", " : "", casts[i], i);
    }
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    assert_int_equal(cq_test_exec(cs->ro, sql, &k, &err), CQ_OK);
    assert_int_equal(k.n_cols, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(k.types[i], types[i]);
        cq_test_cap_expect(&k, 0, i, CQ_V_NULL, NULL);
    }
    cq_test_cap_free(&k);
}

/* ---- parameters -------------------------------------------------------------------------- */

static void test_params_inferred_and_explicit(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    const struct cq_param inferred[] = {
        {.type = CQ_P_INT, .text = "41", .len = 2},
        {.type = CQ_P_TEXT, .text = "hello", .len = 5},
    };
    struct cq_test_exec_opts o = {.params = inferred, .n_params = 2};
    assert_int_equal(cq_test_exec_opts(cs->ro, "SELECT $1::int + 1 AS x, $2 AS t", &o, &k, &err),
                     CQ_OK);
    expect_col(&k, 0, "x", "int4", CQ_V_NUMBER);
    cq_test_cap_expect(&k, 0, 0, CQ_V_NUMBER, "42");
    expect_col(&k, 1, "t", "text", CQ_V_STRING);
    cq_test_cap_expect(&k, 0, 1, CQ_V_STRING, "hello");
    cq_test_cap_free(&k);

    const struct cq_param ex[] = {
        {CQ_P_INT, true, "5", 1},
        {CQ_P_FLOAT, true, "2.5", 3},
        {CQ_P_NUMERIC, true, "12345678901234567890.123", 24},
        {CQ_P_TEXT, true, "007", 3},
        {CQ_P_BOOL, true, "true", 4},
        {CQ_P_JSON, true, "{\"k\":[1]}", 9},
        {CQ_P_DATE, true, "2024-01-02", 10},
        {CQ_P_TIMESTAMP, true, "2024-01-02T03:04:05", 19},
        {CQ_P_TIMESTAMP, true, "2024-01-02T03:04:05+02:00", 25},
        {CQ_P_NULL, false, NULL, 0},
    };
    o.params = ex;
    o.n_params = 10;
    int rc = cq_test_exec_opts(cs->ro,
                               "SELECT $1 AS a, $2 AS b, $3 AS c, $4 AS d, $5 AS e, $6 AS f,"
                               " $7 AS g, $8 AS h, $9 AS i, $10::int AS j",
                               &o, &k, &err);
    if (rc != CQ_OK) {
        fail_msg("%s", err.msg);
    }
    static const char *const want_types[] = {"int8", "float8", "numeric",   "text",        "bool",
                                             "json", "date",   "timestamp", "timestamptz", "int4"};
    for (size_t i = 0; i < 10; i++) {
        assert_string_equal(k.types[i], want_types[i]);
    }
    cq_test_cap_expect(&k, 0, 0, CQ_V_NUMBER, "5");
    cq_test_cap_expect(&k, 0, 1, CQ_V_NUMBER, "2.5");
    cq_test_cap_expect(&k, 0, 2, CQ_V_NUMBER, "12345678901234567890.123");
    cq_test_cap_expect(&k, 0, 3, CQ_V_STRING, "007");
    cq_test_cap_expect(&k, 0, 4, CQ_V_BOOL, "true");
    cq_test_cap_expect(&k, 0, 5, CQ_V_JSON, "{\"k\":[1]}");
    cq_test_cap_expect(&k, 0, 6, CQ_V_STRING, "2024-01-02");
    cq_test_cap_expect(&k, 0, 7, CQ_V_STRING, "2024-01-02T03:04:05");
    cq_test_cap_expect(&k, 0, 8, CQ_V_STRING, "2024-01-02T01:04:05+00:00");
    cq_test_cap_expect(&k, 0, 9, CQ_V_NULL, NULL);
    cq_test_cap_free(&k);
}

static void test_params_wrong_count(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    const struct cq_param two[] = {{CQ_P_INT, false, "1", 1}, {CQ_P_INT, false, "2", 1}};
    struct cq_test_exec_opts o = {.params = two, .n_params = 2};
    assert_int_equal(cq_test_exec_opts(cs->ro, "SELECT $1, $3", &o, &k, &err), CQ_EINVAL);
    assert_string_equal(err.msg, "statement uses $1..$3 but 2 parameters were given");
    o.n_params = 1;
    assert_int_equal(cq_test_exec_opts(cs->ro, "SELECT 1", &o, &k, &err), CQ_EINVAL);
    assert_string_equal(err.msg, "statement uses no parameters but 1 was given");
    o.n_params = 0;
    assert_int_equal(cq_test_exec_opts(cs->ro, "SELECT $1", &o, &k, &err), CQ_EINVAL);
    assert_string_equal(err.msg, "statement uses $1 but no parameters were given");
    assert_int_equal(k.n_columns_calls, 0); /* nothing reached the sink */
    cq_test_cap_free(&k);
}

static void test_params_type_error_and_syntax(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    assert_int_equal(cq_test_exec(cs->ro, "SELECT 'abc'::int", &k, &err), CQ_EBACKEND);
    assert_string_equal(err.backend_code, "22P02");
    assert_true(cq_has_prefix(
        err.msg, "connection 'ro': ERROR: invalid input syntax for type integer: \"abc\""));
    assert_non_null(strstr(err.msg, "at character 8"));
    const struct cq_param p[] = {{CQ_P_TEXT, false, "abc", 3}};
    struct cq_test_exec_opts o = {.params = p, .n_params = 1};
    assert_int_equal(cq_test_exec_opts(cs->ro, "SELECT $1::int", &o, &k, &err), CQ_EBACKEND);
    assert_string_equal(err.backend_code, "22P02");
    assert_int_equal(cq_test_exec(cs->ro, "SELEC 1", &k, &err), CQ_EBACKEND);
    assert_string_equal(err.backend_code, "42601");
    assert_non_null(strstr(err.msg, "at character 1"));
    assert_int_equal(cq_test_exec(cs->ro, "  -- nothing\n ; ", &k, &err), CQ_EINVAL);
    assert_string_equal(err.msg, "the SQL holds no statement");
    /* the session is fine afterwards */
    assert_int_equal(cq_test_scalar_long(cs->ro, "SELECT 7"), 7);
    cq_test_cap_free(&k);
}

static void test_params_injection_stays_data(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    const char *evil = "'; DROP TABLE victims; --";
    cq_test_must_exec(cs->rw, "CREATE TABLE victims (v text)");
    const struct cq_param p[] = {{CQ_P_TEXT, false, evil, strlen(evil)}};
    struct cq_test_exec_opts o = {.params = p, .n_params = 1};
    assert_int_equal(cq_test_exec_opts(cs->rw, "INSERT INTO victims VALUES ($1)", &o, &k, &err),
                     CQ_OK);
    cq_test_cap_free(&k);
    assert_int_equal(cq_test_exec_opts(cs->rw, "SELECT v FROM victims WHERE v = $1", &o, &k, &err),
                     CQ_OK);
    assert_int_equal(k.n_rows, 1);
    cq_test_cap_expect(&k, 0, 0, CQ_V_STRING, evil);
    cq_test_cap_free(&k);
    assert_int_equal(cq_test_scalar_long(cs->rw, "SELECT count(*) FROM victims"), 1);
    cq_test_must_exec(cs->rw, "DROP TABLE victims");
}

static void test_params_dollar_in_literals(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    assert_int_equal(cq_test_exec(cs->ro,
                                  "SELECT '$1' AS s, $$ $2 $$ AS d, \"?column?\" FROM (SELECT 1) "
                                  "AS x(\"?column?\") -- $3",
                                  &k, &err),
                     CQ_OK);
    cq_test_cap_expect(&k, 0, 0, CQ_V_STRING, "$1");
    cq_test_cap_expect(&k, 0, 1, CQ_V_STRING, " $2 ");
    cq_test_cap_free(&k);
    const struct cq_param p[] = {{CQ_P_INT, false, "7", 1}};
    struct cq_test_exec_opts o = {.params = p, .n_params = 1};
    assert_int_equal(cq_test_exec_opts(cs->ro, "SELECT '$1' AS s, $1::int AS n", &o, &k, &err),
                     CQ_OK);
    cq_test_cap_expect(&k, 0, 0, CQ_V_STRING, "$1");
    cq_test_cap_expect(&k, 0, 1, CQ_V_NUMBER, "7");
    cq_test_cap_free(&k);
}

/* ---- several statements, CALL ---------------------------------------------------------- */

static void test_multi_statements(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    assert_int_equal(cq_test_exec(cs->ro, "SELECT 1; SELECT 2", &k, &err), CQ_EINVAL);
    assert_string_equal(err.msg,
                        "the SQL holds 2 statements; run one at a time or pass --allow-multi");
    assert_int_equal(k.n_columns_calls, 0);

    struct cq_test_exec_opts o = {.multi = true};
    assert_int_equal(
        cq_test_exec_opts(cs->ro, "SELECT 1 AS a; SELECT 2 AS b, 3 AS c;", &o, &k, &err), CQ_OK);
    assert_int_equal(k.n_columns_calls, 1); /* only the last statement reaches the sink */
    expect_col(&k, 0, "b", "int4", CQ_V_NUMBER);
    assert_int_equal(k.n_rows, 1);
    cq_test_cap_expect(&k, 0, 1, CQ_V_NUMBER, "3");
    cq_test_cap_free(&k);

    cq_test_must_exec(cs->rw, "CREATE TABLE m (v text)");
    const struct cq_param p[] = {{CQ_P_TEXT, false, "a", 1}, {CQ_P_TEXT, false, "b", 1}};
    o.params = p;
    o.n_params = 2;
    assert_int_equal(
        cq_test_exec_opts(cs->rw,
                          "INSERT INTO m VALUES ($1); SELECT count(*) FROM m WHERE v IN ($1, $2)",
                          &o, &k, &err),
        CQ_OK);
    cq_test_cap_expect(&k, 0, 0, CQ_V_NUMBER, "1");
    cq_test_cap_free(&k);

    /* a transaction inside one call is fine; one left open is rolled back and refused */
    cq_test_must_exec(cs->rw, "BEGIN; INSERT INTO m VALUES ('c'); COMMIT");
    o.params = NULL;
    o.n_params = 0;
    assert_int_equal(cq_test_exec_opts(cs->rw, "BEGIN; INSERT INTO m VALUES ('d')", &o, &k, &err),
                     CQ_EINVAL);
    assert_string_equal(err.msg,
                        "connection 'rw': transactions cannot span calls; put BEGIN...COMMIT "
                        "in one call with --allow-multi");
    assert_int_equal(cq_test_scalar_long(cs->rw, "SELECT count(*) FROM m WHERE v = 'd'"), 0);
    /* an error in the middle: earlier statements stay committed, later ones never run */
    assert_int_equal(
        cq_test_exec_opts(cs->rw,
                          "INSERT INTO m VALUES ('e'); SELECT 1/0; INSERT INTO m VALUES ('f')", &o,
                          &k, &err),
        CQ_EBACKEND);
    assert_string_equal(err.backend_code, "22012");
    assert_non_null(strstr(err.msg, "[statement 2 of 3]"));
    assert_int_equal(
        cq_test_scalar_long(cs->rw, "SELECT count(*) FROM m WHERE v IN ('a', 'c', 'e')"), 3);
    assert_int_equal(cq_test_scalar_long(cs->rw, "SELECT count(*) FROM m WHERE v = 'f'"), 0);
    assert_int_equal(cq_test_exec_opts(cs->rw,
                                       "BEGIN; INSERT INTO m VALUES ('g'); SELECT 1/0; COMMIT", &o,
                                       &k, &err),
                     CQ_EBACKEND);
    assert_int_equal(cq_test_scalar_long(cs->rw, "SELECT count(*) FROM m WHERE v = 'g'"), 0);
    cq_test_must_exec(cs->rw, "DROP TABLE m");
    cq_test_cap_free(&k);
}

static void test_call_procedure_and_function(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    cq_test_must_exec(cs->rw,
                      "CREATE PROCEDURE addp(a int, b int, INOUT s int) LANGUAGE plpgsql AS $$\n"
                      "BEGIN s := a + b; END; $$");
    cq_test_must_exec(cs->rw,
                      "CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql AS 'SELECT x * 2'");
    cq_test_must_exec(cs->rw,
                      "CREATE TABLE calls (v int); CREATE PROCEDURE ins(x int) LANGUAGE sql AS $$ "
                      "INSERT INTO calls VALUES (x); INSERT INTO calls VALUES (x + 1) $$");
    const struct cq_param p[] = {{CQ_P_INT, false, "2", 1}, {CQ_P_INT, false, "3", 1}};
    struct cq_test_exec_opts o = {.params = p, .n_params = 2};
    int rc = cq_test_exec_opts(cs->rw, "CALL addp($1, $2, NULL)", &o, &k, &err);
    if (rc != CQ_OK) {
        fail_msg("%s", err.msg);
    }
    expect_col(&k, 0, "s", "int4", CQ_V_NUMBER);
    cq_test_cap_expect(&k, 0, 0, CQ_V_NUMBER, "5");
    cq_test_cap_free(&k);
    o.n_params = 1;
    assert_int_equal(cq_test_exec_opts(cs->ro, "SELECT twice($1) AS t", &o, &k, &err), CQ_OK);
    cq_test_cap_expect(&k, 0, 0, CQ_V_NUMBER, "4");
    cq_test_cap_free(&k);
    assert_int_equal(cq_test_exec_opts(cs->rw, "CALL ins($1)", &o, &k, &err), CQ_OK);
    assert_string_equal(k.command, "CALL");
    assert_int_equal(k.n_cols, 0);
    cq_test_cap_free(&k);
    assert_int_equal(cq_test_scalar_long(cs->rw, "SELECT sum(v) FROM calls"), 5);
}

/* ---- timeouts, cancel, lost connection ------------------------------------------------------ */

static const char *const timeout_msg =
    "connection 'rw': statement timed out after 500 ms (raise limits.timeout or pass a larger "
    "--timeout, up to the connection's limit)";

static void test_timeout_server_side(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    char sql[128], marker[64];
    snprintf(marker, sizeof(marker), "it_pg_sleep_%ld", (long)getpid());
    snprintf(sql, sizeof(sql), "SELECT pg_sleep(10) /* %s */", marker);
    struct cq_test_exec_opts o = {.timeout_ms = 500};
    int64_t t0 = cq_now_ms();
    assert_int_equal(cq_test_exec_opts(cs->rw, sql, &o, &k, &err), CQ_ETIMEOUT);
    int64_t took = cq_now_ms() - t0;
    assert_string_equal(err.msg, timeout_msg);
    assert_string_equal(err.backend_code, "57014");
    assert_true(took >= 450 && took < 3000);
    long gone = gone_after_ms(cs->ro, marker);
    assert_true(gone >= 0 && gone <= 1000);
    assert_false(cs->rw->broken);
    /* usable afterwards, with the timeout kept (and changed, and reset) on the session */
    char v[64];
    assert_int_equal(
        cq_test_exec_opts(cs->rw, "SELECT current_setting('statement_timeout')", &o, &k, &err),
        CQ_OK);
    cq_test_cap_expect(&k, 0, 0, CQ_V_STRING, "500ms");
    cq_test_cap_free(&k);
    o.timeout_ms = 1500;
    assert_int_equal(
        cq_test_exec_opts(cs->rw, "SELECT current_setting('statement_timeout')", &o, &k, &err),
        CQ_OK);
    cq_test_cap_expect(&k, 0, 0, CQ_V_STRING, "1500ms");
    cq_test_cap_free(&k);
    cq_test_scalar(cs->rw, "SELECT current_setting('statement_timeout')", v, sizeof(v));
    assert_string_equal(v, "0");
}

static void test_timeout_client_side(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    char sql[160], marker[64];
    /* the statement lifts the server-side limit: only the client deadline is left */
    snprintf(marker, sizeof(marker), "it_pg_client_%ld", (long)getpid());
    snprintf(sql, sizeof(sql), "SET statement_timeout = 0; SELECT pg_sleep(10) /* %s */", marker);
    struct cq_test_exec_opts o = {.timeout_ms = 500, .multi = true};
    assert_int_equal(cq_test_exec_opts(cs->rw, "SELECT 1", &o, &k, &err), CQ_OK); /* SETs 500 */
    cq_test_cap_free(&k);
    int64_t t0 = cq_now_ms();
    assert_int_equal(cq_test_exec_opts(cs->rw, sql, &o, &k, &err), CQ_ETIMEOUT);
    int64_t took = cq_now_ms() - t0;
    assert_string_equal(err.msg, timeout_msg);
    assert_string_equal(err.backend_code, "57014");
    assert_true(took >= 650 && took < 3000);
    long gone = gone_after_ms(cs->ro, marker);
    assert_true(gone >= 0 && gone <= 1000);
    assert_false(cs->rw->broken);
    /* the user's SET made the remembered value stale: it is set again */
    o.multi = false;
    assert_int_equal(
        cq_test_exec_opts(cs->rw, "SELECT current_setting('statement_timeout')", &o, &k, &err),
        CQ_OK);
    cq_test_cap_expect(&k, 0, 0, CQ_V_STRING, "500ms");
    cq_test_cap_free(&k);
}

struct later {
    struct cq_conn *c;
    struct cq_conn *killer;
    char sql[128];
    int rc;
};

static void *cancel_later(void *arg)
{
    struct later *l = arg;
    struct cq_err err = {0};
    cq_test_sleep_ms(300);
    l->rc = cq_drv_cancel(l->c, &err);
    return NULL;
}

static void test_cancel_from_another_thread(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    struct later l = {.c = cs->rw};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, cancel_later, &l), 0);
    int64_t t0 = cq_now_ms();
    assert_int_equal(cq_test_exec(cs->rw, "SELECT pg_sleep(10)", &k, &err), CQ_ECANCELED);
    pthread_join(t, NULL);
    assert_int_equal(l.rc, CQ_OK);
    assert_true(cq_now_ms() - t0 < 3000);
    assert_string_equal(err.msg, "connection 'rw': statement canceled");
    assert_false(cs->rw->broken);
    assert_int_equal(cq_test_scalar_long(cs->rw, "SELECT 5"), 5);
    assert_int_equal(cq_drv_ping(cs->rw, &err), CQ_OK);
}

static void *terminate_later(void *arg)
{
    struct later *l = arg;
    cq_test_sleep_ms(300);
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    struct cq_stmt st = {.sql = l->sql};
    struct cq_rowsink s = cq_test_cap_sink(&k);
    l->rc = cq_drv_exec(l->killer, &st, &s, &err);
    cq_test_cap_free(&k);
    return NULL;
}

static void test_lost_connection(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    struct later l = {.killer = cs->ro};
    char pid[32];
    cq_test_scalar(cs->rw, "SELECT pg_backend_pid()", pid, sizeof(pid));
    snprintf(l.sql, sizeof(l.sql), "SELECT pg_terminate_backend(%s)", pid);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, terminate_later, &l), 0);
    assert_int_equal(cq_test_exec(cs->rw, "SELECT pg_sleep(10)", &k, &err), CQ_ECONNECT);
    pthread_join(t, NULL);
    assert_int_equal(l.rc, CQ_OK);
    assert_true(cs->rw->broken);
    assert_true(err.retryable); /* 57P01 before any row */
    assert_string_equal(err.backend_code, "57P01");
    assert_true(cq_has_prefix(err.msg, "connection 'rw' ("));
    assert_non_null(strstr(err.msg, "lost connection: "));
    assert_int_equal(cq_drv_ping(cs->rw, &err), CQ_ECONNECT);
    assert_int_equal(cq_test_exec(cs->rw, "SELECT 1", &k, &err), CQ_ECONNECT);
    cq_test_cap_free(&k);
}

/* ---- caps -------------------------------------------------------------------------------- */

static void test_caps(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    char marker[64], sql[256];
    snprintf(marker, sizeof(marker), "it_pg_caps_%ld", (long)getpid());
    snprintf(sql, sizeof(sql), "SELECT g FROM generate_series(1, 1e6) g /* %s */", marker);
    struct cq_test_exec_opts o = {.max_rows = 1000};
    int64_t t0 = cq_now_ms();
    assert_int_equal(cq_test_exec_opts(cs->ro, sql, &o, &k, &err), CQ_OK);
    assert_true(cq_now_ms() - t0 < 5000);
    assert_true(k.ended);
    assert_true(k.info.truncated);
    assert_string_equal(k.info.truncated_reason, "max_rows");
    assert_int_equal(k.info.row_count, 1000);
    assert_int_equal(k.n_rows, 1000);
    cq_test_cap_expect(&k, 999, 0, CQ_V_NUMBER, "1000");
    cq_test_cap_free(&k);
    long gone = gone_after_ms(cs->rw, marker);
    assert_true(gone >= 0 && gone <= 1000);
    assert_false(cs->ro->broken);
    assert_int_equal(cq_test_scalar_long(cs->ro, "SELECT 3"), 3);

    o = (struct cq_test_exec_opts){.max_bytes = 10000};
    assert_int_equal(cq_test_exec_opts(cs->ro, sql, &o, &k, &err), CQ_OK);
    assert_true(k.info.truncated);
    assert_string_equal(k.info.truncated_reason, "max_bytes");
    assert_true(k.n_rows > 100 && k.n_rows < 10000);
    cq_test_cap_free(&k);

    /* a capped statement with side effects is not canceled: all 50 rows are inserted */
    cq_test_must_exec(cs->rw, "CREATE TABLE capt (v int)");
    o = (struct cq_test_exec_opts){.max_rows = 2};
    assert_int_equal(cq_test_exec_opts(cs->rw,
                                       "INSERT INTO capt SELECT g FROM generate_series(1, 50) g "
                                       "RETURNING v",
                                       &o, &k, &err),
                     CQ_OK);
    assert_true(k.info.truncated);
    assert_int_equal(k.n_rows, 2);
    assert_int_equal(k.info.rows_affected, 50);
    assert_string_equal(k.command, "INSERT 0 50");
    cq_test_cap_free(&k);
    assert_int_equal(cq_test_scalar_long(cs->rw, "SELECT count(*) FROM capt"), 50);

    /* a failing sink stops the stream the same way and its error comes back */
    k.fail_at_row = 5;
    assert_int_equal(cq_test_exec(cs->ro, sql, &k, &err), CQ_EIO);
    assert_string_equal(err.msg, "test sink: write failed");
    assert_int_equal(k.n_rows, 4);
    assert_false(k.ended);
    cq_test_cap_free(&k);
    assert_false(cs->ro->broken);
    assert_int_equal(cq_test_scalar_long(cs->ro, "SELECT 4"), 4);
}

/* ---- read-only --------------------------------------------------------------------------- */

static void expect_readonly(struct cq_conn *ro, const char *sql, bool multi, const char *msg)
{
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    struct cq_test_exec_opts o = {.multi = multi};
    int rc = cq_test_exec_opts(ro, sql, &o, &k, &err);
    if (rc != CQ_EREADONLY) {
        fail_msg("%s: rc %d: %s", sql, rc, err.msg);
    }
    if (!cq_has_prefix(err.msg, msg)) {
        fail_msg("%s: message '%s' does not start with '%s'", sql, err.msg, msg);
    }
    assert_false(k.ended);
    cq_test_cap_free(&k);
}

static void test_read_only(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    char v[32];
    cq_test_must_exec(cs->rw, "CREATE TABLE ro_t (v int); INSERT INTO ro_t VALUES (1)");
    static const char *const writes[] = {
        "INSERT INTO ro_t VALUES (2)", "UPDATE ro_t SET v = 3", "DELETE FROM ro_t",
        "CREATE TABLE ro_new (v int)", "DROP TABLE ro_t",
    };
    for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        expect_readonly(cs->ro, writes[i], false, "connection 'ro' is read-only: cannot execute ");
    }
    expect_readonly(
        cs->ro, "SET default_transaction_read_only = off", false,
        "connection 'ro' is read-only: default_transaction_read_only cannot be changed");
    cq_test_scalar(cs->ro, "SHOW default_transaction_read_only", v, sizeof(v));
    assert_string_equal(v, "on");
    expect_readonly(cs->ro, "INSERT INTO ro_t VALUES (4)", false, "connection 'ro' is read-only: ");
    expect_readonly(cs->ro, "SELECT set_config('default_transaction_read_only', 'off', false)",
                    false, "connection 'ro' is read-only: ");
    expect_readonly(cs->ro, "BEGIN", false,
                    "connection 'ro' is read-only: transaction control is not allowed");
    assert_int_equal(cq_test_scalar_long(cs->ro, "SELECT count(*) FROM ro_t"), 1); /* idle again */
    expect_readonly(cs->ro, "BEGIN READ WRITE; INSERT INTO ro_t VALUES (5); COMMIT", true,
                    "connection 'ro' is read-only: transaction control is not allowed");
    expect_readonly(cs->ro,
                    "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE; "
                    "INSERT INTO ro_t VALUES (6)",
                    true, "connection 'ro' is read-only: ");
    expect_readonly(cs->ro, "SET default_transaction_read_only = off; INSERT INTO ro_t VALUES (7)",
                    true, "connection 'ro' is read-only: ");
    assert_int_equal(cq_test_scalar_long(cs->rw, "SELECT count(*) FROM ro_t"), 1);
    assert_int_equal(cq_test_scalar_long(cs->rw, "SELECT sum(v) FROM ro_t"), 1);
    assert_false(cs->ro->broken);
    struct cq_err err = {0};
    struct cq_test_cap k = {0};
    assert_int_equal(cq_test_exec(cs->ro, "INSERT INTO ro_t VALUES (8)", &k, &err), CQ_EREADONLY);
    assert_string_equal(err.backend_code, "25006");
    assert_string_equal(err.msg, "connection 'ro' is read-only: cannot execute INSERT in a "
                                 "read-only transaction (use a connection with read_only: false "
                                 "for writes)");
    cq_test_cap_free(&k);
}

/* ---- connect ----------------------------------------------------------------------------- */

static void test_connect_errors(void **state)
{
    (void)state;
    struct cq_err err = {0};
    static const char *const targets[] = {
        "postgresql://u:s3cretpw@127.0.0.1:1/x",
        "host=127.0.0.1 port=1 user=u password=s3cretpw dbname=x",
        "host=127.0.0.1 port=1 s3cretpw",
    };
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        cq_err_clear(&err);
        assert_null(cq_test_pg_connect("bad", targets[i], true, &err));
        assert_int_equal(err.rc, CQ_ECONNECT);
        print_message("%s\n", err.msg);
        assert_true(cq_has_prefix(err.msg, "connection 'bad'"));
        if (i < 2) { /* the unparseable one cannot name its host safely */
            assert_non_null(strstr(err.msg, "127.0.0.1"));
        }
        assert_null(strstr(err.msg, "s3cretpw"));
    }

    /* refused by the server: an authentication error with its SQLSTATE */
    char url[1024];
    const char *at = strchr(cq_test_pg_base_dsn(), '@');
    const char *hostpart = at != NULL ? at + 1 : cq_test_pg_base_dsn() + strlen("postgresql://");
    snprintf(url, sizeof(url), "postgresql://nosuchrole_%ld:pw12345@%s", (long)getpid(), hostpart);
    cq_err_clear(&err);
    assert_null(cq_test_pg_connect("auth", url, false, &err));
    print_message("%s\n", err.msg);
    assert_int_equal(err.rc, CQ_EAUTH);
    assert_string_equal(err.backend_code, "28000");
    assert_non_null(strstr(err.msg, "nosuchrole_"));
    assert_null(strstr(err.msg, "pw12345"));
    assert_false(err.retryable);

    /* a deadline on connecting (a blackhole address, or an immediate refusal) */
    struct cq_dsn dsn = {
        .name = "slow", .target = "postgresql://u@10.255.255.1:5432/x", .connect_timeout_ms = 300};
    cq_err_clear(&err);
    int64_t t0 = cq_now_ms();
    assert_null(cq_drv_connect(&cq_drv_pg, &dsn, &err));
    assert_true(cq_now_ms() - t0 < 2000);
    assert_int_equal(err.rc, CQ_ECONNECT);
}

/* ---- DML, ping, version -------------------------------------------------------------------- */

static void test_dml_tags_ping_version(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    assert_int_equal(cq_test_exec(cs->rw, "CREATE TABLE dml (v int)", &k, &err), CQ_OK);
    assert_string_equal(k.command, "CREATE TABLE");
    assert_int_equal(k.info.rows_affected, -1);
    assert_int_equal(k.n_columns_calls, 1);
    assert_int_equal(k.n_cols, 0);
    cq_test_cap_free(&k);
    assert_int_equal(cq_test_exec(cs->rw, "INSERT INTO dml VALUES (1), (2), (3)", &k, &err), CQ_OK);
    assert_string_equal(k.command, "INSERT 0 3");
    assert_int_equal(k.info.rows_affected, 3);
    cq_test_cap_free(&k);
    assert_int_equal(cq_test_exec(cs->rw, "UPDATE dml SET v = v + 10 WHERE v < 3", &k, &err),
                     CQ_OK);
    assert_string_equal(k.command, "UPDATE 2");
    assert_int_equal(k.info.rows_affected, 2);
    cq_test_cap_free(&k);
    assert_int_equal(cq_test_exec(cs->rw, "DELETE FROM dml WHERE v > 10 RETURNING v", &k, &err),
                     CQ_OK);
    assert_string_equal(k.command, "DELETE 2");
    assert_int_equal(k.info.rows_affected, 2);
    assert_int_equal(k.n_rows, 2);
    cq_test_cap_free(&k);
    assert_int_equal(cq_test_exec(cs->rw, "SELECT v FROM dml", &k, &err), CQ_OK);
    assert_string_equal(k.command, "SELECT 1");
    assert_int_equal(k.info.rows_affected, -1);
    assert_int_equal(k.info.row_count, 1);
    assert_true(k.info.elapsed_ms >= 0);
    cq_test_cap_free(&k);

    assert_int_equal(cq_drv_ping(cs->rw, &err), CQ_OK);
    char ver[128];
    assert_int_equal(cs->rw->drv->ops->server_version(cs->rw, ver, sizeof(ver), &err), CQ_OK);
    assert_true(cq_has_prefix(ver, "PostgreSQL 1"));
    assert_string_equal(cq_drv_pg.name, "postgres");
    assert_int_equal(cq_drv_pg.dialect, CQ_DIALECT_PG);
    assert_int_equal(cq_drv_pg.caps,
                     CQ_CAP_PARAMS | CQ_CAP_TX | CQ_CAP_CANCEL | CQ_CAP_STREAM | CQ_CAP_ASYNC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CQ_TEST_PG(test_stream_2m_rows_flat_memory),
        CQ_TEST_PG(test_types_numbers),
        CQ_TEST_PG(test_types_bool_text_bytea),
        CQ_TEST_PG(test_types_date_time),
        CQ_TEST_PG(test_types_json),
        CQ_TEST_PG(test_types_arrays),
        CQ_TEST_PG(test_types_nulls),
        CQ_TEST_PG(test_params_inferred_and_explicit),
        CQ_TEST_PG(test_params_wrong_count),
        CQ_TEST_PG(test_params_type_error_and_syntax),
        CQ_TEST_PG(test_params_injection_stays_data),
        CQ_TEST_PG(test_params_dollar_in_literals),
        CQ_TEST_PG(test_multi_statements),
        CQ_TEST_PG(test_call_procedure_and_function),
        CQ_TEST_PG(test_timeout_server_side),
        CQ_TEST_PG(test_timeout_client_side),
        CQ_TEST_PG(test_cancel_from_another_thread),
        CQ_TEST_PG(test_lost_connection),
        CQ_TEST_PG(test_caps),
        CQ_TEST_PG(test_read_only),
        cmocka_unit_test(test_connect_errors),
        CQ_TEST_PG(test_dml_tags_ping_version),
    };
    return cmocka_run_group_tests(tests, group_setup, cq_test_pg_schema_teardown);
}
#endif
