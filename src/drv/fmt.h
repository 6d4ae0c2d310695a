/*
 * fmt.h - result writers: the standard JSON result, NDJSON, CSV (RFC 4180) and an
 * aligned text table, all behind one row-sink API so results stream, never buffered
 * whole (the table buffers only its first rows to choose column widths).
 *
 * Output goes through a write callback (stdout, an HTTP response, a test buffer) in
 * chunks of up to 64 KiB. Ownership: caller owns the cq_fmt (cq_drv_fmt_free). Not
 * thread-safe.
 */
#ifndef CQ_DRV_FMT_H
#define CQ_DRV_FMT_H

#include "drv/drv.h"

enum cq_fmt_kind { CQ_FMT_JSON = 0, CQ_FMT_NDJSON, CQ_FMT_CSV, CQ_FMT_TABLE };

/* Writes len bytes; returns CQ_OK or an error (CQ_EIO) that stops the stream. */
typedef int (*cq_write_fn)(void *ctx, const char *p, size_t len);

struct cq_fmt;

/* "json" | "ndjson" | "csv" | "table" -> kind; CQ_EINVAL with a message otherwise. */
int cq_drv_fmt_parse(const char *name, enum cq_fmt_kind *out, struct cq_err *err);
struct cq_fmt *cq_drv_fmt_new(enum cq_fmt_kind kind, cq_write_fn write, void *wctx,
                              struct cq_err *err);
void cq_drv_fmt_free(struct cq_fmt *f);
/* The sink to hand to cq_drv_exec; borrowed from f. */
const struct cq_rowsink *cq_drv_fmt_sink(struct cq_fmt *f);
/* After exec failed mid-stream: finishes the document so it stays well-formed (JSON gets
 * "truncated":true and an "error" member) and flushes. Harmless if nothing was written. */
int cq_drv_fmt_fail(struct cq_fmt *f, const struct cq_err *cause, struct cq_err *err);
/* Whether on_end was reached and the result was truncated (for exit code 5). */
bool cq_drv_fmt_truncated(const struct cq_fmt *f);

#endif
