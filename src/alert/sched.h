/*
 * sched.h - the alert runner: one timer thread ordering next fire times (a min-heap) and a
 * bounded pool of evaluation workers.
 *
 * - A worker takes the oldest queued run whose connection is under its concurrency cap
 *   (limits.max_concurrent, else pool.max), so one slow database cannot take every worker.
 * - A run still going when its alert fires again skips that slot (logged).
 * - After downtime, an alert whose last recorded slot is older than its latest fire time
 *   runs once at start, for that latest slot: never a burst of missed runs.
 * - A timer that wakes late never fires an alert twice: the next fire is computed from
 *   the later of the slot and now.
 * - Pending deliveries are retried every second; history is pruned hourly.
 * - A reload swaps in a new configuration generation; runs in flight finish on the old one,
 *   which is freed when its last run ends.
 *
 * Ownership: the scheduler owns every conf given to it (new and reload) and borrows the
 * store. Thread-safety: reload and stop may be called from any one control thread.
 */
#ifndef CQ_ALERT_SCHED_H
#define CQ_ALERT_SCHED_H

#include <stdint.h>

#include "alert/eval.h"
#include "alert/store.h"
#include "base/cron.h"
#include "base/err.h"
#include "conf/conf.h"

struct cq_alert_sched;

/* Takes ownership of conf (also on failure). runner names this process in claims. */
struct cq_alert_sched *cq_alert_sched_new(struct cq_conf *conf, struct cq_alert_store *store,
                                          const char *runner, struct cq_err *err);

/* Calls fn(ctx, state) after every finished run (from a worker thread; fn must be quick and
 * thread-safe). Set before cq_alert_sched_start; fn NULL removes it. `clariq serve` counts
 * runs by state in its metrics this way. */
void cq_alert_sched_on_run(struct cq_alert_sched *s,
                           void (*fn)(void *ctx, enum cq_alert_state state), void *ctx);

/* Starts the threads (catch-up runs are queued first). */
int cq_alert_sched_start(struct cq_alert_sched *s, struct cq_err *err);

/* Swaps in conf (takes ownership, also on failure). Alerts keep their schedules; new
 * alerts start at their next fire time. */
int cq_alert_sched_reload(struct cq_alert_sched *s, struct cq_conf *conf, struct cq_err *err);

/* Stops firing, drops runs not yet started, and waits up to timeout_ms for runs in flight.
 * CQ_OK when all finished, CQ_ETIMEOUT otherwise (their claims expire by lease). */
int cq_alert_sched_stop(struct cq_alert_sched *s, int64_t timeout_ms);

/* Frees everything; the scheduler must be stopped (or never started). NULL is a no-op.
 * Threads still stuck in a query after a timed-out stop are detached, not joined. */
void cq_alert_sched_free(struct cq_alert_sched *s);

/* Counters since start, for logs and tests. */
struct cq_alert_sched_stats {
    long n_runs;      /* runs finished (any state) */
    long n_lost;      /* slots another runner claimed */
    long n_skipped;   /* slots skipped because the previous run was still going */
    long n_failed;    /* runs whose store failed */
};
void cq_alert_sched_stats(struct cq_alert_sched *s, struct cq_alert_sched_stats *out);

/* The latest fire time <= now_ms of a schedule, or 0 when there is none within 8 years. */
int64_t cq_alert_latest_fire(const struct cq_cron *c, const struct cq_tz *tz, int64_t now_ms);

#endif
