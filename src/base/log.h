/*
 * log.h - leveled logging to stderr with a context prefix.
 *
 * CQ_LOG tests the level before evaluating its arguments (Redis). Each component passes
 * a context string such as "drv:pg:analytics". Plain lines by default, JSON lines after
 * cq_log_set_json(true). Never pass secrets: redact DSNs with cq_dsn_redact() first.
 * The level and format are process-wide settings chosen at startup (main.c), read-only after.
 */
#ifndef CQ_BASE_LOG_H
#define CQ_BASE_LOG_H

#include <stdbool.h>

#include "base/err.h"

enum cq_log_level {
    CQ_LOG_TRACE = 0,
    CQ_LOG_DEBUG,
    CQ_LOG_INFO,
    CQ_LOG_WARN,
    CQ_LOG_ERROR,
    CQ_LOG_OFF,
};

extern enum cq_log_level cq_log_level;

#define CQ_LOG(level, ctx, ...)                                                                    \
    do {                                                                                           \
        if ((level) >= cq_log_level) {                                                             \
            cq_log_emit((level), (ctx), __VA_ARGS__);                                              \
        }                                                                                          \
    } while (0)

void cq_log_emit(enum cq_log_level level, const char *ctx, const char *fmt, ...) CQ_PRINTF(3, 4);
void cq_log_set_json(bool json);
/* Parses "trace|debug|info|warn|error|off"; CQ_EINVAL otherwise. */
int cq_log_parse_level(const char *s, enum cq_log_level *out);

#endif
