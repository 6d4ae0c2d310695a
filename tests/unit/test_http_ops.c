/*
 * test_http_ops.c - the raw-SQL and operations handlers called directly (no server, no
 * PostgreSQL): POST /sql on SQLite answered whole and streamed through the producer
 * (drained here in small pieces, the document complete and parsed), a producer freed
 * mid-stream (the worker is stopped and joined; ASan/leak runs catch the rest), errors and
 * their statuses, /ready with a reachable and an unreachable connection, and /config with
 * none of the configured secrets in it.
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

#include "base/buf.h"
#include "base/mem.h"
#include "conf/conf.h"
#include "cqtest.h"
#include "http/internal.h"

#define SECRET_PW "db-pass-Zq81"
#define SECRET_KEY "api-key-0123456789abcdef"
#define SECRET_HOOK "hook-tok-555"
#define SECRET_HMAC "hmac-9f9f9f9f"
#define SECRET_MAIL "smtp-pass-42"

#define CONF_TEXT \
    "connections:\n" \
    "  lite: {path: ':memory:', limits: {max_rows: 1000000}}\n" \
    "  gone: {path: /nonexistent/dir/x.db}\n" \
    "  pg: {url: 'postgres://u:" SECRET_PW "@127.0.0.1:1/db'}\n" \
    "channels:\n" \
    "  hook: {type: webhook, url: 'https://h.example.com/?t=" SECRET_HOOK "',\n" \
    "         hmac_secret: " SECRET_HMAC ", headers: {X-Token: " SECRET_HOOK "}}\n" \
    "  mail: {type: email, host: smtp.example.com, username: u, password: " SECRET_MAIL ",\n" \
    "         from: a@example.com, to: b@example.com}\n" \
    "server:\n" \
    "  api_keys:\n" \
    "    - {name: ci, key: " SECRET_KEY ", connections: [lite]}\n"

struct fx {
    struct cq_http_state *st;
    struct cq_http_metrics *metrics;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct cq_conf_diags d = {0};
    struct cq_err err = {0};
    struct cq_conf *conf = cq_conf_load_mem("t.yaml", CONF_TEXT, strlen(CONF_TEXT), &d, &err);
    if (conf == NULL) {
        fail_msg("config: %s", d.n > 0 ? d.v[0].msg : err.msg);
    }
    cq_conf_diags_cleanup(&d);
    f->st = cq_calloc(1, sizeof(*f->st));
    assert_non_null(f->st);
    atomic_init(&f->st->refs, 1);
    f->st->conf = conf;
    f->st->pools.conf = conf;
    pthread_mutex_init(&f->st->pools.mu, NULL);
    f->metrics = cq_http_metrics_new();
    assert_non_null(f->metrics);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f == NULL) {
        return 0; /* setup failed */
    }
    cq_http_state_unref(f->st);
    cq_http_metrics_free(f->metrics);
    free(f);
    return 0;
}

struct call {
    struct cq_http_req req;
    struct cq_http_resp resp;
    volatile bool canceled;
    json_t *json;
};

static void call(struct fx *f, struct call *c, cq_http_handler h, const char *body,
                 const char *param)
{
    json_error_t je;
    memset(c, 0, sizeof(*c));
    c->req.st = f->st;
    c->req.metrics = f->metrics;
    c->req.method = body != NULL ? "POST" : "GET";
    c->req.body = body != NULL ? body : "";
    c->req.body_len = strlen(c->req.body);
    c->req.canceled = &c->canceled;
    c->req.path_param = param;
    cq_arena_init(&c->req.arena, 4096, 0);
    c->resp.status = 200;
    cq_buf_init(&c->resp.body, 64u << 20);
    h(&c->req, &c->resp);
    if (c->resp.producer == NULL) {
        c->json = json_loads(cq_buf_str(&c->resp.body), JSON_DECODE_ANY, &je);
    }
}

static void call_done(struct call *c)
{
    json_decref(c->json);
    cq_buf_cleanup(&c->resp.body);
    cq_arena_free(&c->req.arena);
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : "";
}

/* ---- POST /sql --------------------------------------------------------------------------- */

static void sql_small_whole(void **state)
{
    struct call c;
    call(*state, &c, cq_http_h_sql,
         "{\"connection\":\"lite\",\"sql\":\"SELECT $1 + 1 AS n, $2 AS s\","
         "\"params\":[41,\"x\"]}",
         NULL);
    assert_int_equal(c.resp.status, 200);
    assert_null(c.resp.producer);
    json_t *row = json_array_get(json_object_get(c.json, "rows"), 0);
    assert_int_equal(json_integer_value(json_object_get(row, "n")), 42);
    assert_string_equal(jstr(row, "s"), "x");
    assert_int_equal(json_integer_value(json_object_get(c.json, "rowCount")), 1);
    call_done(&c);
}

#define BIG_SQL                                                                                    \
    "{\"connection\":\"lite\",\"sql\":\"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 " \
    "FROM c WHERE x < 200000) SELECT x, 'row number ' || x AS label FROM c\"}"

static void sql_large_streamed(void **state)
{
    struct call c;
    struct cq_buf all;
    char piece[777]; /* odd sizes: the producer must hand out partial queue contents */
    ssize_t n;
    json_error_t je;
    call(*state, &c, cq_http_h_sql, BIG_SQL, NULL);
    assert_int_equal(c.resp.status, 200);
    assert_non_null(c.resp.producer);
    cq_buf_init(&all, 64u << 20);
    uint64_t pos = 0;
    while ((n = c.resp.producer(c.resp.producer_ctx, pos, piece, sizeof(piece))) > 0) {
        cq_buf_append(&all, piece, (size_t)n);
        pos += (uint64_t)n;
    }
    assert_int_equal(n, 0); /* the end, not an abort */
    c.resp.producer_free(c.resp.producer_ctx);
    json_t *j = json_loads(cq_buf_str(&all), 0, &je);
    if (j == NULL) {
        fail_msg("not JSON at %d: %s", je.position, je.text);
    }
    json_t *rows = json_object_get(j, "rows");
    assert_int_equal(json_array_size(rows), 200000);
    json_t *last = json_array_get(rows, 199999);
    assert_int_equal(json_integer_value(json_object_get(last, "x")), 200000);
    assert_string_equal(jstr(last, "label"), "row number 200000");
    assert_int_equal(json_integer_value(json_object_get(j, "rowCount")), 200000);
    json_decref(j);
    cq_buf_cleanup(&all);
    call_done(&c);
}

static void sql_stream_abandoned(void **state)
{
    struct call c;
    char piece[4096];
    call(*state, &c, cq_http_h_sql, BIG_SQL, NULL);
    assert_non_null(c.resp.producer);
    assert_true(c.resp.producer(c.resp.producer_ctx, 0, piece, sizeof(piece)) > 0);
    /* the client is gone: freeing must stop the worker (it waits on a full queue) */
    c.resp.producer_free(c.resp.producer_ctx);
    call_done(&c);
    /* the connection went back to the pool and works */
    call(*state, &c, cq_http_h_sql, "{\"connection\":\"lite\",\"sql\":\"SELECT 5 AS v\"}", NULL);
    assert_int_equal(c.resp.status, 200);
    call_done(&c);
}

static void sql_errors(void **state)
{
    struct call c;
    call(*state, &c, cq_http_h_sql, "{\"connection\":\"lite\",\"sql\":\"SELEC 1\"}", NULL);
    assert_int_equal(c.resp.status, 422);
    assert_string_equal(jstr(c.json, "error"), "QUERY_FAILED");
    assert_string_equal(jstr(c.json, "connection"), "lite");
    call_done(&c);
    call(*state, &c, cq_http_h_sql, "{\"connection\":\"lite\",\"sql\":\"CREATE TABLE t (x)\"}",
         NULL);
    assert_int_equal(c.resp.status, 422);
    assert_string_equal(jstr(c.json, "error"), "READ_ONLY");
    call_done(&c);
    call(*state, &c, cq_http_h_sql, "{\"connection\":\"none\",\"sql\":\"SELECT 1\"}", NULL);
    assert_int_equal(c.resp.status, 404);
    assert_string_equal(jstr(c.json, "error"), "UNKNOWN_CONNECTION");
    call_done(&c);
    call(*state, &c, cq_http_h_sql, "nope", NULL);
    assert_int_equal(c.resp.status, 400);
    assert_string_equal(jstr(c.json, "error"), "INVALID_JSON");
    call_done(&c);
    call(*state, &c, cq_http_h_sql, "", NULL);
    assert_int_equal(c.resp.status, 400);
    assert_string_equal(jstr(c.json, "error"), "INVALID_BODY");
    call_done(&c);
    call(*state, &c, cq_http_h_sql,
         "{\"connection\":\"lite\",\"sql\":\"SELECT 1\",\"limits\":{\"maxRows\":-1}}", NULL);
    assert_int_equal(c.resp.status, 400);
    assert_string_equal(jstr(c.json, "message"), "limits.maxRows must be a whole number >= 0");
    call_done(&c);
}

static void sql_key_allow_list(void **state)
{
    struct fx *f = *state;
    struct call c;
    const struct cq_api_key_conf *key = &f->st->conf->server.keys[0];
    memset(&c, 0, sizeof(c));
    /* call() clears req; set the key through a small wrapper run */
    c.req.st = f->st;
    c.req.metrics = f->metrics;
    c.req.key = key;
    c.req.canceled = &c.canceled;
    c.req.body = "{\"connection\":\"pg\",\"sql\":\"SELECT 1\"}";
    c.req.body_len = strlen(c.req.body);
    cq_arena_init(&c.req.arena, 4096, 0);
    cq_buf_init(&c.resp.body, 1 << 20);
    cq_http_h_sql(&c.req, &c.resp);
    assert_int_equal(c.resp.status, 403);
    assert_string_equal(cq_buf_str(&c.resp.body),
                        "{\"error\":\"FORBIDDEN\",\"message\":\"API key 'ci' may not use "
                        "connection 'pg'\"}");
    call_done(&c);
}

/* ---- operations -------------------------------------------------------------------------- */

static void ready_lists_every_connection(void **state)
{
    struct call c;
    call(*state, &c, cq_http_h_ready, NULL, NULL);
    assert_int_equal(c.resp.status, 503); /* gone and pg are unreachable */
    assert_true(json_is_false(json_object_get(c.json, "ready")));
    json_t *conns = json_object_get(c.json, "connections");
    assert_int_equal(json_object_size(conns), 3);
    assert_true(json_is_true(json_object_get(json_object_get(conns, "lite"), "ready")));
    assert_true(json_is_false(json_object_get(json_object_get(conns, "gone"), "ready")));
    assert_true(json_is_false(json_object_get(json_object_get(conns, "pg"), "ready")));
    assert_null(strstr(cq_buf_str(&c.resp.body), SECRET_PW));
    call_done(&c);
}

static void config_has_no_secrets(void **state)
{
    static const char *const secrets[] = {SECRET_PW, SECRET_KEY, SECRET_HOOK, SECRET_HMAC,
                                          SECRET_MAIL, NULL};
    struct call c;
    call(*state, &c, cq_http_h_config, NULL, NULL);
    assert_int_equal(c.resp.status, 200);
    assert_non_null(c.json);
    for (size_t i = 0; secrets[i] != NULL; i++) {
        if (strstr(cq_buf_str(&c.resp.body), secrets[i]) != NULL) {
            fail_msg("/config shows %s: %s", secrets[i], cq_buf_str(&c.resp.body));
        }
    }
    json_t *conns = json_object_get(c.json, "connections");
    assert_string_equal(jstr(json_object_get(conns, "pg"), "url"),
                        "postgres://u:***@127.0.0.1:1/db");
    assert_string_equal(jstr(json_object_get(conns, "lite"), "path"), ":memory:");
    json_t *hook = json_object_get(json_object_get(c.json, "channels"), "hook");
    assert_string_equal(jstr(hook, "url"), "***");
    assert_string_equal(jstr(json_object_get(hook, "headers"), "X-Token"), "***");
    json_t *srv = json_object_get(c.json, "server");
    assert_string_equal(jstr(srv, "listen"), "127.0.0.1:8080");
    assert_string_equal(jstr(srv, "request_timeout"), "30s");
    json_t *key = json_array_get(json_object_get(srv, "api_keys"), 0);
    assert_string_equal(jstr(key, "name"), "ci");
    assert_string_equal(jstr(key, "key"), "***");
    assert_string_equal(json_string_value(json_array_get(json_object_get(key, "connections"), 0)),
                        "lite");
    call_done(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sql_small_whole),
        cmocka_unit_test(sql_large_streamed),
        cmocka_unit_test(sql_stream_abandoned),
        cmocka_unit_test(sql_errors),
        cmocka_unit_test(sql_key_allow_list),
        cmocka_unit_test(ready_lists_every_connection),
        cmocka_unit_test(config_has_no_secrets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
