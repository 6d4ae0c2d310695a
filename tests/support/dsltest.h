/*
 * dsltest.h - JSON helpers shared by the DSL unit tests: test JSON written with ' for ",
 * the shared fixture tests/golden/dsl/catalog.json, and a catalog built from borrowed
 * metadata and roles. Each fails the running cmocka test rather than returning an error,
 * except cq_test_dsl_fixture, which group setups call before any test runs.
 *
 * Ownership is jansson's: a returned json_t * is a new reference the caller decrefs.
 * Thread-safety: none needed (no state).
 */
#ifndef CQ_TESTS_DSLTEST_H
#define CQ_TESTS_DSLTEST_H

#include <jansson.h>

struct cq_dsl_catalog;

/* Parses test JSON written with ' for " (so the texts must hold no apostrophes); any JSON
 * value is accepted. Fails the test on a syntax error. New reference. */
json_t *cq_test_json(const char *text);

/* The shared fixture, $CQ_SOURCE_DIR/tests/golden/dsl/catalog.json (../.. without the
 * variable): a new reference, or NULL with the reason on stderr. */
json_t *cq_test_dsl_fixture(void);

/* cq_dsl_catalog_new over metadata and roles (both borrowed) with no connection map; fails
 * the test with the ConfigError body if the catalog is refused. Caller unrefs. */
struct cq_dsl_catalog *cq_test_dsl_catalog(const json_t *metadata, const json_t *roles);

#endif
