/*
 * httpmock.h - an in-process HTTP server for tests (libmicrohttpd), on 127.0.0.1 with an
 * ephemeral port.
 *
 * It records every request (method, path, query arguments, headers, body) and answers
 * from a script: a list of replies consumed in order, then a default reply (200 "ok"
 * unless set). A reply may be delayed to provoke client timeouts; delays end early when
 * the mock stops, so cq_httpmock_stop never waits for them.
 *
 *     struct cq_httpmock *hm = cq_httpmock_start();
 *     struct cq_httpmock_reply r[] = {{.status = 500, .body = "boom"}, {.status = 200}};
 *     cq_httpmock_script(hm, r, 2);
 *     ... POST to cq_httpmock_url(hm) + "/hook" ...
 *     assert(cq_httpmock_wait_requests(hm, 1, 2000));
 *     const struct cq_httpmock_req *q = cq_httpmock_request(hm, 0);
 *     cq_httpmock_stop(hm);
 *
 * A request is recorded once its body has been read completely, before the reply is sent
 * (and before any delay), so a client that gave up still leaves its request behind.
 * Thread-safety: every function may be called from any thread while the server runs
 * (one thread per connection inside). Memory is plain libc: this is test code.
 */
#ifndef CQ_TESTS_HTTPMOCK_H
#define CQ_TESTS_HTTPMOCK_H

#include <stdbool.h>
#include <stddef.h>

struct cq_httpmock;

/* One scripted answer. Strings are copied by cq_httpmock_script. */
struct cq_httpmock_reply {
    int status;               /* HTTP status; 0 means 200 */
    const char *body;         /* response body; NULL = "" */
    int delay_ms;             /* wait before answering, ms */
    const char *content_type; /* NULL = "text/plain" */
};

/* One recorded request; owned by the mock, immutable once recorded, valid until
 * cq_httpmock_reset or cq_httpmock_stop. */
struct cq_httpmock_req {
    char *method;             /* "POST" */
    char *path;               /* "/hook/T000/B000" (decoded, without the query) */
    char **names;             /* header names as received */
    char **values;            /* header values */
    size_t n_headers;
    char **arg_names;         /* query arguments (decoded) */
    char **arg_values;        /* NULL for a name without "=" */
    size_t n_args;
    char *body;               /* NUL-terminated (the body itself may contain NULs) */
    size_t body_len;          /* bytes */
    bool truncated;           /* body longer than 16 MiB: only the first 16 MiB kept */
};

/* Starts a server on 127.0.0.1:<ephemeral>. NULL on failure (message on stderr). */
struct cq_httpmock *cq_httpmock_start(void);
/* Stops the server, ends pending delays, frees everything. NULL is a no-op. */
void cq_httpmock_stop(struct cq_httpmock *hm);

int cq_httpmock_port(const struct cq_httpmock *hm);
/* "http://127.0.0.1:<port>" (no trailing slash); borrowed from hm. */
const char *cq_httpmock_url(const struct cq_httpmock *hm);

/* Replaces the pending script with replies[0..n) (copied). */
void cq_httpmock_script(struct cq_httpmock *hm, const struct cq_httpmock_reply *replies,
                        size_t n);
/* The reply used once the script is exhausted (copied); initially 200 "ok". */
void cq_httpmock_default(struct cq_httpmock *hm, const struct cq_httpmock_reply *reply);
/* Forgets recorded requests and the pending script (not the default reply). Pointers from
 * cq_httpmock_request become invalid. Call only while no request is in flight. */
void cq_httpmock_reset(struct cq_httpmock *hm);

size_t cq_httpmock_n_requests(struct cq_httpmock *hm);
/* Request i (0-based, in arrival order) or NULL; borrowed (see struct comment). */
const struct cq_httpmock_req *cq_httpmock_request(struct cq_httpmock *hm, size_t i);
/* Waits until at least n requests were recorded; false after timeout_ms. */
bool cq_httpmock_wait_requests(struct cq_httpmock *hm, size_t n, int timeout_ms);

/* Value of header name (ASCII case-insensitive; the first one) or NULL; borrowed. */
const char *cq_httpmock_header(const struct cq_httpmock_req *r, const char *name);
/* Value of query argument name or NULL; borrowed. */
const char *cq_httpmock_arg(const struct cq_httpmock_req *r, const char *name);

#endif
