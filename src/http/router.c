/*
 * router.c - the route table: method + path (query string already cut at '?'), exact
 * match, no trailing-slash normalisation (spec §1.1), and {name} segments whose value
 * is URL-decoded for the handler. A miss is the caller's 404.
 */
#include <string.h>

#include "http/internal.h"

const struct cq_http_route cq_http_routes[] = {
    {"GET", "/health", cq_http_h_health, true, false, cq_http_s_health},
    {"POST", "/query", cq_http_h_query, false, false, cq_http_s_query},
    {"POST", "/validate/query", cq_http_h_validate_query, false, true, NULL},
    {"POST", "/validate/config", cq_http_h_validate_config, false, true, NULL},
    {"POST", "/sql", cq_http_h_sql, false, false, cq_http_s_sql},
    {"GET", "/connections", cq_http_h_connections, false, true, NULL},
    {"POST", "/connections/{name}/test", cq_http_h_connection_test, false, false, NULL},
    {"GET", "/ready", cq_http_h_ready, true, false, NULL},
    {"GET", "/metrics", cq_http_h_metrics, false, true, NULL},
    {"GET", "/config", cq_http_h_config, false, true, NULL},
    {NULL, NULL, NULL, false, false, NULL},
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* %XX decoding of one segment into the arena; NULL on ENOMEM or a NUL byte. */
static const char *decode(struct cq_arena *a, const char *s, size_t len)
{
    char *out = cq_arena_alloc(a, len + 1);
    size_t n = 0;
    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        int hi = s[i] == '%' && i + 2 < len ? hexval(s[i + 1]) : -1;
        int lo = hi >= 0 ? hexval(s[i + 2]) : -1;
        if (lo >= 0) {
            out[n] = (char)(hi * 16 + lo);
            if (out[n] == '\0') {
                return NULL;
            }
            n++;
            i += 2;
        } else {
            out[n++] = s[i];
        }
    }
    out[n] = '\0';
    return out;
}

/* Matches path against a pattern with at most one {param} segment. */
static bool match(const char *pattern, const char *path, struct cq_arena *a,
                  const char **param)
{
    const char *open = strchr(pattern, '{');
    const char *close, *seg_end;
    size_t pre;

    if (open == NULL) {
        return strcmp(pattern, path) == 0;
    }
    pre = (size_t)(open - pattern);
    close = strchr(open, '}');
    if (close == NULL || strncmp(pattern, path, pre) != 0) {
        return false;
    }
    seg_end = strchr(path + pre, '/');
    if (seg_end == NULL) {
        seg_end = path + strlen(path);
    }
    if (seg_end == path + pre || strcmp(close + 1, seg_end) != 0) {
        return false; /* an empty segment, or the rest differs */
    }
    *param = decode(a, path + pre, (size_t)(seg_end - (path + pre)));
    return *param != NULL;
}

const struct cq_http_route *cq_http_route_find(const char *method, const char *path,
                                               struct cq_arena *a, const char **param)
{
    *param = NULL;
    for (const struct cq_http_route *r = cq_http_routes; r->fn != NULL; r++) {
        if (strcmp(r->method, method) == 0 && match(r->pattern, path, a, param)) {
            return r;
        }
    }
    return NULL;
}
