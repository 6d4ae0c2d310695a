/*
 * catalog_int.h - what catalog.c (building, lookups) and catalog_check.c (spec §6 and
 * clariq's load checks) share; nothing outside those two files includes it.
 *
 * The checks run on the JSON before anything is built, so the builder may rely on the
 * shapes they guarantee (arrays are arrays, names are strings, references resolve).
 * Scratch memory comes from an arena the caller frees; nothing here is kept.
 */
#ifndef CQ_DSL_CATALOG_INT_H
#define CQ_DSL_CATALOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/arena.h"
#include "dsl/catalog.h"

/* String -> index map, open addressing over a power-of-two table; keys are borrowed.
 * The first key put wins (later duplicates are refused). */
struct cq_dsl_smap {
    const char **keys;
    uint32_t *vals;               /* index + 1 per slot, 0 = empty */
    uint32_t mask;                /* slots - 1 */
};

/* Room for n keys in a. CQ_OK or CQ_ENOMEM. */
int cq_dsl_smap_init(struct cq_dsl_smap *m, size_t n, struct cq_arena *a);
/* false when key was already present (the first value stays). */
bool cq_dsl_smap_put(struct cq_dsl_smap *m, const char *key, uint32_t val);
/* The value, or -1 when absent (also for a map never initialised). */
long cq_dsl_smap_get(const struct cq_dsl_smap *m, const char *key);
uint32_t cq_dsl_hash(const char *s);

/* JSON helpers: a member that is absent or null is NULL; str() is NULL unless a string. */
const json_t *cq_dsl_jget(const json_t *o, const char *key);
const char *cq_dsl_jstr(const json_t *o, const char *key);
/* "object", "array", "string", "number", "boolean", "null" (or "absent" for NULL). */
const char *cq_dsl_jkind(const json_t *v);

/* Names as the spec writes them; false when s is not one. */
bool cq_dsl_type_parse(const char *s, enum cq_dsl_type *t, bool *array);
bool cq_dsl_engine_parse(const char *s, enum cq_dsl_engine *e);
bool cq_dsl_mask_parse(const char *s, enum cq_dsl_mask *m);
bool cq_dsl_lag_parse(const char *s, enum cq_dsl_lag *l);
bool cq_dsl_rls_op_parse(const char *s, enum cq_dsl_rls_op *op);
enum cq_dialect cq_dsl_engine_dialect(enum cq_dsl_engine e);

/*
 * Appends to errors (a JSON array) the entries of spec §6 for metadata, in the spec's
 * order, plus clariq's shape checks (anything the builder needs that is missing or of the
 * wrong JSON type). With load, also the checks the engine needs to build a catalog:
 * duplicate database, table and cache ids, and every role problem (INVALID_ROLE) of roles
 * (NULL = no roles). CQ_OK or CQ_ENOMEM.
 */
int cq_dsl_catalog_check(const json_t *metadata, const json_t *roles, bool load, json_t *errors);
/* The ConfigError body for entries (takes errors); NULL on ENOMEM. */
json_t *cq_dsl_config_error(json_t *errors);

#endif
