/*
 * test_tmpl.c - message templates: what the check accepts and rejects (with the offset of
 * the offending "{{" and the exact message), and rendering through a callback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/tmpl.h"

static const char *const names[] = {"alert.id", "alert.name", "state", "value", NULL};

static void expect_ok(const char *text)
{
    struct cq_err err = {0};
    size_t off = 99;
    assert_int_equal(cq_tmpl_check(text, names, &off, &err), CQ_OK);
    assert_int_equal(off, 99); /* untouched */
    assert_string_equal(err.msg, "");
}

static void expect_bad(const char *text, size_t want_off, const char *want_msg)
{
    struct cq_err err = {0};
    size_t off = 99;
    assert_int_equal(cq_tmpl_check(text, names, &off, &err), CQ_EINVAL);
    assert_int_equal(err.rc, CQ_EINVAL);
    assert_int_equal(off, want_off);
    assert_string_equal(err.msg, want_msg);
}

static void test_check_accepts(void **state)
{
    (void)state;
    expect_ok("");
    expect_ok("no variables at all");
    expect_ok("{{alert.name}}");
    expect_ok("{{ alert.name }} is {{state}}: {{\tvalue\t}}");
    expect_ok("a single { brace and } are text");
    expect_ok("}} closing alone is text");
    expect_ok("{{alert.id}}{{alert.name}}");
}

static void test_check_rejects(void **state)
{
    (void)state;
    expect_bad("x {{alret.name}} y", 2,
               "unknown variable {{alret.name}} (did you mean {{alert.name}}?)");
    expect_bad("{{state}} {{ nothing_like_it }}", 10, "unknown variable {{nothing_like_it}}");
    expect_bad("{{}}", 0, "unknown variable {{}}");
    expect_bad("{{state}} and {{value", 14, "unclosed '{{'");
    /* no escape: "{{{{" opens a variable named "{{state" */
    expect_bad("{{{{state}}", 0, "unknown variable {{{{state}} (did you mean {{state}}?)");
    /* a very long name is cut in the message */
    char text[300];
    memset(text, 'x', sizeof(text));
    memcpy(text, "{{", 2);
    memcpy(text + 200, "}}", 3);
    struct cq_err err = {0};
    size_t off = 1;
    assert_int_equal(cq_tmpl_check(text, names, &off, &err), CQ_EINVAL);
    assert_int_equal(off, 0);
    assert_non_null(strstr(err.msg, "...}}"));
    assert_true(strlen(err.msg) < 120);
    /* bad_off and err may be NULL */
    assert_int_equal(cq_tmpl_check("{{nope}}", names, NULL, NULL), CQ_EINVAL);
}

/* Renders "<NAME>" for every variable, except "state" which is "ok". */
static void var(void *ctx, const char *name, size_t len, struct cq_buf *out)
{
    int *calls = ctx;
    (*calls)++;
    if (len == 5 && memcmp(name, "state", 5) == 0) {
        cq_buf_puts(out, "ok");
        return;
    }
    cq_buf_putc(out, '<');
    cq_buf_append(out, name, len);
    cq_buf_putc(out, '>');
}

static void expect_render(const char *text, const char *want, int want_calls)
{
    struct cq_buf out;
    int calls = 0;
    cq_buf_init(&out, 1024);
    cq_tmpl_render(text, var, &calls, &out);
    assert_int_equal(cq_buf_rc(&out), CQ_OK);
    assert_string_equal(cq_buf_str(&out), want);
    assert_int_equal(calls, want_calls);
    cq_buf_cleanup(&out);
}

static void test_render(void **state)
{
    (void)state;
    expect_render("", "", 0);
    expect_render("plain", "plain", 0);
    expect_render("{{alert.name}} is {{ state }}!", "<alert.name> is ok!", 2);
    expect_render("{{state}}{{state}}", "okok", 2);
    expect_render("a {{state}} b {{value", "a ok b {{value", 1);
    expect_render("{{ }}", "<>", 1);
}

static void test_render_errors_stick(void **state)
{
    (void)state;
    struct cq_buf out;
    int calls = 0;
    cq_buf_init(&out, 8);
    cq_tmpl_render("{{alert.name}} and more text", var, &calls, &out);
    assert_int_equal(cq_buf_rc(&out), CQ_ETOOBIG);
    cq_buf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_accepts),
        cmocka_unit_test(test_check_rejects),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_render_errors_stick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
