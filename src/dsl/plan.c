/*
 * plan.c - strategy selection (spec §7): cache (P0), direct (P1), materialized replica
 * (P2), Trino (P3), else a PlannerError (P4).
 *
 * Queries touch few tables, so everything here is linear scans over small arrays in the
 * compile's arena; nothing is hashed or sorted.
 */
#include <string.h>

#include "dsl/internal.h"

static const char *const lag_names[] = {"seconds", "minutes", "hours"};
static const char *const fresh_names[] = {"realtime", "realtime", "seconds", "minutes", "hours"};

/* ---- involved tables ---------------------------------------------------------------------- */

struct involved {
    const struct cq_dsl_catalog *cat;
    const struct cq_dsl_table **v;
    size_t n, cap;
};

static size_t count_exists(struct cq_dsl_filter *const *f, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i]->kind == CQ_DSL_F_GROUP) {
            c += count_exists(f[i]->conds, f[i]->n_conds);
        } else if (f[i]->kind == CQ_DSL_F_EXISTS) {
            c += 1 + count_exists(f[i]->filters, f[i]->n_filters);
        }
    }
    return c;
}

static void add(struct involved *inv, const struct cq_dsl_table *t)
{
    if (t == NULL) {
        return; /* unknown: validation reports it; planning ignores it */
    }
    for (size_t i = 0; i < inv->n; i++) {
        if (inv->v[i] == t) {
            return;
        }
    }
    if (inv->n < inv->cap) {
        inv->v[inv->n++] = t;
    }
}

/* EXISTS tables in filter order, an EXISTS before the ones nested in it. */
static void add_exists(struct involved *inv, struct cq_dsl_filter *const *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (f[i]->kind == CQ_DSL_F_GROUP) {
            add_exists(inv, f[i]->conds, f[i]->n_conds);
        } else if (f[i]->kind == CQ_DSL_F_EXISTS) {
            add(inv, cq_dsl_table_by_api(inv->cat, f[i]->table));
            add_exists(inv, f[i]->filters, f[i]->n_filters);
        }
    }
}

int cq_dsl_plan_involved(const struct cq_dsl_catalog *cat, const struct cq_dsl_query *q,
                         struct cq_arena *a, const struct cq_dsl_table ***out, size_t *n)
{
    struct involved inv = {cat, NULL, 0, 1 + q->n_joins};

    inv.cap += count_exists(q->filters, q->n_filters);
    for (size_t i = 0; i < q->n_joins; i++) {
        inv.cap += count_exists(q->joins[i].filters, q->joins[i].n_filters);
    }
    inv.v = cq_arena_alloc(a, inv.cap * sizeof(*inv.v));
    if (inv.v == NULL) {
        return CQ_ENOMEM;
    }
    add(&inv, cq_dsl_table_by_api(cat, q->from));
    for (size_t i = 0; i < q->n_joins; i++) {
        add(&inv, cq_dsl_table_by_api(cat, q->joins[i].table));
        add_exists(&inv, q->joins[i].filters, q->joins[i].n_filters);
    }
    add_exists(&inv, q->filters, q->n_filters);
    *out = inv.v;
    *n = inv.n;
    return CQ_OK;
}

/* ---- strategies --------------------------------------------------------------------------- */

/* Every table column in the cache entry (columns absent from the query). */
static bool cache_has_all(const struct cq_dsl_table *t)
{
    const struct cq_dsl_cached *c = t->cached;
    if (c->columns == NULL) {
        return true;
    }
    for (size_t i = 0; i < t->n_columns; i++) {
        bool found = false;
        for (size_t k = 0; k < c->n_columns && !found; k++) {
            found = c->columns[k] == &t->columns[i];
        }
        if (!found) {
            return false;
        }
    }
    return true;
}

/* P0: byIds on one cached table whose first cache entry holds every column asked for. */
static bool cache_fits(const struct cq_dsl_query *q, const struct cq_dsl_table *t,
                       struct cq_dsl_access *acc, size_t n_tables)
{
    const struct cq_dsl_cached *c = t->cached;
    const struct cq_dsl_table_access *ta;

    if (q->by_ids == NULL || q->by_ids->n == 0 || q->n_filters > 0 || q->n_joins > 0 ||
        n_tables != 1 || t->n_pk != 1 || t->n_pk_declared != 1 || c == NULL) {
        return false;
    }
    /* Row filters cannot be applied to cached objects (spec §0.13). */
    ta = cq_dsl_access_get(acc, t);
    if (ta == NULL || ta->n_rls > 0) {
        return false;
    }
    if (c->columns == NULL) {
        return true;
    }
    if (!q->has_columns) {
        return cache_has_all(t);
    }
    for (size_t i = 0; i < q->n_columns; i++) {
        bool found = false;
        for (size_t k = 0; k < c->n_columns && !found; k++) {
            found = strcmp(c->columns[k]->api, q->columns[i]) == 0;
        }
        if (!found) {
            return false;
        }
    }
    return true;
}

struct cand {
    const struct cq_dsl_database *db;
    bool viable;
    size_t in_place;
    size_t overrides;
    enum cq_dsl_lag worst;
};

/* First sync of t into db, or NULL. */
static const struct cq_dsl_sync *sync_into(const struct cq_dsl_table *t,
                                           const struct cq_dsl_database *db)
{
    for (size_t i = 0; i < t->n_syncs; i++) {
        if (t->syncs[i]->target == db) {
            return t->syncs[i];
        }
    }
    return NULL;
}

static void judge(struct cand *c, const struct cq_dsl_table *const *tables, size_t n)
{
    c->viable = true;
    c->in_place = 0;
    c->overrides = 0;
    c->worst = CQ_DSL_LAG_SECONDS;
    for (size_t i = 0; i < n && c->viable; i++) {
        const struct cq_dsl_sync *s;
        if (tables[i]->db == c->db) {
            c->in_place++;
            continue;
        }
        s = sync_into(tables[i], c->db);
        if (s == NULL) {
            c->viable = false;
            break;
        }
        c->overrides++;
        if (s->lag > c->worst) {
            c->worst = s->lag;
        }
    }
}

static bool fresh_enough(enum cq_dsl_freshness f, enum cq_dsl_lag lag)
{
    switch (f) {
    case CQ_DSL_FRESH_ANY:
        return true;
    case CQ_DSL_FRESH_REALTIME:
        return false;
    case CQ_DSL_FRESH_SECONDS:
        return lag <= CQ_DSL_LAG_SECONDS;
    case CQ_DSL_FRESH_MINUTES:
        return lag <= CQ_DSL_LAG_MINUTES;
    case CQ_DSL_FRESH_HOURS:
        break;
    }
    return true;
}

/* Candidates: the involved databases (first seen), then every other configured one. */
static struct cand *candidates(const struct cq_dsl_catalog *cat,
                               const struct cq_dsl_database *const *dbs, size_t n_dbs,
                               const struct cq_dsl_table *const *tables, size_t n,
                               struct cq_arena *a, size_t *n_cands)
{
    struct cand *c = cq_arena_alloc(a, (cat->n_databases + n_dbs) * sizeof(*c));
    size_t k = 0;

    if (c == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n_dbs; i++) {
        c[k++].db = dbs[i];
    }
    for (size_t i = 0; i < cat->n_databases; i++) {
        bool seen = false;
        for (size_t j = 0; j < n_dbs && !seen; j++) {
            seen = dbs[j] == &cat->databases[i];
        }
        if (!seen) {
            c[k++].db = &cat->databases[i];
        }
    }
    for (size_t i = 0; i < k; i++) {
        judge(&c[i], tables, n);
    }
    *n_cands = k;
    return c;
}

/* The viable candidate with most tables in place (ties: candidate order); with
 * check_fresh, only those without overrides or fresh enough. */
static const struct cand *best(const struct cand *c, size_t n, enum cq_dsl_freshness f,
                               bool check_fresh, bool need_override)
{
    const struct cand *b = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!c[i].viable || (need_override && c[i].overrides == 0)) {
            continue;
        }
        if (check_fresh && c[i].overrides > 0 && !fresh_enough(f, c[i].worst)) {
            continue;
        }
        if (b == NULL || c[i].in_place > b->in_place) {
            b = &c[i];
        }
    }
    return b;
}

static int fill_tables(struct cq_dsl_plan *p, const struct cq_dsl_table **tables, size_t n,
                       const struct cq_dsl_database *into, struct cq_arena *a)
{
    p->n_tables = n;
    p->tables = tables;
    p->phys = cq_arena_alloc(a, n * sizeof(*p->phys) + 1);
    p->dbs = cq_arena_alloc(a, n * sizeof(*p->dbs) + 1);
    p->replaced = cq_arena_alloc(a, n * sizeof(*p->replaced) + 1);
    if (p->phys == NULL || p->dbs == NULL || p->replaced == NULL) {
        return CQ_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct cq_dsl_sync *s = NULL;
        p->phys[i] = tables[i]->phys;
        p->dbs[i] = tables[i]->db;
        if (into != NULL && tables[i]->db != into) {
            s = sync_into(tables[i], into);
        }
        if (s != NULL) {
            p->phys[i] = s->target_phys;
            p->dbs[i] = into;
            p->replaced[i] = true;
        }
    }
    return CQ_OK;
}

/* ---- errors (P4) -------------------------------------------------------------------------- */

static int oom(struct cq_dsl_error *e)
{
    cq_dsl_error_simple(e, CQ_DSL_E_INTERNAL, "InternalError", "out of memory");
    return CQ_ENOMEM;
}

/* "a, b, c" of the given strings, in the arena. */
static const char *join_names(struct cq_arena *a, const char *const *v, size_t n)
{
    size_t len = 1;
    char *s, *w;
    for (size_t i = 0; i < n; i++) {
        len += strlen(v[i]) + 2;
    }
    s = cq_arena_alloc(a, len);
    if (s == NULL) {
        return NULL;
    }
    w = s;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(v[i]);
        if (i > 0) {
            memcpy(w, ", ", 2);
            w += 2;
        }
        memcpy(w, v[i], l);
        w += l;
    }
    *w = '\0';
    return s;
}

static int fail_list(struct cq_dsl_error *e, const char *from, const char *code,
                     const char *prefix, const char *key, const char *const *names, size_t n,
                     struct cq_arena *a)
{
    const char *list = join_names(a, names, n);
    const char *msg = list != NULL ? cq_arena_printf(a, "%s%s", prefix, list) : NULL;
    json_t *details = json_object();
    json_t *arr = json_array();

    if (msg == NULL || details == NULL || arr == NULL) {
        json_decref(details);
        json_decref(arr);
        return oom(e);
    }
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, json_string(names[i]));
    }
    json_object_set_new(details, "code", json_string(code));
    json_object_set_new(details, key, arr);
    cq_dsl_error_planner(e, code, from, msg, details);
    return CQ_EINVAL;
}

static int fail(const struct cq_dsl_query *q, const struct cq_dsl_catalog *cat,
                const struct cq_dsl_table *const *tables, size_t n,
                const struct cq_dsl_database *const *dbs, size_t n_dbs,
                const struct cand *stale, struct cq_arena *a, struct cq_dsl_error *e)
{
    const char **names = cq_arena_alloc(a, (n + n_dbs + 1) * sizeof(*names));
    size_t k = 0;

    if (names == NULL) {
        return oom(e);
    }
    if (n_dbs > 1 && stale != NULL) {
        const char *req = fresh_names[q->freshness];
        const char *lag = lag_names[stale->worst];
        const char *msg = cq_arena_printf(a, "Freshness unmet: required %s, available lag %s",
                                          req, lag);
        json_t *details = json_object();
        if (msg == NULL || details == NULL) {
            json_decref(details);
            return oom(e);
        }
        json_object_set_new(details, "code", json_string("FRESHNESS_UNMET"));
        json_object_set_new(details, "requiredFreshness", json_string(req));
        json_object_set_new(details, "availableLag", json_string(lag));
        cq_dsl_error_planner(e, "FRESHNESS_UNMET", q->from, msg, details);
        return CQ_EINVAL;
    }
    if (n_dbs > 1 && !cat->trino_enabled) {
        json_t *details = json_object();
        if (details == NULL) {
            return oom(e);
        }
        json_object_set_new(details, "code", json_string("TRINO_DISABLED"));
        cq_dsl_error_planner(e, "TRINO_DISABLED", q->from, "Trino is disabled", details);
        return CQ_EINVAL;
    }
    if (cat->trino_enabled) {
        for (size_t i = 0; i < n_dbs; i++) {
            if (dbs[i]->trino_catalog == NULL) {
                names[k++] = dbs[i]->id;
            }
        }
        if (k > 0) {
            return fail_list(e, q->from, "NO_CATALOG", "No Trino catalog for databases: ",
                             "databases", names, k, a);
        }
    }
    for (size_t i = 1; i < n; i++) {
        if (tables[i]->db != tables[0]->db) {
            names[k++] = tables[i]->id;
        }
    }
    if (k == 0) {
        for (size_t i = 0; i < n; i++) {
            names[k++] = tables[i]->id;
        }
    }
    return fail_list(e, q->from, "UNREACHABLE_TABLES", "Unreachable tables: ", "tables", names,
                     k, a);
}

/* ---- the planner -------------------------------------------------------------------------- */

int cq_dsl_plan(const struct cq_dsl_catalog *cat, const struct cq_dsl_query *q,
                struct cq_dsl_access *acc, struct cq_arena *a, struct cq_dsl_plan *out,
                struct cq_dsl_error *e)
{
    const struct cq_dsl_table **tables = NULL;
    const struct cq_dsl_database **dbs;
    const struct cand *pick;
    struct cand *cands;
    size_t n = 0, n_dbs = 0, n_cands = 0;

    memset(out, 0, sizeof(*out));
    if (cq_dsl_plan_involved(cat, q, a, &tables, &n) != CQ_OK) {
        return oom(e);
    }
    dbs = cq_arena_alloc(a, (n + 1) * sizeof(*dbs));
    if (dbs == NULL) {
        return oom(e);
    }
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t k = 0; k < n_dbs && !seen; k++) {
            seen = dbs[k] == tables[i]->db;
        }
        if (!seen) {
            dbs[n_dbs++] = tables[i]->db;
        }
    }
    if (n > 0 && cache_fits(q, tables[0], acc, n)) {
        out->strategy = CQ_DSL_STRAT_CACHE;
        out->cached = tables[0]->cached;
        out->db = tables[0]->db;
        out->dialect = out->db->dialect;
        return fill_tables(out, tables, n, NULL, a) == CQ_OK ? CQ_OK : oom(e);
    }
    if (n_dbs == 1) {
        out->strategy = CQ_DSL_STRAT_DIRECT;
        out->db = dbs[0];
        out->dialect = out->db->dialect;
        out->catalogs = out->dialect == CQ_DIALECT_TRINO;
        return fill_tables(out, tables, n, NULL, a) == CQ_OK ? CQ_OK : oom(e);
    }
    cands = candidates(cat, dbs, n_dbs, tables, n, a, &n_cands);
    if (cands == NULL) {
        return oom(e);
    }
    pick = n > 1 && n_dbs > 1 ? best(cands, n_cands, q->freshness, true, false) : NULL;
    if (pick != NULL) {
        out->strategy = CQ_DSL_STRAT_MATERIALIZED;
        out->db = pick->db;
        out->dialect = out->db->dialect;
        out->catalogs = out->dialect == CQ_DIALECT_TRINO;
        return fill_tables(out, tables, n, pick->db, a) == CQ_OK ? CQ_OK : oom(e);
    }
    if (cat->trino_enabled) {
        bool all = true;
        for (size_t i = 0; i < n_dbs && all; i++) {
            all = dbs[i]->trino_catalog != NULL;
        }
        if (all) {
            out->strategy = CQ_DSL_STRAT_TRINO;
            out->dialect = CQ_DIALECT_TRINO;
            out->catalogs = true;
            return fill_tables(out, tables, n, NULL, a) == CQ_OK ? CQ_OK : oom(e);
        }
    }
    return fail(q, cat, tables, n, dbs, n_dbs, best(cands, n_cands, q->freshness, false, true),
                a, e);
}
