/*
 * internal.h - what the files of the conf module share; nothing outside src/conf includes it.
 *
 * conf.c owns the load (reading, libyaml, the diagnostics list, the conf's lifetime),
 * schema.c describes the top-level keys and walks the YAML tree with key tables,
 * alerts.c and channels.c hold the alert and channel tables, include.c reads the files
 * that `include:` names, refs.c checks what refers to what once every file was read,
 * env.c expands ${VAR} references. A struct cq_conf_loader lives for one load on one
 * thread.
 */
#ifndef CQ_CONF_INTERNAL_H
#define CQ_CONF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "conf/conf.h"

#define CQ_CONF_MAX_DIAGS 50         /* problems reported per load; the rest are counted */
#define CQ_CONF_MAX_FILE (16u << 20) /* bytes: a config file is never this large */
#define CQ_CONF_MAX_VALUE (1u << 20) /* bytes of one scalar after ${VAR} expansion */
#define CQ_CONF_MAX_KEEP (64u << 20) /* bytes kept by one conf (aliases can repeat values) */
#define CQ_CONF_MAX_SQL (1u << 20)   /* bytes of one sql_file */
#define CQ_CONF_MAX_KEYS 24          /* keys per section table */

/* Where something was written, for problems found after its document is gone. */
struct cq_conf_place {
    const char *file; /* kept by the conf; NULL = not written */
    yaml_mark_t mark; /* 0-based libyaml mark */
};

/* What the checks after the last file need about one alert (parallel to conf->alerts). */
struct cq_conf_alert_ref {
    const char *path;               /* "alerts.x" or "alerts[2]", for messages */
    struct cq_conf_place id;        /* the id value */
    struct cq_conf_place conn;      /* the connection value */
    struct cq_conf_place timeout;   /* the timeout value */
    struct cq_conf_place *channels; /* one per channels[] name */
};

struct cq_conf_tz_entry {
    const char *name; /* as written */
    struct cq_tz *tz; /* owned by the conf (cq_conf_own_tz) */
};

struct cq_conf_loader {
    const char *file;                     /* name used in diagnostics */
    char *kept_file;                      /* file as kept in conf->files; entries point at it */
    const char *base_dir;                 /* directory for relative paths; "" = keep as written */
    yaml_document_t *doc;                 /* the parsed document; NULL for the demo conf */
    struct cq_conf *conf;                 /* being built; owned by the caller of the load */
    struct cq_arena *keep;                /* the conf's arena: strings and arrays the conf keeps */
    struct cq_arena tmp;                  /* scratch for one load: paths, quotes, expanded values */
    struct cq_conf_diags *diags;          /* where problems go (the caller's or the loader's own) */
    size_t n_problems;                    /* problems found by this load, reported or not */
    int rc;                               /* sticky CQ_ENOMEM / CQ_EINTERNAL; CQ_OK otherwise */
    bool read_files;                      /* include: and sql_file: are read (cq_conf_load_file) */
    bool included;                        /* walking an included file */
    size_t files_cap;                     /* room in conf->files */
    size_t alerts_cap;                    /* room in conf->alerts and alert_refs */
    struct cq_conf_alert_ref *alert_refs; /* tmp; parallel to conf->alerts */
    size_t channels_cap;                  /* room in conf->channels and channel_at */
    struct cq_conf_place *channel_at;     /* tmp; where each channel's name was written */
    struct cq_conf_place state_conn;      /* the state.connection value */
    struct cq_conf_tz_entry *tzs;         /* tmp; zones loaded so far, one per name */
    size_t n_tzs, tzs_cap;
    void *file_ids; /* tmp; include.c: files read (device, inode) */
    size_t n_file_ids, file_ids_cap;
};

/* ---- conf.c ------------------------------------------------------------------------------ */

/* Records a problem at mark (0-based libyaml mark; stored 1-based) in ld->file. path is
 * the dotted key path ("" at the top level), hint may be NULL. Past CQ_CONF_MAX_DIAGS
 * problems are only counted. Strings are copied. */
void cq_conf_diag(struct cq_conf_loader *ld, yaml_mark_t mark, const char *path, const char *hint,
                  const char *fmt, ...) CQ_PRINTF(5, 6);
/* The same at a recorded place (another file than the one being walked). */
void cq_conf_diag_at(struct cq_conf_loader *ld, const struct cq_conf_place *at, const char *path,
                     const char *hint, const char *fmt, ...) CQ_PRINTF(5, 6);
/* True once the diagnostic cap is reached: walkers stop early (bounded work on bad input). */
bool cq_conf_full(const struct cq_conf_loader *ld);
/* printf into ld->tmp; returns "" (and sets ld->rc) when out of memory, so callers can use
 * the result without checking. Borrowed until the load ends. */
const char *cq_conf_tmpf(struct cq_conf_loader *ld, const char *fmt, ...) CQ_PRINTF(2, 3);
/* The directory part of name ("" when it has none), in ld->tmp. */
const char *cq_conf_dir_of(struct cq_conf_loader *ld, const char *name);
/* Appends name to conf->files and makes it ld->kept_file. CQ_OK or CQ_ENOMEM (rc set). */
int cq_conf_add_file(struct cq_conf_loader *ld, const char *name);
/* Parses text as one YAML document into ld->doc and calls walk on it; syntax problems
 * and a second document are reported in ld->file. */
void cq_conf_parse(struct cq_conf_loader *ld, const char *text, size_t len,
                   void (*walk)(struct cq_conf_loader *ld));
/* Appends path's contents to out (initialized by the caller; its max is the cap). On
 * failure err->msg is only the reason ("not found", "is a directory", "larger than 1 MB",
 * strerror text): callers add the path. CQ_ENOTFOUND, CQ_EIO, CQ_ETOOBIG or CQ_ENOMEM. */
int cq_conf_read_file(const char *path, struct cq_buf *out, struct cq_err *err);
/* Loads zone name once per load; the conf owns it. NULL with err when it cannot. */
struct cq_tz *cq_conf_tz(struct cq_conf_loader *ld, const char *name, struct cq_err *err);
/* Makes room for one more element in an arena array holding n (capacity *cap), doubling
 * it; returns the array (maybe moved; the old copy stays in the arena) or NULL with
 * ld->rc set. */
void *cq_conf_grow(struct cq_conf_loader *ld, struct cq_arena *a, void *v, size_t n, size_t *cap,
                   size_t size);

/* ---- env.c ------------------------------------------------------------------------------- */

enum cq_conf_env_status {
    CQ_CONF_ENV_OK = 0,
    CQ_CONF_ENV_UNSET,  /* ${NAME} without default and NAME is not in the environment */
    CQ_CONF_ENV_SYNTAX, /* "${" without a valid "NAME}" or "NAME:-default}" */
    CQ_CONF_ENV_TOOBIG, /* the expansion passed the buffer cap */
    CQ_CONF_ENV_NOMEM,
};

struct cq_conf_env_problem {
    size_t off;       /* byte offset of the offending "${" in the input */
    const char *name; /* the variable name in the input (not NUL-terminated), or NULL */
    size_t name_len;  /* bytes */
};

/* Appends s[0..len) to out with ${NAME}, ${NAME:-default} and $$ expanded from the
 * environment. A '$' not followed by '{' or '$' is kept as is. On failure, p says where;
 * out's contents are then unspecified. */
enum cq_conf_env_status cq_conf_env_expand(const char *s, size_t len, struct cq_buf *out,
                                           struct cq_conf_env_problem *p);

/* ---- schema.c: key tables and the walker ------------------------------------------------- */

enum cq_conf_ktype {
    CQ_CONF_K_DURATION, /* int64_t ms, cq_parse_duration_ms */
    CQ_CONF_K_SIZE,     /* int64_t bytes, cq_parse_size */
    CQ_CONF_K_I64,      /* int64_t in [lo, hi], stored times scale (when > 1) */
    CQ_CONF_K_INT,      /* int in [lo, hi] */
    CQ_CONF_K_BOOL,     /* bool: true/false/yes/no/on/off */
    CQ_CONF_K_STR,      /* char *, kept by the conf */
    CQ_CONF_K_ENUM,     /* an enum field: the index of the value in names[] (any case) */
    CQ_CONF_K_STRLIST,  /* char ** at off, size_t count at off2: a list or one value */
    CQ_CONF_K_SECTION,  /* a nested mapping described by child */
    CQ_CONF_K_LIST,     /* a mapping of named entries described by list */
    CQ_CONF_K_FUNC,     /* applied by the key's apply() */
    CQ_CONF_K_DEFER,    /* only collected: the section's check applies it */
    CQ_CONF_K_ANY,      /* accepted, not validated (reserved for later) */
};

#define CQ_CONF_KF_SECRET 0x1u    /* may hold a secret: the value never appears in messages */
#define CQ_CONF_KF_NULL_TEXT 0x2u /* STRLIST: a null item is kept as "null" (params) */
#define CQ_CONF_KF_NO_GUESS 0x4u  /* ENUM: no did-you-mean (symbols are all one edit apart) */

struct cq_conf_loader;
struct cq_conf_section;
struct cq_conf_list;
struct cq_conf_seen;

struct cq_conf_key {
    const char *name;
    enum cq_conf_ktype type;
    size_t off;                          /* offsetof into the section's struct */
    const char *def;                     /* default, parsed like user input; NULL = none */
    int64_t lo, hi;                      /* bounds for K_I64 / K_INT */
    const char *hint;                    /* how to write a valid value; NULL = the type's */
    const struct cq_conf_section *child; /* K_SECTION */
    const struct cq_conf_list *list;     /* K_LIST */
    unsigned flags;                      /* CQ_CONF_KF_* */
    const char *const *names;            /* K_ENUM: values by enum value, NULL-terminated */
    const char *what;                    /* K_ENUM: what a value is ("rule type") */
    size_t off2;                         /* K_STRLIST: offsetof the size_t count */
    int64_t scale;                       /* K_I64: stored value = written value * scale */
    unsigned only;                       /* variants it applies to (bit per enum value);
                                            0 = all; checked by the section's check */
    /* K_FUNC: applies s->val[i] to target (the section's struct); false = rejected. */
    bool (*apply)(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                  const struct cq_conf_seen *s, int i, void *target);
};

/* What the walker found in one mapping, by table index. */
struct cq_conf_seen {
    const yaml_node_t *key[CQ_CONF_MAX_KEYS]; /* key node; NULL when absent */
    const yaml_node_t *val[CQ_CONF_MAX_KEYS]; /* value node; NULL when absent */
    bool bad[CQ_CONF_MAX_KEYS];               /* present but rejected (already reported) */
    const yaml_node_t *node;                  /* the mapping itself (or a null scalar) */
    const yaml_node_t *name;                  /* the key naming it in its parent, or NULL */
    const char *path;                         /* dotted path of the section; "" at the top */
};

struct cq_conf_section {
    const struct cq_conf_key *keys;
    size_t n_keys;
    /* Cross-key validation after the keys were applied; may be NULL. */
    void (*check)(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                  const struct cq_conf_seen *s);
    /* A key not in the table: true when this reported it; NULL = the usual message. */
    bool (*unknown)(struct cq_conf_loader *ld, const yaml_node_t *key, const char *path);
};

struct cq_conf_list {
    const char *what;                    /* "connection", for messages */
    const struct cq_conf_section *entry; /* each entry's keys */
    /* Makes room for n more entries in parent; false when out of memory. */
    bool (*reserve)(struct cq_conf_loader *ld, void *parent, size_t n);
    /* Appends an entry with its defaults; NULL when out of memory. */
    void *(*add)(struct cq_conf_loader *ld, void *parent, const char *name, const yaml_node_t *key);
    bool unique_later; /* names are checked across files after the load (refs.c) */
};

#define CQ_CONF_NKEYS(a) (sizeof(a) / sizeof((a)[0]))

/* Applies the built-in defaults to ld->conf (top-level limits). CQ_OK or CQ_EINTERNAL. */
int cq_conf_schema_defaults(struct cq_conf_loader *ld);
/* Walks ld->doc (its root should be a mapping; no root or a null scalar means empty) into
 * ld->conf, reporting every problem through cq_conf_diag. */
void cq_conf_schema_walk(struct cq_conf_loader *ld);
/* True for a key of the main file's top level. */
bool cq_conf_schema_top_key(const char *name);
/* Defaults that depend on the whole load (state.path). */
void cq_conf_schema_finish(struct cq_conf_loader *ld);
/* Initializes a connection with its defaults (pool, read_only, the conf's limits) and
 * name; used by the walker and by cq_conf_demo. line is 1-based (0 = nowhere). */
int cq_conf_schema_conn_init(struct cq_conf_loader *ld, struct cq_conn_conf *cc, const char *name,
                             int line);

/* The walker, for the tables of the other files. */
void cq_conf_walk_section(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                          const yaml_node_t *node, const yaml_node_t *name, void *target,
                          const char *path);
void cq_conf_walk_list(struct cq_conf_loader *ld, const struct cq_conf_list *spec,
                       const yaml_node_t *node, void *parent, const char *path);
/* Applies the table's defaults (and its sections') to target. CQ_OK or CQ_EINTERNAL. */
int cq_conf_apply_defaults(const struct cq_conf_section *sec, void *target);
/* Applies one scalar-typed key (not SECTION/LIST/FUNC/DEFER); false when rejected. */
bool cq_conf_apply_scalar(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                          const yaml_node_t *v, void *field, const char *path);
/* The scalar's text after ${VAR} expansion (in ld->tmp), or NULL after reporting why. */
const char *cq_conf_scalar_text(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                                const yaml_node_t *v, const char *path);

const yaml_node_t *cq_conf_node(const struct cq_conf_loader *ld, int index);
const char *cq_conf_scalar(const yaml_node_t *n);
bool cq_conf_is_null(const yaml_node_t *n);
const char *cq_conf_kind(const yaml_node_t *n); /* "a mapping", "a list", "a single value" */
/* The value node of key `name` in s (NULL when absent); *bad = it was rejected. */
const yaml_node_t *cq_conf_seen_val(const struct cq_conf_section *sec, const struct cq_conf_seen *s,
                                    const char *name, bool *bad);
const yaml_node_t *cq_conf_seen_key(const struct cq_conf_section *sec, const struct cq_conf_seen *s,
                                    const char *name);
int cq_conf_key_index(const struct cq_conf_section *sec, const char *name);
/* Where to point for a problem with the section as a whole. */
yaml_mark_t cq_conf_section_mark(const struct cq_conf_seen *s);
/* Where byte off of a one-line scalar's value is in the file; else the scalar's start. */
yaml_mark_t cq_conf_mark_at(const yaml_node_t *v, size_t off);
/* 'text' for a message: cut at 60 bytes, control characters escaped. For names. */
const char *cq_conf_quote(struct cq_conf_loader *ld, const char *s);
/* s with control characters escaped (one line), not cut: for messages of other modules. */
const char *cq_conf_clean(struct cq_conf_loader *ld, const char *s);
/* A value for a message: hidden for a secret key, '***' when it looks like a secret. */
const char *cq_conf_quote_value(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                                const char *orig, const char *val);
const char *cq_conf_join_path(struct cq_conf_loader *ld, const char *path, const char *name);
/* letters, digits, '_', '-', '.'; 1 to 63 bytes (connection, channel and alert names) */
bool cq_conf_valid_name(const char *s);
/* n zeroed elements from ld->tmp, overflow-checked; NULL (rc set) on failure. */
void *cq_conf_tmp_array(struct cq_conf_loader *ld, size_t n, size_t size);
/* A path relative to ld->base_dir, kept by the conf (absolute, ":memory:", "file:" kept). */
char *cq_conf_resolve_path(struct cq_conf_loader *ld, char *path);
/* "did you mean 'x'?" or "<what>: a, b, c" (at most 20) or none_hint when names is empty. */
const char *cq_conf_names_hint(struct cq_conf_loader *ld, const char *word,
                               const char *const *names, size_t n, const char *what,
                               const char *none_hint);

/* ---- alerts.c, channels.c, include.c, refs.c ----------------------------------------------- */

/* alerts: a list of alert mappings, appended to ld->conf->alerts. */
void cq_conf_alerts_walk(struct cq_conf_loader *ld, const yaml_node_t *v);
/* Reports a template problem (unknown variable, unclosed "{{") of text, the expansion of
 * scalar v; true when the template is fine. */
bool cq_conf_check_tmpl(struct cq_conf_loader *ld, const yaml_node_t *v, const char *text,
                        const char *path);
extern const struct cq_conf_list cq_conf_channels_list;
/* The top-level check: alerts, channels and include in document order (includes are
 * expanded in place), in the main file and in included ones. */
void cq_conf_top_check(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                       const struct cq_conf_seen *s);
/* catalog: and roles: (catalog.c): YAML or a JSON file into conf->catalog, ->roles and
 * ->catalog_conns; applied after connections: (table order), whose names they check. */
bool cq_conf_catalog_apply(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                           const struct cq_conf_seen *s, int i, void *target);
bool cq_conf_roles_apply(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                         const struct cq_conf_seen *s, int i, void *target);
/* YAML node n as JSON with the catalog's typing (catalog.c); root names it in messages.
 * A new reference, or NULL after a reported problem (or ld->rc set). */
json_t *cq_conf_yaml_json(struct cq_conf_loader *ld, const yaml_node_t *n, const char *root);

/* ---- server.c: the server: section (issue 5) ---------------------------------------------- */

extern const struct cq_conf_section cq_conf_server_section;
/* Defaults that need the arena (listen) and auth none implying trusted callers. */
void cq_conf_server_finish(struct cq_conf_loader *ld);
/* Releases what the section holds outside the arena (key contexts). */
void cq_conf_server_cleanup(struct cq_server_conf *sc);
/* "host:port", "[v6]:port" or ":port" (every interface) into host (without brackets,
 * "" for every interface) and port 0..65535; CQ_EINVAL. */
int cq_conf_parse_listen(const char *s, char *host, size_t host_size, int *port);
/* 127.x.y.z, ::1 or localhost. */
bool cq_conf_loopback_host(const char *host);

/* After every file: unique alert ids and channel names, references to connections and
 * channels, alert timeouts against their connection, state.connection. */
void cq_conf_refs_check(struct cq_conf_loader *ld);

#endif
