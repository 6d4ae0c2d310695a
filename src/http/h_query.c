/*
 * h_query.c - the governed query API of spec §1: POST /query, POST /validate/query,
 * POST /validate/config and GET /health, wire-compatible with @mkven/multi-db-client.
 *
 * Body guards come first, in the reference's order: an empty body or one that parses to
 * null/number/string/boolean is INVALID_BODY, unparseable text INVALID_JSON (an array
 * passes; it then fails like the reference's TypeError, as a 500 InternalError). Request
 * headers other than the API key are ignored, Content-Type included (the reference reads
 * every body as JSON whatever it says).
 *
 * Who may claim which role (spec §0.9): the request's context is narrowed to the caller's
 * key (cq_http_auth_narrow). A context that still names no scope at all is unrestricted
 * in the reference; here it is so only for trusted callers (server.auth none, or
 * server.trusted_callers). Otherwise it is read as an empty `user` scope: it grants
 * nothing, so every table is ACCESS_DENIED with the usual validation body.
 *
 * Execution borrows connections from the state's pools and registers the one in use
 * with cq_http_req_running, so a client that goes away cancels its statement.
 */
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/time.h"
#include "http/internal.h"

#define MSG_QUERY_BODY "Request body must be an object with definition and context"
#define MSG_OBJECT_BODY "Request body must be an object"

/* The parsed body (a new reference), or NULL with resp filled. */
static json_t *body_json(struct cq_http_req *req, struct cq_http_resp *resp, const char *guard)
{
    json_t *j;
    if (req->body_len == 0) {
        cq_http_resp_error(resp, 400, "INVALID_BODY", guard);
        return NULL;
    }
    j = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, NULL);
    if (j == NULL) {
        cq_http_resp_error(resp, 400, "INVALID_JSON", "Request body is not valid JSON");
        return NULL;
    }
    if (!json_is_object(j) && !json_is_array(j)) {
        json_decref(j);
        cq_http_resp_error(resp, 400, "INVALID_BODY", guard);
        return NULL;
    }
    return j;
}

/* No catalog configured: the reference would have failed to load its metadata. */
static void no_catalog(struct cq_http_resp *resp)
{
    cq_buf_reset(&resp->body);
    resp->status = 503;
    cq_buf_puts(&resp->body, "{\"code\":\"METADATA_LOAD_FAILED\",\"message\":\"Metadata provider "
                "failed to load: no catalog: section in the server's configuration\","
                "\"details\":{\"provider\":\"metadata\"}}");
}

/* Narrows ctx to the caller (spec §0.9; see the file comment). */
static int narrow(struct cq_http_req *req, struct cq_dsl_context *ctx, struct cq_dsl_error *e)
{
    const struct cq_server_conf *sc = &req->st->conf->server;
    int rc = cq_http_auth_narrow(req->key, ctx, &req->arena, e);
    if (rc != CQ_OK) {
        return rc;
    }
    if (!ctx->has_user && !ctx->has_service && !sc->trusted_callers &&
        sc->auth != CQ_AUTH_NONE) {
        ctx->has_user = true; /* present and empty: grants nothing (spec §3 rule 2) */
        ctx->user = NULL;
        ctx->n_user = 0;
    }
    return CQ_OK;
}

/* Parses and narrows the {definition, context} request; CQ_OK or e set. */
static int parse(struct cq_http_req *req, const json_t *body, struct cq_dsl_query **q,
                 struct cq_dsl_context *ctx, struct cq_dsl_error *e)
{
    int rc = cq_dsl_parse_request(&req->arena, body, false, q, ctx, e);
    return rc == CQ_OK ? narrow(req, ctx, e) : rc;
}

/* ---- execution environment ----------------------------------------------------------------- */

struct exec {
    struct cq_http_req *req;
    int64_t t0_us;
    bool muxed;             /* the connection came from the loop (try_acquire) */
};

static int exec_acquire(void *ctx, const char *conn, struct cq_conn **out, struct cq_err *err)
{
    struct exec *x = ctx;
    struct cq_pool *pool;
    int rc;

    if (*x->req->canceled) {
        return cq_err_set(err, CQ_ECANCELED, "the client went away");
    }
    pool = cq_http_pool(x->req->st, conn, err);
    if (pool == NULL) {
        return err != NULL && err->rc != CQ_OK ? err->rc : CQ_ENOTFOUND;
    }
    rc = cq_drv_pool_get(pool, out, err);
    if (rc == CQ_OK) {
        cq_http_req_running(x->req, *out);
        x->t0_us = cq_now_us();
    }
    return rc;
}

static void exec_release(void *ctx, struct cq_conn *c)
{
    struct exec *x = ctx;
    struct cq_pool *pool;

    cq_http_req_running(x->req, NULL);
    cq_http_metrics_query(x->req->metrics, c->name, (double)(cq_now_us() - x->t0_us) / 1e6);
    if (x->muxed) {
        x->muxed = false;
        cq_http_mux_release(cq_http_req_loop(x->req), c);
        return;
    }
    pool = cq_http_pool(x->req->st, c->name, NULL);
    if (pool != NULL) {
        cq_drv_pool_put(pool, c);
    }
}

/* For the event loop: a connection of an open pool the loop can queue on, or non-zero. */
static int exec_try_acquire(void *ctx, const char *conn, struct cq_conn **out)
{
    struct exec *x = ctx;
    struct cq_pool *pool = cq_http_pool_peek(x->req->st, conn);
    struct cq_http_loop *l = cq_http_req_loop(x->req);
    if (pool == NULL || l == NULL || cq_http_mux_acquire(l, x->req->st, pool, out) != CQ_OK) {
        return CQ_EAGAIN;
    }
    x->muxed = true;
    x->t0_us = cq_now_us();
    return CQ_OK;
}

static void exec_limits(void *ctx, const char *conn, struct cq_limits *out)
{
    struct exec *x = ctx;
    const struct cq_conf *conf = x->req->st->conf;
    for (size_t i = 0; i < conf->n_conns; i++) {
        if (strcmp(conf->conns[i].name, conn) == 0) {
            *out = conf->conns[i].limits;
            return;
        }
    }
}

/* ---- POST /query --------------------------------------------------------------------------- */

/* One /query: on the handler's stack (worker) or in the request's arena (event loop). */
struct qrun {
    struct cq_http_req *req;
    json_t *body;
    struct exec x;
    struct cq_dsl_exec_env env;
    struct cq_dsl_compiled c;
    struct cq_dsl_error e;
    struct cq_http_resp *resp;
};

/* Parses, narrows and compiles; false when resp holds the answer already (then done). */
static bool query_compile(struct cq_http_req *req, struct cq_http_resp *resp, struct qrun *r)
{
    struct cq_dsl_query *q = NULL;
    struct cq_dsl_context ctx;
    struct cq_dsl_opts opts = {0};

    memset(r, 0, sizeof(*r));
    r->req = req;
    r->x.req = req;
    r->env = (struct cq_dsl_exec_env){
        .ctx = &r->x,
        .acquire = exec_acquire,
        .release = exec_release,
        .limits = exec_limits,
        .try_acquire = exec_try_acquire,
        .include_sql_in_errors = req->st->conf->server.errors_include_sql,
    };
    r->body = body_json(req, resp, MSG_QUERY_BODY);
    if (r->body == NULL) {
        return false;
    }
    if (cq_dsl_parse_request(&req->arena, r->body, false, &q, &ctx, &r->e) == CQ_OK &&
        req->st->catalog == NULL) {
        no_catalog(resp);
        return false;
    }
    if (r->e.cls == CQ_DSL_E_NONE && narrow(req, &ctx, &r->e) == CQ_OK &&
        cq_dsl_compile(req->st->catalog, q, &ctx, &opts, &req->arena, &r->c, &r->e) == CQ_OK) {
        cq_buf_reset(&resp->body);
        return true;
    }
    cq_http_resp_dsl_error(resp, &r->e);
    return false;
}

/* The answer once the execution ended, and the run's resources. */
static void query_done(struct qrun *r, struct cq_http_resp *resp, bool answer)
{
    if (answer && r->e.cls != CQ_DSL_E_NONE) {
        cq_http_resp_dsl_error(resp, &r->e);
    } else if (answer) {
        resp->status = 200;
    }
    cq_dsl_error_cleanup(&r->e);
    json_decref(r->body);
    r->body = NULL;
}

void cq_http_h_query(struct cq_http_req *req, struct cq_http_resp *resp)
{
    struct qrun r;
    if (query_compile(req, resp, &r)) {
        cq_dsl_execute(&r.c, &r.env, &resp->body, &r.e);
        query_done(&r, resp, true);
    } else {
        query_done(&r, resp, false);
    }
}

/* The statement queued by cq_http_s_query ended (on the loop). */
static void query_ended(void *ctx, int rc)
{
    struct qrun *r = ctx;
    query_done(r, r->resp, rc != CQ_EUNSUPPORTED);
    cq_http_req_done(r->req, rc == CQ_EUNSUPPORTED ? CQ_HTTP_BLOCKING : CQ_HTTP_DONE);
}

enum cq_http_start cq_http_s_query(struct cq_http_req *req, struct cq_http_resp *resp)
{
    struct qrun *r = cq_arena_alloc(&req->arena, sizeof(*r));
    struct cq_conn *conn = NULL;
    struct cq_drv_op *op = NULL;
    int rc;

    if (r == NULL) {
        return CQ_HTTP_BLOCKING;
    }
    if (!query_compile(req, resp, r)) {
        query_done(r, resp, false);
        return CQ_HTTP_DONE;
    }
    r->resp = resp;
    rc = cq_dsl_execute_start(&r->c, &r->env, &resp->body, &r->e, query_ended, r, &conn, &op);
    if (rc == CQ_EAGAIN) {
        cq_http_req_running_op(req, conn, op);
        return CQ_HTTP_PENDING;
    }
    query_done(r, resp, rc != CQ_EUNSUPPORTED);
    return rc == CQ_EUNSUPPORTED ? CQ_HTTP_BLOCKING : CQ_HTTP_DONE;
}

/* ---- POST /validate/query ------------------------------------------------------------------ */

void cq_http_h_validate_query(struct cq_http_req *req, struct cq_http_resp *resp)
{
    json_t *body = body_json(req, resp, MSG_OBJECT_BODY);
    struct cq_dsl_query *q = NULL;
    struct cq_dsl_context ctx;
    struct cq_dsl_error e = {0};

    if (body == NULL) {
        return;
    }
    if (parse(req, body, &q, &ctx, &e) == CQ_OK) {
        if (req->st->catalog == NULL) {
            no_catalog(resp);
            goto out;
        }
        cq_dsl_validate_only(req->st->catalog, q, &ctx, &req->arena, &e);
    }
    if (e.cls != CQ_DSL_E_NONE) {
        cq_http_resp_dsl_error(resp, &e);
    } else {
        resp->status = 200;
        cq_buf_puts(&resp->body, "{\"valid\":true}");
    }
out:
    cq_dsl_error_cleanup(&e);
    json_decref(body);
}

/* ---- POST /validate/config ----------------------------------------------------------------- */

void cq_http_h_validate_config(struct cq_http_req *req, struct cq_http_resp *resp)
{
    json_t *body = body_json(req, resp, MSG_OBJECT_BODY);
    const json_t *metadata;
    struct cq_dsl_error e = {0};

    if (body == NULL) {
        return;
    }
    metadata = json_object_get(body, "metadata"); /* roles are ignored (spec §1.2) */
    if (!json_is_object(metadata)) {
        /* the reference's TypeError reading metadata.databases */
        cq_http_resp_error(resp, 500, "InternalError",
                           "Request body needs \"metadata\": a MetadataConfig object");
    } else {
        e.body = cq_dsl_config_validate(metadata);
        if (e.body != NULL) {
            e.cls = CQ_DSL_E_CONFIG;
            cq_http_resp_dsl_error(resp, &e);
        } else {
            resp->status = 200;
            cq_buf_puts(&resp->body, "{\"valid\":true}");
        }
    }
    cq_dsl_error_cleanup(&e);
    json_decref(body);
}

/* ---- GET /health ----------------------------------------------------------------------------- */

static const char *ping_failed(enum cq_dsl_engine engine)
{
    switch (engine) {
    case CQ_DSL_ENGINE_POSTGRES: return "PostgreSQL ping failed";
    case CQ_DSL_ENGINE_CLICKHOUSE: return "ClickHouse ping failed";
    case CQ_DSL_ENGINE_ICEBERG: return "Trino ping failed";
    case CQ_DSL_ENGINE_SQLITE:
    default: return "SQLite ping failed";
    }
}

/* Pings the connection serving db; latency in ms, or -1 with the cause logged. */
static int64_t ping(struct cq_http_req *req, const struct cq_dsl_database *db)
{
    struct cq_err err = {0};
    struct cq_pool *pool = cq_http_pool(req->st, db->connection, &err);
    struct cq_conn *c = NULL;
    int64_t t0 = cq_now_us(), ms = -1;

    if (pool != NULL && cq_drv_pool_get(pool, &c, &err) == CQ_OK) {
        if (cq_drv_ping(c, &err) == CQ_OK) {
            ms = (cq_now_us() - t0 + 500) / 1000;
        } else {
            c->broken = true; /* the pool drops it */
        }
        cq_drv_pool_put(pool, c);
    }
    if (ms < 0) {
        CQ_LOG(CQ_LOG_WARN, "http:health", "req=%s: database %s (connection %s): %s",
               req->request_id, db->id, db->connection, err.msg);
    }
    return ms;
}

void cq_http_h_health(struct cq_http_req *req, struct cq_http_resp *resp)
{
    const struct cq_dsl_catalog *cat = req->st->catalog;
    struct cq_buf ex;
    bool healthy = true;

    cq_buf_init(&ex, 1 << 20);
    for (size_t i = 0; cat != NULL && i < cat->n_databases; i++) {
        const struct cq_dsl_database *db = &cat->databases[i];
        int64_t ms;
        if (db->connection == NULL) {
            continue; /* no executor is registered for it */
        }
        ms = ping(req, db);
        cq_buf_puts(&ex, ex.len > 0 ? "," : "");
        cq_json_put_str(&ex, db->id, strlen(db->id));
        if (ms >= 0) {
            cq_buf_printf(&ex, ":{\"healthy\":true,\"latencyMs\":%lld}", (long long)ms);
        } else {
            healthy = false;
            cq_buf_printf(&ex, ":{\"healthy\":false,\"error\":\"%s\"}",
                          ping_failed(db->engine));
        }
    }
    cq_buf_printf(&resp->body, "{\"healthy\":%s,\"executors\":{%s},\"cacheProviders\":{}}",
                  healthy ? "true" : "false", cq_buf_str(&ex));
    cq_buf_cleanup(&ex);
    resp->status = 200; /* always, even when unhealthy (spec §12) */
}

/* On the loop when there is nothing to ping (no catalog database has a connection). */
enum cq_http_start cq_http_s_health(struct cq_http_req *req, struct cq_http_resp *resp)
{
    const struct cq_dsl_catalog *cat = req->st->catalog;
    for (size_t i = 0; cat != NULL && i < cat->n_databases; i++) {
        if (cat->databases[i].connection != NULL) {
            return CQ_HTTP_BLOCKING;
        }
    }
    cq_http_h_health(req, resp);
    return CQ_HTTP_DONE;
}
