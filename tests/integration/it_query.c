/*
 * it_query.c - governed queries executed for real: the whole pipeline (parse, validate,
 * plan, generate, execute, re-key, mask) against PostgreSQL and against a SQLite file
 * seeded with the same multi-tenant rows (tests/integration/query_seed/), and `clariq
 * query` end to end on the embedded demo with no configuration at all.
 *
 * Every check that could be computed some other way is compared with an oracle: the same
 * question asked in plain SQL on the same database. PostgreSQL data lives in the schema
 * it_query_<pid>, dropped at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/buf.h"
#include "cqtest.h"
#include "drv/drv.h"
#include "drv/pool.h"
#include "dsl/dsl.h"

/* One database the catalog runs on. */
struct backend {
    const char *label;           /* "postgres" / "sqlite": the engine and dialect name */
    struct cq_conn_conf cc;      /* the pool's connection */
    struct cq_pool *pool;
    struct cq_conn *rw;          /* seeding and oracles */
    struct cq_dsl_catalog *cat;
    int64_t timeout_ms;          /* statement timeout given to execution */
};

struct fx {
    char schema[64];
    char *tmpdir;
    char pg_url[1024];
    char sqlite_path[1024];
    struct backend be[2];        /* postgres, sqlite */
};

/* ---- small helpers ----------------------------------------------------------------------- */

static char *read_seed(const char *name)
{
    const char *dir = getenv("CQ_SOURCE_DIR");
    char path[2048];
    FILE *f;
    char *text;
    long len;
    snprintf(path, sizeof(path), "%s/tests/integration/query_seed/%s", dir ? dir : ".", name);
    f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("cannot open %s", path);
    }
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = calloc(1, (size_t)len + 1);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return text;
}

/* Replaces every {key} of text by its value (pairs NULL-terminated); malloc'ed. */
static char *subst(const char *text, const char *const *pairs)
{
    struct cq_buf b;
    cq_buf_init(&b, 1 << 24);
    for (const char *p = text; *p != '\0';) {
        bool done = false;
        for (size_t i = 0; pairs[i] != NULL && !done; i += 2) {
            size_t n = strlen(pairs[i]);
            if (strncmp(p, pairs[i], n) == 0) {
                cq_buf_puts(&b, pairs[i + 1]);
                p += n;
                done = true;
            }
        }
        if (!done) {
            cq_buf_putc(&b, *p++);
        }
    }
    char *s = strdup(cq_buf_str(&b));
    cq_buf_cleanup(&b);
    return s;
}

static void must_exec(struct cq_conn *c, const char *sql)
{
    struct cq_err err = {0};
    struct cq_stmt st = {.sql = sql, .allow_multi = true};
    if (cq_drv_exec(c, &st, &cq_drv_discard_sink, &err) != CQ_OK) {
        fail_msg("%s: %s", sql, err.msg);
    }
}

/* Collects the first column of every row as text (oracles). */
struct col0 {
    char vals[64][128];
    size_t n;
};

static int c0_columns(void *ctx, size_t n, const struct cq_col *cols, struct cq_err *err)
{
    (void)ctx, (void)n, (void)cols, (void)err;
    return CQ_OK;
}

static int c0_row(void *ctx, size_t n, const struct cq_value *v, struct cq_err *err)
{
    struct col0 *k = ctx;
    (void)err;
    if (n > 0 && k->n < 64) {
        snprintf(k->vals[k->n++], sizeof(k->vals[0]), "%.*s", (int)v[0].len,
                 v[0].p ? v[0].p : "null");
    }
    return CQ_OK;
}

static int c0_end(void *ctx, const struct cq_result_info *info, struct cq_err *err)
{
    (void)ctx, (void)info, (void)err;
    return CQ_OK;
}

/* The first column of an oracle query's rows joined with ',' (sql uses {s} for the
 * table prefix: "schema." on PostgreSQL, "" on SQLite). */
static void oracle(struct fx *x, struct backend *be, const char *sql, char *out, size_t size)
{
    char prefix[80];
    snprintf(prefix, sizeof(prefix), "%s.", be == &x->be[0] ? x->schema : "main");
    const char *pairs[] = {"{s}", prefix, NULL};
    char *q = subst(sql, pairs);
    struct col0 k = {0};
    struct cq_rowsink sink = {&k, c0_columns, c0_row, c0_end};
    struct cq_stmt st = {.sql = q};
    struct cq_err err = {0};
    if (cq_drv_exec(be->rw, &st, &sink, &err) != CQ_OK) {
        fail_msg("oracle %s: %s", q, err.msg);
    }
    out[0] = '\0';
    for (size_t i = 0; i < k.n; i++) {
        snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? "," : "", k.vals[i]);
    }
    free(q);
}

/* ---- running governed queries ------------------------------------------------------------- */

static int env_acquire(void *ctx, const char *conn, struct cq_conn **out, struct cq_err *err)
{
    struct backend *be = ctx;
    if (strcmp(conn, be->cc.name) != 0) {
        return cq_err_set(err, CQ_ENOTFOUND, "no connection '%s'", conn);
    }
    return cq_drv_pool_get(be->pool, out, err);
}

static void env_release(void *ctx, struct cq_conn *c)
{
    struct backend *be = ctx;
    cq_drv_pool_put(be->pool, c);
}

static void env_limits(void *ctx, const char *conn, struct cq_limits *out)
{
    struct backend *be = ctx;
    (void)conn;
    out->timeout_ms = be->timeout_ms;
}

struct res {
    int rc;
    enum cq_dsl_eclass cls;
    json_t *doc;                 /* the result, or the error body */
};

/* Runs a /query body (roles and context inline) on be. */
static struct res run(struct backend *be, const char *body)
{
    struct cq_arena a;
    struct cq_dsl_query *q = NULL;
    struct cq_dsl_context ctx;
    struct cq_dsl_compiled c;
    struct cq_dsl_opts opts = {0};
    struct cq_dsl_error e = {0};
    struct cq_dsl_exec_env env = {.ctx = be, .acquire = env_acquire, .release = env_release,
                                  .limits = env_limits, .include_sql_in_errors = true};
    struct cq_buf out;
    struct res r = {0};
    json_error_t je;
    json_t *req = json_loads(body, 0, &je);
    if (req == NULL) {
        fail_msg("bad test JSON (%s): %s", je.text, body);
    }
    cq_arena_init(&a, 16384, 0);
    cq_buf_init(&out, 1 << 24);
    memset(&c, 0, sizeof(c));
    r.rc = cq_dsl_parse_request(&a, req, true, &q, &ctx, &e);
    if (r.rc == CQ_OK) {
        r.rc = cq_dsl_compile(be->cat, q, &ctx, &opts, &a, &c, &e);
    }
    if (r.rc == CQ_OK) {
        r.rc = cq_dsl_execute(&c, &env, &out, &e);
    }
    if (r.rc == CQ_OK) {
        r.doc = json_loads(cq_buf_str(&out), JSON_DECODE_INT_AS_REAL, &je);
        if (r.doc == NULL) {
            fail_msg("result is not JSON (%s): %s", je.text, cq_buf_str(&out));
        }
    } else {
        r.cls = e.cls;
        r.doc = json_incref(e.body);
    }
    cq_dsl_error_cleanup(&e);
    cq_buf_cleanup(&out);
    cq_arena_free(&a);
    json_decref(req);
    return r;
}

static json_t *run_ok(struct backend *be, const char *body)
{
    struct res r = run(be, body);
    if (r.rc != CQ_OK) {
        char *s = json_dumps(r.doc, JSON_COMPACT);
        fail_msg("[%s] %s\n  failed: %s", be->label, body, s);
    }
    return r.doc;
}

/* The given key of every data row, as text joined with ','. */
static void column_of(json_t *doc, const char *key, char *out, size_t size)
{
    json_t *rows = json_object_get(doc, "data"), *row;
    size_t i;
    out[0] = '\0';
    json_array_foreach(rows, i, row) {
        json_t *v = json_object_get(row, key);
        char tmp[128];
        if (json_is_string(v)) {
            snprintf(tmp, sizeof(tmp), "%s", json_string_value(v));
        } else if (json_is_number(v)) {
            snprintf(tmp, sizeof(tmp), "%.15g", json_number_value(v));
        } else if (json_is_true(v) || json_is_false(v)) {
            snprintf(tmp, sizeof(tmp), "%s", json_is_true(v) ? "true" : "false");
        } else if (v == NULL) {
            snprintf(tmp, sizeof(tmp), "(absent)");
        } else {
            snprintf(tmp, sizeof(tmp), "null");
        }
        snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? "," : "", tmp);
    }
}

static void expect_ids(struct fx *x, struct backend *be, const char *body, const char *key,
                       const char *oracle_sql)
{
    char got[2048], want[2048];
    json_t *doc = run_ok(be, body);
    column_of(doc, key, got, sizeof(got));
    oracle(x, be, oracle_sql, want, sizeof(want));
    if (strcmp(got, want) != 0) {
        fail_msg("[%s] %s\n  got  %s\n  want %s", be->label, body, got, want);
    }
    json_decref(doc);
}

static json_t *row_at(json_t *doc, size_t i)
{
    return json_array_get(json_object_get(doc, "data"), i);
}

static const char *str_at(json_t *row, const char *key)
{
    json_t *v = json_object_get(row, key);
    if (!json_is_string(v)) {
        fail_msg("%s is not a string", key);
    }
    return json_string_value(v);
}

#define ADMIN "\"context\":{\"roles\":{\"user\":[\"admin\"]}}"

/* ---- setup ---------------------------------------------------------------------------------- */

static void build_catalog(struct fx *x, struct backend *be, const char *schema)
{
    const char *pairs[] = {"{schema}", schema, "{engine}", be->label, "{conn}", be->cc.name,
                           NULL};
    char *tmpl = read_seed("catalog.json"), *meta_text = subst(tmpl, pairs);
    char *roles_text = read_seed("roles.json");
    json_error_t je;
    json_t *meta = json_loads(meta_text, 0, &je), *roles = json_loads(roles_text, 0, &je);
    json_t *cfg_err = NULL;
    struct cq_err err = {0};
    (void)x;
    assert_non_null(meta);
    assert_non_null(roles);
    be->cat = cq_dsl_catalog_new(meta, roles, NULL, &cfg_err, &err);
    if (be->cat == NULL) {
        char *s = cfg_err ? json_dumps(cfg_err, JSON_COMPACT) : NULL;
        fail_msg("catalog: %s %s", err.msg, s ? s : "");
    }
    json_decref(meta);
    json_decref(roles);
    free(tmpl);
    free(meta_text);
    free(roles_text);
}

static void open_backend(struct backend *be, const char *seed, const char *const *pairs)
{
    struct cq_err err = {0};
    struct cq_dsn dsn;
    struct cq_conn_conf rw = be->cc;
    rw.read_only = false;
    cq_drv_dsn_init(&dsn, &rw);
    be->rw = cq_drv_connect(cq_drv_find(be->cc.driver), &dsn, &err);
    if (be->rw == NULL) {
        fail_msg("connect %s: %s", be->label, err.msg);
    }
    char *text = read_seed(seed), *sql = subst(text, pairs);
    must_exec(be->rw, sql);
    free(text);
    free(sql);
    be->pool = cq_drv_pool_new(&be->cc, &err);
    if (be->pool == NULL) {
        fail_msg("pool %s: %s", be->label, err.msg);
    }
}

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    const char *dsn = cq_test_require("CQ_IT_PG_DSN");
    snprintf(x->schema, sizeof(x->schema), "it_query_%ld", (long)getpid());
    snprintf(x->pg_url, sizeof(x->pg_url), "%s", dsn);
    x->tmpdir = cq_test_tmpdir("it_query");
    snprintf(x->sqlite_path, sizeof(x->sqlite_path), "%s/shop.db", x->tmpdir);
    x->be[0] = (struct backend){
        .label = "postgres",
        .cc = {.name = "pgshop", .driver = "postgres", .url = x->pg_url,
               .pool = {.min = 0, .max = 2, .idle_timeout_ms = 60000},
               .limits = {.timeout_ms = 30000, .queue_timeout_ms = 5000}, .read_only = true},
        .timeout_ms = 30000,
    };
    x->be[1] = (struct backend){
        .label = "sqlite",
        .cc = {.name = "sqshop", .driver = "sqlite", .path = x->sqlite_path,
               .pool = {.min = 0, .max = 2, .idle_timeout_ms = 60000},
               .limits = {.timeout_ms = 30000, .queue_timeout_ms = 5000}, .read_only = true},
        .timeout_ms = 30000,
    };
    const char *pg_pairs[] = {"{schema}", x->schema, NULL};
    const char *none[] = {NULL};
    open_backend(&x->be[0], "pg.sql", pg_pairs);
    open_backend(&x->be[1], "sqlite.sql", none);
    build_catalog(x, &x->be[0], x->schema);
    build_catalog(x, &x->be[1], "main");
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    char sql[128];
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", x->schema);
    if (x->be[0].rw != NULL) {
        must_exec(x->be[0].rw, sql);
    }
    for (int i = 0; i < 2; i++) {
        cq_drv_pool_free(x->be[i].pool);
        cq_drv_disconnect(x->be[i].rw);
        cq_dsl_catalog_unref(x->be[i].cat);
    }
    free(x->tmpdir);
    free(x);
    return 0;
}

/* ---- rows, values, masking ------------------------------------------------------------------- */

static void test_rows_and_values(void **state)
{
    struct fx *x = *state;
    for (int i = 0; i < 2; i++) {
        struct backend *be = &x->be[i];
        json_t *doc = run_ok(be, "{\"definition\":{\"from\":\"customers\",\"columns\":[\"id\","
                                 "\"name\",\"createdAt\",\"birthDate\",\"score\",\"isActive\","
                                 "\"tags\"],\"orderBy\":[{\"column\":\"id\",\"direction\":"
                                 "\"asc\"}]}," ADMIN "}");
        char want[256];
        oracle(x, be, "SELECT count(*) FROM {s}customers", want, sizeof(want));
        assert_int_equal(json_array_size(json_object_get(doc, "data")), atoi(want));
        assert_string_equal(json_string_value(json_object_get(doc, "kind")), "data");
        json_t *r1 = row_at(doc, 0), *r2 = row_at(doc, 1), *r3 = row_at(doc, 2);
        json_t *r5 = row_at(doc, 4);
        assert_int_equal(json_object_size(r1), 7); /* apiNames only, no aliases */
        assert_int_equal((int)json_number_value(json_object_get(r1, "id")), 1);
        assert_string_equal(str_at(r1, "createdAt"), "2024-01-15T10:00:00.000Z");
        assert_string_equal(str_at(r2, "createdAt"), "2024-02-01T08:30:00.250Z");
        assert_string_equal(str_at(r3, "createdAt"), "2024-03-10T23:59:59.999Z");
        assert_string_equal(str_at(r5, "createdAt"), "2024-05-05T10:00:00.000Z"); /* +02 */
        assert_string_equal(str_at(r1, "birthDate"), "1990-05-17");
        assert_true(json_is_null(json_object_get(r2, "birthDate")));
        assert_true(json_number_value(json_object_get(r1, "score")) == 12.5);
        assert_true(json_is_null(json_object_get(r2, "score")));
        assert_true(json_is_true(json_object_get(r1, "isActive")));
        assert_true(json_is_false(json_object_get(r2, "isActive")));
        assert_string_equal(str_at(r3, "name"), "Zo\xc3\xab Martin");
        json_t *tags = json_object_get(r5, "tags");
        assert_int_equal(json_array_size(tags), 2);
        assert_string_equal(json_string_value(json_array_get(tags, 1)), "a,b \"q\"");
        assert_int_equal(json_array_size(json_object_get(r2, "tags")), 0);
        json_t *meta = json_object_get(doc, "meta");
        assert_string_equal(json_string_value(json_object_get(meta, "dialect")), be->label);
        assert_string_equal(json_string_value(json_object_get(meta, "targetDatabase")), "shop");
        json_t *cols = json_object_get(meta, "columns");
        assert_int_equal(json_array_size(cols), 7);
        assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 6), "type")),
                            "string[]");
        assert_true(json_is_number(json_object_get(json_object_get(meta, "timing"),
                                                   "executionMs")));
        json_decref(doc);
    }
}

static void test_masking(void **state)
{
    struct fx *x = *state;
    for (int i = 0; i < 2; i++) {
        struct backend *be = &x->be[i];
        json_t *doc = run_ok(be, "{\"definition\":{\"from\":\"customers\",\"orderBy\":[{"
                                 "\"column\":\"id\",\"direction\":\"asc\"}]},\"context\":{"
                                 "\"roles\":{\"user\":[\"support\"]}}}");
        json_t *r1 = row_at(doc, 0), *r2 = row_at(doc, 1), *r3 = row_at(doc, 2);
        json_t *r4 = row_at(doc, 3);
        assert_int_equal((int)json_number_value(json_object_get(r1, "id")), 1); /* clear */
        assert_string_equal(str_at(r1, "name"), "A*********h");
        assert_string_equal(str_at(r1, "email"), "a***@***.com");
        assert_string_equal(str_at(r1, "phone"), "+1***890");
        assert_string_equal(str_at(r1, "birthDate"), "1990-01-01");
        assert_true(json_number_value(json_object_get(r1, "score")) == 0);
        assert_string_equal(str_at(r1, "tags"), "***"); /* no maskingFn: full */
        assert_string_equal(str_at(r2, "email"), "b***@***.org");
        assert_true(json_is_null(json_object_get(r2, "phone"))); /* null stays null */
        assert_string_equal(str_at(r3, "name"), "Z********n");   /* Zoë Martin: 10 points */
        assert_string_equal(str_at(r3, "phone"), "+3***789");
        assert_string_equal(str_at(r4, "name"), "***");          /* 李雷: 2 code points */
        assert_string_equal(str_at(r1, "regionId"), "eu");       /* not masked */
        json_t *cols = json_object_get(json_object_get(doc, "meta"), "columns"), *c;
        size_t k;
        json_array_foreach(cols, k, c) {
            const char *name = json_string_value(json_object_get(c, "apiName"));
            bool masked = strcmp(name, "name") == 0 || strcmp(name, "email") == 0 ||
                          strcmp(name, "phone") == 0 || strcmp(name, "birthDate") == 0 ||
                          strcmp(name, "score") == 0 || strcmp(name, "tags") == 0;
            assert_int_equal(json_is_true(json_object_get(c, "masked")), masked);
        }
        json_decref(doc);
    }
}

/* ---- query shapes ---------------------------------------------------------------------------- */

static void test_count(void **state)
{
    struct fx *x = *state;
    for (int i = 0; i < 2; i++) {
        char want[64];
        json_t *doc = run_ok(&x->be[i], "{\"definition\":{\"from\":\"orders\",\"filters\":[{"
                                        "\"column\":\"status\",\"operator\":\"=\",\"value\":"
                                        "\"paid\"}],\"executeMode\":\"count\"}," ADMIN "}");
        oracle(x, &x->be[i], "SELECT count(*) FROM {s}orders WHERE status = 'paid'", want,
               sizeof(want));
        assert_string_equal(json_string_value(json_object_get(doc, "kind")), "count");
        assert_int_equal((int)json_number_value(json_object_get(doc, "count")), atoi(want));
        assert_int_equal(json_array_size(json_object_get(json_object_get(doc, "meta"),
                                                         "columns")), 0);
        json_decref(doc);
    }
}

static void test_by_ids(void **state)
{
    struct fx *x = *state;
    for (int i = 0; i < 2; i++) {
        expect_ids(x, &x->be[i], "{\"definition\":{\"from\":\"customers\",\"columns\":[\"id\"],"
                   "\"byIds\":[4,2],\"orderBy\":[{\"column\":\"id\",\"direction\":\"asc\"}]},"
                   ADMIN "}", "id", "SELECT id FROM {s}customers WHERE id IN (2, 4) ORDER BY id");
    }
}

static void test_exists_and_counts(void **state)
{
    struct fx *x = *state;
    static const struct {
        const char *filter, *where;
    } cases[] = {
        {"{\"table\":\"orders\"}", "EXISTS (SELECT 1 FROM {s}orders o WHERE o.customer_id = c.id)"},
        {"{\"table\":\"orders\",\"exists\":false}",
         "NOT EXISTS (SELECT 1 FROM {s}orders o WHERE o.customer_id = c.id)"},
        {"{\"table\":\"orders\",\"filters\":[{\"column\":\"status\",\"operator\":\"=\","
         "\"value\":\"cancelled\"}]}",
         "EXISTS (SELECT 1 FROM {s}orders o WHERE o.customer_id = c.id AND o.status = "
         "'cancelled')"},
        {"{\"table\":\"orders\",\"count\":{\"operator\":\">=\",\"value\":2}}",
         "(SELECT count(*) FROM {s}orders o WHERE o.customer_id = c.id) >= 2"},
        {"{\"table\":\"orders\",\"count\":{\"operator\":\">\",\"value\":2}}",
         "(SELECT count(*) FROM {s}orders o WHERE o.customer_id = c.id) > 2"},
        {"{\"table\":\"orders\",\"count\":{\"operator\":\"=\",\"value\":1}}",
         "(SELECT count(*) FROM {s}orders o WHERE o.customer_id = c.id) = 1"},
        {"{\"table\":\"orders\",\"count\":{\"operator\":\"<\",\"value\":2}}",
         "(SELECT count(*) FROM {s}orders o WHERE o.customer_id = c.id) < 2"},
    };
    char body[1024], sql[1024];
    for (int i = 0; i < 2; i++) {
        for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
            snprintf(body, sizeof(body), "{\"definition\":{\"from\":\"customers\",\"columns\":"
                     "[\"id\"],\"filters\":[%s],\"orderBy\":[{\"column\":\"id\",\"direction\":"
                     "\"asc\"}]}," ADMIN "}", cases[k].filter);
            snprintf(sql, sizeof(sql), "SELECT c.id FROM {s}customers c WHERE %s ORDER BY c.id",
                     cases[k].where);
            expect_ids(x, &x->be[i], body, "id", sql);
        }
    }
}

static void test_group_by_having(void **state)
{
    struct fx *x = *state;
    static const struct {
        const char *having, *cond;
    } cases[] = {
        {"{\"column\":\"revenue\",\"operator\":\">\",\"value\":300}", "sum(total) > 300"},
        {"{\"column\":\"n\",\"operator\":\"between\",\"value\":{\"from\":2,\"to\":3}}",
         "count(*) BETWEEN 2 AND 3"},
        {"{\"column\":\"n\",\"operator\":\"in\",\"value\":[1]}", "count(*) IN (1)"},
        {"{\"column\":\"n\",\"operator\":\"notIn\",\"value\":[1]}", "count(*) NOT IN (1)"},
    };
    char body[1024], sql[1024], got[256], want[256];
    for (int i = 0; i < 2; i++) {
        for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
            snprintf(body, sizeof(body), "{\"definition\":{\"from\":\"orders\",\"columns\":"
                     "[\"customerId\"],\"groupBy\":[{\"column\":\"customerId\"}],"
                     "\"aggregations\":[{\"column\":\"total\",\"fn\":\"sum\",\"alias\":"
                     "\"revenue\"},{\"column\":\"*\",\"fn\":\"count\",\"alias\":\"n\"}],"
                     "\"having\":[%s],\"orderBy\":[{\"column\":\"customerId\",\"direction\":"
                     "\"asc\"}]}," ADMIN "}", cases[k].having);
            snprintf(sql, sizeof(sql), "SELECT customer_id FROM {s}orders GROUP BY customer_id "
                     "HAVING %s ORDER BY customer_id", cases[k].cond);
            expect_ids(x, &x->be[i], body, "customerId", sql);
            snprintf(sql, sizeof(sql), "SELECT count(*) FROM {s}orders GROUP BY customer_id "
                     "HAVING %s ORDER BY customer_id", cases[k].cond);
            json_t *doc = run_ok(&x->be[i], body);
            column_of(doc, "n", got, sizeof(got));
            oracle(x, &x->be[i], sql, want, sizeof(want));
            assert_string_equal(got, want);
            json_decref(doc);
        }
        /* the aggregate values themselves, against the oracle's sum */
        json_t *doc = run_ok(&x->be[i], "{\"definition\":{\"from\":\"orders\",\"columns\":"
                             "[\"customerId\"],\"groupBy\":[{\"column\":\"customerId\"}],"
                             "\"aggregations\":[{\"column\":\"total\",\"fn\":\"sum\",\"alias\":"
                             "\"revenue\"}],\"orderBy\":[{\"column\":\"customerId\","
                             "\"direction\":\"asc\"}]}," ADMIN "}");
        json_t *row = row_at(doc, 0);
        assert_true(json_number_value(json_object_get(row, "revenue")) == 1349.5);
        json_t *cols = json_object_get(json_object_get(doc, "meta"), "columns");
        assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 1),
                                                              "apiName")), "revenue");
        json_decref(doc);
    }
}

static void test_distinct_limit_offset(void **state)
{
    struct fx *x = *state;
    for (int i = 0; i < 2; i++) {
        expect_ids(x, &x->be[i], "{\"definition\":{\"from\":\"orders\",\"columns\":[\"status\"],"
                   "\"distinct\":true,\"orderBy\":[{\"column\":\"status\",\"direction\":"
                   "\"asc\"}]}," ADMIN "}", "status",
                   "SELECT DISTINCT status FROM {s}orders ORDER BY status");
        expect_ids(x, &x->be[i], "{\"definition\":{\"from\":\"orders\",\"columns\":[\"id\"],"
                   "\"orderBy\":[{\"column\":\"id\",\"direction\":\"desc\"}],\"limit\":3,"
                   "\"offset\":2}," ADMIN "}", "id",
                   "SELECT id FROM {s}orders ORDER BY id DESC LIMIT 3 OFFSET 2");
        expect_ids(x, &x->be[i], "{\"definition\":{\"from\":\"orders\",\"columns\":[\"id\"],"
                   "\"filters\":[{\"column\":\"status\",\"operator\":\"in\",\"value\":[\"paid\","
                   "\"pending\"]},{\"column\":\"note\",\"operator\":\"isNull\"}],\"orderBy\":[{"
                   "\"column\":\"id\",\"direction\":\"asc\"}]}," ADMIN "}", "id",
                   "SELECT id FROM {s}orders WHERE status IN ('paid', 'pending') AND note IS "
                   "NULL ORDER BY id");
    }
}

/* ---- row-level filters ----------------------------------------------------------------------- */

#define TENANT(t) "\"context\":{\"roles\":{\"user\":[\"tenant-user\"]},\"contextValues\":" \
                  "{\"tenantId\":\"" t "\"}}"

static void test_row_filters(void **state)
{
    struct fx *x = *state;
    for (int i = 0; i < 2; i++) {
        struct backend *be = &x->be[i];
        /* a tenant sees its own customers only, e-mail masked, allowed columns only */
        json_t *doc = run_ok(be, "{\"definition\":{\"from\":\"customers\",\"orderBy\":[{"
                                 "\"column\":\"id\",\"direction\":\"asc\"}]}," TENANT("t1") "}");
        char got[512], want[512];
        column_of(doc, "id", got, sizeof(got));
        oracle(x, be, "SELECT id FROM {s}customers WHERE tenant_id = 't1' ORDER BY id", want,
               sizeof(want));
        assert_string_equal(got, want);
        column_of(doc, "tenantId", got, sizeof(got));
        assert_string_equal(got, "t1,t1,t1");
        assert_int_equal(json_object_size(row_at(doc, 0)), 5);
        assert_string_equal(str_at(row_at(doc, 0), "email"), "a***@***.com");
        json_decref(doc);
        /* through a join: the joined table is filtered too */
        expect_ids(x, be, "{\"definition\":{\"from\":\"orders\",\"columns\":[\"id\"],\"joins\":"
                   "[{\"table\":\"customers\",\"columns\":[\"name\"]}],\"orderBy\":[{\"column\":"
                   "\"id\",\"direction\":\"asc\"}]}," TENANT("t1") "}", "id",
                   "SELECT o.id FROM {s}orders o JOIN {s}customers c ON c.id = o.customer_id "
                   "WHERE o.tenant_id = 't1' AND c.tenant_id = 't1' ORDER BY o.id");
        /* EXISTS counts cannot see another tenant's rows: customer 1 has three orders, one
         * of them in t2, so t1 counts two */
        expect_ids(x, be, "{\"definition\":{\"from\":\"customers\",\"columns\":[\"id\"],"
                   "\"filters\":[{\"table\":\"orders\",\"count\":{\"operator\":\">=\",\"value\":"
                   "3}}]," "\"orderBy\":[{\"column\":\"id\",\"direction\":\"asc\"}]},"
                   TENANT("t1") "}", "id",
                   "SELECT c.id FROM {s}customers c WHERE c.tenant_id = 't1' AND (SELECT "
                   "count(*) FROM {s}orders o WHERE o.customer_id = c.id AND o.tenant_id = "
                   "'t1') >= 3 ORDER BY c.id");
        expect_ids(x, be, "{\"definition\":{\"from\":\"customers\",\"columns\":[\"id\"],"
                   "\"filters\":[{\"table\":\"orders\",\"count\":{\"operator\":\">=\",\"value\":"
                   "2}}]," "\"orderBy\":[{\"column\":\"id\",\"direction\":\"asc\"}]},"
                   TENANT("t1") "}", "id",
                   "SELECT c.id FROM {s}customers c WHERE c.tenant_id = 't1' AND (SELECT "
                   "count(*) FROM {s}orders o WHERE o.customer_id = c.id AND o.tenant_id = "
                   "'t1') >= 2 ORDER BY c.id");
        /* count mode is filtered as well */
        doc = run_ok(be, "{\"definition\":{\"from\":\"orders\",\"executeMode\":\"count\"},"
                         TENANT("t2") "}");
        oracle(x, be, "SELECT count(*) FROM {s}orders WHERE tenant_id = 't2'", want,
               sizeof(want));
        assert_int_equal((int)json_number_value(json_object_get(doc, "count")), atoi(want));
        json_decref(doc);
        /* in: a region list from the context */
        expect_ids(x, be, "{\"definition\":{\"from\":\"customers\",\"columns\":[\"id\"],"
                   "\"orderBy\":[{\"column\":\"id\",\"direction\":\"asc\"}]},\"context\":{"
                   "\"roles\":{\"user\":[\"regional\"]},\"contextValues\":{\"regionIds\":"
                   "[\"eu\",\"apac\"]}}}", "id",
                   "SELECT id FROM {s}customers WHERE region_id IN ('eu', 'apac') ORDER BY id");
        /* two granting roles of one scope are ORed */
        expect_ids(x, be, "{\"definition\":{\"from\":\"customers\",\"columns\":[\"id\"],"
                   "\"orderBy\":[{\"column\":\"id\",\"direction\":\"asc\"}]},\"context\":{"
                   "\"roles\":{\"user\":[\"tenant-user\",\"regional\"]},\"contextValues\":{"
                   "\"tenantId\":\"t2\",\"regionIds\":[\"us\"]}}}", "id",
                   "SELECT id FROM {s}customers WHERE tenant_id = 't2' OR region_id = 'us' "
                   "ORDER BY id");
        /* a missing context value is a validation error */
        struct res r = run(be, "{\"definition\":{\"from\":\"customers\"},\"context\":{"
                               "\"roles\":{\"user\":[\"tenant-user\"]}}}");
        assert_int_equal(r.cls, CQ_DSL_E_VALIDATION);
        json_t *e0 = json_array_get(json_object_get(r.doc, "errors"), 0);
        assert_string_equal(json_string_value(json_object_get(e0, "code")), "MISSING_CONTEXT");
        json_decref(r.doc);
    }
}

/* ---- errors ---------------------------------------------------------------------------------- */

static void test_query_failed(void **state)
{
    struct fx *x = *state;
    for (int i = 0; i < 2; i++) {
        struct backend *be = &x->be[i];
        struct res r = run(be, "{\"definition\":{\"from\":\"broken\",\"filters\":[{\"column\":"
                               "\"id\",\"operator\":\">\",\"value\":1}]}," ADMIN "}");
        assert_int_equal(r.cls, CQ_DSL_E_EXECUTION);
        json_t *d = json_object_get(r.doc, "details");
        char msg[128];
        snprintf(msg, sizeof(msg), "Query failed on %s database: %s", be->label, be->label);
        assert_string_equal(json_string_value(json_object_get(r.doc, "code")), "QUERY_FAILED");
        assert_string_equal(json_string_value(json_object_get(r.doc, "message")), msg);
        assert_string_equal(json_string_value(json_object_get(d, "code")), "QUERY_FAILED");
        assert_string_equal(json_string_value(json_object_get(d, "database")), be->label);
        assert_string_equal(json_string_value(json_object_get(d, "dialect")), be->label);
        assert_non_null(strstr(json_string_value(json_object_get(d, "sql")), "no_such_column"));
        assert_int_equal(json_array_size(json_object_get(d, "params")), 1);
        const char *cause = json_string_value(json_object_get(json_object_get(r.doc, "cause"),
                                                              "message"));
        assert_non_null(cause);
        assert_non_null(strstr(cause, "no_such_column"));
        assert_non_null(json_object_get(d, "cause"));
        /* no secret of the connection in the error */
        char *all = json_dumps(r.doc, JSON_COMPACT);
        assert_null(strstr(all, "password"));
        free(all);
        json_decref(r.doc);
    }
}

static void test_query_timeout(void **state)
{
    struct fx *x = *state;
    for (int i = 0; i < 2; i++) {
        struct backend *be = &x->be[i];
        char msg[128];
        be->timeout_ms = 300;
        struct res r = run(be, "{\"definition\":{\"from\":\"slow\"}," ADMIN "}");
        be->timeout_ms = 30000;
        assert_int_equal(r.cls, CQ_DSL_E_EXECUTION);
        snprintf(msg, sizeof(msg), "Query timeout on %s database: %s (300ms)", be->label,
                 be->label);
        assert_string_equal(json_string_value(json_object_get(r.doc, "code")), "QUERY_TIMEOUT");
        assert_string_equal(json_string_value(json_object_get(r.doc, "message")), msg);
        json_t *d = json_object_get(r.doc, "details");
        assert_string_equal(json_string_value(json_object_get(d, "code")), "QUERY_TIMEOUT");
        assert_int_equal(json_integer_value(json_object_get(d, "timeoutMs")), 300);
        assert_non_null(json_object_get(d, "sql"));
        json_decref(r.doc);
        /* the pool's connection is still good for the next query */
        json_t *doc = run_ok(be, "{\"definition\":{\"from\":\"tenants\"}," ADMIN "}");
        assert_int_equal(json_array_size(json_object_get(doc, "data")), 2);
        json_decref(doc);
    }
}

static void test_executor_missing_clickhouse(void **state)
{
    struct fx *x = *state;
    for (int i = 0; i < 2; i++) {
        struct res r = run(&x->be[i], "{\"definition\":{\"from\":\"events\"}," ADMIN "}");
        assert_int_equal(r.cls, CQ_DSL_E_EXECUTION);
        assert_string_equal(json_string_value(json_object_get(r.doc, "code")),
                            "EXECUTOR_MISSING");
        json_t *d = json_object_get(r.doc, "details");
        assert_string_equal(json_string_value(json_object_get(d, "code")), "EXECUTOR_MISSING");
        assert_string_equal(json_string_value(json_object_get(d, "database")), "ch-analytics");
        json_decref(r.doc);
        /* sql-only needs no executor */
        json_t *doc = run_ok(&x->be[i], "{\"definition\":{\"from\":\"events\",\"executeMode\":"
                                        "\"sql-only\"}," ADMIN "}");
        assert_string_equal(json_string_value(json_object_get(doc, "kind")), "sql");
        assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "meta"),
                                                              "dialect")), "clickhouse");
        json_decref(doc);
    }
}

/* ---- clariq query on the demo ---------------------------------------------------------------- */

/* Runs the binary on the embedded demo (no configuration), request on stdin. */
static int cli(struct fx *x, const char *args, const char *input, json_t **doc, char **err)
{
    char cmd[2048];
    char *out = NULL;
    json_error_t je;
    snprintf(cmd, sizeof(cmd), "cd '%s' && env -u CLARIQ_CONFIG CLARIQ_DEMO_DB='%s/demo.db' "
             "\"$CLARIQ_BIN\" %s", x->tmpdir, x->tmpdir, args);
    int status = cq_test_run(cmd, input, &out, err);
    *doc = json_loads(out != NULL ? out : "", JSON_DECODE_INT_AS_REAL, &je);
    if (*doc == NULL && strstr(args, "--help") == NULL) {
        fail_msg("clariq %s: stdout is not JSON (%s): %s\nstderr: %s", args, je.text,
                 out ? out : "", *err ? *err : "");
    }
    free(out);
    return status;
}

static int demo_count(struct fx *x, const char *sql)
{
    char cmd[1024];
    char *out = NULL, *err = NULL;
    json_error_t je;
    snprintf(cmd, sizeof(cmd), "cd '%s' && env -u CLARIQ_CONFIG CLARIQ_DEMO_DB='%s/demo.db' "
             "\"$CLARIQ_BIN\" run --format json \"%s\"", x->tmpdir, x->tmpdir, sql);
    assert_int_equal(cq_test_run(cmd, NULL, &out, &err), 0);
    json_t *j = json_loads(out, 0, &je);
    assert_non_null(j);
    /* clariq run --format json: {"columns":[...],"rows":[[n]],...} or [{"n":..}] */
    json_t *rows = json_is_array(j) ? j : json_object_get(j, "rows");
    json_t *first = json_array_get(rows, 0);
    json_t *v = json_is_array(first) ? json_array_get(first, 0) : json_object_get(first, "n");
    int n = (int)json_number_value(v);
    json_decref(j);
    free(out);
    free(err);
    return n;
}

static void test_cli_demo(void **state)
{
    struct fx *x = *state;
    json_t *doc = NULL;
    char *err = NULL;

    /* no configuration at all: the embedded demo and its catalog */
    assert_int_equal(cli(x, "query -", "{\"from\":\"orders\",\"limit\":3}", &doc, &err), 0);
    json_t *rows = json_object_get(doc, "data");
    assert_int_equal(json_array_size(rows), 3);
    json_t *r0 = json_array_get(rows, 0);
    assert_true(json_is_number(json_object_get(r0, "customerId")));
    const char *at = json_string_value(json_object_get(r0, "orderedAt"));
    assert_non_null(at);
    assert_int_equal(strlen(at), 24); /* 2024-07-19T10:00:00.000Z */
    assert_int_equal(at[23], 'Z');
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "meta"),
                                                          "dialect")), "sqlite");
    json_decref(doc);
    free(err);

    /* masking for an analyst, against the clear names an admin sees */
    const char *names = "{\"from\":\"customers\",\"columns\":[\"id\",\"name\"],\"orderBy\":[{"
                        "\"column\":\"id\",\"direction\":\"asc\"}],\"limit\":5}";
    json_t *clear = NULL;
    assert_int_equal(cli(x, "query --role admin -", names, &clear, &err), 0);
    free(err);
    assert_int_equal(cli(x, "query --role analyst -", names, &doc, &err), 0);
    free(err);
    for (size_t i = 0; i < 5; i++) {
        const char *c = json_string_value(json_object_get(json_array_get(
            json_object_get(clear, "data"), i), "name"));
        const char *m = json_string_value(json_object_get(json_array_get(
            json_object_get(doc, "data"), i), "name"));
        assert_non_null(c);
        assert_non_null(m);
        assert_int_equal(m[0], c[0]);
        assert_non_null(strchr(m, '*'));
        assert_string_not_equal(m, c);
    }
    json_decref(clear);
    json_decref(doc);

    /* a row-filtered role with its context value, counted against plain SQL */
    assert_int_equal(cli(x, "query --role customer --ctx customerId=3 --count -",
                         "{\"from\":\"orders\"}", &doc, &err), 0);
    free(err);
    assert_int_equal((int)json_number_value(json_object_get(doc, "count")),
                     demo_count(x, "SELECT count(*) AS n FROM orders WHERE customer_id = 3"));
    json_decref(doc);
    assert_int_equal(cli(x, "query --role country-manager --ctx 'countries=[\"FR\",\"CN\"]' "
                            "--count -", "{\"from\":\"customers\"}", &doc, &err), 0);
    free(err);
    assert_int_equal((int)json_number_value(json_object_get(doc, "count")),
                     demo_count(x, "SELECT count(*) AS n FROM customers WHERE country IN "
                                   "('FR', 'CN')"));
    json_decref(doc);

    /* sql-only and debug */
    assert_int_equal(cli(x, "query --sql-only --debug -", "{\"from\":\"products\"}", &doc,
                         &err), 0);
    free(err);
    assert_string_equal(json_string_value(json_object_get(doc, "kind")), "sql");
    assert_non_null(strstr(json_string_value(json_object_get(doc, "sql")), "products"));
    assert_true(json_array_size(json_object_get(doc, "debugLog")) > 0);
    json_decref(doc);

    /* errors: the spec's JSON on stdout, a summary on stderr, exit 1 */
    assert_int_equal(cli(x, "query --role customer -", "{\"from\":\"orders\"}", &doc, &err), 1);
    assert_string_equal(json_string_value(json_object_get(doc, "code")), "VALIDATION_FAILED");
    assert_non_null(strstr(err, "MISSING_CONTEXT") ? err : strstr(err, "customerId"));
    json_decref(doc);
    free(err);
    assert_int_equal(cli(x, "query -", "{\"from\":\"nope\"}", &doc, &err), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(
                            json_object_get(doc, "errors"), 0), "code")), "UNKNOWN_TABLE");
    json_decref(doc);
    free(err);
    assert_int_equal(cli(x, "query -", "{\"from\":", &doc, &err), 1);
    assert_string_equal(json_string_value(json_object_get(doc, "error")), "INVALID_JSON");
    json_decref(doc);
    free(err);
}

static void test_cli_config_errors(void **state)
{
    struct fx *x = *state;
    char path[1200], args[1400];
    json_t *doc = NULL;
    char *err = NULL;
    static const char tmpl[] =
        "connections:\n"
        "  shop:\n"
        "    driver: postgres\n"
        "    url: postgres://u:s3cretpw@127.0.0.1:1/db\n"
        "catalog:\n"
        "  databases:\n"
        "    - {id: shop, engine: postgres}\n"
        "  tables:\n"
        "    - id: t\n"
        "      apiName: t\n"
        "      database: {db}\n"
        "      physicalName: public.t\n"
        "      columns:\n"
        "        - {apiName: id, physicalName: id, type: int, nullable: false}\n"
        "      primaryKey: [id]\n"
        "      relations: []\n"
        "roles:\n"
        "  - {id: admin, tables: \"*\"}\n";
    const char *reachable[] = {"{db}", "shop", NULL}, *broken[] = {"{db}", "nowhere", NULL};
    char *text;

    /* a database that cannot be reached: ConnectionError, exit 3, no password anywhere */
    text = subst(tmpl, reachable);
    snprintf(path, sizeof(path), "%s/down.yaml", x->tmpdir);
    assert_true(cq_test_write_file(path, text));
    free(text);
    snprintf(args, sizeof(args), "query --config '%s' -", path);
    assert_int_equal(cli(x, args, "{\"from\":\"t\"}", &doc, &err), 3);
    assert_string_equal(json_string_value(json_object_get(doc, "code")), "CONNECTION_FAILED");
    char *all = json_dumps(doc, JSON_COMPACT);
    assert_null(strstr(all, "s3cretpw"));
    assert_null(strstr(err, "s3cretpw"));
    assert_non_null(strstr(err, "CONNECTION_FAILED"));
    free(all);
    json_decref(doc);
    free(err);

    /* a catalog that breaks spec §6: ConfigError on stdout, exit 2 */
    text = subst(tmpl, broken);
    snprintf(path, sizeof(path), "%s/badcat.yaml", x->tmpdir);
    assert_true(cq_test_write_file(path, text));
    free(text);
    snprintf(args, sizeof(args), "query --config '%s' -", path);
    assert_int_equal(cli(x, args, "{\"from\":\"t\"}", &doc, &err), 2);
    assert_string_equal(json_string_value(json_object_get(doc, "code")), "CONFIG_INVALID");
    json_t *e0 = json_array_get(json_object_get(doc, "errors"), 0);
    assert_string_equal(json_string_value(json_object_get(e0, "code")), "INVALID_REFERENCE");
    json_decref(doc);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_and_values),
        cmocka_unit_test(test_masking),
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_by_ids),
        cmocka_unit_test(test_exists_and_counts),
        cmocka_unit_test(test_group_by_having),
        cmocka_unit_test(test_distinct_limit_offset),
        cmocka_unit_test(test_row_filters),
        cmocka_unit_test(test_query_failed),
        cmocka_unit_test(test_query_timeout),
        cmocka_unit_test(test_executor_missing_clickhouse),
        cmocka_unit_test(test_cli_demo),
        cmocka_unit_test(test_cli_config_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
