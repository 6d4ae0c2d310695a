/*
 * test_dsl_lifecycle.c - the lifecycle of seeds/001 stages 5 and 12 on the shared fixture
 * (tests/golden/dsl/catalog.json):
 *
 *   - reload (spec §12): a registry snapshot taken before a reload keeps compiling against
 *     the old catalog while new gets see the new one; compiled output stays valid while its
 *     snapshot is held; a failed reload (cq_dsl_catalog_new answering a ConfigError) leaves
 *     the old catalog in place; reference counts come back down and every catalog is freed
 *     (the asan build's leak checker fails the test otherwise), also with readers compiling
 *     on other threads during reloads;
 *   - the pipeline's output (spec §10): debug log phases and their order (§10.5 plus clariq's
 *     `rls` phase), timestamps, per-phase times and meta.timing non-negative, executionMs
 *     only when a database was queried, the key order of results, count mode with
 *     meta.columns [], and the exact §11 body of EXECUTOR_MISSING for a ClickHouse table.
 *
 * The reference's close() has no counterpart: clariq has no in-process client object (the
 * caller owns its connection pools), see docs/internals/dsl-coverage.md.
 */
#include <ctype.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/arena.h"
#include "base/buf.h"
#include "dsl/dsl.h"
#include "dslfake.h"
#include "dsltest.h"

#define TENANT_A "6f1c2b3a-0000-4000-8000-0000000000aa"
#define ADMIN "{'roles':{'user':['admin']}}"
#define TENANT "{'roles':{'user':['tenant-user']},'contextValues':{'tenantId':'" TENANT_A "'}}"

#define SQL_ORDERS_OLD "SELECT \"t0\".\"id\" AS \"t0__id\" FROM \"public\".\"orders\" AS \"t0\""
#define SQL_ORDERS_NEW "SELECT \"t0\".\"id\" AS \"t0__id\" FROM \"sales\".\"orders_v2\" AS \"t0\""

static json_t *fixture; /* catalog.json, read once */

static char *dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

static int group_setup(void **state)
{
    (void)state;
    fixture = cq_test_dsl_fixture();
    return fixture != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    json_decref(fixture);
    return 0;
}

/* ---- catalogs -------------------------------------------------------------------------------- */

/* The fixture's metadata (a new copy) and roles (borrowed). */
static json_t *metadata(void)
{
    return json_deep_copy(json_object_get(fixture, "metadata"));
}

static json_t *roles(void)
{
    return json_object_get(fixture, "roles");
}

static json_t *table_of(json_t *md, const char *id)
{
    size_t i;
    json_t *t;

    json_array_foreach(json_object_get(md, "tables"), i, t) {
        if (strcmp(json_string_value(json_object_get(t, "id")), id) == 0) {
            return t;
        }
    }
    fail_msg("no table %s", id);
    return NULL;
}

/* The "next version" of the catalog: orders moved to sales.orders_v2 and given a column
 * `channel`. */
static json_t *metadata_v2(void)
{
    json_t *md = metadata();
    json_t *orders = table_of(md, "orders");

    json_object_set_new(orders, "physicalName", json_string("sales.orders_v2"));
    json_array_append_new(json_object_get(orders, "columns"),
                          cq_test_json("{'apiName':'channel','physicalName':'sales_channel',"
                                       "'type':'string','nullable':true}"));
    return md;
}

static struct cq_dsl_catalog *load(json_t *md, const json_t *rl, const char *conns)
{
    json_t *cerr = NULL, *cj = conns != NULL ? cq_test_json(conns) : NULL;
    struct cq_err err = {0};
    struct cq_dsl_catalog *cat = cq_dsl_catalog_new(md, rl, cj, &cerr, &err);

    if (cat == NULL) {
        char *s = cerr != NULL ? dump(cerr) : NULL;
        fail_msg("catalog: %s %s", err.msg, s != NULL ? s : "");
    }
    json_decref(cj);
    json_decref(md);
    return cat;
}

/*
 * What a reload is (spec §12): build the whole new catalog first, swap only when it is
 * valid. On failure the ConfigError body goes to *cerr and the registry is untouched.
 */
static int reload(struct cq_dsl_registry *reg, const json_t *md, const json_t *rl,
                  json_t **cerr)
{
    struct cq_err err = {0};
    struct cq_dsl_catalog *cat = cq_dsl_catalog_new(md, rl, NULL, cerr, &err);

    if (cat == NULL) {
        return err.rc != CQ_OK ? (int)err.rc : CQ_EINVAL;
    }
    cq_dsl_registry_swap(reg, cat);
    return CQ_OK;
}

static int refs(struct cq_dsl_catalog *cat)
{
    return atomic_load(&cat->refs);
}

/* ---- compiling ------------------------------------------------------------------------------- */

struct job {
    struct cq_arena a;
    struct cq_dsl_compiled c;
    struct cq_dsl_error e;
};

static void job_init(struct job *j)
{
    memset(j, 0, sizeof(*j));
    cq_arena_init(&j->a, 8192, 0);
}

static void job_cleanup(struct job *j)
{
    cq_dsl_error_cleanup(&j->e);
    cq_arena_free(&j->a);
}

/* Parses {"definition","context"} and compiles it in j (opts may be NULL). */
static int compile_in(struct job *j, const struct cq_dsl_catalog *cat, const char *def,
                      const char *ctx, const struct cq_dsl_opts *opts)
{
    json_t *body =
        json_pack("{s:o,s:o}", "definition", cq_test_json(def), "context", cq_test_json(ctx));
    struct cq_dsl_query *q = NULL;
    struct cq_dsl_context qc;
    int rc;

    cq_dsl_error_cleanup(&j->e);
    rc = cq_dsl_parse_request(&j->a, body, false, &q, &qc, &j->e);
    json_decref(body);
    if (rc == CQ_OK) {
        rc = cq_dsl_compile(cat, q, &qc, opts, &j->a, &j->c, &j->e);
    }
    return rc;
}

static char *error_json(const struct cq_dsl_error *e)
{
    struct cq_buf b;
    char *s;

    cq_buf_init(&b, 1 << 20);
    cq_dsl_error_write(e, &b);
    s = strdup(cq_buf_str(&b));
    cq_buf_cleanup(&b);
    return s;
}

static void compile_ok(struct job *j, const struct cq_dsl_catalog *cat, const char *def,
                       const char *ctx)
{
    if (compile_in(j, cat, def, ctx, NULL) != CQ_OK) {
        char *s = error_json(&j->e);
        fail_msg("compile failed: %s\n  query: %s", s, def);
    }
}

static void expect_error(struct job *j, const struct cq_dsl_catalog *cat, const char *def,
                         const char *ctx, const char *want)
{
    char *got;

    assert_int_not_equal(compile_in(j, cat, def, ctx, NULL), CQ_OK);
    got = error_json(&j->e);
    assert_string_equal(got, want);
    free(got);
}

/* ---- executing on the fake PostgreSQL driver (dslfake.h) ------------------------------------ */

/* Executes into a fresh buffer; returns the parsed result (caller decrefs) or fails. */
static json_t *execute_json(const struct cq_dsl_compiled *c, struct cq_test_feed *f, char **raw)
{
    struct cq_test_fake_conn conn;
    struct cq_dsl_exec_env env;
    struct cq_dsl_error e = {0};
    struct cq_buf out;
    json_error_t je;
    json_t *doc;

    cq_test_fake_init(&conn, f, &env);
    cq_buf_init(&out, 1 << 20);
    if (cq_dsl_execute(c, &env, &out, &e) != CQ_OK) {
        char *s = error_json(&e);
        fail_msg("execute failed: %s", s);
    }
    assert_int_equal(f->n_acquire, f->n_release);
    doc = json_loads(cq_buf_str(&out), 0, &je);
    if (doc == NULL) {
        fail_msg("result is not JSON (%s): %s", je.text, cq_buf_str(&out));
    }
    if (raw != NULL) {
        *raw = strdup(cq_buf_str(&out));
    }
    cq_buf_cleanup(&out);
    return doc;
}

/* ---- 1. reload ------------------------------------------------------------------------------- */

/* A snapshot taken before a reload keeps compiling against the old catalog; new gets see
 * the new one; output compiled from the old snapshot stays usable while it is held. */
static void snapshot_survives_reload(void **state)
{
    struct cq_dsl_registry reg;
    struct cq_dsl_catalog *old, *snap, *cur;
    struct job before, j;
    json_t *cerr = NULL, *md, *doc;
    struct cq_test_feed f = {0};

    (void)state;
    cq_dsl_registry_init(&reg);
    assert_null(cq_dsl_registry_get(&reg)); /* nothing loaded yet */
    old = load(metadata(), roles(), NULL);
    cq_dsl_registry_swap(&reg, old);
    assert_int_equal(refs(old), 1);

    snap = cq_dsl_registry_get(&reg);
    assert_ptr_equal(snap, old);
    assert_int_equal(refs(old), 2);
    job_init(&before);
    job_init(&j);
    compile_ok(&before, snap, "{'from':'orders','columns':['id'],'executeMode':'sql-only'}",
               ADMIN);
    assert_string_equal(before.c.sql, SQL_ORDERS_OLD);

    md = metadata_v2();
    assert_int_equal(reload(&reg, md, roles(), &cerr), CQ_OK);
    json_decref(md);
    assert_null(cerr);
    assert_int_equal(refs(old), 1); /* the registry let go; the snapshot holds it */

    /* new gets: the new catalog */
    cur = cq_dsl_registry_get(&reg);
    assert_ptr_not_equal(cur, old);
    assert_int_equal(refs(cur), 2);
    compile_ok(&j, cur, "{'from':'orders','columns':['id'],'executeMode':'sql-only'}", ADMIN);
    assert_string_equal(j.c.sql, SQL_ORDERS_NEW);
    compile_ok(&j, cur, "{'from':'orders','columns':['channel'],'executeMode':'sql-only'}",
               ADMIN);
    assert_string_equal(j.c.sql, "SELECT \"t0\".\"sales_channel\" AS \"t0__sales_channel\" "
                        "FROM \"sales\".\"orders_v2\" AS \"t0\"");

    /* the old snapshot: the old names, and the new column does not exist there */
    compile_ok(&j, snap, "{'from':'orders','columns':['id'],'executeMode':'sql-only'}", ADMIN);
    assert_string_equal(j.c.sql, SQL_ORDERS_OLD);
    expect_error(&j, snap, "{'from':'orders','columns':['channel']}", ADMIN,
                 "{\"code\":\"VALIDATION_FAILED\",\"message\":\"Validation failed: 1 error\","
                 "\"fromTable\":\"orders\",\"errors\":[{\"code\":\"UNKNOWN_COLUMN\",\"message\":"
                 "\"Column 'channel' does not exist in table 'orders'\",\"details\":{\"table\":"
                 "\"orders\",\"column\":\"channel\"}}]}");

    /* output compiled before the reload still renders from the old catalog's memory */
    doc = execute_json(&before.c, &f, NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "sql")), SQL_ORDERS_OLD);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
        json_object_get(doc, "meta"), "tablesUsed"), 0), "physicalName")), "public.orders");
    json_decref(doc);
    assert_int_equal(f.n_acquire, 0);

    job_cleanup(&before);
    job_cleanup(&j);
    assert_int_equal(refs(old), 1);
    cq_dsl_catalog_unref(snap); /* the last reference: the old catalog is freed here */
    assert_int_equal(refs(cur), 2);
    cq_dsl_catalog_unref(cur);
    assert_int_equal(refs(cur), 1);
    cq_dsl_registry_cleanup(&reg); /* frees the new one (leak checker: nothing left) */
}

/* A reload that fails validation changes nothing: the old catalog keeps serving. */
static void failed_reload_keeps_old_catalog(void **state)
{
    struct cq_dsl_registry reg;
    struct cq_dsl_catalog *old, *cur;
    struct job j;
    json_t *cerr = NULL, *md, *rl;
    char *s;

    (void)state;
    cq_dsl_registry_init(&reg);
    old = load(metadata(), roles(), NULL);
    cq_dsl_registry_swap(&reg, old);
    job_init(&j);

    /* metadata: a table on a database that does not exist (spec §6) */
    md = metadata_v2();
    json_object_set_new(table_of(md, "orders"), "database", json_string("pg-gone"));
    assert_int_equal(reload(&reg, md, roles(), &cerr), CQ_EINVAL);
    json_decref(md);
    assert_non_null(cerr);
    s = dump(cerr);
    assert_string_equal(s, "{\"code\":\"CONFIG_INVALID\",\"message\":\"Config invalid: 1 error\","
                        "\"errors\":[{\"code\":\"INVALID_REFERENCE\",\"message\":\"Table "
                        "'orders' references non-existent database 'pg-gone'\",\"details\":{"
                        "\"entity\":\"orders\",\"field\":\"database\",\"actual\":\"pg-gone\","
                        "\"database\":\"pg-gone\"}}]}");
    free(s);
    json_decref(cerr);
    cerr = NULL;

    /* roles: a grant naming a column the (valid, new) metadata does not have */
    md = metadata_v2();
    rl = json_deep_copy(roles());
    json_array_append_new(rl, cq_test_json("{'id':'reporting','tables':[{'tableId':'orders',"
                                           "'allowedColumns':['id','channnel']}]}"));
    assert_int_equal(reload(&reg, md, rl, &cerr), CQ_EINVAL);
    json_decref(md);
    json_decref(rl);
    assert_non_null(cerr);
    assert_string_equal(json_string_value(json_object_get(cerr, "code")), "CONFIG_INVALID");
    s = dump(json_object_get(json_array_get(json_object_get(cerr, "errors"), 0), "code"));
    assert_string_equal(s, "\"INVALID_ROLE\"");
    free(s);
    json_decref(cerr);

    /* still the old catalog, still the only reference the registry holds */
    assert_int_equal(refs(old), 1);
    cur = cq_dsl_registry_get(&reg);
    assert_ptr_equal(cur, old);
    compile_ok(&j, cur, "{'from':'orders','columns':['id'],'executeMode':'sql-only'}", ADMIN);
    assert_string_equal(j.c.sql, SQL_ORDERS_OLD);
    cq_dsl_catalog_unref(cur);
    job_cleanup(&j);
    cq_dsl_registry_cleanup(&reg);
}

/* Roles reload too (the reference's reloadRoles): a new catalog with the same metadata and
 * changed roles; the snapshot keeps the old rights, new gets see the new ones. */
static void roles_reload_changes_access(void **state)
{
    struct cq_dsl_registry reg;
    struct cq_dsl_catalog *snap, *cur;
    struct job j;
    json_t *cerr = NULL, *md = metadata(), *rl = json_deep_copy(roles());
    const char *def = "{'from':'orders','columns':['id','internalNote'],"
                      "'executeMode':'sql-only'}";
    size_t i;
    json_t *r;

    (void)state;
    cq_dsl_registry_init(&reg);
    cq_dsl_registry_swap(&reg, load(metadata(), roles(), NULL));
    snap = cq_dsl_registry_get(&reg);
    job_init(&j);

    /* tenant-user may now read internalNote, masked */
    json_array_foreach(rl, i, r) {
        if (strcmp(json_string_value(json_object_get(r, "id")), "tenant-user") == 0) {
            json_t *g = json_array_get(json_object_get(r, "tables"), 0);
            json_array_append_new(json_object_get(g, "allowedColumns"),
                                  json_string("internalNote"));
            json_object_set_new(g, "maskedColumns", cq_test_json("['internalNote']"));
        }
    }
    assert_int_equal(reload(&reg, md, rl, &cerr), CQ_OK);
    json_decref(md);
    json_decref(rl);

    cur = cq_dsl_registry_get(&reg);
    compile_ok(&j, cur, def, TENANT);
    assert_string_equal(j.c.sql, "SELECT \"t0\".\"id\" AS \"t0__id\", \"t0\".\"internal_note\" "
                        "AS \"t0__internal_note\" FROM \"public\".\"orders\" AS \"t0\" WHERE "
                        "\"t0\".\"tenant_id\" = $1");
    assert_int_equal(j.c.n_cols, 2);
    assert_false(j.c.cols[0].masked);
    assert_true(j.c.cols[1].masked);
    expect_error(&j, snap, def, TENANT,
                 "{\"code\":\"VALIDATION_FAILED\",\"message\":\"Validation failed: 1 error\","
                 "\"fromTable\":\"orders\",\"errors\":[{\"code\":\"ACCESS_DENIED\",\"message\":"
                 "\"Column 'internalNote' in table 'orders' is not allowed\",\"details\":{"
                 "\"table\":\"orders\",\"column\":\"internalNote\"}}]}");
    cq_dsl_catalog_unref(snap);
    cq_dsl_catalog_unref(cur);
    job_cleanup(&j);
    cq_dsl_registry_cleanup(&reg);
}

/* Every get adds one reference, every unref drops one; the count is back at the registry's
 * single reference once readers are done, and a reload releases the old catalog when its
 * last reader goes (run under asan: a missed unref is a reported leak, an extra one a
 * use-after-free). */
static void refcounts_balance(void **state)
{
    struct cq_dsl_registry reg;
    struct cq_dsl_catalog *cat, *held[5], *next;

    (void)state;
    cq_dsl_registry_init(&reg);
    cat = load(metadata(), roles(), NULL);
    cq_dsl_registry_swap(&reg, cat);
    for (int i = 0; i < 5; i++) {
        held[i] = cq_dsl_registry_get(&reg);
        assert_ptr_equal(held[i], cat);
        assert_int_equal(refs(cat), i + 2);
    }
    next = load(metadata_v2(), roles(), NULL);
    cq_dsl_registry_swap(&reg, next);
    assert_int_equal(refs(cat), 5);
    assert_int_equal(refs(next), 1);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(refs(cat), 5 - i);
        cq_dsl_catalog_unref(held[i]); /* the fifth frees the old catalog */
    }
    /* swapping in the same catalog version twice in a row is harmless */
    cq_dsl_registry_swap(&reg, load(metadata(), roles(), NULL));
    cq_dsl_registry_swap(&reg, load(metadata(), roles(), NULL));
    cat = cq_dsl_registry_get(&reg);
    assert_int_equal(refs(cat), 2);
    cq_dsl_catalog_unref(cat);
    cq_dsl_registry_cleanup(&reg);
    cq_dsl_registry_cleanup(NULL); /* no-op */
}

struct reader {
    struct cq_dsl_registry *reg;
    atomic_bool done;
    int n_old, n_new;
    char bad[256];                /* first inconsistency seen (asserts stay on the main thread) */
};

/* Compiles against whatever snapshot is current; the SQL must match that snapshot's own
 * physical name for orders, whatever the writer swaps meanwhile. */
static void *reader_loop(void *arg)
{
    struct reader *r = arg;
    struct job j;

    job_init(&j);
    for (int i = 0; i < 400 && r->bad[0] == '\0'; i++) {
        struct cq_dsl_catalog *cat = cq_dsl_registry_get(r->reg);
        const struct cq_dsl_table *t = cq_dsl_table_by_api(cat, "orders");
        bool v2 = strcmp(t->phys, "sales.orders_v2") == 0;
        if (compile_in(&j, cat, "{'from':'orders','columns':['id'],'executeMode':'sql-only'}",
                       ADMIN, NULL) != CQ_OK) {
            snprintf(r->bad, sizeof(r->bad), "compile failed on iteration %d", i);
        } else if (strcmp(j.c.sql, v2 ? SQL_ORDERS_NEW : SQL_ORDERS_OLD) != 0) {
            snprintf(r->bad, sizeof(r->bad), "snapshot %s but SQL %s", t->phys, j.c.sql);
        }
        if (v2) {
            r->n_new++;
        } else {
            r->n_old++;
        }
        cq_dsl_catalog_unref(cat);
        cq_arena_reset(&j.a);
    }
    job_cleanup(&j);
    atomic_store(&r->done, true);
    return NULL;
}

static void readers_compile_during_reloads(void **state)
{
    struct cq_dsl_registry reg;
    struct reader rd[2];
    pthread_t th[2];
    json_t *v1 = metadata(), *v2 = metadata_v2();

    (void)state;
    cq_dsl_registry_init(&reg);
    cq_dsl_registry_swap(&reg, load(json_deep_copy(v1), roles(), NULL));
    for (int i = 0; i < 2; i++) {
        rd[i] = (struct reader){.reg = &reg, .done = false};
        assert_int_equal(pthread_create(&th[i], NULL, reader_loop, &rd[i]), 0);
    }
    /* reload back and forth for as long as the readers run */
    for (int i = 0; i < 100000 && !(atomic_load(&rd[0].done) && atomic_load(&rd[1].done));
         i++) {
        json_t *cerr = NULL;
        assert_int_equal(reload(&reg, i % 2 == 0 ? v2 : v1, roles(), &cerr), CQ_OK);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        if (rd[i].bad[0] != '\0') {
            fail_msg("reader %d: %s", i, rd[i].bad);
        }
        assert_int_equal(rd[i].n_old + rd[i].n_new, 400);
        print_message("reader %d: %d compiles on the old version, %d on the new\n", i,
                      rd[i].n_old, rd[i].n_new);
    }
    json_decref(v1);
    json_decref(v2);
    cq_dsl_registry_cleanup(&reg);
}

/* ---- 2. the debug log, timings, key order ---------------------------------------------------- */

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keys of obj, in the order they were written, are exactly `want` (NULL-terminated). */
static void keys_are(json_t *obj, const char *const *want, const char *what)
{
    const char *key;
    json_t *v;
    size_t i = 0;

    assert_true(json_is_object(obj));
    json_object_foreach(obj, key, v) {
        if (want[i] == NULL || strcmp(key, want[i]) != 0) {
            char *s = dump(obj);
            fail_msg("%s: key %zu is '%s', want '%s'\n  in %s", what, i, key,
                     want[i] != NULL ? want[i] : "(end)", s);
        }
        i++;
    }
    if (want[i] != NULL) {
        fail_msg("%s: key '%s' missing", what, want[i]);
    }
}

/* "<text> (<ms with one decimal>ms)" with a non-negative time; returns it. */
static double phase_ms(const char *msg, const char *text)
{
    size_t n = strlen(text), len = strlen(msg);
    const char *p = msg + n + 2, *dot;
    char *end;
    double ms;

    if (strncmp(msg, text, n) != 0 || strncmp(msg + n, " (", 2) != 0 || len < n + 5 ||
        strcmp(msg + len - 3, "ms)") != 0) {
        fail_msg("debug message '%s' is not '%s (N.Nms)'", msg, text);
    }
    ms = strtod(p, &end);
    dot = strchr(p, '.');
    if (!isdigit((unsigned char)*p) || end != msg + len - 3 || dot == NULL || dot + 2 != end ||
        ms < 0) {
        fail_msg("debug message '%s': time is not a non-negative number with one decimal", msg);
    }
    return ms;
}

/* timing = {planningMs, generationMs[, executionMs]}, non-negative integers. */
static void timing_ok(const json_t *result, bool executed)
{
    static const char *const sql_keys[] = {"planningMs", "generationMs", NULL};
    static const char *const exec_keys[] = {"planningMs", "generationMs", "executionMs", NULL};
    json_t *t = json_object_get(json_object_get(result, "meta"), "timing");
    const char *key;
    json_t *v;

    keys_are(t, executed ? exec_keys : sql_keys, "meta.timing");
    json_object_foreach(t, key, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            fail_msg("meta.timing.%s is not a non-negative integer", key);
        }
    }
}

static const char *entry_str(const json_t *log, size_t i, const char *key)
{
    return json_string_value(json_object_get(json_array_get(log, i), key));
}

/* The phases of the log, in order, are exactly `want`; timestamps lie between lo and hi,
 * never go back, and every entry has the §10.5 keys. */
static void phases_are(const json_t *log, const char *const *want, int64_t lo, int64_t hi)
{
    static const char *const keys[] = {"timestamp", "phase", "message", NULL};
    static const char *const keys_d[] = {"timestamp", "phase", "message", "details", NULL};
    int64_t prev = lo;
    size_t n = 0;

    while (want[n] != NULL) {
        n++;
    }
    assert_true(json_is_array(log));
    if (json_array_size(log) != n) {
        char *s = dump(log);
        fail_msg("debug log has %zu entries, want %zu: %s", json_array_size(log), n, s);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(log, i);
        int64_t ts = json_integer_value(json_object_get(e, "timestamp"));
        assert_string_equal(entry_str(log, i, "phase"), want[i]);
        keys_are(e, json_object_get(e, "details") != NULL ? keys_d : keys, "debug entry");
        assert_true(json_is_integer(json_object_get(e, "timestamp")));
        if (ts < prev || ts > hi) {
            fail_msg("entry %zu: timestamp %lld outside [%lld, %lld]", i, (long long)ts,
                     (long long)prev, (long long)hi);
        }
        prev = ts;
    }
}

/* §10.5 with clariq's rls phase after access control, on a sql-only query of tenant-user. */
static void debug_log_phases_in_order(void **state)
{
    static const char *const phases[] = {"validation", "access-control", "rls", "planning",
                                         "name-resolution", "sql-generation", NULL};
    static const char *const top[] = {"kind", "sql", "params", "meta", "debugLog", NULL};
    struct cq_dsl_catalog *cat = load(metadata(), roles(), NULL);
    struct cq_test_feed f = {0};
    struct job j;
    json_t *doc, *log;
    int64_t lo, hi;
    char *s;

    (void)state;
    job_init(&j);
    lo = wall_ms();
    compile_ok(&j, cat, "{'from':'orders','columns':['id'],'debug':true,"
               "'executeMode':'sql-only'}", TENANT);
    doc = execute_json(&j.c, &f, NULL);
    hi = wall_ms();
    keys_are(doc, top, "sql-only result");
    log = json_object_get(doc, "debugLog");
    phases_are(log, phases, lo, hi);
    phase_ms(entry_str(log, 0, "message"), "Validated");
    phase_ms(entry_str(log, 1, "message"), "Access resolved");
    phase_ms(entry_str(log, 2, "message"), "Injected 1 row filter");
    phase_ms(entry_str(log, 3, "message"), "Strategy: direct");
    phase_ms(entry_str(log, 4, "message"), "Names resolved");
    phase_ms(entry_str(log, 5, "message"), "Generated (postgres)");
    s = dump(json_object_get(json_array_get(log, 2), "details"));
    assert_string_equal(s, "[{\"table\":\"orders\",\"role\":\"tenant-user\",\"column\":"
                        "\"tenantId\",\"operator\":\"=\",\"contextKey\":\"tenantId\","
                        "\"value\":\"" TENANT_A "\"}]");
    free(s);
    /* the SQL in the log is the SQL of the result */
    assert_string_equal(json_string_value(json_object_get(json_object_get(
                            json_array_get(log, 5), "details"), "sql")),
                        json_string_value(json_object_get(doc, "sql")));
    for (size_t i = 0; i < 5; i++) {
        if (i != 2) {
            assert_null(json_object_get(json_array_get(log, i), "details"));
        }
    }
    timing_ok(doc, false);
    json_decref(doc);
    job_cleanup(&j);
    cq_dsl_catalog_unref(cat);
}

/* Strategy names in the log are the internal ones (trino, not trino-cross-db); no rls entry
 * when no row filter applies; two filters of two tables are listed in table order. */
static void debug_log_per_strategy(void **state)
{
    static const char *const plain[] = {"validation", "access-control", "planning",
                                        "name-resolution", "sql-generation", NULL};
    static const struct {
        const char *def, *strategy, *generated;
    } cases[] = {
        {"{'from':'orders','columns':['id']}", "Strategy: direct", "Generated (postgres)"},
        {"{'from':'users','byIds':[1]}", "Strategy: cache", "Generated (postgres)"},
        {"{'from':'orders','columns':['id'],'joins':[{'table':'events'}]}",
         "Strategy: materialized", "Generated (clickhouse)"},
        {"{'from':'orders','columns':['id'],'joins':[{'table':'invoices'}]}", "Strategy: trino",
         "Generated (trino)"},
    };
    struct cq_dsl_catalog *cat = load(metadata(), roles(), NULL);
    struct job j;
    char def[256];
    char *s;

    (void)state;
    job_init(&j);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cq_test_feed f = {0};
        json_t *doc, *log;
        snprintf(def, sizeof(def), "%.*s,'debug':true,'executeMode':'sql-only'}",
                 (int)strlen(cases[i].def) - 1, cases[i].def);
        compile_ok(&j, cat, def, ADMIN);
        doc = execute_json(&j.c, &f, NULL);
        log = json_object_get(doc, "debugLog");
        phases_are(log, plain, 0, INT64_MAX);
        phase_ms(entry_str(log, 2, "message"), cases[i].strategy);
        phase_ms(entry_str(log, 4, "message"), cases[i].generated);
        json_decref(doc);
    }

    /* regional-manager: orders and users both filtered on regionId */
    compile_ok(&j, cat, "{'from':'orders','columns':['id'],'joins':[{'table':'users',"
               "'columns':['id']}],'debug':true,'executeMode':'sql-only'}",
               "{'roles':{'user':['regional-manager']},'contextValues':{'regionIds':['eu','us']}}");
    assert_int_equal(j.c.n_debug, 6);
    assert_string_equal(j.c.debug[2].phase, "rls");
    phase_ms(j.c.debug[2].message, "Injected 2 row filters");
    {
        json_error_t je;
        json_t *d = json_loads(j.c.debug[2].details_json, 0, &je);
        s = dump(d);
        assert_string_equal(s, "[{\"table\":\"orders\",\"role\":\"regional-manager\",\"column\":"
                            "\"regionId\",\"operator\":\"in\",\"contextKey\":\"regionIds\","
                            "\"value\":[\"eu\",\"us\"]},{\"table\":\"users\",\"role\":"
                            "\"regional-manager\",\"column\":\"regionId\",\"operator\":\"in\","
                            "\"contextKey\":\"regionIds\",\"value\":[\"eu\",\"us\"]}]");
        free(s);
        json_decref(d);
    }
    job_cleanup(&j);
    cq_dsl_catalog_unref(cat);
}

/* No debugLog without debug:true; none on errors (§10.5); the compile keeps no entries. */
static void debug_log_only_when_asked(void **state)
{
    static const char *const top[] = {"kind", "sql", "params", "meta", NULL};
    struct cq_dsl_catalog *cat = load(metadata(), roles(), NULL);
    struct cq_test_feed f = {0};
    struct job j;
    json_t *doc;

    (void)state;
    job_init(&j);
    compile_ok(&j, cat, "{'from':'orders','columns':['id'],'executeMode':'sql-only'}", TENANT);
    assert_int_equal(j.c.n_debug, 0);
    doc = execute_json(&j.c, &f, NULL);
    keys_are(doc, top, "sql-only result without debug");
    timing_ok(doc, false);
    json_decref(doc);

    expect_error(&j, cat, "{'from':'orders','columns':['nope'],'debug':true}", ADMIN,
                 "{\"code\":\"VALIDATION_FAILED\",\"message\":\"Validation failed: 1 error\","
                 "\"fromTable\":\"orders\",\"errors\":[{\"code\":\"UNKNOWN_COLUMN\",\"message\":"
                 "\"Column 'nope' does not exist in table 'orders'\",\"details\":{\"table\":"
                 "\"orders\",\"column\":\"nope\"}}]}");
    job_cleanup(&j);
    cq_dsl_catalog_unref(cat);
}

/* Executed: the execution entry closes the log, executionMs is present, keys in order. */
static void executed_result_shape(void **state)
{
    static const char *const phases[] = {"validation", "access-control", "planning",
                                         "name-resolution", "sql-generation", "execution",
                                         NULL};
    static const char *const top[] = {"kind", "data", "meta", "debugLog", NULL};
    static const char *const meta[] = {"strategy", "targetDatabase", "dialect", "tablesUsed",
                                       "columns", "timing", NULL};
    static const char *const used[] = {"tableId", "source", "database", "physicalName", NULL};
    static const char *const col[] = {"apiName", "type", "nullable", "fromTable", "masked",
                                      NULL};
    static const char *const names[] = {"t0__id", "t1__name"};
    static const struct cq_value rows[] = {{CQ_V_NUMBER, "1", 1}, {CQ_V_STRING, "pen", 3},
                                           {CQ_V_NUMBER, "2", 1}, {CQ_V_NULL, NULL, 0}};
    struct cq_dsl_catalog *cat = load(metadata(), roles(), "{'pg-main':'main'}");
    struct cq_test_feed f = {.names = names, .n_cols = 2, .rows = rows, .n_rows = 2};
    struct job j;
    json_t *doc, *m;
    int64_t lo, hi;

    (void)state;
    job_init(&j);
    lo = wall_ms();
    compile_ok(&j, cat, "{'from':'orders','columns':['id'],'joins':[{'table':'products',"
               "'columns':['name']}],'debug':true}", ADMIN);
    doc = execute_json(&j.c, &f, NULL);
    hi = wall_ms();
    assert_string_equal(f.sql, j.c.sql);
    keys_are(doc, top, "data result");
    m = json_object_get(doc, "meta");
    keys_are(m, meta, "meta");
    for (size_t i = 0; i < 2; i++) {
        keys_are(json_array_get(json_object_get(m, "tablesUsed"), i), used, "tablesUsed[]");
        keys_are(json_array_get(json_object_get(m, "columns"), i), col, "columns[]");
    }
    timing_ok(doc, true);
    phases_are(json_object_get(doc, "debugLog"), phases, lo, hi);
    phase_ms(entry_str(json_object_get(doc, "debugLog"), 5, "message"), "Executed (2 rows)");
    json_decref(doc);
    job_cleanup(&j);
    cq_dsl_catalog_unref(cat);
}

/* Count mode: SELECT COUNT(*) whatever else the definition holds, meta.columns [],
 * executionMs present; the whole body checked. */
static void count_mode_result(void **state)
{
    static const char *const names[] = {"count"};
    static const struct cq_value rows[] = {{CQ_V_NUMBER, "42", 2}};
    static const char *const top[] = {"kind", "count", "meta", NULL};
    struct cq_dsl_catalog *cat = load(metadata(), roles(), "{'pg-main':'main'}");
    struct cq_test_feed f = {.names = names, .n_cols = 1, .rows = rows, .n_rows = 1};
    struct job j;
    json_t *doc, *t;
    char *raw, *s;

    (void)state;
    job_init(&j);
    compile_ok(&j, cat, "{'from':'orders','executeMode':'count','columns':['status'],"
               "'distinct':true,'groupBy':[{'column':'status'}],"
               "'aggregations':[{'column':'total','fn':'sum','alias':'revenue'}],"
               "'having':[{'column':'revenue','operator':'>','value':1}],"
               "'orderBy':[{'column':'status','direction':'asc'}],'limit':5,'offset':1}", TENANT);
    assert_string_equal(j.c.sql, "SELECT COUNT(*) FROM \"public\".\"orders\" AS \"t0\" WHERE "
                        "\"t0\".\"tenant_id\" = $1");
    assert_int_equal(j.c.n_cols, 0);
    doc = execute_json(&j.c, &f, &raw);
    keys_are(doc, top, "count result");
    timing_ok(doc, true);
    /* the whole body, with the timing values as measured */
    t = json_object_get(json_object_get(doc, "meta"), "timing");
    s = malloc(1024);
    snprintf(s, 1024, "{\"kind\":\"count\",\"count\":42,\"meta\":{\"strategy\":\"direct\","
             "\"targetDatabase\":\"pg-main\",\"dialect\":\"postgres\",\"tablesUsed\":[{"
             "\"tableId\":\"orders\",\"source\":\"original\",\"database\":\"pg-main\","
             "\"physicalName\":\"public.orders\"}],\"columns\":[],\"timing\":{\"planningMs\":"
             "%lld,\"generationMs\":%lld,\"executionMs\":%lld}}}",
             (long long)json_integer_value(json_object_get(t, "planningMs")),
             (long long)json_integer_value(json_object_get(t, "generationMs")),
             (long long)json_integer_value(json_object_get(t, "executionMs")));
    assert_string_equal(raw, s);
    free(s);
    free(raw);
    json_decref(doc);
    job_cleanup(&j);
    cq_dsl_catalog_unref(cat);
}

/* Execute mode on a ClickHouse table: clariq has no ClickHouse executor yet, so the answer
 * is EXECUTOR_MISSING with the exact §11 body (500, CLI exit 1), in data and count mode,
 * whether or not a connection is configured for the database; no connection is touched. */
static void executor_missing_for_clickhouse(void **state)
{
    static const char *const conns[] = {NULL, "{'ch-analytics':'analytics'}"};
    static const char *const defs[] = {
        "{'from':'events','columns':['id']}",
        "{'from':'metrics','executeMode':'count'}",
        "{'from':'events','columns':['id'],'debug':true}",
    };
    const char *want = "{\"code\":\"EXECUTOR_MISSING\",\"message\":\"Executor missing for "
                       "database: ch-analytics\",\"details\":{\"code\":\"EXECUTOR_MISSING\","
                       "\"database\":\"ch-analytics\"}}";

    (void)state;
    for (size_t c = 0; c < 2; c++) {
        struct cq_dsl_catalog *cat = load(metadata(), roles(), conns[c]);
        for (size_t d = 0; d < sizeof(defs) / sizeof(defs[0]); d++) {
            struct cq_test_feed f = {0};
            struct cq_test_fake_conn conn = {.base.drv = &cq_test_fake_pg, .feed = &f};
            struct cq_dsl_exec_env env = {.ctx = &conn, .acquire = cq_test_fake_acquire,
                                          .release = cq_test_fake_release};
            struct cq_buf out;
            struct job j;
            char *got;

            job_init(&j);
            compile_ok(&j, cat, defs[d], ADMIN);
            assert_int_equal(j.c.dialect, CQ_DIALECT_CH);
            cq_buf_init(&out, 1 << 16);
            cq_buf_puts(&out, "HEAD");
            assert_int_not_equal(cq_dsl_execute(&j.c, &env, &out, &j.e), CQ_OK);
            assert_string_equal(cq_buf_str(&out), "HEAD"); /* nothing half-written */
            got = error_json(&j.e);
            assert_string_equal(got, want);
            free(got);
            assert_int_equal(j.e.cls, CQ_DSL_E_EXECUTION);
            assert_int_equal(cq_dsl_error_http_status(&j.e), 500);
            assert_int_equal(cq_dsl_error_exit_code(&j.e), 1);
            assert_int_equal(f.n_acquire, 0);
            cq_buf_cleanup(&out);
            job_cleanup(&j);
        }
        cq_dsl_catalog_unref(cat);
    }
}

/* ---- 3. stage tasks no other suite pins ------------------------------------------------------ */

/* Stage 7 task 8: a top-level filter qualified with a joined table resolves to that table's
 * alias (golden join-filters covers the other direction: a join filter on the from table). */
static void filter_qualified_with_joined_table(void **state)
{
    struct cq_dsl_catalog *cat = load(metadata(), roles(), NULL);
    struct job j;

    (void)state;
    job_init(&j);
    compile_ok(&j, cat, "{'from':'orders','columns':['id'],'joins':[{'table':'users',"
               "'columns':[]}],'filters':[{'column':'isActive','table':'users','operator':'=',"
               "'value':true},{'column':'isPaid','table':'orders','operator':'=',"
               "'value':false}]}", ADMIN);
    assert_string_equal(j.c.sql, "SELECT \"t0\".\"id\" AS \"t0__id\" FROM \"public\".\"orders\" "
                        "AS \"t0\" LEFT JOIN \"public\".\"users\" AS \"t1\" ON "
                        "\"t0\".\"customer_id\" = \"t1\".\"id\" WHERE (\"t1\".\"is_active\" = $1 "
                        "AND \"t0\".\"is_paid\" = $2)");
    assert_int_equal(j.c.n_params, 2);
    assert_int_equal(j.c.params[0].v->kind, CQ_DSL_V_BOOL);
    assert_true(j.c.params[0].v->b);
    assert_false(j.c.params[1].v->b);
    job_cleanup(&j);
    cq_dsl_catalog_unref(cat);
}

/*
 * Stage 10 task 4 / spec §7 P2: among viable databases the one holding most of the tables
 * in place wins, even when it is not the first seen; a tie keeps the candidate order (the
 * from table's database first). The fixture has one viable candidate per query, so this
 * adds replicas: invoices -> pg-main and orders -> pg-tenant.
 */
static void materialized_prefers_most_originals(void **state)
{
    json_t *md = metadata();
    json_t *syncs =
        cq_test_json("[{'sourceTable':'invoices','targetDatabase':'pg-main',"
                     "'targetPhysicalName':'replicas.invoices','method':'debezium',"
                     "'estimatedLag':'seconds'},{'sourceTable':'orders',"
                     "'targetDatabase':'pg-tenant','targetPhysicalName':'replicas.orders',"
                     "'method':'debezium','estimatedLag':'minutes'}]");
    struct cq_dsl_catalog *cat;
    struct job j;

    (void)state;
    json_array_extend(json_object_get(md, "externalSyncs"), syncs);
    json_decref(syncs);
    cat = load(md, roles(), NULL);
    job_init(&j);

    /* orders + invoices + tenants: pg-main keeps 1 original, pg-tenant 2 */
    compile_ok(&j, cat, "{'from':'orders','columns':['id'],'joins':[{'table':'invoices',"
               "'columns':['amount']},{'table':'tenants','columns':['plan']}]}", ADMIN);
    assert_int_equal(j.c.strategy, CQ_DSL_STRAT_MATERIALIZED);
    assert_string_equal(j.c.target, "pg-tenant");
    assert_string_equal(j.c.sql, "SELECT \"t0\".\"id\" AS \"t0__id\", \"t1\".\"amount\" AS "
                        "\"t1__amount\", \"t2\".\"plan\" AS \"t2__plan\" FROM \"replicas\"."
                        "\"orders\" AS \"t0\" LEFT JOIN \"public\".\"invoices\" AS \"t1\" ON "
                        "\"t0\".\"id\" = \"t1\".\"order_id\" LEFT JOIN \"public\".\"tenants\" AS "
                        "\"t2\" ON \"t0\".\"tenant_id\" = \"t2\".\"id\"");
    assert_int_equal(j.c.n_tables, 3);
    assert_int_equal(j.c.tables[0].source, CQ_DSL_SRC_MATERIALIZED);
    assert_string_equal(j.c.tables[0].db->id, "pg-tenant");
    assert_int_equal(j.c.tables[1].source, CQ_DSL_SRC_ORIGINAL);
    assert_int_equal(j.c.tables[2].source, CQ_DSL_SRC_ORIGINAL);

    /* orders + invoices: one original each, the first seen (pg-main) wins the tie */
    compile_ok(&j, cat, "{'from':'orders','columns':['id'],'joins':[{'table':'invoices',"
               "'columns':['amount']}]}", ADMIN);
    assert_string_equal(j.c.target, "pg-main");
    assert_string_equal(j.c.tables[1].phys, "replicas.invoices");
    /* from invoices the order of candidates flips, and so does the answer */
    compile_ok(&j, cat, "{'from':'invoices','columns':['id'],'joins':[{'table':'orders',"
               "'columns':['id']}]}", ADMIN);
    assert_string_equal(j.c.target, "pg-tenant");
    assert_string_equal(j.c.tables[1].phys, "replicas.orders");
    /* seconds rules the minutes-old orders replica out: pg-main is the only fresh one */
    compile_ok(&j, cat, "{'from':'invoices','columns':['id'],'freshness':'seconds',"
               "'joins':[{'table':'orders','columns':['id']}]}", ADMIN);
    assert_string_equal(j.c.target, "pg-main");
    job_cleanup(&j);
    cq_dsl_catalog_unref(cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(snapshot_survives_reload),
        cmocka_unit_test(failed_reload_keeps_old_catalog),
        cmocka_unit_test(roles_reload_changes_access),
        cmocka_unit_test(refcounts_balance),
        cmocka_unit_test(readers_compile_during_reloads),
        cmocka_unit_test(debug_log_phases_in_order),
        cmocka_unit_test(debug_log_per_strategy),
        cmocka_unit_test(debug_log_only_when_asked),
        cmocka_unit_test(executed_result_shape),
        cmocka_unit_test(count_mode_result),
        cmocka_unit_test(executor_missing_for_clickhouse),
        cmocka_unit_test(filter_qualified_with_joined_table),
        cmocka_unit_test(materialized_prefers_most_originals),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
