/*
 * it_http_sql.c - raw SQL and the operations endpoints over real HTTP (libcurl) against an
 * in-process `clariq serve` (cq_http_server_*): POST /sql on PostgreSQL and SQLite (rows,
 * types, params as JSON values and as `clariq run -p` strings, limits lowered by the
 * request and capped by the connection, writes refused on read-only connections, SQL
 * errors with their SQLSTATE, a statement timeout, unknown connections, a key limited to
 * one connection), a 100,000-row result streamed with chunked encoding and complete, a
 * client that hangs up canceling its statement (pg_stat_activity), GET /connections,
 * POST /connections/{name}/test, /ready 200 and then 503 on a configuration with an
 * unreachable connection, /metrics in Prometheus format, and /config with none of the
 * passwords, tokens and keys configured anywhere in its body.
 * PostgreSQL data lives in the schema it_http_sql_<pid>, dropped at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
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

#define KEY_ALL "k-all-0123456789abcdef"
#define KEY_LITE "k-lite-0123456789abcdef"
#define PG_PASSWORD "Pg-S3cret-pw-4711"
#define SLACK_TOKEN "T000-slack-token-XYZ"
#define HOOK_TOKEN "hook-token-abc-987"
#define HMAC_SECRET "hmac-secret-qwerty-55"
#define MAIL_PASSWORD "mail-pass-zz-31337"
#define HEADER_TOKEN "Bearer hdr-token-777"

struct fx {
    const char *dsn;
    PGconn *pg;
    char schema[64];
    char *dir;
    struct cq_http_server *srv;  /* the main server */
    struct cq_http_server *srv2; /* with an unreachable connection and secrets */
    char url[128];
    char url2[128];
};

static struct fx F;

/* One request to base + path with X-API-Key key (NULL: none); body NULL = GET. */
static void http_to(struct cq_test_reply *r, const char *base, const char *path, const char *key,
                    const char *body)
{
    char url[256], kh[128];
    const char *const hdrs[] = {kh, NULL};

    snprintf(url, sizeof(url), "%s%s", base, path);
    snprintf(kh, sizeof(kh), "X-API-Key: %s", key != NULL ? key : "");
    cq_test_http(r, url, key != NULL ? hdrs : NULL, body, 60);
}

static void http(struct cq_test_reply *r, const char *path, const char *body)
{
    http_to(r, F.url, path, KEY_ALL, body);
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : "";
}

static void expect(struct cq_test_reply *r, long status)
{
    if (r->status != status) {
        fail_msg("HTTP %ld, expected %ld: %.2000s", r->status, status, cq_buf_str(&r->body));
    }
    if (r->json == NULL && status != 0) {
        const char *ct = cq_test_reply_header(r, "Content-Type");
        if (ct == NULL || strncmp(ct, "text/plain", 10) != 0) {
            fail_msg("body is not JSON: %.500s", cq_buf_str(&r->body));
        }
    }
}

/* An error reply: status, code, and the message containing `msg`. */
static void expect_error(struct cq_test_reply *r, long status, const char *code, const char *msg)
{
    expect(r, status);
    assert_string_equal(jstr(r->json, "error"), code);
    if (strstr(jstr(r->json, "message"), msg) == NULL) {
        fail_msg("message '%s' lacks '%s'", jstr(r->json, "message"), msg);
    }
}

/* printf format: the DSN, the sqlite file twice */
#define CONF_TMPL \
    "connections:\n" \
    "  pg:\n" \
    "    url: '%s'\n" \
    "    limits: {max_rows: 150000, timeout: 20s}\n" \
    "  lite: {path: '%s', read_only: false, limits: {max_rows: 10}}\n" \
    "  lite_ro: {path: '%s'}\n" \
    "server:\n" \
    "  listen: 127.0.0.1:0\n" \
    "  access_log: false\n" \
    "  api_keys:\n" \
    "    - {name: all, key: " KEY_ALL ", connections: '*'}\n" \
    "    - {name: liteonly, key: " KEY_LITE ", connections: [lite]}\n"

/* printf format: the DSN */
#define CONF2_TMPL \
    "connections:\n" \
    "  pg: {url: '%s'}\n" \
    "  bad: {url: 'postgres://app:" PG_PASSWORD "@127.0.0.1:1/x?connect_timeout=2'}\n" \
    "channels:\n" \
    "  team: {type: slack, webhook_url: 'https://hooks.slack.com/services/" SLACK_TOKEN "'}\n" \
    "  hook:\n" \
    "    type: webhook\n" \
    "    url: 'https://example.com/in?token=" HOOK_TOKEN "'\n" \
    "    headers: {Authorization: '" HEADER_TOKEN "'}\n" \
    "    hmac_secret: " HMAC_SECRET "\n" \
    "  mail: {type: email, host: smtp.example.com, username: u, password: " MAIL_PASSWORD ",\n" \
    "         from: a@example.com, to: b@example.com}\n" \
    "server:\n" \
    "  listen: 127.0.0.1:0\n" \
    "  access_log: false\n" \
    "  api_keys:\n" \
    "    - {name: all, key: " KEY_ALL ", connections: '*'}\n" \
    "    - {name: liteonly, key: " KEY_LITE ", connections: [pg]}\n"

static struct cq_http_server *serve(const char *text, char *url, size_t size)
{
    struct cq_conf_diags diags = {0};
    struct cq_err err = {0};
    struct cq_conf *conf = cq_conf_load_mem("it_http_sql.yaml", text, strlen(text), &diags, &err);

    if (conf == NULL) {
        fail_msg("config: %s: %s", diags.n > 0 ? diags.v[0].msg : "", err.msg);
    }
    cq_conf_diags_cleanup(&diags);
    return cq_test_serve(conf, url, size);
}

static int setup(void **state)
{
    const char *dsn = cq_test_require("CQ_IT_PG_DSN");
    char sql[768], lite[512], text[4096];

    (void)state;
    F.dsn = dsn;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    F.pg = PQconnectdb(dsn);
    assert_int_equal(PQstatus(F.pg), CONNECTION_OK);
    snprintf(F.schema, sizeof(F.schema), "it_http_sql_%d", (int)getpid());
    snprintf(sql, sizeof(sql),
             "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s;"
             "CREATE TABLE %s.items (id int PRIMARY KEY, name text, amount numeric(10,2),"
             " day date, ok bool);"
             "INSERT INTO %s.items SELECT g, 'n' || g, g * 1.5, DATE '2024-01-01' + g, g %% 2 = 0"
             " FROM generate_series(1, 30) g",
             F.schema, F.schema, F.schema, F.schema);
    cq_test_pg_exec(F.pg, sql);
    F.dir = cq_test_tmpdir("it_http_sql");
    snprintf(lite, sizeof(lite), "%s/lite.db", F.dir);
    snprintf(text, sizeof(text), CONF_TMPL, dsn, lite, lite);
    F.srv = serve(text, F.url, sizeof(F.url));
    snprintf(text, sizeof(text), CONF2_TMPL, dsn);
    F.srv2 = serve(text, F.url2, sizeof(F.url2));
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
    if (F.srv2 != NULL) {
        cq_http_server_stop(F.srv2);
        cq_http_server_free(F.srv2);
    }
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", F.schema);
    cq_test_pg_exec(F.pg, sql);
    PQfinish(F.pg);
    free(F.dir);
    curl_global_cleanup();
    return 0;
}

/* ---- POST /sql ------------------------------------------------------------------------- */

static void sql_pg_rows_and_types(void **state)
{
    struct cq_test_reply r;
    char body[512];
    (void)state;
    snprintf(body, sizeof(body),
             "{\"connection\":\"pg\",\"sql\":\"SELECT id, name, amount, day, ok FROM %s.items "
             "WHERE id <= $1 ORDER BY id\",\"params\":[3]}",
             F.schema);
    http(&r, "/sql", body);
    expect(&r, 200);
    assert_non_null(cq_test_reply_header(&r, "Content-Length")); /* small: answered whole */
    json_t *fields = json_object_get(r.json, "fields");
    assert_int_equal(json_array_size(fields), 5);
    assert_string_equal(jstr(json_array_get(fields, 0), "name"), "id");
    assert_string_equal(jstr(json_array_get(fields, 0), "type"), "int4");
    assert_string_equal(jstr(json_array_get(fields, 2), "type"), "numeric");
    json_t *rows = json_object_get(r.json, "rows");
    assert_int_equal(json_array_size(rows), 3);
    json_t *row = json_array_get(rows, 2);
    assert_int_equal(json_integer_value(json_object_get(row, "id")), 3);
    assert_string_equal(jstr(row, "name"), "n3");
    assert_true(json_number_value(json_object_get(row, "amount")) == 4.5);
    assert_string_equal(jstr(row, "day"), "2024-01-04");
    assert_true(json_is_false(json_object_get(row, "ok")));
    assert_int_equal(json_integer_value(json_object_get(r.json, "rowCount")), 3);
    assert_true(json_is_false(json_object_get(r.json, "truncated")));
    assert_true(json_is_number(json_object_get(r.json, "elapsedMs")));
    cq_test_reply_done(&r);
}

static void sql_params_forms(void **state)
{
    struct cq_test_reply r;
    (void)state;
    /* `clariq run -p` strings: text:007 stays text */
    http(&r, "/sql", "{\"connection\":\"pg\",\"sql\":\"SELECT $1::text AS v, $2::int + 1 AS n\","
                     "\"args\":[\"text:007\",\"41\"]}");
    expect(&r, 200);
    json_t *row = json_array_get(json_object_get(r.json, "rows"), 0);
    assert_string_equal(jstr(row, "v"), "007");
    assert_int_equal(json_integer_value(json_object_get(row, "n")), 42);
    cq_test_reply_done(&r);
    /* JSON values: a string is text as is, null is NULL */
    http(&r, "/sql", "{\"connection\":\"pg\",\"sql\":\"SELECT $1::text AS v, "
                     "$2::int IS NULL AS z\",\"params\":[\"int:5\",null]}");
    expect(&r, 200);
    row = json_array_get(json_object_get(r.json, "rows"), 0);
    assert_string_equal(jstr(row, "v"), "int:5");
    assert_true(json_is_true(json_object_get(row, "z")));
    cq_test_reply_done(&r);
    http(&r, "/sql",
         "{\"connection\":\"pg\",\"sql\":\"SELECT 1\",\"params\":[1],\"args\":[\"1\"]}");
    expect_error(&r, 400, "INVALID_REQUEST", "either params");
    cq_test_reply_done(&r);
    http(&r, "/sql", "{\"connection\":\"pg\",\"sql\":\"SELECT 1\",\"args\":[\"int:x\"]}");
    expect_error(&r, 400, "INVALID_REQUEST", "args[0]");
    cq_test_reply_done(&r);
}

static void sql_limits(void **state)
{
    struct cq_test_reply r;
    (void)state;
    /* the request lowers the connection's max_rows */
    http(&r, "/sql", "{\"connection\":\"pg\",\"sql\":\"SELECT g FROM generate_series(1, 50) g\","
                     "\"limits\":{\"maxRows\":5}}");
    expect(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "rows")), 5);
    assert_int_equal(json_integer_value(json_object_get(r.json, "rowCount")), 5);
    assert_true(json_is_true(json_object_get(r.json, "truncated")));
    assert_string_equal(jstr(r.json, "truncatedReason"), "max_rows");
    cq_test_reply_done(&r);
    /* but cannot raise it: lite allows 10 rows */
    http(&r, "/sql", "{\"connection\":\"lite\",\"sql\":\"WITH RECURSIVE c(x) AS (SELECT 1 UNION "
                     "ALL SELECT x + 1 FROM c WHERE x < 50) SELECT x FROM c\","
                     "\"limits\":{\"maxRows\":1000}}");
    expect(&r, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "rowCount")), 10);
    assert_true(json_is_true(json_object_get(r.json, "truncated")));
    cq_test_reply_done(&r);
    /* a lowered timeout */
    http(&r, "/sql", "{\"connection\":\"pg\",\"sql\":\"SELECT pg_sleep(5)\","
                     "\"limits\":{\"timeoutMs\":200}}");
    expect_error(&r, 504, "QUERY_TIMEOUT", "");
    assert_string_equal(jstr(r.json, "connection"), "pg");
    cq_test_reply_done(&r);
    http(&r, "/sql", "{\"connection\":\"pg\",\"sql\":\"SELECT 1\",\"limits\":{\"maxRow\":1}}");
    expect_error(&r, 400, "INVALID_REQUEST", "did you mean 'maxRows'");
    cq_test_reply_done(&r);
}

static void sql_read_only(void **state)
{
    struct cq_test_reply r;
    char body[256];
    (void)state;
    snprintf(body, sizeof(body),
             "{\"connection\":\"pg\",\"sql\":\"INSERT INTO %s.items (id) VALUES (999)\"}",
             F.schema);
    http(&r, "/sql", body);
    expect_error(&r, 422, "READ_ONLY", "read-only");
    assert_string_equal(jstr(r.json, "connection"), "pg");
    cq_test_reply_done(&r);
    /* nothing was written */
    snprintf(body, sizeof(body),
             "{\"connection\":\"pg\",\"sql\":\"SELECT count(*) AS n FROM %s.items\"}", F.schema);
    http(&r, "/sql", body);
    expect(&r, 200);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(json_object_get(r.json, "rows"), 0),
                                           "n")),
        30);
    cq_test_reply_done(&r);
}

static void sql_sqlite(void **state)
{
    struct cq_test_reply r;
    (void)state;
    http(&r, "/sql", "{\"connection\":\"lite\",\"allowMulti\":true,\"sql\":\"DROP TABLE IF "
                     "EXISTS t; CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)\"}");
    expect(&r, 200);
    cq_test_reply_done(&r);
    http(&r, "/sql", "{\"connection\":\"lite\",\"sql\":\"INSERT INTO t (id, name) VALUES ($1, $2), "
                     "($3, $4)\",\"params\":[1,\"one\",2,\"two\"]}");
    expect(&r, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "rowsAffected")), 2);
    cq_test_reply_done(&r);
    http(&r, "/sql", "{\"connection\":\"lite\",\"sql\":\"SELECT id, name FROM t WHERE id = $1\","
                     "\"params\":[2]}");
    expect(&r, 200);
    json_t *row = json_array_get(json_object_get(r.json, "rows"), 0);
    assert_int_equal(json_integer_value(json_object_get(row, "id")), 2);
    assert_string_equal(jstr(row, "name"), "two");
    assert_int_equal(json_integer_value(json_object_get(r.json, "rowCount")), 1);
    cq_test_reply_done(&r);
    /* the same file through a read-only connection refuses writes */
    http(&r, "/sql", "{\"connection\":\"lite_ro\",\"sql\":\"DELETE FROM t\"}");
    expect_error(&r, 422, "READ_ONLY", "read-only");
    cq_test_reply_done(&r);
    http(&r, "/sql", "{\"connection\":\"lite_ro\",\"sql\":\"SELECT count(*) AS n FROM t\"}");
    expect(&r, 200);
    row = json_array_get(json_object_get(r.json, "rows"), 0);
    assert_int_equal(json_integer_value(json_object_get(row, "n")), 2);
    cq_test_reply_done(&r);
}

static void sql_streams_large_results(void **state)
{
    struct cq_test_reply r;
    (void)state;
    http(&r, "/sql", "{\"connection\":\"pg\",\"sql\":\"SELECT g, repeat('x', 100) AS pad FROM "
                     "generate_series(1, 100000) g\"}");
    expect(&r, 200);
    const char *te = cq_test_reply_header(&r, "Transfer-Encoding");
    if (te == NULL || strcasecmp(te, "chunked") != 0) {
        fail_msg("not chunked: %s", cq_buf_str(&r.headers));
    }
    assert_null(cq_test_reply_header(&r, "Content-Length"));
    assert_true(r.body.len > 10u * 1000 * 1000);
    json_t *rows = json_object_get(r.json, "rows");
    assert_int_equal(json_array_size(rows), 100000);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 99999), "g")),
                     100000);
    assert_int_equal(json_integer_value(json_object_get(r.json, "rowCount")), 100000);
    assert_true(json_is_false(json_object_get(r.json, "truncated")));
    cq_test_reply_done(&r);
}

static int count_sleepers(void)
{
    /* an idle session keeps showing its last query: only active ones count */
    PGresult *res = PQexec(F.pg, "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                                 "AND query LIKE 'SELECT pg_sleep(30) /* it_http_sql */%'");
    int n = PQresultStatus(res) == PGRES_TUPLES_OK ? atoi(PQgetvalue(res, 0, 0)) : -1;
    PQclear(res);
    return n;
}

static void sql_disconnect_cancels(void **state)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[256];
    (void)state;
    snprintf(url, sizeof(url), "%s/sql", F.url);
    h = curl_slist_append(h, "X-API-Key: " KEY_ALL);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"connection\":\"pg\",\"sql\":\"SELECT "
                                            "pg_sleep(30) /* it_http_sql */\"}");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 1000L);
    assert_int_equal(curl_easy_perform(c), CURLE_OPERATION_TIMEDOUT);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    int n = -1;
    for (int i = 0; i < 50 && n != 0; i++) { /* up to 5 s */
        usleep(100 * 1000);
        n = count_sleepers();
    }
    assert_int_equal(n, 0);
}

static size_t abort_after_100k(char *p, size_t size, size_t n, void *ud)
{
    size_t *got = ud;
    (void)p;
    *got += size * n;
    return *got > 100000 ? 0 : size * n; /* 0: curl aborts the transfer */
}

static int count_active(const char *prefix)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
             "AND query LIKE '%s%%'", prefix);
    PGresult *res = PQexec(F.pg, sql);
    int n = PQresultStatus(res) == PGRES_TUPLES_OK ? atoi(PQgetvalue(res, 0, 0)) : -1;
    PQclear(res);
    return n;
}

/* A client that hangs up in the middle of a streamed result stops the statement. */
static void sql_disconnect_mid_stream(void **state)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[256];
    size_t got = 0;
    (void)state;
    snprintf(url, sizeof(url), "%s/sql", F.url);
    h = curl_slist_append(h, "X-API-Key: " KEY_ALL);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    /* about 5 GB of JSON: only backpressure keeps it from being produced at once */
    curl_easy_setopt(c, CURLOPT_POSTFIELDS,
                     "{\"connection\":\"pg\",\"sql\":\"SELECT g, repeat('x', 1000) AS pad "
                     "FROM generate_series(1, 5000000) g /* it_http_sql_stream */\"}");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, abort_after_100k);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    assert_int_equal(curl_easy_perform(c), CURLE_WRITE_ERROR);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    assert_true(got > 100000);
    int n = -1;
    for (int i = 0; i < 50 && n != 0; i++) { /* up to 5 s */
        usleep(100 * 1000);
        n = count_active("SELECT g, repeat(");
    }
    assert_int_equal(n, 0);
}

/* ---- many requests at once: pipelined statements answer each their own ---------------- */

#define CONC_EACH 25

struct conc {
    const char *base;   /* the server */
    const char *conn;   /* the connection to query */
    bool show;          /* client 0: every 3rd request a SHOW, which cannot be pipelined and
                           waits for the pool on a worker */
};

/* Every 5th request fails on the server (division by zero, SQLSTATE 22012); the others
 * must come back with their own number. */
static void *conc_main(void *arg)
{
    struct cq_test_tally *t = arg;
    const struct conc *c = t->ctx;
    for (int i = 0; i < CONC_EACH; i++) {
        struct cq_test_reply r;
        char body[256];
        int n = (t->id + 1) * 1000 + i;
        bool fails = i % 5 == 4;
        if (c->show && t->id == 0 && i % 3 == 0) {
            snprintf(body, sizeof(body), "{\"connection\":\"%s\",\"sql\":\"SHOW TimeZone\"}",
                     c->conn);
        } else {
            snprintf(body, sizeof(body),
                     "{\"connection\":\"%s\",\"sql\":\"%s\",\"params\":[%d]}", c->conn,
                     fails ? "SELECT 1 / ($1::int - $1::int) AS n" : "SELECT $1::int AS n", n);
        }
        http_to(&r, c->base, "/sql", KEY_ALL, body);
        json_t *row = json_array_get(json_object_get(r.json, "rows"), 0);
        if (c->show && t->id == 0 && i % 3 == 0) {
            if (r.status != 200) {
                cq_test_tally_bad(t, "SHOW: HTTP %ld %.200s", r.status, cq_buf_str(&r.body));
            }
        } else if (fails) {
            if (r.status != 422 || strcmp(jstr(r.json, "sqlstate"), "22012") != 0) {
                cq_test_tally_bad(t, "expected 422 with SQLSTATE 22012: HTTP %ld %.200s",
                                  r.status, cq_buf_str(&r.body));
            }
        } else if (r.status != 200 || json_integer_value(json_object_get(row, "n")) != n ||
                   json_array_size(json_object_get(r.json, "rows")) != 1) {
            cq_test_tally_bad(t, "expected %d: HTTP %ld %.200s", n, r.status,
                              cq_buf_str(&r.body));
        }
        cq_test_reply_done(&r);
    }
    return NULL;
}

static void sql_concurrent_requests_get_their_own_answers(void **state)
{
    struct conc c = {.base = F.url, .conn = "pg"};
    (void)state;
    cq_test_parallel(16, conc_main, &c);
}

/* One connection in the pool, taken in turn by the loop (pipelined statements) and by
 * workers (a SHOW cannot be pipelined and waits for the pool): every answer is right and
 * nobody waits past the queue timeout. */
static void sql_pipelined_and_waiting_share_one_connection(void **state)
{
    char text[1024], url[128];
    struct cq_http_server *srv;
    (void)state;
    snprintf(text, sizeof(text),
             "connections:\n"
             "  pg1: {url: '%s', pool: {max: 1}, limits: {queue_timeout: 5s}}\n"
             "server:\n"
             "  listen: 127.0.0.1:0\n"
             "  access_log: false\n"
             "  api_keys:\n"
             "    - {name: all, key: " KEY_ALL ", connections: '*'}\n",
             F.dsn);
    srv = serve(text, url, sizeof(url));
    struct conc c = {.base = url, .conn = "pg1", .show = true};
    cq_test_parallel(16, conc_main, &c);
    cq_http_server_stop(srv);
    cq_http_server_free(srv);
}

static void sql_errors(void **state)
{
    struct cq_test_reply r;
    (void)state;
    http(&r, "/sql", "{\"connection\":\"nope\",\"sql\":\"SELECT 1\"}");
    expect_error(&r, 404, "UNKNOWN_CONNECTION", "no connection named 'nope'");
    cq_test_reply_done(&r);
    http(&r, "/sql", "{\"connection\":\"pg\",\"sql\":\"SELECT * FROM no_such_table\"}");
    expect_error(&r, 422, "QUERY_FAILED", "no_such_table");
    assert_string_equal(jstr(r.json, "sqlstate"), "42P01");
    cq_test_reply_done(&r);
    http(&r, "/sql", "{\"connection\":");
    expect_error(&r, 400, "INVALID_JSON", "Request body is not valid JSON");
    cq_test_reply_done(&r);
    http(&r, "/sql", "[1]");
    expect_error(&r, 400, "INVALID_BODY", "connection and sql");
    cq_test_reply_done(&r);
    http(&r, "/sql", "{\"connection\":\"pg\"}");
    expect_error(&r, 400, "INVALID_REQUEST", "sql is required");
    cq_test_reply_done(&r);
    http(&r, "/sql", "{\"connection\":\"pg\",\"sql\":\"SELECT 1\",\"parms\":[]}");
    expect_error(&r, 400, "INVALID_REQUEST", "did you mean 'params'");
    cq_test_reply_done(&r);
    /* a key limited to lite */
    http_to(&r, F.url, "/sql", KEY_LITE, "{\"connection\":\"pg\",\"sql\":\"SELECT 1\"}");
    expect(&r, 403);
    assert_string_equal(cq_buf_str(&r.body), "{\"error\":\"FORBIDDEN\",\"message\":\"API key "
                                             "'liteonly' may not use connection 'pg'\"}");
    cq_test_reply_done(&r);
    http_to(&r, F.url, "/sql", KEY_LITE, "{\"connection\":\"lite\",\"sql\":\"SELECT 7 AS x\"}");
    expect(&r, 200);
    cq_test_reply_done(&r);
}

/* ---- connections ----------------------------------------------------------------------- */

static void connections_list(void **state)
{
    struct cq_test_reply r;
    (void)state;
    http(&r, "/connections", NULL);
    expect(&r, 200);
    assert_int_equal(json_array_size(r.json), 3);
    json_t *pg = json_array_get(r.json, 0);
    assert_string_equal(jstr(pg, "name"), "pg");
    assert_string_equal(jstr(pg, "driver"), "postgres");
    assert_true(json_is_true(json_object_get(pg, "readOnly")));
    json_t *lim = json_object_get(pg, "limits");
    assert_int_equal(json_integer_value(json_object_get(lim, "maxRows")), 150000);
    assert_int_equal(json_integer_value(json_object_get(lim, "timeoutMs")), 20000);
    json_t *pool = json_object_get(pg, "pool");
    assert_int_equal(json_integer_value(json_object_get(pool, "max")), 4);
    assert_true(json_integer_value(json_object_get(pool, "open")) >= 1); /* used above */
    json_t *lite = json_array_get(r.json, 1);
    assert_string_equal(jstr(lite, "driver"), "sqlite");
    assert_true(json_is_false(json_object_get(lite, "readOnly")));
    cq_test_reply_done(&r);
    /* a key sees only what it may use */
    http_to(&r, F.url, "/connections", KEY_LITE, NULL);
    expect(&r, 200);
    assert_int_equal(json_array_size(r.json), 1);
    assert_string_equal(jstr(json_array_get(r.json, 0), "name"), "lite");
    cq_test_reply_done(&r);
    /* the password of a URL never shows */
    http_to(&r, F.url2, "/connections", KEY_ALL, NULL);
    expect(&r, 200);
    assert_null(strstr(cq_buf_str(&r.body), PG_PASSWORD));
    assert_non_null(strstr(cq_buf_str(&r.body), "postgres://app:***@127.0.0.1:1/x"));
    cq_test_reply_done(&r);
}

static void connections_test(void **state)
{
    struct cq_test_reply r;
    (void)state;
    http(&r, "/connections/pg/test", "");
    expect(&r, 200);
    assert_true(json_is_true(json_object_get(r.json, "ok")));
    assert_string_equal(jstr(r.json, "name"), "pg");
    assert_true(strncmp(jstr(r.json, "server"), "PostgreSQL ", 11) == 0);
    assert_true(json_number_value(json_object_get(r.json, "latencyMs")) > 0);
    cq_test_reply_done(&r);
    http(&r, "/connections/lite/test", "");
    expect(&r, 200);
    assert_true(strncmp(jstr(r.json, "server"), "SQLite ", 7) == 0);
    cq_test_reply_done(&r);
    http(&r, "/connections/nope/test", "");
    expect_error(&r, 404, "UNKNOWN_CONNECTION", "nope");
    cq_test_reply_done(&r);
    http_to(&r, F.url, "/connections/pg/test", KEY_LITE, "");
    expect_error(&r, 403, "FORBIDDEN", "may not use connection 'pg'");
    cq_test_reply_done(&r);
    http_to(&r, F.url2, "/connections/bad/test", KEY_ALL, "");
    expect_error(&r, 503, "CONNECTION_FAILED", "bad");
    assert_null(strstr(cq_buf_str(&r.body), PG_PASSWORD));
    cq_test_reply_done(&r);
}

/* ---- operations ------------------------------------------------------------------------ */

static void ready(void **state)
{
    struct cq_test_reply r;
    (void)state;
    http_to(&r, F.url, "/ready", NULL, NULL); /* a probe needs no key */
    expect(&r, 200);
    assert_true(json_is_true(json_object_get(r.json, "ready")));
    json_t *conns = json_object_get(r.json, "connections");
    assert_int_equal(json_object_size(conns), 3); /* no catalog: every connection */
    assert_true(json_is_true(json_object_get(json_object_get(conns, "pg"), "ready")));
    assert_true(json_is_number(json_object_get(json_object_get(conns, "lite"), "latencyMs")));
    cq_test_reply_done(&r);
    http_to(&r, F.url2, "/ready", NULL, NULL);
    expect(&r, 503);
    assert_true(json_is_false(json_object_get(r.json, "ready")));
    conns = json_object_get(r.json, "connections");
    assert_true(json_is_true(json_object_get(json_object_get(conns, "pg"), "ready")));
    json_t *bad = json_object_get(conns, "bad");
    assert_true(json_is_false(json_object_get(bad, "ready")));
    assert_true(strlen(jstr(bad, "error")) > 0);
    assert_null(strstr(cq_buf_str(&r.body), PG_PASSWORD));
    cq_test_reply_done(&r);
}

/* A Prometheus sample: metric name, optional {labels}, a space, a number. */
static bool sample_line_ok(const char *p, size_t len)
{
    size_t i = 0;
    char num[64], *end = NULL;
    while (i < len && (p[i] == '_' || p[i] == ':' || (p[i] >= 'a' && p[i] <= 'z') ||
                       (p[i] >= 'A' && p[i] <= 'Z') || (i > 0 && p[i] >= '0' && p[i] <= '9'))) {
        i++;
    }
    if (i == 0) {
        return false;
    }
    if (i < len && p[i] == '{') { /* label values are quoted and may hold '}' */
        bool quoted = false;
        for (i++; i < len && (quoted || p[i] != '}'); i++) {
            if (quoted && p[i] == '\\') {
                i++;
            } else if (p[i] == '"') {
                quoted = !quoted;
            }
        }
        if (i >= len) {
            return false;
        }
        i++;
    }
    if (i >= len || p[i] != ' ' || len - i - 1 >= sizeof(num)) {
        return false;
    }
    snprintf(num, sizeof(num), "%.*s", (int)(len - i - 1), p + i + 1);
    strtod(num, &end);
    return end != num && (*end == '\0' || *end == ' ');
}

static void metrics(void **state)
{
    struct cq_test_reply r;
    (void)state;
    http(&r, "/metrics", NULL);
    expect(&r, 200);
    const char *ct = cq_test_reply_header(&r, "Content-Type");
    assert_non_null(ct);
    assert_non_null(strstr(ct, "text/plain"));
    assert_non_null(strstr(ct, "version=0.0.4"));
    const char *b = cq_buf_str(&r.body);
    assert_non_null(strstr(b, "# TYPE clariq_http_requests_total counter"));
    assert_non_null(strstr(b, "route=\"/sql\""));
    assert_non_null(strstr(b, "clariq_query_duration_seconds"));
    assert_non_null(strstr(b, "connection=\"pg\""));
    /* sql_errors ran before: each error code counted once */
    assert_non_null(strstr(b, "clariq_errors_total{code=\"QUERY_FAILED\"} 1\n"));
    assert_non_null(strstr(b, "clariq_errors_total{code=\"FORBIDDEN\"} 2\n"));
    /* every sample line is "name{labels} value" or "name value" */
    for (const char *line = b; *line != '\0';) {
        size_t len = strcspn(line, "\n");
        if (len > 0 && line[0] != '#' && !sample_line_ok(line, len)) {
            fail_msg("bad sample line: %.*s", (int)len, line);
        }
        line += len + (line[len] == '\n' ? 1 : 0);
    }
    cq_test_reply_done(&r);
}

static void config_without_secrets(void **state)
{
    static const char *const secrets[] = {PG_PASSWORD, SLACK_TOKEN, HOOK_TOKEN, HMAC_SECRET,
                                          MAIL_PASSWORD, "hdr-token-777", KEY_ALL, KEY_LITE,
                                          NULL};
    struct cq_test_reply r;
    (void)state;
    http_to(&r, F.url2, "/config", KEY_ALL, NULL);
    expect(&r, 200);
    for (size_t i = 0; secrets[i] != NULL; i++) {
        if (strstr(cq_buf_str(&r.body), secrets[i]) != NULL) {
            fail_msg("/config shows '%s': %s", secrets[i], cq_buf_str(&r.body));
        }
    }
    json_t *conns = json_object_get(r.json, "connections");
    assert_string_equal(jstr(json_object_get(conns, "bad"), "url"),
                        "postgres://app:***@127.0.0.1:1/x?connect_timeout=2");
    json_t *chans = json_object_get(r.json, "channels");
    assert_string_equal(jstr(json_object_get(chans, "team"), "webhook_url"), "***");
    assert_string_equal(jstr(json_object_get(chans, "hook"), "hmac_secret"), "***");
    assert_string_equal(jstr(json_object_get(chans, "mail"), "password"), "***");
    assert_string_equal(jstr(json_object_get(chans, "mail"), "host"), "smtp.example.com");
    json_t *keys = json_object_get(json_object_get(r.json, "server"), "api_keys");
    assert_int_equal(json_array_size(keys), 2);
    assert_string_equal(jstr(json_array_get(keys, 0), "name"), "all");
    assert_string_equal(jstr(json_array_get(keys, 0), "key"), "***");
    assert_string_equal(jstr(json_object_get(r.json, "server"), "max_body"), "1MB");
    cq_test_reply_done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sql_pg_rows_and_types),
        cmocka_unit_test(sql_params_forms),
        cmocka_unit_test(sql_limits),
        cmocka_unit_test(sql_read_only),
        cmocka_unit_test(sql_sqlite),
        cmocka_unit_test(sql_streams_large_results),
        cmocka_unit_test(sql_disconnect_cancels),
        cmocka_unit_test(sql_disconnect_mid_stream),
        cmocka_unit_test(sql_errors),
        cmocka_unit_test(connections_list),
        cmocka_unit_test(connections_test),
        cmocka_unit_test(ready),
        cmocka_unit_test(metrics),
        cmocka_unit_test(config_without_secrets),
        /* last: it adds errors the metrics test counts */
        cmocka_unit_test(sql_concurrent_requests_get_their_own_answers),
        cmocka_unit_test(sql_pipelined_and_waiting_share_one_connection),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
