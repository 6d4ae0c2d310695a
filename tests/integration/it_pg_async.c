/*
 * it_pg_async.c - the PostgreSQL driver's prepared-statement cache and asynchronous
 * execution (cq_drv_exec_start/fd/step/wait) against a real server: the cache is used and
 * recovers from DEALLOCATE ALL and table changes, failed preparations report like the
 * unnamed statement, async runs deliver what cq_drv_exec delivers (types, caps, errors,
 * cancel), refuse what would block, and interleave on many connections in one poll loop.
 *
 * Each run works in its own schema it_pga_<pid> (dropped at the end).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/str.h"
#include "base/time.h"
#include "cqtest.h"
#include "drv/drv.h"

#ifdef CQ_WITHOUT_PG
int main(void)
{
    fprintf(stderr, "SKIP: built without the PostgreSQL driver\n");
    return 77;
}
#else

#include "drv/pg_int.h" /* white box: the cache's counters, the raw PGconn */

static char schema[64];     /* it_pga_<pid> */
static char base_dsn[512];  /* the fixture's DSN */
static char test_dsn[1024]; /* base_dsn + options: search_path and TimeZone=UTC */

/* ---- capture sink ------------------------------------------------------------------------ */

#define MAX_COLS 32

struct cval {
    enum cq_vkind kind;
    char *p; /* NUL-terminated copy; NULL for SQL NULL */
    size_t len;
};

struct cap {
    size_t n_cols;
    char *names[MAX_COLS];
    char *types[MAX_COLS];
    enum cq_vkind kinds[MAX_COLS];
    int n_columns_calls;
    size_t n_rows, cap_rows;
    struct cval *vals; /* n_rows * n_cols */
    bool ended;
    struct cq_result_info info;
    char command[128];
    int64_t fail_at_row; /* on_row returns CQ_EIO at this 1-based row; 0 = never */
    bool count_only;     /* do not keep values (memory test) */
};

static int cap_columns(void *ctx, size_t n, const struct cq_col *cols, struct cq_err *err)
{
    struct cap *k = ctx;
    (void)err;
    k->n_columns_calls++;
    k->n_cols = n;
    for (size_t i = 0; i < n && i < MAX_COLS; i++) {
        k->names[i] = strdup(cols[i].name);
        k->types[i] = strdup(cols[i].type);
        k->kinds[i] = cols[i].kind;
    }
    return CQ_OK;
}

static int cap_row(void *ctx, size_t n, const struct cq_value *vals, struct cq_err *err)
{
    struct cap *k = ctx;
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
        struct cval *v = &k->vals[k->n_rows * n + i];
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
    struct cap *k = ctx;
    (void)err;
    k->ended = true;
    k->info = *info;
    snprintf(k->command, sizeof(k->command), "%s", info->command ? info->command : "");
    k->info.command = k->command;
    return CQ_OK;
}

static void cap_free(struct cap *k)
{
    for (size_t i = 0; i < k->n_cols && i < MAX_COLS; i++) {
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

static const struct cval *V(const struct cap *k, size_t row, size_t col)
{
    assert_true(row < k->n_rows);
    assert_true(col < k->n_cols);
    return &k->vals[row * k->n_cols + col];
}

static struct cq_rowsink sink_of(struct cap *k)
{
    struct cq_rowsink s = {
        .ctx = k, .on_columns = cap_columns, .on_row = cap_row, .on_end = cap_end};
    return s;
}

/* ---- helpers ----------------------------------------------------------------------------- */

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static struct cq_conn *open_conn(const char *name, const char *target, bool ro, struct cq_err *err)
{
    struct cq_dsn dsn = {
        .name = name, .target = target, .read_only = ro, .connect_timeout_ms = 5000};
    const struct cq_driver *drv = cq_drv_find("postgresql");
    assert_ptr_equal(drv, &cq_drv_pg);
    return cq_drv_connect(drv, &dsn, err);
}

static struct cq_conn *must_open(const char *name, bool ro)
{
    struct cq_err err = {0};
    struct cq_conn *c = open_conn(name, test_dsn, ro, &err);
    if (c == NULL) {
        fail_msg("connect: %s", err.msg);
    }
    return c;
}

struct opts {
    const struct cq_param *params;
    size_t n_params;
    int64_t timeout_ms, max_rows, max_bytes;
    bool multi;
};

static int run_opts(struct cq_conn *c, const char *sql, const struct opts *o, struct cap *k,
                    struct cq_err *err)
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
    struct cq_rowsink s = sink_of(k);
    cq_err_clear(err);
    return cq_drv_exec(c, &st, &s, err);
}

static int run(struct cq_conn *c, const char *sql, struct cap *k, struct cq_err *err)
{
    return run_opts(c, sql, NULL, k, err);
}

/* Runs sql (several statements allowed) and expects success. */
static void must(struct cq_conn *c, const char *sql)
{
    struct cap k = {0};
    struct cq_err err = {0};
    struct opts o = {.multi = true};
    int rc = run_opts(c, sql, &o, &k, &err);
    if (rc != CQ_OK) {
        fail_msg("%s: %s", sql, err.msg);
    }
    assert_true(k.ended);
    cap_free(&k);
}

/* First value of the only row, as text ("NULL" for SQL NULL) into out. */
static void one(struct cq_conn *c, const char *sql, char *out, size_t size)
{
    struct cap k = {0};
    struct cq_err err = {0};
    if (run(c, sql, &k, &err) != CQ_OK) {
        fail_msg("%s: %s", sql, err.msg);
    }
    assert_int_equal(k.n_rows, 1);
    snprintf(out, size, "%s", V(&k, 0, 0)->p ? V(&k, 0, 0)->p : "NULL");
    cap_free(&k);
}

static long count_of(struct cq_conn *c, const char *sql)
{
    char v[64];
    one(c, sql, v, sizeof(v));
    return strtol(v, NULL, 10);
}

/* ---- async helpers ------------------------------------------------------------------------- */

static struct cq_stmt stmt_of(const char *sql, const struct opts *o)
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

/* Steps a started run to its end, waiting on the fd with poll(); counts the steps. */
static int drive(struct cq_conn *c, int *n_steps)
{
    for (;;) {
        int rc = cq_drv_exec_step(c);
        if (n_steps != NULL) {
            (*n_steps)++;
        }
        if (rc != CQ_EAGAIN) {
            return rc;
        }
        struct pollfd p = {.fd = cq_drv_exec_fd(c), .events = POLLIN};
        assert_true(p.fd >= 0);
        poll(&p, 1, 100); /* the timeout doubles as the timer step wants for deadlines */
    }
}

/* start + drive: the async twin of run_opts. */
static int run_async(struct cq_conn *c, const char *sql, const struct opts *o, struct cap *k,
                     struct cq_err *err)
{
    struct cq_stmt st = stmt_of(sql, o);
    struct cq_rowsink s = sink_of(k);
    cq_err_clear(err);
    int rc = cq_drv_exec_start(c, &st, &s, err);
    return rc != CQ_OK ? rc : drive(c, NULL);
}

static struct cq_drv_pg_cache *cache_of(struct cq_conn *c)
{
    return &((struct cq_drv_pg_conn *)c)->cache;
}

/* ---- fixture ----------------------------------------------------------------------------- */

struct conns {
    struct cq_conn *rw;
    struct cq_conn *ro;
};

static int setup(void **state)
{
    struct conns *cs = calloc(1, sizeof(*cs));
    cs->rw = must_open("rw", false);
    cs->ro = must_open("ro", true);
    *state = cs;
    return 0;
}

static int teardown(void **state)
{
    struct conns *cs = *state;
    cq_drv_disconnect(cs->rw);
    cq_drv_disconnect(cs->ro);
    free(cs);
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    const char *dsn = cq_test_require("CQ_IT_PG_DSN");
    snprintf(schema, sizeof(schema), "it_pga_%ld", (long)getpid());
    snprintf(base_dsn, sizeof(base_dsn), "%s", dsn);
    snprintf(test_dsn, sizeof(test_dsn), "%s%coptions=-csearch_path%%3D%s%%20-cTimeZone%%3DUTC",
             dsn, strchr(dsn, '?') ? '&' : '?', schema);
    struct cq_err err = {0};
    struct cq_conn *c = open_conn("setup", base_dsn, false, &err);
    if (c == NULL) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    char sql[256];
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema,
             schema);
    must(c, sql);
    cq_drv_disconnect(c);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    struct cq_err err = {0};
    struct cq_conn *c = open_conn("teardown", base_dsn, false, &err);
    if (c != NULL) {
        char sql[128];
        snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", schema);
        must(c, sql);
        cq_drv_disconnect(c);
    }
    return 0;
}

/* ---- the prepared-statement cache ------------------------------------------------------------ */

static const char *const Q_ADD = "SELECT $1::int + 1 AS n";

static void expect_add(struct cq_conn *c, const char *arg, const char *want)
{
    struct cq_param p = {.type = CQ_P_INT, .text = arg, .len = strlen(arg)};
    struct opts o = {.params = &p, .n_params = 1};
    struct cap k = {0};
    struct cq_err err = {0};
    int rc = run_opts(c, Q_ADD, &o, &k, &err);
    if (rc != CQ_OK) {
        fail_msg("%s: %s", Q_ADD, err.msg);
    }
    assert_int_equal(k.n_rows, 1);
    assert_string_equal(V(&k, 0, 0)->p, want);
    cap_free(&k);
}

static long prepared_count(struct cq_conn *c, const char *sql)
{
    char q[512];
    snprintf(q, sizeof(q), "SELECT count(*) FROM pg_prepared_statements WHERE statement = '%s'",
             sql);
    return count_of(c, q);
}

static void test_cache_used(void **state)
{
    struct conns *cs = *state;
    struct cq_drv_pg_cache *cache = cache_of(cs->rw);
    uint64_t p0 = cache->n_prepares, h0 = cache->n_hits;
    expect_add(cs->rw, "1", "2");
    assert_int_equal(cache->n_prepares, p0 + 1);
    expect_add(cs->rw, "41", "42");
    assert_int_equal(cache->n_prepares, p0 + 1); /* the second run did not prepare again */
    assert_int_equal(cache->n_hits, h0 + 1);
    /* the server holds exactly one statement for it, executed twice */
    assert_int_equal(prepared_count(cs->rw, Q_ADD), 1);
    char q[512];
    snprintf(q, sizeof(q),
             "SELECT generic_plans + custom_plans FROM pg_prepared_statements "
             "WHERE statement = '%s'",
             Q_ADD);
    assert_int_equal(count_of(cs->rw, q), 2);
    /* utility statements do not go through the cache */
    uint64_t p1 = cache->n_prepares;
    must(cs->rw, "CREATE TABLE cache_util (a int)");
    struct cap k = {0};
    struct cq_err err = {0};
    assert_int_equal(run(cs->rw, "DROP TABLE cache_util", &k, &err), CQ_OK);
    cap_free(&k);
    assert_int_equal(cache->n_prepares, p1);
    /* a read-only session prepares too */
    expect_add(cs->ro, "1", "2");
    expect_add(cs->ro, "2", "3");
    assert_int_equal(prepared_count(cs->ro, Q_ADD), 1);
}

static void test_cache_deallocate_all(void **state)
{
    struct conns *cs = *state;
    struct cq_drv_pg_cache *cache = cache_of(cs->rw);
    expect_add(cs->rw, "1", "2");
    expect_add(cs->rw, "2", "3");
    uint64_t p0 = cache->n_prepares;
    /* behind the driver's back (as a pooler or a function could): the next run meets
     * 26000 and recovers transparently */
    PGresult *res = PQexec(((struct cq_drv_pg_conn *)cs->rw)->pg, "DEALLOCATE ALL");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    expect_add(cs->rw, "3", "4");
    assert_int_equal(cache->n_prepares, p0 + 1);
    expect_add(cs->rw, "4", "5");
    assert_int_equal(cache->n_prepares, p0 + 1);
    assert_int_equal(prepared_count(cs->rw, Q_ADD), 1);
    /* through the driver: the tag empties the cache, no error round trip needed */
    must(cs->rw, "DEALLOCATE ALL");
    assert_int_equal(count_of(cs->rw, "SELECT count(*) FROM pg_prepared_statements"), 1);
    expect_add(cs->rw, "5", "6");
    must(cs->rw, "DISCARD ALL");
    expect_add(cs->rw, "6", "7");
    assert_int_equal(prepared_count(cs->rw, Q_ADD), 1);
}

static void test_cache_result_type_change(void **state)
{
    struct conns *cs = *state;
    struct cap k = {0};
    struct cq_err err = {0};
    must(cs->rw, "DROP TABLE IF EXISTS rtc; CREATE TABLE rtc (a int); INSERT INTO rtc VALUES (1)");
    for (int i = 0; i < 2; i++) {
        assert_int_equal(run(cs->rw, "SELECT * FROM rtc", &k, &err), CQ_OK);
        assert_int_equal(k.n_cols, 1);
        cap_free(&k);
    }
    uint64_t p0 = cache_of(cs->rw)->n_prepares;
    must(cs->rw, "ALTER TABLE rtc ADD COLUMN b text DEFAULT 'x'");
    int rc = run(cs->rw, "SELECT * FROM rtc", &k, &err);
    if (rc != CQ_OK) {
        fail_msg("after ALTER TABLE: %s", err.msg);
    }
    assert_int_equal(k.n_columns_calls, 1);
    assert_int_equal(k.n_cols, 2);
    assert_string_equal(k.names[1], "b");
    assert_string_equal(V(&k, 0, 1)->p, "x");
    cap_free(&k);
    assert_int_equal(cache_of(cs->rw)->n_prepares, p0 + 1);
    assert_int_equal(prepared_count(cs->rw, "SELECT * FROM rtc"), 1);
    /* the same recovery in an async run */
    must(cs->rw, "ALTER TABLE rtc DROP COLUMN a");
    assert_int_equal(run_async(cs->rw, "SELECT * FROM rtc", NULL, &k, &err), CQ_OK);
    assert_int_equal(k.n_cols, 1);
    assert_string_equal(k.names[0], "b");
    cap_free(&k);
}

static void test_cache_eviction(void **state)
{
    struct conns *cs = *state;
    char sql[64], v[64];
    for (int i = 0; i < CQ_PG_CACHE_MAX + 10; i++) {
        snprintf(sql, sizeof(sql), "SELECT %d AS evict_n", i);
        one(cs->ro, sql, v, sizeof(v));
        assert_int_equal(atoi(v), i);
    }
    long n = count_of(cs->ro, "SELECT count(*) FROM pg_prepared_statements");
    assert_true(n <= CQ_PG_CACHE_MAX);
    assert_true(n >= CQ_PG_CACHE_MAX - 1);
    /* the most recent ones are still cached, the first ones were evicted */
    assert_int_equal(prepared_count(cs->ro, "SELECT 0 AS evict_n"), 0);
    uint64_t p0 = cache_of(cs->ro)->n_prepares;
    snprintf(sql, sizeof(sql), "SELECT %d AS evict_n", CQ_PG_CACHE_MAX + 9);
    one(cs->ro, sql, v, sizeof(v));
    assert_int_equal(cache_of(cs->ro)->n_prepares, p0);
}

/* A failed preparation reports exactly what the unnamed statement reported. */
static void test_cache_prepare_errors(void **state)
{
    struct conns *cs = *state;
    struct cap k = {0};
    struct cq_err err = {0};
    assert_int_equal(run(cs->rw, "SELECT nope FROM nowhere_at_all", &k, &err), CQ_EBACKEND);
    assert_string_equal(err.backend_code, "42P01");
    assert_string_equal(err.msg, "connection 'rw': ERROR: relation \"nowhere_at_all\" does not "
                                 "exist at character 18");
    cap_free(&k);
    assert_int_equal(run(cs->rw, "SELECT 1 +", &k, &err), CQ_EBACKEND);
    assert_string_equal(err.backend_code, "42601");
    assert_string_equal(err.msg, "connection 'rw': ERROR: syntax error at end of input at "
                                 "character 11");
    assert_false(k.ended);
    cap_free(&k);
    /* nothing was cached for them, and the session is fine */
    assert_int_equal(prepared_count(cs->rw, "SELECT 1 +"), 0);
    expect_add(cs->rw, "1", "2");
    assert_false(cs->rw->broken);
}

/* ---- async ------------------------------------------------------------------------------- */

static const char *const Q_TYPES =
    "SELECT g AS i, g::int8 * 1000000000 AS big, (g * 1.25)::numeric(10,2) AS num,"
    " g::float8 / 3 AS f, g % 2 = 0 AS b, 'row ' || g AS t, NULL::text AS z,"
    " DATE '2024-01-02' + g AS d, TIMESTAMP '2024-01-02 03:04:05' + g * INTERVAL '1 h' AS ts,"
    " TIMESTAMPTZ '2024-01-02 03:04:05+00' AS tz, jsonb_build_object('g', g) AS j,"
    " ARRAY[g, g + 1] AS a, '\\x0102'::bytea AS by, gen_random_uuid() IS NOT NULL AS u"
    " FROM generate_series(1, 50) g";

static void same_result(const struct cap *a, const struct cap *b)
{
    assert_int_equal(a->n_columns_calls, 1);
    assert_int_equal(b->n_columns_calls, 1);
    assert_int_equal(a->n_cols, b->n_cols);
    for (size_t i = 0; i < a->n_cols; i++) {
        assert_string_equal(a->names[i], b->names[i]);
        assert_string_equal(a->types[i], b->types[i]);
        assert_int_equal(a->kinds[i], b->kinds[i]);
    }
    assert_int_equal(a->n_rows, b->n_rows);
    for (size_t r = 0; r < a->n_rows; r++) {
        for (size_t i = 0; i < a->n_cols; i++) {
            const struct cval *x = V(a, r, i), *y = V(b, r, i);
            assert_int_equal(x->kind, y->kind);
            assert_int_equal(x->len, y->len);
            if (x->p != NULL) {
                assert_memory_equal(x->p, y->p, x->len);
            }
        }
    }
    assert_true(a->ended && b->ended);
    assert_int_equal(a->info.row_count, b->info.row_count);
    assert_int_equal(a->info.rows_affected, b->info.rows_affected);
    assert_int_equal(a->info.truncated, b->info.truncated);
    assert_string_equal(a->command, b->command);
}

static void test_async_types(void **state)
{
    struct conns *cs = *state;
    struct cap sync = {0}, as = {0};
    struct cq_err err = {0};
    assert_int_equal(run(cs->ro, Q_TYPES, &sync, &err), CQ_OK);
    assert_int_equal(sync.n_rows, 50);
    int n_steps = 0;
    struct cq_stmt st = stmt_of(Q_TYPES, NULL);
    struct cq_rowsink s = sink_of(&as);
    int64_t t0 = cq_now_us();
    assert_int_equal(cq_drv_exec_start(cs->ro, &st, &s, &err), CQ_OK);
    assert_true(cq_now_us() - t0 < 100000);
    assert_int_equal(drive(cs->ro, &n_steps), CQ_OK);
    same_result(&sync, &as);
    assert_string_equal(as.command, "SELECT 50");
    cap_free(&sync);
    cap_free(&as);
    /* a DML statement: tags and affected rows as with cq_drv_exec */
    must(cs->rw, "DROP TABLE IF EXISTS at; CREATE TABLE at (a int)");
    struct cq_param p = {.type = CQ_P_INT, .text = "7", .len = 1};
    struct opts o = {.params = &p, .n_params = 1};
    assert_int_equal(
        run_async(cs->rw, "INSERT INTO at SELECT generate_series(1, $1::int)", &o, &as, &err),
        CQ_OK);
    assert_string_equal(as.command, "INSERT 0 7");
    assert_int_equal(as.info.rows_affected, 7);
    assert_int_equal(as.n_cols, 0);
    assert_true(as.ended);
    cap_free(&as);
    assert_int_equal(count_of(cs->rw, "SELECT count(*) FROM at"), 7);
}

static void test_async_large_capped(void **state)
{
    struct conns *cs = *state;
    struct cap k = {.count_only = true};
    struct cq_err err = {0};
    struct opts o = {.max_rows = 1000};
    int n_steps = 0;
    const char *sql = "SELECT g, md5(g::text) FROM generate_series(1, 100000) g";
    struct cq_stmt st = stmt_of(sql, &o);
    struct cq_rowsink s = sink_of(&k);
    assert_int_equal(cq_drv_exec_start(cs->ro, &st, &s, &err), CQ_OK);
    assert_int_equal(drive(cs->ro, &n_steps), CQ_OK);
    assert_int_equal(k.n_rows, 1000);
    assert_true(k.info.truncated);
    assert_string_equal(k.info.truncated_reason, "max_rows");
    assert_int_equal(k.info.row_count, 1000);
    cap_free(&k);
    /* the whole result, uncapped, in many steps */
    k = (struct cap){.count_only = true};
    n_steps = 0;
    o.max_rows = 0;
    st = stmt_of(sql, &o);
    assert_int_equal(cq_drv_exec_start(cs->ro, &st, &s, &err), CQ_OK);
    assert_int_equal(drive(cs->ro, &n_steps), CQ_OK);
    assert_int_equal(k.n_rows, 100000);
    assert_false(k.info.truncated);
    assert_true(n_steps > 2);
    cap_free(&k);
    char v[32];
    one(cs->ro, "SELECT 'again'", v, sizeof(v));
    assert_string_equal(v, "again");
}

static void test_async_sql_error(void **state)
{
    struct conns *cs = *state;
    struct cap k = {0}, sk = {0};
    struct cq_err err = {0}, serr = {0};
    const char *bad[] = {"SELECT 1/0 AS x", "SELECT nope FROM nowhere_at_all", "SELEC 1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int src = run(cs->rw, bad[i], &sk, &serr);
        int arc = run_async(cs->rw, bad[i], NULL, &k, &err);
        assert_int_equal(arc, CQ_EBACKEND);
        assert_int_equal(arc, src);
        assert_string_equal(err.msg, serr.msg);
        assert_string_equal(err.backend_code, serr.backend_code);
        assert_false(k.ended);
        cap_free(&k);
        cap_free(&sk);
    }
    /* errors found before sending come from start itself */
    struct cq_param p = {.type = CQ_P_INT, .text = "1", .len = 1};
    struct opts o = {.params = &p, .n_params = 1};
    assert_int_equal(run_async(cs->rw, "SELECT 1", &o, &k, &err), CQ_EINVAL);
    cap_free(&k);
    /* transaction control cannot span calls, async or not */
    assert_int_equal(run_async(cs->rw, "BEGIN", NULL, &k, &err), CQ_EINVAL);
    assert_int_equal(PQtransactionStatus(((struct cq_drv_pg_conn *)cs->rw)->pg), PQTRANS_IDLE);
    cap_free(&k);
    assert_int_equal(run_async(cs->ro, "CREATE TABLE ro_no (a int)", NULL, &k, &err), CQ_EREADONLY);
    cap_free(&k);
    expect_add(cs->rw, "1", "2");
    expect_add(cs->ro, "1", "2");
}

static void test_async_unsupported(void **state)
{
    struct conns *cs = *state;
    struct cap k = {0};
    struct cq_err err = {0};
    struct opts o = {.multi = true};
    struct cq_stmt st = stmt_of("SELECT 1", &o);
    struct cq_rowsink s = sink_of(&k);
    assert_int_equal(cq_drv_exec_start(cs->rw, &st, &s, &err), CQ_EUNSUPPORTED);
    assert_int_equal(err.rc, CQ_OK); /* nothing touched */
    assert_int_equal(k.n_columns_calls, 0);
    /* a timeout other than the session's would need a SET round trip first */
    o = (struct opts){.timeout_ms = 4321};
    st = stmt_of("SELECT 1", &o);
    assert_int_equal(cq_drv_exec_start(cs->rw, &st, &s, &err), CQ_EUNSUPPORTED);
    assert_int_equal(err.rc, CQ_OK);
    /* ... once set by a blocking run, async runs with that timeout are fine */
    assert_int_equal(run_opts(cs->rw, "SELECT 1", &o, &k, &err), CQ_OK);
    cap_free(&k);
    assert_int_equal(run_async(cs->rw, "SELECT 2", &o, &k, &err), CQ_OK);
    assert_int_equal(k.n_rows, 1);
    cap_free(&k);
    /* and without a timeout the session needs a RESET first */
    o.timeout_ms = 0;
    st = stmt_of("SELECT 1", &o);
    assert_int_equal(cq_drv_exec_start(cs->rw, &st, &s, &err), CQ_EUNSUPPORTED);
    expect_add(cs->rw, "1", "2");
    assert_int_equal(run_async(cs->rw, "SELECT 3", NULL, &k, &err), CQ_OK);
    cap_free(&k);
    /* a driver without CQ_CAP_ASYNC */
    struct cq_dsn dsn = {.name = "lite", .target = ":memory:"};
    const struct cq_driver *lite = cq_drv_find("sqlite");
    if (lite != NULL) {
        struct cq_conn *c = cq_drv_connect(lite, &dsn, &err);
        assert_non_null(c);
        assert_int_equal(cq_drv_exec_start(c, &st, &s, &err), CQ_EUNSUPPORTED);
        assert_int_equal(cq_drv_exec_step(c), CQ_EUNSUPPORTED);
        assert_int_equal(cq_drv_exec_fd(c), -1);
        assert_int_equal(run(c, "SELECT 1", &k, &err), CQ_OK);
        cap_free(&k);
        cq_drv_disconnect(c);
    }
}

struct canceler {
    struct cq_conn *c;
    long after_ms;
};

static void *cancel_later(void *arg)
{
    struct canceler *cc = arg;
    struct cq_err err = {0};
    sleep_ms(cc->after_ms);
    cq_drv_cancel(cc->c, &err);
    return NULL;
}

static void test_async_cancel(void **state)
{
    struct conns *cs = *state;
    struct cap k = {0}, sk = {0};
    struct cq_err err = {0}, serr = {0};
    struct canceler cc = {.c = cs->rw, .after_ms = 300};
    pthread_t t;
    /* what cq_drv_exec answers for a cancel */
    assert_int_equal(pthread_create(&t, NULL, cancel_later, &cc), 0);
    int src = run(cs->rw, "SELECT pg_sleep(10)", &sk, &serr);
    pthread_join(t, NULL);
    assert_int_equal(src, CQ_ECANCELED);
    cap_free(&sk);
    /* the same, async */
    int64_t t0 = cq_now_ms();
    assert_int_equal(pthread_create(&t, NULL, cancel_later, &cc), 0);
    int arc = run_async(cs->rw, "SELECT pg_sleep(10)", NULL, &k, &err);
    pthread_join(t, NULL);
    assert_int_equal(arc, src);
    assert_string_equal(err.msg, serr.msg);
    assert_string_equal(err.backend_code, "57014");
    assert_true(cq_now_ms() - t0 < 5000);
    assert_false(k.ended);
    cap_free(&k);
    assert_false(cs->rw->broken);
    expect_add(cs->rw, "1", "2");
}

static void test_async_then_wait(void **state)
{
    struct conns *cs = *state;
    struct cap k = {0};
    struct cq_err err = {0};
    struct cq_stmt st =
        stmt_of("SELECT g, pg_sleep(0.05) IS NULL AS s FROM generate_series(1, 3) g", NULL);
    struct cq_rowsink s = sink_of(&k);
    assert_int_equal(cq_drv_exec_start(cs->rw, &st, &s, &err), CQ_OK);
    assert_int_equal(cq_drv_exec_step(cs->rw), CQ_EAGAIN); /* nothing arrived yet */
    assert_int_equal(cq_drv_exec_wait(cs->rw), CQ_OK);
    assert_int_equal(k.n_rows, 3);
    assert_true(k.ended);
    cap_free(&k);
    /* the blocking wait keeps the client-side deadline */
    struct opts o = {.timeout_ms = 300};
    assert_int_equal(run_opts(cs->rw, "SELECT 1", &o, &k, &err), CQ_OK); /* SETs it */
    cap_free(&k);
    st = stmt_of("SELECT pg_sleep(5)", &o);
    assert_int_equal(cq_drv_exec_start(cs->rw, &st, &s, &err), CQ_OK);
    assert_int_equal(cq_drv_exec_wait(cs->rw), CQ_ETIMEOUT);
    cap_free(&k);
    expect_add(cs->rw, "1", "2");
}

#define N_CONNS 16

static void test_async_many(void **state)
{
    (void)state;
    struct cq_conn *c[N_CONNS];
    struct cap k[N_CONNS];
    struct cq_err err[N_CONNS];
    struct cq_stmt st[N_CONNS];
    struct cq_rowsink s[N_CONNS];
    struct cq_param p[N_CONNS];
    char n[N_CONNS][16];
    char name[16];
    for (int i = 0; i < N_CONNS; i++) {
        snprintf(name, sizeof(name), "c%d", i);
        c[i] = must_open(name, i % 2 == 1);
    }
    for (int round = 0; round < 3; round++) {
        bool done[N_CONNS] = {false};
        int left = N_CONNS;
        for (int i = 0; i < N_CONNS; i++) {
            snprintf(n[i], sizeof(n[i]), "%d", 1000 * (i + 1) + round);
            p[i] = (struct cq_param){.type = CQ_P_INT, .text = n[i], .len = strlen(n[i])};
            st[i] = (struct cq_stmt){
                .sql = "SELECT g, pg_sleep(0.001 * (g % 1000 = 0)::int) IS NULL AS s "
                       "FROM generate_series(1, $1::int) g",
                .params = &p[i],
                .n_params = 1};
            k[i] = (struct cap){.count_only = true};
            s[i] = sink_of(&k[i]);
            cq_err_clear(&err[i]);
            assert_int_equal(cq_drv_exec_start(c[i], &st[i], &s[i], &err[i]), CQ_OK);
        }
        while (left > 0) {
            struct pollfd pfd[N_CONNS];
            int idx[N_CONNS], np = 0;
            for (int i = 0; i < N_CONNS; i++) {
                if (!done[i]) {
                    pfd[np] = (struct pollfd){.fd = cq_drv_exec_fd(c[i]), .events = POLLIN};
                    idx[np++] = i;
                }
            }
            assert_true(poll(pfd, (nfds_t)np, 5000) > 0);
            for (int j = 0; j < np; j++) {
                if (pfd[j].revents == 0) {
                    continue;
                }
                int i = idx[j];
                int rc = cq_drv_exec_step(c[i]);
                if (rc == CQ_EAGAIN) {
                    continue;
                }
                if (rc != CQ_OK) {
                    fail_msg("conn %d: %s", i, err[i].msg);
                }
                assert_int_equal(k[i].n_rows, (size_t)(1000 * (i + 1) + round));
                assert_true(k[i].ended);
                done[i] = true;
                left--;
            }
        }
        for (int i = 0; i < N_CONNS; i++) {
            cap_free(&k[i]);
        }
    }
    for (int i = 0; i < N_CONNS; i++) {
        expect_add(c[i], "1", "2"); /* reusable, blocking */
        assert_false(c[i]->broken);
        cq_drv_disconnect(c[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cache_used, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_deallocate_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_result_type_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_eviction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_prepare_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_large_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_sql_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_unsupported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_then_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_many, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

#endif /* CQ_WITHOUT_PG */
