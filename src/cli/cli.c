/*
 * cli.c - global options and the command table. main.c calls cq_cli_main.
 *
 * Global options come before the command (clariq --config x.yaml run ...); --config is
 * also accepted by every command that reads the configuration.
 */
#include "cli/cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#ifndef CQ_WITHOUT_PG
#include <libpq-fe.h>
#endif
#ifndef CQ_WITHOUT_SQLITE
#include <sqlite3.h>
#endif

#include "base/log.h"
#include "base/str.h"
#include "cli/app.h"

struct command {
    const char *name;
    int (*run)(struct cq_app *app, int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"run", cq_cli_cmd_run, "run SQL on a connection and print the result"},
    {"serve", cq_cli_cmd_serve, "serve the HTTP API (governed queries, SQL, health, metrics)"},
    {"query", cq_cli_cmd_query, "run a governed JSON query (catalog, roles, masking)"},
    {"catalog", cq_cli_cmd_catalog, "check the governed-query catalog, or draft one from a db"},
    {"connections", cq_cli_cmd_connections, "list the configured connections or test them"},
    {"init", cq_cli_cmd_init, "write a starter clariq.yaml, alerts.yaml and sample database"},
    {"alert", cq_cli_cmd_alert, "run, test, list and inspect SQL alerts"},
    {"demo", cq_cli_cmd_demo, "run sample queries on the embedded demo database"},
    {NULL, NULL, NULL},
};

static void print_version(void)
{
    printf("clariq %s", CQ_VERSION);
#ifndef CQ_WITHOUT_PG
    printf(" (libpq %d)", PQlibVersion());
#endif
#ifndef CQ_WITHOUT_SQLITE
    printf(" (SQLite %s)", sqlite3_libversion());
#endif
    printf("\n");
}

static void print_help(void)
{
    printf("clariq - a small database gateway: safe SQL from the terminal, alerts, a governed\n"
           "query API.\n\n"
           "Usage: clariq [--config FILE] [--log-level LEVEL] [--log-format plain|json]\n"
           "              COMMAND ...\n\n"
           "Commands:\n");
    for (const struct command *c = commands; c->name != NULL; c++) {
        printf("  %-12s %s\n", c->name, c->summary);
    }
    printf("\nOptions:\n"
           "  --config FILE      configuration file (default: $CLARIQ_CONFIG, ./clariq.yaml,\n"
           "                     or the embedded demo database when none exists)\n"
           "  --log-level LEVEL  trace, debug, info, warn (default), error, off\n"
           "  --log-format FMT   plain (default) or json\n"
           "  --version          print the version\n"
           "  -h, --help         this help; 'clariq COMMAND --help' for a command\n\n"
           "Exit codes: 0 ok, 1 SQL error, 2 usage or configuration error, 3 connection error,\n"
           "4 timeout or pool exhausted, 5 result truncated (only with --fail-on-truncate).\n");
}

/* Parses options before the command; returns the index of the command or -1 (exit code in
 * *code). */
static int global_options(struct cq_app *app, int argc, char **argv, int *code)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--version") == 0) {
            print_version();
            *code = CQ_EXIT_OK;
            return -1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_help();
            *code = CQ_EXIT_OK;
            return -1;
        } else if (strcmp(a, "--config") == 0 && val != NULL) {
            app->config_arg = val;
            i++;
        } else if (strcmp(a, "--log-level") == 0 && val != NULL) {
            if (cq_log_parse_level(val, &cq_log_level) != CQ_OK) {
                *code = cq_cli_usage_error("", "--log-level: unknown level '%s' (trace, debug, "
                                           "info, warn, error, off)", val);
                return -1;
            }
            i++;
        } else if (strcmp(a, "--log-format") == 0 && val != NULL) {
            if (strcmp(val, "json") != 0 && strcmp(val, "plain") != 0) {
                *code = cq_cli_usage_error("", "--log-format: use plain or json, not '%s'", val);
                return -1;
            }
            cq_log_set_json(strcmp(val, "json") == 0);
            i++;
        } else {
            *code = cq_cli_usage_error("", "unknown or incomplete option '%s'", a);
            return -1;
        }
    }
    if (i >= argc) {
        print_help();
        *code = CQ_EXIT_USAGE;
        return -1;
    }
    return i;
}

int cq_cli_main(int argc, char **argv)
{
    struct cq_app app = {0};
    int code = CQ_EXIT_USAGE;

    /* A closed pipe (clariq run ... | head) becomes a write error that ends the stream. */
    signal(SIGPIPE, SIG_IGN);
    int at = global_options(&app, argc, argv, &code);
    if (at < 0) {
        return code;
    }
    for (const struct command *c = commands; c->name != NULL; c++) {
        if (strcmp(c->name, argv[at]) == 0) {
            code = c->run(&app, argc - at, argv + at);
            cq_conf_free(app.conf);
            return code;
        }
    }
    const char *names[8];
    size_t n = 0;
    for (const struct command *c = commands; c->name != NULL && n < 7; c++) {
        names[n++] = c->name;
    }
    names[n] = NULL;
    const char *near = cq_did_you_mean(argv[at], names);
    fprintf(stderr, "clariq: unknown command '%s'%s%s%s\nTry 'clariq --help'.\n", argv[at],
            near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    return CQ_EXIT_USAGE;
}
