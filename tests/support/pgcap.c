/* pgcap.c - capture sink, blocking runs and the PostgreSQL fixture of the driver integration
 * tests (see pgcap.h). Test code: libc allocation. */
#include "pgcap.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "cqtest.h"

/* ---- capture sink -------------------------------------------------------------------------- */

static int cap_columns(void *ctx, size_t n, const struct cq_col *cols, struct cq_err *err)
{
    struct cq_test_cap *k = ctx;
    (void)err;
    k->n_columns_calls++;
    k->n_cols = n;
    for (size_t i = 0; i < n && i < CQ_TEST_CAP_MAX_COLS; i++) {
        k->names[i] = strdup(cols[i].name);
        k->types[i] = strdup(cols[i].type);
        k->kinds[i] = cols[i].kind;
    }
    return CQ_OK;
}

static int cap_row(void *ctx, size_t n, const struct cq_value *vals, struct cq_err *err)
{
    struct cq_test_cap *k = ctx;
    if (k->fail_at_row > 0 && (int64_t)k->n_rows + 1 == k->fail_at_row) {
        return cq_err_set(err, CQ_EIO, "test sink: write failed");
    }
    assert_int_equal(n, k->n_cols);
    if (k->count_only) {
        k->n_rows++;
        return CQ_OK;
    }
    if (k->n_rows == k->cap_rows) {
        k->cap_rows = k->cap_rows ? k->cap_rows * 2 : 16;
        k->vals = realloc(k->vals, k->cap_rows * (n ? n : 1) * sizeof(*k->vals));
        assert_non_null(k->vals);
    }
    for (size_t i = 0; i < n; i++) {
        struct cq_test_cval *v = &k->vals[k->n_rows * n + i];
        v->kind = vals[i].kind;
        v->len = vals[i].len;
        v->p = NULL;
        if (vals[i].kind != CQ_V_NULL) {
            v->p = malloc(vals[i].len + 1);
            memcpy(v->p, vals[i].p, vals[i].len);
            v->p[vals[i].len] = '\0';
        } else {
            assert_null(vals[i].p);
        }
    }
    k->n_rows++;
    return CQ_OK;
}

static int cap_end(void *ctx, const struct cq_result_info *info, struct cq_err *err)
{
    struct cq_test_cap *k = ctx;
    (void)err;
    k->ended = true;
    k->info = *info;
    snprintf(k->command, sizeof(k->command), "%s", info->command ? info->command : "");
    k->info.command = k->command;
    return CQ_OK;
}

struct cq_rowsink cq_test_cap_sink(struct cq_test_cap *k)
{
    struct cq_rowsink s = {
        .ctx = k, .on_columns = cap_columns, .on_row = cap_row, .on_end = cap_end};
    return s;
}

void cq_test_cap_free(struct cq_test_cap *k)
{
    for (size_t i = 0; i < k->n_cols && i < CQ_TEST_CAP_MAX_COLS; i++) {
        free(k->names[i]);
        free(k->types[i]);
    }
    if (!k->count_only) {
        for (size_t i = 0; i < k->n_rows * k->n_cols; i++) {
            free(k->vals[i].p);
        }
    }
    free(k->vals);
    memset(k, 0, sizeof(*k));
}

const struct cq_test_cval *cq_test_cap_value(const struct cq_test_cap *k, size_t row, size_t col)
{
    assert_true(row < k->n_rows);
    assert_true(col < k->n_cols);
    return &k->vals[row * k->n_cols + col];
}

void cq_test_cap_expect(const struct cq_test_cap *k, size_t row, size_t col, enum cq_vkind kind,
                        const char *text)
{
    const struct cq_test_cval *v = cq_test_cap_value(k, row, col);
    if (v->kind != kind || (text == NULL) != (v->p == NULL) ||
        (text != NULL && (strlen(text) != v->len || memcmp(text, v->p, v->len) != 0))) {
        fail_msg("column %zu (%s): got kind %d '%s', want kind %d '%s'", col, k->names[col],
                 v->kind, v->p ? v->p : "(null)", kind, text ? text : "(null)");
    }
}

/* ---- blocking runs ------------------------------------------------------------------------- */

struct cq_stmt cq_test_stmt(const char *sql, const struct cq_test_exec_opts *o)
{
    struct cq_stmt st = {.sql = sql};
    if (o != NULL) {
        st.params = o->params;
        st.n_params = o->n_params;
        st.timeout_ms = o->timeout_ms;
        st.max_rows = o->max_rows;
        st.max_bytes = o->max_bytes;
        st.allow_multi = o->multi;
    }
    return st;
}

int cq_test_exec_opts(struct cq_conn *c, const char *sql, const struct cq_test_exec_opts *o,
                      struct cq_test_cap *k, struct cq_err *err)
{
    struct cq_stmt st = cq_test_stmt(sql, o);
    struct cq_rowsink s = cq_test_cap_sink(k);
    cq_err_clear(err);
    return cq_drv_exec(c, &st, &s, err);
}

int cq_test_exec(struct cq_conn *c, const char *sql, struct cq_test_cap *k, struct cq_err *err)
{
    return cq_test_exec_opts(c, sql, NULL, k, err);
}

void cq_test_must_exec(struct cq_conn *c, const char *sql)
{
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    struct cq_test_exec_opts o = {.multi = true};
    int rc = cq_test_exec_opts(c, sql, &o, &k, &err);
    if (rc != CQ_OK) {
        fail_msg("%s: %s", sql, err.msg);
    }
    assert_true(k.ended);
    cq_test_cap_free(&k);
}

void cq_test_scalar(struct cq_conn *c, const char *sql, char *out, size_t size)
{
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    if (cq_test_exec(c, sql, &k, &err) != CQ_OK) {
        fail_msg("%s: %s", sql, err.msg);
    }
    assert_int_equal(k.n_rows, 1);
    const struct cq_test_cval *v = cq_test_cap_value(&k, 0, 0);
    snprintf(out, size, "%s", v->p ? v->p : "NULL");
    cq_test_cap_free(&k);
}

long cq_test_scalar_long(struct cq_conn *c, const char *sql)
{
    char v[64];
    cq_test_scalar(c, sql, v, sizeof(v));
    return strtol(v, NULL, 10);
}

void cq_test_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ---- PostgreSQL fixture -------------------------------------------------------------------- */

#ifndef CQ_WITHOUT_PG

static char schema[64];     /* <prefix>_<pid> */
static char base_dsn[512];  /* the fixture's DSN */
static char test_dsn[1024]; /* base_dsn + options: search_path and TimeZone=UTC */

struct cq_conn *cq_test_pg_connect(const char *name, const char *target, bool read_only,
                                   struct cq_err *err)
{
    struct cq_dsn dsn = {
        .name = name, .target = target, .read_only = read_only, .connect_timeout_ms = 5000};
    const struct cq_driver *drv = cq_drv_find("postgresql");
    assert_ptr_equal(drv, &cq_drv_pg);
    return cq_drv_connect(drv, &dsn, err);
}

struct cq_conn *cq_test_pg_open(const char *name, bool read_only)
{
    struct cq_err err = {0};
    struct cq_conn *c = cq_test_pg_connect(name, test_dsn, read_only, &err);
    if (c == NULL) {
        fail_msg("connect: %s", err.msg);
    }
    return c;
}

int cq_test_pg_schema_setup(const char *prefix)
{
    const char *dsn = cq_test_require("CQ_IT_PG_DSN");
    snprintf(schema, sizeof(schema), "%s_%ld", prefix, (long)getpid());
    snprintf(base_dsn, sizeof(base_dsn), "%s", dsn);
    snprintf(test_dsn, sizeof(test_dsn), "%s%coptions=-csearch_path%%3D%s%%20-cTimeZone%%3DUTC",
             dsn, strchr(dsn, '?') ? '&' : '?', schema);
    struct cq_err err = {0};
    struct cq_conn *c = cq_test_pg_connect("setup", base_dsn, false, &err);
    if (c == NULL) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    char sql[256];
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema,
             schema);
    cq_test_must_exec(c, sql);
    cq_drv_disconnect(c);
    return 0;
}

int cq_test_pg_schema_teardown(void **state)
{
    (void)state;
    struct cq_err err = {0};
    struct cq_conn *c = cq_test_pg_connect("teardown", base_dsn, false, &err);
    if (c != NULL) {
        char sql[128];
        snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", schema);
        cq_test_must_exec(c, sql);
        cq_drv_disconnect(c);
    }
    return 0;
}

const char *cq_test_pg_base_dsn(void)
{
    return base_dsn;
}

const char *cq_test_pg_dsn(void)
{
    return test_dsn;
}

int cq_test_pg_setup(void **state)
{
    struct cq_test_pg_conns *cs = calloc(1, sizeof(*cs));
    cs->rw = cq_test_pg_open("rw", false);
    cs->ro = cq_test_pg_open("ro", true);
    *state = cs;
    return 0;
}

int cq_test_pg_teardown(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    cq_drv_disconnect(cs->rw);
    cq_drv_disconnect(cs->ro);
    free(cs);
    return 0;
}

#endif /* CQ_WITHOUT_PG */
