/*
 * pg.c - the PostgreSQL driver (libpq): descriptor, connect/disconnect, ping, cancel,
 * server version, and the helpers pg_exec.c builds on (waiting with a deadline, simple
 * housekeeping commands). Statements run in pg_exec.c; types convert in pg_types.c.
 *
 * Every wait on the server goes through poll() with a deadline, so a stuck server or
 * network never blocks a caller beyond the configured timeouts.
 */
#include "drv/drv.h"

#ifndef CQ_WITHOUT_PG

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/str.h"
#include "base/time.h"
#include "drv/pg_int.h"

#define PG_CONNECT_TIMEOUT_MS 10000 /* when neither the DSN nor the config gives one */
#define PG_OP_TIMEOUT_MS 5000       /* housekeeping round trips (SET, ROLLBACK, ping) */

/* ---- shared helpers ------------------------------------------------------------------------ */

void cq_drv_pg_first_line(const char *msg, char *out, size_t size)
{
    const char *p = msg != NULL ? msg : "";
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
        p++;
    }
    size_t n = strcspn(p, "\r\n");
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
        n--;
    }
    if (size == 0) {
        return;
    }
    if (n >= size) {
        n = size - 1;
    }
    memcpy(out, p, n);
    out[n] = '\0';
}

int cq_drv_pg_wait(PGconn *pg, int64_t deadline_ms)
{
    while (PQisBusy(pg)) {
        int timeout = -1;
        if (deadline_ms > 0) {
            int64_t left = deadline_ms - cq_now_ms();
            if (left <= 0) {
                return CQ_ETIMEOUT;
            }
            timeout = left > INT_MAX ? INT_MAX : (int)left;
        }
        struct pollfd pfd = {.fd = PQsocket(pg), .events = POLLIN};
        if (pfd.fd < 0) {
            return CQ_OK; /* connection gone: PQgetResult reports it without blocking */
        }
        int n = poll(&pfd, 1, timeout);
        if (n < 0 && errno != EINTR) {
            return CQ_OK;
        }
        if (n > 0 && !PQconsumeInput(pg)) {
            return CQ_OK; /* read failed: libpq has the error for PQgetResult */
        }
    }
    return CQ_OK;
}

void cq_drv_pg_send_cancel(struct cq_drv_pg_conn *pc)
{
    char why[256] = "";
    int ok = 1;
    pthread_mutex_lock(&pc->mu);
    if (pc->cancel != NULL) {
        ok = PQcancel(pc->cancel, why, (int)sizeof(why));
    }
    pthread_mutex_unlock(&pc->mu);
    if (!ok) {
        CQ_LOG(CQ_LOG_WARN, pc->log_ctx, "cancel request failed: %s", why);
    }
}

/* Marks the session unusable and reports it. */
static int simple_lost(struct cq_drv_pg_conn *pc, const char *what, const char *why,
                       struct cq_err *err)
{
    char line[200];
    int rc;
    cq_drv_pg_first_line(why, line, sizeof(line));
    pc->base.broken = true;
    rc = cq_err_set(err, CQ_ECONNECT, "connection '%s' (%s): %s: %s", pc->base.name, pc->base.where,
                    what, line[0] ? line : "connection lost");
    if (err != NULL) {
        err->retryable = true; /* housekeeping only: none of the caller's SQL ran */
    }
    return rc;
}

int cq_drv_pg_simple(struct cq_drv_pg_conn *pc, const char *sql, const char *what,
                     struct cq_err *err)
{
    PGconn *pg = pc->pg;
    int64_t deadline = cq_now_ms() + pc->op_timeout_ms;
    int rc = CQ_OK;
    if (!PQsendQuery(pg, sql)) {
        return simple_lost(pc, what, PQerrorMessage(pg), err);
    }
    for (;;) {
        if (cq_drv_pg_wait(pg, deadline) != CQ_OK) {
            pc->base.broken = true; /* results still pending: the session is out of step */
            return rc != CQ_OK
                       ? rc
                       : cq_err_set(err, CQ_ETIMEOUT, "connection '%s': %s: no answer in %lld ms",
                                    pc->base.name, what, (long long)pc->op_timeout_ms);
        }
        PGresult *res = PQgetResult(pg);
        if (res == NULL) {
            break;
        }
        ExecStatusType st = PQresultStatus(res);
        if (rc == CQ_OK && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
            st != PGRES_EMPTY_QUERY) {
            char line[200];
            cq_drv_pg_first_line(PQresultErrorMessage(res), line, sizeof(line));
            rc = cq_err_set(err, CQ_EBACKEND, "connection '%s': %s: %s", pc->base.name, what, line);
            cq_err_code(err, PQresultErrorField(res, PG_DIAG_SQLSTATE));
        }
        PQclear(res);
    }
    if (PQstatus(pg) != CONNECTION_OK) {
        return simple_lost(pc, what, PQerrorMessage(pg), err);
    }
    return rc;
}

/* ---- connect ----------------------------------------------------------------------------- */

static void on_notice(void *arg, const char *message)
{
    const struct cq_drv_pg_conn *pc = arg;
    char line[256];
    cq_drv_pg_first_line(message, line, sizeof(line));
    CQ_LOG(CQ_LOG_DEBUG, pc->log_ctx, "%s", line); /* libpq would print to stderr */
}

/* True when libpq would expand target into several settings (not a bare dbname). */
static bool is_conninfo(const char *target)
{
    return strchr(target, '=') != NULL || cq_has_prefix(target, "postgresql://") ||
           cq_has_prefix(target, "postgres://");
}

/* The backend options: the user's own (DSN or PGOPTIONS) first, ours after them so ours
 * win: the value conversions rely on ISO dates and exact floats, and a read-only
 * connection must start every transaction read-only. */
static int build_options(const struct cq_dsn *dsn, struct cq_buf *opts, struct cq_err *err)
{
    const char *target = dsn->target != NULL ? dsn->target : "";
    const char *user = NULL;
    PQconninfoOption *parsed = NULL;
    char *perr = NULL;
    if (is_conninfo(target)) {
        parsed = PQconninfoParse(target, &perr);
        if (parsed == NULL) {
            /* libpq's message may quote pieces of the raw target (secrets included) */
            PQfreemem(perr);
            return CQ_EINVAL;
        }
        for (PQconninfoOption *o = parsed; o->keyword != NULL; o++) {
            if (strcmp(o->keyword, "options") == 0 && o->val != NULL && o->val[0] != '\0') {
                user = o->val;
            }
        }
    }
    if (user == NULL) {
        user = getenv("PGOPTIONS");
    }
    if (user != NULL && user[0] != '\0') {
        cq_buf_printf(opts, "%s ", user);
    }
    cq_buf_puts(opts, "-c DateStyle=ISO -c extra_float_digits=3");
    if (dsn->read_only) {
        cq_buf_puts(opts, " -c default_transaction_read_only=on");
    }
    PQconninfoFree(parsed);
    return cq_buf_rc(opts) == CQ_OK ? CQ_OK : cq_err_set(err, CQ_ENOMEM, "out of memory");
}

/* The connect deadline in ms (0 = none): connect_timeout from the DSN, a service file or
 * PGCONNECT_TIMEOUT when given (libpq ignores it in nonblocking mode, so we enforce it),
 * else the configured one, else 10 s. */
static int64_t connect_timeout_ms(PGconn *pg, const struct cq_dsn *dsn)
{
    int64_t ms = dsn->connect_timeout_ms > 0 ? dsn->connect_timeout_ms : PG_CONNECT_TIMEOUT_MS;
    PQconninfoOption *info = PQconninfo(pg);
    for (PQconninfoOption *o = info; o != NULL && o->keyword != NULL; o++) {
        if (strcmp(o->keyword, "connect_timeout") == 0 && o->val != NULL && o->val[0] != '\0') {
            const char *cur = o->val;
            int64_t secs = 0;
            if (cq_parse_i64(&cur, &secs) == CQ_OK && *cur == '\0') {
                ms = secs <= 0 ? 0 : (secs < 2 ? 2 : secs) * 1000; /* libpq's own rules */
            }
        }
    }
    PQconninfoFree(info);
    return ms;
}

static int poll_connect(PGconn *pg, int64_t deadline)
{
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED) {
            return CQ_ECONNECT;
        }
        int timeout = -1;
        if (deadline > 0) {
            int64_t left = deadline - cq_now_ms();
            if (left <= 0) {
                return CQ_ETIMEOUT;
            }
            timeout = left > INT_MAX ? INT_MAX : (int)left;
        }
        struct pollfd pfd = {.fd = PQsocket(pg),
                             .events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT};
        int n = poll(&pfd, 1, timeout);
        if (n < 0 && errno != EINTR) {
            return CQ_ECONNECT;
        }
        if (n > 0) {
            st = PQconnectPoll(pg);
        }
    }
    return CQ_OK;
}

/* Replaces every occurrence of secret in s by "***" (defence in depth: libpq does not echo
 * passwords, and this keeps it that way whatever a future version prints). */
static void scrub(char *s, const char *secret)
{
    size_t n = secret != NULL ? strlen(secret) : 0;
    if (n < 3) {
        return; /* too short to tell apart from ordinary text */
    }
    /* n >= 3, so the text only shrinks */
    for (char *hit = strstr(s, secret); hit != NULL; hit = strstr(hit + 3, secret)) {
        memmove(hit + 3, hit + n, strlen(hit + n) + 1);
        memcpy(hit, "***", 3);
    }
}

/* Takes the SQLSTATE out of a verbose libpq message ("...failed: FATAL:  28P01: password
 * authentication failed..."): copies it to code and removes it from line. */
static void take_sqlstate(char *line, char code[6])
{
    code[0] = '\0';
    for (char *p = strstr(line, ":  "); p != NULL; p = strstr(p + 1, ":  ")) {
        char *c = p + 3;
        bool ok = strlen(c) >= 7 && c[5] == ':' && c[6] == ' ';
        for (int i = 0; ok && i < 5; i++) {
            ok = (c[i] >= '0' && c[i] <= '9') || (c[i] >= 'A' && c[i] <= 'Z');
        }
        if (ok) {
            memcpy(code, c, 5);
            code[5] = '\0';
            memmove(c, c + 7, strlen(c + 7) + 1);
            return;
        }
    }
}

static int connect_error(struct cq_drv_pg_conn *pc, PGconn *pg, int why, int64_t timeout_ms,
                         struct cq_err *err)
{
    const char *where = pc->base.where[0] ? pc->base.where : "libpq defaults";
    char line[320], code[6];
    if (why == CQ_ETIMEOUT) {
        int rc =
            cq_err_set(err, CQ_ECONNECT, "connection '%s' (%s): connect: timeout after %lld ms",
                       pc->base.name, where, (long long)timeout_ms);
        if (err != NULL) {
            err->retryable = true;
        }
        return rc;
    }
    cq_drv_pg_first_line(PQerrorMessage(pg), line, sizeof(line));
    take_sqlstate(line, code);
    scrub(line, PQpass(pg));
    bool auth = cq_has_prefix(code, "28") || PQconnectionNeedsPassword(pg);
    int rc = cq_err_set(err, auth ? CQ_EAUTH : CQ_ECONNECT, "connection '%s' (%s): connect: %s",
                        pc->base.name, where, line);
    cq_err_code(err, code);
    if (err != NULL) {
        /* nothing ran: retrying is safe unless the server refused us for good */
        err->retryable = !auth && (code[0] == '\0' || strcmp(code, "57P03") == 0);
    }
    return rc;
}

static int pg_connect(struct cq_conn *c, const struct cq_dsn *dsn, struct cq_err *err)
{
    struct cq_drv_pg_conn *pc = (struct cq_drv_pg_conn *)c;
    const char *target = dsn->target != NULL ? dsn->target : "";
    const char *kw[6], *val[6];
    size_t n = 0;
    PGconn *pg = NULL;
    struct cq_buf opts;
    int64_t timeout = 0;
    int rc;
    cq_buf_init(&opts, 8192);
    snprintf(pc->log_ctx, sizeof(pc->log_ctx), "drv:pg:%s", c->name);
    rc = build_options(dsn, &opts, err);
    if (rc == CQ_EINVAL) {
        /* no (where): a target libpq cannot parse cannot be reliably redacted either */
        rc = cq_err_set(err, CQ_ECONNECT,
                        "connection '%s': connect: invalid connection string (expected "
                        "postgresql://user@host:port/db or key=value pairs)",
                        c->name);
    }
    if (rc != CQ_OK) {
        goto out;
    }
    /* Order matters: the DSN (dbname, expanded) overrides what comes before it and cannot
     * override what comes after. */
    kw[n] = "application_name", val[n++] = "clariq";
    if (target[0] != '\0') {
        kw[n] = "dbname", val[n++] = target;
    }
    kw[n] = "client_encoding", val[n++] = "UTF8";
    kw[n] = "options", val[n++] = cq_buf_str(&opts);
    kw[n] = NULL, val[n] = NULL;
    pg = PQconnectStartParams(kw, val, 1);
    if (pg == NULL) {
        rc = cq_err_set(err, CQ_ENOMEM, "connection '%s': out of memory", c->name);
        goto out;
    }
    if (PQstatus(pg) == CONNECTION_BAD) {
        rc = connect_error(pc, pg, CQ_ECONNECT, 0, err);
        goto out;
    }
    timeout = connect_timeout_ms(pg, dsn);
    PQsetErrorVerbosity(pg, PQERRORS_VERBOSE); /* puts the SQLSTATE of a refusal in the text */
    rc = poll_connect(pg, timeout > 0 ? cq_now_ms() + timeout : 0);
    if (rc != CQ_OK) {
        rc = connect_error(pc, pg, rc, timeout, err);
        goto out;
    }
    PQsetErrorVerbosity(pg, PQERRORS_DEFAULT);
    PQsetNoticeProcessor(pg, on_notice, pc);
    pc->cancel = PQgetCancel(pg);
    if (pc->cancel == NULL || pthread_mutex_init(&pc->mu, NULL) != 0) {
        PQfreeCancel(pc->cancel);
        pc->cancel = NULL;
        rc = cq_err_set(err, CQ_ENOMEM, "connection '%s': out of memory", c->name);
        goto out;
    }
    atomic_init(&pc->cancel_req, false);
    cq_drv_pg_conn_init(pc);
    pc->op_timeout_ms = timeout > 0 && timeout < PG_OP_TIMEOUT_MS ? timeout : PG_OP_TIMEOUT_MS;
    pc->stmt_timeout_ms = 0;
    /* PostgreSQL >= 14 reports default_transaction_read_only changes; older servers get
     * it re-asserted before each statement instead (pg_exec.c). */
    pc->ro_reported = PQparameterStatus(pg, "default_transaction_read_only") != NULL;
    pc->pg = pg;
    pg = NULL;
out:
    PQfinish(pg); /* NULL-safe; only set here on failure */
    cq_buf_cleanup(&opts);
    return rc;
}

static void pg_disconnect(struct cq_conn *c)
{
    struct cq_drv_pg_conn *pc = (struct cq_drv_pg_conn *)c;
    if (pc->pg == NULL) {
        return;
    }
    cq_drv_pg_run_drop(pc);
    pthread_mutex_lock(&pc->mu);
    PQfreeCancel(pc->cancel);
    pc->cancel = NULL;
    pthread_mutex_unlock(&pc->mu);
    pthread_mutex_destroy(&pc->mu);
    PQfinish(pc->pg);
    pc->pg = NULL;
}

/* ---- ping, cancel, version ----------------------------------------------------------------- */

static int pg_ping(struct cq_conn *c, struct cq_err *err)
{
    struct cq_drv_pg_conn *pc = (struct cq_drv_pg_conn *)c;
    if (pc->pg == NULL || PQstatus(pc->pg) != CONNECTION_OK ||
        PQtransactionStatus(pc->pg) != PQTRANS_IDLE) {
        c->broken = true;
        return cq_err_set(
            err, CQ_ECONNECT, "connection '%s' (%s): ping: the session is %s", c->name, c->where,
            pc->pg == NULL || PQstatus(pc->pg) != CONNECTION_OK ? "closed" : "not idle");
    }
    /* An empty query is the cheapest full round trip: the server answers EmptyQueryResponse
     * without planning anything. */
    return cq_drv_pg_simple(pc, "", "ping", err);
}

static int pg_cancel(struct cq_conn *c, struct cq_err *err)
{
    struct cq_drv_pg_conn *pc = (struct cq_drv_pg_conn *)c;
    char why[256] = "";
    int ok = 1;
    atomic_store(&pc->cancel_req, true); /* lets exec report CQ_ECANCELED, not a SQL error */
    pthread_mutex_lock(&pc->mu);
    if (pc->cancel != NULL) {
        ok = PQcancel(pc->cancel, why, (int)sizeof(why));
    }
    pthread_mutex_unlock(&pc->mu);
    if (!ok) {
        return cq_err_set(err, CQ_ECONNECT, "connection '%s' (%s): cancel: %s", c->name, c->where,
                          why);
    }
    return CQ_OK;
}

static int pg_server_version(struct cq_conn *c, char *out, size_t size, struct cq_err *err)
{
    struct cq_drv_pg_conn *pc = (struct cq_drv_pg_conn *)c;
    const char *v = pc->pg != NULL ? PQparameterStatus(pc->pg, "server_version") : NULL;
    if (v == NULL) {
        return cq_err_set(err, CQ_ECONNECT, "connection '%s': server version unknown (closed)",
                          c->name);
    }
    snprintf(out, size, "PostgreSQL %s", v);
    return CQ_OK;
}

static const struct cq_drv_ops pg_ops = {
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .ping = pg_ping,
    .exec = cq_drv_pg_exec,
    .cancel = pg_cancel,
    .server_version = pg_server_version,
    .exec_start = cq_drv_pg_exec_start,
    .exec_fd = cq_drv_pg_exec_fd,
    .exec_step = cq_drv_pg_exec_step,
    .exec_wait = cq_drv_pg_exec_wait,
    .exec_queued = cq_drv_pg_exec_queued,
    .exec_busy_ms = cq_drv_pg_exec_busy_ms,
    .exec_cancel = cq_drv_pg_exec_cancel,
};

static const char *const pg_schemes[] = {"postgres", "postgresql", NULL};

const struct cq_driver cq_drv_pg = {
    .abi = CQ_DRV_ABI,
    .name = "postgres",
    .schemes = pg_schemes,
    .dialect = CQ_DIALECT_PG,
    .caps = CQ_CAP_PARAMS | CQ_CAP_TX | CQ_CAP_CANCEL | CQ_CAP_STREAM | CQ_CAP_ASYNC,
    .conn_size = sizeof(struct cq_drv_pg_conn),
    .ops = &pg_ops,
};

#endif /* CQ_WITHOUT_PG */
