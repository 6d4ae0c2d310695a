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

#include <jansson.h>

#include "base/buf.h"
#include "base/cron.h"
#include "base/err.h"
#include "base/tz.h"

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
    int pipeline;             /* clariq serve: statements one connection may have in flight
                                 at once (PostgreSQL pipelining); 1 = one at a time */
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


/* ---- alerts (issue 3) ----------------------------------------------------------------- */

enum cq_rule_type {
    CQ_RULE_ANY_ROWS = 0, /* triggered when the query returns at least one row */
    CQ_RULE_NO_ROWS,      /* triggered when it returns none */
    CQ_RULE_THRESHOLD,    /* a column compared with a value */
    CQ_RULE_ALWAYS,       /* a digest: every run notifies with the rows */
    CQ_RULE_SQL_BOOLEAN,  /* exactly one row with one boolean-ish column decides */
    CQ_RULE_CHANGE,       /* a column's value moved against the previous run */
};

enum cq_cmp_op { CQ_OP_GT = 0, CQ_OP_GE, CQ_OP_LT, CQ_OP_LE, CQ_OP_EQ, CQ_OP_NE };

/* Which rows a threshold looks at: the value compared is the first row's, or each row's
 * (any / all), or an aggregate of the column over all rows (min, max, sum, count =
 * number of rows with a non-NULL value). */
enum cq_rule_row {
    CQ_ROW_FIRST = 0,
    CQ_ROW_ANY,
    CQ_ROW_ALL,
    CQ_ROW_MIN,
    CQ_ROW_MAX,
    CQ_ROW_SUM,
    CQ_ROW_COUNT,
};

struct cq_rule_conf {
    enum cq_rule_type type;
    char *column;             /* threshold, change: the column; NULL = the first column */
    enum cq_cmp_op op;        /* threshold (required), change (see signed_delta) */
    double value;             /* threshold: compared value (NaN when value_text is not a
                                 number: == and != then compare text); change: percent or
                                 absolute */
    char *value_text;         /* value as written, for {{threshold}} and messages */
    enum cq_rule_row row;     /* threshold only; default CQ_ROW_FIRST */
    bool percent;             /* change: value is a percent (`percent:`) not `absolute:` */
    bool signed_delta;        /* change: `op:` given, so new - old is compared with op;
                                 without op the size of the move |new - old| > value */
};

enum cq_notify_on {
    CQ_NOTIFY_TRIGGER_AND_RESOLVE = 0, /* default: triggered and back to ok */
    CQ_NOTIFY_TRIGGER,                 /* only when triggered (and errors) */
};

struct cq_alert_conf {
    char *id;                 /* unique; [A-Za-z0-9_.-], at most 63 bytes */
    char *name;               /* display name; default = id */
    char *connection;         /* a key of connections: (validated) */
    char *sql;                /* the query; loaded from sql_file when that was given */
    char *sql_file;           /* resolved path, or NULL */
    char **params;            /* $1.. values, as `clariq run -p` takes them ("TYPE:VALUE") */
    size_t n_params;
    char *schedule;           /* as written */
    struct cq_cron cron;      /* parsed schedule */
    char *timezone;           /* as written; default "UTC" */
    struct cq_tz *tz;         /* loaded zone; owned by the conf */
    struct cq_rule_conf rule;
    char **channels;          /* names under channels: (validated) */
    size_t n_channels;
    int64_t cooldown_ms;      /* 0 = notify once until resolved */
    enum cq_notify_on notify_on;
    char *message;            /* template (checked); NULL = the built-in one */
    bool enabled;             /* default true */
    int64_t timeout_ms;       /* query timeout; default the connection's limits.timeout */
    char *file;               /* where it was declared */
    int line;                 /* 1-based */
};

enum cq_channel_kind { CQ_CHANNEL_SLACK = 0, CQ_CHANNEL_EMAIL, CQ_CHANNEL_WEBHOOK };
enum cq_tls_mode { CQ_TLS_STARTTLS = 0, CQ_TLS_TLS, CQ_TLS_NONE };

struct cq_header {
    char *name;
    char *value;              /* may hold a token: never logged */
};

struct cq_channel_conf {
    char *name;               /* the key under channels: */
    enum cq_channel_kind kind;    /* `type:` slack | email | webhook */
    int64_t timeout_ms;       /* one delivery attempt; default 10s */
    int retries;              /* attempts after the first; default 3 */
    int64_t backoff_ms;       /* first retry delay, doubled each time with jitter; default 1s */
    int64_t backoff_max_ms;   /* cap on the delay; default 5m */
    int max_rows;             /* rows shown in a message; default 10 */
    /* slack */
    char *webhook_url;        /* secret */
    /* webhook */
    char *url;                /* may hold a token: secret */
    struct cq_header *headers;
    size_t n_headers;
    char *hmac_secret;        /* secret; NULL = unsigned */
    char *signature_header;   /* default "X-Clariq-Signature" ("sha256=<hex>") */
    /* email */
    char *host;
    int port;                 /* default 587 (starttls), 465 (tls), 25 (none) */
    enum cq_tls_mode tls;     /* default starttls */
    char *username;           /* NULL = no auth */
    char *password;           /* secret */
    char *from;
    char **to;
    size_t n_to;
    char **cc;
    size_t n_cc;
    char *subject;            /* template; default "[clariq] {{alert.name}}: {{state}}" */
    char *file;               /* where it was declared */
    int line;                 /* 1-based */
};

/* Where alert runs and notification state are kept. */
struct cq_state_conf {
    char *connection;         /* a postgres connection (shared by several runners), or NULL */
    char *path;               /* sqlite file when connection is NULL; default
                                 "clariq-state.db" next to the config file */
    int64_t retention_ms;     /* history older than this is pruned; `retention_days`, 30 */
};

/* The alert runner (`scheduler:` section). */
struct cq_sched_conf {
    int workers;              /* evaluation threads; default 4 */
    int64_t shutdown_timeout_ms; /* SIGTERM waits this long for running evaluations; 30s */
};

/* ---- the HTTP server (issue 5) ---------------------------------------------------------- */

/* An API key (`server.api_keys[]`). The key itself is never kept: only its SHA-256. */
struct cq_api_key_conf {
    char *name;               /* label for logs and metrics (required, unique) */
    unsigned char sha256[32]; /* of the key text: from key:, key_env: or key_sha256: (hex) */
    bool all_connections;     /* connections: "*" (default: none) */
    char **connections;       /* names /sql may use */
    size_t n_connections;
    bool has_user;            /* roles.user given: the user roles /query may use */
    char **user_roles;
    size_t n_user_roles;
    bool has_service;         /* roles.service given */
    char **service_roles;
    size_t n_service_roles;
    json_t *context;          /* pinned contextValues (object) the caller cannot change; or NULL */
    double rate;              /* requests per second; 0 = unlimited */
    double burst;             /* bucket size; default max(1, rate) */
    bool revoked;             /* kept to answer "revoked" rather than "unknown key" */
    char *file;               /* where it was declared */
    int line;
};

enum cq_auth_mode { CQ_AUTH_KEYS = 0, CQ_AUTH_NONE };

struct cq_server_conf {
    char *listen;             /* "host:port"; default "127.0.0.1:8080" */
    int threads;              /* default 4; unused while the server runs a thread per
                                 connection (docs/internals/http.md) */
    int64_t max_body;         /* bytes of a request body; default 1 MB */
    int64_t request_timeout_ms; /* a connection idle or a body stalled this long is closed; 30s */
    int64_t shutdown_timeout_ms; /* SIGTERM waits this long for in-flight requests; 30s */
    char **cors_origins;      /* allowed Origin values ("*" = any); none = no CORS headers */
    size_t n_cors_origins;
    char *tls_cert;           /* PEM file paths; both or neither */
    char *tls_key;
    enum cq_auth_mode auth;   /* keys (default) or none (loopback only, warns) */
    struct cq_api_key_conf *keys;
    size_t n_keys;
    bool access_log;          /* default true */
    bool access_log_json;     /* access_log_format: json (default plain) */
    bool errors_include_sql;  /* details.sql/params in query errors (spec §0.10); default true */
    bool trusted_callers;     /* auth: none, or allow_unrestricted: a request context without
                                 roles is unrestricted (spec §0.9); default false */
};

struct cq_conf {
    char *path;               /* file loaded; NULL for the embedded demo config */
    struct cq_limits limits;  /* top-level defaults (after built-in defaults) */
    struct cq_conn_conf *conns;
    size_t n_conns;
    struct cq_alert_conf *alerts; /* in file order, includes expanded in place */
    size_t n_alerts;
    struct cq_channel_conf *channels;
    size_t n_channels;
    struct cq_state_conf state;
    struct cq_sched_conf sched;
    /* governed queries (issue 4): the catalog and roles in the spec's JSON shapes, converted
     * from YAML or read from the file they name; checked by dsl/, not here */
    json_t *catalog;          /* MetadataConfig object; NULL = no catalog: section */
    json_t *roles;            /* RoleMeta[] array; NULL = no roles: section */
    json_t *catalog_conns;    /* {databaseId: connectionName}: catalog.connections plus, for a
                                 database without `connection:`, a connection named like it
                                 of its engine's driver; NULL when there is no catalog */
    char *catalog_file;       /* file the catalog was written in (the config file, or the
                                 JSON file it names), for messages; a load from memory sets
                                 it for `file:` without reading (catalog stays NULL) */
    struct cq_server_conf server; /* `server:`; built-in defaults when absent */
    char **files;             /* every file read: the main one, then included ones */
    size_t n_files;
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
 * Loads and validates a file and the files its include: names (and every sql_file).
 * Returns a new conf (caller frees with cq_conf_free) or NULL. On NULL: CQ_ENOTFOUND/CQ_EIO
 * in err when the file cannot be read; CQ_EINVAL when it has problems, all of them appended
 * to diags (caller owns diags; cq_conf_diags_cleanup).
 */
struct cq_conf *cq_conf_load_file(const char *path, struct cq_conf_diags *diags,
                                  struct cq_err *err);
/* Same from memory; `name` is used as the file name in diagnostics. Reads no other file:
 * include: is only checked for form, and an alert's sql_file is resolved but not read
 * (its sql stays NULL). */
struct cq_conf *cq_conf_load_mem(const char *name, const char *text, size_t len,
                                 struct cq_conf_diags *diags, struct cq_err *err);
/* The embedded default: one read-only sqlite connection "demo" on db_path. */
struct cq_conf *cq_conf_demo(const char *db_path, struct cq_err *err);
void cq_conf_free(struct cq_conf *conf);

/* Finds a connection by name; borrowed from conf. NULL if absent. */
const struct cq_conn_conf *cq_conf_conn(const struct cq_conf *conf, const char *name);
/* Finds an alert by id / a channel by name; borrowed from conf. NULL if absent. */
const struct cq_alert_conf *cq_conf_alert(const struct cq_conf *conf, const char *id);
const struct cq_channel_conf *cq_conf_channel(const struct cq_conf *conf, const char *name);

/* Variables a message or subject template may use (NULL-terminated). */
extern const char *const cq_conf_tmpl_vars[];

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
