/* httpmock.c - in-process HTTP test server on libmicrohttpd (see httpmock.h). Test code:
 * plain libc allocation, allocation failure aborts the test. */
#include "httpmock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#define BODY_MAX ((size_t)16 << 20) /* recorded body, bytes */

struct reply {
    int status;
    char *body;
    size_t len;
    int delay_ms;
    char *content_type;
};

struct cq_httpmock {
    struct MHD_Daemon *d;
    int port;
    char url[64];
    pthread_mutex_t mu;
    pthread_cond_t cv;                /* signalled on each request and on stop */
    bool stopping;
    struct cq_httpmock_req **reqs;    /* recorded, in order */
    size_t n_reqs, cap_reqs;
    struct reply *script;             /* pending replies */
    size_t n_script, next;
    struct reply dflt;
};

/* Per connection-request state while the body arrives. */
struct pending {
    struct cq_httpmock_req *req;
    size_t cap;                       /* bytes allocated for req->body */
};

static void *xmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "httpmock: out of memory\n");
        abort();
    }
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s ? s : "");
    char *d = xmalloc(n + 1);
    memcpy(d, s ? s : "", n);
    return d;
}

/* Appends (name, value) to two parallel arrays counted by *n. */
static void push2(char ***names, char ***values, size_t *n, const char *name, const char *value)
{
    char **nn = realloc(*names, (*n + 1) * sizeof(**names));
    if (nn == NULL) {
        abort();
    }
    *names = nn;
    char **nv = realloc(*values, (*n + 1) * sizeof(**values));
    if (nv == NULL) {
        abort();
    }
    *values = nv;
    (*names)[*n] = xstrdup(name);
    (*values)[*n] = value ? xstrdup(value) : NULL;
    (*n)++;
}

static void req_free(struct cq_httpmock_req *r)
{
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
    for (size_t i = 0; i < r->n_args; i++) {
        free(r->arg_names[i]);
        free(r->arg_values[i]);
    }
    free(r->names);
    free(r->values);
    free(r->arg_names);
    free(r->arg_values);
    free(r->method);
    free(r->path);
    free(r->body);
    free(r);
}

static void reply_copy(struct reply *dst, const struct cq_httpmock_reply *src)
{
    dst->status = src->status > 0 ? src->status : 200;
    dst->body = xstrdup(src->body);
    dst->len = strlen(dst->body);
    dst->delay_ms = src->delay_ms;
    dst->content_type = xstrdup(src->content_type ? src->content_type : "text/plain");
}

static void reply_free(struct reply *r)
{
    free(r->body);
    free(r->content_type);
    r->body = r->content_type = NULL;
}

static enum MHD_Result on_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    struct cq_httpmock_req *r = cls;
    if (kind == MHD_HEADER_KIND) {
        push2(&r->names, &r->values, &r->n_headers, key, value ? value : "");
    } else if (kind == MHD_GET_ARGUMENT_KIND) {
        push2(&r->arg_names, &r->arg_values, &r->n_args, key, value);
    }
    return MHD_YES;
}

static void body_append(struct pending *p, const char *data, size_t len)
{
    struct cq_httpmock_req *r = p->req;
    if (r->body_len + len > BODY_MAX) {
        len = BODY_MAX - r->body_len;
        r->truncated = true;
    }
    if (r->body_len + len + 1 > p->cap) {
        size_t cap = p->cap ? p->cap : 4096;
        while (cap < r->body_len + len + 1) {
            cap *= 2;
        }
        char *b = realloc(r->body, cap);
        if (b == NULL) {
            abort();
        }
        r->body = b;
        p->cap = cap;
    }
    memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
}

/* Records the finished request and picks its reply (copied: the script may change). */
static void record(struct cq_httpmock *hm, struct cq_httpmock_req *r, struct reply *out)
{
    pthread_mutex_lock(&hm->mu);
    if (hm->n_reqs == hm->cap_reqs) {
        size_t cap = hm->cap_reqs ? hm->cap_reqs * 2 : 16;
        struct cq_httpmock_req **v = realloc(hm->reqs, cap * sizeof(*v));
        if (v == NULL) {
            abort();
        }
        hm->reqs = v;
        hm->cap_reqs = cap;
    }
    hm->reqs[hm->n_reqs++] = r;
    const struct reply *src = hm->next < hm->n_script ? &hm->script[hm->next++] : &hm->dflt;
    *out = *src;
    out->body = xmalloc(src->len + 1);
    memcpy(out->body, src->body, src->len);
    out->content_type = xstrdup(src->content_type);
    pthread_cond_broadcast(&hm->cv);
    pthread_mutex_unlock(&hm->mu);
}

/* Sleeps ms unless the mock stops first. */
static void delay(struct cq_httpmock *hm, int ms)
{
    struct timespec until;
    if (ms <= 0) {
        return;
    }
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&hm->mu);
    while (!hm->stopping) {
        if (pthread_cond_timedwait(&hm->cv, &hm->mu, &until) == ETIMEDOUT) {
            break;
        }
    }
    pthread_mutex_unlock(&hm->mu);
}

/* libmicrohttpd calls this first with no data (set up state), then once per body chunk,
 * then once more with none: only that last call may queue the reply. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct cq_httpmock *hm = cls;
    struct pending *p = *con_cls;
    struct MHD_Response *resp;
    struct reply rep;
    enum MHD_Result ret;

    (void)version;
    if (p == NULL) {
        p = xmalloc(sizeof(*p));
        p->req = xmalloc(sizeof(*p->req));
        p->req->method = xstrdup(method);
        p->req->path = xstrdup(url);
        p->req->body = xstrdup("");
        p->cap = 1;
        MHD_get_connection_values(conn, (enum MHD_ValueKind)(MHD_HEADER_KIND |
                                                             MHD_GET_ARGUMENT_KIND),
                                  on_header, p->req);
        *con_cls = p;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        body_append(p, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    record(hm, p->req, &rep);
    p->req = NULL; /* owned by hm now */
    delay(hm, rep.delay_ms);
    resp = MHD_create_response_from_buffer(rep.len, rep.body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) {
        reply_free(&rep);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", rep.content_type);
    ret = MHD_queue_response(conn, (unsigned)rep.status, resp);
    MHD_destroy_response(resp);
    reply_free(&rep);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct pending *p = *con_cls;
    (void)cls, (void)conn, (void)toe;
    if (p != NULL) {
        req_free(p->req); /* a request that never finished arriving */
        free(p);
        *con_cls = NULL;
    }
}

struct cq_httpmock *cq_httpmock_start(void)
{
    struct cq_httpmock *hm = xmalloc(sizeof(*hm));
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *info;
    static const struct cq_httpmock_reply ok = {.status = 200, .body = "ok"};

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    pthread_mutex_init(&hm->mu, NULL);
    pthread_cond_init(&hm->cv, NULL);
    reply_copy(&hm->dflt, &ok);
    hm->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                 MHD_USE_ERROR_LOG,
                             0, NULL, NULL, on_request, hm, MHD_OPTION_SOCK_ADDR, &sa,
                             MHD_OPTION_NOTIFY_COMPLETED, on_completed, hm,
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_END);
    if (hm->d == NULL) {
        fprintf(stderr, "httpmock: MHD_start_daemon failed\n");
        goto fail;
    }
    info = MHD_get_daemon_info(hm->d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        fprintf(stderr, "httpmock: no bound port\n");
        goto fail;
    }
    hm->port = info->port;
    snprintf(hm->url, sizeof(hm->url), "http://127.0.0.1:%d", hm->port);
    return hm;
fail:
    cq_httpmock_stop(hm);
    return NULL;
}

void cq_httpmock_reset(struct cq_httpmock *hm)
{
    pthread_mutex_lock(&hm->mu);
    for (size_t i = 0; i < hm->n_reqs; i++) {
        req_free(hm->reqs[i]);
    }
    hm->n_reqs = 0;
    for (size_t i = 0; i < hm->n_script; i++) {
        reply_free(&hm->script[i]);
    }
    free(hm->script);
    hm->script = NULL;
    hm->n_script = hm->next = 0;
    pthread_mutex_unlock(&hm->mu);
}

void cq_httpmock_stop(struct cq_httpmock *hm)
{
    if (hm == NULL) {
        return;
    }
    pthread_mutex_lock(&hm->mu);
    hm->stopping = true;
    pthread_cond_broadcast(&hm->cv);
    pthread_mutex_unlock(&hm->mu);
    if (hm->d != NULL) {
        MHD_stop_daemon(hm->d);
    }
    cq_httpmock_reset(hm);
    free(hm->reqs);
    reply_free(&hm->dflt);
    pthread_cond_destroy(&hm->cv);
    pthread_mutex_destroy(&hm->mu);
    free(hm);
}

int cq_httpmock_port(const struct cq_httpmock *hm)
{
    return hm->port;
}

const char *cq_httpmock_url(const struct cq_httpmock *hm)
{
    return hm->url;
}

void cq_httpmock_script(struct cq_httpmock *hm, const struct cq_httpmock_reply *replies,
                        size_t n)
{
    struct reply *v = xmalloc(n * sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        reply_copy(&v[i], &replies[i]);
    }
    pthread_mutex_lock(&hm->mu);
    for (size_t i = 0; i < hm->n_script; i++) {
        reply_free(&hm->script[i]);
    }
    free(hm->script);
    hm->script = v;
    hm->n_script = n;
    hm->next = 0;
    pthread_mutex_unlock(&hm->mu);
}

void cq_httpmock_default(struct cq_httpmock *hm, const struct cq_httpmock_reply *reply)
{
    struct reply r;
    reply_copy(&r, reply);
    pthread_mutex_lock(&hm->mu);
    reply_free(&hm->dflt);
    hm->dflt = r;
    pthread_mutex_unlock(&hm->mu);
}

size_t cq_httpmock_n_requests(struct cq_httpmock *hm)
{
    pthread_mutex_lock(&hm->mu);
    size_t n = hm->n_reqs;
    pthread_mutex_unlock(&hm->mu);
    return n;
}

const struct cq_httpmock_req *cq_httpmock_request(struct cq_httpmock *hm, size_t i)
{
    pthread_mutex_lock(&hm->mu);
    const struct cq_httpmock_req *r = i < hm->n_reqs ? hm->reqs[i] : NULL;
    pthread_mutex_unlock(&hm->mu);
    return r;
}

bool cq_httpmock_wait_requests(struct cq_httpmock *hm, size_t n, int timeout_ms)
{
    struct timespec until;
    bool ok;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&hm->mu);
    while (hm->n_reqs < n) {
        if (pthread_cond_timedwait(&hm->cv, &hm->mu, &until) == ETIMEDOUT) {
            break;
        }
    }
    ok = hm->n_reqs >= n;
    pthread_mutex_unlock(&hm->mu);
    return ok;
}

const char *cq_httpmock_header(const struct cq_httpmock_req *r, const char *name)
{
    for (size_t i = 0; r != NULL && i < r->n_headers; i++) {
        if (strcasecmp(r->names[i], name) == 0) {
            return r->values[i];
        }
    }
    return NULL;
}

const char *cq_httpmock_arg(const struct cq_httpmock_req *r, const char *name)
{
    for (size_t i = 0; r != NULL && i < r->n_args; i++) {
        if (strcmp(r->arg_names[i], name) == 0) {
            return r->arg_values[i];
        }
    }
    return NULL;
}
