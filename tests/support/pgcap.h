/*
 * pgcap.h - driver-level helpers shared by the PostgreSQL integration tests (it_pg.c,
 * it_pg_async.c): a capture sink that keeps what cq_drv_exec delivers (columns, values as
 * NUL-terminated copies, the end info), blocking runs into it, and the per-run fixture: a
 * schema <prefix>_<pid> on the server of CQ_IT_PG_DSN, reached through a DSN whose
 * `options` set search_path to it and TimeZone to UTC.
 *
 * The capture sink and the run helpers work with any driver; the cq_test_pg_* part exists
 * only when the PostgreSQL driver is built (not CQ_WITHOUT_PG). Helpers fail the running
 * cmocka test rather than returning an error, except where a result says otherwise.
 * Thread-safety: the fixture is process state set by the group setup; the rest keeps none.
 */
#ifndef CQ_TESTS_PGCAP_H
#define CQ_TESTS_PGCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drv/drv.h"

/* ---- capture sink -------------------------------------------------------------------------- */

#define CQ_TEST_CAP_MAX_COLS 32 /* names and types kept for the first 32 columns */

struct cq_test_cval {
    enum cq_vkind kind;
    char *p; /* NUL-terminated copy; NULL for SQL NULL */
    size_t len;
};

/* Zero-initialise (setting fail_at_row / count_only if wanted), run through
 * cq_test_cap_sink, read, then cq_test_cap_free. */
struct cq_test_cap {
    size_t n_cols;
    char *names[CQ_TEST_CAP_MAX_COLS];
    char *types[CQ_TEST_CAP_MAX_COLS];
    enum cq_vkind kinds[CQ_TEST_CAP_MAX_COLS];
    int n_columns_calls;
    size_t n_rows, cap_rows;
    struct cq_test_cval *vals; /* n_rows * n_cols */
    bool ended;
    struct cq_result_info info; /* info.command points at command */
    char command[128];
    int64_t fail_at_row; /* on_row returns CQ_EIO at this 1-based row; 0 = never */
    bool count_only;     /* do not keep values (memory test) */
};

/* A row sink that fills k (borrowed: k must outlive the run). */
struct cq_rowsink cq_test_cap_sink(struct cq_test_cap *k);
/* Frees what k holds and zeroes it (so it can be used again). */
void cq_test_cap_free(struct cq_test_cap *k);
/* The value at (row, col); fails the test when out of range. Borrowed from k. */
const struct cq_test_cval *cq_test_cap_value(const struct cq_test_cap *k, size_t row, size_t col);
/* Fails the test unless the value at (row, col) has the kind and exactly the text (NULL:
 * SQL NULL). */
void cq_test_cap_expect(const struct cq_test_cap *k, size_t row, size_t col, enum cq_vkind kind,
                        const char *text);

/* ---- blocking runs ------------------------------------------------------------------------- */

/* What a statement carries besides its SQL (zero: no parameters, no limits, one statement). */
struct cq_test_exec_opts {
    const struct cq_param *params;
    size_t n_params;
    int64_t timeout_ms, max_rows, max_bytes;
    bool multi;
};

/* The statement of sql with o applied (o may be NULL); points into sql and o->params. */
struct cq_stmt cq_test_stmt(const char *sql, const struct cq_test_exec_opts *o);
/* cq_drv_exec of sql (with o, which may be NULL) into k; err is cleared first. The rc. */
int cq_test_exec_opts(struct cq_conn *c, const char *sql, const struct cq_test_exec_opts *o,
                      struct cq_test_cap *k, struct cq_err *err);
int cq_test_exec(struct cq_conn *c, const char *sql, struct cq_test_cap *k, struct cq_err *err);
/* Runs sql (several statements allowed) and fails the test unless it succeeds. */
void cq_test_must_exec(struct cq_conn *c, const char *sql);
/* First value of the only row, as text ("NULL" for SQL NULL) into out; fails the test on
 * an error or unless exactly one row comes back. */
void cq_test_scalar(struct cq_conn *c, const char *sql, char *out, size_t size);
/* cq_test_scalar read as a decimal integer (counts, sums). */
long cq_test_scalar_long(struct cq_conn *c, const char *sql);

/* Sleeps ms milliseconds (resuming after signals). */
void cq_test_sleep_ms(long ms);

/* ---- PostgreSQL fixture -------------------------------------------------------------------- */

#ifndef CQ_WITHOUT_PG

/* Connects the PostgreSQL driver to target (connect timeout 5 s); NULL with err set. */
struct cq_conn *cq_test_pg_connect(const char *name, const char *target, bool read_only,
                                   struct cq_err *err);
/* Connects to the fixture's schema (cq_test_pg_dsn) or fails the test. */
struct cq_conn *cq_test_pg_open(const char *name, bool read_only);

/* Group setup: takes CQ_IT_PG_DSN (cq_test_require: exits 77 when missing), names the
 * schema <prefix>_<pid> and (re)creates it. 0, or -1 with the reason on stderr. */
int cq_test_pg_schema_setup(const char *prefix);
/* Group teardown (a cmocka group teardown; state unused): drops the schema. Always 0. */
int cq_test_pg_schema_teardown(void **state);
/* The fixture's DSN as given, and with the schema and UTC options. Valid after setup. */
const char *cq_test_pg_base_dsn(void);
const char *cq_test_pg_dsn(void);

/* Per-test state of cq_test_pg_setup: a read-write and a read-only connection. */
struct cq_test_pg_conns {
    struct cq_conn *rw;
    struct cq_conn *ro;
};

/* cmocka setup / teardown: *state becomes / was a struct cq_test_pg_conns. */
int cq_test_pg_setup(void **state);
int cq_test_pg_teardown(void **state);

/* A cmocka test run between cq_test_pg_setup and cq_test_pg_teardown. */
#define CQ_TEST_PG(f) cmocka_unit_test_setup_teardown(f, cq_test_pg_setup, cq_test_pg_teardown)

#endif /* CQ_WITHOUT_PG */

#endif
