/*
 * it_pool.c - the connection pool against a real PostgreSQL (and SQLite for the queue
 * order test): exhaustion and queue timeout, FIFO service, transparent reconnect after a
 * server restart, connect errors while the server is down, idle reaping, the idle health
 * check, and many threads sharing a small pool.
 *
 * Fault tests stop and restart the fixture server with itenv.sh; every path that stops it
 * starts it again (the teardown too), because later tests share the server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/time.h"
#include "cqtest.h"
#include "drv/drv.h"
#include "drv/pool.h"

struct fixture {
    char *dsn;       /* fixture DSN (trust auth) */
    char *tmpdir;    /* scratch for SQLite files */
    bool pg_stopped; /* a fault test stopped the server: teardown restarts it */
};

/* ---- helpers ----------------------------------------------------------------------------- */

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static struct cq_conn_conf pg_conf(char *name, char *url, int min, int max)
{
    struct cq_conn_conf cc = {
        .name = name,
        .driver = "postgres",
        .url = url,
        .pool = {.min = min, .max = max, .idle_timeout_ms = 300000},
        .limits = {.queue_timeout_ms = 5000},
        .read_only = true,
    };
    return cc;
}

/* Captures the first column of the last row as text. */
struct capture {
    int n_rows;
    char val[64];
};

static int cap_columns(void *ctx, size_t n, const struct cq_col *cols, struct cq_err *err)
{
    (void)ctx, (void)n, (void)cols, (void)err;
    return CQ_OK;
}

static int cap_row(void *ctx, size_t n, const struct cq_value *vals, struct cq_err *err)
{
    struct capture *k = ctx;
    (void)err;
    k->n_rows++;
    if (n > 0 && vals[0].p != NULL) {
        size_t len = vals[0].len < sizeof(k->val) - 1 ? vals[0].len : sizeof(k->val) - 1;
        memcpy(k->val, vals[0].p, len);
        k->val[len] = '\0';
    }
    return CQ_OK;
}

static int cap_end(void *ctx, const struct cq_result_info *info, struct cq_err *err)
{
    (void)ctx, (void)info, (void)err;
    return CQ_OK;
}

static struct cq_rowsink capture_sink(struct capture *k)
{
    memset(k, 0, sizeof(*k));
    return (struct cq_rowsink){
        .ctx = k, .on_columns = cap_columns, .on_row = cap_row, .on_end = cap_end,
    };
}

/* Runs sql through the pool and returns the first column of its last row (or rc). */
static int pool_value(struct cq_pool *p, const char *sql, char *out, size_t size,
                      struct cq_err *err)
{
    struct capture k;
    struct cq_rowsink sink = capture_sink(&k);
    struct cq_stmt st = {.sql = sql};
    int rc = cq_drv_pool_exec(p, &st, &sink, err);
    if (rc == CQ_OK && out != NULL) {
        snprintf(out, size, "%s", k.val);
    }
    return rc;
}

/* Same on a checked-out connection. */
static int conn_value(struct cq_conn *c, const char *sql, char *out, size_t size,
                      struct cq_err *err)
{
    struct capture k;
    struct cq_rowsink sink = capture_sink(&k);
    struct cq_stmt st = {.sql = sql};
    int rc = cq_drv_exec(c, &st, &sink, err);
    if (rc == CQ_OK && out != NULL) {
        snprintf(out, size, "%s", k.val);
    }
    return rc;
}

/* Terminates a backend from a separate connection, waiting until it is gone. */
static void terminate_backend(const struct fixture *fx, const char *pid)
{
    struct cq_conn_conf cc = pg_conf("it_pool_admin", fx->dsn, 0, 1);
    struct cq_dsn dsn;
    struct cq_err err = {0};
    char sql[128];
    char ok[16] = "";
    cq_drv_dsn_init(&dsn, &cc);
    struct cq_conn *admin = cq_drv_connect(cq_drv_find("postgres"), &dsn, &err);
    assert_non_null(admin);
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%s, 5000)", pid);
    assert_int_equal(conn_value(admin, sql, ok, sizeof(ok), &err), CQ_OK);
    assert_string_equal(ok, "true");
    cq_drv_disconnect(admin);
}

static void wait_stats(struct cq_pool *p, int in_use, int waiting)
{
    struct cq_pool_stats s;
    for (int i = 0; i < 1000; i++) {
        cq_drv_pool_stats(p, &s);
        if (s.in_use == in_use && s.waiting == waiting) {
            return;
        }
        sleep_ms(5);
    }
    fail_msg("pool never reached in_use=%d waiting=%d (is %d/%d)", in_use, waiting, s.in_use,
             s.waiting);
}

/* A thread running one statement through the pool. */
struct runner {
    pthread_t th;
    struct cq_pool *pool;
    const char *sql;
    int rc;
    struct cq_err err;
};

static void *runner_main(void *arg)
{
    struct runner *r = arg;
    r->rc = pool_value(r->pool, r->sql, NULL, 0, &r->err);
    return NULL;
}

static void start_sleepers(struct runner *r, int n, struct cq_pool *p)
{
    for (int i = 0; i < n; i++) {
        r[i] = (struct runner){.pool = p, .sql = "SELECT pg_sleep(1)"};
        assert_int_equal(pthread_create(&r[i].th, NULL, runner_main, &r[i]), 0);
    }
}

static void join_ok(struct runner *r, int n)
{
    for (int i = 0; i < n; i++) {
        pthread_join(r[i].th, NULL);
        assert_int_equal(r[i].rc, CQ_OK);
    }
}

/* ---- (1) exhaustion ---------------------------------------------------------------------- */

static void test_exhaustion_times_out(void **state)
{
    struct fixture *fx = *state;
    struct cq_conn_conf cc = pg_conf("it_pool_busy", fx->dsn, 0, 4);
    cc.limits.max_concurrent = 2; /* the cap is the smaller of the two */
    cc.limits.queue_timeout_ms = 300;
    struct cq_err err = {0};
    struct cq_pool *p = cq_drv_pool_new(&cc, &err);
    assert_non_null(p);
    struct runner r[2];
    start_sleepers(r, 2, p);
    wait_stats(p, 2, 0);

    struct cq_conn *c = NULL;
    int64_t t0 = cq_now_ms();
    assert_int_equal(cq_drv_pool_get(p, &c, &err), CQ_EBUSY);
    int64_t waited = cq_now_ms() - t0;
    assert_null(c);
    assert_true(waited >= 295 && waited < 900);
    assert_string_equal(err.msg, "connection 'it_pool_busy': pool exhausted: 2 of 2 connections "
                                 "busy, waited 300 ms (raise limits.max_concurrent / pool.max "
                                 "or limits.queue_timeout)");
    struct cq_pool_stats s;
    cq_drv_pool_stats(p, &s);
    assert_int_equal(s.waiting, 0);
    assert_int_equal(s.n_timeouts, 1);
    join_ok(r, 2);
    cq_drv_pool_stats(p, &s);
    assert_int_equal(s.in_use, 0);
    assert_int_equal(s.open, 2);
    cq_drv_pool_free(p);
}

static void test_exhaustion_waits_for_a_slot(void **state)
{
    struct fixture *fx = *state;
    struct cq_conn_conf cc = pg_conf("it_pool_wait", fx->dsn, 0, 2);
    cc.limits.queue_timeout_ms = 3000;
    struct cq_err err = {0};
    struct cq_pool *p = cq_drv_pool_new(&cc, &err);
    assert_non_null(p);
    struct runner r[2];
    start_sleepers(r, 2, p);
    wait_stats(p, 2, 0);

    struct cq_conn *c = NULL;
    int64_t t0 = cq_now_ms();
    assert_int_equal(cq_drv_pool_get(p, &c, &err), CQ_OK);
    int64_t waited = cq_now_ms() - t0;
    assert_non_null(c);
    assert_true(waited >= 300 && waited < 2900); /* until a sleeper returned its slot */
    char v[16];
    assert_int_equal(conn_value(c, "SELECT 40 + 2", v, sizeof(v), &err), CQ_OK);
    assert_string_equal(v, "42");
    cq_drv_pool_put(p, c);
    join_ok(r, 2);
    struct cq_pool_stats s;
    cq_drv_pool_stats(p, &s);
    assert_int_equal(s.in_use, 0);
    assert_true(s.open <= 2);
    assert_int_equal(s.n_timeouts, 0);
    cq_drv_pool_free(p);
}

/* ---- (2) FIFO ---------------------------------------------------------------------------- */

struct fifo {
    struct cq_pool *pool;
    pthread_mutex_t mu;
    char order[8]; /* names in the order they got a connection */
    int n;
};

struct fifo_waiter {
    pthread_t th;
    struct fifo *f;
    char name;
    int rc;
};

static void fifo_record(struct fifo *f, char name)
{
    pthread_mutex_lock(&f->mu);
    f->order[f->n++] = name;
    pthread_mutex_unlock(&f->mu);
}

static void *fifo_main(void *arg)
{
    struct fifo_waiter *w = arg;
    struct cq_conn *c = NULL;
    w->rc = cq_drv_pool_get(w->f->pool, &c, NULL);
    if (w->rc == CQ_OK) {
        fifo_record(w->f, w->name);
        sleep_ms(20); /* hold it, so a late arrival would have a chance to overtake */
        cq_drv_pool_put(w->f->pool, c);
    }
    return NULL;
}

static void test_fifo_order(void **state)
{
    struct fixture *fx = *state;
    char path[1024];
    snprintf(path, sizeof(path), "%s/fifo.db", fx->tmpdir);
    struct cq_conn_conf cc = {
        .name = "it_pool_fifo", .driver = "sqlite", .path = path,
        .pool = {.min = 0, .max = 1, .idle_timeout_ms = 60000},
        .limits = {.queue_timeout_ms = 10000}, .read_only = false,
    };
    struct cq_err err = {0};
    struct fifo f = {.n = 0};
    pthread_mutex_init(&f.mu, NULL);
    f.pool = cq_drv_pool_new(&cc, &err);
    assert_non_null(f.pool);
    struct cq_conn *mine = NULL;
    assert_int_equal(cq_drv_pool_get(f.pool, &mine, &err), CQ_OK);

    struct fifo_waiter w[3];
    for (int i = 0; i < 3; i++) {
        w[i] = (struct fifo_waiter){.f = &f, .name = (char)('A' + i)};
        assert_int_equal(pthread_create(&w[i].th, NULL, fifo_main, &w[i]), 0);
        wait_stats(f.pool, 1, i + 1); /* queued before the next one starts */
    }
    cq_drv_pool_put(f.pool, mine);
    /* A newcomer after the release must queue behind A, B and C. */
    assert_int_equal(cq_drv_pool_get(f.pool, &mine, &err), CQ_OK);
    fifo_record(&f, 'D');
    cq_drv_pool_put(f.pool, mine);
    for (int i = 0; i < 3; i++) {
        pthread_join(w[i].th, NULL);
        assert_int_equal(w[i].rc, CQ_OK);
    }
    f.order[f.n] = '\0';
    assert_string_equal(f.order, "ABCD");
    cq_drv_pool_free(f.pool);
    pthread_mutex_destroy(&f.mu);
}

/* ---- (3) restart between queries ---------------------------------------------------------- */

static void stop_pg(struct fixture *fx)
{
    fx->pg_stopped = true;
    assert_int_equal(cq_test_itenv("stop pg"), 0);
}

static void start_pg(struct fixture *fx)
{
    assert_int_equal(cq_test_itenv("start pg"), 0);
    fx->pg_stopped = false;
}

/* Leaves n idle connections in the pool. */
static void warm(struct cq_pool *p, int n)
{
    struct cq_conn *c[8];
    struct cq_err err = {0};
    for (int i = 0; i < n; i++) {
        assert_int_equal(cq_drv_pool_get(p, &c[i], &err), CQ_OK);
    }
    for (int i = 0; i < n; i++) {
        cq_drv_pool_put(p, c[i]);
    }
}

static void test_restart_between_queries(void **state)
{
    struct fixture *fx = *state;
    struct cq_conn_conf cc = pg_conf("it_pool_restart", fx->dsn, 0, 4);
    struct cq_err err = {0};
    struct cq_pool *p = cq_drv_pool_new(&cc, &err);
    assert_non_null(p);
    warm(p, 2);
    char v[16];
    assert_int_equal(pool_value(p, "SELECT 1", v, sizeof(v), &err), CQ_OK);
    struct cq_pool_stats before, after;
    cq_drv_pool_stats(p, &before);

    stop_pg(fx);
    start_pg(fx);
    /* Both idle connections died with the server: neither query may see it. */
    assert_int_equal(pool_value(p, "SELECT 2", v, sizeof(v), &err), CQ_OK);
    assert_string_equal(v, "2");
    assert_int_equal(pool_value(p, "SELECT 3", v, sizeof(v), &err), CQ_OK);
    assert_string_equal(v, "3");
    cq_drv_pool_stats(p, &after);
    assert_true(after.n_connects > before.n_connects);
    assert_true(after.n_dropped >= before.n_dropped + 1);
    assert_int_equal(after.in_use, 0);

    sleep_ms(1100); /* idle long enough to be pinged: the fresh connection passes */
    assert_int_equal(pool_value(p, "SELECT 4", v, sizeof(v), &err), CQ_OK);
    assert_string_equal(v, "4");
    cq_drv_pool_free(p);
}

/* Dead but recently used, so not pinged: the exec fails and is retried once. */
static void test_retry_after_backend_killed(void **state)
{
    struct fixture *fx = *state;
    struct cq_conn_conf cc = pg_conf("it_pool_retry", fx->dsn, 0, 1);
    struct cq_err err = {0};
    struct cq_pool *p = cq_drv_pool_new(&cc, &err);
    assert_non_null(p);
    char pid[16], pid2[16];
    assert_int_equal(pool_value(p, "SELECT pg_backend_pid()", pid, sizeof(pid), &err), CQ_OK);
    terminate_backend(fx, pid);
    assert_int_equal(pool_value(p, "SELECT pg_backend_pid()", pid2, sizeof(pid2), &err), CQ_OK);
    assert_string_not_equal(pid, pid2);
    struct cq_pool_stats s;
    cq_drv_pool_stats(p, &s);
    assert_int_equal(s.n_retries, 1);
    assert_int_equal(s.n_dropped, 1);
    assert_int_equal(s.n_connects, 2);
    assert_int_equal(s.open, 1);
    cq_drv_pool_free(p);
}

/* ---- (4) server down ---------------------------------------------------------------------- */

/* The fixture DSN with a password added to its userinfo. */
static char *with_password(const char *dsn, const char *pw)
{
    const char *auth = strstr(dsn, "://");
    const char *at = auth ? strchr(auth + 3, '@') : NULL;
    if (at == NULL || memchr(auth + 3, ':', (size_t)(at - auth - 3)) != NULL) {
        return NULL;
    }
    size_t size = strlen(dsn) + strlen(pw) + 2;
    char *out = malloc(size);
    assert_non_null(out);
    snprintf(out, size, "%.*s:%s%s", (int)(at - dsn), dsn, pw, at);
    return out;
}

static void check_down_error(const struct cq_err *err, int rc)
{
    assert_int_equal(rc, CQ_ECONNECT);
    assert_int_equal(err->rc, CQ_ECONNECT);
    assert_non_null(strstr(err->msg, "it_pool_down"));
    assert_non_null(strstr(err->msg, "127.0.0.1"));
    assert_null(strstr(err->msg, "s3cretpw"));
}

static void test_server_down(void **state)
{
    struct fixture *fx = *state;
    char *url = with_password(fx->dsn, "s3cretpw");
    if (url == NULL) {
        skip(); /* external DSN with its own password */
    }
    struct cq_conn_conf cc = pg_conf("it_pool_down", url, 1, 2);
    stop_pg(fx);
    struct cq_err err = {0};
    struct cq_pool *p = cq_drv_pool_new(&cc, &err); /* min 1 fails: only a warning */
    assert_non_null(p);
    assert_int_equal(err.rc, CQ_OK);
    struct cq_conn *c = NULL;
    check_down_error(&err, cq_drv_pool_get(p, &c, &err));
    assert_null(c);
    cq_err_clear(&err);
    check_down_error(&err, pool_value(p, "SELECT 1", NULL, 0, &err));
    struct cq_pool_stats s;
    cq_drv_pool_stats(p, &s);
    assert_int_equal(s.in_use, 0);
    assert_int_equal(s.open, 0);
    assert_int_equal(s.n_retries, 0);
    start_pg(fx);
    cq_err_clear(&err);
    char v[16];
    assert_int_equal(pool_value(p, "SELECT 5", v, sizeof(v), &err), CQ_OK);
    assert_string_equal(v, "5");
    cq_drv_pool_free(p);
    free(url);
}

/* ---- (5) idle reaping --------------------------------------------------------------------- */

static void check_open(struct cq_pool *p, int open, int in_use)
{
    struct cq_pool_stats s;
    cq_drv_pool_stats(p, &s);
    assert_int_equal(s.open, open);
    assert_int_equal(s.in_use, in_use);
}

static void test_idle_reaping(void **state)
{
    struct fixture *fx = *state;
    struct cq_conn_conf cc = pg_conf("it_pool_reap", fx->dsn, 1, 4);
    cc.pool.idle_timeout_ms = 200;
    struct cq_err err = {0};
    struct cq_pool *p = cq_drv_pool_new(&cc, &err);
    assert_non_null(p);
    check_open(p, 1, 0); /* min opened eagerly */
    struct cq_conn *c[4];
    char pid[4][16];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(cq_drv_pool_get(p, &c[i], &err), CQ_OK);
        assert_int_equal(conn_value(c[i], "SELECT pg_backend_pid()", pid[i], 16, &err), CQ_OK);
    }
    check_open(p, 4, 4);
    for (int i = 0; i < 4; i++) {
        cq_drv_pool_put(p, c[i]);
    }
    cq_drv_pool_reap(p);
    check_open(p, 4, 0); /* not idle long enough yet */
    sleep_ms(400);
    cq_drv_pool_reap(p);
    check_open(p, 1, 0);
    /* The survivor is the most recently returned one (LIFO keeps the warm end). */
    char v[16];
    assert_int_equal(pool_value(p, "SELECT pg_backend_pid()", v, sizeof(v), &err), CQ_OK);
    assert_string_equal(v, pid[3]);

    warm(p, 3); /* lazy reap: the next get closes the expired extras itself */
    check_open(p, 3, 0);
    sleep_ms(400);
    struct cq_conn *one = NULL;
    assert_int_equal(cq_drv_pool_get(p, &one, &err), CQ_OK);
    check_open(p, 1, 1);
    cq_drv_pool_put(p, one);
    cq_drv_pool_free(p);
}

/* ---- (6) health check on checkout --------------------------------------------------------- */

static void test_health_check_replaces_dead_idle(void **state)
{
    struct fixture *fx = *state;
    struct cq_conn_conf cc = pg_conf("it_pool_ping", fx->dsn, 0, 2);
    struct cq_err err = {0};
    struct cq_pool *p = cq_drv_pool_new(&cc, &err);
    assert_non_null(p);
    char pid[16], pid2[16];
    assert_int_equal(pool_value(p, "SELECT pg_backend_pid()", pid, sizeof(pid), &err), CQ_OK);
    terminate_backend(fx, pid);
    sleep_ms(1100);
    struct cq_conn *c = NULL;
    assert_int_equal(cq_drv_pool_get(p, &c, &err), CQ_OK);
    /* Used directly, without the pool's retry: the get itself must have replaced it. */
    assert_int_equal(conn_value(c, "SELECT pg_backend_pid()", pid2, sizeof(pid2), &err), CQ_OK);
    assert_string_not_equal(pid, pid2);
    cq_drv_pool_put(p, c);
    struct cq_pool_stats s;
    cq_drv_pool_stats(p, &s);
    assert_int_equal(s.n_dropped, 1);
    assert_int_equal(s.n_retries, 0);
    assert_int_equal(s.open, 1);
    cq_drv_pool_free(p);
}

/* ---- (7) many threads --------------------------------------------------------------------- */

#define N_THREADS 8
#define N_QUERIES 50
#define CAP 3

struct crowd {
    struct cq_pool *pool;
    atomic_int active; /* statements running right now */
    atomic_int peak;   /* most ever running at once */
};

struct crowd_thread {
    pthread_t th;
    struct crowd *crowd;
    int id;
    int n_ok;
    struct cq_err err;
};

/* Counts statements in flight: between on_columns and on_end we hold a pool slot. */
struct crowd_sink {
    struct crowd *crowd;
    char val[32];
};

static int crowd_columns(void *ctx, size_t n, const struct cq_col *cols, struct cq_err *err)
{
    struct crowd_sink *k = ctx;
    (void)n, (void)cols, (void)err;
    int now = atomic_fetch_add(&k->crowd->active, 1) + 1;
    int peak = atomic_load(&k->crowd->peak);
    while (now > peak && !atomic_compare_exchange_weak(&k->crowd->peak, &peak, now)) {
    }
    return CQ_OK;
}

static int crowd_row(void *ctx, size_t n, const struct cq_value *vals, struct cq_err *err)
{
    struct crowd_sink *k = ctx;
    (void)err;
    sleep_ms(2); /* hold the slot a little, so statements overlap */
    if (n == 1 && vals[0].len < sizeof(k->val)) {
        memcpy(k->val, vals[0].p, vals[0].len);
        k->val[vals[0].len] = '\0';
    }
    return CQ_OK;
}

static int crowd_end(void *ctx, const struct cq_result_info *info, struct cq_err *err)
{
    struct crowd_sink *k = ctx;
    (void)info, (void)err;
    atomic_fetch_sub(&k->crowd->active, 1);
    return CQ_OK;
}

static void *crowd_main(void *arg)
{
    struct crowd_thread *t = arg;
    for (int i = 0; i < N_QUERIES; i++) {
        struct crowd_sink k = {.crowd = t->crowd, .val = ""};
        const struct cq_rowsink sink = {
            .ctx = &k, .on_columns = crowd_columns, .on_row = crowd_row, .on_end = crowd_end,
        };
        char sql[64], want[32];
        int x = t->id * 1000 + i;
        snprintf(sql, sizeof(sql), "SELECT %d * 2", x);
        snprintf(want, sizeof(want), "%d", x * 2);
        struct cq_stmt st = {.sql = sql};
        if (cq_drv_pool_exec(t->crowd->pool, &st, &sink, &t->err) == CQ_OK &&
            strcmp(k.val, want) == 0) {
            t->n_ok++;
        }
    }
    return NULL;
}

static void test_many_threads(void **state)
{
    struct fixture *fx = *state;
    struct cq_conn_conf cc = pg_conf("it_pool_crowd", fx->dsn, 0, CAP);
    cc.limits.queue_timeout_ms = 30000;
    struct cq_err err = {0};
    struct crowd crowd = {.pool = cq_drv_pool_new(&cc, &err)};
    assert_non_null(crowd.pool);
    struct crowd_thread t[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        t[i] = (struct crowd_thread){.crowd = &crowd, .id = i};
        assert_int_equal(pthread_create(&t[i].th, NULL, crowd_main, &t[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(t[i].th, NULL);
        if (t[i].n_ok != N_QUERIES) {
            fail_msg("thread %d: %d of %d ok: %s", i, t[i].n_ok, N_QUERIES, t[i].err.msg);
        }
    }
    assert_true(atomic_load(&crowd.peak) <= CAP);
    assert_true(atomic_load(&crowd.peak) >= 2); /* they did share it concurrently */
    struct cq_pool_stats s;
    cq_drv_pool_stats(crowd.pool, &s);
    assert_int_equal(s.in_use, 0);
    assert_int_equal(s.waiting, 0);
    assert_true(s.open >= 1 && s.open <= CAP);
    assert_int_equal(s.n_connects, s.open); /* no churn: connections were reused */
    cq_drv_pool_free(crowd.pool);
}

/* ---- misc --------------------------------------------------------------------------------- */

static void test_unknown_driver(void **state)
{
    (void)state;
    struct cq_conn_conf cc = {.name = "it_pool_bad", .driver = "oracle", .url = "x"};
    struct cq_err err = {0};
    assert_null(cq_drv_pool_new(&cc, &err));
    assert_int_equal(err.rc, CQ_ENOTFOUND);
    assert_non_null(strstr(err.msg, "'oracle'"));
}

/* ---- fixture ------------------------------------------------------------------------------ */

static int group_setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (fx == NULL) {
        return -1;
    }
    fx->dsn = strdup(cq_test_require("CQ_IT_PG_DSN"));
    fx->tmpdir = cq_test_tmpdir("it_pool");
    *state = fx;
    return fx->dsn != NULL && fx->tmpdir != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    struct fixture *fx = *state;
    free(fx->dsn);
    free(fx->tmpdir);
    free(fx);
    return 0;
}

/* Whatever failed, the shared server must be running again for the next tests. */
static int restart_if_stopped(void **state)
{
    struct fixture *fx = *state;
    if (fx->pg_stopped) {
        fx->pg_stopped = cq_test_itenv("start pg") != 0;
    }
    return fx->pg_stopped ? -1 : 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_driver),
        cmocka_unit_test(test_exhaustion_times_out),
        cmocka_unit_test(test_exhaustion_waits_for_a_slot),
        cmocka_unit_test(test_fifo_order),
        cmocka_unit_test_teardown(test_restart_between_queries, restart_if_stopped),
        cmocka_unit_test(test_retry_after_backend_killed),
        cmocka_unit_test_teardown(test_server_down, restart_if_stopped),
        cmocka_unit_test(test_idle_reaping),
        cmocka_unit_test(test_health_check_replaces_dead_idle),
        cmocka_unit_test(test_many_threads),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
