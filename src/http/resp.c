/*
 * resp.c - response bodies shared by the handlers, and the one table of the program that
 * maps an error code (enum cq_rc) to an HTTP status (STYLE §3.4).
 */
#include <string.h>

#include "base/json.h"
#include "http/internal.h"

int cq_http_status_for_rc(int rc)
{
    switch (rc) {
    case CQ_OK: return 200;
    case CQ_EINVAL: return 400;
    case CQ_EAUTH: return 401;
    case CQ_ENOTFOUND: return 404;
    case CQ_ETOOBIG: return 413;
    case CQ_EUNSUPPORTED: return 501;
    case CQ_ETIMEOUT: return 504;
    case CQ_ECANCELED: return 499; /* the client went away; nobody reads it (nginx's code) */
    case CQ_ENOMEM:                /* a gateway sheds the request, it does not die */
    case CQ_ECONNECT:
    case CQ_EBUSY: return 503;
    case CQ_EBACKEND:
    case CQ_EREADONLY: return 422;
    case CQ_EPROTO:
    case CQ_EIO: return 502;
    default: return 500;
    }
}

void cq_http_resp_error(struct cq_http_resp *resp, int status, const char *code,
                        const char *msg)
{
    resp->status = status;
    resp->content_type = NULL;
    cq_buf_reset(&resp->body);
    cq_buf_puts(&resp->body, "{\"error\":");
    cq_json_put_str(&resp->body, code, strlen(code));
    cq_buf_puts(&resp->body, ",\"message\":");
    cq_json_put_str(&resp->body, msg, strlen(msg));
    cq_buf_putc(&resp->body, '}');
}

void cq_http_resp_dsl_error(struct cq_http_resp *resp, const struct cq_dsl_error *e)
{
    resp->status = cq_dsl_error_http_status(e);
    resp->content_type = NULL;
    cq_buf_reset(&resp->body);
    cq_dsl_error_write(e, &resp->body);
    if (cq_buf_rc(&resp->body) != CQ_OK) {
        cq_http_resp_error(resp, 500, "InternalError", "the error body is too large");
    }
}
