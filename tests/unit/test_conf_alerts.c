/*
 * test_conf_alerts.c - alerts, channels, include, state and scheduler in clariq.yaml: a
 * full file with every key (asserting the structs), the defaults, every rule form,
 * includes with globs in a temp directory, and one test per kind of mistake asserting the
 * exact diagnostics (file:line:col, path, message, hint). Secrets never appear in them.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/tz.h"
#include "conf/conf.h"
#include "cqtest.h"

#define DAY_MS 86400000LL

/* Two connections; db has a 30s timeout, pg is read-only. */
#define CONNS                                                                                      \
    "connections:\n"                                                                               \
    "  db: {path: a.db, limits: {timeout: 30s}}\n"                                                 \
    "  pg: {url: postgres://h/db}\n"
/* A valid alert, lines 5-9 after CONNS; more keys may follow. */
#define ALERT                                                                                      \
    "alerts:\n"                                                                                    \
    "  - id: a1\n"                                                                                 \
    "    connection: db\n"                                                                         \
    "    sql: SELECT 1\n"                                                                          \
    "    schedule: '@hourly'\n"

/* ---- helpers ----------------------------------------------------------------------------- */

static int64_t dur(const char *s)
{
    int64_t ms = -1;
    assert_int_equal(cq_parse_duration_ms(s, &ms, NULL), CQ_OK);
    return ms;
}

static void print_diags(const struct cq_conf_diags *d, const struct cq_err *err)
{
    struct cq_buf b;
    cq_buf_init(&b, 1 << 16);
    cq_conf_diags_format(d, &b);
    print_error("unexpected problems: %s\n%s", err->msg, cq_buf_str(&b));
    cq_buf_cleanup(&b);
}

static struct cq_conf *good(const char *name, const char *text)
{
    struct cq_conf_diags d = {NULL, 0, 0};
    struct cq_err err = {0};
    struct cq_conf *conf = cq_conf_load_mem(name, text, strlen(text), &d, &err);
    if (conf == NULL) {
        print_diags(&d, &err);
    }
    cq_conf_diags_cleanup(&d);
    assert_non_null(conf);
    return conf;
}

/* The formatted diagnostics of a rejected load (cq_free them). */
static char *format_diags(struct cq_conf *conf, struct cq_conf_diags *d, struct cq_err *err)
{
    struct cq_buf b;
    assert_null(conf);
    assert_int_equal(err->rc, CQ_EINVAL);
    assert_true(d->n > 0);
    cq_buf_init(&b, 1 << 16);
    cq_conf_diags_format(d, &b);
    cq_conf_diags_cleanup(d);
    assert_int_equal(cq_buf_rc(&b), CQ_OK);
    return cq_buf_take(&b);
}

static char *bad(const char *text, struct cq_err *err)
{
    struct cq_conf_diags d = {NULL, 0, 0};
    struct cq_conf *conf = cq_conf_load_mem("clariq.yaml", text, strlen(text), &d, err);
    return format_diags(conf, &d, err);
}

static void expect_diags(const char *text, const char *expected)
{
    struct cq_err err = {0};
    char *got = bad(text, &err);
    assert_string_equal(got, expected);
    cq_free(got);
}

/* 1-based line of the first line of text that contains needle. */
static int line_of(const char *text, const char *needle)
{
    const char *at = strstr(text, needle);
    int line = 1;
    assert_non_null(at);
    for (const char *p = text; p < at; p++) {
        line += *p == '\n';
    }
    return line;
}

/* A scratch directory the test works in (relative names make exact messages). */
struct workdir {
    char *dir;
    char cwd[1024];
};

static void enter(struct workdir *w, const char *tag)
{
    w->dir = cq_test_tmpdir(tag);
    assert_non_null(w->dir);
    assert_non_null(getcwd(w->cwd, sizeof(w->cwd)));
    assert_int_equal(chdir(w->dir), 0);
}

static void leave(struct workdir *w)
{
    assert_int_equal(chdir(w->cwd), 0);
    free(w->dir);
}

static void put(const char *path, const char *text)
{
    assert_true(cq_test_write_file(path, text));
}

static int set_env(void **state)
{
    (void)state;
    setenv("CQT_SLACK_URL", "https://hooks.slack.example/T0/B0/slack-secret-1", 1);
    setenv("CQT_SMTP_USER", "mailer", 1);
    setenv("CQT_SMTP_PASSWORD", "smtp-secret-2", 1);
    setenv("CQT_HOOK_TOKEN", "tok123", 1);
    setenv("CQT_HOOK_SECRET", "hmac-secret-3", 1);
    setenv("CQT_SECRET_HDR", "hunter2-Zq9\r\nX-Evil: 1", 1);
    unsetenv("CQT_UNSET");
    return 0;
}
/* ---- a full configuration ---------------------------------------------------------------- */

static const char main_yaml[] =
    "limits: {timeout: 30s}\n"
    "connections:\n"
    "  local: {path: app.db, limits: {timeout: 20s}}\n"
    "  main: {url: 'postgres://app@db/app', read_only: false}\n"
    "channels:\n"
    "  ops_slack:\n"
    "    type: slack\n"
    "    webhook_url: ${CQT_SLACK_URL}\n"
    "    max_rows: 5\n"
    "    timeout: 3s\n"
    "    retries: 0\n"
    "    backoff: 2s\n"
    "    backoff_max: 1m\n"
    "  oncall_mail:\n"
    "    type: email\n"
    "    host: smtp.example.com\n"
    "    tls: tls\n"
    "    username: ${CQT_SMTP_USER}\n"
    "    password: ${CQT_SMTP_PASSWORD}\n"
    "    from: clariq@example.com\n"
    "    to: [a@example.com, b@example.com]\n"
    "    cc: c@example.com\n"
    "    subject: \"{{ alert.name }} -> {{state}}\"\n"
    "  audit_hook:\n"
    "    type: webhook\n"
    "    url: https://example.com/hook?token=${CQT_HOOK_TOKEN}\n"
    "    headers: {X-Team: data, Authorization: \"Bearer ${CQT_HOOK_TOKEN}\"}\n"
    "    hmac_secret: ${CQT_HOOK_SECRET}\n"
    "    signature_header: X-Sig\n"
    "alerts:\n"
    "  - id: pending_orders\n"
    "    name: Orders waiting too long\n"
    "    connection: local\n"
    "    sql: |\n"
    "      SELECT id FROM orders WHERE status = $1 AND age > $2\n"
    "    params: [pending, \"int:5\", \"${CQT_UNSET:-10}\", ~, 7]\n"
    "    schedule: \"*/15 * * * *\"\n"
    "    timezone: Europe/Berlin\n"
    "    rule: {type: threshold, column: lag_s, op: \">=\", value: 10.5, row: max}\n"
    "    channels: [ops_slack, oncall_mail]\n"
    "    cooldown: 1h\n"
    "    notify_on: trigger\n"
    "    message: \"{{alert.name}} is {{state}}: {{value}} (threshold {{threshold}})\"\n"
    "    enabled: false\n"
    "    timeout: 10s\n"
    "include:\n"
    "  - alerts.yaml\n"
    "  - alerts.d/*.yaml\n"
    "  - none.d/*.yaml\n"
    "state:\n"
    "  connection: main\n"
    "  retention_days: 7\n"
    "scheduler:\n"
    "  workers: 8\n"
    "  shutdown_timeout: 1m\n";

static const char alerts_yaml[] = "channels:\n"
                                  "  team_hook: {type: webhook, url: 'https://example.com/team'}\n"
                                  "alerts:\n"
                                  "  - id: from_file\n"
                                  "    connection: main\n"
                                  "    sql_file: queries/lag.sql\n"
                                  "    schedule: \"@every 5m\"\n"
                                  "    rule: no_rows\n"
                                  "    channels: team_hook\n";

static const char b_yaml[] = "# sql_file is relative to this file's directory\n"
                             "alerts:\n"
                             "  - id: b_change\n"
                             "    connection: local\n"
                             "    sql_file: ../queries/lag.sql\n"
                             "    schedule: \"0 9 * * mon-fri\"\n"
                             "    rule: {type: change, column: total, absolute: 100}\n";

static const char a_yaml[] = "alerts:\n"
                             "  - id: a_digest\n"
                             "    connection: local\n"
                             "    sql: SELECT 1\n"
                             "    schedule: \"@daily\"\n"
                             "    rule: always\n"
                             "    channels: []\n";

static const char lag_sql[] = "SELECT now() - max(ts) AS lag_s FROM events\n";

static void write_full_tree(void)
{
    put("clariq.yaml", main_yaml);
    put("alerts.yaml", alerts_yaml);
    assert_int_equal(mkdir("alerts.d", 0755), 0);
    assert_int_equal(mkdir("alerts.d/dir.yaml", 0755), 0); /* matched, skipped */
    assert_int_equal(mkdir("queries", 0755), 0);
    put("alerts.d/b.yaml", b_yaml);
    put("alerts.d/a.yaml", a_yaml);
    put("queries/lag.sql", lag_sql);
}

static void check_pending_orders(const struct cq_conf *conf)
{
    const struct cq_alert_conf *a = cq_conf_alert(conf, "pending_orders");
    assert_ptr_equal(a, &conf->alerts[0]);
    assert_string_equal(a->name, "Orders waiting too long");
    assert_string_equal(a->connection, "local");
    assert_string_equal(a->sql, "SELECT id FROM orders WHERE status = $1 AND age > $2\n");
    assert_null(a->sql_file);
    assert_int_equal(a->n_params, 5);
    assert_string_equal(a->params[0], "pending");
    assert_string_equal(a->params[1], "int:5");
    assert_string_equal(a->params[2], "10");
    assert_string_equal(a->params[3], "null");
    assert_string_equal(a->params[4], "7");
    assert_string_equal(a->schedule, "*/15 * * * *");
    assert_true(a->cron.minutes == ((1ULL << 0) | (1ULL << 15) | (1ULL << 30) | (1ULL << 45)));
    assert_int_equal(a->cron.every_ms, 0);
    assert_string_equal(a->timezone, "Europe/Berlin");
    assert_non_null(a->tz);
    assert_string_equal(cq_tz_name(a->tz), "Europe/Berlin");
    assert_int_equal(a->rule.type, CQ_RULE_THRESHOLD);
    assert_string_equal(a->rule.column, "lag_s");
    assert_int_equal(a->rule.op, CQ_OP_GE);
    assert_true(a->rule.value == 10.5);
    assert_string_equal(a->rule.value_text, "10.5");
    assert_int_equal(a->rule.row, CQ_ROW_MAX);
    assert_int_equal(a->n_channels, 2);
    assert_string_equal(a->channels[0], "ops_slack");
    assert_string_equal(a->channels[1], "oncall_mail");
    assert_int_equal(a->cooldown_ms, dur("1h"));
    assert_int_equal(a->notify_on, CQ_NOTIFY_TRIGGER);
    assert_string_equal(a->message,
                        "{{alert.name}} is {{state}}: {{value}} (threshold {{threshold}})");
    assert_false(a->enabled);
    assert_int_equal(a->timeout_ms, dur("10s"));
    assert_string_equal(a->file, "clariq.yaml");
    assert_int_equal(a->line, line_of(main_yaml, "- id: pending_orders"));
}

static void check_included_alerts(const struct cq_conf *conf)
{
    const struct cq_alert_conf *f = &conf->alerts[1], *d = &conf->alerts[2], *b = &conf->alerts[3];
    /* in place of the include:, then alerts.d/ sorted; the directory dir.yaml skipped */
    assert_string_equal(f->id, "from_file");
    assert_string_equal(f->name, "from_file");
    assert_string_equal(f->sql, lag_sql);
    assert_string_equal(f->sql_file, "queries/lag.sql");
    assert_true(f->cron.every_ms == dur("5m"));
    assert_string_equal(f->timezone, "UTC");
    assert_string_equal(cq_tz_name(f->tz), "UTC");
    assert_int_equal(f->rule.type, CQ_RULE_NO_ROWS);
    assert_int_equal(f->n_channels, 1);
    assert_string_equal(f->channels[0], "team_hook");
    assert_int_equal(f->timeout_ms, dur("30s")); /* main's, from the top-level limits */
    assert_true(f->enabled);
    assert_string_equal(f->file, "alerts.yaml");
    assert_int_equal(f->line, 4);

    assert_string_equal(d->id, "a_digest");
    assert_int_equal(d->rule.type, CQ_RULE_ALWAYS);
    assert_int_equal(d->n_channels, 0);
    assert_string_equal(d->file, "alerts.d/a.yaml");
    assert_int_equal(d->timeout_ms, dur("20s"));

    assert_string_equal(b->id, "b_change");
    assert_string_equal(b->sql_file, "alerts.d/../queries/lag.sql");
    assert_string_equal(b->sql, lag_sql);
    assert_true(b->cron.hours == (1u << 9) && b->cron.wdays == 0x3e && !b->cron.wday_any);
    assert_int_equal(b->rule.type, CQ_RULE_CHANGE);
    assert_string_equal(b->rule.column, "total");
    assert_false(b->rule.percent);
    assert_false(b->rule.signed_delta);
    assert_true(b->rule.value == 100);
    assert_string_equal(b->rule.value_text, "100");
    assert_string_equal(b->file, "alerts.d/b.yaml");
    assert_int_equal(b->line, 3);
}

static void check_channels(const struct cq_conf *conf)
{
    const struct cq_channel_conf *s = cq_conf_channel(conf, "ops_slack");
    assert_ptr_equal(s, &conf->channels[0]);
    assert_int_equal(s->kind, CQ_CHANNEL_SLACK);
    assert_string_equal(s->webhook_url, "https://hooks.slack.example/T0/B0/slack-secret-1");
    assert_int_equal(s->max_rows, 5);
    assert_int_equal(s->timeout_ms, dur("3s"));
    assert_int_equal(s->retries, 0);
    assert_int_equal(s->backoff_ms, dur("2s"));
    assert_int_equal(s->backoff_max_ms, dur("1m"));
    assert_string_equal(s->file, "clariq.yaml");
    assert_int_equal(s->line, 6);

    const struct cq_channel_conf *m = cq_conf_channel(conf, "oncall_mail");
    assert_int_equal(m->kind, CQ_CHANNEL_EMAIL);
    assert_string_equal(m->host, "smtp.example.com");
    assert_int_equal(m->tls, CQ_TLS_TLS);
    assert_int_equal(m->port, 465); /* the default for tls */
    assert_string_equal(m->username, "mailer");
    assert_string_equal(m->password, "smtp-secret-2");
    assert_string_equal(m->from, "clariq@example.com");
    assert_int_equal(m->n_to, 2);
    assert_string_equal(m->to[1], "b@example.com");
    assert_int_equal(m->n_cc, 1);
    assert_string_equal(m->cc[0], "c@example.com");
    assert_string_equal(m->subject, "{{ alert.name }} -> {{state}}");
    assert_int_equal(m->max_rows, 10);
    assert_int_equal(m->retries, 3);

    const struct cq_channel_conf *h = cq_conf_channel(conf, "audit_hook");
    assert_int_equal(h->kind, CQ_CHANNEL_WEBHOOK);
    assert_string_equal(h->url, "https://example.com/hook?token=tok123");
    assert_int_equal(h->n_headers, 2);
    assert_string_equal(h->headers[0].name, "X-Team");
    assert_string_equal(h->headers[0].value, "data");
    assert_string_equal(h->headers[1].name, "Authorization");
    assert_string_equal(h->headers[1].value, "Bearer tok123");
    assert_string_equal(h->hmac_secret, "hmac-secret-3");
    assert_string_equal(h->signature_header, "X-Sig");

    const struct cq_channel_conf *t = cq_conf_channel(conf, "team_hook");
    assert_ptr_equal(t, &conf->channels[3]);
    assert_string_equal(t->signature_header, "X-Clariq-Signature");
    assert_null(t->hmac_secret);
    assert_int_equal(t->n_headers, 0);
    assert_string_equal(t->file, "alerts.yaml");
    assert_int_equal(t->line, 2);
}

static void test_full_configuration(void **state)
{
    (void)state;
    struct workdir w;
    struct cq_err err = {0};
    struct cq_conf_diags d = {NULL, 0, 0};
    enter(&w, "conf-alerts-full");
    write_full_tree();
    struct cq_conf *conf = cq_conf_load_file("clariq.yaml", &d, &err);
    if (conf == NULL) {
        print_diags(&d, &err);
    }
    assert_non_null(conf);
    assert_int_equal(conf->n_files, 4);
    assert_string_equal(conf->files[0], "clariq.yaml");
    assert_string_equal(conf->files[1], "alerts.yaml");
    assert_string_equal(conf->files[2], "alerts.d/a.yaml");
    assert_string_equal(conf->files[3], "alerts.d/b.yaml");
    assert_int_equal(conf->n_alerts, 4);
    assert_int_equal(conf->n_channels, 4);
    check_pending_orders(conf);
    check_included_alerts(conf);
    check_channels(conf);
    assert_string_equal(conf->state.connection, "main");
    assert_null(conf->state.path);
    assert_int_equal(conf->state.retention_ms, 7 * DAY_MS);
    assert_int_equal(conf->sched.workers, 8);
    assert_int_equal(conf->sched.shutdown_timeout_ms, dur("1m"));
    assert_null(cq_conf_alert(conf, "nope"));
    assert_null(cq_conf_alert(conf, NULL));
    assert_null(cq_conf_alert(NULL, "pending_orders"));
    assert_null(cq_conf_channel(conf, "OPS_SLACK"));
    assert_null(cq_conf_channel(NULL, "ops_slack"));
    cq_conf_free(conf);
    cq_conf_diags_cleanup(&d);
    leave(&w);
}

/* The same tree loaded through an absolute path: every name carries the directory. */
static void test_names_follow_the_main_path(void **state)
{
    (void)state;
    struct workdir w;
    struct cq_err err = {0};
    char path[1200], want[1200];
    enter(&w, "conf-alerts-abs");
    write_full_tree();
    snprintf(path, sizeof(path), "%s/clariq.yaml", w.dir);
    struct cq_conf *conf = cq_conf_load_file(path, NULL, &err);
    assert_non_null(conf);
    snprintf(want, sizeof(want), "%s/alerts.d/b.yaml", w.dir);
    assert_string_equal(conf->files[3], want);
    assert_string_equal(conf->alerts[3].file, want);
    snprintf(want, sizeof(want), "%s/queries/lag.sql", w.dir);
    assert_string_equal(conf->alerts[1].sql_file, want);
    cq_conf_free(conf);
    leave(&w);
}

/* ---- defaults ---------------------------------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    struct cq_conf *conf =
        good("clariq.yaml",
             "connections:\n  db: {path: a.db}\n"
             "channels:\n"
             "  s: {type: slack, webhook_url: 'https://h/x'}\n"
             "  m1: {type: email, host: h, from: a@x.org, to: b@x.org}\n"
             "  m2: {type: email, host: h, from: a@x.org, to: b@x.org, tls: none}\n"
             "  w: {type: webhook, url: 'http://h/x'}\n"
             "alerts:\n  - {id: a, connection: db, sql: SELECT 1, schedule: '@hourly'}\n");
    const struct cq_alert_conf *a = &conf->alerts[0];
    assert_string_equal(a->name, "a");
    assert_null(a->sql_file);
    assert_int_equal(a->n_params, 0);
    assert_null(a->params);
    assert_string_equal(a->timezone, "UTC");
    assert_non_null(a->tz);
    assert_int_equal(a->rule.type, CQ_RULE_ANY_ROWS);
    assert_null(a->rule.column);
    assert_null(a->rule.value_text);
    assert_int_equal(a->n_channels, 0);
    assert_int_equal(a->cooldown_ms, 0);
    assert_int_equal(a->notify_on, CQ_NOTIFY_TRIGGER_AND_RESOLVE);
    assert_null(a->message);
    assert_true(a->enabled);
    assert_int_equal(a->timeout_ms, dur(CQ_CONF_DEFAULT_TIMEOUT));
    assert_true(a->cron.minutes == 1 && a->cron.hours == 0xffffff);

    for (size_t i = 0; i < conf->n_channels; i++) {
        const struct cq_channel_conf *c = &conf->channels[i];
        assert_int_equal(c->timeout_ms, dur("10s"));
        assert_int_equal(c->retries, 3);
        assert_int_equal(c->backoff_ms, dur("1s"));
        assert_int_equal(c->backoff_max_ms, dur("5m"));
        assert_int_equal(c->max_rows, 10);
    }
    const struct cq_channel_conf *m1 = cq_conf_channel(conf, "m1"),
                                 *m2 = cq_conf_channel(conf, "m2");
    assert_int_equal(m1->tls, CQ_TLS_STARTTLS);
    assert_int_equal(m1->port, 587);
    assert_null(m1->username);
    assert_int_equal(m1->n_cc, 0);
    assert_string_equal(m1->subject, "[clariq] {{alert.name}}: {{state}}");
    assert_int_equal(m2->tls, CQ_TLS_NONE);
    assert_int_equal(m2->port, 25);
    assert_string_equal(cq_conf_channel(conf, "w")->signature_header, "X-Clariq-Signature");

    assert_null(conf->state.connection);
    assert_string_equal(conf->state.path, "clariq-state.db");
    assert_int_equal(conf->state.retention_ms, 30 * DAY_MS);
    assert_int_equal(conf->sched.workers, 4);
    assert_int_equal(conf->sched.shutdown_timeout_ms, dur("30s"));
    cq_conf_free(conf);
}

static void test_state_paths(void **state)
{
    (void)state;
    /* next to the config file, and relative to it */
    struct cq_conf *conf = good("etc/clariq.yaml", "");
    assert_string_equal(conf->state.path, "etc/clariq-state.db");
    assert_int_equal(conf->n_alerts, 0);
    assert_int_equal(conf->n_channels, 0);
    assert_int_equal(conf->n_files, 1);
    assert_string_equal(conf->files[0], "etc/clariq.yaml");
    cq_conf_free(conf);
    conf = good("etc/clariq.yaml", "state: {path: ./data/s.db}\n");
    assert_string_equal(conf->state.path, "etc/data/s.db");
    cq_conf_free(conf);
    conf = good("etc/clariq.yaml", "state: {path: /var/lib/clariq/s.db, retention_days: 3650}\n");
    assert_string_equal(conf->state.path, "/var/lib/clariq/s.db");
    assert_int_equal(conf->state.retention_ms, 3650 * DAY_MS);
    cq_conf_free(conf);
    /* a postgres connection that may write */
    conf = good("clariq.yaml", "connections:\n  pg: {url: 'postgres://h/db', read_only: no}\n"
                               "state: {connection: pg}\n");
    assert_string_equal(conf->state.connection, "pg");
    assert_null(conf->state.path);
    cq_conf_free(conf);
    /* the demo keeps its state next to the demo database */
    struct cq_err err = {0};
    conf = cq_conf_demo("/tmp/demo-dir/demo.db", &err);
    assert_non_null(conf);
    assert_string_equal(conf->state.path, "/tmp/demo-dir/clariq-state.db");
    assert_int_equal(conf->n_alerts, 0);
    cq_conf_free(conf);
}

/* ---- rules ------------------------------------------------------------------------------- */

static const char rules_yaml[] =
    CONNS "alerts:\n"
          "  - {id: r1, connection: db, sql: x, schedule: '@daily', rule: any_rows}\n"
          "  - {id: r2, connection: db, sql: x, schedule: '@daily', rule: {type: no_rows}}\n"
          "  - {id: r3, connection: db, sql: x, schedule: '@daily', rule: always}\n"
          "  - {id: r4, connection: db, sql: x, schedule: '@daily', rule: sql_boolean}\n"
          "  - id: r5\n    connection: db\n    sql: x\n    schedule: '@daily'\n"
          "    rule: {type: threshold, op: '<', value: -2.5}\n"
          "  - id: r6\n    connection: db\n    sql: x\n    schedule: '@daily'\n"
          "    rule: {type: threshold, column: status, op: '==', value: ok, row: all}\n"
          "  - id: r7\n    connection: db\n    sql: x\n    schedule: '@daily'\n"
          "    rule: {type: threshold, op: '!=', value: '3', row: count}\n"
          "  - id: r8\n    connection: db\n    sql: x\n    schedule: '@daily'\n"
          "    rule: {type: threshold, op: '<=', value: 1e3, row: any}\n"
          "  - id: r9\n    connection: db\n    sql: x\n    schedule: '@daily'\n"
          "    rule: {type: THRESHOLD, op: '>', value: 0, row: sum}\n"
          "  - id: r10\n    connection: db\n    sql: x\n    schedule: '@daily'\n"
          "    rule: {type: threshold, op: '>=', value: 0, row: min}\n"
          "  - id: r11\n    connection: db\n    sql: x\n    schedule: '@daily'\n"
          "    rule: {type: change, percent: 20}\n"
          "  - id: r12\n    connection: db\n    sql: x\n    schedule: '@daily'\n"
          "    rule: {type: change, column: total, op: '<', absolute: -100}\n"
          "  - {id: r13, connection: db, sql: x, schedule: '@daily'}\n";

static void test_rule_forms(void **state)
{
    (void)state;
    struct cq_conf *conf = good("clariq.yaml", rules_yaml);
    const struct cq_alert_conf *a = conf->alerts;
    assert_int_equal(conf->n_alerts, 13);
    assert_int_equal(a[0].rule.type, CQ_RULE_ANY_ROWS);
    assert_int_equal(a[1].rule.type, CQ_RULE_NO_ROWS);
    assert_int_equal(a[2].rule.type, CQ_RULE_ALWAYS);
    assert_int_equal(a[3].rule.type, CQ_RULE_SQL_BOOLEAN);

    assert_int_equal(a[4].rule.type, CQ_RULE_THRESHOLD);
    assert_null(a[4].rule.column); /* the first column */
    assert_int_equal(a[4].rule.op, CQ_OP_LT);
    assert_true(a[4].rule.value == -2.5);
    assert_int_equal(a[4].rule.row, CQ_ROW_FIRST);
    /* == and != may compare text: value is NaN, value_text holds it */
    assert_string_equal(a[5].rule.column, "status");
    assert_int_equal(a[5].rule.op, CQ_OP_EQ);
    assert_true(isnan(a[5].rule.value));
    assert_string_equal(a[5].rule.value_text, "ok");
    assert_int_equal(a[5].rule.row, CQ_ROW_ALL);
    assert_int_equal(a[6].rule.op, CQ_OP_NE);
    assert_true(a[6].rule.value == 3);
    assert_int_equal(a[6].rule.row, CQ_ROW_COUNT);
    assert_int_equal(a[7].rule.op, CQ_OP_LE);
    assert_true(a[7].rule.value == 1000);
    assert_string_equal(a[7].rule.value_text, "1e3");
    assert_int_equal(a[7].rule.row, CQ_ROW_ANY);
    assert_int_equal(a[8].rule.type, CQ_RULE_THRESHOLD);
    assert_int_equal(a[8].rule.op, CQ_OP_GT);
    assert_int_equal(a[8].rule.row, CQ_ROW_SUM);
    assert_int_equal(a[9].rule.op, CQ_OP_GE);
    assert_int_equal(a[9].rule.row, CQ_ROW_MIN);

    assert_int_equal(a[10].rule.type, CQ_RULE_CHANGE);
    assert_true(a[10].rule.percent);
    assert_false(a[10].rule.signed_delta);
    assert_true(a[10].rule.value == 20);
    assert_string_equal(a[11].rule.column, "total");
    assert_false(a[11].rule.percent);
    assert_true(a[11].rule.signed_delta);
    assert_int_equal(a[11].rule.op, CQ_OP_LT);
    assert_true(a[11].rule.value == -100);
    assert_int_equal(a[12].rule.type, CQ_RULE_ANY_ROWS); /* no rule: any rows */
    cq_conf_free(conf);
}

static void test_template_variables(void **state)
{
    (void)state;
    static const char *const want[] = {
        "alert.id",  "alert.name", "alert.connection", "state", "reason",      "value", "threshold",
        "row_count", "rows",       "run_at",           "error", "duration_ms", NULL};
    struct cq_buf msg;
    size_t i = 0;
    cq_buf_init(&msg, 4096);
    cq_buf_puts(&msg, CONNS ALERT "    message: \"");
    for (; want[i] != NULL; i++) {
        assert_non_null(cq_conf_tmpl_vars[i]);
        assert_string_equal(cq_conf_tmpl_vars[i], want[i]);
        cq_buf_printf(&msg, "{{%s}} {{ %s }} ", want[i], want[i]);
    }
    assert_null(cq_conf_tmpl_vars[i]);
    cq_buf_puts(&msg, "\"\n");
    struct cq_conf *conf = good("clariq.yaml", cq_buf_str(&msg));
    assert_non_null(strstr(conf->alerts[0].message, "{{ duration_ms }}"));
    cq_conf_free(conf);
    cq_buf_cleanup(&msg);
}
/* ---- includes ---------------------------------------------------------------------------- */

static void test_include_problems(void **state)
{
    (void)state;
    struct workdir w;
    struct cq_err err = {0};
    struct cq_conf_diags d = {NULL, 0, 0};
    enter(&w, "conf-alerts-inc");
    assert_int_equal(mkdir("alerts.d", 0755), 0);
    put("clariq.yaml",
        "connections:\n"
        "  local: {path: a.db, limits: {timeout: 30s}}\n"
        "channels:\n"
        "  c1: {type: slack, webhook_url: 'https://h/x'}\n"
        "alerts:\n"
        "  - {id: a1, connection: local, sql: x, schedule: '@daily'}\n"
        "include: [missing.yaml, extra.yaml, alerts.d, 'none/*.yaml', list.yaml, broken.yaml]\n");
    put("extra.yaml",
        "limits: {timeout: 1s}\n"
        "include: [more.yaml]\n"
        "alertz: []\n"
        "channels:\n"
        "  c1: {type: slack, webhook_url: 'https://h/y'}\n"
        "alerts:\n"
        "  - {id: a1, connection: local, sql: x, schedule: '@daily'}\n"
        "  - {id: b1, connection: local, sql_file: nope.sql, schedule: '@daily', timeout: 45s}\n");
    put("list.yaml", "- a\n- b\n");
    put("broken.yaml", "alerts:\n  - {id: x\n");
    char *got = format_diags(cq_conf_load_file("clariq.yaml", &d, &err), &d, &err);
    assert_string_equal(
        got,
        "clariq.yaml:7:11: error: include: cannot read 'missing.yaml': not found (include paths "
        "are relative to the directory of clariq.yaml)\n"
        "clariq.yaml:7:37: error: include: 'alerts.d' is a directory (use a pattern such as "
        "alerts.d/*.yaml)\n"
        "extra.yaml:1:1: error: limits: only alerts and channels may appear in an included file "
        "(move it to clariq.yaml)\n"
        "extra.yaml:2:1: error: include: only alerts and channels may appear in an included file "
        "(includes do not nest: list the pattern in clariq.yaml)\n"
        "extra.yaml:3:1: error: unknown top-level key 'alertz' (did you mean 'alerts'?)\n"
        "extra.yaml:5:3: error: channels: duplicate channel 'c1' (first defined at "
        "clariq.yaml:4; channel names must be unique)\n"
        "extra.yaml:7:10: error: alerts: duplicate alert id 'a1' (first defined at "
        "clariq.yaml:6; alert ids must be unique)\n"
        "extra.yaml:8:43: error: alerts.b1.sql_file: cannot read 'nope.sql': not found "
        "(sql_file is relative to the directory of the file that declares it)\n"
        "extra.yaml:8:82: error: alerts.b1.timeout: 45s is longer than connection 'local' "
        "allows (30s) (an alert can only lower its connection's timeout; raise "
        "connections.local.limits.timeout instead)\n"
        "list.yaml:1:1: error: the top level must be a mapping, got a list (an included file "
        "holds alerts: and channels:)\n"
        "broken.yaml:3:1: error: invalid YAML: did not find expected ',' or '}' (while parsing "
        "a flow mapping at line 2, column 5; check indentation, and quote values that contain "
        "': ' or ' #' or start with a special character)\n");
    assert_string_equal(err.msg, "clariq.yaml:7:11: include: cannot read 'missing.yaml': not "
                                 "found (and 10 more problems)");
    cq_free(got);
    leave(&w);
}

/* Globs expand sorted; a file matched twice, or the main file itself, is read once. */
static void test_include_reads_each_file_once(void **state)
{
    (void)state;
    struct workdir w;
    struct cq_err err = {0};
    enter(&w, "conf-alerts-once");
    put("clariq.yaml", "connections:\n  db: {path: a.db}\n"
                       "include: ['*.yaml', z.yaml, 'z*']\n");
    put("z.yaml", "alerts:\n  - {id: z, connection: db, sql: x, schedule: '@daily'}\n");
    put("m.yaml", "alerts:\n  - {id: m, connection: db, sql: x, schedule: '@daily'}\n");
    put("empty.yaml", "# nothing here yet\n");
    struct cq_conf *conf = cq_conf_load_file("clariq.yaml", NULL, &err);
    assert_non_null(conf);
    assert_int_equal(conf->n_files, 4);
    assert_string_equal(conf->files[1], "empty.yaml");
    assert_string_equal(conf->files[2], "m.yaml");
    assert_string_equal(conf->files[3], "z.yaml");
    assert_int_equal(conf->n_alerts, 2);
    assert_string_equal(conf->alerts[0].id, "m");
    assert_string_equal(conf->alerts[1].id, "z");
    cq_conf_free(conf);

    /* a one-string include, and a sql_file that is empty or unreadable */
    put("clariq.yaml", "connections:\n  db: {path: a.db}\ninclude: q.yaml\n");
    put("q.yaml", "alerts:\n"
                  "  - {id: e, connection: db, sql_file: empty.sql, schedule: '@daily'}\n"
                  "  - {id: d, connection: db, sql_file: sub, schedule: '@daily'}\n");
    put("empty.sql", " \n\n");
    assert_int_equal(mkdir("sub", 0755), 0);
    struct cq_conf_diags d = {NULL, 0, 0};
    char *got = format_diags(cq_conf_load_file("clariq.yaml", &d, &err), &d, &err);
    assert_string_equal(got, "q.yaml:2:39: error: alerts.e.sql_file: 'empty.sql' is empty "
                             "(write the query into the file)\n"
                             "q.yaml:3:39: error: alerts.d.sql_file: cannot read 'sub': cannot "
                             "read: is a directory (sql_file is relative to the directory of the "
                             "file that declares it)\n");
    cq_free(got);
    leave(&w);
}

/* Loading from memory never reads another file (the fuzzer relies on it). */
static void test_memory_loads_read_no_files(void **state)
{
    (void)state;
    struct cq_conf *conf =
        good("clariq.yaml", CONNS "include: [/etc/passwd, '*', '/*/*', missing.yaml]\n"
                                  "alerts:\n"
                                  "  - {id: a, connection: db, sql_file: /etc/hostname, "
                                  "schedule: '@daily'}\n"
                                  "  - {id: b, connection: db, sql_file: q/b.sql, "
                                  "schedule: '@daily'}\n");
    assert_int_equal(conf->n_files, 1);
    assert_int_equal(conf->n_alerts, 2);
    assert_null(conf->alerts[0].sql);
    assert_string_equal(conf->alerts[0].sql_file, "/etc/hostname");
    assert_null(conf->alerts[1].sql);
    assert_string_equal(conf->alerts[1].sql_file, "q/b.sql");
    cq_conf_free(conf);
}

/* ---- secrets ----------------------------------------------------------------------------- */

static void test_secrets_never_in_diagnostics(void **state)
{
    (void)state;
    struct cq_err err = {0};
    char *got = bad("channels:\n"
                    "  s1: {type: slack, webhook_url: 'hooks.example.com/T0/hunter2-Zq9'}\n"
                    "  s2:\n"
                    "    type: email\n"
                    "    webhook_url: 'https://h/hunter2-Zq9'\n"
                    "    password: hunter2-Zq9\n"
                    "    host: h\n"
                    "    from: a@x.org\n"
                    "    to: b@x.org\n"
                    "  w1:\n"
                    "    type: webhook\n"
                    "    url: 'ftp://u:hunter2-Zq9@h/'\n"
                    "    hmac_secret: [hunter2-Zq9]\n"
                    "    headers: {X-A: \"hunter2-Zq9\\nx\", X-C: '${CQT_SECRET_HDR}', "
                    "X-D: [hunter2-Zq9]}\n"
                    "  w2: {type: webhook, url: '${CQT_UNSET}hunter2-Zq9'}\n"
                    "  w3: {type: webhook, url: 'https://h/x', hmac_secret: ''}\n",
                    &err);
    assert_null(strstr(got, "hunter2"));
    assert_null(strstr(err.msg, "hunter2"));
    assert_string_equal(
        got, "clariq.yaml:2:34: error: channels.s1.webhook_url: expected an http:// or https:// "
             "URL (write the full URL, starting with https://)\n"
             "clariq.yaml:5:5: error: channels.s2: 'webhook_url' does not apply to an email "
             "channel (remove it; email channels take host, port, tls, username, password, "
             "from, to, cc, subject)\n"
             "clariq.yaml:6:5: error: channels.s2: password is set but username is not (add "
             "username:, or remove password)\n"
             "clariq.yaml:12:10: error: channels.w1.url: expected an http:// or https:// URL "
             "(write the full URL, starting with https://)\n"
             "clariq.yaml:13:18: error: channels.w1.hmac_secret: expected a string, got a list "
             "(write a single value after the colon)\n"
             "clariq.yaml:14:20: error: channels.w1.headers.X-A: value contains a line break "
             "(write the value on one line)\n"
             "clariq.yaml:14:43: error: channels.w1.headers.X-C: value contains a line break "
             "(write the value on one line)\n"
             "clariq.yaml:14:69: error: channels.w1.headers.X-D: expected a string, got a list "
             "(write a single value after the colon)\n"
             "clariq.yaml:15:29: error: channels.w2.url: environment variable CQT_UNSET is not "
             "set (set CQT_UNSET or write ${CQT_UNSET:-default})\n"
             "clariq.yaml:16:56: error: channels.w3.hmac_secret: empty hmac_secret (remove it "
             "to send unsigned requests)\n");
    cq_free(got);
}

/* ---- bad files: exact diagnostics -------------------------------------------------------- */

/* alerts is a list, channels a mapping, each alert a mapping */
static void test_alerts_and_channels_shapes(void **state)
{
    (void)state;
    expect_diags(CONNS "alerts:\n"
                       "  a1: {connection: db}\n",
                 "clariq.yaml:5:3: error: alerts: expected a list of alerts, got a mapping (write "
                 "each alert as a list item: '- id: NAME' with its keys below it)\n");
    expect_diags(CONNS "alerts:\n"
                       "  - a1\n",
                 "clariq.yaml:5:5: error: alerts[0]: expected a mapping, got a single value (write "
                 "the alert's keys (id:, connection:, sql:, schedule:) after the '- ')\n");
    expect_diags(
        "channels:\n"
        "  - {type: slack}\n",
        "clariq.yaml:2:3: error: channels: expected a mapping of channel names, got a list (write "
        "each channel as 'name:' with its keys indented below, not as a list item)\n");
}

static void test_alert_required_keys(void **state)
{
    (void)state;
    expect_diags(CONNS "alerts:\n"
                       "  - name: nothing else\n",
                 "clariq.yaml:5:5: error: alerts[0]: missing id (add id: with a unique name: "
                 "letters, digits, '_', '-' or '.', at most 63 characters)\n"
                 "clariq.yaml:5:5: error: alerts[0]: missing connection (add connection: with the "
                 "name of one under connections:)\n"
                 "clariq.yaml:5:5: error: alerts[0]: missing sql or sql_file (add sql: SELECT ... "
                 "or sql_file: queries/NAME.sql)\n"
                 "clariq.yaml:5:5: error: alerts[0]: missing schedule (add schedule: with five "
                 "cron fields such as \"*/15 * * * *\", or @hourly, or \"@every 10m\")\n");
    expect_diags(CONNS "alerts:\n"
                       "  - {id: 'my alert', connection: db, sql: x, schedule: '@daily'}\n",
                 "clariq.yaml:5:10: error: alerts[0].id: invalid alert id 'my alert' (use letters, "
                 "digits, '_', '-' or '.', at most 63 characters)\n");
    expect_diags(
        CONNS ALERT "    shedule: '@daily'\n",
        "clariq.yaml:9:5: error: alerts.a1: unknown key 'shedule' (did you mean 'schedule'?)\n");
}

static void test_duplicate_alert_id(void **state)
{
    (void)state;
    expect_diags(CONNS ALERT "  - {id: a1, connection: db, sql: x, schedule: '@daily'}\n",
                 "clariq.yaml:9:10: error: alerts: duplicate alert id 'a1' (first defined at "
                 "clariq.yaml:5; alert ids must be unique)\n");
}

/* exactly one of sql / sql_file, and not blank */
static void test_sql_and_sql_file(void **state)
{
    (void)state;
    expect_diags(CONNS ALERT "    sql_file: q.sql\n",
                 "clariq.yaml:9:5: error: alerts.a1: both sql and sql_file are set (keep one: sql "
                 "for the query itself, sql_file for a file holding it)\n");
    expect_diags(
        CONNS "alerts:\n"
              "  - {id: a1, connection: db, sql: '  ', schedule: '@daily'}\n",
        "clariq.yaml:5:35: error: alerts.a1.sql: empty sql (write the query after sql:)\n");
}

static void test_unknown_connection(void **state)
{
    (void)state;
    expect_diags(CONNS "alerts:\n"
                       "  - {id: a1, connection: dv, sql: x, schedule: '@daily'}\n",
                 "clariq.yaml:5:26: error: alerts.a1.connection: unknown connection 'dv' (did you "
                 "mean 'db'?)\n");
    expect_diags(CONNS "alerts:\n"
                       "  - {id: a1, connection: warehouse, sql: x, schedule: '@daily'}\n",
                 "clariq.yaml:5:26: error: alerts.a1.connection: unknown connection 'warehouse' "
                 "(connections: db, pg)\n");
}

static void test_unknown_and_repeated_channels(void **state)
{
    (void)state;
    expect_diags(CONNS "channels:\n"
                       "  ops: {type: slack, webhook_url: 'https://h/x'}\n"
                       "alerts:\n"
                       "  - id: a1\n"
                       "    connection: db\n"
                       "    sql: SELECT 1\n"
                       "    schedule: '@hourly'\n"
                       "    channels: [ops, opz, ops, nowhere]\n",
                 "clariq.yaml:11:21: error: alerts.a1.channels: unknown channel 'opz' (did you "
                 "mean 'ops'?)\n"
                 "clariq.yaml:11:26: error: alerts.a1.channels: channel 'ops' is listed twice "
                 "(list each channel once)\n"
                 "clariq.yaml:11:31: error: alerts.a1.channels: unknown channel 'nowhere' "
                 "(channels: ops)\n");
}

/* the cron parser's message is the diagnostic */
static void test_bad_schedule(void **state)
{
    (void)state;
    expect_diags(CONNS "alerts:\n"
                       "  - {id: a1, connection: db, sql: x, schedule: '0 25 * * *'}\n"
                       "  - {id: a2, connection: db, sql: x, schedule: '* * *'}\n"
                       "  - {id: a3, connection: db, sql: x, schedule: '@hurly'}\n",
                 "clariq.yaml:5:48: error: alerts.a1.schedule: invalid schedule '0 25 * * *': "
                 "hour: 25 is out of range 0-23 (for example \"*/15 * * * *\", \"0 9 * * "
                 "mon-fri\", @hourly or \"@every 10m\")\n"
                 "clariq.yaml:6:48: error: alerts.a2.schedule: invalid schedule '* * *': expected "
                 "5 fields (minute hour day-of-month month day-of-week), got 3 (for example \"*/15 "
                 "* * * *\", \"0 9 * * mon-fri\", @hourly or \"@every 10m\")\n"
                 "clariq.yaml:7:48: error: alerts.a3.schedule: invalid schedule '@hurly': unknown "
                 "macro '@hurly' (did you mean '@hourly'?)\n");
}

static void test_bad_timezone(void **state)
{
    (void)state;
    expect_diags(CONNS ALERT "    timezone: Europe/Berln\n",
                 "clariq.yaml:9:15: error: alerts.a1.timezone: unknown time zone 'Europe/Berln' "
                 "(not in /usr/share/zoneinfo; names look like Europe/Berlin or UTC)\n");
    expect_diags(CONNS ALERT "    timezone: ''\n",
                 "clariq.yaml:9:15: error: alerts.a1.timezone: empty timezone (write a zone such "
                 "as Europe/Berlin, or remove the key for UTC)\n");
}

/* the column points at the offending {{ */
static void test_template_problems(void **state)
{
    (void)state;
    expect_diags(CONNS ALERT "    message: \"{{alert.name}} is {{ stat }}\"\n",
                 "clariq.yaml:9:33: error: alerts.a1.message: unknown template variable 'stat' "
                 "(did you mean 'state'?)\n");
    expect_diags(CONNS ALERT "    message: \"{{nonsense}}\"\n",
                 "clariq.yaml:9:15: error: alerts.a1.message: unknown template variable 'nonsense' "
                 "(variables: alert.id, alert.name, alert.connection, state, reason, value, "
                 "threshold, row_count, rows, run_at, error, duration_ms)\n");
    expect_diags(CONNS ALERT "    message: 'value {{value'\n",
                 "clariq.yaml:9:21: error: alerts.a1.message: unclosed '{{' (close it with '}}': "
                 "variables are written {{alert.name}})\n");
    expect_diags("channels:\n"
                 "  m1: {type: email, host: h, from: a@x, to: b@x, subject: '{{alert.nam}}'}\n",
                 "clariq.yaml:2:60: error: channels.m1.subject: unknown template variable "
                 "'alert.nam' (did you mean 'alert.name'?)\n");
}

/* a request may only lower a connection's limits */
static void test_alert_timeout_only_lowers(void **state)
{
    (void)state;
    expect_diags(CONNS ALERT "    timeout: 1m\n",
                 "clariq.yaml:9:14: error: alerts.a1.timeout: 1m is longer than connection 'db' "
                 "allows (30s) (an alert can only lower its connection's timeout; raise "
                 "connections.db.limits.timeout instead)\n");
    expect_diags(CONNS ALERT "    timeout: 0\n",
                 "clariq.yaml:9:14: error: alerts.a1.timeout: 0 (no timeout) is longer than "
                 "connection 'db' allows (30s) (an alert can only lower its connection's timeout; "
                 "raise connections.db.limits.timeout instead)\n");
}

static void test_bad_enum_values(void **state)
{
    (void)state;
    expect_diags(CONNS ALERT "    notify_on: trigger_only\n",
                 "clariq.yaml:9:16: error: alerts.a1.notify_on: unknown notify_on value "
                 "'trigger_only' (use one of: trigger_and_resolve, trigger)\n");
    expect_diags(CONNS ALERT "    rule: {type: treshold}\n",
                 "clariq.yaml:9:18: error: alerts.a1.rule.type: unknown rule type 'treshold' (did "
                 "you mean 'threshold'?)\n");
    expect_diags(CONNS ALERT "    rule: sometimes\n",
                 "clariq.yaml:9:11: error: alerts.a1.rule: unknown rule type 'sometimes' (use one "
                 "of: any_rows, no_rows, threshold, always, sql_boolean, change)\n");
    expect_diags(CONNS ALERT "    rule: {type: threshold, op: '=', value: 1}\n",
                 "clariq.yaml:9:33: error: alerts.a1.rule.op: unknown comparison '=' (write one of "
                 "\">\", \">=\", \"<\", \"<=\", \"==\", \"!=\" in quotes)\n");
    expect_diags(CONNS ALERT "    rule: {type: threshold, op: '<', value: 1, row: avg}\n",
                 "clariq.yaml:9:53: error: alerts.a1.rule.row: unknown row selector 'avg' (use one "
                 "of: first, any, all, min, max, sum, count)\n");
    expect_diags("channels:\n"
                 "  m1: {type: email, host: h, from: a@x, to: b@x, port: 0, tls: ssl}\n",
                 "clariq.yaml:2:56: error: channels.m1.port: value '0' is out of range (use a "
                 "whole number from 1 to 65535)\n"
                 "clariq.yaml:2:64: error: channels.m1.tls: unknown tls mode 'ssl' (use one of: "
                 "starttls, tls, none)\n");
}

static void test_rule_keys_must_fit_the_type(void **state)
{
    (void)state;
    expect_diags(CONNS ALERT "    rule: {column: x}\n",
                 "clariq.yaml:9:5: error: alerts.a1.rule: missing type (add type: any_rows, "
                 "no_rows, always, sql_boolean, threshold or change)\n");
    expect_diags(CONNS ALERT "    rule: {type: change, percent: 5, row: max, value: 3}\n",
                 "clariq.yaml:9:38: error: alerts.a1.rule: 'row' applies only to threshold rules "
                 "(remove it from this change rule)\n"
                 "clariq.yaml:9:48: error: alerts.a1.rule: 'value' applies only to threshold rules "
                 "(remove it from this change rule)\n");
    expect_diags(CONNS ALERT "    rule: {type: any_rows, op: '>'}\n",
                 "clariq.yaml:9:28: error: alerts.a1.rule: 'op' applies only to threshold and "
                 "change rules (remove it from this any_rows rule)\n");
}

static void test_threshold_rule_problems(void **state)
{
    (void)state;
    expect_diags(CONNS ALERT "    rule: threshold\n",
                 "clariq.yaml:9:5: error: alerts.a1.rule: missing op (add op: \">\" or another of "
                 ">=, <, <=, ==, !=)\n"
                 "clariq.yaml:9:5: error: alerts.a1.rule: missing value (add value: with the "
                 "number the column is compared with)\n");
    expect_diags(CONNS ALERT "    rule: {type: threshold, op: '>', value: high}\n",
                 "clariq.yaml:9:45: error: alerts.a1.rule.value: expected a number, got 'high' "
                 "('>' compares numbers; use == or != to compare text)\n");
}

static void test_change_rule_problems(void **state)
{
    (void)state;
    expect_diags(
        CONNS ALERT "    rule: {type: change, percent: 5, absolute: 3}\n",
        "clariq.yaml:9:38: error: alerts.a1.rule: both percent and absolute are set (keep one: "
        "percent for a relative move, absolute for a difference in the column's units)\n");
    expect_diags(CONNS ALERT "    rule: {type: change, column: total}\n",
                 "clariq.yaml:9:5: error: alerts.a1.rule: missing percent or absolute (add "
                 "percent: 20 for a relative move, or absolute: 100 for a difference)\n");
    expect_diags(CONNS ALERT "    rule: {type: change, absolute: -3}\n",
                 "clariq.yaml:9:36: error: alerts.a1.rule.absolute: negative value '-3' (without "
                 "op the size of the move is compared; add op: \"<\" to catch a drop)\n");
    expect_diags(CONNS ALERT "    rule: {type: change, percent: 5%}\n",
                 "clariq.yaml:9:35: error: alerts.a1.rule.percent: expected a number, got '5%' "
                 "(write a number such as 20 or 2.5)\n");
}

static void test_channel_type_problems(void **state)
{
    (void)state;
    expect_diags(
        "channels:\n"
        "  ops: {webhook_url: 'https://h/x'}\n",
        "clariq.yaml:2:3: error: channels.ops: missing type (add type: slack, email or webhook)\n");
    expect_diags("channels:\n"
                 "  ops: {type: slak}\n",
                 "clariq.yaml:2:15: error: channels.ops.type: unknown channel type 'slak' (did you "
                 "mean 'slack'?)\n");
    expect_diags("channels:\n"
                 "  mail:\n"
                 "    type: email\n"
                 "    host: smtp.example.com\n"
                 "    from: a@example.com\n"
                 "    to: b@example.com\n"
                 "    webhook_url: 'https://h/x'\n",
                 "clariq.yaml:7:5: error: channels.mail: 'webhook_url' does not apply to an email "
                 "channel (remove it; email channels take host, port, tls, username, password, "
                 "from, to, cc, subject)\n");
    expect_diags("channels:\n"
                 "  ops:\n"
                 "    type: slack\n"
                 "    webhook_url: 'https://h/x'\n"
                 "    webhok_url: x\n",
                 "clariq.yaml:5:5: error: channels.ops: unknown key 'webhok_url' (did you mean "
                 "'webhook_url'?)\n");
}

static void test_channel_required_keys(void **state)
{
    (void)state;
    expect_diags("channels:\n"
                 "  ops: {type: slack}\n",
                 "clariq.yaml:2:3: error: channels.ops: missing webhook_url (add webhook_url: "
                 "${SLACK_WEBHOOK_URL})\n");
    expect_diags(
        "channels:\n"
        "  h: {type: webhook}\n",
        "clariq.yaml:2:3: error: channels.h: missing url (add url: https://example.com/hook)\n");
    expect_diags(
        "channels:\n"
        "  mail: {type: email}\n",
        "clariq.yaml:2:3: error: channels.mail: missing host (add host: smtp.example.com)\n"
        "clariq.yaml:2:3: error: channels.mail: missing from (add from: clariq@example.com)\n"
        "clariq.yaml:2:3: error: channels.mail: missing to (add to: [oncall@example.com])\n");
}

static void test_channel_values(void **state)
{
    (void)state;
    expect_diags("channels:\n  m: {type: email, host: h, from: a@x.org, to: [a@x.org, [b]]}\n",
                 "clariq.yaml:2:58: error: channels.m.to: expected a string, got a list (write "
                 "[a@example.com, b@example.com] or one address)\n");
    expect_diags("channels:\n"
                 "  ops: {type: slack, webhook_url: 'hooks.slack.com/services/T0/B0/secretpart'}\n",
                 "clariq.yaml:2:35: error: channels.ops.webhook_url: expected an http:// or "
                 "https:// URL (write the full URL, starting with https://)\n");
    expect_diags("channels:\n"
                 "  m1: {type: email, host: h, from: a@x, to: b@x, username: u}\n"
                 "  m2: {type: email, host: h, from: a@x, to: b@x, password: p}\n",
                 "clariq.yaml:2:50: error: channels.m1: username is set but password is not (add "
                 "password: ${SMTP_PASSWORD})\n"
                 "clariq.yaml:3:50: error: channels.m2: password is set but username is not (add "
                 "username:, or remove password)\n");
    expect_diags(
        "channels:\n"
        "  m1: {type: email, host: 'smtp host', from: nobody, to: [a@x, 'b@x, c@x'], cc: []}\n",
        "clariq.yaml:2:27: error: channels.m1.host: invalid host 'smtp host' (write a host name "
        "such as smtp.example.com)\n"
        "clariq.yaml:2:46: error: channels.m1.from: invalid address 'nobody' (write a plain "
        "address such as oncall@example.com)\n"
        "clariq.yaml:2:64: error: channels.m1.to: invalid address 'b@x, c@x' (write a plain "
        "address such as oncall@example.com)\n"
        "clariq.yaml:2:81: error: channels.m1.cc: no addresses (list at least one address)\n");
    expect_diags("channels:\n"
                 "  h:\n"
                 "    type: webhook\n"
                 "    url: 'https://h/x'\n"
                 "    headers: {'X Team': a, X-A: b, x-a: c}\n"
                 "    signature_header: 'X Sig'\n"
                 "    hmac_secret: ''\n",
                 "clariq.yaml:5:15: error: channels.h.headers: invalid header name 'X Team' (use "
                 "letters, digits and '-', such as X-Team)\n"
                 "clariq.yaml:5:36: error: channels.h.headers: duplicate header 'x-a' (header "
                 "names ignore case; keep one)\n"
                 "clariq.yaml:6:23: error: channels.h.signature_header: invalid header name 'X "
                 "Sig' (use letters, digits and '-', such as X-Clariq-Signature)\n"
                 "clariq.yaml:7:18: error: channels.h.hmac_secret: empty hmac_secret (remove it to "
                 "send unsigned requests)\n");
    expect_diags("channels:\n"
                 "  h: {type: webhook, url: 'https://h/x', headers: [a, b]}\n",
                 "clariq.yaml:2:51: error: channels.h.headers: expected a mapping of header names "
                 "to values (write headers: {X-Team: data})\n");
    expect_diags(
        "channels:\n"
        "  ops: {type: slack, webhook_url: 'https://h/x', timeout: 0, retries: 21, backoff: 10m}\n",
        "clariq.yaml:2:59: error: channels.ops.timeout: zero timeout (a delivery needs a deadline: "
        "use a duration such as 10s)\n"
        "clariq.yaml:2:71: error: channels.ops.retries: value '21' is out of range (use a whole "
        "number from 0 to 20)\n"
        "clariq.yaml:2:84: error: channels.ops: backoff (10m) is greater than backoff_max (5m) "
        "(lower backoff or raise backoff_max)\n");
}

static void test_duplicate_channel(void **state)
{
    (void)state;
    expect_diags("channels:\n"
                 "  ops: {type: slack, webhook_url: 'https://h/x'}\n"
                 "  ops: {type: slack, webhook_url: 'https://h/y'}\n",
                 "clariq.yaml:3:3: error: channels: duplicate channel 'ops' (first defined at "
                 "clariq.yaml:2; channel names must be unique)\n");
}

static void test_state_problems(void **state)
{
    (void)state;
    expect_diags(
        CONNS "state: {connection: pg, path: s.db}\n",
        "clariq.yaml:4:25: error: state: both connection and path are set (keep one: connection "
        "for a postgres store shared by several runners, path for a local sqlite file)\n");
    expect_diags(CONNS "state: {connection: db}\n",
                 "clariq.yaml:4:21: error: state.connection: connection 'db' is sqlite; the state "
                 "store needs postgres (use a postgres connection, which several runners can "
                 "share, or remove state.connection to keep state in a local sqlite file)\n");
    expect_diags(
        CONNS "state: {connection: pg}\n",
        "clariq.yaml:4:21: error: state.connection: connection 'pg' is read-only (the store writes "
        "to it: set read_only: false under connections.pg, or use another connection)\n");
    expect_diags(
        CONNS "state: {connection: pgg, retention_days: 0}\n",
        "clariq.yaml:4:21: error: state.connection: unknown connection 'pgg' (did you mean 'pg'?)\n"
        "clariq.yaml:4:42: error: state.retention_days: value '0' is out of range (use a whole "
        "number of days from 1 to 3650)\n");
    expect_diags("state: {path: ''}\n",
                 "clariq.yaml:1:15: error: state.path: empty path (use a file path, or remove the "
                 "key for clariq-state.db next to the config file)\n");
}

static void test_scheduler_problems(void **state)
{
    (void)state;
    expect_diags("scheduler: {workers: 0, shutdown_timeout: soon, threads: 2}\n",
                 "clariq.yaml:1:22: error: scheduler.workers: value '0' is out of range (use a "
                 "whole number from 1 to 256)\n"
                 "clariq.yaml:1:43: error: scheduler.shutdown_timeout: invalid duration 'soon' "
                 "(use a number with a unit: 250ms, 5s, 2m, 1h)\n"
                 "clariq.yaml:1:49: error: scheduler: unknown key 'threads' (valid keys: workers, "
                 "shutdown_timeout)\n");
}

/* from memory include: is checked for form only */
static void test_include_form(void **state)
{
    (void)state;
    expect_diags("include: {a: b}\n",
                 "clariq.yaml:1:10: error: include: expected a list of file names or patterns, got "
                 "a mapping (write include: [alerts.yaml, alerts.d/*.yaml])\n");
    expect_diags("include: ['', [x]]\n",
                 "clariq.yaml:1:11: error: include: empty file name (write a file name or a "
                 "pattern such as alerts.d/*.yaml)\n"
                 "clariq.yaml:1:15: error: include: expected a string, got a list (write a file "
                 "name or a pattern such as alerts.d/*.yaml)\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_configuration),
        cmocka_unit_test(test_names_follow_the_main_path),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_state_paths),
        cmocka_unit_test(test_rule_forms),
        cmocka_unit_test(test_template_variables),
        cmocka_unit_test(test_include_problems),
        cmocka_unit_test(test_include_reads_each_file_once),
        cmocka_unit_test(test_memory_loads_read_no_files),
        cmocka_unit_test(test_secrets_never_in_diagnostics),
        cmocka_unit_test(test_alerts_and_channels_shapes),
        cmocka_unit_test(test_alert_required_keys),
        cmocka_unit_test(test_duplicate_alert_id),
        cmocka_unit_test(test_sql_and_sql_file),
        cmocka_unit_test(test_unknown_connection),
        cmocka_unit_test(test_unknown_and_repeated_channels),
        cmocka_unit_test(test_bad_schedule),
        cmocka_unit_test(test_bad_timezone),
        cmocka_unit_test(test_template_problems),
        cmocka_unit_test(test_alert_timeout_only_lowers),
        cmocka_unit_test(test_bad_enum_values),
        cmocka_unit_test(test_rule_keys_must_fit_the_type),
        cmocka_unit_test(test_threshold_rule_problems),
        cmocka_unit_test(test_change_rule_problems),
        cmocka_unit_test(test_channel_type_problems),
        cmocka_unit_test(test_channel_required_keys),
        cmocka_unit_test(test_channel_values),
        cmocka_unit_test(test_duplicate_channel),
        cmocka_unit_test(test_state_problems),
        cmocka_unit_test(test_scheduler_problems),
        cmocka_unit_test(test_include_form),
    };
    return cmocka_run_group_tests(tests, set_env, NULL);
}
