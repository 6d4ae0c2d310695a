/*
 * access.c - a request's effective rights on one table (spec §3) and its row-level filters
 * (spec §0.13), computed the first time a compile asks for the table.
 *
 * Rights combine as the spec says: an absent scope imposes nothing, a present scope is the
 * UNION of its roles (a column is masked in the scope only if no role of it allows the
 * column unmasked), and the present scopes INTERSECT (allowed iff allowed in every scope,
 * masked iff masked in at least one). Column sets are bitsets indexed by column idx; NULL
 * means "all" for allowed columns and "none" for masked ones.
 *
 * Speed: a compile should take about a microsecond, so nothing is computed for tables the
 * query does not touch, and when a single role decides a table the role's own bitsets
 * from the catalog arena are returned as they are. Only when several roles combine are new
 * bitsets taken from the request arena.
 */
#include <string.h>

#include "dsl/internal.h"

/* What one scope (user or service) says about one table. */
struct scope_rights {
    bool granted;            /* some role of the scope grants the table */
    const uint64_t *allowed; /* NULL = all columns */
    const uint64_t *masked;  /* NULL = none */
    bool lifted;             /* a granting role without row filters */
    size_t n_filtered;       /* granting roles with row filters */
};

static size_t words_of(const struct cq_dsl_table *t)
{
    return t->n_columns == 0 ? 1 : (t->n_columns + 63) / 64;
}

static bool any_bit(const uint64_t *set, size_t words)
{
    for (size_t w = 0; w < words; w++) {
        if (set[w] != 0) {
            return true;
        }
    }
    return false;
}

/* Room for a merged pair of bitsets in the request arena: allowed, then masked. */
static int bitset_pair(struct cq_dsl_access *acc, size_t words, uint64_t **allowed,
                       uint64_t **masked)
{
    *allowed = cq_arena_alloc(acc->a, 2 * words * sizeof(**allowed));
    *masked = *allowed != NULL ? *allowed + words : NULL;
    return *allowed != NULL ? CQ_OK : CQ_ENOMEM;
}

/* The grant of role r for t: NULL when r does not grant it; `all` set for tables "*". */
static const struct cq_dsl_grant *grant_of(const struct cq_dsl_role *r,
                                           const struct cq_dsl_table *t, bool *all)
{
    *all = r->all_tables;
    if (r->all_tables) {
        return NULL;
    }
    return r->by_table != NULL ? r->by_table[t->idx] : NULL;
}

/*
 * Union over the roles of one scope. A lone granting role hands its catalog bitsets
 * back unchanged; two or more are merged word by word into the request arena:
 * allowed = OR allowed_r, unmasked = OR (allowed_r & ~masked_r), masked = allowed &
 * ~unmasked. Returns CQ_ENOMEM only.
 */
static int scope_eval(struct cq_dsl_access *acc, const struct cq_dsl_role *const *roles,
                      size_t n_roles, const struct cq_dsl_table *t, struct scope_rights *out)
{
    const struct cq_dsl_grant *only = NULL;
    size_t n_grants = 0, words = words_of(t);
    bool all_cols = false, all_unmasked = false;
    uint64_t *allowed = NULL, *masked = NULL;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n_roles; i++) {
        bool all;
        const struct cq_dsl_grant *g = grant_of(roles[i], t, &all);
        if (!all && g == NULL) {
            continue;
        }
        out->granted = true;
        if (all || g->n_filters == 0) {
            out->lifted = true;
        } else {
            out->n_filtered++;
        }
        if (all) {
            all_cols = all_unmasked = true; /* tables "*": everything, unmasked */
            continue;
        }
        all_cols = all_cols || g->all_columns;
        if (g->all_columns && g->masked == NULL) {
            all_unmasked = true;
        }
        n_grants++;
        only = g;
    }
    if (!out->granted || all_unmasked) {
        return CQ_OK; /* nothing granted, or every column allowed unmasked: NULL, NULL */
    }
    if (n_grants == 1) {
        out->allowed = only->all_columns ? NULL : only->allowed;
        out->masked = only->masked != NULL && any_bit(only->masked, words) ? only->masked : NULL;
        return CQ_OK;
    }
    /* several grants: merge (roles with tables "*" have set all_unmasked above) */
    if (bitset_pair(acc, words, &allowed, &masked) != CQ_OK) {
        return CQ_ENOMEM;
    }
    for (size_t w = 0; w < words; w++) {
        uint64_t a = 0, unmasked = 0;
        for (size_t i = 0; i < n_roles; i++) {
            bool all;
            const struct cq_dsl_grant *g = grant_of(roles[i], t, &all);
            uint64_t ga;
            if (g == NULL) {
                continue;
            }
            ga = g->all_columns ? ~(uint64_t)0 : g->allowed[w];
            a |= ga;
            unmasked |= ga & (g->masked != NULL ? ~g->masked[w] : ~(uint64_t)0);
        }
        allowed[w] = a;
        masked[w] = a & ~unmasked;
    }
    out->allowed = all_cols ? NULL : allowed;
    out->masked = any_bit(masked, words) ? masked : NULL;
    return CQ_OK;
}

/* Allowed and masked columns across the present scopes (spec §3 rule 4). */
static int combine(struct cq_dsl_access *acc, const struct scope_rights *s, size_t n_s,
                   struct cq_dsl_table_access *ta)
{
    size_t words = words_of(ta->table), n_allowed = 0, n_masked = 0;
    const uint64_t *one_allowed = NULL, *one_masked = NULL;
    uint64_t *allowed, *masked;

    for (size_t i = 0; i < n_s; i++) {
        if (s[i].allowed != NULL) {
            n_allowed++;
            one_allowed = s[i].allowed;
        }
        if (s[i].masked != NULL) {
            n_masked++;
            one_masked = s[i].masked;
        }
    }
    if (n_allowed <= 1 && n_masked <= 1) {
        /* A scope's masked set lies inside its allowed set; it stays inside the
         * intersection only when no other scope narrows the columns. */
        bool inside = n_masked == 0 || n_allowed == 0 || one_allowed == NULL;
        for (size_t i = 0; !inside && i < n_s; i++) {
            inside = s[i].masked == one_masked && s[i].allowed == one_allowed;
        }
        if (inside) {
            ta->cols = one_allowed;
            ta->masked = one_masked;
            return CQ_OK;
        }
    }
    if (bitset_pair(acc, words, &allowed, &masked) != CQ_OK) {
        return CQ_ENOMEM;
    }
    for (size_t w = 0; w < words; w++) {
        uint64_t a = ~(uint64_t)0, m = 0;
        for (size_t i = 0; i < n_s; i++) {
            a &= s[i].allowed != NULL ? s[i].allowed[w] : ~(uint64_t)0;
            m |= s[i].masked != NULL ? s[i].masked[w] : 0;
        }
        allowed[w] = a;
        masked[w] = a & m;
    }
    ta->cols = n_allowed > 0 ? allowed : NULL;
    ta->masked = any_bit(masked, words) ? masked : NULL;
    return CQ_OK;
}

/* contextValues[key], or NULL when absent. */
static const struct cq_dsl_val *context_value(const struct cq_dsl_context *ctx, const char *key)
{
    const struct cq_dsl_val *v;

    if (ctx == NULL || key == NULL) {
        return NULL;
    }
    v = cq_dsl_val_get(ctx->values, key);
    return v != &cq_dsl_null_val ? v : NULL;
}

/* The OR of the filtered granting roles of one scope (none of them lifts it). */
static int scope_rls(struct cq_dsl_access *acc, const struct cq_dsl_role *const *roles,
                     size_t n_roles, const struct cq_dsl_table *t, size_t n_filtered,
                     struct cq_dsl_rls_disj *out)
{
    struct cq_dsl_rls_conj *conjs = cq_arena_alloc(acc->a, n_filtered * sizeof(*conjs));
    size_t n = 0;

    if (conjs == NULL) {
        return CQ_ENOMEM;
    }
    for (size_t i = 0; i < n_roles && n < n_filtered; i++) {
        bool all;
        const struct cq_dsl_grant *g = grant_of(roles[i], t, &all);
        struct cq_dsl_rls_term *terms;
        if (g == NULL) {
            continue;
        }
        terms = cq_arena_alloc(acc->a, g->n_filters * sizeof(*terms));
        if (terms == NULL) {
            return CQ_ENOMEM;
        }
        for (size_t k = 0; k < g->n_filters; k++) {
            terms[k].f = &g->filters[k];
            terms[k].value = context_value(acc->ctx, g->filters[k].context_key);
        }
        conjs[n].role = roles[i]->id;
        conjs[n].terms = terms;
        conjs[n].n_terms = g->n_filters;
        n++;
    }
    out->conjs = conjs;
    out->n_conjs = n;
    return CQ_OK;
}

static int table_eval(struct cq_dsl_access *acc, struct cq_dsl_table_access *ta)
{
    const struct cq_dsl_context *ctx = acc->ctx;
    struct scope_rights s[2];
    const struct cq_dsl_role *const *roles[2];
    size_t n_roles[2], n_s = 0, n_rls = 0;
    struct cq_dsl_rls_disj *rls;
    int rc;

    if (ctx != NULL && ctx->has_user) {
        roles[n_s] = acc->user;
        n_roles[n_s++] = acc->n_user;
    }
    if (ctx != NULL && ctx->has_service) {
        roles[n_s] = acc->service;
        n_roles[n_s++] = acc->n_service;
    }
    ta->allowed = true;
    for (size_t i = 0; i < n_s; i++) {
        rc = scope_eval(acc, roles[i], n_roles[i], ta->table, &s[i]);
        if (rc != CQ_OK) {
            return rc;
        }
        ta->allowed = ta->allowed && s[i].granted;
        n_rls += !s[i].lifted;
    }
    if (!ta->allowed) {
        /* Denied: no column is allowed either (some present scope grants none), and
         * there are no row filters to apply, since nothing will be read. */
        ta->cols = cq_arena_alloc(acc->a, words_of(ta->table) * sizeof(uint64_t));
        return ta->cols != NULL ? CQ_OK : CQ_ENOMEM;
    }
    rc = combine(acc, s, n_s, ta);
    if (rc != CQ_OK || n_rls == 0) {
        return rc;
    }
    rls = cq_arena_alloc(acc->a, n_rls * sizeof(*rls));
    if (rls == NULL) {
        return CQ_ENOMEM;
    }
    ta->rls = rls;
    for (size_t i = 0; i < n_s; i++) {
        if (!s[i].lifted) {
            rc =
                scope_rls(acc, roles[i], n_roles[i], ta->table, s[i].n_filtered, &rls[ta->n_rls++]);
            if (rc != CQ_OK) {
                return rc;
            }
        }
    }
    return CQ_OK;
}

/* Known roles of one scope, in order; unknown ids are skipped (validation reports them). */
static int resolve_scope(struct cq_dsl_access *acc, const char *const *ids, size_t n,
                         const struct cq_dsl_role *const **out, size_t *n_out)
{
    const struct cq_dsl_role **v;

    *out = NULL;
    *n_out = 0;
    if (n == 0) {
        return CQ_OK;
    }
    v = cq_arena_alloc(acc->a, n * sizeof(*v));
    if (v == NULL) {
        return CQ_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct cq_dsl_role *r = cq_dsl_role_by_id(acc->cat, ids[i]);
        if (r != NULL) {
            v[(*n_out)++] = r;
        }
    }
    *out = v;
    return CQ_OK;
}

int cq_dsl_access_init(struct cq_dsl_access *acc, const struct cq_dsl_catalog *cat,
                       const struct cq_dsl_context *ctx, struct cq_arena *a)
{
    int rc = CQ_OK;

    memset(acc, 0, sizeof(*acc));
    acc->cat = cat;
    acc->ctx = ctx;
    acc->a = a;
    if (ctx == NULL) {
        return CQ_OK;
    }
    if (ctx->has_user) {
        rc = resolve_scope(acc, ctx->user, ctx->n_user, &acc->user, &acc->n_user);
    }
    if (rc == CQ_OK && ctx->has_service) {
        rc = resolve_scope(acc, ctx->service, ctx->n_service, &acc->service, &acc->n_service);
    }
    return rc;
}

const struct cq_dsl_table_access *cq_dsl_access_get(struct cq_dsl_access *acc,
                                                    const struct cq_dsl_table *t)
{
    struct cq_dsl_table_access *ta;

    for (size_t i = 0; i < acc->n_seen; i++) {
        if (acc->seen[i].table == t) {
            return &acc->seen[i];
        }
    }
    /* The old array stays in the arena when this one grows, so pointers handed out earlier
     * remain valid (their contents never change after computing). */
    ta = cq_arena_grow(acc->a, acc->seen, acc->n_seen, &acc->cap_seen, sizeof(*ta));
    if (ta == NULL) {
        return NULL;
    }
    acc->seen = ta;
    ta = &acc->seen[acc->n_seen];
    memset(ta, 0, sizeof(*ta));
    ta->table = t;
    if (table_eval(acc, ta) != CQ_OK) {
        return NULL;
    }
    acc->n_seen++;
    return ta;
}
