/*
 * pool.c - connection pool per configured connection (see pool.h, docs/internals/pool.md).
 *
 * Locking: one mutex guards the counters, the idle list and the wait queue. Network work
 * (connect, ping, disconnect) never happens under it, so a slow server cannot stall
 * callers that only need an idle connection or want to give one back.
 *
 * Slots: the concurrency cap counts slots, not connections. A caller first reserves a
 * slot (n_busy), then turns it into a connection: an idle one, or a new one opened outside
 * the mutex. Giving a slot back hands it directly to the oldest waiter, so a late arrival
 * can never overtake the queue, and only that one waiter is woken (each waiter sleeps on
 * its own condition variable; no thundering herd).
 */
#include "drv/pool.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"

/* A connection idle longer than this is pinged before it is handed out: long enough that a
 * busy pool pays nothing, short enough that a server restart is noticed before use. */
#define PING_AFTER_MS 1000

/* A caller queued for a slot; lives on the waiting caller's stack. */
struct waiter {
    pthread_cond_t cv;   /* signaled once, when the slot is handed over */
    bool granted;        /* the slot now belongs to this waiter */
    struct waiter *next; /* younger waiter */
};

struct cq_pool {
    struct cq_conn_conf cc;     /* private deep copy; immutable after new */
    const struct cq_driver *drv;
    struct cq_dsn dsn;          /* strings point into cc */
    char log_ctx[96];           /* "drv:pool:NAME" */
    int cap;                    /* slots: min(pool.max, limits.max_concurrent if > 0) */
    pthread_mutex_t mu;         /* guards everything below */
    pthread_condattr_t cattr;   /* CLOCK_MONOTONIC, for the waiters' condition variables */
    struct cq_conn *idle;       /* most recently returned first (LIFO) */
    int n_idle;                 /* connections on the idle list */
    int n_out;                  /* connections checked out */
    int n_busy;                 /* slots held (checked out or being opened) */
    int n_waiting;              /* length of the wait queue */
    struct waiter *wq_head;     /* oldest waiter */
    struct waiter *wq_tail;     /* youngest waiter */
    int64_t suspect_ms;         /* when a dead connection was last seen (monotonic ms) */
    long n_connects;            /* see struct cq_pool_stats */
    long n_dropped;
    long n_retries;
    long n_timeouts;
};

/* ---- configuration copy ------------------------------------------------------------------ */

/* Duplicates an optional string; false only when a non-NULL string could not be copied. */
static bool dup_opt(char **dst, const char *src)
{
    *dst = cq_strdup(src);
    return src == NULL || *dst != NULL;
}

static void conf_cleanup(struct cq_conn_conf *cc)
{
    cq_free(cc->name);
    cq_free(cc->driver);
    cq_free(cc->url);
    cq_free(cc->path);
    cq_free(cc->file);
}

static int conf_copy(struct cq_conn_conf *dst, const struct cq_conn_conf *src,
                     struct cq_err *err)
{
    *dst = *src;
    dst->name = dst->driver = dst->url = dst->path = dst->file = NULL;
    if (!dup_opt(&dst->name, src->name) || !dup_opt(&dst->driver, src->driver) ||
        !dup_opt(&dst->url, src->url) || !dup_opt(&dst->path, src->path) ||
        !dup_opt(&dst->file, src->file)) {
        return cq_err_set(err, CQ_ENOMEM, "connection '%s': pool: out of memory",
                          src->name ? src->name : "?");
    }
    return CQ_OK;
}

static int pool_cap(const struct cq_conn_conf *cc)
{
    int cap = cc->pool.max > 0 ? cc->pool.max : CQ_CONF_DEFAULT_POOL_MAX;
    if (cc->limits.max_concurrent > 0 && cc->limits.max_concurrent < cap) {
        cap = cc->limits.max_concurrent;
    }
    return cap;
}

/* ---- small helpers (callers hold p->mu where noted) --------------------------------------- */

/* Copies src into dst unless dst already holds an error (first error wins). */
static void err_pass(struct cq_err *dst, const struct cq_err *src)
{
    if (dst != NULL && dst->rc == CQ_OK) {
        *dst = *src;
    }
}

static void close_list(struct cq_conn *c)
{
    while (c != NULL) {
        struct cq_conn *next = c->next;
        cq_drv_disconnect(c);
        c = next;
    }
}

/* Under mu: detaches the idle connections to reap (oldest, above pool.min, idle longer
 * than idle_timeout) and returns them for closing outside the mutex. The idle list is
 * ordered by idle_since_ms descending, so the expired ones form its tail. */
static struct cq_conn *reap_locked(struct cq_pool *p, int64_t now)
{
    int64_t timeout = p->cc.pool.idle_timeout_ms;
    int excess = p->n_idle + p->n_out - p->cc.pool.min;
    int n_expired = 0;
    if (timeout <= 0 || excess <= 0) {
        return NULL;
    }
    for (struct cq_conn *c = p->idle; c != NULL; c = c->next) {
        n_expired += now - c->idle_since_ms >= timeout;
    }
    int n_close = n_expired < excess ? n_expired : excess;
    if (n_close == 0) {
        return NULL;
    }
    struct cq_conn **link = &p->idle;
    for (int keep = p->n_idle - n_close; keep > 0; keep--) {
        link = &(*link)->next;
    }
    struct cq_conn *victims = *link;
    *link = NULL;
    p->n_idle -= n_close;
    return victims;
}

/* Under mu: gives a slot back, straight to the oldest waiter if there is one. */
static void release_slot_locked(struct cq_pool *p)
{
    struct waiter *w = p->wq_head;
    if (w == NULL) {
        p->n_busy--;
        return;
    }
    p->wq_head = w->next;
    if (p->wq_head == NULL) {
        p->wq_tail = NULL;
    }
    p->n_waiting--;
    w->granted = true;
    pthread_cond_signal(&w->cv);
}

/* Under mu: removes a waiter that gave up (it is somewhere in the queue). */
static void dequeue_locked(struct cq_pool *p, struct waiter *w)
{
    struct waiter *prev = NULL;
    for (struct waiter *it = p->wq_head; it != NULL; prev = it, it = it->next) {
        if (it == w) {
            if (prev == NULL) {
                p->wq_head = w->next;
            } else {
                prev->next = w->next;
            }
            if (p->wq_tail == w) {
                p->wq_tail = prev;
            }
            p->n_waiting--;
            return;
        }
    }
}

static struct timespec mono_deadline(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* ---- slots ------------------------------------------------------------------------------- */

/* Under mu: queues behind older waiters until a slot is handed over or the queue timeout
 * passes (CQ_EBUSY). The mutex is released while waiting. */
static int wait_for_slot_locked(struct cq_pool *p, struct cq_err *err)
{
    int64_t timeout = p->cc.limits.queue_timeout_ms > 0 ? p->cc.limits.queue_timeout_ms : 0;
    struct timespec deadline = mono_deadline(timeout);
    struct waiter w = {.granted = false, .next = NULL};
    int rc = CQ_OK;

    pthread_cond_init(&w.cv, &p->cattr);
    if (p->wq_tail == NULL) {
        p->wq_head = &w;
    } else {
        p->wq_tail->next = &w;
    }
    p->wq_tail = &w;
    p->n_waiting++;
    while (!w.granted) {
        /* Spurious wakeups just loop; only the deadline ends the wait without a slot. */
        if (pthread_cond_timedwait(&w.cv, &p->mu, &deadline) == ETIMEDOUT && !w.granted) {
            dequeue_locked(p, &w);
            p->n_timeouts++;
            rc = cq_err_set(err, CQ_EBUSY,
                            "connection '%s': pool exhausted: %d of %d connections busy, "
                            "waited %lld ms (raise limits.max_concurrent / pool.max or "
                            "limits.queue_timeout)",
                            p->cc.name, p->n_busy, p->cap, (long long)timeout);
            break;
        }
    }
    pthread_cond_destroy(&w.cv);
    return rc;
}

/* Under mu: reserves a slot, FIFO behind anyone already waiting. */
static int reserve_slot_locked(struct cq_pool *p, struct cq_err *err)
{
    if (p->wq_head == NULL && p->n_busy < p->cap) {
        p->n_busy++;
        return CQ_OK;
    }
    return wait_for_slot_locked(p, err);
}

/* ---- checkout ---------------------------------------------------------------------------- */

/* Under mu: pops the most recently used idle connection (or NULL) and says whether it
 * must be pinged first: idle a while, or idle since a dead peer was seen (a server
 * restart kills every idle connection at once, not just the one that noticed). */
static struct cq_conn *pop_idle_locked(struct cq_pool *p, int64_t now, bool *check)
{
    struct cq_conn *c = p->idle;
    *check = false;
    if (c != NULL) {
        p->idle = c->next;
        c->next = NULL;
        p->n_idle--;
        p->n_out++;
        *check = c->broken || now - c->idle_since_ms > PING_AFTER_MS ||
                 c->idle_since_ms <= p->suspect_ms;
    }
    return c;
}

/* Pings c; on failure closes it (outside the mutex) and returns NULL. */
static struct cq_conn *verify(struct cq_pool *p, struct cq_conn *c)
{
    struct cq_err perr = {0};
    if (!c->broken && cq_drv_ping(c, &perr) == CQ_OK) {
        return c;
    }
    CQ_LOG(CQ_LOG_INFO, p->log_ctx, "idle connection is dead, replacing it: %s",
           perr.msg[0] ? perr.msg : "marked broken");
    cq_drv_disconnect(c);
    pthread_mutex_lock(&p->mu);
    p->n_out--;
    p->n_dropped++;
    p->suspect_ms = cq_now_ms();
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Opens a new connection for a slot already held; on failure gives the slot back. */
static int open_for_slot(struct cq_pool *p, struct cq_conn **out, struct cq_err *err)
{
    struct cq_err cerr = {0};
    struct cq_conn *c = cq_drv_connect(p->drv, &p->dsn, &cerr);
    pthread_mutex_lock(&p->mu);
    if (c != NULL) {
        p->n_out++;
        p->n_connects++;
    } else {
        release_slot_locked(p);
    }
    pthread_mutex_unlock(&p->mu);
    if (c == NULL) {
        if (cerr.rc == CQ_OK) {
            cq_err_set(&cerr, CQ_ECONNECT, "connection '%s': connect failed", p->cc.name);
        }
        err_pass(err, &cerr);
        return cerr.rc;
    }
    *out = c;
    return CQ_OK;
}

int cq_drv_pool_get(struct cq_pool *p, struct cq_conn **out, struct cq_err *err)
{
    struct cq_conn *c = NULL;
    struct cq_conn *victims = NULL;
    bool check = false;
    int rc;

    *out = NULL;
    pthread_mutex_lock(&p->mu);
    int64_t now = cq_now_ms();
    victims = reap_locked(p, now);
    rc = reserve_slot_locked(p, err);
    if (rc == CQ_OK) {
        c = pop_idle_locked(p, cq_now_ms(), &check);
    }
    pthread_mutex_unlock(&p->mu);
    close_list(victims);
    if (rc != CQ_OK) {
        goto out;
    }
    if (c != NULL && check) {
        c = verify(p, c);
    }
    if (c == NULL) {
        rc = open_for_slot(p, &c, err);
        if (rc != CQ_OK) {
            goto out;
        }
    }
    *out = c;
out:
    return rc;
}

int cq_drv_pool_try_get(struct cq_pool *p, struct cq_conn **out)
{
    struct cq_conn *c = NULL;
    bool check = false;

    *out = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->wq_head == NULL && p->n_busy < p->cap && p->idle != NULL) {
        int64_t now = cq_now_ms();
        c = p->idle;
        check = c->broken || now - c->idle_since_ms > PING_AFTER_MS ||
                c->idle_since_ms <= p->suspect_ms;
        if (!check) {
            p->n_busy++;
            c = pop_idle_locked(p, now, &check);
        }
    }
    pthread_mutex_unlock(&p->mu);
    if (c == NULL || check) {
        return CQ_EAGAIN;
    }
    *out = c;
    return CQ_OK;
}

void cq_drv_pool_put(struct cq_pool *p, struct cq_conn *c)
{
    struct cq_conn *dead = NULL;
    struct cq_conn *victims = NULL;

    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&p->mu);
    int64_t now = cq_now_ms();
    p->n_out--;
    if (c->broken) {
        dead = c;
        p->n_dropped++;
        p->suspect_ms = now;
    } else {
        c->idle_since_ms = now;
        c->next = p->idle;
        p->idle = c;
        p->n_idle++;
    }
    release_slot_locked(p);
    victims = reap_locked(p, now);
    pthread_mutex_unlock(&p->mu);
    cq_drv_disconnect(dead);
    close_list(victims);
}

/* ---- exec with one transparent retry ----------------------------------------------------- */

/* Forwards to the caller's sink and remembers whether anything reached it: once output
 * started, a retry would deliver it twice. */
struct tracker {
    const struct cq_rowsink *out;
    bool executed; /* a connection was obtained and the statement sent to it */
    bool started;  /* on_columns or on_row was called */
};

static int track_columns(void *ctx, size_t n, const struct cq_col *cols, struct cq_err *err)
{
    struct tracker *t = ctx;
    t->started = true;
    return t->out->on_columns(t->out->ctx, n, cols, err);
}

static int track_row(void *ctx, size_t n, const struct cq_value *vals, struct cq_err *err)
{
    struct tracker *t = ctx;
    t->started = true;
    return t->out->on_row(t->out->ctx, n, vals, err);
}

static int track_end(void *ctx, const struct cq_result_info *info, struct cq_err *err)
{
    struct tracker *t = ctx;
    return t->out->on_end(t->out->ctx, info, err);
}

/* A connection lost during exec is worth one retry when nothing was delivered yet and
 * running the statement twice cannot hurt: the driver says so (it never reached the
 * server, or the server was shutting down), or the connection is read-only. A failed
 * connect is not retried: the get already tried a fresh connection. */
static bool should_retry(const struct cq_pool *p, const struct tracker *t, int rc,
                         const struct cq_err *e)
{
    return rc == CQ_ECONNECT && t->executed && !t->started && (e->retryable || p->cc.read_only);
}

/* One get + exec + put. */
static int exec_once(struct cq_pool *p, const struct cq_stmt *st, struct tracker *t,
                     struct cq_err *e)
{
    const struct cq_rowsink sink = {
        .ctx = t, .on_columns = track_columns, .on_row = track_row, .on_end = track_end,
    };
    struct cq_conn *c = NULL;
    int rc = cq_drv_pool_get(p, &c, e);
    if (rc != CQ_OK) {
        return rc;
    }
    t->executed = true;
    rc = cq_drv_exec(c, st, &sink, e);
    if (rc == CQ_ECONNECT) {
        c->broken = true; /* whatever the driver did: a lost session is never reused */
    }
    cq_drv_pool_put(p, c);
    return rc;
}

int cq_drv_pool_exec(struct cq_pool *p, const struct cq_stmt *st, const struct cq_rowsink *out,
                     struct cq_err *err)
{
    struct tracker t = {.out = out, .executed = false, .started = false};
    struct cq_err e = {0}; /* local: the retry decision needs it even when err is NULL */
    int rc = exec_once(p, st, &t, &e);
    if (should_retry(p, &t, rc, &e)) {
        CQ_LOG(CQ_LOG_INFO, p->log_ctx, "connection lost, retrying on a fresh one: %s", e.msg);
        pthread_mutex_lock(&p->mu);
        p->n_retries++;
        pthread_mutex_unlock(&p->mu);
        cq_err_clear(&e);
        t.executed = false;
        rc = exec_once(p, st, &t, &e);
    }
    if (rc != CQ_OK) {
        err_pass(err, &e);
    }
    return rc;
}

/* ---- lifecycle --------------------------------------------------------------------------- */

/* Opens pool.min connections; failures only log (they open on demand later). */
static void prefill(struct cq_pool *p)
{
    for (int i = 0; i < p->cc.pool.min && i < p->cap; i++) {
        struct cq_err e = {0};
        struct cq_conn *c = cq_drv_connect(p->drv, &p->dsn, &e);
        if (c == NULL) {
            CQ_LOG(CQ_LOG_WARN, p->log_ctx, "could not open the minimum connections: %s",
                   e.msg);
            return;
        }
        c->idle_since_ms = cq_now_ms();
        c->next = p->idle;
        p->idle = c;
        p->n_idle++;
        p->n_connects++;
    }
}

static int sync_init(struct cq_pool *p, struct cq_err *err)
{
    if (pthread_condattr_init(&p->cattr) != 0) {
        return cq_err_set(err, CQ_ENOMEM, "connection '%s': pool: condattr", p->cc.name);
    }
    if (pthread_condattr_setclock(&p->cattr, CLOCK_MONOTONIC) != 0 ||
        pthread_mutex_init(&p->mu, NULL) != 0) {
        pthread_condattr_destroy(&p->cattr);
        return cq_err_set(err, CQ_EINTERNAL, "connection '%s': pool: mutex setup failed",
                          p->cc.name);
    }
    return CQ_OK;
}

struct cq_pool *cq_drv_pool_new(const struct cq_conn_conf *cc, struct cq_err *err)
{
    struct cq_pool *p = cq_calloc(1, sizeof(*p));
    if (p == NULL) {
        cq_err_set(err, CQ_ENOMEM, "connection '%s': pool: out of memory", cc->name);
        goto fail;
    }
    if (conf_copy(&p->cc, cc, err) != CQ_OK) {
        goto fail;
    }
    p->drv = cq_drv_find(cc->driver ? cc->driver : "");
    if (p->drv == NULL) {
        cq_err_set(err, CQ_ENOTFOUND, "connection '%s': unknown driver '%s'", cc->name,
                   cc->driver ? cc->driver : "");
        goto fail;
    }
    if (sync_init(p, err) != CQ_OK) {
        goto fail;
    }
    p->cap = pool_cap(&p->cc);
    p->suspect_ms = INT64_MIN;
    cq_drv_dsn_init(&p->dsn, &p->cc); /* borrows the pool's own copy: lives as long */
    snprintf(p->log_ctx, sizeof(p->log_ctx), "drv:pool:%s", p->cc.name);
    prefill(p);
    return p;
fail:
    if (p != NULL) {
        conf_cleanup(&p->cc); /* partial copies too: conf_copy leaves NULL where it failed */
    }
    cq_free(p);
    return NULL;
}

void cq_drv_pool_free(struct cq_pool *p)
{
    if (p == NULL) {
        return;
    }
    /* Rule: every connection was put back first. A checked-out connection would be used
     * after its pool is gone. */
    assert(p->n_busy == 0 && p->n_out == 0 && p->n_waiting == 0);
    close_list(p->idle);
    pthread_mutex_destroy(&p->mu);
    pthread_condattr_destroy(&p->cattr);
    conf_cleanup(&p->cc);
    cq_free(p);
}

void cq_drv_pool_reap(struct cq_pool *p)
{
    pthread_mutex_lock(&p->mu);
    struct cq_conn *victims = reap_locked(p, cq_now_ms());
    pthread_mutex_unlock(&p->mu);
    close_list(victims);
}

void cq_drv_pool_stats(struct cq_pool *p, struct cq_pool_stats *out)
{
    pthread_mutex_lock(&p->mu);
    *out = (struct cq_pool_stats){
        .open = p->n_idle + p->n_out,
        .in_use = p->n_busy,
        .idle = p->n_idle,
        .waiting = p->n_waiting,
        .n_connects = p->n_connects,
        .n_dropped = p->n_dropped,
        .n_retries = p->n_retries,
        .n_timeouts = p->n_timeouts,
    };
    pthread_mutex_unlock(&p->mu);
}

const struct cq_conn_conf *cq_drv_pool_conf(const struct cq_pool *p)
{
    return &p->cc;
}
