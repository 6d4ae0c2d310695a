/*
 * mux.c - statements an event loop multiplexes onto pooled connections.
 *
 * A loop keeps the connections it has statements on (struct cq_http_mux_conn) and queues a
 * new statement on one of them when it can (PostgreSQL pipelining, cq_drv_exec_start):
 * with pool.pipeline > 1 a connection takes several statements at once, so a few busy
 * backends serve many clients without sleeping and waking once per query (the reason:
 * docs/internals/http.md). A connection whose head statement has run for STALL_MS is left
 * alone: a slow statement delays only those queued behind it already. Without a suitable
 * connection the loop takes an idle one from the pool without waiting; when there is none,
 * or threads already wait for the pool, the caller runs its statement on a worker thread,
 * which waits for the pool in turn.
 *
 * The socket of each connection stays in the loop's epoll set while the loop holds it; a
 * connection goes back to its pool when no statement is queued on it and no request
 * holds it (refs). Everything here runs on the loop's thread.
 */
#include <string.h>

#include "base/list.h"
#include "base/log.h"
#include "base/mem.h"
#include "http/internal.h"

#define STALL_MS 10 /* a head statement running this long: queue elsewhere */

struct cq_http_mux_conn {
    struct cq_http_watch watch;      /* first: the connection's socket */
    struct cq_http_loop *loop;
    struct cq_http_state *st;        /* referenced: the pool lives in it */
    struct cq_pool *pool;
    struct cq_conn *conn;
    int refs;                        /* requests holding it (acquired, not released) */
    int depth;                       /* pool.pipeline */
    bool stepping;                   /* inside cq_drv_exec_step: do not give it back yet */
    bool paused;                     /* not read for now (a stream's queue is full) */
    bool kick;                       /* read again: step it on the loop's next turn */
    struct cq_http_mux_conn *prev, *next;
};

/* Back to the pool (a connection with statements still queued is closed instead). */
static void give_back(struct cq_http_mux_conn *m)
{
    struct cq_http_loop *l = m->loop;
    if (!m->paused) {
        cq_http_loop_unwatch(l, &m->watch);
    }
    CQ_LIST_REMOVE(l->mux, m);
    if (cq_drv_exec_queued(m->conn) > 0) {
        m->conn->broken = true;
    }
    cq_drv_pool_put(m->pool, m->conn);
    cq_http_state_unref(m->st);
    cq_free(m);
}

static void maybe_give_back(struct cq_http_mux_conn *m)
{
    if (m->refs == 0 && !m->stepping && cq_drv_exec_queued(m->conn) == 0) {
        give_back(m);
    }
}

static void conn_ready(struct cq_http_watch *w)
{
    struct cq_http_mux_conn *m = (struct cq_http_mux_conn *)(void *)w;
    if (m->paused) {
        return;
    }
    m->stepping = true;
    cq_drv_exec_step(m->conn); /* done callbacks release their refs */
    m->stepping = false;
    maybe_give_back(m);
}

static struct cq_http_mux_conn *find(struct cq_http_loop *l, const struct cq_conn *c)
{
    for (struct cq_http_mux_conn *m = l->mux; m != NULL; m = m->next) {
        if (m->conn == c) {
            return m;
        }
    }
    return NULL;
}

int cq_http_mux_acquire(struct cq_http_loop *l, struct cq_http_state *st, struct cq_pool *p,
                        struct cq_conn **out)
{
    struct cq_http_mux_conn *best = NULL, *m;
    struct cq_conn *c = NULL;
    struct cq_pool_stats ps;
    int depth = cq_drv_pool_conf(p)->pool.pipeline;

    cq_drv_pool_stats(p, &ps);
    if (ps.waiting > 0) {
        /* threads wait for this pool: queue behind them (on a worker) so the connections
         * this loop holds drain and go back, instead of starving them */
        return CQ_EAGAIN;
    }
    for (m = l->mux; m != NULL; m = m->next) {
        if (m->pool == p && !m->paused && m->refs < m->depth &&
            (best == NULL || m->refs < best->refs) &&
            cq_drv_exec_busy_ms(m->conn) < STALL_MS && !m->conn->broken) {
            best = m;
        }
    }
    if (best != NULL) {
        best->refs++;
        *out = best->conn;
        return CQ_OK;
    }
    if (cq_drv_pool_try_get(p, &c) != CQ_OK) {
        return CQ_EAGAIN;
    }
    m = (c->drv->caps & CQ_CAP_ASYNC) ? cq_calloc(1, sizeof(*m)) : NULL;
    if (m == NULL) {
        cq_drv_pool_put(p, c);
        return CQ_EAGAIN;
    }
    m->watch.fd = cq_drv_exec_fd(c);
    m->watch.ready = conn_ready;
    if (m->watch.fd < 0 || cq_http_loop_watch(l, &m->watch) != CQ_OK) {
        cq_drv_pool_put(p, c);
        cq_free(m);
        return CQ_EAGAIN;
    }
    m->loop = l;
    m->st = cq_http_state_ref(st);
    m->pool = p;
    m->conn = c;
    m->refs = 1;
    m->depth = depth > 0 ? depth : 1;
    CQ_LIST_PUSH(l->mux, m);
    *out = c;
    return CQ_OK;
}

void cq_http_mux_release(struct cq_http_loop *l, struct cq_conn *c)
{
    struct cq_http_mux_conn *m = find(l, c);
    if (m == NULL) {
        CQ_LOG(CQ_LOG_WARN, "http", "mux: release of a connection the loop does not hold");
        return;
    }
    m->refs--;
    maybe_give_back(m);
}

void cq_http_mux_pause(struct cq_http_loop *l, struct cq_conn *c, bool pause)
{
    struct cq_http_mux_conn *m = find(l, c);
    if (m == NULL || m->paused == pause) {
        return;
    }
    m->paused = pause;
    if (pause) {
        cq_http_loop_unwatch(l, &m->watch);
    } else if (cq_http_loop_watch(l, &m->watch) != CQ_OK) {
        m->conn->broken = true; /* cannot read it any more: its statements fail */
    } else {
        /* libpq may hold rows read already (the socket then stays quiet): step it soon,
         * but not from here, which may be inside a callback of libmicrohttpd */
        m->kick = true;
        l->kick = true;
    }
}

void cq_http_mux_kicks(struct cq_http_loop *l)
{
    struct cq_http_mux_conn *m = l->mux, *next;
    l->kick = false;
    for (; m != NULL; m = next) {
        next = m->next; /* conn_ready may give m back */
        if (m->kick) {
            m->kick = false;
            conn_ready(&m->watch);
        }
    }
}

void cq_http_mux_cleanup(struct cq_http_loop *l)
{
    while (l->mux != NULL) {
        give_back(l->mux);
    }
}
