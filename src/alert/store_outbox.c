/*
 * store_outbox.c - the delivery outbox of the alert state store (store.h): claiming due
 * deliveries, recording attempts, the pending count, history with per-channel delivery
 * summaries, and pruning. Shared helpers are in store.c, the SQL in store_sql.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/store.h"
#include "alert/store_int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"

#define ARENA_CHUNK 8192
#define SUMMARY_MAX 8192 /* bytes of one run's delivery summary in history */

/* ---- due --------------------------------------------------------------------------------- */

void cq_alert_pending_free(struct cq_alert_pending *v, size_t n)
{
    if (v == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        cq_free(v[i].alert_id);
        cq_free(v[i].channel);
        cq_free(v[i].payload);
    }
    cq_free(v);
}

static int by_id(const void *a, const void *b)
{
    const struct cq_alert_pending *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Copies the claimed rows (id, run_id, alert_id, channel, payload, attempts) out of the
 * arena into a caller-owned array, oldest first (RETURNING has no order). */
static int take_pending(const struct cq_alert_rows *r, struct cq_alert_pending **out,
                        struct cq_err *e)
{
    struct cq_alert_pending *v = cq_calloc(r->n, sizeof(*v));
    int rc = CQ_OK;
    if (v == NULL) {
        return cq_err_set(e, CQ_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < r->n; i++) {
        const char *alert = cq_alert_cell(r, i, 2);
        const char *chan = cq_alert_cell(r, i, 3);
        const char *payload = cq_alert_cell(r, i, 4);
        v[i].id = cq_alert_cell_i64(r, i, 0);
        v[i].run_id = cq_alert_cell_i64(r, i, 1);
        v[i].attempts = (int)cq_alert_cell_i64(r, i, 5);
        v[i].alert_id = cq_strdup(alert != NULL ? alert : "");
        v[i].channel = cq_strdup(chan != NULL ? chan : "");
        v[i].payload = cq_strdup(payload != NULL ? payload : "");
        if (v[i].alert_id == NULL || v[i].channel == NULL || v[i].payload == NULL) {
            rc = cq_err_set(e, CQ_ENOMEM, "out of memory");
        }
    }
    if (rc != CQ_OK) {
        cq_alert_pending_free(v, r->n);
        return rc;
    }
    qsort(v, r->n, sizeof(*v), by_id);
    *out = v;
    return CQ_OK;
}

int cq_alert_store_due(struct cq_alert_store *s, int64_t now_ms, const char *runner,
                       int64_t lease_ms, size_t max, struct cq_alert_pending **out, size_t *n,
                       struct cq_err *err)
{
    struct cq_arena a;
    struct cq_alert_rows r;
    struct cq_alert_binds b;
    struct cq_buf sql;
    struct cq_err e = {0};
    int rc = CQ_OK;

    if (out != NULL) {
        *out = NULL;
    }
    if (n != NULL) {
        *n = 0;
    }
    if (s == NULL || runner == NULL || out == NULL || n == NULL || lease_ms < 0) {
        return cq_err_set(err, CQ_EINVAL, "alert state store: due: invalid argument");
    }
    if (max == 0) {
        return CQ_OK;
    }
    cq_arena_init(&a, ARENA_CHUNK, 0);
    cq_alert_rows_init(&r, &a);
    cq_alert_binds_init(&b, &a, 4);
    cq_buf_init(&sql, 4096);
    cq_alert_bind_text(&b, runner);
    cq_alert_bind_int(&b, now_ms);
    cq_alert_bind_int(&b, lease_ms > INT64_MAX - now_ms ? INT64_MAX : now_ms + lease_ms);
    cq_alert_bind_int(&b, max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max);
    cq_alert_sql_due(s->dialect, &sql);
    if (cq_buf_rc(&sql) != CQ_OK) {
        rc = cq_err_set(&e, CQ_ENOMEM, "out of memory");
        goto out;
    }
    rc = cq_alert_exec(s, cq_buf_str(&sql), &b, &r, &e);
    if (rc == CQ_OK && r.n > 0) {
        rc = take_pending(&r, out, &e);
        *n = rc == CQ_OK ? r.n : 0;
    }
out:
    cq_buf_cleanup(&sql);
    cq_arena_free(&a);
    if (rc != CQ_OK) {
        cq_alert_store_report(s->where, "claiming due deliveries", &e, err);
    }
    return rc;
}

/* ---- delivered --------------------------------------------------------------------------- */

/* No pending row matched: the delivery is unknown, or already finished by a runner that
 * took it over after this one's lease ran out (then there is nothing left to record). */
static int not_pending(const struct cq_alert_store *s, int64_t id, struct cq_arena *a,
                       struct cq_err *e)
{
    struct cq_alert_rows r;
    struct cq_alert_binds b;
    cq_alert_rows_init(&r, a);
    cq_alert_binds_init(&b, a, 1);
    cq_alert_bind_int(&b, id);
    int rc = cq_alert_exec(s, cq_alert_sql_delivery_state, &b, &r, e);
    if (rc != CQ_OK) {
        return rc;
    }
    if (r.n == 0) {
        return cq_err_set(e, CQ_ENOTFOUND, "no delivery %lld", (long long)id);
    }
    CQ_LOG(CQ_LOG_DEBUG, "alert:store", "%s: delivery %lld is already %s; outcome dropped",
           s->where, (long long)id, cq_alert_cell(&r, 0, 0));
    return CQ_OK;
}

int cq_alert_store_delivered(struct cq_alert_store *s, int64_t id, enum cq_delivery_outcome outcome,
                             int attempts, int64_t next_attempt_ms, const char *error,
                             struct cq_err *err)
{
    static const char *const states[] = {"sent", "pending", "failed"};
    struct cq_arena a;
    struct cq_alert_rows r;
    struct cq_alert_binds b;
    struct cq_err e = {0};
    int rc;

    if (s == NULL || (unsigned)outcome > CQ_DELIVERY_FAILED || attempts < 0) {
        return cq_err_set(err, CQ_EINVAL, "alert state store: delivered: invalid argument");
    }
    cq_arena_init(&a, ARENA_CHUNK, 0);
    cq_alert_rows_init(&r, &a);
    cq_alert_binds_init(&b, &a, 6);
    cq_alert_bind_int(&b, id);
    cq_alert_bind_text(&b, states[outcome]);
    cq_alert_bind_int(&b, attempts);
    if (outcome == CQ_DELIVERY_RETRY) {
        cq_alert_bind_int(&b, next_attempt_ms);
    } else {
        cq_alert_bind_text(&b, NULL); /* keeps next_attempt_ms */
    }
    cq_alert_bind_text(&b, error);
    if (outcome == CQ_DELIVERY_RETRY) {
        cq_alert_bind_text(&b, NULL);
    } else {
        cq_alert_bind_int(&b, cq_wall_ms());
    }
    rc = cq_alert_exec(s, cq_alert_sql_delivered, &b, &r, &e);
    if (rc == CQ_OK && r.n == 0) {
        rc = not_pending(s, id, &a, &e);
    }
    cq_arena_free(&a);
    if (rc != CQ_OK) {
        char op[96];
        snprintf(op, sizeof(op), "recording delivery %lld", (long long)id);
        cq_alert_store_report(s->where, op, &e, err);
    }
    return rc;
}

int cq_alert_store_n_pending(struct cq_alert_store *s, int64_t *n, struct cq_err *err)
{
    struct cq_arena a;
    struct cq_alert_rows r;
    struct cq_err e = {0};
    int rc;

    if (s == NULL || n == NULL) {
        return cq_err_set(err, CQ_EINVAL, "alert state store: pending: missing argument");
    }
    *n = 0;
    cq_arena_init(&a, ARENA_CHUNK, 0);
    cq_alert_rows_init(&r, &a);
    rc = cq_alert_exec(s, cq_alert_sql_pending, NULL, &r, &e);
    if (rc == CQ_OK) {
        *n = cq_alert_cell_i64(&r, 0, 0);
    }
    cq_arena_free(&a);
    if (rc != CQ_OK) {
        cq_alert_store_report(s->where, "counting pending deliveries", &e, err);
    }
    return rc;
}

/* ---- history ----------------------------------------------------------------------------- */

/* Columns of cq_alert_sql_history. */
enum {
    H_ID,
    H_RUN_AT,
    H_SLOT,
    H_STATE,
    H_REASON,
    H_VALUE,
    H_ROWS,
    H_DURATION,
    H_ERROR,
    H_CHANNEL,
    H_STATUS,
    H_ATTEMPTS,
    H_LAST_ERROR,
};

/* "slack_ops:sent email:failed(3): <error>": one entry per delivery of the run. */
static void summarize(const struct cq_alert_rows *r, size_t row, struct cq_buf *out)
{
    const char *chan = cq_alert_cell(r, row, H_CHANNEL);
    const char *status = cq_alert_cell(r, row, H_STATUS);
    const char *why = cq_alert_cell(r, row, H_LAST_ERROR);
    int64_t attempts = cq_alert_cell_i64(r, row, H_ATTEMPTS);
    if (chan == NULL) {
        return; /* LEFT JOIN: a run without deliveries */
    }
    cq_buf_printf(out, "%s%s:%s", out->len > 0 ? " " : "", chan, status != NULL ? status : "?");
    if (status != NULL && strcmp(status, "sent") != 0 && attempts > 0) {
        cq_buf_printf(out, "(%lld)", (long long)attempts);
        if (why != NULL) {
            cq_buf_printf(out, ": %s", why);
        }
    }
}

/* Calls fn once per run of r (rows of one run are adjacent). */
static int each_run(const struct cq_alert_rows *r, cq_alert_history_fn fn, void *ctx,
                    struct cq_err *err)
{
    struct cq_buf sum;
    int rc = CQ_OK;
    cq_buf_init(&sum, SUMMARY_MAX);
    for (size_t i = 0; i < r->n && rc == CQ_OK;) {
        int64_t id = cq_alert_cell_i64(r, i, H_ID);
        const char *dur = cq_alert_cell(r, i, H_DURATION);
        struct cq_alert_history h = {
            .run_id = id,
            .run_at_ms = cq_alert_cell_i64(r, i, H_RUN_AT),
            .slot_ms = cq_alert_cell_i64(r, i, H_SLOT),
            .state = cq_alert_cell(r, i, H_STATE),
            .reason = cq_alert_cell(r, i, H_REASON),
            .value = cq_alert_cell(r, i, H_VALUE),
            .row_count = cq_alert_cell_i64(r, i, H_ROWS),
            .duration_ms = dur != NULL ? strtod(dur, NULL) : 0.0,
            .error = cq_alert_cell(r, i, H_ERROR),
        };
        size_t j = i;
        cq_buf_reset(&sum);
        for (; j < r->n && cq_alert_cell_i64(r, j, H_ID) == id; j++) {
            summarize(r, j, &sum);
        }
        /* a summary past its cap is cut, not an error: it is for display */
        h.deliveries = sum.p != NULL ? sum.p : "";
        if (h.state == NULL) {
            h.state = "";
        }
        rc = fn(ctx, &h, err);
        i = j;
    }
    cq_buf_cleanup(&sum);
    return rc;
}

int cq_alert_store_history(struct cq_alert_store *s, const char *alert_id, int limit,
                           cq_alert_history_fn fn, void *ctx, struct cq_err *err)
{
    struct cq_arena a;
    struct cq_alert_rows r;
    struct cq_alert_binds b;
    struct cq_err e = {0};
    int rc;

    if (s == NULL || alert_id == NULL || fn == NULL) {
        return cq_err_set(err, CQ_EINVAL, "alert state store: history: missing argument");
    }
    if (limit <= 0) {
        return CQ_OK;
    }
    cq_arena_init(&a, ARENA_CHUNK, 0);
    cq_alert_rows_init(&r, &a);
    cq_alert_binds_init(&b, &a, 2);
    cq_alert_bind_text(&b, alert_id);
    cq_alert_bind_int(&b, limit);
    rc = cq_alert_exec(s, cq_alert_sql_history, &b, &r, &e);
    if (rc != CQ_OK) {
        char op[128];
        snprintf(op, sizeof(op), "history of %s", alert_id);
        cq_alert_store_report(s->where, op, &e, err);
        goto out;
    }
    rc = each_run(&r, fn, ctx, err); /* the callback's own error goes up as it is */
out:
    cq_arena_free(&a);
    return rc;
}

/* ---- prune ------------------------------------------------------------------------------- */

struct prune_tx {
    struct cq_alert_binds *b;
    struct cq_alert_rows *rows;
    int64_t n_deleted; /* OUT: runs */
};

static int prune_body(const struct cq_alert_store *s, struct cq_conn *c, void *ctx,
                      struct cq_err *e)
{
    struct prune_tx *t = ctx;
    int rc = cq_alert_exec_conn(s, c, cq_alert_sql_prune_deliveries, t->b, 1, NULL, e);
    if (rc == CQ_OK) {
        rc = cq_alert_exec_conn(s, c, cq_alert_sql_prune_runs, t->b, 1, t->rows, e);
        t->n_deleted = t->rows->affected > 0 ? t->rows->affected : 0;
    }
    if (rc == CQ_OK) {
        rc = cq_alert_exec_conn(s, c, cq_alert_sql_prune_claims, t->b, 1, NULL, e);
    }
    return rc;
}

int cq_alert_store_prune(struct cq_alert_store *s, int64_t before_ms, int64_t *n_deleted,
                         struct cq_err *err)
{
    struct cq_arena a;
    struct cq_alert_rows r;
    struct cq_alert_binds b;
    struct cq_err e = {0};
    struct prune_tx t = {.b = &b, .rows = &r};
    int rc;

    if (n_deleted != NULL) {
        *n_deleted = 0;
    }
    if (s == NULL) {
        return cq_err_set(err, CQ_EINVAL, "alert state store: prune: missing argument");
    }
    cq_arena_init(&a, ARENA_CHUNK, 0);
    cq_alert_rows_init(&r, &a);
    cq_alert_binds_init(&b, &a, 1);
    cq_alert_bind_int(&b, before_ms);
    if (s->dialect == CQ_DIALECT_SQLITE) {
        rc = cq_alert_in_tx(s, prune_body, &t, &e);
    } else {
        rc = cq_alert_exec(s, cq_alert_sql_prune_pg, &b, &r, &e);
        t.n_deleted = cq_alert_cell_i64(&r, 0, 0);
    }
    if (rc == CQ_OK && n_deleted != NULL) {
        *n_deleted = t.n_deleted;
    }
    cq_arena_free(&a);
    if (rc != CQ_OK) {
        cq_alert_store_report(s->where, "pruning", &e, err);
    }
    return rc;
}
