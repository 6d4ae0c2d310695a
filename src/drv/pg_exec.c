/*
 * pg_exec.c - running statements on PostgreSQL: parameter binding, single-row streaming
 * into the sink, caps (cancel and drain), timeouts (server statement_timeout plus a
 * client deadline), read-only enforcement, and the mapping of server errors to cq_rc.
 *
 * One call = one `struct run` on the stack. Everything per call lives in its arena or its
 * two scratch buffers, so the row loop does not allocate once they have grown.
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
    if (r->err != NULL) {
        r->err->retryable =
            r->rows_total == 0 && (!r->sent || c->read_only || (shutting_down && r->stmt_no == 1));
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
    struct cq_drv_pg_scratch *sc = &r->sc;
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
        CQ_LOG(CQ_LOG_WARN, r->pc->log_ctx, "single-row mode refused; the result is buffered");
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
    r->state = CQ_PG_EXEC;
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

/* Sends one of our own housekeeping commands (DEALLOCATE) ahead of the statement. */
static int send_dealloc(struct cq_drv_pg_run *r, const char *sql)
{
    if (!PQsendQuery(r->pc->pg, sql)) {
        return send_failed(r);
    }
    r->state = CQ_PG_DEALLOC;
    return CQ_OK;
}

/* Prepares the statement as a new cache entry in a free slot. An entry that cannot be
 * allocated is no reason to fail the call: the statement then runs unnamed. */
static int send_prepare(struct cq_drv_pg_run *r)
{
    struct cq_drv_pg_cache *cache = &r->pc->cache;
    size_t len = strlen(r->sql);
    int slot = cache_victim(cache);
    struct cq_drv_pg_prep *e = &cache->e[slot];
    char name[32];
    if (e->sql != NULL) {
        return fail(r, CQ_EINTERNAL, NULL, "connection '%s': no free prepared-statement slot",
                    r->pc->base.name); /* the caller evicts first */
    }
    e->sql = cq_malloc(len + 1);
    e->types = r->n_params > 0 ? cq_malloc((size_t)r->n_params * sizeof(*e->types)) : NULL;
    if (e->sql == NULL || (r->n_params > 0 && e->types == NULL)) {
        prep_free(e);
        r->cacheable = false;
        return send_stmt(r, r->sql, r->n_params);
    }
    memcpy(e->sql, r->sql, len + 1);
    if (r->n_params > 0) {
        memcpy(e->types, r->types, (size_t)r->n_params * sizeof(*e->types));
    }
    e->sql_len = len;
    e->n_types = r->n_params;
    e->hash = r->key_hash;
    e->id = ++cache->next_id;
    e->last_use = ++cache->tick;
    r->slot = slot;
    prep_name(e, name, sizeof(name));
    if (!PQsendPrepare(r->pc->pg, name, r->sql, r->n_params, r->types)) {
        prep_free(e);
        r->slot = -1;
        return send_failed(r);
    }
    r->sent = true; /* the server parses the caller's SQL */
    cache->n_prepares++;
    r->state = CQ_PG_PREPARE;
    return CQ_OK;
}

static int send_prepared(struct cq_drv_pg_run *r)
{
    struct cq_drv_pg_prep *e = &r->pc->cache.e[r->slot];
    char name[32];
    e->last_use = ++r->pc->cache.tick;
    prep_name(e, name, sizeof(name));
    if (!PQsendQueryPrepared(r->pc->pg, name, r->n_params, r->values, NULL, NULL, 0)) {
        return send_failed(r);
    }
    r->sent = true;
    r->state = CQ_PG_EXEC;
    single_row_mode(r);
    return CQ_OK;
}

/* First message of a single statement: the prepared statement if the cache has it, else
 * its preparation, after an eviction when the cache is full; the unnamed statement for
 * what is not cached. */
static int send_first(struct cq_drv_pg_run *r)
{
    struct cq_drv_pg_cache *cache = &r->pc->cache;
    size_t len = strlen(r->sql);
    if (!r->cacheable) {
        return send_stmt(r, r->sql, r->n_params);
    }
    if (bind_params(r, r->n_params) != CQ_OK) {
        return r->rc;
    }
    r->key_hash = key_hash(r->sql, len, r->types, r->n_params);
    r->slot = cache_find(cache, r, len);
    if (r->slot >= 0) {
        cache->n_hits++;
        return send_prepared(r);
    }
    int victim = cache_victim(cache);
    if (cache->e[victim].sql != NULL) {
        char sql[64];
        memcpy(sql, "DEALLOCATE ", 11);
        prep_name(&cache->e[victim], sql + 11, sizeof(sql) - 11);
        prep_free(&cache->e[victim]);
        return send_dealloc(r, sql);
    }
    return send_prepare(r);
}

/* ---- session state ------------------------------------------------------------------------- */

static void rollback(struct cq_drv_pg_run *r)
{
    struct cq_err ignored;
    cq_err_clear(&ignored);
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
        if (cq_drv_pg_simple(r->pc, "RESET default_transaction_read_only", "reset", &ignored) !=
            CQ_OK) {
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

/* ---- runs ------------------------------------------------------------------------------- */

static void run_init(struct cq_drv_pg_run *r, struct cq_drv_pg_conn *pc, const struct cq_stmt *st,
                     struct cq_err *err)
{
    memset(r, 0, sizeof(*r));
    r->pc = pc;
    r->st = st;
    r->err = err;
    r->start_us = cq_now_us();
    r->slot = -1;
    cq_arena_init(&r->arena, 8192, 0);
    cq_buf_init(&r->sc.out, PG_ROW_MAX);
    cq_buf_init(&r->sc.elem, PG_ELEM_MAX);
}

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

/* Leaves the session idle (or marked broken) whatever happened. */
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

/* Ends the run: the session idle, the memory released. Returns the call's rc. */
static int end_run(struct cq_drv_pg_run *r)
{
    finish(r);
    cq_buf_cleanup(&r->sc.out);
    cq_buf_cleanup(&r->sc.elem);
    cq_arena_free(&r->arena);
    r->state = CQ_PG_IDLE;
    return r->rc;
}

void cq_drv_pg_run_drop(struct cq_drv_pg_conn *pc)
{
    struct cq_drv_pg_run *r = &pc->run;
    if (r->state != CQ_PG_IDLE) {
        cq_buf_cleanup(&r->sc.out);
        cq_buf_cleanup(&r->sc.elem);
        cq_arena_free(&r->arena);
        r->state = CQ_PG_IDLE;
    }
    cq_drv_pg_cache_clear(&pc->cache);
}

/* ---- several statements: one after the other, blocking, on the unnamed statement ---------- */

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
    return end_run(r);
}

/* ---- one statement: a state machine in the connection ---------------------------------- */

/*
 * Whether an error of the prepared statement means our prepared statement is out of date
 * rather than the SQL being wrong: it does not exist (26000: DEALLOCATE ALL, DISCARD ALL,
 * a pooler between us and the server), or the tables changed under it so that it would
 * return other columns (0A000 from the plan cache's revalidation). Both come at Bind,
 * before the statement ran, so running it again is safe; only once, and only while
 * nothing reached the sink.
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

/* The previous message's results are all read: sends the next one, or ends the run
 * (state CQ_PG_IDLE is left to end_run; returns true when the run is over). */
static bool advance(struct cq_drv_pg_run *r)
{
    struct cq_drv_pg_cache *cache = &r->pc->cache;
    char sql[64];
    if (r->state == CQ_PG_EXEC && r->stale == NULL) {
        return true;
    }
    if (r->rc != CQ_OK || r->abandon) {
        if (r->state == CQ_PG_PREPARE && r->slot >= 0) {
            prep_free(&cache->e[r->slot]); /* the preparation failed */
        }
        return true;
    }
    if (atomic_load(&r->pc->cancel_req)) {
        /* a cancel that arrived between two of our messages hit nothing on the server */
        fail(r, CQ_ECANCELED, "57014", "connection '%s': statement canceled", r->pc->base.name);
        return true;
    }
    switch (r->state) {
    case CQ_PG_DEALLOC: /* its errors do not matter: the statement may be gone already */
        send_prepare(r);
        break;
    case CQ_PG_PREPARE:
        send_prepared(r);
        break;
    case CQ_PG_EXEC:
        r->retried = true;
        if (strcmp(r->stale, "26000") == 0) {
            /* the server lost some of our statements: start over with none */
            cq_drv_pg_cache_clear(cache);
            cq_strlcpy(sql, "DEALLOCATE ALL", sizeof(sql));
        } else {
            memcpy(sql, "DEALLOCATE ", 11);
            prep_name(&cache->e[r->slot], sql + 11, sizeof(sql) - 11);
            prep_free(&cache->e[r->slot]);
        }
        CQ_LOG(CQ_LOG_DEBUG, r->pc->log_ctx, "prepared statement out of date (%s): re-preparing",
               r->stale);
        r->stale = NULL;
        r->slot = -1;
        send_dealloc(r, sql);
        break;
    default:
        break;
    }
    return r->rc != CQ_OK;
}

/* Client-side deadline: at the deadline, cancels and gives the statement PG_DRAIN_MS to
 * wind down. CQ_ETIMEOUT when even that passed. */
static int check_deadline(struct cq_drv_pg_run *r)
{
    int64_t dl = r->drain_deadline_ms != 0 ? r->drain_deadline_ms : r->deadline_ms;
    if (dl == 0 || cq_now_ms() < dl) {
        return CQ_OK;
    }
    if (r->drain_deadline_ms != 0) {
        return CQ_ETIMEOUT;
    }
    cq_drv_pg_send_cancel(r->pc);
    r->timed_out = true;
    r->drain_deadline_ms = cq_now_ms() + PG_DRAIN_MS;
    return CQ_OK;
}

/* Sends the statement: shared by cq_drv_exec (async false: may SET statement_timeout and
 * default_transaction_read_only first) and cq_drv_exec_start (async true: refuses what
 * would need those round trips). CQ_OK: the run is under way in pc->run. */
static int start(struct cq_drv_pg_conn *pc, const struct cq_stmt *st, const struct cq_rowsink *out,
                 struct cq_err *err, bool async)
{
    struct cq_drv_pg_run *r = &pc->run;
    struct cq_sql_scan scan;
    if (r->state != CQ_PG_IDLE) {
        return cq_err_set(err, CQ_EINTERNAL, "connection '%s': a statement is already running",
                          pc->base.name);
    }
    if (async && (st->allow_multi || wanted_timeout(st) != pc->stmt_timeout_ms ||
                  (pc->base.read_only && !pc->ro_reported))) {
        return CQ_EUNSUPPORTED;
    }
    run_init(r, pc, st, err);
    r->state = CQ_PG_EXEC; /* a run exists: end_run releases it */
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
    r->n_stmts = r->stmt_no = 1;
    r->sql = st->sql; /* one statement goes as written, so error positions match */
    r->n_params = scan.max_param;
    r->cacheable = is_cacheable(st->sql + scan.stmts[0].off, scan.stmts[0].len) &&
                   strlen(st->sql) <= CQ_PG_CACHE_SQL_MAX;
    begin_stmt(r, &scan.stmts[0], true, out);
    if (assert_read_only(r) != CQ_OK || send_first(r) != CQ_OK) {
        goto out;
    }
    return CQ_OK;
out:
    return end_run(r);
}

int cq_drv_pg_exec_start(struct cq_conn *c, const struct cq_stmt *st, const struct cq_rowsink *out,
                         struct cq_err *err)
{
    return start((struct cq_drv_pg_conn *)c, st, out, err, true);
}

int cq_drv_pg_exec_fd(struct cq_conn *c)
{
    struct cq_drv_pg_conn *pc = (struct cq_drv_pg_conn *)c;
    return pc->pg != NULL ? PQsocket(pc->pg) : -1;
}

int cq_drv_pg_exec_step(struct cq_conn *c)
{
    struct cq_drv_pg_conn *pc = (struct cq_drv_pg_conn *)c;
    struct cq_drv_pg_run *r = &pc->run;
    PGconn *pg = pc->pg;
    if (r->state == CQ_PG_IDLE) {
        return CQ_EINTERNAL; /* no run: nothing to report into */
    }
    /* At most one read from the socket per step, so that a large result that arrives as
     * fast as we convert it does not keep the caller's event loop from its other work;
     * returning while libpq still needs input is safe: the fd is (or becomes) readable. */
    bool consumed = false;
    for (;;) {
        if (r->abandon) {
            break;
        }
        /* a failed read leaves the error for PQgetResult, which then does not block */
        if (PQisBusy(pg) && (consumed || PQconsumeInput(pg))) {
            consumed = true;
            cancel_if_running(r);
            if (PQisBusy(pg)) {
                if (check_deadline(r) == CQ_OK) {
                    return CQ_EAGAIN;
                }
                /* the server did not wind down after the cancel: give the session up */
                pc->base.broken = true;
                if (!r->stop_canceled) {
                    timeout_error(r);
                }
                break;
            }
        }
        PGresult *res = PQgetResult(pg);
        if (res == NULL) {
            if (advance(r)) {
                break;
            }
            continue;
        }
        if (r->state == CQ_PG_PREPARE && PQresultStatus(res) != PGRES_COMMAND_OK) {
            result_error(r, res); /* the same report as the unnamed statement's */
        } else if (r->state == CQ_PG_EXEC) {
            r->stale = r->stale != NULL ? r->stale : stale_code(r, res);
            if (r->stale == NULL) {
                handle_result(r, res);
            }
        }
        PQclear(res);
    }
    end_stmt(r, true);
    return end_run(r);
}

int cq_drv_pg_exec_wait(struct cq_conn *c)
{
    struct cq_drv_pg_conn *pc = (struct cq_drv_pg_conn *)c;
    struct cq_drv_pg_run *r = &pc->run;
    for (;;) {
        int rc = cq_drv_pg_exec_step(c);
        if (rc != CQ_EAGAIN) {
            return rc;
        }
        int64_t dl = r->drain_deadline_ms != 0 ? r->drain_deadline_ms : r->deadline_ms;
        int timeout = -1;
        if (dl > 0) {
            int64_t left = dl - cq_now_ms();
            timeout = left <= 0 ? 0 : (left > INT_MAX ? INT_MAX : (int)left);
        }
        struct pollfd pfd = {.fd = PQsocket(pc->pg), .events = POLLIN};
        if (pfd.fd < 0) {
            continue; /* gone: the next step reports it */
        }
        if (poll(&pfd, 1, timeout) < 0 && errno != EINTR) {
            continue; /* the next step's read reports a real problem */
        }
    }
}

int cq_drv_pg_exec(struct cq_conn *c, const struct cq_stmt *st, const struct cq_rowsink *out,
                   struct cq_err *err)
{
    struct cq_drv_pg_conn *pc = (struct cq_drv_pg_conn *)c;
    if (st->allow_multi) {
        return exec_multi(pc, st, out, err);
    }
    int rc = start(pc, st, out, err, false);
    return rc != CQ_OK ? rc : cq_drv_pg_exec_wait(c);
}

#endif /* CQ_WITHOUT_PG */
