/*
 * channel.h - notification channels behind one operations table (STYLE 3.3).
 *
 * A channel type (slack, email, webhook) is a const descriptor with const ops. A channel
 * makes one delivery attempt per send() call and never sleeps or retries itself: it says
 * whether the failure is worth retrying and the engine owns backoff (base/cap with
 * jitter), like fluent-bit's OK / RETRY / ERROR.
 *
 * Thread-safety: ops are reentrant; each call uses its own libcurl easy handle.
 * curl_global_init must have been called (cq_alert_channels_init) before any send.
 */
#ifndef CQ_ALERT_CHANNEL_H
#define CQ_ALERT_CHANNEL_H

#include "alert/msg.h"
#include "base/buf.h"
#include "base/err.h"
#include "conf/conf.h"

enum cq_chan_rc {
    CQ_CHAN_OK = 0, /* delivered (2xx, SMTP accepted) */
    CQ_CHAN_RETRY,  /* worth another attempt: timeout, connect error, 429, 5xx, SMTP 4xx */
    CQ_CHAN_FAIL,   /* will not succeed as configured: 4xx, bad address, auth refused */
};

struct cq_channel_ops {
    /* The exact payload send() would transmit (request body for HTTP; for e-mail the
     * headers and both MIME parts as text). Test hook; errors stick in out. */
    void (*format)(const struct cq_channel_conf *cc, const struct cq_alert_msg *m,
                   struct cq_buf *out);
    /* One delivery attempt within cc->timeout_ms. Returns an enum cq_chan_rc; on RETRY or
     * FAIL err says what happened, naming the channel and never a secret (webhook URLs,
     * passwords and HMAC keys are redacted). */
    int (*send)(const struct cq_channel_conf *cc, const struct cq_alert_msg *m,
                struct cq_err *err);
};

struct cq_channel_type {
    const char *name;                 /* "slack" | "email" | "webhook" (config `type:`) */
    enum cq_channel_kind kind;
    const struct cq_channel_ops *ops; /* every slot non-NULL */
};

extern const struct cq_channel_type cq_alert_channel_slack;
extern const struct cq_channel_type cq_alert_channel_email;
extern const struct cq_channel_type cq_alert_channel_webhook;

/* The type for a configured kind; never NULL for a valid kind. */
const struct cq_channel_type *cq_alert_channel_type(enum cq_channel_kind kind);

/* curl_global_init once per process, before threads start. CQ_OK or CQ_EINTERNAL. */
int cq_alert_channels_init(struct cq_err *err);

/* HMAC-SHA256 of body with key, as "sha256=<64 lowercase hex>" (webhook signature). */
void cq_alert_channel_sign(const char *key, const char *body, size_t len, char out[72]);

#endif
