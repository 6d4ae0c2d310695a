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

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/arena.h"
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

struct run {
    struct cq_drv_pg_conn *pc;
    const struct cq_stmt *st;
    struct cq_err *err;
    int rc;                      /* first error of the call; later ones are dropped */
    int64_t start_us;            /* monotonic */
    int64_t deadline_ms;         /* client-side deadline, monotonic; 0 = none */
    int64_t drain_deadline_ms;   /* set once we canceled; 0 = not canceled */
    bool timed_out;              /* we canceled because the deadline passed */
    bool sent;                   /* a statement of the caller reached libpq */
    int64_t rows_total;          /* rows delivered in the whole call */
    size_t stmt_no, n_stmts;     /* 1-based statement number, for messages */
    struct cq_arena arena;       /* per call: parameter arrays, column arrays, tags */
    struct cq_drv_pg_scratch sc; /* per call: converted values */
    /* the current statement */
    const struct cq_rowsink *sink;
    bool cancel_ok;     /* a cap may cancel it (a query, or a read-only session) */
    bool cols_sent;     /* on_columns was called */
    bool stopped;       /* the sink ended the stream (cap or sink error) */
    bool stop_canceled; /* ... and we canceled the statement for that */
    bool abandon;       /* stop reading results: the session is given up */
    int n_cols;
    const struct cq_drv_pg_type **types;
    struct cq_value *vals;
    size_t *offs; /* per column: offset of the converted value in sc.out */
    bool *in_sc;  /* per column: the value lives in sc.out */
    struct cq_result_info info;
};

/* Records the first error of the call (message built from fmt) and returns it. */
static int fail(struct run *r, int rc, const char *code, const char *fmt, ...) CQ_PRINTF(4, 5);

static int fail(struct run *r, int rc, const char *code, const char *fmt, ...)
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
static void sink_failed(struct run *r, int rc)
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

static int check_shape(struct run *r, const struct cq_sql_scan *scan)
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
static int lost(struct run *r, const char *why, const char *code)
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

static int timeout_error(struct run *r)
{
    return fail(r, CQ_ETIMEOUT, "57014",
                "connection '%s': statement timed out after %lld ms (raise limits.timeout or pass "
                "a larger --timeout, up to the connection's limit)",
                r->pc->base.name, (long long)r->st->timeout_ms);
}

static void sql_error(struct run *r, const PGresult *res, const char *code)
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

static void result_error(struct run *r, const PGresult *res)
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
static void stop(struct run *r)
{
    r->stopped = true;
}

static int send_columns(struct run *r, const PGresult *res)
{
    int n = PQnfields(res);
    size_t un = (size_t)n;
    struct cq_col *cols = NULL;
    r->cols_sent = true;
    r->n_cols = n;
    if (n > 0) {
        cols = cq_arena_alloc(&r->arena, un * sizeof(*cols));
        r->types = cq_arena_alloc(&r->arena, un * sizeof(*r->types));
        r->vals = cq_arena_alloc(&r->arena, un * sizeof(*r->vals));
        r->offs = cq_arena_alloc(&r->arena, un * sizeof(*r->offs));
        r->in_sc = cq_arena_alloc(&r->arena, un * sizeof(*r->in_sc));
        if (cols == NULL || r->types == NULL || r->vals == NULL || r->offs == NULL ||
            r->in_sc == NULL) {
            stop(r);
            return fail(r, CQ_ENOMEM, NULL, "connection '%s': out of memory", r->pc->base.name);
        }
    }
    for (int i = 0; i < n; i++) {
        r->types[i] = cq_drv_pg_type_find((unsigned)PQftype(res, i));
        cols[i].name = PQfname(res, i);
        cols[i].type = r->types[i]->name;
        cols[i].kind = cq_drv_pg_type_kind(r->types[i]);
    }
    int rc = r->sink->on_columns(r->sink->ctx, un, cols, r->err);
    if (rc != CQ_OK) {
        stop(r);
        sink_failed(r, rc);
    }
    return rc;
}

static int deliver_row(struct run *r, const PGresult *res, int row)
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
        r->in_sc[i] = cq_drv_pg_convert(r->types[i], PQgetvalue(res, row, i),
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

static void deliver(struct run *r, const PGresult *res)
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
static void take_tag(struct run *r, PGresult *res)
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
}

static void handle_result(struct run *r, PGresult *res)
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
static void cancel_if_running(struct run *r)
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
static int next_result(struct run *r, PGresult **out)
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
static int read_results(struct run *r)
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

static int send_stmt(struct run *r, const char *sql, int n)
{
    PGconn *pg = r->pc->pg;
    const char **values = NULL;
    Oid *types = NULL;
    if (n > 0) {
        values = cq_arena_alloc(&r->arena, (size_t)n * sizeof(*values));
        types = cq_arena_alloc(&r->arena, (size_t)n * sizeof(*types));
        if (values == NULL || types == NULL) {
            return fail(r, CQ_ENOMEM, NULL, "connection '%s': out of memory", r->pc->base.name);
        }
    }
    for (int i = 0; i < n; i++) {
        const struct cq_param *p = &r->st->params[i];
        values[i] = p->type == CQ_P_NULL ? NULL : p->text;
        types[i] = param_oid(p);
    }
    /* Text in, text out: values keep the server's exact digits. Extended protocol: the
     * server refuses several statements in one string, a second line of defence. */
    if (!PQsendQueryParams(pg, sql, n, types, values, NULL, NULL, 0)) {
        if (PQstatus(pg) != CONNECTION_OK) {
            return lost(r, PQerrorMessage(pg), "");
        }
        return fail(r, CQ_EINTERNAL, NULL, "connection '%s': cannot send the statement: %s",
                    r->pc->base.name, PQerrorMessage(pg));
    }
    r->sent = true;
    if (!PQsetSingleRowMode(pg)) {
        CQ_LOG(CQ_LOG_WARN, r->pc->log_ctx, "single-row mode refused; the result is buffered");
    }
    return CQ_OK;
}

/* ---- session state ------------------------------------------------------------------------- */

static void rollback(struct run *r)
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
static int check_session(struct run *r, bool last)
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

static int set_timeout(struct run *r)
{
    int64_t want = r->st->timeout_ms > 0 ? r->st->timeout_ms : 0;
    char sql[64];
    if (want == r->pc->stmt_timeout_ms) {
        return CQ_OK; /* already set on this session: no extra round trip */
    }
    if (want > INT32_MAX) {
        want = INT32_MAX; /* the server's maximum (~24 days) */
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

/* ---- exec -------------------------------------------------------------------------------- */

static int run_stmt(struct run *r, const char *sql, const struct cq_sql_stmt *s, bool last,
                    const struct cq_rowsink *out)
{
    struct cq_drv_pg_conn *pc = r->pc;
    r->sink = last ? out : &cq_drv_discard_sink;
    r->cancel_ok = pc->base.read_only || is_plain_query(r->st->sql + s->off, s->len);
    r->cols_sent = r->stopped = r->stop_canceled = false;
    memset(&r->info, 0, sizeof(r->info));
    r->info.rows_affected = -1;
    if (pc->base.read_only && !pc->ro_reported) {
        r->rc = cq_drv_pg_simple(pc, "SET default_transaction_read_only = on", "read-only", r->err);
        if (r->rc != CQ_OK) {
            return r->rc;
        }
    }
    if (send_stmt(r, sql, s->max_param) != CQ_OK || read_results(r) != CQ_OK ||
        check_session(r, last) != CQ_OK) {
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
static void finish(struct run *r)
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

int cq_drv_pg_exec(struct cq_conn *c, const struct cq_stmt *st, const struct cq_rowsink *out,
                   struct cq_err *err)
{
    struct cq_drv_pg_conn *pc = (struct cq_drv_pg_conn *)c;
    struct run r = {.pc = pc, .st = st, .err = err, .start_us = cq_now_us()};
    struct cq_sql_scan scan;
    cq_arena_init(&r.arena, 8192, 0);
    cq_buf_init(&r.sc.out, PG_ROW_MAX);
    cq_buf_init(&r.sc.elem, PG_ELEM_MAX);
    if (pc->pg == NULL || PQstatus(pc->pg) != CONNECTION_OK) {
        lost(&r, pc->pg != NULL ? PQerrorMessage(pc->pg) : "connection closed", "");
        goto out;
    }
    atomic_store(&pc->cancel_req, false);
    if (st->timeout_ms > 0) {
        r.deadline_ms = cq_now_ms() + st->timeout_ms + PG_GRACE_MS;
    }
    r.rc = cq_drv_sql_scan(&r.arena, st->sql, strlen(st->sql), &scan, err);
    if (r.rc != CQ_OK || check_shape(&r, &scan) != CQ_OK || set_timeout(&r) != CQ_OK) {
        goto out;
    }
    r.n_stmts = scan.n_stmts;
    for (size_t i = 0; i < scan.n_stmts && r.rc == CQ_OK; i++) {
        const struct cq_sql_stmt *s = &scan.stmts[i];
        /* one statement goes as written, so error positions match the caller's text */
        const char *sql =
            scan.n_stmts == 1 ? st->sql : cq_arena_strndup(&r.arena, st->sql + s->off, s->len);
        r.stmt_no = i + 1;
        if (sql == NULL) {
            fail(&r, CQ_ENOMEM, NULL, "connection '%s': out of memory", c->name);
            break;
        }
        run_stmt(&r, sql, s, i + 1 == scan.n_stmts, out);
    }
out:
    finish(&r);
    cq_buf_cleanup(&r.sc.out);
    cq_buf_cleanup(&r.sc.elem);
    cq_arena_free(&r.arena);
    return r.rc;
}

#endif /* CQ_WITHOUT_PG */
