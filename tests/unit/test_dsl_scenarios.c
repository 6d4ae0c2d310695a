/*
 * test_dsl_scenarios.c - the "Test Scenarios" table of seeds/002 (scenarios 1-20), one
 * named test each, run through the whole public pipeline (cq_dsl_parse_request ->
 * cq_dsl_compile -> cq_dsl_execute) on the shared fixture tests/golden/dsl/catalog.json.
 *
 * Each test compares whole bodies: the QueryResult JSON of spec §10.1 (sql-only, or
 * executed on the fake PostgreSQL driver of tests/support/dslfake.h that records the
 * statement and answers scripted rows) and the error JSON of spec §11. The expected texts
 * are written from the spec and the fixture by hand, never produced by the code under test.
 * Only the timings change from run to run: they are checked to be non-negative integers and
 * then written as 0 before the comparison, so key order, spelling and every other byte
 * still count.
 *
 * Catalogs: the fixture as it is (trino.enabled true, so Trino planning is on), with every
 * database served by a clariq connection named after it; a variant with trino.enabled
 * false (scenario 19, and the "no Trino" halves of 11 and 19); a variant where pg-tenant has
 * no Trino catalog (the NO_CATALOG explanation of 19).
 *
 * The coverage map of these scenarios and the seeds' stages is docs/internals/dsl-coverage.md.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/arena.h"
#include "base/buf.h"
#include "dsl/dsl.h"
#include "dslfake.h"
#include "dsltest.h"

#define TENANT_A "6f1c2b3a-0000-4000-8000-0000000000aa"

/* Contexts (single quotes stand for double quotes, see cq_test_json). */
#define ADMIN "{'roles':{'user':['admin']}}"
#define TENANT "{'roles':{'user':['tenant-user']},'contextValues':{'tenantId':'" TENANT_A "'}}"

/* ---- the catalogs ---------------------------------------------------------------------------- */

struct world {
    json_t *fixture;                   /* catalog.json */
    struct cq_dsl_catalog *cat;        /* as is: trino.enabled true */
    struct cq_dsl_catalog *no_trino;   /* trino.enabled false */
    struct cq_dsl_catalog *no_catalog; /* pg-tenant without trinoCatalog */
};

static struct world world;

/* Appends text with ' turned into ". */
static void put_q(struct cq_buf *b, const char *text)
{
    for (const char *p = text; *p != '\0'; p++) {
        cq_buf_putc(b, *p == '\'' ? '"' : *p);
    }
}

static struct cq_dsl_catalog *build(json_t *meta)
{
    json_t *roles = json_object_get(world.fixture, "roles");
    json_t *conns =
        cq_test_json("{'pg-main':'pg-main','pg-tenant':'pg-tenant',"
                     "'ch-analytics':'ch-analytics','iceberg-archive':'iceberg-archive'}");
    json_t *cerr = NULL;
    struct cq_err err = {0};
    struct cq_dsl_catalog *cat = cq_dsl_catalog_new(meta, roles, conns, &cerr, &err);

    if (cat == NULL) {
        char *s = cerr != NULL ? json_dumps(cerr, JSON_COMPACT) : NULL;
        fail_msg("fixture catalog: %s %s", err.msg, s != NULL ? s : "");
    }
    json_decref(conns);
    json_decref(meta);
    return cat;
}

static int world_setup(void **state)
{
    json_t *meta;
    size_t i;
    json_t *db;

    (void)state;
    world.fixture = cq_test_dsl_fixture();
    if (world.fixture == NULL) {
        return -1;
    }
    meta = json_object_get(world.fixture, "metadata");
    /* the fixture is what seeds/002 recommends: Trino enabled, four catalogs */
    assert_true(json_is_true(json_object_get(json_object_get(meta, "trino"), "enabled")));
    world.cat = build(json_deep_copy(meta));

    meta = json_deep_copy(meta);
    json_object_set_new(meta, "trino", cq_test_json("{'enabled':false}"));
    world.no_trino = build(meta);

    meta = json_deep_copy(json_object_get(world.fixture, "metadata"));
    json_array_foreach(json_object_get(meta, "databases"), i, db) {
        if (strcmp(json_string_value(json_object_get(db, "id")), "pg-tenant") == 0) {
            json_object_del(db, "trinoCatalog");
        }
    }
    world.no_catalog = build(meta);
    return 0;
}

static int world_teardown(void **state)
{
    (void)state;
    cq_dsl_catalog_unref(world.cat);
    cq_dsl_catalog_unref(world.no_trino);
    cq_dsl_catalog_unref(world.no_catalog);
    json_decref(world.fixture);
    return 0;
}

/* ---- one test's state ------------------------------------------------------------------------ */

struct fx {
    struct cq_arena a;
    struct cq_dsl_compiled c;
    struct cq_dsl_error e;
    struct cq_test_feed feed;
    struct cq_test_fake_conn conn;
    struct cq_dsl_exec_env env;
    struct cq_buf out;            /* cq_dsl_execute's output */
    struct cq_buf got;            /* the output with timings written as 0, or an error body */
    struct cq_buf want;           /* the expected text */
};

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));

    cq_arena_init(&x->a, 8192, 0);
    cq_test_fake_init(&x->conn, &x->feed, &x->env);
    cq_buf_init(&x->out, 1 << 20);
    cq_buf_init(&x->got, 1 << 20);
    cq_buf_init(&x->want, 1 << 20);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;

    cq_dsl_error_cleanup(&x->e);
    cq_buf_cleanup(&x->out);
    cq_buf_cleanup(&x->got);
    cq_buf_cleanup(&x->want);
    cq_arena_free(&x->a);
    free(x);
    return 0;
}

/* Starts over for another query in the same test. */
static void reset(struct fx *x)
{
    cq_dsl_error_cleanup(&x->e);
    cq_arena_reset(&x->a);
    cq_buf_reset(&x->out);
    memset(&x->feed, 0, sizeof(x->feed));
    memset(&x->c, 0, sizeof(x->c));
}

/* Parses {"definition": def, "context": ctx} and compiles it; returns the rc. */
static int compile(struct fx *x, const struct cq_dsl_catalog *cat, const char *def,
                   const char *ctx)
{
    json_t *body =
        json_pack("{s:o,s:o}", "definition", cq_test_json(def), "context", cq_test_json(ctx));
    struct cq_dsl_query *q = NULL;
    struct cq_dsl_context qc;
    int rc;

    reset(x);
    rc = cq_dsl_parse_request(&x->a, body, false, &q, &qc, &x->e);
    json_decref(body);
    if (rc != CQ_OK) {
        return rc;
    }
    return cq_dsl_compile(cat, q, &qc, NULL, &x->a, &x->c, &x->e);
}

static void error_text(struct fx *x)
{
    cq_buf_reset(&x->got);
    cq_dsl_error_write(&x->e, &x->got);
    assert_int_equal(cq_buf_rc(&x->got), CQ_OK);
}

static void compile_ok(struct fx *x, const struct cq_dsl_catalog *cat, const char *def,
                       const char *ctx)
{
    if (compile(x, cat, def, ctx) != CQ_OK) {
        error_text(x);
        fail_msg("compile failed: %s\n  query: %s", cq_buf_str(&x->got), def);
    }
}

/* Copies out into got with every timing value replaced by 0, after checking that each is
 * a non-negative integer (spec §10.1). */
static void scrub_timings(struct fx *x)
{
    static const char *const keys[] = {"\"planningMs\":", "\"generationMs\":",
                                       "\"executionMs\":"};
    const char *p = cq_buf_str(&x->out);

    cq_buf_reset(&x->got);
    while (*p != '\0') {
        bool hit = false;
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]) && !hit; k++) {
            size_t n = strlen(keys[k]);
            if (strncmp(p, keys[k], n) == 0) {
                hit = true;
                cq_buf_puts(&x->got, keys[k]);
                p += n;
                if (!isdigit((unsigned char)*p)) {
                    fail_msg("timing %s is not a non-negative integer: %.20s", keys[k], p);
                }
                while (isdigit((unsigned char)*p)) {
                    p++;
                }
                cq_buf_putc(&x->got, '0');
            }
        }
        if (!hit) {
            cq_buf_putc(&x->got, *p++);
        }
    }
    assert_int_equal(cq_buf_rc(&x->got), CQ_OK);
}

/* Executes the compiled query; expects success. */
static void execute_ok(struct fx *x)
{
    int rc = cq_dsl_execute(&x->c, &x->env, &x->out, &x->e);

    if (rc != CQ_OK) {
        error_text(x);
        fail_msg("execute failed (rc %d): %s", rc, cq_buf_str(&x->got));
    }
    assert_int_equal(x->feed.n_acquire, x->feed.n_release);
    scrub_timings(x);
}

/* Executes expecting an error; nothing may be written and no connection kept. */
static void execute_err(struct fx *x)
{
    cq_buf_reset(&x->out);
    assert_int_not_equal(cq_dsl_execute(&x->c, &x->env, &x->out, &x->e), CQ_OK);
    assert_non_null(x->e.body);
    assert_string_equal(cq_buf_str(&x->out), "");
    assert_int_equal(x->feed.n_acquire, x->feed.n_release);
    error_text(x);
}

static void same_text(const char *what, const char *got, const char *want)
{
    if (strcmp(got, want) != 0) {
        size_t i = 0;
        while (got[i] != '\0' && got[i] == want[i]) {
            i++;
        }
        fail_msg("%s differs at byte %zu:\n  want %s\n  got  %s\n  (want ...%.60s)\n"
                 "  (got  ...%.60s)", what, i, want, got, want + i, got + i);
    }
}

/* ---- expected bodies ------------------------------------------------------------------------- */

/* The SQL text as a JSON string, quoted by jansson (independent of the code under test). */
static void put_json_string(struct cq_buf *b, const char *s)
{
    json_t *j = json_string(s);
    char *t = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);

    cq_buf_puts(b, t);
    free(t);
    json_decref(j);
}

/* {"kind":"sql","sql":<sql>,"params":<params>,"meta":{<meta>,"timing":{...}}}; meta holds
 * the members from strategy to columns with ' for ". */
static void expect_sql_only(struct fx *x, const char *sql, const char *params, const char *meta)
{
    execute_ok(x);
    assert_int_equal(x->feed.n_acquire, 0); /* sql-only never needs an executor */
    cq_buf_reset(&x->want);
    cq_buf_puts(&x->want, "{\"kind\":\"sql\",\"sql\":");
    put_json_string(&x->want, sql);
    cq_buf_printf(&x->want, ",\"params\":%s,\"meta\":{", params);
    put_q(&x->want, meta);
    cq_buf_puts(&x->want, ",\"timing\":{\"planningMs\":0,\"generationMs\":0}}}");
    same_text("sql-only result", cq_buf_str(&x->got), cq_buf_str(&x->want));
}

/* {"kind":"data","data":<data>,"meta":{<meta>,"timing":{... executionMs}}} (' for "). */
static void expect_data(struct fx *x, const char *data, const char *meta)
{
    execute_ok(x);
    assert_int_equal(x->feed.n_exec, 1);
    same_text("executed SQL", x->feed.sql, x->c.sql);
    cq_buf_reset(&x->want);
    cq_buf_puts(&x->want, "{\"kind\":\"data\",\"data\":");
    put_q(&x->want, data);
    cq_buf_puts(&x->want, ",\"meta\":{");
    put_q(&x->want, meta);
    cq_buf_puts(&x->want, ",\"timing\":{\"planningMs\":0,\"generationMs\":0,\"executionMs\":0}}}");
    same_text("data result", cq_buf_str(&x->got), cq_buf_str(&x->want));
}

/* The compile fails with exactly this error body and HTTP status. */
static void expect_compile_error(struct fx *x, const struct cq_dsl_catalog *cat, const char *def,
                                 const char *ctx, int status, const char *body)
{
    assert_int_not_equal(compile(x, cat, def, ctx), CQ_OK);
    error_text(x);
    same_text("error body", cq_buf_str(&x->got), body);
    assert_int_equal(cq_dsl_error_http_status(&x->e), status);
}

static void expect_execute_error(struct fx *x, int status, const char *body)
{
    execute_err(x);
    same_text("execution error body", cq_buf_str(&x->got), body);
    assert_int_equal(cq_dsl_error_http_status(&x->e), status);
    assert_int_equal(x->feed.n_acquire, 0); /* decided before any connection is taken */
}

static void feed(struct fx *x, const char *const *names, size_t n_cols,
                 const struct cq_value *rows, size_t n_rows)
{
    x->feed.names = names;
    x->feed.n_cols = n_cols;
    x->feed.rows = rows;
    x->feed.n_rows = n_rows;
}

#define NUM(s) {CQ_V_NUMBER, s, sizeof(s) - 1}
#define STR(s) {CQ_V_STRING, s, sizeof(s) - 1}

/* meta pieces (' for ") */
#define T_ORDERS "{'tableId':'orders','source':'original','database':'pg-main'," \
                 "'physicalName':'public.orders'}"
#define C_ORDERS_ID "{'apiName':'id','type':'int','nullable':false,'fromTable':'orders'," \
                    "'masked':false}"
#define C_ORDERS_STATUS "{'apiName':'status','type':'string','nullable':false," \
                        "'fromTable':'orders','masked':false}"
#define C_EVENTS_TYPE "{'apiName':'type','type':'string','nullable':false," \
                      "'fromTable':'events','masked':false}"
#define EXEC_MISSING_TRINO "{\"code\":\"EXECUTOR_MISSING\",\"message\":\"Executor missing " \
    "for database: trino\",\"details\":{\"code\":\"EXECUTOR_MISSING\",\"database\":\"trino\"}}"
#define CACHE_MISSING "{\"code\":\"CACHE_PROVIDER_MISSING\",\"message\":\"Cache provider " \
    "missing: redis-main\",\"details\":{\"code\":\"CACHE_PROVIDER_MISSING\"," \
    "\"cacheId\":\"redis-main\"}}"

/* ---- 1-7: strategies by topology ------------------------------------------------------------- */

/* 1 | Single PG table | orders | direct -> pg-main */
static void scenario_01_single_pg_table(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__id", "t0__order_status"};
    static const struct cq_value rows[] = {NUM("1"), STR("paid"), NUM("2"), STR("new")};
    const char *def = "{'from':'orders','columns':['id','status'],'executeMode':'sql-only'}";
    const char *meta = "'strategy':'direct','targetDatabase':'pg-main','dialect':'postgres',"
                       "'tablesUsed':[" T_ORDERS "],'columns':[" C_ORDERS_ID ","
                       C_ORDERS_STATUS "]";

    compile_ok(x, world.cat, def, ADMIN);
    expect_sql_only(x, "SELECT \"t0\".\"id\" AS \"t0__id\", \"t0\".\"order_status\" AS "
                    "\"t0__order_status\" FROM \"public\".\"orders\" AS \"t0\"", "[]", meta);

    /* executed: on pg-main's connection, rows re-keyed to apiNames */
    compile_ok(x, world.cat, "{'from':'orders','columns':['id','status']}", ADMIN);
    feed(x, names, 2, rows, 2);
    expect_data(x, "[{'id':1,'status':'paid'},{'id':2,'status':'new'}]", meta);
    assert_string_equal(x->feed.conn, "pg-main");
    assert_int_equal(x->feed.n_params, 0);
}

/* 2 | Join within same PG | orders + products | direct -> pg-main */
static void scenario_02_join_within_same_pg(void **state)
{
    struct fx *x = *state;

    compile_ok(x, world.cat,
               "{'from':'orders','columns':['id'],'executeMode':'sql-only',"
               "'joins':[{'table':'products','columns':['name']}]}", ADMIN);
    expect_sql_only(x,
                    "SELECT \"t0\".\"id\" AS \"t0__id\", \"t1\".\"name\" AS \"t1__name\" FROM "
                    "\"public\".\"orders\" AS \"t0\" LEFT JOIN \"public\".\"products\" AS \"t1\" "
                    "ON \"t0\".\"product_id\" = \"t1\".\"id\"", "[]",
                    "'strategy':'direct','targetDatabase':'pg-main','dialect':'postgres',"
                    "'tablesUsed':[" T_ORDERS ",{'tableId':'products','source':'original',"
                    "'database':'pg-main','physicalName':'public.products'}],"
                    "'columns':[" C_ORDERS_ID ",{'apiName':'name','type':'string',"
                    "'nullable':false,'fromTable':'products','masked':false}]");
}

/* 3 | Cross-PG, debezium available | orders + tenants | materialized -> pg-main (tenants
 * replicated to replicas.tenants) */
static void scenario_03_cross_pg_debezium_materialized(void **state)
{
    struct fx *x = *state;

    compile_ok(x, world.cat,
               "{'from':'orders','columns':['id'],'executeMode':'sql-only',"
               "'joins':[{'table':'tenants','columns':['plan']}]}", ADMIN);
    expect_sql_only(x,
                    "SELECT \"t0\".\"id\" AS \"t0__id\", \"t1\".\"plan\" AS \"t1__plan\" FROM "
                    "\"public\".\"orders\" AS \"t0\" LEFT JOIN \"replicas\".\"tenants\" AS \"t1\" "
                    "ON \"t0\".\"tenant_id\" = \"t1\".\"id\"", "[]",
                    "'strategy':'materialized','targetDatabase':'pg-main','dialect':'postgres',"
                    "'tablesUsed':[" T_ORDERS ",{'tableId':'tenants','source':'materialized',"
                    "'database':'pg-main','physicalName':'replicas.tenants'}],"
                    "'columns':[" C_ORDERS_ID ",{'apiName':'plan','type':'string',"
                    "'nullable':false,'fromTable':'tenants','masked':false}]");
}

/* 4 | Cross-PG, no debezium | orders + invoices | trino cross-db */
static void scenario_04_cross_pg_no_debezium_trino(void **state)
{
    struct fx *x = *state;
#define S4_DEF(extra) "{'from':'orders','columns':['id']," \
                      "'joins':[{'table':'invoices','columns':['amount']}]" extra "}"

    compile_ok(x, world.cat, S4_DEF(",'executeMode':'sql-only'"), ADMIN);
    /* invoices.orderId references orders.id: the ON clause runs join -> from */
    expect_sql_only(x,
                    "SELECT \"t0\".\"id\" AS \"t0__id\", \"t1\".\"amount\" AS \"t1__amount\" "
                    "FROM \"pg_main\".\"public\".\"orders\" AS \"t0\" LEFT JOIN "
                    "\"pg_tenant\".\"public\".\"invoices\" AS \"t1\" ON \"t0\".\"id\" = "
                    "\"t1\".\"order_id\"", "[]",
                    "'strategy':'trino-cross-db','targetDatabase':'trino','dialect':'trino',"
                    "'tablesUsed':[" T_ORDERS ",{'tableId':'invoices','source':'original',"
                    "'database':'pg-tenant','physicalName':'public.invoices'}],"
                    "'columns':[" C_ORDERS_ID ",{'apiName':'amount','type':'decimal',"
                    "'nullable':false,'fromTable':'invoices','masked':false}]");

    /* executing needs a Trino executor, which clariq does not have yet (spec §7) */
    compile_ok(x, world.cat, S4_DEF(""), ADMIN);
    expect_execute_error(x, 500, EXEC_MISSING_TRINO);
#undef S4_DEF
}

/* 5 | PG + CH, debezium available | orders + events | materialized -> ch-analytics (orders
 * replicated to default.orders_replica) */
static void scenario_05_pg_ch_debezium_materialized(void **state)
{
    struct fx *x = *state;

    compile_ok(x, world.cat,
               "{'from':'orders','columns':['id'],'executeMode':'sql-only',"
               "'joins':[{'table':'events','columns':['type']}]}", ADMIN);
    expect_sql_only(x,
                    "SELECT `t0`.`id` AS `t0__id`, `t1`.`event_type` AS `t1__event_type` FROM "
                    "`default`.`orders_replica` AS `t0` LEFT JOIN `default`.`events` AS `t1` "
                    "ON `t0`.`id` = `t1`.`order_id`", "[]",
                    "'strategy':'materialized','targetDatabase':'ch-analytics',"
                    "'dialect':'clickhouse','tablesUsed':[{'tableId':'orders',"
                    "'source':'materialized','database':'ch-analytics',"
                    "'physicalName':'default.orders_replica'},{'tableId':'events',"
                    "'source':'original','database':'ch-analytics',"
                    "'physicalName':'default.events'}],'columns':[" C_ORDERS_ID ","
                    C_EVENTS_TYPE "]");

    /* ch-analytics has a connection, but clariq has no ClickHouse executor yet */
    compile_ok(x, world.cat,
               "{'from':'orders','columns':['id'],'joins':[{'table':'events','columns':"
               "['type']}]}", ADMIN);
    expect_execute_error(x, 500,
                         "{\"code\":\"EXECUTOR_MISSING\",\"message\":\"Executor missing for "
                         "database: ch-analytics\",\"details\":{\"code\":\"EXECUTOR_MISSING\","
                         "\"database\":\"ch-analytics\"}}");
}

/* 6 | PG + CH, no debezium | products + events | trino cross-db */
static void scenario_06_pg_ch_no_debezium_trino(void **state)
{
    struct fx *x = *state;

    compile_ok(x, world.cat,
               "{'from':'products','columns':['name'],'executeMode':'sql-only',"
               "'joins':[{'table':'events','columns':['type']}]}", ADMIN);
    expect_sql_only(x,
                    "SELECT \"t0\".\"name\" AS \"t0__name\", \"t1\".\"event_type\" AS "
                    "\"t1__event_type\" FROM \"pg_main\".\"public\".\"products\" AS \"t0\" "
                    "LEFT JOIN \"ch_analytics\".\"default\".\"events\" AS \"t1\" ON "
                    "\"t0\".\"id\" = \"t1\".\"product_id\"", "[]",
                    "'strategy':'trino-cross-db','targetDatabase':'trino','dialect':'trino',"
                    "'tablesUsed':[{'tableId':'products','source':'original',"
                    "'database':'pg-main','physicalName':'public.products'},"
                    "{'tableId':'events','source':'original','database':'ch-analytics',"
                    "'physicalName':'default.events'}],'columns':[{'apiName':'name',"
                    "'type':'string','nullable':false,'fromTable':'products','masked':false},"
                    C_EVENTS_TYPE "]");
}

/*
 * 7 | PG + Iceberg | orders + ordersArchive | "trino or materialized".
 *
 * Spec §7 settles it for this fixture: P2 comes before P3, and iceberg-archive is a viable
 * candidate (ordersArchive lives there, orders has a Debezium replica there with lag
 * "minutes"; pg-main is not, ordersArchive has no replica in it). Without a freshness
 * requirement any lag is fine, so the answer is materialized on iceberg-archive, in the
 * Trino dialect (engine iceberg). The tables are catalog-qualified because that plan is run
 * by the Trino executor (golden plan-materialized-iceberg pins the same text). Asking for
 * freshness "seconds" rules the minutes-old replica out and the plan falls to Trino.
 */
static void scenario_07_pg_iceberg_materialized_or_trino(void **state)
{
    struct fx *x = *state;
#define S7_DEF(extra) "{'from':'orders','columns':['id'],'executeMode':'sql-only'," \
                      "'joins':[{'table':'ordersArchive','columns':['archivedAt']}]" extra "}"
    const char *cols = "'columns':[" C_ORDERS_ID ",{'apiName':'archivedAt','type':'timestamp',"
                       "'nullable':false,'fromTable':'ordersArchive','masked':false}]";
    char meta[1024];

    compile_ok(x, world.cat, S7_DEF(""), ADMIN);
    snprintf(meta, sizeof(meta),
             "'strategy':'materialized','targetDatabase':'iceberg-archive','dialect':'trino',"
             "'tablesUsed':[{'tableId':'orders','source':'materialized',"
             "'database':'iceberg-archive','physicalName':'warehouse.orders_current'},"
             "{'tableId':'ordersArchive','source':'original','database':'iceberg-archive',"
             "'physicalName':'warehouse.orders_archive'}],%s", cols);
    expect_sql_only(x,
                    "SELECT \"t0\".\"id\" AS \"t0__id\", \"t1\".\"archived_at\" AS "
                    "\"t1__archived_at\" FROM \"iceberg_archive\".\"warehouse\"."
                    "\"orders_current\" AS \"t0\" LEFT JOIN \"iceberg_archive\".\"warehouse\"."
                    "\"orders_archive\" AS \"t1\" ON \"t0\".\"id\" = \"t1\".\"order_id\"", "[]",
                    meta);

    compile_ok(x, world.cat, S7_DEF(",'freshness':'seconds'"), ADMIN);
    snprintf(meta, sizeof(meta),
             "'strategy':'trino-cross-db','targetDatabase':'trino','dialect':'trino',"
             "'tablesUsed':[" T_ORDERS ",{'tableId':'ordersArchive','source':'original',"
             "'database':'iceberg-archive','physicalName':'warehouse.orders_archive'}],%s",
             cols);
    expect_sql_only(x,
                    "SELECT \"t0\".\"id\" AS \"t0__id\", \"t1\".\"archived_at\" AS "
                    "\"t1__archived_at\" FROM \"pg_main\".\"public\".\"orders\" AS \"t0\" "
                    "LEFT JOIN \"iceberg_archive\".\"warehouse\".\"orders_archive\" AS \"t1\" "
                    "ON \"t0\".\"id\" = \"t1\".\"order_id\"", "[]", meta);

    /* either way the Trino executor runs it */
    compile_ok(x, world.cat,
               "{'from':'orders','columns':['id'],'joins':[{'table':'ordersArchive',"
               "'columns':['archivedAt']}]}", ADMIN);
    assert_int_equal(x->c.strategy, CQ_DSL_STRAT_MATERIALIZED);
    expect_execute_error(x, 500, EXEC_MISSING_TRINO);
#undef S7_DEF
}

/* ---- 8-10: byIds and the cache --------------------------------------------------------------- */

#define USERS_CACHE_META(cols) \
    "'strategy':'cache','targetDatabase':'redis-main','dialect':'postgres'," \
    "'tablesUsed':[{'tableId':'users','source':'cache','database':'pg-main'," \
    "'physicalName':'public.users'}],'columns':[" cols "]"
#define C_USERS_ID "{'apiName':'id','type':'int','nullable':false,'fromTable':'users'," \
                   "'masked':false}"
#define C_USERS_EMAIL(m) "{'apiName':'email','type':'string','nullable':false," \
                         "'fromTable':'users','masked':" m "}"
#define C_USERS_FULLNAME(m) "{'apiName':'fullName','type':'string','nullable':false," \
                            "'fromTable':'users','masked':" m "}"
#define USERS_ID_EMAIL_SQL "SELECT \"t0\".\"id\" AS \"t0__id\", \"t0\".\"email\" AS " \
    "\"t0__email\" FROM \"public\".\"users\" AS \"t0\" WHERE \"t0\".\"id\" = ANY($1::integer[])"

/*
 * 8 | By-ID with cache hit | users byIds=[1,2,3] | cache -> redis.
 * sql-only shows the plan (strategy cache, target the cache id, the fallback SQL in the
 * database's dialect); executing needs the Redis provider clariq does not have yet.
 */
static void scenario_08_byids_cache_hit(void **state)
{
    struct fx *x = *state;

    compile_ok(x, world.cat,
               "{'from':'users','columns':['id','email'],'byIds':[1,2,3],"
               "'executeMode':'sql-only'}", ADMIN);
    expect_sql_only(x, USERS_ID_EMAIL_SQL, "[[1,2,3]]",
                    USERS_CACHE_META(C_USERS_ID "," C_USERS_EMAIL("false")));

    compile_ok(x, world.cat, "{'from':'users','columns':['id','email'],'byIds':[1,2,3]}",
               ADMIN);
    expect_execute_error(x, 500, CACHE_MISSING);
    compile_ok(x, world.cat, "{'from':'users','byIds':[1,2,3],'executeMode':'count'}", ADMIN);
    assert_int_equal(x->c.strategy, CQ_DSL_STRAT_CACHE);
    expect_execute_error(x, 500, CACHE_MISSING);

    /* the cache entry must hold every requested column: products caches id, name, price */
    compile_ok(x, world.cat, "{'from':'products','columns':['id','price'],'byIds':[7]}", ADMIN);
    assert_int_equal(x->c.strategy, CQ_DSL_STRAT_CACHE);
    assert_string_equal(x->c.target, "redis-main");
    compile_ok(x, world.cat, "{'from':'products','columns':['id','category'],'byIds':[7]}",
               ADMIN);
    assert_int_equal(x->c.strategy, CQ_DSL_STRAT_DIRECT);
    assert_string_equal(x->c.target, "pg-main");
}

/* 9 | By-ID cache miss | orders byIds=[1,2] | direct -> pg-main (orders is in no cache) */
static void scenario_09_byids_cache_miss_direct(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__id", "t0__order_status"};
    static const struct cq_value rows[] = {NUM("1"), STR("paid"), NUM("2"), STR("new")};
    const char *sql = "SELECT \"t0\".\"id\" AS \"t0__id\", \"t0\".\"order_status\" AS "
                      "\"t0__order_status\" FROM \"public\".\"orders\" AS \"t0\" WHERE "
                      "\"t0\".\"id\" = ANY($1::integer[])";
    const char *meta = "'strategy':'direct','targetDatabase':'pg-main','dialect':'postgres',"
                       "'tablesUsed':[" T_ORDERS "],'columns':[" C_ORDERS_ID ","
                       C_ORDERS_STATUS "]";

    compile_ok(x, world.cat,
               "{'from':'orders','columns':['id','status'],'byIds':[1,2],"
               "'executeMode':'sql-only'}", ADMIN);
    expect_sql_only(x, sql, "[[1,2]]", meta);

    compile_ok(x, world.cat, "{'from':'orders','columns':['id','status'],'byIds':[1,2]}",
               ADMIN);
    feed(x, names, 2, rows, 2);
    expect_data(x, "[{'id':1,'status':'paid'},{'id':2,'status':'new'}]", meta);
    assert_string_equal(x->feed.conn, "pg-main");
    assert_int_equal(x->feed.n_params, 1);
    assert_string_equal(x->feed.texts[0], "{1,2}"); /* one PostgreSQL array literal */
}

/*
 * 10 | By-ID partial cache | users byIds=[1,2,3] (1,2 cached) | cache + direct merge.
 * What is cached is only known when the cache is read, so the plan is the same as for a
 * full hit: strategy cache with the fallback SQL for every id. The merge itself (cached rows
 * first, then the database rows for the missing ids, spec §10.3) needs the Redis provider,
 * a later issue; until then execution answers CACHE_PROVIDER_MISSING in every mode but
 * sql-only. The database half of the merge will run the same statement with byIds reduced
 * to the missing ids, in the fallback database's dialect.
 */
static void scenario_10_byids_partial_cache(void **state)
{
    struct fx *x = *state;

    compile_ok(x, world.cat,
               "{'from':'users','columns':['id','email'],'byIds':[1,2,3],"
               "'executeMode':'sql-only'}", ADMIN);
    expect_sql_only(x, USERS_ID_EMAIL_SQL, "[[1,2,3]]",
                    USERS_CACHE_META(C_USERS_ID "," C_USERS_EMAIL("false")));
    compile_ok(x, world.cat, "{'from':'users','columns':['id','email'],'byIds':[1,2,3]}",
               ADMIN);
    expect_execute_error(x, 500, CACHE_MISSING);

    compile_ok(x, world.cat,
               "{'from':'users','columns':['id','email'],'byIds':[3],'executeMode':'sql-only'}",
               ADMIN);
    expect_sql_only(x, USERS_ID_EMAIL_SQL, "[[3]]",
                    USERS_CACHE_META(C_USERS_ID "," C_USERS_EMAIL("false")));
}

/* ---- 11-12: freshness ------------------------------------------------------------------------ */

/* 11 | Freshness=realtime, has materialized | orders + events (realtime) | skip materialized
 * (lag=seconds), trino. Without Trino the same query cannot be served: FRESHNESS_UNMET
 * explains why (P4's first rule), rather than quietly reading the replica. */
static void scenario_11_realtime_skips_materialized(void **state)
{
    struct fx *x = *state;
    const char *def = "{'from':'orders','columns':['id'],'freshness':'realtime',"
                      "'executeMode':'sql-only','joins':[{'table':'events','columns':['type']}]}";

    compile_ok(x, world.cat, def, ADMIN);
    expect_sql_only(x,
                    "SELECT \"t0\".\"id\" AS \"t0__id\", \"t1\".\"event_type\" AS "
                    "\"t1__event_type\" FROM \"pg_main\".\"public\".\"orders\" AS \"t0\" LEFT "
                    "JOIN \"ch_analytics\".\"default\".\"events\" AS \"t1\" ON \"t0\".\"id\" = "
                    "\"t1\".\"order_id\"", "[]",
                    "'strategy':'trino-cross-db','targetDatabase':'trino','dialect':'trino',"
                    "'tablesUsed':[" T_ORDERS ",{'tableId':'events','source':'original',"
                    "'database':'ch-analytics','physicalName':'default.events'}],"
                    "'columns':[" C_ORDERS_ID "," C_EVENTS_TYPE "]");

    expect_compile_error(x, world.no_trino, def, ADMIN, 422,
                         "{\"code\":\"FRESHNESS_UNMET\",\"message\":\"Freshness unmet: required "
                         "realtime, available lag seconds\",\"fromTable\":\"orders\","
                         "\"details\":{\"code\":\"FRESHNESS_UNMET\",\"requiredFreshness\":"
                         "\"realtime\",\"availableLag\":\"seconds\"}}");
}

/* 12 | Freshness=hours, has materialized | orders + events (hours ok) | materialized ->
 * ch-analytics. The replica's lag (seconds) is within hours, minutes and seconds alike. */
static void scenario_12_hours_uses_materialized(void **state)
{
    struct fx *x = *state;
    static const char *const fresh[] = {"hours", "minutes", "seconds"};
    char def[320];

    compile_ok(x, world.cat,
               "{'from':'orders','columns':['id'],'freshness':'hours','executeMode':'sql-only',"
               "'filters':[{'column':'status','operator':'=','value':'paid'}],"
               "'joins':[{'table':'events','columns':['type']}]}", ADMIN);
    expect_sql_only(x,
                    "SELECT `t0`.`id` AS `t0__id`, `t1`.`event_type` AS `t1__event_type` FROM "
                    "`default`.`orders_replica` AS `t0` LEFT JOIN `default`.`events` AS `t1` "
                    "ON `t0`.`id` = `t1`.`order_id` WHERE `t0`.`order_status` = {p1:String}",
                    "[\"paid\"]",
                    "'strategy':'materialized','targetDatabase':'ch-analytics',"
                    "'dialect':'clickhouse','tablesUsed':[{'tableId':'orders',"
                    "'source':'materialized','database':'ch-analytics',"
                    "'physicalName':'default.orders_replica'},{'tableId':'events',"
                    "'source':'original','database':'ch-analytics',"
                    "'physicalName':'default.events'}],'columns':[" C_ORDERS_ID ","
                    C_EVENTS_TYPE "]");
    for (size_t i = 0; i < sizeof(fresh) / sizeof(fresh[0]); i++) {
        snprintf(def, sizeof(def), "{'from':'events','columns':['id'],'freshness':'%s',"
                 "'joins':[{'table':'orders','columns':['total']}]}", fresh[i]);
        compile_ok(x, world.cat, def, ADMIN);
        assert_int_equal(x->c.strategy, CQ_DSL_STRAT_MATERIALIZED);
        assert_string_equal(x->c.target, "ch-analytics");
        assert_int_equal(x->c.dialect, CQ_DIALECT_CH);
        assert_int_equal(x->c.tables[1].source, CQ_DSL_SRC_MATERIALIZED);
        assert_string_equal(x->c.tables[1].phys, "default.orders_replica");
    }
}

/* ---- 13-16: roles ---------------------------------------------------------------------------- */

/* 13 | Admin role | any table | all columns, no RLS filters. Context values a row filter
 * would use change nothing for a role with tables "*". */
static void scenario_13_admin_all_columns_no_rls(void **state)
{
    struct fx *x = *state;
    const struct cq_dsl_catalog *cat = world.cat;

    compile_ok(x, cat, "{'from':'users','executeMode':'sql-only'}",
               "{'roles':{'user':['admin']},'contextValues':{'tenantId':'" TENANT_A "',"
               "'regionIds':['eu']}}");
    expect_sql_only(x,
                    "SELECT \"t0\".\"id\" AS \"t0__id\", \"t0\".\"email\" AS \"t0__email\", "
                    "\"t0\".\"phone\" AS \"t0__phone\", \"t0\".\"full_name\" AS "
                    "\"t0__full_name\", \"t0\".\"tenant_id\" AS \"t0__tenant_id\", "
                    "\"t0\".\"region_id\" AS \"t0__region_id\", \"t0\".\"is_active\" AS "
                    "\"t0__is_active\", \"t0\".\"birth_date\" AS \"t0__birth_date\", "
                    "\"t0\".\"created_at\" AS \"t0__created_at\", \"t0\".\"score\" AS "
                    "\"t0__score\", \"t0\".\"external_id\" AS \"t0__external_id\", "
                    "\"t0\".\"tags\" AS \"t0__tags\" FROM \"public\".\"users\" AS \"t0\"", "[]",
                    "'strategy':'direct','targetDatabase':'pg-main','dialect':'postgres',"
                    "'tablesUsed':[{'tableId':'users','source':'original','database':'pg-main',"
                    "'physicalName':'public.users'}],'columns':["
                    C_USERS_ID "," C_USERS_EMAIL("false") ","
                    "{'apiName':'phone','type':'string','nullable':true,'fromTable':'users',"
                    "'masked':false}," C_USERS_FULLNAME("false") ","
                    "{'apiName':'tenantId','type':'uuid','nullable':false,'fromTable':'users',"
                    "'masked':false},"
                    "{'apiName':'regionId','type':'string','nullable':false,"
                    "'fromTable':'users','masked':false},"
                    "{'apiName':'isActive','type':'boolean','nullable':false,"
                    "'fromTable':'users','masked':false},"
                    "{'apiName':'birthDate','type':'date','nullable':true,'fromTable':'users',"
                    "'masked':false},"
                    "{'apiName':'createdAt','type':'timestamp','nullable':false,"
                    "'fromTable':'users','masked':false},"
                    "{'apiName':'score','type':'decimal','nullable':true,'fromTable':'users',"
                    "'masked':false},"
                    "{'apiName':'externalId','type':'uuid','nullable':true,'fromTable':'users',"
                    "'masked':false},"
                    "{'apiName':'tags','type':'string[]','nullable':true,'fromTable':'users',"
                    "'masked':false}]");

    /* any table: every column of the metadata, in its order, unmasked, nothing bound */
    for (size_t i = 0; i < cat->n_tables; i++) {
        const struct cq_dsl_table *t = &cat->tables[i];
        char def[128];
        snprintf(def, sizeof(def), "{'from':'%s','executeMode':'sql-only'}", t->api);
        compile_ok(x, cat, def, ADMIN);
        assert_int_equal(x->c.n_cols, t->n_columns);
        for (size_t k = 0; k < t->n_columns; k++) {
            assert_string_equal(x->c.cols[k].key, t->columns[k].api);
            assert_false(x->c.cols[k].masked);
        }
        assert_int_equal(x->c.n_params, 0);
        assert_null(strstr(x->c.sql, " WHERE "));
    }

    /* admin next to tenant-user in the same scope lifts the row filter (spec §0.13) */
    compile_ok(x, cat, "{'from':'orders','columns':['id']}",
               "{'roles':{'user':['tenant-user','admin']},'contextValues':{'tenantId':'"
               TENANT_A "'}}");
    same_text("lifted SQL", x->c.sql,
              "SELECT \"t0\".\"id\" AS \"t0__id\" FROM \"public\".\"orders\" AS \"t0\"");
}

/* 14 | Tenant-user role | orders | subset columns + forced WHERE tenantId = X, the value
 * bound as a parameter (never pasted into the SQL). */
static void scenario_14_tenant_user_subset_and_row_filter(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__id", "t0__tenant_id", "t0__customer_id",
                                        "t0__total_amount", "t0__order_status",
                                        "t0__created_at"};
    static const struct cq_value rows[] = {NUM("1"), STR(TENANT_A), NUM("7"), NUM("12.50"),
                                           STR("paid"), STR("2024-01-15 10:00:00+00")};
    const char *sql = "SELECT \"t0\".\"id\" AS \"t0__id\", \"t0\".\"tenant_id\" AS "
                      "\"t0__tenant_id\", \"t0\".\"customer_id\" AS \"t0__customer_id\", "
                      "\"t0\".\"total_amount\" AS \"t0__total_amount\", \"t0\".\"order_status\" "
                      "AS \"t0__order_status\", \"t0\".\"created_at\" AS \"t0__created_at\" "
                      "FROM \"public\".\"orders\" AS \"t0\" WHERE \"t0\".\"tenant_id\" = $1";
    const char *meta =
        "'strategy':'direct','targetDatabase':'pg-main','dialect':'postgres',"
        "'tablesUsed':[" T_ORDERS "],'columns':[" C_ORDERS_ID ","
        "{'apiName':'tenantId','type':'uuid','nullable':false,'fromTable':'orders',"
        "'masked':false},"
        "{'apiName':'customerId','type':'int','nullable':false,'fromTable':'orders',"
        "'masked':false},"
        "{'apiName':'total','type':'decimal','nullable':false,'fromTable':'orders',"
        "'masked':false}," C_ORDERS_STATUS ","
        "{'apiName':'createdAt','type':'timestamp','nullable':false,'fromTable':'orders',"
        "'masked':false}]";

    compile_ok(x, world.cat, "{'from':'orders','executeMode':'sql-only'}", TENANT);
    expect_sql_only(x, sql, "[\"" TENANT_A "\"]", meta);
    assert_null(strstr(x->c.sql, TENANT_A));

    compile_ok(x, world.cat, "{'from':'orders'}", TENANT);
    feed(x, names, 6, rows, 1);
    expect_data(x, "[{'id':1,'tenantId':'" TENANT_A "','customerId':7,'total':12.50,"
                "'status':'paid','createdAt':'2024-01-15T10:00:00.000Z'}]", meta);
    assert_int_equal(x->feed.n_params, 1);
    assert_string_equal(x->feed.texts[0], TENANT_A);

    /* hidden rows are not counted either */
    compile_ok(x, world.cat, "{'from':'orders','executeMode':'count','columns':['id'],"
               "'orderBy':[{'column':'id','direction':'asc'}],'limit':5}", TENANT);
    same_text("count SQL", x->c.sql,
              "SELECT COUNT(*) FROM \"public\".\"orders\" AS \"t0\" WHERE \"t0\".\"tenant_id\" "
              "= $1");

    /* a column outside the subset is refused, not silently dropped */
    expect_compile_error(x, world.cat, "{'from':'orders','columns':['id','internalNote']}",
                         TENANT, 400,
                         "{\"code\":\"VALIDATION_FAILED\",\"message\":\"Validation failed: 1 "
                         "error\",\"fromTable\":\"orders\",\"errors\":[{\"code\":"
                         "\"ACCESS_DENIED\",\"message\":\"Column 'internalNote' in table "
                         "'orders' is not allowed\",\"details\":{\"table\":\"orders\","
                         "\"column\":\"internalNote\"}}]}");
}

/* 15 | No-access role | any table | denied (VALIDATION_FAILED / ACCESS_DENIED, 400), in
 * every mode: validation runs before planning. */
static void scenario_15_no_access_denied(void **state)
{
    struct fx *x = *state;
    static const char *const modes[] = {"execute", "sql-only", "count"};
    const struct cq_dsl_catalog *cat = world.cat;
    char def[160], body[512];

    for (size_t i = 0; i < cat->n_tables; i++) {
        const char *api = cat->tables[i].api;
        snprintf(body, sizeof(body),
                 "{\"code\":\"VALIDATION_FAILED\",\"message\":\"Validation failed: 1 error\","
                 "\"fromTable\":\"%s\",\"errors\":[{\"code\":\"ACCESS_DENIED\",\"message\":"
                 "\"Access denied for table '%s'\",\"details\":{\"table\":\"%s\"}}]}",
                 api, api, api);
        for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
            snprintf(def, sizeof(def), "{'from':'%s','executeMode':'%s'}", api, modes[m]);
            expect_compile_error(x, cat, def, "{'roles':{'user':['no-access']}}", 400, body);
        }
    }
}

/* 16 | Column trimming on byIds | users byIds + limited columns in role | only intersected
 * columns (and the role's masking), whatever strategy serves it. */
static void scenario_16_byids_column_trimming(void **state)
{
    struct fx *x = *state;
    static const char *const names[] = {"t0__id", "t0__email", "t0__full_name",
                                        "t0__tenant_id"};
    static const struct cq_value rows[] = {NUM("1"), STR("alice@example.com"),
                                           STR("Alice Smith"), STR(TENANT_A)};

    /* orders-service sees id, email, fullName of users: the cache plan returns just those */
    compile_ok(x, world.cat, "{'from':'users','byIds':[1,2],'executeMode':'sql-only'}",
               "{'roles':{'service':['orders-service']}}");
    expect_sql_only(x,
                    "SELECT \"t0\".\"id\" AS \"t0__id\", \"t0\".\"email\" AS \"t0__email\", "
                    "\"t0\".\"full_name\" AS \"t0__full_name\" FROM \"public\".\"users\" AS "
                    "\"t0\" WHERE \"t0\".\"id\" = ANY($1::integer[])", "[[1,2]]",
                    USERS_CACHE_META(C_USERS_ID "," C_USERS_EMAIL("false") ","
                                     C_USERS_FULLNAME("false")));
    expect_compile_error(x, world.cat, "{'from':'users','byIds':[1,2],'columns':['id','phone']}",
                         "{'roles':{'service':['orders-service']}}", 400,
                         "{\"code\":\"VALIDATION_FAILED\",\"message\":\"Validation failed: 1 "
                         "error\",\"fromTable\":\"users\",\"errors\":[{\"code\":"
                         "\"ACCESS_DENIED\",\"message\":\"Column 'phone' in table 'users' is "
                         "not allowed\",\"details\":{\"table\":\"users\",\"column\":"
                         "\"phone\"}}]}");

    /* support sees every column, most of them masked */
    compile_ok(x, world.cat,
               "{'from':'users','byIds':[1],'columns':['id','email','phone','fullName'],"
               "'executeMode':'sql-only'}", "{'roles':{'user':['support']}}");
    expect_sql_only(x,
                    "SELECT \"t0\".\"id\" AS \"t0__id\", \"t0\".\"email\" AS \"t0__email\", "
                    "\"t0\".\"phone\" AS \"t0__phone\", \"t0\".\"full_name\" AS "
                    "\"t0__full_name\" FROM \"public\".\"users\" AS \"t0\" WHERE \"t0\".\"id\" "
                    "= ANY($1::integer[])", "[[1]]",
                    USERS_CACHE_META(C_USERS_ID "," C_USERS_EMAIL("true") ","
                                     "{'apiName':'phone','type':'string','nullable':true,"
                                     "'fromTable':'users','masked':true},"
                                     C_USERS_FULLNAME("true")));

    /* tenant-user: four columns, email masked; its row filter skips the cache (§0.13), so
     * the database answers and the masking is applied to the row */
    compile_ok(x, world.cat, "{'from':'users','byIds':[1,2]}", TENANT);
    feed(x, names, 4, rows, 1);
    expect_data(x,
                "[{'id':1,'email':'a***@***.com','fullName':'Alice Smith','tenantId':'"
                TENANT_A "'}]",
                "'strategy':'direct','targetDatabase':'pg-main','dialect':'postgres',"
                "'tablesUsed':[{'tableId':'users','source':'original','database':'pg-main',"
                "'physicalName':'public.users'}],'columns':[" C_USERS_ID ","
                C_USERS_EMAIL("true") "," C_USERS_FULLNAME("false") ","
                "{'apiName':'tenantId','type':'uuid','nullable':false,'fromTable':'users',"
                "'masked':false}]");
    same_text("tenant-user byIds SQL", x->feed.sql,
              "SELECT \"t0\".\"id\" AS \"t0__id\", \"t0\".\"email\" AS \"t0__email\", "
              "\"t0\".\"full_name\" AS \"t0__full_name\", \"t0\".\"tenant_id\" AS "
              "\"t0__tenant_id\" FROM \"public\".\"users\" AS \"t0\" WHERE "
              "(\"t0\".\"tenant_id\" = $1 AND \"t0\".\"id\" = ANY($2::integer[]))");
    assert_int_equal(x->feed.n_params, 2);
    assert_string_equal(x->feed.texts[0], TENANT_A);
    assert_string_equal(x->feed.texts[1], "{1,2}");
}

/* ---- 17-20: errors --------------------------------------------------------------------------- */

/* 17 | Invalid table name | nonexistent | validation error */
static void scenario_17_invalid_table(void **state)
{
    struct fx *x = *state;

    expect_compile_error(x, world.cat, "{'from':'nonexistent'}", ADMIN, 400,
                         "{\"code\":\"VALIDATION_FAILED\",\"message\":\"Validation failed: 1 "
                         "error\",\"fromTable\":\"nonexistent\",\"errors\":[{\"code\":"
                         "\"UNKNOWN_TABLE\",\"message\":\"Unknown table 'nonexistent'\","
                         "\"details\":{\"table\":\"nonexistent\"}}]}");
    /* also with no roles at all (unrestricted): existence is checked first */
    expect_compile_error(x, world.cat, "{'from':'nonexistent','columns':['x']}", "{'roles':{}}",
                         400,
                         "{\"code\":\"VALIDATION_FAILED\",\"message\":\"Validation failed: 1 "
                         "error\",\"fromTable\":\"nonexistent\",\"errors\":[{\"code\":"
                         "\"UNKNOWN_TABLE\",\"message\":\"Unknown table 'nonexistent'\","
                         "\"details\":{\"table\":\"nonexistent\"}}]}");
}

/* 18 | Invalid column name | orders.nonexistent | validation error, as a selected column
 * and as a filter column */
static void scenario_18_invalid_column(void **state)
{
    struct fx *x = *state;

    expect_compile_error(x, world.cat, "{'from':'orders','columns':['id','nonexistent']}",
                         ADMIN, 400,
                         "{\"code\":\"VALIDATION_FAILED\",\"message\":\"Validation failed: 1 "
                         "error\",\"fromTable\":\"orders\",\"errors\":[{\"code\":"
                         "\"UNKNOWN_COLUMN\",\"message\":\"Column 'nonexistent' does not exist "
                         "in table 'orders'\",\"details\":{\"table\":\"orders\",\"column\":"
                         "\"nonexistent\"}}]}");
    expect_compile_error(x, world.cat,
                         "{'from':'orders','filters':[{'column':'nonexistent','operator':'=',"
                         "'value':1}]}", ADMIN, 400,
                         "{\"code\":\"VALIDATION_FAILED\",\"message\":\"Validation failed: 1 "
                         "error\",\"fromTable\":\"orders\",\"errors\":[{\"code\":"
                         "\"UNKNOWN_COLUMN\",\"message\":\"Filter column 'nonexistent' does not "
                         "exist in table 'orders'\",\"details\":{\"table\":\"orders\","
                         "\"column\":\"nonexistent\",\"filterIndex\":0}}]}");
}

/* 19 | Trino disabled | cross-db query | error with explanation (PlannerError, 422). The
 * replica path does not need Trino, so it still works; a database without a Trino catalog
 * is the other explanation (NO_CATALOG). */
static void scenario_19_trino_disabled(void **state)
{
    struct fx *x = *state;

    expect_compile_error(x, world.no_trino,
                         "{'from':'orders','columns':['id'],'joins':[{'table':'invoices'}]}",
                         ADMIN, 422,
                         "{\"code\":\"TRINO_DISABLED\",\"message\":\"Trino is disabled\","
                         "\"fromTable\":\"orders\",\"details\":{\"code\":\"TRINO_DISABLED\"}}");
    expect_compile_error(x, world.no_trino,
                         "{'from':'products','columns':['id'],'joins':[{'table':'events'}],"
                         "'executeMode':'sql-only'}", ADMIN, 422,
                         "{\"code\":\"TRINO_DISABLED\",\"message\":\"Trino is disabled\","
                         "\"fromTable\":\"products\",\"details\":{\"code\":\"TRINO_DISABLED\"}}");

    compile_ok(x, world.no_trino,
               "{'from':'orders','columns':['id'],'joins':[{'table':'events'}]}", ADMIN);
    assert_int_equal(x->c.strategy, CQ_DSL_STRAT_MATERIALIZED);
    assert_string_equal(x->c.target, "ch-analytics");

    expect_compile_error(x, world.no_catalog,
                         "{'from':'orders','columns':['id'],'joins':[{'table':'invoices'}]}",
                         ADMIN, 422,
                         "{\"code\":\"NO_CATALOG\",\"message\":\"No Trino catalog for "
                         "databases: pg-tenant\",\"fromTable\":\"orders\",\"details\":"
                         "{\"code\":\"NO_CATALOG\",\"databases\":[\"pg-tenant\"]}}");
}

/* 20 | Missing context value | tenant-user role, no tenantId in context | validation error
 * MISSING_CONTEXT (spec §0.13), whatever else the context holds */
static void scenario_20_missing_context(void **state)
{
    struct fx *x = *state;
    static const char *const ctxs[] = {
        "{'roles':{'user':['tenant-user']}}",
        "{'roles':{'user':['tenant-user']},'contextValues':{}}",
        "{'roles':{'user':['tenant-user']},'contextValues':{'regionIds':['eu'],"
        "'tenantid':'" TENANT_A "'}}",
    };
    const char *body = "{\"code\":\"VALIDATION_FAILED\",\"message\":\"Validation failed: 1 "
                       "error\",\"fromTable\":\"orders\",\"errors\":[{\"code\":"
                       "\"MISSING_CONTEXT\",\"message\":\"Role 'tenant-user' requires context "
                       "value 'tenantId'\",\"details\":{\"role\":\"tenant-user\","
                       "\"contextKey\":\"tenantId\"}}]}";

    for (size_t i = 0; i < sizeof(ctxs) / sizeof(ctxs[0]); i++) {
        expect_compile_error(x, world.cat, "{'from':'orders','columns':['id']}", ctxs[i], 400,
                             body);
    }
    /* sql-only too: no SQL is made with a hole where the tenant should be */
    expect_compile_error(x, world.cat,
                         "{'from':'orders','columns':['id'],'executeMode':'sql-only'}", ctxs[0],
                         400, body);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(scenario_01_single_pg_table),
        T(scenario_02_join_within_same_pg),
        T(scenario_03_cross_pg_debezium_materialized),
        T(scenario_04_cross_pg_no_debezium_trino),
        T(scenario_05_pg_ch_debezium_materialized),
        T(scenario_06_pg_ch_no_debezium_trino),
        T(scenario_07_pg_iceberg_materialized_or_trino),
        T(scenario_08_byids_cache_hit),
        T(scenario_09_byids_cache_miss_direct),
        T(scenario_10_byids_partial_cache),
        T(scenario_11_realtime_skips_materialized),
        T(scenario_12_hours_uses_materialized),
        T(scenario_13_admin_all_columns_no_rls),
        T(scenario_14_tenant_user_subset_and_row_filter),
        T(scenario_15_no_access_denied),
        T(scenario_16_byids_column_trimming),
        T(scenario_17_invalid_table),
        T(scenario_18_invalid_column),
        T(scenario_19_trino_disabled),
        T(scenario_20_missing_context),
    };
#undef T
    return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
