/*
 * dslfake.c - the fake database driver of dslfake.h. Test code: it asserts with cmocka
 * where a wrong call is the test's failure rather than a result to report.
 */
#include "dslfake.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>

#include <cmocka.h>

static int f_connect(struct cq_conn *c, const struct cq_dsn *dsn, struct cq_err *err)
{
    (void)c, (void)dsn, (void)err;
    return CQ_OK;
}

static void f_disconnect(struct cq_conn *c)
{
    (void)c;
}

static int f_ping(struct cq_conn *c, struct cq_err *err)
{
    (void)c, (void)err;
    return CQ_OK;
}

static int f_cancel(struct cq_conn *c, struct cq_err *err)
{
    (void)c, (void)err;
    return CQ_OK;
}

static int f_version(struct cq_conn *c, char *out, size_t size, struct cq_err *err)
{
    (void)c, (void)err;
    snprintf(out, size, "fake");
    return CQ_OK;
}

/* Records the statement first, so a scripted failure still leaves it behind to assert on. */
static int f_exec(struct cq_conn *c, const struct cq_stmt *st, const struct cq_rowsink *out,
                  struct cq_err *err)
{
    struct cq_test_feed *f = ((struct cq_test_fake_conn *)c)->feed;
    struct cq_col cols[CQ_TEST_FAKE_MAX_COLS];
    struct cq_result_info info = {.rows_affected = -1};
    int rc;

    f->n_exec++;
    snprintf(f->sql, sizeof(f->sql), "%s", st->sql);
    f->timeout_ms = st->timeout_ms;
    f->n_params = st->n_params;
    for (size_t i = 0; i < st->n_params && i < CQ_TEST_FAKE_MAX_P; i++) {
        f->params[i] = st->params[i];
        snprintf(f->texts[i], sizeof(f->texts[i]), "%s",
                 st->params[i].text != NULL ? st->params[i].text : "(null)");
    }
    if (f->fail_rc != CQ_OK && (f->fail_times == 0 || f->n_exec <= f->fail_times)) {
        return cq_err_set(err, f->fail_rc, "%s", f->fail_msg);
    }
    assert_true(f->n_cols <= CQ_TEST_FAKE_MAX_COLS);
    for (size_t i = 0; i < f->n_cols; i++) {
        cols[i] = (struct cq_col){f->names[i], "text", CQ_V_STRING};
    }
    rc = out->on_columns(out->ctx, f->n_cols, cols, err);
    for (size_t r = 0; rc == CQ_OK && r < f->n_rows; r++) {
        rc = out->on_row(out->ctx, f->n_cols, f->rows + r * f->n_cols, err);
    }
    if (rc != CQ_OK) {
        return rc;
    }
    info.row_count = (int64_t)f->n_rows;
    info.truncated = f->truncate;
    info.truncated_reason = f->truncate ? "max_rows" : NULL;
    return out->on_end(out->ctx, &info, err);
}

static const struct cq_drv_ops fake_ops = {
    .connect = f_connect, .disconnect = f_disconnect, .ping = f_ping, .exec = f_exec,
    .cancel = f_cancel, .server_version = f_version,
};
static const char *const fake_schemes[] = {"fake", NULL};

const struct cq_driver cq_test_fake_pg = {CQ_DRV_ABI, "postgres", fake_schemes, CQ_DIALECT_PG,
                                          CQ_CAP_PARAMS, sizeof(struct cq_test_fake_conn),
                                          &fake_ops};
const struct cq_driver cq_test_fake_sqlite = {CQ_DRV_ABI, "sqlite", fake_schemes,
                                              CQ_DIALECT_SQLITE, CQ_CAP_PARAMS,
                                              sizeof(struct cq_test_fake_conn), &fake_ops};

int cq_test_fake_acquire(void *ctx, const char *conn, struct cq_conn **out, struct cq_err *err)
{
    struct cq_test_fake_conn *fc = ctx;

    fc->feed->n_acquire++;
    assert_non_null(conn);
    snprintf(fc->feed->conn, sizeof(fc->feed->conn), "%s", conn);
    if (fc->feed->acquire_rc != CQ_OK) {
        return cq_err_set(err, fc->feed->acquire_rc, "connection '%s': connect: refused", conn);
    }
    *out = &fc->base;
    fc->feed->n_held++;
    return CQ_OK;
}

void cq_test_fake_release(void *ctx, struct cq_conn *c)
{
    struct cq_test_fake_conn *fc = ctx;

    assert_ptr_equal(c, &fc->base);
    fc->feed->n_release++;
}

void cq_test_fake_limits(void *ctx, const char *conn, struct cq_limits *out)
{
    struct cq_test_fake_conn *fc = ctx;

    (void)conn;
    *out = fc->feed->limits;
}

void cq_test_fake_init(struct cq_test_fake_conn *conn, struct cq_test_feed *feed,
                       struct cq_dsl_exec_env *env)
{
    conn->base = (struct cq_conn){.drv = &cq_test_fake_pg};
    conn->feed = feed;
    *env = (struct cq_dsl_exec_env){.ctx = conn, .acquire = cq_test_fake_acquire,
                                    .release = cq_test_fake_release,
                                    .include_sql_in_errors = true};
}
