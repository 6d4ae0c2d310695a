/*
 * fz_dsl.c - arbitrary bytes as a governed query request, through parse -> validate ->
 * plan -> generate for all four dialects, against a small built-in catalog with masking,
 * row filters, replicas, a cache and Trino.
 *
 * Every outcome must be CQ_OK with non-empty SQL and every placeholder's parameter, or an
 * error with a body; the compile arena is capped, so memory stays bounded whatever the
 * input (a cap hit is an error, not a crash). ASan/UBSan and the leak checker do the rest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/dsl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char catalog_json[] =
    "{\"metadata\":{\"databases\":["
    "{\"id\":\"pg\",\"engine\":\"postgres\",\"trinoCatalog\":\"pg\"},"
    "{\"id\":\"ch\",\"engine\":\"clickhouse\",\"trinoCatalog\":\"ch\"},"
    "{\"id\":\"lite\",\"engine\":\"sqlite\"}],"
    "\"tables\":["
    "{\"id\":\"users\",\"apiName\":\"users\",\"database\":\"pg\",\"physicalName\":\"public.users\","
    "\"columns\":[{\"apiName\":\"id\",\"physicalName\":\"id\",\"type\":\"int\",\"nullable\":false},"
    "{\"apiName\":\"email\",\"physicalName\":\"email\",\"type\":\"string\",\"nullable\":true,"
    "\"maskingFn\":\"email\"},"
    "{\"apiName\":\"tenantId\",\"physicalName\":\"tenant_id\",\"type\":\"uuid\",\"nullable\":false},"
    "{\"apiName\":\"tags\",\"physicalName\":\"tags\",\"type\":\"string[]\",\"nullable\":true},"
    "{\"apiName\":\"born\",\"physicalName\":\"born\",\"type\":\"date\",\"nullable\":true}],"
    "\"primaryKey\":[\"id\"],\"relations\":[]},"
    "{\"id\":\"orders\",\"apiName\":\"orders\",\"database\":\"pg\",\"physicalName\":\"public.orders\","
    "\"columns\":[{\"apiName\":\"id\",\"physicalName\":\"id\",\"type\":\"int\",\"nullable\":false},"
    "{\"apiName\":\"userId\",\"physicalName\":\"user_id\",\"type\":\"int\",\"nullable\":false},"
    "{\"apiName\":\"total\",\"physicalName\":\"total\",\"type\":\"decimal\",\"nullable\":false},"
    "{\"apiName\":\"status\",\"physicalName\":\"status\",\"type\":\"string\",\"nullable\":false},"
    "{\"apiName\":\"at\",\"physicalName\":\"at\",\"type\":\"timestamp\",\"nullable\":false},"
    "{\"apiName\":\"paid\",\"physicalName\":\"paid\",\"type\":\"boolean\",\"nullable\":true},"
    "{\"apiName\":\"items\",\"physicalName\":\"items\",\"type\":\"int[]\",\"nullable\":false}],"
    "\"primaryKey\":[\"id\"],\"relations\":[{\"column\":\"userId\",\"references\":"
    "{\"table\":\"users\",\"column\":\"id\"},\"type\":\"many-to-one\"}]},"
    "{\"id\":\"events\",\"apiName\":\"events\",\"database\":\"ch\",\"physicalName\":\"default.events\","
    "\"columns\":[{\"apiName\":\"id\",\"physicalName\":\"id\",\"type\":\"uuid\",\"nullable\":false},"
    "{\"apiName\":\"orderId\",\"physicalName\":\"order_id\",\"type\":\"int\",\"nullable\":true},"
    "{\"apiName\":\"kind\",\"physicalName\":\"kind\",\"type\":\"string\",\"nullable\":false}],"
    "\"primaryKey\":[\"id\"],\"relations\":[{\"column\":\"orderId\",\"references\":"
    "{\"table\":\"orders\",\"column\":\"id\"},\"type\":\"many-to-one\"}]},"
    "{\"id\":\"notes\",\"apiName\":\"notes\",\"database\":\"lite\",\"physicalName\":\"notes\","
    "\"columns\":[{\"apiName\":\"id\",\"physicalName\":\"id\",\"type\":\"int\",\"nullable\":false},"
    "{\"apiName\":\"body\",\"physicalName\":\"body\",\"type\":\"string\",\"nullable\":false}],"
    "\"primaryKey\":[\"id\"],\"relations\":[]}],"
    "\"caches\":[{\"id\":\"redis\",\"engine\":\"redis\",\"tables\":[{\"tableId\":\"users\","
    "\"keyPattern\":\"users:{id}\"}]}],"
    "\"externalSyncs\":[{\"sourceTable\":\"orders\",\"targetDatabase\":\"ch\","
    "\"targetPhysicalName\":\"default.orders_r\",\"method\":\"debezium\","
    "\"estimatedLag\":\"minutes\"}],\"trino\":{\"enabled\":true}},"
    "\"roles\":[{\"id\":\"admin\",\"tables\":\"*\"},"
    "{\"id\":\"tenant\",\"tables\":[{\"tableId\":\"users\",\"allowedColumns\":[\"id\",\"email\"],"
    "\"maskedColumns\":[\"email\"],\"filters\":[{\"column\":\"tenantId\",\"operator\":\"=\","
    "\"contextKey\":\"tenantId\"}]},{\"tableId\":\"orders\",\"allowedColumns\":\"*\","
    "\"filters\":[{\"column\":\"status\",\"operator\":\"in\",\"contextKey\":\"statuses\"}]}]},"
    "{\"id\":\"none\",\"tables\":[]}]}";

static struct cq_dsl_catalog *catalog(void)
{
    static struct cq_dsl_catalog *cat; /* built once per process; never freed (fuzzer) */
    if (cat == NULL) {
        json_t *fx = json_loads(catalog_json, 0, NULL), *cfg_error = NULL;
        cat = cq_dsl_catalog_new(json_object_get(fx, "metadata"), json_object_get(fx, "roles"),
                                 NULL, &cfg_error, NULL);
        json_decref(cfg_error);
        json_decref(fx);
        if (cat == NULL) {
            abort();
        }
    }
    return cat;
}

/* Counts the placeholders a dialect prints, to compare with the parameter list. */
static size_t placeholders(const char *sql, enum cq_dialect d)
{
    size_t n = 0;
    bool in_str = false;
    for (const char *p = sql; *p != '\0'; p++) {
        if (*p == '\'') {
            in_str = !in_str;
        } else if (!in_str && d == CQ_DIALECT_PG && p[0] == '$' && p[1] >= '0' && p[1] <= '9') {
            n++;
        } else if (!in_str && d == CQ_DIALECT_CH && p[0] == '{' && p[1] == 'p') {
            n++;
        } else if (!in_str && (d == CQ_DIALECT_TRINO || d == CQ_DIALECT_SQLITE) && p[0] == '?') {
            n++;
        }
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum cq_dialect dialects[] = {CQ_DIALECT_PG, CQ_DIALECT_CH, CQ_DIALECT_TRINO,
                                               CQ_DIALECT_SQLITE};
    struct cq_dsl_catalog *cat = catalog();
    struct cq_arena a;
    struct cq_dsl_error e = {0};
    struct cq_dsl_query *q = NULL;
    struct cq_dsl_context ctx;
    json_t *body = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);

    cq_arena_init(&a, 4096, 64u << 20);
    if (body == NULL) {
        goto out;
    }
    if (cq_dsl_parse_request(&a, body, true, &q, &ctx, &e) != CQ_OK) {
        if (e.body == NULL) {
            abort();
        }
        goto out;
    }
    for (size_t i = 0; i < sizeof(dialects) / sizeof(dialects[0]); i++) {
        struct cq_dsl_opts opts = {true, dialects[i], 1};
        struct cq_dsl_compiled c;
        cq_dsl_error_cleanup(&e);
        if (cq_dsl_compile(cat, q, &ctx, &opts, &a, &c, &e) != CQ_OK) {
            if (e.body == NULL) {
                abort();
            }
            continue;
        }
        if (c.sql == NULL || strncmp(c.sql, "SELECT ", 7) != 0) {
            abort();
        }
        /* PG reuses no placeholder; the others print one per parameter */
        if (placeholders(c.sql, dialects[i]) < c.n_params && dialects[i] != CQ_DIALECT_SQLITE) {
            abort();
        }
    }
out:
    cq_dsl_error_cleanup(&e);
    json_decref(body);
    cq_arena_free(&a);
    return 0;
}
