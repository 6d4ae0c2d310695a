/*
 * test_dsl_catalog.c - the governed-query catalog: the shared fixture loaded and looked
 * up (databases, tables, columns, relations, syncs, caches, roles with their bitsets and
 * row filters), every spec §6 rule with its exact code, message and details (several
 * errors collected in order), malformed shapes reported instead of crashing, clariq's
 * INVALID_ROLE and duplicate-id checks at load, connections, the reference count and the
 * registry swap.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/mem.h"
#include "dsl/catalog.h"
#include "dsl/dsl.h"
#include "dsltest.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static json_t *fixture(const char *member)
{
    json_t *all = cq_test_dsl_fixture();
    assert_non_null(all);
    json_t *m = json_deep_copy(json_object_get(all, member));
    json_decref(all);
    return m;
}

static char *dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

/* Compares the entries of a ConfigError body with "CODE|message|details" lines. */
static void expect_entries(json_t *body, const char *const *want)
{
    size_t n = 0;
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(body, "code")), "CONFIG_INVALID");
    json_t *errors = json_object_get(body, "errors");
    while (want[n] != NULL) {
        n++;
    }
    for (size_t i = 0; i < json_array_size(errors) || i < n; i++) {
        json_t *e = json_array_get(errors, i);
        char *details = e ? dump(json_object_get(e, "details")) : NULL;
        char got[8192];
        snprintf(got, sizeof(got), "%s|%s|%s", e ? json_string_value(json_object_get(e, "code"))
                                                 : "(none)",
                 e ? json_string_value(json_object_get(e, "message")) : "",
                 details ? details : "");
        free(details);
        if (i >= n || strcmp(got, want[i]) != 0) {
            fail_msg("entry %zu:\n got  %s\n want %s", i, got, i < n ? want[i] : "(none)");
        }
    }
    char msg[64];
    snprintf(msg, sizeof(msg), "Config invalid: %zu error%s", n, n == 1 ? "" : "s");
    assert_string_equal(json_string_value(json_object_get(body, "message")), msg);
    assert_int_equal(json_object_size(body), 3); /* code, message, errors */
}

/* §6 on metadata: validate alone, and the catalog refused with the same entries. */
static void expect_config(json_t *md, const char *const *want)
{
    json_t *body = cq_dsl_config_validate(md), *cerr = NULL;
    struct cq_err err = {0};
    expect_entries(body, want);
    struct cq_dsl_catalog *cat = cq_dsl_catalog_new(md, NULL, NULL, &cerr, &err);
    assert_null(cat);
    assert_int_equal(err.rc, CQ_EINVAL);
    expect_entries(cerr, want);
    json_decref(body);
    json_decref(cerr);
    json_decref(md);
}

/* Load-only checks (roles, duplicate ids): validate alone passes, the load refuses. */
static void expect_load(json_t *md, json_t *roles, const char *const *want)
{
    json_t *cerr = NULL;
    struct cq_err err = {0};
    struct cq_dsl_catalog *cat = cq_dsl_catalog_new(md, roles, NULL, &cerr, &err);
    assert_null(cat);
    assert_int_equal(err.rc, CQ_EINVAL);
    expect_entries(cerr, want);
    json_decref(cerr);
    json_decref(md);
    json_decref(roles);
}

static struct cq_dsl_catalog *load_ok(json_t *md, json_t *roles, json_t *conns)
{
    json_t *cerr = NULL;
    struct cq_err err = {0};
    struct cq_dsl_catalog *cat = cq_dsl_catalog_new(md, roles, conns, &cerr, &err);
    if (cat == NULL) {
        char *s = cerr ? dump(cerr) : NULL;
        fail_msg("catalog refused: %s\n%s", err.msg, s ? s : "");
    }
    assert_null(cerr);
    json_decref(md);
    json_decref(roles);
    json_decref(conns);
    return cat;
}

/* One database, one table t(id int pk, name string nullable); tweak with set_path. */
#define BASE                                                                                       \
    "{'databases':[{'id':'db','engine':'postgres'}],"                                              \
    "'tables':[{'id':'t','apiName':'t','database':'db','physicalName':'public.t',"                 \
    "'columns':[{'apiName':'id','physicalName':'id','type':'int','nullable':false},"               \
    "{'apiName':'name','physicalName':'name','type':'string','nullable':true}],"                   \
    "'primaryKey':['id'],'relations':[]}],'caches':[],'externalSyncs':[]}"

static json_t *tbl(json_t *md, size_t i)
{
    return json_array_get(json_object_get(md, "tables"), i);
}

static json_t *col(json_t *md, size_t t, size_t c)
{
    return json_array_get(json_object_get(tbl(md, t), "columns"), c);
}

static bool bit(const uint64_t *set, const struct cq_dsl_table *t, const char *api)
{
    const struct cq_dsl_column *c = cq_dsl_column_by_api(t, api);
    assert_non_null(c);
    return set != NULL && cq_dsl_bit(set, c->idx);
}

/* ---- the fixture --------------------------------------------------------------------------- */

static void test_fixture_lookups(void **state)
{
    (void)state;
    struct cq_dsl_catalog *cat = load_ok(fixture("metadata"), fixture("roles"), NULL);
    assert_int_equal(cat->n_databases, 4);
    assert_int_equal(cat->n_tables, 8);
    assert_int_equal(cat->n_roles, 7);
    assert_int_equal(cat->n_syncs, 3);
    assert_int_equal(cat->n_caches, 1);
    assert_true(cat->trino_enabled);
    assert_int_equal(cat->bitset_words, 1);

    const struct cq_dsl_database *ch = cq_dsl_db_by_id(cat, "ch-analytics");
    assert_non_null(ch);
    assert_int_equal(ch->engine, CQ_DSL_ENGINE_CLICKHOUSE);
    assert_int_equal(ch->dialect, CQ_DIALECT_CH);
    assert_string_equal(ch->trino_catalog, "ch_analytics");
    assert_null(ch->connection);
    assert_int_equal(cq_dsl_db_by_id(cat, "iceberg-archive")->dialect, CQ_DIALECT_TRINO);
    assert_null(cq_dsl_db_by_id(cat, "nope"));

    const struct cq_dsl_table *orders = cq_dsl_table_by_api(cat, "orders");
    assert_non_null(orders);
    assert_ptr_equal(orders, cq_dsl_table_by_id(cat, "orders"));
    assert_string_equal(orders->db->id, "pg-main");
    assert_int_equal(orders->n_phys_parts, 2);
    assert_string_equal(orders->phys_parts[0], "public");
    assert_string_equal(orders->phys_parts[1], "orders");
    assert_int_equal(orders->n_columns, 20);
    assert_int_equal(orders->n_pk, 1);
    assert_int_equal(orders->n_pk_declared, 1);
    assert_string_equal(orders->pk[0]->api, "id");

    const struct cq_dsl_column *total = cq_dsl_column_by_api(orders, "total");
    assert_non_null(total);
    assert_string_equal(total->phys, "total_amount");
    assert_int_equal(total->type, CQ_DSL_T_DECIMAL);
    assert_false(total->array);
    assert_false(total->nullable);
    assert_ptr_equal(&orders->columns[total->idx], total);
    const struct cq_dsl_column *scans = cq_dsl_column_by_api(orders, "scanTimes");
    assert_int_equal(scans->type, CQ_DSL_T_TIMESTAMP);
    assert_true(scans->array);
    assert_string_equal(scans->type_name, "timestamp[]");
    assert_null(cq_dsl_column_by_api(orders, "total_amount"));
    for (size_t i = 0; i < orders->n_columns; i++) {
        assert_ptr_equal(cq_dsl_column_by_api(orders, orders->columns[i].api),
                         &orders->columns[i]);
    }

    const struct cq_dsl_table *users = cq_dsl_table_by_api(cat, "users");
    assert_int_equal(cq_dsl_column_by_api(users, "email")->mask_fn, CQ_DSL_MASK_EMAIL);
    assert_int_equal(cq_dsl_column_by_api(users, "id")->mask_fn, CQ_DSL_MASK_NONE);
    assert_null(cq_dsl_table_by_api(cat, "ordersarchive"));
    assert_non_null(cq_dsl_table_by_api(cat, "ordersArchive"));
    assert_string_equal(cq_dsl_table_by_api(cat, "ordersArchive")->phys_parts[0], "warehouse");
    cq_dsl_catalog_unref(cat);
}

static void test_fixture_relations_syncs_caches(void **state)
{
    (void)state;
    struct cq_dsl_catalog *cat = load_ok(fixture("metadata"), fixture("roles"), NULL);
    const struct cq_dsl_table *orders = cq_dsl_table_by_id(cat, "orders");
    assert_int_equal(orders->n_relations, 3);
    assert_string_equal(orders->relations[0].column->api, "customerId");
    assert_ptr_equal(orders->relations[0].ref_table, cq_dsl_table_by_id(cat, "users"));
    assert_string_equal(orders->relations[0].ref_column->api, "id");
    assert_string_equal(orders->relations[0].type, "many-to-one");
    assert_ptr_equal(orders->relations[2].ref_table, cq_dsl_table_by_id(cat, "tenants"));

    assert_int_equal(orders->n_syncs, 2);
    assert_string_equal(orders->syncs[0]->target->id, "ch-analytics");
    assert_string_equal(orders->syncs[0]->target_phys, "default.orders_replica");
    assert_int_equal(orders->syncs[0]->lag, CQ_DSL_LAG_SECONDS);
    assert_int_equal(orders->syncs[1]->lag, CQ_DSL_LAG_MINUTES);
    assert_ptr_equal(orders->syncs[0]->source, orders);
    assert_int_equal(cq_dsl_table_by_id(cat, "tenants")->n_syncs, 1);
    assert_int_equal(cq_dsl_table_by_id(cat, "users")->n_syncs, 0);

    const struct cq_dsl_table *users = cq_dsl_table_by_id(cat, "users");
    const struct cq_dsl_table *products = cq_dsl_table_by_id(cat, "products");
    assert_non_null(users->cached);
    assert_string_equal(users->cached->cache->id, "redis-main");
    assert_string_equal(users->cached->key_pattern, "users:{id}");
    assert_null(users->cached->columns);
    assert_int_equal(products->cached->n_columns, 3);
    assert_string_equal(products->cached->columns[2]->api, "price");
    assert_null(orders->cached);
    assert_string_equal(cat->caches[0].engine, "redis");
    cq_dsl_catalog_unref(cat);
}

static void test_fixture_roles(void **state)
{
    (void)state;
    struct cq_dsl_catalog *cat = load_ok(fixture("metadata"), fixture("roles"), NULL);
    const struct cq_dsl_table *orders = cq_dsl_table_by_id(cat, "orders");
    const struct cq_dsl_table *users = cq_dsl_table_by_id(cat, "users");
    const struct cq_dsl_table *events = cq_dsl_table_by_id(cat, "events");

    const struct cq_dsl_role *admin = cq_dsl_role_by_id(cat, "admin");
    assert_true(admin->all_tables);
    assert_int_equal(admin->n_grants, 0);
    assert_null(admin->by_table[orders->idx]);
    assert_null(cq_dsl_role_by_id(cat, "ghost"));

    const struct cq_dsl_role *tu = cq_dsl_role_by_id(cat, "tenant-user");
    assert_false(tu->all_tables);
    assert_int_equal(tu->n_grants, 2);
    const struct cq_dsl_grant *g = tu->by_table[orders->idx];
    assert_non_null(g);
    assert_ptr_equal(g->table, orders);
    assert_false(g->all_columns);
    assert_true(bit(g->allowed, orders, "total"));
    assert_true(bit(g->allowed, orders, "createdAt"));
    assert_false(bit(g->allowed, orders, "internalNote"));
    assert_null(g->masked);
    assert_int_equal(g->n_filters, 1);
    assert_string_equal(g->filters[0].column->api, "tenantId");
    assert_int_equal(g->filters[0].op, CQ_DSL_RLS_EQ);
    assert_string_equal(g->filters[0].context_key, "tenantId");
    assert_null(tu->by_table[events->idx]);
    g = tu->by_table[users->idx];
    assert_true(bit(g->masked, users, "email"));
    assert_false(bit(g->masked, users, "fullName"));

    const struct cq_dsl_role *rm = cq_dsl_role_by_id(cat, "regional-manager");
    g = rm->by_table[orders->idx];
    assert_true(g->all_columns);
    assert_null(g->allowed);
    assert_int_equal(g->filters[0].op, CQ_DSL_RLS_IN);
    assert_string_equal(g->filters[0].context_key, "regionIds");
    g = rm->by_table[users->idx];
    assert_true(bit(g->masked, users, "phone"));

    /* support: internalNote is allowed and masked; masked columns outside allowed drop */
    const struct cq_dsl_role *sup = cq_dsl_role_by_id(cat, "support");
    g = sup->by_table[orders->idx];
    assert_true(bit(g->allowed, orders, "internalNote"));
    assert_true(bit(g->masked, orders, "internalNote"));
    assert_false(bit(g->masked, orders, "status"));
    g = sup->by_table[users->idx];
    assert_true(bit(g->masked, users, "tags"));
    assert_false(bit(g->masked, users, "id"));

    const struct cq_dsl_role *none = cq_dsl_role_by_id(cat, "no-access");
    assert_false(none->all_tables);
    assert_int_equal(none->n_grants, 0);
    cq_dsl_catalog_unref(cat);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(cq_dsl_type_name(CQ_DSL_T_UUID), "uuid");
    assert_string_equal(cq_dsl_type_name(CQ_DSL_T_TIMESTAMP), "timestamp");
    assert_string_equal(cq_dsl_dialect_name(CQ_DIALECT_PG), "postgres");
    assert_string_equal(cq_dsl_dialect_name(CQ_DIALECT_CH), "clickhouse");
    assert_string_equal(cq_dsl_dialect_name(CQ_DIALECT_TRINO), "trino");
    assert_string_equal(cq_dsl_dialect_name(CQ_DIALECT_SQLITE), "sqlite");
}

/* ---- spec §6 ------------------------------------------------------------------------------- */

static void test_valid_config(void **state)
{
    (void)state;
    json_t *md = fixture("metadata");
    assert_null(cq_dsl_config_validate(md));
    json_decref(md);
    md = cq_test_json(BASE);
    assert_null(cq_dsl_config_validate(md));
    json_decref(md);
}

static void test_api_name_rules(void **state)
{
    (void)state;
    char long_name[80];
    memset(long_name, 'a', 65);
    long_name[65] = '\0';
    json_t *md = cq_test_json(BASE);
    json_object_set_new(tbl(md, 0), "apiName", json_string("Users"));
    expect_config(md, (const char *const[]){
        "INVALID_API_NAME|Table 't': apiName must match ^[a-z][a-zA-Z0-9]*$, got 'Users'|"
        "{\"entity\":\"t\",\"field\":\"apiName\",\"actual\":\"Users\"}",
        NULL});
    md = cq_test_json(BASE);
    json_object_set_new(tbl(md, 0), "apiName", json_string(""));
    expect_config(md, (const char *const[]){
        "INVALID_API_NAME|Table 't': apiName must be 1\xe2\x80\x93"
        "64 characters, got 0|{\"entity\":\"t\",\"field\":\"apiName\",\"actual\":\"\"}",
        NULL});
    md = cq_test_json(BASE);
    json_object_set_new(tbl(md, 0), "apiName", json_string(long_name));
    char want[256];
    snprintf(want, sizeof(want),
             "INVALID_API_NAME|Table 't': apiName must be 1\xe2\x80\x93"
             "64 characters, got 65|{\"entity\":\"t\",\"field\":\"apiName\",\"actual\":\"%s\"}",
             long_name);
    expect_config(md, (const char *const[]){want, NULL});
    /* reserved words are matched case-insensitively; a valid name that is one */
    md = cq_test_json(BASE);
    json_object_set_new(tbl(md, 0), "apiName", json_string("sElect"));
    json_object_set_new(col(md, 0, 1), "apiName", json_string("first_name"));
    expect_config(md, (const char *const[]){
        "INVALID_API_NAME|Table 't': apiName 'sElect' is a reserved word|"
        "{\"entity\":\"t\",\"field\":\"apiName\",\"actual\":\"sElect\"}",
        "INVALID_API_NAME|Column 't.first_name': apiName must match ^[a-z][a-zA-Z0-9]*$, got "
        "'first_name'|{\"entity\":\"t.first_name\",\"field\":\"apiName\",\"actual\":"
        "\"first_name\"}",
        NULL});
    /* length counts UTF-16 units like JavaScript: 33 emoji are 66 */
    md = cq_test_json(BASE);
    char emoji[200] = "";
    for (int i = 0; i < 33; i++) {
        strcat(emoji, "\xf0\x9f\x98\x80");
    }
    json_object_set_new(col(md, 0, 1), "apiName", json_string(emoji));
    json_t *body = cq_dsl_config_validate(md);
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_array_get(json_object_get(body, "errors"), 0), "message")),
                           "characters, got 66"));
    json_decref(body);
    json_decref(md);
    for (const char *const *w = (const char *const[]){"count", "by", "NULL", "Max", NULL}; *w;
         w++) {
        md = cq_test_json(BASE);
        json_object_set_new(col(md, 0, 1), "apiName", json_string(*w));
        body = cq_dsl_config_validate(md);
        assert_non_null(body);
        json_decref(body);
        json_decref(md);
    }
}

static void test_duplicates_and_references(void **state)
{
    (void)state;
    json_t *md = cq_test_json(BASE);
    json_t *t2 = json_deep_copy(tbl(md, 0));
    json_object_set_new(t2, "id", json_string("t2"));
    json_object_set_new(t2, "database", json_string("nodb"));
    json_array_append_new(json_object_get(t2, "columns"), json_deep_copy(col(md, 0, 0)));
    json_array_append_new(json_object_get(md, "tables"), t2);
    expect_config(md, (const char *const[]){
        "DUPLICATE_API_NAME|Duplicate table apiName 't' (tables 't' and 't2')|"
        "{\"entity\":\"t2\",\"field\":\"apiName\",\"actual\":\"t\"}",
        "INVALID_REFERENCE|Table 't2' references non-existent database 'nodb'|"
        "{\"entity\":\"t2\",\"field\":\"database\",\"actual\":\"nodb\",\"database\":\"nodb\"}",
        "DUPLICATE_API_NAME|Duplicate column apiName 'id' in table 't2'|"
        "{\"entity\":\"t2\",\"field\":\"apiName\",\"actual\":\"id\"}",
        NULL});
}

static void test_relations(void **state)
{
    (void)state;
    json_t *md = cq_test_json(BASE);
    json_t *t2 =
        cq_test_json("{'id':'t2','apiName':'other','database':'db','physicalName':'t2',"
                     "'columns':[{'apiName':'id','physicalName':'id','type':'int',"
                     "'nullable':false},{'apiName':'tId','physicalName':'t_id','type':'int',"
                     "'nullable':true}],'primaryKey':['id'],'relations':["
                     "{'column':'tId','references':{'table':'t','column':'id'},"
                     "'type':'many-to-one'},"
                     "{'column':'nope','references':{'table':'ghost','column':'id'}},"
                     "{'column':'tId','references':{'table':'t','column':'zz'}}]}");
    json_array_append_new(json_object_get(md, "tables"), t2);
    /* the first pass reports source columns, the second targets */
    json_array_append_new(
        json_object_get(tbl(md, 0), "relations"),
        cq_test_json("{'column':'id','references':{'table':'other','column':'tId'}}"));
    expect_config(md, (const char *const[]){
        "INVALID_RELATION|Relation in table 't2': source column 'nope' does not exist|"
        "{\"entity\":\"t2\",\"field\":\"column\",\"actual\":\"nope\"}",
        "INVALID_RELATION|Relation in table 't2': references non-existent table 'ghost'|"
        "{\"entity\":\"t2\",\"field\":\"references.table\",\"actual\":\"ghost\"}",
        "INVALID_RELATION|Relation in table 't2': references non-existent column 'zz' in table "
        "'t'|{\"entity\":\"t2\",\"field\":\"references.column\",\"actual\":\"zz\"}",
        NULL});
}

/* A relation may name its target by apiName; the catalog resolves it either way. */
static void test_relation_by_api_name(void **state)
{
    (void)state;
    json_t *md = cq_test_json(BASE);
    json_t *t2 = cq_test_json("{'id':'t2','apiName':'other','database':'db','physicalName':'t2',"
                              "'columns':[{'apiName':'id','physicalName':'id','type':'int',"
                              "'nullable':false}],'primaryKey':['id'],'relations':[]}");
    json_array_append_new(json_object_get(md, "tables"), t2);
    json_array_append_new(
        json_object_get(tbl(md, 0), "relations"),
        cq_test_json("{'column':'id','references':{'table':'other','column':'id'}}"));
    struct cq_dsl_catalog *cat = load_ok(md, NULL, NULL);
    const struct cq_dsl_table *t = cq_dsl_table_by_id(cat, "t");
    assert_int_equal(t->n_relations, 1);
    assert_ptr_equal(t->relations[0].ref_table, cq_dsl_table_by_id(cat, "t2"));
    assert_null(t->relations[0].type);
    cq_dsl_catalog_unref(cat);
}

static void test_syncs_and_caches(void **state)
{
    (void)state;
    json_t *md = cq_test_json(BASE);
    json_object_set_new(
        md, "externalSyncs",
        cq_test_json("[{'sourceTable':'t','targetDatabase':'db','targetPhysicalName':'r.t',"
                     "'method':'debezium','estimatedLag':'hours'},"
                     "{'sourceTable':'x','targetDatabase':'nodb','targetPhysicalName':'r.x',"
                     "'method':'debezium','estimatedLag':'seconds'}]"));
    json_object_set_new(
        md, "caches",
        cq_test_json("[{'id':'c1','engine':'redis','tables':["
                     "{'tableId':'ghost','keyPattern':'g:{id}'},"
                     "{'tableId':'t','keyPattern':'t:{id}:{name}:{x}','columns':['id','nm']}"
                     "]}]"));
    expect_config(md, (const char *const[]){
        "INVALID_SYNC|ExternalSync references non-existent source table 'x'|"
        "{\"entity\":\"x\",\"field\":\"sourceTable\",\"actual\":\"x\"}",
        "INVALID_SYNC|ExternalSync references non-existent target database 'nodb'|"
        "{\"entity\":\"x\",\"field\":\"targetDatabase\",\"actual\":\"nodb\",\"database\":"
        "\"nodb\"}",
        "INVALID_CACHE|Cache 'c1' references non-existent table 'ghost'|"
        "{\"entity\":\"ghost\",\"cacheId\":\"c1\"}",
        "INVALID_CACHE|Cache 'c1' table 't': keyPattern placeholder '{name}' is not a PK column|"
        "{\"entity\":\"t\",\"field\":\"keyPattern\",\"actual\":\"name\",\"cacheId\":\"c1\"}",
        "INVALID_CACHE|Cache 'c1' table 't': keyPattern placeholder '{x}' is not a PK column|"
        "{\"entity\":\"t\",\"field\":\"keyPattern\",\"actual\":\"x\",\"cacheId\":\"c1\"}",
        "INVALID_CACHE|Cache 'c1' table 't': cached column 'nm' does not exist|"
        "{\"entity\":\"t\",\"field\":\"columns\",\"actual\":\"nm\",\"cacheId\":\"c1\"}",
        NULL});
}

/* Every kind at once: the spec's order (tables, relation targets, syncs, caches). */
static void test_order_of_errors(void **state)
{
    (void)state;
    json_t *md = cq_test_json(BASE);
    json_object_set_new(md, "caches",
                        cq_test_json("[{'id':'c','engine':'redis','tables':["
                                     "{'tableId':'nope','keyPattern':'x'}]}]"));
    json_object_set_new(
        md, "externalSyncs",
        cq_test_json("[{'sourceTable':'nope','targetDatabase':'db','targetPhysicalName':"
                     "'a.b','method':'debezium','estimatedLag':'seconds'}]"));
    json_array_append_new(
        json_object_get(tbl(md, 0), "relations"),
        cq_test_json("{'column':'bad','references':{'table':'nope','column':'id'}}"));
    json_object_set_new(tbl(md, 0), "database", json_string("x"));
    json_object_set_new(col(md, 0, 0), "apiName", json_string("Id"));
    json_object_set_new(tbl(md, 0), "apiName", json_string("T"));
    expect_config(md, (const char *const[]){
        "INVALID_API_NAME|Table 't': apiName must match ^[a-z][a-zA-Z0-9]*$, got 'T'|"
        "{\"entity\":\"t\",\"field\":\"apiName\",\"actual\":\"T\"}",
        "INVALID_REFERENCE|Table 't' references non-existent database 'x'|"
        "{\"entity\":\"t\",\"field\":\"database\",\"actual\":\"x\",\"database\":\"x\"}",
        "INVALID_API_NAME|Column 't.Id': apiName must match ^[a-z][a-zA-Z0-9]*$, got 'Id'|"
        "{\"entity\":\"t.Id\",\"field\":\"apiName\",\"actual\":\"Id\"}",
        "INVALID_RELATION|Relation in table 't': source column 'bad' does not exist|"
        "{\"entity\":\"t\",\"field\":\"column\",\"actual\":\"bad\"}",
        "INVALID_RELATION|Relation in table 't': references non-existent table 'nope'|"
        "{\"entity\":\"t\",\"field\":\"references.table\",\"actual\":\"nope\"}",
        "INVALID_SYNC|ExternalSync references non-existent source table 'nope'|"
        "{\"entity\":\"nope\",\"field\":\"sourceTable\",\"actual\":\"nope\"}",
        "INVALID_CACHE|Cache 'c' references non-existent table 'nope'|"
        "{\"entity\":\"nope\",\"cacheId\":\"c\"}",
        NULL});
}

/* §6 does not check duplicate ids, PK columns or roles; the load refuses duplicate ids. */
static void test_not_checked_by_validate(void **state)
{
    (void)state;
    json_t *md = cq_test_json(BASE);
    json_t *t2 = json_deep_copy(tbl(md, 0));
    json_object_set_new(t2, "apiName", json_string("other"));
    json_array_append_new(json_object_get(md, "tables"), t2);
    json_array_append_new(json_object_get(md, "databases"),
                          cq_test_json("{'id':'db','engine':'clickhouse'}"));
    json_object_set_new(tbl(md, 0), "primaryKey", cq_test_json("['missing']"));
    assert_null(cq_dsl_config_validate(md));
    expect_load(md, NULL, (const char *const[]){
        "INVALID_CONFIG|Duplicate database id 'db' (entries 0 and 1)|"
        "{\"entity\":\"db\",\"field\":\"id\",\"actual\":\"db\"}",
        "INVALID_CONFIG|Duplicate table id 't' (entries 0 and 1)|"
        "{\"entity\":\"t\",\"field\":\"id\",\"actual\":\"t\"}",
        NULL});
    /* an unknown PK column is dropped; the declared count stays for the byIds message */
    md = cq_test_json(BASE);
    json_object_set_new(tbl(md, 0), "primaryKey", cq_test_json("['id','missing']"));
    struct cq_dsl_catalog *cat = load_ok(md, NULL, NULL);
    assert_int_equal(cat->tables[0].n_pk, 1);
    assert_int_equal(cat->tables[0].n_pk_declared, 2);
    cq_dsl_catalog_unref(cat);
}

/* ---- shapes: arbitrary JSON is reported, never a crash ------------------------------------- */

static void test_malformed_shapes(void **state)
{
    (void)state;
    expect_config(
        cq_test_json("[]"),
        (const char *const[]){
            "INVALID_CONFIG|MetadataConfig must be an object with databases, tables, caches and "
            "externalSyncs, got array|{\"expected\":\"object\",\"actual\":\"array\"}",
            NULL});
    expect_config(
        cq_test_json("{'tables':{},'databases':1,'caches':'x','externalSyncs':true,'trino':3}"),
        (const char *const[]){
            "INVALID_CONFIG|databases must be an array, got number|"
            "{\"field\":\"databases\",\"expected\":\"array\",\"actual\":\"number\"}",
            "INVALID_CONFIG|tables must be an array, got object|"
            "{\"field\":\"tables\",\"expected\":\"array\",\"actual\":\"object\"}",
            "INVALID_CONFIG|caches must be an array, got string|"
            "{\"field\":\"caches\",\"expected\":\"array\",\"actual\":\"string\"}",
            "INVALID_CONFIG|externalSyncs must be an array, got boolean|"
            "{\"field\":\"externalSyncs\",\"expected\":\"array\",\"actual\":\"boolean\"}",
            "INVALID_CONFIG|trino must be an object such as {\"enabled\": true}, got number|"
            "{\"entity\":\"trino\",\"expected\":\"object\",\"actual\":\"number\"}",
            NULL});
    expect_config(
        cq_test_json("{'databases':[7,{'engine':'mysql'}],'tables':[null,"
                     "{'id':'a','apiName':5,'database':[],'physicalName':'x.',"
                     "'columns':{},'relations':[1]}]}"),
        (const char *const[]){
            "INVALID_CONFIG|databases[0] must be an object, got number|"
            "{\"entity\":\"databases[0]\",\"expected\":\"object\",\"actual\":\"number\"}",
            "INVALID_CONFIG|databases[1]: id must be a non-empty string, got absent|"
            "{\"entity\":\"databases[1]\",\"field\":\"id\",\"expected\":\"string\",\"actual\":"
            "\"absent\"}",
            "INVALID_CONFIG|Database 'databases[1]': engine must be one of postgres, clickhouse, "
            "iceberg, sqlite, got 'mysql'|{\"entity\":\"databases[1]\",\"field\":\"engine\","
            "\"expected\":\"postgres|clickhouse|iceberg|sqlite\",\"actual\":\"mysql\"}",
            "INVALID_CONFIG|tables[0] must be an object, got null|"
            "{\"entity\":\"tables[0]\",\"expected\":\"object\",\"actual\":\"null\"}",
            "INVALID_API_NAME|Table 'a': apiName must be a string, got number|"
            "{\"entity\":\"a\",\"field\":\"apiName\",\"expected\":\"string\",\"actual\":"
            "\"number\"}",
            "INVALID_REFERENCE|Table 'a': database must be a string, got array|"
            "{\"entity\":\"a\",\"field\":\"database\",\"expected\":\"string\",\"actual\":"
            "\"array\"}",
            "INVALID_CONFIG|Table 'a': physicalName 'x.' has an empty part (write schema.table or "
            "table)|{\"entity\":\"a\",\"field\":\"physicalName\",\"actual\":\"x.\"}",
            "INVALID_CONFIG|Table 'a': columns must be an array, got object|"
            "{\"entity\":\"a\",\"field\":\"columns\",\"expected\":\"array\",\"actual\":\"object\"}",
            "INVALID_RELATION|Relation in table 'a': relations[0] must be an object, got number|"
            "{\"entity\":\"a\",\"field\":\"relations\",\"expected\":\"object\",\"actual\":"
            "\"number\"}",
            NULL});
}

static void test_malformed_columns(void **state)
{
    (void)state;
    json_t *md = cq_test_json(BASE);
    json_array_append_new(json_object_get(tbl(md, 0), "columns"), json_string("x"));
    json_array_append_new(
        json_object_get(tbl(md, 0), "columns"),
        cq_test_json("{'apiName':'c','physicalName':'a.b','type':'text','nullable':'yes',"
                     "'maskingFn':'hash'}"));
    json_array_append_new(json_object_get(tbl(md, 0), "columns"),
                          cq_test_json("{'physicalName':''}"));
    json_array_append_new(json_object_get(tbl(md, 0), "columns"),
                          cq_test_json("{'apiName':'d','physicalName':'d','type':null}"));
    expect_config(md, (const char *const[]){
        "INVALID_CONFIG|Column 't.columns[2]' must be an object, got string|"
        "{\"entity\":\"t.columns[2]\",\"expected\":\"object\",\"actual\":\"string\"}",
        "INVALID_CONFIG|Column 't.c': type must be one of string, int, decimal, boolean, uuid, "
        "date, timestamp or an array of one (string[] ...), got 'text'|{\"entity\":\"t.c\","
        "\"field\":\"type\",\"expected\":\"string|int|decimal|boolean|uuid|date|timestamp (or "
        "T[])\",\"actual\":\"text\"}",
        "INVALID_CONFIG|Column 't.c': nullable must be true or false, got string|"
        "{\"entity\":\"t.c\",\"field\":\"nullable\",\"expected\":\"boolean\",\"actual\":"
        "\"string\"}",
        "INVALID_CONFIG|Column 't.c': maskingFn must be one of email, phone, name, uuid, "
        "number, date, full, got 'hash'|{\"entity\":\"t.c\",\"field\":\"maskingFn\","
        "\"expected\":\"email|phone|name|uuid|number|date|full\",\"actual\":\"hash\"}",
        "INVALID_API_NAME|Column 't.columns[4]': apiName must be a string, got absent|"
        "{\"entity\":\"t.columns[4]\",\"field\":\"apiName\",\"expected\":\"string\","
        "\"actual\":\"absent\"}",
        "INVALID_CONFIG|Column 't.columns[4]': physicalName must be a non-empty string, got ''|"
        "{\"entity\":\"t.columns[4]\",\"field\":\"physicalName\",\"expected\":\"string\","
        "\"actual\":\"\"}",
        "INVALID_CONFIG|Column 't.columns[4]': type must be one of string, int, decimal, "
        "boolean, uuid, date, timestamp or an array of one (string[] ...), got absent|"
        "{\"entity\":\"t.columns[4]\",\"field\":\"type\",\"expected\":\"string|int|decimal|"
        "boolean|uuid|date|timestamp (or T[])\",\"actual\":\"absent\"}",
        "INVALID_CONFIG|Column 't.d': type must be one of string, int, decimal, boolean, uuid, "
        "date, timestamp or an array of one (string[] ...), got null|{\"entity\":\"t.d\","
        "\"field\":\"type\",\"expected\":\"string|int|decimal|boolean|uuid|date|timestamp (or "
        "T[])\",\"actual\":\"null\"}",
        NULL});
}

/* Many random-ish shapes: every one is either valid or refused, nothing leaks or crashes. */
static void test_shapes_never_crash(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "null", "1", "'x'", "{}", "{'tables':[{}]}", "{'tables':[[]]}",
        "{'databases':[{'id':'d','engine':'postgres'}],'tables':[{'id':'t','apiName':'t',"
        "'database':'d','physicalName':'t','columns':[],'relations':[{'column':'x',"
        "'references':7}]}]}",
        "{'tables':[{'relations':[{'references':{'table':1}}]}]}",
        "{'caches':[{'id':'c','tables':[{'tableId':'t','keyPattern':'{{}}{'}]},{},7,"
        "{'tables':{}}]}",
        "{'externalSyncs':[{},null,{'sourceTable':1}]}",
        "{'trino':{'enabled':'yes'}}",
        "{'databases':[{'id':'','engine':'postgres','trinoCatalog':1,'connection':[]}]}",
        NULL};
    for (size_t i = 0; docs[i] != NULL; i++) {
        json_t *md = cq_test_json(docs[i]);
        json_t *body = cq_dsl_config_validate(md), *cerr = NULL,
               *roles = cq_test_json("[1,{'id':2}]");
        struct cq_err err = {0};
        struct cq_dsl_catalog *cat = cq_dsl_catalog_new(md, roles, NULL, &cerr, &err);
        json_decref(roles);
        if (i == 3) {
            assert_null(body); /* {} is an empty, valid config */
        }
        assert_null(cat);   /* the roles are always bad here */
        assert_non_null(cerr);
        json_decref(body);
        json_decref(cerr);
        json_decref(md);
    }
}

/* ---- roles (INVALID_ROLE, at load) ---------------------------------------------------------- */

static void test_role_problems(void **state)
{
    (void)state;
    json_t *roles =
        cq_test_json("[{'id':'a','tables':'all'},{'id':'b','tables':[{'tableId':'tt',"
                     "'allowedColumns':'*'},{'tableId':'t','allowedColumns':['id','zz'],"
                     "'maskedColumns':['qq'],'filters':[{'column':'nm','operator':'like',"
                     "'contextKey':'k'},{'column':'name','operator':'='},"
                     "{'column':'name','operator':'isNull'}]},{'tableId':'t'}]},"
                     "{'id':'a','tables':[]},{'tables':'*'},5]");
    expect_load(
        cq_test_json(BASE), roles,
        (const char *const[]){
            "INVALID_ROLE|Role 'a': tables must be \"*\" or a list of {tableId, allowedColumns}, "
            "got "
            "all|{\"entity\":\"a\",\"field\":\"tables\",\"expected\":\"\\\"*\\\" or array\","
            "\"actual\":\"all\"}",
            "INVALID_ROLE|Role 'b': tables[0] references unknown table 'tt' (did you mean 't'?)|"
            "{\"entity\":\"b\",\"field\":\"tableId\",\"actual\":\"tt\"}",
            "INVALID_ROLE|Role 'b' table 't': unknown column 'zz' in allowedColumns|"
            "{\"entity\":\"b\",\"field\":\"allowedColumns\",\"actual\":\"zz\"}",
            "INVALID_ROLE|Role 'b' table 't': unknown column 'qq' in maskedColumns|"
            "{\"entity\":\"b\",\"field\":\"maskedColumns\",\"actual\":\"qq\"}",
            "INVALID_ROLE|Role 'b' table 't': filter column 'nm' does not exist|"
            "{\"entity\":\"b\",\"field\":\"filters.column\",\"actual\":\"nm\"}",
            "INVALID_ROLE|Role 'b' table 't': filter operator 'like' is not one of =, !=, in, "
            "notIn, isNull, isNotNull|{\"entity\":\"b\",\"field\":\"filters.operator\","
            "\"expected\":\"=|!=|in|notIn|isNull|isNotNull\",\"actual\":\"like\"}",
            "INVALID_ROLE|Role 'b' table 't': filter on 'name' with operator '=' needs a "
            "contextKey|"
            "{\"entity\":\"b\",\"field\":\"filters.contextKey\",\"expected\":\"string\","
            "\"actual\":\"absent\"}",
            "INVALID_ROLE|Role 'b' table 't': allowedColumns is required (\"*\" or a list of "
            "column "
            "apiNames)|{\"entity\":\"b\",\"field\":\"allowedColumns\",\"expected\":\"\\\"*\\\" or "
            "array\",\"actual\":\"absent\"}",
            "INVALID_ROLE|Duplicate role id 'a' (roles[0] and roles[2])|"
            "{\"entity\":\"a\",\"field\":\"id\",\"actual\":\"a\"}",
            "INVALID_ROLE|roles[3]: id must be a non-empty string|"
            "{\"entity\":\"roles[3]\",\"field\":\"id\",\"expected\":\"string\",\"actual\":"
            "\"absent\"}",
            "INVALID_ROLE|roles[4] must be an object|"
            "{\"entity\":\"roles[4]\",\"expected\":\"object\",\"actual\":\"number\"}",
            NULL});
    expect_load(cq_test_json(BASE), cq_test_json("{'id':'a'}"),
                (const char *const[]){
                    "INVALID_ROLE|roles must be a list of roles ({id, tables}), got object|"
                    "{\"expected\":\"array\",\"actual\":\"object\"}",
                    NULL});
    /* §6 problems and role problems are reported together, §6 first */
    json_t *md = cq_test_json(BASE);
    json_object_set_new(tbl(md, 0), "database", json_string("x"));
    expect_load(md, cq_test_json("[{'id':'r','tables':[{'tableId':'t','allowedColumns':['q']}]}]"),
                (const char *const[]){
                    "INVALID_REFERENCE|Table 't' references non-existent database 'x'|"
                    "{\"entity\":\"t\",\"field\":\"database\",\"actual\":\"x\",\"database\":\"x\"}",
                    "INVALID_ROLE|Role 'r' table 't': unknown column 'q' in allowedColumns|"
                    "{\"entity\":\"r\",\"field\":\"allowedColumns\",\"actual\":\"q\"}",
                    NULL});
}

static void test_role_grants(void **state)
{
    (void)state;
    /* 70 columns: bitsets span two words */
    json_t *md = cq_test_json(BASE);
    for (int i = 0; i < 68; i++) {
        char name[16];
        snprintf(name, sizeof(name), "c%d", i);
        json_t *c = cq_test_json("{'physicalName':'p','type':'int[]','nullable':true}");
        json_object_set_new(c, "apiName", json_string(name));
        json_array_append_new(json_object_get(tbl(md, 0), "columns"), c);
    }
    json_t *roles =
        cq_test_json("[{'id':'r','tables':[{'tableId':'t','allowedColumns':['id','c67'],"
                     "'maskedColumns':['c67','c66'],'filters':[{'column':'name',"
                     "'operator':'isNotNull'},{'column':'c5','operator':'notIn',"
                     "'contextKey':'ks'}]},{'tableId':'t','allowedColumns':'*'}]},"
                     "{'id':'s','tables':[{'tableId':'t','allowedColumns':'*',"
                     "'maskedColumns':['name'],'filters':[]}]}]");
    struct cq_dsl_catalog *cat = load_ok(md, roles, NULL);
    const struct cq_dsl_table *t = cq_dsl_table_by_id(cat, "t");
    assert_int_equal(cat->bitset_words, 2);
    const struct cq_dsl_role *r = cq_dsl_role_by_id(cat, "r");
    const struct cq_dsl_grant *g = r->by_table[t->idx];
    assert_ptr_equal(g, &r->grants[0]); /* the first grant for a table wins */
    assert_true(bit(g->allowed, t, "c67"));
    assert_false(bit(g->allowed, t, "c66"));
    assert_true(bit(g->masked, t, "c67"));
    assert_false(bit(g->masked, t, "c66")); /* masked but not allowed: dropped */
    assert_int_equal(g->n_filters, 2);
    assert_int_equal(g->filters[0].op, CQ_DSL_RLS_IS_NOT_NULL);
    assert_null(g->filters[0].context_key);
    assert_int_equal(g->filters[1].op, CQ_DSL_RLS_NOT_IN);
    assert_string_equal(g->filters[1].context_key, "ks");
    g = cq_dsl_role_by_id(cat, "s")->by_table[t->idx];
    assert_true(g->all_columns);
    assert_true(bit(g->masked, t, "name"));
    assert_int_equal(g->n_filters, 0);
    cq_dsl_catalog_unref(cat);
}

/* ---- connections, engines, trino ------------------------------------------------------------ */

static void test_connections(void **state)
{
    (void)state;
    json_t *md = cq_test_json("{'databases':[{'id':'a','engine':'postgres','connection':'pg1'},"
                              "{'id':'b','engine':'sqlite'},{'id':'c','engine':'clickhouse'},"
                              "{'id':'d','engine':'iceberg','trinoCatalog':null}],'tables':[],"
                              "'trino':{'enabled':false}}");
    struct cq_dsl_catalog *cat =
        load_ok(md, NULL, cq_test_json("{'a':'ignored','b':'lite','c':7}"));
    assert_string_equal(cq_dsl_db_by_id(cat, "a")->connection, "pg1");
    assert_string_equal(cq_dsl_db_by_id(cat, "b")->connection, "lite");
    assert_int_equal(cq_dsl_db_by_id(cat, "b")->dialect, CQ_DIALECT_SQLITE);
    assert_int_equal(cq_dsl_db_by_id(cat, "b")->engine, CQ_DSL_ENGINE_SQLITE);
    assert_null(cq_dsl_db_by_id(cat, "c")->connection);
    assert_null(cq_dsl_db_by_id(cat, "d")->connection);
    assert_null(cq_dsl_db_by_id(cat, "d")->trino_catalog);
    assert_false(cat->trino_enabled);
    assert_int_equal(cat->n_tables, 0);
    assert_null(cq_dsl_table_by_api(cat, "x"));
    cq_dsl_catalog_unref(cat);
}

/* ---- reference count and registry ----------------------------------------------------------- */

static void test_refcount(void **state)
{
    (void)state;
    unsigned long before = cq_mem_count();
    struct cq_dsl_catalog *cat = load_ok(cq_test_json(BASE), NULL, NULL);
    assert_true(cq_mem_count() > before);
    assert_ptr_equal(cq_dsl_catalog_ref(cat), cat);
    assert_int_equal(atomic_load(&cat->refs), 2);
    cq_dsl_catalog_unref(cat);
    assert_int_equal(atomic_load(&cat->refs), 1);
    assert_non_null(cq_dsl_table_by_api(cat, "t")); /* still alive */
    cq_dsl_catalog_unref(cat);
    cq_dsl_catalog_unref(NULL);
    assert_null(cq_dsl_catalog_ref(NULL));
}

struct reader {
    struct cq_dsl_registry *reg;
    int seen_a, seen_b;
};

static void *read_loop(void *arg)
{
    struct reader *r = arg;
    for (int i = 0; i < 20000; i++) {
        struct cq_dsl_catalog *cat = cq_dsl_registry_get(r->reg);
        if (cat != NULL) {
            /* the snapshot stays whole while held, whatever the writer does */
            const struct cq_dsl_table *t = cq_dsl_table_by_id(cat, "t");
            if (t != NULL && strcmp(t->api, "t") == 0) {
                r->seen_a++;
            } else if (cq_dsl_table_by_api(cat, "other") != NULL) {
                r->seen_b++;
            }
            cq_dsl_catalog_unref(cat);
        }
    }
    return NULL;
}

static void test_registry(void **state)
{
    (void)state;
    struct cq_dsl_registry reg;
    cq_dsl_registry_init(&reg);
    assert_null(cq_dsl_registry_get(&reg));
    struct cq_dsl_catalog *a = load_ok(cq_test_json(BASE), NULL, NULL);
    cq_dsl_registry_swap(&reg, a);
    struct cq_dsl_catalog *held = cq_dsl_registry_get(&reg);
    assert_ptr_equal(held, a);
    assert_int_equal(atomic_load(&a->refs), 2);

    /* a failed reload builds nothing; the caller keeps the current catalog */
    json_t *bad = cq_test_json(BASE), *cerr = NULL;
    json_object_set_new(tbl(bad, 0), "database", json_string("zz"));
    assert_null(cq_dsl_catalog_new(bad, NULL, NULL, &cerr, NULL));
    json_decref(bad);
    json_decref(cerr);
    struct cq_dsl_catalog *cur = cq_dsl_registry_get(&reg);
    assert_ptr_equal(cur, a);
    cq_dsl_catalog_unref(cur);

    /* swap while a reader holds the old one: it stays valid until released */
    json_t *md = cq_test_json(BASE);
    json_object_set_new(tbl(md, 0), "apiName", json_string("other"));
    json_object_set_new(tbl(md, 0), "id", json_string("u"));
    cq_dsl_registry_swap(&reg, load_ok(md, NULL, NULL));
    assert_int_equal(atomic_load(&held->refs), 1);
    assert_non_null(cq_dsl_table_by_api(held, "t"));
    cq_dsl_catalog_unref(held);

    /* readers against a writer swapping back and forth */
    struct reader rd[2] = {{&reg, 0, 0}, {&reg, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, read_loop, &rd[i]), 0);
    }
    for (int i = 0; i < 200; i++) {
        json_t *m = cq_test_json(BASE);
        if (i % 2 == 0) {
            json_object_set_new(tbl(m, 0), "apiName", json_string("other"));
            json_object_set_new(tbl(m, 0), "id", json_string("u"));
        }
        cq_dsl_registry_swap(&reg, load_ok(m, NULL, NULL));
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(rd[i].seen_a + rd[i].seen_b, 20000);
    }
    cq_dsl_registry_cleanup(&reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_lookups),
        cmocka_unit_test(test_fixture_relations_syncs_caches),
        cmocka_unit_test(test_fixture_roles),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_valid_config),
        cmocka_unit_test(test_api_name_rules),
        cmocka_unit_test(test_duplicates_and_references),
        cmocka_unit_test(test_relations),
        cmocka_unit_test(test_relation_by_api_name),
        cmocka_unit_test(test_syncs_and_caches),
        cmocka_unit_test(test_order_of_errors),
        cmocka_unit_test(test_not_checked_by_validate),
        cmocka_unit_test(test_malformed_shapes),
        cmocka_unit_test(test_malformed_columns),
        cmocka_unit_test(test_shapes_never_crash),
        cmocka_unit_test(test_role_problems),
        cmocka_unit_test(test_role_grants),
        cmocka_unit_test(test_connections),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
