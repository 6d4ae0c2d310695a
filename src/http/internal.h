/*
 * internal.h - what the files of the http module share; nothing outside src/http includes it.
 *
 * server.c is the libmicrohttpd glue: it reads a request (body capped at server.max_body),
 * stamps a request id, authenticates (auth.c), finds the route (router.c), calls the
 * handler with a struct cq_http_req and turns the struct cq_http_resp it fills into the
 * HTTP response (CORS, X-Request-Id, Retry-After, Content-Length or chunked), then writes
 * the access log line and the metrics (metrics.c).
 *
 * Handlers: h_query.c (the governed API of spec §1: /query, /validate/query,
 * /validate/config, /health), h_sql.c (/sql, /connections, /connections/{name}/test),
 * h_ops.c (/ready, /metrics, /config).
 *
 * State: everything that a reload replaces lives in one refcounted struct cq_http_state; a
 * request takes a reference at its start and keeps that snapshot to its end, so SIGHUP never
 * changes the ground under a running request (and a failed reload keeps the old state).
 */
#ifndef CQ_HTTP_INTERNAL_H
#define CQ_HTTP_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>

#include "base/arena.h"
#include "base/buf.h"
#include "conf/conf.h"
#include "drv/pool.h"
#include "dsl/dsl.h"

struct cq_http_server;
struct cq_http_keys;     /* auth.c */
struct cq_http_metrics;  /* metrics.c */

/* One pool per configured connection, created on first use. */
struct cq_http_pools {
    pthread_mutex_t mu;
    const struct cq_conf *conf;   /* borrowed from the state */
    struct cq_pool **pools;       /* parallel to conf->conns; NULL until first use */
};

struct cq_http_state {
    atomic_int refs;
    struct cq_conf *conf;             /* owned */
    struct cq_dsl_catalog *catalog;   /* one reference; NULL when there is no catalog */
    struct cq_http_keys *keys;        /* owned */
    struct cq_http_pools pools;       /* owned */
};

struct cq_http_state *cq_http_state_ref(struct cq_http_state *st);
void cq_http_state_unref(struct cq_http_state *st); /* frees at zero; NULL is a no-op */
/* The pool for a connection name, created on first use; NULL with err (CQ_ENOTFOUND). */
struct cq_pool *cq_http_pool(struct cq_http_state *st, const char *conn, struct cq_err *err);
/* The pool when it is open already, else NULL (never blocks: for the event loops). */
struct cq_pool *cq_http_pool_peek(struct cq_http_state *st, const char *conn);

struct cq_http_req {
    struct cq_http_server *srv;
    struct cq_http_state *st;         /* the snapshot for this request (referenced) */
    struct cq_http_metrics *metrics;  /* the server's; lives across reloads */
    const char *method;               /* "GET" ... */
    const char *path;                 /* without the query string */
    const char *query;                /* after '?', or "" */
    const char *body;                 /* NUL-terminated copy; "" when none */
    size_t body_len;
    char request_id[24];
    const struct cq_api_key_conf *key; /* the caller's key; NULL when server.auth is none */
    struct cq_arena arena;            /* freed when the response is done */
    void *conn;                       /* struct MHD_Connection * (server.c only) */
    volatile bool *canceled;          /* set when the client went away (check while working) */
    int64_t start_ms;                 /* monotonic */
    const char *route;                /* route pattern for metrics and logs ("/query") */
    const char *path_param;           /* the {name} of a pattern such as
                                         "/connections/{name}/test" (URL-decoded), or NULL */
};

/* A response. Fill status and body (JSON by default); or set `producer` for a streamed
 * body sent with chunked encoding: it is called on an event loop (so it must not block)
 * until it returns 0 (end) or -1 (abort the connection), and may answer
 * CQ_HTTP_PRODUCER_WAIT; producer_free is called exactly once. */
struct cq_http_resp {
    int status;
    struct cq_buf body;               /* initialised by the server, capped */
    const char *content_type;         /* NULL = "application/json" */
    int retry_after_s;                /* > 0: a Retry-After header */
    const char *allow;                /* an Allow header, or NULL */
    ssize_t (*producer)(void *ctx, uint64_t pos, char *buf, size_t max);
    void (*producer_free)(void *ctx);
    void *producer_ctx;
};

/* A producer's answer when it has no bytes yet: it called cq_http_req_pause first and
 * will have cq_http_req_unpause called once it has some (or is done). */
#define CQ_HTTP_PRODUCER_WAIT (-2)

typedef void (*cq_http_handler)(struct cq_http_req *req, struct cq_http_resp *resp);

enum cq_http_start {
    CQ_HTTP_DONE,      /* resp is filled */
    CQ_HTTP_PENDING,   /* statements run on the loop (cq_http_mux_acquire); the handler
                          calls cq_http_req_done when they end */
    CQ_HTTP_BLOCKING,  /* nothing was done: run the route's fn on a worker thread */
};

/* Called on an event loop: must never block. */
typedef enum cq_http_start (*cq_http_starter)(struct cq_http_req *req,
                                              struct cq_http_resp *resp);

/* router.c: one route of the table. How it runs (server.c): with a start function, that
 * first, on the event loop; a route marked on_loop runs fn on the event loop (it never
 * blocks); any other fn runs on a worker thread. */
struct cq_http_route {
    const char *method;           /* "GET", "POST" */
    const char *pattern;          /* "/query", "/connections/{name}/test" */
    cq_http_handler fn;
    bool no_auth;                 /* probes (/health, /ready) answer without an API key */
    bool on_loop;                 /* fn never blocks */
    cq_http_starter start;        /* or NULL */
};

/* The route for method + path (path without the query string; exact match, no trailing
 * slash normalisation). A {name} segment's URL-decoded value goes to *param (in a).
 * NULL when no route matches (the caller answers the spec's 404). */
const struct cq_http_route *cq_http_route_find(const char *method, const char *path,
                                               struct cq_arena *a, const char **param);
/* The route table itself (NULL-fn terminated): tests and docs enumerate it. */
extern const struct cq_http_route cq_http_routes[];

/* resp.c: the one table mapping an enum cq_rc to an HTTP status. */
int cq_http_status_for_rc(int rc);

/* server.c: the database connection a handler is running a statement on (NULL when done).
 * While it is registered, a client disconnect (or a shutdown past its timeout) sets
 * *req->canceled and calls cq_drv_cancel on it from the server's watchdog thread; after
 * the call with NULL returns, the connection is no longer touched (safe to release). */
void cq_http_req_running(struct cq_http_req *req, struct cq_conn *c);
/* The same for a statement queued on a shared connection: only op is canceled. */
struct cq_drv_op;
void cq_http_req_running_op(struct cq_http_req *req, struct cq_conn *c, struct cq_drv_op *op);
/* A PENDING start has ended (any thread): DONE, resp filled; or BLOCKING: the route's fn
 * runs on a worker from scratch (resp untouched so far). */
void cq_http_req_done(struct cq_http_req *req, enum cq_http_start how);
/* The event loop serving the request. */
struct cq_http_loop *cq_http_req_loop(const struct cq_http_req *req);

/* For producers (CQ_HTTP_PRODUCER_WAIT): pause sending, from inside the producer call;
 * unpause from any thread, once, after the pause. Call both under the producer's own lock
 * so an unpause can never come before its pause. */
void cq_http_req_pause(struct cq_http_req *req);
void cq_http_req_unpause(struct cq_http_req *req);

/* A request header (case-insensitive name); NULL when absent. Borrowed for the request. */
const char *cq_http_req_header(const struct cq_http_req *req, const char *name);
/* {"error":code,"message":msg} with status (the server-level body of spec §1). */
void cq_http_resp_error(struct cq_http_resp *resp, int status, const char *code,
                        const char *msg);
/* A dsl error body with its status (spec §1.3). */
void cq_http_resp_dsl_error(struct cq_http_resp *resp, const struct cq_dsl_error *e);

/* ---- loop.c: event loops and worker threads ------------------------------------------------ */

struct MHD_Daemon;

/* A socket an event loop watches for the readable state; ready runs on the loop. */
struct cq_http_watch {
    int fd;
    void (*ready)(struct cq_http_watch *w); /* also called every WATCH_TICK_MS */
    struct cq_http_watch *prev, *next;      /* the loop's list */
};

struct cq_http_loop {
    struct MHD_Daemon *d;          /* external epoll mode */
    struct cq_http_server *srv;    /* for the daemon callbacks */
    int ep;                        /* epoll: the daemon's epoll fd, wake, watches */
    int wake;                      /* eventfd */
    pthread_t th;
    bool running;
    atomic_bool stop;
    atomic_bool quiesce;           /* asks the loop to stop accepting */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool quiesced;
    int listen_fd;                 /* what MHD_quiesce_daemon gave back */
    struct cq_http_watch *watches; /* on the loop's thread only */
    int64_t tick_ms;               /* when the watches were last stepped by the clock */
    struct cq_http_mux_conn *mux;  /* connections with statements of this loop (mux.c) */
    bool kick;                     /* some of them are to be stepped (cq_http_mux_kicks) */
    atomic_bool cancel_req;        /* the watchdog asks for statement cancels */
    void (*cancel_ops)(struct cq_http_loop *l); /* ... which this does, on the loop */
};

int cq_http_loop_init(struct cq_http_loop *l, struct MHD_Daemon *d, struct cq_err *err);
int cq_http_loop_start(struct cq_http_loop *l, struct cq_err *err);
/* Makes the loop stop accepting; answers the listening socket MHD gave up (or -1). */
int cq_http_loop_quiesce(struct cq_http_loop *l);
void cq_http_loop_stop(struct cq_http_loop *l);
/* From another thread: run the loop now (after MHD_resume_connection, which in external
 * epoll mode does not wake it by itself). */
void cq_http_loop_wake(struct cq_http_loop *l);
void cq_http_loop_cleanup(struct cq_http_loop *l);
/* On the loop's own thread only. */
int cq_http_loop_watch(struct cq_http_loop *l, struct cq_http_watch *w);
void cq_http_loop_unwatch(struct cq_http_loop *l, struct cq_http_watch *w);
/* The loop whose thread this is, or NULL. */
struct cq_http_loop *cq_http_loop_current(void);

/* ---- mux.c: statements multiplexed onto pooled connections (on the loop's thread) -------- */

struct cq_http_mux_conn;
/* A connection of pool p to queue one statement on (cq_drv_exec_start), shared with other
 * requests of the loop (pool.pipeline), or CQ_EAGAIN when none is at hand without waiting
 * (then run on a worker). Release it once, when the statement is done or was not started. */
int cq_http_mux_acquire(struct cq_http_loop *l, struct cq_http_state *st, struct cq_pool *p,
                        struct cq_conn **out);
void cq_http_mux_release(struct cq_http_loop *l, struct cq_conn *c);
/* Stops (true) or resumes reading c: the consumer of a streamed result is full. */
void cq_http_mux_pause(struct cq_http_loop *l, struct cq_conn *c, bool pause);
/* Steps the connections cq_http_mux_pause resumed (the loop calls it each turn). */
void cq_http_mux_kicks(struct cq_http_loop *l);
/* At stop: every connection back to its pool. */
void cq_http_mux_cleanup(struct cq_http_loop *l);

struct cq_http_job {
    void (*run)(struct cq_http_job *j);
    struct cq_http_job *next;
};

struct cq_http_workers {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct cq_http_job *head, *tail;
    int n, idle, queued;           /* threads; of them waiting for a job; jobs waiting */
    bool stop;
    pthread_t th[256];             /* WORKERS_MAX */
};

void cq_http_workers_init(struct cq_http_workers *ws);
/* Queues j; a worker runs j->run(j). CQ_ECANCELED once stopping. */
int cq_http_workers_submit(struct cq_http_workers *ws, struct cq_http_job *j);
/* Runs what is queued, then joins every worker. */
void cq_http_workers_stop(struct cq_http_workers *ws);
void cq_http_workers_cleanup(struct cq_http_workers *ws);

/* ---- handlers (the route table in router.c lists them) ----------------------------------- */

/* h_query.c: spec §1.2 */
void cq_http_h_query(struct cq_http_req *req, struct cq_http_resp *resp);           /* POST */
enum cq_http_start cq_http_s_query(struct cq_http_req *req, struct cq_http_resp *resp);
void cq_http_h_validate_query(struct cq_http_req *req, struct cq_http_resp *resp);  /* POST */
void cq_http_h_validate_config(struct cq_http_req *req, struct cq_http_resp *resp); /* POST */
void cq_http_h_health(struct cq_http_req *req, struct cq_http_resp *resp);          /* GET */
enum cq_http_start cq_http_s_health(struct cq_http_req *req, struct cq_http_resp *resp);
/* h_sql.c */
void cq_http_h_sql(struct cq_http_req *req, struct cq_http_resp *resp);             /* POST /sql */
enum cq_http_start cq_http_s_sql(struct cq_http_req *req, struct cq_http_resp *resp);
void cq_http_h_connections(struct cq_http_req *req, struct cq_http_resp *resp);     /* GET */
void cq_http_h_connection_test(struct cq_http_req *req, struct cq_http_resp *resp); /* POST
                                                                 /connections/{name}/test */
/* h_ops.c */
void cq_http_h_ready(struct cq_http_req *req, struct cq_http_resp *resp);           /* GET */
void cq_http_h_metrics(struct cq_http_req *req, struct cq_http_resp *resp);         /* GET */
void cq_http_h_config(struct cq_http_req *req, struct cq_http_resp *resp);          /* GET */

/* ---- auth.c: API keys and rate limits (server.api_keys, spec §0.9) ----------------------- */

enum cq_http_auth_rc {
    CQ_HTTP_AUTH_OK = 0,
    CQ_HTTP_AUTH_MISSING,   /* no Authorization: Bearer / X-API-Key */
    CQ_HTTP_AUTH_UNKNOWN,   /* no key matches */
    CQ_HTTP_AUTH_REVOKED,   /* the key matches a revoked entry */
    CQ_HTTP_AUTH_LIMITED,   /* over the key's rate: *retry_after_s set */
};

/* Builds the key table (hashes are compared in constant time). NULL with err. */
struct cq_http_keys *cq_http_keys_new(const struct cq_server_conf *sc, struct cq_err *err);
void cq_http_keys_free(struct cq_http_keys *k);
/* Finds the caller's key from the two header values (either may be NULL) and takes one
 * token from its bucket. */
enum cq_http_auth_rc cq_http_auth(struct cq_http_keys *k, const char *authorization,
                                  const char *x_api_key, const struct cq_api_key_conf **key,
                                  int *retry_after_s);
/* Narrows a request context to what the key allows (spec §0.9): a scope the key lists
 * is intersected (a role outside it is refused with a ValidationError entry FORBIDDEN_ROLE),
 * a scope absent from the request gets the key's roles, pinned context values replace the
 * caller's. With key NULL (auth none) the context is left as sent. CQ_OK or CQ_EINVAL. */
int cq_http_auth_narrow(const struct cq_api_key_conf *key, struct cq_dsl_context *ctx,
                        struct cq_arena *a, struct cq_dsl_error *e);
/* May the key run raw SQL on this connection? (true for key NULL = auth none) */
bool cq_http_key_may_use(const struct cq_api_key_conf *key, const char *connection);

/* ---- metrics.c: Prometheus text format ----------------------------------------------- */

struct cq_http_metrics *cq_http_metrics_new(void);
void cq_http_metrics_free(struct cq_http_metrics *m);
/* One finished request: route pattern, status, duration. Thread-safe. */
void cq_http_metrics_request(struct cq_http_metrics *m, const char *route, int status,
                             double seconds);
/* One executed query on a connection (governed or raw). */
void cq_http_metrics_query(struct cq_http_metrics *m, const char *connection, double seconds);
/* One error answered, by its code ("VALIDATION_FAILED", "QUERY_FAILED", "RATE_LIMITED"...). */
void cq_http_metrics_error(struct cq_http_metrics *m, const char *code);
/* Alert runs finished in this process, by resulting state ("ok", "triggered", "error"...):
 * adds n to clariq_alert_runs_total{state}. The alert scheduler knows nothing of http, so
 * whoever runs both (cmd_serve) forwards its run results here; the family is rendered once
 * a run was counted. */
void cq_http_metrics_alerts(struct cq_http_metrics *m, const char *state, long n);
/* Appends the whole exposition: the counters and histograms above, pool gauges for every
 * pool of st (NULL: none), process RSS and uptime, and alert runs by state once
 * cq_http_metrics_alerts counted one. */
void cq_http_metrics_render(struct cq_http_metrics *m, struct cq_http_state *st,
                            struct cq_buf *out);

#endif
