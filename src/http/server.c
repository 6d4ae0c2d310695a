/*
 * server.c - the libmicrohttpd glue of `clariq serve`.
 *
 * Thread model: server.threads event loops (loop.c), each running its own libmicrohttpd
 * daemon in external epoll mode on one shared listening socket, plus worker threads for
 * work that blocks. A route runs in one of three ways (router.c):
 *   - its start function, on the loop: parse, compile, and send the statement without
 *     blocking (cq_drv_exec_start); the connection is suspended and the loop steps the
 *     statement when its socket is readable, then resumes the connection with the answer.
 *     This is the fast path of POST /query and POST /sql on PostgreSQL;
 *   - on the loop directly, for handlers that never block (/metrics, /validate/...);
 *   - on a worker thread (SQLite, pings, connecting, a pool that must wait...): the
 *     connection is suspended meanwhile and resumed with the answer.
 * So slow statements never stall a loop, and an idle connection costs a few KB.
 *
 * A request: the URI log callback allocates its context (struct reqctx) with the raw URI
 * (so the path is the client's text, cut at '?', as the reference routes); the first
 * access-handler call stamps the request id and takes a reference on the state; body
 * chunks are appended up to server.max_body (past it: 413); the last call (no more data)
 * authenticates, routes and runs or starts the handler; the response is queued on that
 * call or, after a suspension, on the call that follows the resume - never on the first
 * call (the queueing trap of SERVICES.md: MHD would then close the connection). The
 * completion callback writes the access log line and the metrics and drops the context
 * (a streamed body holds a second reference until its producer is freed).
 *
 * Client disconnects: MHD does not watch a suspended connection, so a watchdog thread
 * polls the sockets of running handlers (POLLRDHUP) every 100 ms; on a hang-up it sets
 * *req->canceled and cancels the statement the handler registered with
 * cq_http_req_running. Shutdown uses the same path for requests still running when
 * server.shutdown_timeout expires.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "base/json.h"
#include "base/list.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "http/http.h"
#include "http/internal.h"

#define RESP_MAX_BYTES ((size_t)256 << 20) /* a JSON response is built in memory: cap */
#define STREAM_BLOCK 32768                 /* bytes asked of a producer at a time */
#define CONN_MEMORY ((size_t)16 << 10) /* per connection: headers and MHD buffers */
#define WATCH_MS 100                       /* disconnect watchdog period */
#define DEFAULT_LISTEN "127.0.0.1:8080"

enum phase {
    PH_READ = 0,                   /* headers and body arriving */
    PH_RUNNING,                    /* suspended: a worker or an async statement works */
    PH_READY,                      /* resumed: rc->resp is the answer to queue */
};

struct reqctx {
    struct cq_http_req req;        /* first: cq_http_req_running casts back */
    struct cq_http_server *srv;
    struct cq_http_loop *loop;     /* the loop whose daemon has the connection */
    atomic_int refs;               /* MHD's request, plus a streamed body's */
    enum phase phase;
    const struct cq_http_route *route;
    struct cq_http_resp resp;      /* the handler's answer */
    struct cq_http_job job;        /* PH_RUNNING on a worker */
    struct reqctx *prev, *next;    /* in-flight list (srv->mu) */
    char *uri;                     /* raw request target, owned */
    struct cq_buf body;
    struct MHD_Connection *mc;
    int fd;
    bool started;                  /* first access-handler call done */
    bool listed;                   /* in the in-flight list */
    bool too_big;
    bool queued;                   /* a response was queued */
    bool in_handler;               /* the handler is running (watchdog polls fd) */
    bool cancel_sent;
    bool cancel_op;                /* the loop is to cancel running_op (s->mu) */
    volatile bool canceled;
    pthread_mutex_t mu;            /* guards running */
    struct cq_conn *running;       /* borrowed from the handler's pool */
    struct cq_drv_op *running_op;  /* the statement on running, when it is shared */
    int status;                    /* answered, for logs and metrics; 0 = none */
    uint64_t bytes;                /* body bytes sent */
    const char *key_name;          /* borrowed from the state's conf */
    const char *err_code;          /* error code answered by the server itself, or NULL */
};

struct cq_http_server {
    int n_loops;
    struct cq_http_loop *loops;    /* each with its daemon */
    struct cq_http_workers workers;
    int listen_fd;                 /* shared by the daemons; ours to close */
    struct cq_server_conf sc;      /* the start-time server section (defaults applied);
                                      only its numbers and `listen` are used after new */
    char listen[256];              /* sc.listen points here */
    pthread_mutex_t st_mu;
    struct cq_http_state *st;      /* current snapshot; one reference */
    struct cq_http_metrics *metrics;
    char url[128];
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char *cert_pem;
    char *key_pem;
    uint64_t id_salt;
    atomic_uint_fast64_t id_next;
    pthread_mutex_t mu;            /* in-flight list, watchdog */
    pthread_cond_t cv;
    struct reqctx *inflight;
    int n_inflight;
    bool cancel_all;               /* shutdown timeout: cancel every running handler */
    bool draining;                 /* a stop waits for in-flight requests */
    bool watch_stop;
    bool watch_on;
    pthread_t watch;
};

/* ---- configuration ----------------------------------------------------------------------- */

static void server_defaults(struct cq_server_conf *sc)
{
    if (sc->threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN); /* one event loop per core */
        sc->threads = n > 0 ? (int)(n < 64 ? n : 64) : 1;
    }
    if (sc->max_body <= 0) {
        sc->max_body = 1 << 20;
    }
    if (sc->request_timeout_ms <= 0) {
        sc->request_timeout_ms = 30000;
    }
    if (sc->shutdown_timeout_ms <= 0) {
        sc->shutdown_timeout_ms = 30000;
    }
}

/* Parses "host:port" / "[v6]:port" / ":port" into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len,
                        struct cq_err *err)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    const char *h = listen;
    size_t hlen;
    struct addrinfo hints, *res = NULL;
    int gai;

    if (colon == NULL || colon[1] == '\0') {
        return cq_err_set(err, CQ_EINVAL, "server.listen '%s': expected HOST:PORT", listen);
    }
    hlen = (size_t)(colon - listen);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen >= sizeof(host)) {
        return cq_err_set(err, CQ_EINVAL, "server.listen '%s': host too long", listen);
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    gai = getaddrinfo(hlen > 0 ? host : NULL, colon + 1, &hints, &res);
    if (gai != 0 || res == NULL) {
        return cq_err_set(err, CQ_EINVAL, "server.listen '%s': %s", listen, gai_strerror(gai));
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return CQ_OK;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ss;
        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)ss;
        return IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
    }
    return false;
}

static char *read_file(const char *path, const char *what, struct cq_err *err)
{
    FILE *f = fopen(path, "rb");
    struct cq_buf b;
    char chunk[4096];
    size_t n;
    char *text = NULL;

    if (f == NULL) {
        cq_err_set(err, CQ_EINVAL, "server.%s '%s': %s", what, path, strerror(errno));
        return NULL;
    }
    cq_buf_init(&b, 1 << 20);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        cq_buf_append(&b, chunk, n);
    }
    if (ferror(f) || cq_buf_rc(&b) != CQ_OK || b.len == 0) {
        cq_err_set(err, CQ_EINVAL, "server.%s '%s': cannot read it (empty, or over 1 MB)",
                   what, path);
    } else {
        text = cq_buf_take(&b);
    }
    cq_buf_cleanup(&b);
    fclose(f);
    return text;
}

/* ---- state ------------------------------------------------------------------------------- */

/* A snapshot for conf; takes conf only on success. */
static struct cq_http_state *state_new(struct cq_conf *conf, struct cq_err *err)
{
    struct cq_http_state *st = cq_calloc(1, sizeof(*st));
    json_t *cfg_err = NULL;

    if (st == NULL) {
        cq_err_set(err, CQ_ENOMEM, "out of memory");
        return NULL;
    }
    atomic_init(&st->refs, 1);
    pthread_mutex_init(&st->pools.mu, NULL);
    st->pools.conf = conf;
    if (conf->catalog != NULL) {
        st->catalog = cq_dsl_catalog_new(conf->catalog, conf->roles, conf->catalog_conns,
                                         &cfg_err, err);
        if (st->catalog == NULL) {
            if (cfg_err != NULL) {
                const json_t *e0 = json_array_get(json_object_get(cfg_err, "errors"), 0);
                cq_err_set(err, CQ_EINVAL, "catalog%s%s: %s: %s",
                           conf->catalog_file ? " in " : "",
                           conf->catalog_file ? conf->catalog_file : "",
                           json_string_value(json_object_get(cfg_err, "message")),
                           e0 ? json_string_value(json_object_get(e0, "message")) : "");
            }
            goto fail;
        }
    }
    if (conf->server.auth == CQ_AUTH_KEYS) {
        st->keys = cq_http_keys_new(&conf->server, err);
        if (st->keys == NULL) {
            goto fail;
        }
    }
    st->conf = conf;
    return st;
fail:
    json_decref(cfg_err);
    cq_dsl_catalog_unref(st->catalog);
    pthread_mutex_destroy(&st->pools.mu);
    cq_free(st);
    return NULL;
}

static struct cq_http_state *state_get(struct cq_http_server *s)
{
    struct cq_http_state *st;
    pthread_mutex_lock(&s->st_mu);
    st = cq_http_state_ref(s->st);
    pthread_mutex_unlock(&s->st_mu);
    return st;
}

/* ---- request helpers ------------------------------------------------------------------- */

const char *cq_http_req_header(const struct cq_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void cq_http_req_running_op(struct cq_http_req *req, struct cq_conn *c, struct cq_drv_op *op)
{
    struct reqctx *rc = (struct reqctx *)(void *)req;
    pthread_mutex_lock(&rc->mu);
    rc->running = c;
    rc->running_op = op;
    pthread_mutex_unlock(&rc->mu);
}

void cq_http_req_running(struct cq_http_req *req, struct cq_conn *c)
{
    cq_http_req_running_op(req, c, NULL);
}

struct cq_http_loop *cq_http_req_loop(const struct cq_http_req *req)
{
    return ((const struct reqctx *)(const void *)req)->loop;
}

static void set_in_handler(struct reqctx *rc, bool on);

/* While paused, MHD does not watch the client: the watchdog does. */
void cq_http_req_pause(struct cq_http_req *req)
{
    struct reqctx *rc = (struct reqctx *)(void *)req;
    set_in_handler(rc, true);
    MHD_suspend_connection(rc->mc);
}

void cq_http_req_unpause(struct cq_http_req *req)
{
    struct reqctx *rc = (struct reqctx *)(void *)req;
    set_in_handler(rc, false);
    MHD_resume_connection(rc->mc);
    cq_http_loop_wake(rc->loop);
}

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* The client's X-Request-Id when it is short and plain, else a fresh one. */
static void request_id(struct cq_http_server *s, struct reqctx *rc)
{
    const char *given = cq_http_req_header(&rc->req, "X-Request-Id");
    size_t n = given != NULL ? strlen(given) : 0;
    bool ok = n > 0 && n < sizeof(rc->req.request_id);

    for (size_t i = 0; ok && i < n; i++) {
        char c = given[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_' || c == '.' || c == ':';
    }
    if (ok) {
        cq_strlcpy(rc->req.request_id, given, sizeof(rc->req.request_id));
        return;
    }
    uint64_t id = splitmix(s->id_salt + atomic_fetch_add(&s->id_next, 1));
    for (int i = 15; i >= 0; i--, id >>= 4) { /* 16 hex digits, without printf per request */
        rc->req.request_id[i] = "0123456789abcdef"[id & 15];
    }
    rc->req.request_id[16] = '\0';
}

/* The CORS origin to allow for this request ("*" or the Origin itself), or NULL. */
static const char *cors_origin(const struct cq_http_req *req)
{
    const struct cq_server_conf *sc = &req->st->conf->server;
    const char *origin = cq_http_req_header(req, "Origin");
    if (origin == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < sc->n_cors_origins; i++) {
        if (strcmp(sc->cors_origins[i], "*") == 0) {
            return "*";
        }
        if (strcmp(sc->cors_origins[i], origin) == 0) {
            return origin;
        }
    }
    return NULL;
}

/* ---- responses ------------------------------------------------------------------------- */

struct stream {
    struct reqctx *rc;
    ssize_t (*producer)(void *ctx, uint64_t pos, char *buf, size_t max);
    void (*producer_free)(void *ctx);
    void *ctx;
};

static void reqctx_unref(struct reqctx *rc);

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *sm = cls;
    ssize_t n = sm->producer(sm->ctx, pos, buf, max);
    if (n > 0) {
        sm->rc->bytes += (uint64_t)n;
        return n;
    }
    if (n == CQ_HTTP_PRODUCER_WAIT) {
        return 0; /* paused: MHD calls again after the unpause */
    }
    return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

/* The producer may still touch its request (cq_http_req_running), so the context lives
 * until here even when the request completed first. */
static void stream_free(void *cls)
{
    struct stream *sm = cls;
    if (sm->producer_free != NULL) {
        sm->producer_free(sm->ctx);
    }
    reqctx_unref(sm->rc);
    cq_free(sm);
}

static void add_headers(struct MHD_Response *r, struct reqctx *rc,
                        const struct cq_http_resp *resp)
{
    const char *origin = rc->req.st != NULL ? cors_origin(&rc->req) : NULL;
    char num[32];

    if (resp->status != 204) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->content_type ? resp->content_type : "application/json");
    }
    MHD_add_response_header(r, "X-Request-Id", rc->req.request_id);
    if (origin != NULL) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
        MHD_add_response_header(r, "Access-Control-Expose-Headers",
                                "X-Request-Id, Retry-After");
        if (strcmp(origin, "*") != 0) {
            MHD_add_response_header(r, "Vary", "Origin");
        }
    }
    if (resp->retry_after_s > 0) {
        snprintf(num, sizeof(num), "%d", resp->retry_after_s);
        MHD_add_response_header(r, "Retry-After", num);
    }
    if (resp->allow != NULL) {
        MHD_add_response_header(r, "Allow", resp->allow);
    }
    if (resp->status == 401) {
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    }
}

/* Queues resp (consumes its body or producer). */
static enum MHD_Result send_resp(struct reqctx *rc, struct cq_http_resp *resp)
{
    struct MHD_Response *r = NULL;
    enum MHD_Result ok;

    if (resp->producer != NULL) {
        struct stream *sm = cq_calloc(1, sizeof(*sm));
        if (sm != NULL) {
            *sm = (struct stream){rc, resp->producer, resp->producer_free, resp->producer_ctx};
            atomic_fetch_add(&rc->refs, 1);
            r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read,
                                                  sm, stream_free);
            if (r == NULL) {
                stream_free(sm);
            }
        } else if (resp->producer_free != NULL) {
            resp->producer_free(resp->producer_ctx);
        }
        resp->producer = NULL;
    } else {
        size_t len = resp->body.len;
        char *p = len > 0 ? cq_buf_take(&resp->body) : NULL;
        r = MHD_create_response_from_buffer_with_free_callback(len, p, cq_free);
        if (r == NULL) {
            cq_free(p);
        }
        rc->bytes = len;
    }
    if (r == NULL) {
        return MHD_NO; /* out of memory: MHD closes the connection */
    }
    add_headers(r, rc, resp);
    rc->status = resp->status;
    rc->queued = true;
    ok = MHD_queue_response(rc->mc, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_error(struct reqctx *rc, int status, const char *code,
                                  const char *msg, int retry_after_s)
{
    struct cq_http_resp resp = {.retry_after_s = retry_after_s};
    enum MHD_Result ok;
    cq_buf_init(&resp.body, 4096);
    cq_http_resp_error(&resp, status, code, msg);
    rc->err_code = code;
    ok = send_resp(rc, &resp);
    cq_buf_cleanup(&resp.body);
    return ok;
}

/* ---- the request path -------------------------------------------------------------------- */

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *mc)
{
    struct cq_http_loop *l = cls;
    struct reqctx *rc = cq_calloc(1, sizeof(*rc));
    if (rc == NULL) {
        return NULL;
    }
    rc->srv = l->srv;
    rc->loop = l;
    atomic_init(&rc->refs, 1);
    rc->mc = mc;
    rc->uri = cq_strdup(uri != NULL ? uri : "/");
    pthread_mutex_init(&rc->mu, NULL);
    cq_arena_init(&rc->req.arena, 8192, 0);
    return rc;
}

static void reqctx_unref(struct reqctx *rc)
{
    if (atomic_fetch_sub(&rc->refs, 1) != 1) {
        return;
    }
    cq_buf_cleanup(&rc->resp.body);
    cq_http_state_unref(rc->req.st);
    cq_arena_free(&rc->req.arena);
    cq_buf_cleanup(&rc->body);
    pthread_mutex_destroy(&rc->mu);
    cq_free(rc->uri);
    cq_free(rc);
}

/* First call: request id, state, clock, in-flight list. */
static void begin(struct reqctx *rc, const char *method)
{
    struct cq_http_server *s = rc->srv;
    const union MHD_ConnectionInfo *ci;
    char *q;

    rc->started = true;
    rc->req.srv = s;
    rc->req.conn = rc->mc;
    rc->req.metrics = s->metrics;
    rc->req.canceled = &rc->canceled;
    rc->req.start_ms = cq_now_ms();
    rc->req.method = cq_arena_strdup(&rc->req.arena, method);
    q = rc->uri != NULL ? strchr(rc->uri, '?') : NULL;
    rc->req.path = rc->uri != NULL ? cq_arena_strndup(&rc->req.arena, rc->uri,
                                                      q ? (size_t)(q - rc->uri)
                                                        : strlen(rc->uri))
                                   : NULL;
    rc->req.query = q != NULL ? q + 1 : "";
    if (rc->req.path == NULL || rc->req.method == NULL) {
        rc->req.path = "/";
        rc->req.method = "GET";
    }
    rc->req.body = "";
    rc->req.route = "unmatched";
    request_id(s, rc);
    rc->req.st = state_get(s);
    cq_buf_init(&rc->body, (size_t)rc->req.st->conf->server.max_body > 0
                               ? (size_t)rc->req.st->conf->server.max_body + 1
                               : (size_t)s->sc.max_body + 1);
    ci = MHD_get_connection_info(rc->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    rc->fd = ci != NULL ? ci->connect_fd : -1;
    pthread_mutex_lock(&s->mu);
    CQ_LIST_PUSH(s->inflight, rc);
    s->n_inflight++;
    rc->listed = true;
    pthread_mutex_unlock(&s->mu);
}

static int64_t max_body(const struct reqctx *rc)
{
    int64_t m = rc->req.st->conf->server.max_body;
    return m > 0 ? m : rc->srv->sc.max_body;
}

static enum MHD_Result too_big(struct reqctx *rc)
{
    char msg[128];
    char size[32];
    cq_format_size(size, sizeof(size), max_body(rc));
    snprintf(msg, sizeof(msg), "Request body is larger than %s (server.max_body)", size);
    rc->too_big = true;
    return send_error(rc, 413, "PAYLOAD_TOO_LARGE", msg, 0);
}

static bool preflight(struct reqctx *rc, struct cq_http_resp *resp, struct MHD_Response **r)
{
    const char *origin, *hdrs;
    if (strcmp(rc->req.method, "OPTIONS") != 0 ||
        cq_http_req_header(&rc->req, "Access-Control-Request-Method") == NULL) {
        return false;
    }
    origin = cors_origin(&rc->req);
    if (origin == NULL) {
        return false;
    }
    *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (*r == NULL) {
        return true;
    }
    resp->status = 204;
    add_headers(*r, rc, resp);
    hdrs = cq_http_req_header(&rc->req, "Access-Control-Request-Headers");
    MHD_add_response_header(*r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    MHD_add_response_header(*r, "Access-Control-Allow-Headers",
                            hdrs ? hdrs : "Authorization, Content-Type, X-API-Key, "
                                          "X-Request-Id");
    MHD_add_response_header(*r, "Access-Control-Max-Age", "600");
    return true;
}

/* Authenticates; false when an error response was queued (*ok holds its result). */
static bool authenticate(struct reqctx *rc, enum MHD_Result *ok)
{
    struct cq_http_state *st = rc->req.st;
    const struct cq_api_key_conf *key = NULL;
    int retry = 0;
    enum cq_http_auth_rc a;
    char msg[160];

    if (st->conf->server.auth == CQ_AUTH_NONE || st->keys == NULL) {
        return true;
    }
    a = cq_http_auth(st->keys, cq_http_req_header(&rc->req, "Authorization"),
                     cq_http_req_header(&rc->req, "X-API-Key"), &key, &retry);
    if (key != NULL) {
        rc->key_name = key->name;
    }
    switch (a) {
    case CQ_HTTP_AUTH_OK:
        rc->req.key = key;
        return true;
    case CQ_HTTP_AUTH_MISSING:
        *ok = send_error(rc, 401, "UNAUTHORIZED", "Missing API key: send 'Authorization: "
                         "Bearer <key>' or 'X-API-Key: <key>'", 0);
        return false;
    case CQ_HTTP_AUTH_REVOKED:
        snprintf(msg, sizeof(msg), "API key '%s' has been revoked",
                 key != NULL ? key->name : "?");
        *ok = send_error(rc, 401, "UNAUTHORIZED", msg, 0);
        return false;
    case CQ_HTTP_AUTH_LIMITED:
        snprintf(msg, sizeof(msg), "Rate limit exceeded for API key '%s'; retry in %d s",
                 key != NULL ? key->name : "?", retry > 0 ? retry : 1);
        *ok = send_error(rc, 429, "RATE_LIMITED", msg, retry > 0 ? retry : 1);
        return false;
    case CQ_HTTP_AUTH_UNKNOWN:
    default:
        *ok = send_error(rc, 401, "UNAUTHORIZED", "Unknown API key", 0);
        return false;
    }
}

static void count_error(struct cq_http_metrics *m, const char *body, size_t len);

/* After a handler: a body the cap cut is an error; errors are counted by code. */
static void handler_done(struct reqctx *rc)
{
    struct cq_http_resp *resp = &rc->resp;
    if (resp->producer == NULL && cq_buf_rc(&resp->body) != CQ_OK) {
        cq_http_resp_error(resp, cq_buf_rc(&resp->body) == CQ_ETOOBIG ? 500 : 503,
                           "InternalError", cq_buf_rc(&resp->body) == CQ_ETOOBIG
                               ? "the response is larger than the server's cap"
                               : "out of memory");
    }
    if (resp->status >= 400 && resp->producer == NULL) {
        count_error(rc->srv->metrics, cq_buf_str(&resp->body), resp->body.len);
    }
}

static void set_in_handler(struct reqctx *rc, bool on)
{
    pthread_mutex_lock(&rc->srv->mu);
    rc->in_handler = on;
    pthread_mutex_unlock(&rc->srv->mu);
}

/* The handler's answer is ready: the loop queues it on the next call (from another
 * thread, the loop must be woken for that). */
static void resume_ready(struct reqctx *rc, bool on_loop)
{
    handler_done(rc);
    set_in_handler(rc, false);
    rc->phase = PH_READY;
    MHD_resume_connection(rc->mc);
    if (!on_loop) {
        cq_http_loop_wake(rc->loop);
    }
}

static void worker_run(struct cq_http_job *j)
{
    struct reqctx *rc = (struct reqctx *)(void *)((char *)j - offsetof(struct reqctx, job));
    rc->route->fn(&rc->req, &rc->resp);
    resume_ready(rc, false);
}

static void to_worker(struct reqctx *rc);

void cq_http_req_done(struct cq_http_req *req, enum cq_http_start how)
{
    struct reqctx *rc = (struct reqctx *)(void *)req;
    if (how == CQ_HTTP_BLOCKING) {
        to_worker(rc); /* e.g. the connection was lost: the blocking path retries */
    } else {
        resume_ready(rc, cq_http_loop_current() == rc->loop);
    }
}

/* Suspends the connection while the handler works elsewhere; the answer comes back
 * through resume_ready (at once when that work cannot start). */
static void run_elsewhere(struct reqctx *rc, bool on_worker)
{
    rc->phase = PH_RUNNING;
    set_in_handler(rc, true);
    MHD_suspend_connection(rc->mc); /* before anything can resume it */
    if (on_worker) {
        to_worker(rc);
    }
}

/* Suspended already: the route's fn on a worker. */
static void to_worker(struct reqctx *rc)
{
    int rc2;
    rc->job.run = worker_run;
    rc2 = cq_http_workers_submit(&rc->srv->workers, &rc->job);
    if (rc2 != CQ_OK) {
        cq_http_resp_error(&rc->resp, 503, "InternalError",
                           rc2 == CQ_ECANCELED ? "the server is shutting down"
                                               : "cannot start a worker thread");
        resume_ready(rc, cq_http_loop_current() == rc->loop);
    }
}

/* Last call: CORS preflight, auth, route, then the handler (see the top of the file). */
static enum MHD_Result dispatch(struct reqctx *rc)
{
    struct cq_http_req *req = &rc->req;
    const struct cq_http_route *route;
    struct cq_http_resp resp = {.status = 200};
    struct MHD_Response *pre = NULL;
    enum MHD_Result ok = MHD_YES;
    char msg[300];

    if (preflight(rc, &resp, &pre)) {
        if (pre == NULL) {
            return MHD_NO;
        }
        rc->status = 204;
        rc->queued = true;
        ok = MHD_queue_response(rc->mc, 204, pre);
        MHD_destroy_response(pre);
        return ok;
    }
    route = cq_http_route_find(req->method, req->path, &req->arena, &req->path_param);
    if (route != NULL) {
        req->route = route->pattern; /* so a 401/429 is counted under its endpoint */
    }
    if ((route == NULL || !route->no_auth) && !authenticate(rc, &ok)) {
        return ok;
    }
    if (route == NULL) {
        snprintf(msg, sizeof(msg), "%s %s not found", req->method, req->path);
        return send_error(rc, 404, "NotFound", msg, 0);
    }
    rc->route = route;
    req->body = cq_buf_str(&rc->body);
    req->body_len = rc->body.len;
    rc->resp.status = 200;
    cq_buf_init(&rc->resp.body, RESP_MAX_BYTES);
    if (route->start != NULL) {
        /* a pending statement ends only when this loop steps it, after this call */
        switch (route->start(req, &rc->resp)) {
        case CQ_HTTP_DONE:
            handler_done(rc);
            return send_resp(rc, &rc->resp);
        case CQ_HTTP_PENDING:
            run_elsewhere(rc, false);
            return MHD_YES;
        case CQ_HTTP_BLOCKING:
            break;
        }
    }
    if (route->on_loop) {
        route->fn(req, &rc->resp);
        handler_done(rc);
        return send_resp(rc, &rc->resp);
    }
    run_elsewhere(rc, true);
    return MHD_YES;
}

static enum MHD_Result ahc(void *cls, struct MHD_Connection *mc, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **con_cls)
{
    struct reqctx *rc = *con_cls;
    (void)version;

    if (rc == NULL) {
        rc = uri_log(cls, url, mc);
        if (rc == NULL) {
            return MHD_NO;
        }
        *con_cls = rc;
    }
    if (!rc->started) {
        const char *cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        const char *cur = cl;
        int64_t n = 0;
        begin(rc, method);
        if (cl != NULL && cq_parse_i64(&cur, &n) == CQ_OK && n > max_body(rc)) {
            return too_big(rc); /* refuse before reading; MHD closes after it */
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!rc->queued) {
            if ((int64_t)(rc->body.len + *upload_data_size) > max_body(rc)) {
                *upload_data_size = 0;
                return too_big(rc);
            }
            cq_buf_append(&rc->body, upload_data, *upload_data_size);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rc->queued || rc->phase == PH_RUNNING) {
        return MHD_YES;
    }
    if (rc->phase == PH_READY) {
        return send_resp(rc, &rc->resp);
    }
    if (cq_buf_rc(&rc->body) != CQ_OK) {
        return send_error(rc, 503, "InternalError", "out of memory reading the body", 0);
    }
    return dispatch(rc);
}

/* ---- completion: access log, metrics ---------------------------------------------------- */

static void access_log(const struct reqctx *rc, int status, double ms)
{
    const struct cq_http_state *st = rc->req.st;
    const char *key = rc->key_name != NULL ? rc->key_name : "-";
    if (st == NULL || !st->conf->server.access_log) {
        return;
    }
    if (st->conf->server.access_log_json) {
        struct cq_buf b;
        char ts[40];
        cq_buf_init(&b, 8192);
        cq_format_iso(cq_wall_ms(), ts, sizeof(ts));
        cq_buf_printf(&b, "{\"ts\":\"%s\",\"type\":\"access\",\"method\":", ts);
        cq_json_put_str(&b, rc->req.method, strlen(rc->req.method));
        cq_buf_puts(&b, ",\"path\":");
        cq_json_put_str(&b, rc->req.path, strlen(rc->req.path));
        cq_buf_printf(&b, ",\"status\":%d,\"duration_ms\":%.3f,\"bytes\":%" PRIu64
                      ",\"request_id\":", status, ms, rc->bytes);
        cq_json_put_str(&b, rc->req.request_id, strlen(rc->req.request_id));
        cq_buf_puts(&b, ",\"key\":");
        if (rc->key_name != NULL) {
            cq_json_put_str(&b, key, strlen(key));
        } else {
            cq_buf_puts(&b, "null");
        }
        cq_buf_puts(&b, "}\n");
        fputs(cq_buf_str(&b), stderr);
        cq_buf_cleanup(&b);
        return;
    }
    CQ_LOG(CQ_LOG_INFO, "http:access", "%s %s %d %.1fms %" PRIu64 "B req=%s key=%s",
           rc->req.method, rc->req.path, status, ms, rc->bytes, rc->req.request_id, key);
}

/* The "code" (library errors) or "error" (server errors) of a JSON error body. */
static void count_error(struct cq_http_metrics *m, const char *body, size_t len)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    const char *code = json_string_value(json_object_get(j, "code"));
    if (code == NULL) {
        code = json_string_value(json_object_get(j, "error"));
    }
    if (code != NULL) {
        cq_http_metrics_error(m, code);
    }
    json_decref(j);
}

static void completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct cq_http_server *s = ((struct cq_http_loop *)cls)->srv;
    struct reqctx *rc = *con_cls;
    (void)mc;

    if (rc == NULL) {
        return;
    }
    *con_cls = NULL;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) {
        rc->canceled = true;
    }
    if (rc->started) {
        int status = rc->status != 0 ? rc->status : 499;
        double ms = (double)(cq_now_ms() - rc->req.start_ms);
        access_log(rc, status, ms);
        cq_http_metrics_request(s->metrics, rc->req.route, status, ms / 1000.0);
        if (rc->err_code != NULL) {
            cq_http_metrics_error(s->metrics, rc->err_code);
        }
    }
    if (rc->listed) {
        pthread_mutex_lock(&s->mu);
        CQ_LIST_REMOVE(s->inflight, rc);
        s->n_inflight--;
        if (s->draining) { /* only a stop waits for this: do not wake the watchdog per request */
            pthread_cond_broadcast(&s->cv);
        }
        pthread_mutex_unlock(&s->mu);
    }
    reqctx_unref(rc);
}

/* ---- the disconnect watchdog -------------------------------------------------------------- */

static void cancel_running(struct reqctx *rc)
{
    struct cq_err err = {0};
    rc->canceled = true;
    pthread_mutex_lock(&rc->mu);
    if (rc->running != NULL && rc->running_op != NULL && !rc->cancel_sent) {
        /* the loop stepping the connection does it: only there can the statement not end
         * (and its driver state be reused) while it is canceled */
        rc->cancel_sent = true;
        rc->cancel_op = true;
        atomic_store(&rc->loop->cancel_req, true);
        cq_http_loop_wake(rc->loop);
    } else if (rc->running != NULL && !rc->cancel_sent) {
        rc->cancel_sent = true;
        if (cq_drv_cancel(rc->running, &err) != CQ_OK) {
            CQ_LOG(CQ_LOG_WARN, "http", "req=%s: cancel: %s", rc->req.request_id, err.msg);
        }
    }
    pthread_mutex_unlock(&rc->mu);
}

static void *watchdog(void *arg)
{
    struct cq_http_server *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->watch_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += WATCH_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        for (struct reqctx *rc = s->inflight; rc != NULL; rc = rc->next) {
            struct pollfd p = {.fd = rc->fd, .events = POLLRDHUP};
            bool gone;
            if (!rc->in_handler || rc->fd < 0) {
                continue;
            }
            gone = s->cancel_all ||
                   (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)));
            if (gone && !rc->cancel_sent) {
                if (!s->cancel_all) {
                    CQ_LOG(CQ_LOG_INFO, "http", "req=%s: client went away; canceling",
                           rc->req.request_id);
                }
                cancel_running(rc);
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* On loop l's thread: the statement cancels the watchdog asked for (cancel_running). */
static void cancel_ops(struct cq_http_loop *l)
{
    struct cq_http_server *s = l->srv;
    pthread_mutex_lock(&s->mu);
    for (struct reqctx *rc = s->inflight; rc != NULL; rc = rc->next) {
        if (rc->loop == l && rc->cancel_op) {
            rc->cancel_op = false;
            pthread_mutex_lock(&rc->mu);
            if (rc->running != NULL && rc->running_op != NULL) {
                cq_drv_exec_cancel(rc->running, rc->running_op);
            }
            pthread_mutex_unlock(&rc->mu);
        }
    }
    pthread_mutex_unlock(&s->mu);
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

static void mhd_log(void *cls, const char *fmt, va_list ap) CQ_PRINTF(2, 0);

/* libmicrohttpd's own messages, at debug level (a client hanging up is not news). */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;
    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
        line[--n] = '\0';
    }
    CQ_LOG(CQ_LOG_DEBUG, "http:mhd", "%s", line);
}

struct cq_http_server *cq_http_server_new(struct cq_conf *conf, struct cq_err *err)
{
    struct cq_http_server *s = cq_calloc(1, sizeof(*s));
    uint64_t salt = 0;

    if (s == NULL) {
        cq_err_set(err, CQ_ENOMEM, "out of memory");
        cq_conf_free(conf);
        return NULL;
    }
    pthread_mutex_init(&s->st_mu, NULL);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->listen_fd = -1;
    cq_http_workers_init(&s->workers);
    s->sc = conf->server;
    server_defaults(&s->sc);
    cq_strlcpy(s->listen, s->sc.listen != NULL && s->sc.listen[0] != '\0' ? s->sc.listen
                                                                         : DEFAULT_LISTEN,
               sizeof(s->listen));
    s->sc.listen = s->listen;
    if (parse_listen(s->sc.listen, &s->addr, &s->addrlen, err) != CQ_OK) {
        goto fail;
    }
    if (s->sc.auth == CQ_AUTH_NONE) {
        if (!is_loopback(&s->addr)) {
            cq_err_set(err, CQ_EINVAL, "server.auth is none but server.listen '%s' is not a "
                       "loopback address: without API keys anyone who can reach it may query "
                       "your databases; listen on 127.0.0.1 or configure server.api_keys",
                       s->sc.listen);
            goto fail;
        }
        CQ_LOG(CQ_LOG_WARN, "http", "server.auth is none: every caller on this machine is "
               "trusted (local development only)");
    }
    if ((s->sc.tls_cert != NULL) != (s->sc.tls_key != NULL)) {
        cq_err_set(err, CQ_EINVAL, "server.tls_cert and server.tls_key go together");
        goto fail;
    }
    if (s->sc.tls_cert != NULL) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            cq_err_set(err, CQ_EUNSUPPORTED, "server TLS: libmicrohttpd was built without it");
            goto fail;
        }
        s->cert_pem = read_file(s->sc.tls_cert, "tls_cert", err);
        s->key_pem = s->cert_pem ? read_file(s->sc.tls_key, "tls_key", err) : NULL;
        if (s->key_pem == NULL) {
            goto fail;
        }
    }
    s->metrics = cq_http_metrics_new();
    s->st = s->metrics != NULL ? state_new(conf, err) : NULL;
    if (s->st == NULL) {
        if (s->metrics == NULL) {
            cq_err_set(err, CQ_ENOMEM, "out of memory");
        }
        goto fail;
    }
    conf = NULL; /* the state owns it */
    if (getrandom(&salt, sizeof(salt), GRND_NONBLOCK) != (ssize_t)sizeof(salt)) {
        salt = (uint64_t)cq_wall_ms() ^ ((uint64_t)getpid() << 32);
    }
    s->id_salt = salt;
    atomic_init(&s->id_next, 0);
    return s;
fail:
    cq_conf_free(conf);
    cq_http_server_free(s);
    return NULL;
}

/* Enough descriptors for thousands of idle clients: the soft limit up to the hard one. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void make_url(struct cq_http_server *s)
{
    struct sockaddr_storage ss = {0};
    socklen_t len = sizeof(ss);
    char host[INET6_ADDRSTRLEN + 2] = "127.0.0.1";
    char port[16] = "0";
    if (getsockname(s->listen_fd, (struct sockaddr *)&ss, &len) == 0) {
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV);
    }
    snprintf(s->url, sizeof(s->url), "%s://%s%s%s:%s", s->cert_pem ? "https" : "http",
             ss.ss_family == AF_INET6 ? "[" : "", host, ss.ss_family == AF_INET6 ? "]" : "",
             port);
}

/* Responses go out at once: without TCP_NODELAY, a response that leaves in two segments
 * waits for the client's delayed ACK (40 ms stalls under keep-alive load). */
static void conn_notify(void *cls, struct MHD_Connection *mc, void **socket_ctx,
                        enum MHD_ConnectionNotificationCode toe)
{
    const union MHD_ConnectionInfo *ci;
    int one = 1;
    (void)cls;
    (void)socket_ctx;
    if (toe != MHD_CONNECTION_NOTIFY_STARTED) {
        return;
    }
    ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci != NULL) {
        setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
}

/* The listening socket every daemon shares (each loop accepts from it). */
static int open_listener(struct cq_http_server *s, struct cq_err *err)
{
    int one = 1;
    int fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return cq_err_set(err, CQ_EIO, "cannot listen on %s: %s", s->sc.listen,
                          strerror(errno));
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (s->addr.ss_family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    if (bind(fd, (struct sockaddr *)&s->addr, s->addrlen) != 0 || listen(fd, 4096) != 0) {
        int e = errno;
        close(fd);
        return cq_err_set(err, CQ_EIO, "cannot listen on %s: %s (address in use, or "
                          "not permitted?)", s->sc.listen, strerror(e));
    }
    s->listen_fd = fd;
    return CQ_OK;
}

int cq_http_server_start(struct cq_http_server *s, struct cq_err *err)
{
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    unsigned timeout_s = (unsigned)((s->sc.request_timeout_ms + 999) / 1000);
    int rc;

    if (s->cert_pem != NULL) {
        flags |= MHD_USE_TLS;
    }
    raise_nofile();
    rc = open_listener(s, err);
    if (rc != CQ_OK) {
        return rc;
    }
    s->loops = cq_calloc((size_t)s->sc.threads, sizeof(*s->loops));
    if (s->loops == NULL) {
        return cq_err_set(err, CQ_ENOMEM, "out of memory");
    }
    for (int i = 0; i < s->sc.threads; i++) {
        struct cq_http_loop *l = &s->loops[i];
        /* per daemon: the connection limit is shared out among the loops */
        struct MHD_Daemon *d = MHD_start_daemon(
            flags, 0, NULL, NULL, ahc, l, MHD_OPTION_LISTEN_SOCKET, s->listen_fd,
            MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, MHD_OPTION_NOTIFY_COMPLETED, completed,
            l, MHD_OPTION_URI_LOG_CALLBACK, uri_log, l, MHD_OPTION_NOTIFY_CONNECTION,
            conn_notify, l, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned)(20000 / s->sc.threads + 1), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
            (size_t)CONN_MEMORY, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
            s->cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, s->cert_pem,
            MHD_OPTION_HTTPS_MEM_KEY, s->key_pem, MHD_OPTION_END);
        if (d == NULL) {
            return cq_err_set(err, CQ_EIO, "cannot start the HTTP server on %s: %s",
                              s->sc.listen, strerror(errno));
        }
        rc = cq_http_loop_init(l, d, err);
        l->srv = s;
        l->cancel_ops = cancel_ops;
        s->n_loops++;
        if (rc != CQ_OK) {
            return rc;
        }
    }
    for (int i = 0; i < s->n_loops; i++) {
        rc = cq_http_loop_start(&s->loops[i], err);
        if (rc != CQ_OK) {
            return rc;
        }
    }
    make_url(s);
    s->watch_stop = false;
    if (pthread_create(&s->watch, NULL, watchdog, s) == 0) {
        s->watch_on = true;
    }
    CQ_LOG(CQ_LOG_INFO, "http", "listening on %s (%d event loops)", s->url, s->n_loops);
    return CQ_OK;
}

const char *cq_http_server_url(const struct cq_http_server *s)
{
    return s->url;
}

int cq_http_server_reload(struct cq_http_server *s, struct cq_conf *conf, struct cq_err *err)
{
    struct cq_http_state *st, *old;
    if (conf->server.auth == CQ_AUTH_NONE && !is_loopback(&s->addr)) {
        return cq_err_set(err, CQ_EINVAL, "server.auth none needs a loopback listen address");
    }
    st = state_new(conf, err);
    if (st == NULL) {
        return err != NULL && err->rc != CQ_OK ? err->rc : CQ_ENOMEM;
    }
    pthread_mutex_lock(&s->st_mu);
    old = s->st;
    s->st = st;
    pthread_mutex_unlock(&s->st_mu);
    cq_http_state_unref(old); /* freed when its last request ends */
    CQ_LOG(CQ_LOG_INFO, "http", "configuration reloaded");
    return CQ_OK;
}

/* Waits until no request is in flight or deadline_ms (monotonic) passes. */
static bool drain(struct cq_http_server *s, int64_t deadline_ms)
{
    bool idle;
    pthread_mutex_lock(&s->mu);
    s->draining = true;
    while (s->n_inflight > 0 && cq_now_ms() < deadline_ms) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    idle = s->n_inflight == 0;
    pthread_mutex_unlock(&s->mu);
    return idle;
}

void cq_http_server_stop(struct cq_http_server *s)
{
    if (s == NULL || s->loops == NULL) {
        return;
    }
    /* no new connections from here: close the listening socket at once so clients get a
     * refusal instead of waiting in the backlog (no daemon uses it once quiesced) */
    for (int i = 0; i < s->n_loops; i++) {
        cq_http_loop_quiesce(&s->loops[i]);
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        s->listen_fd = -1;
    }
    if (!drain(s, cq_now_ms() + s->sc.shutdown_timeout_ms)) {
        CQ_LOG(CQ_LOG_WARN, "http", "shutdown: %d requests still running after %lld ms; "
               "canceling them", s->n_inflight, (long long)s->sc.shutdown_timeout_ms);
        pthread_mutex_lock(&s->mu);
        s->cancel_all = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        drain(s, cq_now_ms() + 5000);
    }
    /* workers first: a job still running finishes before its connection is closed */
    cq_http_workers_stop(&s->workers);
    for (int i = 0; i < s->n_loops; i++) {
        cq_http_loop_stop(&s->loops[i]);
    }
    for (int i = 0; i < s->n_loops; i++) {
        MHD_stop_daemon(s->loops[i].d);
        cq_http_loop_cleanup(&s->loops[i]);
    }
    cq_free(s->loops);
    s->loops = NULL;
    s->n_loops = 0;
    if (s->watch_on) {
        pthread_mutex_lock(&s->mu);
        s->watch_stop = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->watch, NULL);
        s->watch_on = false;
    }
}

void cq_http_server_alert_ran(struct cq_http_server *s, const char *state)
{
    cq_http_metrics_alerts(s->metrics, state, 1);
}

void cq_http_server_free(struct cq_http_server *s)
{
    if (s == NULL) {
        return;
    }
    cq_http_server_stop(s);
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
    }
    cq_http_workers_cleanup(&s->workers);
    cq_http_state_unref(s->st);
    cq_http_metrics_free(s->metrics);
    cq_free(s->cert_pem);
    cq_free(s->key_pem);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->st_mu);
    cq_free(s);
}
