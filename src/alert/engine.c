/*
 * engine.c - claim, evaluate, decide, record, deliver (see engine.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "alert/channel.h"
#include "alert/engine.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "base/tmpl.h"

#define DEFAULT_MESSAGE "{{alert.name}} is {{state}}: {{reason}}"
#define CLAIM_LEASE_MIN_MS 60000    /* a claim outlives the query timeout by this much */
#define DELIVERY_LEASE_MS 120000    /* a delivery attempt is bounded by the channel timeout */
#define ARENA_CHUNK 16384
#define ARENA_MAX (32u << 20)       /* per run: kept rows are capped well below this */

struct cq_alert_engine {
    const struct cq_conf *conf;     /* borrowed */
    struct cq_alert_store *store;   /* borrowed */
    char runner[96];
    pthread_mutex_t lock;           /* guards pools[] creation */
    struct cq_pool **pools;         /* by index of conf->conns; NULL until first use */
    _Atomic uint64_t rng;           /* jitter: xorshift state */
};

struct cq_alert_engine *cq_alert_engine_new(const struct cq_conf *conf,
                                            struct cq_alert_store *store, const char *runner,
                                            struct cq_err *err)
{
    struct cq_alert_engine *e = cq_calloc(1, sizeof(*e));
    if (e == NULL || (e->pools = cq_calloc(conf->n_conns + 1, sizeof(*e->pools))) == NULL) {
        cq_free(e);
        cq_err_set(err, CQ_ENOMEM, "alert engine: out of memory");
        return NULL;
    }
    e->conf = conf;
    e->store = store;
    cq_strlcpy(e->runner, runner, sizeof(e->runner));
    pthread_mutex_init(&e->lock, NULL);
    atomic_init(&e->rng, (uint64_t)cq_now_us() * 0x9E3779B97F4A7C15ull | 1);
    return e;
}

void cq_alert_engine_free(struct cq_alert_engine *e)
{
    if (e == NULL) {
        return;
    }
    for (size_t i = 0; i < e->conf->n_conns; i++) {
        cq_drv_pool_free(e->pools[i]);
    }
    pthread_mutex_destroy(&e->lock);
    cq_free(e->pools);
    cq_free(e);
}

const struct cq_conf *cq_alert_engine_conf(const struct cq_alert_engine *e)
{
    return e->conf;
}

int cq_alert_engine_pool(struct cq_alert_engine *e, const char *name, struct cq_pool **out,
                         struct cq_err *err)
{
    int rc = CQ_OK;
    size_t i = 0;
    while (i < e->conf->n_conns && strcmp(e->conf->conns[i].name, name) != 0) {
        i++;
    }
    if (i == e->conf->n_conns) {
        return cq_err_set(err, CQ_ENOTFOUND, "connection '%s' is not configured", name);
    }
    pthread_mutex_lock(&e->lock);
    if (e->pools[i] == NULL) {
        e->pools[i] = cq_drv_pool_new(&e->conf->conns[i], err);
        rc = e->pools[i] == NULL ? (err ? (int)err->rc : CQ_ECONNECT) : CQ_OK;
    }
    *out = e->pools[i];
    pthread_mutex_unlock(&e->lock);
    return rc;
}

static uint64_t next_rand(struct cq_alert_engine *e)
{
    uint64_t x = atomic_load(&e->rng), y;
    do {
        y = x;
        y ^= y << 13;
        y ^= y >> 7;
        y ^= y << 17;
    } while (!atomic_compare_exchange_weak(&e->rng, &x, y));
    return y;
}

int64_t cq_alert_backoff_ms(const struct cq_channel_conf *cc, int attempt, uint64_t rnd)
{
    int64_t d = cc->backoff_ms > 0 ? cc->backoff_ms : 1000;
    int64_t cap = cc->backoff_max_ms > 0 ? cc->backoff_max_ms : d;
    for (int i = 1; i < attempt && d < cap; i++) {
        d *= 2;
    }
    d = d > cap ? cap : d;
    return d / 2 + (int64_t)(rnd % (uint64_t)(d / 2 + 1));
}

/* ---- deciding ----------------------------------------------------------------------------- */

static bool cooling(const struct cq_alert_conf *a, const struct cq_alert_status *prev,
                    int64_t now)
{
    return a->cooldown_ms > 0 && prev->last_notified_ms > 0 &&
           now - prev->last_notified_ms < a->cooldown_ms;
}

/* A bad state (triggered or error) that may need a notification. */
static const char *decide_bad(const struct cq_alert_conf *a, const struct cq_alert_eval *ev,
                              const struct cq_alert_status *prev, int64_t now,
                              const char *state, const char **why)
{
    bool same_state = strcmp(prev->state, cq_alert_state_name(ev->state)) == 0;
    bool same_result = strcmp(prev->fingerprint, ev->fingerprint) == 0;
    if (!same_state) {
        if (cooling(a, prev, now) && same_result) {
            *why = "same result as the last notification, inside the cooldown";
            return NULL;
        }
        *why = ev->state == CQ_ALERT_ERROR ? "new error" : "new trigger";
        return state;
    }
    if (a->cooldown_ms == 0) {
        *why = "already notified; no cooldown set, so once until it resolves";
        return NULL;
    }
    if (cooling(a, prev, now)) {
        *why = "already notified; cooldown not over";
        return NULL;
    }
    *why = "still active and the cooldown has passed";
    return state;
}

const char *cq_alert_decide(const struct cq_alert_conf *a, const struct cq_alert_eval *ev,
                            const struct cq_alert_status *prev, int64_t now_ms,
                            const char **why)
{
    static const struct cq_alert_status never;
    const char *dummy;
    why = why != NULL ? why : &dummy;
    prev = prev != NULL ? prev : &never;
    if (ev->state == CQ_ALERT_TRIGGERED && a->rule.type == CQ_RULE_ALWAYS) {
        if (cooling(a, prev, now_ms)) {
            *why = "digest inside the cooldown";
            return NULL;
        }
        *why = "digest: every run";
        return "digest";
    }
    if (ev->state == CQ_ALERT_TRIGGERED) {
        return decide_bad(a, ev, prev, now_ms, "triggered", why);
    }
    if (ev->state == CQ_ALERT_ERROR) {
        return decide_bad(a, ev, prev, now_ms, "error", why);
    }
    /* ok: resolve what was notified as bad */
    bool was_bad = strcmp(prev->state, "triggered") == 0 || strcmp(prev->state, "error") == 0;
    bool told = strcmp(prev->last_notified_state, "triggered") == 0 ||
                strcmp(prev->last_notified_state, "error") == 0;
    if (was_bad && told && a->notify_on == CQ_NOTIFY_TRIGGER_AND_RESOLVE) {
        *why = "back to ok";
        return "resolved";
    }
    *why = was_bad ? "back to ok (resolve notifications are off)" : "ok";
    return NULL;
}

int cq_alert_engine_msg(const struct cq_alert_eval *ev, const char *state,
                        struct cq_arena *arena, struct cq_alert_msg *m, struct cq_err *err)
{
    const struct cq_alert_conf *a = ev->alert;
    struct cq_buf text;
    char at[32];
    int rc;

    cq_format_iso(ev->run_at_ms, at, sizeof(at));
    memset(m, 0, sizeof(*m));
    m->alert_id = a->id;
    m->alert_name = a->name != NULL ? a->name : a->id;
    m->connection = a->connection;
    m->duration_ms = cq_arena_printf(arena, "%.1f", ev->duration_ms);
    m->state = state;
    m->reason = ev->reason;
    m->value = ev->value;
    m->threshold = a->rule.value_text;
    m->error = ev->error;
    m->run_at = cq_arena_strdup(arena, at);
    m->row_count = ev->row_count;
    m->n_cols = ev->n_cols;
    m->cols = ev->cols;
    m->n_rows = ev->n_rows;
    m->cells = ev->cells;
    cq_buf_init(&text, 64u << 10);
    cq_tmpl_render(a->message != NULL ? a->message : DEFAULT_MESSAGE, cq_alert_msg_var, m, &text);
    m->text = cq_buf_rc(&text) == CQ_OK ? cq_arena_strdup(arena, cq_buf_str(&text)) : NULL;
    cq_buf_cleanup(&text);
    if (m->text == NULL || m->run_at == NULL) {
        return cq_err_set(err, CQ_ENOMEM, "alert %s: message: out of memory", a->id);
    }
    rc = cq_alert_msg_encode(m, arena, err);
    if (rc != CQ_OK) {
        cq_err_wrap(err, "alert %s: message", a->id);
    }
    return rc;
}

/* ---- running ------------------------------------------------------------------------------ */

static int record(struct cq_alert_engine *e, const struct cq_alert_eval *ev, int64_t slot_ms,
                  const char *notify, const struct cq_alert_status *prev,
                  struct cq_arena *arena, size_t *n_queued, struct cq_err *err)
{
    /* A resolve keeps the fingerprint of the bad result it resolves: an identical bad
     * result inside the cooldown is then recognized and not sent again. */
    bool resolve = notify != NULL && strcmp(notify, "resolved") == 0;
    const struct cq_alert_conf *a = ev->alert;
    struct cq_alert_delivery *d = NULL;
    struct cq_alert_msg m;
    struct cq_alert_run run = {
        .alert_id = a->id,
        .slot_ms = slot_ms,
        .run_at_ms = ev->run_at_ms,
        .state = cq_alert_state_name(ev->state),
        .reason = ev->reason,
        .value = ev->state == CQ_ALERT_ERROR ? NULL : ev->value,
        .row_count = ev->row_count,
        .duration_ms = ev->duration_ms,
        .error = ev->error,
        .fingerprint = resolve ? prev->fingerprint : ev->fingerprint,
        .notified_state = notify,
    };
    size_t n = 0;
    if (notify != NULL && a->n_channels > 0) {
        int rc = cq_alert_engine_msg(ev, notify, arena, &m, err);
        if (rc != CQ_OK) {
            return rc;
        }
        d = cq_arena_alloc(arena, a->n_channels * sizeof(*d));
        if (d == NULL) {
            return cq_err_set(err, CQ_ENOMEM, "alert %s: out of memory", a->id);
        }
        for (n = 0; n < a->n_channels; n++) {
            d[n].channel = a->channels[n];
            d[n].payload = m.json;
        }
    }
    *n_queued = n;
    return cq_alert_store_record(e->store, &run, d, n, NULL, err);
}

int cq_alert_engine_run(struct cq_alert_engine *e, const struct cq_alert_conf *a,
                        int64_t slot_ms, struct cq_alert_outcome *out, struct cq_err *err)
{
    struct cq_arena arena;
    struct cq_alert_status prev;
    struct cq_alert_eval ev;
    struct cq_pool *pool = NULL;
    struct cq_err perr = {0};
    char ctx[80];
    const char *why = "";
    bool won = false;
    int64_t lease = (a->timeout_ms > 0 ? a->timeout_ms : 0) + CLAIM_LEASE_MIN_MS;
    int rc;

    memset(out, 0, sizeof(*out));
    snprintf(ctx, sizeof(ctx), "alert:%s", a->id);
    cq_arena_init(&arena, ARENA_CHUNK, ARENA_MAX);
    rc = cq_alert_store_claim(e->store, a->id, slot_ms, e->runner, lease, &won, err);
    if (rc != CQ_OK || !won) {
        goto out;
    }
    out->ran = true;
    rc = cq_alert_store_status(e->store, a->id, &prev, err);
    if (rc != CQ_OK) {
        goto out;
    }
    if (cq_alert_engine_pool(e, a->connection, &pool, &perr) != CQ_OK) {
        /* No pool (bad URL, out of memory): an alert error like a failed query. */
        memset(&ev, 0, sizeof(ev));
        ev.alert = a;
        ev.state = CQ_ALERT_ERROR;
        ev.run_at_ms = cq_wall_ms();
        ev.error_rc = perr.rc;
        ev.error = ev.reason = cq_arena_strdup(&arena, perr.msg);
        if (ev.error == NULL) {
            rc = cq_err_set(err, CQ_ENOMEM, "alert %s: out of memory", a->id);
            goto out;
        }
    } else if ((rc = cq_alert_eval_run(a, pool, &prev, &arena, &ev, err)) != CQ_OK) {
        goto out;
    }
    out->state = ev.state;
    out->notified = cq_alert_decide(a, &ev, &prev, cq_wall_ms(), &why);
    rc = record(e, &ev, slot_ms, out->notified, &prev, &arena, &out->n_queued, err);
    if (rc != CQ_OK) {
        goto out;
    }
    CQ_LOG(ev.state == CQ_ALERT_ERROR ? CQ_LOG_WARN : CQ_LOG_INFO, ctx,
           "%s: %s (%.1f ms); %s%s%s", cq_alert_state_name(ev.state), ev.reason, ev.duration_ms,
           out->notified ? "notify " : "no notification: ", out->notified ? out->notified : why,
           out->notified && out->n_queued == 0 ? " (no channels)" : "");
    if (out->n_queued > 0) {
        rc = cq_alert_engine_deliver(e, out->n_queued, NULL, err);
    }
out:
    cq_arena_free(&arena);
    return rc;
}

/* ---- delivering --------------------------------------------------------------------------- */

/* One attempt of one pending delivery; the outcome goes to the store. */
static int attempt(struct cq_alert_engine *e, const struct cq_alert_pending *p,
                   struct cq_err *err)
{
    const struct cq_channel_conf *cc = cq_conf_channel(e->conf, p->channel);
    struct cq_err cerr = {0};
    struct cq_arena arena;
    struct cq_alert_msg m;
    enum cq_delivery_outcome outcome = CQ_DELIVERY_FAILED;
    int tries = p->attempts + 1, crc = CQ_CHAN_FAIL;
    int64_t next = 0;
    char ctx[80];

    snprintf(ctx, sizeof(ctx), "alert:%s", p->alert_id);
    cq_arena_init(&arena, ARENA_CHUNK, ARENA_MAX);
    if (cc == NULL) {
        cq_err_set(&cerr, CQ_ENOTFOUND, "channel '%s' is no longer configured", p->channel);
    } else if (cq_alert_msg_parse(p->payload, &arena, &m, &cerr) == CQ_OK) {
        crc = cq_alert_channel_type(cc->kind)->ops->send(cc, &m, &cerr);
    }
    if (crc == CQ_CHAN_OK) {
        outcome = CQ_DELIVERY_SENT;
        CQ_LOG(CQ_LOG_INFO, ctx, "sent to %s", p->channel);
    } else if (crc == CQ_CHAN_RETRY && tries <= cc->retries) {
        outcome = CQ_DELIVERY_RETRY;
        next = cq_wall_ms() + cq_alert_backoff_ms(cc, tries, next_rand(e));
        CQ_LOG(CQ_LOG_WARN, ctx, "%s (attempt %d of %d, retrying in %lld ms)", cerr.msg, tries,
               cc->retries + 1, (long long)(next - cq_wall_ms()));
    } else {
        CQ_LOG(CQ_LOG_ERROR, ctx, "%s (attempt %d, giving up)", cerr.msg, tries);
    }
    cq_arena_free(&arena);
    return cq_alert_store_delivered(e->store, p->id, outcome, tries, next,
                                    outcome == CQ_DELIVERY_SENT ? NULL : cerr.msg, err);
}

int cq_alert_engine_deliver(struct cq_alert_engine *e, size_t max, size_t *n,
                            struct cq_err *err)
{
    struct cq_alert_pending *v = NULL;
    size_t got = 0;
    int rc = cq_alert_store_due(e->store, cq_wall_ms(), e->runner, DELIVERY_LEASE_MS, max, &v,
                                &got, err);
    for (size_t i = 0; rc == CQ_OK && i < got; i++) {
        rc = attempt(e, &v[i], err);
    }
    cq_alert_pending_free(v, got);
    if (n != NULL) {
        *n = got;
    }
    return rc;
}
