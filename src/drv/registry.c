/*
 * registry.c - the immutable driver list, connection open/close, and cq_drv_exec's
 * row/byte caps (a sink wrapped around the caller's). For an asynchronous op the caps live
 * in a struct cq_drv_run per op (from a per-connection free list, c->run), which outlives
 * the call to cq_drv_exec_start.
 */
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "drv/drv.h"

/* The caps of one asynchronous op: the driver is handed `inner`, a copy of the caller's op
 * whose sink is the capper and whose done callback gives this struct back to the
 * connection's free list before calling the caller's. Several ops are in flight at once,
 * so this is per op, not per connection. */
struct capper {
    const struct cq_rowsink *out;
    const struct cq_stmt *st;
    int64_t rows;
    int64_t bytes;
    const char *reason;   /* set when a cap stopped the stream */
    int64_t start_us;
};

struct cq_drv_run {
    struct cq_drv_op inner;   /* what the driver queues */
    struct capper k;
    struct cq_rowsink capped;
    struct cq_drv_op *outer;  /* the caller's op */
    struct cq_conn *c;
    struct cq_drv_run *next_free;
};

static const struct cq_driver *const drivers[] = {
#ifndef CQ_WITHOUT_PG
    &cq_drv_pg,
#endif
#ifndef CQ_WITHOUT_SQLITE
    &cq_drv_sqlite,
#endif
    NULL,
};

const struct cq_driver *const *cq_drv_list(void)
{
    return drivers;
}

const struct cq_driver *cq_drv_find(const char *name_or_scheme)
{
    for (const struct cq_driver *const *d = drivers; *d != NULL; d++) {
        if (strcmp((*d)->name, name_or_scheme) == 0) {
            return *d;
        }
        for (const char *const *s = (*d)->schemes; s != NULL && *s != NULL; s++) {
            if (strcmp(*s, name_or_scheme) == 0) {
                return *d;
            }
        }
    }
    return NULL;
}

struct cq_conn *cq_drv_connect(const struct cq_driver *drv, const struct cq_dsn *dsn,
                               struct cq_err *err)
{
    struct cq_conn *c = cq_calloc(1, drv->conn_size);
    if (c == NULL) {
        cq_err_set(err, CQ_ENOMEM, "connection '%s': out of memory", dsn->name);
        return NULL;
    }
    c->drv = drv;
    c->read_only = dsn->read_only;
    cq_strlcpy(c->name, dsn->name, sizeof(c->name));
    cq_drv_dsn_redact(dsn->target, c->where, sizeof(c->where));
    if (drv->ops->connect(c, dsn, err) != CQ_OK) {
        cq_free(c);
        return NULL;
    }
    return c;
}

void cq_drv_disconnect(struct cq_conn *c)
{
    if (c != NULL) {
        c->drv->ops->disconnect(c);
        while (c->run != NULL) {
            struct cq_drv_run *r = c->run;
            c->run = r->next_free;
            cq_free(r);
        }
        cq_free(c);
    }
}

int cq_drv_ping(struct cq_conn *c, struct cq_err *err)
{
    return c->drv->ops->ping(c, err);
}

int cq_drv_cancel(struct cq_conn *c, struct cq_err *err)
{
    return c->drv->ops->cancel(c, err);
}

/* ---- caps: a sink between the driver and the caller's sink ------------------------------ */

static int cap_columns(void *ctx, size_t n, const struct cq_col *cols, struct cq_err *err)
{
    struct capper *k = ctx;
    return k->out->on_columns(k->out->ctx, n, cols, err);
}

static int cap_row(void *ctx, size_t n, const struct cq_value *vals, struct cq_err *err)
{
    struct capper *k = ctx;
    int64_t bytes = 0;
    if (k->reason != NULL) {
        return CQ_SINK_STOP;
    }
    if (k->st->max_rows > 0 && k->rows >= k->st->max_rows) {
        k->reason = "max_rows";
        return CQ_SINK_STOP;
    }
    for (size_t i = 0; i < n; i++) {
        bytes += (int64_t)vals[i].len;
    }
    if (k->st->max_bytes > 0 && k->bytes + bytes > k->st->max_bytes) {
        k->reason = "max_bytes";
        return CQ_SINK_STOP;
    }
    int rc = k->out->on_row(k->out->ctx, n, vals, err);
    if (rc == CQ_OK) {
        k->rows++;
        k->bytes += bytes;
    }
    return rc;
}

static int cap_end(void *ctx, const struct cq_result_info *info, struct cq_err *err)
{
    struct capper *k = ctx;
    struct cq_result_info mine = *info;
    mine.row_count = k->rows;
    if (k->reason != NULL) {
        mine.truncated = true;
        mine.truncated_reason = k->reason;
    }
    mine.elapsed_ms = (double)(cq_now_us() - k->start_us) / 1000.0;
    return k->out->on_end(k->out->ctx, &mine, err);
}

static void capper_init(struct capper *k, struct cq_rowsink *capped, const struct cq_stmt *st,
                        const struct cq_rowsink *out)
{
    *k = (struct capper){.out = out, .st = st, .start_us = cq_now_us()};
    *capped = (struct cq_rowsink){
        .ctx = k, .on_columns = cap_columns, .on_row = cap_row, .on_end = cap_end,
    };
}

int cq_drv_exec(struct cq_conn *c, const struct cq_stmt *st, const struct cq_rowsink *out,
                struct cq_err *err)
{
    struct capper k;
    struct cq_rowsink capped;
    capper_init(&k, &capped, st, out);
    return c->drv->ops->exec(c, st, &capped, err);
}

/* ---- asynchronous, pipelined ops ------------------------------------------------------- */

static bool has_async(const struct cq_conn *c)
{
    return (c->drv->caps & CQ_CAP_ASYNC) != 0 && c->drv->ops->exec_start != NULL;
}

static void run_done(struct cq_drv_op *inner, int rc)
{
    struct cq_drv_run *r = inner->ctx;
    struct cq_drv_op *outer = r->outer;
    outer->drv = NULL; /* a later cq_drv_exec_cancel is a no-op */
    r->next_free = r->c->run; /* free before the callback, which may start another op */
    r->c->run = r;
    outer->done(outer, rc);
}

int cq_drv_exec_start(struct cq_conn *c, struct cq_drv_op *op)
{
    if (!has_async(c)) {
        return CQ_EUNSUPPORTED; /* err untouched: the caller falls back to cq_drv_exec */
    }
    struct cq_drv_run *r = c->run;
    if (r != NULL) {
        c->run = r->next_free;
    } else {
        r = cq_calloc(1, sizeof(*r));
        if (r == NULL) {
            return cq_err_set(op->err, CQ_ENOMEM, "connection '%s': out of memory", c->name);
        }
    }
    capper_init(&r->k, &r->capped, op->st, op->out);
    r->inner = (struct cq_drv_op){
        .st = op->st, .out = &r->capped, .err = op->err, .done = run_done, .ctx = r};
    atomic_init(&r->inner.cancel, atomic_load(&op->cancel));
    r->outer = op;
    r->c = c;
    r->next_free = NULL;
    op->next = NULL;
    op->drv = r;
    int rc = c->drv->ops->exec_start(c, &r->inner);
    if (rc != CQ_OK) {
        op->drv = NULL;
        r->next_free = c->run;
        c->run = r;
    }
    return rc;
}

int cq_drv_exec_fd(struct cq_conn *c)
{
    return has_async(c) ? c->drv->ops->exec_fd(c) : -1;
}

int cq_drv_exec_step(struct cq_conn *c)
{
    return has_async(c) ? c->drv->ops->exec_step(c) : 0;
}

void cq_drv_exec_wait(struct cq_conn *c)
{
    if (has_async(c)) {
        c->drv->ops->exec_wait(c);
    }
}

int cq_drv_exec_queued(struct cq_conn *c)
{
    return has_async(c) ? c->drv->ops->exec_queued(c) : 0;
}

int64_t cq_drv_exec_busy_ms(struct cq_conn *c)
{
    return has_async(c) ? c->drv->ops->exec_busy_ms(c) : 0;
}

void cq_drv_exec_cancel(struct cq_conn *c, struct cq_drv_op *op)
{
    struct cq_drv_run *r = op->drv;
    atomic_store(&op->cancel, true);
    if (has_async(c) && r != NULL) {
        c->drv->ops->exec_cancel(c, &r->inner);
    }
}

/* ---- the discard sink ------------------------------------------------------------------- */

static int discard_columns(void *ctx, size_t n, const struct cq_col *cols, struct cq_err *err)
{
    (void)ctx, (void)n, (void)cols, (void)err;
    return CQ_OK;
}

static int discard_row(void *ctx, size_t n, const struct cq_value *vals, struct cq_err *err)
{
    (void)ctx, (void)n, (void)vals, (void)err;
    return CQ_OK;
}

static int discard_end(void *ctx, const struct cq_result_info *info, struct cq_err *err)
{
    (void)ctx, (void)info, (void)err;
    return CQ_OK;
}

const struct cq_rowsink cq_drv_discard_sink = {
    .ctx = NULL, .on_columns = discard_columns, .on_row = discard_row, .on_end = discard_end,
};

int cq_drv_test(const struct cq_conn_conf *cc, char *version, size_t vsize, double *latency_ms,
                struct cq_err *err)
{
    const char *name = cc->driver != NULL ? cc->driver : "";
    const struct cq_driver *drv = cq_drv_find(name);
    struct cq_conn *c;
    struct cq_dsn dsn;
    double t[3];
    int rc;

    if (drv == NULL) {
        return cq_err_set(err, CQ_ENOTFOUND, "connection '%s': driver '%s' is not built in",
                          cc->name, name);
    }
    cq_drv_dsn_init(&dsn, cc);
    c = cq_drv_connect(drv, &dsn, err);
    if (c == NULL) {
        return err != NULL && err->rc != CQ_OK ? err->rc : CQ_ECONNECT;
    }
    rc = drv->ops->server_version(c, version, vsize, err);
    for (int i = 0; rc == CQ_OK && i < 3; i++) {
        int64_t start = cq_now_us();
        rc = cq_drv_ping(c, err);
        t[i] = (double)(cq_now_us() - start) / 1000.0;
    }
    if (rc == CQ_OK) {
        double lo = t[0] < t[1] ? t[0] : t[1], hi = t[0] < t[1] ? t[1] : t[0];
        *latency_ms = t[2] < lo ? lo : (t[2] > hi ? hi : t[2]);
    }
    cq_drv_disconnect(c);
    return rc;
}
