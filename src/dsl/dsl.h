/*
 * dsl.h - the governed query engine (spec/multidb-wire.md): a JSON query is parsed into an
 * AST, validated against the catalog and the caller's roles, planned (cache, direct,
 * materialized replica, Trino), resolved to physical names and generated as SQL for one
 * dialect (PostgreSQL, ClickHouse, Trino, SQLite), then optionally executed through drv/
 * with the rows re-keyed to apiNames and masked.
 *
 * Pipeline and files, in order:
 *   parse.c     JSON -> struct cq_dsl_query / cq_dsl_context (ast.h)
 *   validate.c  spec §5 rules, in order, collecting every entry   (+ access.c: §3, §0.13)
 *   plan.c      spec §7 strategies P0..P4
 *   sqlgen.c    spec §8 name resolution and §9 SQL, through struct cq_dsl_dialect
 *   compile.c   the whole compile, timings and the debug log
 *   exec.c      execution through drv/, re-keying, masking (mask.c), result JSON (§10)
 *   error.c     the error classes of §11 as JSON, and their HTTP statuses
 *
 * Memory: a compile allocates only from the caller's arena (AST, plan, SQL text, params,
 * column map); nothing is freed one by one. Errors own a jansson object (error paths only).
 * Threads: a catalog is immutable and shared; each compile uses its own arena.
 */
#ifndef CQ_DSL_DSL_H
#define CQ_DSL_DSL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "drv/drv.h"
#include "dsl/ast.h"
#include "dsl/catalog.h"

/* ---- errors (spec §11) ---------------------------------------------------------------- */

enum cq_dsl_eclass {
    CQ_DSL_E_NONE = 0,
    CQ_DSL_E_VALIDATION,   /* VALIDATION_FAILED                      -> 400 */
    CQ_DSL_E_CONFIG,       /* CONFIG_INVALID                         -> 400 */
    CQ_DSL_E_PLANNER,      /* UNREACHABLE_TABLES TRINO_DISABLED ...  -> 422 */
    CQ_DSL_E_EXECUTION,    /* EXECUTOR_MISSING QUERY_FAILED ...      -> 500 */
    CQ_DSL_E_CONNECTION,   /* CONNECTION_FAILED ...                  -> 503 */
    CQ_DSL_E_PROVIDER,     /* METADATA_LOAD_FAILED ...               -> 503 */
    CQ_DSL_E_BODY,         /* INVALID_JSON / INVALID_BODY: {"error","message"} -> 400 */
    CQ_DSL_E_INTERNAL,     /* {"error":"InternalError","message"}    -> 500 (also ENOMEM) */
};

/* An error as the spec serialises it. body is the toJSON() object with the spec's key
 * order (owned; cq_dsl_error_cleanup). A zeroed struct is "no error". */
struct cq_dsl_error {
    enum cq_dsl_eclass cls;
    json_t *body;
};

void cq_dsl_error_cleanup(struct cq_dsl_error *e);
int cq_dsl_error_http_status(const struct cq_dsl_error *e);
/* Compact JSON of the body (JSON.stringify order) appended to out. */
void cq_dsl_error_write(const struct cq_dsl_error *e, struct cq_buf *out);
/* Exit code for the CLI: 1 validation/config/planner, 3 connection, 1 other. */
int cq_dsl_error_exit_code(const struct cq_dsl_error *e);

/* Builders used across the pipeline (error.c). Each replaces e's previous body. */
/* {"code","message":"Validation failed: N error[s]","fromTable","errors"}; takes `errors`. */
void cq_dsl_error_validation(struct cq_dsl_error *e, const char *from_table, json_t *errors);
/* {"code","message","fromTable","details"}; takes `details` (which must hold "code"). */
void cq_dsl_error_planner(struct cq_dsl_error *e, const char *code, const char *from_table,
                          const char *message, json_t *details);
/* {"code","message"[,"cause"],"details"}; takes details and cause (either may be NULL). */
void cq_dsl_error_execution(struct cq_dsl_error *e, const char *code, const char *message,
                            json_t *details, json_t *cause);
/* {"error":code,"message":message} with cls BODY or INTERNAL. */
void cq_dsl_error_simple(struct cq_dsl_error *e, enum cq_dsl_eclass cls, const char *code,
                         const char *message);
/* One validation entry {"code","message","details"}; takes details (NULL = {}). */
json_t *cq_dsl_entry(const char *code, const char *message, json_t *details);

/* ---- parsing (parse.c) ---------------------------------------------------------------- */

/*
 * Parses a request body: {"definition": {...}, "context": {...}}. With bare_ok, a body
 * without "definition" is taken as the definition itself with an empty context (the CLI
 * accepts both). Everything is allocated in `a`; `body` may be freed afterwards.
 * Returns CQ_OK, or CQ_EINVAL with e set: a body that is not an object -> INVALID_BODY;
 * a field of the wrong JSON type -> VALIDATION_FAILED with entries of code INVALID_QUERY
 * (a clariq addition) whose details hold the JSON pointer {"path":"/filters/0/column"};
 * CQ_ENOMEM -> InternalError.
 */
int cq_dsl_parse_request(struct cq_arena *a, const json_t *body, bool bare_ok,
                         struct cq_dsl_query **q, struct cq_dsl_context *ctx,
                         struct cq_dsl_error *e);
int cq_dsl_parse_query(struct cq_arena *a, const json_t *definition, struct cq_dsl_query **q,
                       struct cq_dsl_error *e);
int cq_dsl_parse_context(struct cq_arena *a, const json_t *context, struct cq_dsl_context *ctx,
                         struct cq_dsl_error *e);
/* Converts one JSON value into the arena (NULL on ENOMEM). */
const struct cq_dsl_val *cq_dsl_val_from_json(struct cq_arena *a, const json_t *j);
/* Writes d as JavaScript's String(number) does ("1", "0.1", "1e+21", "-5e-7", "NaN") into
 * out (NUL-terminated, truncated to size; 32 bytes always suffice). */
void cq_dsl_js_number(double d, char *out, size_t size);
/* Appends v as compact JSON (numbers as JavaScript prints them: 1.0 -> 1, 1e21 -> 1e+21). */
void cq_dsl_val_write(struct cq_buf *b, const struct cq_dsl_val *v);

/* ---- compile output --------------------------------------------------------------------- */

enum cq_dsl_strategy {
    CQ_DSL_STRAT_DIRECT = 0,
    CQ_DSL_STRAT_CACHE,
    CQ_DSL_STRAT_MATERIALIZED,
    CQ_DSL_STRAT_TRINO,
};

enum cq_dsl_source { CQ_DSL_SRC_ORIGINAL = 0, CQ_DSL_SRC_MATERIALIZED, CQ_DSL_SRC_CACHE };

/* meta.tablesUsed entry (from + joins, not EXISTS tables). */
struct cq_dsl_table_use {
    const struct cq_dsl_table *table;
    enum cq_dsl_source source;
    const struct cq_dsl_database *db; /* where it is read (the replica's database) */
    const char *phys;                 /* the physical name used */
};

/* One returned column: meta.columns entry and how to re-key and mask rows. */
struct cq_dsl_outcol {
    const char *key;              /* result key and meta apiName ("id", "orders.id", alias) */
    const char *sql_alias;        /* select alias in the SQL ("t0__id", or the agg alias) */
    const char *type_name;        /* meta type: "string", "int[]", "decimal" ... */
    enum cq_dsl_type type;
    bool array;
    bool nullable;
    const char *from_table;       /* table apiName */
    bool masked;
    enum cq_dsl_mask mask_fn;     /* when masked: the column's maskingFn, FULL if none */
    bool is_agg;
};

/* One bound parameter, in order of appearance ($1.., ?, {pN:T}). */
struct cq_dsl_param {
    const struct cq_dsl_val *v;   /* the value as listed in "params" */
    enum cq_dsl_type type;        /* type of the column it meets (binding and casts) */
    bool array;                   /* bound as one array value (PG ANY($n::T[]), SQLite JSON) */
};

struct cq_dsl_debug {
    int64_t ts_ms;                /* epoch ms */
    const char *phase;            /* "validation" "access-control" "rls" "planning" ... */
    const char *message;          /* with its "(1.2ms)" suffix */
    const char *details_json;     /* compact JSON or NULL */
};

struct cq_dsl_compiled {
    const struct cq_dsl_query *q;
    enum cq_dsl_strategy strategy;
    const char *target;           /* meta.targetDatabase: db id, cache id or "trino" */
    const struct cq_dsl_database *db; /* executing database (cache: the fallback); NULL
                                         for trino */
    enum cq_dialect dialect;      /* dialect generated */
    const struct cq_dsl_cached *cached; /* cache strategy only */
    struct cq_dsl_table_use *tables;
    size_t n_tables;
    struct cq_dsl_outcol *cols;   /* n_cols == 0 in count mode */
    size_t n_cols;
    const char *sql;
    struct cq_dsl_param *params;
    size_t n_params;
    struct cq_dsl_debug *debug;   /* only with q->debug */
    size_t n_debug, cap_debug;
    double planning_ms;           /* validation .. planning */
    double generation_ms;         /* name resolution .. SQL */
};

/* Compile options (tests and the CLI). */
struct cq_dsl_opts {
    bool force_dialect;           /* golden tests: generate for `dialect`, whatever the plan */
    enum cq_dialect dialect;
    int64_t now_ms;               /* debug timestamps; 0 = the clock */
};

/*
 * validate -> access -> plan -> resolve -> generate. On success *out is filled (all in a).
 * Errors: CQ_EINVAL with e = ValidationError (incl. MISSING_CONTEXT and an operator a
 * dialect cannot express, code UNSUPPORTED_OPERATOR) or PlannerError; CQ_ENOMEM with e =
 * InternalError. The catalog must stay referenced until *out is no longer used.
 */
int cq_dsl_compile(const struct cq_dsl_catalog *cat, const struct cq_dsl_query *q,
                   const struct cq_dsl_context *ctx, const struct cq_dsl_opts *opts,
                   struct cq_arena *a, struct cq_dsl_compiled *out, struct cq_dsl_error *e);
/* Validation only (spec §5, plus access and row-filter context): CQ_OK or CQ_EINVAL. */
int cq_dsl_validate_only(const struct cq_dsl_catalog *cat, const struct cq_dsl_query *q,
                         const struct cq_dsl_context *ctx, struct cq_arena *a,
                         struct cq_dsl_error *e);

/* ---- execution and results (exec.c, mask.c) -------------------------------------------- */

/* Where execution gets connections: the caller's pools, by clariq connection name. */
struct cq_dsl_exec_env {
    void *ctx;
    /* Borrows a connection; CQ_ENOTFOUND when no such connection is configured. */
    int (*acquire)(void *ctx, const char *conn, struct cq_conn **out, struct cq_err *err);
    void (*release)(void *ctx, struct cq_conn *c);
    bool include_sql_in_errors;   /* details.sql / params in execution errors (§0.10) */
    /* Optional (NULL = none): the connection's limits (timeout_ms, max_rows, max_bytes) for
     * the statement. A result cut by max_rows/max_bytes fails with QUERY_FAILED. */
    void (*limits)(void *ctx, const char *conn, struct cq_limits *out);
    /* Optional, for cq_dsl_execute_start: a connection to queue the statement on without
     * ever blocking (possibly shared with other statements), or non-zero when none is at
     * hand; release is called for it once, like for acquire. */
    int (*try_acquire)(void *ctx, const char *conn, struct cq_conn **out);
};

/*
 * Writes the QueryResult JSON (spec §10.1) for a compiled query to out: kind "sql" for
 * sql-only, otherwise executes (count or data), re-keys rows to apiNames and masks.
 * Returns CQ_OK, or an rc with e set to the spec's ExecutionError/ConnectionError.
 */
int cq_dsl_execute(const struct cq_dsl_compiled *c, const struct cq_dsl_exec_env *env,
                   struct cq_buf *out, struct cq_dsl_error *e);

/*
 * The same without blocking, for event loops: the statement is queued on a connection
 * from env->try_acquire (cq_drv_exec_start; *conn and *op are set for a cancel).
 * Answers:
 *   CQ_EAGAIN: queued; done(ctx, rc) is called once later, from the thread stepping the
 *     connection, with cq_dsl_execute's final rc, or with CQ_EUNSUPPORTED when it must be
 *     run again with cq_dsl_execute (the connection was lost before any row and a retry is
 *     safe; out and e untouched);
 *   CQ_EUNSUPPORTED: nothing was done (no connection at hand, a driver without
 *     asynchronous execution...): call cq_dsl_execute on a thread;
 *   any other rc (CQ_OK included): the answer is complete (sql-only, or a query that fails
 *     before any database work).
 * env, out and e must stay valid until done is called.
 */
struct cq_drv_op;
typedef void (*cq_dsl_done_fn)(void *ctx, int rc);
int cq_dsl_execute_start(const struct cq_dsl_compiled *c, const struct cq_dsl_exec_env *env,
                         struct cq_buf *out, struct cq_dsl_error *e, cq_dsl_done_fn done,
                         void *ctx, struct cq_conn **conn, struct cq_drv_op **op);

/* Masks one value's text (spec §10.4, on code points) and appends the JSON for it to out
 * (a quoted string, or the number 0 for fn NUMBER); returns false only for NUMBER. */
bool cq_dsl_mask(enum cq_dsl_mask fn, const char *s, size_t len, struct cq_buf *out);

/* ---- the live catalog (reload swaps atomically) ------------------------------------------ */

struct cq_dsl_registry {
    pthread_mutex_t mu;
    struct cq_dsl_catalog *cur;   /* one reference held */
};

void cq_dsl_registry_init(struct cq_dsl_registry *r);
void cq_dsl_registry_cleanup(struct cq_dsl_registry *r);
/* The current snapshot with a reference the caller drops (cq_dsl_catalog_unref). */
struct cq_dsl_catalog *cq_dsl_registry_get(struct cq_dsl_registry *r);
/* Installs cat (takes its reference); the old one is released when its last reader ends. */
void cq_dsl_registry_swap(struct cq_dsl_registry *r, struct cq_dsl_catalog *cat);

#endif
