/*
 * compile.c - one compile: access, validation (spec §5), planning (§7), name resolution
 * (§8) and SQL generation (§9), with the timings of meta.timing and, when the query asks
 * for it, the debug log of spec §10.5 (plus clariq's "rls" phase listing the row filters
 * injected).
 *
 * The hot path reads the monotonic clock four times and allocates only from the arena; the
 * debug log is built only with q->debug.
 */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/time.h"
#include "dsl/internal.h"

static const char *const strategy_names[] = {"direct", "cache", "materialized", "trino"};
static const char *const rls_op_names[] = {"=", "!=", "in", "notIn", "isNull", "isNotNull"};

static int oom(struct cq_dsl_error *e)
{
    cq_dsl_error_simple(e, CQ_DSL_E_INTERNAL, "InternalError", "out of memory");
    return CQ_ENOMEM;
}

/* ---- the debug log ------------------------------------------------------------------------- */

struct dlog {
    struct cq_dsl_compiled *out;
    struct cq_arena *a;
    int64_t now_ms;               /* fixed timestamp (tests) or 0 */
    int rc;
};

static void entry(struct dlog *l, const char *phase, const char *text, int64_t us,
                  const char *details)
{
    struct cq_dsl_compiled *out = l->out;
    struct cq_dsl_debug *d;

    if (l->rc != CQ_OK) {
        return;
    }
    d = cq_arena_grow(l->a, out->debug, out->n_debug, &out->cap_debug, sizeof(*d));
    if (d == NULL) {
        l->rc = CQ_ENOMEM;
        return;
    }
    out->debug = d;
    d = &out->debug[out->n_debug];
    d->ts_ms = l->now_ms != 0 ? l->now_ms : cq_wall_ms();
    d->phase = phase;
    d->message = cq_arena_printf(l->a, "%s (%.1fms)", text, (double)us / 1000.0);
    d->details_json = details;
    if (d->message == NULL) {
        l->rc = CQ_ENOMEM;
        return;
    }
    out->n_debug++;
}

/* Copies a cq_buf's JSON into the arena (debug only). */
static const char *buf_to_arena(struct dlog *l, struct cq_buf *b)
{
    const char *s = NULL;

    if (cq_buf_rc(b) == CQ_OK) {
        s = cq_arena_strndup(l->a, cq_buf_str(b), b->len);
    }
    if (s == NULL) {
        l->rc = CQ_ENOMEM;
    }
    cq_buf_cleanup(b);
    return s;
}

static void put_key(struct cq_buf *b, const char *key, bool first)
{
    if (!first) {
        cq_buf_putc(b, ',');
    }
    cq_json_put_str(b, key, strlen(key));
    cq_buf_putc(b, ':');
}

/* The "rls" entry: every row filter of every table the query touches (spec §0.13). */
static void rls_entry(struct dlog *l, struct cq_dsl_access *acc, const struct cq_dsl_plan *p)
{
    int64_t start = cq_now_us();
    struct cq_buf b;
    size_t n = 0;
    const char *details;
    char msg[64];

    cq_buf_init(&b, 1u << 20);
    cq_buf_putc(&b, '[');
    for (size_t i = 0; i < p->n_tables; i++) {
        const struct cq_dsl_table_access *ta = cq_dsl_access_get(acc, p->tables[i]);
        for (size_t s = 0; ta != NULL && s < ta->n_rls; s++) {
            for (size_t c = 0; c < ta->rls[s].n_conjs; c++) {
                const struct cq_dsl_rls_conj *cj = &ta->rls[s].conjs[c];
                for (size_t k = 0; k < cj->n_terms; k++) {
                    const struct cq_dsl_rls_term *t = &cj->terms[k];
                    if (n++ > 0) {
                        cq_buf_putc(&b, ',');
                    }
                    cq_buf_putc(&b, '{');
                    put_key(&b, "table", true);
                    cq_json_put_str(&b, p->tables[i]->api, strlen(p->tables[i]->api));
                    put_key(&b, "role", false);
                    cq_json_put_str(&b, cj->role, strlen(cj->role));
                    put_key(&b, "column", false);
                    cq_json_put_str(&b, t->f->column->api, strlen(t->f->column->api));
                    put_key(&b, "operator", false);
                    cq_json_put_str(&b, rls_op_names[t->f->op], strlen(rls_op_names[t->f->op]));
                    if (t->f->context_key != NULL) {
                        put_key(&b, "contextKey", false);
                        cq_json_put_str(&b, t->f->context_key, strlen(t->f->context_key));
                        put_key(&b, "value", false);
                        if (t->value != NULL) {
                            cq_dsl_val_write(&b, t->value);
                        } else {
                            cq_buf_puts(&b, "null");
                        }
                    }
                    cq_buf_putc(&b, '}');
                }
            }
        }
    }
    cq_buf_putc(&b, ']');
    if (n == 0) {
        cq_buf_cleanup(&b);
        return; /* nothing injected: no entry */
    }
    details = buf_to_arena(l, &b);
    snprintf(msg, sizeof(msg), "Injected %zu row filter%s", n, n == 1 ? "" : "s");
    entry(l, "rls", msg, cq_now_us() - start, details);
}

static void sql_entry(struct dlog *l, const struct cq_dsl_compiled *out, int64_t us)
{
    struct cq_buf b;
    char msg[64];

    cq_buf_init(&b, (size_t)1 << 30);
    cq_buf_puts(&b, "{\"sql\":");
    cq_json_put_str(&b, out->sql, strlen(out->sql));
    cq_buf_putc(&b, '}');
    snprintf(msg, sizeof(msg), "Generated (%s)", cq_dsl_dialect_name(out->dialect));
    entry(l, "sql-generation", msg, us, buf_to_arena(l, &b));
}

/* ---- compile ------------------------------------------------------------------------------- */

static void set_target(struct cq_dsl_compiled *out, const struct cq_dsl_plan *p)
{
    out->strategy = p->strategy;
    out->db = p->db;
    out->cached = p->cached;
    switch (p->strategy) {
    case CQ_DSL_STRAT_CACHE:
        out->target = p->cached->cache->id;
        break;
    case CQ_DSL_STRAT_TRINO:
        out->target = "trino";
        out->db = NULL;
        break;
    case CQ_DSL_STRAT_DIRECT:
    case CQ_DSL_STRAT_MATERIALIZED:
        out->target = p->db->id;
        break;
    }
}

int cq_dsl_compile(const struct cq_dsl_catalog *cat, const struct cq_dsl_query *q,
                   const struct cq_dsl_context *ctx, const struct cq_dsl_opts *opts,
                   struct cq_arena *a, struct cq_dsl_compiled *out, struct cq_dsl_error *e)
{
    struct cq_dsl_access acc;
    struct cq_dsl_plan plan;
    struct cq_dsl_gen g;
    struct dlog log = {out, a, opts != NULL ? opts->now_ms : 0, CQ_OK};
    int64_t t0 = cq_now_us(), t_val = 0, t_acc = 0, t_plan, t_res = 0, t_gen;
    enum cq_dialect dialect;
    int rc;

    memset(out, 0, sizeof(*out));
    out->q = q;
    if (cq_dsl_access_init(&acc, cat, ctx, a) != CQ_OK) {
        return oom(e);
    }
    rc = cq_dsl_validate(cat, q, &acc, e);
    if (rc != CQ_OK) {
        return rc;
    }
    if (q->debug) {
        t_val = cq_now_us(); /* the clock is read only as often as the output needs */
    }
    rc = cq_dsl_plan(cat, q, &acc, a, &plan, e);
    if (rc != CQ_OK) {
        return rc;
    }
    t_plan = cq_now_us();
    set_target(out, &plan);
    dialect = opts != NULL && opts->force_dialect ? opts->dialect : plan.dialect;
    rc = cq_dsl_gen_resolve(&g, cat, q, &acc, &plan, dialect, a, out, e);
    if (q->debug) {
        t_res = cq_now_us();
    }
    if (rc == CQ_OK) {
        rc = cq_dsl_gen_emit(&g);
    }
    json_decref(g.unsupported);
    if (rc != CQ_OK) {
        return rc;
    }
    t_gen = cq_now_us();
    out->planning_ms = (double)(t_plan - t0) / 1000.0;
    out->generation_ms = (double)(t_gen - t_plan) / 1000.0;
    if (!q->debug) {
        return CQ_OK;
    }
    /* Access is resolved while validating; its share is the lookups of the tables used. */
    for (size_t i = 0; i < plan.n_tables; i++) {
        int64_t s = cq_now_us();
        (void)cq_dsl_access_get(&acc, plan.tables[i]);
        t_acc += cq_now_us() - s;
    }
    entry(&log, "validation", "Validated", t_val - t0, NULL);
    entry(&log, "access-control", "Access resolved", t_acc, NULL);
    rls_entry(&log, &acc, &plan);
    {
        char msg[48];
        snprintf(msg, sizeof(msg), "Strategy: %s", strategy_names[plan.strategy]);
        entry(&log, "planning", msg, t_plan - t_val, NULL);
    }
    entry(&log, "name-resolution", "Names resolved", t_res - t_plan, NULL);
    sql_entry(&log, out, t_gen - t_res);
    return log.rc == CQ_OK ? CQ_OK : oom(e);
}

int cq_dsl_validate_only(const struct cq_dsl_catalog *cat, const struct cq_dsl_query *q,
                         const struct cq_dsl_context *ctx, struct cq_arena *a,
                         struct cq_dsl_error *e)
{
    struct cq_dsl_access acc;

    if (cq_dsl_access_init(&acc, cat, ctx, a) != CQ_OK) {
        return oom(e);
    }
    return cq_dsl_validate(cat, q, &acc, e);
}
