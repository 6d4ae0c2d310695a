/*
 * auth.c - API keys, per-key rate limits and the narrowing of a request's roles to what its
 * key allows (spec §0.9). docs/internals/http-auth.md describes the rules.
 *
 * The key table borrows the struct cq_api_key_conf entries of the server configuration: it
 * lives in the same struct cq_http_state as that configuration, so both go together. The
 * only mutable part is each key's token bucket, guarded by a mutex per key, so requests of
 * different keys never contend.
 *
 * Keys are kept only as SHA-256 digests. A presented key is hashed and compared with every
 * entry with CRYPTO_memcmp, without stopping at the first match: the time taken does not
 * depend on which entry matched or on how many leading bytes agreed.
 */
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "base/hash.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "http/internal.h"

struct bucket {
    pthread_mutex_t mu;
    double tokens;            /* available requests (fractional between refills) */
    int64_t last_us;          /* monotonic time of the last refill */
};

struct cq_http_keys {
    const struct cq_api_key_conf *keys; /* borrowed from the server configuration */
    size_t n_keys;
    struct bucket *buckets;   /* parallel to keys */
};

static double burst_of(const struct cq_api_key_conf *k)
{
    if (k->burst >= 1.0) {
        return k->burst;
    }
    return k->rate > 1.0 ? k->rate : 1.0;
}

struct cq_http_keys *cq_http_keys_new(const struct cq_server_conf *sc, struct cq_err *err)
{
    struct cq_http_keys *k = cq_calloc(1, sizeof(*k));
    size_t i;

    if (k == NULL) {
        goto nomem;
    }
    k->keys = sc->keys;
    k->n_keys = sc->n_keys;
    if (k->n_keys > 0) {
        k->buckets = cq_calloc(k->n_keys, sizeof(*k->buckets));
        if (k->buckets == NULL) {
            goto nomem;
        }
    }
    for (i = 0; i < k->n_keys; i++) {
        pthread_mutex_init(&k->buckets[i].mu, NULL);
        k->buckets[i].tokens = burst_of(&k->keys[i]); /* a fresh key may burst at once */
        k->buckets[i].last_us = cq_now_us();
    }
    return k;
nomem:
    cq_free(k);
    cq_err_set(err, CQ_ENOMEM, "http: api keys: out of memory");
    return NULL;
}

void cq_http_keys_free(struct cq_http_keys *k)
{
    if (k == NULL) {
        return;
    }
    for (size_t i = 0; i < k->n_keys && k->buckets != NULL; i++) {
        pthread_mutex_destroy(&k->buckets[i].mu);
    }
    cq_free(k->buckets);
    cq_free(k);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* The key text of a header value without surrounding blanks; NULL when empty. */
static const char *trimmed(const char *s, size_t *len)
{
    size_t n;

    while (is_space(*s)) {
        s++;
    }
    n = strlen(s);
    while (n > 0 && (is_space(s[n - 1]) || s[n - 1] == '\r' || s[n - 1] == '\n')) {
        n--;
    }
    *len = n;
    return n > 0 ? s : NULL;
}

/* The credential the caller presented: "Authorization: Bearer <key>" (scheme
 * case-insensitive) first, else "X-API-Key: <key>". Another scheme (Basic...) is not a key. */
static const char *presented(const char *authorization, const char *x_api_key, size_t *len)
{
    static const char bearer[] = "bearer";
    const char *s;

    if (authorization != NULL) {
        s = authorization;
        while (is_space(*s)) {
            s++;
        }
        if (strlen(s) > 6 && strncasecmp(s, bearer, 6) == 0 && is_space(s[6])) {
            const char *t = trimmed(s + 6, len);
            if (t != NULL) {
                return t;
            }
        }
    }
    if (x_api_key != NULL) {
        return trimmed(x_api_key, len);
    }
    return NULL;
}

/* Takes one token; 0 on success, else the whole seconds until one is available (>= 1). */
static int take_token(const struct cq_api_key_conf *kc, struct bucket *b)
{
    double burst = burst_of(kc);
    int64_t now = cq_now_us();
    int wait = 0;

    pthread_mutex_lock(&b->mu);
    if (now > b->last_us) {
        b->tokens += (double)(now - b->last_us) / 1e6 * kc->rate;
        b->last_us = now;
    }
    if (b->tokens > burst) {
        b->tokens = burst;
    }
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
    } else {
        double secs = ceil((1.0 - b->tokens) / kc->rate);
        wait = secs < 1.0 ? 1 : (secs > 86400.0 ? 86400 : (int)secs);
    }
    pthread_mutex_unlock(&b->mu);
    return wait;
}

enum cq_http_auth_rc cq_http_auth(struct cq_http_keys *k, const char *authorization,
                                  const char *x_api_key, const struct cq_api_key_conf **key,
                                  int *retry_after_s)
{
    unsigned char digest[CQ_SHA256_LEN];
    const char *text;
    size_t len = 0;
    size_t live = SIZE_MAX, dead = SIZE_MAX;
    int wait;

    *key = NULL;
    *retry_after_s = 0;
    text = presented(authorization, x_api_key, &len);
    if (text == NULL) {
        return CQ_HTTP_AUTH_MISSING;
    }
    cq_sha256(text, len, digest);
    /* Every entry is compared; the index is picked without a data-dependent early exit. */
    for (size_t i = 0; i < k->n_keys; i++) {
        int same = CRYPTO_memcmp(digest, k->keys[i].sha256, sizeof(digest)) == 0;
        if (same && !k->keys[i].revoked && live == SIZE_MAX) {
            live = i;
        }
        if (same && k->keys[i].revoked && dead == SIZE_MAX) {
            dead = i;
        }
    }
    OPENSSL_cleanse(digest, sizeof(digest));
    if (live == SIZE_MAX) {
        if (dead != SIZE_MAX) {
            *key = &k->keys[dead];
            return CQ_HTTP_AUTH_REVOKED;
        }
        return CQ_HTTP_AUTH_UNKNOWN;
    }
    *key = &k->keys[live];
    if (k->keys[live].rate <= 0.0) {
        return CQ_HTTP_AUTH_OK;
    }
    wait = take_token(&k->keys[live], &k->buckets[live]);
    if (wait > 0) {
        *retry_after_s = wait;
        return CQ_HTTP_AUTH_LIMITED;
    }
    return CQ_HTTP_AUTH_OK;
}

/* ---- narrowing (spec §0.9) ---------------------------------------------------------------- */

static bool listed(char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i], s) == 0) {
            return true;
        }
    }
    return false;
}

static int forbid(json_t *errors, const char *role, const char *scope)
{
    char msg[320];
    json_t *details = json_object();
    json_t *entry;

    if (details == NULL) {
        return CQ_ENOMEM;
    }
    snprintf(msg, sizeof(msg), "Role '%s' is not allowed for this API key", role);
    json_object_set_new(details, "role", json_string(role));
    json_object_set_new(details, "scope", json_string(scope));
    entry = cq_dsl_entry("FORBIDDEN_ROLE", msg, details);
    if (entry == NULL || json_array_append_new(errors, entry) != 0) {
        return CQ_ENOMEM;
    }
    return CQ_OK;
}

/*
 * One scope. Key lists it: every requested role must be listed (else FORBIDDEN_ROLE); an
 * omitted scope gets the key's roles, because an absent scope means "no restriction"
 * (spec §3). Key does not list it: the request may not name any role in it, and the scope
 * stays as sent (absent, or [] which grants nothing and so only narrows further).
 */
static int narrow_scope(const char *scope, bool key_has, char *const *key_roles,
                        size_t n_key_roles, bool *has, const char *const **roles, size_t *n,
                        json_t *errors)
{
    int rc = CQ_OK;

    if (*has) {
        for (size_t i = 0; i < *n && rc == CQ_OK; i++) {
            if (!key_has || !listed(key_roles, n_key_roles, (*roles)[i])) {
                rc = forbid(errors, (*roles)[i], scope);
            }
        }
        return rc;
    }
    if (key_has) {
        *has = true;
        *roles = (const char *const *)key_roles;
        *n = n_key_roles;
    }
    return CQ_OK;
}

/* contextValues with the key's pinned values replacing the caller's (a new arena object). */
static int pin_values(json_t *pinned, struct cq_dsl_context *ctx, struct cq_arena *a)
{
    const struct cq_dsl_val *old = ctx->values;
    size_t n_old = old != NULL && old->kind == CQ_DSL_V_OBJECT ? old->n : 0;
    size_t cap = n_old + json_object_size(pinned), n = 0;
    struct cq_dsl_val *obj, *items;
    const char **keys;
    const char *name;
    json_t *value;

    obj = cq_arena_alloc(a, sizeof(*obj));
    items = cq_arena_alloc(a, (cap ? cap : 1) * sizeof(*items));
    keys = cq_arena_alloc(a, (cap ? cap : 1) * sizeof(*keys));
    if (obj == NULL || items == NULL || keys == NULL) {
        return CQ_ENOMEM;
    }
    for (size_t i = 0; i < n_old; i++) {
        if (json_object_get(pinned, old->keys[i]) == NULL) {
            keys[n] = old->keys[i];
            items[n++] = old->items[i];
        }
    }
    json_object_foreach(pinned, name, value) {
        const struct cq_dsl_val *v = cq_dsl_val_from_json(a, value);
        keys[n] = cq_arena_strdup(a, name);
        if (v == NULL || keys[n] == NULL) {
            return CQ_ENOMEM;
        }
        items[n++] = *v;
    }
    obj->kind = CQ_DSL_V_OBJECT;
    obj->items = items;
    obj->keys = keys;
    obj->n = n;
    ctx->values = obj;
    return CQ_OK;
}

int cq_http_auth_narrow(const struct cq_api_key_conf *key, struct cq_dsl_context *ctx,
                        struct cq_arena *a, struct cq_dsl_error *e)
{
    json_t *errors = NULL;
    int rc = CQ_OK;

    if (key == NULL) {
        goto out;
    }
    errors = json_array();
    if (errors == NULL) {
        rc = CQ_ENOMEM;
        goto out;
    }
    if (!key->has_user && !key->has_service) {
        /* Both scopes would stay absent, and absent scopes restrict nothing (spec §3): a
         * key without roles must not become a key to everything. */
        json_t *entry = cq_dsl_entry("FORBIDDEN_ROLE",
                                     "This API key lists no roles for the governed query API",
                                     json_object());
        if (entry == NULL || json_array_append_new(errors, entry) != 0) {
            rc = CQ_ENOMEM;
        }
        goto out;
    }
    rc = narrow_scope("user", key->has_user, key->user_roles, key->n_user_roles,
                      &ctx->has_user, &ctx->user, &ctx->n_user, errors);
    if (rc == CQ_OK) {
        rc = narrow_scope("service", key->has_service, key->service_roles,
                          key->n_service_roles, &ctx->has_service, &ctx->service,
                          &ctx->n_service, errors);
    }
    if (rc == CQ_OK && json_array_size(errors) == 0 && key->context != NULL &&
        json_object_size(key->context) > 0) {
        rc = pin_values(key->context, ctx, a);
    }
out:
    if (rc == CQ_OK && errors != NULL && json_array_size(errors) > 0) {
        cq_dsl_error_validation(e, NULL, errors);
        errors = NULL;
        rc = CQ_EINVAL;
    }
    if (rc == CQ_ENOMEM) {
        cq_dsl_error_simple(e, CQ_DSL_E_INTERNAL, "InternalError", "out of memory");
    }
    json_decref(errors);
    return rc;
}

bool cq_http_key_may_use(const struct cq_api_key_conf *key, const char *connection)
{
    if (key == NULL || key->all_connections) {
        return true;
    }
    return listed(key->connections, key->n_connections, connection);
}
