/*
 * http.h - `clariq serve`: the HTTP API (governed queries, raw SQL, operations) on
 * libmicrohttpd. The server owns its configuration snapshot (reloadable), its pools and
 * its metrics; the CLI owns the server.
 */
#ifndef CQ_HTTP_HTTP_H
#define CQ_HTTP_HTTP_H

#include <stdint.h>

#include "base/err.h"
#include "conf/conf.h"

struct cq_http_server;

/* Builds a server for conf (takes ownership of conf, also on failure). Checks the server
 * section (TLS files, auth none only on loopback...) and builds the catalog; nothing listens
 * yet. NULL with err. */
struct cq_http_server *cq_http_server_new(struct cq_conf *conf, struct cq_err *err);
/* Starts listening; the actual address (port 0 picks one) is then cq_http_server_url. */
int cq_http_server_start(struct cq_http_server *s, struct cq_err *err);
const char *cq_http_server_url(const struct cq_http_server *s); /* "http://127.0.0.1:8080" */
/* Swaps in a new configuration (takes ownership of conf on success only): new requests see
 * it, running ones finish on the old one. On failure the old one stays (err set). */
int cq_http_server_reload(struct cq_http_server *s, struct cq_conf *conf, struct cq_err *err);
/* Stops accepting, waits up to server.shutdown_timeout for in-flight requests, closes. */
void cq_http_server_stop(struct cq_http_server *s);
void cq_http_server_free(struct cq_http_server *s); /* NULL is a no-op */
/* Counts one alert run in state ("ok", "triggered", "error") for /metrics. Thread-safe. */
void cq_http_server_alert_ran(struct cq_http_server *s, const char *state);

#endif
