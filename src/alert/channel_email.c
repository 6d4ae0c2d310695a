/*
 * channel_email.c - e-mail over SMTP through libcurl.
 *
 * The message is built here, not by curl_mime, so format() returns byte for byte what
 * send() uploads: headers (Date, From, To, Cc, Subject, Message-ID, MIME-Version,
 * Auto-Submitted, X-Clariq-Alert) and a multipart/alternative body with a text/plain part
 * (message text and a text table) and a text/html part (an escaped HTML table), both
 * UTF-8 quoted-printable, CRLF line endings, no line over 78 bytes except long address
 * lists or plain subjects (still far under the 998 limit).
 *
 * Deterministic on purpose: Date is the run time of the evaluation (run_at) and
 * Message-ID and the MIME boundary derive from a SHA-256 of the channel and the message,
 * so a retried delivery is the same e-mail and receivers can deduplicate it.
 *
 * Transport: tls starttls = smtp:// with STARTTLS required, tls = smtps://, none =
 * plain smtp://. SMTP 4xx, connection errors and timeouts are RETRY; SMTP 5xx, refused
 * logins and a server without STARTTLS when it is required are FAIL.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "alert/channel.h"
#include "alert/channel_int.h"
#include "base/json.h"
#include "base/tmpl.h"

#define SUBJECT_MAX 200           /* rendered subject, bytes */
#define SUBJECT_TMPL_MAX 4096     /* subject before it is cut, bytes */
#define WORD_IN 39                /* input bytes per RFC 2047 encoded word (64 out) */
#define HTML_CELL_MAX 200         /* characters of an HTML table cell before "…" */
#define MAIL_MAX (32u << 20)      /* whole message, bytes */
#define ADDR_MAX 320              /* one envelope address, bytes */
#define DEFAULT_SUBJECT "[clariq] {{alert.name}}: {{state}}"

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static const char *display_name(const struct cq_alert_msg *m)
{
    return m->alert_name ? m->alert_name : or_empty(m->alert_id);
}

/* ---- addresses -------------------------------------------------------------------------- */

/* The addr-spec of "Name <a@b>" or "a@b" into out. False when there is none or it holds
 * characters that could break the SMTP command or a header. */
static bool addr_spec(const char *s, char *out, size_t size)
{
    const char *lt = s ? strrchr(s, '<') : NULL, *p;
    size_t len;

    if (s == NULL) {
        return false;
    }
    if (lt != NULL) {
        p = lt + 1;
        const char *gt = strchr(p, '>');
        if (gt == NULL) {
            return false;
        }
        len = (size_t)(gt - p);
    } else {
        p = s;
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        len = strlen(p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
            len--;
        }
    }
    if (len == 0 || len >= size || memchr(p, '@', len) == NULL) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= ' ' || c == '<' || c == '>' || c == ',' || c == 0x7F) {
            return false;
        }
    }
    memcpy(out, p, len);
    out[len] = '\0';
    return true;
}

/* Appends s with control characters as spaces: a header value can never end the header. */
static void put_line(struct cq_buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        cq_buf_putc(b, c < 0x20 || c == 0x7F ? ' ' : *s);
    }
}

/* "Name: a, b, c" folded before 78 columns where an address would pass them. */
static void put_addr_header(struct cq_buf *b, const char *name, char *const *v, size_t n)
{
    size_t col = strlen(name) + 2;
    cq_buf_printf(b, "%s: ", name);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(or_empty(v[i]));
        if (i > 0) {
            bool fold = col + 2 + len > 78;
            cq_buf_puts(b, fold ? ",\r\n " : ", ");
            col = fold ? 1 : col + 2;
        }
        put_line(b, or_empty(v[i]));
        col += len;
    }
    cq_buf_puts(b, "\r\n");
}

/* ---- subject ---------------------------------------------------------------------------- */

static void render_subject(const struct cq_channel_conf *cc, const struct cq_alert_msg *m,
                           struct cq_buf *out)
{
    struct cq_buf raw;
    const unsigned char *p;
    size_t len, i = 0, end = 0;

    cq_buf_init(&raw, SUBJECT_TMPL_MAX);
    /* The var callback only reads the message; the cast keeps its const-less signature. */
    cq_tmpl_render(cc->subject ? cc->subject : DEFAULT_SUBJECT, cq_alert_msg_var,
                   (void *)(uintptr_t)m, &raw);
    p = (const unsigned char *)cq_buf_str(&raw);
    len = raw.len;
    while (i < len) { /* control characters (a {{rows}} table) fold into one line */
        size_t n = cq_utf8_seq(p + i, len - i);
        if (end + (n ? n : 3) > SUBJECT_MAX) {
            break;
        }
        if (n == 0) {
            cq_buf_puts(out, "\xEF\xBF\xBD"); /* invalid UTF-8 */
            end += 3;
            n = 1;
        } else if (p[i] < 0x20 || p[i] == 0x7F) {
            if (end > 0 && out->len > 0 && out->p[out->len - 1] != ' ') {
                cq_buf_putc(out, ' ');
                end++;
            }
        } else {
            cq_buf_append(out, p + i, n);
            end += n;
        }
        i += n;
    }
    while (out->len > 0 && out->p[out->len - 1] == ' ') {
        out->p[--out->len] = '\0';
    }
    cq_buf_cleanup(&raw);
}

/* Subject header: as is when printable ASCII, else RFC 2047 B-encoded words of whole
 * characters, one per folded line. */
static void put_subject(struct cq_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), i = 0;
    bool ascii = true;

    for (size_t k = 0; k < len; k++) {
        ascii = ascii && p[k] >= 0x20 && p[k] < 0x7F;
    }
    if (ascii && strstr(s, "=?") == NULL) {
        cq_buf_printf(b, "Subject: %s\r\n", s);
        return;
    }
    cq_buf_puts(b, "Subject:");
    while (i < len) {
        unsigned char enc[4 * ((WORD_IN + 6) / 3) + 1];
        size_t n = 0;
        while (i + n < len) {
            size_t k = cq_utf8_seq(p + i + n, len - i - n);
            k = k ? k : 1;
            if (n + k > WORD_IN) {
                break;
            }
            n += k;
        }
        int elen = EVP_EncodeBlock(enc, p + i, (int)n);
        cq_buf_puts(b, i == 0 ? " =?UTF-8?B?" : "\r\n =?UTF-8?B?");
        cq_buf_append(b, enc, elen > 0 ? (size_t)elen : 0);
        cq_buf_puts(b, "?=");
        i += n;
    }
    cq_buf_puts(b, "\r\n");
}

/* ---- date and identifiers ---------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t mon, int64_t d)
{
    y -= mon <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "Date: Sat, 21 Nov 2026 09:30:00 +0000" from run_at (ISO-8601), else from the clock. */
static void put_date(struct cq_buf *b, const char *run_at)
{
    static const char *const wday[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, n = 0, oh = 0, om = 0;
    char sign = '+';

    if (run_at == NULL ||
        sscanf(run_at, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 ||
        mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        y = tm.tm_year + 1900, mo = tm.tm_mon + 1, d = tm.tm_mday;
        h = tm.tm_hour, mi = tm.tm_min, s = tm.tm_sec, n = 0;
        run_at = "Z";
    } else {
        run_at += n;
        while (*run_at == '.' || (*run_at >= '0' && *run_at <= '9')) {
            run_at++; /* fractional seconds */
        }
        if ((*run_at == '+' || *run_at == '-') &&
            sscanf(run_at + 1, "%2d:%2d", &oh, &om) == 2 && oh < 24 && om < 60) {
            sign = *run_at; /* the time is local to this offset: keep it */
        }
    }
    int64_t days = days_from_civil(y, mo, d);
    cq_buf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d %c%02d%02d\r\n",
                  wday[((days % 7) + 7) % 7], d, mon[mo - 1], y, h, mi, s, sign, oh, om);
}

/* SHA-256 of the channel name and the message as lowercase hex (64 + NUL). */
static void msg_digest(const struct cq_channel_conf *cc, const struct cq_alert_msg *m,
                       char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const char *parts[] = {or_empty(cc->name), "\n", or_empty(m->alert_id), "\n",
                           or_empty(m->state), "\n", or_empty(m->run_at), "\n",
                           or_empty(m->json)};
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;

    for (size_t i = 0; ok && i < sizeof(parts) / sizeof(parts[0]); i++) {
        ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i])) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &md_len) == 1 && md_len == 32;
    for (unsigned int i = 0; i < 32; i++) {
        hex[2 * i] = ok ? digits[md[i] >> 4] : '0';
        hex[2 * i + 1] = ok ? digits[md[i] & 15] : '0';
    }
    hex[64] = '\0';
    EVP_MD_CTX_free(ctx);
}

/* The domain of the From address (letters, digits, '.', '-'), else "clariq.invalid". */
static void from_domain(const char *from, char *out, size_t size)
{
    char addr[ADDR_MAX];
    const char *at;
    size_t n = 0;

    if (addr_spec(from, addr, sizeof(addr)) && (at = strrchr(addr, '@')) != NULL) {
        for (at++; *at != '\0' && n + 1 < size; at++) {
            char c = *at;
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-')) {
                n = 0;
                break;
            }
            out[n++] = c;
        }
    }
    out[n] = '\0';
    if (n == 0) {
        snprintf(out, size, "clariq.invalid");
    }
}

/* ---- bodies ----------------------------------------------------------------------------- */

/* Quoted-printable (RFC 2045) of s with "\n" (or "\r\n") line breaks as CRLF; lines stay
 * within 76 bytes with soft breaks. */
static void put_qp(struct cq_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' && i + 1 < len && s[i + 1] == '\n') {
            continue;
        }
        if (c == '\n') {
            cq_buf_append(b, "\r\n", 2);
            col = 0;
            continue;
        }
        bool eol = i + 1 == len || s[i + 1] == '\n' ||
                   (s[i + 1] == '\r' && i + 2 < len && s[i + 2] == '\n');
        bool plain = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !eol);
        char enc[3] = {'=', hex[c >> 4], hex[c & 15]};
        size_t n = plain ? 1 : 3;
        if (col + n > 75) {
            cq_buf_append(b, "=\r\n", 3);
            col = 0;
        }
        cq_buf_append(b, plain ? (const char *)&s[i] : enc, n);
        col += n;
    }
}

/* Plain text: the message text (or a summary line), then the rows as a text table. */
static void text_part(const struct cq_channel_conf *cc, const struct cq_alert_msg *m,
                      struct cq_buf *t)
{
    if (m->text != NULL && m->text[0] != '\0') {
        cq_buf_puts(t, m->text);
    } else {
        cq_buf_printf(t, "%s: %s", display_name(m), or_empty(m->state));
        if (m->reason != NULL && m->reason[0] != '\0') {
            cq_buf_printf(t, " (%s)", m->reason);
        }
        if (m->error != NULL) {
            cq_buf_printf(t, "\nError: %s", m->error);
        }
    }
    if (t->len > 0 && t->p[t->len - 1] != '\n') {
        cq_buf_putc(t, '\n');
    }
    if (m->n_cols > 0 && cc->max_rows > 0) {
        cq_buf_putc(t, '\n');
        cq_alert_msg_table(m, cc->max_rows, t);
    }
}

/* s escaped for HTML text and attributes, at most max characters ("…" when cut; 0 =
 * no limit), newlines as <br> when br is set. Invalid UTF-8 becomes U+FFFD. */
static void put_html(struct cq_buf *b, const char *s, size_t max, bool br)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t len = strlen((const char *)p), chars = 0;

    for (size_t i = 0; i < len;) {
        size_t n = cq_utf8_seq(p + i, len - i);
        if (max > 0 && ++chars > max) {
            cq_buf_puts(b, "\xE2\x80\xA6");
            return;
        }
        switch (n == 0 ? 0 : p[i]) {
        case 0: cq_buf_puts(b, "\xEF\xBF\xBD"); n = 1; break;
        case '&': cq_buf_puts(b, "&amp;"); break;
        case '<': cq_buf_puts(b, "&lt;"); break;
        case '>': cq_buf_puts(b, "&gt;"); break;
        case '"': cq_buf_puts(b, "&quot;"); break;
        case '\'': cq_buf_puts(b, "&#39;"); break;
        case '\n': cq_buf_puts(b, br ? "<br>\n" : " "); break;
        default:
            if (p[i] < 0x20 || p[i] == 0x7F) {
                cq_buf_putc(b, ' ');
            } else {
                cq_buf_append(b, p + i, n);
            }
        }
        i += n;
    }
}

static void html_table(const struct cq_channel_conf *cc, const struct cq_alert_msg *m,
                       struct cq_buf *t)
{
    size_t shown = cc->max_rows > 0 ? (size_t)cc->max_rows : 0;
    size_t total = m->row_count > 0 ? (size_t)m->row_count : 0;

    shown = shown < m->n_rows ? shown : m->n_rows;
    total = total > m->n_rows ? total : m->n_rows;
    cq_buf_puts(t, "<table cellpadding=\"4\" cellspacing=\"0\" border=\"1\" "
                   "style=\"border-collapse:collapse;font-family:monospace\">\n<tr>");
    for (size_t c = 0; c < m->n_cols; c++) {
        cq_buf_puts(t, "<th>");
        put_html(t, m->cols[c], HTML_CELL_MAX, false);
        cq_buf_puts(t, "</th>");
    }
    cq_buf_puts(t, "</tr>\n");
    for (size_t r = 0; r < shown; r++) {
        cq_buf_puts(t, "<tr>");
        for (size_t c = 0; c < m->n_cols; c++) {
            const char *v = m->cells[r * m->n_cols + c];
            if (v == NULL) {
                cq_buf_puts(t, "<td style=\"color:#888\"><i>NULL</i></td>");
                continue;
            }
            cq_buf_puts(t, "<td>");
            put_html(t, v, HTML_CELL_MAX, false);
            cq_buf_puts(t, "</td>");
        }
        cq_buf_puts(t, "</tr>\n");
    }
    cq_buf_puts(t, "</table>\n");
    if (total > shown) {
        cq_buf_printf(t, "<p>&hellip; %zu more row%s</p>\n", total - shown,
                      total - shown == 1 ? "" : "s");
    }
}

static void html_part(const struct cq_channel_conf *cc, const struct cq_alert_msg *m,
                      struct cq_buf *t)
{
    cq_buf_puts(t, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\n"
                   "<body style=\"font-family:sans-serif\">\n<h2>");
    put_html(t, display_name(m), 0, false);
    cq_buf_puts(t, ": ");
    put_html(t, m->state, 0, false);
    cq_buf_puts(t, "</h2>\n<p>");
    if (m->text != NULL && m->text[0] != '\0') {
        put_html(t, m->text, 0, true);
    } else {
        put_html(t, m->reason, 0, true);
    }
    cq_buf_puts(t, "</p>\n");
    if (m->error != NULL) {
        cq_buf_puts(t, "<p><b>Error:</b> ");
        put_html(t, m->error, 0, true);
        cq_buf_puts(t, "</p>\n");
    }
    if (m->n_cols > 0 && cc->max_rows > 0) {
        html_table(cc, m, t);
    }
    cq_buf_puts(t, "<p style=\"color:#888;font-size:12px\">clariq &middot; alert <code>");
    put_html(t, m->alert_id, 0, false);
    cq_buf_puts(t, "</code> &middot; ");
    put_html(t, m->run_at, 0, false);
    cq_buf_puts(t, "</p>\n</body></html>\n");
}

static void put_part(struct cq_buf *out, const char *boundary, const char *type,
                     const struct cq_buf *t)
{
    cq_buf_printf(out,
                  "--%s\r\nContent-Type: %s; charset=UTF-8\r\n"
                  "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                  boundary, type);
    put_qp(out, cq_buf_str(t), t->len);
    if (t->len == 0 || t->p[t->len - 1] != '\n') {
        cq_buf_puts(out, "\r\n");
    }
}

static void email_format(const struct cq_channel_conf *cc, const struct cq_alert_msg *m,
                         struct cq_buf *out)
{
    char digest[65], domain[256], boundary[48];
    struct cq_buf t;

    cq_buf_init(&t, MAIL_MAX);
    msg_digest(cc, m, digest);
    from_domain(cc->from, domain, sizeof(domain));
    snprintf(boundary, sizeof(boundary), "=_clariq_%.24s", digest + 32);

    put_date(out, m->run_at);
    cq_buf_puts(out, "From: ");
    put_line(out, or_empty(cc->from));
    cq_buf_puts(out, "\r\n");
    if (cc->n_to > 0) {
        put_addr_header(out, "To", cc->to, cc->n_to);
    }
    if (cc->n_cc > 0) {
        put_addr_header(out, "Cc", cc->cc, cc->n_cc);
    }
    render_subject(cc, m, &t);
    put_subject(out, cq_buf_str(&t));
    cq_buf_printf(out, "Message-ID: <%.32s@%s>\r\n", digest, domain);
    cq_buf_puts(out, "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n"
                     "X-Clariq-Alert: ");
    put_line(out, or_empty(m->alert_id));
    cq_buf_printf(out, "\r\nContent-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n",
                  boundary);

    cq_buf_reset(&t);
    text_part(cc, m, &t);
    put_part(out, boundary, "text/plain", &t);
    cq_buf_reset(&t);
    html_part(cc, m, &t);
    put_part(out, boundary, "text/html", &t);
    cq_buf_printf(out, "--%s--\r\n", boundary);
    if (cq_buf_rc(&t) != CQ_OK && out->rc == CQ_OK) {
        out->rc = cq_buf_rc(&t); /* the buffer's sticky error is the only error channel */
    }
    cq_buf_cleanup(&t);
}

/* ---- send ------------------------------------------------------------------------------- */

struct upload {
    const char *p;
    size_t left; /* bytes */
};

static size_t on_read(char *dst, size_t size, size_t nmemb, void *ctx)
{
    struct upload *u = ctx;
    size_t n = size * nmemb < u->left ? size * nmemb : u->left;
    memcpy(dst, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

/* Envelope recipients "<addr>" for every To and Cc; FAIL naming a bad one. */
static int recipients(const struct cq_channel_conf *cc, struct curl_slist **list,
                      struct cq_err *err)
{
    char addr[ADDR_MAX], line[ADDR_MAX + 2];
    for (size_t i = 0; i < cc->n_to + cc->n_cc; i++) {
        const char *a = i < cc->n_to ? cc->to[i] : cc->cc[i - cc->n_to];
        if (!addr_spec(a, addr, sizeof(addr))) {
            return cq_alert_chan_fail(cc, CQ_CHAN_FAIL, CQ_EINVAL, err,
                                      "invalid %s address \"%.100s\"",
                                      i < cc->n_to ? "to" : "cc", or_empty(a));
        }
        snprintf(line, sizeof(line), "<%s>", addr);
        struct curl_slist *l = curl_slist_append(*list, line);
        if (l == NULL) {
            return cq_alert_chan_fail(cc, CQ_CHAN_RETRY, CQ_ENOMEM, err, "out of memory");
        }
        *list = l;
    }
    if (*list == NULL) {
        return cq_alert_chan_fail(cc, CQ_CHAN_FAIL, CQ_EINVAL, err, "no recipients");
    }
    return CQ_CHAN_OK;
}

/* After a failed transfer: the SMTP reply code decides (4xx RETRY, 5xx FAIL) unless the
 * failure is a transport one. */
static int smtp_fail(const struct cq_channel_conf *cc, CURL *h, CURLcode code,
                     const char *errbuf, const char *origin, struct cq_err *err)
{
    const char *secrets[3] = {cc->password, cc->username, NULL};
    long reply = 0;
    char num[8];

    if (code == CURLE_USE_SSL_FAILED) {
        return cq_alert_chan_fail(cc, CQ_CHAN_FAIL, CQ_EPROTO, err,
                                  "%s does not offer STARTTLS (tls: starttls); use tls: tls "
                                  "for implicit TLS or tls: none",
                                  origin);
    }
    if (code == CURLE_LOGIN_DENIED || code == CURLE_OPERATION_TIMEDOUT ||
        code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST) {
        return cq_alert_chan_curl_fail(cc, code, errbuf, origin, secrets, err);
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
    if (reply < 400 || reply > 599) {
        return cq_alert_chan_curl_fail(cc, code, errbuf, origin, secrets, err);
    }
    snprintf(num, sizeof(num), "%ld", reply);
    if (errbuf[0] == '\0' ||
        (cc->password != NULL && cc->password[0] != '\0' && strstr(errbuf, cc->password))) {
        errbuf = curl_easy_strerror(code);
    }
    cq_alert_chan_fail(cc, reply < 500 ? CQ_CHAN_RETRY : CQ_CHAN_FAIL,
                       reply == 535 ? CQ_EAUTH : CQ_EBACKEND, err, "SMTP %ld from %s: %s",
                       reply, origin, errbuf);
    cq_err_code(err, num);
    return reply < 500 ? CQ_CHAN_RETRY : CQ_CHAN_FAIL;
}

static int email_send(const struct cq_channel_conf *cc, const struct cq_alert_msg *m,
                      struct cq_err *err)
{
    static const int default_port[] = {[CQ_TLS_STARTTLS] = 587, [CQ_TLS_TLS] = 465,
                                       [CQ_TLS_NONE] = 25};
    char url[CQ_CHAN_ORIGIN_MAX], from[ADDR_MAX + 2], addr[ADDR_MAX], errbuf[CURL_ERROR_SIZE];
    struct curl_slist *rcpt = NULL;
    struct cq_buf mail;
    struct upload up;
    CURL *h = NULL;
    CURLcode code;
    int port = cc->port > 0 ? cc->port : default_port[cc->tls <= CQ_TLS_NONE ? cc->tls : 0];
    int rc;

    cq_buf_init(&mail, MAIL_MAX);
    errbuf[0] = '\0';
    if (cc->host == NULL || cc->host[0] == '\0' || strpbrk(cc->host, "/@?# \r\n") != NULL) {
        rc = cq_alert_chan_fail(cc, CQ_CHAN_FAIL, CQ_EINVAL, err, "invalid or missing host");
        goto out;
    }
    snprintf(url, sizeof(url), "%s://%s%s%s:%d", cc->tls == CQ_TLS_TLS ? "smtps" : "smtp",
             strchr(cc->host, ':') ? "[" : "", cc->host, strchr(cc->host, ':') ? "]" : "",
             port);
    if (!addr_spec(cc->from, addr, sizeof(addr))) {
        rc = cq_alert_chan_fail(cc, CQ_CHAN_FAIL, CQ_EINVAL, err, "invalid from address");
        goto out;
    }
    snprintf(from, sizeof(from), "<%s>", addr);
    rc = recipients(cc, &rcpt, err);
    if (rc != CQ_CHAN_OK) {
        goto out;
    }
    email_format(cc, m, &mail);
    h = curl_easy_init();
    if (cq_buf_rc(&mail) != CQ_OK || h == NULL) {
        bool big = cq_buf_rc(&mail) == CQ_ETOOBIG;
        rc = cq_alert_chan_fail(cc, big ? CQ_CHAN_FAIL : CQ_CHAN_RETRY,
                                big ? CQ_ETOOBIG : CQ_ENOMEM, err, "building the message: %s",
                                big ? "over 32 MiB" : "out of memory");
        goto out;
    }
    up = (struct upload){cq_buf_str(&mail), mail.len};
    cq_alert_chan_curl_base(h, cc, url, true);
    curl_easy_setopt(h, CURLOPT_USE_SSL,
                     cc->tls == CQ_TLS_NONE ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
    if (cc->username != NULL) {
        curl_easy_setopt(h, CURLOPT_USERNAME, cc->username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, or_empty(cc->password));
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)mail.len);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    code = curl_easy_perform(h);
    rc = code == CURLE_OK ? CQ_CHAN_OK : smtp_fail(cc, h, code, errbuf, url, err);
out:
    curl_easy_cleanup(h);
    curl_slist_free_all(rcpt);
    cq_buf_cleanup(&mail);
    return rc;
}

static const struct cq_channel_ops email_ops = {
    .format = email_format,
    .send = email_send,
};

const struct cq_channel_type cq_alert_channel_email = {
    .name = "email",
    .kind = CQ_CHANNEL_EMAIL,
    .ops = &email_ops,
};
