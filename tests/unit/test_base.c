/* test_base.c - buffers, arena, errors, string parsers, JSON escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/arena.h"
#include "base/hash.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"

static void buf_grows_and_stays_terminated(void **state)
{
    (void)state;
    struct cq_buf b;
    cq_buf_init(&b, 1000);
    assert_string_equal(cq_buf_str(&b), "");
    for (int i = 0; i < 100; i++) {
        cq_buf_putc(&b, 'x');
    }
    cq_buf_printf(&b, "[%d|%s]", 42, "ok");
    assert_int_equal(cq_buf_rc(&b), CQ_OK);
    assert_int_equal(b.len, 107);
    assert_int_equal(b.p[b.len], '\0');
    assert_string_equal(b.p + 100, "[42|ok]");
    cq_buf_cleanup(&b);
}

static void buf_put_i64_is_printf_d(void **state)
{
    static const int64_t v[] = {0, 7, -7, 10, 1234567890123LL, INT64_MAX, INT64_MIN, -1};
    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct cq_buf b;
        char want[32];
        cq_buf_init(&b, 64);
        cq_buf_put_i64(&b, v[i]);
        snprintf(want, sizeof(want), "%lld", (long long)v[i]);
        assert_string_equal(cq_buf_str(&b), want);
        cq_buf_cleanup(&b);
    }
}

static void buf_cap_is_sticky(void **state)
{
    (void)state;
    struct cq_buf b;
    cq_buf_init(&b, 10);
    cq_buf_puts(&b, "0123456789");
    assert_int_equal(cq_buf_rc(&b), CQ_OK);
    cq_buf_putc(&b, 'x');
    assert_int_equal(cq_buf_rc(&b), CQ_ETOOBIG);
    cq_buf_puts(&b, "y"); /* ignored after the first failure */
    assert_string_equal(cq_buf_str(&b), "0123456789");
    char big[600];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cq_buf_reset(&b);
    cq_buf_printf(&b, "%s", big); /* longer than the printf fast path and the cap */
    assert_int_equal(cq_buf_rc(&b), CQ_ETOOBIG);
    cq_buf_cleanup(&b);
}

static void buf_take_hands_over(void **state)
{
    (void)state;
    struct cq_buf b;
    cq_buf_init(&b, 100);
    cq_buf_puts(&b, "hello");
    char *s = cq_buf_take(&b);
    assert_string_equal(s, "hello");
    assert_null(b.p);
    cq_free(s);
    cq_buf_cleanup(&b);
}

static void arena_allocates_aligned_and_cleans(void **state)
{
    (void)state;
    struct cq_arena a;
    cq_arena_init(&a, 64, 0);
    char *s = cq_arena_strdup(&a, "abc");
    void *big = cq_arena_alloc(&a, 1000); /* larger than a chunk */
    char *p = cq_arena_printf(&a, "%s-%d", s, 7);
    assert_non_null(big);
    assert_int_equal((uintptr_t)big % 16, 0);
    assert_string_equal(p, "abc-7");
    assert_string_equal(cq_arena_strndup(&a, "abcdef", 3), "abc");
    cq_arena_free(&a);
    assert_null(a.head);
    cq_arena_init(&a, 64, 200);
    assert_null(cq_arena_alloc(&a, 500)); /* over the arena's cap */
    cq_arena_free(&a);
}

/* After a reset the arena serves the same work again without touching the heap. */
static void arena_reset_keeps_one_chunk(void **state)
{
    (void)state;
    struct cq_arena a;
    unsigned long before;
    cq_arena_init(&a, 64, 0);
    for (int i = 0; i < 10; i++) {
        assert_non_null(cq_arena_alloc(&a, 40));
    }
    cq_arena_reset(&a);
    before = cq_mem_count();
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 10; i++) {
            char *p = cq_arena_alloc(&a, 40);
            assert_non_null(p);
            assert_int_equal(p[0], 0); /* zeroed again */
            p[0] = 'x';
        }
        cq_arena_reset(&a);
    }
    assert_int_equal(cq_mem_count(), before);
    cq_arena_free(&a);
}

/* An arena array grows by doubling, keeps its elements and leaves the old copy intact. */
static void arena_grow_doubles_and_copies(void **state)
{
    (void)state;
    struct cq_arena a;
    int *v = NULL, *first = NULL;
    size_t n = 0, cap = 0;
    cq_arena_init(&a, 64, 0);
    for (int i = 0; i < 20; i++) {
        v = cq_arena_grow(&a, v, n, &cap, sizeof(*v));
        assert_non_null(v);
        v[n++] = i;
        if (i == 0) {
            first = v;
            assert_int_equal(cap, 8);
        }
    }
    assert_int_equal(cap, 32);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(v[i], i);
    }
    assert_int_equal(first[7], 7); /* the first array is still readable */
    assert_ptr_equal(cq_arena_grow(&a, v, n, &cap, sizeof(*v)), v); /* room left: no move */
    cq_arena_free(&a);
    cq_arena_init(&a, 64, 100);
    cap = 8;
    assert_null(cq_arena_grow(&a, NULL, 8, &cap, 64)); /* over the arena's cap */
    assert_int_equal(cap, 8);
    assert_null(cq_arena_grow(&a, NULL, 8, &cap, SIZE_MAX / 8)); /* size overflow */
    cq_arena_free(&a);
}

/* FIPS 180-2 test vectors. */
static void sha256_known_vectors(void **state)
{
    (void)state;
    static const unsigned char abc[CQ_SHA256_LEN] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22,
        0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00,
        0x15, 0xad};
    static const unsigned char empty[CQ_SHA256_LEN] = {
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9,
        0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52,
        0xb8, 0x55};
    unsigned char out[CQ_SHA256_LEN];
    cq_sha256("abc", 3, out);
    assert_memory_equal(out, abc, sizeof(out));
    cq_sha256("", 0, out);
    assert_memory_equal(out, empty, sizeof(out));
}

static void err_first_message_wins_and_wraps(void **state)
{
    (void)state;
    struct cq_err e = {0};
    assert_int_equal(cq_err_set(&e, CQ_ETIMEOUT, "slow %d", 5), CQ_ETIMEOUT);
    cq_err_set(&e, CQ_EIO, "second");
    assert_int_equal(e.rc, CQ_ETIMEOUT);
    assert_string_equal(e.msg, "slow 5");
    cq_err_wrap(&e, "connection '%s'", "main");
    assert_string_equal(e.msg, "connection 'main': slow 5");
    cq_err_set(NULL, CQ_EIO, "no crash");
    assert_string_equal(cq_rc_name(CQ_EBACKEND), "sql_error");
    struct cq_err n = {0};
    cq_err_set(&n, CQ_EIO, "trailing newline\n");
    assert_string_equal(n.msg, "trailing newline");
}

static void parse_i64_cursor(void **state)
{
    (void)state;
    const char *s = "123abc", *cur = s;
    int64_t v = 0;
    assert_int_equal(cq_parse_i64(&cur, &v), CQ_OK);
    assert_int_equal(v, 123);
    assert_string_equal(cur, "abc");
    cur = "x";
    assert_int_equal(cq_parse_i64(&cur, &v), CQ_EINVAL);
    cur = "9223372036854775808";
    assert_int_equal(cq_parse_i64(&cur, &v), CQ_ETOOBIG);
    cur = "-9223372036854775808";
    assert_int_equal(cq_parse_i64(&cur, &v), CQ_OK);
    assert_true(v == INT64_MIN);
}

static void durations_and_sizes(void **state)
{
    (void)state;
    int64_t v;
    struct cq_err e = {0};
    assert_int_equal(cq_parse_duration_ms("250ms", &v, NULL), CQ_OK);
    assert_int_equal(v, 250);
    assert_int_equal(cq_parse_duration_ms("5s", &v, NULL), CQ_OK);
    assert_int_equal(v, 5000);
    assert_int_equal(cq_parse_duration_ms("1.5s", &v, NULL), CQ_OK);
    assert_int_equal(v, 1500);
    assert_int_equal(cq_parse_duration_ms("2m", &v, NULL), CQ_OK);
    assert_int_equal(v, 120000);
    assert_int_equal(cq_parse_duration_ms("3", &v, NULL), CQ_OK);
    assert_int_equal(v, 3000);
    assert_int_equal(cq_parse_duration_ms("5 parsecs", &v, &e), CQ_EINVAL);
    assert_string_equal(e.msg, "invalid duration '5 parsecs' (use a number with a unit: 250ms, 5s, "
                               "2m, 1h)");
    assert_int_equal(cq_parse_duration_ms("-1s", &v, NULL), CQ_EINVAL);
    assert_int_equal(cq_parse_size("10MB", &v, NULL), CQ_OK);
    assert_int_equal(v, 10 * 1024 * 1024);
    assert_int_equal(cq_parse_size("512", &v, NULL), CQ_OK);
    assert_int_equal(v, 512);
    assert_int_equal(cq_parse_size("1GB", &v, NULL), CQ_OK);
    assert_int_equal(v, 1073741824);
    assert_int_equal(cq_parse_size("ten", &v, NULL), CQ_EINVAL);
    char out[32];
    cq_format_duration(out, sizeof(out), 5000);
    assert_string_equal(out, "5s");
    cq_format_duration(out, sizeof(out), 250);
    assert_string_equal(out, "250ms");
    cq_format_size(out, sizeof(out), 10 * 1024 * 1024);
    assert_string_equal(out, "10MB");
}

static void did_you_mean(void **state)
{
    (void)state;
    static const char *const keys[] = {"driver", "url", "path", "pool", "limits", NULL};
    assert_string_equal(cq_did_you_mean("urll", keys), "url");
    assert_string_equal(cq_did_you_mean("drvier", keys), "driver");
    assert_null(cq_did_you_mean("zzzzzz", keys));
    assert_int_equal(cq_edit_distance("kitten", "sitting", 10), 3);
    assert_int_equal(cq_edit_distance("rnu", "run", 10), 1);
    assert_int_equal(cq_edit_distance("abc", "abc", 0), 0);
    assert_int_equal(cq_edit_distance("abcdef", "uvwxyz", 2), 3);
}

static void json_escapes_and_repairs(void **state)
{
    (void)state;
    struct cq_buf b;
    cq_buf_init(&b, 1000);
    cq_json_put_str(&b, "a\"b\\c\n\x01\xc3\xa9\xff", 10);
    assert_string_equal(cq_buf_str(&b), "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\\ufffd\"");
    cq_buf_reset(&b);
    cq_json_put_str(&b, "\xf0\x9f\x98\x80", 4); /* emoji passes through */
    assert_string_equal(cq_buf_str(&b), "\"\xf0\x9f\x98\x80\"");
    cq_buf_reset(&b);
    cq_json_put_str(&b, "\xed\xa0\x80", 3); /* a UTF-16 surrogate is not valid UTF-8 */
    assert_string_equal(cq_buf_str(&b), "\"\\ufffd\\ufffd\\ufffd\"");
    cq_buf_cleanup(&b);
    assert_true(cq_json_is_number("-0.5e+10", 8));
    assert_true(cq_json_is_number("12", 2));
    assert_false(cq_json_is_number("012", 3));
    assert_false(cq_json_is_number("NaN", 3));
    assert_false(cq_json_is_number("1.", 2));
}

static void size_arithmetic_overflows(void **state)
{
    (void)state;
    size_t out = 7;
    assert_false(cq_size_mul(&out, SIZE_MAX / 2, 3));
    assert_int_equal(out, 7);
    assert_true(cq_size_mul(&out, 1000, 1000));
    assert_int_equal(out, 1000000);
    assert_false(cq_size_add(&out, SIZE_MAX, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_grows_and_stays_terminated),
        cmocka_unit_test(buf_put_i64_is_printf_d),
        cmocka_unit_test(buf_cap_is_sticky),
        cmocka_unit_test(buf_take_hands_over),
        cmocka_unit_test(arena_allocates_aligned_and_cleans),
        cmocka_unit_test(arena_reset_keeps_one_chunk),
        cmocka_unit_test(sha256_known_vectors),
        cmocka_unit_test(arena_grow_doubles_and_copies),
        cmocka_unit_test(err_first_message_wins_and_wraps),
        cmocka_unit_test(parse_i64_cursor),
        cmocka_unit_test(durations_and_sizes),
        cmocka_unit_test(did_you_mean),
        cmocka_unit_test(json_escapes_and_repairs),
        cmocka_unit_test(size_arithmetic_overflows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
