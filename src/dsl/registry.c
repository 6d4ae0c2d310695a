/*
 * registry.c - the live catalog (dsl.h: struct cq_dsl_registry).
 *
 * A reload builds a whole new catalog first and only then swaps the pointer under the
 * mutex, so a failed reload never touches the current one. Readers take their own
 * reference while holding the mutex and use the snapshot without it; the old catalog is
 * freed by whoever drops its last reference (the registry on swap, or the last reader).
 * The mutex is held for a pointer copy and an atomic increment only.
 */
#include "dsl/dsl.h"

void cq_dsl_registry_init(struct cq_dsl_registry *r)
{
    pthread_mutex_init(&r->mu, NULL);
    r->cur = NULL;
}

void cq_dsl_registry_cleanup(struct cq_dsl_registry *r)
{
    if (r == NULL) {
        return;
    }
    cq_dsl_catalog_unref(r->cur);
    r->cur = NULL;
    pthread_mutex_destroy(&r->mu);
}

struct cq_dsl_catalog *cq_dsl_registry_get(struct cq_dsl_registry *r)
{
    struct cq_dsl_catalog *cat;
    pthread_mutex_lock(&r->mu);
    cat = cq_dsl_catalog_ref(r->cur);
    pthread_mutex_unlock(&r->mu);
    return cat;
}

void cq_dsl_registry_swap(struct cq_dsl_registry *r, struct cq_dsl_catalog *cat)
{
    struct cq_dsl_catalog *old;
    pthread_mutex_lock(&r->mu);
    old = r->cur;
    r->cur = cat;
    pthread_mutex_unlock(&r->mu);
    cq_dsl_catalog_unref(old); /* outside the lock: freeing a big arena takes a while */
}
