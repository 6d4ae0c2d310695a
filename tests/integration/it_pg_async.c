/*
 * it_pg_async.c - the PostgreSQL driver's prepared-statement cache and pipelined
 * asynchronous execution (cq_drv_exec_start/fd/step/wait/cancel) against a real server: the
 * cache is used and recovers from DEALLOCATE ALL and table changes, failed preparations
 * report like the unnamed statement, ops deliver what cq_drv_exec delivers (types, caps,
 * errors, cancel), refuse what would block, interleave on many connections in one poll
 * loop, and pipeline on one connection (errors, big and capped results, cancels, stale
 * statements, lost connections, each op exactly its own result, in order).
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
#include "pgcap.h"

#ifdef CQ_WITHOUT_PG
int main(void)
{
    fprintf(stderr, "SKIP: built without the PostgreSQL driver\n");
    return 77;
}
#else

#include "drv/pg_int.h" /* white box: the cache's counters, the raw PGconn */

/* ---- async helpers ------------------------------------------------------------------------- */

/* One asynchronous statement with everything it points at (must not move once started). */
struct aop {
    struct cq_drv_op op;
    struct cq_stmt st;
    struct cq_rowsink s;
    struct cq_test_cap k;
    struct cq_err err;
    struct cq_param p;
    char arg[32];
    int rc;
    int n_done; /* done calls: exactly one */
    int order;  /* completion order (done_seq) */
};

static int done_seq;

static void aop_done(struct cq_drv_op *op, int rc)
{
    struct aop *a = op->ctx;
    a->n_done++;
    a->rc = rc;
    a->order = done_seq++;
}

/* Starts sql with an optional integer parameter (arg != NULL). */
static int aop_start(struct cq_conn *c, struct aop *a, const char *sql, const char *arg,
                     const struct cq_test_exec_opts *o)
{
    struct cq_test_exec_opts mine = o != NULL ? *o : (struct cq_test_exec_opts){0};
    if (arg != NULL) {
        snprintf(a->arg, sizeof(a->arg), "%s", arg);
        a->p = (struct cq_param){.type = CQ_P_INT, .text = a->arg, .len = strlen(a->arg)};
        mine.params = &a->p;
        mine.n_params = 1;
    }
    a->st = cq_test_stmt(sql, &mine);
    a->s = cq_test_cap_sink(&a->k);
    cq_err_clear(&a->err);
    a->rc = -1000;
    a->n_done = 0;
    a->op =
        (struct cq_drv_op){.st = &a->st, .out = &a->s, .err = &a->err, .done = aop_done, .ctx = a};
    return cq_drv_exec_start(c, &a->op);
}

/* Steps c until its queue is empty, waiting on the fd with poll(); counts the steps. */
static void drive(struct cq_conn *c, int *n_steps)
{
    for (;;) {
        int n = cq_drv_exec_step(c);
        if (n_steps != NULL) {
            (*n_steps)++;
        }
        if (n == 0) {
            return;
        }
        struct pollfd p = {.fd = cq_drv_exec_fd(c), .events = POLLIN};
        assert_true(p.fd >= 0);
        poll(&p, 1, 100); /* the timeout doubles as the timer step wants for deadlines */
    }
}

/* start + drive: the async twin of cq_test_exec_opts (k and err receive the results). */
static int run_async(struct cq_conn *c, const char *sql, const struct cq_test_exec_opts *o,
                     struct cq_test_cap *k, struct cq_err *err)
{
    struct aop *a = calloc(1, sizeof(*a));
    int rc = aop_start(c, a, sql, NULL, o);
    if (rc == CQ_OK) {
        drive(c, NULL);
        assert_int_equal(a->n_done, 1);
        rc = a->rc;
    } else {
        assert_int_equal(a->n_done, 0);
    }
    *k = a->k;
    *err = a->err;
    free(a);
    return rc;
}

static struct cq_drv_pg_conn *pg_of(struct cq_conn *c)
{
    return (struct cq_drv_pg_conn *)c;
}

static struct cq_drv_pg_cache *cache_of(struct cq_conn *c)
{
    return &pg_of(c)->cache;
}

/* The connection is idle: nothing queued, out of pipeline mode, outside a transaction. */
static void assert_idle(struct cq_conn *c)
{
    assert_int_equal(cq_drv_exec_queued(c), 0);
    assert_int_equal(cq_drv_exec_busy_ms(c), 0);
    assert_int_equal(PQpipelineStatus(pg_of(c)->pg), PQ_PIPELINE_OFF);
    assert_int_equal(PQtransactionStatus(pg_of(c)->pg), PQTRANS_IDLE);
    assert_false(c->broken);
}

/* ---- fixture ----------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    return cq_test_pg_schema_setup("it_pga");
}

/* ---- the prepared-statement cache ------------------------------------------------------------ */

static const char *const Q_ADD = "SELECT $1::int + 1 AS n";

static void expect_add(struct cq_conn *c, const char *arg, const char *want)
{
    struct cq_param p = {.type = CQ_P_INT, .text = arg, .len = strlen(arg)};
    struct cq_test_exec_opts o = {.params = &p, .n_params = 1};
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    int rc = cq_test_exec_opts(c, Q_ADD, &o, &k, &err);
    if (rc != CQ_OK) {
        fail_msg("%s: %s", Q_ADD, err.msg);
    }
    assert_int_equal(k.n_rows, 1);
    assert_string_equal(cq_test_cap_value(&k, 0, 0)->p, want);
    cq_test_cap_free(&k);
}

/* After an async test: c still runs a blocking statement (Q_ADD), then is idle. */
static void assert_reusable(struct cq_conn *c)
{
    expect_add(c, "1", "2");
    assert_idle(c);
}

static long prepared_count(struct cq_conn *c, const char *sql)
{
    char q[512];
    snprintf(q, sizeof(q), "SELECT count(*) FROM pg_prepared_statements WHERE statement = '%s'",
             sql);
    return cq_test_scalar_long(c, q);
}

static void test_cache_used(void **state)
{
    struct cq_test_pg_conns *cs = *state;
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
    assert_int_equal(cq_test_scalar_long(cs->rw, q), 2);
    /* utility statements do not go through the cache */
    uint64_t p1 = cache->n_prepares;
    cq_test_must_exec(cs->rw, "CREATE TABLE cache_util (a int)");
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    assert_int_equal(cq_test_exec(cs->rw, "DROP TABLE cache_util", &k, &err), CQ_OK);
    cq_test_cap_free(&k);
    assert_int_equal(cache->n_prepares, p1);
    /* a read-only session prepares too */
    expect_add(cs->ro, "1", "2");
    expect_add(cs->ro, "2", "3");
    assert_int_equal(prepared_count(cs->ro, Q_ADD), 1);
}

static void test_cache_deallocate_all(void **state)
{
    struct cq_test_pg_conns *cs = *state;
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
    cq_test_must_exec(cs->rw, "DEALLOCATE ALL");
    assert_int_equal(cq_test_scalar_long(cs->rw, "SELECT count(*) FROM pg_prepared_statements"), 1);
    expect_add(cs->rw, "5", "6");
    cq_test_must_exec(cs->rw, "DISCARD ALL");
    expect_add(cs->rw, "6", "7");
    assert_int_equal(prepared_count(cs->rw, Q_ADD), 1);
}

static void test_cache_result_type_change(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    cq_test_must_exec(
        cs->rw, "DROP TABLE IF EXISTS rtc; CREATE TABLE rtc (a int); INSERT INTO rtc VALUES (1)");
    for (int i = 0; i < 2; i++) {
        assert_int_equal(cq_test_exec(cs->rw, "SELECT * FROM rtc", &k, &err), CQ_OK);
        assert_int_equal(k.n_cols, 1);
        cq_test_cap_free(&k);
    }
    uint64_t p0 = cache_of(cs->rw)->n_prepares;
    cq_test_must_exec(cs->rw, "ALTER TABLE rtc ADD COLUMN b text DEFAULT 'x'");
    int rc = cq_test_exec(cs->rw, "SELECT * FROM rtc", &k, &err);
    if (rc != CQ_OK) {
        fail_msg("after ALTER TABLE: %s", err.msg);
    }
    assert_int_equal(k.n_columns_calls, 1);
    assert_int_equal(k.n_cols, 2);
    assert_string_equal(k.names[1], "b");
    assert_string_equal(cq_test_cap_value(&k, 0, 1)->p, "x");
    cq_test_cap_free(&k);
    assert_int_equal(cache_of(cs->rw)->n_prepares, p0 + 1);
    assert_int_equal(prepared_count(cs->rw, "SELECT * FROM rtc"), 1);
    /* the same recovery in an async run */
    cq_test_must_exec(cs->rw, "ALTER TABLE rtc DROP COLUMN a");
    assert_int_equal(run_async(cs->rw, "SELECT * FROM rtc", NULL, &k, &err), CQ_OK);
    assert_int_equal(k.n_cols, 1);
    assert_string_equal(k.names[0], "b");
    cq_test_cap_free(&k);
}

static void test_cache_eviction(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    char sql[64], v[64];
    for (int i = 0; i < CQ_PG_CACHE_MAX + 10; i++) {
        snprintf(sql, sizeof(sql), "SELECT %d AS evict_n", i);
        cq_test_scalar(cs->ro, sql, v, sizeof(v));
        assert_int_equal(atoi(v), i);
    }
    long n = cq_test_scalar_long(cs->ro, "SELECT count(*) FROM pg_prepared_statements");
    assert_true(n <= CQ_PG_CACHE_MAX);
    assert_true(n >= CQ_PG_CACHE_MAX - 1);
    /* the most recent ones are still cached, the first ones were evicted */
    assert_int_equal(prepared_count(cs->ro, "SELECT 0 AS evict_n"), 0);
    uint64_t p0 = cache_of(cs->ro)->n_prepares;
    snprintf(sql, sizeof(sql), "SELECT %d AS evict_n", CQ_PG_CACHE_MAX + 9);
    cq_test_scalar(cs->ro, sql, v, sizeof(v));
    assert_int_equal(cache_of(cs->ro)->n_prepares, p0);
}

/* A failed preparation reports exactly what the unnamed statement reported. */
static void test_cache_prepare_errors(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    assert_int_equal(cq_test_exec(cs->rw, "SELECT nope FROM nowhere_at_all", &k, &err),
                     CQ_EBACKEND);
    assert_string_equal(err.backend_code, "42P01");
    assert_string_equal(err.msg, "connection 'rw': ERROR: relation \"nowhere_at_all\" does not "
                                 "exist at character 18");
    cq_test_cap_free(&k);
    assert_int_equal(cq_test_exec(cs->rw, "SELECT 1 +", &k, &err), CQ_EBACKEND);
    assert_string_equal(err.backend_code, "42601");
    assert_string_equal(err.msg, "connection 'rw': ERROR: syntax error at end of input at "
                                 "character 11");
    assert_false(k.ended);
    cq_test_cap_free(&k);
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

static void same_result(const struct cq_test_cap *a, const struct cq_test_cap *b)
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
            const struct cq_test_cval *x = cq_test_cap_value(a, r, i),
                                      *y = cq_test_cap_value(b, r, i);
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
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap sync = {0}, as = {0};
    struct cq_err err = {0};
    assert_int_equal(cq_test_exec(cs->ro, Q_TYPES, &sync, &err), CQ_OK);
    assert_int_equal(sync.n_rows, 50);
    int n_steps = 0;
    struct aop *a = calloc(1, sizeof(*a));
    int64_t t0 = cq_now_us();
    assert_int_equal(aop_start(cs->ro, a, Q_TYPES, NULL, NULL), CQ_OK);
    assert_true(cq_now_us() - t0 < 100000);
    assert_int_equal(cq_drv_exec_queued(cs->ro), 1);
    drive(cs->ro, &n_steps);
    assert_int_equal(a->n_done, 1);
    assert_int_equal(a->rc, CQ_OK);
    same_result(&sync, &a->k);
    assert_string_equal(a->k.command, "SELECT 50");
    cq_test_cap_free(&sync);
    cq_test_cap_free(&a->k);
    free(a);
    assert_idle(cs->ro);
    /* a DML statement: tags and affected rows as with cq_drv_exec */
    cq_test_must_exec(cs->rw, "DROP TABLE IF EXISTS at; CREATE TABLE at (a int)");
    struct cq_param p = {.type = CQ_P_INT, .text = "7", .len = 1};
    struct cq_test_exec_opts o = {.params = &p, .n_params = 1};
    assert_int_equal(
        run_async(cs->rw, "INSERT INTO at SELECT generate_series(1, $1::int)", &o, &as, &err),
        CQ_OK);
    assert_string_equal(as.command, "INSERT 0 7");
    assert_int_equal(as.info.rows_affected, 7);
    assert_int_equal(as.n_cols, 0);
    assert_true(as.ended);
    cq_test_cap_free(&as);
    assert_int_equal(cq_test_scalar_long(cs->rw, "SELECT count(*) FROM at"), 7);
}

static void test_async_large_capped(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {.count_only = true};
    struct cq_err err = {0};
    struct cq_test_exec_opts o = {.max_rows = 1000};
    int n_steps = 0;
    const char *sql = "SELECT g, md5(g::text) FROM generate_series(1, 100000) g";
    struct aop *a = calloc(1, sizeof(*a));
    a->k.count_only = true;
    assert_int_equal(aop_start(cs->ro, a, sql, NULL, &o), CQ_OK);
    drive(cs->ro, &n_steps);
    assert_int_equal(a->rc, CQ_OK);
    assert_int_equal(a->k.n_rows, 1000);
    assert_true(a->k.info.truncated);
    assert_string_equal(a->k.info.truncated_reason, "max_rows");
    assert_int_equal(a->k.info.row_count, 1000);
    cq_test_cap_free(&a->k);
    /* the whole result, uncapped, in many steps, streamed (single-row mode) */
    memset(a, 0, sizeof(*a));
    a->k.count_only = true;
    n_steps = 0;
    o.max_rows = 0;
    uint64_t refused = pg_of(cs->ro)->n_single_refused;
    assert_int_equal(aop_start(cs->ro, a, sql, NULL, &o), CQ_OK);
    drive(cs->ro, &n_steps);
    assert_int_equal(a->rc, CQ_OK);
    assert_int_equal(a->k.n_rows, 100000);
    assert_false(a->k.info.truncated);
    assert_true(n_steps > 2);
    assert_int_equal(pg_of(cs->ro)->n_single_refused, refused);
    cq_test_cap_free(&a->k);
    free(a);
    (void)k;
    (void)err;
    char v[32];
    cq_test_scalar(cs->ro, "SELECT 'again'", v, sizeof(v));
    assert_string_equal(v, "again");
}

static void test_async_sql_error(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0}, sk = {0};
    struct cq_err err = {0}, serr = {0};
    const char *bad[] = {"SELECT 1/0 AS x", "SELECT nope FROM nowhere_at_all", "SELEC 1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int src = cq_test_exec(cs->rw, bad[i], &sk, &serr);
        int arc = run_async(cs->rw, bad[i], NULL, &k, &err);
        if (i == 2) {
            /* not a statement the cache takes (first word unknown): not pipelined */
            assert_int_equal(arc, CQ_EUNSUPPORTED);
            cq_test_cap_free(&sk);
            continue;
        }
        assert_int_equal(arc, CQ_EBACKEND);
        assert_int_equal(arc, src);
        assert_string_equal(err.msg, serr.msg);
        assert_string_equal(err.backend_code, serr.backend_code);
        assert_false(k.ended);
        cq_test_cap_free(&k);
        cq_test_cap_free(&sk);
    }
    /* errors found before sending come from start itself (done is not called) */
    struct cq_param p = {.type = CQ_P_INT, .text = "1", .len = 1};
    struct cq_test_exec_opts o = {.params = &p, .n_params = 1};
    assert_int_equal(run_async(cs->rw, "SELECT 1", &o, &k, &err), CQ_EINVAL);
    assert_int_equal(cq_drv_exec_queued(cs->rw), 0);
    cq_test_cap_free(&k);
    assert_reusable(cs->rw);
    expect_add(cs->ro, "1", "2");
}

static void test_async_unsupported(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    struct aop *a = calloc(1, sizeof(*a));
    struct cq_test_exec_opts o = {.multi = true};
    assert_int_equal(aop_start(cs->rw, a, "SELECT 1", NULL, &o), CQ_EUNSUPPORTED);
    assert_int_equal(a->err.rc, CQ_OK); /* nothing touched */
    assert_int_equal(a->k.n_columns_calls, 0);
    /* several statements, statements the cache does not take */
    const char *no[] = {"SELECT 1; SELECT 2",
                        "BEGIN",
                        "SET work_mem = '8MB'",
                        "CREATE TABLE async_no (a int)",
                        "COPY (SELECT 1) TO STDOUT",
                        "DEALLOCATE ALL",
                        "SHOW work_mem"};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        assert_int_equal(aop_start(cs->rw, a, no[i], NULL, NULL), CQ_EUNSUPPORTED);
        assert_int_equal(a->err.rc, CQ_OK);
        assert_int_equal(cq_drv_exec_queued(cs->rw), 0);
    }
    /* a read-only session: what could lift read-only for the ops behind it */
    assert_int_equal(aop_start(cs->ro, a,
                               "SELECT set_config('default_transaction_read_only', 'off', false)",
                               NULL, NULL),
                     CQ_EUNSUPPORTED);
    /* a timeout other than the session's would need a SET round trip first */
    o = (struct cq_test_exec_opts){.timeout_ms = 4321};
    assert_int_equal(aop_start(cs->rw, a, "SELECT 1", NULL, &o), CQ_EUNSUPPORTED);
    assert_int_equal(a->err.rc, CQ_OK);
    /* ... once set by a blocking run, async runs with that timeout are fine */
    assert_int_equal(cq_test_exec_opts(cs->rw, "SELECT 1", &o, &k, &err), CQ_OK);
    cq_test_cap_free(&k);
    assert_int_equal(run_async(cs->rw, "SELECT 2", &o, &k, &err), CQ_OK);
    assert_int_equal(k.n_rows, 1);
    cq_test_cap_free(&k);
    /* and without a timeout the session needs a RESET first */
    assert_int_equal(aop_start(cs->rw, a, "SELECT 1", NULL, NULL), CQ_EUNSUPPORTED);
    expect_add(cs->rw, "1", "2");
    assert_int_equal(run_async(cs->rw, "SELECT 3", NULL, &k, &err), CQ_OK);
    cq_test_cap_free(&k);
    /* a driver without CQ_CAP_ASYNC */
    struct cq_dsn dsn = {.name = "lite", .target = ":memory:"};
    const struct cq_driver *lite = cq_drv_find("sqlite");
    if (lite != NULL) {
        struct cq_conn *c = cq_drv_connect(lite, &dsn, &err);
        assert_non_null(c);
        assert_int_equal(aop_start(c, a, "SELECT 1", NULL, NULL), CQ_EUNSUPPORTED);
        assert_int_equal(cq_drv_exec_step(c), 0);
        assert_int_equal(cq_drv_exec_queued(c), 0);
        assert_int_equal(cq_drv_exec_fd(c), -1);
        assert_int_equal(cq_test_exec(c, "SELECT 1", &k, &err), CQ_OK);
        cq_test_cap_free(&k);
        cq_drv_disconnect(c);
    }
    /* a broken connection */
    cs->rw->broken = true;
    assert_int_equal(aop_start(cs->rw, a, "SELECT 1", NULL, NULL), CQ_EUNSUPPORTED);
    cs->rw->broken = false;
    assert_int_equal(a->n_done, 0);
    free(a);
}

struct canceler {
    struct cq_conn *c;
    struct cq_drv_op *op; /* NULL: cq_drv_cancel(c) */
    long after_ms;
};

static void *cancel_later(void *arg)
{
    struct canceler *cc = arg;
    struct cq_err err = {0};
    cq_test_sleep_ms(cc->after_ms);
    if (cc->op != NULL) {
        cq_drv_exec_cancel(cc->c, cc->op);
    } else {
        cq_drv_cancel(cc->c, &err);
    }
    return NULL;
}

static long active_sleeps(struct cq_conn *c, const char *sql)
{
    char q[256];
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM pg_stat_activity WHERE query = '%s' AND state = 'active'", sql);
    return cq_test_scalar_long(c, q);
}

/* A lone op canceled from another thread: canceled on the server. */
static void test_async_cancel(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap sk = {0};
    struct cq_err serr = {0};
    struct canceler cc = {.c = cs->rw, .after_ms = 300};
    pthread_t t;
    /* what cq_drv_exec answers for a cancel */
    assert_int_equal(pthread_create(&t, NULL, cancel_later, &cc), 0);
    int src = cq_test_exec(cs->rw, "SELECT pg_sleep(10)", &sk, &serr);
    pthread_join(t, NULL);
    assert_int_equal(src, CQ_ECANCELED);
    cq_test_cap_free(&sk);
    /* the same, async, with cq_drv_exec_cancel */
    struct aop *a = calloc(1, sizeof(*a));
    const char *sql = "SELECT pg_sleep(10.5)";
    int64_t t0 = cq_now_ms();
    assert_int_equal(aop_start(cs->rw, a, sql, NULL, NULL), CQ_OK);
    cc.op = &a->op;
    assert_int_equal(pthread_create(&t, NULL, cancel_later, &cc), 0);
    cq_test_sleep_ms(150);
    assert_int_equal(active_sleeps(cs->ro, sql), 1);
    drive(cs->rw, NULL);
    pthread_join(t, NULL);
    assert_int_equal(a->n_done, 1);
    assert_int_equal(a->rc, src);
    assert_string_equal(a->err.msg, serr.msg);
    assert_string_equal(a->err.backend_code, "57014");
    assert_true(cq_now_ms() - t0 < 5000);
    assert_false(a->k.ended);
    assert_int_equal(active_sleeps(cs->ro, sql), 0); /* gone from the server */
    cq_test_cap_free(&a->k);
    /* cancel after done: a no-op */
    cq_drv_exec_cancel(cs->rw, &a->op);
    free(a);
    assert_false(cs->rw->broken);
    assert_reusable(cs->rw);
}

static void test_async_then_wait(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    struct aop *a = calloc(2, sizeof(*a));
    assert_int_equal(aop_start(cs->rw, &a[0],
                               "SELECT g, pg_sleep(0.05) IS NULL AS s FROM generate_series(1, 3) g",
                               NULL, NULL),
                     CQ_OK);
    assert_int_equal(aop_start(cs->rw, &a[1], "SELECT $1::int AS n", "5", NULL), CQ_OK);
    assert_int_equal(cq_drv_exec_step(cs->rw), 2); /* nothing arrived yet */
    cq_drv_exec_wait(cs->rw);                      /* e.g. on another thread */
    assert_int_equal(a[0].n_done, 1);
    assert_int_equal(a[1].n_done, 1);
    assert_int_equal(a[0].rc, CQ_OK);
    assert_int_equal(a[0].k.n_rows, 3);
    assert_true(a[0].k.ended);
    assert_string_equal(cq_test_cap_value(&a[1].k, 0, 0)->p, "5");
    cq_test_cap_free(&a[0].k);
    cq_test_cap_free(&a[1].k);
    assert_idle(cs->rw);
    /* the blocking wait keeps the client-side deadline */
    struct cq_test_exec_opts o = {.timeout_ms = 300};
    assert_int_equal(cq_test_exec_opts(cs->rw, "SELECT 1", &o, &k, &err), CQ_OK); /* SETs it */
    cq_test_cap_free(&k);
    assert_int_equal(aop_start(cs->rw, &a[0], "SELECT pg_sleep(5)", NULL, &o), CQ_OK);
    int64_t t0 = cq_now_ms();
    cq_drv_exec_wait(cs->rw);
    assert_int_equal(a[0].rc, CQ_ETIMEOUT);
    assert_true(cq_now_ms() - t0 < 3000);
    cq_test_cap_free(&a[0].k);
    /* a slow op with another behind it: the server's statement_timeout ends it (no cancel,
     * which could hit the next op), the next one is unaffected */
    assert_int_equal(aop_start(cs->rw, &a[0], "SELECT pg_sleep(5)", NULL, &o), CQ_OK);
    assert_int_equal(aop_start(cs->rw, &a[1], "SELECT $1::int AS n", "6", &o), CQ_OK);
    t0 = cq_now_ms();
    drive(cs->rw, NULL);
    assert_int_equal(a[0].rc, CQ_ETIMEOUT);
    assert_string_equal(a[0].err.backend_code, "57014");
    assert_int_equal(a[1].rc, CQ_OK);
    assert_string_equal(cq_test_cap_value(&a[1].k, 0, 0)->p, "6");
    assert_true(cq_now_ms() - t0 < 3000);
    cq_test_cap_free(&a[0].k);
    cq_test_cap_free(&a[1].k);
    assert_idle(cs->rw);
    free(a);
    expect_add(cs->rw, "1", "2");
}

#define N_CONNS 16

static void test_async_many(void **state)
{
    (void)state;
    struct cq_conn *c[N_CONNS];
    struct aop *a = calloc(N_CONNS, sizeof(*a));
    char n[32], name[16];
    for (int i = 0; i < N_CONNS; i++) {
        snprintf(name, sizeof(name), "c%d", i);
        c[i] = cq_test_pg_open(name, i % 2 == 1);
    }
    for (int round = 0; round < 3; round++) {
        int left = N_CONNS;
        for (int i = 0; i < N_CONNS; i++) {
            snprintf(n, sizeof(n), "%d", 1000 * (i + 1) + round);
            memset(&a[i], 0, sizeof(a[i]));
            a[i].k.count_only = true;
            assert_int_equal(aop_start(c[i], &a[i],
                                       "SELECT g, pg_sleep(0.001 * (g % 1000 = 0)::int) IS NULL "
                                       "AS s FROM generate_series(1, $1::int) g",
                                       n, NULL),
                             CQ_OK);
        }
        while (left > 0) {
            struct pollfd pfd[N_CONNS];
            int idx[N_CONNS], np = 0;
            for (int i = 0; i < N_CONNS; i++) {
                if (a[i].n_done == 0) {
                    pfd[np] = (struct pollfd){.fd = cq_drv_exec_fd(c[i]), .events = POLLIN};
                    idx[np++] = i;
                }
            }
            assert_true(poll(pfd, (nfds_t)np, 5000) > 0);
            for (int j = 0; j < np; j++) {
                int i = idx[j];
                if (pfd[j].revents == 0 || cq_drv_exec_step(c[i]) > 0) {
                    continue;
                }
                assert_int_equal(a[i].n_done, 1);
                if (a[i].rc != CQ_OK) {
                    fail_msg("conn %d: %s", i, a[i].err.msg);
                }
                assert_int_equal(a[i].k.n_rows, (size_t)(1000 * (i + 1) + round));
                assert_true(a[i].k.ended);
                left--;
            }
        }
        for (int i = 0; i < N_CONNS; i++) {
            cq_test_cap_free(&a[i].k);
        }
    }
    for (int i = 0; i < N_CONNS; i++) {
        expect_add(c[i], "1", "2"); /* reusable, blocking */
        assert_idle(c[i]);
        cq_drv_disconnect(c[i]);
    }
    free(a);
}

/* ---- pipelining ---------------------------------------------------------------------------- */

static const char *const Q_SMALL = "SELECT $1::int AS n, 'v' || $1 AS t";
static const char *const Q_ERR = "SELECT 100 / ($1::int - $1::int) AS boom";
static const char *const Q_BIG = "SELECT g, $1::int AS tag FROM generate_series(1, 5000) g";

enum { K_SMALL, K_ERR, K_BIG };

static int kind_of(int i)
{
    return i % 7 == 0 ? K_ERR : (i % 10 == 3 ? K_BIG : K_SMALL);
}

static void check_kind(const struct aop *a, int i)
{
    char want[32];
    snprintf(want, sizeof(want), "%d", i);
    switch (kind_of(i)) {
    case K_ERR:
        assert_int_equal(a->rc, CQ_EBACKEND);
        assert_string_equal(a->err.backend_code, "22012");
        assert_false(a->k.ended);
        break;
    case K_BIG:
        if (a->rc != CQ_OK) {
            fail_msg("op %d: %s", i, a->err.msg);
        }
        assert_int_equal(a->k.n_cols, 2);
        assert_string_equal(a->k.names[1], "tag");
        assert_int_equal(a->k.n_rows, 5000);
        assert_string_equal(cq_test_cap_value(&a->k, 4999, 0)->p, "5000");
        assert_string_equal(cq_test_cap_value(&a->k, 4999, 1)->p, want);
        assert_string_equal(a->k.command, "SELECT 5000");
        break;
    default:
        if (a->rc != CQ_OK) {
            fail_msg("op %d: %s", i, a->err.msg);
        }
        assert_int_equal(a->k.n_columns_calls, 1);
        assert_int_equal(a->k.n_cols, 2);
        assert_string_equal(a->k.names[0], "n");
        assert_int_equal(a->k.n_rows, 1);
        assert_string_equal(cq_test_cap_value(&a->k, 0, 0)->p, want);
        assert_true(a->k.ended);
        break;
    }
}

#define N_PIPE 50

static void test_pipe_50(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct aop *a = calloc(N_PIPE, sizeof(*a));
    char arg[16];
    uint64_t refused = pg_of(cs->rw)->n_single_refused;
    done_seq = 0;
    for (int i = 0; i < N_PIPE; i++) {
        int kd = kind_of(i);
        snprintf(arg, sizeof(arg), "%d", i);
        assert_int_equal(aop_start(cs->rw, &a[i],
                                   kd == K_ERR   ? Q_ERR
                                   : kd == K_BIG ? Q_BIG
                                                 : Q_SMALL,
                                   arg, NULL),
                         CQ_OK);
    }
    assert_int_equal(cq_drv_exec_queued(cs->rw), N_PIPE);
    int n_steps = 0;
    drive(cs->rw, &n_steps);
    for (int i = 0; i < N_PIPE; i++) {
        assert_int_equal(a[i].n_done, 1);
        assert_int_equal(a[i].order, i); /* in queue order */
        check_kind(&a[i], i);
        cq_test_cap_free(&a[i].k);
    }
    /* the big results streamed row by row */
    assert_int_equal(pg_of(cs->rw)->n_single_refused, refused);
    free(a);
    assert_idle(cs->rw);
    expect_add(cs->rw, "1", "2");
}

static void test_pipe_capped_middle(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct aop *a = calloc(5, sizeof(*a));
    struct cq_test_exec_opts capped = {.max_rows = 10};
    done_seq = 0;
    static const int args[5] = {1, 2, 0, 4, 5}; /* small kinds (see kind_of) */
    assert_int_equal(aop_start(cs->ro, &a[0], Q_SMALL, "1", NULL), CQ_OK);
    assert_int_equal(aop_start(cs->ro, &a[1], Q_SMALL, "2", NULL), CQ_OK);
    a[2].k.count_only = true;
    assert_int_equal(aop_start(cs->ro, &a[2],
                               "SELECT g, md5(g::text) FROM generate_series(1, 200000 + $1::int) g",
                               "0", &capped),
                     CQ_OK);
    assert_int_equal(aop_start(cs->ro, &a[3], Q_SMALL, "4", NULL), CQ_OK);
    assert_int_equal(aop_start(cs->ro, &a[4], Q_SMALL, "5", NULL), CQ_OK);
    drive(cs->ro, NULL);
    assert_int_equal(a[2].rc, CQ_OK);
    assert_int_equal(a[2].k.n_rows, 10);
    assert_true(a[2].k.info.truncated);
    assert_string_equal(a[2].k.info.truncated_reason, "max_rows");
    for (int i = 0; i < 5; i++) {
        assert_int_equal(a[i].n_done, 1);
        assert_int_equal(a[i].order, i);
        if (i != 2) {
            check_kind(&a[i], args[i]);
        }
        cq_test_cap_free(&a[i].k);
    }
    free(a);
    assert_idle(cs->ro);
    /* capped alone: canceled on the server, quickly */
    a = calloc(1, sizeof(*a));
    a->k.count_only = true;
    int64_t t0 = cq_now_ms();
    assert_int_equal(
        aop_start(cs->ro, a,
                  "SELECT g, pg_sleep(0.0001) FROM generate_series(1, 100000 + $1::int) g", "0",
                  &capped),
        CQ_OK);
    drive(cs->ro, NULL);
    assert_int_equal(a->rc, CQ_OK);
    assert_int_equal(a->k.n_rows, 10);
    assert_true(cq_now_ms() - t0 < 5000);
    cq_test_cap_free(&a->k);
    free(a);
    assert_idle(cs->ro);
}

static void test_pipe_cancel_queued(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct aop *a = calloc(4, sizeof(*a));
    done_seq = 0;
    assert_int_equal(aop_start(cs->rw, &a[0], "SELECT pg_sleep(0.3) IS NULL AS s", NULL, NULL),
                     CQ_OK);
    assert_int_equal(aop_start(cs->rw, &a[1], Q_SMALL, "1", NULL), CQ_OK);
    a[2].k.count_only = true;
    assert_int_equal(aop_start(cs->rw, &a[2], Q_BIG, "2", NULL), CQ_OK);
    assert_int_equal(aop_start(cs->rw, &a[3], Q_SMALL, "4", NULL), CQ_OK);
    cq_drv_exec_cancel(cs->rw, &a[1].op); /* queued, not the head: rows dropped */
    cq_drv_exec_cancel(cs->rw, &a[2].op);
    drive(cs->rw, NULL);
    assert_int_equal(a[0].rc, CQ_OK);
    assert_true(a[0].k.ended);
    for (int i = 1; i <= 2; i++) {
        assert_int_equal(a[i].n_done, 1);
        assert_int_equal(a[i].rc, CQ_ECANCELED);
        assert_string_equal(a[i].err.msg, "connection 'rw': statement canceled");
        assert_false(a[i].k.ended);
    }
    assert_int_equal(a[1].k.n_rows, 0);
    check_kind(&a[3], 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(a[i].order, i);
        cq_test_cap_free(&a[i].k);
    }
    free(a);
    assert_idle(cs->rw);
}

/* DEALLOCATE ALL behind the driver's back, then a pipeline of ops that hit the cache. */
static void test_pipe_stale(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct aop *a = calloc(6, sizeof(*a));
    expect_add(cs->rw, "1", "2"); /* Q_ADD prepared */
    expect_add(cs->rw, "2", "3");
    cq_test_scalar(cs->rw, "SELECT 'other' AS o", (char[16]){0}, 16);
    uint64_t p0 = cache_of(cs->rw)->n_prepares;
    PGresult *res = PQexec(pg_of(cs->rw)->pg, "DEALLOCATE ALL");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    char arg[16];
    for (int i = 0; i < 5; i++) {
        snprintf(arg, sizeof(arg), "%d", 10 * i);
        assert_int_equal(aop_start(cs->rw, &a[i], Q_ADD, arg, NULL), CQ_OK);
    }
    assert_int_equal(aop_start(cs->rw, &a[5], "SELECT 'other' AS o", NULL, NULL), CQ_OK);
    drive(cs->rw, NULL);
    for (int i = 0; i < 5; i++) {
        if (a[i].rc != CQ_OK) {
            fail_msg("op %d: %s", i, a[i].err.msg);
        }
        snprintf(arg, sizeof(arg), "%d", 10 * i + 1);
        assert_int_equal(a[i].k.n_columns_calls, 1);
        assert_string_equal(cq_test_cap_value(&a[i].k, 0, 0)->p, arg);
        cq_test_cap_free(&a[i].k);
    }
    assert_int_equal(a[5].rc, CQ_OK);
    assert_string_equal(cq_test_cap_value(&a[5].k, 0, 0)->p, "other");
    cq_test_cap_free(&a[5].k);
    /* re-prepared: once for Q_ADD (the others executed it or re-prepared it), once for the
     * other statement */
    assert_true(cache_of(cs->rw)->n_prepares >= p0 + 2);
    assert_true(cache_of(cs->rw)->n_prepares <= p0 + 6);
    assert_int_equal(prepared_count(cs->rw, Q_ADD), 1);
    assert_idle(cs->rw);
    /* the same after a result type change (0A000) in a pipeline */
    cq_test_must_exec(
        cs->rw, "DROP TABLE IF EXISTS prt; CREATE TABLE prt (a int); INSERT INTO prt VALUES (1)");
    struct cq_test_cap k = {0};
    struct cq_err err = {0};
    assert_int_equal(cq_test_exec(cs->rw, "SELECT * FROM prt", &k, &err), CQ_OK);
    cq_test_cap_free(&k);
    cq_test_must_exec(cs->rw, "ALTER TABLE prt ADD COLUMN b text DEFAULT 'x'");
    for (int i = 0; i < 3; i++) {
        memset(&a[i], 0, sizeof(a[i]));
        assert_int_equal(aop_start(cs->rw, &a[i], "SELECT * FROM prt", NULL, NULL), CQ_OK);
    }
    drive(cs->rw, NULL);
    for (int i = 0; i < 3; i++) {
        if (a[i].rc != CQ_OK) {
            fail_msg("op %d: %s", i, a[i].err.msg);
        }
        assert_int_equal(a[i].k.n_cols, 2);
        assert_string_equal(cq_test_cap_value(&a[i].k, 0, 1)->p, "x");
        cq_test_cap_free(&a[i].k);
    }
    assert_int_equal(prepared_count(cs->rw, "SELECT * FROM prt"), 1);
    free(a);
    assert_idle(cs->rw);
}

/* Two ops with the same new SQL pipelined before the first preparation completes. */
static void test_pipe_same_new_sql(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct aop *a = calloc(3, sizeof(*a));
    const char *sql = "SELECT $1::int * 3 AS triple";
    uint64_t p0 = cache_of(cs->rw)->n_prepares;
    assert_int_equal(aop_start(cs->rw, &a[0], sql, "1", NULL), CQ_OK);
    assert_int_equal(aop_start(cs->rw, &a[1], sql, "2", NULL), CQ_OK);
    assert_int_equal(cache_of(cs->rw)->n_prepares, p0 + 1); /* the second executes it */
    drive(cs->rw, NULL);
    assert_int_equal(a[0].rc, CQ_OK);
    assert_int_equal(a[1].rc, CQ_OK);
    assert_string_equal(cq_test_cap_value(&a[0].k, 0, 0)->p, "3");
    assert_string_equal(cq_test_cap_value(&a[1].k, 0, 0)->p, "6");
    cq_test_cap_free(&a[0].k);
    cq_test_cap_free(&a[1].k);
    assert_int_equal(prepared_count(cs->rw, sql), 1);
    /* ... and when that preparation fails: the second re-prepares once and reports the
     * real error, exactly as the blocking path does */
    struct cq_test_cap sk = {0};
    struct cq_err serr = {0};
    const char *bad = "SELECT nope FROM nowhere_pipe WHERE $1::int > 0";
    struct cq_param p = {.type = CQ_P_INT, .text = "1", .len = 1};
    struct cq_test_exec_opts o = {.params = &p, .n_params = 1};
    assert_int_equal(cq_test_exec_opts(cs->rw, bad, &o, &sk, &serr), CQ_EBACKEND);
    cq_test_cap_free(&sk);
    memset(a, 0, 3 * sizeof(*a));
    assert_int_equal(aop_start(cs->rw, &a[0], bad, "1", NULL), CQ_OK);
    assert_int_equal(aop_start(cs->rw, &a[1], bad, "2", NULL), CQ_OK);
    assert_int_equal(aop_start(cs->rw, &a[2], sql, "5", NULL), CQ_OK);
    drive(cs->rw, NULL);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(a[i].rc, CQ_EBACKEND);
        assert_string_equal(a[i].err.backend_code, "42P01");
        assert_string_equal(a[i].err.msg, serr.msg);
        cq_test_cap_free(&a[i].k);
    }
    assert_int_equal(a[2].rc, CQ_OK);
    assert_string_equal(cq_test_cap_value(&a[2].k, 0, 0)->p, "15");
    cq_test_cap_free(&a[2].k);
    free(a);
    assert_idle(cs->rw);
    expect_add(cs->rw, "1", "2");
}

static void test_pipe_lost_connection(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    for (int ro = 0; ro < 2; ro++) {
        struct cq_conn *c = cq_test_pg_open(ro ? "victim_ro" : "victim", ro == 1);
        struct aop *a = calloc(4, sizeof(*a));
        char q[128];
        int pid = PQbackendPID(pg_of(c)->pg);
        assert_int_equal(aop_start(c, &a[0], "SELECT pg_sleep(3) IS NULL AS s", NULL, NULL), CQ_OK);
        for (int i = 1; i < 4; i++) {
            assert_int_equal(aop_start(c, &a[i], Q_SMALL, "1", NULL), CQ_OK);
        }
        assert_int_equal(cq_drv_exec_step(c), 4);
        cq_test_sleep_ms(100);
        snprintf(q, sizeof(q), "SELECT pg_terminate_backend(%d)", pid);
        char v[16];
        cq_test_scalar(cs->rw, q, v, sizeof(v));
        assert_string_equal(v, "true");
        drive(c, NULL);
        for (int i = 0; i < 4; i++) {
            assert_int_equal(a[i].n_done, 1);
            assert_int_equal(a[i].rc, CQ_ECONNECT);
            assert_non_null(strstr(a[i].err.msg, "lost connection"));
            /* sent: retryable only on a read-only session */
            assert_int_equal(a[i].err.retryable, ro == 1);
            cq_test_cap_free(&a[i].k);
        }
        assert_true(c->broken);
        assert_int_equal(cq_drv_exec_queued(c), 0);
        assert_int_equal(aop_start(c, &a[0], Q_SMALL, "1", NULL), CQ_EUNSUPPORTED);
        free(a);
        cq_drv_disconnect(c);
    }
}

/* The LRU victim is an entry whose preparation is still in flight and fails: the eviction's
 * DEALLOCATE fails too, which aborts the evicting op; it is re-sent after DEALLOCATE ALL. */
static void test_pipe_evict_failed_prepare(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    int n = CQ_PG_CACHE_MAX + 1;
    struct aop *a = calloc((size_t)n, sizeof(*a));
    char(*sql)[80] = calloc((size_t)n, sizeof(*sql));
    char want[16];
    assert_int_equal(cache_of(cs->rw)->n_prepares, 0); /* a fresh session */
    snprintf(sql[0], sizeof(sql[0]), "SELECT nope FROM nowhere_evict WHERE $1::int > 0");
    assert_int_equal(aop_start(cs->rw, &a[0], sql[0], "0", NULL), CQ_OK);
    for (int i = 1; i < n; i++) {
        snprintf(sql[i], sizeof(sql[i]), "SELECT $1::int + %d AS evict_p", 1000 * i);
        snprintf(want, sizeof(want), "%d", i);
        assert_int_equal(aop_start(cs->rw, &a[i], sql[i], want, NULL), CQ_OK);
    }
    assert_int_equal(cache_of(cs->rw)->n_prepares, (uint64_t)n);
    drive(cs->rw, NULL);
    /* the evicting op was prepared once more, after DEALLOCATE ALL */
    assert_int_equal(cache_of(cs->rw)->n_prepares, (uint64_t)n + 1);
    assert_int_equal(a[0].rc, CQ_EBACKEND);
    assert_string_equal(a[0].err.backend_code, "42P01");
    for (int i = 1; i < n; i++) {
        if (a[i].rc != CQ_OK) {
            fail_msg("op %d: %s", i, a[i].err.msg);
        }
        snprintf(want, sizeof(want), "%d", 1001 * i);
        assert_string_equal(cq_test_cap_value(&a[i].k, 0, 0)->p, want);
    }
    for (int i = 0; i < n; i++) {
        cq_test_cap_free(&a[i].k);
    }
    assert_idle(cs->rw);
    expect_add(cs->rw, "1", "2");
    assert_true(cq_test_scalar_long(cs->rw, "SELECT count(*) FROM pg_prepared_statements") <=
                CQ_PG_CACHE_MAX);
    free(a);
    free(sql);
}

/* Random pipelines on one connection: 100 texts for a 64-entry cache (evictions while
 * other ops still execute or prepare the victims), statements that fail to prepare, SQL
 * errors, cancels of queued ops. Each op must get exactly its own result. */
#define N_STRESS 600

static void test_pipe_stress(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    struct aop *a = calloc(N_STRESS, sizeof(*a));
    char(*sql)[96] = calloc(N_STRESS, sizeof(*sql));
    int *kind = calloc(N_STRESS, sizeof(*kind)), *k = calloc(N_STRESS, sizeof(*k));
    bool *canceled = calloc(N_STRESS, sizeof(*canceled));
    char arg[16];
    unsigned seed = 12345;
    int next = 0;
    uint64_t refused = pg_of(cs->rw)->n_single_refused;
    done_seq = 0;
    while (next < N_STRESS) {
        int depth = 1 + (int)(rand_r(&seed) % 24);
        int first = next;
        for (; next < N_STRESS && next < first + depth; next++) {
            int i = next;
            k[i] = (int)(rand_r(&seed) % 100);
            int r = (int)(rand_r(&seed) % 20);
            kind[i] = r == 0 ? 2 : (r == 1 ? 1 : 0); /* 2: bad SQL, 1: division by zero */
            if (kind[i] == 2) {
                snprintf(sql[i], sizeof(sql[i]), "SELECT nope_%d FROM nowhere WHERE $1::int > 0",
                         k[i]);
            } else if (kind[i] == 1) {
                snprintf(sql[i], sizeof(sql[i]), "SELECT $1::int / (%d - %d) AS d", k[i], k[i]);
            } else {
                snprintf(sql[i], sizeof(sql[i]), "SELECT $1::int + %d AS n", k[i]);
            }
            snprintf(arg, sizeof(arg), "%d", i);
            assert_int_equal(aop_start(cs->rw, &a[i], sql[i], arg, NULL), CQ_OK);
            if (i > first && rand_r(&seed) % 15 == 0) {
                canceled[i] = true;
                cq_drv_exec_cancel(cs->rw, &a[i].op);
            }
        }
        drive(cs->rw, NULL);
        for (int i = first; i < next; i++) {
            assert_int_equal(a[i].n_done, 1);
            /* in order, except ops re-sent at the tail after a stale statement */
            assert_true(a[i].order >= first && a[i].order < next);
            if (canceled[i]) {
                assert_int_equal(a[i].rc, CQ_ECANCELED);
            } else if (kind[i] == 2) {
                assert_int_equal(a[i].rc, CQ_EBACKEND);
                assert_string_equal(a[i].err.backend_code, "42P01");
            } else if (kind[i] == 1) {
                assert_int_equal(a[i].rc, CQ_EBACKEND);
                assert_string_equal(a[i].err.backend_code, "22012");
            } else {
                if (a[i].rc != CQ_OK) {
                    fail_msg("op %d (%s): %s", i, sql[i], a[i].err.msg);
                }
                snprintf(arg, sizeof(arg), "%d", i + k[i]);
                assert_int_equal(a[i].k.n_rows, 1);
                assert_string_equal(cq_test_cap_value(&a[i].k, 0, 0)->p, arg);
            }
            cq_test_cap_free(&a[i].k);
        }
        assert_idle(cs->rw);
    }
    assert_int_equal(pg_of(cs->rw)->n_single_refused, refused);
    /* the server holds at most the cache's statements */
    assert_true(cq_test_scalar_long(cs->rw, "SELECT count(*) FROM pg_prepared_statements") <=
                CQ_PG_CACHE_MAX);
    free(a);
    free(sql);
    free(kind);
    free(k);
    free(canceled);
}

/* Not asserted: lookups/s with 16 connections x 1 op vs 2 connections x 8 ops pipelined. */
static double throughput(int n_conns, int depth, int64_t ms)
{
    struct cq_conn *c[16];
    struct aop *a = calloc((size_t)(n_conns * depth), sizeof(*a));
    char name[16], arg[16];
    long n = 0;
    for (int i = 0; i < n_conns; i++) {
        snprintf(name, sizeof(name), "tp%d", i);
        c[i] = cq_test_pg_open(name, true);
    }
    int64_t t0 = cq_now_us(), end = t0 + ms * 1000;
    for (int i = 0; i < n_conns * depth; i++) {
        snprintf(arg, sizeof(arg), "%d", i % 1000 + 1);
        a[i].k.count_only = true;
        assert_int_equal(aop_start(c[i / depth], &a[i],
                                   "SELECT aid, abalance FROM tp_accounts WHERE aid = $1", arg,
                                   NULL),
                         CQ_OK);
    }
    while (cq_now_us() < end) {
        struct pollfd pfd[16];
        for (int i = 0; i < n_conns; i++) {
            pfd[i] = (struct pollfd){.fd = cq_drv_exec_fd(c[i]), .events = POLLIN};
        }
        poll(pfd, (nfds_t)n_conns, 100);
        for (int i = 0; i < n_conns; i++) {
            if (pfd[i].revents == 0) {
                continue;
            }
            cq_drv_exec_step(c[i]);
            for (int j = i * depth; j < (i + 1) * depth; j++) {
                if (a[j].n_done == 1) {
                    assert_int_equal(a[j].rc, CQ_OK);
                    n++;
                    cq_test_cap_free(&a[j].k);
                    memset(&a[j], 0, sizeof(a[j]));
                    a[j].k.count_only = true;
                    snprintf(arg, sizeof(arg), "%ld", n % 1000 + 1);
                    assert_int_equal(
                        aop_start(c[i], &a[j],
                                  "SELECT aid, abalance FROM tp_accounts WHERE aid = $1", arg,
                                  NULL),
                        CQ_OK);
                }
            }
        }
    }
    double secs = (double)(cq_now_us() - t0) / 1e6;
    for (int i = 0; i < n_conns; i++) {
        cq_drv_exec_wait(c[i]);
        cq_drv_disconnect(c[i]);
    }
    for (int i = 0; i < n_conns * depth; i++) {
        cq_test_cap_free(&a[i].k);
    }
    free(a);
    return (double)n / secs;
}

static void test_pipe_throughput(void **state)
{
    struct cq_test_pg_conns *cs = *state;
    cq_test_must_exec(
        cs->rw,
        "DROP TABLE IF EXISTS tp_accounts; CREATE TABLE tp_accounts (aid int PRIMARY KEY,"
        " abalance int); INSERT INTO tp_accounts SELECT g, g FROM generate_series(1, 1000) g;"
        " ANALYZE tp_accounts");
    double one_each = throughput(16, 1, 2000);
    double piped = throughput(2, 8, 2000);
    double piped4 = throughput(4, 4, 2000);
    fprintf(stderr,
            "throughput: 16 conns x 1 op: %.0f lookups/s; 2 conns x 8 ops: %.0f lookups/s;"
            " 4 conns x 4 ops: %.0f lookups/s\n",
            one_each, piped, piped4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CQ_TEST_PG(test_cache_used),
        CQ_TEST_PG(test_cache_deallocate_all),
        CQ_TEST_PG(test_cache_result_type_change),
        CQ_TEST_PG(test_cache_eviction),
        CQ_TEST_PG(test_cache_prepare_errors),
        CQ_TEST_PG(test_async_types),
        CQ_TEST_PG(test_async_large_capped),
        CQ_TEST_PG(test_async_sql_error),
        CQ_TEST_PG(test_async_unsupported),
        CQ_TEST_PG(test_async_cancel),
        CQ_TEST_PG(test_async_then_wait),
        CQ_TEST_PG(test_async_many),
        CQ_TEST_PG(test_pipe_50),
        CQ_TEST_PG(test_pipe_capped_middle),
        CQ_TEST_PG(test_pipe_cancel_queued),
        CQ_TEST_PG(test_pipe_stale),
        CQ_TEST_PG(test_pipe_same_new_sql),
        CQ_TEST_PG(test_pipe_lost_connection),
        CQ_TEST_PG(test_pipe_evict_failed_prepare),
        CQ_TEST_PG(test_pipe_stress),
        CQ_TEST_PG(test_pipe_throughput),
    };
    return cmocka_run_group_tests(tests, group_setup, cq_test_pg_schema_teardown);
}

#endif /* CQ_WITHOUT_PG */
