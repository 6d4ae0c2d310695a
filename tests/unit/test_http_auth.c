/*
 * test_http_auth.c - API keys (src/http/auth.c): the two headers and their spellings,
 * unknown and revoked keys, the token bucket (burst, Retry-After, refill, exact counts under
 * concurrent callers), the narrowing of a request context to the key's roles (spec §0.9:
 * FORBIDDEN_ROLE bodies, omitted scopes filled in, keys without roles refused, pinned
 * context values) and the connection allow-list of /sql.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "http/internal.h"

enum { K_ANALYST, K_REVOKED, K_SLOW, K_NOROLES, K_PINNED, K_FAST, N_KEYS };

static char *user_roles[] = {"analyst", "support"};
static char *service_roles[] = {"billing"};
static char *conns[] = {"pg"};

struct fx {
    struct cq_api_key_conf keys[N_KEYS];
    struct cq_server_conf sc;
    struct cq_http_keys *k;
    struct cq_arena a;
};

static void set_key(struct cq_api_key_conf *kc, const char *name, const char *text)
{
    memset(kc, 0, sizeof(*kc));
    kc->name = (char *)(uintptr_t)name;
    SHA256((const unsigned char *)text, strlen(text), kc->sha256);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct cq_err err = {0};

    set_key(&f->keys[K_ANALYST], "analyst", "key-analyst-0123");
    f->keys[K_ANALYST].has_user = true;
    f->keys[K_ANALYST].user_roles = user_roles;
    f->keys[K_ANALYST].n_user_roles = 2;
    f->keys[K_ANALYST].connections = conns;
    f->keys[K_ANALYST].n_connections = 1;
    set_key(&f->keys[K_REVOKED], "old", "key-old");
    f->keys[K_REVOKED].revoked = true;
    f->keys[K_REVOKED].all_connections = true;
    set_key(&f->keys[K_SLOW], "slow", "key-slow");
    f->keys[K_SLOW].rate = 0.1;
    f->keys[K_SLOW].burst = 2;
    set_key(&f->keys[K_NOROLES], "sqlonly", "key-sqlonly");
    f->keys[K_NOROLES].all_connections = true;
    set_key(&f->keys[K_PINNED], "tenant", "key-tenant");
    f->keys[K_PINNED].has_service = true;
    f->keys[K_PINNED].service_roles = service_roles;
    f->keys[K_PINNED].n_service_roles = 1;
    f->keys[K_PINNED].context = json_pack("{s:s, s:[s]}", "tenantId", "t1", "regionIds", "eu");
    set_key(&f->keys[K_FAST], "fast", "key-fast");
    f->keys[K_FAST].rate = 1000;
    f->keys[K_FAST].burst = 1;
    f->sc.keys = f->keys;
    f->sc.n_keys = N_KEYS;
    f->k = cq_http_keys_new(&f->sc, &err);
    assert_non_null(f->k);
    cq_arena_init(&f->a, 4096, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    cq_http_keys_free(f->k);
    json_decref(f->keys[K_PINNED].context);
    cq_arena_free(&f->a);
    free(f);
    return 0;
}

static enum cq_http_auth_rc auth(struct fx *f, const char *authz, const char *xkey,
                                 const struct cq_api_key_conf **key, int *retry)
{
    return cq_http_auth(f->k, authz, xkey, key, retry);
}

static void test_headers(void **state)
{
    struct fx *f = *state;
    const struct cq_api_key_conf *key = NULL;
    int retry = -1;

    assert_int_equal(auth(f, "Bearer key-analyst-0123", NULL, &key, &retry), CQ_HTTP_AUTH_OK);
    assert_ptr_equal(key, &f->keys[K_ANALYST]);
    assert_int_equal(retry, 0);
    key = NULL;
    assert_int_equal(auth(f, "bEaReR   key-analyst-0123  ", NULL, &key, &retry), CQ_HTTP_AUTH_OK);
    assert_ptr_equal(key, &f->keys[K_ANALYST]);
    key = NULL;
    assert_int_equal(auth(f, NULL, " key-analyst-0123", &key, &retry), CQ_HTTP_AUTH_OK);
    assert_ptr_equal(key, &f->keys[K_ANALYST]);
    /* Another scheme is not a key; X-API-Key is then used. */
    key = NULL;
    assert_int_equal(auth(f, "Basic a2V5", "key-analyst-0123", &key, &retry), CQ_HTTP_AUTH_OK);
    assert_ptr_equal(key, &f->keys[K_ANALYST]);
    assert_int_equal(auth(f, "Basic a2V5", NULL, &key, &retry), CQ_HTTP_AUTH_MISSING);
    assert_null(key);
    assert_int_equal(auth(f, NULL, NULL, &key, &retry), CQ_HTTP_AUTH_MISSING);
    assert_int_equal(auth(f, "Bearer   ", NULL, &key, &retry), CQ_HTTP_AUTH_MISSING);
    assert_int_equal(auth(f, "Bearerkey-analyst-0123", NULL, &key, &retry),
                     CQ_HTTP_AUTH_MISSING);
    assert_int_equal(auth(f, NULL, "", &key, &retry), CQ_HTTP_AUTH_MISSING);
}

static void test_unknown_and_revoked(void **state)
{
    struct fx *f = *state;
    const struct cq_api_key_conf *key = NULL;
    int retry = 0;

    /* A prefix, a longer text and a case change are all different keys. */
    assert_int_equal(auth(f, "Bearer key-analyst-012", NULL, &key, &retry),
                     CQ_HTTP_AUTH_UNKNOWN);
    assert_null(key);
    assert_int_equal(auth(f, "Bearer key-analyst-01234", NULL, &key, &retry),
                     CQ_HTTP_AUTH_UNKNOWN);
    assert_int_equal(auth(f, NULL, "KEY-ANALYST-0123", &key, &retry), CQ_HTTP_AUTH_UNKNOWN);
    assert_int_equal(auth(f, "Bearer key-old", NULL, &key, &retry), CQ_HTTP_AUTH_REVOKED);
    assert_ptr_equal(key, &f->keys[K_REVOKED]);
}

static void test_rate_limit(void **state)
{
    struct fx *f = *state;
    const struct cq_api_key_conf *key = NULL;
    int retry = 0;

    /* burst 2 at 0.1/s: two at once, then ten seconds to the next token */
    assert_int_equal(auth(f, NULL, "key-slow", &key, &retry), CQ_HTTP_AUTH_OK);
    assert_int_equal(auth(f, NULL, "key-slow", &key, &retry), CQ_HTTP_AUTH_OK);
    assert_int_equal(auth(f, NULL, "key-slow", &key, &retry), CQ_HTTP_AUTH_LIMITED);
    assert_ptr_equal(key, &f->keys[K_SLOW]);
    assert_in_range(retry, 9, 10);
    /* Unlimited keys never are. */
    for (int i = 0; i < 100; i++) {
        assert_int_equal(auth(f, NULL, "key-analyst-0123", &key, &retry), CQ_HTTP_AUTH_OK);
    }
}

static void test_rate_refill(void **state)
{
    struct fx *f = *state;
    const struct cq_api_key_conf *key = NULL;
    int retry = 0;
    struct timespec ts = {0, 5 * 1000 * 1000};
    int limited = 0;

    /* 1000/s, burst 1: back to back calls are refused with Retry-After 1 (never 0) ... */
    assert_int_equal(auth(f, NULL, "key-fast", &key, &retry), CQ_HTTP_AUTH_OK);
    for (int i = 0; i < 50; i++) {
        if (auth(f, NULL, "key-fast", &key, &retry) == CQ_HTTP_AUTH_LIMITED) {
            limited++;
            assert_int_equal(retry, 1);
        }
    }
    assert_true(limited > 0);
    /* ... and after 5 ms a token is back. */
    nanosleep(&ts, NULL);
    assert_int_equal(auth(f, NULL, "key-fast", &key, &retry), CQ_HTTP_AUTH_OK);
}

struct race {
    struct fx *f;
    int ok;
};

static void *hammer(void *arg)
{
    struct race *r = arg;
    const struct cq_api_key_conf *key;
    int retry;

    for (int i = 0; i < 200; i++) {
        if (cq_http_auth(r->f->k, "Bearer key-bulk", NULL, &key, &retry) == CQ_HTTP_AUTH_OK) {
            r->ok++;
        }
    }
    return NULL;
}

static void test_rate_threads(void **state)
{
    struct fx *f = *state;
    struct cq_api_key_conf bulk;
    struct cq_server_conf sc = {0};
    struct cq_err err = {0};
    struct race r[4];
    pthread_t t[4];
    int total = 0;

    (void)f;
    set_key(&bulk, "bulk", "key-bulk");
    bulk.rate = 0.001; /* no refill during the test */
    bulk.burst = 300;
    sc.keys = &bulk;
    sc.n_keys = 1;
    r[0].f = calloc(1, sizeof(struct fx));
    r[0].f->k = cq_http_keys_new(&sc, &err);
    assert_non_null(r[0].f->k);
    for (int i = 0; i < 4; i++) {
        r[i].f = r[0].f;
        r[i].ok = 0;
        assert_int_equal(pthread_create(&t[i], NULL, hammer, &r[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += r[i].ok;
    }
    /* 800 attempts against a bucket of 300: exactly 300 pass, whatever the interleaving */
    assert_int_equal(total, 300);
    cq_http_keys_free(r[0].f->k);
    free(r[0].f);
}

/* ---- narrowing ---------------------------------------------------------------------------- */

static int narrow(struct fx *f, int which, const char *context_json,
                  struct cq_dsl_context *ctx, json_t **body)
{
    json_error_t je;
    json_t *j = json_loads(context_json, 0, &je);
    struct cq_dsl_error e = {0};
    struct cq_buf out;
    int rc;

    assert_non_null(j);
    memset(ctx, 0, sizeof(*ctx));
    assert_int_equal(cq_dsl_parse_context(&f->a, j, ctx, &e), CQ_OK);
    json_decref(j);
    rc = cq_http_auth_narrow(which < 0 ? NULL : &f->keys[which], ctx, &f->a, &e);
    *body = NULL;
    if (rc != CQ_OK) {
        assert_int_equal(cq_dsl_error_http_status(&e), 400);
        cq_buf_init(&out, 1 << 16);
        cq_dsl_error_write(&e, &out);
        *body = json_loads(cq_buf_str(&out), 0, &je);
        assert_non_null(*body);
        cq_buf_cleanup(&out);
    }
    cq_dsl_error_cleanup(&e);
    return rc;
}

static void assert_roles(bool has, const char *const *roles, size_t n, const char *want)
{
    char got[256] = "";

    if (!has) {
        assert_string_equal("absent", want);
        return;
    }
    for (size_t i = 0, len = 0; i < n && len < sizeof(got); i++) {
        len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s", i ? "," : "", roles[i]);
    }
    assert_string_equal(got, want);
}

static const struct cq_dsl_val *value_of(const struct cq_dsl_context *ctx, const char *key)
{
    if (ctx->values == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < ctx->values->n; i++) {
        if (strcmp(ctx->values->keys[i], key) == 0) {
            return &ctx->values->items[i];
        }
    }
    return NULL;
}

static void test_narrow_within_key(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_context ctx;
    json_t *body;

    assert_int_equal(narrow(f, K_ANALYST, "{\"roles\":{\"user\":[\"support\"]}}", &ctx, &body),
                     CQ_OK);
    assert_roles(ctx.has_user, ctx.user, ctx.n_user, "support");
    assert_roles(ctx.has_service, ctx.service, ctx.n_service, "absent");
    /* An omitted scope the key lists gets the key's roles, never "unrestricted". */
    assert_int_equal(narrow(f, K_ANALYST, "{\"roles\":{}}", &ctx, &body), CQ_OK);
    assert_roles(ctx.has_user, ctx.user, ctx.n_user, "analyst,support");
    assert_int_equal(
        narrow(f, K_ANALYST, "{\"roles\":{},\"contextValues\":{\"a\":1}}", &ctx, &body),
        CQ_OK);
    assert_roles(ctx.has_user, ctx.user, ctx.n_user, "analyst,support");
    /* [] in a scope the key does not list grants nothing: narrowing, so allowed. */
    assert_int_equal(narrow(f, K_ANALYST, "{\"roles\":{\"service\":[]}}", &ctx, &body), CQ_OK);
    assert_roles(ctx.has_service, ctx.service, ctx.n_service, "");
    assert_roles(ctx.has_user, ctx.user, ctx.n_user, "analyst,support");
    /* auth none: as sent */
    assert_int_equal(narrow(f, -1, "{\"roles\":{}}", &ctx, &body), CQ_OK);
    assert_false(ctx.has_user);
    assert_false(ctx.has_service);
}

static void assert_entry(json_t *body, size_t i, const char *role, const char *scope)
{
    json_t *en = json_array_get(json_object_get(body, "errors"), i);
    char msg[128];

    assert_non_null(en);
    snprintf(msg, sizeof(msg), "Role '%s' is not allowed for this API key", role);
    assert_string_equal(json_string_value(json_object_get(en, "code")), "FORBIDDEN_ROLE");
    assert_string_equal(json_string_value(json_object_get(en, "message")), msg);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(en, "details"), "role")), role);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(en, "details"), "scope")), scope);
}

static void test_narrow_forbidden(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_context ctx;
    json_t *body;

    assert_int_equal(narrow(f, K_ANALYST,
                            "{\"roles\":{\"user\":[\"analyst\",\"admin\"],\"service\":[\"x\"]}}",
                            &ctx, &body),
                     CQ_EINVAL);
    assert_string_equal(json_string_value(json_object_get(body, "code")), "VALIDATION_FAILED");
    assert_string_equal(json_string_value(json_object_get(body, "message")),
                        "Validation failed: 2 errors");
    assert_int_equal(json_array_size(json_object_get(body, "errors")), 2);
    assert_entry(body, 0, "admin", "user");
    assert_entry(body, 1, "x", "service");
    json_decref(body);

    /* A key without roles may not use the governed API at all (absent = unrestricted). */
    assert_int_equal(narrow(f, K_NOROLES, "{\"roles\":{\"user\":[]}}", &ctx, &body),
                     CQ_EINVAL);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(body, "errors"), 0),
                                          "code")),
        "FORBIDDEN_ROLE");
    json_decref(body);
    assert_int_equal(narrow(f, K_NOROLES, "{\"roles\":{}}", &ctx, &body), CQ_EINVAL);
    json_decref(body);
}

static void test_narrow_pinned(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_context ctx;
    const struct cq_dsl_val *v;
    json_t *body;

    assert_int_equal(narrow(f, K_PINNED,
                            "{\"roles\":{\"service\":[\"billing\"]},\"contextValues\":"
                            "{\"tenantId\":\"evil\",\"userId\":7,\"regionIds\":[\"us\",\"ap\"]}}",
                            &ctx, &body),
                     CQ_OK);
    assert_roles(ctx.has_service, ctx.service, ctx.n_service, "billing");
    assert_int_equal(ctx.values->n, 3);
    v = value_of(&ctx, "tenantId");
    assert_non_null(v);
    assert_int_equal(v->kind, CQ_DSL_V_STRING);
    assert_string_equal(v->s, "t1");
    v = value_of(&ctx, "regionIds");
    assert_int_equal(v->kind, CQ_DSL_V_ARRAY);
    assert_int_equal(v->n, 1);
    assert_string_equal(v->items[0].s, "eu");
    v = value_of(&ctx, "userId"); /* not pinned: the caller's */
    assert_non_null(v);
    assert_int_equal(v->i, 7);

    /* Without contextValues the pinned ones appear; omitted service gets the key's roles. */
    assert_int_equal(narrow(f, K_PINNED, "{\"roles\":{}}", &ctx, &body), CQ_OK);
    assert_roles(ctx.has_service, ctx.service, ctx.n_service, "billing");
    assert_int_equal(ctx.values->kind, CQ_DSL_V_OBJECT);
    assert_int_equal(ctx.values->n, 2);
    assert_string_equal(value_of(&ctx, "tenantId")->s, "t1");
}

static void test_may_use(void **state)
{
    struct fx *f = *state;

    assert_true(cq_http_key_may_use(&f->keys[K_ANALYST], "pg"));
    assert_false(cq_http_key_may_use(&f->keys[K_ANALYST], "lite"));
    assert_false(cq_http_key_may_use(&f->keys[K_SLOW], "pg")); /* default: none */
    assert_true(cq_http_key_may_use(&f->keys[K_NOROLES], "anything"));
    assert_true(cq_http_key_may_use(NULL, "pg"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_revoked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_refill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_narrow_within_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_narrow_forbidden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_narrow_pinned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_may_use, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
