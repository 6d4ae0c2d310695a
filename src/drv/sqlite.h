/*
 * sqlite.h - extras of the SQLite driver beyond the cq_drv_sqlite descriptor (drv.h).
 *
 * The driver itself is reached through the registry like any other (cq_drv_find("sqlite")).
 * This header adds the demo database used by `clariq demo`, `clariq init` and the embedded
 * default configuration. Thread-safety: the function keeps no shared state; two processes
 * building the same path at once both succeed (each renames a complete file into place).
 */
#ifndef CQ_DRV_SQLITE_H
#define CQ_DRV_SQLITE_H

#include "base/err.h"

/*
 * Creates the demo database (a small shop: customers, products, orders, order_items,
 * events and the view revenue_by_country) at `path` (borrowed), creating missing parent
 * directories. The content is deterministic. The file is built under a temporary name in
 * the same directory and renamed into place, so a crash never leaves a half-built file.
 * If `path` already exists nothing is done and CQ_OK is returned.
 * Returns CQ_OK, CQ_EIO (directories, temp file, rename), CQ_EBACKEND (SQLite failed),
 * CQ_ENOMEM, or CQ_EUNSUPPORTED when built without SQLite.
 */
int cq_drv_sqlite_make_sample(const char *path, struct cq_err *err);

struct sqlite3;
/*
 * Registers clariq's SQL functions on a handle (every driver connection gets them):
 * levenshtein(a, b), the edit distance in characters (UTF-8 aware; NULL if an argument is
 * NULL; an error above 4096 characters), used by the governed query's levenshteinLte on
 * SQLite. Returns CQ_OK or CQ_EBACKEND.
 */
int cq_drv_sqlite_functions(struct sqlite3 *db);

#endif
