/*
 * fz_conf.c - arbitrary bytes as clariq.yaml. The input is copied into a block of exactly
 * its size so ASan flags any read past len. A load must either succeed with a conf that
 * keeps the loader's promises, or fail with diagnostics (or a resource error); formatting
 * the diagnostics must work, and everything must be freed (leaks fail under ASan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_conf(const struct cq_conf *conf)
{
    for (size_t i = 0; i < conf->n_conns; i++) {
        const struct cq_conn_conf *cc = &conf->conns[i];
        if (cc->name == NULL || cc->driver == NULL || cc->file == NULL || cc->line < 1 ||
            (cc->url == NULL) == (cc->path == NULL) || cq_conf_conn(conf, cc->name) != cc ||
            cc->pool.min < 0 || cc->pool.min > cc->pool.max || cc->pool.max > 1000 ||
            cc->pool.idle_timeout_ms < 0 || cc->limits.timeout_ms < 0 || cc->limits.max_rows < 0 ||
            cc->limits.max_bytes < 0 || cc->limits.max_concurrent < 0 ||
            cc->limits.queue_timeout_ms < 0) {
            abort();
        }
    }
}

static void check_diags(const struct cq_conf_diags *d)
{
    struct cq_buf out;
    if (d->n == 0 || d->n > 51) {
        abort();
    }
    for (size_t i = 0; i < d->n; i++) {
        if (d->v[i].msg == NULL || d->v[i].file == NULL || d->v[i].line < 0 ||
            strchr(d->v[i].msg, '\n') != NULL) {
            abort();
        }
    }
    cq_buf_init(&out, 1 << 20);
    cq_conf_diags_format(d, &out);
    if (cq_buf_rc(&out) == CQ_OK && out.len == 0) {
        abort();
    }
    cq_buf_cleanup(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cq_conf_diags diags = {NULL, 0, 0};
    struct cq_err err = {0};
    char *text = cq_malloc(size ? size : 1);
    if (text == NULL) {
        return 0;
    }
    if (size > 0) {
        memcpy(text, data, size);
    }
    struct cq_conf *conf = cq_conf_load_mem("fuzz.yaml", text, size, &diags, &err);
    if (conf != NULL) {
        if (diags.n != 0 || err.rc != CQ_OK) {
            abort();
        }
        check_conf(conf);
    } else if (err.rc == CQ_EINVAL) {
        check_diags(&diags);
    } else if (err.rc != CQ_ENOMEM || err.msg[0] == '\0') {
        abort();
    }
    cq_conf_free(conf);
    cq_conf_diags_cleanup(&diags);
    cq_free(text);
    return 0;
}
