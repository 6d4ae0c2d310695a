/*
 * eval.h - one evaluation of one alert: run its query, apply its rule, end in a state.
 *
 * The query's rows stream through a sink that keeps only what the rule and the message
 * need (the rule's aggregates, the first CQ_ALERT_KEEP_ROWS rows as text), so an alert on
 * a large result uses bounded memory. The evaluation never throws away a failure: a query
 * that fails or times out, or a result the rule cannot read, is state "error" with the
 * reason; cq_alert_eval_run itself fails only when it cannot allocate.
 *
 * Ownership: everything an evaluation points to lives in the caller's arena.
 */
#ifndef CQ_ALERT_EVAL_H
#define CQ_ALERT_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert/store.h"
#include "base/arena.h"
#include "base/err.h"
#include "conf/conf.h"
#include "drv/pool.h"

#define CQ_ALERT_KEEP_ROWS 50          /* rows kept for messages and `alert test` */
#define CQ_ALERT_KEEP_BYTES (64u << 10) /* bytes of cell text kept, in all */

enum cq_alert_state { CQ_ALERT_OK = 0, CQ_ALERT_TRIGGERED, CQ_ALERT_ERROR };

struct cq_alert_eval {
    const struct cq_alert_conf *alert; /* borrowed from the conf */
    enum cq_alert_state state;
    int64_t run_at_ms;        /* wall clock when the query started, epoch ms */
    double duration_ms;       /* query and rule */
    int64_t row_count;        /* rows the query returned (up to the connection's max_rows) */
    bool truncated;           /* max_rows / max_bytes cut the result: row_count is a floor */
    const char *reason;       /* always set: "3 rows", "max(lag_s) = 12.5 > 10", the error */
    const char *value;        /* the value the rule looked at, as text; NULL = none */
    bool has_num;             /* value is a number (num holds it) */
    double num;
    const char *error;        /* state error: what failed; NULL otherwise */
    enum cq_rc error_rc;      /* state error: the failure's code (CQ_ETIMEOUT...) */
    size_t n_cols;
    const char **cols;        /* column names */
    size_t n_rows;            /* rows kept (<= CQ_ALERT_KEEP_ROWS) */
    const char **cells;       /* n_rows * n_cols, row-major; NULL = SQL NULL */
    char fingerprint[65];     /* hex SHA-256 of state, value and kept rows */
};

/* "ok" | "triggered" | "error". */
const char *cq_alert_state_name(enum cq_alert_state s);

/*
 * Evaluates alert a on pool (a pool of a->connection). prev is the alert's last recorded
 * status (the change rule compares with prev->value); it may be NULL. Fills out (strings
 * in arena). Returns CQ_OK whatever the alert's state, or CQ_ENOMEM.
 */
int cq_alert_eval_run(const struct cq_alert_conf *a, struct cq_pool *pool,
                      const struct cq_alert_status *prev, struct cq_arena *arena,
                      struct cq_alert_eval *out, struct cq_err *err);

/* Writes the evaluation as a JSON object WITHOUT its closing '}', so callers can add
 * members (`alert test` adds the decision): alert, state, reason, value, threshold,
 * rowCount, truncated, durationMs, runAt, error, columns, rows. Errors stick in out. */
void cq_alert_eval_json(const struct cq_alert_eval *ev, struct cq_buf *out);

#endif
