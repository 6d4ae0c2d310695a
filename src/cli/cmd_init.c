/*
 * cmd_init.c - `clariq init`: a commented starter clariq.yaml, alerts.yaml and a sample
 * SQLite database in a directory. Existing files are never overwritten without --force;
 * files are written to a temporary name and renamed, so a failure leaves no half file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "cli/app.h"
#include "cli/cli.h"
#include "drv/sqlite.h"

static const char starter_conf[] =
    "# clariq.yaml - written by `clariq init`. Every key is optional; see README.md.\n"
    "#\n"
    "# Values may use ${VAR} or ${VAR:-default} from the environment: keep passwords there.\n"
    "\n"
    "# Defaults for every connection. A command (--timeout, --max-rows, --max-bytes) may\n"
    "# lower them, never raise them.\n"
    "limits:\n"
    "  timeout: 30s          # the statement is canceled on the server after this\n"
    "  max_rows: 100000      # rows returned before the result is cut (truncated: true)\n"
    "  max_bytes: 100MB      # value bytes returned before the result is cut\n"
    "  queue_timeout: 5s     # wait for a free connection before \"pool exhausted\"\n"
    "\n"
    "connections:\n"
    "  # The sample database created next to this file.\n"
    "  local:\n"
    "    driver: sqlite\n"
    "    path: clariq-sample.db   # relative to this file\n"
    "    read_only: true          # the default: writes are refused\n"
    "\n"
    "  # A PostgreSQL database. Use a role that can only read (README: read-only role).\n"
    "  # main:\n"
    "  #   driver: postgres\n"
    "  #   url: ${DATABASE_URL:-postgresql://reader@127.0.0.1:5432/app}\n"
    "  #   pool: {min: 0, max: 4, idle_timeout: 5m}\n"
    "  #   limits: {timeout: 10s, max_rows: 10000, max_concurrent: 2}\n"
    "\n"
    "# Alert definitions live in their own file.\n"
    "include:\n"
    "  - alerts.yaml\n";

static const char starter_alerts[] =
    "# alerts.yaml - alert definitions, pulled in by `include:` in clariq.yaml.\n"
    "# Each alert runs SQL on a schedule, applies a rule and notifies channels.\n"
    "\n"
    "channels:\n"
    "  ops_slack:\n"
    "    type: slack\n"
    "    webhook_url: ${SLACK_WEBHOOK_URL:-http://127.0.0.1:9/disabled}\n"
    "\n"
    "alerts:\n"
    "  - id: pending_orders\n"
    "    name: Orders waiting too long\n"
    "    connection: local\n"
    "    sql: |\n"
    "      SELECT id, customer_id, ordered_at FROM orders\n"
    "      WHERE status = $1 ORDER BY ordered_at LIMIT 20\n"
    "    params: [pending]\n"
    "    schedule: \"*/15 * * * *\"\n"
    "    rule: {type: any_rows}\n"
    "    channels: [ops_slack]\n"
    "    cooldown: 1h\n"
    "    enabled: false        # turn on once the channel is set up\n";

static void init_help(void)
{
    printf("Usage: clariq init [--dir DIR] [--force]\n\n"
           "Writes a commented starter clariq.yaml and alerts.yaml, and a sample SQLite database\n"
           "(clariq-sample.db) into DIR (default: the current directory). Existing files are\n"
           "kept unless --force is given.\n\n"
           "Options:\n"
           "      --dir DIR   where to write (created if missing)\n"
           "      --force     overwrite existing files\n"
           "  -h, --help      this help\n");
}

/* Writes text to path through a temporary file and rename(). */
static int write_atomic(const char *path, const char *text, struct cq_err *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        return cq_err_set(err, CQ_EIO, "cannot write %s: %s", path, strerror(errno));
    }
    bool ok = fputs(text, f) >= 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return cq_err_set(err, CQ_EIO, "cannot write %s: %s", path, strerror(e));
    }
    return CQ_OK;
}

int cq_cli_cmd_init(struct cq_app *app, int argc, char **argv)
{
    static const struct option longs[] = {
        {"dir", required_argument, NULL, 'd'}, {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    const char *dir = ".";
    bool force = false;
    int opt;
    char conf_path[4096], alerts_path[4096], db_path[4096];
    struct cq_err err = {0};

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
        if (opt == 'h') {
            init_help();
            return CQ_EXIT_OK;
        } else if (opt == 'd') {
            dir = optarg;
        } else if (opt == 'f') {
            force = true;
        } else {
            return cq_cli_usage_error("init", "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return cq_cli_usage_error("init", "unexpected argument '%s'", argv[optind]);
    }
    snprintf(conf_path, sizeof(conf_path), "%s/clariq.yaml", dir);
    snprintf(alerts_path, sizeof(alerts_path), "%s/alerts.yaml", dir);
    snprintf(db_path, sizeof(db_path), "%s/clariq-sample.db", dir);
    const char *paths[3] = {conf_path, alerts_path, db_path};
    int existing = 0;
    for (int i = 0; i < 3; i++) {
        if (access(paths[i], F_OK) == 0 && !force) {
            fprintf(stderr, "clariq init: %s already exists\n", paths[i]);
            existing++;
        }
    }
    if (existing > 0) {
        fprintf(stderr, "clariq init: nothing written; pass --force to overwrite\n");
        return CQ_EXIT_USAGE;
    }
    if (force) {
        unlink(db_path);
    }
    if (cq_drv_sqlite_make_sample(db_path, &err) != CQ_OK ||
        write_atomic(alerts_path, starter_alerts, &err) != CQ_OK ||
        write_atomic(conf_path, starter_conf, &err) != CQ_OK) {
        return cq_cli_report(app, &err, NULL);
    }
    printf("Wrote %s, %s and %s.\n"
           "Try: clariq --config %s run \"SELECT * FROM customers LIMIT 5\"\n",
           conf_path, alerts_path, db_path, conf_path);
    return CQ_EXIT_OK;
}
