/*
 * exec_int.h - what the execution files share: exec.c (executor choice, errors, meta),
 * exec_bind.c (parameters for the drivers, JavaScript number text) and result.c (the row
 * sink that re-keys, converts and masks rows). Nothing outside those files includes it.
 *
 * Memory: everything a run needs lives in the arena cq_dsl_execute creates for it, except
 * the scratch buffers of struct cq_dsl_result (released by cq_dsl_result_cleanup).
 */
#ifndef CQ_DSL_EXEC_INT_H
#define CQ_DSL_EXEC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "drv/drv.h"
#include "dsl/dsl.h"

/* ---- exec_bind.c ------------------------------------------------------------------------ */

/*
 * Turns c's parameters into driver parameters for c->dialect, allocated in a:
 * PostgreSQL gets text with the type left to the server (the SQL casts arrays, and an
 * array is bound as an array literal {"a","b"}); SQLite gets typed values, arrays as JSON
 * text. CQ_OK or CQ_ENOMEM (err set).
 */
int cq_dsl_exec_bind(struct cq_arena *a, const struct cq_dsl_compiled *c,
                     struct cq_param **out, struct cq_err *err);

/* Appends the "params" JSON array of c (the values as the request gave them). */
void cq_dsl_exec_params_json(struct cq_buf *b, const struct cq_dsl_compiled *c);

/* ---- result.c --------------------------------------------------------------------------- */

/* The row sink of one run. Data mode appends one JSON object per row to out (the caller
 * writes the surrounding '[' and ']'); count mode keeps the first value of the first row. */
struct cq_dsl_result {
    const struct cq_dsl_compiled *c;
    struct cq_buf *out;               /* borrowed: the result JSON being written */
    struct cq_arena *a;               /* borrowed: per-column tables */
    bool count_mode;
    int64_t count;                    /* count mode: the value read */
    int64_t rows;                     /* rows received */
    const char *truncated_reason;     /* a connection limit cut the rows: "max_rows"... */
    size_t n;                         /* result columns */
    const struct cq_dsl_outcol **oc;  /* n: the outcol a column is re-keyed to, or NULL */
    size_t *key_off;                  /* n: offset of the column's '"key":' in keys */
    size_t *key_len;                  /* n: its length */
    struct cq_buf keys;               /* every column's escaped key, written once */
    struct cq_buf scratch;            /* one value's conversion (timestamps, arrays) */
    struct cq_buf text;               /* one masked value's stringified text */
};

void cq_dsl_result_init(struct cq_dsl_result *r, const struct cq_dsl_compiled *c,
                        struct cq_arena *a, struct cq_buf *out);
void cq_dsl_result_cleanup(struct cq_dsl_result *r);
/* The sink feeding r (ctx = r). */
struct cq_rowsink cq_dsl_result_sink(struct cq_dsl_result *r);

/* Normalises a timestamp text (ISO-8601 or SQL form, any offset or none = UTC) to
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" appended to out; false (nothing appended) when s is not one. */
bool cq_dsl_ts_iso(const char *s, size_t len, struct cq_buf *out);

#endif
