/*
 * it_dsl_sql.c - every golden pg.sql (tests/golden/dsl/<case>/pg.sql) runs on a real
 * PostgreSQL: a throwaway database it_dsl_sql_<pid> gets the fixture's tables (the schemas
 * of tests/golden/dsl/catalog.json, the replicas of its externalSyncs and the tables cases
 * add in options.json), one row each, and the fuzzystrmatch extension; each statement is
 * then executed with its parameters bound as text, the way the executor binds them (an
 * array as an array literal). So the generated SQL is proven to parse, type-check and run,
 * not only to match the expected text. The database is dropped at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "cqtest.h"
#include "httptest.h"

static PGconn *conn;
static char root[1024];

struct pgcase {
    char *name;
    char *sql;        /* line 1 of pg.sql */
    json_t *params;   /* line 2 */
};

/* ---- helpers ---------------------------------------------------------------------------- */

/* ---- the fixture schema ------------------------------------------------------------------- */

static const char *pg_type(const char *t)
{
    static const char *const map[][2] = {
        {"string", "text"},          {"int", "integer"},       {"decimal", "numeric"},
        {"boolean", "boolean"},      {"uuid", "uuid"},         {"date", "date"},
        {"timestamp", "timestamp"},  {"string[]", "text[]"},   {"int[]", "integer[]"},
        {"decimal[]", "numeric[]"},  {"boolean[]", "boolean[]"}, {"uuid[]", "uuid[]"},
        {"date[]", "date[]"},        {"timestamp[]", "timestamp[]"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(map[i][0], t) == 0) {
            return map[i][1];
        }
    }
    fail_msg("unknown column type %s", t);
    return NULL;
}

static const char *sample(const char *t)
{
    static const char *const map[][2] = {
        {"string", "'Abc%_x'"},      {"int", "1"},           {"decimal", "1.5"},
        {"boolean", "true"},         {"uuid", "'00000000-0000-0000-0000-000000000001'"},
        {"date", "'2024-01-15'"},    {"timestamp", "'2024-01-15 10:00:00'"},
        {"string[]", "'{a,b}'"},     {"int[]", "'{1,2}'"},   {"decimal[]", "'{1.5,2}'"},
        {"boolean[]", "'{true,false}'"},
        {"uuid[]", "'{00000000-0000-0000-0000-000000000001}'"},
        {"date[]", "'{2024-01-15}'"}, {"timestamp[]", "'{\"2024-01-15 10:00:00\"}'"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(map[i][0], t) == 0) {
            return map[i][1];
        }
    }
    return "NULL";
}

/* CREATE SCHEMA IF NOT EXISTS / CREATE TABLE / one row for table `t` named `phys`. */
static void make_table(const json_t *t, const char *phys)
{
    const char *dot = strchr(phys, '.');
    const json_t *cols = json_object_get(t, "columns");
    struct cq_buf b;
    size_t i;
    json_t *c;

    assert_non_null(dot);
    cq_buf_init(&b, 1 << 20);
    cq_buf_puts(&b, "CREATE SCHEMA IF NOT EXISTS ");
    cq_test_quote_ident(&b, phys, (size_t)(dot - phys));
    cq_buf_puts(&b, "; CREATE TABLE IF NOT EXISTS ");
    cq_test_quote_ident(&b, phys, (size_t)(dot - phys));
    cq_buf_putc(&b, '.');
    cq_test_quote_ident(&b, dot + 1, strlen(dot + 1));
    cq_buf_puts(&b, " (");
    json_array_foreach(cols, i, c) {
        const char *p = json_string_value(json_object_get(c, "physicalName"));
        cq_buf_puts(&b, i ? ", " : "");
        cq_test_quote_ident(&b, p, strlen(p));
        cq_buf_printf(&b, " %s", pg_type(json_string_value(json_object_get(c, "type"))));
    }
    cq_buf_puts(&b, "); INSERT INTO ");
    cq_test_quote_ident(&b, phys, (size_t)(dot - phys));
    cq_buf_putc(&b, '.');
    cq_test_quote_ident(&b, dot + 1, strlen(dot + 1));
    cq_buf_puts(&b, " VALUES (");
    json_array_foreach(cols, i, c) {
        cq_buf_puts(&b, i ? ", " : "");
        cq_buf_puts(&b, sample(json_string_value(json_object_get(c, "type"))));
    }
    cq_buf_puts(&b, ")");
    assert_int_equal(cq_buf_rc(&b), 0);
    cq_test_pg_exec(conn, cq_buf_str(&b));
    cq_buf_cleanup(&b);
}

static void make_schema(const json_t *tables, const json_t *syncs)
{
    size_t i, k;
    json_t *t, *s;

    cq_test_pg_exec(conn, "CREATE EXTENSION IF NOT EXISTS fuzzystrmatch");
    json_array_foreach(tables, i, t) {
        make_table(t, json_string_value(json_object_get(t, "physicalName")));
    }
    json_array_foreach(syncs, i, s) {
        json_array_foreach(tables, k, t) {
            if (json_equal(json_object_get(t, "id"), json_object_get(s, "sourceTable"))) {
                make_table(t, json_string_value(json_object_get(s, "targetPhysicalName")));
            }
        }
    }
}

/* ---- parameters ------------------------------------------------------------------------- */

/* A scalar as PostgreSQL text (NULL for JSON null). */
static char *scalar_text(const json_t *v)
{
    char tmp[64];

    if (json_is_null(v)) {
        return NULL;
    }
    if (json_is_true(v) || json_is_false(v)) {
        return strdup(json_is_true(v) ? "true" : "false");
    }
    if (json_is_integer(v)) {
        snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(v));
        return strdup(tmp);
    }
    if (json_is_real(v)) {
        snprintf(tmp, sizeof(tmp), "%.17g", json_real_value(v));
        return strdup(tmp);
    }
    if (json_is_string(v)) {
        return strdup(json_string_value(v));
    }
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* An array as a PostgreSQL array literal: {"a","b\"c",NULL,1}. */
static char *array_text(const json_t *v)
{
    struct cq_buf b;
    size_t i;
    json_t *e;
    char *out;

    cq_buf_init(&b, 1 << 20);
    cq_buf_putc(&b, '{');
    json_array_foreach(v, i, e) {
        char *s = scalar_text(e);
        cq_buf_puts(&b, i ? "," : "");
        if (s == NULL) {
            cq_buf_puts(&b, "NULL");
            continue;
        }
        cq_buf_putc(&b, '"');
        for (const char *p = s; *p != '\0'; p++) {
            if (*p == '"' || *p == '\\') {
                cq_buf_putc(&b, '\\');
            }
            cq_buf_putc(&b, *p);
        }
        cq_buf_putc(&b, '"');
        free(s);
    }
    cq_buf_putc(&b, '}');
    out = strdup(cq_buf_str(&b));
    cq_buf_cleanup(&b);
    return out;
}

/* ---- the test ---------------------------------------------------------------------------- */

static void runs_on_postgres(void **state)
{
    const struct pgcase *pc = *state;
    size_t n = json_array_size(pc->params);
    char **vals = calloc(n + 1, sizeof(*vals));
    PGresult *r;

    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(pc->params, i);
        vals[i] = json_is_array(v) ? array_text(v) : scalar_text(v);
    }
    r = PQexecParams(conn, pc->sql, (int)n, NULL, (const char *const *)vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fail_msg("%s: pg.sql fails on PostgreSQL: %s\n  %s", pc->name, PQresultErrorMessage(r),
                 pc->sql);
    }
    PQclear(r);
    for (size_t i = 0; i < n; i++) {
        free(vals[i]);
    }
    free(vals);
}

/* Loads <case>/pg.sql when it holds SQL (not "error: ..."); false otherwise. */
static bool load_case(const char *name, struct pgcase *pc)
{
    char path[2048];
    char *text, *nl;
    json_error_t je;

    snprintf(path, sizeof(path), "%s/%s/pg.sql", root, name);
    text = cq_test_read_file(path);
    if (text == NULL || strncmp(text, "error: ", 7) == 0) {
        free(text);
        return false;
    }
    nl = strchr(text, '\n');
    assert_non_null(nl);
    *nl = '\0';
    if (strncmp(nl + 1, "params: ", 8) != 0) {
        fail_msg("%s: pg.sql line 2 must start with 'params: '", name);
    }
    pc->params = json_loads(nl + 9, JSON_DECODE_ANY, &je);
    if (pc->params == NULL) {
        fail_msg("%s: bad params: %s", name, je.text);
    }
    pc->name = strdup(name);
    pc->sql = strdup(text);
    free(text);
    return true;
}

/* The fixture tables plus every table a case adds (options.json addTables, by id). */
static json_t *all_tables(const json_t *fixture, char **names, size_t n)
{
    json_t *tables = json_deep_copy(json_object_get(json_object_get(fixture, "metadata"),
                                                    "tables"));
    for (size_t i = 0; i < n; i++) {
        char path[2048];
        json_t *opts, *t;
        size_t k;
        snprintf(path, sizeof(path), "%s/%s/options.json", root, names[i]);
        opts = json_load_file(path, 0, NULL);
        json_array_foreach(json_object_get(opts, "addTables"), k, t) {
            bool have = false;
            size_t j;
            json_t *o;
            json_array_foreach(tables, j, o) {
                have |= json_equal(json_object_get(o, "id"), json_object_get(t, "id"));
            }
            if (!have) {
                json_array_append(tables, t);
            }
        }
        json_decref(opts);
    }
    return tables;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    const char *dsn = cq_test_require("CQ_IT_PG_DSN");
    const char *src = getenv("CQ_SOURCE_DIR");
    char dbname[64], sql[256], catalog[1200];
    const char *keys[] = {"dbname", "dbname", NULL};
    const char *vals[] = {dsn, dbname, NULL};
    PGconn *admin;
    json_t *fixture, *tables;
    DIR *d;
    struct dirent *ent;
    char **names = NULL;
    size_t n = 0, n_cases = 0;
    struct pgcase *cases;
    struct CMUnitTest *tests;
    int failed;

    snprintf(root, sizeof(root), "%s/tests/golden/dsl", src != NULL ? src : "../..");
    snprintf(catalog, sizeof(catalog), "%s/catalog.json", root);
    fixture = json_load_file(catalog, 0, NULL);
    if (fixture == NULL) {
        fprintf(stderr, "cannot load %s (set CQ_SOURCE_DIR)\n", catalog);
        return 1;
    }
    admin = PQconnectdb(dsn);
    if (PQstatus(admin) != CONNECTION_OK) {
        fprintf(stderr, "connect: %s", PQerrorMessage(admin));
        return 1;
    }
    snprintf(dbname, sizeof(dbname), "it_dsl_sql_%d", (int)getpid());
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
    PQclear(PQexec(admin, sql));
    conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "connect %s: %s", dbname, PQerrorMessage(conn));
        return 1;
    }
    PQclear(PQexec(conn, "SET client_min_messages = warning"));

    d = opendir(root);
    while (d != NULL && (ent = readdir(d)) != NULL) {
        if (ent->d_name[0] != '.' && strcmp(ent->d_name, "catalog.json") != 0) {
            names = realloc(names, (n + 1) * sizeof(*names));
            names[n++] = strdup(ent->d_name);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    qsort(names, n, sizeof(*names), by_name);
    tables = all_tables(fixture, names, n);
    make_schema(tables,
                json_object_get(json_object_get(fixture, "metadata"), "externalSyncs"));
    cases = calloc(n + 1, sizeof(*cases));
    tests = calloc(n + 1, sizeof(*tests));
    for (size_t i = 0; i < n; i++) {
        if (load_case(names[i], &cases[n_cases])) {
            tests[n_cases].name = cases[n_cases].name;
            tests[n_cases].test_func = runs_on_postgres;
            tests[n_cases].initial_state = &cases[n_cases];
            n_cases++;
        }
    }
    failed = _cmocka_run_group_tests("dsl_sql_pg", tests, n_cases, NULL, NULL);

    PQfinish(conn);
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", dbname);
    PQclear(PQexec(admin, sql));
    PQfinish(admin);
    for (size_t i = 0; i < n_cases; i++) {
        free(cases[i].name);
        free(cases[i].sql);
        json_decref(cases[i].params);
    }
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    free(cases);
    free(tests);
    json_decref(tables);
    json_decref(fixture);
    return failed;
}
