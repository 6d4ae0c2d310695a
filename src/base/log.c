/* log.c - leveled logging (see log.h). */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/str.h"

enum cq_log_level cq_log_level = CQ_LOG_WARN;
static bool log_json;

static const char *const level_names[] = {"trace", "debug", "info", "warn", "error", "off"};

void cq_log_set_json(bool json)
{
    log_json = json;
}

int cq_log_parse_level(const char *s, enum cq_log_level *out)
{
    for (int i = 0; i <= CQ_LOG_OFF; i++) {
        if (cq_streq_ci(s, level_names[i])) {
            *out = (enum cq_log_level)i;
            return CQ_OK;
        }
    }
    return CQ_EINVAL;
}

void cq_log_emit(enum cq_log_level level, const char *ctx, const char *fmt, ...)
{
    char msg[1024];
    char ts[32];
    struct timespec now;
    struct tm tm;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);

    struct cq_buf b;
    cq_buf_init(&b, 4096);
    if (log_json) {
        cq_buf_printf(&b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"ctx\":", ts,
                      now.tv_nsec / 1000000, level_names[level]);
        cq_json_put_str(&b, ctx, strlen(ctx));
        cq_buf_puts(&b, ",\"msg\":");
        cq_json_put_str(&b, msg, strlen(msg));
        cq_buf_puts(&b, "}\n");
    } else {
        cq_buf_printf(&b, "%s.%03ldZ %-5s [%s] %s\n", ts, now.tv_nsec / 1000000, level_names[level],
                      ctx, msg);
    }
    if (cq_buf_rc(&b) == CQ_OK) {
        fputs(cq_buf_str(&b), stderr);
    }
    cq_buf_cleanup(&b);
}
