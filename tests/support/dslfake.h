/*
 * dslfake.h - a fake PostgreSQL (or SQLite) driver and exec environment for cq_dsl_execute
 * in unit tests, so the DSL tests share one database stand-in instead of each carrying its
 * own copy.
 *
 * The driver records what it was asked (connection name, SQL, parameters, timeout) in a
 * struct cq_test_feed and answers with the feed's scripted columns and rows, or fails as
 * the feed says. Every connection name is served by the one fake connection: what decides
 * the executor is the plan, and a wrong choice shows up as a recorded name or SQL.
 *
 *     struct cq_test_feed feed = {.names = names, .n_cols = 2, .rows = rows, .n_rows = 1};
 *     struct cq_test_fake_conn conn;
 *     struct cq_dsl_exec_env env;
 *     cq_test_fake_init(&conn, &feed, &env);
 *     cq_dsl_execute(&compiled, &env, &out, &e);
 *     assert_string_equal(feed.sql, "SELECT ...");
 *
 * Ownership: the feed, the connection and the scripted names and rows belong to the test
 * and must outlive the execution. Thread-safety: one feed per thread.
 */
#ifndef CQ_TESTS_DSLFAKE_H
#define CQ_TESTS_DSLFAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drv/drv.h"
#include "dsl/dsl.h"

#define CQ_TEST_FAKE_MAX_P 8   /* parameters recorded per statement */
#define CQ_TEST_FAKE_MAX_COLS 16

/* What the fake database answers, and what it was asked. Zero-initialized = an empty
 * result with no columns, no failures. */
struct cq_test_feed {
    const char *const *names;     /* result column labels, n_cols (at most MAX_COLS) */
    size_t n_cols;
    const struct cq_value *rows;  /* n_rows * n_cols */
    size_t n_rows;
    int fail_rc;                  /* exec fails with this rc and fail_msg */
    int fail_times;               /* ... this many times (0 = always) */
    const char *fail_msg;
    bool truncate;                /* on_end reports a cut result (max_rows) */
    int acquire_rc;               /* acquire fails with this */
    struct cq_limits limits;      /* given by cq_test_fake_limits */
    /* recorded */
    int n_acquire, n_held, n_release, n_exec; /* acquire calls, successful ones, ... */
    char conn[64];                /* connection name last asked for */
    char sql[4096];               /* last statement executed */
    size_t n_params;
    struct cq_param params[CQ_TEST_FAKE_MAX_P];   /* borrowed texts: use texts[] after exec */
    char texts[CQ_TEST_FAKE_MAX_P][256];          /* parameter texts, "(null)" for NULL */
    int64_t timeout_ms;
};

/* A connection of the fake drivers; base first, as the registry's drivers do. */
struct cq_test_fake_conn {
    struct cq_conn base;
    struct cq_test_feed *feed;    /* borrowed */
};

/* The fake drivers: named "postgres" (dialect PG) and "sqlite" (dialect SQLITE), scheme
 * "fake", CQ_CAP_PARAMS, conn_size of struct cq_test_fake_conn. */
extern const struct cq_driver cq_test_fake_pg;
extern const struct cq_driver cq_test_fake_sqlite;

/* The exec environment's callbacks; ctx is a struct cq_test_fake_conn. acquire counts and
 * records the name, fails with feed->acquire_rc if set, else hands out the connection;
 * release asserts it gets that connection back; limits copies feed->limits. */
int cq_test_fake_acquire(void *ctx, const char *conn, struct cq_conn **out, struct cq_err *err);
void cq_test_fake_release(void *ctx, struct cq_conn *c);
void cq_test_fake_limits(void *ctx, const char *conn, struct cq_limits *out);

/* Points conn at the fake PostgreSQL driver and feed, and env at conn with acquire and
 * release (limits NULL) and include_sql_in_errors set. All three are the caller's. */
void cq_test_fake_init(struct cq_test_fake_conn *conn, struct cq_test_feed *feed,
                       struct cq_dsl_exec_env *env);

#endif
