/* dsltest.c - JSON helpers of the DSL unit tests (see dsltest.h). Test code: libc allocation. */
#include "dsltest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "dsl/catalog.h"
#include "dsl/dsl.h"

json_t *cq_test_json(const char *text)
{
    char *s = strdup(text);
    json_error_t je;
    json_t *j;

    assert_non_null(s);
    for (char *p = s; *p != '\0'; p++) {
        *p = *p == '\'' ? '"' : *p;
    }
    j = json_loads(s, JSON_DECODE_ANY, &je);
    if (j == NULL) {
        fail_msg("bad test JSON at %d:%d: %s\n%s", je.line, je.column, je.text, s);
    }
    free(s);
    return j;
}

json_t *cq_test_dsl_fixture(void)
{
    const char *src = getenv("CQ_SOURCE_DIR");
    char path[4096];
    json_error_t je;
    json_t *all;

    snprintf(path, sizeof(path), "%s/tests/golden/dsl/catalog.json", src ? src : "../..");
    all = json_load_file(path, 0, &je);
    if (all == NULL) {
        fprintf(stderr, "cannot load %s: %s (set CQ_SOURCE_DIR)\n", path, je.text);
    }
    return all;
}

struct cq_dsl_catalog *cq_test_dsl_catalog(const json_t *metadata, const json_t *roles)
{
    json_t *cerr = NULL;
    struct cq_err err = {0};
    struct cq_dsl_catalog *cat = cq_dsl_catalog_new(metadata, roles, NULL, &cerr, &err);

    if (cat == NULL) {
        char *s = cerr != NULL ? json_dumps(cerr, JSON_COMPACT) : NULL;
        fail_msg("catalog: %s %s", err.msg, s != NULL ? s : "");
    }
    return cat;
}
