/* err.c - the program's error object (see err.h). */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"

static void trim_newlines(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) {
        s[--n] = '\0';
    }
}

int cq_err_set(struct cq_err *e, enum cq_rc rc, const char *fmt, ...)
{
    if (e == NULL) {
        return rc;
    }
    if (e->rc == CQ_OK || e->msg[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
        trim_newlines(e->msg);
    }
    if (e->rc == CQ_OK) {
        e->rc = rc;
    }
    return e->rc;
}

void cq_err_wrap(struct cq_err *e, const char *fmt, ...)
{
    if (e == NULL) {
        return;
    }
    char prefix[sizeof(e->msg)];
    char old[sizeof(e->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    cq_strlcpy(old, e->msg, sizeof(old));
    /* Built with cq_buf so an over-long message is cut cleanly instead of warning. */
    struct cq_buf b;
    cq_buf_init(&b, sizeof(e->msg) * 3);
    cq_buf_printf(&b, "%s%s%s", prefix, old[0] ? ": " : "", old);
    cq_strlcpy(e->msg, cq_buf_rc(&b) == CQ_OK ? cq_buf_str(&b) : old, sizeof(e->msg));
    cq_buf_cleanup(&b);
}

void cq_err_code(struct cq_err *e, const char *code)
{
    if (e != NULL) {
        cq_strlcpy(e->backend_code, code ? code : "", sizeof(e->backend_code));
    }
}

void cq_err_clear(struct cq_err *e)
{
    if (e != NULL) {
        memset(e, 0, sizeof(*e));
    }
}

const char *cq_rc_name(enum cq_rc rc)
{
    switch (rc) {
    case CQ_OK: return "ok";
    case CQ_ENOMEM: return "out_of_memory";
    case CQ_EINVAL: return "invalid_input";
    case CQ_ENOTFOUND: return "not_found";
    case CQ_ETOOBIG: return "too_big";
    case CQ_ETIMEOUT: return "timeout";
    case CQ_EIO: return "io_error";
    case CQ_EAUTH: return "auth_failed";
    case CQ_EPROTO: return "protocol_error";
    case CQ_EBACKEND: return "sql_error";
    case CQ_ECANCELED: return "canceled";
    case CQ_EUNSUPPORTED: return "unsupported";
    case CQ_EINTERNAL: return "internal_error";
    case CQ_ECONNECT: return "connection_error";
    case CQ_EBUSY: return "pool_exhausted";
    case CQ_EREADONLY: return "read_only";
    case CQ_EAGAIN: return "try_again";
    }
    return "unknown";
}
