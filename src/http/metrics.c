/*
 * metrics.c - the server's counters and histograms, rendered in the Prometheus text
 * exposition format (version 0.0.4) by GET /metrics.
 *
 * One mutex guards all series: an update is a short lookup in a small table (routes,
 * statuses, connections and error codes are few) and a few additions, far below the cost
 * of the request it counts. Label values come from route patterns, configured connection
 * names and fixed error codes, never from raw request text; still, each family holds at
 * most MAX_SERIES series and folds the rest into label value "other", so memory stays
 * bounded whatever the callers pass.
 *
 * The metrics object outlives reloads (the server owns it); pool gauges are read from the
 * state snapshot given to the render call.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/time.h"
#include "http/internal.h"

#define MAX_SERIES 256
#define N_BOUNDS 13

/* Upper bounds of the latency buckets, seconds (+Inf is implicit). */
static const double bounds[N_BOUNDS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,    1.0,   2.5,  5.0,  10.0};

struct series {
    char *l1;                        /* first label value (owned) */
    char *l2;                        /* second label value (owned), or NULL */
    uint64_t count;                  /* counter value; histogram: observations */
    double sum;                      /* histogram: sum of observations, seconds */
    uint64_t buckets[N_BOUNDS + 1];  /* histogram: per bucket, not cumulative; last = +Inf */
};

struct family {
    struct series *v;
    size_t n, cap;
};

struct cq_http_metrics {
    pthread_mutex_t mu;
    int64_t start_ms;                /* monotonic, at creation: uptime */
    struct family requests;          /* route, status */
    struct family latency;           /* route */
    struct family queries;           /* connection */
    struct family errors;            /* code */
    struct family alerts;            /* state */
};

struct cq_http_metrics *cq_http_metrics_new(void)
{
    struct cq_http_metrics *m = cq_calloc(1, sizeof(*m));

    if (m == NULL) {
        return NULL;
    }
    pthread_mutex_init(&m->mu, NULL);
    m->start_ms = cq_now_ms();
    return m;
}

static void family_cleanup(struct family *f)
{
    for (size_t i = 0; i < f->n; i++) {
        cq_free(f->v[i].l1);
        cq_free(f->v[i].l2);
    }
    cq_free(f->v);
}

void cq_http_metrics_free(struct cq_http_metrics *m)
{
    if (m == NULL) {
        return;
    }
    family_cleanup(&m->requests);
    family_cleanup(&m->latency);
    family_cleanup(&m->queries);
    family_cleanup(&m->errors);
    family_cleanup(&m->alerts);
    pthread_mutex_destroy(&m->mu);
    cq_free(m);
}

static bool same(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    return strcmp(a, b) == 0;
}

/* The series for (l1, l2), added when new; NULL only when out of memory. Caller holds mu. */
static struct series *series_get(struct family *f, const char *l1, const char *l2)
{
    struct series *s;

    for (size_t i = 0; i < f->n; i++) {
        if (same(f->v[i].l1, l1) && same(f->v[i].l2, l2)) {
            return &f->v[i];
        }
    }
    if (f->n >= MAX_SERIES) {
        bool other = strcmp(l1, "other") == 0 && (l2 == NULL || strcmp(l2, "other") == 0);
        if (!other) {
            return series_get(f, "other", l2 != NULL ? "other" : NULL);
        }
        if (f->n > MAX_SERIES) {
            return NULL; /* not reached: "other" is the one series allowed past the cap */
        }
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        struct series *v = cq_realloc(f->v, cap * sizeof(*v));
        if (v == NULL) {
            return NULL;
        }
        f->v = v;
        f->cap = cap;
    }
    s = &f->v[f->n];
    memset(s, 0, sizeof(*s));
    s->l1 = cq_strdup(l1);
    s->l2 = l2 != NULL ? cq_strdup(l2) : NULL;
    if (s->l1 == NULL || (l2 != NULL && s->l2 == NULL)) {
        cq_free(s->l1);
        cq_free(s->l2);
        return NULL;
    }
    f->n++;
    return s;
}

static void observe(struct series *s, double seconds)
{
    size_t b = 0;

    if (!(seconds >= 0.0)) {
        seconds = 0.0; /* NaN or a clock step backwards */
    }
    while (b < N_BOUNDS && seconds > bounds[b]) {
        b++;
    }
    s->buckets[b]++;
    s->count++;
    s->sum += seconds;
}

static const char *label_or(const char *s, const char *dflt)
{
    return s != NULL && *s != '\0' ? s : dflt;
}

void cq_http_metrics_request(struct cq_http_metrics *m, const char *route, int status,
                             double seconds)
{
    char code[16];
    struct series *s;

    if (m == NULL) {
        return;
    }
    route = label_or(route, "unmatched");
    snprintf(code, sizeof(code), "%d", status);
    pthread_mutex_lock(&m->mu);
    s = series_get(&m->requests, route, code);
    if (s != NULL) {
        s->count++;
    }
    s = series_get(&m->latency, route, NULL);
    if (s != NULL) {
        observe(s, seconds);
    }
    pthread_mutex_unlock(&m->mu);
}

void cq_http_metrics_query(struct cq_http_metrics *m, const char *connection, double seconds)
{
    struct series *s;

    if (m == NULL) {
        return;
    }
    pthread_mutex_lock(&m->mu);
    s = series_get(&m->queries, label_or(connection, "unknown"), NULL);
    if (s != NULL) {
        observe(s, seconds);
    }
    pthread_mutex_unlock(&m->mu);
}

static void count_one(struct cq_http_metrics *m, struct family *f, const char *label, long n)
{
    struct series *s;

    if (m == NULL || n <= 0) {
        return;
    }
    pthread_mutex_lock(&m->mu);
    s = series_get(f, label, NULL);
    if (s != NULL) {
        s->count += (uint64_t)n;
    }
    pthread_mutex_unlock(&m->mu);
}

void cq_http_metrics_error(struct cq_http_metrics *m, const char *code)
{
    if (m != NULL) {
        count_one(m, &m->errors, label_or(code, "unknown"), 1);
    }
}

void cq_http_metrics_alerts(struct cq_http_metrics *m, const char *state, long n)
{
    if (m != NULL) {
        count_one(m, &m->alerts, label_or(state, "unknown"), n);
    }
}

/* ---- rendering ------------------------------------------------------------------------------ */

/* A label value as the exposition format quotes it: \ " and newline escaped. */
static void put_label(struct cq_buf *out, const char *name, const char *value)
{
    cq_buf_puts(out, name);
    cq_buf_puts(out, "=\"");
    for (const char *p = value; *p != '\0'; p++) {
        if (*p == '\\') {
            cq_buf_puts(out, "\\\\");
        } else if (*p == '"') {
            cq_buf_puts(out, "\\\"");
        } else if (*p == '\n') {
            cq_buf_puts(out, "\\n");
        } else {
            cq_buf_putc(out, *p);
        }
    }
    cq_buf_putc(out, '"');
}

static void header(struct cq_buf *out, const char *name, const char *type, const char *help)
{
    cq_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_counters(struct cq_buf *out, const struct family *f, const char *name,
                            const char *l1, const char *l2)
{
    for (size_t i = 0; i < f->n; i++) {
        cq_buf_printf(out, "%s{", name);
        put_label(out, l1, f->v[i].l1);
        if (l2 != NULL && f->v[i].l2 != NULL) {
            cq_buf_putc(out, ',');
            put_label(out, l2, f->v[i].l2);
        }
        cq_buf_printf(out, "} %" PRIu64 "\n", f->v[i].count);
    }
}

static void render_histograms(struct cq_buf *out, const struct family *f, const char *name,
                              const char *label)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct series *s = &f->v[i];
        uint64_t cum = 0;

        for (size_t b = 0; b <= N_BOUNDS; b++) {
            cum += s->buckets[b];
            cq_buf_printf(out, "%s_bucket{", name);
            put_label(out, label, s->l1);
            if (b < N_BOUNDS) {
                cq_buf_printf(out, ",le=\"%g\"} %" PRIu64 "\n", bounds[b], cum);
            } else {
                cq_buf_printf(out, ",le=\"+Inf\"} %" PRIu64 "\n", cum);
            }
        }
        cq_buf_printf(out, "%s_sum{", name);
        put_label(out, label, s->l1);
        cq_buf_printf(out, "} %.9g\n%s_count{", s->sum, name);
        put_label(out, label, s->l1);
        cq_buf_printf(out, "} %" PRIu64 "\n", s->count);
    }
}

static void render_pools(struct cq_buf *out, struct cq_http_state *st)
{
    static const char *const names[4] = {"clariq_pool_in_use", "clariq_pool_idle",
                                         "clariq_pool_waiting", "clariq_pool_open"};
    static const char *const helps[4] = {
        "Connections checked out of the pool.", "Open connections waiting in the pool.",
        "Callers queued for a pool slot.", "Connections open (idle and in use)."};
    size_t n = st->conf->n_conns;
    struct cq_pool_stats *stats = cq_calloc(n ? n : 1, sizeof(*stats));

    if (stats == NULL) {
        return;
    }
    /* Every configured connection is listed; a pool not yet created reads as zeros. */
    pthread_mutex_lock(&st->pools.mu);
    for (size_t i = 0; i < n && st->pools.pools != NULL; i++) {
        if (st->pools.pools[i] != NULL) {
            cq_drv_pool_stats(st->pools.pools[i], &stats[i]);
        }
    }
    pthread_mutex_unlock(&st->pools.mu);
    for (int g = 0; g < 4; g++) {
        header(out, names[g], "gauge", helps[g]);
        for (size_t i = 0; i < n; i++) {
            int v = g == 0   ? stats[i].in_use
                    : g == 1 ? stats[i].idle
                    : g == 2 ? stats[i].waiting
                             : stats[i].open;
            cq_buf_printf(out, "%s{", names[g]);
            put_label(out, "connection", st->conf->conns[i].name);
            cq_buf_printf(out, "} %d\n", v);
        }
    }
    cq_free(stats);
}

/* Resident set size in bytes from /proc/self/statm (second field, in pages); -1 if unknown. */
static long long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long size = 0, resident = -1;
    long page = sysconf(_SC_PAGESIZE);

    if (f == NULL) {
        return -1;
    }
    if (fscanf(f, "%lld %lld", &size, &resident) != 2) {
        resident = -1;
    }
    fclose(f);
    return resident < 0 || page <= 0 ? -1 : resident * page;
}

void cq_http_metrics_render(struct cq_http_metrics *m, struct cq_http_state *st,
                            struct cq_buf *out)
{
    long long rss = rss_bytes();

    pthread_mutex_lock(&m->mu);
    header(out, "clariq_http_requests_total", "counter",
           "HTTP requests answered, by route pattern and status.");
    render_counters(out, &m->requests, "clariq_http_requests_total", "route", "status");
    header(out, "clariq_http_request_duration_seconds", "histogram",
           "Time from the request's arrival to its response, by route pattern.");
    render_histograms(out, &m->latency, "clariq_http_request_duration_seconds", "route");
    header(out, "clariq_query_duration_seconds", "histogram",
           "Duration of the queries executed, by connection.");
    render_histograms(out, &m->queries, "clariq_query_duration_seconds", "connection");
    header(out, "clariq_errors_total", "counter", "Error responses, by error code.");
    render_counters(out, &m->errors, "clariq_errors_total", "code", NULL);
    if (m->alerts.n > 0) {
        header(out, "clariq_alert_runs_total", "counter",
               "Alert evaluations in this process, by resulting state.");
        render_counters(out, &m->alerts, "clariq_alert_runs_total", "state", NULL);
    }
    pthread_mutex_unlock(&m->mu);
    if (st != NULL) {
        render_pools(out, st);
    }
    if (rss >= 0) {
        header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        cq_buf_printf(out, "process_resident_memory_bytes %lld\n", rss);
    }
    header(out, "clariq_uptime_seconds", "gauge", "Seconds since the server started.");
    cq_buf_printf(out, "clariq_uptime_seconds %.3f\n", (double)(cq_now_ms() - m->start_ms) / 1e3);
}
