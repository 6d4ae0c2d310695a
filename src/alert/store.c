/*
 * store.c - the alert state store (store.h) on top of the drv layer: opening (pool,
 * tables, schema version), the statement helpers every operation shares, and the
 * operations that decide an evaluation (status, claim, record). The outbox operations
 * (due, delivered, pending count, history, prune) are in store_outbox.c; the SQL text is
 * in store_sql.c. See docs/internals/alert-store.md.
 *
 * Transactions: PostgreSQL sessions may not keep a transaction open across exec calls
 * (pg_exec.c rolls it back), so a multi-table write there is one statement with
 * data-modifying CTEs, atomic on its own. SQLite holds one pooled connection for
 * BEGIN IMMEDIATE ... COMMIT and runs the same statements one by one.
 */
#include "alert/store.h"

#include <stdio.h>
#include <string.h>

#include "alert/store_int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"

#define BUSY_TRIES 3 /* SQLite lock waits (5 s each in the driver) before giving up */
#define SQLITE_TIMEOUT_MS 30000
#define SQLITE_QUEUE_MS 30000 /* threads of one runner wait for a pooled state connection */
#define ARENA_CHUNK 4096

/* ---- errors ----------------------------------------------------------------------------- */

int cq_alert_store_report(const char *where, const char *op, const struct cq_err *e,
                          struct cq_err *err)
{
    int rc = cq_err_set(err, e->rc != CQ_OK ? e->rc : CQ_EINTERNAL, "alert state store%s%s: %s: %s",
                        where[0] != '\0' ? " " : "", where, op, e->msg);
    cq_err_code(err, e->backend_code);
    if (err != NULL) {
        err->retryable = e->retryable;
    }
    return rc;
}

/* ---- bound values ------------------------------------------------------------------------ */

void cq_alert_binds_init(struct cq_alert_binds *b, struct cq_arena *a, size_t cap)
{
    b->a = a;
    b->n = 0;
    b->cap = cap;
    b->oom = false;
    b->v = NULL;
    if (cap > 0) {
        size_t bytes;
        b->v = cq_size_mul(&bytes, cap, sizeof(*b->v)) ? cq_arena_alloc(a, bytes) : NULL;
        b->oom = b->v == NULL;
    }
}

static void bind_set(struct cq_alert_binds *b, enum cq_ptype type, const char *text)
{
    if (b->oom || b->n == b->cap) {
        b->oom = true; /* a caller's capacity bug or OOM: reported once, at the end */
        return;
    }
    struct cq_param *p = &b->v[b->n++];
    p->explicit_type = true; /* PostgreSQL binds int8/float8/text, not "unknown" */
    p->type = text == NULL ? CQ_P_NULL : type;
    p->text = text;
    p->len = text != NULL ? strlen(text) : 0;
}

void cq_alert_bind_text(struct cq_alert_binds *b, const char *s)
{
    bind_set(b, CQ_P_TEXT, s);
}

void cq_alert_bind_int(struct cq_alert_binds *b, int64_t x)
{
    char *t = b->oom ? NULL : cq_arena_printf(b->a, "%lld", (long long)x);
    b->oom = b->oom || t == NULL;
    bind_set(b, CQ_P_INT, t);
}

void cq_alert_bind_real(struct cq_alert_binds *b, double x)
{
    char *t = b->oom ? NULL : cq_arena_printf(b->a, "%.17g", x);
    b->oom = b->oom || t == NULL;
    bind_set(b, CQ_P_FLOAT, t);
}

/* ---- collected rows ---------------------------------------------------------------------- */

static int rows_columns(void *ctx, size_t n, const struct cq_col *cols, struct cq_err *err)
{
    struct cq_alert_rows *r = ctx;
    (void)cols, (void)err;
    r->n_cols = n;
    r->n = 0; /* a statement retried on a fresh connection starts over */
    return CQ_OK;
}

static int rows_grow(struct cq_alert_rows *r, size_t n_cols, struct cq_err *err)
{
    size_t cap = r->cap > 0 ? 2 * r->cap : 8;
    size_t bytes;
    char **cells = NULL;
    if (cq_size_mul(&bytes, cap, n_cols * sizeof(*cells))) {
        cells = cq_arena_alloc(r->a, bytes); /* the old array stays in the arena: <= 2x */
    }
    if (cells == NULL) {
        return cq_err_set(err, CQ_ENOMEM, "out of memory reading rows");
    }
    if (r->n > 0) {
        memcpy(cells, r->cells, r->n * n_cols * sizeof(*cells));
    }
    r->cells = cells;
    r->cap = cap;
    return CQ_OK;
}

static int rows_row(void *ctx, size_t n, const struct cq_value *vals, struct cq_err *err)
{
    struct cq_alert_rows *r = ctx;
    if (n > 0 && r->n == r->cap && rows_grow(r, n, err) != CQ_OK) {
        return CQ_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        char *v = NULL;
        if (vals[i].kind != CQ_V_NULL) {
            v = cq_arena_strndup(r->a, vals[i].p != NULL ? vals[i].p : "", vals[i].len);
            if (v == NULL) {
                return cq_err_set(err, CQ_ENOMEM, "out of memory reading rows");
            }
        }
        r->cells[r->n * n + i] = v;
    }
    r->n++;
    return CQ_OK;
}

static int rows_end(void *ctx, const struct cq_result_info *info, struct cq_err *err)
{
    struct cq_alert_rows *r = ctx;
    (void)err;
    r->affected = info->rows_affected;
    return CQ_OK;
}

void cq_alert_rows_init(struct cq_alert_rows *r, struct cq_arena *a)
{
    memset(r, 0, sizeof(*r));
    r->a = a;
    r->affected = -1;
}

const char *cq_alert_cell(const struct cq_alert_rows *r, size_t row, size_t col)
{
    return row < r->n && col < r->n_cols ? r->cells[row * r->n_cols + col] : NULL;
}

int64_t cq_alert_cell_i64(const struct cq_alert_rows *r, size_t row, size_t col)
{
    const char *s = cq_alert_cell(r, row, col);
    int64_t v = 0;
    /* BIGINT columns: NULL (never set) reads as 0, which is what the API reports */
    if (s == NULL || cq_parse_i64(&s, &v) != CQ_OK) {
        return 0;
    }
    return v;
}

/* ---- running statements ------------------------------------------------------------------ */

static bool busy_again(int rc, const struct cq_err *e, int attempt)
{
    /* Only SQLite marks a SQL error retryable (SQLITE_BUSY/LOCKED after the busy wait). */
    return rc == CQ_EBACKEND && e->retryable && attempt < BUSY_TRIES;
}

static void fill_stmt(const struct cq_alert_store *s, struct cq_stmt *st, const char *sql,
                      const struct cq_alert_binds *b, size_t n, bool multi)
{
    memset(st, 0, sizeof(*st));
    st->sql = sql;
    st->params = b != NULL ? b->v : NULL;
    st->n_params = b != NULL ? n : 0;
    st->timeout_ms = s->timeout_ms;
    st->allow_multi = multi; /* max_rows/max_bytes 0: our own statements are never capped */
}

static struct cq_rowsink rows_sink(struct cq_alert_rows *out)
{
    return (struct cq_rowsink){
        .ctx = out,
        .on_columns = rows_columns,
        .on_row = rows_row,
        .on_end = rows_end,
    };
}

int cq_alert_exec_conn(const struct cq_alert_store *s, struct cq_conn *c, const char *sql,
                       const struct cq_alert_binds *b, size_t n, struct cq_alert_rows *out,
                       struct cq_err *e)
{
    struct cq_stmt st;
    struct cq_rowsink sink = rows_sink(out);
    if (b != NULL && b->oom) {
        return cq_err_set(e, CQ_ENOMEM, "out of memory binding values");
    }
    fill_stmt(s, &st, sql, b, n, false);
    return cq_drv_exec(c, &st, out != NULL ? &sink : &cq_drv_discard_sink, e);
}

int cq_alert_exec(const struct cq_alert_store *s, const char *sql, const struct cq_alert_binds *b,
                  struct cq_alert_rows *out, struct cq_err *e)
{
    struct cq_stmt st;
    struct cq_rowsink sink = rows_sink(out);
    int rc;
    if (b != NULL && b->oom) {
        return cq_err_set(e, CQ_ENOMEM, "out of memory binding values");
    }
    fill_stmt(s, &st, sql, b, b != NULL ? b->n : 0, false);
    for (int attempt = 1;; attempt++) {
        rc = cq_drv_pool_exec(s->pool, &st, out != NULL ? &sink : &cq_drv_discard_sink, e);
        if (!busy_again(rc, e, attempt)) {
            return rc;
        }
        cq_err_clear(e);
    }
}

/* Ends a transaction that failed; a session that cannot be rolled back is never reused. */
static void rollback(const struct cq_alert_store *s, struct cq_conn *c)
{
    struct cq_err ignored = {0};
    if (cq_alert_exec_conn(s, c, "ROLLBACK", NULL, 0, NULL, &ignored) != CQ_OK) {
        c->broken = true;
    }
}

int cq_alert_in_tx(const struct cq_alert_store *s, cq_alert_tx_fn body, void *ctx, struct cq_err *e)
{
    int rc;
    for (int attempt = 1;; attempt++) {
        struct cq_conn *c = NULL;
        bool begun = false;
        rc = cq_drv_pool_get(s->pool, &c, e);
        if (rc == CQ_OK) {
            rc = cq_alert_exec_conn(s, c, "BEGIN IMMEDIATE", NULL, 0, NULL, e);
            begun = rc == CQ_OK;
        }
        if (rc == CQ_OK) {
            rc = body(s, c, ctx, e);
        }
        if (rc == CQ_OK) {
            rc = cq_alert_exec_conn(s, c, "COMMIT", NULL, 0, NULL, e);
        }
        if (rc != CQ_OK && begun) {
            rollback(s, c);
        }
        if (c != NULL) {
            cq_drv_pool_put(s->pool, c);
        }
        if (!busy_again(rc, e, attempt)) {
            return rc;
        }
        cq_err_clear(e);
    }
}

/* Runs a script of several statements (no values) on one connection, rolling back what a
 * failure left open: SQLite keeps the transaction after a failed statement. */
static int run_script(const struct cq_alert_store *s, const char *sql, struct cq_err *e)
{
    struct cq_conn *c = NULL;
    struct cq_stmt st;
    int rc;
    for (int attempt = 1;; attempt++) {
        rc = cq_drv_pool_get(s->pool, &c, e);
        if (rc == CQ_OK) {
            fill_stmt(s, &st, sql, NULL, 0, true);
            rc = cq_drv_exec(c, &st, &cq_drv_discard_sink, e);
            if (rc != CQ_OK) {
                rollback(s, c);
            }
            cq_drv_pool_put(s->pool, c);
            c = NULL;
        }
        if (!busy_again(rc, e, attempt)) {
            return rc;
        }
        cq_err_clear(e);
    }
}

/* ---- open -------------------------------------------------------------------------------- */

/* The connection the store uses: the configured postgres one, or a private one for the
 * SQLite file. *cc borrows conf's strings. */
static int pick_conn(const struct cq_conf *conf, struct cq_conn_conf *cc, char *where, size_t size,
                     struct cq_err *e)
{
    const struct cq_state_conf *sc = &conf->state;
    memset(cc, 0, sizeof(*cc));
    if (sc->connection != NULL) {
        const struct cq_conn_conf *found = cq_conf_conn(conf, sc->connection);
        snprintf(where, size, "postgres:%s", sc->connection);
        if (found == NULL) {
            return cq_err_set(e, CQ_ENOTFOUND,
                              "state.connection names no connection '%s' (add it under "
                              "connections:, or remove state.connection to use a local file)",
                              sc->connection);
        }
        if (found->driver == NULL || strcmp(found->driver, "postgres") != 0) {
            return cq_err_set(e, CQ_EINVAL,
                              "connection %s uses driver %s; a shared state store needs a "
                              "postgres connection (or use state.path for a local file)",
                              sc->connection, found->driver != NULL ? found->driver : "(none)");
        }
        if (found->read_only) {
            return cq_err_set(e, CQ_EREADONLY,
                              "connection %s is read-only (set read_only: false on connection "
                              "%s; the state store writes)",
                              sc->connection, sc->connection);
        }
        *cc = *found;
        return CQ_OK;
    }
    if (sc->path == NULL || sc->path[0] == '\0') {
        return cq_err_set(e, CQ_EINVAL, "no state.path or state.connection configured");
    }
    snprintf(where, size, "sqlite:%s", sc->path);
    cc->name = "state";
    cc->driver = "sqlite";
    cc->path = sc->path;
    cc->read_only = false;
    /* One connection, kept open: SQLite takes one writer at a time anyway, and threads
     * queued on the pool are woken at once, where a second connection would sleep in the
     * busy handler. A :memory: database must be one connection in any case. */
    cc->pool = (struct cq_pool_conf){.min = 1, .max = 1, .idle_timeout_ms = 0};
    cc->limits.timeout_ms = SQLITE_TIMEOUT_MS;
    cc->limits.queue_timeout_ms = SQLITE_QUEUE_MS;
    return CQ_OK;
}

/* Later schema versions add their steps here (ALTER TABLE ..., then the version row). */
static int migrate(const struct cq_alert_store *s, int64_t from, struct cq_err *e)
{
    (void)s;
    if (from > CQ_ALERT_SCHEMA_VERSION) {
        return cq_err_set(e, CQ_EUNSUPPORTED,
                          "the tables have schema version %lld but this clariq knows %d (a newer "
                          "clariq created them; upgrade this one)",
                          (long long)from, CQ_ALERT_SCHEMA_VERSION);
    }
    return CQ_OK;
}

static int setup_tables(struct cq_alert_store *s, struct cq_err *e)
{
    struct cq_arena a;
    struct cq_alert_rows r;
    struct cq_buf ddl;
    int rc;
    cq_arena_init(&a, ARENA_CHUNK, 0);
    cq_alert_rows_init(&r, &a);
    cq_buf_init(&ddl, 65536);
    if (s->dialect == CQ_DIALECT_SQLITE) {
        /* WAL: readers never block the writer, and other processes share the file; the
         * setting is stored in the file, so doing it once is enough. */
        rc = cq_alert_exec(s, "PRAGMA journal_mode=WAL", NULL, &r, e);
        /* In WAL mode NORMAL syncs at checkpoints, not at every commit: a killed process
         * loses nothing; only an OS crash or power cut may lose the last commits. */
        if (rc == CQ_OK) {
            rc = cq_alert_exec(s, "PRAGMA synchronous=NORMAL", NULL, &r, e);
        }
        if (rc != CQ_OK) {
            goto out;
        }
        rc = cq_alert_exec(s, "PRAGMA journal_mode", NULL, &r, e);
        if (rc != CQ_OK) {
            goto out;
        }
        const char *mode = cq_alert_cell(&r, 0, 0);
        if (mode != NULL && !cq_streq_ci(mode, "wal") && !cq_streq_ci(mode, "memory")) {
            CQ_LOG(CQ_LOG_WARN, "alert:store",
                   "%s: journal_mode is %s, not wal (the file system may not support it); "
                   "runners will block each other more",
                   s->where, mode);
        }
    }
    cq_alert_sql_ddl(s->dialect, &ddl);
    if (cq_buf_rc(&ddl) != CQ_OK) {
        rc = cq_err_set(e, CQ_ENOMEM, "out of memory");
        goto out;
    }
    rc = run_script(s, cq_buf_str(&ddl), e);
    if (rc == CQ_OK) {
        rc = cq_alert_exec(s, cq_alert_sql_version, NULL, &r, e);
    }
    if (rc == CQ_OK) {
        rc = migrate(s, cq_alert_cell_i64(&r, 0, 0), e);
    }
out:
    cq_buf_cleanup(&ddl);
    cq_arena_free(&a);
    return rc;
}

struct cq_alert_store *cq_alert_store_open(const struct cq_conf *conf, struct cq_err *err)
{
    struct cq_alert_store *s = NULL;
    struct cq_conn_conf cc;
    struct cq_err e = {0};
    char where[sizeof(s->where)] = "";
    const char *op = "open";
    int rc;

    if (conf == NULL) {
        cq_err_set(err, CQ_EINVAL, "alert state store: open: no configuration");
        return NULL;
    }
    rc = pick_conn(conf, &cc, where, sizeof(where), &e);
    if (rc != CQ_OK) {
        goto out;
    }
    s = cq_calloc(1, sizeof(*s));
    if (s == NULL) {
        rc = cq_err_set(&e, CQ_ENOMEM, "out of memory");
        goto out;
    }
    cq_strlcpy(s->where, where, sizeof(s->where));
    s->dialect = strcmp(cc.driver, "sqlite") == 0 ? CQ_DIALECT_SQLITE : CQ_DIALECT_PG;
    s->timeout_ms = cc.limits.timeout_ms;
    s->pool = cq_drv_pool_new(&cc, &e);
    if (s->pool == NULL) {
        rc = e.rc != CQ_OK ? e.rc : CQ_ENOMEM;
        goto out;
    }
    op = "creating the tables";
    rc = setup_tables(s, &e);
out:
    if (rc != CQ_OK) {
        cq_alert_store_report(where, op, &e, err);
        cq_alert_store_free(s);
        s = NULL;
    }
    return s;
}

void cq_alert_store_free(struct cq_alert_store *s)
{
    if (s == NULL) {
        return;
    }
    cq_drv_pool_free(s->pool);
    cq_free(s);
}

const char *cq_alert_store_where(const struct cq_alert_store *s)
{
    return s != NULL ? s->where : "";
}

/* ---- status ------------------------------------------------------------------------------ */

int cq_alert_store_status(struct cq_alert_store *s, const char *alert_id,
                          struct cq_alert_status *out, struct cq_err *err)
{
    struct cq_arena a;
    struct cq_alert_rows r;
    struct cq_alert_binds b;
    struct cq_err e = {0};
    int rc;

    if (s == NULL || alert_id == NULL || out == NULL) {
        return cq_err_set(err, CQ_EINVAL, "alert state store: status: missing argument");
    }
    memset(out, 0, sizeof(*out));
    cq_arena_init(&a, ARENA_CHUNK, 0);
    cq_alert_rows_init(&r, &a);
    cq_alert_binds_init(&b, &a, 1);
    cq_alert_bind_text(&b, alert_id);
    rc = cq_alert_exec(s, cq_alert_sql_status, &b, &r, &e);
    if (rc != CQ_OK || r.n == 0) {
        goto out;
    }
    /* state, last_run_ms, last_slot_ms, last_notified_ms, last_notified_state,
     * fingerprint, value */
    const char *state = cq_alert_cell(&r, 0, 0);
    const char *nstate = cq_alert_cell(&r, 0, 4);
    const char *fp = cq_alert_cell(&r, 0, 5);
    const char *value = cq_alert_cell(&r, 0, 6);
    cq_strlcpy(out->state, state != NULL ? state : "", sizeof(out->state));
    out->last_run_ms = cq_alert_cell_i64(&r, 0, 1);
    out->last_slot_ms = cq_alert_cell_i64(&r, 0, 2);
    out->last_notified_ms = cq_alert_cell_i64(&r, 0, 3);
    cq_strlcpy(out->last_notified_state, nstate != NULL ? nstate : "",
               sizeof(out->last_notified_state));
    cq_strlcpy(out->fingerprint, fp != NULL ? fp : "", sizeof(out->fingerprint));
    cq_strlcpy(out->value, value != NULL ? value : "", sizeof(out->value));
    out->has_value = value != NULL;
out:
    cq_arena_free(&a);
    if (rc != CQ_OK) {
        char op[128];
        snprintf(op, sizeof(op), "status of %s", alert_id);
        cq_alert_store_report(s->where, op, &e, err);
    }
    return rc;
}

/* ---- claim ------------------------------------------------------------------------------- */

int cq_alert_store_claim(struct cq_alert_store *s, const char *alert_id, int64_t slot_ms,
                         const char *runner, int64_t lease_ms, bool *won, struct cq_err *err)
{
    struct cq_arena a;
    struct cq_alert_rows r;
    struct cq_alert_binds b;
    struct cq_err e = {0};
    int64_t now = cq_wall_ms();
    int rc;

    if (won != NULL) {
        *won = false;
    }
    if (s == NULL || alert_id == NULL || runner == NULL || won == NULL || lease_ms < 0) {
        return cq_err_set(err, CQ_EINVAL, "alert state store: claim: invalid argument");
    }
    cq_arena_init(&a, ARENA_CHUNK, 0);
    cq_alert_rows_init(&r, &a);
    cq_alert_binds_init(&b, &a, 5);
    cq_alert_bind_text(&b, alert_id);
    cq_alert_bind_int(&b, slot_ms);
    cq_alert_bind_text(&b, runner);
    cq_alert_bind_int(&b, now);
    cq_alert_bind_int(&b, lease_ms > INT64_MAX - now ? INT64_MAX : now + lease_ms);
    rc = cq_alert_exec(s, cq_alert_sql_claim, &b, &r, &e);
    /* the statement returns the row it inserted or took over, nothing when it lost */
    *won = rc == CQ_OK && r.n == 1;
    cq_arena_free(&a);
    if (rc != CQ_OK) {
        char op[160];
        snprintf(op, sizeof(op), "claim of %s slot %lld", alert_id, (long long)slot_ms);
        cq_alert_store_report(s->where, op, &e, err);
    }
    return rc;
}

/* ---- record ------------------------------------------------------------------------------ */

/* What the SQLite transaction body needs. */
struct record_tx {
    struct cq_alert_binds *b; /* every value; the last slot is the run id, set here */
    size_t n_d;
    struct cq_buf *deliveries; /* the INSERT of the deliveries (n_d > 0) */
    struct cq_alert_rows *rows;
    int64_t run_id; /* OUT */
};

static int record_body(const struct cq_alert_store *s, struct cq_conn *c, void *ctx,
                       struct cq_err *e)
{
    struct record_tx *t = ctx;
    struct cq_alert_binds *b = t->b;
    int rc = cq_alert_exec_conn(s, c, cq_alert_sql_run_insert, b, CQ_ALERT_RUN_NP, t->rows, e);
    if (rc == CQ_OK && t->rows->n != 1) {
        rc = cq_err_set(e, CQ_EINTERNAL, "inserting the run returned no id");
    }
    if (rc != CQ_OK) {
        return rc;
    }
    t->run_id = cq_alert_cell_i64(t->rows, 0, 0);
    rc = cq_alert_exec_conn(s, c, cq_alert_sql_status_upsert, b, CQ_ALERT_STATUS_NP, NULL, e);
    if (rc == CQ_OK) {
        rc = cq_alert_exec_conn(s, c, cq_alert_sql_claim_done, b, CQ_ALERT_CLAIM_DONE_NP, NULL, e);
    }
    if (rc == CQ_OK && t->n_d > 0) {
        /* the run id goes into the slot reserved last (a retry overwrites it) */
        char *id = cq_arena_printf(b->a, "%lld", (long long)t->run_id);
        if (id == NULL) {
            return cq_err_set(e, CQ_ENOMEM, "out of memory");
        }
        b->v[b->n - 1] = (struct cq_param){
            .type = CQ_P_INT,
            .explicit_type = true,
            .text = id,
            .len = strlen(id),
        };
        rc = cq_alert_exec_conn(s, c, cq_buf_str(t->deliveries), b, b->n, NULL, e);
    }
    return rc;
}

/* The shared values, in the order of cq_alert_sql_run_insert and friends ($1..$14), then
 * channel and payload per delivery, then (SQLite) a slot for the run id. */
static void record_binds(const struct cq_alert_run *run, const struct cq_alert_delivery *d,
                         size_t n_d, struct cq_alert_binds *b, bool id_slot)
{
    bool notify = run->notified_state != NULL;
    cq_alert_bind_text(b, run->alert_id);       /* $1 */
    cq_alert_bind_int(b, run->slot_ms);         /* $2 */
    cq_alert_bind_int(b, run->run_at_ms);       /* $3 */
    cq_alert_bind_text(b, run->state);          /* $4 */
    cq_alert_bind_text(b, run->reason);         /* $5 */
    cq_alert_bind_text(b, run->value);          /* $6 */
    cq_alert_bind_int(b, run->row_count);       /* $7 */
    cq_alert_bind_real(b, run->duration_ms);    /* $8 */
    cq_alert_bind_text(b, run->error);          /* $9 */
    cq_alert_bind_text(b, run->fingerprint);    /* $10 */
    cq_alert_bind_text(b, run->notified_state); /* $11 */
    if (notify) {
        cq_alert_bind_int(b, run->run_at_ms); /* $12 last_notified_ms */
    } else {
        cq_alert_bind_text(b, NULL);
    }
    cq_alert_bind_text(b, notify ? run->fingerprint : NULL); /* $13 status fingerprint */
    cq_alert_bind_int(b, cq_wall_ms()); /* $14 now: deliveries due, claim done */
    for (size_t i = 0; i < n_d; i++) {
        cq_alert_bind_text(b, d[i].channel);
        cq_alert_bind_text(b, d[i].payload);
    }
    if (id_slot) {
        cq_alert_bind_text(b, NULL);
    }
}

int cq_alert_store_record(struct cq_alert_store *s, const struct cq_alert_run *run,
                          const struct cq_alert_delivery *d, size_t n_d, int64_t *run_id,
                          struct cq_err *err)
{
    struct cq_arena a;
    struct cq_alert_rows r;
    struct cq_alert_binds b;
    struct cq_buf sql;
    struct cq_err e = {0};
    struct record_tx t = {.b = &b, .n_d = n_d, .deliveries = &sql, .rows = &r};
    bool lite;
    size_t cap;
    int rc;

    if (run_id != NULL) {
        *run_id = 0;
    }
    if (s == NULL || run == NULL || run->alert_id == NULL || run->state == NULL ||
        (n_d > 0 && d == NULL) || n_d > CQ_ALERT_MAX_DELIVERIES) {
        return cq_err_set(err, CQ_EINVAL, "alert state store: record: invalid argument");
    }
    lite = s->dialect == CQ_DIALECT_SQLITE;
    cap = CQ_ALERT_RECORD_NP + 2 * n_d + 1;
    cq_arena_init(&a, ARENA_CHUNK, 0);
    cq_alert_rows_init(&r, &a);
    cq_alert_binds_init(&b, &a, cap);
    cq_buf_init(&sql, 1 << 20);
    record_binds(run, d, n_d, &b, lite && n_d > 0);
    cq_alert_sql_record(s->dialect, n_d, b.n, &sql);
    if (cq_buf_rc(&sql) != CQ_OK) {
        rc = cq_err_set(&e, CQ_ENOMEM, "out of memory");
        goto out;
    }
    if (lite) {
        rc = cq_alert_in_tx(s, record_body, &t, &e);
    } else {
        rc = cq_alert_exec(s, cq_buf_str(&sql), &b, &r, &e);
        if (rc == CQ_OK && r.n != 1) {
            rc = cq_err_set(&e, CQ_EINTERNAL, "recording the run returned no id");
        }
        t.run_id = cq_alert_cell_i64(&r, 0, 0);
    }
    if (rc == CQ_OK && run_id != NULL) {
        *run_id = t.run_id;
    }
out:
    cq_buf_cleanup(&sql);
    cq_arena_free(&a);
    if (rc != CQ_OK) {
        char op[160];
        snprintf(op, sizeof(op), "recording a run of %s", run->alert_id);
        cq_alert_store_report(s->where, op, &e, err);
    }
    return rc;
}
