/*
 * internal.h - what the files of the conf module share; nothing outside src/conf includes it.
 *
 * conf.c owns the load (reading, libyaml, the diagnostics list), schema.c describes every
 * key once and walks the YAML tree with those tables, env.c expands ${VAR} references.
 * A struct cq_conf_loader lives for one load on one thread.
 */
#ifndef CQ_CONF_INTERNAL_H
#define CQ_CONF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "conf/conf.h"

#define CQ_CONF_MAX_DIAGS 50         /* problems reported per load; the rest are counted */
#define CQ_CONF_MAX_FILE (16u << 20) /* bytes: a config file is never this large */
#define CQ_CONF_MAX_VALUE (1u << 20) /* bytes of one scalar after ${VAR} expansion */
#define CQ_CONF_MAX_KEEP (64u << 20) /* bytes kept by one conf (aliases can repeat values) */

struct cq_conf_loader {
    const char *file;            /* name used in diagnostics */
    const char *base_dir;        /* directory for relative sqlite paths; "" = keep as written */
    yaml_document_t *doc;        /* the parsed document; NULL for the demo conf */
    struct cq_conf *conf;        /* being built; owned by the caller of the load */
    struct cq_arena *keep;       /* the conf's arena: strings and arrays the conf keeps */
    struct cq_arena tmp;         /* scratch for one load: paths, quotes, expanded values */
    struct cq_conf_diags *diags; /* where problems go (the caller's or the loader's own) */
    size_t n_problems;           /* problems found by this load, reported or not */
    int rc;                      /* sticky CQ_ENOMEM / CQ_EINTERNAL; CQ_OK otherwise */
};

/* Records a problem at mark (0-based libyaml mark; stored 1-based). path is the dotted key
 * path ("" at the top level), hint may be NULL. Past CQ_CONF_MAX_DIAGS problems are only
 * counted. Strings are copied. */
void cq_conf_diag(struct cq_conf_loader *ld, yaml_mark_t mark, const char *path, const char *hint,
                  const char *fmt, ...) CQ_PRINTF(5, 6);
/* True once the diagnostic cap is reached: walkers stop early (bounded work on bad input). */
bool cq_conf_full(const struct cq_conf_loader *ld);
/* printf into ld->tmp; returns "" (and sets ld->rc) when out of memory, so callers can use
 * the result without checking. Borrowed until the load ends. */
const char *cq_conf_tmpf(struct cq_conf_loader *ld, const char *fmt, ...) CQ_PRINTF(2, 3);

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

/* ---- schema.c ---------------------------------------------------------------------------- */

/* Applies the built-in defaults to ld->conf (top-level limits). CQ_OK or CQ_EINTERNAL. */
int cq_conf_schema_defaults(struct cq_conf_loader *ld);
/* Walks ld->doc (its root should be a mapping; no root or a null scalar means empty) into
 * ld->conf, reporting every problem through cq_conf_diag. */
void cq_conf_schema_walk(struct cq_conf_loader *ld);
/* Initializes a connection with its defaults (pool, read_only, the conf's limits) and
 * name; used by the walker and by cq_conf_demo. line is 1-based (0 = nowhere). */
int cq_conf_schema_conn_init(struct cq_conf_loader *ld, struct cq_conn_conf *cc, const char *name,
                             int line);

#endif
