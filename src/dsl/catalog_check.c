/*
 * catalog_check.c - spec §6 (validateConfig) with its exact order, codes, messages and
 * details, plus what clariq checks on top before it builds a catalog:
 *
 *   - shapes: the reference trusts its TypeScript types, so a table without a columns
 *     array crashes it; here every JSON value of the wrong type becomes an entry
 *     (INVALID_API_NAME / INVALID_REFERENCE / INVALID_RELATION / INVALID_SYNC /
 *     INVALID_CACHE where the field belongs to one of those rules, else INVALID_CONFIG),
 *     reported where the spec's walk meets that value;
 *   - values the engine needs: engine, column type, maskingFn, estimatedLag, non-empty
 *     physical names (INVALID_CONFIG / INVALID_SYNC);
 *   - at load only: duplicate database, table and cache ids (INVALID_CONFIG), and roles
 *     (INVALID_ROLE), which §6 never looks at.
 *
 * Every entry is {code, message, details} with details keys in the order entity, field,
 * expected, actual, database, cacheId (those that apply). Optional members that are JSON
 * null count as absent, and so do absent arrays (databases, caches, externalSyncs,
 * relations...): an empty YAML section converts to null.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"
#include "dsl/catalog_int.h"
#include "dsl/dsl.h"

#define MSG_MAX (256u << 10) /* bytes of one message; ids are quoted whole */

struct chk {
    struct cq_arena a;            /* scratch: maps and labels */
    json_t *errors;
    int rc;                       /* sticky CQ_ENOMEM */
    bool load;
    const json_t *dbs, *tables, *syncs, *caches; /* arrays, or NULL */
    size_t n_tables;
    const char **tlabel;          /* per table: its id, or "tables[i]" */
    struct cq_dsl_smap db_ids;    /* database id -> index */
    struct cq_dsl_smap by_id;     /* table id -> index (first) */
    struct cq_dsl_smap by_api;    /* table apiName -> index (first) */
    struct cq_dsl_smap *cols;     /* per table: column apiName -> index (first) */
};

/* ---- small helpers --------------------------------------------------------------------- */

uint32_t cq_dsl_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 16777619u;
    }
    return h;
}

int cq_dsl_smap_init(struct cq_dsl_smap *m, size_t n, struct cq_arena *a)
{
    size_t slots = 8, kb, vb;
    while (slots < 2 * n && slots < ((size_t)1 << 31)) {
        slots *= 2;
    }
    if (n > slots / 2 || !cq_size_mul(&kb, slots, sizeof(*m->keys)) ||
        !cq_size_mul(&vb, slots, sizeof(*m->vals))) {
        return CQ_ENOMEM;
    }
    m->keys = cq_arena_alloc(a, kb);
    m->vals = cq_arena_alloc(a, vb);
    m->mask = (uint32_t)(slots - 1);
    return m->keys != NULL && m->vals != NULL ? CQ_OK : CQ_ENOMEM;
}

bool cq_dsl_smap_put(struct cq_dsl_smap *m, const char *key, uint32_t val)
{
    for (uint32_t i = cq_dsl_hash(key) & m->mask;; i = (i + 1) & m->mask) {
        if (m->vals[i] == 0) {
            m->keys[i] = key;
            m->vals[i] = val + 1;
            return true;
        }
        if (strcmp(m->keys[i], key) == 0) {
            return false;
        }
    }
}

long cq_dsl_smap_get(const struct cq_dsl_smap *m, const char *key)
{
    if (m->vals == NULL || key == NULL) {
        return -1;
    }
    for (uint32_t i = cq_dsl_hash(key) & m->mask; m->vals[i] != 0; i = (i + 1) & m->mask) {
        if (strcmp(m->keys[i], key) == 0) {
            return (long)m->vals[i] - 1;
        }
    }
    return -1;
}

const json_t *cq_dsl_jget(const json_t *o, const char *key)
{
    const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    return json_is_null(v) ? NULL : v;
}

const char *cq_dsl_jstr(const json_t *o, const char *key)
{
    return json_string_value(cq_dsl_jget(o, key));
}

const char *cq_dsl_jkind(const json_t *v)
{
    switch (v == NULL ? JSON_NULL : json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        break;
    }
    return v == NULL ? "absent" : "null";
}

/* The kind of member key of o: "null" when written as null, "absent" when missing. */
static const char *mkind(const json_t *o, const char *key)
{
    return cq_dsl_jkind(json_is_object(o) ? json_object_get(o, key) : NULL);
}

static int name_index(const char *s, const char *const *names)
{
    for (int i = 0; s != NULL && names[i] != NULL; i++) {
        if (strcmp(s, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

static const char *const type_names[] = {"string", "int", "decimal", "boolean",
                                         "uuid", "date", "timestamp", NULL};
static const char *const engine_names[] = {"postgres", "clickhouse", "iceberg", "sqlite", NULL};
static const char *const mask_names[] = {"", "email", "phone", "name", "uuid",
                                         "number", "date", "full", NULL};
static const char *const lag_names[] = {"seconds", "minutes", "hours", NULL};
static const char *const rls_names[] = {"=", "!=", "in", "notIn", "isNull", "isNotNull", NULL};

bool cq_dsl_type_parse(const char *s, enum cq_dsl_type *t, bool *array)
{
    char base[16];
    size_t n = s != NULL ? strlen(s) : 0;
    bool arr = n > 2 && strcmp(s + n - 2, "[]") == 0;
    if (n == 0 || n >= sizeof(base) + 2) {
        return false;
    }
    cq_strlcpy(base, s, arr ? n - 1 : sizeof(base));
    int i = name_index(base, type_names);
    if (i < 0) {
        return false;
    }
    *t = (enum cq_dsl_type)i;
    *array = arr;
    return true;
}

bool cq_dsl_engine_parse(const char *s, enum cq_dsl_engine *e)
{
    int i = name_index(s, engine_names);
    *e = i < 0 ? CQ_DSL_ENGINE_POSTGRES : (enum cq_dsl_engine)i;
    return i >= 0;
}

bool cq_dsl_mask_parse(const char *s, enum cq_dsl_mask *m)
{
    int i = s != NULL && *s != '\0' ? name_index(s, mask_names) : -1;
    *m = i < 0 ? CQ_DSL_MASK_NONE : (enum cq_dsl_mask)i;
    return i > 0;
}

bool cq_dsl_lag_parse(const char *s, enum cq_dsl_lag *l)
{
    int i = name_index(s, lag_names);
    *l = i < 0 ? CQ_DSL_LAG_SECONDS : (enum cq_dsl_lag)i;
    return i >= 0;
}

bool cq_dsl_rls_op_parse(const char *s, enum cq_dsl_rls_op *op)
{
    int i = name_index(s, rls_names);
    *op = i < 0 ? CQ_DSL_RLS_EQ : (enum cq_dsl_rls_op)i;
    return i >= 0;
}

enum cq_dialect cq_dsl_engine_dialect(enum cq_dsl_engine e)
{
    switch (e) {
    case CQ_DSL_ENGINE_CLICKHOUSE:
        return CQ_DIALECT_CH;
    case CQ_DSL_ENGINE_ICEBERG:
        return CQ_DIALECT_TRINO;
    case CQ_DSL_ENGINE_SQLITE:
        return CQ_DIALECT_SQLITE;
    case CQ_DSL_ENGINE_POSTGRES:
        break;
    }
    return CQ_DIALECT_PG;
}

/* ---- entries --------------------------------------------------------------------------- */

/* Details in the spec's key order; NULL members are left out. */
struct det {
    const char *entity, *field, *expected, *actual, *database, *cache_id;
};

static void put(struct chk *c, json_t *o, const char *key, const char *val)
{
    if (val != NULL && json_object_set_new(o, key, json_string(val)) != 0) {
        c->rc = CQ_ENOMEM;
    }
}

static void add(struct chk *c, const char *code, struct det d, const char *fmt, ...)
    CQ_PRINTF(4, 5);

static void add(struct chk *c, const char *code, struct det d, const char *fmt, ...)
{
    struct cq_buf b;
    va_list ap;
    json_t *details = json_object(), *entry = NULL;
    if (c->rc != CQ_OK || details == NULL) {
        c->rc = CQ_ENOMEM;
        json_decref(details);
        return;
    }
    put(c, details, "entity", d.entity);
    put(c, details, "field", d.field);
    put(c, details, "expected", d.expected);
    put(c, details, "actual", d.actual);
    put(c, details, "database", d.database);
    put(c, details, "cacheId", d.cache_id);
    cq_buf_init(&b, MSG_MAX);
    va_start(ap, fmt);
    cq_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (cq_buf_rc(&b) == CQ_OK) {
        entry = cq_dsl_entry(code, cq_buf_str(&b), details);
        details = NULL;
    }
    cq_buf_cleanup(&b);
    json_decref(details);
    if (entry == NULL || json_array_append_new(c->errors, entry) != 0) {
        c->rc = CQ_ENOMEM;
    }
}

/* "tables[3]" and the like, in the scratch arena ("?" when out of memory). */
static const char *labelf(struct chk *c, const char *what, size_t i)
{
    const char *s = cq_arena_printf(&c->a, "%s[%zu]", what, i);
    if (s == NULL) {
        c->rc = CQ_ENOMEM;
        return "?";
    }
    return s;
}

/* An array member: NULL when absent or null; reports (and returns NULL) a wrong type. */
static const json_t *opt_array(struct chk *c, const json_t *o, const char *key, const char *code,
                               const char *entity, const char *owner)
{
    const json_t *v = cq_dsl_jget(o, key);
    if (v != NULL && !json_is_array(v)) {
        add(c, code, (struct det){entity, key, "array", cq_dsl_jkind(v), NULL, NULL},
            "%s%s must be an array, got %s", owner, key, cq_dsl_jkind(v));
        return NULL;
    }
    return v;
}

/* UTF-16 length of UTF-8 text, as JavaScript's String.length counts it. */
static size_t js_length(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if ((*p & 0xC0) != 0x80) {
            n += *p >= 0xF0 ? 2 : 1;
        }
    }
    return n;
}

bool cq_dsl_api_reserved(const char *s)
{
    static const char *const words[] = {
        "from", "select", "where", "having", "limit", "offset", "order", "group", "join",
        "distinct", "exists", "null", "true", "false", "and", "or", "not", "in", "like",
        "as", "on", "by", "asc", "desc", "count", "sum", "avg", "min", "max", NULL};
    for (size_t i = 0; words[i] != NULL; i++) {
        if (cq_streq_ci(s, words[i])) {
            return true;
        }
    }
    return false;
}

/* The spec's validateApiName: NULL when fine, else the rule message (in the arena). */
static const char *api_problem(struct chk *c, const char *name)
{
    size_t n = js_length(name);
    const char *s;
    if (n < 1 || n > CQ_DSL_API_MAX) {
        /* "1–64": an EN DASH, as the reference writes it */
        s = cq_arena_printf(&c->a, "apiName must be 1\xe2\x80\x93%d characters, got %zu",
                            CQ_DSL_API_MAX, n);
    } else if (!(name[0] >= 'a' && name[0] <= 'z') ||
               strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") !=
                   strlen(name)) {
        s = cq_arena_printf(&c->a, "apiName must match ^[a-z][a-zA-Z0-9]*$, got '%s'", name);
    } else if (cq_dsl_api_reserved(name)) {
        s = cq_arena_printf(&c->a, "apiName '%s' is a reserved word", name);
    } else {
        return NULL;
    }
    if (s == NULL) {
        c->rc = CQ_ENOMEM;
        return "?";
    }
    return s;
}

/* A required non-empty string member; reports a problem with code. */
static const char *need_str(struct chk *c, const json_t *o, const char *key, const char *code,
                            const char *entity, const char *owner)
{
    const json_t *v = cq_dsl_jget(o, key);
    const char *s = json_string_value(v);
    if (s == NULL || *s == '\0') {
        add(c, code, (struct det){entity, key, "string", s != NULL ? "" : mkind(o, key), NULL,
                                  NULL},
            "%s%s must be a non-empty string, got %s", owner, key,
            s != NULL ? "''" : mkind(o, key));
        return NULL;
    }
    return s;
}

/* An optional string member (absent/null fine); reports another type. */
static void opt_str(struct chk *c, const json_t *o, const char *key, const char *code,
                    const char *entity, const char *owner)
{
    const json_t *v = cq_dsl_jget(o, key);
    if (v != NULL && !json_is_string(v)) {
        add(c, code, (struct det){entity, key, "string", cq_dsl_jkind(v), NULL, NULL},
            "%s%s must be a string, got %s", owner, key, cq_dsl_jkind(v));
    }
}

/* "public.orders": every part non-empty (a quoted "" is no identifier). */
static void check_phys(struct chk *c, const char *phys, const char *code, const char *entity,
                       const char *field, const char *owner)
{
    size_t n = strlen(phys);
    if (phys[0] == '.' || phys[n - 1] == '.' || strstr(phys, "..") != NULL) {
        add(c, code, (struct det){entity, field, NULL, phys, NULL, NULL},
            "%s%s '%s' has an empty part (write schema.table or table)", owner, field, phys);
    }
}

/* ---- indexes --------------------------------------------------------------------------- */

static int build_indexes(struct chk *c)
{
    size_t n_db = json_array_size(c->dbs), n = c->n_tables;
    c->tlabel = cq_arena_alloc(&c->a, (n + 1) * sizeof(*c->tlabel));
    c->cols = cq_arena_alloc(&c->a, (n + 1) * sizeof(*c->cols));
    if (c->tlabel == NULL || c->cols == NULL || cq_dsl_smap_init(&c->db_ids, n_db, &c->a) ||
        cq_dsl_smap_init(&c->by_id, n, &c->a) || cq_dsl_smap_init(&c->by_api, n, &c->a)) {
        return c->rc = CQ_ENOMEM;
    }
    for (size_t i = 0; i < n_db; i++) {
        const char *id = cq_dsl_jstr(json_array_get(c->dbs, i), "id");
        if (id != NULL) {
            cq_dsl_smap_put(&c->db_ids, id, (uint32_t)i);
        }
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_array_get(c->tables, i);
        const char *id = cq_dsl_jstr(t, "id");
        c->tlabel[i] = id != NULL ? id : labelf(c, "tables", i);
        if (id != NULL) {
            cq_dsl_smap_put(&c->by_id, id, (uint32_t)i);
        }
        /* apiName index and column sets are filled by the table pass, in order, so
         * "first" means what the reference's Map would hold at that point */
    }
    return c->rc;
}

/* The table a relation / cache / role names: by id, else (relations only) by apiName. */
static long table_ref(const struct chk *c, const char *name, bool by_api)
{
    long i = cq_dsl_smap_get(&c->by_id, name);
    return i < 0 && by_api ? cq_dsl_smap_get(&c->by_api, name) : i;
}

static bool has_col(const struct chk *c, long t, const char *col)
{
    return t >= 0 && cq_dsl_smap_get(&c->cols[t], col) >= 0;
}

/* ---- top level and databases ----------------------------------------------------------- */

static void check_top(struct chk *c, const json_t *md)
{
    const json_t *trino = cq_dsl_jget(md, "trino");
    c->dbs = opt_array(c, md, "databases", "INVALID_CONFIG", NULL, "");
    c->tables = opt_array(c, md, "tables", "INVALID_CONFIG", NULL, "");
    c->caches = opt_array(c, md, "caches", "INVALID_CONFIG", NULL, "");
    c->syncs = opt_array(c, md, "externalSyncs", "INVALID_CONFIG", NULL, "");
    c->n_tables = json_array_size(c->tables);
    if (trino != NULL && !json_is_object(trino)) {
        add(c, "INVALID_CONFIG", (struct det){"trino", NULL, "object", cq_dsl_jkind(trino), NULL,
                                               NULL},
            "trino must be an object such as {\"enabled\": true}, got %s", cq_dsl_jkind(trino));
    } else if (trino != NULL && cq_dsl_jget(trino, "enabled") != NULL &&
               !json_is_boolean(cq_dsl_jget(trino, "enabled"))) {
        add(c, "INVALID_CONFIG",
            (struct det){"trino", "enabled", "boolean",
                         mkind(trino, "enabled"), NULL, NULL},
            "trino.enabled must be true or false, got %s",
            mkind(trino, "enabled"));
    }
}

static void check_database(struct chk *c, size_t i, const json_t *d)
{
    const char *lbl = labelf(c, "databases", i), *id, *engine;
    enum cq_dsl_engine e;
    if (!json_is_object(d)) {
        add(c, "INVALID_CONFIG", (struct det){lbl, NULL, "object", cq_dsl_jkind(d), NULL, NULL},
            "%s must be an object, got %s", lbl, cq_dsl_jkind(d));
        return;
    }
    id = need_str(c, d, "id", "INVALID_CONFIG", lbl, cq_arena_printf(&c->a, "%s: ", lbl));
    lbl = id != NULL ? id : lbl;
    const char *owner = cq_arena_printf(&c->a, "Database '%s': ", lbl);
    if (owner == NULL) {
        c->rc = CQ_ENOMEM;
        return;
    }
    engine = cq_dsl_jstr(d, "engine");
    if (!cq_dsl_engine_parse(engine, &e)) {
        add(c, "INVALID_CONFIG",
            (struct det){lbl, "engine", "postgres|clickhouse|iceberg|sqlite",
                         engine != NULL ? engine : mkind(d, "engine"), NULL,
                         NULL},
            "%sengine must be one of postgres, clickhouse, iceberg, sqlite, got %s%s%s", owner,
            engine != NULL ? "'" : "",
            engine != NULL ? engine : mkind(d, "engine"),
            engine != NULL ? "'" : "");
    }
    opt_str(c, d, "trinoCatalog", "INVALID_CONFIG", lbl, owner);
    opt_str(c, d, "connection", "INVALID_CONFIG", lbl, owner);
}

/* ---- tables (first pass) --------------------------------------------------------------- */

static void check_column_values(struct chk *c, const json_t *col, const char *ent,
                                const char *owner)
{
    const char *type = cq_dsl_jstr(col, "type"), *mask = cq_dsl_jstr(col, "maskingFn");
    const json_t *nullable = cq_dsl_jget(col, "nullable"), *mv = cq_dsl_jget(col, "maskingFn");
    enum cq_dsl_type t;
    enum cq_dsl_mask m;
    bool arr;
    /* one identifier, quoted whole: unlike a table's, a column's name is never split */
    need_str(c, col, "physicalName", "INVALID_CONFIG", ent, owner);
    if (!cq_dsl_type_parse(type, &t, &arr)) {
        const char *got = type != NULL ? type : mkind(col, "type");
        add(c, "INVALID_CONFIG",
            (struct det){ent, "type", "string|int|decimal|boolean|uuid|date|timestamp (or T[])",
                         got, NULL, NULL},
            "%stype must be one of string, int, decimal, boolean, uuid, date, timestamp or "
            "an array of one (string[] ...), got %s%s%s",
            owner, type ? "'" : "", got, type ? "'" : "");
    }
    if (nullable != NULL && !json_is_boolean(nullable)) {
        add(c, "INVALID_CONFIG",
            (struct det){ent, "nullable", "boolean", cq_dsl_jkind(nullable), NULL, NULL},
            "%snullable must be true or false, got %s", owner, cq_dsl_jkind(nullable));
    }
    if (mv != NULL && !cq_dsl_mask_parse(mask, &m)) {
        const char *got = mask != NULL ? mask : cq_dsl_jkind(mv);
        add(c, "INVALID_CONFIG",
            (struct det){ent, "maskingFn", "email|phone|name|uuid|number|date|full", got, NULL,
                         NULL},
            "%smaskingFn must be one of email, phone, name, uuid, number, date, full, got "
            "%s%s%s",
            owner, mask ? "'" : "", got, mask ? "'" : "");
    }
}

static void check_column(struct chk *c, size_t ti, size_t j, const json_t *col)
{
    const char *tid = c->tlabel[ti], *api, *ent, *problem;
    if (!json_is_object(col)) {
        ent = cq_arena_printf(&c->a, "%s.columns[%zu]", tid, j);
        add(c, "INVALID_CONFIG", (struct det){ent, NULL, "object", cq_dsl_jkind(col), NULL, NULL},
            "Column '%s' must be an object, got %s", ent ? ent : "?", cq_dsl_jkind(col));
        return;
    }
    api = cq_dsl_jstr(col, "apiName");
    if (api == NULL) {
        ent = cq_arena_printf(&c->a, "%s.columns[%zu]", tid, j);
        add(c, "INVALID_API_NAME",
            (struct det){ent, "apiName", "string", mkind(col, "apiName"),
                         NULL, NULL},
            "Column '%s': apiName must be a string, got %s", ent ? ent : "?",
            mkind(col, "apiName"));
    } else {
        ent = cq_arena_printf(&c->a, "%s.%s", tid, api);
        problem = api_problem(c, api);
        if (problem != NULL) {
            add(c, "INVALID_API_NAME", (struct det){ent, "apiName", NULL, api, NULL, NULL},
                "Column '%s': %s", ent ? ent : "?", problem);
        }
        if (!cq_dsl_smap_put(&c->cols[ti], api, (uint32_t)j)) {
            add(c, "DUPLICATE_API_NAME", (struct det){tid, "apiName", NULL, api, NULL, NULL},
                "Duplicate column apiName '%s' in table '%s'", api, tid);
        }
    }
    const char *owner = cq_arena_printf(&c->a, "Column '%s': ", ent ? ent : "?");
    if (ent == NULL || owner == NULL) {
        c->rc = CQ_ENOMEM;
        return;
    }
    check_column_values(c, col, ent, owner);
}

/* Table apiName: the spec's rule, then uniqueness. */
static void check_table_api(struct chk *c, size_t i, const json_t *t)
{
    const char *tid = c->tlabel[i], *api = cq_dsl_jstr(t, "apiName"), *problem;
    long first;
    if (api == NULL) {
        add(c, "INVALID_API_NAME",
            (struct det){tid, "apiName", "string", mkind(t, "apiName"), NULL,
                         NULL},
            "Table '%s': apiName must be a string, got %s", tid,
            mkind(t, "apiName"));
        return;
    }
    problem = api_problem(c, api);
    if (problem != NULL) {
        add(c, "INVALID_API_NAME", (struct det){tid, "apiName", NULL, api, NULL, NULL},
            "Table '%s': %s", tid, problem);
    }
    first = cq_dsl_smap_get(&c->by_api, api);
    if (first >= 0) {
        add(c, "DUPLICATE_API_NAME", (struct det){tid, "apiName", NULL, api, NULL, NULL},
            "Duplicate table apiName '%s' (tables '%s' and '%s')", api, c->tlabel[first], tid);
    } else {
        cq_dsl_smap_put(&c->by_api, api, (uint32_t)i);
    }
}

static void check_table_db(struct chk *c, size_t i, const json_t *t)
{
    const char *tid = c->tlabel[i], *db = cq_dsl_jstr(t, "database");
    const char *phys = cq_dsl_jstr(t, "physicalName");
    if (db == NULL) {
        add(c, "INVALID_REFERENCE",
            (struct det){tid, "database", "string", mkind(t, "database"),
                         NULL, NULL},
            "Table '%s': database must be a string, got %s", tid,
            mkind(t, "database"));
    } else if (cq_dsl_smap_get(&c->db_ids, db) < 0) {
        add(c, "INVALID_REFERENCE", (struct det){tid, "database", NULL, db, db, NULL},
            "Table '%s' references non-existent database '%s'", tid, db);
    }
    const char *owner = cq_arena_printf(&c->a, "Table '%s': ", tid);
    if (owner == NULL) {
        c->rc = CQ_ENOMEM;
        return;
    }
    if (phys == NULL || *phys == '\0') {
        need_str(c, t, "physicalName", "INVALID_CONFIG", tid, owner);
    } else {
        check_phys(c, phys, "INVALID_CONFIG", tid, "physicalName", owner);
    }
}

static void check_pk(struct chk *c, size_t i, const json_t *t)
{
    const char *tid = c->tlabel[i];
    const json_t *pk = cq_dsl_jget(t, "primaryKey"), *v;
    size_t j;
    if (pk != NULL && !json_is_array(pk)) {
        add(c, "INVALID_CONFIG",
            (struct det){tid, "primaryKey", "array", cq_dsl_jkind(pk), NULL, NULL},
            "Table '%s': primaryKey must be an array of column apiNames, got %s", tid,
            cq_dsl_jkind(pk));
        return;
    }
    json_array_foreach(pk, j, v) {
        if (!json_is_string(v)) {
            add(c, "INVALID_CONFIG",
                (struct det){tid, "primaryKey", "string", cq_dsl_jkind(v), NULL, NULL},
                "Table '%s': primaryKey[%zu] must be a column apiName, got %s", tid, j,
                cq_dsl_jkind(v));
        }
    }
}

static void check_relations_own(struct chk *c, size_t i, const json_t *rels)
{
    const char *tid = c->tlabel[i];
    const json_t *r;
    size_t j;
    json_array_foreach(rels, j, r) {
        const char *col = cq_dsl_jstr(r, "column");
        if (!json_is_object(r)) {
            add(c, "INVALID_RELATION",
                (struct det){tid, "relations", "object", cq_dsl_jkind(r), NULL, NULL},
                "Relation in table '%s': relations[%zu] must be an object, got %s", tid, j,
                cq_dsl_jkind(r));
        } else if (col == NULL) {
            add(c, "INVALID_RELATION",
                (struct det){tid, "column", "string", mkind(r, "column"),
                             NULL, NULL},
                "Relation in table '%s': column must be a string, got %s", tid,
                mkind(r, "column"));
        } else if (!has_col(c, (long)i, col)) {
            add(c, "INVALID_RELATION", (struct det){tid, "column", NULL, col, NULL, NULL},
                "Relation in table '%s': source column '%s' does not exist", tid, col);
        }
    }
}

static void check_table(struct chk *c, size_t i, const json_t *t)
{
    const char *tid = c->tlabel[i];
    const json_t *cols, *col;
    size_t j;
    if (!json_is_object(t)) {
        add(c, "INVALID_CONFIG", (struct det){tid, NULL, "object", cq_dsl_jkind(t), NULL, NULL},
            "%s must be an object, got %s", tid, cq_dsl_jkind(t));
        return;
    }
    if (cq_dsl_jstr(t, "id") == NULL || *cq_dsl_jstr(t, "id") == '\0') {
        need_str(c, t, "id", "INVALID_CONFIG", tid, cq_arena_printf(&c->a, "%s: ", tid));
    }
    check_table_api(c, i, t);
    check_table_db(c, i, t);
    cols = cq_dsl_jget(t, "columns");
    if (!json_is_array(cols)) {
        add(c, "INVALID_CONFIG",
            (struct det){tid, "columns", "array", cq_dsl_jkind(cols), NULL, NULL},
            "Table '%s': columns must be an array, got %s", tid, cq_dsl_jkind(cols));
    }
    if (cq_dsl_smap_init(&c->cols[i], json_array_size(cols), &c->a) != CQ_OK) {
        c->rc = CQ_ENOMEM;
        return;
    }
    json_array_foreach(cols, j, col) {
        check_column(c, i, j, col);
    }
    check_pk(c, i, t);
    check_relations_own(c, i, opt_array(c, t, "relations", "INVALID_RELATION", tid,
                                        cq_arena_printf(&c->a, "Table '%s': ", tid)));
}

/* ---- relations (second pass), syncs, caches -------------------------------------------- */

static void check_relation_refs(struct chk *c, size_t i, const json_t *t)
{
    const char *tid = c->tlabel[i];
    const json_t *rels = cq_dsl_jget(t, "relations"), *r;
    size_t j;
    json_array_foreach(json_is_array(rels) ? rels : NULL, j, r) {
        const json_t *ref = cq_dsl_jget(r, "references");
        const char *rt = cq_dsl_jstr(ref, "table"), *rc = cq_dsl_jstr(ref, "column");
        if (!json_is_object(r)) {
            continue; /* reported by the first pass */
        }
        if (rt == NULL || rc == NULL) {
            add(c, "INVALID_RELATION",
                (struct det){tid, "references", "object", cq_dsl_jkind(ref), NULL, NULL},
                "Relation in table '%s': references must be an object with table and column "
                "names",
                tid);
            continue;
        }
        long target = table_ref(c, rt, true);
        if (target < 0) {
            add(c, "INVALID_RELATION", (struct det){tid, "references.table", NULL, rt, NULL, NULL},
                "Relation in table '%s': references non-existent table '%s'", tid, rt);
        } else if (!has_col(c, target, rc)) {
            add(c, "INVALID_RELATION",
                (struct det){tid, "references.column", NULL, rc, NULL, NULL},
                "Relation in table '%s': references non-existent column '%s' in table '%s'", tid,
                rc, rt);
        }
    }
}

static void check_sync(struct chk *c, size_t i, const json_t *s)
{
    const char *src = cq_dsl_jstr(s, "sourceTable"), *db = cq_dsl_jstr(s, "targetDatabase");
    const char *lag = cq_dsl_jstr(s, "estimatedLag"), *phys = cq_dsl_jstr(s, "targetPhysicalName");
    const char *ent = src != NULL ? src : labelf(c, "externalSyncs", i);
    enum cq_dsl_lag l;
    if (!json_is_object(s)) {
        add(c, "INVALID_SYNC", (struct det){ent, NULL, "object", cq_dsl_jkind(s), NULL, NULL},
            "ExternalSync %s must be an object, got %s", ent, cq_dsl_jkind(s));
        return;
    }
    if (src == NULL || table_ref(c, src, false) < 0) {
        add(c, "INVALID_SYNC",
            (struct det){ent, "sourceTable", NULL,
                         src ? src : mkind(s, "sourceTable"), NULL, NULL},
            "ExternalSync references non-existent source table '%s'",
            src ? src : mkind(s, "sourceTable"));
    }
    if (db == NULL || cq_dsl_smap_get(&c->db_ids, db) < 0) {
        const char *got = db ? db : mkind(s, "targetDatabase");
        add(c, "INVALID_SYNC", (struct det){ent, "targetDatabase", NULL, got, got, NULL},
            "ExternalSync references non-existent target database '%s'", got);
    }
    if (phys == NULL || *phys == '\0') {
        need_str(c, s, "targetPhysicalName", "INVALID_SYNC", ent,
                 cq_arena_printf(&c->a, "ExternalSync for '%s': ", ent));
    } else {
        check_phys(c, phys, "INVALID_SYNC", ent, "targetPhysicalName",
                   cq_arena_printf(&c->a, "ExternalSync for '%s': ", ent));
    }
    if (!cq_dsl_lag_parse(lag, &l)) {
        const char *got = lag ? lag : mkind(s, "estimatedLag");
        add(c, "INVALID_SYNC",
            (struct det){ent, "estimatedLag", "seconds|minutes|hours", got, NULL, NULL},
            "ExternalSync for '%s': estimatedLag must be one of seconds, minutes, hours, got "
            "%s%s%s",
            ent, lag ? "'" : "", got, lag ? "'" : "");
    }
}

/* keyPattern placeholders: each {name} must be a declared primary key column. */
static void check_key_pattern(struct chk *c, const char *cid, const char *tid, long t,
                              const char *pattern)
{
    const json_t *pk = cq_dsl_jget(json_array_get(c->tables, (size_t)t), "primaryKey");
    for (const char *p = strchr(pattern, '{'); p != NULL; p = strchr(p + 1, '{')) {
        size_t n = strcspn(p + 1, "{}");
        if (p[1 + n] != '}' || n == 0) {
            continue;
        }
        char *ph = cq_arena_strndup(&c->a, p + 1, n);
        bool found = false;
        const json_t *v;
        size_t j;
        if (ph == NULL) {
            c->rc = CQ_ENOMEM;
            return;
        }
        json_array_foreach(json_is_array(pk) ? pk : NULL, j, v) {
            found = found || (json_is_string(v) && strcmp(json_string_value(v), ph) == 0);
        }
        if (!found) {
            add(c, "INVALID_CACHE", (struct det){tid, "keyPattern", NULL, ph, NULL, cid},
                "Cache '%s' table '%s': keyPattern placeholder '{%s}' is not a PK column", cid,
                tid, ph);
        }
    }
}

static void check_cached(struct chk *c, const char *cid, size_t j, const json_t *ct)
{
    const char *tid = cq_dsl_jstr(ct, "tableId"), *pattern = cq_dsl_jstr(ct, "keyPattern");
    const json_t *cols = cq_dsl_jget(ct, "columns"), *v;
    long t = tid != NULL ? table_ref(c, tid, false) : -1;
    size_t k;
    if (t < 0) {
        const char *got = tid ? tid : labelf(c, "tables", j);
        add(c, "INVALID_CACHE", (struct det){got, NULL, NULL, NULL, NULL, cid},
            "Cache '%s' references non-existent table '%s'", cid, got);
        return;
    }
    if (pattern == NULL) {
        add(c, "INVALID_CACHE",
            (struct det){tid, "keyPattern", "string", mkind(ct, "keyPattern"),
                         NULL, cid},
            "Cache '%s' table '%s': keyPattern must be a string such as '%s:{id}'", cid, tid,
            tid);
    } else {
        check_key_pattern(c, cid, tid, t, pattern);
    }
    if (cols != NULL && !json_is_array(cols)) {
        add(c, "INVALID_CACHE", (struct det){tid, "columns", "array", cq_dsl_jkind(cols), NULL,
                                             cid},
            "Cache '%s' table '%s': columns must be an array of column apiNames", cid, tid);
        return;
    }
    json_array_foreach(cols, k, v) {
        const char *col = json_string_value(v);
        if (col == NULL || !has_col(c, t, col)) {
            add(c, "INVALID_CACHE",
                (struct det){tid, "columns", NULL, col ? col : cq_dsl_jkind(v), NULL, cid},
                "Cache '%s' table '%s': cached column '%s' does not exist", cid, tid,
                col ? col : cq_dsl_jkind(v));
        }
    }
}

static void check_cache(struct chk *c, size_t i, const json_t *cache)
{
    const char *cid = cq_dsl_jstr(cache, "id");
    const json_t *ct;
    size_t j;
    if (!json_is_object(cache) || cid == NULL || *cid == '\0') {
        const char *lbl = labelf(c, "caches", i);
        if (!json_is_object(cache)) {
            add(c, "INVALID_CACHE",
                (struct det){lbl, NULL, "object", cq_dsl_jkind(cache), NULL, NULL},
                "%s must be an object, got %s", lbl, cq_dsl_jkind(cache));
            return;
        }
        need_str(c, cache, "id", "INVALID_CACHE", lbl, cq_arena_printf(&c->a, "%s: ", lbl));
        cid = lbl;
    }
    const char *owner = cq_arena_printf(&c->a, "Cache '%s': ", cid);
    const json_t *tables = opt_array(c, cache, "tables", "INVALID_CACHE", cid, owner);
    json_array_foreach(tables, j, ct) {
        if (!json_is_object(ct)) {
            add(c, "INVALID_CACHE",
                (struct det){cid, "tables", "object", cq_dsl_jkind(ct), NULL, cid},
                "Cache '%s': tables[%zu] must be an object, got %s", cid, j, cq_dsl_jkind(ct));
            continue;
        }
        check_cached(c, cid, j, ct);
    }
}

/* ---- load-only: duplicate ids ---------------------------------------------------------- */

static void check_dup_ids(struct chk *c, const json_t *arr, const char *what, const char *code)
{
    struct cq_dsl_smap seen = {0};
    const json_t *v;
    size_t i;
    if (cq_dsl_smap_init(&seen, json_array_size(arr), &c->a) != CQ_OK) {
        c->rc = CQ_ENOMEM;
        return;
    }
    json_array_foreach(arr, i, v) {
        const char *id = cq_dsl_jstr(v, "id");
        if (id != NULL && !cq_dsl_smap_put(&seen, id, (uint32_t)i)) {
            add(c, code, (struct det){id, "id", NULL, id, NULL, NULL},
                "Duplicate %s id '%s' (entries %ld and %zu)", what, id,
                cq_dsl_smap_get(&seen, id), i);
        }
    }
}

/* ---- load-only: roles (INVALID_ROLE) --------------------------------------------------- */

/* " (did you mean 'x'?)" for an unknown table id, or "". */
static const char *table_hint(struct chk *c, const char *word)
{
    const char *best = cq_did_you_mean(word, c->tlabel);
    const char *s = best != NULL ? cq_arena_printf(&c->a, " (did you mean '%s'?)", best) : "";
    return s != NULL ? s : "";
}

/* allowedColumns ("*" or names; required) or maskedColumns (names; optional). */
static void check_grant_cols(struct chk *c, const char *rid, const char *tid, long t,
                             const json_t *g, const char *key, bool allowed)
{
    const json_t *v = cq_dsl_jget(g, key), *col;
    size_t j;
    if (v == NULL && allowed) {
        add(c, "INVALID_ROLE", (struct det){rid, key, "\"*\" or array", "absent", NULL, NULL},
            "Role '%s' table '%s': allowedColumns is required (\"*\" or a list of column "
            "apiNames)",
            rid, tid);
        return;
    }
    if (v == NULL || (allowed && json_is_string(v) && strcmp(json_string_value(v), "*") == 0)) {
        return;
    }
    if (!json_is_array(v)) {
        add(c, "INVALID_ROLE",
            (struct det){rid, key, allowed ? "\"*\" or array" : "array", cq_dsl_jkind(v), NULL,
                         NULL},
            "Role '%s' table '%s': %s must be %sa list of column apiNames, got %s", rid, tid, key,
            allowed ? "\"*\" or " : "", cq_dsl_jkind(v));
        return;
    }
    json_array_foreach(v, j, col) {
        const char *name = json_string_value(col);
        if (name == NULL || !has_col(c, t, name)) {
            add(c, "INVALID_ROLE",
                (struct det){rid, key, NULL, name ? name : cq_dsl_jkind(col), NULL, NULL},
                "Role '%s' table '%s': unknown column %s%s%s in %s", rid, tid, name ? "'" : "",
                name ? name : cq_dsl_jkind(col), name ? "'" : "", key);
        }
    }
}

static void check_filter(struct chk *c, const char *rid, const char *tid, long t, size_t k,
                         const json_t *f)
{
    const char *col = cq_dsl_jstr(f, "column"), *op = cq_dsl_jstr(f, "operator");
    const json_t *key = cq_dsl_jget(f, "contextKey");
    enum cq_dsl_rls_op o;
    if (!json_is_object(f)) {
        add(c, "INVALID_ROLE", (struct det){rid, "filters", "object", cq_dsl_jkind(f), NULL, NULL},
            "Role '%s' table '%s': filters[%zu] must be an object with column, operator and "
            "contextKey, got %s",
            rid, tid, k, cq_dsl_jkind(f));
        return;
    }
    if (col == NULL || !has_col(c, t, col)) {
        const char *got = col ? col : mkind(f, "column");
        add(c, "INVALID_ROLE", (struct det){rid, "filters.column", NULL, got, NULL, NULL},
            "Role '%s' table '%s': filter column '%s' does not exist", rid, tid, got);
    }
    if (!cq_dsl_rls_op_parse(op, &o)) {
        const char *got = op ? op : mkind(f, "operator");
        add(c, "INVALID_ROLE",
            (struct det){rid, "filters.operator", "=|!=|in|notIn|isNull|isNotNull", got, NULL,
                         NULL},
            "Role '%s' table '%s': filter operator '%s' is not one of =, !=, in, notIn, isNull, "
            "isNotNull",
            rid, tid, got);
    } else if (o != CQ_DSL_RLS_IS_NULL && o != CQ_DSL_RLS_IS_NOT_NULL &&
               (!json_is_string(key) || *json_string_value(key) == '\0')) {
        add(c, "INVALID_ROLE",
            (struct det){rid, "filters.contextKey", "string", cq_dsl_jkind(key), NULL, NULL},
            "Role '%s' table '%s': filter on '%s' with operator '%s' needs a contextKey", rid,
            tid, col ? col : "?", op);
    } else if (key != NULL && !json_is_string(key)) {
        add(c, "INVALID_ROLE",
            (struct det){rid, "filters.contextKey", "string", cq_dsl_jkind(key), NULL, NULL},
            "Role '%s' table '%s': filter contextKey must be a string, got %s", rid, tid,
            cq_dsl_jkind(key));
    }
}

static void check_grant(struct chk *c, const char *rid, size_t k, const json_t *g)
{
    const char *tid = cq_dsl_jstr(g, "tableId");
    const json_t *filters, *f;
    long t = tid != NULL ? table_ref(c, tid, false) : -1;
    size_t j;
    if (!json_is_object(g)) {
        add(c, "INVALID_ROLE", (struct det){rid, "tables", "object", cq_dsl_jkind(g), NULL, NULL},
            "Role '%s': tables[%zu] must be an object with tableId and allowedColumns, got %s",
            rid, k, cq_dsl_jkind(g));
        return;
    }
    if (t < 0) {
        const char *got = tid ? tid : mkind(g, "tableId");
        add(c, "INVALID_ROLE", (struct det){rid, "tableId", NULL, got, NULL, NULL},
            "Role '%s': tables[%zu] references unknown table '%s'%s", rid, k, got,
            tid ? table_hint(c, tid) : "");
        return;
    }
    check_grant_cols(c, rid, tid, t, g, "allowedColumns", true);
    check_grant_cols(c, rid, tid, t, g, "maskedColumns", false);
    filters = cq_dsl_jget(g, "filters");
    if (filters != NULL && !json_is_array(filters)) {
        add(c, "INVALID_ROLE",
            (struct det){rid, "filters", "array", cq_dsl_jkind(filters), NULL, NULL},
            "Role '%s' table '%s': filters must be an array, got %s", rid, tid,
            cq_dsl_jkind(filters));
        return;
    }
    json_array_foreach(filters, j, f) {
        check_filter(c, rid, tid, t, j, f);
    }
}

static void check_role(struct chk *c, size_t i, const json_t *r, struct cq_dsl_smap *seen)
{
    const char *rid = cq_dsl_jstr(r, "id");
    const json_t *tables = cq_dsl_jget(r, "tables"), *g;
    size_t k;
    if (!json_is_object(r) || rid == NULL || *rid == '\0') {
        const char *lbl = labelf(c, "roles", i);
        add(c, "INVALID_ROLE",
            (struct det){lbl, json_is_object(r) ? "id" : NULL, json_is_object(r) ? "string"
                                                                                 : "object",
                         json_is_object(r) ? mkind(r, "id") : cq_dsl_jkind(r),
                         NULL, NULL},
            json_is_object(r) ? "%s: id must be a non-empty string" : "%s must be an object",
            lbl);
        if (!json_is_object(r)) {
            return;
        }
        rid = lbl;
    } else if (!cq_dsl_smap_put(seen, rid, (uint32_t)i)) {
        add(c, "INVALID_ROLE", (struct det){rid, "id", NULL, rid, NULL, NULL},
            "Duplicate role id '%s' (roles[%ld] and roles[%zu])", rid,
            cq_dsl_smap_get(seen, rid), i);
    }
    if (json_is_string(tables) && strcmp(json_string_value(tables), "*") == 0) {
        return;
    }
    if (!json_is_array(tables)) {
        add(c, "INVALID_ROLE",
            (struct det){rid, "tables", "\"*\" or array", json_is_string(tables)
                                                               ? json_string_value(tables)
                                                               : cq_dsl_jkind(tables),
                         NULL, NULL},
            "Role '%s': tables must be \"*\" or a list of {tableId, allowedColumns}, got %s",
            rid, json_is_string(tables) ? json_string_value(tables) : cq_dsl_jkind(tables));
        return;
    }
    json_array_foreach(tables, k, g) {
        check_grant(c, rid, k, g);
    }
}

static void check_roles(struct chk *c, const json_t *roles)
{
    struct cq_dsl_smap seen = {0};
    const json_t *r;
    size_t i;
    if (roles == NULL) {
        return;
    }
    if (!json_is_array(roles)) {
        add(c, "INVALID_ROLE", (struct det){NULL, NULL, "array", cq_dsl_jkind(roles), NULL, NULL},
            "roles must be a list of roles ({id, tables}), got %s", cq_dsl_jkind(roles));
        return;
    }
    if (cq_dsl_smap_init(&seen, json_array_size(roles), &c->a) != CQ_OK) {
        c->rc = CQ_ENOMEM;
        return;
    }
    json_array_foreach(roles, i, r) {
        check_role(c, i, r, &seen);
    }
}

/* ---- entry point ----------------------------------------------------------------------- */

int cq_dsl_catalog_check(const json_t *metadata, const json_t *roles, bool load, json_t *errors)
{
    struct chk c;
    const json_t *v;
    size_t i;
    memset(&c, 0, sizeof(c));
    cq_arena_init(&c.a, 16384, 0);
    c.errors = errors;
    c.load = load;
    if (!json_is_object(metadata)) {
        add(&c, "INVALID_CONFIG",
            (struct det){NULL, NULL, "object", cq_dsl_jkind(metadata), NULL, NULL},
            "MetadataConfig must be an object with databases, tables, caches and "
            "externalSyncs, got %s",
            cq_dsl_jkind(metadata));
        goto out;
    }
    check_top(&c, metadata);
    if (build_indexes(&c) != CQ_OK) {
        goto out;
    }
    json_array_foreach(c.dbs, i, v) {
        check_database(&c, i, v);
    }
    json_array_foreach(c.tables, i, v) {
        check_table(&c, i, v);
    }
    json_array_foreach(c.tables, i, v) {
        check_relation_refs(&c, i, v);
    }
    json_array_foreach(c.syncs, i, v) {
        check_sync(&c, i, v);
    }
    json_array_foreach(c.caches, i, v) {
        check_cache(&c, i, v);
    }
    if (load) {
        check_dup_ids(&c, c.dbs, "database", "INVALID_CONFIG");
        check_dup_ids(&c, c.tables, "table", "INVALID_CONFIG");
        check_dup_ids(&c, c.caches, "cache", "INVALID_CACHE");
        check_roles(&c, roles);
    }
out:
    cq_arena_free(&c.a);
    return c.rc;
}

json_t *cq_dsl_config_error(json_t *errors)
{
    json_t *o = json_object();
    char msg[64];
    size_t n = json_array_size(errors);
    if (o == NULL || errors == NULL) {
        json_decref(o);
        json_decref(errors);
        return NULL;
    }
    snprintf(msg, sizeof(msg), "Config invalid: %zu %s", n, n == 1 ? "error" : "errors");
    if (json_object_set_new(o, "code", json_string("CONFIG_INVALID")) != 0 ||
        json_object_set_new(o, "message", json_string(msg)) != 0 ||
        json_object_set_new(o, "errors", errors) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *cq_dsl_config_validate(const json_t *metadata)
{
    json_t *errors = json_array();
    if (errors == NULL || cq_dsl_catalog_check(metadata, NULL, false, errors) != CQ_OK ||
        json_array_size(errors) == 0) {
        json_decref(errors);
        return NULL;
    }
    return cq_dsl_config_error(errors);
}
