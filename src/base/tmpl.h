/*
 * tmpl.h - message templates: text with {{name}} variables (spaces inside the braces are
 * allowed: "{{ alert.name }}"). "{{{{" is not special; there are no loops or filters.
 * A template is checked once when the config loads (unknown variables are config errors)
 * and rendered per notification through a callback.
 */
#ifndef CQ_BASE_TMPL_H
#define CQ_BASE_TMPL_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

/*
 * Checks every variable of text against names (NULL-terminated). Returns CQ_OK, or
 * CQ_EINVAL with a message ("unknown variable {{alret.name}} (did you mean
 * {{alert.name}}?)" or "unclosed '{{'") and *bad_off set to the byte offset of the
 * offending "{{" (bad_off may be NULL).
 */
int cq_tmpl_check(const char *text, const char *const *names, size_t *bad_off,
                  struct cq_err *err);

/* Appends the value of variable name[0..len) to out. */
typedef void (*cq_tmpl_var_fn)(void *ctx, const char *name, size_t len, struct cq_buf *out);

/* Appends text to out with each {{name}} replaced through fn (text must have passed
 * cq_tmpl_check; an unclosed "{{" is copied as is). Errors stick in out (cq_buf_rc). */
void cq_tmpl_render(const char *text, cq_tmpl_var_fn fn, void *ctx, struct cq_buf *out);

#endif
