/*
 * test_dsl_parse.c - the governed query parser: filter kinds (spec §4.1), INVALID_QUERY
 * entries for wrong JSON types, the context, and numbers printed as JavaScript does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dsl/dsl.h"

struct fx {
    struct cq_arena a;
    struct cq_dsl_error e;
    json_t *doc;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    cq_arena_init(&f->a, 4096, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    cq_arena_free(&f->a);
    cq_dsl_error_cleanup(&f->e);
    json_decref(f->doc);
    free(f);
    return 0;
}

static json_t *load(struct fx *f, const char *text)
{
    json_decref(f->doc);
    f->doc = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(f->doc);
    return f->doc;
}

static struct cq_dsl_query *parse_ok(struct fx *f, const char *text)
{
    struct cq_dsl_query *q = NULL;
    assert_int_equal(cq_dsl_parse_query(&f->a, load(f, text), &q, &f->e), CQ_OK);
    assert_non_null(q);
    return q;
}

/* The error body as compact JSON. */
static char *error_json(struct fx *f)
{
    struct cq_buf b;
    cq_buf_init(&b, 1 << 16);
    cq_dsl_error_write(&f->e, &b);
    return cq_buf_take(&b);
}

static void test_filter_kinds(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_query *q = parse_ok(f, "{\"from\":\"orders\",\"filters\":["
                                          "{\"logic\":\"or\",\"not\":true,\"conditions\":["
                                          "{\"column\":\"a\",\"operator\":\"=\",\"value\":1}]},"
                                          "{\"table\":\"users\",\"count\":{\"operator\":\">=\","
                                          "\"value\":2}},"
                                          "{\"column\":\"a\",\"operator\":\">\",\"refColumn\":\"b\","
                                          "\"refTable\":\"users\"},"
                                          "{\"table\":\"users\",\"logic\":null,\"column\":\"id\",\"operator\":\"=\"},"
                                          "{\"logic\":\"and\",\"column\":\"a\",\"operator\":\"=\"},"
                                          "{\"column\":\"x\",\"operator\":\"isNull\"}]}");

    assert_int_equal(q->n_filters, 6);
    assert_int_equal(q->filters[0]->kind, CQ_DSL_F_GROUP);
    assert_true(q->filters[0]->negate);
    assert_string_equal(q->filters[0]->logic, "or");
    assert_int_equal(q->filters[0]->n_conds, 1);
    assert_string_equal(q->filters[0]->conds[0]->path, "/filters/0/conditions/0");
    assert_int_equal(q->filters[0]->conds[0]->value->kind, CQ_DSL_V_INT);

    assert_int_equal(q->filters[1]->kind, CQ_DSL_F_EXISTS);
    assert_true(q->filters[1]->exists);
    assert_true(q->filters[1]->has_count);
    assert_int_equal(q->filters[1]->op, CQ_DSL_OP_GE);
    assert_int_equal(q->filters[1]->value->i, 2);

    assert_int_equal(q->filters[2]->kind, CQ_DSL_F_COLUMN);
    assert_string_equal(q->filters[2]->ref_column, "b");
    assert_string_equal(q->filters[2]->ref_table, "users");

    /* "logic": null is present, so this is not an EXISTS (spec §4.1) */
    assert_int_equal(q->filters[3]->kind, CQ_DSL_F_VALUE);
    /* logic without conditions is not a group */
    assert_int_equal(q->filters[4]->kind, CQ_DSL_F_VALUE);
    assert_int_equal(q->filters[5]->op, CQ_DSL_OP_IS_NULL);
    assert_null(q->filters[5]->value);
}

static void test_definition_fields(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_query *q = parse_ok(
        f, "{\"from\":\"orders\",\"columns\":[],\"distinct\":true,"
           "\"joins\":[{\"table\":\"users\",\"type\":\"inner\",\"columns\":[\"email\"]}],"
           "\"groupBy\":[{\"column\":\"status\"}],\"aggregations\":[{\"column\":\"*\","
           "\"fn\":\"count\",\"alias\":\"n\"},{\"column\":\"x\",\"fn\":\"median\",\"alias\":\"m\"}],"
           "\"having\":[{\"column\":\"n\",\"operator\":\">\",\"value\":1}],"
           "\"orderBy\":[{\"column\":\"n\",\"direction\":\"desc\"},{\"column\":\"s\","
           "\"direction\":\"DESC\"}],\"limit\":-1,\"offset\":\"x\",\"freshness\":\"minutes\","
           "\"byIds\":[1,\"a\"],\"executeMode\":\"count\",\"debug\":true}");

    assert_true(q->has_columns);
    assert_int_equal(q->n_columns, 0);
    assert_true(q->distinct);
    assert_true(q->joins[0].inner);
    assert_string_equal(q->joins[0].columns[0], "email");
    assert_int_equal(q->aggs[0].fn, CQ_DSL_AGG_COUNT);
    assert_int_equal(q->aggs[1].fn, CQ_DSL_AGG_UNKNOWN);
    assert_string_equal(q->aggs[1].fn_text, "median");
    assert_true(q->order_by[0].desc);
    assert_false(q->order_by[1].desc); /* directions are exact: validation rejects "DESC" */
    assert_string_equal(q->order_by[1].direction, "DESC");
    assert_int_equal(q->limit->i, -1);
    assert_int_equal(q->offset->kind, CQ_DSL_V_STRING);
    assert_int_equal(q->freshness, CQ_DSL_FRESH_MINUTES);
    assert_int_equal(q->by_ids->n, 2);
    assert_int_equal(q->mode, CQ_DSL_MODE_COUNT);
    assert_true(q->debug);

    q = parse_ok(f, "{\"from\":\"orders\",\"executeMode\":\"whatever\"}");
    assert_int_equal(q->mode, CQ_DSL_MODE_EXECUTE); /* spec §4: behaves as execute */
    assert_false(q->has_columns);
}

static void test_wrong_types_are_listed(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_query *q = NULL;
    char *s;

    assert_int_equal(cq_dsl_parse_query(&f->a,
                                        load(f, "{\"from\":5,\"filters\":[7,{\"column\":[1],"
                                                "\"operator\":\"=\"}],\"columns\":\"id\","
                                                "\"joins\":[{\"table\":\"u\",\"type\":\"outer\"}]}"),
                                        &q, &f->e),
                     CQ_EINVAL);
    assert_null(q);
    assert_int_equal(f->e.cls, CQ_DSL_E_VALIDATION);
    assert_int_equal(cq_dsl_error_http_status(&f->e), 400);
    s = error_json(f);
    assert_string_equal(
        s, "{\"code\":\"VALIDATION_FAILED\",\"message\":\"Validation failed: 5 errors\","
           "\"errors\":["
           "{\"code\":\"INVALID_QUERY\",\"message\":\"'from' must be a string at /from\","
           "\"details\":{\"path\":\"/from\"}},"
           "{\"code\":\"INVALID_QUERY\",\"message\":\"'columns' must be an array at /columns\","
           "\"details\":{\"path\":\"/columns\"}},"
           "{\"code\":\"INVALID_QUERY\",\"message\":\"a filter must be an object at /filters/0\","
           "\"details\":{\"path\":\"/filters/0\"}},"
           "{\"code\":\"INVALID_QUERY\",\"message\":\"'column' must be a string at "
           "/filters/1/column\",\"details\":{\"path\":\"/filters/1/column\"}},"
           "{\"code\":\"INVALID_QUERY\",\"message\":\"'type' must be \\\"inner\\\" or \\\"left\\\" at "
           "/joins/0/type\",\"details\":{\"path\":\"/joins/0/type\"}}]}");
    free(s);
}

static void test_deep_nesting_is_refused(void **state)
{
    struct fx *f = *state;
    struct cq_buf b;
    struct cq_dsl_query *q = NULL;

    cq_buf_init(&b, 1 << 20);
    cq_buf_puts(&b, "{\"from\":\"orders\",\"filters\":[");
    for (int i = 0; i < 100; i++) {
        cq_buf_puts(&b, "{\"logic\":\"and\",\"conditions\":[");
    }
    for (int i = 0; i < 100; i++) {
        cq_buf_puts(&b, "]}");
    }
    cq_buf_puts(&b, "]}");
    assert_int_equal(cq_dsl_parse_query(&f->a, load(f, cq_buf_str(&b)), &q, &f->e), CQ_EINVAL);
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_array_get(json_object_get(f->e.body, "errors"), 0), "message")),
                           "nested too deeply"));
    cq_buf_cleanup(&b);
}

static void test_request_and_context(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_query *q = NULL;
    struct cq_dsl_context ctx;

    assert_int_equal(cq_dsl_parse_request(&f->a, load(f, "null"), false, &q, &ctx, &f->e),
                     CQ_EINVAL);
    assert_int_equal(f->e.cls, CQ_DSL_E_BODY);
    assert_string_equal(json_string_value(json_object_get(f->e.body, "message")),
                        "Request body must be an object with definition and context");

    assert_int_equal(
        cq_dsl_parse_request(&f->a,
                             load(f, "{\"definition\":{\"from\":\"orders\"},\"context\":{\"roles\":"
                                     "{\"user\":[\"a\",\"b\"],\"service\":[]},\"contextValues\":"
                                     "{\"tenantId\":\"t1\",\"regionIds\":[\"eu\"]}}}"),
                             false, &q, &ctx, &f->e),
        CQ_OK);
    assert_string_equal(q->from, "orders");
    assert_true(ctx.has_user);
    assert_int_equal(ctx.n_user, 2);
    assert_string_equal(ctx.user[1], "b");
    assert_true(ctx.has_service);
    assert_int_equal(ctx.n_service, 0);
    assert_int_equal(ctx.values->kind, CQ_DSL_V_OBJECT);
    assert_string_equal(ctx.values->keys[1], "regionIds");

    /* no context: a 500 in the reference; here an InternalError that says what to send */
    assert_int_equal(cq_dsl_parse_request(&f->a, load(f, "{\"definition\":{\"from\":\"x\"}}"),
                                          false, &q, &ctx, &f->e),
                     CQ_EINVAL);
    assert_int_equal(cq_dsl_error_http_status(&f->e), 500);

    /* the CLI takes a bare definition: no scope present, so nothing is restricted */
    assert_int_equal(cq_dsl_parse_request(&f->a, load(f, "{\"from\":\"x\"}"), true, &q, &ctx,
                                          &f->e),
                     CQ_OK);
    assert_false(ctx.has_user);
    assert_false(ctx.has_service);
}

static void check_number(struct fx *f, const char *json, const char *want)
{
    struct cq_buf b;
    const struct cq_dsl_val *v = cq_dsl_val_from_json(&f->a, load(f, json));

    assert_non_null(v);
    cq_buf_init(&b, 1024);
    cq_dsl_val_write(&b, v);
    assert_string_equal(cq_buf_str(&b), want);
    cq_buf_cleanup(&b);
}

static void test_numbers_print_like_javascript(void **state)
{
    struct fx *f = *state;

    check_number(f, "[1.0, 1.5, -2.25, 0.1, 100.0]", "[1,1.5,-2.25,0.1,100]");
    check_number(f, "[1e21, 1e20, 123456789012345680000.0]",
                 "[1e+21,100000000000000000000,123456789012345680000]");
    check_number(f, "[0.000001, 1e-7, 1.5e-10, 5e-324]", "[0.000001,1e-7,1.5e-10,5e-324]");
    check_number(f, "[1.7976931348623157e308, 0.30000000000000004]",
                 "[1.7976931348623157e+308,0.30000000000000004]");
    check_number(f, "[9007199254740993, -0.0, \"a\\u0001\\\"\", {\"k\":[true,null]}]",
                 "[9007199254740993,0,\"a\\u0001\\\"\",{\"k\":[true,null]}]");
}

static void test_operator_names_round_trip(void **state)
{
    (void)state;
    for (int op = 1; op < CQ_DSL_OP_COUNT_; op++) {
        assert_int_equal(cq_dsl_op_parse(cq_dsl_op_name((enum cq_dsl_op)op)), op);
    }
    assert_int_equal(cq_dsl_op_parse("IN"), CQ_DSL_OP_UNKNOWN); /* names are exact */
    assert_int_equal(cq_dsl_op_parse(NULL), CQ_DSL_OP_UNKNOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_filter_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_definition_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_types_are_listed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_nesting_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_and_context, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers_print_like_javascript, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operator_names_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
