/*
 * env.c - ${VAR} expansion in configuration values.
 *
 * Shell-like on purpose, so what people write in docker-compose files works here:
 * ${NAME} is the variable (unset is an error, set-but-empty is ""), ${NAME:-default}
 * falls back when NAME is unset or empty, $$ is a literal '$'. Anything else after a '$'
 * stays literal, because passwords contain '$' more often than people write $NAME
 * expecting expansion. Defaults are literal text (no nesting) to keep the rules small.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "conf/internal.h"

static bool name_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Looks NAME up without requiring it to be NUL-terminated in the input. */
static const char *lookup(const char *name, size_t len, bool *nomem)
{
    char *z = cq_strndup(name, len);
    const char *v = NULL;
    if (z == NULL) {
        *nomem = true;
        return NULL;
    }
    v = getenv(z);
    cq_free(z);
    return v;
}

static enum cq_conf_env_status buf_status(const struct cq_buf *out)
{
    switch (cq_buf_rc(out)) {
    case CQ_OK:
        return CQ_CONF_ENV_OK;
    case CQ_ETOOBIG:
        return CQ_CONF_ENV_TOOBIG;
    default:
        return CQ_CONF_ENV_NOMEM;
    }
}

/* Expands one reference starting at s[i] == '$', s[i+1] == '{'; *next gets the index after
 * the closing brace. */
static enum cq_conf_env_status expand_ref(const char *s, size_t len, size_t i, size_t *next,
                                          struct cq_buf *out, struct cq_conf_env_problem *p)
{
    size_t n = i + 2, name_end, def = 0, def_end = 0;
    bool has_def = false, nomem = false;
    p->off = i;
    p->name = NULL;
    p->name_len = 0;
    if (n >= len || !name_start(s[n])) {
        return CQ_CONF_ENV_SYNTAX;
    }
    while (n < len && name_char(s[n])) {
        n++;
    }
    name_end = n;
    p->name = s + i + 2;
    p->name_len = name_end - (i + 2);
    if (n + 1 < len && s[n] == ':' && s[n + 1] == '-') {
        has_def = true;
        def = n + 2;
        for (n = def; n < len && s[n] != '}'; n++) {
        }
        def_end = n;
    }
    if (n >= len || s[n] != '}') {
        return CQ_CONF_ENV_SYNTAX;
    }
    *next = n + 1;
    const char *v = lookup(p->name, p->name_len, &nomem);
    if (nomem) {
        return CQ_CONF_ENV_NOMEM;
    }
    if (has_def && (v == NULL || *v == '\0')) {
        cq_buf_append(out, s + def, def_end - def);
    } else if (v == NULL) {
        return CQ_CONF_ENV_UNSET;
    } else {
        cq_buf_puts(out, v);
    }
    return buf_status(out);
}

enum cq_conf_env_status cq_conf_env_expand(const char *s, size_t len, struct cq_buf *out,
                                           struct cq_conf_env_problem *p)
{
    size_t i = 0;
    memset(p, 0, sizeof(*p));
    while (i < len) {
        const char *dollar = memchr(s + i, '$', len - i);
        size_t at = dollar != NULL ? (size_t)(dollar - s) : len;
        cq_buf_append(out, s + i, at - i);
        if (at >= len) {
            break;
        }
        if (at + 1 < len && s[at + 1] == '$') {
            cq_buf_putc(out, '$');
            i = at + 2;
        } else if (at + 1 < len && s[at + 1] == '{') {
            enum cq_conf_env_status st = expand_ref(s, len, at, &i, out, p);
            if (st != CQ_CONF_ENV_OK) {
                return st;
            }
        } else {
            cq_buf_putc(out, '$');
            i = at + 1;
        }
    }
    return buf_status(out);
}
