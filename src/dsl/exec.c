/*
 * exec.c - cq_dsl_execute: the QueryResult of a compiled query (spec §10.1).
 *
 * sql-only writes {"kind":"sql",...} without touching a database. Otherwise the executor
 * is chosen as the reference does (spec §7): Trino for the trino strategy or dialect, the
 * cache provider for the cache strategy, else the plan's database, served by the clariq
 * connection the catalog names for it. clariq has neither a Trino driver nor a Redis
 * cache yet, so those end in EXECUTOR_MISSING / CACHE_PROVIDER_MISSING, like a reference
 * engine started without that executor.
 *
 * Rows stream from the driver straight into the output (result.c); the output is rolled
 * back to where it started when anything fails, so the caller never sees half a result.
 *
 * Errors follow spec §11: details always carry `code`. QUERY_FAILED reports the engine
 * name as `database`, as the reference executors do (the client regenerates its message
 * from details, so the shape is what matters); the database id is in the CLI's summary.
 * A connection that cannot be opened (or is lost mid-query) is a ConnectionError
 * CONNECTION_FAILED (503, exit 3) rather than QUERY_FAILED: the query itself is fine and
 * the client's retry logic should see a connection problem. A result cut by the
 * connection's max_rows/max_bytes fails (QUERY_FAILED) instead of returning short data.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/time.h"
#include "dsl/exec_int.h"

static const char *engine_name(const struct cq_dsl_database *db)
{
    if (db == NULL) {
        return "trino";
    }
    switch (db->engine) {
    case CQ_DSL_ENGINE_POSTGRES: return "postgres";
    case CQ_DSL_ENGINE_CLICKHOUSE: return "clickhouse";
    case CQ_DSL_ENGINE_ICEBERG: return "iceberg";
    case CQ_DSL_ENGINE_SQLITE: return "sqlite";
    }
    return "unknown";
}

static const char *strategy_name(enum cq_dsl_strategy s)
{
    switch (s) {
    case CQ_DSL_STRAT_CACHE: return "cache";
    case CQ_DSL_STRAT_MATERIALIZED: return "materialized";
    case CQ_DSL_STRAT_TRINO: return "trino-cross-db";
    case CQ_DSL_STRAT_DIRECT: break;
    }
    return "direct";
}

static const char *source_name(enum cq_dsl_source s)
{
    switch (s) {
    case CQ_DSL_SRC_MATERIALIZED: return "materialized";
    case CQ_DSL_SRC_CACHE: return "cache";
    case CQ_DSL_SRC_ORIGINAL: break;
    }
    return "original";
}

static enum cq_dsl_mode mode_of(const struct cq_dsl_compiled *c)
{
    return c->q != NULL ? c->q->mode : CQ_DSL_MODE_EXECUTE;
}

/* Drops what was written after mark (a failed run leaves no half result). */
static void rollback(struct cq_buf *out, size_t mark)
{
    if (out->p != NULL && mark <= out->len) {
        out->len = mark;
        out->p[mark] = '\0';
    }
    out->rc = CQ_OK;
}

static void put_str(struct cq_buf *b, const char *s)
{
    if (s == NULL) {
        cq_buf_puts(b, "null");
    } else {
        cq_json_put_str(b, s, strlen(s));
    }
}

static int64_t whole_ms(double ms)
{
    return ms > 0 ? (int64_t)llround(ms) : 0;
}

/* ---- errors ------------------------------------------------------------------------------ */

static int internal_error(struct cq_dsl_error *e, int rc, const char *msg)
{
    cq_dsl_error_simple(e, CQ_DSL_E_INTERNAL, "InternalError", msg);
    return rc != CQ_OK ? rc : CQ_EINTERNAL;
}

/* Nothing can run the plan: ExecutionError `code`, "<what>: <id>", details {code, key: id}. */
static int missing(struct cq_dsl_error *e, const char *code, const char *what, const char *key,
                   const char *id)
{
    char msg[300];
    json_t *d = json_object();
    snprintf(msg, sizeof(msg), "%s: %s", what, id);
    json_object_set_new(d, "code", json_string(code));
    json_object_set_new(d, key, json_string(id));
    cq_dsl_error_execution(e, code, msg, d, NULL);
    return CQ_EUNSUPPORTED;
}

static int executor_missing(struct cq_dsl_error *e, const char *database)
{
    return missing(e, "EXECUTOR_MISSING", "Executor missing for database", "database", database);
}

/* {"message","name"} as the reference serialises a driver's error. */
static json_t *cause_json(const struct cq_err *err)
{
    json_t *o = json_object();
    json_object_set_new(o, "message", json_string(err->msg[0] ? err->msg : "unknown error"));
    json_object_set_new(o, "name", json_string(err->rc == CQ_EBACKEND ? "DatabaseError"
                                                                      : "Error"));
    return o;
}

static int connection_error(struct cq_dsl_error *e, const struct cq_dsl_database *db,
                            const struct cq_err *err)
{
    char msg[300];
    json_t *o = json_object(), *d = json_object(), *list = json_array(), *u = json_object();
    snprintf(msg, sizeof(msg), "Unreachable: %s", db->id);
    json_object_set_new(u, "id", json_string(db->id));
    json_object_set_new(u, "type", json_string("executor"));
    json_object_set_new(u, "engine", json_string(engine_name(db)));
    json_object_set_new(u, "cause", cause_json(err));
    json_array_append_new(list, u);
    json_object_set_new(d, "unreachable", list);
    json_object_set_new(o, "code", json_string("CONNECTION_FAILED"));
    json_object_set_new(o, "message", json_string(msg));
    json_object_set_new(o, "details", d);
    cq_dsl_error_cleanup(e);
    e->cls = CQ_DSL_E_CONNECTION;
    e->body = o;
    return CQ_ECONNECT;
}

/* Case-insensitive search for word in msg. */
static bool has_word(const char *msg, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = msg; *p != '\0'; p++) {
        size_t i = 0;
        while (i < n && p[i] != '\0' && tolower((unsigned char)p[i]) == word[i]) {
            i++;
        }
        if (i == n) {
            return true;
        }
    }
    return false;
}

/* The reference's test for a timeout (statement_timeout contains "timeout"; ClickHouse's
 * setting max_execution_time does not). */
static bool mentions_timeout(const char *msg)
{
    return has_word(msg, "timeout") || has_word(msg, "max_execution_time");
}

static json_t *params_json(const struct cq_dsl_compiled *c)
{
    struct cq_buf b;
    json_error_t je;
    json_t *j;
    cq_buf_init(&b, 64u << 20);
    cq_dsl_exec_params_json(&b, c);
    j = cq_buf_rc(&b) == CQ_OK ? json_loadb(b.p, b.len, 0, &je) : NULL;
    cq_buf_cleanup(&b);
    return j != NULL ? j : json_array();
}

/* QUERY_FAILED or QUERY_TIMEOUT for a statement the database refused or did not finish. */
static int query_error(struct cq_dsl_error *e, const struct cq_dsl_compiled *c,
                       const struct cq_dsl_exec_env *env, const struct cq_stmt *st,
                       const struct cq_err *err)
{
    const char *dialect = cq_dsl_dialect_name(c->dialect);
    const char *database = engine_name(c->db);
    bool timeout = err->rc == CQ_ETIMEOUT || mentions_timeout(err->msg);
    const char *code = timeout ? "QUERY_TIMEOUT" : "QUERY_FAILED";
    char msg[400];
    json_t *d = json_object();

    if (timeout) {
        snprintf(msg, sizeof(msg), "Query timeout on %s database: %s (%lldms)", dialect,
                 database, (long long)st->timeout_ms);
    } else {
        snprintf(msg, sizeof(msg), "Query failed on %s database: %s", dialect, database);
    }
    json_object_set_new(d, "code", json_string(code));
    json_object_set_new(d, "database", json_string(database));
    json_object_set_new(d, "dialect", json_string(dialect));
    if (env->include_sql_in_errors) {
        json_object_set_new(d, "sql", json_string(c->sql != NULL ? c->sql : ""));
        if (!timeout) {
            json_object_set_new(d, "params", params_json(c));
        }
    }
    if (timeout) {
        json_object_set_new(d, "timeoutMs", json_integer(st->timeout_ms));
        cq_dsl_error_execution(e, code, msg, d, NULL);
        return CQ_ETIMEOUT;
    }
    json_object_set_new(d, "cause", cause_json(err));
    cq_dsl_error_execution(e, code, msg, d, cause_json(err));
    return err->rc != CQ_OK ? err->rc : CQ_EBACKEND;
}

/* ---- meta and debug log -------------------------------------------------------------------- */

static void write_columns(struct cq_buf *b, const struct cq_dsl_compiled *c)
{
    cq_buf_putc(b, '[');
    for (size_t i = 0; mode_of(c) != CQ_DSL_MODE_COUNT && i < c->n_cols; i++) {
        const struct cq_dsl_outcol *oc = &c->cols[i];
        if (i > 0) {
            cq_buf_putc(b, ',');
        }
        cq_buf_puts(b, "{\"apiName\":");
        put_str(b, oc->key);
        cq_buf_puts(b, ",\"type\":");
        if (oc->type_name != NULL) {
            put_str(b, oc->type_name);
        } else {
            cq_buf_printf(b, "\"%s%s\"", cq_dsl_type_name(oc->type), oc->array ? "[]" : "");
        }
        cq_buf_puts(b, oc->nullable ? ",\"nullable\":true,\"fromTable\":"
                                    : ",\"nullable\":false,\"fromTable\":");
        put_str(b, oc->from_table);
        cq_buf_puts(b, oc->masked && !oc->is_agg ? ",\"masked\":true}" : ",\"masked\":false}");
    }
    cq_buf_putc(b, ']');
}

/* "meta":{...} (spec §10.1 key order); exec_ms < 0 = no executionMs. */
static void write_meta(struct cq_buf *b, const struct cq_dsl_compiled *c, double exec_ms)
{
    cq_buf_puts(b, "\"meta\":{\"strategy\":");
    put_str(b, strategy_name(c->strategy));
    cq_buf_puts(b, ",\"targetDatabase\":");
    put_str(b, c->target != NULL ? c->target : c->db != NULL ? c->db->id : "trino");
    cq_buf_puts(b, ",\"dialect\":");
    put_str(b, cq_dsl_dialect_name(c->dialect));
    cq_buf_puts(b, ",\"tablesUsed\":[");
    for (size_t i = 0; i < c->n_tables; i++) {
        const struct cq_dsl_table_use *t = &c->tables[i];
        cq_buf_puts(b, i > 0 ? ",{\"tableId\":" : "{\"tableId\":");
        put_str(b, t->table != NULL ? t->table->id : NULL);
        cq_buf_puts(b, ",\"source\":");
        put_str(b, source_name(t->source));
        cq_buf_puts(b, ",\"database\":");
        put_str(b, t->db != NULL ? t->db->id : t->table != NULL && t->table->db != NULL
                                                   ? t->table->db->id : NULL);
        cq_buf_puts(b, ",\"physicalName\":");
        put_str(b, t->phys != NULL ? t->phys : t->table != NULL ? t->table->phys : NULL);
        cq_buf_putc(b, '}');
    }
    cq_buf_puts(b, "],\"columns\":");
    write_columns(b, c);
    cq_buf_puts(b, ",\"timing\":{\"planningMs\":");
    cq_buf_put_i64(b, whole_ms(c->planning_ms));
    cq_buf_puts(b, ",\"generationMs\":");
    cq_buf_put_i64(b, whole_ms(c->generation_ms));
    if (exec_ms >= 0) {
        cq_buf_puts(b, ",\"executionMs\":");
        cq_buf_put_i64(b, whole_ms(exec_ms));
    }
    cq_buf_puts(b, "}}");
}

static void write_entry(struct cq_buf *b, int64_t ts, const char *phase, const char *message,
                        const char *details_json)
{
    cq_buf_printf(b, "{\"timestamp\":%lld,\"phase\":", (long long)ts);
    put_str(b, phase);
    cq_buf_puts(b, ",\"message\":");
    put_str(b, message);
    if (details_json != NULL) {
        cq_buf_puts(b, ",\"details\":");
        cq_buf_puts(b, details_json);
    }
    cq_buf_putc(b, '}');
}

/* ,"debugLog":[...] when the query asked for it; rows < 0 = no execution entry. */
static void write_debug(struct cq_buf *b, const struct cq_dsl_compiled *c, int64_t rows,
                        double exec_ms)
{
    size_t n = c->n_debug + (rows >= 0 ? 1 : 0);
    if (c->q == NULL || !c->q->debug || n == 0) {
        return;
    }
    cq_buf_puts(b, ",\"debugLog\":[");
    for (size_t i = 0; i < c->n_debug; i++) {
        const struct cq_dsl_debug *d = &c->debug[i];
        if (i > 0) {
            cq_buf_putc(b, ',');
        }
        write_entry(b, d->ts_ms, d->phase, d->message, d->details_json);
    }
    if (rows >= 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "Executed (%lld rows) (%.1fms)", (long long)rows,
                 exec_ms > 0 ? exec_ms : 0.0);
        if (c->n_debug > 0) {
            cq_buf_putc(b, ',');
        }
        write_entry(b, cq_wall_ms(), "execution", msg, NULL);
    }
    cq_buf_putc(b, ']');
}

/* ---- modes ---------------------------------------------------------------------------------- */

static void write_sql_only(struct cq_buf *out, const struct cq_dsl_compiled *c)
{
    cq_buf_puts(out, "{\"kind\":\"sql\",\"sql\":");
    put_str(out, c->sql != NULL ? c->sql : "");
    cq_buf_puts(out, ",\"params\":");
    cq_dsl_exec_params_json(out, c);
    cq_buf_putc(out, ',');
    write_meta(out, c, -1);
    write_debug(out, c, -1, 0);
    cq_buf_putc(out, '}');
}

/* The executor of spec §7, or an error when clariq has none for the plan. */
static int pick_executor(const struct cq_dsl_compiled *c, const struct cq_dsl_exec_env *env,
                         struct cq_dsl_error *e)
{
    if (c->strategy == CQ_DSL_STRAT_TRINO || c->dialect == CQ_DIALECT_TRINO || c->db == NULL) {
        return executor_missing(e, "trino"); /* no Trino driver yet */
    }
    if (c->strategy == CQ_DSL_STRAT_CACHE) {
        const char *id = c->cached != NULL && c->cached->cache != NULL ? c->cached->cache->id
                         : c->target != NULL ? c->target : "";
        /* no Redis cache provider yet */
        return missing(e, "CACHE_PROVIDER_MISSING", "Cache provider missing", "cacheId", id);
    }
    if (env == NULL || env->acquire == NULL || c->db->connection == NULL ||
        (c->dialect != CQ_DIALECT_PG && c->dialect != CQ_DIALECT_SQLITE)) {
        return executor_missing(e, c->db->id);
    }
    return CQ_OK;
}

/* Writes everything after the rows: count or the data array's end, meta, debug log. */
static void write_tail(struct cq_buf *out, const struct cq_dsl_compiled *c,
                       const struct cq_dsl_result *res, double exec_ms)
{
    if (res->count_mode) {
        cq_buf_puts(out, "{\"kind\":\"count\",\"count\":");
        cq_buf_put_i64(out, res->count);
        cq_buf_putc(out, ',');
    } else {
        cq_buf_puts(out, "],");
    }
    write_meta(out, c, exec_ms);
    write_debug(out, c, res->rows, exec_ms);
    cq_buf_putc(out, '}');
}

/* One execution: what run_begin sets up and run_end finishes, around the driver call
 * (blocking in run, asynchronous in cq_dsl_execute_start/step). */
struct cq_dsl_run {
    const struct cq_dsl_compiled *c;
    const struct cq_dsl_exec_env *env;
    struct cq_buf *out;
    struct cq_dsl_error *e;
    struct cq_arena a;
    struct cq_dsl_result res;
    struct cq_err err;
    struct cq_stmt st;
    struct cq_conn *conn;             /* checked out */
    struct cq_rowsink sink;
    size_t mark;                      /* out's length before the result */
    int64_t t0;
    bool answered;                    /* e was set before the driver ran */
    struct cq_drv_op op;              /* asynchronous runs */
    cq_dsl_done_fn done;
    void *done_ctx;
};

/* Result writer, parameters and limits; out untouched. */
static int run_begin(struct cq_dsl_run *r, const struct cq_dsl_compiled *c,
                     const struct cq_dsl_exec_env *env, struct cq_buf *out,
                     struct cq_dsl_error *e)
{
    struct cq_param *ps = NULL;
    int rc;

    r->c = c;
    r->env = env;
    r->out = out;
    r->e = e;
    r->st.sql = c->sql;
    r->mark = out->len;
    r->t0 = cq_now_us();
    cq_arena_init(&r->a, 8192, 0);
    cq_dsl_result_init(&r->res, c, &r->a, out);
    r->sink = cq_dsl_result_sink(&r->res);
    rc = cq_dsl_exec_bind(&r->a, c, &ps, &r->err);
    if (rc != CQ_OK) {
        r->answered = true;
        return internal_error(e, rc, r->err.msg);
    }
    r->st.params = ps;
    r->st.n_params = c->n_params;
    if (env->limits != NULL) {
        struct cq_limits l = {0};
        env->limits(env->ctx, c->db->connection, &l);
        r->st.timeout_ms = l.timeout_ms;
        r->st.max_rows = l.max_rows;
        r->st.max_bytes = l.max_bytes;
    }
    return CQ_OK;
}

/* A connection from env: the database's engine must be the connection's. */
static int run_checked_out(struct cq_dsl_run *r)
{
    if (r->conn->drv->dialect != r->c->dialect) {
        r->answered = true;
        return executor_missing(r->e, r->c->db->id); /* e.g. ClickHouse on a pg connection */
    }
    if (!r->res.count_mode) {
        cq_buf_puts(r->out, "{\"kind\":\"data\",\"data\":[");
    }
    return CQ_OK;
}

/* A connection that died while idle (server restart) fails before any column; a
 * read-only statement is then safe to run once more on a fresh connection (pool.md). */
static bool run_retryable(const struct cq_dsl_run *r, int rc)
{
    return rc == CQ_ECONNECT && r->res.oc == NULL && (r->err.retryable || r->conn->read_only);
}

static void run_release(struct cq_dsl_run *r)
{
    if (r->conn != NULL) {
        r->env->release(r->env->ctx, r->conn);
        r->conn = NULL;
    }
}

/* After the driver: the error classes of spec §11, or the rest of the document. */
static int run_end(struct cq_dsl_run *r, int rc)
{
    struct cq_dsl_error *e = r->e;
    run_release(r);
    if (rc == CQ_OK && r->res.truncated_reason != NULL) {
        rc = cq_err_set(&r->err, CQ_ETOOBIG, "the result has more rows or bytes than the "
                        "connection's %s allows; add a limit to the query",
                        r->res.truncated_reason);
    }
    if (r->answered) {
        /* e is set */
    } else if (rc == CQ_ENOMEM) {
        rc = internal_error(e, rc, r->err.msg);
    } else if (rc == CQ_ECONNECT) {
        rc = connection_error(e, r->c->db, &r->err);
    } else if (rc != CQ_OK) {
        rc = query_error(e, r->c, r->env, &r->st, &r->err);
    }
    if (rc == CQ_OK) {
        write_tail(r->out, r->c, &r->res, (double)(cq_now_us() - r->t0) / 1000.0);
        if (cq_buf_rc(r->out) != CQ_OK) {
            rc = internal_error(e, cq_buf_rc(r->out), cq_buf_rc(r->out) == CQ_ETOOBIG
                                ? "the result is too large" : "out of memory");
        }
    }
    if (rc != CQ_OK) {
        rollback(r->out, r->mark);
    }
    cq_dsl_result_cleanup(&r->res);
    cq_arena_free(&r->a);
    return rc;
}

static int run(const struct cq_dsl_compiled *c, const struct cq_dsl_exec_env *env,
               struct cq_buf *out, struct cq_dsl_error *e)
{
    struct cq_dsl_run r = {0};
    int rc = run_begin(&r, c, env, out, e);

    for (int attempt = 0; rc == CQ_OK; attempt++) {
        rc = env->acquire(env->ctx, c->db->connection, &r.conn, &r.err);
        r.answered = rc != CQ_OK;
        if (rc == CQ_ENOTFOUND) {
            rc = executor_missing(e, c->db->id);
        } else if (rc != CQ_OK) {
            rc = rc == CQ_ENOMEM ? internal_error(e, rc, r.err.msg)
                                 : connection_error(e, c->db, &r.err);
        } else {
            rc = run_checked_out(&r);
        }
        if (rc != CQ_OK) {
            break;
        }
        rc = cq_drv_exec(r.conn, &r.st, &r.sink, &r.err);
        if (!(attempt == 0 && run_retryable(&r, rc))) {
            break;
        }
        run_release(&r);
        rollback(out, r.mark);
        cq_err_clear(&r.err);
        rc = CQ_OK;
    }
    return run_end(&r, rc);
}

/* Undoes a run that will be done again elsewhere: nothing of it stays in out. */
static void run_discard(struct cq_dsl_run *r)
{
    run_release(r);
    rollback(r->out, r->mark);
    cq_dsl_result_cleanup(&r->res);
    cq_arena_free(&r->a);
    cq_free(r);
}

/* The driver ended the statement (on the thread stepping its connection). */
static void run_op_done(struct cq_drv_op *op, int rc)
{
    struct cq_dsl_run *r = op->ctx;
    cq_dsl_done_fn done = r->done;
    void *ctx = r->done_ctx;
    if (run_retryable(r, rc)) {
        run_discard(r); /* the caller runs it again, blocking, with cq_dsl_execute's retry */
        rc = CQ_EUNSUPPORTED;
    } else {
        rc = run_end(r, rc);
        cq_free(r);
    }
    done(ctx, rc);
}

int cq_dsl_execute_start(const struct cq_dsl_compiled *c, const struct cq_dsl_exec_env *env,
                         struct cq_buf *out, struct cq_dsl_error *e, cq_dsl_done_fn done,
                         void *ctx, struct cq_conn **conn, struct cq_drv_op **op)
{
    struct cq_dsl_run *r;
    int rc;

    if (mode_of(c) == CQ_DSL_MODE_SQL_ONLY) {
        return cq_dsl_execute(c, env, out, e); /* no database: done at once */
    }
    rc = pick_executor(c, env, e);
    if (rc != CQ_OK) {
        return rc;
    }
    r = env->try_acquire != NULL ? cq_calloc(1, sizeof(*r)) : NULL;
    if (r == NULL) {
        return CQ_EUNSUPPORTED;
    }
    rc = run_begin(r, c, env, out, e);
    if (rc != CQ_OK) {
        rc = run_end(r, rc);
        cq_free(r);
        return rc;
    }
    if (env->try_acquire(env->ctx, c->db->connection, &r->conn) != CQ_OK) {
        r->conn = NULL;
        run_discard(r);
        return CQ_EUNSUPPORTED;
    }
    if (r->conn->drv->dialect != c->dialect || !(r->conn->drv->caps & CQ_CAP_ASYNC)) {
        run_discard(r);
        return CQ_EUNSUPPORTED;
    }
    run_checked_out(r); /* cannot fail: the dialect matches */
    r->done = done;
    r->done_ctx = ctx;
    r->op.st = &r->st;
    r->op.out = &r->sink;
    r->op.err = &r->err;
    r->op.done = run_op_done;
    r->op.ctx = r;
    *conn = r->conn;
    *op = &r->op;
    rc = cq_drv_exec_start(r->conn, &r->op);
    if (rc == CQ_OK) {
        return CQ_EAGAIN;
    }
    if (rc == CQ_EUNSUPPORTED || run_retryable(r, rc)) {
        run_discard(r);
        return CQ_EUNSUPPORTED;
    }
    rc = run_end(r, rc);
    cq_free(r);
    return rc;
}

int cq_dsl_execute(const struct cq_dsl_compiled *c, const struct cq_dsl_exec_env *env,
                   struct cq_buf *out, struct cq_dsl_error *e)
{
    size_t mark = out->len;
    int rc;

    if (mode_of(c) == CQ_DSL_MODE_SQL_ONLY) {
        write_sql_only(out, c);
        if (cq_buf_rc(out) != CQ_OK) {
            rc = cq_buf_rc(out);
            rollback(out, mark);
            return internal_error(e, rc, rc == CQ_ETOOBIG ? "the result is too large"
                                                          : "out of memory");
        }
        return CQ_OK;
    }
    rc = pick_executor(c, env, e);
    if (rc != CQ_OK) {
        return rc;
    }
    return run(c, env, out, e);
}
