/*
 * test_http_router.c - the route table (spec §1.1): exact method + path, no trailing-slash
 * normalisation, {name} segments URL-decoded; and the rc -> HTTP status table of resp.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "http/internal.h"

static const struct cq_http_route *find(struct cq_arena *a, const char *method,
                                        const char *path, const char **param)
{
    return cq_http_route_find(method, path, a, param);
}

static void every_route_matches_itself_only_with_its_method(void **state)
{
    struct cq_arena a;
    const char *param;
    (void)state;
    cq_arena_init(&a, 1024, 0);
    for (const struct cq_http_route *r = cq_http_routes; r->fn != NULL; r++) {
        const char *other = strcmp(r->method, "GET") == 0 ? "POST" : "GET";
        if (strchr(r->pattern, '{') != NULL) {
            continue;
        }
        assert_ptr_equal(find(&a, r->method, r->pattern, &param), r);
        assert_null(param);
        /* a wrong method is a miss (the caller's 404), unless the table lists both */
        for (const struct cq_http_route *o = cq_http_routes; o->fn != NULL; o++) {
            assert_false(o != r && strcmp(o->pattern, r->pattern) == 0 &&
                         strcmp(o->method, r->method) == 0); /* no duplicates */
        }
        if (find(&a, other, r->pattern, &param) != NULL) {
            assert_string_equal(find(&a, other, r->pattern, &param)->method, other);
        }
    }
    cq_arena_free(&a);
}

static void exact_paths_only(void **state)
{
    struct cq_arena a;
    const char *param;
    (void)state;
    cq_arena_init(&a, 1024, 0);
    assert_non_null(find(&a, "GET", "/health", &param));
    assert_null(find(&a, "GET", "/health/", &param));
    assert_null(find(&a, "GET", "/Health", &param));
    assert_null(find(&a, "GET", "//health", &param));
    assert_null(find(&a, "PUT", "/query", &param));
    assert_null(find(&a, "post", "/query", &param));
    assert_null(find(&a, "POST", "/query/", &param));
    assert_null(find(&a, "POST", "", &param));
    assert_true(find(&a, "GET", "/health", &param)->no_auth);
    assert_false(find(&a, "POST", "/query", &param)->no_auth);
    cq_arena_free(&a);
}

static void name_segments_are_decoded(void **state)
{
    struct cq_arena a;
    const char *param = NULL;
    const struct cq_http_route *r;
    (void)state;
    cq_arena_init(&a, 1024, 0);
    r = find(&a, "POST", "/connections/main/test", &param);
    assert_non_null(r);
    assert_string_equal(r->pattern, "/connections/{name}/test");
    assert_string_equal(param, "main");
    assert_non_null(find(&a, "POST", "/connections/my%20db%2Fx/test", &param));
    assert_string_equal(param, "my db/x");
    assert_non_null(find(&a, "POST", "/connections/bad%zz%4/test", &param));
    assert_string_equal(param, "bad%zz%4"); /* invalid escapes stay as written */
    assert_null(find(&a, "POST", "/connections//test", &param));      /* empty segment */
    assert_null(find(&a, "POST", "/connections/a/b/test", &param));   /* two segments */
    assert_null(find(&a, "POST", "/connections/a/test/", &param));
    assert_null(find(&a, "POST", "/connections/nul%00/test", &param)); /* NUL refused */
    assert_null(find(&a, "GET", "/connections/main/test", &param));
    cq_arena_free(&a);
}

static void rc_to_status(void **state)
{
    (void)state;
    assert_int_equal(cq_http_status_for_rc(CQ_OK), 200);
    assert_int_equal(cq_http_status_for_rc(CQ_EINVAL), 400);
    assert_int_equal(cq_http_status_for_rc(CQ_EAUTH), 401);
    assert_int_equal(cq_http_status_for_rc(CQ_ENOTFOUND), 404);
    assert_int_equal(cq_http_status_for_rc(CQ_ETOOBIG), 413);
    assert_int_equal(cq_http_status_for_rc(CQ_ENOMEM), 503);
    assert_int_equal(cq_http_status_for_rc(CQ_EBUSY), 503);
    assert_int_equal(cq_http_status_for_rc(CQ_ETIMEOUT), 504);
    assert_int_equal(cq_http_status_for_rc(CQ_EINTERNAL), 500);
}

static void error_body_is_escaped_json(void **state)
{
    struct cq_http_resp resp = {0};
    json_t *j;
    (void)state;
    cq_buf_init(&resp.body, 4096);
    cq_buf_puts(&resp.body, "garbage from before");
    cq_http_resp_error(&resp, 404, "NotFound", "GET /a\"b\\c not found");
    assert_int_equal(resp.status, 404);
    j = json_loads(cq_buf_str(&resp.body), 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "message")),
                        "GET /a\"b\\c not found");
    assert_string_equal(cq_buf_str(&resp.body),
                        "{\"error\":\"NotFound\",\"message\":\"GET /a\\\"b\\\\c not found\"}");
    json_decref(j);
    cq_buf_cleanup(&resp.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_route_matches_itself_only_with_its_method),
        cmocka_unit_test(exact_paths_only),
        cmocka_unit_test(name_segments_are_decoded),
        cmocka_unit_test(rc_to_status),
        cmocka_unit_test(error_body_is_escaped_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
