/*
 * pg_int.h - internals shared by the PostgreSQL driver's files (pg.c: connection
 * lifecycle; pg_exec.c: statements; pg_types.c: type table and value conversion). Not a
 * public header: nothing outside src/drv/pg*.c includes it.
 *
 * Threads: a connection is used by one thread at a time, except cancel_req, mu and what mu
 * guards (cancel, lone, cancel_sent), which cq_drv_cancel() and cq_drv_exec_cancel() touch
 * from any thread. Queued ops (cq_drv_exec_start) may move between threads between steps:
 * their whole state is in the connection and their struct cq_drv_pg_run.
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

/* Where the results of an op stand: its messages, in the order the server answers them. */
enum cq_drv_pg_stage {
    CQ_PG_DEALLOC = 0, /* our DEALLOCATE (eviction or recovery) is answered next */
    CQ_PG_PREPARE,     /* its Parse is answered next */
    CQ_PG_EXEC,        /* the statement: rows are streaming */
    CQ_PG_SYNC,        /* only its Sync is left */
};

/* Per-connection conversion buffers, reused row after row and op after op (only the head
 * op converts rows). */
struct cq_drv_pg_scratch {
    struct cq_buf out;  /* converted values of the current row */
    struct cq_buf elem; /* one unescaped array element */
};

struct cq_drv_pg_type;

/* One statement: an op's driver state (op->drv; from the connection's free list, so a
 * busy connection does not allocate per op once warm), or on the stack for a blocking
 * run of several statements. Everything per statement lives in its arena (reset, not
 * freed, between ops) or in the connection's scratch buffers. */
struct cq_drv_pg_run {
    struct cq_drv_pg_conn *pc;
    struct cq_drv_op *op;        /* NULL for the blocking multi-statement path */
    struct cq_drv_pg_run *qnext; /* queue of the connection / free list */
    const struct cq_stmt *st;
    struct cq_err *err;
    int rc;                      /* first error of the call; later ones are dropped */
    enum cq_drv_pg_stage stage;
    int n_dealloc;               /* DEALLOCATEs sent ahead of the statement, unanswered */
    bool has_prepare;            /* its Parse was sent ahead of the statement */
    bool dealloc_failed;         /* ... and the DEALLOCATE failed: the rest was aborted */
    bool synced;                 /* its PGRES_PIPELINE_SYNC arrived */
    bool cancel_sent;            /* guarded by pc->mu: a PQcancel was sent for it */
    uint64_t send_seq;           /* it was the send_seq-th op handed to libpq on the session */
    int64_t start_us;            /* monotonic */
    int64_t deadline_ms;         /* client-side deadline, monotonic; 0 = none */
    int64_t drain_deadline_ms;   /* set once we canceled / gave a grace; 0 = not yet */
    bool timed_out;              /* the deadline passed */
    bool sent;                   /* a statement of the caller reached libpq / the server */
    int64_t rows_total;          /* rows delivered in the whole call */
    size_t stmt_no, n_stmts;     /* 1-based statement number, for messages */
    struct cq_arena arena;       /* per statement: parameter arrays, column arrays, tags */
    struct cq_drv_pg_scratch *sc; /* the connection's */
    /* the single statement's parameters and prepared statement */
    const char *sql;
    int n_params;
    const char **values;
    unsigned *types;
    bool cacheable;     /* runs as a named prepared statement */
    bool retried;       /* the prepared statement was re-made once already */
    const char *stale;  /* SQLSTATE that calls for a re-prepare (26000, 0A000), or NULL */
    uint64_t key_hash;
    int slot;           /* cache entry executed; -1 = none (unnamed statement) */
    unsigned prep_id;   /* ... and its id when the op was sent */
    /* the current statement */
    const struct cq_rowsink *sink;
    bool cancel_ok;     /* a cap may cancel it (a query, or a read-only session) */
    bool cols_sent;     /* on_columns was called */
    bool stopped;       /* the sink ended the stream (cap or sink error), or op canceled */
    bool stop_canceled; /* ... and we canceled the statement for that */
    bool abandon;       /* stop reading results: the session is given up */
    int n_cols;
    const struct cq_drv_pg_type **ctypes;
    struct cq_value *vals;
    size_t *offs; /* per column: offset of the converted value in sc->out */
    bool *in_sc;  /* per column: the value lives in sc->out */
    struct cq_result_info info;
};

/* The instance: registry.c allocates cq_drv_pg.conn_size bytes, base first. */
struct cq_drv_pg_conn {
    struct cq_conn base;
    PGconn *pg;              /* owned; NULL once closed */
    PGcancel *cancel;        /* owned; made at connect, guarded by mu (cancel vs disconnect) */
    pthread_mutex_t mu;      /* guards cancel, lone and the runs' cancel_sent */
    atomic_bool cancel_req;  /* cq_drv_cancel() was called during the current exec */
    int64_t stmt_timeout_ms; /* statement_timeout we last SET; 0 = server default, -1 = unknown */
    int64_t op_timeout_ms;   /* deadline for our own housekeeping round trips, ms */
    bool ro_reported;        /* the server reports default_transaction_read_only (PG >= 14) */
    char log_ctx[80];        /* "drv:pg:NAME" */
    struct cq_drv_pg_cache cache;
    struct cq_drv_pg_scratch sc;
    /* the pipeline: ops queued (sent, results not all read), oldest first */
    struct cq_drv_pg_run *head, *tail;
    int n_queued;
    struct cq_drv_pg_run *free_runs;
    struct cq_drv_pg_run *lone; /* guarded by mu: the head when it is the only op queued */
    int64_t head_since_ms;   /* when the head became the head (monotonic) */
    bool in_pipeline;        /* libpq pipeline mode (and nonblocking) while ops are queued */
    bool flush_pending;      /* PQflush left data to send */
    uint64_t send_seq;       /* ops handed to libpq (statistics) */
    uint64_t n_single_refused; /* statistics (tests): single-row mode refused by libpq */
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
int cq_drv_pg_exec_start(struct cq_conn *c, struct cq_drv_op *op);
int cq_drv_pg_exec_fd(struct cq_conn *c);
int cq_drv_pg_exec_step(struct cq_conn *c);
void cq_drv_pg_exec_wait(struct cq_conn *c);
int cq_drv_pg_exec_queued(struct cq_conn *c);
int64_t cq_drv_pg_exec_busy_ms(struct cq_conn *c);
void cq_drv_pg_exec_cancel(struct cq_conn *c, struct cq_drv_op *op);
/* At connect: the queue and scratch buffers. */
void cq_drv_pg_conn_init(struct cq_drv_pg_conn *pc);
/* At disconnect: releases ops left queued (their done is not called), the free list, the
 * scratch buffers, and empties the cache. */
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
