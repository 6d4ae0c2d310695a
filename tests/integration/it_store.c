/*
 * it_store.c - the alert state store (src/alert/store.h) on both backends: a SQLite file
 * and the fixture PostgreSQL. Every test runs once per backend on a fresh store (a new
 * file, or a new schema it_store_<pid>_<n> reached through `options=-csearch_path` in the
 * URL, dropped afterwards), so reruns never see old tables.
 *
 * Covered: idempotent open, status of a never-run alert, record/status/history, the
 * delivery outbox (claim once, sent, retry later, failed, lease expiry, stale outcomes),
 * the pending count, exactly-once claims under contention (threads plus two processes
 * running this binary in a child mode), lease takeover, old slots, prune, atomicity of
 * record (a NULL channel fails the transaction midway), reopen, data written by a process
 * that dies without closing (_exit after record), and error messages (names the store,
 * no password, read-only connections refused).
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alert/store.h"
#include "base/time.h"
#include "cqtest.h"
#include "drv/drv.h"

#define N_THREADS 8
#define N_SLOTS 200
#define N_PROCS 2
#define SLOT_STEP 60000

struct fixture {
    bool pg;                /* PostgreSQL, else SQLite */
    char base_dsn[512];     /* the fixture's DSN (PostgreSQL); "" = none */
    char *tmpdir;           /* scratch (SQLite files) */
    int seq;                /* tests run so far: names the file or schema */
    char schema[64];        /* it_store_<pid>_<seq> */
    char target[1024];      /* this test's SQLite path or PostgreSQL DSN */
    struct cq_conn_conf cc; /* the "main" connection (PostgreSQL) */
    struct cq_conf conf;    /* built by hand, as the loader would */
};

static struct fixture lite_fx = {.pg = false};
static struct fixture pg_fx = {.pg = true};

/* ---- helpers ----------------------------------------------------------------------------- */

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void wait_until(int64_t wall_ms)
{
    int64_t left = wall_ms - cq_wall_ms();
    if (left > 0) {
        sleep_ms((long)left);
    }
}

/* A conf with state in target: the SQLite file, or connection "main" to the DSN with the
 * loader's defaults. */
static void make_conf(bool pg, char *target, struct cq_conn_conf *cc, struct cq_conf *conf)
{
    memset(cc, 0, sizeof(*cc));
    memset(conf, 0, sizeof(*conf));
    if (!pg) {
        conf->state.path = target;
        return;
    }
    cc->name = "main";
    cc->driver = "postgres";
    cc->url = target;
    cc->pool = (struct cq_pool_conf){.min = 0, .max = 4, .idle_timeout_ms = 300000};
    cc->limits =
        (struct cq_limits){.timeout_ms = 30000, .max_rows = 100000, .queue_timeout_ms = 5000};
    cc->read_only = false;
    conf->conns = cc;
    conf->n_conns = 1;
    conf->state.connection = "main";
}

static struct cq_conn *admin_conn(char *dsn, struct cq_err *err)
{
    struct cq_conn_conf cc = {.name = "admin", .driver = "postgres", .url = dsn};
    struct cq_dsn d;
    cq_drv_dsn_init(&d, &cc);
    return cq_drv_connect(cq_drv_find("postgres"), &d, err);
}

/* Captures the first column of the last row. */
struct one {
    char val[64];
};

static int one_columns(void *ctx, size_t n, const struct cq_col *cols, struct cq_err *err)
{
    (void)ctx, (void)n, (void)cols, (void)err;
    return CQ_OK;
}

static int one_row(void *ctx, size_t n, const struct cq_value *vals, struct cq_err *err)
{
    struct one *o = ctx;
    (void)err;
    if (n > 0 && vals[0].p != NULL) {
        snprintf(o->val, sizeof(o->val), "%.*s", (int)vals[0].len, vals[0].p);
    }
    return CQ_OK;
}

static int one_end(void *ctx, const struct cq_result_info *info, struct cq_err *err)
{
    (void)ctx, (void)info, (void)err;
    return CQ_OK;
}

/* Runs sql straight on the backend of this test (not through the store). */
static int64_t backend_value(struct fixture *fx, const char *sql)
{
    struct cq_err err = {0};
    struct cq_conn *c;
    if (fx->pg) {
        c = admin_conn(fx->target, &err);
    } else {
        struct cq_conn_conf cc = {.name = "peek", .driver = "sqlite", .path = fx->target};
        struct cq_dsn d;
        cq_drv_dsn_init(&d, &cc);
        c = cq_drv_connect(cq_drv_find("sqlite"), &d, &err);
    }
    if (c == NULL) {
        fail_msg("peek: %s", err.msg);
    }
    struct one o = {""};
    struct cq_rowsink sink = {
        .ctx = &o, .on_columns = one_columns, .on_row = one_row, .on_end = one_end};
    struct cq_stmt st = {.sql = sql};
    int rc = cq_drv_exec(c, &st, &sink, &err);
    cq_drv_disconnect(c);
    if (rc != CQ_OK) {
        fail_msg("peek: %s", err.msg);
    }
    return strtoll(o.val, NULL, 10);
}

static struct cq_alert_store *open_ok(const struct fixture *fx)
{
    struct cq_err err = {0};
    struct cq_alert_store *s = cq_alert_store_open(&fx->conf, &err);
    if (s == NULL) {
        fail_msg("open: %s", err.msg);
    }
    return s;
}

/* Records a run; notify (may be NULL) queues one delivery per channel. */
static int64_t record(struct cq_alert_store *s, const char *alert, int64_t slot, int64_t at,
                      const char *state, const char *value, const char *notify,
                      const char *const *channels, size_t n_ch)
{
    struct cq_alert_delivery d[8];
    struct cq_alert_run run = {
        .alert_id = alert,
        .slot_ms = slot,
        .run_at_ms = at,
        .state = state,
        .reason = "3 rows",
        .value = value,
        .row_count = 3,
        .duration_ms = 12.5,
        .error = strcmp(state, "error") == 0 ? "boom" : NULL,
        .fingerprint = notify != NULL ? "f00d" : NULL,
        .notified_state = notify,
    };
    struct cq_err err = {0};
    int64_t id = 0;
    for (size_t i = 0; i < n_ch; i++) {
        d[i] = (struct cq_alert_delivery){.channel = channels[i], .payload = "{\"text\":\"hi\"}"};
    }
    int rc = cq_alert_store_record(s, &run, d, n_ch, &id, &err);
    if (rc != CQ_OK) {
        fail_msg("record: %s", err.msg);
    }
    assert_true(id > 0);
    return id;
}

static bool claim(struct cq_alert_store *s, const char *alert, int64_t slot, const char *runner,
                  int64_t lease)
{
    struct cq_err err = {0};
    bool won = true;
    int rc = cq_alert_store_claim(s, alert, slot, runner, lease, &won, &err);
    if (rc != CQ_OK) {
        fail_msg("claim: %s", err.msg);
    }
    return won;
}

static int64_t pending(struct cq_alert_store *s)
{
    struct cq_err err = {0};
    int64_t n = -1;
    assert_int_equal(cq_alert_store_n_pending(s, &n, &err), CQ_OK);
    return n;
}

static size_t due(struct cq_alert_store *s, int64_t now, const char *runner, int64_t lease,
                  size_t max, struct cq_alert_pending **v)
{
    struct cq_err err = {0};
    size_t n = 99;
    int rc = cq_alert_store_due(s, now, runner, lease, max, v, &n, &err);
    if (rc != CQ_OK) {
        fail_msg("due: %s", err.msg);
    }
    return n;
}

static void delivered(struct cq_alert_store *s, int64_t id, enum cq_delivery_outcome o,
                      int attempts, int64_t next, const char *error)
{
    struct cq_err err = {0};
    int rc = cq_alert_store_delivered(s, id, o, attempts, next, error, &err);
    if (rc != CQ_OK) {
        fail_msg("delivered: %s", err.msg);
    }
}

/* History, copied. */
#define MAX_HIST 16

struct hist {
    size_t n;
    int64_t run_id[MAX_HIST], run_at[MAX_HIST], slot[MAX_HIST], rows[MAX_HIST];
    double duration[MAX_HIST];
    char state[MAX_HIST][16], value[MAX_HIST][32], error[MAX_HIST][32];
    char deliveries[MAX_HIST][256];
};

static int hist_cb(void *ctx, const struct cq_alert_history *h, struct cq_err *err)
{
    struct hist *k = ctx;
    (void)err;
    if (k->n == MAX_HIST) {
        return CQ_ETOOBIG;
    }
    size_t i = k->n++;
    k->run_id[i] = h->run_id;
    k->run_at[i] = h->run_at_ms;
    k->slot[i] = h->slot_ms;
    k->rows[i] = h->row_count;
    k->duration[i] = h->duration_ms;
    snprintf(k->state[i], sizeof(k->state[i]), "%s", h->state);
    snprintf(k->value[i], sizeof(k->value[i]), "%s", h->value != NULL ? h->value : "(null)");
    snprintf(k->error[i], sizeof(k->error[i]), "%s", h->error != NULL ? h->error : "(null)");
    snprintf(k->deliveries[i], sizeof(k->deliveries[i]), "%s", h->deliveries);
    return CQ_OK;
}

static void history(struct cq_alert_store *s, const char *alert, int limit, struct hist *k)
{
    struct cq_err err = {0};
    memset(k, 0, sizeof(*k));
    int rc = cq_alert_store_history(s, alert, limit, hist_cb, k, &err);
    if (rc != CQ_OK) {
        fail_msg("history: %s", err.msg);
    }
}

static void status(struct cq_alert_store *s, const char *alert, struct cq_alert_status *st)
{
    struct cq_err err = {0};
    int rc = cq_alert_store_status(s, alert, st, &err);
    if (rc != CQ_OK) {
        fail_msg("status: %s", err.msg);
    }
}

/* Runs this binary in a child mode; its stdout comes back through *fd (may be NULL). */
static pid_t spawn_child(const struct fixture *fx, const char *mode, const char *alert,
                         const char *runner, int64_t start_ms, int *fd)
{
    int pfd[2] = {-1, -1};
    if (fd != NULL) {
        assert_int_equal(pipe(pfd), 0);
    }
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (fd != NULL) {
            dup2(pfd[1], 1);
            close(pfd[0]);
            close(pfd[1]);
        }
        char start[24];
        snprintf(start, sizeof(start), "%lld", (long long)start_ms);
        char *argv[] = {strdup("cq-it-store"),
                        strdup(mode),
                        strdup(fx->pg ? "postgres" : "sqlite"),
                        strdup(fx->target),
                        strdup(alert),
                        strdup(runner),
                        start,
                        NULL};
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    if (fd != NULL) {
        close(pfd[1]);
        *fd = pfd[0];
    }
    return pid;
}

static void wait_ok(pid_t pid)
{
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- per-test setup: a fresh store location ----------------------------------------------- */

static int setup(void **state)
{
    struct fixture *fx = *state;
    fx->seq++;
    if (!fx->pg) {
        snprintf(fx->target, sizeof(fx->target), "%s/state-%d.db", fx->tmpdir, fx->seq);
        unlink(fx->target);
    } else {
        struct cq_err err = {0};
        char sql[256];
        snprintf(fx->schema, sizeof(fx->schema), "it_store_%ld_%d", (long)getpid(), fx->seq);
        snprintf(fx->target, sizeof(fx->target), "%s%coptions=-csearch_path%%3D%s", fx->base_dsn,
                 strchr(fx->base_dsn, '?') ? '&' : '?', fx->schema);
        struct cq_conn *c = admin_conn(fx->base_dsn, &err);
        if (c == NULL) {
            fprintf(stderr, "setup: %s\n", err.msg);
            return -1;
        }
        snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", fx->schema,
                 fx->schema);
        struct cq_stmt st = {.sql = sql, .allow_multi = true};
        int rc = cq_drv_exec(c, &st, &cq_drv_discard_sink, &err);
        cq_drv_disconnect(c);
        if (rc != CQ_OK) {
            fprintf(stderr, "setup: %s\n", err.msg);
            return -1;
        }
    }
    make_conf(fx->pg, fx->target, &fx->cc, &fx->conf);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    if (fx->pg) {
        struct cq_err err = {0};
        char sql[128];
        struct cq_conn *c = admin_conn(fx->base_dsn, &err);
        if (c != NULL) {
            snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", fx->schema);
            struct cq_stmt st = {.sql = sql};
            cq_drv_exec(c, &st, &cq_drv_discard_sink, &err);
            cq_drv_disconnect(c);
        }
    }
    return 0;
}

/* ---- open, status, record, history -------------------------------------------------------- */

static void test_open_twice(void **state)
{
    struct fixture *fx = *state;
    struct cq_alert_store *a = open_ok(fx);
    struct cq_alert_store *b = open_ok(fx); /* the tables exist now: DDL is idempotent */
    char where[1100];
    snprintf(where, sizeof(where), fx->pg ? "postgres:main" : "sqlite:%s", fx->target);
    assert_string_equal(cq_alert_store_where(a), where);
    record(a, "twice", SLOT_STEP, 1000, "ok", "1", NULL, NULL, 0);
    struct cq_alert_status st;
    status(b, "twice", &st);
    assert_string_equal(st.state, "ok");
    cq_alert_store_free(a);
    cq_alert_store_free(b);
    cq_alert_store_free(NULL);
    assert_int_equal(backend_value(fx, "SELECT value FROM clariq_alert_meta "
                                       "WHERE name = 'schema_version'"),
                     1);
}

static void test_status_never_run(void **state)
{
    struct fixture *fx = *state;
    struct cq_alert_store *s = open_ok(fx);
    struct cq_alert_status st;
    memset(&st, 0x5a, sizeof(st));
    status(s, "never", &st);
    assert_string_equal(st.state, "");
    assert_int_equal(st.last_run_ms, 0);
    assert_int_equal(st.last_slot_ms, 0);
    assert_int_equal(st.last_notified_ms, 0);
    assert_string_equal(st.last_notified_state, "");
    assert_string_equal(st.fingerprint, "");
    assert_false(st.has_value);
    cq_alert_store_free(s);
}

static void test_record_status_history(void **state)
{
    struct fixture *fx = *state;
    struct cq_alert_store *s = open_ok(fx);
    const char *const chans[] = {"slack_ops", "email"};
    struct cq_alert_status st;
    struct hist h;

    int64_t id1 = record(s, "hist", 1 * SLOT_STEP, 61000, "ok", "5", NULL, NULL, 0);
    status(s, "hist", &st);
    assert_string_equal(st.state, "ok");
    assert_int_equal(st.last_run_ms, 61000);
    assert_int_equal(st.last_slot_ms, SLOT_STEP);
    assert_true(st.has_value);
    assert_string_equal(st.value, "5");
    assert_int_equal(st.last_notified_ms, 0);

    int64_t id2 = record(s, "hist", 2 * SLOT_STEP, 121000, "triggered", "9", "triggered", chans, 2);
    assert_true(id2 > id1);
    status(s, "hist", &st);
    assert_string_equal(st.state, "triggered");
    assert_int_equal(st.last_notified_ms, 121000);
    assert_string_equal(st.last_notified_state, "triggered");
    assert_string_equal(st.fingerprint, "f00d");
    assert_string_equal(st.value, "9");

    /* an error keeps the last value and the last notification */
    record(s, "hist", 3 * SLOT_STEP, 181000, "error", NULL, NULL, NULL, 0);
    status(s, "hist", &st);
    assert_string_equal(st.state, "error");
    assert_true(st.has_value);
    assert_string_equal(st.value, "9");
    assert_int_equal(st.last_notified_ms, 121000);
    assert_string_equal(st.fingerprint, "f00d");
    assert_int_equal(st.last_slot_ms, 3 * SLOT_STEP);

    /* an `alert test` run (slot 0) never moves the last slot back */
    record(s, "hist", 0, 190000, "ok", NULL, NULL, NULL, 0);
    status(s, "hist", &st);
    assert_int_equal(st.last_slot_ms, 3 * SLOT_STEP);
    assert_int_equal(st.last_run_ms, 190000);
    assert_false(st.has_value); /* an ok run without a value clears it */

    record(s, "other", SLOT_STEP, 500000, "ok", "x", NULL, NULL, 0);
    history(s, "hist", 10, &h);
    assert_int_equal(h.n, 4);
    assert_int_equal(h.run_at[0], 190000);
    assert_int_equal(h.run_at[1], 181000);
    assert_int_equal(h.run_at[2], 121000);
    assert_int_equal(h.run_at[3], 61000);
    assert_int_equal(h.run_id[2], id2);
    assert_int_equal(h.slot[2], 2 * SLOT_STEP);
    assert_string_equal(h.state[1], "error");
    assert_string_equal(h.error[1], "boom");
    assert_string_equal(h.value[1], "(null)");
    assert_string_equal(h.value[2], "9");
    assert_int_equal(h.rows[2], 3);
    assert_true(h.duration[2] > 12.4 && h.duration[2] < 12.6);
    assert_string_equal(h.deliveries[2], "slack_ops:pending email:pending");
    assert_string_equal(h.deliveries[0], "");

    history(s, "hist", 2, &h);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.run_at[1], 181000);
    history(s, "nobody", 5, &h);
    assert_int_equal(h.n, 0);
    cq_alert_store_free(s);
}

/* ---- the outbox --------------------------------------------------------------------------- */

static void test_deliveries(void **state)
{
    struct fixture *fx = *state;
    struct cq_alert_store *s = open_ok(fx);
    const char *const chans[] = {"a", "b"};
    struct cq_alert_pending *v = NULL;
    struct hist h;
    int64_t now = cq_wall_ms();

    assert_int_equal(pending(s), 0);
    assert_int_equal(due(s, now, "r1", 60000, 10, &v), 0);
    assert_null(v);
    int64_t run = record(s, "out", SLOT_STEP, now - 10, "triggered", "1", "triggered", chans, 2);
    assert_int_equal(pending(s), 2);

    now = cq_wall_ms();
    assert_int_equal(due(s, now, "r1", 60000, 10, &v), 2);
    assert_true(v[0].id < v[1].id);
    assert_int_equal(v[0].run_id, run);
    assert_string_equal(v[0].alert_id, "out");
    assert_string_equal(v[0].channel, "a");
    assert_string_equal(v[1].channel, "b");
    assert_string_equal(v[0].payload, "{\"text\":\"hi\"}");
    assert_int_equal(v[0].attempts, 0);
    int64_t ida = v[0].id, idb = v[1].id;
    cq_alert_pending_free(v, 2);

    /* claimed: nobody else gets them while the lease runs */
    assert_int_equal(due(s, now, "r2", 60000, 10, &v), 0);

    delivered(s, ida, CQ_DELIVERY_SENT, 1, 0, NULL);
    delivered(s, idb, CQ_DELIVERY_RETRY, 1, now + 5000, "timeout");
    assert_int_equal(pending(s), 1);
    assert_int_equal(due(s, now + 1000, "r2", 60000, 10, &v), 0); /* not due yet */
    assert_int_equal(due(s, now + 5000, "r2", 60000, 10, &v), 1);
    assert_int_equal(v[0].id, idb);
    assert_int_equal(v[0].attempts, 1);
    cq_alert_pending_free(v, 1);
    delivered(s, idb, CQ_DELIVERY_FAILED, 2, 0, "HTTP 500");
    assert_int_equal(pending(s), 0);
    history(s, "out", 5, &h);
    assert_int_equal(h.n, 1);
    assert_string_equal(h.deliveries[0], "a:sent b:failed(2): HTTP 500");

    /* a lease that runs out: another runner takes the delivery over; the first runner's
     * late outcome does not overwrite the second's */
    const char *const one[] = {"c"};
    record(s, "out", 2 * SLOT_STEP, now, "ok", "0", "resolved", one, 1);
    now = cq_wall_ms();
    assert_int_equal(due(s, now, "r1", 100, 10, &v), 1);
    int64_t idc = v[0].id;
    cq_alert_pending_free(v, 1);
    assert_int_equal(due(s, now + 50, "r2", 100, 10, &v), 0);
    assert_int_equal(due(s, now + 100, "r2", 100, 10, &v), 1);
    assert_int_equal(v[0].id, idc);
    cq_alert_pending_free(v, 1);
    delivered(s, idc, CQ_DELIVERY_SENT, 1, 0, NULL);         /* r2 */
    delivered(s, idc, CQ_DELIVERY_FAILED, 1, 0, "too late"); /* r1, stale */
    history(s, "out", 1, &h);
    assert_string_equal(h.deliveries[0], "c:sent");

    /* max, and an unknown id */
    const char *const three[] = {"x", "y", "z"};
    record(s, "out", 3 * SLOT_STEP, now, "triggered", "1", "triggered", three, 3);
    now = cq_wall_ms();
    assert_int_equal(due(s, now, "r1", 60000, 2, &v), 2);
    assert_string_equal(v[0].channel, "x");
    assert_string_equal(v[1].channel, "y");
    cq_alert_pending_free(v, 2);
    assert_int_equal(due(s, now, "r1", 60000, 10, &v), 1);
    assert_string_equal(v[0].channel, "z");
    cq_alert_pending_free(v, 1);
    assert_int_equal(due(s, now, "r1", 60000, 0, &v), 0);
    assert_int_equal(pending(s), 3);

    struct cq_err err = {0};
    assert_int_equal(cq_alert_store_delivered(s, 987654321, CQ_DELIVERY_SENT, 1, 0, NULL, &err),
                     CQ_ENOTFOUND);
    assert_non_null(strstr(err.msg, "alert state store "));
    cq_alert_store_free(s);
}

/* Runners taking due deliveries at the same time never get the same one. */
struct taker {
    pthread_t th;
    struct cq_alert_store *s;
    char runner[16];
    int64_t ids[64];
    size_t n;
    int rc;
    char error[512];
};

static void *take_main(void *arg)
{
    struct taker *t = arg;
    for (;;) {
        struct cq_alert_pending *v = NULL;
        struct cq_err err = {0};
        size_t n = 0;
        t->rc = cq_alert_store_due(t->s, cq_wall_ms(), t->runner, 600000, 3, &v, &n, &err);
        if (t->rc != CQ_OK) {
            snprintf(t->error, sizeof(t->error), "%s", err.msg);
        }
        for (size_t i = 0; i < n && t->n < 64; i++) {
            t->ids[t->n++] = v[i].id;
        }
        cq_alert_pending_free(v, n);
        if (t->rc != CQ_OK || n == 0) {
            return NULL;
        }
    }
}

static void test_due_contention(void **state)
{
    struct fixture *fx = *state;
    struct cq_alert_store *s = open_ok(fx);
    const char *const chans[] = {"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"};
    struct taker t[N_THREADS];
    int seen[8 * 8] = {0};
    for (int r = 0; r < 8; r++) {
        record(s, "fanout", (r + 1) * SLOT_STEP, 1000 + r, "triggered", "1", "triggered", chans, 8);
    }
    assert_int_equal(pending(s), 64);
    for (int i = 0; i < N_THREADS; i++) {
        t[i] = (struct taker){.s = s};
        snprintf(t[i].runner, sizeof(t[i].runner), "taker%d", i);
        assert_int_equal(pthread_create(&t[i].th, NULL, take_main, &t[i]), 0);
    }
    size_t total = 0;
    int64_t min_id = INT64_MAX;
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(t[i].th, NULL);
        if (t[i].rc != CQ_OK) {
            fail_msg("%s: %s", t[i].runner, t[i].error);
        }
        for (size_t k = 0; k < t[i].n; k++) {
            min_id = t[i].ids[k] < min_id ? t[i].ids[k] : min_id;
        }
        total += t[i].n;
    }
    assert_int_equal(total, 64);
    for (int i = 0; i < N_THREADS; i++) {
        for (size_t k = 0; k < t[i].n; k++) {
            int64_t slot = t[i].ids[k] - min_id;
            assert_true(slot >= 0 && slot < 64);
            if (++seen[slot] != 1) {
                fail_msg("delivery %lld handed out twice", (long long)t[i].ids[k]);
            }
        }
    }
    assert_int_equal(pending(s), 64); /* claimed, not finished */
    cq_alert_store_free(s);
}

/* Several runners starting on an empty database create the tables at the same moment. */
struct opener {
    pthread_t th;
    const struct cq_conf *conf;
    struct cq_alert_store *s;
    struct cq_err err;
};

static void *open_main(void *arg)
{
    struct opener *o = arg;
    o->s = cq_alert_store_open(o->conf, &o->err);
    return NULL;
}

static void test_open_concurrently(void **state)
{
    struct fixture *fx = *state;
    struct opener o[4];
    for (int i = 0; i < 4; i++) {
        o[i] = (struct opener){.conf = &fx->conf};
        assert_int_equal(pthread_create(&o[i].th, NULL, open_main, &o[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(o[i].th, NULL);
        if (o[i].s == NULL) {
            fail_msg("open %d: %s", i, o[i].err.msg);
        }
    }
    record(o[0].s, "co", SLOT_STEP, 1000, "ok", "1", NULL, NULL, 0);
    for (int i = 0; i < 4; i++) {
        struct cq_alert_status st;
        status(o[i].s, "co", &st);
        assert_string_equal(st.state, "ok");
        cq_alert_store_free(o[i].s);
    }
}

/* ---- claims ------------------------------------------------------------------------------- */

struct contender {
    pthread_t th;
    struct cq_alert_store *s;
    const char *alert;
    char runner[16];
    atomic_int *wins; /* N_SLOTS */
    int64_t start_ms; /* wall clock: everybody starts at once */
    int failures;
    int n_won;
    char error[512];
};

static void *contend_main(void *arg)
{
    struct contender *c = arg;
    wait_until(c->start_ms);
    for (int k = 0; k < N_SLOTS; k++) {
        struct cq_err err = {0};
        bool won = false;
        int i = k; /* the threads all go in the same order: every claim is a tie */
        if (cq_alert_store_claim(c->s, c->alert, (int64_t)(i + 1) * SLOT_STEP, c->runner, 600000,
                                 &won, &err) != CQ_OK) {
            c->failures++;
            snprintf(c->error, sizeof(c->error), "%s", err.msg);
        } else if (won) {
            atomic_fetch_add(&c->wins[i], 1);
            c->n_won++;
        }
    }
    return NULL;
}

/* One round: N_THREADS threads of this process and n_procs other processes claim the same
 * N_SLOTS slots of alert at once; every slot must be won exactly once. */
static void contend(struct fixture *fx, struct cq_alert_store *s, const char *alert, int n_procs)
{
    struct contender t[N_THREADS];
    atomic_int wins[N_SLOTS];
    pid_t pids[N_PROCS];
    int fds[N_PROCS];
    int64_t start = cq_wall_ms() + (n_procs > 0 ? 1500 : 100); /* children open first */

    for (int i = 0; i < N_SLOTS; i++) {
        atomic_init(&wins[i], 0);
    }
    for (int p = 0; p < n_procs; p++) {
        char runner[16];
        snprintf(runner, sizeof(runner), "proc%d", p);
        pids[p] = spawn_child(fx, "child-claim", alert, runner, start, &fds[p]);
    }
    for (int i = 0; i < N_THREADS; i++) {
        t[i] = (struct contender){.s = s, .alert = alert, .wins = wins, .start_ms = start};
        snprintf(t[i].runner, sizeof(t[i].runner), "thread%d", i);
        assert_int_equal(pthread_create(&t[i].th, NULL, contend_main, &t[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(t[i].th, NULL);
        if (t[i].failures > 0) {
            fail_msg("thread %d: %d claims failed: %s", i, t[i].failures, t[i].error);
        }
    }
    int by_procs = 0;
    for (int p = 0; p < n_procs; p++) {
        FILE *f = fdopen(fds[p], "r");
        int slot;
        assert_non_null(f);
        while (fscanf(f, "%d", &slot) == 1) {
            assert_true(slot >= 0 && slot < N_SLOTS);
            atomic_fetch_add(&wins[slot], 1);
            by_procs++;
        }
        fclose(f);
        wait_ok(pids[p]);
    }
    for (int i = 0; i < N_SLOTS; i++) {
        if (atomic_load(&wins[i]) != 1) {
            fail_msg("%s: slot %d won %d times", alert, i, atomic_load(&wins[i]));
        }
    }
    printf("# %s: %d slots won by %d processes, by %d threads:", alert, by_procs, n_procs,
           N_THREADS);
    for (int i = 0; i < N_THREADS; i++) {
        printf(" %d", t[i].n_won);
    }
    printf(" (%lld ms)\n", (long long)(cq_wall_ms() - start));
}

static void test_claim_contention(void **state)
{
    struct fixture *fx = *state;
    struct cq_alert_store *s = open_ok(fx);
    contend(fx, s, "threads", 0);
    contend(fx, s, "processes", N_PROCS);
    cq_alert_store_free(s);
}

static void test_lease_takeover(void **state)
{
    struct fixture *fx = *state;
    struct cq_alert_store *s = open_ok(fx);
    int64_t slot = 10 * SLOT_STEP;

    /* leases long enough that a slow machine cannot end them between two claims */
    assert_true(claim(s, "lease", slot, "a", 1000));
    assert_false(claim(s, "lease", slot, "b", 1000));
    assert_false(claim(s, "lease", slot, "a", 1000)); /* not even the holder, twice */
    sleep_ms(1100);
    assert_true(claim(s, "lease", slot, "b", 1000)); /* a died without recording */
    assert_false(claim(s, "lease", slot, "c", 1000));

    /* once the run is recorded the slot is done, lease or not */
    int64_t slot2 = 11 * SLOT_STEP;
    assert_true(claim(s, "lease", slot2, "a", 200));
    record(s, "lease", slot2, cq_wall_ms(), "ok", "1", NULL, NULL, 0);
    sleep_ms(250);
    assert_false(claim(s, "lease", slot2, "b", 200));
    /* other alerts are independent */
    assert_true(claim(s, "lease2", slot2, "b", 200));
    cq_alert_store_free(s);
}

static void test_old_slot(void **state)
{
    struct fixture *fx = *state;
    struct cq_alert_store *s = open_ok(fx);
    record(s, "old", 5000, 5100, "ok", "1", NULL, NULL, 0);
    assert_false(claim(s, "old", 4000, "a", 1000));
    assert_false(claim(s, "old", 5000, "a", 1000));
    assert_true(claim(s, "old", 6000, "a", 1000));
    cq_alert_store_free(s);
}

/* ---- prune, atomicity, durability ---------------------------------------------------------- */

static void test_prune(void **state)
{
    struct fixture *fx = *state;
    struct cq_alert_store *s = open_ok(fx);
    const char *const one[] = {"ops"};
    struct cq_alert_pending *v = NULL;
    struct cq_err err = {0};
    struct hist h;
    int64_t n = -1, now = cq_wall_ms();

    record(s, "p", 1 * SLOT_STEP, 1000, "triggered", "1", "triggered", one, 1); /* pending */
    record(s, "p", 2 * SLOT_STEP, 2000, "ok", "0", "resolved", one, 1);
    assert_int_equal(due(s, cq_wall_ms(), "r", 60000, 10, &v), 2);
    delivered(s, v[1].id, CQ_DELIVERY_SENT, 1, 0, NULL); /* the 2000 run's */
    cq_alert_pending_free(v, 2);
    record(s, "p", 3 * SLOT_STEP, 3000, "ok", "0", NULL, NULL, 0);
    record(s, "p", 4 * SLOT_STEP, now, "ok", "0", NULL, NULL, 0);
    assert_true(claim(s, "p", 9 * SLOT_STEP, "r", 0)); /* a claim that ended at once */
    assert_int_equal(backend_value(fx, "SELECT count(*) FROM clariq_alert_claims"), 1);

    assert_int_equal(cq_alert_store_prune(s, 2500, &n, &err), CQ_OK);
    assert_int_equal(n, 1); /* the 2000 run; the 1000 one has a pending delivery */
    history(s, "p", 10, &h);
    assert_int_equal(h.n, 3);
    assert_int_equal(h.run_at[2], 1000);
    assert_string_equal(h.deliveries[2], "ops:pending");
    assert_int_equal(backend_value(fx, "SELECT count(*) FROM clariq_alert_deliveries"), 1);

    assert_int_equal(cq_alert_store_prune(s, now + 1000, &n, &err), CQ_OK);
    assert_int_equal(n, 2);
    history(s, "p", 10, &h);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.run_at[0], 1000);
    assert_int_equal(pending(s), 1);
    assert_int_equal(backend_value(fx, "SELECT count(*) FROM clariq_alert_claims"), 0);
    /* the status survives: old slots stay done */
    assert_false(claim(s, "p", 4 * SLOT_STEP, "r", 1000));
    assert_int_equal(cq_alert_store_prune(s, now + 1000, NULL, &err), CQ_OK);
    cq_alert_store_free(s);
}

/* A NULL channel breaks NOT NULL after the run and the status were written: nothing of the
 * transaction may remain, and the store keeps working (no connection left mid-transaction). */
static void test_record_atomic(void **state)
{
    struct fixture *fx = *state;
    struct cq_alert_store *s = open_ok(fx);
    struct cq_alert_status st;
    struct cq_err err = {0};
    struct hist h;
    int64_t id = -1;

    record(s, "atom", SLOT_STEP, 1000, "ok", "1", NULL, NULL, 0);
    struct cq_alert_delivery d[] = {{.channel = "ok", .payload = "{}"},
                                    {.channel = NULL, .payload = "{}"}};
    struct cq_alert_run run = {
        .alert_id = "atom",
        .slot_ms = 2 * SLOT_STEP,
        .run_at_ms = 2000,
        .state = "triggered",
        .value = "7",
        .row_count = 1,
        .fingerprint = "beef",
        .notified_state = "triggered",
    };
    for (int i = 0; i < 6; i++) { /* more than the pool's connections */
        memset(&err, 0, sizeof(err));
        assert_int_equal(cq_alert_store_record(s, &run, d, 2, &id, &err), CQ_EBACKEND);
        assert_int_equal(id, 0);
    }
    char prefix[1100];
    snprintf(prefix, sizeof(prefix),
             "alert state store %s: recording a run of atom: ", cq_alert_store_where(s));
    assert_memory_equal(err.msg, prefix, strlen(prefix));
    assert_non_null(strstr(err.msg, "channel"));
    status(s, "atom", &st);
    assert_string_equal(st.state, "ok");
    assert_int_equal(st.last_slot_ms, SLOT_STEP);
    assert_int_equal(st.last_notified_ms, 0);
    assert_string_equal(st.value, "1");
    history(s, "atom", 10, &h);
    assert_int_equal(h.n, 1);
    assert_int_equal(pending(s), 0);
    assert_int_equal(backend_value(fx, "SELECT count(*) FROM clariq_alert_runs"), 1);
    /* the slot was not recorded, so it can still be claimed and run */
    assert_true(claim(s, "atom", 2 * SLOT_STEP, "r", 1000));
    for (int i = 0; i < 6; i++) {
        d[1].channel = "ok2";
        run.slot_ms = (2 + i) * SLOT_STEP;
        memset(&err, 0, sizeof(err));
        assert_int_equal(cq_alert_store_record(s, &run, d, 2, &id, &err), CQ_OK);
    }
    assert_int_equal(pending(s), 12);
    cq_alert_store_free(s);
}

static void test_reopen(void **state)
{
    struct fixture *fx = *state;
    struct cq_alert_store *s = open_ok(fx);
    const char *const one[] = {"ops"};
    struct cq_alert_status st;
    struct hist h;
    int64_t id = record(s, "re", SLOT_STEP, 1000, "triggered", "3", "triggered", one, 1);
    cq_alert_store_free(s);

    s = open_ok(fx);
    status(s, "re", &st);
    assert_string_equal(st.state, "triggered");
    assert_int_equal(st.last_slot_ms, SLOT_STEP);
    assert_string_equal(st.value, "3");
    history(s, "re", 5, &h);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.run_id[0], id);
    assert_string_equal(h.deliveries[0], "ops:pending");
    assert_int_equal(pending(s), 1);
    cq_alert_store_free(s);
}

/* A process records and dies without closing anything (as kill -9 would leave it). */
static void test_crash_after_record(void **state)
{
    struct fixture *fx = *state;
    struct cq_alert_store *s = open_ok(fx); /* another process has the store open meanwhile */
    struct cq_alert_status st;
    struct hist h;
    wait_ok(spawn_child(fx, "child-record", "crash", "victim", 0, NULL));
    status(s, "crash", &st);
    assert_string_equal(st.state, "triggered");
    assert_int_equal(st.last_slot_ms, 42 * SLOT_STEP);
    cq_alert_store_free(s);

    s = open_ok(fx);
    history(s, "crash", 5, &h);
    assert_int_equal(h.n, 1);
    assert_string_equal(h.deliveries[0], "ops:pending");
    assert_int_equal(pending(s), 1);
    assert_false(claim(s, "crash", 42 * SLOT_STEP, "r", 1000));
    cq_alert_store_free(s);
}

/* ---- errors -------------------------------------------------------------------------------- */

static void expect_open_error(const struct cq_conf *conf, enum cq_rc rc, const char *prefix,
                              const char *needle)
{
    struct cq_err err = {0};
    assert_null(cq_alert_store_open(conf, &err));
    if (err.rc != rc || strncmp(err.msg, prefix, strlen(prefix)) != 0 ||
        (needle != NULL && strstr(err.msg, needle) == NULL)) {
        fail_msg("expected rc %d, '%s...' with '%s'; got rc %d: %s", rc, prefix,
                 needle != NULL ? needle : "", err.rc, err.msg);
    }
}

static void test_errors_sqlite(void **state)
{
    struct fixture *fx = *state;
    struct cq_conf conf = {0};
    conf.state.path = "/nonexistent-dir/state.db";
    expect_open_error(&conf, CQ_ECONNECT,
                      "alert state store sqlite:/nonexistent-dir/state.db: ", "directory");
    conf.state.path = NULL;
    expect_open_error(&conf, CQ_EINVAL, "alert state store: open: ", "state.path");
    /* not a database */
    char path[1100];
    snprintf(path, sizeof(path), "%s/garbage-%d.db", fx->tmpdir, fx->seq);
    assert_true(cq_test_write_file(path, "this is not a database, just some text to fill a "
                                         "page............................................"));
    conf.state.path = path;
    expect_open_error(&conf, CQ_ECONNECT, "alert state store sqlite:", "not a database");
    /* :memory: works on its single connection */
    conf.state.path = ":memory:";
    struct cq_alert_store *s = open_ok(&(struct fixture){.conf = conf});
    record(s, "mem", SLOT_STEP, 1000, "ok", "1", NULL, NULL, 0);
    struct cq_alert_status st;
    status(s, "mem", &st);
    assert_string_equal(st.state, "ok");
    cq_alert_store_free(s);
}

static void test_errors_pg(void **state)
{
    struct fixture *fx = *state;
    struct cq_conn_conf cc[2];
    struct cq_conf conf;
    make_conf(true, fx->target, &cc[0], &conf);
    cc[0].read_only = true;
    expect_open_error(&conf, CQ_EREADONLY, "alert state store postgres:main: ",
                      "set read_only: false on connection main; the state store writes");

    cc[0].read_only = false;
    conf.state.connection = "nope";
    expect_open_error(&conf, CQ_ENOTFOUND, "alert state store postgres:nope: ", "'nope'");

    cc[1] = (struct cq_conn_conf){.name = "lite", .driver = "sqlite", .path = ":memory:"};
    conf.conns = cc;
    conf.n_conns = 2;
    conf.state.connection = "lite";
    expect_open_error(&conf, CQ_EINVAL, "alert state store postgres:lite: ", "postgres");

    /* unreachable, with a password in the URL: the message must not carry it */
    conf.state.connection = "main";
    cc[0].url = "postgresql://postgres:s3cretpw@127.0.0.1:1/postgres?connect_timeout=2";
    expect_open_error(&conf, CQ_ECONNECT, "alert state store postgres:main: ", "***");
    struct cq_err err = {0};
    assert_null(cq_alert_store_open(&conf, &err));
    assert_null(strstr(err.msg, "s3cretpw"));
}

static void test_errors(void **state)
{
    const struct fixture *fx = *state;
    if (fx->pg) {
        test_errors_pg(state);
    } else {
        test_errors_sqlite(state);
    }
}

/* ---- child modes (run by spawn_child) ------------------------------------------------------- */

static struct cq_alert_store *child_open(char **argv)
{
    static struct cq_conn_conf cc;
    static struct cq_conf conf;
    struct cq_err err = {0};
    make_conf(strcmp(argv[2], "postgres") == 0, argv[3], &cc, &conf);
    struct cq_alert_store *s = cq_alert_store_open(&conf, &err);
    if (s == NULL) {
        fprintf(stderr, "child: %s\n", err.msg);
    }
    return s;
}

/* child-claim BACKEND TARGET ALERT procN START: claims the contention slots from START
 * (wall ms) on, prints the won ones. */
static int child_claim(char **argv)
{
    struct cq_alert_store *s = child_open(argv);
    int rc = 0;
    if (s == NULL) {
        return 1;
    }
    /* procN starts at its own place in the ring, so it meets the threads midway whatever
     * the head start of either side */
    int offset = (atoi(argv[5] + 4) + 1) * N_SLOTS / (N_PROCS + 1);
    wait_until(strtoll(argv[6], NULL, 10));
    for (int k = 0; k < N_SLOTS && rc == 0; k++) {
        struct cq_err err = {0};
        bool won = false;
        int i = (k + offset) % N_SLOTS;
        if (cq_alert_store_claim(s, argv[4], (int64_t)(i + 1) * SLOT_STEP, argv[5], 600000, &won,
                                 &err) != CQ_OK) {
            fprintf(stderr, "child: %s\n", err.msg);
            rc = 1;
        } else if (won) {
            printf("%d\n", i);
        }
    }
    fflush(stdout);
    cq_alert_store_free(s);
    return rc;
}

/* child-record BACKEND TARGET ALERT RUNNER 0: records one run and dies without cleanup. */
static int child_record(char **argv)
{
    struct cq_alert_store *s = child_open(argv);
    struct cq_err err = {0};
    bool won = false;
    if (s == NULL) {
        return 1;
    }
    struct cq_alert_delivery d = {.channel = "ops", .payload = "{}"};
    struct cq_alert_run run = {
        .alert_id = argv[4],
        .slot_ms = 42 * SLOT_STEP,
        .run_at_ms = cq_wall_ms(),
        .state = "triggered",
        .value = "1",
        .row_count = 1,
        .notified_state = "triggered",
    };
    if (cq_alert_store_claim(s, argv[4], run.slot_ms, argv[5], 60000, &won, &err) != CQ_OK ||
        !won || cq_alert_store_record(s, &run, &d, 1, NULL, &err) != CQ_OK) {
        fprintf(stderr, "child: %s\n", err.msg);
        _exit(1);
    }
    _exit(0); /* no free, no atexit: the pool's connections die with the process */
}

/* ---- main --------------------------------------------------------------------------------- */

#define BOTH(t) cmocka_unit_test_prestate_setup_teardown(t, setup, teardown, fx)

static int run_group(const char *name, struct fixture *fx)
{
    const struct CMUnitTest common[] = {
        BOTH(test_open_twice),
        BOTH(test_status_never_run),
        BOTH(test_record_status_history),
        BOTH(test_deliveries),
        BOTH(test_due_contention),
        BOTH(test_open_concurrently),
        BOTH(test_claim_contention),
        BOTH(test_lease_takeover),
        BOTH(test_old_slot),
        BOTH(test_prune),
        BOTH(test_record_atomic),
        BOTH(test_reopen),
        BOTH(test_crash_after_record),
        BOTH(test_errors),
    };
    return cmocka_run_group_tests_name(name, common, NULL, NULL);
}

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "child-claim") == 0) {
        return child_claim(argv);
    }
    if (argc == 7 && strcmp(argv[1], "child-record") == 0) {
        return child_record(argv);
    }
    int failed = 0;
    lite_fx.tmpdir = cq_test_tmpdir("it_store");
    if (lite_fx.tmpdir == NULL) {
        return 1;
    }
    pg_fx.tmpdir = lite_fx.tmpdir;
    failed += run_group("store_sqlite", &lite_fx);
    const char *dsn = cq_test_env("CQ_IT_PG_DSN");
    if (dsn == NULL && failed == 0) {
        free(lite_fx.tmpdir);
        cq_test_require("CQ_IT_PG_DSN"); /* exits 77, or 1 under CI=true */
    }
    if (dsn != NULL) {
        snprintf(pg_fx.base_dsn, sizeof(pg_fx.base_dsn), "%s", dsn);
        failed += run_group("store_postgres", &pg_fx);
    }
    free(lite_fx.tmpdir);
    return failed;
}
