/*
 * test_dsl_golden.c - the golden runner: every directory under tests/golden/dsl/ holding a
 * query.json is one test (format: tests/golden/dsl/README.md).
 *
 * Per case it compiles the query against the shared fixture (tests/golden/dsl/catalog.json,
 * adjusted by options.json) and compares with each expectation file present:
 *   pg.sql ch.sql trino.sql sqlite.sql  the SQL forced into that dialect: "<sql>" and
 *                                        "params: <json>", or "error: <json>";
 *   error.txt                            the error of the normal compile;
 *   meta.json                            strategy, target, dialect, tablesUsed, columns.
 * A mismatch prints both sides line by line. CQ_UPDATE_GOLDEN=1 rewrites the files instead
 * (and fills a case that has none yet), for review with git diff.
 *
 * Every sqlite.sql is also prepared and run on an in-memory SQLite database holding the
 * fixture's tables (one row each), with the parameters bound the way the executor binds
 * them, so the SQLite SQL is proven to parse and evaluate. PostgreSQL does the same for
 * pg.sql in tests/integration/it_dsl_sql.c.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "base/buf.h"
#include "base/json.h"
#include "cqtest.h"
#include "drv/sqlite.h"
#include "dsl/dsl.h"
#include "dsl/internal.h"

#define MAX_CATALOGS 8

static const struct {
    const char *file;
    enum cq_dialect d;
} dialect_files[] = {
    {"pg.sql", CQ_DIALECT_PG},
    {"ch.sql", CQ_DIALECT_CH},
    {"trino.sql", CQ_DIALECT_TRINO},
    {"sqlite.sql", CQ_DIALECT_SQLITE},
};

struct world {
    char *root;                   /* tests/golden/dsl */
    json_t *fixture;              /* catalog.json */
    struct {
        char *key;                /* options as compact JSON */
        struct cq_dsl_catalog *cat;
        sqlite3 *db;              /* the fixture schema, made on first use */
    } cats[MAX_CATALOGS];
    size_t n_cats;
    bool update;
};

struct gcase {
    struct world *w;
    char *name;
    char *dir;
};

static struct world world;

/* ---- files ----------------------------------------------------------------------------- */

static char *path_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fail_msg("cannot write %s", path);
    }
    fputs(text, f);
    fclose(f);
}

static bool exists(const char *dir, const char *file)
{
    char *p = path_join(dir, file);
    struct stat st;
    bool ok = stat(p, &st) == 0;
    free(p);
    return ok;
}

/* Trailing newlines and spaces do not count. */
static void rtrim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) {
        s[--n] = '\0';
    }
}

static void print_diff(const char *name, const char *file, const char *want, const char *got)
{
    const char *w = want, *g = got;

    print_message("golden %s/%s differs:\n--- expected\n+++ actual\n", name, file);
    while (*w != '\0' || *g != '\0') {
        const char *we = strchr(w, '\n'), *ge = strchr(g, '\n');
        size_t wl = we ? (size_t)(we - w) : strlen(w), gl = ge ? (size_t)(ge - g) : strlen(g);
        if (wl == gl && memcmp(w, g, wl) == 0) {
            print_message(" %.*s\n", (int)wl, w);
        } else {
            if (*w != '\0') {
                print_message("-%.*s\n", (int)wl, w);
            }
            if (*g != '\0') {
                print_message("+%.*s\n", (int)gl, g);
            }
            /* show the first differing column */
            for (size_t i = 0; i < wl && i < gl; i++) {
                if (w[i] != g[i]) {
                    print_message("  (first difference at column %zu: ...%.40s)\n", i + 1,
                                  g + i);
                    break;
                }
            }
        }
        w += wl + (we != NULL);
        g += gl + (ge != NULL);
    }
}

/* ---- catalogs and the SQLite fixture database --------------------------------------------- */

static struct cq_dsl_catalog *build_catalog(const json_t *opts)
{
    json_t *meta = json_deep_copy(json_object_get(world.fixture, "metadata"));
    json_t *trino = json_object_get(opts, "trino");
    json_t *nocat = json_object_get(opts, "noTrinoCatalog");
    json_t *roles = json_deep_copy(json_object_get(world.fixture, "roles"));
    json_t *cerr = NULL;
    struct cq_err err = {0};
    struct cq_dsl_catalog *cat;
    size_t i;
    json_t *db;

    if (json_is_boolean(trino)) {
        json_object_set_new(meta, "trino", json_pack("{s:b}", "enabled", json_is_true(trino)));
    }
    json_array_foreach(json_object_get(meta, "databases"), i, db) {
        size_t k;
        json_t *id;
        json_array_foreach(nocat, k, id) {
            if (json_equal(id, json_object_get(db, "id"))) {
                json_object_del(db, "trinoCatalog");
            }
        }
    }
    json_array_extend(json_object_get(meta, "tables"), json_object_get(opts, "addTables"));
    json_array_extend(roles, json_object_get(opts, "addRoles"));
    cat = cq_dsl_catalog_new(meta, roles, NULL, &cerr, &err);
    if (cat == NULL) {
        char *s = cerr ? json_dumps(cerr, JSON_COMPACT) : NULL;
        fail_msg("catalog: %s %s", err.msg, s ? s : "");
    }
    json_decref(meta);
    json_decref(roles);
    return cat;
}

static size_t catalog_for(const json_t *opts)
{
    char *key = json_dumps(opts, JSON_COMPACT | JSON_SORT_KEYS);

    for (size_t i = 0; i < world.n_cats; i++) {
        if (strcmp(world.cats[i].key, key) == 0) {
            free(key);
            return i;
        }
    }
    assert_true(world.n_cats < MAX_CATALOGS);
    world.cats[world.n_cats].key = key;
    world.cats[world.n_cats].cat = build_catalog(opts);
    return world.n_cats++;
}

static void exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("sqlite fixture: %s\n  in: %s", msg, sql);
    }
}

static const char *const sqlite_types[] = {"TEXT", "INTEGER", "NUMERIC", "BOOLEAN", "TEXT",
                                           "DATE", "TIMESTAMP"};
static const char *const sample_values[] = {
    "'Abc%_x'", "1", "1.5", "1", "'00000000-0000-0000-0000-000000000001'", "'2024-01-15'",
    "'2024-01-15T10:00:00Z'"};
static const char *const sample_arrays[] = {
    "'[\"a\",\"b\"]'", "'[1,2]'", "'[1.5,2]'", "'[true,false]'",
    "'[\"00000000-0000-0000-0000-000000000001\"]'", "'[\"2024-01-15\"]'",
    "'[\"2024-01-15T10:00:00.000Z\"]'"};

/* CREATE TABLE "schema"."name" (...) plus one row, for a table or a replica of it. */
static void make_table(sqlite3 *db, const struct cq_dsl_table *t, const char *phys)
{
    struct cq_buf b;
    const char *dot = strchr(phys, '.');
    char schema[64];

    assert_non_null(dot);
    snprintf(schema, sizeof(schema), "%.*s", (int)(dot - phys), phys);
    cq_buf_init(&b, 1 << 20);
    {
        sqlite3_stmt *st;
        bool have;
        assert_int_equal(sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_database_list WHERE name "
                                            "= ?", -1, &st, NULL), SQLITE_OK);
        sqlite3_bind_text(st, 1, schema, -1, SQLITE_STATIC);
        have = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        if (!have) {
            cq_buf_puts(&b, "ATTACH ':memory:' AS ");
            cq_test_quote_ident(&b, schema, strlen(schema));
            exec_sql(db, cq_buf_str(&b));
        }
    }
    cq_buf_reset(&b);
    cq_buf_puts(&b, "CREATE TABLE ");
    cq_test_quote_ident(&b, schema, strlen(schema));
    cq_buf_putc(&b, '.');
    cq_test_quote_ident(&b, dot + 1, strlen(dot + 1));
    cq_buf_puts(&b, " (");
    for (size_t i = 0; i < t->n_columns; i++) {
        const struct cq_dsl_column *c = &t->columns[i];
        cq_buf_puts(&b, i ? ", " : "");
        cq_test_quote_ident(&b, c->phys, strlen(c->phys));
        cq_buf_printf(&b, " %s", c->array ? "JSON" : sqlite_types[c->type]);
    }
    cq_buf_puts(&b, "); INSERT INTO ");
    cq_test_quote_ident(&b, schema, strlen(schema));
    cq_buf_putc(&b, '.');
    cq_test_quote_ident(&b, dot + 1, strlen(dot + 1));
    cq_buf_puts(&b, " VALUES (");
    for (size_t i = 0; i < t->n_columns; i++) {
        const struct cq_dsl_column *c = &t->columns[i];
        cq_buf_printf(&b, "%s%s", i ? ", " : "",
                      c->array ? sample_arrays[c->type] : sample_values[c->type]);
    }
    cq_buf_puts(&b, ")");
    assert_int_equal(cq_buf_rc(&b), CQ_OK);
    exec_sql(db, cq_buf_str(&b));
    cq_buf_cleanup(&b);
}

static size_t catalog_for_empty(void)
{
    json_t *o = json_object();
    size_t ci = catalog_for(o);
    json_decref(o);
    return ci;
}

static sqlite3 *fixture_db(size_t ci)
{
    const struct cq_dsl_catalog *cat = world.cats[ci].cat;
    sqlite3 *db;

    if (world.cats[ci].db != NULL) {
        return world.cats[ci].db;
    }
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(cq_drv_sqlite_functions(db), CQ_OK);
    for (size_t i = 0; i < cat->n_tables; i++) {
        make_table(db, &cat->tables[i], cat->tables[i].phys);
    }
    for (size_t i = 0; i < cat->n_syncs; i++) {
        make_table(db, cat->syncs[i].source, cat->syncs[i].target_phys);
    }
    world.cats[ci].db = db;
    return db;
}

/* Binds the way the executor does for SQLite: scalars typed, booleans 0/1, an array
 * parameter (or any array/object value) as JSON text. */
static void bind_params(sqlite3_stmt *st, const struct cq_dsl_compiled *c)
{
    for (size_t i = 0; i < c->n_params; i++) {
        const struct cq_dsl_val *v = c->params[i].v;
        int k = (int)i + 1;
        if (c->params[i].array || v->kind == CQ_DSL_V_ARRAY || v->kind == CQ_DSL_V_OBJECT) {
            struct cq_buf b;
            cq_buf_init(&b, 1 << 20);
            cq_dsl_val_write(&b, v);
            sqlite3_bind_text(st, k, cq_buf_str(&b), -1, SQLITE_TRANSIENT);
            cq_buf_cleanup(&b);
            continue;
        }
        switch (v->kind) {
        case CQ_DSL_V_NULL:
            sqlite3_bind_null(st, k);
            break;
        case CQ_DSL_V_BOOL:
            sqlite3_bind_int(st, k, v->b);
            break;
        case CQ_DSL_V_INT:
            sqlite3_bind_int64(st, k, v->i);
            break;
        case CQ_DSL_V_REAL:
            sqlite3_bind_double(st, k, v->d);
            break;
        default:
            sqlite3_bind_text(st, k, v->s, (int)v->len, SQLITE_TRANSIENT);
            break;
        }
    }
}

/* The generated SQLite SQL prepares, takes every parameter and runs to the end. */
static void sqlite_runs(const char *name, size_t ci, const struct cq_dsl_compiled *c)
{
    sqlite3 *db = fixture_db(ci);
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, c->sql, -1, &st, NULL) != SQLITE_OK) {
        fail_msg("%s: sqlite.sql does not prepare: %s\n  %s", name, sqlite3_errmsg(db), c->sql);
    }
    assert_int_equal(sqlite3_bind_parameter_count(st), (int)c->n_params);
    bind_params(st, c);
    do {
        rc = sqlite3_step(st);
    } while (rc == SQLITE_ROW);
    if (rc != SQLITE_DONE) {
        fail_msg("%s: sqlite.sql fails to run: %s\n  %s", name, sqlite3_errmsg(db), c->sql);
    }
    sqlite3_finalize(st);
}

/* ---- one compile ---------------------------------------------------------------------------- */

static const char *const strategy_names[] = {"direct", "cache", "materialized",
                                             "trino-cross-db"};
static const char *const source_names[] = {"original", "materialized", "cache"};

static void put_str(struct cq_buf *b, const char *s)
{
    cq_json_put_str(b, s, strlen(s));
}

static void write_meta(struct cq_buf *b, const struct cq_dsl_compiled *c)
{
    cq_buf_puts(b, "{\"strategy\":");
    put_str(b, strategy_names[c->strategy]);
    cq_buf_puts(b, ",\"targetDatabase\":");
    put_str(b, c->target);
    cq_buf_puts(b, ",\"dialect\":");
    put_str(b, cq_dsl_dialect_name(c->dialect));
    cq_buf_puts(b, ",\"tablesUsed\":[");
    for (size_t i = 0; i < c->n_tables; i++) {
        const struct cq_dsl_table_use *u = &c->tables[i];
        cq_buf_puts(b, i ? ",{\"tableId\":" : "{\"tableId\":");
        put_str(b, u->table->id);
        cq_buf_puts(b, ",\"source\":");
        put_str(b, source_names[u->source]);
        cq_buf_puts(b, ",\"database\":");
        put_str(b, u->db->id);
        cq_buf_puts(b, ",\"physicalName\":");
        put_str(b, u->phys);
        cq_buf_putc(b, '}');
    }
    cq_buf_puts(b, "],\"columns\":[");
    for (size_t i = 0; i < c->n_cols; i++) {
        const struct cq_dsl_outcol *o = &c->cols[i];
        cq_buf_puts(b, i ? ",{\"apiName\":" : "{\"apiName\":");
        put_str(b, o->key);
        cq_buf_puts(b, ",\"type\":");
        put_str(b, o->type_name);
        cq_buf_printf(b, ",\"nullable\":%s,\"fromTable\":", o->nullable ? "true" : "false");
        put_str(b, o->from_table);
        cq_buf_printf(b, ",\"masked\":%s}", o->masked ? "true" : "false");
    }
    cq_buf_puts(b, "]}");
}

enum what { W_SQL, W_ERROR, W_META };

/*
 * Compiles the case once and renders what `what` asks for into a malloc'ed string:
 * W_SQL "<sql>\nparams: <json>" or "error: <json>"; W_ERROR "<json>" of the error (or
 * "no error: <sql>"); W_META the meta JSON (or "error: <json>").
 */
static char *run(const struct gcase *gc, const json_t *body, size_t ci, enum what what,
                 bool force, enum cq_dialect d)
{
    struct cq_arena a;
    struct cq_dsl_query *q = NULL;
    struct cq_dsl_context ctx;
    struct cq_dsl_error e = {0};
    struct cq_dsl_compiled c;
    struct cq_dsl_opts opts = {force, d, 1700000000000};
    struct cq_buf b;
    char *out;
    int rc;

    cq_arena_init(&a, 8192, 0);
    cq_buf_init(&b, 1 << 24);
    rc = cq_dsl_parse_request(&a, body, true, &q, &ctx, &e);
    if (rc == CQ_OK) {
        rc = cq_dsl_compile(world.cats[ci].cat, q, &ctx, &opts, &a, &c, &e);
    }
    if (rc != CQ_OK) {
        assert_non_null(e.body);
        if (what != W_ERROR) {
            cq_buf_puts(&b, "error: ");
        }
        cq_dsl_error_write(&e, &b);
    } else if (what == W_SQL) {
        cq_buf_puts(&b, c.sql);
        cq_buf_puts(&b, "\nparams: [");
        for (size_t i = 0; i < c.n_params; i++) {
            if (i > 0) {
                cq_buf_putc(&b, ',');
            }
            cq_dsl_val_write(&b, c.params[i].v);
        }
        cq_buf_putc(&b, ']');
        if (d == CQ_DIALECT_SQLITE) {
            sqlite_runs(gc->name, ci, &c);
        }
    } else if (what == W_META) {
        write_meta(&b, &c);
    } else {
        cq_buf_puts(&b, "no error: ");
        cq_buf_puts(&b, c.sql);
    }
    assert_int_equal(cq_buf_rc(&b), CQ_OK);
    out = strdup(cq_buf_str(&b));
    cq_buf_cleanup(&b);
    cq_dsl_error_cleanup(&e);
    cq_arena_free(&a);
    return out;
}

/* Compares (or with CQ_UPDATE_GOLDEN rewrites) one expectation file; true when equal. */
static bool check(const struct gcase *gc, const char *file, char *got)
{
    char *path = path_join(gc->dir, file);
    char *want = cq_test_read_file(path);
    bool ok;

    if (want != NULL) {
        rtrim(want);
    }
    ok = want != NULL && strcmp(want, got) == 0;
    if (!ok && gc->w->update) {
        size_t n = strlen(got);
        char *text = malloc(n + 2);
        memcpy(text, got, n);
        memcpy(text + n, "\n", 2);
        write_file(path, text);
        free(text);
        print_message("golden %s/%s updated\n", gc->name, file);
        ok = true;
    } else if (!ok) {
        print_diff(gc->name, file, want != NULL ? want : "(missing)", got);
    }
    free(want);
    free(path);
    free(got);
    return ok;
}

static void golden_case(void **state)
{
    const struct gcase *gc = *state;
    char *qpath = path_join(gc->dir, "query.json");
    char *opath = path_join(gc->dir, "options.json");
    json_error_t je;
    json_t *body = json_load_file(qpath, 0, &je);
    json_t *opts = json_load_file(opath, 0, &je);
    bool any = false, ok = true;
    size_t ci;

    if (body == NULL) {
        fail_msg("%s: bad query.json: %s", gc->name, je.text);
    }
    if (opts == NULL) {
        opts = json_object();
    }
    ci = catalog_for(opts);
    for (size_t i = 0; i < sizeof(dialect_files) / sizeof(dialect_files[0]); i++) {
        if (exists(gc->dir, dialect_files[i].file)) {
            any = true;
            ok &= check(gc, dialect_files[i].file,
                        run(gc, body, ci, W_SQL, true, dialect_files[i].d));
        }
    }
    if (exists(gc->dir, "error.txt")) {
        any = true;
        ok &= check(gc, "error.txt", run(gc, body, ci, W_ERROR, false, CQ_DIALECT_NONE));
    }
    if (exists(gc->dir, "meta.json")) {
        any = true;
        ok &= check(gc, "meta.json", run(gc, body, ci, W_META, false, CQ_DIALECT_NONE));
    }
    if (!any && gc->w->update) {
        /* a new case: every dialect, then meta.json or error.txt */
        char *probe = run(gc, body, ci, W_ERROR, false, CQ_DIALECT_NONE);
        bool fails = strncmp(probe, "no error: ", 10) != 0;
        free(probe);
        for (size_t i = 0; i < sizeof(dialect_files) / sizeof(dialect_files[0]); i++) {
            check(gc, dialect_files[i].file, run(gc, body, ci, W_SQL, true, dialect_files[i].d));
        }
        if (fails) {
            check(gc, "error.txt", run(gc, body, ci, W_ERROR, false, CQ_DIALECT_NONE));
        } else {
            check(gc, "meta.json", run(gc, body, ci, W_META, false, CQ_DIALECT_NONE));
        }
    } else if (!any) {
        fail_msg("%s: no expectation file (pg.sql, ch.sql, trino.sql, sqlite.sql, error.txt, "
                 "meta.json); run with CQ_UPDATE_GOLDEN=1 to create them", gc->name);
    }
    json_decref(body);
    json_decref(opts);
    free(qpath);
    free(opath);
    if (!ok) {
        fail_msg("%s: golden mismatch (see above)", gc->name);
    }
}


/* ---- the compile pipeline beyond the golden text --------------------------------------------- */

/* Compiles a request body (JSON text) against the fixture catalog. */
static int compile_text(struct cq_arena *a, const char *text, const struct cq_dsl_opts *opts,
                        struct cq_dsl_compiled *c, struct cq_dsl_error *e)
{
    json_error_t je;
    json_t *body = json_loads(text, 0, &je);
    struct cq_dsl_query *q = NULL;
    struct cq_dsl_context ctx;
    int rc;

    if (body == NULL) {
        fail_msg("bad test JSON: %s", je.text);
    }
    rc = cq_dsl_parse_request(a, body, true, &q, &ctx, e);
    json_decref(body);
    if (rc == CQ_OK) {
        rc = cq_dsl_compile(world.cats[catalog_for_empty()].cat, q, &ctx, opts, a, c, e);
    }
    return rc;
}

static const char *const debug_body =
    "{\"definition\":{\"from\":\"orders\",\"columns\":[\"id\"],\"debug\":true,"
    "\"filters\":[{\"column\":\"status\",\"operator\":\"=\",\"value\":\"paid\"}]},"
    "\"context\":{\"roles\":{\"user\":[\"tenant-user\"]},"
    "\"contextValues\":{\"tenantId\":\"6f1c2b3a-0000-4000-8000-0000000000aa\"}}}";

/* Phases in the order of spec §10.5 (plus "rls"), messages with their duration suffix. */
static void debug_log_phases(void **state)
{
    static const char *const phases[] = {"validation", "access-control", "rls", "planning",
                                         "name-resolution", "sql-generation"};
    static const char *const texts[] = {"Validated (", "Access resolved (",
                                        "Injected 1 row filter (", "Strategy: direct (",
                                        "Names resolved (", "Generated (postgres) ("};
    struct cq_dsl_opts opts = {false, CQ_DIALECT_NONE, 1700000000123};
    struct cq_arena a;
    struct cq_dsl_compiled c;
    struct cq_dsl_error e = {0};
    json_t *details;

    (void)state;
    cq_arena_init(&a, 8192, 0);
    assert_int_equal(compile_text(&a, debug_body, &opts, &c, &e), CQ_OK);
    assert_int_equal(c.n_debug, 6);
    for (size_t i = 0; i < c.n_debug; i++) {
        const char *m = c.debug[i].message;
        size_t n = strlen(m);
        assert_string_equal(c.debug[i].phase, phases[i]);
        assert_int_equal(c.debug[i].ts_ms, 1700000000123);
        assert_true(strncmp(m, texts[i], strlen(texts[i])) == 0);
        assert_true(n > 4 && strcmp(m + n - 3, "ms)") == 0);
        assert_non_null(strchr(m + strlen(texts[i]), '.')); /* one decimal */
    }
    /* sql-generation carries the SQL; rls lists the injected filter with its value */
    details = json_loads(c.debug[5].details_json, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(details, "sql")), c.sql);
    json_decref(details);
    details = json_loads(c.debug[2].details_json, 0, NULL);
    assert_int_equal(json_array_size(details), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(details, 0), "role")),
                        "tenant-user");
    assert_string_equal(json_string_value(json_object_get(json_array_get(details, 0),
                                                          "contextKey")), "tenantId");
    assert_string_equal(json_string_value(json_object_get(json_array_get(details, 0), "value")),
                        "6f1c2b3a-0000-4000-8000-0000000000aa");
    json_decref(details);
    assert_true(c.planning_ms >= 0 && c.generation_ms >= 0);
    cq_arena_free(&a);
}

/* Without debug (or without row filters) nothing extra is recorded. */
static void debug_log_only_when_asked(void **state)
{
    struct cq_arena a;
    struct cq_dsl_compiled c;
    struct cq_dsl_error e = {0};

    (void)state;
    cq_arena_init(&a, 8192, 0);
    assert_int_equal(compile_text(&a, "{\"from\":\"orders\",\"columns\":[\"id\"]}", NULL, &c, &e),
                     CQ_OK);
    assert_int_equal(c.n_debug, 0);
    assert_null(c.debug);
    assert_int_equal(compile_text(&a, "{\"from\":\"orders\",\"columns\":[\"id\"],\"debug\":true}",
                                  NULL, &c, &e), CQ_OK);
    assert_int_equal(c.n_debug, 5); /* no rls entry: nothing was injected */
    assert_string_equal(c.debug[2].phase, "planning");
    /* a failing compile has no log */
    assert_int_equal(compile_text(&a, "{\"from\":\"nope\",\"debug\":true}", NULL, &c, &e),
                     CQ_EINVAL);
    assert_int_equal(c.n_debug, 0);
    cq_dsl_error_cleanup(&e);
    cq_arena_free(&a);
}

/* force_dialect changes the SQL, not the plan. */
static void force_dialect_keeps_plan(void **state)
{
    struct cq_dsl_opts opts = {true, CQ_DIALECT_SQLITE, 0};
    struct cq_arena a;
    struct cq_dsl_compiled c;
    struct cq_dsl_error e = {0};

    (void)state;
    cq_arena_init(&a, 8192, 0);
    assert_int_equal(compile_text(&a, "{\"from\":\"events\",\"columns\":[\"id\"]}", &opts, &c, &e),
                     CQ_OK);
    assert_int_equal(c.strategy, CQ_DSL_STRAT_DIRECT);
    assert_string_equal(c.target, "ch-analytics");
    assert_int_equal(c.dialect, CQ_DIALECT_SQLITE);
    assert_string_equal(c.sql, "SELECT \"t0\".\"id\" AS \"t0__id\" FROM \"default\".\"events\" AS "
                               "\"t0\"");
    cq_arena_free(&a);
}

/* A dialect that cannot print an operator fails the compile with UNSUPPORTED_OPERATOR (no
 * shipped dialect lacks one, so a stand-in refuses them all). */
static int refuse_cond(struct cq_dsl_gen *g, const struct cq_dsl_cond *c)
{
    (void)g;
    (void)c;
    return CQ_EUNSUPPORTED;
}

static void unsupported_operator(void **state)
{
    struct cq_dsl_dialect d = cq_dsl_dialect_pg;
    struct cq_arena a;
    struct cq_dsl_compiled c;
    struct cq_dsl_error e = {0};
    struct cq_dsl_gen g;
    struct cq_dsl_access acc;
    struct cq_dsl_plan plan;
    struct cq_dsl_query *q = NULL;
    struct cq_dsl_context ctx;
    struct cq_buf b;
    json_t *body = json_loads("{\"from\":\"orders\",\"columns\":[\"id\"],\"filters\":["
                              "{\"column\":\"quantity\",\"operator\":\">\",\"value\":1},"
                              "{\"column\":\"status\",\"operator\":\"ilike\",\"value\":\"a\"}]}",
                              0, NULL);
    const struct cq_dsl_catalog *cat = world.cats[catalog_for_empty()].cat;

    (void)state;
    cq_arena_init(&a, 8192, 0);
    assert_int_equal(cq_dsl_parse_request(&a, body, true, &q, &ctx, &e), CQ_OK);
    assert_int_equal(cq_dsl_access_init(&acc, cat, &ctx, &a), CQ_OK);
    assert_int_equal(cq_dsl_plan(cat, q, &acc, &a, &plan, &e), CQ_OK);
    memset(&c, 0, sizeof(c));
    assert_int_equal(cq_dsl_gen_resolve(&g, cat, q, &acc, &plan, CQ_DIALECT_PG, &a, &c, &e),
                     CQ_OK);
    d.name = "testdb";
    d.cond = refuse_cond;
    g.d = &d;
    assert_int_equal(cq_dsl_gen_emit(&g), CQ_EINVAL);
    assert_int_equal(e.cls, CQ_DSL_E_VALIDATION);
    cq_buf_init(&b, 1 << 16);
    cq_dsl_error_write(&e, &b);
    assert_string_equal(cq_buf_str(&b),
        "{\"code\":\"VALIDATION_FAILED\",\"message\":\"Validation failed: 2 errors\","
        "\"fromTable\":\"orders\",\"errors\":[{\"code\":\"UNSUPPORTED_OPERATOR\",\"message\":"
        "\"Operator '>' is not supported by the testdb dialect\",\"details\":{\"operator\":\">\","
        "\"dialect\":\"testdb\",\"column\":\"quantity\",\"filterIndex\":0}},{\"code\":"
        "\"UNSUPPORTED_OPERATOR\",\"message\":\"Operator 'ilike' is not supported by the testdb "
        "dialect\",\"details\":{\"operator\":\"ilike\",\"dialect\":\"testdb\",\"column\":"
        "\"status\",\"filterIndex\":1}}]}");
    cq_buf_cleanup(&b);
    cq_dsl_error_cleanup(&e);
    json_decref(body);
    cq_arena_free(&a);
}

/* Every arena size from tiny upwards either compiles or fails cleanly with ENOMEM. */
static void arena_exhaustion(void **state)
{
    static const char *const body =
        "{\"definition\":{\"from\":\"users\",\"joins\":[{\"table\":\"orders\",\"filters\":["
        "{\"table\":\"users\"}]}],\"filters\":[{\"table\":\"orders\",\"count\":{\"operator\":"
        "\">=\",\"value\":2}},{\"column\":\"email\",\"operator\":\"in\",\"value\":[\"a\",\"b\"]}],"
        "\"orderBy\":[{\"column\":\"id\",\"direction\":\"asc\"}],\"limit\":5,\"debug\":true},"
        "\"context\":{\"roles\":{\"user\":[\"tenant-user\",\"regional-manager\"]},"
        "\"contextValues\":{\"tenantId\":\"6f1c2b3a-0000-4000-8000-0000000000aa\","
        "\"regionIds\":[\"eu\"]}}}";
    json_t *j = json_loads(body, 0, NULL);
    bool ok = false;

    (void)state;
    for (size_t max = 1024; max < (1u << 20) && !ok; max += 512) {
        struct cq_arena parse_a, a;
        struct cq_dsl_query *q = NULL;
        struct cq_dsl_context ctx;
        struct cq_dsl_compiled c;
        struct cq_dsl_error e = {0};
        int rc;

        cq_arena_init(&parse_a, 8192, 0);
        assert_int_equal(cq_dsl_parse_request(&parse_a, j, true, &q, &ctx, &e), CQ_OK);
        cq_arena_init(&a, 1024, max);
        rc = cq_dsl_compile(world.cats[catalog_for_empty()].cat, q, &ctx, NULL, &a, &c, &e);
        if (rc == CQ_OK) {
            ok = true;
            assert_non_null(strstr(c.sql, "LIMIT 5"));
        } else {
            if (rc != CQ_ENOMEM) {
                struct cq_buf eb;
                cq_buf_init(&eb, 1 << 16);
                cq_dsl_error_write(&e, &eb);
                fail_msg("max %zu: rc %d: %s", max, rc, cq_buf_str(&eb));
            }
            assert_int_equal(e.cls, CQ_DSL_E_INTERNAL);
        }
        cq_dsl_error_cleanup(&e);
        cq_arena_free(&a);
        cq_arena_free(&parse_a);
    }
    assert_true(ok);
    json_decref(j);
}

/* ---- discovery ------------------------------------------------------------------------------ */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    const char *src = getenv("CQ_SOURCE_DIR");
    char *catalog;
    json_error_t je;
    DIR *d;
    struct dirent *ent;
    char **names = NULL;
    size_t n = 0;
    struct CMUnitTest *tests;
    struct gcase *cases;
    int failed;

    world.root = path_join(src != NULL ? src : "../..", "tests/golden/dsl");
    world.update = getenv("CQ_UPDATE_GOLDEN") != NULL &&
                   strcmp(getenv("CQ_UPDATE_GOLDEN"), "1") == 0;
    catalog = path_join(world.root, "catalog.json");
    world.fixture = json_load_file(catalog, 0, &je);
    if (world.fixture == NULL) {
        fprintf(stderr, "cannot load %s: %s (set CQ_SOURCE_DIR)\n", catalog, je.text);
        return 1;
    }
    d = opendir(world.root);
    if (d == NULL) {
        fprintf(stderr, "cannot open %s\n", world.root);
        return 1;
    }
    while ((ent = readdir(d)) != NULL) {
        char *dir = path_join(world.root, ent->d_name);
        if (ent->d_name[0] != '.' && exists(dir, "query.json")) {
            names = realloc(names, (n + 1) * sizeof(*names));
            names[n++] = strdup(ent->d_name);
        }
        free(dir);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), by_name);
    tests = calloc(n + 1, sizeof(*tests));
    cases = calloc(n + 1, sizeof(*cases));
    for (size_t i = 0; i < n; i++) {
        cases[i].w = &world;
        cases[i].name = names[i];
        cases[i].dir = path_join(world.root, names[i]);
        tests[i].name = names[i];
        tests[i].test_func = golden_case;
        tests[i].initial_state = &cases[i];
    }
    failed = _cmocka_run_group_tests("dsl_golden", tests, n, NULL, NULL);
    {
        const struct CMUnitTest pipeline[] = {
            cmocka_unit_test(debug_log_phases),
            cmocka_unit_test(debug_log_only_when_asked),
            cmocka_unit_test(force_dialect_keeps_plan),
            cmocka_unit_test(unsupported_operator),
            cmocka_unit_test(arena_exhaustion),
        };
        failed += cmocka_run_group_tests_name("dsl_compile", pipeline, NULL, NULL);
    }
    for (size_t i = 0; i < world.n_cats; i++) {
        cq_dsl_catalog_unref(world.cats[i].cat);
        sqlite3_close(world.cats[i].db);
        free(world.cats[i].key);
    }
    for (size_t i = 0; i < n; i++) {
        free(cases[i].dir);
        free(names[i]);
    }
    free(names);
    free(tests);
    free(cases);
    free(catalog);
    free(world.root);
    json_decref(world.fixture);
    return failed;
}
