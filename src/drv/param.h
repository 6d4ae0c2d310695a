/*
 * param.h - statement parameters from the command line or JSON, and the SQL scanner
 * that finds $n placeholders and statement boundaries.
 *
 * Parsed parameters are allocated in the caller's arena.
 */
#ifndef CQ_DRV_PARAM_H
#define CQ_DRV_PARAM_H

#include "base/arena.h"
#include "drv/drv.h"

/*
 * One CLI value: "42" (int), "3.14" (numeric), "true"/"false" (bool), "null" (NULL),
 * anything else text; "type:value" forces a type: int, bigint, float, numeric, text,
 * bool, json, date, timestamp (e.g. "text:007", "text:null"). An unknown prefix means the
 * whole value is text ("http://x"). A forced type whose value does not fit is CQ_EINVAL
 * ("parameter $2: 'abc' is not a valid int").
 */
int cq_drv_param_parse(struct cq_arena *a, const char *arg, struct cq_param *out,
                       struct cq_err *err);
/* A JSON array: numbers (int or numeric, digits kept exactly), strings (text), booleans,
 * null, objects/arrays (json). CQ_EINVAL with position on anything else. */
int cq_drv_params_json(struct cq_arena *a, const char *json, struct cq_param **out,
                       size_t *n_out, struct cq_err *err);

/* Result of scanning SQL text. */
struct cq_sql_stmt {
    size_t off;          /* byte offset of the statement start (after leading space) */
    size_t len;          /* bytes, without the terminating ';' */
    int max_param;       /* highest $n used in it; 0 if none */
};

struct cq_sql_scan {
    int max_param;              /* highest $n in the whole text; 0 if none */
    size_t n_stmts;             /* non-empty statements (comments/whitespace alone do not count) */
    struct cq_sql_stmt *stmts;  /* n_stmts entries, in the arena */
    bool unterminated;          /* ended inside a string, quoted identifier or comment */
};

/*
 * Scans PostgreSQL-flavoured SQL: '...' (with ''), E'...' (backslash escapes), "..."
 * identifiers, $tag$...$tag$ bodies, -- and nested block comments, and BEGIN ... END
 * bodies inside CREATE statements (semicolons there do not split). $n inside those is
 * not a placeholder. CQ_ETOOBIG if a $n exceeds 65535.
 */
int cq_drv_sql_scan(struct cq_arena *a, const char *sql, size_t len, struct cq_sql_scan *out,
                    struct cq_err *err);

#endif
