/*
 * cmd_query.c - `clariq query`: one governed query (spec/multidb-wire.md) from a JSON file
 * or standard input, compiled against the configured catalog and executed through the
 * connections' pools; the QueryResult JSON goes to stdout.
 *
 * The body is a /query request ({"definition","context"}) or a bare definition. Command
 * line flags edit that JSON before it is parsed (--role replaces a scope's roles, --ctx
 * sets a context value, --sql-only/--count/--debug set the definition's keys), so the
 * command behaves exactly like the HTTP endpoint would on the edited body. The local
 * operator is trusted: without roles the query is unrestricted (spec §3 rule 1).
 *
 * Errors are printed to stdout as the spec's error JSON (scripts get the same shape as
 * HTTP clients) with a one-line summary on stderr; exit 1 for validation, planner and
 * execution errors, 3 for connection errors, 2 for usage and configuration problems.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/mem.h"
#include "cli/app.h"
#include "cli/cli.h"
#include "drv/pool.h"
#include "dsl/dsl.h"

#define MAX_BODY_BYTES (16 * 1024 * 1024)
#define MAX_RESULT_BYTES ((size_t)1 << 30) /* the whole result JSON is built in memory */

struct query_opts {
    const char *file;          /* FILE, "-" or NULL (standard input when not a terminal) */
    const char **roles;        /* --role values, in order */
    size_t n_roles;
    const char **ctx;          /* --ctx key=value, in order */
    size_t n_ctx;
    const char *mode;          /* "sql-only", "count" or NULL */
    bool debug;
};

static void query_help(void)
{
    printf("Usage: clariq query [options] FILE.json\n"
           "       clariq query [options] -            (the request on standard input)\n\n"
           "Runs one governed query: the JSON is a /query request body\n"
           "{\"definition\": {...}, \"context\": {\"roles\": {...}, \"contextValues\": {...}}}\n"
           "or just the definition. It is checked against the catalog and roles of the\n"
           "configuration (the embedded demo shop has one: try\n"
           "  echo '{\"from\":\"orders\",\"limit\":3}' | clariq query -\n"
           "), executed on the catalog's connections, and the result is printed as JSON.\n\n"
           "Options:\n"
           "      --role [user:|service:]ROLE  query as ROLE (repeatable); replaces the\n"
           "                          context's roles of that scope (default scope: user).\n"
           "                          Without any role the query is unrestricted.\n"
           "      --ctx KEY=VALUE     sets contextValues.KEY (row-level filters); VALUE is\n"
           "                          read as JSON when it parses ('[\"eu\",\"us\"]', 7), else\n"
           "                          as a string\n"
           "      --sql-only          print the SQL and parameters instead of running it\n"
           "      --count             print the number of matching rows\n"
           "      --debug             attach the pipeline's debug log\n"
           "  -c, --config FILE       configuration file\n"
           "  -h, --help              this help\n\n"
           "Errors are printed to stdout as JSON (the API's error shape) with a summary on\n"
           "stderr. Exit codes: 0 ok, 1 query rejected or failed (validation, planning,\n"
           "execution), 2 usage or configuration error, 3 connection error.\n");
}

static int parse_opts(struct cq_app *app, int argc, char **argv, struct query_opts *o)
{
    static const struct option longs[] = {
        {"role", required_argument, NULL, 'r'},   {"ctx", required_argument, NULL, 'x'},
        {"sql-only", no_argument, NULL, 's'},     {"count", no_argument, NULL, 'n'},
        {"debug", no_argument, NULL, 'd'},        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:h", longs, NULL)) != -1) {
        switch (opt) {
        case 'r': o->roles[o->n_roles++] = optarg; break;
        case 'x':
            if (strchr(optarg, '=') == NULL || optarg[0] == '=') {
                return cq_cli_usage_error("query", "--ctx needs KEY=VALUE, got '%s'", optarg);
            }
            o->ctx[o->n_ctx++] = optarg;
            break;
        case 's':
        case 'n':
            if (o->mode != NULL) {
                return cq_cli_usage_error("query", "use either --sql-only or --count");
            }
            o->mode = opt == 's' ? "sql-only" : "count";
            break;
        case 'd': o->debug = true; break;
        case 'c': app->config_arg = optarg; break;
        case 'h': query_help(); return -1;
        case ':':
            return cq_cli_usage_error("query", "option '%s' needs a value", argv[optind - 1]);
        default: return cq_cli_usage_error("query", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc - 1) {
        return cq_cli_usage_error("query", "one request file expected, got %d arguments",
                                  argc - optind);
    }
    o->file = optind < argc ? argv[optind] : NULL;
    if (o->file == NULL && isatty(STDIN_FILENO)) {
        return cq_cli_usage_error("query", "no request given: pass FILE.json, or '-' and the "
                                  "JSON on standard input");
    }
    return 0;
}

/* ---- the request body -------------------------------------------------------------------- */

static char *read_body(const char *file, size_t *len, struct cq_err *err)
{
    FILE *f = stdin;
    struct cq_buf b;
    char chunk[65536];
    char *text = NULL;
    size_t n;
    if (file != NULL && strcmp(file, "-") != 0) {
        f = fopen(file, "rb");
        if (f == NULL) {
            cq_err_set(err, CQ_EINVAL, "%s: %s", file, strerror(errno));
            return NULL;
        }
    }
    cq_buf_init(&b, MAX_BODY_BYTES);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        cq_buf_append(&b, chunk, n);
    }
    if (ferror(f) || cq_buf_rc(&b) != CQ_OK) {
        cq_err_set(err, CQ_EINVAL, "cannot read the request: %s",
                   cq_buf_rc(&b) == CQ_ETOOBIG ? "larger than 16 MB" : strerror(errno));
    } else {
        *len = b.len;
        text = b.p != NULL ? cq_buf_take(&b) : cq_strdup("");
    }
    if (f != stdin) {
        fclose(f);
    }
    cq_buf_cleanup(&b);
    return text;
}

/* obj[key] as an object, created (or replaced when not an object) if need be. */
static json_t *child_object(json_t *obj, const char *key)
{
    json_t *c = json_object_get(obj, key);
    if (!json_is_object(c)) {
        c = json_object();
        json_object_set_new(obj, key, c);
    }
    return c;
}

/* Applies the flags to the request (a new reference; body is consumed). */
static json_t *edit_body(json_t *body, const struct query_opts *o)
{
    json_t *req = body, *def, *ctx;
    if (!json_is_object(body)) {
        return body; /* parsing reports INVALID_BODY */
    }
    if (json_object_get(body, "definition") == NULL) {
        req = json_object(); /* a bare definition */
        json_object_set_new(req, "definition", body);
    }
    def = json_object_get(req, "definition");
    if (json_is_object(def) && o->mode != NULL) {
        json_object_set_new(def, "executeMode", json_string(o->mode));
    }
    if (json_is_object(def) && o->debug) {
        json_object_set_new(def, "debug", json_true());
    }
    if (json_object_get(req, "context") == NULL) {
        json_object_set_new(req, "context", json_pack("{s:{}}", "roles"));
    }
    ctx = json_object_get(req, "context");
    if (!json_is_object(ctx)) {
        return req;
    }
    if (o->n_roles > 0) {
        json_t *roles = child_object(ctx, "roles"), *user = NULL, *service = NULL;
        for (size_t i = 0; i < o->n_roles; i++) {
            const char *r = o->roles[i];
            bool svc = strncmp(r, "service:", 8) == 0;
            json_t **scope = svc ? &service : &user;
            if (*scope == NULL) {
                *scope = json_array();
                json_object_set_new(roles, svc ? "service" : "user", *scope);
            }
            r += svc ? 8 : strncmp(r, "user:", 5) == 0 ? 5 : 0;
            json_array_append_new(*scope, json_string(r));
        }
    }
    if (o->n_ctx > 0) {
        json_t *values = child_object(ctx, "contextValues");
        for (size_t i = 0; i < o->n_ctx; i++) {
            const char *eq = strchr(o->ctx[i], '=');
            char *key = cq_strndup(o->ctx[i], (size_t)(eq - o->ctx[i]));
            json_error_t je;
            json_t *v = json_loads(eq + 1, JSON_DECODE_ANY, &je);
            if (key != NULL) {
                json_object_set_new(values, key, v != NULL ? v : json_string(eq + 1));
            } else {
                json_decref(v);
            }
            cq_free(key);
        }
    }
    return req;
}

/* ---- connections ------------------------------------------------------------------------- */

/* The pools of one command run, created on first use (most queries touch one). */
struct pools {
    const struct cq_conf *conf;
    struct cq_pool **pool;     /* conf->n_conns */
};

static int conn_index(const struct pools *ps, const char *name, size_t *i)
{
    for (*i = 0; *i < ps->conf->n_conns; (*i)++) {
        if (strcmp(ps->conf->conns[*i].name, name) == 0) {
            return CQ_OK;
        }
    }
    return CQ_ENOTFOUND;
}

static int pools_acquire(void *ctx, const char *name, struct cq_conn **out, struct cq_err *err)
{
    struct pools *ps = ctx;
    size_t i;
    if (conn_index(ps, name, &i) != CQ_OK) {
        return cq_err_set(err, CQ_ENOTFOUND, "no connection '%s' is configured", name);
    }
    if (ps->pool[i] == NULL) {
        ps->pool[i] = cq_drv_pool_new(&ps->conf->conns[i], err);
        if (ps->pool[i] == NULL) {
            return err != NULL && err->rc != CQ_OK ? err->rc : CQ_ENOMEM;
        }
    }
    return cq_drv_pool_get(ps->pool[i], out, err);
}

static void pools_release(void *ctx, struct cq_conn *c)
{
    struct pools *ps = ctx;
    size_t i;
    if (conn_index(ps, c->name, &i) == CQ_OK && ps->pool[i] != NULL) {
        cq_drv_pool_put(ps->pool[i], c);
    }
}

static void pools_limits(void *ctx, const char *name, struct cq_limits *out)
{
    struct pools *ps = ctx;
    size_t i;
    if (conn_index(ps, name, &i) == CQ_OK) {
        *out = ps->conf->conns[i].limits;
    }
}

static void pools_free(struct pools *ps)
{
    for (size_t i = 0; ps->pool != NULL && i < ps->conf->n_conns; i++) {
        cq_drv_pool_free(ps->pool[i]);
    }
    cq_free(ps->pool);
}

/* ---- output ------------------------------------------------------------------------------- */

static void out_line(struct cq_buf *b)
{
    cq_buf_putc(b, '\n');
    cq_cli_write_stdout(NULL, cq_buf_str(b), b->len);
}

/* o[key] when it is a string, else dflt. */
static const char *jstr(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : dflt;
}

/* The error JSON on stdout and one line on stderr; returns the exit code. */
static int report(const struct cq_dsl_error *e)
{
    struct cq_buf b;
    const json_t *body = e->body;
    const json_t *errors = json_object_get(body, "errors");
    const json_t *d = json_object_get(body, "details");
    const json_t *u = json_array_get(json_object_get(d, "unreachable"), 0);
    const char *cause = jstr(json_object_get(body, "cause"), "message", NULL);
    size_t i;
    json_t *x;

    cq_buf_init(&b, 64u << 20);
    cq_dsl_error_write(e, &b);
    out_line(&b);
    cq_buf_reset(&b);
    cq_buf_printf(&b, "clariq query: %s: %s", jstr(body, "code", jstr(body, "error", "error")),
                  jstr(body, "message", "(no message)"));
    json_array_foreach(errors, i, x) {
        cq_buf_printf(&b, "%s%s: %s", i == 0 ? ": " : "; ", jstr(x, "code", "?"),
                      jstr(x, "message", "?"));
    }
    if (cause == NULL && u != NULL) {
        cause = jstr(json_object_get(u, "cause"), "message", NULL);
    }
    if (cause != NULL) {
        cq_buf_printf(&b, " (%s)", cause);
    }
    fprintf(stderr, "%s\n", cq_buf_str(&b));
    cq_buf_cleanup(&b);
    return cq_dsl_error_exit_code(e);
}

/* ---- the command -------------------------------------------------------------------------- */

/* Loads the catalog of the configuration; NULL with the exit code in *code. */
static struct cq_dsl_catalog *load_catalog(struct cq_app *app, int *code)
{
    const struct cq_conf *conf = app->conf;
    const char *where = app->is_demo ? "the embedded demo configuration" : app->config_path;
    json_t *cfg_err = NULL;
    struct cq_err err = {0};
    struct cq_dsl_catalog *cat;

    if (conf->catalog == NULL) {
        fprintf(stderr, "clariq query: no catalog in %s: add a catalog: section (databases and "
                "tables, the MetadataConfig of the governed query API) and a roles: section; "
                "see docs/internals/dsl-exec.md\n", where);
        *code = CQ_EXIT_USAGE;
        return NULL;
    }
    cat = cq_dsl_catalog_new(conf->catalog, conf->roles, conf->catalog_conns, &cfg_err, &err);
    if (cat == NULL && cfg_err != NULL) {
        struct cq_dsl_error e = {.cls = CQ_DSL_E_CONFIG, .body = cfg_err};
        report(&e);
        fprintf(stderr, "clariq query: the catalog in %s is invalid; nothing was run\n",
                conf->catalog_file != NULL ? conf->catalog_file : where);
        cq_dsl_error_cleanup(&e);
        *code = CQ_EXIT_USAGE;
    } else if (cat == NULL) {
        *code = cq_cli_report(app, &err, NULL);
    }
    return cat;
}

/* Parses, compiles and executes req; prints the result or the error. */
static int run_query(struct cq_app *app, const struct cq_dsl_catalog *cat, const json_t *req)
{
    struct cq_arena a;
    struct cq_dsl_query *q = NULL;
    struct cq_dsl_context ctx;
    struct cq_dsl_compiled compiled;
    struct cq_dsl_opts opts = {0};
    struct cq_dsl_error e = {0};
    struct pools ps = {.conf = app->conf};
    struct cq_dsl_exec_env env = {.ctx = &ps, .acquire = pools_acquire,
                                  .release = pools_release, .limits = pools_limits,
                                  .include_sql_in_errors = true};
    struct cq_buf out;
    int code = CQ_EXIT_OK;

    cq_arena_init(&a, 16384, 0);
    cq_buf_init(&out, MAX_RESULT_BYTES);
    memset(&compiled, 0, sizeof(compiled));
    ps.pool = cq_calloc(app->conf->n_conns + 1, sizeof(*ps.pool));
    if (ps.pool == NULL) {
        cq_dsl_error_simple(&e, CQ_DSL_E_INTERNAL, "InternalError", "out of memory");
    } else if (cq_dsl_parse_request(&a, req, true, &q, &ctx, &e) == CQ_OK &&
               cq_dsl_compile(cat, q, &ctx, &opts, &a, &compiled, &e) == CQ_OK &&
               cq_dsl_execute(&compiled, &env, &out, &e) == CQ_OK) {
        out_line(&out);
    }
    if (e.cls != CQ_DSL_E_NONE) {
        code = report(&e);
    }
    cq_dsl_error_cleanup(&e);
    pools_free(&ps);
    cq_buf_cleanup(&out);
    cq_arena_free(&a);
    return code;
}

int cq_cli_cmd_query(struct cq_app *app, int argc, char **argv)
{
    const char **lists = cq_calloc(2 * ((size_t)argc + 1), sizeof(*lists));
    struct query_opts o = {.roles = lists, .ctx = lists != NULL ? lists + argc + 1 : NULL};
    struct cq_err err = {0};
    struct cq_dsl_catalog *cat = NULL;
    json_error_t je;
    json_t *req = NULL;
    char *text = NULL;
    size_t len = 0;
    int code;

    if (lists == NULL) {
        code = cq_cli_report(app, &(struct cq_err){.rc = CQ_ENOMEM, .msg = "out of memory"},
                             NULL);
        goto out;
    }
    code = parse_opts(app, argc, argv, &o);
    if (code != 0) {
        code = code < 0 ? CQ_EXIT_OK : code;
        goto out;
    }
    text = read_body(o.file, &len, &err);
    if (text == NULL) {
        fprintf(stderr, "clariq query: %s\n", err.msg);
        code = CQ_EXIT_USAGE;
        goto out;
    }
    req = len > 0 ? json_loadb(text, len, JSON_DECODE_ANY, &je) : NULL;
    if (req == NULL && len > 0) {
        struct cq_dsl_error e = {0};
        cq_dsl_error_simple(&e, CQ_DSL_E_BODY, "INVALID_JSON", "Request body is not valid JSON");
        code = report(&e);
        fprintf(stderr, "clariq query: %s:%d:%d: %s\n", o.file ? o.file : "-", je.line,
                je.column, je.text);
        cq_dsl_error_cleanup(&e);
        goto out;
    }
    req = edit_body(req != NULL ? req : json_null(), &o);
    code = cq_cli_load_conf(app);
    if (code != CQ_EXIT_OK) {
        goto out;
    }
    cat = load_catalog(app, &code);
    if (cat != NULL) {
        code = run_query(app, cat, req);
    }
out:
    cq_dsl_catalog_unref(cat);
    json_decref(req);
    cq_free(text);
    cq_free(lists);
    return code;
}
