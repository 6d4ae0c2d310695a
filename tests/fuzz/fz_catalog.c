/*
 * fz_catalog.c - arbitrary bytes as a governed-query catalog: {"metadata": MetadataConfig,
 * "roles": RoleMeta[]} or a bare MetadataConfig (what /validate/config and `catalog: {file:}`
 * accept). Config validation and the catalog build must either succeed or return a
 * ConfigError body; a built catalog must answer lookups for every table it lists.
 */
#include <stdint.h>
#include <stdlib.h>

#include "dsl/dsl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    json_t *meta, *roles, *problems, *cfg_error = NULL;
    struct cq_dsl_catalog *cat;
    struct cq_err err = {0};

    if (doc == NULL) {
        return 0;
    }
    meta = json_object_get(doc, "metadata");
    roles = json_object_get(doc, "roles");
    if (meta == NULL) {
        meta = doc;
    }
    problems = cq_dsl_config_validate(meta);
    cat = cq_dsl_catalog_new(meta, roles, NULL, &cfg_error, &err);
    if (cat == NULL && cfg_error == NULL && err.rc != CQ_ENOMEM) {
        abort(); /* refused without saying why */
    }
    if (cat != NULL) {
        if (problems != NULL) {
            abort(); /* §6 problems must refuse the catalog */
        }
        for (size_t i = 0; i < cat->n_tables; i++) {
            if (cq_dsl_table_by_api(cat, cat->tables[i].api) == NULL) {
                abort();
            }
        }
    }
    cq_dsl_catalog_unref(cat);
    json_decref(cfg_error);
    json_decref(problems);
    json_decref(doc);
    return 0;
}
