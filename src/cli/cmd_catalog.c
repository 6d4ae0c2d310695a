/*
 * cmd_catalog.c - `clariq catalog validate` and `clariq catalog introspect`.
 *
 * validate loads the configuration, builds the governed-query catalog exactly as the
 * server does (spec §6 plus clariq's role checks) and prints either a one-line summary or
 * every problem as `FILE: catalog: CODE: message`.
 *
 * introspect reads a database's system tables through the driver layer and prints a
 * starter catalog: one database (id and connection = the connection name, engine = its
 * driver), every table and view with camelCase apiNames, types mapped to the spec's
 * column types, nullability, primary keys, and a many-to-one relation per single-column
 * foreign key. PostgreSQL: information_schema for columns and keys, pg_catalog for
 * foreign keys (it pairs the columns of a key); physicalName is schema.table. SQLite:
 * sqlite_master with pragma_table_info / pragma_foreign_key_list; physicalName is the
 * bare table name, which the sqlite dialect reads as a table of the main schema. Names
 * holding a '.' cannot be written as a physicalName (split on '.') and are skipped with a
 * note. The output loads back and validates as it is (tests/integration/it_catalog.sh).
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "cli/app.h"
#include "cli/cli.h"
#include "drv/drv.h"
#include "dsl/catalog.h"

#define FLOW_WIDTH 96     /* a YAML value on one line when it fits */
#define OUT_MAX (256u << 20) /* bytes of the printed catalog */

static void catalog_help(void)
{
    printf("Usage: clariq catalog validate [--config FILE]\n"
           "       clariq catalog introspect -c NAME [--schema S] [--format yaml|json]\n\n"
           "validate    builds the governed-query catalog of the configuration (catalog: and\n"
           "            roles:) with every check the server applies; prints a summary, or each\n"
           "            problem as FILE: catalog: CODE: message and exits 1.\n"
           "introspect  reads the tables of connection NAME (PostgreSQL or SQLite) and prints a\n"
           "            starter catalog: the catalog: section in YAML, ready to paste into\n"
           "            clariq.yaml (default), or the MetadataConfig as JSON.\n\n"
           "Options:\n"
           "  -c, --connection NAME  connection to read (introspect)\n"
           "      --schema S         only this PostgreSQL schema (default: every user schema)\n"
           "      --format FMT       yaml (default) or json (introspect)\n"
           "      --config FILE      configuration file\n"
           "  -h, --help             this help\n\n"
           "Exit codes: 0 ok, 1 the catalog is invalid, 2 usage or configuration error,\n"
           "3 connection error.\n");
}

/* ---- validate ----------------------------------------------------------------------------- */

/* Notes that help before serving: databases that no connection serves. */
static void connection_notes(const struct cq_dsl_catalog *cat)
{
    for (size_t i = 0; i < cat->n_databases; i++) {
        const struct cq_dsl_database *db = &cat->databases[i];
        if (db->connection == NULL && db->engine != CQ_DSL_ENGINE_ICEBERG) {
            fprintf(stderr,
                    "clariq: note: database '%s' has no connection (add connection: to it, "
                    "or catalog.connections); its queries can be generated but not run\n",
                    db->id);
        }
    }
}

static int cmd_validate(struct cq_app *app)
{
    json_t *cerr = NULL;
    struct cq_err err = {0};
    const struct cq_conf *conf = app->conf;
    const char *file = conf->catalog_file != NULL ? conf->catalog_file : app->config_path;
    if (conf->catalog == NULL) {
        fprintf(stderr, "%s: catalog: no catalog: section%s\n", file[0] ? file : "(config)",
                conf->catalog_file != NULL ? " could be read" : " (see 'clariq catalog --help')");
        return CQ_EXIT_USAGE;
    }
    struct cq_dsl_catalog *cat =
        cq_dsl_catalog_new(conf->catalog, conf->roles, conf->catalog_conns, &cerr, &err);
    if (cat == NULL && cerr == NULL) {
        return cq_cli_report(app, &err, NULL);
    }
    if (cat == NULL) {
        const json_t *e;
        size_t i;
        json_array_foreach(json_object_get(cerr, "errors"), i, e) {
            printf("%s: catalog: %s: %s\n", file,
                   json_string_value(json_object_get(e, "code")),
                   json_string_value(json_object_get(e, "message")));
        }
        fprintf(stderr, "clariq: %s\n", json_string_value(json_object_get(cerr, "message")));
        json_decref(cerr);
        return CQ_EXIT_SQL; /* 1: the catalog is invalid */
    }
    connection_notes(cat);
    printf("catalog ok: %zu database%s, %zu table%s, %zu role%s\n", cat->n_databases,
           cat->n_databases == 1 ? "" : "s", cat->n_tables, cat->n_tables == 1 ? "" : "s",
           cat->n_roles, cat->n_roles == 1 ? "" : "s");
    cq_dsl_catalog_unref(cat);
    return CQ_EXIT_OK;
}

/* ---- introspection: collecting rows ------------------------------------------------------- */

/* Rows of a system query as strings (NULL = SQL NULL), in an arena. */
struct rows {
    struct cq_arena *a;
    size_t n_cols;
    const char ***v;
    size_t n, cap;
};

static int rows_columns(void *ctx, size_t n, const struct cq_col *cols, struct cq_err *err)
{
    struct rows *r = ctx;
    (void)cols;
    (void)err;
    r->n_cols = n;
    return CQ_OK;
}

static int rows_row(void *ctx, size_t n, const struct cq_value *vals, struct cq_err *err)
{
    struct rows *r = ctx;
    const char **row = cq_arena_alloc(r->a, (n + 1) * sizeof(*row));
    const char ***v;
    if (row == NULL) {
        return cq_err_set(err, CQ_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        row[i] = vals[i].kind == CQ_V_NULL ? NULL : cq_arena_strndup(r->a, vals[i].p, vals[i].len);
        if (vals[i].kind != CQ_V_NULL && row[i] == NULL) {
            return cq_err_set(err, CQ_ENOMEM, "out of memory");
        }
    }
    v = cq_arena_grow(r->a, r->v, r->n, &r->cap, sizeof(*v));
    if (v == NULL) {
        return cq_err_set(err, CQ_ENOMEM, "out of memory");
    }
    r->v = v;
    r->v[r->n++] = row;
    return CQ_OK;
}

static int rows_end(void *ctx, const struct cq_result_info *info, struct cq_err *err)
{
    (void)ctx;
    (void)info;
    (void)err;
    return CQ_OK;
}

/* Runs sql with an optional text parameter ($1: the schema, NULL = SQL NULL). */
static int query(struct cq_conn *c, struct cq_arena *a, const char *sql, const char *param,
                 bool with_param, struct rows *out, struct cq_err *err)
{
    struct cq_param p = {.type = param ? CQ_P_TEXT : CQ_P_NULL,
                         .explicit_type = param != NULL,
                         .text = param,
                         .len = param ? strlen(param) : 0};
    struct cq_stmt st = {.sql = sql, .params = &p, .n_params = with_param ? 1 : 0};
    struct cq_rowsink sink = {out, rows_columns, rows_row, rows_end};
    memset(out, 0, sizeof(*out));
    out->a = a;
    return cq_drv_exec(c, &st, &sink, err);
}

/* ---- introspection: the model ------------------------------------------------------------- */

struct icol {
    const char *phys, *api, *type;
    bool nullable;
};

struct irel {
    size_t col;                   /* own column */
    size_t ref_table, ref_col;
};

struct itable {
    const char *schema, *name, *api;
    struct icol *cols;
    size_t n_cols, cap_cols;
    size_t *pk;                   /* column indexes in key order */
    size_t n_pk, cap_pk;
    struct irel *rels;
    size_t n_rels, cap_rels;
};

struct model {
    struct cq_arena *a;
    struct itable *t;
    size_t n, cap;
    int rc;
};

/* Room for one more element in an arena array of the model; NULL (m->rc set) on ENOMEM. */
static void *grow(struct model *m, void *v, size_t n, size_t *cap, size_t size)
{
    void *nv = cq_arena_grow(m->a, v, n, cap, size);
    if (nv == NULL) {
        m->rc = CQ_ENOMEM;
    }
    return nv;
}

static long find_table(const struct model *m, const char *schema, const char *name)
{
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->t[i].name, name) == 0 &&
            (schema == NULL || m->t[i].schema == NULL || strcmp(m->t[i].schema, schema) == 0)) {
            return (long)i;
        }
    }
    return -1;
}

static long find_col(const struct itable *t, const char *phys)
{
    for (size_t i = 0; i < t->n_cols; i++) {
        if (strcmp(t->cols[i].phys, phys) == 0) {
            return (long)i;
        }
    }
    return -1;
}

/* The table (schema, name), added at the end when new; NULL on ENOMEM. */
static struct itable *table_of(struct model *m, const char *schema, const char *name)
{
    long i = find_table(m, schema, name);
    if (i >= 0) {
        return &m->t[i];
    }
    struct itable *v = grow(m, m->t, m->n, &m->cap, sizeof(*v));
    if (v == NULL) {
        return NULL;
    }
    m->t = v;
    memset(&v[m->n], 0, sizeof(v[m->n]));
    v[m->n].schema = schema;
    v[m->n].name = name;
    return &v[m->n++];
}

static void add_col(struct model *m, struct itable *t, const char *phys, const char *type,
                    bool nullable)
{
    struct icol *v = grow(m, t->cols, t->n_cols, &t->cap_cols, sizeof(*v));
    if (v != NULL) {
        t->cols = v;
        v[t->n_cols++] = (struct icol){phys, NULL, type, nullable};
    }
}

static void add_pk(struct model *m, struct itable *t, const char *phys)
{
    long c = find_col(t, phys);
    size_t *v = c >= 0 ? grow(m, t->pk, t->n_pk, &t->cap_pk, sizeof(*v)) : NULL;
    if (v != NULL) {
        t->pk = v;
        v[t->n_pk++] = (size_t)c;
        t->cols[c].nullable = false;
    }
}

/* A many-to-one relation when both ends were read (a key into another schema is not). */
static void add_rel(struct model *m, const char *schema, const char *table, const char *col,
                    const char *ref_schema, const char *ref_table, const char *ref_col)
{
    long ti = find_table(m, schema, table), ri = find_table(m, ref_schema, ref_table);
    if (ti < 0 || ri < 0) {
        return;
    }
    struct itable *t = &m->t[ti], *r = &m->t[ri];
    long c = find_col(t, col);
    long rc = ref_col != NULL ? find_col(r, ref_col) : (r->n_pk == 1 ? (long)r->pk[0] : -1);
    struct irel *v = c >= 0 && rc >= 0 ? grow(m, t->rels, t->n_rels, &t->cap_rels, sizeof(*v))
                                       : NULL;
    if (v != NULL) {
        t->rels = v;
        v[t->n_rels++] = (struct irel){(size_t)c, (size_t)ri, (size_t)rc};
    }
}

/* ---- type mapping ------------------------------------------------------------------------- */

/* PostgreSQL udt_name (element type for arrays: "_int4" -> "int[]"). */
static const char *pg_type(struct cq_arena *a, const char *udt)
{
    static const struct {
        const char *udt, *type;
    } map[] = {
        {"int2", "int"},         {"int4", "int"},           {"int8", "int"},
        {"numeric", "decimal"},  {"float4", "decimal"},     {"float8", "decimal"},
        {"money", "decimal"},    {"bool", "boolean"},       {"uuid", "uuid"},
        {"date", "date"},        {"timestamp", "timestamp"}, {"timestamptz", "timestamp"},
    };
    bool arr = udt[0] == '_';
    const char *base = arr ? udt + 1 : udt, *type = "string";
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(map[i].udt, base) == 0) {
            type = map[i].type;
        }
    }
    return arr ? cq_arena_printf(a, "%s[]", type) : type;
}

static bool has_ci(const char *s, const char *word)
{
    for (size_t n = strlen(word); *s != '\0'; s++) {
        if (strncasecmp(s, word, n) == 0) {
            return true;
        }
    }
    return false;
}

/* SQLite declared type, by SQLite's affinity rules refined for dates, uuids, booleans. */
static const char *sqlite_type(const char *decl)
{
    if (decl == NULL) {
        return "string";
    }
    if (has_ci(decl, "BOOL")) {
        return "boolean";
    }
    if (has_ci(decl, "DATETIME") || has_ci(decl, "TIMESTAMP")) {
        return "timestamp";
    }
    if (has_ci(decl, "DATE")) {
        return "date";
    }
    if (has_ci(decl, "UUID")) {
        return "uuid";
    }
    if (has_ci(decl, "INT")) {
        return "int";
    }
    if (has_ci(decl, "CHAR") || has_ci(decl, "CLOB") || has_ci(decl, "TEXT")) {
        return "string";
    }
    if (has_ci(decl, "REAL") || has_ci(decl, "FLOA") || has_ci(decl, "DOUB") ||
        has_ci(decl, "NUM") || has_ci(decl, "DEC")) {
        return "decimal";
    }
    return "string";
}

/* ---- apiNames ----------------------------------------------------------------------------- */

/* order_items -> orderItems, USER_NAME -> userName, 2fa -> c2fa; "" for no letters. */
static void camel(const char *s, char *out, size_t size, char lead)
{
    size_t n = 0;
    bool first = true;
    while (*s != '\0' && n + 1 < size && n < CQ_DSL_API_MAX) {
        size_t len = 0;
        bool upper = true;
        while (isalnum((unsigned char)s[len]) && (s[len] & 0x80) == 0) {
            upper = upper && !islower((unsigned char)s[len]);
            len++;
        }
        for (size_t i = 0; i < len && n + 1 < size && n < CQ_DSL_API_MAX; i++) {
            char ch = upper ? (char)tolower((unsigned char)s[i]) : s[i];
            if (i == 0) {
                ch = first ? (char)tolower((unsigned char)ch) : (char)toupper((unsigned char)ch);
            }
            out[n++] = ch;
        }
        first = first && len == 0;
        s += len;
        while (*s != '\0' && !(isalnum((unsigned char)*s) && (*s & 0x80) == 0)) {
            s++;
        }
    }
    out[n] = '\0';
    if (n > 0 && isdigit((unsigned char)out[0]) && n + 1 < size) {
        memmove(out + 1, out, n + 1);
        out[0] = lead;
        out[n + 1 < CQ_DSL_API_MAX ? n + 1 : CQ_DSL_API_MAX] = '\0';
    }
}

/* A valid, unused apiName for phys: camelCase, reserved words suffixed, numbered when
 * taken (used(name, ctx) says whether it is). */
static const char *api_name(struct cq_arena *a, const char *phys, const char *suffix, char lead,
                            size_t fallback, bool (*used)(const void *ctx, const char *name),
                            const void *ctx)
{
    char base[CQ_DSL_API_MAX + 1], cand[CQ_DSL_API_MAX + 16];
    camel(phys, base, sizeof(base), lead);
    if (base[0] == '\0') {
        snprintf(base, sizeof(base), "%c%zu", lead, fallback);
    }
    if (cq_dsl_api_reserved(base)) {
        size_t keep = CQ_DSL_API_MAX - strlen(suffix);
        base[keep < strlen(base) ? keep : strlen(base)] = '\0';
        snprintf(cand, sizeof(cand), "%s%s", base, suffix);
        cq_strlcpy(base, cand, sizeof(base));
    }
    cq_strlcpy(cand, base, sizeof(cand));
    for (unsigned k = 2; used(ctx, cand) && k < 100000; k++) {
        char num[16];
        int nl = snprintf(num, sizeof(num), "%u", k);
        size_t keep = CQ_DSL_API_MAX - (size_t)nl;
        snprintf(cand, sizeof(cand), "%.*s%s", (int)(keep < strlen(base) ? keep : strlen(base)),
                 base, num);
    }
    return cq_arena_strdup(a, cand);
}

static bool table_used(const void *ctx, const char *name)
{
    const struct model *m = ctx;
    for (size_t i = 0; i < m->n; i++) {
        if (m->t[i].api != NULL && strcmp(m->t[i].api, name) == 0) {
            return true;
        }
    }
    return false;
}

static bool col_used(const void *ctx, const char *name)
{
    const struct itable *t = ctx;
    for (size_t i = 0; i < t->n_cols; i++) {
        if (t->cols[i].api != NULL && strcmp(t->cols[i].api, name) == 0) {
            return true;
        }
    }
    return false;
}

static void assign_names(struct model *m)
{
    for (size_t i = 0; i < m->n && m->rc == CQ_OK; i++) {
        struct itable *t = &m->t[i];
        t->api = api_name(m->a, t->name, "Table", 't', i + 1, table_used, m);
        if (t->api == NULL) {
            m->rc = CQ_ENOMEM;
        }
        for (size_t j = 0; j < t->n_cols && m->rc == CQ_OK; j++) {
            t->cols[j].api = api_name(m->a, t->cols[j].phys, "Col", 'c', j + 1, col_used, t);
            m->rc = t->cols[j].api == NULL ? CQ_ENOMEM : m->rc;
        }
    }
}

/* ---- reading the system tables ------------------------------------------------------------ */

/* The schema filter: the one named ($1), else every schema but the system ones. */
#define PG_SCHEMAS(col)                                                                           \
    "((CAST($1 AS text) IS NULL AND " col " NOT IN ('pg_catalog', 'information_schema') AND "    \
    col " NOT LIKE 'pg\\_toast%' AND " col " NOT LIKE 'pg\\_temp%') OR " col " = $1)"

static const char pg_columns_sql[] =
    "SELECT c.table_schema, c.table_name, c.column_name, c.udt_name, c.is_nullable "
    "FROM information_schema.columns AS c JOIN information_schema.tables AS t "
    "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
    "WHERE t.table_type IN ('BASE TABLE', 'VIEW') AND " PG_SCHEMAS("c.table_schema") " "
    "ORDER BY c.table_schema, c.table_name, c.ordinal_position";

static const char pg_pk_sql[] =
    "SELECT tc.table_schema, tc.table_name, k.column_name "
    "FROM information_schema.table_constraints AS tc "
    "JOIN information_schema.key_column_usage AS k ON k.constraint_schema = tc.constraint_schema "
    "AND k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema "
    "AND k.table_name = tc.table_name "
    "WHERE tc.constraint_type = 'PRIMARY KEY' AND " PG_SCHEMAS("tc.table_schema") " "
    "ORDER BY tc.table_schema, tc.table_name, k.ordinal_position";

/* pg_catalog pairs the columns of a key; only single-column keys become relations. */
static const char pg_fk_sql[] =
    "SELECT sn.nspname, s.relname, sa.attname, tn.nspname, t.relname, ta.attname "
    "FROM pg_catalog.pg_constraint AS con "
    "JOIN pg_catalog.pg_class AS s ON s.oid = con.conrelid "
    "JOIN pg_catalog.pg_namespace AS sn ON sn.oid = s.relnamespace "
    "JOIN pg_catalog.pg_class AS t ON t.oid = con.confrelid "
    "JOIN pg_catalog.pg_namespace AS tn ON tn.oid = t.relnamespace "
    "JOIN pg_catalog.pg_attribute AS sa ON sa.attrelid = con.conrelid "
    "AND sa.attnum = con.conkey[1] "
    "JOIN pg_catalog.pg_attribute AS ta ON ta.attrelid = con.confrelid "
    "AND ta.attnum = con.confkey[1] "
    "WHERE con.contype = 'f' AND cardinality(con.conkey) = 1 AND " PG_SCHEMAS("sn.nspname") " "
    "ORDER BY 1, 2, con.conname";

static const char sqlite_columns_sql[] =
    "SELECT m.name, p.name, p.type, p.\"notnull\", p.pk "
    "FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p "
    "WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
    "ORDER BY m.name, p.cid";

static const char sqlite_fk_sql[] =
    "SELECT m.name, f.\"from\", f.\"table\", f.\"to\", "
    "(SELECT count(*) FROM pragma_foreign_key_list(m.name) AS g WHERE g.id = f.id) "
    "FROM sqlite_master AS m JOIN pragma_foreign_key_list(m.name) AS f "
    "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
    "ORDER BY m.name, f.id, f.seq";

/* A name that cannot be a physicalName part; noted once per table. */
static bool dotted(const char *schema, const char *name, const char *last)
{
    if (strchr(name, '.') == NULL && (schema == NULL || strchr(schema, '.') == NULL)) {
        return false;
    }
    if (last == NULL || strcmp(last, name) != 0) {
        fprintf(stderr, "clariq: note: skipping table %s%s%s: a name with '.' cannot be a "
                "physicalName (it is split on '.')\n", schema ? schema : "", schema ? "." : "",
                name);
    }
    return true;
}

static int read_pg(struct cq_conn *c, struct model *m, const char *schema, struct cq_err *err)
{
    struct rows r;
    const char *last = NULL;
    int rc = query(c, m->a, pg_columns_sql, schema, true, &r, err);
    for (size_t i = 0; rc == CQ_OK && i < r.n && m->rc == CQ_OK; i++) {
        const char **v = r.v[i];
        if (dotted(v[0], v[1], last)) {
            last = v[1];
            continue;
        }
        struct itable *t = table_of(m, v[0], v[1]);
        if (t != NULL) {
            add_col(m, t, v[2], pg_type(m->a, v[3] ? v[3] : "text"),
                    v[4] == NULL || strcmp(v[4], "NO") != 0);
        }
    }
    rc = rc == CQ_OK ? query(c, m->a, pg_pk_sql, schema, true, &r, err) : rc;
    for (size_t i = 0; rc == CQ_OK && i < r.n && m->rc == CQ_OK; i++) {
        long t = find_table(m, r.v[i][0], r.v[i][1]);
        if (t >= 0) {
            add_pk(m, &m->t[t], r.v[i][2]);
        }
    }
    rc = rc == CQ_OK ? query(c, m->a, pg_fk_sql, schema, true, &r, err) : rc;
    for (size_t i = 0; rc == CQ_OK && i < r.n && m->rc == CQ_OK; i++) {
        const char **v = r.v[i];
        add_rel(m, v[0], v[1], v[2], v[3], v[4], v[5]);
    }
    return rc != CQ_OK ? rc : m->rc;
}

static int read_sqlite(struct cq_conn *c, struct model *m, struct cq_err *err)
{
    struct rows r;
    const char *last = NULL;
    int rc = query(c, m->a, sqlite_columns_sql, NULL, false, &r, err);
    for (size_t i = 0; rc == CQ_OK && i < r.n && m->rc == CQ_OK; i++) {
        const char **v = r.v[i];
        if (dotted(NULL, v[0], last)) {
            last = v[0];
            continue;
        }
        struct itable *t = table_of(m, NULL, v[0]);
        bool pk = v[4] != NULL && strcmp(v[4], "0") != 0;
        if (t != NULL) {
            add_col(m, t, v[1], sqlite_type(v[2]), !pk && (v[3] == NULL || strcmp(v[3], "0") == 0));
        }
    }
    /* primary key columns in key order (pk = position in the key, 1-based) */
    for (int pos = 1; rc == CQ_OK && pos < 64 && m->rc == CQ_OK; pos++) {
        char want[16];
        snprintf(want, sizeof(want), "%d", pos);
        for (size_t i = 0; i < r.n; i++) {
            long t = r.v[i][4] != NULL && strcmp(r.v[i][4], want) == 0
                         ? find_table(m, NULL, r.v[i][0])
                         : -1;
            if (t >= 0) {
                add_pk(m, &m->t[t], r.v[i][1]);
            }
        }
    }
    rc = rc == CQ_OK ? query(c, m->a, sqlite_fk_sql, NULL, false, &r, err) : rc;
    for (size_t i = 0; rc == CQ_OK && i < r.n && m->rc == CQ_OK; i++) {
        const char **v = r.v[i];
        if (v[4] != NULL && strcmp(v[4], "1") == 0) {
            add_rel(m, NULL, v[0], v[1], NULL, v[2], v[3]);
        }
    }
    return rc != CQ_OK ? rc : m->rc;
}

/* ---- the MetadataConfig ------------------------------------------------------------------- */

static int set(json_t *o, const char *key, json_t *v)
{
    return json_object_set_new(o, key, v) == 0 ? CQ_OK : CQ_ENOMEM;
}

static json_t *table_json(const struct model *m, const struct itable *t, const char *db)
{
    json_t *o = json_object(), *cols = json_array(), *pk = json_array(), *rels = json_array();
    char *phys = t->schema ? cq_arena_printf(m->a, "%s.%s", t->schema, t->name) : NULL;
    int rc = o && cols && pk && rels && (phys || !t->schema) ? CQ_OK : CQ_ENOMEM;
    for (size_t j = 0; rc == CQ_OK && j < t->n_cols; j++) {
        const struct icol *c = &t->cols[j];
        json_t *jc = json_pack("{s:s, s:s, s:s, s:b}", "apiName", c->api, "physicalName",
                               c->phys, "type", c->type, "nullable", c->nullable);
        rc = jc != NULL && json_array_append_new(cols, jc) == 0 ? CQ_OK : CQ_ENOMEM;
    }
    for (size_t j = 0; rc == CQ_OK && j < t->n_pk; j++) {
        rc = json_array_append_new(pk, json_string(t->cols[t->pk[j]].api)) == 0 ? CQ_OK
                                                                                 : CQ_ENOMEM;
    }
    for (size_t j = 0; rc == CQ_OK && j < t->n_rels; j++) {
        const struct irel *r = &t->rels[j];
        const struct itable *rt = &m->t[r->ref_table];
        json_t *jr = json_pack("{s:s, s:{s:s, s:s}, s:s}", "column", t->cols[r->col].api,
                               "references", "table", rt->api, "column",
                               rt->cols[r->ref_col].api, "type", "many-to-one");
        rc = jr != NULL && json_array_append_new(rels, jr) == 0 ? CQ_OK : CQ_ENOMEM;
    }
    if (rc == CQ_OK) {
        rc |= set(o, "id", json_string(t->api));
        rc |= set(o, "apiName", json_string(t->api));
        rc |= set(o, "database", json_string(db));
        rc |= set(o, "physicalName", json_string(phys ? phys : t->name));
        rc |= set(o, "columns", json_incref(cols));
        rc |= set(o, "primaryKey", json_incref(pk));
        rc |= set(o, "relations", json_incref(rels));
    }
    json_decref(cols);
    json_decref(pk);
    json_decref(rels);
    if (rc != CQ_OK) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* {databases: [{id, engine, connection}], tables, caches: [], externalSyncs: []} */
static json_t *metadata_json(const struct model *m, const struct cq_conn_conf *cc)
{
    json_t *md = json_object(), *tables = json_array();
    int rc = md && tables ? CQ_OK : CQ_ENOMEM;
    for (size_t i = 0; rc == CQ_OK && i < m->n; i++) {
        json_t *t = table_json(m, &m->t[i], cc->name);
        rc = t != NULL && json_array_append_new(tables, t) == 0 ? CQ_OK : CQ_ENOMEM;
    }
    if (rc == CQ_OK) {
        rc |= set(md, "databases",
                  json_pack("[{s:s, s:s, s:s}]", "id", cc->name, "engine", cc->driver,
                            "connection", cc->name));
        rc |= set(md, "tables", json_incref(tables));
        rc |= set(md, "caches", json_array());
        rc |= set(md, "externalSyncs", json_array());
    }
    json_decref(tables);
    if (rc != CQ_OK) {
        json_decref(md);
        return NULL;
    }
    return md;
}

/* ---- YAML output -------------------------------------------------------------------------- */

/* A plain YAML scalar when nothing could read it as another type or as syntax. */
static bool plain_ok(const char *s)
{
    static const char *const words[] = {"true", "false", "null", "yes", "no", "on",
                                        "off", "y", "n", NULL};
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_')) {
        return false;
    }
    for (const char *p = s; *p != '\0'; p++) {
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-') {
            return false;
        }
    }
    for (size_t i = 0; words[i] != NULL; i++) {
        if (cq_streq_ci(s, words[i])) {
            return false;
        }
    }
    return true;
}

static int dump_to_buf(const char *p, size_t len, void *data)
{
    cq_buf_append(data, p, len);
    return cq_buf_rc(data) == CQ_OK ? 0 : -1;
}

static void yaml_scalar(struct cq_buf *b, const json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (plain_ok(s)) {
            cq_buf_puts(b, s);
        } else {
            cq_json_put_str(b, s, json_string_length(v)); /* JSON strings are YAML too */
        }
    } else {
        json_dump_callback(v, dump_to_buf, b, JSON_ENCODE_ANY | JSON_COMPACT);
    }
}

static void yaml_flow(struct cq_buf *b, const json_t *v)
{
    const char *key;
    const json_t *item;
    size_t i = 0;
    if (json_is_object(v)) {
        cq_buf_putc(b, '{');
        json_object_foreach((json_t *)(uintptr_t)v, key, item) {
            cq_buf_printf(b, "%s%s: ", i++ ? ", " : "", key);
            yaml_flow(b, item);
        }
        cq_buf_putc(b, '}');
    } else if (json_is_array(v)) {
        cq_buf_putc(b, '[');
        json_array_foreach(v, i, item) {
            cq_buf_puts(b, i ? ", " : "");
            yaml_flow(b, item);
        }
        cq_buf_putc(b, ']');
    } else {
        yaml_scalar(b, v);
    }
}

/* v in flow style into flow; true when it fits on a line that already has col columns. */
static bool flow_fits(const json_t *v, size_t col, struct cq_buf *flow)
{
    cq_buf_init(flow, FLOW_WIDTH * 4);
    yaml_flow(flow, v);
    return cq_buf_rc(flow) == CQ_OK && col + flow->len <= FLOW_WIDTH;
}

static bool has_objects(const json_t *v)
{
    const json_t *item;
    size_t i;
    json_array_foreach(v, i, item) {
        if (json_is_object(item)) {
            return true;
        }
    }
    return false;
}

static void yaml_block(struct cq_buf *b, const json_t *v, int indent, int depth);

/* The value after "key:" at column col: a scalar, an empty or short collection inline (a
 * list of objects never: one object per line reads best), else a block below. */
static void yaml_value(struct cq_buf *b, const json_t *v, int indent, size_t col, int depth)
{
    struct cq_buf flow;
    bool nested = json_is_object(v) || json_is_array(v);
    size_t n = json_is_array(v) ? json_array_size(v) : json_object_size(v);
    bool inline_ok = flow_fits(v, col + 1, &flow);
    if (!nested || n == 0 || (depth >= 3 && inline_ok && !has_objects(v))) {
        cq_buf_printf(b, " %s\n", cq_buf_str(&flow));
    } else {
        cq_buf_putc(b, '\n');
        yaml_block(b, v, indent + 2, depth + 1);
    }
    cq_buf_cleanup(&flow);
}

static void yaml_block(struct cq_buf *b, const json_t *v, int indent, int depth)
{
    const char *key;
    const json_t *item;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)(uintptr_t)v, key, item) {
            cq_buf_printf(b, "%*s%s:", indent, "", key);
            yaml_value(b, item, indent, (size_t)indent + strlen(key) + 1, depth);
        }
        return;
    }
    json_array_foreach(v, i, item) {
        struct cq_buf flow;
        bool fits = flow_fits(item, (size_t)indent + 2, &flow);
        if (json_is_object(item) && json_object_size(item) > 0 && (depth < 3 || !fits)) {
            /* "- " then the object's keys, the first on the dash line */
            struct cq_buf sub;
            cq_buf_init(&sub, OUT_MAX);
            yaml_block(&sub, item, indent + 2, depth + 1);
            cq_buf_printf(b, "%*s- %s", indent, "", cq_buf_str(&sub) + indent + 2);
            cq_buf_cleanup(&sub);
        } else if (fits || !(json_is_object(item) || json_is_array(item))) {
            cq_buf_printf(b, "%*s- %s\n", indent, "", cq_buf_str(&flow));
        } else {
            cq_buf_printf(b, "%*s-\n", indent, "");
            yaml_block(b, item, indent + 2, depth + 1);
        }
        cq_buf_cleanup(&flow);
    }
}

static void write_yaml(struct cq_buf *b, const json_t *md, const struct cq_conn_conf *cc,
                       const char *schema)
{
    cq_buf_printf(b,
                  "# Starter catalog read from connection '%s' (%s%s%s) by\n"
                  "# `clariq catalog introspect`. Review the apiNames, add maskingFn to\n"
                  "# sensitive columns and roles below, then check it with\n"
                  "# `clariq catalog validate`.\n"
                  "catalog:\n",
                  cc->name, cc->driver, schema ? ", schema " : "", schema ? schema : "");
    yaml_block(b, md, 2, 1);
    cq_buf_puts(b, "# roles:\n"
                   "#   - id: admin\n"
                   "#     tables: \"*\"\n"
                   "#   - id: reader\n"
                   "#     tables:\n"
                   "#       - tableId: <table id>\n"
                   "#         allowedColumns: \"*\"\n"
                   "#         maskedColumns: []\n");
}

/* ---- introspect --------------------------------------------------------------------------- */

static int introspect(struct cq_app *app, const char *conn, const char *schema, bool json)
{
    struct cq_err err = {0};
    struct cq_arena arena;
    struct model m = {.a = &arena};
    struct cq_dsn dsn;
    struct cq_conn *c = NULL;
    struct cq_buf out;
    json_t *md = NULL;
    int code;
    const struct cq_conn_conf *cc = cq_cli_pick_conn(app, conn);
    cq_arena_init(&arena, 65536, 0);
    cq_buf_init(&out, OUT_MAX);
    if (cc == NULL) {
        code = CQ_EXIT_USAGE;
        goto out;
    }
    if (schema != NULL && strcmp(cc->driver, "postgres") != 0) {
        code = cq_cli_usage_error("catalog", "--schema is for postgres connections; '%s' is %s",
                                  cc->name, cc->driver);
        goto out;
    }
    cq_drv_dsn_init(&dsn, cc);
    c = cq_drv_connect(cq_drv_find(cc->driver), &dsn, &err);
    int rc = c == NULL ? (int)err.rc
             : strcmp(cc->driver, "postgres") == 0 ? read_pg(c, &m, schema, &err)
                                                    : read_sqlite(c, &m, &err);
    if (rc == CQ_OK) {
        assign_names(&m);
        md = m.rc == CQ_OK ? metadata_json(&m, cc) : NULL;
        rc = md == NULL ? cq_err_set(&err, CQ_ENOMEM, "out of memory") : CQ_OK;
    }
    if (rc != CQ_OK) {
        cq_err_wrap(&err, "catalog introspect");
        code = cq_cli_report(app, &err, cc->name);
        goto out;
    }
    if (m.n == 0) {
        fprintf(stderr, "clariq: note: connection '%s' has no tables%s%s\n", cc->name,
                schema ? " in schema " : "", schema ? schema : "");
    }
    if (json) {
        json_dump_callback(md, dump_to_buf, &out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        cq_buf_putc(&out, '\n');
    } else {
        write_yaml(&out, md, cc, schema);
    }
    code = cq_buf_rc(&out) == CQ_OK && cq_cli_write_stdout(NULL, out.p, out.len) == CQ_OK
               ? CQ_EXIT_OK
               : cq_cli_report(app, &(struct cq_err){.rc = CQ_EIO, .msg = "cannot write output"},
                               NULL);
out:
    json_decref(md);
    cq_drv_disconnect(c);
    cq_buf_cleanup(&out);
    cq_arena_free(&arena);
    return code;
}

/* ---- the command -------------------------------------------------------------------------- */

int cq_cli_cmd_catalog(struct cq_app *app, int argc, char **argv)
{
    static const struct option longs[] = {
        {"connection", required_argument, NULL, 'c'}, {"schema", required_argument, NULL, 'S'},
        {"format", required_argument, NULL, 'F'},     {"config", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0},
    };
    const char *conn = NULL, *schema = NULL, *format = "yaml";
    int opt, code;
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:h", longs, NULL)) != -1) {
        switch (opt) {
        case 'c': conn = optarg; break;
        case 'S': schema = optarg; break;
        case 'F': format = optarg; break;
        case 'C': app->config_arg = optarg; break;
        case 'h': catalog_help(); return CQ_EXIT_OK;
        case ':':
            return cq_cli_usage_error("catalog", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cq_cli_usage_error("catalog", "unknown option '%s'", argv[optind - 1]);
        }
    }
    const char *sub = optind < argc ? argv[optind] : NULL;
    bool validate = sub != NULL && strcmp(sub, "validate") == 0;
    if (sub == NULL || (!validate && strcmp(sub, "introspect") != 0) || optind + 1 < argc) {
        return cq_cli_usage_error("catalog", "expected 'validate' or 'introspect -c NAME'");
    }
    if (strcmp(format, "yaml") != 0 && strcmp(format, "json") != 0) {
        return cq_cli_usage_error("catalog", "--format: use yaml or json, not '%s'", format);
    }
    if (validate && (conn != NULL || schema != NULL)) {
        return cq_cli_usage_error("catalog", "-c and --schema are for 'introspect'");
    }
    code = cq_cli_load_conf(app);
    if (code != CQ_EXIT_OK) {
        return code;
    }
    return validate ? cmd_validate(app)
                    : introspect(app, conn, schema, strcmp(format, "json") == 0);
}
