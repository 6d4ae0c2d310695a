/*
 * it_channels.c - real deliveries: Slack and webhooks to the in-process HTTP mock, e-mail
 * to a real SMTP server (tests/support/smtpsink.py).
 *
 * Checks what reached the receiver (method, path, headers, exact body = format(), HMAC
 * signature), the OK / RETRY / FAIL verdicts for statuses, timeouts, refused connections
 * and SMTP replies, and that no error message leaks a webhook path, query token, header
 * token or HMAC key. Needs /usr/bin/python3 for the SMTP sink (exit 77 without it, or 1
 * under CI=true). Tests may use libc allocation directly (they are not src/).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alert/channel.h"
#include "alert/msg.h"
#include "base/arena.h"
#include "base/time.h"
#include "cqtest.h"
#include "httpmock.h"
#include "smtpsink.h"

#define SLACK_PATH "/services/T000/B000/XSECRETX"
#define HOOK_PATH "/hook/PSECRETP"
#define HOOK_TOKEN "QSECRETQ"
#define HMAC_KEY "KSECRETK"
#define HDR_TOKEN "HSECRETH"

struct env {
    struct cq_httpmock *hm;
    char slack_url[256];
    char hook_url[256];
    char *mail_dir;
    int smtp_port;
    pid_t smtp_pid;
    int dead_port;            /* nothing listens there */
    struct cq_arena arena;
    struct cq_alert_msg msg;
    int n_mail;               /* messages the sink stored so far */
};

static const char *const cols[] = {"host", "used_pct", "note"};
static const char *const cells[] = {
    "db1", "97.5", "disk <full> & \"loud\"",
    "db2", NULL, "line1\nline2",
};

static struct cq_header hook_headers[] = {
    {"Authorization", "Bearer " HDR_TOKEN},
    {"X-Team", "ops"},
};

static char *to_list[] = {"Ops Team <ops@example.com>", "dba@example.com"};
static char *cc_list[] = {"boss@example.com"};

static int free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
        port = ntohs(sa.sin_port);
    }
    close(fd);
    return port;
}

static int group_setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    struct cq_err err = {0};
    assert_int_equal(cq_alert_channels_init(&err), CQ_OK);
    e->hm = cq_httpmock_start();
    assert_non_null(e->hm);
    snprintf(e->slack_url, sizeof(e->slack_url), "%s" SLACK_PATH, cq_httpmock_url(e->hm));
    snprintf(e->hook_url, sizeof(e->hook_url), "%s" HOOK_PATH "?token=" HOOK_TOKEN,
             cq_httpmock_url(e->hm));
    e->mail_dir = cq_test_tmpdir("it_channels_mail");
    assert_non_null(e->mail_dir);
    assert_true(cq_test_smtp_start(e->mail_dir, &e->smtp_port, &e->smtp_pid));
    e->dead_port = free_port();
    assert_true(e->dead_port > 0);

    cq_arena_init(&e->arena, 4096, 0);
    e->msg = (struct cq_alert_msg){
        .alert_id = "disk_full",
        .alert_name = "Disk f\xC3\xBCll",
        .state = "triggered",
        .reason = "2 rows",
        .value = "97.5",
        .threshold = "90",
        .run_at = "2026-11-21T09:30:00Z",
        .text = "Disk usage is high.\nCheck db1 first.",
        .row_count = 7,
        .n_cols = 3,
        .cols = cols,
        .n_rows = 2,
        .cells = cells,
    };
    assert_int_equal(cq_alert_msg_encode(&e->msg, &e->arena, &err), CQ_OK);
    *state = e;
    return 0;
}

static int group_teardown(void **state)
{
    struct env *e = *state;
    cq_test_smtp_stop(e->smtp_pid);
    cq_httpmock_stop(e->hm);
    cq_arena_free(&e->arena);
    free(e->mail_dir);
    free(e);
    return 0;
}

static int reset(void **state)
{
    struct env *e = *state;
    cq_httpmock_reset(e->hm);
    return 0;
}

static struct cq_channel_conf slack_conf(const struct env *e)
{
    return (struct cq_channel_conf){.name = "ops_slack", .kind = CQ_CHANNEL_SLACK,
                                    .timeout_ms = 5000, .max_rows = 10,
                                    .webhook_url = (char *)(uintptr_t)e->slack_url};
}

static struct cq_channel_conf hook_conf(const struct env *e)
{
    return (struct cq_channel_conf){.name = "ops_hook", .kind = CQ_CHANNEL_WEBHOOK,
                                    .timeout_ms = 5000, .max_rows = 10,
                                    .url = (char *)(uintptr_t)e->hook_url,
                                    .headers = hook_headers, .n_headers = 2,
                                    .hmac_secret = HMAC_KEY};
}

static struct cq_channel_conf mail_conf(const struct env *e)
{
    return (struct cq_channel_conf){.name = "ops_mail", .kind = CQ_CHANNEL_EMAIL,
                                    .timeout_ms = 5000, .max_rows = 10,
                                    .host = "127.0.0.1", .port = e->smtp_port,
                                    .tls = CQ_TLS_NONE,
                                    .from = "Clariq Alerts <alerts@example.com>",
                                    .to = to_list, .n_to = 2, .cc = cc_list, .n_cc = 1,
                                    .subject = "[{{state}}] {{alert.name}} ({{row_count}})"};
}

static char *format(const struct cq_channel_conf *cc, const struct cq_alert_msg *m)
{
    struct cq_buf b;
    cq_buf_init(&b, (size_t)1 << 24);
    cq_alert_channel_type(cc->kind)->ops->format(cc, m, &b);
    assert_int_equal(cq_buf_rc(&b), CQ_OK);
    char *s = strdup(cq_buf_str(&b));
    cq_buf_cleanup(&b);
    return s;
}

static int deliver(const struct cq_channel_conf *cc, const struct cq_alert_msg *m,
                struct cq_err *err)
{
    cq_err_clear(err);
    return cq_alert_channel_type(cc->kind)->ops->send(cc, m, err);
}

/* No secret of any channel may appear in an error message. */
static void assert_no_secret(const struct cq_err *err)
{
    static const char *const secrets[] = {"XSECRETX", "PSECRETP", HOOK_TOKEN, HMAC_KEY,
                                          HDR_TOKEN, "/services/", "/hook"};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        if (strstr(err->msg, secrets[i]) != NULL) {
            fail_msg("secret \"%s\" in error: %s", secrets[i], err->msg);
        }
    }
}

/* ---- slack ------------------------------------------------------------------------------ */

static void test_slack_delivery(void **state)
{
    struct env *e = *state;
    struct cq_channel_conf cc = slack_conf(e);
    struct cq_err err = {0};
    struct cq_httpmock_reply ok = {.status = 200, .body = "ok"};

    cq_httpmock_script(e->hm, &ok, 1);
    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_OK);
    assert_true(cq_httpmock_wait_requests(e->hm, 1, 2000));
    const struct cq_httpmock_req *r = cq_httpmock_request(e->hm, 0);
    assert_string_equal(r->method, "POST");
    assert_string_equal(r->path, SLACK_PATH);
    assert_string_equal(cq_httpmock_header(r, "Content-Type"),
                        "application/json; charset=utf-8");
    assert_non_null(strstr(cq_httpmock_header(r, "User-Agent"), "clariq/"));
    assert_null(cq_httpmock_header(r, "Expect"));
    char *body = format(&cc, &e->msg);
    assert_int_equal(r->body_len, strlen(body));
    assert_string_equal(r->body, body);
    free(body);
}

static void test_slack_retry_then_ok(void **state)
{
    struct env *e = *state;
    struct cq_channel_conf cc = slack_conf(e);
    struct cq_err err = {0};
    struct cq_httpmock_reply script[] = {{.status = 500, .body = "internal\nboom"},
                                         {.status = 200, .body = "ok"}};
    char origin[64];

    cq_httpmock_script(e->hm, script, 2);
    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_RETRY);
    snprintf(origin, sizeof(origin), "from %s: internal boom", cq_httpmock_url(e->hm));
    assert_non_null(strstr(err.msg, "channel ops_slack (slack): HTTP 500 "));
    assert_non_null(strstr(err.msg, origin));
    assert_string_equal(err.backend_code, "500");
    assert_true(err.retryable);
    assert_no_secret(&err);
    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_OK);
    assert_int_equal(cq_httpmock_n_requests(e->hm), 2);
    assert_string_equal(cq_httpmock_request(e->hm, 0)->body,
                        cq_httpmock_request(e->hm, 1)->body);
}

static void test_status_verdicts(void **state)
{
    struct env *e = *state;
    struct cq_channel_conf cc = slack_conf(e);
    static const struct {
        int status;
        int want;
    } cases[] = {{200, CQ_CHAN_OK},    {204, CQ_CHAN_OK},    {408, CQ_CHAN_RETRY},
                 {429, CQ_CHAN_RETRY}, {502, CQ_CHAN_RETRY}, {503, CQ_CHAN_RETRY},
                 {400, CQ_CHAN_FAIL},  {403, CQ_CHAN_FAIL},  {404, CQ_CHAN_FAIL},
                 {410, CQ_CHAN_FAIL},  {301, CQ_CHAN_FAIL}};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cq_err err = {0};
        struct cq_httpmock_reply r = {.status = cases[i].status, .body = "no_service"};
        char want[32];
        cq_httpmock_script(e->hm, &r, 1);
        assert_int_equal(deliver(&cc, &e->msg, &err), cases[i].want);
        if (cases[i].want == CQ_CHAN_OK) {
            assert_int_equal(err.rc, CQ_OK);
            continue;
        }
        snprintf(want, sizeof(want), "HTTP %d from", cases[i].status);
        assert_non_null(strstr(err.msg, want));
        assert_non_null(strstr(err.msg, ": no_service"));
        assert_int_equal(err.retryable, cases[i].want == CQ_CHAN_RETRY);
        assert_no_secret(&err);
    }
}

static void test_long_error_body(void **state)
{
    struct env *e = *state;
    struct cq_channel_conf cc = slack_conf(e);
    struct cq_err err = {0};
    char *big = malloc(200001);
    for (size_t i = 0; i < 200000; i++) {
        big[i] = (char)('a' + i % 26);
    }
    big[200000] = '\0';
    struct cq_httpmock_reply r = {.status = 500, .body = big};
    cq_httpmock_script(e->hm, &r, 1);
    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_RETRY);
    const char *q = strstr(err.msg, ": abcdef");
    assert_non_null(q);
    assert_int_equal(strlen(q + 2), 200);
    free(big);
}

static void test_timeout(void **state)
{
    struct env *e = *state;
    struct cq_channel_conf cc = slack_conf(e);
    struct cq_err err = {0};
    struct cq_httpmock_reply slow = {.status = 200, .body = "ok", .delay_ms = 5000};

    cc.timeout_ms = 300;
    cq_httpmock_script(e->hm, &slow, 1);
    int64_t t0 = cq_now_ms();
    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_RETRY);
    int64_t took = cq_now_ms() - t0;
    assert_true(took >= 250 && took < 1500);
    assert_int_equal(err.rc, CQ_ETIMEOUT);
    assert_non_null(strstr(err.msg, "timed out after 300 ms"));
    assert_true(err.retryable);
    assert_no_secret(&err);
}

static void test_connection_refused(void **state)
{
    struct env *e = *state;
    struct cq_err err = {0};
    char url[128];
    struct cq_channel_conf cc = slack_conf(e);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d" SLACK_PATH, e->dead_port);
    cc.webhook_url = url;
    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_RETRY);
    assert_int_equal(err.rc, CQ_ECONNECT);
    assert_non_null(strstr(err.msg, "channel ops_slack (slack): http://127.0.0.1:"));
    assert_true(err.retryable);
    assert_no_secret(&err);
}

/* ---- webhook ---------------------------------------------------------------------------- */

static void test_webhook_delivery(void **state)
{
    struct env *e = *state;
    struct cq_channel_conf cc = hook_conf(e);
    struct cq_err err = {0};
    char sig[72];

    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_OK);
    const struct cq_httpmock_req *r = cq_httpmock_request(e->hm, 0);
    assert_non_null(r);
    assert_string_equal(r->method, "POST");
    assert_string_equal(r->path, HOOK_PATH);
    assert_string_equal(cq_httpmock_arg(r, "token"), HOOK_TOKEN);
    assert_string_equal(cq_httpmock_header(r, "Content-Type"), "application/json");
    assert_string_equal(cq_httpmock_header(r, "Authorization"), "Bearer " HDR_TOKEN);
    assert_string_equal(cq_httpmock_header(r, "X-Team"), "ops");
    assert_string_equal(r->body, e->msg.json);
    char *body = format(&cc, &e->msg);
    assert_string_equal(r->body, body);
    free(body);
    /* the receiver's check: HMAC of the exact bytes received */
    cq_alert_channel_sign(HMAC_KEY, r->body, r->body_len, sig);
    assert_string_equal(cq_httpmock_header(r, "X-Clariq-Signature"), sig);
    cq_alert_channel_sign("wrong key", r->body, r->body_len, sig);
    assert_string_not_equal(cq_httpmock_header(r, "X-Clariq-Signature"), sig);

    /* a custom signature header; no secret: unsigned */
    cc.signature_header = "X-Hub-Signature-256";
    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_OK);
    r = cq_httpmock_request(e->hm, 1);
    cq_alert_channel_sign(HMAC_KEY, r->body, r->body_len, sig);
    assert_string_equal(cq_httpmock_header(r, "X-Hub-Signature-256"), sig);
    assert_null(cq_httpmock_header(r, "X-Clariq-Signature"));
    cc.hmac_secret = NULL;
    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_OK);
    r = cq_httpmock_request(e->hm, 2);
    assert_null(cq_httpmock_header(r, "X-Hub-Signature-256"));
}

static void test_webhook_failures(void **state)
{
    struct env *e = *state;
    struct cq_channel_conf cc = hook_conf(e);
    struct cq_err err = {0};
    struct cq_httpmock_reply script[] = {{.status = 404, .body = "unknown hook"},
                                         {.status = 503, .body = "maintenance"}};
    struct cq_header bad[] = {{"X-Evil", "a\r\nX-Injected: 1"}};

    cq_httpmock_script(e->hm, script, 2);
    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_FAIL);
    assert_non_null(strstr(err.msg, "channel ops_hook (webhook): HTTP 404 from http://"));
    assert_false(err.retryable);
    assert_no_secret(&err);
    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_RETRY);
    assert_non_null(strstr(err.msg, "HTTP 503"));
    assert_no_secret(&err);

    /* receivers that echo the URL, a token or a header back: the body is not quoted */
    struct cq_httpmock_reply echo[] = {
        {.status = 404, .body = "no route for POST " HOOK_PATH "?token=" HOOK_TOKEN},
        {.status = 401, .body = "bad credentials: Bearer " HDR_TOKEN},
        {.status = 400, .body = "token " HOOK_TOKEN " expired"},
    };
    cq_httpmock_script(e->hm, echo, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_FAIL);
        assert_non_null(strstr(err.msg, "(body withheld: it repeats a secret)"));
        assert_no_secret(&err);
    }

    /* a header that would smuggle another one is refused before sending */
    size_t before = cq_httpmock_n_requests(e->hm);
    cc.headers = bad;
    cc.n_headers = 1;
    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_FAIL);
    assert_non_null(strstr(err.msg, "X-Evil"));
    assert_int_equal(cq_httpmock_n_requests(e->hm), before);

    /* timeouts and refused connections on the webhook path too */
    struct cq_httpmock_reply slow = {.status = 200, .delay_ms = 3000};
    cc = hook_conf(e);
    cc.timeout_ms = 200;
    cq_httpmock_script(e->hm, &slow, 1);
    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_RETRY);
    assert_non_null(strstr(err.msg, "timed out"));
    assert_no_secret(&err);
    char url[160];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d" HOOK_PATH "?token=" HOOK_TOKEN,
             e->dead_port);
    cc.url = url;
    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_RETRY);
    assert_no_secret(&err);
}

/* ---- email ------------------------------------------------------------------------------ */

/* Waits for the next stored message and returns it (free()). */
static char *next_mail(struct env *e)
{
    e->n_mail++;
    assert_true(cq_test_smtp_wait(e->mail_dir, e->n_mail, 5000));
    char *m = cq_test_smtp_message(e->mail_dir, e->n_mail);
    assert_non_null(m);
    return m;
}

static char *lf(const char *s)
{
    char *d = malloc(strlen(s) + 1), *p = d;
    for (; *s; s++) {
        if (!(s[0] == '\r' && s[1] == '\n')) {
            *p++ = *s;
        }
    }
    *p = '\0';
    return d;
}

static void test_email_delivery(void **state)
{
    struct env *e = *state;
    struct cq_channel_conf cc = mail_conf(e);
    struct cq_err err = {0};

    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_OK);
    char *mail = next_mail(e);
    cq_test_assert_mail_header(mail, "X-Envelope-From", "alerts@example.com");
    cq_test_assert_mail_header(mail, "X-Envelope-To",
                               "ops@example.com, dba@example.com, boss@example.com");
    cq_test_assert_mail_header(mail, "From", "Clariq Alerts <alerts@example.com>");
    cq_test_assert_mail_header(mail, "To", "Ops Team <ops@example.com>, dba@example.com");
    cq_test_assert_mail_header(mail, "Cc", "boss@example.com");
    char *v = cq_test_mail_header(mail, "Subject");
    char *subject = cq_test_mail_decode_words(v);
    assert_string_equal(subject, "[triggered] Disk f\xC3\xBCll (7)");
    free(subject);
    free(v);

    char *ph = NULL;
    char *text = cq_test_mail_part(mail, "text/plain", &ph);
    assert_non_null(text);
    assert_non_null(strstr(ph, "text/plain; charset=UTF-8"));
    assert_true(strncmp(text, "Disk usage is high.\nCheck db1 first.\n\nhost | used_pct | note\n",
                        61) == 0);
    assert_non_null(strstr(text, "db2  | NULL     | line1 line2\n"));
    assert_non_null(strstr(text, "... 5 more rows"));
    free(ph);
    free(text);
    char *html = cq_test_mail_part(mail, "text/html", &ph);
    assert_non_null(html);
    assert_non_null(strstr(ph, "text/html; charset=UTF-8"));
    assert_non_null(strstr(html, "<h2>Disk f\xC3\xBCll: triggered</h2>"));
    assert_non_null(strstr(html, "<td>disk &lt;full&gt; &amp; &quot;loud&quot;</td>"));
    assert_non_null(strstr(html, "Disk usage is high.<br>\nCheck db1 first."));
    free(ph);
    free(html);

    /* what arrived is what format() built (the sink stores LF line endings) */
    char *built = format(&cc, &e->msg);
    char *want = lf(built);
    free(built);
    const char *got = strchr(strchr(mail, '\n') + 1, '\n') + 1;
    size_t n = strlen(want);
    while (n > 0 && want[n - 1] == '\n') {
        want[--n] = '\0';
    }
    assert_string_equal(got, want);
    free(want);
    free(mail);
}

static void test_email_smtp_replies(void **state)
{
    struct env *e = *state;
    struct cq_channel_conf cc = mail_conf(e);
    struct cq_err err = {0};
    char *perm[] = {"reject5@example.com"};
    char *temp[] = {"tempfail4@example.com"};

    cc.username = NULL;
    cc.to = perm;
    cc.n_to = 1;
    cc.n_cc = 0;
    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_FAIL);
    assert_non_null(strstr(err.msg, "channel ops_mail (email): SMTP 554 from smtp://127.0.0.1:"));
    assert_string_equal(err.backend_code, "554");
    cc.to = temp;
    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_RETRY);
    assert_non_null(strstr(err.msg, "SMTP 451"));
    assert_true(err.retryable);

    char *bad[] = {"not an address"};
    cc.to = bad;
    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_FAIL);
    assert_non_null(strstr(err.msg, "invalid to address"));
}

static void test_email_starttls_plain_server(void **state)
{
    struct env *e = *state;
    struct cq_channel_conf cc = mail_conf(e);
    struct cq_err err = {0};
    cc.tls = CQ_TLS_STARTTLS;
    cc.username = "alerts";
    cc.password = "MSECRETM";
    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_FAIL);
    assert_non_null(strstr(err.msg, "does not offer STARTTLS"));
    assert_int_equal(err.rc, CQ_EPROTO);
    assert_null(strstr(err.msg, "MSECRETM"));
}

static void test_email_server_down(void **state)
{
    struct env *e = *state;
    struct cq_channel_conf cc = mail_conf(e);
    struct cq_err err = {0};
    cc.port = e->dead_port;
    cc.password = "MSECRETM";
    cc.username = "alerts";
    int64_t t0 = cq_now_ms();
    assert_int_equal(deliver(&cc, &e->msg, &err), CQ_CHAN_RETRY);
    assert_true(cq_now_ms() - t0 < 3000);
    assert_int_equal(err.rc, CQ_ECONNECT);
    assert_true(err.retryable);
    assert_non_null(strstr(err.msg, "channel ops_mail (email): smtp://127.0.0.1:"));
    assert_null(strstr(err.msg, "MSECRETM"));
}

int main(void)
{
    if (!cq_test_smtp_available()) {
        const char *ci = getenv("CI");
        bool in_ci = ci != NULL && strcmp(ci, "true") == 0;
        fprintf(stderr, "%s: /usr/bin/python3 or smtpsink.py missing\n", in_ci ? "FAIL" : "SKIP");
        return in_ci ? 1 : 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_slack_delivery, reset),
        cmocka_unit_test_setup(test_slack_retry_then_ok, reset),
        cmocka_unit_test_setup(test_status_verdicts, reset),
        cmocka_unit_test_setup(test_long_error_body, reset),
        cmocka_unit_test_setup(test_timeout, reset),
        cmocka_unit_test_setup(test_connection_refused, reset),
        cmocka_unit_test_setup(test_webhook_delivery, reset),
        cmocka_unit_test_setup(test_webhook_failures, reset),
        cmocka_unit_test(test_email_delivery),
        cmocka_unit_test(test_email_smtp_replies),
        cmocka_unit_test(test_email_starttls_plain_server),
        cmocka_unit_test(test_email_server_down),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
