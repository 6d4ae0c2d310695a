/*
 * cmd_demo.c - `clariq demo`: serves the embedded demo database over the HTTP API (its
 * governed-query catalog included) on 127.0.0.1:8080, printing the URL and a curl
 * example; with --queries (or --format) it prints a few sample queries and exits instead.
 *
 * It always uses the embedded demo (never a clariq.yaml), so it works anywhere. With
 * --format json each query prints two JSON lines: {"title","sql"} and its standard result.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/json.h"
#include "cli/app.h"
#include "cli/cli.h"
#include "drv/fmt.h"
#include "drv/param.h"
#include "drv/pool.h"
#include "drv/sqlite.h"

struct sample {
    const char *title;
    const char *sql;
    const char *param;   /* $1, or NULL */
};

static const struct sample samples[] = {
    {"Revenue by country", "SELECT * FROM revenue_by_country ORDER BY revenue DESC LIMIT 5", NULL},
    {"Most recent orders",
     "SELECT o.id, c.name AS customer, o.status, o.total, o.ordered_at\n"
     "FROM orders o JOIN customers c ON c.id = o.customer_id\n"
     "ORDER BY o.ordered_at DESC LIMIT 5", NULL},
    {"Products over a price ($1 = 100)",
     "SELECT name, category, price, in_stock FROM products WHERE price > $1 ORDER BY price DESC "
     "LIMIT 5", "100"},
};

static void demo_help(void)
{
    printf("Usage: clariq demo [--listen ADDR]\n"
           "       clariq demo --queries [--format FMT]\n\n"
           "Serves the embedded demo database (created on first use at $CLARIQ_DEMO_DB or\n"
           "~/.local/share/clariq/demo.db) over the HTTP API without API keys, and prints\n"
           "the URL and a curl example. Stop it with Ctrl-C.\n\n"
           "Options:\n"
           "      --listen ADDR  HOST:PORT (default 127.0.0.1:8080; loopback only)\n"
           "      --queries      print a few sample queries and their results, then exit\n"
           "      --format FMT   with --queries: table (default on a terminal) or json (one\n"
           "                     line per query); implies --queries\n"
           "  -h, --help         this help\n");
}

static int run_sample(struct cq_app *app, struct cq_pool *pool, const struct sample *s,
                      enum cq_fmt_kind kind)
{
    struct cq_err err = {0};
    struct cq_arena a;
    struct cq_param p;
    struct cq_stmt st = {.sql = s->sql, .timeout_ms = 10000, .max_rows = 1000};
    struct cq_fmt *fmt = NULL;
    int code = CQ_EXIT_OK;

    cq_arena_init(&a, 1024, 0);
    if (kind == CQ_FMT_JSON) {
        struct cq_buf b;
        cq_buf_init(&b, 4096);
        cq_buf_puts(&b, "{\"title\":");
        cq_json_put_str(&b, s->title, strlen(s->title));
        cq_buf_puts(&b, ",\"sql\":");
        cq_json_put_str(&b, s->sql, strlen(s->sql));
        printf("%s}\n", cq_buf_str(&b));
        cq_buf_cleanup(&b);
    } else {
        printf("-- %s\n%s\n\n", s->title, s->sql);
    }
    fflush(stdout);
    if (s->param != NULL) {
        if (cq_drv_param_parse(&a, s->param, &p, &err) != CQ_OK) {
            goto fail;
        }
        st.params = &p;
        st.n_params = 1;
    }
    fmt = cq_drv_fmt_new(kind, cq_cli_write_stdout, NULL, &err);
    if (fmt == NULL || cq_drv_pool_exec(pool, &st, cq_drv_fmt_sink(fmt), &err) != CQ_OK) {
        goto fail;
    }
    goto out;
fail:
    code = cq_cli_report(app, &err, "demo");
out:
    cq_drv_fmt_free(fmt);
    if (kind == CQ_FMT_TABLE) {
        printf("\n");
        fflush(stdout);
    }
    cq_arena_free(&a);
    return code;
}

int cq_cli_cmd_demo(struct cq_app *app, int argc, char **argv)
{
    static const struct option longs[] = {
        {"format", required_argument, NULL, 'F'}, {"help", no_argument, NULL, 'h'},
        {"queries", no_argument, NULL, 'q'},      {"listen", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    enum cq_fmt_kind kind = isatty(STDOUT_FILENO) ? CQ_FMT_TABLE : CQ_FMT_JSON;
    struct cq_err err = {0};
    char db[4096];
    char *listen = NULL;
    bool queries = false;
    int opt, code = CQ_EXIT_OK;

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
        if (opt == 'h') {
            demo_help();
            return CQ_EXIT_OK;
        } else if (opt == 'q') {
            queries = true;
        } else if (opt == 'l') {
            listen = optarg;
        } else if (opt != 'F' || cq_drv_fmt_parse(optarg, &kind, &err) != CQ_OK ||
                   (kind != CQ_FMT_JSON && kind != CQ_FMT_TABLE)) {
            return cq_cli_usage_error("demo", "use --format table or --format json");
        } else {
            queries = true; /* --format only applies to the sample queries */
        }
    }
    if (optind < argc) {
        return cq_cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);
    }
    if (queries && listen != NULL) {
        return cq_cli_usage_error("demo", "--listen serves the demo; --queries does not");
    }
    app->json_errors = kind == CQ_FMT_JSON;
    cq_conf_demo_path(db, sizeof(db));
    if (cq_drv_sqlite_make_sample(db, &err) != CQ_OK ||
        (app->conf = cq_conf_demo(db, &err)) == NULL) {
        return cq_cli_report(app, &err, "demo");
    }
    if (!queries) {
        app->is_demo = true;
        app->json_errors = false;
        return cq_cli_serve(app, listen, false, true);
    }
    struct cq_pool *pool = cq_drv_pool_new(&app->conf->conns[0], &err);
    if (pool == NULL) {
        return cq_cli_report(app, &err, "demo");
    }
    if (kind == CQ_FMT_TABLE) {
        printf("clariq demo: sample queries on %s\n\n", db);
    }
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]) && code == CQ_EXIT_OK; i++) {
        code = run_sample(app, pool, &samples[i], kind);
    }
    cq_drv_pool_free(pool);
    if (kind == CQ_FMT_TABLE && code == CQ_EXIT_OK) {
        printf("Next: clariq run \"SELECT * FROM customers LIMIT 5\"   (same database)\n"
               "      clariq init                                     (your own config)\n");
    }
    return code;
}
