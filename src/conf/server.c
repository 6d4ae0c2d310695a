/*
 * server.c - the `server:` section (`clariq serve`, issue 5) into struct cq_server_conf.
 *
 *   server:
 *     listen: 127.0.0.1:8080        # host:port, [v6]:port; port 0 picks a free one
 *     threads: 0                    # event loops; 0 = one per core
 *     max_body: 1MB
 *     request_timeout: 30s
 *     shutdown_timeout: 30s
 *     cors_origins: [https://app.example.com]
 *     tls: {cert: server.pem, key: server.key}   # both or neither; relative to this file
 *     auth: keys                    # or none: local development, loopback listen only
 *     access_log: true
 *     access_log_format: plain      # or json
 *     errors_include_sql: true
 *     allow_unrestricted: false     # a request without roles is unrestricted (spec §0.9)
 *     api_keys:
 *       - name: reporting
 *         key_env: REPORTING_KEY    # or key: ${VAR} / key: text, or key_sha256: <64 hex>
 *         connections: [main]       # or "*"
 *         roles: {user: [analyst], service: [reporting]}
 *         context: {tenantId: t1}   # pinned contextValues (YAML typed like catalog:)
 *         rate_limit: {requests_per_second: 10, burst: 20}
 *         revoked: false
 *
 * The key text is hashed (SHA-256) the moment it is read and never kept: the conf holds
 * only the digest, and no diagnostic quotes a key (the value is hidden like a password).
 * Duplicate names and two entries with the same key are problems. The section is applied
 * after connections: and roles: (table order), so names are checked with did-you-mean.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "base/hash.h"
#include "base/mem.h"
#include "base/str.h"
#include "conf/internal.h"

#define MAX_API_KEYS 10000  /* entries in server.api_keys */
#define MAX_RATE 1e9        /* requests per second */
#define DEFAULT_LISTEN "127.0.0.1:8080"

_Static_assert(sizeof(enum cq_auth_mode) == sizeof(int), "enum size");

static const char *const auth_modes[] = {"keys", "none", NULL};
static const char *const log_formats[] = {"plain", "json", NULL};

static void check_server(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                         void *target, const struct cq_conf_seen *s);
static void check_tls(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                      const struct cq_conf_seen *s);
static void check_key(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                      const struct cq_conf_seen *s);
static void check_roles(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                        void *target, const struct cq_conf_seen *s);
static void check_rate(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                       const struct cq_conf_seen *s);
static bool apply_log_format(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                             const struct cq_conf_seen *s, int i, void *target);
static bool apply_api_keys(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                           const struct cq_conf_seen *s, int i, void *target);
static bool apply_key_text(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                           const struct cq_conf_seen *s, int i, void *target);
static bool apply_key_env(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                          const struct cq_conf_seen *s, int i, void *target);
static bool apply_key_sha256(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                             const struct cq_conf_seen *s, int i, void *target);
static bool apply_key_conns(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                            const struct cq_conf_seen *s, int i, void *target);
static bool apply_context(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                          const struct cq_conf_seen *s, int i, void *target);
static bool apply_rate_number(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                              const struct cq_conf_seen *s, int i, void *target);

/* ---- the tables -------------------------------------------------------------------------- */

/* tls: {cert, key}: a child section whose target is &server->tls_cert. */
static const struct cq_conf_key tls_keys[] = {
    {.name = "cert", .type = CQ_CONF_K_STR, .off = 0},
    {.name = "key",
     .type = CQ_CONF_K_STR,
     .off = offsetof(struct cq_server_conf, tls_key) - offsetof(struct cq_server_conf, tls_cert)},
};

static const struct cq_conf_section tls_section = {tls_keys, CQ_CONF_NKEYS(tls_keys), check_tls,
                                                   NULL};

static const struct cq_conf_key roles_keys[] = {
    {.name = "user",
     .type = CQ_CONF_K_STRLIST,
     .off = offsetof(struct cq_api_key_conf, user_roles),
     .off2 = offsetof(struct cq_api_key_conf, n_user_roles),
     .hint = "write [role-a, role-b] or one role id"},
    {.name = "service",
     .type = CQ_CONF_K_STRLIST,
     .off = offsetof(struct cq_api_key_conf, service_roles),
     .off2 = offsetof(struct cq_api_key_conf, n_service_roles),
     .hint = "write [role-a, role-b] or one role id"},
};

/* Target is the api key itself (off 0 in the parent table). */
static const struct cq_conf_section roles_section = {roles_keys, CQ_CONF_NKEYS(roles_keys),
                                                     check_roles, NULL};

static const struct cq_conf_key rate_keys[] = {
    {.name = "requests_per_second",
     .type = CQ_CONF_K_FUNC,
     .off = offsetof(struct cq_api_key_conf, rate),
     .apply = apply_rate_number},
    {.name = "burst",
     .type = CQ_CONF_K_FUNC,
     .off = offsetof(struct cq_api_key_conf, burst),
     .apply = apply_rate_number},
};

static const struct cq_conf_section rate_section = {rate_keys, CQ_CONF_NKEYS(rate_keys),
                                                    check_rate, NULL};

static const struct cq_conf_key api_key_keys[] = {
    {.name = "name", .type = CQ_CONF_K_STR, .off = offsetof(struct cq_api_key_conf, name)},
    {.name = "key", .type = CQ_CONF_K_FUNC, .flags = CQ_CONF_KF_SECRET, .apply = apply_key_text},
    {.name = "key_env", .type = CQ_CONF_K_FUNC, .apply = apply_key_env},
    {.name = "key_sha256", .type = CQ_CONF_K_FUNC, .apply = apply_key_sha256},
    {.name = "connections", .type = CQ_CONF_K_FUNC, .apply = apply_key_conns},
    {.name = "roles", .type = CQ_CONF_K_SECTION, .off = 0, .child = &roles_section},
    {.name = "context", .type = CQ_CONF_K_FUNC, .apply = apply_context},
    {.name = "rate_limit", .type = CQ_CONF_K_SECTION, .off = 0, .child = &rate_section},
    {.name = "revoked",
     .type = CQ_CONF_K_BOOL,
     .off = offsetof(struct cq_api_key_conf, revoked),
     .def = "false"},
};

static const struct cq_conf_section api_key_section = {api_key_keys, CQ_CONF_NKEYS(api_key_keys),
                                                       check_key, NULL};

static const struct cq_conf_key server_keys[] = {
    {.name = "listen", .type = CQ_CONF_K_STR, .off = offsetof(struct cq_server_conf, listen)},
    {.name = "threads",
     .type = CQ_CONF_K_INT,
     .off = offsetof(struct cq_server_conf, threads),
     .def = "0",
     .lo = 0,
     .hi = 64},
    {.name = "max_body",
     .type = CQ_CONF_K_SIZE,
     .off = offsetof(struct cq_server_conf, max_body),
     .def = "1MB"},
    {.name = "request_timeout",
     .type = CQ_CONF_K_DURATION,
     .off = offsetof(struct cq_server_conf, request_timeout_ms),
     .def = "30s"},
    {.name = "shutdown_timeout",
     .type = CQ_CONF_K_DURATION,
     .off = offsetof(struct cq_server_conf, shutdown_timeout_ms),
     .def = "30s"},
    {.name = "cors_origins",
     .type = CQ_CONF_K_STRLIST,
     .off = offsetof(struct cq_server_conf, cors_origins),
     .off2 = offsetof(struct cq_server_conf, n_cors_origins),
     .hint = "write [https://app.example.com] or \"*\" for any origin"},
    {.name = "tls",
     .type = CQ_CONF_K_SECTION,
     .off = offsetof(struct cq_server_conf, tls_cert),
     .child = &tls_section},
    {.name = "auth",
     .type = CQ_CONF_K_ENUM,
     .off = offsetof(struct cq_server_conf, auth),
     .def = "keys",
     .names = auth_modes,
     .what = "auth mode"},
    {.name = "access_log",
     .type = CQ_CONF_K_BOOL,
     .off = offsetof(struct cq_server_conf, access_log),
     .def = "true"},
    {.name = "access_log_format", .type = CQ_CONF_K_FUNC, .apply = apply_log_format},
    {.name = "errors_include_sql",
     .type = CQ_CONF_K_BOOL,
     .off = offsetof(struct cq_server_conf, errors_include_sql),
     .def = "true"},
    {.name = "allow_unrestricted",
     .type = CQ_CONF_K_BOOL,
     .off = offsetof(struct cq_server_conf, trusted_callers),
     .def = "false"},
    {.name = "api_keys", .type = CQ_CONF_K_FUNC, .apply = apply_api_keys},
};

const struct cq_conf_section cq_conf_server_section = {server_keys, CQ_CONF_NKEYS(server_keys),
                                                       check_server, NULL};

_Static_assert(CQ_CONF_NKEYS(server_keys) <= CQ_CONF_MAX_KEYS, "raise CQ_CONF_MAX_KEYS");
_Static_assert(CQ_CONF_NKEYS(api_key_keys) <= CQ_CONF_MAX_KEYS, "raise CQ_CONF_MAX_KEYS");

/* ---- listen ------------------------------------------------------------------------------ */

/* host:port split. host is IPv4, a name, [IPv6], or empty (every interface); port
 * 0..65535 (0 picks a free one). */
int cq_conf_parse_listen(const char *s, char *host, size_t host_size, int *port)
{
    const char *colon, *hstart = s, *hend;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':') {
            return CQ_EINVAL;
        }
        hstart = s + 1;
        hend = close;
        colon = close + 1;
        for (const char *p = hstart; p < hend; p++) {
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.') {
                return CQ_EINVAL;
            }
        }
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) {
            return CQ_EINVAL;
        }
        hend = colon;
        for (const char *p = hstart; p < hend; p++) {
            if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_') {
                return CQ_EINVAL;
            }
        }
    }
    /* ":8080" (no host) listens on every interface, as getaddrinfo's passive mode does */
    if ((hend == hstart && s[0] == '[') || (size_t)(hend - hstart) >= host_size) {
        return CQ_EINVAL;
    }
    const char *cur = colon + 1;
    int64_t v;
    if (!isdigit((unsigned char)*cur) || cq_parse_i64(&cur, &v) != CQ_OK || *cur != '\0' ||
        v < 0 || v > 65535) {
        return CQ_EINVAL;
    }
    memcpy(host, hstart, (size_t)(hend - hstart));
    host[hend - hstart] = '\0';
    *port = (int)v;
    return CQ_OK;
}

bool cq_conf_loopback_host(const char *host)
{
    return strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
           cq_has_prefix(host, "127.");
}

/* ---- values ------------------------------------------------------------------------------ */

static bool apply_log_format(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                             const struct cq_conf_seen *s, int i, void *target)
{
    struct cq_server_conf *sc = target;
    const char *path = cq_conf_join_path(ld, s->path, k->name);
    const char *text = cq_conf_scalar_text(ld, k, s->val[i], path);
    if (text == NULL) {
        return false;
    }
    for (size_t j = 0; log_formats[j] != NULL; j++) {
        if (cq_streq_ci(text, log_formats[j])) {
            sc->access_log_json = j == 1;
            return true;
        }
    }
    const char *best = cq_did_you_mean(text, log_formats);
    cq_conf_diag(ld, s->val[i]->start_mark, path,
                 best != NULL ? cq_conf_tmpf(ld, "did you mean '%s'?", best) : "use plain or json",
                 "unknown access log format %s", cq_conf_quote(ld, text));
    return false;
}

/* A number > 0 (requests per second, burst). */
static bool apply_rate_number(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                              const struct cq_conf_seen *s, int i, void *target)
{
    const char *path = cq_conf_join_path(ld, s->path, k->name);
    const char *text = cq_conf_scalar_text(ld, k, s->val[i], path);
    char *end = NULL;
    if (text == NULL) {
        return false;
    }
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(v) || v <= 0 || v > MAX_RATE) {
        cq_conf_diag(ld, s->val[i]->start_mark, path,
                     "use a number greater than 0, such as 10 or 0.5",
                     "invalid %s %s", k->name, cq_conf_quote(ld, text));
        return false;
    }
    *(double *)((char *)target + k->off) = v;
    return true;
}

static void hash_key(struct cq_api_key_conf *kc, const char *text)
{
    cq_sha256(text, strlen(text), kc->sha256);
}

static bool apply_key_text(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                           const struct cq_conf_seen *s, int i, void *target)
{
    const char *path = cq_conf_join_path(ld, s->path, k->name);
    const char *text = cq_conf_scalar_text(ld, k, s->val[i], path);
    if (text == NULL) {
        return false;
    }
    if (strlen(text) < 16) {
        /* the value is a secret: only its length class is said */
        cq_conf_diag(ld, s->val[i]->start_mark, path,
                     "use at least 16 random characters (openssl rand -hex 32)",
                     "the key is too short");
        return false;
    }
    hash_key(target, text);
    return true;
}

static bool env_name_ok(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!isalnum((unsigned char)*s) && *s != '_') {
            return false;
        }
    }
    return true;
}

static bool apply_key_env(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                          const struct cq_conf_seen *s, int i, void *target)
{
    const char *path = cq_conf_join_path(ld, s->path, k->name);
    const char *name = cq_conf_scalar_text(ld, k, s->val[i], path);
    if (name == NULL) {
        return false;
    }
    if (!env_name_ok(name)) {
        cq_conf_diag(ld, s->val[i]->start_mark, path,
                     "write the name of an environment variable, such as REPORTING_KEY",
                     "invalid environment variable name %s", cq_conf_quote(ld, name));
        return false;
    }
    const char *val = getenv(name);
    if (val == NULL || *val == '\0') {
        cq_conf_diag(ld, s->val[i]->start_mark, path,
                     cq_conf_tmpf(ld, "export %s before starting clariq", name),
                     "environment variable %s is %s", name, val == NULL ? "not set" : "empty");
        return false;
    }
    if (strlen(val) < 16) {
        cq_conf_diag(ld, s->val[i]->start_mark, path,
                     "use at least 16 random characters (openssl rand -hex 32)",
                     "the key in %s is too short", name);
        return false;
    }
    hash_key(target, val);
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool apply_key_sha256(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                             const struct cq_conf_seen *s, int i, void *target)
{
    struct cq_api_key_conf *kc = target;
    const char *path = cq_conf_join_path(ld, s->path, k->name);
    const char *hex = cq_conf_scalar_text(ld, k, s->val[i], path);
    bool ok = hex != NULL && strlen(hex) == 64;
    if (hex == NULL) {
        return false;
    }
    for (size_t j = 0; ok && j < 32; j++) {
        int hi = hexval(hex[2 * j]), lo = hexval(hex[2 * j + 1]);
        ok = hi >= 0 && lo >= 0;
        kc->sha256[j] = (unsigned char)(ok ? hi * 16 + lo : 0);
    }
    if (!ok) {
        cq_conf_diag(ld, s->val[i]->start_mark, path,
                     "write the 64 hex digits of the key's SHA-256 "
                     "(printf %s \"$KEY\" | sha256sum)",
                     "expected 64 hexadecimal digits, got %zu characters", strlen(hex));
    }
    return ok;
}

static const char **conn_names(struct cq_conf_loader *ld)
{
    const struct cq_conf *conf = ld->conf;
    const char **names = cq_conf_tmp_array(ld, conf->n_conns + 1, sizeof(*names));
    for (size_t i = 0; names != NULL && i < conf->n_conns; i++) {
        names[i] = conf->conns[i].name;
    }
    return names;
}

/* "*" or a list of connection names (each must exist). */
static bool apply_key_conns(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                            const struct cq_conf_seen *s, int i, void *target)
{
    struct cq_api_key_conf *kc = target;
    const yaml_node_t *v = s->val[i];
    const char *path = cq_conf_join_path(ld, s->path, k->name);
    struct cq_conf_key list = {.name = k->name,
                               .type = CQ_CONF_K_STRLIST,
                               .off = offsetof(struct cq_api_key_conf, connections),
                               .off2 = offsetof(struct cq_api_key_conf, n_connections),
                               .hint = "write \"*\" for every connection, or [name, ...]"};
    bool ok = true;
    if (v->type == YAML_SCALAR_NODE && strcmp(cq_conf_scalar(v), "*") == 0) {
        kc->all_connections = true;
        return true;
    }
    if (cq_conf_is_null(v)) {
        return true; /* none */
    }
    if (v->type == YAML_MAPPING_NODE) {
        cq_conf_diag(ld, v->start_mark, path, list.hint,
                     "expected a list of values, got a mapping");
        return false;
    }
    const yaml_node_item_t *items = NULL;
    size_t n = 1;
    if (v->type == YAML_SEQUENCE_NODE) {
        items = v->data.sequence.items.start;
        n = (size_t)(v->data.sequence.items.top - items);
    }
    kc->connections = n > 0 ? cq_arena_alloc(ld->keep, n * sizeof(char *)) : NULL;
    if (n > 0 && kc->connections == NULL) {
        ld->rc = CQ_ENOMEM;
        return false;
    }
    for (size_t j = 0; j < n && !cq_conf_full(ld); j++) {
        const yaml_node_t *item = items != NULL ? cq_conf_node(ld, items[j]) : v;
        struct cq_conf_key one = list;
        one.type = CQ_CONF_K_STR;
        const char *name = item != NULL ? cq_conf_scalar_text(ld, &one, item, path) : NULL;
        if (name == NULL) {
            ok = false;
            continue;
        }
        if (strcmp(name, "*") == 0) {
            cq_conf_diag(ld, item->start_mark, path,
                         "write connections: \"*\" alone, not inside a list",
                         "\"*\" inside a list of connections");
            ok = false;
            continue;
        }
        if (cq_conf_conn(ld->conf, name) == NULL) {
            const char **names = conn_names(ld);
            cq_conf_diag(ld, item->start_mark, path,
                         names == NULL ? NULL
                                       : cq_conf_names_hint(ld, name, names, ld->conf->n_conns,
                                                            "connections",
                                                            "define it under connections:"),
                         "unknown connection %s", cq_conf_quote(ld, name));
            ok = false;
            continue;
        }
        kc->connections[kc->n_connections] = cq_arena_strdup(ld->keep, name);
        if (kc->connections[kc->n_connections++] == NULL) {
            ld->rc = CQ_ENOMEM;
            return false;
        }
    }
    return ok;
}

static bool apply_context(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                          const struct cq_conf_seen *s, int i, void *target)
{
    struct cq_api_key_conf *kc = target;
    const yaml_node_t *v = s->val[i];
    const char *path = cq_conf_join_path(ld, s->path, k->name);
    if (cq_conf_is_null(v)) {
        return true;
    }
    if (v->type != YAML_MAPPING_NODE) {
        cq_conf_diag(ld, v->start_mark, path, "write context: {tenantId: t1}",
                     "expected a mapping of context values, got %s", cq_conf_kind(v));
        return false;
    }
    json_t *j = cq_conf_yaml_json(ld, v, path);
    if (j == NULL) {
        return false;
    }
    kc->context = j;
    return true;
}

/* ---- checks ------------------------------------------------------------------------------ */

static void check_tls(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                      const struct cq_conf_seen *s)
{
    char **files = target; /* &server->tls_cert; tls_key at its offset */
    char **key = (char **)((char *)target + sec->keys[1].off);
    bool cert_bad, key_bad;
    const yaml_node_t *cv = cq_conf_seen_val(sec, s, "cert", &cert_bad);
    const yaml_node_t *kv = cq_conf_seen_val(sec, s, "key", &key_bad);
    if ((cv == NULL) != (kv == NULL)) {
        cq_conf_diag(ld, cq_conf_section_mark(s), s->path,
                     "give both cert: and key: (PEM files), or remove tls:",
                     "missing %s", cv == NULL ? "cert" : "key");
        return;
    }
    const char *names[2] = {"cert", "key"};
    char **vals[2] = {files, key};
    const yaml_node_t *nodes[2] = {cv, kv};
    bool bad[2] = {cert_bad, key_bad};
    for (int j = 0; j < 2; j++) {
        if (nodes[j] == NULL || bad[j]) {
            continue;
        }
        if (**vals[j] == '\0') {
            cq_conf_diag(ld, nodes[j]->start_mark, cq_conf_join_path(ld, s->path, names[j]),
                         "name a PEM file", "empty file name");
            continue;
        }
        *vals[j] = cq_conf_resolve_path(ld, *vals[j]);
        if (ld->read_files && access(*vals[j], R_OK) != 0) {
            cq_conf_diag(ld, nodes[j]->start_mark, cq_conf_join_path(ld, s->path, names[j]),
                         "the path is relative to the directory of the config file",
                         "cannot read '%s'", cq_conf_clean(ld, *vals[j]));
        }
    }
}

/* Role ids of the roles: section (NULL when there is none to check against). */
static const char **role_ids(struct cq_conf_loader *ld, size_t *n)
{
    const json_t *roles = ld->conf->roles, *r;
    size_t i;
    *n = 0;
    if (!json_is_array(roles)) {
        return NULL;
    }
    const char **ids = cq_conf_tmp_array(ld, json_array_size(roles) + 1, sizeof(*ids));
    json_array_foreach(roles, i, r) {
        const char *id = json_string_value(json_object_get(r, "id"));
        if (ids != NULL && id != NULL) {
            ids[(*n)++] = id;
        }
    }
    return ids;
}

static void check_role_list(struct cq_conf_loader *ld, const yaml_node_t *v, const char *path,
                            char **roles, size_t n)
{
    size_t n_ids;
    const char **ids = role_ids(ld, &n_ids);
    if (ids == NULL) {
        return;
    }
    for (size_t j = 0; j < n; j++) {
        bool found = false;
        for (size_t m = 0; m < n_ids && !found; m++) {
            found = strcmp(ids[m], roles[j]) == 0;
        }
        if (!found) {
            const yaml_node_t *at = v;
            if (v->type == YAML_SEQUENCE_NODE &&
                (ptrdiff_t)j < v->data.sequence.items.top - v->data.sequence.items.start) {
                at = cq_conf_node(ld, v->data.sequence.items.start[j]);
            }
            cq_conf_diag(ld, (at != NULL ? at : v)->start_mark, path,
                         cq_conf_names_hint(ld, roles[j], ids, n_ids, "roles",
                                            "define it under roles:"),
                         "unknown role %s", cq_conf_quote(ld, roles[j]));
        }
    }
}

static void check_roles(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                        const struct cq_conf_seen *s)
{
    struct cq_api_key_conf *kc = target;
    bool bad;
    const yaml_node_t *u = cq_conf_seen_val(sec, s, "user", &bad);
    if (u != NULL && !bad) {
        kc->has_user = true;
        check_role_list(ld, u, cq_conf_join_path(ld, s->path, "user"), kc->user_roles,
                        kc->n_user_roles);
    }
    const yaml_node_t *sv = cq_conf_seen_val(sec, s, "service", &bad);
    if (sv != NULL && !bad) {
        kc->has_service = true;
        check_role_list(ld, sv, cq_conf_join_path(ld, s->path, "service"), kc->service_roles,
                        kc->n_service_roles);
    }
}

static void check_rate(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                       const struct cq_conf_seen *s)
{
    struct cq_api_key_conf *kc = target;
    bool bad;
    if (cq_conf_seen_val(sec, s, "requests_per_second", &bad) == NULL && !bad) {
        cq_conf_diag(ld, cq_conf_section_mark(s), s->path,
                     "write rate_limit: {requests_per_second: 10, burst: 20}",
                     "missing requests_per_second");
        return;
    }
    if (kc->burst == 0) {
        kc->burst = kc->rate > 1 ? kc->rate : 1;
    }
}

/* Exactly one of key, key_env, key_sha256; a name. */
static void check_key(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                      const struct cq_conf_seen *s)
{
    struct cq_api_key_conf *kc = target;
    static const char *const forms[] = {"key", "key_env", "key_sha256"};
    const yaml_node_t *second = NULL;
    int n = 0;
    for (int j = 0; j < 3; j++) {
        const yaml_node_t *k = cq_conf_seen_key(sec, s, forms[j]);
        if (k != NULL && n++ == 1) {
            second = k;
        }
    }
    if (cq_conf_seen_val(sec, s, "name", NULL) == NULL) {
        cq_conf_diag(ld, cq_conf_section_mark(s), s->path,
                     "give every key a name: it labels logs and metrics", "missing name");
    } else if (kc->name != NULL && !cq_conf_valid_name(kc->name)) {
        cq_conf_diag(ld, cq_conf_seen_val(sec, s, "name", NULL)->start_mark,
                     cq_conf_join_path(ld, s->path, "name"),
                     "use letters, digits, '_', '-' or '.', at most 63 characters",
                     "invalid key name %s", cq_conf_quote(ld, kc->name));
        kc->name = NULL;
    }
    if (n == 0) {
        cq_conf_diag(ld, cq_conf_section_mark(s), s->path,
                     "write key: ${VAR}, key_env: VAR or key_sha256: <64 hex digits>",
                     "missing key");
    } else if (n > 1) {
        cq_conf_diag(ld, second->start_mark, s->path,
                     "keep one of key, key_env and key_sha256",
                     "more than one of key, key_env and key_sha256");
    }
}

static void check_listen(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                         struct cq_server_conf *sc, const struct cq_conf_seen *s)
{
    bool bad, auth_bad;
    const yaml_node_t *lv = cq_conf_seen_val(sec, s, "listen", &bad);
    char host[256];
    int port;
    if (lv == NULL || bad) {
        return;
    }
    if (cq_conf_parse_listen(sc->listen, host, sizeof(host), &port) != CQ_OK) {
        cq_conf_diag(ld, lv->start_mark, cq_conf_join_path(ld, s->path, "listen"),
                     "write host:port, such as 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080",
                     "invalid listen address %s", cq_conf_quote(ld, sc->listen));
        return;
    }
    (void)cq_conf_seen_val(sec, s, "auth", &auth_bad);
    if (!auth_bad && sc->auth == CQ_AUTH_NONE && !cq_conf_loopback_host(host)) {
        cq_conf_diag(ld, lv->start_mark, cq_conf_join_path(ld, s->path, "listen"),
                     "auth: none is for local development: listen on 127.0.0.1 or use "
                     "auth: keys with api_keys:",
                     "auth: none refuses a non-loopback listen address %s",
                     cq_conf_quote(ld, sc->listen));
    }
}

/* Same name twice, or the same key under two names. n^2 over a short list. */
static void check_duplicates(struct cq_conf_loader *ld, const struct cq_server_conf *sc,
                             const yaml_node_t *list)
{
    for (size_t i = 0; i < sc->n_keys && !cq_conf_full(ld); i++) {
        const struct cq_api_key_conf *a = &sc->keys[i];
        const yaml_node_t *at = cq_conf_node(ld, list->data.sequence.items.start[i]);
        for (size_t j = 0; j < i; j++) {
            const struct cq_api_key_conf *b = &sc->keys[j];
            if (a->name != NULL && b->name != NULL && strcmp(a->name, b->name) == 0) {
                cq_conf_diag(ld, at->start_mark, cq_conf_tmpf(ld, "server.api_keys[%zu]", i),
                             cq_conf_tmpf(ld, "first defined at line %d; key names must be "
                                              "unique", b->line),
                             "duplicate key name '%s'", a->name);
                break;
            }
            static const unsigned char zero[32];
            if (memcmp(a->sha256, zero, 32) != 0 && memcmp(a->sha256, b->sha256, 32) == 0) {
                cq_conf_diag(ld, at->start_mark, cq_conf_tmpf(ld, "server.api_keys[%zu]", i),
                             "give every client its own key",
                             "the same key as server.api_keys[%zu]%s%s%s", j,
                             b->name != NULL ? " ('" : "", b->name != NULL ? b->name : "",
                             b->name != NULL ? "')" : "");
                break;
            }
        }
    }
}

static bool apply_api_keys(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                           const struct cq_conf_seen *s, int i, void *target)
{
    struct cq_server_conf *sc = target;
    const yaml_node_t *v = s->val[i];
    const char *path = cq_conf_join_path(ld, s->path, k->name);
    size_t before = ld->n_problems;
    if (cq_conf_is_null(v)) {
        return true;
    }
    size_t n = v->type == YAML_SEQUENCE_NODE
                   ? (size_t)(v->data.sequence.items.top - v->data.sequence.items.start)
                   : 0;
    if (v->type != YAML_SEQUENCE_NODE || n > MAX_API_KEYS) {
        cq_conf_diag(ld, v->start_mark, path,
                     "write one '- name: ...' item per key with key:, key_env: or key_sha256:",
                     v->type == YAML_SEQUENCE_NODE ? "more than 10000 keys"
                                                   : "expected a list of keys, got %s",
                     cq_conf_kind(v));
        return false;
    }
    sc->keys = n > 0 ? cq_arena_alloc(ld->keep, n * sizeof(*sc->keys)) : NULL;
    if (n > 0 && sc->keys == NULL) {
        ld->rc = CQ_ENOMEM;
        return false;
    }
    for (size_t j = 0; j < n && !cq_conf_full(ld); j++) {
        const yaml_node_t *item = cq_conf_node(ld, v->data.sequence.items.start[j]);
        struct cq_api_key_conf *kc = &sc->keys[j];
        const char *ipath = cq_conf_tmpf(ld, "%s[%zu]", path, j);
        if (item == NULL) {
            continue;
        }
        if (item->type != YAML_MAPPING_NODE) {
            cq_conf_diag(ld, item->start_mark, ipath, "write name:, key_env: ... under the '-'",
                         "expected a mapping, got %s", cq_conf_kind(item));
            sc->n_keys = j + 1;
            continue;
        }
        if (cq_conf_apply_defaults(&api_key_section, kc) != CQ_OK) {
            ld->rc = CQ_EINTERNAL;
            return false;
        }
        kc->file = ld->kept_file;
        kc->line = (int)item->start_mark.line + 1;
        sc->n_keys = j + 1;
        cq_conf_walk_section(ld, &api_key_section, item, NULL, kc, ipath);
    }
    if (ld->n_problems == before) {
        check_duplicates(ld, sc, v);
    }
    return ld->n_problems == before;
}

static void check_server(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                         void *target, const struct cq_conf_seen *s)
{
    struct cq_server_conf *sc = target;
    check_listen(ld, sec, sc, s);
    for (size_t i = 0; i < sc->n_cors_origins; i++) {
        const char *o = sc->cors_origins[i];
        if (strcmp(o, "*") != 0 && !cq_has_prefix(o, "http://") && !cq_has_prefix(o, "https://")) {
            cq_conf_diag(ld, cq_conf_seen_val(sec, s, "cors_origins", NULL)->start_mark,
                         cq_conf_join_path(ld, s->path, "cors_origins"),
                         "write origins as scheme://host[:port], such as https://app.example.com",
                         "invalid origin %s", cq_conf_quote(ld, o));
        }
    }
}

/* ---- entry points ------------------------------------------------------------------------ */

void cq_conf_server_finish(struct cq_conf_loader *ld)
{
    struct cq_server_conf *sc = &ld->conf->server;
    if (sc->listen == NULL && ld->rc == CQ_OK) {
        sc->listen = cq_arena_strdup(ld->keep, DEFAULT_LISTEN);
        if (sc->listen == NULL) {
            ld->rc = CQ_ENOMEM;
        }
    }
    if (sc->auth == CQ_AUTH_NONE) {
        sc->trusted_callers = true; /* nobody is authenticated: every caller is trusted */
    }
}

void cq_conf_server_cleanup(struct cq_server_conf *sc)
{
    for (size_t i = 0; i < sc->n_keys; i++) {
        json_decref(sc->keys[i].context);
        sc->keys[i].context = NULL;
    }
}
