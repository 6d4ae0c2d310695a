/*
 * sched.c - timer thread, run queue and workers (see sched.h).
 *
 * One mutex guards the heap, the queue and the generations; runs execute outside it.
 * Wall-clock time drives the timer because schedules are calendar times.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alert/engine.h"
#include "alert/sched.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"

#define DELIVER_EVERY_MS 1000
#define DELIVER_BATCH 32
#define PRUNE_EVERY_MS (3600 * 1000)
#define SCAN_MAX 64 /* queued runs a worker looks past for one whose connection is free */

/* One configuration generation: a conf and the engine built on it. */
struct gen {
    struct cq_conf *conf;           /* owned */
    struct cq_alert_engine *engine; /* owned */
    int refs;                       /* 1 while current + 1 per queued or running job */
    int *inflight;                  /* runs in flight per connection index */
    int *cap;                       /* concurrency cap per connection index */
    size_t *conn_of;                /* connection index per alert */
    bool *running;                  /* per alert */
};

enum job_kind { JOB_RUN, JOB_DELIVER, JOB_PRUNE };

struct job {
    struct job *next;
    enum job_kind kind;
    struct gen *g;                  /* holds a reference */
    size_t alert;                   /* JOB_RUN: index in g->conf->alerts */
    int64_t slot_ms;
};

struct heap_ent {
    int64_t at;                     /* next fire, epoch ms */
    size_t alert;
};

struct cq_alert_sched {
    pthread_mutex_t mu;
    pthread_cond_t timer_cv;        /* wakes the timer: stop, reload */
    pthread_cond_t work_cv;         /* wakes workers: a job, a free connection, stop */
    pthread_cond_t idle_cv;         /* a worker finished a job */
    struct cq_alert_store *store;   /* borrowed */
    char runner[96];
    struct gen *cur;
    struct heap_ent *heap;          /* alerts of cur */
    size_t n_heap;
    struct job *head, *tail;
    bool deliver_queued, prune_queued;
    int64_t next_deliver, next_prune;
    pthread_t timer;
    pthread_t *workers;
    int n_workers;
    int n_busy;                     /* workers running a job */
    bool started, stopping;
    struct cq_alert_sched_stats stats;
    void (*on_run)(void *ctx, enum cq_alert_state state); /* cq_alert_sched_on_run */
    void *on_run_ctx;
};

/* ---- generations -------------------------------------------------------------------------- */

static void gen_free(struct gen *g)
{
    if (g == NULL) {
        return;
    }
    cq_alert_engine_free(g->engine);
    cq_conf_free(g->conf);
    cq_free(g->inflight);
    cq_free(g->cap);
    cq_free(g->conn_of);
    cq_free(g->running);
    cq_free(g);
}

static struct gen *gen_new(struct cq_conf *conf, struct cq_alert_store *store,
                           const char *runner, struct cq_err *err)
{
    struct gen *g = cq_calloc(1, sizeof(*g));
    size_t nc = conf->n_conns + 1, na = conf->n_alerts + 1;
    if (g == NULL) {
        cq_conf_free(conf);
        cq_err_set(err, CQ_ENOMEM, "alert scheduler: out of memory");
        return NULL;
    }
    g->conf = conf;
    g->refs = 1;
    g->inflight = cq_calloc(nc, sizeof(int));
    g->cap = cq_calloc(nc, sizeof(int));
    g->conn_of = cq_calloc(na, sizeof(size_t));
    g->running = cq_calloc(na, sizeof(bool));
    if (g->inflight == NULL || g->cap == NULL || g->conn_of == NULL || g->running == NULL) {
        cq_err_set(err, CQ_ENOMEM, "alert scheduler: out of memory");
        gen_free(g);
        return NULL;
    }
    for (size_t i = 0; i < conf->n_conns; i++) {
        const struct cq_conn_conf *cc = &conf->conns[i];
        g->cap[i] = cc->limits.max_concurrent > 0 ? cc->limits.max_concurrent : cc->pool.max;
    }
    for (size_t a = 0; a < conf->n_alerts; a++) {
        size_t i = 0;
        while (i < conf->n_conns && strcmp(conf->conns[i].name, conf->alerts[a].connection)) {
            i++;
        }
        g->conn_of[a] = i; /* n_conns (no cap) cannot happen after validation */
    }
    g->engine = cq_alert_engine_new(conf, store, runner, err);
    if (g->engine == NULL) {
        gen_free(g);
        return NULL;
    }
    return g;
}

/* Drops a reference under s->mu; returns the generation when it must be freed (outside
 * the lock: closing pools can take a while). */
static struct gen *gen_unref(struct gen *g)
{
    return --g->refs == 0 ? g : NULL;
}

/* ---- the heap ----------------------------------------------------------------------------- */

static void heap_swap(struct heap_ent *h, size_t i, size_t j)
{
    struct heap_ent t = h[i];
    h[i] = h[j];
    h[j] = t;
}

static void heap_push(struct cq_alert_sched *s, int64_t at, size_t alert)
{
    size_t i = s->n_heap++;
    s->heap[i] = (struct heap_ent){at, alert};
    while (i > 0 && s->heap[(i - 1) / 2].at > s->heap[i].at) {
        heap_swap(s->heap, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static struct heap_ent heap_pop(struct cq_alert_sched *s)
{
    struct heap_ent top = s->heap[0];
    size_t i = 0;
    s->heap[0] = s->heap[--s->n_heap];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        m = l < s->n_heap && s->heap[l].at < s->heap[m].at ? l : m;
        m = r < s->n_heap && s->heap[r].at < s->heap[m].at ? r : m;
        if (m == i) {
            return top;
        }
        heap_swap(s->heap, i, m);
        i = m;
    }
}

static int64_t next_fire(const struct cq_alert_conf *a, int64_t after)
{
    int64_t t = 0;
    return cq_cron_next(&a->cron, a->tz, after, &t) == CQ_OK ? t : INT64_MAX;
}

/* Fills the heap with every enabled alert of the current generation. */
static int heap_build(struct cq_alert_sched *s, int64_t now, struct cq_err *err)
{
    const struct cq_conf *conf = s->cur->conf;
    struct heap_ent *h = cq_calloc(conf->n_alerts + 1, sizeof(*h));
    if (h == NULL) {
        return cq_err_set(err, CQ_ENOMEM, "alert scheduler: out of memory");
    }
    cq_free(s->heap);
    s->heap = h;
    s->n_heap = 0;
    for (size_t a = 0; a < conf->n_alerts; a++) {
        int64_t at = next_fire(&conf->alerts[a], now);
        if (conf->alerts[a].enabled && at != INT64_MAX) {
            heap_push(s, at, a);
        }
    }
    return CQ_OK;
}

int64_t cq_alert_latest_fire(const struct cq_cron *c, const struct cq_tz *tz, int64_t now_ms)
{
    /* Widening windows keep the forward walk short for frequent schedules. */
    static const int64_t windows[] = {120000LL, 3600000LL, 86400000LL, 32 * 86400000LL,
                                      366 * 86400000LL, 8 * 366 * 86400000LL};
    for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++) {
        int64_t t = 0, n = 0;
        if (cq_cron_next(c, tz, now_ms - windows[w], &t) != CQ_OK || t > now_ms) {
            continue;
        }
        for (int i = 0; i < 200000 && cq_cron_next(c, tz, t, &n) == CQ_OK && n <= now_ms; i++) {
            t = n;
        }
        return t;
    }
    return 0;
}

/* ---- the queue ---------------------------------------------------------------------------- */

static int enqueue(struct cq_alert_sched *s, enum job_kind kind, size_t alert, int64_t slot)
{
    struct job *j = cq_calloc(1, sizeof(*j));
    if (j == NULL) {
        return CQ_ENOMEM;
    }
    *j = (struct job){NULL, kind, s->cur, alert, slot};
    s->cur->refs++;
    if (kind != JOB_RUN && s->head != NULL) { /* deliveries do not wait behind a burst */
        j->next = s->head;
        s->head = j;
    } else if (s->tail != NULL) {
        s->tail->next = j;
    } else {
        s->head = j;
    }
    s->tail = j;
    pthread_cond_signal(&s->work_cv);
    return CQ_OK;
}

/* Takes the oldest job a worker may start now, or NULL. */
static struct job *dequeue(struct cq_alert_sched *s)
{
    struct job **link = &s->head, *prev = NULL;
    for (int n = 0; *link != NULL && n < SCAN_MAX; n++) {
        struct job *j = *link;
        size_t ci = j->kind == JOB_RUN ? j->g->conn_of[j->alert] : 0;
        if (j->kind != JOB_RUN || j->g->inflight[ci] < j->g->cap[ci]) {
            *link = j->next;
            s->tail = s->tail == j ? prev : s->tail;
            return j;
        }
        prev = j;
        link = &j->next;
    }
    return NULL;
}

/* Drops the jobs not started (at stop). Called with s->mu held. */
static void drop_queue(struct cq_alert_sched *s)
{
    while (s->head != NULL) {
        struct job *j = s->head;
        s->head = j->next;
        if (j->kind == JOB_RUN) {
            j->g->running[j->alert] = false;
        }
        gen_free(gen_unref(j->g));
        cq_free(j);
    }
    s->tail = NULL;
    s->deliver_queued = s->prune_queued = false;
}

void cq_alert_sched_on_run(struct cq_alert_sched *s,
                           void (*fn)(void *ctx, enum cq_alert_state state), void *ctx)
{
    s->on_run = fn;
    s->on_run_ctx = ctx;
}

/* ---- threads ------------------------------------------------------------------------------ */

static void run_job(struct cq_alert_sched *s, struct job *j)
{
    struct cq_err err = {0};
    struct cq_alert_outcome out;
    const struct cq_alert_conf *a;
    int rc = CQ_OK;
    switch (j->kind) {
    case JOB_RUN:
        a = &j->g->conf->alerts[j->alert];
        rc = cq_alert_engine_run(j->g->engine, a, j->slot_ms, &out, &err);
        pthread_mutex_lock(&s->mu);
        s->stats.n_runs += rc == CQ_OK && out.ran;
        s->stats.n_lost += rc == CQ_OK && !out.ran;
        s->stats.n_failed += rc != CQ_OK;
        pthread_mutex_unlock(&s->mu);
        if (rc == CQ_OK && out.ran && s->on_run != NULL) {
            s->on_run(s->on_run_ctx, out.state);
        }
        if (rc != CQ_OK) {
            char ctx[80];
            snprintf(ctx, sizeof(ctx), "alert:%s", a->id);
            CQ_LOG(CQ_LOG_ERROR, ctx, "run not recorded: %s", err.msg);
        }
        return;
    case JOB_DELIVER:
        for (size_t n = DELIVER_BATCH; rc == CQ_OK && n == DELIVER_BATCH;) {
            rc = cq_alert_engine_deliver(j->g->engine, DELIVER_BATCH, &n, &err);
        }
        break;
    case JOB_PRUNE:
        rc = cq_alert_store_prune(s->store, cq_wall_ms() - j->g->conf->state.retention_ms, NULL,
                                  &err);
        break;
    }
    if (rc != CQ_OK) {
        CQ_LOG(CQ_LOG_ERROR, "alert", "%s", err.msg);
    }
}

static void *worker_main(void *arg)
{
    struct cq_alert_sched *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        struct job *j = dequeue(s);
        struct gen *dead;
        size_t ci = 0;
        if (j == NULL) {
            pthread_cond_wait(&s->work_cv, &s->mu);
            continue;
        }
        if (j->kind == JOB_RUN) {
            ci = j->g->conn_of[j->alert];
            j->g->inflight[ci]++;
        }
        s->n_busy++;
        pthread_mutex_unlock(&s->mu);
        run_job(s, j);
        pthread_mutex_lock(&s->mu);
        s->n_busy--;
        if (j->kind == JOB_RUN) {
            j->g->inflight[ci]--;
            j->g->running[j->alert] = false;
        }
        s->deliver_queued = j->kind == JOB_DELIVER ? false : s->deliver_queued;
        s->prune_queued = j->kind == JOB_PRUNE ? false : s->prune_queued;
        dead = gen_unref(j->g);
        cq_free(j);
        pthread_cond_broadcast(&s->work_cv); /* a connection slot is free again */
        pthread_cond_broadcast(&s->idle_cv);
        if (dead != NULL) {
            pthread_mutex_unlock(&s->mu);
            gen_free(dead);
            pthread_mutex_lock(&s->mu);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Moves due alerts from the heap to the queue. Called with s->mu held. */
static void fire_due(struct cq_alert_sched *s, int64_t now)
{
    while (s->n_heap > 0 && s->heap[0].at <= now) {
        struct heap_ent e = heap_pop(s);
        const struct cq_alert_conf *a = &s->cur->conf->alerts[e.alert];
        int64_t at = next_fire(a, e.at);
        if (s->cur->running[e.alert]) {
            s->stats.n_skipped++;
            CQ_LOG(CQ_LOG_WARN, "alert", "%s: previous run still going, slot skipped", a->id);
        } else if (enqueue(s, JOB_RUN, e.alert, e.at) == CQ_OK) {
            s->cur->running[e.alert] = true;
        }
        heap_push(s, at <= now ? next_fire(a, now) : at, e.alert); /* late: no burst */
    }
    /* The next tick moves on even while the last job waits, or the timer would spin. */
    if (now >= s->next_deliver) {
        s->deliver_queued = s->deliver_queued || enqueue(s, JOB_DELIVER, 0, 0) == CQ_OK;
        s->next_deliver = now + DELIVER_EVERY_MS;
    }
    if (now >= s->next_prune) {
        s->prune_queued = s->prune_queued || enqueue(s, JOB_PRUNE, 0, 0) == CQ_OK;
        s->next_prune = now + PRUNE_EVERY_MS;
    }
}

static void *timer_main(void *arg)
{
    struct cq_alert_sched *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        int64_t now = cq_wall_ms(), wake;
        struct timespec ts;
        fire_due(s, now);
        wake = s->next_deliver;
        wake = s->n_heap > 0 && s->heap[0].at < wake ? s->heap[0].at : wake;
        ts.tv_sec = (time_t)(wake / 1000);
        ts.tv_nsec = (long)(wake % 1000) * 1000000L;
        pthread_cond_timedwait(&s->timer_cv, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- API ---------------------------------------------------------------------------------- */

struct cq_alert_sched *cq_alert_sched_new(struct cq_conf *conf, struct cq_alert_store *store,
                                          const char *runner, struct cq_err *err)
{
    struct cq_alert_sched *s = cq_calloc(1, sizeof(*s));
    if (s == NULL) {
        cq_conf_free(conf);
        cq_err_set(err, CQ_ENOMEM, "alert scheduler: out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->timer_cv, NULL);
    pthread_cond_init(&s->work_cv, NULL);
    pthread_cond_init(&s->idle_cv, NULL);
    s->store = store;
    cq_strlcpy(s->runner, runner, sizeof(s->runner));
    s->cur = gen_new(conf, store, runner, err);
    if (s->cur == NULL || heap_build(s, cq_wall_ms(), err) != CQ_OK) {
        cq_alert_sched_free(s);
        return NULL;
    }
    return s;
}

/* Queues one run for each alert that missed its latest fire time while nothing ran. */
static int queue_catch_up(struct cq_alert_sched *s, int64_t now, struct cq_err *err)
{
    const struct cq_conf *conf = s->cur->conf;
    for (size_t i = 0; i < conf->n_alerts; i++) {
        const struct cq_alert_conf *a = &conf->alerts[i];
        struct cq_alert_status st;
        int64_t latest;
        int rc;
        if (!a->enabled) {
            continue;
        }
        rc = cq_alert_store_status(s->store, a->id, &st, err);
        if (rc != CQ_OK) {
            return rc;
        }
        latest = st.last_slot_ms > 0 ? cq_alert_latest_fire(&a->cron, a->tz, now) : 0;
        if (latest > st.last_slot_ms) {
            char ctx[80], at[32];
            snprintf(ctx, sizeof(ctx), "alert:%s", a->id);
            cq_format_iso(latest, at, sizeof(at));
            CQ_LOG(CQ_LOG_INFO, ctx, "missed the run of %s while down: running it once now", at);
            pthread_mutex_lock(&s->mu);
            if (enqueue(s, JOB_RUN, i, latest) == CQ_OK) {
                s->cur->running[i] = true;
            }
            pthread_mutex_unlock(&s->mu);
        }
    }
    return CQ_OK;
}

int cq_alert_sched_start(struct cq_alert_sched *s, struct cq_err *err)
{
    int n = s->cur->conf->sched.workers > 0 ? s->cur->conf->sched.workers : 4;
    int rc = queue_catch_up(s, cq_wall_ms(), err);
    if (rc != CQ_OK) {
        return rc;
    }
    s->workers = cq_calloc((size_t)n, sizeof(pthread_t));
    if (s->workers == NULL) {
        return cq_err_set(err, CQ_ENOMEM, "alert scheduler: out of memory");
    }
    s->next_prune = cq_wall_ms() + 60000; /* not in the way of the first runs */
    for (; s->n_workers < n; s->n_workers++) {
        if (pthread_create(&s->workers[s->n_workers], NULL, worker_main, s) != 0) {
            cq_alert_sched_stop(s, 0);
            return cq_err_set(err, CQ_EINTERNAL, "alert scheduler: cannot start a thread");
        }
    }
    if (pthread_create(&s->timer, NULL, timer_main, s) != 0) {
        cq_alert_sched_stop(s, 0);
        return cq_err_set(err, CQ_EINTERNAL, "alert scheduler: cannot start a thread");
    }
    s->started = true;
    return CQ_OK;
}

int cq_alert_sched_reload(struct cq_alert_sched *s, struct cq_conf *conf, struct cq_err *err)
{
    size_t n_alerts = conf->n_alerts;
    struct gen *g = gen_new(conf, s->store, s->runner, err), *old, *dead;
    int rc;
    if (g == NULL) { /* conf is freed by gen_new */
        return err != NULL ? (int)err->rc : CQ_ENOMEM;
    }
    pthread_mutex_lock(&s->mu);
    old = s->cur;
    s->cur = g;
    rc = heap_build(s, cq_wall_ms(), err);
    if (rc != CQ_OK) { /* keep the old generation running */
        s->cur = old;
        g->refs = 0;
        old = g;
    }
    dead = gen_unref(old);
    pthread_cond_signal(&s->timer_cv);
    pthread_mutex_unlock(&s->mu);
    gen_free(dead);
    if (rc == CQ_OK) {
        CQ_LOG(CQ_LOG_INFO, "alert", "configuration reloaded: %zu alerts", n_alerts);
    }
    return rc;
}

int cq_alert_sched_stop(struct cq_alert_sched *s, int64_t timeout_ms)
{
    int64_t deadline = cq_wall_ms() + timeout_ms;
    int rc = CQ_OK;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->timer_cv);
    pthread_cond_broadcast(&s->work_cv);
    drop_queue(s);
    while (s->n_busy > 0 && rc == CQ_OK) {
        struct timespec ts = {(time_t)(deadline / 1000), (long)(deadline % 1000) * 1000000L};
        if (pthread_cond_timedwait(&s->idle_cv, &s->mu, &ts) == ETIMEDOUT) {
            rc = s->n_busy > 0 ? CQ_ETIMEOUT : CQ_OK;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void cq_alert_sched_free(struct cq_alert_sched *s)
{
    bool stuck;
    if (s == NULL) {
        return;
    }
    if (s->started || s->n_workers > 0) {
        pthread_mutex_lock(&s->mu);
        stuck = s->n_busy > 0;
        pthread_mutex_unlock(&s->mu);
        if (stuck) { /* a run is stuck in a query past the shutdown timeout: leave it */
            return;
        }
        if (s->started) {
            pthread_join(s->timer, NULL);
        }
        for (int i = 0; i < s->n_workers; i++) {
            pthread_join(s->workers[i], NULL);
        }
    }
    gen_free(s->cur);
    cq_free(s->heap);
    cq_free(s->workers);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->timer_cv);
    pthread_cond_destroy(&s->work_cv);
    pthread_cond_destroy(&s->idle_cv);
    cq_free(s);
}

void cq_alert_sched_stats(struct cq_alert_sched *s, struct cq_alert_sched_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    pthread_mutex_unlock(&s->mu);
}
