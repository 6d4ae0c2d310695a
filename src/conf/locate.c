/* locate.c - where the configuration comes from, and how limits combine. */
#include <stdlib.h>
#include <unistd.h>

#include "base/str.h"
#include "conf/conf.h"

int cq_conf_locate(const char *cli_path, char *out, size_t size)
{
    const char *env = getenv("CLARIQ_CONFIG");
    if (cli_path != NULL && *cli_path != '\0') {
        cq_strlcpy(out, cli_path, size);
    } else if (env != NULL && *env != '\0') {
        cq_strlcpy(out, env, size);
    } else if (access("clariq.yaml", F_OK) == 0) {
        cq_strlcpy(out, "clariq.yaml", size);
    } else {
        cq_strlcpy(out, "", size);
        return CQ_ENOTFOUND;
    }
    return CQ_OK;
}

void cq_conf_demo_path(char *out, size_t size)
{
    const char *p = getenv("CLARIQ_DEMO_DB");
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    struct cq_buf b;
    cq_buf_init(&b, 4096);
    if (p != NULL && *p != '\0') {
        cq_buf_puts(&b, p);
    } else if (xdg != NULL && *xdg == '/') {
        cq_buf_printf(&b, "%s/clariq/demo.db", xdg);
    } else if (home != NULL && *home == '/') {
        cq_buf_printf(&b, "%s/.local/share/clariq/demo.db", home);
    } else {
        cq_buf_puts(&b, "clariq-demo.db");
    }
    cq_strlcpy(out, cq_buf_rc(&b) == CQ_OK ? cq_buf_str(&b) : "clariq-demo.db", size);
    cq_buf_cleanup(&b);
}

/* Stricter of two limits where 0 means "no limit". */
static int64_t lower(int64_t base, int64_t req)
{
    if (req <= 0) {
        return base;
    }
    return (base <= 0 || req < base) ? req : base;
}

struct cq_limits cq_conf_limits_lower(struct cq_limits base, struct cq_limits req)
{
    struct cq_limits out = base;
    out.timeout_ms = lower(base.timeout_ms, req.timeout_ms);
    out.max_rows = lower(base.max_rows, req.max_rows);
    out.max_bytes = lower(base.max_bytes, req.max_bytes);
    out.max_concurrent = (int)lower(base.max_concurrent, req.max_concurrent);
    out.queue_timeout_ms = lower(base.queue_timeout_ms, req.queue_timeout_ms);
    return out;
}
