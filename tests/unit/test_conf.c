/*
 * test_conf.c - the configuration loader: a full good file, defaults and inheritance,
 * ${VAR} expansion, and one test per kind of bad file asserting the exact diagnostic
 * (line, column, path, message, hint). Also cq_conf_locate and cq_conf_limits_lower.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"
#include "conf/conf.h"
#include "cqtest.h"
#include "drv/drv.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static int64_t dur(const char *s)
{
    int64_t ms = -1;
    assert_int_equal(cq_parse_duration_ms(s, &ms, NULL), CQ_OK);
    return ms;
}

static int64_t size(const char *s)
{
    int64_t b = -1;
    assert_int_equal(cq_parse_size(s, &b, NULL), CQ_OK);
    return b;
}

static struct cq_conf *good(const char *name, const char *text)
{
    struct cq_conf_diags d = {NULL, 0, 0};
    struct cq_err err = {0};
    struct cq_buf b;
    struct cq_conf *conf = cq_conf_load_mem(name, text, strlen(text), &d, &err);
    if (conf == NULL) {
        cq_buf_init(&b, 1 << 16);
        cq_conf_diags_format(&d, &b);
        print_error("unexpected problems: %s\n%s", err.msg, cq_buf_str(&b));
        cq_buf_cleanup(&b);
    }
    cq_conf_diags_cleanup(&d);
    assert_non_null(conf);
    assert_int_equal(err.rc, CQ_OK);
    return conf;
}

/* Loads text that must be rejected; returns the formatted diagnostics (cq_free them). */
static char *bad(const char *text, struct cq_err *err)
{
    struct cq_conf_diags d = {NULL, 0, 0};
    struct cq_buf b;
    struct cq_conf *conf = cq_conf_load_mem("clariq.yaml", text, strlen(text), &d, err);
    assert_null(conf);
    assert_int_equal(err->rc, CQ_EINVAL);
    assert_true(d.n > 0);
    cq_buf_init(&b, 1 << 16);
    cq_conf_diags_format(&d, &b);
    cq_conf_diags_cleanup(&d);
    assert_int_equal(cq_buf_rc(&b), CQ_OK);
    return cq_buf_take(&b);
}

static void expect_diags(const char *text, const char *expected)
{
    struct cq_err err = {0};
    char *got = bad(text, &err);
    assert_string_equal(got, expected);
    cq_free(got);
}

static int set_env(void **state)
{
    (void)state;
    setenv("CQT_DB_URL", "postgres://app:s3cret@db.example:5432/app", 1);
    setenv("CQT_EMPTY", "", 1);
    setenv("CQT_TIMEOUT", "7s", 1);
    setenv("CQT_BAD_TIMEOUT", "5 parsecs", 1);
    unsetenv("CQT_UNSET");
    return 0;
}

/* ---- good files -------------------------------------------------------------------------- */

static const char full_yaml[] =
    "# every key\n"
    "limits:\n"
    "  timeout: ${CQT_TIMEOUT}\n"
    "  max_rows: 500\n"
    "  max_concurrent: 3\n"
    "connections:\n"
    "  main:\n"
    "    driver: postgres\n"
    "    url: ${CQT_DB_URL}\n"
    "    read_only: no\n"
    "    pool: {min: 1, max: 8, idle_timeout: 2m}\n"
    "    limits: {timeout: 5s, max_bytes: 10MB, max_concurrent: 2, queue_timeout: 250ms}\n"
    "  inferred:\n"
    "    url: postgresql://app@db.internal/app?sslmode=require\n"
    "    limits:\n"
    "      max_rows: 0\n"
    "  local:\n"
    "    path: ./data/app.db\n"
    "  mem:\n"
    "    driver: sqlite\n"
    "    path: \":memory:\"\n"
    "  fallback:\n"
    "    driver: postgres\n"
    "    url: ${CQT_UNSET:-host=/tmp dbname=x}\n"
    "  libpq_env:\n"
    "    driver: postgres\n"
    "    url: \"\"\n"
    "  dollars:\n"
    "    path: /srv/a$$b$c-${CQT_EMPTY:-d}${CQT_EMPTY}.db\n"
    "    read_only: On\n"
    "alerts:\n"
    "  - {id: a1, connection: local, sql: SELECT 1, schedule: '@hourly'}\n"
    "server: {listen: ':8080'}\n";

static void test_full_file_round_trip(void **state)
{
    (void)state;
    char *dir = cq_test_tmpdir("conf-full");
    char path[1024], want[1200];
    struct cq_err err = {0};
    snprintf(path, sizeof(path), "%s/clariq.yaml", dir);
    assert_true(cq_test_write_file(path, full_yaml));
    struct cq_conf *conf = cq_conf_load_file(path, NULL, &err);
    assert_non_null(conf);
    assert_string_equal(conf->path, path);
    assert_int_equal(conf->n_conns, 7);

    /* top level: its own keys over the built-in defaults */
    assert_int_equal(conf->limits.timeout_ms, dur("7s"));
    assert_int_equal(conf->limits.max_rows, 500);
    assert_int_equal(conf->limits.max_bytes, size(CQ_CONF_DEFAULT_MAX_BYTES));
    assert_int_equal(conf->limits.max_concurrent, 3);
    assert_int_equal(conf->limits.queue_timeout_ms, dur(CQ_CONF_DEFAULT_QUEUE_TIMEOUT));

    const struct cq_conn_conf *m = cq_conf_conn(conf, "main");
    assert_non_null(m);
    assert_ptr_equal(m, &conf->conns[0]);
    assert_string_equal(m->driver, "postgres");
    assert_string_equal(m->url, "postgres://app:s3cret@db.example:5432/app");
    assert_null(m->path);
    assert_false(m->read_only);
    assert_int_equal(m->pool.min, 1);
    assert_int_equal(m->pool.max, 8);
    assert_int_equal(m->pool.idle_timeout_ms, dur("2m"));
    /* per key: own timeout/max_bytes/max_concurrent/queue_timeout, inherited max_rows */
    assert_int_equal(m->limits.timeout_ms, dur("5s"));
    assert_int_equal(m->limits.max_rows, 500);
    assert_int_equal(m->limits.max_bytes, size("10MB"));
    assert_int_equal(m->limits.max_concurrent, 2);
    assert_int_equal(m->limits.queue_timeout_ms, dur("250ms"));
    assert_string_equal(m->file, path);
    assert_int_equal(m->line, 7);

    const struct cq_conn_conf *inf = cq_conf_conn(conf, "inferred");
    assert_non_null(inf);
    assert_string_equal(inf->driver, "postgres");
    assert_true(inf->read_only);
    assert_int_equal(inf->pool.min, CQ_CONF_DEFAULT_POOL_MIN);
    assert_int_equal(inf->pool.max, CQ_CONF_DEFAULT_POOL_MAX);
    assert_int_equal(inf->pool.idle_timeout_ms, dur(CQ_CONF_DEFAULT_IDLE_TIMEOUT));
    assert_int_equal(inf->limits.max_rows, 0);
    assert_int_equal(inf->limits.timeout_ms, conf->limits.timeout_ms);
    assert_int_equal(inf->limits.max_concurrent, 3);
    assert_int_equal(inf->line, 13);

    const struct cq_conn_conf *loc = cq_conf_conn(conf, "local");
    assert_non_null(loc);
    assert_string_equal(loc->driver, "sqlite");
    assert_null(loc->url);
    snprintf(want, sizeof(want), "%s/data/app.db", dir);
    assert_string_equal(loc->path, want);
    assert_string_equal(cq_conf_conn(conf, "mem")->path, ":memory:");
    assert_string_equal(cq_conf_conn(conf, "fallback")->url, "host=/tmp dbname=x");
    assert_string_equal(cq_conf_conn(conf, "libpq_env")->url, "");
    assert_string_equal(cq_conf_conn(conf, "dollars")->path, "/srv/a$b$c-d.db");
    assert_true(cq_conf_conn(conf, "dollars")->read_only);
    assert_null(cq_conf_conn(conf, "nope"));
    assert_null(cq_conf_conn(conf, "MAIN"));
    /* the other sections load too (test_conf_alerts.c has the details) */
    assert_int_equal(conf->n_alerts, 1);
    assert_int_equal(conf->n_files, 1);
    assert_string_equal(conf->files[0], path);

    cq_conf_free(conf);
    free(dir);
}

static void test_defaults_come_from_the_macros(void **state)
{
    (void)state;
    struct cq_conf *conf = good("clariq.yaml", "connections:\n  x:\n    path: x.db\n");
    const struct cq_conn_conf *x = &conf->conns[0];
    assert_int_equal(conf->limits.timeout_ms, dur(CQ_CONF_DEFAULT_TIMEOUT));
    assert_int_equal(conf->limits.max_rows, strtoll(CQ_CONF_DEFAULT_MAX_ROWS, NULL, 10));
    assert_int_equal(conf->limits.max_bytes, size(CQ_CONF_DEFAULT_MAX_BYTES));
    assert_int_equal(conf->limits.max_concurrent, 0);
    assert_int_equal(conf->limits.queue_timeout_ms, dur(CQ_CONF_DEFAULT_QUEUE_TIMEOUT));
    assert_memory_equal(&x->limits, &conf->limits, sizeof(x->limits));
    assert_true(x->read_only);
    assert_string_equal(x->driver, "sqlite");
    assert_string_equal(x->path, "x.db"); /* no directory in the name: kept as written */
    assert_int_equal(x->pool.min, CQ_CONF_DEFAULT_POOL_MIN);
    assert_int_equal(x->pool.max, CQ_CONF_DEFAULT_POOL_MAX);
    assert_int_equal(x->pool.idle_timeout_ms, dur(CQ_CONF_DEFAULT_IDLE_TIMEOUT));
    cq_conf_free(conf);
}

static void test_empty_files_have_no_connections(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "", "# nothing yet\n", "---\n", "connections:\n", "connections: {}\n", "limits:\n", "~\n",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct cq_conf *conf = good("clariq.yaml", texts[i]);
        assert_int_equal(conf->n_conns, 0);
        assert_null(cq_conf_conn(conf, "x"));
        assert_int_equal(conf->limits.timeout_ms, dur(CQ_CONF_DEFAULT_TIMEOUT));
        cq_conf_free(conf);
    }
}

static void test_top_level_limits_apply_wherever_written(void **state)
{
    (void)state;
    /* limits: after connections: still reaches them */
    struct cq_conf *conf =
        good("clariq.yaml", "connections:\n  a: {path: a.db, limits: {max_rows: 7}}\n"
                            "limits: {timeout: 1h, max_rows: 9}\n");
    assert_int_equal(conf->conns[0].limits.timeout_ms, dur("1h"));
    assert_int_equal(conf->conns[0].limits.max_rows, 7);
    assert_int_equal(conf->limits.max_rows, 9);
    cq_conf_free(conf);
}

static void test_aliases_and_relative_paths(void **state)
{
    (void)state;
    struct cq_conf *conf =
        good("etc/clariq/clariq.yaml", "connections:\n"
                                       "  a:\n    path: ./a.db\n    pool: &pool {min: 2, max: 3}\n"
                                       "  b:\n    path: sub/b.db\n    pool: *pool\n"
                                       "  c:\n    path: /abs/c.db\n"
                                       "  d:\n    url: sqlite:d.db\n");
    assert_string_equal(conf->conns[0].path, "etc/clariq/a.db");
    assert_string_equal(conf->conns[1].path, "etc/clariq/sub/b.db");
    assert_int_equal(conf->conns[1].pool.min, 2);
    assert_int_equal(conf->conns[1].pool.max, 3);
    assert_string_equal(conf->conns[2].path, "/abs/c.db");
    assert_string_equal(conf->conns[3].driver, "sqlite");
    assert_string_equal(conf->conns[3].url, "sqlite:d.db");
    cq_conf_free(conf);
}

static void test_demo(void **state)
{
    (void)state;
    struct cq_err err = {0};
    struct cq_conf *conf = cq_conf_demo("/tmp/clariq-demo.db", &err);
    assert_non_null(conf);
    assert_null(conf->path);
    assert_int_equal(conf->n_conns, 1);
    const struct cq_conn_conf *d = cq_conf_conn(conf, "demo");
    assert_non_null(d);
    assert_string_equal(d->driver, "sqlite");
    assert_string_equal(d->path, "/tmp/clariq-demo.db");
    assert_null(d->url);
    assert_true(d->read_only);
    assert_int_equal(d->pool.max, CQ_CONF_DEFAULT_POOL_MAX);
    assert_int_equal(d->limits.max_rows, strtoll(CQ_CONF_DEFAULT_MAX_ROWS, NULL, 10));
    cq_conf_free(conf);
    cq_conf_free(NULL);
}

/* conf cannot include drv/ (module order), so it keeps its own list of driver names;
 * it must match the registry exactly: every registered name and scheme is accepted and
 * nothing else is offered. */
static void test_driver_names_match_the_registry(void **state)
{
    (void)state;
    struct cq_buf text, names;
    struct cq_err err = {0};
    size_t n = 0;
    cq_buf_init(&text, 1 << 16);
    cq_buf_init(&names, 1024);
    cq_buf_puts(&text, "connections:\n");
    for (const struct cq_driver *const *d = cq_drv_list(); *d != NULL; d++) {
        cq_buf_printf(&names, "%s%s", n++ ? ", " : "", (*d)->name);
        cq_buf_printf(&text, "  n_%s: {driver: %s, url: '%s://h/db'}\n", (*d)->name, (*d)->name,
                      (*d)->schemes[0]);
        for (const char *const *sc = (*d)->schemes; *sc != NULL; sc++) {
            cq_buf_printf(&text, "  s_%s: {url: '%s://h/db'}\n", *sc, *sc);
        }
    }
    assert_true(n > 0);
    struct cq_conf *conf = good("clariq.yaml", cq_buf_str(&text));
    for (size_t i = 0; i < conf->n_conns; i++) {
        const struct cq_driver *by_name = cq_drv_find(conf->conns[i].driver);
        assert_non_null(by_name);
        assert_string_equal(by_name->name, conf->conns[i].driver);
        assert_ptr_equal(cq_drv_find(conf->conns[i].name + 2), by_name);
    }
    cq_conf_free(conf);

    char *got = bad("connections:\n  a: {driver: nosuchdriver, url: x}\n", &err);
    cq_buf_reset(&text);
    cq_buf_printf(&text, "(available drivers: %s)\n", cq_buf_str(&names));
    assert_non_null(strstr(got, cq_buf_str(&text)));
    cq_free(got);
    cq_buf_cleanup(&text);
    cq_buf_cleanup(&names);
}

/* ---- bad files: one diagnostic each ------------------------------------------------------ */

static void test_unknown_key_did_you_mean(void **state)
{
    (void)state;
    expect_diags("connections:\n  main:\n    urll: postgres://h/db\n",
                 "clariq.yaml:2:3: error: connections.main: missing url or path "
                 "(add url: (postgres://...) or path: (a sqlite file))\n"
                 "clariq.yaml:3:5: error: connections.main: unknown key 'urll' "
                 "(did you mean 'url'?)\n");
}

static void test_unknown_key_lists_valid_keys(void **state)
{
    (void)state;
    expect_diags("connections:\n  main:\n    path: a.db\n    pool:\n      flavour: 3\n",
                 "clariq.yaml:5:7: error: connections.main.pool: unknown key 'flavour' "
                 "(valid keys: min, max, idle_timeout, pipeline)\n");
}

static void test_unknown_top_level_key(void **state)
{
    (void)state;
    expect_diags("conections:\n  main: {path: a.db}\n",
                 "clariq.yaml:1:1: error: unknown top-level key 'conections' "
                 "(did you mean 'connections'?)\n");
}

static void test_bad_duration(void **state)
{
    (void)state;
    expect_diags("connections:\n  main:\n    path: a.db\n    limits:\n      timeout: 5 parsecs\n",
                 "clariq.yaml:5:16: error: connections.main.limits.timeout: invalid duration "
                 "'5 parsecs' (use a number with a unit: 250ms, 5s, 2m, 1h)\n");
}

static void test_bad_duration_from_env_quotes_the_reference(void **state)
{
    (void)state;
    expect_diags("limits:\n  queue_timeout: ${CQT_BAD_TIMEOUT}\n",
                 "clariq.yaml:2:18: error: limits.queue_timeout: invalid duration "
                 "'${CQT_BAD_TIMEOUT}' (expands to '5 parsecs') "
                 "(use a number with a unit: 250ms, 5s, 2m, 1h)\n");
}

static void test_bad_size(void **state)
{
    (void)state;
    expect_diags("limits:\n  max_bytes: 10 megs\n",
                 "clariq.yaml:2:14: error: limits.max_bytes: invalid size '10 megs' "
                 "(use a number with a unit: 512B, 64KB, 10MB, 1GB)\n");
}

static void test_negative_number(void **state)
{
    (void)state;
    expect_diags("limits:\n  max_rows: -5\n  timeout: -1s\n",
                 "clariq.yaml:2:13: error: limits.max_rows: negative value '-5' "
                 "(use a whole number >= 0 (0 = unlimited))\n"
                 "clariq.yaml:3:12: error: limits.timeout: negative value '-1s' "
                 "(use a number with a unit: 250ms, 5s, 2m, 1h)\n");
}

static void test_non_integer_max_rows(void **state)
{
    (void)state;
    expect_diags("limits:\n  max_rows: 1.5\n",
                 "clariq.yaml:2:13: error: limits.max_rows: expected a whole number, got '1.5' "
                 "(use a whole number >= 0 (0 = unlimited))\n");
}

static void test_bad_boolean(void **state)
{
    (void)state;
    expect_diags("connections:\n  main:\n    path: a.db\n    read_only: yes please\n",
                 "clariq.yaml:4:16: error: connections.main.read_only: invalid boolean "
                 "'yes please' (use true or false (yes/no and on/off also work))\n");
}

static void test_unknown_driver(void **state)
{
    (void)state;
    expect_diags("connections:\n  main:\n    driver: postgress\n    url: postgres://h/db\n",
                 "clariq.yaml:3:13: error: connections.main.driver: unknown driver 'postgress' "
                 "(did you mean 'postgres'?)\n");
    expect_diags("connections:\n  main:\n    driver: oracle\n    url: x\n",
                 "clariq.yaml:3:13: error: connections.main.driver: unknown driver 'oracle' "
                 "(available drivers: postgres, sqlite)\n");
}

static void test_both_url_and_path(void **state)
{
    (void)state;
    expect_diags("connections:\n  main:\n    url: sqlite:a.db\n    path: a.db\n",
                 "clariq.yaml:4:5: error: connections.main: both url and path are set "
                 "(keep one: url for a server (or sqlite:FILE), path for a sqlite file)\n");
}

static void test_neither_url_nor_path(void **state)
{
    (void)state;
    expect_diags("connections:\n  main:\n    driver: postgres\n    read_only: true\n",
                 "clariq.yaml:2:3: error: connections.main: missing url or path "
                 "(add url: postgres://user@host/db (or a key=value DSN))\n");
    expect_diags("connections:\n  main:\n",
                 "clariq.yaml:2:3: error: connections.main: missing url or path "
                 "(add url: (postgres://...) or path: (a sqlite file))\n");
}

static void test_postgres_with_path(void **state)
{
    (void)state;
    expect_diags("connections:\n  main:\n    driver: postgres\n    path: a.db\n",
                 "clariq.yaml:4:5: error: connections.main: path is only for sqlite; driver "
                 "'postgres' needs url (write url: instead (a URL or key=value DSN))\n");
}

static void test_driver_not_inferable(void **state)
{
    (void)state;
    expect_diags("connections:\n  main:\n    url: host=/tmp dbname=x\n",
                 "clariq.yaml:3:10: error: connections.main.url: cannot tell the driver from "
                 "this url (add driver: postgres or driver: sqlite; urls starting with "
                 "postgres://, postgresql:// or sqlite: are recognized)\n");
}

static void test_unset_env_var(void **state)
{
    (void)state;
    expect_diags("connections:\n  main:\n    driver: postgres\n"
                 "    url: \"postgres://${CQT_UNSET}@h/db\"\n",
                 "clariq.yaml:4:22: error: connections.main.url: environment variable "
                 "CQT_UNSET is not set (set CQT_UNSET or write ${CQT_UNSET:-default})\n");
}

static void test_bad_env_reference(void **state)
{
    (void)state;
    expect_diags("limits:\n  timeout: 5s${CQT_TIMEOUT\n",
                 "clariq.yaml:2:14: error: limits.timeout: invalid ${...} reference "
                 "(write ${NAME} or ${NAME:-default}; $$ is a literal $)\n");
}

static void test_yaml_syntax_error(void **state)
{
    (void)state;
    expect_diags("connections:\n  main:\n    path: a.db\n   url: x\n",
                 "clariq.yaml:4:4: error: invalid YAML: did not find expected key (while "
                 "parsing a block mapping at line 2, column 3; check indentation, and quote "
                 "values that contain ': ' or ' #' or start with a special character)\n");
    expect_diags("connections:\n  main: {path: \"a.db}\n",
                 "clariq.yaml:3:1: error: invalid YAML: found unexpected end of stream "
                 "(while scanning a quoted scalar at line 2, column 16; check indentation, and "
                 "quote values that contain ': ' or ' #' or start with a special character)\n");
}

static void test_bad_encoding(void **state)
{
    (void)state;
    expect_diags("limits:\n  timeout: \x01\n",
                 "clariq.yaml:2:12: error: cannot read the file: control characters are not "
                 "allowed (save the file as UTF-8 text)\n");
}

static void test_duplicate_connection_and_key(void **state)
{
    (void)state;
    expect_diags("connections:\n  main: {path: a.db}\n  other: {path: b.db}\n"
                 "  main: {path: c.db}\n",
                 "clariq.yaml:4:3: error: connections: duplicate connection 'main' "
                 "(first defined at line 2; connection names must be unique)\n");
    expect_diags("limits:\n  timeout: 1s\n  timeout: 2s\n",
                 "clariq.yaml:3:3: error: limits: duplicate key 'timeout' "
                 "(first set at line 2, column 3; keep one)\n");
}

static void test_pool_min_above_max(void **state)
{
    (void)state;
    expect_diags("connections:\n  main:\n    path: a.db\n    pool: {min: 5, max: 2}\n",
                 "clariq.yaml:4:17: error: connections.main.pool: min (5) is greater than max "
                 "(2) (lower pool.min or raise pool.max)\n");
    expect_diags("connections:\n  main:\n    path: a.db\n    pool: {max: 0}\n",
                 "clariq.yaml:4:17: error: connections.main.pool.max: value '0' is out of range "
                 "(use a whole number from 1 to 1000)\n");
}

static void test_wrong_node_types(void **state)
{
    (void)state;
    expect_diags("connections:\n  - main: {path: a.db}\n",
                 "clariq.yaml:2:3: error: connections: expected a mapping of connection names, "
                 "got a list (write each connection as 'name:' with its keys indented below, "
                 "not as a list item)\n");
    expect_diags("connections:\n  main:\n    path: {file: a.db}\n    limits: 5s\n",
                 "clariq.yaml:3:11: error: connections.main.path: expected a string, got a "
                 "mapping (write a single value after the colon)\n"
                 "clariq.yaml:4:13: error: connections.main.limits: expected a mapping, got a "
                 "single value (write key: value lines indented under it)\n");
    expect_diags("- just\n- a list\n",
                 "clariq.yaml:1:1: error: the top level must be a mapping of sections, got a "
                 "list (start with 'connections:' (see `clariq init`))\n");
    expect_diags("limits:\n  timeout:\n",
                 "clariq.yaml:2:11: error: limits.timeout: missing value (expected a duration) "
                 "(write a value after the colon or remove the key)\n");
}

static void test_invalid_connection_name(void **state)
{
    (void)state;
    expect_diags("connections:\n  \"my db\": {path: a.db}\n",
                 "clariq.yaml:2:3: error: connections: invalid connection name 'my db' "
                 "(use letters, digits, '_', '-' or '.', at most 63 characters)\n");
}

static void test_second_document(void **state)
{
    (void)state;
    expect_diags("limits: {}\n---\nconnections: {}\n",
                 "clariq.yaml:2:1: error: a second YAML document starts here "
                 "(keep one document per file; remove the '---' line)\n");
}

static void test_several_errors_reported_together(void **state)
{
    (void)state;
    struct cq_err err = {0};
    char *got = bad("limits:\n"
                    "  timeout: soon\n"
                    "connections:\n"
                    "  a:\n"
                    "    urll: x\n"
                    "    path: a.db\n"
                    "  b:\n"
                    "    driver: postgress\n"
                    "    url: postgres://h/db\n"
                    "    pool: {min: 9, max: 3}\n"
                    "  a: {path: dup.db}\n",
                    &err);
    assert_string_equal(got,
                        "clariq.yaml:2:12: error: limits.timeout: invalid duration 'soon' "
                        "(use a number with a unit: 250ms, 5s, 2m, 1h)\n"
                        "clariq.yaml:5:5: error: connections.a: unknown key 'urll' "
                        "(did you mean 'url'?)\n"
                        "clariq.yaml:8:13: error: connections.b.driver: unknown driver "
                        "'postgress' (did you mean 'postgres'?)\n"
                        "clariq.yaml:10:17: error: connections.b.pool: min (9) is greater than "
                        "max (3) (lower pool.min or raise pool.max)\n"
                        "clariq.yaml:11:3: error: connections: duplicate connection 'a' "
                        "(first defined at line 4; connection names must be unique)\n");
    assert_string_equal(err.msg, "clariq.yaml:2:12: limits.timeout: invalid duration 'soon' "
                                 "(and 4 more problems)");
    cq_free(got);
}

static void test_problems_are_capped(void **state)
{
    (void)state;
    struct cq_buf text;
    struct cq_err err = {0};
    cq_buf_init(&text, 1 << 16);
    cq_buf_puts(&text, "limits:\n");
    for (int i = 0; i < 60; i++) {
        cq_buf_printf(&text, "  bogus_key_%d: 1\n", i);
    }
    char *got = bad(cq_buf_str(&text), &err);
    size_t lines = 0;
    for (const char *p = got; *p != '\0'; p++) {
        lines += *p == '\n';
    }
    assert_int_equal(lines, 51);
    assert_non_null(strstr(got, "clariq.yaml:51:3: error: limits: unknown key 'bogus_key_49'"));
    assert_null(strstr(got, "bogus_key_50"));
    assert_non_null(strstr(got, "\nclariq.yaml: error: stopped after 50 problems "
                                "(fix these and run again)\n"));
    assert_string_equal(err.msg, "clariq.yaml:2:3: limits: unknown key 'bogus_key_0' "
                                 "(and 49+ more problems)");
    cq_free(got);
    cq_buf_cleanup(&text);
}

/* A password that reaches the config through ${VAR} never appears in any message. */
static void test_secrets_never_in_diagnostics(void **state)
{
    (void)state;
    struct cq_err err = {0};
    setenv("CQT_SECRET_URL", "mysql://admin:hunter2-Zq9@db:3306/x", 1);
    setenv("CQT_SECRET_PG", "postgres://admin:hunter2-Zq9@db/x", 1);
    char *got = bad("connections:\n"
                    "  a:\n    url: ${CQT_SECRET_URL}\n"
                    "  b:\n    driver: sqlite\n    url: ${CQT_SECRET_PG}\n"
                    "  c:\n    driver: postgress\n    url: ${CQT_SECRET_PG}\n"
                    "  d:\n    url: ${CQT_SECRET_PG}\n    path: x.db\n"
                    "  e:\n    url: \"${CQT_SECRET_PG}${CQT_UNSET}\"\n"
                    "  f:\n    url: postgres://admin:hunter2-Zq9@db/${CQT_UNSET\n"
                    "  g:\n    driver: postgres\n    url: [\"${CQT_SECRET_PG}\"]\n"
                    "  h:\n    driver: ${CQT_SECRET_PG}\n    url: x\n"
                    "  i:\n    driver: postgres://admin:hunter2-Zq9@db/x\n    url: x\n"
                    "  j:\n    driver: host=db password=hunter2-Zq9\n    url: x\n"
                    "  k:\n    path: a.db\n    password: hunter2-Zq9\n",
                    &err);
    assert_null(strstr(got, "hunter2"));
    assert_null(strstr(err.msg, "hunter2"));
    assert_non_null(strstr(got, "connections.a.url: cannot tell the driver"));
    assert_non_null(strstr(got, "connections.b.url: the url is for driver 'postgres'"));
    assert_non_null(strstr(got, "connections.e.url: environment variable CQT_UNSET"));
    assert_non_null(strstr(got, "connections.f.url: invalid ${...} reference"));
    /* a URL pasted under a key that is not secret is still masked */
    assert_non_null(strstr(got, "connections.h.driver: unknown driver '${CQT_SECRET_PG}' "
                                "(expands to '***')"));
    assert_non_null(strstr(got, "connections.i.driver: unknown driver '***'"));
    assert_non_null(strstr(got, "connections.j.driver: unknown driver '***'"));
    /* keys are names, never secrets: shown as written */
    assert_non_null(strstr(got, "connections.k: unknown key 'password' (valid keys: driver, "
                                "url, path, read_only, pool, limits)"));
    cq_free(got);
}

/* ---- files ------------------------------------------------------------------------------- */

static void test_load_file_errors(void **state)
{
    (void)state;
    char *dir = cq_test_tmpdir("conf-files");
    char path[1024];
    struct cq_err err = {0};
    struct cq_conf_diags d = {NULL, 0, 0};
    snprintf(path, sizeof(path), "%s/missing.yaml", dir);
    assert_null(cq_conf_load_file(path, &d, &err));
    assert_int_equal(err.rc, CQ_ENOTFOUND);
    assert_non_null(strstr(err.msg, "/missing.yaml': not found (pass --config, set "
                                    "CLARIQ_CONFIG, or run `clariq init`)"));
    assert_int_equal(d.n, 0);

    cq_err_clear(&err);
    assert_null(cq_conf_load_file(dir, &d, &err));
    assert_int_equal(err.rc, CQ_EIO);
    assert_non_null(strstr(err.msg, "is a directory"));

    cq_err_clear(&err);
    snprintf(path, sizeof(path), "%s/huge.yaml", dir);
    assert_true(cq_test_write_file(path, "limits: {}\n"));
    assert_int_equal(truncate(path, (off_t)(16 << 20) + 1), 0);
    assert_null(cq_conf_load_file(path, &d, &err));
    assert_int_equal(err.rc, CQ_ETOOBIG);

    /* diagnostics name the file as given */
    cq_err_clear(&err);
    snprintf(path, sizeof(path), "%s/bad.yaml", dir);
    assert_true(cq_test_write_file(path, "limits:\n  max_rows: lots\n"));
    assert_null(cq_conf_load_file(path, &d, &err));
    assert_int_equal(err.rc, CQ_EINVAL);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].file, path);
    assert_int_equal(d.v[0].line, 2);
    assert_int_equal(d.v[0].col, 13);
    assert_string_equal(d.v[0].msg, "limits.max_rows: expected a whole number, got 'lots'");
    assert_string_equal(d.v[0].hint, "use a whole number >= 0 (0 = unlimited)");
    cq_conf_diags_cleanup(&d);
    free(dir);
}

/* ---- locate.c ---------------------------------------------------------------------------- */

static void test_locate(void **state)
{
    (void)state;
    char out[512], cwd[1024];
    char *dir = cq_test_tmpdir("conf-locate");
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(dir), 0);
    unsetenv("CLARIQ_CONFIG");
    assert_int_equal(cq_conf_locate("given.yaml", out, sizeof(out)), CQ_OK);
    assert_string_equal(out, "given.yaml");
    assert_int_equal(cq_conf_locate(NULL, out, sizeof(out)), CQ_ENOTFOUND);
    assert_string_equal(out, "");
    assert_true(cq_test_write_file("clariq.yaml", "connections: {}\n"));
    assert_int_equal(cq_conf_locate("", out, sizeof(out)), CQ_OK);
    assert_string_equal(out, "clariq.yaml");
    setenv("CLARIQ_CONFIG", "/etc/clariq/env.yaml", 1);
    assert_int_equal(cq_conf_locate(NULL, out, sizeof(out)), CQ_OK);
    assert_string_equal(out, "/etc/clariq/env.yaml");
    assert_int_equal(cq_conf_locate("cli.yaml", out, sizeof(out)), CQ_OK);
    assert_string_equal(out, "cli.yaml");
    unsetenv("CLARIQ_CONFIG");
    assert_int_equal(chdir(cwd), 0);
    free(dir);
}

static void test_limits_lower(void **state)
{
    (void)state;
    struct cq_limits base = {.timeout_ms = 5000,
                             .max_rows = 0,
                             .max_bytes = 1000,
                             .max_concurrent = 2,
                             .queue_timeout_ms = 100};
    struct cq_limits req = {.timeout_ms = 9000,
                            .max_rows = 10,
                            .max_bytes = 0,
                            .max_concurrent = 1,
                            .queue_timeout_ms = 50};
    struct cq_limits out = cq_conf_limits_lower(base, req);
    assert_int_equal(out.timeout_ms, 5000); /* a request cannot raise it */
    assert_int_equal(out.max_rows, 10);     /* unlimited base: the request's */
    assert_int_equal(out.max_bytes, 1000);  /* 0 in a request = keep */
    assert_int_equal(out.max_concurrent, 1);
    assert_int_equal(out.queue_timeout_ms, 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_file_round_trip),
        cmocka_unit_test(test_defaults_come_from_the_macros),
        cmocka_unit_test(test_empty_files_have_no_connections),
        cmocka_unit_test(test_top_level_limits_apply_wherever_written),
        cmocka_unit_test(test_aliases_and_relative_paths),
        cmocka_unit_test(test_demo),
        cmocka_unit_test(test_driver_names_match_the_registry),
        cmocka_unit_test(test_unknown_key_did_you_mean),
        cmocka_unit_test(test_unknown_key_lists_valid_keys),
        cmocka_unit_test(test_unknown_top_level_key),
        cmocka_unit_test(test_bad_duration),
        cmocka_unit_test(test_bad_duration_from_env_quotes_the_reference),
        cmocka_unit_test(test_bad_size),
        cmocka_unit_test(test_negative_number),
        cmocka_unit_test(test_non_integer_max_rows),
        cmocka_unit_test(test_bad_boolean),
        cmocka_unit_test(test_unknown_driver),
        cmocka_unit_test(test_both_url_and_path),
        cmocka_unit_test(test_neither_url_nor_path),
        cmocka_unit_test(test_postgres_with_path),
        cmocka_unit_test(test_driver_not_inferable),
        cmocka_unit_test(test_unset_env_var),
        cmocka_unit_test(test_bad_env_reference),
        cmocka_unit_test(test_yaml_syntax_error),
        cmocka_unit_test(test_bad_encoding),
        cmocka_unit_test(test_duplicate_connection_and_key),
        cmocka_unit_test(test_pool_min_above_max),
        cmocka_unit_test(test_wrong_node_types),
        cmocka_unit_test(test_invalid_connection_name),
        cmocka_unit_test(test_second_document),
        cmocka_unit_test(test_several_errors_reported_together),
        cmocka_unit_test(test_problems_are_capped),
        cmocka_unit_test(test_secrets_never_in_diagnostics),
        cmocka_unit_test(test_load_file_errors),
        cmocka_unit_test(test_locate),
        cmocka_unit_test(test_limits_lower),
    };
    return cmocka_run_group_tests(tests, set_env, NULL);
}
