/*
 * drv.h - the driver interface: descriptors, operations, connections and row sinks.
 *
 * A driver is a static const struct cq_driver (descriptor) pointing at a static const
 * struct cq_drv_ops (operations), in the SQLite vfs/io_methods style. Instances embed
 * struct cq_conn first; the registry allocates conn_size bytes and calls ops->connect.
 *
 * Results are pushed: exec calls out->on_columns once, out->on_row per row, then
 * out->on_end once on success. Pointers passed to the sink are borrowed for the call.
 * A sink's on_row may return CQ_SINK_STOP to end the stream early (caps reached): the
 * driver stops fetching (closing the cursor / canceling on the server so memory stays
 * flat), then still calls on_end. On an error return from exec, on_end is not called.
 *
 * Threads: one connection is used by one thread at a time; cq_drv_cancel() may be
 * called from any thread while exec runs.
 */
#ifndef CQ_DRV_DRV_H
#define CQ_DRV_DRV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "conf/conf.h"

#define CQ_DRV_ABI 1

enum cq_dialect {
    CQ_DIALECT_NONE = 0,
    CQ_DIALECT_PG,
    CQ_DIALECT_SQLITE,
    CQ_DIALECT_CH,
    CQ_DIALECT_TRINO,
};

#define CQ_CAP_PARAMS 0x01u  /* binds parameters */
#define CQ_CAP_TX 0x02u      /* transactions */
#define CQ_CAP_CANCEL 0x04u  /* cq_drv_cancel works from another thread */
#define CQ_CAP_STREAM 0x08u  /* rows arrive incrementally */
#define CQ_CAP_ASYNC 0x10u   /* cq_drv_exec_start/step work: statements are pipelined */

/* Returned by a sink callback to stop the stream without an error. */
#define CQ_SINK_STOP (-1)

/* ---- values and sinks ---------------------------------------------------------------- */

/* How a value is written in JSON. The text is always the database's exact text. */
enum cq_vkind {
    CQ_V_NULL = 0, /* p = NULL */
    CQ_V_NUMBER,   /* exact digits, a valid JSON number ("12", "-0.5", "1e+100") */
    CQ_V_STRING,   /* UTF-8 text to be quoted (dates, timestamps, NaN, uuid, bytea hex...) */
    CQ_V_BOOL,     /* "true" or "false" */
    CQ_V_JSON,     /* valid JSON text written inline (json/jsonb, arrays converted to JSON) */
};

struct cq_col {
    const char *name;     /* column label */
    const char *type;     /* database type name: "int8", "numeric", "text", "_int4", "integer"... */
    enum cq_vkind kind;   /* the kind values of this column usually have (NULL aside) */
};

struct cq_value {
    enum cq_vkind kind;
    const char *p;        /* not necessarily NUL-terminated */
    size_t len;           /* bytes */
};

struct cq_result_info {
    int64_t row_count;            /* rows delivered to the sink */
    int64_t rows_affected;        /* for INSERT/UPDATE/DELETE...; -1 when not applicable */
    bool truncated;               /* a cap ended the stream */
    const char *truncated_reason; /* "max_rows" | "max_bytes" | NULL */
    const char *command;          /* command tag such as "SELECT 3"; may be NULL */
    double elapsed_ms;            /* from the start of exec to the end of the stream */
};

struct cq_rowsink {
    void *ctx;
    /* Each returns CQ_OK, CQ_SINK_STOP (on_row only), or an enum cq_rc error (err set). */
    int (*on_columns)(void *ctx, size_t n, const struct cq_col *cols, struct cq_err *err);
    int (*on_row)(void *ctx, size_t n, const struct cq_value *vals, struct cq_err *err);
    int (*on_end)(void *ctx, const struct cq_result_info *info, struct cq_err *err);
};

/* ---- parameters and statements ------------------------------------------------------- */

enum cq_ptype {
    CQ_P_NULL = 0,
    CQ_P_INT,       /* 64-bit integer */
    CQ_P_FLOAT,     /* double */
    CQ_P_NUMERIC,   /* exact decimal, kept as text */
    CQ_P_TEXT,
    CQ_P_BOOL,      /* text "true"/"false" */
    CQ_P_JSON,      /* JSON text */
    CQ_P_DATE,      /* YYYY-MM-DD */
    CQ_P_TIMESTAMP, /* ISO-8601 */
};

struct cq_param {
    enum cq_ptype type;
    bool explicit_type;   /* given as "type:value": bind with that type. Otherwise the type
                             was inferred and a server that infers types (PostgreSQL) is
                             left to decide from context. */
    const char *text;     /* NUL-terminated textual value; NULL for CQ_P_NULL */
    size_t len;           /* bytes of text */
};

struct cq_stmt {
    const char *sql;             /* NUL-terminated */
    const struct cq_param *params;
    size_t n_params;
    int64_t timeout_ms;          /* effective; 0 = none */
    int64_t max_rows;            /* effective; 0 = unlimited (enforced by cq_drv_exec) */
    int64_t max_bytes;           /* effective; 0 = unlimited (enforced by cq_drv_exec) */
    bool allow_multi;            /* several statements allowed; the last one's rows are returned */
};

/* ---- drivers and connections ---------------------------------------------------------- */

struct cq_dsn {
    const char *name;            /* connection name, for messages */
    const char *target;          /* URL/DSN or path; may contain a password: never log it */
    bool read_only;
    int64_t connect_timeout_ms;  /* 0 = driver default */
};

struct cq_driver;
struct cq_drv_run;
struct cq_drv_op;

struct cq_conn {
    const struct cq_driver *drv;
    char name[64];               /* connection name */
    char where[256];             /* redacted target for messages: "postgres://u:***@h:5432/db" */
    bool read_only;
    bool broken;                 /* exec found the session unusable: the pool must drop it */
    int64_t idle_since_ms;       /* pool bookkeeping (monotonic) */
    struct cq_conn *next;        /* pool idle list */
    struct cq_drv_run *run;      /* registry.c: free list of per-op caps state (asynchronous
                                    ops); grown by cq_drv_exec_start, freed by disconnect */
};

struct cq_drv_ops {
    int (*connect)(struct cq_conn *c, const struct cq_dsn *dsn, struct cq_err *err);
    void (*disconnect)(struct cq_conn *c);   /* releases driver resources, not c itself */
    int (*ping)(struct cq_conn *c, struct cq_err *err);
    int (*exec)(struct cq_conn *c, const struct cq_stmt *st, const struct cq_rowsink *out,
                struct cq_err *err);
    int (*cancel)(struct cq_conn *c, struct cq_err *err);
    /* Writes the server's version string ("PostgreSQL 15.18", "SQLite 3.40.1"). */
    int (*server_version)(struct cq_conn *c, char *out, size_t size, struct cq_err *err);
    /* Asynchronous, pipelined execution (drivers with CQ_CAP_ASYNC; all NULL otherwise):
     * the contracts of cq_drv_exec_start... below, without the caps (registry.c wraps
     * op->out in a capping sink before the driver sees the op). */
    int (*exec_start)(struct cq_conn *c, struct cq_drv_op *op);
    int (*exec_fd)(struct cq_conn *c);
    int (*exec_step)(struct cq_conn *c);
    void (*exec_wait)(struct cq_conn *c);
    int (*exec_queued)(struct cq_conn *c);
    int64_t (*exec_busy_ms)(struct cq_conn *c);
    void (*exec_cancel)(struct cq_conn *c, struct cq_drv_op *op);
};

struct cq_driver {
    unsigned abi;                  /* CQ_DRV_ABI */
    const char *name;              /* "postgres": unique, lowercase */
    const char *const *schemes;    /* URL schemes: {"postgres", "postgresql", NULL} */
    enum cq_dialect dialect;
    unsigned caps;                 /* CQ_CAP_* */
    size_t conn_size;              /* sizeof the instance struct; starts with struct cq_conn */
    const struct cq_drv_ops *ops;  /* every slot non-NULL, except the exec_start..exec_cancel
                                      group: all NULL when caps lacks CQ_CAP_ASYNC */
};

extern const struct cq_driver cq_drv_pg;
extern const struct cq_driver cq_drv_sqlite;

/* Registry: NULL-terminated, immutable. */
const struct cq_driver *const *cq_drv_list(void);
/* Finds a driver by name or URL scheme; NULL if none. */
const struct cq_driver *cq_drv_find(const char *name_or_scheme);

/* Opens a connection (caller owns it; cq_drv_disconnect frees). NULL on failure, err set
 * (CQ_ECONNECT / CQ_EAUTH / CQ_ENOMEM) naming the connection and redacted target. */
struct cq_conn *cq_drv_connect(const struct cq_driver *drv, const struct cq_dsn *dsn,
                               struct cq_err *err);
void cq_drv_disconnect(struct cq_conn *c);   /* NULL is a no-op */

/* Runs a statement, enforcing st->max_rows / st->max_bytes by wrapping `out` (rows past a
 * cap are not delivered; on_end reports truncated and the reason). Errors: CQ_EINVAL
 * (parameters, several statements), CQ_EBACKEND (SQL error; SQLSTATE in backend_code),
 * CQ_ETIMEOUT, CQ_EREADONLY, CQ_ECONNECT (c->broken set), CQ_ECANCELED. */
int cq_drv_exec(struct cq_conn *c, const struct cq_stmt *st, const struct cq_rowsink *out,
                struct cq_err *err);
/* ---- asynchronous, pipelined execution (CQ_CAP_ASYNC) ----------------------------------------
 * For event loops: many statements multiplexed onto few connections. Ops queued on one
 * connection are pipelined (PostgreSQL: libpq pipeline mode, each op its own Sync, so an
 * error only affects its op) and complete in queue order. A connection with ops queued is
 * used by one thread at a time (start/fd/step/wait/queued/busy_ms); cq_drv_exec_cancel and
 * cq_drv_cancel may be called from any thread. See docs/internals/pg-async.md. */

/* One asynchronous statement, in the caller's memory (zero it, set the first five fields,
 * keep it valid until done has been called). */
struct cq_drv_op {
    const struct cq_stmt *st;
    const struct cq_rowsink *out;
    struct cq_err *err;
    void (*done)(struct cq_drv_op *op, int rc); /* exactly once; see cq_drv_exec_step */
    void *ctx;                                  /* the caller's */
    /* the driver's */
    struct cq_drv_op *next;
    void *drv;
    atomic_bool cancel;
};

/*
 * Queues op on c behind the statements already queued there (pipelining) and sends it
 * without blocking. CQ_OK: op->done(op, rc) will be called later from cq_drv_exec_step or
 * cq_drv_exec_wait, with the rc cq_drv_exec would have returned (sink calls, caps, err as
 * for cq_drv_exec). CQ_EUNSUPPORTED: nothing was sent and op is not queued: the statement
 * cannot be pipelined (allow_multi / several statements, a statement the prepared cache
 * would not cache such as SET/BEGIN/COPY/DDL, a timeout_ms that differs from the session's
 * statement_timeout (or, while ops are queued, from theirs), a driver without the cap, a
 * broken connection). Any other rc: op failed at once (err set), done is NOT called.
 */
int cq_drv_exec_start(struct cq_conn *c, struct cq_drv_op *op);
/* The socket to watch (readable) while ops are queued. */
int cq_drv_exec_fd(struct cq_conn *c);
/* Reads what arrived without blocking (at most one read from the socket per call is fine)
 * and completes finished ops in queue order, calling their done callbacks (from inside
 * this call: a done callback must not call cq_drv_exec_step/wait on c, but may queue new
 * ops on c with cq_drv_exec_start). Also enforces the head op's client-side deadline (so
 * callers call it from a timer too, every ~100 ms). Answers the number of ops still
 * queued: 0 means c is idle again (it may go back to its pool); never blocks. */
int cq_drv_exec_step(struct cq_conn *c);
/* Blocking: steps until no op is queued (for a connection handed from a loop to a thread). */
void cq_drv_exec_wait(struct cq_conn *c);
/* Ops queued on c (started, done not yet called). */
int cq_drv_exec_queued(struct cq_conn *c);
/* How long the op at the head of c's queue has been executing, ms (0 when none): a loop
 * avoids queuing behind a statement that takes long. */
int64_t cq_drv_exec_busy_ms(struct cq_conn *c);
/* Any thread: op ends with CQ_ECANCELED ("canceled") instead of its result. The server
 * statement is canceled (PQcancel) only when op is executing and is the only op queued
 * (with others queued, a cancel could hit the next one); otherwise its rows are dropped
 * as they arrive. No-op once done was called. */
void cq_drv_exec_cancel(struct cq_conn *c, struct cq_drv_op *op);

int cq_drv_ping(struct cq_conn *c, struct cq_err *err);
int cq_drv_cancel(struct cq_conn *c, struct cq_err *err);

/* Copies target to out with any password replaced by "***" (URL userinfo, password=...,
 * and query-string password). Never fails; truncates to size. */
void cq_drv_dsn_redact(const char *target, char *out, size_t size);

/* Fills dsn from a configured connection (borrowing cc's strings): target = url or path,
 * connect timeout 10 s. */
void cq_drv_dsn_init(struct cq_dsn *dsn, const struct cq_conn_conf *cc);

/* Opens a fresh connection for cc (not a pooled one: this tests reaching the server now),
 * writes the server's version and the median of three round trips (ms), and closes it. */
int cq_drv_test(const struct cq_conn_conf *cc, char *version, size_t vsize, double *latency_ms,
                struct cq_err *err);

/* A sink that accepts and drops everything (for statements whose rows are not wanted). */
extern const struct cq_rowsink cq_drv_discard_sink;

#endif
