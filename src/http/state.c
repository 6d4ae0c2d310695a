/*
 * state.c - the reloadable snapshot a request runs on (conf, catalog, keys, pools).
 */
#include <string.h>

#include "base/mem.h"
#include "http/internal.h"

struct cq_http_state *cq_http_state_ref(struct cq_http_state *st)
{
    atomic_fetch_add(&st->refs, 1);
    return st;
}

void cq_http_state_unref(struct cq_http_state *st)
{
    if (st == NULL || atomic_fetch_sub(&st->refs, 1) != 1) {
        return;
    }
    if (st->pools.pools != NULL) {
        for (size_t i = 0; i < st->conf->n_conns; i++) {
            cq_drv_pool_free(st->pools.pools[i]);
        }
    }
    cq_free(st->pools.pools);
    pthread_mutex_destroy(&st->pools.mu);
    cq_http_keys_free(st->keys);
    cq_dsl_catalog_unref(st->catalog);
    cq_conf_free(st->conf);
    cq_free(st);
}

/* The pool of connection conn; create: open it when it does not exist yet (outside the
 * lock: opening connects, and the event loops read pool stats under that lock). */
static struct cq_pool *pool_of(struct cq_http_state *st, const char *conn, bool create,
                               struct cq_err *err)
{
    struct cq_pool *p = NULL, *fresh = NULL;
    size_t i;

    for (i = 0; i < st->conf->n_conns; i++) {
        if (strcmp(st->conf->conns[i].name, conn) == 0) {
            break;
        }
    }
    if (i == st->conf->n_conns) {
        cq_err_set(err, CQ_ENOTFOUND, "no connection named '%s'", conn);
        return NULL;
    }
    pthread_mutex_lock(&st->pools.mu);
    if (st->pools.pools == NULL) {
        st->pools.pools = cq_calloc(st->conf->n_conns ? st->conf->n_conns : 1,
                                    sizeof(*st->pools.pools));
    }
    if (st->pools.pools == NULL) {
        cq_err_set(err, CQ_ENOMEM, "out of memory");
    } else {
        p = st->pools.pools[i];
    }
    pthread_mutex_unlock(&st->pools.mu);
    if (p != NULL || !create || st->pools.pools == NULL) {
        return p;
    }
    fresh = cq_drv_pool_new(&st->conf->conns[i], err);
    if (fresh == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&st->pools.mu);
    if (st->pools.pools[i] == NULL) {
        st->pools.pools[i] = fresh;
        fresh = NULL;
    }
    p = st->pools.pools[i];
    pthread_mutex_unlock(&st->pools.mu);
    cq_drv_pool_free(fresh); /* another request opened it meanwhile */
    return p;
}

struct cq_pool *cq_http_pool(struct cq_http_state *st, const char *conn, struct cq_err *err)
{
    return pool_of(st, conn, true, err);
}

struct cq_pool *cq_http_pool_peek(struct cq_http_state *st, const char *conn)
{
    struct cq_err ignored = {0};
    return pool_of(st, conn, false, &ignored);
}
