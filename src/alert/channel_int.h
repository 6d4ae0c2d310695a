/*
 * channel_int.h - helpers shared by the channel implementations (channel.c); not for
 * callers outside src/alert/channel*.c.
 *
 * Error messages all start "channel <name> (<type>): " and show a destination only as
 * scheme://host[:port] (cq_alert_chan_origin), because webhook URLs carry their token in
 * the path or query. Thread-safety: every helper is reentrant.
 */
#ifndef CQ_ALERT_CHANNEL_INT_H
#define CQ_ALERT_CHANNEL_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "alert/channel.h"

#define CQ_CHAN_DEFAULT_TIMEOUT_MS 10000 /* when cc->timeout_ms is not positive */
#define CQ_CHAN_RESPONSE_MAX 4096        /* response bytes kept, bytes */
#define CQ_CHAN_SNIPPET 200              /* response bytes quoted in a message, bytes */
#define CQ_CHAN_ORIGIN_MAX 320           /* size of an origin buffer, bytes */

/* The attempt timeout in ms: cc->timeout_ms, or the default when unset. */
long cq_alert_chan_timeout_ms(const struct cq_channel_conf *cc);
/* Options every channel handle gets: URL, allowed protocols (HTTP(S), or SMTP(S) when smtp),
 * no signals, and the channel timeout for the whole attempt and for connecting. */
void cq_alert_chan_curl_base(CURL *h, const struct cq_channel_conf *cc, const char *url,
                             bool smtp);

/* Writes "scheme://host[:port]" of url into out (never user info, path or query);
 * "(invalid URL)" when it does not parse. */
void cq_alert_chan_origin(const char *url, char *out, size_t size);

/* Sets err to "channel <name> (<type>): <fmt...>" with rc, marks it retryable when
 * chan_rc is CQ_CHAN_RETRY, and returns chan_rc. */
int cq_alert_chan_fail(const struct cq_channel_conf *cc, int chan_rc, enum cq_rc rc,
                       struct cq_err *err, const char *fmt, ...) CQ_PRINTF(5, 6);

/* Classifies a libcurl transport failure (no usable response): timeouts, connect and
 * network errors are RETRY; bad URLs, refused certificates and logins are FAIL. errbuf is
 * libcurl's CURLOPT_ERRORBUFFER text; it is quoted only when it holds no secret (any of
 * the strings in secrets, NULL-terminated). Sets err; returns the enum cq_chan_rc. */
int cq_alert_chan_curl_fail(const struct cq_channel_conf *cc, CURLcode code, const char *errbuf,
                            const char *origin, const char *const *secrets,
                            struct cq_err *err);

/* Appends the first CQ_CHAN_SNIPPET bytes of s[0..len) on one line (control characters as
 * spaces, cut on a UTF-8 boundary, trimmed) for quoting a peer's answer in a message. */
void cq_alert_chan_snippet(const char *s, size_t len, struct cq_buf *out);

/* One HTTP POST. */
struct cq_chan_post {
    const char *url;                  /* secret: only its origin is ever shown */
    const char *body;                 /* sent exactly as is */
    size_t len;                       /* bytes */
    const struct curl_slist *headers; /* "Name: value" lines (Content-Type included) */
    const char *const *secrets;       /* never quoted besides the URL's user, password, path
                                         and query (header values, keys); NULL-terminated,
                                         may be NULL */
};

/* POSTs p within the channel timeout, keeping at most CQ_CHAN_RESPONSE_MAX bytes of the
 * response. 2xx is CQ_CHAN_OK; 408, 429, 5xx, timeouts and connection errors are
 * CQ_CHAN_RETRY; anything else (other 4xx, 3xx: redirects are not followed) is
 * CQ_CHAN_FAIL, with "HTTP <status> from <origin>: <start of body>" in err and the status
 * in err->backend_code. Neither libcurl's message nor the body is quoted when it repeats
 * a secret. */
int cq_alert_chan_http_post(const struct cq_channel_conf *cc, const struct cq_chan_post *p,
                            struct cq_err *err);

#endif
