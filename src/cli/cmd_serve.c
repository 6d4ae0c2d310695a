/*
 * cmd_serve.c - `clariq serve`: the HTTP API (src/http) and, when alerts are configured,
 * the alert scheduler, in one process.
 *
 * Signals are taken in the main thread with sigwait (blocked before any thread starts, so
 * every thread inherits the mask): SIGTERM/SIGINT stop accepting, let in-flight requests
 * finish up to server.shutdown_timeout, stop the scheduler and exit 0; SIGHUP loads the
 * file again and swaps configuration, catalog and keys atomically (and the scheduler's
 * alerts); a file with problems keeps the running configuration and logs why.
 *
 * `clariq demo` serves the embedded demo through cq_cli_serve as well.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alert/channel.h"
#include "alert/eval.h"
#include "alert/sched.h"
#include "alert/store.h"
#include "base/log.h"
#include "cli/app.h"
#include "cli/cli.h"
#include "http/http.h"

static void serve_help(void)
{
    printf("Usage: clariq serve [options]\n\n"
           "Serves the HTTP API (governed queries, raw SQL, health, readiness, metrics) on\n"
           "server.listen (default 127.0.0.1:8080), and runs the alert scheduler when\n"
           "alerts are configured. See README, HTTP API.\n\n"
           "Options:\n"
           "      --listen ADDR  HOST:PORT to listen on (overrides server.listen; port 0\n"
           "                     picks a free one)\n"
           "      --no-alerts    do not run the alert scheduler\n"
           "  -c, --config FILE  configuration file\n"
           "  -h, --help         this help\n\n"
           "Signals: SIGTERM/SIGINT drain in-flight requests (server.shutdown_timeout) and\n"
           "exit 0; SIGHUP reloads the configuration (a broken file keeps the old one).\n");
}

/* Alert runs by state in the server's /metrics. */
static void count_run(void *ctx, enum cq_alert_state state)
{
    cq_http_server_alert_ran(ctx, cq_alert_state_name(state));
}

/* Loads the file again (SIGHUP, or the scheduler's own copy); NULL keeps the old one. */
static struct cq_conf *load_again(const char *path, char *listen)
{
    struct cq_conf *conf = cq_cli_reload_conf(path, "serve");
    if (conf != NULL && listen != NULL) {
        conf->server.listen = listen; /* argv outlives the conf; never freed by it */
    }
    return conf;
}

/* The demo's banner: where it listens and a request that works as pasted. */
static void demo_banner(const char *url)
{
    printf("clariq demo: the embedded shop database is served at %s (no API key needed)\n\n"
           "Try a governed query (the analyst role sees customer names masked):\n\n"
           "  curl -s %s/query -H 'Content-Type: application/json' -d '{\"definition\":"
           "{\"from\":\"customers\",\"columns\":[\"id\",\"name\",\"email\",\"country\"],"
           "\"limit\":3},\"context\":{\"roles\":{\"user\":[\"analyst\"]}}}'\n\n"
           "  curl -s %s/health\n\n"
           "Stop with Ctrl-C.\n",
           url, url, url);
}

int cq_cli_serve(struct cq_app *app, char *listen, bool alerts, bool demo)
{
    struct cq_err err = {0};
    struct cq_http_server *srv = NULL;
    struct cq_alert_store *store = NULL;
    struct cq_alert_sched *sched = NULL;
    struct cq_conf *sched_conf = NULL;
    int64_t sched_timeout = app->conf->sched.shutdown_timeout_ms;
    sigset_t set;
    int sig = 0, code = CQ_EXIT_OK;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by every thread started below */
    signal(SIGPIPE, SIG_IGN);               /* a client gone mid-response is not fatal */
    if (listen != NULL) {
        app->conf->server.listen = listen;
    }
    alerts = alerts && !app->is_demo && app->conf->n_alerts > 0;
    if (alerts) {
        /* the scheduler owns a conf of its own: load the file a second time */
        sched_conf = load_again(app->config_path, listen);
        if (sched_conf == NULL) {
            cq_err_set(&err, CQ_EINVAL, "cannot load %s again for the scheduler",
                       app->config_path);
            goto fail;
        }
        if (cq_alert_channels_init(&err) != CQ_OK ||
            (store = cq_alert_store_open(sched_conf, &err)) == NULL) {
            goto fail;
        }
    }
    srv = cq_http_server_new(app->conf, &err);
    app->conf = NULL; /* the server owns it, also on failure */
    if (srv == NULL || cq_http_server_start(srv, &err) != CQ_OK) {
        goto fail;
    }
    if (alerts) {
        sched = cq_alert_sched_new(sched_conf, store, "serve", &err);
        sched_conf = NULL;
        if (sched != NULL) {
            cq_alert_sched_on_run(sched, count_run, srv);
        }
        if (sched == NULL || cq_alert_sched_start(sched, &err) != CQ_OK) {
            goto fail;
        }
    }
    if (demo) {
        demo_banner(cq_http_server_url(srv));
    } else {
        printf("clariq serve: listening on %s%s\n", cq_http_server_url(srv),
               sched != NULL ? " (alert scheduler running)" : "");
    }
    fflush(stdout);
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
        struct cq_conf *conf;
        if (app->is_demo) {
            CQ_LOG(CQ_LOG_INFO, "serve", "SIGHUP: the embedded demo has nothing to reload");
            continue;
        }
        conf = load_again(app->config_path, listen);
        if (conf != NULL && cq_http_server_reload(srv, conf, &err) != CQ_OK) {
            CQ_LOG(CQ_LOG_ERROR, "serve", "reload: %s; kept the running configuration",
                   err.msg);
            cq_conf_free(conf);
            cq_err_clear(&err);
            continue;
        }
        if (conf != NULL && sched != NULL) {
            struct cq_conf *sc = load_again(app->config_path, listen);
            if (sc != NULL && cq_alert_sched_reload(sched, sc, &err) != CQ_OK) {
                CQ_LOG(CQ_LOG_ERROR, "serve", "alert reload: %s", err.msg);
                cq_err_clear(&err);
            }
        }
        if (conf != NULL) {
            CQ_LOG(CQ_LOG_INFO, "serve", "SIGHUP: configuration reloaded from %s",
                   app->config_path);
        }
    }
    CQ_LOG(CQ_LOG_INFO, "serve", "%s: draining in-flight requests",
           sig == SIGINT ? "SIGINT" : "SIGTERM");
    cq_http_server_stop(srv);
    if (sched != NULL && cq_alert_sched_stop(sched, sched_timeout) != CQ_OK) {
        CQ_LOG(CQ_LOG_WARN, "serve", "shutdown timeout: alert runs still in flight are "
               "abandoned; their claims expire");
    }
    goto out;
fail:
    code = cq_cli_report(app, &err, NULL);
out:
    cq_alert_sched_free(sched);
    cq_conf_free(sched_conf);
    cq_http_server_free(srv);
    cq_alert_store_free(store);
    return code;
}

int cq_cli_cmd_serve(struct cq_app *app, int argc, char **argv)
{
    static const struct option longs[] = {
        {"listen", required_argument, NULL, 'l'}, {"no-alerts", no_argument, NULL, 'n'},
        {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *listen = NULL;
    bool alerts = true;
    int opt, code;

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:h", longs, NULL)) != -1) {
        switch (opt) {
        case 'l': listen = optarg; break;
        case 'n': alerts = false; break;
        case 'c': app->config_arg = optarg; break;
        case 'h': serve_help(); return CQ_EXIT_OK;
        case ':':
            return cq_cli_usage_error("serve", "option '%s' needs a value", argv[optind - 1]);
        default: return cq_cli_usage_error("serve", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return cq_cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    }
    code = cq_cli_load_conf(app);
    if (code != CQ_EXIT_OK) {
        return code;
    }
    return cq_cli_serve(app, listen, alerts, false);
}
