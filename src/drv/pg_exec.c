/*
 * pg_exec.c - running statements on PostgreSQL: parameter binding, single-row streaming
 * into the sink, caps (cancel and drain), timeouts (server statement_timeout plus a
 * client deadline), read-only enforcement, and the mapping of server errors to cq_rc.
 *
 * A single statement is an op (struct cq_drv_pg_run from the connection's free list) in
 * the connection's pipeline (libpq pipeline mode, one Sync per op): cq_drv_exec_start
 * queues and sends it, cq_drv_exec_step reads and completes ops in order, cq_drv_exec is
 * one internal op + wait. Several statements (allow_multi) and the statements the cache
 * does not take run blocking, one after the other, outside pipeline mode (exec_multi).
 * See docs/internals/pg-async.md.
 */
#include "drv/drv.h"

#ifndef CQ_WITHOUT_PG

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "base/mem.h"
#include "base/log.h"
#include "base/str.h"
#include "base/time.h"
#include "drv/param.h"
#include "drv/pg_int.h"

#define PG_GRACE_MS 200              /* client deadline after the server's statement_timeout */
#define PG_DRAIN_MS 5000             /* time a canceled statement gets to wind down */
#define PG_ROW_MAX ((size_t)1 << 31) /* converted row; fields are <= 1 GB, JSON may double */
#define PG_ELEM_MAX ((size_t)1 << 30)

/* Builtin type OIDs for explicitly typed parameters. */
enum {
    OID_BOOL = 16,
    OID_INT8 = 20,
    OID_TEXT = 25,
    OID_JSON = 114,
    OID_FLOAT8 = 701,
    OID_DATE = 1082,
    OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184,
    OID_NUMERIC = 1700,
};

/* Records the first error of the call (message built from fmt) and returns it. */
static int fail(struct cq_drv_pg_run *r, int rc, const char *code, const char *fmt, ...)
    CQ_PRINTF(4, 5);

static int fail(struct cq_drv_pg_run *r, int rc, const char *code, const char *fmt, ...)
{
    if (r->rc != CQ_OK) {
        return r->rc;
    }
    char msg[sizeof(r->err->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->rc = rc;
    cq_err_set(r->err, (enum cq_rc)rc, "%s", msg);
    cq_err_code(r->err, code);
    return rc;
}

/* A sink callback failed: it set err itself. */
static void sink_failed(struct cq_drv_pg_run *r, int rc)
{
    if (r->rc == CQ_OK) {
        r->rc = rc;
    }
}

static const char *field(const PGresult *res, int code)
{
    const char *v = PQresultErrorField(res, code);
    return v != NULL ? v : "";
}

/* ---- statement shape ------------------------------------------------------------------- */

static bool word_is(const char *w, size_t n, const char *kw)
{
    size_t k = strlen(kw);
    if (n != k) {
        return false;
    }
    for (size_t i = 0; i < k; i++) {
        char c = w[i] >= 'a' && w[i] <= 'z' ? (char)(w[i] - 32) : w[i];
        if (c != kw[i]) {
            return false;
        }
    }
    return true;
}

static bool word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (unsigned char)c >= 0x80;
}

/* Skips blanks, comments and opening parentheses before the first word. */
static const char *skip_noise(const char *p, const char *end)
{
    while (p < end) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '(') {
            p++;
        } else if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
            while (p < end && *p != '\n') {
                p++;
            }
        } else if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
            int depth = 1; /* block comments nest in PostgreSQL */
            for (p += 2; p < end && depth > 0;) {
                if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
                    depth++, p += 2;
                } else if (end - p >= 2 && p[0] == '*' && p[1] == '/') {
                    depth--, p += 2;
                } else {
                    p++;
                }
            }
        } else {
            break;
        }
    }
    return p;
}

/*
 * Whether a cap may cancel the statement instead of reading it to the end. Canceling a
 * statement with side effects rolls them back, which a truncated result must never do:
 * only plain queries qualify (first word SELECT/WITH/VALUES/TABLE/SHOW/EXPLAIN and no
 * INSERT/UPDATE/DELETE/MERGE anywhere, strings and comments included: a false "no" only
 * costs the time to read the rest). Functions with side effects called from a SELECT are
 * the caller's business, as they would be with a LIMIT.
 */
static bool is_plain_query(const char *sql, size_t len)
{
    static const char *const reads[] = {"SELECT", "WITH", "VALUES", "TABLE", "SHOW", "EXPLAIN"};
    static const char *const writes[] = {"INSERT", "UPDATE", "DELETE", "MERGE"};
    const char *end = sql + len, *p = skip_noise(sql, end);
    bool ok = false;
    for (bool first = true; p < end; first = false) {
        const char *w = p;
        while (p < end && word_char(*p)) {
            p++;
        }
        for (size_t k = 0; first && k < sizeof(reads) / sizeof(reads[0]); k++) {
            ok = ok || word_is(w, (size_t)(p - w), reads[k]);
        }
        for (size_t k = 0; k < sizeof(writes) / sizeof(writes[0]); k++) {
            if (word_is(w, (size_t)(p - w), writes[k])) {
                return false;
            }
        }
        while (p < end && !word_char(*p)) {
            p++;
        }
    }
    return ok;
}

/*
 * Whether a statement goes through the prepared-statement cache: the statements the server
 * plans (queries and DML). Utility statements gain nothing from a plan, and some of them
 * (DEALLOCATE, DISCARD) would pull the cache out from under its own run.
 */
static bool is_cacheable(const char *sql, size_t len)
{
    static const char *const planned[] = {"SELECT", "WITH",   "VALUES", "TABLE",
                                          "INSERT", "UPDATE", "DELETE", "MERGE"};
    const char *end = sql + len, *p = skip_noise(sql, end), *w = p;
    while (p < end && word_char(*p)) {
        p++;
    }
    for (size_t k = 0; k < sizeof(planned) / sizeof(planned[0]); k++) {
        if (word_is(w, (size_t)(p - w), planned[k])) {
            return true;
        }
    }
    return false;
}

static int check_shape(struct cq_drv_pg_run *r, const struct cq_sql_scan *scan)
{
    const struct cq_stmt *st = r->st;
    char uses[32], given[48];
    if (scan->n_stmts == 0) {
        return fail(r, CQ_EINVAL, NULL, "the SQL holds no statement");
    }
    if ((size_t)scan->max_param != st->n_params) {
        if (scan->max_param == 0) {
            snprintf(uses, sizeof(uses), "no parameters");
        } else if (scan->max_param == 1) {
            snprintf(uses, sizeof(uses), "$1");
        } else {
            snprintf(uses, sizeof(uses), "$1..$%d", scan->max_param);
        }
        if (st->n_params == 0) {
            snprintf(given, sizeof(given), "no parameters were given");
        } else if (st->n_params == 1) {
            snprintf(given, sizeof(given), "1 was given");
        } else {
            snprintf(given, sizeof(given), "%zu parameters were given", st->n_params);
        }
        return fail(r, CQ_EINVAL, NULL, "statement uses %s but %s", uses, given);
    }
    if (scan->n_stmts > 1 && !st->allow_multi) {
        return fail(r, CQ_EINVAL, NULL,
                    "the SQL holds %zu statements; run one at a time or pass --allow-multi",
                    scan->n_stmts);
    }
    return CQ_OK;
}

/* ---- errors from the server ------------------------------------------------------------- */

/* The session is gone (or the server said it is going away). */
static int lost(struct cq_drv_pg_run *r, const char *why, const char *code)
{
    struct cq_conn *c = &r->pc->base;
    char line[300];
    c->broken = true;
    cq_drv_pg_first_line(why, line, sizeof(line));
    if (r->rc != CQ_OK) {
        return r->rc;
    }
    fail(r, CQ_ECONNECT, code, "connection '%s' (%s): lost connection: %s", c->name, c->where,
         line[0] ? line : "server closed the connection");
    /* Safe to run again only when nothing reached the caller and nothing can have been
     * committed: nothing sent yet, a read-only session, or the server going down while
     * the first statement ran (it was rolled back with the session). */
    bool shutting_down =
        strcmp(code, "57P01") == 0 || strcmp(code, "57P02") == 0 || strcmp(code, "57P03") == 0;
    /* ops pipelined behind others (or with others behind them) are judged conservatively:
     * retryable only when their bytes never left the client, or on a read-only session */
    bool alone = r->op == NULL || r->pc->n_queued <= 1;
    if (r->err != NULL) {
        r->err->retryable = r->rows_total == 0 && (!r->sent || c->read_only ||
                                                   (shutting_down && r->stmt_no == 1 && alone));
    }
    return r->rc;
}

static int timeout_error(struct cq_drv_pg_run *r)
{
    return fail(r, CQ_ETIMEOUT, "57014",
                "connection '%s': statement timed out after %lld ms (raise limits.timeout or pass "
                "a larger --timeout, up to the connection's limit)",
                r->pc->base.name, (long long)r->st->timeout_ms);
}

static void sql_error(struct cq_drv_pg_run *r, const PGresult *res, const char *code)
{
    struct cq_buf b;
    const char *sev = field(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *pos = field(res, PG_DIAG_STATEMENT_POSITION);
    const char *detail = field(res, PG_DIAG_MESSAGE_DETAIL);
    const char *hint = field(res, PG_DIAG_MESSAGE_HINT);
    cq_buf_init(&b, 4096); /* cq_err_set cuts it to the message size */
    cq_buf_printf(&b, "connection '%s': %s: %s", r->pc->base.name, sev[0] ? sev : "ERROR",
                  field(res, PG_DIAG_MESSAGE_PRIMARY));
    if (pos[0] != '\0') {
        cq_buf_printf(&b, " at character %s", pos);
    }
    if (detail[0] != '\0') {
        cq_buf_printf(&b, " (DETAIL: %s)", detail);
    }
    if (hint[0] != '\0') {
        cq_buf_printf(&b, " (HINT: %s)", hint);
    }
    if (r->n_stmts > 1) {
        cq_buf_printf(&b, " [statement %zu of %zu]", r->stmt_no, r->n_stmts);
    }
    fail(r, CQ_EBACKEND, code, "%s", b.p != NULL ? b.p : "");
    cq_buf_cleanup(&b);
}

static void result_error(struct cq_drv_pg_run *r, const PGresult *res)
{
    const char *code = field(res, PG_DIAG_SQLSTATE);
    const char *name = r->pc->base.name;
    bool bad = PQstatus(r->pc->pg) == CONNECTION_BAD;
    if (bad || cq_has_prefix(code, "08") || cq_has_prefix(code, "57P")) {
        lost(r, PQresultErrorMessage(res), code);
    } else if (r->stop_canceled) {
        /* our cancel after a cap (57014) or whatever the statement hit while it was
         * being canceled: the caller has its rows, the rest was not wanted */
    } else if (strcmp(code, "57014") == 0) {
        if (r->timed_out || (!atomic_load(&r->pc->cancel_req) && r->st->timeout_ms > 0)) {
            timeout_error(r);
        } else if (atomic_load(&r->pc->cancel_req)) {
            fail(r, CQ_ECANCELED, code, "connection '%s': statement canceled", name);
        } else {
            fail(r, CQ_ECANCELED, code, "connection '%s': statement canceled by the server: %s",
                 name, field(res, PG_DIAG_MESSAGE_PRIMARY));
        }
    } else if (strcmp(code, "25006") == 0) {
        fail(r, CQ_EREADONLY, code, "connection '%s'%s: %s%s", name,
             r->pc->base.read_only ? " is read-only" : "", field(res, PG_DIAG_MESSAGE_PRIMARY),
             r->pc->base.read_only ? " (use a connection with read_only: false for writes)"
                                   : " (the server or the transaction is read-only)");
    } else {
        sql_error(r, res, code);
    }
}

/* ---- rows ------------------------------------------------------------------------------ */

/* Ends the stream early. The rest of the rows are read and dropped (memory stays flat);
 * next_result cancels the statement if it is still running and cancel_ok. */
static void stop(struct cq_drv_pg_run *r)
{
    r->stopped = true;
}

static int send_columns(struct cq_drv_pg_run *r, const PGresult *res)
{
    int n = PQnfields(res);
    size_t un = (size_t)n;
    struct cq_col *cols = NULL;
    r->cols_sent = true;
    r->n_cols = n;
    if (n > 0) {
        cols = cq_arena_alloc(&r->arena, un * sizeof(*cols));
        r->ctypes = cq_arena_alloc(&r->arena, un * sizeof(*r->ctypes));
        r->vals = cq_arena_alloc(&r->arena, un * sizeof(*r->vals));
        r->offs = cq_arena_alloc(&r->arena, un * sizeof(*r->offs));
        r->in_sc = cq_arena_alloc(&r->arena, un * sizeof(*r->in_sc));
        if (cols == NULL || r->ctypes == NULL || r->vals == NULL || r->offs == NULL ||
            r->in_sc == NULL) {
            stop(r);
            return fail(r, CQ_ENOMEM, NULL, "connection '%s': out of memory", r->pc->base.name);
        }
    }
    for (int i = 0; i < n; i++) {
        r->ctypes[i] = cq_drv_pg_type_find((unsigned)PQftype(res, i));
        cols[i].name = PQfname(res, i);
        cols[i].type = r->ctypes[i]->name;
        cols[i].kind = cq_drv_pg_type_kind(r->ctypes[i]);
    }
    int rc = r->sink->on_columns(r->sink->ctx, un, cols, r->err);
    if (rc != CQ_OK) {
        stop(r);
        sink_failed(r, rc);
    }
    return rc;
}

static int deliver_row(struct cq_drv_pg_run *r, const PGresult *res, int row)
{
    struct cq_drv_pg_scratch *sc = r->sc;
    bool moved = false;
    cq_buf_reset(&sc->out);
    for (int i = 0; i < r->n_cols; i++) {
        struct cq_value *v = &r->vals[i];
        if (PQgetisnull(res, row, i)) {
            v->kind = CQ_V_NULL, v->p = NULL, v->len = 0;
            r->in_sc[i] = false;
            continue;
        }
        r->in_sc[i] = cq_drv_pg_convert(r->ctypes[i], PQgetvalue(res, row, i),
                                        (size_t)PQgetlength(res, row, i), sc, v, &r->offs[i]);
        moved = moved || r->in_sc[i];
    }
    if (cq_buf_rc(&sc->out) != CQ_OK) {
        return fail(r, cq_buf_rc(&sc->out) == CQ_ENOMEM ? CQ_ENOMEM : CQ_ETOOBIG, NULL,
                    "connection '%s': row %lld is too large to convert", r->pc->base.name,
                    (long long)r->info.row_count + 1);
    }
    for (int i = 0; moved && i < r->n_cols; i++) {
        if (r->in_sc[i]) {
            r->vals[i].p = sc->out.p + r->offs[i]; /* the buffer no longer moves */
        }
    }
    int rc = r->sink->on_row(r->sink->ctx, (size_t)r->n_cols, r->vals, r->err);
    if (rc == CQ_OK) {
        r->info.row_count++;
        r->rows_total++;
    }
    return rc;
}

static void deliver(struct cq_drv_pg_run *r, const PGresult *res)
{
    if (r->op != NULL && atomic_load(&r->op->cancel)) {
        r->stopped = true; /* canceled: its rows are dropped as they arrive */
        return;
    }
    if (!r->cols_sent && send_columns(r, res) != CQ_OK) {
        return;
    }
    int n = PQntuples(res);
    for (int i = 0; i < n && !r->stopped; i++) {
        int rc = deliver_row(r, res, i);
        if (rc != CQ_OK) {
            stop(r);
            if (rc != CQ_SINK_STOP) {
                sink_failed(r, rc);
            }
        }
    }
}

/* Keeps the command tag and the affected-row count of a finished statement. */
static void take_tag(struct cq_drv_pg_run *r, PGresult *res)
{
    const char *tag = PQcmdStatus(res);
    const char *n = PQcmdTuples(res);
    int64_t v;
    r->info.command = tag[0] != '\0' ? cq_arena_strdup(&r->arena, tag) : NULL;
    /* "SELECT n" counts rows returned, not affected (CREATE TABLE AS, which returns no
     * columns, does affect them) */
    if (n[0] != '\0' && !(PQnfields(res) > 0 && cq_has_prefix(tag, "SELECT")) &&
        cq_parse_i64(&n, &v) == CQ_OK) {
        r->info.rows_affected = v;
    }
    if (cq_has_prefix(tag, "SET") || cq_has_prefix(tag, "RESET") || cq_has_prefix(tag, "DISCARD")) {
        r->pc->stmt_timeout_ms = -1; /* the statement may have changed statement_timeout */
    }
    if (strcmp(tag, "DISCARD ALL") == 0 || strcmp(tag, "DEALLOCATE ALL") == 0) {
        /* the server dropped our prepared statements; a DEALLOCATE of one of them is
         * caught by the 26000 recovery instead */
        cq_drv_pg_cache_clear(&r->pc->cache);
    }
}

static void handle_result(struct cq_drv_pg_run *r, PGresult *res)
{
    switch (PQresultStatus(res)) {
    case PGRES_SINGLE_TUPLE:
        if (!r->stopped) {
            deliver(r, res);
        }
        break;
    case PGRES_TUPLES_OK:
        if (!r->stopped) {
            deliver(r, res); /* no rows (columns only), or the whole set if not streamed */
        }
        take_tag(r, res);
        break;
    case PGRES_COMMAND_OK:
    case PGRES_EMPTY_QUERY:
        if (!r->cols_sent) {
            send_columns(r, res);
        }
        take_tag(r, res);
        break;
    case PGRES_COPY_IN:
        PQputCopyEnd(r->pc->pg, "COPY FROM STDIN is not supported by clariq");
        fail(r, CQ_EUNSUPPORTED, NULL,
             "connection '%s': COPY FROM STDIN is not supported; use INSERT", r->pc->base.name);
        break;
    case PGRES_COPY_OUT:
    case PGRES_COPY_BOTH:
        r->pc->base.broken = true; /* mid-COPY: cheaper to drop the session than to drain */
        r->abandon = true;
        fail(r, CQ_EUNSUPPORTED, NULL,
             "connection '%s': COPY TO STDOUT is not supported; run the query itself",
             r->pc->base.name);
        break;
    default:
        result_error(r, res);
        break;
    }
}

/* ---- the result loop --------------------------------------------------------------------- */

/* After a cap: cancel a plain query only if the server is still producing rows, so a result
 * that already arrived whole costs no cancel round trip. */
static void cancel_if_running(struct cq_drv_pg_run *r)
{
    PGconn *pg = r->pc->pg;
    if (!r->stopped || !r->cancel_ok || r->stop_canceled || !PQisBusy(pg)) {
        return;
    }
    if (PQconsumeInput(pg) && !PQisBusy(pg)) {
        return;
    }
    cq_drv_pg_send_cancel(r->pc);
    r->stop_canceled = true;
    r->drain_deadline_ms = cq_now_ms() + PG_DRAIN_MS;
}

/* Next result, waiting at most until the deadline; at the deadline, cancels and gives the
 * statement PG_DRAIN_MS to wind down. CQ_ETIMEOUT when even that passed. */
static int next_result(struct cq_drv_pg_run *r, PGresult **out)
{
    for (;;) {
        cancel_if_running(r);
        int64_t dl = r->drain_deadline_ms != 0 ? r->drain_deadline_ms : r->deadline_ms;
        if (cq_drv_pg_wait(r->pc->pg, dl) == CQ_OK) {
            *out = PQgetResult(r->pc->pg);
            return CQ_OK;
        }
        if (r->drain_deadline_ms != 0) {
            return CQ_ETIMEOUT;
        }
        cq_drv_pg_send_cancel(r->pc);
        r->timed_out = true;
        r->drain_deadline_ms = cq_now_ms() + PG_DRAIN_MS;
    }
}

/* Reads every result of the statement (libpq requires it before the next command). */
static int read_results(struct cq_drv_pg_run *r)
{
    while (!r->abandon) {
        PGresult *res = NULL;
        if (next_result(r, &res) != CQ_OK) {
            /* the server did not wind down after the cancel: give the session up */
            r->pc->base.broken = true;
            if (!r->stop_canceled) {
                timeout_error(r);
            }
            break;
        }
        if (res == NULL) {
            break;
        }
        handle_result(r, res);
        PQclear(res);
    }
    return r->rc;
}

/* ---- sending ----------------------------------------------------------------------------- */

/* Whether an ISO-8601 timestamp text carries a zone (Z, an offset or a zone name). */
static bool has_zone(const char *s)
{
    size_t n = strlen(s), t = 8;
    while (t < n && s[t] != 'T' && s[t] != 't' && s[t] != ' ') {
        t++;
    }
    for (size_t i = t + 1; i < n; i++) {
        char c = s[i];
        if (c == '+' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            return true;
        }
    }
    return false;
}

/* An explicitly typed parameter is bound with its type; otherwise OID 0 lets the server
 * infer it from the context, as for a literal. */
static Oid param_oid(const struct cq_param *p)
{
    if (!p->explicit_type) {
        return 0;
    }
    switch (p->type) {
    case CQ_P_INT:
        return OID_INT8;
    case CQ_P_FLOAT:
        return OID_FLOAT8;
    case CQ_P_NUMERIC:
        return OID_NUMERIC;
    case CQ_P_TEXT:
        return OID_TEXT;
    case CQ_P_BOOL:
        return OID_BOOL;
    case CQ_P_JSON:
        return OID_JSON;
    case CQ_P_DATE:
        return OID_DATE;
    case CQ_P_TIMESTAMP:
        return has_zone(p->text) ? OID_TIMESTAMPTZ : OID_TIMESTAMP;
    default:
        return 0;
    }
}

/* Fills r->values and r->types with the n parameters of the statement, in text form. */
static int bind_params(struct cq_drv_pg_run *r, int n)
{
    r->n_params = n;
    if (n == 0) {
        return CQ_OK;
    }
    r->values = cq_arena_alloc(&r->arena, (size_t)n * sizeof(*r->values));
    r->types = cq_arena_alloc(&r->arena, (size_t)n * sizeof(*r->types));
    if (r->values == NULL || r->types == NULL) {
        return fail(r, CQ_ENOMEM, NULL, "connection '%s': out of memory", r->pc->base.name);
    }
    for (int i = 0; i < n; i++) {
        const struct cq_param *p = &r->st->params[i];
        r->values[i] = p->type == CQ_P_NULL ? NULL : p->text;
        r->types[i] = param_oid(p);
    }
    return CQ_OK;
}

/* A libpq send function refused: the session is gone, or we misused libpq. */
static int send_failed(struct cq_drv_pg_run *r)
{
    PGconn *pg = r->pc->pg;
    if (PQstatus(pg) != CONNECTION_OK) {
        return lost(r, PQerrorMessage(pg), "");
    }
    return fail(r, CQ_EINTERNAL, NULL, "connection '%s': cannot send the statement: %s",
                r->pc->base.name, PQerrorMessage(pg));
}

static void single_row_mode(struct cq_drv_pg_run *r)
{
    if (!PQsetSingleRowMode(r->pc->pg)) {
        r->pc->n_single_refused++;
        CQ_LOG(CQ_LOG_DEBUG, r->pc->log_ctx, "single-row mode refused; the result is buffered");
    }
}

/* Sends sql on the unnamed statement with the n parameters of the call. */
static int send_stmt(struct cq_drv_pg_run *r, const char *sql, int n)
{
    if (bind_params(r, n) != CQ_OK) {
        return r->rc;
    }
    /* Text in, text out: values keep the server's exact digits. Extended protocol: the
     * server refuses several statements in one string, a second line of defence. */
    if (!PQsendQueryParams(r->pc->pg, sql, n, r->types, r->values, NULL, NULL, 0)) {
        return send_failed(r);
    }
    r->sent = true;
    single_row_mode(r);
    return CQ_OK;
}

/* ---- the prepared-statement cache ------------------------------------------------------------ */

static uint64_t key_hash(const char *sql, size_t len, const unsigned *types, int n)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char)sql[i]) * 1099511628211u;
    }
    for (int i = 0; i < n; i++) {
        h = (h ^ types[i]) * 1099511628211u;
    }
    return h;
}

static void prep_name(const struct cq_drv_pg_prep *e, char *out, size_t size)
{
    snprintf(out, size, "cq_%u", e->id);
}

static void prep_free(struct cq_drv_pg_prep *e)
{
    cq_free(e->sql);
    cq_free(e->types);
    memset(e, 0, sizeof(*e));
}

void cq_drv_pg_cache_clear(struct cq_drv_pg_cache *cache)
{
    for (size_t i = 0; i < CQ_PG_CACHE_MAX; i++) {
        prep_free(&cache->e[i]);
    }
}

static int cache_find(const struct cq_drv_pg_cache *cache, const struct cq_drv_pg_run *r,
                      size_t len)
{
    for (int i = 0; i < CQ_PG_CACHE_MAX; i++) {
        const struct cq_drv_pg_prep *e = &cache->e[i];
        if (e->sql != NULL && e->hash == r->key_hash && e->sql_len == len &&
            e->n_types == r->n_params && memcmp(e->sql, r->sql, len) == 0 &&
            (r->n_params == 0 ||
             memcmp(e->types, r->types, (size_t)r->n_params * sizeof(*r->types)) == 0)) {
            return i;
        }
    }
    return -1;
}

/* A free slot, or the least recently used one (still occupied). */
static int cache_victim(const struct cq_drv_pg_cache *cache)
{
    int lru = 0;
    for (int i = 0; i < CQ_PG_CACHE_MAX; i++) {
        if (cache->e[i].sql == NULL) {
            return i;
        }
        if (cache->e[i].last_use < cache->e[lru].last_use) {
            lru = i;
        }
    }
    return lru;
}

/* ---- session state ------------------------------------------------------------------------- */

static void rollback(struct cq_drv_pg_run *r)
{
    struct cq_err ignored;
    cq_err_clear(&ignored);
    if (r->pc->in_pipeline) {
        r->pc->base.broken = true; /* other ops are queued: no simple query possible */
        return;
    }
    if (cq_drv_pg_simple(r->pc, "ROLLBACK", "rollback", &ignored) != CQ_OK) {
        r->pc->base.broken = true;
    }
}

/*
 * After each statement: a read-only session must stay read-only and outside transactions
 * (BEGIN READ WRITE would lift the protection), and no session may stay inside a
 * transaction after the call, so pooled connections are always idle between calls.
 */
static int check_session(struct cq_drv_pg_run *r, bool last)
{
    struct cq_conn *c = &r->pc->base;
    if (c->broken) {
        return r->rc;
    }
    PGTransactionStatusType ts = PQtransactionStatus(r->pc->pg);
    bool in_tx = ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR;
    const char *ro = PQparameterStatus(r->pc->pg, "default_transaction_read_only");
    if (c->read_only && in_tx) {
        rollback(r);
        return fail(r, CQ_EREADONLY, NULL,
                    "connection '%s' is read-only: transaction control is not allowed", c->name);
    }
    if (c->read_only && ro != NULL && strcmp(ro, "on") != 0) {
        struct cq_err ignored;
        cq_err_clear(&ignored);
        if (r->pc->in_pipeline || cq_drv_pg_simple(r->pc, "RESET default_transaction_read_only",
                                                   "reset", &ignored) != CQ_OK) {
            c->broken = true;
        }
        return fail(r, CQ_EREADONLY, NULL,
                    "connection '%s' is read-only: default_transaction_read_only cannot be "
                    "changed",
                    c->name);
    }
    if (last && in_tx) {
        rollback(r);
        return fail(r, CQ_EINVAL, NULL,
                    "connection '%s': transactions cannot span calls; put BEGIN...COMMIT in one "
                    "call with --allow-multi",
                    c->name);
    }
    return CQ_OK;
}

/* The statement_timeout st needs on the session (0 = the server's default). */
static int64_t wanted_timeout(const struct cq_stmt *st)
{
    int64_t want = st->timeout_ms > 0 ? st->timeout_ms : 0;
    return want > INT32_MAX ? INT32_MAX : want; /* the server's maximum (~24 days) */
}

static int set_timeout(struct cq_drv_pg_run *r)
{
    int64_t want = wanted_timeout(r->st);
    char sql[64];
    if (want == r->pc->stmt_timeout_ms) {
        return CQ_OK; /* already set on this session: no extra round trip */
    }
    if (want > 0) {
        snprintf(sql, sizeof(sql), "SET statement_timeout = %lld", (long long)want);
    } else {
        cq_strlcpy(sql, "RESET statement_timeout", sizeof(sql)); /* back to the server's */
    }
    r->pc->stmt_timeout_ms = -1;
    r->rc = cq_drv_pg_simple(r->pc, sql, "setting statement_timeout", r->err);
    if (r->rc == CQ_OK) {
        r->pc->stmt_timeout_ms = want;
    }
    return r->rc;
}

/* ---- statements ------------------------------------------------------------------------ */

/* Resets the per-statement state before a statement's results are read. */
static void begin_stmt(struct cq_drv_pg_run *r, const struct cq_sql_stmt *s, bool last,
                       const struct cq_rowsink *out)
{
    r->sink = last ? out : &cq_drv_discard_sink;
    r->cancel_ok = r->pc->base.read_only || is_plain_query(r->st->sql + s->off, s->len);
    r->cols_sent = r->stopped = r->stop_canceled = false;
    memset(&r->info, 0, sizeof(r->info));
    r->info.rows_affected = -1;
}

/* Older servers do not report default_transaction_read_only: re-assert it each time. */
static int assert_read_only(struct cq_drv_pg_run *r)
{
    struct cq_drv_pg_conn *pc = r->pc;
    if (pc->base.read_only && !pc->ro_reported) {
        r->rc = cq_drv_pg_simple(pc, "SET default_transaction_read_only = on", "read-only", r->err);
    }
    return r->rc;
}

/* The end of a statement whose results were all read: session checks, then the sink's
 * on_columns (if no result carried columns) and on_end. */
static int end_stmt(struct cq_drv_pg_run *r, bool last)
{
    if (r->rc != CQ_OK || check_session(r, last) != CQ_OK) {
        return r->rc;
    }
    if (!r->cols_sent) {
        int rc = r->sink->on_columns(r->sink->ctx, 0, NULL, r->err);
        if (rc != CQ_OK) {
            sink_failed(r, rc);
            return r->rc;
        }
    }
    r->info.elapsed_ms = (double)(cq_now_us() - r->start_us) / 1000.0;
    int rc = r->sink->on_end(r->sink->ctx, &r->info, r->err);
    if (rc != CQ_OK) {
        sink_failed(r, rc);
    }
    return r->rc;
}

/* Leaves the session idle (or marked broken) whatever happened; outside pipeline mode. */
static void finish(struct cq_drv_pg_run *r)
{
    PGconn *pg = r->pc->pg;
    if (pg == NULL || r->pc->base.broken) {
        return;
    }
    PGTransactionStatusType ts = PQtransactionStatus(pg);
    if (PQstatus(pg) != CONNECTION_OK || ts == PQTRANS_ACTIVE || ts == PQTRANS_UNKNOWN) {
        r->pc->base.broken = true; /* results left unread, or the connection is gone */
    } else if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
        rollback(r); /* e.g. an error between BEGIN and COMMIT */
    }
}

/* ---- several statements (or one the cache does not take): blocking, unnamed ------------- */

static int run_stmt(struct cq_drv_pg_run *r, const char *sql, const struct cq_sql_stmt *s,
                    bool last, const struct cq_rowsink *out)
{
    begin_stmt(r, s, last, out);
    if (assert_read_only(r) != CQ_OK || send_stmt(r, sql, s->max_param) != CQ_OK ||
        read_results(r) != CQ_OK) {
        return r->rc;
    }
    return end_stmt(r, last);
}

static void run_init(struct cq_drv_pg_run *r, struct cq_drv_pg_conn *pc, const struct cq_stmt *st,
                     struct cq_err *err)
{
    memset(r, 0, sizeof(*r));
    r->pc = pc;
    r->st = st;
    r->err = err;
    r->start_us = cq_now_us();
    r->slot = -1;
    r->sc = &pc->sc;
    cq_arena_init(&r->arena, 8192, 0);
}

static int exec_multi(struct cq_drv_pg_conn *pc, const struct cq_stmt *st,
                      const struct cq_rowsink *out, struct cq_err *err)
{
    struct cq_drv_pg_run run, *r = &run;
    struct cq_sql_scan scan;
    run_init(r, pc, st, err);
    if (pc->pg == NULL || PQstatus(pc->pg) != CONNECTION_OK) {
        lost(r, pc->pg != NULL ? PQerrorMessage(pc->pg) : "connection closed", "");
        goto out;
    }
    atomic_store(&pc->cancel_req, false);
    if (st->timeout_ms > 0) {
        r->deadline_ms = cq_now_ms() + st->timeout_ms + PG_GRACE_MS;
    }
    r->rc = cq_drv_sql_scan(&r->arena, st->sql, strlen(st->sql), &scan, err);
    if (r->rc != CQ_OK || check_shape(r, &scan) != CQ_OK || set_timeout(r) != CQ_OK) {
        goto out;
    }
    r->n_stmts = scan.n_stmts;
    for (size_t i = 0; i < scan.n_stmts && r->rc == CQ_OK; i++) {
        const struct cq_sql_stmt *s = &scan.stmts[i];
        /* one statement goes as written, so error positions match the caller's text */
        const char *sql =
            scan.n_stmts == 1 ? st->sql : cq_arena_strndup(&r->arena, st->sql + s->off, s->len);
        r->stmt_no = i + 1;
        if (sql == NULL) {
            fail(r, CQ_ENOMEM, NULL, "connection '%s': out of memory", pc->base.name);
            break;
        }
        run_stmt(r, sql, s, i + 1 == scan.n_stmts, out);
    }
out:
    finish(r);
    cq_arena_free(&r->arena);
    return r->rc;
}

/* ---- ops: per-op state from the connection's free list ------------------------------------ */

void cq_drv_pg_conn_init(struct cq_drv_pg_conn *pc)
{
    cq_buf_init(&pc->sc.out, PG_ROW_MAX);
    cq_buf_init(&pc->sc.elem, PG_ELEM_MAX);
    pc->head = pc->tail = pc->free_runs = pc->lone = NULL;
    pc->n_queued = 0;
}

static struct cq_drv_pg_run *run_get(struct cq_drv_pg_conn *pc, struct cq_drv_op *op)
{
    struct cq_drv_pg_run *r = pc->free_runs;
    struct cq_arena arena;
    if (r != NULL) {
        pc->free_runs = r->qnext;
        arena = r->arena;
        cq_arena_reset(&arena);
    } else {
        r = cq_malloc(sizeof(*r));
        if (r == NULL) {
            return NULL;
        }
        cq_arena_init(&arena, 4096, 0);
    }
    memset(r, 0, sizeof(*r));
    r->arena = arena;
    r->pc = pc;
    r->op = op;
    r->st = op->st;
    r->err = op->err;
    r->start_us = cq_now_us();
    r->slot = -1;
    r->sc = &pc->sc;
    return r;
}

static void run_put(struct cq_drv_pg_conn *pc, struct cq_drv_pg_run *r)
{
    if (r->arena.total > ((size_t)1 << 20)) {
        cq_arena_free(&r->arena); /* an unusual statement: do not keep its memory */
        cq_arena_init(&r->arena, 4096, 0);
    }
    r->qnext = pc->free_runs;
    pc->free_runs = r;
}

static void run_release(struct cq_drv_pg_run *r)
{
    cq_arena_free(&r->arena);
    cq_free(r);
}

void cq_drv_pg_run_drop(struct cq_drv_pg_conn *pc)
{
    while (pc->head != NULL) {
        struct cq_drv_pg_run *r = pc->head;
        pc->head = r->qnext;
        run_release(r);
    }
    while (pc->free_runs != NULL) {
        struct cq_drv_pg_run *r = pc->free_runs;
        pc->free_runs = r->qnext;
        run_release(r);
    }
    pc->tail = pc->lone = NULL;
    pc->n_queued = 0;
    cq_buf_cleanup(&pc->sc.out);
    cq_buf_cleanup(&pc->sc.elem);
    cq_drv_pg_cache_clear(&pc->cache);
}

/* ---- the queue ------------------------------------------------------------------------------ */

/* Keeps pc->lone (read by cq_drv_exec_cancel from any thread) in step with the queue. */
static void update_lone(struct cq_drv_pg_conn *pc)
{
    struct cq_drv_pg_run *want = pc->n_queued == 1 ? pc->head : NULL;
    if (want != pc->lone) {
        pthread_mutex_lock(&pc->mu);
        pc->lone = want;
        pthread_mutex_unlock(&pc->mu);
    }
}

/* Sends a cancel request for r if it is alone on the session and none was sent yet. */
static bool cancel_lone(struct cq_drv_pg_run *r)
{
    struct cq_drv_pg_conn *pc = r->pc;
    bool sent = false;
    char why[256] = "";
    pthread_mutex_lock(&pc->mu);
    if (pc->lone == r && !r->cancel_sent && pc->cancel != NULL) {
        r->cancel_sent = sent = true;
        if (!PQcancel(pc->cancel, why, (int)sizeof(why))) {
            CQ_LOG(CQ_LOG_WARN, pc->log_ctx, "cancel request failed: %s", why);
        }
    }
    pthread_mutex_unlock(&pc->mu);
    return sent;
}

/* r is at the head now: its deadline starts, and its statement streams row by row. */
static void became_head(struct cq_drv_pg_run *r)
{
    struct cq_drv_pg_conn *pc = r->pc;
    pc->head_since_ms = cq_now_ms();
    r->deadline_ms =
        r->st->timeout_ms > 0 ? pc->head_since_ms + r->st->timeout_ms + PG_GRACE_MS : 0;
    if (r->stage == CQ_PG_EXEC) {
        single_row_mode(r);
    }
}

static void enqueue(struct cq_drv_pg_conn *pc, struct cq_drv_pg_run *r)
{
    r->qnext = NULL;
    if (pc->tail != NULL) {
        pc->tail->qnext = r;
    } else {
        pc->head = r;
    }
    pc->tail = r;
    pc->n_queued++;
    update_lone(pc);
}

static struct cq_drv_pg_run *dequeue(struct cq_drv_pg_conn *pc)
{
    struct cq_drv_pg_run *r = pc->head;
    pc->head = r->qnext;
    if (pc->head == NULL) {
        pc->tail = NULL;
    }
    pc->n_queued--;
    r->qnext = NULL;
    update_lone(pc);
    return r;
}

static int enter_pipeline(struct cq_drv_pg_conn *pc)
{
    if (pc->in_pipeline) {
        return CQ_OK;
    }
    if (PQsetnonblocking(pc->pg, 1) != 0 || !PQenterPipelineMode(pc->pg)) {
        PQsetnonblocking(pc->pg, 0);
        return CQ_EINTERNAL;
    }
    pc->in_pipeline = true;
    pc->flush_pending = false;
    return CQ_OK;
}

/* The queue is empty and every result was read: back to the ordinary blocking mode, where
 * the housekeeping commands (simple protocol) and the multi-statement path work. */
static void leave_pipeline(struct cq_drv_pg_conn *pc)
{
    if (!pc->in_pipeline || pc->base.broken) {
        return;
    }
    if (!PQexitPipelineMode(pc->pg) || PQsetnonblocking(pc->pg, 0) != 0) {
        CQ_LOG(CQ_LOG_WARN, pc->log_ctx, "cannot leave pipeline mode: %s", PQerrorMessage(pc->pg));
        pc->base.broken = true;
        return;
    }
    pc->in_pipeline = false;
    pc->flush_pending = false;
}

/* Pushes what libpq holds to the socket, never blocking. CQ_OK also when some is left. */
static int flush(struct cq_drv_pg_conn *pc)
{
    int n = PQflush(pc->pg);
    if (n < 0) {
        return CQ_ECONNECT;
    }
    pc->flush_pending = n > 0;
    return CQ_OK;
}

/* ---- ops: sending ---------------------------------------------------------------------------- */

/* A housekeeping statement of ours ahead of the op's, in the op's segment (before its Sync):
 * pipelined like the rest (libpq 15 has no PQsendClosePrepared). */
static bool send_dealloc(struct cq_drv_pg_run *r, const char *sql)
{
    r->n_dealloc++;
    return PQsendQueryParams(r->pc->pg, sql, 0, NULL, NULL, NULL, NULL, 0) != 0;
}

/*
 * Sends the op: [DEALLOCATE][Parse][Bind/Execute][Sync], each part only when needed, in
 * the open pipeline. The Parse of a statement not yet prepared goes into a free slot (an
 * LRU entry is evicted first, its DEALLOCATE pipelined too: every op that executes it was
 * sent earlier, so the server runs them before the DEALLOCATE). A statement prepared by
 * an op still in flight is executed at once: the server runs the Parse first.
 * false: libpq refused (the session is broken); nothing of the op can be trusted.
 */
static bool send_op(struct cq_drv_pg_run *r, const char *dealloc)
{
    struct cq_drv_pg_conn *pc = r->pc;
    struct cq_drv_pg_cache *cache = &pc->cache;
    size_t len = strlen(r->sql);
    char name[32], sql[64];
    r->n_dealloc = 0;
    r->has_prepare = r->dealloc_failed = r->synced = false;
    r->stale = NULL;
    if (dealloc != NULL) {
        if (strcmp(dealloc, "DEALLOCATE ALL") == 0) {
            cq_drv_pg_cache_clear(cache);
        }
        if (!send_dealloc(r, dealloc)) {
            return false;
        }
    }
    r->slot = cache_find(cache, r, len);
    if (r->slot >= 0) {
        cache->n_hits++;
    } else {
        int slot = cache_victim(cache);
        struct cq_drv_pg_prep *e = &cache->e[slot];
        if (e->sql != NULL) {
            memcpy(sql, "DEALLOCATE ", 11);
            prep_name(e, sql + 11, sizeof(sql) - 11);
            prep_free(e);
            if (!send_dealloc(r, sql)) {
                return false;
            }
        }
        e->sql = cq_malloc(len + 1);
        e->types = r->n_params > 0 ? cq_malloc((size_t)r->n_params * sizeof(*e->types)) : NULL;
        if (e->sql == NULL || (r->n_params > 0 && e->types == NULL)) {
            /* no entry: the statement runs unnamed, which is no reason to fail it */
            prep_free(e);
            r->stage = r->n_dealloc > 0 ? CQ_PG_DEALLOC : CQ_PG_EXEC;
            if (!PQsendQueryParams(pc->pg, r->sql, r->n_params, r->types, r->values, NULL, NULL,
                                   0)) {
                return false;
            }
            goto sync;
        }
        memcpy(e->sql, r->sql, len + 1);
        if (r->n_params > 0) {
            memcpy(e->types, r->types, (size_t)r->n_params * sizeof(*e->types));
        }
        e->sql_len = len;
        e->n_types = r->n_params;
        e->hash = r->key_hash;
        e->id = ++cache->next_id;
        r->slot = slot;
        prep_name(e, name, sizeof(name));
        if (!PQsendPrepare(pc->pg, name, r->sql, r->n_params, r->types)) {
            prep_free(e);
            r->slot = -1;
            return false;
        }
        r->has_prepare = true;
        cache->n_prepares++;
    }
    struct cq_drv_pg_prep *e = &cache->e[r->slot];
    e->last_use = ++cache->tick;
    r->prep_id = e->id;
    prep_name(e, name, sizeof(name));
    if (!PQsendQueryPrepared(pc->pg, name, r->n_params, r->values, NULL, NULL, 0)) {
        return false;
    }
    r->stage = r->n_dealloc > 0 ? CQ_PG_DEALLOC : r->has_prepare ? CQ_PG_PREPARE : CQ_PG_EXEC;
sync:
    /* Without its Sync the server commits nothing of the op (the implicit transaction is
     * rolled back with the session): from here on it may have run */
    r->sent = true;
    if (!PQpipelineSync(pc->pg)) {
        return false;
    }
    r->send_seq = ++pc->send_seq;
    return true;
}

/* Queues r and sends it. CQ_OK: queued (its done will be called). Otherwise r is not
 * queued, err is set, and the session is broken. */
static int queue_op(struct cq_drv_pg_run *r)
{
    struct cq_drv_pg_conn *pc = r->pc;
    if (enter_pipeline(pc) != CQ_OK) {
        return fail(r, CQ_EINTERNAL, NULL, "connection '%s': cannot enter pipeline mode: %s",
                    pc->base.name, PQerrorMessage(pc->pg));
    }
    if (!send_op(r, NULL)) {
        /* half an op may be in libpq's buffer: the session is out of step for good */
        pc->base.broken = true;
        lost(r, PQerrorMessage(pc->pg), ""); /* retryable unless its Sync may have left */
        if (r->slot >= 0 && r->has_prepare) {
            prep_free(&pc->cache.e[r->slot]);
        }
        return r->rc;
    }
    enqueue(pc, r);
    if (pc->head == r) {
        became_head(r);
    }
    if (flush(pc) != CQ_OK) {
        pc->base.broken = true; /* step completes every queued op with CQ_ECONNECT */
    }
    return CQ_OK;
}

/* Scans and checks the statement and fills its parameters. CQ_EUNSUPPORTED: it cannot be
 * pipelined (a cacheable single statement). */
static int prepare_op(struct cq_drv_pg_run *r)
{
    struct cq_sql_scan scan;
    const struct cq_stmt *st = r->st;
    size_t len = strlen(st->sql);
    r->rc = cq_drv_sql_scan(&r->arena, st->sql, len, &scan, r->err);
    if (r->rc != CQ_OK) {
        return r->rc;
    }
    if (scan.n_stmts > 1 ||
        (scan.n_stmts == 1 && (!is_cacheable(st->sql + scan.stmts[0].off, scan.stmts[0].len) ||
                               len > CQ_PG_CACHE_SQL_MAX))) {
        return CQ_EUNSUPPORTED;
    }
    if (check_shape(r, &scan) != CQ_OK) {
        return r->rc;
    }
    r->n_stmts = r->stmt_no = 1;
    r->sql = st->sql; /* one statement goes as written, so error positions match */
    r->cacheable = true;
    begin_stmt(r, &scan.stmts[0], true, r->op->out);
    if (bind_params(r, scan.max_param) != CQ_OK) {
        return r->rc;
    }
    r->key_hash = key_hash(r->sql, len, r->types, r->n_params);
    return CQ_OK;
}

/* A read-only session on which a pipelined statement could turn read-only off for the
 * ops behind it before check_session sees it: such statements run blocking. */
static bool may_change_ro(const char *sql)
{
    static const char needle[] = "set_config";
    for (const char *p = sql; *p != '\0'; p++) {
        size_t i = 0;
        while (needle[i] != '\0' &&
               (p[i] >= 'A' && p[i] <= 'Z' ? (char)(p[i] + 32) : p[i]) == needle[i]) {
            i++;
        }
        if (needle[i] == '\0') {
            return true;
        }
    }
    return false;
}

int cq_drv_pg_exec_start(struct cq_conn *c, struct cq_drv_op *op)
{
    struct cq_drv_pg_conn *pc = (struct cq_drv_pg_conn *)c;
    const struct cq_stmt *st = op->st;
    if (pc->pg == NULL || c->broken || PQstatus(pc->pg) != CONNECTION_OK || st->allow_multi ||
        wanted_timeout(st) != pc->stmt_timeout_ms || (c->read_only && !pc->ro_reported) ||
        (c->read_only && may_change_ro(st->sql))) {
        return CQ_EUNSUPPORTED;
    }
    struct cq_drv_pg_run *r = run_get(pc, op);
    if (r == NULL) {
        return cq_err_set(op->err, CQ_ENOMEM, "connection '%s': out of memory", c->name);
    }
    op->drv = r;
    op->next = NULL;
    int rc = prepare_op(r);
    if (rc == CQ_OK) {
        if (pc->n_queued == 0) {
            atomic_store(&pc->cancel_req, false);
        }
        rc = queue_op(r);
    }
    if (rc != CQ_OK) {
        op->drv = NULL;
        run_put(pc, r);
    }
    return rc;
}

/* ---- ops: results ---------------------------------------------------------------------------- */

/*
 * Whether an error of the prepared statement means our prepared statement is out of date
 * rather than the SQL being wrong: it does not exist (26000: DEALLOCATE ALL, DISCARD ALL,
 * a pooler between us and the server, or the Parse of an op ahead of it in the pipeline
 * failed), or the tables changed under it so that it would return other columns (0A000
 * from the plan cache's revalidation). Both come at Bind, before the statement ran, so
 * running it again is safe; only once, and only while nothing reached the sink.
 */
static const char *stale_code(const struct cq_drv_pg_run *r, const PGresult *res)
{
    if (r->slot < 0 || r->retried || r->rc != CQ_OK || r->cols_sent || r->rows_total > 0 ||
        PQresultStatus(res) != PGRES_FATAL_ERROR || PQstatus(r->pc->pg) != CONNECTION_OK) {
        return NULL;
    }
    const char *code = field(res, PG_DIAG_SQLSTATE);
    if (strcmp(code, "26000") == 0) {
        return "26000";
    }
    if (strcmp(code, "0A000") == 0 &&
        strcmp(field(res, PG_DIAG_SOURCE_FUNCTION), "RevalidateCachedQuery") == 0) {
        return "0A000"; /* "cached plan must not change result type" (message localized) */
    }
    return NULL;
}

/* One result of the head op, in the order its messages were sent. */
static void on_result(struct cq_drv_pg_run *r, PGresult *res)
{
    struct cq_drv_pg_cache *cache = &r->pc->cache;
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_PIPELINE_SYNC) {
        r->synced = true;
        return;
    }
    if (st == PGRES_PIPELINE_ABORTED) {
        return; /* a part after an error of the same op: that error is the op's */
    }
    switch (r->stage) {
    case CQ_PG_DEALLOC:
        if (st != PGRES_COMMAND_OK) {
            /* our own statement gone already (the server lost our statements): the rest
             * of the op is aborted; it is re-sent after a DEALLOCATE ALL if it may be */
            r->dealloc_failed = true;
            if (r->retried || r->rc != CQ_OK) {
                result_error(r, res);
            }
        }
        break;
    case CQ_PG_PREPARE:
        if (st != PGRES_COMMAND_OK) {
            if (r->slot >= 0 && cache->e[r->slot].id == r->prep_id) {
                prep_free(&cache->e[r->slot]); /* the preparation failed */
            }
            r->slot = -1;
            result_error(r, res); /* the same report as the unnamed statement's */
        }
        break;
    case CQ_PG_EXEC:
        r->stale = r->stale != NULL ? r->stale : stale_code(r, res);
        if (r->stale == NULL) {
            handle_result(r, res);
        }
        break;
    default:
        break;
    }
}

/* The results of one of the op's messages ended (PQgetResult gave NULL). */
static void next_stage(struct cq_drv_pg_run *r)
{
    switch (r->stage) {
    case CQ_PG_DEALLOC:
        if (--r->n_dealloc > 0) {
            return;
        }
        r->stage = r->has_prepare ? CQ_PG_PREPARE : CQ_PG_EXEC;
        break;
    case CQ_PG_PREPARE:
        r->stage = CQ_PG_EXEC;
        break;
    default:
        r->stage = CQ_PG_SYNC;
        return;
    }
    if (r->stage == CQ_PG_EXEC && r->rc == CQ_OK && !r->dealloc_failed) {
        single_row_mode(r); /* before its first result is read (not when it was aborted) */
    }
}

/* Re-sends an op whose prepared statement was out of date (nothing reached its sink), at
 * the tail. false: the session broke. */
static bool retry(struct cq_drv_pg_run *r)
{
    struct cq_drv_pg_conn *pc = r->pc;
    struct cq_drv_pg_cache *cache = &pc->cache;
    bool ours = r->slot >= 0 && cache->e[r->slot].id == r->prep_id;
    const char *dealloc = NULL;
    char sql[64];
    if (r->dealloc_failed || (strcmp(r->stale, "26000") == 0 && ours)) {
        dealloc = "DEALLOCATE ALL"; /* the server lost some of our statements: start over */
    } else if (strcmp(r->stale, "0A000") == 0 && ours) {
        /* only the first op to see it deallocates; the entry is made again */
        memcpy(sql, "DEALLOCATE ", 11);
        prep_name(&cache->e[r->slot], sql + 11, sizeof(sql) - 11);
        prep_free(&cache->e[r->slot]);
        dealloc = sql;
    } /* else 26000 because the Parse of an op ahead of it failed: just prepare again */
    CQ_LOG(CQ_LOG_DEBUG, pc->log_ctx, "prepared statement out of date (%s): re-preparing",
           r->dealloc_failed ? "DEALLOCATE failed" : r->stale);
    r->retried = true;
    r->slot = -1;
    r->drain_deadline_ms = 0;
    r->timed_out = false;
    if (enter_pipeline(pc) != CQ_OK || !send_op(r, dealloc)) {
        return false;
    }
    enqueue(pc, r);
    if (pc->head == r) {
        became_head(r);
    }
    return flush(pc) == CQ_OK;
}

/* ---- ops: completion ------------------------------------------------------------------------- */

static void cancel_error(struct cq_drv_pg_run *r)
{
    r->rc = CQ_OK; /* instead of its result, whatever that was */
    cq_err_clear(r->err);
    fail(r, CQ_ECANCELED, "57014", "connection '%s': statement canceled", r->pc->base.name);
}

/* Pops the head (its Sync arrived, or the session is given up: give_up) and, unless it is
 * re-sent for a stale prepared statement, ends it and calls its done. */
static void complete(struct cq_drv_pg_conn *pc, bool give_up)
{
    struct cq_drv_pg_run *r = dequeue(pc);
    struct cq_drv_op *op = r->op;
    bool canceled = atomic_load(&op->cancel);
    bool stale = r->stale != NULL || r->dealloc_failed;
    if (pc->head != NULL && !give_up) {
        became_head(pc->head);
    }
    if (stale && !give_up && !canceled && r->rc == CQ_OK) {
        if (!r->retried && !r->cols_sent && r->rows_total == 0) {
            if (retry(r)) {
                return; /* queued again at the tail */
            }
            pc->base.broken = true;
            lost(r, PQerrorMessage(pc->pg), "");
        } else {
            fail(r, CQ_EBACKEND, r->stale != NULL ? r->stale : "26000",
                 "connection '%s': prepared statement out of date", pc->base.name);
        }
    }
    if (pc->head == NULL) {
        leave_pipeline(pc); /* before the session checks, which may need a ROLLBACK */
    }
    if (canceled && r->rc != CQ_ECONNECT) {
        cancel_error(r);
    } else if (r->rc == CQ_OK) {
        end_stmt(r, true);
    }
    if (pc->head == NULL && !pc->in_pipeline) {
        finish(r);
    }
    if (pc->sc.out.cap > ((size_t)1 << 20)) {
        cq_buf_cleanup(&pc->sc.out); /* after a huge row: do not keep the memory */
        cq_buf_init(&pc->sc.out, PG_ROW_MAX);
    }
    int rc = r->rc;
    op->drv = NULL;
    run_put(pc, r);
    op->done(op, rc);
}

/* The session is lost or given up: every queued op completes with CQ_ECONNECT (the head
 * keeps an error it already has, such as CQ_ETIMEOUT). Retryable only on a read-only
 * session, or for a lone op when the server was going down (lost()'s rule): a queued op
 * was handed to the socket (PQpipelineSync flushes at once, and a partial write does not
 * tell which ops left), so it may have run. */
static void fail_all(struct cq_drv_pg_conn *pc, const char *why, const char *code)
{
    char line[300];
    cq_drv_pg_first_line(why, line, sizeof(line)); /* why may be libpq's, which changes */
    pc->base.broken = true;
    for (bool first = true; pc->head != NULL; first = false) {
        struct cq_drv_pg_run *r = pc->head;
        r->stmt_no = first ? 1 : 2; /* the going-down rule is for the head only */
        lost(r, line, first ? code : "");
        complete(pc, true);
    }
}

/* After reading: a canceled or capped lone head is canceled on the server; the head's
 * client-side deadline. false: the session was given up (every op completed). */
static bool check_head(struct cq_drv_pg_conn *pc)
{
    struct cq_drv_pg_run *r = pc->head;
    int64_t now = cq_now_ms();
    if (atomic_load(&r->op->cancel) && pc->n_queued == 1) {
        cancel_lone(r);
    }
    if (r->stopped && r->cancel_ok && !r->stop_canceled && pc->n_queued == 1 &&
        r->stage == CQ_PG_EXEC && PQisBusy(pc->pg) && cancel_lone(r)) {
        r->stop_canceled = true; /* the rest of the rows are not wanted */
        r->drain_deadline_ms = now + PG_DRAIN_MS;
    }
    int64_t dl = r->drain_deadline_ms != 0 ? r->drain_deadline_ms : r->deadline_ms;
    if (dl == 0 || now < dl) {
        return true;
    }
    if (r->drain_deadline_ms != 0) {
        /* the server did not wind down after the cancel or the grace: give the session up */
        if (!r->stop_canceled && !atomic_load(&r->op->cancel)) {
            timeout_error(r);
        }
        fail_all(pc, "no answer from the server after a statement's deadline", "");
        return false;
    }
    /* Alone, the statement is canceled now. Behind it, a cancel could hit the next op: the
     * server's own statement_timeout (the same for every queued op) ends it; if the server
     * does not answer within the drain time either, the session is given up. */
    r->timed_out = true;
    cancel_lone(r);
    r->drain_deadline_ms = now + PG_DRAIN_MS;
    return true;
}

int cq_drv_pg_exec_step(struct cq_conn *c)
{
    struct cq_drv_pg_conn *pc = (struct cq_drv_pg_conn *)c;
    PGconn *pg = pc->pg;
    if (pc->n_queued == 0) {
        return 0;
    }
    if (c->broken || (pc->flush_pending && flush(pc) != CQ_OK)) {
        fail_all(pc, PQerrorMessage(pg), "");
        return 0;
    }
    /* At most one read from the socket per step, so that a large result that arrives as
     * fast as we convert it does not keep the caller's event loop from its other work;
     * returning while libpq still needs input is safe: the fd is (or becomes) readable. */
    bool consumed = false;
    while (pc->head != NULL) {
        struct cq_drv_pg_run *r = pc->head;
        if (c->broken) {
            fail_all(pc,
                     PQstatus(pg) != CONNECTION_OK ? PQerrorMessage(pg)
                                                   : "session given up after an error",
                     "");
            return 0;
        }
        if (PQisBusy(pg)) {
            if (consumed) {
                break;
            }
            consumed = true;
            if (!PQconsumeInput(pg)) {
                fail_all(pc, PQerrorMessage(pg), "");
                return 0;
            }
            continue;
        }
        PGresult *res = PQgetResult(pg);
        if (res == NULL) {
            if (PQstatus(pg) != CONNECTION_OK || r->stage == CQ_PG_SYNC) {
                /* gone, or libpq and we disagree on what comes next */
                fail_all(
                    pc, PQstatus(pg) != CONNECTION_OK ? PQerrorMessage(pg) : "pipeline out of step",
                    "");
                return 0;
            }
            next_stage(r);
            continue;
        }
        on_result(r, res);
        PQclear(res);
        if (r->synced) {
            complete(pc, false);
        }
    }
    if (pc->head != NULL && !check_head(pc)) {
        return 0;
    }
    return pc->n_queued;
}

void cq_drv_pg_exec_wait(struct cq_conn *c)
{
    struct cq_drv_pg_conn *pc = (struct cq_drv_pg_conn *)c;
    while (cq_drv_pg_exec_step(c) > 0) {
        struct pollfd pfd = {.fd = PQsocket(pc->pg),
                             .events = (short)(POLLIN | (pc->flush_pending ? POLLOUT : 0))};
        if (pfd.fd < 0) {
            continue; /* gone: the next step reports it */
        }
        /* 100 ms at most: the head's deadline and a cancel from another thread are checked
         * by step */
        if (poll(&pfd, 1, 100) < 0 && errno != EINTR) {
            continue; /* the next step's read reports a real problem */
        }
    }
}

int cq_drv_pg_exec_fd(struct cq_conn *c)
{
    struct cq_drv_pg_conn *pc = (struct cq_drv_pg_conn *)c;
    return pc->pg != NULL ? PQsocket(pc->pg) : -1;
}

int cq_drv_pg_exec_queued(struct cq_conn *c)
{
    return ((struct cq_drv_pg_conn *)c)->n_queued;
}

int64_t cq_drv_pg_exec_busy_ms(struct cq_conn *c)
{
    struct cq_drv_pg_conn *pc = (struct cq_drv_pg_conn *)c;
    return pc->head != NULL ? cq_now_ms() - pc->head_since_ms : 0;
}

void cq_drv_pg_exec_cancel(struct cq_conn *c, struct cq_drv_op *op)
{
    struct cq_drv_pg_run *r = op->drv;
    (void)c;
    atomic_store(&op->cancel, true);
    if (r != NULL) {
        cancel_lone(r); /* only when it is the only op queued; else step drops its rows */
    }
}

/* ---- the blocking entry point ---------------------------------------------------------------- */

struct sync_wait {
    int rc;
};

static void sync_done(struct cq_drv_op *op, int rc)
{
    ((struct sync_wait *)op->ctx)->rc = rc;
}

int cq_drv_pg_exec(struct cq_conn *c, const struct cq_stmt *st, const struct cq_rowsink *out,
                   struct cq_err *err)
{
    struct cq_drv_pg_conn *pc = (struct cq_drv_pg_conn *)c;
    struct sync_wait w = {.rc = CQ_EINTERNAL};
    struct cq_drv_op op = {.st = st, .out = out, .err = err, .done = sync_done, .ctx = &w};
    if (pc->n_queued > 0) {
        return cq_err_set(err, CQ_EINTERNAL, "connection '%s': statements are queued on it",
                          c->name);
    }
    if (st->allow_multi || pc->pg == NULL || PQstatus(pc->pg) != CONNECTION_OK) {
        return exec_multi(pc, st, out, err);
    }
    atomic_init(&op.cancel, false);
    struct cq_drv_pg_run *r = run_get(pc, &op);
    if (r == NULL) {
        return cq_err_set(err, CQ_ENOMEM, "connection '%s': out of memory", c->name);
    }
    int rc = prepare_op(r);
    if (rc == CQ_EUNSUPPORTED) {
        run_put(pc, r); /* not cached (utility statements, COPY, long SQL): blocking, unnamed */
        return exec_multi(pc, st, out, err);
    }
    atomic_store(&pc->cancel_req, false);
    if (rc == CQ_OK && set_timeout(r) == CQ_OK && assert_read_only(r) == CQ_OK) {
        op.drv = r;
        rc = queue_op(r);
        if (rc == CQ_OK) {
            cq_drv_pg_exec_wait(c);
            return w.rc;
        }
    }
    rc = r->rc;
    run_put(pc, r);
    return rc;
}

#endif /* CQ_WITHOUT_PG */
