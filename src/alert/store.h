/*
 * store.h - the alert state store: every run, the latest state of each alert, the
 * delivery outbox and the evaluation claims, in a local SQLite file (default) or a
 * PostgreSQL connection shared by several runners (`state: {connection: main}`).
 *
 * Why the outbox: a run and the notifications it decided are written in one transaction
 * before anything is sent. A crash after that point resends what was not confirmed sent
 * (at-least-once), and the next evaluation sees the recorded state, so a restart never
 * decides the same notification twice.
 * Why claims: each (alert, scheduled slot) and each delivery is taken by one runner with
 * a row claim (compare-and-set UPDATE/INSERT in one statement), with a lease so the work
 * of a runner that died is picked up by another after lease_ms.
 *
 * All statements go through the drv layer with bound values (STYLE 3.6); tables are
 * created on open (CREATE TABLE IF NOT EXISTS, prefix clariq_alert_).
 * Thread-safety: a store may be used from several threads (it holds a connection pool).
 * Ownership: cq_alert_store_open returns a store the caller frees with
 * cq_alert_store_free; strings in out-structs are owned as documented per function.
 */
#ifndef CQ_ALERT_STORE_H
#define CQ_ALERT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "conf/conf.h"

struct cq_alert_store;

/* Opens conf->state: the postgres connection it names (must not be read_only; the
 * message says so), or the sqlite file at conf->state.path (created if missing). Creates
 * the tables. NULL with err (CQ_ECONNECT, CQ_EIO, CQ_EINVAL...) on failure. */
struct cq_alert_store *cq_alert_store_open(const struct cq_conf *conf, struct cq_err *err);
void cq_alert_store_free(struct cq_alert_store *s); /* NULL is a no-op */
/* "sqlite:/path/state.db" or "postgres:main" for messages. */
const char *cq_alert_store_where(const struct cq_alert_store *s);

/* The latest state of one alert. */
struct cq_alert_status {
    char state[16];           /* "ok" | "triggered" | "error"; "" = never ran */
    int64_t last_run_ms;      /* epoch ms of the last recorded run; 0 = never */
    int64_t last_slot_ms;     /* the scheduled fire time that run was for; 0 = never */
    int64_t last_notified_ms; /* epoch ms of the last notification decided; 0 = never */
    char last_notified_state[16]; /* state of that notification: "triggered", "resolved"... */
    char fingerprint[65];     /* hex SHA-256 of the last notified result; "" = none */
    char value[128];          /* value of the last ok/triggered run (change rule) */
    bool has_value;           /* value holds something */
};

/* Reads the status of alert_id; a never-run alert gives a zeroed status and CQ_OK. */
int cq_alert_store_status(struct cq_alert_store *s, const char *alert_id,
                          struct cq_alert_status *out, struct cq_err *err);

/*
 * Claims the evaluation of alert_id for its scheduled slot slot_ms. Among all runners
 * sharing the store exactly one gets *won = true for a given (alert, slot), except that a
 * claim whose holder has not recorded the run within lease_ms may be taken over. A slot
 * older than the alert's last recorded slot is never won.
 */
int cq_alert_store_claim(struct cq_alert_store *s, const char *alert_id, int64_t slot_ms,
                         const char *runner, int64_t lease_ms, bool *won, struct cq_err *err);

struct cq_alert_run {
    const char *alert_id;
    int64_t slot_ms;          /* scheduled fire time (0 for `alert test`) */
    int64_t run_at_ms;        /* when the evaluation started (epoch ms) */
    const char *state;        /* "ok" | "triggered" | "error" */
    const char *reason;       /* may be NULL */
    const char *value;        /* may be NULL (no value); kept for the change rule */
    int64_t row_count;
    double duration_ms;
    const char *error;        /* may be NULL */
    const char *fingerprint;  /* hex SHA-256 of the result; NULL = none */
    const char *notified_state; /* "triggered" | "resolved" | "error" | "digest" when this
                                 run notifies (deliveries queued), else NULL */
};

struct cq_alert_delivery {
    const char *channel;      /* channel name */
    const char *payload;      /* the message JSON (struct cq_alert_msg.json) */
};

/*
 * In one transaction: inserts the run, updates the alert's status (state, last run, value,
 * and when run->notified_state is set also last_notified/fingerprint) and queues one
 * pending delivery per entry of d, due now. *run_id gets the run's id (may be NULL).
 */
int cq_alert_store_record(struct cq_alert_store *s, const struct cq_alert_run *run,
                          const struct cq_alert_delivery *d, size_t n_d, int64_t *run_id,
                          struct cq_err *err);

/* A delivery claimed for sending. Strings are owned by the array (cq_alert_pending_free). */
struct cq_alert_pending {
    int64_t id;
    int64_t run_id;
    char *alert_id;
    char *channel;
    char *payload;
    int attempts;             /* attempts already made */
};

/*
 * Claims up to max pending deliveries due at now_ms (next attempt <= now, not claimed by
 * a runner whose lease is still running), oldest first. *out is a new array of *n
 * entries (NULL when 0); free with cq_alert_pending_free.
 */
int cq_alert_store_due(struct cq_alert_store *s, int64_t now_ms, const char *runner,
                       int64_t lease_ms, size_t max, struct cq_alert_pending **out, size_t *n,
                       struct cq_err *err);
void cq_alert_pending_free(struct cq_alert_pending *v, size_t n);

enum cq_delivery_outcome {
    CQ_DELIVERY_SENT = 0,     /* done */
    CQ_DELIVERY_RETRY,        /* pending again at next_attempt_ms */
    CQ_DELIVERY_FAILED,       /* given up; kept in history */
};

/* Records the outcome of one attempt of delivery id (attempts = total made so far);
 * error may be NULL. Releases the claim. */
int cq_alert_store_delivered(struct cq_alert_store *s, int64_t id,
                             enum cq_delivery_outcome outcome, int attempts,
                             int64_t next_attempt_ms, const char *error, struct cq_err *err);

/* Number of deliveries still pending (any runner), for shutdown and tests. */
int cq_alert_store_n_pending(struct cq_alert_store *s, int64_t *n, struct cq_err *err);

/* One run as history shows it; borrowed for the callback's duration. */
struct cq_alert_history {
    int64_t run_id;
    int64_t run_at_ms;
    int64_t slot_ms;
    const char *state;
    const char *reason;       /* may be NULL */
    const char *value;        /* may be NULL */
    int64_t row_count;
    double duration_ms;
    const char *error;        /* may be NULL */
    const char *deliveries;   /* "slack_ops:sent email:failed(3): <error>" or "" */
};

typedef int (*cq_alert_history_fn)(void *ctx, const struct cq_alert_history *h,
                                   struct cq_err *err);

/* Calls fn for the newest `limit` runs of alert_id, newest first. */
int cq_alert_store_history(struct cq_alert_store *s, const char *alert_id, int limit,
                           cq_alert_history_fn fn, void *ctx, struct cq_err *err);

/* Deletes runs (and their finished deliveries) that started before before_ms; pending
 * deliveries are kept. *n_deleted may be NULL. */
int cq_alert_store_prune(struct cq_alert_store *s, int64_t before_ms, int64_t *n_deleted,
                         struct cq_err *err);

#endif
