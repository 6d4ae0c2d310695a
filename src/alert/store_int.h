/*
 * store_int.h - internals shared by store.c (open, helpers, status/claim/record),
 * store_outbox.c (due, delivered, pending, history, prune) and store_sql.c (SQL text).
 * Not for use outside the state store.
 *
 * Helpers take a non-NULL `struct cq_err *e` (the operation's own; the public function
 * wraps it with the store and the operation through cq_alert_store_report).
 */
#ifndef CQ_ALERT_STORE_INT_H
#define CQ_ALERT_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert/store.h"
#include "base/arena.h"
#include "base/buf.h"
#include "drv/drv.h"
#include "drv/pool.h"

#define CQ_ALERT_SCHEMA_VERSION 1    /* tables as store_sql.c creates them; see migrate() */
#define CQ_ALERT_MAX_DELIVERIES 1000 /* per run; keeps one statement's values bounded */

struct cq_alert_store {
    struct cq_pool *pool;    /* owned */
    enum cq_dialect dialect; /* CQ_DIALECT_PG or CQ_DIALECT_SQLITE */
    int64_t timeout_ms;      /* per statement, ms; 0 = none */
    char where[300];         /* "sqlite:PATH" | "postgres:NAME", for messages */
};

/* Values bound to one statement, in $n order. Texts of numbers live in the arena. */
struct cq_alert_binds {
    struct cq_arena *a; /* borrowed */
    struct cq_param *v; /* cap entries, in a */
    size_t n;           /* bound so far */
    size_t cap;
    bool oom; /* sticky: an allocation failed or cap was passed */
};

void cq_alert_binds_init(struct cq_alert_binds *b, struct cq_arena *a, size_t cap);
void cq_alert_bind_text(struct cq_alert_binds *b, const char *s); /* NULL = SQL NULL; borrowed */
void cq_alert_bind_int(struct cq_alert_binds *b, int64_t x);
void cq_alert_bind_real(struct cq_alert_binds *b, double x);

/* Rows of a result as text (NULL = SQL NULL), in an arena. */
struct cq_alert_rows {
    struct cq_arena *a; /* borrowed */
    size_t n_cols;
    size_t n;         /* rows */
    size_t cap;       /* rows the cells array holds */
    char **cells;     /* n * n_cols, row-major */
    int64_t affected; /* rows changed by an INSERT/UPDATE/DELETE; -1 = n/a */
};

void cq_alert_rows_init(struct cq_alert_rows *r, struct cq_arena *a);
/* Borrowed from the rows' arena; NULL for SQL NULL or out of range. */
const char *cq_alert_cell(const struct cq_alert_rows *r, size_t row, size_t col);
/* A BIGINT cell; NULL reads as 0. */
int64_t cq_alert_cell_i64(const struct cq_alert_rows *r, size_t row, size_t col);

/* One statement through the pool (retried on SQLite lock timeouts); out may be NULL. */
int cq_alert_exec(const struct cq_alert_store *s, const char *sql, const struct cq_alert_binds *b,
                  struct cq_alert_rows *out, struct cq_err *e);
/* One statement on a held connection with the first n values of b (b may be NULL). */
int cq_alert_exec_conn(const struct cq_alert_store *s, struct cq_conn *c, const char *sql,
                       const struct cq_alert_binds *b, size_t n, struct cq_alert_rows *out,
                       struct cq_err *e);

/* A transaction body run on one held connection (SQLite only: see store.c). */
typedef int (*cq_alert_tx_fn)(const struct cq_alert_store *s, struct cq_conn *c, void *ctx,
                              struct cq_err *e);
/* BEGIN IMMEDIATE, body, COMMIT on one pooled connection; ROLLBACK on any failure (a
 * connection that cannot roll back is marked broken). The whole transaction is retried
 * when SQLite stayed busy, so body must be repeatable. */
int cq_alert_in_tx(const struct cq_alert_store *s, cq_alert_tx_fn body, void *ctx,
                   struct cq_err *e);

/* Prepends "alert state store WHERE: OP: " to e's message into err; returns e's rc. */
int cq_alert_store_report(const char *where, const char *op, const struct cq_err *e,
                          struct cq_err *err);

/* ---- SQL (store_sql.c) ------------------------------------------------------------------ */

/* Values of record(): $1 alert_id, $2 slot_ms, $3 run_at_ms, $4 state, $5 reason, $6 value,
 * $7 row_count, $8 duration_ms, $9 error, $10 fingerprint, $11 notified_state,
 * $12 last_notified_ms (NULL = no notification), $13 fingerprint for the status (NULL when
 * not notifying), $14 now; then channel and payload per delivery; then (SQLite) run id. */
#define CQ_ALERT_RECORD_NP 14
#define CQ_ALERT_RUN_NP 11        /* values cq_alert_sql_run_insert uses ($1..$11) */
#define CQ_ALERT_STATUS_NP 13     /* ... cq_alert_sql_status_upsert ($1..$13) */
#define CQ_ALERT_CLAIM_DONE_NP 14 /* ... cq_alert_sql_claim_done ($1, $2, $14) */

extern const char cq_alert_sql_version[];
extern const char cq_alert_sql_status[];
extern const char cq_alert_sql_claim[];
extern const char cq_alert_sql_run_insert[];
extern const char cq_alert_sql_status_upsert[];
extern const char cq_alert_sql_claim_done[];
extern const char cq_alert_sql_delivered[];
extern const char cq_alert_sql_delivery_state[];
extern const char cq_alert_sql_pending[];
extern const char cq_alert_sql_history[];
extern const char cq_alert_sql_prune_deliveries[];
extern const char cq_alert_sql_prune_runs[];
extern const char cq_alert_sql_prune_claims[];
extern const char cq_alert_sql_prune_pg[];

/* The CREATE statements, wrapped in a transaction (PostgreSQL: under an advisory lock). */
void cq_alert_sql_ddl(enum cq_dialect d, struct cq_buf *out);
/* PostgreSQL: the whole record as one statement returning the run id. SQLite: only the
 * INSERT of the n_d deliveries ($n_binds is the run id). Nothing when SQLite and n_d = 0. */
void cq_alert_sql_record(enum cq_dialect d, size_t n_d, size_t n_binds, struct cq_buf *out);
/* The claim of due deliveries ($1 runner, $2 now, $3 lease end, $4 max). */
void cq_alert_sql_due(enum cq_dialect d, struct cq_buf *out);

#endif
