/*
 * catalog.h - the governed-query catalog: databases, tables, columns, relations, syncs,
 * caches and roles, indexed for constant-time lookups (spec/multidb-wire.md §2, §3, §0.13).
 *
 * A catalog is built once from the spec's MetadataConfig JSON plus a RoleMeta[] JSON array
 * (the YAML `catalog:` / `roles:` sections are converted to that shape by conf), checked
 * with the exact rules of spec §6, and never modified afterwards. Everything it points to
 * lives in its own arena.
 *
 * Ownership and threads: cq_dsl_catalog_new returns a catalog with one reference. Readers
 * that may outlive a reload take their own with cq_dsl_catalog_ref and drop it with
 * cq_dsl_catalog_unref (atomic counts), so an in-flight query keeps its snapshot while a
 * reload swaps in a new catalog (struct cq_dsl_registry in dsl.h).
 */
#ifndef CQ_DSL_CATALOG_H
#define CQ_DSL_CATALOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/err.h"
#include "drv/drv.h"

/* Column types; arrays are the element type plus `array` in struct cq_dsl_column. */
enum cq_dsl_type {
    CQ_DSL_T_STRING = 0,
    CQ_DSL_T_INT,
    CQ_DSL_T_DECIMAL,
    CQ_DSL_T_BOOLEAN,
    CQ_DSL_T_UUID,
    CQ_DSL_T_DATE,
    CQ_DSL_T_TIMESTAMP,
};

/* Masking functions (spec §10.4). NONE on a column means "full" when it gets masked. */
enum cq_dsl_mask {
    CQ_DSL_MASK_NONE = 0,
    CQ_DSL_MASK_EMAIL,
    CQ_DSL_MASK_PHONE,
    CQ_DSL_MASK_NAME,
    CQ_DSL_MASK_UUID,
    CQ_DSL_MASK_NUMBER,
    CQ_DSL_MASK_DATE,
    CQ_DSL_MASK_FULL,
};

enum cq_dsl_engine {
    CQ_DSL_ENGINE_POSTGRES = 0, /* dialect postgres */
    CQ_DSL_ENGINE_CLICKHOUSE,   /* dialect clickhouse */
    CQ_DSL_ENGINE_ICEBERG,      /* dialect trino */
    CQ_DSL_ENGINE_SQLITE,       /* clariq addition: dialect sqlite (the embedded default) */
};

/* Replica lag, ordered (spec §7: seconds < minutes < hours). */
enum cq_dsl_lag { CQ_DSL_LAG_SECONDS = 0, CQ_DSL_LAG_MINUTES, CQ_DSL_LAG_HOURS };

struct cq_dsl_table;
struct cq_dsl_cache;

struct cq_dsl_database {
    const char *id;
    enum cq_dsl_engine engine;
    enum cq_dialect dialect;      /* from the engine */
    const char *trino_catalog;    /* NULL when not reachable through Trino */
    const char *connection;       /* clariq connection serving it: `connection:` or the
                                     catalog's connection map, else a connection named
                                     like the id; NULL when none is configured */
    uint32_t idx;                 /* position in catalog->databases */
};

struct cq_dsl_column {
    const char *api;              /* apiName */
    const char *phys;             /* physicalName */
    enum cq_dsl_type type;        /* element type when `array` */
    bool array;                   /* "string[]" ... */
    bool nullable;
    enum cq_dsl_mask mask_fn;     /* maskingFn; NONE = absent ("full" when masked) */
    const char *type_name;        /* as written: "string", "int[]" ... (for meta.columns) */
    uint32_t idx;                 /* position in table->columns */
};

struct cq_dsl_relation {
    const struct cq_dsl_column *column;      /* own column */
    const struct cq_dsl_table *ref_table;    /* references.table, matched by table id */
    const struct cq_dsl_column *ref_column;  /* references.column in ref_table */
    const char *type;                        /* "many-to-one"... informational */
};

struct cq_dsl_sync {
    const struct cq_dsl_table *source;
    const struct cq_dsl_database *target;
    const char *target_phys;      /* targetPhysicalName */
    enum cq_dsl_lag lag;          /* estimatedLag */
};

struct cq_dsl_cached {
    const struct cq_dsl_cache *cache;
    const struct cq_dsl_table *table;
    const char *key_pattern;      /* "users:{id}" */
    const struct cq_dsl_column **columns; /* cached columns; NULL = all */
    size_t n_columns;
};

struct cq_dsl_cache {
    const char *id;
    const char *engine;           /* "redis" */
    struct cq_dsl_cached *tables;
    size_t n_tables;
};

/* Looking a column up by apiName is a probe in `slots` (open addressing, power of two). */
struct cq_dsl_table {
    const char *id;
    const char *api;              /* apiName */
    const char *phys;             /* physicalName as written: "public.orders" */
    const char *const *phys_parts; /* split on '.': {"public", "orders"} */
    size_t n_phys_parts;
    const struct cq_dsl_database *db;
    struct cq_dsl_column *columns; /* metadata order */
    size_t n_columns;
    const struct cq_dsl_column **pk; /* primaryKey, resolved (unknown names dropped) */
    size_t n_pk;
    size_t n_pk_declared;         /* primaryKey entries as written (byIds message) */
    struct cq_dsl_relation *relations;
    size_t n_relations;
    const struct cq_dsl_sync **syncs; /* syncs whose source is this table, config order */
    size_t n_syncs;
    const struct cq_dsl_cached *cached; /* first cache entry listing this table, or NULL */
    uint32_t idx;                 /* position in catalog->tables */
    uint32_t *col_slots;          /* column index + 1 per slot, 0 = empty */
    uint32_t col_mask;            /* slots - 1 */
};

/* Row-level filter of a role's table entry (spec §0.13). */
enum cq_dsl_rls_op {
    CQ_DSL_RLS_EQ = 0,
    CQ_DSL_RLS_NE,
    CQ_DSL_RLS_IN,
    CQ_DSL_RLS_NOT_IN,
    CQ_DSL_RLS_IS_NULL,
    CQ_DSL_RLS_IS_NOT_NULL,
};

struct cq_dsl_rls_filter {
    const struct cq_dsl_column *column;
    enum cq_dsl_rls_op op;
    const char *context_key;      /* NULL for IS_NULL / IS_NOT_NULL */
};

/* A role's entry for one table. Bitsets hold one bit per column index. */
struct cq_dsl_grant {
    const struct cq_dsl_table *table;
    bool all_columns;             /* allowedColumns "*" */
    const uint64_t *allowed;      /* when !all_columns; unknown names are ignored */
    const uint64_t *masked;       /* maskedColumns; NULL = none */
    const struct cq_dsl_rls_filter *filters;
    size_t n_filters;
};

struct cq_dsl_role {
    const char *id;
    bool all_tables;              /* tables "*" */
    struct cq_dsl_grant *grants;  /* config order */
    size_t n_grants;
    const struct cq_dsl_grant **by_table; /* indexed by table idx: the first grant, or NULL */
};

struct cq_dsl_catalog {
    atomic_int refs;
    struct cq_arena arena;        /* everything below */
    struct cq_dsl_database *databases;
    size_t n_databases;
    struct cq_dsl_table *tables;
    size_t n_tables;
    struct cq_dsl_sync *syncs;
    size_t n_syncs;
    struct cq_dsl_cache *caches;
    size_t n_caches;
    struct cq_dsl_role *roles;
    size_t n_roles;
    bool trino_enabled;           /* metadata trino.enabled == true: plan through Trino
                                     (spec §0.11; executing needs a Trino connection) */
    size_t bitset_words;          /* uint64_t words of the widest table's column bitset */
    void *index;                  /* catalog.c: hash maps of tables (apiName, id), roles,
                                     databases */
};

/*
 * Builds a catalog. metadata: MetadataConfig JSON; roles: RoleMeta[] JSON array (may be
 * NULL = no roles); connections: optional object {databaseId: connectionName}.
 * Returns NULL with:
 *   - CQ_EINVAL and *config_error set to the ConfigError JSON object (spec §6 + §11:
 *     {"code":"CONFIG_INVALID","message":"Config invalid: N errors","errors":[...]}; caller
 *     decrefs) when the metadata or roles are invalid (role problems use code
 *     INVALID_ROLE, a clariq addition, since §6 does not check roles);
 *   - CQ_ENOMEM otherwise (err set).
 */
struct cq_dsl_catalog *cq_dsl_catalog_new(const json_t *metadata, const json_t *roles,
                                          const json_t *connections, json_t **config_error,
                                          struct cq_err *err);
/* Spec §6 on metadata alone (the /validate/config endpoint): NULL when valid, else the
 * ConfigError JSON object (caller decrefs). Never fails otherwise (NULL on ENOMEM too). */
json_t *cq_dsl_config_validate(const json_t *metadata);

struct cq_dsl_catalog *cq_dsl_catalog_ref(struct cq_dsl_catalog *cat);
void cq_dsl_catalog_unref(struct cq_dsl_catalog *cat); /* NULL is a no-op */

/* Lookups; borrowed from the catalog; NULL when absent. */
const struct cq_dsl_table *cq_dsl_table_by_api(const struct cq_dsl_catalog *cat,
                                               const char *api);
const struct cq_dsl_table *cq_dsl_table_by_id(const struct cq_dsl_catalog *cat, const char *id);
const struct cq_dsl_column *cq_dsl_column_by_api(const struct cq_dsl_table *t, const char *api);
const struct cq_dsl_role *cq_dsl_role_by_id(const struct cq_dsl_catalog *cat, const char *id);
const struct cq_dsl_database *cq_dsl_db_by_id(const struct cq_dsl_catalog *cat, const char *id);

/* apiNames (spec §6): 1 to CQ_DSL_API_MAX UTF-16 units matching ^[a-z][a-zA-Z0-9]*$, and
 * none of the words cq_dsl_api_reserved refuses. */
#define CQ_DSL_API_MAX 64
/* Whether name is a reserved word (case-insensitive), which no apiName may be. */
bool cq_dsl_api_reserved(const char *name);

/* "string", "int", ... (element name, without "[]"). */
const char *cq_dsl_type_name(enum cq_dsl_type t);
const char *cq_dsl_dialect_name(enum cq_dialect d); /* "postgres" "clickhouse" "trino" "sqlite" */

static inline bool cq_dsl_bit(const uint64_t *set, uint32_t i)
{
    return (set[i >> 6] >> (i & 63)) & 1u;
}

#endif
