/*
 * dsl_bench.c - compile throughput of the governed query engine (issue 4's benchmark).
 *
 * For six representative queries on the test catalog (tests/golden/dsl/catalog.json) it
 * measures validate -> plan -> generate (sql-only, in-process, one thread) from a parsed
 * AST, with the compile arena reset between runs, and prints compiles/s next to the goal,
 * the heap allocations per compile (cq_mem_count), and two baselines measured in the same
 * run on the same core: parsing the same request text with jansson alone, and the whole
 * request (jansson parse + our parse + compile). The TypeScript reference engine measured
 * 51k-120k compiles/s on these machines (issue 4); it cannot run here (not on npm).
 *
 * usage: cq-bench-dsl CATALOG.json [SECONDS_PER_QUERY]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "dsl/dsl.h"

struct bench_query {
    const char *name;
    double goal;      /* compiles/s */
    const char *body; /* request: {definition, context} */
};

static const struct bench_query queries[] = {
    {"simple select", 1e6,
     "{\"definition\":{\"from\":\"orders\",\"columns\":[\"id\",\"status\",\"total\"],"
     "\"filters\":[{\"column\":\"status\",\"operator\":\"=\",\"value\":\"paid\"}],\"limit\":10},"
     "\"context\":{\"roles\":{\"user\":[\"admin\"]}}}"},
    {"join with filters", 5e5,
     "{\"definition\":{\"from\":\"orders\",\"columns\":[\"id\",\"status\",\"total\"],"
     "\"joins\":[{\"table\":\"users\",\"columns\":[\"email\",\"fullName\"],"
     "\"filters\":[{\"column\":\"isActive\",\"operator\":\"=\",\"value\":true}]}],"
     "\"filters\":[{\"column\":\"status\",\"operator\":\"in\",\"value\":[\"paid\",\"shipped\"]},"
     "{\"column\":\"total\",\"operator\":\">=\",\"value\":100},"
     "{\"column\":\"email\",\"table\":\"users\",\"operator\":\"contains\",\"value\":\"@ex\"}],"
     "\"orderBy\":[{\"column\":\"createdAt\",\"direction\":\"desc\"}],\"limit\":50},"
     "\"context\":{\"roles\":{\"user\":[\"support\",\"orders-service\"]}}}"},
    {"aggregation with HAVING", 5e5,
     "{\"definition\":{\"from\":\"orders\",\"columns\":[\"status\"],"
     "\"groupBy\":[{\"column\":\"status\"}],\"aggregations\":["
     "{\"column\":\"total\",\"fn\":\"sum\",\"alias\":\"revenue\"},"
     "{\"column\":\"*\",\"fn\":\"count\",\"alias\":\"orderCount\"}],"
     "\"having\":[{\"column\":\"revenue\",\"operator\":\">\",\"value\":1000}],"
     "\"orderBy\":[{\"column\":\"revenue\",\"direction\":\"desc\"}],\"limit\":10},"
     "\"context\":{\"roles\":{\"user\":[\"admin\"]}}}"},
    {"EXISTS filters", 5e5,
     "{\"definition\":{\"from\":\"users\",\"columns\":[\"id\",\"email\"],\"filters\":["
     "{\"table\":\"orders\",\"filters\":[{\"column\":\"status\",\"operator\":\"=\","
     "\"value\":\"paid\"}],\"count\":{\"operator\":\">=\",\"value\":2}},"
     "{\"table\":\"orders\",\"exists\":false,\"filters\":[{\"column\":\"total\","
     "\"operator\":\">\",\"value\":5000}]}],\"limit\":20},"
     "\"context\":{\"roles\":{\"user\":[\"admin\"]}}}"},
    {"ClickHouse aggregation", 5e5,
     "{\"definition\":{\"from\":\"events\",\"columns\":[\"type\"],"
     "\"filters\":[{\"column\":\"occurredAt\",\"operator\":\"between\","
     "\"value\":{\"from\":\"2024-01-01T00:00:00Z\",\"to\":\"2024-02-01T00:00:00Z\"}}],"
     "\"groupBy\":[{\"column\":\"type\"}],\"aggregations\":["
     "{\"column\":\"*\",\"fn\":\"count\",\"alias\":\"n\"},"
     "{\"column\":\"amount\",\"fn\":\"avg\",\"alias\":\"avgAmount\"}],"
     "\"having\":[{\"column\":\"n\",\"operator\":\">=\",\"value\":10}],"
     "\"orderBy\":[{\"column\":\"n\",\"direction\":\"desc\"}]},"
     "\"context\":{\"roles\":{\"user\":[\"analytics-reader\"]}}}"},
    {"Trino cross-database join", 5e5,
     "{\"definition\":{\"from\":\"events\",\"columns\":[\"id\",\"type\",\"occurredAt\"],"
     "\"joins\":[{\"table\":\"users\",\"columns\":[\"email\"]}],"
     "\"filters\":[{\"column\":\"type\",\"operator\":\"=\",\"value\":\"click\"},"
     "{\"column\":\"regionId\",\"table\":\"users\",\"operator\":\"=\",\"value\":\"eu\"}],"
     "\"limit\":100},\"context\":{\"roles\":{\"user\":[\"admin\"]}}}"},
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *read_json(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (j == NULL) {
        fprintf(stderr, "cq-bench-dsl: %s:%d:%d: %s\n", path, je.line, je.column, je.text);
    }
    return j;
}

/* Runs fn until `secs` pass; returns runs per second. */
#define MEASURE(secs, runs_out, body)                                                          \
    do {                                                                                       \
        double t0_ = now_s(), el_ = 0;                                                         \
        long n_ = 0;                                                                           \
        while (el_ < (secs)) {                                                                 \
            for (int k_ = 0; k_ < 1000; k_++) {                                                \
                body;                                                                          \
            }                                                                                  \
            n_ += 1000;                                                                        \
            el_ = now_s() - t0_;                                                               \
        }                                                                                      \
        (runs_out) = (double)n_ / el_;                                                         \
    } while (0)

static int bench_one(const struct cq_dsl_catalog *cat, const struct bench_query *bq,
                     double secs, int *met)
{
    struct cq_arena ast, work;
    struct cq_dsl_error e = {0};
    struct cq_dsl_query *q = NULL;
    struct cq_dsl_context ctx;
    struct cq_dsl_compiled out;
    struct cq_dsl_opts opts = {0};
    json_t *body = json_loads(bq->body, 0, NULL);
    double compiles = 0, parses = 0, whole = 0;
    unsigned long allocs0, allocs1;
    int rc = 1;

    cq_arena_init(&ast, 16384, 0);
    cq_arena_init(&work, 16384, 0);
    if (body == NULL || cq_dsl_parse_request(&ast, body, false, &q, &ctx, &e) != CQ_OK) {
        fprintf(stderr, "cq-bench-dsl: %s: the request does not parse\n", bq->name);
        goto out;
    }
    opts.now_ms = 1;
    q->mode = CQ_DSL_MODE_SQL_ONLY;
    if (cq_dsl_compile(cat, q, &ctx, &opts, &work, &out, &e) != CQ_OK) {
        struct cq_buf b;
        cq_buf_init(&b, 1 << 16);
        cq_dsl_error_write(&e, &b);
        fprintf(stderr, "cq-bench-dsl: %s: %s\n", bq->name, cq_buf_str(&b));
        cq_buf_cleanup(&b);
        goto out;
    }
    printf("  %-26s %s\n", bq->name, out.sql);
    cq_arena_reset(&work);

    /* allocations: warm up once more, then count a fixed number of compiles */
    allocs0 = cq_mem_count();
    for (int i = 0; i < 1000; i++) {
        cq_dsl_compile(cat, q, &ctx, &opts, &work, &out, &e);
        cq_arena_reset(&work);
    }
    allocs1 = cq_mem_count();

    MEASURE(secs, compiles, {
        cq_dsl_compile(cat, q, &ctx, &opts, &work, &out, &e);
        cq_arena_reset(&work);
    });
    MEASURE(secs / 2, parses, {
        json_t *j = json_loads(bq->body, 0, NULL);
        json_decref(j);
    });
    MEASURE(secs / 2, whole, {
        json_t *j = json_loads(bq->body, 0, NULL);
        struct cq_dsl_query *q2 = NULL;
        struct cq_dsl_context c2;
        if (cq_dsl_parse_request(&work, j, false, &q2, &c2, &e) == CQ_OK) {
            q2->mode = CQ_DSL_MODE_SQL_ONLY;
            cq_dsl_compile(cat, q2, &c2, &opts, &work, &out, &e);
        }
        json_decref(j);
        cq_arena_reset(&work);
    });
    printf("%-26s %10.0f compiles/s (goal >= %.0f: %s)  heap allocs/compile %.3f\n", bq->name,
           compiles, bq->goal, compiles >= bq->goal ? "met" : "NOT met",
           (double)(allocs1 - allocs0) / 1000.0);
    printf("%-26s baselines: jansson parse alone %.0f/s; whole request (jansson + parse + "
           "compile) %.0f/s; compile = %.1fx jansson\n",
           "", parses, whole, compiles / parses);
    *met += compiles >= bq->goal;
    rc = 0;
out:
    cq_dsl_error_cleanup(&e);
    json_decref(body);
    cq_arena_free(&ast);
    cq_arena_free(&work);
    return rc;
}

int main(int argc, char **argv)
{
    struct cq_err err = {0};
    struct cq_dsl_catalog *cat = NULL;
    json_t *fixture = NULL, *cfg_error = NULL;
    double secs = argc > 2 ? strtod(argv[2], NULL) : 1.0;
    int met = 0, rc = 1;
    size_t n = sizeof(queries) / sizeof(queries[0]);

    if (argc < 2) {
        fprintf(stderr, "usage: cq-bench-dsl CATALOG.json [SECONDS_PER_QUERY]\n");
        return 2;
    }
    fixture = read_json(argv[1]);
    if (fixture == NULL) {
        return 1;
    }
    cat = cq_dsl_catalog_new(json_object_get(fixture, "metadata"),
                             json_object_get(fixture, "roles"), NULL, &cfg_error, &err);
    if (cat == NULL) {
        fprintf(stderr, "cq-bench-dsl: the catalog does not load: %s\n", err.msg);
        goto out;
    }
    printf("governed query compile throughput (validate -> plan -> generate, sql-only, one "
           "core); TypeScript reference on these machines: 51k-120k/s\n");
    for (size_t i = 0; i < n; i++) {
        if (bench_one(cat, &queries[i], secs, &met) != 0) {
            goto out;
        }
    }
    printf("dsl compile goals met: %d of %zu\n", met, n);
    rc = 0;
out:
    json_decref(cfg_error);
    json_decref(fixture);
    cq_dsl_catalog_unref(cat);
    return rc;
}
