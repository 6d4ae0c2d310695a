/*
 * cmd_run.c - `clariq run`: one SQL text on one connection, streamed to stdout.
 *
 * The statement goes through the connection's pool (so a server restart between runs is
 * survived), with the connection's limits lowered by any --timeout/--max-rows/--max-bytes.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"
#include "cli/app.h"
#include "cli/cli.h"
#include "drv/fmt.h"
#include "drv/param.h"
#include "drv/pool.h"

#define MAX_SQL_BYTES (16 * 1024 * 1024)
#define MAX_PARAMS 65535

struct run_opts {
    const char *conn;
    const char *file;
    const char *sql;
    const char *format;
    const char *params_json;
    const char *config;        /* --config */
    const char **params;       /* -p values, in order */
    size_t n_params;
    struct cq_limits req;      /* requested limits; 0 = not given */
    bool allow_multi;
    bool fail_on_truncate;
};

static void run_help(void)
{
    printf("Usage: clariq run [options] \"SQL\"\n"
           "       clariq run [options] -f FILE        (or SQL on standard input)\n\n"
           "Runs SQL on a connection and prints the result. Values are bound as $1..$n\n"
           "parameters, never pasted into the SQL.\n\n"
           "Options:\n"
           "  -c, --connection NAME   connection to use (default: the only one, or 'default')\n"
           "  -p, --param VALUE       next parameter ($1, $2...): 42, 3.14, true, null, text, or\n"
           "                          TYPE:VALUE with TYPE int, float, numeric, text, bool, json,\n"
           "                          date, timestamp (e.g. -p text:007)\n"
           "      --params-json JSON  all parameters as a JSON array: '[1,\"a\",null]'\n"
           "  -f, --file FILE         read the SQL from FILE ('-' = standard input)\n"
           "      --format FMT        json, ndjson, csv or table (default: table on a terminal,\n"
           "                          json otherwise)\n"
           "      --max-rows N        stop after N rows (truncated: true); can only lower the\n"
           "                          connection's limit\n"
           "      --max-bytes SIZE    stop after SIZE bytes of values (e.g. 10MB)\n"
           "      --timeout DURATION  cancel the statement after DURATION (e.g. 5s, 250ms)\n"
           "      --allow-multi       allow several statements; the last one's rows are printed\n"
           "      --fail-on-truncate  exit with 5 when a limit truncated the result\n"
           "      --config FILE       configuration file\n"
           "  -h, --help              this help\n\n"
           "Exit codes: 0 ok, 1 SQL error, 2 usage/config error, 3 connection error, 4 timeout,\n"
           "5 truncated (with --fail-on-truncate). With --format json an error is printed to\n"
           "stderr as {\"error\":{\"code\",\"message\",\"sqlstate\",\"connection\"}}.\n");
}

/* Parses one limit flag value into req; returns 0 or a usage exit code. */
static int limit_flag(int opt, const char *val, struct cq_limits *req)
{
    struct cq_err err = {0};
    int64_t v = 0;
    const char *cur = val;
    int rc;
    if (opt == 'T') {
        rc = cq_parse_duration_ms(val, &v, &err);
        req->timeout_ms = v;
    } else if (opt == 'B') {
        rc = cq_parse_size(val, &v, &err);
        req->max_bytes = v;
    } else {
        rc = cq_parse_i64(&cur, &v);
        if (rc != CQ_OK || *cur != '\0' || v < 0) {
            return cq_cli_usage_error("run", "--max-rows: '%s' is not a row count (a whole "
                                      "number >= 0)", val);
        }
        req->max_rows = v;
    }
    if (rc != CQ_OK || v < 0) {
        return cq_cli_usage_error("run", "%s: %s", opt == 'T' ? "--timeout" : "--max-bytes",
                                  err.msg);
    }
    return 0;
}

static int parse_opts(int argc, char **argv, struct run_opts *o)
{
    static const struct option longs[] = {
        {"connection", required_argument, NULL, 'c'}, {"param", required_argument, NULL, 'p'},
        {"params-json", required_argument, NULL, 'J'}, {"file", required_argument, NULL, 'f'},
        {"format", required_argument, NULL, 'F'},      {"max-rows", required_argument, NULL, 'R'},
        {"max-bytes", required_argument, NULL, 'B'},   {"timeout", required_argument, NULL, 'T'},
        {"allow-multi", no_argument, NULL, 'M'},       {"fail-on-truncate", no_argument, NULL, 'X'},
        {"config", required_argument, NULL, 'C'},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, rc;
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:p:f:h", longs, NULL)) != -1) {
        switch (opt) {
        case 'c': o->conn = optarg; break;
        case 'p': o->params[o->n_params++] = optarg; break;
        case 'J': o->params_json = optarg; break;
        case 'f': o->file = optarg; break;
        case 'F': o->format = optarg; break;
        case 'M': o->allow_multi = true; break;
        case 'X': o->fail_on_truncate = true; break;
        case 'C': o->config = optarg; break;
        case 'h': run_help(); return -1;
        case 'R':
        case 'B':
        case 'T':
            rc = limit_flag(opt, optarg, &o->req);
            if (rc != 0) {
                return rc;
            }
            break;
        case ':': return cq_cli_usage_error("run", "option '%s' needs a value", argv[optind - 1]);
        default: return cq_cli_usage_error("run", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc - 1) {
        return cq_cli_usage_error("run", "one SQL text expected, got %d arguments (quote the SQL)",
                                  argc - optind);
    }
    o->sql = optind < argc ? argv[optind] : NULL;
    if (o->sql != NULL && o->file != NULL) {
        return cq_cli_usage_error("run", "give the SQL either as an argument or with -f, not both");
    }
    if (o->params_json != NULL && o->n_params > 0) {
        return cq_cli_usage_error("run", "use either -p or --params-json, not both");
    }
    return 0;
}

/* Reads all of f (capped) into a NUL-terminated heap string. */
static char *slurp(FILE *f, struct cq_err *err)
{
    struct cq_buf b;
    char chunk[65536];
    size_t n;
    cq_buf_init(&b, MAX_SQL_BYTES);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        cq_buf_append(&b, chunk, n);
    }
    if (ferror(f) || cq_buf_rc(&b) != CQ_OK) {
        cq_err_set(err, cq_buf_rc(&b) == CQ_ETOOBIG ? CQ_ETOOBIG : CQ_EIO,
                   "could not read the SQL: %s", cq_buf_rc(&b) == CQ_ETOOBIG
                   ? "larger than 16 MB" : strerror(errno));
        cq_buf_cleanup(&b);
        return NULL;
    }
    return cq_buf_take(&b);
}

/* The SQL text from the argument, -f FILE or standard input; heap string or NULL. */
static char *read_sql(const struct run_opts *o, struct cq_err *err)
{
    if (o->sql != NULL) {
        return cq_strdup(o->sql);
    }
    if (o->file != NULL && strcmp(o->file, "-") != 0) {
        FILE *f = fopen(o->file, "rb");
        if (f == NULL) {
            cq_err_set(err, CQ_EINVAL, "-f %s: %s", o->file, strerror(errno));
            return NULL;
        }
        char *s = slurp(f, err);
        fclose(f);
        return s;
    }
    if (o->file == NULL && isatty(STDIN_FILENO)) {
        cq_err_set(err, CQ_EINVAL, "no SQL given: pass it as an argument, with -f FILE, or on "
                   "standard input (see 'clariq run --help')");
        return NULL;
    }
    return slurp(stdin, err);
}

static int build_params(struct cq_arena *a, const struct run_opts *o, struct cq_stmt *st,
                        struct cq_err *err)
{
    if (o->params_json != NULL) {
        struct cq_param *ps = NULL;
        int rc = cq_drv_params_json(a, o->params_json, &ps, &st->n_params, err);
        if (rc != CQ_OK) {
            cq_err_wrap(err, "--params-json");
        }
        st->params = ps;
        return rc;
    }
    struct cq_param *ps = cq_arena_alloc(a, sizeof(*ps) * (o->n_params ? o->n_params : 1));
    if (ps == NULL) {
        return cq_err_set(err, CQ_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < o->n_params; i++) {
        int rc = cq_drv_param_parse(a, o->params[i], &ps[i], err);
        if (rc != CQ_OK) {
            cq_err_wrap(err, "parameter $%zu", i + 1);
            return rc;
        }
    }
    st->params = ps;
    st->n_params = o->n_params;
    return CQ_OK;
}

/* Tells the user when a requested limit was above the connection's ceiling. */
static void warn_raised(const struct cq_conn_conf *cc, const struct cq_limits *req)
{
    const struct cq_limits *l = &cc->limits;
    if (req->max_rows > 0 && l->max_rows > 0 && req->max_rows > l->max_rows) {
        fprintf(stderr, "clariq: note: --max-rows %lld is above connection '%s' limit %lld; "
                "using %lld\n", (long long)req->max_rows, cc->name, (long long)l->max_rows,
                (long long)l->max_rows);
    }
    if (req->max_bytes > 0 && l->max_bytes > 0 && req->max_bytes > l->max_bytes) {
        fprintf(stderr, "clariq: note: --max-bytes is above connection '%s' limit of %lld "
                "bytes; using the limit\n", cc->name, (long long)l->max_bytes);
    }
    if (req->timeout_ms > 0 && l->timeout_ms > 0 && req->timeout_ms > l->timeout_ms) {
        fprintf(stderr, "clariq: note: --timeout is above connection '%s' limit of %lld ms; "
                "using the limit\n", cc->name, (long long)l->timeout_ms);
    }
}

struct out {
    bool failed;   /* a write to stdout failed (closed pipe): stop quietly */
};

static int write_out(void *ctx, const char *p, size_t len)
{
    struct out *o = ctx;
    int rc = cq_cli_write_stdout(NULL, p, len);
    o->failed = o->failed || rc != CQ_OK;
    return rc;
}

/* Runs st on cc and prints the result; returns the exit code. */
static int execute(struct cq_app *app, const struct cq_conn_conf *cc, const struct cq_stmt *st,
                   enum cq_fmt_kind kind, const struct run_opts *o)
{
    struct cq_err err = {0};
    struct out out = {0};
    struct cq_pool *pool = cq_drv_pool_new(cc, &err);
    struct cq_fmt *fmt = pool ? cq_drv_fmt_new(kind, write_out, &out, &err) : NULL;
    int code;

    if (fmt == NULL) {
        code = cq_cli_report(app, &err, cc->name);
        goto out;
    }
    if (cq_drv_pool_exec(pool, st, cq_drv_fmt_sink(fmt), &err) != CQ_OK) {
        struct cq_err ignored = {0};
        cq_drv_fmt_fail(fmt, &err, &ignored);
        code = out.failed ? CQ_EXIT_OK : cq_cli_report(app, &err, cc->name);
        goto out;
    }
    code = CQ_EXIT_OK;
    if (cq_drv_fmt_truncated(fmt)) {
        if (kind == CQ_FMT_NDJSON || kind == CQ_FMT_CSV) {
            fprintf(stderr, "clariq: note: the result was truncated by a limit (max_rows/"
                    "max_bytes of connection '%s' or the command line)\n", cc->name);
        }
        code = o->fail_on_truncate ? CQ_EXIT_TRUNCATED : CQ_EXIT_OK;
    }
out:
    cq_drv_fmt_free(fmt);
    cq_drv_pool_free(pool);
    return code;
}

int cq_cli_cmd_run(struct cq_app *app, int argc, char **argv)
{
    const char **pvals = cq_calloc((size_t)argc + 1, sizeof(*pvals));
    struct run_opts o = {.params = pvals};
    struct cq_arena arena;
    struct cq_err err = {0};
    struct cq_stmt st = {0};
    enum cq_fmt_kind kind = isatty(STDOUT_FILENO) ? CQ_FMT_TABLE : CQ_FMT_JSON;
    char *sql = NULL;
    int code;

    cq_arena_init(&arena, 16384, 0);
    if (pvals == NULL) {
        code = cq_cli_report(app, &(struct cq_err){.rc = CQ_ENOMEM, .msg = "out of memory"}, NULL);
        goto out;
    }
    code = parse_opts(argc, argv, &o);
    if (code != 0) {
        code = code < 0 ? CQ_EXIT_OK : code;
        goto out;
    }
    if (o.config != NULL) {
        app->config_arg = o.config;
    }
    if (o.format != NULL && cq_drv_fmt_parse(o.format, &kind, &err) != CQ_OK) {
        code = cq_cli_usage_error("run", "--format: %s", err.msg);
        goto out;
    }
    app->json_errors = kind == CQ_FMT_JSON;
    if (o.n_params > MAX_PARAMS) {
        code = cq_cli_usage_error("run", "too many parameters (at most %d)", MAX_PARAMS);
        goto out;
    }
    sql = read_sql(&o, &err);
    if (sql != NULL && sql[strspn(sql, " \t\r\n")] == '\0') {
        cq_err_set(&err, CQ_EINVAL, "no SQL given: pass it as an argument, with -f FILE, or on "
                   "standard input (see 'clariq run --help')");
        cq_free(sql);
        sql = NULL;
    }
    if (sql == NULL || build_params(&arena, &o, &st, &err) != CQ_OK) {
        code = cq_cli_report(app, &err, o.conn);
        goto out;
    }
    code = cq_cli_load_conf(app);
    if (code != CQ_EXIT_OK) {
        goto out;
    }
    const struct cq_conn_conf *cc = cq_cli_pick_conn(app, o.conn);
    if (cc == NULL) {
        code = CQ_EXIT_USAGE;
        goto out;
    }
    warn_raised(cc, &o.req);
    struct cq_limits eff = cq_conf_limits_lower(cc->limits, o.req);
    st.sql = sql;
    st.timeout_ms = eff.timeout_ms;
    st.max_rows = eff.max_rows;
    st.max_bytes = eff.max_bytes;
    st.allow_multi = o.allow_multi;
    code = execute(app, cc, &st, kind, &o);
out:
    cq_free(sql);
    cq_free(pvals);
    cq_arena_free(&arena);
    return code;
}
