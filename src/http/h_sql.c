/*
 * h_sql.c - raw SQL over HTTP: POST /sql, GET /connections, POST /connections/{name}/test.
 *
 * POST /sql {"connection", "sql", "params"?, "args"?, "limits"?, "allowMulti"?} answers the
 * standard raw-SQL result of DESIGN.md ({"fields","rows","rowCount","truncated",
 * "elapsedMs"...}) written by the JSON result writer of drv/fmt.c. The statement runs on a
 * worker thread that owns the pooled connection; the writer's output goes into a bounded
 * queue (QUEUE_MAX) that the handler reads:
 *   - a result that ends before its first 64 KiB flush (STREAM_AT) is answered whole, with
 *     Content-Length and, on failure, an error status and body;
 *   - a larger one is streamed with chunked encoding: the handler returns a producer that
 *     drains the queue while the worker fills it (backpressure: the worker waits while the
 *     queue is full, so memory stays bounded whatever the result size). An error after
 *     the first bytes still closes the document ("truncated":true plus "error").
 * A client that goes away stops the statement: while the handler waits, and while the
 * stream is paused for want of bytes, the server's watchdog cancels the connection
 * registered with cq_http_req_running; while bytes flow MHD notices it itself (and the
 * queue refuses further writes, which ends the driver's fetch loop).
 *
 * The job (struct job) owns its own arena (the SQL and parameters), a reference on the
 * state snapshot (so a reload cannot free the pool under it), the connection until the
 * job is freed, and the result writer. Exactly one of the handler (answered whole) or the
 * producer's free callback (streamed) joins the worker and frees the job.
 *
 * Errors: {"error": CODE, "message", "connection", "sqlstate"?} with the status of
 * cq_http_status_for_rc (resp.c); server.c counts them by code for /metrics. Driver
 * messages name the connection and its redacted target, never a password.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "drv/fmt.h"
#include "drv/param.h"
#include "http/internal.h"

#define QUEUE_MAX (1u << 20)   /* bytes of result waiting for the client */
/* Bytes written before the handler commits to streaming. fmt.c writes once 64 KiB are
 * pending, and at the end; so a result whose output stays below this ends with one final
 * write and is answered whole (waiting for the worker's end rather than racing it). */
#define STREAM_AT (64u * 1024u)
#define POLL_MS 100            /* how often the handler checks for a client gone */
#define MAX_PARAMS 65535

/* ---- errors ------------------------------------------------------------------------------ */

static const char *code_for_rc(int rc)
{
    switch (rc) {
    case CQ_EINVAL: return "INVALID_REQUEST";
    case CQ_ENOTFOUND: return "UNKNOWN_CONNECTION";
    case CQ_EBACKEND: return "QUERY_FAILED";
    case CQ_ETIMEOUT: return "QUERY_TIMEOUT";
    case CQ_ECONNECT: return "CONNECTION_FAILED";
    case CQ_EAUTH: return "CONNECTION_FAILED";
    case CQ_EBUSY: return "POOL_EXHAUSTED";
    case CQ_EREADONLY: return "READ_ONLY";
    case CQ_ECANCELED: return "CANCELED";
    case CQ_ETOOBIG: return "TOO_LARGE";
    case CQ_ENOMEM: return "OUT_OF_MEMORY";
    case CQ_EUNSUPPORTED: return "UNSUPPORTED";
    default: return "INTERNAL";
    }
}

/* {"error","message","connection"?,"sqlstate"?} with the status of e->rc. */
static void sql_error(struct cq_http_resp *resp, const struct cq_err *e, const char *conn)
{
    const char *code = code_for_rc(e->rc);
    resp->status = cq_http_status_for_rc(e->rc);
    resp->content_type = NULL;
    cq_buf_reset(&resp->body);
    cq_buf_puts(&resp->body, "{\"error\":");
    cq_json_put_str(&resp->body, code, strlen(code));
    cq_buf_puts(&resp->body, ",\"message\":");
    cq_json_put_str(&resp->body, e->msg, strlen(e->msg));
    if (conn != NULL) {
        cq_buf_puts(&resp->body, ",\"connection\":");
        cq_json_put_str(&resp->body, conn, strlen(conn));
    }
    if (e->backend_code[0] != '\0') {
        cq_buf_puts(&resp->body, ",\"sqlstate\":");
        cq_json_put_str(&resp->body, e->backend_code, strnlen(e->backend_code, 8));
    }
    cq_buf_putc(&resp->body, '}');
}

static void forbidden(struct cq_http_resp *resp, const struct cq_http_req *req, const char *conn)
{
    char msg[300];
    snprintf(msg, sizeof(msg), "API key '%s' may not use connection '%s'",
             req->key != NULL && req->key->name != NULL ? req->key->name : "?", conn);
    cq_http_resp_error(resp, 403, "FORBIDDEN", msg);
}

static int put_json(const char *p, size_t len, void *data)
{
    cq_buf_append(data, p, len);
    return 0;
}

/* Appends j's compact text to b (keys in insertion order); check cq_buf_rc(b). */
static void dump_json(const json_t *j, struct cq_buf *b)
{
    if (json_dump_callback(j, put_json, b, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)
        != 0) {
        cq_buf_append(b, "", 0);
    }
}

/* ---- the request body -------------------------------------------------------------------- */

static const char *const body_keys[] = {"connection", "sql",        "params", "args",
                                        "limits",     "allowMulti", NULL};
static const char *const limit_keys[] = {"timeoutMs", "timeout", "maxRows", "maxBytes", NULL};

/* A non-negative integer member into *out. */
static int limit_int(const char *name, const json_t *v, int64_t *out, struct cq_err *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        return cq_err_set(err, CQ_EINVAL, "limits.%s must be a whole number >= 0", name);
    }
    *out = (int64_t)json_integer_value(v);
    return CQ_OK;
}

static int parse_limits(const json_t *j, struct cq_limits *req, struct cq_err *err)
{
    const char *k;
    const json_t *v;
    if (j == NULL || json_is_null(j)) {
        return CQ_OK;
    }
    if (!json_is_object(j)) {
        return cq_err_set(err, CQ_EINVAL, "limits must be an object such as "
                          "{\"maxRows\": 100, \"timeoutMs\": 5000}");
    }
    json_object_foreach((json_t *)(uintptr_t)j, k, v) {
        int rc = CQ_OK;
        if (strcmp(k, "timeoutMs") == 0) {
            rc = limit_int(k, v, &req->timeout_ms, err);
        } else if (strcmp(k, "maxRows") == 0) {
            rc = limit_int(k, v, &req->max_rows, err);
        } else if (strcmp(k, "maxBytes") == 0) {
            rc = limit_int(k, v, &req->max_bytes, err);
        } else if (strcmp(k, "timeout") == 0) {
            if (!json_is_string(v) ||
                cq_parse_duration_ms(json_string_value(v), &req->timeout_ms, NULL) != CQ_OK) {
                rc = cq_err_set(err, CQ_EINVAL, "limits.timeout must be a duration such as "
                                "\"5s\" or \"250ms\"");
            }
        } else {
            const char *best = cq_did_you_mean(k, limit_keys);
            rc = cq_err_set(err, CQ_EINVAL, "unknown member limits.%s%s%s%s", k,
                            best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
        }
        if (rc != CQ_OK) {
            return rc;
        }
    }
    return CQ_OK;
}

/* params: JSON values (strings are text); args: strings as `clariq run -p` takes them. */
static int parse_params(struct cq_arena *a, const json_t *params, const json_t *args,
                        struct cq_stmt *st, struct cq_err *err)
{
    if (params != NULL && !json_is_null(params) && args != NULL && !json_is_null(args)) {
        return cq_err_set(err, CQ_EINVAL, "give either params (JSON values) or args "
                          "(strings as `clariq run -p` takes them), not both");
    }
    if (params != NULL && !json_is_null(params)) {
        struct cq_param *ps = NULL;
        if (!json_is_array(params)) {
            return cq_err_set(err, CQ_EINVAL, "params must be an array of values for $1, $2...");
        }
        struct cq_buf text;
        cq_buf_init(&text, 64u << 20);
        dump_json(params, &text);
        int rc = cq_buf_rc(&text) != CQ_OK
                     ? cq_err_set(err, CQ_ENOMEM, "params: out of memory")
                     : cq_drv_params_json(a, cq_buf_str(&text), &ps, &st->n_params, err);
        cq_buf_cleanup(&text);
        if (rc != CQ_OK) {
            cq_err_wrap(err, "params");
            return rc;
        }
        st->params = ps;
        return CQ_OK;
    }
    if (args == NULL || json_is_null(args)) {
        return CQ_OK;
    }
    size_t n = json_array_size(args);
    if (!json_is_array(args) || n > MAX_PARAMS) {
        return cq_err_set(err, CQ_EINVAL, "args must be an array of strings (at most %d)",
                          MAX_PARAMS);
    }
    struct cq_param *ps = cq_arena_alloc(a, sizeof(*ps) * (n ? n : 1));
    if (ps == NULL) {
        return cq_err_set(err, CQ_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(args, i));
        if (s == NULL) {
            return cq_err_set(err, CQ_EINVAL, "args[%zu] must be a string such as \"42\" or "
                              "\"text:007\"", i);
        }
        int rc = cq_drv_param_parse(a, s, &ps[i], err);
        if (rc != CQ_OK) {
            cq_err_wrap(err, "args[%zu]", i);
            return rc;
        }
    }
    st->params = ps;
    st->n_params = n;
    return CQ_OK;
}

/* ---- the job: a statement on a worker thread --------------------------------------------- */

struct job {
    struct cq_arena arena;          /* sql, params */
    struct cq_http_state *st;       /* referenced: the pool lives in it */
    struct cq_http_metrics *metrics;/* the server's */
    struct cq_pool *pool;           /* borrowed from st */
    struct cq_conn *conn;           /* checked out; put back by job_free */
    struct cq_fmt *fmt;
    struct cq_stmt stmt;
    char name[64];                  /* connection name */
    struct cq_http_req *req;        /* while streaming: to pause/unpause; NULL in unit tests */
    bool paused;                    /* the producer paused the response for want of bytes */
    bool on_loop;                   /* stepped by an event loop: writes never wait */
    int64_t t0_us;
    /* on an event loop (cq_http_s_sql); everything below is touched on its thread only */
    struct cq_http_loop *loop;      /* the connection is the loop's (mux), not the pool's */
    struct cq_drv_op op;
    struct cq_http_resp *resp;      /* the request's answer, until it is given */
    int refs;                       /* the statement, and the streamed body */
    bool streaming;                 /* the answer went out as a stream */
    bool conn_paused;               /* the loop stopped reading the connection: queue full */
    pthread_t th;
    bool th_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *q;                        /* queued output, q[off..len) unread */
    size_t q_off, q_len, q_cap;
    bool wrote;                     /* the writer flushed at least once */
    size_t written;                 /* bytes the writer handed over, in total */
    bool done;                      /* the worker finished (rc, err) */
    bool abandoned;                 /* nobody reads any more: writes fail */
    int rc;
    struct cq_err err;
};

/* Under j->mu: the producer waits for bytes, and now there are some (or the end). */
static void job_wake(struct job *j)
{
    if (j->paused && j->req != NULL) {
        j->paused = false;
        cq_http_req_unpause(j->req);
    }
}

static void stream(struct job *j, struct cq_http_req *req, struct cq_http_resp *resp);

/* On the loop, after a write: a result past STREAM_AT is answered as a stream from here
 * on (the statement goes on); a queue past QUEUE_MAX stops the loop reading the
 * connection until the client has taken some (job_produce). */
static void loop_wrote(struct job *j)
{
    if (!j->streaming && j->written >= STREAM_AT) {
        j->streaming = true;
        j->refs++; /* the streamed body's */
        stream(j, j->req, j->resp);
        j->resp = NULL;
        cq_http_req_done(j->req, CQ_HTTP_DONE);
    }
    if (!j->conn_paused && j->q_len - j->q_off > QUEUE_MAX) {
        j->conn_paused = true;
        cq_http_mux_pause(j->loop, j->conn, true);
    }
}

/* The writer's output callback (worker thread): waits while the queue is full. */
static int job_write(void *ctx, const char *p, size_t len)
{
    struct job *j = ctx;
    int rc = CQ_OK;
    pthread_mutex_lock(&j->mu);
    while (!j->on_loop && !j->abandoned && j->q_len - j->q_off + len > QUEUE_MAX &&
           j->q_len > j->q_off) {
        pthread_cond_wait(&j->cv, &j->mu);
    }
    if (j->abandoned) {
        rc = CQ_EIO;
        goto out;
    }
    if (j->q_off > 0) { /* compact: the unread part moves to the front */
        memmove(j->q, j->q + j->q_off, j->q_len - j->q_off);
        j->q_len -= j->q_off;
        j->q_off = 0;
    }
    if (j->q_len + len > j->q_cap) {
        size_t cap = j->q_cap ? j->q_cap : 65536;
        while (cap < j->q_len + len) {
            cap *= 2;
        }
        char *q = cq_realloc(j->q, cap);
        if (q == NULL) {
            rc = CQ_ENOMEM;
            goto out;
        }
        j->q = q;
        j->q_cap = cap;
    }
    memcpy(j->q + j->q_len, p, len);
    j->q_len += len;
    j->wrote = true;
    j->written += len;
    pthread_cond_broadcast(&j->cv);
    job_wake(j);
out:
    pthread_mutex_unlock(&j->mu);
    if (rc == CQ_OK && j->loop != NULL) {
        loop_wrote(j);
    }
    return rc;
}

/* The statement ended (any thread): metrics, and the document closed after an error
 * once bytes are out. */
static void job_finish(struct job *j, int rc)
{
    bool wrote;
    cq_http_metrics_query(j->metrics, j->name, (double)(cq_now_us() - j->t0_us) / 1e6);
    pthread_mutex_lock(&j->mu);
    wrote = j->wrote;
    pthread_mutex_unlock(&j->mu);
    if (rc != CQ_OK && wrote) {
        /* bytes are out: close the document with the error inside it */
        struct cq_err ignored = {0};
        cq_drv_fmt_fail(j->fmt, &j->err, &ignored);
    }
    pthread_mutex_lock(&j->mu);
    j->rc = rc;
    j->done = true;
    pthread_cond_broadcast(&j->cv);
    job_wake(j);
    pthread_mutex_unlock(&j->mu);
}

static void *job_run(void *arg)
{
    struct job *j = arg;
    j->t0_us = cq_now_us();
    job_finish(j, cq_drv_exec(j->conn, &j->stmt, cq_drv_fmt_sink(j->fmt), &j->err));
    return NULL;
}

/* Joins the worker (after telling it nobody reads, unless it is done) and frees. */
static void job_free(struct job *j)
{
    if (j == NULL) {
        return;
    }
    if (j->th_started) {
        bool cancel;
        pthread_mutex_lock(&j->mu);
        cancel = !j->done;
        j->abandoned = j->abandoned || !j->done;
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
        if (cancel && j->conn != NULL) {
            struct cq_err ignored = {0};
            cq_drv_cancel(j->conn, &ignored);
        }
        pthread_join(j->th, NULL);
    }
    cq_drv_fmt_free(j->fmt);
    if (j->req != NULL) {
        cq_http_req_running(j->req, NULL); /* the watchdog leaves it alone from here */
    }
    if (j->conn != NULL && j->loop != NULL) {
        cq_http_mux_release(j->loop, j->conn);
    } else if (j->conn != NULL) {
        cq_drv_pool_put(j->pool, j->conn);
    }
    cq_http_state_unref(j->st);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    cq_free(j->q);
    cq_arena_free(&j->arena);
    cq_free(j);
}

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_nsec += (long)ms * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* The streamed body (on an event loop, so it never blocks): hands out queued bytes; 0 at
 * the end; -1 when nobody produces any more; CQ_HTTP_PRODUCER_WAIT after pausing the
 * response when the worker has nothing new yet (job_wake unpauses it). A client that
 * leaves meanwhile is noticed by the server's watchdog, which cancels the statement. */
static ssize_t job_produce(void *ctx, uint64_t pos, char *buf, size_t max)
{
    struct job *j = ctx;
    size_t avail;
    ssize_t n;
    (void)pos;
    pthread_mutex_lock(&j->mu);
    while (j->req == NULL && j->q_len == j->q_off && !j->done && !j->abandoned) {
        pthread_cond_wait(&j->cv, &j->mu); /* no server to pause (unit tests): wait */
    }
    avail = j->q_len - j->q_off;
    if (avail > 0) {
        size_t k = avail < max ? avail : max;
        memcpy(buf, j->q + j->q_off, k);
        j->q_off += k;
        pthread_cond_broadcast(&j->cv);
        n = (ssize_t)k;
    } else if (j->done) {
        n = 0;
    } else if (j->abandoned) {
        n = -1;
    } else {
        cq_http_req_pause(j->req); /* under j->mu: job_wake cannot come first */
        j->paused = true;
        n = CQ_HTTP_PRODUCER_WAIT;
    }
    bool resume = j->conn_paused && j->q_len - j->q_off < QUEUE_MAX / 2;
    pthread_mutex_unlock(&j->mu);
    if (resume) { /* on the loop: the connection is read again from the next iteration */
        j->conn_paused = false;
        cq_http_mux_pause(j->loop, j->conn, false);
    }
    return n;
}

static void job_unref(struct job *j)
{
    if (--j->refs == 0) {
        job_free(j);
    }
}

static void job_produce_free(void *ctx)
{
    struct job *j = ctx;
    if (j->loop == NULL) {
        job_free(j);
        return;
    }
    /* on the loop: the request ends; a statement still running is canceled and its rows
     * dropped (the connection is read again so they drain) */
    pthread_mutex_lock(&j->mu);
    j->abandoned = true;
    pthread_mutex_unlock(&j->mu);
    if (j->req != NULL) {
        cq_http_req_running(j->req, NULL);
        j->req = NULL;
    }
    if (!j->done) {
        cq_drv_exec_cancel(j->conn, &j->op);
    }
    if (j->conn_paused) {
        j->conn_paused = false;
        cq_http_mux_pause(j->loop, j->conn, false);
    }
    job_unref(j);
}

/* ---- POST /sql --------------------------------------------------------------------------- */

struct sql_req {
    const char *conn;
    const char *sql;
    const json_t *params, *args, *limits;
    bool allow_multi;
};

/* The body's members; CQ_EINVAL with a message for anything else. */
static int read_body(const json_t *body, struct sql_req *r, struct cq_err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)body, k, v) {
        if (strcmp(k, "connection") == 0) {
            r->conn = json_string_value(v);
        } else if (strcmp(k, "sql") == 0) {
            r->sql = json_string_value(v);
        } else if (strcmp(k, "params") == 0) {
            r->params = v;
        } else if (strcmp(k, "args") == 0) {
            r->args = v;
        } else if (strcmp(k, "limits") == 0) {
            r->limits = v;
        } else if (strcmp(k, "allowMulti") == 0) {
            r->allow_multi = json_is_true(v);
        } else {
            const char *best = cq_did_you_mean(k, body_keys);
            return cq_err_set(err, CQ_EINVAL, "unknown member '%s'%s%s%s", k,
                              best ? " (did you mean '" : "", best ? best : "",
                              best ? "'?)" : "");
        }
    }
    if (r->conn == NULL) {
        return cq_err_set(err, CQ_EINVAL, "connection is required (a string naming a "
                          "configured connection)");
    }
    if (r->sql == NULL || r->sql[strspn(r->sql, " \t\r\n")] == '\0') {
        return cq_err_set(err, CQ_EINVAL, "sql is required (a non-empty string)");
    }
    return CQ_OK;
}

/* Builds the job up to a checked-out connection. NULL with err; on_loop: never blocks,
 * and err->rc is CQ_EAGAIN when there is no idle connection at hand. */
static struct job *job_new(struct cq_http_req *req, const struct sql_req *r,
                           const struct cq_conn_conf *cc, bool on_loop, struct cq_err *err)
{
    struct job *j = cq_calloc(1, sizeof(*j));
    struct cq_limits lim = {0};
    if (j == NULL) {
        cq_err_set(err, CQ_ENOMEM, "out of memory");
        return NULL;
    }
    cq_arena_init(&j->arena, 8192, 0);
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    j->st = cq_http_state_ref(req->st);
    j->metrics = req->metrics;
    cq_strlcpy(j->name, cc->name, sizeof(j->name));
    j->stmt.sql = cq_arena_strdup(&j->arena, r->sql);
    if (j->stmt.sql == NULL) {
        cq_err_set(err, CQ_ENOMEM, "out of memory");
        goto fail;
    }
    if (parse_limits(r->limits, &lim, err) != CQ_OK ||
        parse_params(&j->arena, r->params, r->args, &j->stmt, err) != CQ_OK) {
        goto fail;
    }
    lim = cq_conf_limits_lower(cc->limits, lim);
    j->stmt.timeout_ms = lim.timeout_ms;
    j->stmt.max_rows = lim.max_rows;
    j->stmt.max_bytes = lim.max_bytes;
    j->stmt.allow_multi = r->allow_multi;
    j->on_loop = on_loop;
    j->fmt = cq_drv_fmt_new(CQ_FMT_JSON, job_write, j, err);
    if (j->fmt == NULL) {
        goto fail;
    }
    if (on_loop) {
        struct cq_http_loop *l = cq_http_req_loop(req);
        j->pool = cq_http_pool_peek(j->st, cc->name);
        if (j->pool == NULL || l == NULL ||
            cq_http_mux_acquire(l, j->st, j->pool, &j->conn) != CQ_OK) {
            err->rc = CQ_EAGAIN;
            goto fail;
        }
        j->loop = l;
    } else {
        j->pool = cq_http_pool(j->st, cc->name, err);
        if (j->pool == NULL || cq_drv_pool_get(j->pool, &j->conn, err) != CQ_OK) {
            goto fail;
        }
    }
    return j;
fail:
    job_free(j);
    return NULL;
}

/* Registers c with the server's disconnect watchdog; a request built outside the server
 * (req->conn NULL: unit tests) has none. */
static void running(struct cq_http_req *req, struct cq_conn *c)
{
    if (req->conn != NULL) {
        cq_http_req_running(req, c);
    }
}

/* Waits until the worker is done, has written STREAM_AT bytes, or the client left. */
static void job_wait(struct job *j, struct cq_http_req *req)
{
    pthread_mutex_lock(&j->mu);
    while (!j->done && j->written < STREAM_AT && !(req->canceled != NULL && *req->canceled)) {
        struct timespec ts;
        deadline_in(&ts, POLL_MS);
        pthread_cond_timedwait(&j->cv, &j->mu, &ts);
    }
    pthread_mutex_unlock(&j->mu);
}

/* The body, the connection and the key's right to it: the connection's configuration, or
 * NULL with resp filled. *body is the parsed body (the caller drops it). */
static const struct cq_conn_conf *sql_read(struct cq_http_req *req, struct cq_http_resp *resp,
                                           struct sql_req *r, json_t **body)
{
    struct cq_err err = {0};
    json_error_t jerr;
    const struct cq_conn_conf *cc;

    *body = req->body_len > 0 ? json_loadb(req->body, req->body_len, 0, &jerr) : NULL;
    if (req->body_len > 0 && *body == NULL) {
        cq_http_resp_error(resp, 400, "INVALID_JSON", "Request body is not valid JSON");
        return NULL;
    }
    if (!json_is_object(*body)) {
        cq_http_resp_error(resp, 400, "INVALID_BODY",
                           "Request body must be an object with connection and sql");
        return NULL;
    }
    if (read_body(*body, r, &err) != CQ_OK) {
        sql_error(resp, &err, NULL);
        return NULL;
    }
    cc = cq_conf_conn(req->st->conf, r->conn);
    if (cc == NULL) {
        cq_err_set(&err, CQ_ENOTFOUND, "no connection named '%s'", r->conn);
        sql_error(resp, &err, r->conn);
        return NULL;
    }
    if (!cq_http_key_may_use(req->key, cc->name)) {
        forbidden(resp, req, cc->name);
        return NULL;
    }
    return cc;
}

/* A large result: streamed; the producer's free callback owns the job from here, and the
 * statement stays registered with the watchdog until then. */
static void stream(struct job *j, struct cq_http_req *req, struct cq_http_resp *resp)
{
    if (req->conn != NULL) {
        j->req = req;
        if (j->loop != NULL) {
            cq_http_req_running_op(req, j->conn, &j->op); /* a shared connection */
        } else {
            running(req, j->conn);
        }
    }
    resp->status = 200;
    resp->producer = job_produce;
    resp->producer_free = job_produce_free;
    resp->producer_ctx = j;
}

/* The whole answer of a finished job. */
static void answer(struct job *j, struct cq_http_resp *resp)
{
    if (j->rc != CQ_OK) {
        sql_error(resp, &j->err, j->name);
    } else {
        resp->status = 200;
        cq_buf_reset(&resp->body);
        cq_buf_append(&resp->body, j->q + j->q_off, j->q_len - j->q_off);
    }
}

void cq_http_h_sql(struct cq_http_req *req, struct cq_http_resp *resp)
{
    struct cq_err err = {0};
    struct sql_req r = {0};
    json_t *body = NULL;
    struct job *j = NULL;
    const struct cq_conn_conf *cc = sql_read(req, resp, &r, &body);

    if (cc == NULL) {
        goto out;
    }
    j = job_new(req, &r, cc, false, &err);
    if (j == NULL) {
        sql_error(resp, &err, cc->name);
        goto out;
    }
    running(req, j->conn);
    if (pthread_create(&j->th, NULL, job_run, j) != 0) {
        running(req, NULL);
        cq_err_set(&err, CQ_ENOMEM, "connection '%s': cannot start a worker thread", cc->name);
        sql_error(resp, &err, cc->name);
        goto out;
    }
    j->th_started = true;
    job_wait(j, req);
    running(req, NULL); /* from here on the watchdog leaves j->conn alone */
    pthread_mutex_lock(&j->mu);
    bool done = j->done, big = j->written >= STREAM_AT;
    pthread_mutex_unlock(&j->mu);
    if (!done && big && !(req->canceled != NULL && *req->canceled)) {
        stream(j, req, resp);
        j = NULL;
        goto out;
    }
    if (!done) {
        job_free(j); /* the client left: cancel, join */
        j = NULL;
        cq_err_set(&err, CQ_ECANCELED, "the client went away");
        sql_error(resp, &err, cc->name);
        goto out;
    }
    pthread_join(j->th, NULL);
    j->th_started = false;
    answer(j, resp);
out:
    job_free(j);
    json_decref(body);
}

/* ---- POST /sql on an event loop -------------------------------------------------------------
 * The fast path: a single statement is queued on a connection the loop multiplexes (mux.c)
 * and the loop steps it. A result that ends before STREAM_AT bytes (the usual case) is
 * answered whole; a larger one is answered as a stream from its first STREAM_AT bytes
 * while the statement goes on, the loop reading the connection only while the client
 * keeps up (loop_wrote, job_produce). */

static void sql_op_done(struct cq_drv_op *op, int rc)
{
    struct job *j = op->ctx;
    job_finish(j, rc);
    if (!j->streaming) {
        cq_http_req_running(j->req, NULL);
        answer(j, j->resp);
        cq_http_req_done(j->req, CQ_HTTP_DONE);
        j->req = NULL;
    }
    job_unref(j);
}

enum cq_http_start cq_http_s_sql(struct cq_http_req *req, struct cq_http_resp *resp)
{
    struct cq_err err = {0};
    struct sql_req r = {0};
    json_t *body = NULL;
    struct job *j = NULL;
    enum cq_http_start res = CQ_HTTP_DONE;
    const struct cq_conn_conf *cc = sql_read(req, resp, &r, &body);
    int rc;

    if (cc == NULL) {
        goto out;
    }
    res = CQ_HTTP_BLOCKING;
    if (r.allow_multi) {
        goto out;
    }
    j = job_new(req, &r, cc, true, &err);
    if (j == NULL) {
        if (err.rc != CQ_EAGAIN) {
            sql_error(resp, &err, cc->name);
            res = CQ_HTTP_DONE;
        }
        goto out;
    }
    j->req = req;
    j->resp = resp;
    j->refs = 1;
    j->t0_us = cq_now_us();
    j->op.st = &j->stmt;
    j->op.out = cq_drv_fmt_sink(j->fmt);
    j->op.err = &j->err;
    j->op.done = sql_op_done;
    j->op.ctx = j;
    rc = cq_drv_exec_start(j->conn, &j->op);
    if (rc == CQ_EUNSUPPORTED) {
        j->req = NULL;
        goto out;
    }
    if (rc != CQ_OK) {
        job_finish(j, rc);
        answer(j, resp);
        j->req = NULL;
        res = CQ_HTTP_DONE;
        goto out;
    }
    cq_http_req_running_op(req, j->conn, &j->op);
    j = NULL; /* the statement's now */
    res = CQ_HTTP_PENDING;
out:
    job_free(j);
    json_decref(body);
    return res;
}

/* ---- GET /connections -------------------------------------------------------------------- */

static json_t *limits_json(const struct cq_limits *l)
{
    return json_pack("{s:I,s:I,s:I,s:i,s:I}", "timeoutMs", (json_int_t)l->timeout_ms, "maxRows",
                     (json_int_t)l->max_rows, "maxBytes", (json_int_t)l->max_bytes,
                     "maxConcurrent", l->max_concurrent, "queueTimeoutMs",
                     (json_int_t)l->queue_timeout_ms);
}

/* Pool numbers without creating the pool (a listing must not connect anywhere). */
static json_t *pool_json(struct cq_http_state *st, size_t i, const struct cq_conn_conf *cc)
{
    struct cq_pool_stats ps = {0};
    struct cq_pool *p = NULL;
    pthread_mutex_lock(&st->pools.mu);
    p = st->pools.pools != NULL ? st->pools.pools[i] : NULL;
    if (p != NULL) {
        cq_drv_pool_stats(p, &ps);
    }
    pthread_mutex_unlock(&st->pools.mu);
    return json_pack("{s:i,s:i,s:i,s:i,s:i,s:i}", "min", cc->pool.min, "max", cc->pool.max,
                     "open", ps.open, "inUse", ps.in_use, "idle", ps.idle, "waiting",
                     ps.waiting);
}

void cq_http_h_connections(struct cq_http_req *req, struct cq_http_resp *resp)
{
    const struct cq_conf *conf = req->st->conf;
    json_t *list = json_array();
    for (size_t i = 0; list != NULL && i < conf->n_conns; i++) {
        const struct cq_conn_conf *cc = &conf->conns[i];
        char target[512];
        if (!cq_http_key_may_use(req->key, cc->name)) {
            continue; /* a key sees the connections it may use */
        }
        cq_drv_dsn_redact(cc->url != NULL ? cc->url : (cc->path != NULL ? cc->path : ""),
                          target, sizeof(target));
        json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:o,s:o}", "name", cc->name, "driver",
                              cc->driver != NULL ? cc->driver : "", "target", target,
                              "readOnly", cc->read_only, "limits", limits_json(&cc->limits),
                              "pool", pool_json(req->st, i, cc));
        if (o == NULL || json_array_append_new(list, o) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    if (list == NULL) {
        cq_http_resp_error(resp, 503, "OUT_OF_MEMORY", "out of memory");
        return;
    }
    resp->status = 200;
    dump_json(list, &resp->body);
    json_decref(list);
}

/* ---- POST /connections/{name}/test ------------------------------------------------------- */

void cq_http_h_connection_test(struct cq_http_req *req, struct cq_http_resp *resp)
{
    const char *name = req->path_param != NULL ? req->path_param : "";
    const struct cq_conn_conf *cc = cq_conf_conn(req->st->conf, name);
    struct cq_err err = {0};
    char version[128] = "";
    double ms = 0;
    if (cc == NULL) {
        cq_err_set(&err, CQ_ENOTFOUND, "no connection named '%s'", name);
        sql_error(resp, &err, name);
        return;
    }
    if (!cq_http_key_may_use(req->key, cc->name)) {
        forbidden(resp, req, cc->name);
        return;
    }
    if (cq_drv_test(cc, version, sizeof(version), &ms, &err) != CQ_OK) {
        if (err.rc == CQ_ETIMEOUT || err.rc == CQ_EAUTH || err.rc == CQ_EBACKEND) {
            err.rc = CQ_ECONNECT; /* the connection is what failed, whatever the step */
        }
        sql_error(resp, &err, cc->name);
        return;
    }
    resp->status = 200;
    cq_buf_puts(&resp->body, "{\"name\":");
    cq_json_put_str(&resp->body, cc->name, strlen(cc->name));
    cq_buf_puts(&resp->body, ",\"ok\":true,\"driver\":");
    cq_json_put_str(&resp->body, cc->driver, strlen(cc->driver));
    cq_buf_puts(&resp->body, ",\"server\":");
    cq_json_put_str(&resp->body, version, strlen(version));
    cq_buf_printf(&resp->body, ",\"latencyMs\":%.3f}", ms);
}
