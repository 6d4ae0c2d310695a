/*
 * json.h - JSON text output helpers shared by every writer (results, errors, logs).
 *
 * Parsing JSON is jansson's job; these only write. Strings are escaped per RFC 8259 and
 * invalid UTF-8 is replaced by U+FFFD so the output is always valid JSON.
 */
#ifndef CQ_BASE_JSON_H
#define CQ_BASE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"

/* Appends s[0..len) as a quoted, escaped JSON string. */
void cq_json_put_str(struct cq_buf *b, const char *s, size_t len);
/* Length of the valid UTF-8 sequence at s (1..4 bytes, len >= 1), or 0 if it is invalid
 * (bad lead or continuation byte, overlong form, surrogate, past U+10FFFF). */
size_t cq_utf8_seq(const unsigned char *s, size_t len);
/* True when s[0..len) is a JSON number literal (RFC 8259 grammar). */
bool cq_json_is_number(const char *s, size_t len);

#endif
