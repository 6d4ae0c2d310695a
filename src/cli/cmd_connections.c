/*
 * cmd_connections.c - `clariq connections list` and `clariq connections test [NAME]`.
 *
 * Both print through the same result writers as `run` (table on a terminal, else JSON),
 * so scripts get the same shapes everywhere.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/str.h"
#include "base/time.h"
#include "cli/app.h"
#include "cli/cli.h"
#include "drv/fmt.h"

#define N_LIST_COLS 9

static void conns_help(void)
{
    printf("Usage: clariq connections list [--format FMT]\n"
           "       clariq connections test [NAME] [--format FMT]\n\n"
           "list  shows every configured connection: driver, target (password redacted),\n"
           "      read-only flag, pool size and limits.\n"
           "test  connects to NAME (or every connection), prints the server version and the\n"
           "      round-trip latency; exits 3 if any connection fails.\n\n"
           "Options:\n"
           "      --format FMT   table (default on a terminal), json, ndjson or csv\n"
           "      --config FILE  configuration file\n"
           "  -h, --help         this help\n");
}

static struct cq_value str_value(const char *s)
{
    return (struct cq_value){.kind = s ? CQ_V_STRING : CQ_V_NULL, .p = s, .len = s ? strlen(s) : 0};
}

static struct cq_value num_value(char *buf, size_t size, long long v)
{
    snprintf(buf, size, "%lld", v);
    return (struct cq_value){.kind = CQ_V_NUMBER, .p = buf, .len = strlen(buf)};
}

/* Pushes one row per connection through the writer's sink. */
static int list_rows(const struct cq_conf *conf, const struct cq_rowsink *out, struct cq_err *err)
{
    static const struct cq_col cols[N_LIST_COLS] = {
        {"name", "text", CQ_V_STRING},       {"driver", "text", CQ_V_STRING},
        {"target", "text", CQ_V_STRING},     {"read_only", "bool", CQ_V_BOOL},
        {"pool", "text", CQ_V_STRING},       {"timeout", "text", CQ_V_STRING},
        {"max_rows", "int8", CQ_V_NUMBER},   {"max_bytes", "text", CQ_V_STRING},
        {"max_concurrent", "int8", CQ_V_NUMBER},
    };
    int rc = out->on_columns(out->ctx, N_LIST_COLS, cols, err);
    for (size_t i = 0; rc == CQ_OK && i < conf->n_conns; i++) {
        const struct cq_conn_conf *cc = &conf->conns[i];
        char target[512], pool[64], timeout[32], bytes[32], rows[32], conc[32];
        const struct cq_limits *l = &cc->limits;
        cq_drv_dsn_redact(cc->url ? cc->url : cc->path, target, sizeof(target));
        snprintf(pool, sizeof(pool), "%d..%d", cc->pool.min, cc->pool.max);
        cq_format_duration(timeout, sizeof(timeout), l->timeout_ms);
        cq_format_size(bytes, sizeof(bytes), l->max_bytes);
        int conc_v = l->max_concurrent > 0 && l->max_concurrent < cc->pool.max ? l->max_concurrent
                                                                              : cc->pool.max;
        struct cq_value v[N_LIST_COLS] = {
            str_value(cc->name), str_value(cc->driver), str_value(target),
            {.kind = CQ_V_BOOL, .p = cc->read_only ? "true" : "false",
             .len = cc->read_only ? 4 : 5},
            str_value(pool), str_value(l->timeout_ms ? timeout : "none"),
            num_value(rows, sizeof(rows), (long long)l->max_rows),
            str_value(l->max_bytes ? bytes : "unlimited"),
            num_value(conc, sizeof(conc), conc_v),
        };
        rc = out->on_row(out->ctx, N_LIST_COLS, v, err);
    }
    if (rc == CQ_OK) {
        struct cq_result_info info = {.row_count = (int64_t)conf->n_conns, .rows_affected = -1};
        rc = out->on_end(out->ctx, &info, err);
    }
    return rc;
}

static int test_rows(const struct cq_conf *conf, const char *only, const struct cq_rowsink *out,
                     int *failures, struct cq_err *err)
{
    static const struct cq_col cols[5] = {
        {"name", "text", CQ_V_STRING}, {"status", "text", CQ_V_STRING},
        {"server", "text", CQ_V_STRING}, {"latency_ms", "float8", CQ_V_NUMBER},
        {"error", "text", CQ_V_STRING},
    };
    int rc = out->on_columns(out->ctx, 5, cols, err);
    int64_t n = 0;
    for (size_t i = 0; rc == CQ_OK && i < conf->n_conns; i++) {
        const struct cq_conn_conf *cc = &conf->conns[i];
        char version[128] = "", lat[32] = "";
        double ms = 0;
        struct cq_err e = {0};
        if (only != NULL && strcmp(only, cc->name) != 0) {
            continue;
        }
        bool ok = cq_drv_test(cc, version, sizeof(version), &ms, &e) == CQ_OK;
        snprintf(lat, sizeof(lat), "%.3f", ms);
        struct cq_value v[5] = {
            str_value(cc->name), str_value(ok ? "ok" : "failed"), str_value(ok ? version : NULL),
            ok ? (struct cq_value){.kind = CQ_V_NUMBER, .p = lat, .len = strlen(lat)}
               : str_value(NULL),
            str_value(ok ? NULL : e.msg),
        };
        *failures += ok ? 0 : 1;
        n++;
        rc = out->on_row(out->ctx, 5, v, err);
    }
    if (rc == CQ_OK) {
        struct cq_result_info info = {.row_count = n, .rows_affected = -1};
        rc = out->on_end(out->ctx, &info, err);
    }
    return rc;
}

int cq_cli_cmd_connections(struct cq_app *app, int argc, char **argv)
{
    static const struct option longs[] = {
        {"format", required_argument, NULL, 'F'}, {"config", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    enum cq_fmt_kind kind = isatty(STDOUT_FILENO) ? CQ_FMT_TABLE : CQ_FMT_JSON;
    struct cq_err err = {0};
    struct cq_fmt *fmt = NULL;
    int opt, failures = 0, code;

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
        if (opt == 'h') {
            conns_help();
            return CQ_EXIT_OK;
        } else if (opt == 'C') {
            app->config_arg = optarg;
        } else if (opt == 'F') {
            if (cq_drv_fmt_parse(optarg, &kind, &err) != CQ_OK) {
                return cq_cli_usage_error("connections", "--format: %s", err.msg);
            }
        } else {
            return cq_cli_usage_error("connections", "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    const char *sub = optind < argc ? argv[optind] : NULL;
    const char *name = optind + 1 < argc ? argv[optind + 1] : NULL;
    if (sub == NULL || (strcmp(sub, "list") != 0 && strcmp(sub, "test") != 0) ||
        optind + (name ? 2 : 1) < argc || (name != NULL && strcmp(sub, "list") == 0)) {
        return cq_cli_usage_error("connections", "expected 'list' or 'test [NAME]'");
    }
    app->json_errors = kind == CQ_FMT_JSON;
    code = cq_cli_load_conf(app);
    if (code != CQ_EXIT_OK) {
        return code;
    }
    if (name != NULL && cq_cli_pick_conn(app, name) == NULL) {
        return CQ_EXIT_USAGE;
    }
    fmt = cq_drv_fmt_new(kind, cq_cli_write_stdout, NULL, &err);
    if (fmt == NULL) {
        return cq_cli_report(app, &err, NULL);
    }
    int rc = strcmp(sub, "list") == 0
                 ? list_rows(app->conf, cq_drv_fmt_sink(fmt), &err)
                 : test_rows(app->conf, name, cq_drv_fmt_sink(fmt), &failures, &err);
    code = rc != CQ_OK ? cq_cli_report(app, &err, NULL)
                       : (failures > 0 ? CQ_EXIT_CONNECT : CQ_EXIT_OK);
    cq_drv_fmt_free(fmt);
    return code;
}
