/*
 * app.h - what every command shares: the loaded configuration, option parsing helpers,
 * and the one table that maps an error to an exit code and prints it.
 *
 * struct cq_app is built by cq_cli_main and passed down (no globals). It owns the conf.
 */
#ifndef CQ_CLI_APP_H
#define CQ_CLI_APP_H

#include <stdbool.h>
#include <stdio.h>

#include "base/err.h"
#include "conf/conf.h"

struct cq_app {
    const char *config_arg;   /* --config value, or NULL */
    struct cq_conf *conf;     /* owned; NULL until cq_cli_load_conf */
    char config_path[4096];   /* file loaded, or "" for the embedded demo */
    bool is_demo;             /* no config found: the embedded demo database is used */
    bool json_errors;         /* --format json: errors go to stderr as a JSON object */
};

/* Loads the configuration (cq_conf_locate order; the embedded demo when none, creating
 * the sample database on first use). Prints every diagnostic and returns an exit code
 * (0 on success). */
int cq_cli_load_conf(struct cq_app *app);

/* Prints every diagnostic, then "clariq: N problems in PATH; WHAT" (to stderr). */
void cq_cli_print_diags(const struct cq_conf_diags *diags, const char *path, const char *what);

/* Picks the connection for a command: `name` if given, else the only one, else "default",
 * else "demo". Prints a clear error (with the known names) and returns NULL if none. */
const struct cq_conn_conf *cq_cli_pick_conn(struct cq_app *app, const char *name);

/* Loads the config file again for a SIGHUP reload (`who` prefixes the log line). NULL when
 * it has problems (printed, or logged) — the caller keeps the running configuration. */
struct cq_conf *cq_cli_reload_conf(const char *path, const char *who);

/* Maps an error to the documented exit code. */
int cq_cli_exit_code(enum cq_rc rc);
/* Prints err to stderr, as {"error":{...}} when app->json_errors, and returns its exit code.
 * `conn` may be NULL. */
int cq_cli_report(const struct cq_app *app, const struct cq_err *err, const char *conn);
/* Prints a usage error ("clariq CMD: msg" + "Try 'clariq CMD --help'.") and returns 2. */
int cq_cli_usage_error(const char *cmd, const char *fmt, ...) CQ_PRINTF(2, 3);

/* Writes all of p to fd 1; CQ_EIO on failure (EPIPE included). cq_write_fn-compatible. */
int cq_cli_write_stdout(void *ctx, const char *p, size_t len);

/* Commands. Each gets argv starting at its own name and returns an exit code. */
int cq_cli_cmd_run(struct cq_app *app, int argc, char **argv);
int cq_cli_cmd_connections(struct cq_app *app, int argc, char **argv);
int cq_cli_cmd_init(struct cq_app *app, int argc, char **argv);
int cq_cli_cmd_demo(struct cq_app *app, int argc, char **argv);
int cq_cli_cmd_alert(struct cq_app *app, int argc, char **argv);
int cq_cli_cmd_query(struct cq_app *app, int argc, char **argv);
int cq_cli_cmd_catalog(struct cq_app *app, int argc, char **argv);
int cq_cli_cmd_serve(struct cq_app *app, int argc, char **argv);

/* Serves app->conf over HTTP (taking it: app->conf is NULL afterwards) until SIGTERM or
 * SIGINT; SIGHUP reloads app->config_path. listen overrides server.listen (may be NULL);
 * alerts runs the scheduler when alerts exist; demo prints the demo's banner. Exit code. */
int cq_cli_serve(struct cq_app *app, char *listen, bool alerts, bool demo);

#endif
