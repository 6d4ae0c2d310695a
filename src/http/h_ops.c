/*
 * h_ops.c - operations endpoints: GET /ready, GET /metrics, GET /config.
 *
 * /ready answers 200 when every *required* connection answers a ping through its pool,
 * else 503; the body lists each one: {"ready":b,"connections":{"main":{"ready":true,
 * "latencyMs":0.4},"bad":{"ready":false,"error":"..."}}}. Required means: every connection
 * that serves a database of the governed-query catalog (conf->catalog_conns), plus the
 * alert state connection (state.connection). A configuration with neither (raw SQL only)
 * requires every configured connection, since those are what it serves. /health (spec §12)
 * stays the governed API's own always-200 probe.
 *
 * /metrics is the Prometheus text exposition (format 0.0.4) of metrics.c.
 *
 * /config is the effective configuration as JSON, in the file's own vocabulary (key names
 * of clariq.yaml, durations and sizes written as "30s" and "1MB"), so two deployments can
 * be diffed. Every secret is removed: connection URLs go through cq_drv_dsn_redact, and
 * channel URLs (they carry tokens), header values, HMAC secrets, SMTP passwords and API
 * keys become "***" (an API key keeps only its name and what it may do).
 */
#include <inttypes.h>
#include <string.h>

#include <jansson.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "http/internal.h"

#define HIDDEN "***"

static int put_json(const char *p, size_t len, void *data)
{
    cq_buf_append(data, p, len);
    return 0;
}

/* ---- GET /ready -------------------------------------------------------------------------- */

static bool listed(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/* The required connection names (see the file comment), in the arena. */
static const char **required(const struct cq_conf *conf, struct cq_arena *a, size_t *n)
{
    size_t cap = conf->n_conns + 1;
    const char **names = cq_arena_alloc(a, cap * sizeof(*names));
    const char *db;
    json_t *v;
    *n = 0;
    if (names == NULL) {
        return NULL;
    }
    json_object_foreach(conf->catalog_conns, db, v) {
        const char *c = json_string_value(v);
        if (c != NULL && cq_conf_conn(conf, c) != NULL && !listed(names, *n, c) && *n < cap) {
            names[(*n)++] = c;
        }
    }
    const char *sc = conf->state.connection;
    if (sc != NULL && cq_conf_conn(conf, sc) != NULL && !listed(names, *n, sc) && *n < cap) {
        names[(*n)++] = sc;
    }
    for (size_t i = 0; *n == 0 && i < conf->n_conns; i++) {
        names[i] = conf->conns[i].name;
        if (i + 1 == conf->n_conns) {
            *n = conf->n_conns;
        }
    }
    return names;
}

/* One connection: ping through its pool; the latency in *ms. */
static int ping_one(struct cq_http_state *st, const char *name, double *ms, struct cq_err *err)
{
    struct cq_conn *c = NULL;
    struct cq_pool *p = cq_http_pool(st, name, err);
    int64_t t0 = cq_now_us();
    int rc = p != NULL ? cq_drv_pool_get(p, &c, err) : CQ_ECONNECT;
    if (rc == CQ_OK) {
        rc = cq_drv_ping(c, err);
        cq_drv_pool_put(p, c);
    }
    *ms = (double)(cq_now_us() - t0) / 1000.0;
    return rc;
}

void cq_http_h_ready(struct cq_http_req *req, struct cq_http_resp *resp)
{
    size_t n = 0;
    const char **names = required(req->st->conf, &req->arena, &n);
    bool all = true;
    if (names == NULL) {
        cq_http_resp_error(resp, 503, "OUT_OF_MEMORY", "out of memory");
        return;
    }
    struct cq_buf conns;
    cq_buf_init(&conns, resp->body.max);
    for (size_t i = 0; i < n; i++) {
        struct cq_err err = {0};
        double ms = 0;
        bool ok = ping_one(req->st, names[i], &ms, &err) == CQ_OK;
        all = all && ok;
        cq_buf_puts(&conns, i > 0 ? "," : "");
        cq_json_put_str(&conns, names[i], strlen(names[i]));
        if (ok) {
            cq_buf_printf(&conns, ":{\"ready\":true,\"latencyMs\":%.3f}", ms);
        } else {
            cq_buf_puts(&conns, ":{\"ready\":false,\"error\":");
            cq_json_put_str(&conns, err.msg, strlen(err.msg));
            cq_buf_putc(&conns, '}');
        }
    }
    cq_buf_printf(&resp->body, "{\"ready\":%s,\"connections\":{", all ? "true" : "false");
    cq_buf_append(&resp->body, conns.p != NULL ? conns.p : "", conns.len);
    cq_buf_puts(&resp->body, "}}");
    cq_buf_cleanup(&conns);
    resp->status = all ? 200 : 503;
}

/* ---- GET /metrics ------------------------------------------------------------------------ */

void cq_http_h_metrics(struct cq_http_req *req, struct cq_http_resp *resp)
{
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    cq_http_metrics_render(req->metrics, req->st, &resp->body);
}

/* ---- GET /config ------------------------------------------------------------------------- */

static const char *const rule_types[] = {"any_rows", "no_rows", "threshold",
                                         "always", "sql_boolean", "change"};
static const char *const cmp_ops[] = {">", ">=", "<", "<=", "==", "!="};
static const char *const rule_rows[] = {"first", "any", "all", "min", "max", "sum", "count"};
static const char *const channel_kinds[] = {"slack", "email", "webhook"};
static const char *const tls_modes[] = {"starttls", "tls", "none"};

/* Sets key to a new value; a NULL value (jansson out of memory) is dropped. */
static void put(json_t *o, const char *key, json_t *v)
{
    if (v != NULL) {
        json_object_set_new(o, key, v);
    }
}

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static json_t *duration(int64_t ms)
{
    char b[32];
    cq_format_duration(b, sizeof(b), ms);
    return json_string(b);
}

static json_t *size_text(int64_t bytes)
{
    char b[32];
    cq_format_size(b, sizeof(b), bytes);
    return json_string(b);
}

static json_t *str_list(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++) {
        json_array_append_new(a, json_string(v[i]));
    }
    return a;
}

/* A secret that is set shows as "***"; an unset one as null. */
static json_t *secret(const char *s)
{
    return s != NULL ? json_string(HIDDEN) : json_null();
}

static json_t *limits_conf(const struct cq_limits *l)
{
    json_t *o = json_object();
    if (o != NULL) {
        put(o, "timeout", duration(l->timeout_ms));
        put(o, "max_rows", json_integer((json_int_t)l->max_rows));
        put(o, "max_bytes", size_text(l->max_bytes));
        put(o, "max_concurrent", json_integer(l->max_concurrent));
        put(o, "queue_timeout", duration(l->queue_timeout_ms));
    }
    return o;
}

static json_t *conns_conf(const struct cq_conf *conf)
{
    json_t *all = json_object();
    for (size_t i = 0; all != NULL && i < conf->n_conns; i++) {
        const struct cq_conn_conf *cc = &conf->conns[i];
        json_t *o = json_object(), *pool = json_object();
        char url[1024];
        if (o == NULL || pool == NULL) {
            json_decref(o);
            json_decref(pool);
            continue;
        }
        put(o, "driver", str_or_null(cc->driver));
        if (cc->url != NULL) {
            cq_drv_dsn_redact(cc->url, url, sizeof(url));
            put(o, "url", json_string(url));
        }
        if (cc->path != NULL) {
            put(o, "path", json_string(cc->path));
        }
        put(o, "read_only", json_boolean(cc->read_only));
        put(pool, "min", json_integer(cc->pool.min));
        put(pool, "max", json_integer(cc->pool.max));
        put(pool, "idle_timeout", duration(cc->pool.idle_timeout_ms));
        put(pool, "pipeline", json_integer(cc->pool.pipeline));
        put(o, "pool", pool);
        put(o, "limits", limits_conf(&cc->limits));
        put(all, cc->name, o);
    }
    return all;
}

static json_t *api_key_conf(const struct cq_api_key_conf *k)
{
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    put(o, "name", str_or_null(k->name));
    put(o, "key", json_string(HIDDEN));
    put(o, "connections", k->all_connections ? json_string("*")
                                              : str_list(k->connections, k->n_connections));
    if (k->has_user || k->has_service) {
        json_t *roles = json_object();
        if (roles != NULL && k->has_user) {
            put(roles, "user", str_list(k->user_roles, k->n_user_roles));
        }
        if (roles != NULL && k->has_service) {
            put(roles, "service", str_list(k->service_roles, k->n_service_roles));
        }
        put(o, "roles", roles);
    }
    if (k->context != NULL) {
        put(o, "context", json_deep_copy(k->context));
    }
    if (k->rate > 0) {
        put(o, "rate_limit", json_pack("{s:f,s:f}", "requests_per_second", k->rate, "burst",
                                       k->burst));
    }
    put(o, "revoked", json_boolean(k->revoked));
    return o;
}

static json_t *server_conf(const struct cq_server_conf *sc)
{
    json_t *o = json_object(), *keys = json_array();
    if (o == NULL || keys == NULL) {
        json_decref(o);
        json_decref(keys);
        return NULL;
    }
    put(o, "listen", str_or_null(sc->listen));
    put(o, "threads", json_integer(sc->threads));
    put(o, "max_body", size_text(sc->max_body));
    put(o, "request_timeout", duration(sc->request_timeout_ms));
    put(o, "shutdown_timeout", duration(sc->shutdown_timeout_ms));
    put(o, "cors_origins", str_list(sc->cors_origins, sc->n_cors_origins));
    if (sc->tls_cert != NULL || sc->tls_key != NULL) {
        /* file paths are not secrets; the key file's contents never leave the disk */
        put(o, "tls", json_pack("{s:o,s:o}", "cert", str_or_null(sc->tls_cert), "key",
                                str_or_null(sc->tls_key)));
    }
    put(o, "auth", json_string(sc->auth == CQ_AUTH_NONE ? "none" : "keys"));
    put(o, "access_log", json_boolean(sc->access_log));
    put(o, "access_log_format", json_string(sc->access_log_json ? "json" : "plain"));
    put(o, "errors_include_sql", json_boolean(sc->errors_include_sql));
    put(o, "allow_unrestricted", json_boolean(sc->trusted_callers));
    for (size_t i = 0; i < sc->n_keys; i++) {
        json_t *k = api_key_conf(&sc->keys[i]);
        if (k != NULL) {
            json_array_append_new(keys, k);
        }
    }
    put(o, "api_keys", keys);
    return o;
}

static json_t *channel_conf(const struct cq_channel_conf *c)
{
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    put(o, "type", json_string(channel_kinds[c->kind]));
    put(o, "timeout", duration(c->timeout_ms));
    put(o, "retries", json_integer(c->retries));
    put(o, "backoff", duration(c->backoff_ms));
    put(o, "backoff_max", duration(c->backoff_max_ms));
    put(o, "max_rows", json_integer(c->max_rows));
    if (c->kind == CQ_CHANNEL_SLACK) {
        put(o, "webhook_url", secret(c->webhook_url)); /* the URL is the token */
    } else if (c->kind == CQ_CHANNEL_WEBHOOK) {
        json_t *h = json_object();
        put(o, "url", secret(c->url));
        for (size_t i = 0; h != NULL && i < c->n_headers; i++) {
            put(h, c->headers[i].name, json_string(HIDDEN));
        }
        put(o, "headers", h);
        put(o, "hmac_secret", secret(c->hmac_secret));
        put(o, "signature_header", str_or_null(c->signature_header));
    } else {
        put(o, "host", str_or_null(c->host));
        put(o, "port", json_integer(c->port));
        put(o, "tls", json_string(tls_modes[c->tls]));
        put(o, "username", str_or_null(c->username));
        put(o, "password", secret(c->password));
        put(o, "from", str_or_null(c->from));
        put(o, "to", str_list(c->to, c->n_to));
        put(o, "cc", str_list(c->cc, c->n_cc));
        put(o, "subject", str_or_null(c->subject));
    }
    return o;
}

static json_t *rule_conf(const struct cq_rule_conf *r)
{
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    put(o, "type", json_string(rule_types[r->type]));
    if (r->type == CQ_RULE_THRESHOLD || r->type == CQ_RULE_CHANGE) {
        put(o, "column", str_or_null(r->column));
        put(o, "op", json_string(cmp_ops[r->op]));
        put(o, "value", str_or_null(r->value_text));
    }
    if (r->type == CQ_RULE_THRESHOLD) {
        put(o, "row", json_string(rule_rows[r->row]));
    }
    if (r->type == CQ_RULE_CHANGE) {
        put(o, "percent", json_boolean(r->percent));
    }
    return o;
}

static json_t *alert_conf(const struct cq_alert_conf *a)
{
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    put(o, "id", json_string(a->id));
    put(o, "name", str_or_null(a->name));
    put(o, "connection", str_or_null(a->connection));
    put(o, "schedule", str_or_null(a->schedule));
    put(o, "timezone", str_or_null(a->timezone));
    if (a->sql_file != NULL) {
        put(o, "sql_file", json_string(a->sql_file));
    }
    put(o, "sql", str_or_null(a->sql));
    put(o, "params", str_list(a->params, a->n_params));
    put(o, "rule", rule_conf(&a->rule));
    put(o, "channels", str_list(a->channels, a->n_channels));
    put(o, "cooldown", duration(a->cooldown_ms));
    put(o, "notify_on", json_string(a->notify_on == CQ_NOTIFY_TRIGGER ? "trigger"
                                                                       : "trigger_and_resolve"));
    put(o, "enabled", json_boolean(a->enabled));
    put(o, "timeout", duration(a->timeout_ms));
    return o;
}

/* The whole effective configuration, secrets removed. NULL when out of memory. */
static json_t *config_json(const struct cq_conf *conf)
{
    json_t *o = json_object(), *chans = json_object(), *alerts = json_array();
    if (o == NULL || chans == NULL || alerts == NULL) {
        json_decref(o);
        json_decref(chans);
        json_decref(alerts);
        return NULL;
    }
    put(o, "path", str_or_null(conf->path));
    put(o, "files", str_list(conf->files, conf->n_files));
    put(o, "limits", limits_conf(&conf->limits));
    put(o, "connections", conns_conf(conf));
    put(o, "server", server_conf(&conf->server));
    put(o, "state", json_pack("{s:o,s:o,s:I}", "connection", str_or_null(conf->state.connection),
                              "path", str_or_null(conf->state.path), "retention_days",
                              (json_int_t)(conf->state.retention_ms / 86400000)));
    put(o, "scheduler", json_pack("{s:i,s:o}", "workers", conf->sched.workers,
                                  "shutdown_timeout", duration(conf->sched.shutdown_timeout_ms)));
    for (size_t i = 0; i < conf->n_channels; i++) {
        put(chans, conf->channels[i].name, channel_conf(&conf->channels[i]));
    }
    put(o, "channels", chans);
    for (size_t i = 0; i < conf->n_alerts; i++) {
        json_t *a = alert_conf(&conf->alerts[i]);
        if (a != NULL) {
            json_array_append_new(alerts, a);
        }
    }
    put(o, "alerts", alerts);
    /* the catalog and roles hold metadata only (names, types, grants): no secrets */
    put(o, "catalog", conf->catalog != NULL ? json_deep_copy(conf->catalog) : json_null());
    put(o, "catalog_connections",
        conf->catalog_conns != NULL ? json_deep_copy(conf->catalog_conns) : json_null());
    put(o, "roles", conf->roles != NULL ? json_deep_copy(conf->roles) : json_null());
    return o;
}

void cq_http_h_config(struct cq_http_req *req, struct cq_http_resp *resp)
{
    json_t *j = config_json(req->st->conf);
    if (j == NULL ||
        json_dump_callback(j, put_json, &resp->body, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0) {
        cq_http_resp_error(resp, 503, "OUT_OF_MEMORY", "out of memory");
    } else {
        resp->status = 200;
    }
    json_decref(j);
}
