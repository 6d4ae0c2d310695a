/*
 * conf.h - clariq.yaml as typed, immutable configuration.
 *
 * The loader (libyaml) reads one file, expands ${VAR} and ${VAR:-default} from the
 * environment in scalar values, parses durations and sizes, applies defaults through the
 * same parsers as user input, and validates. Every problem is collected (not just the
 * first) with file:line:column and a hint; unknown keys get a did-you-mean.
 *
 * Ownership: a struct cq_conf and everything it points to is owned by the conf and freed
 * by cq_conf_free(). A loaded conf is never modified; a reload builds a new one.
 * Thread-safety: an immutable conf may be read from any thread.
 */
#ifndef CQ_CONF_CONF_H
#define CQ_CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* Execution limits. In a connection they are the ceilings; a request may only lower them. */
struct cq_limits {
    int64_t timeout_ms;       /* statement timeout, ms; 0 = none */
    int64_t max_rows;         /* rows delivered before truncating; 0 = unlimited */
    int64_t max_bytes;        /* value bytes delivered before truncating; 0 = unlimited */
    int max_concurrent;       /* statements running at once on the connection; 0 = pool max */
    int64_t queue_timeout_ms; /* wait for a free slot before "pool exhausted", ms */
};

struct cq_pool_conf {
    int min;                  /* connections kept open when idle */
    int max;                  /* connections open at most */
    int64_t idle_timeout_ms;  /* idle connections above min are closed after this, ms */
};

struct cq_conn_conf {
    char *name;               /* the key under connections: */
    char *driver;             /* "postgres" | "sqlite" (validated against the registry names) */
    char *url;                /* postgres URL or key=value DSN (sqlite: "sqlite:PATH"), or NULL */
    char *path;               /* sqlite file or ":memory:"; NULL when url is used */
    struct cq_pool_conf pool;
    struct cq_limits limits;  /* effective: the connection's own keys over top-level limits: */
    bool read_only;           /* default true */
    char *file;               /* where it was declared, for messages */
    int line;                 /* 1-based */
};

struct cq_conf {
    char *path;               /* file loaded; NULL for the embedded demo config */
    struct cq_limits limits;  /* top-level defaults (after built-in defaults) */
    struct cq_conn_conf *conns;
    size_t n_conns;
};

/* One configuration problem. */
struct cq_conf_diag {
    char *file;
    int line;                 /* 1-based; 0 when not tied to a place */
    int col;                  /* 1-based */
    char *msg;                /* what is wrong */
    char *hint;               /* how to fix it; may be NULL */
};

struct cq_conf_diags {
    struct cq_conf_diag *v;
    size_t n;
    size_t cap;
};

/* Built-in defaults, also used by the demo config. */
#define CQ_CONF_DEFAULT_TIMEOUT "30s"
#define CQ_CONF_DEFAULT_MAX_ROWS "100000"
#define CQ_CONF_DEFAULT_MAX_BYTES "100MB"
#define CQ_CONF_DEFAULT_QUEUE_TIMEOUT "5s"
#define CQ_CONF_DEFAULT_POOL_MIN 0
#define CQ_CONF_DEFAULT_POOL_MAX 4
#define CQ_CONF_DEFAULT_IDLE_TIMEOUT "5m"

/*
 * Loads and validates a file. Returns a new conf (caller frees with cq_conf_free) or NULL.
 * On NULL: CQ_ENOTFOUND/CQ_EIO in err when the file cannot be read; CQ_EINVAL when it has
 * problems, all of them appended to diags (caller owns diags; cq_conf_diags_cleanup).
 */
struct cq_conf *cq_conf_load_file(const char *path, struct cq_conf_diags *diags,
                                  struct cq_err *err);
/* Same from memory; `name` is used as the file name in diagnostics. */
struct cq_conf *cq_conf_load_mem(const char *name, const char *text, size_t len,
                                 struct cq_conf_diags *diags, struct cq_err *err);
/* The embedded default: one read-only sqlite connection "demo" on db_path. */
struct cq_conf *cq_conf_demo(const char *db_path, struct cq_err *err);
void cq_conf_free(struct cq_conf *conf);

/* Finds a connection by name; borrowed from conf. NULL if absent. */
const struct cq_conn_conf *cq_conf_conn(const struct cq_conf *conf, const char *name);

/*
 * Config lookup: cli_path if given, else $CLARIQ_CONFIG, else ./clariq.yaml if it exists.
 * Writes the chosen path to out and returns CQ_OK; returns CQ_ENOTFOUND (out = "") when
 * none applies, meaning: use the embedded demo. An explicit path that does not exist is
 * not checked here (loading it reports the error).
 */
int cq_conf_locate(const char *cli_path, char *out, size_t size);

/* Default demo database path: $CLARIQ_DEMO_DB, else $XDG_DATA_HOME/clariq/demo.db, else
 * $HOME/.local/share/clariq/demo.db, else ./clariq-demo.db. */
void cq_conf_demo_path(char *out, size_t size);

/* Formats all diagnostics, one "file:line:col: error: path: what (hint)" line each. */
void cq_conf_diags_format(const struct cq_conf_diags *d, struct cq_buf *out);
void cq_conf_diags_cleanup(struct cq_conf_diags *d);

/* Lowers `base` by `req`: each nonzero field of req replaces base's if stricter (smaller,
 * or base is unlimited). A request can never raise a limit. */
struct cq_limits cq_conf_limits_lower(struct cq_limits base, struct cq_limits req);

#endif
