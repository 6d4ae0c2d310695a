/* dsn.c - password redaction for connection targets (URLs and key=value DSNs). */
#include <ctype.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "drv/drv.h"

/* Copies a URL, masking the password in userinfo and any password=... query parameter. */
static void redact_url(const char *s, struct cq_buf *b)
{
    const char *scheme_end = strstr(s, "://");
    const char *auth = scheme_end + 3;
    const char *auth_end = auth + strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < auth_end; p++) {
        if (*p == '@') {
            at = p; /* the last '@' ends userinfo */
        }
    }
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon != NULL) {
        cq_buf_append(b, s, (size_t)(colon + 1 - s));
        cq_buf_puts(b, "***");
        s = at;
    }
    /* query parameters: password=... up to & */
    while (*s != '\0') {
        if ((*s == '?' || *s == '&') &&
            (strncmp(s + 1, "password=", 9) == 0 || strncmp(s + 1, "sslpassword=", 12) == 0)) {
            const char *eq = strchr(s, '=');
            cq_buf_append(b, s, (size_t)(eq + 1 - s));
            cq_buf_puts(b, "***");
            s = eq + 1 + strcspn(eq + 1, "&#");
            continue;
        }
        cq_buf_putc(b, *s++);
    }
}

/* Copies a key=value DSN, masking password values (quoted or not). */
static void redact_kv(const char *s, struct cq_buf *b)
{
    while (*s != '\0') {
        while (isspace((unsigned char)*s)) {
            cq_buf_putc(b, *s++);
        }
        const char *key = s;
        size_t klen = strcspn(s, "= \t");
        s += klen;
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        if (*s != '=') {
            /* not key=value: an invalid DSN; the word could be a stray password */
            cq_buf_puts(b, klen ? "***" : "");
            s = klen ? key + klen : s + (*s != '\0'); /* keep the spaces after the word */
            continue;
        }
        cq_buf_append(b, key, klen);
        cq_buf_putc(b, *s++);
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        bool secret = (klen == 8 && strncmp(key, "password", 8) == 0) ||
                      (klen == 11 && strncmp(key, "sslpassword", 11) == 0);
        const char *val = s;
        if (*s == '\'') {
            s++;
            while (*s != '\0' && *s != '\'') {
                s += (*s == '\\' && s[1] != '\0') ? 2 : 1;
            }
            if (*s == '\'') {
                s++;
            }
        } else {
            while (*s != '\0' && !isspace((unsigned char)*s)) {
                s += (*s == '\\' && s[1] != '\0') ? 2 : 1;
            }
        }
        if (secret) {
            cq_buf_puts(b, "***");
        } else {
            cq_buf_append(b, val, (size_t)(s - val));
        }
    }
}

void cq_drv_dsn_redact(const char *target, char *out, size_t size)
{
    struct cq_buf b;
    if (size == 0) {
        return;
    }
    cq_buf_init(&b, 4096);
    if (target == NULL) {
        cq_buf_puts(&b, "");
    } else if (strstr(target, "://") != NULL) {
        redact_url(target, &b);
    } else if (strchr(target, '=') != NULL) {
        redact_kv(target, &b);
    } else {
        cq_buf_puts(&b, target);
    }
    cq_strlcpy(out, cq_buf_rc(&b) == CQ_OK ? cq_buf_str(&b) : "(unprintable target)", size);
    cq_buf_cleanup(&b);
}

void cq_drv_dsn_init(struct cq_dsn *dsn, const struct cq_conn_conf *cc)
{
    dsn->name = cc->name;
    dsn->target = cc->url != NULL ? cc->url : (cc->path != NULL ? cc->path : "");
    dsn->read_only = cc->read_only;
    dsn->connect_timeout_ms = 10000;
}
