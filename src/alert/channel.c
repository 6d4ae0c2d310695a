/* channel.c - channel lookup, signing, and the libcurl plumbing the channels share (see
 * channel.h and channel_int.h). */
#include "alert/channel.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "alert/channel_int.h"
#include "base/json.h"
#include "base/str.h"

const struct cq_channel_type *cq_alert_channel_type(enum cq_channel_kind kind)
{
    switch (kind) {
    case CQ_CHANNEL_SLACK: return &cq_alert_channel_slack;
    case CQ_CHANNEL_EMAIL: return &cq_alert_channel_email;
    case CQ_CHANNEL_WEBHOOK: return &cq_alert_channel_webhook;
    }
    return NULL;
}

int cq_alert_channels_init(struct cq_err *err)
{
    CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
        return cq_err_set(err, CQ_EINTERNAL, "channels: curl_global_init: %s",
                          curl_easy_strerror(code));
    }
    return CQ_OK;
}

void cq_alert_channel_sign(const char *key, const char *body, size_t len, char out[72])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    size_t klen = key ? strlen(key) : 0;

    out[0] = '\0';
    if (klen > (size_t)INT32_MAX ||
        HMAC(EVP_sha256(), key ? key : "", (int)klen, (const unsigned char *)body, len, md,
             &md_len) == NULL ||
        md_len != 32) {
        return; /* "" never verifies, so a failure cannot pass as a signature */
    }
    memcpy(out, "sha256=", 7);
    for (unsigned int i = 0; i < md_len; i++) {
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[8 + 2 * i] = hex[md[i] & 15];
    }
    out[7 + 2 * md_len] = '\0';
}

/* ---- shared helpers --------------------------------------------------------------------- */

long cq_alert_chan_timeout_ms(const struct cq_channel_conf *cc)
{
    if (cc->timeout_ms <= 0 || cc->timeout_ms > 24L * 3600 * 1000) {
        return CQ_CHAN_DEFAULT_TIMEOUT_MS;
    }
    return (long)cc->timeout_ms;
}

void cq_alert_chan_curl_base(CURL *h, const struct cq_channel_conf *cc, const char *url,
                             bool smtp)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, smtp ? "smtp,smtps" : "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, smtp ? (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS)
                                                : (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, cq_alert_chan_timeout_ms(cc));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, cq_alert_chan_timeout_ms(cc));
}

void cq_alert_chan_origin(const char *url, char *out, size_t size)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;

    cq_strlcpy(out, "(invalid URL)", size);
    if (u == NULL || url == NULL ||
        curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        goto out;
    }
    if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK) {
        port = NULL; /* no explicit port */
    }
    snprintf(out, size, "%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

int cq_alert_chan_fail(const struct cq_channel_conf *cc, int chan_rc, enum cq_rc rc,
                       struct cq_err *err, const char *fmt, ...)
{
    const struct cq_channel_type *t = cq_alert_channel_type(cc->kind);
    char msg[sizeof(err->msg)];
    va_list ap;

    if (err == NULL) {
        return chan_rc;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cq_err_set(err, rc, "channel %s (%s): %s", cc->name ? cc->name : "?", t ? t->name : "?",
               msg);
    err->retryable = chan_rc == CQ_CHAN_RETRY;
    return chan_rc;
}

static bool slice_in(const char *text, const char *p, size_t len)
{
    for (const char *t = strchr(text, p[0]); t != NULL; t = strchr(t + 1, p[0])) {
        if (strncmp(t, p, len) == 0) {
            return true;
        }
    }
    return false;
}

/* Whether text quotes a secret (6 bytes or more: a shorter one, such as a header value
 * "ops", would match everything) or a word of one: a piece between separators of 8 bytes
 * or more (a path segment or query value is often a token on its own). */
static bool holds_secret(const char *text, const char *const *secrets)
{
    static const char seps[] = " /?&=:;,#";
    for (size_t i = 0; secrets != NULL && secrets[i] != NULL; i++) {
        const char *s = secrets[i];
        if (strlen(s) >= 6 && strstr(text, s) != NULL) {
            return true;
        }
        while (*s != '\0') {
            size_t len = strcspn(s, seps);
            if (len >= 8 && slice_in(text, s, len)) {
                return true;
            }
            s += len + (s[len] != '\0');
        }
    }
    return false;
}

int cq_alert_chan_curl_fail(const struct cq_channel_conf *cc, CURLcode code, const char *errbuf,
                            const char *origin, const char *const *secrets,
                            struct cq_err *err)
{
    const char *detail = errbuf;
    int chan_rc = CQ_CHAN_RETRY;
    enum cq_rc rc = CQ_ECONNECT;

    if (detail == NULL || detail[0] == '\0' || holds_secret(detail, secrets)) {
        detail = curl_easy_strerror(code);
    }
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
        return cq_alert_chan_fail(cc, CQ_CHAN_RETRY, CQ_ETIMEOUT, err,
                                  "timed out after %ld ms talking to %s",
                                  cq_alert_chan_timeout_ms(cc), origin);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_NOT_BUILT_IN:
    case CURLE_BAD_FUNCTION_ARGUMENT:
        chan_rc = CQ_CHAN_FAIL;
        rc = CQ_EINVAL;
        break;
    case CURLE_LOGIN_DENIED:
    case CURLE_AUTH_ERROR:
        chan_rc = CQ_CHAN_FAIL;
        rc = CQ_EAUTH;
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
    case CURLE_USE_SSL_FAILED:
        chan_rc = CQ_CHAN_FAIL;
        rc = CQ_EPROTO;
        break;
    case CURLE_OUT_OF_MEMORY:
        rc = CQ_ENOMEM;
        break;
    default:
        break; /* connect, resolve, send/receive, TLS handshake: worth another try */
    }
    return cq_alert_chan_fail(cc, chan_rc, rc, err, "%s: %s", origin, detail);
}

void cq_alert_chan_snippet(const char *s, size_t len, struct cq_buf *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, end, start = out->len;

    while (i < len && p[i] <= ' ') {
        i++;
    }
    end = len - i > CQ_CHAN_SNIPPET ? i + CQ_CHAN_SNIPPET : len;
    while (i < end) {
        size_t n = cq_utf8_seq(p + i, end - i);
        if (n == 0 && end < len && cq_utf8_seq(p + i, len - i) > 0) {
            break; /* a character cut by the limit */
        }
        if (n == 0 || p[i] < 0x20 || p[i] == 0x7F) {
            cq_buf_putc(out, n == 0 ? '?' : ' ');
            i++;
            continue;
        }
        cq_buf_append(out, s + i, n);
        i += n;
    }
    while (out->len > start && out->p[out->len - 1] == ' ') {
        out->p[--out->len] = '\0';
    }
}

/* ---- HTTP POST -------------------------------------------------------------------------- */

/* Keeps the first CQ_CHAN_RESPONSE_MAX bytes and swallows the rest, so a huge answer
 * neither grows memory nor turns into a write error. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct cq_buf *b = ctx;
    size_t n = size * nmemb;
    size_t room = b->len < CQ_CHAN_RESPONSE_MAX ? CQ_CHAN_RESPONSE_MAX - b->len : 0;
    cq_buf_append(b, data, n < room ? n : room);
    return n;
}

/* Appends line to *list; false when out of memory (the list stays as it was). */
static bool slist_add(struct curl_slist **list, const char *line)
{
    struct curl_slist *l = curl_slist_append(*list, line);
    if (l != NULL) {
        *list = l;
    }
    return l != NULL;
}

/* The parts of url that must never be shown: user, password, path, query. Each is a
 * curl-allocated string (curl_free) or NULL; the array stays NULL-terminated. */
static void url_secrets(const char *url, char *sec[5])
{
    static const CURLUPart parts[4] = {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_PATH,
                                       CURLUPART_QUERY};
    CURLU *u = curl_url();
    size_t n = 0;

    memset(sec, 0, 5 * sizeof(*sec));
    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != 0) {
        goto out;
    }
    for (size_t i = 0; i < 4; i++) {
        char *v = NULL;
        if (curl_url_get(u, parts[i], &v, 0) == CURLUE_OK && v != NULL && strlen(v) > 1) {
            sec[n++] = v;
        } else {
            curl_free(v);
        }
    }
out:
    curl_url_cleanup(u);
}

/* The status line verdict: OK, or a message quoting the start of the body unless that
 * repeats a secret (some receivers echo the request URL or headers). */
static int classify_status(const struct cq_channel_conf *cc, long status, const char *origin,
                           const struct cq_buf *body, const char *const *secrets[2],
                           struct cq_err *err)
{
    struct cq_buf snip;
    char code[8];
    int chan_rc = CQ_CHAN_FAIL;
    enum cq_rc rc = CQ_EBACKEND;

    if (status >= 200 && status < 300) {
        return CQ_CHAN_OK;
    }
    if (status == 408 || status == 429 || status >= 500) {
        chan_rc = CQ_CHAN_RETRY;
    } else if (status == 401 || status == 403) {
        rc = CQ_EAUTH;
    }
    cq_buf_init(&snip, CQ_CHAN_SNIPPET * 2);
    cq_alert_chan_snippet(cq_buf_str(body), body->len, &snip);
    if (holds_secret(cq_buf_str(&snip), secrets[0]) ||
        holds_secret(cq_buf_str(&snip), secrets[1])) {
        cq_buf_reset(&snip);
        cq_buf_puts(&snip, "(body withheld: it repeats a secret)");
    }
    cq_alert_chan_fail(cc, chan_rc, rc, err, "HTTP %ld from %s%s%s%s", status, origin,
                       status >= 300 && status < 400 ? " (redirects are not followed)" : "",
                       snip.len > 0 ? ": " : "", cq_buf_str(&snip));
    snprintf(code, sizeof(code), "%ld", status);
    cq_err_code(err, code);
    cq_buf_cleanup(&snip);
    return chan_rc;
}

int cq_alert_chan_http_post(const struct cq_channel_conf *cc, const struct cq_chan_post *p,
                            struct cq_err *err)
{
    char origin[CQ_CHAN_ORIGIN_MAX];
    char errbuf[CURL_ERROR_SIZE];
    char *secrets[5] = {NULL};
    const char *const *all[2] = {(const char *const *)secrets, p->secrets};
    struct curl_slist *hdrs = NULL;
    struct cq_buf body;
    CURL *h = NULL;
    CURLcode code;
    long status = 0;
    bool ok = true;
    int rc;

    cq_buf_init(&body, CQ_CHAN_RESPONSE_MAX + 1);
    cq_alert_chan_origin(p->url, origin, sizeof(origin));
    url_secrets(p->url, secrets);
    errbuf[0] = '\0';
    h = curl_easy_init();
    if (h == NULL) {
        rc = cq_alert_chan_fail(cc, CQ_CHAN_RETRY, CQ_ENOMEM, err, "curl_easy_init failed");
        goto out;
    }
    /* curl adds "Expect: 100-continue" to large POSTs; the empty line removes it so every
     * receiver sees one plain request. */
    for (const struct curl_slist *s = p->headers; ok && s != NULL; s = s->next) {
        ok = slist_add(&hdrs, s->data);
    }
    if (!ok || !slist_add(&hdrs, "Expect:")) {
        rc = cq_alert_chan_fail(cc, CQ_CHAN_RETRY, CQ_ENOMEM, err, "out of memory");
        goto out;
    }
    cq_alert_chan_curl_base(h, cc, p->url, false);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "clariq/" CQ_VERSION);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, p->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    code = curl_easy_perform(h);
    if (code != CURLE_OK) {
        if (holds_secret(errbuf, p->secrets)) {
            errbuf[0] = '\0'; /* fall back to curl_easy_strerror */
        }
        rc = cq_alert_chan_curl_fail(cc, code, errbuf, origin, all[0], err);
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    rc = classify_status(cc, status, origin, &body, all, err);
out:
    for (size_t i = 0; secrets[i] != NULL; i++) {
        curl_free(secrets[i]);
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    cq_buf_cleanup(&body);
    return rc;
}
