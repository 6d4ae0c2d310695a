/*
 * fz_http_req.c - arbitrary bytes as an HTTP request to the governed API: the first line
 * is "METHOD PATH" (routed by the server's route table), the rest is the body given to
 * the handler of /validate/query or /validate/config (body guards, parsing, narrowing,
 * validation against the embedded demo catalog; nothing touches a database). Every answer
 * must be one JSON value with a status of spec §1.3, and a route miss the 404 body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The state every input runs on, built once (the fuzzer runs inputs one by one). */
static struct cq_http_state *state(void)
{
    static struct cq_http_state st;
    static bool ready;
    json_t *cfg_err = NULL;
    struct cq_err err = {0};

    if (ready) {
        return &st;
    }
    st.conf = cq_conf_demo(":memory:", &err);
    if (st.conf == NULL) {
        abort();
    }
    st.catalog = cq_dsl_catalog_new(st.conf->catalog, st.conf->roles, st.conf->catalog_conns,
                                    &cfg_err, &err);
    if (st.catalog == NULL) {
        abort(); /* the demo catalog is valid */
    }
    atomic_init(&st.refs, 1);
    ready = true;
    return &st;
}

static void check(const struct cq_http_resp *resp)
{
    static const int statuses[] = {200, 400, 404, 422, 500, 503};
    json_t *j = json_loadb(resp->body.p ? resp->body.p : "", resp->body.len, 0, NULL);
    bool known = false;
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        known = known || resp->status == statuses[i];
    }
    if (!known || !json_is_object(j)) {
        abort();
    }
    if (resp->status == 200 && !json_is_true(json_object_get(j, "valid"))) {
        abort();
    }
    if (resp->status != 200 && json_object_get(j, "code") == NULL &&
        (!json_is_string(json_object_get(j, "error")) ||
         !json_is_string(json_object_get(j, "message")) || json_object_size(j) != 2)) {
        abort(); /* a server-level error is exactly {"error","message"} */
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nl = memchr(text, '\n', size);
    size_t line = nl != NULL ? (size_t)(nl - text) : size;
    const char *sp = memchr(text, ' ', line);
    struct cq_http_req req;
    struct cq_http_resp resp;
    const struct cq_http_route *route;
    volatile bool canceled = false;
    char *method, *path, *body;

    if (sp == NULL) {
        return 0;
    }
    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    cq_arena_init(&req.arena, 4096, 0);
    cq_buf_init(&resp.body, 1 << 20);
    method = cq_arena_strndup(&req.arena, text, (size_t)(sp - text));
    path = cq_arena_strndup(&req.arena, sp + 1, line - (size_t)(sp - text) - 1);
    body = cq_arena_strndup(&req.arena, nl ? nl + 1 : "", nl ? size - line - 1 : 0);
    if (method == NULL || path == NULL || body == NULL) {
        abort();
    }
    req.st = state();
    req.method = method;
    req.path = path;
    req.query = "";
    req.body = body;
    req.body_len = nl ? size - line - 1 : 0;
    req.canceled = &canceled;
    route = cq_http_route_find(method, path, &req.arena, &req.path_param);
    if (route == NULL) {
        goto out; /* the server answers 404; nothing else may match */
    }
    if (strcmp(route->method, method) != 0) {
        abort();
    }
    if (strcmp(route->pattern, "/validate/query") == 0 ||
        strcmp(route->pattern, "/validate/config") == 0) {
        route->fn(&req, &resp);
        check(&resp);
    } else if (strchr(route->pattern, '{') == NULL && strcmp(route->pattern, path) != 0) {
        abort(); /* an exact route matched another path */
    }
out:
    cq_buf_cleanup(&resp.body);
    cq_arena_free(&req.arena);
    return 0;
}
