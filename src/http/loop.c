/*
 * loop.c - the event loops and the worker threads of `clariq serve`.
 *
 * An event loop is one thread running one libmicrohttpd daemon in external epoll mode: its
 * own epoll set holds the daemon's epoll descriptor, an eventfd to wake it, and the
 * database sockets of the statements its requests run asynchronously (cq_http_watch). One
 * epoll_wait serves many ready sockets, so under load a request costs no thread wake-up of
 * its own: the reason for this design (docs/internals/http.md has the measurements).
 *
 * Work that blocks (SQLite, connecting, pinging, streaming a large result) goes to the
 * worker threads: a pool that grows on demand up to WORKERS_MAX and keeps its threads
 * until the server stops (an idle thread is a sleeping stack, reserved rather than
 * resident). A job waits in FIFO order when every worker is busy, so slow statements
 * delay other blocking work but never the event loops.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <microhttpd.h>

#include "base/list.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "http/internal.h"

#define WORKERS_MAX 256
#define WORKER_STACK ((size_t)512 << 10) /* reserved, not resident */
#define MAX_EVENTS 64
#define MAX_WAIT_MS 1000                 /* wake at least this often (stop, quiesce) */
/* Statements are also stepped by the clock: a driver checks its client-side deadline (a
 * server that stopped answering) only when stepped. */
#define WATCH_TICK_MS 100

/* ---- event loops ------------------------------------------------------------------------- */

static _Thread_local struct cq_http_loop *current;

struct cq_http_loop *cq_http_loop_current(void)
{
    return current;
}

static void *loop_main(void *arg)
{
    struct cq_http_loop *l = arg;
    struct epoll_event ev[MAX_EVENTS];

    current = l;
    while (!atomic_load(&l->stop)) {
        MHD_UNSIGNED_LONG_LONG to = 0;
        int ms = MAX_WAIT_MS;
        int n;
        if (atomic_load(&l->quiesce) && !l->quiesced) {
            /* on this thread: MHD_quiesce_daemon changes the daemon's epoll set, which
             * must not race MHD_run */
            l->listen_fd = MHD_quiesce_daemon(l->d);
            pthread_mutex_lock(&l->mu);
            l->quiesced = true;
            pthread_cond_broadcast(&l->cv);
            pthread_mutex_unlock(&l->mu);
        }
        if (l->kick) {
            ms = 0;
        } else if (l->watches != NULL) {
            ms = WATCH_TICK_MS;
        }
        if (MHD_get_timeout(l->d, &to) == MHD_YES && to < (MHD_UNSIGNED_LONG_LONG)ms) {
            ms = (int)to;
        }
        n = epoll_wait(l->ep, ev, MAX_EVENTS, ms);
        for (int i = 0; i < n; i++) {
            void *p = ev[i].data.ptr;
            if (p == &l->wake) {
                uint64_t v;
                if (read(l->wake, &v, sizeof(v)) < 0 && errno != EAGAIN) {
                    CQ_LOG(CQ_LOG_WARN, "http", "event loop: wake read: %s", strerror(errno));
                }
            } else if (p != NULL) {
                struct cq_http_watch *w = p;
                w->ready(w);
            }
        }
        if (l->watches != NULL && cq_now_ms() - l->tick_ms >= WATCH_TICK_MS) {
            struct cq_http_watch *w = l->watches, *next;
            l->tick_ms = cq_now_ms();
            for (; w != NULL; w = next) {
                next = w->next; /* ready may unwatch w */
                w->ready(w);
            }
        }
        if (atomic_exchange(&l->cancel_req, false) && l->cancel_ops != NULL) {
            l->cancel_ops(l);
        }
        if (l->kick) {
            cq_http_mux_kicks(l);
        }
        MHD_run(l->d); /* new requests, resumed ones, timeouts */
    }
    return NULL;
}

void cq_http_loop_wake(struct cq_http_loop *l)
{
    uint64_t one = 1;
    if (write(l->wake, &one, sizeof(one)) < 0 && errno != EAGAIN) {
        CQ_LOG(CQ_LOG_WARN, "http", "event loop: wake: %s", strerror(errno));
    }
}

int cq_http_loop_init(struct cq_http_loop *l, struct MHD_Daemon *d, struct cq_err *err)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
    struct epoll_event ev = {.events = EPOLLIN};

    memset(l, 0, sizeof(*l));
    l->d = d;
    l->ep = l->wake = -1;
    l->listen_fd = MHD_INVALID_SOCKET;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (di == NULL) {
        return cq_err_set(err, CQ_EINTERNAL, "libmicrohttpd gives no epoll descriptor");
    }
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->ep < 0 || l->wake < 0) {
        return cq_err_set(err, CQ_EIO, "event loop: %s", strerror(errno));
    }
    ev.data.ptr = NULL; /* the daemon: MHD_run after every wait anyway */
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, di->epoll_fd, &ev) != 0) {
        return cq_err_set(err, CQ_EIO, "event loop: %s", strerror(errno));
    }
    ev.data.ptr = &l->wake;
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake, &ev) != 0) {
        return cq_err_set(err, CQ_EIO, "event loop: %s", strerror(errno));
    }
    return CQ_OK;
}

int cq_http_loop_start(struct cq_http_loop *l, struct cq_err *err)
{
    atomic_store(&l->stop, false);
    if (pthread_create(&l->th, NULL, loop_main, l) != 0) {
        return cq_err_set(err, CQ_ENOMEM, "cannot start an event loop thread");
    }
    l->running = true;
    return CQ_OK;
}

int cq_http_loop_quiesce(struct cq_http_loop *l)
{
    if (!l->running) { /* no thread to race */
        if (!l->quiesced) {
            l->listen_fd = MHD_quiesce_daemon(l->d);
            l->quiesced = true;
        }
        return l->listen_fd;
    }
    atomic_store(&l->quiesce, true);
    cq_http_loop_wake(l);
    pthread_mutex_lock(&l->mu);
    while (!l->quiesced) {
        pthread_cond_wait(&l->cv, &l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return l->listen_fd;
}

void cq_http_loop_stop(struct cq_http_loop *l)
{
    if (l->running) {
        atomic_store(&l->stop, true);
        cq_http_loop_wake(l);
        pthread_join(l->th, NULL);
        l->running = false;
    }
}

void cq_http_loop_cleanup(struct cq_http_loop *l)
{
    cq_http_loop_stop(l);
    cq_http_mux_cleanup(l);
    if (l->ep >= 0) {
        close(l->ep);
    }
    if (l->wake >= 0) {
        close(l->wake);
    }
    l->ep = l->wake = -1;
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
}

int cq_http_loop_watch(struct cq_http_loop *l, struct cq_http_watch *w)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, w->fd, &ev) != 0) {
        return CQ_EIO;
    }
    if (l->watches == NULL) {
        l->tick_ms = cq_now_ms();
    }
    CQ_LIST_PUSH(l->watches, w);
    return CQ_OK;
}

void cq_http_loop_unwatch(struct cq_http_loop *l, struct cq_http_watch *w)
{
    struct epoll_event ev = {0};
    epoll_ctl(l->ep, EPOLL_CTL_DEL, w->fd, &ev);
    CQ_LIST_REMOVE(l->watches, w);
}

/* ---- worker threads ---------------------------------------------------------------------- */

void cq_http_workers_init(struct cq_http_workers *ws)
{
    memset(ws, 0, sizeof(*ws));
    pthread_mutex_init(&ws->mu, NULL);
    pthread_cond_init(&ws->cv, NULL);
}

static void *worker_main(void *arg)
{
    struct cq_http_workers *ws = arg;
    pthread_mutex_lock(&ws->mu);
    for (;;) {
        struct cq_http_job *j;
        while (ws->head == NULL && !ws->stop) {
            pthread_cond_wait(&ws->cv, &ws->mu);
        }
        if (ws->head == NULL) {
            break; /* stopping, nothing left */
        }
        j = ws->head;
        ws->head = j->next;
        if (ws->head == NULL) {
            ws->tail = NULL;
        }
        ws->queued--;
        ws->idle--;
        pthread_mutex_unlock(&ws->mu);
        j->run(j);
        pthread_mutex_lock(&ws->mu);
        ws->idle++;
    }
    pthread_mutex_unlock(&ws->mu);
    return NULL;
}

int cq_http_workers_submit(struct cq_http_workers *ws, struct cq_http_job *j)
{
    int rc = CQ_OK;
    j->next = NULL;
    pthread_mutex_lock(&ws->mu);
    if (ws->stop) {
        rc = CQ_ECANCELED;
        goto out;
    }
    if (ws->idle <= ws->queued && ws->n < WORKERS_MAX) { /* no idle worker left for j */
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setstacksize(&at, WORKER_STACK);
        if (pthread_create(&ws->th[ws->n], &at, worker_main, ws) == 0) {
            ws->n++;
            ws->idle++;
        } else if (ws->n == 0) {
            rc = CQ_ENOMEM; /* nobody would ever run it */
        }
        pthread_attr_destroy(&at);
        if (rc != CQ_OK) {
            goto out;
        }
    }
    if (ws->tail != NULL) {
        ws->tail->next = j;
    } else {
        ws->head = j;
    }
    ws->tail = j;
    ws->queued++;
    pthread_cond_signal(&ws->cv);
out:
    pthread_mutex_unlock(&ws->mu);
    return rc;
}

void cq_http_workers_stop(struct cq_http_workers *ws)
{
    int n;
    pthread_mutex_lock(&ws->mu);
    ws->stop = true;
    pthread_cond_broadcast(&ws->cv);
    n = ws->n;
    pthread_mutex_unlock(&ws->mu);
    for (int i = 0; i < n; i++) {
        pthread_join(ws->th[i], NULL);
    }
    pthread_mutex_lock(&ws->mu);
    ws->n = ws->idle = 0;
    pthread_mutex_unlock(&ws->mu);
}

void cq_http_workers_cleanup(struct cq_http_workers *ws)
{
    cq_http_workers_stop(ws);
    pthread_cond_destroy(&ws->cv);
    pthread_mutex_destroy(&ws->mu);
}
