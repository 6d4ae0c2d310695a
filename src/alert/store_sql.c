/*
 * store_sql.c - the SQL of the alert state store, one text for PostgreSQL and SQLite
 * wherever the two agree (upserts with ON CONFLICT ... DO UPDATE ... WHERE, RETURNING,
 * VALUES lists named column1, column2). The differences are the id columns, how a
 * transaction starts, row locks in the delivery claim, and multi-table writes (data-
 * modifying CTEs on PostgreSQL; a held connection on SQLite, see store.c).
 *
 * Every value is a bound parameter; the only literals are the store's own constants
 * (delivery states, the schema version key).
 */
#include <stdbool.h>
#include <stdio.h>

#include "alert/store_int.h"

/* ---- schema ------------------------------------------------------------------------------ */

/* ID is the id column type; timestamps are epoch ms (BIGINT), durations ms (DOUBLE). */
#define DDL_TABLES(ID)                                                                             \
    "CREATE TABLE IF NOT EXISTS clariq_alert_meta (\n"                                             \
    "    name TEXT PRIMARY KEY,\n"                                                                 \
    "    value TEXT NOT NULL\n"                                                                    \
    ");\n"                                                                                         \
    "CREATE TABLE IF NOT EXISTS clariq_alert_runs (\n"                                             \
    "    id " ID ",\n"                                                                             \
    "    alert_id TEXT NOT NULL,\n"                                                                \
    "    slot_ms BIGINT NOT NULL,\n"                                                               \
    "    run_at_ms BIGINT NOT NULL,\n"                                                             \
    "    state TEXT NOT NULL,\n"                                                                   \
    "    reason TEXT,\n"                                                                           \
    "    value TEXT,\n"                                                                            \
    "    row_count BIGINT NOT NULL,\n"                                                             \
    "    duration_ms DOUBLE PRECISION NOT NULL,\n"                                                 \
    "    error TEXT,\n"                                                                            \
    "    fingerprint TEXT,\n"                                                                      \
    "    notified_state TEXT\n"                                                                    \
    ");\n"                                                                                         \
    "CREATE INDEX IF NOT EXISTS clariq_alert_runs_alert\n"                                         \
    "    ON clariq_alert_runs (alert_id, run_at_ms, id);\n"                                        \
    "CREATE INDEX IF NOT EXISTS clariq_alert_runs_time ON clariq_alert_runs (run_at_ms);\n"        \
    "CREATE TABLE IF NOT EXISTS clariq_alert_status (\n"                                           \
    "    alert_id TEXT PRIMARY KEY,\n"                                                             \
    "    state TEXT NOT NULL,\n"                                                                   \
    "    last_run_ms BIGINT NOT NULL,\n"                                                           \
    "    last_slot_ms BIGINT NOT NULL,\n"                                                          \
    "    value TEXT,\n"                                                                            \
    "    last_notified_ms BIGINT,\n"                                                               \
    "    last_notified_state TEXT,\n"                                                              \
    "    fingerprint TEXT\n"                                                                       \
    ");\n"                                                                                         \
    "CREATE TABLE IF NOT EXISTS clariq_alert_claims (\n"                                           \
    "    alert_id TEXT NOT NULL,\n"                                                                \
    "    slot_ms BIGINT NOT NULL,\n"                                                               \
    "    runner TEXT NOT NULL,\n"                                                                  \
    "    claimed_ms BIGINT NOT NULL,\n"                                                            \
    "    lease_until_ms BIGINT NOT NULL,\n"                                                        \
    "    done_ms BIGINT,\n"                                                                        \
    "    PRIMARY KEY (alert_id, slot_ms)\n"                                                        \
    ");\n"                                                                                         \
    "CREATE INDEX IF NOT EXISTS clariq_alert_claims_lease\n"                                       \
    "    ON clariq_alert_claims (lease_until_ms);\n"                                               \
    "CREATE TABLE IF NOT EXISTS clariq_alert_deliveries (\n"                                       \
    "    id " ID ",\n"                                                                             \
    "    run_id BIGINT NOT NULL,\n"                                                                \
    "    alert_id TEXT NOT NULL,\n"                                                                \
    "    channel TEXT NOT NULL,\n"                                                                 \
    "    payload TEXT NOT NULL,\n"                                                                 \
    "    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),\n"                  \
    "    attempts INTEGER NOT NULL DEFAULT 0,\n"                                                   \
    "    created_ms BIGINT NOT NULL,\n"                                                            \
    "    next_attempt_ms BIGINT NOT NULL,\n"                                                       \
    "    claimed_by TEXT,\n"                                                                       \
    "    lease_until_ms BIGINT,\n"                                                                 \
    "    finished_ms BIGINT,\n"                                                                    \
    "    last_error TEXT\n"                                                                        \
    ");\n"                                                                                         \
    "CREATE INDEX IF NOT EXISTS clariq_alert_deliveries_run\n"                                     \
    "    ON clariq_alert_deliveries (run_id);\n"                                                   \
    "CREATE INDEX IF NOT EXISTS clariq_alert_deliveries_pending\n"                                 \
    "    ON clariq_alert_deliveries (id) WHERE status = 'pending';\n"

void cq_alert_sql_ddl(enum cq_dialect d, struct cq_buf *out)
{
    if (d == CQ_DIALECT_PG) {
        /* CREATE ... IF NOT EXISTS is not safe against a second runner doing the same at
         * the same moment (duplicate pg_type rows): one at a time, per database. */
        cq_buf_puts(out, "BEGIN;\nSELECT pg_advisory_xact_lock(7160086024157003009);\n");
        cq_buf_puts(out, DDL_TABLES("BIGSERIAL PRIMARY KEY"));
    } else {
        /* AUTOINCREMENT: an id is never reused after prune, so a pending delivery can
         * never point at a newer run. */
        cq_buf_puts(out, "BEGIN IMMEDIATE;\n");
        cq_buf_puts(out, DDL_TABLES("INTEGER PRIMARY KEY AUTOINCREMENT"));
    }
    /* a new database starts at this build's version; an older one keeps its own row */
    cq_buf_printf(out,
                  "INSERT INTO clariq_alert_meta (name, value) VALUES ('schema_version', '%d')\n"
                  "    ON CONFLICT (name) DO NOTHING;\n",
                  CQ_ALERT_SCHEMA_VERSION);
    cq_buf_puts(out, "COMMIT;\n");
}

const char cq_alert_sql_version[] =
    "SELECT value FROM clariq_alert_meta WHERE name = 'schema_version'";

/* ---- evaluation: status, claim, record -------------------------------------------------- */

const char cq_alert_sql_status[] =
    "SELECT state, last_run_ms, last_slot_ms, last_notified_ms, last_notified_state, "
    "fingerprint, value FROM clariq_alert_status WHERE alert_id = $1";

/*
 * $1 alert_id, $2 slot_ms, $3 runner, $4 now, $5 lease end. One statement decides: the
 * INSERT wins a free slot; on conflict the UPDATE takes the claim over only when its
 * holder neither recorded the run (done_ms) nor renewed within the lease; otherwise no
 * row comes back. PostgreSQL locks the conflicting row and re-checks the WHERE on its
 * latest version, SQLite runs one writer at a time, so two claimers never both get a row.
 * Slots up to the last recorded one propose no row at all.
 */
const char cq_alert_sql_claim[] =
    "INSERT INTO clariq_alert_claims (alert_id, slot_ms, runner, claimed_ms, lease_until_ms) "
    "SELECT $1, $2, $3, $4, $5 "
    "WHERE NOT EXISTS (SELECT 1 FROM clariq_alert_status "
    "WHERE alert_id = $1 AND last_slot_ms >= $2) "
    "ON CONFLICT (alert_id, slot_ms) DO UPDATE SET runner = excluded.runner, "
    "claimed_ms = excluded.claimed_ms, lease_until_ms = excluded.lease_until_ms "
    "WHERE clariq_alert_claims.done_ms IS NULL "
    "AND clariq_alert_claims.lease_until_ms <= excluded.claimed_ms "
    "RETURNING runner";

const char cq_alert_sql_run_insert[] =
    "INSERT INTO clariq_alert_runs (alert_id, slot_ms, run_at_ms, state, reason, value, "
    "row_count, duration_ms, error, fingerprint, notified_state) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";

/* The value follows ok/triggered runs only (the change rule compares with it); the last
 * slot never goes back (an `alert test` run has slot 0); the notification columns move
 * only when this run notifies ($12 set). */
const char cq_alert_sql_status_upsert[] =
    "INSERT INTO clariq_alert_status (alert_id, state, last_run_ms, last_slot_ms, value, "
    "last_notified_ms, last_notified_state, fingerprint) "
    "VALUES ($1, $4, $3, $2, $6, $12, $11, $13) "
    "ON CONFLICT (alert_id) DO UPDATE SET state = excluded.state, "
    "last_run_ms = excluded.last_run_ms, "
    "last_slot_ms = CASE WHEN excluded.last_slot_ms > clariq_alert_status.last_slot_ms "
    "THEN excluded.last_slot_ms ELSE clariq_alert_status.last_slot_ms END, "
    "value = CASE WHEN excluded.state = 'error' THEN clariq_alert_status.value "
    "ELSE excluded.value END, "
    "last_notified_ms = COALESCE(excluded.last_notified_ms, "
    "clariq_alert_status.last_notified_ms), "
    "last_notified_state = CASE WHEN excluded.last_notified_ms IS NULL "
    "THEN clariq_alert_status.last_notified_state ELSE excluded.last_notified_state END, "
    "fingerprint = CASE WHEN excluded.last_notified_ms IS NULL "
    "THEN clariq_alert_status.fingerprint ELSE excluded.fingerprint END";

/* The slot's claim is finished: no takeover once the run is recorded. */
const char cq_alert_sql_claim_done[] =
    "UPDATE clariq_alert_claims SET done_ms = $14 WHERE alert_id = $1 AND slot_ms = $2";

/* INSERT of n_d deliveries; first is the $n of the first channel. */
static void deliveries_sql(const char *run, size_t n_d, size_t first, struct cq_buf *out)
{
    cq_buf_printf(out,
                  "INSERT INTO clariq_alert_deliveries (run_id, alert_id, channel, payload, "
                  "status, attempts, created_ms, next_attempt_ms) "
                  "SELECT r.id, $1, v.column1, v.column2, 'pending', 0, $14, $14 "
                  "FROM %s AS r, (VALUES ",
                  run);
    for (size_t i = 0; i < n_d; i++) {
        cq_buf_printf(out, "%s(CAST($%zu AS TEXT), CAST($%zu AS TEXT))", i > 0 ? ", " : "",
                      first + 2 * i, first + 2 * i + 1);
    }
    cq_buf_puts(out, ") AS v");
}

void cq_alert_sql_record(enum cq_dialect d, size_t n_d, size_t n_binds, struct cq_buf *out)
{
    size_t first = CQ_ALERT_RECORD_NP + 1;
    if (d == CQ_DIALECT_SQLITE) {
        char run[64];
        if (n_d == 0) {
            return;
        }
        snprintf(run, sizeof(run), "(SELECT CAST($%zu AS BIGINT) AS id)", n_binds);
        deliveries_sql(run, n_d, first, out);
        return;
    }
    /* One statement, so one implicit transaction: every CTE runs exactly once, whether
     * or not the final SELECT reads it. */
    cq_buf_printf(out, "WITH r AS (%s), s AS (%s), c AS (%s)", cq_alert_sql_run_insert,
                  cq_alert_sql_status_upsert, cq_alert_sql_claim_done);
    if (n_d > 0) {
        cq_buf_puts(out, ", d AS (");
        deliveries_sql("r", n_d, first, out);
        cq_buf_puts(out, ")");
    }
    cq_buf_puts(out, " SELECT id FROM r");
}

/* ---- outbox ------------------------------------------------------------------------------ */

/*
 * $1 runner, $2 now, $3 lease end, $4 max. The outer WHERE repeats the conditions: on
 * PostgreSQL a row another runner claimed meanwhile is re-checked once its lock is
 * released and skipped, and SKIP LOCKED lets concurrent runners take different rows.
 * PostgreSQL gets the ids as an ARRAY(...) InitPlan, run once: as a plain IN subquery the
 * planner may rescan the LIMIT per row of a semi join, and each rescan, skipping what this
 * statement just claimed, would hand out more than max rows.
 */
void cq_alert_sql_due(enum cq_dialect d, struct cq_buf *out)
{
    bool pg = d == CQ_DIALECT_PG;
    cq_buf_printf(out,
                  "UPDATE clariq_alert_deliveries SET claimed_by = $1, lease_until_ms = $3 "
                  "WHERE id %s (SELECT id FROM clariq_alert_deliveries "
                  "WHERE status = 'pending' AND next_attempt_ms <= $2 "
                  "AND (lease_until_ms IS NULL OR lease_until_ms <= $2) "
                  "ORDER BY id LIMIT $4%s)%s "
                  "AND status = 'pending' AND (lease_until_ms IS NULL OR lease_until_ms <= $2) "
                  "RETURNING id, run_id, alert_id, channel, payload, attempts",
                  pg ? "= ANY (ARRAY" : "IN", pg ? " FOR UPDATE SKIP LOCKED" : "", pg ? ")" : "");
}

/* $1 id, $2 status, $3 attempts, $4 next attempt (NULL = keep), $5 error, $6 finished.
 * Only a pending delivery changes: a runner whose lease ran out must not overwrite what
 * the runner that took over recorded. */
const char cq_alert_sql_delivered[] =
    "UPDATE clariq_alert_deliveries SET status = $2, attempts = $3, "
    "next_attempt_ms = COALESCE($4, next_attempt_ms), last_error = $5, finished_ms = $6, "
    "claimed_by = NULL, lease_until_ms = NULL "
    "WHERE id = $1 AND status = 'pending' RETURNING id";

const char cq_alert_sql_delivery_state[] =
    "SELECT status FROM clariq_alert_deliveries WHERE id = $1";

const char cq_alert_sql_pending[] =
    "SELECT count(*) FROM clariq_alert_deliveries WHERE status = 'pending'";

/* $1 alert_id, $2 limit: the newest runs, each with its deliveries (LEFT JOIN), in one
 * statement so the runs and their deliveries come from the same snapshot. */
const char cq_alert_sql_history[] =
    "SELECT r.id, r.run_at_ms, r.slot_ms, r.state, r.reason, r.value, r.row_count, "
    "r.duration_ms, r.error, d.channel, d.status, d.attempts, d.last_error "
    "FROM (SELECT id, run_at_ms, slot_ms, state, reason, value, row_count, duration_ms, "
    "error FROM clariq_alert_runs WHERE alert_id = $1 "
    "ORDER BY run_at_ms DESC, id DESC LIMIT $2) AS r "
    "LEFT JOIN clariq_alert_deliveries AS d ON d.run_id = r.id "
    "ORDER BY r.run_at_ms DESC, r.id DESC, d.id";

/* ---- prune ($1 before) ------------------------------------------------------------------- */

/* A run with a pending delivery is kept whole, so the delivery keeps its run. */
#define OLD_RUNS                                                                                   \
    "SELECT r.id FROM clariq_alert_runs AS r WHERE r.run_at_ms < $1 AND NOT EXISTS ("              \
    "SELECT 1 FROM clariq_alert_deliveries AS p WHERE p.run_id = r.id "                            \
    "AND p.status = 'pending')"

const char cq_alert_sql_prune_deliveries[] =
    "DELETE FROM clariq_alert_deliveries WHERE status <> 'pending' AND run_id IN (" OLD_RUNS ")";

const char cq_alert_sql_prune_runs[] = "DELETE FROM clariq_alert_runs WHERE id IN (" OLD_RUNS ")";

/* Old claims only: the status row, not the claim, keeps old slots from being won. */
const char cq_alert_sql_prune_claims[] =
    "DELETE FROM clariq_alert_claims WHERE lease_until_ms < $1";

const char cq_alert_sql_prune_pg[] =
    "WITH old AS (" OLD_RUNS "), "
    "dd AS (DELETE FROM clariq_alert_deliveries WHERE status <> 'pending' "
    "AND run_id IN (SELECT id FROM old)), "
    "dc AS (DELETE FROM clariq_alert_claims WHERE lease_until_ms < $1), "
    "dr AS (DELETE FROM clariq_alert_runs WHERE id IN (SELECT id FROM old) RETURNING id) "
    "SELECT count(*) FROM dr";
