/*
 * engine.h - one alert run end to end: claim the slot, evaluate, decide whether to
 * notify, record the run with its deliveries (one transaction), then deliver.
 *
 * The decision reads only the store, never memory, so a restart or a second runner sees
 * the same history: a triggered alert notifies once until it resolves or its cooldown
 * passes, and an identical result inside the cooldown is not sent again.
 * Delivery goes through the store's outbox; channels make one attempt per call and the
 * engine schedules the next attempt with exponential backoff and jitter.
 *
 * Ownership: an engine borrows its conf and store (both must outlive it) and owns one
 * connection pool per connection its alerts use. Thread-safety: every function may be
 * called from several threads at once.
 */
#ifndef CQ_ALERT_ENGINE_H
#define CQ_ALERT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert/eval.h"
#include "alert/msg.h"
#include "alert/store.h"
#include "base/arena.h"
#include "base/err.h"
#include "conf/conf.h"

struct cq_alert_engine;

/* runner names this process in claims ("host:pid"); copied. */
struct cq_alert_engine *cq_alert_engine_new(const struct cq_conf *conf,
                                            struct cq_alert_store *store, const char *runner,
                                            struct cq_err *err);
/* Must not be called while a run or delivery is in progress. NULL is a no-op. */
void cq_alert_engine_free(struct cq_alert_engine *e);
const struct cq_conf *cq_alert_engine_conf(const struct cq_alert_engine *e);

/* The pool of connection `name`, created on first use; borrowed from the engine. */
int cq_alert_engine_pool(struct cq_alert_engine *e, const char *name, struct cq_pool **out,
                         struct cq_err *err);

/*
 * What a run should notify, given the evaluation and the alert's previous status:
 * "triggered", "resolved", "error", "digest", or NULL for nothing. *why gets a short
 * explanation either way ("new trigger", "still triggered, cooldown 1h not over").
 */
const char *cq_alert_decide(const struct cq_alert_conf *a, const struct cq_alert_eval *ev,
                            const struct cq_alert_status *prev, int64_t now_ms,
                            const char **why);

/* Builds the message for ev notifying `state` (strings in arena; m->json included). */
int cq_alert_engine_msg(const struct cq_alert_eval *ev, const char *state,
                        struct cq_arena *arena, struct cq_alert_msg *m, struct cq_err *err);

struct cq_alert_outcome {
    bool ran;                 /* false: another runner owns the slot (nothing else set) */
    enum cq_alert_state state;
    const char *notified;     /* as cq_alert_decide; NULL = no notification */
    size_t n_queued;          /* deliveries queued */
};

/*
 * Runs alert a for its scheduled slot slot_ms: claim, evaluate, decide, record, then
 * deliver what is due. The alert's own failures are recorded as state "error" and return
 * CQ_OK; a failing store returns its error (nothing is sent then).
 */
int cq_alert_engine_run(struct cq_alert_engine *e, const struct cq_alert_conf *a,
                        int64_t slot_ms, struct cq_alert_outcome *out, struct cq_err *err);

/* Attempts up to max due deliveries from the outbox. *n (may be NULL) gets the number
 * attempted. Channel failures are recorded, not returned. */
int cq_alert_engine_deliver(struct cq_alert_engine *e, size_t max, size_t *n,
                            struct cq_err *err);

/* Delay before attempt number `attempt` (1 = the first retry): backoff doubled per
 * attempt, capped, then jittered into [delay/2, delay]. */
int64_t cq_alert_backoff_ms(const struct cq_channel_conf *cc, int attempt, uint64_t rnd);

#endif
