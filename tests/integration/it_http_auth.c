/*
 * it_http_auth.c - API keys over real HTTP (libcurl) against an in-process `clariq serve`
 * (cq_http_server_*) on PostgreSQL: missing, unknown and revoked keys (401 bodies), Bearer
 * and X-API-Key, a key limited to one connection (POST /sql elsewhere -> 403), a key whose
 * roles are narrower than the request's (FORBIDDEN_ROLE), pinned context values winning over
 * the caller's (row counts compared with plain SQL on the same table), the rate limit (429
 * with Retry-After), /metrics counters moving, and `auth: none` refusing a non-loopback
 * listen address. Data lives in the schema it_http_auth_<pid>, dropped at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/buf.h"
#include "conf/conf.h"
#include "cqtest.h"
#include "http/http.h"
#include "httptest.h"

struct fx {
    PGconn *pg;
    char schema[64];
    struct cq_http_server *srv;
    char url[128];
};

static struct fx F;

/* One request; hdr1/hdr2 are full header lines or NULL; body NULL = GET. */
static void http(struct cq_test_reply *r, const char *path, const char *hdr1, const char *hdr2,
                 const char *body)
{
    const char *hdrs[3] = {NULL, NULL, NULL};
    char url[256];
    size_t n = 0;

    snprintf(url, sizeof(url), "%s%s", F.url, path);
    if (hdr1 != NULL) {
        hdrs[n++] = hdr1;
    }
    if (hdr2 != NULL) {
        hdrs[n++] = hdr2;
    }
    cq_test_http(r, url, hdrs, body, 30);
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : "";
}

static void expect(struct cq_test_reply *r, long status)
{
    if (r->status != status) {
        fail_msg("HTTP %ld, expected %ld: %s", r->status, status, cq_buf_str(&r->body));
    }
}

static long pg_count(const char *where)
{
    char sql[256];
    PGresult *res;
    long n;

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s.items WHERE %s", F.schema, where);
    res = PQexec(F.pg, sql);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

/* printf format: the DSN, then the schema */
#define CONF_TMPL \
    "connections:\n" \
    "  pg: {driver: postgres, url: '%s'}\n" \
    "  lite: {driver: sqlite, path: ':memory:'}\n" \
    "catalog:\n" \
    "  databases:\n" \
    "    - {id: pg, engine: postgres}\n" \
    "  tables:\n" \
    "    - id: items\n" \
    "      apiName: items\n" \
    "      database: pg\n" \
    "      physicalName: %s.items\n" \
    "      columns:\n" \
    "        - {apiName: id, physicalName: id, type: int, nullable: false}\n" \
    "        - {apiName: tenant, physicalName: tenant, type: string, nullable: false}\n" \
    "        - {apiName: name, physicalName: name, type: string, nullable: true}\n" \
    "      primaryKey: [id]\n" \
    "      relations: []\n" \
    "roles:\n" \
    "  - {id: reader, tables: '*'}\n" \
    "  - id: tenant\n" \
    "    tables:\n" \
    "      - tableId: items\n" \
    "        allowedColumns: '*'\n" \
    "        filters: [{column: tenant, operator: '=', contextKey: tenantId}]\n" \
    "server:\n" \
    "  listen: 127.0.0.1:0\n" \
    "  access_log: false\n" \
    "  api_keys:\n" \
    "    - {name: full, key: k-full-0123456789abcdef, connections: [pg],\n" \
    "       roles: {user: [reader, tenant]}}\n" \
    "    - {name: narrow, key: k-narrow-0123456789abcdef, connections: [pg],\n" \
    "       roles: {user: [tenant]},\n" \
    "       context: {tenantId: t1}}\n" \
    "    - {name: old, key: k-old-0123456789abcdef, revoked: true, connections: '*'}\n" \
    "    - {name: slow, key: k-slow-0123456789abcdef, roles: {user: [reader]},\n" \
    "       rate_limit: {requests_per_second: 0.2, burst: 2}}\n" \
    "    - {name: sqlonly, key: k-sql-0123456789abcdef, connections: [lite]}\n"

/* Loads a config from text; on failure the first problem goes to why (if not NULL). */
static struct cq_conf *load(const char *text, char *why, size_t size)
{
    struct cq_conf_diags diags = {0};
    struct cq_err err = {0};
    struct cq_conf *conf = cq_conf_load_mem("it_http_auth.yaml", text, strlen(text), &diags,
                                            &err);

    if (conf == NULL && why != NULL) {
        snprintf(why, size, "%s %s", diags.n > 0 ? diags.v[0].msg : "", err.msg);
    } else if (conf == NULL && diags.n > 0) {
        fprintf(stderr, "config: %s: %s\n", diags.v[0].msg, err.msg);
    }
    cq_conf_diags_cleanup(&diags);
    return conf;
}

static int setup(void **state)
{
    const char *dsn = cq_test_require("CQ_IT_PG_DSN");
    char sql[512], *text = NULL;
    struct cq_conf *conf;
    size_t len;

    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    F.pg = PQconnectdb(dsn);
    assert_int_equal(PQstatus(F.pg), CONNECTION_OK);
    snprintf(F.schema, sizeof(F.schema), "it_http_auth_%d", (int)getpid());
    snprintf(sql, sizeof(sql),
             "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s;"
             "CREATE TABLE %s.items (id int PRIMARY KEY, tenant text NOT NULL, name text);"
             "INSERT INTO %s.items SELECT g, 't' || (g %% 3), 'n' || g "
             "FROM generate_series(1, 30) g",
             F.schema, F.schema, F.schema, F.schema);
    cq_test_pg_exec(F.pg, sql);
    len = strlen(CONF_TMPL) + strlen(dsn) + sizeof(F.schema) + 1;
    text = malloc(len);
    snprintf(text, len, CONF_TMPL, dsn, F.schema);
    conf = load(text, NULL, 0);
    free(text);
    assert_non_null(conf);
    F.srv = cq_test_serve(conf, F.url, sizeof(F.url));
    return 0;
}

static int teardown(void **state)
{
    char sql[128];

    (void)state;
    if (F.srv != NULL) {
        cq_http_server_stop(F.srv);
        cq_http_server_free(F.srv);
    }
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", F.schema);
    cq_test_pg_exec(F.pg, sql);
    PQfinish(F.pg);
    curl_global_cleanup();
    return 0;
}

#define Q_SQLONLY                                                                            \
    "{\"definition\":{\"from\":\"items\",\"columns\":[\"id\"],\"executeMode\":\"sql-only\"},"  \
    "\"context\":{\"roles\":{\"user\":[\"reader\"]}}}"

static void test_missing_unknown_revoked(void **state)
{
    struct cq_test_reply r;

    (void)state;
    http(&r, "/query", NULL, NULL, Q_SQLONLY);
    expect(&r, 401);
    assert_string_equal(jstr(r.json, "error"), "UNAUTHORIZED");
    assert_non_null(strstr(jstr(r.json, "message"), "Missing API key"));
    cq_test_reply_done(&r);
    http(&r, "/query", "Authorization: Bearer k-full-0123456789abcde", NULL, Q_SQLONLY);
    expect(&r, 401);
    assert_string_equal(jstr(r.json, "error"), "UNAUTHORIZED");
    assert_string_equal(jstr(r.json, "message"), "Unknown API key");
    cq_test_reply_done(&r);
    http(&r, "/query", "X-API-Key: k-old-0123456789abcdef", NULL, Q_SQLONLY);
    expect(&r, 401);
    assert_non_null(strstr(jstr(r.json, "message"), "revoked"));
    cq_test_reply_done(&r);
    /* the probes stay open */
    http(&r, "/health", NULL, NULL, NULL);
    expect(&r, 200);
    cq_test_reply_done(&r);
}

static void test_bearer_and_x_api_key(void **state)
{
    struct cq_test_reply r;

    (void)state;
    http(&r, "/query", "Authorization: bearer k-full-0123456789abcdef", NULL, Q_SQLONLY);
    expect(&r, 200);
    assert_string_equal(jstr(r.json, "kind"), "sql");
    cq_test_reply_done(&r);
    http(&r, "/query", "X-API-Key: k-full-0123456789abcdef", NULL, Q_SQLONLY);
    expect(&r, 200);
    assert_string_equal(jstr(r.json, "kind"), "sql");
    cq_test_reply_done(&r);
}

static void test_connection_allow_list(void **state)
{
    struct cq_test_reply r;

    (void)state;
    http(&r, "/sql", "X-API-Key: k-sql-0123456789abcdef", NULL,
         "{\"connection\":\"pg\",\"sql\":\"SELECT 1 AS one\"}");
    expect(&r, 403);
    cq_test_reply_done(&r);
    http(&r, "/sql", "X-API-Key: k-sql-0123456789abcdef", NULL,
         "{\"connection\":\"lite\",\"sql\":\"SELECT 1 AS one\"}");
    expect(&r, 200);
    assert_non_null(strstr(cq_buf_str(&r.body), "1"));
    cq_test_reply_done(&r);
    /* a key with no role may not use the governed API at all */
    http(&r, "/query", "X-API-Key: k-sql-0123456789abcdef", NULL, Q_SQLONLY);
    expect(&r, 400);
    assert_string_equal(jstr(json_array_get(json_object_get(r.json, "errors"), 0), "code"),
                        "FORBIDDEN_ROLE");
    cq_test_reply_done(&r);
}

static void test_forbidden_role(void **state)
{
    struct cq_test_reply r;
    json_t *en, *details;

    (void)state;
    http(&r, "/query", "Authorization: Bearer k-narrow-0123456789abcdef", NULL, Q_SQLONLY);
    expect(&r, 400);
    assert_string_equal(jstr(r.json, "code"), "VALIDATION_FAILED");
    en = json_array_get(json_object_get(r.json, "errors"), 0);
    assert_string_equal(jstr(en, "code"), "FORBIDDEN_ROLE");
    assert_string_equal(jstr(en, "message"), "Role 'reader' is not allowed for this API key");
    details = json_object_get(en, "details");
    assert_string_equal(jstr(details, "role"), "reader");
    assert_string_equal(jstr(details, "scope"), "user");
    cq_test_reply_done(&r);
}

static void test_pinned_context(void **state)
{
    struct cq_test_reply r;
    json_t *data, *row;
    size_t i;

    (void)state;
    /* The caller asks for tenant t2 and omits its roles: it gets the key's role (tenant)
     * and the key's tenant t1. */
    http(&r, "/query", "Authorization: Bearer k-narrow-0123456789abcdef", NULL,
         "{\"definition\":{\"from\":\"items\",\"columns\":[\"id\",\"tenant\"]},"
         "\"context\":{\"roles\":{},\"contextValues\":{\"tenantId\":\"t2\"}}}");
    expect(&r, 200);
    data = json_object_get(r.json, "data");
    assert_true(json_is_array(data));
    assert_int_equal((long)json_array_size(data), pg_count("tenant = 't1'"));
    json_array_foreach(data, i, row) {
        assert_string_equal(jstr(row, "tenant"), "t1");
    }
    cq_test_reply_done(&r);
    /* Count mode agrees. */
    http(&r, "/query", "Authorization: Bearer k-narrow-0123456789abcdef", NULL,
         "{\"definition\":{\"from\":\"items\",\"executeMode\":\"count\"},"
         "\"context\":{\"roles\":{\"user\":[\"tenant\"]},"
         "\"contextValues\":{\"tenantId\":\"t0\"}}}");
    expect(&r, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "count")),
                     pg_count("tenant = 't1'"));
    cq_test_reply_done(&r);
}

static void test_rate_limit(void **state)
{
    struct cq_test_reply r;
    const char *retry;
    int ok = 0;

    (void)state;
    for (int i = 0; i < 2; i++) {
        http(&r, "/query", "X-API-Key: k-slow-0123456789abcdef", NULL, Q_SQLONLY);
        ok += r.status == 200;
        cq_test_reply_done(&r);
    }
    assert_int_equal(ok, 2);
    http(&r, "/query", "X-API-Key: k-slow-0123456789abcdef", NULL, Q_SQLONLY);
    expect(&r, 429);
    assert_string_equal(jstr(r.json, "error"), "RATE_LIMITED");
    retry = cq_test_reply_header(&r, "Retry-After");
    assert_non_null(retry);
    assert_true(strtol(retry, NULL, 10) >= 1);
    assert_true(strtol(retry, NULL, 10) <= 5);
    cq_test_reply_done(&r);
}

/* Value of one sample in /metrics, or -1. */
static double metric(const char *series)
{
    struct cq_test_reply r;
    const char *p;
    double v = -1;
    size_t len = strlen(series);

    http(&r, "/metrics", "X-API-Key: k-full-0123456789abcdef", NULL, NULL);
    expect(&r, 200);
    for (p = cq_buf_str(&r.body); p != NULL && *p != '\0'; p = strchr(p, '\n')) {
        p += *p == '\n';
        if (strncmp(p, series, len) == 0 && p[len] == ' ') {
            v = strtod(p + len + 1, NULL);
            break;
        }
    }
    cq_test_reply_done(&r);
    return v;
}

/* The server counts a request when MHD reports it complete, which may be a moment after
 * the client read the response: poll for up to 2 s. */
static bool metric_reaches(const char *series, double want)
{
    for (int i = 0; i < 40; i++) {
        double v = metric(series);
        if (v == want) {
            return true;
        }
        if (v > want) {
            fprintf(stderr, "%s = %g, expected %g\n", series, v, want);
            return false;
        }
        usleep(50 * 1000);
    }
    fprintf(stderr, "%s never reached %g\n", series, want);
    return false;
}

static void test_metrics_move(void **state)
{
    const char *unauth = "clariq_errors_total{code=\"UNAUTHORIZED\"}";
    const char *ok = "clariq_http_requests_total{route=\"/query\",status=\"200\"}";
    double u0 = metric(unauth), o0 = metric(ok);
    struct cq_test_reply r;

    (void)state;
    for (int i = 0; i < 3; i++) {
        http(&r, "/query", "X-API-Key: nope", NULL, Q_SQLONLY);
        cq_test_reply_done(&r);
    }
    http(&r, "/query", "X-API-Key: k-full-0123456789abcdef", NULL, Q_SQLONLY);
    cq_test_reply_done(&r);
    assert_true(metric_reaches(unauth, (u0 < 0 ? 0 : u0) + 3));
    assert_true(metric_reaches(ok, (o0 < 0 ? 0 : o0) + 1));
    assert_true(metric("clariq_pool_open{connection=\"pg\"}") >= 1);
}

static void test_auth_none_loopback_only(void **state)
{
    static const char *const text = "server:\n  listen: 0.0.0.0:0\n  auth: none\n";
    char why[600] = "";
    struct cq_conf *conf = load(text, why, sizeof(why));
    struct cq_err err = {0};
    struct cq_http_server *s = NULL;

    (void)state;
    /* Refused by the configuration check, or else by the server: either way, said why. */
    if (conf != NULL) {
        s = cq_http_server_new(conf, &err); /* takes conf */
        assert_null(s);
        snprintf(why, sizeof(why), "%s", err.msg);
    }
    assert_non_null(strstr(why, "loopback"));
    /* on loopback it is accepted */
    conf = load("server:\n  listen: 127.0.0.1:0\n  auth: none\n", NULL, 0);
    assert_non_null(conf);
    s = cq_http_server_new(conf, &err);
    assert_non_null(s);
    cq_http_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_unknown_revoked),
        cmocka_unit_test(test_bearer_and_x_api_key),
        cmocka_unit_test(test_connection_allow_list),
        cmocka_unit_test(test_forbidden_role),
        cmocka_unit_test(test_pinned_context),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_metrics_move),
        cmocka_unit_test(test_auth_none_loopback_only),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
