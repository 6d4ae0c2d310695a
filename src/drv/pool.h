/*
 * pool.h - a pool of connections per configured connection.
 *
 * min/max connections, idle reaping, a cheap health check (ping) on checkout after the
 * connection sat idle, transparent reconnect when the server restarted between queries,
 * and a concurrency cap (min(pool.max, limits.max_concurrent)) with a FIFO queue: a
 * caller waits at most limits.queue_timeout, then gets CQ_EBUSY "pool exhausted".
 *
 * Ownership: the pool owns its connections; a connection from cq_drv_pool_get is
 * borrowed by the caller until cq_drv_pool_put. Thread-safe (mutex + condition variable).
 */
#ifndef CQ_DRV_POOL_H
#define CQ_DRV_POOL_H

#include "drv/drv.h"

struct cq_pool;

struct cq_pool_stats {
    int open;      /* connections open (idle + in use) */
    int in_use;    /* checked out */
    int idle;      /* open and waiting in the pool */
    int waiting;   /* callers queued for a slot */
    /* Appended (cumulative since cq_drv_pool_new), for tests and metrics: */
    long n_connects;  /* connections opened */
    long n_dropped;   /* dead connections closed (failed ping, or broken after exec) */
    long n_retries;   /* cq_drv_pool_exec statements retried on a fresh connection */
    long n_timeouts;  /* cq_drv_pool_get calls that ended in CQ_EBUSY */
};

/* Creates a pool for cc (copied; the pool does not keep cc). Opens pool.min connections;
 * a failure to open them is not an error (they open on demand). NULL only on CQ_ENOMEM or
 * an unknown driver (CQ_ENOTFOUND). */
struct cq_pool *cq_drv_pool_new(const struct cq_conn_conf *cc, struct cq_err *err);
/* Closes every connection. Must not be called while connections are checked out. */
void cq_drv_pool_free(struct cq_pool *p);

/* Checks out a connection, waiting in FIFO order up to the queue timeout. CQ_EBUSY when
 * the wait timed out, CQ_ECONNECT when a new connection could not be opened. */
int cq_drv_pool_get(struct cq_pool *p, struct cq_conn **out, struct cq_err *err);
/* Without ever blocking: an idle connection that needs no health check and a free slot
 * with nobody queued, or CQ_EAGAIN (then use cq_drv_pool_get on a thread). For event
 * loops. */
int cq_drv_pool_try_get(struct cq_pool *p, struct cq_conn **out);
/* Returns a connection; a broken one is closed instead of kept. */
void cq_drv_pool_put(struct cq_pool *p, struct cq_conn *c);

/* get + cq_drv_exec + put, retrying once on a fresh connection when the connection turned
 * out to be dead before any row was delivered and the retry is safe (read-only connection,
 * or the server said it was shutting down). */
int cq_drv_pool_exec(struct cq_pool *p, const struct cq_stmt *st, const struct cq_rowsink *out,
                     struct cq_err *err);

/* Closes idle connections above pool.min that have been idle longer than idle_timeout.
 * Also done lazily on get/put; long-running servers may call it from a timer. */
void cq_drv_pool_reap(struct cq_pool *p);
void cq_drv_pool_stats(struct cq_pool *p, struct cq_pool_stats *out);
/* The pool's connection configuration (the pool's own copy). */
const struct cq_conn_conf *cq_drv_pool_conf(const struct cq_pool *p);

#endif
