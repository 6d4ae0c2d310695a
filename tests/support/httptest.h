/*
 * httptest.h - helpers for integration tests that talk to an in-process `clariq serve`:
 * starting the server from a conf, a blocking HTTP client (libcurl) that keeps the whole
 * reply (status, body, header lines, the body parsed as JSON when it is JSON), and plain
 * SQL on the PostgreSQL fixture for seeding and checks.
 *
 *     struct cq_test_reply r;
 *     const char *const hdrs[] = {"X-API-Key: k1", NULL};
 *     cq_test_http(&r, url, hdrs, "{\"sql\":\"SELECT 1\"}", 60);
 *     assert_int_equal(r.status, 200);
 *     cq_test_reply_done(&r);
 *
 * Every request sends Content-Type: application/json. A transport failure (no answer at
 * all) fails the running cmocka test. Thread-safety: one reply per thread.
 */
#ifndef CQ_TESTS_HTTPTEST_H
#define CQ_TESTS_HTTPTEST_H

#include <stddef.h>

#include <jansson.h>

#include "base/buf.h"

struct cq_conf;
struct cq_http_server;
struct pg_conn;

/* Builds and starts a server from conf (taken, as cq_http_server_new takes it) and writes
 * its base URL to url (if not NULL); fails the test with the reason otherwise. The caller
 * stops and frees the server. */
struct cq_http_server *cq_test_serve(struct cq_conf *conf, char *url, size_t size);

/* Runs sql (one or more statements) on a libpq connection; fails the test with the
 * statement and PostgreSQL's message unless it succeeds. */
void cq_test_pg_exec(struct pg_conn *pg, const char *sql);

struct cq_test_reply {
    long status;                  /* HTTP status */
    struct cq_buf body;           /* capped at 64 MiB */
    struct cq_buf headers;        /* the raw header lines, status line first */
    json_t *json;                 /* parsed body (any JSON value), or NULL */
    char value[256];              /* cq_test_reply_header's answer */
};

/* One request to url: POST with body, or GET when body is NULL; headers is a NULL-terminated
 * list of "Name: value" lines (NULL: none); timeout in seconds. r is overwritten; release it
 * with cq_test_reply_done. */
void cq_test_http(struct cq_test_reply *r, const char *url, const char *const *headers,
                  const char *body, long timeout_s);

/* A response header's value (name case-insensitive, leading blanks and the line end
 * stripped), or NULL. Borrowed: valid until the next call on r or cq_test_reply_done. */
const char *cq_test_reply_header(struct cq_test_reply *r, const char *name);

/* Releases the reply's buffers and JSON. */
void cq_test_reply_done(struct cq_test_reply *r);

#endif
