/* app.c - configuration loading, connection choice and error reporting for commands. */
#include "cli/app.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/str.h"
#include "cli/cli.h"
#include "drv/sqlite.h"

void cq_cli_print_diags(const struct cq_conf_diags *diags, const char *path, const char *what)
{
    struct cq_buf b;
    cq_buf_init(&b, 1 << 20);
    cq_conf_diags_format(diags, &b);
    fprintf(stderr, "%s", cq_buf_str(&b));
    fprintf(stderr, "clariq: %zu problem%s in %s; %s\n", diags->n, diags->n == 1 ? "" : "s",
            path, what);
    cq_buf_cleanup(&b);
}

int cq_cli_load_conf(struct cq_app *app)
{
    struct cq_conf_diags diags = {0};
    struct cq_err err = {0};
    int code = CQ_EXIT_OK;

    if (cq_conf_locate(app->config_arg, app->config_path, sizeof(app->config_path)) == CQ_OK) {
        app->conf = cq_conf_load_file(app->config_path, &diags, &err);
    } else {
        char db[4096];
        app->is_demo = true;
        cq_conf_demo_path(db, sizeof(db));
        if (cq_drv_sqlite_make_sample(db, &err) == CQ_OK) {
            app->conf = cq_conf_demo(db, &err);
        }
    }
    if (app->conf == NULL) {
        if (diags.n > 0) {
            cq_cli_print_diags(&diags, app->config_path, "nothing was run");
            code = CQ_EXIT_USAGE;
        } else {
            if (err.rc == CQ_OK) {
                cq_err_set(&err, CQ_EINTERNAL, "configuration could not be loaded");
            }
            code = cq_cli_report(app, &err, NULL);
            if (code != CQ_EXIT_USAGE && err.rc != CQ_ENOMEM) {
                code = CQ_EXIT_USAGE; /* a config that cannot be read is a usage problem */
            }
        }
    }
    cq_conf_diags_cleanup(&diags);
    return code;
}

const struct cq_conn_conf *cq_cli_pick_conn(struct cq_app *app, const char *name)
{
    const struct cq_conf *conf = app->conf;
    const struct cq_conn_conf *cc = NULL;
    struct cq_err err = {0};

    if (name != NULL) {
        cc = cq_conf_conn(conf, name);
    } else if (conf->n_conns == 1) {
        cc = &conf->conns[0];
    } else {
        cc = cq_conf_conn(conf, "default");
    }
    if (cc != NULL) {
        return cc;
    }
    struct cq_buf names;
    cq_buf_init(&names, 4096);
    for (size_t i = 0; i < conf->n_conns; i++) {
        cq_buf_printf(&names, "%s%s", i ? ", " : "", conf->conns[i].name);
    }
    if (conf->n_conns == 0) {
        cq_err_set(&err, CQ_ENOTFOUND, "no connections are configured in %s (add one under "
                   "connections:, see `clariq init`)", app->config_path);
    } else if (name == NULL) {
        cq_err_set(&err, CQ_ENOTFOUND, "several connections are configured; choose one with -c "
                   "NAME (known: %s)", cq_buf_str(&names));
    } else {
        const char *cands[65];
        size_t n = 0;
        for (size_t i = 0; i < conf->n_conns && n < 64; i++) {
            cands[n++] = conf->conns[i].name;
        }
        cands[n] = NULL;
        const char *near = cq_did_you_mean(name, cands);
        if (near != NULL) {
            cq_err_set(&err, CQ_ENOTFOUND, "unknown connection '%s' (did you mean '%s'?)", name,
                       near);
        } else {
            cq_err_set(&err, CQ_ENOTFOUND, "unknown connection '%s' (known: %s)", name,
                       cq_buf_str(&names));
        }
    }
    cq_buf_cleanup(&names);
    cq_cli_report(app, &err, name);
    return NULL;
}

int cq_cli_exit_code(enum cq_rc rc)
{
    switch (rc) {
    case CQ_OK: return CQ_EXIT_OK;
    case CQ_EBACKEND:
    case CQ_EREADONLY:
    case CQ_ECANCELED: return CQ_EXIT_SQL;
    case CQ_ECONNECT:
    case CQ_EAUTH:
    case CQ_EPROTO: return CQ_EXIT_CONNECT;
    case CQ_ETIMEOUT:
    case CQ_EBUSY: return CQ_EXIT_TIMEOUT;
    case CQ_EINVAL:
    case CQ_ENOTFOUND:
    case CQ_EUNSUPPORTED: return CQ_EXIT_USAGE;
    default: return CQ_EXIT_SQL;
    }
}

/* A SQLSTATE is five characters of digits and upper-case letters. */
static bool is_sqlstate(const char *s)
{
    if (strlen(s) != 5) {
        return false;
    }
    for (int i = 0; i < 5; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z'))) {
            return false;
        }
    }
    return true;
}

int cq_cli_report(const struct cq_app *app, const struct cq_err *err, const char *conn)
{
    if (app != NULL && app->json_errors) {
        struct cq_buf b;
        cq_buf_init(&b, 8192);
        cq_buf_puts(&b, "{\"error\":{\"code\":");
        cq_json_put_str(&b, cq_rc_name(err->rc), strlen(cq_rc_name(err->rc)));
        cq_buf_puts(&b, ",\"message\":");
        cq_json_put_str(&b, err->msg, strlen(err->msg));
        if (is_sqlstate(err->backend_code)) {
            cq_buf_printf(&b, ",\"sqlstate\":\"%s\"", err->backend_code);
        }
        if (conn != NULL) {
            cq_buf_puts(&b, ",\"connection\":");
            cq_json_put_str(&b, conn, strlen(conn));
        }
        cq_buf_puts(&b, "}}\n");
        fputs(cq_buf_str(&b), stderr);
        cq_buf_cleanup(&b);
    } else {
        fprintf(stderr, "clariq: error: %s\n", err->msg[0] ? err->msg : cq_rc_name(err->rc));
    }
    return cq_cli_exit_code(err->rc);
}

int cq_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    const char *sep = *cmd != '\0' ? " " : ""; /* "" = a global option of clariq itself */
    fprintf(stderr, "clariq%s%s: ", sep, cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'clariq%s%s --help'.\n", sep, cmd);
    return CQ_EXIT_USAGE;
}

int cq_cli_write_stdout(void *ctx, const char *p, size_t len)
{
    (void)ctx;
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return CQ_EIO;
        }
        p += n;
        len -= (size_t)n;
    }
    return CQ_OK;
}

struct cq_conf *cq_cli_reload_conf(const char *path, const char *who)
{
    struct cq_conf_diags diags = {0};
    struct cq_err err = {0};
    struct cq_conf *conf = cq_conf_load_file(path, &diags, &err);
    if (conf == NULL && diags.n > 0) {
        cq_cli_print_diags(&diags, path, "kept the running configuration");
    } else if (conf == NULL) {
        CQ_LOG(CQ_LOG_ERROR, who, "reload: %s; kept the running configuration", err.msg);
    }
    cq_conf_diags_cleanup(&diags);
    return conf;
}
