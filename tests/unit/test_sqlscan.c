/* test_sqlscan.c - cq_drv_sql_scan: placeholders, quoting, comments, statement splitting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/arena.h"
#include "base/mem.h"
#include "base/time.h"
#include "drv/param.h"

struct fx {
    struct cq_arena a;
    struct cq_sql_scan sc;
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

/* Scans a NUL-terminated text (the NUL is not passed) and expects success. */
static struct cq_sql_scan *scan(void **state, const char *sql)
{
    struct fx *fx = *state;
    cq_err_clear(&fx->err);
    assert_int_equal(cq_drv_sql_scan(&fx->a, sql, strlen(sql), &fx->sc, &fx->err), CQ_OK);
    return &fx->sc;
}

/* The text of statement i. */
static char *stmt_text(const char *sql, const struct cq_sql_scan *sc, size_t i)
{
    static char buf[512];
    assert_true(i < sc->n_stmts);
    assert_true(sc->stmts[i].len < sizeof(buf));
    memcpy(buf, sql + sc->stmts[i].off, sc->stmts[i].len);
    buf[sc->stmts[i].len] = '\0';
    return buf;
}

static void test_plain_params(void **state)
{
    struct cq_sql_scan *sc = scan(state, "SELECT $1, $3 + $2");
    assert_int_equal(sc->max_param, 3);
    assert_int_equal(sc->n_stmts, 1);
    assert_int_equal(sc->stmts[0].max_param, 3);
    assert_false(sc->unterminated);
}

static void test_no_params(void **state)
{
    struct cq_sql_scan *sc = scan(state, "SELECT 1");
    assert_int_equal(sc->max_param, 0);
    assert_int_equal(sc->n_stmts, 1);
    assert_int_equal(sc->stmts[0].off, 0);
    assert_int_equal(sc->stmts[0].len, 8);
}

static void test_params_in_strings_not_counted(void **state)
{
    struct cq_sql_scan *sc = scan(state, "SELECT '$1', 'it''s $2', \"col$3\", $4");
    assert_int_equal(sc->max_param, 4);
    sc = scan(state, "SELECT 'a$9' || $1");
    assert_int_equal(sc->max_param, 1);
}

static void test_params_in_comments_not_counted(void **state)
{
    struct cq_sql_scan *sc = scan(state, "SELECT $1 -- and $7\n, 2 /* $8 /* $9 */ $10 */ + $2");
    assert_int_equal(sc->max_param, 2);
    assert_false(sc->unterminated);
}

static void test_escape_strings(void **state)
{
    /* E'\'' is one quote; the string goes on to the closing quote after $5. */
    struct cq_sql_scan *sc = scan(state, "SELECT E'\\' $5', $1");
    assert_int_equal(sc->max_param, 1);
    sc = scan(state, "SELECT e'a\\\\' , $2");
    assert_int_equal(sc->max_param, 2);
    /* In a standard string a backslash is literal: '\' ends at the second quote. */
    sc = scan(state, "SELECT '\\', $3");
    assert_int_equal(sc->max_param, 3);
    /* '' and \' both escape a quote in an escape string. */
    sc = scan(state, "SELECT E'x''\\' $6' , $1");
    assert_int_equal(sc->max_param, 1);
    /* Only a bare E prefixes an escape string: xE'\' is a word, then a standard string. */
    sc = scan(state, "SELECT xE'\\', $2");
    assert_int_equal(sc->max_param, 2);
    assert_false(sc->unterminated);
}

static void test_dollar_quotes(void **state)
{
    struct cq_sql_scan *sc = scan(state, "SELECT $$ $1 ' \" $$, $tag$ $2 $$ $x$ $tag$, $3");
    assert_int_equal(sc->max_param, 3);
    assert_false(sc->unterminated);
    sc = scan(state, "SELECT $a1$ $7 $a1$ || $2");
    assert_int_equal(sc->max_param, 2);
}

static void test_dollar_digit_is_param_not_tag(void **state)
{
    /* $1$ is parameter 1 followed by '$', never a tag. */
    struct cq_sql_scan *sc = scan(state, "SELECT $1$ + $2");
    assert_int_equal(sc->max_param, 2);
    assert_false(sc->unterminated);
}

static void test_dollar_inside_identifier(void **state)
{
    /* '$' continues an identifier: a$1 is a name, not a parameter. */
    struct cq_sql_scan *sc = scan(state, "SELECT a$1, b$$c FROM t WHERE x = $2");
    assert_int_equal(sc->max_param, 2);
    assert_false(sc->unterminated);
}

static void test_split_statements(void **state)
{
    const char *sql = "  SELECT $1;\n\tSELECT $2, $3 ;SELECT 'a;b'";
    struct cq_sql_scan *sc = scan(state, sql);
    assert_int_equal(sc->n_stmts, 3);
    assert_string_equal(stmt_text(sql, sc, 0), "SELECT $1");
    assert_string_equal(stmt_text(sql, sc, 1), "SELECT $2, $3");
    assert_string_equal(stmt_text(sql, sc, 2), "SELECT 'a;b'");
    assert_int_equal(sc->stmts[0].max_param, 1);
    assert_int_equal(sc->stmts[1].max_param, 3);
    assert_int_equal(sc->stmts[2].max_param, 0);
    assert_int_equal(sc->max_param, 3);
}

static void test_empty_statements_not_counted(void **state)
{
    const char *sql = ";; -- only a comment\n; /* c */ ; SELECT 1;  ;\n";
    struct cq_sql_scan *sc = scan(state, sql);
    assert_int_equal(sc->n_stmts, 1);
    assert_string_equal(stmt_text(sql, sc, 0), "SELECT 1");
    sc = scan(state, "");
    assert_int_equal(sc->n_stmts, 0);
    sc = scan(state, " \n\t ");
    assert_int_equal(sc->n_stmts, 0);
}

static void test_leading_comment_kept(void **state)
{
    /* Only leading whitespace is trimmed; a leading comment belongs to the statement. */
    const char *sql = "SELECT 1; /* hint */ SELECT 2 -- tail\n;";
    struct cq_sql_scan *sc = scan(state, sql);
    assert_int_equal(sc->n_stmts, 2);
    assert_string_equal(stmt_text(sql, sc, 1), "/* hint */ SELECT 2 -- tail");
}

static void test_semicolon_in_quotes_and_comments(void **state)
{
    const char *sql = "SELECT \";\", $$;$$, E'\\';', /* ; */ 1 -- ;\n; SELECT 2";
    struct cq_sql_scan *sc = scan(state, sql);
    assert_int_equal(sc->n_stmts, 2);
    assert_string_equal(stmt_text(sql, sc, 1), "SELECT 2");
}

static void test_semicolon_in_parens(void **state)
{
    struct cq_sql_scan *sc = scan(state, "SELECT (1;2); SELECT 3");
    assert_int_equal(sc->n_stmts, 2);
}

static void test_begin_atomic(void **state)
{
    const char *sql = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; "
                      "SELECT $1; END; SELECT 2";
    struct cq_sql_scan *sc = scan(state, sql);
    assert_int_equal(sc->n_stmts, 2);
    assert_string_equal(stmt_text(sql, sc, 0),
                        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; "
                        "SELECT $1; END");
    assert_string_equal(stmt_text(sql, sc, 1), "SELECT 2");
    assert_int_equal(sc->stmts[0].max_param, 1);
}

static void test_begin_atomic_case_end(void **state)
{
    const char *sql = "create or replace procedure p(x int) begin atomic "
                      "select case when x > 0 then 1 else 2 end; insert into t values (1); "
                      "End; select 3;";
    struct cq_sql_scan *sc = scan(state, sql);
    assert_int_equal(sc->n_stmts, 2);
    assert_string_equal(stmt_text(sql, sc, 1), "select 3");
}

static void test_begin_outside_routine_splits(void **state)
{
    /* BEGIN as a transaction, CASE ... END in plain statements and a column named begin
     * in CREATE TABLE do not hold semicolons. */
    struct cq_sql_scan *sc = scan(state, "BEGIN; SELECT CASE WHEN true THEN 1 END; COMMIT");
    assert_int_equal(sc->n_stmts, 3);
    sc = scan(state, "CREATE TABLE t (begin int, x text); INSERT INTO t VALUES (1, 'a')");
    assert_int_equal(sc->n_stmts, 2);
    sc = scan(state, "CREATE VIEW v AS SELECT 1 AS begin_x; SELECT 2");
    assert_int_equal(sc->n_stmts, 2);
}

static void test_keywords_need_word_boundaries(void **state)
{
    /* "beginning" and "endless" are not BEGIN/END. */
    struct cq_sql_scan *sc =
        scan(state, "CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT beginning; SELECT "
                    "endless; END; SELECT 2");
    assert_int_equal(sc->n_stmts, 2);
}

static void test_unterminated(void **state)
{
    static const char *const cases[] = {
        "SELECT 'abc",        "SELECT \"abc",       "SELECT E'abc\\'",  "SELECT $$ abc",
        "SELECT $t$ abc $t", "SELECT /* abc",      "SELECT /* a /* b */", "SELECT E'\\",
        "SELECT 'it''",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cq_sql_scan *sc = scan(state, cases[i]);
        assert_true(sc->unterminated);
        assert_int_equal(sc->n_stmts, 1);
        assert_int_equal(sc->stmts[0].len, strlen(cases[i]));
    }
    struct cq_sql_scan *sc = scan(state, "SELECT 1 -- no newline at the end");
    assert_false(sc->unterminated);
}

static void test_unterminated_comment_only(void **state)
{
    struct cq_sql_scan *sc = scan(state, "SELECT 1; /* open");
    assert_true(sc->unterminated);
    assert_int_equal(sc->n_stmts, 1);
}

static void test_huge_param(void **state)
{
    struct fx *fx = *state;
    const char *sql = "SELECT $70000";
    assert_int_equal(cq_drv_sql_scan(&fx->a, sql, strlen(sql), &fx->sc, &fx->err), CQ_ETOOBIG);
    assert_string_equal(fx->err.msg, "parameter $70000 is out of range (1..65535)");
    cq_err_clear(&fx->err);
    sql = "SELECT $123456789012345678901234567890";
    assert_int_equal(cq_drv_sql_scan(&fx->a, sql, strlen(sql), &fx->sc, &fx->err), CQ_ETOOBIG);
    assert_string_equal(fx->err.msg,
                        "parameter $12345678901234567890... is out of range (1..65535)");
    cq_err_clear(&fx->err);
    sql = "SELECT $0";
    assert_int_equal(cq_drv_sql_scan(&fx->a, sql, strlen(sql), &fx->sc, &fx->err), CQ_EINVAL);
    assert_string_equal(fx->err.msg, "parameter $0 is out of range (1..65535)");
}

static void test_max_param_boundary(void **state)
{
    struct cq_sql_scan *sc = scan(state, "SELECT $65535");
    assert_int_equal(sc->max_param, 65535);
    sc = scan(state, "SELECT '$70000', $$ $99999 $$");
    assert_int_equal(sc->max_param, 0);
}

static void test_not_nul_terminated(void **state)
{
    struct fx *fx = *state;
    /* Every prefix of these texts, copied into an exact-size heap block so ASan catches
     * any read past len. */
    static const char *const texts[] = {"SELECT $12 'a''b' E'\\'' \"x\"\"y\" $q$ $1 $q$ -- c",
                                        "/* a /* b */ */ $$x$$ $a$ $a", "E'\\"};
    for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
        size_t n = strlen(texts[t]);
        for (size_t len = 0; len <= n; len++) {
            char *p = cq_malloc(len ? len : 1);
            memcpy(p, texts[t], len);
            int rc = cq_drv_sql_scan(&fx->a, p, len, &fx->sc, &fx->err);
            assert_int_equal(rc, CQ_OK);
            cq_free(p);
        }
    }
}

static void test_many_statements(void **state)
{
    /* Growing the statement array several times. */
    char sql[4000];
    size_t n = 0;
    for (int i = 0; i < 300; i++) {
        memcpy(sql + n, "SELECT 1;", 9);
        n += 9;
    }
    sql[n] = '\0';
    struct cq_sql_scan *sc = scan(state, sql);
    assert_int_equal(sc->n_stmts, 300);
    assert_int_equal(sc->stmts[299].off, 299 * 9);
    assert_int_equal(sc->stmts[299].len, 8);
}

static void test_linear_time_dollar_tags(void **state)
{
    /* A long tag and a body full of near-miss tags: quadratic matching would take
     * seconds here; the byte loop stops at the next '$'. */
    size_t tag = 300000, reps = 300000;
    size_t n = 2 * (tag + 2) + reps * 2 + 1;
    char *sql = cq_malloc(n);
    size_t k = 0;
    sql[k++] = '$';
    memset(sql + k, 'a', tag);
    k += tag;
    sql[k++] = '$';
    for (size_t i = 0; i < reps; i++) {
        sql[k++] = '$';
        sql[k++] = 'a';
    }
    struct fx *fx = *state;
    int64_t t0 = cq_now_ms();
    assert_int_equal(cq_drv_sql_scan(&fx->a, sql, k, &fx->sc, &fx->err), CQ_OK);
    assert_true(cq_now_ms() - t0 < 1500);
    assert_true(fx->sc.unterminated);
    cq_free(sql);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plain_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_params_in_strings_not_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_params_in_comments_not_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escape_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dollar_quotes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dollar_digit_is_param_not_tag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dollar_inside_identifier, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_statements, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_statements_not_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leading_comment_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_semicolon_in_quotes_and_comments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_semicolon_in_parens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_begin_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_begin_atomic_case_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_begin_outside_routine_splits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keywords_need_word_boundaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unterminated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unterminated_comment_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_param, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_param_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_nul_terminated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_statements, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linear_time_dollar_tags, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
