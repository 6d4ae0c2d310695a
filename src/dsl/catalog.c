/*
 * catalog.c - building the catalog from MetadataConfig + RoleMeta[] JSON (after
 * catalog_check.c found nothing wrong), the lookups, and the reference count.
 *
 * Everything lives in the catalog's arena: names are copied, references between entities
 * are resolved to pointers once, and every lookup the compiler does per request is a hash
 * probe (tables by apiName and id, roles and databases by id, columns by apiName per
 * table). Relations resolve references.table by table id, and by apiName when no id
 * matches (the reference validates both but only joins by id; clariq joins either way).
 * A database's connection is its own `connection` member (clariq), else the entry for its
 * id in the connections argument, else NULL; conf fills that argument with a connection
 * named like the database when one exists (conf/catalog.c).
 */
#include <string.h>

#include "base/mem.h"
#include "dsl/catalog_int.h"
#include "dsl/dsl.h"

#define ARENA_CHUNK 16384 /* bytes */

/* What catalog->index points to. */
struct catalog_index {
    struct cq_dsl_smap tables_api;
    struct cq_dsl_smap tables_id;
    struct cq_dsl_smap roles;
    struct cq_dsl_smap dbs;
};

struct build {
    struct cq_dsl_catalog *cat;
    struct catalog_index *ix;
    const json_t *md, *roles, *conns;
    int rc;
};

/* ---- arena helpers ---------------------------------------------------------------------- */

static void *alloc_n(struct build *b, size_t n, size_t size)
{
    size_t bytes;
    void *p = NULL;
    if (cq_size_mul(&bytes, n == 0 ? 1 : n, size)) {
        p = cq_arena_alloc(&b->cat->arena, bytes);
    }
    if (p == NULL) {
        b->rc = CQ_ENOMEM;
    }
    return p;
}

/* A copy of s ("" for NULL: the checks guarantee the strings the builder needs). */
static const char *dup(struct build *b, const char *s)
{
    char *d = cq_arena_strdup(&b->cat->arena, s != NULL ? s : "");
    if (d == NULL) {
        b->rc = CQ_ENOMEM;
        return "";
    }
    return d;
}

static const char *dup_opt(struct build *b, const char *s)
{
    return s != NULL ? dup(b, s) : NULL;
}

/* A table of the catalog being built, writable (lookups hand out const pointers). */
static struct cq_dsl_table *table_mut(struct build *b, const char *id)
{
    long i = cq_dsl_smap_get(&b->ix->tables_id, id);
    return i >= 0 ? &b->cat->tables[i] : NULL;
}

static const json_t *arr(const json_t *o, const char *key)
{
    const json_t *v = cq_dsl_jget(o, key);
    return json_is_array(v) ? v : NULL;
}

/* ---- databases -------------------------------------------------------------------------- */

static void build_databases(struct build *b)
{
    struct cq_dsl_catalog *cat = b->cat;
    const json_t *dbs = arr(b->md, "databases"), *d;
    size_t i;
    cat->n_databases = json_array_size(dbs);
    cat->databases = alloc_n(b, cat->n_databases, sizeof(*cat->databases));
    if (b->rc != CQ_OK || cq_dsl_smap_init(&b->ix->dbs, cat->n_databases, &cat->arena)) {
        b->rc = CQ_ENOMEM;
        return;
    }
    json_array_foreach(dbs, i, d) {
        struct cq_dsl_database *db = &cat->databases[i];
        const char *conn = cq_dsl_jstr(d, "connection");
        db->id = dup(b, cq_dsl_jstr(d, "id"));
        cq_dsl_engine_parse(cq_dsl_jstr(d, "engine"), &db->engine);
        db->dialect = cq_dsl_engine_dialect(db->engine);
        db->trino_catalog = dup_opt(b, cq_dsl_jstr(d, "trinoCatalog"));
        if (conn == NULL) {
            conn = cq_dsl_jstr(b->conns, db->id);
        }
        db->connection = dup_opt(b, conn);
        db->idx = (uint32_t)i;
        cq_dsl_smap_put(&b->ix->dbs, db->id, (uint32_t)i);
    }
}

/* ---- tables and columns ----------------------------------------------------------------- */

static void split_phys(struct build *b, struct cq_dsl_table *t)
{
    size_t n = 1, k = 0;
    for (const char *p = t->phys; *p != '\0'; p++) {
        n += *p == '.';
    }
    const char **parts = alloc_n(b, n, sizeof(*parts));
    if (parts == NULL) {
        return;
    }
    for (const char *p = t->phys;; k++) {
        size_t len = strcspn(p, ".");
        parts[k] = cq_arena_strndup(&b->cat->arena, p, len);
        if (parts[k] == NULL) {
            b->rc = CQ_ENOMEM;
            return;
        }
        if (p[len] == '\0') {
            break;
        }
        p += len + 1;
    }
    t->phys_parts = parts;
    t->n_phys_parts = n;
}

static void build_columns(struct build *b, struct cq_dsl_table *t, const json_t *cols)
{
    const json_t *c;
    size_t j, slots = 8;
    t->n_columns = json_array_size(cols);
    t->columns = alloc_n(b, t->n_columns, sizeof(*t->columns));
    while (slots < 2 * t->n_columns) {
        slots *= 2;
    }
    t->col_slots = alloc_n(b, slots, sizeof(*t->col_slots));
    t->col_mask = (uint32_t)(slots - 1);
    if (b->rc != CQ_OK) {
        return;
    }
    json_array_foreach(cols, j, c) {
        struct cq_dsl_column *col = &t->columns[j];
        col->api = dup(b, cq_dsl_jstr(c, "apiName"));
        col->phys = dup(b, cq_dsl_jstr(c, "physicalName"));
        col->type_name = dup(b, cq_dsl_jstr(c, "type"));
        cq_dsl_type_parse(col->type_name, &col->type, &col->array);
        col->nullable = json_is_true(cq_dsl_jget(c, "nullable"));
        cq_dsl_mask_parse(cq_dsl_jstr(c, "maskingFn"), &col->mask_fn);
        col->idx = (uint32_t)j;
        /* the checks refused duplicates; the first column of a name wins all the same */
        if (cq_dsl_column_by_api(t, col->api) == NULL) {
            uint32_t s = cq_dsl_hash(col->api) & t->col_mask;
            while (t->col_slots[s] != 0) {
                s = (s + 1) & t->col_mask;
            }
            t->col_slots[s] = (uint32_t)j + 1;
        }
    }
}

static void build_pk(struct build *b, struct cq_dsl_table *t, const json_t *pk)
{
    const json_t *v;
    size_t j;
    t->n_pk_declared = json_array_size(pk);
    t->pk = alloc_n(b, t->n_pk_declared, sizeof(*t->pk));
    if (t->pk == NULL) {
        return;
    }
    json_array_foreach(pk, j, v) {
        const struct cq_dsl_column *c = cq_dsl_column_by_api(t, json_string_value(v));
        if (c != NULL) {
            t->pk[t->n_pk++] = c;
        }
    }
}

static void build_tables(struct build *b)
{
    struct cq_dsl_catalog *cat = b->cat;
    const json_t *tables = arr(b->md, "tables"), *j;
    size_t i;
    cat->n_tables = json_array_size(tables);
    cat->tables = alloc_n(b, cat->n_tables, sizeof(*cat->tables));
    if (b->rc != CQ_OK || cq_dsl_smap_init(&b->ix->tables_api, cat->n_tables, &cat->arena) ||
        cq_dsl_smap_init(&b->ix->tables_id, cat->n_tables, &cat->arena)) {
        b->rc = CQ_ENOMEM;
        return;
    }
    json_array_foreach(tables, i, j) {
        struct cq_dsl_table *t = &cat->tables[i];
        t->id = dup(b, cq_dsl_jstr(j, "id"));
        t->api = dup(b, cq_dsl_jstr(j, "apiName"));
        t->phys = dup(b, cq_dsl_jstr(j, "physicalName"));
        t->db = cq_dsl_db_by_id(cat, cq_dsl_jstr(j, "database"));
        t->idx = (uint32_t)i;
        split_phys(b, t);
        build_columns(b, t, arr(j, "columns"));
        if (b->rc != CQ_OK) {
            return;
        }
        build_pk(b, t, arr(j, "primaryKey"));
        cq_dsl_smap_put(&b->ix->tables_api, t->api, (uint32_t)i);
        cq_dsl_smap_put(&b->ix->tables_id, t->id, (uint32_t)i);
        if (t->n_columns > cat->bitset_words * 64) {
            cat->bitset_words = (t->n_columns + 63) / 64;
        }
    }
    if (cat->bitset_words == 0) {
        cat->bitset_words = 1;
    }
}

/* ---- relations, syncs, caches ----------------------------------------------------------- */

static void build_relations(struct build *b)
{
    struct cq_dsl_catalog *cat = b->cat;
    for (size_t i = 0; i < cat->n_tables && b->rc == CQ_OK; i++) {
        struct cq_dsl_table *t = &cat->tables[i];
        const json_t *rels = arr(json_array_get(arr(b->md, "tables"), i), "relations"), *r;
        size_t j;
        t->n_relations = json_array_size(rels);
        t->relations = alloc_n(b, t->n_relations, sizeof(*t->relations));
        json_array_foreach(t->relations != NULL ? rels : NULL, j, r) {
            struct cq_dsl_relation *rel = &t->relations[j];
            const json_t *ref = cq_dsl_jget(r, "references");
            const char *rt = cq_dsl_jstr(ref, "table");
            rel->column = cq_dsl_column_by_api(t, cq_dsl_jstr(r, "column"));
            rel->ref_table = cq_dsl_table_by_id(cat, rt);
            if (rel->ref_table == NULL) {
                rel->ref_table = cq_dsl_table_by_api(cat, rt);
            }
            rel->ref_column = rel->ref_table != NULL
                                  ? cq_dsl_column_by_api(rel->ref_table, cq_dsl_jstr(ref, "column"))
                                  : NULL;
            rel->type = dup_opt(b, cq_dsl_jstr(r, "type"));
            if (rel->column == NULL || rel->ref_table == NULL || rel->ref_column == NULL) {
                b->rc = CQ_EINTERNAL; /* the checks should have refused it */
            }
        }
    }
}

static void build_syncs(struct build *b)
{
    struct cq_dsl_catalog *cat = b->cat;
    const json_t *syncs = arr(b->md, "externalSyncs"), *s;
    size_t i;
    cat->n_syncs = json_array_size(syncs);
    cat->syncs = alloc_n(b, cat->n_syncs, sizeof(*cat->syncs));
    /* count per source table first, so each table's list is one allocation */
    json_array_foreach(b->rc == CQ_OK ? syncs : NULL, i, s) {
        struct cq_dsl_table *src = table_mut(b, cq_dsl_jstr(s, "sourceTable"));
        if (src == NULL) {
            b->rc = CQ_EINTERNAL; /* the checks should have refused it */
            return;
        }
        src->n_syncs++;
    }
    for (size_t t = 0; t < cat->n_tables && b->rc == CQ_OK; t++) {
        cat->tables[t].syncs = alloc_n(b, cat->tables[t].n_syncs, sizeof(*cat->tables[t].syncs));
        cat->tables[t].n_syncs = 0;
    }
    json_array_foreach(b->rc == CQ_OK ? syncs : NULL, i, s) {
        struct cq_dsl_sync *sy = &cat->syncs[i];
        struct cq_dsl_table *src = table_mut(b, cq_dsl_jstr(s, "sourceTable"));
        sy->source = src;
        sy->target = cq_dsl_db_by_id(cat, cq_dsl_jstr(s, "targetDatabase"));
        sy->target_phys = dup(b, cq_dsl_jstr(s, "targetPhysicalName"));
        cq_dsl_lag_parse(cq_dsl_jstr(s, "estimatedLag"), &sy->lag);
        if (sy->target == NULL) {
            b->rc = CQ_EINTERNAL;
            return;
        }
        src->syncs[src->n_syncs++] = sy;
    }
}

static void build_cached(struct build *b, struct cq_dsl_cache *cache, size_t j, const json_t *ct)
{
    struct cq_dsl_cached *e = &cache->tables[j];
    const json_t *cols = cq_dsl_jget(ct, "columns"), *v;
    struct cq_dsl_table *t = table_mut(b, cq_dsl_jstr(ct, "tableId"));
    size_t k;
    if (t == NULL) {
        b->rc = CQ_EINTERNAL;
        return;
    }
    e->cache = cache;
    e->table = t;
    e->key_pattern = dup(b, cq_dsl_jstr(ct, "keyPattern"));
    if (cols != NULL) {
        const struct cq_dsl_column **cv = alloc_n(b, json_array_size(cols), sizeof(*cv));
        json_array_foreach(cv != NULL ? cols : NULL, k, v) {
            cv[k] = cq_dsl_column_by_api(t, json_string_value(v));
        }
        e->columns = cv;
        e->n_columns = json_array_size(cols);
    }
    if (t->cached == NULL) {
        t->cached = e;
    }
}

static void build_caches(struct build *b)
{
    struct cq_dsl_catalog *cat = b->cat;
    const json_t *caches = arr(b->md, "caches"), *c, *ct;
    size_t i, j;
    cat->n_caches = json_array_size(caches);
    cat->caches = alloc_n(b, cat->n_caches, sizeof(*cat->caches));
    json_array_foreach(b->rc == CQ_OK ? caches : NULL, i, c) {
        struct cq_dsl_cache *cache = &cat->caches[i];
        const json_t *tables = arr(c, "tables");
        cache->id = dup(b, cq_dsl_jstr(c, "id"));
        cache->engine = dup(b, cq_dsl_jstr(c, "engine") ? cq_dsl_jstr(c, "engine") : "redis");
        cache->n_tables = json_array_size(tables);
        cache->tables = alloc_n(b, cache->n_tables, sizeof(*cache->tables));
        json_array_foreach(cache->tables != NULL ? tables : NULL, j, ct) {
            build_cached(b, cache, j, ct);
        }
    }
}

/* ---- roles ------------------------------------------------------------------------------ */

/* Sets the bit of every listed column of t (names were checked). */
static uint64_t *col_bits(struct build *b, const struct cq_dsl_table *t, const json_t *names)
{
    uint64_t *set = alloc_n(b, b->cat->bitset_words, sizeof(*set));
    const json_t *v;
    size_t j;
    json_array_foreach(set != NULL ? names : NULL, j, v) {
        const struct cq_dsl_column *c = cq_dsl_column_by_api(t, json_string_value(v));
        if (c != NULL) {
            set[c->idx >> 6] |= (uint64_t)1 << (c->idx & 63);
        }
    }
    return set;
}

static void build_filters(struct build *b, struct cq_dsl_grant *g, const json_t *filters)
{
    struct cq_dsl_rls_filter *fs = alloc_n(b, json_array_size(filters), sizeof(*fs));
    const json_t *f;
    size_t k;
    json_array_foreach(fs != NULL ? filters : NULL, k, f) {
        fs[k].column = cq_dsl_column_by_api(g->table, cq_dsl_jstr(f, "column"));
        cq_dsl_rls_op_parse(cq_dsl_jstr(f, "operator"), &fs[k].op);
        fs[k].context_key = fs[k].op == CQ_DSL_RLS_IS_NULL || fs[k].op == CQ_DSL_RLS_IS_NOT_NULL
                                ? NULL
                                : dup(b, cq_dsl_jstr(f, "contextKey"));
        if (fs[k].column == NULL) {
            b->rc = CQ_EINTERNAL;
        }
    }
    g->filters = fs;
    g->n_filters = json_array_size(filters);
}

static void build_grant(struct build *b, struct cq_dsl_grant *g, const json_t *j)
{
    const json_t *allowed = cq_dsl_jget(j, "allowedColumns"), *masked = arr(j, "maskedColumns");
    g->table = cq_dsl_table_by_id(b->cat, cq_dsl_jstr(j, "tableId"));
    if (g->table == NULL) {
        b->rc = CQ_EINTERNAL;
        return;
    }
    g->all_columns = json_is_string(allowed);
    if (!g->all_columns) {
        g->allowed = col_bits(b, g->table, allowed);
    }
    if (json_array_size(masked) > 0) {
        uint64_t *m = col_bits(b, g->table, masked);
        /* maskedColumns only count for columns the grant allows */
        for (size_t w = 0; m != NULL && g->allowed != NULL && w < b->cat->bitset_words; w++) {
            m[w] &= g->allowed[w];
        }
        g->masked = m;
    }
    build_filters(b, g, arr(j, "filters"));
}

static void build_role(struct build *b, struct cq_dsl_role *role, const json_t *j)
{
    const json_t *tables = cq_dsl_jget(j, "tables"), *g;
    size_t k;
    const struct cq_dsl_grant **by_table;
    role->id = dup(b, cq_dsl_jstr(j, "id"));
    role->all_tables = json_is_string(tables);
    by_table = alloc_n(b, b->cat->n_tables, sizeof(*by_table));
    role->by_table = by_table;
    if (role->all_tables || by_table == NULL) {
        return;
    }
    role->n_grants = json_array_size(tables);
    role->grants = alloc_n(b, role->n_grants, sizeof(*role->grants));
    json_array_foreach(role->grants != NULL ? tables : NULL, k, g) {
        build_grant(b, &role->grants[k], g);
        if (b->rc != CQ_OK) {
            return;
        }
        if (by_table[role->grants[k].table->idx] == NULL) {
            by_table[role->grants[k].table->idx] = &role->grants[k]; /* first match */
        }
    }
}

static void build_roles(struct build *b)
{
    struct cq_dsl_catalog *cat = b->cat;
    const json_t *r;
    size_t i;
    cat->n_roles = json_array_size(b->roles);
    cat->roles = alloc_n(b, cat->n_roles, sizeof(*cat->roles));
    if (b->rc != CQ_OK || cq_dsl_smap_init(&b->ix->roles, cat->n_roles, &cat->arena)) {
        b->rc = CQ_ENOMEM;
        return;
    }
    json_array_foreach(b->roles, i, r) {
        build_role(b, &cat->roles[i], r);
        if (b->rc != CQ_OK) {
            return;
        }
        cq_dsl_smap_put(&b->ix->roles, cat->roles[i].id, (uint32_t)i);
    }
}

/* ---- entry points ----------------------------------------------------------------------- */

static int build(struct build *b)
{
    const json_t *trino = cq_dsl_jget(b->md, "trino");
    b->ix = alloc_n(b, 1, sizeof(*b->ix));
    if (b->ix == NULL) {
        return b->rc;
    }
    b->cat->index = b->ix;
    b->cat->trino_enabled = json_is_true(cq_dsl_jget(trino, "enabled"));
    build_databases(b);
    if (b->rc == CQ_OK) {
        build_tables(b);
    }
    if (b->rc == CQ_OK) {
        build_relations(b);
    }
    if (b->rc == CQ_OK) {
        build_syncs(b);
    }
    if (b->rc == CQ_OK) {
        build_caches(b);
    }
    if (b->rc == CQ_OK) {
        build_roles(b);
    }
    return b->rc;
}

/* "catalog: <first message> (and N more)" for err when the config is refused. */
static void refused(const json_t *errors, struct cq_err *err)
{
    size_t n = json_array_size(errors);
    const char *first = cq_dsl_jstr(json_array_get(errors, 0), "message");
    const char *code = cq_dsl_jstr(json_array_get(errors, 0), "code");
    cq_err_set(err, CQ_EINVAL, "catalog: %s: %s%s", code ? code : "?", first ? first : "?",
               n > 1 ? " (and more)" : "");
}

struct cq_dsl_catalog *cq_dsl_catalog_new(const json_t *metadata, const json_t *roles,
                                          const json_t *connections, json_t **config_error,
                                          struct cq_err *err)
{
    struct build b = {.md = metadata, .roles = roles, .conns = connections};
    json_t *errors = json_array();
    struct cq_dsl_catalog *cat = NULL;
    if (config_error != NULL) {
        *config_error = NULL;
    }
    if (errors == NULL || cq_dsl_catalog_check(metadata, roles, true, errors) != CQ_OK) {
        cq_err_set(err, CQ_ENOMEM, "catalog: out of memory");
        goto out;
    }
    if (json_array_size(errors) > 0) {
        refused(errors, err);
        if (config_error != NULL) {
            *config_error = cq_dsl_config_error(errors);
            errors = NULL;
        }
        goto out;
    }
    cat = cq_calloc(1, sizeof(*cat));
    if (cat == NULL) {
        cq_err_set(err, CQ_ENOMEM, "catalog: out of memory");
        goto out;
    }
    atomic_init(&cat->refs, 1);
    cq_arena_init(&cat->arena, ARENA_CHUNK, 0);
    b.cat = cat;
    if (build(&b) != CQ_OK) {
        cq_err_set(err, b.rc, "catalog: %s",
                   b.rc == CQ_ENOMEM ? "out of memory" : "internal error (unchecked reference)");
        cq_arena_free(&cat->arena);
        cq_free(cat);
        cat = NULL;
    }
out:
    json_decref(errors);
    return cat;
}

struct cq_dsl_catalog *cq_dsl_catalog_ref(struct cq_dsl_catalog *cat)
{
    if (cat != NULL) {
        atomic_fetch_add_explicit(&cat->refs, 1, memory_order_relaxed);
    }
    return cat;
}

void cq_dsl_catalog_unref(struct cq_dsl_catalog *cat)
{
    if (cat == NULL || atomic_fetch_sub_explicit(&cat->refs, 1, memory_order_acq_rel) != 1) {
        return;
    }
    cq_arena_free(&cat->arena);
    cq_free(cat);
}

/* ---- lookups ---------------------------------------------------------------------------- */

static const struct catalog_index *index_of(const struct cq_dsl_catalog *cat)
{
    return cat != NULL ? cat->index : NULL;
}

const struct cq_dsl_table *cq_dsl_table_by_api(const struct cq_dsl_catalog *cat, const char *api)
{
    const struct catalog_index *ix = index_of(cat);
    long i = ix != NULL ? cq_dsl_smap_get(&ix->tables_api, api) : -1;
    return i >= 0 ? &cat->tables[i] : NULL;
}

const struct cq_dsl_table *cq_dsl_table_by_id(const struct cq_dsl_catalog *cat, const char *id)
{
    const struct catalog_index *ix = index_of(cat);
    long i = ix != NULL ? cq_dsl_smap_get(&ix->tables_id, id) : -1;
    return i >= 0 ? &cat->tables[i] : NULL;
}

const struct cq_dsl_role *cq_dsl_role_by_id(const struct cq_dsl_catalog *cat, const char *id)
{
    const struct catalog_index *ix = index_of(cat);
    long i = ix != NULL ? cq_dsl_smap_get(&ix->roles, id) : -1;
    return i >= 0 ? &cat->roles[i] : NULL;
}

const struct cq_dsl_database *cq_dsl_db_by_id(const struct cq_dsl_catalog *cat, const char *id)
{
    const struct catalog_index *ix = index_of(cat);
    long i = ix != NULL ? cq_dsl_smap_get(&ix->dbs, id) : -1;
    return i >= 0 ? &cat->databases[i] : NULL;
}

const struct cq_dsl_column *cq_dsl_column_by_api(const struct cq_dsl_table *t, const char *api)
{
    if (t == NULL || api == NULL || t->col_slots == NULL) {
        return NULL;
    }
    for (uint32_t s = cq_dsl_hash(api) & t->col_mask; t->col_slots[s] != 0;
         s = (s + 1) & t->col_mask) {
        const struct cq_dsl_column *c = &t->columns[t->col_slots[s] - 1];
        if (strcmp(c->api, api) == 0) {
            return c;
        }
    }
    return NULL;
}

const char *cq_dsl_type_name(enum cq_dsl_type t)
{
    static const char *const names[] = {"string", "int", "decimal", "boolean",
                                        "uuid", "date", "timestamp"};
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "string";
}

const char *cq_dsl_dialect_name(enum cq_dialect d)
{
    switch (d) {
    case CQ_DIALECT_PG:
        return "postgres";
    case CQ_DIALECT_CH:
        return "clickhouse";
    case CQ_DIALECT_TRINO:
        return "trino";
    case CQ_DIALECT_SQLITE:
        return "sqlite";
    case CQ_DIALECT_NONE:
        break;
    }
    return "none";
}
