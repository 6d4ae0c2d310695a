/*
 * test_conf_catalog.c - the catalog: and roles: sections of clariq.yaml: YAML converted
 * to the spec's JSON with YAML typing (the exact JSON asserted), ${VAR} expansion, the
 * connection map and its defaults, the JSON file forms (relative paths, the body shape,
 * line:column of a syntax error, memory loads that read nothing), and one test per kind
 * of mistake asserting the exact diagnostics. The converted catalog is built by dsl/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "conf/conf.h"
#include "cqtest.h"
#include "dsl/catalog.h"

#define CONNS                                                                                      \
    "connections:\n"                                                                               \
    "  main: {url: postgres://h/db}\n"                                                             \
    "  lite: {path: a.db}\n"

/* ---- helpers ----------------------------------------------------------------------------- */

static char *path_in(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    snprintf(p, strlen(dir) + strlen(name) + 2, "%s/%s", dir, name);
    return p;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static char *fixture_text(void)
{
    const char *dir = getenv("CQ_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/golden/dsl/catalog.json", dir ? dir : "../..");
    return slurp(path);
}

/* ---- YAML form ------------------------------------------------------------------------------ */

static void test_inline_catalog(void **state)
{
    (void)state;
    struct cq_conf *conf =
        cq_test_conf_good(CONNS "catalog:\n"
                                "  databases:\n"
                                "    - {id: main, engine: postgres, trinoCatalog: pg}\n"
                                "    - {id: other, engine: sqlite, connection: lite}\n"
                                "    - {id: ch, engine: clickhouse}\n"
                                "  tables:\n"
                                "    - id: t\n"
                                "      apiName: t\n"
                                "      database: main\n"
                                "      physicalName: public.t\n"
                                "      columns:\n"
                                "        - {apiName: id, physicalName: id, type: int,"
                                " nullable: false}\n"
                                "        - apiName: n\n"
                                "          physicalName: \"n\"\n"
                                "          type: string\n"
                                "          nullable: true\n"
                                "          maskingFn: name\n"
                                "      primaryKey: [id]\n"
                                "      relations: []\n"
                                "  caches: []\n"
                                "  externalSyncs:\n"
                                "  trino: {enabled: true}\n"
                                "roles:\n"
                                "  - id: admin\n"
                                "    tables: '*'\n"
                                "  - id: reader\n"
                                "    tables:\n"
                                "      - tableId: t\n"
                                "        allowedColumns: [id]\n"
                                "        filters: [{column: id, operator: '=', "
                                "contextKey: uid}]\n");
    cq_test_expect_json(
        conf->catalog,
        "{\"databases\":[{\"id\":\"main\",\"engine\":\"postgres\",\"trinoCatalog\":"
        "\"pg\"},{\"id\":\"other\",\"engine\":\"sqlite\",\"connection\":\"lite\"},"
        "{\"id\":\"ch\",\"engine\":\"clickhouse\"}],\"tables\":[{\"id\":\"t\","
        "\"apiName\":\"t\",\"database\":\"main\",\"physicalName\":\"public.t\","
        "\"columns\":[{\"apiName\":\"id\",\"physicalName\":\"id\",\"type\":\"int\","
        "\"nullable\":false},{\"apiName\":\"n\",\"physicalName\":\"n\",\"type\":"
        "\"string\",\"nullable\":true,\"maskingFn\":\"name\"}],\"primaryKey\":[\"id\"],"
        "\"relations\":[]}],\"caches\":[],\"externalSyncs\":null,\"trino\":{\"enabled\":"
        "true}}");
    cq_test_expect_json(
        conf->roles,
        "[{\"id\":\"admin\",\"tables\":\"*\"},{\"id\":\"reader\",\"tables\":[{\"tableId\":"
        "\"t\",\"allowedColumns\":[\"id\"],\"filters\":[{\"column\":\"id\",\"operator\":"
        "\"=\",\"contextKey\":\"uid\"}]}]}]");
    /* main: a postgres connection named like the database; other names its own */
    cq_test_expect_json(conf->catalog_conns, "{\"main\":\"main\"}");
    assert_string_equal(conf->catalog_file, "clariq.yaml");

    /* what conf made is what dsl builds */
    json_t *cerr = NULL;
    struct cq_err err = {0};
    struct cq_dsl_catalog *cat =
        cq_dsl_catalog_new(conf->catalog, conf->roles, conf->catalog_conns, &cerr, &err);
    assert_non_null(cat);
    assert_string_equal(cq_dsl_db_by_id(cat, "main")->connection, "main");
    assert_string_equal(cq_dsl_db_by_id(cat, "other")->connection, "lite");
    assert_null(cq_dsl_db_by_id(cat, "ch")->connection);
    assert_true(cat->trino_enabled);
    assert_int_equal(cq_dsl_table_by_api(cat, "t")->columns[1].mask_fn, CQ_DSL_MASK_NAME);
    assert_int_equal(cq_dsl_role_by_id(cat, "reader")->grants[0].filters[0].op, CQ_DSL_RLS_EQ);
    cq_dsl_catalog_unref(cat);
    cq_conf_free(conf);
}

/* YAML 1.2 core typing on plain scalars; quoted and block scalars stay strings. */
static void test_yaml_typing(void **state)
{
    (void)state;
    setenv("CQ_T_BOOL", "true", 1);
    setenv("CQ_T_TEXT", "public.x", 1);
    struct cq_conf *conf =
        cq_test_conf_good("catalog:\n"
                          "  trino:\n"
                          "    v: [1, -2, +3, 1.5, .5, 1e3, -2.5E-1, 99999999999999999999,\n"
                          "        '7', \"8\", yes, True, FALSE, null, ~, 0x1F, .inf, 1.2.3]\n"
                          "    e:\n"
                          "      - ${CQ_T_BOOL}\n"
                          "      - '${CQ_T_BOOL}'\n"
                          "      - ${CQ_T_TEXT}\n"
                          "      - ${CQ_T_MISSING:-12}\n"
                          "      - $$x\n"
                          "      -\n"
                          "    b: |\n"
                          "      two\n"
                          "      lines\n"
                          "    n:\n"
                          "    m: {k: [], e: {}}\n");
    cq_test_expect_json(
        json_object_get(conf->catalog, "trino"),
        "{\"v\":[1,-2,3,1.5,0.5,1000.0,-0.25,1e20,\"7\",\"8\",\"yes\",true,false,null,"
        "null,\"0x1F\",\".inf\",\"1.2.3\"],\"e\":[true,\"true\",\"public.x\",12,\"$x\","
        "null],\"b\":\"two\\nlines\\n\",\"n\":null,\"m\":{\"k\":[],\"e\":{}}}");
    cq_conf_free(conf);
}

/* An alias converts once and is shared; a value that contains itself is refused. */
static void test_aliases(void **state)
{
    (void)state;
    struct cq_conf *conf = cq_test_conf_good("catalog:\n"
                                             "  databases:\n"
                                             "    - &db {id: a, engine: postgres}\n"
                                             "  trino: {x: *db, y: [*db, *db]}\n");
    cq_test_expect_json(
        json_object_get(conf->catalog, "trino"),
        "{\"x\":{\"id\":\"a\",\"engine\":\"postgres\"},\"y\":[{\"id\":\"a\",\"engine\":"
        "\"postgres\"},{\"id\":\"a\",\"engine\":\"postgres\"}]}");
    assert_ptr_equal(json_array_get(json_object_get(conf->catalog, "databases"), 0),
                     json_object_get(json_object_get(conf->catalog, "trino"), "x"));
    cq_conf_free(conf);
    /* a billion laughs costs nine conversions */
    conf = cq_test_conf_good("catalog:\n"
                             "  trino:\n"
                             "    a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                             "    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                             "    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                             "    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                             "    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                             "    f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                             "    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                             "    h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                             "    i: [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n");
    assert_int_equal(json_array_size(json_object_get(json_object_get(conf->catalog, "trino"),
                                                     "i")),
                     10);
    cq_conf_free(conf);
    cq_test_conf_bad(
        "catalog:\n  trino: &r {x: [*r]}\n",
        "clariq.yaml:2:10: error: catalog.trino.x[0]: an alias refers to a value that contains "
        "it (write the structure out instead of nesting an alias in itself)\n");
}

static void test_deep_nesting(void **state)
{
    (void)state;
    char text[1024] = "catalog:\n  trino: ";
    for (int i = 0; i < 70; i++) {
        strcat(text, "[");
    }
    for (int i = 0; i < 70; i++) {
        strcat(text, "]");
    }
    strcat(text, "\n");
    char *diags = NULL;
    assert_null(cq_test_conf_load(text, &diags));
    assert_non_null(strstr(diags, "nested more than 64 levels deep"));
    free(diags);
}

/* ---- connections ---------------------------------------------------------------------------- */

static void test_connection_map(void **state)
{
    (void)state;
    struct cq_conf *conf =
        cq_test_conf_good(CONNS "  pg-main: {url: postgres://h/x}\n"
                                "catalog:\n"
                                "  connections: {a: main, b: lite}\n"
                                "  databases:\n"
                                "    - {id: a, engine: postgres}\n"
                                "    - {id: b, engine: sqlite}\n"
                                "    - {id: pg-main, engine: postgres}\n"
                                "    - {id: lite, engine: postgres}\n"
                                "    - {id: main, engine: postgres, connection: main}\n");
    /* defaults only where the names and the driver match; `connection:` is not repeated */
    cq_test_expect_json(conf->catalog_conns,
                        "{\"a\":\"main\",\"b\":\"lite\",\"pg-main\":\"pg-main\"}");
    cq_conf_free(conf);
}

static void test_connection_problems(void **state)
{
    (void)state;
    cq_test_conf_bad(
        CONNS "catalog:\n"
              "  connections: {a: mian, zz: main, b: main}\n"
              "  databases:\n"
              "    - {id: a, engine: postgres}\n"
              "    - {id: b, engine: sqlite}\n"
              "    - {id: c, engine: postgres, connection: lte}\n"
              "    - {id: d, engine: clickhouse, connection: main}\n",
        "clariq.yaml:5:20: error: catalog.connections.a: database 'a': unknown connection 'mian' "
        "(did you mean 'main'?)\n"
        "clariq.yaml:5:26: error: catalog.connections: unknown database 'zz' (use the id of a "
        "database of the catalog)\n"
        "clariq.yaml:5:39: error: catalog.connections.b: database 'b' is sqlite but connection "
        "'main' is postgres (map the database to a connection of its engine)\n"
        "clariq.yaml:9:45: error: catalog.databases[2].connection: database 'c': unknown "
        "connection 'lte' (did you mean 'lite'?)\n"
        "clariq.yaml:10:47: error: catalog.databases[3].connection: database 'd' is clickhouse "
        "but connection 'main' is postgres (map the database to a connection of its engine)\n");
    cq_test_conf_bad(
        "catalog:\n  connections: [a]\n",
        "clariq.yaml:2:16: error: catalog.connections: expected a mapping of database ids to "
        "connection names, got a list (write databaseId: connectionName lines)\n");
}

/* ---- form problems -------------------------------------------------------------------------- */

static void test_form_problems(void **state)
{
    (void)state;
    cq_test_conf_bad(
        "catalog: [x]\n",
        "clariq.yaml:1:10: error: catalog: expected a mapping, got a list (write databases:, "
        "tables:, caches:, externalSyncs: under it, or file: catalog.json)\n");
    cq_test_conf_bad(
        "catalog:\n  externalSync: []\n  tabels: []\n",
        "clariq.yaml:2:3: error: catalog: unknown key 'externalSync' (did you mean "
        "'externalSyncs'?)\n"
        "clariq.yaml:3:3: error: catalog: unknown key 'tabels' (did you mean 'tables'?)\n");
    cq_test_conf_bad(
        "catalog:\n  file: c.json\n  tables: []\n",
        "clariq.yaml:3:3: error: catalog: both file: and inline metadata are set (keep one: "
        "file: names a JSON MetadataConfig, or write databases:, tables: ... here)\n");
    cq_test_conf_bad("catalog:\n  tables:\n    - {id: a, id: b}\n",
                     "clariq.yaml:3:15: error: catalog.tables[0]: duplicate key 'id' (keep one)\n");
    cq_test_conf_bad(
        "catalog:\n  tables: [{[a]: 1}]\n",
        "clariq.yaml:2:13: error: catalog.tables[0]: a key must be a name, not a list (write "
        "plain names as keys)\n");
    cq_test_conf_bad(
        "catalog:\n  tables:\n    - id: ${CQ_T_UNSET_VAR}\n",
        "clariq.yaml:3:11: error: catalog.tables[0].id: environment variable CQ_T_UNSET_VAR is "
        "not set (set CQ_T_UNSET_VAR or write ${CQ_T_UNSET_VAR:-default})\n");
    cq_test_conf_bad(
        "roles: admin\n",
        "clariq.yaml:1:8: error: roles: expected a list of roles or {file: ...}, got a single "
        "value (write a list of roles ('- id: admin' with 'tables: \"*\"' below it) or file: "
        "roles.json)\n");
    cq_test_conf_bad(
        "roles: {admin: x}\n",
        "clariq.yaml:1:8: error: roles: expected a list of roles or {file: ...}, got a mapping "
        "(write a list of roles ('- id: admin' with 'tables: \"*\"' below it) or file: "
        "roles.json)\n");
    /* empty sections: nothing */
    struct cq_conf *conf = cq_test_conf_good("catalog:\nroles:\n");
    assert_null(conf->catalog);
    assert_null(conf->roles);
    assert_null(conf->catalog_conns);
    cq_conf_free(conf);
}

/* ---- file form ------------------------------------------------------------------------------ */

/* A load from memory records the file but reads nothing. */
static void test_file_form_in_memory(void **state)
{
    (void)state;
    struct cq_conf *conf = cq_test_conf_good(CONNS "catalog:\n  file: /nonexistent/c.json\n"
                                                   "  connections: {x: main}\n"
                                                   "roles: {file: r.json}\n");
    assert_null(conf->catalog);
    assert_null(conf->roles);
    assert_string_equal(conf->catalog_file, "/nonexistent/c.json");
    cq_test_expect_json(conf->catalog_conns, "{\"x\":\"main\"}");
    cq_conf_free(conf);
}

static void test_file_form(void **state)
{
    (void)state;
    char *dir = cq_test_tmpdir("conf_catalog");
    char *sub = path_in(dir, "meta");
    char *yaml = path_in(dir, "clariq.yaml");
    char *fixture = fixture_text();
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", sub);
    assert_int_equal(system(cmd), 0);
    char *cat_path = path_in(sub, "catalog.json");
    char *roles_path = path_in(sub, "roles.json");
    assert_true(cq_test_write_file(cat_path, fixture));
    assert_true(cq_test_write_file(roles_path, "[{\"id\":\"only\",\"tables\":\"*\"}]"));
    assert_true(cq_test_write_file(yaml, "connections:\n"
                                         "  pg-main: {url: postgres://h/db}\n"
                                         "catalog: {file: meta/catalog.json}\n"));
    struct cq_conf_diags d = {0};
    struct cq_err err = {0};
    struct cq_conf *conf = cq_conf_load_file(yaml, &d, &err);
    if (conf == NULL) {
        fail_msg("load: %s", err.msg);
    }
    /* the body shape: metadata, and its roles when there is no roles: section */
    assert_int_equal(json_array_size(json_object_get(conf->catalog, "tables")), 8);
    assert_int_equal(json_array_size(conf->roles), 7);
    assert_string_equal(conf->catalog_file, cat_path);
    assert_string_equal(conf->files[conf->n_files - 1], cat_path);
    cq_test_expect_json(conf->catalog_conns, "{\"pg-main\":\"pg-main\"}");
    cq_conf_free(conf);

    /* roles: wins over the roles in the catalog file */
    assert_true(cq_test_write_file(yaml, "catalog: {file: meta/catalog.json}\n"
                                         "roles: {file: meta/roles.json}\n"));
    conf = cq_conf_load_file(yaml, &d, &err);
    assert_non_null(conf);
    cq_test_expect_json(conf->roles, "[{\"id\":\"only\",\"tables\":\"*\"}]");
    cq_conf_free(conf);
    cq_conf_diags_cleanup(&d);
    free(fixture);
    free(cat_path);
    free(roles_path);
    free(yaml);
    free(sub);
    free(dir);
}

/* Loads path, expecting failure; returns the formatted diagnostics (malloc). */
static char *file_problems(const char *path)
{
    struct cq_conf_diags d = {0};
    struct cq_err err = {0};
    struct cq_buf b;
    assert_null(cq_conf_load_file(path, &d, &err));
    cq_buf_init(&b, 1 << 16);
    cq_conf_diags_format(&d, &b);
    char *s = strdup(cq_buf_str(&b));
    cq_buf_cleanup(&b);
    cq_conf_diags_cleanup(&d);
    return s;
}

static void test_file_problems(void **state)
{
    (void)state;
    char *dir = cq_test_tmpdir("conf_catalog_bad");
    char *yaml = path_in(dir, "clariq.yaml");
    char *json = path_in(dir, "c.json");
    char want[8192];

    assert_true(cq_test_write_file(yaml, "catalog:\n  file: missing.json\n"));
    char *got = file_problems(yaml);
    snprintf(want, sizeof(want),
             "%s:2:9: error: catalog.file: cannot read '%s/missing.json': not found (the path is "
             "relative to the directory of the config file)\n",
             yaml, dir);
    assert_string_equal(got, want);
    free(got);

    assert_true(cq_test_write_file(json, "{\n  \"databases\": [],\n  \"tables\": [,]\n}\n"));
    assert_true(cq_test_write_file(yaml, "catalog:\n  file: c.json\n"));
    got = file_problems(yaml);
    snprintf(want, sizeof(want), "%s:3:14: error: catalog.file: invalid JSON: ", json);
    if (strncmp(got, want, strlen(want)) != 0) {
        fail_msg("got %s\nwant prefix %s", got, want);
    }
    free(got);

    assert_true(cq_test_write_file(json, "{\"a\": 1, \"a\": 2}"));
    got = file_problems(yaml);
    assert_non_null(strstr(got, "invalid JSON: duplicate object key"));
    free(got);

    assert_true(cq_test_write_file(json, "[1]"));
    got = file_problems(yaml);
    snprintf(want, sizeof(want),
             "%s:2:9: error: catalog.file: '%s' must hold a JSON object, got an array (the file "
             "holds a MetadataConfig object {\"databases\": [...], \"tables\": [...], ...})\n",
             yaml, json);
    assert_string_equal(got, want);
    free(got);

    assert_true(cq_test_write_file(json, "{\"roles\": 5}"));
    assert_true(cq_test_write_file(yaml, "roles: {file: c.json}\n"));
    got = file_problems(yaml);
    snprintf(want, sizeof(want),
             "%s:1:15: error: roles.file: '%s' must hold a JSON array, got an object (the file "
             "holds a JSON array of roles [{\"id\": ..., \"tables\": ...}])\n",
             yaml, json);
    assert_string_equal(got, want);
    free(got);
    free(json);
    free(yaml);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inline_catalog),
        cmocka_unit_test(test_yaml_typing),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_connection_map),
        cmocka_unit_test(test_connection_problems),
        cmocka_unit_test(test_form_problems),
        cmocka_unit_test(test_file_form_in_memory),
        cmocka_unit_test(test_file_form),
        cmocka_unit_test(test_file_problems),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
