/*
 * cmd_alert.c - `clariq alert run | test | list | history | validate`.
 *
 * run drives the scheduler in the foreground: signals are blocked in every thread and
 * taken here with sigwait, so SIGTERM/SIGINT stop cleanly and SIGHUP reloads (a bad new
 * file keeps the old configuration). The other subcommands read the same state store.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alert/channel.h"
#include "alert/engine.h"
#include "alert/sched.h"
#include "base/json.h"
#include "base/log.h"
#include "base/str.h"
#include "base/time.h"
#include "cli/app.h"
#include "cli/cli.h"
#include "drv/fmt.h"

struct alert_opts {
    const char *sub;
    const char *id;
    bool once, send;
    int limit;
    enum cq_fmt_kind kind;
};

static void alert_help(void)
{
    printf("Usage: clariq alert run [--once]\n"
           "       clariq alert test --id ID [--send]\n"
           "       clariq alert list [--format FMT]\n"
           "       clariq alert history --id ID [--limit N] [--format FMT]\n"
           "       clariq alert validate\n\n"
           "run       evaluates every enabled alert on its schedule until SIGTERM/SIGINT\n"
           "          (in-flight runs finish within scheduler.shutdown_timeout; exit 0);\n"
           "          SIGHUP reloads the configuration and keeps the old one if the new one\n"
           "          is bad. --once evaluates every enabled alert now, delivers, and exits.\n"
           "test      evaluates one alert now and prints the evaluation as JSON; nothing is\n"
           "          recorded or sent unless --send (then it is sent to its channels).\n"
           "          Exits 1 when the alert's query failed or a delivery failed.\n"
           "list      every alert with its schedule, next run and last state.\n"
           "history   the latest runs of one alert with their deliveries.\n"
           "validate  checks the configuration (alerts, channels, includes) and exits 2 on\n"
           "          problems.\n\n"
           "Options:\n"
           "      --id ID        the alert\n"
           "      --once         run: one pass, then exit\n"
           "      --send         test: deliver to the alert's channels\n"
           "      --limit N      history: runs shown (default 20)\n"
           "      --format FMT   table (default on a terminal), json, ndjson or csv\n"
           "      --config FILE  configuration file\n"
           "  -h, --help         this help\n");
}

static int parse_opts(struct cq_app *app, int argc, char **argv, struct alert_opts *o)
{
    static const struct option longs[] = {
        {"id", required_argument, NULL, 'i'},     {"once", no_argument, NULL, 'o'},
        {"send", no_argument, NULL, 's'},         {"limit", required_argument, NULL, 'l'},
        {"format", required_argument, NULL, 'F'}, {"config", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    static const char *const subs[] = {"run", "test", "list", "history", "validate", NULL};
    struct cq_err err = {0};
    int opt;
    *o = (struct alert_opts){.limit = 20,
                             .kind = isatty(STDOUT_FILENO) ? CQ_FMT_TABLE : CQ_FMT_JSON};
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
        const char *p = optarg;
        int64_t v = 0;
        switch (opt) {
        case 'h':
            alert_help();
            return -1;
        case 'i':
            o->id = optarg;
            break;
        case 'o':
            o->once = true;
            break;
        case 's':
            o->send = true;
            break;
        case 'C':
            app->config_arg = optarg;
            break;
        case 'l':
            if (cq_parse_i64(&p, &v) != CQ_OK || *p != '\0' || v < 1 || v > 100000) {
                return cq_cli_usage_error("alert", "--limit: expected 1 to 100000, got '%s'",
                                          optarg);
            }
            o->limit = (int)v;
            break;
        case 'F':
            if (cq_drv_fmt_parse(optarg, &o->kind, &err) != CQ_OK) {
                return cq_cli_usage_error("alert", "--format: %s", err.msg);
            }
            break;
        default:
            return cq_cli_usage_error("alert", "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    o->sub = optind < argc ? argv[optind] : NULL;
    if (o->sub == NULL || optind + 1 < argc) {
        return cq_cli_usage_error("alert", "expected one of run, test, list, history, validate");
    }
    for (size_t i = 0; subs[i] != NULL; i++) {
        if (strcmp(o->sub, subs[i]) == 0) {
            if ((i == 1 || i == 3) && o->id == NULL) {
                return cq_cli_usage_error("alert", "%s needs --id ID", o->sub);
            }
            return 0;
        }
    }
    const char *hint = cq_did_you_mean(o->sub, subs);
    return cq_cli_usage_error("alert", "unknown subcommand '%s'%s%s%s", o->sub,
                              hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
}

/* The alert named by --id, or a usage error naming the known ids. */
static const struct cq_alert_conf *find_alert(const struct cq_conf *conf, const char *id)
{
    const struct cq_alert_conf *a = cq_conf_alert(conf, id);
    const char *cands[64];
    size_t n = 0;
    if (a != NULL) {
        return a;
    }
    for (size_t i = 0; i < conf->n_alerts && n < 63; i++) {
        cands[n++] = conf->alerts[i].id;
    }
    cands[n] = NULL;
    const char *hint = cq_did_you_mean(id, cands);
    cq_cli_usage_error("alert", "no alert with id '%s'%s%s%s (%zu alert%s configured)", id,
                       hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "",
                       conf->n_alerts, conf->n_alerts == 1 ? "" : "s");
    return NULL;
}

static void runner_name(char *out, size_t size)
{
    char host[128] = "host";
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    snprintf(out, size, "%s:%ld", host, (long)getpid());
}

static struct cq_alert_store *open_store(const struct cq_app *app, struct cq_err *err)
{
    struct cq_alert_store *s = cq_alert_store_open(app->conf, err);
    if (s == NULL) {
        cq_err_wrap(err, "alert state store");
    }
    return s;
}

/* ---- run ---------------------------------------------------------------------------------- */

/* Waits for the outbox to drain (retries included) up to timeout_ms. */
static int drain(struct cq_alert_engine *e, struct cq_alert_store *store, int64_t timeout_ms,
                 struct cq_err *err)
{
    int64_t deadline = cq_now_ms() + timeout_ms, pending = 0;
    int rc = CQ_OK;
    while (rc == CQ_OK) {
        rc = cq_alert_engine_deliver(e, 64, NULL, err);
        if (rc == CQ_OK) {
            rc = cq_alert_store_n_pending(store, &pending, err);
        }
        if (rc != CQ_OK || pending == 0) {
            break;
        }
        if (cq_now_ms() >= deadline) {
            CQ_LOG(CQ_LOG_WARN, "alert", "%lld deliveries still pending; they are kept and "
                   "retried by the next run", (long long)pending);
            break;
        }
        nanosleep(&(struct timespec){0, 200 * 1000000L}, NULL);
    }
    return rc;
}

/* Shared by the --once workers: each takes the next alert index. */
struct once {
    struct cq_alert_engine *e;
    const struct cq_conf *conf;
    int64_t now;
    _Atomic size_t next;
    _Atomic int rc;          /* first store failure */
    struct cq_err err;       /* its message (written by the thread that set rc) */
};

static void *once_worker(void *arg)
{
    struct once *o = arg;
    for (size_t i; (i = atomic_fetch_add(&o->next, 1)) < o->conf->n_alerts;) {
        struct cq_alert_outcome out;
        struct cq_err err = {0};
        int expect = CQ_OK;
        if (!o->conf->alerts[i].enabled ||
            cq_alert_engine_run(o->e, &o->conf->alerts[i], o->now, &out, &err) == CQ_OK) {
            continue;
        }
        if (atomic_compare_exchange_strong(&o->rc, &expect, (int)err.rc)) {
            o->err = err;
        }
        break;
    }
    return NULL;
}

/* Evaluates every enabled alert once, scheduler.workers at a time, then delivers. */
static int run_once(struct cq_app *app, struct cq_alert_store *store, const char *runner)
{
    struct once o = {.conf = app->conf, .now = cq_wall_ms()};
    pthread_t tids[256];
    int n = app->conf->sched.workers > 0 ? app->conf->sched.workers : 4, started = 0;
    int rc;
    o.e = cq_alert_engine_new(app->conf, store, runner, &o.err);
    if (o.e == NULL) {
        return cq_cli_report(app, &o.err, NULL);
    }
    atomic_init(&o.next, 0);
    atomic_init(&o.rc, CQ_OK);
    n = n > 256 ? 256 : n;
    while (started < n - 1 && pthread_create(&tids[started], NULL, once_worker, &o) == 0) {
        started++;
    }
    once_worker(&o); /* this thread works too (and alone if no thread could start) */
    for (int i = 0; i < started; i++) {
        pthread_join(tids[i], NULL);
    }
    rc = atomic_load(&o.rc);
    if (rc == CQ_OK) {
        rc = drain(o.e, store, app->conf->sched.shutdown_timeout_ms, &o.err);
    }
    cq_alert_engine_free(o.e);
    return rc == CQ_OK ? CQ_EXIT_OK : cq_cli_report(app, &o.err, NULL);
}

static int run_forever(struct cq_app *app, struct cq_alert_store *store, const char *runner)
{
    struct cq_err err = {0};
    sigset_t set;
    int sig = 0, rc;
    int64_t shutdown_ms = app->conf->sched.shutdown_timeout_ms;
    size_t n_alerts = app->conf->n_alerts;
    struct cq_alert_sched *s;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by every thread started below */
    s = cq_alert_sched_new(app->conf, store, runner, &err);
    app->conf = NULL; /* the scheduler owns it now */
    rc = s != NULL ? cq_alert_sched_start(s, &err) : (int)err.rc;
    if (rc != CQ_OK) {
        cq_alert_sched_free(s);
        return cq_cli_report(app, &err, NULL);
    }
    CQ_LOG(CQ_LOG_INFO, "alert", "runner %s started: %zu alerts, state in %s", runner, n_alerts,
           cq_alert_store_where(store));
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
        struct cq_conf *conf = cq_cli_reload_conf(app->config_path, "alert");
        if (conf != NULL && cq_alert_sched_reload(s, conf, &err) != CQ_OK) {
            CQ_LOG(CQ_LOG_ERROR, "alert", "reload: %s; kept the running configuration",
                   err.msg);
        }
    }
    CQ_LOG(CQ_LOG_INFO, "alert", "%s: finishing runs in flight (up to %lld ms)",
           sig == SIGINT ? "SIGINT" : "SIGTERM", (long long)shutdown_ms);
    if (cq_alert_sched_stop(s, shutdown_ms) != CQ_OK) {
        CQ_LOG(CQ_LOG_WARN, "alert", "shutdown timeout: runs still in flight are abandoned; "
               "their claims expire and another run takes them");
    }
    cq_alert_sched_free(s);
    return CQ_EXIT_OK;
}

static int cmd_run(struct cq_app *app, const struct alert_opts *o)
{
    struct cq_err err = {0};
    struct cq_alert_store *store = NULL;
    char runner[160];
    int code;
    if (app->conf->n_alerts == 0) {
        cq_err_set(&err, CQ_EINVAL, "no alerts are configured in %s (add an alerts: list or "
                   "include: an alerts file; see README, Alerts)",
                   app->is_demo ? "the embedded demo" : app->config_path);
        return cq_cli_report(app, &err, NULL);
    }
    if (cq_alert_channels_init(&err) != CQ_OK || (store = open_store(app, &err)) == NULL) {
        return cq_cli_report(app, &err, NULL);
    }
    runner_name(runner, sizeof(runner));
    code = o->once ? run_once(app, store, runner) : run_forever(app, store, runner);
    cq_alert_store_free(store);
    return code;
}

/* ---- test --------------------------------------------------------------------------------- */

/* Sends m to every channel of the alert now, retrying as configured (sleeping between
 * attempts: this is an interactive command). Appends a "deliveries" JSON array. */
static bool send_now(const struct cq_conf *conf, const struct cq_alert_conf *a,
                     const struct cq_alert_msg *m, struct cq_buf *out)
{
    bool all_ok = true;
    cq_buf_puts(out, ",\"deliveries\":[");
    for (size_t i = 0; i < a->n_channels; i++) {
        const struct cq_channel_conf *cc = cq_conf_channel(conf, a->channels[i]);
        struct cq_err err = {0};
        int rc = CQ_CHAN_FAIL, tries = 0;
        while (cc != NULL && tries <= cc->retries) {
            cq_err_clear(&err);
            rc = cq_alert_channel_type(cc->kind)->ops->send(cc, m, &err);
            if (rc != CQ_CHAN_RETRY || ++tries > cc->retries) {
                tries += rc != CQ_CHAN_RETRY;
                break;
            }
            int64_t ms = cq_alert_backoff_ms(cc, tries, (uint64_t)cq_now_us());
            nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
        }
        all_ok = all_ok && rc == CQ_CHAN_OK;
        cq_buf_puts(out, i ? ",{\"channel\":" : "{\"channel\":");
        cq_json_put_str(out, a->channels[i], strlen(a->channels[i]));
        cq_buf_printf(out, ",\"outcome\":\"%s\",\"attempts\":%d,\"error\":",
                      rc == CQ_CHAN_OK ? "sent" : "failed", tries);
        if (rc == CQ_CHAN_OK) {
            cq_buf_puts(out, "null}");
        } else {
            cq_json_put_str(out, err.msg, strlen(err.msg));
            cq_buf_puts(out, "}");
        }
    }
    cq_buf_puts(out, "]");
    return all_ok;
}

static int cmd_test(struct cq_app *app, const struct alert_opts *o)
{
    const struct cq_alert_conf *a = find_alert(app->conf, o->id);
    struct cq_err err = {0};
    struct cq_alert_status prev = {0};
    struct cq_alert_store *store = NULL;
    struct cq_alert_engine *e = NULL;
    struct cq_pool *pool = NULL;
    struct cq_alert_eval ev;
    struct cq_alert_msg m;
    struct cq_arena arena;
    struct cq_buf out;
    const char *why = "", *notify;
    bool ok = true;
    int code = CQ_EXIT_OK;

    if (a == NULL) {
        return CQ_EXIT_USAGE;
    }
    cq_arena_init(&arena, 16384, 32u << 20);
    cq_buf_init(&out, 64u << 20);
    /* The last state makes the decision (and the change rule) realistic; without a store
     * the alert is evaluated as if it never ran. */
    store = cq_alert_store_open(app->conf, &err);
    if (store == NULL || cq_alert_store_status(store, a->id, &prev, &err) != CQ_OK) {
        CQ_LOG(CQ_LOG_WARN, "alert", "state store unavailable (%s): evaluating as a first run",
               err.msg);
        memset(&prev, 0, sizeof(prev));
    }
    cq_err_clear(&err);
    e = cq_alert_engine_new(app->conf, store, "test", &err);
    if (e == NULL || cq_alert_engine_pool(e, a->connection, &pool, &err) != CQ_OK ||
        cq_alert_eval_run(a, pool, &prev, &arena, &ev, &err) != CQ_OK) {
        code = cq_cli_report(app, &err, a->connection);
        goto out;
    }
    notify = cq_alert_decide(a, &ev, &prev, cq_wall_ms(), &why);
    cq_alert_eval_json(&ev, &out);
    cq_buf_puts(&out, ",\"notify\":");
    if (notify != NULL) {
        cq_json_put_str(&out, notify, strlen(notify));
    } else {
        cq_buf_puts(&out, "null");
    }
    cq_buf_puts(&out, ",\"why\":");
    cq_json_put_str(&out, why, strlen(why));
    if (o->send) {
        const char *state = notify ? notify : cq_alert_state_name(ev.state);
        if (cq_alert_channels_init(&err) != CQ_OK ||
            cq_alert_engine_msg(&ev, state, &arena, &m, &err) != CQ_OK) {
            code = cq_cli_report(app, &err, NULL);
            goto out;
        }
        ok = send_now(app->conf, a, &m, &out);
    }
    cq_buf_puts(&out, "}\n");
    if (cq_buf_rc(&out) != CQ_OK) {
        cq_err_set(&err, (enum cq_rc)cq_buf_rc(&out), "alert test: output too large");
        code = cq_cli_report(app, &err, NULL);
        goto out;
    }
    fputs(cq_buf_str(&out), stdout);
    code = ev.state == CQ_ALERT_ERROR || !ok ? CQ_EXIT_SQL : CQ_EXIT_OK;
out:
    cq_alert_engine_free(e);
    cq_alert_store_free(store);
    cq_buf_cleanup(&out);
    cq_arena_free(&arena);
    return code;
}

/* ---- list, history ------------------------------------------------------------------------ */

static struct cq_value sval(const char *s)
{
    return (struct cq_value){.kind = s ? CQ_V_STRING : CQ_V_NULL, .p = s, .len = s ? strlen(s) : 0};
}

static struct cq_value nval(char *buf, size_t size, double v, bool integer)
{
    snprintf(buf, size, integer ? "%.0f" : "%.3f", v);
    return (struct cq_value){.kind = CQ_V_NUMBER, .p = buf, .len = strlen(buf)};
}

static const char *iso_or_null(char *buf, size_t size, int64_t ms)
{
    if (ms <= 0 || ms == INT64_MAX) {
        return NULL;
    }
    cq_format_iso(ms, buf, size);
    return buf;
}

static int list_rows(const struct cq_conf *conf, struct cq_alert_store *store,
                     const struct cq_rowsink *out, struct cq_err *err)
{
    static const char *const rules[] = {"any_rows",    "no_rows", "threshold", "always",
                                        "sql_boolean", "change"};
    static const struct cq_col cols[] = {
        {"id", "text", CQ_V_STRING},        {"name", "text", CQ_V_STRING},
        {"enabled", "bool", CQ_V_BOOL},     {"schedule", "text", CQ_V_STRING},
        {"timezone", "text", CQ_V_STRING},  {"connection", "text", CQ_V_STRING},
        {"rule", "text", CQ_V_STRING},      {"next_run", "text", CQ_V_STRING},
        {"last_state", "text", CQ_V_STRING}, {"last_run", "text", CQ_V_STRING},
    };
    size_t nc = sizeof(cols) / sizeof(cols[0]);
    int rc = out->on_columns(out->ctx, nc, cols, err);
    int64_t now = cq_wall_ms();
    for (size_t i = 0; rc == CQ_OK && i < conf->n_alerts; i++) {
        const struct cq_alert_conf *a = &conf->alerts[i];
        struct cq_alert_status st = {0};
        char next[32], last[32];
        int64_t at = 0;
        if (store != NULL && cq_alert_store_status(store, a->id, &st, err) != CQ_OK) {
            return err->rc;
        }
        if (!a->enabled || cq_cron_next(&a->cron, a->tz, now, &at) != CQ_OK) {
            at = 0;
        }
        struct cq_value v[] = {
            sval(a->id), sval(a->name ? a->name : a->id),
            {.kind = CQ_V_BOOL, .p = a->enabled ? "true" : "false", .len = a->enabled ? 4 : 5},
            sval(a->schedule), sval(a->timezone ? a->timezone : "UTC"), sval(a->connection),
            sval(rules[a->rule.type]), sval(iso_or_null(next, sizeof(next), at)),
            sval(st.state[0] ? st.state : NULL),
            sval(iso_or_null(last, sizeof(last), st.last_run_ms)),
        };
        rc = out->on_row(out->ctx, nc, v, err);
    }
    if (rc == CQ_OK) {
        struct cq_result_info info = {.row_count = (int64_t)conf->n_alerts, .rows_affected = -1};
        rc = out->on_end(out->ctx, &info, err);
    }
    return rc;
}

static int history_row(void *ctx, const struct cq_alert_history *h, struct cq_err *err)
{
    const struct cq_rowsink *out = *(const struct cq_rowsink **)ctx;
    char at[32], slot[32], n[32], ms[32];
    struct cq_value v[] = {
        sval(iso_or_null(at, sizeof(at), h->run_at_ms)),
        sval(iso_or_null(slot, sizeof(slot), h->slot_ms)),
        sval(h->state),
        sval(h->reason),
        sval(h->value),
        nval(n, sizeof(n), (double)h->row_count, true),
        nval(ms, sizeof(ms), h->duration_ms, false),
        sval(h->error),
        sval(h->deliveries),
    };
    return out->on_row(out->ctx, sizeof(v) / sizeof(v[0]), v, err);
}

static int history_rows(struct cq_alert_store *store, const struct alert_opts *o,
                        const struct cq_rowsink *out, struct cq_err *err)
{
    static const struct cq_col cols[] = {
        {"run_at", "text", CQ_V_STRING},    {"slot", "text", CQ_V_STRING},
        {"state", "text", CQ_V_STRING},     {"reason", "text", CQ_V_STRING},
        {"value", "text", CQ_V_STRING},     {"row_count", "int8", CQ_V_NUMBER},
        {"duration_ms", "float8", CQ_V_NUMBER}, {"error", "text", CQ_V_STRING},
        {"deliveries", "text", CQ_V_STRING},
    };
    int rc = out->on_columns(out->ctx, sizeof(cols) / sizeof(cols[0]), cols, err);
    if (rc == CQ_OK) {
        rc = cq_alert_store_history(store, o->id, o->limit, history_row, &out, err);
    }
    if (rc == CQ_OK) {
        struct cq_result_info info = {.rows_affected = -1};
        rc = out->on_end(out->ctx, &info, err);
    }
    return rc;
}

static int cmd_table(struct cq_app *app, const struct alert_opts *o)
{
    struct cq_err err = {0};
    struct cq_alert_store *store = NULL;
    struct cq_fmt *fmt = NULL;
    bool history = strcmp(o->sub, "history") == 0;
    int rc, code;
    if (history && find_alert(app->conf, o->id) == NULL) {
        return CQ_EXIT_USAGE;
    }
    store = cq_alert_store_open(app->conf, &err);
    if (store == NULL && history) {
        return cq_cli_report(app, &err, NULL);
    }
    if (store == NULL) { /* list still shows schedules */
        CQ_LOG(CQ_LOG_WARN, "alert", "state store unavailable (%s): no last states", err.msg);
        cq_err_clear(&err);
    }
    fmt = cq_drv_fmt_new(o->kind, cq_cli_write_stdout, NULL, &err);
    rc = fmt == NULL ? (int)err.rc
         : history   ? history_rows(store, o, cq_drv_fmt_sink(fmt), &err)
                     : list_rows(app->conf, store, cq_drv_fmt_sink(fmt), &err);
    code = rc == CQ_OK ? CQ_EXIT_OK : cq_cli_report(app, &err, NULL);
    cq_drv_fmt_free(fmt);
    cq_alert_store_free(store);
    return code;
}

static int cmd_validate(struct cq_app *app)
{
    const struct cq_conf *c = app->conf;
    size_t enabled = 0;
    for (size_t i = 0; i < c->n_alerts; i++) {
        enabled += c->alerts[i].enabled;
    }
    printf("%s: ok: %zu alert%s (%zu enabled), %zu channel%s, %zu file%s\n",
           app->is_demo ? "embedded demo" : app->config_path, c->n_alerts,
           c->n_alerts == 1 ? "" : "s", enabled, c->n_channels, c->n_channels == 1 ? "" : "s",
           c->n_files, c->n_files == 1 ? "" : "s");
    return CQ_EXIT_OK;
}

int cq_cli_cmd_alert(struct cq_app *app, int argc, char **argv)
{
    struct alert_opts o;
    int code = parse_opts(app, argc, argv, &o);
    if (code != 0) {
        return code < 0 ? CQ_EXIT_OK : code;
    }
    app->json_errors = o.kind == CQ_FMT_JSON && strcmp(o.sub, "run") != 0;
    code = cq_cli_load_conf(app);
    if (code != CQ_EXIT_OK) {
        return code;
    }
    if (strcmp(o.sub, "run") == 0) {
        return cmd_run(app, &o);
    }
    if (strcmp(o.sub, "test") == 0) {
        return cmd_test(app, &o);
    }
    if (strcmp(o.sub, "validate") == 0) {
        return cmd_validate(app);
    }
    return cmd_table(app, &o);
}
