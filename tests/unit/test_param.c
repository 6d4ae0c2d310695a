/* test_param.c - cq_drv_param_parse (CLI values) and cq_drv_params_json (JSON arrays). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/arena.h"
#include "drv/param.h"

struct fx {
    struct cq_arena a;
    struct cq_err err;
};

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    cq_arena_init(&fx->a, 1024, 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    cq_arena_free(&fx->a);
    free(fx);
    return 0;
}

/* Parses arg and checks type, text and explicit flag. */
static void expect(void **state, const char *arg, enum cq_ptype type, const char *text,
                   bool explicit_type)
{
    struct fx *fx = *state;
    struct cq_param p;
    cq_err_clear(&fx->err);
    int rc = cq_drv_param_parse(&fx->a, arg, &p, &fx->err);
    if (rc != CQ_OK) {
        fail_msg("'%s': unexpected error: %s", arg, fx->err.msg);
    }
    if (p.type != type) {
        fail_msg("'%s': type %d, expected %d", arg, (int)p.type, (int)type);
    }
    assert_int_equal(p.explicit_type, explicit_type);
    if (text == NULL) {
        assert_null(p.text);
        assert_int_equal(p.len, 0);
    } else {
        assert_non_null(p.text);
        assert_string_equal(p.text, text);
        assert_int_equal(p.len, strlen(text));
        assert_ptr_not_equal(p.text, arg); /* copied into the arena */
    }
}

/* Parses arg and expects CQ_EINVAL with exactly msg. */
static void expect_error(void **state, const char *arg, const char *msg)
{
    struct fx *fx = *state;
    struct cq_param p;
    cq_err_clear(&fx->err);
    assert_int_equal(cq_drv_param_parse(&fx->a, arg, &p, &fx->err), CQ_EINVAL);
    assert_string_equal(fx->err.msg, msg);
}

static void test_infer_null(void **state)
{
    expect(state, "null", CQ_P_NULL, NULL, false);
    expect(state, "NULL", CQ_P_TEXT, "NULL", false);
}

static void test_infer_int(void **state)
{
    expect(state, "42", CQ_P_INT, "42", false);
    expect(state, "-7", CQ_P_INT, "-7", false);
    expect(state, "+5", CQ_P_INT, "+5", false);
    expect(state, "007", CQ_P_INT, "007", false);
    expect(state, "9223372036854775807", CQ_P_INT, "9223372036854775807", false);
    expect(state, "-9223372036854775808", CQ_P_INT, "-9223372036854775808", false);
}

static void test_infer_numeric(void **state)
{
    expect(state, "3.14", CQ_P_NUMERIC, "3.14", false);
    expect(state, "-0.5", CQ_P_NUMERIC, "-0.5", false);
    expect(state, "1e5", CQ_P_NUMERIC, "1e5", false);
    expect(state, "2.5E-3", CQ_P_NUMERIC, "2.5E-3", false);
    expect(state, ".5", CQ_P_NUMERIC, ".5", false);
    expect(state, "5.", CQ_P_NUMERIC, "5.", false);
    /* Integers beyond int64 stay exact as numeric. */
    expect(state, "9223372036854775808", CQ_P_NUMERIC, "9223372036854775808", false);
    expect(state, "-12345678901234567890123", CQ_P_NUMERIC, "-12345678901234567890123", false);
}

static void test_infer_bool(void **state)
{
    expect(state, "true", CQ_P_BOOL, "true", false);
    expect(state, "false", CQ_P_BOOL, "false", false);
    expect(state, "True", CQ_P_TEXT, "True", false);
    expect(state, "yes", CQ_P_TEXT, "yes", false);
}

static void test_infer_text(void **state)
{
    expect(state, "abc", CQ_P_TEXT, "abc", false);
    expect(state, "", CQ_P_TEXT, "", false);
    expect(state, " 42", CQ_P_TEXT, " 42", false);
    expect(state, "42 ", CQ_P_TEXT, "42 ", false);
    expect(state, "1.2.3", CQ_P_TEXT, "1.2.3", false);
    expect(state, "-", CQ_P_TEXT, "-", false);
    expect(state, ".", CQ_P_TEXT, ".", false);
    expect(state, "e5", CQ_P_TEXT, "e5", false);
    expect(state, "1e", CQ_P_TEXT, "1e", false);
    expect(state, "0x1F", CQ_P_TEXT, "0x1F", false);
    expect(state, "été", CQ_P_TEXT, "été", false);
}

static void test_unknown_prefix_is_text(void **state)
{
    expect(state, "http://x", CQ_P_TEXT, "http://x", false);
    expect(state, "foo:42", CQ_P_TEXT, "foo:42", false);
    expect(state, "1:2", CQ_P_TEXT, "1:2", false);
    expect(state, ":42", CQ_P_TEXT, ":42", false);
    expect(state, "texts:a", CQ_P_TEXT, "texts:a", false);
}

static void test_explicit_int(void **state)
{
    expect(state, "int:42", CQ_P_INT, "42", true);
    expect(state, "integer:-1", CQ_P_INT, "-1", true);
    expect(state, "bigint:9223372036854775807", CQ_P_INT, "9223372036854775807", true);
    expect(state, "INT:5", CQ_P_INT, "5", true);
    expect_error(state, "int:abc", "'abc' is not a valid int (expected digits, e.g. int:42)");
    expect_error(state, "bigint:1.5",
                 "'1.5' is not a valid bigint (expected digits, e.g. bigint:42)");
    expect_error(state, "int:", "'' is not a valid int (expected digits, e.g. int:42)");
    expect_error(state, "int: 1", "' 1' is not a valid int (expected digits, e.g. int:42)");
    expect_error(state, "int:9223372036854775808",
                 "'9223372036854775808' is out of range for int (expected "
                 "-9223372036854775808..9223372036854775807)");
}

static void test_explicit_float(void **state)
{
    expect(state, "float:3.5", CQ_P_FLOAT, "3.5", true);
    expect(state, "double:-1e10", CQ_P_FLOAT, "-1e10", true);
    expect(state, "float:1e-400", CQ_P_FLOAT, "1e-400", true); /* underflow is finite */
    expect(state, "float:7", CQ_P_FLOAT, "7", true);
    expect_error(state, "float:1e999",
                 "'1e999' is out of range for float (expected a finite number, e.g. float:3.5)");
    expect_error(state, "float:nan",
                 "'nan' is not a valid float (expected a finite number, e.g. float:3.5)");
    expect_error(state, "double:inf",
                 "'inf' is not a valid double (expected a finite number, e.g. double:3.5)");
    expect_error(state, "float:0x10",
                 "'0x10' is not a valid float (expected a finite number, e.g. float:3.5)");
}

static void test_explicit_numeric(void **state)
{
    expect(state, "numeric:12.50", CQ_P_NUMERIC, "12.50", true);
    expect(state, "decimal:1e-3", CQ_P_NUMERIC, "1e-3", true);
    expect(state, "numeric:12345678901234567890123", CQ_P_NUMERIC, "12345678901234567890123",
           true);
    expect_error(state, "numeric:abc",
                 "'abc' is not a valid numeric (expected a decimal number, e.g. numeric:12.50)");
    expect_error(state, "decimal:1,5",
                 "'1,5' is not a valid decimal (expected a decimal number, e.g. decimal:12.50)");
}

static void test_explicit_text(void **state)
{
    expect(state, "text:007", CQ_P_TEXT, "007", true);
    expect(state, "text:null", CQ_P_TEXT, "null", true);
    expect(state, "text:", CQ_P_TEXT, "", true);
    expect(state, "text:a:b", CQ_P_TEXT, "a:b", true);
    expect(state, "text:true", CQ_P_TEXT, "true", true);
}

static void test_explicit_bool(void **state)
{
    static const char *const yes[] = {"true", "t", "yes", "on", "1", "TRUE", "Yes", "ON"};
    static const char *const no[] = {"false", "f", "no", "off", "0", "FALSE", "No", "Off"};
    char arg[32];
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        snprintf(arg, sizeof(arg), "bool:%s", yes[i]);
        expect(state, arg, CQ_P_BOOL, "true", true);
        snprintf(arg, sizeof(arg), "boolean:%s", no[i]);
        expect(state, arg, CQ_P_BOOL, "false", true);
    }
    expect_error(state, "bool:maybe",
                 "'maybe' is not a valid bool (expected true/false/t/f/yes/no/on/off/1/0, e.g. "
                 "bool:true)");
    expect_error(state, "bool:",
                 "'' is not a valid bool (expected true/false/t/f/yes/no/on/off/1/0, e.g. "
                 "bool:true)");
}

static void test_explicit_json(void **state)
{
    expect(state, "json:{\"a\": 1}", CQ_P_JSON, "{\"a\": 1}", true);
    expect(state, "json:[1, 2.50]", CQ_P_JSON, "[1, 2.50]", true);
    expect(state, "json:\"s\"", CQ_P_JSON, "\"s\"", true);
    expect(state, "json:42", CQ_P_JSON, "42", true);
    expect(state, "json:null", CQ_P_JSON, "null", true);
    expect_error(state, "json:{x",
                 "'{x' is not a valid json (expected a JSON value, e.g. json:{\"a\":1}; column "
                 "2: string or '}' expected near 'x')");
    expect_error(state, "json:",
                 "'' is not a valid json (expected a JSON value, e.g. json:{\"a\":1}; column "
                 "0: unexpected token near end of file)");
}

static void test_explicit_date(void **state)
{
    expect(state, "date:2024-01-31", CQ_P_DATE, "2024-01-31", true);
    expect(state, "date:2024-02-29", CQ_P_DATE, "2024-02-29", true);
    expect(state, "date:2000-02-29", CQ_P_DATE, "2000-02-29", true);
    expect(state, "date:0001-12-31", CQ_P_DATE, "0001-12-31", true);
    static const char *const bad[] = {"2023-02-29", "1900-02-29", "2024-13-01", "2024-00-10",
                                      "2024-04-31", "2024-01-00", "0000-01-01", "2024-1-1",
                                      "2024-01-01x", "24-01-01",  "2024/01/01", ""};
    char arg[64], msg[160];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(arg, sizeof(arg), "date:%s", bad[i]);
        snprintf(msg, sizeof(msg),
                 "'%s' is not a valid date (expected YYYY-MM-DD, e.g. date:2024-01-31)", bad[i]);
        expect_error(state, arg, msg);
    }
}

static void test_explicit_timestamp(void **state)
{
    static const char *const good[] = {
        "2024-01-31T12:00:00Z",         "2024-01-31 12:00",
        "2024-01-31T12:00:00.123456+05:30", "2024-01-31t23:59:60-08",
        "2024-01-31 12:00:00+0530",     "2024-01-31T00:00:00.5z",
    };
    char arg[80], msg[256];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(arg, sizeof(arg), "timestamp:%s", good[i]);
        expect(state, arg, CQ_P_TIMESTAMP, good[i], true);
    }
    static const char *const bad[] = {
        "2024-01-31",          "2024-01-31T24:00:00",   "2024-01-31T12:60",
        "2024-01-31T12:00:00.", "2024-01-31T12:00:00+25:00", "2024-01-31T12:00:00Zx",
        "2024-01-31X12:00",    "2024-02-30T12:00:00",   "2024-01-31T1:00",
        "2024-01-31T12:00:00+05:3",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(arg, sizeof(arg), "timestamp:%s", bad[i]);
        snprintf(msg, sizeof(msg),
                 "'%s' is not a valid timestamp (expected YYYY-MM-DD hh:mm[:ss[.fff]][Z|+hh:mm], "
                 "'T' or a space between, e.g. timestamp:2024-01-31T12:00:00Z)",
                 bad[i]);
        expect_error(state, arg, msg);
    }
}

static void test_long_value_in_error_is_cut(void **state)
{
    char arg[200];
    memcpy(arg, "int:", 4);
    memset(arg + 4, 'x', 100);
    arg[104] = '\0';
    expect_error(state, arg,
                 "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is not a valid int "
                 "(expected digits, e.g. int:42)");
}

/* ---- JSON arrays ---- */

static struct cq_param *parse_json(void **state, const char *json, size_t *n)
{
    struct fx *fx = *state;
    struct cq_param *ps = NULL;
    cq_err_clear(&fx->err);
    int rc = cq_drv_params_json(&fx->a, json, &ps, n, &fx->err);
    if (rc != CQ_OK) {
        fail_msg("%s: unexpected error: %s", json, fx->err.msg);
    }
    return ps;
}

static void expect_json_error(void **state, const char *json, const char *msg)
{
    struct fx *fx = *state;
    struct cq_param *ps = NULL;
    size_t n = 99;
    cq_err_clear(&fx->err);
    assert_int_not_equal(cq_drv_params_json(&fx->a, json, &ps, &n, &fx->err), CQ_OK);
    assert_string_equal(fx->err.msg, msg);
    assert_null(ps);
    assert_int_equal(n, 0);
}

static void check(const struct cq_param *p, enum cq_ptype type, const char *text)
{
    assert_int_equal(p->type, type);
    assert_false(p->explicit_type);
    if (text == NULL) {
        assert_null(p->text);
        return;
    }
    assert_string_equal(p->text, text);
    assert_int_equal(p->len, strlen(text));
}

static void test_json_scalars(void **state)
{
    size_t n;
    struct cq_param *ps =
        parse_json(state, " [1, \"a\", null, true, false, -7, \"\", \"caf\\u00e9\\n\"] ", &n);
    assert_int_equal(n, 8);
    check(&ps[0], CQ_P_INT, "1");
    check(&ps[1], CQ_P_TEXT, "a");
    check(&ps[2], CQ_P_NULL, NULL);
    check(&ps[3], CQ_P_BOOL, "true");
    check(&ps[4], CQ_P_BOOL, "false");
    check(&ps[5], CQ_P_INT, "-7");
    check(&ps[6], CQ_P_TEXT, "");
    check(&ps[7], CQ_P_TEXT, "caf\xc3\xa9\n");
}

static void test_json_exact_digits(void **state)
{
    size_t n;
    struct cq_param *ps = parse_json(
        state, "[1.10, 12345678901234567890, -0.0e+5, 9223372036854775807, 0.1, 1E2]", &n);
    assert_int_equal(n, 6);
    check(&ps[0], CQ_P_NUMERIC, "1.10");
    check(&ps[1], CQ_P_NUMERIC, "12345678901234567890");
    check(&ps[2], CQ_P_NUMERIC, "-0.0e+5");
    check(&ps[3], CQ_P_INT, "9223372036854775807");
    check(&ps[4], CQ_P_NUMERIC, "0.1");
    check(&ps[5], CQ_P_NUMERIC, "1E2");
}

static void test_json_nested(void **state)
{
    size_t n;
    struct cq_param *ps = parse_json(
        state,
        "[ {\"b\" : [1, 2.50, {\"c\": \"x y\"}]},\n [ ], {\"a\\\"b\": \"c\\\\\"}, [[1]] ]",
        &n);
    assert_int_equal(n, 4);
    check(&ps[0], CQ_P_JSON, "{\"b\":[1,2.50,{\"c\":\"x y\"}]}");
    check(&ps[1], CQ_P_JSON, "[]");
    check(&ps[2], CQ_P_JSON, "{\"a\\\"b\":\"c\\\\\"}");
    check(&ps[3], CQ_P_JSON, "[[1]]");
}

static void test_json_empty_array(void **state)
{
    size_t n = 5;
    parse_json(state, "[]", &n);
    assert_int_equal(n, 0);
}

static void test_json_not_array(void **state)
{
    expect_json_error(state, "{\"a\": 1}", "expected a JSON array of values, got an object");
    expect_json_error(state, "\"x\"", "expected a JSON array of values, got a string");
    expect_json_error(state, "42", "expected a JSON array of values, got a number");
    expect_json_error(state, "null", "expected a JSON array of values, got null");
    expect_json_error(state, "true", "expected a JSON array of values, got a boolean");
}

static void test_json_bad_with_position(void **state)
{
    expect_json_error(state, "[1,", "line 1 column 3: ']' expected near end of file");
    expect_json_error(state, "[1,\n 2,\n x]", "line 3 column 2: invalid token near 'x'");
    expect_json_error(state, "", "expected a JSON array of values, got nothing");
    expect_json_error(state, " \n", "expected a JSON array of values, got nothing");
    expect_json_error(state, "[1] x", "line 1 column 5: end of file expected near 'x'");
    expect_json_error(state, "[\"a\\u0000b\"]",
                      "line 1 column 11: strings must not contain \\u0000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_infer_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_infer_int, setup, teardown),
        cmocka_unit_test_setup_teardown(test_infer_numeric, setup, teardown),
        cmocka_unit_test_setup_teardown(test_infer_bool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_infer_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_prefix_is_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_int, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_float, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_numeric, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_bool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_date, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_timestamp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_value_in_error_is_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_scalars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_exact_digits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_empty_array, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_not_array, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_bad_with_position, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
