/*
 * msg.h - one notification as the channels see it, and its JSON form.
 *
 * The engine builds a message from an evaluation, stores its JSON in the delivery outbox
 * (so a retry after a restart sends the same thing) and rebuilds it from that JSON before
 * each attempt. Channels only read it; every pointer is borrowed from the message's arena.
 */
#ifndef CQ_ALERT_MSG_H
#define CQ_ALERT_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"

struct cq_alert_msg {
    const char *alert_id;
    const char *alert_name;
    const char *connection;   /* the alert's connection name; NULL = unknown */
    const char *state;        /* "triggered" | "resolved" | "error" | "digest" */
    const char *reason;       /* why, in words: "3 rows", "max(lag_s) 12.5 > 10" */
    const char *value;        /* the value the rule looked at, as text; NULL = none */
    const char *threshold;    /* the rule's value as written; NULL = none */
    const char *error;        /* the error in state "error"; NULL otherwise */
    const char *run_at;       /* ISO-8601 UTC, "2026-11-21T09:30:00Z" */
    const char *text;         /* the rendered message template */
    const char *duration_ms;  /* evaluation time as text, "12.3"; NULL = unknown */
    int64_t row_count;        /* rows the query returned */
    size_t n_cols;
    const char *const *cols;  /* column names */
    size_t n_rows;            /* rows kept for display (capped); <= row_count */
    const char *const *cells; /* n_rows * n_cols, row-major; NULL = SQL NULL */
    const char *json;         /* this message as JSON (the webhook body) */
};

/* Template variables ({{alert.name}}, {{state}}, {{rows}}...) of msg, for cq_tmpl_render;
 * ctx is a const struct cq_alert_msg *. {{rows}} renders at most max_rows rows as a
 * plain-text table (see cq_alert_msg_table). */
void cq_alert_msg_var(void *ctx, const char *name, size_t len, struct cq_buf *out);

/* Appends the first max_rows rows as an aligned plain-text table, cells cut at 40
 * characters, with "... N more rows" when rows were left out. */
void cq_alert_msg_table(const struct cq_alert_msg *m, int max_rows, struct cq_buf *out);

/* Rebuilds a message from its JSON (m->json included); strings live in arena. CQ_EINVAL
 * when the JSON is not a message. */
int cq_alert_msg_parse(const char *json, struct cq_arena *arena, struct cq_alert_msg *m,
                       struct cq_err *err);

/* Writes m->json from the other fields (into arena). */
int cq_alert_msg_encode(struct cq_alert_msg *m, struct cq_arena *arena, struct cq_err *err);

#endif
