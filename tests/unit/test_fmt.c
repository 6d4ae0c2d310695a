/* test_fmt.c - result writers: byte-exact output for scripted sink calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/buf.h"
#include "base/mem.h"
#include "drv/fmt.h"

/* ---- capture ---- */

struct capture {
    struct cq_buf b;     /* everything written */
    size_t n_writes;
    size_t max_chunk;    /* largest single write, bytes */
    size_t fail_at;      /* 1-based write that fails with CQ_EIO; 0 = never */
};

static int cap_write(void *ctx, const char *p, size_t len)
{
    struct capture *c = ctx;
    c->n_writes++;
    if (c->fail_at != 0 && c->n_writes >= c->fail_at) {
        return CQ_EIO;
    }
    c->max_chunk = len > c->max_chunk ? len : c->max_chunk;
    cq_buf_append(&c->b, p, len);
    return CQ_OK;
}

static int setup(void **state)
{
    struct capture *c = calloc(1, sizeof(*c));
    cq_buf_init(&c->b, (size_t)1 << 30);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct capture *c = *state;
    cq_buf_cleanup(&c->b);
    free(c);
    return 0;
}

#define V(k, s) {k, s, sizeof(s) - 1}
#define NUM(s) V(CQ_V_NUMBER, s)
#define STR(s) V(CQ_V_STRING, s)
#define VNULL {CQ_V_NULL, NULL, 0}

static const struct cq_col cols_id_email[] = {{"id", "int8", CQ_V_NUMBER},
                                              {"email", "text", CQ_V_STRING}};

static struct cq_result_info info_of(int64_t rows, double ms)
{
    struct cq_result_info info = {.row_count = rows, .rows_affected = -1, .elapsed_ms = ms};
    return info;
}

/* Feeds columns, rows (n_rows * n_cols values) and end, expecting success at each step. */
static const char *run(void **state, enum cq_fmt_kind kind, size_t n_cols,
                       const struct cq_col *cols, size_t n_rows, const struct cq_value *vals,
                       const struct cq_result_info *info)
{
    struct capture *c = *state;
    struct cq_err err = {0};
    struct cq_fmt *f = cq_drv_fmt_new(kind, cap_write, c, &err);
    assert_non_null(f);
    const struct cq_rowsink *s = cq_drv_fmt_sink(f);
    assert_int_equal(s->on_columns(s->ctx, n_cols, cols, &err), CQ_OK);
    for (size_t r = 0; r < n_rows; r++) {
        assert_int_equal(s->on_row(s->ctx, n_cols, vals + r * n_cols, &err), CQ_OK);
    }
    assert_int_equal(s->on_end(s->ctx, info, &err), CQ_OK);
    assert_int_equal(cq_drv_fmt_truncated(f), info->truncated);
    cq_drv_fmt_free(f);
    return cq_buf_str(&c->b);
}

/* ---- JSON ---- */

static void test_json_basic(void **state)
{
    const struct cq_value rows[] = {NUM("1"), STR("a@b.c"), NUM("2"), VNULL};
    struct cq_result_info info = info_of(2, 0.8);
    info.command = "SELECT 2";
    assert_string_equal(run(state, CQ_FMT_JSON, 2, cols_id_email, 2, rows, &info),
                        "{\"fields\":[{\"name\":\"id\",\"type\":\"int8\"},{\"name\":\"email\","
                        "\"type\":\"text\"}],\"rows\":[{\"id\":1,\"email\":\"a@b.c\"},{\"id\":2,"
                        "\"email\":null}],\"rowCount\":2,\"truncated\":false,\"elapsedMs\":0.8,"
                        "\"command\":\"SELECT 2\"}\n");
}

static void test_json_value_kinds(void **state)
{
    static const struct cq_col cols[] = {
        {"b", "bool", CQ_V_BOOL},   {"j", "jsonb", CQ_V_JSON},  {"n", "numeric", CQ_V_NUMBER},
        {"nan", "float8", CQ_V_NUMBER}, {"u", "text", CQ_V_STRING}, {"c", "text", CQ_V_STRING},
        {"bad", "text", CQ_V_STRING}};
    const struct cq_value rows[] = {
        V(CQ_V_BOOL, "true"), V(CQ_V_JSON, "{\"x\":[1,2.50]}"), NUM("1e+100"), NUM("NaN"),
        STR("\xc3\xa9\xf0\x9f\x98\x80"), STR("\x01\n\t\"\\/"), STR("\xff\xc3(z"),
        V(CQ_V_BOOL, "false"), V(CQ_V_JSON, "[]"), NUM("-0.000"), NUM("Infinity"), STR(""),
        STR("\x7f"), STR("\xed\xa0\x80"),
    };
    struct cq_result_info info = info_of(2, 3);
    assert_string_equal(
        run(state, CQ_FMT_NDJSON, 7, cols, 2, rows, &info),
        "{\"b\":true,\"j\":{\"x\":[1,2.50]},\"n\":1e+100,\"nan\":\"NaN\","
        "\"u\":\"\xc3\xa9\xf0\x9f\x98\x80\",\"c\":\"\\u0001\\n\\t\\\"\\\\/\","
        "\"bad\":\"\\ufffd\\ufffd(z\"}\n"
        "{\"b\":false,\"j\":[],\"n\":-0.000,\"nan\":\"Infinity\",\"u\":\"\",\"c\":\"\x7f\","
        "\"bad\":\"\\ufffd\\ufffd\\ufffd\"}\n");
}

static void test_json_duplicate_names(void **state)
{
    static const struct cq_col cols[] = {{"a", "int4", CQ_V_NUMBER}, {"a", "int4", CQ_V_NUMBER},
                                         {"a_2", "int4", CQ_V_NUMBER}, {"b", "int4", CQ_V_NUMBER},
                                         {"a", "int4", CQ_V_NUMBER}};
    const struct cq_value rows[] = {NUM("1"), NUM("2"), NUM("3"), NUM("4"), NUM("5")};
    struct cq_result_info info = info_of(1, 1);
    assert_string_equal(run(state, CQ_FMT_JSON, 5, cols, 1, rows, &info),
                        "{\"fields\":[{\"name\":\"a\",\"type\":\"int4\"},"
                        "{\"name\":\"a_2\",\"type\":\"int4\"},"
                        "{\"name\":\"a_2_2\",\"type\":\"int4\"},"
                        "{\"name\":\"b\",\"type\":\"int4\"},"
                        "{\"name\":\"a_3\",\"type\":\"int4\"}],"
                        "\"rows\":[{\"a\":1,\"a_2\":2,\"a_2_2\":3,\"b\":4,\"a_3\":5}],"
                        "\"rowCount\":1,\"truncated\":false,\"elapsedMs\":1.0}\n");
}

static void test_json_escaped_names(void **state)
{
    static const struct cq_col cols[] = {{"we\"ird\n", NULL, CQ_V_STRING}};
    const struct cq_value rows[] = {STR("x")};
    struct cq_result_info info = info_of(1, 0);
    assert_string_equal(run(state, CQ_FMT_JSON, 1, cols, 1, rows, &info),
                        "{\"fields\":[{\"name\":\"we\\\"ird\\n\",\"type\":\"\"}],\"rows\":[{\"we"
                        "\\\"ird\\n\":\"x\"}],\"rowCount\":1,\"truncated\":false,"
                        "\"elapsedMs\":0.0}\n");
}

static void test_json_truncated(void **state)
{
    const struct cq_value rows[] = {NUM("1"), STR("a")};
    struct cq_result_info info = info_of(1, 12.3456);
    info.truncated = true;
    info.truncated_reason = "max_rows";
    assert_string_equal(run(state, CQ_FMT_JSON, 2, cols_id_email, 1, rows, &info),
                        "{\"fields\":[{\"name\":\"id\",\"type\":\"int8\"},{\"name\":\"email\","
                        "\"type\":\"text\"}],\"rows\":[{\"id\":1,\"email\":\"a\"}],\"rowCount\":1,"
                        "\"truncated\":true,\"truncatedReason\":\"max_rows\",\"elapsedMs\":12.346}"
                        "\n");
}

static void test_json_zero_columns(void **state)
{
    struct cq_result_info info = info_of(0, 1.25);
    info.rows_affected = 3;
    info.command = "INSERT 0 3";
    assert_string_equal(run(state, CQ_FMT_JSON, 0, NULL, 0, NULL, &info),
                        "{\"fields\":[],\"rows\":[],\"rowCount\":0,\"truncated\":false,"
                        "\"elapsedMs\":1.25,\"rowsAffected\":3,\"command\":\"INSERT 0 3\"}\n");
}

static void test_json_zero_rows(void **state)
{
    struct cq_result_info info = info_of(0, 5);
    info.rows_affected = 0;
    assert_string_equal(run(state, CQ_FMT_JSON, 2, cols_id_email, 0, NULL, &info),
                        "{\"fields\":[{\"name\":\"id\",\"type\":\"int8\"},{\"name\":\"email\","
                        "\"type\":\"text\"}],\"rows\":[],\"rowCount\":0,\"truncated\":false,"
                        "\"elapsedMs\":5.0,\"rowsAffected\":0}\n");
}

static void test_json_elapsed_forms(void **state)
{
    static const struct {
        double ms;
        const char *text;
    } cases[] = {{0, "0.0"},           {0.0004, "0.0"},   {0.0005, "0.001"}, {12.3, "12.3"},
                 {1234.5, "1234.5"},   {2.25, "2.25"},    {-1, "0.0"},       {99.9999, "100.0"}};
    struct capture *c = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[160];
        cq_buf_reset(&c->b);
        struct cq_result_info info = info_of(0, cases[i].ms);
        snprintf(want, sizeof(want),
                 "{\"fields\":[],\"rows\":[],\"rowCount\":0,\"truncated\":false,"
                 "\"elapsedMs\":%s}\n",
                 cases[i].text);
        assert_string_equal(run(state, CQ_FMT_JSON, 0, NULL, 0, NULL, &info), want);
    }
}

/* Starts a JSON stream with two rows and fails it; returns the output. */
static const char *fail_mid_stream(void **state, const char *sqlstate)
{
    struct capture *c = *state;
    struct cq_err err = {0}, cause = {0};
    struct cq_fmt *f = cq_drv_fmt_new(CQ_FMT_JSON, cap_write, c, &err);
    const struct cq_rowsink *s = cq_drv_fmt_sink(f);
    const struct cq_value rows[] = {NUM("1"), STR("a"), NUM("2"), STR("b\"")};
    assert_int_equal(s->on_columns(s->ctx, 2, cols_id_email, &err), CQ_OK);
    assert_int_equal(s->on_row(s->ctx, 2, rows, &err), CQ_OK);
    assert_int_equal(s->on_row(s->ctx, 2, rows + 2, &err), CQ_OK);
    cq_err_set(&cause, CQ_EBACKEND, "pg demo: division by \"zero\"");
    cq_err_code(&cause, sqlstate);
    assert_int_equal(cq_drv_fmt_fail(f, &cause, &err), CQ_OK);
    assert_false(cq_drv_fmt_truncated(f));
    /* The document is closed: a second fail adds nothing. */
    size_t len = c->b.len;
    assert_int_equal(cq_drv_fmt_fail(f, &cause, &err), CQ_OK);
    assert_int_equal(c->b.len, len);
    cq_drv_fmt_free(f);
    return cq_buf_str(&c->b);
}

static void test_json_fail_mid_stream(void **state)
{
    const char *out = fail_mid_stream(state, "22012");
    char want[512];
    snprintf(want, sizeof(want),
             "{\"fields\":[{\"name\":\"id\",\"type\":\"int8\"},{\"name\":\"email\",\"type\":"
             "\"text\"}],\"rows\":[{\"id\":1,\"email\":\"a\"},{\"id\":2,\"email\":\"b\\\"\"}],"
             "\"rowCount\":2,\"truncated\":true,\"error\":{\"code\":\"%s\",\"message\":\"pg demo: "
             "division by \\\"zero\\\"\",\"sqlstate\":\"22012\"}}\n",
             cq_rc_name(CQ_EBACKEND));
    assert_string_equal(out, want);

    json_error_t je;
    json_t *doc = json_loads(out, 0, &je);
    assert_non_null(doc);
    assert_int_equal(json_array_size(json_object_get(doc, "rows")), 2);
    assert_int_equal(json_integer_value(json_object_get(doc, "rowCount")), 2);
    assert_true(json_is_true(json_object_get(doc, "truncated")));
    json_t *e = json_object_get(doc, "error");
    assert_string_equal(json_string_value(json_object_get(e, "code")), cq_rc_name(CQ_EBACKEND));
    assert_string_equal(json_string_value(json_object_get(e, "message")),
                        "pg demo: division by \"zero\"");
    assert_string_equal(json_string_value(json_object_get(e, "sqlstate")), "22012");
    json_decref(doc);
}

static void test_json_fail_without_sqlstate(void **state)
{
    const char *out = fail_mid_stream(state, NULL);
    json_error_t je;
    json_t *doc = json_loads(out, 0, &je);
    assert_non_null(doc);
    assert_null(json_object_get(json_object_get(doc, "error"), "sqlstate"));
    json_decref(doc);
}

static void test_fail_before_anything_writes_nothing(void **state)
{
    struct capture *c = *state;
    struct cq_err err = {0}, cause = {0};
    cq_err_set(&cause, CQ_ECONNECT, "pg demo: connect refused");
    for (int k = CQ_FMT_JSON; k <= CQ_FMT_TABLE; k++) {
        struct cq_fmt *f = cq_drv_fmt_new((enum cq_fmt_kind)k, cap_write, c, &err);
        assert_int_equal(cq_drv_fmt_fail(f, &cause, &err), CQ_OK);
        cq_drv_fmt_free(f);
    }
    assert_int_equal(c->b.len, 0);
    assert_int_equal(c->n_writes, 0);
}

static void test_fail_after_end_adds_nothing(void **state)
{
    struct capture *c = *state;
    struct cq_err err = {0}, cause = {0};
    struct cq_fmt *f = cq_drv_fmt_new(CQ_FMT_JSON, cap_write, c, &err);
    const struct cq_rowsink *s = cq_drv_fmt_sink(f);
    struct cq_result_info info = info_of(0, 1);
    assert_int_equal(s->on_columns(s->ctx, 0, NULL, &err), CQ_OK);
    assert_int_equal(s->on_end(s->ctx, &info, &err), CQ_OK);
    size_t len = c->b.len;
    cq_err_set(&cause, CQ_EBACKEND, "late");
    assert_int_equal(cq_drv_fmt_fail(f, &cause, &err), CQ_OK);
    assert_int_equal(c->b.len, len);
    cq_drv_fmt_free(f);
}

static void test_json_large_value(void **state)
{
    struct capture *c = *state;
    size_t n = (size_t)10 << 20;
    char *big = cq_malloc(n);
    memset(big, 'x', n);
    big[0] = '"';
    big[n - 1] = '\n';
    struct cq_value rows[] = {NUM("1"), {CQ_V_STRING, big, n}};
    struct cq_result_info info = info_of(1, 1);
    const char *out = run(state, CQ_FMT_JSON, 2, cols_id_email, 1, rows, &info);
    assert_true(c->n_writes > 100);
    assert_true(c->max_chunk <= 64 * 1024);
    json_error_t je;
    json_t *doc = json_loads(out, 0, &je);
    assert_non_null(doc);
    json_t *v = json_object_get(json_array_get(json_object_get(doc, "rows"), 0), "email");
    assert_int_equal(json_string_length(v), n);
    assert_memory_equal(json_string_value(v), big, n);
    json_decref(doc);
    cq_free(big);
}

static void test_write_error_stops_stream(void **state)
{
    struct capture *c = *state;
    struct cq_err err = {0};
    c->fail_at = 1;
    size_t n = 100 * 1024; /* past the 64 KiB flush point: the row triggers a write */
    char *big = cq_malloc(n);
    memset(big, 'y', n);
    struct cq_value row[] = {NUM("1"), {CQ_V_STRING, big, n}};
    struct cq_fmt *f = cq_drv_fmt_new(CQ_FMT_NDJSON, cap_write, c, &err);
    const struct cq_rowsink *s = cq_drv_fmt_sink(f);
    assert_int_equal(s->on_columns(s->ctx, 2, cols_id_email, &err), CQ_OK);
    assert_int_equal(s->on_row(s->ctx, 2, row, &err), CQ_EIO);
    assert_string_equal(err.msg, "ndjson output: write failed (io_error)");
    cq_err_clear(&err);
    assert_int_equal(s->on_row(s->ctx, 2, row, &err), CQ_EIO);
    struct cq_result_info info = info_of(1, 1);
    assert_int_equal(s->on_end(s->ctx, &info, &err), CQ_EIO);
    assert_int_equal(cq_drv_fmt_fail(f, NULL, &err), CQ_EIO);
    assert_int_equal(c->n_writes, 1); /* nothing written after the failure */
    cq_drv_fmt_free(f);
    cq_free(big);
}

static void test_row_shape_checked(void **state)
{
    struct capture *c = *state;
    struct cq_err err = {0};
    const struct cq_value row[] = {NUM("1")};
    struct cq_fmt *f = cq_drv_fmt_new(CQ_FMT_JSON, cap_write, c, &err);
    const struct cq_rowsink *s = cq_drv_fmt_sink(f);
    assert_int_equal(s->on_row(s->ctx, 1, row, &err), CQ_EINTERNAL);
    cq_err_clear(&err);
    assert_int_equal(s->on_columns(s->ctx, 2, cols_id_email, &err), CQ_OK);
    assert_int_equal(s->on_row(s->ctx, 1, row, &err), CQ_EINTERNAL);
    assert_string_equal(err.msg, "json output: row with 1 values for 2 columns");
    cq_err_clear(&err);
    assert_int_equal(s->on_columns(s->ctx, 2, cols_id_email, &err), CQ_EINTERNAL);
    cq_drv_fmt_free(f);
}

/* ---- NDJSON ---- */

static void test_ndjson(void **state)
{
    const struct cq_value rows[] = {NUM("1"), STR("a@b.c"), NUM("2"), VNULL};
    struct cq_result_info info = info_of(2, 1);
    info.truncated = true;
    info.truncated_reason = "max_bytes";
    assert_string_equal(run(state, CQ_FMT_NDJSON, 2, cols_id_email, 2, rows, &info),
                        "{\"id\":1,\"email\":\"a@b.c\"}\n{\"id\":2,\"email\":null}\n");
}

static void test_ndjson_zero_columns(void **state)
{
    struct cq_result_info info = info_of(0, 1);
    info.rows_affected = 4;
    assert_string_equal(run(state, CQ_FMT_NDJSON, 0, NULL, 0, NULL, &info), "");
}

/* ---- CSV ---- */

static void test_csv_basic_and_null_vs_empty(void **state)
{
    const struct cq_value rows[] = {NUM("1"), STR("a@b.c"), VNULL, STR(""), NUM("3"), VNULL};
    struct cq_result_info info = info_of(3, 1);
    assert_string_equal(run(state, CQ_FMT_CSV, 2, cols_id_email, 3, rows, &info),
                        "id,email\r\n1,a@b.c\r\n,\"\"\r\n3,\r\n");
}

static void test_csv_quoting(void **state)
{
    static const struct cq_col cols[] = {{"v", "text", CQ_V_STRING}};
    const struct cq_value rows[] = {
        STR("a,b"),   STR("say \"hi\""),          STR("line1\nline2"), STR("cr\r"),
        STR(" lead"), STR("trail "),              STR("\ttab"),        STR("mid space"),
        STR("\""),    V(CQ_V_BOOL, "true"),       V(CQ_V_JSON, "{\"a\":1,\"b\":[2]}"),
        STR("caf\xc3\xa9"),
    };
    struct cq_result_info info = info_of(12, 1);
    assert_string_equal(run(state, CQ_FMT_CSV, 1, cols, 12, rows, &info),
                        "v\r\n\"a,b\"\r\n\"say \"\"hi\"\"\"\r\n\"line1\nline2\"\r\n\"cr\r\"\r\n"
                        "\" lead\"\r\n\"trail \"\r\n\"\ttab\"\r\nmid space\r\n\"\"\"\"\r\ntrue\r\n"
                        "\"{\"\"a\"\":1,\"\"b\"\":[2]}\"\r\ncaf\xc3\xa9\r\n");
}

static void test_csv_header_quoting_and_duplicates(void **state)
{
    static const struct cq_col cols[] = {{"a,b", "int4", CQ_V_NUMBER},
                                         {"a,b", "int4", CQ_V_NUMBER}};
    const struct cq_value rows[] = {NUM("1"), NUM("2")};
    struct cq_result_info info = info_of(1, 1);
    assert_string_equal(run(state, CQ_FMT_CSV, 2, cols, 1, rows, &info),
                        "\"a,b\",\"a,b\"\r\n1,2\r\n");
}

static void test_csv_zero_columns(void **state)
{
    struct cq_result_info info = info_of(0, 1);
    info.command = "DELETE 2";
    assert_string_equal(run(state, CQ_FMT_CSV, 0, NULL, 0, NULL, &info), "");
}

/* ---- table ---- */

static void test_table_basic(void **state)
{
    const struct cq_value rows[] = {NUM("1"), STR("a@b.c"), NUM("22"), VNULL, VNULL, STR("x")};
    struct cq_result_info info = info_of(3, 1);
    assert_string_equal(run(state, CQ_FMT_TABLE, 2, cols_id_email, 3, rows, &info),
                        " id | email\n"
                        "----+-------\n"
                        "  1 | a@b.c\n"
                        " 22 |\n"
                        "    | x\n"
                        "(3 rows)\n");
}

static void test_table_centered_header_and_one_row(void **state)
{
    static const struct cq_col cols[] = {{"n", "int4", CQ_V_NUMBER}, {"name", "text", CQ_V_STRING},
                                         {"z", "text", CQ_V_STRING}};
    const struct cq_value rows[] = {NUM("12345"), STR("abcdefghij"), STR("q")};
    struct cq_result_info info = info_of(1, 1);
    assert_string_equal(run(state, CQ_FMT_TABLE, 3, cols, 1, rows, &info),
                        "   n   |    name    | z\n"
                        "-------+------------+---\n"
                        " 12345 | abcdefghij | q\n"
                        "(1 row)\n");
}

static void test_table_unicode_and_escapes(void **state)
{
    static const struct cq_col cols[] = {{"s", "text", CQ_V_STRING}, {"t", "text", CQ_V_STRING}};
    const struct cq_value rows[] = {
        STR("\xc3\xa9t\xc3\xa9"), STR("a\nb\tc"),   /* été counts 3 columns */
        STR("\xff" "ok"),         STR("\x1b[31m"),  /* bad byte -> U+FFFD; ESC shown escaped */
    };
    struct cq_result_info info = info_of(2, 1);
    assert_string_equal(run(state, CQ_FMT_TABLE, 2, cols, 2, rows, &info),
                        "  s  |    t\n"
                        "-----+----------\n"
                        " \xc3\xa9t\xc3\xa9 | a\\nb\\tc\n"
                        " \xef\xbf\xbdok | \\x1b[31m\n"
                        "(2 rows)\n");
}

static void test_table_long_cell_cut(void **state)
{
    static const struct cq_col cols[] = {{"v", "text", CQ_V_STRING}};
    char longv[300], want[1000];
    memset(longv, 'x', sizeof(longv));
    struct cq_value rows[] = {{CQ_V_STRING, longv, sizeof(longv)}, {CQ_V_STRING, longv, 120}};
    struct cq_result_info info = info_of(2, 1);
    /* 119 x + "…" = 120 columns; exactly 120 x fits uncut. */
    char x119[120], x120[121], dash[123];
    memset(x119, 'x', 119);
    x119[119] = '\0';
    memset(x120, 'x', 120);
    x120[120] = '\0';
    memset(dash, '-', 122);
    dash[122] = '\0';
    snprintf(want, sizeof(want), "%*s%s\n%s\n %s\xe2\x80\xa6\n %s\n(2 rows)\n", 60, "", "v",
             dash, x119, x120);
    assert_string_equal(run(state, CQ_FMT_TABLE, 1, cols, 2, rows, &info), want);
}

static void test_table_widths_fixed_after_1000_rows(void **state)
{
    struct capture *c = *state;
    static const struct cq_col cols[] = {{"v", "text", CQ_V_STRING}, {"n", "int4", CQ_V_NUMBER}};
    size_t n = 1002;
    struct cq_value *rows = cq_calloc(n * 2, sizeof(*rows));
    for (size_t r = 0; r < n; r++) {
        rows[2 * r] = (struct cq_value)STR("a");
        rows[2 * r + 1] = (struct cq_value)NUM("1");
    }
    rows[2 * 1000] = (struct cq_value)STR("bbbb"); /* row 1001: after the widths are chosen */
    struct cq_result_info info = info_of((int64_t)n, 1);
    info.truncated = true;
    info.truncated_reason = "max_rows";
    const char *out = run(state, CQ_FMT_TABLE, 2, cols, n, rows, &info);
    assert_memory_equal(out, " v | n\n---+---\n a | 1\n", 22);
    const char *tail = " a | 1\n bbbb | 1\n a | 1\n(1002 rows)\n(truncated: max_rows)\n";
    assert_true(c->b.len > strlen(tail));
    assert_string_equal(out + c->b.len - strlen(tail), tail);
    cq_free(rows);
}

static void test_table_zero_rows_and_dml(void **state)
{
    struct capture *c = *state;
    struct cq_result_info info = info_of(0, 1);
    assert_string_equal(run(state, CQ_FMT_TABLE, 2, cols_id_email, 0, NULL, &info),
                        " id | email\n----+-------\n(0 rows)\n");
    cq_buf_reset(&c->b);
    info.command = "INSERT 0 3";
    info.rows_affected = 3;
    assert_string_equal(run(state, CQ_FMT_TABLE, 0, NULL, 0, NULL, &info), "INSERT 0 3\n");
    cq_buf_reset(&c->b);
    info.command = NULL;
    assert_string_equal(run(state, CQ_FMT_TABLE, 0, NULL, 0, NULL, &info),
                        "(3 rows affected)\n");
}

static void test_table_fail_prints_buffered_rows(void **state)
{
    struct capture *c = *state;
    struct cq_err err = {0}, cause = {0};
    struct cq_fmt *f = cq_drv_fmt_new(CQ_FMT_TABLE, cap_write, c, &err);
    const struct cq_rowsink *s = cq_drv_fmt_sink(f);
    const struct cq_value row[] = {NUM("7"), STR("q")};
    assert_int_equal(s->on_columns(s->ctx, 2, cols_id_email, &err), CQ_OK);
    assert_int_equal(s->on_row(s->ctx, 2, row, &err), CQ_OK);
    assert_int_equal(c->b.len, 0); /* still buffering for widths */
    cq_err_set(&cause, CQ_ETIMEOUT, "timeout");
    assert_int_equal(cq_drv_fmt_fail(f, &cause, &err), CQ_OK);
    assert_string_equal(cq_buf_str(&c->b), " id | email\n----+-------\n  7 | q\n");
    cq_drv_fmt_free(f);
}

/* ---- misc ---- */

static void test_empty_value_without_pointer(void **state)
{
    /* Drivers may pass p = NULL for an empty non-NULL value. */
    struct capture *c = *state;
    static const struct cq_col cols[] = {{"s", "text", CQ_V_STRING}, {"j", "json", CQ_V_JSON}};
    const struct cq_value rows[] = {{CQ_V_STRING, NULL, 0}, {CQ_V_JSON, NULL, 0}};
    struct cq_result_info info = info_of(1, 1);
    assert_string_equal(run(state, CQ_FMT_NDJSON, 2, cols, 1, rows, &info),
                        "{\"s\":\"\",\"j\":null}\n");
    cq_buf_reset(&c->b);
    assert_string_equal(run(state, CQ_FMT_CSV, 2, cols, 1, rows, &info), "s,j\r\n\"\",\"\"\r\n");
    cq_buf_reset(&c->b);
    assert_string_equal(run(state, CQ_FMT_TABLE, 2, cols, 1, rows, &info),
                        " s | j\n---+---\n   |\n(1 row)\n");
}

static void test_parse_names(void **state)
{
    (void)state;
    enum cq_fmt_kind k;
    struct cq_err err = {0};
    assert_int_equal(cq_drv_fmt_parse("csv", &k, &err), CQ_OK);
    assert_int_equal(k, CQ_FMT_CSV);
    assert_int_equal(cq_drv_fmt_parse("ndjson", &k, &err), CQ_OK);
    assert_int_equal(k, CQ_FMT_NDJSON);
    assert_int_equal(cq_drv_fmt_parse("table", &k, &err), CQ_OK);
    assert_int_equal(k, CQ_FMT_TABLE);
    assert_int_equal(cq_drv_fmt_parse("json", &k, &err), CQ_OK);
    assert_int_equal(k, CQ_FMT_JSON);
    assert_int_equal(cq_drv_fmt_parse("jsn", &k, &err), CQ_EINVAL);
    assert_string_equal(err.msg, "unknown output format 'jsn' (expected json, ndjson, csv or "
                                 "table); did you mean json?");
    cq_err_clear(&err);
    assert_int_equal(cq_drv_fmt_parse("xml", &k, &err), CQ_EINVAL);
    assert_string_equal(err.msg,
                        "unknown output format 'xml' (expected json, ndjson, csv or table)");
}

static void test_many_rows_chunked(void **state)
{
    /* 20000 rows: output flushes in several writes, each at most 64 KiB, and the
     * concatenation is one valid document with every row. */
    struct capture *c = *state;
    size_t n = 20000;
    struct cq_value *rows = cq_calloc(n * 2, sizeof(*rows));
    char *nums = cq_calloc(n, 8);
    for (size_t r = 0; r < n; r++) {
        int len = snprintf(nums + r * 8, 8, "%zu", r);
        rows[2 * r] = (struct cq_value){CQ_V_NUMBER, nums + r * 8, (size_t)len};
        rows[2 * r + 1] = (struct cq_value)STR("someone@example.com");
    }
    struct cq_result_info info = info_of((int64_t)n, 1);
    const char *out = run(state, CQ_FMT_JSON, 2, cols_id_email, n, rows, &info);
    assert_true(c->n_writes > 5);
    assert_true(c->max_chunk <= 64 * 1024);
    json_error_t je;
    json_t *doc = json_loads(out, 0, &je);
    assert_non_null(doc);
    json_t *rs = json_object_get(doc, "rows");
    assert_int_equal(json_array_size(rs), n);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rs, n - 1), "id")), n - 1);
    json_decref(doc);
    cq_free(rows);
    cq_free(nums);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_json_basic),
        T(test_json_value_kinds),
        T(test_json_duplicate_names),
        T(test_json_escaped_names),
        T(test_json_truncated),
        T(test_json_zero_columns),
        T(test_json_zero_rows),
        T(test_json_elapsed_forms),
        T(test_json_fail_mid_stream),
        T(test_json_fail_without_sqlstate),
        T(test_fail_before_anything_writes_nothing),
        T(test_fail_after_end_adds_nothing),
        T(test_json_large_value),
        T(test_write_error_stops_stream),
        T(test_row_shape_checked),
        T(test_ndjson),
        T(test_ndjson_zero_columns),
        T(test_csv_basic_and_null_vs_empty),
        T(test_csv_quoting),
        T(test_csv_header_quoting_and_duplicates),
        T(test_csv_zero_columns),
        T(test_table_basic),
        T(test_table_centered_header_and_one_row),
        T(test_table_unicode_and_escapes),
        T(test_table_long_cell_cut),
        T(test_table_widths_fixed_after_1000_rows),
        T(test_table_zero_rows_and_dml),
        T(test_table_fail_prints_buffered_rows),
        T(test_empty_value_without_pointer),
        T(test_parse_names),
        T(test_many_rows_chunked),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
