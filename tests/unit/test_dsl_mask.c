/* test_dsl_mask.c - the masking functions of spec §10.4, on Unicode code points (§0.7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "dsl/dsl.h"

/* Masks s with fn and checks the JSON written and the return value. */
static void check(enum cq_dsl_mask fn, const char *s, size_t len, const char *want_json,
                  bool want_string)
{
    struct cq_buf b;
    cq_buf_init(&b, 1 << 16);
    bool got = cq_dsl_mask(fn, s, len, &b);
    assert_int_equal(cq_buf_rc(&b), CQ_OK);
    if (strcmp(cq_buf_str(&b), want_json) != 0) {
        fail_msg("mask(%d, '%.*s') = %s, want %s", (int)fn, (int)len, s, cq_buf_str(&b),
                 want_json);
    }
    assert_int_equal(got, want_string);
    cq_buf_cleanup(&b);
}

#define M(fn, s, want) check(fn, s, strlen(s), want, true)

static void test_email(void **state)
{
    (void)state;
    M(CQ_DSL_MASK_EMAIL, "alice@example.com", "\"a***@***.com\"");
    M(CQ_DSL_MASK_EMAIL, "a.b@mail.example.co.uk", "\"a***@***.uk\"");
    M(CQ_DSL_MASK_EMAIL, "no-at-sign", "\"***\"");
    M(CQ_DSL_MASK_EMAIL, "@example.com", "\"***\"");       /* @ at index 0 */
    M(CQ_DSL_MASK_EMAIL, "bob@localhost", "\"b***@***\""); /* no dot in the domain */
    M(CQ_DSL_MASK_EMAIL, "bob@.com", "\"b***@***\"");      /* last dot at index 0 */
    M(CQ_DSL_MASK_EMAIL, "bob@x.", "\"b***@***.\"");
    M(CQ_DSL_MASK_EMAIL, "a@b@c.org", "\"a***@***.org\""); /* domain after the first @ */
    M(CQ_DSL_MASK_EMAIL, "", "\"***\"");
    /* the first character is a whole code point, not a byte or UTF-16 unit */
    M(CQ_DSL_MASK_EMAIL, "\xc3\xa9lise@exemple.fr", "\"\xc3\xa9***@***.fr\"");
    M(CQ_DSL_MASK_EMAIL, "\xf0\x9f\x98\x80x@y.io", "\"\xf0\x9f\x98\x80***@***.io\"");
    M(CQ_DSL_MASK_EMAIL, "\"q\"@x.com", "\"\\\"***@***.com\""); /* JSON escaping */
}

static void test_phone(void **state)
{
    (void)state;
    M(CQ_DSL_MASK_PHONE, "+1234567890", "\"+1***890\"");
    M(CQ_DSL_MASK_PHONE, "(555) 123-4567", "\"5***567\"");
    M(CQ_DSL_MASK_PHONE, "1234", "\"1***234\"");
    M(CQ_DSL_MASK_PHONE, "123", "\"***\"");
    M(CQ_DSL_MASK_PHONE, "+12", "\"***\"");
    M(CQ_DSL_MASK_PHONE, "no digits", "\"***\"");
    M(CQ_DSL_MASK_PHONE, " +49 30 1234567", "\"4***567\""); /* '+' only when first */
    /* Arabic-Indic digits are no digits for the reference's \d (ASCII only) */
    M(CQ_DSL_MASK_PHONE, "\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4", "\"***\"");
}

static void test_name(void **state)
{
    (void)state;
    M(CQ_DSL_MASK_NAME, "Alice", "\"A***e\"");
    M(CQ_DSL_MASK_NAME, "Bob", "\"B*b\"");
    M(CQ_DSL_MASK_NAME, "Al", "\"***\"");
    M(CQ_DSL_MASK_NAME, "A", "\"***\"");
    M(CQ_DSL_MASK_NAME, "", "\"***\"");
    M(CQ_DSL_MASK_NAME, "Zo\xc3\xab", "\"Z*\xc3\xab\"");            /* Zoë: 3 code points */
    M(CQ_DSL_MASK_NAME, "\xe6\x9d\x8e\xe9\x9b\xb7", "\"***\"");     /* 李雷: 2 code points */
    M(CQ_DSL_MASK_NAME, "Jos\xc3\xa9 \xc3\x81lvarez", "\"J**********z\""); /* 12 points */
    /* non-BMP: one code point each (UTF-16 would count two units and split them) */
    M(CQ_DSL_MASK_NAME, "\xf0\x9f\x98\x80" "ab\xf0\x9f\x98\x81",
      "\"\xf0\x9f\x98\x80**\xf0\x9f\x98\x81\"");
    /* invalid bytes count as one character and come out as U+FFFD */
    M(CQ_DSL_MASK_NAME, "\xff" "ab\xfe", "\"\\ufffd**\\ufffd\"");
}

static void test_uuid(void **state)
{
    (void)state;
    M(CQ_DSL_MASK_UUID, "0000abcd-1111-2222-3333-444455556666", "\"0000****\"");
    M(CQ_DSL_MASK_UUID, "abcd", "\"****\"");
    M(CQ_DSL_MASK_UUID, "abc", "\"****\"");
    M(CQ_DSL_MASK_UUID, "abcde", "\"abcd****\"");
    M(CQ_DSL_MASK_UUID, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x83\x86\xe3\x82\xad",
      "\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x83\x86****\""); /* 日本語テキ */
}

static void test_number(void **state)
{
    (void)state;
    check(CQ_DSL_MASK_NUMBER, "123.45", 6, "0", false);
    check(CQ_DSL_MASK_NUMBER, "abc", 3, "0", false);
    check(CQ_DSL_MASK_NUMBER, "", 0, "0", false);
}

static void test_date(void **state)
{
    (void)state;
    M(CQ_DSL_MASK_DATE, "2024-02-20", "\"2024-01-01\"");
    M(CQ_DSL_MASK_DATE, "1987-06-05T10:00:00.000Z", "\"1987-01-01\"");
    M(CQ_DSL_MASK_DATE, "19870605", "\"1987-01-01\"");
    M(CQ_DSL_MASK_DATE, "x2024-02-20", "\"***\"");
    M(CQ_DSL_MASK_DATE, "202", "\"***\"");
    M(CQ_DSL_MASK_DATE, "", "\"***\"");
}

static void test_full(void **state)
{
    (void)state;
    M(CQ_DSL_MASK_FULL, "secret", "\"***\"");
    M(CQ_DSL_MASK_FULL, "", "\"***\"");
    /* a masked column without maskingFn is masked with "full" */
    M(CQ_DSL_MASK_NONE, "secret", "\"***\"");
}

static void test_embedded_nul_and_appending(void **state)
{
    struct cq_buf b;
    (void)state;
    /* len, not NUL, ends the value; output is appended to what is already there */
    cq_buf_init(&b, 1024);
    cq_buf_puts(&b, "[");
    assert_true(cq_dsl_mask(CQ_DSL_MASK_NAME, "ab\0cd", 5, &b));
    cq_buf_puts(&b, ",");
    assert_false(cq_dsl_mask(CQ_DSL_MASK_NUMBER, "7", 1, &b));
    cq_buf_puts(&b, "]");
    assert_string_equal(cq_buf_str(&b), "[\"a***d\",0]");
    cq_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_phone),
        cmocka_unit_test(test_name),
        cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_number),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_embedded_nul_and_appending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
