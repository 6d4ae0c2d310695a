/*
 * it_http.c - `clariq serve` over real HTTP (libcurl): the governed API of spec §1 (every
 * endpoint, status and error body), a client-compatibility check that sends what
 * @mkven/multi-db-client sends and rebuilds its error classes from the bodies (spec §1.4),
 * API keys and narrowing, CORS, request ids, body caps and timeouts, a client disconnect
 * canceling its PostgreSQL statement, 2,000 idle connections, and (running the binary)
 * SIGTERM draining and SIGHUP reloading.
 *
 * The server runs in-process on port 0 with a catalog over the schema it_http_<pid> of the
 * fixture PostgreSQL (dropped at the end); the lifecycle tests start `clariq serve`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/time.h"
#include "conf/conf.h"
#include "cqtest.h"
#include "drv/drv.h"
#include "http/http.h"
#include "httptest.h"

#define N_IDLE 2000

struct fx {
    char schema[64];
    char *tmpdir;
    char cfg_path[1024];
    const char *pg_dsn;
    struct cq_conn *pg;             /* seeding and pg_stat_activity */
    struct cq_http_server *srv;
    char url[128];
};

static struct fx X;

/* ---- HTTP client -------------------------------------------------------------------------- */

struct hres {
    long status;
    char *body;                     /* malloc'ed, NUL-terminated */
    size_t len;
    char hdrs[16384];
    size_t hlen;
    json_t *json;                   /* parsed body or NULL */
    CURLcode cc;
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct hres *r = ctx;
    size_t len = size * n;
    r->body = realloc(r->body, r->len + len + 1);
    memcpy(r->body + r->len, p, len);
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct hres *r = ctx;
    size_t len = size * n;
    if (r->hlen + len < sizeof(r->hdrs)) {
        memcpy(r->hdrs + r->hlen, p, len);
        r->hlen += len;
        r->hdrs[r->hlen] = '\0';
    }
    return len;
}

/* A request to base+path; headers NULL-terminated ("Name: value"); body NULL = none. */
static void http_at(const char *base, const char *method, const char *path, const char *body,
                    const char *const *headers, long timeout_ms, struct hres *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[2048];

    memset(r, 0, sizeof(*r));
    snprintf(url, sizeof(url), "%s%s", base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    h = curl_slist_append(h, "Expect:");
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
        h = curl_slist_append(h, headers[i]);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 20000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    r->cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->body != NULL) {
        r->json = json_loadb(r->body, r->len, JSON_DECODE_ANY, NULL);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static void http(const char *method, const char *path, const char *body,
                 const char *const *headers, struct hres *r)
{
    http_at(X.url, method, path, body, headers, 0, r);
}

static void hres_free(struct hres *r)
{
    free(r->body);
    json_decref(r->json);
    r->body = NULL;
    r->json = NULL;
}

/* A response header's value (case-insensitive name), copied to out; NULL when absent. */
static const char *hdr(const struct hres *r, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    for (const char *p = r->hdrs; *p != '\0';) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ') {
                v++;
            }
            snprintf(out, size, "%.*s", (int)(len - (size_t)(v - p)), v);
            return out;
        }
        p += len + (eol ? 2 : 0);
    }
    return NULL;
}

/* Every JSON response: Content-Type application/json and a Content-Length equal to it. */
static void assert_json_framing(const struct hres *r)
{
    char v[256];
    assert_int_equal(r->cc, CURLE_OK);
    assert_non_null(hdr(r, "Content-Type", v, sizeof(v)));
    assert_string_equal(v, "application/json");
    assert_non_null(hdr(r, "Content-Length", v, sizeof(v)));
    assert_int_equal(strtol(v, NULL, 10), (long)r->len);
    assert_non_null(r->json);
}

/* The server-level error body {"error":code,"message":msg} with exactly those keys. */
static void assert_server_error(const struct hres *r, long status, const char *code,
                                const char *msg)
{
    assert_json_framing(r);
    assert_int_equal(r->status, status);
    assert_int_equal(json_object_size(r->json), 2);
    assert_string_equal(json_string_value(json_object_get(r->json, "error")), code);
    if (msg != NULL) {
        assert_string_equal(json_string_value(json_object_get(r->json, "message")), msg);
    } else {
        assert_true(json_is_string(json_object_get(r->json, "message")));
    }
}

static const char *const KEY_FULL[] = {"X-API-Key: k-full-0123456789abcdef", NULL};
static const char *const KEY_READER[] = {"Authorization: Bearer k-reader-0123456789abcdef", NULL};

/* ---- PostgreSQL helpers ----------------------------------------------------------------- */

static void must_exec(const char *sql)
{
    struct cq_err err = {0};
    struct cq_stmt st = {.sql = sql, .allow_multi = true};
    if (cq_drv_exec(X.pg, &st, &cq_drv_discard_sink, &err) != CQ_OK) {
        fail_msg("%s: %s", sql, err.msg);
    }
}

static int cnt_row(void *ctx, size_t n, const struct cq_value *v, struct cq_err *err)
{
    (void)err;
    if (n > 0 && v[0].p != NULL) {
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%.*s", (int)v[0].len, v[0].p);
        *(long *)ctx = strtol(tmp, NULL, 10);
    }
    return CQ_OK;
}

static int cnt_cols(void *ctx, size_t n, const struct cq_col *c, struct cq_err *err)
{
    (void)ctx, (void)n, (void)c, (void)err;
    return CQ_OK;
}

static int cnt_end(void *ctx, const struct cq_result_info *i, struct cq_err *err)
{
    (void)ctx, (void)i, (void)err;
    return CQ_OK;
}

static long pg_count(const char *sql)
{
    long n = -1;
    struct cq_rowsink sink = {&n, cnt_cols, cnt_row, cnt_end};
    struct cq_stmt st = {.sql = sql};
    struct cq_err err = {0};
    if (cq_drv_exec(X.pg, &st, &sink, &err) != CQ_OK) {
        fail_msg("%s: %s", sql, err.msg);
    }
    return n;
}

/* Active backends running a sleep of our schema's views. */
static long sleepers(const char *view)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
             "AND pid <> pg_backend_pid() AND query LIKE '%%\"%s\".\"%s\"%%'", X.schema, view);
    return pg_count(sql);
}

/* ---- configuration ------------------------------------------------------------------------ */

/* The whole test configuration; extra is appended under server: (indented by 2). */
static void write_config(const char *path, const char *listen, const char *server_extra)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    const char *s = X.schema;
    fprintf(f,
            "connections:\n"
            "  pg:\n"
            "    url: '%s'\n"
            "    pool: {max: 8}\n"
            "  down:\n"
            "    url: postgresql://nobody@127.0.0.1:1/nothing\n"
            "catalog:\n"
            "  databases:\n"
            "    - {id: pg, engine: postgres}\n"
            "    - {id: down, engine: postgres}\n"
            "  tables:\n"
            "    - {id: users, apiName: users, database: pg, physicalName: %s.users,\n"
            "       primaryKey: [id], relations: [],\n"
            "       columns: [{apiName: id, physicalName: id, type: int, nullable: false},\n"
            "                 {apiName: name, physicalName: name, type: string, nullable: false,\n"
            "                  maskingFn: name},\n"
            "                 {apiName: email, physicalName: email, type: string,\n"
            "                  nullable: true}]}\n"
            "    - {id: slow, apiName: slow, database: pg, physicalName: %s.slow,\n"
            "       primaryKey: [id], relations: [],\n"
            "       columns: [{apiName: id, physicalName: id, type: int, nullable: false}]}\n"
            "    - {id: nap, apiName: nap, database: pg, physicalName: %s.nap,\n"
            "       primaryKey: [id], relations: [],\n"
            "       columns: [{apiName: id, physicalName: id, type: int, nullable: false}]}\n"
            "    - {id: ghost, apiName: ghost, database: pg, physicalName: %s.no_such_table,\n"
            "       primaryKey: [id], relations: [],\n"
            "       columns: [{apiName: id, physicalName: id, type: int, nullable: false}]}\n"
            "    - {id: remote, apiName: remote, database: down, physicalName: public.remote,\n"
            "       primaryKey: [id],\n"
            "       relations: [{column: userId, references: {table: users, column: id},\n"
            "                    type: many-to-one}],\n"
            "       columns: [{apiName: id, physicalName: id, type: int, nullable: false},\n"
            "                 {apiName: userId, physicalName: user_id, type: int,\n"
            "                  nullable: false}]}\n"
            "  caches: []\n"
            "  externalSyncs: []\n"
            "roles:\n"
            "  - {id: admin, tables: '*'}\n"
            "  - id: reader\n"
            "    tables: [{tableId: users, allowedColumns: [id, name], maskedColumns: [name]}]\n"
            "server:\n"
            "  listen: '%s'\n"
            "  max_body: 64KB\n"
            "  request_timeout: 3s\n"
            "  shutdown_timeout: 10s\n"
            "  access_log: true\n"
            "  api_keys:\n"
            "    - {name: full, key: k-full-0123456789abcdef, connections: '*',\n"
            "       roles: {user: [admin, reader]}}\n"
            "    - {name: reader, key: k-reader-0123456789abcdef, roles: {user: [reader]}}\n"
            "    - {name: noroles, key: k-noroles-0123456789abcdef, connections: [pg]}\n"
            "    - {name: old, key: k-old-0123456789abcdef, revoked: true}\n"
            "    - {name: limited, key: k-limited-0123456789abcdef, roles: {user: [admin]},\n"
            "       rate_limit: {requests_per_second: 0.05, burst: 1}}\n"
            "%s",
            X.pg_dsn, s, s, s, s, listen, server_extra ? server_extra : "");
    fclose(f);
    assert_true(cq_test_write_file(path, text));
    free(text);
}

static struct cq_http_server *start_server(const char *extra)
{
    struct cq_conf_diags diags = {0};
    struct cq_err err = {0};
    char path[1100];
    struct cq_conf *conf;

    snprintf(path, sizeof(path), "%s/inproc.yaml", X.tmpdir);
    write_config(path, "127.0.0.1:0", extra);
    conf = cq_conf_load_file(path, &diags, &err);
    if (conf == NULL) {
        struct cq_buf b;
        cq_buf_init(&b, 1 << 16);
        cq_conf_diags_format(&diags, &b);
        fail_msg("config: %s %s", err.msg, cq_buf_str(&b));
    }
    return cq_test_serve(conf, NULL, 0);
}

static int setup(void **state)
{
    struct cq_err err = {0};
    struct cq_dsn dsn = {.name = "seed"};
    char sql[2048];
    (void)state;

    X.pg_dsn = cq_test_require("CQ_IT_PG_DSN");
    curl_global_init(CURL_GLOBAL_ALL);
    signal(SIGPIPE, SIG_IGN);
    X.tmpdir = cq_test_tmpdir("it_http");
    snprintf(X.schema, sizeof(X.schema), "it_http_%ld", (long)getpid());
    dsn.target = X.pg_dsn;
    X.pg = cq_drv_connect(cq_drv_find("postgres"), &dsn, &err);
    if (X.pg == NULL) {
        fail_msg("connect: %s", err.msg);
    }
    snprintf(sql, sizeof(sql),
             "CREATE SCHEMA %s;"
             "CREATE TABLE %s.users (id int PRIMARY KEY, name text NOT NULL, email text);"
             "INSERT INTO %s.users VALUES (1, 'Alice', 'alice@example.com'),"
             " (2, 'Bob', NULL), (3, 'Carol', 'carol@example.org');"
             "CREATE VIEW %s.slow AS SELECT 1 AS id FROM pg_sleep(60);"
             "CREATE VIEW %s.nap AS SELECT 1 AS id FROM pg_sleep(1.5);",
             X.schema, X.schema, X.schema, X.schema, X.schema);
    must_exec(sql);
    X.srv = start_server(NULL);
    snprintf(X.url, sizeof(X.url), "%s", cq_http_server_url(X.srv));
    return 0;
}

static int teardown(void **state)
{
    char sql[256];
    (void)state;
    cq_http_server_free(X.srv);
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", X.schema);
    must_exec(sql);
    cq_drv_disconnect(X.pg);
    free(X.tmpdir);
    curl_global_cleanup();
    return 0;
}

/* ---- §1.2 endpoints ---------------------------------------------------------------------- */

static void health_always_200_with_every_executor(void **state)
{
    struct hres r;
    json_t *ex;
    (void)state;

    http("GET", "/health?probe=1", NULL, NULL, &r); /* no key: probes are exempt */
    assert_json_framing(&r);
    assert_int_equal(r.status, 200);
    ex = json_object_get(r.json, "executors");
    assert_true(json_is_false(json_object_get(r.json, "healthy"))); /* "down" is down */
    assert_true(json_is_true(json_object_get(json_object_get(ex, "pg"), "healthy")));
    assert_true(json_is_integer(json_object_get(json_object_get(ex, "pg"), "latencyMs")));
    assert_true(json_integer_value(json_object_get(json_object_get(ex, "pg"), "latencyMs")) >=
                0);
    assert_true(json_is_false(json_object_get(json_object_get(ex, "down"), "healthy")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(ex, "down"),
                                                          "error")),
                        "PostgreSQL ping failed");
    assert_int_equal(json_object_size(ex), 2);
    assert_true(json_is_object(json_object_get(r.json, "cacheProviders")));
    hres_free(&r);
}

static void unknown_route_and_wrong_method_are_404(void **state)
{
    static const struct {
        const char *method, *path, *msg;
    } cases[] = {
        {"PUT", "/query", "PUT /query not found"},
        {"GET", "/query", "GET /query not found"},
        {"GET", "/health/", "GET /health/ not found"},
        {"POST", "/health", "POST /health not found"},
        {"GET", "/nope?x=1", "GET /nope not found"},
        {"DELETE", "/validate/config", "DELETE /validate/config not found"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hres r;
        http(cases[i].method, cases[i].path, NULL, KEY_FULL, &r);
        assert_server_error(&r, 404, "NotFound", cases[i].msg);
        hres_free(&r);
    }
}

static void body_guards(void **state)
{
    static const char *const paths[] = {"/query", "/validate/query", "/validate/config"};
    static const char *const not_bodies[] = {"", "null", "42", "\"text\"", "true", "false"};
    (void)state;
    for (size_t p = 0; p < 3; p++) {
        const char *msg = p == 0 ? "Request body must be an object with definition and context"
                                 : "Request body must be an object";
        struct hres r;
        for (size_t i = 0; i < sizeof(not_bodies) / sizeof(not_bodies[0]); i++) {
            http("POST", paths[p], not_bodies[i], KEY_FULL, &r);
            assert_server_error(&r, 400, "INVALID_BODY", msg);
            hres_free(&r);
        }
        http("POST", paths[p], "{\"definition\":", KEY_FULL, &r);
        assert_server_error(&r, 400, "INVALID_JSON", "Request body is not valid JSON");
        hres_free(&r);
        http("POST", paths[p], "   ", KEY_FULL, &r);
        assert_server_error(&r, 400, "INVALID_JSON", "Request body is not valid JSON");
        hres_free(&r);
        /* an array passes the guard, then fails like the reference's TypeError */
        http("POST", paths[p], "[]", KEY_FULL, &r);
        assert_server_error(&r, 500, "InternalError", NULL);
        hres_free(&r);
    }
    {
        struct hres r;
        http("POST", "/query", "{}", KEY_FULL, &r);
        assert_server_error(&r, 500, "InternalError", NULL);
        hres_free(&r);
        http("POST", "/query", "{\"definition\":{\"from\":\"users\"}}", KEY_FULL, &r);
        assert_server_error(&r, 500, "InternalError", NULL);
        hres_free(&r);
    }
}

static void query_data_sql_and_count(void **state)
{
    struct hres r;
    json_t *data;
    char body[512];
    (void)state;

    http("POST", "/query",
         "{\"definition\":{\"from\":\"users\",\"columns\":[\"id\",\"name\",\"email\"],"
         "\"orderBy\":[{\"column\":\"id\",\"direction\":\"asc\"}]},"
         "\"context\":{\"roles\":{\"user\":[\"admin\"]}}}",
         KEY_FULL, &r);
    assert_json_framing(&r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "kind")), "data");
    data = json_object_get(r.json, "data");
    assert_int_equal(json_array_size(data), (size_t)pg_count("SELECT 3"));
    {
        char sql[256];
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s.users", X.schema);
        assert_int_equal((long)json_array_size(data), pg_count(sql));
    }
    assert_string_equal(json_string_value(json_object_get(json_array_get(data, 0), "name")),
                        "Alice");
    assert_true(json_is_null(json_object_get(json_array_get(data, 1), "email")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "meta"),
                                                          "dialect")),
                        "postgres");
    hres_free(&r);

    snprintf(body, sizeof(body),
             "{\"definition\":{\"from\":\"users\",\"executeMode\":\"%s\"},"
             "\"context\":{\"roles\":{\"user\":[\"admin\"]}}}", "sql-only");
    http("POST", "/query", body, KEY_FULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "kind")), "sql");
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "sql")), X.schema));
    assert_null(json_object_get(json_object_get(json_object_get(r.json, "meta"), "timing"),
                                "executionMs"));
    hres_free(&r);

    snprintf(body, sizeof(body),
             "{\"definition\":{\"from\":\"users\",\"executeMode\":\"count\",\"filters\":"
             "[{\"column\":\"email\",\"operator\":\"isNotNull\"}]},"
             "\"context\":{\"roles\":{\"user\":[\"admin\"]}}}");
    http("POST", "/query", body, KEY_FULL, &r);
    assert_int_equal(r.status, 200);
    {
        char sql[256];
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s.users WHERE email IS NOT NULL",
                 X.schema);
        assert_int_equal(json_integer_value(json_object_get(r.json, "count")), pg_count(sql));
    }
    hres_free(&r);
}

/* Many /query requests at once (pipelined on shared connections): each gets its own row. */
#define CONC_EACH 30

static void *conc_main(void *arg)
{
    static const char *const names[] = {"Alice", "Bob", "Carol"};
    struct cq_test_tally *t = arg;
    for (int i = 0; i < CONC_EACH; i++) {
        struct hres r;
        char body[512];
        int id = (t->id + i) % 3 + 1;
        snprintf(body, sizeof(body),
                 "{\"definition\":{\"from\":\"users\",\"columns\":[\"id\",\"name\"],"
                 "\"filters\":[{\"column\":\"id\",\"operator\":\"=\",\"value\":%d}]},"
                 "\"context\":{\"roles\":{\"user\":[\"admin\"]}}}", id);
        http("POST", "/query", body, KEY_FULL, &r);
        json_t *row = json_array_get(json_object_get(r.json, "data"), 0);
        const char *name = json_string_value(json_object_get(row, "name"));
        if (r.status != 200 || json_array_size(json_object_get(r.json, "data")) != 1 ||
            name == NULL || strcmp(name, names[id - 1]) != 0) {
            cq_test_tally_bad(t, "id %d: HTTP %ld %.200s", id, r.status,
                              r.body != NULL ? r.body : "");
        }
        hres_free(&r);
    }
    return NULL;
}

static void concurrent_queries_get_their_own_rows(void **state)
{
    (void)state;
    cq_test_parallel(16, conc_main, NULL);
}

static void validate_query_and_config(void **state)
{
    struct hres r;
    json_t *errors;
    (void)state;

    http("POST", "/validate/query",
         "{\"definition\":{\"from\":\"users\"},\"context\":{\"roles\":{\"user\":[\"admin\"]}}}",
         KEY_FULL, &r);
    assert_json_framing(&r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"valid\":true}");
    hres_free(&r);

    /* validation never touches a database: a table on the down database validates */
    http("POST", "/validate/query",
         "{\"definition\":{\"from\":\"remote\"},\"context\":{\"roles\":{\"user\":[\"admin\"]}}}",
         KEY_FULL, &r);
    assert_int_equal(r.status, 200);
    hres_free(&r);

    http("POST", "/validate/query",
         "{\"definition\":{\"from\":\"nope\"},\"context\":{\"roles\":{\"user\":[\"admin\"]}}}",
         KEY_FULL, &r);
    assert_json_framing(&r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")),
                        "VALIDATION_FAILED");
    assert_string_equal(json_string_value(json_object_get(r.json, "message")),
                        "Validation failed: 1 error");
    assert_string_equal(json_string_value(json_object_get(r.json, "fromTable")), "nope");
    errors = json_object_get(r.json, "errors");
    assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "code")),
                        "UNKNOWN_TABLE");
    assert_string_equal(r.body, "{\"code\":\"VALIDATION_FAILED\",\"message\":\"Validation "
                        "failed: 1 error\",\"fromTable\":\"nope\",\"errors\":[{\"code\":"
                        "\"UNKNOWN_TABLE\",\"message\":\"Unknown table 'nope'\",\"details\":"
                        "{\"table\":\"nope\"}}]}");
    hres_free(&r);

    http("POST", "/validate/config",
         "{\"metadata\":{\"databases\":[{\"id\":\"d\",\"engine\":\"postgres\"}],\"tables\":"
         "[{\"id\":\"t\",\"apiName\":\"t\",\"database\":\"d\",\"physicalName\":\"public.t\","
         "\"columns\":[{\"apiName\":\"id\",\"physicalName\":\"id\",\"type\":\"int\","
         "\"nullable\":false}],\"primaryKey\":[\"id\"],\"relations\":[]}],\"caches\":[],"
         "\"externalSyncs\":[]},\"roles\":\"ignored: not even an array\"}",
         KEY_FULL, &r);
    assert_json_framing(&r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"valid\":true}");
    hres_free(&r);

    http("POST", "/validate/config",
         "{\"metadata\":{\"databases\":[],\"tables\":[{\"id\":\"t\",\"apiName\":\"T\","
         "\"database\":\"nodb\",\"physicalName\":\"public.t\",\"columns\":[],\"primaryKey\":[],"
         "\"relations\":[]}],\"caches\":[],\"externalSyncs\":[]},\"roles\":[]}",
         KEY_FULL, &r);
    assert_json_framing(&r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "CONFIG_INVALID");
    assert_true(json_array_size(json_object_get(r.json, "errors")) >= 2);
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "message")),
                           "Config invalid: "));
    hres_free(&r);
}

/* ---- client compatibility (spec §1.4) ------------------------------------------------------ */

/* What @mkven/multi-db-client builds from a non-2xx body: the class name and its .code. */
struct rebuilt {
    const char *cls;
    const char *code;
};

static struct rebuilt rebuild(const json_t *body)
{
    static const char *const planner[] = {"UNREACHABLE_TABLES", "TRINO_DISABLED", "NO_CATALOG",
                                          "FRESHNESS_UNMET", NULL};
    static const char *const exec[] = {"EXECUTOR_MISSING", "CACHE_PROVIDER_MISSING",
                                       "QUERY_FAILED", "QUERY_TIMEOUT", NULL};
    static const char *const conn[] = {"CONNECTION_FAILED", "NETWORK_ERROR", "REQUEST_TIMEOUT",
                                       NULL};
    const char *code = json_string_value(json_object_get(body, "code"));
    struct rebuilt r = {"Error", NULL};
    if (code == NULL) {
        return r; /* {"error":...} server bodies become a plain Error */
    }
    if (strcmp(code, "VALIDATION_FAILED") == 0) {
        return (struct rebuilt){"ValidationError", code};
    }
    if (strcmp(code, "CONFIG_INVALID") == 0) {
        return (struct rebuilt){"ConfigError", code};
    }
    for (size_t i = 0; planner[i] != NULL; i++) {
        if (strcmp(code, planner[i]) == 0) {
            return (struct rebuilt){"PlannerError", code};
        }
    }
    for (size_t i = 0; exec[i] != NULL; i++) {
        if (strcmp(code, exec[i]) == 0) {
            /* ExecutionError(details ?? {code}): .code comes from details.code */
            const json_t *d = json_object_get(body, "details");
            return (struct rebuilt){"ExecutionError",
                                    d ? json_string_value(json_object_get(d, "code")) : code};
        }
    }
    for (size_t i = 0; conn[i] != NULL; i++) {
        if (strcmp(code, conn[i]) == 0) {
            return (struct rebuilt){"ConnectionError", code};
        }
    }
    if (strcmp(code, "METADATA_LOAD_FAILED") == 0 || strcmp(code, "ROLE_LOAD_FAILED") == 0) {
        return (struct rebuilt){"ProviderError", code};
    }
    return r;
}

/* POSTs like the client: JSON with Content-Type and the caller's custom headers. */
static void client_post(const char *path, const char *body, struct hres *r)
{
    static const char *const headers[] = {"Content-Type: application/json",
                                          "X-API-Key: k-full-0123456789abcdef", "X-Tenant: acme",
                                          "X-Correlation-Id: abc-123", NULL};
    http(path[0] == '/' ? "POST" : "GET", path, body, headers, r);
    assert_non_null(r->json); /* the client always calls res.json() first */
}

static void client_compat_rebuilds_each_error_class(void **state)
{
    struct hres r;
    struct rebuilt b;
    const json_t *d;
    (void)state;

    client_post("/query", "{\"definition\":{\"from\":\"users\",\"columns\":[\"nope\"]},"
                "\"context\":{\"roles\":{\"user\":[\"admin\"]}}}", &r);
    b = rebuild(r.json);
    assert_string_equal(b.cls, "ValidationError");
    assert_int_equal(r.status, 400);
    assert_string_equal(json_string_value(json_object_get(r.json, "fromTable")), "users");
    assert_true(json_array_size(json_object_get(r.json, "errors")) == 1);
    hres_free(&r);

    /* users and remote live on two databases and no Trino is configured */
    client_post("/query", "{\"definition\":{\"from\":\"remote\",\"joins\":[{\"table\":"
                "\"users\"}]},\"context\":{\"roles\":{\"user\":[\"admin\"]}}}", &r);
    b = rebuild(r.json);
    assert_string_equal(b.cls, "PlannerError");
    assert_int_equal(r.status, 422);
    d = json_object_get(r.json, "details");
    assert_string_equal(json_string_value(json_object_get(d, "code")), b.code);
    assert_string_equal(json_string_value(json_object_get(r.json, "fromTable")), "remote");
    assert_true(json_is_string(json_object_get(r.json, "message")));
    hres_free(&r);

    client_post("/query", "{\"definition\":{\"from\":\"ghost\"},\"context\":{\"roles\":"
                "{\"user\":[\"admin\"]}}}", &r);
    b = rebuild(r.json);
    assert_string_equal(b.cls, "ExecutionError");
    assert_non_null(b.code);
    assert_string_equal(b.code, "QUERY_FAILED");
    assert_int_equal(r.status, 500);
    d = json_object_get(r.json, "details");
    assert_string_equal(json_string_value(json_object_get(d, "dialect")), "postgres");
    assert_non_null(json_object_get(d, "database"));
    hres_free(&r);

    client_post("/query", "{\"definition\":{\"from\":\"remote\"},\"context\":{\"roles\":"
                "{\"user\":[\"admin\"]}}}", &r);
    b = rebuild(r.json);
    assert_string_equal(b.cls, "ConnectionError");
    assert_int_equal(r.status, 503);
    hres_free(&r);

    client_post("/validate/config", "{\"metadata\":{\"databases\":[{\"id\":\"x\",\"engine\":"
                "\"oracle\"}],\"tables\":[],\"caches\":[],\"externalSyncs\":[]},\"roles\":[]}",
                &r);
    b = rebuild(r.json);
    assert_string_equal(b.cls, "ConfigError");
    assert_int_equal(r.status, 400);
    hres_free(&r);

    client_post("/query", "nope", &r);
    b = rebuild(r.json);
    assert_string_equal(b.cls, "Error"); /* {"error":"INVALID_JSON"} has no code */
    hres_free(&r);

    client_post("/validate/query", "{\"definition\":{\"from\":\"users\"},\"context\":{\"roles\":"
                "{\"user\":[\"admin\"]}}}", &r);
    assert_int_equal(r.status, 200); /* 2xx: returned as-is */
    assert_true(json_is_true(json_object_get(r.json, "valid")));
    hres_free(&r);
}

/* ---- auth, narrowing, rate limits ------------------------------------------------------------ */

static void auth_missing_unknown_revoked(void **state)
{
    static const char *const wrong[] = {"X-API-Key: nope", NULL};
    static const char *const revoked[] = {"Authorization: Bearer k-old-0123456789abcdef", NULL};
    struct hres r;
    char v[64];
    (void)state;

    http("POST", "/validate/query", "{}", NULL, &r);
    assert_server_error(&r, 401, "UNAUTHORIZED", NULL);
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "message")), "Missing"));
    assert_non_null(hdr(&r, "WWW-Authenticate", v, sizeof(v)));
    hres_free(&r);
    http("POST", "/validate/query", "{}", wrong, &r);
    assert_server_error(&r, 401, "UNAUTHORIZED", NULL);
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "message")), "Unknown"));
    hres_free(&r);
    http("POST", "/validate/query", "{}", revoked, &r);
    assert_server_error(&r, 401, "UNAUTHORIZED", NULL);
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "message")), "revoked"));
    hres_free(&r);
    /* an unknown route says nothing to an anonymous caller */
    http("GET", "/secret", NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    hres_free(&r);
}

static void key_roles_narrow_the_context(void **state)
{
    static const char *const noroles[] = {"X-API-Key: k-noroles-0123456789abcdef", NULL};
    struct hres r;
    json_t *row;
    (void)state;

    /* no scope in the request: the key's roles apply (reader: name masked, no email) */
    http("POST", "/query", "{\"definition\":{\"from\":\"users\",\"orderBy\":[{\"column\":\"id\","
         "\"direction\":\"asc\"}]},\"context\":{\"roles\":{}}}", KEY_READER, &r);
    assert_int_equal(r.status, 200);
    row = json_array_get(json_object_get(r.json, "data"), 0);
    assert_string_equal(json_string_value(json_object_get(row, "name")), "A***e");
    assert_null(json_object_get(row, "email"));
    hres_free(&r);

    /* a role outside the key's list is refused */
    http("POST", "/query", "{\"definition\":{\"from\":\"users\"},\"context\":{\"roles\":"
         "{\"user\":[\"admin\"]}}}", KEY_READER, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")),
                        "VALIDATION_FAILED");
    assert_non_null(strstr(r.body, "admin"));
    hres_free(&r);

    /* a key without roles and a context without roles grants nothing (spec §0.9) */
    http("POST", "/query", "{\"definition\":{\"from\":\"users\"},\"context\":{\"roles\":{}}}",
         noroles, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")),
                        "VALIDATION_FAILED");
    assert_true(strstr(r.body, "ACCESS_DENIED") != NULL ||
                strstr(r.body, "FORBIDDEN_ROLE") != NULL);
    assert_null(json_object_get(r.json, "data"));
    hres_free(&r);
}

static void rate_limit_answers_429_with_retry_after(void **state)
{
    static const char *const limited[] = {"X-API-Key: k-limited-0123456789abcdef", NULL};
    struct hres r;
    char v[32];
    (void)state;

    http("POST", "/validate/query", "{\"definition\":{\"from\":\"users\"},\"context\":"
         "{\"roles\":{}}}", limited, &r);
    assert_int_equal(r.status, 200);
    hres_free(&r);
    http("POST", "/validate/query", "{\"definition\":{\"from\":\"users\"},\"context\":"
         "{\"roles\":{}}}", limited, &r);
    assert_server_error(&r, 429, "RATE_LIMITED", NULL);
    assert_non_null(hdr(&r, "Retry-After", v, sizeof(v)));
    assert_true(strtol(v, NULL, 10) >= 1);
    hres_free(&r);
}

/* ---- headers: CORS, request ids, content types ---------------------------------------------- */

static void cors_preflight_and_request_ids(void **state)
{
    static const char *const pre[] = {"Origin: https://app.example.com",
                                      "Access-Control-Request-Method: POST",
                                      "Access-Control-Request-Headers: content-type, x-api-key",
                                      NULL};
    static const char *const evil[] = {"Origin: https://evil.example.com",
                                       "Access-Control-Request-Method: POST", NULL};
    static const char *const rid[] = {"X-Request-Id: my-trace-42", NULL};
    struct hres r;
    char v[256], v2[64];
    struct cq_http_server *srv = start_server("  cors_origins: [https://app.example.com]\n");
    char base[128];
    (void)state;

    snprintf(base, sizeof(base), "%s", cq_http_server_url(srv));
    http_at(base, "OPTIONS", "/query", NULL, pre, 0, &r);
    assert_int_equal(r.status, 204);
    assert_string_equal(hdr(&r, "Access-Control-Allow-Origin", v, sizeof(v)),
                        "https://app.example.com");
    assert_non_null(strstr(hdr(&r, "Access-Control-Allow-Methods", v, sizeof(v)), "POST"));
    assert_non_null(strstr(hdr(&r, "Access-Control-Allow-Headers", v, sizeof(v)),
                           "x-api-key"));
    hres_free(&r);
    http_at(base, "OPTIONS", "/query", NULL, evil, 0, &r);
    assert_null(hdr(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
    hres_free(&r);
    {
        static const char *const simple[] = {"Origin: https://app.example.com", NULL};
        http_at(base, "GET", "/health", NULL, simple, 0, &r);
        assert_string_equal(hdr(&r, "Access-Control-Allow-Origin", v, sizeof(v)),
                            "https://app.example.com");
        hres_free(&r);
    }
    cq_http_server_free(srv);

    /* the main server has no CORS origins: no CORS headers at all */
    http("GET", "/health", NULL, pre, &r);
    assert_null(hdr(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
    hres_free(&r);

    http("GET", "/health", NULL, rid, &r);
    assert_string_equal(hdr(&r, "X-Request-Id", v, sizeof(v)), "my-trace-42");
    hres_free(&r);
    http("GET", "/health", NULL, NULL, &r);
    assert_non_null(hdr(&r, "X-Request-Id", v, sizeof(v)));
    assert_int_equal(strlen(v), 16);
    assert_int_equal(strspn(v, "0123456789abcdef"), 16);
    hres_free(&r);
    http("GET", "/health", NULL, NULL, &r);
    assert_non_null(hdr(&r, "X-Request-Id", v2, sizeof(v2)));
    assert_string_not_equal(v, v2);
    hres_free(&r);
}

static void content_type_is_ignored(void **state)
{
    static const char *const text[] = {"X-API-Key: k-full-0123456789abcdef",
                                       "Content-Type: text/plain", NULL};
    struct hres r;
    (void)state;
    http("POST", "/validate/query", "{\"definition\":{\"from\":\"users\"},\"context\":"
         "{\"roles\":{\"user\":[\"admin\"]}}}", text, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"valid\":true}");
    hres_free(&r);
}

static void oversized_body_is_413(void **state)
{
    size_t n = 70 * 1024;
    char *big = malloc(n + 1);
    struct hres r;
    (void)state;
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    http("POST", "/query", big, KEY_FULL, &r);
    assert_server_error(&r, 413, "PAYLOAD_TOO_LARGE", NULL);
    hres_free(&r);
    /* just under the cap goes through to the guards */
    big[60 * 1024] = '\0';
    big[60 * 1024 - 1] = '}';
    http("POST", "/query", big, KEY_FULL, &r);
    assert_int_equal(r.status, 500); /* {} without definition: the reference's TypeError */
    hres_free(&r);
    free(big);
}

static void tls_when_cert_and_key_are_given(void **state)
{
    char cmd[2600], extra[2400], base[128];
    struct cq_http_server *srv;
    struct hres r;
    CURL *c;
    (void)state;

    snprintf(cmd, sizeof(cmd), "cd '%s' && openssl req -x509 -newkey rsa:2048 -nodes "
             "-keyout tls.key -out tls.pem -days 2 -subj /CN=localhost", X.tmpdir);
    if (cq_test_run(cmd, NULL, NULL, NULL) != 0) {
        print_message("openssl cannot make a certificate; skipped\n");
        skip();
    }
    snprintf(extra, sizeof(extra), "  tls: {cert: '%s/tls.pem', key: '%s/tls.key'}\n", X.tmpdir,
             X.tmpdir);
    srv = start_server(extra);
    snprintf(base, sizeof(base), "%s", cq_http_server_url(srv));
    assert_memory_equal(base, "https://", 8);
    memset(&r, 0, sizeof(r));
    c = curl_easy_init();
    snprintf(cmd, sizeof(cmd), "%s/health", base);
    curl_easy_setopt(c, CURLOPT_URL, cmd);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_cleanup(c);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"executors\""));
    hres_free(&r);
    cq_http_server_free(srv);
}

/* ---- raw sockets: slow bodies, idle connections ------------------------------------------- */

static int connect_server(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    const char *port = strrchr(X.url, ':') + 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_port = htons((uint16_t)strtol(port, NULL, 10));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

static void slow_body_times_out(void **state)
{
    const char *head = "POST /query HTTP/1.1\r\nHost: x\r\nX-API-Key: k-full-0123456789abcdef\r\n"
                       "Content-Length: 100\r\n\r\n{\"defin";
    int fd = connect_server();
    int64_t t0 = cq_now_ms(), waited;
    char buf[512];
    struct pollfd p;
    ssize_t n;
    (void)state;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, head, strlen(head)), (ssize_t)strlen(head));
    p = (struct pollfd){.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 10000), 1); /* request_timeout is 3 s */
    n = read(fd, buf, sizeof(buf));
    waited = cq_now_ms() - t0;
    assert_true(n <= 0 || strstr(buf, "HTTP/1.1") != NULL);
    assert_true(waited >= 2500);
    assert_true(waited < 9000);
    close(fd);
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return kib;
}

static int idle_fds[N_IDLE];

static int close_idle(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_IDLE; i++) {
        if (idle_fds[i] > 0) {
            close(idle_fds[i]);
        }
        idle_fds[i] = 0;
    }
    return 0;
}

static void idle_connections_do_not_block_others(void **state)
{
    struct rlimit rl;
    int *fds = idle_fds;
    long before, after;
    int64_t t0;
    struct hres r;
    size_t opened = 0;
    (void)state;

    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < 2 * N_IDLE + 100) {
        print_message("RLIMIT_NOFILE %ld is too small for %d idle clients; skipped\n",
                      (long)rl.rlim_cur, N_IDLE);
        skip();
    }
    before = rss_kib();
    for (size_t i = 0; i < N_IDLE; i++) {
        fds[i] = connect_server();
        opened += fds[i] >= 0;
    }
    assert_int_equal(opened, N_IDLE);
    usleep(800 * 1000); /* let the server accept them all */
    t0 = cq_now_ms();
    http("GET", "/health", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(cq_now_ms() - t0 < 2000);
    hres_free(&r);
    after = rss_kib();
    print_message("RSS with %d idle connections: %ld KiB -> %ld KiB (+%ld KiB)\n", N_IDLE,
                  before, after, after - before);
#if !CQ_TEST_ASAN /* sanitizers multiply thread stacks and shadow memory */
    assert_true(after - before < 96 * 1024);
#endif
}

/* ---- client disconnect cancels the statement ----------------------------------------------- */

static void *slow_request(void *arg)
{
    struct hres *r = arg;
    http_at(X.url, "POST", "/query", "{\"definition\":{\"from\":\"slow\"},\"context\":{\"roles\":"
            "{\"user\":[\"admin\"]}}}", KEY_FULL, 1500, r);
    return NULL;
}

static void disconnect_cancels_the_query(void **state)
{
    pthread_t t;
    struct hres r;
    int64_t deadline;
    long seen = 0, left = -1;
    (void)state;

    pthread_create(&t, NULL, slow_request, &r);
    deadline = cq_now_ms() + 1400;
    while (seen == 0 && cq_now_ms() < deadline) {
        seen = sleepers("slow");
        usleep(50 * 1000);
    }
    pthread_join(t, NULL); /* curl gave up after 1.5 s: the client is gone */
    assert_int_equal(r.cc, CURLE_OPERATION_TIMEDOUT);
    hres_free(&r);
    assert_int_equal(seen, 1);
    deadline = cq_now_ms() + 3000;
    while (left != 0 && cq_now_ms() < deadline) {
        left = sleepers("slow");
        usleep(50 * 1000);
    }
    assert_int_equal(left, 0); /* pg_sleep(60) is gone long before its minute */
}

/* ---- the binary: SIGTERM drains, SIGHUP reloads ------------------------------------------- */

struct proc {
    pid_t pid;
    char line[512];                 /* the first line it printed */
    char url[128];
    char err_path[1100];
};

static void spawn_serve_args(const char *cfg, const char *extra_arg, struct proc *p)
{
    int fds[2];
    const char *bin = getenv("CLARIQ_BIN");
    char line[512] = "";
    FILE *f;

    assert_non_null(bin);
    snprintf(p->err_path, sizeof(p->err_path), "%s/serve.err", X.tmpdir);
    assert_int_equal(pipe(fds), 0);
    p->pid = fork();
    if (p->pid == 0) {
        int fd = open(p->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fds[1], 1);
        dup2(fd, 2);
        close(fds[0]);
        execl(bin, bin, "--log-level", "info", "serve", "--config", cfg, extra_arg,
              (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_non_null(strstr(line, "listening on http://"));
    snprintf(p->url, sizeof(p->url), "%s", strstr(line, "http://"));
    p->url[strcspn(p->url, " \n")] = '\0';
    snprintf(p->line, sizeof(p->line), "%s", line);
}

static void spawn_serve(const char *cfg, struct proc *p)
{
    spawn_serve_args(cfg, NULL, p);
}

static int wait_exit(pid_t pid, int timeout_ms)
{
    int64_t deadline = cq_now_ms() + timeout_ms;
    int st = 0;
    while (cq_now_ms() < deadline) {
        if (waitpid(pid, &st, WNOHANG) == pid) {
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        usleep(20 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

struct nap_arg {
    const char *url;
    struct hres r;
};

static void *nap_request(void *arg)
{
    struct nap_arg *a = arg;
    http_at(a->url, "POST", "/query", "{\"definition\":{\"from\":\"nap\"},\"context\":{\"roles\":"
            "{\"user\":[\"admin\"]}}}", KEY_FULL, 10000, &a->r);
    return NULL;
}

static void sighup_reload_and_sigterm_drain(void **state)
{
    char cfg[1100], v[256];
    static const char *const origin[] = {"Origin: https://reloaded.example.com", NULL};
    struct proc p;
    struct hres r;
    struct nap_arg nap;
    pthread_t t;
    int64_t t0;
    (void)state;

    snprintf(cfg, sizeof(cfg), "%s/serve.yaml", X.tmpdir);
    write_config(cfg, "127.0.0.1:0", NULL);
    spawn_serve(cfg, &p);

    /* a broken file keeps the running configuration */
    assert_true(cq_test_write_file(cfg, "connections: [this is: not valid\n"));
    kill(p.pid, SIGHUP);
    usleep(400 * 1000);
    http_at(p.url, "GET", "/health", NULL, origin, 0, &r);
    assert_int_equal(r.status, 200);
    assert_null(hdr(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
    hres_free(&r);

    /* a good one is applied: the new CORS origin shows */
    write_config(cfg, "127.0.0.1:0", "  cors_origins: [https://reloaded.example.com]\n"
                                      "  access_log_format: json\n");
    kill(p.pid, SIGHUP);
    usleep(400 * 1000);
    http_at(p.url, "GET", "/health", NULL, origin, 0, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(hdr(&r, "Access-Control-Allow-Origin", v, sizeof(v)),
                        "https://reloaded.example.com");
    hres_free(&r);

    /* SIGTERM while a 1.5 s query runs: it finishes, new connections are refused, exit 0 */
    nap.url = p.url;
    pthread_create(&t, NULL, nap_request, &nap);
    t0 = cq_now_ms() + 1000;
    while (sleepers("nap") == 0 && cq_now_ms() < t0) {
        usleep(20 * 1000); /* until the query runs on PostgreSQL */
    }
    t0 = cq_now_ms();
    kill(p.pid, SIGTERM);
    usleep(200 * 1000);
    http_at(p.url, "GET", "/health", NULL, NULL, 1000, &r);
    assert_int_not_equal(r.cc, CURLE_OK);
    hres_free(&r);
    pthread_join(t, NULL);
    assert_int_equal(nap.r.status, 200);
    assert_string_equal(json_string_value(json_object_get(nap.r.json, "kind")), "data");
    hres_free(&nap.r);
    assert_int_equal(wait_exit(p.pid, 10000), 0);
    print_message("SIGTERM drain: exited %lld ms after the signal\n",
                  (long long)(cq_now_ms() - t0));
    assert_true(cq_now_ms() - t0 >= 300); /* it waited for the query (1.5 s in total) */

    {
        char cmd[1200];
        char *out = NULL;
        snprintf(cmd, sizeof(cmd), "cat '%s'", p.err_path);
        cq_test_run(cmd, NULL, &out, NULL);
        assert_non_null(strstr(out, "kept the running configuration"));
        assert_non_null(strstr(out, "configuration reloaded"));
        assert_null(strstr(out, "k-full-0123456789abcdef")); /* the access log never shows a key */
        free(out);
    }
}

/* Alerts in the file: serve runs the scheduler too, unless --no-alerts. */
static void serve_runs_the_alert_scheduler(void **state)
{
    char cfg[1100], extra[1400];
    struct proc p;
    struct hres r;
    bool seen = false;
    (void)state;

    snprintf(cfg, sizeof(cfg), "%s/alerts.yaml", X.tmpdir);
    snprintf(extra, sizeof(extra),
             "state: {path: '%s/state.db'}\n"
             "channels:\n"
             "  hook: {type: webhook, url: 'http://127.0.0.1:1/hook', retries: 0}\n"
             "alerts:\n"
             "  - {id: ping, connection: pg, sql: SELECT 1, schedule: '@every 1s',\n"
             "     rule: no_rows, channels: [hook]}\n", X.tmpdir);
    write_config(cfg, "127.0.0.1:0", extra);
    spawn_serve(cfg, &p);
    assert_non_null(strstr(p.line, "(alert scheduler running)"));
    http_at(p.url, "GET", "/health", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    hres_free(&r);
    /* the runs show in /metrics by state: SELECT 1 has a row, so no_rows stays "ok" */
    for (int i = 0; i < 100 && !seen; i++) {
        http_at(p.url, "GET", "/metrics", NULL, KEY_FULL, 0, &r);
        assert_int_equal(r.status, 200);
        seen = strstr(r.body, "clariq_alert_runs_total{state=\"ok\"}") != NULL;
        hres_free(&r);
        if (!seen) {
            usleep(100 * 1000);
        }
    }
    assert_true(seen);
    kill(p.pid, SIGTERM);
    assert_int_equal(wait_exit(p.pid, 10000), 0);

    spawn_serve_args(cfg, "--no-alerts", &p);
    assert_null(strstr(p.line, "alert scheduler"));
    kill(p.pid, SIGINT);
    assert_int_equal(wait_exit(p.pid, 10000), 0);
}

/* `clariq demo` serves the embedded shop, and the curl line it prints works as pasted. */
static void demo_serves_and_its_curl_works(void **state)
{
    const char *bin = getenv("CLARIQ_BIN");
    char db[1100], line[2048], curl_line[2048] = "", *out = NULL;
    int fds[2];
    pid_t pid;
    FILE *f;
    json_t *j;
    (void)state;

    assert_non_null(bin);
    snprintf(db, sizeof(db), "%s/demo.db", X.tmpdir);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        setenv("CLARIQ_DEMO_DB", db, 1);
        unsetenv("CLARIQ_CONFIG");
        dup2(fds[1], 1);
        dup2(null, 2);
        close(fds[0]);
        execl(bin, bin, "demo", "--listen", "127.0.0.1:0", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    while (curl_line[0] == '\0' && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "  curl ", 7) == 0 && strstr(line, "/query") != NULL) {
            snprintf(curl_line, sizeof(curl_line), "%s", line + 2);
        }
    }
    assert_string_not_equal(curl_line, "");
    assert_int_equal(cq_test_run(curl_line, NULL, &out, NULL), 0);
    j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "data");
    assert_int_equal(json_array_size(json_object_get(j, "data")), 3);
    /* the analyst role of the demo masks names */
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(
                               json_object_get(j, "data"), 0), "name")), "*"));
    json_decref(j);
    free(out);
    kill(pid, SIGTERM);
    fclose(f);
    assert_int_equal(wait_exit(pid, 10000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(health_always_200_with_every_executor),
        cmocka_unit_test(unknown_route_and_wrong_method_are_404),
        cmocka_unit_test(body_guards),
        cmocka_unit_test(query_data_sql_and_count),
        cmocka_unit_test(concurrent_queries_get_their_own_rows),
        cmocka_unit_test(validate_query_and_config),
        cmocka_unit_test(client_compat_rebuilds_each_error_class),
        cmocka_unit_test(auth_missing_unknown_revoked),
        cmocka_unit_test(key_roles_narrow_the_context),
        cmocka_unit_test(rate_limit_answers_429_with_retry_after),
        cmocka_unit_test(cors_preflight_and_request_ids),
        cmocka_unit_test(content_type_is_ignored),
        cmocka_unit_test(oversized_body_is_413),
        cmocka_unit_test(tls_when_cert_and_key_are_given),
        cmocka_unit_test(slow_body_times_out),
        cmocka_unit_test(disconnect_cancels_the_query),
        cmocka_unit_test_teardown(idle_connections_do_not_block_others, close_idle),
        cmocka_unit_test(sighup_reload_and_sigterm_drain),
        cmocka_unit_test(serve_runs_the_alert_scheduler),
        cmocka_unit_test(demo_serves_and_its_curl_works),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
