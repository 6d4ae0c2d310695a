/*
 * test_channel.c - alert messages (template variables, text table, JSON round trip) and the
 * exact payloads of the channels through their format() hook: Slack Block Kit JSON, the
 * webhook body, and the e-mail (headers, subject rendering, both MIME parts), plus the
 * HMAC signature against RFC 4231.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/channel.h"
#include "alert/msg.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/tmpl.h"
#include "smtpsink.h"

/* ---- fixtures --------------------------------------------------------------------------- */

static const char *const cols3[] = {"host", "used_pct", "note"};
static const char *const cells3[] = {
    "db1", "97.5", "disk <full> & \"loud\"",
    "db-with-a-longer-name", NULL, "line1\nline2",
    "db3", "12", "",
};

static struct cq_alert_msg base_msg(void)
{
    struct cq_alert_msg m = {
        .alert_id = "disk_full",
        .alert_name = "Disk full",
        .state = "triggered",
        .reason = "3 rows",
        .value = "97.5",
        .threshold = "90",
        .error = NULL,
        .run_at = "2026-11-21T09:30:00Z",
        .text = "Disk usage is high on 3 hosts.",
        .row_count = 5,
        .n_cols = 3,
        .cols = cols3,
        .n_rows = 3,
        .cells = cells3,
        .json = NULL,
    };
    return m;
}

static struct cq_channel_conf base_conf(enum cq_channel_kind kind)
{
    static char *to[] = {"Ops <ops@example.com>", "dba@example.com"};
    static char *cc[] = {"boss@example.com"};
    struct cq_channel_conf cc_ = {
        .name = "ops",
        .kind = kind,
        .timeout_ms = 5000,
        .max_rows = 10,
        .webhook_url = "https://hooks.slack.com/services/T000/B000/SECRET",
        .url = "https://example.com/hook?token=SECRET",
        .from = "Clariq <alerts@example.com>",
        .to = to,
        .n_to = 2,
        .cc = cc,
        .n_cc = 1,
        .host = "127.0.0.1",
        .port = 25,
        .tls = CQ_TLS_NONE,
    };
    return cc_;
}

/* format() into a fresh buffer; caller frees with free(). */
static char *format(const struct cq_channel_conf *cc, const struct cq_alert_msg *m)
{
    const struct cq_channel_type *t = cq_alert_channel_type(cc->kind);
    struct cq_buf b;
    cq_buf_init(&b, (size_t)1 << 24);
    t->ops->format(cc, m, &b);
    assert_int_equal(cq_buf_rc(&b), CQ_OK);
    char *s = strdup(cq_buf_str(&b));
    cq_buf_cleanup(&b);
    return s;
}

static char *table(const struct cq_alert_msg *m, int max_rows)
{
    struct cq_buf b;
    cq_buf_init(&b, 1 << 20);
    cq_alert_msg_table(m, max_rows, &b);
    assert_int_equal(cq_buf_rc(&b), CQ_OK);
    char *s = strdup(cq_buf_str(&b));
    cq_buf_cleanup(&b);
    return s;
}

static char *var(const struct cq_alert_msg *m, const char *name)
{
    struct cq_buf b;
    cq_buf_init(&b, 1 << 20);
    cq_alert_msg_var((void *)(uintptr_t)m, name, strlen(name), &b);
    char *s = strdup(cq_buf_str(&b));
    cq_buf_cleanup(&b);
    return s;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++) {
        n += ((unsigned char)*s & 0xC0) != 0x80;
    }
    return n;
}

/* ---- signature -------------------------------------------------------------------------- */

static void test_sign_rfc4231(void **state)
{
    char out[72];
    const char *data = "what do ya want for nothing?";
    (void)state;
    cq_alert_channel_sign("Jefe", data, strlen(data), out);
    assert_string_equal(out, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b9"
                             "64ec3843");
    /* the signature covers the exact bytes */
    cq_alert_channel_sign("Jefe", data, strlen(data) - 1, out);
    assert_string_not_equal(out, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec5"
                                 "8b964ec3843");
    assert_int_equal(strlen(out), 71);
}

static void test_types(void **state)
{
    (void)state;
    const struct cq_channel_type *s = cq_alert_channel_type(CQ_CHANNEL_SLACK);
    const struct cq_channel_type *e = cq_alert_channel_type(CQ_CHANNEL_EMAIL);
    const struct cq_channel_type *w = cq_alert_channel_type(CQ_CHANNEL_WEBHOOK);
    assert_string_equal(s->name, "slack");
    assert_string_equal(e->name, "email");
    assert_string_equal(w->name, "webhook");
    const struct cq_channel_type *all[] = {s, e, w};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(all[i]->kind, (enum cq_channel_kind)i);
        assert_non_null(all[i]->ops->format);
        assert_non_null(all[i]->ops->send);
    }
}

/* ---- message ---------------------------------------------------------------------------- */

static void test_table(void **state)
{
    (void)state;
    struct cq_alert_msg m = base_msg();
    char *t = table(&m, 10);
    assert_string_equal(t, "host                  | used_pct | note\n"
                           "----------------------+----------+---------------------\n"
                           "db1                   | 97.5     | disk <full> & \"loud\"\n"
                           "db-with-a-longer-name | NULL     | line1 line2\n"
                           "db3                   | 12       |\n"
                           "... 2 more rows\n");
    free(t);
    t = table(&m, 1);
    assert_non_null(strstr(t, "db1 "));
    assert_null(strstr(t, "db3"));
    assert_non_null(strstr(t, "... 4 more rows\n"));
    free(t);
    m.row_count = 4;
    t = table(&m, 3);
    assert_non_null(strstr(t, "\n... 1 more row\n"));
    free(t);
    m.row_count = 3;
    t = table(&m, 3);
    assert_null(strstr(t, "more row"));
    free(t);
    m.n_cols = 0;
    t = table(&m, 3);
    assert_string_equal(t, "");
    free(t);
}

static void test_table_cut_utf8(void **state)
{
    (void)state;
    char long_e[2 * 50 + 1] = "";
    for (int i = 0; i < 50; i++) {
        strcat(long_e, "\xC3\xA9"); /* é */
    }
    char exact[41];
    memset(exact, 'x', 40);
    exact[40] = '\0';
    const char *c[] = {"v"};
    const char *cells[] = {long_e, exact, "bad\xFFutf8\ttab"};
    struct cq_alert_msg m = {.alert_id = "a", .state = "triggered", .row_count = 3,
                             .n_cols = 1, .cols = c, .n_rows = 3, .cells = cells};
    char *t = table(&m, 10);
    char *line = strchr(strchr(t, '\n') + 1, '\n') + 1; /* first data line */
    char *nl = strchr(line, '\n');
    *nl = '\0';
    assert_int_equal(utf8_chars(line), 40);
    assert_int_equal(strlen(line), 39 * 2 + 3);
    assert_string_equal(line + 78, "\xE2\x80\xA6");
    line = nl + 1;
    nl = strchr(line, '\n');
    *nl = '\0';
    assert_string_equal(line, exact); /* exactly 40 characters: not cut */
    line = nl + 1;
    assert_string_equal(line, "bad\xEF\xBF\xBDutf8 tab\n");
    free(t);
}

static void test_vars(void **state)
{
    (void)state;
    struct cq_alert_msg m = base_msg();
    static const char *const expect[][2] = {
        {"alert.id", "disk_full"},  {"alert.name", "Disk full"},
        {"state", "triggered"},     {"reason", "3 rows"},
        {"value", "97.5"},          {"threshold", "90"},
        {"row_count", "5"},         {"run_at", "2026-11-21T09:30:00Z"},
        {"error", ""},              {"duration_ms", ""},
        {"alert.connection", ""},   {"text", "Disk usage is high on 3 hosts."},
        {" state ", "triggered"},   {"nope", ""},
    };
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        char *v = var(&m, expect[i][0]);
        assert_string_equal(v, expect[i][1]);
        free(v);
    }
    char *rows = var(&m, "rows");
    char *t = table(&m, 10);
    assert_string_equal(rows, t);
    free(rows);
    free(t);
    m.value = NULL;
    char *v = var(&m, "value");
    assert_string_equal(v, "");
    free(v);
}

static void test_encode_parse(void **state)
{
    (void)state;
    struct cq_arena a;
    struct cq_alert_msg m = base_msg(), back;
    struct cq_err err = {0};
    m.alert_name = "Disk \"full\" \xE2\x9C\x93";
    m.error = NULL;

    cq_arena_init(&a, 4096, 0);
    assert_int_equal(cq_alert_msg_encode(&m, &a, &err), CQ_OK);
    json_error_t jerr;
    json_t *j = json_loads(m.json, 0, &jerr);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "alert"), "id")),
                        "disk_full");
    assert_true(json_is_null(json_object_get(j, "error")));
    assert_int_equal(json_integer_value(json_object_get(j, "rowCount")), 5);
    assert_int_equal(json_array_size(json_object_get(j, "rows")), 3);
    assert_true(json_is_null(json_array_get(json_array_get(json_object_get(j, "rows"), 1), 1)));
    assert_string_equal(json_string_value(json_object_get(j, "runAt")), m.run_at);
    json_decref(j);

    assert_int_equal(cq_alert_msg_parse(m.json, &a, &back, &err), CQ_OK);
    assert_string_equal(back.alert_id, m.alert_id);
    assert_string_equal(back.alert_name, m.alert_name);
    assert_string_equal(back.state, m.state);
    assert_string_equal(back.reason, m.reason);
    assert_string_equal(back.value, m.value);
    assert_string_equal(back.threshold, m.threshold);
    assert_null(back.error);
    assert_string_equal(back.run_at, m.run_at);
    assert_string_equal(back.text, m.text);
    assert_int_equal(back.row_count, 5);
    assert_int_equal(back.n_cols, 3);
    assert_int_equal(back.n_rows, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(back.cols[i], cols3[i]);
    }
    for (size_t i = 0; i < 9; i++) {
        if (cells3[i] == NULL) {
            assert_null(back.cells[i]);
        } else {
            assert_string_equal(back.cells[i], cells3[i]);
        }
    }
    assert_string_equal(back.json, m.json);
    /* encoding the parsed message gives the same bytes */
    const char *first = m.json;
    back.json = NULL;
    assert_int_equal(cq_alert_msg_encode(&back, &a, &err), CQ_OK);
    assert_string_equal(back.json, first);
    cq_arena_free(&a);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "not json",
        "[]",
        "{}",
        "{\"alert\":{\"id\":\"a\"},\"rowCount\":0,\"columns\":[],\"rows\":[]}",
        "{\"alert\":{\"name\":\"a\"},\"state\":\"x\",\"rowCount\":0,\"columns\":[],\"rows\":[]}",
        "{\"alert\":{\"id\":\"a\"},\"state\":\"x\",\"rowCount\":-1,\"columns\":[],\"rows\":[]}",
        "{\"alert\":{\"id\":\"a\"},\"state\":\"x\",\"rowCount\":1,\"columns\":[\"c\"],"
        "\"rows\":[[1]]}",
        "{\"alert\":{\"id\":\"a\"},\"state\":\"x\",\"rowCount\":1,\"columns\":[\"c\"],"
        "\"rows\":[[\"a\",\"b\"]]}",
        "{\"alert\":{\"id\":\"a\"},\"state\":\"x\",\"rowCount\":0,\"columns\":[\"c\"],"
        "\"rows\":[[\"a\"]]}",
        "{\"alert\":{\"id\":\"a\"},\"state\":7,\"rowCount\":0,\"columns\":[],\"rows\":[]}",
        "{\"alert\":{\"id\":\"a\"},\"state\":\"x\",\"rowCount\":0}",
    };
    struct cq_arena a;
    cq_arena_init(&a, 4096, 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cq_alert_msg m;
        struct cq_err err = {0};
        assert_int_equal(cq_alert_msg_parse(bad[i], &a, &m, &err), CQ_EINVAL);
        assert_non_null(strstr(err.msg, "alert message"));
        assert_null(m.alert_id);
    }
    struct cq_alert_msg m;
    assert_int_equal(cq_alert_msg_parse("{\"alert\":{\"id\":\"a\"},\"state\":\"resolved\","
                                        "\"rowCount\":0,\"columns\":[],\"rows\":[]}",
                                        &a, &m, NULL),
                     CQ_OK);
    assert_null(m.alert_name);
    assert_null(m.text);
    cq_arena_free(&a);
}

/* ---- slack ------------------------------------------------------------------------------ */

static json_t *block(json_t *blocks, const char *type, int nth)
{
    for (size_t i = 0; i < json_array_size(blocks); i++) {
        json_t *b = json_array_get(blocks, i);
        if (strcmp(json_string_value(json_object_get(b, "type")), type) == 0 && nth-- == 0) {
            return b;
        }
    }
    return NULL;
}

static const char *section_text(json_t *b)
{
    return json_string_value(json_object_get(json_object_get(b, "text"), "text"));
}

static void test_slack_format(void **state)
{
    (void)state;
    struct cq_alert_msg m = base_msg();
    struct cq_channel_conf cc = base_conf(CQ_CHANNEL_SLACK);
    char *body = format(&cc, &m);
    json_error_t jerr;
    json_t *j = json_loads(body, 0, &jerr);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "text")),
                        "Disk full: triggered \xE2\x80\x94 3 rows");
    json_t *blocks = json_object_get(j, "blocks");
    assert_int_equal(json_array_size(blocks), 5);
    json_t *hdr = block(blocks, "header", 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(hdr, "text"), "type")),
                        "plain_text");
    assert_string_equal(section_text(hdr), "Disk full: triggered");
    json_t *fields = json_object_get(block(blocks, "section", 0), "fields");
    assert_int_equal(json_array_size(fields), 5);
    static const char *const want[] = {"*State*\ntriggered", "*Value*\n97.5",
                                       "*Threshold*\n90", "*Rows*\n5",
                                       "*Run at*\n2026-11-21T09:30:00Z"};
    for (size_t i = 0; i < 5; i++) {
        json_t *f = json_array_get(fields, i);
        assert_string_equal(json_string_value(json_object_get(f, "type")), "mrkdwn");
        assert_string_equal(json_string_value(json_object_get(f, "text")), want[i]);
    }
    assert_string_equal(section_text(block(blocks, "section", 1)),
                        "Disk usage is high on 3 hosts.");
    const char *code = section_text(block(blocks, "section", 2));
    assert_true(strncmp(code, "```\nhost ", 8) == 0);
    assert_non_null(strstr(code, "disk &lt;full&gt; &amp; \"loud\""));
    assert_non_null(strstr(code, "... 2 more rows\n```"));
    json_t *ctx = json_array_get(json_object_get(block(blocks, "context", 0), "elements"), 0);
    assert_non_null(strstr(json_string_value(json_object_get(ctx, "text")), "`disk_full`"));
    json_decref(j);

    /* same input, same bytes */
    char *again = format(&cc, &m);
    assert_string_equal(body, again);
    free(again);
    free(body);
}

static void test_slack_caps(void **state)
{
    (void)state;
    enum { ROWS = 500, COLS = 4 };
    static const char *c[COLS] = {"a", "b", "c", "d"};
    const char **cells = calloc(ROWS * COLS, sizeof(*cells));
    char *longtext = malloc(20001);
    char cell[60];
    memset(cell, 'z', sizeof(cell) - 1);
    cell[sizeof(cell) - 1] = '\0';
    for (size_t i = 0; i < ROWS * COLS; i++) {
        cells[i] = cell;
    }
    for (size_t i = 0; i < 20000; i++) {
        longtext[i] = "<&>x"[i % 4];
    }
    longtext[20000] = '\0';
    char name[400];
    memset(name, 'N', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';

    struct cq_alert_msg m = base_msg();
    m.alert_name = name;
    m.text = longtext;
    m.n_cols = COLS;
    m.cols = c;
    m.n_rows = ROWS;
    m.row_count = 100000;
    m.cells = cells;
    m.value = longtext;
    struct cq_channel_conf cc = base_conf(CQ_CHANNEL_SLACK);
    cc.max_rows = ROWS;

    char *body = format(&cc, &m);
    json_error_t jerr;
    json_t *j = json_loads(body, 0, &jerr);
    assert_non_null(j);
    assert_true(strlen(body) < 40000);
    assert_true(strlen(json_string_value(json_object_get(j, "text"))) <= 3000);
    json_t *blocks = json_object_get(j, "blocks");
    const char *h = section_text(block(blocks, "header", 0));
    assert_true(strlen(h) <= 150);
    json_t *fields = json_object_get(block(blocks, "section", 0), "fields");
    for (size_t i = 0; i < json_array_size(fields); i++) {
        assert_true(strlen(json_string_value(json_object_get(json_array_get(fields, i),
                                                             "text"))) <= 2000);
    }
    const char *text = section_text(block(blocks, "section", 1));
    assert_true(strlen(text) <= 3000 && strlen(text) > 2500);
    assert_true(strncmp(text, "&lt;&amp;&gt;x", 14) == 0);
    /* cut on a character, never inside an entity */
    const char *end = text + strlen(text) - 3;
    assert_string_equal(end, "\xE2\x80\xA6");
    assert_true(end[-1] == ';' || end[-1] == 'x');
    const char *code = section_text(block(blocks, "section", 2));
    assert_true(strlen(code) <= 3000);
    assert_non_null(strstr(code, "\xE2\x80\xA6\n```"));
    assert_true(code[strlen(code) - 4] == '\n'); /* whole lines only */
    json_decref(j);
    free(body);
    free(cells);
    free(longtext);
}

/* ---- webhook ---------------------------------------------------------------------------- */

static void test_webhook_format(void **state)
{
    (void)state;
    struct cq_alert_msg m = base_msg();
    struct cq_channel_conf cc = base_conf(CQ_CHANNEL_WEBHOOK);
    struct cq_arena a;
    cq_arena_init(&a, 4096, 0);
    char *unencoded = format(&cc, &m);
    assert_int_equal(cq_alert_msg_encode(&m, &a, NULL), CQ_OK);
    char *body = format(&cc, &m);
    assert_string_equal(body, m.json);
    assert_string_equal(unencoded, m.json);
    free(body);
    free(unencoded);
    cq_arena_free(&a);
}

/* ---- email ------------------------------------------------------------------------------ */

static void assert_crlf_lines(const char *mail)
{
    size_t line = 0;
    for (const char *p = mail; *p; p++) {
        if (*p == '\n') {
            assert_true(p > mail && p[-1] == '\r');
            line = 0;
        } else if (*p != '\r') {
            line++;
            assert_true(line < 998);
        }
    }
}

static void test_email_format(void **state)
{
    (void)state;
    struct cq_alert_msg m = base_msg();
    struct cq_channel_conf cc = base_conf(CQ_CHANNEL_EMAIL);
    cc.subject = "ALERT {{alert.name}} is {{ state }} ({{row_count}})";
    char *mail = format(&cc, &m);
    assert_crlf_lines(mail);

    cq_test_assert_mail_header(mail, "From", "Clariq <alerts@example.com>");
    cq_test_assert_mail_header(mail, "To", "Ops <ops@example.com>, dba@example.com");
    cq_test_assert_mail_header(mail, "Cc", "boss@example.com");
    cq_test_assert_mail_header(mail, "Subject", "ALERT Disk full is triggered (5)");
    cq_test_assert_mail_header(mail, "Date", "Sat, 21 Nov 2026 09:30:00 +0000");
    char *v = cq_test_mail_header(mail, "Message-ID");
    assert_true(v[0] == '<' && strstr(v, "@example.com>") != NULL);
    free(v);
    cq_test_assert_mail_header(mail, "MIME-Version", "1.0");
    v = cq_test_mail_header(mail, "Content-Type");
    assert_true(strncmp(v, "multipart/alternative; boundary=", 32) == 0);
    free(v);

    char *ph = NULL;
    char *text = cq_test_mail_part(mail, "text/plain", &ph);
    assert_non_null(text);
    assert_non_null(strstr(ph, "charset=UTF-8"));
    assert_non_null(strstr(ph, "quoted-printable"));
    char *t = table(&m, 10);
    char want[2048];
    snprintf(want, sizeof(want), "Disk usage is high on 3 hosts.\n\n%s", t);
    assert_string_equal(text, want);
    free(t);
    free(text);
    free(ph);

    char *html = cq_test_mail_part(mail, "text/html", NULL);
    assert_non_null(html);
    assert_non_null(strstr(html, "<th>host</th><th>used_pct</th><th>note</th>"));
    assert_non_null(strstr(html, "<td>disk &lt;full&gt; &amp; &quot;loud&quot;</td>"));
    assert_non_null(strstr(html, "<i>NULL</i>"));
    assert_non_null(strstr(html, "2 more rows"));
    assert_null(strstr(html, "<full>"));
    free(html);

    /* deterministic: a retry sends the same message (same Message-ID) */
    char *again = format(&cc, &m);
    assert_string_equal(mail, again);
    free(again);
    free(mail);
}

static void test_email_subject_encoding(void **state)
{
    (void)state;
    struct cq_alert_msg m = base_msg();
    struct cq_channel_conf cc = base_conf(CQ_CHANNEL_EMAIL);
    m.alert_name = "Plattenplatz f\xC3\xBCr Datenbank \xE2\x80\x94 \xE6\x97\xA5\xE6\x9C\xAC "
                   "and a long tail to force several encoded words";
    m.state = "trig\ngered"; /* a line break must not end the header */
    char *mail = format(&cc, &m);
    assert_crlf_lines(mail);
    char *raw = cq_test_mail_header(mail, "Subject");
    assert_true(strncmp(raw, "=?UTF-8?B?", 10) == 0);
    char *dec = cq_test_mail_decode_words(raw);
    char want[512];
    snprintf(want, sizeof(want), "[clariq] %s: trig gered", m.alert_name);
    assert_string_equal(dec, want);
    free(dec);
    free(raw);
    /* every encoded word within 75 characters */
    const char *s = strstr(mail, "\r\nSubject:");
    const char *end = strstr(s + 2, "\r\nMessage-ID");
    for (const char *w = strstr(s, "=?"); w && w < end; w = strstr(w + 2, "=?")) {
        assert_true((size_t)(strstr(w, "?=") + 2 - w) <= 75);
    }
    free(mail);

    /* no template: the default subject */
    cc.subject = NULL;
    m = base_msg();
    mail = format(&cc, &m);
    raw = cq_test_mail_header(mail, "Subject");
    assert_string_equal(raw, "[clariq] Disk full: triggered");
    free(raw);
    free(mail);
}

static void test_email_qp_and_text(void **state)
{
    (void)state;
    struct cq_alert_msg m = base_msg();
    struct cq_channel_conf cc = base_conf(CQ_CHANNEL_EMAIL);
    char text[400];
    memset(text, 0, sizeof(text));
    for (size_t i = 0; i < 300; i++) {
        text[i] = "ab= "[i % 4];
    }
    strcat(text, "\xC3\xA9 trailing space \n.dot\n");
    m.text = text;
    m.n_cols = 0;
    char *mail = format(&cc, &m);
    const char *body = strstr(mail, "\r\n\r\n");
    for (const char *p = body; *p;) { /* body lines within 76 bytes */
        const char *nl = strstr(p, "\r\n");
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        assert_true(len <= 76);
        p = nl ? nl + 2 : p + len;
    }
    char *plain = cq_test_mail_part(mail, "text/plain", NULL);
    assert_string_equal(plain, text);
    free(plain);
    free(mail);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_rfc4231),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_table_cut_utf8),
        cmocka_unit_test(test_vars),
        cmocka_unit_test(test_encode_parse),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_slack_format),
        cmocka_unit_test(test_slack_caps),
        cmocka_unit_test(test_webhook_format),
        cmocka_unit_test(test_email_format),
        cmocka_unit_test(test_email_subject_encoding),
        cmocka_unit_test(test_email_qp_and_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
