/*
 * channel_slack.c - Slack incoming webhooks: one POST of a Block Kit message.
 *
 * Body (format() returns exactly what send() posts):
 *   {"text": "<name>: <state> - <reason>",            fallback for notifications
 *    "blocks": [
 *      {"type":"header","text":{"type":"plain_text","text":"<name>: <state>"}},
 *      {"type":"section","fields":[mrkdwn "*State*\n..", "*Value*", "*Threshold*", "*Rows*",
 *                                  "*Run at*", "*Error*" (value/threshold/error if set)]},
 *      {"type":"section","text":{"type":"mrkdwn","text":"<message text>"}},   if any
 *      {"type":"section","text":{"type":"mrkdwn","text":"```<table>```"}},    if columns
 *      {"type":"context","elements":[{"type":"mrkdwn","text":"clariq · alert `id`"}]}]}
 * Slack counts its limits in characters; the caps here count bytes, which is stricter.
 * Texts are escaped for mrkdwn (& < >) so data cannot inject links or mentions.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alert/channel.h"
#include "alert/channel_int.h"
#include "base/json.h"

#define HEADER_MAX 150        /* header plain_text limit, bytes */
#define FIELD_MAX 1900        /* section field limit is 2000 characters, bytes */
#define TEXT_MAX 2900         /* section text limit is 3000 characters, bytes */
#define BODY_MAX (64u << 10)  /* whole request body, bytes */
#define SCRATCH_MAX (1u << 20) /* a text before it is cut, bytes */

static const char ellipsis[] = "\xE2\x80\xA6";

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* Bytes that represent s[0] in the output: a mrkdwn entity, or the UTF-8 sequence (an
 * invalid byte counts one; the JSON writer turns it into U+FFFD). */
static size_t unit(const char *s, size_t len, bool mrkdwn, const char **show, size_t *n)
{
    size_t adv = cq_utf8_seq((const unsigned char *)s, len);
    *show = s;
    *n = adv ? adv : 1;
    if (mrkdwn && *s == '&') {
        *show = "&amp;";
    } else if (mrkdwn && *s == '<') {
        *show = "&lt;";
    } else if (mrkdwn && *s == '>') {
        *show = "&gt;";
    } else {
        return *n;
    }
    *n = strlen(*show);
    return 1;
}

/* Appends s escaped (mrkdwn) and cut at a character boundary so the result stays within
 * max bytes, ending in "…" when cut. */
static void put_capped(struct cq_buf *b, const char *s, size_t max, bool mrkdwn)
{
    size_t len = strlen(s), total = 0, i = 0, n, cut = 0;
    const char *show;

    while (i < len) {
        i += unit(s + i, len - i, mrkdwn, &show, &n);
        total += n;
        if (total + sizeof(ellipsis) - 1 <= max) {
            cut = i;
        }
    }
    size_t end = total <= max ? len : cut;
    for (i = 0; i < end;) {
        i += unit(s + i, end - i, mrkdwn, &show, &n);
        cq_buf_append(b, show, n);
    }
    if (end < len) {
        cq_buf_append(b, ellipsis, sizeof(ellipsis) - 1);
    }
}

/* A JSON string member value built from a scratch buffer. */
static void put_json(struct cq_buf *out, const struct cq_buf *t)
{
    cq_json_put_str(out, cq_buf_str(t), t->len);
}

static void put_field(struct cq_buf *out, struct cq_buf *t, bool *first, const char *label,
                      const char *value)
{
    cq_buf_reset(t);
    cq_buf_printf(t, "*%s*\n", label);
    put_capped(t, value, FIELD_MAX - t->len, true);
    cq_buf_puts(out, *first ? "{\"type\":\"mrkdwn\",\"text\":" : ",{\"type\":\"mrkdwn\",\"text\":");
    put_json(out, t);
    cq_buf_putc(out, '}');
    *first = false;
}

static void put_fields(struct cq_buf *out, struct cq_buf *t, const struct cq_alert_msg *m)
{
    char count[32];
    bool first = true;

    snprintf(count, sizeof(count), "%" PRId64, m->row_count);
    cq_buf_puts(out, ",{\"type\":\"section\",\"fields\":[");
    put_field(out, t, &first, "State", or_empty(m->state));
    if (m->value != NULL) {
        put_field(out, t, &first, "Value", m->value);
    }
    if (m->threshold != NULL) {
        put_field(out, t, &first, "Threshold", m->threshold);
    }
    put_field(out, t, &first, "Rows", count);
    put_field(out, t, &first, "Run at", or_empty(m->run_at));
    if (m->error != NULL) {
        put_field(out, t, &first, "Error", m->error);
    }
    cq_buf_puts(out, "]}");
}

static void put_section(struct cq_buf *out, const struct cq_buf *t)
{
    cq_buf_puts(out, ",{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":");
    put_json(out, t);
    cq_buf_puts(out, "}}");
}

/* The rows as a code block: whole lines only, so a cut table never shows half a row. */
static void put_table(struct cq_buf *out, struct cq_buf *t, const struct cq_alert_msg *m,
                      int max_rows)
{
    static const char open[] = "```\n", close[] = "```", more[] = "\xE2\x80\xA6\n";
    struct cq_buf tab;
    size_t budget = TEXT_MAX - (sizeof(open) - 1) - (sizeof(close) - 1) - (sizeof(more) - 1);
    const char *line;

    cq_buf_init(&tab, SCRATCH_MAX);
    cq_alert_msg_table(m, max_rows, &tab);
    cq_buf_reset(t);
    cq_buf_puts(t, open);
    line = cq_buf_str(&tab);
    while (*line != '\0') {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line), mark = t->len;
        for (size_t i = 0; i < len;) {
            const char *show;
            size_t n;
            i += unit(line + i, len - i, true, &show, &n);
            cq_buf_append(t, show, n);
        }
        if (t->len - (sizeof(open) - 1) > budget) {
            t->len = mark; /* the line does not fit: drop it and say rows were left out */
            t->p[t->len] = '\0';
            cq_buf_puts(t, more);
            break;
        }
        line += len;
    }
    cq_buf_puts(t, close);
    put_section(out, t);
    cq_buf_cleanup(&tab);
}

static void slack_format(const struct cq_channel_conf *cc, const struct cq_alert_msg *m,
                         struct cq_buf *out)
{
    const char *name = m->alert_name ? m->alert_name : or_empty(m->alert_id);
    struct cq_buf t, s;

    cq_buf_init(&t, SCRATCH_MAX);
    cq_buf_init(&s, SCRATCH_MAX);
    cq_buf_printf(&s, "%s: %s", name, or_empty(m->state));
    if (m->reason != NULL && m->reason[0] != '\0') {
        cq_buf_printf(&s, " \xE2\x80\x94 %s", m->reason);
    }
    put_capped(&t, cq_buf_str(&s), TEXT_MAX, true);
    cq_buf_puts(out, "{\"text\":");
    put_json(out, &t);

    cq_buf_reset(&s);
    cq_buf_reset(&t);
    cq_buf_printf(&s, "%s: %s", name, or_empty(m->state));
    put_capped(&t, cq_buf_str(&s), HEADER_MAX, false);
    cq_buf_puts(out, ",\"blocks\":[{\"type\":\"header\",\"text\":{\"type\":\"plain_text\","
                     "\"text\":");
    put_json(out, &t);
    cq_buf_puts(out, ",\"emoji\":true}}");

    put_fields(out, &t, m);
    if (m->text != NULL && m->text[0] != '\0') {
        cq_buf_reset(&t);
        put_capped(&t, m->text, TEXT_MAX, true);
        put_section(out, &t);
    }
    if (m->n_cols > 0 && cc->max_rows > 0) {
        put_table(out, &t, m, cc->max_rows);
    }
    cq_buf_reset(&t);
    cq_buf_puts(&t, "clariq \xC2\xB7 alert `");
    put_capped(&t, or_empty(m->alert_id), 200, true);
    cq_buf_puts(&t, "`");
    cq_buf_puts(out, ",{\"type\":\"context\",\"elements\":[{\"type\":\"mrkdwn\",\"text\":");
    put_json(out, &t);
    cq_buf_puts(out, "}]}]}");
    if (cq_buf_rc(&t) != CQ_OK || cq_buf_rc(&s) != CQ_OK) {
        if (out->rc == CQ_OK) {
            out->rc = CQ_ENOMEM; /* scratch failures can only be allocation failures */
        }
    }
    cq_buf_cleanup(&t);
    cq_buf_cleanup(&s);
}

static int slack_send(const struct cq_channel_conf *cc, const struct cq_alert_msg *m,
                      struct cq_err *err)
{
    struct curl_slist *hdrs = NULL;
    struct cq_chan_post post;
    struct cq_buf body;
    int rc;

    cq_buf_init(&body, BODY_MAX);
    if (cc->webhook_url == NULL || cc->webhook_url[0] == '\0') {
        rc = cq_alert_chan_fail(cc, CQ_CHAN_FAIL, CQ_EINVAL, err, "no webhook_url");
        goto out;
    }
    slack_format(cc, m, &body);
    hdrs = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
    if (cq_buf_rc(&body) != CQ_OK || hdrs == NULL) {
        bool big = cq_buf_rc(&body) == CQ_ETOOBIG;
        rc = cq_alert_chan_fail(cc, big ? CQ_CHAN_FAIL : CQ_CHAN_RETRY,
                                big ? CQ_ETOOBIG : CQ_ENOMEM, err, "building the message: %s",
                                big ? "body over 64 KiB" : "out of memory");
        goto out;
    }
    post = (struct cq_chan_post){cc->webhook_url, cq_buf_str(&body), body.len, hdrs, NULL};
    rc = cq_alert_chan_http_post(cc, &post, err);
out:
    curl_slist_free_all(hdrs);
    cq_buf_cleanup(&body);
    return rc;
}

static const struct cq_channel_ops slack_ops = {
    .format = slack_format,
    .send = slack_send,
};

const struct cq_channel_type cq_alert_channel_slack = {
    .name = "slack",
    .kind = CQ_CHANNEL_SLACK,
    .ops = &slack_ops,
};
