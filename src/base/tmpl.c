/*
 * tmpl.c - {{name}} templates: one scanner shared by the check at load time and the
 * render per notification, so both agree on what a variable is.
 *
 * A variable is "{{", optional spaces or tabs, the name, optional spaces or tabs, "}}".
 * The name is whatever lies between (trimmed); the check decides whether it is known.
 * There is no escape: "{{{{" is just text that happens to start a variable.
 */
#include <string.h>

#include "base/str.h"
#include "base/tmpl.h"

#define NAME_CUT 64 /* bytes of an unknown name quoted in a message */

/* One variable found at text[open]: the name is text[name, name + len), the whole
 * "{{...}}" ends at end (exclusive). */
struct var {
    size_t open, name, len, end;
};

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The next "{{" at or after from: 1 with *v filled, 0 when there is none, -1 when it is
 * not closed (v->open says where). */
static int next_var(const char *text, size_t from, struct var *v)
{
    const char *open = strstr(text + from, "{{");
    const char *close;
    if (open == NULL) {
        return 0;
    }
    v->open = (size_t)(open - text);
    close = strstr(open + 2, "}}");
    if (close == NULL) {
        return -1;
    }
    v->name = v->open + 2;
    v->end = (size_t)(close - text) + 2;
    size_t stop = v->end - 2;
    while (v->name < stop && blank(text[v->name])) {
        v->name++;
    }
    while (stop > v->name && blank(text[stop - 1])) {
        stop--;
    }
    v->len = stop - v->name;
    return 1;
}

static bool known(const char *name, size_t len, const char *const *names)
{
    for (; *names != NULL; names++) {
        if (strlen(*names) == len && memcmp(*names, name, len) == 0) {
            return true;
        }
    }
    return false;
}

static int unknown(const char *name, size_t len, const char *const *names, struct cq_err *err)
{
    char word[NAME_CUT + 1];
    const char *best = NULL;
    size_t n = len > NAME_CUT ? NAME_CUT : len;
    memcpy(word, name, n);
    word[n] = '\0';
    if (len <= NAME_CUT && memchr(name, '\0', len) == NULL) {
        best = cq_did_you_mean(word, names);
    }
    if (best != NULL) {
        return cq_err_set(err, CQ_EINVAL, "unknown variable {{%s}} (did you mean {{%s}}?)", word,
                          best);
    }
    return cq_err_set(err, CQ_EINVAL, "unknown variable {{%s%s}}", word, len > n ? "..." : "");
}

int cq_tmpl_check(const char *text, const char *const *names, size_t *bad_off, struct cq_err *err)
{
    struct var v;
    size_t at = 0;
    int found = next_var(text, at, &v);
    for (; found == 1; found = next_var(text, at, &v)) {
        if (!known(text + v.name, v.len, names)) {
            if (bad_off != NULL) {
                *bad_off = v.open;
            }
            return unknown(text + v.name, v.len, names, err);
        }
        at = v.end;
    }
    if (found < 0) {
        if (bad_off != NULL) {
            *bad_off = v.open;
        }
        return cq_err_set(err, CQ_EINVAL, "unclosed '{{'");
    }
    return CQ_OK;
}

void cq_tmpl_render(const char *text, cq_tmpl_var_fn fn, void *ctx, struct cq_buf *out)
{
    struct var v;
    size_t at = 0;
    while (next_var(text, at, &v) == 1) {
        cq_buf_append(out, text + at, v.open - at);
        fn(ctx, text + v.name, v.len, out);
        at = v.end;
    }
    cq_buf_puts(out, text + at);
}
