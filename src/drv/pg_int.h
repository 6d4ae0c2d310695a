/*
 * pg_int.h - internals shared by the PostgreSQL driver's files (pg.c: connection
 * lifecycle; pg_exec.c: statements; pg_types.c: type table and value conversion). Not a
 * public header: nothing outside src/drv/pg*.c includes it.
 *
 * Threads: a connection is used by one thread at a time, except cancel_req/mu, which
 * cq_drv_cancel() touches from any thread. An asynchronous run (cq_drv_exec_start) may
 * move between threads between steps: its whole state is in struct cq_drv_pg_run.
 */
#ifndef CQ_DRV_PG_INT_H
#define CQ_DRV_PG_INT_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "drv/drv.h"

/* ---- prepared statements ----------------------------------------------------------------- */

#define CQ_PG_CACHE_MAX 64          /* prepared statements kept per session */
#define CQ_PG_CACHE_SQL_MAX 65536   /* longer SQL is not worth keeping on the server */

/* One server-side prepared statement "cq_<id>", keyed by SQL text and parameter types. */
struct cq_drv_pg_prep {
    char *sql;          /* owned; NULL = free slot */
    size_t sql_len;
    unsigned *types;    /* owned; n_types parameter type OIDs (0 = inferred) */
    int n_types;
    uint64_t hash;      /* of sql and types, compared first */
    uint64_t last_use;  /* LRU clock */
    unsigned id;
};

/* Per session. Cleared when the server may have dropped its statements (DISCARD ALL,
 * DEALLOCATE ALL seen, SQLSTATE 26000) and at disconnect. See docs/internals/pg-async.md. */
struct cq_drv_pg_cache {
    struct cq_drv_pg_prep e[CQ_PG_CACHE_MAX];
    uint64_t tick;
    unsigned next_id;
    uint64_t n_prepares; /* statistics (tests, debugging): PQsendPrepare calls */
    uint64_t n_hits;     /* executions of a statement already prepared */
};

/* Empties the cache (the server's statements are assumed gone or orphaned). */
void cq_drv_pg_cache_clear(struct cq_drv_pg_cache *cache);

/* ---- the run of one statement ---------------------------------------------------------- */

enum cq_drv_pg_state {
    CQ_PG_IDLE = 0,  /* no run */
    CQ_PG_DEALLOC,   /* a DEALLOCATE of ours is out (eviction or recovery); prepare next */
    CQ_PG_PREPARE,   /* PQsendPrepare is out; execute next */
    CQ_PG_EXEC,      /* the statement is out; rows are streaming */
};

/* Per conversion buffers, reused row after row (no per-value allocation). */
struct cq_drv_pg_scratch {
    struct cq_buf out;  /* converted values of the current row */
    struct cq_buf elem; /* one unescaped array element */
};

struct cq_drv_pg_type;

/* One call of exec: on the stack for several statements, in the connection for a single
 * statement (which may run asynchronously: the state survives between steps). Everything
 * per call lives in its arena or its two scratch buffers, so the row loop does not allocate
 * once they have grown. */
struct cq_drv_pg_run {
    struct cq_drv_pg_conn *pc;
    const struct cq_stmt *st;
    struct cq_err *err;
    int rc;                      /* first error of the call; later ones are dropped */
    enum cq_drv_pg_state state;
    int64_t start_us;            /* monotonic */
    int64_t deadline_ms;         /* client-side deadline, monotonic; 0 = none */
    int64_t drain_deadline_ms;   /* set once we canceled; 0 = not canceled */
    bool timed_out;              /* we canceled because the deadline passed */
    bool sent;                   /* a statement of the caller reached libpq */
    int64_t rows_total;          /* rows delivered in the whole call */
    size_t stmt_no, n_stmts;     /* 1-based statement number, for messages */
    struct cq_arena arena;       /* per call: parameter arrays, column arrays, tags */
    struct cq_drv_pg_scratch sc; /* per call: converted values */
    /* the single statement's parameters and prepared statement */
    const char *sql;
    int n_params;
    const char **values;
    unsigned *types;
    bool cacheable;     /* runs as a named prepared statement */
    bool retried;       /* the prepared statement was re-made once already */
    const char *stale;  /* SQLSTATE that calls for a re-prepare (26000, 0A000), or NULL */
    uint64_t key_hash;
    int slot;           /* cache entry being prepared or executed; -1 = none */
    /* the current statement */
    const struct cq_rowsink *sink;
    bool cancel_ok;     /* a cap may cancel it (a query, or a read-only session) */
    bool cols_sent;     /* on_columns was called */
    bool stopped;       /* the sink ended the stream (cap or sink error) */
    bool stop_canceled; /* ... and we canceled the statement for that */
    bool abandon;       /* stop reading results: the session is given up */
    int n_cols;
    const struct cq_drv_pg_type **ctypes;
    struct cq_value *vals;
    size_t *offs; /* per column: offset of the converted value in sc.out */
    bool *in_sc;  /* per column: the value lives in sc.out */
    struct cq_result_info info;
};

/* The instance: registry.c allocates cq_drv_pg.conn_size bytes, base first. */
struct cq_drv_pg_conn {
    struct cq_conn base;
    PGconn *pg;              /* owned; NULL once closed */
    PGcancel *cancel;        /* owned; made at connect, guarded by mu (cancel vs disconnect) */
    pthread_mutex_t mu;      /* guards cancel */
    atomic_bool cancel_req;  /* cq_drv_cancel() was called during the current exec */
    int64_t stmt_timeout_ms; /* statement_timeout we last SET; 0 = server default, -1 = unknown */
    int64_t op_timeout_ms;   /* deadline for our own housekeeping round trips, ms */
    bool ro_reported;        /* the server reports default_transaction_read_only (PG >= 14) */
    char log_ctx[80];        /* "drv:pg:NAME" */
    struct cq_drv_pg_cache cache;
    struct cq_drv_pg_run run; /* the single-statement run in progress (state != IDLE) */
};

/* ---- pg.c -------------------------------------------------------------------------------- */

/* Sends a cancel request for whatever the session runs (blocking, short). */
void cq_drv_pg_send_cancel(struct cq_drv_pg_conn *pc);
/* Waits until PQgetResult will not block, or until deadline_ms (monotonic; 0 = never).
 * CQ_OK: take a result. CQ_ETIMEOUT: the deadline passed first. A lost connection is
 * CQ_OK too: PQgetResult then reports it. */
int cq_drv_pg_wait(PGconn *pg, int64_t deadline_ms);
/* Runs a housekeeping command (SET, RESET, ROLLBACK, "") with the simple protocol and
 * discards its results. On failure the message is "connection 'NAME': <what>: <why>" and a
 * lost or stuck session is marked broken. */
int cq_drv_pg_simple(struct cq_drv_pg_conn *pc, const char *sql, const char *what,
                     struct cq_err *err);
/* First line of a libpq/server message, trimmed, into out. */
void cq_drv_pg_first_line(const char *msg, char *out, size_t size);

/* ---- pg_exec.c --------------------------------------------------------------------------- */

int cq_drv_pg_exec(struct cq_conn *c, const struct cq_stmt *st, const struct cq_rowsink *out,
                   struct cq_err *err);
int cq_drv_pg_exec_start(struct cq_conn *c, const struct cq_stmt *st,
                         const struct cq_rowsink *out, struct cq_err *err);
int cq_drv_pg_exec_fd(struct cq_conn *c);
int cq_drv_pg_exec_step(struct cq_conn *c);
int cq_drv_pg_exec_wait(struct cq_conn *c);
/* At disconnect: releases a run left unfinished and empties the cache. */
void cq_drv_pg_run_drop(struct cq_drv_pg_conn *pc);

/* ---- pg_types.c -------------------------------------------------------------------------- */

/* How text values of a type become JSON-ready values. */
enum cq_drv_pg_conv {
    CQ_PG_STR = 0, /* as-is, quoted */
    CQ_PG_INT,     /* integers: always a JSON number */
    CQ_PG_NUM,     /* numeric/float: a number, except NaN/Infinity (strings) */
    CQ_PG_BOOL,    /* t/f -> true/false */
    CQ_PG_JSON,    /* inline */
    CQ_PG_TS,      /* "2024-01-02 03:04:05" -> "2024-01-02T03:04:05" */
    CQ_PG_TSTZ,    /* ... and the offset as +hh:mm */
    CQ_PG_ARRAY,   /* array literal -> JSON array, elements by elem */
};

struct cq_drv_pg_type {
    unsigned oid;
    const char *name;   /* pg_type.typname */
    unsigned char conv; /* enum cq_drv_pg_conv */
    unsigned char elem; /* arrays: the element's enum cq_drv_pg_conv */
    char delim;         /* arrays: element delimiter (',' except box: ';') */
};

/* The builtin type for oid, or a static "unknown" (string) entry. Never NULL. */
const struct cq_drv_pg_type *cq_drv_pg_type_find(unsigned oid);
/* The cq_vkind a column of type t reports. */
enum cq_vkind cq_drv_pg_type_kind(const struct cq_drv_pg_type *t);
/*
 * Converts one non-NULL value s[0..len) (NUL-terminated, from libpq). Either points v at s
 * or at a constant and returns false, or appends the converted text to sc->out, sets
 * v->kind and v->len, stores the start offset in *off and returns true: the caller sets
 * v->p = sc->out.p + *off once the whole row is converted (the buffer may move). Check
 * cq_buf_rc(&sc->out) after the row.
 */
bool cq_drv_pg_convert(const struct cq_drv_pg_type *t, const char *s, size_t len,
                       struct cq_drv_pg_scratch *sc, struct cq_value *v, size_t *off);
/* Appends the JSON array for the PostgreSQL array literal s[0..len); false (and nothing
 * sensible appended) if s is not a well-formed literal. */
bool cq_drv_pg_array_json(const char *s, size_t len, enum cq_drv_pg_conv elem, char delim,
                          struct cq_drv_pg_scratch *sc);
/* Appends a timestamp (tz: with offset) in ISO-8601 form, unquoted; false if the text is
 * not in the ISO DateStyle shape (infinity, BC, other DateStyles): nothing appended. */
bool cq_drv_pg_ts_iso(const char *s, size_t len, bool tz, struct cq_buf *out);

#endif
