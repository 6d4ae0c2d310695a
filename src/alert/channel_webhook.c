/*
 * channel_webhook.c - generic webhooks: POST the message JSON (msg.c documents its shape)
 * with Content-Type application/json, the configured headers, and when hmac_secret is set
 * "<signature_header>: sha256=<hex HMAC-SHA256 of the exact body>" so a receiver can check
 * that the body came from clariq unchanged. format() returns the body.
 */
#include <stdbool.h>
#include <string.h>

#include "alert/channel.h"
#include "alert/channel_int.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"

#define HEADER_LINE_MAX 8192 /* one "Name: value" request header line, bytes */

static void webhook_format(const struct cq_channel_conf *cc, const struct cq_alert_msg *m,
                           struct cq_buf *out)
{
    struct cq_alert_msg copy;
    struct cq_arena arena;

    (void)cc;
    if (m->json != NULL) {
        cq_buf_puts(out, m->json);
        return;
    }
    /* A message built in memory and not yet encoded: encode a copy. */
    copy = *m;
    cq_arena_init(&arena, 16384, 0);
    if (cq_alert_msg_encode(&copy, &arena, NULL) == CQ_OK) {
        cq_buf_puts(out, copy.json);
    } else if (out->rc == CQ_OK) {
        out->rc = CQ_ENOMEM;
    }
    cq_arena_free(&arena);
}

/* A header name is a token and a value has no line breaks: anything else could smuggle a
 * second header or a body into the request. */
static bool header_ok(const char *name, const char *value)
{
    if (name == NULL || name[0] == '\0' || value == NULL) {
        return false;
    }
    for (const char *p = name; *p != '\0'; p++) {
        if (*p <= ' ' || *p == ':' || *p == 0x7F) {
            return false;
        }
    }
    return strpbrk(value, "\r\n") == NULL;
}

/* Appends "name: value" to *list; false when out of memory. */
static bool add_header(struct curl_slist **list, struct cq_buf *line, const char *name,
                       const char *value)
{
    struct curl_slist *l;
    cq_buf_reset(line);
    cq_buf_printf(line, "%s: %s", name, value);
    if (cq_buf_rc(line) != CQ_OK) {
        return false;
    }
    l = curl_slist_append(*list, cq_buf_str(line));
    if (l == NULL) {
        return false;
    }
    *list = l;
    return true;
}

/* The request headers: Content-Type unless configured, the configured ones, the signature. */
static int build_headers(const struct cq_channel_conf *cc, const struct cq_buf *body,
                         struct curl_slist **list, struct cq_err *err)
{
    const char *sig_name = cc->signature_header ? cc->signature_header : "X-Clariq-Signature";
    bool has_type = false, ok = true;
    struct cq_buf line;
    char sig[72];
    int rc = CQ_CHAN_OK;

    cq_buf_init(&line, HEADER_LINE_MAX);
    for (size_t i = 0; i < cc->n_headers; i++) {
        const struct cq_header *h = &cc->headers[i];
        if (!header_ok(h->name, h->value)) {
            rc = cq_alert_chan_fail(cc, CQ_CHAN_FAIL, CQ_EINVAL, err,
                                    "header %zu (%s): invalid name or line break in value",
                                    i + 1, h->name && header_ok(h->name, "") ? h->name : "?");
            goto out;
        }
        has_type = has_type || cq_streq_ci(h->name, "Content-Type");
    }
    if (!has_type) {
        ok = add_header(list, &line, "Content-Type", "application/json");
    }
    for (size_t i = 0; ok && i < cc->n_headers; i++) {
        ok = add_header(list, &line, cc->headers[i].name, cc->headers[i].value);
    }
    if (ok && cc->hmac_secret != NULL) {
        if (!header_ok(sig_name, "")) {
            rc = cq_alert_chan_fail(cc, CQ_CHAN_FAIL, CQ_EINVAL, err,
                                    "signature_header: invalid header name");
            goto out;
        }
        cq_alert_channel_sign(cc->hmac_secret, cq_buf_str(body), body->len, sig);
        ok = add_header(list, &line, sig_name, sig);
    }
    if (!ok) {
        rc = cq_alert_chan_fail(cc, CQ_CHAN_RETRY, CQ_ENOMEM, err, "headers: out of memory");
    }
out:
    cq_buf_cleanup(&line);
    return rc;
}

static int webhook_send(const struct cq_channel_conf *cc, const struct cq_alert_msg *m,
                        struct cq_err *err)
{
    struct curl_slist *hdrs = NULL;
    struct cq_chan_post post;
    const char **secrets = NULL;
    struct cq_buf body;
    int rc;

    cq_buf_init(&body, (size_t)1 << 26);
    if (cc->url == NULL || cc->url[0] == '\0') {
        rc = cq_alert_chan_fail(cc, CQ_CHAN_FAIL, CQ_EINVAL, err, "no url");
        goto out;
    }
    webhook_format(cc, m, &body);
    if (cq_buf_rc(&body) != CQ_OK) {
        rc = cq_alert_chan_fail(cc, CQ_CHAN_RETRY, CQ_ENOMEM, err,
                                "building the body: out of memory");
        goto out;
    }
    rc = build_headers(cc, &body, &hdrs, err);
    if (rc != CQ_CHAN_OK) {
        goto out;
    }
    /* Header values (tokens) and the key must never be quoted back in a message. */
    secrets = cq_calloc(cc->n_headers + 2, sizeof(*secrets));
    if (secrets == NULL) {
        rc = cq_alert_chan_fail(cc, CQ_CHAN_RETRY, CQ_ENOMEM, err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < cc->n_headers; i++) {
        secrets[i] = cc->headers[i].value;
    }
    secrets[cc->n_headers] = cc->hmac_secret;
    post = (struct cq_chan_post){cc->url, cq_buf_str(&body), body.len, hdrs, secrets};
    rc = cq_alert_chan_http_post(cc, &post, err);
out:
    cq_free(secrets);
    curl_slist_free_all(hdrs);
    cq_buf_cleanup(&body);
    return rc;
}

static const struct cq_channel_ops webhook_ops = {
    .format = webhook_format,
    .send = webhook_send,
};

const struct cq_channel_type cq_alert_channel_webhook = {
    .name = "webhook",
    .kind = CQ_CHANNEL_WEBHOOK,
    .ops = &webhook_ops,
};
