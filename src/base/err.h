/*
 * err.h - one error enum for the whole program and one caller-supplied error object.
 *
 * Functions that can fail return int holding an enum cq_rc (0 = CQ_OK) and take
 * `struct cq_err *err` (may be NULL) as their last parameter. The first message set
 * wins; layers above add context with cq_err_wrap(). Messages answer who/where/what/why
 * and never contain secrets (pass DSNs through cq_dsn_redact first).
 */
#ifndef CQ_BASE_ERR_H
#define CQ_BASE_ERR_H

#include <stdbool.h>

#if defined(__GNUC__) || defined(__clang__)
#define CQ_PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))
#else
#define CQ_PRINTF(fmt_idx, arg_idx)
#endif

enum cq_rc {
    CQ_OK = 0,
    CQ_ENOMEM,       /* allocation failed */
    CQ_EINVAL,       /* bad input: usage, config, parameters */
    CQ_ENOTFOUND,    /* unknown name: connection, file, driver */
    CQ_ETOOBIG,      /* a capped buffer would overflow */
    CQ_ETIMEOUT,     /* a statement or operation passed its deadline */
    CQ_EIO,          /* local I/O failed */
    CQ_EAUTH,        /* authentication refused */
    CQ_EPROTO,       /* a peer broke its protocol */
    CQ_EBACKEND,     /* the database reported an error for the statement (SQL error) */
    CQ_ECANCELED,    /* canceled by the caller */
    CQ_EUNSUPPORTED, /* the driver or build lacks the feature */
    CQ_EINTERNAL,    /* a bug */
    CQ_ECONNECT,     /* could not reach or lost the database connection */
    CQ_EBUSY,        /* pool exhausted: no connection within the queue timeout */
    CQ_EREADONLY,    /* a write was attempted on a read-only connection */
    CQ_EAGAIN,       /* not finished yet: call again when ready (cq_drv_exec_step) */
};

struct cq_err {
    enum cq_rc rc;
    bool retryable;        /* set by the layer that knows (driver): safe to retry as is */
    char backend_code[8];  /* SQLSTATE, backend error code or HTTP status; "" if none */
    char msg[512];         /* first error wins; no trailing newline */
};

/* Sets rc and, if no message is set yet, the message. Returns rc. e may be NULL. */
int cq_err_set(struct cq_err *e, enum cq_rc rc, const char *fmt, ...) CQ_PRINTF(3, 4);
/* Prepends "context: " to the message (going up the stack). e may be NULL. */
void cq_err_wrap(struct cq_err *e, const char *fmt, ...) CQ_PRINTF(2, 3);
/* Copies a backend code (SQLSTATE etc.); NULL or "" clears it. */
void cq_err_code(struct cq_err *e, const char *code);
void cq_err_clear(struct cq_err *e);
/* Stable lowercase name of an rc ("timeout", "sql_error", ...), used in JSON errors. */
const char *cq_rc_name(enum cq_rc rc);

#endif
