/*
 * test_http_metrics.c - the Prometheus exposition of src/http/metrics.c, read back by a
 * small parser: every sample belongs to a family announced by # HELP and # TYPE; request
 * counters by route and status; cumulative histogram buckets whose +Inf equals _count and
 * whose _sum adds up; label escaping; pool gauges from a real SQLite pool with a
 * connection checked out; RSS and uptime; the alert hook; counts under concurrent updates;
 * the cap on distinct label values.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/mem.h"
#include "http/internal.h"

/* ---- a tiny exposition reader ---------------------------------------------------------- */

struct sample {
    char series[512]; /* name{labels} exactly as rendered */
    double value;
};

struct expo {
    struct sample *v;
    size_t n;
    char types[64][96]; /* families with a # TYPE line */
    size_t n_types;
    char text[1 << 17];
};

/* The family a sample belongs to: histogram suffixes map to their base name. */
static void family_of(const char *series, char *out, size_t size)
{
    static const char *const sfx[] = {"_bucket", "_sum", "_count"};
    size_t len = strcspn(series, "{ ");

    snprintf(out, size, "%.*s", (int)len, series);
    for (size_t i = 0; i < 3; i++) {
        size_t sl = strlen(sfx[i]), ol = strlen(out);
        if (ol > sl && strcmp(out + ol - sl, sfx[i]) == 0) {
            out[ol - sl] = '\0';
        }
    }
}

static bool has_type(const struct expo *e, const char *fam)
{
    for (size_t i = 0; i < e->n_types; i++) {
        if (strcmp(e->types[i], fam) == 0) {
            return true;
        }
    }
    return false;
}

static struct expo *parse(struct cq_http_metrics *m, struct cq_http_state *st)
{
    struct expo *e = calloc(1, sizeof(*e));
    struct cq_buf b;
    char *save = NULL;

    cq_buf_init(&b, sizeof(e->text) - 1);
    cq_http_metrics_render(m, st, &b);
    assert_int_equal(cq_buf_rc(&b), CQ_OK);
    assert_true(b.len > 0 && b.p[b.len - 1] == '\n');
    memcpy(e->text, b.p, b.len + 1);
    cq_buf_cleanup(&b);
    e->v = calloc(4096, sizeof(*e->v));
    char *copy = strdup(e->text);
    for (char *line = strtok_r(copy, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char fam[96];
        if (strncmp(line, "# HELP ", 7) == 0) {
            continue;
        }
        if (strncmp(line, "# TYPE ", 7) == 0) {
            assert_true(e->n_types < 64);
            sscanf(line + 7, "%95s", e->types[e->n_types++]);
            continue;
        }
        assert_true(line[0] != '#');
        char *sp = strrchr(line, ' ');
        assert_non_null(sp);
        assert_true(e->n < 4096);
        snprintf(e->v[e->n].series, sizeof(e->v[e->n].series), "%.*s", (int)(sp - line), line);
        char *end;
        e->v[e->n].value = strtod(sp + 1, &end);
        assert_true(*end == '\0');
        family_of(e->v[e->n].series, fam, sizeof(fam));
        if (!has_type(e, fam)) {
            fail_msg("sample without # TYPE: %s", line);
        }
        e->n++;
    }
    free(copy);
    return e;
}

static void expo_free(struct expo *e)
{
    free(e->v);
    free(e);
}

/* Value of an exact series, or NAN when absent. */
static double get(const struct expo *e, const char *series)
{
    for (size_t i = 0; i < e->n; i++) {
        if (strcmp(e->v[i].series, series) == 0) {
            return e->v[i].value;
        }
    }
    return NAN;
}

/* Checks a histogram series: buckets ascending in le and cumulative, +Inf == _count. */
static void check_histogram(const struct expo *e, const char *name, const char *labels,
                            double want_count, double want_sum)
{
    char prefix[256], s[300];
    double prev = -1, prev_le = -1, inf = NAN;
    int n_buckets = 0;

    snprintf(prefix, sizeof(prefix), "%s_bucket{%s,le=\"", name, labels);
    for (size_t i = 0; i < e->n; i++) {
        if (strncmp(e->v[i].series, prefix, strlen(prefix)) != 0) {
            continue;
        }
        const char *le = e->v[i].series + strlen(prefix);
        n_buckets++;
        assert_true(e->v[i].value >= prev); /* cumulative */
        prev = e->v[i].value;
        if (strncmp(le, "+Inf", 4) == 0) {
            inf = e->v[i].value;
        } else {
            double bound = strtod(le, NULL);
            assert_true(bound > prev_le);
            assert_true(isnan(inf)); /* +Inf comes last */
            prev_le = bound;
        }
    }
    assert_true(n_buckets >= 10);
    assert_true(prev_le >= 10.0);
    snprintf(s, sizeof(s), "%s_count{%s}", name, labels);
    assert_true(get(e, s) == want_count);
    assert_true(inf == want_count);
    snprintf(s, sizeof(s), "%s_sum{%s}", name, labels);
    assert_true(fabs(get(e, s) - want_sum) < 1e-6);
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_requests_and_histograms(void **state)
{
    struct cq_http_metrics *m = cq_http_metrics_new();
    struct expo *e;

    (void)state;
    assert_non_null(m);
    cq_http_metrics_request(m, "/query", 200, 0.0005);
    cq_http_metrics_request(m, "/query", 200, 0.003);
    cq_http_metrics_request(m, "/query", 200, 2.0);
    cq_http_metrics_request(m, "/query", 400, 0.02);
    cq_http_metrics_request(m, "/sql", 200, 20.0); /* beyond the last bound: +Inf only */
    cq_http_metrics_request(m, NULL, 404, 0.0001);
    cq_http_metrics_query(m, "pg", 0.001);
    cq_http_metrics_query(m, "pg", 0.5);
    cq_http_metrics_error(m, "VALIDATION_FAILED");
    cq_http_metrics_error(m, "RATE_LIMITED");
    cq_http_metrics_error(m, "RATE_LIMITED");
    e = parse(m, NULL);
    assert_true(get(e, "clariq_http_requests_total{route=\"/query\",status=\"200\"}") == 3);
    assert_true(get(e, "clariq_http_requests_total{route=\"/query\",status=\"400\"}") == 1);
    assert_true(get(e, "clariq_http_requests_total{route=\"/sql\",status=\"200\"}") == 1);
    assert_true(get(e, "clariq_http_requests_total{route=\"unmatched\",status=\"404\"}") == 1);
    check_histogram(e, "clariq_http_request_duration_seconds", "route=\"/query\"", 4, 2.0235);
    /* 0.0005 <= 0.001 (le is inclusive); 0.003 lands in 0.005; 0.02 in 0.025; 2 in 2.5 */
    assert_true(get(e, "clariq_http_request_duration_seconds_bucket{route=\"/query\","
                       "le=\"0.001\"}") == 1);
    assert_true(get(e, "clariq_http_request_duration_seconds_bucket{route=\"/query\","
                       "le=\"0.0025\"}") == 1);
    assert_true(get(e, "clariq_http_request_duration_seconds_bucket{route=\"/query\","
                       "le=\"0.005\"}") == 2);
    assert_true(get(e, "clariq_http_request_duration_seconds_bucket{route=\"/query\","
                       "le=\"0.025\"}") == 3);
    assert_true(get(e, "clariq_http_request_duration_seconds_bucket{route=\"/query\","
                       "le=\"1\"}") == 3);
    assert_true(get(e, "clariq_http_request_duration_seconds_bucket{route=\"/query\","
                       "le=\"2.5\"}") == 4);
    check_histogram(e, "clariq_http_request_duration_seconds", "route=\"/sql\"", 1, 20.0);
    assert_true(get(e, "clariq_http_request_duration_seconds_bucket{route=\"/sql\","
                       "le=\"10\"}") == 0);
    check_histogram(e, "clariq_query_duration_seconds", "connection=\"pg\"", 2, 0.501);
    assert_true(get(e, "clariq_errors_total{code=\"RATE_LIMITED\"}") == 2);
    assert_true(get(e, "clariq_errors_total{code=\"VALIDATION_FAILED\"}") == 1);
    assert_true(get(e, "process_resident_memory_bytes") > 1024 * 1024);
    assert_true(get(e, "clariq_uptime_seconds") >= 0);
    /* no alert family until an alert ran in this process */
    assert_null(strstr(e->text, "clariq_alert_runs_total"));
    expo_free(e);
    cq_http_metrics_free(m);
}

static void test_escaping_and_alerts(void **state)
{
    struct cq_http_metrics *m = cq_http_metrics_new();
    struct expo *e;

    (void)state;
    cq_http_metrics_request(m, "/a\"b\\c\nd", 500, 0.1);
    cq_http_metrics_alerts(m, "triggered", 2);
    cq_http_metrics_alerts(m, "ok", 5);
    cq_http_metrics_alerts(m, "triggered", 1);
    cq_http_metrics_alerts(m, "error", 0); /* nothing to count */
    e = parse(m, NULL);
    assert_true(get(e, "clariq_http_requests_total{route=\"/a\\\"b\\\\c\\nd\",status=\"500\"}")
                == 1);
    assert_non_null(strstr(e->text, "# TYPE clariq_alert_runs_total counter\n"));
    assert_true(get(e, "clariq_alert_runs_total{state=\"triggered\"}") == 3);
    assert_true(get(e, "clariq_alert_runs_total{state=\"ok\"}") == 5);
    assert_true(isnan(get(e, "clariq_alert_runs_total{state=\"error\"}")));
    expo_free(e);
    cq_http_metrics_free(m);
}

static void test_pool_gauges(void **state)
{
    struct cq_http_metrics *m = cq_http_metrics_new();
    struct cq_conf conf;
    struct cq_conn_conf cc[2];
    struct cq_http_state st;
    struct cq_err err = {0};
    struct cq_pool *p;
    struct cq_conn *c = NULL;
    struct expo *e;

    (void)state;
    memset(&conf, 0, sizeof(conf));
    memset(cc, 0, sizeof(cc));
    memset(&st, 0, sizeof(st));
    cc[0].name = "lite";
    cc[0].driver = "sqlite";
    cc[0].path = ":memory:";
    cc[0].pool.max = 2;
    cc[1].name = "we\"ird";
    cc[1].driver = "sqlite";
    cc[1].path = ":memory:";
    cc[1].pool.max = 1;
    conf.conns = cc;
    conf.n_conns = 2;
    st.conf = &conf;
    st.pools.conf = &conf;
    pthread_mutex_init(&st.pools.mu, NULL);
    p = cq_http_pool(&st, "lite", &err);
    assert_non_null(p);
    assert_int_equal(cq_drv_pool_get(p, &c, &err), CQ_OK);
    e = parse(m, &st);
    assert_true(get(e, "clariq_pool_in_use{connection=\"lite\"}") == 1);
    assert_true(get(e, "clariq_pool_open{connection=\"lite\"}") == 1);
    assert_true(get(e, "clariq_pool_idle{connection=\"lite\"}") == 0);
    assert_true(get(e, "clariq_pool_waiting{connection=\"lite\"}") == 0);
    /* a connection whose pool was never used reads as zeros */
    assert_true(get(e, "clariq_pool_open{connection=\"we\\\"ird\"}") == 0);
    expo_free(e);
    cq_drv_pool_put(p, c);
    e = parse(m, &st);
    assert_true(get(e, "clariq_pool_in_use{connection=\"lite\"}") == 0);
    assert_true(get(e, "clariq_pool_idle{connection=\"lite\"}") == 1);
    expo_free(e);
    cq_drv_pool_free(st.pools.pools[0]);
    cq_free(st.pools.pools);
    pthread_mutex_destroy(&st.pools.mu);
    cq_http_metrics_free(m);
}

static void *hammer(void *arg)
{
    struct cq_http_metrics *m = arg;
    char route[16];

    for (int i = 0; i < 20000; i++) {
        snprintf(route, sizeof(route), "/r%d", i % 3);
        cq_http_metrics_request(m, route, 200, 0.002);
        cq_http_metrics_error(m, "QUERY_FAILED");
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct cq_http_metrics *m = cq_http_metrics_new();
    pthread_t t[4];
    struct expo *e;
    double total = 0;
    char s[128];

    (void)state;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, hammer, m), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
    }
    e = parse(m, NULL);
    for (int r = 0; r < 3; r++) {
        snprintf(s, sizeof(s), "clariq_http_requests_total{route=\"/r%d\",status=\"200\"}", r);
        total += get(e, s);
        snprintf(s, sizeof(s), "clariq_http_request_duration_seconds_count{route=\"/r%d\"}", r);
        assert_true(get(e, s) > 0);
    }
    assert_true(total == 80000);
    assert_true(get(e, "clariq_errors_total{code=\"QUERY_FAILED\"}") == 80000);
    expo_free(e);
    cq_http_metrics_free(m);
}

static void test_series_cap(void **state)
{
    struct cq_http_metrics *m = cq_http_metrics_new();
    struct expo *e;
    char code[32];
    size_t n_err = 0;

    (void)state;
    for (int i = 0; i < 300; i++) {
        snprintf(code, sizeof(code), "CODE_%d", i);
        cq_http_metrics_error(m, code);
    }
    e = parse(m, NULL);
    for (size_t i = 0; i < e->n; i++) {
        n_err += strncmp(e->v[i].series, "clariq_errors_total{", 20) == 0;
    }
    assert_int_equal(n_err, 257); /* 256 distinct codes, then one "other" */
    assert_true(get(e, "clariq_errors_total{code=\"CODE_255\"}") == 1);
    assert_true(isnan(get(e, "clariq_errors_total{code=\"CODE_256\"}")));
    assert_true(get(e, "clariq_errors_total{code=\"other\"}") == 44);
    expo_free(e);
    cq_http_metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_and_histograms),
        cmocka_unit_test(test_escaping_and_alerts),
        cmocka_unit_test(test_pool_gauges),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_series_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
