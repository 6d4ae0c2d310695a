/*
 * test_conf_server.c - the server: section of clariq.yaml: defaults (absent section, the
 * demo conf), every key read into struct cq_server_conf, API keys hashed (key, key_env,
 * key_sha256 give the same digest; the key text appears nowhere in the conf's messages),
 * and one test per kind of mistake asserting the exact diagnostic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "base/buf.h"
#include "conf/conf.h"
#include "cqtest.h"

#define CONNS                                                                                      \
    "connections:\n"                                                                               \
    "  main: {url: postgres://h/db}\n"                                                             \
    "  lite: {path: a.db}\n"

#define KEY1 "k1-0123456789abcdef0123"
#define Z64 "0000000000000000000000000000000000000000000000000000000000000000"
#define KEY2 "k2-fedcba9876543210fedc"

/* ---- helpers ----------------------------------------------------------------------------- */

static void sha(const char *text, unsigned char out[32])
{
    SHA256((const unsigned char *)text, strlen(text), out);
}

/* ---- defaults ---------------------------------------------------------------------------- */

static void defaults_without_section(void **state)
{
    (void)state;
    struct cq_conf *conf = cq_test_conf_good(CONNS);
    const struct cq_server_conf *sc = &conf->server;
    assert_string_equal(sc->listen, "127.0.0.1:8080");
    assert_int_equal(sc->threads, 0); /* one event loop per core */
    assert_int_equal(sc->max_body, 1024 * 1024);
    assert_int_equal(sc->request_timeout_ms, 30000);
    assert_int_equal(sc->shutdown_timeout_ms, 30000);
    assert_int_equal(sc->n_cors_origins, 0);
    assert_null(sc->tls_cert);
    assert_null(sc->tls_key);
    assert_int_equal(sc->auth, CQ_AUTH_KEYS);
    assert_int_equal(sc->n_keys, 0);
    assert_true(sc->access_log);
    assert_false(sc->access_log_json);
    assert_true(sc->errors_include_sql);
    assert_false(sc->trusted_callers);
    cq_conf_free(conf);
}

static void defaults_empty_section(void **state)
{
    (void)state;
    struct cq_conf *conf = cq_test_conf_good(CONNS "server:\n");
    assert_string_equal(conf->server.listen, "127.0.0.1:8080");
    assert_int_equal(conf->server.threads, 0);
    assert_true(conf->server.access_log);
    cq_conf_free(conf);
}

static void demo_is_auth_none_on_loopback(void **state)
{
    (void)state;
    struct cq_err err = {0};
    struct cq_conf *conf = cq_conf_demo(":memory:", &err);
    assert_non_null(conf);
    assert_int_equal(conf->server.auth, CQ_AUTH_NONE);
    assert_true(conf->server.trusted_callers);
    assert_string_equal(conf->server.listen, "127.0.0.1:8080");
    cq_conf_free(conf);
}

/* ---- every key --------------------------------------------------------------------------- */

static void all_keys(void **state)
{
    (void)state;
    struct cq_conf *conf =
        cq_test_conf_good(CONNS "server:\n"
                                "  listen: 0.0.0.0:9090\n"
                                "  threads: 8\n"
                                "  max_body: 64KB\n"
                                "  request_timeout: 5s\n"
                                "  shutdown_timeout: 250ms\n"
                                "  cors_origins: [https://a.example.com, http://b:3000]\n"
                                "  access_log: false\n"
                                "  access_log_format: JSON\n"
                                "  errors_include_sql: no\n"
                                "  allow_unrestricted: true\n");
    const struct cq_server_conf *sc = &conf->server;
    assert_string_equal(sc->listen, "0.0.0.0:9090");
    assert_int_equal(sc->threads, 8);
    assert_int_equal(sc->max_body, 64 * 1024);
    assert_int_equal(sc->request_timeout_ms, 5000);
    assert_int_equal(sc->shutdown_timeout_ms, 250);
    assert_int_equal(sc->n_cors_origins, 2);
    assert_string_equal(sc->cors_origins[0], "https://a.example.com");
    assert_string_equal(sc->cors_origins[1], "http://b:3000");
    assert_false(sc->access_log);
    assert_true(sc->access_log_json);
    assert_false(sc->errors_include_sql);
    assert_true(sc->trusted_callers);
    cq_conf_free(conf);
}

static void listen_forms(void **state)
{
    (void)state;
    static const char *const ok[] = {"[::1]:0", "localhost:8080", "db-1.internal:1", ":8080", NULL};
    for (size_t i = 0; ok[i] != NULL; i++) {
        char text[256];
        snprintf(text, sizeof(text), CONNS "server:\n  listen: \"%s\"\n", ok[i]);
        struct cq_conf *conf = cq_test_conf_good(text);
        assert_string_equal(conf->server.listen, ok[i]);
        cq_conf_free(conf);
    }
}

static void auth_none_implies_trusted(void **state)
{
    (void)state;
    struct cq_conf *conf =
        cq_test_conf_good(CONNS "server:\n  auth: none\n  listen: localhost:8080\n");
    assert_int_equal(conf->server.auth, CQ_AUTH_NONE);
    assert_true(conf->server.trusted_callers);
    cq_conf_free(conf);
}

static void tls_paths_resolved(void **state)
{
    (void)state;
    /* a memory load does not read the files, but resolves them against the config's dir */
    struct cq_conf_diags d = {0};
    struct cq_err err = {0};
    const char *text = CONNS "server:\n  tls: {cert: c.pem, key: /etc/k.pem}\n";
    struct cq_conf *conf = cq_conf_load_mem("/srv/app/clariq.yaml", text, strlen(text), &d, &err);
    assert_non_null(conf);
    assert_string_equal(conf->server.tls_cert, "/srv/app/c.pem");
    assert_string_equal(conf->server.tls_key, "/etc/k.pem");
    cq_conf_free(conf);
    cq_conf_diags_cleanup(&d);
}

static void tls_files_must_be_readable(void **state)
{
    (void)state;
    char *dir = cq_test_tmpdir("confsrv");
    char path[512], cert[512], text[1024];
    struct cq_conf_diags d = {0};
    struct cq_err err = {0};
    snprintf(path, sizeof(path), "%s/clariq.yaml", dir);
    snprintf(cert, sizeof(cert), "%s/c.pem", dir);
    assert_true(cq_test_write_file(cert, "-----BEGIN CERTIFICATE-----\n"));
    snprintf(text, sizeof(text), CONNS "server:\n  tls: {cert: c.pem, key: k.pem}\n");
    assert_true(cq_test_write_file(path, text));
    struct cq_conf *conf = cq_conf_load_file(path, &d, &err);
    assert_null(conf);
    assert_int_equal(d.n, 1);
    assert_non_null(strstr(d.v[0].msg, "server.tls.key: cannot read '"));
    assert_non_null(strstr(d.v[0].msg, "/k.pem'"));
    cq_conf_diags_cleanup(&d);
    free(dir);
}

static void api_keys_all_forms(void **state)
{
    (void)state;
    unsigned char h1[32], h2[32], h3[32];
    char text[2048];
    sha(KEY1, h1);
    sha(KEY2, h2);
    sha("from-the-environment-0001", h3);
    setenv("CQ_TEST_SERVER_KEY", KEY1, 1);
    setenv("CQ_TEST_ENV_KEY", "from-the-environment-0001", 1);
    char hex[65];
    for (int i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02X", h2[i]); /* upper case is accepted */
    }
    snprintf(text, sizeof(text),
             CONNS "roles:\n  - {id: analyst, tables: \"*\"}\n  - {id: svc, tables: \"*\"}\n"
                   "server:\n"
                   "  api_keys:\n"
                   "    - name: reporting\n"
                   "      key: ${CQ_TEST_SERVER_KEY}\n"
                   "      connections: [main, lite]\n"
                   "      roles: {user: [analyst], service: svc}\n"
                   "      context: {tenantId: t1, level: 3, ok: true, ids: [a, '2'], n: ~}\n"
                   "      rate_limit: {requests_per_second: 2.5}\n"
                   "    - name: ops\n"
                   "      key_sha256: %s\n"
                   "      connections: \"*\"\n"
                   "      rate_limit: {requests_per_second: 10, burst: 40}\n"
                   "    - name: old\n"
                   "      key_env: CQ_TEST_ENV_KEY\n"
                   "      revoked: true\n",
             hex);
    struct cq_conf *conf = cq_test_conf_good(text);
    const struct cq_server_conf *sc = &conf->server;
    assert_int_equal(sc->n_keys, 3);
    const struct cq_api_key_conf *a = &sc->keys[0], *b = &sc->keys[1], *c = &sc->keys[2];
    assert_string_equal(a->name, "reporting");
    assert_memory_equal(a->sha256, h1, 32);
    assert_false(a->all_connections);
    assert_int_equal(a->n_connections, 2);
    assert_string_equal(a->connections[0], "main");
    assert_string_equal(a->connections[1], "lite");
    assert_true(a->has_user);
    assert_int_equal(a->n_user_roles, 1);
    assert_string_equal(a->user_roles[0], "analyst");
    assert_true(a->has_service);
    assert_int_equal(a->n_service_roles, 1);
    assert_string_equal(a->service_roles[0], "svc");
    cq_test_expect_json(a->context,
                        "{\"tenantId\":\"t1\",\"level\":3,\"ok\":true,\"ids\":[\"a\",\"2\"],"
                        "\"n\":null}");
    assert_true(a->rate == 2.5);
    assert_true(a->burst == 2.5); /* default max(1, rate) */
    assert_false(a->revoked);
    assert_int_equal(a->line, 9);

    assert_string_equal(b->name, "ops");
    assert_memory_equal(b->sha256, h2, 32);
    assert_true(b->all_connections);
    assert_false(b->has_user);
    assert_false(b->has_service);
    assert_null(b->context);
    assert_true(b->rate == 10);
    assert_true(b->burst == 40);

    assert_string_equal(c->name, "old");
    assert_memory_equal(c->sha256, h3, 32);
    assert_true(c->revoked);
    assert_false(c->all_connections);
    assert_int_equal(c->n_connections, 0);
    assert_true(c->rate == 0); /* unlimited */
    cq_conf_free(conf);
    unsetenv("CQ_TEST_SERVER_KEY");
    unsetenv("CQ_TEST_ENV_KEY");
}

static void rate_burst_at_least_one(void **state)
{
    (void)state;
    struct cq_conf *conf =
        cq_test_conf_good(CONNS "server:\n  api_keys:\n    - name: a\n      key: " KEY1
                                "\n      rate_limit: {requests_per_second: 0.2}\n");
    assert_true(conf->server.keys[0].burst == 1);
    cq_conf_free(conf);
}

/* ---- problems ---------------------------------------------------------------------------- */

static void bad_listen(void **state)
{
    (void)state;
    cq_test_conf_bad(CONNS "server:\n  listen: 8080\n",
                     "clariq.yaml:5:11: error: server.listen: invalid listen address '8080' (write "
                     "host:port, such as 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080)\n");
    cq_test_conf_bad(
        CONNS "server:\n  listen: \"h:70000\"\n",
        "clariq.yaml:5:11: error: server.listen: invalid listen address 'h:70000' (write "
        "host:port, such as 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080)\n");
    cq_test_conf_bad(
        CONNS "server:\n  listen: \"[::1:80\"\n",
        "clariq.yaml:5:11: error: server.listen: invalid listen address '[::1:80' (write "
        "host:port, such as 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080)\n");
    cq_test_conf_bad(
        CONNS "server:\n  auth: none\n  listen: \":8080\"\n",
        "clariq.yaml:6:11: error: server.listen: auth: none refuses a non-loopback listen "
        "address ':8080' (auth: none is for local development: listen on 127.0.0.1 or use "
        "auth: keys with api_keys:)\n");
}

static void auth_none_needs_loopback(void **state)
{
    (void)state;
    cq_test_conf_bad(
        CONNS "server:\n  auth: none\n  listen: 0.0.0.0:8080\n",
        "clariq.yaml:6:11: error: server.listen: auth: none refuses a non-loopback listen "
        "address '0.0.0.0:8080' (auth: none is for local development: listen on 127.0.0.1 or "
        "use auth: keys with api_keys:)\n");
}

static void bad_scalars(void **state)
{
    (void)state;
    cq_test_conf_bad(
        CONNS "server:\n  auth: nnoe\n",
        "clariq.yaml:5:9: error: server.auth: unknown auth mode 'nnoe' (did you mean 'none'?)\n");
    cq_test_conf_bad(
        CONNS "server:\n  access_log_format: jsno\n",
        "clariq.yaml:5:22: error: server.access_log_format: unknown access log format 'jsno' "
        "(did you mean 'json'?)\n");
    cq_test_conf_bad(
        CONNS "server:\n  threads: 65\n",
        "clariq.yaml:5:12: error: server.threads: value '65' is out of range (use a whole number "
        "from 0 to 64)\n");
    cq_test_conf_bad(
        CONNS "server:\n  max_body: lots\n",
        "clariq.yaml:5:13: error: server.max_body: invalid size 'lots' (use a number with a "
        "unit: 512B, 64KB, 10MB, 1GB)\n");
    cq_test_conf_bad(
        CONNS "server:\n  request_timeout: soon\n",
        "clariq.yaml:5:20: error: server.request_timeout: invalid duration 'soon' (use a number "
        "with a unit: 250ms, 5s, 2m, 1h)\n");
    cq_test_conf_bad(
        CONNS "server:\n  access_log: maybe\n",
        "clariq.yaml:5:15: error: server.access_log: invalid boolean 'maybe' (use true or false "
        "(yes/no and on/off also work))\n");
    cq_test_conf_bad(
        CONNS "server:\n  lisen: x\n",
        "clariq.yaml:5:3: error: server: unknown key 'lisen' (did you mean 'listen'?)\n");
    cq_test_conf_bad(
        CONNS "server:\n  cors_origins: [app.example.com]\n",
        "clariq.yaml:5:17: error: server.cors_origins: invalid origin 'app.example.com' (write "
        "origins as scheme://host[:port], such as https://app.example.com)\n");
    cq_test_conf_bad(
        CONNS "server: [a]\n",
        "clariq.yaml:4:9: error: server: expected a mapping, got a list (write key: value lines "
        "indented under it)\n");
}

static void tls_both_or_neither(void **state)
{
    (void)state;
    cq_test_conf_bad(
        CONNS "server:\n  tls:\n    cert: c.pem\n",
        "clariq.yaml:5:3: error: server.tls: missing key (give both cert: and key: (PEM "
        "files), or remove tls:)\n");
}

static void api_key_form_problems(void **state)
{
    (void)state;
    cq_test_conf_bad(
        CONNS "server:\n  api_keys: {a: b}\n",
        "clariq.yaml:5:13: error: server.api_keys: expected a list of keys, got a mapping "
        "(write one '- name: ...' item per key with key:, key_env: or key_sha256:)\n");
    cq_test_conf_bad(
        CONNS "server:\n  api_keys:\n    - key: " KEY1 "\n",
        "clariq.yaml:6:7: error: server.api_keys[0]: missing name (give every key a name: it "
        "labels logs and metrics)\n");
    cq_test_conf_bad(
        CONNS "server:\n  api_keys:\n    - name: a\n",
        "clariq.yaml:6:7: error: server.api_keys[0]: missing key (write key: ${VAR}, key_env: "
        "VAR or key_sha256: <64 hex digits>)\n");
    cq_test_conf_bad(
        CONNS "server:\n  api_keys:\n    - name: a\n      key: " KEY1 "\n      key_sha256: " Z64
              "\n",
        "clariq.yaml:8:7: error: server.api_keys[0]: more than one of key, key_env and "
        "key_sha256 (keep one of key, key_env and key_sha256)\n");
    cq_test_conf_bad(
        CONNS "server:\n  api_keys:\n    - name: 'a b'\n      key: " KEY1 "\n",
        "clariq.yaml:6:13: error: server.api_keys[0].name: invalid key name 'a b' (use letters, "
        "digits, '_', '-' or '.', at most 63 characters)\n");
    cq_test_conf_bad(
        CONNS "server:\n  api_keys:\n    - name: a\n      key: " KEY1 "\n      colour: red\n",
        "clariq.yaml:8:7: error: server.api_keys[0]: unknown key 'colour' (valid keys: name, "
        "key, key_env, key_sha256, connections, roles, context, rate_limit, revoked)\n");
    cq_test_conf_bad(
        CONNS "server:\n  api_keys:\n    - just-a-key\n",
        "clariq.yaml:6:7: error: server.api_keys[0]: expected a mapping, got a single value "
        "(write name:, key_env: ... under the '-')\n");
}

static void api_key_secret_problems(void **state)
{
    (void)state;
    char *diags = NULL;
    /* a short key is refused without being shown */
    cq_test_conf_bad(
        CONNS "server:\n  api_keys:\n    - name: a\n      key: hunter2\n",
        "clariq.yaml:7:12: error: server.api_keys[0].key: the key is too short (use at least 16 "
        "random characters (openssl rand -hex 32))\n");
    unsetenv("CQ_TEST_UNSET_KEY");
    cq_test_conf_bad(
        CONNS "server:\n  api_keys:\n    - name: a\n      key_env: CQ_TEST_UNSET_KEY\n",
        "clariq.yaml:7:16: error: server.api_keys[0].key_env: environment variable "
        "CQ_TEST_UNSET_KEY is not set (export CQ_TEST_UNSET_KEY before starting clariq)\n");
    cq_test_conf_bad(
        CONNS "server:\n  api_keys:\n    - name: a\n      key_env: 'NOT-A-NAME'\n",
        "clariq.yaml:7:16: error: server.api_keys[0].key_env: invalid environment variable name "
        "'NOT-A-NAME' (write the name of an environment variable, such as REPORTING_KEY)\n");
    cq_test_conf_bad(
        CONNS "server:\n  api_keys:\n    - name: a\n      key_sha256: abc\n",
        "clariq.yaml:7:19: error: server.api_keys[0].key_sha256: expected 64 hexadecimal "
        "digits, got 3 characters (write the 64 hex digits of the key's SHA-256 (printf %s "
        "\"$KEY\" | sha256sum))\n");
    /* the key never appears in any message, even next to other problems */
    struct cq_conf *conf =
        cq_test_conf_load(CONNS "server:\n  threads: x\n  api_keys:\n    - name: a\n"
                                "      key: " KEY1 "\n    - name: a\n      key: " KEY1 "\n",
                          &diags);
    assert_null(conf);
    assert_null(strstr(diags, KEY1));
    free(diags);
}

static void api_key_duplicates(void **state)
{
    (void)state;
    cq_test_conf_bad(
        CONNS "server:\n  api_keys:\n    - {name: a, key: " KEY1 "}\n    - {name: a, key: " KEY2
              "}\n",
        "clariq.yaml:7:7: error: server.api_keys[1]: duplicate key name 'a' (first defined at "
        "line 6; key names must be unique)\n");
    cq_test_conf_bad(
        CONNS "server:\n  api_keys:\n    - {name: a, key: " KEY1 "}\n    - {name: b, key: " KEY1
              "}\n",
        "clariq.yaml:7:7: error: server.api_keys[1]: the same key as server.api_keys[0] ('a') "
        "(give every client its own key)\n");
}

static void api_key_references(void **state)
{
    (void)state;
    cq_test_conf_bad(
        CONNS "server:\n  api_keys:\n    - name: a\n      key: " KEY1
              "\n      connections: [mian]\n",
        "clariq.yaml:8:21: error: server.api_keys[0].connections: unknown connection 'mian' "
        "(did you mean 'main'?)\n");
    cq_test_conf_bad(
        CONNS "server:\n  api_keys:\n    - name: a\n      key: " KEY1
              "\n      connections: [main, '*']\n",
        "clariq.yaml:8:27: error: server.api_keys[0].connections: \"*\" inside a list of "
        "connections (write connections: \"*\" alone, not inside a list)\n");
    cq_test_conf_bad(
        CONNS "roles:\n  - {id: analyst, tables: \"*\"}\nserver:\n  api_keys:\n    - name: a\n"
              "      key: " KEY1 "\n      roles: {user: [anlyst]}\n",
        "clariq.yaml:10:22: error: server.api_keys[0].roles.user: unknown role 'anlyst' (did "
        "you mean 'analyst'?)\n");
    cq_test_conf_bad(
        CONNS "server:\n  api_keys:\n    - name: a\n      key: " KEY1 "\n      context: [x]\n",
        "clariq.yaml:8:16: error: server.api_keys[0].context: expected a mapping of context "
        "values, got a list (write context: {tenantId: t1})\n");
    cq_test_conf_bad(
        CONNS "server:\n  api_keys:\n    - name: a\n      key: " KEY1
              "\n      rate_limit: {requests_per_second: -1}\n",
        "clariq.yaml:8:41: error: server.api_keys[0].rate_limit.requests_per_second: invalid "
        "requests_per_second '-1' (use a number greater than 0, such as 10 or 0.5)\n");
    cq_test_conf_bad(
        CONNS "server:\n  api_keys:\n    - name: a\n      key: " KEY1
              "\n      rate_limit: {burst: 3}\n",
        "clariq.yaml:8:7: error: server.api_keys[0].rate_limit: missing requests_per_second "
        "(write rate_limit: {requests_per_second: 10, burst: 20})\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_without_section),
        cmocka_unit_test(defaults_empty_section),
        cmocka_unit_test(demo_is_auth_none_on_loopback),
        cmocka_unit_test(all_keys),
        cmocka_unit_test(listen_forms),
        cmocka_unit_test(auth_none_implies_trusted),
        cmocka_unit_test(tls_paths_resolved),
        cmocka_unit_test(tls_files_must_be_readable),
        cmocka_unit_test(api_keys_all_forms),
        cmocka_unit_test(rate_burst_at_least_one),
        cmocka_unit_test(bad_listen),
        cmocka_unit_test(auth_none_needs_loopback),
        cmocka_unit_test(bad_scalars),
        cmocka_unit_test(tls_both_or_neither),
        cmocka_unit_test(api_key_form_problems),
        cmocka_unit_test(api_key_secret_problems),
        cmocka_unit_test(api_key_duplicates),
        cmocka_unit_test(api_key_references),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
